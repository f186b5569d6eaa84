// lablog/sync: publish a local store to a lablog server from code (what `lablog sync` does).

export { publishFrom, publishStore, PUBLISH_RETRY, type PublishFromOptions, type PublishStoreOptions } from './publish-store.js';
export { Publisher, POINTS_PER_REQUEST, type PublishOptions, type ExperimentReport, type PublishProblem } from './publisher.js';
export { RemoteClient, type RemoteOptions, type RetryPolicy } from './remote-client.js';

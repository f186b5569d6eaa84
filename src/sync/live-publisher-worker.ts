// Live publisher thread: publishes its experiment every interval, backing off while the remote is down, until told to stop.

import { parentPort, workerData } from 'node:worker_threads';
import type { LablogError, LablogErrorCode } from '../model/errors.js';
import { openPublishSource } from '../store/open-publish-source.js';
import type { LiveWorkerData, LiveWorkerMessage } from './live-publisher.js';
import { Publisher } from './publisher.js';
import { backoffMs, isRetryable, RemoteClient } from './remote-client.js';

const data = workerData as LiveWorkerData;
const port = parentPort!;
const source = openPublishSource(data.storePath);
const publisher = new Publisher(source, new RemoteClient(data.remote));
let deadline: number | undefined;
let wake: (() => void) | undefined;
const reported = new Set<string>();

function post(message: LiveWorkerMessage): void {
  port.postMessage(message);
}

/** Reports a problem once per code and item, so a long outage is one warning, not thousands. */
function report(code: LablogErrorCode, message: string, item?: string): void {
  const key = `${code}\u0000${item ?? ''}`;
  if (reported.has(key)) return;
  reported.add(key);
  post({ type: 'problem', code, message, ...(item === undefined ? {} : { item }) });
}

port.on('message', (message: { type: string; deadline?: number }) => {
  if (message.type === 'stop') {
    deadline = message.deadline;
    wake?.();
  }
});

async function sleep(ms: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  wake = undefined;
}

async function round(): Promise<LablogError | undefined> {
  try {
    // While running, one attempt per round (the loop backs off); the final round retries until the deadline.
    const result = await publisher.publishExperiment(data.experimentId, {
      retry: deadline === undefined ? { maxAttempts: 1 } : { deadline },
    });
    for (const p of result.problems) report(p.code, p.message, p.item?.name);
    return undefined;
  } catch (error) {
    return error as LablogError;
  }
}

let failures = 0;
for (;;) {
  const final = deadline !== undefined;
  const error = await round();
  if (final) {
    if (error) report(error.code, `${error.message}; the rest is left for \`lablog sync\``);
    break;
  }
  // Told to stop during this round: the final round follows at once.
  if (deadline !== undefined) continue;
  if (error) {
    failures++;
    if (!isRetryable(error)) report(error.code, error.message);
    await sleep(backoffMs(failures, error));
  } else {
    failures = 0;
    await sleep(data.intervalMs);
  }
}
source.close();
post({ type: 'stopped' });

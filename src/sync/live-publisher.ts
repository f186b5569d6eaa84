// Live publisher: publishes one experiment from a worker thread while it logs, so training never waits on the network.

import { Worker } from 'node:worker_threads';
import { LablogWarning, type LablogErrorCode } from '../model/errors.js';
import type { LivePublication, RemoteSpec } from '../core/publishing.js';
import { workerEntry } from '../worker-entry.js';

/** How often the worker looks for new points to publish. */
export const PUBLISH_INTERVAL_MS = 1_000;

export interface LiveWorkerData {
  readonly storePath: string;
  readonly experimentId: string;
  readonly remote: RemoteSpec;
  readonly intervalMs: number;
}

/** What the worker posts: a problem (its code, and the item it is about), or that it stopped. */
export type LiveWorkerMessage = { type: 'problem'; code: LablogErrorCode; message: string; item?: string } | { type: 'stopped' };

export function startLivePublication(
  storePath: string,
  experimentId: string,
  remote: RemoteSpec,
  onProblem: (problem: LablogWarning) => void,
): LivePublication {
  const { entry, eval: isEval } = workerEntry(import.meta.url, 'live-publisher-worker');
  const workerData: LiveWorkerData = { storePath, experimentId, remote, intervalMs: PUBLISH_INTERVAL_MS };
  const worker = new Worker(entry, { workerData, eval: isEval });
  let stopped: (() => void) | undefined;
  worker.on('message', (message: LiveWorkerMessage) => {
    if (message.type === 'problem')
      onProblem(new LablogWarning(message.code, message.message, message.item === undefined ? {} : { item: message.item }));
    else stopped?.();
  });
  worker.on('error', (error) =>
    onProblem(new LablogWarning('REMOTE_ERROR', `the publisher thread failed: ${error.message}`, {}, { cause: error })),
  );
  // Never keeps the process alive: at exit, what is unpublished waits for `lablog sync`.
  worker.unref();
  return {
    async stop(timeoutMs: number): Promise<void> {
      const done = new Promise<void>((resolve) => {
        stopped = resolve;
        worker.once('exit', () => resolve());
      });
      worker.ref();
      worker.postMessage({ type: 'stop', deadline: Date.now() + timeoutMs });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}

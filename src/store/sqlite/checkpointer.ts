// Checkpointer: copies the SQLite WAL into the database from a worker thread, so no log call waits on it.

import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/** How often the worker checkpoints the WAL. */
export const CHECKPOINT_INTERVAL_MS = 1_000;

// The worker's code, run as CommonJS in its own thread with its own connection. PASSIVE never blocks
// writers or readers; with the writer's automatic checkpoints off, this is where the WAL's fsync happens.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 0 });
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); checkpoint(); db.close(); parentPort.close(); });
`;

export class Checkpointer {
  readonly #worker: Worker;

  constructor(file: string, intervalMs = CHECKPOINT_INTERVAL_MS) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
    // Never keep the process alive, and never let a failure in the worker reach the program.
    this.#worker.unref();
    this.#worker.on('error', () => {});
  }

  /** Asks the worker to checkpoint once more and stop; does not wait for it. */
  stop(): void {
    this.#worker.postMessage('stop');
  }
}

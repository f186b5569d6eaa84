// The writer thread's worker: applies batches to the store in order, retries refusals, checkpoints the WAL.

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteBackend } from './sqlite-backend.js';
import { REJECTED_BATCHES, REJECTED_RING, REJECTION_LENGTH, sharedViews, type WriteMessage, type WriterThreadData } from './writer-thread.js';

// SQLite result codes worth retrying: the store is busy, full, or its disk failed for now. Anything else
// (a constraint, a type mismatch) fails again on every retry and would block every batch behind it.
const RETRYABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|NOMEM|PROTOCOL|READONLY)/;

function retryable(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = String((error as { details?: { driverCode?: unknown } }).details?.driverCode ?? cause?.code ?? '');
  return RETRYABLE.test(code);
}

// The training thread comes first: on Linux a thread can lower its own priority by its thread id, so the
// writer runs at the lowest priority and only takes CPU time the program leaves.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid !== process.pid) setPriority(tid, 19);
} catch {
  // Not Linux, or not allowed: the writer runs at normal priority.
}

const data = workerData as WriterThreadData;
const { slots, message, rejection, rejected } = sharedViews(data.shared);
const backend = new SqliteBackend(data.file);
const queue: WriteMessage[] = [];
let retryTimer: NodeJS.Timeout | undefined;
let closing = false;

function setFailure(error: unknown): void {
  const bytes = Buffer.from((error as Error).message ?? String(error), 'utf8').subarray(0, message.length);
  message.set(bytes);
  Atomics.store(slots, 2, bytes.length);
  if (Atomics.load(slots, 1) % 2 === 0) Atomics.add(slots, 1, 1);
  else Atomics.add(slots, 1, 2); // a new message: the reader sees the counter change
  Atomics.notify(slots, 0);
}

/** Drops a batch the store will never take, and says so: the batches behind it go on. */
function reject(next: WriteMessage, error: unknown): void {
  const bytes = Buffer.from((error as Error).message ?? String(error), 'utf8').subarray(0, rejection.length);
  rejection.set(bytes);
  Atomics.store(slots, REJECTION_LENGTH, bytes.length);
  const count = Atomics.load(slots, REJECTED_BATCHES);
  Atomics.store(rejected, count % REJECTED_RING, next.ticket);
  Atomics.store(slots, REJECTED_BATCHES, count + 1);
}

function clearFailure(): void {
  if (Atomics.load(slots, 1) % 2 === 1) Atomics.add(slots, 1, 1);
}

function drain(): void {
  retryTimer = undefined;
  while (queue.length > 0) {
    const next = queue[0]!;
    try {
      backend.write(next.batch);
    } catch (error) {
      if (retryable(error)) {
        setFailure(error);
        retryTimer = setTimeout(drain, data.retryIntervalMs);
        return;
      }
      reject(next, error);
    }
    queue.shift();
    clearFailure();
    Atomics.store(slots, 0, next.ticket);
    Atomics.notify(slots, 0);
    // Give the column buffers back for reuse.
    const buffers = next.batch.metrics.flatMap((c) => [c.steps.buffer, c.values.buffer, c.timestamps.buffer]) as ArrayBuffer[];
    if (buffers.length > 0) parentPort!.postMessage({ recycle: buffers }, buffers);
  }
  if (closing) stop();
}

function checkpoint(): void {
  try {
    backend.checkpoint();
  } catch {
    // A checkpoint that cannot run now runs next time.
  }
}

const checkpoints = setInterval(checkpoint, data.checkpointIntervalMs);

function stop(): void {
  clearInterval(checkpoints);
  checkpoint();
  backend.close();
  parentPort!.close();
}

parentPort!.on('message', (msg: WriteMessage | 'close') => {
  if (msg === 'close') {
    closing = true;
    if (queue.length === 0) stop();
    return;
  }
  queue.push(msg);
  if (queue.length === 1) drain();
  else if (retryTimer !== undefined) {
    // The store refused the head of the queue: a new batch (a flush or close waiting) tries again now.
    clearTimeout(retryTimer);
    drain();
  }
});

// The writer thread's worker: applies batches to the store in order, retries refusals, checkpoints the WAL, fsyncs on request.

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteBackend } from './sqlite-backend.js';
import { WalSync } from './wal-sync.js';
import {
  READY,
  columnBuffers,
  recordRejection,
  retryable,
  sharedViews,
  syncAndMark,
  type WriterMessage,
  type WriterThreadData,
} from './writer-thread.js';

// The training thread comes first: on Linux a thread can lower its own priority by its thread id, so the
// writer runs at the lowest priority and only takes CPU time the program leaves.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid !== process.pid) setPriority(tid, 19);
} catch {
  // Not Linux, or not allowed: the writer runs at normal priority.
}

const data = workerData as WriterThreadData;
const views = sharedViews(data.shared);
const { slots, message } = views;
const backend = new SqliteBackend(data.file);
const queue: WriterMessage[] = [];

const wal = new WalSync(data.file);
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

function clearFailure(): void {
  if (Atomics.load(slots, 1) % 2 === 1) Atomics.add(slots, 1, 1);
}

function done(ticket: number): void {
  Atomics.store(slots, 0, ticket);
  Atomics.notify(slots, 0);
}

/** Puts every committed transaction on stable storage (see wal-sync.ts), then marks `ticket` durable. */
function sync(ticket: number): void {
  syncAndMark(views, ticket, () => wal.sync());
}

function drain(): void {
  retryTimer = undefined;
  while (queue.length > 0) {
    const next = queue[0]!;
    if ('sync' in next) {
      // A later request already queued covers this one (its fsync comes after all this one covers): one
      // fsync for every experiment that closes meanwhile.
      if (queue.findLastIndex((m) => 'sync' in m) === 0) sync(next.ticket);
      queue.shift();
      done(next.ticket);
      continue;
    }
    try {
      backend.write(next.batch);
    } catch (error) {
      if (retryable(error)) {
        setFailure(error);
        retryTimer = setTimeout(drain, data.retryIntervalMs);
        return;
      }
      // Refused for good: dropped, and said so; the batches behind it go on.
      recordRejection(views, next.ticket, error);
    }
    queue.shift();
    clearFailure();
    // Give the column buffers back for reuse, before the ticket counts as written: a caller that saw it
    // written finds them at its next submit.
    const buffers = columnBuffers(next.batch.metrics);
    if (buffers.length > 0) data.recycle.postMessage(buffers, buffers);
    done(next.ticket);
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
  wal.close();
  backend.close();
  data.recycle.close();
  parentPort!.close();
}

parentPort!.on('message', (msg: WriterMessage | 'close') => {
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

// From here the worker takes batches itself: a caller that blocks no longer writes them on its own thread.
Atomics.store(slots, READY, 1);

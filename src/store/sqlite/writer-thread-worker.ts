// The writer thread's worker: applies batches to the store in order, retries refusals, checkpoints the WAL, fsyncs on request.

import { closeSync, fsyncSync, openSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteBackend } from './sqlite-backend.js';
import {
  DURABLE,
  REJECTED_BATCHES,
  REJECTED_RING,
  REJECTION_LENGTH,
  SYNCS,
  SYNC_FAILURE_LENGTH,
  SYNC_STARTED,
  columnBuffers,
  sharedViews,
  type WriterMessage,
  type WriterThreadData,
} from './writer-thread.js';

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
const { slots, message, rejection, rejected, syncFailure } = sharedViews(data.shared);
const backend = new SqliteBackend(data.file);
const queue: WriterMessage[] = [];
/**
 * Descriptors of the WAL and of the store's folder, opened at start (the connection above made the WAL)
 * and kept: a sync then reaches the files even if they are renamed or unlinked. No lock lives on either
 * (SQLite locks the database file, whose descriptors must never be closed behind its back).
 */
let walFd = openQuietly(`${data.file}-wal`);
let folderFd = openQuietly(dirname(data.file));
/** The folder is fsynced once, at the first sync: the WAL and a new database file are entries in it. */
let folderSynced = false;

function openQuietly(file: string): number | undefined {
  try {
    return openSync(file, 'r');
  } catch {
    return undefined; // Tried again at the first sync, which reports the error.
  }
}
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
function reject(next: WriterMessage, error: unknown): void {
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

function done(ticket: number): void {
  Atomics.store(slots, 0, ticket);
  Atomics.notify(slots, 0);
}

/**
 * Puts every committed transaction on stable storage, then marks `ticket` durable. With WAL and
 * synchronous=NORMAL a commit is in the WAL but not fsynced; SQLite fsyncs the WAL before a checkpoint
 * copies frames into the database file, and the database file after, and only restarts the WAL after
 * both. So one fsync of the WAL covers every commit made before it, by any connection: on Linux, fsync
 * flushes the file whichever descriptor wrote to it. (A checkpoint would not do: with a reader holding an
 * older snapshot, it copies nothing and fsyncs nothing.) A failed fsync fails durability for good: the
 * kernel may have dropped the pages it could not write, so a later fsync that succeeds proves nothing.
 */
function sync(ticket: number): void {
  if (Atomics.load(slots, SYNC_FAILURE_LENGTH) !== 0) return;
  Atomics.store(slots, SYNC_STARTED, ticket);
  try {
    walFd ??= openSync(`${data.file}-wal`, 'r');
    fsyncSync(walFd);
    if (!folderSynced) {
      folderFd ??= openSync(dirname(data.file), 'r');
      fsyncSync(folderFd);
      folderSynced = true;
    }
    Atomics.add(slots, SYNCS, 1);
    Atomics.store(slots, DURABLE, ticket);
  } catch (error) {
    const bytes = Buffer.from((error as Error).message ?? String(error), 'utf8').subarray(0, syncFailure.length);
    syncFailure.set(bytes);
    Atomics.store(slots, SYNC_FAILURE_LENGTH, Math.max(1, bytes.length));
  }
  Atomics.notify(slots, DURABLE);
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
      reject(next, error);
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
  for (const fd of [walFd, folderFd]) if (fd !== undefined) closeSync(fd);
  walFd = folderFd = undefined;
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

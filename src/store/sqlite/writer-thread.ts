// Writer thread: writes batches into the SQLite store on a worker thread (before it runs, on the thread of a caller that blocks), in order, retrying refusals.

import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { LablogError } from '../../model/errors.js';
import { driverCodeOf } from '../../model/error-codes.js';
import { workerEntry } from '../../worker-entry.js';
import type { MetricChunk } from '../../model/series.js';
import type { BatchWriter, WriteBatch } from '../backend.js';

/** How often the worker checkpoints the WAL (the logging connections never do). */
export const CHECKPOINT_INTERVAL_MS = 1_000;
/** After the store refused a batch, the worker tries it again this often. */
export const RETRY_INTERVAL_MS = 1_000;

// Shared state, Int32 slots: the last ticket done (written, or rejected for good), a failure counter (odd
// while the store refuses the head batch and it is retried), the length of the failure message in the
// bytes that follow, and the count of batches / metric points rejected for good. Then durability: the
// highest ticket on stable storage (every ticket up to it is written and fsynced), the last sync ticket
// whose fsync has started, the count of fsyncs done, and the length of the message of a failed fsync
// (non-zero: durability failed for good), and whether the worker is ready.
const WRITTEN = 0;
const FAILING = 1;
const MESSAGE_LENGTH = 2;
export const REJECTED_BATCHES = 3;
export const REJECTION_LENGTH = 4;
export const DURABLE = 5;
export const SYNC_STARTED = 6;
export const SYNCS = 7;
export const SYNC_FAILURE_LENGTH = 8;
/** Non-zero once the worker has opened the store and takes batches. */
export const READY = 9;
/** The last tickets rejected for good, in a ring indexed by the rejection count. */
export const REJECTED_RING = 256;
const HEADER_BYTES = 64;
const MESSAGE_BYTES = 2048;

export interface WriterThreadData {
  readonly file: string;
  readonly shared: SharedArrayBuffer;
  readonly checkpointIntervalMs: number;
  readonly retryIntervalMs: number;
  /** Where the worker gives back the column buffers of written batches (read synchronously at each submit). */
  readonly recycle: MessagePort;
}

export interface WriteMessage {
  readonly ticket: number;
  readonly batch: WriteBatch;
}

/** A request to put on stable storage every batch before it and everything committed to the store before it was sent. */
export interface SyncMessage {
  readonly ticket: number;
  readonly sync: true;
}

export type WriterMessage = WriteMessage | SyncMessage;

/** The buffers under a batch's metric columns, once each (columns of several series share a slab). */
export function columnBuffers(chunks: readonly MetricChunk[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const chunk of chunks) {
    buffers.add(chunk.steps.buffer as ArrayBuffer);
    buffers.add(chunk.values.buffer as ArrayBuffer);
    buffers.add(chunk.timestamps.buffer as ArrayBuffer);
  }
  return [...buffers];
}

/** Records a failed fsync in the shared state: durability has failed for good. */
function failDurability(syncFailure: Uint8Array, slots: Int32Array, error: unknown): void {
  const bytes = Buffer.from((error as Error).message ?? String(error), 'utf8').subarray(0, syncFailure.length);
  syncFailure.set(bytes);
  Atomics.store(slots, SYNC_FAILURE_LENGTH, Math.max(1, bytes.length));
}

/**
 * Runs `fsync` for the sync request `ticket` and marks it in the shared state (used by both sides): the
 * fsync started, one more done, `ticket` durable; or durability failed for good. A failed fsync is never
 * retried: the kernel may have dropped the pages it could not write, so a later fsync that succeeds proves
 * nothing.
 */
export function syncAndMark(views: ReturnType<typeof sharedViews>, ticket: number, fsync: () => void): void {
  const { slots, syncFailure } = views;
  if (Atomics.load(slots, SYNC_FAILURE_LENGTH) !== 0) return;
  Atomics.store(slots, SYNC_STARTED, ticket);
  try {
    fsync();
    Atomics.add(slots, SYNCS, 1);
    Atomics.store(slots, DURABLE, ticket);
  } catch (error) {
    failDurability(syncFailure, slots, error);
  }
  Atomics.notify(slots, DURABLE);
}

// SQLite result codes worth retrying: the store is busy, full, or its disk failed for now. Anything else
// (a constraint, a type mismatch) fails again on every retry and would block every batch behind it.
const RETRYABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|NOMEM|PROTOCOL|READONLY)/;

/** True when the store may take a batch it refused later; false when it refuses it for good (used by both sides). */
export function retryable(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = String((error as { details?: { driverCode?: unknown } }).details?.driverCode ?? cause?.code ?? '');
  return RETRYABLE.test(code);
}

/** Records in the shared state that the store refused batch `ticket` for good, and why (used by both sides). */
export function recordRejection(views: ReturnType<typeof sharedViews>, ticket: number, error: unknown): void {
  const { slots, rejection, rejected } = views;
  const bytes = Buffer.from((error as Error).message ?? String(error), 'utf8').subarray(0, rejection.length);
  rejection.set(bytes);
  Atomics.store(slots, REJECTION_LENGTH, bytes.length);
  const count = Atomics.load(slots, REJECTED_BATCHES);
  Atomics.store(rejected, count % REJECTED_RING, ticket);
  Atomics.store(slots, REJECTED_BATCHES, count + 1);
}

/**
 * Writes on the caller's thread, through the store's own connection: a batch (throws as the store
 * refused it) and an fsync of what is committed.
 */
export interface InlineWriter {
  write(batch: WriteBatch): void;
  sync(): void;
}

/** Lays out the shared state (used by both sides). */
export function sharedViews(shared: SharedArrayBuffer) {
  return {
    slots: new Int32Array(shared, 0, HEADER_BYTES / 4),
    message: new Uint8Array(shared, HEADER_BYTES, MESSAGE_BYTES),
    rejection: new Uint8Array(shared, HEADER_BYTES + MESSAGE_BYTES, MESSAGE_BYTES),
    syncFailure: new Uint8Array(shared, HEADER_BYTES + 2 * MESSAGE_BYTES, MESSAGE_BYTES),
    rejected: new Int32Array(shared, HEADER_BYTES + 3 * MESSAGE_BYTES, REJECTED_RING),
  };
}

export const SHARED_BYTES = HEADER_BYTES + 3 * MESSAGE_BYTES + 4 * REJECTED_RING;

export class WriterThread implements BatchWriter {
  readonly #file: string;
  readonly #shared = new SharedArrayBuffer(SHARED_BYTES);
  readonly #views: ReturnType<typeof sharedViews>;
  readonly #slots: Int32Array;
  readonly #message: Uint8Array;
  readonly #rejection: Uint8Array;
  readonly #rejected: Int32Array;
  readonly #syncFailureText: Uint8Array;
  #syncFailure: Error | undefined;
  /** The ticket of the last sync request sent. */
  #lastSync = 0;
  /** Overlapping waits (flush and close of several experiments): the worker stays referenced while any runs. */
  #waiters = 0;
  #worker: Worker | undefined;
  #submitted = 0;
  #dead: Error | undefined;
  #failureSeen = 0;
  #failure: Error | undefined;
  readonly #recyclers: ((buffers: ArrayBuffer[]) => void)[] = [];
  /**
   * The receiving end of the worker's recycle port: read when the event loop runs, and with
   * receiveMessageOnPort at each submit, so a training loop that never yields still gets its buffers back
   * and a flush takes a pooled slab instead of allocating (and page-faulting) a fresh one.
   */
  #recycled: MessagePort | undefined;

  readonly #inline: InlineWriter | undefined;

  /**
   * `inline`: how a caller that blocks for its batch (a read, an exit) writes it itself while the worker
   * is not running yet: a short script then never waits for a thread to start (about 30 ms).
   */
  constructor(file: string, inline?: InlineWriter) {
    this.#file = file;
    this.#inline = inline;
    const views = (this.#views = sharedViews(this.#shared));
    this.#slots = views.slots;
    this.#message = views.message;
    this.#rejection = views.rejection;
    this.#rejected = views.rejected;
    this.#syncFailureText = views.syncFailure;
  }

  start(): void {
    this.#worker ??= this.#spawn();
  }

  onRecycle(listener: (buffers: ArrayBuffer[]) => void): void {
    if (!this.#recyclers.includes(listener)) this.#recyclers.push(listener);
  }

  #spawn(): Worker {
    const { entry, eval: isEval } = workerEntry(import.meta.url, 'writer-thread-worker');
    const { port1, port2 } = new MessageChannel();
    this.#recycled = port1;
    port1.on('message', (buffers: ArrayBuffer[]) => this.#recycle(buffers));
    port1.unref(); // after the listener, which references the port
    const workerData: WriterThreadData = {
      file: this.#file,
      shared: this.#shared,
      checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
      retryIntervalMs: RETRY_INTERVAL_MS,
      recycle: port2,
    };
    const worker = new Worker(entry, { workerData, eval: isEval, transferList: [port2] });
    worker.on('error', (error) => this.#die(error));
    worker.on('exit', (code) => {
      if (this.written() < this.#submitted) this.#die(new Error(`the writer thread exited (code ${code}) with batches unwritten`));
    });
    // The worker never keeps the process alive (nor does the recycle port): exit hooks wait for it explicitly.
    worker.unref();
    return worker;
  }

  #die(error: Error): void {
    this.#dead ??= new LablogError(
      'STORAGE_ERROR',
      `the writer thread for ${this.#file} failed: ${error.message}`,
      { driver: 'sqlite', driverCode: driverCodeOf(error), location: this.#file },
      { cause: error },
    );
    Atomics.notify(this.#slots, WRITTEN);
    Atomics.notify(this.#slots, DURABLE);
  }

  submit(batch: WriteBatch, blocking = false): number {
    if (blocking && this.#canWriteInline()) {
      let refusal: unknown;
      try {
        this.#inline!.write(batch);
      } catch (error) {
        refusal = error;
      }
      // A store that may take it later (busy, full): the worker writes it, with its retries (and reports the
      // refusal through failure() meanwhile). Nothing was written: its buffers are still the batch's.
      if (refusal === undefined || !retryable(refusal)) {
        const ticket = ++this.#submitted;
        // Refused for good (a constraint, a kind mismatch): dropped and reported as the worker would.
        if (refusal !== undefined) recordRejection(this.#views, ticket, refusal);
        this.#recycle(columnBuffers(batch.metrics));
        Atomics.store(this.#slots, WRITTEN, ticket);
        return ticket;
      }
    }
    const worker = (this.#worker ??= this.#spawn());
    this.#reclaim();
    const ticket = ++this.#submitted;
    const transfer = columnBuffers(batch.metrics);
    worker.postMessage({ ticket, batch } satisfies WriteMessage, transfer);
    return ticket;
  }

  /** Hands the buffers the worker gave back since the last call to the recycle listeners. */
  #reclaim(): void {
    const port = this.#recycled;
    if (port === undefined) return;
    for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
      this.#recycle(received.message as ArrayBuffer[]);
    }
  }

  #recycle(buffers: ArrayBuffer[]): void {
    for (const recycle of this.#recyclers) recycle(buffers);
  }

  /** True when the worker takes nothing yet, and has nothing to write that a batch written here would overtake. */
  #canWriteInline(): boolean {
    return (
      this.#inline !== undefined && this.#dead === undefined && Atomics.load(this.#slots, READY) === 0 && this.written() === this.#submitted
    );
  }

  submitSync(blocking = false): number {
    if (blocking && this.#canWriteInline()) {
      const ticket = ++this.#submitted;
      syncAndMark(this.#views, ticket, () => this.#inline!.sync());
      Atomics.store(this.#slots, WRITTEN, ticket);
      return ticket;
    }
    // The last request sent covers this one too when nothing was submitted since and its fsync has not
    // started yet: that fsync comes after everything the caller committed. Closes that come together
    // share one fsync this way.
    if (this.#lastSync === this.#submitted && this.#lastSync > 0 && Atomics.load(this.#slots, SYNC_STARTED) < this.#lastSync) {
      return this.#lastSync;
    }
    const worker = (this.#worker ??= this.#spawn());
    const ticket = ++this.#submitted;
    worker.postMessage({ ticket, sync: true } satisfies SyncMessage);
    this.#lastSync = ticket;
    return ticket;
  }

  written(): number {
    return Atomics.load(this.#slots, WRITTEN);
  }

  durable(): number {
    return Atomics.load(this.#slots, DURABLE);
  }

  /** @internal fsyncs this writer has done, for tests and benchmarks. */
  syncs(): number {
    return Atomics.load(this.#slots, SYNCS);
  }

  syncFailure(): Error | undefined {
    if (this.#syncFailure) return this.#syncFailure;
    const length = Math.min(Atomics.load(this.#slots, SYNC_FAILURE_LENGTH), MESSAGE_BYTES);
    if (length === 0) return undefined;
    const text = Buffer.from(this.#syncFailureText.slice(0, length)).toString('utf8');
    this.#syncFailure = new LablogError('STORAGE_ERROR', `cannot put the writes to ${this.#file} on stable storage: ${text}`, {
      driver: 'sqlite',
      driverCode: null,
      location: this.#file,
    });
    return this.#syncFailure;
  }

  rejectionsSince(seen: number): { count: number; tickets: number[]; error: Error } | undefined {
    const count = Atomics.load(this.#slots, REJECTED_BATCHES);
    if (count === seen) return undefined;
    const tickets: number[] = [];
    for (let i = Math.max(seen, count - REJECTED_RING); i < count; i++) tickets.push(Atomics.load(this.#rejected, i % REJECTED_RING));
    const length = Math.min(Atomics.load(this.#slots, REJECTION_LENGTH), MESSAGE_BYTES);
    const text = Buffer.from(this.#rejection.slice(0, length)).toString('utf8');
    return {
      count,
      tickets,
      error: new LablogError('STORAGE_ERROR', `the store rejected a batch, which was dropped: ${text}`, {
        driver: 'sqlite',
        driverCode: null,
        location: this.#file,
      }),
    };
  }

  lastSubmitted(): number {
    return this.#submitted;
  }

  failure(): Error | undefined {
    if (this.#dead) return this.#dead;
    const counter = Atomics.load(this.#slots, FAILING);
    if (counter % 2 === 0) return undefined;
    if (counter !== this.#failureSeen) {
      this.#failureSeen = counter;
      const length = Math.min(Atomics.load(this.#slots, MESSAGE_LENGTH), MESSAGE_BYTES);
      const text = Buffer.from(this.#message.slice(0, length)).toString('utf8');
      this.#failure = new LablogError('STORAGE_ERROR', text, { driver: 'sqlite', driverCode: null, location: this.#file });
    }
    return this.#failure;
  }

  /** True when the store refused a batch after `since` (a failure counter read before waiting). */
  #failedSince(since: number): boolean {
    if (this.#dead) return true;
    const counter = Atomics.load(this.#slots, FAILING);
    return counter !== since && counter % 2 === 1;
  }

  waitSync(ticket: number, timeoutMs: number): boolean {
    return this.#block(WRITTEN, ticket, timeoutMs);
  }

  async wait(ticket: number, timeoutMs: number): Promise<boolean> {
    return this.#await(WRITTEN, ticket, timeoutMs);
  }

  waitDurableSync(ticket: number, timeoutMs: number): boolean {
    return this.#block(DURABLE, ticket, timeoutMs);
  }

  waitDurable(ticket: number, timeoutMs: number): Promise<boolean> {
    return this.#await(DURABLE, ticket, timeoutMs);
  }

  /** True when waiting for `slot` cannot succeed: the writer died, or (for DURABLE) an fsync failed. */
  #hopeless(slot: number): boolean {
    return slot === DURABLE && Atomics.load(this.#slots, SYNC_FAILURE_LENGTH) !== 0;
  }

  /** Blocks until `slot` reaches `ticket`, the store refuses a batch again, or timeoutMs pass; true when reached. */
  #block(slot: number, ticket: number, timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    const since = Atomics.load(this.#slots, FAILING);
    for (;;) {
      const reached = Atomics.load(this.#slots, slot);
      if (reached >= ticket) return true;
      const left = deadline - Date.now();
      if (left <= 0 || this.#failedSince(since) || this.#hopeless(slot)) return false;
      Atomics.wait(this.#slots, slot, reached, Math.min(left, 50));
    }
  }

  async #await(slot: number, ticket: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    // Atomics.waitAsync holds no handle on the event loop: keep the worker referenced meanwhile, or a
    // script awaiting close() would end with its promise unsettled.
    if (this.#waiters++ === 0) this.#worker?.ref();
    const since = Atomics.load(this.#slots, FAILING);
    try {
      for (;;) {
        const reached = Atomics.load(this.#slots, slot);
        if (reached >= ticket) return true;
        const left = deadline - Date.now();
        if (left <= 0 || this.#failedSince(since) || this.#hopeless(slot)) return false;
        await Atomics.waitAsync(this.#slots, slot, reached, Math.min(left, 50)).value;
      }
    } finally {
      if (--this.#waiters === 0) this.#worker?.unref();
    }
  }

  /** Lets the worker finish what it has and stop; does not wait. */
  close(): void {
    this.#worker?.postMessage('close');
  }
}

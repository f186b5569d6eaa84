// Batch queue: hands an experiment's buffered writes to the store's writer and tracks what is written.

import { LablogError } from '../model/errors.js';
import { driverCodeOf } from '../model/error-codes.js';
import { MAX_BUFFERED_POINTS, WriteBuffer, batchPoints, columnPool } from './buffer.js';
import { HEARTBEAT_INTERVAL_MS } from './liveness.js';
import type { BatchWriter } from '../store/backend.js';

/** How many dropped points pass between two checks for room (the check reads shared memory). */
const RECHECK_EVERY_DROPS = 4_096;
/** Backpressure lets a log call go on once the points in flight are below this share of the cap. */
const BACKPRESSURE_RESUME_FRACTION = 0.5;
/** A single backpressure wait gives up after this long (then the cap drops points as for a refusal). */
const BACKPRESSURE_MAX_WAIT_MS = 30_000;

const recycleColumns = (buffers: ArrayBuffer[]) => columnPool.give(buffers);
/**
 * The writer thread starts this long after an experiment opens (or at its first flush, if sooner), not
 * inside createExperiment: starting a thread costs the caller 2-5 ms and the process a core for ~30 ms,
 * and a script that ends sooner writes its points itself at exit or close(), through the store's own connection.
 */
export const WRITER_START_DELAY_MS = 50;
/** A cell to sleep on with Atomics.wait (nothing ever notifies it). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

export class BatchQueue {
  readonly buffer = new WriteBuffer();
  /** True while the points handed over but not yet written reach MAX_BUFFERED_POINTS: new points are dropped. */
  saturated = false;
  dropped = 0;
  batchesWritten = 0;
  /** Log calls that waited for the writer because it was behind (healthy but slower than the logging). */
  backpressureWaits = 0;
  backpressureMs = 0;
  /** Metric points written so far. */
  writtenPoints = 0;

  readonly #experimentId: string;
  readonly #writer: BatchWriter;
  readonly #location: string;
  /** Tickets handed to the writer and not yet written, oldest first, with their metric points. */
  readonly #inFlight: { ticket: number; points: number }[] = [];
  #inFlightPoints = 0;
  #lastTicket = 0;
  #lastSubmitAt = Date.now();
  #reportedFailure: Error | undefined;

  constructor(experimentId: string, writer: BatchWriter, location: string) {
    this.#experimentId = experimentId;
    this.#writer = writer;
    this.#location = location;
    writer.onRecycle(recycleColumns);
  }

  /** Gets the writer ready before the first log call needs it. */
  start(): void {
    this.#writer.start();
  }

  /** Starts the writer WRITER_START_DELAY_MS from now, if the program yields by then. */
  startSoon(): void {
    setTimeout(() => this.start(), WRITER_START_DELAY_MS).unref();
  }

  /** Metric points logged and not yet in the store. */
  get pendingPoints(): number {
    return this.#inFlightPoints + this.buffer.points;
  }

  /** True when every batch handed over is written. */
  get idle(): boolean {
    return this.#inFlight.length === 0;
  }

  /**
   * Hands the buffer to the writer. When the writer already holds the cap of unwritten points: if the
   * store is refusing writes, the buffer stays and new points are dropped (saturated); if the writer is
   * healthy but behind, this call waits for it (backpressure) — logging slows to the disk's pace and
   * nothing is lost.
   */
  submit(now: number, blocking = false): void {
    if (this.buffer.isEmpty) return;
    this.settle();
    if (this.#inFlightPoints >= MAX_BUFFERED_POINTS && !this.#waitForRoom()) {
      this.saturated = true;
      return;
    }
    const batch = this.buffer.take(this.#experimentId, now);
    this.#send(batch.metrics.length > 0 ? batchPoints(batch) : 0, batch, now, blocking);
  }

  /** Writes an empty batch (it refreshes the heartbeat) when nothing was handed over for a while. */
  heartbeat(now: number): void {
    if (this.#inFlight.length === 0 && now - this.#lastSubmitAt >= HEARTBEAT_INTERVAL_MS) {
      this.#send(0, this.buffer.take(this.#experimentId, now), now);
    }
  }

  /** Blocks until the writer is below the resume mark; false when the store refuses writes (or time runs out). */
  #waitForRoom(): boolean {
    if (this.#writer.failure()) return false;
    const started = performance.now();
    const target = MAX_BUFFERED_POINTS * BACKPRESSURE_RESUME_FRACTION;
    let left = this.#inFlightPoints;
    let ticket = this.#lastTicket;
    for (const entry of this.#inFlight) {
      left -= entry.points;
      if (left < target) {
        ticket = entry.ticket;
        break;
      }
    }
    const done = this.#writer.waitSync(ticket, BACKPRESSURE_MAX_WAIT_MS);
    // Counted as backpressure only when the writer caught up: it was healthy, just slower.
    if (done) {
      this.backpressureWaits++;
      this.backpressureMs += performance.now() - started;
    }
    this.settle();
    return done;
  }

  #send(points: number, batch: ReturnType<WriteBuffer['take']>, now: number, blocking = false): void {
    const ticket = this.#writer.submit(batch, blocking);
    this.#inFlight.push({ ticket, points });
    this.#inFlightPoints += points;
    this.#lastTicket = ticket;
    this.#lastSubmitAt = now;
  }

  /** Takes note of what the writer has written, and of this experiment's batches it rejected. */
  settle(): void {
    // `written` first: the worker records a rejected ticket before it counts the ticket as done.
    const written = this.#writer.written();
    const rejections = this.#writer.rejectionsSince(this.#rejectionsSeen);
    if (rejections) {
      this.#rejectionsSeen = rejections.count;
      for (const ticket of rejections.tickets) this.#rejectedTickets.add(ticket);
      this.#lastRejection = rejections.error;
    }
    let points = 0;
    while (this.#inFlight.length > 0 && this.#inFlight[0]!.ticket <= written) {
      const done = this.#inFlight.shift()!;
      this.#inFlightPoints -= done.points;
      if (this.#rejectedTickets.delete(done.ticket)) {
        this.rejectedPoints += done.points;
        this.#unreportedRejection ??= this.#asError(this.#lastRejection ?? new Error('a batch was rejected'));
      } else {
        points += done.points;
        this.batchesWritten++;
      }
    }
    // Tickets older than anything still in flight belong to other experiments: forget them.
    const oldest = this.#inFlight[0]?.ticket ?? written + 1;
    for (const ticket of this.#rejectedTickets) if (ticket < oldest && ticket <= written) this.#rejectedTickets.delete(ticket);
    this.writtenPoints += points;
    if (this.saturated && this.#inFlightPoints < MAX_BUFFERED_POINTS) this.saturated = false;
  }

  /** Counts a point dropped at the cap, and now and then looks whether the writer has made room. */
  drop(): void {
    if (++this.dropped % RECHECK_EVERY_DROPS === 0) this.settle();
  }

  /** Metric points of this experiment's batches that the store rejected for good. */
  rejectedPoints = 0;
  #unreportedRejection: LablogError | undefined;
  #rejectionsSeen = 0;
  #lastRejection: Error | undefined;
  /** Tickets the writer rejected that are still in #inFlight (mine or another experiment's). */
  readonly #rejectedTickets = new Set<number>();

  /** The writer's current refusal or a rejection of one of this experiment's batches, once. */
  newFailure(): LablogError | undefined {
    this.settle();
    const rejection = this.takeRejection();
    if (rejection) return rejection;
    const failure = this.#writer.failure();
    if (failure === undefined || failure === this.#reportedFailure) return undefined;
    this.#reportedFailure = failure;
    return this.#asError(failure);
  }

  #asError(failure: Error): LablogError {
    return failure instanceof LablogError
      ? failure
      : new LablogError(
          'STORAGE_ERROR',
          `writing to ${this.#location} failed: ${failure.message}`,
          { driver: 'sqlite', driverCode: driverCodeOf(failure), location: this.#location },
          { cause: failure },
        );
  }

  /** A rejection of one of this experiment's batches not yet reported, once. */
  takeRejection(): LablogError | undefined {
    const rejection = this.#unreportedRejection;
    this.#unreportedRejection = undefined;
    return rejection;
  }

  /** Why not everything is written: the store's refusal, or time. */
  #notWritten(): LablogError {
    const failure = this.#writer.failure();
    if (failure) return this.#asError(failure);
    return new LablogError('STORAGE_ERROR', `the store at ${this.#location} has not written ${this.pendingPoints} points yet`, {
      driver: 'sqlite',
      driverCode: null,
      location: this.#location,
      actual: this.pendingPoints,
    });
  }

  get #allWritten(): boolean {
    return this.#inFlight.length === 0 && this.buffer.isEmpty;
  }

  /**
   * Hands over the buffer and blocks until all is written; the error says why not, within timeoutMs.
   * Loops because the cap may hold the buffer back until earlier batches are written.
   */
  writeAllSync(timeoutMs: number): LablogError | undefined {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.submit(Date.now(), true);
      this.settle();
      if (this.#allWritten) return undefined;
      const done = this.#writer.waitSync(this.#lastTicket, Math.max(0, deadline - Date.now()));
      this.settle();
      if (this.#allWritten) return undefined;
      if (!done || Date.now() >= deadline) return this.#notWritten();
    }
  }

  /**
   * Everything written by the whole store's writer up to its last ticket, whoever submitted it (before
   * resumeFrom truncates, nothing logged earlier may still be on its way).
   */
  waitForStore(timeoutMs: number): LablogError | undefined {
    if (this.#writer.waitSync(this.#writer.lastSubmitted(), timeoutMs)) return undefined;
    return this.#notWritten();
  }

  /**
   * At process exit: waits for the writer as long as it makes progress or only retries a refusal, until
   * `deadline`; gives up after stallMs without progress.
   */
  writeAllAtExit(stallMs: number, deadline: number): LablogError | undefined {
    let lastWritten = this.#writer.written();
    let lastProgressAt = Date.now();
    for (;;) {
      const error = this.writeAllSync(Math.max(0, Math.min(250, deadline - Date.now())));
      if (!error) return undefined;
      const now = Date.now();
      const written = this.#writer.written();
      if (written !== lastWritten) {
        lastWritten = written;
        lastProgressAt = now;
      }
      if (now >= deadline || now - lastProgressAt >= stallMs) return error;
      // The store refused the write and the writer retries it: do not spin meanwhile.
      if (this.#writer.failure()) Atomics.wait(PAUSE, 0, 0, 50);
    }
  }

  /** Why what was written is not known to be on stable storage: a failed fsync, the store's refusal, or time. */
  #notDurable(timeoutMs: number): LablogError {
    const failure = this.#writer.syncFailure() ?? this.#writer.failure();
    if (failure) return this.#asError(failure);
    return new LablogError('STORAGE_ERROR', `the store at ${this.#location} did not fsync its writes within ${timeoutMs} ms`, {
      driver: 'sqlite',
      driverCode: null,
      location: this.#location,
      limit: timeoutMs,
    });
  }

  /**
   * Asks the writer to put on stable storage everything this experiment handed over and everything
   * committed to the store so far (its status too); returns the ticket to wait for. Call once all is
   * written, and wait for it at once (waitDurableSync): a writer not running yet fsyncs on this thread.
   */
  requestDurable(): number {
    return this.#writer.submitSync(true);
  }

  /** Blocks until `ticket` (from requestDurable) is on stable storage; the error says why not, within timeoutMs. */
  waitDurableSync(ticket: number, timeoutMs: number): LablogError | undefined {
    return this.#writer.waitDurableSync(ticket, timeoutMs) ? undefined : this.#notDurable(timeoutMs);
  }

  /**
   * Puts what is written on stable storage (one fsync, shared with the requests waiting meanwhile), within
   * timeoutMs. `inline`: while the writer's worker is not running yet, fsync on this thread instead of
   * starting it (a request of its own, not shared).
   */
  async makeDurable(timeoutMs: number, inline = false): Promise<LablogError | undefined> {
    const ticket = this.#writer.submitSync(inline);
    return (await this.#writer.waitDurable(ticket, timeoutMs)) ? undefined : this.#notDurable(timeoutMs);
  }

  /**
   * Like writeAllSync without blocking the event loop while it waits. `inline`: while the writer's worker
   * is not running yet, the buffer is written on this thread instead of starting it.
   */
  async writeAll(timeoutMs: number, inline = false): Promise<LablogError | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.submit(Date.now(), inline);
      this.settle();
      if (this.#allWritten) return undefined;
      const done = await this.#writer.wait(this.#lastTicket, Math.max(0, deadline - Date.now()));
      this.settle();
      if (this.#allWritten) return undefined;
      if (!done || Date.now() >= deadline) return this.#notWritten();
    }
  }
}

// Batch queue: hands an experiment's buffered writes to the store's writer and tracks what is written.

import { LablogError } from './errors.js';
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
  submit(now: number): void {
    if (this.buffer.isEmpty) return;
    this.settle();
    if (this.#inFlightPoints >= MAX_BUFFERED_POINTS && !this.#waitForRoom()) {
      this.saturated = true;
      return;
    }
    const batch = this.buffer.take(this.#experimentId, now);
    this.#send(batch.metrics.length > 0 ? batchPoints(batch) : 0, batch, now);
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

  #send(points: number, batch: ReturnType<WriteBuffer['take']>, now: number): void {
    const ticket = this.#writer.submit(batch);
    this.#inFlight.push({ ticket, points });
    this.#inFlightPoints += points;
    this.#lastTicket = ticket;
    this.#lastSubmitAt = now;
  }

  /** Takes note of what the writer has written, and of batches it rejected. */
  settle(): void {
    const rejection = this.#writer.rejection();
    if (rejection) {
      this.rejectedPoints = rejection.points;
      this.#unreportedRejection = this.#asError(rejection.error);
    }
    const written = this.#writer.written();
    let points = 0;
    while (this.#inFlight.length > 0 && this.#inFlight[0]!.ticket <= written) {
      points += this.#inFlight.shift()!.points;
      this.batchesWritten++;
    }
    this.#inFlightPoints -= points;
    this.writtenPoints += points;
    if (this.saturated && this.#inFlightPoints < MAX_BUFFERED_POINTS) this.saturated = false;
  }

  /** Counts a point dropped at the cap, and now and then looks whether the writer has made room. */
  drop(): void {
    if (++this.dropped % RECHECK_EVERY_DROPS === 0) this.settle();
  }

  /** Metric points of batches the store rejected for good (counted store-wide). */
  rejectedPoints = 0;
  #unreportedRejection: LablogError | undefined;

  /** The writer's current refusal or a new rejection, once: undefined if there is none or it was already returned. */
  newFailure(): LablogError | undefined {
    this.settle();
    const rejection = this.#unreportedRejection;
    if (rejection) {
      this.#unreportedRejection = undefined;
      return rejection;
    }
    const failure = this.#writer.failure();
    if (failure === undefined || failure === this.#reportedFailure) return undefined;
    this.#reportedFailure = failure;
    return this.#asError(failure);
  }

  #asError(failure: Error): LablogError {
    return failure instanceof LablogError
      ? failure
      : new LablogError('STORAGE_ERROR', `writing to ${this.#location} failed: ${failure.message}`, {}, { cause: failure });
  }

  #takeRejection(): LablogError | undefined {
    const rejection = this.#unreportedRejection;
    this.#unreportedRejection = undefined;
    return rejection;
  }

  /** Why not everything is written: the store's refusal, or time. */
  #notWritten(): LablogError {
    const failure = this.#writer.failure();
    if (failure) return this.#asError(failure);
    return new LablogError('STORAGE_ERROR', `the store at ${this.#location} has not written ${this.pendingPoints} points yet`, {
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
      this.submit(Date.now());
      this.settle();
      if (this.#allWritten) return undefined;
      const done = this.#writer.waitSync(this.#lastTicket, Math.max(0, deadline - Date.now()));
      this.settle();
      if (this.#allWritten) return this.#takeRejection();
      if (!done || Date.now() >= deadline) return this.#notWritten();
    }
  }

  /**
   * At process exit: waits for the writer as long as it makes progress, up to maxMs in all; gives up
   * after stallMs without progress, or when the store refuses writes.
   */
  writeAllAtExit(stallMs: number, maxMs: number): LablogError | undefined {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const before = this.#writer.written();
      const error = this.writeAllSync(Math.max(0, Math.min(stallMs, deadline - Date.now())));
      if (!error) return undefined;
      if (this.#writer.written() === before || Date.now() >= deadline || this.#writer.failure()) return error;
    }
  }

  /** Like writeAllSync without blocking the event loop. */
  async writeAll(timeoutMs: number): Promise<LablogError | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.submit(Date.now());
      this.settle();
      if (this.#allWritten) return undefined;
      const done = await this.#writer.wait(this.#lastTicket, Math.max(0, deadline - Date.now()));
      this.settle();
      if (this.#allWritten) return this.#takeRejection();
      if (!done || Date.now() >= deadline) return this.#notWritten();
    }
  }
}

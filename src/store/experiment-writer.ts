// The embedded store's write capability: experiments created and ended, batches written (on a writer thread), copies (types only).

import type { ExperimentRecord, ExperimentStatus, NewExperiment, ParamRecord } from '../model/experiment.js';
import type { ImagePointRecord, MetricChunk, PlotPointRecord } from '../model/series.js';
import type { TableRecord } from '../model/table.js';
import type { ExperimentProgress } from '../model/progress.js';
import type { DatasetRecord } from '../model/dataset.js';

/** Everything one flush of one experiment writes; a store applies it atomically or not at all. */
export interface WriteBatch {
  readonly experimentId: string;
  readonly params: readonly ParamRecord[];
  readonly metrics: readonly MetricChunk[];
  readonly images: readonly ImagePointRecord[];
  readonly plots: readonly PlotPointRecord[];
  readonly tables: readonly TableRecord[];
  readonly heartbeatAt: number;
  /** The latest progress set since the last batch (replaces the stored one); absent: unchanged. */
  readonly progress?: ExperimentProgress;
  /** Datasets logged since the last batch: each replaces the stored one of the same role and name. */
  readonly datasets?: readonly DatasetRecord[];
}

/**
 * Writes batches in the order submitted, away from the caller (for SQLite: on a worker thread). Progress
 * is readable synchronously, so a training loop that never yields still sees it, and an exit handler can
 * block until everything is written.
 */
export interface BatchWriter {
  /** Starts the writer ahead of the first batch, so that cost is not paid inside a log call. */
  start(): void;
  /** Receives the metric chunk buffers of written batches, for reuse (delivered when the event loop runs, or at a later submit in a loop that never yields). */
  onRecycle(listener: (buffers: ArrayBuffer[]) => void): void;
  /**
   * Queues a batch and returns its ticket (increasing). Metric chunk buffers are transferred: do not reuse
   * them. `blocking`: the caller waits for it at once (a read, an exit), so a writer that is not running
   * yet may write it on the caller's thread.
   */
  submit(batch: WriteBatch, blocking?: boolean): number;
  /** The highest ticket written: every batch up to it is in the store. */
  written(): number;
  /** Why the oldest unwritten batch was refused, while it is (the writer retries it); else undefined. */
  failure(): Error | undefined;
  /**
   * Batches the store rejected for good (a constraint or type error: retrying cannot help), which were
   * dropped so the batches behind them could be written. `seen` is the count the caller saw last; the
   * result has the new count, the tickets rejected since (their `written()` counts them done), and the
   * latest error.
   */
  rejectionsSince(seen: number): { count: number; tickets: number[]; error: Error } | undefined;
  /** The last ticket handed out, by any experiment of the store. */
  lastSubmitted(): number;
  /** Blocks until `ticket` is written, the store refuses a batch again after the call, or timeoutMs pass; true when written. */
  waitSync(ticket: number, timeoutMs: number): boolean;
  /** Like waitSync without blocking the event loop. */
  wait(ticket: number, timeoutMs: number): Promise<boolean>;
  /**
   * Queues a durability request and returns its ticket: once `durable()` reaches it, every batch
   * submitted before it and everything committed to the store before the call (by any connection) is on
   * stable storage. One fsync serves every request waiting at the time.
   */
  submitSync(blocking?: boolean): number;
  /** The highest ticket on stable storage: every batch up to it is written and fsynced. */
  durable(): number;
  /** Why writes cannot be put on stable storage (an fsync failed: for good, as the kernel may have dropped them); else undefined. */
  syncFailure(): Error | undefined;
  /** Blocks until `ticket` is durable, the store refuses a batch again or an fsync fails, or timeoutMs pass; true when durable. */
  waitDurableSync(ticket: number, timeoutMs: number): boolean;
  /** Like waitDurableSync without blocking the event loop. */
  waitDurable(ticket: number, timeoutMs: number): Promise<boolean>;
}

/**
 * Writes of the embedded store. Synchronous: an exit handler must be able to end an experiment and write
 * its last batch. Failures throw a LablogError with code STORAGE_ERROR.
 */
export interface ExperimentWriter {
  /** Inserts an experiment under the first free name among nameFor(1), nameFor(2), … (atomic across processes). */
  createExperiment(experiment: NewExperiment, nameFor: (attempt: number) => string): ExperimentRecord;
  setStatus(id: string, status: ExperimentStatus, endedAt: number | null, now: number): void;
  /** Marks an experiment running again in this process and drops every point with step >= fromStep. */
  reopenExperiment(id: string, fromStep: number, pid: number, hostname: string, now: number): void;
  /** Writes one batch atomically, in the calling thread. */
  write(batch: WriteBatch): void;
  /** The writer log calls hand their batches to (created on first use, shared by the store's experiments). */
  writer(): BatchWriter;
  /**
   * Copies an experiment as `newId` (params, tags, every series and table; named by the first free
   * `nameFor(attempt)` in its project), in one transaction. EXPERIMENT_NOT_FOUND if there is no source.
   */
  copyExperiment(sourceId: string, newId: string, nameFor: (attempt: number) => string, now: number): ExperimentRecord;
}

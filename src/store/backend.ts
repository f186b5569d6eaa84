// The Store interface: what core needs from a storage implementation (types only, no driver).

import type { StudyBackend } from './study-backend.js';

export const EXPERIMENT_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'crashed'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

export const SERIES_KINDS = ['metric', 'image', 'plot'] as const;
export type SeriesKind = (typeof SERIES_KINDS)[number];

export type ParamType = 'boolean' | 'number' | 'string' | 'date';

export interface ExperimentRecord {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly description: string | null;
  readonly tags: readonly string[];
  readonly status: ExperimentStatus;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | null;
  readonly heartbeatAt: number | null;
  readonly pid: number | null;
  readonly hostname: string | null;
}

export interface NewExperiment {
  readonly id: string;
  readonly project: string;
  readonly description: string | null;
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly pid: number;
  readonly hostname: string;
}

export const EXPERIMENT_SORT_FIELDS = ['created_at', 'updated_at', 'name', 'status'] as const;
export type ExperimentSortField = (typeof EXPERIMENT_SORT_FIELDS)[number];

export interface ExperimentQuery {
  readonly project?: string;
  readonly status?: readonly ExperimentStatus[];
  /** Experiments carrying every one of these tags. */
  readonly tags?: readonly string[];
  readonly limit?: number;
  readonly offset?: number;
  readonly sort?: ExperimentSortField;
  readonly order?: 'asc' | 'desc';
}

/** A param as stored: its type and its value encoded as text. */
export interface ParamRecord {
  readonly key: string;
  readonly type: ParamType;
  readonly value: string;
}

/**
 * Consecutive points of one metric series, in columns; the unit of writing and reading. The arrays may be
 * views on larger buffers; a BatchWriter takes those buffers over and may give them back (onRecycle).
 */
export interface MetricChunk {
  readonly name: string;
  readonly steps: Float64Array;
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
}

export interface ImagePointRecord {
  readonly name: string;
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
}

export interface PlotPointRecord {
  readonly name: string;
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  /** The Plotly figure as JSON text. */
  readonly figure: string;
}

export interface TableRecord {
  readonly name: string;
  /** Arrow IPC stream bytes. */
  readonly ipc: Buffer;
  readonly rows: number;
  readonly columns: number;
  readonly loggedAt: number;
}

export type TableSummary = Omit<TableRecord, 'ipc'>;

/** Everything one flush of one experiment writes; a store applies it atomically or not at all. */
export interface WriteBatch {
  readonly experimentId: string;
  readonly params: readonly ParamRecord[];
  readonly metrics: readonly MetricChunk[];
  readonly images: readonly ImagePointRecord[];
  readonly plots: readonly PlotPointRecord[];
  readonly tables: readonly TableRecord[];
  readonly heartbeatAt: number;
}

export interface SeriesRecord {
  readonly name: string;
  readonly kind: SeriesKind;
  readonly count: number;
  readonly firstStep: number | null;
  readonly lastStep: number | null;
  readonly lastTimestamp: number | null;
  /** Metric series only: last, smallest and largest value (NaN ignored for min/max). */
  readonly lastValue: number | null;
  readonly minValue: number | null;
  readonly maxValue: number | null;
}

export interface MetricData {
  readonly steps: Float64Array;
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
}

/** An image as read back: its record without the series name. */
export type ImagePoint = Omit<ImagePointRecord, 'name'>;

export interface PlotPoint {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  readonly figure: unknown;
}

/**
 * Writes batches in the order submitted, away from the caller (for SQLite: on a worker thread). Progress
 * is readable synchronously, so a training loop that never yields still sees it, and an exit handler can
 * block until everything is written.
 */
export interface BatchWriter {
  /** Starts the writer ahead of the first batch, so that cost is not paid inside a log call. */
  start(): void;
  /** Receives the metric chunk buffers of written batches, for reuse (delivered when the event loop runs). */
  onRecycle(listener: (buffers: ArrayBuffer[]) => void): void;
  /** Queues a batch and returns its ticket (increasing). Metric chunk buffers are transferred: do not reuse them. */
  submit(batch: WriteBatch): number;
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
  submitSync(): number;
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
 * A storage implementation. Calls are synchronous: the embedded store must be able to flush from a
 * process 'exit' handler. Failures throw a LablogError with code STORAGE_ERROR.
 */
export interface StoreBackend {
  /** Where the data lives (a file path), for messages. */
  readonly location: string;

  /** Inserts an experiment under the first free name among nameFor(1), nameFor(2), … (atomic across processes). */
  createExperiment(experiment: NewExperiment, nameFor: (attempt: number) => string): ExperimentRecord;
  getExperiment(id: string): ExperimentRecord | undefined;
  /** Experiments with this exact name, in one project or in all. */
  findExperiments(name: string, project?: string): ExperimentRecord[];
  listExperiments(query: ExperimentQuery): ExperimentRecord[];
  countExperiments(query: ExperimentQuery): number;
  setStatus(id: string, status: ExperimentStatus, endedAt: number | null, now: number): void;
  /** Marks an experiment running again in this process and drops every point with step >= fromStep. */
  reopenExperiment(id: string, fromStep: number, pid: number, hostname: string, now: number): void;

  /** Writes one batch atomically, in the calling thread. */
  write(batch: WriteBatch): void;
  /** The writer log calls hand their batches to (created on first use, shared by the store's experiments). */
  writer(): BatchWriter;

  readParams(experimentId: string): ParamRecord[];
  readSeries(experimentId: string): SeriesRecord[];
  readMetric(experimentId: string, name: string): MetricData | undefined;
  readImages(experimentId: string, name: string): ImagePoint[];
  readPlots(experimentId: string, name: string): PlotPoint[];
  listTables(experimentId: string): TableSummary[];
  readTable(experimentId: string, name: string): TableRecord | undefined;

  /**
   * Copies an experiment as `newId` (params, tags, every series and table; named by the first free
   * `nameFor(attempt)` in its project), in one transaction. EXPERIMENT_NOT_FOUND if there is no source.
   */
  copyExperiment(sourceId: string, newId: string, nameFor: (attempt: number) => string, now: number): ExperimentRecord;

  /** The studies of this store. */
  studies(): StudyBackend;

  close(): void;
}

// The server's write capability: published experiments upserted and their points ingested idempotently (types only).

import type { Limits } from '../model/limits.js';
import type { ErrorCode, ErrorDetails } from '../model/error-codes.js';
import type { ExperimentRecord, ParamRecord } from '../model/experiment.js';
import type { ExperimentProgress } from '../model/progress.js';
import type { DatasetRecord } from '../model/dataset.js';
import type { SeriesKind } from '../model/series.js';

/**
 * An experiment as the publisher sends it: the local record's identity (the client's UUID) and state, and
 * every param. The server keeps the client's `name`, or `name-2`, … when another experiment of the project has it.
 */
export interface PublishedExperiment extends Pick<
  ExperimentRecord,
  'id' | 'project' | 'name' | 'description' | 'tags' | 'status' | 'createdAt' | 'endedAt' | 'heartbeatAt' | 'hostname'
> {
  /** Label of this publication (a model version); null keeps the one already recorded. */
  readonly version: string | null;
  readonly params: readonly ParamRecord[];
  /** The latest progress (absent or null: keeps what is stored; older clients send none). */
  readonly progress?: ExperimentProgress | null;
  /** Dataset references, each upserted by (role, name) (absent: keeps what is stored). */
  readonly datasets?: readonly DatasetRecord[];
}

/** An experiment on the server: the local record plus what publishing adds. */
export interface RemoteExperimentRecord extends ExperimentRecord {
  readonly version: string | null;
  /** When the server last received anything for it. */
  readonly publishedAt: number;
}

/**
 * Points of one series, sent after the client's watermark. `after` is the last step the client saw
 * acknowledged (null: none). The server skips points it already has (step <= its last step), so sending
 * twice stores once; a server behind `after` has lost data the client was told it has (SYNC_CONFLICT).
 */
export interface IngestMetric {
  readonly name: string;
  readonly after: number | null;
  readonly steps: Float64Array;
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
}

export interface IngestImagePoint {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  /** sha256 (hex) of PNG bytes already uploaded as a blob. */
  readonly hash: string;
  /** Read from the PNG by the server, not taken from the client. */
  readonly width: number;
  readonly height: number;
}

export interface IngestPlotPoint {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  /** Plotly figure as JSON text. */
  readonly figure: string;
}

export interface IngestMedia<P> {
  readonly name: string;
  readonly after: number | null;
  readonly points: readonly P[];
}

export interface IngestTable {
  readonly name: string;
  /** sha256 (hex) of Arrow IPC stream bytes already uploaded as a blob. */
  readonly hash: string;
  readonly rows: number;
  readonly columns: number;
  readonly loggedAt: number;
}

/** One request's worth of series data for one experiment. Shapes are validated before it reaches a backend. */
export interface IngestBatch {
  readonly experimentId: string;
  readonly metrics: readonly IngestMetric[];
  readonly images: readonly IngestMedia<IngestImagePoint>[];
  readonly plots: readonly IngestMedia<IngestPlotPoint>[];
  readonly tables: readonly IngestTable[];
}

/** What the server holds of one series, after a write. */
export interface SeriesState {
  readonly name: string;
  readonly kind: SeriesKind;
  readonly count: number;
  readonly lastStep: number | null;
}

/** A series or table item an ingest refused, with the error's code and its details (typed by the code). */
export type RejectedItem = {
  [C in ErrorCode]: {
    readonly kind: SeriesKind | 'table';
    readonly name: string;
    readonly error: C;
    readonly message: string;
    readonly details: ErrorDetails<C>;
  };
}[ErrorCode];

export interface IngestResult {
  /** State of every series the batch named (accepted or not), for the client's watermark. */
  readonly series: readonly SeriesState[];
  /** Points (and tables) stored. */
  readonly accepted: number;
  /** Points already stored, skipped. */
  readonly skipped: number;
  readonly rejected: readonly RejectedItem[];
}

/**
 * What a publisher writes into a server's store. Every write is idempotent, and safe with several server
 * processes on one database. Failures throw a LablogError (STORAGE_ERROR, or the typed code).
 */
export interface ExperimentIngest {
  /**
   * Creates the experiment with the client's id, or updates status, description, tags, end, heartbeat,
   * version (when not null) and params of the one with that id. Fails LIMIT_EXCEEDED past maxParams
   * (nothing stored). The caller checks the project against the API key first.
   */
  upsertExperiment(experiment: PublishedExperiment, limits: Limits, now: number): RemoteExperimentRecord;
  /** Stores the points after each series' last stored step; one transaction per call. */
  ingest(batch: IngestBatch, limits: Limits, now: number): IngestResult;
  /** Drops every point with step >= fromStep (the client resumed from that step). */
  truncate(experimentId: string, fromStep: number, now: number): void;
  /** Copies an experiment as `newId` with all its data (see ExperimentWriter.copyExperiment). */
  copyExperiment(sourceId: string, newId: string, nameFor: (attempt: number) => string, now: number): RemoteExperimentRecord;
}

// The server's Store interface: asynchronous (PostgreSQL drivers are), idempotent ingest, API keys (types only).

import type { Limits } from '../core/limits.js';
import type { ErrorCode, ErrorDetails } from '../model/error-codes.js';
import type { EvenColumn } from './column-codec.js';
import type { MetricPage } from './metric-page.js';
import type { ServerStudyBackend } from './study-backend.js';
import type { ExperimentQuery, ExperimentRecord, ParamRecord } from '../model/experiment.js';
import type { MetricData, PlotPoint, SeriesKind, SeriesRecord } from '../model/series.js';
import type { TableSummary } from '../model/table.js';

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
}

/** An experiment on the server: the local record plus what publishing adds. */
export interface RemoteExperimentRecord extends ExperimentRecord {
  readonly version: string | null;
  /** When the server last received anything for it. */
  readonly publishedAt: number;
}

export interface RemoteExperimentQuery extends ExperimentQuery {
  /** Only experiments in these projects (the API key's scope). */
  readonly projects?: readonly string[];
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

/** An item of a batch that was not stored, and why; the rest of the batch is stored. */
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

export interface ApiKeyRecord {
  readonly id: string;
  /** sha256 (hex) of the key; the key itself is never stored. */
  readonly hash: string;
  readonly projects: readonly string[];
  readonly name: string | null;
  readonly createdAt: number;
  /** When a server last accepted it (recorded at most once a minute); absent when never used, or not read. */
  readonly lastUsedAt?: number;
}

/** A key as `lablog keys list` shows it: everything but its hash. */
export interface ApiKeyListing {
  readonly id: string;
  readonly name: string | null;
  readonly projects: readonly string[];
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  /** When it was revoked; null while it is valid. */
  readonly revokedAt: number | null;
}

/** A UI session on the server: the browser's cookie holds a random id, the store only its sha256. */
export interface UiSessionRecord {
  /** sha256 (hex) of the session id. */
  readonly hash: string;
  readonly keyId: string;
  readonly createdAt: number;
  /** Absolute end, fixed at login. */
  readonly expiresAt: number;
  /** Last request seen with it (recorded at most every few seconds), for the idle limit. */
  readonly lastSeenAt: number;
}

/** What the UI's experiments table reads of one experiment besides its record. */
export interface ExperimentSummary {
  readonly params: ParamRecord[];
  readonly series: SeriesRecord[];
  readonly studyId: string | null;
}

/** A project and how many experiments it holds (and how many of them say 'running'). */
export interface ProjectCount {
  readonly name: string;
  readonly experiments: number;
  readonly running: number;
}

export interface ImageMeta {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  readonly width: number;
  readonly height: number;
  readonly hash: string;
}

export interface PlotMeta {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  /** Bytes of the figure's JSON text. */
  readonly bytes: number;
}

/**
 * A store the server reads and writes through. Every write is idempotent, and safe with several server
 * processes on one database. Failures reject with a LablogError (STORAGE_ERROR, or the typed code).
 */
export interface ServerBackend {
  /** Where the data lives (a file path or a database URL without password), for messages. */
  readonly location: string;

  /**
   * Creates the experiment with the client's id, or updates status, description, tags, end, heartbeat,
   * version (when not null) and params of the one with that id. Fails LIMIT_EXCEEDED past maxParams
   * (nothing stored). The caller checks the project against the API key first.
   */
  upsertExperiment(experiment: PublishedExperiment, limits: Limits, now: number): Promise<RemoteExperimentRecord>;
  /** Stores the points after each series' last stored step; one transaction per call. */
  ingest(batch: IngestBatch, limits: Limits, now: number): Promise<IngestResult>;
  /** Drops every point with step >= fromStep (the client resumed from that step). */
  truncate(experimentId: string, fromStep: number, now: number): Promise<void>;

  /** Which of these blob hashes the store lacks, whoever uploaded them (store-wide: never an answer to a client). */
  missingBlobs(hashes: readonly string[]): Promise<string[]>;
  /** Stores bytes under their sha256 (verified by the caller) for no project; storing known bytes again stores nothing. */
  putBlob(hash: string, bytes: Buffer): Promise<void>;
  readBlob(hash: string): Promise<Buffer | undefined>;
  /**
   * Stores bytes (once per hash) and records that `project` uploaded them, in one transaction that first
   * checks the project's quota of unreferenced bytes: LIMIT_EXCEEDED (limit, actual) when these bytes would
   * make the project's unreferenced uploads exceed `quota` (nothing stored). Bytes the project already owns
   * cost nothing and only refresh its ownership.
   */
  uploadBlob(project: string, hash: string, bytes: Buffer, quota: number, now: number): Promise<void>;
  /**
   * The blobs among `hashes` that `project` owns (uploaded, or referenced by one of its experiments), with
   * their size and remembered checks; their ownership is refreshed to `now`, so none is collected for a
   * grace period. Hashes only other projects own are absent, exactly like hashes never uploaded.
   */
  ownedBlobs(project: string, hashes: readonly string[], now: number): Promise<Map<string, OwnedBlob>>;
  /** Remembers what validating blobs found (a check is a function of the bytes: storing it twice keeps the first). */
  saveBlobChecks(checks: readonly { readonly hash: string; readonly check: BlobCheck }[]): Promise<void>;
  /**
   * Drops up to `maxOwners` ownership records that nothing references and that were not refreshed for
   * `graceMs`, then the bytes no project owns and nothing references, in one short transaction. Safe with
   * several server processes on one database.
   */
  collectBlobs(graceMs: number, now: number, maxOwners: number): Promise<BlobCollection>;

  getExperiment(id: string): Promise<RemoteExperimentRecord | undefined>;
  listExperiments(query: RemoteExperimentQuery): Promise<RemoteExperimentRecord[]>;
  countExperiments(query: RemoteExperimentQuery): Promise<number>;
  readParams(experimentId: string): Promise<ParamRecord[]>;
  /** The experiment's series by name; with `limit`, the first `limit` of them only. */
  readSeries(experimentId: string, limit?: number): Promise<SeriesRecord[]>;
  readMetric(experimentId: string, name: string): Promise<MetricData | undefined>;
  /**
   * One metric's x column (steps, or timestamps in ms) and values, chunk by chunk in step order, for charts:
   * only what a chart draws, and with `steps`, only the chunks that overlap that step range (the caller trims
   * the points at its edges).
   */
  readMetricXs(
    experimentId: string,
    name: string,
    x: 'steps' | 'timestamps',
    steps?: { from: number; to: number },
  ): Promise<{ xs: Float64Array | EvenColumn; values: Float64Array }[] | undefined>;
  /** Params, series (the first `seriesLimit` by name of each, when given) and study of each of these experiments at once; ids not stored are absent from the map. */
  readSummaries(experimentIds: readonly string[], seriesLimit?: number): Promise<Map<string, ExperimentSummary>>;
  /** Projects that hold experiments or studies, by name; only those among `projects` when given. */
  listProjects(projects?: readonly string[]): Promise<ProjectCount[]>;
  /** The series' images in step order; with `page`, only those with step >= fromStep, at most `limit`. */
  listImages(experimentId: string, name: string, page?: { fromStep: number; limit: number }): Promise<ImageMeta[]>;
  readImage(experimentId: string, name: string, step: number): Promise<Buffer | undefined>;
  readPlots(experimentId: string, name: string): Promise<PlotPoint[]>;
  /** The experiment's tables by name; with `limit`, the first `limit` of them only. */
  listTables(experimentId: string, limit?: number): Promise<TableSummary[]>;
  /** A page of one metric: points with step >= fromStep, at most `limit`, reading only the chunks that hold them; undefined: no such series. */
  readMetricPage(experimentId: string, name: string, fromStep: number, limit: number): Promise<MetricPage | undefined>;
  /** Plot points with step >= fromStep, at most `limit`, without their figures: step, time, caption and the figure's size in bytes. */
  listPlots(experimentId: string, name: string, fromStep: number, limit: number): Promise<PlotMeta[]>;
  /** The figures (JSON text as stored) of the plot points with fromStep <= step <= toStep, in step order. */
  readPlotFigures(experimentId: string, name: string, fromStep: number, toStep: number): Promise<{ step: number; figure: string }[]>;
  readTable(experimentId: string, name: string): Promise<Buffer | undefined>;

  /** Copies an experiment as `newId` with all its data (see StoreBackend.copyExperiment). */
  copyExperiment(sourceId: string, newId: string, nameFor: (attempt: number) => string, now: number): Promise<RemoteExperimentRecord>;

  /** The studies of the server's store (same rules and errors as the library's). */
  studies(): ServerStudyBackend;

  createKey(key: ApiKeyRecord): Promise<void>;
  /** The unrevoked key with this hash: one indexed query, made on every request (so revocation is immediate). */
  findKey(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Every key but its hash, oldest first; revoked ones only with `includeRevoked`. */
  listKeys(includeRevoked: boolean): Promise<ApiKeyListing[]>;
  /** Marks the key revoked and deletes its UI sessions, in one transaction; false when no unrevoked key has this id. */
  revokeKey(id: string, now: number): Promise<boolean>;
  /** Records that the key was used at `now` (the caller decides how often). */
  touchKey(id: string, now: number): Promise<void>;

  /** Stores a new session, then deletes the key's oldest past `maxPerKey`; in one transaction. */
  createSession(session: UiSessionRecord, maxPerKey: number): Promise<void>;
  /** The session with this hash and its key, unless the key was revoked: one indexed query (a join). */
  findSession(hash: string): Promise<{ session: UiSessionRecord; key: ApiKeyRecord } | undefined>;
  /** Records a request seen with the session at `now` (the caller decides how often). */
  touchSession(hash: string, now: number): Promise<void>;
  deleteSession(hash: string): Promise<void>;
  /** Deletes sessions past their end (expiresAt <= now) or idle since `idleBefore`; returns how many. */
  deleteExpiredSessions(now: number, idleBefore: number): Promise<number>;

  close(): Promise<void>;
}

/** What validating a blob's bytes as an image (PNG) or a table (Arrow IPC) found; remembered per blob and kind. */
export type BlobCheck =
  | { readonly kind: 'image'; readonly width: number; readonly height: number }
  | { readonly kind: 'table'; readonly rows: number; readonly columns: number }
  | { readonly kind: 'image' | 'table'; readonly invalid: string };

/** A blob a project owns: its size and the checks already run on its bytes. */
export interface OwnedBlob {
  readonly hash: string;
  readonly size: number;
  readonly checks: readonly BlobCheck[];
}

/** What one pass of blob collection removed. */
export interface BlobCollection {
  /** Ownership records dropped (a project's unreferenced upload past its grace period). */
  readonly owners: number;
  /** Blobs whose bytes were deleted. */
  readonly blobs: number;
  readonly bytes: number;
}

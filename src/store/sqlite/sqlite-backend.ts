// SQLite store: the embedded StoreBackend on better-sqlite3 (the only module that imports it).

import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { LablogError } from '../../model/errors.js';
import { driverCodeOf } from '../../model/error-codes.js';
import type { ExperimentQuery, ExperimentRecord, ExperimentStatus, NewExperiment, ParamRecord, ParamType } from '../../model/experiment.js';
import type { ImageMeta, MetricData, PlotPoint, SeriesKind, SeriesRecord } from '../../model/series.js';
import type { TableRecord, TableSummary } from '../../model/table.js';
import type { DatasetRecord } from '../../model/dataset.js';
import type { StoreBackend, WriteBatch } from '../backend.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { WalSync } from './wal-sync.js';
import { pendingMigrations } from '../schema-migrations.js';
import { WriterThread } from './writer-thread.js';
import { SqliteStudyBackend } from './sqlite-study-backend.js';
import { SqliteRunBackend } from './sqlite-run-backend.js';
import { SqliteEnvBackend } from './sqlite-env-backend.js';
import { SqliteSweepBackend } from './sqlite-sweep-backend.js';
import { SqliteArtifactBackend } from './sqlite-artifact-backend.js';
import { FileArtifactBlobs } from '../files/file-artifact-blobs.js';
import { SqliteModelBackend } from './sqlite-model-backend.js';
import { copyExperiment } from './sqlite-experiment-copy.js';
import { RAW, decodeChunks, decodeColumnToArray, encodeColumn, packEncodings, unpackEncodings } from '../column-codec.js';
import { bytesOf, extremes } from '../column-stats.js';

/** How long a write waits for another process's write transaction before failing. */
export const BUSY_TIMEOUT_MS = 1_000;
const TABLE_FORMAT = 'arrow-ipc-stream';
/** The folder beside the store file that holds its artifact bytes (blobs/sha256/ab/cdef…). */
export const ARTIFACT_BLOB_FOLDER = 'blobs';
/** After a checkpoint resets the WAL, its file is truncated to this size. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** @internal A row of the experiments table (server columns aside). */
export interface ExperimentRow {
  id: string;
  project: string;
  name: string;
  description: string | null;
  tags: string;
  status: ExperimentStatus;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  heartbeat_at: number | null;
  pid: number | null;
  hostname: string | null;
  progress: number | null;
  phase: string | null;
  progress_at: number | null;
}

interface ChunkRow {
  id: number;
  count: number;
  encoding: number;
  first_step: number;
  last_step: number;
  steps: Buffer;
  vals: Buffer;
  timestamps: Buffer;
}

const SORT_COLUMNS: Record<string, string> = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  name: 'name',
  status: 'status',
};

/** @internal The record of an experiments row. */
export function toRecord(row: ExperimentRow): ExperimentRecord {
  return {
    id: row.id,
    project: row.project,
    name: row.name,
    description: row.description,
    tags: JSON.parse(row.tags) as string[],
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
    heartbeatAt: row.heartbeat_at,
    pid: row.pid,
    hostname: row.hostname,
    progress:
      row.progress === null || row.progress === undefined
        ? null
        : { pct: row.progress, phase: row.phase, at: row.progress_at ?? row.updated_at },
  };
}

/** @internal The record of an experiment_datasets row. */
export function datasetRecord(row: DatasetRow): DatasetRecord {
  return {
    role: row.role,
    name: row.name,
    id: row.dataset_id,
    uri: row.uri,
    digest: row.digest,
    rows: row.rows,
    loggedAt: row.logged_at,
  };
}

interface DatasetRow {
  role: string;
  name: string;
  dataset_id: string | null;
  uri: string | null;
  digest: string | null;
  rows: number | null;
  logged_at: number;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An object whose properties are made by their factory on first read, then kept. */
function lazily<T extends Record<string, () => unknown>>(factories: T): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const out = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const key of Object.keys(factories) as (keyof T)[]) {
    Object.defineProperty(out, key, {
      configurable: true,
      get() {
        const value = factories[key]!() as ReturnType<T[typeof key]>;
        Object.defineProperty(out, key, { value });
        return value;
      },
    });
  }
  return out;
}

/** Every statement, prepared on first use (a reader needs a few; opening a store prepares none). */
function prepareStatements(db: Database.Database) {
  return lazily({
    experimentExists: () => db.prepare('SELECT 1 FROM experiments WHERE project = ? AND name = ?').pluck(),
    insertExperiment: () =>
      db.prepare(
        `INSERT INTO experiments (id, project, name, description, tags, status, created_at, updated_at, heartbeat_at, pid, hostname)
       VALUES (@id, @project, @name, @description, @tags, 'running', @createdAt, @createdAt, @createdAt, @pid, @hostname)`,
      ),
    insertTag: () => db.prepare('INSERT OR IGNORE INTO experiment_tags (experiment_id, tag) VALUES (?, ?)'),
    getExperiment: () => db.prepare('SELECT * FROM experiments WHERE id = ?'),
    findByName: () => db.prepare('SELECT * FROM experiments WHERE name = ? ORDER BY created_at'),
    findByNameInProject: () => db.prepare('SELECT * FROM experiments WHERE name = ? AND project = ? ORDER BY created_at'),
    setStatus: () => db.prepare('UPDATE experiments SET status = ?, ended_at = ?, updated_at = ? WHERE id = ?'),
    reopen: () =>
      db.prepare(
        `UPDATE experiments SET status = 'running', ended_at = NULL, pid = ?, hostname = ?, heartbeat_at = ?, updated_at = ? WHERE id = ?`,
      ),
    heartbeat: () => db.prepare('UPDATE experiments SET heartbeat_at = ?, updated_at = ? WHERE id = ?'),
    upsertParam: () =>
      db.prepare(
        `INSERT INTO params (experiment_id, key, type, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (experiment_id, key) DO UPDATE SET type = excluded.type, value = excluded.value`,
      ),
    ensureSeries: () => db.prepare('INSERT INTO series (experiment_id, name, kind) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    seriesIdAndKind: () => db.prepare('SELECT id, kind FROM series WHERE experiment_id = ? AND name = ?'),
    insertChunk: () =>
      db.prepare(
        'INSERT INTO metric_chunks (series_id, first_step, last_step, count, encoding, steps, vals, timestamps) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
    addMetricStats: () =>
      db.prepare(
        `UPDATE series SET
         count = count + @n,
         first_step = coalesce(first_step, @first),
         last_step = @last,
         last_timestamp = @lastTimestamp,
         last_value = @lastValue,
         min_value = CASE WHEN @min IS NULL THEN min_value WHEN min_value IS NULL THEN @min ELSE min(min_value, @min) END,
         max_value = CASE WHEN @max IS NULL THEN max_value WHEN max_value IS NULL THEN @max ELSE max(max_value, @max) END
       WHERE id = @id`,
      ),
    addMediaStats: () =>
      db.prepare(
        `UPDATE series SET count = count + 1, first_step = coalesce(first_step, @step), last_step = @step,
         last_timestamp = @timestamp WHERE id = @id`,
      ),
    insertBlob: () => db.prepare('INSERT OR IGNORE INTO blobs (hash, size, bytes) VALUES (?, ?, ?)'),
    insertImage: () =>
      db.prepare('INSERT INTO image_points (series_id, step, timestamp, caption, blob_hash, width, height) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    insertPlot: () => db.prepare('INSERT INTO plot_points (series_id, step, timestamp, caption, figure) VALUES (?, ?, ?, ?, ?)'),
    upsertTable: () =>
      db.prepare(
        `INSERT INTO tables (experiment_id, name, rows, columns, format, blob_hash, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (experiment_id, name) DO UPDATE SET rows = excluded.rows, columns = excluded.columns,
         format = excluded.format, blob_hash = excluded.blob_hash, logged_at = excluded.logged_at`,
      ),
    readParams: () => db.prepare('SELECT key, type, value FROM params WHERE experiment_id = ? ORDER BY key'),
    setProgress: () => db.prepare('UPDATE experiments SET progress = ?, phase = ?, progress_at = ? WHERE id = ?'),
    upsertDataset: () =>
      db.prepare(
        `INSERT INTO experiment_datasets (experiment_id, role, name, dataset_id, uri, digest, rows, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (experiment_id, role, name) DO UPDATE SET dataset_id = excluded.dataset_id, uri = excluded.uri,
           digest = excluded.digest, rows = excluded.rows, logged_at = excluded.logged_at`,
      ),
    readDatasets: () =>
      db.prepare(
        'SELECT role, name, dataset_id, uri, digest, rows, logged_at FROM experiment_datasets WHERE experiment_id = ? ORDER BY role, name',
      ),
    readSeries: () =>
      db.prepare(
        `SELECT name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value
       FROM series WHERE experiment_id = ? ORDER BY name LIMIT ?`,
      ),
    seriesOfExperiment: () => db.prepare('SELECT id, kind FROM series WHERE experiment_id = ?'),
    readChunks: () =>
      db.prepare(
        'SELECT id, count, encoding, first_step, last_step, steps, vals, timestamps FROM metric_chunks WHERE series_id = ? ORDER BY first_step',
      ),
    listImages: () =>
      db.prepare(
        `SELECT step, timestamp, caption, width, height, blob_hash AS hash
       FROM image_points WHERE series_id = ? AND step >= ? ORDER BY step LIMIT ?`,
      ),
    readImage: () =>
      db.prepare('SELECT b.bytes FROM image_points p JOIN blobs b ON b.hash = p.blob_hash WHERE p.series_id = ? AND p.step = ?').pluck(),
    readPlots: () => db.prepare('SELECT step, timestamp, caption, figure FROM plot_points WHERE series_id = ? ORDER BY step'),
    listTables: () => db.prepare('SELECT name, rows, columns, logged_at FROM tables WHERE experiment_id = ? ORDER BY name LIMIT ?'),
    readTable: () =>
      db.prepare(
        `SELECT t.name, t.rows, t.columns, t.logged_at, b.bytes AS ipc
       FROM tables t JOIN blobs b ON b.hash = t.blob_hash WHERE t.experiment_id = ? AND t.name = ?`,
      ),
    deleteChunksFrom: () => db.prepare('DELETE FROM metric_chunks WHERE series_id = ? AND first_step >= ?'),
    rewriteChunk: () =>
      db.prepare('UPDATE metric_chunks SET last_step = ?, count = ?, encoding = ?, steps = ?, vals = ?, timestamps = ? WHERE id = ?'),
    setMetricStats: () =>
      db.prepare(
        `UPDATE series SET count = @count, first_step = @first, last_step = @last, last_timestamp = @lastTimestamp,
         last_value = @lastValue, min_value = @min, max_value = @max WHERE id = @id`,
      ),
    deleteImagesFrom: () => db.prepare('DELETE FROM image_points WHERE series_id = ? AND step >= ?'),
    deletePlotsFrom: () => db.prepare('DELETE FROM plot_points WHERE series_id = ? AND step >= ?'),
    imageStats: () =>
      db.prepare(
        'SELECT count(*) AS count, min(step) AS first, max(step) AS last, max(timestamp) AS ts FROM image_points WHERE series_id = ?',
      ),
    plotStats: () =>
      db.prepare(
        'SELECT count(*) AS count, min(step) AS first, max(step) AS last, max(timestamp) AS ts FROM plot_points WHERE series_id = ?',
      ),
    setMediaStats: () => db.prepare('UPDATE series SET count = ?, first_step = ?, last_step = ?, last_timestamp = ? WHERE id = ?'),
    insertTruncation: () => db.prepare('INSERT INTO truncations (experiment_id, from_step, at) VALUES (?, ?, ?)'),
    deleteOrphanBlobs: () =>
      db.prepare(`DELETE FROM blobs WHERE hash NOT IN (SELECT blob_hash FROM image_points) AND hash NOT IN (SELECT blob_hash FROM tables)`),
  });
}

type Statements = ReturnType<typeof prepareStatements>;

/** SQLite stores a NaN REAL as NULL (no value): a series' last value NaN is kept as the text 'NaN' instead. */
function toStoredValue(value: number | null): number | string | null {
  return value !== null && Number.isNaN(value) ? 'NaN' : value;
}

function fromStoredValue(stored: unknown): number | null {
  return stored === 'NaN' ? Number.NaN : (stored as number | null);
}

/** The WHERE clause of an experiment query and its arguments (shared with the SQLite server store). */
export function experimentWhere(query: ExperimentQuery): { sql: string; args: unknown[] } {
  const clauses: string[] = [];
  const args: unknown[] = [];
  if (query.project !== undefined) {
    clauses.push('project = ?');
    args.push(query.project);
  }
  // An empty scope matches nothing.
  if (query.projects !== undefined) {
    clauses.push(`project IN (${query.projects.map(() => '?').join(', ') || 'NULL'})`);
    args.push(...query.projects);
  }
  if (query.status !== undefined && query.status.length > 0) {
    clauses.push(`status IN (${query.status.map(() => '?').join(', ')})`);
    args.push(...query.status);
  }
  for (const tag of new Set(query.tags ?? [])) {
    clauses.push('EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = experiments.id AND t.tag = ?)');
    args.push(tag);
  }
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', args };
}

/** A row of the series table as a SeriesRecord (shared with the SQLite server store). */
export function seriesRecord(row: Record<string, unknown>): SeriesRecord {
  return {
    name: row['name'] as string,
    kind: row['kind'] as SeriesKind,
    count: row['count'] as number,
    firstStep: row['first_step'] as number | null,
    lastStep: row['last_step'] as number | null,
    lastTimestamp: row['last_timestamp'] as number | null,
    lastValue: fromStoredValue(row['last_value']),
    minValue: row['min_value'] as number | null,
    maxValue: row['max_value'] as number | null,
  };
}

export class SqliteBackend implements StoreBackend {
  readonly location: string;
  readonly #db: Database.Database;
  readonly #seriesIds = new Map<string, number>();
  #seriesCreatedInWrite: string[] = [];
  readonly #stmt: Statements;
  readonly #writeTx: (batch: WriteBatch) => void;
  #writer: WriterThread | undefined;
  /** The descriptors a blocking caller's fsync goes through (made at the first, see writer()). */
  #wal: WalSync | undefined;
  #studies: SqliteStudyBackend | undefined;
  #runs: SqliteRunBackend | undefined;
  #env: SqliteEnvBackend | undefined;
  #sweeps: SqliteSweepBackend | undefined;
  #artifacts: SqliteArtifactBackend | undefined;
  #artifactBlobs: FileArtifactBlobs | undefined;
  #models: SqliteModelBackend | undefined;

  constructor(file: string) {
    this.location = file;
    try {
      this.#db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      this.#db.pragma('foreign_keys = ON');
      // Automatic checkpoints would run (and fsync) in whichever write crosses the threshold; the writer
      // thread runs them on its own schedule instead (see writer-thread.ts).
      this.#db.pragma('wal_autocheckpoint = 0');
      this.#db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      this.#migrate();
      this.#stmt = prepareStatements(this.#db);
    } catch (cause) {
      throw this.#storageError(`cannot open the store at ${file}`, cause);
    }
    const tx = this.#db.transaction((batch: WriteBatch) => {
      this.applyUnlocked(batch);
      this.#stmt.heartbeat.run(batch.heartbeatAt, batch.heartbeatAt, batch.experimentId);
    });
    this.#writeTx = (batch) => tx.immediate(batch);
  }

  #migrate(): void {
    const current = this.#db.pragma('user_version', { simple: true }) as number;
    if (current === SCHEMA_VERSION) return;
    this.#db
      .transaction(() => {
        // Read again inside the write lock: another process may have migrated meanwhile.
        const version = this.#db.pragma('user_version', { simple: true }) as number;
        for (const migration of pendingMigrations(MIGRATIONS, version, { driver: 'sqlite', location: this.location, noun: 'store' })) {
          for (const { table, column, definition } of migration.addColumns ?? []) {
            const present = this.#db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get(table, column);
            if (present === undefined) this.#db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
          }
          this.#db.exec(migration.sql);
          this.#db.pragma(`user_version = ${migration.version}`);
        }
      })
      .immediate();
  }

  #storageError(what: string, cause: unknown): LablogError {
    if (cause instanceof LablogError) return cause;
    return new LablogError(
      'STORAGE_ERROR',
      `${what}: ${(cause as Error).message}`,
      { driver: 'sqlite', driverCode: driverCodeOf(cause), location: this.location },
      { cause },
    );
  }

  #guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw this.#storageError(what, cause);
    }
  }

  createExperiment(experiment: NewExperiment, nameFor: (attempt: number) => string): ExperimentRecord {
    return this.#guard('creating an experiment', () =>
      this.#db
        .transaction(() => {
          let name = nameFor(1);
          for (let attempt = 2; this.#stmt.experimentExists.get(experiment.project, name) !== undefined; attempt++) {
            name = nameFor(attempt);
          }
          this.#stmt.insertExperiment.run({ ...experiment, name, tags: JSON.stringify(experiment.tags) });
          for (const tag of experiment.tags) this.#stmt.insertTag.run(experiment.id, tag);
          return toRecord(this.#stmt.getExperiment.get(experiment.id) as ExperimentRow);
        })
        .immediate(),
    );
  }

  getExperiment(id: string): ExperimentRecord | undefined {
    return this.#guard('reading an experiment', () => {
      const row = this.#stmt.getExperiment.get(id) as ExperimentRow | undefined;
      return row && toRecord(row);
    });
  }

  findExperiments(name: string, project?: string): ExperimentRecord[] {
    return this.#guard('finding an experiment', () => {
      const rows = (
        project === undefined ? this.#stmt.findByName.all(name) : this.#stmt.findByNameInProject.all(name, project)
      ) as ExperimentRow[];
      return rows.map(toRecord);
    });
  }

  listExperiments(query: ExperimentQuery): ExperimentRecord[] {
    return this.#guard('listing experiments', () => {
      const { sql, args } = experimentWhere(query);
      const column = SORT_COLUMNS[query.sort ?? 'created_at'] ?? 'created_at';
      const order = query.order === 'asc' ? 'ASC' : 'DESC';
      const page = query.limit !== undefined || query.offset !== undefined ? 'LIMIT ? OFFSET ?' : '';
      if (page) args.push(query.limit ?? -1, query.offset ?? 0);
      const rows = this.#db
        .prepare(`SELECT * FROM experiments ${sql} ORDER BY ${column} ${order}, id ${order} ${page}`)
        .all(...args) as ExperimentRow[];
      return rows.map(toRecord);
    });
  }

  countExperiments(query: ExperimentQuery): number {
    return this.#guard('counting experiments', () => {
      const { sql, args } = experimentWhere(query);
      return this.#db
        .prepare(`SELECT count(*) FROM experiments ${sql}`)
        .pluck()
        .get(...args) as number;
    });
  }

  setStatus(id: string, status: ExperimentStatus, endedAt: number | null, now: number): void {
    this.#guard(`recording status '${status}'`, () => this.#stmt.setStatus.run(status, endedAt, now, id));
  }

  reopenExperiment(id: string, fromStep: number, pid: number, hostname: string, now: number): void {
    this.#guard('reopening an experiment', () =>
      this.#db
        .transaction(() => {
          this.#stmt.reopen.run(pid, hostname, now, now, id);
          this.truncateUnlocked(id, fromStep, now);
        })
        .immediate(),
    );
  }

  /**
   * @internal Drops every point with step >= fromStep inside the caller's transaction. A local store logs
   * the truncation (for publishers) and drops blobs nothing refers to any more; a server store does neither
   * (its blobs may be uploaded ahead of the points that refer to them).
   */
  truncateUnlocked(id: string, fromStep: number, now: number, role: 'local' | 'server' = 'local'): void {
    if (role === 'local') this.#stmt.insertTruncation.run(id, fromStep, now);
    const series = this.#stmt.seriesOfExperiment.all(id) as { id: number; kind: SeriesKind }[];
    for (const { id: seriesId, kind } of series) {
      if (kind === 'metric') this.#truncateMetric(seriesId, fromStep);
      else {
        (kind === 'image' ? this.#stmt.deleteImagesFrom : this.#stmt.deletePlotsFrom).run(seriesId, fromStep);
        const s = (kind === 'image' ? this.#stmt.imageStats : this.#stmt.plotStats).get(seriesId) as {
          count: number;
          first: number | null;
          last: number | null;
          ts: number | null;
        };
        this.#stmt.setMediaStats.run(s.count, s.first, s.last, s.ts, seriesId);
      }
    }
    if (role === 'local') this.#stmt.deleteOrphanBlobs.run();
  }

  /** Drops the points with step >= fromStep and recomputes the series summary from what is left. */
  #truncateMetric(seriesId: number, fromStep: number): void {
    this.#stmt.deleteChunksFrom.run(seriesId, fromStep);
    const chunks = this.#stmt.readChunks.all(seriesId) as ChunkRow[];
    let count = 0;
    let min: number | null = null;
    let max: number | null = null;
    let lastValue: number | null = null;
    let lastTimestamp: number | null = null;
    let last: number | null = null;
    for (const chunk of chunks) {
      const encodings = unpackEncodings(chunk.encoding);
      let steps = decodeColumnToArray(encodings.steps, chunk.steps, chunk.count);
      let values = decodeColumnToArray(RAW, chunk.vals, chunk.count);
      let timestamps = decodeColumnToArray(encodings.timestamps, chunk.timestamps, chunk.count);
      if (chunk.last_step >= fromStep) {
        let keep = 0;
        while (keep < steps.length && steps[keep]! < fromStep) keep++;
        steps = steps.slice(0, keep);
        values = values.slice(0, keep);
        timestamps = timestamps.slice(0, keep);
        const encodedSteps = encodeColumn(steps);
        const encodedTimestamps = encodeColumn(timestamps);
        this.#stmt.rewriteChunk.run(
          steps[keep - 1],
          keep,
          packEncodings(encodedSteps.encoding, encodedTimestamps.encoding),
          encodedSteps.bytes,
          bytesOf(values),
          encodedTimestamps.bytes,
          chunk.id,
        );
      }
      const n = steps.length;
      if (n === 0) continue;
      count += n;
      const [lo, hi] = extremes(values);
      if (lo !== null) min = min === null ? lo : Math.min(min, lo);
      if (hi !== null) max = max === null ? hi : Math.max(max, hi);
      last = steps[n - 1]!;
      lastValue = values[n - 1]!;
      lastTimestamp = timestamps[n - 1]!;
    }
    this.#stmt.setMetricStats.run({
      id: seriesId,
      count,
      first: count > 0 ? chunks[0]!.first_step : null,
      last,
      lastTimestamp,
      lastValue: toStoredValue(lastValue),
      min,
      max,
    });
  }

  copyExperiment(sourceId: string, newId: string, nameFor: (attempt: number) => string, now: number): ExperimentRecord {
    return copyExperiment(this, sourceId, newId, nameFor, now);
  }

  studies(): SqliteStudyBackend {
    return (this.#studies ??= new SqliteStudyBackend(this));
  }

  sweeps(): SqliteSweepBackend {
    return (this.#sweeps ??= new SqliteSweepBackend(this));
  }

  models(): SqliteModelBackend {
    return (this.#models ??= new SqliteModelBackend(this));
  }

  runs(): SqliteRunBackend {
    return (this.#runs ??= new SqliteRunBackend(this));
  }

  env(): SqliteEnvBackend {
    return (this.#env ??= new SqliteEnvBackend(this));
  }

  artifacts(): SqliteArtifactBackend {
    return (this.#artifacts ??= new SqliteArtifactBackend(this));
  }

  artifactBlobs(): FileArtifactBlobs {
    return (this.#artifactBlobs ??= new FileArtifactBlobs(join(dirname(this.location), ARTIFACT_BLOB_FOLDER)));
  }

  writer(): WriterThread {
    // While the worker is not running yet, a caller that blocks for its batch writes it through this connection.
    this.#writer ??= new WriterThread(this.location, {
      write: (batch) => this.write(batch),
      // One WalSync for the connection's life: the folder is fsynced at its first sync only.
      sync: () => (this.#wal ??= new WalSync(this.location)).sync(),
    });
    return this.#writer;
  }

  /** Copies the WAL into the database file without blocking writers or readers. */
  checkpoint(): void {
    this.#db.pragma('wal_checkpoint(PASSIVE)');
  }

  write(batch: WriteBatch): void {
    this.#seriesCreatedInWrite = [];
    try {
      this.#writeTx(batch);
    } catch (cause) {
      // The transaction rolled back: forget series ids it created, they no longer exist.
      for (const key of this.#seriesCreatedInWrite) this.#seriesIds.delete(key);
      throw this.#storageError(`writing to ${this.location}`, cause);
    }
  }

  #seriesId(experimentId: string, name: string, kind: SeriesKind): number {
    // The kind is part of the key: a name cached for another kind goes to the table, which says it is taken.
    const key = `${experimentId}\u0000${name}\u0000${kind}`;
    let id = this.#seriesIds.get(key);
    if (id !== undefined) return id;
    this.#stmt.ensureSeries.run(experimentId, name, kind);
    const row = this.#stmt.seriesIdAndKind.get(experimentId, name) as { id: number; kind: SeriesKind };
    if (row.kind !== kind) {
      throw new LablogError('SERIES_KIND_MISMATCH', `series '${name}' is a ${row.kind} series, not a ${kind} series`, {
        key: name,
      });
    }
    id = row.id;
    this.#seriesIds.set(key, id);
    this.#seriesCreatedInWrite.push(key);
    return id;
  }

  /** @internal The connection, for the other SQLite modules of the store (server, publisher). */
  get database(): Database.Database {
    return this.#db;
  }

  /** @internal Runs fn (reads) outside a transaction, its failures as STORAGE_ERROR. */
  read<T>(what: string, fn: () => T): T {
    return this.#guard(what, fn);
  }

  /** @internal Runs fn in one IMMEDIATE transaction; series ids it creates are forgotten if it rolls back. */
  transaction<T>(what: string, fn: () => T): T {
    this.#seriesCreatedInWrite = [];
    try {
      return this.#db.transaction(fn).immediate();
    } catch (cause) {
      for (const key of this.#seriesCreatedInWrite) this.#seriesIds.delete(key);
      throw this.#storageError(what, cause);
    }
  }

  /** @internal The id of a series, created if new; SERIES_KIND_MISMATCH if the name holds another kind. */
  seriesIdUnlocked(experimentId: string, name: string, kind: SeriesKind): number {
    return this.#seriesId(experimentId, name, kind);
  }

  /** @internal Writes a batch's data (not its heartbeat) inside the caller's transaction. */
  applyUnlocked(batch: WriteBatch): void {
    const s = this.#stmt;
    const experimentId = batch.experimentId;
    for (const param of batch.params) s.upsertParam.run(experimentId, param.key, param.type, param.value);
    if (batch.progress) s.setProgress.run(batch.progress.pct, batch.progress.phase, batch.progress.at, experimentId);
    for (const d of batch.datasets ?? []) {
      s.upsertDataset.run(experimentId, d.role, d.name, d.id, d.uri, d.digest, d.rows, d.loggedAt);
    }
    for (const chunk of batch.metrics) {
      const n = chunk.steps.length;
      if (n === 0) continue;
      const id = this.#seriesId(experimentId, chunk.name, 'metric');
      const first = chunk.steps[0]!;
      const last = chunk.steps[n - 1]!;
      const steps = encodeColumn(chunk.steps);
      const timestamps = encodeColumn(chunk.timestamps);
      s.insertChunk.run(
        id,
        first,
        last,
        n,
        packEncodings(steps.encoding, timestamps.encoding),
        steps.bytes,
        bytesOf(chunk.values),
        timestamps.bytes,
      );
      const [min, max] = extremes(chunk.values);
      s.addMetricStats.run({
        id,
        n,
        first,
        last,
        lastTimestamp: chunk.timestamps[n - 1]!,
        lastValue: toStoredValue(chunk.values[n - 1]!),
        min,
        max,
      });
    }
    for (const image of batch.images) {
      const id = this.#seriesId(experimentId, image.name, 'image');
      const hash = sha256(image.png);
      s.insertBlob.run(hash, image.png.length, image.png);
      s.insertImage.run(id, image.step, image.timestamp, image.caption, hash, image.width, image.height);
      s.addMediaStats.run({ id, step: image.step, timestamp: image.timestamp });
    }
    for (const plot of batch.plots) {
      const id = this.#seriesId(experimentId, plot.name, 'plot');
      s.insertPlot.run(id, plot.step, plot.timestamp, plot.caption, plot.figure);
      s.addMediaStats.run({ id, step: plot.step, timestamp: plot.timestamp });
    }
    for (const table of batch.tables) {
      const hash = sha256(table.ipc);
      s.insertBlob.run(hash, table.ipc.length, table.ipc);
      s.upsertTable.run(experimentId, table.name, table.rows, table.columns, TABLE_FORMAT, hash, table.loggedAt);
    }
  }

  readDatasets(experimentId: string): DatasetRecord[] {
    return this.#guard('reading datasets', () => (this.#stmt.readDatasets.all(experimentId) as DatasetRow[]).map(datasetRecord));
  }

  readParams(experimentId: string): ParamRecord[] {
    return this.#guard(
      'reading params',
      () => this.#stmt.readParams.all(experimentId) as { key: string; type: ParamType; value: string }[],
    );
  }

  readSeries(experimentId: string, limit?: number): SeriesRecord[] {
    return this.#guard('reading series', () =>
      (this.#stmt.readSeries.all(experimentId, limit ?? -1) as Record<string, unknown>[]).map(seriesRecord),
    );
  }

  #existingSeriesId(experimentId: string, name: string, kind: SeriesKind): number | undefined {
    const row = this.#stmt.seriesIdAndKind.get(experimentId, name) as { id: number; kind: SeriesKind } | undefined;
    return row && row.kind === kind ? row.id : undefined;
  }

  readMetric(experimentId: string, name: string): MetricData | undefined {
    return this.#guard('reading a metric', () => {
      const id = this.#existingSeriesId(experimentId, name, 'metric');
      if (id === undefined) return undefined;
      return decodeChunks(this.#stmt.readChunks.all(id) as ChunkRow[]);
    });
  }

  listImages(experimentId: string, name: string, page?: { fromStep: number; limit: number }): ImageMeta[] {
    return this.#guard('listing images', () => {
      const id = this.#existingSeriesId(experimentId, name, 'image');
      return id === undefined ? [] : (this.#stmt.listImages.all(id, page?.fromStep ?? -Infinity, page?.limit ?? -1) as ImageMeta[]);
    });
  }

  readImage(experimentId: string, name: string, step: number): Buffer | undefined {
    return this.#guard('reading an image', () => {
      const id = this.#existingSeriesId(experimentId, name, 'image');
      return id === undefined ? undefined : (this.#stmt.readImage.get(id, step) as Buffer | undefined);
    });
  }

  readPlots(experimentId: string, name: string): PlotPoint[] {
    return this.#guard('reading plots', () => {
      const id = this.#existingSeriesId(experimentId, name, 'plot');
      if (id === undefined) return [];
      return (this.#stmt.readPlots.all(id) as { step: number; timestamp: number; caption: string | null; figure: string }[]).map((row) => ({
        ...row,
        figure: JSON.parse(row.figure) as unknown,
      }));
    });
  }

  listTables(experimentId: string, limit?: number): TableSummary[] {
    return this.#guard('listing tables', () =>
      (this.#stmt.listTables.all(experimentId, limit ?? -1) as { name: string; rows: number; columns: number; logged_at: number }[]).map(
        (row) => ({
          name: row.name,
          rows: row.rows,
          columns: row.columns,
          loggedAt: row.logged_at,
        }),
      ),
    );
  }

  readTable(experimentId: string, name: string): TableRecord | undefined {
    return this.#guard('reading a table', () => {
      const row = this.#stmt.readTable.get(experimentId, name) as
        { name: string; rows: number; columns: number; logged_at: number; ipc: Buffer } | undefined;
      return row && { name: row.name, rows: row.rows, columns: row.columns, loggedAt: row.logged_at, ipc: row.ipc };
    });
  }

  close(): void {
    this.#writer?.close();
    this.#writer = undefined;
    this.#wal?.close();
    this.#wal = undefined;
    if (this.#db.open) this.#db.close();
  }
}

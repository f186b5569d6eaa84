// SQLite server store: the ServerBackend over a lablog SQLite file (the `lablog server` default).

import { LablogError } from '../../model/errors.js';
import { datasetKey, tooManyDatasets, type DatasetRecord } from '../../model/dataset.js';
import type { Limits } from '../../model/limits.js';
import type { ParamRecord } from '../../model/experiment.js';
import type { MetricData, PlotPoint, SeriesKind, SeriesRecord } from '../../model/series.js';
import type { TableRecord, TableSummary } from '../../model/table.js';
import { assertTruncateStep, planIngest, type IngestPlan, type StoredState } from '../ingest-plan.js';
import { keyRecord, sessionAndKey, type KeyRow as StoredKeyRow, type SessionRow } from '../key-records.js';
import { assertBlobQuota, blobCheck, blobCheckColumns, type BlobCheckRow } from '../blob-records.js';
import { decodeXChunks, type EncodedChunk, type EncodedXChunk } from '../column-codec.js';
import { assembleMetricPage, type MetricPage } from '../metric-page.js';
import type {
  ApiKeyListing,
  ApiKeyRecord,
  BlobCheck,
  BlobCollection,
  ExperimentSummary,
  ImageMeta,
  PlotMeta,
  IngestBatch,
  IngestResult,
  OwnedBlob,
  ProjectCount,
  PublishedExperiment,
  RemoteExperimentQuery,
  RemoteExperimentRecord,
  SeriesState,
  ServerBackend,
  UiSessionRecord,
} from '../server-backend.js';
import { SqliteBackend, experimentWhere, seriesRecord, toRecord as experimentRecord, type ExperimentRow } from './sqlite-backend.js';
import { copyExperiment } from './sqlite-experiment-copy.js';
import type { ServerStudyBackend } from '../study-store.js';
import type { ServerEnvStore } from '../env-store.js';
import type { ServerRunStore } from '../run-store.js';
import type { ServerSweepStore } from '../sweep-store.js';
import type { ServerArtifactBlobOwners, ServerArtifactStore } from '../artifact-store.js';
import type { ServerModelStore } from '../artifact-store.js';
import type { ServerRunIngest } from '../run-ingest.js';
import { SqliteRunIngest } from './sqlite-run-ingest.js';
import { dedupedName } from '../../model/experiment-names.js';

const TABLE_FORMAT = 'arrow-ipc-stream';
const SORT_COLUMNS: Record<string, string> = { created_at: 'created_at', updated_at: 'updated_at', name: 'name', status: 'status' };

interface Row extends ExperimentRow {
  version: string | null;
  published_at: number | null;
}

/** The key columns of an experiment_datasets row. */
type DatasetKeyRow = { role: string; name: string };

const KEY_COLUMNS = 'k.id, k.hash, k.projects, k.name, k.created_at, k.last_used_at, k.revoked_at';

type KeyRow = StoredKeyRow<string>;
const projectsOf = (row: KeyRow): string[] => JSON.parse(row.projects) as string[];

/** The two lookups made on every authenticated request, prepared once. */
function prepareKeyStatements(db: SqliteBackend['database']) {
  return {
    findKey: db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys k WHERE k.hash = ? AND k.revoked_at IS NULL`),
    findSession: db.prepare(
      `SELECT ${KEY_COLUMNS}, s.hash AS session_hash, s.created_at AS session_created_at, s.expires_at, s.last_seen_at
       FROM ui_sessions s JOIN api_keys k ON k.id = s.key_id WHERE s.hash = ? AND k.revoked_at IS NULL`,
    ),
  };
}

function toRecord(row: Row): RemoteExperimentRecord {
  return { ...experimentRecord(row), version: row.version, publishedAt: row.published_at ?? row.updated_at };
}

export class SqliteServerBackend implements ServerBackend {
  readonly location: string;
  readonly #store: SqliteBackend;
  #studies: ServerStudyBackend | undefined;
  #env: ServerEnvStore | undefined;
  #keyStatements: ReturnType<typeof prepareKeyStatements> | undefined;
  #runs: ServerRunStore | undefined;
  #runIngest: ServerRunIngest | undefined;
  #sweeps: ServerSweepStore | undefined;
  #artifacts: ServerArtifactStore | undefined;
  #artifactOwners: ServerArtifactBlobOwners | undefined;
  #models: ServerModelStore | undefined;

  constructor(file: string) {
    this.#store = new SqliteBackend(file);
    // No writer thread checkpoints for the server: SQLite's automatic checkpoint does.
    this.#store.database.pragma('wal_autocheckpoint = 1000');
    // Reads of large metric chunks (charts over many experiments) copy from a memory map, not through
    // read() calls: 3× faster on a 100 × 100k-point compare. Up to 1 GiB of the file is mapped.
    this.#store.database.pragma('mmap_size = 1073741824');
    this.location = file;
  }

  get #db() {
    return this.#store.database;
  }

  async upsertExperiment(e: PublishedExperiment, limits: Limits, now: number): Promise<RemoteExperimentRecord> {
    return this.#store.transaction('publishing an experiment', () => {
      const db = this.#db;
      const existing = db.prepare('SELECT id FROM experiments WHERE id = ?').get(e.id);
      const tags = JSON.stringify(e.tags);
      if (existing === undefined) {
        let name = e.name;
        const taken = db.prepare('SELECT 1 FROM experiments WHERE project = ? AND name = ?').pluck();
        for (let attempt = 2; taken.get(e.project, name) !== undefined; attempt++)
          name = dedupedName(e.name, attempt, limits.maxNameLength);
        db.prepare(
          `INSERT INTO experiments (id, project, name, description, tags, status, created_at, updated_at, ended_at, heartbeat_at,
             pid, hostname, version, published_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
        ).run(e.id, e.project, name, e.description, tags, e.status, e.createdAt, now, e.endedAt, e.heartbeatAt, e.hostname, e.version, now);
      } else {
        db.prepare(
          `UPDATE experiments SET description = ?, tags = ?, status = ?, ended_at = ?, heartbeat_at = ?, hostname = ?,
             version = coalesce(?, version), updated_at = ?, published_at = ? WHERE id = ?`,
        ).run(e.description, tags, e.status, e.endedAt, e.heartbeatAt, e.hostname, e.version, now, now, e.id);
        db.prepare('DELETE FROM experiment_tags WHERE experiment_id = ?').run(e.id);
      }
      const insertTag = db.prepare('INSERT OR IGNORE INTO experiment_tags (experiment_id, tag) VALUES (?, ?)');
      for (const tag of e.tags) insertTag.run(e.id, tag);
      const upsertParam = db.prepare(
        `INSERT INTO params (experiment_id, key, type, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (experiment_id, key) DO UPDATE SET type = excluded.type, value = excluded.value`,
      );
      for (const p of e.params) upsertParam.run(e.id, p.key, p.type, p.value);
      if (e.datasets && e.datasets.length > 0) {
        const stored = db.prepare('SELECT role, name FROM experiment_datasets WHERE experiment_id = ?').all(e.id) as DatasetKeyRow[];
        const count = tooManyDatasets(e.id, new Set(stored.map(datasetKey)), e.datasets);
        if (count instanceof LablogError) throw count; // the transaction rolls back: nothing of this publication stays
      }
      this.#store.applyUnlocked({
        experimentId: e.id,
        params: [],
        metrics: [],
        images: [],
        plots: [],
        tables: [],
        heartbeatAt: now,
        ...(e.progress ? { progress: e.progress } : {}),
        ...(e.datasets ? { datasets: e.datasets } : {}),
      });
      const params = db.prepare('SELECT count(*) FROM params WHERE experiment_id = ?').pluck().get(e.id) as number;
      if (params > limits.maxParams) {
        throw new LablogError(
          'LIMIT_EXCEEDED',
          `experiment ${e.id} would have ${params} params; the limit is ${limits.maxParams} (maxParams)`,
          {
            limit: limits.maxParams,
            actual: params,
          },
        );
      }
      return toRecord(db.prepare('SELECT * FROM experiments WHERE id = ?').get(e.id) as Row);
    });
  }

  async ingest(batch: IngestBatch, limits: Limits, now: number): Promise<IngestResult> {
    return this.#store.transaction('ingesting points', () => {
      const db = this.#db;
      const id = batch.experimentId;
      if (db.prepare('SELECT 1 FROM experiments WHERE id = ?').get(id) === undefined) {
        throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id ${id}; publish the experiment first`, { id });
      }
      const series = new Map<string, SeriesState>();
      let metricCount = 0;
      for (const row of db.prepare('SELECT name, kind, count, last_step FROM series WHERE experiment_id = ?').all(id) as {
        name: string;
        kind: SeriesKind;
        count: number;
        last_step: number | null;
      }[]) {
        series.set(row.name, { name: row.name, kind: row.kind, count: row.count, lastStep: row.last_step });
        if (row.kind === 'metric') metricCount += row.count;
      }
      const tables = new Map(
        (db.prepare('SELECT name, logged_at FROM tables WHERE experiment_id = ?').all(id) as { name: string; logged_at: number }[]).map(
          (t) => [t.name, t.logged_at] as const,
        ),
      );
      const stored: StoredState = { series, metricCount, tables };
      const plan = planIngest(batch, stored, limits);
      this.#referenceBlobs(id, plan, now);
      this.#store.applyUnlocked({
        experimentId: id,
        params: [],
        metrics: plan.metrics,
        images: [],
        plots: plan.plots,
        tables: [],
        heartbeatAt: now,
      });
      if (plan.images.length > 0) {
        const insertImage = db.prepare(
          'INSERT INTO image_points (series_id, step, timestamp, caption, blob_hash, width, height) VALUES (?, ?, ?, ?, ?, ?, ?)',
        );
        const stats = db.prepare(
          'UPDATE series SET count = count + 1, first_step = coalesce(first_step, ?), last_step = ?, last_timestamp = ? WHERE id = ?',
        );
        for (const image of plan.images) {
          const seriesId = this.#store.seriesIdUnlocked(id, image.name, 'image');
          insertImage.run(seriesId, image.step, image.timestamp, image.caption, image.hash, image.width, image.height);
          stats.run(image.step, image.step, image.timestamp, seriesId);
        }
      }
      if (plan.tables.length > 0) {
        const upsertTable = db.prepare(
          `INSERT INTO tables (experiment_id, name, rows, columns, format, blob_hash, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (experiment_id, name) DO UPDATE SET rows = excluded.rows, columns = excluded.columns,
             format = excluded.format, blob_hash = excluded.blob_hash, logged_at = excluded.logged_at`,
        );
        for (const t of plan.tables) upsertTable.run(id, t.name, t.rows, t.columns, TABLE_FORMAT, t.hash, t.loggedAt);
      }
      db.prepare('UPDATE experiments SET published_at = ?, updated_at = ? WHERE id = ?').run(now, now, id);
      return plan.result;
    });
  }

  /**
   * Inside the ingest transaction: the blobs the plan names must still be stored (a collection may have run
   * since the route checked them; then nothing is stored), and become owned and referenced by the project.
   */
  #referenceBlobs(experimentId: string, plan: IngestPlan, now: number): void {
    const hashes = [...new Set([...plan.images.map((p) => p.hash), ...plan.tables.map((t) => t.hash)])];
    if (hashes.length === 0) return;
    const db = this.#db;
    const wanted = JSON.stringify(hashes);
    const present = new Set(
      db.prepare('SELECT hash FROM blobs WHERE hash IN (SELECT value FROM json_each(?))').pluck().all(wanted) as string[],
    );
    const missing = hashes.filter((hash) => !present.has(hash));
    if (missing.length > 0) {
      throw new LablogError(
        'INVALID_OPTION',
        `${missing.length} blob(s) named by the batch were not uploaded, e.g. ${missing[0]}; upload them first`,
        { missing },
      );
    }
    db.prepare(
      `INSERT INTO blob_owners (project, hash, touched_at, referenced_at)
       SELECT (SELECT project FROM experiments WHERE id = ?), value, ?, ? FROM json_each(?) WHERE true
       ON CONFLICT (project, hash) DO UPDATE SET touched_at = excluded.touched_at, referenced_at = excluded.referenced_at`,
    ).run(experimentId, now, now, wanted);
  }

  async truncate(experimentId: string, fromStep: number, now: number): Promise<void> {
    assertTruncateStep(fromStep);
    this.#store.transaction('truncating an experiment', () => {
      if (this.#db.prepare('SELECT 1 FROM experiments WHERE id = ?').get(experimentId) === undefined) {
        throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id ${experimentId}`, { id: experimentId });
      }
      this.#store.truncateUnlocked(experimentId, fromStep, now, 'server');
      this.#db.prepare('UPDATE experiments SET published_at = ?, updated_at = ? WHERE id = ?').run(now, now, experimentId);
    });
  }

  async missingBlobs(hashes: readonly string[]): Promise<string[]> {
    const has = this.#db.prepare('SELECT 1 FROM blobs WHERE hash = ?').pluck();
    return [...new Set(hashes)].filter((h) => has.get(h) === undefined);
  }

  async putBlob(hash: string, bytes: Buffer): Promise<void> {
    this.#store.transaction('storing a blob', () => {
      this.#db.prepare('INSERT OR IGNORE INTO blobs (hash, size, bytes) VALUES (?, ?, ?)').run(hash, bytes.length, bytes);
    });
  }

  async readBlob(hash: string): Promise<Buffer | undefined> {
    return this.#db.prepare('SELECT bytes FROM blobs WHERE hash = ?').pluck().get(hash) as Buffer | undefined;
  }

  async uploadBlob(project: string, hash: string, bytes: Buffer, quota: number, now: number): Promise<void> {
    this.#store.transaction('storing a blob', () => {
      const db = this.#db;
      const touched = db.prepare('UPDATE blob_owners SET touched_at = ? WHERE project = ? AND hash = ?').run(now, project, hash);
      if (touched.changes > 0) return;
      const pending = db
        .prepare(
          'SELECT coalesce(sum(b.size), 0) FROM blob_owners o JOIN blobs b ON b.hash = o.hash WHERE o.project = ? AND o.referenced_at IS NULL',
        )
        .pluck()
        .get(project) as number;
      assertBlobQuota(project, pending + bytes.length, quota);
      db.prepare('INSERT OR IGNORE INTO blobs (hash, size, bytes) VALUES (?, ?, ?)').run(hash, bytes.length, bytes);
      db.prepare('INSERT INTO blob_owners (project, hash, touched_at, referenced_at) VALUES (?, ?, ?, NULL)').run(project, hash, now);
    });
  }

  async ownedBlobs(project: string, hashes: readonly string[], now: number): Promise<Map<string, OwnedBlob>> {
    const out = new Map<string, OwnedBlob>();
    if (hashes.length === 0) return out;
    const wanted = JSON.stringify([...new Set(hashes)]);
    this.#store.transaction('checking blobs', () => {
      const db = this.#db;
      db.prepare('UPDATE blob_owners SET touched_at = ? WHERE project = ? AND hash IN (SELECT value FROM json_each(?))').run(
        now,
        project,
        wanted,
      );
      const rows = db
        .prepare(
          `SELECT b.hash, b.size, c.kind, c.width, c.height, c.rows, c.columns, c.invalid
           FROM blob_owners o JOIN blobs b ON b.hash = o.hash LEFT JOIN blob_checks c ON c.hash = o.hash
           WHERE o.project = ? AND o.hash IN (SELECT value FROM json_each(?))`,
        )
        .all(project, wanted) as (BlobCheckRow & { hash: string; size: number })[];
      for (const row of rows) {
        const owned = out.get(row.hash) ?? { hash: row.hash, size: row.size, checks: [] };
        out.set(row.hash, owned);
        if (row.kind !== null) (owned.checks as BlobCheck[]).push(blobCheck(row));
      }
    });
    return out;
  }

  async saveBlobChecks(checks: readonly { readonly hash: string; readonly check: BlobCheck }[]): Promise<void> {
    if (checks.length === 0) return;
    this.#store.transaction('remembering blob checks', () => {
      const insert = this.#db.prepare(
        'INSERT OR IGNORE INTO blob_checks (hash, kind, width, height, rows, columns, invalid) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const { hash, check } of checks) insert.run(hash, ...blobCheckColumns(check));
    });
  }

  async collectBlobs(graceMs: number, now: number, maxOwners: number): Promise<BlobCollection> {
    return this.#store.transaction('collecting unreferenced blobs', () => {
      const db = this.#db;
      const dropped = db
        .prepare(
          `DELETE FROM blob_owners WHERE (project, hash) IN (
             SELECT o.project, o.hash FROM blob_owners o WHERE o.touched_at < ?
               AND NOT EXISTS (SELECT 1 FROM image_points p JOIN series s ON s.id = p.series_id JOIN experiments e ON e.id = s.experiment_id
                               WHERE p.blob_hash = o.hash AND e.project = o.project)
               AND NOT EXISTS (SELECT 1 FROM tables t JOIN experiments e ON e.id = t.experiment_id WHERE t.blob_hash = o.hash AND e.project = o.project)
             LIMIT ?)
           RETURNING hash`,
        )
        .pluck()
        .all(now - graceMs, maxOwners) as string[];
      if (dropped.length === 0) return { owners: 0, blobs: 0, bytes: 0 };
      const candidates = JSON.stringify([...new Set(dropped)]);
      const gone = db
        .prepare(
          `DELETE FROM blobs WHERE hash IN (SELECT value FROM json_each(?))
             AND NOT EXISTS (SELECT 1 FROM blob_owners o WHERE o.hash = blobs.hash)
             AND NOT EXISTS (SELECT 1 FROM image_points p WHERE p.blob_hash = blobs.hash)
             AND NOT EXISTS (SELECT 1 FROM tables t WHERE t.blob_hash = blobs.hash)
           RETURNING size`,
        )
        .pluck()
        .all(candidates) as number[];
      db.prepare('DELETE FROM blob_checks WHERE hash IN (SELECT value FROM json_each(?)) AND hash NOT IN (SELECT hash FROM blobs)').run(
        candidates,
      );
      return { owners: dropped.length, blobs: gone.length, bytes: gone.reduce((sum, size) => sum + size, 0) };
    });
  }

  async findExperiments(name: string, project?: string): Promise<RemoteExperimentRecord[]> {
    const rows = (
      project === undefined
        ? this.#db.prepare('SELECT * FROM experiments WHERE name = ? ORDER BY created_at').all(name)
        : this.#db.prepare('SELECT * FROM experiments WHERE name = ? AND project = ? ORDER BY created_at').all(name, project)
    ) as Row[];
    return rows.map(toRecord);
  }

  async getExperiment(id: string): Promise<RemoteExperimentRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as Row | undefined;
    return row && toRecord(row);
  }

  async listExperiments(query: RemoteExperimentQuery): Promise<RemoteExperimentRecord[]> {
    const { sql, args } = experimentWhere(query);
    const column = SORT_COLUMNS[query.sort ?? 'created_at'] ?? 'created_at';
    const order = query.order === 'asc' ? 'ASC' : 'DESC';
    args.push(query.limit ?? -1, query.offset ?? 0);
    const rows = this.#db
      .prepare(`SELECT * FROM experiments ${sql} ORDER BY ${column} ${order}, id ${order} LIMIT ? OFFSET ?`)
      .all(...args) as Row[];
    return rows.map(toRecord);
  }

  async countExperiments(query: RemoteExperimentQuery): Promise<number> {
    const { sql, args } = experimentWhere(query);
    return this.#db
      .prepare(`SELECT count(*) FROM experiments ${sql}`)
      .pluck()
      .get(...args) as number;
  }

  async readParams(experimentId: string): Promise<ParamRecord[]> {
    return this.#store.readParams(experimentId);
  }

  async readDatasets(experimentId: string): Promise<DatasetRecord[]> {
    return this.#store.readDatasets(experimentId);
  }

  async readSeries(experimentId: string, limit?: number): Promise<SeriesRecord[]> {
    return this.#store.readSeries(experimentId, limit);
  }

  async readMetric(experimentId: string, name: string): Promise<MetricData | undefined> {
    return this.#store.readMetric(experimentId, name);
  }

  async readMetricXs(experimentId: string, name: string, x: 'steps' | 'timestamps', steps?: { from: number; to: number }) {
    const id = this.#db
      .prepare("SELECT id FROM series WHERE experiment_id = ? AND name = ? AND kind = 'metric'")
      .pluck()
      .get(experimentId, name) as number | undefined;
    if (id === undefined) return undefined;
    const column = x === 'steps' ? 'steps' : 'timestamps';
    const chunks = this.#db
      .prepare(
        `SELECT count, encoding, ${column} AS xs, vals FROM metric_chunks WHERE series_id = ? AND last_step >= ? AND first_step <= ? ORDER BY first_step`,
      )
      .all(id, steps?.from ?? -Infinity, steps?.to ?? Infinity) as EncodedXChunk[];
    return decodeXChunks(chunks, x);
  }

  async readSummaries(experimentIds: readonly string[], seriesLimit?: number): Promise<Map<string, ExperimentSummary>> {
    const out = new Map<string, ExperimentSummary>();
    if (experimentIds.length === 0) return out;
    const ids = JSON.stringify(experimentIds);
    const db = this.#db;
    const read = db.transaction(() => {
      const experiments = db
        .prepare(
          'SELECT e.id, m.study_id FROM experiments e LEFT JOIN study_experiments m ON m.experiment_id = e.id WHERE e.id IN (SELECT value FROM json_each(?))',
        )
        .all(ids) as { id: string; study_id: string | null }[];
      for (const e of experiments) out.set(e.id, { params: [], series: [], studyId: e.study_id });
      const params = db
        .prepare(
          'SELECT experiment_id, key, type, value FROM params WHERE experiment_id IN (SELECT value FROM json_each(?)) ORDER BY experiment_id, key',
        )
        .all(ids) as (ParamRecord & { experiment_id: string })[];
      for (const { experiment_id, ...param } of params) out.get(experiment_id)?.params.push(param);
      const series = db
        .prepare(
          `SELECT * FROM (
             SELECT experiment_id, name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value,
                    row_number() OVER (PARTITION BY experiment_id ORDER BY name) AS n
             FROM series WHERE experiment_id IN (SELECT value FROM json_each(?))
           ) WHERE n <= ? ORDER BY experiment_id, name`,
        )
        .all(ids, seriesLimit ?? Number.MAX_SAFE_INTEGER) as Record<string, unknown>[];
      for (const row of series) out.get(row['experiment_id'] as string)?.series.push(seriesRecord(row));
    });
    read();
    return out;
  }

  async listProjects(projects?: readonly string[]): Promise<ProjectCount[]> {
    const rows = this.#db
      .prepare(
        `SELECT name, sum(experiments) AS experiments, sum(running) AS running FROM (
           SELECT project AS name, count(*) AS experiments, sum(status = 'running') AS running FROM experiments GROUP BY project
           UNION ALL SELECT DISTINCT project, 0, 0 FROM studies
         ) GROUP BY name ORDER BY name`,
      )
      .all() as ProjectCount[];
    return projects === undefined ? rows : rows.filter((row) => projects.includes(row.name));
  }

  async listImages(experimentId: string, name: string, page?: { fromStep: number; limit: number }): Promise<ImageMeta[]> {
    return this.#store.listImages(experimentId, name, page);
  }

  async readImage(experimentId: string, name: string, step: number): Promise<Buffer | undefined> {
    return this.#store.readImage(experimentId, name, step);
  }

  async readPlots(experimentId: string, name: string): Promise<PlotPoint[]> {
    return this.#store.readPlots(experimentId, name);
  }

  async listTables(experimentId: string, limit?: number): Promise<TableSummary[]> {
    return this.#store.listTables(experimentId, limit);
  }

  async readTable(experimentId: string, name: string): Promise<TableRecord | undefined> {
    return this.#store.readTable(experimentId, name);
  }

  async readMetricPage(experimentId: string, name: string, fromStep: number, limit: number): Promise<MetricPage | undefined> {
    const id = this.#db
      .prepare("SELECT id FROM series WHERE experiment_id = ? AND name = ? AND kind = 'metric'")
      .pluck()
      .get(experimentId, name) as number | undefined;
    if (id === undefined) return undefined;
    const chunks = this.#db.prepare(
      'SELECT count, encoding, steps, vals, timestamps FROM metric_chunks WHERE series_id = ? AND last_step >= ? AND first_step > ? ORDER BY first_step LIMIT ?',
    );
    return assembleMetricPage(fromStep, limit, (after, batch) => chunks.all(id, fromStep, after, batch) as EncodedChunk[]);
  }

  async listPlots(experimentId: string, name: string, fromStep: number, limit: number): Promise<PlotMeta[]> {
    return this.#db
      .prepare(
        `SELECT p.step, p.timestamp, p.caption, length(CAST(p.figure AS BLOB)) AS bytes
         FROM plot_points p JOIN series s ON s.id = p.series_id
         WHERE s.experiment_id = ? AND s.name = ? AND s.kind = 'plot' AND p.step >= ? ORDER BY p.step LIMIT ?`,
      )
      .all(experimentId, name, fromStep, limit) as PlotMeta[];
  }

  async readPlotFigures(experimentId: string, name: string, fromStep: number, toStep: number): Promise<{ step: number; figure: string }[]> {
    return this.#db
      .prepare(
        `SELECT p.step, p.figure FROM plot_points p JOIN series s ON s.id = p.series_id
         WHERE s.experiment_id = ? AND s.name = ? AND s.kind = 'plot' AND p.step >= ? AND p.step <= ? ORDER BY p.step`,
      )
      .all(experimentId, name, fromStep, toStep) as { step: number; figure: string }[];
  }

  async copyExperiment(
    sourceId: string,
    newId: string,
    nameFor: (attempt: number) => string,
    now: number,
  ): Promise<RemoteExperimentRecord> {
    copyExperiment(this.#store, sourceId, newId, nameFor, now);
    this.#db.prepare('UPDATE experiments SET published_at = ? WHERE id = ?').run(now, newId);
    return (await this.getExperiment(newId))!;
  }

  studies(): ServerStudyBackend {
    const studies = this.#store.studies();
    return (this.#studies ??= {
      createStudy: async (record) => studies.createStudy(record),
      getStudy: async (id) => studies.getStudy(id),
      findStudies: async (name, project) => studies.findStudies(name, project),
      listStudies: async (query) => studies.listStudies(query),
      countStudies: async (query) => studies.countStudies(query),
      updateStudy: async (id, patch, now) => studies.updateStudy(id, patch, now),
      deleteStudy: async (id) => studies.deleteStudy(id),
      addMember: async (studyId, member, max) => studies.addMember(studyId, member, max),
      members: async (studyId) => studies.members(studyId),
      studyOf: async (experimentId) => studies.studyOf(experimentId),
      dropArtifacts: async (ids) => studies.dropArtifactsKeepingBlobs(ids),
    });
  }

  env(): ServerEnvStore {
    const env = this.#store.env();
    return (this.#env ??= {
      setVar: async (entry, maxPerScope) => env.setVar(entry, maxPerScope),
      getVar: async (scope, name) => env.getVar(scope, name),
      listVars: async (scope) => env.listVars(scope),
      deleteVar: async (scope, name) => env.deleteVar(scope, name),
    });
  }

  /** The store's own runs (a local store served by `lablog ui` shows its launched runs), asynchronous. */
  runs(): ServerRunStore {
    const runs = this.#store.runs();
    return (this.#runs ??= {
      createRun: async (run) => runs.createRun(run),
      getRun: async (id) => runs.getRun(id),
      listRuns: async (query) => runs.listRuns(query),
      startAttempt: async (id, attempt, pid, now) => runs.startAttempt(id, attempt, pid, now),
      endAttempt: async (id, outcome, final) => runs.endAttempt(id, outcome, final),
      transition: async (id, status, now) => runs.transition(id, status, now),
      attempts: async (id) => runs.attempts(id),
      transitions: async (id) => runs.transitions(id),
      requestCancel: async (id, now) => runs.requestCancel(id, now),
      appendLogs: async (id, lines, capBytes) => runs.appendLogs(id, lines, capBytes),
      readLogs: async (id, query) => runs.readLogs(id, query),
      attachExperiment: async (id, tags, now) => runs.attachExperiment(id, tags, now),
    });
  }

  /** The store's sweeps, asynchronous: each call is one SQLite transaction, so an ask is atomic across server processes on the file. */
  sweeps(): ServerSweepStore {
    const sweeps = this.#store.sweeps();
    return (this.#sweeps ??= {
      createSweep: async (study, sweep) => sweeps.createSweep(study, sweep),
      getSweep: async (id) => sweeps.getSweep(id),
      listSweeps: async (project) => sweeps.listSweeps(project),
      setSweepStatus: async (id, status, now) => sweeps.setSweepStatus(id, status, now),
      trials: async (sweepId) => sweeps.trials(sweepId),
      askTrial: async (sweepId, worker, propose, now, token) => sweeps.askTrial(sweepId, worker, propose, now, token),
      setTrialExperiment: async (sweepId, number, experimentId) => sweeps.setTrialExperiment(sweepId, number, experimentId),
      reportTrial: async (sweepId, number, step, value, now) => sweeps.reportTrial(sweepId, number, step, value, now),
      heartbeat: async (sweepId, number, now) => sweeps.heartbeat(sweepId, number, now),
      finishTrial: async (sweepId, number, outcome, now) => sweeps.finishTrial(sweepId, number, outcome, now),
      requeueTrial: async (sweepId, number, now) => sweeps.requeueTrial(sweepId, number, now),
    });
  }

  /** The store's artifacts, asynchronous. */
  artifacts(): ServerArtifactStore {
    const artifacts = this.#store.artifacts();
    return (this.#artifacts ??= {
      addArtifact: async (record) => artifacts.addArtifact(record),
      listArtifacts: async (experimentId) => artifacts.listArtifacts(experimentId),
      getArtifact: async (experimentId, name, step) => artifacts.getArtifact(experimentId, name, step),
      getArtifactById: async (id) => artifacts.getArtifactById(id),
      referencedBlobs: async () => artifacts.referencedBlobs(),
    });
  }

  artifactOwners(): ServerArtifactBlobOwners {
    return (this.#artifactOwners ??= {
      ownBlob: async (project, sha256, size, now) => {
        this.#store.transaction('recording a blob upload', () => {
          this.#db
            .prepare(
              `INSERT INTO artifact_blob_owners (project, sha256, size, created_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (project, sha256) DO NOTHING`,
            )
            .run(project, sha256, size, now);
        });
      },
      ownsBlob: async (project, sha256) =>
        this.#db
          .prepare(
            `SELECT 1 FROM artifact_blob_owners WHERE project = ? AND sha256 = ?
             UNION ALL
             SELECT 1 FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id JOIN experiments e ON e.id = a.experiment_id
               WHERE f.sha256 = ? AND e.project = ?
             LIMIT 1`,
          )
          .get(project, sha256, sha256, project) !== undefined,
    });
  }

  /** The store's registered models, asynchronous: each registration is one IMMEDIATE SQLite transaction, so numbers are atomic across server processes on the file. */
  models(): ServerModelStore {
    const models = this.#store.models();
    return (this.#models ??= {
      registerVersion: async (version) => models.registerVersion(version),
      getModel: async (project, name) => models.getModel(project, name),
      listModels: async (project) => models.listModels(project),
      listVersions: async (project, name) => models.listVersions(project, name),
      getVersion: async (project, name, version) => models.getVersion(project, name, version),
      setAlias: async (project, name, alias, version, now) => models.setAlias(project, name, alias, version, now),
      aliasMoves: async (project, name) => models.aliasMoves(project, name),
      updateModel: async (project, name, patch, now) => models.updateModel(project, name, patch, now),
    });
  }

  runIngest(): ServerRunIngest {
    const ingest = new SqliteRunIngest(this.#store);
    return (this.#runIngest ??= {
      putRun: async (id, snapshot, now) => ingest.putRun(id, snapshot, now),
      ingestLogs: async (id, logs, now) => ingest.ingestLogs(id, logs, now),
    });
  }

  async createKey(key: ApiKeyRecord): Promise<void> {
    this.#store.transaction('creating an API key', () => {
      this.#db
        .prepare('INSERT INTO api_keys (id, hash, projects, name, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(key.id, key.hash, JSON.stringify(key.projects), key.name, key.createdAt);
    });
  }

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = (this.#keyStatements ??= prepareKeyStatements(this.#db)).findKey.get(hash) as KeyRow | undefined;
    return row && keyRecord(row, projectsOf(row));
  }

  async listKeys(includeRevoked: boolean): Promise<ApiKeyListing[]> {
    const rows = this.#db
      .prepare(
        `SELECT id, projects, name, created_at, last_used_at, revoked_at FROM api_keys ${includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY created_at, id`,
      )
      .all() as Omit<KeyRow, 'hash'>[];
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      projects: JSON.parse(row.projects) as string[],
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      revokedAt: row.revoked_at,
    }));
  }

  async revokeKey(id: string, now: number): Promise<boolean> {
    return this.#store.transaction('revoking an API key', () => {
      const { changes } = this.#db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id);
      this.#db.prepare('DELETE FROM ui_sessions WHERE key_id = ?').run(id);
      return changes > 0;
    });
  }

  async touchKey(id: string, now: number): Promise<void> {
    this.#store.transaction('recording the use of an API key', () => {
      this.#db
        .prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)')
        .run(now, id, now);
    });
  }

  async createSession(session: UiSessionRecord, maxPerKey: number): Promise<void> {
    this.#store.transaction('creating a UI session', () => {
      this.#db
        .prepare('INSERT INTO ui_sessions (hash, key_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)')
        .run(session.hash, session.keyId, session.createdAt, session.expiresAt, session.lastSeenAt);
      this.#db
        .prepare(
          'DELETE FROM ui_sessions WHERE key_id = ? AND id NOT IN (SELECT id FROM ui_sessions WHERE key_id = ? ORDER BY id DESC LIMIT ?)',
        )
        .run(session.keyId, session.keyId, maxPerKey);
    });
  }

  async findSession(hash: string): Promise<{ session: UiSessionRecord; key: ApiKeyRecord } | undefined> {
    const row = (this.#keyStatements ??= prepareKeyStatements(this.#db)).findSession.get(hash) as (KeyRow & SessionRow) | undefined;
    return row && sessionAndKey(row, projectsOf(row));
  }

  async touchSession(hash: string, now: number): Promise<void> {
    this.#store.transaction('recording the use of a UI session', () => {
      this.#db.prepare('UPDATE ui_sessions SET last_seen_at = ? WHERE hash = ? AND last_seen_at < ?').run(now, hash, now);
    });
  }

  async deleteSession(hash: string): Promise<void> {
    this.#store.transaction('deleting a UI session', () => {
      this.#db.prepare('DELETE FROM ui_sessions WHERE hash = ?').run(hash);
    });
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    return this.#store.transaction('deleting expired UI sessions', () => {
      return this.#db.prepare('DELETE FROM ui_sessions WHERE expires_at <= ? OR last_seen_at <= ?').run(now, idleBefore).changes;
    });
  }

  async close(): Promise<void> {
    this.#store.close();
  }
}

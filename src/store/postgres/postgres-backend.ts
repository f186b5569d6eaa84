// PostgreSQL store: the server's ServerBackend, composed of its capabilities over one connection pool (pg-pool.ts).

import type { DatasetRecord } from '../../model/dataset.js';
import type { Limits } from '../../model/limits.js';
import type { ParamRecord } from '../../model/experiment.js';
import type { MetricData, PlotPoint, SeriesRecord } from '../../model/series.js';
import type { TableRecord, TableSummary } from '../../model/table.js';
import type { MetricPage } from '../metric-page.js';
import type {
  ApiKeyListing,
  ApiKeyRecord,
  BlobCheck,
  BlobCollection,
  ExperimentSummary,
  ImageMeta,
  IngestBatch,
  IngestResult,
  OwnedBlob,
  PlotMeta,
  ProjectCount,
  PublishedExperiment,
  RemoteExperimentQuery,
  RemoteExperimentRecord,
  ServerBackend,
  UiSessionRecord,
} from '../server-backend.js';
import type { ServerStudyBackend } from '../study-store.js';
import type { ServerEnvStore } from '../env-store.js';
import { PgPool } from './pg-pool.js';
import { PostgresBlobStore } from './postgres-blob-store.js';
import { copyExperiment } from './postgres-experiment-copy.js';
import { PostgresExperimentReader } from './postgres-experiment-reader.js';
import { ingest } from './postgres-ingest.js';
import { PostgresKeyStore } from './postgres-key-store.js';
import { migrate } from './postgres-migrations.js';
import { upsertExperiment } from './postgres-publish.js';
import { PostgresSeriesPages } from './postgres-series-pages.js';
import { PostgresStudyBackend } from './postgres-study-store.js';
import { PostgresEnvStore } from './postgres-env-store.js';
import { PostgresRunStore } from './postgres-run-store.js';
import { PostgresRunIngest } from './postgres-run-ingest.js';
import type { ServerRunStore } from '../run-store.js';
import type { ServerRunIngest } from '../run-ingest.js';
import type { ServerSweepStore } from '../sweep-store.js';
import type { ServerArtifactBlobOwners } from '../artifact-store.js';
import { PostgresSweepStore } from './postgres-sweep-store.js';
import { PostgresArtifactStore } from './postgres-artifact-store.js';
import { PostgresModelStore } from './postgres-model-store.js';
import type { ServerArtifactStore, ServerModelStore } from '../artifact-store.js';
import { truncate } from './postgres-truncate.js';
import { PostgresUiQueries } from './postgres-ui-queries.js';

export class PostgresBackend implements ServerBackend {
  readonly location: string;
  readonly #pool: PgPool;
  readonly #reader: PostgresExperimentReader;
  readonly #blobs: PostgresBlobStore;
  readonly #keys: PostgresKeyStore;
  readonly #pages: PostgresSeriesPages;
  readonly #ui: PostgresUiQueries;
  readonly #studies: PostgresStudyBackend;
  readonly #env: PostgresEnvStore;
  readonly #runs: PostgresRunStore;
  readonly #runIngest: PostgresRunIngest;
  readonly #sweeps: PostgresSweepStore;
  readonly #artifacts: PostgresArtifactStore;
  readonly #models: PostgresModelStore;

  private constructor(pool: PgPool) {
    this.#pool = pool;
    this.location = pool.location;
    this.#reader = new PostgresExperimentReader(pool);
    this.#blobs = new PostgresBlobStore(pool);
    this.#keys = new PostgresKeyStore(pool);
    this.#pages = new PostgresSeriesPages(pool);
    this.#ui = new PostgresUiQueries(pool);
    this.#studies = new PostgresStudyBackend(pool);
    this.#env = new PostgresEnvStore(pool);
    this.#runs = new PostgresRunStore(pool);
    this.#runIngest = new PostgresRunIngest(pool);
    this.#sweeps = new PostgresSweepStore(pool);
    this.#artifacts = new PostgresArtifactStore(pool);
    this.#models = new PostgresModelStore(pool);
  }

  /** Connects to the database at `url` and brings its schema up to date. */
  static async open(url: string): Promise<PostgresBackend> {
    const pool = new PgPool(url);
    try {
      await pool.transaction('opening the store', (db) => migrate(db, pool.location));
    } catch (error) {
      await pool.close().catch(() => {});
      throw error;
    }
    return new PostgresBackend(pool);
  }

  // ExperimentIngest

  upsertExperiment(e: PublishedExperiment, limits: Limits, now: number): Promise<RemoteExperimentRecord> {
    return upsertExperiment(this.#pool, e, limits, now);
  }

  ingest(batch: IngestBatch, limits: Limits, now: number): Promise<IngestResult> {
    return ingest(this.#pool, batch, limits, now);
  }

  truncate(experimentId: string, fromStep: number, now: number): Promise<void> {
    return truncate(this.#pool, experimentId, fromStep, now);
  }

  async copyExperiment(
    sourceId: string,
    newId: string,
    nameFor: (attempt: number) => string,
    now: number,
  ): Promise<RemoteExperimentRecord> {
    await copyExperiment(this.#pool, sourceId, newId, nameFor, now);
    return (await this.getExperiment(newId))!;
  }

  // ExperimentReader

  findExperiments(name: string, project?: string): Promise<RemoteExperimentRecord[]> {
    return this.#reader.findExperiments(name, project);
  }

  getExperiment(id: string): Promise<RemoteExperimentRecord | undefined> {
    return this.#reader.getExperiment(id);
  }

  listExperiments(query: RemoteExperimentQuery): Promise<RemoteExperimentRecord[]> {
    return this.#reader.listExperiments(query);
  }

  countExperiments(query: RemoteExperimentQuery): Promise<number> {
    return this.#reader.countExperiments(query);
  }

  readParams(experimentId: string): Promise<ParamRecord[]> {
    return this.#reader.readParams(experimentId);
  }

  readDatasets(experimentId: string): Promise<DatasetRecord[]> {
    return this.#reader.readDatasets(experimentId);
  }

  readSeries(experimentId: string, limit?: number): Promise<SeriesRecord[]> {
    return this.#reader.readSeries(experimentId, limit);
  }

  readMetric(experimentId: string, name: string): Promise<MetricData | undefined> {
    return this.#reader.readMetric(experimentId, name);
  }

  listImages(experimentId: string, name: string, page?: { fromStep: number; limit: number }): Promise<ImageMeta[]> {
    return this.#reader.listImages(experimentId, name, page);
  }

  readImage(experimentId: string, name: string, step: number): Promise<Buffer | undefined> {
    return this.#reader.readImage(experimentId, name, step);
  }

  readPlots(experimentId: string, name: string): Promise<PlotPoint[]> {
    return this.#reader.readPlots(experimentId, name);
  }

  listTables(experimentId: string, limit?: number): Promise<TableSummary[]> {
    return this.#reader.listTables(experimentId, limit);
  }

  readTable(experimentId: string, name: string): Promise<TableRecord | undefined> {
    return this.#reader.readTable(experimentId, name);
  }

  // SeriesPages

  readMetricPage(experimentId: string, name: string, fromStep: number, limit: number): Promise<MetricPage | undefined> {
    return this.#pages.readMetricPage(experimentId, name, fromStep, limit);
  }

  listPlots(experimentId: string, name: string, fromStep: number, limit: number): Promise<PlotMeta[]> {
    return this.#pages.listPlots(experimentId, name, fromStep, limit);
  }

  readPlotFigures(experimentId: string, name: string, fromStep: number, toStep: number): Promise<{ step: number; figure: string }[]> {
    return this.#pages.readPlotFigures(experimentId, name, fromStep, toStep);
  }

  // UiQueries

  readMetricXs(experimentId: string, name: string, x: 'steps' | 'timestamps', steps?: { from: number; to: number }) {
    return this.#ui.readMetricXs(experimentId, name, x, steps);
  }

  readSummaries(experimentIds: readonly string[], seriesLimit?: number): Promise<Map<string, ExperimentSummary>> {
    return this.#ui.readSummaries(experimentIds, seriesLimit);
  }

  listProjects(projects?: readonly string[]): Promise<ProjectCount[]> {
    return this.#ui.listProjects(projects);
  }

  // BlobStore

  missingBlobs(hashes: readonly string[]): Promise<string[]> {
    return this.#blobs.missingBlobs(hashes);
  }

  putBlob(hash: string, bytes: Buffer): Promise<void> {
    return this.#blobs.putBlob(hash, bytes);
  }

  readBlob(hash: string): Promise<Buffer | undefined> {
    return this.#blobs.readBlob(hash);
  }

  uploadBlob(project: string, hash: string, bytes: Buffer, quota: number, now: number): Promise<void> {
    return this.#blobs.uploadBlob(project, hash, bytes, quota, now);
  }

  ownedBlobs(project: string, hashes: readonly string[], now: number): Promise<Map<string, OwnedBlob>> {
    return this.#blobs.ownedBlobs(project, hashes, now);
  }

  saveBlobChecks(checks: readonly { readonly hash: string; readonly check: BlobCheck }[]): Promise<void> {
    return this.#blobs.saveBlobChecks(checks);
  }

  collectBlobs(graceMs: number, now: number, maxOwners: number): Promise<BlobCollection> {
    return this.#blobs.collectBlobs(graceMs, now, maxOwners);
  }

  // KeyStore

  createKey(key: ApiKeyRecord): Promise<void> {
    return this.#keys.createKey(key);
  }

  findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.#keys.findKey(hash);
  }

  listKeys(includeRevoked: boolean): Promise<ApiKeyListing[]> {
    return this.#keys.listKeys(includeRevoked);
  }

  revokeKey(id: string, now: number): Promise<boolean> {
    return this.#keys.revokeKey(id, now);
  }

  touchKey(id: string, now: number): Promise<void> {
    return this.#keys.touchKey(id, now);
  }

  createSession(session: UiSessionRecord, maxPerKey: number): Promise<void> {
    return this.#keys.createSession(session, maxPerKey);
  }

  findSession(hash: string): Promise<{ session: UiSessionRecord; key: ApiKeyRecord } | undefined> {
    return this.#keys.findSession(hash);
  }

  touchSession(hash: string, now: number): Promise<void> {
    return this.#keys.touchSession(hash, now);
  }

  deleteSession(hash: string): Promise<void> {
    return this.#keys.deleteSession(hash);
  }

  deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    return this.#keys.deleteExpiredSessions(now, idleBefore);
  }

  studies(): ServerStudyBackend {
    return this.#studies;
  }

  env(): ServerEnvStore {
    return this.#env;
  }

  runs(): ServerRunStore {
    return this.#runs;
  }

  artifactOwners(): ServerArtifactBlobOwners {
    const pool = this.#pool;
    return {
      async ownBlob(project, sha256, size, now) {
        await pool.query(
          'recording a blob upload',
          `INSERT INTO artifact_blob_owners (project, sha256, size, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (project, sha256) DO NOTHING`,
          [project, sha256, size, now],
        );
      },
      async ownsBlob(project, sha256) {
        const rows = await pool.query(
          'reading blob owners',
          `SELECT 1 FROM artifact_blob_owners WHERE project = $1 AND sha256 = $2
           UNION ALL
           SELECT 1 FROM artifact_files f JOIN artifacts a ON a.id = f.artifact_id JOIN experiments e ON e.id = a.experiment_id
             WHERE f.sha256 = $2 AND e.project = $1
           LIMIT 1`,
          [project, sha256],
        );
        return rows.length > 0;
      },
    };
  }

  sweeps(): ServerSweepStore {
    return this.#sweeps;
  }

  /** The artifacts of the database (rows; their bytes are in the server's artifact blobs). */
  artifacts(): ServerArtifactStore {
    return this.#artifacts;
  }

  models(): ServerModelStore {
    return this.#models;
  }

  runIngest(): ServerRunIngest {
    return this.#runIngest;
  }

  /** Waits for running queries, then closes every connection. Closing twice is harmless. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

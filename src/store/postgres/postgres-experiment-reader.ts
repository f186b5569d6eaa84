// Reads of a PostgreSQL store's experiments: find, get, list and count, params, series, metrics, images, plots, tables.

import type { DatasetRecord } from '../../model/dataset.js';
import type { ParamRecord, ParamType } from '../../model/experiment.js';
import type { MetricData, PlotPoint, SeriesRecord } from '../../model/series.js';
import type { TableRecord, TableSummary } from '../../model/table.js';
import type { Async } from '../async.js';
import { decodeChunks } from '../column-codec.js';
import type { ExperimentReader } from '../experiment-reader.js';
import type { ImageMeta, RemoteExperimentQuery, RemoteExperimentRecord } from '../server-backend.js';
import {
  EXPERIMENT_COLUMNS,
  experimentRecord,
  seriesRecord,
  type ChunkRow,
  type ExperimentRow,
  type SeriesRow,
} from './experiment-rows.js';
import type { PgStore } from './pg-pool.js';
import { whereClause } from './where-clause.js';

/** Sort fields and their columns: the only names a sort puts in the statement. */
const SORT_COLUMNS: Record<string, string> = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  name: 'name',
  status: 'status',
};

/** The ExperimentReader of a PostgreSQL store. */
export class PostgresExperimentReader implements Async<ExperimentReader<RemoteExperimentRecord>> {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async findExperiments(name: string, project?: string): Promise<RemoteExperimentRecord[]> {
    const args: unknown[] = [];
    const where = whereClause('experiments', { name, project }, args);
    const rows = await this.#store.query<ExperimentRow>(
      'finding an experiment',
      `SELECT ${EXPERIMENT_COLUMNS} FROM experiments ${where} ORDER BY created_at`,
      args,
    );
    return rows.map(experimentRecord);
  }

  async getExperiment(id: string): Promise<RemoteExperimentRecord | undefined> {
    const rows = await this.#store.query<ExperimentRow>(
      'reading an experiment',
      `SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE id = $1`,
      [id],
    );
    return rows[0] && experimentRecord(rows[0]);
  }

  async listExperiments(query: RemoteExperimentQuery): Promise<RemoteExperimentRecord[]> {
    const args: unknown[] = [];
    const where = whereClause('experiments', query, args);
    const column = SORT_COLUMNS[query.sort ?? 'created_at'] ?? 'created_at';
    const order = query.order === 'asc' ? 'ASC' : 'DESC';
    // LIMIT NULL is no limit.
    args.push(query.limit ?? null, query.offset ?? 0);
    const rows = await this.#store.query<ExperimentRow>(
      'listing experiments',
      `SELECT ${EXPERIMENT_COLUMNS} FROM experiments ${where}
       ORDER BY ${column} ${order}, id ${order} LIMIT $${args.length - 1} OFFSET $${args.length}`,
      args,
    );
    return rows.map(experimentRecord);
  }

  async countExperiments(query: RemoteExperimentQuery): Promise<number> {
    const args: unknown[] = [];
    const where = whereClause('experiments', query, args);
    const rows = await this.#store.query<{ n: number }>('counting experiments', `SELECT count(*) AS n FROM experiments ${where}`, args);
    return rows[0]!.n;
  }

  async readParams(experimentId: string): Promise<ParamRecord[]> {
    return this.#store.query<{ key: string; type: ParamType; value: string }>(
      'reading params',
      'SELECT key, type, value FROM params WHERE experiment_id = $1 ORDER BY key',
      [experimentId],
    );
  }

  async readDatasets(experimentId: string): Promise<DatasetRecord[]> {
    const rows = await this.#store.query<{
      role: string;
      name: string;
      dataset_id: string | null;
      uri: string | null;
      digest: string | null;
      rows: number | null;
      logged_at: number;
    }>(
      'reading datasets',
      'SELECT role, name, dataset_id, uri, digest, rows, logged_at FROM experiment_datasets WHERE experiment_id = $1 ORDER BY role, name',
      [experimentId],
    );
    return rows.map((row) => ({
      role: row.role,
      name: row.name,
      id: row.dataset_id,
      uri: row.uri,
      digest: row.digest,
      rows: row.rows,
      loggedAt: row.logged_at,
    }));
  }

  async readSeries(experimentId: string, limit?: number): Promise<SeriesRecord[]> {
    const rows = await this.#store.query<SeriesRow>(
      'reading series',
      `SELECT name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value
       FROM series WHERE experiment_id = $1 ORDER BY name LIMIT $2`,
      [experimentId, limit ?? null],
    );
    return rows.map(seriesRecord);
  }

  async readMetric(experimentId: string, name: string): Promise<MetricData | undefined> {
    // The LEFT JOIN tells an emptied series (one row of NULLs: empty arrays) from no series (no row).
    const rows = await this.#store.query<{ [K in keyof ChunkRow]: ChunkRow[K] | null }>(
      'reading a metric',
      `SELECT c.count, c.encoding, c.steps, c.vals, c.timestamps
       FROM series s LEFT JOIN metric_chunks c ON c.series_id = s.id
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'metric'
       ORDER BY c.first_step`,
      [experimentId, name],
    );
    if (rows.length === 0) return undefined;
    return decodeChunks(rows.filter((row): row is ChunkRow => row.count !== null));
  }

  async listImages(experimentId: string, name: string, page?: { fromStep: number; limit: number }): Promise<ImageMeta[]> {
    return this.#store.query<ImageMeta>(
      'listing images',
      `SELECT p.step, p.timestamp, p.caption, p.width, p.height, p.blob_hash AS hash
       FROM image_points p JOIN series s ON s.id = p.series_id
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'image' AND p.step >= $3::float8 ORDER BY p.step LIMIT $4`,
      [experimentId, name, page?.fromStep ?? -Number.MAX_VALUE, page?.limit ?? null],
    );
  }

  async readImage(experimentId: string, name: string, step: number): Promise<Buffer | undefined> {
    if (!Number.isSafeInteger(step)) return undefined;
    const rows = await this.#store.query<{ bytes: Buffer }>(
      'reading an image',
      `SELECT b.bytes FROM image_points p JOIN series s ON s.id = p.series_id JOIN blobs b ON b.hash = p.blob_hash
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'image' AND p.step = $3`,
      [experimentId, name, step],
    );
    return rows[0]?.bytes;
  }

  async readPlots(experimentId: string, name: string): Promise<PlotPoint[]> {
    const rows = await this.#store.query<{ step: number; timestamp: number; caption: string | null; figure: string }>(
      'reading plots',
      `SELECT p.step, p.timestamp, p.caption, p.figure
       FROM plot_points p JOIN series s ON s.id = p.series_id
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'plot' ORDER BY p.step`,
      [experimentId, name],
    );
    return rows.map((row) => ({
      step: row.step,
      timestamp: row.timestamp,
      caption: row.caption,
      figure: JSON.parse(row.figure) as unknown,
    }));
  }

  async listTables(experimentId: string, limit?: number): Promise<TableSummary[]> {
    const rows = await this.#store.query<{ name: string; rows: number; columns: number; logged_at: number }>(
      'listing tables',
      'SELECT name, rows, columns, logged_at FROM tables WHERE experiment_id = $1 ORDER BY name LIMIT $2',
      [experimentId, limit ?? null],
    );
    return rows.map((row) => ({ name: row.name, rows: row.rows, columns: row.columns, loggedAt: row.logged_at }));
  }

  async readTable(experimentId: string, name: string): Promise<TableRecord | undefined> {
    const rows = await this.#store.query<{ name: string; rows: number; columns: number; logged_at: number; bytes: Buffer }>(
      'reading a table',
      `SELECT t.name, t.rows, t.columns, t.logged_at, b.bytes FROM tables t JOIN blobs b ON b.hash = t.blob_hash
       WHERE t.experiment_id = $1 AND t.name = $2`,
      [experimentId, name],
    );
    const row = rows[0];
    return row && { name: row.name, rows: row.rows, columns: row.columns, loggedAt: row.logged_at, ipc: row.bytes };
  }
}

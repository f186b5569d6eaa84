// SQLite publish source: reads a local store for a publisher and keeps its per-remote ledger in the same file.

import type { DatasetRecord } from '../../model/dataset.js';
import type { ExperimentQuery, ExperimentRecord, ParamRecord } from '../../model/experiment.js';
import type { ImageMeta, ImagePoint, MetricData, PlotPoint, SeriesRecord } from '../../model/series.js';
import type { TableRecord, TableSummary } from '../../model/table.js';
import { decodeChunks } from '../column-codec.js';
import type { StudyMember, StudyRecord } from '../../model/study.js';
import type { LedgerEntry, PlotText, PublishSource, RunLedgerEntry, RunSource, Truncation } from '../publish-source.js';
import { SqliteBackend } from './sqlite-backend.js';
import type { ArtifactStore } from '../artifact-store.js';
import type { ArtifactBlobs } from '../artifact-blobs.js';

interface ChunkRow {
  count: number;
  encoding: number;
  steps: Buffer;
  vals: Buffer;
  timestamps: Buffer;
}

/** First index whose step is greater than `after`. */
function firstAfter(steps: Float64Array, after: number | null): number {
  if (after === null) return 0;
  let i = 0;
  while (i < steps.length && steps[i]! <= after) i++;
  return i;
}

export class SqlitePublishSource implements PublishSource {
  readonly location: string;
  readonly #store: SqliteBackend;

  /** Opens its own connection to the store file (the publisher may run in another thread or process). */
  constructor(file: string) {
    this.#store = new SqliteBackend(file);
    this.location = file;
  }

  get #db() {
    return this.#store.database;
  }

  listExperiments(query: ExperimentQuery): ExperimentRecord[] {
    return this.#store.listExperiments(query);
  }

  getExperiment(id: string): ExperimentRecord | undefined {
    return this.#store.getExperiment(id);
  }

  readParams(experimentId: string): ParamRecord[] {
    return this.#store.readParams(experimentId);
  }

  readDatasets(experimentId: string): DatasetRecord[] {
    return this.#store.readDatasets(experimentId);
  }

  findExperiments(name: string, project?: string): ExperimentRecord[] {
    return this.#store.findExperiments(name, project);
  }

  countExperiments(query: ExperimentQuery): number {
    return this.#store.countExperiments(query);
  }

  readSeries(experimentId: string, limit?: number): SeriesRecord[] {
    return this.#store.readSeries(experimentId, limit);
  }

  readMetric(experimentId: string, name: string): MetricData | undefined {
    return this.#store.readMetric(experimentId, name);
  }

  readPlots(experimentId: string, name: string): PlotPoint[] {
    return this.#store.readPlots(experimentId, name);
  }

  listImages(experimentId: string, name: string, page?: { fromStep: number; limit: number }): ImageMeta[] {
    return this.#store.listImages(experimentId, name, page);
  }

  readImage(experimentId: string, name: string, step: number): Buffer | undefined {
    return this.#store.readImage(experimentId, name, step);
  }

  #seriesId(experimentId: string, name: string, kind: string): number | undefined {
    return this.#db
      .prepare('SELECT id FROM series WHERE experiment_id = ? AND name = ? AND kind = ?')
      .pluck()
      .get(experimentId, name, kind) as number | undefined;
  }

  readMetricAfter(experimentId: string, name: string, after: number | null, maxPoints: number): MetricData {
    const id = this.#seriesId(experimentId, name, 'metric');
    const empty = { steps: new Float64Array(0), values: new Float64Array(0), timestamps: new Float64Array(0) };
    if (id === undefined) return empty;
    const rows: ChunkRow[] = [];
    let total = 0;
    const iterator = this.#db
      .prepare(
        'SELECT count, encoding, steps, vals, timestamps FROM metric_chunks WHERE series_id = ? AND last_step > ? ORDER BY first_step',
      )
      .iterate(id, after ?? -1) as IterableIterator<ChunkRow>;
    for (const row of iterator) {
      rows.push(row);
      total += row.count;
      if (total >= maxPoints) break;
    }
    if (iterator.return) iterator.return();
    if (rows.length === 0) return empty;
    const { steps, values, timestamps } = decodeChunks(rows);
    const from = firstAfter(steps, after);
    return { steps: steps.subarray(from), values: values.subarray(from), timestamps: timestamps.subarray(from) };
  }

  countMetricAfter(experimentId: string, name: string, after: number | null): number {
    const id = this.#seriesId(experimentId, name, 'metric');
    if (id === undefined) return 0;
    return this.#db
      .prepare('SELECT coalesce(sum(count), 0) FROM metric_chunks WHERE series_id = ? AND last_step > ?')
      .pluck()
      .get(id, after ?? -1) as number;
  }

  readImagesAfter(experimentId: string, name: string, after: number | null, max: number): ImagePoint[] {
    const id = this.#seriesId(experimentId, name, 'image');
    if (id === undefined) return [];
    return this.#db
      .prepare(
        `SELECT p.step, p.timestamp, p.caption, p.width, p.height, b.bytes AS png FROM image_points p JOIN blobs b ON b.hash = p.blob_hash
         WHERE p.series_id = ? AND p.step > ? ORDER BY p.step LIMIT ?`,
      )
      .all(id, after ?? -1, max) as ImagePoint[];
  }

  readPlotsAfter(experimentId: string, name: string, after: number | null, max: number): PlotText[] {
    const id = this.#seriesId(experimentId, name, 'plot');
    if (id === undefined) return [];
    return this.#db
      .prepare('SELECT step, timestamp, caption, figure FROM plot_points WHERE series_id = ? AND step > ? ORDER BY step LIMIT ?')
      .all(id, after ?? -1, max) as PlotText[];
  }

  listTables(experimentId: string, limit?: number): TableSummary[] {
    return this.#store.listTables(experimentId, limit);
  }

  readTable(experimentId: string, name: string): TableRecord | undefined {
    return this.#store.readTable(experimentId, name);
  }

  truncationsAfter(experimentId: string, seq: number): Truncation[] {
    return this.#db
      .prepare('SELECT seq, from_step AS fromStep FROM truncations WHERE experiment_id = ? AND seq > ? ORDER BY seq')
      .all(experimentId, seq) as Truncation[];
  }

  studyOf(experimentId: string): string | undefined {
    return this.#store.studies().studyOf(experimentId);
  }

  getStudy(id: string): StudyRecord | undefined {
    return this.#store.studies().getStudy(id);
  }

  members(id: string): StudyMember[] {
    return this.#store.studies().members(id);
  }

  ledger(remote: string, experimentId: string): LedgerEntry {
    const row = this.#db
      .prepare('SELECT meta_hash, remote_name, truncation_seq FROM sync_experiments WHERE remote = ? AND experiment_id = ?')
      .get(remote, experimentId) as { meta_hash: string | null; remote_name: string | null; truncation_seq: number } | undefined;
    const series = this.#db
      .prepare('SELECT name, last_step FROM sync_series WHERE remote = ? AND experiment_id = ?')
      .all(remote, experimentId) as {
      name: string;
      last_step: number;
    }[];
    const tables = this.#db
      .prepare('SELECT name, logged_at FROM sync_tables WHERE remote = ? AND experiment_id = ?')
      .all(remote, experimentId) as {
      name: string;
      logged_at: number;
    }[];
    return {
      metaHash: row?.meta_hash ?? null,
      remoteName: row?.remote_name ?? null,
      truncationSeq: row?.truncation_seq ?? 0,
      series: new Map(series.map((s) => [s.name, s.last_step])),
      tables: new Map(tables.map((t) => [t.name, t.logged_at])),
    };
  }

  saveMeta(remote: string, experimentId: string, metaHash: string, remoteName: string, now: number): void {
    this.#store.transaction('recording a publication', () => {
      this.#db
        .prepare(
          `INSERT INTO sync_experiments (remote, experiment_id, meta_hash, remote_name, synced_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (remote, experiment_id) DO UPDATE SET meta_hash = excluded.meta_hash, remote_name = excluded.remote_name,
             synced_at = excluded.synced_at`,
        )
        .run(remote, experimentId, metaHash, remoteName, now);
    });
  }

  saveTruncation(remote: string, experimentId: string, seq: number, fromStep: number): void {
    this.#store.transaction('recording a truncation', () => {
      this.#db
        .prepare(
          `INSERT INTO sync_experiments (remote, experiment_id, truncation_seq) VALUES (?, ?, ?)
           ON CONFLICT (remote, experiment_id) DO UPDATE SET truncation_seq = max(truncation_seq, excluded.truncation_seq)`,
        )
        .run(remote, experimentId, seq);
      // What the remote had from fromStep on is gone there too.
      this.#db
        .prepare('UPDATE sync_series SET last_step = ? WHERE remote = ? AND experiment_id = ? AND last_step >= ?')
        .run(fromStep - 1, remote, experimentId, fromStep);
      this.#db.prepare('DELETE FROM sync_series WHERE remote = ? AND experiment_id = ? AND last_step < 0').run(remote, experimentId);
    });
  }

  saveWatermarks(remote: string, experimentId: string, watermarks: ReadonlyMap<string, number>, truncationSeq: number): boolean {
    return this.#store.transaction('recording acknowledged steps', () => {
      const seq = this.#db
        .prepare('SELECT truncation_seq FROM sync_experiments WHERE remote = ? AND experiment_id = ?')
        .pluck()
        .get(remote, experimentId) as number | undefined;
      if ((seq ?? 0) !== truncationSeq) return false;
      const upsert = this.#db.prepare(
        `INSERT INTO sync_series (remote, experiment_id, name, last_step) VALUES (?, ?, ?, ?)
         ON CONFLICT (remote, experiment_id, name) DO UPDATE SET last_step = excluded.last_step`,
      );
      for (const [name, step] of watermarks) upsert.run(remote, experimentId, name, step);
      return true;
    });
  }

  saveTable(remote: string, experimentId: string, name: string, loggedAt: number): void {
    this.#store.transaction('recording a published table', () => {
      this.#db
        .prepare(
          `INSERT INTO sync_tables (remote, experiment_id, name, logged_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (remote, experiment_id, name) DO UPDATE SET logged_at = excluded.logged_at`,
        )
        .run(remote, experimentId, name, loggedAt);
    });
  }

  runs(): RunSource {
    return this.#store.runs();
  }

  runLedger(remote: string, runId: string): RunLedgerEntry {
    const row = this.#db
      .prepare('SELECT snapshot_hash, log_position FROM sync_runs WHERE remote = ? AND experiment_id = ?')
      .get(remote, runId) as { snapshot_hash: string | null; log_position: number } | undefined;
    return { snapshotHash: row?.snapshot_hash ?? null, logPosition: row?.log_position ?? 0 };
  }

  saveRunSnapshot(remote: string, runId: string, snapshotHash: string, now: number): void {
    this.#store.transaction('recording a published run', () => {
      this.#db
        .prepare(
          `INSERT INTO sync_runs (remote, experiment_id, snapshot_hash, synced_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (remote, experiment_id) DO UPDATE SET snapshot_hash = excluded.snapshot_hash, synced_at = excluded.synced_at`,
        )
        .run(remote, runId, snapshotHash, now);
    });
  }

  saveLogPosition(remote: string, runId: string, position: number, now: number): void {
    this.#store.transaction('recording published run logs', () => {
      this.#db
        .prepare(
          `INSERT INTO sync_runs (remote, experiment_id, log_position, synced_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (remote, experiment_id) DO UPDATE SET log_position = max(log_position, excluded.log_position),
             synced_at = excluded.synced_at`,
        )
        .run(remote, runId, position, now);
    });
  }

  artifacts(): Pick<ArtifactStore, 'listArtifacts'> {
    return this.#store.artifacts();
  }

  artifactBlobs(): ArtifactBlobs {
    return this.#store.artifactBlobs();
  }

  artifactAcked(remote: string, artifactId: string): boolean {
    return this.#db.prepare('SELECT 1 FROM sync_artifacts WHERE remote = ? AND artifact_id = ?').get(remote, artifactId) !== undefined;
  }

  ackArtifact(remote: string, artifactId: string, now: number): void {
    this.#store.transaction('recording a published artifact', () => {
      this.#db
        .prepare('INSERT INTO sync_artifacts (remote, artifact_id, acked_at) VALUES (?, ?, ?) ON CONFLICT (remote, artifact_id) DO NOTHING')
        .run(remote, artifactId, now);
    });
  }

  close(): void {
    this.#store.close();
  }
}

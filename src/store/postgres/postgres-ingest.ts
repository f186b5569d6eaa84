// Ingest into a PostgreSQL store: one batch of points and tables in one transaction, planned against what is stored.

import { LablogError } from '../../model/errors.js';
import type { Limits } from '../../model/limits.js';
import type { SeriesKind } from '../../model/series.js';
import { encodeColumn, packEncodings } from '../column-codec.js';
import { bytesOf, extremes } from '../column-stats.js';
import { planIngest, type IngestPlan } from '../ingest-plan.js';
import type { IngestBatch, IngestResult, SeriesState } from '../server-backend.js';
import { lockExperiment } from './experiment-lock.js';
import type { PgQuery, PgStore } from './pg-pool.js';
import { addStats, type SeriesStats } from './series-stats.js';
import { f8, insertRows } from './sql-values.js';

/** How a table's blob is encoded (the tables.format column). */
const TABLE_FORMAT = 'arrow-ipc-stream';

/** Stores what the plan accepts of the batch, under the experiment's lock; what was stored and what was refused. */
export async function ingest(store: PgStore, batch: IngestBatch, limits: Limits, now: number): Promise<IngestResult> {
  const id = batch.experimentId;
  return store.transaction(`ingesting into experiment ${id}`, async (db) => {
    await lockExperiment(db, id);
    // What is stored, read under the lock: another process ingesting this experiment waits above.
    const names = [...new Set([...batch.metrics, ...batch.images, ...batch.plots].map((item) => item.name))].filter(
      (name) => typeof name === 'string',
    );
    const seriesIds = new Map<string, number>();
    const series = new Map<string, SeriesState>();
    if (names.length > 0) {
      const { rows } = await db.query<{ id: number; name: string; kind: SeriesKind; count: number; last_step: number | null }>(
        'SELECT id, name, kind, count, last_step FROM series WHERE experiment_id = $1 AND name = ANY ($2::text[])',
        [id, names],
      );
      for (const row of rows) {
        seriesIds.set(row.name, row.id);
        series.set(row.name, { name: row.name, kind: row.kind, count: row.count, lastStep: row.last_step });
      }
    }
    let metricCount = 0;
    if (batch.metrics.length > 0) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT coalesce(sum(count), 0)::bigint AS n FROM series WHERE experiment_id = $1 AND kind = 'metric'`,
        [id],
      );
      metricCount = rows[0]!.n;
    }
    const tables = new Map<string, number>();
    if (batch.tables.length > 0) {
      const { rows } = await db.query<{ name: string; logged_at: number }>(
        'SELECT name, logged_at FROM tables WHERE experiment_id = $1 AND name = ANY ($2::text[])',
        [id, batch.tables.map((t) => String(t.name))],
      );
      for (const row of rows) tables.set(row.name, row.logged_at);
    }

    const plan = planIngest(batch, { series, metricCount, tables }, limits);
    await assertBlobs(db, plan, id, now);
    await createSeries(db, id, plan, seriesIds);
    await writeMetrics(db, plan, seriesIds);
    await writeMedia(db, plan, seriesIds);
    for (const t of plan.tables) {
      // The logged_at guard keeps the newest of two same-named tables in one batch.
      await db.query(
        `INSERT INTO tables (experiment_id, name, rows, columns, format, blob_hash, logged_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (experiment_id, name) DO UPDATE SET rows = excluded.rows, columns = excluded.columns,
           format = excluded.format, blob_hash = excluded.blob_hash, logged_at = excluded.logged_at
         WHERE tables.logged_at < excluded.logged_at`,
        [id, t.name, t.rows, t.columns, TABLE_FORMAT, t.hash, f8(t.loggedAt)],
      );
    }
    await db.query('UPDATE experiments SET published_at = $2, updated_at = $2 WHERE id = $1', [id, now]);
    return plan.result;
  });
}

/**
 * Points and tables name blobs uploaded before; a missing one fails the request (nothing is stored). The
 * blobs are share-locked until commit (a collection cannot delete them under this ingest), and become
 * owned and referenced by the experiment's project (rows locked in hash order: no deadlock between two).
 */
async function assertBlobs(db: PgQuery, plan: IngestPlan, experimentId: string, now: number): Promise<void> {
  const hashes = [...new Set([...plan.images.map((p) => p.hash), ...plan.tables.map((t) => t.hash)])].sort();
  if (hashes.length === 0) return;
  const { rows } = await db.query<{ hash: string }>('SELECT hash FROM blobs WHERE hash = ANY ($1::text[]) ORDER BY hash FOR KEY SHARE', [
    hashes,
  ]);
  const present = new Set(rows.map((row) => row.hash));
  const missing = hashes.filter((hash) => !present.has(hash));
  if (missing.length > 0) {
    throw new LablogError(
      'INVALID_OPTION',
      `${missing.length} blob(s) named by the batch were not uploaded, e.g. ${missing[0]}; upload them first`,
      {
        missing,
      },
    );
  }
  await db.query(
    `INSERT INTO blob_owners (project, hash, touched_at, referenced_at)
     SELECT (SELECT project FROM experiments WHERE id = $1), h, $3, $3 FROM unnest($2::text[]) AS h ORDER BY h
     ON CONFLICT (project, hash) DO UPDATE SET touched_at = excluded.touched_at, referenced_at = excluded.referenced_at`,
    [experimentId, hashes, now],
  );
}

/** Creates the series the plan writes to that do not exist yet (the experiment lock keeps this race-free). */
async function createSeries(db: PgQuery, experimentId: string, plan: IngestPlan, ids: Map<string, number>): Promise<void> {
  const fresh = new Map<string, SeriesKind>();
  const want = (name: string, kind: SeriesKind) => {
    if (!ids.has(name)) fresh.set(name, kind);
  };
  for (const chunk of plan.metrics) want(chunk.name, 'metric');
  for (const image of plan.images) want(image.name, 'image');
  for (const plot of plan.plots) want(plot.name, 'plot');
  if (fresh.size === 0) return;
  const { rows } = await db.query<{ id: number; name: string }>(
    'INSERT INTO series (experiment_id, name, kind) SELECT $1, * FROM unnest($2::text[], $3::text[]) RETURNING id, name',
    [experimentId, [...fresh.keys()], [...fresh.values()]],
  );
  for (const row of rows) ids.set(row.name, row.id);
}

/** One metric_chunks row per planned chunk, then each series' summary in one statement. */
async function writeMetrics(db: PgQuery, plan: IngestPlan, ids: Map<string, number>): Promise<void> {
  if (plan.metrics.length === 0) return;
  const rows: unknown[][] = [];
  const stats = new Map<number, SeriesStats>();
  for (const chunk of plan.metrics) {
    const n = chunk.steps.length;
    const seriesId = ids.get(chunk.name)!;
    const first = chunk.steps[0]!;
    const last = chunk.steps[n - 1]!;
    const steps = encodeColumn(chunk.steps);
    const timestamps = encodeColumn(chunk.timestamps);
    const [min, max] = extremes(chunk.values);
    rows.push([
      seriesId,
      first,
      last,
      n,
      packEncodings(steps.encoding, timestamps.encoding),
      f8(min),
      f8(max),
      steps.bytes,
      bytesOf(chunk.values),
      timestamps.bytes,
    ]);
    // Several chunks of one series in a batch follow each other (the plan keeps steps increasing).
    const s = stats.get(seriesId);
    stats.set(seriesId, {
      id: seriesId,
      count: (s?.count ?? 0) + n,
      first: s?.first ?? first,
      last,
      lastTimestamp: chunk.timestamps[n - 1]!,
      lastValue: chunk.values[n - 1]!,
      min: s?.min == null ? min : min === null ? s.min : Math.min(s.min, min),
      max: s?.max == null ? max : max === null ? s.max : Math.max(s.max, max),
    });
  }
  await insertRows(
    db,
    'INSERT INTO metric_chunks (series_id, first_step, last_step, count, encoding, min_value, max_value, steps, vals, timestamps)',
    rows,
  );
  await addStats(db, [...stats.values()]);
}

async function writeMedia(db: PgQuery, plan: IngestPlan, ids: Map<string, number>): Promise<void> {
  const stats = new Map<number, SeriesStats>();
  const add = (seriesId: number, step: number, timestamp: number) => {
    const s = stats.get(seriesId);
    stats.set(seriesId, {
      id: seriesId,
      count: (s?.count ?? 0) + 1,
      first: s?.first ?? step,
      last: step,
      lastTimestamp: timestamp,
      lastValue: null,
      min: null,
      max: null,
    });
  };
  if (plan.images.length > 0) {
    const rows = plan.images.map((p) => {
      const seriesId = ids.get(p.name)!;
      add(seriesId, p.step, p.timestamp);
      return [seriesId, p.step, f8(p.timestamp), p.caption, p.hash, p.width, p.height];
    });
    await insertRows(db, 'INSERT INTO image_points (series_id, step, timestamp, caption, blob_hash, width, height)', rows);
  }
  if (plan.plots.length > 0) {
    const rows = plan.plots.map((p) => {
      const seriesId = ids.get(p.name)!;
      add(seriesId, p.step, p.timestamp);
      return [seriesId, p.step, f8(p.timestamp), p.caption, p.figure];
    });
    await insertRows(db, 'INSERT INTO plot_points (series_id, step, timestamp, caption, figure)', rows);
  }
  await addStats(db, [...stats.values()]);
}

// Truncating a PostgreSQL experiment from a step: chunks dropped or cut, media points deleted, summaries recomputed.

import type { SeriesKind } from '../../model/series.js';
import { RAW, decodeColumnToArray, encodeColumn, packEncodings, unpackEncodings } from '../column-codec.js';
import { bytesOf, extremes } from '../column-stats.js';
import { assertTruncateStep } from '../ingest-plan.js';
import type { ChunkRow } from './experiment-rows.js';
import { lockExperiment } from './experiment-lock.js';
import type { PgQuery, PgStore } from './pg-pool.js';
import { STATS_FROM, statsColumns, type SeriesStats } from './series-stats.js';
import { f8, withValues } from './sql-values.js';

/** The table of each media kind's points. */
const MEDIA_TABLES: Record<'image' | 'plot', string> = { image: 'image_points', plot: 'plot_points' };

/** Deletes every point of the experiment at or after `fromStep`, under its lock, and recomputes the series summaries. */
export async function truncate(store: PgStore, experimentId: string, fromStep: number, now: number): Promise<void> {
  assertTruncateStep(fromStep);
  await store.transaction(`truncating experiment ${experimentId}`, async (db) => {
    await lockExperiment(db, experimentId);
    // Only series with a point at or after fromStep change.
    const { rows } = await db.query<{ id: number; kind: SeriesKind }>(
      'SELECT id, kind FROM series WHERE experiment_id = $1 AND last_step >= $2',
      [experimentId, fromStep],
    );
    const ofKind = (kind: SeriesKind) => rows.filter((row) => row.kind === kind).map((row) => row.id);
    await truncateMetrics(db, ofKind('metric'), fromStep);
    for (const kind of ['image', 'plot'] as const) await truncateMedia(db, kind, ofKind(kind), fromStep);
    // Blobs stay: another request may be about to name them (they were uploaded first, verified by hash).
    await db.query('UPDATE experiments SET published_at = $2, updated_at = $2 WHERE id = $1', [experimentId, now]);
  });
}

/** Drops chunks from fromStep, cuts the chunk that straddles it, and recomputes the summaries. */
async function truncateMetrics(db: PgQuery, seriesIds: number[], fromStep: number): Promise<void> {
  if (seriesIds.length === 0) return;
  await db.query('DELETE FROM metric_chunks WHERE series_id = ANY ($1::bigint[]) AND first_step >= $2', [seriesIds, fromStep]);
  const straddling = await db.query<ChunkRow & { id: number }>(
    'SELECT id, count, encoding, steps, vals, timestamps FROM metric_chunks WHERE series_id = ANY ($1::bigint[]) AND last_step >= $2',
    [seriesIds, fromStep],
  );
  const rewritten = straddling.rows.map((chunk) => {
    const encodings = unpackEncodings(chunk.encoding);
    const steps = decodeColumnToArray(encodings.steps, chunk.steps, chunk.count);
    let keep = 0;
    while (keep < steps.length && steps[keep]! < fromStep) keep++; // >= 1: first_step < fromStep
    const kept = steps.subarray(0, keep);
    const values = decodeColumnToArray(RAW, chunk.vals, keep);
    const timestamps = decodeColumnToArray(encodings.timestamps, chunk.timestamps, chunk.count).subarray(0, keep);
    const encodedSteps = encodeColumn(kept);
    const encodedTimestamps = encodeColumn(timestamps);
    const [min, max] = extremes(values);
    return [
      chunk.id,
      kept[keep - 1]!,
      keep,
      packEncodings(encodedSteps.encoding, encodedTimestamps.encoding),
      f8(min),
      f8(max),
      encodedSteps.bytes,
      bytesOf(values),
      encodedTimestamps.bytes,
    ];
  });
  await withValues(
    db,
    rewritten,
    (values) =>
      `UPDATE metric_chunks c SET last_step = u.last, count = u.n, encoding = u.encoding, min_value = u.mn, max_value = u.mx,
         steps = u.steps, vals = u.vals, timestamps = u.ts
       FROM (VALUES ${values}) AS u(id, last, n, encoding, mn, mx, steps, vals, ts)
       WHERE c.id = u.id`,
    ['::bigint', '::bigint', '::int', '::int', '::float8', '::float8', '::bytea', '::bytea', '::bytea'],
  );
  // Summaries from the chunks' columns, plus the last point of each series' last chunk.
  const totals = await db.query<{ series_id: number; count: number; first: number; last: number; mn: number | null; mx: number | null }>(
    `SELECT series_id, sum(count)::bigint AS count, min(first_step) AS first, max(last_step) AS last,
       min(min_value) AS mn, max(max_value) AS mx
     FROM metric_chunks WHERE series_id = ANY ($1::bigint[]) GROUP BY series_id`,
    [seriesIds],
  );
  const lastChunks = await db.query<ChunkRow & { series_id: number }>(
    `SELECT DISTINCT ON (series_id) series_id, count, encoding, steps, vals, timestamps
     FROM metric_chunks WHERE series_id = ANY ($1::bigint[]) ORDER BY series_id, first_step DESC`,
    [seriesIds],
  );
  const lastPoint = new Map<number, { value: number; timestamp: number }>();
  for (const chunk of lastChunks.rows) {
    const timestamps = decodeColumnToArray(unpackEncodings(chunk.encoding).timestamps, chunk.timestamps, chunk.count);
    lastPoint.set(chunk.series_id, { value: chunk.vals.readDoubleLE((chunk.count - 1) * 8), timestamp: timestamps[chunk.count - 1]! });
  }
  const byId = new Map(totals.rows.map((row) => [row.series_id, row] as const));
  const stats = seriesIds.map((seriesId): SeriesStats => {
    const total = byId.get(seriesId);
    const last = lastPoint.get(seriesId);
    return total === undefined || last === undefined
      ? { id: seriesId, count: 0, first: null, last: null, lastTimestamp: null, lastValue: null, min: null, max: null }
      : {
          id: seriesId,
          count: total.count,
          first: total.first,
          last: total.last,
          lastTimestamp: last.timestamp,
          lastValue: last.value,
          min: total.mn,
          max: total.mx,
        };
  });
  await db.query(
    `UPDATE series s SET count = u.n, first_step = u.first, last_step = u.last, last_timestamp = u.ts,
       last_value = u.lv, min_value = u.mn, max_value = u.mx
     FROM ${STATS_FROM}
     WHERE s.id = u.id`,
    statsColumns(stats),
  );
}

/** Deletes media points from fromStep and recomputes the summaries from what is left. */
async function truncateMedia(db: PgQuery, kind: 'image' | 'plot', seriesIds: number[], fromStep: number): Promise<void> {
  if (seriesIds.length === 0) return;
  const table = MEDIA_TABLES[kind];
  await db.query(`DELETE FROM ${table} WHERE series_id = ANY ($1::bigint[]) AND step >= $2`, [seriesIds, fromStep]);
  await db.query(
    `UPDATE series s SET count = a.count, first_step = a.first, last_step = a.last,
       last_timestamp = (SELECT p.timestamp FROM ${table} p WHERE p.series_id = s.id ORDER BY p.step DESC LIMIT 1)
     FROM (SELECT s2.id, count(p.step) AS count, min(p.step) AS first, max(p.step) AS last
           FROM series s2 LEFT JOIN ${table} p ON p.series_id = s2.id
           WHERE s2.id = ANY ($1::bigint[]) GROUP BY s2.id) a
     WHERE s.id = a.id`,
    [seriesIds],
  );
}

// Series summaries (count, first and last step, last point, min and max) changed in one statement per batch.

import type { PgQuery } from './pg-pool.js';
import { f8 } from './sql-values.js';

/** A change of one series' summary: absolute (truncate) or added to what is stored (ingest). */
export interface SeriesStats {
  id: number;
  count: number;
  first: number | null;
  last: number | null;
  lastTimestamp: number | null;
  lastValue: number | null;
  min: number | null;
  max: number | null;
}

/** Arrays of a series summary change, for an UPDATE … FROM unnest(…). */
export function statsColumns(stats: readonly SeriesStats[]): unknown[] {
  return [
    stats.map((s) => s.id),
    stats.map((s) => s.count),
    stats.map((s) => s.first),
    stats.map((s) => s.last),
    stats.map((s) => f8(s.lastTimestamp)),
    stats.map((s) => f8(s.lastValue)),
    stats.map((s) => f8(s.min)),
    stats.map((s) => f8(s.max)),
  ];
}

export const STATS_FROM = `unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[], $8::float8[])
  AS u(id, n, first, last, ts, lv, mn, mx)`;

/** Adds newly written points to series summaries (min/max: NaN never reaches them). */
export async function addStats(db: PgQuery, stats: readonly SeriesStats[]): Promise<void> {
  if (stats.length === 0) return;
  await db.query(
    `UPDATE series s SET
       count = s.count + u.n,
       first_step = coalesce(s.first_step, u.first),
       last_step = u.last,
       last_timestamp = u.ts,
       last_value = u.lv,
       min_value = CASE WHEN u.mn IS NULL THEN s.min_value WHEN s.min_value IS NULL THEN u.mn ELSE least(s.min_value, u.mn) END,
       max_value = CASE WHEN u.mx IS NULL THEN s.max_value WHEN s.max_value IS NULL THEN u.mx ELSE greatest(s.max_value, u.mx) END
     FROM ${STATS_FROM}
     WHERE s.id = u.id`,
    statsColumns(stats),
  );
}

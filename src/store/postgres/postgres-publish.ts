// Publishing an experiment into a PostgreSQL store: insert under a free name or update, its tags and params within limits.

import { LablogError } from '../../model/errors.js';
import type { Limits } from '../../model/limits.js';
import { datasetKey, tooManyDatasets } from '../../model/dataset.js';
import { dedupedName, MAX_NAME_ATTEMPTS } from '../../model/experiment-names.js';
import type { PublishedExperiment, RemoteExperimentRecord } from '../server-backend.js';
import { EXPERIMENT_COLUMNS, experimentRecord, type ExperimentRow } from './experiment-rows.js';
import type { PgQuery, PgStore } from './pg-pool.js';

/** Candidate names checked per query when deduplicating. */
const NAME_PROBE = 64;

/** Creates the experiment (under a free name) or updates it, with its tags and params, in one transaction; its record as stored. */
export async function upsertExperiment(
  store: PgStore,
  e: PublishedExperiment,
  limits: Limits,
  now: number,
): Promise<RemoteExperimentRecord> {
  return store.transaction(`publishing experiment ${e.id}`, async (db) => {
    for (;;) {
      const { rows } = await db.query<{ project: string }>('SELECT project FROM experiments WHERE id = $1 FOR UPDATE', [e.id]);
      const existing = rows[0];
      if (existing !== undefined) {
        if (existing.project !== e.project) {
          throw new LablogError('INVALID_OPTION', `experiment ${e.id} is in another project; a project cannot change`, { id: e.id });
        }
        await db.query(
          `UPDATE experiments SET status = $2, description = $3, tags = $4, ended_at = $5, heartbeat_at = $6, hostname = $7,
             version = coalesce($8, version), updated_at = $9, published_at = $9
           WHERE id = $1`,
          [e.id, e.status, e.description, [...e.tags], e.endedAt, e.heartbeatAt, e.hostname, e.version, now],
        );
        await db.query('DELETE FROM experiment_tags WHERE experiment_id = $1 AND NOT (tag = ANY ($2::text[]))', [e.id, [...e.tags]]);
        break;
      }
      if (await insertExperiment(db, e, limits, now)) break;
      // Another process created this id meanwhile: update it instead.
    }
    await db.query('INSERT INTO experiment_tags (experiment_id, tag) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [
      e.id,
      [...e.tags],
    ]);
    await upsertParams(db, e, limits);
    await upsertJobDetail(db, e);
    const { rows } = await db.query<ExperimentRow>(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE id = $1`, [e.id]);
    return experimentRecord(rows[0]!);
  });
}

/**
 * Inserts the experiment under the first free name among name, name-2, …; false when the insert lost
 * a race for the id to another process (the caller then updates).
 */
async function insertExperiment(db: PgQuery, e: PublishedExperiment, limits: Limits, now: number): Promise<boolean> {
  for (let start = 1; ; start += NAME_PROBE) {
    if (start > MAX_NAME_ATTEMPTS) dedupedName(e.name, start, limits.maxNameLength); // throws LIMIT_EXCEEDED
    const count = Math.min(NAME_PROBE, MAX_NAME_ATTEMPTS - start + 1);
    const candidates = Array.from({ length: count }, (_, i) => dedupedName(e.name, start + i, limits.maxNameLength));
    const { rows } = await db.query<{ name: string }>('SELECT name FROM experiments WHERE project = $1 AND name = ANY ($2::text[])', [
      e.project,
      candidates,
    ]);
    const taken = new Set(rows.map((row) => row.name));
    for (const name of candidates) {
      if (taken.has(name)) continue;
      // DO NOTHING on either unique key: the name or the id was taken since the check above.
      const inserted = await db.query(
        `INSERT INTO experiments (id, project, name, description, tags, status, created_at, updated_at, ended_at, heartbeat_at,
           hostname, version, published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $8)
         ON CONFLICT DO NOTHING`,
        [e.id, e.project, name, e.description, [...e.tags], e.status, e.createdAt, now, e.endedAt, e.heartbeatAt, e.hostname, e.version],
      );
      if (inserted.rowCount === 1) return true;
      const { rowCount } = await db.query('SELECT 1 FROM experiments WHERE id = $1', [e.id]);
      if (rowCount !== 0) return false;
    }
  }
}

/**
 * Stores the published progress (when sent) and upserts each dataset by (role, name); fails LIMIT_EXCEEDED (the
 * transaction rolls back) when new keys would pass MAX_DATASETS. The caller holds the experiment's row lock, so
 * no other publication of it adds datasets between the count and the insert.
 */
async function upsertJobDetail(db: PgQuery, e: PublishedExperiment): Promise<void> {
  if (e.progress) {
    await db.query('UPDATE experiments SET progress = $2, phase = $3, progress_at = $4 WHERE id = $1', [
      e.id,
      e.progress.pct,
      e.progress.phase,
      e.progress.at,
    ]);
  }
  if (!e.datasets || e.datasets.length === 0) return;
  const stored = await db.query<{ role: string; name: string }>('SELECT role, name FROM experiment_datasets WHERE experiment_id = $1', [
    e.id,
  ]);
  const count = tooManyDatasets(e.id, new Set(stored.rows.map(datasetKey)), e.datasets);
  if (count instanceof LablogError) throw count;
  // One statement cannot update a row twice: the last of duplicate (role, name) wins.
  const datasets = [...new Map(e.datasets.map((d) => [datasetKey(d), d] as const)).values()];
  await db.query(
    `INSERT INTO experiment_datasets (experiment_id, role, name, dataset_id, uri, digest, rows, logged_at)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::double precision[])
     ON CONFLICT (experiment_id, role, name) DO UPDATE SET dataset_id = excluded.dataset_id, uri = excluded.uri,
       digest = excluded.digest, rows = excluded.rows, logged_at = excluded.logged_at`,
    [
      e.id,
      datasets.map((d) => d.role),
      datasets.map((d) => d.name),
      datasets.map((d) => d.id),
      datasets.map((d) => d.uri),
      datasets.map((d) => d.digest),
      datasets.map((d) => d.rows),
      datasets.map((d) => d.loggedAt),
    ],
  );
}

/** Upserts every param; fails LIMIT_EXCEEDED (the transaction rolls back) when new keys pass maxParams. */
async function upsertParams(db: PgQuery, e: PublishedExperiment, limits: Limits): Promise<void> {
  if (e.params.length === 0) return;
  // One statement cannot update a row twice: the last of duplicate keys wins.
  const params = [...new Map(e.params.map((p) => [p.key, p] as const)).values()];
  const { rows } = await db.query<{ inserted: boolean }>(
    `INSERT INTO params (experiment_id, key, type, value)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
     ON CONFLICT (experiment_id, key) DO UPDATE SET type = excluded.type, value = excluded.value
     RETURNING (xmax = 0) AS inserted`,
    [e.id, params.map((p) => p.key), params.map((p) => p.type), params.map((p) => p.value)],
  );
  // Only new keys can pass the limit: updating an experiment already over a since-lowered limit still works.
  if (!rows.some((row) => row.inserted)) return;
  const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM params WHERE experiment_id = $1', [e.id]);
  const actual = count.rows[0]!.n;
  if (actual > limits.maxParams) {
    throw new LablogError(
      'LIMIT_EXCEEDED',
      `experiment ${e.id} would have ${actual} params; the limit is ${limits.maxParams} (maxParams)`,
      {
        experiment: e.id,
        limit: limits.maxParams,
        actual,
      },
    );
  }
}

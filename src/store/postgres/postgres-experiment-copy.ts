// Copying an experiment inside a PostgreSQL store: its row under a free name, tags, params, series, points and tables.

import { lockExperiment } from './experiment-lock.js';
import type { PgStore } from './pg-pool.js';

/** Copies the experiment `sourceId` as `newId`, named by the first free `nameFor(attempt)` in its project. */
export async function copyExperiment(
  store: PgStore,
  sourceId: string,
  newId: string,
  nameFor: (attempt: number) => string,
  now: number,
): Promise<void> {
  await store.transaction(`copying experiment ${sourceId}`, async (db) => {
    await lockExperiment(db, sourceId);
    const { rows } = await db.query<{ project: string }>('SELECT project FROM experiments WHERE id = $1', [sourceId]);
    const project = rows[0]!.project;
    let name = nameFor(1);
    for (
      let attempt = 2;
      ((await db.query('SELECT 1 FROM experiments WHERE project = $1 AND name = $2', [project, name])).rowCount ?? 0) > 0;
      attempt++
    ) {
      name = nameFor(attempt);
    }
    await db.query(
      `INSERT INTO experiments (id, project, name, description, tags, status, created_at, updated_at, ended_at, heartbeat_at, hostname, version, published_at,
         progress, phase, progress_at)
       SELECT $1, project, $2, description, tags, status, created_at, $3, ended_at, heartbeat_at, hostname, version, $3,
         progress, phase, progress_at FROM experiments WHERE id = $4`,
      [newId, name, now, sourceId],
    );
    await db.query('INSERT INTO experiment_tags (experiment_id, tag) SELECT $1, tag FROM experiment_tags WHERE experiment_id = $2', [
      newId,
      sourceId,
    ]);
    await db.query(
      'INSERT INTO params (experiment_id, key, type, value) SELECT $1, key, type, value FROM params WHERE experiment_id = $2',
      [newId, sourceId],
    );
    await db.query(
      `INSERT INTO experiment_datasets (experiment_id, role, name, dataset_id, uri, digest, rows, logged_at)
       SELECT $1, role, name, dataset_id, uri, digest, rows, logged_at FROM experiment_datasets WHERE experiment_id = $2`,
      [newId, sourceId],
    );
    const series = await db.query<{ id: string }>('SELECT id FROM series WHERE experiment_id = $1 ORDER BY id', [sourceId]);
    for (const { id } of series.rows) {
      const copy = await db.query<{ id: string }>(
        `INSERT INTO series (experiment_id, name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value)
         SELECT $1, name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value FROM series WHERE id = $2 RETURNING id`,
        [newId, id],
      );
      const to = copy.rows[0]!.id;
      await db.query(
        `INSERT INTO metric_chunks (series_id, first_step, last_step, count, encoding, min_value, max_value, steps, vals, timestamps)
         SELECT $1, first_step, last_step, count, encoding, min_value, max_value, steps, vals, timestamps FROM metric_chunks WHERE series_id = $2`,
        [to, id],
      );
      await db.query(
        `INSERT INTO image_points (series_id, step, timestamp, caption, blob_hash, width, height)
         SELECT $1, step, timestamp, caption, blob_hash, width, height FROM image_points WHERE series_id = $2`,
        [to, id],
      );
      await db.query(
        'INSERT INTO plot_points (series_id, step, timestamp, caption, figure) SELECT $1, step, timestamp, caption, figure FROM plot_points WHERE series_id = $2',
        [to, id],
      );
    }
    await db.query(
      `INSERT INTO tables (experiment_id, name, rows, columns, format, blob_hash, logged_at)
       SELECT $1, name, rows, columns, format, blob_hash, logged_at FROM tables WHERE experiment_id = $2`,
      [newId, sourceId],
    );
  });
}

// SQLite experiment copy: duplicates an experiment under a new id — params, tags, every series with its points, tables (blobs shared).

import { LablogError } from '../../model/errors.js';
import type { ExperimentRecord } from '../../model/experiment.js';
import type { SqliteBackend } from './sqlite-backend.js';

/**
 * Copies experiment `sourceId` as `newId`, named by the first free `nameFor(attempt)` in its project, in one
 * transaction. The copy keeps status, times and data; it belongs to no study and to no process.
 */
export function copyExperiment(
  store: SqliteBackend,
  sourceId: string,
  newId: string,
  nameFor: (attempt: number) => string,
  now: number,
): ExperimentRecord {
  return store.transaction('copying an experiment', () => {
    const db = store.database;
    const source = db.prepare('SELECT project FROM experiments WHERE id = ?').get(sourceId) as { project: string } | undefined;
    if (source === undefined) throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id ${sourceId}`, { id: sourceId });
    const taken = db.prepare('SELECT 1 FROM experiments WHERE project = ? AND name = ?').pluck();
    let name = nameFor(1);
    for (let attempt = 2; taken.get(source.project, name) !== undefined; attempt++) name = nameFor(attempt);
    db.prepare(
      `INSERT INTO experiments (id, project, name, description, tags, status, created_at, updated_at, ended_at, heartbeat_at, pid, hostname, version,
         progress, phase, progress_at)
       SELECT ?, project, ?, description, tags, status, created_at, ?, ended_at, heartbeat_at, NULL, hostname, version,
         progress, phase, progress_at FROM experiments WHERE id = ?`,
    ).run(newId, name, now, sourceId);
    db.prepare('INSERT INTO experiment_tags (experiment_id, tag) SELECT ?, tag FROM experiment_tags WHERE experiment_id = ?').run(
      newId,
      sourceId,
    );
    db.prepare('INSERT INTO params (experiment_id, key, type, value) SELECT ?, key, type, value FROM params WHERE experiment_id = ?').run(
      newId,
      sourceId,
    );
    db.prepare(
      `INSERT INTO experiment_datasets (experiment_id, role, name, dataset_id, uri, digest, rows, logged_at)
       SELECT ?, role, name, dataset_id, uri, digest, rows, logged_at FROM experiment_datasets WHERE experiment_id = ?`,
    ).run(newId, sourceId);
    const series = db.prepare('SELECT id FROM series WHERE experiment_id = ? ORDER BY id').pluck().all(sourceId) as number[];
    const insertSeries = db.prepare(
      `INSERT INTO series (experiment_id, name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value)
       SELECT ?, name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value FROM series WHERE id = ?`,
    );
    const chunks = db.prepare(
      `INSERT INTO metric_chunks (series_id, first_step, last_step, count, encoding, steps, vals, timestamps)
       SELECT ?, first_step, last_step, count, encoding, steps, vals, timestamps FROM metric_chunks WHERE series_id = ?`,
    );
    const images = db.prepare(
      `INSERT INTO image_points (series_id, step, timestamp, caption, blob_hash, width, height)
       SELECT ?, step, timestamp, caption, blob_hash, width, height FROM image_points WHERE series_id = ?`,
    );
    const plots = db.prepare(
      'INSERT INTO plot_points (series_id, step, timestamp, caption, figure) SELECT ?, step, timestamp, caption, figure FROM plot_points WHERE series_id = ?',
    );
    for (const id of series) {
      const copy = Number(insertSeries.run(newId, id).lastInsertRowid);
      chunks.run(copy, id);
      images.run(copy, id);
      plots.run(copy, id);
    }
    db.prepare(
      `INSERT INTO tables (experiment_id, name, rows, columns, format, blob_hash, logged_at)
       SELECT ?, name, rows, columns, format, blob_hash, logged_at FROM tables WHERE experiment_id = ?`,
    ).run(newId, sourceId);
    return store.getExperiment(newId)!;
  });
}

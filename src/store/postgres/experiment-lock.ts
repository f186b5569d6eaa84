// The row lock that makes writers of one PostgreSQL experiment (ingest, truncate, copy) take turns.

import { LablogError } from '../../model/errors.js';
import type { PgQuery } from './pg-pool.js';

/** Locks the experiment's row until the transaction ends, so writers of one experiment take turns. */
export async function lockExperiment(db: PgQuery, id: string): Promise<void> {
  const { rowCount } = await db.query('SELECT 1 FROM experiments WHERE id = $1 FOR UPDATE', [id]);
  if (rowCount === 0) {
    throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id ${id}; publish the experiment first`, { id });
  }
}

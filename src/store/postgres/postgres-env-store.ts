// The env vars of a PostgreSQL store: set, get, list, delete per scope, with the SQLite store's rules and errors.

import { LablogError } from '../../model/errors.js';
import { secretDowngrade, type EnvScope, type StoredEnvVar } from '../../model/env-vars.js';
import type { ServerEnvStore } from '../env-store.js';
import type { PgStore } from './pg-pool.js';
import { f8 } from './sql-values.js';

interface Row {
  project: string;
  experiment_id: string;
  name: string;
  value: string;
  secret: boolean;
  updated_at: number;
}

const experimentColumn = (scope: EnvScope): string => scope.experimentId ?? '';

function toVar(row: Row): StoredEnvVar {
  return {
    project: row.project,
    experimentId: row.experiment_id === '' ? null : row.experiment_id,
    name: row.name,
    value: row.value,
    secret: row.secret,
    updatedAt: row.updated_at,
  };
}

/**
 * Env vars of a PostgreSQL store (sqlite-env-backend.ts's rules). Writers of one scope take turns on a
 * transaction-scoped advisory lock of that scope, so the per-scope count and the secret check hold when
 * several server processes write at once.
 */
export class PostgresEnvStore implements ServerEnvStore {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async setVar(entry: StoredEnvVar, maxPerScope: number): Promise<StoredEnvVar> {
    const scope = [entry.project, experimentColumn(entry)];
    return this.#store.transaction('setting an env var', async (db) => {
      await db.query(`SELECT pg_advisory_xact_lock(hashtext('lablog env ' || length($1) || ':' || $1 || $2))`, scope);
      const { rows: existing } = await db.query<{ secret: boolean }>(
        'SELECT secret FROM env_vars WHERE project = $1 AND experiment_id = $2 AND name = $3',
        [...scope, entry.name],
      );
      if (existing[0]?.secret === true && !entry.secret) throw secretDowngrade(entry, entry.name);
      if (existing.length === 0) {
        const { rows } = await db.query<{ count: number }>(
          'SELECT count(*)::int AS count FROM env_vars WHERE project = $1 AND experiment_id = $2',
          scope,
        );
        const count = rows[0]!.count;
        if (count >= maxPerScope) {
          throw new LablogError(
            'LIMIT_EXCEEDED',
            `a scope holds at most ${maxPerScope} env vars; setting ${entry.name} would make ${count + 1}`,
            {
              key: entry.name,
              project: entry.project,
              limit: maxPerScope,
              actual: count + 1,
            },
          );
        }
      }
      const { rows } = await db.query<Row>(
        `INSERT INTO env_vars (project, experiment_id, name, value, secret, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (project, experiment_id, name) DO UPDATE SET value = excluded.value, secret = excluded.secret, updated_at = excluded.updated_at
         RETURNING project, experiment_id, name, value, secret, updated_at`,
        [...scope, entry.name, entry.value, entry.secret, f8(entry.updatedAt)],
      );
      return toVar(rows[0]!);
    });
  }

  async getVar(scope: EnvScope, name: string): Promise<StoredEnvVar | undefined> {
    const rows = await this.#store.query<Row>(
      'reading an env var',
      'SELECT project, experiment_id, name, value, secret, updated_at FROM env_vars WHERE project = $1 AND experiment_id = $2 AND name = $3',
      [scope.project, experimentColumn(scope), name],
    );
    return rows[0] && toVar(rows[0]);
  }

  async listVars(scope: EnvScope): Promise<StoredEnvVar[]> {
    const rows = await this.#store.query<Row>(
      'listing env vars',
      'SELECT project, experiment_id, name, value, secret, updated_at FROM env_vars WHERE project = $1 AND experiment_id = $2 ORDER BY name',
      [scope.project, experimentColumn(scope)],
    );
    return rows.map(toVar);
  }

  async deleteVar(scope: EnvScope, name: string): Promise<boolean> {
    const rows = await this.#store.query<{ name: string }>(
      'deleting an env var',
      'DELETE FROM env_vars WHERE project = $1 AND experiment_id = $2 AND name = $3 RETURNING name',
      [scope.project, experimentColumn(scope), name],
    );
    return rows.length > 0;
  }
}

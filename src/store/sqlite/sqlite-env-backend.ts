// SQLite env vars: the EnvStore over the store's own connection (project scope stored as experiment_id '').

import { LablogError } from '../../model/errors.js';
import { secretDowngrade, type EnvScope, type StoredEnvVar } from '../../model/env-vars.js';
import type { EnvStore } from '../env-store.js';
import type { SqliteBackend } from './sqlite-backend.js';

interface Row {
  project: string;
  experiment_id: string;
  name: string;
  value: string;
  secret: number;
  updated_at: number;
}

/** The column value of a scope's experiment ('' for the project's own variables). */
const experimentColumn = (scope: EnvScope): string => scope.experimentId ?? '';

function toVar(row: Row): StoredEnvVar {
  return {
    project: row.project,
    experimentId: row.experiment_id === '' ? null : row.experiment_id,
    name: row.name,
    value: row.value,
    secret: row.secret === 1,
    updatedAt: row.updated_at,
  };
}

export class SqliteEnvBackend implements EnvStore {
  readonly #store: SqliteBackend;

  constructor(store: SqliteBackend) {
    this.#store = store;
  }

  get #db() {
    return this.#store.database;
  }

  setVar(entry: StoredEnvVar, maxPerScope: number): StoredEnvVar {
    return this.#store.transaction('setting an env var', () => {
      const scope = [entry.project, experimentColumn(entry)] as const;
      const existing = this.#db
        .prepare('SELECT secret FROM env_vars WHERE project = ? AND experiment_id = ? AND name = ?')
        .pluck()
        .get(...scope, entry.name) as number | undefined;
      if (existing === 1 && !entry.secret) throw secretDowngrade(entry, entry.name);
      if (existing === undefined) {
        const count = this.#db
          .prepare('SELECT count(*) FROM env_vars WHERE project = ? AND experiment_id = ?')
          .pluck()
          .get(...scope) as number;
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
      const row = this.#db
        .prepare(
          `INSERT INTO env_vars (project, experiment_id, name, value, secret, updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (project, experiment_id, name) DO UPDATE SET value = excluded.value, secret = excluded.secret, updated_at = excluded.updated_at
           RETURNING *`,
        )
        .get(...scope, entry.name, entry.value, entry.secret ? 1 : 0, entry.updatedAt) as Row;
      return toVar(row);
    });
  }

  getVar(scope: EnvScope, name: string): StoredEnvVar | undefined {
    return this.#store.read('reading an env var', () => {
      const row = this.#db
        .prepare('SELECT * FROM env_vars WHERE project = ? AND experiment_id = ? AND name = ?')
        .get(scope.project, experimentColumn(scope), name) as Row | undefined;
      return row && toVar(row);
    });
  }

  listVars(scope: EnvScope): StoredEnvVar[] {
    return this.#store.read('listing env vars', () =>
      (
        this.#db
          .prepare('SELECT * FROM env_vars WHERE project = ? AND experiment_id = ? ORDER BY name')
          .all(scope.project, experimentColumn(scope)) as Row[]
      ).map(toVar),
    );
  }

  deleteVar(scope: EnvScope, name: string): boolean {
    return this.#store.transaction(
      'deleting an env var',
      () =>
        this.#db
          .prepare('DELETE FROM env_vars WHERE project = ? AND experiment_id = ? AND name = ?')
          .run(scope.project, experimentColumn(scope), name).changes > 0,
    );
  }
}

// PostgreSQL registered models: the ModelStore of a server's database, with the embedded store's rules; registering locks the model's row, so versions are numbered once each across server processes.

import type { AliasMove, ModelRecord, ModelVersionRecord } from '../../model/artifact.js';
import { artifactNotFound, assertAliasRoom, assertVersionRoom, modelNotFound } from '../../model/model-rules.js';
import type { NewModelVersion, ServerModelStore } from '../artifact-store.js';
import type { PgQuery, PgStore } from './pg-pool.js';
import { jsonParam } from './sql-values.js';

interface ModelRow {
  project: string;
  name: string;
  description: string | null;
  tags: string[];
  created_at: number;
  updated_at: number;
  latest_version: number | null;
}

interface VersionRow {
  project: string;
  model: string;
  version: number;
  experiment_id: string;
  artifact_id: string;
  description: string | null;
  created_at: number;
}

const SELECT_MODEL =
  'SELECT m.project, m.name, m.description, m.tags, m.created_at, m.updated_at, ' +
  '(SELECT max(version) FROM model_versions v WHERE v.project = m.project AND v.model = m.name) AS latest_version FROM models m';
const VERSION_COLUMNS = 'project, model, version, experiment_id, artifact_id, description, created_at';

function toVersion(row: VersionRow): ModelVersionRecord {
  return {
    project: row.project,
    model: row.model,
    version: row.version,
    experimentId: row.experiment_id,
    artifactId: row.artifact_id,
    description: row.description,
    createdAt: row.created_at,
  };
}

async function aliasesOf(db: PgQuery, project: string, name: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ alias: string; version: number }>(
    'SELECT alias, version FROM model_aliases WHERE project = $1 AND model = $2 ORDER BY alias',
    [project, name],
  );
  return Object.fromEntries(rows.map((r) => [r.alias, r.version]));
}

async function modelOf(db: PgQuery, project: string, name: string): Promise<ModelRecord | undefined> {
  const { rows } = await db.query<ModelRow>(`${SELECT_MODEL} WHERE m.project = $1 AND m.name = $2`, [project, name]);
  return rows[0] === undefined ? undefined : toModel(rows[0], await aliasesOf(db, project, name));
}

function toModel(row: ModelRow, aliases: Record<string, number>): ModelRecord {
  return {
    project: row.project,
    name: row.name,
    description: row.description,
    tags: row.tags,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    aliases,
    latestVersion: row.latest_version,
  };
}

async function versionOf(db: PgQuery, project: string, name: string, version: number): Promise<ModelVersionRecord | undefined> {
  const { rows } = await db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE project = $1 AND model = $2 AND version = $3`,
    [project, name, version],
  );
  return rows[0] === undefined ? undefined : toVersion(rows[0]);
}

/** Points (or removes, `to` null) an alias and records the move; nothing when it already points there. */
async function pointAlias(
  db: PgQuery,
  project: string,
  name: string,
  alias: string,
  from: number | null,
  to: number | null,
  now: number,
): Promise<void> {
  if (from === to) return;
  if (to === null) await db.query('DELETE FROM model_aliases WHERE project = $1 AND model = $2 AND alias = $3', [project, name, alias]);
  else
    await db.query(
      `INSERT INTO model_aliases (project, model, alias, version) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project, model, alias) DO UPDATE SET version = excluded.version`,
      [project, name, alias, to],
    );
  await db.query('INSERT INTO model_alias_moves (project, model, alias, from_version, to_version, at) VALUES ($1, $2, $3, $4, $5, $6)', [
    project,
    name,
    alias,
    from,
    to,
    now,
  ]);
}

/** Locks the model's row until the transaction ends; false when there is no such model. */
async function lockModel(db: PgQuery, project: string, name: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM models WHERE project = $1 AND name = $2 FOR UPDATE', [project, name]);
  return (rowCount ?? 0) > 0;
}

/**
 * The registered models of a PostgreSQL store, with the SQLite store's rules and errors
 * (sqlite-model-backend.ts). Registering inserts the model if absent and updates it otherwise (INSERT … ON
 * CONFLICT DO UPDATE, which locks its row), then reads the highest version: registrations of one model from
 * every server process take turns, and each gets the next number. Alias moves lock the row too.
 */
export class PostgresModelStore implements ServerModelStore {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async registerVersion(v: NewModelVersion): Promise<ModelVersionRecord> {
    return this.#store.transaction('registering a model version', async (db) => {
      const owner = await db.query<{ experiment_id: string }>('SELECT experiment_id FROM artifacts WHERE id = $1', [v.artifactId]);
      if (owner.rows[0]?.experiment_id !== v.experimentId) throw artifactNotFound(v.experimentId, v.artifactId);
      await db.query(
        `INSERT INTO models (project, name, description, tags, created_at, updated_at) VALUES ($1, $2, NULL, '[]', $3, $3)
         ON CONFLICT (project, name) DO UPDATE SET updated_at = excluded.updated_at`,
        [v.project, v.model, v.now],
      );
      const { rows } = await db.query<{ latest: number }>(
        'SELECT coalesce(max(version), 0) AS latest FROM model_versions WHERE project = $1 AND model = $2',
        [v.project, v.model],
      );
      const latest = rows[0]!.latest;
      assertVersionRoom(v.model, v.project, latest);
      const version = latest + 1;
      await db.query(`INSERT INTO model_versions (${VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        v.project,
        v.model,
        version,
        v.experimentId,
        v.artifactId,
        v.description,
        v.now,
      ]);
      const aliases = new Set(v.aliases);
      const held = await aliasesOf(db, v.project, v.model);
      assertAliasRoom(v.model, v.project, new Set([...Object.keys(held), ...aliases]).size);
      for (const alias of aliases) await pointAlias(db, v.project, v.model, alias, held[alias] ?? null, version, v.now);
      return (await versionOf(db, v.project, v.model, version))!;
    });
  }

  async getModel(project: string, name: string): Promise<ModelRecord | undefined> {
    return this.#store.transaction('reading a model', (db) => modelOf(db, project, name));
  }

  async listModels(project?: string): Promise<ModelRecord[]> {
    return this.#store.transaction('listing models', async (db) => {
      const { rows } =
        project === undefined
          ? await db.query<ModelRow>(`${SELECT_MODEL} ORDER BY m.name, m.project`)
          : await db.query<ModelRow>(`${SELECT_MODEL} WHERE m.project = $1 ORDER BY m.name`, [project]);
      const { rows: aliasRows } = await db.query<{ project: string; model: string; alias: string; version: number }>(
        `SELECT project, model, alias, version FROM model_aliases ${project === undefined ? '' : 'WHERE project = $1'} ORDER BY alias`,
        project === undefined ? [] : [project],
      );
      const aliases = new Map<string, Record<string, number>>();
      for (const a of aliasRows) {
        const key = `${a.project}\u0000${a.model}`;
        let held = aliases.get(key);
        if (held === undefined) aliases.set(key, (held = {}));
        held[a.alias] = a.version;
      }
      return rows.map((row) => toModel(row, aliases.get(`${row.project}\u0000${row.name}`) ?? {}));
    });
  }

  async listVersions(project: string, name: string): Promise<ModelVersionRecord[]> {
    const rows = await this.#store.query<VersionRow>(
      'listing model versions',
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE project = $1 AND model = $2 ORDER BY version`,
      [project, name],
    );
    return rows.map(toVersion);
  }

  async getVersion(project: string, name: string, version: number): Promise<ModelVersionRecord | undefined> {
    return this.#store.transaction('reading a model version', (db) => versionOf(db, project, name, version));
  }

  async setAlias(project: string, name: string, alias: string, version: number | null, now: number): Promise<void> {
    await this.#store.transaction('moving a model alias', async (db) => {
      if (!(await lockModel(db, project, name))) throw modelNotFound(project, name);
      if (version !== null && (await versionOf(db, project, name, version)) === undefined) throw modelNotFound(project, name, version);
      const held = await aliasesOf(db, project, name);
      if (version !== null) assertAliasRoom(name, project, new Set([...Object.keys(held), alias]).size);
      await pointAlias(db, project, name, alias, held[alias] ?? null, version, now);
      await db.query('UPDATE models SET updated_at = $1 WHERE project = $2 AND name = $3', [now, project, name]);
    });
  }

  async aliasMoves(project: string, name: string): Promise<AliasMove[]> {
    const rows = await this.#store.query<{ alias: string; from_version: number | null; to_version: number | null; at: number }>(
      'reading alias moves',
      'SELECT alias, from_version, to_version, at FROM model_alias_moves WHERE project = $1 AND model = $2 ORDER BY at, id',
      [project, name],
    );
    return rows.map((r) => ({ alias: r.alias, from: r.from_version, to: r.to_version, at: r.at }));
  }

  async updateModel(
    project: string,
    name: string,
    patch: { description?: string | null; tags?: readonly string[] },
    now: number,
  ): Promise<ModelRecord> {
    return this.#store.transaction('updating a model', async (db) => {
      if (!(await lockModel(db, project, name))) throw modelNotFound(project, name);
      if (patch.description !== undefined)
        await db.query('UPDATE models SET description = $1 WHERE project = $2 AND name = $3', [patch.description, project, name]);
      if (patch.tags !== undefined)
        await db.query('UPDATE models SET tags = $1::jsonb WHERE project = $2 AND name = $3', [jsonParam(patch.tags), project, name]);
      await db.query('UPDATE models SET updated_at = $1 WHERE project = $2 AND name = $3', [now, project, name]);
      return (await modelOf(db, project, name))!;
    });
  }
}

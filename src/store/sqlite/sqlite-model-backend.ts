// SQLite registered models: the ModelStore over the store's own connection; a version is numbered in an IMMEDIATE transaction, so registrations from several processes never share a number.

import type { AliasMove, ModelRecord, ModelVersionRecord } from '../../model/artifact.js';
import { artifactNotFound, assertAliasRoom, assertVersionRoom, modelNotFound } from '../../model/model-rules.js';
import type { ModelStore, NewModelVersion } from '../artifact-store.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteBackend } from './sqlite-backend.js';

interface ModelRow {
  project: string;
  name: string;
  description: string | null;
  tags: string;
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

interface MoveRow {
  alias: string;
  from_version: number | null;
  to_version: number | null;
  at: number;
}

const SELECT_MODEL =
  'SELECT m.*, (SELECT max(version) FROM model_versions v WHERE v.project = m.project AND v.model = m.name) AS latest_version FROM models m';

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

export class SqliteModelBackend implements ModelStore {
  readonly #store: SqliteBackend;
  readonly #statements = new Map<string, Statement>();

  constructor(store: SqliteBackend) {
    this.#store = store;
  }

  #prepare(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#store.database.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  registerVersion(v: NewModelVersion): ModelVersionRecord {
    return this.#store.transaction('registering a model version', () => {
      const owner = this.#prepare('SELECT experiment_id FROM artifacts WHERE id = ?').pluck().get(v.artifactId) as string | undefined;
      if (owner !== v.experimentId) throw artifactNotFound(v.experimentId, v.artifactId);
      this.#prepare(
        `INSERT INTO models (project, name, description, tags, created_at, updated_at) VALUES (?, ?, NULL, '[]', ?, ?)
         ON CONFLICT (project, name) DO UPDATE SET updated_at = excluded.updated_at`,
      ).run(v.project, v.model, v.now, v.now);
      const latest = this.#prepare('SELECT coalesce(max(version), 0) FROM model_versions WHERE project = ? AND model = ?')
        .pluck()
        .get(v.project, v.model) as number;
      assertVersionRoom(v.model, v.project, latest);
      const version = latest + 1;
      this.#prepare(
        `INSERT INTO model_versions (project, model, version, experiment_id, artifact_id, description, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(v.project, v.model, version, v.experimentId, v.artifactId, v.description, v.now);
      const aliases = new Set(v.aliases);
      const held = this.#aliases(v.project, v.model);
      assertAliasRoom(v.model, v.project, new Set([...Object.keys(held), ...aliases]).size);
      for (const alias of aliases) this.#pointAlias(v.project, v.model, alias, held[alias] ?? null, version, v.now);
      return this.#version(v.project, v.model, version)!;
    });
  }

  #aliases(project: string, name: string): Record<string, number> {
    const rows = this.#prepare('SELECT alias, version FROM model_aliases WHERE project = ? AND model = ? ORDER BY alias').all(
      project,
      name,
    ) as { alias: string; version: number }[];
    return Object.fromEntries(rows.map((r) => [r.alias, r.version]));
  }

  /** Points (or removes, `to` null) an alias and records the move; nothing when it already points there. */
  #pointAlias(project: string, name: string, alias: string, from: number | null, to: number | null, now: number): void {
    if (from === to) return;
    if (to === null) this.#prepare('DELETE FROM model_aliases WHERE project = ? AND model = ? AND alias = ?').run(project, name, alias);
    else
      this.#prepare(
        `INSERT INTO model_aliases (project, model, alias, version) VALUES (?, ?, ?, ?)
         ON CONFLICT (project, model, alias) DO UPDATE SET version = excluded.version`,
      ).run(project, name, alias, to);
    this.#prepare('INSERT INTO model_alias_moves (project, model, alias, from_version, to_version, at) VALUES (?, ?, ?, ?, ?, ?)').run(
      project,
      name,
      alias,
      from,
      to,
      now,
    );
  }

  #model(row: ModelRow): ModelRecord {
    return {
      project: row.project,
      name: row.name,
      description: row.description,
      tags: JSON.parse(row.tags) as string[],
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      aliases: this.#aliases(row.project, row.name),
      latestVersion: row.latest_version,
    };
  }

  #getModel(project: string, name: string): ModelRecord | undefined {
    const row = this.#prepare(`${SELECT_MODEL} WHERE m.project = ? AND m.name = ?`).get(project, name) as ModelRow | undefined;
    return row === undefined ? undefined : this.#model(row);
  }

  getModel(project: string, name: string): ModelRecord | undefined {
    return this.#store.read('reading a model', () => this.#getModel(project, name));
  }

  listModels(project?: string): ModelRecord[] {
    return this.#store.read('listing models', () => {
      const rows = (
        project === undefined
          ? this.#prepare(`${SELECT_MODEL} ORDER BY m.name, m.project`).all()
          : this.#prepare(`${SELECT_MODEL} WHERE m.project = ? ORDER BY m.name`).all(project)
      ) as ModelRow[];
      return rows.map((row) => this.#model(row));
    });
  }

  listVersions(project: string, name: string): ModelVersionRecord[] {
    return this.#store.read('listing model versions', () =>
      (
        this.#prepare('SELECT * FROM model_versions WHERE project = ? AND model = ? ORDER BY version').all(project, name) as VersionRow[]
      ).map(toVersion),
    );
  }

  #version(project: string, name: string, version: number): ModelVersionRecord | undefined {
    const row = this.#prepare('SELECT * FROM model_versions WHERE project = ? AND model = ? AND version = ?').get(
      project,
      name,
      version,
    ) as VersionRow | undefined;
    return row === undefined ? undefined : toVersion(row);
  }

  getVersion(project: string, name: string, version: number): ModelVersionRecord | undefined {
    return this.#store.read('reading a model version', () => this.#version(project, name, version));
  }

  setAlias(project: string, name: string, alias: string, version: number | null, now: number): void {
    this.#store.transaction('moving a model alias', () => {
      if (this.#getModel(project, name) === undefined) throw modelNotFound(project, name);
      if (version !== null && this.#version(project, name, version) === undefined) throw modelNotFound(project, name, version);
      const held = this.#aliases(project, name);
      if (version !== null) assertAliasRoom(name, project, new Set([...Object.keys(held), alias]).size);
      this.#pointAlias(project, name, alias, held[alias] ?? null, version, now);
      this.#prepare('UPDATE models SET updated_at = ? WHERE project = ? AND name = ?').run(now, project, name);
    });
  }

  aliasMoves(project: string, name: string): AliasMove[] {
    return this.#store.read('reading alias moves', () =>
      (
        this.#prepare(
          'SELECT alias, from_version, to_version, at FROM model_alias_moves WHERE project = ? AND model = ? ORDER BY at, rowid',
        ).all(project, name) as MoveRow[]
      ).map((r) => ({ alias: r.alias, from: r.from_version, to: r.to_version, at: r.at })),
    );
  }

  updateModel(project: string, name: string, patch: { description?: string | null; tags?: readonly string[] }, now: number): ModelRecord {
    return this.#store.transaction('updating a model', () => {
      if (this.#getModel(project, name) === undefined) throw modelNotFound(project, name);
      if (patch.description !== undefined)
        this.#prepare('UPDATE models SET description = ? WHERE project = ? AND name = ?').run(patch.description, project, name);
      if (patch.tags !== undefined)
        this.#prepare('UPDATE models SET tags = ? WHERE project = ? AND name = ?').run(JSON.stringify(patch.tags), project, name);
      this.#prepare('UPDATE models SET updated_at = ? WHERE project = ? AND name = ?').run(now, project, name);
      return this.#getModel(project, name)!;
    });
  }
}

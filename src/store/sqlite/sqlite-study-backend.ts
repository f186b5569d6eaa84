// SQLite studies: the StudyBackend over the store's own connection.

import { LablogError } from '../../model/errors.js';
import type { StudyFilter, StudyMember, StudyPatch, StudyQuery, StudyRecord, StudyStatus } from '../../model/study.js';
import type { StudyBackend } from '../study-store.js';
import type { SqliteBackend } from './sqlite-backend.js';
import { STUDY_JSON_FIELDS, STUDY_SORT_COLUMNS, studyPatchColumn } from '../study-columns.js';

interface Row {
  id: string;
  project: string;
  name: string;
  description: string | null;
  hypothesis: string | null;
  tags: string;
  metadata: string;
  baseline: string | null;
  template: string | null;
  status: StudyStatus;
  conclusion: string | null;
  archive_reason: string | null;
  preserve_artifacts: number | null;
  created_at: number;
  updated_at: number;
}

function toRecord(row: Row): StudyRecord {
  return {
    id: row.id,
    project: row.project,
    name: row.name,
    description: row.description,
    hypothesis: row.hypothesis,
    tags: JSON.parse(row.tags) as string[],
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    baseline: row.baseline === null ? null : (JSON.parse(row.baseline) as StudyRecord['baseline']),
    template: row.template === null ? null : (JSON.parse(row.template) as StudyRecord['template']),
    status: row.status,
    conclusion: row.conclusion,
    archiveReason: row.archive_reason,
    preserveArtifacts: row.preserve_artifacts === null ? null : row.preserve_artifacts === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toColumn(field: string, value: unknown): unknown {
  if (STUDY_JSON_FIELDS.has(field)) return value === null ? null : JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

export class SqliteStudyBackend implements StudyBackend {
  readonly #store: SqliteBackend;

  constructor(store: SqliteBackend) {
    this.#store = store;
  }

  get #db() {
    return this.#store.database;
  }

  createStudy(r: StudyRecord): void {
    this.#store.transaction('creating a study', () => {
      if (this.#db.prepare('SELECT 1 FROM studies WHERE project = ? AND name = ?').get(r.project, r.name) !== undefined) {
        throw new LablogError('INVALID_NAME', `a study named '${r.name}' exists in project '${r.project}'`, {
          key: r.name,
          project: r.project,
        });
      }
      this.#db
        .prepare(
          `INSERT INTO studies (id, project, name, description, hypothesis, tags, metadata, baseline, template, status, conclusion,
             archive_reason, preserve_artifacts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          r.id,
          r.project,
          r.name,
          r.description,
          r.hypothesis,
          JSON.stringify(r.tags),
          JSON.stringify(r.metadata),
          toColumn('baseline', r.baseline),
          toColumn('template', r.template),
          r.status,
          r.conclusion,
          r.archiveReason,
          toColumn('preserveArtifacts', r.preserveArtifacts),
          r.createdAt,
          r.updatedAt,
        );
    });
  }

  getStudy(id: string): StudyRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM studies WHERE id = ?').get(id) as Row | undefined;
    return row && toRecord(row);
  }

  findStudies(name: string, project?: string): StudyRecord[] {
    const rows = (
      project === undefined
        ? this.#db.prepare('SELECT * FROM studies WHERE name = ? ORDER BY created_at').all(name)
        : this.#db.prepare('SELECT * FROM studies WHERE name = ? AND project = ?').all(name, project)
    ) as Row[];
    return rows.map(toRecord);
  }

  #where(query: StudyFilter): { sql: string; args: unknown[] } {
    const clauses: string[] = [];
    const args: unknown[] = [];
    if (query.project !== undefined) {
      clauses.push('project = ?');
      args.push(query.project);
    }
    if (query.projects !== undefined) {
      clauses.push(`project IN (${query.projects.map(() => '?').join(', ') || 'NULL'})`);
      args.push(...query.projects);
    }
    if (query.status !== undefined) {
      clauses.push('status = ?');
      args.push(query.status);
    }
    for (const tag of new Set(query.tags ?? [])) {
      clauses.push('EXISTS (SELECT 1 FROM json_each(studies.tags) WHERE json_each.value = ?)');
      args.push(tag);
    }
    return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', args };
  }

  listStudies(query: StudyQuery): StudyRecord[] {
    const { sql, args } = this.#where(query);
    const order = query.order === 'asc' ? 'ASC' : 'DESC';
    const rows = this.#db
      .prepare(
        `SELECT * FROM studies ${sql} ORDER BY ${STUDY_SORT_COLUMNS[query.sort] ?? 'created_at'} ${order}, id ${order} LIMIT ? OFFSET ?`,
      )
      .all(...args, query.limit, query.offset) as Row[];
    return rows.map(toRecord);
  }

  countStudies(query: StudyFilter): number {
    const { sql, args } = this.#where(query);
    return this.#db
      .prepare(`SELECT count(*) FROM studies ${sql}`)
      .pluck()
      .get(...args) as number;
  }

  updateStudy(id: string, patch: StudyPatch, now: number): StudyRecord {
    return this.#store.transaction('updating a study', () => {
      const current = this.getStudy(id);
      if (current === undefined) throw new LablogError('STUDY_NOT_FOUND', `no study with id ${id}`, { id });
      if (patch.name !== undefined && patch.name !== current.name) {
        if (this.#db.prepare('SELECT 1 FROM studies WHERE project = ? AND name = ?').get(current.project, patch.name) !== undefined) {
          throw new LablogError('INVALID_NAME', `a study named '${patch.name}' exists in project '${current.project}'`, {
            key: patch.name,
          });
        }
      }
      const fields = Object.keys(patch).filter(
        (f) => studyPatchColumn(f) !== undefined && (patch as Record<string, unknown>)[f] !== undefined,
      );
      const sets = fields.map((f) => `${studyPatchColumn(f)} = ?`);
      const values = fields.map((f) => toColumn(f, (patch as Record<string, unknown>)[f]));
      this.#db.prepare(`UPDATE studies SET ${[...sets, 'updated_at = ?'].join(', ')} WHERE id = ?`).run(...values, now, id);
      return this.getStudy(id)!;
    });
  }

  deleteStudy(id: string): void {
    this.#store.transaction('deleting a study', () => {
      this.#db.prepare('DELETE FROM study_experiments WHERE study_id = ?').run(id);
      this.#db.prepare('DELETE FROM studies WHERE id = ?').run(id);
    });
  }

  addMember(studyId: string, member: StudyMember, maxMembers: number): void {
    this.#store.transaction('adding an experiment to a study', () => {
      const existing = this.#db
        .prepare('SELECT study_id FROM study_experiments WHERE experiment_id = ?')
        .pluck()
        .get(member.experimentId) as string | undefined;
      if (existing !== undefined) {
        throw new LablogError('ALREADY_IN_STUDY', `experiment ${member.experimentId} already belongs to study ${existing}`, {
          experimentId: member.experimentId,
          existingStudyId: existing,
        });
      }
      const count = this.#db.prepare('SELECT count(*) FROM study_experiments WHERE study_id = ?').pluck().get(studyId) as number;
      if (count >= maxMembers) {
        throw new LablogError('LIMIT_EXCEEDED', `a study holds at most ${maxMembers} experiments`, {
          limit: maxMembers,
          actual: count + 1,
        });
      }
      this.#db
        .prepare('INSERT INTO study_experiments (experiment_id, study_id, notes, tags, added_at) VALUES (?, ?, ?, ?, ?)')
        .run(member.experimentId, studyId, member.notes, JSON.stringify(member.tags), member.addedAt);
      this.#db.prepare('UPDATE studies SET updated_at = ? WHERE id = ?').run(member.addedAt, studyId);
    });
  }

  members(studyId: string): StudyMember[] {
    return (
      this.#db
        .prepare('SELECT experiment_id, notes, tags, added_at FROM study_experiments WHERE study_id = ? ORDER BY added_at, experiment_id')
        .all(studyId) as {
        experiment_id: string;
        notes: string | null;
        tags: string;
        added_at: number;
      }[]
    ).map((r) => ({ experimentId: r.experiment_id, notes: r.notes, tags: JSON.parse(r.tags) as string[], addedAt: r.added_at }));
  }

  dropArtifacts(experimentIds: readonly string[]): void {
    this.#dropArtifacts(experimentIds, true);
  }

  /**
   * @internal For a server store: blobs stay, since a client may have uploaded one for points it has not
   * sent yet (as in PostgreSQL).
   */
  dropArtifactsKeepingBlobs(experimentIds: readonly string[]): void {
    this.#dropArtifacts(experimentIds, false);
  }

  #dropArtifacts(experimentIds: readonly string[], collectBlobs: boolean): void {
    this.#store.transaction('deleting artifacts', () => {
      // The series rows stay (emptied): their ids may be cached by writers of other connections, and a
      // deleted id could be handed to a new series.
      for (const id of experimentIds) {
        this.#db
          .prepare("DELETE FROM image_points WHERE series_id IN (SELECT id FROM series WHERE experiment_id = ? AND kind = 'image')")
          .run(id);
        this.#db
          .prepare("DELETE FROM plot_points WHERE series_id IN (SELECT id FROM series WHERE experiment_id = ? AND kind = 'plot')")
          .run(id);
        this.#db
          .prepare(
            "UPDATE series SET count = 0, first_step = NULL, last_step = NULL, last_timestamp = NULL WHERE experiment_id = ? AND kind IN ('image', 'plot')",
          )
          .run(id);
        this.#db.prepare('DELETE FROM tables WHERE experiment_id = ?').run(id);
      }
      if (collectBlobs) {
        this.#db
          .prepare(
            'DELETE FROM blobs WHERE hash NOT IN (SELECT blob_hash FROM image_points) AND hash NOT IN (SELECT blob_hash FROM tables)',
          )
          .run();
      }
    });
  }

  studyOf(experimentId: string): string | undefined {
    return this.#db.prepare('SELECT study_id FROM study_experiments WHERE experiment_id = ?').pluck().get(experimentId) as
      string | undefined;
  }
}

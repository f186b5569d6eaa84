// The studies of a PostgreSQL store: create, find, list, update, members, with the SQLite store's rules and errors.

import { LablogError } from '../../model/errors.js';
import type { StudyFilter, StudyMember, StudyPatch, StudyQuery, StudyRecord, StudyStatus } from '../../model/study.js';
import type { ServerStudyBackend } from '../study-store.js';
import type { PgStore } from './pg-pool.js';
import { whereClause } from './where-clause.js';
import { f8, jsonParam } from './sql-values.js';
import { STUDY_JSON_FIELDS, STUDY_SORT_COLUMNS, studyPatchColumn } from '../study-columns.js';

interface StudyRow {
  id: string;
  project: string;
  name: string;
  description: string | null;
  hypothesis: string | null;
  /** jsonb and json columns arrive parsed (JSON.parse) by the driver. */
  tags: string[];
  metadata: Record<string, unknown>;
  baseline: StudyRecord['baseline'];
  template: StudyRecord['template'];
  status: StudyStatus;
  conclusion: string | null;
  archive_reason: string | null;
  preserve_artifacts: boolean | null;
  created_at: number;
  updated_at: number;
}

const STUDY_COLUMNS =
  'id, project, name, description, hypothesis, tags, metadata, baseline, template, status, conclusion, archive_reason, ' +
  'preserve_artifacts, created_at, updated_at';

/** The constraint that makes a study name unique in its project (PostgreSQL's default name for UNIQUE (project, name)). */
const STUDY_NAME_CONSTRAINT = 'studies_project_name_key';
const UNIQUE_VIOLATION = '23505';

function studyRecord(row: StudyRow): StudyRecord {
  return {
    id: row.id,
    project: row.project,
    name: row.name,
    description: row.description,
    hypothesis: row.hypothesis,
    tags: row.tags,
    metadata: row.metadata,
    baseline: row.baseline,
    template: row.template,
    status: row.status,
    conclusion: row.conclusion,
    archiveReason: row.archive_reason,
    preserveArtifacts: row.preserve_artifacts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function studyParam(field: string, value: unknown): unknown {
  if (STUDY_JSON_FIELDS.has(field)) return jsonParam(value);
  return value;
}

function isUniqueViolation(cause: unknown, constraint: string): boolean {
  const error = cause as { code?: unknown; constraint?: unknown } | null;
  return error?.code === UNIQUE_VIOLATION && error.constraint === constraint;
}

function nameTaken(name: string, project: string, details: Record<string, unknown>): LablogError {
  return new LablogError('INVALID_NAME', `a study named '${name}' exists in project '${project}'`, details);
}

/**
 * The statement inserting a study: it returns no row when the name is taken in the project (then
 * studyNameTaken), and fails on a taken id (a constraint of the driver: STORAGE_ERROR), as in SQLite.
 * createSweep runs it inside its own transaction.
 */
export function studyInsert(r: StudyRecord): [text: string, values: unknown[]] {
  // DO NOTHING only on the name: a taken id still fails.
  return [
    `INSERT INTO studies (${STUDY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (project, name) DO NOTHING RETURNING id`,
    [
      r.id,
      r.project,
      r.name,
      r.description,
      r.hypothesis,
      jsonParam(r.tags),
      jsonParam(r.metadata),
      jsonParam(r.baseline),
      jsonParam(r.template),
      r.status,
      r.conclusion,
      r.archiveReason,
      r.preserveArtifacts,
      f8(r.createdAt),
      f8(r.updatedAt),
    ],
  ];
}

/** INVALID_NAME for a study whose name its project already has. */
export function studyNameTaken(r: StudyRecord): LablogError {
  return nameTaken(r.name, r.project, { key: r.name, project: r.project });
}

/**
 * The studies of a PostgreSQL store, with the SQLite store's rules and errors (sqlite-study-backend.ts).
 * Writers of one study take turns on its row (SELECT … FOR UPDATE); the primary key of study_experiments
 * keeps an experiment in one study at most, whoever adds it at the same time.
 */
export class PostgresStudyBackend implements ServerStudyBackend {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async createStudy(r: StudyRecord): Promise<void> {
    const rows = await this.#store.query('creating a study', ...studyInsert(r));
    if (rows.length === 0) throw studyNameTaken(r);
  }

  async getStudy(id: string): Promise<StudyRecord | undefined> {
    const rows = await this.#store.query<StudyRow>('reading a study', `SELECT ${STUDY_COLUMNS} FROM studies WHERE id = $1`, [id]);
    return rows[0] && studyRecord(rows[0]);
  }

  async findStudies(name: string, project?: string): Promise<StudyRecord[]> {
    // In one project a name is unique: the order matters only across projects.
    const args: unknown[] = [];
    const where = whereClause('studies', { name, project }, args);
    const rows = await this.#store.query<StudyRow>(
      'finding studies',
      `SELECT ${STUDY_COLUMNS} FROM studies ${where} ORDER BY created_at, id`,
      args,
    );
    return rows.map(studyRecord);
  }

  async listStudies(query: StudyQuery): Promise<StudyRecord[]> {
    const args: unknown[] = [];
    const where = whereClause('studies', query, args);
    const column = STUDY_SORT_COLUMNS[query.sort] ?? 'created_at';
    const order = query.order === 'asc' ? 'ASC' : 'DESC';
    // As in SQLite: a negative limit is no limit (LIMIT NULL), a negative offset is none.
    args.push(query.limit < 0 ? null : query.limit, Math.max(0, query.offset));
    const rows = await this.#store.query<StudyRow>(
      'listing studies',
      `SELECT ${STUDY_COLUMNS} FROM studies ${where}
       ORDER BY ${column} ${order}, id ${order} LIMIT $${args.length - 1} OFFSET $${args.length}`,
      args,
    );
    return rows.map(studyRecord);
  }

  async countStudies(query: StudyFilter): Promise<number> {
    const args: unknown[] = [];
    const where = whereClause('studies', query, args);
    const rows = await this.#store.query<{ n: number }>('counting studies', `SELECT count(*) AS n FROM studies ${where}`, args);
    return rows[0]!.n;
  }

  async updateStudy(id: string, patch: StudyPatch, now: number): Promise<StudyRecord> {
    return this.#store.transaction('updating a study', async (db) => {
      const { rows } = await db.query<{ project: string; name: string }>('SELECT project, name FROM studies WHERE id = $1 FOR UPDATE', [
        id,
      ]);
      const current = rows[0];
      if (current === undefined) throw new LablogError('STUDY_NOT_FOUND', `no study with id ${id}`, { id });
      const renamed = patch.name !== undefined && patch.name !== current.name;
      if (renamed) {
        const taken = await db.query('SELECT 1 FROM studies WHERE project = $1 AND name = $2', [current.project, patch.name]);
        if (taken.rowCount !== 0) throw nameTaken(patch.name!, current.project, { key: patch.name });
      }
      const values = patch as Record<string, unknown>;
      const fields = Object.keys(patch).filter((f) => studyPatchColumn(f) !== undefined && values[f] !== undefined);
      const args: unknown[] = [id, f8(now)];
      const sets = fields.map((f) => {
        args.push(studyParam(f, values[f]));
        return `${studyPatchColumn(f)} = $${args.length}`;
      });
      try {
        const updated = await db.query<StudyRow>(
          `UPDATE studies SET ${[...sets, 'updated_at = $2'].join(', ')} WHERE id = $1 RETURNING ${STUDY_COLUMNS}`,
          args,
        );
        return studyRecord(updated.rows[0]!);
      } catch (cause) {
        // Another process took the name since the check above.
        if (renamed && isUniqueViolation(cause, STUDY_NAME_CONSTRAINT)) throw nameTaken(patch.name!, current.project, { key: patch.name });
        throw cause;
      }
    });
  }

  async deleteStudy(id: string): Promise<void> {
    await this.#store.transaction('deleting a study', async (db) => {
      await db.query('DELETE FROM study_experiments WHERE study_id = $1', [id]);
      await db.query('DELETE FROM studies WHERE id = $1', [id]);
    });
  }

  async addMember(studyId: string, member: StudyMember, maxMembers: number): Promise<void> {
    await this.#store.transaction('adding an experiment to a study', async (db) => {
      // Adds to one study take turns here, so the count below is exact. An unknown study fails at the
      // insert (foreign key: STORAGE_ERROR), after the same checks as in SQLite.
      await db.query('SELECT 1 FROM studies WHERE id = $1 FOR UPDATE', [studyId]);
      const alreadyIn = (existing: string) =>
        new LablogError('ALREADY_IN_STUDY', `experiment ${member.experimentId} already belongs to study ${existing}`, {
          experimentId: member.experimentId,
          existingStudyId: existing,
        });
      const studyOf = async () =>
        (await db.query<{ study_id: string }>('SELECT study_id FROM study_experiments WHERE experiment_id = $1', [member.experimentId]))
          .rows[0]?.study_id;
      const existing = await studyOf();
      if (existing !== undefined) throw alreadyIn(existing);
      const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM study_experiments WHERE study_id = $1', [studyId]);
      const count = rows[0]!.n;
      if (count >= maxMembers) {
        throw new LablogError('LIMIT_EXCEEDED', `a study holds at most ${maxMembers} experiments`, {
          limit: maxMembers,
          actual: count + 1,
        });
      }
      for (;;) {
        // Adding it to another study at the same time: the primary key lets one insert through; this one
        // waits for it, then inserts nothing (no error, so the transaction can still read who won).
        const inserted = await db.query(
          `INSERT INTO study_experiments (experiment_id, study_id, notes, tags, added_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (experiment_id) DO NOTHING`,
          [member.experimentId, studyId, member.notes, jsonParam(member.tags), f8(member.addedAt)],
        );
        if (inserted.rowCount === 1) break;
        const winner = await studyOf();
        if (winner !== undefined) throw alreadyIn(winner);
        // The other membership was deleted meanwhile: try again.
      }
      await db.query('UPDATE studies SET updated_at = $2 WHERE id = $1', [studyId, f8(member.addedAt)]);
    });
  }

  async members(studyId: string): Promise<StudyMember[]> {
    const rows = await this.#store.query<{ experiment_id: string; notes: string | null; tags: string[]; added_at: number }>(
      'reading study members',
      'SELECT experiment_id, notes, tags, added_at FROM study_experiments WHERE study_id = $1 ORDER BY added_at, experiment_id',
      [studyId],
    );
    return rows.map((r) => ({ experimentId: r.experiment_id, notes: r.notes, tags: r.tags, addedAt: r.added_at }));
  }

  async studyOf(experimentId: string): Promise<string | undefined> {
    const rows = await this.#store.query<{ study_id: string }>(
      'finding the study of an experiment',
      'SELECT study_id FROM study_experiments WHERE experiment_id = $1',
      [experimentId],
    );
    return rows[0]?.study_id;
  }

  async dropArtifacts(experimentIds: readonly string[]): Promise<void> {
    const ids = [...new Set(experimentIds)];
    if (ids.length === 0) return;
    await this.#store.transaction('deleting artifacts', async (db) => {
      // The experiments' locks (in id order: no deadlock between two callers) keep an ingest from writing
      // points into a series deleted under it.
      await db.query('SELECT 1 FROM experiments WHERE id = ANY ($1::text[]) ORDER BY id FOR UPDATE', [ids]);
      // The series rows stay, emptied, as in the SQLite stores (where a deleted id could be reused).
      await db.query(
        "DELETE FROM image_points WHERE series_id IN (SELECT id FROM series WHERE experiment_id = ANY ($1::text[]) AND kind = 'image')",
        [ids],
      );
      await db.query(
        "DELETE FROM plot_points WHERE series_id IN (SELECT id FROM series WHERE experiment_id = ANY ($1::text[]) AND kind = 'plot')",
        [ids],
      );
      await db.query(
        "UPDATE series SET count = 0, first_step = NULL, last_step = NULL, last_timestamp = NULL WHERE experiment_id = ANY ($1::text[]) AND kind IN ('image', 'plot')",
        [ids],
      );
      await db.query('DELETE FROM tables WHERE experiment_id = ANY ($1::text[])', [ids]);
      // Blobs stay: another request may be about to name them (they were uploaded first, verified by hash).
    });
  }
}

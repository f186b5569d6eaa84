// Studies in the PostgreSQL server store: every ServerStudyBackend method, its errors, concurrency, and parity with SQLite.

import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LablogError } from '../src/model/errors.js';
import { DEFAULT_LIMITS } from '../src/model/limits.js';
import { MIGRATIONS } from '../src/store/postgres/postgres-migrations.js';
import { PostgresBackend } from '../src/store/postgres/postgres-backend.js';
import type { IngestBatch, PublishedExperiment, ServerBackend } from '../src/store/server-backend.js';
import { SqliteServerBackend } from '../src/store/sqlite/sqlite-server-backend.js';
import type { StudyMember, StudyQuery, StudyRecord } from '../src/model/study.js';
import type { ServerStudyBackend } from '../src/store/study-store.js';
import { freshDatabase, postgresUrl } from './support/postgres.js';
import { startPostgresProcess, type PostgresProcess } from './support/postgres-process.js';

const baseUrl = await postgresUrl();
if (!baseUrl) {
  console.warn(
    'SKIPPED test/postgres-studies.test.ts: no PostgreSQL. Set LABLOG_TEST_POSTGRES_URL, or install PostgreSQL 15 ' +
      '(apt-get install -y postgresql) so test/global-setup.ts starts a throwaway server.',
  );
}

const NOW = 1_700_000_000_000;
const INJECTION = `'); DROP TABLE studies;--`;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** A study in its own project (so list tests see only their own). */
function study(overrides: Partial<StudyRecord> = {}): StudyRecord {
  return {
    id: randomUUID(),
    project: `p-${randomUUID()}`,
    name: 'study',
    description: null,
    hypothesis: null,
    tags: [],
    metadata: {},
    baseline: null,
    template: null,
    status: 'active',
    conclusion: null,
    archiveReason: null,
    preserveArtifacts: null,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

function experiment(overrides: Partial<PublishedExperiment> = {}): PublishedExperiment {
  return {
    id: randomUUID(),
    project: `p-${randomUUID()}`,
    name: 'run',
    description: null,
    tags: [],
    status: 'running',
    createdAt: NOW,
    endedAt: null,
    heartbeatAt: NOW,
    hostname: null,
    version: null,
    params: [],
    ...overrides,
  };
}

function member(experimentId: string, overrides: Partial<StudyMember> = {}): StudyMember {
  return { experimentId, notes: null, tags: [], addedAt: NOW, ...overrides };
}

function query(overrides: Partial<StudyQuery> = {}): StudyQuery {
  return { limit: 100, offset: 0, sort: 'created_at', order: 'asc', ...overrides };
}

/** The error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<LablogError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LablogError);
    return error as LablogError;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!baseUrl)('PostgresBackend studies', () => {
  let database: { url: string; drop(): Promise<void> };
  let backend: PostgresBackend;
  let studies: ServerStudyBackend;
  /** A second server process on the same database: a child process with a backend of its own. */
  let other: PostgresProcess;
  let sql: pg.Client;

  beforeAll(async () => {
    database = await freshDatabase(baseUrl!);
    backend = await PostgresBackend.open(database.url);
    other = await startPostgresProcess();
    await other.open(database.url);
    studies = backend.studies();
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await other?.close();
    await backend?.close();
    await database?.drop();
  });

  /** Creates an experiment and returns its id. */
  async function created(overrides: Partial<PublishedExperiment> = {}): Promise<string> {
    const e = experiment(overrides);
    await backend.upsertExperiment(e, DEFAULT_LIMITS, NOW);
    return e.id;
  }

  /** Creates a study and returns its record. */
  async function createdStudy(overrides: Partial<StudyRecord> = {}): Promise<StudyRecord> {
    const record = study(overrides);
    await studies.createStudy(record);
    return record;
  }

  describe('schema', () => {
    it('is migration 2; returns the same study backend every call', async () => {
      const { rows } = await sql.query('SELECT version, description FROM lablog_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(rows[1].description).toMatch(/studies/);
      expect(backend.studies()).toBe(studies);
    });

    it('migrates a version-1 database to version 2', async () => {
      const fresh = await freshDatabase(baseUrl!);
      try {
        const first = await PostgresBackend.open(fresh.url);
        await first.close();
        // Back to version 1, as a database made before studies existed.
        const client = new pg.Client({ connectionString: fresh.url });
        await client.connect();
        try {
          // (and before UI sessions, migration 3, blob ownership, migration 4, runs, migration 5, and sweeps, migration 8,
          // which came after studies)
          await client.query(
            'DROP TABLE sweep_trial_reports, sweep_trials, sweeps; DROP TABLE run_log_chunks, run_transitions, run_attempts, runs; DROP TABLE blob_owners, blob_checks; DROP INDEX image_points_blob, tables_blob; DROP TABLE ui_sessions; ALTER TABLE api_keys DROP COLUMN last_used_at, DROP COLUMN revoked_at; DROP TABLE study_experiments; DROP TABLE studies; DELETE FROM lablog_migrations WHERE version >= 2',
          );
          const again = await PostgresBackend.open(fresh.url);
          try {
            const record = study();
            await again.studies().createStudy(record);
            expect(await again.studies().getStudy(record.id)).toEqual(record);
          } finally {
            await again.close();
          }
          const { rows } = await client.query('SELECT max(version) AS v FROM lablog_migrations');
          expect(rows[0].v).toBe(MIGRATIONS.at(-1)!.version);
        } finally {
          await client.end();
        }
      } finally {
        await fresh.drop();
      }
    });

    it('fails STORAGE_ERROR after close', async () => {
      const closed = await PostgresBackend.open(database.url);
      const closedStudies = closed.studies();
      await closed.close();
      expect((await failure(closedStudies.getStudy(randomUUID()))).code).toBe('STORAGE_ERROR');
      expect((await failure(closedStudies.createStudy(study()))).code).toBe('STORAGE_ERROR');
    });
  });

  describe('createStudy and getStudy', () => {
    it('round-trips every field exactly, metadata key order included', async () => {
      const experimentId = await created();
      const records = [
        study({
          description: 'does warmup help?',
          hypothesis: 'warmup lowers the final loss',
          tags: ['b', 'a', 'ü'],
          metadata: { zeta: 1, alpha: { nested: [1, 'two', null, true], deep: { x: -1.5e-300 } }, '': 'empty key', big: 1e21 },
          baseline: { experimentId },
          template: { kind: 'grid_search', parameters: { lr: [0.1, 0.01], depth: [2, 4] } },
          status: 'completed',
          conclusion: 'yes',
          archiveReason: null,
          preserveArtifacts: true,
          createdAt: NOW + 0.25,
          updatedAt: NOW + 1.5,
        }),
        study({
          baseline: { name: 'paper', metrics: { acc: 0.91, loss: 0.3 } },
          status: 'archived',
          archiveReason: 'done',
          preserveArtifacts: false,
        }),
        study({ template: { kind: 'ab_testing', parameters: {} } }),
        study(),
      ];
      for (const r of records) await studies.createStudy(r);
      for (const r of records) {
        const read = (await studies.getStudy(r.id))!;
        expect(read).toEqual(r);
        expect(JSON.stringify(read)).toBe(JSON.stringify(r));
      }
      expect(await studies.getStudy(randomUUID())).toBeUndefined();
    });

    it('fails INVALID_NAME for a name taken in the project; the name is free in another project', async () => {
      const first = await createdStudy({ name: 'taken' });
      const error = await failure(studies.createStudy(study({ project: first.project, name: 'taken' })));
      expect(error.code).toBe('INVALID_NAME');
      expect(error.message).toBe(`a study named 'taken' exists in project '${first.project}'`);
      expect(error.details).toEqual({ key: 'taken', project: first.project });
      await studies.createStudy(study({ name: 'taken' }));
      expect(await studies.countStudies({ project: first.project })).toBe(1);
    });

    it('fails STORAGE_ERROR for a taken id', async () => {
      const first = await createdStudy();
      const error = await failure(studies.createStudy(study({ id: first.id, name: 'other' })));
      expect(error.code).toBe('STORAGE_ERROR');
      expect(error.message).toMatch(/^creating a study/);
    });

    it('one name created by two processes at once: one study, the other INVALID_NAME', async () => {
      for (let round = 0; round < 5; round++) {
        const project = `p-${randomUUID()}`;
        const results = await Promise.allSettled([
          studies.createStudy(study({ project, name: 'race' })),
          other.studies.createStudy(study({ project, name: 'race' })),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect((rejected.reason as LablogError).code).toBe('INVALID_NAME');
        expect(await studies.countStudies({ project })).toBe(1);
      }
    });
  });

  describe('findStudies', () => {
    it('finds a name in every project (oldest first) or in one', async () => {
      const name = `find-${randomUUID()}`;
      const b = await createdStudy({ name, createdAt: NOW + 2 });
      const a = await createdStudy({ name, createdAt: NOW + 1 });
      await createdStudy({ name: `${name}-other` });
      expect(await studies.findStudies(name)).toEqual([a, b]);
      expect(await studies.findStudies(name, b.project)).toEqual([b]);
      expect(await studies.findStudies(name, 'nowhere')).toEqual([]);
      expect(await studies.findStudies(`missing-${randomUUID()}`)).toEqual([]);
    });
  });

  describe('listStudies and countStudies', () => {
    let project: string;
    let second: string;
    let all: StudyRecord[];

    beforeAll(async () => {
      project = `p-${randomUUID()}`;
      second = `p-${randomUUID()}`;
      all = [
        study({ project, name: 'b', tags: ['x', 'y'], status: 'active', createdAt: NOW + 1, updatedAt: NOW + 30 }),
        study({ project, name: 'a', tags: ['x'], status: 'completed', createdAt: NOW + 2, updatedAt: NOW + 20 }),
        study({ project, name: 'B', tags: ['y'], status: 'active', createdAt: NOW + 2, updatedAt: NOW + 10 }),
        study({ project, name: 'é', tags: [], status: 'archived', createdAt: NOW + 3, updatedAt: NOW + 10 }),
        study({ project: second, name: 'a', tags: ['x', 'y', 'z'], status: 'active', createdAt: NOW + 4, updatedAt: NOW + 40 }),
      ];
      for (const r of all) await studies.createStudy(r);
    });

    const ids = (records: StudyRecord[]) => records.map((r) => r.id);
    const byIdThen = (records: StudyRecord[], key: (r: StudyRecord) => number | string, desc = false) =>
      [...records].sort((x, y) => {
        const kx = key(x);
        const ky = key(y);
        const c = kx < ky ? -1 : kx > ky ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
        return desc ? -c : c;
      });

    it('filters by project, scope, status and tags (all must match)', async () => {
      const mine = all.filter((r) => r.project === project);
      expect(ids(await studies.listStudies(query({ project })))).toEqual(ids(byIdThen(mine, (r) => r.createdAt)));
      expect(await studies.countStudies({ project })).toBe(4);
      expect(await studies.countStudies({ projects: [project, second] })).toBe(5);
      expect(await studies.countStudies({ projects: [second, 'nowhere'] })).toBe(1);
      // An empty scope matches nothing.
      expect(await studies.countStudies({ projects: [] })).toBe(0);
      expect(await studies.listStudies(query({ projects: [] }))).toEqual([]);
      expect(await studies.countStudies({ project, projects: [second] })).toBe(0);
      expect(ids(await studies.listStudies(query({ project, status: 'active' })))).toEqual(ids([all[0]!, all[2]!]));
      expect(await studies.countStudies({ projects: [project, second], status: 'active' })).toBe(3);
      expect(ids(await studies.listStudies(query({ project, tags: ['x'] })))).toEqual(ids([all[0]!, all[1]!]));
      expect(ids(await studies.listStudies(query({ projects: [project, second], tags: ['y', 'x', 'y'] })))).toEqual(
        ids([all[0]!, all[4]!]),
      );
      expect(await studies.countStudies({ projects: [project, second], tags: ['z', 'x'] })).toBe(1);
      expect(await studies.countStudies({ project, tags: ['nope'] })).toBe(0);
      expect(await studies.countStudies({ project, tags: [] })).toBe(4);
      expect(await studies.countStudies({ projects: [project, second], status: 'active', tags: ['y'] })).toBe(3);
    });

    it('sorts by a whitelisted column (names by code point), ties broken by id, and pages', async () => {
      const mine = all.filter((r) => r.project === project);
      for (const order of ['asc', 'desc'] as const) {
        const desc = order === 'desc';
        expect(ids(await studies.listStudies(query({ project, sort: 'created_at', order })))).toEqual(
          ids(byIdThen(mine, (r) => r.createdAt, desc)),
        );
        expect(ids(await studies.listStudies(query({ project, sort: 'updated_at', order })))).toEqual(
          ids(byIdThen(mine, (r) => r.updatedAt, desc)),
        );
        expect((await studies.listStudies(query({ project, sort: 'name', order }))).map((r) => r.name)).toEqual(
          desc ? ['é', 'b', 'a', 'B'] : ['B', 'a', 'b', 'é'],
        );
      }
      const sorted = ids(byIdThen(mine, (r) => r.updatedAt, true));
      expect(ids(await studies.listStudies(query({ project, sort: 'updated_at', order: 'desc', limit: 2 })))).toEqual(sorted.slice(0, 2));
      expect(ids(await studies.listStudies(query({ project, sort: 'updated_at', order: 'desc', limit: 2, offset: 2 })))).toEqual(
        sorted.slice(2),
      );
      expect(await studies.listStudies(query({ project, offset: 10 }))).toEqual([]);
      // Not a whitelisted column: created_at, never the text.
      const bogus = await studies.listStudies(query({ project, sort: `name; ${INJECTION}` as never, order: `asc; ${INJECTION}` as never }));
      expect(ids(bogus)).toEqual(ids(byIdThen(mine, (r) => r.createdAt, true)));
    });
  });

  describe('updateStudy', () => {
    it('changes the given fields and updated_at; ignores undefined and unknown fields; null clears', async () => {
      const experimentId = await created();
      const r = await createdStudy({ description: 'd', tags: ['t'], preserveArtifacts: true, baseline: { experimentId } });
      const updated = await studies.updateStudy(
        r.id,
        {
          name: 'renamed',
          description: undefined,
          hypothesis: 'h',
          tags: ['u', 'v'],
          metadata: { b: 2, a: 1 },
          baseline: null,
          template: { kind: 'grid_search', parameters: { x: [1] } },
          status: 'archived',
          conclusion: 'c',
          archiveReason: 'r',
          preserveArtifacts: false,
          // Not patchable: ignored.
          ...({ id: 'other', project: 'other', createdAt: 1, updatedAt: 2, [INJECTION]: 1 } as object),
        },
        NOW + 100,
      );
      const expected: StudyRecord = {
        ...r,
        name: 'renamed',
        hypothesis: 'h',
        tags: ['u', 'v'],
        metadata: { b: 2, a: 1 },
        baseline: null,
        template: { kind: 'grid_search', parameters: { x: [1] } },
        status: 'archived',
        conclusion: 'c',
        archiveReason: 'r',
        preserveArtifacts: false,
        updatedAt: NOW + 100,
      };
      expect(updated).toEqual(expected);
      expect(JSON.stringify(updated)).toBe(JSON.stringify(expected));
      expect(await studies.getStudy(r.id)).toEqual(expected);
      const cleared = await studies.updateStudy(r.id, { description: null, preserveArtifacts: null, template: null }, NOW + 101);
      expect(cleared).toEqual({ ...expected, description: null, preserveArtifacts: null, template: null, updatedAt: NOW + 101 });
      // An empty patch only touches updated_at.
      expect(await studies.updateStudy(r.id, {}, NOW + 102)).toEqual({ ...cleared, updatedAt: NOW + 102 });
    });

    it('fails STUDY_NOT_FOUND for an unknown id; INVALID_NAME for a name taken in the project', async () => {
      const id = randomUUID();
      const missing = await failure(studies.updateStudy(id, { name: 'x' }, NOW));
      expect(missing.code).toBe('STUDY_NOT_FOUND');
      expect(missing.message).toBe(`no study with id ${id}`);
      expect(missing.details).toEqual({ id });

      const a = await createdStudy({ name: 'a' });
      const b = await createdStudy({ project: a.project, name: 'b' });
      await createdStudy({ name: 'c' });
      const taken = await failure(studies.updateStudy(b.id, { name: 'a', description: 'not stored' }, NOW + 5));
      expect(taken.code).toBe('INVALID_NAME');
      expect(taken.message).toBe(`a study named 'a' exists in project '${a.project}'`);
      expect(taken.details).toEqual({ key: 'a' });
      expect(await studies.getStudy(b.id)).toEqual(b);
      // Its own name, and a name taken only in another project, are fine.
      expect((await studies.updateStudy(b.id, { name: 'b' }, NOW + 6)).name).toBe('b');
      expect((await studies.updateStudy(b.id, { name: 'c' }, NOW + 7)).name).toBe('c');
    });

    it('two processes renaming two studies to one name at once: one wins, the other INVALID_NAME', async () => {
      for (let round = 0; round < 5; round++) {
        const a = await createdStudy({ name: 'a' });
        const b = await createdStudy({ project: a.project, name: 'b' });
        const results = await Promise.allSettled([
          studies.updateStudy(a.id, { name: 'same' }, NOW),
          other.studies.updateStudy(b.id, { name: 'same' }, NOW),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect((rejected.reason as LablogError).code).toBe('INVALID_NAME');
        expect((rejected.reason as LablogError).details).toEqual({ key: 'same' });
      }
    });
  });

  describe('members', () => {
    it('adds members in order of added_at then experiment id, sets updated_at, tells studyOf', async () => {
      const s = await createdStudy();
      const [e1, e2, e3] = [await created(), await created(), await created()];
      await studies.addMember(s.id, member(e1!, { notes: 'first', tags: ['lr', 'x'], addedAt: NOW + 20 }), 10);
      await studies.addMember(s.id, member(e2!, { addedAt: NOW + 10.5 }), 10);
      await studies.addMember(s.id, member(e3!, { addedAt: NOW + 10.5, notes: INJECTION }), 10);
      const tie = [e2!, e3!].sort();
      expect(await studies.members(s.id)).toEqual([
        { experimentId: tie[0], notes: tie[0] === e3 ? INJECTION : null, tags: [], addedAt: NOW + 10.5 },
        { experimentId: tie[1], notes: tie[1] === e3 ? INJECTION : null, tags: [], addedAt: NOW + 10.5 },
        { experimentId: e1, notes: 'first', tags: ['lr', 'x'], addedAt: NOW + 20 },
      ]);
      // The last add's time, even when earlier than the one before.
      expect((await studies.getStudy(s.id))!.updatedAt).toBe(NOW + 10.5);
      expect(await studies.studyOf(e1!)).toBe(s.id);
      expect(await studies.studyOf(await created())).toBeUndefined();
      expect(await studies.members(randomUUID())).toEqual([]);
    });

    it('fails ALREADY_IN_STUDY for an experiment in this or another study', async () => {
      const s = await createdStudy();
      const t = await createdStudy();
      const e = await created();
      await studies.addMember(s.id, member(e), 10);
      for (const target of [s, t]) {
        const error = await failure(studies.addMember(target.id, member(e, { addedAt: NOW + 5 }), 10));
        expect(error.code).toBe('ALREADY_IN_STUDY');
        expect(error.message).toBe(`experiment ${e} already belongs to study ${s.id}`);
        expect(error.details).toEqual({ experimentId: e, existingStudyId: s.id });
      }
      expect(await studies.members(t.id)).toEqual([]);
      expect((await studies.getStudy(t.id))!.updatedAt).toBe(NOW);
      expect((await studies.getStudy(s.id))!.updatedAt).toBe(NOW);
    });

    it('fails LIMIT_EXCEEDED past maxMembers with the limit and the count it would reach', async () => {
      const s = await createdStudy();
      for (let i = 0; i < 3; i++) await studies.addMember(s.id, member(await created()), 3);
      const e = await created();
      const error = await failure(studies.addMember(s.id, member(e), 3));
      expect(error.code).toBe('LIMIT_EXCEEDED');
      expect(error.message).toBe('a study holds at most 3 experiments');
      expect(error.details).toEqual({ limit: 3, actual: 4 });
      expect(await studies.studyOf(e)).toBeUndefined();
      // A since-lowered limit: actual is still count + 1.
      expect((await failure(studies.addMember(s.id, member(e), 1))).details).toEqual({ limit: 1, actual: 4 });
      await studies.addMember(s.id, member(e), 4);
      expect(await studies.members(s.id)).toHaveLength(4);
    });

    it('fails STORAGE_ERROR for an unknown study or experiment, storing nothing', async () => {
      const e = await created();
      const noStudy = await failure(studies.addMember(randomUUID(), member(e), 10));
      expect(noStudy.code).toBe('STORAGE_ERROR');
      expect(noStudy.message).toMatch(/^adding an experiment to a study/);
      expect(await studies.studyOf(e)).toBeUndefined();
      const s = await createdStudy();
      expect((await failure(studies.addMember(s.id, member(randomUUID()), 10))).code).toBe('STORAGE_ERROR');
      expect(await studies.members(s.id)).toEqual([]);
    });

    it('one experiment added to two studies by two processes at once: exactly one wins', async () => {
      for (let round = 0; round < 20; round++) {
        const [s, t] = [await createdStudy(), await createdStudy()];
        const e = await created();
        const results = await Promise.allSettled([studies.addMember(s.id, member(e), 10), other.studies.addMember(t.id, member(e), 10)]);
        const won = results.findIndex((r) => r.status === 'fulfilled');
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const winner = [s, t][won]!.id;
        const error = (results[1 - won] as PromiseRejectedResult).reason as LablogError;
        expect(error).toBeInstanceOf(LablogError);
        expect(error.code).toBe('ALREADY_IN_STUDY');
        expect(error.details).toEqual({ experimentId: e, existingStudyId: winner });
        expect(await studies.studyOf(e)).toBe(winner);
        expect((await studies.members(s.id)).length + (await studies.members(t.id)).length).toBe(1);
      }
    });

    it('many adds at once from two processes never pass maxMembers', async () => {
      const s = await createdStudy();
      const experiments = await Promise.all(range(0, 40).map(() => created()));
      const results = await Promise.allSettled(
        experiments.map((e, i) => (i % 2 ? studies : other.studies).addMember(s.id, member(e, { addedAt: NOW + i }), 12)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(12);
      for (const r of results) {
        if (r.status === 'rejected') {
          expect((r.reason as LablogError).code).toBe('LIMIT_EXCEEDED');
          expect((r.reason as LablogError).details).toEqual({ limit: 12, actual: 13 });
        }
      }
      expect(await studies.members(s.id)).toHaveLength(12);
    });

    it('the same experiment added to one study by many callers at once: once', async () => {
      const s = await createdStudy();
      const e = await created();
      const results = await Promise.allSettled(range(0, 8).map((i) => (i % 2 ? studies : other.studies).addMember(s.id, member(e), 10)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect((r.reason as LablogError).details).toEqual({ experimentId: e, existingStudyId: s.id });
      }
      expect(await studies.members(s.id)).toHaveLength(1);
    });
  });

  describe('deleteStudy', () => {
    it('deletes the study and its memberships, never the experiments; an unknown id is a no-op', async () => {
      const s = await createdStudy();
      const e = await created();
      await studies.addMember(s.id, member(e), 10);
      await studies.deleteStudy(s.id);
      expect(await studies.getStudy(s.id)).toBeUndefined();
      expect(await studies.members(s.id)).toEqual([]);
      expect(await studies.studyOf(e)).toBeUndefined();
      expect(await backend.getExperiment(e)).toBeDefined();
      // Free to join another study, and the name is free again.
      const t = await createdStudy({ project: s.project, name: s.name });
      await studies.addMember(t.id, member(e), 10);
      await studies.deleteStudy(randomUUID());
    });
  });

  describe('dropArtifacts', () => {
    /** An experiment with a metric, an image, a plot and a table. */
    async function withArtifacts(target: ServerBackend, id: string, blobs: { png: Buffer; arrow: Buffer }): Promise<number> {
      await target.upsertExperiment(
        experiment({ id, project: 'artifacts', params: [{ key: 'lr', type: 'number', value: '0.1' }] }),
        DEFAULT_LIMITS,
        NOW,
      );
      await target.putBlob(sha256(blobs.png), blobs.png);
      await target.putBlob(sha256(blobs.arrow), blobs.arrow);
      const batch: IngestBatch = {
        experimentId: id,
        metrics: [
          {
            name: 'loss',
            after: null,
            steps: Float64Array.of(0, 1),
            values: Float64Array.of(1, 0.5),
            timestamps: Float64Array.of(NOW, NOW + 1),
          },
        ],
        images: [
          { name: 'img', after: null, points: [{ step: 0, timestamp: NOW, caption: null, hash: sha256(blobs.png), width: 2, height: 2 }] },
        ],
        plots: [{ name: 'fig', after: null, points: [{ step: 0, timestamp: NOW, caption: null, figure: '{"data":[]}' }] }],
        tables: [{ name: 'preds', hash: sha256(blobs.arrow), rows: 1, columns: 1, loggedAt: NOW }],
      };
      return (await target.ingest(batch, DEFAULT_LIMITS, NOW)).accepted;
    }

    it('deletes images, plots and tables of those experiments; keeps params, metrics, blobs and the others', async () => {
      const blobs = { png: Buffer.from(`png ${randomUUID()}`), arrow: Buffer.from(`arrow ${randomUUID()}`) };
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      for (const id of [a, b, c]) expect(await withArtifacts(backend, id, blobs)).toBe(5);
      await studies.dropArtifacts([a, b, a, randomUUID()]);
      for (const id of [a, b]) {
        // Image and plot series stay, emptied (as in SQLite, where a deleted series id could be reused).
        expect((await backend.readSeries(id)).map((s) => [s.name, s.count])).toEqual([
          ['fig', 0],
          ['img', 0],
          ['loss', 2],
        ]);
        expect(await backend.listTables(id)).toEqual([]);
        expect(await backend.listImages(id, 'img')).toEqual([]);
        expect(await backend.readPlots(id, 'fig')).toEqual([]);
        expect((await backend.readMetric(id, 'loss'))!.steps).toEqual(Float64Array.of(0, 1));
        expect(await backend.readParams(id)).toEqual([{ key: 'lr', type: 'number', value: '0.1' }]);
      }
      expect((await backend.readSeries(c)).map((s) => s.name)).toEqual(['fig', 'img', 'loss']);
      expect(await backend.listTables(c)).toHaveLength(1);
      // Blobs are never deleted in PostgreSQL.
      expect(await backend.readBlob(sha256(blobs.png))).toEqual(blobs.png);
      expect(await backend.readBlob(sha256(blobs.arrow))).toEqual(blobs.arrow);
      const { rows } = await sql.query(
        'SELECT count(*)::int AS n FROM image_points p JOIN series s ON s.id = p.series_id WHERE s.experiment_id = ANY ($1)',
        [[a, b]],
      );
      expect(rows[0].n).toBe(0);
      await studies.dropArtifacts([]);
      // Dropping again is harmless; ingesting afterwards works (into the emptied series).
      await studies.dropArtifacts([a]);
      // Everything but the metric points, which were kept.
      expect(await withArtifacts(backend, a, blobs)).toBe(3);
      expect((await backend.readSeries(a)).map((s) => s.name)).toEqual(['fig', 'img', 'loss']);
    });
  });

  describe('injection-looking text', () => {
    it('round-trips names, tags, notes and metadata verbatim and filters by them', async () => {
      const project = `${INJECTION} ${randomUUID()}`;
      const tags = [INJECTION, '"]', '["x"]', '{"a":1}', 'a,b', '{x}', "o'brien", 'back\\slash', 'NULL', '$1', ''];
      const r = await createdStudy({
        project,
        name: INJECTION,
        description: `${INJECTION} $1 \\x00 \u2028`,
        hypothesis: `'; DELETE FROM study_experiments; --`,
        tags,
        metadata: { [INJECTION]: INJECTION, '"': '\\', nul: '\u0000', nested: { "'": ["'", '"'] } },
        baseline: { name: INJECTION, metrics: { [INJECTION]: 1 } },
      });
      expect(await studies.getStudy(r.id)).toEqual(r);
      expect(await studies.findStudies(INJECTION, project)).toEqual([r]);
      expect((await failure(studies.createStudy(study({ project, name: INJECTION })))).code).toBe('INVALID_NAME');
      expect(await studies.countStudies({ project, tags })).toBe(1);
      for (const tag of tags) expect(await studies.countStudies({ projects: [project], tags: [tag] })).toBe(1);
      expect(await studies.countStudies({ project, tags: ['"', 'x', 'a', "o'", `${INJECTION} `] })).toBe(0);
      expect(await studies.countStudies({ project, status: `active' OR '1'='1` as never })).toBe(0);
      const renamed = await studies.updateStudy(r.id, { name: `${INJECTION}2`, tags: [INJECTION] }, NOW + 1);
      expect(renamed).toMatchObject({ name: `${INJECTION}2`, tags: [INJECTION] });
      const e = await created({ project });
      await studies.addMember(r.id, member(e, { notes: INJECTION, tags }), 10);
      expect(await studies.members(r.id)).toEqual([member(e, { notes: INJECTION, tags })]);
      const { rows } = await sql.query(
        `SELECT to_regclass('studies') IS NOT NULL AND to_regclass('study_experiments') IS NOT NULL AS present`,
      );
      expect(rows[0].present).toBe(true);
    });
  });

  describe('parity with SQLite', () => {
    it('gives the same results and errors as SqliteServerBackend for one sequence of calls', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lablog-parity-'));
      const sqlite = new SqliteServerBackend(join(dir, 'server.db'));
      try {
        const project = `p-${randomUUID()}`;
        const otherProject = `p-${randomUUID()}`;
        const experiments = range(0, 6).map((i) => experiment({ project, name: `run-${i}` }));
        const blobs = { png: Buffer.from(`png ${randomUUID()}`), arrow: Buffer.from(`arrow ${randomUUID()}`) };
        const sequence = await Promise.all(
          ([sqlite, backend] as ServerBackend[]).map(async (target) => {
            for (const e of experiments) await target.upsertExperiment(e, DEFAULT_LIMITS, NOW);
            await target.putBlob(sha256(blobs.png), blobs.png);
            await target.putBlob(sha256(blobs.arrow), blobs.arrow);
            for (const e of experiments.slice(0, 3)) {
              await target.ingest(
                {
                  experimentId: e.id,
                  metrics: [
                    { name: 'loss', after: null, steps: Float64Array.of(0), values: Float64Array.of(1), timestamps: Float64Array.of(NOW) },
                  ],
                  images: [
                    {
                      name: 'img',
                      after: null,
                      points: [{ step: 0, timestamp: NOW, caption: 'c', hash: sha256(blobs.png), width: 1, height: 1 }],
                    },
                  ],
                  plots: [{ name: 'fig', after: null, points: [{ step: 0, timestamp: NOW, caption: null, figure: '{"a":1}' }] }],
                  tables: [{ name: 'preds', hash: sha256(blobs.arrow), rows: 1, columns: 1, loggedAt: NOW }],
                },
                DEFAULT_LIMITS,
                NOW,
              );
            }
            return run(
              target.studies(),
              target,
              project,
              otherProject,
              experiments.map((e) => e.id),
            );
          }),
        );
        expect(sequence[1]).toEqual(sequence[0]);
        expect(JSON.stringify(sequence[1])).toBe(JSON.stringify(sequence[0]));
        // The sequence did reach every branch (not, say, the same error everywhere).
        const outcome = (label: string) => (sequence[1]!.find((entry) => (entry as unknown[])[0] === label) as unknown[])[1];
        expect(outcome('create taken name')).toMatchObject({ code: 'INVALID_NAME' });
        expect(outcome('update missing')).toMatchObject({ code: 'STUDY_NOT_FOUND' });
        expect(outcome('update rename taken')).toMatchObject({ code: 'INVALID_NAME' });
        expect(outcome('add e0 elsewhere')).toMatchObject({ code: 'ALREADY_IN_STUDY' });
        expect(outcome('add e3 over limit')).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 3, actual: 4 } });
        expect(outcome('add e3 to Beta')).toBeNull();
        expect(outcome(`members 00000000-0000-4000-8000-000000000000`)).toHaveLength(3);
        expect(outcome('list after')).toHaveLength(4);
      } finally {
        await sqlite.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    /** The same calls against either store: every result, or the error's code, message (not for STORAGE_ERROR) and details. */
    async function run(
      s: ServerStudyBackend,
      target: ServerBackend,
      project: string,
      otherProject: string,
      e: string[],
    ): Promise<unknown[]> {
      const out: unknown[] = [];
      const step = async (label: string, call: () => Promise<unknown>) => {
        try {
          out.push([label, (await call()) ?? null]);
        } catch (error) {
          const le = error as LablogError;
          out.push([label, le.code === 'STORAGE_ERROR' ? { code: le.code } : { code: le.code, message: le.message, details: le.details }]);
        }
      };
      const ids = range(0, 6).map((i) => `00000000-0000-4000-8000-00000000000${i}`);
      const records: StudyRecord[] = [
        study({
          id: ids[0],
          project,
          name: 'alpha',
          tags: ['x', 'y'],
          metadata: { z: 1, a: [1, { b: null }] },
          createdAt: NOW + 1,
          updatedAt: NOW + 1,
        }),
        study({
          id: ids[1],
          project,
          name: 'Beta',
          tags: ['y'],
          hypothesis: 'h',
          baseline: { experimentId: e[0]! },
          createdAt: NOW + 1,
          updatedAt: NOW + 3,
        }),
        study({
          id: ids[2],
          project,
          name: INJECTION,
          tags: [INJECTION, 'x'],
          status: 'completed',
          template: { kind: 'grid_search', parameters: { lr: [1, 2] } },
          createdAt: NOW + 2.5,
          updatedAt: NOW + 2.5,
        }),
        study({
          id: ids[3],
          project: otherProject,
          name: 'alpha',
          status: 'archived',
          archiveReason: 'old',
          preserveArtifacts: false,
          createdAt: NOW + 3,
          updatedAt: NOW + 3,
        }),
        study({
          id: ids[4],
          project,
          name: 'gamma',
          baseline: { name: 'paper', metrics: { acc: 0.5 } },
          preserveArtifacts: true,
          createdAt: NOW,
          updatedAt: NOW,
        }),
      ];
      for (const r of records) await step(`create ${r.name}`, () => s.createStudy(r));
      await step('create taken name', () => s.createStudy(study({ id: ids[5], project, name: 'alpha' })));
      await step('create taken id', () => s.createStudy(study({ id: ids[0], project, name: 'delta' })));
      for (const id of [...ids, 'nope']) await step(`get ${id}`, () => s.getStudy(id));
      await step('find alpha', () => s.findStudies('alpha'));
      await step('find alpha in project', () => s.findStudies('alpha', project));
      await step('find none', () => s.findStudies('none'));
      const scopes = [project, otherProject];
      const queries: StudyQuery[] = [];
      for (const sort of ['created_at', 'updated_at', 'name'] as const) {
        for (const order of ['asc', 'desc'] as const) queries.push(query({ projects: scopes, sort, order }));
      }
      queries.push(
        query({ project }),
        query({ projects: [] }),
        query({ projects: scopes, status: 'active' }),
        query({ projects: scopes, tags: ['x'] }),
        query({ projects: scopes, tags: ['x', 'y'] }),
        query({ projects: scopes, tags: [INJECTION] }),
        query({ projects: scopes, tags: ['nope'] }),
        query({ projects: scopes, limit: 2, offset: 1, sort: 'name', order: 'desc' }),
        query({ projects: scopes, limit: 2, offset: 4 }),
        query({ projects: scopes, sort: 'bogus' as never, order: 'desc' }),
      );
      for (const q of queries) {
        await step(`list ${JSON.stringify(q)}`, () => s.listStudies(q));
        const { limit: _l, offset: _o, sort: _s, order: _r, ...filter } = q;
        await step(`count ${JSON.stringify(filter)}`, () => s.countStudies(filter));
      }
      await step('update', () =>
        s.updateStudy(ids[0]!, { description: 'd', tags: ['q'], metadata: { n: 1 }, status: 'completed', conclusion: 'c' }, NOW + 10),
      );
      await step('update clear', () =>
        s.updateStudy(ids[4]!, { baseline: null, preserveArtifacts: null, hypothesis: undefined }, NOW + 11),
      );
      await step('update rename taken', () => s.updateStudy(ids[1]!, { name: INJECTION }, NOW + 12));
      await step('update rename own', () => s.updateStudy(ids[1]!, { name: 'Beta' }, NOW + 12));
      await step('update rename free', () => s.updateStudy(ids[1]!, { name: 'alpha2' }, NOW + 13));
      await step('update missing', () => s.updateStudy(ids[5]!, { name: 'x' }, NOW + 14));
      await step('add e0', () => s.addMember(ids[0]!, member(e[0]!, { notes: 'n', tags: ['t1', 't2'], addedAt: NOW + 20 }), 3));
      await step('add e1', () => s.addMember(ids[0]!, member(e[1]!, { addedAt: NOW + 19 }), 3));
      await step('add e0 again', () => s.addMember(ids[0]!, member(e[0]!, { addedAt: NOW + 21 }), 3));
      await step('add e0 elsewhere', () => s.addMember(ids[1]!, member(e[0]!, { addedAt: NOW + 21 }), 3));
      await step('add e2', () => s.addMember(ids[0]!, member(e[2]!, { addedAt: NOW + 19 }), 3));
      await step('add e3 over limit', () => s.addMember(ids[0]!, member(e[3]!, { addedAt: NOW + 22 }), 3));
      await step('add e3 to missing study', () => s.addMember(ids[5]!, member(e[3]!, { addedAt: NOW + 22 }), 3));
      await step('add missing experiment', () => s.addMember(ids[1]!, member('no-such-experiment', { addedAt: NOW + 22 }), 3));
      await step('add e3 to Beta', () => s.addMember(ids[1]!, member(e[3]!, { addedAt: NOW + 23 }), 3));
      for (const id of [ids[0]!, ids[1]!, ids[5]!]) await step(`members ${id}`, () => s.members(id));
      for (const id of [...e, 'none']) await step(`studyOf ${id}`, () => s.studyOf(id));
      await step('get after adds', () => s.getStudy(ids[0]!));
      await step('drop artifacts', () => s.dropArtifacts([e[0]!, e[1]!, 'none']));
      for (const id of e.slice(0, 3)) {
        await step(`series ${id}`, () => target.readSeries(id));
        await step(`tables ${id}`, () => target.listTables(id));
        await step(`images ${id}`, () => target.listImages(id, 'img'));
        await step(`plots ${id}`, () => target.readPlots(id, 'fig'));
      }
      await step('delete', () => s.deleteStudy(ids[0]!));
      await step('delete missing', () => s.deleteStudy(ids[5]!));
      await step('get deleted', () => s.getStudy(ids[0]!));
      await step('members deleted', () => s.members(ids[0]!));
      for (const id of e) await step(`studyOf after delete ${id}`, () => s.studyOf(id));
      await step('experiment kept', async () => (await target.getExperiment(e[0]!))?.id);
      await step('list after', () => s.listStudies(query({ projects: scopes })));
      return out;
    }
  });
});

// Sweeps in the PostgreSQL server store, beyond the contract suite: migration 8 (on an older database, replayed) and what its foreign keys do.

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/model/limits.js';
import type { StudyRecord } from '../src/model/study.js';
import type { NewSweep, TrialParams } from '../src/model/sweep.js';
import { PostgresBackend } from '../src/store/postgres/postgres-backend.js';
import { MIGRATIONS } from '../src/store/postgres/postgres-migrations.js';
import { freshDatabase, postgresUrl } from './support/postgres.js';

const baseUrl = await postgresUrl();
if (!baseUrl) {
  console.warn(
    'SKIPPED test/postgres-sweeps.test.ts: no PostgreSQL. Set LABLOG_TEST_POSTGRES_URL, or install PostgreSQL 15 ' +
      '(apt-get install -y postgresql) so test/global-setup.ts starts a throwaway server.',
  );
}

const NOW = 1_700_000_000_000;
/** The migration that adds sweeps. */
const SWEEPS_MIGRATION = 8;
const WORKER = { host: 'host-a', pid: 4242 };
const PARAMS: TrialParams = { width: 16, lr: 0.01 };

function study(overrides: Partial<StudyRecord> = {}): StudyRecord {
  return {
    id: randomUUID(),
    project: `p-${randomUUID()}`,
    name: 'tune',
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

function newSweep(id: string): NewSweep {
  return {
    id,
    metric: 'loss',
    goal: 'minimize',
    space: { width: { type: 'int', min: 8, max: 64 }, lr: { type: 'float', min: 1e-4, max: 1, log: true } },
    sampler: { type: 'random', seed: 3 },
    pruner: { type: 'none' },
    seed: 3,
    maxTrials: 5,
    parallel: 1,
    createdAt: NOW,
  };
}

/** A sweep with one trial, reported at step 1; returns the sweep's id. */
async function sweepWithTrial(backend: PostgresBackend): Promise<string> {
  const record = study();
  await backend.sweeps().createSweep(record, newSweep(record.id));
  const outcome = await backend.sweeps().askTrial(record.id, WORKER, () => PARAMS, NOW + 1);
  expect(outcome.kind).toBe('trial');
  expect(await backend.sweeps().reportTrial(record.id, 0, 1, 0.5, NOW + 2)).toBe('running');
  return record.id;
}

describe.skipIf(!baseUrl)('PostgresBackend sweeps', () => {
  let database: { url: string; drop(): Promise<void> };
  let backend: PostgresBackend;
  /** A plain connection to the test database, to look at rows directly. */
  let sql: pg.Client;

  beforeAll(async () => {
    database = await freshDatabase(baseUrl!);
    backend = await PostgresBackend.open(database.url);
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await backend?.close();
    await database?.drop();
  });

  it('is migration 8', async () => {
    const { rows } = await sql.query<{ version: number; description: string }>(
      'SELECT version, description FROM lablog_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(rows.find((r) => r.version === SWEEPS_MIGRATION)).toEqual({
      version: SWEEPS_MIGRATION,
      description: expect.stringMatching(/^sweeps:/),
    });
  });

  it('brings a version-7 database its sweeps, keeping the studies it had', async () => {
    const fresh = await freshDatabase(baseUrl!);
    const check = new pg.Client({ connectionString: fresh.url });
    await check.connect();
    try {
      const first = await PostgresBackend.open(fresh.url);
      const before = study();
      await first.studies().createStudy(before);
      await first.close();
      // Back to version 7, as a database made before sweeps existed.
      await check.query('DROP TABLE sweep_trial_reports, sweep_trials, sweeps');
      await check.query('DELETE FROM lablog_migrations WHERE version = $1', [SWEEPS_MIGRATION]);
      const again = await PostgresBackend.open(fresh.url);
      try {
        expect(await again.studies().getStudy(before.id)).toEqual(before);
        const id = await sweepWithTrial(again);
        expect((await again.sweeps().trials(id)).map((t) => [t.number, t.params, t.reports])).toEqual([
          [0, PARAMS, [{ step: 1, value: 0.5 }]],
        ]);
      } finally {
        await again.close();
      }
      const { rows } = await check.query<{ v: number }>('SELECT version AS v FROM lablog_migrations WHERE version = $1', [
        SWEEPS_MIGRATION,
      ]);
      expect(rows.map((r) => r.v)).toEqual([SWEEPS_MIGRATION]);
    } finally {
      await check.end();
      await fresh.drop();
    }
  });

  it('replays on a database whose record of it is gone, keeping its sweeps and trials', async () => {
    const id = await sweepWithTrial(backend);
    const trials = await backend.sweeps().trials(id);
    await sql.query('DELETE FROM lablog_migrations WHERE version = $1', [SWEEPS_MIGRATION]);
    const again = await PostgresBackend.open(database.url);
    try {
      expect(await again.sweeps().trials(id)).toEqual(trials);
    } finally {
      await again.close();
    }
    const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM lablog_migrations WHERE version = $1', [
      SWEEPS_MIGRATION,
    ]);
    expect(rows[0]!.n).toBe(1);
  });

  it("deleting a sweep's study deletes the sweep, its trials and their reports", async () => {
    const id = await sweepWithTrial(backend);
    await backend.studies().deleteStudy(id);
    expect(await backend.sweeps().getSweep(id)).toBeUndefined();
    expect(await backend.sweeps().trials(id)).toEqual([]);
    const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM sweep_trial_reports WHERE sweep_id = $1', [id]);
    expect(rows[0]!.n).toBe(0);
  });

  it("deleting a trial's experiment leaves the trial, without its experiment", async () => {
    const id = await sweepWithTrial(backend);
    const experimentId = randomUUID();
    const sweep = (await backend.sweeps().getSweep(id))!;
    await backend.upsertExperiment(
      {
        id: experimentId,
        project: sweep.project,
        name: 'trial-0',
        description: null,
        tags: [],
        status: 'running',
        createdAt: NOW,
        endedAt: null,
        heartbeatAt: NOW,
        hostname: 'host-a',
        version: null,
        params: [],
      },
      DEFAULT_LIMITS,
      NOW,
    );
    await backend.sweeps().setTrialExperiment(id, 0, experimentId);
    expect((await backend.sweeps().trials(id))[0]!.experimentId).toBe(experimentId);
    await sql.query('DELETE FROM experiments WHERE id = $1', [experimentId]);
    expect((await backend.sweeps().trials(id))[0]).toMatchObject({ number: 0, experimentId: null, params: PARAMS });
  });
});

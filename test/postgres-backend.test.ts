// PostgresBackend against a real PostgreSQL: publishing, idempotent ingest, truncation, blobs, queries, keys, concurrency.

import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LablogError } from '../src/model/errors.js';
import { DEFAULT_LIMITS, type Limits } from '../src/model/limits.js';
import { PostgresBackend } from '../src/store/postgres/postgres-backend.js';
import { MIGRATIONS } from '../src/store/postgres/postgres-migrations.js';
import type {
  IngestBatch,
  IngestImagePoint,
  IngestMedia,
  IngestMetric,
  IngestPlotPoint,
  PublishedExperiment,
} from '../src/store/server-backend.js';
import { freshDatabase, postgresUrl } from './support/postgres.js';
import { startPostgresProcess } from './support/postgres-process.js';

const baseUrl = await postgresUrl();
if (!baseUrl) {
  console.warn(
    'SKIPPED test/postgres-backend.test.ts: no PostgreSQL. Set LABLOG_TEST_POSTGRES_URL, or install PostgreSQL 15 ' +
      '(apt-get install -y postgresql) so test/global-setup.ts starts a throwaway server.',
  );
}

const NOW = 1_700_000_000_000;
const INJECTION = `'); DROP TABLE experiments;--`;

function limits(overrides: Partial<Limits> = {}): Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}

/** A published experiment in its own project (so list tests see only their own). */
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
    hostname: 'host-a',
    version: null,
    params: [],
    ...overrides,
  };
}

/** A metric item; timestamps default to NOW + step. */
function metric(name: string, steps: number[], values?: number[], after: number | null = null, timestamps?: number[]): IngestMetric {
  return {
    name,
    after,
    steps: Float64Array.from(steps),
    values: Float64Array.from(values ?? steps.map((s) => s * 10)),
    timestamps: Float64Array.from(timestamps ?? steps.map((s) => NOW + s)),
  };
}

function batch(experimentId: string, parts: Partial<Omit<IngestBatch, 'experimentId'>>): IngestBatch {
  return { experimentId, metrics: [], images: [], plots: [], tables: [], ...parts };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

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

describe.skipIf(!baseUrl)('PostgresBackend', () => {
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

  /** Creates an experiment and returns its id. */
  async function created(overrides: Partial<PublishedExperiment> = {}): Promise<string> {
    const e = experiment(overrides);
    await backend.upsertExperiment(e, limits(), NOW);
    return e.id;
  }

  describe('opening', () => {
    it('migrates a new database once when several processes open it together, and hides the password', async () => {
      const fresh = await freshDatabase(baseUrl!);
      // Four processes, started first and then released together: each opens the new database at once.
      const processes = await Promise.all([1, 2, 3, 4].map(() => startPostgresProcess()));
      try {
        expect(new Set(processes.map((p) => p.pid)).size).toBe(4);
        const url = new URL(fresh.url);
        // The throwaway server trusts every local connection and ignores a password; a given one is kept.
        if (!url.password) url.password = 'not-needed-with-trust';
        const opened = await Promise.all(processes.map((p) => p.open(url.toString())));
        expect(opened[0]!.location).not.toContain(url.password);
        expect(opened[0]!.location).toContain(url.pathname);
        const rows = await Promise.all(processes.map((p) => p.backend.countExperiments({})));
        expect(rows).toEqual([0, 0, 0, 0]);
        // The migrations ran once: every version is recorded once, all by one transaction (one now()).
        const check = new pg.Client({ connectionString: fresh.url });
        await check.connect();
        try {
          const ledger = await check.query<{ version: number; runs: number }>(
            'SELECT version, count(DISTINCT applied_at)::int AS runs FROM lablog_migrations GROUP BY version ORDER BY version',
          );
          // Every version of the list, in order (the list may leave a number free, as it does for 5).
          expect(ledger.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
          expect(ledger.rows.length).toBeGreaterThan(1);
          const transactions = await check.query<{ n: number }>('SELECT count(DISTINCT applied_at)::int AS n FROM lablog_migrations');
          expect(transactions.rows[0]!.n).toBe(1);
        } finally {
          await check.end();
        }
        // Reopening a migrated database changes nothing.
        const again = await PostgresBackend.open(fresh.url);
        await again.close();
      } finally {
        await Promise.all(processes.map((p) => p.close()));
        await fresh.drop();
      }
    });

    it('applies a migration missing below the highest recorded one (numbers left free for another change)', async () => {
      const fresh = await freshDatabase(baseUrl!);
      const check = new pg.Client({ connectionString: fresh.url });
      await check.connect();
      try {
        await (await PostgresBackend.open(fresh.url)).close();
        // As if version 2 had been made after the others: its tables and its record gone, the later ones kept
        // (but for version 8's sweeps, which need studies: gone with them, and the highest recorded now 7).
        await check.query('DROP TABLE sweep_trial_reports, sweep_trials, sweeps, study_experiments, studies');
        await check.query('DELETE FROM lablog_migrations WHERE version IN (2, 8)');
        const reopened = await PostgresBackend.open(fresh.url);
        try {
          expect(await reopened.studies().listStudies({ limit: 10, offset: 0, sort: 'created_at', order: 'desc' })).toEqual([]);
          expect(await reopened.sweeps().listSweeps()).toEqual([]);
        } finally {
          await reopened.close();
        }
        const ledger = await check.query<{ version: number }>('SELECT version FROM lablog_migrations ORDER BY version');
        expect(ledger.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      } finally {
        await check.end();
        await fresh.drop();
      }
    });

    it('refuses a database migrated by a newer lablog, with both versions, and leaves it as it was', async () => {
      const fresh = await freshDatabase(baseUrl!);
      const check = new pg.Client({ connectionString: fresh.url });
      await check.connect();
      try {
        await (await PostgresBackend.open(fresh.url)).close();
        const latest = (await check.query<{ v: number }>('SELECT max(version)::int AS v FROM lablog_migrations')).rows[0]!.v;
        expect(latest).toBeGreaterThan(1);
        await check.query("INSERT INTO lablog_migrations (version, description) VALUES ($1, 'from a newer lablog')", [latest + 1]);
        const error = await failure(PostgresBackend.open(fresh.url));
        const location = new URL(fresh.url).toString();
        expect(error.code).toBe('STORAGE_ERROR');
        expect(error.message).toBe(
          `the database at ${location} has schema version ${latest + 1}, newer than this lablog's ${latest}; upgrade lablog`,
        );
        expect(error.details).toEqual({ driver: 'postgres', driverCode: null, location, limit: latest, actual: latest + 1 });
        const ledger = await check.query<{ version: number }>('SELECT version FROM lablog_migrations ORDER BY version');
        expect(ledger.rows.map((r) => r.version)).toEqual([...MIGRATIONS.map((m) => m.version), latest + 1]);
      } finally {
        await check.end();
        await fresh.drop();
      }
    });

    it('fails STORAGE_ERROR without the password when no server answers', async () => {
      const error = await failure(PostgresBackend.open('postgres://someone:s3cret-pw@127.0.0.1:1/nothing'));
      expect(error.code).toBe('STORAGE_ERROR');
      expect(error.message).toMatch(/^opening the store \(postgres:\/\/someone@127\.0\.0\.1:1\/nothing\): .*ECONNREFUSED/);
      expect(error.message).not.toContain('s3cret-pw');
    });

    it('rejects calls after close with STORAGE_ERROR; closing twice is harmless', async () => {
      const other = await PostgresBackend.open(database.url);
      await other.close();
      await other.close();
      expect((await failure(other.getExperiment(randomUUID()))).code).toBe('STORAGE_ERROR');
    });
  });

  describe('upsertExperiment', () => {
    it('creates an experiment with the client id, tags and params', async () => {
      const e = experiment({
        description: 'first try',
        tags: ['baseline', 'gpu'],
        version: 'v1',
        params: [
          { key: 'lr', type: 'number', value: '0.001' },
          { key: 'arch', type: 'string', value: 'resnet' },
        ],
      });
      const record = await backend.upsertExperiment(e, limits(), NOW + 5);
      expect(record).toEqual({
        id: e.id,
        project: e.project,
        name: 'run',
        description: 'first try',
        tags: ['baseline', 'gpu'],
        status: 'running',
        createdAt: NOW,
        updatedAt: NOW + 5,
        endedAt: null,
        heartbeatAt: NOW,
        pid: null,
        hostname: 'host-a',
        progress: null,
        version: 'v1',
        publishedAt: NOW + 5,
      });
      expect(await backend.getExperiment(e.id)).toEqual(record);
      expect(await backend.readParams(e.id)).toEqual([
        { key: 'arch', type: 'string', value: 'resnet' },
        { key: 'lr', type: 'number', value: '0.001' },
      ]);
    });

    it('updates state, tags and params of an existing id; keeps the version when null; never renames', async () => {
      const e = experiment({ tags: ['a', 'b'], version: 'v1', params: [{ key: 'lr', type: 'number', value: '0.1' }] });
      await backend.upsertExperiment(e, limits(), NOW);
      const updated = await backend.upsertExperiment(
        {
          ...e,
          name: 'another name',
          status: 'completed',
          description: 'done',
          tags: ['b', 'c'],
          endedAt: NOW + 100,
          heartbeatAt: NOW + 99,
          hostname: 'host-b',
          version: null,
          params: [
            { key: 'lr', type: 'number', value: '0.2' },
            { key: 'epochs', type: 'number', value: '3' },
          ],
        },
        limits(),
        NOW + 200,
      );
      expect(updated).toMatchObject({
        name: 'run',
        status: 'completed',
        description: 'done',
        tags: ['b', 'c'],
        createdAt: NOW,
        endedAt: NOW + 100,
        heartbeatAt: NOW + 99,
        hostname: 'host-b',
        version: 'v1',
        updatedAt: NOW + 200,
        publishedAt: NOW + 200,
      });
      expect(await backend.readParams(e.id)).toEqual([
        { key: 'epochs', type: 'number', value: '3' },
        { key: 'lr', type: 'number', value: '0.2' },
      ]);
      // experiment_tags follows the tags.
      expect(await backend.countExperiments({ project: e.project, tags: ['a'] })).toBe(0);
      expect(await backend.countExperiments({ project: e.project, tags: ['b', 'c'] })).toBe(1);
      expect((await backend.upsertExperiment({ ...e, version: 'v2' }, limits(), NOW + 300)).version).toBe('v2');
    });

    it('names a clashing experiment of the project name-2, name-3, … (cut to the name limit)', async () => {
      const project = `p-${randomUUID()}`;
      const names: string[] = [];
      for (let i = 0; i < 3; i++) names.push((await backend.upsertExperiment(experiment({ project, name: 'train' }), limits(), NOW)).name);
      expect(names).toEqual(['train', 'train-2', 'train-3']);
      // Another project keeps the name; republishing keeps the name it got.
      expect((await backend.upsertExperiment(experiment({ name: 'train' }), limits(), NOW)).name).toBe('train');
      const [first] = await backend.listExperiments({ project, sort: 'name', order: 'asc', limit: 1 });
      expect((await backend.upsertExperiment({ ...experiment({ project, name: 'train' }), id: first!.id }, limits(), NOW)).name).toBe(
        'train',
      );

      const long = 'x'.repeat(20);
      const small = limits({ maxNameLength: 20 });
      await backend.upsertExperiment(experiment({ project, name: long }), small, NOW);
      const second = await backend.upsertExperiment(experiment({ project, name: long }), small, NOW);
      expect(second.name).toBe(`${'x'.repeat(18)}-2`);
    });

    it('deduplicates past one probe of candidate names', async () => {
      const project = `p-${randomUUID()}`;
      const names = new Set<string>();
      for (let i = 0; i < 70; i++) names.add((await backend.upsertExperiment(experiment({ project, name: 'many' }), limits(), NOW)).name);
      expect(names.size).toBe(70);
      expect(names.has('many-70')).toBe(true);
    });

    it('refuses a change of project', async () => {
      const e = experiment();
      await backend.upsertExperiment(e, limits(), NOW);
      const error = await failure(backend.upsertExperiment({ ...e, project: 'elsewhere' }, limits(), NOW));
      expect(error.code).toBe('INVALID_OPTION');
      expect((await backend.getExperiment(e.id))!.project).toBe(e.project);
    });

    it('fails LIMIT_EXCEEDED past maxParams and stores nothing of that call', async () => {
      const small = limits({ maxParams: 3 });
      const e = experiment({ params: [{ key: 'a', type: 'number', value: '1' }] });
      await backend.upsertExperiment(e, small, NOW);
      const error = await failure(
        backend.upsertExperiment(
          {
            ...e,
            status: 'failed',
            tags: ['new'],
            params: ['a', 'b', 'c', 'd'].map((key) => ({ key, type: 'string' as const, value: `${key}!` })),
          },
          small,
          NOW + 1,
        ),
      );
      expect(error.code).toBe('LIMIT_EXCEEDED');
      expect(error.details).toMatchObject({ limit: 3, actual: 4 });
      expect(await backend.readParams(e.id)).toEqual([{ key: 'a', type: 'number', value: '1' }]);
      expect(await backend.getExperiment(e.id)).toMatchObject({ status: 'running', tags: [], updatedAt: NOW });

      // A new experiment over the limit is not created at all.
      const big = experiment({ params: range(0, 4).map((i) => ({ key: `k${i}`, type: 'number' as const, value: String(i) })) });
      expect((await failure(backend.upsertExperiment(big, small, NOW))).code).toBe('LIMIT_EXCEEDED');
      expect(await backend.getExperiment(big.id)).toBeUndefined();
    });

    it('takes the last of duplicate param keys', async () => {
      const e = experiment({
        params: [
          { key: 'k', type: 'number', value: '1' },
          { key: 'k', type: 'string', value: 'two' },
        ],
      });
      await backend.upsertExperiment(e, limits(), NOW);
      expect(await backend.readParams(e.id)).toEqual([{ key: 'k', type: 'string', value: 'two' }]);
    });
  });

  describe('ingest', () => {
    it('stores a batch once: sending it again skips every point', async () => {
      const id = await created();
      const sent = batch(id, {
        metrics: [metric('loss', range(0, 100)), metric('acc', range(0, 50))],
        plots: [{ name: 'fig', after: null, points: [{ step: 1, timestamp: NOW, caption: 'c', figure: '{"data":[]}' }] }],
      });
      const first = await backend.ingest(sent, limits(), NOW + 1);
      expect(first).toEqual({
        series: [
          { name: 'loss', kind: 'metric', count: 100, lastStep: 99 },
          { name: 'acc', kind: 'metric', count: 50, lastStep: 49 },
          { name: 'fig', kind: 'plot', count: 1, lastStep: 1 },
        ],
        accepted: 151,
        skipped: 0,
        rejected: [],
      });
      const second = await backend.ingest(sent, limits(), NOW + 2);
      expect(second.accepted).toBe(0);
      expect(second.skipped).toBe(151);
      expect(second.series).toEqual(first.series);
      expect((await backend.readSeries(id)).map((s) => [s.name, s.count])).toEqual([
        ['acc', 50],
        ['fig', 1],
        ['loss', 100],
      ]);
      expect((await backend.readMetric(id, 'loss'))!.steps.length).toBe(100);
      expect(await backend.getExperiment(id)).toMatchObject({ publishedAt: NOW + 2, updatedAt: NOW + 2 });
    });

    it('stores only the points after the last stored step of a partly known batch', async () => {
      const id = await created();
      await backend.ingest(batch(id, { metrics: [metric('m', range(0, 10))] }), limits(), NOW);
      const result = await backend.ingest(
        batch(id, {
          metrics: [
            metric(
              'm',
              range(5, 15),
              range(5, 15).map((s) => -s),
              9,
            ),
          ],
        }),
        limits(),
        NOW,
      );
      expect(result).toMatchObject({ accepted: 5, skipped: 5, rejected: [] });
      const data = (await backend.readMetric(id, 'm'))!;
      expect(Array.from(data.steps)).toEqual(range(0, 15));
      // Points already stored keep their values.
      expect(Array.from(data.values)).toEqual([...range(0, 10).map((s) => s * 10), ...range(10, 15).map((s) => -s)]);
      expect((await backend.readSeries(id))[0]).toMatchObject({
        count: 15,
        firstStep: 0,
        lastStep: 14,
        lastValue: -14,
        minValue: -14,
        maxValue: 90,
      });
    });

    it('rejects SYNC_CONFLICT when the client saw a step the server lacks', async () => {
      const id = await created();
      await backend.ingest(batch(id, { metrics: [metric('m', range(0, 10))] }), limits(), NOW);
      const result = await backend.ingest(
        batch(id, { metrics: [metric('m', range(20, 25), undefined, 19), metric('fresh', [3, 4], undefined, 2), metric('ok', [0])] }),
        limits(),
        NOW,
      );
      expect(result.rejected.map((r) => [r.name, r.error])).toEqual([
        ['m', 'SYNC_CONFLICT'],
        ['fresh', 'SYNC_CONFLICT'],
      ]);
      expect(result.rejected[0]!.details).toMatchObject({ after: 19, serverLastStep: 9 });
      expect(result.accepted).toBe(1);
      expect((await backend.readSeries(id)).map((s) => s.name)).toEqual(['m', 'ok']);
      expect((await backend.readSeries(id))[0]!.count).toBe(10);
    });

    it('rejects an item of the wrong kind and stores the others', async () => {
      const id = await created();
      await backend.ingest(batch(id, { metrics: [metric('loss', [0])] }), limits(), NOW);
      const result = await backend.ingest(
        batch(id, {
          metrics: [metric('acc', [0, 1])],
          plots: [{ name: 'loss', after: null, points: [{ step: 5, timestamp: NOW, caption: null, figure: '{}' }] }],
        }),
        limits(),
        NOW,
      );
      expect(result.rejected).toHaveLength(1);
      expect(result.rejected[0]).toMatchObject({ kind: 'plot', name: 'loss', error: 'SERIES_KIND_MISMATCH' });
      expect(result.accepted).toBe(2);
      expect(await backend.readPlots(id, 'loss')).toEqual([]);
      expect((await backend.readSeries(id)).map((s) => [s.name, s.kind, s.count])).toEqual([
        ['acc', 'metric', 2],
        ['loss', 'metric', 1],
      ]);
    });

    it('rejects a metric item past maxMetricValues with the limit and the actual count', async () => {
      const id = await created();
      const small = limits({ maxMetricValues: 10 });
      await backend.ingest(batch(id, { metrics: [metric('a', range(0, 8))] }), small, NOW);
      const result = await backend.ingest(batch(id, { metrics: [metric('b', range(0, 5)), metric('c', range(0, 2))] }), small, NOW);
      expect(result.rejected).toHaveLength(1);
      expect(result.rejected[0]).toMatchObject({ name: 'b', error: 'LIMIT_EXCEEDED', details: { limit: 10, actual: 13 } });
      expect(result.accepted).toBe(2);
      expect((await backend.readSeries(id)).map((s) => [s.name, s.count])).toEqual([
        ['a', 8],
        ['c', 2],
      ]);
    });

    it('rejects steps that do not increase, negative or fractional steps, and keeps the other items', async () => {
      const id = await created();
      await backend.ingest(batch(id, { metrics: [metric('m', [0, 1, 2])] }), limits(), NOW);
      const result = await backend.ingest(
        batch(id, {
          metrics: [
            metric('down', [0, 2, 1]),
            metric('same', [4, 4]),
            metric('neg', [-1]),
            metric('half', [0.5]),
            metric('m', [3, 4], undefined, 2),
          ],
        }),
        limits(),
        NOW,
      );
      expect(result.rejected.map((r) => [r.name, r.error])).toEqual([
        ['down', 'STEP_NOT_INCREASING'],
        ['same', 'STEP_NOT_INCREASING'],
        ['neg', 'INVALID_STEP'],
        ['half', 'INVALID_STEP'],
      ]);
      expect(result.accepted).toBe(2);
      expect(Array.from((await backend.readMetric(id, 'm'))!.steps)).toEqual([0, 1, 2, 3, 4]);
      expect((await backend.readSeries(id)).map((s) => s.name)).toEqual(['m']);
    });

    it('fails EXPERIMENT_NOT_FOUND for an unknown experiment', async () => {
      const error = await failure(backend.ingest(batch(randomUUID(), { metrics: [metric('m', [0])] }), limits(), NOW));
      expect(error.code).toBe('EXPERIMENT_NOT_FOUND');
    });

    it('writes a 100k-point item as one chunk row, with its steps delta-encoded', async () => {
      const id = await created();
      const n = 100_000;
      const steps = range(0, n);
      // One row, not a row per point, is what makes this fast; its speed is measured by npm run bench, not here.
      const result = await backend.ingest(batch(id, { metrics: [metric('big', steps, steps.map(Math.sin))] }), limits(), NOW);
      expect(result.accepted).toBe(n);
      const { rows } = await sql.query(
        `SELECT count(*)::int AS n, sum(length(steps))::int AS steps_bytes FROM metric_chunks c JOIN series s ON s.id = c.series_id
         WHERE s.experiment_id = $1`,
        [id],
      );
      expect(rows[0]).toEqual({ n: 1, steps_bytes: 16 }); // steps 0, 1, 2, … encode as [first, delta]
      const data = (await backend.readMetric(id, 'big'))!;
      expect(data.values[n - 1]).toBe(Math.sin(n - 1));
    });
  });

  describe('readMetric', () => {
    it('round-trips NaN, -0, infinities, subnormals and fractional timestamps across chunks', async () => {
      const id = await created();
      const values = [NaN, -0, Infinity, -Infinity, 1.5, 5e-324, Number.MAX_VALUE, -0];
      const steps = [0, 3, 100, 101, 7_000_000, 7_000_001, 2 ** 40, 2 ** 40 + 1];
      const timestamps = [NOW + 0.25, NOW + 1.5, NOW + 1.5, NOW - 3.125, NOW + 1e6, NOW + 1e6 + 0.001, NOW + 2e6, NOW + 2e6];
      await backend.ingest(
        batch(id, { metrics: [metric('v', steps.slice(0, 3), values.slice(0, 3), null, timestamps.slice(0, 3))] }),
        limits(),
        NOW,
      );
      await backend.ingest(batch(id, { metrics: [metric('v', steps.slice(3), values.slice(3), 100, timestamps.slice(3))] }), limits(), NOW);
      const data = (await backend.readMetric(id, 'v'))!;
      expect(Array.from(data.steps)).toEqual(steps);
      expect(Array.from(data.timestamps)).toEqual(timestamps);
      const read = Array.from(data.values);
      for (let i = 0; i < values.length; i++) expect(Object.is(read[i], values[i]), `value ${i}: ${read[i]} vs ${values[i]}`).toBe(true);
      const [summary] = await backend.readSeries(id);
      expect(summary).toMatchObject({
        count: 8,
        firstStep: 0,
        lastStep: 2 ** 40 + 1,
        minValue: -Infinity,
        maxValue: Infinity,
        lastTimestamp: NOW + 2e6,
      });
      expect(Object.is(summary!.lastValue, -0)).toBe(true);
    });

    it('keeps NaN out of min and max; a series of only NaN has none', async () => {
      const id = await created();
      await backend.ingest(
        batch(id, { metrics: [metric('nan', [0, 1], [NaN, NaN]), metric('mixed', [0, 1, 2], [NaN, 2, -1])] }),
        limits(),
        NOW,
      );
      const series = await backend.readSeries(id);
      expect(series.find((s) => s.name === 'nan')).toMatchObject({ minValue: null, maxValue: null, lastValue: NaN });
      expect(series.find((s) => s.name === 'mixed')).toMatchObject({ minValue: -1, maxValue: 2, lastValue: -1 });
    });

    it('is undefined for an unknown series or one of another kind', async () => {
      const id = await created();
      await backend.ingest(
        batch(id, { plots: [{ name: 'fig', after: null, points: [{ step: 0, timestamp: NOW, caption: null, figure: '{}' }] }] }),
        limits(),
        NOW,
      );
      expect(await backend.readMetric(id, 'nothing')).toBeUndefined();
      expect(await backend.readMetric(id, 'fig')).toBeUndefined();
    });
  });

  describe('concurrency', () => {
    it('two server processes ingesting the same experiment store every point once', async () => {
      const processes = await Promise.all([startPostgresProcess(), startPostgresProcess()]);
      try {
        await Promise.all(processes.map((p) => p.open(database.url)));
        const id = await created();
        const n = 2_000;
        const items = (from: number) => [metric('a', range(from, n)), metric('b', range(from, n))];
        // Overlapping batches, alternately to one process and the other, all at once.
        const batches = [0, 0, 500, 1000, 0, 1500].map((from) => batch(id, { metrics: items(from) }));
        const results = await Promise.all(batches.map((b, i) => processes[i % 2]!.backend.ingest(b, limits(), NOW)));
        for (const r of results) expect(r.rejected).toEqual([]);
        const accepted = results.reduce((sum, r) => sum + r.accepted, 0);
        expect(accepted).toBe(2 * n);
        const series = await backend.readSeries(id);
        expect(series.map((s) => [s.name, s.count, s.firstStep, s.lastStep]).sort()).toEqual([
          ['a', n, 0, n - 1],
          ['b', n, 0, n - 1],
        ]);
        for (const s of series) {
          // Every step once, none missing: exactly 0 … n-1 with their values.
          const data = (await backend.readMetric(id, s.name))!;
          expect(Array.from(data.steps)).toEqual(range(0, n));
          expect(Array.from(data.values)).toEqual(range(0, n).map((step) => step * 10));
        }
      } finally {
        await Promise.all(processes.map((p) => p.close()));
      }
    });

    it('creating one id from two processes at once makes one experiment; one name from two makes name and name-2', async () => {
      const processes = await Promise.all([startPostgresProcess(), startPostgresProcess()]);
      try {
        await Promise.all(processes.map((p) => p.open(database.url)));
        const e = experiment({ name: 'same' });
        const twice = await Promise.all(processes.map((p) => p.backend.upsertExperiment(e, limits(), NOW)));
        expect(twice[0]!.name).toBe('same');
        expect(twice[1]!.name).toBe('same');
        expect(await backend.countExperiments({ project: e.project })).toBe(1);

        const project = `p-${randomUUID()}`;
        const made = await Promise.all(
          range(0, 6).map((i) => processes[i % 2]!.backend.upsertExperiment(experiment({ project, name: 'race' }), limits(), NOW)),
        );
        expect(made.map((r) => r.name).sort()).toEqual(['race', 'race-2', 'race-3', 'race-4', 'race-5', 'race-6']);
        expect(await backend.countExperiments({ project })).toBe(6);
      } finally {
        await Promise.all(processes.map((p) => p.close()));
      }
    });
  });

  describe('truncate', () => {
    it('drops points from a step across chunks and media, recomputes summaries, keeps the status', async () => {
      const id = await created({ status: 'completed' });
      const png = Buffer.from('not really a png, the backend stores bytes');
      const hash = sha256(png);
      await backend.putBlob(hash, png);
      const image = (step: number): IngestImagePoint => ({ step, timestamp: NOW + step, caption: `s${step}`, hash, width: 2, height: 3 });
      const plot = (step: number): IngestPlotPoint => ({ step, timestamp: NOW + step, caption: null, figure: `{"step":${step}}` });
      for (const [from, to] of [
        [0, 10],
        [10, 20],
        [20, 30],
      ] as const) {
        const steps = range(from, to);
        await backend.ingest(
          batch(id, {
            // The largest value (1000) is in the part dropped.
            metrics: [
              metric(
                'm',
                steps,
                steps.map((s) => (s === 25 ? 1000 : s)),
                from === 0 ? null : from - 1,
              ),
              metric('early', [from]),
            ],
            images: [{ name: 'img', after: from === 0 ? null : from - 5, points: [image(from), image(from + 5)] }],
            plots: [{ name: 'plt', after: from === 0 ? null : from - 5, points: [plot(from), plot(from + 5)] }],
          }),
          limits(),
          NOW,
        );
      }
      await backend.truncate(id, 15, NOW + 50);
      const data = (await backend.readMetric(id, 'm'))!;
      expect(Array.from(data.steps)).toEqual(range(0, 15));
      expect(Array.from(data.timestamps)).toEqual(range(0, 15).map((s) => NOW + s));
      const series = await backend.readSeries(id);
      expect(series).toEqual([
        {
          name: 'early',
          kind: 'metric',
          count: 2,
          firstStep: 0,
          lastStep: 10,
          lastTimestamp: NOW + 10,
          lastValue: 100,
          minValue: 0,
          maxValue: 100,
        },
        {
          name: 'img',
          kind: 'image',
          count: 3,
          firstStep: 0,
          lastStep: 10,
          lastTimestamp: NOW + 10,
          lastValue: null,
          minValue: null,
          maxValue: null,
        },
        {
          name: 'm',
          kind: 'metric',
          count: 15,
          firstStep: 0,
          lastStep: 14,
          lastTimestamp: NOW + 14,
          lastValue: 14,
          minValue: 0,
          maxValue: 14,
        },
        {
          name: 'plt',
          kind: 'plot',
          count: 3,
          firstStep: 0,
          lastStep: 10,
          lastTimestamp: NOW + 10,
          lastValue: null,
          minValue: null,
          maxValue: null,
        },
      ]);
      expect((await backend.listImages(id, 'img')).map((i) => i.step)).toEqual([0, 5, 10]);
      expect((await backend.readPlots(id, 'plt')).map((p) => p.figure)).toEqual([{ step: 0 }, { step: 5 }, { step: 10 }]);
      expect(await backend.getExperiment(id)).toMatchObject({ status: 'completed', updatedAt: NOW + 50, publishedAt: NOW + 50 });
      // The blob stays: other points may name it.
      expect(await backend.readBlob(hash)).toEqual(png);

      // The client resumes from 15: sending from there is accepted.
      const resumed = await backend.ingest(batch(id, { metrics: [metric('m', [15, 16], [-1, -2], 14)] }), limits(), NOW);
      expect(resumed).toMatchObject({ accepted: 2, rejected: [] });
      expect((await backend.readSeries(id)).find((s) => s.name === 'm')).toMatchObject({
        count: 17,
        lastStep: 16,
        minValue: -2,
        maxValue: 14,
      });

      // On a chunk boundary, and down to nothing: an emptied metric reads as empty, not missing.
      await backend.truncate(id, 10, NOW);
      expect(Array.from((await backend.readMetric(id, 'm'))!.steps)).toEqual(range(0, 10));
      await backend.truncate(id, 0, NOW);
      const empty = (await backend.readMetric(id, 'm'))!;
      expect(empty.steps.length).toBe(0);
      for (const s of await backend.readSeries(id)) {
        expect(s).toMatchObject({
          count: 0,
          firstStep: null,
          lastStep: null,
          lastTimestamp: null,
          lastValue: null,
          minValue: null,
          maxValue: null,
        });
      }
      expect(await backend.listImages(id, 'img')).toEqual([]);
      expect((await backend.ingest(batch(id, { metrics: [metric('m', [0])] }), limits(), NOW)).accepted).toBe(1);
    });

    it('past the last step changes no point; an unknown experiment fails EXPERIMENT_NOT_FOUND', async () => {
      const id = await created();
      await backend.ingest(batch(id, { metrics: [metric('m', range(0, 5))] }), limits(), NOW);
      await backend.truncate(id, 100, NOW);
      expect((await backend.readSeries(id))[0]).toMatchObject({ count: 5, lastStep: 4 });
      expect((await failure(backend.truncate(randomUUID(), 0, NOW))).code).toBe('EXPERIMENT_NOT_FOUND');
    });
  });

  describe('blobs, images, plots and tables', () => {
    it('stores known bytes once and tells which hashes are missing', async () => {
      const bytes = Buffer.from(`blob ${randomUUID()}`);
      const hash = sha256(bytes);
      const absent = sha256(Buffer.from(`absent ${randomUUID()}`));
      expect(await backend.missingBlobs([hash, absent, hash])).toEqual([hash, absent]);
      await Promise.all([backend.putBlob(hash, bytes), backend.putBlob(hash, bytes)]);
      await backend.putBlob(hash, bytes);
      expect(await backend.missingBlobs([hash, absent])).toEqual([absent]);
      expect(await backend.missingBlobs([])).toEqual([]);
      expect(await backend.readBlob(hash)).toEqual(bytes);
      expect(await backend.readBlob(absent)).toBeUndefined();
      const { rows } = await sql.query('SELECT count(*)::int AS n FROM blobs WHERE hash = $1', [hash]);
      expect(rows[0].n).toBe(1);
    });

    it('stores image points naming blobs; reads their metadata and bytes', async () => {
      const id = await created();
      const a = Buffer.from(`png a ${randomUUID()}`);
      const b = Buffer.from(`png b ${randomUUID()}`);
      await backend.putBlob(sha256(a), a);
      await backend.putBlob(sha256(b), b);
      const images: IngestMedia<IngestImagePoint>[] = [
        {
          name: 'samples',
          after: null,
          points: [
            { step: 0, timestamp: NOW + 0.5, caption: 'first', hash: sha256(a), width: 4, height: 5 },
            { step: 1, timestamp: NOW + 1, caption: null, hash: sha256(b), width: 6, height: 7 },
            { step: 2, timestamp: NOW + 2, caption: 'a again', hash: sha256(a), width: 4, height: 5 },
          ],
        },
      ];
      expect((await backend.ingest(batch(id, { images }), limits(), NOW)).accepted).toBe(3);
      expect(await backend.listImages(id, 'samples')).toEqual([
        { step: 0, timestamp: NOW + 0.5, caption: 'first', width: 4, height: 5, hash: sha256(a) },
        { step: 1, timestamp: NOW + 1, caption: null, width: 6, height: 7, hash: sha256(b) },
        { step: 2, timestamp: NOW + 2, caption: 'a again', width: 4, height: 5, hash: sha256(a) },
      ]);
      expect(await backend.readImage(id, 'samples', 1)).toEqual(b);
      expect(await backend.readImage(id, 'samples', 3)).toBeUndefined();
      expect(await backend.readImage(id, 'other', 0)).toBeUndefined();
      expect((await backend.ingest(batch(id, { images }), limits(), NOW)).skipped).toBe(3);
      expect(await backend.listImages(id, 'samples')).toHaveLength(3);
    });

    it('fails the batch when a point names a blob never uploaded', async () => {
      const id = await created();
      const hash = sha256(Buffer.from(`never ${randomUUID()}`));
      const error = await failure(
        backend.ingest(
          batch(id, {
            metrics: [metric('m', [0])],
            images: [{ name: 'img', after: null, points: [{ step: 0, timestamp: NOW, caption: null, hash, width: 1, height: 1 }] }],
          }),
          limits(),
          NOW,
        ),
      );
      expect(error).toMatchObject({ code: 'INVALID_OPTION', details: { missing: [hash] } });
      expect(await backend.readSeries(id)).toEqual([]);
    });

    it('stores plots with their figures parsed back', async () => {
      const id = await created();
      const figure = { data: [{ x: [1, 2], y: [3, 4], type: 'scatter', name: INJECTION }], layout: { title: 'ü "quoted"' } };
      await backend.ingest(
        batch(id, {
          plots: [{ name: 'curve', after: null, points: [{ step: 7, timestamp: NOW, caption: 'cap', figure: JSON.stringify(figure) }] }],
        }),
        limits(),
        NOW,
      );
      expect(await backend.readPlots(id, 'curve')).toEqual([{ step: 7, timestamp: NOW, caption: 'cap', figure }]);
      expect(await backend.readPlots(id, 'missing')).toEqual([]);
    });

    it('keeps the newest table of a name; an older or equal one is skipped', async () => {
      const id = await created();
      const v1 = Buffer.from(`arrow v1 ${randomUUID()}`);
      const v2 = Buffer.from(`arrow v2 ${randomUUID()}`);
      await backend.putBlob(sha256(v1), v1);
      await backend.putBlob(sha256(v2), v2);
      const table = (bytes: Buffer, loggedAt: number, rows = 3) => ({ name: 'preds', hash: sha256(bytes), rows, columns: 2, loggedAt });
      expect((await backend.ingest(batch(id, { tables: [table(v1, NOW)] }), limits(), NOW)).accepted).toBe(1);
      expect((await backend.ingest(batch(id, { tables: [table(v1, NOW)] }), limits(), NOW)).skipped).toBe(1);
      expect((await backend.ingest(batch(id, { tables: [table(v2, NOW + 10, 4)] }), limits(), NOW)).accepted).toBe(1);
      expect((await backend.ingest(batch(id, { tables: [table(v1, NOW + 5)] }), limits(), NOW)).skipped).toBe(1);
      expect(await backend.listTables(id)).toEqual([{ name: 'preds', rows: 4, columns: 2, loggedAt: NOW + 10 }]);
      expect(await backend.readTable(id, 'preds')).toEqual({ name: 'preds', rows: 4, columns: 2, loggedAt: NOW + 10, ipc: v2 });
      expect(await backend.readTable(id, 'nope')).toBeUndefined();

      const big = await backend.ingest(
        batch(id, { tables: [{ ...table(v1, NOW + 20), name: 'huge', rows: 11 }] }),
        limits({ maxTableRows: 10 }),
        NOW,
      );
      expect(big.rejected[0]).toMatchObject({ kind: 'table', name: 'huge', error: 'LIMIT_EXCEEDED', details: { limit: 10, actual: 11 } });
    });
  });

  describe('listExperiments and countExperiments', () => {
    const project = `p-${randomUUID()}`;
    const other = `p-${randomUUID()}`;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      const specs: [string, string, PublishedExperiment['status'], string[], number][] = [
        ['alpha', project, 'running', ['a', 'b'], 3],
        ['beta', project, 'completed', ['a'], 1],
        ['gamma', project, 'failed', ['b'], 2],
        ['delta', project, 'completed', ['a', 'b', 'c'], 2],
        ['omega', other, 'completed', ['a', 'b'], 5],
      ];
      for (const [name, p, status, tags, created] of specs) {
        const e = experiment({ name, project: p, status, tags, createdAt: NOW + created });
        ids[name] = e.id;
        await backend.upsertExperiment(e, limits(), NOW + 10 - created);
      }
    });

    const names = async (query: Parameters<PostgresBackend['listExperiments']>[0]) =>
      (await backend.listExperiments(query)).map((e) => e.name);

    it('filters by project, scope, status and tags (all must match)', async () => {
      expect(await backend.countExperiments({ project })).toBe(4);
      expect(await backend.countExperiments({ projects: [project, other] })).toBe(5);
      expect(await backend.countExperiments({ projects: [] })).toBe(0);
      expect(await backend.countExperiments({ project, projects: [other] })).toBe(0);
      expect(await names({ project, status: ['completed'], sort: 'name', order: 'asc' })).toEqual(['beta', 'delta']);
      expect(await names({ project, status: ['completed', 'failed'], sort: 'name', order: 'asc' })).toEqual(['beta', 'delta', 'gamma']);
      expect(await names({ project, tags: ['a', 'b'], sort: 'name', order: 'asc' })).toEqual(['alpha', 'delta']);
      expect(await names({ projects: [project, other], tags: ['a', 'b', 'a'], sort: 'name', order: 'asc' })).toEqual([
        'alpha',
        'delta',
        'omega',
      ]);
      expect(await backend.countExperiments({ projects: [project, other], tags: ['a', 'b'] })).toBe(3);
      expect(await backend.countExperiments({ project, tags: ['zzz'] })).toBe(0);
    });

    it('sorts by a whitelisted column, ties broken by id, and pages', async () => {
      // delta and gamma tie on created_at, updated_at; beta and delta on status.
      const byId = (...names: string[]) => names.map((n) => ids[n]!).sort();
      const list = async (query: Parameters<PostgresBackend['listExperiments']>[0]) =>
        (await backend.listExperiments(query)).map((e) => e.id);
      const tie = byId('delta', 'gamma');
      expect(await list({ project })).toEqual([ids['alpha'], ...[...tie].reverse(), ids['beta']]);
      expect(await list({ project, sort: 'created_at', order: 'asc' })).toEqual([ids['beta'], ...tie, ids['alpha']]);
      expect(await list({ project, sort: 'updated_at', order: 'asc' })).toEqual([ids['alpha'], ...tie, ids['beta']]);
      expect(await list({ project, sort: 'status', order: 'asc' })).toEqual([...byId('beta', 'delta'), ids['gamma'], ids['alpha']]);
      expect(await names({ project, sort: 'name', order: 'desc' })).toEqual(['gamma', 'delta', 'beta', 'alpha']);
      expect(await names({ project, sort: 'name', order: 'asc', limit: 2 })).toEqual(['alpha', 'beta']);
      expect(await names({ project, sort: 'name', order: 'asc', limit: 2, offset: 2 })).toEqual(['delta', 'gamma']);
      expect(await names({ project, sort: 'name', order: 'asc', offset: 3 })).toEqual(['gamma']);
      // A sort value outside the whitelist never reaches SQL.
      expect(await names({ project, sort: 'name; DROP TABLE experiments' as never, order: 'asc' })).toHaveLength(4);
    });
  });

  describe('injection-looking text', () => {
    const names = async (query: Parameters<PostgresBackend['listExperiments']>[0]) =>
      (await backend.listExperiments(query)).map((e) => e.name);

    it('round-trips names, tags, params, series and filters verbatim', async () => {
      const project = `${INJECTION} ${randomUUID()}`;
      const tags = [INJECTION, 'a,b', '{x}', '"quoted"', 'back\\slash', 'NULL', ''];
      const e = experiment({
        project,
        name: INJECTION,
        description: `${INJECTION} $1 \\x00`,
        tags,
        hostname: "o'brien",
        version: `v'1`,
        params: [{ key: INJECTION, type: 'string', value: `'; DELETE FROM params; --` }],
      });
      const record = await backend.upsertExperiment(e, limits(), NOW);
      expect(record).toMatchObject({ name: INJECTION, project, tags, hostname: "o'brien", version: `v'1`, description: e.description });
      expect((await backend.upsertExperiment(experiment({ project, name: INJECTION }), limits(), NOW)).name).toBe(`${INJECTION}-2`);
      expect(await backend.readParams(e.id)).toEqual(e.params);
      await backend.ingest(batch(e.id, { metrics: [metric(INJECTION, [0, 1])] }), limits(), NOW);
      expect((await backend.readSeries(e.id))[0]!.name).toBe(INJECTION);
      expect((await backend.readMetric(e.id, INJECTION))!.steps.length).toBe(2);
      expect(await names({ project, tags: [INJECTION, 'NULL', ''] })).toEqual([INJECTION]);
      expect(
        await backend.countExperiments({ projects: [project], status: ['running'], tags: ['a,b', '{x}', '"quoted"', 'back\\slash'] }),
      ).toBe(1);
      const { rows } = await sql.query(`SELECT to_regclass('experiments') IS NOT NULL AS present`);
      expect(rows[0].present).toBe(true);
    });
  });

  describe('API keys', () => {
    it('finds a key by its hash; an unknown hash is undefined; a duplicate fails STORAGE_ERROR', async () => {
      const key = {
        id: randomUUID(),
        hash: sha256(Buffer.from(randomUUID())),
        projects: ['p1', INJECTION],
        name: 'ci',
        createdAt: NOW + 0.5,
      };
      await backend.createKey(key);
      expect(await backend.findKey(key.hash)).toEqual(key);
      expect(await backend.findKey(sha256(Buffer.from('unknown')))).toBeUndefined();
      const unnamed = { ...key, id: randomUUID(), hash: sha256(Buffer.from(randomUUID())), projects: [], name: null };
      await backend.createKey(unnamed);
      expect(await backend.findKey(unnamed.hash)).toEqual(unnamed);
      const error = await failure(backend.createKey({ ...key, id: randomUUID() }));
      expect(error.code).toBe('STORAGE_ERROR');
      expect(error.message).toMatch(/creating an API key/);
    });
  });
});

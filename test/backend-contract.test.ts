// The backend contract: one set of cases, run against every store, so parity between them is proven, not hoped.
//
// Which store has which capability (a case runs on every store that has its capability):
//
// | capability        | interface (src/store/)                    | embedded SQLite | SQLite server | PostgreSQL |
// |-------------------|-------------------------------------------|-----------------|---------------|------------|
// | experiment reads  | ExperimentReader (experiment-reader.ts)   | yes             | yes           | yes        |
// | experiment writes | ExperimentWriter (experiment-writer.ts)   | yes             | no            | no         |
// | batch writer      | BatchWriter (experiment-writer.ts)        | yes             | no            | no         |
// | ingest            | ExperimentIngest (experiment-ingest.ts)   | no              | yes           | yes        |
// | studies           | StudyStore (study-store.ts)               | yes             | yes           | yes        |
// | blobs             | BlobStore (blob-store.ts)                 | no              | yes           | yes        |
// | keys and sessions | KeyStore (key-store.ts)                   | no              | yes           | yes        |
// | series pages      | SeriesPages (series-pages.ts)             | no              | yes           | yes        |
// | UI queries        | UiQueries (ui-queries.ts)                 | no              | yes           | yes        |
// | sync ledger       | SyncLedger + WatermarkReader (publish-source.ts, the embedded store's PublishSource) | yes | no | no |
// | runs              | RunStore (run-store.ts)                   | yes             | yes           | yes        |
// | run ingest        | RunIngest (run-ingest.ts)                 | no              | yes           | yes        |
// | run ledger        | RunLedger (run-ledger.ts, the embedded store's PublishSource) | yes | no  | no         |
// | env vars          | EnvStore (env-store.ts)                   | yes             | yes           | yes        |
// | sweeps            | SweepStore (sweep-store.ts)               | yes             | yes           | yes        |
// | artifacts         | ArtifactStore (artifact-store.ts)         | at the merge    | at the merge  | yes        |
// | models            | ModelStore (artifact-store.ts)            | yes             | yes           | yes        |
//
// The embedded store is synchronous; it is wrapped to the asynchronous shape (Async<T>) the servers implement.
// PostgreSQL runs when one is reachable (required with LABLOG_REQUIRE_POSTGRES=1), as in test/postgres-*.test.ts.
// Each capability's cases are an object keyed by the interface's method names (`satisfies Record<keyof X, Case>`):
// a method added to an interface without a case here fails the typecheck.

import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LablogError } from '../src/model/errors.js';
import { MAX_DATASETS } from '../src/model/dataset.js';
import { DEFAULT_LIMITS } from '../src/model/limits.js';
import type { StudyRecord } from '../src/model/study.js';
import type { BlobStore } from '../src/store/blob-store.js';
import type { EvenColumn } from '../src/store/column-codec.js';
import type { ExperimentIngest } from '../src/store/experiment-ingest.js';
import type { ExperimentReader } from '../src/store/experiment-reader.js';
import type { BatchWriter, ExperimentWriter } from '../src/store/experiment-writer.js';
import type { KeyStore } from '../src/store/key-store.js';
import type { SyncLedger, WatermarkReader } from '../src/store/publish-source.js';
import type { SeriesPages } from '../src/store/series-pages.js';
import { SqliteBackend } from '../src/store/sqlite/sqlite-backend.js';
import { WriterThread } from '../src/store/sqlite/writer-thread.js';
import type { RunStore } from '../src/store/run-store.js';
import type { EnvStore } from '../src/store/env-store.js';
import type { StoredEnvVar } from '../src/model/env-vars.js';
import type { RunIngest } from '../src/store/run-ingest.js';
import type { RunLedger } from '../src/store/run-ledger.js';
import type { RunSnapshot } from '../src/model/run-publication.js';
import type { StudyStore } from '../src/store/study-store.js';
import type { Async } from '../src/store/async.js';
import type { SweepStore } from '../src/store/sweep-store.js';
import {
  MAX_TRIAL_ERROR_CHARS,
  MAX_TRIAL_REPORTS,
  type NewSweep,
  type SearchSpace,
  type SweepRecord,
  type TrialOutcome,
  type TrialParams,
  type TrialRecord,
  type TrialView,
  type TrialWorker,
} from '../src/model/sweep.js';
import type { UiQueries } from '../src/store/ui-queries.js';
import type { ArtifactStore, ModelStore, NewModelVersion } from '../src/store/artifact-store.js';
import {
  MAX_ARTIFACTS_PER_EXPERIMENT,
  MAX_EXPERIMENT_ARTIFACT_BYTES,
  MAX_MODEL_ALIASES,
  MAX_MODEL_VERSIONS,
  type ArtifactRecord,
} from '../src/model/artifact.js';
import { artifactRecord, insertArtifacts } from './support/raw-rows.js';
import {
  common,
  openEmbedded,
  openPostgres,
  openSqliteServer,
  sha256,
  type Capability,
  type ContractBackend,
  type Seed,
} from './support/contract-backends.js';
import { postgresUrl } from './support/postgres.js';

const baseUrl = await postgresUrl();
if (!baseUrl) {
  console.warn(
    'SKIPPED the PostgreSQL part of test/backend-contract.test.ts: no PostgreSQL. Set LABLOG_TEST_POSTGRES_URL, or install ' +
      'PostgreSQL 15 (apt-get install -y postgresql) so test/global-setup.ts starts a throwaway server.',
  );
}

const T0 = 1_700_000_000_000;

/** What each driver reports as `driverCode` when a primary key is taken. */
const PRIMARY_KEY_TAKEN: Record<ContractBackend['driver'], string> = { sqlite: 'SQLITE_CONSTRAINT_PRIMARYKEY', postgres: '23505' };
/** What each driver reports as `driverCode` when a foreign key names no row. */
const FOREIGN_KEY_MISSING: Record<ContractBackend['driver'], string> = { sqlite: 'SQLITE_CONSTRAINT_FOREIGNKEY', postgres: '23503' };

type Case = (b: ContractBackend) => Promise<void>;

/** A project of its own per case, so a case sees only what it stored. */
const project = () => `p-${randomUUID()}`;
const png = (tag: string) => Buffer.from(`\x89PNG contract ${tag}`);
const ipc = (tag: string) => Buffer.from(`arrow contract ${tag}`);
const figure = (n: number) => JSON.stringify({ data: [{ y: [n, n + 1] }] });

/** An experiment with some of everything, including a diverged (NaN), an exploded (+∞) and a collapsed (−∞) metric. */
function rich(projectName: string, overrides: Partial<Seed> = {}): Seed {
  return {
    project: projectName,
    name: 'run',
    tags: ['a', 'b'],
    createdAt: T0,
    params: [
      { key: 'lr', type: 'number', value: '0.01' },
      { key: 'model', type: 'string', value: 'mlp' },
    ],
    metrics: [
      { name: 'acc', steps: [0, 1, 2, 3, 4], values: [0.1, 0.2, 0.3, 0.4, 0.5] },
      { name: 'collapsed', steps: [0, 1], values: [1, -Infinity] },
      { name: 'exploded', steps: [0, 1], values: [1, Infinity] },
      { name: 'loss', steps: [0, 1, 2], values: [0.5, 0.25, NaN] },
    ],
    images: [0, 5, 10].map((step) => ({
      name: 'samples',
      step,
      timestamp: T0 + step,
      caption: `s${step}`,
      png: png(`${step}`),
      width: 2,
      height: 1,
    })),
    plots: [0, 1].map((step) => ({ name: 'curve', step, timestamp: T0 + step, caption: null, figure: figure(step) })),
    tables: [
      { name: 'preds', ipc: ipc('preds'), rows: 3, columns: 2, loggedAt: T0 + 1 },
      { name: 'scores', ipc: ipc('scores'), rows: 1, columns: 4, loggedAt: T0 + 2 },
    ],
    ...overrides,
  };
}

function study(overrides: Partial<StudyRecord> = {}): StudyRecord {
  return {
    id: randomUUID(),
    project: project(),
    name: 'study',
    description: null,
    hypothesis: 'wider is better',
    tags: ['t'],
    metadata: { owner: 'ada' },
    baseline: null,
    template: null,
    status: 'active',
    conclusion: null,
    archiveReason: null,
    preserveArtifacts: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<LablogError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LablogError);
    return error as LablogError;
  }
  throw new Error('expected a rejection');
}

const metricSeries = (name: string, count: number, last: number | null, min: number | null, max: number | null, lastStep: number) => ({
  name,
  kind: 'metric',
  count,
  firstStep: 0,
  lastStep,
  lastTimestamp: T0 + lastStep,
  lastValue: last,
  minValue: min,
  maxValue: max,
});

/** The series of rich(), by name. */
const RICH_SERIES = [
  metricSeries('acc', 5, 0.5, 0.1, 0.5, 4),
  metricSeries('collapsed', 2, -Infinity, -Infinity, 1, 1),
  {
    name: 'curve',
    kind: 'plot',
    count: 2,
    firstStep: 0,
    lastStep: 1,
    lastTimestamp: T0 + 1,
    lastValue: null,
    minValue: null,
    maxValue: null,
  },
  metricSeries('exploded', 2, Infinity, 1, Infinity, 1),
  metricSeries('loss', 3, NaN, 0.25, 0.5, 2),
  {
    name: 'samples',
    kind: 'image',
    count: 3,
    firstStep: 0,
    lastStep: 10,
    lastTimestamp: T0 + 10,
    lastValue: null,
    minValue: null,
    maxValue: null,
  },
];

const READER: Record<keyof ExperimentReader, Case> = {
  async getExperiment(b) {
    const p = project();
    const id = await b.seed(rich(p, { tags: ['b', 'a', 'é'] }));
    expect(common(await b.reader.getExperiment(id))).toEqual({
      id,
      project: p,
      name: 'run',
      description: null,
      tags: ['b', 'a', 'é'],
      status: 'running',
      createdAt: T0,
      endedAt: null,
      heartbeatAt: T0,
      hostname: 'host-a',
    });
    expect(await b.reader.getExperiment(randomUUID())).toBeUndefined();
  },
  async findExperiments(b) {
    const [p1, p2] = [project(), project()];
    const name = `find-${randomUUID()}`;
    const a = await b.seed({ project: p1, name, createdAt: T0 });
    const c = await b.seed({ project: p2, name, createdAt: T0 + 1 });
    expect((await b.reader.findExperiments(name, p1)).map((r) => r.id)).toEqual([a]);
    expect((await b.reader.findExperiments(name)).map((r) => r.id)).toEqual([a, c]);
    expect(await b.reader.findExperiments(name, project())).toEqual([]);
  },
  async listExperiments(b) {
    const [p1, p2, p3] = [project(), project(), project()];
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await b.seed({ project: p1, name: `e${i}`, createdAt: T0 + i, tags: i === 1 ? ['x'] : [] }));
    const other = await b.seed({ project: p2, name: 'e', createdAt: T0 + 10 });
    await b.seed({ project: p3, name: 'e', createdAt: T0 + 20 });
    const list = async (q: Parameters<ExperimentReader['listExperiments']>[0]) => (await b.reader.listExperiments(q)).map((r) => r.id);
    // Project scoping: only the listed projects; an empty scope matches nothing.
    expect(await list({ projects: [p1, p2], sort: 'created_at', order: 'asc' })).toEqual([...ids, other]);
    expect(await list({ projects: [] })).toEqual([]);
    expect(await list({ project: p1, projects: [p2] })).toEqual([]);
    // Paging.
    expect(await list({ project: p1, sort: 'created_at', order: 'asc', limit: 2, offset: 1 })).toEqual([ids[1], ids[2]]);
    expect(await list({ project: p1, sort: 'created_at', order: 'desc', limit: 1 })).toEqual([ids[2]]);
    expect(await list({ project: p1, sort: 'name', order: 'asc', offset: 2 })).toEqual([ids[2]]);
    expect(await list({ projects: [p1], tags: ['x'] })).toEqual([ids[1]]);
    expect(await list({ projects: [p1], status: ['completed'] })).toEqual([]);
  },
  async countExperiments(b) {
    const [p1, p2] = [project(), project()];
    for (let i = 0; i < 3; i++) await b.seed({ project: p1, name: `e${i}`, createdAt: T0 + i, tags: i === 0 ? ['x'] : [] });
    await b.seed({ project: p2, name: 'e', createdAt: T0 });
    expect(await b.reader.countExperiments({ project: p1 })).toBe(3);
    expect(await b.reader.countExperiments({ projects: [p1, p2] })).toBe(4);
    expect(await b.reader.countExperiments({ projects: [] })).toBe(0);
    expect(await b.reader.countExperiments({ projects: [p1], tags: ['x'] })).toBe(1);
    expect(await b.reader.countExperiments({ projects: [p1], status: ['running'] })).toBe(3);
  },
  async readDatasets(b) {
    const train = {
      role: 'train',
      name: 'mnist',
      id: 'ds-1',
      uri: 's3://bucket/mnist',
      digest: 'sha256:ab',
      rows: 60_000,
      loggedAt: T0 + 1,
    };
    const test = { role: 'test', name: 'mnist', id: null, uri: null, digest: null, rows: null, loggedAt: T0 + 2 };
    const id = await b.seed({
      project: project(),
      name: 'datasets',
      createdAt: T0,
      progress: { pct: 75, phase: 'testing', at: T0 + 3 },
      datasets: [train, test],
    });
    // By role then name; every field as given (references only).
    expect(await b.reader.readDatasets(id)).toEqual([test, train]);
    expect((await b.reader.getExperiment(id))?.progress).toEqual({ pct: 75, phase: 'testing', at: T0 + 3 });
    const plain = await b.seed({ project: project(), name: 'plain', createdAt: T0 });
    expect(await b.reader.readDatasets(plain)).toEqual([]);
    expect((await b.reader.getExperiment(plain))?.progress).toBeNull();
    expect(await b.reader.readDatasets(randomUUID())).toEqual([]);
  },
  async readParams(b) {
    const id = await b.seed(rich(project()));
    expect(await b.reader.readParams(id)).toEqual([
      { key: 'lr', type: 'number', value: '0.01' },
      { key: 'model', type: 'string', value: 'mlp' },
    ]);
    expect(await b.reader.readParams(randomUUID())).toEqual([]);
  },
  async readSeries(b) {
    const id = await b.seed(rich(project()));
    const series = await b.reader.readSeries(id);
    expect(series).toEqual(RICH_SERIES);
    // NaN and ±Infinity as the last value read back as themselves, never null or a string (in every store).
    expect(Object.is(series.find((s) => s.name === 'loss')!.lastValue, NaN)).toBe(true);
    expect(series.find((s) => s.name === 'exploded')!.lastValue).toBe(Infinity);
    expect(series.find((s) => s.name === 'collapsed')!.lastValue).toBe(-Infinity);
    expect((await b.reader.readSeries(id, 2)).map((s) => s.name)).toEqual(['acc', 'collapsed']);
    // Names sort by code point in every store (SQLite's BINARY, PostgreSQL's "C"), whatever the locale.
    const names = ['é', 'a', 'B', 'a b', '😀'];
    const other = await b.seed({
      project: project(),
      name: 'n',
      createdAt: T0,
      params: names.map((key) => ({ key, type: 'string', value: key })),
      metrics: names.map((name) => ({ name, steps: [0], values: [1] })),
      tables: names.map((name) => ({ name, ipc: ipc(name), rows: 1, columns: 1, loggedAt: T0 })),
    });
    const byCodePoint = ['B', 'a', 'a b', 'é', '😀'];
    expect((await b.reader.readSeries(other)).map((s) => s.name)).toEqual(byCodePoint);
    expect((await b.reader.readParams(other)).map((p) => p.key)).toEqual(byCodePoint);
    expect((await b.reader.listTables(other)).map((t) => t.name)).toEqual(byCodePoint);
    expect(await b.reader.readSeries(randomUUID())).toEqual([]);
  },
  async readMetric(b) {
    const id = await b.seed(rich(project()));
    const loss = await b.reader.readMetric(id, 'loss');
    expect(Array.from(loss!.steps)).toEqual([0, 1, 2]);
    expect(Array.from(loss!.values)).toEqual([0.5, 0.25, NaN]);
    expect(Array.from(loss!.timestamps)).toEqual([T0, T0 + 1, T0 + 2]);
    expect(Array.from((await b.reader.readMetric(id, 'exploded'))!.values)).toEqual([1, Infinity]);
    expect(Array.from((await b.reader.readMetric(id, 'collapsed'))!.values)).toEqual([1, -Infinity]);
    expect(await b.reader.readMetric(id, 'nope')).toBeUndefined();
    // A series of another kind is not a metric.
    expect(await b.reader.readMetric(id, 'samples')).toBeUndefined();
  },
  async readPlots(b) {
    const id = await b.seed(rich(project()));
    expect(await b.reader.readPlots(id, 'curve')).toEqual([
      { step: 0, timestamp: T0, caption: null, figure: JSON.parse(figure(0)) },
      { step: 1, timestamp: T0 + 1, caption: null, figure: JSON.parse(figure(1)) },
    ]);
    expect(await b.reader.readPlots(id, 'nope')).toEqual([]);
  },
  async listImages(b) {
    const id = await b.seed(rich(project()));
    const meta = (step: number) => ({ step, timestamp: T0 + step, caption: `s${step}`, width: 2, height: 1, hash: sha256(png(`${step}`)) });
    expect(await b.reader.listImages(id, 'samples')).toEqual([meta(0), meta(5), meta(10)]);
    expect(await b.reader.listImages(id, 'samples', { fromStep: 1, limit: 1 })).toEqual([meta(5)]);
    expect(await b.reader.listImages(id, 'samples', { fromStep: 5, limit: 10 })).toEqual([meta(5), meta(10)]);
    expect(await b.reader.listImages(id, 'nope')).toEqual([]);
  },
  async readImage(b) {
    const id = await b.seed(rich(project()));
    expect(await b.reader.readImage(id, 'samples', 5)).toEqual(png('5'));
    expect(await b.reader.readImage(id, 'samples', 6)).toBeUndefined();
    expect(await b.reader.readImage(id, 'nope', 5)).toBeUndefined();
  },
  async listTables(b) {
    const id = await b.seed(rich(project()));
    const preds = { name: 'preds', rows: 3, columns: 2, loggedAt: T0 + 1 };
    expect(await b.reader.listTables(id)).toEqual([preds, { name: 'scores', rows: 1, columns: 4, loggedAt: T0 + 2 }]);
    expect(await b.reader.listTables(id, 1)).toEqual([preds]);
  },
  async readTable(b) {
    const id = await b.seed(rich(project()));
    expect(await b.reader.readTable(id, 'preds')).toEqual({ name: 'preds', rows: 3, columns: 2, loggedAt: T0 + 1, ipc: ipc('preds') });
    expect(await b.reader.readTable(id, 'nope')).toBeUndefined();
  },
} satisfies Record<keyof ExperimentReader, Case>;

const STUDIES: Record<keyof StudyStore, Case> = {
  async createStudy(b) {
    const record = study();
    await b.studies.createStudy(record);
    expect(await b.studies.getStudy(record.id)).toEqual(record);
    // A name taken in the project: the typed error.
    expect((await failure(b.studies.createStudy(study({ project: record.project })))).code).toBe('INVALID_NAME');
    // An id taken: a constraint of the database, reported with the driver's details.
    const taken = await failure(b.studies.createStudy(study({ id: record.id, name: 'other' })));
    expect(taken.code).toBe('STORAGE_ERROR');
    expect(taken.details).toEqual({ driver: b.driver, driverCode: PRIMARY_KEY_TAKEN[b.driver], location: b.location });
  },
  async getStudy(b) {
    const record = study({ metadata: { nested: { n: 1 } }, preserveArtifacts: true });
    await b.studies.createStudy(record);
    expect(await b.studies.getStudy(record.id)).toEqual(record);
    expect(await b.studies.getStudy(randomUUID())).toBeUndefined();
  },
  async findStudies(b) {
    const name = `find-${randomUUID()}`;
    const [s1, s2] = [study({ name }), study({ name, createdAt: T0 + 1 })];
    await b.studies.createStudy(s1);
    await b.studies.createStudy(s2);
    expect((await b.studies.findStudies(name, s1.project)).map((s) => s.id)).toEqual([s1.id]);
    expect((await b.studies.findStudies(name)).map((s) => s.id)).toEqual([s1.id, s2.id]);
  },
  async listStudies(b) {
    const p = project();
    const records = [0, 1, 2].map((i) => study({ project: p, name: `s${i}`, createdAt: T0 + i, updatedAt: T0 + i }));
    for (const r of records) await b.studies.createStudy(r);
    const q = { sort: 'created_at', order: 'asc', limit: 2, offset: 1 } as const;
    expect((await b.studies.listStudies({ ...q, projects: [p] })).map((s) => s.id)).toEqual([records[1]!.id, records[2]!.id]);
    expect(await b.studies.listStudies({ ...q, projects: [] })).toEqual([]);
    const byName = await b.studies.listStudies({ project: p, sort: 'name', order: 'desc', limit: 10, offset: 0 });
    expect(byName.map((s) => s.name)).toEqual(['s2', 's1', 's0']);
    const newest = await b.studies.listStudies({
      project: p,
      tags: ['t'],
      status: 'active',
      sort: 'created_at',
      order: 'desc',
      limit: 1,
      offset: 0,
    });
    expect(newest).toEqual([records[2]]);
  },
  async countStudies(b) {
    const p = project();
    await b.studies.createStudy(study({ project: p, name: 'a' }));
    await b.studies.createStudy(study({ project: p, name: 'b', status: 'completed' }));
    expect(await b.studies.countStudies({ project: p })).toBe(2);
    expect(await b.studies.countStudies({ project: p, status: 'completed' })).toBe(1);
  },
  async updateStudy(b) {
    const record = study();
    await b.studies.createStudy(record);
    const updated = await b.studies.updateStudy(record.id, { conclusion: 'it was', status: 'completed' }, T0 + 5);
    expect(updated).toEqual({ ...record, conclusion: 'it was', status: 'completed', updatedAt: T0 + 5 });
    expect(await b.studies.getStudy(record.id)).toEqual(updated);
  },
  async deleteStudy(b) {
    const record = study();
    await b.studies.createStudy(record);
    const member = await b.seed({ project: record.project, name: 'm', createdAt: T0 });
    await b.studies.addMember(record.id, { experimentId: member, notes: null, tags: [], addedAt: T0 }, 10);
    await b.studies.deleteStudy(record.id);
    expect(await b.studies.getStudy(record.id)).toBeUndefined();
    expect(await b.studies.studyOf(member)).toBeUndefined();
    expect(await b.reader.getExperiment(member)).toBeDefined();
  },
  async addMember(b) {
    const record = study();
    await b.studies.createStudy(record);
    const [m1, m2] = [
      await b.seed({ project: record.project, name: 'm1', createdAt: T0 }),
      await b.seed({ project: record.project, name: 'm2', createdAt: T0 }),
    ];
    await b.studies.addMember(record.id, { experimentId: m1, notes: 'first', tags: ['x'], addedAt: T0 }, 1);
    expect((await failure(b.studies.addMember(record.id, { experimentId: m2, notes: null, tags: [], addedAt: T0 }, 1))).code).toBe(
      'LIMIT_EXCEEDED',
    );
    const other = study({ project: record.project, name: 'other' });
    await b.studies.createStudy(other);
    expect((await failure(b.studies.addMember(other.id, { experimentId: m1, notes: null, tags: [], addedAt: T0 }, 10))).code).toBe(
      'ALREADY_IN_STUDY',
    );
  },
  async members(b) {
    const record = study();
    await b.studies.createStudy(record);
    const m1 = await b.seed({ project: record.project, name: 'm1', createdAt: T0 });
    await b.studies.addMember(record.id, { experimentId: m1, notes: 'first', tags: ['x', 'y'], addedAt: T0 + 3 }, 10);
    expect(await b.studies.members(record.id)).toEqual([{ experimentId: m1, notes: 'first', tags: ['x', 'y'], addedAt: T0 + 3 }]);
    expect(await b.studies.members(randomUUID())).toEqual([]);
  },
  async studyOf(b) {
    const record = study();
    await b.studies.createStudy(record);
    const m1 = await b.seed({ project: record.project, name: 'm1', createdAt: T0 });
    expect(await b.studies.studyOf(m1)).toBeUndefined();
    await b.studies.addMember(record.id, { experimentId: m1, notes: null, tags: [], addedAt: T0 }, 10);
    expect(await b.studies.studyOf(m1)).toBe(record.id);
  },
  async dropArtifacts(b) {
    const id = await b.seed(rich(project()));
    await b.studies.dropArtifacts([id]);
    expect(await b.reader.listImages(id, 'samples')).toEqual([]);
    expect(await b.reader.readPlots(id, 'curve')).toEqual([]);
    expect(await b.reader.listTables(id)).toEqual([]);
    expect(await b.reader.readParams(id)).toHaveLength(2);
    expect(Array.from((await b.reader.readMetric(id, 'acc'))!.values)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    const kinds = (await b.reader.readSeries(id)).map((s) => [s.name, s.kind, s.count]);
    expect(kinds).toContainEqual(['samples', 'image', 0]);
    expect(kinds).toContainEqual(['curve', 'plot', 0]);
  },
} satisfies Record<keyof StudyStore, Case>;

const WRITER: Record<keyof ExperimentWriter, Case> = {
  async createExperiment(b) {
    const p = project();
    const nameFor = (attempt: number) => (attempt === 1 ? 'run' : `run-${attempt}`);
    const make = () => ({ id: randomUUID(), project: p, description: 'd', tags: ['t'], createdAt: T0, pid: 42, hostname: 'h' });
    const first = await b.writer!.createExperiment(make(), nameFor);
    const second = await b.writer!.createExperiment(make(), nameFor);
    expect([first.name, second.name]).toEqual(['run', 'run-2']);
    expect(first).toMatchObject({ project: p, description: 'd', tags: ['t'], status: 'running', pid: 42, hostname: 'h' });
  },
  async setStatus(b) {
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    await b.writer!.setStatus(id, 'completed', T0 + 9, T0 + 9);
    expect(await b.reader.getExperiment(id)).toMatchObject({ status: 'completed', endedAt: T0 + 9 });
  },
  async reopenExperiment(b) {
    const id = await b.seed(rich(project()));
    await b.writer!.setStatus(id, 'crashed', T0 + 9, T0 + 9);
    await b.writer!.reopenExperiment(id, 2, 7, 'host-b', T0 + 10);
    expect(await b.reader.getExperiment(id)).toMatchObject({ status: 'running', pid: 7, hostname: 'host-b', endedAt: null });
    expect(Array.from((await b.reader.readMetric(id, 'acc'))!.steps)).toEqual([0, 1]);
    expect((await b.reader.listImages(id, 'samples')).map((i) => i.step)).toEqual([0]);
  },
  async write(b) {
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    const chunk = { name: 'm', steps: Float64Array.of(3, 4), values: Float64Array.of(NaN, 2), timestamps: Float64Array.of(T0 + 3, T0 + 4) };
    await b.writer!.write({
      experimentId: id,
      params: [{ key: 'k', type: 'boolean', value: 'true' }],
      metrics: [chunk],
      images: [],
      plots: [],
      tables: [],
      heartbeatAt: T0 + 4,
    });
    expect(Array.from((await b.reader.readMetric(id, 'm'))!.values)).toEqual([NaN, 2]);
    expect(await b.reader.readParams(id)).toEqual([{ key: 'k', type: 'boolean', value: 'true' }]);
    expect((await b.reader.getExperiment(id))!.heartbeatAt).toBe(T0 + 4);
  },
  async writer(b) {
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    const writer = await b.writer!.writer();
    writer.start();
    const chunk = {
      name: 'm',
      steps: Float64Array.of(0, 1),
      values: Float64Array.of(1, Infinity),
      timestamps: Float64Array.of(T0, T0 + 1),
    };
    const ticket = writer.submit({
      experimentId: id,
      params: [],
      metrics: [chunk],
      images: [],
      plots: [],
      tables: [],
      heartbeatAt: T0 + 1,
    });
    expect(await writer.wait(ticket, 30_000)).toBe(true);
    expect(writer.written()).toBeGreaterThanOrEqual(ticket);
    expect(Array.from((await b.reader.readMetric(id, 'm'))!.values)).toEqual([1, Infinity]);
    const sync = writer.submitSync();
    expect(await writer.waitDurable(sync, 30_000)).toBe(true);
    expect(writer.durable()).toBeGreaterThanOrEqual(sync);
  },
  async copyExperiment(b) {
    const id = await b.seed(rich(project()));
    const newId = randomUUID();
    const copy = await b.writer!.copyExperiment(id, newId, (a) => (a === 1 ? 'run' : `run-copy-${a}`), T0 + 50);
    expect(copy).toMatchObject({ id: newId, name: 'run-copy-2' });
    expect(await b.reader.readSeries(newId)).toEqual(RICH_SERIES);
    expect(await b.reader.readTable(newId, 'preds')).toEqual(await b.reader.readTable(id, 'preds'));
    expect((await failure(b.writer!.copyExperiment(randomUUID(), randomUUID(), () => 'x', T0))).code).toBe('EXPERIMENT_NOT_FOUND');
  },
} satisfies Record<keyof ExperimentWriter, Case>;

/** A one-chunk batch of metric `name` for `experimentId`. */
const metricBatch = (experimentId: string, name: string, steps: number[], values: number[]) => ({
  experimentId,
  params: [],
  metrics: [
    { name, steps: Float64Array.from(steps), values: Float64Array.from(values), timestamps: Float64Array.from(steps.map((x) => T0 + x)) },
  ],
  images: [],
  plots: [],
  tables: [],
  heartbeatAt: T0,
});

/** Waits (on the condition, not a clock) until `done()` holds, or fails after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * A second writer for `b`'s store, through a connection of its own, whose fsync fails as a dying disk's
 * would (the seam is the inline writer: everything else is the real code path). `use` gets it before its
 * worker runs; both are closed after.
 */
async function withFailingFsync(b: ContractBackend, use: (writer: WriterThread) => Promise<void>): Promise<void> {
  const connection = new SqliteBackend(b.location);
  const writer = new WriterThread(b.location, {
    write: (batch) => connection.write(batch),
    sync: () => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    },
  });
  try {
    await use(writer);
  } finally {
    writer.close();
    connection.close();
  }
}

/** How long a wait that cannot succeed (the fsync failed for good) may take: well under its timeout. */
const HOPELESS_WAIT_MS = 10_000;

const BATCH_WRITER: Record<keyof BatchWriter, Case> = {
  async start(b) {
    const writer = await b.writer!.writer();
    writer.start();
    writer.start();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    expect(await writer.wait(writer.submit(metricBatch(id, 'm', [0], [1])), 30_000)).toBe(true);
  },
  async onRecycle(b) {
    const writer = await b.writer!.writer();
    const recycled: ArrayBuffer[] = [];
    writer.onRecycle((buffers) => recycled.push(...buffers));
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    // Seven points: 56-byte columns, a size no other case writes.
    const batch = metricBatch(id, 'm', [0, 1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 7]);
    const { steps, values, timestamps } = batch.metrics[0]!;
    await writer.wait(writer.submit(batch), 30_000);
    // The column buffers were transferred (detached here), and come back once written, for reuse.
    expect([steps.buffer.byteLength, values.buffer.byteLength, timestamps.buffer.byteLength]).toEqual([0, 0, 0]);
    await until(() => recycled.filter((buffer) => buffer.byteLength === 56).length === 3);
  },
  async submit(b) {
    const writer = await b.writer!.writer();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    const first = writer.submit(metricBatch(id, 'm', [0], [1]));
    const second = writer.submit(metricBatch(id, 'm', [1], [NaN]));
    expect(second).toBeGreaterThan(first);
    expect(await writer.wait(second, 30_000)).toBe(true);
    expect(Array.from((await b.reader.readMetric(id, 'm'))!.values)).toEqual([1, NaN]);
  },
  async written(b) {
    const writer = await b.writer!.writer();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    const ticket = writer.submit(metricBatch(id, 'm', [0], [1]));
    await writer.wait(ticket, 30_000);
    expect(writer.written()).toBeGreaterThanOrEqual(ticket);
  },
  async failure(b) {
    const writer = await b.writer!.writer();
    // A healthy store refuses nothing for now (a batch refused for good is a rejection, not a failure).
    expect(writer.failure()).toBeUndefined();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    // Another connection holds the write lock: the store refuses the batch for now, the writer retries it.
    const lock = new Database(b.location);
    try {
      lock.exec('BEGIN EXCLUSIVE');
      const ticket = writer.submit(metricBatch(id, 'm', [0, 1], [1, 2]));
      await until(() => writer.failure() !== undefined);
      const failure = writer.failure() as LablogError;
      expect(failure).toBeInstanceOf(LablogError);
      expect(failure.code).toBe('STORAGE_ERROR');
      expect(failure.message).toContain('database is locked');
      expect(writer.written()).toBeLessThan(ticket);
      lock.exec('ROLLBACK');
      expect(await writer.wait(ticket, 30_000)).toBe(true);
    } finally {
      lock.close();
    }
    // Cleared once the batch is written; the batch counts as written, not rejected.
    expect(writer.failure()).toBeUndefined();
    expect(Array.from((await b.reader.readMetric(id, 'm'))!.values)).toEqual([1, 2]);
  },
  async rejectionsSince(b) {
    const writer = await b.writer!.writer();
    const seen = writer.rejectionsSince(0)?.count ?? 0;
    const id = await b.seed({
      project: project(),
      name: 'r',
      createdAt: T0,
      plots: [{ name: 'p', step: 0, timestamp: T0, caption: null, figure: figure(0) }],
    });
    // A metric under a plot's name: refused for good, dropped, and the batch behind it still written.
    const bad = writer.submit(metricBatch(id, 'p', [1], [1]));
    const good = writer.submit(metricBatch(id, 'm', [0], [1]));
    expect(await writer.wait(good, 30_000)).toBe(true);
    const rejections = writer.rejectionsSince(seen)!;
    expect(rejections.count).toBe(seen + 1);
    expect(rejections.tickets).toEqual([bad]);
    expect(rejections.error).toBeInstanceOf(LablogError);
    expect((rejections.error as LablogError).code).toBe('STORAGE_ERROR');
    expect((rejections.error as LablogError).details).toEqual({ driver: 'sqlite', driverCode: null, location: b.location });
    expect(rejections.error.message).toContain("'p'");
    expect(writer.failure()).toBeUndefined();
    expect(await b.reader.readMetric(id, 'm')).toBeDefined();
  },
  async lastSubmitted(b) {
    const writer = await b.writer!.writer();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    const ticket = writer.submit(metricBatch(id, 'm', [0], [1]));
    expect(writer.lastSubmitted()).toBe(ticket);
    await writer.wait(ticket, 30_000);
  },
  async waitSync(b) {
    const writer = await b.writer!.writer();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    const ticket = writer.submit(metricBatch(id, 'm', [0], [1]));
    expect(writer.waitSync(ticket, 30_000)).toBe(true);
    expect(await b.reader.readMetric(id, 'm')).toBeDefined();
  },
  async wait(b) {
    const writer = await b.writer!.writer();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    expect(await writer.wait(writer.submit(metricBatch(id, 'm', [0], [1])), 30_000)).toBe(true);
    expect(await b.reader.readMetric(id, 'm')).toBeDefined();
  },
  async submitSync(b) {
    const writer = await b.writer!.writer();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    const batch = writer.submit(metricBatch(id, 'm', [0], [1]));
    // A request after a batch comes after it; one right after shares its fsync (or follows it).
    const first = writer.submitSync();
    expect(first).toBeGreaterThan(batch);
    expect(writer.submitSync()).toBeGreaterThanOrEqual(first);
    expect(await writer.waitDurable(first, 30_000)).toBe(true);
    expect(writer.written()).toBeGreaterThanOrEqual(batch);
  },
  async durable(b) {
    const writer = await b.writer!.writer();
    const fsyncs = () => (writer as WriterThread).syncs();
    // Everything requested so far on stable storage first: no fsync is on its way.
    expect(await writer.waitDurable(writer.submitSync(), 30_000)).toBe(true);
    const before = writer.durable();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    const batch = writer.submit(metricBatch(id, 'm', [0], [1]));
    expect(await writer.wait(batch, 30_000)).toBe(true);
    // Written is not durable: durable() moves only with an fsync, which only a sync request makes.
    expect(writer.durable()).toBe(before);
    expect(writer.durable()).toBeLessThan(batch);
    const synced = fsyncs();
    const ticket = writer.submitSync();
    expect(await writer.waitDurable(ticket, 30_000)).toBe(true);
    expect(writer.durable()).toBeGreaterThanOrEqual(ticket);
    expect(fsyncs()).toBe(synced + 1);
  },
  async syncFailure(b) {
    const writer = await b.writer!.writer();
    expect(writer.syncFailure()).toBeUndefined();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    await withFailingFsync(b, async (failing) => {
      expect(failing.waitSync(failing.submit(metricBatch(id, 'm', [0], [1]), true), 30_000)).toBe(true);
      expect(failing.syncFailure()).toBeUndefined();
      const ticket = failing.submitSync(true);
      const failure = failing.syncFailure() as LablogError;
      expect(failure).toBeInstanceOf(LablogError);
      expect(failure.code).toBe('STORAGE_ERROR');
      expect(failure.message).toBe(`cannot put the writes to ${b.location} on stable storage: EIO: i/o error, fsync`);
      expect(failure.details).toEqual({ driver: 'sqlite', driverCode: null, location: b.location });
      expect(failing.durable()).toBeLessThan(ticket);
      // For good: the same error again, whatever comes next.
      failing.submitSync(true);
      expect(failing.syncFailure()).toBe(failure);
    });
    // The store's own writer is not touched by another writer's failed fsync.
    expect(writer.syncFailure()).toBeUndefined();
  },
  async waitDurableSync(b) {
    const writer = await b.writer!.writer();
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    writer.submit(metricBatch(id, 'm', [0], [1]));
    const ticket = writer.submitSync();
    expect(writer.waitDurableSync(ticket, 30_000)).toBe(true);
    expect(writer.durable()).toBeGreaterThanOrEqual(ticket);
  },
  async waitDurable(b) {
    const writer = await b.writer!.writer();
    const ticket = writer.submitSync();
    expect(await writer.waitDurable(ticket, 30_000)).toBe(true);
    expect(writer.durable()).toBeGreaterThanOrEqual(ticket);
    // An fsync that failed: the wait gives up at once (false), long before its timeout.
    await withFailingFsync(b, async (failing) => {
      const failed = failing.submitSync(true);
      const started = Date.now();
      expect(await failing.waitDurable(failed, 30_000)).toBe(false);
      expect(Date.now() - started).toBeLessThan(HOPELESS_WAIT_MS);
      expect(failing.syncFailure()).toBeDefined();
    });
  },
} satisfies Record<keyof BatchWriter, Case>;

const INGEST: Record<keyof ExperimentIngest, Case> = {
  async upsertExperiment(b) {
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    const before = (await b.reader.getExperiment(id))!;
    const record = await b.ingest!.upsertExperiment(
      { ...before, status: 'completed', endedAt: T0 + 5, version: 'v1', params: [{ key: 'a', type: 'number', value: '1' }] },
      DEFAULT_LIMITS,
      T0 + 5,
    );
    expect(record).toMatchObject({ id, status: 'completed', endedAt: T0 + 5, version: 'v1', publishedAt: T0 + 5 });
    expect(await b.reader.readParams(id)).toEqual([{ key: 'a', type: 'number', value: '1' }]);
    // Another experiment of the project with that name: the server names this one name-2.
    const twin = await b.ingest!.upsertExperiment({ ...before, id: randomUUID(), version: null, params: [] }, DEFAULT_LIMITS, T0 + 5);
    expect(twin.name).toBe('r-2');
    const tooMany = await failure(
      b.ingest!.upsertExperiment(
        {
          ...before,
          version: null,
          params: [
            { key: 'a', type: 'number', value: '1' },
            { key: 'b', type: 'number', value: '2' },
          ],
        },
        { ...DEFAULT_LIMITS, maxParams: 1 },
        T0 + 6,
      ),
    );
    expect(tooMany.code).toBe('LIMIT_EXCEEDED');
    // Progress and datasets travel with the description: the latest progress replaces the stored one, a
    // dataset of the same (role, name) is replaced, and a description without them (an older client) keeps them.
    const train = { role: 'train', name: 'mnist', id: 'a', uri: null, digest: null, rows: 10, loggedAt: T0 + 7 };
    await b.ingest!.upsertExperiment(
      { ...before, version: null, params: [], progress: { pct: 10, phase: null, at: T0 + 7 }, datasets: [train] },
      DEFAULT_LIMITS,
      T0 + 7,
    );
    const updated = await b.ingest!.upsertExperiment(
      { ...before, version: null, params: [], progress: { pct: 90, phase: 'testing', at: T0 + 8 }, datasets: [{ ...train, rows: 20 }] },
      DEFAULT_LIMITS,
      T0 + 8,
    );
    expect(updated.progress).toEqual({ pct: 90, phase: 'testing', at: T0 + 8 });
    const older = await b.ingest!.upsertExperiment({ ...before, version: null, params: [], progress: null }, DEFAULT_LIMITS, T0 + 9);
    expect(older.progress).toEqual({ pct: 90, phase: 'testing', at: T0 + 8 });
    expect(await b.reader.readDatasets(id)).toEqual([{ ...train, rows: 20 }]);
    // MAX_DATASETS holds over all the publications of an experiment: the stored keys count, a re-sent key replaces.
    const named = (n: number) => ({ ...train, role: 'test', name: `d${String(n).padStart(3, '0')}` });
    const more = Array.from({ length: MAX_DATASETS - 1 }, (_, n) => named(n));
    await b.ingest!.upsertExperiment({ ...before, version: null, params: [], datasets: [...more, train] }, DEFAULT_LIMITS, T0 + 10);
    expect(await b.reader.readDatasets(id)).toHaveLength(MAX_DATASETS);
    const stored = await b.reader.getExperiment(id);
    const over = await failure(
      b.ingest!.upsertExperiment(
        {
          ...before,
          status: 'failed',
          tags: ['over'],
          version: 'v-over',
          params: [{ key: 'over', type: 'number', value: '1' }],
          progress: { pct: 99, phase: 'over', at: T0 + 11 },
          datasets: [{ ...train, rows: 30 }, named(MAX_DATASETS - 1)],
        },
        DEFAULT_LIMITS,
        T0 + 11,
      ),
    );
    expect(over.code).toBe('LIMIT_EXCEEDED');
    expect(over.message).toContain('MAX_DATASETS');
    expect(over.details).toEqual({ experiment: id, limit: MAX_DATASETS, actual: MAX_DATASETS + 1 });
    // Nothing of the refused publication was written: not its description, params, progress or any dataset.
    expect(await b.reader.getExperiment(id)).toEqual(stored);
    expect(await b.reader.readParams(id)).toEqual([{ key: 'a', type: 'number', value: '1' }]);
    const datasets = await b.reader.readDatasets(id);
    expect(datasets).toHaveLength(MAX_DATASETS);
    expect(datasets.find((d) => d.role === 'train')).toEqual(train);
    // Re-sending stored keys (twice in one publication) replaces them: still MAX_DATASETS, so accepted.
    await b.ingest!.upsertExperiment(
      { ...before, version: null, params: [], datasets: [named(0), { ...train, rows: 40 }, { ...train, rows: 50 }] },
      DEFAULT_LIMITS,
      T0 + 12,
    );
    expect((await b.reader.readDatasets(id)).find((d) => d.role === 'train')?.rows).toBe(50);
    // A new experiment with too many distinct datasets is not created at all.
    const fresh = randomUUID();
    const tooManyNew = await failure(
      b.ingest!.upsertExperiment(
        { ...before, id: fresh, name: 'fresh', version: null, params: [], datasets: [...more, named(MAX_DATASETS - 1), train] },
        DEFAULT_LIMITS,
        T0 + 13,
      ),
    );
    expect(tooManyNew.details).toEqual({ experiment: fresh, limit: MAX_DATASETS, actual: MAX_DATASETS + 1 });
    expect(await b.reader.getExperiment(fresh)).toBeUndefined();
  },
  async ingest(b) {
    const id = await b.seed({ project: project(), name: 'r', createdAt: T0 });
    const batch = {
      experimentId: id,
      metrics: [
        {
          name: 'm',
          after: null,
          steps: Float64Array.of(0, 1),
          values: Float64Array.of(NaN, -Infinity),
          timestamps: Float64Array.of(T0, T0 + 1),
        },
      ],
      images: [],
      plots: [],
      tables: [],
    };
    expect(await b.ingest!.ingest(batch, DEFAULT_LIMITS, T0)).toEqual({
      series: [{ name: 'm', kind: 'metric', count: 2, lastStep: 1 }],
      accepted: 2,
      skipped: 0,
      rejected: [],
    });
    // A client told of more than the server has, and a name that holds another kind: refused alike everywhere.
    const refused = await b.ingest!.ingest(
      {
        experimentId: id,
        metrics: [{ name: 'ahead', after: 3, steps: Float64Array.of(4), values: Float64Array.of(1), timestamps: Float64Array.of(T0) }],
        images: [],
        plots: [{ name: 'm', after: null, points: [{ step: 0, timestamp: T0, caption: null, figure: figure(0) }] }],
        tables: [],
      },
      DEFAULT_LIMITS,
      T0,
    );
    expect(refused.accepted).toBe(0);
    expect(refused.rejected.map(({ kind, name, error, details }) => ({ kind, name, error, details }))).toEqual([
      { kind: 'metric', name: 'ahead', error: 'SYNC_CONFLICT', details: { key: 'ahead', after: 3, serverLastStep: null } },
      { kind: 'plot', name: 'm', error: 'SERIES_KIND_MISMATCH', details: { key: 'm' } },
    ]);
    // Sending twice stores once.
    expect(await b.ingest!.ingest(batch, DEFAULT_LIMITS, T0)).toEqual({
      series: [{ name: 'm', kind: 'metric', count: 2, lastStep: 1 }],
      accepted: 0,
      skipped: 2,
      rejected: [],
    });
    expect((await b.reader.readSeries(id))[0]!.lastValue).toBe(-Infinity);
  },
  async truncate(b) {
    const id = await b.seed(rich(project()));
    await b.ingest!.truncate(id, 1, T0 + 5);
    expect(Array.from((await b.reader.readMetric(id, 'acc'))!.steps)).toEqual([0]);
    expect((await b.reader.listImages(id, 'samples')).map((i) => i.step)).toEqual([0]);
    expect((await b.reader.readSeries(id)).find((s) => s.name === 'loss')).toMatchObject({ count: 1, lastStep: 0, lastValue: 0.5 });
    // Summaries recomputed after a cut: a NaN that becomes the last value stays NaN (min and max ignore it).
    const spiky = await b.seed({
      project: project(),
      name: 's',
      createdAt: T0,
      metrics: [{ name: 'm', steps: [0, 1, 2], values: [0.5, NaN, 0.25] }],
    });
    await b.ingest!.truncate(spiky, 2, T0 + 5);
    expect((await b.reader.readSeries(spiky))[0]).toEqual(metricSeries('m', 2, NaN, 0.5, 0.5, 1));
    // fromStep is an integer >= 0, and the experiment must exist, in every store.
    for (const bad of [-1, 1.5, NaN]) {
      const refused = await failure(b.ingest!.truncate(id, bad, T0 + 6));
      expect([refused.code, refused.details]).toEqual(['INVALID_STEP', { actual: bad }]);
    }
    const missing = randomUUID();
    const notFound = await failure(b.ingest!.truncate(missing, 0, T0 + 6));
    expect([notFound.code, notFound.details]).toEqual(['EXPERIMENT_NOT_FOUND', { id: missing }]);
  },
  async copyExperiment(b) {
    const id = await b.seed(rich(project()));
    const newId = randomUUID();
    const copy = await b.ingest!.copyExperiment(id, newId, (a) => (a === 1 ? 'run' : `run-copy-${a}`), T0 + 50);
    expect(copy).toMatchObject({ id: newId, name: 'run-copy-2', publishedAt: T0 + 50 });
    expect(await b.reader.readSeries(newId)).toEqual(RICH_SERIES);
    expect((await failure(b.ingest!.copyExperiment(randomUUID(), randomUUID(), () => 'x', T0))).code).toBe('EXPERIMENT_NOT_FOUND');
  },
} satisfies Record<keyof ExperimentIngest, Case>;

const BLOBS: Record<keyof BlobStore, Case> = {
  async missingBlobs(b) {
    const bytes = Buffer.from(randomUUID());
    await b.blobs!.putBlob(sha256(bytes), bytes);
    const absent = sha256(Buffer.from(randomUUID()));
    expect(await b.blobs!.missingBlobs([sha256(bytes), absent])).toEqual([absent]);
  },
  async putBlob(b) {
    const bytes = Buffer.from(randomUUID());
    await b.blobs!.putBlob(sha256(bytes), bytes);
    await b.blobs!.putBlob(sha256(bytes), bytes);
    expect(await b.blobs!.readBlob(sha256(bytes))).toEqual(bytes);
  },
  async readBlob(b) {
    expect(await b.blobs!.readBlob(sha256(Buffer.from(randomUUID())))).toBeUndefined();
  },
  async uploadBlob(b) {
    const p = project();
    const [small, big] = [Buffer.alloc(10, 1), Buffer.from(`${randomUUID()}${'x'.repeat(100)}`)];
    await b.blobs!.uploadBlob(p, sha256(small), small, 50, T0);
    const over = await failure(b.blobs!.uploadBlob(p, sha256(big), big, 50, T0));
    expect(over.code).toBe('LIMIT_EXCEEDED');
    expect(over.details).toMatchObject({ project: p, limit: 50, actual: 10 + big.length });
    expect(await b.blobs!.missingBlobs([sha256(big)])).toEqual([sha256(big)]);
  },
  async ownedBlobs(b) {
    const [p, q] = [project(), project()];
    const bytes = Buffer.from(randomUUID());
    await b.blobs!.uploadBlob(p, sha256(bytes), bytes, 1_000, T0);
    expect([...(await b.blobs!.ownedBlobs(p, [sha256(bytes)], T0)).values()]).toEqual([
      { hash: sha256(bytes), size: bytes.length, checks: [] },
    ]);
    expect((await b.blobs!.ownedBlobs(q, [sha256(bytes)], T0)).size).toBe(0);
  },
  async saveBlobChecks(b) {
    const p = project();
    const bytes = Buffer.from(randomUUID());
    await b.blobs!.uploadBlob(p, sha256(bytes), bytes, 1_000, T0);
    await b.blobs!.saveBlobChecks([{ hash: sha256(bytes), check: { kind: 'image', width: 3, height: 4 } }]);
    await b.blobs!.saveBlobChecks([{ hash: sha256(bytes), check: { kind: 'image', width: 9, height: 9 } }]);
    await b.blobs!.saveBlobChecks([{ hash: sha256(bytes), check: { kind: 'table', invalid: 'not Arrow' } }]);
    const checks = (await b.blobs!.ownedBlobs(p, [sha256(bytes)], T0)).get(sha256(bytes))!.checks;
    expect([...checks].sort((x, y) => x.kind.localeCompare(y.kind))).toEqual([
      { kind: 'image', width: 3, height: 4 },
      { kind: 'table', invalid: 'not Arrow' },
    ]);
  },
  async collectBlobs(b) {
    const p = project();
    const bytes = Buffer.from(randomUUID());
    await b.blobs!.uploadBlob(p, sha256(bytes), bytes, 1_000, T0);
    // Within the grace period nothing of it goes; past it, the unreferenced upload and its bytes do.
    await b.blobs!.collectBlobs(1_000, T0 + 500, 1_000);
    expect(await b.blobs!.readBlob(sha256(bytes))).toEqual(bytes);
    const collected = await b.blobs!.collectBlobs(1_000, T0 + 5_000, 1_000);
    expect(collected.owners).toBeGreaterThanOrEqual(1);
    expect(collected.bytes).toBeGreaterThanOrEqual(bytes.length);
    expect(await b.blobs!.readBlob(sha256(bytes))).toBeUndefined();
  },
} satisfies Record<keyof BlobStore, Case>;

const key = (overrides: { projects?: string[]; name?: string | null } = {}) => ({
  id: randomUUID(),
  hash: sha256(Buffer.from(randomUUID())),
  projects: overrides.projects ?? [project()],
  name: overrides.name === undefined ? 'ci' : overrides.name,
  createdAt: T0,
});
const session = (keyId: string, overrides: { createdAt?: number; expiresAt?: number; lastSeenAt?: number } = {}) => ({
  hash: sha256(Buffer.from(randomUUID())),
  keyId,
  createdAt: overrides.createdAt ?? T0,
  expiresAt: overrides.expiresAt ?? T0 + 10_000,
  lastSeenAt: overrides.lastSeenAt ?? T0,
});

const KEYS: Record<keyof KeyStore, Case> = {
  async createKey(b) {
    const k = key({ projects: ['a', 'b'] });
    await b.keys!.createKey(k);
    expect(await b.keys!.findKey(k.hash)).toEqual(k);
    const taken = await failure(b.keys!.createKey({ ...k, hash: sha256(Buffer.from(randomUUID())) }));
    expect(taken.code).toBe('STORAGE_ERROR');
    expect(taken.details).toEqual({ driver: b.driver, driverCode: PRIMARY_KEY_TAKEN[b.driver], location: b.location });
  },
  async findKey(b) {
    expect(await b.keys!.findKey(sha256(Buffer.from(randomUUID())))).toBeUndefined();
  },
  async listKeys(b) {
    const [k1, k2] = [key({ name: null }), { ...key(), createdAt: T0 + 1 }];
    await b.keys!.createKey(k1);
    await b.keys!.createKey(k2);
    await b.keys!.revokeKey(k2.id, T0 + 1);
    const mine = (list: { id: string }[]) => list.filter((k) => k.id === k1.id || k.id === k2.id);
    expect(mine(await b.keys!.listKeys(false))).toEqual([
      { id: k1.id, name: null, projects: k1.projects, createdAt: T0, lastUsedAt: null, revokedAt: null },
    ]);
    expect(mine(await b.keys!.listKeys(true))).toEqual([
      { id: k1.id, name: null, projects: k1.projects, createdAt: T0, lastUsedAt: null, revokedAt: null },
      { id: k2.id, name: 'ci', projects: k2.projects, createdAt: T0 + 1, lastUsedAt: null, revokedAt: T0 + 1 },
    ]);
  },
  async revokeKey(b) {
    const k = key();
    await b.keys!.createKey(k);
    const s = session(k.id);
    await b.keys!.createSession(s, 5);
    expect(await b.keys!.revokeKey(k.id, T0 + 1)).toBe(true);
    expect(await b.keys!.revokeKey(k.id, T0 + 2)).toBe(false);
    expect(await b.keys!.findKey(k.hash)).toBeUndefined();
    expect(await b.keys!.findSession(s.hash)).toBeUndefined();
  },
  async touchKey(b) {
    const k = key();
    await b.keys!.createKey(k);
    await b.keys!.touchKey(k.id, T0 + 60_000);
    expect(await b.keys!.findKey(k.hash)).toEqual({ ...k, lastUsedAt: T0 + 60_000 });
  },
  async createSession(b) {
    const k = key();
    await b.keys!.createKey(k);
    const sessions = [0, 1, 2].map((i) => session(k.id, { createdAt: T0 + i }));
    for (const s of sessions) await b.keys!.createSession(s, 2);
    // The oldest past the cap of two per key is gone.
    expect(await b.keys!.findSession(sessions[0]!.hash)).toBeUndefined();
    expect((await b.keys!.findSession(sessions[2]!.hash))?.session).toEqual(sessions[2]);
  },
  async findSession(b) {
    const k = key();
    await b.keys!.createKey(k);
    const s = session(k.id);
    await b.keys!.createSession(s, 5);
    expect(await b.keys!.findSession(s.hash)).toEqual({ session: s, key: k });
    expect(await b.keys!.findSession(sha256(Buffer.from(randomUUID())))).toBeUndefined();
  },
  async touchSession(b) {
    const k = key();
    await b.keys!.createKey(k);
    const s = session(k.id);
    await b.keys!.createSession(s, 5);
    await b.keys!.touchSession(s.hash, T0 + 7);
    expect((await b.keys!.findSession(s.hash))?.session.lastSeenAt).toBe(T0 + 7);
  },
  async deleteSession(b) {
    const k = key();
    await b.keys!.createKey(k);
    const s = session(k.id);
    await b.keys!.createSession(s, 5);
    await b.keys!.deleteSession(s.hash);
    expect(await b.keys!.findSession(s.hash)).toBeUndefined();
  },
  async deleteExpiredSessions(b) {
    const k = key();
    await b.keys!.createKey(k);
    // Far in the future, so sessions other cases stored are not among them.
    const at = T0 * 2;
    const ended = session(k.id, { createdAt: at, expiresAt: at + 10, lastSeenAt: at + 5 });
    const idle = session(k.id, { createdAt: at + 1, expiresAt: at + 1_000, lastSeenAt: at + 1 });
    const alive = session(k.id, { createdAt: at + 2, expiresAt: at + 1_000, lastSeenAt: at + 50 });
    for (const s of [ended, idle, alive]) await b.keys!.createSession(s, 5);
    expect(await b.keys!.deleteExpiredSessions(at + 10, at + 20)).toBeGreaterThanOrEqual(2);
    expect(await b.keys!.findSession(ended.hash)).toBeUndefined();
    expect(await b.keys!.findSession(idle.hash)).toBeUndefined();
    expect((await b.keys!.findSession(alive.hash))?.session).toEqual(alive);
  },
} satisfies Record<keyof KeyStore, Case>;

const PAGES: Record<keyof SeriesPages, Case> = {
  async readMetricPage(b) {
    const id = await b.seed(rich(project()));
    const page = (await b.pages!.readMetricPage(id, 'acc', 1, 2))!;
    expect([Array.from(page.steps), Array.from(page.values), Array.from(page.timestamps), page.next]).toEqual([
      [1, 2],
      [0.2, 0.3],
      [T0 + 1, T0 + 2],
      3,
    ]);
    expect((await b.pages!.readMetricPage(id, 'acc', 3, 10))!.next).toBeNull();
    expect(Array.from((await b.pages!.readMetricPage(id, 'loss', 2, 1))!.values)).toEqual([NaN]);
    expect(await b.pages!.readMetricPage(id, 'nope', 0, 10)).toBeUndefined();
  },
  async listPlots(b) {
    const id = await b.seed(rich(project()));
    expect(await b.pages!.listPlots(id, 'curve', 1, 10)).toEqual([
      { step: 1, timestamp: T0 + 1, caption: null, bytes: Buffer.byteLength(figure(1)) },
    ]);
    expect(await b.pages!.listPlots(id, 'curve', 0, 1)).toHaveLength(1);
  },
  async readPlotFigures(b) {
    const id = await b.seed(rich(project()));
    expect(await b.pages!.readPlotFigures(id, 'curve', 0, 1)).toEqual([
      { step: 0, figure: figure(0) },
      { step: 1, figure: figure(1) },
    ]);
    expect(await b.pages!.readPlotFigures(id, 'curve', 1, 1)).toEqual([{ step: 1, figure: figure(1) }]);
  },
} satisfies Record<keyof SeriesPages, Case>;

/** The x values of a chart column, however it is stored. */
const xsOf = (xs: Float64Array | EvenColumn) =>
  xs instanceof Float64Array ? Array.from(xs) : Array.from({ length: xs.length }, (_, i) => xs.first + i * xs.delta);

const UI: Record<keyof UiQueries, Case> = {
  async readMetricXs(b) {
    const id = await b.seed(rich(project()));
    const chunks = (await b.ui!.readMetricXs(id, 'loss', 'steps'))!;
    expect(chunks.flatMap((c) => xsOf(c.xs))).toEqual([0, 1, 2]);
    expect(chunks.flatMap((c) => Array.from(c.values))).toEqual([0.5, 0.25, NaN]);
    const byTime = (await b.ui!.readMetricXs(id, 'acc', 'timestamps', { from: 1, to: 2 }))!;
    expect(byTime.flatMap((c) => xsOf(c.xs))).toContain(T0 + 1);
    expect(await b.ui!.readMetricXs(id, 'nope', 'steps')).toBeUndefined();
  },
  async readSummaries(b) {
    const p = project();
    const id = await b.seed(rich(p));
    const record = study({ project: p });
    await b.studies.createStudy(record);
    await b.studies.addMember(record.id, { experimentId: id, notes: null, tags: [], addedAt: T0 }, 10);
    const missing = randomUUID();
    const summaries = await b.ui!.readSummaries([id, missing], 2);
    expect([...summaries.keys()]).toEqual([id]);
    expect(summaries.get(id)).toEqual({ params: await b.reader.readParams(id), series: RICH_SERIES.slice(0, 2), studyId: record.id });
    expect((await b.ui!.readSummaries([])).size).toBe(0);
  },
  async listProjects(b) {
    const [p1, p2] = [project(), project()];
    await b.seed({ project: p1, name: 'a', createdAt: T0 });
    await b.seed({ project: p1, name: 'b', createdAt: T0 });
    await b.studies.createStudy(study({ project: p2 }));
    expect(await b.ui!.listProjects([p1, p2])).toEqual(
      [
        { name: p1, experiments: 2, running: 2 },
        { name: p2, experiments: 0, running: 0 },
      ].sort((x, y) => (x.name < y.name ? -1 : 1)),
    );
  },
} satisfies Record<keyof UiQueries, Case>;

const REMOTE = 'https://lab.example';

const LEDGER: Record<keyof (SyncLedger & WatermarkReader), Case> = {
  async truncationsAfter(b) {
    const id = await b.seed(rich(project()));
    expect(await b.ledger!.truncationsAfter(id, 0)).toEqual([]);
    await b.writer!.reopenExperiment(id, 3, 1, 'h', T0 + 1);
    await b.writer!.reopenExperiment(id, 1, 1, 'h', T0 + 2);
    const all = await b.ledger!.truncationsAfter(id, 0);
    expect(all.map((t) => t.fromStep)).toEqual([3, 1]);
    expect(await b.ledger!.truncationsAfter(id, all[0]!.seq)).toEqual([all[1]]);
  },
  async ledger(b) {
    const id = await b.seed(rich(project()));
    expect(await b.ledger!.ledger(REMOTE, id)).toEqual({
      metaHash: null,
      remoteName: null,
      truncationSeq: 0,
      series: new Map(),
      tables: new Map(),
    });
  },
  async saveMeta(b) {
    const id = await b.seed(rich(project()));
    await b.ledger!.saveMeta(REMOTE, id, 'hash-1', 'run-2', T0);
    expect(await b.ledger!.ledger(REMOTE, id)).toMatchObject({ metaHash: 'hash-1', remoteName: 'run-2' });
    expect((await b.ledger!.ledger('https://other.example', id)).metaHash).toBeNull();
  },
  async saveTruncation(b) {
    const id = await b.seed(rich(project()));
    await b.ledger!.saveMeta(REMOTE, id, 'h', 'run', T0);
    await b.ledger!.saveTruncation(REMOTE, id, 4, 2);
    expect((await b.ledger!.ledger(REMOTE, id)).truncationSeq).toBe(4);
  },
  async saveWatermarks(b) {
    const id = await b.seed(rich(project()));
    await b.ledger!.saveMeta(REMOTE, id, 'h', 'run', T0);
    expect(await b.ledger!.saveWatermarks(REMOTE, id, new Map([['acc', 2]]), 0)).toBe(true);
    expect((await b.ledger!.ledger(REMOTE, id)).series).toEqual(new Map([['acc', 2]]));
    // A truncation sent since: these answers are stale, nothing is saved.
    await b.ledger!.saveTruncation(REMOTE, id, 1, 10);
    expect(await b.ledger!.saveWatermarks(REMOTE, id, new Map([['acc', 4]]), 0)).toBe(false);
    expect((await b.ledger!.ledger(REMOTE, id)).series).toEqual(new Map([['acc', 2]]));
    // A truncation from step 1 takes back what the remote had acknowledged from there on.
    await b.ledger!.saveTruncation(REMOTE, id, 2, 1);
    expect((await b.ledger!.ledger(REMOTE, id)).series).toEqual(new Map([['acc', 0]]));
    expect(await b.ledger!.saveWatermarks(REMOTE, id, new Map([['acc', 4]]), 2)).toBe(true);
    expect((await b.ledger!.ledger(REMOTE, id)).series).toEqual(new Map([['acc', 4]]));
  },
  async saveTable(b) {
    const id = await b.seed(rich(project()));
    await b.ledger!.saveMeta(REMOTE, id, 'h', 'run', T0);
    await b.ledger!.saveTable(REMOTE, id, 'preds', T0 + 1);
    expect((await b.ledger!.ledger(REMOTE, id)).tables).toEqual(new Map([['preds', T0 + 1]]));
  },
  async readMetricAfter(b) {
    const id = await b.seed(rich(project()));
    const after = await b.ledger!.readMetricAfter(id, 'acc', 1, 100);
    expect([Array.from(after.steps), Array.from(after.values)]).toEqual([
      [2, 3, 4],
      [0.3, 0.4, 0.5],
    ]);
    expect(Array.from((await b.ledger!.readMetricAfter(id, 'loss', null, 100)).values)).toEqual([0.5, 0.25, NaN]);
    expect((await b.ledger!.readMetricAfter(id, 'nope', null, 100)).steps).toHaveLength(0);
  },
  async countMetricAfter(b) {
    const id = await b.seed(rich(project()));
    expect(await b.ledger!.countMetricAfter(id, 'acc', null)).toBe(5);
    expect(await b.ledger!.countMetricAfter(id, 'acc', 4)).toBe(0);
    expect(await b.ledger!.countMetricAfter(id, 'nope', null)).toBe(0);
  },
  async readImagesAfter(b) {
    const id = await b.seed(rich(project()));
    expect(await b.ledger!.readImagesAfter(id, 'samples', 0, 1)).toEqual([
      { step: 5, timestamp: T0 + 5, caption: 's5', width: 2, height: 1, png: png('5') },
    ]);
  },
  async readPlotsAfter(b) {
    const id = await b.seed(rich(project()));
    expect(await b.ledger!.readPlotsAfter(id, 'curve', 0, 10)).toEqual([{ step: 1, timestamp: T0 + 1, caption: null, figure: figure(1) }]);
  },
} satisfies Record<keyof (SyncLedger & WatermarkReader), Case>;

/** A launch record for the experiment `id`, created at T0. */
const newRun = (id: string, overrides: { timeoutMs?: number; retries?: number } = {}) => ({
  id,
  command: 'node',
  args: ['train.js', '--fast'],
  cwd: '/work',
  hostname: 'host-a',
  supervisorPid: 4242,
  timeoutMs: overrides.timeoutMs ?? 7_200_000,
  graceMs: 30_000,
  retries: overrides.retries ?? 1,
  logCapBytes: 1_000,
  timeCreated: T0,
});

/** A seeded experiment with a launch record; its id. */
async function seededRun(b: ContractBackend, projectName = project(), name = 'job'): Promise<string> {
  const id = await b.seed({ project: projectName, name, createdAt: T0 });
  await b.runs!.createRun(newRun(id));
  return id;
}

const line = (attempt: number, stream: 'stdout' | 'stderr', text: string, timestamp = T0) => ({
  attempt,
  stream,
  timestamp,
  text,
  cutBytes: 0,
});

const RUNS: Record<keyof RunStore, Case> = {
  async createRun(b) {
    const p = project();
    const id = await b.seed({ project: p, name: 'job', createdAt: T0 });
    const record = await b.runs!.createRun(newRun(id));
    expect(record).toEqual({
      id,
      project: p,
      name: 'job',
      command: 'node',
      args: ['train.js', '--fast'],
      cwd: '/work',
      hostname: 'host-a',
      supervisorPid: 4242,
      pid: null,
      status: 'pending',
      attempt: 0,
      exitCode: null,
      signal: null,
      errorMessage: null,
      timeoutMs: 7_200_000,
      graceMs: 30_000,
      retries: 1,
      logCapBytes: 1_000,
      timeCreated: T0,
      timeStarted: null,
      timeCompleted: null,
      cancelRequestedAt: null,
      success: null,
      logBytes: 0,
      logLinesDropped: 0,
      logBytesDropped: 0,
    });
    // The run is an experiment: it keeps one of the experiment statuses.
    expect((await b.reader.getExperiment(id))!.status).toBe('running');
    expect((await failure(b.runs!.createRun(newRun(randomUUID())))).code).toBe('EXPERIMENT_NOT_FOUND');
  },
  async getRun(b) {
    const id = await seededRun(b);
    expect((await b.runs!.getRun(id))!.id).toBe(id);
    expect(await b.runs!.getRun(randomUUID())).toBeUndefined();
  },
  async listRuns(b) {
    const p = project();
    const first = await seededRun(b, p, 'a');
    const second = await b.seed({ project: p, name: 'b', createdAt: T0 });
    await b.runs!.createRun({ ...newRun(second), timeCreated: T0 + 5 });
    await seededRun(b, project(), 'elsewhere');
    // A plain experiment of the project is no run.
    await b.seed({ project: p, name: 'plain', createdAt: T0 + 9 });
    expect((await b.runs!.listRuns({ project: p })).map((r) => r.id)).toEqual([second, first]);
    expect((await b.runs!.listRuns({ project: p, limit: 1 })).map((r) => r.id)).toEqual([second]);
    await b.runs!.startAttempt(first, 1, 77, T0 + 10);
    expect((await b.runs!.listRuns({ project: p, status: ['running'] })).map((r) => r.id)).toEqual([first]);
  },
  async startAttempt(b) {
    const id = await seededRun(b);
    await b.runs!.startAttempt(id, 1, 77, T0 + 10);
    expect(await b.runs!.getRun(id)).toMatchObject({ status: 'running', attempt: 1, pid: 77, timeStarted: T0 + 10 });
    expect((await b.runs!.attempts(id))[0]).toEqual({
      attempt: 1,
      pid: 77,
      status: 'running',
      exitCode: null,
      signal: null,
      errorMessage: null,
      timeStarted: T0 + 10,
      timeCompleted: null,
    });
    // A command that could not start has no pid.
    await b.runs!.startAttempt(id, 2, null, T0 + 20);
    expect(await b.runs!.getRun(id)).toMatchObject({ attempt: 2, pid: null, timeStarted: T0 + 10 });
  },
  async endAttempt(b) {
    const id = await seededRun(b);
    await b.runs!.startAttempt(id, 1, 77, T0 + 10);
    await b.runs!.endAttempt(id, { status: 'failed', exitCode: 3, signal: null, errorMessage: 'boom', timeCompleted: T0 + 20 }, false);
    // Not final: the run goes on to its next attempt.
    expect(await b.runs!.getRun(id)).toMatchObject({
      status: 'running',
      exitCode: 3,
      errorMessage: 'boom',
      timeCompleted: null,
      success: null,
    });
    await b.runs!.startAttempt(id, 2, 78, T0 + 30);
    expect(await b.runs!.getRun(id)).toMatchObject({ exitCode: null, errorMessage: null });
    await b.runs!.endAttempt(id, { status: 'completed', exitCode: 0, signal: null, errorMessage: null, timeCompleted: T0 + 40 }, true);
    expect(await b.runs!.getRun(id)).toMatchObject({ status: 'completed', attempt: 2, exitCode: 0, timeCompleted: T0 + 40, success: true });
    expect(
      (await b.runs!.attempts(id)).map((a) => [a.attempt, a.pid, a.status, a.exitCode, a.errorMessage, a.timeStarted, a.timeCompleted]),
    ).toEqual([
      [1, 77, 'failed', 3, 'boom', T0 + 10, T0 + 20],
      [2, 78, 'completed', 0, null, T0 + 30, T0 + 40],
    ]);
    expect(await b.reader.getExperiment(id)).toMatchObject({ status: 'completed', endedAt: T0 + 40 });
  },
  async transition(b) {
    const id = await seededRun(b);
    // pending → completed skips running: refused.
    expect(await b.runs!.transition(id, 'completed', T0 + 1)).toBe(false);
    await b.runs!.startAttempt(id, 1, 77, T0 + 10);
    expect(await b.runs!.transition(id, 'cancelling', T0 + 11)).toBe(true);
    expect(await b.runs!.transition(id, 'running', T0 + 12)).toBe(false);
    expect(await b.runs!.transition(id, 'crashed', T0 + 13)).toBe(true);
    expect(await b.runs!.getRun(id)).toMatchObject({ status: 'crashed', timeCompleted: T0 + 13, success: false });
    expect((await b.runs!.attempts(id))[0]).toMatchObject({ status: 'crashed', timeCompleted: T0 + 13 });
    // A final status moves nowhere.
    expect(await b.runs!.transition(id, 'cancelled', T0 + 14)).toBe(false);
    expect((await b.reader.getExperiment(id))!.status).toBe('crashed');
    expect(await b.runs!.transition(randomUUID(), 'running', T0)).toBe(false);
  },
  async attempts(b) {
    const id = await seededRun(b);
    expect(await b.runs!.attempts(id)).toEqual([]);
    await b.runs!.startAttempt(id, 1, 77, T0 + 10);
    expect((await b.runs!.attempts(id)).map((a) => a.attempt)).toEqual([1]);
  },
  async transitions(b) {
    const id = await seededRun(b);
    await b.runs!.startAttempt(id, 1, 77, T0 + 10);
    await b.runs!.endAttempt(id, { status: 'failed', exitCode: 1, signal: null, errorMessage: 'x', timeCompleted: T0 + 20 }, false);
    await b.runs!.startAttempt(id, 2, 78, T0 + 30);
    await b.runs!.endAttempt(
      id,
      { status: 'timed_out', exitCode: null, signal: 'SIGTERM', errorMessage: 't', timeCompleted: T0 + 40 },
      true,
    );
    expect(await b.runs!.transitions(id)).toEqual([
      { status: 'pending', at: T0, attempt: 0 },
      { status: 'running', at: T0 + 10, attempt: 1 },
      { status: 'running', at: T0 + 30, attempt: 2 },
      { status: 'timed_out', at: T0 + 40, attempt: 2 },
    ]);
    // A timed-out run is a failed experiment.
    expect((await b.reader.getExperiment(id))!.status).toBe('failed');
  },
  async requestCancel(b) {
    const id = await seededRun(b);
    await b.runs!.startAttempt(id, 1, 77, T0 + 10);
    const first = await b.runs!.requestCancel(id, T0 + 11);
    expect(first).toMatchObject({ kind: 'requested', record: { cancelRequestedAt: T0 + 11 } });
    // A second request is the same request: the first time is kept.
    expect(await b.runs!.requestCancel(id, T0 + 12)).toMatchObject({ kind: 'requested', record: { cancelRequestedAt: T0 + 11 } });
    await b.runs!.endAttempt(
      id,
      { status: 'cancelled', exitCode: null, signal: 'SIGTERM', errorMessage: 'c', timeCompleted: T0 + 20 },
      true,
    );
    expect(await b.runs!.requestCancel(id, T0 + 30)).toMatchObject({ kind: 'ended', record: { status: 'cancelled' } });
    const done = await seededRun(b);
    await b.runs!.startAttempt(done, 1, 1, T0);
    await b.runs!.endAttempt(done, { status: 'completed', exitCode: 0, signal: null, errorMessage: null, timeCompleted: T0 + 1 }, true);
    expect(await b.runs!.requestCancel(done, T0 + 2)).toMatchObject({ kind: 'ended', record: { cancelRequestedAt: null } });
    expect(await b.runs!.requestCancel(randomUUID(), T0)).toEqual({ kind: 'missing' });
  },
  async appendLogs(b) {
    const id = await seededRun(b);
    // logCapBytes 1000: ten lines of 300 bytes keep the last three, the seven oldest are dropped and counted.
    const lines = Array.from({ length: 10 }, (_, i) => line(1, i % 2 === 0 ? 'stdout' : 'stderr', `${i}`.repeat(300), T0 + i));
    await b.runs!.appendLogs(id, lines.slice(0, 4), 1_000);
    await b.runs!.appendLogs(id, lines.slice(4), 1_000);
    const page = await b.runs!.readLogs(id, {});
    expect(page.lines.map((l) => l.text[0])).toEqual(['7', '8', '9']);
    expect(page.lines[0]).toMatchObject({ attempt: 1, stream: 'stderr', timestamp: T0 + 7, cutBytes: 0 });
    expect([page.linesDropped, page.bytesDropped]).toEqual([7, 2_100]);
    expect(await b.runs!.getRun(id)).toMatchObject({ logBytes: 900, logLinesDropped: 7, logBytesDropped: 2_100 });
    // Bytes, not characters: 'é' is two.
    const other = await seededRun(b);
    await b.runs!.appendLogs(other, [line(1, 'stdout', 'é'.repeat(10)), { ...line(1, 'stdout', 'cut'), cutBytes: 99 }], 1_000);
    expect(await b.runs!.getRun(other)).toMatchObject({ logBytes: 23 });
    expect((await b.runs!.readLogs(other, {})).lines[1]!.cutBytes).toBe(99);
  },
  async readLogs(b) {
    const id = await seededRun(b);
    await b.runs!.appendLogs(id, [line(1, 'stdout', 'a'), line(1, 'stderr', 'b'), line(2, 'stdout', 'c'), line(2, 'stderr', 'd')], 1_000);
    const all = await b.runs!.readLogs(id, {});
    expect(all.lines.map((l) => [l.attempt, l.stream, l.text])).toEqual([
      [1, 'stdout', 'a'],
      [1, 'stderr', 'b'],
      [2, 'stdout', 'c'],
      [2, 'stderr', 'd'],
    ]);
    expect(all.position).toBe(all.lines[3]!.position);
    expect((await b.runs!.readLogs(id, { stream: 'stderr' })).lines.map((l) => l.text)).toEqual(['b', 'd']);
    expect((await b.runs!.readLogs(id, { tail: 2 })).lines.map((l) => l.text)).toEqual(['c', 'd']);
    expect((await b.runs!.readLogs(id, { stream: 'stdout', tail: 1 })).lines.map((l) => l.text)).toEqual(['c']);
    expect((await b.runs!.readLogs(id, { limit: 1 })).lines.map((l) => l.text)).toEqual(['a']);
    // Following: only what came after the last position seen; none yet: the same position back.
    const after = all.lines[1]!.position;
    expect((await b.runs!.readLogs(id, { after })).lines.map((l) => l.text)).toEqual(['c', 'd']);
    expect(await b.runs!.readLogs(id, { after: all.position })).toMatchObject({ lines: [], position: all.position });
    await b.runs!.appendLogs(id, [line(2, 'stdout', 'e')], 1_000);
    expect((await b.runs!.readLogs(id, { after: all.position })).lines.map((l) => l.text)).toEqual(['e']);
  },
  async attachExperiment(b) {
    const p = project();
    const id = await b.seed({ project: p, name: 'job', tags: ['launched'], createdAt: T0 });
    const record = await b.runs!.attachExperiment(id, ['mine', 'launched'], T0 + 5);
    expect(record).toMatchObject({ id, project: p, name: 'job', tags: ['launched', 'mine'], heartbeatAt: T0 + 5 });
    expect((await b.reader.listExperiments({ project: p, tags: ['mine'] })).map((e) => e.id)).toEqual([id]);
    expect(await b.runs!.attachExperiment(randomUUID(), [], T0)).toBeUndefined();
  },
} satisfies Record<keyof RunStore, Case>;

/** A stored variable of project `p` (experimentId null: the project's own). */
function envVar(p: string, name: string, overrides: Partial<StoredEnvVar> = {}): StoredEnvVar {
  return { project: p, experimentId: null, name, value: `v-${name}`, secret: false, updatedAt: T0, ...overrides };
}

const ENV = {
  async setVar(b) {
    const p = project();
    const experimentId = randomUUID();
    expect(await b.env!.setVar(envVar(p, 'DATA_DIR'), 10)).toEqual(envVar(p, 'DATA_DIR'));
    // The same name in the experiment's scope is another variable; replacing keeps one row.
    await b.env!.setVar(envVar(p, 'DATA_DIR', { experimentId, value: 'mine' }), 10);
    expect(await b.env!.setVar(envVar(p, 'DATA_DIR', { value: '', updatedAt: T0 + 1 }), 10)).toMatchObject({
      value: '',
      updatedAt: T0 + 1,
    });
    expect((await b.env!.listVars({ project: p, experimentId: null })).map((v) => v.value)).toEqual(['']);
    // A plain variable may become secret; a secret never becomes plain again (and stays as it was).
    await b.env!.setVar(envVar(p, 'TOKEN', { value: 'plain' }), 10);
    await b.env!.setVar(envVar(p, 'TOKEN', { value: 'sealed-1', secret: true }), 10);
    const downgrade = await failure(b.env!.setVar(envVar(p, 'TOKEN', { value: 'oops' }), 10));
    expect(downgrade.code).toBe('SECRET_DOWNGRADE');
    expect(downgrade.details).toMatchObject({ key: 'TOKEN', project: p });
    expect(await b.env!.getVar({ project: p, experimentId: null }, 'TOKEN')).toMatchObject({ value: 'sealed-1', secret: true });
    expect(await b.env!.setVar(envVar(p, 'TOKEN', { value: 'sealed-2', secret: true }), 10)).toMatchObject({ value: 'sealed-2' });
    // The per-scope cap counts new names only.
    const q = project();
    await b.env!.setVar(envVar(q, 'A'), 2);
    await b.env!.setVar(envVar(q, 'B'), 2);
    await b.env!.setVar(envVar(q, 'B', { value: 'again' }), 2);
    const over = await failure(b.env!.setVar(envVar(q, 'C'), 2));
    expect(over.code).toBe('LIMIT_EXCEEDED');
    expect(over.details).toMatchObject({ limit: 2, actual: 3 });
  },
  async getVar(b) {
    const p = project();
    const experimentId = randomUUID();
    await b.env!.setVar(envVar(p, 'X', { experimentId, value: 'e' }), 10);
    expect(await b.env!.getVar({ project: p, experimentId }, 'X')).toEqual(envVar(p, 'X', { experimentId, value: 'e' }));
    expect(await b.env!.getVar({ project: p, experimentId: null }, 'X')).toBeUndefined();
    expect(await b.env!.getVar({ project: project(), experimentId }, 'X')).toBeUndefined();
  },
  async listVars(b) {
    const p = project();
    const experimentId = randomUUID();
    for (const name of ['b_2', 'B_1', 'a']) await b.env!.setVar(envVar(p, name), 10);
    await b.env!.setVar(envVar(p, 'ONLY_EXP', { experimentId }), 10);
    // By name in code-point order, and a scope holds only its own.
    expect((await b.env!.listVars({ project: p, experimentId: null })).map((v) => v.name)).toEqual(['B_1', 'a', 'b_2']);
    expect((await b.env!.listVars({ project: p, experimentId })).map((v) => v.name)).toEqual(['ONLY_EXP']);
    expect(await b.env!.listVars({ project: project(), experimentId: null })).toEqual([]);
  },
  async deleteVar(b) {
    const p = project();
    const experimentId = randomUUID();
    await b.env!.setVar(envVar(p, 'X'), 10);
    await b.env!.setVar(envVar(p, 'X', { experimentId }), 10);
    expect(await b.env!.deleteVar({ project: p, experimentId }, 'X')).toBe(true);
    expect(await b.env!.deleteVar({ project: p, experimentId }, 'X')).toBe(false);
    expect(await b.env!.getVar({ project: p, experimentId: null }, 'X')).toMatchObject({ name: 'X' });
    // A deleted secret can come back as a plain variable.
    await b.env!.setVar(envVar(p, 'S', { secret: true }), 10);
    expect(await b.env!.deleteVar({ project: p, experimentId: null }, 'S')).toBe(true);
    expect(await b.env!.setVar(envVar(p, 'S'), 10)).toMatchObject({ secret: false });
  },
} satisfies Record<keyof EnvStore, Case>;
/** A published snapshot of the run `id`: started, in `status`, with the transitions that lead there. */
function snapshot(
  id: string,
  status: 'running' | 'cancelling' | 'completed',
  overrides: { cancelRequestedAt?: number | null } = {},
): RunSnapshot {
  const final = status === 'completed';
  return {
    run: {
      ...newRun(id),
      pid: 77,
      status,
      attempt: 1,
      exitCode: final ? 0 : null,
      signal: null,
      errorMessage: null,
      timeStarted: T0 + 10,
      timeCompleted: final ? T0 + 30 : null,
      cancelRequestedAt: overrides.cancelRequestedAt ?? null,
    },
    attempts: [
      {
        attempt: 1,
        pid: 77,
        status: final ? 'completed' : 'running',
        exitCode: final ? 0 : null,
        signal: null,
        errorMessage: null,
        timeStarted: T0 + 10,
        timeCompleted: final ? T0 + 30 : null,
      },
    ],
    transitions: [
      { status: 'pending', at: T0, attempt: 0 },
      { status: 'running', at: T0 + 10, attempt: 1 },
      ...(status === 'cancelling' ? [{ status: 'cancelling' as const, at: T0 + 20, attempt: 1 }] : []),
      ...(final ? [{ status: 'completed' as const, at: T0 + 30, attempt: 1 }] : []),
    ],
  };
}

const stored = (position: number, text: string, stream: 'stdout' | 'stderr' = 'stdout') => ({
  ...line(1, stream, text, T0 + position),
  position,
});

const RUN_INGEST: Record<keyof RunIngest, Case> = {
  async putRun(b) {
    const p = project();
    const id = await b.seed({ project: p, name: 'job', createdAt: T0 });
    const first = await b.runIngest!.putRun(id, snapshot(id, 'running'), T0 + 11);
    expect(first.applied).toBe(true);
    expect(first.record).toMatchObject({ id, project: p, name: 'job', status: 'running', attempt: 1, pid: 77, success: null });
    expect(await b.runs!.transitions(id)).toEqual(snapshot(id, 'running').transitions);
    // The same snapshot again (a retried request): the same run, nothing doubled.
    expect((await b.runIngest!.putRun(id, snapshot(id, 'running'), T0 + 12)).applied).toBe(true);
    expect(await b.runs!.transitions(id)).toHaveLength(2);
    expect(await b.runs!.attempts(id)).toHaveLength(1);
    // A cancel requested on the server is kept when a snapshot that has not seen it arrives.
    await b.runs!.requestCancel(id, T0 + 15);
    const cancelling = await b.runIngest!.putRun(id, snapshot(id, 'cancelling'), T0 + 21);
    expect(cancelling.record).toMatchObject({ status: 'cancelling', cancelRequestedAt: T0 + 15 });
    // Ended, then a stale snapshot (fewer transitions, not final): nothing moves back.
    const done = await b.runIngest!.putRun(id, snapshot(id, 'completed'), T0 + 31);
    expect(done.record).toMatchObject({ status: 'completed', success: true, exitCode: 0, timeCompleted: T0 + 30 });
    const stale = await b.runIngest!.putRun(id, snapshot(id, 'running'), T0 + 32);
    expect(stale.applied).toBe(false);
    expect(stale.record.status).toBe('completed');
    expect((await b.runs!.getRun(id))!.status).toBe('completed');
    expect((await b.runs!.transitions(id)).map((t) => t.status)).toEqual(['pending', 'running', 'completed']);
    expect((await b.runs!.attempts(id))[0]).toMatchObject({ status: 'completed', exitCode: 0, timeCompleted: T0 + 30 });
    const missing = randomUUID();
    expect((await failure(b.runIngest!.putRun(missing, snapshot(missing, 'running'), T0))).code).toBe('EXPERIMENT_NOT_FOUND');
  },
  async ingestLogs(b) {
    const id = await b.seed({ project: project(), name: 'job', createdAt: T0 });
    await b.runIngest!.putRun(id, snapshot(id, 'running'), T0);
    // Lines 1..3 once, then 2..5 (a retry that overlaps): each line is stored once, at the client's position.
    expect(
      await b.runIngest!.ingestLogs(id, { lines: [1, 2, 3].map((n) => stored(n, `l${n}`)), linesDropped: 0, bytesDropped: 0 }, T0),
    ).toEqual({
      position: 3,
      accepted: 3,
      skipped: 0,
    });
    expect(
      await b.runIngest!.ingestLogs(
        id,
        { lines: [2, 3, 4, 5].map((n) => stored(n, `l${n}`, 'stderr')), linesDropped: 0, bytesDropped: 0 },
        T0,
      ),
    ).toEqual({ position: 5, accepted: 2, skipped: 2 });
    const page = await b.runs!.readLogs(id, {});
    expect(page.lines.map((l) => [l.position, l.text, l.stream])).toEqual([
      [1, 'l1', 'stdout'],
      [2, 'l2', 'stdout'],
      [3, 'l3', 'stdout'],
      [4, 'l4', 'stderr'],
      [5, 'l5', 'stderr'],
    ]);
    // Lines the client's cap dropped before they were sent: a gap, and the client's counters carried.
    expect(await b.runIngest!.ingestLogs(id, { lines: [stored(9, 'l9')], linesDropped: 3, bytesDropped: 6 }, T0)).toEqual({
      position: 9,
      accepted: 1,
      skipped: 0,
    });
    expect(await b.runs!.readLogs(id, { after: 5 })).toMatchObject({ position: 9, linesDropped: 3, bytesDropped: 6 });
    // Nothing new: the server's position back, counters never lowered.
    expect(await b.runIngest!.ingestLogs(id, { lines: [], linesDropped: 1, bytesDropped: 1 }, T0)).toEqual({
      position: 9,
      accepted: 0,
      skipped: 0,
    });
    expect(await b.runs!.getRun(id)).toMatchObject({ logLinesDropped: 3, logBytesDropped: 6, logBytes: 12 });
    // The run's cap (1000 bytes) holds on the server too: the oldest lines go (l1–l3 whole, then l4), counted on top.
    await b.runIngest!.ingestLogs(id, { lines: [stored(10, 'x'.repeat(995))], linesDropped: 3, bytesDropped: 6 }, T0);
    expect((await b.runs!.readLogs(id, {})).lines.map((l) => l.position)).toEqual([5, 9, 10]);
    expect(await b.runs!.getRun(id)).toMatchObject({ logBytes: 999, logLinesDropped: 7, logBytesDropped: 14 });
    expect((await failure(b.runIngest!.ingestLogs(randomUUID(), { lines: [], linesDropped: 0, bytesDropped: 0 }, T0))).code).toBe(
      'RUN_NOT_FOUND',
    );
  },
} satisfies Record<keyof RunIngest, Case>;

const RUN_LEDGER: Record<keyof RunLedger, Case> = {
  async runLedger(b) {
    const id = await seededRun(b);
    expect(await b.runLedger!.runLedger('http://r', id)).toEqual({ snapshotHash: null, logPosition: 0 });
    await b.runLedger!.saveRunSnapshot('http://r', id, 'h1', T0);
    // Per remote.
    expect(await b.runLedger!.runLedger('http://other', id)).toEqual({ snapshotHash: null, logPosition: 0 });
  },
  async saveRunSnapshot(b) {
    const id = await seededRun(b);
    await b.runLedger!.saveRunSnapshot('http://r', id, 'h1', T0);
    await b.runLedger!.saveRunSnapshot('http://r', id, 'h2', T0 + 1);
    expect(await b.runLedger!.runLedger('http://r', id)).toEqual({ snapshotHash: 'h2', logPosition: 0 });
  },
  async saveLogPosition(b) {
    const id = await seededRun(b);
    await b.runLedger!.saveLogPosition('http://r', id, 7, T0);
    await b.runLedger!.saveRunSnapshot('http://r', id, 'h1', T0);
    // Never back: another publisher of the same run may have saved a later position.
    await b.runLedger!.saveLogPosition('http://r', id, 5, T0 + 1);
    expect(await b.runLedger!.runLedger('http://r', id)).toEqual({ snapshotHash: 'h1', logPosition: 7 });
  },
} satisfies Record<keyof RunLedger, Case>;

const WORKER: TrialWorker = { host: 'host-a', pid: 4242 };
/** A search space whose params are not in name order: a store must give them back in the order written. */
const SPACE: SearchSpace = {
  width: { type: 'int', min: 8, max: 64, log: true },
  lr: { type: 'float', min: 1e-4, max: 1, log: true },
  act: { type: 'enum', values: ['relu', 'tanh'] },
};
/** Trial n's params, as a sampler would choose them. */
const chosen = (n: number): TrialParams => ({ width: 8 * (n + 1), lr: 0.5 / (n + 1), act: n % 2 === 0 ? 'relu' : 'tanh' });
const proposeChosen = (_trials: readonly TrialView[], number: number) => chosen(number);

function newSweep(id: string, overrides: Partial<NewSweep> = {}): NewSweep {
  return {
    id,
    metric: 'loss',
    goal: 'minimize',
    space: SPACE,
    sampler: { type: 'tpe', seed: 7, startupTrials: 3, candidates: 24, multivariate: true },
    pruner: { type: 'median', warmupSteps: 2, startupTrials: 1 },
    seed: 7,
    maxTrials: 3,
    parallel: 2,
    createdAt: T0,
    ...overrides,
  };
}

/** A new sweep (and its study) in a project of its own. */
async function createdSweep(
  b: ContractBackend,
  overrides: { study?: Partial<StudyRecord>; sweep?: Partial<NewSweep> } = {},
): Promise<SweepRecord> {
  const record = study({ name: `sweep-${randomUUID()}`, ...overrides.study });
  return b.sweeps!.createSweep(record, newSweep(record.id, overrides.sweep));
}

/** The trial asks give `number` when no trial ran before: running for WORKER since `now`, nothing reported. */
function runningTrial(sweepId: string, number: number, now: number, overrides: Partial<TrialRecord> = {}): TrialRecord {
  return {
    sweepId,
    number,
    status: 'running',
    params: chosen(number),
    value: null,
    reports: [],
    experimentId: null,
    retryOf: null,
    error: null,
    worker: WORKER,
    heartbeatAt: now,
    createdAt: now,
    startedAt: now,
    completedAt: null,
    ...overrides,
  };
}

/** Asks for a trial, which must be given. */
async function asked(b: ContractBackend, sweepId: string, now: number): Promise<TrialRecord> {
  const outcome = await b.sweeps!.askTrial(sweepId, WORKER, proposeChosen, now);
  if (outcome.kind !== 'trial') throw new Error(`expected a trial, got ${JSON.stringify(outcome)}`);
  return outcome.trial;
}

const completed = (value: number | null): TrialOutcome => ({ status: 'completed', value, error: null });

const SWEEPS: Record<keyof SweepStore, Case> = {
  async createSweep(b) {
    const record = study({ name: 'tune' });
    const sweep = await b.sweeps!.createSweep(record, newSweep(record.id));
    expect(sweep).toEqual({
      ...newSweep(record.id),
      project: record.project,
      name: 'tune',
      status: 'created',
      updatedAt: T0,
    });
    // The space as written, params in their order (samplers walk them in it).
    expect(Object.keys(sweep.space)).toEqual(['width', 'lr', 'act']);
    expect(Object.keys((await b.sweeps!.getSweep(record.id))!.space)).toEqual(['width', 'lr', 'act']);
    // The sweep is a study.
    expect(await b.studies.getStudy(record.id)).toEqual(record);
    // A study name taken in the project: the typed error, and no sweep.
    const taken = study({ project: record.project, name: 'tune' });
    const error = await failure(b.sweeps!.createSweep(taken, newSweep(taken.id)));
    expect(error.code).toBe('INVALID_NAME');
    expect(error.details).toEqual({ key: 'tune', project: record.project });
    expect(await b.sweeps!.getSweep(taken.id)).toBeUndefined();
    expect(await b.studies.getStudy(taken.id)).toBeUndefined();
    // One transaction: a sweep the database refuses leaves no study behind.
    const orphan = study();
    const refused = await failure(b.sweeps!.createSweep(orphan, newSweep(orphan.id, { metric: null as unknown as string })));
    expect(refused.code).toBe('STORAGE_ERROR');
    expect(await b.studies.getStudy(orphan.id)).toBeUndefined();
    expect(await b.sweeps!.getSweep(orphan.id)).toBeUndefined();
  },
  async getSweep(b) {
    const sweep = await createdSweep(b, { sweep: { pruner: { type: 'asha', minResource: 1, reductionFactor: 3 }, seed: 2 ** 40 } });
    expect(await b.sweeps!.getSweep(sweep.id)).toEqual(sweep);
    expect(sweep).toMatchObject({ pruner: { type: 'asha', minResource: 1, reductionFactor: 3 }, seed: 2 ** 40 });
    expect(await b.sweeps!.getSweep(randomUUID())).toBeUndefined();
    // A plain study is no sweep.
    const plain = study();
    await b.studies.createStudy(plain);
    expect(await b.sweeps!.getSweep(plain.id)).toBeUndefined();
  },
  async listSweeps(b) {
    const p = project();
    const [a, c, m] = [
      await createdSweep(b, { study: { project: p, name: 'a' }, sweep: { createdAt: T0 + 1 } }),
      await createdSweep(b, { study: { project: p, name: 'c' }, sweep: { createdAt: T0 + 3 } }),
      await createdSweep(b, { study: { project: p, name: 'm' }, sweep: { createdAt: T0 + 2 } }),
    ];
    const elsewhere = await createdSweep(b, { sweep: { createdAt: T0 + 4 } });
    await b.studies.createStudy(study({ project: p, name: 'plain' }));
    // Newest first, in the project; all projects' without one.
    expect(await b.sweeps!.listSweeps(p)).toEqual([c, m, a]);
    const mine = new Set([a.id, c.id, m.id, elsewhere.id]);
    expect((await b.sweeps!.listSweeps()).filter((s) => mine.has(s.id)).map((s) => s.name)).toEqual([elsewhere.name, 'c', 'm', 'a']);
    expect(await b.sweeps!.listSweeps(project())).toEqual([]);
  },
  async setSweepStatus(b) {
    const sweep = await createdSweep(b);
    await b.sweeps!.setSweepStatus(sweep.id, 'stopped', T0 + 9);
    expect(await b.sweeps!.getSweep(sweep.id)).toEqual({ ...sweep, status: 'stopped', updatedAt: T0 + 9 });
    const unknown = randomUUID();
    const error = await failure(b.sweeps!.setSweepStatus(unknown, 'stopped', T0));
    expect(error.code).toBe('SWEEP_NOT_FOUND');
    expect(error.details).toEqual({ id: unknown });
  },
  async trials(b) {
    const sweep = await createdSweep(b);
    expect(await b.sweeps!.trials(sweep.id)).toEqual([]);
    expect(await b.sweeps!.trials(randomUUID())).toEqual([]);
    await asked(b, sweep.id, T0 + 1);
    await asked(b, sweep.id, T0 + 2);
    expect(await b.sweeps!.reportTrial(sweep.id, 1, 0, 0.9, T0 + 3)).toBe('running');
    expect(await b.sweeps!.reportTrial(sweep.id, 1, 5, -Infinity, T0 + 4)).toBe('running');
    expect(await b.sweeps!.finishTrial(sweep.id, 0, completed(0.25), T0 + 5)).toBe(true);
    // In number order, each with all its reports.
    expect(await b.sweeps!.trials(sweep.id)).toEqual([
      runningTrial(sweep.id, 0, T0 + 1, { status: 'completed', value: 0.25, completedAt: T0 + 5 }),
      runningTrial(sweep.id, 1, T0 + 2, {
        heartbeatAt: T0 + 4,
        reports: [
          { step: 0, value: 0.9 },
          { step: 5, value: -Infinity },
        ],
      }),
    ]);
  },
  async askTrial(b) {
    const unknown = randomUUID();
    const error = await failure(b.sweeps!.askTrial(unknown, WORKER, proposeChosen, T0));
    expect(error.code).toBe('SWEEP_NOT_FOUND');
    expect(error.details).toEqual({ id: unknown });

    const sweep = await createdSweep(b, { sweep: { maxTrials: 3 } });
    const seen: { trials: readonly TrialView[]; number: number }[] = [];
    const propose = (trials: readonly TrialView[], number: number) => {
      seen.push({ trials: structuredClone(trials), number });
      return chosen(number);
    };
    // The first trial is number 0; the sweep starts running.
    expect(await b.sweeps!.askTrial(sweep.id, WORKER, propose, T0 + 1)).toEqual({
      kind: 'trial',
      trial: runningTrial(sweep.id, 0, T0 + 1),
    });
    expect(await b.sweeps!.getSweep(sweep.id)).toEqual({ ...sweep, status: 'running', updatedAt: T0 + 1 });
    await b.sweeps!.reportTrial(sweep.id, 0, 1, 0.5, T0 + 2);
    await b.sweeps!.reportTrial(sweep.id, 0, 2, 0.4, T0 + 3);
    await b.sweeps!.finishTrial(sweep.id, 0, { status: 'pruned', value: null, error: null }, T0 + 4);
    await b.sweeps!.askTrial(sweep.id, WORKER, propose, T0 + 5);
    await b.sweeps!.finishTrial(sweep.id, 1, completed(0.3), T0 + 6);
    expect(await b.sweeps!.askTrial(sweep.id, { host: 'host-b', pid: 7 }, propose, T0 + 7)).toEqual({
      kind: 'trial',
      trial: runningTrial(sweep.id, 2, T0 + 7, { worker: { host: 'host-b', pid: 7 } }),
    });
    // What the sampler saw: every trial so far, a pruned one with its last report only, the others with none.
    expect(seen.map((s) => s.number)).toEqual([0, 1, 2]);
    expect(seen[0]!.trials).toEqual([]);
    expect(seen[2]!.trials).toEqual([
      { number: 0, status: 'pruned', params: chosen(0), value: null, reports: [{ step: 2, value: 0.4 }] },
      { number: 1, status: 'completed', params: chosen(1), value: 0.3, reports: [] },
    ]);
    // maxTrials given: full, without asking the sampler; the sweep's updatedAt stays.
    expect(await b.sweeps!.askTrial(sweep.id, WORKER, propose, T0 + 8)).toEqual({ kind: 'full' });
    expect(seen).toHaveLength(3);
    // A pending re-run is claimed before anything else, even when full: the sampler is not asked.
    const rerun = await b.sweeps!.requeueTrial(sweep.id, 1, T0 + 9);
    expect(await b.sweeps!.askTrial(sweep.id, WORKER, propose, T0 + 10)).toEqual({
      kind: 'trial',
      trial: runningTrial(sweep.id, 3, T0 + 10, { params: chosen(1), retryOf: 1, createdAt: T0 + 9 }),
    });
    expect(rerun.number).toBe(3);
    expect(seen).toHaveLength(3);
    expect(await b.sweeps!.askTrial(sweep.id, WORKER, propose, T0 + 11)).toEqual({ kind: 'full' });
    expect((await b.sweeps!.getSweep(sweep.id))!.updatedAt).toBe(T0 + 1);

    // The sampler has nothing left: exhausted, and no trial numbered.
    const grid = await createdSweep(b, { sweep: { maxTrials: 10 } });
    await asked(b, grid.id, T0 + 1);
    const none = vi.fn((_trials: readonly TrialView[], _number: number): TrialParams | null => null);
    expect(await b.sweeps!.askTrial(grid.id, WORKER, none, T0 + 2)).toEqual({ kind: 'exhausted' });
    expect(none).toHaveBeenCalledTimes(1);
    expect(none.mock.calls[0]![1]).toBe(1);
    expect((await b.sweeps!.trials(grid.id)).map((t) => t.number)).toEqual([0]);

    // A sweep that is not running any more: closed with its status, even with a re-run pending.
    await b.sweeps!.requeueTrial(grid.id, 0, T0 + 3);
    await b.sweeps!.setSweepStatus(grid.id, 'stopped', T0 + 4);
    expect(await b.sweeps!.askTrial(grid.id, WORKER, proposeChosen, T0 + 5)).toEqual({ kind: 'closed', status: 'stopped' });
    expect((await b.sweeps!.trials(grid.id)).map((t) => t.status)).toEqual(['running', 'pending']);

    // An ask with a token: sent again (its answer lost), it gets the same trial — the sampler is not asked,
    // no trial is numbered, even after the sweep stopped; another token gets the next trial.
    const tokened = await createdSweep(b, { sweep: { maxTrials: 5 } });
    const token = randomUUID();
    const first = await b.sweeps!.askTrial(tokened.id, WORKER, proposeChosen, T0 + 1, token);
    expect(first).toEqual({ kind: 'trial', trial: runningTrial(tokened.id, 0, T0 + 1) });
    const counted = vi.fn(proposeChosen);
    expect(await b.sweeps!.askTrial(tokened.id, WORKER, counted, T0 + 2, token)).toEqual(first);
    expect(counted).not.toHaveBeenCalled();
    const second = await b.sweeps!.askTrial(tokened.id, WORKER, proposeChosen, T0 + 3, randomUUID());
    expect(second).toMatchObject({ kind: 'trial', trial: { number: 1 } });
    // A pending re-run claimed with a token is given again with it too.
    await b.sweeps!.finishTrial(tokened.id, 0, completed(0.1), T0 + 4);
    await b.sweeps!.requeueTrial(tokened.id, 0, T0 + 5);
    const claimToken = randomUUID();
    const claimed = await b.sweeps!.askTrial(tokened.id, WORKER, proposeChosen, T0 + 6, claimToken);
    expect(claimed).toMatchObject({ kind: 'trial', trial: { number: 2, retryOf: 0 } });
    await b.sweeps!.setSweepStatus(tokened.id, 'stopped', T0 + 7);
    expect(await b.sweeps!.askTrial(tokened.id, WORKER, proposeChosen, T0 + 8, claimToken)).toEqual(claimed);
    expect((await b.sweeps!.trials(tokened.id)).map((t) => t.number)).toEqual([0, 1, 2]);
    // A sweep not yet asked ('created') gives trials; a finished one does not.
    const done = await createdSweep(b);
    await b.sweeps!.setSweepStatus(done.id, 'finished', T0);
    expect(await b.sweeps!.askTrial(done.id, WORKER, proposeChosen, T0 + 1)).toEqual({ kind: 'closed', status: 'finished' });
  },
  async setTrialExperiment(b) {
    const sweep = await createdSweep(b);
    await asked(b, sweep.id, T0);
    const experimentId = await b.seed({ project: sweep.project, name: 'trial-0', createdAt: T0 });
    await b.sweeps!.setTrialExperiment(sweep.id, 0, experimentId);
    expect((await b.sweeps!.trials(sweep.id))[0]!.experimentId).toBe(experimentId);
    // No such trial: nothing happens.
    await b.sweeps!.setTrialExperiment(sweep.id, 5, experimentId);
    await b.sweeps!.setTrialExperiment(randomUUID(), 0, experimentId);
    expect((await b.sweeps!.trials(sweep.id)).map((t) => t.number)).toEqual([0]);
    // An experiment the store does not have: its foreign key refuses it.
    const missing = await failure(b.sweeps!.setTrialExperiment(sweep.id, 0, randomUUID()));
    expect(missing.code).toBe('STORAGE_ERROR');
    expect(missing.details).toEqual({ driver: b.driver, driverCode: FOREIGN_KEY_MISSING[b.driver], location: b.location });
    expect((await b.sweeps!.trials(sweep.id))[0]!.experimentId).toBe(experimentId);
  },
  async reportTrial(b) {
    const sweep = await createdSweep(b);
    await asked(b, sweep.id, T0);
    const report = (step: number, value: number, now: number) => b.sweeps!.reportTrial(sweep.id, 0, step, value, now);
    expect(await report(1, 0.5, T0 + 1)).toBe('running');
    // A step not above the last is not kept (the heartbeat still beats).
    expect(await report(1, 0.4, T0 + 2)).toBe('running');
    expect(await report(0, 0.3, T0 + 3)).toBe('running');
    // NaN and ±Infinity are values like others.
    expect(await report(3, NaN, T0 + 4)).toBe('running');
    expect(await report(4, Infinity, T0 + 5)).toBe('running');
    expect(await report(2, 0.1, T0 + 6)).toBe('running');
    expect(await report(7, -0.125, T0 + 7)).toBe('running');
    const [trial] = await b.sweeps!.trials(sweep.id);
    expect(trial!.reports).toEqual([
      { step: 1, value: 0.5 },
      { step: 3, value: NaN },
      { step: 4, value: Infinity },
      { step: 7, value: -0.125 },
    ]);
    expect(trial!.heartbeatAt).toBe(T0 + 7);
    // A stop shows in the status; then nothing is kept.
    await b.sweeps!.finishTrial(sweep.id, 0, { status: 'stopped', value: null, error: null }, T0 + 8);
    expect(await report(9, 1, T0 + 9)).toBe('stopped');
    expect((await b.sweeps!.trials(sweep.id))[0]).toMatchObject({ reports: trial!.reports, heartbeatAt: T0 + 7 });
    // No such trial.
    expect(await b.sweeps!.reportTrial(sweep.id, 5, 1, 1, T0)).toBeUndefined();
    expect(await b.sweeps!.reportTrial(randomUUID(), 0, 1, 1, T0)).toBeUndefined();
    // A trial keeps MAX_TRIAL_REPORTS reports; later ones only beat its heartbeat.
    await asked(b, sweep.id, T0 + 10);
    for (let step = 1; step <= MAX_TRIAL_REPORTS + 1; step++) {
      expect(await b.sweeps!.reportTrial(sweep.id, 1, step, step / 2, T0 + 10 + step)).toBe('running');
    }
    const capped = (await b.sweeps!.trials(sweep.id))[1]!;
    expect(capped.reports).toHaveLength(MAX_TRIAL_REPORTS);
    expect(capped.reports.at(-1)).toEqual({ step: MAX_TRIAL_REPORTS, value: MAX_TRIAL_REPORTS / 2 });
    expect(capped.heartbeatAt).toBe(T0 + 11 + MAX_TRIAL_REPORTS);
  },
  async heartbeat(b) {
    const sweep = await createdSweep(b);
    await asked(b, sweep.id, T0);
    await b.sweeps!.heartbeat(sweep.id, 0, T0 + 5);
    expect((await b.sweeps!.trials(sweep.id))[0]!.heartbeatAt).toBe(T0 + 5);
    // Only a running trial beats.
    await b.sweeps!.finishTrial(sweep.id, 0, completed(1), T0 + 6);
    await b.sweeps!.heartbeat(sweep.id, 0, T0 + 7);
    expect((await b.sweeps!.trials(sweep.id))[0]!.heartbeatAt).toBe(T0 + 5);
    await b.sweeps!.heartbeat(randomUUID(), 0, T0);
  },
  async finishTrial(b) {
    const sweep = await createdSweep(b);
    await asked(b, sweep.id, T0);
    await asked(b, sweep.id, T0 + 1);
    expect(await b.sweeps!.finishTrial(sweep.id, 0, completed(0.125), T0 + 2)).toBe(true);
    // Not running any more: nothing changes.
    expect(await b.sweeps!.finishTrial(sweep.id, 0, { status: 'failed', value: null, error: 'late' }, T0 + 3)).toBe(false);
    // The error is cut to MAX_TRIAL_ERROR_CHARS; a value that is not finite is none.
    const long = 'é'.repeat(MAX_TRIAL_ERROR_CHARS + 10);
    expect(await b.sweeps!.finishTrial(sweep.id, 1, { status: 'failed', value: Infinity, error: long }, T0 + 4)).toBe(true);
    // A pending re-run can be ended too (a stop before any worker claimed it).
    const rerun = await b.sweeps!.requeueTrial(sweep.id, 1, T0 + 5);
    expect(await b.sweeps!.finishTrial(sweep.id, rerun.number, { status: 'stopped', value: null, error: null }, T0 + 6)).toBe(true);
    expect(await b.sweeps!.finishTrial(sweep.id, 9, completed(1), T0)).toBe(false);
    expect(await b.sweeps!.finishTrial(randomUUID(), 0, completed(1), T0)).toBe(false);
    expect(await b.sweeps!.trials(sweep.id)).toEqual([
      runningTrial(sweep.id, 0, T0, { status: 'completed', value: 0.125, completedAt: T0 + 2 }),
      runningTrial(sweep.id, 1, T0 + 1, { status: 'failed', error: long.slice(0, MAX_TRIAL_ERROR_CHARS), completedAt: T0 + 4 }),
      {
        ...runningTrial(sweep.id, 2, T0 + 5, { status: 'stopped', params: chosen(1), retryOf: 1, completedAt: T0 + 6 }),
        worker: null,
        heartbeatAt: null,
        startedAt: null,
      },
    ]);
  },
  async requeueTrial(b) {
    const sweep = await createdSweep(b);
    await asked(b, sweep.id, T0);
    await asked(b, sweep.id, T0 + 1);
    await b.sweeps!.reportTrial(sweep.id, 0, 1, 0.5, T0 + 2);
    await b.sweeps!.finishTrial(sweep.id, 0, { status: 'failed', value: null, error: 'its worker died' }, T0 + 3);
    // A new pending trial, numbered after every other, with the params of the one it re-runs and nothing else of it.
    const rerun = await b.sweeps!.requeueTrial(sweep.id, 0, T0 + 4);
    expect(rerun).toEqual({
      sweepId: sweep.id,
      number: 2,
      status: 'pending',
      params: chosen(0),
      value: null,
      reports: [],
      experimentId: null,
      retryOf: 0,
      error: null,
      worker: null,
      heartbeatAt: null,
      createdAt: T0 + 4,
      startedAt: null,
      completedAt: null,
    });
    expect(Object.keys(rerun.params)).toEqual(['width', 'lr', 'act']);
    expect((await b.sweeps!.trials(sweep.id)).at(-1)).toEqual(rerun);
    // A re-run of a re-run keeps pointing at the one it copies.
    expect(await b.sweeps!.requeueTrial(sweep.id, 2, T0 + 5)).toMatchObject({ number: 3, retryOf: 2, params: chosen(0) });
    const missing = await failure(b.sweeps!.requeueTrial(sweep.id, 9, T0));
    expect(missing.code).toBe('TRIAL_NOT_FOUND');
    expect(missing.details).toEqual({ id: sweep.id, number: 9 });
    expect((await failure(b.sweeps!.requeueTrial(randomUUID(), 0, T0))).code).toBe('TRIAL_NOT_FOUND');
  },
} satisfies Record<keyof SweepStore, Case>;

// ---- artifacts and registered models ----------------------------------------------------------------

const GIB = 1024 ** 3;

/** An experiment (of its own project unless given one; a name of its own). */
const bareExperiment = (b: ContractBackend, p = project()) => b.seed({ project: p, name: `exp-${randomUUID()}`, createdAt: T0 });

/** Stores an artifact: through the store's ArtifactStore where it has one, else as rows written with SQL. */
async function storedArtifact(b: ContractBackend, experimentId: string, overrides: Partial<ArtifactRecord> = {}): Promise<ArtifactRecord> {
  const record = artifactRecord(experimentId, overrides);
  if (b.artifacts) await b.artifacts.addArtifact(record);
  else await insertArtifacts(b.rows, [record]);
  return record;
}

const directory = (experimentId: string, overrides: Partial<ArtifactRecord> = {}): ArtifactRecord => {
  const files = [
    { path: 'tokenizer/vocab.json', size: 30, sha256: 'c'.repeat(64) },
    { path: 'config.json', size: 10, sha256: 'b'.repeat(64) },
    { path: 'tokenizer/merges.txt', size: 2, sha256: 'd'.repeat(64) },
  ];
  return artifactRecord(experimentId, {
    name: 'tokenizer',
    type: 'directory',
    kind: null,
    size: 42,
    sha256: 'e'.repeat(64),
    files,
    ...overrides,
  });
};

/** The files of a record as a store returns them: sorted by path. */
const byPath = (record: ArtifactRecord): ArtifactRecord => ({
  ...record,
  files: [...record.files].sort((x, y) => (x.path < y.path ? -1 : 1)),
});

const ARTIFACTS: Record<keyof ArtifactStore, Case> = {
  async addArtifact(b) {
    const id = await bareExperiment(b);
    // Metadata keeps its key order (json, not jsonb); a directory keeps its files.
    const file = artifactRecord(id, { step: 10, metadata: { zeta: 1, alpha: { nested: [1, 'two'] } } });
    await b.artifacts!.addArtifact(file);
    expect(await b.artifacts!.getArtifactById(file.id)).toEqual(file);
    expect(Object.keys((await b.artifacts!.getArtifactById(file.id))!.metadata)).toEqual(['zeta', 'alpha']);
    const dir = directory(id);
    await b.artifacts!.addArtifact(dir);
    expect(await b.artifacts!.getArtifactById(dir.id)).toEqual(byPath(dir));
    // A clash at a step: ARTIFACT_EXISTS with the step; another step is fine.
    const clash = await failure(b.artifacts!.addArtifact(artifactRecord(id, { step: 10 })));
    expect(clash.code).toBe('ARTIFACT_EXISTS');
    expect(clash.details).toEqual({ experiment: id, key: 'model', step: 10 });
    await b.artifacts!.addArtifact(artifactRecord(id, { step: 11 }));
    // No step clashes with no step (and not with a step).
    const first = artifactRecord(id, { step: null });
    await b.artifacts!.addArtifact(first);
    const nullClash = await failure(b.artifacts!.addArtifact(artifactRecord(id, { step: null })));
    expect(nullClash.code).toBe('ARTIFACT_EXISTS');
    expect(nullClash.details).toEqual({ experiment: id, key: 'model' });
    expect((await b.artifacts!.listArtifacts(id)).map((a) => [a.name, a.step])).toEqual([
      ['model', null],
      ['model', 10],
      ['model', 11],
      ['tokenizer', null],
    ]);
    // No experiment.
    expect((await failure(b.artifacts!.addArtifact(artifactRecord(randomUUID())))).code).toBe('EXPERIMENT_NOT_FOUND');
    // MAX_EXPERIMENT_ARTIFACT_BYTES: ten of the largest fill it exactly; one byte more is refused, nothing kept.
    const big = await bareExperiment(b);
    for (const step of numbers(10)) await b.artifacts!.addArtifact(artifactRecord(big, { step, size: 20 * GIB }));
    const bytes = await failure(b.artifacts!.addArtifact(artifactRecord(big, { name: 'one-more', size: 1 })));
    expect(bytes.code).toBe('LIMIT_EXCEEDED');
    expect(bytes.details).toMatchObject({ experiment: big, limit: MAX_EXPERIMENT_ARTIFACT_BYTES, actual: 200 * GIB + 1 });
    expect(await b.artifacts!.getArtifact(big, 'one-more')).toBeUndefined();
    // MAX_ARTIFACTS_PER_EXPERIMENT: all but one written with SQL, the last taken, the next refused.
    const many = await bareExperiment(b);
    await insertArtifacts(
      b.rows,
      numbers(MAX_ARTIFACTS_PER_EXPERIMENT - 1).map((step) => artifactRecord(many, { step, files: [] })),
    );
    await b.artifacts!.addArtifact(artifactRecord(many, { name: 'last' }));
    const count = await failure(b.artifacts!.addArtifact(artifactRecord(many, { name: 'past' })));
    expect(count.code).toBe('LIMIT_EXCEEDED');
    expect(count.details).toMatchObject({
      experiment: many,
      limit: MAX_ARTIFACTS_PER_EXPERIMENT,
      actual: MAX_ARTIFACTS_PER_EXPERIMENT + 1,
    });
    expect(await b.artifacts!.getArtifact(many, 'past')).toBeUndefined();
  },
  async listArtifacts(b) {
    const id = await bareExperiment(b);
    const other = await bareExperiment(b);
    for (const [name, step] of [
      ['b', null],
      ['a', 2],
      ['a', null],
      ['a', 1],
    ] as const)
      await b.artifacts!.addArtifact(artifactRecord(id, { name, step }));
    await b.artifacts!.addArtifact(artifactRecord(other, { name: 'a' }));
    // By name, then step, no step first.
    expect((await b.artifacts!.listArtifacts(id)).map((a) => [a.name, a.step])).toEqual([
      ['a', null],
      ['a', 1],
      ['a', 2],
      ['b', null],
    ]);
    expect(await b.artifacts!.listArtifacts(randomUUID())).toEqual([]);
  },
  async getArtifact(b) {
    const id = await bareExperiment(b);
    const plain = artifactRecord(id, { step: null });
    const at3 = artifactRecord(id, { step: 3 });
    const at12 = artifactRecord(id, { step: 12 });
    for (const a of [at12, plain, at3]) await b.artifacts!.addArtifact(a);
    // Without a step: the highest step.
    expect(await b.artifacts!.getArtifact(id, 'model')).toEqual(at12);
    expect(await b.artifacts!.getArtifact(id, 'model', 3)).toEqual(at3);
    expect(await b.artifacts!.getArtifact(id, 'model', null)).toEqual(plain);
    expect(await b.artifacts!.getArtifact(id, 'model', 4)).toBeUndefined();
    // Only one without a step: that one.
    const only = artifactRecord(id, { name: 'config', step: null });
    await b.artifacts!.addArtifact(only);
    expect(await b.artifacts!.getArtifact(id, 'config')).toEqual(only);
    expect(await b.artifacts!.getArtifact(id, 'missing')).toBeUndefined();
    expect(await b.artifacts!.getArtifact(randomUUID(), 'model')).toBeUndefined();
  },
  async getArtifactById(b) {
    const id = await bareExperiment(b);
    const dir = directory(id, { step: 5, kind: 'dataset' });
    await b.artifacts!.addArtifact(dir);
    expect(await b.artifacts!.getArtifactById(dir.id)).toEqual(byPath(dir));
    expect(await b.artifacts!.getArtifactById(randomUUID())).toBeUndefined();
  },
  async referencedBlobs(b) {
    const id = await bareExperiment(b);
    const dir = directory(id, { name: `dir-${randomUUID()}` });
    await b.artifacts!.addArtifact(dir);
    const blobs = await b.artifacts!.referencedBlobs();
    for (const f of dir.files) expect(blobs.has(f.sha256)).toBe(true);
    // A directory's own sha256 is its manifest's, not a blob.
    expect(blobs.has(dir.sha256)).toBe(false);
  },
} satisfies Record<keyof ArtifactStore, Case>;

/** An experiment with a 'model' artifact (no step), and what registering it needs. */
async function registrable(b: ContractBackend, p = project()) {
  const experimentId = await bareExperiment(b, p);
  const artifact = await storedArtifact(b, experimentId);
  return { project: p, experimentId, artifactId: artifact.id };
}

const newVersion = (
  base: { project: string; experimentId: string; artifactId: string },
  overrides: Partial<NewModelVersion> = {},
): NewModelVersion => ({ ...base, model: 'mnist', description: null, aliases: [], now: T0, ...overrides });

const MODELS: Record<keyof ModelStore, Case> = {
  async registerVersion(b) {
    const base = await registrable(b);
    const v1 = await b.models!.registerVersion(newVersion(base, { aliases: ['staging'], description: 'first', now: T0 + 1 }));
    expect(v1).toEqual({
      project: base.project,
      model: 'mnist',
      version: 1,
      experimentId: base.experimentId,
      artifactId: base.artifactId,
      description: 'first',
      createdAt: T0 + 1,
    });
    const v2 = await b.models!.registerVersion(newVersion(base, { aliases: ['staging', 'candidate'], now: T0 + 2 }));
    const v3 = await b.models!.registerVersion(newVersion(base, { now: T0 + 3 }));
    expect([v2.version, v3.version]).toEqual([2, 3]);
    // The alias moved to 2, and the move is recorded.
    expect((await b.models!.getModel(base.project, 'mnist'))!.aliases).toEqual({ candidate: 2, staging: 2 });
    expect(await b.models!.aliasMoves(base.project, 'mnist')).toEqual([
      { alias: 'staging', from: null, to: 1, at: T0 + 1 },
      { alias: 'staging', from: 1, to: 2, at: T0 + 2 },
      { alias: 'candidate', from: null, to: 2, at: T0 + 2 },
    ]);
    // An artifact that is not the experiment's (another's, or none): ARTIFACT_NOT_FOUND, nothing registered.
    const other = await registrable(b, base.project);
    const foreign = await failure(b.models!.registerVersion(newVersion({ ...base, artifactId: other.artifactId })));
    expect(foreign.code).toBe('ARTIFACT_NOT_FOUND');
    expect(foreign.details).toEqual({ experiment: base.experimentId, key: other.artifactId });
    const none = await failure(b.models!.registerVersion(newVersion({ ...base, artifactId: randomUUID() }, { model: 'fresh' })));
    expect(none.code).toBe('ARTIFACT_NOT_FOUND');
    expect(await b.models!.getModel(base.project, 'fresh')).toBeUndefined();
    // Past MAX_MODEL_ALIASES: LIMIT_EXCEEDED, and no version made.
    const many = Array.from({ length: MAX_MODEL_ALIASES - 1 }, (_, i) => `a${i}`);
    const full = await failure(b.models!.registerVersion(newVersion(base, { aliases: many })));
    expect(full.code).toBe('LIMIT_EXCEEDED');
    expect(full.details).toEqual({ key: 'mnist', project: base.project, limit: MAX_MODEL_ALIASES, actual: MAX_MODEL_ALIASES + 1 });
    expect((await b.models!.listVersions(base.project, 'mnist')).map((v) => v.version)).toEqual([1, 2, 3]);
    // Past MAX_MODEL_VERSIONS (the highest version written with SQL): LIMIT_EXCEEDED.
    await b.rows.insert('model_versions', [
      {
        project: base.project,
        model: 'mnist',
        version: MAX_MODEL_VERSIONS,
        experiment_id: base.experimentId,
        artifact_id: base.artifactId,
        description: null,
        created_at: T0,
      },
    ]);
    const tooMany = await failure(b.models!.registerVersion(newVersion(base)));
    expect(tooMany.code).toBe('LIMIT_EXCEEDED');
    expect(tooMany.details).toEqual({ key: 'mnist', project: base.project, limit: MAX_MODEL_VERSIONS, actual: MAX_MODEL_VERSIONS + 1 });
  },
  async getModel(b) {
    const base = await registrable(b);
    expect(await b.models!.getModel(base.project, 'mnist')).toBeUndefined();
    await b.models!.registerVersion(newVersion(base, { aliases: ['prod'], now: T0 + 1 }));
    await b.models!.registerVersion(newVersion(base, { now: T0 + 5 }));
    expect(await b.models!.getModel(base.project, 'mnist')).toEqual({
      project: base.project,
      name: 'mnist',
      description: null,
      tags: [],
      createdAt: T0 + 1,
      updatedAt: T0 + 5,
      aliases: { prod: 1 },
      latestVersion: 2,
    });
    // Names are per project.
    expect(await b.models!.getModel(project(), 'mnist')).toBeUndefined();
  },
  async listModels(b) {
    const p = project();
    const base = await registrable(b, p);
    for (const model of ['zeta', 'alpha', 'mid']) await b.models!.registerVersion(newVersion(base, { model }));
    const elsewhere = await registrable(b);
    await b.models!.registerVersion(newVersion(elsewhere, { model: 'alpha' }));
    expect((await b.models!.listModels(p)).map((m) => m.name)).toEqual(['alpha', 'mid', 'zeta']);
    const all = (await b.models!.listModels()).filter((m) => m.project === p || m.project === elsewhere.project);
    expect(all.map((m) => [m.name, m.project])).toEqual([
      ['alpha', [p, elsewhere.project].sort()[0]],
      ['alpha', [p, elsewhere.project].sort()[1]],
      ['mid', p],
      ['zeta', p],
    ]);
    expect(await b.models!.listModels(project())).toEqual([]);
  },
  async listVersions(b) {
    const base = await registrable(b);
    const second = await storedArtifact(b, base.experimentId, { name: 'model', step: 7 });
    await b.models!.registerVersion(newVersion(base, { now: T0 + 1 }));
    await b.models!.registerVersion(newVersion({ ...base, artifactId: second.id }, { description: 'at 7', now: T0 + 2 }));
    expect((await b.models!.listVersions(base.project, 'mnist')).map((v) => [v.version, v.artifactId, v.description])).toEqual([
      [1, base.artifactId, null],
      [2, second.id, 'at 7'],
    ]);
    expect(await b.models!.listVersions(base.project, 'missing')).toEqual([]);
  },
  async getVersion(b) {
    const base = await registrable(b);
    const v1 = await b.models!.registerVersion(newVersion(base));
    expect(await b.models!.getVersion(base.project, 'mnist', 1)).toEqual(v1);
    expect(await b.models!.getVersion(base.project, 'mnist', 2)).toBeUndefined();
    expect(await b.models!.getVersion(base.project, 'missing', 1)).toBeUndefined();
  },
  async setAlias(b) {
    const base = await registrable(b);
    await b.models!.registerVersion(newVersion(base));
    await b.models!.registerVersion(newVersion(base));
    await b.models!.setAlias(base.project, 'mnist', 'prod', 1, T0 + 10);
    await b.models!.setAlias(base.project, 'mnist', 'prod', 2, T0 + 11);
    // Pointing it where it points: no move.
    await b.models!.setAlias(base.project, 'mnist', 'prod', 2, T0 + 12);
    expect((await b.models!.getModel(base.project, 'mnist'))!).toMatchObject({ aliases: { prod: 2 }, updatedAt: T0 + 12 });
    await b.models!.setAlias(base.project, 'mnist', 'prod', null, T0 + 13);
    expect((await b.models!.getModel(base.project, 'mnist'))!.aliases).toEqual({});
    expect(await b.models!.aliasMoves(base.project, 'mnist')).toEqual([
      { alias: 'prod', from: null, to: 1, at: T0 + 10 },
      { alias: 'prod', from: 1, to: 2, at: T0 + 11 },
      { alias: 'prod', from: 2, to: null, at: T0 + 13 },
    ]);
    // No such version, no such model: MODEL_NOT_FOUND, nothing moved.
    const noVersion = await failure(b.models!.setAlias(base.project, 'mnist', 'prod', 3, T0 + 14));
    expect(noVersion.code).toBe('MODEL_NOT_FOUND');
    expect(noVersion.details).toEqual({ key: 'mnist', project: base.project, version: 3 });
    const noModel = await failure(b.models!.setAlias(base.project, 'missing', 'prod', 1, T0));
    expect(noModel.code).toBe('MODEL_NOT_FOUND');
    expect(noModel.details).toEqual({ key: 'missing', project: base.project });
    expect(await b.models!.aliasMoves(base.project, 'mnist')).toHaveLength(3);
    // Past MAX_MODEL_ALIASES.
    for (let i = 0; i < MAX_MODEL_ALIASES; i++) await b.models!.setAlias(base.project, 'mnist', `a${i}`, 1, T0);
    const full = await failure(b.models!.setAlias(base.project, 'mnist', 'one-more', 1, T0));
    expect(full.code).toBe('LIMIT_EXCEEDED');
    expect(full.details).toMatchObject({ limit: MAX_MODEL_ALIASES, actual: MAX_MODEL_ALIASES + 1 });
    // Moving one it has is no new alias.
    await b.models!.setAlias(base.project, 'mnist', 'a0', 2, T0);
  },
  async aliasMoves(b) {
    const base = await registrable(b);
    expect(await b.models!.aliasMoves(base.project, 'mnist')).toEqual([]);
    await b.models!.registerVersion(newVersion(base, { aliases: ['b', 'a'], now: T0 + 1 }));
    await b.models!.setAlias(base.project, 'mnist', 'a', null, T0 + 2);
    const moves = await b.models!.aliasMoves(base.project, 'mnist');
    expect(moves.map((m) => [m.alias, m.from, m.to, m.at])).toEqual([
      ['b', null, 1, T0 + 1],
      ['a', null, 1, T0 + 1],
      ['a', 1, null, T0 + 2],
    ]);
  },
  async updateModel(b) {
    const base = await registrable(b);
    await b.models!.registerVersion(newVersion(base, { now: T0 }));
    const updated = await b.models!.updateModel(base.project, 'mnist', { description: 'digits', tags: ['cnn', 'mnist'] }, T0 + 9);
    expect(updated).toMatchObject({ description: 'digits', tags: ['cnn', 'mnist'], updatedAt: T0 + 9, latestVersion: 1 });
    // Only what is given changes.
    expect(await b.models!.updateModel(base.project, 'mnist', { tags: [] }, T0 + 10)).toMatchObject({ description: 'digits', tags: [] });
    expect(await b.models!.updateModel(base.project, 'mnist', { description: null }, T0 + 11)).toMatchObject({ description: null });
    const missing = await failure(b.models!.updateModel(base.project, 'missing', { description: 'x' }, T0));
    expect(missing.code).toBe('MODEL_NOT_FOUND');
  },
} satisfies Record<keyof ModelStore, Case>;

/** Every capability's cases, one per method of its interface. */
const CASES: Record<Capability, Record<string, Case>> = {
  reader: READER,
  writer: WRITER,
  batch: BATCH_WRITER,
  ingest: INGEST,
  studies: STUDIES,
  blobs: BLOBS,
  keys: KEYS,
  pages: PAGES,
  ui: UI,
  ledger: LEDGER,
  runs: RUNS,
  env: ENV,
  runIngest: RUN_INGEST,
  runLedger: RUN_LEDGER,
  sweeps: SWEEPS,
  artifacts: ARTIFACTS,
  models: MODELS,
};

/** Which capabilities each store has (the table at the top of this file). */
const HAS: Record<string, readonly Capability[]> = {
  'embedded SQLite store': ['reader', 'writer', 'batch', 'studies', 'ledger', 'runs', 'env', 'runLedger', 'sweeps', 'artifacts', 'models'],
  'SQLite server store': [
    'reader',
    'ingest',
    'studies',
    'blobs',
    'keys',
    'pages',
    'ui',
    'runs',
    'env',
    'runIngest',
    'sweeps',
    'artifacts',
    'models',
  ],
  'PostgreSQL server store': [
    'reader',
    'ingest',
    'studies',
    'blobs',
    'keys',
    'pages',
    'ui',
    'runs',
    'env',
    'runIngest',
    'sweeps',
    'artifacts',
    'models',
  ],
};

const BACKENDS: { label: string; open: () => Promise<ContractBackend> }[] = [
  { label: 'embedded SQLite store', open: async () => openEmbedded() },
  { label: 'SQLite server store', open: openSqliteServer },
  ...(baseUrl ? [{ label: 'PostgreSQL server store', open: () => openPostgres(baseUrl) }] : []),
];

describe('backend contract: every capability covered', () => {
  it('every capability has a store that implements it, so each case runs somewhere', () => {
    const covered = new Set(Object.values(HAS).flat());
    expect([...covered].sort()).toEqual(Object.keys(CASES).sort());
  });
});

describe.each(BACKENDS)('backend contract: $label', ({ label, open }) => {
  let backend: ContractBackend;

  beforeAll(async () => {
    backend = await open();
  });

  afterAll(async () => {
    await backend?.close();
  });

  it('has exactly the capabilities of the table', () => {
    const present = (Object.keys(CASES) as Capability[]).filter((c) => backend[c] !== undefined);
    expect(present).toEqual(HAS[label]);
  });

  for (const capability of HAS[label]!) {
    describe(capability, () => {
      for (const [method, run] of Object.entries(CASES[capability])) {
        it(method, () => run(backend));
      }
    });
  }
});

/** The numbers 0 … n-1. */
const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);

// Asks from several server processes at once. Each store opens two more of its own on the same database (peer):
// on PostgreSQL, three pools whose transactions truly overlap; on SQLite, three connections to one file.
describe.each(BACKENDS.filter((s) => s.label !== 'embedded SQLite store'))('sweeps across server processes: $label', ({ open }) => {
  let backend: ContractBackend;
  let peers: { readonly sweeps: Async<SweepStore>; close(): Promise<void> }[] = [];

  beforeAll(async () => {
    backend = await open();
    peers = [await backend.peer!(), await backend.peer!()];
  });

  afterAll(async () => {
    for (const peer of peers) await peer.close();
    await backend?.close();
  });

  const processes = () => [backend.sweeps!, ...peers.map((p) => p.sweeps)];

  it('40 asks from 3 processes at once on a sweep of 25 trials: numbers 0…24 each given once, the other 15 full', async () => {
    const sweep = await createdSweep(backend, { sweep: { maxTrials: 25 } });
    const stores = processes();
    const outcomes = await Promise.all(
      numbers(40).map((i) => stores[i % 3]!.askTrial(sweep.id, { host: `host-${i % 3}`, pid: 1000 + i }, proposeChosen, T0 + i)),
    );
    const given = outcomes.flatMap((o) => (o.kind === 'trial' ? [o.trial] : []));
    expect(given.map((t) => t.number).sort((x, y) => x - y)).toEqual(numbers(25));
    expect(outcomes.filter((o) => o.kind === 'full')).toHaveLength(15);
    // What each ask was given is what the store holds: one trial per number, the params chosen for it.
    const trials = await backend.sweeps!.trials(sweep.id);
    expect(trials.map((t) => t.number)).toEqual(numbers(25));
    for (const trial of given) {
      expect(trials[trial.number]).toEqual(trial);
      expect(trial.params).toEqual(chosen(trial.number));
    }
    expect(await peers[0]!.sweeps.askTrial(sweep.id, WORKER, proposeChosen, T0 + 50)).toEqual({ kind: 'full' });
  });

  it('two workers racing for the last trial: one gets it, the other is told full', async () => {
    const sweep = await createdSweep(backend, { sweep: { maxTrials: 1 } });
    const [first, second] = await Promise.all([
      peers[0]!.sweeps.askTrial(sweep.id, { host: 'host-1', pid: 1 }, proposeChosen, T0 + 1),
      peers[1]!.sweeps.askTrial(sweep.id, { host: 'host-2', pid: 2 }, proposeChosen, T0 + 2),
    ]);
    expect([first!.kind, second!.kind].sort()).toEqual(['full', 'trial']);
    expect((await backend.sweeps!.trials(sweep.id)).map((t) => [t.number, t.worker])).toEqual([
      [0, first!.kind === 'trial' ? { host: 'host-1', pid: 1 } : { host: 'host-2', pid: 2 }],
    ]);
  });

  it('re-runs pending on a full sweep, asked for from 3 processes at once: each claimed once, then full', async () => {
    const sweep = await createdSweep(backend, { sweep: { maxTrials: 4 } });
    for (const n of numbers(4)) await asked(backend, sweep.id, T0 + n);
    for (const n of numbers(4)) await backend.sweeps!.requeueTrial(sweep.id, n, T0 + 10 + n);
    const stores = processes();
    const outcomes = await Promise.all(
      numbers(10).map((i) => stores[i % 3]!.askTrial(sweep.id, { host: `host-${i % 3}`, pid: 2000 + i }, proposeChosen, T0 + 20 + i)),
    );
    const claimed = outcomes.flatMap((o) => (o.kind === 'trial' ? [o.trial] : []));
    expect(claimed.map((t) => [t.number, t.retryOf]).sort((x, y) => x[0]! - y[0]!)).toEqual([
      [4, 0],
      [5, 1],
      [6, 2],
      [7, 3],
    ]);
    expect(outcomes.filter((o) => o.kind === 'full')).toHaveLength(6);
    expect((await backend.sweeps!.trials(sweep.id)).map((t) => t.status)).toEqual(Array(8).fill('running'));
  });
});

// Registrations of one model from several server processes at once: each version number given once.
describe.each(BACKENDS.filter((s) => s.label !== 'embedded SQLite store'))('models across server processes: $label', ({ open }) => {
  let backend: ContractBackend;
  let peers: { readonly models: Async<ModelStore>; close(): Promise<void> }[] = [];

  beforeAll(async () => {
    backend = await open();
    peers = [await backend.peer!(), await backend.peer!()];
  });

  afterAll(async () => {
    for (const peer of peers) await peer.close();
    await backend?.close();
  });

  it('3 processes × 10 concurrent registrations of one model: versions 1…30, each once, each the artifact it was given', async () => {
    const p = project();
    const experimentId = await bareExperiment(backend, p);
    const artifacts = await Promise.all(numbers(30).map((i) => storedArtifact(backend, experimentId, { step: i })));
    const stores = [backend.models!, ...peers.map((peer) => peer.models)];
    const registered = await Promise.all(
      numbers(30).map((i) =>
        stores[i % 3]!.registerVersion(
          newVersion({ project: p, experimentId, artifactId: artifacts[i]!.id }, { aliases: ['latest'], now: T0 + i }),
        ),
      ),
    );
    expect(registered.map((v) => v.version).sort((x, y) => x - y)).toEqual(numbers(30).map((i) => i + 1));
    const versions = await backend.models!.listVersions(p, 'mnist');
    expect(versions.map((v) => v.version)).toEqual(numbers(30).map((i) => i + 1));
    for (const v of registered) expect(versions[v.version - 1]).toEqual(v);
    expect(new Set(versions.map((v) => v.artifactId)).size).toBe(30);
    // Every registration moved 'latest'; the moves chain from null through each version, the last one held.
    const moves = await backend.models!.aliasMoves(p, 'mnist');
    expect(moves).toHaveLength(30);
    const model = (await backend.models!.getModel(p, 'mnist'))!;
    expect(model.latestVersion).toBe(30);
    expect(model.aliases).toEqual({ latest: 30 });
  });
});

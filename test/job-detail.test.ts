// Job detail: exp.setProgress and exp.logDataset — validated, buffered, latest wins, stored (migration 9), read back.

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ErrorHandlerType, MAX_DATASETS, MAX_DATASET_URI_LENGTH, MAX_PHASE_LENGTH, openStore } from '../src/index.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/sqlite/migrations.js';
import { tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, killServer, startServer } from './support/server-process.js';

const JOB_DETAIL_MIGRATION = MIGRATIONS.find((m) => m.description.startsWith('job detail:'))!.version;

describe('progress', () => {
  it('keeps the latest value, buffered until a flush, and reads back on the record after reopening', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'job', project: 'p' });
    expect(exp.progress).toBeNull();
    exp.setProgress(10);
    exp.setProgress(75, { phase: 'testing' });
    expect(exp.progress).toMatchObject({ pct: 75, phase: 'testing' });
    await exp.flush();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT progress, phase FROM experiments WHERE id = ?').get(exp.id)).toEqual({ progress: 75, phase: 'testing' });
    db.close();
    exp.setProgress(100);
    await exp.close();
    await store.close();

    const again = openStore({ path });
    const read = again.getExperiment(exp.id);
    expect(read.progress).toMatchObject({ pct: 100, phase: null });
    expect(read.progress!.at).toBeGreaterThan(0);
    await again.close();
  });

  it('refuses a pct outside 0–100 or not finite, and a bad phase, naming the rule and the value', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'job', project: 'p', errorHandler: ErrorHandlerType.FAIL });
    for (const bad of [-1, 100.5, Number.NaN, Number.POSITIVE_INFINITY, '50' as unknown as number]) {
      expect(() => exp.setProgress(bad)).toThrowError(
        expect.objectContaining({
          code: 'INVALID_OPTION',
          message: expect.stringMatching(/pct must be a finite number from 0 to 100, got/),
        }),
      );
    }
    expect(() => exp.setProgress(5, { phase: 'x'.repeat(MAX_PHASE_LENGTH + 1) })).toThrowError(
      expect.objectContaining({ code: 'INVALID_NAME', message: expect.stringContaining(`the limit is ${MAX_PHASE_LENGTH}`) }),
    );
    expect(() => exp.setProgress(5, { stage: 'x' } as never)).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(exp.progress).toBeNull();
    await exp.close();
    await store.close();
  });
});

describe('datasets', () => {
  it('stores references; the same role and name again replaces the first', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'job', project: 'p' });
    exp.logDataset({ role: 'train', name: 'mnist', id: 'ds-1', uri: 's3://b/mnist/train', digest: 'sha256:aa', rows: 60_000 });
    exp.logDataset({ role: 'test', name: 'mnist', rows: 10_000 });
    exp.logDataset({ role: 'train', name: 'mnist', id: 'ds-2', rows: 59_000 });
    const datasets = exp.datasets();
    expect(datasets.map(({ loggedAt: _, ...d }) => d)).toEqual([
      { role: 'test', name: 'mnist', id: null, uri: null, digest: null, rows: 10_000 },
      { role: 'train', name: 'mnist', id: 'ds-2', uri: null, digest: null, rows: 59_000 },
    ]);
    await exp.close();
    expect(store.getExperiment(exp.id).datasets()).toHaveLength(2);
    await store.close();
  });

  it('refuses bad fields with the rule and the value, and more than MAX_DATASETS', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'job', project: 'p', errorHandler: ErrorHandlerType.FAIL });
    const refused = (input: unknown, code: string, message: RegExp) =>
      expect(() => exp.logDataset(input as never)).toThrowError(expect.objectContaining({ code, message: expect.stringMatching(message) }));
    refused({ role: '', name: 'a' }, 'INVALID_NAME', /dataset role must not be empty/);
    refused({ role: 'train' }, 'INVALID_NAME', /dataset name must be a string/);
    refused({ role: 'train', name: 'a', rows: -1 }, 'INVALID_OPTION', /rows must be a non-negative safe integer, got number -1/);
    refused({ role: 'train', name: 'a', rows: 1.5 }, 'INVALID_OPTION', /rows must be a non-negative safe integer, got number 1.5/);
    refused(
      { role: 'train', name: 'a', uri: 'u'.repeat(MAX_DATASET_URI_LENGTH + 1) },
      'INVALID_OPTION',
      new RegExp(`limit is ${MAX_DATASET_URI_LENGTH}`),
    );
    refused({ role: 'train', name: 'a', copy: true }, 'INVALID_OPTION', /unknown field 'copy'/);
    for (let i = 0; i < MAX_DATASETS; i++) exp.logDataset({ role: 'train', name: `d${i}` });
    // Replacing one is fine at the limit; a new one is not.
    exp.logDataset({ role: 'train', name: 'd0', rows: 1 });
    refused({ role: 'train', name: 'one-more' }, 'LIMIT_EXCEEDED', new RegExp(`the limit is ${MAX_DATASETS}`));
    expect(exp.datasets()).toHaveLength(MAX_DATASETS);
    await exp.close();
    await store.close();
  });
});

describe('migration', () => {
  it('replays on a store whose version was set back, keeping progress and datasets', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'job', project: 'p' });
    exp.setProgress(40, { phase: 'train' });
    exp.logDataset({ role: 'train', name: 'mnist' });
    await exp.close();
    await store.close();
    const db = new Database(path);
    db.pragma(`user_version = ${JOB_DETAIL_MIGRATION - 1}`);
    db.close();

    const again = openStore({ path });
    expect(again.getExperiment(exp.id).progress).toMatchObject({ pct: 40, phase: 'train' });
    expect(
      again
        .getExperiment(exp.id)
        .datasets()
        .map((d) => d.name),
    ).toEqual(['mnist']);
    await again.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });
});

describe.each(SERVER_DATABASES)('publishing job detail to a server on $kind', ({ create }) => {
  it('sends progress and datasets with the description, again when they change, and the read routes show them', async () => {
    const db = await create();
    const key = await createKey(db, 'default', 'jobs');
    const server = await startServer(db);
    try {
      const { store } = tempStore();
      const exp = store.createExperiment({ name: 'job', project: 'jobs' });
      exp.setProgress(30, { phase: 'training' });
      exp.logDataset({ role: 'train', name: 'mnist', uri: 's3://b/mnist', rows: 60_000 });
      expect((await exp.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);
      const first = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}`);
      expect(first.data.progress).toMatchObject({ pct: 30, phase: 'training' });
      expect(first.data.datasets).toEqual([
        expect.objectContaining({ role: 'train', name: 'mnist', uri: 's3://b/mnist', rows: 60_000, id: null, digest: null }),
      ]);

      exp.setProgress(90, { phase: 'testing' });
      exp.logDataset({ role: 'test', name: 'mnist', rows: 10_000 });
      expect((await exp.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);
      const second = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}`);
      expect(second.data.progress).toMatchObject({ pct: 90, phase: 'testing' });
      expect((second.data.datasets as { role: string }[]).map((d) => d.role)).toEqual(['test', 'train']);
      const listed = await api(server, key, 'GET', `/api/v1/experiments?project=jobs`);
      expect(listed.data.experiments[0].progress).toMatchObject({ pct: 90 });
      const page = await api(server, key, 'GET', `/api/v1/ui/experiments/${exp.id}`);
      expect(page.data.experiment.progress).toMatchObject({ pct: 90, phase: 'testing' });
      expect(page.data.datasets).toHaveLength(2);
      await exp.close();
      await store.close();
    } finally {
      await killServer(server);
    }
  });
});

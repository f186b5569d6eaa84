// The model registry through the Store: registerModel numbers versions, getModel resolves name, name@alias, name@3 with lineage, setAlias moves and removes; bad names and missing models are typed errors.

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../src/core/store.js';
import { SqliteBackend } from '../src/store/sqlite/sqlite-backend.js';
import { tempDir } from './helpers.js';
import { artifactRecord, insertArtifacts, sqliteArtifactReader, sqliteRows, withArtifacts } from './support/raw-rows.js';

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function setUp() {
  const file = join(tempDir(), 'lablog.db');
  const backend = new SqliteBackend(file);
  store = Store.over(withArtifacts(backend, sqliteArtifactReader(backend.database)));
  const exp = store.createExperiment({ name: 'mlp', project: 'p' });
  exp.logParams({ lr: 0.1 });
  exp.logMetric('loss', 0.5, { step: 1 });
  exp.logMetric('loss', 0.25, { step: 2 });
  exp.logDataset({ role: 'train', name: 'mnist', rows: 100 });
  await exp.close();
  const rows = sqliteRows(file);
  const plain = artifactRecord(exp.id);
  const at5 = artifactRecord(exp.id, { step: 5 });
  await insertArtifacts(rows, [plain, at5]);
  await rows.close();
  return { store, exp, plain, at5 };
}

describe('store.registerModel / getModel / setAlias', () => {
  it('numbers versions 1, 2 in the experiment project, resolves references with lineage, and records alias moves', async () => {
    const { store, exp, plain, at5 } = await setUp();
    const v1 = store.registerModel('digits', { experiment: exp, artifact: 'model', step: null, aliases: ['staging'] });
    expect(v1).toMatchObject({ project: 'p', model: 'digits', version: 1, artifactId: plain.id, aliases: ['staging'] });
    // No step: the highest step.
    const v2 = store.registerModel('digits', { experiment: exp.id, artifact: 'model', description: 'best' });
    expect(v2).toMatchObject({ version: 2, artifactId: at5.id, description: 'best', aliases: [] });
    const latest = store.getModel('digits');
    expect(latest.version).toBe(2);
    expect(latest.lineage.experiment).toEqual({
      id: exp.id,
      project: 'p',
      name: 'mlp',
      status: 'completed',
      params: { lr: 0.1 },
      metrics: { loss: 0.25 },
      datasets: [expect.objectContaining({ role: 'train', name: 'mnist', rows: 100 })],
      study: null,
    });
    expect(latest.lineage.artifact).toEqual(at5);
    expect(store.getModel('digits@staging').version).toBe(1);
    expect(store.getModel('digits@1', { project: 'p' }).artifactId).toBe(plain.id);
    store.setAlias('digits', 'staging', 2);
    store.setAlias('digits', 'staging', null);
    expect(store.modelAliasMoves('digits').map((m) => [m.alias, m.from, m.to])).toEqual([
      ['staging', null, 1],
      ['staging', 1, 2],
      ['staging', 2, null],
    ]);
    expect(store.listModels().map((m) => [m.name, m.latestVersion])).toEqual([['digits', 2]]);
    expect(store.listModelVersions('digits').map((v) => v.version)).toEqual([1, 2]);
  });

  it('refuses version-like and @ names, and says what is missing', async () => {
    const { store, exp } = await setUp();
    expect(() => store.registerModel('digits', { experiment: exp, artifact: 'model', aliases: ['3'] })).toThrow(
      expect.objectContaining({ code: 'INVALID_NAME', details: { key: '3' } }),
    );
    expect(() => store.registerModel('a@b', { experiment: exp, artifact: 'model' })).toThrow(
      expect.objectContaining({ code: 'INVALID_NAME' }),
    );
    expect(() => store.registerModel('digits', { experiment: exp, artifact: 'nope' })).toThrow(
      expect.objectContaining({ code: 'ARTIFACT_NOT_FOUND', details: { experiment: exp.id, key: 'nope' } }),
    );
    expect(() => store.getModel('missing')).toThrow(expect.objectContaining({ code: 'MODEL_NOT_FOUND' }));
    store.registerModel('digits', { experiment: exp, artifact: 'model' });
    expect(() => store.getModel('digits@prod')).toThrow(
      expect.objectContaining({ code: 'MODEL_NOT_FOUND', details: { key: 'digits', project: 'p', alias: 'prod' } }),
    );
    expect(() => store.getModel('digits@9')).toThrow(
      expect.objectContaining({ code: 'MODEL_NOT_FOUND', details: { key: 'digits', project: 'p', version: 9 } }),
    );
  });
});

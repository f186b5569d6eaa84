import { describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { STALE_HEARTBEAT_MS } from '../src/index.js';
import { isCrashed } from '../src/core/liveness.js';
import type { ExperimentRecord } from '../src/model/experiment.js';
import { tempStore } from './helpers.js';

async function fill() {
  const ctx = tempStore();
  const { store } = ctx;
  const specs = [
    { name: 'a', project: 'p1', tags: ['cnn', 'baseline'], status: 'completed' },
    { name: 'b', project: 'p1', tags: ['cnn'], status: 'failed' },
    { name: 'c', project: 'p2', tags: ['rnn', 'baseline'], status: 'cancelled' },
    { name: 'd', project: 'p2', tags: [], status: undefined },
  ] as const;
  const ids: string[] = [];
  for (const spec of specs) {
    const exp = store.createExperiment({ name: spec.name, project: spec.project, tags: [...spec.tags] });
    exp.logMetric('m', ids.length);
    ids.push(exp.id);
    if (spec.status) await exp.close({ status: spec.status });
    await new Promise((resolve) => setTimeout(resolve, 3)); // distinct creation times
  }
  return { ...ctx, ids };
}

describe('listExperiments', () => {
  it('lists newest first by default, with every experiment', async () => {
    const { store } = await fill();
    expect(store.listExperiments().map((e) => e.name)).toEqual(['d', 'c', 'b', 'a']);
    expect(store.countExperiments()).toBe(4);
  });

  it('filters by project, status and tags (all given tags)', async () => {
    const { store } = await fill();
    expect(store.listExperiments({ project: 'p1' }).map((e) => e.name)).toEqual(['b', 'a']);
    expect(store.listExperiments({ status: 'running' }).map((e) => e.name)).toEqual(['d']);
    expect(store.listExperiments({ status: ['failed', 'cancelled'] }).map((e) => e.name)).toEqual(['c', 'b']);
    expect(store.listExperiments({ tags: ['baseline'] }).map((e) => e.name)).toEqual(['c', 'a']);
    expect(store.listExperiments({ tags: ['baseline', 'cnn'] }).map((e) => e.name)).toEqual(['a']);
    expect(store.countExperiments({ project: 'p2', tags: ['rnn'] })).toBe(1);
  });

  it('sorts by name, status or time in either order, and pages with limit and offset', async () => {
    const { store } = await fill();
    expect(store.listExperiments({ sort: 'name', order: 'asc' }).map((e) => e.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(store.listExperiments({ sort: 'status', order: 'asc' }).map((e) => e.status)).toEqual([
      'cancelled',
      'completed',
      'failed',
      'running',
    ]);
    expect(store.listExperiments({ sort: 'created_at', order: 'asc', limit: 2 }).map((e) => e.name)).toEqual(['a', 'b']);
    expect(store.listExperiments({ sort: 'created_at', order: 'asc', limit: 2, offset: 2 }).map((e) => e.name)).toEqual(['c', 'd']);
    expect(store.listExperiments({ offset: 3 }).map((e) => e.name)).toEqual(['a']);
    expect(store.countExperiments({ limit: 1 } as never)).toBe(4);
  });

  it('stores and returns names with quotes and SQL verbatim, and filters on them safely', () => {
    const { store } = tempStore();
    const evil = "x'); DROP TABLE experiments; --";
    const exp = store.createExperiment({ name: evil, project: evil, tags: [evil] });
    expect(store.listExperiments({ project: evil, tags: [evil] }).map((e) => e.name)).toEqual([evil]);
    expect(store.getExperiment(evil, { project: evil })).toBe(exp);
  });

  it('rejects bad query options', () => {
    const { store } = tempStore();
    for (const options of [
      { status: 'done' },
      { sort: 'id' },
      { order: 'up' },
      { limit: -1 },
      { offset: 1.5 },
      { tags: 'a' },
      { projekt: 'p' },
    ]) {
      expect(() => store.listExperiments(options as never), JSON.stringify(options)).toThrowError(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
    }
  });
});

describe('getExperiment', () => {
  it('finds by id, by name, and by name in a project', async () => {
    const { store, ids } = await fill();
    expect(store.getExperiment(ids[0]!).name).toBe('a');
    expect(store.getExperiment('b').id).toBe(ids[1]);
    expect(store.getExperiment('c', { project: 'p2' }).id).toBe(ids[2]);
  });

  it('says EXPERIMENT_NOT_FOUND and AMBIGUOUS_NAME precisely', async () => {
    const { store } = await fill();
    store.createExperiment({ name: 'a', project: 'p2' });
    expect(() => store.getExperiment('a')).toThrowError(
      expect.objectContaining({ code: 'AMBIGUOUS_NAME', message: "experiment name 'a' exists in projects p1, p2; pass { project }" }),
    );
    expect(() => store.getExperiment('zzz')).toThrowError(expect.objectContaining({ code: 'EXPERIMENT_NOT_FOUND' }));
    expect(() => store.getExperiment('a', { project: 'p3' })).toThrowError(
      expect.objectContaining({ code: 'EXPERIMENT_NOT_FOUND', message: expect.stringContaining("in project 'p3'") }),
    );
    expect(() => store.getExperiment('00000000-0000-4000-8000-000000000000')).toThrowError(
      expect.objectContaining({ code: 'EXPERIMENT_NOT_FOUND' }),
    );
  });
});

describe('crashed runs', () => {
  const base: ExperimentRecord = {
    id: 'x',
    project: 'p',
    name: 'n',
    description: null,
    tags: [],
    status: 'running',
    createdAt: 0,
    updatedAt: 0,
    endedAt: null,
    heartbeatAt: null,
    pid: null,
    hostname: null,
    progress: null,
  };

  it('on this host, a running experiment whose pid is gone is crashed; a live pid is not', () => {
    const now = Date.now();
    expect(isCrashed({ ...base, hostname: hostname(), pid: process.pid, heartbeatAt: 0 }, now)).toBe(false);
    expect(isCrashed({ ...base, hostname: hostname(), pid: process.ppid, heartbeatAt: 0 }, now)).toBe(false);
    expect(isCrashed({ ...base, hostname: hostname(), pid: 2 ** 22 + 12_345, heartbeatAt: now }, now)).toBe(true);
    expect(isCrashed({ ...base, hostname: hostname(), pid: 2 ** 22 + 12_345, status: 'completed' }, now)).toBe(false);
  });

  it('on another host, only a stale heartbeat means crashed', () => {
    const now = Date.now();
    const other = { ...base, hostname: 'elsewhere', pid: 1 };
    expect(isCrashed({ ...other, heartbeatAt: now - STALE_HEARTBEAT_MS + 1_000 }, now)).toBe(false);
    expect(isCrashed({ ...other, heartbeatAt: now - STALE_HEARTBEAT_MS - 1_000 }, now)).toBe(true);
  });

  it('listing records a dead run as crashed, and resumeFrom can take it over', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'dead' });
    exp.logMetric('m', 1);
    exp.logMetric('m', 2);
    await exp.flush();
    // Make the stored row look like it belongs to a process that has died.
    const db = new Database(path);
    db.prepare('UPDATE experiments SET pid = ? WHERE id = ?').run(2 ** 22 + 12_345, exp.id);
    db.close();
    const { openStore } = await import('../src/index.js');
    const other = openStore({ path });
    expect(other.listExperiments().map((e) => e.status)).toEqual(['crashed']);
    const resumed = other.getExperiment(exp.id).resumeFrom(1, { errorHandler: 'FAIL' });
    resumed.logMetric('m', 20);
    await other.close();
    const check = openStore({ path });
    expect(Array.from(check.getExperiment(exp.id).getMetric('m').values)).toEqual([1, 20]);
    await check.close();
  });

  it('resumeFrom refuses an experiment another live process is running', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'alive' });
    await exp.flush();
    const db = new Database(path);
    db.prepare('UPDATE experiments SET pid = ? WHERE id = ?').run(process.ppid, exp.id);
    db.close();
    const { openStore } = await import('../src/index.js');
    const other = openStore({ path });
    expect(() => other.getExperiment(exp.id).resumeFrom(0)).toThrowError(expect.objectContaining({ code: 'EXPERIMENT_RUNNING' }));
    await other.close();
  });
});

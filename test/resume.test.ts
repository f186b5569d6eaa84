import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../src/index.js';
import { runFixture, tempDir, tempStore } from './helpers.js';

const idOf = (stdout: string) => /^id (\S+)$/m.exec(stdout)![1]!;

describe('resumeFrom on a new handle', () => {
  it('waits for batches another handle of the experiment still has on their way', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    for (let i = 0; i < 100; i++) exp.logMetric('m', i);
    const lock = new Database(path);
    lock.exec('BEGIN IMMEDIATE');
    await exp.close(); // gives up after CLOSE_TIMEOUT_MS: the points are still with the writer, which retries
    expect(exp.stats().pendingPoints).toBe(100);
    lock.exec('ROLLBACK');
    lock.close();
    const resumed = store.getExperiment(exp.id);
    expect(resumed).not.toBe(exp);
    resumed.resumeFrom(50, { errorHandler: 'FAIL' });
    for (let i = 0; i < 10; i++) resumed.logMetric('m', 1000 + i);
    await resumed.close();
    const read = store.getExperiment(exp.id);
    const m = read.getMetric('m');
    expect(Array.from(m.steps)).toEqual([...Array.from({ length: 60 }, (_, i) => i)]);
    expect(m.values[59]).toBe(1009);
    expect(read.listSeries()[0]).toMatchObject({ count: 60, lastStep: 59, lastValue: 1009, maxValue: 1009 });
  });
});

describe('exit statuses after resumeFrom and with a busy store', () => {
  it('a resumed experiment records how the process ended, not its earlier close', async () => {
    const path = join(tempDir(), 'lablog.db');
    const child = await runFixture('exit-cases.ts', [path, 'resumed-fails']);
    expect(child.code).toBe(1);
    const store = openStore({ path });
    const exp = store.getExperiment(idOf(child.stdout));
    expect(exp.status).toBe('failed');
    expect(Array.from(exp.getMetric('m').values)).toEqual([1, 2]);
    await store.close();
  });

  it('waits at exit while the writer retries a store locked by another process', async () => {
    const path = join(tempDir(), 'lablog.db');
    const child = await runFixture('exit-cases.ts', [path, 'locked-exit']);
    expect(child.code).toBe(0);
    expect(child.stderr).toBe('');
    const store = openStore({ path });
    const exp = store.getExperiment(idOf(child.stdout));
    expect(exp.status).toBe('completed');
    expect(exp.getMetric('m').values.length).toBe(1000);
    await store.close();
  });
});

describe('resumeFrom options', () => {
  it('merges partial limits over the defaults and validates the handler', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    exp.logMetric('m', 1);
    await exp.close();
    const read = store.getExperiment(exp.id);
    expect(() => read.resumeFrom(0, { errorHandler: 'LOUD' as never })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => read.resumeFrom(0, { limts: {} } as never)).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    const resumed = read.resumeFrom(1, { errorHandler: 'FAIL', limits: { maxParams: 2 } });
    expect(resumed.limits.maxNameLength).toBe(100);
    expect(() => resumed.logMetric('x'.repeat(101), 1)).toThrowError(expect.objectContaining({ code: 'INVALID_NAME' }));
    resumed.logParam('a', 1);
    resumed.logParam('b', 2);
    expect(() => resumed.logParam('c', 3)).toThrowError(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
    await resumed.close();
  });

  it('refuses while logImage calls are still in progress', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    const sharp = (await import('sharp')).default;
    const png = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#123' } })
      .png()
      .toBuffer();
    const pending = exp.logImage('img', png, { step: 10 });
    expect(() => exp.resumeFrom(5)).toThrowError(expect.objectContaining({ code: 'EXPERIMENT_RUNNING' }));
    await pending;
    exp.resumeFrom(5);
    await exp.logImage('img', png, { step: 5 });
    expect(exp.getImages('img').map((i) => i.step)).toEqual([5]);
  });
});

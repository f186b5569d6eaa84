import { describe, expect, it } from 'vitest';
import { FINAL_STATUSES } from '../src/index.js';
import { solidPng, tempStore } from './helpers.js';

describe('close', () => {
  it("writes everything and sets status 'completed' with an end time", async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    exp.logMetric('m', 1);
    const before = Date.now();
    await exp.close();
    expect(exp.status).toBe('completed');
    expect(exp.endedAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(exp.isOpen).toBe(false);
    const read = store.getExperiment(exp.id);
    expect(read.status).toBe('completed');
    expect(read.endedAt!.getTime()).toBe(exp.endedAt!.getTime());
    expect(read.getMetric('m').values).toEqual(new Float64Array([1]));
  });

  it.each(FINAL_STATUSES)("records close({ status: '%s' })", async (status) => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    await exp.close({ status });
    expect(store.getExperiment(exp.id).status).toBe(status);
  });

  it('is idempotent: a second close returns the same outcome and changes nothing', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    const first = exp.close({ status: 'failed' });
    const second = exp.close({ status: 'completed' });
    expect(second).toBe(first);
    await first;
    await exp.close();
    expect(store.getExperiment(exp.id).status).toBe('failed');
  });

  it('rejects an unknown status without closing', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    await expect(exp.close({ status: 'done' as never })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(exp.isOpen).toBe(true);
  });

  it('makes later log calls EXPERIMENT_CLOSED', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    await exp.close();
    expect(() => exp.logMetric('m', 1)).toThrowError(
      expect.objectContaining({ code: 'EXPERIMENT_CLOSED', message: "experiment 'e' is closed; 'm' was dropped" }),
    );
    expect(() => exp.logParam('p', 1)).toThrowError(expect.objectContaining({ code: 'EXPERIMENT_CLOSED' }));
    expect(() => exp.logPlot('p', { data: [] })).toThrowError(expect.objectContaining({ code: 'EXPERIMENT_CLOSED' }));
    expect(() => exp.logTable('t', {} as never)).toThrowError(expect.objectContaining({ code: 'EXPERIMENT_CLOSED' }));
    await expect(exp.logImage('i', await solidPng(1, 1))).rejects.toMatchObject({ code: 'EXPERIMENT_CLOSED' });
  });

  it('waits for images still being validated', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    // The writer thread is started first: from TypeScript sources (through tsx) its start-up alone can
    // take a loaded machine most of close()'s 2 s budget, which is not what this test is about.
    exp.logMetric('warm-up', 1);
    await exp.flush();
    void exp.logImage('img', await solidPng(64, 64));
    await exp.close();
    expect(store.getExperiment(exp.id).getImages('img')).toHaveLength(1);
  });

  // How long this takes is measured by `npm run bench` (close() right after logging 1M points), not here.
  it('writes a full buffer and everything still with the writer', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', limits: { maxMetricValues: 2_000_000 } });
    for (let i = 0; i < 1_000_000; i++) exp.logMetric(`s${i % 10}`, i);
    await exp.close();
    expect(exp.stats().pendingPoints).toBe(0);
    expect(
      store
        .getExperiment(exp.id)
        .listSeries()
        .reduce((n, s) => n + s.count, 0),
    ).toBe(1_000_000);
  });

  it('store.close() closes the experiments it opened', async () => {
    const { store, path } = tempStore();
    const a = store.createExperiment({ name: 'a' });
    a.logMetric('m', 1);
    await store.close();
    expect(a.status).toBe('completed');
    const { openStore } = await import('../src/index.js');
    const again = openStore({ path });
    expect(again.getExperiment(a.id).getMetric('m').values).toEqual(new Float64Array([1]));
    await again.close();
    expect(() => store.listExperiments()).toThrowError(expect.objectContaining({ code: 'STORAGE_ERROR' }));
  });
});

describe('flush', () => {
  it('writes what is buffered and says how many points', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    for (let i = 0; i < 10; i++) exp.logMetric('m', i);
    const result = await exp.flush();
    expect(result).toEqual({ points: 10, pending: 0, dropped: 0 });
    const { openStore } = await import('../src/index.js');
    const other = openStore({ path });
    expect(other.getExperiment(exp.id).getMetric('m').values.length).toBe(10);
    await other.close();
  });

  it('happens on its own, with no flush(), close() or further log call', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    exp.logMetric('m', 1);
    // Another store on the same file sees the point once the timer has handed it to the writer (every
    // FLUSH_INTERVAL_MS); the deadline is generous for a loaded machine, the point is that it comes at all.
    const { openStore } = await import('../src/index.js');
    const other = openStore({ path });
    try {
      await expect
        .poll(() => Array.from(other.getExperiment(exp.id).getMetric('m').values), { timeout: 20_000, interval: 50 })
        .toEqual([1]);
    } finally {
      await other.close();
    }
  });
});

describe('resumeFrom', () => {
  it('reopens a closed experiment and truncates every series to steps below the resume step', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    for (let i = 0; i < 100; i++) exp.logMetric('loss', 100 - i);
    exp.logMetric('acc', 0.5, { step: 10 });
    exp.logMetric('acc', 0.9, { step: 60 });
    const png = await solidPng(2, 2);
    await exp.logImage('img', png, { step: 10 });
    await exp.logImage('img', png, { step: 70 });
    exp.logPlot('plot', { data: [] }, { step: 55 });
    exp.logParam('lr', 0.1);
    await exp.close({ status: 'failed' });

    const resumed = store.getExperiment(exp.id).resumeFrom(50, { errorHandler: 'FAIL' });
    expect(resumed.status).toBe('running');
    expect(resumed.getMetric('loss').steps.length).toBe(50);
    expect(resumed.getMetric('loss').steps[49]).toBe(49);
    expect(resumed.getMetric('acc').steps).toEqual(new Float64Array([10]));
    expect(resumed.getImages('img').map((i) => i.step)).toEqual([10]);
    expect(resumed.getPlots('plot')).toEqual([]);
    expect(resumed.getParams()).toEqual({ lr: 0.1 });

    // Logging goes on from the resume step, in strict order.
    resumed.logMetric('loss', 42); // auto step: 50
    resumed.logMetric('acc', 0.95, { step: 50 });
    expect(() => resumed.logMetric('loss', 1, { step: 49 })).toThrowError(expect.objectContaining({ code: 'STEP_NOT_INCREASING' }));
    await resumed.close();

    const read = store.getExperiment(exp.id);
    expect(read.status).toBe('completed');
    const loss = read.getMetric('loss');
    expect(loss.steps.length).toBe(51);
    expect(loss.steps[50]).toBe(50);
    expect(loss.values[50]).toBe(42);
    const summary = read.listSeries().find((s) => s.name === 'loss')!;
    expect(summary).toMatchObject({ count: 51, firstStep: 0, lastStep: 50, lastValue: 42, minValue: 42, maxValue: 100 });
  });

  it('counts the kept values against the metric budget', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', limits: { maxMetricValues: 10 } });
    for (let i = 0; i < 10; i++) exp.logMetric('m', i);
    await exp.close();
    const resumed = store.getExperiment(exp.id).resumeFrom(8, { errorHandler: 'FAIL', limits: exp.limits });
    resumed.logMetric('m', 8);
    resumed.logMetric('m', 9);
    expect(() => resumed.logMetric('m', 10)).toThrowError(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
    await resumed.close();
  });

  it('works on the live experiment of this process', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    for (let i = 0; i < 10; i++) exp.logMetric('m', i);
    expect(exp.resumeFrom(5)).toBe(exp);
    exp.logMetric('m', 50);
    expect(Array.from(exp.getMetric('m').steps)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(exp.getMetric('m').values[5]).toBe(50);
  });

  it('rejects a bad step', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    expect(() => exp.resumeFrom(-1)).toThrowError(expect.objectContaining({ code: 'INVALID_STEP' }));
  });
});

describe('read handles', () => {
  it('getExperiment returns the live object for an experiment this store is logging', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    expect(store.getExperiment(exp.id)).toBe(exp);
    expect(store.getExperiment('e')).toBe(exp);
  });

  it('an experiment read from the store is not open for logging until resumed', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    await exp.close();
    const read = store.getExperiment(exp.id);
    read.logMetric('m', 1); // WARN by default: dropped, not thrown
    const failing = store.getExperiment(exp.id);
    expect(() => failing.resumeFrom(0, { errorHandler: 'FAIL' }).logMetric('m', 'x' as never)).toThrowError(
      expect.objectContaining({ code: 'INVALID_METRIC_VALUE' }),
    );
    expect(read.stats().lastError?.code).toBe('EXPERIMENT_CLOSED');
    expect(read.listSeries()).toEqual([]);
  });
});

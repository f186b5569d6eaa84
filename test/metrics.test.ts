import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/index.js';
import { tempStore, warnings } from './helpers.js';

describe('metrics', () => {
  it('auto-increments steps per series from 0', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    for (let i = 0; i < 5; i++) exp.logMetric('train/loss', 1 / (i + 1));
    exp.logMetric('val/acc', 0.5);
    expect(exp.getMetric('train/loss').steps).toEqual(new Float64Array([0, 1, 2, 3, 4]));
    expect(exp.getMetric('train/loss').values).toEqual(new Float64Array([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]));
    expect(exp.getMetric('val/acc').steps).toEqual(new Float64Array([0]));
  });

  it('continues from an explicit step: omitted means previous + 1', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logMetric('m', 1, { step: 10 });
    exp.logMetric('m', 2);
    exp.logMetric('m', 3, { step: 100 });
    expect(exp.getMetric('m').steps).toEqual(new Float64Array([10, 11, 100]));
  });

  it('requires strictly increasing steps per series, independently of other series', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logMetric('a', 1, { step: 5 });
    exp.logMetric('b', 1, { step: 1 }); // another series may be behind
    expect(() => exp.logMetric('a', 2, { step: 5 })).toThrowError(
      expect.objectContaining({
        code: 'STEP_NOT_INCREASING',
        message: expect.stringContaining("step 5 for 'a' is not greater than its previous step 5"),
        details: expect.objectContaining({ limit: 5, actual: 5 }),
      }),
    );
    expect(() => exp.logMetric('a', 2, { step: 4 })).toThrowError(expect.objectContaining({ code: 'STEP_NOT_INCREASING' }));
    // The rejected step does not move the series: the next auto step follows the last stored one.
    exp.logMetric('a', 3);
    expect(exp.getMetric('a').steps).toEqual(new Float64Array([5, 6]));
  });

  it('rejects steps that are not integers >= 0', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    for (const step of [-1, 0.5, NaN, Infinity, 2 ** 53, '3', null]) {
      expect(() => exp.logMetric('m', 1, { step: step as never })).toThrowError(expect.objectContaining({ code: 'INVALID_STEP' }));
    }
    exp.logMetric('m', 1, { step: 0 });
    exp.logMetric('m', 1, { step: 2 ** 53 - 1 });
    expect(exp.getMetric('m').steps).toEqual(new Float64Array([0, 2 ** 53 - 1]));
  });

  it('stores NaN and ±Infinity faithfully', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logMetric('loss', 0.5);
    exp.logMetric('loss', Infinity);
    exp.logMetric('loss', -Infinity);
    exp.logMetric('loss', NaN);
    exp.logMetric('loss', -0);
    await exp.close();
    const read = store.getExperiment(exp.id);
    const values = read.getMetric('loss').values;
    expect(Array.from(values)).toEqual([0.5, Infinity, -Infinity, NaN, -0]);
    expect(Object.is(values[4], -0)).toBe(true);
    const summary = read.listSeries().find((s) => s.name === 'loss')!;
    expect(summary).toMatchObject({ count: 5, lastStep: 4, minValue: -Infinity, maxValue: Infinity });
  });

  it('shows a NaN last value as NaN in the series summary', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    exp.logMetric('loss', NaN);
    await exp.close();
    const summary = store.getExperiment(exp.id).listSeries()[0]!;
    expect(summary.lastValue).toBeNaN();
    expect(summary.minValue).toBeNull();
  });

  it('rejects values that are not numbers', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    for (const value of ['0.5', 1n, null, undefined, true, [1], { v: 1 }, new Date()]) {
      expect(() => exp.logMetric('m', value as never)).toThrowError(expect.objectContaining({ code: 'INVALID_METRIC_VALUE' }));
    }
    expect(() => exp.logMetrics([1, 2] as never)).toThrowError(expect.objectContaining({ code: 'INVALID_METRIC_VALUE' }));
    expect(exp.listSeries()).toEqual([]);
  });

  it('takes the wall-clock time at the call, or the given timestamp', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const before = Date.now();
    exp.logMetric('m', 1);
    const after = Date.now();
    exp.logMetric('m', 2, { timestamp: new Date('2026-01-02T03:04:05.678Z') });
    exp.logMetric('m', 3, { timestamp: 1_700_000_000_123 });
    const { timestamps } = exp.getMetric('m');
    expect(timestamps[0]).toBeGreaterThanOrEqual(before);
    expect(timestamps[0]).toBeLessThanOrEqual(after);
    expect(timestamps[1]).toBe(Date.parse('2026-01-02T03:04:05.678Z'));
    expect(timestamps[2]).toBe(1_700_000_000_123);
    expect(() => exp.logMetric('m', 4, { timestamp: 'yesterday' as never })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });

  it('logMetrics logs a record at one step and one timestamp', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logMetrics({ 'val/acc': 0.91, 'val/loss': 0.3 }, { step: 999 });
    exp.logMetrics({ 'val/acc': 0.92, 'val/loss': 0.25 });
    const acc = exp.getMetric('val/acc');
    const loss = exp.getMetric('val/loss');
    expect(acc.steps).toEqual(new Float64Array([999, 1000]));
    expect(loss.values).toEqual(new Float64Array([0.3, 0.25]));
    expect(acc.timestamps).toEqual(loss.timestamps);
  });

  it('accepts exactly 100,000 values across all series and rejects the next', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    for (let i = 0; i < 50_000; i++) exp.logMetric('a', i);
    for (let i = 0; i < 50_000; i++) exp.logMetric('b', i);
    expect(() => exp.logMetric('c', 1)).toThrowError(
      expect.objectContaining({
        code: 'LIMIT_EXCEEDED',
        message: "experiment 'e' has 100000 metric values; the limit is 100000 (maxMetricValues), so 'c' at step 0 was dropped",
        details: expect.objectContaining({ limit: 100_000, actual: 100_001 }),
      }),
    );
    expect(exp.stats().metricValues).toBe(100_000);
    expect(exp.getMetric('a').values.length + exp.getMetric('b').values.length).toBe(100_000);
    // Params are a separate budget and still flow.
    exp.logParam('still', 'logging');
    expect(exp.getParams()).toEqual({ still: 'logging' });
  });

  it('warns once past 80% of the metric budget, whatever the handler', () => {
    const { store } = tempStore();
    const w = warnings();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', onWarning: w.onWarning, limits: { maxMetricValues: 100 } });
    for (let i = 0; i < 80; i++) exp.logMetric('m', i);
    expect(w.list).toHaveLength(0);
    exp.logMetric('m', 80);
    expect(w.list).toHaveLength(1);
    expect(w.list[0]).toMatchObject({ code: 'LIMIT_APPROACHING', details: { limit: 100, actual: 81 } });
    for (let i = 81; i < 100; i++) exp.logMetric('m', i);
    expect(w.list).toHaveLength(1);
  });

  it('raises the metric budget through limits', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', limits: { maxMetricValues: 250_000 } });
    for (let i = 0; i < 250_000; i++) exp.logMetric('m', i);
    expect(() => exp.logMetric('m', 0)).toThrowError(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
    const { values } = exp.getMetric('m');
    expect(values.length).toBe(250_000);
    expect(values[249_999]).toBe(249_999);
  });

  it('takes maxMetricValues: Infinity as no limit, without a budget warning; other limits stay finite', async () => {
    const { store } = tempStore();
    const w = warnings();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', onWarning: w.onWarning, limits: { maxMetricValues: Infinity } });
    expect(exp.limits.maxMetricValues).toBe(Infinity);
    const past = 2 * DEFAULT_LIMITS.maxMetricValues + 1;
    for (let i = 0; i < past; i++) exp.logMetric('m', i);
    expect(w.list).toEqual([]);
    await exp.close();
    expect(store.getExperiment(exp.id).getMetric('m').values.length).toBe(past);
    expect(() => store.createExperiment({ name: 'f', limits: { maxParams: Infinity } })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTION', message: "limit 'maxParams' must be a positive integer, got Infinity" }),
    );
    expect(() => store.createExperiment({ name: 'f', limits: { maxMetricValues: -Infinity } })).toThrowError(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        message: "limit 'maxMetricValues' must be a positive integer or Infinity (no limit), got -Infinity",
      }),
    );
  });

  it('keeps metric names and image/plot names apart', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logPlot('curve', { data: [] });
    expect(() => exp.logMetric('curve', 1)).toThrowError(
      expect.objectContaining({
        code: 'SERIES_KIND_MISMATCH',
        message: "series 'curve' already holds plot values; a metric series needs another name",
      }),
    );
  });
});

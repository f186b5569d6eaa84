import { describe, expect, it } from 'vitest';
import { MAX_BUFFERED_POINTS } from '../src/index.js';
import { tempStore, warnings } from './helpers.js';

describe('when logging outpaces a healthy store', () => {
  it('log calls wait for the writer (counted, warned once) and nothing is dropped', async () => {
    const { store } = tempStore();
    const w = warnings();
    const points = 5 * MAX_BUFFERED_POINTS;
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', onWarning: w.onWarning, limits: { maxMetricValues: points } });
    // A synchronous loop that never yields, logging as fast as it can: far faster than SQLite writes.
    for (let i = 0; i < points; i++) exp.logMetric(`s${i % 4}`, i);
    const stats = exp.stats();
    expect(stats.droppedPoints).toBe(0);
    expect(stats.backpressureWaits).toBeGreaterThan(0);
    expect(stats.backpressureMs).toBeGreaterThan(0);
    expect(stats.pendingPoints).toBeLessThanOrEqual(MAX_BUFFERED_POINTS + 16_384);
    expect(w.list.filter((x) => x.code === 'BACKPRESSURE')).toHaveLength(1);
    await exp.close();
    const read = store.getExperiment(exp.id);
    expect(read.listSeries().reduce((n, s) => n + s.count, 0)).toBe(points);
    const s3 = read.getMetric('s3');
    expect(s3.values[s3.values.length - 1]).toBe(points - 1);
  });
});

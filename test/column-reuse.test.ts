import { describe, expect, it } from 'vitest';
import { FLUSH_AT_POINTS } from '../src/index.js';
import { columnPool } from '../src/core/buffer.js';
import { tempStore } from './helpers.js';

describe('column buffers', () => {
  it('come back from the writer for reuse, and reused buffers never mix old points into new chunks', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', limits: { maxMetricValues: 1_000_000 } });
    columnPool.free.clear();
    for (let i = 0; i < FLUSH_AT_POINTS; i++) exp.logMetric('m', i); // one flush: the buffers go to the writer
    await exp.flush();
    for (let tries = 0; tries < 50 && columnPool.free.size === 0; tries++) await new Promise((resolve) => setTimeout(resolve, 10));
    const pooled = [...columnPool.free.values()].reduce((n, list) => n + list.length, 0);
    expect(pooled).toBeGreaterThanOrEqual(3);
    // Later chunks are written from reused arrays holding old values: only their own points are stored.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1000 + round; i++) exp.logMetric('m', -1);
      await exp.flush();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const { values } = exp.getMetric('m');
    expect(values.length).toBe(FLUSH_AT_POINTS + 5 * 1000 + 10);
    expect(values.slice(FLUSH_AT_POINTS).every((v) => v === -1)).toBe(true);
    expect(values[FLUSH_AT_POINTS - 1]).toBe(FLUSH_AT_POINTS - 1);
  });
});

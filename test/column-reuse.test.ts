import { describe, expect, it } from 'vitest';
import { FLUSH_AT_POINTS } from '../src/index.js';
import { columnPool } from '../src/core/buffer.js';
import { tempStore } from './helpers.js';

describe('column buffers', () => {
  it('come back from the writer for reuse, and reused buffers never mix old points into new chunks', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', limits: { maxMetricValues: 1_000_000 } });
    columnPool.clear();
    for (let i = 0; i < FLUSH_AT_POINTS; i++) exp.logMetric('m', i); // one flush: the buffers go to the writer
    await exp.flush();
    for (let tries = 0; tries < 50 && columnPool.free.size === 0; tries++) await new Promise((resolve) => setTimeout(resolve, 10));
    // The three columns (steps, values, timestamps) of the flushed points, in one slab.
    expect(columnPool.bytes).toBeGreaterThanOrEqual(3 * FLUSH_AT_POINTS * Float64Array.BYTES_PER_ELEMENT);
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

  it('come back to a loop that never yields: the next flush gets the slab of a written one back', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', limits: { maxMetricValues: 1_000_000 } });
    columnPool.clear();
    for (let i = 0; i < FLUSH_AT_POINTS; i++) exp.logMetric('m', i); // the first flush goes to the writer
    // A synchronous read blocks until it is written, without giving the event loop a turn.
    expect(exp.getMetric('m').values.length).toBe(FLUSH_AT_POINTS);
    expect(columnPool.bytes).toBe(0);
    for (let i = 0; i < FLUSH_AT_POINTS; i++) exp.logMetric('m', FLUSH_AT_POINTS + i); // the second flush
    expect(columnPool.bytes).toBeGreaterThanOrEqual(3 * FLUSH_AT_POINTS * Float64Array.BYTES_PER_ELEMENT);
  });

  it('of series sharing one slab keep each series its own points, busy, sparse or idle between flushes', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', limits: { maxMetricValues: 1_000_000 } });
    const total = 4 * FLUSH_AT_POINTS;
    for (let i = 0; i < total; i++) {
      exp.logMetric('busy', i);
      if (i % 5_000 === 0) exp.logMetric('sparse', -i);
      if (i < 100) exp.logMetric('early', i * 2);
    }
    await exp.flush();
    expect(Array.from(exp.getMetric('busy').values)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(Array.from(exp.getMetric('sparse').values)).toEqual(Array.from({ length: Math.ceil(total / 5_000) }, (_, k) => -k * 5_000));
    expect(Array.from(exp.getMetric('early').values)).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
    expect(Array.from(exp.getMetric('early').steps)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { tempStore, warnings } from './helpers.js';

describe('a batch the store rejects for good', () => {
  it('is dropped, counted and reported, and does not block the batches behind it', async () => {
    const { store, path } = tempStore();
    const w = warnings();
    const exp = store.createExperiment({ name: 'e', onWarning: w.onWarning });
    for (let i = 0; i < 10; i++) exp.logMetric('a', i);
    await exp.flush();
    // Another writer put a chunk where this experiment's next chunk of 'a' will start: a constraint error.
    const other = new Database(path);
    const series = other.prepare("SELECT id FROM series WHERE name = 'a'").pluck().get() as number;
    const blob = Buffer.from(new Float64Array([10]).buffer);
    other
      .prepare(
        'INSERT INTO metric_chunks (series_id, first_step, last_step, count, steps, vals, timestamps) VALUES (?, 10, 10, 1, ?, ?, ?)',
      )
      .run(series, blob, blob, blob);
    other.close();
    for (let i = 10; i < 20; i++) exp.logMetric('a', i);
    for (let i = 0; i < 10; i++) exp.logMetric('b', i);
    await exp.flush();
    exp.logMetric('b', 10);
    exp.logParam('after', true);
    await exp.close();
    expect(exp.stats().rejectedPoints).toBe(20);
    expect(w.list.map((x) => x.code)).toEqual(['STORAGE_ERROR']);
    expect(w.list[0]!.message).toContain('the store rejected a batch, which was dropped');
    const read = store.getExperiment(exp.id);
    expect(read.status).toBe('completed');
    expect(Array.from(read.getMetric('b').steps)).toEqual([10]);
    expect(read.getParams()).toEqual({ after: true });
  });
});

describe('rejections belong to the experiment whose batch was rejected', () => {
  it('another experiment flushing first neither takes the report nor the count', async () => {
    const { store, path } = tempStore();
    const wa = warnings();
    const wb = warnings();
    const a = store.createExperiment({ name: 'a', onWarning: wa.onWarning });
    const b = store.createExperiment({ name: 'b', onWarning: wb.onWarning });
    b.logMetric('x', 0);
    await b.flush();
    const other = new Database(path);
    const series = other.prepare("SELECT id FROM series WHERE name = 'x'").pluck().get() as number;
    const blob = Buffer.from(new Float64Array([1]).buffer);
    other
      .prepare('INSERT INTO metric_chunks (series_id, first_step, last_step, count, steps, vals, timestamps) VALUES (?, 1, 1, 1, ?, ?, ?)')
      .run(series, blob, blob, blob);
    other.close();
    for (let i = 1; i <= 10; i++) b.logMetric('x', i); // this batch conflicts with the other writer's chunk
    const flushB = b.flush();
    a.logMetric('y', 1);
    await a.flush();
    await flushB;
    await a.close();
    await b.close();
    expect(a.stats().rejectedPoints).toBe(0);
    expect(wa.list).toEqual([]);
    expect(b.stats().rejectedPoints).toBe(10);
    expect(wb.list.map((x) => x.code)).toEqual(['STORAGE_ERROR']);
  });
});

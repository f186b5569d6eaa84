import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { MAX_BUFFERED_POINTS } from '../src/index.js';
import { loadArrow } from '../src/media/table.js';
import { tempStore, warnings } from './helpers.js';

describe('when logging outpaces a healthy store', () => {
  it('log calls wait for the writer (counted, warned once) and nothing is dropped', async () => {
    const { store } = tempStore();
    const w = warnings();
    /** However slow this thread is against the writer's, logging this much cannot fail to outpace it. */
    const cap = 16 * MAX_BUFFERED_POINTS;
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', onWarning: w.onWarning, limits: { maxMetricValues: cap } });
    await loadArrow();
    // The writer first gets one 80 MB table to hash and write, a head start for the loop below.
    const columns = Object.fromEntries(
      Array.from({ length: 100 }, (_, c) => [`c${c}`, Float64Array.from({ length: 100_000 }, (_, i) => i * c + Math.random())]),
    );
    exp.logTable('big', pl.DataFrame(columns));
    // Meanwhile a synchronous loop that never yields logs as fast as it can: at least twice the buffer, and on
    // until a log call has waited for the writer (a condition, not a guess at the two threads' speeds).
    let points = 0;
    while (points < 2 * MAX_BUFFERED_POINTS || (exp.stats().backpressureWaits === 0 && points < cap)) {
      for (let k = 0; k < 65_536; k++, points++) exp.logMetric(`s${points % 4}`, points);
    }
    const stats = exp.stats();
    expect(stats.droppedPoints).toBe(0);
    expect(stats.backpressureWaits).toBeGreaterThan(0);
    expect(stats.backpressureMs).toBeGreaterThan(0);
    expect(stats.pendingPoints).toBeLessThanOrEqual(MAX_BUFFERED_POINTS + 16_384);
    expect(w.list.filter((x) => x.code === 'BACKPRESSURE')).toHaveLength(1);
    await exp.close();
    const read = store.getExperiment(exp.id);
    expect(read.listSeries().reduce((n, s) => n + s.count, 0)).toBe(points);
    expect(read.listTables().map((t) => [t.name, t.rows, t.columns])).toEqual([['big', 100_000, 100]]);
    const s3 = read.getMetric('s3');
    expect(s3.values[s3.values.length - 1]).toBe(points - 1);
  });
});

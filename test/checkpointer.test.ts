// WAL checkpoints: the logging connections leave the WAL alone; the writer thread copies it into the database file.

import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tempStore } from './helpers.js';

describe('WAL checkpoints', () => {
  it('are done by the writer thread on its own: flushed points wait in the WAL, then reach the database file', async () => {
    const { store, path } = tempStore();
    const probe = new Database(path, { readonly: true });
    const exp = store.createExperiment({ name: 'e', limits: { maxMetricValues: 1_000_000 } });
    // A read transaction from before the points keeps any checkpoint from copying them (whenever the
    // writer's timer fires), so what follows the flush is seen as it is, not as it happens to be.
    probe.exec('BEGIN');
    expect(probe.prepare('SELECT count(*) FROM metric_chunks').pluck().get()).toBe(0);
    for (let i = 0; i < 900_000; i++) exp.logMetric('m', i);
    await exp.flush();
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(5_000_000); // the points are in the WAL, not in the database file
    expect(statSync(path).size).toBeLessThan(1_000_000);
    probe.exec('COMMIT');
    // Nothing in this thread checkpoints, and nothing more is logged: the worker copies the WAL into the file.
    await expect.poll(() => statSync(path).size, { timeout: 20_000, interval: 50 }).toBeGreaterThan(5_000_000);
    expect(probe.prepare('SELECT count(*) FROM metric_chunks').pluck().get()).toBeGreaterThan(0);
    probe.close();
  });
});

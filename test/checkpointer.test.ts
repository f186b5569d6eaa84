import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CHECKPOINT_INTERVAL_MS } from '../src/store/sqlite/writer-thread.js';
import { tempStore } from './helpers.js';

describe('WAL checkpoints', () => {
  it('are off on the logging connection and done by the writer thread', async () => {
    const { store, path } = tempStore();
    const probe = new Database(path, { readonly: true });
    const exp = store.createExperiment({ name: 'e', limits: { maxMetricValues: 1_000_000 } });
    for (let i = 0; i < 900_000; i++) exp.logMetric('m', i);
    await exp.flush();
    const walBytes = statSync(`${path}-wal`).size;
    const dbBytesBefore = statSync(path).size;
    expect(walBytes).toBeGreaterThan(5_000_000); // the points are in the WAL, not yet in the database file
    expect(dbBytesBefore).toBeLessThan(1_000_000);
    await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_INTERVAL_MS * 2.5));
    // Nothing in this thread checkpointed: the worker copied the WAL into the database file.
    expect(statSync(path).size).toBeGreaterThan(5_000_000);
    expect(probe.prepare('SELECT count(*) FROM metric_chunks').pluck().get()).toBeGreaterThan(0);
    probe.close();
  });
});

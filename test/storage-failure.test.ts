import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { FLUSH_AT_POINTS, MAX_BUFFERED_POINTS } from '../src/index.js';
import { join } from 'node:path';
import { openStore } from '../src/index.js';
import { runFixture, tempDir, tempStore, warnings } from './helpers.js';

describe('when the store refuses writes', () => {
  it('holds batches up to the hard cap, drops and counts the rest, and writes the held ones once it can', async () => {
    const { store, path } = tempStore();
    const w = warnings();
    const exp = store.createExperiment({
      name: 'e',
      errorHandler: 'WARN',
      onWarning: w.onWarning,
      limits: { maxMetricValues: 10_000_000 },
    });
    const lock = new Database(path);
    lock.exec('BEGIN IMMEDIATE'); // another process holds the write lock
    const total = MAX_BUFFERED_POINTS + 3 * FLUSH_AT_POINTS;
    try {
      for (let i = 0; i < total; i++) exp.logMetric('m', i);
      // The writer holds MAX_BUFFERED_POINTS; the experiment's buffer one batch more.
      const held = MAX_BUFFERED_POINTS + FLUSH_AT_POINTS;
      const stats = exp.stats();
      expect(stats.pendingPoints).toBe(held);
      expect(stats.droppedPoints).toBe(total - held);
      expect(w.list.map((x) => x.code)).toEqual(['STORAGE_ERROR']);
      // WARN reports the first error only: the store's refusal, which says why.
      expect(w.list[0]!.message).toContain('database is locked');
      expect(exp.stats().lastError?.message).toContain(`past the cap of ${MAX_BUFFERED_POINTS} held in memory, 'm' was dropped`);
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    await exp.close();
    const { values, steps } = store.getExperiment(exp.id).getMetric('m');
    // What was held is all there, in order, with no gap; only the newest points past the cap are gone.
    const held = MAX_BUFFERED_POINTS + FLUSH_AT_POINTS;
    expect(values.length).toBe(held);
    expect(steps[held - 1]).toBe(held - 1);
    expect(values[12_345]).toBe(12_345);
  });

  it('close() reports the error when the store stays locked, and leaves the data in memory for the exit hook', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logMetric('m', 1);
    const lock = new Database(path);
    lock.exec('BEGIN IMMEDIATE');
    try {
      await expect(exp.close()).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    expect(exp.stats().pendingPoints).toBe(1);
  });

  it('the exit hook writes what close() could not, and records the status close() asked for', async () => {
    const path = join(tempDir(), 'lablog.db');
    const child = await runFixture('log-then-end.ts', [path, 'locked-close']);
    expect(child.code).toBe(0);
    expect(child.stdout).toContain('closed with 2000 points pending');
    const id = /^id (\S+)$/m.exec(child.stdout)![1]!;
    const reader = openStore({ path });
    const exp = reader.getExperiment(id);
    expect(exp.status).toBe('failed');
    expect(exp.getMetric('a').values.length).toBe(1000);
    await reader.close();
  });
});

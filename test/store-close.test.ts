// store.close() after an experiment's close() ran out of time: it finishes that close (data, status, fsync)
// before closing the connection, so the run is recorded 'completed', not left 'running' or 'crashed'.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { tempDir, warnings } from './helpers.js';

describe('store.close()', () => {
  it("records the status of an experiment whose close() ran out of time while another connection held the store's write lock", async () => {
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    const w = warnings();
    const exp = store.createExperiment({ name: 'slow-disk', onWarning: w.onWarning });
    for (let i = 0; i < 1_000; i++) exp.logMetric('m', i);

    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE'); // the writer thread's commits now wait (and retry) behind this lock
    await exp.close();
    // close() said it could not finish (the store refused its writes); nothing of it is in the store yet.
    expect(w.list.map((x) => x.code)).toContain('STORAGE_ERROR');
    const peek = new Database(path, { readonly: true });
    expect(peek.prepare('SELECT status FROM experiments WHERE id = ?').get(exp.id)).toEqual({ status: 'running' });
    peek.close();

    const closing = store.close();
    holder.exec('ROLLBACK');
    holder.close();
    await closing;

    const read = openStore({ path });
    const back = read.getExperiment(exp.id);
    expect(back.status).toBe('completed');
    expect(back.getMetric('m').values.length).toBe(1_000);
    await read.close();
  }, 60_000);
});

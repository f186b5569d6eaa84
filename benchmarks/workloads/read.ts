// Read: one 100,000-point series from a store opened anew, against row-by-row reads of a plain table.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from 'lablog';
import { log, median, report, tempDir } from '../measure.js';

const POINTS = 100_000;
const REPS = 9;
const { dir, remove } = tempDir();
const storePath = join(dir, 'lablog.db');
const plainPath = join(dir, 'plain.db');

// The same points in both: lablog, and a plain (series, step, ts, value) table with an index.
const writer = openStore({ path: storePath });
const exp = writer.createExperiment({ name: 'read', limits: { maxMetricValues: 10 * POINTS } });
for (let i = 0; i < POINTS; i++) {
  exp.logMetric('val/loss', Math.exp(-i / 1e4));
  exp.logMetric('other', i);
}
await exp.close();
await writer.close();
const plain = new Database(plainPath);
plain.pragma('journal_mode = WAL');
plain.exec('CREATE TABLE points (series TEXT NOT NULL, step INTEGER NOT NULL, ts REAL NOT NULL, value REAL NOT NULL)');
plain.exec('CREATE INDEX points_series_step ON points (series, step)');
const insert = plain.prepare('INSERT INTO points VALUES (?, ?, ?, ?)');
plain.transaction(() => {
  for (let i = 0; i < POINTS; i++) {
    insert.run('val/loss', i, Date.now(), Math.exp(-i / 1e4));
    insert.run('other', i, Date.now(), i);
  }
})();
plain.close();

function readLablog(): number {
  const t0 = performance.now();
  const store = openStore({ path: storePath });
  const data = store.getExperiment('read').getMetric('val/loss');
  const t = performance.now() - t0;
  if (data.values.length !== POINTS || data.values[POINTS - 1] !== Math.exp(-(POINTS - 1) / 1e4)) throw new Error('lablog read wrong data');
  void store.close();
  return t;
}

function readRows(): number {
  const t0 = performance.now();
  const db = new Database(plainPath, { readonly: true });
  const steps: number[] = [];
  const values: number[] = [];
  const timestamps: number[] = [];
  for (const row of db.prepare('SELECT step, ts, value FROM points WHERE series = ? ORDER BY step').iterate('val/loss') as Iterable<{
    step: number;
    ts: number;
    value: number;
  }>) {
    steps.push(row.step);
    values.push(row.value);
    timestamps.push(row.ts);
  }
  const t = performance.now() - t0;
  if (values.length !== POINTS) throw new Error('baseline read wrong data');
  db.close();
  return t;
}

log(`${REPS} alternating reads each`);
readLablog();
readRows();
const lablogMs: number[] = [];
const rowsMs: number[] = [];
for (let r = 0; r < REPS; r++) {
  lablogMs.push(readLablog());
  rowsMs.push(readRows());
}
remove();
report({ points: POINTS, lablog: { ms: median(lablogMs) }, rowByRow: { ms: median(rowsMs) } });

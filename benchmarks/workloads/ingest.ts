// Ingest: 1,000,000 metric points over 10 series, lablog against four baselines, in one process.

import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from 'lablog';
import { log, median, repeat, report } from '../measure.js';

const require = createRequire(import.meta.url);
const pino = require('pino') as typeof import('pino').default;

const POINTS = 1_000_000;
const SERIES = 10;
const NAMES = Array.from({ length: SERIES }, (_, i) => `train/metric_${i}`);
const value = (i: number) => Math.sin(i) * 100;

function openPlain(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE points (series TEXT NOT NULL, step INTEGER NOT NULL, ts REAL NOT NULL, value REAL NOT NULL)');
  return db;
}

/** lablog: from the first logMetric to close() returning with everything on disk. */
async function lablog(dir: string): Promise<number> {
  const store = openStore({ path: join(dir, 'lablog.db') });
  const exp = store.createExperiment({ name: 'ingest', limits: { maxMetricValues: 2 * POINTS } });
  const t0 = performance.now();
  for (let i = 0; i < POINTS; i++) exp.logMetric(NAMES[i % SERIES]!, value(i));
  await exp.close();
  const t = performance.now() - t0;
  await store.close();
  return t;
}

/** (a) one autocommit INSERT per point, as a naive tracker does. */
function autocommit(dir: string, points: number): number {
  const db = openPlain(join(dir, 'a.db'));
  const insert = db.prepare('INSERT INTO points VALUES (?, ?, ?, ?)');
  const t0 = performance.now();
  for (let i = 0; i < points; i++) insert.run(NAMES[i % SERIES], Math.floor(i / SERIES), Date.now(), value(i));
  const t = performance.now() - t0;
  db.close();
  return t;
}

/** (b) a prepared INSERT in transactions of 10,000 rows. */
function prepared(dir: string): number {
  const db = openPlain(join(dir, 'b.db'));
  const insert = db.prepare('INSERT INTO points VALUES (?, ?, ?, ?)');
  const batch = db.transaction((start: number) => {
    for (let i = start; i < start + 10_000; i++) insert.run(NAMES[i % SERIES], Math.floor(i / SERIES), Date.now(), value(i));
  });
  const t0 = performance.now();
  for (let start = 0; start < POINTS; start += 10_000) batch(start);
  const t = performance.now() - t0;
  db.close();
  return t;
}

/** (c) 500-row multi-VALUES INSERTs, 20 per transaction: the raw bulk-insert limit of SQLite from Node. */
function multiValues(dir: string): number {
  const db = openPlain(join(dir, 'c.db'));
  const insert = db.prepare(`INSERT INTO points VALUES ${Array.from({ length: 500 }, () => '(?, ?, ?, ?)').join(', ')}`);
  const args: unknown[] = new Array(2000);
  const batch = db.transaction((start: number) => {
    for (let s = start; s < start + 10_000; s += 500) {
      for (let j = 0; j < 500; j++) {
        const i = s + j;
        args[4 * j] = NAMES[i % SERIES];
        args[4 * j + 1] = Math.floor(i / SERIES);
        args[4 * j + 2] = Date.now();
        args[4 * j + 3] = value(i);
      }
      insert.run(...args);
    }
  });
  const t0 = performance.now();
  for (let start = 0; start < POINTS; start += 10_000) batch(start);
  const t = performance.now() - t0;
  db.close();
  return t;
}

/** (d) pino writing the same points as JSON lines to a file (async destination), flushed at the end. */
async function pinoLines(dir: string): Promise<number> {
  const dest = pino.destination({ dest: join(dir, 'points.jsonl'), sync: false, minLength: 4096 });
  await once(dest, 'ready');
  const logger = pino({ base: null, timestamp: pino.stdTimeFunctions.epochTime }, dest);
  const t0 = performance.now();
  for (let i = 0; i < POINTS; i++) logger.info({ series: NAMES[i % SERIES], step: Math.floor(i / SERIES), value: value(i) });
  dest.flushSync();
  const t = performance.now() - t0;
  dest.end();
  return t;
}

const AUTOCOMMIT_POINTS = 200_000;
log('lablog ×5');
const lablogMs = await repeat(5, lablog);
log('(b) prepared ×3, (c) multi-VALUES ×3, (d) pino ×3');
const preparedMs = await repeat(3, prepared);
const multiMs = await repeat(3, multiValues);
const pinoMs = await repeat(3, pinoLines);
log(`(a) autocommit ×1 on ${AUTOCOMMIT_POINTS} points`);
const autoMs = await repeat(1, (dir) => autocommit(dir, AUTOCOMMIT_POINTS));

const rate = (ms: number, points = POINTS) => points / (ms / 1000);
report({
  points: POINTS,
  series: SERIES,
  lablog: { ms: median(lablogMs), pointsPerSecond: rate(median(lablogMs)), runs: lablogMs },
  autocommit: { ms: median(autoMs), pointsPerSecond: rate(median(autoMs), AUTOCOMMIT_POINTS), points: AUTOCOMMIT_POINTS },
  preparedTransactions: { ms: median(preparedMs), pointsPerSecond: rate(median(preparedMs)) },
  multiValues: { ms: median(multiMs), pointsPerSecond: rate(median(multiMs)) },
  pino: { ms: median(pinoMs), pointsPerSecond: rate(median(pinoMs)) },
});

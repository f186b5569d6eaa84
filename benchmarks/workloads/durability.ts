// Durability: 100 processes logging at full speed, each SIGKILLed at a random moment; and close() with a full buffer
// (durable: data and status fsynced) against flush() of the same points (committed, not fsynced).

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore } from 'lablog';
import { log, median, report, tempDir } from '../measure.js';

const KILLS = Number(process.env['LABLOG_BENCH_KILLS'] ?? 100);
const probe = fileURLToPath(new URL('./crash-child.mjs', import.meta.url));
const { dir, remove } = tempDir();

async function killOnce(run: number) {
  const path = join(dir, `crash-${run}.db`);
  const child = spawn(process.execPath, [probe, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let flushed = -1;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      for (const m of output.matchAll(/flushed (\d+)/g)) flushed = Math.max(flushed, Number(m[1]));
      if (flushed >= 0) resolve();
    });
    child.on('exit', (code) => reject(new Error(`crash probe exited (${code}) before logging`)));
  });
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
  const acknowledged = flushed;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;

  const db = new Database(path, { readonly: true });
  const integrity = db.pragma('integrity_check', { simple: true });
  db.close();
  const store = openStore({ path });
  const exp = store.getExperiment('crash');
  const a = exp.getMetric('a');
  const b = exp.getMetric('b');
  let contiguous = a.values.length === b.values.length;
  for (let i = 0; contiguous && i < a.values.length; i++) contiguous = a.steps[i] === i && a.values[i] === i && b.values[i] === -i;
  const status = exp.status;
  await store.close();
  return {
    integrity: integrity === 'ok',
    contiguous,
    stored: a.values.length,
    acknowledged,
    keptAcknowledged: a.values.length >= acknowledged,
    crashed: status === 'crashed',
  };
}

log(`${KILLS} SIGKILLed writers`);
const runs = [];
for (let i = 0; i < KILLS; i++) runs.push(await killOnce(i));

// close() with a full buffer: 1,000,000 points logged, then close, which resolves once data and status are
// fsynced. Baseline: the same points, then flush(), which resolves once they are committed (not fsynced).
async function fullBuffer(r: number, end: 'close' | 'flush'): Promise<number> {
  const store = openStore({ path: join(dir, `${end}-${r}.db`) });
  const exp = store.createExperiment({ name: end, limits: { maxMetricValues: 1_000_000 } });
  for (let i = 0; i < 1_000_000; i++) exp.logMetric(`s${i % 10}`, i);
  const t0 = performance.now();
  if (end === 'close') await exp.close();
  else await exp.flush();
  const ms = performance.now() - t0;
  await store.close();
  return ms;
}
const closeMs: number[] = [];
const flushMs: number[] = [];
for (let r = 0; r < 3; r++) {
  closeMs.push(await fullBuffer(r, 'close'));
  flushMs.push(await fullBuffer(r, 'flush'));
}
remove();
report({
  kills: KILLS,
  integrityOk: runs.filter((r) => r.integrity).length,
  contiguous: runs.filter((r) => r.contiguous).length,
  keptAcknowledged: runs.filter((r) => r.keptAcknowledged).length,
  shownCrashed: runs.filter((r) => r.crashed).length,
  medianStoredPoints: median(runs.map((r) => r.stored)),
  closeMs: median(closeMs),
  closeRuns: closeMs,
  flushMs: median(flushMs),
  flushRuns: flushMs,
});

// Sync: 1M points over 10 series published to a SQLite-backed `lablog server` on loopback, against the
// same points POSTed as plain JSON arrays in one request to the same server.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from 'lablog';
import { publishStore } from 'lablog/sync';
import { log, median, report, tempDir } from '../measure.js';

const POINTS = 1_000_000;
const SERIES = 10;
const REPS = 3;
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SERVER_ARGS = ['--limit', `maxMetricValues=${10 * POINTS}`, '--body-limit', String(1024 ** 3), '--rate-limit', '100000'];

const { dir, remove } = tempDir();
const storePath = join(dir, 'lablog.db');
const store = openStore({ path: storePath });
const exp = store.createExperiment({ name: 'sync', limits: { maxMetricValues: 2 * POINTS } });
for (let i = 0; i < POINTS / SERIES; i++) for (let s = 0; s < SERIES; s++) exp.logMetric(`series/${s}`, Math.sin(i * 0.001 + s));
await exp.close();
const local = Array.from({ length: SERIES }, (_, s) => exp.getMetric(`series/${s}`));
await store.close();

async function startServer(db: string): Promise<{ url: string; child: ChildProcess; key: string }> {
  const keys = spawnSync(process.execPath, [CLI, 'keys', 'create', '--project', 'default', '--db', db], { encoding: 'utf8' });
  if (keys.status !== 0) throw new Error(keys.stderr);
  const child = spawn(process.execPath, [CLI, 'server', '--port', '0', '--db', db, ...SERVER_ARGS], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { url, child, key: keys.stdout.trim() };
}

async function storedPoints(url: string, key: string, id: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/experiments/${id}`, { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json()) as { series: { count: number }[] };
  return body.series.reduce((n, s) => n + s.count, 0);
}

const lablogMs: number[] = [];
const jsonMs: number[] = [];
for (let rep = 0; rep < REPS; rep++) {
  const server = await startServer(join(dir, `server-${rep}.db`));
  try {
    // lablog: the publisher, from the local store, as `lablog sync` runs it.
    let t0 = performance.now();
    const result = await publishStore({ storePath, remote: { url: server.url, apiKey: server.key } });
    lablogMs.push(performance.now() - t0);
    if (result.accepted !== POINTS || result.problems.length > 0)
      throw new Error(`publish stored ${result.accepted}: ${JSON.stringify(result.problems)}`);
    if ((await storedPoints(server.url, server.key, exp.id)) !== POINTS) throw new Error('server holds a wrong count');

    // Baseline: the same points as plain JSON arrays in a single request, into a new experiment.
    const id = randomUUID();
    const headers = { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' };
    await fetch(`${server.url}/api/v1/experiments/${id}`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ project: 'default', name: 'json', status: 'completed', createdAt: Date.now(), tags: [], params: [] }),
    });
    t0 = performance.now();
    const body = JSON.stringify({
      metrics: local.map((data, s) => ({
        name: `series/${s}`,
        after: null,
        steps: Array.from(data.steps),
        values: Array.from(data.values),
        timestamps: Array.from(data.timestamps),
      })),
    });
    const res = await fetch(`${server.url}/api/v1/experiments/${id}/ingest`, { method: 'POST', headers, body });
    const answer = (await res.json()) as { accepted: number };
    jsonMs.push(performance.now() - t0);
    if (answer.accepted !== POINTS) throw new Error(`plain JSON stored ${answer.accepted}`);
  } finally {
    server.child.kill();
  }
}
remove();
const lablogPps = POINTS / (median(lablogMs) / 1000);
const jsonPps = POINTS / (median(jsonMs) / 1000);
log(`sync: lablog ${lablogMs.map((t) => t.toFixed(0)).join(', ')} ms; plain JSON ${jsonMs.map((t) => t.toFixed(0)).join(', ')} ms`);
report({
  points: POINTS,
  lablog: { ms: median(lablogMs), pointsPerSecond: lablogPps, runs: lablogMs },
  plainJson: { ms: median(jsonMs), pointsPerSecond: jsonPps, runs: jsonMs },
});

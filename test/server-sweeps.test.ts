// Sweeps through the team server, with real server processes and real worker processes: workers on their own stores share one sweep (no trial given twice, maxTrials kept), the server killed while they ask loses and duplicates nothing, an ask whose answer is lost gets its trial again, and every write route is scoped to the key's projects.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import type { TrialRecord } from '../src/model/sweep.js';
import { tempDir } from './helpers.js';
import { TS_FIXTURES } from './support/runs.js';
import { SERVER_DATABASES, api, createKey, killServer, startServer, type ServerProcess } from './support/server-process.js';
import { waitFor } from './support/wait-for.js';
import { answerLosingProxy } from './support/http-proxies.js';

const WORKER = join(TS_FIXTURES, 'remote-sweep-worker.ts');

const SPACE = { x: { type: 'float', min: -5, max: 5 }, k: { type: 'int', min: 1, max: 4 } } as const;

function startWorker(sweepId: string, remote: { url: string; apiKey: string }, env: Record<string, string>) {
  const path = join(tempDir(), 'worker.db');
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, path, sweepId], {
    env: { ...process.env, LABLOG_REMOTE: remote.url, LABLOG_API_KEY: remote.apiKey, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, path, exited, output: () => ({ stdout, stderr }) };
}

async function serverTrials(server: { url: string }, key: string, sweepId: string): Promise<TrialRecord[]> {
  const got = await api(server, key, 'GET', `/api/v1/sweeps/${sweepId}/trial-records`);
  expect(got.status).toBe(200);
  return got.data.trials as TrialRecord[];
}

async function createRemoteSweep(server: ServerProcess, key: string, name: string, maxTrials: number, extra: object = {}) {
  const store = openStore({ path: join(tempDir(), 'creator.db') });
  try {
    const sweep = await store.remoteSweeps({ remote: server.url, apiKey: key }).create({
      name,
      project: 'mnist',
      metric: 'loss',
      space: SPACE,
      sampler: { type: 'tpe', seed: 3, startupTrials: 4 },
      maxTrials,
      ...extra,
    });
    return sweep.id;
  } finally {
    await store.close();
  }
}

describe.each(SERVER_DATABASES)('sweeps through a $kind server', ({ create }) => {
  it('three worker processes on their own stores share one sweep: each trial given once, maxTrials kept, every trial in the study', async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const server = await startServer(db);
    const id = await createRemoteSweep(server, key, 'shared', 15, { pruner: { type: 'median', warmupSteps: 1, startupTrials: 3 } });
    const start = join(tempDir(), 'start');
    const workers = [0, 1, 2].map(() =>
      startWorker(id, { url: server.url, apiKey: key }, { SWEEP_PARALLEL: '2', SWEEP_START_FILE: start, SWEEP_TRIAL_MS: '90' }),
    );
    await waitFor('every worker ready', () => workers.every((w) => w.output().stdout.includes('ready')), 30_000);
    writeFileSync(start, '');
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes, JSON.stringify(workers.map((w) => w.output().stderr))).toEqual([0, 0, 0]);

    const trials = await serverTrials(server, key, id);
    expect(trials.map((t) => t.number)).toEqual([...Array(15).keys()]);
    expect(trials.every((t) => t.retryOf === null)).toBe(true);
    for (const t of trials) expect(['completed', 'pruned']).toContain(t.status);
    // Each trial ran once, in one worker: the trial numbers the workers printed are the server's, none twice.
    const started = workers.flatMap((w) => [...w.output().stdout.matchAll(/start (\d+) (\d+)/g)].map((m) => Number(m[1])));
    expect(started.sort((a, b) => a - b)).toEqual([...Array(15).keys()]);
    expect(new Set(trials.map((t) => t.worker!.pid)).size).toBeGreaterThan(1);
    // Reports came through (the pruner's input), and the sweep ended.
    expect(trials.every((t) => t.reports.length > 0)).toBe(true);
    const detail = await api(server, key, 'GET', `/api/v1/sweeps/${id}`);
    expect(detail.data.sweep.status).toBe('finished');
    const best = Math.min(...trials.filter((t) => t.status === 'completed').map((t) => t.value!));
    expect(detail.data.best.value).toBe(best);
    // Every trial's experiment is on the server, in the project, and a member of the sweep's study.
    const study = await api(server, key, 'GET', `/api/v1/studies/${id}`);
    const members = new Set((study.data.members as { experimentId: string }[]).map((m) => m.experimentId));
    for (const t of trials) {
      expect(t.experimentId, `trial ${t.number}: ${JSON.stringify(workers.map((w) => w.output().stderr))}`).not.toBeNull();
      expect(members.has(t.experimentId!)).toBe(true);
      const experiment = await api(server, key, 'GET', `/api/v1/experiments/${t.experimentId}`);
      expect(experiment.status).toBe(200);
      expect(experiment.data.project ?? experiment.data.experiment?.project).toBe('mnist');
    }
  }, 120_000);

  it('the server SIGKILLed while workers ask and tell: after its restart no trial is lost, duplicated or failed', async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    let server = await startServer(db);
    const id = await createRemoteSweep(server, key, 'outage', 16);
    const workers = [0, 1].map(() => startWorker(id, { url: server.url, apiKey: key }, { SWEEP_PARALLEL: '2', SWEEP_TRIAL_MS: '150' }));
    await waitFor(
      'four trials completed',
      async () => (await serverTrials(server, key, id)).filter((t) => t.status === 'completed').length >= 4,
      60_000,
    );
    await killServer(server);
    // Down long enough for asks, reports and tells to fail and be retried.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    server = await startServer(db, { port: server.port });
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes, JSON.stringify(workers.map((w) => w.output().stderr))).toEqual([0, 0]);

    const trials = await serverTrials(server, key, id);
    expect(trials.map((t) => t.number)).toEqual([...Array(16).keys()]);
    expect(trials.map((t) => t.status)).toEqual(Array(16).fill('completed'));
    const started = workers.flatMap((w) => [...w.output().stdout.matchAll(/start (\d+) (\d+)/g)].map((m) => Number(m[1])));
    expect(started.sort((a, b) => a - b)).toEqual([...Array(16).keys()]);
    expect((await api(server, key, 'GET', `/api/v1/sweeps/${id}`)).data.sweep.status).toBe('finished');
  }, 120_000);

  it('an ask whose answer is lost is sent again with its token and gets the same trial', async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const server = await startServer(db);
    const id = await createRemoteSweep(server, key, 'lossy', 3);
    const proxy = await answerLosingProxy(server.url, (method, path) => method === 'POST' && /\/ask$/.test(path));
    const store = openStore({ path: join(tempDir(), 'worker.db') });
    try {
      const sweep = await store.remoteSweeps({ remote: proxy.url, apiKey: key }).get(id);
      const result = await sweep.optimize(async (trial) => (trial.params['x'] as number) ** 2);
      expect(proxy.lost()).toBe(1);
      expect(result.ran).toEqual({ completed: 3, pruned: 0, failed: 0, stopped: 0 });
      // Without the token the lost trial would stay 'running' and a fourth be numbered.
      const trials = await serverTrials(server, key, id);
      expect(trials.map((t) => [t.number, t.status])).toEqual([
        [0, 'completed'],
        [1, 'completed'],
        [2, 'completed'],
      ]);
    } finally {
      await store.close();
      await proxy.close();
    }
  }, 60_000);

  it("scopes every sweep write route to the key's projects, and refuses bad bodies with the rule", async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const other = await createKey(db, 'other');
    const server = await startServer(db);
    const id = await createRemoteSweep(server, key, 'scoped', 4);
    const worker = { host: 'h', pid: 1 };
    const asked = await api(server, key, 'POST', `/api/v1/sweeps/${id}/ask`, { worker });
    expect(asked.data.outcome).toMatchObject({ kind: 'trial', trial: { number: 0 } });

    // Another project's key: every route answers as for a missing sweep, and nothing changes.
    const routes: [string, string, unknown][] = [
      ['GET', `/api/v1/sweeps/${id}/trial-records`, undefined],
      ['POST', `/api/v1/sweeps/${id}/ask`, { worker }],
      ['POST', `/api/v1/sweeps/${id}/status`, { status: 'stopped' }],
      ['PUT', `/api/v1/sweeps/${id}/trials/0/experiment`, { experimentId: id }],
      ['POST', `/api/v1/sweeps/${id}/trials/0/report`, { step: 1, value: 1 }],
      ['POST', `/api/v1/sweeps/${id}/trials/0/heartbeat`, {}],
      ['POST', `/api/v1/sweeps/${id}/trials/0/finish`, { outcome: { status: 'completed', value: 1, error: null } }],
      ['POST', `/api/v1/sweeps/${id}/trials/0/stop`, {}],
      ['POST', `/api/v1/sweeps/${id}/trials/0/restart`, {}],
    ];
    for (const [method, path, body] of routes) {
      const got = await api(server, other, method, path, body);
      expect([path, got.status, got.data.error]).toEqual([path, 404, 'SWEEP_NOT_FOUND']);
    }
    const created = await api(server, other, 'POST', '/api/v1/sweeps', { name: 'x', project: 'mnist', metric: 'loss', space: SPACE });
    expect([created.status, created.data.error]).toEqual([403, 'FORBIDDEN']);
    const trials = await serverTrials(server, key, id);
    expect(trials.map((t) => [t.number, t.status, t.reports.length])).toEqual([[0, 'running', 0]]);
    expect((await api(server, key, 'GET', `/api/v1/sweeps/${id}`)).data.sweep.status).toBe('running');

    // An experiment of another project cannot be linked into this sweep's study.
    const foreign = openStore({ path: join(tempDir(), 'foreign.db') });
    try {
      const exp = foreign.createExperiment({ name: 'theirs', project: 'other' });
      await exp.close();
      const report = await foreign.publish({ remote: server.url, apiKey: other });
      expect(report.problems).toEqual([]);
      const linked = await api(server, key, 'PUT', `/api/v1/sweeps/${id}/trials/0/experiment`, { experimentId: exp.id });
      expect([linked.status, linked.data.error]).toEqual([403, 'FORBIDDEN']);
      // One not on the server yet is not linked (the worker links it again later).
      const early = await api(server, key, 'PUT', `/api/v1/sweeps/${id}/trials/0/experiment`, { experimentId: crypto.randomUUID() });
      expect([early.status, early.data.linked]).toEqual([200, false]);
    } finally {
      await foreign.close();
    }

    // Bad bodies: the rule and the value.
    const bad: [string, unknown, RegExp][] = [
      [`/api/v1/sweeps/${id}/ask`, { worker: { host: '', pid: 1 } }, /worker\.host must be a non-empty string/],
      [`/api/v1/sweeps/${id}/ask`, { worker, token: 'not-a-uuid' }, /token must be a UUID/],
      [`/api/v1/sweeps/${id}/trials/0/report`, { step: -1, value: 1 }, /step must be an integer >= 0, got number -1/],
      [`/api/v1/sweeps/${id}/trials/0/finish`, { outcome: { status: 'won', value: 1, error: null } }, /outcome\.status must be one of/],
      [
        `/api/v1/sweeps/${id}/trials/0/finish`,
        { outcome: { status: 'completed', value: null, error: null } },
        /must be a finite number for a 'completed' trial/,
      ],
      [`/api/v1/sweeps/${id}/status`, { status: 'created' }, /status must be one of running, finished/],
      [`/api/v1/sweeps/${id}/trials/x1/report`, { step: 1, value: 1 }, /trial number must be an integer >= 0/],
    ];
    for (const [path, body, message] of bad) {
      const got = await api(server, key, 'POST', path, body);
      expect([path, got.status, got.data.error]).toEqual([path, 400, 'INVALID_OPTION']);
      expect(got.data.message).toMatch(message);
    }
    const missing = await api(server, key, 'POST', `/api/v1/sweeps/${id}/trials/9/report`, { step: 1, value: 1 });
    expect([missing.status, missing.data.error]).toEqual([404, 'TRIAL_NOT_FOUND']);

    // Stop and restart: an ended trial cannot be stopped; a restart sent twice gives one re-run.
    expect((await api(server, key, 'POST', `/api/v1/sweeps/${id}/trials/0/stop`, {})).data.trial.status).toBe('stopped');
    const again = await api(server, key, 'POST', `/api/v1/sweeps/${id}/trials/0/stop`, {});
    expect([again.status, again.data.error]).toEqual([400, 'INVALID_OPTION']);
    const restarted = await api(server, key, 'POST', `/api/v1/sweeps/${id}/trials/0/restart`, {});
    const twice = await api(server, key, 'POST', `/api/v1/sweeps/${id}/trials/0/restart`, {});
    expect([restarted.status, twice.status]).toEqual([201, 200]);
    expect(twice.data.trial).toEqual(restarted.data.trial);
    expect((await serverTrials(server, key, id)).map((t) => [t.number, t.status, t.retryOf])).toEqual([
      [0, 'stopped', null],
      [1, 'pending', 0],
    ]);
    // A tell sent again reads as told.
    await api(server, key, 'POST', `/api/v1/sweeps/${id}/ask`, { worker });
    const tell = { outcome: { status: 'completed', value: 0.5, error: null } };
    const told = await api(server, key, 'POST', `/api/v1/sweeps/${id}/trials/1/finish`, tell);
    const retold = await api(server, key, 'POST', `/api/v1/sweeps/${id}/trials/1/finish`, tell);
    expect([told.data.ended, retold.data.ended]).toEqual([true, true]);
  }, 60_000);
});

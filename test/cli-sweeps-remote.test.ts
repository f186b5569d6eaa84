// The sweep commands with --remote, against a real `lablog server`: create there, two `lablog sweep run --remote` processes on their own stores sharing one sweep, show / ls / trials, trial stop (its run cancelled) and restart, and another project's key refused.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../src/model/run.js';
import type { TrialRecord } from '../src/model/sweep.js';
import { tempDir, waitForExit } from './helpers.js';
import { TS_FIXTURES } from './support/runs.js';
import { SERVER_DATABASES, api, createKey, runCli, startCli, startServer, type ServerProcess } from './support/server-process.js';
import { waitFor } from './support/wait-for.js';

/** The trial script: reads $LABLOG_PARAMS, logs 'loss' = x + 1/(epoch+1) for 6 epochs of $SWEEP_EPOCH_MS each. */
const TRIAL = [process.execPath, '--import', 'tsx', join(TS_FIXTURES, 'sweep-trial.ts')];

async function serverTrials(server: ServerProcess, key: string, sweepId: string): Promise<TrialRecord[]> {
  const got = await api(server, key, 'GET', `/api/v1/sweeps/${sweepId}/trial-records`);
  expect(got.status).toBe(200);
  return got.data.trials as TrialRecord[];
}

async function serverRun(server: ServerProcess, key: string, id: string): Promise<RunRecord | undefined> {
  const got = await api(server, key, 'GET', `/api/v1/runs/${id}`);
  return got.status === 200 ? (got.data.run as RunRecord) : undefined;
}

/** `lablog sweep create --remote` from a config file; returns the sweep's id as printed. */
async function createSweep(server: ServerProcess, key: string, config: object): Promise<string> {
  const dir = tempDir();
  const file = join(dir, 'sweep.json');
  writeFileSync(file, JSON.stringify(config));
  const created = await runCli([
    'sweep',
    'create',
    '--config',
    file,
    '--remote',
    server.url,
    '--api-key',
    key,
    '--store',
    join(dir, 'c.db'),
  ]);
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  const match = /^Created sweep ([0-9a-f-]{36}) \(([^)]+)\) on (\S+): (.*)\n$/.exec(created.stdout);
  expect(match, created.stdout).not.toBeNull();
  expect(match![2]).toBe(`mnist/${(config as { name: string }).name}`);
  expect(match![3]).toBe(server.url);
  return match![1]!;
}

describe.each(SERVER_DATABASES)('lablog sweep --remote on a $kind server', ({ create }) => {
  it('two `sweep run --remote` processes share one sweep: 6 distinct trials, each a run and experiment on the server in the study; show, ls, trials, restart', async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const server = await startServer(db);
    const id = await createSweep(server, key, {
      name: 'shared',
      project: 'mnist',
      metric: 'loss',
      space: { x: { type: 'float', min: 0, max: 0.25 } },
      sampler: { type: 'random', seed: 7 },
      maxTrials: 6,
    });
    const remote = ['--remote', server.url, '--api-key', key];
    // The reading commands open a store of their own too (a remote sweep is worked on from one).
    const tool = [...remote, '--store', join(tempDir(), 'tool.db')];
    // The sweep is on the server, not in the creator's store.
    expect((await api(server, key, 'GET', `/api/v1/sweeps/${id}`)).data.sweep.name).toBe('shared');

    const stores = [join(tempDir(), 'a.db'), join(tempDir(), 'b.db')];
    const runs = await Promise.all(
      stores.map((store) =>
        runCli(['sweep', 'run', 'shared', ...remote, '--store', store, '--parallel', '2', '--', ...TRIAL], { SWEEP_EPOCH_MS: '150' }),
      ),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    // Each process says what it ran; together they ran the 6 trials, none twice.
    const ranCounts = runs.map((r) => Number(/This run: (\d+) completed\. Sweep (?:running|finished)\./.exec(r.stdout)?.[1] ?? NaN));
    expect(ranCounts[0]! + ranCounts[1]!, runs.map((r) => r.stdout).join('\n')).toBe(6);
    for (const r of runs)
      expect(r.stderr).toMatch(new RegExp(`^lablog: sweep ${id} \\(mnist/shared\\) on ${server.url}: running trials of: `));

    const trials = await serverTrials(server, key, id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(trials.map((t) => t.status)).toEqual(Array(6).fill('completed'));
    expect(new Set(trials.map((t) => t.params['x'])).size).toBe(6);
    expect(new Set(trials.map((t) => t.worker!.pid)).size).toBe(2);
    const study = await api(server, key, 'GET', `/api/v1/studies/${id}`);
    const members = new Set((study.data.members as { experimentId: string }[]).map((m) => m.experimentId));
    for (const t of trials) {
      // The trial's value is the last loss its run logged: x + 1/6.
      expect(t.value).toBeCloseTo((t.params['x'] as number) + 1 / 6, 12);
      expect(t.experimentId, `trial ${t.number}`).not.toBeNull();
      const run = await serverRun(server, key, t.experimentId!);
      expect(run?.status, `trial ${t.number}'s run`).toBe('completed');
      expect(run!.project).toBe('mnist');
      expect((await api(server, key, 'GET', `/api/v1/experiments/${t.experimentId}`)).status).toBe(200);
      expect(members.has(t.experimentId!)).toBe(true);
    }

    const best = trials.reduce((a, b) => (b.value! < a.value! ? b : a));
    const show = await runCli(['sweep', 'show', 'shared', ...tool]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`Sweep shared (${id}), project mnist: finished`);
    expect(show.stdout).toContain('  trials:    6 of 6 (6 completed)');
    expect(show.stdout).toContain(`Best: trial ${best.number}, loss = ${String(Number(best.value!.toPrecision(6)))}`);
    expect(show.stdout).toMatch(/History \(best so far\): #0 /);

    const ls = await runCli(['sweep', 'ls', ...tool]);
    expect(ls.stdout).toMatch(
      new RegExp(`${id}\\s+mnist\\s+shared\\s+finished\\s+minimize loss\\s+6\\s+${Number(best.value!.toPrecision(6))}`),
    );

    const completed = await runCli(['trials', 'shared', '--status', 'completed', ...tool]);
    const rows = completed.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^TRIAL\s+STATUS\s+VALUE\s+X\s+DURATION\s+RERUN OF\s+ERROR$/);
    expect(rows.slice(1).map((r) => r.trim().split(/\s+/)[0])).toEqual(['0', '1', '2', '3', '4', '5']);
    const none = await runCli(['trials', id, '--status', 'failed,stopped', ...tool]);
    expect(none.stdout).toBe("No trials in sweep 'shared'.\n");

    // A restart queues a re-run on the server; the next `sweep run --remote` runs it (and only it).
    const restart = await runCli(['trial', 'restart', 'shared', '2', ...tool]);
    expect(restart.stdout).toBe(
      'Trial 2 of sweep shared will run again as trial 6 (same params) at the next lablog sweep run or optimize().\n',
    );
    const queued = (await serverTrials(server, key, id)).find((t) => t.number === 6);
    expect(queued).toMatchObject({ status: 'pending', retryOf: 2, params: trials[2]!.params });
    const again = await runCli(['sweep', 'run', id, ...remote, '--store', stores[0]!, '--', ...TRIAL], { SWEEP_EPOCH_MS: '10' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('This run: 1 completed.');
    const rerun = (await serverTrials(server, key, id)).find((t) => t.number === 6)!;
    expect(rerun.status).toBe('completed');
    expect(rerun.value).toBe(trials[2]!.value);
  }, 180_000);

  it('`trial stop --remote` on a running trial cancels its run on the worker: the run ends cancelled, the trial stopped', async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const server = await startServer(db);
    const id = await createSweep(server, key, {
      name: 'slow',
      project: 'mnist',
      metric: 'loss',
      space: { x: { type: 'float', min: 0, max: 0.25 } },
      sampler: { type: 'random', seed: 1 },
      maxTrials: 1,
    });
    const remote = ['--remote', server.url, '--api-key', key];
    // Each epoch 5 s: the trial's run is still running when it is stopped.
    const worker = startCli(['sweep', 'run', 'slow', ...remote, '--store', join(tempDir(), 'w.db'), '--', ...TRIAL], {
      SWEEP_EPOCH_MS: '5000',
    });
    const exited = waitForExit(worker);
    const running = (await waitFor(
      'trial 0 running, its run on the server',
      async () => {
        const t = (await serverTrials(server, key, id)).find((x) => x.number === 0);
        if (t?.status !== 'running' || t.experimentId === null) return undefined;
        return (await serverRun(server, key, t.experimentId))?.status === 'running' ? t : undefined;
      },
      60_000,
    ))!;
    const stop = await runCli(['trial', 'stop', 'slow', '0', ...remote, '--store', join(tempDir(), 'tool.db')]);
    expect(stop.stderr).toBe('');
    expect(stop.stdout).toBe('Stopped trial 0 of sweep slow.\n');
    const ended = await exited;
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).toContain('This run: 1 stopped.');
    const trial = (await serverTrials(server, key, id)).find((t) => t.number === 0)!;
    expect(trial.status).toBe('stopped');
    expect(trial.experimentId).toBe(running.experimentId);
    const run = (await waitFor(
      'the run cancelled on the server',
      async () => {
        const r = await serverRun(server, key, running.experimentId!);
        return r?.status === 'cancelled' ? r : undefined;
      },
      30_000,
    ))!;
    expect(run.status).toBe('cancelled');
  }, 120_000);

  it("another project's key gets 'not found' for the sweep, with exit code 1 and the server named; a bad --remote use is refused", async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const other = await createKey(db, 'other');
    const server = await startServer(db);
    const id = await createSweep(server, key, {
      name: 'private',
      project: 'mnist',
      metric: 'loss',
      space: { x: { type: 'float', min: 0, max: 1 } },
      maxTrials: 2,
    });
    const store = join(tempDir(), 'o.db');
    for (const args of [
      ['sweep', 'show', id],
      ['trials', id],
      ['trial', 'stop', id, '0'],
      ['sweep', 'run', id, '--', ...TRIAL],
    ]) {
      const where = ['--remote', server.url, '--api-key', other, '--store', store];
      const refused = await runCli(
        args[0] === 'sweep' && args[1] === 'run' ? [...args.slice(0, 3), ...where, ...args.slice(3)] : [...args, ...where],
      );
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toBe(`lablog: no sweep with id or name '${id}' on ${server.url} [SWEEP_NOT_FOUND]\n`);
    }
    expect((await runCli(['sweep', 'ls', '--remote', server.url, '--api-key', other, '--store', store])).stdout).toBe(
      `No sweeps in ${server.url}.\n`,
    );
    // The sweep is untouched: no trial was asked by the refused `sweep run`.
    expect(await serverTrials(server, key, id)).toEqual([]);

    const noKey = await runCli(['sweep', 'show', id, '--remote', server.url, '--store', store], { LABLOG_API_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toBe(`lablog: --remote ${server.url} needs --api-key <key> (or $LABLOG_API_KEY) [INVALID_OPTION]\n`);
    const keyAlone = await runCli(['sweep', 'show', id, '--api-key', key, '--store', store]);
    expect(keyAlone.stderr).toBe('lablog: --api-key is the key of a --remote server: pass --remote <url> too [INVALID_OPTION]\n');
    // $LABLOG_REMOTE alone leaves the command local.
    const local = await runCli(['sweep', 'show', id, '--store', store], { LABLOG_REMOTE: server.url, LABLOG_API_KEY: key });
    expect(local.code).toBe(1);
    expect(local.stderr).toMatch(new RegExp(`^lablog: no sweep with id or name '${id}' in .*o\\.db \\[SWEEP_NOT_FOUND\\]\\n$`));
  }, 120_000);
});

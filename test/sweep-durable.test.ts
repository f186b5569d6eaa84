// Sweeps across processes: a worker SIGKILLed mid-trial leaves a trial that the next optimize marks failed and re-runs once; several worker processes on one store share a sweep without giving a trial twice or passing maxTrials.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { tempDir } from './helpers.js';
import { TS_FIXTURES } from './support/runs.js';
import { waitFor } from './support/wait-for.js';

const WORKER = join(TS_FIXTURES, 'sweep-worker.ts');

function startWorker(path: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, path], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('durable sweeps', () => {
  it('resumes after its worker is SIGKILLed mid-trial: finished trials kept, the running one failed and re-run once', async () => {
    const path = join(tempDir(), 'lablog.db');
    const worker = startWorker(path, { SWEEP_TRIAL_MS: '400', SWEEP_MAX_TRIALS: '6' });
    // Kill it while its third trial runs.
    await waitFor('the third trial to start', () => worker.output().stdout.includes('start 2 '), 30_000);
    worker.child.kill('SIGKILL');
    await worker.exited;

    const store = openStore({ path });
    try {
      const sweep = store.getSweep('shared', { project: 'p' });
      const before = sweep.trials();
      expect(before.map((t) => t.status)).toEqual(['completed', 'completed', 'running']);
      const finished = before.filter((t) => t.status === 'completed').map((t) => ({ number: t.number, params: t.params, value: t.value }));

      const result = await sweep.optimize(async (trial) => (trial.params['x'] as number) ** 2);
      expect(result.recovered).toBe(1);
      const after = sweep.trials();
      // The finished trials are untouched; trial 2 failed (worker died) and trial 3 re-ran its params.
      expect(after.slice(0, 2).map((t) => ({ number: t.number, params: t.params, value: t.value }))).toEqual(finished);
      expect(after[2]).toMatchObject({ status: 'failed', error: expect.stringMatching(/its worker \(pid \d+ on .+\) died while it ran/) });
      expect(after[3]).toMatchObject({ status: 'completed', retryOf: 2, params: after[2]!.params });
      // maxTrials counts first runs only: 6 of them, plus the re-run.
      expect(after.filter((t) => t.retryOf === null)).toHaveLength(6);
      expect(after).toHaveLength(7);
      expect(sweep.status).toBe('finished');
      // Its experiment shows the worker crashed.
      expect(store.getExperiment(after[2]!.experimentId!).status).toBe('crashed');
    } finally {
      await store.close();
    }
  }, 60_000);

  it('three worker processes share one sweep: every trial given once, maxTrials never passed', async () => {
    const path = join(tempDir(), 'lablog.db');
    // Create the sweep first, so the workers race only for trials.
    const store = openStore({ path });
    store.createSweep({
      name: 'shared',
      project: 'p',
      metric: 'loss',
      space: { x: { type: 'float', min: -5, max: 5 }, k: { type: 'int', min: 1, max: 4 } },
      sampler: { type: 'tpe', seed: 1 },
      maxTrials: 20,
    });
    await store.close();
    const start = join(tempDir(), 'start');
    const workers = [0, 1, 2].map(() =>
      startWorker(path, { SWEEP_TRIAL_MS: '60', SWEEP_MAX_TRIALS: '20', SWEEP_PARALLEL: '2', SWEEP_START_FILE: start }),
    );
    await waitFor('every worker to be ready', () => workers.every((w) => w.output().stdout.includes('ready')), 30_000);
    writeFileSync(start, '');
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes, workers.map((w) => w.output().stderr).join('\n')).toEqual([0, 0, 0]);

    const s = openStore({ path });
    try {
      const sweep = s.getSweep('shared');
      const trials = sweep.trials();
      expect(trials).toHaveLength(20);
      expect(trials.map((t) => t.number)).toEqual([...Array(20).keys()]);
      expect(trials.every((t) => t.status === 'completed')).toBe(true);
      // Each trial started exactly once, across the three workers' output; more than one worker took part.
      const starts = workers.flatMap((w) =>
        [...w.output().stdout.matchAll(/start (\d+) (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const),
      );
      expect(starts.map(([n]) => n).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
      expect(new Set(starts.map(([, pid]) => pid)).size).toBeGreaterThan(1);
      expect(new Set(trials.map((t) => t.experimentId)).size).toBe(20);
      expect(sweep.status).toBe('finished');
    } finally {
      await s.close();
    }
  }, 90_000);
});

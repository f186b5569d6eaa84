// Grid launches: every combination a run of a new grid_search study, at most `parallel` at once, a summary table; bad grids refused.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LablogError, openStore, type RunRecord } from '../src/index.js';
import { tempDir } from './helpers.js';
import { TS_FIXTURES, tsFixture } from './support/runs.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** The most runs whose [timeStarted, timeCompleted] intervals overlap at one moment. */
function maxOverlap(records: readonly RunRecord[]): number {
  const events = records.flatMap((r) => [
    [r.timeStarted!, 1],
    [r.timeCompleted!, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let most = 0;
  for (const [, d] of events) most = Math.max(most, (now += d!));
  return most;
}

describe('store.launchGrid', () => {
  it('launches every combination as a run of a grid_search study, at most `parallel` at a time', async () => {
    const store = openStore({ path: join(tempDir(), 'lablog.db') });
    try {
      const grid = store.launchGrid({
        ...tsFixture('grid-trial.ts'),
        project: 'mnist',
        name: 'lr-grid',
        grid: { lr: [0.1, 0.01], batch: [32, 64, 128] },
        params: { epochs: 1 },
        parallel: 2,
        metric: 'loss',
        env: { GRID_TRIAL_MS: '600' },
      });
      const entries = await grid.wait();
      expect(entries.map((e) => e.params)).toEqual([
        { epochs: 1, lr: 0.1, batch: 32 },
        { epochs: 1, lr: 0.1, batch: 64 },
        { epochs: 1, lr: 0.1, batch: 128 },
        { epochs: 1, lr: 0.01, batch: 32 },
        { epochs: 1, lr: 0.01, batch: 64 },
        { epochs: 1, lr: 0.01, batch: 128 },
      ]);
      const records = entries.map((e) => e.run!);
      expect(records.map((r) => r.status)).toEqual(Array(6).fill('completed'));
      expect(records.map((r) => r.name)).toEqual(['lr-grid-1', 'lr-grid-2', 'lr-grid-3', 'lr-grid-4', 'lr-grid-5', 'lr-grid-6']);
      expect(maxOverlap(records)).toBe(2);
      // Each run's params were logged before it started, and its script attached to it.
      for (const e of entries) {
        const exp = store.getExperiment(e.run!.id);
        expect(exp.getParams()).toEqual(e.params);
        expect(exp.getMetric('loss').values).toHaveLength(1);
      }
      const study = store.getStudy('lr-grid', { project: 'mnist' });
      expect(study.id).toBe(grid.study.id);
      expect(
        study
          .experiments()
          .map((x) => x.id)
          .sort(),
      ).toEqual(records.map((r) => r.id).sort());
      const plan = study.plan();
      expect(plan).toMatchObject({ template: 'grid_search', metric: 'loss', objective: 'minimize' });
      expect(plan.runs).toHaveLength(6);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('cancel() launches no more combinations and cancels the runs in flight', async () => {
    const store = openStore({ path: join(tempDir(), 'lablog.db') });
    try {
      const grid = store.launchGrid({
        ...tsFixture('grid-trial.ts'),
        grid: { lr: [0.1, 0.01, 0.001], batch: [1] },
        parallel: 1,
        grace: 2_000,
        env: { GRID_TRIAL_MS: '60000' },
      });
      // Wait for the first run to be running, then cancel.
      const deadline = Date.now() + 20_000;
      while (grid.runs()[0]?.status !== 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      grid.cancel();
      const entries = await grid.wait();
      expect(entries[0]!.run!.status).toBe('cancelled');
      expect(entries.slice(1).map((e) => e.run)).toEqual([null, null]);
      expect(store.listRuns()).toHaveLength(1);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('refuses a bad grid before creating the study or launching anything', async () => {
    const store = openStore({ path: join(tempDir(), 'lablog.db') });
    try {
      const refused = (options: Parameters<typeof store.launchGrid>[0]) => {
        try {
          store.launchGrid(options);
        } catch (error) {
          expect(error).toBeInstanceOf(LablogError);
          return error as LablogError;
        }
        throw new Error('launchGrid accepted a bad grid');
      };
      const base = { command: process.execPath };
      expect(refused({ ...base, grid: {} }).message).toMatch(/grid must be an object .* at least one param/);
      expect(refused({ ...base, grid: { lr: [] } }).message).toMatch(/grid\.lr must be a non-empty array/);
      expect(refused({ ...base, grid: { lr: [1] }, parallel: 0 }).message).toMatch(
        /parallel must be an integer from 1 to 64, got number 0/,
      );
      expect(refused({ ...base, grid: { lr: [1] }, params: { lr: 2 } }).message).toMatch(/'lr' is both in grid and in params/);
      expect(refused({ ...base, grid: { lr: [1] }, timeout: 49 * 3_600_000 }).code).toBe('INVALID_OPTION');
      expect(refused({ ...base, grid: { 'bad\nkey': [1] } }).code).toBe('INVALID_NAME');
      expect(refused({ ...base, grid: { lr: [1] }, objective: 'minimize' }).message).toMatch(/objective needs metric/);
      // Every run joins the study, which holds at most 1,000 experiments.
      const wide = { a: Array.from({ length: 1001 }, (_, i) => i) };
      expect(refused({ ...base, grid: wide }).message).toMatch(
        /the grid has 1001 combinations; the limit is 1000 \(a study's experiments\)/,
      );
      expect(store.listStudies()).toHaveLength(0);
      expect(store.listRuns()).toHaveLength(0);
    } finally {
      await store.close();
    }
  });
});

describe('lablog run --grid', () => {
  it('launches the combinations, prints a summary table with the best marked, and exits non-zero when one failed', () => {
    const path = join(tempDir(), 'lablog.db');
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'run',
        '--store',
        path,
        '--project',
        'mnist',
        '--name',
        'sweep',
        '--grid',
        'lr=0.1,0.01',
        '--grid',
        'batch=32,64',
        '--param',
        'fail=true',
        '--parallel',
        '2',
        '--metric',
        'loss',
        '--',
        process.execPath,
        '--import',
        'tsx',
        join(TS_FIXTURES, 'grid-trial.ts'),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.stderr).toMatch(/lablog: study [0-9a-f-]{36} \(mnist\/sweep\): 4 runs, 2 at a time/);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^#\s+NAME\s+LR\s+BATCH\s+STATUS\s+DURATION\s+EXIT\s+loss$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 5))).toEqual([
      ['1', 'sweep-1', '0.1', '32', 'failed'],
      ['2', 'sweep-2', '0.1', '64', 'failed'],
      ['3', 'sweep-3', '0.01', '32', 'completed'],
      ['4', 'sweep-4', '0.01', '64', 'completed'],
    ]);
    // loss = |log10(lr) + 2| + batch/1000: the best is lr=0.01, batch=32.
    expect(lines[3]).toMatch(/0\.032 \*$/);
    expect(lines[4]).toMatch(/0\.064$/);
    expect(result.status).toBe(3);
  }, 90_000);

  it('refuses --parallel without --grid and a malformed --grid', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', CLI, 'run', '--store', join(tempDir(), 'l.db'), ...args], { encoding: 'utf8' });
    const noGrid = run(['--parallel', '2', '--', process.execPath, '-e', '0']);
    expect(noGrid.status).not.toBe(0);
    expect(noGrid.stderr).toContain('--parallel needs --grid');
    const malformed = run(['--grid', 'lr', '--', process.execPath, '-e', '0']);
    expect(malformed.status).not.toBe(0);
    expect(malformed.stderr).toContain("--grid: expected key=value1,value2,…, got 'lr'");
  });
});

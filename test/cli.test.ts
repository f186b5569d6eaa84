import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/index.js';
import { renderExperiment, metricGoal } from '../src/cli/show.js';
import { formatNumber } from '../src/cli/format.js';
import { solidPng, tempDir } from './helpers.js';
import pl from 'nodejs-polars';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function lablog(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function fill(path: string) {
  const store = openStore({ path });
  const exp = store.createExperiment({ name: 'mnist-cnn', project: 'mnist', tags: ['cnn'] });
  exp.logParams({ learning_rate: 0.001, batch_size: 64, optimizer: 'adam' });
  for (let i = 0; i < 250; i++) exp.logMetric('train/loss', 2 / (i + 1));
  for (let i = 0; i < 10; i++) exp.logMetric('val/acc', [0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.92, 0.91, 0.94, 0.935][i]!);
  await exp.logImage('val/samples', await solidPng(3, 3), { step: 4 });
  exp.logPlot('val/roc', { data: [] });
  exp.logTable('leaderboard', pl.DataFrame({ a: [1, 2, 3], b: ['x', 'y', 'z'] }));
  await exp.close();
  const other = store.createExperiment({ name: 'other', project: 'cifar' });
  other.logMetric('loss', 1);
  await other.close({ status: 'failed' });
  await store.close();
  return exp.id;
}

describe('lablog ls', () => {
  it('lists experiments with status and counts', async () => {
    const path = join(tempDir(), 'lablog.db');
    const id = await fill(path);
    const { code, stdout } = lablog(['ls', '--store', path]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^ID\s+PROJECT\s+NAME\s+STATUS\s+PROGRESS\s+STARTED\s+DURATION\s+PARAMS\s+METRICS\s+VALUES\s+IMAGES\s+PLOTS\s+TABLES$/,
    );
    const row = lines.find((l) => l.startsWith(id.slice(0, 8)))!;
    expect(row.split(/\s{2,}/)).toEqual([
      id.slice(0, 8),
      'mnist',
      'mnist-cnn',
      'completed',
      '-',
      expect.any(String),
      expect.any(String),
      '3',
      '2',
      '260',
      '1',
      '1',
      '1',
    ]);
    expect(lines.some((l) => /\sother\s+failed\s/.test(l))).toBe(true);
    expect(lines.at(-1)).toBe(`2 experiments in ${path}`);
  });

  it('filters by project and status, and says when nothing matches', async () => {
    const path = join(tempDir(), 'lablog.db');
    await fill(path);
    const mnist = lablog(['ls', '--project', 'mnist', '--store', path]);
    expect(mnist.stdout).toContain('mnist-cnn');
    expect(mnist.stdout).not.toContain('other');
    expect(lablog(['ls', '--status', 'failed', '--store', path]).stdout).not.toContain('mnist-cnn');
    expect(lablog(['ls', '--project', 'none', '--store', path]).stdout.trim()).toBe(`No experiments in project 'none' in ${path}.`);
    const bad = lablog(['ls', '--status', 'done', '--store', path]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Allowed choices are running, completed, failed, cancelled, crashed');
  });

  it('uses $LABLOG_DIR when no --store is given', async () => {
    const dir = tempDir();
    await fill(join(dir, 'lablog.db'));
    const { stdout } = lablog(['ls'], { LABLOG_DIR: dir });
    expect(stdout).toContain('mnist-cnn');
    expect(lablog(['where'], { LABLOG_DIR: dir }).stdout.trim()).toBe(join(dir, 'lablog.db'));
  });
});

describe('lablog show', () => {
  it('prints params and, per metric series, count, last and best value', async () => {
    const path = join(tempDir(), 'lablog.db');
    const id = await fill(path);
    for (const ref of [id, 'mnist-cnn']) {
      const { code, stdout } = lablog(['show', ref, '--store', path]);
      expect(code).toBe(0);
      expect(stdout).toContain(`id          ${id}`);
      expect(stdout).toContain('status      completed');
      expect(stdout).toMatch(/^ {2}learning_rate\s+0\.001$/m);
      expect(stdout).toMatch(/^ {2}optimizer\s+adam$/m);
      expect(stdout).toMatch(/^ {2}train\/loss\s+250\s+249\s+0\.008\s+0\.008 \(min\)$/m);
      expect(stdout).toMatch(/^ {2}val\/acc\s+10\s+9\s+0\.935\s+0\.94 \(max\)$/m);
      expect(stdout).toMatch(/^ {2}val\/samples\s+1\s+4…4$/m);
      expect(stdout).toMatch(/^ {2}leaderboard\s+3\s+2$/m);
    }
  });

  it('exits 1 with the error code when the experiment does not exist', async () => {
    const path = join(tempDir(), 'lablog.db');
    await fill(path);
    const { code, stderr } = lablog(['show', 'nope', '--store', path]);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(`lablog: no experiment with id or name 'nope' in ${path} [EXPERIMENT_NOT_FOUND]`);
  });

  it('renders NaN and infinities visibly', async () => {
    const store = openStore({ path: join(tempDir(), 'lablog.db') });
    const exp = store.createExperiment({ name: 'diverged' });
    for (const value of [1, Infinity, NaN]) exp.logMetric('loss', value);
    for (const value of [0.5, Infinity]) exp.logMetric('val/acc', value);
    exp.logMetric('reward', -Infinity);
    await exp.close();
    const text = renderExperiment(store.getExperiment(exp.id));
    // NaN last (its best ignores it), +Infinity last and best, -Infinity last and best: each spelled out.
    expect(text).toMatch(/^ {2}loss\s+3\s+2\s+NaN\s+1 \(min\)$/m);
    expect(text).toMatch(/^ {2}val\/acc\s+2\s+1\s+Infinity\s+Infinity \(max\)$/m);
    expect(text).toMatch(/^ {2}reward\s+1\s+0\s+-Infinity\s+-Infinity \(max\)$/m);
    await store.close();
  });
});

describe('formatting', () => {
  it('guesses the goal of a metric from its name', () => {
    expect(['train/loss', 'val_error', 'rmse', 'perplexity'].map((name) => metricGoal(name))).toEqual(['min', 'min', 'min', 'min']);
    expect(['val/acc', 'f1', 'auc', 'reward'].map((name) => metricGoal(name))).toEqual(['max', 'max', 'max', 'max']);
  });

  it('formats numbers in at most 6 significant digits', () => {
    expect([0.123456789, 12, 1e-7, 1234567890.5, 123456789012, -Infinity, NaN, null].map(formatNumber)).toEqual([
      '0.123457',
      '12',
      '1e-7',
      '1234570000',
      '123456789012',
      '-Infinity',
      'NaN',
      '-',
    ]);
  });
});

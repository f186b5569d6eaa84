// The study commands, run as the lablog CLI: lablog studies, lablog study show, lablog compare.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/index.js';
import { readFileSync } from 'node:fs';
import pl from 'nodejs-polars';
import { tempDir } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function lablog(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function fill(path: string) {
  const store = openStore({ path });
  const study = store.createStudy({
    name: 'lr-sweep',
    hypothesis: 'a larger lr wins',
    tags: ['sweep'],
    baseline: { name: 'paper', metrics: { 'val/loss': 0.35 } },
  });
  store.createStudy({ name: 'empty', project: 'other' });
  const losses: Record<string, number[]> = { '0.1': [0.3, 0.32, 0.31], '0.01': [0.4, 0.38, 0.41] };
  for (const [lr, finals] of Object.entries(losses)) {
    for (const [seed, loss] of finals.entries()) {
      const exp = store.createExperiment({ name: `lr${lr}-s${seed}`, study });
      exp.logParams({ lr: Number(lr), seed });
      exp.logMetric('val/loss', loss);
      exp.logMetric('cost', 2);
      await exp.close();
    }
  }
  await store.close();
}

describe('lablog study commands', () => {
  it('list studies, show one, and compare its experiments', async () => {
    const path = join(tempDir(), 'lablog.db');
    await fill(path);

    const list = lablog(['studies', '--store', path]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/lr-sweep\s+active\s+\S+ \S+\s+6\s+6\s+sweep/);
    expect(list.stdout).toContain('2 of 2 studies');
    expect(lablog(['studies', '--project', 'other', '--store', path]).stdout).not.toContain('lr-sweep');

    const show = lablog(['study', 'show', 'lr-sweep', '--metric', 'val/loss:min', '--store', path]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('hypothesis  a larger lr wins');
    expect(show.stdout).toContain('baseline    paper: val/loss 0.35');
    expect(show.stdout).toContain('experiments 6: 6 completed, 0 running, 0 failed');
    expect(show.stdout).toContain('cost        12');
    expect(show.stdout).toContain('best        lr0.1-s0: val/loss 0.3');

    const compare = lablog(['compare', 'lr-sweep', '--metric', 'val/loss:min', '--store', path]);
    expect(compare.code).toBe(0);
    expect(compare.stdout).toMatch(/1\s+lr0\.1-s0\s+0\.3\s+0\.3/);
    expect(compare.stdout).toMatch(/val\/loss\s+lr=0\.1\s+lr=0\.01\s+-?\d/);
    expect(compare.stdout).toContain('Higher lr correlates with lower val/loss');

    const json = lablog(['compare', 'lr-sweep', '--metric', 'val/loss:min', '--json', '--store', path]);
    const parsed = JSON.parse(json.stdout) as { rankings: Record<string, string[]>; significance: { pValue: number }[] };
    expect(parsed.rankings['val/loss']).toHaveLength(6);
    expect(parsed.significance[0]!.pValue).toBeLessThan(0.01);

    // A bare name takes the goal its name suggests (val/loss: minimize); an empty goal is refused.
    const bare = JSON.parse(lablog(['compare', 'lr-sweep', '--metric', 'val/loss', '--json', '--store', path]).stdout) as {
      rankings: Record<string, string[]>;
    };
    expect(bare.rankings['val/loss']).toEqual(parsed.rankings['val/loss']);
    const bad = lablog(['compare', 'lr-sweep', '--metric', 'val/loss:', '--store', path]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[INVALID_OPTION]');
    const missing = lablog(['study', 'show', 'nope', '--store', path]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('[STUDY_NOT_FOUND]');
  }, 60_000);

  it('exports a study, or one experiment, in each format; the files read back', async () => {
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    await fill(path);
    const csv = lablog(['export', 'lr-sweep', '--format', 'csv', '--out', join(dir, 'out', 'study.csv'), '--store', path]);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toMatch(/^Wrote 6 row\(s\) × \d+ column\(s\) to /);
    const frame = pl.readCSV(readFileSync(join(dir, 'out', 'study.csv'), 'utf8'));
    expect(frame.height).toBe(6);
    const rows = frame.toRecords() as Record<string, unknown>[];
    expect(rows.map((r) => [r['name'], r['param.lr'], r['metric.val/loss.final'], r['study']]).sort()).toEqual([
      ['lr0.01-s0', 0.01, 0.4, 'lr-sweep'],
      ['lr0.01-s1', 0.01, 0.38, 'lr-sweep'],
      ['lr0.01-s2', 0.01, 0.41, 'lr-sweep'],
      ['lr0.1-s0', 0.1, 0.3, 'lr-sweep'],
      ['lr0.1-s1', 0.1, 0.32, 'lr-sweep'],
      ['lr0.1-s2', 0.1, 0.31, 'lr-sweep'],
    ]);
    const series = lablog(['export', 'lr0.1-s0', '--format', 'parquet', '--series', '--out', join(dir, 'one.parquet'), '--store', path]);
    expect(series.code).toBe(0);
    const long = pl.readParquet(join(dir, 'one.parquet')).toRecords() as Record<string, unknown>[];
    expect(long.map((r) => [r['metric'], Number(r['step']), r['value']])).toEqual([
      ['cost', 0, 2],
      ['val/loss', 0, 0.3],
    ]);
    const store = openStore({ path });
    const json = await store.getStudy('lr-sweep').export({ format: 'json', path: join(dir, 'study.json'), include: ['params'] });
    await store.close();
    const parsed = JSON.parse(readFileSync(json.path, 'utf8')) as Record<string, unknown>[];
    expect(parsed).toHaveLength(6);
    expect(Object.keys(parsed[0]!).sort()).toEqual(['id', 'name', 'param.lr', 'param.seed']);
    const bad = lablog(['export', 'lr-sweep', '--format', 'xlsx', '--out', join(dir, 'x'), '--store', path]);
    expect(bad.code).not.toBe(0);
  }, 60_000);

  it('says INSUFFICIENT_RUNS when a study has fewer than two completed experiments', async () => {
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    store.createStudy({ name: 'lonely' });
    await store.close();
    const result = lablog(['compare', 'lonely', '--metric', 'loss:min', '--store', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('needs 2 completed experiments; 0 completed [INSUFFICIENT_RUNS]');
  }, 30_000);
});

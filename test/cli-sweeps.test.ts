// The sweep commands of the CLI: sweep create (config file and flags), sweep run (trials as launched runs), sweep show / ls, trials, trial stop / restart.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { TS_FIXTURES } from './support/runs.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function lablog(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('lablog sweep', () => {
  it('creates a sweep from a config file, runs its trials as launched runs, and shows the best, the history and the trials', () => {
    const dir = tempDir();
    const store = join(dir, 'lablog.db');
    const config = join(dir, 'sweep.json');
    writeFileSync(
      config,
      JSON.stringify({
        name: 'cli-sweep',
        project: 'p',
        metric: 'loss',
        space: { x: { type: 'enum', values: [0.2, 0.1, 0.3] } },
        sampler: { type: 'grid' },
      }),
    );
    const created = lablog(['sweep', 'create', '--config', config, '--store', store]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(
      /^Created sweep [0-9a-f-]{36} \(p\/cli-sweep\): grid sampler, none pruner, minimize loss, at most 100 trials\n$/,
    );

    const ran = lablog(
      ['sweep', 'run', '--store', store, 'cli-sweep', '--', process.execPath, '--import', 'tsx', join(TS_FIXTURES, 'sweep-trial.ts')],
      {
        SWEEP_EPOCH_MS: '10',
      },
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('Sweep cli-sweep');
    expect(ran.stdout).toContain(': no_more_trials');
    // x = 0.3 fails in the fixture; the best is x = 0.1 with loss 0.1 + 1/6.
    expect(ran.stdout).toContain(`Best: trial 1, loss = ${Number((0.1 + 1 / 6).toPrecision(6))}`);
    expect(ran.stdout).toMatch(/History \(best so far\): #0 0\.366667 → #1 0\.266667/);
    expect(ran.stdout).toMatch(/This run: 2 completed, 1 failed\. Sweep no_more_trials\./);

    const trials = lablog(['trials', 'cli-sweep', '--status', 'failed', '--store', store]);
    const rows = trials.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^TRIAL\s+STATUS\s+VALUE\s+X\s+DURATION\s+RERUN OF\s+ERROR$/);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(/^\s*2\s+failed\s+-\s+0\.3\s+.+\s+-\s+the run ended failed \(exit 2\)/);

    const restart = lablog(['trial', 'restart', 'cli-sweep', '2', '--store', store]);
    expect(restart.stdout).toBe(
      'Trial 2 of sweep cli-sweep will run again as trial 3 (same params) at the next lablog sweep run or optimize().\n',
    );
    const stopEnded = lablog(['trial', 'stop', 'cli-sweep', '0', '--store', store]);
    expect(stopEnded.code).toBe(1);
    expect(stopEnded.stderr).toBe('lablog: stopTrial: trial 0 has ended (completed); there is nothing to stop [INVALID_OPTION]\n');
    const stopPending = lablog(['trial', 'stop', 'cli-sweep', '3', '--store', store]);
    expect(stopPending.stdout).toBe('Stopped trial 3 of sweep cli-sweep.\n');

    const ls = lablog(['sweep', 'ls', '--store', store]);
    expect(ls.stdout).toMatch(/cli-sweep\s+running\s+minimize loss\s+4\s+0\.266667/);
  }, 120_000);

  it('refuses a bad space with the rule and the value, and a config that is not JSON', () => {
    const dir = tempDir();
    const bad = lablog([
      'sweep',
      'create',
      '--name',
      's',
      '--metric',
      'loss',
      '--space',
      '{"lr": {"type": "float", "min": 0, "max": 1, "log": true}}',
      '--store',
      join(dir, 'l.db'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'lablog: createSweep: space.lr.min must be > 0 with log: true (a log scale needs a positive range), got number 0 [INVALID_OPTION]\n',
    );
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ name: ');
    const notJson = lablog(['sweep', 'create', '--config', file, '--store', join(dir, 'l.db')]);
    expect(notJson.stderr).toMatch(/^lablog: --config: not valid JSON/);
  });
});

// `lablog show` of job detail: the progress bar and phase, datasets, and for a launched run its launch record and attempts.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function lablog(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('lablog show (job detail)', () => {
  it('prints progress as a bar with its phase, and the datasets', async () => {
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    const exp = store.createExperiment({ name: 'job', project: 'p' });
    exp.setProgress(45, { phase: 'testing' });
    exp.logDataset({ role: 'train', name: 'mnist', id: 'ds-1', rows: 60_000, uri: 's3://b/mnist' });
    await exp.close({ status: 'failed' });
    await store.close();
    const { code, stdout } = lablog(['show', 'job', '--store', path]);
    expect(code).toBe(0);
    expect(stdout).toContain('progress    [#########-----------]   45%  testing');
    expect(stdout).toContain('datasets (1)');
    expect(stdout).toMatch(/^ {2}train\s+mnist\s+ds-1\s+60000\s+-\s+s3:\/\/b\/mnist$/m);
    expect(stdout).not.toContain('attempts');
    const ls = lablog(['ls', '--store', path]);
    expect(ls.stdout).toMatch(/^\S+\s+p\s+job\s+failed\s+45%\s/m);
  });

  it('prints a launched run: command, cwd, host, status, exit code, error and every attempt', async () => {
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    const run = store.launch({
      command: process.execPath,
      args: ['-e', 'console.error("boom"); process.exit(3)'],
      project: 'p',
      name: 'flaky',
      retries: 1,
    });
    const final = await run.wait();
    expect(final.status).toBe('failed');
    await store.close();
    const { code, stdout } = lablog(['show', 'flaky', '--store', path]);
    expect(code).toBe(0);
    expect(stdout).toContain(`  command     ${process.execPath} -e "console.error(\\"boom\\"); process.exit(3)"`);
    expect(stdout).toContain(`  cwd         ${process.cwd()}`);
    expect(stdout).toMatch(/^ {2}status {6}failed {2}\(attempt 2 of 2\)$/m);
    expect(stdout).toMatch(/^ {2}exit code {3}3$/m);
    expect(stdout).toMatch(/^ {2}error {7}.*boom/m);
    expect(stdout).toMatch(/^ {2}logs {8}\d+ bytes kept, 0 lines \(0 bytes\) dropped by the cap$/m);
    expect(stdout).toContain('attempts (2)');
    expect(stdout).toMatch(/^ +1 +failed\s+3\s+-\s+\d{4}-/m);
    expect(stdout).toMatch(/^ +2 +failed\s+3\s+-\s+\d{4}-/m);
  });
});

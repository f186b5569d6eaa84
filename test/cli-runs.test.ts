// The run commands of the CLI: `lablog run` (streams, exit code = the run's, Ctrl-C cancels), `runs`, `logs [--follow]`, `cancel`.

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { tempDir } from './helpers.js';
import { RUN_FIXTURES, readWhenWritten, waitUntil } from './support/runs.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const cliArgs = (args: string[]) => ['--import', 'tsx', CLI, ...args];

function lablog(args: string[]) {
  const result = spawnSync(process.execPath, cliArgs(args), { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Collects a started CLI process's output; resolves at its end. */
function finished(child: ReturnType<typeof spawn>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('lablog run', () => {
  it("streams the child's output, logs typed params, and exits with the run's exit code", async () => {
    const store = join(tempDir(), 'lablog.db');
    const { code, stdout, stderr } = lablog([
      'run',
      '--store',
      store,
      '--project',
      'mnist',
      '--name',
      'lr-sweep',
      '--param',
      'lr=0.01',
      '--param',
      'fast=true',
      '--param',
      'opt=adam',
      '--',
      process.execPath,
      join(RUN_FIXTURES, 'print-and-exit.mjs'),
      '4',
    ]);
    expect(code).toBe(4);
    expect(stdout.split('\n').slice(2, 4)).toEqual(['params={"lr":0.01,"fast":true,"opt":"adam"}', 'extra=']);
    expect(stderr).toContain('err 30\n');
    expect(stderr).toMatch(/lablog: run [0-9a-f-]{36} failed after .+, exit code 4\n$/);
    const s = openStore({ path: store });
    try {
      const [run] = s.listRuns({ project: 'mnist' });
      expect(run).toMatchObject({ name: 'lr-sweep', status: 'failed', exitCode: 4 });
      expect(s.getExperiment(run!.id).getParams()).toEqual({ lr: 0.01, fast: true, opt: 'adam' });
    } finally {
      await s.close();
    }
  });

  it('--timeout: the run is stopped and lablog exits 124; a command not found exits 127', () => {
    const store = join(tempDir(), 'lablog.db');
    const pid = join(tempDir(), 'pid');
    const timedOut = lablog([
      'run',
      '--store',
      store,
      '--timeout',
      '1s',
      '--grace',
      '500ms',
      '--',
      process.execPath,
      join(RUN_FIXTURES, 'ignore-sigterm.mjs'),
      pid,
    ]);
    expect(timedOut.code).toBe(124);
    expect(timedOut.stderr).toMatch(/lablog: run [0-9a-f-]{36} timed_out after /);
    const missing = lablog(['run', '--store', store, '--', 'lablog-no-such-command-xyz']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain("lablog: cannot start 'lablog-no-such-command-xyz': command not found");
  });

  it('refuses bad durations and timeouts over 48 h, naming both numbers', () => {
    const store = join(tempDir(), 'lablog.db');
    const bad = lablog(['run', '--store', store, '--timeout', '3d', '--', 'true']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("lablog: --timeout: expected a duration like 90 (seconds), 30s, 15m, 2h or 1h30m, got '3d' [INVALID_OPTION]\n");
    const over = lablog(['run', '--store', store, '--timeout', '49h', '--', 'true']);
    expect(over.stderr).toBe('lablog: launch: timeout is 176400000 ms; the limit is 172800000 ms (48 h) [INVALID_OPTION]\n');
    const zero = lablog(['run', '--store', store, '--timeout', '0', '--', 'true']);
    expect(zero.stderr).toBe('lablog: launch: timeout must be a number of milliseconds > 0, got number 0 [INVALID_OPTION]\n');
  });

  it('Ctrl-C (SIGINT) cancels the run, which ends cancelled, and lablog exits 130', async () => {
    const store = join(tempDir(), 'lablog.db');
    const pid = join(tempDir(), 'pid');
    const child = spawn(
      process.execPath,
      cliArgs(['run', '--store', store, '--', process.execPath, join(RUN_FIXTURES, 'sleep-forever.mjs'), pid]),
    );
    const done = finished(child);
    await waitUntil('the run started', () => readWhenWritten(pid));
    child.kill('SIGINT');
    const { code, stderr } = await done;
    expect(code).toBe(130);
    expect(stderr).toMatch(/lablog: run [0-9a-f-]{36} cancelled after /);
  });
});

describe('lablog runs, logs, cancel', () => {
  it('runs lists id, name, status, attempt, duration and exit; logs prints lines by stream and tail', async () => {
    const path = join(tempDir(), 'lablog.db');
    const s = openStore({ path });
    const run = s.launch({ command: process.execPath, args: [join(RUN_FIXTURES, 'print-and-exit.mjs'), '2'], project: 'p', name: 'job' });
    await run.wait();
    await s.close();
    const runs = lablog(['runs', '--store', path, '--project', 'p']);
    expect(runs.code).toBe(0);
    const [header, row] = runs.stdout.split('\n');
    expect(header).toMatch(/^ID\s+PROJECT\s+NAME\s+STATUS\s+ATTEMPT\s+DURATION\s+EXIT$/);
    expect(row!.split(/\s{2,}/)).toEqual([run.id, 'p', 'job', 'failed', '1', expect.stringMatching(/ms|s$/), '2']);
    expect(lablog(['runs', '--store', path, '--project', 'none']).stdout).toBe(`No runs in project 'none' in ${path}.\n`);
    const stderr = lablog(['logs', 'job', '--store', path, '--stream', 'stderr', '--tail', '2']);
    expect(stderr.stdout).toBe('err 29\nerr 30\n');
    const all = lablog(['logs', run.id, '--store', path]);
    expect(all.stdout.split('\n')).toHaveLength(36);
  });

  it('logs --follow prints lines as a live run writes them and returns when it ends', async () => {
    const path = join(tempDir(), 'lablog.db');
    const s = openStore({ path });
    const run = s.launch({ command: process.execPath, args: [join(RUN_FIXTURES, 'ticker.mjs'), '20', '100'], name: 'ticker' });
    await waitUntil('the first tick stored', () => run.logs().lines.length > 0);
    const follow = finished(spawn(process.execPath, cliArgs(['logs', 'ticker', '--follow', '--store', path])));
    const { code, stdout } = await follow;
    expect((await run.wait()).status).toBe('completed');
    expect(code).toBe(0);
    expect(stdout).toBe(Array.from({ length: 20 }, (_, i) => `tick ${i + 1}\n`).join(''));
    await s.close();
  });

  it('cancel from the CLI stops a run supervised elsewhere; cancelling it again is RUN_ENDED', async () => {
    const path = join(tempDir(), 'lablog.db');
    const pid = join(tempDir(), 'pid');
    const s = openStore({ path });
    const run = s.launch({ command: process.execPath, args: [join(RUN_FIXTURES, 'sleep-forever.mjs'), pid], name: 'long' });
    await waitUntil('the run started', () => readWhenWritten(pid));
    const cancel = await finished(spawn(process.execPath, cliArgs(['cancel', 'long', '--store', path])));
    expect(cancel).toMatchObject({ code: 0, stdout: `Cancel requested for run ${run.id}; its supervisor stops it within a second.\n` });
    expect((await run.wait()).status).toBe('cancelled');
    const again = await finished(spawn(process.execPath, cliArgs(['cancel', run.id, '--store', path])));
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`lablog: run ${run.id} has ended (cancelled); there is nothing to cancel [RUN_ENDED]\n`);
    await s.close();
  });
});

// Launching runs: the child's environment, typed params, attaching from inside, captured output, outcomes, retries and the handle.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LablogError, MAX_RUN_TIMEOUT_MS } from '../src/index.js';
import { tempDir, tempStore } from './helpers.js';
import { nodeFixture, tsFixture, waitUntil, zombieChildren } from './support/runs.js';

describe('store.launch', () => {
  it('runs a script that never imports lablog: status, exit code, times, every line of both streams, the child environment', async () => {
    const { store, path } = tempStore();
    const run = store.launch({
      ...nodeFixture('print-and-exit.mjs', '0'),
      project: 'mnist',
      name: 'plain',
      params: { lr: 0.01, fast: true, model: 'mlp' },
      env: { RUN_FIXTURE_EXTRA: 'given' },
    });
    expect(run.status).toBe('pending');
    const record = await run.wait();
    expect(record).toMatchObject({
      id: run.id,
      project: 'mnist',
      name: 'plain',
      command: process.execPath,
      status: 'completed',
      attempt: 1,
      exitCode: 0,
      signal: null,
      errorMessage: null,
      success: true,
      supervisorPid: process.pid,
      cwd: process.cwd(),
    });
    expect(record.pid).toBeGreaterThan(0);
    expect(record.timeStarted).toBeGreaterThanOrEqual(record.timeCreated);
    expect(record.timeCompleted).toBeGreaterThanOrEqual(record.timeStarted!);
    const stdout = run.logs({ stream: 'stdout' }).lines.map((l) => l.text);
    expect(stdout).toEqual([
      `store=${path}`,
      `experiment=${run.id}`,
      'params={"lr":0.01,"fast":true,"model":"mlp"}',
      'extra=given',
      'no newline at the end',
    ]);
    const stderr = run.logs({ stream: 'stderr' }).lines;
    expect(stderr.map((l) => l.text)).toEqual(Array.from({ length: 30 }, (_, i) => `err ${i + 1}`));
    expect(stderr.every((l) => l.attempt === 1 && l.timestamp >= record.timeStarted! && l.timestamp <= record.timeCompleted!)).toBe(true);
    const all = run.logs().lines;
    expect(all).toHaveLength(35);
    expect(run.logs({ tail: 2 }).lines).toEqual(all.slice(-2));
    // A run is an experiment, with the launch params logged on it, typed.
    const exp = store.getExperiment(run.id);
    expect([exp.name, exp.project, exp.status]).toEqual(['plain', 'mnist', 'completed']);
    expect(exp.getParams()).toEqual({ lr: 0.01, fast: true, model: 'mlp' });
    expect(run.transitions().map((t) => t.status)).toEqual(['pending', 'running', 'completed']);
  });

  it('a non-zero exit is failed, with the last lines of stderr as errorMessage', async () => {
    const { store } = tempStore();
    const record = await store.launch({ ...nodeFixture('print-and-exit.mjs', '3') }).wait();
    expect(record).toMatchObject({ status: 'failed', exitCode: 3, signal: null, success: false });
    expect(record.errorMessage!.split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `err ${i + 11}`));
    expect(store.getExperiment(record.id).status).toBe('failed');
  });

  it('an uncaught error in the child is failed, its message in errorMessage', async () => {
    const { store } = tempStore();
    const record = await store.launch({ ...nodeFixture('throw-uncaught.mjs') }).wait();
    expect(record).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(record.errorMessage).toContain('Error: the model diverged');
  });

  it('a command that does not exist fails with a clear message, is not retried, and leaves no zombie', async () => {
    const { store } = tempStore();
    const run = store.launch({ command: 'lablog-no-such-command-xyz', args: ['a'], retries: 2 });
    const record = await run.wait();
    expect(record).toMatchObject({ status: 'failed', attempt: 1, pid: null, exitCode: null, success: false });
    expect(record.errorMessage).toBe(
      "cannot start 'lablog-no-such-command-xyz': command not found (spawn lablog-no-such-command-xyz ENOENT)",
    );
    expect(run.attempts().map((a) => [a.attempt, a.status, a.pid])).toEqual([[1, 'failed', null]]);
    // Every process the supervisor started (a watcher of an earlier run, say) is reaped.
    await waitUntil('no zombie children', () => zombieChildren().length === 0, 10_000);
  });

  it('a working directory that does not exist fails with the path in the message', async () => {
    const { store } = tempStore();
    const cwd = join(tempDir(), 'missing');
    const record = await store.launch({ ...nodeFixture('print-and-exit.mjs'), cwd }).wait();
    expect(record).toMatchObject({ status: 'failed', pid: null });
    expect(record.errorMessage).toBe(`cannot start '${process.execPath}': the working directory ${cwd} does not exist`);
  });

  it('retries a failed run as attempts of the same experiment, each with its own exit code, times and lines', async () => {
    const { store } = tempStore();
    const counter = join(tempDir(), 'count');
    const run = store.launch({ ...nodeFixture('fail-then-pass.mjs', counter, '3'), retries: 3, name: 'flaky' });
    const record = await run.wait();
    expect(record).toMatchObject({ status: 'completed', attempt: 3, exitCode: 0, errorMessage: null });
    const attempts = run.attempts();
    expect(attempts.map((a) => [a.attempt, a.status, a.exitCode, a.errorMessage])).toEqual([
      [1, 'failed', 1, 'boom 1'],
      [2, 'failed', 1, 'boom 2'],
      [3, 'completed', 0, null],
    ]);
    for (let i = 1; i < attempts.length; i++) expect(attempts[i]!.timeStarted).toBeGreaterThanOrEqual(attempts[i - 1]!.timeCompleted!);
    expect(new Set(attempts.map((a) => a.pid)).size).toBe(3);
    expect(run.logs().lines.map((l) => `${l.attempt}:${l.text}`)).toEqual([
      '1:launch 1',
      '1:boom 1',
      '2:launch 2',
      '2:boom 2',
      '3:launch 3',
    ]);
    expect(run.transitions().map((t) => `${t.status}@${t.attempt}`)).toEqual([
      'pending@0',
      'running@1',
      'running@2',
      'running@3',
      'completed@3',
    ]);
    expect(store.listExperiments().map((e) => e.name)).toEqual(['flaky']);
  });

  it('stops retrying when the attempts are used up: the last attempt decides', async () => {
    const { store } = tempStore();
    const counter = join(tempDir(), 'count');
    const run = store.launch({ ...nodeFixture('fail-then-pass.mjs', counter, '5'), retries: 1 });
    expect(await run.wait()).toMatchObject({ status: 'failed', attempt: 2, exitCode: 1, errorMessage: 'boom 2' });
  });

  it("inside the child, openStore() opens the run's store and createExperiment attaches to the run's experiment", async () => {
    const { store } = tempStore();
    const run = store.launch({
      ...tsFixture('launched-train.ts'),
      project: 'mnist',
      name: 'lr-sweep',
      params: { lr: 0.5 },
      tags: ['launched'],
    });
    const record = await run.wait();
    expect(record.status).toBe('completed');
    expect(run.logs().lines.map((l) => l.text)).toEqual([`attached=${run.id}`]);
    const all = store.listExperiments();
    expect(all.map((e) => e.id)).toEqual([run.id]);
    const exp = all[0]!;
    expect([exp.name, exp.project]).toEqual(['lr-sweep', 'mnist']);
    expect([...exp.tags].sort()).toEqual(['inside', 'launched']);
    expect(exp.getParams()).toEqual({ lr: 0.5, epochs: 3 });
    expect(Array.from(exp.getMetric('loss').values)).toEqual([0.5, 0.25, 0.5 / 3]);
  });

  it('a retried script attaches to the same experiment and continues from its checkpoint with resumeFrom', async () => {
    const { store } = tempStore();
    const run = store.launch({ ...tsFixture('launched-retry.ts'), retries: 1 });
    expect(await run.wait()).toMatchObject({ status: 'completed', attempt: 2 });
    expect(run.attempts().map((a) => [a.status, a.errorMessage])).toEqual([
      ['failed', 'diverged at step 2'],
      ['completed', null],
    ]);
    const loss = store.getExperiment(run.id).getMetric('loss');
    expect([Array.from(loss.steps), Array.from(loss.values)]).toEqual([
      [0, 1, 2, 3],
      [10, 21, 22, 23],
    ]);
    expect(store.listExperiments()).toHaveLength(1);
  });

  it('store.getRun finds a run by id or name and listRuns lists them newest first by project', async () => {
    const { store } = tempStore();
    const a = store.launch({ ...nodeFixture('print-and-exit.mjs'), project: 'p', name: 'first' });
    await a.wait();
    const b = store.launch({ ...nodeFixture('print-and-exit.mjs', '2'), project: 'p', name: 'second' });
    await b.wait();
    await store.launch({ ...nodeFixture('print-and-exit.mjs'), project: 'q' }).wait();
    await store.createExperiment({ name: 'not-a-run', project: 'p' }).close();
    expect(store.getRun(a.id).record().name).toBe('first');
    expect(store.getRun('second', { project: 'p' }).status).toBe('failed');
    expect(store.listRuns({ project: 'p' }).map((r) => [r.name, r.status])).toEqual([
      ['second', 'failed'],
      ['first', 'completed'],
    ]);
    expect(store.listRuns({ project: 'p', status: 'completed' }).map((r) => r.name)).toEqual(['first']);
    // The limit counts the runs that match, not the runs of the project.
    expect(store.listRuns({ project: 'p', status: ['completed'], limit: 1 }).map((r) => r.name)).toEqual(['first']);
    expect(store.listRuns({ project: 'p', limit: 1 }).map((r) => r.name)).toEqual(['second']);
    const missing = (() => {
      try {
        store.getRun('not-a-run');
      } catch (error) {
        return error as LablogError;
      }
    })();
    expect(missing).toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('refuses bad timeouts and options with INVALID_OPTION, naming the limit and the value', () => {
    const { store } = tempStore();
    const base = nodeFixture('print-and-exit.mjs');
    const error = (options: object) => {
      try {
        store.launch({ ...base, ...options });
      } catch (e) {
        return e as LablogError;
      }
      throw new Error('expected launch to throw');
    };
    const over = error({ timeout: MAX_RUN_TIMEOUT_MS + 1 });
    expect(over).toMatchObject({
      code: 'INVALID_OPTION',
      details: { option: 'timeout', limit: MAX_RUN_TIMEOUT_MS, actual: MAX_RUN_TIMEOUT_MS + 1 },
    });
    expect(over.message).toBe(`launch: timeout is ${MAX_RUN_TIMEOUT_MS + 1} ms; the limit is ${MAX_RUN_TIMEOUT_MS} ms (48 h)`);
    expect(error({ timeout: 0 })).toMatchObject({
      code: 'INVALID_OPTION',
      message: 'launch: timeout must be a number of milliseconds > 0, got number 0',
    });
    expect(error({ timeout: -5 }).message).toBe('launch: timeout must be a number of milliseconds > 0, got number -5');
    expect(error({ timeout: Number.NaN }).details).toMatchObject({ option: 'timeout' });
    expect(error({ grace: 0 }).details).toMatchObject({ option: 'grace' });
    expect(error({ retries: -1 }).details).toMatchObject({ option: 'retries', limit: 100 });
    expect(error({ retries: 1.5 }).details).toMatchObject({ option: 'retries' });
    expect(error({ params: { when: new Date() } }).details).toMatchObject({ option: 'params' });
    expect(error({ command: '' }).details).toMatchObject({ option: 'command' });
    expect(error({ timeot: 5 }).message).toContain("unknown option 'timeot'");
    expect(error({ logCap: 10 }).details).toMatchObject({ option: 'logCap', limit: 1024, actual: 10 });
    // Nothing was created by a refused launch.
    expect(store.listExperiments()).toEqual([]);
  });
});

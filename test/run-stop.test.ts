// Stopping runs: the timeout (SIGTERM to the whole group, SIGKILL after grace), cancel from another process, two cancels, cancelling an ended run.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CANCEL_POLL_MS, openStore, type LablogError } from '../src/index.js';
import { runFixture, tempDir, tempStore } from './helpers.js';
import { nodeFixture, processAlive, readWhenWritten, waitUntil } from './support/runs.js';

describe('run timeout', () => {
  it('at the deadline SIGTERMs the child, SIGKILLs it after the grace period when it ignores SIGTERM: timed_out, not retried', async () => {
    const { store } = tempStore();
    const pidFile = join(tempDir(), 'pid');
    const run = store.launch({ ...nodeFixture('ignore-sigterm.mjs', pidFile), timeout: 1_000, grace: 700, retries: 2 });
    const record = await run.wait();
    expect(record).toMatchObject({
      status: 'timed_out',
      attempt: 1,
      exitCode: null,
      signal: 'SIGKILL',
      errorMessage: 'timed out after 1000 ms',
      success: false,
    });
    const stderr = run.logs({ stream: 'stderr' }).lines;
    // The child got the SIGTERM, ignored it, and was killed once the grace period had passed.
    expect(stderr.map((l) => l.text)).toEqual(['SIGTERM ignored']);
    expect(record.timeCompleted! - stderr[0]!.timestamp).toBeGreaterThanOrEqual(600);
    expect(record.timeCompleted! - record.timeStarted!).toBeGreaterThanOrEqual(1_600);
    expect(processAlive(Number(readWhenWritten(pidFile)))).toBe(false);
    expect(run.transitions().map((t) => t.status)).toEqual(['pending', 'running', 'timed_out']);
    expect(store.getExperiment(run.id).status).toBe('failed');
  });

  it('stops the whole process group: a grandchild that ignores SIGTERM goes too', async () => {
    const { store } = tempStore();
    const pidFile = join(tempDir(), 'pids');
    const run = store.launch({ ...nodeFixture('fork-grandchild.mjs', pidFile), timeout: 1_000, grace: 500 });
    const [child, grandchild] = (await waitUntil('the pids', () => readWhenWritten(pidFile))).split(' ').map(Number);
    expect(processAlive(grandchild!)).toBe(true);
    expect((await run.wait()).status).toBe('timed_out');
    await waitUntil('the grandchild gone', () => !processAlive(grandchild!), 10_000);
    expect(processAlive(child!)).toBe(false);
  });

  it('a child that exits leaving a grandchild behind: the grandchild is stopped with it', async () => {
    const { store } = tempStore();
    const pidFile = join(tempDir(), 'pids');
    const record = await store.launch({ ...nodeFixture('fork-grandchild.mjs', pidFile, 'exit') }).wait();
    expect(record.status).toBe('completed');
    const grandchild = Number(readWhenWritten(pidFile)!.split(' ')[1]);
    await waitUntil('the grandchild gone', () => !processAlive(grandchild), 10_000);
  });
});

describe('run cancel', () => {
  it('from another process: the supervisor sees it within a second, cancelling then cancelled, not retried', async () => {
    const { store, path } = tempStore();
    const pidFile = join(tempDir(), 'pid');
    const run = store.launch({ ...nodeFixture('ignore-sigterm.mjs', pidFile), grace: 300, retries: 3 });
    await waitUntil('the child running', () => readWhenWritten(pidFile));
    const other = await runFixture('run-cancel.ts', [path, run.id]);
    expect(other.stdout.trim()).toBe('cancelled');
    const record = await run.wait();
    expect(record).toMatchObject({ status: 'cancelled', attempt: 1, signal: 'SIGKILL', errorMessage: 'cancelled', success: false });
    const transitions = run.transitions();
    expect(transitions.map((t) => t.status)).toEqual(['pending', 'running', 'cancelling', 'cancelled']);
    const seen = transitions[2]!.at - record.cancelRequestedAt!;
    expect(seen).toBeGreaterThanOrEqual(0);
    expect(seen).toBeLessThanOrEqual(1_000);
    expect(CANCEL_POLL_MS).toBeLessThan(1_000);
    expect(processAlive(Number(readWhenWritten(pidFile)))).toBe(false);
    expect(store.getExperiment(run.id).status).toBe('cancelled');
  });

  it('two cancels at once from two processes: both succeed while the run stops, one stop', async () => {
    const { store, path } = tempStore();
    const pidFile = join(tempDir(), 'pid');
    // It ignores SIGTERM: the run stays 'cancelling' for the grace period, while both requests arrive.
    const run = store.launch({ ...nodeFixture('ignore-sigterm.mjs', pidFile), grace: 8_000 });
    await waitUntil('the child running', () => readWhenWritten(pidFile));
    const [a, b] = await Promise.all([runFixture('run-cancel.ts', [path, run.id]), runFixture('run-cancel.ts', [path, run.id])]);
    expect([a.stdout.trim(), b.stdout.trim()]).toEqual(['cancelled', 'cancelled']);
    await waitUntil('the run cancelling', () => run.status === 'cancelling', 5_000);
    const record = await run.wait();
    expect(record).toMatchObject({ status: 'cancelled', signal: 'SIGKILL' });
    expect(run.transitions().filter((t) => t.status === 'cancelling')).toHaveLength(1);
    expect(run.logs({ stream: 'stderr' }).lines.map((l) => l.text)).toEqual(['SIGTERM ignored']);
  });

  it('in the same process: run.cancel() stops the child at once', async () => {
    const { store } = tempStore();
    const pidFile = join(tempDir(), 'pid');
    const run = store.launch({ ...nodeFixture('sleep-forever.mjs', pidFile) });
    await waitUntil('the child running', () => readWhenWritten(pidFile));
    run.cancel();
    run.cancel();
    expect((await run.wait()).status).toBe('cancelled');
  });

  it('store.close() cancels the runs it supervises and waits for them to end', async () => {
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const pidFile = join(dir, 'pid');
    const store = openStore({ path });
    const run = store.launch({ ...nodeFixture('sleep-forever.mjs', pidFile) });
    const child = Number(await waitUntil('the child running', () => readWhenWritten(pidFile)));
    await store.close();
    expect(processAlive(child)).toBe(false);
    const reopened = openStore({ path });
    try {
      expect(reopened.getRun(run.id).record()).toMatchObject({ status: 'cancelled', signal: 'SIGTERM' });
    } finally {
      await reopened.close();
    }
  });

  it('cancelling a run that has ended is RUN_ENDED, from this process and from another', async () => {
    const { store, path } = tempStore();
    const run = store.launch({ ...nodeFixture('print-and-exit.mjs') });
    await run.wait();
    let error: LablogError | undefined;
    try {
      store.getRun(run.id).cancel();
    } catch (e) {
      error = e as LablogError;
    }
    expect(error).toMatchObject({ code: 'RUN_ENDED', details: { id: run.id, status: 'completed' } });
    expect(error!.message).toBe(`run ${run.id} has ended (completed); there is nothing to cancel`);
    const other = await runFixture('run-cancel.ts', [path, run.id]);
    expect([other.code, other.stdout.trim()]).toEqual([2, 'RUN_ENDED']);
    expect(store.getRun(run.id).record().cancelRequestedAt).toBeNull();
  });

  it('a cancel from a process that cannot find the run is RUN_NOT_FOUND', async () => {
    const { path } = tempStore();
    const other = await runFixture('run-cancel.ts', [path, '00000000-0000-4000-8000-000000000000']);
    expect([other.code, other.stdout.trim()]).toEqual([2, 'RUN_NOT_FOUND']);
  });

  it('wait() from another handle polls the store until the run ends', async () => {
    const { store } = tempStore();
    const pidFile = join(tempDir(), 'pid');
    const run = store.launch({ ...nodeFixture('sleep-forever.mjs', pidFile) });
    await waitUntil('the child running', () => readWhenWritten(pidFile));
    const elsewhere = store.getRun(run.id);
    expect((await elsewhere.wait({ timeoutMs: 100 })).status).toBe('running');
    setTimeout(() => spawn('kill', ['-TERM', readWhenWritten(pidFile)!]), 50);
    expect(await elsewhere.wait()).toMatchObject({ status: 'failed', signal: 'SIGTERM', errorMessage: 'killed by SIGTERM' });
  });
});

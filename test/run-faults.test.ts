// Run faults: a child printing a lot fast (bounded, never blocked), one huge line without a newline, and the supervisor SIGKILLed.

import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MAX_LOG_LINE_BYTES, openStore } from '../src/index.js';
import { startFixture, tempDir, tempStore, waitForOutput } from './helpers.js';
import { nodeFixture, processAlive, readWhenWritten, waitUntil } from './support/runs.js';

const MB = 1024 * 1024;

/**
 * The heap still reachable: a full collection first, so what is measured is what the supervisor holds, not
 * garbage a loaded machine has not collected yet (heapUsed alone grew past 100 MB that way).
 */
function retainedHeap(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

describe('run output faults', () => {
  it('a child printing 60 MB fast runs to its end; the store keeps the newest lines within the cap and counts the drop', async () => {
    const { store } = tempStore();
    const heapBefore = retainedHeap();
    // 600,000 lines of 99 characters (60 MB with their newlines), then a line on stderr.
    const run = store.launch({ ...nodeFixture('flood.mjs', '60', '0'), logCap: 2 * MB, timeout: 120_000 });
    const record = await run.wait();
    expect(record.status).toBe('completed');
    expect(record.logBytes).toBeLessThanOrEqual(2 * MB);
    expect(record.logBytes).toBeGreaterThan(2 * MB - 200);
    const kept = run.logs({ limit: 10_000 });
    const rest = run.logs({ after: kept.position, limit: 10_000 });
    const lines = [...kept.lines, ...rest.lines, ...run.logs({ after: rest.position, limit: 10_000 }).lines];
    const report = lines.find((l) => l.stream === 'stderr')!;
    // The child's own report is the newest line (kept), and says it wrote everything.
    expect(report.text).toMatch(/^wrote 60000000 bytes in \d+ ms$/);
    expect(lines.every((l) => l === report || l.text === 'x'.repeat(99))).toBe(true);
    // Kept and dropped add up to exactly what the child wrote: nothing lost unaccounted.
    expect(lines.length + kept.linesDropped).toBe(600_001);
    expect(record.logBytes + kept.bytesDropped).toBe(59_400_000 + report.text.length);
    expect(lines.reduce((n, l) => n + l.text.length, 0)).toBe(record.logBytes);
    // The supervisor held no more than batches of lines: far less than the 60 MB that went through it.
    expect(retainedHeap() - heapBefore).toBeLessThan(40 * MB);
  });

  it('one 50 MB line without a newline is cut at MAX_LOG_LINE_BYTES, the rest counted, memory bounded', async () => {
    const { store } = tempStore();
    const heapBefore = retainedHeap();
    const run = store.launch({ ...nodeFixture('flood.mjs', '0', '50'), timeout: 120_000 });
    const record = await run.wait();
    expect(record.status).toBe('completed');
    const [line] = run.logs({ stream: 'stdout' }).lines;
    expect(line!.text).toBe('y'.repeat(MAX_LOG_LINE_BYTES));
    expect(line!.cutBytes).toBe(50 * MB - MAX_LOG_LINE_BYTES);
    expect(retainedHeap() - heapBefore).toBeLessThan(30 * MB);
  });
});

describe('echo to a terminal that does not keep up', () => {
  it('a supervisor whose own stdout nobody reads still lets the child run to its end, and says what it did not echo', async () => {
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const result = join(dir, 'record.json');
    const supervisor = startFixture('run-echo.ts', [path, '40', result]);
    // Nobody reads the supervisor's stdout: its pipe fills after 64 KiB.
    supervisor.stdout!.pause();
    let stderr = '';
    supervisor.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const record = JSON.parse(await waitUntil('the run ended', () => readWhenWritten(result), 60_000)) as { status: string };
    expect(record.status).toBe('completed');
    let echoed = 0;
    supervisor.stdout!.on('data', (d: Buffer) => (echoed += d.length));
    supervisor.stdout!.resume();
    await new Promise((resolve) => supervisor.on('close', resolve));
    const skipped = Number(stderr.match(/lablog: (\d+) bytes of the run's output were not echoed here/)![1]);
    expect(skipped).toBeGreaterThan(0);
    // What reached the terminal and what was skipped add up to everything the child wrote on stdout.
    expect(echoed + skipped).toBe(40 * 10_000 * 100);
  });
});

describe('supervisor ended while its run goes on', () => {
  it('SIGTERMed (it has no handler of its own): the child is stopped and the run recorded cancelled, with its output', async () => {
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const pidFile = join(dir, 'child-pid');
    const supervisor = startFixture('run-supervise.ts', [path, pidFile]);
    let out = '';
    supervisor.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitForOutput(supervisor, 'run=');
    const runId = out.match(/run=([0-9a-f-]{36})/)![1]!;
    const child = Number(await waitUntil('the child pid', () => readWhenWritten(pidFile)));
    const reader = openStore({ path });
    await waitUntil("the child's line stored", () => reader.getRun(runId).logs().lines.length > 0);
    await reader.close();
    supervisor.kill('SIGTERM');
    await waitUntil('the child gone', () => !processAlive(child), 10_000);
    await waitUntil('the supervisor gone', () => supervisor.exitCode !== null || supervisor.signalCode !== null, 10_000);
    expect(supervisor.signalCode).toBe('SIGTERM');
    const store = openStore({ path });
    try {
      const run = store.getRun(runId);
      expect(run.record()).toMatchObject({ status: 'cancelled', errorMessage: 'the supervising process was interrupted', success: false });
      expect(run.logs().lines.map((l) => l.text)).toEqual(['sleeping']);
    } finally {
      await store.close();
    }
  });
});

describe('supervisor SIGKILLed', () => {
  it('the child does not keep running orphaned, and the run shows crashed on the next read', async () => {
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const pidFile = join(dir, 'child-pid');
    const supervisor = startFixture('run-supervise.ts', [path, pidFile]);
    let out = '';
    supervisor.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitForOutput(supervisor, 'run=');
    const runId = out.match(/run=([0-9a-f-]{36})/)![1]!;
    const child = Number(await waitUntil('the child pid', () => readWhenWritten(pidFile)));
    expect(processAlive(child)).toBe(true);
    supervisor.kill('SIGKILL');
    // The watcher SIGTERMs the group once the supervisor's pipe closes.
    await waitUntil('the child gone', () => !processAlive(child), 10_000);
    await waitUntil('the supervisor gone', () => supervisor.exitCode !== null || supervisor.signalCode !== null, 10_000);
    const store = openStore({ path });
    try {
      // Stored as running; read as crashed, also when asked for crashed runs only.
      expect(store.listRuns({ status: 'crashed' }).map((r) => r.id)).toEqual([runId]);
      const run = store.getRun(runId);
      expect(run.status).toBe('crashed');
      expect(run.record()).toMatchObject({ success: false, attempt: 1 });
      expect(run.attempts().map((a) => a.status)).toEqual(['crashed']);
      expect(run.transitions().map((t) => t.status)).toEqual(['pending', 'running', 'crashed']);
      expect(store.listRuns().map((r) => r.status)).toEqual(['crashed']);
      expect(store.getExperiment(runId).status).toBe('crashed');
    } finally {
      await store.close();
    }
  });
});

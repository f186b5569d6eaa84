import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../src/index.js';
import { runFixture, startFixture, tempDir, waitForExit, waitForOutput } from './helpers.js';

function idOf(stdout: string): string {
  const match = /^id (\S+)$/m.exec(stdout);
  if (!match) throw new Error(`no id in child output: ${stdout}`);
  return match[1]!;
}

function read(path: string, id: string) {
  const store = openStore({ path });
  const exp = store.getExperiment(id);
  const result = {
    status: exp.status,
    a: exp.getMetric('a'),
    b: exp.getMetric('b'),
    params: exp.getParams(),
    series: exp.listSeries(),
  };
  void store.close();
  return result;
}

describe('flush at process exit, without close()', () => {
  it.each([
    ['exit', 0, 'completed'],
    ['exit-code', 3, 'failed'],
    ['throw', 1, 'failed'],
    ['reject', 1, 'failed'],
  ] as const)('%s (exit code %i): everything logged is written, status %s', async (mode, exitCode, status) => {
    const path = join(tempDir(), 'lablog.db');
    const child = await runFixture('log-then-end.ts', [path, mode]);
    expect(child.code).toBe(exitCode);
    const exp = read(path, idOf(child.stdout));
    expect(exp.status).toBe(status);
    expect(exp.a.values.length).toBe(1000);
    expect(exp.b.values[999]).toBe(-999);
    expect(exp.params).toEqual({ mode });
  });
});

describe('flush at a signal', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    "%s: writes the buffer, records 'cancelled', and the process still dies of the signal",
    async (signal) => {
      const path = join(tempDir(), 'lablog.db');
      const child = startFixture('log-then-end.ts', [path, 'signal']);
      const exited = waitForExit(child);
      await waitForOutput(child, 'ready');
      child.kill(signal);
      const result = await exited;
      expect(result.signal).toBe(signal);
      const exp = read(path, idOf(result.stdout));
      expect(exp.status).toBe('cancelled');
      const n = exp.a.values.length;
      expect(n).toBeGreaterThanOrEqual(1000);
      // Every point logged before the signal is there, in order, in both series.
      expect(exp.b.values.length).toBe(n);
      expect(exp.a.steps[n - 1]).toBe(n - 1);
      expect(exp.b.values[n - 1]).toBe(-(n - 1));
    },
  );

  it('leaves a program that handles SIGTERM itself in charge', async () => {
    const path = join(tempDir(), 'lablog.db');
    const child = startFixture('log-then-end.ts', [path, 'handled']);
    const exited = waitForExit(child);
    await waitForOutput(child, 'ready');
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('stopping');
    const exp = read(path, idOf(result.stdout));
    expect(exp.status).toBe('completed');
    expect(exp.series.find((s) => s.name === 'stopped')?.count).toBe(1);
  });
});

describe('SIGKILL', () => {
  it('never corrupts the store or leaves a half batch; loses at most the last flush window; shows the run as crashed', async () => {
    for (let round = 0; round < 3; round++) {
      const path = join(tempDir(), 'lablog.db');
      const child = startFixture('log-then-end.ts', [path, 'kill']);
      const exited = waitForExit(child);
      // A random moment: right after the child reports its k-th flush (k from 1 to 6), while it logs the next ones.
      const k = 1 + Math.floor(Math.random() * 6);
      let lastFlushed = 0;
      let flushes = 0;
      const reported = new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          for (const m of d.toString().matchAll(/flushed (\d+)/g)) {
            lastFlushed = Number(m[1]);
            if (++flushes >= k) resolve();
          }
        });
        child.once('exit', () => reject(new Error(`the child exited before its flush ${k}`)));
      });
      await reported;
      const flushedBeforeKill = lastFlushed;
      child.kill('SIGKILL');
      const result = await exited;
      expect(result.signal).toBe('SIGKILL');

      const db = new Database(path, { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();

      const exp = read(path, idOf(result.stdout));
      expect(exp.status).toBe('crashed');
      const n = exp.a.values.length;
      expect(n).toBeGreaterThanOrEqual(flushedBeforeKill);
      // Each flush writes both series in one transaction: both have the same points, with no gap.
      expect(exp.b.values.length).toBe(n);
      for (let i = 0; i < n; i++) {
        if (exp.a.steps[i] !== i || exp.a.values[i] !== i || exp.b.values[i] !== -i) throw new Error(`gap or damage at ${i}`);
      }
      expect(exp.series.find((s) => s.name === 'a')).toMatchObject({ count: n, lastStep: n - 1 });
    }
  });
});

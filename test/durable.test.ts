import { describe, expect, it } from 'vitest';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type LablogError } from '../src/index.js';
import { tempDir, tempStore, waitForOutput } from './helpers.js';
import { STRACE_AVAILABLE, startTraced, type Syscall } from './support/syscall-trace.js';

const WRITES = new Set(['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2']);
const SYNCS = new Set(['fsync', 'fdatasync']);

/**
 * Checks, in a trace, that every write to the WAL made before the marker call was followed by an fsync
 * of the WAL that returned before the marker: all committed before it is on stable storage.
 */
function expectWalSyncedBefore(calls: Syscall[], wal: string, marker: Syscall): void {
  const walWrites = calls.filter((c) => WRITES.has(c.name) && c.path === wal && c.start < marker.start);
  expect(walWrites.length, 'the trace shows the data written to the WAL').toBeGreaterThan(0);
  const lastWrite = Math.max(...walWrites.map((c) => c.end));
  const syncs = calls.filter((c) => SYNCS.has(c.name) && c.path === wal);
  const covering = syncs.filter((c) => c.start > lastWrite && c.end < marker.start && c.result === '0');
  expect(
    covering.length,
    `an fsync of ${wal} between its last write (trace line ${lastWrite + 1}) and the marker (line ${marker.start + 1}); WAL fsyncs at lines ${syncs.map((c) => c.start + 1).join(', ') || 'none'}`,
  ).toBeGreaterThan(0);
}

const TRACED = ['write', 'pwrite64', 'writev', 'pwritev', 'fsync', 'fdatasync', 'exit_group', 'openat'];

async function run(mode: 'close' | 'short' | 'flush' | 'exit') {
  const dir = realpathSync(tempDir());
  const path = join(dir, 'lablog.db');
  const { child, done } = startTraced('durable-steps.ts', [path, mode], join(dir, 'trace.txt'), TRACED);
  let reader: Database.Database | undefined;
  if (mode === 'exit') {
    // Another connection stays open while the child exits: the child's connections are not the store's
    // last, so closing them checkpoints (and fsyncs) nothing; only lablog's own fsync can pass.
    await waitForOutput(child, 'logged');
    reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT count(*) FROM experiments').pluck().get()).toBe(1);
    child.stdin!.end('go\n');
  }
  const result = await done;
  reader?.close();
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return { ...result, path, wal: `${path}-wal` };
}

describe.skipIf(!STRACE_AVAILABLE)('durable close and flush (checked in a system call trace)', () => {
  it('await exp.close() resolves only after the WAL holding the data and the status was fsynced', async () => {
    const { calls, wal, path } = await run('close');
    const marker = calls.find((c) => c.name === 'write' && c.args.includes('"MARK closed\\n"'));
    expect(marker).toBeDefined();
    expectWalSyncedBefore(calls, wal, marker!);
    const store = openStore({ path });
    const exp = store.getExperiment('durable-close');
    expect(exp.status).toBe('completed');
    expect(exp.getMetric('b').values.length).toBe(20_000);
    await store.close();
  });

  it("a short script's await exp.close() writes and fsyncs on its own thread, without starting the writer thread", async () => {
    const { calls, wal, path } = await run('short');
    const marker = calls.find((c) => c.name === 'write' && c.args.includes('"MARK closed\\n"'));
    expect(marker).toBeDefined();
    expectWalSyncedBefore(calls, wal, marker!);
    // The thread that printed the marker wrote the WAL and fsynced it; no other thread opened the store.
    const main = marker!.pid;
    const walCalls = calls.filter((c) => (WRITES.has(c.name) || SYNCS.has(c.name)) && c.path === wal && c.start < marker!.start);
    expect(walCalls.length).toBeGreaterThan(0);
    expect(walCalls.filter((c) => c.pid !== main)).toEqual([]);
    const opens = calls.filter((c) => c.name === 'openat' && c.args.includes(`"${path}`));
    expect(opens.length).toBeGreaterThan(0);
    expect(opens.filter((c) => c.pid !== main)).toEqual([]);
    const store = openStore({ path });
    const exp = store.getExperiment('durable-short');
    expect(exp.status).toBe('completed');
    expect(Array.from(exp.getMetric('b').values)).toEqual([-0]);
    await store.close();
  });

  it('await exp.flush({ durable: true }) resolves only after the WAL holding the flushed data was fsynced', async () => {
    const { calls, wal } = await run('flush');
    const marker = calls.find((c) => c.name === 'write' && c.args.includes('"MARK flushed\\n"'));
    expect(marker).toBeDefined();
    expectWalSyncedBefore(calls, wal, marker!);
  });

  it('at process exit without close(), the exit hook fsyncs the WAL before the process ends', async () => {
    const { calls, wal, path } = await run('exit');
    const exit = calls.find((c) => c.name === 'exit_group');
    expect(exit).toBeDefined();
    expectWalSyncedBefore(calls, wal, exit!);
    const store = openStore({ path });
    expect(store.getExperiment('durable-exit').status).toBe('completed');
    await store.close();
  });
});

describe('flush options', () => {
  it.each([
    [{ durable: 'yes' }, 'flush: durable must be true or false, got string "yes"', 'durable'],
    [{ durable: 1 }, 'flush: durable must be true or false, got number 1', 'durable'],
    [{ durabel: true }, "flush: unknown option 'durabel' (given boolean true); known options: durable", 'durabel'],
    ['durable', 'flush: options must be an object, got string "durable"', undefined],
  ])('%j is INVALID_OPTION naming the option and the value, and writes nothing', async (options, message, option) => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    exp.logMetric('m', 1);
    const error = (await exp.flush(options as never).catch((e: unknown) => e)) as LablogError;
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe(message);
    expect((error.details as Record<string, unknown>)['option']).toBe(option);
    expect(exp.stats().pendingPoints).toBe(1);
    expect(await exp.flush()).toEqual({ points: 1, pending: 0, dropped: 0 });
  });

  it('flush({ durable: true }) and flush({ durable: false }) both write what is buffered', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    exp.logMetric('m', 1);
    expect(await exp.flush({ durable: false })).toEqual({ points: 1, pending: 0, dropped: 0 });
    exp.logMetric('m', 2);
    expect(await exp.flush({ durable: true })).toEqual({ points: 1, pending: 0, dropped: 0 });
    expect(Array.from(exp.getMetric('m').values)).toEqual([1, 2]);
  });
});

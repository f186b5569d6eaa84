import { describe, expect, it } from 'vitest';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src/index.js';
import { tempDir } from './helpers.js';
import { STRACE_AVAILABLE, startTraced } from './support/syscall-trace.js';

const SYNCS = new Set(['fsync', 'fdatasync']);
const WRITES = new Set(['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2']);

describe.skipIf(!STRACE_AVAILABLE)('a script that ends before the writer thread starts', () => {
  it('has its point written and fsynced at exit by its own main thread, status completed', async () => {
    const dir = realpathSync(tempDir());
    const path = join(dir, 'lablog.db');
    const wal = `${path}-wal`;
    const { done } = startTraced('hello-world.ts', [path], join(dir, 'trace.txt'), ['execve', ...WRITES, ...SYNCS, 'exit_group']);
    const { code, stderr, calls } = await done;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // The first call traced is the execve of node: its pid is the main thread's. (Other processes, such as
    // the compiler tsx may start, have pids of their own.)
    expect(calls[0]!.name).toBe('execve');
    const mainThread = calls[0]!.pid;
    const exit = calls.find((c) => c.name === 'exit_group' && c.pid === mainThread);
    expect(exit).toBeDefined();
    const walWrites = calls.filter((c) => WRITES.has(c.name) && c.path === wal);
    expect(walWrites.length, 'the point and the status went to the WAL').toBeGreaterThan(0);
    expect(
      walWrites.map((c) => c.pid),
      'every WAL write came from the main thread',
    ).toEqual(walWrites.map(() => mainThread));
    const lastWrite = Math.max(...walWrites.map((c) => c.end));
    const syncs = calls.filter((c) => SYNCS.has(c.name) && c.path === wal && c.result === '0');
    expect(
      syncs.filter((c) => c.pid === mainThread && c.start > lastWrite && c.end < exit!.start).length,
      'an fsync of the WAL by the main thread after its last write, before exit',
    ).toBeGreaterThan(0);
    const store = openStore({ path });
    const exp = store.getExperiment('hello');
    expect(exp.status).toBe('completed');
    expect(Array.from(exp.getMetric('loss').values)).toEqual([0.5]);
    await store.close();
  });
});

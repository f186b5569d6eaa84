// Test support: runs a fixture under strace and reads back the system calls it made, in order, with the file each descriptor names.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, type ChildResult } from '../helpers.js';

export const STRACE_AVAILABLE = spawnSync('strace', ['-V']).status === 0;
if (!STRACE_AVAILABLE) {
  if (process.env['LABLOG_REQUIRE_STRACE'] === '1')
    throw new Error('LABLOG_REQUIRE_STRACE=1 but there is no strace (apt-get install -y strace)');
  console.warn('No strace (apt-get install -y strace): the fsync-ordering tests are SKIPPED.');
}

/** One system call: where its line starts and where it returns in the trace (the same for a call not interrupted by another thread's). */
export interface Syscall {
  readonly pid: number;
  readonly name: string;
  /** The file of the first argument when it is a descriptor (strace -y), e.g. /tmp/x/lablog.db-wal or pipe:[123]. */
  readonly path: string | undefined;
  /** The arguments as strace printed them. */
  readonly args: string;
  /** The return value as printed ('0', '-1 EIO (…)', '?'). */
  result: string;
  readonly start: number;
  end: number;
}

/** Parses `strace -f -y -o` output into calls in the order they started; `end` orders their returns. */
export function parseTrace(text: string): Syscall[] {
  const calls: Syscall[] = [];
  const pending = new Map<number, Syscall>();
  text.split('\n').forEach((line, index) => {
    const match = /^(\d+)\s+(.*)$/.exec(line);
    if (!match) return;
    const pid = Number(match[1]);
    const body = match[2]!;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(body);
    if (resumed) {
      const call = pending.get(pid);
      if (call) {
        call.end = index;
        call.result = / = (.*)$/.exec(resumed[2]!)?.[1] ?? '?';
        pending.delete(pid);
      }
      return;
    }
    const started = /^(\w+)\((.*)$/.exec(body);
    if (!started) return; // +++ exited, --- SIG…
    const args = started[2]!;
    const path = /^-?\d+<([^>]*)>/.exec(args)?.[1];
    const unfinished = args.endsWith('<unfinished ...>');
    const call: Syscall = {
      pid,
      name: started[1]!,
      path,
      args,
      result: unfinished ? '?' : (/ = (.*)$/.exec(args)?.[1] ?? '?'),
      start: index,
      end: unfinished ? Number.POSITIVE_INFINITY : index,
    };
    if (unfinished) pending.set(pid, call);
    calls.push(call);
  });
  return calls;
}

/** Starts a TypeScript fixture (through tsx) under `strace -f -y`, tracing the named calls of every thread; stdin is a pipe. */
export function startTraced(
  name: string,
  args: string[],
  traceFile: string,
  calls: readonly string[],
): { child: ChildProcess; done: Promise<ChildResult & { calls: Syscall[] }> } {
  const child = spawn(
    'strace',
    [
      '-f',
      '-y',
      '-qq',
      '-e',
      `trace=${calls.join(',')}`,
      '-o',
      traceFile,
      process.execPath,
      '--import',
      'tsx',
      join(FIXTURES, name),
      ...args,
    ],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  ).then(({ code, signal }) => ({ code, signal, stdout, stderr, calls: parseTrace(readFileSync(traceFile, 'utf8')) }));
  return { child, done };
}

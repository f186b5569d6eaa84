// Test support for runs: the node fixtures a run launches, waiting on a condition with a bounded deadline, and whether a process lives.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const RUN_FIXTURES = fileURLToPath(new URL('../fixtures/runs/', import.meta.url));
export const TS_FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Launch options running a fixture of test/fixtures/runs/ with node. */
export function nodeFixture(name: string, ...args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [`${RUN_FIXTURES}${name}`, ...args] };
}

/** Launch options running a TypeScript fixture of test/fixtures/ with node and tsx. */
export function tsFixture(name: string, ...args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', `${TS_FIXTURES}${name}`, ...args] };
}

/** Polls `condition` until it returns a value other than undefined/false, or fails after `timeoutMs` naming `what`. */
export async function waitUntil<T>(what: string, condition: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is dead for our purposes: look at its state.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The text of a file once it exists and is not empty. */
export function readWhenWritten(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Pids of this process's children that are zombies (exited, never reaped). */
export function zombieChildren(): number[] {
  const found: number[] = [];
  let tasks: string[];
  try {
    tasks = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return found;
  }
  for (const pid of tasks.map(Number)) if (!processAlive(pid)) found.push(pid);
  return found;
}

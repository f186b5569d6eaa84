// Test support: a PostgresBackend in a child process of its own (postgres-child.ts), for "two server processes" tests.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LablogError } from '../../src/model/errors.js';
import type { PostgresBackend } from '../../src/store/postgres/postgres-backend.js';
import type { ServerStudyBackend } from '../../src/store/study-store.js';
import { decode, encode } from './json-lines.js';

const CHILD = fileURLToPath(new URL('./postgres-child.ts', import.meta.url));

/** The async methods of T, called in the other process (arguments and results travel as json-lines.ts JSON). */
export type Remote<T> = { [K in keyof T as T[K] extends (...args: never[]) => Promise<unknown> ? K : never]: T[K] };

export interface PostgresProcess {
  readonly pid: number;
  /** Connects (and migrates, as PostgresBackend.open does); resolves with the backend's location. */
  open(url: string): Promise<{ location: string }>;
  readonly backend: Remote<PostgresBackend>;
  readonly studies: Remote<ServerStudyBackend>;
  /** Closes the backend and waits for the process to exit. */
  close(): Promise<void>;
}

/**
 * Starts a process and resolves once it is ready for calls, not yet connected: start several, then open them
 * together (a start barrier; node and tsx start-up take far longer than the calls under test).
 */
export async function startPostgresProcess(): Promise<PostgresProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  let ready: (() => void) | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      const gone = new Error(`the PostgreSQL test process exited (${code ?? signal}): ${stderr.trim()}`);
      for (const call of pending.values()) call.reject(gone);
      pending.clear();
      resolve();
    });
  });
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    void exited.then(() => reject(new Error(`the PostgreSQL test process exited before it was ready: ${stderr.trim()}`)));
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = decode(line) as {
      ready?: true;
      id?: number;
      value?: unknown;
      error?: { code: string | null; message: string; details: Record<string, unknown>; lablog: boolean };
    };
    if (message.ready) return ready?.();
    const call = pending.get(message.id!);
    if (!call) return;
    pending.delete(message.id!);
    if (!message.error) return call.resolve(message.value);
    const { code, message: text, details, lablog } = message.error;
    call.reject(lablog ? new LablogError(code as LablogError['code'], text, details as LablogError['details']) : new Error(text));
  });

  function call(target: 'open' | 'backend' | 'studies', method: string, args: unknown[]): Promise<unknown> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      child.stdin!.write(`${encode({ id, target, method, args })}\n`);
    });
  }
  const remote = <T>(target: 'backend' | 'studies') =>
    new Proxy(
      {},
      {
        get:
          (_object, method) =>
          (...args: unknown[]) =>
            call(target, String(method), args),
      },
    ) as Remote<T>;

  await started;
  return {
    pid: child.pid!,
    open: (url) => call('open', 'open', [url]) as Promise<{ location: string }>,
    backend: remote<PostgresBackend>('backend'),
    studies: remote<ServerStudyBackend>('studies'),
    async close() {
      child.stdin!.end();
      await exited;
    },
  };
}

// Test support: a real `lablog server` process on loopback (SQLite or PostgreSQL), the CLI as a child, and API keys.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach } from 'vitest';
import { tempDir, waitForExit, type ChildResult } from '../helpers.js';
import { freshDatabase, postgresUrl } from './postgres.js';

export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

/** Runs the lablog CLI (from the TypeScript sources) to completion. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const result = await waitForExit(child);
  running.delete(child);
  return result;
}

/** Keeps a child past the end of the current test (for one shared by a describe block); the caller kills it. */
export function keepAlive(child: ChildProcess): void {
  running.delete(child);
}

/** Starts the lablog CLI without waiting for it. */
export function startCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  return child;
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly db: string;
  readonly child: ChildProcess;
  /** Output so far (stdout and stderr). */
  output(): string;
}

/** Waits for a child's output to announce its URL (the pattern's first group); rejects if it exits first. */
export async function announcedUrl(child: ChildProcess, pattern: RegExp, what: string): Promise<{ url: string; output: () => string }> {
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}): ${output}`));
    });
  });
  child.removeAllListeners('exit');
  return { url, output: () => output };
}

/** Starts `lablog server` on a loopback port (0: a free one) and resolves once it listens. */
export async function startServer(
  db: string,
  options: { port?: number; args?: string[]; env?: Record<string, string> } = {},
): Promise<ServerProcess> {
  const args = options.args ?? [];
  // A PostgreSQL server keeps artifact bytes in ./lablog-artifacts unless told: tests keep them in a temp folder.
  const artifacts = /^postgres/.test(db) && !args.includes('--artifacts') ? ['--artifacts', join(tempDir(), 'artifacts')] : [];
  const child = startCli(['server', '--port', String(options.port ?? 0), '--db', db, ...artifacts, ...args], options.env);
  const { url, output } = await announcedUrl(child, /listening on (http:\/\/\S+)/, 'lablog server');
  return { url, port: Number(new URL(url).port), db, child, output };
}

/** SIGKILLs a server and waits until it is gone. */
export async function killServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = waitForExit(server.child);
  server.child.kill('SIGKILL');
  await exited;
  running.delete(server.child);
}

/** Creates an API key with `lablog keys create` and returns it. */
export async function createKey(db: string, ...projects: string[]): Promise<string> {
  const result = await runCli(['keys', 'create', '--db', db, ...projects.flatMap((p) => ['--project', p])]);
  if (result.code !== 0) throw new Error(`lablog keys create failed: ${result.stderr}`);
  return result.stdout.trim();
}

export interface ServerDatabase {
  readonly kind: 'sqlite' | 'postgres';
  /** A new empty database for one test: a SQLite file, or a fresh PostgreSQL database. */
  create(): Promise<string>;
}

const dropAfterAll: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of dropAfterAll.splice(0)) await drop().catch(() => undefined);
});

const pgBase = await postgresUrl();
if (pgBase === undefined) {
  console.warn(
    'PostgreSQL is not reachable (LABLOG_TEST_POSTGRES_URL unset and no local cluster): the PostgreSQL server tests are SKIPPED.',
  );
}

/** The server databases to test against: SQLite always, PostgreSQL when one is reachable. */
export const SERVER_DATABASES: ServerDatabase[] = [
  { kind: 'sqlite', create: async () => join(tempDir(), 'server.db') },
  ...(pgBase === undefined
    ? []
    : [
        {
          kind: 'postgres' as const,
          create: async () => {
            const db = await freshDatabase(pgBase);
            dropAfterAll.push(db.drop);
            return db.url;
          },
        },
      ]),
];

export const POSTGRES_AVAILABLE = pgBase !== undefined;

/** GET/POST against the server's API with a key; returns status, headers and parsed JSON (or bytes). */
export async function api(server: { url: string }, key: string | undefined, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const type = response.headers.get('content-type') ?? '';
  const data: unknown = type.includes('json') ? await response.json() : Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, data: data as any };
}

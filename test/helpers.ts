// Test helpers: a fresh temporary store per test, child-process runs, and PNG/JPEG fixtures.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import sharp from 'sharp';
import { openStore, type Store } from '../src/index.js';
import type { LablogWarning } from '../src/index.js';

const cleanups: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A new empty folder that lives until `remove` (for a describe block's shared store). */
export function sharedTempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lablog-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A new empty folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lablog-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A store in a new folder; closed and removed after the test. */
export function tempStore(): { store: Store; path: string; dir: string } {
  const dir = tempDir();
  const path = join(dir, 'lablog.db');
  const store = openStore({ path });
  cleanups.unshift(() => store.close());
  return { store, path, dir };
}

/** Collects the warnings given to onWarning. */
export function warnings(): { list: LablogWarning[]; onWarning: (w: LablogWarning) => void } {
  const list: LablogWarning[] = [];
  return { list, onWarning: (w) => list.push(w) };
}

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts a TypeScript fixture in a new node process (through tsx), with arguments. */
export function startFixture(name: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, name), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

export function waitForExit(child: ChildProcess): Promise<ChildResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      // 'exit' can come before the pipes are drained.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
}

export async function runFixture(name: string, args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  return waitForExit(startFixture(name, args, env));
}

/** Resolves when the child prints a line containing `text` on stdout. */
export function waitForOutput(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before printing ${JSON.stringify(text)}; output: ${seen}`)));
  });
}

export function solidPng(width: number, height: number, color = '#3366cc'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } })
    .png()
    .toBuffer();
}

/** A PNG with varied pixels (so its compressed data is not trivially small). */
export function noisyPng(width: number, height: number, options: { interlaced?: boolean } = {}): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 4);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
  return sharp(pixels, { raw: { width, height, channels: 4 } })
    .png({ progressive: options.interlaced ?? false })
    .toBuffer();
}

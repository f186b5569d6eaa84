// Artifacts under bad input and faults: no such path, a symlink loop, a socket, a FIFO, a file growing while copied, a name clash, path traversal on download, a full disk (tmpfs), SIGKILL mid-copy, and the memory of a 2 GiB copy.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, symlinkSync, writeFileSync, ftruncateSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LablogError, openStore, type Store } from '../src/index.js';
import { startFixture, tempDir, tempStore, waitForExit } from './helpers.js';
import { waitFor } from './support/wait-for.js';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const MiB = 1024 * 1024;

async function rejection(promise: Promise<unknown>): Promise<LablogError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LablogError);
    return error as LablogError;
  }
  throw new Error('expected a rejection');
}

function blobFiles(storeDir: string): string[] {
  const root = join(storeDir, 'blobs', 'sha256');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((prefix) => readdirSync(join(root, prefix)).map((rest) => prefix + rest));
}

function integrity(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

/** A folder with one regular file, for the bad-entry cases. */
function folderWithFile(): string {
  const dir = join(tempDir(), 'src');
  mkdirSync(dir);
  writeFileSync(join(dir, 'ok.txt'), 'fine');
  return dir;
}

describe('logArtifact refuses bad sources with a typed error and logs nothing', () => {
  it('a path that does not exist, a symlink loop, a dangling symlink, a symlink to a directory, a socket, a FIFO', async () => {
    const { store, dir: storeDir } = tempStore();
    const exp = store.createExperiment({ name: 'bad' });

    const missing = await rejection(exp.logArtifact(join(tempDir(), 'nope.bin'), { name: 'm' }));
    expect(missing.code).toBe('INVALID_OPTION');
    expect(missing.message).toMatch(/nope\.bin does not exist; nothing was logged$/);

    const loop = folderWithFile();
    symlinkSync(join(loop, 'b'), join(loop, 'a'));
    symlinkSync(join(loop, 'a'), join(loop, 'b'));
    const looped = await rejection(exp.logArtifact(loop, { name: 'loop' }));
    expect(looped.code).toBe('INVALID_OPTION');
    expect(looped.message).toMatch(/src\/[ab] is a symlink loop/);
    expect((await rejection(exp.logArtifact(join(loop, 'a'), { name: 'top-loop' }))).message).toContain('is a symlink loop');

    const dangling = folderWithFile();
    symlinkSync(join(dangling, 'gone'), join(dangling, 'link'));
    expect((await rejection(exp.logArtifact(dangling, { name: 'dangling' }))).message).toContain('is a symlink to nothing (dangling)');

    const toDir = folderWithFile();
    symlinkSync(toDir, join(toDir, 'self'));
    expect((await rejection(exp.logArtifact(toDir, { name: 'self' }))).message).toContain('is a symlink to a directory');

    const withSocket = folderWithFile();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(withSocket, 'agent.sock'), resolve));
    try {
      const socket = await rejection(exp.logArtifact(withSocket, { name: 'sock' }));
      expect(socket.code).toBe('INVALID_OPTION');
      expect(socket.message).toMatch(/agent\.sock is a socket: an artifact holds regular files only; nothing was logged$/);
      expect((await rejection(exp.logArtifact(join(withSocket, 'agent.sock'), { name: 'sock-top' }))).message).toContain(
        'is a socket, not a regular file or a directory',
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }

    const withFifo = folderWithFile();
    expect(spawnSync('mkfifo', [join(withFifo, 'pipe')]).status).toBe(0);
    expect((await rejection(exp.logArtifact(withFifo, { name: 'fifo' }))).message).toContain('pipe is a FIFO (named pipe)');

    expect(exp.listArtifacts()).toEqual([]);
    // Refused before anything was copied: not even the good file's bytes are stored.
    expect(blobFiles(storeDir)).toEqual([]);
    await exp.close();
  });

  it('a file growing while it is copied (a child process appending) is CHECKSUM_MISMATCH, and nothing is registered', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'growing' });
    const file = join(tempDir(), 'log.bin');
    writeFileSync(file, Buffer.alloc(64 * MiB, 3));
    const appender = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const chunk = Buffer.alloc(65536, 9); let n = 0;
         const t = setInterval(() => { fs.appendFileSync(process.argv[1], chunk); if (++n === 1) console.log('appending'); if (n > 20000) clearInterval(t); }, 1);`,
        file,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => appender.stdout!.once('data', () => resolve()));
      const grown = await rejection(exp.logArtifact(file, { name: 'log' }));
      expect(grown.code).toBe('CHECKSUM_MISMATCH');
      expect(grown.message).toMatch(
        /log\.bin changed while it was copied \(\d+ bytes when the copy started, \d+ when it ended\); nothing was logged/,
      );
    } finally {
      appender.kill('SIGKILL');
    }
    expect(exp.listArtifacts()).toEqual([]);
    await exp.close();
  });

  it('a name taken at that step is ARTIFACT_EXISTS (no step clashes with no step); two at once: one wins', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'clash' });
    await exp.logArtifact(Buffer.from('a'), { name: 'model', step: 1 });
    const clash = await rejection(exp.logArtifact(Buffer.from('b'), { name: 'model', step: 1 }));
    expect(clash.code).toBe('ARTIFACT_EXISTS');
    expect(clash.message).toBe(
      "experiment 'clash' has an artifact 'model' at step 1 already; log it at another step or under another name",
    );
    expect(clash.details).toEqual({ experiment: 'clash', key: 'model', step: 1 });
    await exp.logArtifact(Buffer.from('c'), { name: 'model' });
    expect((await rejection(exp.logArtifact(Buffer.from('d'), { name: 'model' }))).details).toEqual({ experiment: 'clash', key: 'model' });
    await exp.logArtifact(Buffer.from('e'), { name: 'model', step: 2 });

    const both = await Promise.allSettled([
      exp.logArtifact(Buffer.from('x'), { name: 'race', step: 5 }),
      exp.logArtifact(Buffer.from('y'), { name: 'race', step: 5 }),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(((both.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as LablogError).code).toBe('ARTIFACT_EXISTS');
    expect(exp.listArtifacts().map((a) => [a.name, a.step])).toEqual([
      ['model', null],
      ['model', 1],
      ['model', 2],
      ['race', 5],
    ]);
    await exp.close();
  });

  it('a stored file path that leaves the download folder (../../) is INVALID_NAME and nothing is written', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'traversal' });
    const good = await exp.logArtifact(Buffer.from('payload'), { name: 'evil' });
    // A row as a hostile or broken writer could leave it: a good file first, then one that climbs out.
    const db = new Database(path);
    db.prepare("UPDATE artifacts SET type = 'directory' WHERE id = ?").run(good.id);
    db.prepare('UPDATE artifact_files SET path = ? WHERE artifact_id = ?').run('a-good-one.txt', good.id);
    db.prepare('INSERT INTO artifact_files (artifact_id, path, size, sha256) VALUES (?, ?, ?, ?)').run(
      good.id,
      '../../escaped.txt',
      7,
      sha256('payload'),
    );
    db.close();
    const root = tempDir();
    const out = join(root, 'a', 'b');
    const refused = await rejection(exp.downloadArtifact('evil', out));
    expect(refused.code).toBe('INVALID_NAME');
    expect(refused.message).toContain('"../../escaped.txt"');
    expect(existsSync(join(root, 'escaped.txt'))).toBe(false);
    expect(existsSync(join(out, 'a-good-one.txt'))).toBe(false);
    await exp.close();
  });
});

describe('logArtifact on a full disk', () => {
  it('a 4 MiB tmpfs: an 8 MiB artifact is STORAGE_ERROR (ENOSPC), nothing visible, no temp file left, integrity_check ok, the store goes on', async (context) => {
    const mountPoint = tempDir();
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { encoding: 'utf8' });
    if (mounted.status !== 0) {
      context.skip(`mount -t tmpfs is not permitted here: ${mounted.stderr.trim()}`);
      return;
    }
    let store: Store | undefined;
    try {
      const path = join(mountPoint, 'lablog.db');
      store = openStore({ path });
      const exp = store.createExperiment({ name: 'full' });
      const file = join(tempDir(), 'big.bin');
      writeFileSync(file, Buffer.alloc(8 * MiB, 5));
      const full = await rejection(exp.logArtifact(file, { name: 'big' }));
      expect(full.code).toBe('STORAGE_ERROR');
      expect(full.details).toMatchObject({ driver: 'filesystem', driverCode: 'ENOSPC', location: join(mountPoint, 'blobs') });
      expect(full.message).toContain('(the disk is full)');
      expect(exp.listArtifacts()).toEqual([]);
      expect(readdirSync(join(mountPoint, 'blobs', 'tmp'))).toEqual([]);
      expect(blobFiles(mountPoint)).toEqual([]);
      const small = await exp.logArtifact(Buffer.from('still works'), { name: 'small' });
      expect(exp.listArtifacts().map((a) => a.name)).toEqual(['small']);
      expect(blobFiles(mountPoint)).toEqual([small.sha256]);
      await exp.close();
      await store.close();
      store = undefined;
      expect(integrity(path)).toBe('ok');
    } finally {
      await store?.close();
      spawnSync('umount', [mountPoint]);
    }
  });
});

/** Lines of JSON a fixture printed. */
function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A sparse file of `size` bytes (holes read as zeros: made in no time, copied as real bytes). */
function sparseFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
}

describe('logArtifact in a child process', () => {
  it('SIGKILL during a large copy: nothing half-registered is visible, its blob is not stored, integrity_check ok', async () => {
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const file = join(dir, 'huge.bin');
    sparseFile(file, 4 * 1024 * MiB);
    const child: ChildProcess = startFixture('log-artifact.ts', [path, file, 'huge']);
    const exited = waitForExit(child);
    const temp = join(dir, 'blobs', 'tmp');
    // Killed once a good part of the copy is in its temp file.
    await waitFor(
      'the copy to be under way',
      () => existsSync(temp) && readdirSync(temp).some((name) => statSync(join(temp, name)).size > 64 * MiB),
      30_000,
    );
    child.kill('SIGKILL');
    const result = await exited;
    expect(result.signal).toBe('SIGKILL');

    expect(integrity(path)).toBe('ok');
    const store = openStore({ path });
    try {
      const exp = store.getExperiment('artifact-child');
      // Only the fixture's small warm-up artifact, logged before the big one.
      expect(exp.listArtifacts().map((a) => a.name)).toEqual(['warm-up']);
      expect(blobFiles(dir)).toEqual([sha256('warm-up')]);
      // The partial copy is a temp file, not a blob: gc neither lists nor removes it.
      expect(readdirSync(temp)).toHaveLength(1);
      expect((await store.collectArtifactBlobs()).removed).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a process that exits while a copy runs says which artifact was not logged, and none is registered', async () => {
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const file = join(dir, 'big.bin');
    sparseFile(file, 1024 * MiB);
    const result = await waitForExit(startFixture('log-artifact.ts', [path, file, 'big', 'exit']));
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /lablog: experiment 'artifact-child' \([0-9a-f-]+\): artifact 'big' was not logged: the process ended while its bytes were being copied/,
    );
    const store = openStore({ path });
    try {
      expect(
        store
          .getExperiment('artifact-child')
          .listArtifacts()
          .map((a) => a.name),
      ).toEqual(['warm-up']);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a 2 GiB file is copied with RSS growth under 64 MiB (peak sampled every 20 ms in the child)', async () => {
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const file = join(dir, 'two-gib.bin');
    const size = 2 * 1024 * MiB;
    sparseFile(file, size);
    const result = await waitForExit(startFixture('log-artifact.ts', [path, file, 'two-gib']));
    expect(result.code, result.stderr).toBe(0);
    const done = events(result.stdout).find((e) => e['event'] === 'done') as
      { record: { size: number; sha256: string }; rssBefore: number; rssPeak: number; ms: number } | undefined;
    expect(done, result.stdout).toBeDefined();
    expect(done!.record.size).toBe(size);
    const growth = (done!.rssPeak - done!.rssBefore) / MiB;
    const rate = size / MiB / (done!.ms / 1000);
    expect(
      growth,
      `RSS grew ${growth.toFixed(1)} MiB (from ${(done!.rssBefore / MiB).toFixed(0)} to ${(done!.rssPeak / MiB).toFixed(0)} MiB) copying 2 GiB in ${done!.ms} ms (${rate.toFixed(0)} MiB/s)`,
    ).toBeLessThan(64);
    console.log(`2 GiB artifact: RSS growth ${growth.toFixed(1)} MiB, ${done!.ms} ms (${rate.toFixed(0)} MiB/s)`);
    expect(statSync(join(dir, 'blobs', 'sha256', done!.record.sha256.slice(0, 2), done!.record.sha256.slice(2))).size).toBe(size);
  }, 60_000);
});

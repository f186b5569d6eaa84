// Artifacts on the embedded store: a file, a directory and bytes logged, listed, streamed and downloaded back (sha256 verified), deduplicated, versioned by step, read from a closed experiment, and collected by gc.

import { createHash, randomFillSync, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LablogError, openStore, type ArtifactRecord } from '../src/index.js';
import { artifactManifest } from '../src/model/artifact.js';
import { FileArtifactBlobs } from '../src/store/files/file-artifact-blobs.js';
import { SqliteBackend } from '../src/store/sqlite/sqlite-backend.js';
import type { ArtifactBlobs } from '../src/store/artifact-blobs.js';
import { logArtifactInto } from '../src/core/artifact-logging.js';
import { tempDir, tempStore } from './helpers.js';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every stored blob file under a store's blobs/sha256 folder. */
function blobFiles(storeDir: string): string[] {
  const root = join(storeDir, 'blobs', 'sha256');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((prefix) => readdirSync(join(root, prefix)).map((rest) => prefix + rest));
}

async function rejection(promise: Promise<unknown>): Promise<LablogError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LablogError);
    return error as LablogError;
  }
  throw new Error('expected a rejection');
}

describe('exp.logArtifact', () => {
  it('keeps a file: the record, the blob at blobs/sha256/ab/cdef…, listed, streamed and downloaded back with the same bytes', async () => {
    const { store, dir } = tempStore();
    const exp = store.createExperiment({ name: 'train' });
    const bytes = Buffer.from('weights '.repeat(100_000));
    const file = join(tempDir(), 'epoch-10.bin');
    writeFileSync(file, bytes);

    const record = await exp.logArtifact(file, { name: 'model', kind: 'checkpoint', step: 10, metadata: { epoch: 10 } });
    expect(record).toMatchObject({
      experimentId: exp.id,
      name: 'model',
      kind: 'checkpoint',
      step: 10,
      type: 'file',
      size: bytes.length,
      sha256: sha256(bytes),
      files: [{ path: 'epoch-10.bin', size: bytes.length, sha256: sha256(bytes) }],
      metadata: { epoch: 10 },
    });
    const blob = join(dir, 'blobs', 'sha256', record.sha256.slice(0, 2), record.sha256.slice(2));
    expect(readFileSync(blob).equals(bytes)).toBe(true);
    expect(exp.listArtifacts()).toEqual([record]);

    expect((await bytesOf(await exp.getArtifactStream('model'))).equals(bytes)).toBe(true);
    const out = tempDir();
    expect(await exp.downloadArtifact('model', out)).toEqual([join(out, 'epoch-10.bin')]);
    expect(readFileSync(join(out, 'epoch-10.bin')).equals(bytes)).toBe(true);
    // No temp file is left beside the download or in the blobs.
    expect(readdirSync(out)).toEqual(['epoch-10.bin']);
    expect(readdirSync(join(dir, 'blobs', 'tmp'))).toEqual([]);
    await exp.close();
  });

  it('copies a file of many chunks byte for byte (varied bytes: a chunk written twice or out of turn would change the sha256)', async () => {
    const { store, dir } = tempStore();
    const exp = store.createExperiment({ name: 'chunks' });
    // 41 MiB + 5 bytes: ten full copy chunks and a short last one, every 64 KiB different.
    const bytes = Buffer.alloc(41 * 1024 * 1024 + 5);
    for (let offset = 0; offset < bytes.length; offset += 65_536) randomFillSync(bytes, offset, Math.min(65_536, bytes.length - offset));
    const file = join(tempDir(), 'weights.bin');
    writeFileSync(file, bytes);
    const record = await exp.logArtifact(file, { name: 'weights' });
    expect(record.size).toBe(bytes.length);
    expect(record.sha256).toBe(sha256(bytes));
    expect(readFileSync(join(dir, 'blobs', 'sha256', record.sha256.slice(0, 2), record.sha256.slice(2))).equals(bytes)).toBe(true);
    await exp.close();
  });

  it('keeps a directory recursively (a symlink to a file followed): files sorted by path, sha256 of the manifest, downloaded back whole', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'tok' });
    const src = join(tempDir(), 'tokenizer');
    mkdirSync(join(src, 'nested', 'deeper'), { recursive: true });
    writeFileSync(join(src, 'vocab.txt'), 'a\nb\nc\n');
    writeFileSync(join(src, 'nested', 'merges.txt'), 'a b\n');
    writeFileSync(join(src, 'nested', 'deeper', 'empty.bin'), '');
    symlinkSync(join(src, 'vocab.txt'), join(src, 'vocab-link.txt'));

    const record = await exp.logArtifact(`${src}/`, {});
    expect(record.name).toBe('tokenizer');
    expect(record.type).toBe('directory');
    expect(record.files).toEqual([
      { path: 'nested/deeper/empty.bin', size: 0, sha256: sha256('') },
      { path: 'nested/merges.txt', size: 4, sha256: sha256('a b\n') },
      { path: 'vocab-link.txt', size: 6, sha256: sha256('a\nb\nc\n') },
      { path: 'vocab.txt', size: 6, sha256: sha256('a\nb\nc\n') },
    ]);
    expect(record.size).toBe(16);
    expect(record.sha256).toBe(sha256(artifactManifest(record.files)));

    const out = tempDir();
    const written = await exp.downloadArtifact('tokenizer', out);
    expect(written).toHaveLength(4);
    expect(readFileSync(join(out, 'nested', 'merges.txt'), 'utf8')).toBe('a b\n');
    expect(readFileSync(join(out, 'vocab-link.txt'), 'utf8')).toBe('a\nb\nc\n');
    expect(statSync(join(out, 'nested', 'deeper', 'empty.bin')).size).toBe(0);
    expect((await bytesOf(await exp.getArtifactStream('tokenizer', { path: 'nested/merges.txt' }))).toString()).toBe('a b\n');
    expect((await rejection(exp.getArtifactStream('tokenizer'))).code).toBe('INVALID_OPTION');
    await exp.close();
  });

  it('keeps bytes (a Buffer or Uint8Array, copied at the call); bytes need a name', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'cfg' });
    const json = Buffer.from('{"lr":0.1}');
    const logged = exp.logArtifact(json, { name: 'config.json' });
    json.fill(0x20); // changed after the call: the artifact keeps what was given
    const record = await logged;
    expect(record).toMatchObject({ name: 'config.json', type: 'file', size: 10, files: [{ path: 'config.json', size: 10 }] });
    expect((await bytesOf(await exp.getArtifactStream('config.json'))).toString()).toBe('{"lr":0.1}');
    const u8 = await exp.logArtifact(new Uint8Array([1, 2, 3]), { name: 'raw' });
    expect(u8.sha256).toBe(sha256(Buffer.from([1, 2, 3])));

    const unnamed = await rejection(exp.logArtifact(Buffer.from('x')));
    expect(unnamed.code).toBe('INVALID_OPTION');
    expect(unnamed.message).toContain('bytes need a name');
    expect((await rejection(exp.logArtifact(Buffer.from('x'), { name: '' }))).code).toBe('INVALID_NAME');
    expect((await rejection(exp.logArtifact(Buffer.from('x'), { name: 'a', step: -1 }))).code).toBe('INVALID_STEP');
    expect((await rejection(exp.logArtifact(Buffer.from('x'), { name: 'a', colour: 1 } as never))).message).toContain(
      "unknown option 'colour'",
    );
    const huge = await rejection(exp.logArtifact(Buffer.from('x'), { name: 'a', metadata: { text: 'x'.repeat(70_000) } }));
    expect(huge.code).toBe('LIMIT_EXCEEDED');
    expect(huge.details).toMatchObject({ limit: 64 * 1024 });
    expect(exp.listArtifacts().map((a) => a.name)).toEqual(['config.json', 'raw']);
    await exp.close();
  });

  it('stores the same bytes once: two artifacts (and a directory holding them) share one blob', async () => {
    const { store, dir } = tempStore();
    const exp = store.createExperiment({ name: 'dedup' });
    const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
    const src = join(tempDir(), 'same');
    mkdirSync(src);
    writeFileSync(join(src, 'a.bin'), bytes);
    writeFileSync(join(src, 'b.bin'), bytes);
    await exp.logArtifact(bytes, { name: 'first' });
    await exp.logArtifact(join(src, 'a.bin'), { name: 'second' });
    await exp.logArtifact(src, { name: 'both' });
    expect(blobFiles(dir)).toEqual([sha256(bytes)]);
    expect(exp.listArtifacts().map((a) => [a.name, a.size])).toEqual([
      ['both', 2 * bytes.length],
      ['first', bytes.length],
      ['second', bytes.length],
    ]);
    await exp.close();
  });

  it('versions by step: the highest step is read by default, another with { step }; a name without a step is its own version', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'ckpt' });
    await exp.logArtifact(Buffer.from('v-none'), { name: 'model' });
    await exp.logArtifact(Buffer.from('v1'), { name: 'model', step: 1 });
    await exp.logArtifact(Buffer.from('v2'), { name: 'model', step: 2 });
    expect(exp.listArtifacts().map((a) => a.step)).toEqual([null, 1, 2]);
    expect((await bytesOf(await exp.getArtifactStream('model'))).toString()).toBe('v2');
    expect((await bytesOf(await exp.getArtifactStream('model', { step: 1 }))).toString()).toBe('v1');
    expect((await bytesOf(await exp.getArtifactStream('model', { step: null }))).toString()).toBe('v-none');
    const missing = await rejection(exp.getArtifactStream('model', { step: 3 }));
    expect(missing.code).toBe('ARTIFACT_NOT_FOUND');
    expect(missing.message).toBe("experiment 'ckpt' has no artifact 'model' at step 3; it has: model");
    await exp.close();
  });

  it('close() waits for an artifact still being copied; a reading handle of the closed experiment lists and downloads it', async () => {
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const file = join(dir, 'big.bin');
    writeFileSync(file, Buffer.alloc(32 * 1024 * 1024, 1));
    const store = openStore({ path });
    const exp = store.createExperiment({ name: 'pending' });
    let record: ArtifactRecord | undefined;
    void exp.logArtifact(file, { name: 'big' }).then((r) => (record = r));
    await exp.close();
    await store.close();
    expect(record?.size).toBe(32 * 1024 * 1024);

    const reader = openStore({ path });
    try {
      const again = reader.getExperiment(exp.id);
      expect(again.listArtifacts().map((a) => [a.name, a.size])).toEqual([['big', 32 * 1024 * 1024]]);
      const out = tempDir();
      await again.downloadArtifact('big', out);
      expect(sha256(readFileSync(join(out, 'big.bin')))).toBe(record!.sha256);
      // A closed experiment takes no more artifacts.
      expect((await rejection(again.logArtifact(Buffer.from('x'), { name: 'late' }))).code).toBe('EXPERIMENT_CLOSED');
    } finally {
      await reader.close();
    }
  });

  it('gc removes only old blobs no artifact references; --dry-run style removes nothing; recent ones are kept', async () => {
    const { store, dir } = tempStore();
    const exp = store.createExperiment({ name: 'gc' });
    const kept = await exp.logArtifact(Buffer.from('kept'), { name: 'kept' });
    const blobs = new FileArtifactBlobs(join(dir, 'blobs'));
    const old = await blobs.write(Readable.from([Buffer.from('orphan, old')]), { maxBytes: 100 });
    const recent = await blobs.write(Readable.from([Buffer.from('orphan, recent')]), { maxBytes: 100 });
    const longAgo = new Date(Date.now() - 48 * 3600 * 1000);
    for (const sha of [kept.sha256, old.sha256]) utimesSync(blobs.blobPath(sha), longAgo, longAgo);

    const dry = await store.collectArtifactBlobs({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, removed: [{ sha256: old.sha256, size: 11 }], removedBytes: 11, referenced: 1, recent: 1 });
    expect(blobFiles(dir).sort()).toEqual([kept.sha256, old.sha256, recent.sha256].sort());

    const done = await store.collectArtifactBlobs();
    expect(done.removed).toEqual([{ sha256: old.sha256, size: 11 }]);
    expect(blobFiles(dir).sort()).toEqual([kept.sha256, recent.sha256].sort());
    expect((await bytesOf(await exp.getArtifactStream('kept'))).toString()).toBe('kept');
    await exp.close();
  });
});

describe('logArtifact into blobs without writeFrom (a stream of the file read on demand)', () => {
  it('copies the same bytes byte for byte and commits the artifact', async () => {
    const dir = tempDir();
    const backend = new SqliteBackend(join(dir, 'lablog.db'));
    try {
      const record = backend.createExperiment(
        { id: randomUUID(), project: 'default', description: null, tags: [], createdAt: Date.now(), pid: process.pid, hostname: 'h' },
        () => 'streamed',
      );
      const files = new FileArtifactBlobs(join(dir, 'blobs'));
      // Only the interface's required members: logArtifact takes the stream path.
      const blobs: ArtifactBlobs = {
        location: files.location,
        size: (sha) => files.size(sha),
        write: (source, options) => files.write(source, options),
        read: (sha, range) => files.read(sha, range),
        list: () => files.list(),
        remove: (sha) => files.remove(sha),
        uploadOffset: (sha) => files.uploadOffset(sha),
        appendUpload: (sha, offset, chunk) => files.appendUpload(sha, offset, chunk),
        completeUpload: (sha, size) => files.completeUpload(sha, size),
      };
      const target = { artifacts: backend.artifacts(), blobs, experimentId: record.id, experimentName: record.name };
      const bytes = randomFillSync(Buffer.alloc(5 * 1024 * 1024 + 3));
      const file = join(tempDir(), 'w.bin');
      writeFileSync(file, bytes);
      const logged = await logArtifactInto(target, file, { name: 'w', kind: null, step: null, metadata: {} });
      expect(logged.sha256).toBe(sha256(bytes));
      expect(readFileSync(files.blobPath(logged.sha256)).equals(bytes)).toBe(true);
      expect(
        backend
          .artifacts()
          .listArtifacts(record.id)
          .map((a) => a.name),
      ).toEqual(['w']);
    } finally {
      backend.close();
    }
  });
});

describe('FileArtifactBlobs', () => {
  it('reads ranges; a write over maxBytes or with another sha256 keeps nothing; temp files and uploads are never listed', async () => {
    const root = join(tempDir(), 'blobs');
    const blobs = new FileArtifactBlobs(root);
    const w = await blobs.write(Readable.from([Buffer.from('hello '), Buffer.from('world')]), { maxBytes: 11 });
    expect(w).toEqual({ sha256: sha256('hello world'), size: 11, existed: false });
    expect(await blobs.write(Readable.from([Buffer.from('hello world')]), { maxBytes: 11 })).toMatchObject({ existed: true });
    expect((await bytesOf(await blobs.read(w.sha256, { start: 6, end: 10 }))).toString()).toBe('world');
    expect((await rejection(blobs.read(w.sha256, { start: 6, end: 11 }))).code).toBe('INVALID_OPTION');
    expect((await rejection(blobs.read(sha256('nothing')))).code).toBe('ARTIFACT_NOT_FOUND');

    const over = await rejection(blobs.write(Readable.from([Buffer.alloc(12)]), { maxBytes: 11 }));
    expect(over.code).toBe('LIMIT_EXCEEDED');
    expect(over.details).toMatchObject({ limit: 11, actual: 12 });
    const wrong = await rejection(blobs.write(Readable.from([Buffer.from('abc')]), { maxBytes: 11, expectedSha256: sha256('abd') }));
    expect(wrong.code).toBe('CHECKSUM_MISMATCH');
    expect(wrong.details).toMatchObject({ expected: sha256('abd'), actual: sha256('abc') });
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);

    writeFileSync(join(root, 'tmp', 'left-by-a-crash.part'), 'x');
    await blobs.appendUpload(sha256('up'), 0, Buffer.from('u'));
    const listed: string[] = [];
    for await (const sha of blobs.list()) listed.push(sha);
    expect(listed).toEqual([w.sha256]);
    await blobs.remove(w.sha256);
    await blobs.remove(w.sha256);
    expect(await blobs.size(w.sha256)).toBeUndefined();
  });

  it('resumable uploads: offset = bytes received; a chunk out of order or sent again is UPLOAD_CONFLICT; completion verifies the sha256', async () => {
    const blobs = new FileArtifactBlobs(join(tempDir(), 'blobs'));
    const content = Buffer.from('0123456789');
    const sha = sha256(content);
    expect(await blobs.uploadOffset(sha)).toBe(0);
    expect(await blobs.appendUpload(sha, 0, content.subarray(0, 4))).toBe(4);
    const again = await rejection(blobs.appendUpload(sha, 0, content.subarray(0, 4)));
    expect(again.code).toBe('UPLOAD_CONFLICT');
    expect(again.details).toMatchObject({ expected: 4, actual: 0, sha256: sha });
    expect((await rejection(blobs.appendUpload(sha, 8, content.subarray(8)))).code).toBe('UPLOAD_CONFLICT');
    // Two sends of the same chunk at once: one is written, the other refused.
    const both = await Promise.allSettled([
      blobs.appendUpload(sha, 4, content.subarray(4)),
      blobs.appendUpload(sha, 4, content.subarray(4)),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await blobs.uploadOffset(sha)).toBe(10);
    expect(await blobs.size(sha)).toBeUndefined();
    await blobs.completeUpload(sha, 10);
    expect(await blobs.size(sha)).toBe(10);
    expect(await blobs.uploadOffset(sha)).toBe(0);

    const claimed = sha256('something else');
    await blobs.appendUpload(claimed, 0, Buffer.from('not it'));
    const bad = await rejection(blobs.completeUpload(claimed, 6));
    expect(bad.code).toBe('CHECKSUM_MISMATCH');
    expect(await blobs.uploadOffset(claimed)).toBe(0);
    expect(await blobs.size(claimed)).toBeUndefined();
  });
});

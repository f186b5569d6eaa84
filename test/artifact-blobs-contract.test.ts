// The ArtifactBlobs contract: one suite of cases run over every implementation in IMPLEMENTATIONS (S3 against s3rver, and a folder of files).

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ARTIFACT_CHUNK_BYTES } from '../src/model/artifact.js';
import { LablogError } from '../src/model/errors.js';
import type { ArtifactBlobs } from '../src/store/artifact-blobs.js';
import { openS3ArtifactBlobs, type S3ArtifactBlobs } from '../src/store/s3/s3-artifact-blobs.js';
import { FileArtifactBlobs } from '../src/store/files/file-artifact-blobs.js';
import { startS3Server, type S3Server } from './support/s3-server.js';

/** A fresh, empty blob store, and a second instance over the same bytes (a restarted server). */
interface BlobsHandle {
  readonly blobs: ArtifactBlobs;
  reopen(): Promise<ArtifactBlobs>;
}

/** One implementation under test: its name, and how to make a fresh store of it (removed after the suite). */
interface BlobsImplementation {
  readonly name: string;
  create(): Promise<BlobsHandle>;
}

/** Keys per ListObjectsV2 page in the S3 store under test: small, so listing a few dozen blobs takes several pages. */
const S3_TEST_LIST_PAGE_SIZE = 7;

let s3: Promise<S3Server> | undefined;
const closers: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A new prefix of one shared s3rver (started on first use) for each store. */
async function createS3(): Promise<BlobsHandle> {
  if (s3 === undefined) {
    s3 = startS3Server();
    closers.push(async () => (await s3!).stop());
  }
  const server = await s3;
  const location = `s3://${server.bucket}/contract/${randomUUID()}`;
  const open = async () => {
    const blobs = await openS3ArtifactBlobs(location, { env: server.env, listPageSize: S3_TEST_LIST_PAGE_SIZE });
    closers.push(() => (blobs as S3ArtifactBlobs).close());
    return blobs;
  };
  return { blobs: await open(), reopen: open };
}

/** A store over a new temp folder (removed after the suite), for an implementation that keeps its blobs in one. */
export async function inTempFolder(open: (folder: string) => ArtifactBlobs): Promise<BlobsHandle> {
  const folder = mkdtempSync(join(tmpdir(), 'lablog-blobs-'));
  closers.push(() => rmSync(folder, { recursive: true, force: true }));
  return { blobs: open(folder), reopen: async () => open(folder) };
}

/** Every ArtifactBlobs implementation: one line each (a folder of files: `create: () => inTempFolder((dir) => new …(dir))`). */
const IMPLEMENTATIONS: readonly BlobsImplementation[] = [
  { name: 'S3ArtifactBlobs (s3rver)', create: createS3 },
  { name: 'FileArtifactBlobs', create: () => inTempFolder((dir) => new FileArtifactBlobs(dir)) },
];

const MiB = 1024 * 1024;
/** What a streamed write and read of STREAMED_BYTES may add to the RSS (the bound, for any size). */
const MAX_STREAMING_RSS_GROWTH_MIB = 64;
const STREAMED_BYTES = 256 * MiB;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** A source that yields `bytes` in pieces of `piece` bytes (as a file stream would). */
const source = (bytes: Buffer, piece = 64 * 1024) =>
  Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
    })(),
  );
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
async function listAll(blobs: ArtifactBlobs): Promise<string[]> {
  const found: string[] = [];
  for await (const hash of blobs.list()) found.push(hash);
  return found;
}
/** The LablogError a promise rejects with (fails the test when it resolves, or rejects with something else). */
async function rejection(promise: Promise<unknown>): Promise<LablogError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LablogError);
  return error as LablogError;
}

describe.each(IMPLEMENTATIONS)('ArtifactBlobs contract: $name', (implementation) => {
  it('writes a stream and reads it back, under the sha256 computed while copying', async () => {
    const { blobs } = await implementation.create();
    const bytes = randomBytes(300_001);
    const written = await blobs.write(source(bytes), { maxBytes: 1 * MiB });
    expect(written).toEqual({ sha256: sha256(bytes), size: bytes.length, existed: false });
    expect(await blobs.size(written.sha256)).toBe(bytes.length);
    expect((await readAll(await blobs.read(written.sha256))).equals(bytes)).toBe(true);
    expect(await listAll(blobs)).toEqual([written.sha256]);
  });

  it('writes a blob of several parts (past ARTIFACT_CHUNK_BYTES) and an empty one', async () => {
    const { blobs } = await implementation.create();
    const bytes = randomBytes(2 * ARTIFACT_CHUNK_BYTES + 12_345);
    const written = await blobs.write(source(bytes, MiB), { maxBytes: 64 * MiB, expectedSha256: sha256(bytes) });
    expect(written).toEqual({ sha256: sha256(bytes), size: bytes.length, existed: false });
    expect((await readAll(await blobs.read(written.sha256))).equals(bytes)).toBe(true);
    const empty = await blobs.write(Readable.from([]), { maxBytes: 10 });
    expect(empty).toEqual({ sha256: sha256(Buffer.alloc(0)), size: 0, existed: false });
    expect((await readAll(await blobs.read(empty.sha256))).length).toBe(0);
    expect((await listAll(blobs)).sort()).toEqual([written.sha256, empty.sha256].sort());
  });

  it('keeps the same bytes once: a second write finds them (existed: true), with or without the sha256 announced', async () => {
    const { blobs } = await implementation.create();
    const bytes = randomBytes(10_000);
    expect((await blobs.write(source(bytes), { maxBytes: MiB })).existed).toBe(false);
    expect(await blobs.write(source(bytes), { maxBytes: MiB })).toEqual({ sha256: sha256(bytes), size: bytes.length, existed: true });
    expect(await blobs.write(source(bytes), { maxBytes: MiB, expectedSha256: sha256(bytes) })).toEqual({
      sha256: sha256(bytes),
      size: bytes.length,
      existed: true,
    });
    // Announced, stored, but not the bytes announced: still refused.
    const other = await rejection(blobs.write(source(randomBytes(10_000)), { maxBytes: MiB, expectedSha256: sha256(bytes) }));
    expect(other.code).toBe('CHECKSUM_MISMATCH');
    expect(await listAll(blobs)).toEqual([sha256(bytes)]);
  });

  it('refuses more than maxBytes with LIMIT_EXCEEDED and keeps nothing (in one part, and past several)', async () => {
    const { blobs } = await implementation.create();
    const small = await rejection(blobs.write(source(randomBytes(5_000), 1_000), { maxBytes: 4_500 }));
    expect(small.code).toBe('LIMIT_EXCEEDED');
    expect(small.details).toMatchObject({ limit: 4_500, actual: 5_000 });
    const large = await rejection(
      blobs.write(source(randomBytes(3 * ARTIFACT_CHUNK_BYTES), MiB), { maxBytes: 2 * ARTIFACT_CHUNK_BYTES + MiB }),
    );
    expect(large.code).toBe('LIMIT_EXCEEDED');
    expect(large.details).toMatchObject({ limit: 2 * ARTIFACT_CHUNK_BYTES + MiB, actual: 2 * ARTIFACT_CHUNK_BYTES + 2 * MiB });
    expect(await listAll(blobs)).toEqual([]);
  });

  it('refuses bytes whose sha256 is not the one announced with CHECKSUM_MISMATCH and keeps nothing', async () => {
    const { blobs } = await implementation.create();
    const wrong = sha256(Buffer.from('something else'));
    for (const bytes of [randomBytes(1_000), randomBytes(ARTIFACT_CHUNK_BYTES + 1)]) {
      const error = await rejection(blobs.write(source(bytes, MiB), { maxBytes: 64 * MiB, expectedSha256: wrong }));
      expect(error.code).toBe('CHECKSUM_MISMATCH');
      expect(error.details).toMatchObject({ expected: wrong, actual: sha256(bytes) });
      expect(await blobs.size(sha256(bytes))).toBeUndefined();
    }
    expect(await listAll(blobs)).toEqual([]);
  });

  it('reads ranges (start to end inclusive), across a part boundary too, and refuses one outside the blob', async () => {
    const { blobs } = await implementation.create();
    const bytes = randomBytes(ARTIFACT_CHUNK_BYTES + 1_000);
    const { sha256: hash } = await blobs.write(source(bytes, MiB), { maxBytes: 64 * MiB });
    const range = async (start: number, end: number) => readAll(await blobs.read(hash, { start, end }));
    expect((await range(2, 5)).equals(bytes.subarray(2, 6))).toBe(true);
    expect((await range(0, 0)).equals(bytes.subarray(0, 1))).toBe(true);
    expect((await range(bytes.length - 1, bytes.length - 1)).equals(bytes.subarray(bytes.length - 1))).toBe(true);
    const across = [ARTIFACT_CHUNK_BYTES - 100, ARTIFACT_CHUNK_BYTES + 100] as const;
    expect((await range(...across)).equals(bytes.subarray(across[0], across[1] + 1))).toBe(true);
    for (const [start, end] of [
      [0, bytes.length],
      [10, 9],
      [-1, 3],
      [bytes.length, bytes.length],
    ] as const) {
      const error = await rejection(blobs.read(hash, { start, end }));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.details).toMatchObject({ option: 'range', limit: bytes.length });
    }
  });

  it('answers ARTIFACT_NOT_FOUND for a blob not there, and INVALID_OPTION for a name that is not a sha256', async () => {
    const { blobs } = await implementation.create();
    const absent = sha256(Buffer.from('never written'));
    expect(await blobs.size(absent)).toBeUndefined();
    const error = await rejection(blobs.read(absent));
    expect(error.code).toBe('ARTIFACT_NOT_FOUND');
    expect(error.details).toMatchObject({ sha256: absent });
    expect((await rejection(blobs.read(absent, { start: 0, end: 0 }))).code).toBe('ARTIFACT_NOT_FOUND');
    for (const bad of ['ABC', '../'.repeat(21) + 'a', absent.toUpperCase()]) {
      expect((await rejection(blobs.read(bad))).code).toBe('INVALID_OPTION');
      expect((await rejection(blobs.size(bad))).code).toBe('INVALID_OPTION');
    }
  });

  it('lists every stored blob, over several pages', async () => {
    const { blobs } = await implementation.create();
    const hashes: string[] = [];
    for (let i = 0; i < 4 * S3_TEST_LIST_PAGE_SIZE + 3; i++)
      hashes.push((await blobs.write(source(Buffer.from(`blob ${i}`)), { maxBytes: 100 })).sha256);
    expect((await listAll(blobs)).sort()).toEqual(hashes.sort());
  });

  it('removes a blob (a second remove, or one of a blob never there, does nothing)', async () => {
    const { blobs } = await implementation.create();
    const keep = await blobs.write(source(Buffer.from('keep')), { maxBytes: 100 });
    const drop = await blobs.write(source(Buffer.from('drop')), { maxBytes: 100 });
    await blobs.remove(drop.sha256);
    await blobs.remove(drop.sha256);
    expect(await blobs.size(drop.sha256)).toBeUndefined();
    expect((await rejection(blobs.read(drop.sha256))).code).toBe('ARTIFACT_NOT_FOUND');
    expect(await listAll(blobs)).toEqual([keep.sha256]);
    // Written again, it is new.
    expect((await blobs.write(source(Buffer.from('drop')), { maxBytes: 100 })).existed).toBe(false);
  });

  describe('resumable uploads', () => {
    const chunked = () => {
      const bytes = randomBytes(2 * ARTIFACT_CHUNK_BYTES + 4_321);
      const chunks = [0, ARTIFACT_CHUNK_BYTES, 2 * ARTIFACT_CHUNK_BYTES].map((at) => bytes.subarray(at, at + ARTIFACT_CHUNK_BYTES));
      return { bytes, chunks, hash: sha256(bytes) };
    };

    it('takes chunks in order, tells the offset after each, and completes into the blob', async () => {
      const { blobs } = await implementation.create();
      const { bytes, chunks, hash } = chunked();
      expect(await blobs.uploadOffset(hash)).toBe(0);
      let offset = 0;
      for (const chunk of chunks) {
        offset = await blobs.appendUpload(hash, offset, chunk);
        expect(await blobs.uploadOffset(hash)).toBe(offset);
        // Not a blob until completed.
        expect(await blobs.size(hash)).toBeUndefined();
        expect(await listAll(blobs)).toEqual([]);
      }
      expect(offset).toBe(bytes.length);
      await blobs.completeUpload(hash, bytes.length);
      expect(await blobs.size(hash)).toBe(bytes.length);
      expect((await readAll(await blobs.read(hash))).equals(bytes)).toBe(true);
      expect(await listAll(blobs)).toEqual([hash]);
      expect(await blobs.uploadOffset(hash)).toBe(0);
    });

    it('refuses a chunk out of order or sent again with UPLOAD_CONFLICT naming the offset it is at, and writes nothing', async () => {
      const { blobs } = await implementation.create();
      const { bytes, chunks, hash } = chunked();
      const ahead = await rejection(blobs.appendUpload(hash, ARTIFACT_CHUNK_BYTES, chunks[1]!));
      expect(ahead.code).toBe('UPLOAD_CONFLICT');
      expect(ahead.details).toMatchObject({ expected: 0, actual: ARTIFACT_CHUNK_BYTES, sha256: hash });
      expect(await blobs.uploadOffset(hash)).toBe(0);
      expect(await blobs.appendUpload(hash, 0, chunks[0]!)).toBe(ARTIFACT_CHUNK_BYTES);
      const again = await rejection(blobs.appendUpload(hash, 0, chunks[0]!));
      expect(again.code).toBe('UPLOAD_CONFLICT');
      expect(again.details).toMatchObject({ expected: ARTIFACT_CHUNK_BYTES, actual: 0 });
      const skipped = await rejection(blobs.appendUpload(hash, 2 * ARTIFACT_CHUNK_BYTES, chunks[2]!));
      expect(skipped.details).toMatchObject({ expected: ARTIFACT_CHUNK_BYTES, actual: 2 * ARTIFACT_CHUNK_BYTES });
      expect(await blobs.uploadOffset(hash)).toBe(ARTIFACT_CHUNK_BYTES);
      // The same chunk sent twice at once is written once.
      const racing = await Promise.allSettled([
        blobs.appendUpload(hash, ARTIFACT_CHUNK_BYTES, chunks[1]!),
        blobs.appendUpload(hash, ARTIFACT_CHUNK_BYTES, chunks[1]!),
      ]);
      expect(racing.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(await blobs.uploadOffset(hash)).toBe(2 * ARTIFACT_CHUNK_BYTES);
      await blobs.appendUpload(hash, 2 * ARTIFACT_CHUNK_BYTES, chunks[2]!);
      await blobs.completeUpload(hash, bytes.length);
      expect((await readAll(await blobs.read(hash))).equals(bytes)).toBe(true);
    });

    it('resumes: another instance over the same storage reads the offset and goes on from it', async () => {
      const { blobs, reopen } = await implementation.create();
      const { bytes, chunks, hash } = chunked();
      await blobs.appendUpload(hash, 0, chunks[0]!);
      const again = await reopen();
      expect(await again.uploadOffset(hash)).toBe(ARTIFACT_CHUNK_BYTES);
      let offset = ARTIFACT_CHUNK_BYTES;
      for (const chunk of chunks.slice(1)) offset = await again.appendUpload(hash, offset, chunk);
      await again.completeUpload(hash, bytes.length);
      expect((await readAll(await blobs.read(hash))).equals(bytes)).toBe(true);
    });

    it('verifies on completion: bytes that do not hash to the sha256, or are not the size announced, are CHECKSUM_MISMATCH and discarded', async () => {
      const { blobs } = await implementation.create();
      const { bytes, chunks } = chunked();
      const claimed = sha256(Buffer.from('not these bytes'));
      let offset = 0;
      for (const chunk of chunks) offset = await blobs.appendUpload(claimed, offset, chunk);
      const wrongHash = await rejection(blobs.completeUpload(claimed, bytes.length));
      expect(wrongHash.code).toBe('CHECKSUM_MISMATCH');
      expect(wrongHash.details).toMatchObject({ expected: claimed, actual: sha256(bytes) });
      expect(await blobs.uploadOffset(claimed)).toBe(0);
      expect(await blobs.size(claimed)).toBeUndefined();

      const hash = sha256(bytes);
      await blobs.appendUpload(hash, 0, chunks[0]!);
      const wrongSize = await rejection(blobs.completeUpload(hash, bytes.length));
      expect(wrongSize.code).toBe('CHECKSUM_MISMATCH');
      expect(wrongSize.details).toMatchObject({ expected: hash });
      expect(await blobs.uploadOffset(hash)).toBe(0);
      expect(await listAll(blobs)).toEqual([]);
      // Discarded: the upload starts again from 0.
      expect(await blobs.appendUpload(hash, 0, chunks[0]!)).toBe(ARTIFACT_CHUNK_BYTES);
    });

    it('completes an empty upload into the empty blob; completing an upload never started is ARTIFACT_NOT_FOUND', async () => {
      const { blobs } = await implementation.create();
      const empty = sha256(Buffer.alloc(0));
      await blobs.completeUpload(empty, 0);
      expect(await blobs.size(empty)).toBe(0);
      const never = sha256(Buffer.from('never uploaded'));
      expect((await rejection(blobs.completeUpload(never, 10))).code).toBe('ARTIFACT_NOT_FOUND');
    });
  });

  it('streams: a 256 MiB write and read grow the RSS by less than 64 MiB', async () => {
    const { blobs } = await implementation.create();
    const total = STREAMED_BYTES;
    const piece = MiB;
    // Every piece different (so nothing dedups inside a part), made on the fly.
    const pieces = function* () {
      for (let i = 0; i < total / piece; i++) yield Buffer.alloc(piece, `piece ${i} `);
    };
    const expected = createHash('sha256');
    for (const p of pieces()) expected.update(p);
    const hash = expected.digest('hex');

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const written = await blobs.write(Readable.from(pieces()), { maxBytes: total });
      expect(written).toEqual({ sha256: hash, size: total, existed: false });
      const back = createHash('sha256');
      let size = 0;
      for await (const chunk of await blobs.read(hash)) {
        back.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      expect(size).toBe(total);
      expect(back.digest('hex')).toBe(hash);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const growthMiB = (peak - baseline) / MiB;
    expect(growthMiB, `the RSS grew by ${growthMiB.toFixed(1)} MiB`).toBeLessThan(MAX_STREAMING_RSS_GROWTH_MIB);
  }, 180_000);
});

// Artifact blobs in S3-compatible object storage: objects named by sha256 under s3://bucket/prefix, written as multipart uploads hashed while streamed and copied into place only once verified.

import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ARTIFACT_CHUNK_BYTES, SHA256_PATTERN } from '../../model/artifact.js';
import { LablogError } from '../../model/errors.js';
import type { ArtifactBlobs, WrittenBlob } from '../artifact-blobs.js';
import { formatS3Location, parseS3Location, s3ClientSettings, type S3Location } from './s3-location.js';
import { S3Objects, type CompletedPart, type S3Sdk } from './s3-objects.js';
import { S3_MAX_PARTS, S3_MIN_PART_BYTES, parseUploadState, uploadStateOffset, type S3UploadState } from './s3-upload-state.js';

/** The bytes of one part of a blob being written (memory held per write: one part, whatever the blob's size). */
export const S3_WRITE_PART_BYTES = ARTIFACT_CHUNK_BYTES;
/** Keys asked for per ListObjectsV2 page (S3's own maximum). */
export const DEFAULT_S3_LIST_PAGE_SIZE = 1_000;
/** How long connecting to the S3 endpoint may take, and how long a request may stay silent, before it fails. */
export const S3_CONNECT_TIMEOUT_MS = 10_000;
export const S3_REQUEST_TIMEOUT_MS = 120_000;
/** How often the SDK tries a request that failed in a way worth retrying (throttling, a 5xx, a reset connection). */
export const S3_MAX_ATTEMPTS = 3;

/** The folders under the prefix: stored blobs (by algorithm), blobs being written, and resumable uploads. */
const BLOB_FOLDER = 'sha256';
const TEMP_FOLDER = 'tmp';
const UPLOAD_FOLDER = 'uploads';
/** The sha256 of no bytes (an empty blob needs no multipart upload). */
const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** Options of openS3ArtifactBlobs. */
export interface S3ArtifactBlobsOptions {
  /** Where the AWS_* variables are read (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Keys per ListObjectsV2 page (1 to 1,000; default 1,000). */
  readonly listPageSize?: number;
}

/**
 * Opens the blobs at `location` (`s3://bucket/prefix`), with the endpoint, region and credentials of the
 * AWS environment variables (s3-location.ts). Loads @aws-sdk/client-s3 here, on first use. Nothing is
 * sent until the first call: a bucket that does not exist fails that call with STORAGE_ERROR.
 */
export async function openS3ArtifactBlobs(location: string, options: S3ArtifactBlobsOptions = {}): Promise<S3ArtifactBlobs> {
  const target = parseS3Location(location);
  const settings = s3ClientSettings(options.env ?? process.env);
  const pageSize = options.listPageSize ?? DEFAULT_S3_LIST_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > DEFAULT_S3_LIST_PAGE_SIZE) {
    throw new LablogError('INVALID_OPTION', `listPageSize is 1 to ${DEFAULT_S3_LIST_PAGE_SIZE}, got ${String(pageSize)}`, {
      option: 'listPageSize',
      actual: pageSize,
      limit: DEFAULT_S3_LIST_PAGE_SIZE,
    });
  }
  // Loaded here, on first use: only this file loads the SDK, and other entry points never pay for it.
  const sdk: S3Sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: S3_MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: S3_CONNECT_TIMEOUT_MS, requestTimeout: S3_REQUEST_TIMEOUT_MS },
    // Checksums only where S3 requires them: by default the SDK frames streamed bodies as aws-chunked
    // with a trailing CRC32, which not every S3-compatible server understands (s3rver stores the framing
    // as the object's bytes); the bytes are verified by their sha256 here instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials !== undefined ? { credentials: settings.credentials } : {}),
  });
  return new S3ArtifactBlobs(new S3Objects(sdk, client, target.bucket, formatS3Location(target)), target, pageSize);
}

/**
 * The blobs of an S3 bucket under a prefix (`lablog server --artifacts s3://bucket/prefix`), so several
 * stateless servers share them. A blob is the object `<prefix>/sha256/ab/cdef…`, visible only complete and
 * verified: write() streams parts of S3_WRITE_PART_BYTES through a sha256 into a multipart upload at a temp
 * key, then copies it into place; an upload's chunks are parts of a multipart upload whose state is the
 * object `<prefix>/uploads/<sha256>.json`, hashed back before it is copied in. Failures of S3 are
 * STORAGE_ERROR with driver 's3' and S3's error code.
 */
export class S3ArtifactBlobs implements ArtifactBlobs {
  readonly location: string;
  readonly #objects: S3Objects;
  readonly #prefix: string;
  readonly #pageSize: number;
  /** Uploads of one sha256 are serialized in this process (a chunk sent twice at once writes once). */
  readonly #uploadLocks = new Map<string, Promise<unknown>>();

  /** @internal Use openS3ArtifactBlobs. */
  constructor(objects: S3Objects, target: S3Location, pageSize: number) {
    this.#objects = objects;
    this.#prefix = target.prefix;
    this.#pageSize = pageSize;
    this.location = formatS3Location(target);
  }

  /** The key of a stored blob: `<prefix>/sha256/ab/cdef…`. */
  blobKey(sha256: string): string {
    assertSha256(sha256);
    return this.#key(BLOB_FOLDER, sha256.slice(0, 2), sha256.slice(2));
  }

  async size(sha256: string): Promise<number | undefined> {
    return await this.#objects.size(this.blobKey(sha256), 'reading the size of a blob');
  }

  async write(source: Readable, options: { readonly maxBytes: number; readonly expectedSha256?: string }): Promise<WrittenBlob> {
    const { maxBytes, expectedSha256 } = options;
    if (expectedSha256 !== undefined) assertSha256(expectedSha256);
    // Bytes announced and already stored are only hashed (to check them), not sent again.
    const known = expectedSha256 !== undefined && (await this.size(expectedSha256)) !== undefined;
    const hash = createHash('sha256');
    const pending = new PartBuffer();
    let size = 0;
    let upload: { key: string; uploadId: string; parts: CompletedPart[] } | undefined;
    let assembled: string | undefined;
    try {
      for await (const chunk of source as AsyncIterable<Buffer | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += bytes.length;
        if (size > maxBytes) {
          throw new LablogError(
            'LIMIT_EXCEEDED',
            `a blob is at most ${maxBytes} bytes; this one is more than that (${size} bytes read so far)`,
            { limit: maxBytes, actual: size },
          );
        }
        hash.update(bytes);
        if (known) continue;
        pending.push(bytes);
        while (pending.bytes >= S3_WRITE_PART_BYTES) {
          if (upload === undefined) {
            const key = this.#key(TEMP_FOLDER, randomUUID());
            upload = { key, uploadId: await this.#objects.createMultipart(key), parts: [] };
          }
          const part = pending.take(S3_WRITE_PART_BYTES);
          upload.parts.push(await this.#objects.uploadPart(upload.key, upload.uploadId, upload.parts.length + 1, part));
        }
      }
      const sha256 = hash.digest('hex');
      if (expectedSha256 !== undefined && expectedSha256 !== sha256) {
        throw new LablogError('CHECKSUM_MISMATCH', `the bytes have sha256 ${sha256}, not the ${expectedSha256} announced`, {
          expected: expectedSha256,
          actual: sha256,
        });
      }
      const finalKey = this.blobKey(sha256);
      if (known || (await this.#objects.size(finalKey, 'looking for a blob')) !== undefined) return { sha256, size, existed: true };
      if (upload === undefined) {
        // One part or less: its sha256 is known before it is sent, so it goes straight into place (a PUT is atomic).
        await this.#objects.put(finalKey, pending.take(pending.bytes), 'writing a blob');
        return { sha256, size, existed: false };
      }
      if (pending.bytes > 0) {
        upload.parts.push(
          await this.#objects.uploadPart(upload.key, upload.uploadId, upload.parts.length + 1, pending.take(pending.bytes)),
        );
      }
      await this.#objects.completeMultipart(upload.key, upload.uploadId, upload.parts);
      assembled = upload.key;
      upload = undefined;
      await this.#objects.copy(assembled, finalKey, size);
      return { sha256, size, existed: false };
    } finally {
      if (upload !== undefined) await this.#objects.abortMultipart(upload.key, upload.uploadId);
      if (assembled !== undefined) await this.#objects.deleteQuietly(assembled);
    }
  }

  async read(sha256: string, range?: { readonly start: number; readonly end: number }): Promise<Readable> {
    const key = this.blobKey(sha256);
    if (range !== undefined) {
      const size = await this.#objects.size(key, 'reading the size of a blob');
      if (size === undefined) throw notFound(sha256, this.location);
      const { start, end } = range;
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size) {
        throw new LablogError('INVALID_OPTION', `range ${start}-${end} is not inside the blob's ${size} bytes`, {
          option: 'range',
          actual: `${start}-${end}`,
          limit: size,
        });
      }
    }
    const body = await this.#objects.body(key, 'reading a blob', range);
    if (body === undefined) throw notFound(sha256, this.location);
    return body;
  }

  async *list(): AsyncIterable<string> {
    const folder = `${this.#key(BLOB_FOLDER)}/`;
    let token: string | undefined;
    do {
      const page = await this.#objects.listPage(folder, this.#pageSize, token);
      for (const key of page.keys) {
        const rest = key.slice(folder.length);
        const sha256 = rest.slice(0, 2) + rest.slice(3);
        if (rest[2] === '/' && SHA256_PATTERN.test(sha256)) yield sha256;
      }
      token = page.next;
    } while (token !== undefined);
  }

  async remove(sha256: string): Promise<void> {
    await this.#objects.delete(this.blobKey(sha256), 'removing a blob');
  }

  async uploadOffset(sha256: string): Promise<number> {
    const state = await this.#readUploadState(sha256);
    return state === undefined ? 0 : uploadStateOffset(state);
  }

  appendUpload(sha256: string, offset: number, chunk: Buffer): Promise<number> {
    return this.#withUploadLock(sha256, async () => {
      const state = await this.#readUploadState(sha256);
      const current = state === undefined ? 0 : uploadStateOffset(state);
      if (offset !== current) {
        throw new LablogError(
          'UPLOAD_CONFLICT',
          `the upload of ${sha256} is at offset ${current}; a chunk at offset ${offset} (out of order, or sent again) was not written`,
          { expected: current, actual: offset, sha256 },
        );
      }
      const last = state?.parts.at(-1);
      if (last !== undefined && last.size < S3_MIN_PART_BYTES) {
        throw new LablogError(
          'INVALID_OPTION',
          `an upload to S3 takes chunks of at least ${S3_MIN_PART_BYTES} bytes (S3_MIN_PART_BYTES) but the last one; the chunk at offset ` +
            `${current - last.size} was ${last.size} bytes, so none can follow it (send chunks of ARTIFACT_CHUNK_BYTES, ${ARTIFACT_CHUNK_BYTES})`,
          { option: 'chunk', actual: last.size, limit: S3_MIN_PART_BYTES, hash: sha256 },
        );
      }
      if (chunk.length === 0) return current;
      const parts = state?.parts ?? [];
      if (parts.length >= S3_MAX_PARTS) {
        throw new LablogError(
          'LIMIT_EXCEEDED',
          `an upload to S3 has at most ${S3_MAX_PARTS} chunks (S3_MAX_PARTS); this one has ${parts.length}`,
          {
            limit: S3_MAX_PARTS,
            actual: parts.length + 1,
          },
        );
      }
      // Each upload assembles at a key of its own: what a discarded one left behind is never taken for it.
      const key = state?.key ?? this.#key(UPLOAD_FOLDER, `${sha256}-${randomUUID()}.bin`);
      const uploadId = state?.uploadId ?? (await this.#objects.createMultipart(key));
      const part = await this.#objects.uploadPart(key, uploadId, parts.length + 1, chunk);
      const next: S3UploadState = {
        uploadId,
        key,
        parts: [...parts, { partNumber: part.PartNumber, etag: part.ETag, size: chunk.length }],
      };
      // The chunk is acknowledged once the state says so: a crash before it leaves the offset where it was.
      await this.#objects.put(this.#uploadStateKey(sha256), JSON.stringify(next), 'recording an upload chunk');
      return current + chunk.length;
    });
  }

  completeUpload(sha256: string, size: number): Promise<void> {
    return this.#withUploadLock(sha256, async () => {
      const state = await this.#readUploadState(sha256);
      const finalKey = this.blobKey(sha256);
      if (state === undefined) {
        if (size !== 0) throw notFound(sha256, this.location);
        if (sha256 !== EMPTY_SHA256) throw mismatch(sha256, size, EMPTY_SHA256);
        await this.#objects.put(finalKey, Buffer.alloc(0), 'writing an empty blob');
        return;
      }
      const finish = async () => {
        await this.#objects.abortMultipart(state.key, state.uploadId);
        await this.#objects.deleteQuietly(state.key);
        await this.#objects.deleteQuietly(this.#uploadStateKey(sha256));
      };
      const received = uploadStateOffset(state);
      if (received !== size) {
        await finish();
        throw mismatch(sha256, size, `(${received} bytes, not ${size})`);
      }
      // A complete whose answer was lost after S3 had assembled the object is not done twice.
      if ((await this.#objects.size(state.key, 'looking for an assembled upload')) !== size) {
        const parts = state.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag }));
        await this.#objects.completeMultipart(state.key, state.uploadId, parts);
      }
      const actual = await this.#hashObject(state.key);
      if (actual !== sha256) {
        await finish();
        throw mismatch(sha256, size, actual);
      }
      if ((await this.#objects.size(finalKey, 'looking for a blob')) === undefined) await this.#objects.copy(state.key, finalKey, size);
      await this.#objects.deleteQuietly(state.key);
      await this.#objects.deleteQuietly(this.#uploadStateKey(sha256));
    });
  }

  /** Closes the client's connections. */
  close(): void {
    this.#objects.destroy();
  }

  // ---- internals -----------------------------------------------------------------------------------

  #key(...segments: string[]): string {
    return [this.#prefix, ...segments].filter((s) => s !== '').join('/');
  }

  #uploadStateKey(sha256: string): string {
    assertSha256(sha256);
    return this.#key(UPLOAD_FOLDER, `${sha256}.json`);
  }

  async #readUploadState(sha256: string): Promise<S3UploadState | undefined> {
    const key = this.#uploadStateKey(sha256);
    const what = 'reading the state of an upload';
    const body = await this.#objects.body(key, what);
    if (body === undefined) return undefined;
    const text = await this.#objects.guard(what, async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    });
    const state = parseUploadState(text);
    if (state === undefined) {
      throw new LablogError('STORAGE_ERROR', `the state of the upload of ${sha256} (${key} in ${this.location}) is malformed`, {
        driver: 's3',
        driverCode: null,
        location: this.location,
      });
    }
    return state;
  }

  /** The sha256 of an object, streamed back from S3. */
  async #hashObject(key: string): Promise<string> {
    const what = 'reading an upload back';
    const body = await this.#objects.body(key, what);
    if (body === undefined) throw this.#objects.storageError(what, new Error(`${key} is not there`));
    const hash = createHash('sha256');
    await this.#objects.guard(what, async () => {
      for await (const chunk of body) hash.update(chunk as Buffer);
    });
    return hash.digest('hex');
  }

  #withUploadLock<T>(sha256: string, fn: () => Promise<T>): Promise<T> {
    assertSha256(sha256);
    const before = this.#uploadLocks.get(sha256) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.#uploadLocks.set(sha256, settled);
    void settled.then(() => {
      if (this.#uploadLocks.get(sha256) === settled) this.#uploadLocks.delete(sha256);
    });
    return run;
  }
}

/** The bytes of a write, collected until a part is full. */
class PartBuffer {
  #chunks: Buffer[] = [];
  bytes = 0;

  push(bytes: Buffer): void {
    this.#chunks.push(bytes);
    this.bytes += bytes.length;
  }

  /** The first `count` bytes (all of them when `count` is `bytes`), removed from the buffer. */
  take(count: number): Buffer {
    const all = Buffer.concat(this.#chunks, this.bytes);
    const rest = all.subarray(count);
    this.#chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.bytes = rest.length;
    return all.subarray(0, count);
  }
}

function assertSha256(sha256: string): void {
  if (typeof sha256 !== 'string' || !SHA256_PATTERN.test(sha256)) {
    throw new LablogError(
      'INVALID_OPTION',
      `a blob is named by a sha256 of 64 lower-case hex digits, got '${String(sha256).slice(0, 80)}'`,
      {
        option: 'sha256',
        actual: String(sha256).slice(0, 80),
      },
    );
  }
}

function notFound(sha256: string, location: string): LablogError {
  return new LablogError('ARTIFACT_NOT_FOUND', `no blob ${sha256} in ${location}`, { sha256 });
}

/** The upload of `sha256` did not hold its bytes: `actual` is the sha256 it had, or `(n bytes, not size)`. */
function mismatch(sha256: string, size: number, actual: string): LablogError {
  const had = actual.startsWith('(') ? actual.slice(1, -1) : `sha256 ${actual}`;
  return new LablogError('CHECKSUM_MISMATCH', `the upload of ${sha256} (${size} bytes announced) has ${had}; it was discarded`, {
    expected: sha256,
    actual,
  });
}

// Artifact blobs in S3-compatible object storage: objects named by sha256 under s3://bucket/prefix, written as multipart uploads hashed while streamed and copied into place only once verified.

import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { ARTIFACT_CHUNK_BYTES, SHA256_PATTERN } from '../../model/artifact.js';
import { LablogError } from '../../model/errors.js';
import { driverCodeOf } from '../../model/error-codes.js';
import type { ArtifactBlobs, WrittenBlob } from '../artifact-blobs.js';
import { formatS3Location, parseS3Location, s3ClientSettings, type S3Location } from './s3-location.js';
import { S3_MAX_PARTS, S3_MIN_PART_BYTES, parseUploadState, uploadStateOffset, type S3UploadState } from './s3-upload-state.js';

/** The SDK's module, loaded on first use (only this file loads it: other entry points never pay for it). */
type S3Sdk = typeof import('@aws-sdk/client-s3');

/** The bytes of one part of a blob being written (memory held per write: one part, whatever the blob's size). */
export const S3_WRITE_PART_BYTES = ARTIFACT_CHUNK_BYTES;
/** S3's largest object one CopyObject copies (5 GiB); larger ones are copied part by part. */
export const S3_MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;
/** The bytes of one part when a large object is copied part by part (UploadPartCopy). */
export const S3_COPY_PART_BYTES = 1024 ** 3;
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
  const sdk: S3Sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: S3_MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: S3_CONNECT_TIMEOUT_MS, requestTimeout: S3_REQUEST_TIMEOUT_MS },
    // Checksums only where S3 requires them: S3-compatible servers (older MinIO, s3rver) refuse the
    // SDK's default trailing CRC32s; the bytes are verified by their sha256 here instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials !== undefined ? { credentials: settings.credentials } : {}),
  });
  return new S3ArtifactBlobs(sdk, client, target, pageSize);
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
  readonly #sdk: S3Sdk;
  readonly #client: S3Client;
  readonly #target: S3Location;
  readonly #pageSize: number;
  /** Uploads of one sha256 are serialized in this process (a chunk sent twice at once writes once). */
  readonly #uploadLocks = new Map<string, Promise<unknown>>();

  /** @internal Use openS3ArtifactBlobs. */
  constructor(sdk: S3Sdk, client: S3Client, target: S3Location, pageSize: number) {
    this.#sdk = sdk;
    this.#client = client;
    this.#target = target;
    this.#pageSize = pageSize;
    this.location = formatS3Location(target);
  }

  /** The key of a stored blob: `<prefix>/sha256/ab/cdef…`. */
  blobKey(sha256: string): string {
    assertSha256(sha256);
    return this.#key(BLOB_FOLDER, sha256.slice(0, 2), sha256.slice(2));
  }

  async size(sha256: string): Promise<number | undefined> {
    return await this.#objectSize(this.blobKey(sha256), 'reading the size of a blob');
  }

  async write(source: Readable, options: { readonly maxBytes: number; readonly expectedSha256?: string }): Promise<WrittenBlob> {
    const { maxBytes, expectedSha256 } = options;
    if (expectedSha256 !== undefined) assertSha256(expectedSha256);
    // Bytes announced and already stored are only hashed (to check them), not sent again.
    const known = expectedSha256 !== undefined && (await this.size(expectedSha256)) !== undefined;
    const hash = createHash('sha256');
    const pending = new PartBuffer();
    let size = 0;
    let upload: { key: string; uploadId: string; parts: { PartNumber: number; ETag: string }[] } | undefined;
    let completedTemp: string | undefined;
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
          upload ??= { key: this.#key(TEMP_FOLDER, randomUUID()), uploadId: '', parts: [] };
          if (upload.uploadId === '') upload.uploadId = await this.#createMultipart(upload.key);
          upload.parts.push(
            await this.#uploadPart(upload.key, upload.uploadId, upload.parts.length + 1, pending.take(S3_WRITE_PART_BYTES)),
          );
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
      if (known || (await this.#objectSize(finalKey, 'looking for a blob')) !== undefined) {
        return { sha256, size, existed: true };
      }
      if (upload === undefined) {
        // One part or less: its sha256 is known before it is sent, so it goes straight into place (a PUT is atomic).
        await this.#guard('writing a blob', () =>
          this.#client.send(
            new this.#sdk.PutObjectCommand({ Bucket: this.#target.bucket, Key: finalKey, Body: pending.take(pending.bytes) }),
          ),
        );
        return { sha256, size, existed: false };
      }
      if (pending.bytes > 0) {
        upload.parts.push(await this.#uploadPart(upload.key, upload.uploadId, upload.parts.length + 1, pending.take(pending.bytes)));
      }
      await this.#completeMultipart(upload.key, upload.uploadId, upload.parts);
      completedTemp = upload.key;
      upload = undefined;
      await this.#copy(completedTemp, finalKey, size);
      return { sha256, size, existed: false };
    } finally {
      if (upload !== undefined && upload.uploadId !== '') await this.#abortMultipart(upload.key, upload.uploadId);
      if (completedTemp !== undefined) await this.#deleteQuietly(completedTemp);
    }
  }

  async read(sha256: string, range?: { readonly start: number; readonly end: number }): Promise<Readable> {
    const key = this.blobKey(sha256);
    if (range !== undefined) {
      const size = await this.#objectSize(key, 'reading the size of a blob');
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
    const body = await this.#getBody(key, 'reading a blob', range);
    if (body === undefined) throw notFound(sha256, this.location);
    return body;
  }

  async *list(): AsyncIterable<string> {
    const folder = `${this.#key(BLOB_FOLDER)}/`;
    let token: string | undefined;
    do {
      const page = await this.#guard('listing blobs', () =>
        this.#client.send(
          new this.#sdk.ListObjectsV2Command({
            Bucket: this.#target.bucket,
            Prefix: folder,
            MaxKeys: this.#pageSize,
            ContinuationToken: token,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        const rest = object.Key?.slice(folder.length) ?? '';
        const sha256 = rest.slice(0, 2) + rest.slice(3);
        if (rest[2] === '/' && SHA256_PATTERN.test(sha256)) yield sha256;
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async remove(sha256: string): Promise<void> {
    await this.#guard('removing a blob', () =>
      this.#client.send(new this.#sdk.DeleteObjectCommand({ Bucket: this.#target.bucket, Key: this.blobKey(sha256) })),
    );
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
      const key = state?.key ?? this.#key(UPLOAD_FOLDER, `${sha256}.bin`);
      const uploadId = state?.uploadId ?? (await this.#createMultipart(key));
      const part = await this.#uploadPart(key, uploadId, parts.length + 1, chunk);
      const next: S3UploadState = {
        uploadId,
        key,
        parts: [...parts, { partNumber: part.PartNumber, etag: part.ETag, size: chunk.length }],
      };
      // The chunk is acknowledged once the state says so: a crash before it leaves the offset where it was.
      await this.#guard('recording an upload chunk', () =>
        this.#client.send(
          new this.#sdk.PutObjectCommand({
            Bucket: this.#target.bucket,
            Key: this.#uploadStateKey(sha256),
            Body: JSON.stringify(next),
            ContentType: 'application/json',
          }),
        ),
      );
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
        await this.#guard('writing an empty blob', () =>
          this.#client.send(new this.#sdk.PutObjectCommand({ Bucket: this.#target.bucket, Key: finalKey, Body: Buffer.alloc(0) })),
        );
        return;
      }
      const received = uploadStateOffset(state);
      const discard = async () => {
        await this.#abortMultipart(state.key, state.uploadId);
        await this.#deleteQuietly(state.key);
        await this.#deleteQuietly(this.#uploadStateKey(sha256));
      };
      if (received !== size) {
        await discard();
        throw mismatch(sha256, size, `(${received} bytes, not ${size})`);
      }
      // A complete that failed after S3 had assembled the object (a lost answer) is not done twice.
      if ((await this.#objectSize(state.key, 'looking for an assembled upload')) !== size) {
        await this.#completeMultipart(
          state.key,
          state.uploadId,
          state.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })),
        );
      }
      const actual = await this.#hashObject(state.key);
      if (actual !== sha256) {
        await discard();
        throw mismatch(sha256, size, actual);
      }
      if ((await this.#objectSize(finalKey, 'looking for a blob')) === undefined) await this.#copy(state.key, finalKey, size);
      await this.#deleteQuietly(state.key);
      await this.#deleteQuietly(this.#uploadStateKey(sha256));
    });
  }

  /** Closes the client's connections. */
  close(): void {
    this.#client.destroy();
  }

  // ---- internals -----------------------------------------------------------------------------------

  #key(...segments: string[]): string {
    return [this.#target.prefix, ...segments].filter((s) => s !== '').join('/');
  }

  #uploadStateKey(sha256: string): string {
    assertSha256(sha256);
    return this.#key(UPLOAD_FOLDER, `${sha256}.json`);
  }

  async #readUploadState(sha256: string): Promise<S3UploadState | undefined> {
    const key = this.#uploadStateKey(sha256);
    const body = await this.#getBody(key, 'reading the state of an upload');
    if (body === undefined) return undefined;
    const text = await this.#guard('reading the state of an upload', async () => {
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

  async #objectSize(key: string, what: string): Promise<number | undefined> {
    try {
      const head = await this.#client.send(new this.#sdk.HeadObjectCommand({ Bucket: this.#target.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (cause) {
      if (isMissingObject(cause)) return undefined;
      throw this.#storageError(what, cause);
    }
  }

  /** An object's bytes as a stream (a range of them, when given); undefined when there is no such object. */
  async #getBody(key: string, what: string, range?: { readonly start: number; readonly end: number }): Promise<Readable | undefined> {
    try {
      const answer = await this.#client.send(
        new this.#sdk.GetObjectCommand({
          Bucket: this.#target.bucket,
          Key: key,
          ...(range !== undefined ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      if (!(answer.Body instanceof Readable)) throw new Error(`the S3 client answered a body that is not a stream (${typeof answer.Body})`);
      if (range === undefined || answer.ContentRange?.startsWith(`bytes ${range.start}-${range.end}/`)) return answer.Body;
      // A server may answer a range with more than it (the whole object, as HTTP allows; s3rver for `bytes=0-0`): cut it to the range.
      const skip =
        answer.ContentRange === undefined ? range.start : range.start - Number(/^bytes (\d+)-/.exec(answer.ContentRange)?.[1] ?? 0);
      return Readable.from(
        sliceBytes(answer.Body, skip, range.end - range.start + 1, () =>
          this.#storageError(what, new Error(`S3 answered less than the range ${range.start}-${range.end} of ${key}`)),
        ),
        {
          objectMode: false,
        },
      );
    } catch (cause) {
      if (isMissingObject(cause)) return undefined;
      throw this.#storageError(what, cause);
    }
  }

  async #hashObject(key: string): Promise<string> {
    const body = await this.#getBody(key, 'reading an upload back');
    if (body === undefined) throw this.#storageError('reading an upload back', new Error(`${key} is not there`));
    const hash = createHash('sha256');
    await this.#guard('hashing an upload', async () => {
      for await (const chunk of body) hash.update(chunk as Buffer);
    });
    return hash.digest('hex');
  }

  async #createMultipart(key: string): Promise<string> {
    const answer = await this.#guard('starting a multipart upload', () =>
      this.#client.send(new this.#sdk.CreateMultipartUploadCommand({ Bucket: this.#target.bucket, Key: key })),
    );
    if (answer.UploadId === undefined) throw this.#storageError('starting a multipart upload', new Error('S3 answered no UploadId'));
    return answer.UploadId;
  }

  async #uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<{ PartNumber: number; ETag: string }> {
    if (partNumber > S3_MAX_PARTS) {
      throw new LablogError(
        'LIMIT_EXCEEDED',
        `a multipart upload to S3 has at most ${S3_MAX_PARTS} parts (S3_MAX_PARTS); this one needs more`,
        {
          limit: S3_MAX_PARTS,
          actual: partNumber,
        },
      );
    }
    const answer = await this.#guard('uploading a part', () =>
      this.#client.send(
        new this.#sdk.UploadPartCommand({ Bucket: this.#target.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body }),
      ),
    );
    if (answer.ETag === undefined) throw this.#storageError('uploading a part', new Error('S3 answered no ETag'));
    return { PartNumber: partNumber, ETag: answer.ETag };
  }

  async #completeMultipart(key: string, uploadId: string, parts: readonly { PartNumber: number; ETag: string }[]): Promise<void> {
    await this.#guard('completing a multipart upload', () =>
      this.#client.send(
        new this.#sdk.CompleteMultipartUploadCommand({
          Bucket: this.#target.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: [...parts] },
        }),
      ),
    );
  }

  /**
   * Abandons a multipart upload, best effort: the blob is failing already, and S3-compatible servers do
   * not all abort (s3rver does not). Its parts were never an object, so nothing of it is listed; a
   * bucket lifecycle rule (AbortIncompleteMultipartUpload) frees what an abort could not.
   */
  async #abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.#client
      .send(new this.#sdk.AbortMultipartUploadCommand({ Bucket: this.#target.bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
  }

  /** Deletes a temp object, best effort (a leftover is under tmp/ or uploads/, never listed as a blob). */
  async #deleteQuietly(key: string): Promise<void> {
    await this.#client.send(new this.#sdk.DeleteObjectCommand({ Bucket: this.#target.bucket, Key: key })).catch(() => undefined);
  }

  /** Copies an object inside the bucket: one CopyObject up to S3_MAX_COPY_OBJECT_BYTES, part by part past it. */
  async #copy(from: string, to: string, size: number): Promise<void> {
    const CopySource = `${this.#target.bucket}/${from}`;
    if (size <= S3_MAX_COPY_OBJECT_BYTES) {
      await this.#guard('moving a blob into place', () =>
        this.#client.send(new this.#sdk.CopyObjectCommand({ Bucket: this.#target.bucket, Key: to, CopySource })),
      );
      return;
    }
    const uploadId = await this.#createMultipart(to);
    try {
      const parts: { PartNumber: number; ETag: string }[] = [];
      for (let start = 0; start < size; start += S3_COPY_PART_BYTES) {
        const end = Math.min(size, start + S3_COPY_PART_BYTES) - 1;
        const answer = await this.#guard('moving a blob into place', () =>
          this.#client.send(
            new this.#sdk.UploadPartCopyCommand({
              Bucket: this.#target.bucket,
              Key: to,
              UploadId: uploadId,
              PartNumber: parts.length + 1,
              CopySource,
              CopySourceRange: `bytes=${start}-${end}`,
            }),
          ),
        );
        const etag = answer.CopyPartResult?.ETag;
        if (etag === undefined) throw this.#storageError('moving a blob into place', new Error('S3 answered no ETag for a copied part'));
        parts.push({ PartNumber: parts.length + 1, ETag: etag });
      }
      await this.#completeMultipart(to, uploadId, parts);
    } catch (cause) {
      await this.#abortMultipart(to, uploadId);
      throw cause;
    }
  }

  async #guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw this.#storageError(what, cause);
    }
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

  /** A failure as STORAGE_ERROR with S3's error code (NoSuchBucket, AccessDenied, SlowDown…) or the network's (ECONNREFUSED); a LablogError as it is. */
  #storageError(what: string, cause: unknown): LablogError {
    if (cause instanceof LablogError) return cause;
    const code = s3ErrorCode(cause);
    return new LablogError(
      'STORAGE_ERROR',
      `${what} in ${this.location}${code !== null ? ` (${code})` : ''}: ${(cause as Error)?.message ?? String(cause)}`,
      { driver: 's3', driverCode: code, location: this.location },
      { cause },
    );
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

/** `count` bytes of `body` after its first `skip` bytes; the body is closed once they are read; `short()` is thrown when it ends before. */
async function* sliceBytes(body: Readable, skip: number, count: number, short: () => Error): AsyncGenerator<Buffer> {
  let toSkip = skip;
  let left = count;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let bytes = chunk;
    if (toSkip > 0) {
      if (bytes.length <= toSkip) {
        toSkip -= bytes.length;
        continue;
      }
      bytes = bytes.subarray(toSkip);
      toSkip = 0;
    }
    if (bytes.length >= left) {
      yield bytes.subarray(0, left);
      return;
    }
    left -= bytes.length;
    yield bytes;
  }
  if (left > 0 || toSkip > 0) throw short();
}

/** S3's error code of a failure (its `Code`, else the SDK's error name), or the network's (ECONNREFUSED); null when it has none. */
export function s3ErrorCode(cause: unknown): string | null {
  const c = cause as { name?: unknown; Code?: unknown; $metadata?: unknown } | null | undefined;
  if (c !== null && typeof c === 'object' && c.$metadata !== undefined) {
    if (typeof c.Code === 'string' && c.Code !== '') return c.Code;
    if (typeof c.name === 'string' && c.name !== '' && c.name !== 'Error') return c.name;
  }
  return driverCodeOf(cause) ?? driverCodeOf((cause as { cause?: unknown } | null | undefined)?.cause);
}

/** Whether a failure says the object is not there (a HEAD's 404 NotFound, a GET's NoSuchKey); a missing bucket is a failure. */
function isMissingObject(cause: unknown): boolean {
  const code = s3ErrorCode(cause);
  return code === 'NoSuchKey' || code === 'NotFound';
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

function mismatch(sha256: string, size: number, actual: string): LablogError {
  return new LablogError(
    'CHECKSUM_MISMATCH',
    `the upload of ${sha256} (${size} bytes announced) has ${actual.startsWith('(') ? actual.slice(1, -1) : `sha256 ${actual}`}; it was discarded`,
    {
      expected: sha256,
      actual,
    },
  );
}

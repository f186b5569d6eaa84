// The objects of one S3 bucket as S3ArtifactBlobs uses them: head, get (ranges), put, delete, list pages, multipart uploads and copies, every failure a STORAGE_ERROR with S3's code.

import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { LablogError } from '../../model/errors.js';
import { driverCodeOf } from '../../model/error-codes.js';
import { S3_MAX_PARTS } from './s3-upload-state.js';

/** The SDK's module, as loaded by s3-artifact-blobs.ts (the only file that loads it). */
export type S3Sdk = typeof import('@aws-sdk/client-s3');

/** S3's largest object one CopyObject copies (5 GiB); larger ones are copied part by part. */
export const S3_MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;
/** The bytes of one part when a large object is copied part by part (UploadPartCopy). */
export const S3_COPY_PART_BYTES = 1024 ** 3;

/** A part of a multipart upload, as CompleteMultipartUpload is given it. */
export interface CompletedPart {
  readonly PartNumber: number;
  readonly ETag: string;
}

/** A byte range, start to end inclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** The objects of one bucket through one client; `location` (s3://bucket/prefix) names them in errors. */
export class S3Objects {
  readonly #sdk: S3Sdk;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #location: string;

  constructor(sdk: S3Sdk, client: S3Client, bucket: string, location: string) {
    this.#sdk = sdk;
    this.#client = client;
    this.#bucket = bucket;
    this.#location = location;
  }

  /** An object's size, or undefined when there is no such object. */
  async size(key: string, what: string): Promise<number | undefined> {
    try {
      const head = await this.#client.send(new this.#sdk.HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (cause) {
      if (isMissingObject(cause)) return undefined;
      throw this.storageError(what, cause);
    }
  }

  /** An object's bytes as a stream (a range of them, when given); undefined when there is no such object. */
  async body(key: string, what: string, range?: ByteRange): Promise<Readable | undefined> {
    try {
      const answer = await this.#client.send(
        new this.#sdk.GetObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          ...(range !== undefined ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      if (!(answer.Body instanceof Readable)) throw new Error(`the S3 client answered a body that is not a stream (${typeof answer.Body})`);
      if (range === undefined || answer.ContentRange?.startsWith(`bytes ${range.start}-${range.end}/`)) return answer.Body;
      // A server may answer a range with more than it (the whole object, as HTTP allows; s3rver for `bytes=0-0`): cut it to the range.
      const from = answer.ContentRange === undefined ? 0 : Number(/^bytes (\d+)-/.exec(answer.ContentRange)?.[1] ?? 0);
      const short = () => this.storageError(what, new Error(`S3 answered less than the range ${range.start}-${range.end} of ${key}`));
      if (from > range.start) {
        answer.Body.destroy();
        throw short();
      }
      return Readable.from(sliceBytes(answer.Body, range.start - from, range.end - range.start + 1, short), { objectMode: false });
    } catch (cause) {
      if (isMissingObject(cause)) return undefined;
      throw this.storageError(what, cause);
    }
  }

  /** Writes a whole object (atomic: readers see the old one or the new one). */
  async put(key: string, body: Buffer | string, what: string): Promise<void> {
    await this.guard(what, () => this.#client.send(new this.#sdk.PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: body })));
  }

  async delete(key: string, what: string): Promise<void> {
    await this.guard(what, () => this.#client.send(new this.#sdk.DeleteObjectCommand({ Bucket: this.#bucket, Key: key })));
  }

  /** Deletes a temp object, best effort (a leftover is under tmp/ or uploads/, never listed as a blob). */
  async deleteQuietly(key: string): Promise<void> {
    await this.#client.send(new this.#sdk.DeleteObjectCommand({ Bucket: this.#bucket, Key: key })).catch(() => undefined);
  }

  /** One ListObjectsV2 page of the keys under `prefix`, and the token of the next page (undefined: that was the last). */
  async listPage(prefix: string, maxKeys: number, token: string | undefined): Promise<{ keys: string[]; next: string | undefined }> {
    const page = await this.guard('listing blobs', () =>
      this.#client.send(
        new this.#sdk.ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, MaxKeys: maxKeys, ContinuationToken: token }),
      ),
    );
    return {
      keys: (page.Contents ?? []).flatMap((object) => (object.Key !== undefined ? [object.Key] : [])),
      next: page.IsTruncated === true ? page.NextContinuationToken : undefined,
    };
  }

  /** Starts a multipart upload to `key`; its UploadId. */
  async createMultipart(key: string): Promise<string> {
    const answer = await this.guard('starting a multipart upload', () =>
      this.#client.send(new this.#sdk.CreateMultipartUploadCommand({ Bucket: this.#bucket, Key: key })),
    );
    if (answer.UploadId === undefined) throw this.storageError('starting a multipart upload', new Error('S3 answered no UploadId'));
    return answer.UploadId;
  }

  /** Sends part `partNumber` (1 to S3_MAX_PARTS) of a multipart upload. */
  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<CompletedPart> {
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
    const answer = await this.guard('uploading a part', () =>
      this.#client.send(
        new this.#sdk.UploadPartCommand({ Bucket: this.#bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body }),
      ),
    );
    if (answer.ETag === undefined) throw this.storageError('uploading a part', new Error('S3 answered no ETag'));
    return { PartNumber: partNumber, ETag: answer.ETag };
  }

  /** Assembles a multipart upload's parts into the object at `key`. */
  async completeMultipart(key: string, uploadId: string, parts: readonly CompletedPart[]): Promise<void> {
    await this.guard('completing a multipart upload', () =>
      this.#client.send(
        new this.#sdk.CompleteMultipartUploadCommand({
          Bucket: this.#bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: [...parts] },
        }),
      ),
    );
  }

  /**
   * Abandons a multipart upload, best effort: what called it is failing already, and S3-compatible servers
   * do not all abort (s3rver does not). Its parts were never an object, so nothing of it is listed; a bucket
   * lifecycle rule (AbortIncompleteMultipartUpload) frees what an abort could not.
   */
  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.#client
      .send(new this.#sdk.AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
  }

  /** Copies an object inside the bucket: one CopyObject up to S3_MAX_COPY_OBJECT_BYTES, part by part (UploadPartCopy) past it. */
  async copy(from: string, to: string, size: number): Promise<void> {
    const what = 'moving a blob into place';
    const CopySource = `${this.#bucket}/${from}`;
    if (size <= S3_MAX_COPY_OBJECT_BYTES) {
      await this.guard(what, () => this.#client.send(new this.#sdk.CopyObjectCommand({ Bucket: this.#bucket, Key: to, CopySource })));
      return;
    }
    const uploadId = await this.createMultipart(to);
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0; start < size; start += S3_COPY_PART_BYTES) {
        const CopySourceRange = `bytes=${start}-${Math.min(size, start + S3_COPY_PART_BYTES) - 1}`;
        const PartNumber = parts.length + 1;
        const answer = await this.guard(what, () =>
          this.#client.send(
            new this.#sdk.UploadPartCopyCommand({
              Bucket: this.#bucket,
              Key: to,
              UploadId: uploadId,
              PartNumber,
              CopySource,
              CopySourceRange,
            }),
          ),
        );
        const etag = answer.CopyPartResult?.ETag;
        if (etag === undefined) throw this.storageError(what, new Error('S3 answered no ETag for a copied part'));
        parts.push({ PartNumber, ETag: etag });
      }
      await this.completeMultipart(to, uploadId, parts);
    } catch (cause) {
      await this.abortMultipart(to, uploadId);
      throw cause;
    }
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.#client.destroy();
  }

  /** Runs `fn`, turning a failure into STORAGE_ERROR (`what` says what was being done). */
  async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw this.storageError(what, cause);
    }
  }

  /** A failure as STORAGE_ERROR with S3's error code (NoSuchBucket, AccessDenied, SlowDown…) or the network's (ECONNREFUSED); a LablogError as it is. */
  storageError(what: string, cause: unknown): LablogError {
    if (cause instanceof LablogError) return cause;
    const code = s3ErrorCode(cause);
    return new LablogError(
      'STORAGE_ERROR',
      `${what} in ${this.#location}${code !== null ? ` (${code})` : ''}: ${(cause as Error)?.message ?? String(cause)}`,
      { driver: 's3', driverCode: code, location: this.#location },
      { cause },
    );
  }
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

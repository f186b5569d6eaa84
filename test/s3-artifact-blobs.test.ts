// S3ArtifactBlobs beyond the shared contract: its location and AWS environment rules, its keys in the bucket, S3's part-size rule for uploads, and S3 failures as STORAGE_ERROR.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_CHUNK_BYTES } from '../src/model/artifact.js';
import { LablogError } from '../src/model/errors.js';
import { openS3ArtifactBlobs, type S3ArtifactBlobs } from '../src/store/s3/s3-artifact-blobs.js';
import { s3ErrorCode } from '../src/store/s3/s3-objects.js';
import { DEFAULT_S3_REGION, parseS3Location, s3ClientSettings } from '../src/store/s3/s3-location.js';
import { S3_MIN_PART_BYTES } from '../src/store/s3/s3-upload-state.js';
import { startS3Server, type S3Server } from './support/s3-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function refusal(fn: () => unknown): LablogError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LablogError);
    return error as LablogError;
  }
  throw new Error('expected a LablogError');
}

async function rejection(promise: Promise<unknown>): Promise<LablogError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LablogError);
  return error as LablogError;
}

describe('S3 locations and the AWS environment', () => {
  it('parses s3://bucket and s3://bucket/prefix, and refuses what breaks a rule, naming it', () => {
    expect(parseS3Location('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(parseS3Location('s3://my.bucket/team/artifacts/')).toEqual({ bucket: 'my.bucket', prefix: 'team/artifacts' });
    for (const [bad, rule] of [
      ['/data/artifacts', 'must start with s3://'],
      ['s3://', 'S3_BUCKET_PATTERN'],
      ['s3://My_Bucket/x', 'S3_BUCKET_PATTERN'],
      ['s3://bucket/a//b', 'S3_PREFIX_SEGMENT_PATTERN'],
      ['s3://bucket/../etc', 'S3_PREFIX_SEGMENT_PATTERN'],
      ['s3://bucket/a b', 'S3_PREFIX_SEGMENT_PATTERN'],
      [`s3://bucket/${'a'.repeat(513)}`, 'MAX_S3_PREFIX_LENGTH'],
    ] as const) {
      const error = refusal(() => parseS3Location(bad));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toContain(rule);
      expect(error.details).toMatchObject({ option: 'artifacts' });
    }
  });

  it('reads the endpoint, region and credentials from AWS_* variables; a custom endpoint is path-style', () => {
    expect(s3ClientSettings({})).toEqual({ endpoint: undefined, region: DEFAULT_S3_REGION, credentials: undefined, forcePathStyle: false });
    expect(
      s3ClientSettings({
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9000',
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9100',
        AWS_DEFAULT_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'id',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'token',
      }),
    ).toEqual({
      endpoint: 'http://127.0.0.1:9100',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' },
      forcePathStyle: true,
    });
    expect(s3ClientSettings({ AWS_ENDPOINT_URL: 'http://minio:9000', AWS_REGION: 'r1', AWS_DEFAULT_REGION: 'r2' })).toMatchObject({
      endpoint: 'http://minio:9000',
      region: 'r1',
    });
    const half = refusal(() => s3ClientSettings({ AWS_ACCESS_KEY_ID: 'id' }));
    expect(half.code).toBe('INVALID_OPTION');
    expect(half.details).toMatchObject({ option: 'AWS_SECRET_ACCESS_KEY' });
    expect(refusal(() => s3ClientSettings({ AWS_ENDPOINT_URL: 'minio:9000' })).details).toMatchObject({ option: 'AWS_ENDPOINT_URL' });
  });
});

describe('S3ArtifactBlobs on s3rver', () => {
  let server: S3Server;
  let raw: S3Client;
  const opened: S3ArtifactBlobs[] = [];
  beforeAll(async () => {
    server = await startS3Server();
    raw = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY! },
    });
  });
  afterAll(async () => {
    for (const blobs of opened) blobs.close();
    raw?.destroy();
    await server?.stop();
  });

  const fresh = async (options: { listPageSize?: number; bucket?: string; env?: Record<string, string> } = {}) => {
    const prefix = `s3test/${randomUUID()}`;
    const blobs = await openS3ArtifactBlobs(`s3://${options.bucket ?? server.bucket}/${prefix}`, {
      env: options.env ?? server.env,
      ...(options.listPageSize !== undefined ? { listPageSize: options.listPageSize } : {}),
    });
    opened.push(blobs);
    return { blobs, prefix };
  };
  const keysUnder = async (prefix: string) => {
    const answer = await raw.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${prefix}/` }));
    return (answer.Contents ?? []).map((o) => o.Key!).sort();
  };

  it('keeps a blob at <prefix>/sha256/ab/cdef…, and nothing else once a write or an upload is done', async () => {
    const { blobs, prefix } = await fresh();
    expect(blobs.location).toBe(`s3://${server.bucket}/${prefix}`);
    const big = randomBytes(ARTIFACT_CHUNK_BYTES + 10);
    const written = await blobs.write(Readable.from([big]), { maxBytes: big.length });
    const uploaded = randomBytes(ARTIFACT_CHUNK_BYTES + 20);
    const hash = sha256(uploaded);
    await blobs.appendUpload(hash, 0, uploaded.subarray(0, ARTIFACT_CHUNK_BYTES));
    expect(await keysUnder(prefix)).toEqual([
      `${prefix}/sha256/${written.sha256.slice(0, 2)}/${written.sha256.slice(2)}`,
      `${prefix}/uploads/${hash}.json`,
    ]);
    await blobs.appendUpload(hash, ARTIFACT_CHUNK_BYTES, uploaded.subarray(ARTIFACT_CHUNK_BYTES));
    await blobs.completeUpload(hash, uploaded.length);
    expect(await keysUnder(prefix)).toEqual([written.sha256, hash].sort().map((h) => `${prefix}/sha256/${h.slice(0, 2)}/${h.slice(2)}`));
  });

  /** The multipart uploads s3rver holds (it keeps one folder each until completed; it does not abort them). */
  const multipartUploadsHeld = () => {
    const folder = join(server.directory, server.bucket, '._S3rver_uploads');
    return existsSync(folder) ? readdirSync(folder).length : 0;
  };

  it('bytes announced by a sha256 already stored are only hashed, not sent: no multipart upload is started for them', async () => {
    const { blobs } = await fresh();
    const bytes = randomBytes(2 * ARTIFACT_CHUNK_BYTES + 1);
    await blobs.write(Readable.from([bytes]), { maxBytes: bytes.length });
    const before = multipartUploadsHeld();
    expect(await blobs.write(Readable.from([bytes]), { maxBytes: bytes.length, expectedSha256: sha256(bytes) })).toMatchObject({
      existed: true,
    });
    expect(multipartUploadsHeld()).toBe(before);
    // Not announced, the bytes are sent, then found stored: the upload started for them is abandoned.
    expect(await blobs.write(Readable.from([bytes]), { maxBytes: bytes.length })).toMatchObject({ existed: true });
    expect(multipartUploadsHeld()).toBe(before + 1);
  });

  it('lists only blobs: not uploads in progress, temp objects, or keys that are not a sha256', async () => {
    const { blobs, prefix } = await fresh({ listPageSize: 2 });
    const kept = await blobs.write(Readable.from([Buffer.from('kept')]), { maxBytes: 10 });
    for (const key of [
      `${prefix}/tmp/${randomUUID()}`,
      `${prefix}/sha256/zz/not-a-hash`,
      `${prefix}/sha256/${'a'.repeat(64)}`,
      `${prefix}/other`,
    ]) {
      await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: 'x' }));
    }
    await blobs.appendUpload(sha256(Buffer.from('in progress')), 0, Buffer.from('in progress'));
    const listed: string[] = [];
    for await (const h of blobs.list()) listed.push(h);
    expect(listed).toEqual([kept.sha256]);
  });

  it('lists past 1,000 blobs with S3’s own page size (two ListObjectsV2 pages)', async () => {
    const { blobs, prefix } = await fresh();
    const hashes = Array.from({ length: 1_005 }, (_, i) => sha256(Buffer.from(`listed ${i}`)));
    // Planted straight into the bucket (1,005 writes through the blob store would test nothing more here).
    const queue = [...hashes];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let h = queue.pop(); h !== undefined; h = queue.pop()) {
          await raw.send(
            new PutObjectCommand({ Bucket: server.bucket, Key: `${prefix}/sha256/${h.slice(0, 2)}/${h.slice(2)}`, Body: 'x' }),
          );
        }
      }),
    );
    const listed: string[] = [];
    for await (const h of blobs.list()) listed.push(h);
    expect(listed).toEqual([...hashes].sort());
  }, 120_000);

  it('refuses a chunk after one smaller than S3_MIN_PART_BYTES with INVALID_OPTION naming the rule, writing nothing', async () => {
    const { blobs } = await fresh();
    const hash = sha256(Buffer.from('whatever'));
    const small = randomBytes(S3_MIN_PART_BYTES - 1);
    expect(await blobs.appendUpload(hash, 0, small)).toBe(small.length);
    const error = await rejection(blobs.appendUpload(hash, small.length, randomBytes(1_000)));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('S3_MIN_PART_BYTES');
    expect(error.message).toContain(String(S3_MIN_PART_BYTES));
    expect(error.details).toMatchObject({ option: 'chunk', actual: small.length, limit: S3_MIN_PART_BYTES });
    expect(await blobs.uploadOffset(hash)).toBe(small.length);
    // The small chunk can still be the last one.
    const exact = sha256(small);
    await blobs.appendUpload(exact, 0, small);
    await blobs.completeUpload(exact, small.length);
    expect(await blobs.size(exact)).toBe(small.length);
  });

  it('a completed upload whose answer was lost (assembled, state still there) completes when asked again', async () => {
    const { blobs, prefix } = await fresh();
    const bytes = randomBytes(ARTIFACT_CHUNK_BYTES + 5);
    const hash = sha256(bytes);
    await blobs.appendUpload(hash, 0, bytes.subarray(0, ARTIFACT_CHUNK_BYTES));
    await blobs.appendUpload(hash, ARTIFACT_CHUNK_BYTES, bytes.subarray(ARTIFACT_CHUNK_BYTES));
    await blobs.completeUpload(hash, bytes.length);
    // Put back the state and the assembled object as a crash between assembling and copying would leave them.
    await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: `${prefix}/uploads/${hash}.bin`, Body: bytes }));
    await raw.send(
      new PutObjectCommand({
        Bucket: server.bucket,
        Key: `${prefix}/uploads/${hash}.json`,
        Body: JSON.stringify({
          uploadId: 'gone',
          key: `${prefix}/uploads/${hash}.bin`,
          parts: [{ partNumber: 1, etag: '"x"', size: bytes.length }],
        }),
      }),
    );
    await raw.send(new DeleteObjectCommand({ Bucket: server.bucket, Key: `${prefix}/sha256/${hash.slice(0, 2)}/${hash.slice(2)}` }));
    await blobs.completeUpload(hash, bytes.length);
    expect(await blobs.size(hash)).toBe(bytes.length);
    expect(await keysUnder(prefix)).toEqual([`${prefix}/sha256/${hash.slice(0, 2)}/${hash.slice(2)}`]);
  });

  it('a malformed upload state is a STORAGE_ERROR naming it, not an offset of 0', async () => {
    const { blobs, prefix } = await fresh();
    const hash = sha256(Buffer.from('state'));
    await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: `${prefix}/uploads/${hash}.json`, Body: '{"uploadId": 1' }));
    const error = await rejection(blobs.uploadOffset(hash));
    expect(error.code).toBe('STORAGE_ERROR');
    expect(error.message).toContain('malformed');
    expect(error.details).toMatchObject({ driver: 's3', driverCode: null });
  });

  it('S3 failures are STORAGE_ERROR with driver s3 and S3’s code: a bucket that does not exist, an unknown access key, no server', async () => {
    const { blobs: noBucket } = await fresh({ bucket: 'no-such-bucket' });
    const write = await rejection(noBucket.write(Readable.from([Buffer.from('x')]), { maxBytes: 10 }));
    expect(write.code).toBe('STORAGE_ERROR');
    expect(write.details).toMatchObject({ driver: 's3', driverCode: 'NoSuchBucket', location: noBucket.location });
    const list = await rejection(
      (async () => {
        for await (const _ of noBucket.list()) void _;
      })(),
    );
    expect(list.details).toMatchObject({ driver: 's3', driverCode: 'NoSuchBucket' });

    const { blobs: badKey } = await fresh({ env: { ...server.env, AWS_ACCESS_KEY_ID: 'NOT-S3RVER' } });
    const denied = await rejection(badKey.read(sha256(Buffer.from('x'))));
    expect(denied.code).toBe('STORAGE_ERROR');
    expect(denied.details).toMatchObject({ driver: 's3', driverCode: 'InvalidAccessKeyId' });

    const { blobs: nowhere } = await fresh({ env: { ...server.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:1' } });
    const refused = await rejection(nowhere.size(sha256(Buffer.from('x'))));
    expect(refused.code).toBe('STORAGE_ERROR');
    expect(refused.details).toMatchObject({ driver: 's3', driverCode: 'ECONNREFUSED' });
  });

  it('s3ErrorCode reads S3’s Code, the SDK’s error name, or the network’s code', () => {
    expect(s3ErrorCode(Object.assign(new Error('x'), { name: 'NotFound', $metadata: {} }))).toBe('NotFound');
    expect(s3ErrorCode(Object.assign(new Error('x'), { name: 'S3ServiceException', Code: 'SlowDown', $metadata: {} }))).toBe('SlowDown');
    expect(s3ErrorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(s3ErrorCode(new Error('plain'))).toBeNull();
  });
});

// Artifacts on the team server, with real server processes and real sockets: published once in resumable chunks and verified, downloaded with ranges, scoped to projects (no bytes by naming a sha256), and hostile uploads refused.

import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { ARTIFACT_CHUNK_BYTES } from '../src/model/artifact.js';
import { publishStore } from '../src/sync/publish-store.js';
import { tempDir } from './helpers.js';
import { delayingProxy } from './support/http-proxies.js';
import { TS_FIXTURES } from './support/runs.js';
import { waitFor } from './support/wait-for.js';
import { startS3Server } from './support/s3-server.js';
import { SERVER_DATABASES, api, createKey, startServer } from './support/server-process.js';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function put(server: { url: string }, key: string, path: string, bytes: Buffer) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  return { status: response.status, data: (await response.json()) as any };
}

describe.each(SERVER_DATABASES)('artifacts on a $kind server', ({ create }) => {
  it('publishes file, directory and bytes artifacts once, verified, and serves them back whole and in ranges', async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const server = await startServer(db);
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const weights = randomBytes(2 * ARTIFACT_CHUNK_BYTES + 12_345); // three chunks
    writeFileSync(join(dir, 'weights.bin'), weights);
    mkdirSync(join(dir, 'tok', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'tok', 'vocab.txt'), 'a\nb\nc\n');
    writeFileSync(join(dir, 'tok', 'sub', 'merges.txt'), 'a b\n');
    const store = openStore({ path });
    const exp = store.createExperiment({ name: 'mlp', project: 'mnist' });
    const model = await exp.logArtifact(join(dir, 'weights.bin'), { name: 'model', kind: 'checkpoint', step: 10, metadata: { epoch: 10 } });
    await exp.logArtifact(join(dir, 'tok'), { name: 'tokenizer' });
    await exp.logArtifact(Buffer.from('{"lr":0.1}'), { name: 'config.json' });
    await exp.close();
    await store.close();

    const first = await publishStore({ storePath: path, remote: { url: server.url, apiKey: key } });
    expect(first.problems).toEqual([]);
    const listed = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/artifacts`);
    expect(listed.status).toBe(200);
    expect((listed.data.artifacts as { name: string; step: number | null; sha256: string }[]).map((a) => [a.name, a.step])).toEqual([
      ['config.json', null],
      ['model', 10],
      ['tokenizer', null],
    ]);
    expect(listed.data.artifacts.find((a: { name: string }) => a.name === 'model')).toMatchObject({
      sha256: sha(weights),
      size: weights.length,
      kind: 'checkpoint',
      metadata: { epoch: 10 },
      id: model.id,
    });

    // Downloads: whole, a range, a directory's file; the bytes are the ones logged.
    const whole = await fetch(`${server.url}/api/v1/experiments/${exp.id}/artifacts/model/file?step=10`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(whole.status).toBe(200);
    expect(sha(Buffer.from(await whole.arrayBuffer()))).toBe(sha(weights));
    const ranged = await fetch(`${server.url}/api/v1/experiments/${exp.id}/artifacts/model/file`, {
      headers: { authorization: `Bearer ${key}`, range: 'bytes=100-199' },
    });
    expect([ranged.status, ranged.headers.get('content-range')]).toEqual([206, `bytes 100-199/${weights.length}`]);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(weights.subarray(100, 200));
    const beyond = await fetch(`${server.url}/api/v1/experiments/${exp.id}/artifacts/model/file`, {
      headers: { authorization: `Bearer ${key}`, range: `bytes=${weights.length}-` },
    });
    expect(beyond.status).toBe(416);
    const merges = await fetch(`${server.url}/api/v1/experiments/${exp.id}/artifacts/tokenizer/file?path=sub/merges.txt`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(await merges.text()).toBe('a b\n');
    const traversal = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/artifacts/tokenizer/file?path=../../etc/passwd`);
    expect([traversal.status, traversal.data.error]).toEqual([400, 'INVALID_NAME']);

    // A second sync sends nothing; a new artifact with the same bytes sends its record only.
    const again = await publishStore({ storePath: path, remote: { url: server.url, apiKey: key } });
    expect([again.accepted, again.problems]).toEqual([0, []]);
    const reopened = openStore({ path });
    const second = reopened.createExperiment({ name: 'mlp-2', project: 'mnist' });
    await second.logArtifact(join(dir, 'weights.bin'), { name: 'model' });
    await second.close();
    await reopened.close();
    const status = await api(server, key, 'GET', `/api/v1/projects/mnist/artifact-blobs/${sha(weights)}`);
    expect(status.data).toMatchObject({ stored: true, size: weights.length });
    const third = await publishStore({ storePath: path, remote: { url: server.url, apiKey: key } });
    expect(third.problems).toEqual([]);
    expect((await api(server, key, 'GET', `/api/v1/experiments/${second.id}/artifacts`)).data.artifacts).toHaveLength(1);
  }, 120_000);

  it('a sync SIGKILLed in the middle of a large upload resumes from the last acknowledged chunk', async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const server = await startServer(db);
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const bytes = randomBytes(6 * ARTIFACT_CHUNK_BYTES);
    writeFileSync(join(dir, 'big.bin'), bytes);
    const store = openStore({ path });
    const exp = store.createExperiment({ name: 'big', project: 'mnist' });
    await exp.logArtifact(join(dir, 'big.bin'), { name: 'checkpoint' });
    await exp.close();
    await store.close();
    const isChunk = (method: string, p: string) => method === 'PUT' && p.includes('/chunks/');
    // A slow link: each chunk is held 400 ms, so the sync is killed with part of the bytes acknowledged.
    const slow = await delayingProxy(server.url, isChunk, 400);
    const child = spawn(process.execPath, ['--import', 'tsx', join(TS_FIXTURES, 'publish-store.ts'), path], {
      env: { ...process.env, LABLOG_REMOTE: slow.url, LABLOG_API_KEY: key },
      stdio: 'ignore',
    });
    const status = `/api/v1/projects/mnist/artifact-blobs/${sha(bytes)}`;
    await waitFor(
      'two chunks acknowledged',
      async () => (await api(server, key, 'GET', status)).data.offset >= 2 * ARTIFACT_CHUNK_BYTES,
      60_000,
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    await slow.close();
    const offset = (await api(server, key, 'GET', status)).data.offset as number;
    expect(offset).toBeLessThan(bytes.length);
    expect((await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/artifacts`)).data.artifacts ?? []).toEqual([]);

    let chunks = 0;
    const counting = await delayingProxy(server.url, (method, p) => (isChunk(method, p) ? (chunks++, false) : false), 0);
    try {
      const report = await publishStore({ storePath: path, remote: { url: counting.url, apiKey: key } });
      expect(report.problems).toEqual([]);
    } finally {
      await counting.close();
    }
    // Only chunks after the acknowledged offset were sent again (fewer if a held chunk of the killed sync landed late).
    expect(chunks).toBeGreaterThan(0);
    expect(chunks).toBeLessThanOrEqual(Math.ceil((bytes.length - offset) / ARTIFACT_CHUNK_BYTES));
    expect(chunks).toBeLessThan(6);
    const got = await fetch(`${server.url}/api/v1/experiments/${exp.id}/artifacts/checkpoint/file`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(sha(Buffer.from(await got.arrayBuffer()))).toBe(sha(bytes));
  }, 120_000);

  it('uploads resume from the acknowledged offset; chunks out of order or repeated write nothing; a wrong sha256 is discarded', async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const server = await startServer(db);
    const bytes = randomBytes(3 * 1024 * 1024);
    const hash = sha(bytes);
    const base = `/api/v1/projects/mnist/artifact-blobs/${hash}`;
    expect((await api(server, key, 'GET', base)).data).toMatchObject({ stored: false, offset: 0 });
    expect((await put(server, key, `${base}/chunks/0`, bytes.subarray(0, 1_000_000))).data.offset).toBe(1_000_000);
    // Repeated (its answer lost) and out of order: 409 with the offset the upload is at.
    for (const offset of [0, 2_000_000]) {
      const got = await put(server, key, `${base}/chunks/${offset}`, bytes.subarray(offset, offset + 1_000_000));
      expect([got.status, got.data.error, got.data.details?.expected ?? got.data.expected]).toEqual([409, 'UPLOAD_CONFLICT', 1_000_000]);
    }
    // A client that stopped here reads where to go on.
    expect((await api(server, key, 'GET', base)).data).toMatchObject({ stored: false, offset: 1_000_000 });
    // Completing before every byte arrived is refused.
    const early = await api(server, key, 'POST', `${base}/complete`, { size: bytes.length });
    expect([early.status, early.data.error]).toEqual([409, 'UPLOAD_CONFLICT']);
    expect((await put(server, key, `${base}/chunks/1000000`, bytes.subarray(1_000_000))).data.offset).toBe(bytes.length);
    const done = await api(server, key, 'POST', `${base}/complete`, { size: bytes.length });
    expect([done.status, done.data.stored]).toEqual([200, true]);
    expect((await api(server, key, 'GET', base)).data).toMatchObject({ stored: true, size: bytes.length });

    // Bytes that do not hash to the name: refused, discarded, never visible.
    const liar = sha(Buffer.from('something else'));
    const lbase = `/api/v1/projects/mnist/artifact-blobs/${liar}`;
    await put(server, key, `${lbase}/chunks/0`, Buffer.from('not those bytes'));
    const mismatch = await api(server, key, 'POST', `${lbase}/complete`, { size: 15 });
    expect([mismatch.status, mismatch.data.error]).toEqual([422, 'CHECKSUM_MISMATCH']);
    expect((await api(server, key, 'GET', lbase)).data).toMatchObject({ stored: false, offset: 0 });
  }, 60_000);

  it("scopes artifact routes to the key's projects: another project cannot reference bytes by their sha256, nor read them", async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const other = await createKey(db, 'other');
    const server = await startServer(db);
    const dir = tempDir();
    const secret = randomBytes(50_000);
    writeFileSync(join(dir, 'secret.bin'), secret);
    const path = join(dir, 'lablog.db');
    const store = openStore({ path });
    const mine = store.createExperiment({ name: 'mine', project: 'mnist' });
    await mine.logArtifact(join(dir, 'secret.bin'), { name: 'weights' });
    await mine.close();
    await store.close();
    expect((await publishStore({ storePath: path, remote: { url: server.url, apiKey: key } })).problems).toEqual([]);

    // The other project: the bytes read as not stored, the experiment as missing.
    expect((await api(server, other, 'GET', `/api/v1/projects/other/artifact-blobs/${sha(secret)}`)).data).toMatchObject({ stored: false });
    expect((await api(server, other, 'GET', `/api/v1/projects/mnist/artifact-blobs/${sha(secret)}`)).status).toBe(403);
    expect((await api(server, other, 'GET', `/api/v1/experiments/${mine.id}/artifacts`)).status).toBe(404);
    expect((await api(server, other, 'GET', `/api/v1/experiments/${mine.id}/artifacts/weights/file`)).status).toBe(404);
    // An experiment of its own whose artifact names those bytes without uploading them: refused.
    const theirsPath = join(tempDir(), 'lablog.db');
    const theirs = openStore({ path: theirsPath });
    const exp = theirs.createExperiment({ name: 'theirs', project: 'other' });
    await exp.close();
    await theirs.close();
    expect((await publishStore({ storePath: theirsPath, remote: { url: server.url, apiKey: other } })).problems).toEqual([]);
    const id = randomUUID();
    const claim = await api(server, other, 'PUT', `/api/v1/experiments/${exp.id}/artifacts/${id}`, {
      id,
      experimentId: exp.id,
      name: 'stolen',
      step: null,
      kind: null,
      type: 'file',
      size: secret.length,
      sha256: sha(secret),
      files: [{ path: 'secret.bin', size: secret.length, sha256: sha(secret) }],
      metadata: {},
      createdAt: Date.now(),
    });
    expect([claim.status, claim.data.error]).toEqual([404, 'ARTIFACT_NOT_FOUND']);
    // Completing an upload it never made is refused too.
    const complete = await api(server, other, 'POST', `/api/v1/projects/other/artifact-blobs/${sha(secret)}/complete`, {
      size: secret.length,
    });
    expect([complete.status, complete.data.error]).toEqual([409, 'UPLOAD_CONFLICT']);
    // A record with a path that would leave a download folder is refused.
    const bad = await api(server, key, 'PUT', `/api/v1/experiments/${mine.id}/artifacts/${randomUUID()}`, {
      experimentId: mine.id,
      files: [{ path: '../../etc/passwd', size: 1, sha256: sha(secret) }],
    });
    expect(bad.status).toBe(400);
  }, 60_000);

  it('keeps the bytes in S3-compatible storage with --artifacts s3://bucket/prefix (s3rver, a stand-in for AWS/MinIO)', async () => {
    const s3 = await startS3Server('lablog-server');
    try {
      const db = await create();
      const key = await createKey(db, 'mnist');
      const server = await startServer(db, { args: ['--artifacts', `s3://${s3.bucket}/team`], env: { ...s3.env } });
      expect(server.output()).toContain(`artifacts: s3://${s3.bucket}/team`);
      const dir = tempDir();
      const path = join(dir, 'lablog.db');
      const bytes = randomBytes(ARTIFACT_CHUNK_BYTES + 4_321); // two chunks: a multipart upload of two parts
      writeFileSync(join(dir, 'w.bin'), bytes);
      const store = openStore({ path });
      const exp = store.createExperiment({ name: 's3', project: 'mnist' });
      await exp.logArtifact(join(dir, 'w.bin'), { name: 'weights' });
      await exp.close();
      await store.close();
      expect((await publishStore({ storePath: path, remote: { url: server.url, apiKey: key } })).problems).toEqual([]);
      const got = await fetch(`${server.url}/api/v1/experiments/${exp.id}/artifacts/weights/file`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(sha(Buffer.from(await got.arrayBuffer()))).toBe(sha(bytes));
      const tail = await fetch(`${server.url}/api/v1/experiments/${exp.id}/artifacts/weights/file`, {
        headers: { authorization: `Bearer ${key}`, range: 'bytes=-10' },
      });
      expect([tail.status, Buffer.from(await tail.arrayBuffer())]).toEqual([206, bytes.subarray(bytes.length - 10)]);
    } finally {
      await s3.stop();
    }
  }, 120_000);
});

// Blobs belong to projects, against a real server process on SQLite and PostgreSQL: no cross-project reads or probes, one validation per blob, collection and quota.

import { describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import sharp from 'sharp';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { validatePng } from '../src/media/png.js';
import { noisyPng, solidPng, tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, startServer, type ServerProcess } from './support/server-process.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const NOW = 1_760_000_000_000;

async function putBlob(server: ServerProcess, key: string, bytes: Buffer, project?: string) {
  const query = project === undefined ? '' : `?project=${encodeURIComponent(project)}`;
  const response = await fetch(`${server.url}/api/v1/blobs/${sha256(bytes)}${query}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  return { status: response.status, data: (await response.json()) as any };
}

/** Creates an experiment of `project` over REST (as the publisher does) and returns its id. */
async function experiment(server: ServerProcess, key: string, project: string, status = 'running'): Promise<string> {
  const id = randomUUID();
  const res = await api(server, key, 'PUT', `/api/v1/experiments/${id}`, {
    project,
    name: `run-${id.slice(0, 8)}`,
    status,
    createdAt: NOW,
    tags: [],
    params: [],
  });
  expect(res.status).toBe(200);
  return id;
}

function imageItem(name: string, hashes: string[], firstStep = 0) {
  return {
    name,
    after: firstStep === 0 ? null : firstStep - 1,
    points: hashes.map((hash, i) => ({ step: firstStep + i, timestamp: NOW + i, caption: null, hash })),
  };
}

function arrowTable(seed: number): Buffer {
  return Buffer.from(
    tableToIPC(tableFromArrays({ id: Int32Array.from([seed, seed + 1, seed + 2]), p: Float64Array.from([0.5, 0.25, seed]) }), 'stream'),
  );
}

/** Whether the server's database holds the bytes of this blob (read directly: asking the server would refresh it). */
async function blobStored(db: string, hash: string): Promise<boolean> {
  if (db.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM blobs WHERE hash = $1', [hash]);
      return rows[0].n === 1;
    } finally {
      await client.end();
    }
  }
  const sqlite = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return sqlite.prepare('SELECT count(*) FROM blobs WHERE hash = ?').pluck().get(hash) === 1;
  } finally {
    sqlite.close();
  }
}

/** Validation passes the server logged (with --log): one line per blob decoded, counted once all earlier requests are logged. */
async function validations(server: ServerProcess, hash: string): Promise<number> {
  // The log comes through a pipe, after the answers: a marked request's line follows every earlier line.
  const marker = randomUUID();
  expect((await fetch(`${server.url}/health?marker=${marker}`)).status).toBe(200);
  const deadline = Date.now() + 30_000;
  while (!server.output().includes(marker) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(server.output()).toContain(marker);
  return server
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg":"blob validated"') && line.includes(hash)).length;
}

describe.each(SERVER_DATABASES)('blob ownership on $kind', ({ create }) => {
  it("neither references, reads back nor probes another project's blobs", async () => {
    const db = await create();
    const alice = await createKey(db, 'alice');
    const bob = await createKey(db, 'bob');
    const both = await createKey(db, 'alice', 'carol');
    const server = await startServer(db);
    const bobPng = await noisyPng(16, 16);
    const bobTable = arrowTable(7);
    expect((await putBlob(server, bob, bobPng, 'bob')).status).toBe(201);
    expect((await putBlob(server, bob, bobTable, 'bob')).status).toBe(201);
    const never = sha256(Buffer.from(`never ${randomUUID()}`));

    // The cross-project read: alice's experiment names bob's image and table, exactly as if they were never uploaded.
    const mine = await experiment(server, alice, 'alice');
    const ingest = await api(server, alice, 'POST', `/api/v1/experiments/${mine}/ingest`, {
      images: [imageItem('stolen', [sha256(bobPng)]), imageItem('absent', [never])],
      tables: [
        { name: 'stolen-table', hash: sha256(bobTable), loggedAt: NOW },
        { name: 'absent-table', hash: never, loggedAt: NOW },
      ],
    });
    expect(ingest.status).toBe(200);
    expect(ingest.data.accepted).toBe(0);
    expect(ingest.data.rejected).toEqual([
      {
        kind: 'image',
        name: 'stolen',
        error: 'INVALID_OPTION',
        message: `image 'stolen' at step 0: blob ${sha256(bobPng)} was not uploaded`,
        details: { key: 'stolen', hash: sha256(bobPng) },
      },
      {
        kind: 'image',
        name: 'absent',
        error: 'INVALID_OPTION',
        message: `image 'absent' at step 0: blob ${never} was not uploaded`,
        details: { key: 'absent', hash: never },
      },
      {
        kind: 'table',
        name: 'stolen-table',
        error: 'INVALID_OPTION',
        message: `table 'stolen-table': blob ${sha256(bobTable)} was not uploaded`,
        details: { key: 'stolen-table', hash: sha256(bobTable) },
      },
      {
        kind: 'table',
        name: 'absent-table',
        error: 'INVALID_OPTION',
        message: `table 'absent-table': blob ${never} was not uploaded`,
        details: { key: 'absent-table', hash: never },
      },
    ]);
    // Reading back gives nothing of bob's.
    expect((await api(server, alice, 'GET', `/api/v1/experiments/${mine}/images?key=stolen`)).data.images).toEqual([]);
    const image = await api(server, alice, 'GET', `/api/v1/experiments/${mine}/images/0?key=stolen`);
    expect(image.status).toBe(404);
    expect(image.data.error).toBe('SERIES_NOT_FOUND');
    expect((await api(server, alice, 'GET', `/api/v1/experiments/${mine}/tables`)).data.tables).toEqual([]);
    expect((await api(server, alice, 'GET', `/api/v1/experiments/${mine}/tables/data?name=stolen-table`)).status).toBe(404);

    // The oracle: for alice, bob's hashes are missing like hashes never uploaded.
    const probe = await api(server, alice, 'POST', '/api/v1/blobs/missing', {
      project: 'alice',
      hashes: [sha256(bobPng), sha256(bobTable), never],
    });
    expect(probe).toMatchObject({ status: 200, data: { project: 'alice', missing: [sha256(bobPng), sha256(bobTable), never] } });
    expect((await api(server, alice, 'POST', '/api/v1/blobs/missing', { hashes: [sha256(bobPng)] })).data).toEqual({
      project: 'alice',
      missing: [sha256(bobPng)],
    });
    expect((await api(server, bob, 'POST', '/api/v1/blobs/missing', { hashes: [sha256(bobPng), never] })).data).toEqual({
      project: 'bob',
      missing: [never],
    });
    const foreign = await api(server, alice, 'POST', '/api/v1/blobs/missing', { project: 'bob', hashes: [sha256(bobPng)] });
    expect(foreign.status).toBe(403);
    expect(foreign.data.error).toBe('FORBIDDEN');
    expect((await putBlob(server, alice, bobPng, 'bob')).data).toMatchObject({ error: 'FORBIDDEN' });
    // A key with one project may leave the project out (publishers before blob ownership do); a key of several must say which.
    const other = arrowTable(8);
    expect(await putBlob(server, bob, other)).toEqual({ status: 201, data: { hash: sha256(other), size: other.length, project: 'bob' } });
    const unnamed = await putBlob(server, both, bobPng);
    expect(unnamed.status).toBe(400);
    expect(unnamed.data).toMatchObject({ error: 'INVALID_OPTION', details: { field: 'project', actual: 2 } });
    expect((await api(server, both, 'POST', '/api/v1/blobs/missing', { hashes: [never] })).status).toBe(400);

    // Bytes alice uploads herself are hers, even when bob holds the same bytes (stored once underneath).
    expect((await putBlob(server, alice, bobPng, 'alice')).status).toBe(201);
    expect((await api(server, alice, 'POST', '/api/v1/blobs/missing', { hashes: [sha256(bobPng)] })).data.missing).toEqual([]);
    const own = await api(server, alice, 'POST', `/api/v1/experiments/${mine}/ingest`, { images: [imageItem('own', [sha256(bobPng)])] });
    expect(own.data).toMatchObject({ accepted: 1, rejected: [] });
    const back = await api(server, alice, 'GET', `/api/v1/experiments/${mine}/images/0?key=own`);
    expect(back.status).toBe(200);
    expect(Buffer.compare(back.data, bobPng)).toBe(0);
  });

  it(
    'validates a PNG once however many points and requests name it (8192² RGBA16, 30 points per request)',
    { timeout: 120_000 },
    async () => {
      const db = await create();
      const alice = await createKey(db, 'alice');
      const server = await startServer(db, { args: ['--log'] });
      const side = 8192;
      const png = await sharp(Buffer.alloc(side * side * 4 * 2), {
        raw: { width: side, height: side, channels: 4, premultiplied: false },
        limitInputPixels: false,
      } as never)
        .toColourspace('rgb16')
        .png({ compressionLevel: 9 })
        .toBuffer();
      expect(png.length).toBeLessThan(600_000);
      expect(await validatePng('probe', png)).toEqual({ width: side, height: side });

      const hash = sha256(png);
      expect((await putBlob(server, alice, png)).status).toBe(201);
      const id = await experiment(server, alice, 'alice');
      const body = JSON.stringify({
        images: [
          imageItem(
            'big',
            Array.from({ length: 30 }, () => hash),
          ),
        ],
      });
      expect(body.length).toBeLessThan(6_000);
      const first = await api(server, alice, 'POST', `/api/v1/experiments/${id}/ingest`, body);
      expect(first.data).toMatchObject({ accepted: 30, rejected: [] });
      // The server's log counts its decodes: one for the 30 points (not a clock against a decode timed here).
      expect(await validations(server, hash)).toBe(1);

      // A later request decodes nothing: the check was remembered in the store.
      const second = await api(server, alice, 'POST', `/api/v1/experiments/${id}/ingest`, {
        images: [
          imageItem(
            'big',
            Array.from({ length: 30 }, () => hash),
            30,
          ),
        ],
      });
      expect(second.data).toMatchObject({ accepted: 30, rejected: [] });
      expect(await validations(server, hash)).toBe(1);
      const listed = await api(server, alice, 'GET', `/api/v1/experiments/${id}/images?key=big`);
      expect(listed.data.images).toHaveLength(60);
      expect(listed.data.images[59]).toMatchObject({ step: 59, width: side, height: side });

      // An invalid PNG named by 30 items: one decode, 30 rejections each in its own item's words.
      const broken = Buffer.from(png.subarray(0, png.length - 20_000));
      expect((await putBlob(server, alice, broken)).status).toBe(201);
      const items = Array.from({ length: 30 }, (_, i) => imageItem(`broken-${i}`, [sha256(broken)]));
      const refused = await api(server, alice, 'POST', `/api/v1/experiments/${id}/ingest`, { images: items });
      expect(refused.data.accepted).toBe(0);
      expect(refused.data.rejected).toHaveLength(30);
      expect(refused.data.rejected[29]).toMatchObject({
        kind: 'image',
        name: 'broken-29',
        error: 'INVALID_IMAGE',
        message: expect.stringMatching(/^image 'broken-29' is not a valid PNG: /),
      });
      expect(await validations(server, sha256(broken))).toBe(1);
    },
  );

  it(
    'collects blobs nothing references after the grace period, not before, and those a dropped study artifact left',
    { timeout: 60_000 },
    async () => {
      const db = await create();
      const alice = await createKey(db, 'alice');
      const graceMs = 2_000;
      const server = await startServer(db, { args: ['--blob-grace', String(graceMs / 1000)] });
      const unreferenced = await solidPng(4, 4, '#ff0000');
      const referenced = await solidPng(4, 4, '#00ff00');
      const archived = await solidPng(4, 4, '#0000ff');
      const uploadedAt = Date.now();
      for (const png of [unreferenced, referenced, archived]) expect((await putBlob(server, alice, png)).status).toBe(201);
      const kept = await experiment(server, alice, 'alice');
      const member = await experiment(server, alice, 'alice', 'completed');
      expect(
        (await api(server, alice, 'POST', `/api/v1/experiments/${kept}/ingest`, { images: [imageItem('img', [sha256(referenced)])] })).data
          .accepted,
      ).toBe(1);
      expect(
        (await api(server, alice, 'POST', `/api/v1/experiments/${member}/ingest`, { images: [imageItem('img', [sha256(archived)])] })).data
          .accepted,
      ).toBe(1);
      const study = await api(server, alice, 'POST', '/api/v1/studies', { name: `s-${randomUUID().slice(0, 8)}`, project: 'alice' });
      expect(study.status).toBe(201);
      expect((await api(server, alice, 'POST', `/api/v1/studies/${study.data.id}/experiments`, { experiment: member })).status).toBe(201);
      const archive = await api(server, alice, 'POST', `/api/v1/studies/${study.data.id}/archive`, {
        reason: 'written up',
        preserveArtifacts: false,
      });
      expect(archive.status).toBe(200);
      // Not before the grace period.
      expect(await blobStored(db, sha256(unreferenced))).toBe(true);
      expect(await blobStored(db, sha256(archived))).toBe(true);

      const deadline = Date.now() + 20_000;
      while ((await blobStored(db, sha256(unreferenced))) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await blobStored(db, sha256(unreferenced))).toBe(false);
      expect(Date.now() - uploadedAt).toBeGreaterThanOrEqual(graceMs);
      while ((await blobStored(db, sha256(archived))) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await blobStored(db, sha256(archived))).toBe(false);
      // What an image point references stays, and reads back.
      expect(await blobStored(db, sha256(referenced))).toBe(true);
      const image = await api(server, alice, 'GET', `/api/v1/experiments/${kept}/images/0?key=img`);
      expect(image.status).toBe(200);
      expect(Buffer.compare(image.data, referenced)).toBe(0);
      expect(
        (
          await api(server, alice, 'POST', '/api/v1/blobs/missing', {
            hashes: [sha256(unreferenced), sha256(referenced), sha256(archived)],
          })
        ).data.missing,
      ).toEqual([sha256(unreferenced), sha256(archived)]);
    },
  );

  it('holds each project to a quota of uploaded bytes nothing references yet', async () => {
    const db = await create();
    const alice = await createKey(db, 'alice');
    const bob = await createKey(db, 'bob');
    const first = await noisyPng(8, 8);
    const second = await noisyPng(9, 9);
    const quota = first.length + second.length - 1;
    const server = await startServer(db, { args: ['--blob-quota', String(quota)] });
    expect((await putBlob(server, alice, first)).status).toBe(201);
    const over = await putBlob(server, alice, second);
    expect(over.status).toBe(422);
    expect(over.data).toMatchObject({
      error: 'LIMIT_EXCEEDED',
      details: { project: 'alice', limit: quota, actual: first.length + second.length },
    });
    expect(over.data.message).toContain(`the limit is ${quota}`);
    expect((await api(server, alice, 'POST', '/api/v1/blobs/missing', { hashes: [sha256(second)] })).data.missing).toEqual([
      sha256(second),
    ]);
    // Uploading bytes the project holds again costs nothing; another project has its own quota.
    expect((await putBlob(server, alice, first)).status).toBe(201);
    expect((await putBlob(server, bob, second)).status).toBe(201);
    // Once an image references the first upload, it no longer counts.
    const id = await experiment(server, alice, 'alice');
    expect(
      (await api(server, alice, 'POST', `/api/v1/experiments/${id}/ingest`, { images: [imageItem('img', [sha256(first)])] })).data.accepted,
    ).toBe(1);
    expect((await putBlob(server, alice, second)).status).toBe(201);
  });

  it('publishes images and tables end to end through store.publish, once', async () => {
    const db = await create();
    const key = await createKey(db, 'vision', 'audio');
    const server = await startServer(db);
    const { store } = tempStore();
    const png = await noisyPng(12, 10);
    const runs = [];
    for (const project of ['vision', 'audio']) {
      // The same image bytes in two projects: each project uploads (and owns) its copy.
      const exp = store.createExperiment({ name: 'run', project });
      await exp.logImage('samples', png, { caption: 'epoch 0' });
      await exp.logImage('samples', await solidPng(6, 6), { step: 3 });
      exp.logTable('predictions', pl.DataFrame({ id: [1, 2, 3], p: [0.9, 0.8, 0.7] }));
      await exp.close();
      runs.push(exp.id);
    }
    const report = await store.publish({ remote: server.url, apiKey: key });
    expect(report.problems).toEqual([]);
    expect(report.accepted).toBe(6);
    for (const id of runs) {
      const images = await api(server, key, 'GET', `/api/v1/experiments/${id}/images?key=samples`);
      expect(images.data.images.map((i: any) => [i.step, i.width, i.height, i.caption])).toEqual([
        [0, 12, 10, 'epoch 0'],
        [3, 6, 6, null],
      ]);
      const bytes = await api(server, key, 'GET', `/api/v1/experiments/${id}/images/0?key=samples`);
      expect(Buffer.compare(bytes.data, png)).toBe(0);
      const tables = await api(server, key, 'GET', `/api/v1/experiments/${id}/tables`);
      expect(tables.data.tables).toMatchObject([{ name: 'predictions', rows: 3, columns: 2 }]);
    }
    for (const project of ['vision', 'audio']) {
      expect((await api(server, key, 'POST', '/api/v1/blobs/missing', { project, hashes: [sha256(png)] })).data.missing).toEqual([]);
    }
    const again = await store.publish({ remote: server.url, apiKey: key });
    expect(again).toMatchObject({ accepted: 0, problems: [] });
  });
});

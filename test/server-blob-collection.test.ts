// Blob ownership over time, against real server processes on SQLite and PostgreSQL: an upgraded database's ownership, and collection by two servers on one database.

import { describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import pl from 'nodejs-polars';
import { noisyPng, solidPng, tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, killServer, startServer, type ServerProcess } from './support/server-process.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const NOW = 1_760_000_000_000;

async function putBlob(server: ServerProcess, key: string, bytes: Buffer) {
  const response = await fetch(`${server.url}/api/v1/blobs/${sha256(bytes)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  return response.status;
}

/** Runs SQL on the server's database directly (SQLite file or PostgreSQL URL); returns the first column of each row. */
async function sql(db: string, statements: string, query?: { text: string; args: unknown[] }): Promise<unknown[]> {
  if (db.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      if (statements) await client.query(statements);
      if (!query) return [];
      let n = 0;
      const { rows } = await client.query(
        query.text.replace(/\?/g, () => `$${++n}`),
        query.args,
      );
      return rows.map((row) => Object.values(row)[0]);
    } finally {
      await client.end();
    }
  }
  const sqlite = new Database(db, { fileMustExist: true });
  try {
    if (statements) sqlite.exec(statements);
    return query
      ? (sqlite
          .prepare(query.text)
          .pluck()
          .all(...query.args) as unknown[])
      : [];
  } finally {
    sqlite.close();
  }
}

const stored = async (db: string, hash: string) =>
  (await sql(db, '', { text: 'SELECT hash FROM blobs WHERE hash = ?', args: [hash] })).length === 1;

describe.each(SERVER_DATABASES)('blob collection on $kind', ({ kind, create }) => {
  it('an upgraded database gives existing blobs to the projects whose experiments reference them', { timeout: 60_000 }, async () => {
    const db = await create();
    const alice = await createKey(db, 'alice');
    const bob = await createKey(db, 'bob');
    let server = await startServer(db);
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'run', project: 'alice' });
    const png = await noisyPng(10, 10);
    await exp.logImage('samples', png);
    exp.logTable('predictions', pl.DataFrame({ id: [1, 2] }));
    await exp.close();
    expect((await store.publish({ remote: server.url, apiKey: alice })).problems).toEqual([]);
    const tableHash = (await sql(db, '', { text: 'SELECT blob_hash FROM tables', args: [] }))[0] as string;
    const orphan = await solidPng(3, 3, '#123456');
    expect(await putBlob(server, alice, orphan)).toBe(201);
    await killServer(server);

    // Back to the schema before blob ownership, as a database of an older lablog is.
    await sql(
      db,
      kind === 'postgres'
        ? 'DROP TABLE blob_owners, blob_checks; DROP INDEX image_points_blob, tables_blob; DELETE FROM lablog_migrations WHERE version = 4;'
        : 'DROP TABLE blob_owners; DROP TABLE blob_checks; DROP INDEX image_points_blob; DROP INDEX tables_blob; PRAGMA user_version = 5;',
    );
    server = await startServer(db, { args: ['--blob-grace', '1'] });
    const hashes = [sha256(png), tableHash, sha256(orphan)];
    // The orphan belongs to no project: missing for alice (and collected after the grace period).
    expect((await api(server, alice, 'POST', '/api/v1/blobs/missing', { hashes })).data.missing).toEqual([sha256(orphan)]);
    expect((await api(server, bob, 'POST', '/api/v1/blobs/missing', { hashes })).data.missing).toEqual(hashes);
    const again = await api(server, alice, 'PUT', `/api/v1/experiments/${randomUUID()}`, {
      project: 'alice',
      name: 'second',
      status: 'running',
      createdAt: NOW,
      tags: [],
      params: [],
    });
    const ingest = await api(server, alice, 'POST', `/api/v1/experiments/${again.data.id}/ingest`, {
      images: [{ name: 'img', after: null, points: [{ step: 0, timestamp: NOW, caption: null, hash: sha256(png) }] }],
      tables: [{ name: 't', hash: tableHash, loggedAt: NOW }],
    });
    expect(ingest.data).toMatchObject({ accepted: 2, rejected: [] });
    const deadline = Date.now() + 15_000;
    while ((await stored(db, sha256(orphan))) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await stored(db, sha256(orphan))).toBe(false);
    expect(await stored(db, sha256(png))).toBe(true);
    expect(await stored(db, tableHash)).toBe(true);
    const image = await api(server, alice, 'GET', `/api/v1/experiments/${exp.id}/images/0?key=samples`);
    expect(Buffer.compare(image.data, png)).toBe(0);
  });

  it('two servers collecting on one database never take a blob an ingest is about to reference', { timeout: 60_000 }, async () => {
    const db = await create();
    const alice = await createKey(db, 'alice');
    const args = ['--blob-grace', '1'];
    const [one, two] = [await startServer(db, { args }), await startServer(db, { args })];
    const created = await api(one, alice, 'PUT', `/api/v1/experiments/${randomUUID()}`, {
      project: 'alice',
      name: 'run',
      status: 'running',
      createdAt: NOW,
      tags: [],
      params: [],
    });
    const id = created.data.id as string;
    const referenced: string[] = [];
    const junk: string[] = [];
    const started = Date.now();
    // Bounded: 24 rounds, each an upload nothing will reference and an upload on one server referenced through the other.
    for (let i = 0; i < 24 && Date.now() - started < 30_000; i++) {
      const waste = Buffer.from(`junk ${i} ${randomUUID()}`);
      expect(await putBlob(i % 2 ? one : two, alice, waste)).toBe(201);
      junk.push(sha256(waste));
      const png = await solidPng(2, 2, `#${(i * 10 + 5).toString(16).padStart(2, '0')}aa33`);
      expect(await putBlob(i % 2 ? one : two, alice, png)).toBe(201);
      const ingest = await api(i % 2 ? two : one, alice, 'POST', `/api/v1/experiments/${id}/ingest`, {
        images: [
          { name: 'img', after: i === 0 ? null : i - 1, points: [{ step: i, timestamp: NOW + i, caption: null, hash: sha256(png) }] },
        ],
      });
      expect(ingest.data, `round ${i}`).toMatchObject({ accepted: 1, rejected: [] });
      referenced.push(sha256(png));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const deadline = Date.now() + 15_000;
    while ((await Promise.all(junk.map((h) => stored(db, h)))).some(Boolean) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await Promise.all(junk.map((h) => stored(db, h)))).filter(Boolean)).toHaveLength(0);
    expect((await Promise.all(referenced.map((h) => stored(db, h)))).filter(Boolean)).toHaveLength(referenced.length);
    const listed = await api(two, alice, 'GET', `/api/v1/experiments/${id}/images?key=img`);
    expect(listed.data.images).toHaveLength(referenced.length);
    for (const server of [one, two]) expect(server.output()).not.toContain('collecting unreferenced blobs failed');
  });
});

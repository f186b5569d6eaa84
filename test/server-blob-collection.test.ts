// Blob ownership over time, against real server processes on SQLite and PostgreSQL: an upgraded database's ownership, and collection by two servers on one database.

import { describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import pl from 'nodejs-polars';
import { noisyPng, solidPng, tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, killServer, startServer, type ServerProcess } from './support/server-process.js';
import { waitFor } from './support/wait-for.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const NOW = 1_760_000_000_000;
/** With --blob-grace 1 a pass runs every 500 ms: long enough for the junk of a run to be collected. */
const COLLECTED_MS = 15_000;
/** Rounds of upload and reference at least, and at most, in the two-server test. */
const MIN_ROUNDS = 24;
const MAX_ROUNDS = 400;
/** Most the rounds may take, waiting for collection passes to run among them. */
const ROUNDS_MS = 30_000;
/** How often the database is looked at while waiting for a collection. */
const COLLECTION_POLL_MS = 200;

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

/** How many of `hashes` are still stored, in one query. */
const storedCount = async (db: string, hashes: string[]) =>
  (await sql(db, '', { text: `SELECT hash FROM blobs WHERE hash IN (${hashes.map(() => '?').join(', ')})`, args: hashes })).length;

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
        ? 'DROP TABLE run_log_chunks, run_transitions, run_attempts, runs; DROP TABLE blob_owners, blob_checks; DROP INDEX image_points_blob, tables_blob; DELETE FROM lablog_migrations WHERE version >= 4;'
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
    await waitFor(
      'the orphan blob collected after the grace period',
      async () => !(await stored(db, sha256(orphan))),
      COLLECTED_MS,
      COLLECTION_POLL_MS,
    );
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
    // Rounds, each an upload nothing will reference and an upload on one server referenced through the other, until the
    // collectors have run among them: junk is seen collected, then junk uploaded after that is collected too (a later
    // pass) while the rounds go on. junk[0, taken) are known to be collected; one is looked at a round.
    let taken = 0;
    let firstTakenAt: number | undefined;
    for (let i = 0; i < MIN_ROUNDS || firstTakenAt === undefined || taken <= firstTakenAt + 1; i++) {
      if (i >= MAX_ROUNDS || Date.now() - started > ROUNDS_MS)
        throw new Error(
          `collection passes did not run among the rounds: ${taken} junk blobs collected (first seen at round ${firstTakenAt}) in ${i} rounds, ${Date.now() - started} ms`,
        );
      const waste = Buffer.from(`junk ${i} ${randomUUID()}`);
      expect(await putBlob(i % 2 ? one : two, alice, waste)).toBe(201);
      junk.push(sha256(waste));
      // A colour of its own each round, so each is a blob of its own: i ↦ i·97 mod 2^24 is one-to-one (97 is odd),
      // and the colour stays within six hex digits however many rounds a slow machine needs.
      const png = await solidPng(2, 2, `#${((0x05aa33 + i * 97) % 0x1000000).toString(16).padStart(6, '0')}`);
      expect(await putBlob(i % 2 ? one : two, alice, png)).toBe(201);
      const ingest = await api(i % 2 ? two : one, alice, 'POST', `/api/v1/experiments/${id}/ingest`, {
        images: [
          { name: 'img', after: i === 0 ? null : i - 1, points: [{ step: i, timestamp: NOW + i, caption: null, hash: sha256(png) }] },
        ],
      });
      expect(ingest.data, `round ${i}`).toMatchObject({ accepted: 1, rejected: [] });
      referenced.push(sha256(png));
      if (!(await stored(db, junk[taken]!))) {
        firstTakenAt ??= i;
        taken++;
      }
    }
    await waitFor(
      `all ${junk.length} junk blobs collected`,
      async () => (await storedCount(db, junk)) === 0,
      COLLECTED_MS,
      COLLECTION_POLL_MS,
    );
    expect(await storedCount(db, junk)).toBe(0);
    expect(await storedCount(db, referenced)).toBe(referenced.length);
    const listed = await api(two, alice, 'GET', `/api/v1/experiments/${id}/images?key=img`);
    expect(listed.data.images).toHaveLength(referenced.length);
    for (const server of [one, two]) expect(server.output()).not.toContain('collecting unreferenced blobs failed');
  });
});

// The blobs of a PostgreSQL store: content-addressed bytes, their owners per project, the upload quota, remembered checks, collection.

import type { Async } from '../async.js';
import { assertBlobQuota, blobCheck, blobCheckColumns, type BlobCheckRow } from '../blob-records.js';
import type { BlobStore } from '../blob-store.js';
import type { BlobCheck, BlobCollection, OwnedBlob } from '../server-backend.js';
import type { PgStore } from './pg-pool.js';

/** First pg_advisory_xact_lock key of the per-project blob quota lock ('blob' in ASCII); the second is the project's hashtext. */
const BLOB_QUOTA_LOCK_KEY = 1651273570;

/** The BlobStore of a PostgreSQL store: blobs live in the database, as bytea. */
export class PostgresBlobStore implements Async<BlobStore> {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async missingBlobs(hashes: readonly string[]): Promise<string[]> {
    const unique = [...new Set(hashes)];
    if (unique.length === 0) return [];
    const rows = await this.#store.query<{ hash: string }>('checking blobs', 'SELECT hash FROM blobs WHERE hash = ANY ($1::text[])', [
      unique,
    ]);
    const present = new Set(rows.map((row) => row.hash));
    return unique.filter((hash) => !present.has(hash));
  }

  async putBlob(hash: string, bytes: Buffer): Promise<void> {
    await this.#store.query('storing a blob', 'INSERT INTO blobs (hash, size, bytes) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING', [
      hash,
      bytes.length,
      bytes,
    ]);
  }

  async readBlob(hash: string): Promise<Buffer | undefined> {
    const rows = await this.#store.query<{ bytes: Buffer }>('reading a blob', 'SELECT bytes FROM blobs WHERE hash = $1', [hash]);
    return rows[0]?.bytes;
  }

  async uploadBlob(project: string, hash: string, bytes: Buffer, quota: number, now: number): Promise<void> {
    await this.#store.transaction('storing a blob', async (db) => {
      // One upload per project at a time past this point: the quota is checked and charged atomically.
      await db.query(`SELECT pg_advisory_xact_lock(${BLOB_QUOTA_LOCK_KEY}, hashtext($1))`, [project]);
      const touched = await db.query('UPDATE blob_owners SET touched_at = $3 WHERE project = $1 AND hash = $2', [project, hash, now]);
      if ((touched.rowCount ?? 0) > 0) return;
      const { rows } = await db.query<{ n: number }>(
        'SELECT coalesce(sum(b.size), 0)::bigint AS n FROM blob_owners o JOIN blobs b ON b.hash = o.hash WHERE o.project = $1 AND o.referenced_at IS NULL',
        [project],
      );
      assertBlobQuota(project, rows[0]!.n + bytes.length, quota);
      await db.query('INSERT INTO blobs (hash, size, bytes) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING', [
        hash,
        bytes.length,
        bytes,
      ]);
      await db.query(
        'INSERT INTO blob_owners (project, hash, touched_at, referenced_at) VALUES ($1, $2, $3, NULL) ON CONFLICT DO NOTHING',
        [project, hash, now],
      );
    });
  }

  async ownedBlobs(project: string, hashes: readonly string[], now: number): Promise<Map<string, OwnedBlob>> {
    const out = new Map<string, OwnedBlob>();
    const wanted = [...new Set(hashes)].sort();
    if (wanted.length === 0) return out;
    const rows = await this.#store.transaction('checking blobs', async (db) => {
      await db.query(
        `UPDATE blob_owners SET touched_at = $3 WHERE project = $1 AND hash IN (
           SELECT hash FROM blob_owners WHERE project = $1 AND hash = ANY ($2::text[]) ORDER BY hash FOR UPDATE)`,
        [project, wanted, now],
      );
      const result = await db.query<BlobCheckRow & { hash: string; size: number }>(
        `SELECT b.hash, b.size, c.kind, c.width, c.height, c.rows, c.columns, c.invalid
         FROM blob_owners o JOIN blobs b ON b.hash = o.hash LEFT JOIN blob_checks c ON c.hash = o.hash
         WHERE o.project = $1 AND o.hash = ANY ($2::text[])`,
        [project, wanted],
      );
      return result.rows;
    });
    for (const row of rows) {
      const owned = out.get(row.hash) ?? { hash: row.hash, size: row.size, checks: [] };
      out.set(row.hash, owned);
      if (row.kind !== null) (owned.checks as BlobCheck[]).push(blobCheck(row));
    }
    return out;
  }

  async saveBlobChecks(checks: readonly { readonly hash: string; readonly check: BlobCheck }[]): Promise<void> {
    if (checks.length === 0) return;
    const columns = checks.map(({ hash, check }) => [hash, ...blobCheckColumns(check)] as const);
    await this.#store.query(
      'remembering blob checks',
      `INSERT INTO blob_checks (hash, kind, width, height, rows, columns, invalid)
       SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::bigint[], $6::bigint[], $7::text[])
         AS c (hash, kind, width, height, rows, columns, invalid)
       WHERE EXISTS (SELECT 1 FROM blobs b WHERE b.hash = c.hash)
       ON CONFLICT DO NOTHING`,
      [0, 1, 2, 3, 4, 5, 6].map((i) => columns.map((c) => c[i])),
    );
  }

  async collectBlobs(graceMs: number, now: number, maxOwners: number): Promise<BlobCollection> {
    return this.#store.transaction('collecting unreferenced blobs', async (db) => {
      // Rows an ingest or upload holds right now are skipped (they are being refreshed); the others are
      // locked and re-checked against the cutoff before they go.
      const dropped = await db.query<{ hash: string }>(
        `DELETE FROM blob_owners o USING (
           SELECT c.project, c.hash FROM blob_owners c WHERE c.touched_at < $1
             AND NOT EXISTS (SELECT 1 FROM image_points p JOIN series s ON s.id = p.series_id JOIN experiments e ON e.id = s.experiment_id
                             WHERE p.blob_hash = c.hash AND e.project = c.project)
             AND NOT EXISTS (SELECT 1 FROM tables t JOIN experiments e ON e.id = t.experiment_id WHERE t.blob_hash = c.hash AND e.project = c.project)
           LIMIT $2 FOR UPDATE SKIP LOCKED
         ) expired
         WHERE o.project = expired.project AND o.hash = expired.hash
         RETURNING o.hash`,
        [now - graceMs, maxOwners],
      );
      if (dropped.rows.length === 0) return { owners: 0, blobs: 0, bytes: 0 };
      const gone = await db.query<{ size: number }>(
        `DELETE FROM blobs b WHERE b.hash = ANY ($1::text[])
           AND NOT EXISTS (SELECT 1 FROM blob_owners o WHERE o.hash = b.hash)
           AND NOT EXISTS (SELECT 1 FROM image_points p WHERE p.blob_hash = b.hash)
           AND NOT EXISTS (SELECT 1 FROM tables t WHERE t.blob_hash = b.hash)
         RETURNING b.size`,
        [[...new Set(dropped.rows.map((row) => row.hash))]],
      );
      return { owners: dropped.rows.length, blobs: gone.rows.length, bytes: gone.rows.reduce((sum, row) => sum + row.size, 0) };
    });
  }
}

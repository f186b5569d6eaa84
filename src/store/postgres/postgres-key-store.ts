// The API keys and UI sessions of a PostgreSQL store.

import type { Async } from '../async.js';
import { keyRecord, sessionAndKey, type KeyRow as StoredKeyRow, type SessionRow } from '../key-records.js';
import type { KeyStore } from '../key-store.js';
import type { ApiKeyListing, ApiKeyRecord, UiSessionRecord } from '../server-backend.js';
import type { PgStore } from './pg-pool.js';

/** An API key's columns (table alias k), as findKey and findSession read them. */
const KEY_COLUMNS = 'k.id, k.hash, k.projects, k.name, k.created_at, k.last_used_at, k.revoked_at';

type KeyRow = StoredKeyRow<string[]>;

/** The KeyStore of a PostgreSQL store. */
export class PostgresKeyStore implements Async<KeyStore> {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async createKey(key: ApiKeyRecord): Promise<void> {
    await this.#store.query(
      'creating an API key',
      'INSERT INTO api_keys (id, hash, projects, name, created_at) VALUES ($1, $2, $3, $4, $5)',
      [key.id, key.hash, [...key.projects], key.name, key.createdAt],
    );
  }

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    // Named: prepared once per connection, as it runs on every request.
    const rows = await this.#store.prepared<KeyRow>(
      'finding an API key',
      'lablog_find_key',
      `SELECT ${KEY_COLUMNS} FROM api_keys k WHERE k.hash = $1 AND k.revoked_at IS NULL`,
      [hash],
    );
    const row = rows[0];
    return row && keyRecord(row, row.projects);
  }

  async listKeys(includeRevoked: boolean): Promise<ApiKeyListing[]> {
    const rows = await this.#store.query<Omit<KeyRow, 'hash'>>(
      'listing API keys',
      `SELECT id, projects, name, created_at, last_used_at, revoked_at FROM api_keys ${includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY created_at, id`,
      [],
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      projects: row.projects,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      revokedAt: row.revoked_at,
    }));
  }

  async revokeKey(id: string, now: number): Promise<boolean> {
    return this.#store.transaction('revoking an API key', async (db) => {
      const { rowCount } = await db.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, now]);
      await db.query('DELETE FROM ui_sessions WHERE key_id = $1', [id]);
      return (rowCount ?? 0) > 0;
    });
  }

  async touchKey(id: string, now: number): Promise<void> {
    await this.#store.query(
      'recording the use of an API key',
      'UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)',
      [id, now],
    );
  }

  async createSession(session: UiSessionRecord, maxPerKey: number): Promise<void> {
    await this.#store.transaction('creating a UI session', async (db) => {
      await db.query('INSERT INTO ui_sessions (hash, key_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)', [
        session.hash,
        session.keyId,
        session.createdAt,
        session.expiresAt,
        session.lastSeenAt,
      ]);
      await db.query(
        'DELETE FROM ui_sessions WHERE key_id = $1 AND id NOT IN (SELECT id FROM ui_sessions WHERE key_id = $1 ORDER BY id DESC LIMIT $2)',
        [session.keyId, maxPerKey],
      );
    });
  }

  async findSession(hash: string): Promise<{ session: UiSessionRecord; key: ApiKeyRecord } | undefined> {
    const rows = await this.#store.prepared<KeyRow & SessionRow>(
      'finding a UI session',
      'lablog_find_session',
      `SELECT ${KEY_COLUMNS}, s.hash AS session_hash, s.created_at AS session_created_at, s.expires_at, s.last_seen_at
       FROM ui_sessions s JOIN api_keys k ON k.id = s.key_id WHERE s.hash = $1 AND k.revoked_at IS NULL`,
      [hash],
    );
    const row = rows[0];
    return row && sessionAndKey(row, row.projects);
  }

  async touchSession(hash: string, now: number): Promise<void> {
    await this.#store.query(
      'recording the use of a UI session',
      'UPDATE ui_sessions SET last_seen_at = $2 WHERE hash = $1 AND last_seen_at < $2',
      [hash, now],
    );
  }

  async deleteSession(hash: string): Promise<void> {
    await this.#store.query('deleting a UI session', 'DELETE FROM ui_sessions WHERE hash = $1', [hash]);
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    const rows = await this.#store.query<{ n: number }>(
      'deleting expired UI sessions',
      'WITH gone AS (DELETE FROM ui_sessions WHERE expires_at <= $1 OR last_seen_at <= $2 RETURNING 1) SELECT count(*)::int AS n FROM gone',
      [now, idleBefore],
    );
    return rows[0]?.n ?? 0;
  }
}

// Key and session records shared by the server stores: their rows as both stores read them, and the records made from them.

import type { ApiKeyRecord, UiSessionRecord } from './key-store.js';

/** An api_keys row; `projects` is JSON text in SQLite and a text[] in PostgreSQL. */
export interface KeyRow<Projects = unknown> {
  id: string;
  hash: string;
  projects: Projects;
  name: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** The ui_sessions columns a session lookup selects beside its key's. */
export interface SessionRow {
  session_hash: string;
  session_created_at: number;
  expires_at: number;
  last_seen_at: number;
}

export function keyRecord(row: KeyRow, projects: readonly string[]): ApiKeyRecord {
  const record = { id: row.id, hash: row.hash, projects, name: row.name, createdAt: row.created_at };
  return row.last_used_at === null ? record : { ...record, lastUsedAt: row.last_used_at };
}

export function sessionAndKey(row: KeyRow & SessionRow, projects: readonly string[]): { session: UiSessionRecord; key: ApiKeyRecord } {
  return {
    session: {
      hash: row.session_hash,
      keyId: row.id,
      createdAt: row.session_created_at,
      expiresAt: row.expires_at,
      lastSeenAt: row.last_seen_at,
    },
    key: keyRecord(row, projects),
  };
}

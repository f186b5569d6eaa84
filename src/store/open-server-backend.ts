// Opens the server's store, picking its driver: an embedded SQLite file by default, PostgreSQL for a postgres:// URL.

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ServerBackend } from './server-backend.js';

export const DEFAULT_SERVER_DB = '.lablog/server.db';

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

export async function openServerBackend(db: string = DEFAULT_SERVER_DB): Promise<ServerBackend> {
  if (isPostgresUrl(db)) {
    const { PostgresBackend } = await import('./postgres/postgres-backend.js');
    return PostgresBackend.open(db);
  }
  const file = resolve(db);
  mkdirSync(dirname(file), { recursive: true });
  const { SqliteServerBackend } = await import('./sqlite/sqlite-server-backend.js');
  return new SqliteServerBackend(file);
}

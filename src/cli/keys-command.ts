// `lablog keys list` and `lablog keys revoke`: the API keys of a server's database, without their secrets.

import { revokeApiKey } from '../server/api-keys.js';
import { DEFAULT_SERVER_DB, openServerBackend } from '../store/open-server-backend.js';
import type { ApiKeyListing, ServerBackend } from '../store/server-backend.js';
import { formatTime } from './format.js';
import { renderTable } from './text-table.js';

async function withServerBackend<T>(db: string | undefined, fn: (backend: ServerBackend) => Promise<T>): Promise<T> {
  const backend = await openServerBackend(db ?? process.env['LABLOG_SERVER_DB'] ?? DEFAULT_SERVER_DB);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

const time = (ms: number | null) => (ms === null ? '-' : formatTime(new Date(ms)));

export function renderKeyList(keys: readonly ApiKeyListing[], withRevoked: boolean): string {
  const header = ['ID', 'NAME', 'PROJECTS', 'CREATED', 'LAST USED', ...(withRevoked ? ['REVOKED'] : [])];
  const rows = keys.map((k) => [
    k.id,
    k.name ?? '-',
    k.projects.join(','),
    time(k.createdAt),
    time(k.lastUsedAt),
    ...(withRevoked ? [time(k.revokedAt)] : []),
  ]);
  return renderTable(header, rows);
}

export async function runKeysList(opts: { all?: boolean; json?: boolean; db?: string }, write: (text: string) => void): Promise<void> {
  const keys = await withServerBackend(opts.db, (backend) => backend.listKeys(opts.all ?? false));
  write(
    opts.json
      ? `${JSON.stringify(keys, null, 2)}\n`
      : keys.length === 0
        ? 'no API keys (lablog keys create makes one)\n'
        : `${renderKeyList(keys, opts.all ?? false)}\n`,
  );
}

/** Revokes one key; an unknown or ambiguous name throws (NOT_FOUND, AMBIGUOUS_NAME: exit code 1). */
export async function runKeysRevoke(nameOrId: string, opts: { db?: string }, write: (text: string) => void): Promise<void> {
  const key = await withServerBackend(opts.db, (backend) => revokeApiKey(backend, nameOrId));
  write(
    `revoked API key ${key.id}${key.name === null ? '' : ` (${key.name})`} for project(s) ${key.projects.join(', ')}: every server refuses it from its next request, and its UI sessions are ended\n`,
  );
}

// `lablog server` and `lablog keys create`: run the team server, and make API keys for it.

import { LablogError } from '../core/errors.js';
import { resolveLimits } from '../core/limits.js';
import { createApiKey } from '../server/api-keys.js';
import { DEFAULT_SERVER_DB, openServerBackend } from '../server/open-server-backend.js';
import { startServer } from '../server/server.js';

export interface ServerCommandOptions {
  host: string;
  port: string;
  db?: string;
  bodyLimit?: string;
  rateLimit?: string;
  limit?: string[];
  log?: boolean;
  blobQuota?: string;
  blobGrace?: string;
}

function positiveInteger(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new LablogError('INVALID_OPTION', `${option} must be an integer >= 0, got '${text}'`, { option });
  return n;
}

/** Redacts the password of a database URL for printing. */
export function redact(db: string): string {
  return db.replace(/^(postgres(?:ql)?:\/\/[^:/@]+:)[^@]*@/i, '$1***@');
}

export async function runServer(opts: ServerCommandOptions, write: (text: string) => void): Promise<void> {
  const overrides: Record<string, number> = {};
  for (const pair of opts.limit ?? []) {
    const [key, value] = pair.split('=');
    if (!key || value === undefined) throw new LablogError('INVALID_OPTION', `--limit takes name=value, got '${pair}'`, { option: 'limit' });
    overrides[key] = Number(value);
  }
  const limits = resolveLimits(overrides);
  const port = positiveInteger('--port', opts.port);
  const db = opts.db ?? process.env['LABLOG_SERVER_DB'] ?? DEFAULT_SERVER_DB;
  const backend = await openServerBackend(db);
  const rate = opts.rateLimit === undefined ? undefined : positiveInteger('--rate-limit', opts.rateLimit);
  const server = await startServer({
    backend,
    limits,
    host: opts.host,
    port,
    ...(opts.bodyLimit !== undefined ? { bodyLimit: positiveInteger('--body-limit', opts.bodyLimit) } : {}),
    ...(rate !== undefined ? { rateLimit: { perSecond: rate, burst: Math.max(1, rate * 2) } } : {}),
    logRequests: opts.log ?? false,
    ...(opts.blobQuota !== undefined ? { blobQuota: positiveInteger('--blob-quota', opts.blobQuota) } : {}),
    ...(opts.blobGrace !== undefined ? { blobGraceMs: positiveInteger('--blob-grace', opts.blobGrace) * 1000 } : {}),
  });
  write(`lablog server listening on ${server.url} (store: ${redact(backend.location)}; web UI at ${server.url}/)\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function runKeysCreate(opts: { project: string[]; name?: string; db?: string }, write: (text: string) => void): Promise<void> {
  const backend = await openServerBackend(opts.db ?? process.env['LABLOG_SERVER_DB'] ?? DEFAULT_SERVER_DB);
  try {
    const { key, record } = await createApiKey(backend, opts.project, opts.name ?? null);
    write(`${key}\n`);
    process.stderr.write(`API key ${record.id} for project(s) ${record.projects.join(', ')}: shown once, store it now (the server keeps only its hash).\n`);
  } finally {
    await backend.close();
  }
}

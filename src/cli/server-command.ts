// `lablog server` and `lablog keys create`: run the team server, and make API keys for it.

import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { openArtifactBlobs } from '../store/open-artifact-blobs.js';
import { LablogError } from '../model/errors.js';
import { resolveLimits } from '../model/limits.js';
import { createApiKey } from '../server/api-keys.js';
import { DEFAULT_SERVER_DB, openServerBackend } from '../store/open-server-backend.js';
import { startServer } from '../server/server.js';
import { SERVER_SECRET_KEY_ENV } from '../server/env-routes.js';
import { SecretBox, parseSecretKey } from '../core/secret-box.js';
import { sessionPolicy } from './session-options.js';
import { resolveConnectionLimits, type ConnectionLimits } from '../server/connection-limits.js';

export interface ServerCommandOptions {
  host: string;
  port: string;
  db?: string;
  bodyLimit?: string;
  rateLimit?: string;
  limit?: string[];
  log?: boolean;
  sessionLifetime?: string;
  sessionIdle?: string;
  requestTimeout?: string;
  headersTimeout?: string;
  idleTimeout?: string;
  keepAliveTimeout?: string;
  maxConnections?: string;
  maxConnectionsPerAddress?: string;
  anonymousRateLimit?: string;
  trustProxy?: string;
  blobQuota?: string;
  blobGrace?: string;
  artifacts?: string;
}

/** The CLI options that set connection limits, and the ConnectionLimits field each sets. */
const CONNECTION_OPTIONS = [
  ['requestTimeout', '--request-timeout', 'requestTimeoutMs'],
  ['headersTimeout', '--headers-timeout', 'headersTimeoutMs'],
  ['idleTimeout', '--idle-timeout', 'idleTimeoutMs'],
  ['keepAliveTimeout', '--keep-alive-timeout', 'keepAliveTimeoutMs'],
  ['maxConnections', '--max-connections', 'maxConnections'],
  ['maxConnectionsPerAddress', '--max-connections-per-address', 'maxConnectionsPerAddress'],
] as const satisfies readonly (readonly [keyof ServerCommandOptions, string, keyof ConnectionLimits])[];

function atLeastOne(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new LablogError('INVALID_OPTION', `${option} must be an integer >= 1, got '${text}'`, { option, limit: 1, actual: text });
  return n;
}

function positiveInteger(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new LablogError('INVALID_OPTION', `${option} must be an integer >= 0, got '${text}'`, { option });
  return n;
}

/** Names fastify's trustProxy (proxy-addr) accepts for ranges of addresses. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** The addresses of --trust-proxy: IPs, CIDR ranges (10.0.0.0/8) or range names (loopback), comma-separated. */
function proxyAddresses(text: string): string[] {
  const list = text
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  for (const entry of list) {
    const [ip = '', bits, extra] = entry.split('/');
    const version = isIP(ip);
    const maxBits = version === 6 ? 128 : 32;
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (!PROXY_RANGE_NAMES.includes(entry) && (version === 0 || !validBits || extra !== undefined)) {
      throw new LablogError(
        'INVALID_OPTION',
        `--trust-proxy takes addresses, CIDR ranges or ${PROXY_RANGE_NAMES.join('/')}, comma-separated; got '${entry}'`,
        { option: 'trust-proxy', actual: entry },
      );
    }
  }
  if (list.length === 0)
    throw new LablogError('INVALID_OPTION', `--trust-proxy needs at least one address, got '${text}'`, {
      option: 'trust-proxy',
      actual: text,
    });
  return list;
}

/** The artifact folder of a PostgreSQL-backed server unless told (--artifacts), relative to where it starts. */
export const DEFAULT_POSTGRES_ARTIFACTS = 'lablog-artifacts';

/** Where a server keeps artifact bytes unless told (--artifacts): a folder beside its SQLite file, or ./lablog-artifacts for PostgreSQL. */
export function defaultArtifactsFor(db: string): string {
  return /^postgres(ql)?:\/\//i.test(db) ? DEFAULT_POSTGRES_ARTIFACTS : join(dirname(resolve(db)), 'artifacts');
}

/** Redacts the password of a database URL for printing. */
export function redact(db: string): string {
  return db.replace(/^(postgres(?:ql)?:\/\/[^:/@]+:)[^@]*@/i, '$1***@');
}

export async function runServer(opts: ServerCommandOptions, write: (text: string) => void): Promise<void> {
  const overrides: Record<string, number> = {};
  for (const pair of opts.limit ?? []) {
    const [key, value] = pair.split('=');
    if (!key || value === undefined)
      throw new LablogError('INVALID_OPTION', `--limit takes name=value, got '${pair}'`, { option: 'limit' });
    overrides[key] = Number(value);
  }
  const limits = resolveLimits(overrides);
  const port = positiveInteger('--port', opts.port);
  const db = opts.db ?? process.env['LABLOG_SERVER_DB'] ?? DEFAULT_SERVER_DB;
  const connectionOverrides: { -readonly [K in keyof ConnectionLimits]?: number } = {};
  for (const [name, option, field] of CONNECTION_OPTIONS) {
    const text = opts[name];
    if (typeof text === 'string') connectionOverrides[field] = atLeastOne(option, text);
  }
  const connections = resolveConnectionLimits(connectionOverrides); // checked before the store is opened
  const anonymousRate = opts.anonymousRateLimit === undefined ? undefined : atLeastOne('--anonymous-rate-limit', opts.anonymousRateLimit);
  const trustProxy = opts.trustProxy === undefined ? undefined : proxyAddresses(opts.trustProxy);
  const secretKey = process.env[SERVER_SECRET_KEY_ENV];
  // Checked before the store is opened; the key itself is never printed.
  const secrets =
    secretKey === undefined || secretKey === ''
      ? undefined
      : new SecretBox(parseSecretKey(secretKey, SERVER_SECRET_KEY_ENV), SERVER_SECRET_KEY_ENV);
  const artifactSpec = opts.artifacts ?? defaultArtifactsFor(db);
  const backend = await openServerBackend(db);
  const artifactBlobs = await openArtifactBlobs(artifactSpec);
  const rate = opts.rateLimit === undefined ? undefined : positiveInteger('--rate-limit', opts.rateLimit);
  const server = await startServer({
    backend,
    limits,
    host: opts.host,
    port,
    ...(opts.bodyLimit !== undefined ? { bodyLimit: positiveInteger('--body-limit', opts.bodyLimit) } : {}),
    ...(rate !== undefined ? { rateLimit: { perSecond: rate, burst: Math.max(1, rate * 2) } } : {}),
    logRequests: opts.log ?? false,
    sessions: sessionPolicy(opts),
    connections,
    ...(anonymousRate !== undefined ? { anonymousRateLimit: { perSecond: anonymousRate, burst: anonymousRate * 2 } } : {}),
    ...(trustProxy !== undefined ? { trustProxy } : {}),
    ...(opts.blobQuota !== undefined ? { blobQuota: positiveInteger('--blob-quota', opts.blobQuota) } : {}),
    ...(opts.blobGrace !== undefined ? { blobGraceMs: positiveInteger('--blob-grace', opts.blobGrace) * 1000 } : {}),
    ...(secrets !== undefined ? { secrets } : {}),
    artifactBlobs,
  });
  // Before the announcement, so whoever waits for it has read this too.
  if (secrets === undefined) write(`lablog server: no ${SERVER_SECRET_KEY_ENV}: plain env vars work, secret ones are refused\n`);
  write(
    `lablog server listening on ${server.url} (store: ${redact(backend.location)}; artifacts: ${artifactBlobs.location}; web UI at ${server.url}/)\n`,
  );
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
    process.stderr.write(
      `API key ${record.id} for project(s) ${record.projects.join(', ')}: shown once, store it now (the server keeps only its hash).\n`,
    );
  } finally {
    await backend.close();
  }
}

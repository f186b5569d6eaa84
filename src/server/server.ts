// The lablog server: a REST face (/api/v1, JSON, Bearer keys) over a ServerBackend; stateless, so several can share one PostgreSQL.

import Fastify, { type FastifyInstance } from 'fastify';
import { LablogError } from '../model/errors.js';
import { DEFAULT_LIMITS, type Limits } from '../model/limits.js';
import type { ServerBackend } from '../store/server-backend.js';
import { bearerToken, KeyLookup } from './api-keys.js';
import { toHttpError } from './http-errors.js';
import { registerPublishRoutes } from './publish-routes.js';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimit } from './rate-limiter.js';
import { registerReadRoutes } from './read-routes.js';
import { registerStudyRoutes } from './study-routes.js';
import { registerSweepRoutes } from './sweep-routes.js';
import { registerEnvRoutes } from './env-routes.js';
import type { SecretBox } from '../core/secret-box.js';
import { registerRunRoutes } from './run-routes.js';
import { registerRunPublishRoutes } from './run-publish-routes.js';
import { registerSweepTrialRoutes } from './sweep-trial-routes.js';
import { registerArtifactRoutes } from './artifact-routes.js';
import type { ArtifactBlobs } from '../store/artifact-blobs.js';
import { registerSecurityHeaders } from './security-headers.js';
import { registerUiAssets, UI_ASSET_ROUTES } from './ui-assets.js';
import { registerUiRoutes } from './ui-routes.js';
import { AnonymousRateGuard } from './anonymous-rate-guard.js';
import {
  applyConnectionLimits,
  DEFAULT_MAX_CONNECTIONS,
  fastifyConnectionOptions,
  resolveConnectionLimits,
  type ConnectionLimits,
} from './connection-limits.js';
import { DEFAULT_SESSION_POLICY, registerSessionRoutes, SESSION_ROUTES, UiSessions, type SessionPolicy } from './ui-session.js';
import { startBlobCollector } from './blob-collector.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 5380;
/** Largest JSON body (an ingest batch); the publisher sends far less per request. */
export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;
/** Largest blob upload (a PNG or a table's Arrow bytes). */
export const DEFAULT_BLOB_LIMIT = 64 * 1024 * 1024;

/** Routes answered without an API key: the health check, the UI's files and the UI's login. */
const PUBLIC_ROUTES = new Set(['/health', ...UI_ASSET_ROUTES, ...SESSION_ROUTES]);
/** The one non-GET route a read-only (local) server answers: a study comparison writes nothing. */
const READ_ONLY_POSTS = new Set(['/api/v1/studies/:id/compare']);

export interface ServerOptions {
  readonly backend: ServerBackend;
  /** Limits every experiment is held to, whatever the client says (default DEFAULT_LIMITS). */
  readonly limits?: Limits;
  readonly bodyLimit?: number;
  readonly blobLimit?: number;
  readonly rateLimit?: RateLimit;
  /** Log each request (pino, as JSON lines on stdout). */
  readonly logRequests?: boolean;
  /**
   * 'api-keys' (default): every route but the public ones needs a key (Bearer, or the UI's session cookie).
   * 'local' (`lablog ui`): no keys, every project readable, nothing written; for a store on this machine.
   */
  readonly access?: 'api-keys' | 'local';
  /**
   * With 'local' access, the host names requests may be addressed to (the Host header), besides localhost,
   * 127.0.0.1 and ::1: a page on another site that rebinds its name to this address gets nothing.
   */
  readonly allowedHosts?: readonly string[];
  /** Lifetime and idle limit of UI sessions (default DEFAULT_SESSION_POLICY). */
  readonly sessions?: SessionPolicy;
  /** Timeouts and connection caps (default DEFAULT_CONNECTION_LIMITS). */
  readonly connections?: Partial<ConnectionLimits>;
  /** Per client address: requests without a known key, and logins (default DEFAULT_ANONYMOUS_RATE_LIMIT). */
  readonly anonymousRateLimit?: RateLimit;
  /**
   * Proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client for the per-address rate limit
   * (fastify's trustProxy). Connection caps count the connection's own address (the proxy's).
   */
  readonly trustProxy?: readonly string[];
  /** Per-project bytes of uploaded blobs not yet referenced (default DEFAULT_BLOB_QUOTA_BYTES). */
  readonly blobQuota?: number;
  /** How long unreferenced blobs are kept (default BLOB_GRACE_MS); with 'api-keys' access a background pass collects them. */
  readonly blobGraceMs?: number;
  /** Where artifact bytes live (`--artifacts DIR|s3://bucket/prefix`); without it, the artifact routes are not served. */
  readonly artifactBlobs?: ArtifactBlobs;
  /** The key env var secrets are sealed with (LABLOG_SECRET_KEY); without one, secrets are refused and plain vars work. */
  readonly secrets?: SecretBox;
}

/** The host name of a Host header, without port or IPv6 brackets, lower-cased. */
function hostName(header: string | undefined): string {
  if (header === undefined) return '';
  const host = header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.split(':')[0]!;
  return host.toLowerCase();
}

export function createServer(options: ServerOptions): FastifyInstance {
  const { backend } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const blobLimit = options.blobLimit ?? DEFAULT_BLOB_LIMIT;
  // `lablog ui` answers this machine only: every client has one address, so the per-address cap is the total cap.
  const localAccess = options.access === 'local';
  const requested = options.connections ?? {};
  const connections = resolveConnectionLimits(
    localAccess && requested.maxConnectionsPerAddress === undefined
      ? { ...requested, maxConnectionsPerAddress: requested.maxConnections ?? DEFAULT_MAX_CONNECTIONS }
      : requested,
  );
  const app = Fastify({
    logger: options.logRequests ?? false,
    bodyLimit,
    ...fastifyConnectionOptions(connections),
    ...(options.trustProxy !== undefined && options.trustProxy.length > 0 ? { trustProxy: [...options.trustProxy] } : {}),
  });
  applyConnectionLimits(app, connections);
  const keys = new KeyLookup(backend);
  const sessions = new UiSessions(backend, keys, options.sessions ?? DEFAULT_SESSION_POLICY);
  const limiter = new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const anonymous = new AnonymousRateGuard(options.anonymousRateLimit);

  registerSecurityHeaders(app);
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: blobLimit }, (_request, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toHttpError(error);
    if (status >= 500) {
      request.log.error(error);
      if (!options.logRequests)
        process.stderr.write(`lablog server: ${request.method} ${request.url}: ${(error as Error).stack ?? String(error)}\n`);
    }
    if (status === 429 && typeof body.details['retryAfterMs'] === 'number') {
      void reply.header('retry-after', String(Math.max(1, Math.ceil(body.details['retryAfterMs'] / 1000))));
    }
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: {} }),
  );

  // Deny by default: every route but the health check needs a key. The decision uses the matched route,
  // never the raw URL (which a client can percent-encode past a prefix test).
  const local = options.access === 'local';
  const allowedHosts = new Set(['localhost', '127.0.0.1', '::1', ...(options.allowedHosts ?? []).map((h) => h.toLowerCase())]);
  // Without keys, who may read is decided by who can reach the port; the project list is read at most once a second.
  let localProjects: { at: number; names: Promise<string[]> } | undefined;
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url ?? '';
    if (local && !allowedHosts.has(hostName(request.headers.host))) {
      throw new LablogError(
        'FORBIDDEN',
        `lablog ui answers requests addressed to ${[...allowedHosts].join(', ')}, not '${request.headers.host ?? ''}'`,
        {},
      );
    }
    if (!local) anonymous.admit(request, PUBLIC_ROUTES.has(route)); // per client address, before any key lookup
    if (PUBLIC_ROUTES.has(route)) return;
    if (local) {
      if (request.method !== 'GET' && request.method !== 'HEAD' && !READ_ONLY_POSTS.has(route)) {
        throw new LablogError('FORBIDDEN', 'lablog ui serves the store read-only', {});
      }
      const now = Date.now();
      if (localProjects === undefined || now - localProjects.at > 1_000) {
        localProjects = { at: now, names: backend.listProjects().then((projects) => projects.map((p) => p.name)) };
      }
      request.apiKey = { id: 'local', hash: '', projects: await localProjects.names, name: 'local', createdAt: 0 };
      return;
    }
    // Bearer key, else the UI's session cookie: looked up on every request, so revoking takes effect at once.
    const token = bearerToken(request.headers.authorization);
    const key = token !== undefined ? await keys.find(token) : await sessions.authenticate(request);
    anonymous.settle(request, key !== undefined);
    if (key === undefined) {
      throw new LablogError(
        'UNAUTHENTICATED',
        token === undefined ? 'send Authorization: Bearer <API key> (or log in to the UI)' : 'the API key is not valid',
        {},
      );
    }
    const waitMs = limiter.take(key.id);
    if (waitMs > 0) {
      throw new LablogError('RATE_LIMITED', `too many requests for this API key; retry in ${waitMs} ms`, { retryAfterMs: waitMs });
    }
    request.apiKey = key;
  });

  app.get('/health', async () => ({ status: 'ok' }));
  registerReadRoutes(app, backend, limits);
  registerPublishRoutes(app, backend, limits, options.blobQuota !== undefined ? { blobQuota: options.blobQuota } : {});
  registerStudyRoutes(app, backend);
  registerSweepRoutes(app, backend);
  registerEnvRoutes(app, backend, options.secrets);
  registerRunRoutes(app, backend);
  registerRunPublishRoutes(app, backend);
  registerSweepTrialRoutes(app, backend);
  if (options.artifactBlobs !== undefined) registerArtifactRoutes(app, backend, options.artifactBlobs, limits);
  registerUiRoutes(app, backend, { mode: local ? 'local' : 'server', scope: (request) => request.apiKey.projects });
  if (!local) {
    registerSessionRoutes(app, keys, sessions);
    sessions.startSweeping();
    app.addHook('onClose', async () => sessions.stopSweeping());
  }
  registerUiAssets(app);
  const collector = local
    ? undefined
    : startBlobCollector(backend, {
        ...(options.blobGraceMs !== undefined ? { graceMs: options.blobGraceMs } : {}),
        onPass: (pass) => {
          if (pass.ok) app.log.info(pass.collected, 'unreferenced blobs collected');
          else if (options.logRequests) app.log.warn({ err: pass.error }, 'collecting unreferenced blobs failed; trying again later');
          else
            process.stderr.write(
              `lablog server: collecting unreferenced blobs failed (trying again later): ${(pass.error as Error).message}\n`,
            );
        },
      });
  app.addHook('onClose', async () => {
    await collector?.stop();
    await backend.close();
  });
  return app;
}

export interface RunningServer {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts a server on host:port (port 0: any free port) and returns its URL. */
export async function startServer(options: ServerOptions & { host?: string; port?: number }): Promise<RunningServer> {
  const app = createServer(options);
  await app.listen({ host: options.host ?? DEFAULT_HOST, port: options.port ?? DEFAULT_PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host ?? DEFAULT_HOST;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, app, close: () => app.close() };
}

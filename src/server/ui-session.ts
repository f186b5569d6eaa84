// UI sessions on the team server: an API key given once at login buys a server-side session; the browser's
// HttpOnly cookie holds only the session's random id, which logout, expiry and revoking the key all end.

import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LablogError } from '../model/errors.js';
import type { ApiKeyRecord, ServerBackend } from '../store/server-backend.js';
import type { KeyLookup } from './api-keys.js';
import { UseThrottle } from './use-throttle.js';
import type { SessionAnswer } from '../ui/ui-api.js';

/** The cookie's name (kept from when it held the key, so a browser's old cookie is simply replaced). */
export const SESSION_COOKIE = 'lablog_key';
/** Routes answered without a key (the login itself). */
export const SESSION_ROUTES = ['/api/v1/session'];

/** A session ends this long after login, however much it is used (the cookie's Max-Age too). */
export const SESSION_LIFETIME_MS = 7 * 24 * 3600 * 1000;
/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 24 * 3600 * 1000;
/** Random bytes of a session id: 256 bits, so ids can be neither guessed nor enumerated. */
export const SESSION_ID_BYTES = 32;
/** Sessions one key keeps at once; a login past it ends that key's oldest session. */
export const MAX_SESSIONS_PER_KEY = 20;
/** How often a session's last request is written (at most; and at most a tenth of the idle limit). */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;
/** How often a server deletes expired sessions besides at every login. */
export const SESSION_SWEEP_INTERVAL_MS = 3600 * 1000;

const SESSION_PREFIX = 'lls_';

export interface SessionPolicy {
  /** Absolute lifetime of a session (default SESSION_LIFETIME_MS). */
  readonly lifetimeMs: number;
  /** Idle limit of a session (default SESSION_IDLE_MS). */
  readonly idleMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { lifetimeMs: SESSION_LIFETIME_MS, idleMs: SESSION_IDLE_MS };

function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined; // a malformed cookie is no cookie
      }
    }
  }
  return undefined;
}

/**
 * The session id of the cookie, if the request may use it: always for GET and HEAD; for other methods only
 * with the `x-lablog-ui` header, which a cross-site form cannot send (with SameSite=Strict, a second guard
 * against cross-site requests made with the user's cookie).
 */
export function sessionId(request: FastifyRequest): string | undefined {
  const id = cookie(request.headers.cookie, SESSION_COOKIE);
  if (id === undefined) return undefined;
  if (request.method === 'GET' || request.method === 'HEAD' || request.headers['x-lablog-ui'] === '1') return id;
  return undefined;
}

function sessionHash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/**
 * Whether the browser reached the server over https: directly, or through a proxy that says so. Trusting
 * the header costs nothing: a client that forges it only gets a cookie its browser keeps off plain http.
 */
function overHttps(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return request.protocol === 'https' || first === 'https';
}

function setCookie(request: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = overHttps(request) ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

/** A session limit for messages: in days or hours when it is a whole number of them, else in seconds. */
function duration(ms: number): string {
  const whole = (unit: number, name: string) => (ms % unit === 0 ? `${ms / unit} ${name}${ms === unit ? '' : 's'}` : undefined);
  return whole(24 * 3600 * 1000, 'day') ?? whole(3600 * 1000, 'hour') ?? `${Math.round(ms / 1000)} s`;
}

/** Logins, lookups and logouts of UI sessions, over the server's store (shared by every replica). */
export class UiSessions {
  readonly #backend: ServerBackend;
  readonly #keys: KeyLookup;
  readonly #policy: SessionPolicy;
  readonly #touchMs: number;
  readonly #touches: UseThrottle;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(backend: ServerBackend, keys: KeyLookup, policy: SessionPolicy = DEFAULT_SESSION_POLICY) {
    this.#backend = backend;
    this.#keys = keys;
    this.#policy = policy;
    this.#touchMs = Math.min(SESSION_TOUCH_INTERVAL_MS, policy.idleMs / 10);
    this.#touches = new UseThrottle(this.#touchMs);
  }

  /** Deletes expired sessions every SESSION_SWEEP_INTERVAL_MS (the timer does not keep the process alive). */
  startSweeping(): void {
    this.#sweeper ??= setInterval(() => void this.sweep(), SESSION_SWEEP_INTERVAL_MS).unref();
  }

  stopSweeping(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Deletes expired and idle sessions; a failure is left for the next sweep. */
  async sweep(now = Date.now()): Promise<void> {
    await this.#backend.deleteExpiredSessions(now, now - this.#policy.idleMs).catch(() => {});
  }

  /** Trades a key for a new session; returns the cookie to set. */
  async login(request: FastifyRequest, key: ApiKeyRecord): Promise<string> {
    const now = Date.now();
    await this.sweep(now);
    const id = SESSION_PREFIX + randomBytes(SESSION_ID_BYTES).toString('base64url');
    await this.#backend.createSession(
      { hash: sessionHash(id), keyId: key.id, createdAt: now, expiresAt: now + this.#policy.lifetimeMs, lastSeenAt: now },
      MAX_SESSIONS_PER_KEY,
    );
    return setCookie(request, id, Math.ceil(this.#policy.lifetimeMs / 1000));
  }

  /**
   * The key of the request's session cookie; undefined without one. An unknown, expired or idle session, or
   * one whose key was revoked, is UNAUTHENTICATED. One indexed query (session joined with its key).
   */
  async authenticate(request: FastifyRequest): Promise<ApiKeyRecord | undefined> {
    const id = sessionId(request);
    if (id === undefined) return undefined;
    const hash = sessionHash(id);
    const found = await this.#backend.findSession(hash);
    if (found === undefined)
      throw new LablogError('UNAUTHENTICATED', 'the UI session is not valid (logged out, or its key was revoked); log in again', {});
    const { session, key } = found;
    const now = Date.now();
    const { lifetimeMs, idleMs } = this.#policy;
    // The end fixed at login, or sooner when the server now runs with a shorter lifetime.
    const end = Math.min(session.expiresAt, session.createdAt + lifetimeMs);
    if (end <= now || session.lastSeenAt + idleMs <= now) {
      await this.#backend.deleteSession(hash).catch(() => {});
      throw end <= now
        ? new LablogError('UNAUTHENTICATED', `the UI session expired (sessions last ${duration(lifetimeMs)}); log in again`, {
            limit: lifetimeMs,
            actual: now - session.createdAt,
          })
        : new LablogError('UNAUTHENTICATED', `the UI session was idle longer than ${duration(idleMs)}; log in again`, {
            limit: idleMs,
            actual: now - session.lastSeenAt,
          });
    }
    if (now - session.lastSeenAt >= this.#touchMs && this.#touches.take(hash, now))
      void this.#backend.touchSession(hash, now).catch(() => {});
    this.#keys.noteUse(key);
    return key;
  }

  /** Ends the request's session on the server (whatever the method: a logout harms no one); returns the cookie that clears it. */
  async logout(request: FastifyRequest): Promise<string> {
    const id = cookie(request.headers.cookie, SESSION_COOKIE);
    if (id !== undefined) await this.#backend.deleteSession(sessionHash(id));
    return setCookie(request, '', 0);
  }
}

export function registerSessionRoutes(app: FastifyInstance, keys: KeyLookup, sessions: UiSessions): void {
  app.post('/api/v1/session', async (request, reply): Promise<SessionAnswer> => {
    const body = request.body as { key?: unknown } | undefined;
    const key = typeof body?.key === 'string' ? body.key.trim() : '';
    if (key.length === 0) throw new LablogError('INVALID_OPTION', 'send { "key": "<API key>" }', { field: 'key' });
    const record = await keys.find(key);
    if (record === undefined) throw new LablogError('UNAUTHENTICATED', 'the API key is not valid', {});
    void reply.header('set-cookie', await sessions.login(request, record));
    return { projects: record.projects };
  });

  app.delete('/api/v1/session', async (request, reply) => {
    return reply
      .header('set-cookie', await sessions.logout(request))
      .code(204)
      .send();
  });
}

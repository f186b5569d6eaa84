// Per-address rate limit of what a client without a known key can make the server do: requests with no key or an unknown key, and every login; checked before the key lookup.

import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { LablogError } from '../model/errors.js';
import { clientAddressKey } from './client-address.js';
import { RateLimiter, type RateLimit } from './rate-limiter.js';

/** Per client address: a browser logs in once, a publisher presents one key; 20 per second is far above either. */
export const DEFAULT_ANONYMOUS_RATE_LIMIT: RateLimit = Object.freeze({ perSecond: 20, burst: 40 });
/** Client addresses tracked at most (least recently seen dropped first). */
export const MAX_ANONYMOUS_ADDRESSES = 10_000;
/** Credentials remembered as having authenticated, at most (least recently used dropped first). */
export const MAX_KNOWN_CREDENTIALS = 10_000;
/** The login: counted on every call, whatever the key, since trying keys is what it is for. */
const LOGIN = { method: 'POST', route: '/api/v1/session' } as const;

/**
 * A fingerprint of the credentials a request presents (its Authorization and Cookie headers), or undefined when it
 * presents none. Only a hash is kept: the guard never holds a key.
 */
function credentialOf(request: FastifyRequest): string | undefined {
  const { authorization, cookie } = request.headers;
  if (authorization === undefined && cookie === undefined) return undefined;
  return createHash('sha256')
    .update(`${authorization ?? ''}\n${cookie ?? ''}`)
    .digest('base64url');
}

/**
 * Charges the client address for each request that could cost a key lookup without a known key. A credential
 * that authenticated before is not charged (the key lookup still decides whether it is valid, and forgets it when
 * it no longer is), so a publisher's traffic is never slowed by wrong keys sent from its own address.
 */
export class AnonymousRateGuard {
  readonly #limiter: RateLimiter;
  /** Credential fingerprints that authenticated, in least-recently-used order. */
  readonly #known = new Map<string, true>();

  constructor(limit: RateLimit = DEFAULT_ANONYMOUS_RATE_LIMIT) {
    this.#limiter = new RateLimiter(limit, MAX_ANONYMOUS_ADDRESSES);
  }

  /** Before the key lookup: throws RATE_LIMITED when this request's address has used its allowance. */
  admit(request: FastifyRequest, isPublicRoute: boolean): void {
    const login = request.method === LOGIN.method && request.routeOptions.url === LOGIN.route;
    if (!login) {
      if (isPublicRoute) return;
      const credential = credentialOf(request);
      if (credential !== undefined && this.#known.has(credential)) {
        this.#known.delete(credential);
        this.#known.set(credential, true);
        return;
      }
    }
    const address = clientAddressKey(request.ip);
    const waitMs = this.#limiter.take(address);
    if (waitMs > 0) {
      const { perSecond, burst } = this.#limiter.limit;
      throw new LablogError(
        'RATE_LIMITED',
        `too many requests without a known API key, or logins, from ${address}: the limit is ${perSecond} per second (burst ${burst}); retry in ${waitMs} ms`,
        { retryAfterMs: waitMs, limit: perSecond, burst, address },
      );
    }
  }

  /** After the key lookup: remembers a credential that authenticated, forgets one that did not. */
  settle(request: FastifyRequest, authenticated: boolean): void {
    const credential = credentialOf(request);
    if (credential === undefined) return;
    if (!authenticated) {
      this.#known.delete(credential);
      return;
    }
    this.#known.delete(credential);
    if (this.#known.size >= MAX_KNOWN_CREDENTIALS) this.#known.delete(this.#known.keys().next().value!);
    this.#known.set(credential, true);
  }
}

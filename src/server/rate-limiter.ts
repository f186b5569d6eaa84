// Rate limiter: a token bucket per id (an API key, a client address); an empty bucket tells how long until the next request may pass.

export interface RateLimit {
  /** Requests per second, sustained. */
  readonly perSecond: number;
  /** Requests that may arrive at once. */
  readonly burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = Object.freeze({ perSecond: 200, burst: 400 });
/**
 * Buckets kept at most; past it the least recently used one is dropped (it comes back full). Keeps the memory
 * of a limiter keyed by client address bounded whatever the number of addresses.
 */
export const MAX_RATE_LIMIT_BUCKETS = 10_000;

export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #maxBuckets: number;
  /** In least-recently-used order: a bucket is moved to the end each time it is taken from. */
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(limit: RateLimit, maxBuckets = MAX_RATE_LIMIT_BUCKETS) {
    this.#limit = limit;
    this.#maxBuckets = maxBuckets;
  }

  get limit(): RateLimit {
    return this.#limit;
  }

  /** Buckets held now (at most the limiter's bound). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a token for `id`: 0 when the request may pass, else the milliseconds to wait. */
  take(id: string, now = Date.now()): number {
    const { perSecond, burst } = this.#limit;
    const bucket = this.#buckets.get(id) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.#buckets.delete(id);
    if (this.#buckets.size >= this.#maxBuckets) this.#buckets.delete(this.#buckets.keys().next().value!);
    this.#buckets.set(id, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / perSecond) * 1000);
  }
}

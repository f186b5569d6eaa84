// Rate limiter: a token bucket per API key; an empty bucket tells how long until the next request may pass.

export interface RateLimit {
  /** Requests per second, sustained. */
  readonly perSecond: number;
  /** Requests that may arrive at once. */
  readonly burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = Object.freeze({ perSecond: 200, burst: 400 });

export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(limit: RateLimit) {
    this.#limit = limit;
  }

  /** Takes a token for `id`: 0 when the request may pass, else the milliseconds to wait. */
  take(id: string, now = Date.now()): number {
    const { perSecond, burst } = this.#limit;
    const bucket = this.#buckets.get(id) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.#buckets.set(id, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / perSecond) * 1000);
  }
}

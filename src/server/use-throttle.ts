// Throttles the "last used" writes of keys and sessions: one write per id per interval in a process.

/** Most ids a UseThrottle remembers; past it, it forgets them all (at worst one extra write per id). */
const USE_THROTTLE_IDS = 10_000;

/**
 * Lets one write per id through per interval in this process: requests arriving together, which all read
 * the same stale "last used" time, record it once.
 */
export class UseThrottle {
  readonly #intervalMs: number;
  readonly #last = new Map<string, number>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** True when no write for `id` went through in the last interval (and records this one). */
  take(id: string, now: number): boolean {
    const last = this.#last.get(id);
    if (last !== undefined && now - last < this.#intervalMs) return false;
    if (this.#last.size >= USE_THROTTLE_IDS) this.#last.clear();
    this.#last.set(id, now);
    return true;
  }
}

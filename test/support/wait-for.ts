// Test support: a bounded poll for a condition, failing with what it waited for and how long.

/** How often a condition is looked at again. */
export const POLL_INTERVAL_MS = 20;

/**
 * Polls `probe` until it answers a truthy value and resolves with that value; rejects naming `what` and
 * the wait once `timeoutMs` have passed (the probe is asked one last time at the deadline).
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs: number, intervalMs = POLL_INTERVAL_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}

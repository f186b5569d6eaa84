// Blob collector: the server's background pass that drops blobs no image point or table references, a grace period after their last use.

import type { BlobCollection, ServerBackend } from '../store/server-backend.js';

/** How long an uploaded blob nothing references is kept after its last upload, reference or query (24 h). */
export const BLOB_GRACE_MS = 24 * 60 * 60 * 1000;
/** Time between two collection passes (10 min); shorter when the grace period is (half of it). */
export const BLOB_COLLECT_INTERVAL_MS = 10 * 60 * 1000;
/** Shortest time between two passes, whatever the grace period. */
export const MIN_BLOB_COLLECT_INTERVAL_MS = 100;
/** Ownership records dropped per transaction (the store stays free for other writes in between). */
export const BLOB_COLLECT_BATCH = 1_000;
/** Transactions per pass at most (the rest waits for the next pass). */
export const MAX_BLOB_COLLECT_BATCHES = 100;

export interface BlobCollectorOptions {
  readonly graceMs?: number;
  /** Told of each pass that removed something, and of each that failed (it is tried again next time). */
  readonly onPass?: (result: { ok: true; collected: BlobCollection } | { ok: false; error: unknown }) => void;
}

export interface BlobCollector {
  /** Stops the timer and waits for a pass that is running. */
  stop(): Promise<void>;
}

/**
 * Runs collection passes on an unref()'d timer (it never keeps the process alive). A failed pass (a
 * concurrent upload of the same bytes in another process, a database restart) changes nothing and is
 * retried at the next interval; passes never overlap.
 */
export function startBlobCollector(backend: ServerBackend, options: BlobCollectorOptions = {}): BlobCollector {
  const graceMs = options.graceMs ?? BLOB_GRACE_MS;
  const intervalMs = Math.max(MIN_BLOB_COLLECT_INTERVAL_MS, Math.min(BLOB_COLLECT_INTERVAL_MS, Math.floor(graceMs / 2)));
  let running: Promise<void> | undefined;
  let stopped = false;
  const pass = async () => {
    const total = { owners: 0, blobs: 0, bytes: 0 };
    try {
      for (let batch = 0; batch < MAX_BLOB_COLLECT_BATCHES && !stopped; batch++) {
        const collected = await backend.collectBlobs(graceMs, Date.now(), BLOB_COLLECT_BATCH);
        total.owners += collected.owners;
        total.blobs += collected.blobs;
        total.bytes += collected.bytes;
        if (collected.owners < BLOB_COLLECT_BATCH) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (total.owners > 0) options.onPass?.({ ok: true, collected: total });
    } catch (error) {
      if (!stopped) options.onPass?.({ ok: false, error });
    }
  };
  const timer = setInterval(() => {
    if (running !== undefined || stopped) return;
    running = pass().finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

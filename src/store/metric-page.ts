// Metric pages: the points of one series from a step on, at most a page of them, read chunk batch by chunk batch.

import { decodeChunks, type EncodedChunk } from './column-codec.js';

/** Chunks one store query reads while a page fills (a chunk holds one ingest request's points of a series). */
export const METRIC_PAGE_CHUNK_BATCH = 8;

/** Points of a series with step >= fromStep, at most `limit`; `next` is the step of the first point left out (null: none). */
export interface MetricPage {
  readonly steps: Float64Array;
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
  readonly next: number | null;
}

/**
 * Reads chunks whose last step is >= fromStep in step order, `METRIC_PAGE_CHUNK_BATCH` at a time through
 * `read(afterFirstStep)` (chunks whose first step is > afterFirstStep; -Infinity at first), until `limit`
 * points and one more are in hand or no chunk is left. Only those chunks are read and decoded.
 */
export async function assembleMetricPage(
  fromStep: number,
  limit: number,
  read: (afterFirstStep: number, batch: number) => Promise<EncodedChunk[]> | EncodedChunk[],
): Promise<MetricPage> {
  const parts: { steps: Float64Array; values: Float64Array; timestamps: Float64Array }[] = [];
  let held = 0;
  let cursor = -Infinity;
  for (;;) {
    const chunks = await read(cursor, METRIC_PAGE_CHUNK_BATCH);
    for (const chunk of chunks) {
      const part = decodeChunks([chunk]);
      cursor = part.steps[0] ?? cursor;
      let start = 0;
      while (start < part.steps.length && part.steps[start]! < fromStep) start++;
      const take = Math.min(part.steps.length - start, limit + 1 - held);
      if (take <= 0) continue;
      parts.push({
        steps: part.steps.subarray(start, start + take),
        values: part.values.subarray(start, start + take),
        timestamps: part.timestamps.subarray(start, start + take),
      });
      held += take;
      if (held > limit) break;
    }
    if (held > limit || chunks.length < METRIC_PAGE_CHUNK_BATCH) break;
  }
  const count = Math.min(held, limit);
  const steps = new Float64Array(count);
  const values = new Float64Array(count);
  const timestamps = new Float64Array(count);
  let offset = 0;
  let next: number | null = null;
  for (const part of parts) {
    const n = Math.min(part.steps.length, count - offset);
    steps.set(part.steps.subarray(0, n), offset);
    values.set(part.values.subarray(0, n), offset);
    timestamps.set(part.timestamps.subarray(0, n), offset);
    offset += n;
    if (n < part.steps.length) next = part.steps[n]!;
  }
  return { steps, values, timestamps, next };
}

// The NaN and ±Infinity points of a series in a chart's range: charts mark them, since a line cannot draw them.

import { toJsonNumber, type NonFiniteToken } from '../model/json-number.js';
import type { SeriesChunks } from './downsample.js';

/** Most non-finite points one series of a chart answer lists (the first ones in x order); a diverged run is marked, not listed in full. */
export const MAX_NON_FINITE_POINTS = 1_000;

export interface NonFinitePoint {
  readonly x: number;
  readonly value: NonFiniteToken;
}

/** The points of `chunks` with x in [from, to] whose value is NaN or ±Infinity, in x order, at most MAX_NON_FINITE_POINTS. */
export function nonFinitePoints(chunks: SeriesChunks, range: { readonly from: number; readonly to: number } | null): NonFinitePoint[] {
  const found: NonFinitePoint[] = [];
  if (range === null) return found;
  for (const { xs, values } of chunks) {
    for (let j = 0; j < values.length; j++) {
      const v = values[j]!;
      // v - v is 0 for every finite number, NaN for NaN and ±Infinity.
      if (v - v === 0) continue;
      const x = xs instanceof Float64Array ? xs[j]! : xs.first + j * xs.delta;
      if (x < range.from || x > range.to) continue;
      found.push({ x, value: toJsonNumber(v) as NonFiniteToken });
      if (found.length >= MAX_NON_FINITE_POINTS) return found;
    }
  }
  return found;
}

// Downsampling for charts: several series put on one shared x grid, all points when they fit, else min/max per bucket.

/** An x column of evenly spaced values, not materialised: first + i × delta for i < length. */
export interface EvenColumn {
  readonly first: number;
  readonly delta: number;
  readonly length: number;
}

/** One series (or chunk of one): x ascending (steps, or seconds), values aligned with it (NaN: no value). */
export interface SeriesColumns {
  readonly xs: Float64Array | EvenColumn;
  readonly values: Float64Array;
}

const isEven = (xs: Float64Array | EvenColumn): xs is EvenColumn => !(xs instanceof Float64Array);
const firstX = (xs: Float64Array | EvenColumn): number => (isEven(xs) ? xs.first : xs[0]!);
const lastX = (xs: Float64Array | EvenColumn): number => (isEven(xs) ? xs.first + (xs.length - 1) * xs.delta : xs[xs.length - 1]!);

/** The x values of [lo, hi) as an array. */
function materialise(xs: Float64Array | EvenColumn, lo: number, hi: number): Float64Array {
  if (!isEven(xs)) return xs.subarray(lo, hi);
  const out = new Float64Array(hi - lo);
  for (let i = lo; i < hi; i++) out[i - lo] = xs.first + i * xs.delta;
  return out;
}

export interface AlignedSeries {
  /** True when `xs` holds every x of the range; false when it is a grid of bucket slots. */
  readonly exact: boolean;
  readonly xs: number[];
  /** Per series, aligned with xs; null where the series has no (finite) value there. */
  readonly values: (number | null)[][];
  /** Per series, the points it has in the range. */
  readonly points: number[];
  readonly range: { readonly from: number; readonly to: number } | null;
}

/** Index of the first x >= x in an even column (delta > 0 when there are two values or more). */
function evenBound(xs: EvenColumn, x: number, strict: boolean): number {
  if (xs.length <= 1 || xs.delta <= 0) return xs.length === 0 ? 0 : (strict ? xs.first > x : xs.first >= x) ? 0 : 1;
  const at = (x - xs.first) / xs.delta;
  const index = strict ? Math.floor(at) + 1 : Math.ceil(at);
  return Math.min(xs.length, Math.max(0, index));
}

/** First index whose x is >= x (xs ascending). */
function lowerBound(xs: Float64Array | EvenColumn, x: number): number {
  if (isEven(xs)) return evenBound(xs, x, false);
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose x is > x. */
function upperBound(xs: Float64Array | EvenColumn, x: number): number {
  if (isEven(xs)) return evenBound(xs, x, true);
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** A series as stored: chunks in x order, each with ascending xs (one chunk is a whole series). */
export type SeriesChunks = readonly SeriesColumns[];

/**
 * Aligns the series on one x grid of at most `maxPoints` values over `range` (default: all their points).
 * When the distinct x values in the range fit, they are the grid and every value is the stored one.
 * Otherwise the range is cut into maxPoints/2 equal buckets of two slots each; a series puts its smallest
 * and largest value of the bucket into the slots in the order they occur (one point: the first slot), so
 * the drawn line keeps every spike and trough that a pixel column can show.
 */
export function alignSeries(series: readonly SeriesColumns[], maxPoints: number, range?: { from: number; to: number }): AlignedSeries {
  return alignChunks(
    series.map((s) => [s]),
    maxPoints,
    range,
  );
}

/** alignSeries over series read chunk by chunk, without joining the chunks first. */
export function alignChunks(series: readonly SeriesChunks[], maxPoints: number, range?: { from: number; to: number }): AlignedSeries {
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 2) throw new RangeError(`maxPoints must be an integer >= 2, got ${maxPoints}`);
  let from = range?.from ?? Infinity;
  let to = range?.to ?? -Infinity;
  if (range === undefined) {
    for (const chunks of series) {
      for (const c of chunks) {
        if (c.xs.length === 0) continue;
        from = Math.min(from, firstX(c.xs));
        to = Math.max(to, lastX(c.xs));
      }
    }
  }
  const windows = series.map((chunks) =>
    chunks.map((c) => (from <= to ? [lowerBound(c.xs, from), upperBound(c.xs, to)] : [0, 0]) as [number, number]),
  );
  const points = windows.map((ws) => ws.reduce((n, [lo, hi]) => n + hi - lo, 0));
  const total = points.reduce((a, b) => a + b, 0);
  if (total === 0) return { exact: true, xs: [], values: series.map(() => []), points, range: range ?? null };

  // Exact when the distinct xs fit: no single series over the budget, and their union within it.
  if (points.every((n) => n <= maxPoints)) {
    const joined = series.map((chunks, i) => join(chunks, windows[i]!, points[i]!));
    const all = new Float64Array(total);
    let at = 0;
    for (const s of joined) {
      all.set(s.xs, at);
      at += s.xs.length;
    }
    all.sort();
    const xs: number[] = [];
    for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) xs.push(all[i]!);
    if (xs.length <= maxPoints) {
      const values = joined.map((s) => {
        const out = new Array<number | null>(xs.length).fill(null);
        let k = 0;
        for (let j = 0; j < s.xs.length; j++) {
          const x = s.xs[j]!;
          while (xs[k]! < x) k++;
          out[k] = finite(s.values[j]!);
        }
        return out;
      });
      return { exact: true, xs, values, points, range: { from, to } };
    }
  }

  const buckets = Math.floor(maxPoints / 2);
  const width = to > from ? (to - from) / buckets : 1;
  const xs = new Array<number>(buckets * 2);
  for (let b = 0; b < buckets; b++) {
    xs[2 * b] = from + b * width;
    xs[2 * b + 1] = from + (b + 0.5) * width;
  }
  const values = series.map((chunks, i) => {
    const out = new Array<number | null>(buckets * 2).fill(null);
    // Per bucket: its smallest and largest finite value and where they occur (an index running over chunks).
    let b = 0;
    let edge = buckets === 1 ? Infinity : from + width;
    let minV = Infinity;
    let maxV = -Infinity;
    let minAt = -1;
    let maxAt = -1;
    let base = 0;
    const flush = () => {
      if (minAt < 0) return;
      if (minAt === maxAt) out[2 * b] = minV;
      else if (minAt < maxAt) {
        out[2 * b] = minV;
        out[2 * b + 1] = maxV;
      } else {
        out[2 * b] = maxV;
        out[2 * b + 1] = minV;
      }
    };
    for (let c = 0; c < chunks.length; c++) {
      const column = chunks[c]!.xs;
      const cv = chunks[c]!.values;
      const [lo, hi] = windows[i]![c]!;
      let j = lo;
      if (isEven(column)) {
        // Evenly spaced steps: each bucket's end is computed, and only values are read.
        while (j < hi) {
          const end = Math.min(hi, evenBound(column, edge, false));
          for (; j < end; j++) {
            const v = cv[j]!;
            if (v < minV && v !== -Infinity) {
              minV = v;
              minAt = base + j;
            }
            if (v > maxV && v !== Infinity) {
              maxV = v;
              maxAt = base + j;
            }
          }
          if (j < hi) {
            flush();
            const x = column.first + j * column.delta;
            while (x >= edge) {
              b++;
              edge = b === buckets - 1 ? Infinity : from + (b + 1) * width;
            }
            minV = Infinity;
            maxV = -Infinity;
            minAt = -1;
            maxAt = -1;
          }
        }
        base += column.length;
        continue;
      }
      const cx = column;
      while (j < hi) {
        // The points of the current bucket: xs ascend, so the first one at or past its right edge ends it.
        for (; j < hi; j++) {
          if (cx[j]! >= edge) break;
          const v = cv[j]!;
          // NaN fails both comparisons; ±Infinity is skipped explicitly (JSON cannot carry it).
          if (v < minV && v !== -Infinity) {
            minV = v;
            minAt = base + j;
          }
          if (v > maxV && v !== Infinity) {
            maxV = v;
            maxAt = base + j;
          }
        }
        if (j < hi) {
          flush();
          // The last bucket's edge is Infinity, so this stops there.
          while (cx[j]! >= edge) {
            b++;
            edge = b === buckets - 1 ? Infinity : from + (b + 1) * width;
          }
          minV = Infinity;
          maxV = -Infinity;
          minAt = -1;
          maxAt = -1;
        }
      }
      base += cx.length;
    }
    flush();
    return out;
  });
  return { exact: false, xs, values, points, range: { from, to } };
}

/** The points of a series' chunks inside their windows, as one pair of columns. */
function join(chunks: SeriesChunks, windows: readonly [number, number][], count: number): { xs: Float64Array; values: Float64Array } {
  if (chunks.length === 1) {
    const [lo, hi] = windows[0]!;
    return { xs: materialise(chunks[0]!.xs, lo, hi), values: chunks[0]!.values.subarray(lo, hi) };
  }
  const xs = new Float64Array(count);
  const values = new Float64Array(count);
  let at = 0;
  chunks.forEach((c, i) => {
    const [lo, hi] = windows[i]!;
    xs.set(materialise(c.xs, lo, hi), at);
    values.set(c.values.subarray(lo, hi), at);
    at += hi - lo;
  });
  return { xs, values };
}

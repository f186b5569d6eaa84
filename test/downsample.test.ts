// alignSeries: exact when the points fit, min/max per bucket otherwise, on one x grid for every series.
import { describe, expect, it } from 'vitest';
import { alignChunks, alignSeries } from '../src/server/downsample.js';

const f = (values: number[]) => Float64Array.from(values);

describe('alignSeries', () => {
  it('sends every point, aligned on the union of xs, when they fit', () => {
    const a = { xs: f([1, 2, 3]), values: f([10, 20, 30]) };
    const b = { xs: f([2, 4]), values: f([0.5, NaN]) };
    const out = alignSeries([a, b], 10);
    expect(out.exact).toBe(true);
    expect(out.xs).toEqual([1, 2, 3, 4]);
    expect(out.values).toEqual([
      [10, 20, 30, null],
      [null, 0.5, null, null],
    ]);
    expect(out.points).toEqual([3, 2]);
    expect(out.range).toEqual({ from: 1, to: 4 });
  });

  it('keeps only the points inside [from, to]', () => {
    const a = { xs: f([1, 2, 3, 4, 5]), values: f([1, 2, 3, 4, 5]) };
    const out = alignSeries([a], 10, { from: 2, to: 4 });
    expect(out.xs).toEqual([2, 3, 4]);
    expect(out.values[0]).toEqual([2, 3, 4]);
    expect(out.points).toEqual([3]);
  });

  it('keeps every spike and trough of a long series within the point budget', () => {
    const n = 100_000;
    const xs = new Float64Array(n);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = i;
      values[i] = Math.sin(i / 1000);
    }
    values[12_345] = 99; // a spike
    values[67_890] = -99; // a trough
    const out = alignSeries([{ xs, values }], 1000);
    expect(out.exact).toBe(false);
    expect(out.xs.length).toBe(1000);
    expect(out.values[0]!.length).toBe(1000);
    const drawn = out.values[0]!.filter((v): v is number => v !== null);
    expect(Math.max(...drawn)).toBe(99);
    expect(Math.min(...drawn)).toBe(-99);
    expect(out.points).toEqual([n]);
    // Every bucket's two slots hold that bucket's true min and max (500 buckets of equal width over the xs).
    const buckets = 500;
    const width = (n - 1) / buckets;
    const min = new Array<number>(buckets).fill(Infinity);
    const max = new Array<number>(buckets).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      const bucket = Math.min(buckets - 1, Math.floor(xs[i]! / width));
      min[bucket] = Math.min(min[bucket]!, values[i]!);
      max[bucket] = Math.max(max[bucket]!, values[i]!);
    }
    for (let bucket = 0; bucket < buckets; bucket++) {
      const slots = [out.values[0]![2 * bucket]!, out.values[0]![2 * bucket + 1]!];
      expect([Math.min(...slots), Math.max(...slots)], `bucket ${bucket}`).toEqual([min[bucket], max[bucket]]);
    }
  });

  it('puts the smaller and larger value of a bucket in the order they occur', () => {
    const xs = f([0, 1, 2, 3, 4, 5, 6, 7]);
    const out = alignSeries([{ xs, values: f([5, 9, 1, 5, 5, 1, 9, 5]) }], 4);
    expect(out.exact).toBe(false);
    // Two buckets of [0, 3.5) and [3.5, 7]: max 9 then min 1; then min 1 then max 9.
    expect(out.values[0]).toEqual([9, 1, 1, 9]);
  });

  it('answers an empty grid for no points, and refuses a budget under 2', () => {
    const out = alignSeries([{ xs: f([]), values: f([]) }], 100);
    expect(out).toMatchObject({ exact: true, xs: [], values: [[]], points: [0], range: null });
    expect(() => alignSeries([], 1)).toThrow(RangeError);
  });

  it('answers the same for a series read in chunks as for the series whole', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (const n of [30, 5_000]) {
      const xs = new Float64Array(n);
      const values = new Float64Array(n);
      for (let i = 0, x = 0; i < n; i++) {
        x += 1 + Math.floor(random() * 3);
        xs[i] = x;
        values[i] = random() < 0.01 ? NaN : random() * 10 - 5;
      }
      const cuts = [0, Math.floor(n / 7), Math.floor(n / 2), n - 1, n];
      const chunks = cuts.slice(1).map((end, i) => ({ xs: xs.subarray(cuts[i]!, end), values: values.subarray(cuts[i]!, end) }));
      for (const range of [undefined, { from: xs[3]!, to: xs[n - 4]! + 0.5 }]) {
        for (const budget of [40, 400]) {
          expect(alignChunks([chunks], budget, range)).toEqual(alignSeries([{ xs, values }], budget, range));
        }
      }
    }
  });

  it('answers the same for evenly spaced steps kept as (first, delta) as for the steps written out', () => {
    const values = Float64Array.from({ length: 3_001 }, (_, i) => (i === 700 ? NaN : Math.cos(i / 40) * (1 + (i % 7))));
    // Three chunks: steps 0, 5, 10, … with one chunk of a single point in the middle.
    const cuts = [0, 1_200, 1_201, 3_001];
    const even = cuts.slice(1).map((end, i) => ({
      xs: { first: cuts[i]! * 5, delta: 5, length: end - cuts[i]! },
      values: values.subarray(cuts[i]!, end),
    }));
    const written = even.map((c) => ({ xs: Float64Array.from({ length: c.xs.length }, (_, k) => c.xs.first + k * 5), values: c.values }));
    for (const range of [undefined, { from: 17.5, to: 6_003 }, { from: 6_000, to: 6_000 }, { from: 100, to: 400 }]) {
      for (const budget of [10, 300, 4_000]) {
        expect(alignChunks([even], budget, range)).toEqual(alignChunks([written], budget, range));
      }
    }
  });
});

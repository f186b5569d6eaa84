import { describe, expect, it } from 'vitest';
import { ARITHMETIC, DELTA_I32, DELTA_U16, RAW, decodeColumn, decodeColumnToArray, encodeColumn } from '../src/store/column-codec.js';

function roundTrip(values: number[]) {
  const column = Float64Array.from(values);
  const { encoding, bytes } = encodeColumn(column);
  const copy = Buffer.from(bytes); // the raw encoding shares memory with the column
  column.fill(-7);
  return { encoding, bytes: copy.length, back: Array.from(decodeColumnToArray(encoding, copy, values.length)) };
}

const show = (values: number[]) => values.map((v) => (Object.is(v, -0) ? '-0' : v));

describe('column codec', () => {
  it('stores consecutive steps in 16 bytes whatever their number', () => {
    const steps = Array.from({ length: 16_384 }, (_, i) => 1000 + i);
    expect(roundTrip(steps)).toEqual({ encoding: ARITHMETIC, bytes: 16, back: steps });
    expect(roundTrip([0, 10, 20, 30]).encoding).toBe(ARITHMETIC);
  });

  it('stores millisecond timestamps as 2-byte deltas, and wider integer deltas as 4 bytes', () => {
    const ms = [1_763_870_000_000, 1_763_870_000_000, 1_763_870_000_001, 1_763_870_000_050, 1_763_870_065_535];
    expect(roundTrip(ms)).toEqual({ encoding: DELTA_U16, bytes: 8 + 2 * 4, back: ms });
    const wide = [5, 100_000, 7, 2_000_000_000];
    expect(roundTrip(wide)).toEqual({ encoding: DELTA_I32, bytes: 8 + 4 * 3, back: wide });
  });

  it('falls back to raw float64 whenever a compact form would not be exact', () => {
    for (const values of [
      [0.5, 0.25, 0.125],
      [1, NaN, 3],
      [1, 2, Infinity],
      [-0, 1, 2],
      [1, -0, 2],
      [0, 2 ** 53, 2 ** 53 + 2],
      [0, 5_000_000_000, 10_000_000_001],
      [1, 2],
      [7],
      [],
    ]) {
      const { encoding, bytes, back } = roundTrip(values);
      expect(encoding, JSON.stringify(values)).toBe(RAW);
      expect(bytes).toBe(8 * values.length);
      expect(show(back)).toEqual(show(values));
    }
  });

  it('keeps a float progression only when every value is reproduced exactly', () => {
    const fine = [0, 0.5, 1, 1.5, 2];
    expect(roundTrip(fine)).toEqual({ encoding: ARITHMETIC, bytes: 16, back: fine });
    const inexact = [0, 0.1, 0.2, 0.30000000000000004, 0.4];
    expect(roundTrip(inexact).back).toEqual(inexact);
    // first + delta rounds away from the second value: only checking every value keeps this exact.
    const second = [0.001, 0.009, 0.017, 0.025];
    expect(roundTrip(second).back).toEqual(second);
    for (const withNegativeZero of [
      [0, -0, 0],
      [5, -0, -5],
    ]) {
      expect(show(roundTrip(withNegativeZero).back)).toEqual(show(withNegativeZero));
    }
    // Many progressions of fractions, each value compared exactly.
    for (let a = 1; a < 60; a++) {
      for (let b = 1; b < 60; b++) {
        const values = [a / 1000, (a + b) / 1000, (a + 2 * b) / 1000, (a + 3 * b) / 1000];
        const back = roundTrip(values).back;
        if (!back.every((v, i) => Object.is(v, values[i]))) throw new Error(`${values} came back as ${back}`);
      }
    }
  });

  it('decodes into a target at an offset, from unaligned blobs too', () => {
    const target = new Float64Array(9).fill(-1);
    const unaligned = (b: Buffer) => Buffer.concat([Buffer.alloc(1), b]).subarray(1);
    decodeColumn(RAW, unaligned(Buffer.from(Float64Array.from([0.5, 1.5]).buffer)), 2, target, 1);
    const ts = encodeColumn(Float64Array.from([100, 101, 103]));
    decodeColumn(ts.encoding, unaligned(Buffer.from(ts.bytes)), 3, target, 3);
    const steps = encodeColumn(Float64Array.from([7, 8, 9]));
    decodeColumn(steps.encoding, unaligned(Buffer.from(steps.bytes)), 2, target, 6);
    expect(Array.from(target)).toEqual([-1, 0.5, 1.5, 100, 101, 103, 7, 8, -1]);
  });
});

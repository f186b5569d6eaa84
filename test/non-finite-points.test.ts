// The NaN and ±Infinity points a chart answer lists: found in every chunk of a series (evenly spaced steps or
// not), only inside the range, in x order, and no more than MAX_NON_FINITE_POINTS.

import { describe, expect, it } from 'vitest';
import { MAX_NON_FINITE_POINTS, nonFinitePoints } from '../src/server/non-finite-points.js';

describe('nonFinitePoints', () => {
  const chunks = [
    // Steps 0..4 as an even column, then steps 10, 12, 14 as stored xs.
    { xs: { first: 0, delta: 1, length: 5 }, values: Float64Array.of(1, Infinity, 2, Number.NaN, 3) },
    { xs: Float64Array.of(10, 12, 14), values: Float64Array.of(-Infinity, 0, Number.NaN) },
  ];

  it('lists each non-finite point with its token, across chunks, in x order', () => {
    expect(nonFinitePoints(chunks, { from: 0, to: 14 })).toEqual([
      { x: 1, value: 'Infinity' },
      { x: 3, value: 'NaN' },
      { x: 10, value: '-Infinity' },
      { x: 14, value: 'NaN' },
    ]);
  });

  it('keeps to the range (both ends included), and lists nothing without one', () => {
    expect(nonFinitePoints(chunks, { from: 3, to: 10 })).toEqual([
      { x: 3, value: 'NaN' },
      { x: 10, value: '-Infinity' },
    ]);
    expect(nonFinitePoints(chunks, { from: 4, to: 9 })).toEqual([]);
    expect(nonFinitePoints(chunks, null)).toEqual([]);
  });

  it('stops at MAX_NON_FINITE_POINTS, keeping the first ones', () => {
    const n = MAX_NON_FINITE_POINTS + 5;
    const diverged = [{ xs: { first: 0, delta: 2, length: n }, values: new Float64Array(n).fill(Number.NaN) }];
    const listed = nonFinitePoints(diverged, { from: 0, to: 2 * n });
    expect(listed.length).toBe(MAX_NON_FINITE_POINTS);
    expect(listed[0]).toEqual({ x: 0, value: 'NaN' });
    expect(listed[MAX_NON_FINITE_POINTS - 1]).toEqual({ x: 2 * (MAX_NON_FINITE_POINTS - 1), value: 'NaN' });
  });
});

// Param importances: η² of the objective grouped by each param (enum values, quantile bins of numbers), against hand-computed cases.

import { describe, expect, it } from 'vitest';
import { paramImportances } from '../src/core/param-importance.js';
import { checkSpace } from '../src/core/sweep-space.js';

describe('paramImportances', () => {
  const space = checkSpace({ a: { type: 'enum', values: ['x', 'y'] }, b: { type: 'float', min: 0, max: 1 } });

  it('gives all the importance to the param the objective depends on', () => {
    // a alternates x, y; b rises 0.05 … 0.95: each b bin (2 trials) holds one x and one y, so b explains nothing.
    const trials = Array.from({ length: 10 }, (_, i) => ({
      params: { a: i % 2 === 0 ? 'x' : 'y', b: i / 10 + 0.05 },
      value: i % 2 === 0 ? 1 : 3,
    }));
    expect(paramImportances(space, trials)).toEqual([
      { param: 'a', eta2: 1, importance: 1 },
      { param: 'b', eta2: 0, importance: 0 },
    ]);
  });

  it('computes η² = between-group / total sum of squares', () => {
    // y = 1, 2, 3, 6 (mean 3, total SS 14); a groups x: 1, 2 (mean 1.5) and y: 3, 6 (mean 4.5): between SS 9.
    // b: four distinct values in 5 bins of 4 trials → bins of one trial each: b explains everything (η² = 1).
    const trials = [
      { params: { a: 'x', b: 0.1 }, value: 1 },
      { params: { a: 'x', b: 0.2 }, value: 2 },
      { params: { a: 'y', b: 0.3 }, value: 3 },
      { params: { a: 'y', b: 0.4 }, value: 6 },
    ];
    const result = paramImportances(space, trials);
    expect(result.map((r) => r.param)).toEqual(['b', 'a']);
    expect(result[1]!.eta2).toBeCloseTo(9 / 14, 12);
    expect(result[0]!.eta2).toBeCloseTo(1, 12);
    expect(result[1]!.importance).toBeCloseTo(9 / 14 / (1 + 9 / 14), 12);
  });

  it('needs at least 4 finite values', () => {
    expect(paramImportances(space, [{ params: { a: 'x', b: 0.1 }, value: 1 }])).toEqual([]);
  });
});

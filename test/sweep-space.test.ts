// Search spaces: each rule refused with INVALID_OPTION naming the field, the rule and the value; accepted spaces as stored; params mapped in bounds.

import { describe, expect, it } from 'vitest';
import { LablogError } from '../src/index.js';
import { checkSpace, dimensionsOf, spaceChanges } from '../src/core/sweep-space.js';
import { SeededRandom } from '../src/core/seeded-random.js';

function refusal(space: unknown): LablogError {
  try {
    checkSpace(space);
  } catch (error) {
    expect(error).toBeInstanceOf(LablogError);
    expect((error as LablogError).code).toBe('INVALID_OPTION');
    return error as LablogError;
  }
  throw new Error(`accepted ${JSON.stringify(space)}`);
}

describe('checkSpace', () => {
  it('accepts the issue example and stores it without defaults', () => {
    const space = {
      lr: { type: 'float', min: 1e-5, max: 1, log: true },
      width: { type: 'int', min: 8, max: 512, log: true },
      optimizer: { type: 'enum', values: ['sgd', 'adam', 'rmsprop'] },
      dropout: { type: 'float', min: 0, max: 0.8, exclusiveMax: true },
    };
    expect(checkSpace(space)).toEqual(space);
  });

  it.each([
    [null, /space must be an object/],
    [{}, /space must have at least one param/],
    [{ lr: 3 }, /space\.lr must be an object/],
    [{ lr: { type: 'double', min: 0, max: 1 } }, /space\.lr\.type must be one of float, int, enum, got string "double"/],
    [{ lr: { type: 'float', min: 0, max: 1, foo: 1 } }, /space\.lr\.foo is not an option of a float param/],
    [{ lr: { type: 'float', min: 1, max: 1 } }, /space\.lr\.min must be less than max \(1\), got number 1/],
    [{ lr: { type: 'float', min: 2, max: 1 } }, /space\.lr\.min must be less than max \(1\)/],
    [{ lr: { type: 'float', min: 0, max: Infinity } }, /space\.lr\.max must be a finite number/],
    [{ lr: { type: 'float', min: 0, max: 1, log: true } }, /space\.lr\.min must be > 0 with log: true/],
    [{ lr: { type: 'float', min: -1, max: 1, log: true } }, /space\.lr\.min must be > 0 with log: true.*-1/],
    [{ lr: { type: 'float', min: 0, max: 1, step: 0 } }, /space\.lr\.step must be a positive finite number/],
    [{ lr: { type: 'float', min: 0, max: 1, step: 2 } }, /space\.lr\.step must be at most max − min \(1\)/],
    [{ lr: { type: 'float', min: 1, max: 10, step: 1, log: true } }, /space\.lr\.step cannot be combined with log: true/],
    [
      { lr: { type: 'float', min: 0, max: 1, step: 0.5, exclusiveMax: true } },
      /space\.lr\.step cannot be combined with exclusiveMin or exclusiveMax/,
    ],
    [{ n: { type: 'int', min: 0.5, max: 10 } }, /space\.n\.min must be a safe integer/],
    [{ n: { type: 'int', min: 1, max: 10, step: 1.5 } }, /space\.n\.step must be a positive integer/],
    [{ n: { type: 'int', min: 1, max: 10, exclusiveMax: true } }, /space\.n\.exclusiveMax is not an option of a int param/],
    [{ opt: { type: 'enum', values: [] } }, /space\.opt\.values must be a non-empty array/],
    [{ opt: { type: 'enum', values: ['a', 'a'] } }, /space\.opt\.values\[1\] must not repeat an earlier value/],
    [{ opt: { type: 'enum', values: [NaN] } }, /space\.opt\.values\[0\] must be a string, a finite number or a boolean/],
    [{ opt: { type: 'enum', values: ['a'], pattern: '(' } }, /space\.opt\.pattern must be a valid regular expression/],
    [
      { opt: { type: 'enum', values: ['adam', 'SGD'], pattern: '[a-z]+' } },
      /space\.opt\.values\[1\] must match the pattern \/\[a-z\]\+\/ \(the whole value\), got string "SGD"/,
    ],
    [{ '': { type: 'enum', values: [1] } }, /param name must not be empty/],
  ])('refuses %j', (space, message) => {
    expect(refusal(space).message).toMatch(message);
  });

  it('says what changed between two spaces', () => {
    const a = checkSpace({ lr: { type: 'float', min: 0, max: 1 }, n: { type: 'int', min: 1, max: 3 } });
    const b = checkSpace({ lr: { type: 'float', min: 0, max: 2 }, m: { type: 'int', min: 1, max: 3 } });
    expect(spaceChanges(a, a)).toEqual([]);
    expect(spaceChanges(a, b)).toEqual([
      `param 'lr' changed from {"type":"float","min":0,"max":1} to {"type":"float","min":0,"max":2}`,
      "param 'n' was removed",
      "param 'm' was added",
    ]);
  });
});

describe('dimensions', () => {
  it('maps every internal point into the allowed values (log, int, step, exclusive bounds)', () => {
    const space = checkSpace({
      lr: { type: 'float', min: 1e-5, max: 1, log: true },
      width: { type: 'int', min: 8, max: 512, log: true },
      layers: { type: 'int', min: 1, max: 4 },
      dropout: { type: 'float', min: 0, max: 0.8, exclusiveMin: true, exclusiveMax: true },
      momentum: { type: 'float', min: 0.5, max: 0.99, step: 0.01 },
    });
    const dims = dimensionsOf(space);
    const random = new SeededRandom(3);
    for (const d of dims) {
      if (d.kind !== 'numeric') continue;
      // The ends of the internal range, and 2,000 points between.
      const xs = [d.low, d.high, ...Array.from({ length: 2000 }, () => random.between(d.low, d.high))];
      for (const x of xs) {
        const v = d.value(x);
        const spec = space[d.name]!;
        if (spec.type === 'enum') throw new Error('unexpected');
        expect(v).toBeGreaterThanOrEqual(spec.min);
        expect(v).toBeLessThanOrEqual(spec.max);
        if (spec.type === 'int') expect(Number.isInteger(v)).toBe(true);
        if (d.name === 'dropout') {
          expect(v).toBeGreaterThan(0);
          expect(v).toBeLessThan(0.8);
        }
        if (d.name === 'momentum') expect(Math.abs(Math.round((v - 0.5) / 0.01) * 0.01 + 0.5 - v)).toBeLessThan(1e-12);
      }
    }
    // Both ends of an int range are reached.
    const layers = dims.find((d) => d.name === 'layers')!;
    if (layers.kind !== 'numeric') throw new Error('unexpected');
    expect(layers.value(layers.low)).toBe(1);
    expect(layers.value(layers.high)).toBe(4);
  });
});

// Grid sampler: every combination of enum values and step-discretised ranges, in order, each tried once; null once all have been.

import { LablogError } from '../model/errors.js';
import type { EnumValue, SearchSpace, TrialParams, TrialView } from '../model/sweep.js';
import { gridOf, MAX_GRID_SIZE } from './study-template.js';
import type { Sampler } from './sampler.js';

function valuesOf(name: string, spec: SearchSpace[string]): EnumValue[] {
  if (spec.type === 'enum') return [...spec.values];
  if (spec.step === undefined && spec.type === 'float') {
    throw new LablogError('INVALID_OPTION', `createSweep: the grid sampler needs a step for float param '${name}' (space.${name}.step)`, {
      option: `space.${name}.step`,
    });
  }
  const step = spec.step ?? 1;
  const count = Math.floor((spec.max - spec.min) / step + 1e-9) + 1;
  if (count > MAX_GRID_SIZE) {
    throw new LablogError('INVALID_OPTION', `createSweep: param '${name}' has ${count} grid values; the limit is ${MAX_GRID_SIZE}`, {
      option: `space.${name}`,
      limit: MAX_GRID_SIZE,
      actual: count,
    });
  }
  const values: number[] = [];
  for (let i = 0; i < count; i++) values.push(spec.type === 'int' ? spec.min + i * step : Number((spec.min + i * step).toPrecision(15)));
  return values;
}

const keyOf = (names: readonly string[], params: TrialParams) => JSON.stringify(names.map((n) => params[n]));

export class GridSampler implements Sampler {
  readonly #names: string[];
  readonly #combinations: Record<string, EnumValue>[];

  /** Every combination of the space, the last param varying fastest; INVALID_OPTION when it cannot be enumerated or is larger than MAX_GRID_SIZE. */
  static combinations(space: SearchSpace): Record<string, EnumValue>[] {
    const lists = Object.fromEntries(Object.entries(space).map(([name, spec]) => [name, valuesOf(name, spec)]));
    const size = Object.values(lists).reduce((n, v) => n * v.length, 1);
    if (size > MAX_GRID_SIZE) {
      throw new LablogError('INVALID_OPTION', `createSweep: the grid has ${size} combinations; the limit is ${MAX_GRID_SIZE}`, {
        option: 'space',
        limit: MAX_GRID_SIZE,
        actual: size,
      });
    }
    return gridOf(lists);
  }

  constructor(space: SearchSpace) {
    this.#names = Object.keys(space);
    this.#combinations = GridSampler.combinations(space);
  }

  get size(): number {
    return this.#combinations.length;
  }

  /** The first combination no trial has had yet (a trial asked again with the same params, as on restart, keeps its own). */
  sample(_number: number, history: readonly TrialView[]): TrialParams | null {
    const tried = new Set(history.map((t) => keyOf(this.#names, t.params)));
    return this.#combinations.find((c) => !tried.has(keyOf(this.#names, c))) ?? null;
  }
}

// Random sampler: every param drawn uniformly on its internal scale (log-uniform for log params), from the trial's own seeded stream.

import type { SearchSpace, TrialParams } from '../model/sweep.js';
import { SeededRandom } from './seeded-random.js';
import { dimensionsOf, type Dimension } from './sweep-space.js';
import type { Sampler } from './sampler.js';

/** A uniform draw of every dimension. */
export function randomPoint(dimensions: readonly Dimension[], random: SeededRandom): TrialParams {
  const params: Record<string, TrialParams[string]> = {};
  for (const d of dimensions) {
    params[d.name] = d.kind === 'categorical' ? d.values[random.below(d.values.length)]! : d.value(random.between(d.low, d.high));
  }
  return params;
}

export class RandomSampler implements Sampler {
  readonly #dimensions: Dimension[];
  readonly #seed: number;

  constructor(space: SearchSpace, seed: number) {
    this.#dimensions = dimensionsOf(space);
    this.#seed = seed;
  }

  sample(number: number): TrialParams {
    return randomPoint(this.#dimensions, new SeededRandom(this.#seed, number));
  }
}

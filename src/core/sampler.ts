// Samplers: what a sweep asks for each new trial's params (grid, random, TPE), and the sampler a spec names, checked against its space.

import { LablogError, describeValue } from '../model/errors.js';
import type { Goal } from '../model/metric-goal.js';
import { SAMPLER_TYPES, type SamplerSpec, type SearchSpace, type TrialParams, type TrialView } from '../model/sweep.js';
import { assertKnownOptions } from '../model/validation.js';
import { GridSampler } from './sampler-grid.js';
import { RandomSampler } from './sampler-random.js';
import { TpeSampler, MAX_TPE_CANDIDATES, MAX_TPE_STARTUP_TRIALS } from './sampler-tpe.js';

/** Chooses a new trial's params from the trials so far. */
export interface Sampler {
  /**
   * Params for trial `number` (numbers count from 0 in the order trials were asked), given every trial so
   * far; null when there is nothing left to try (an exhausted grid). The same seed, number and history
   * give the same params.
   */
  sample(number: number, history: readonly TrialView[]): TrialParams | null;
}

const KNOWN: Record<SamplerSpec['type'], readonly string[]> = {
  grid: ['type', 'seed'],
  random: ['type', 'seed'],
  tpe: ['type', 'seed', 'startupTrials', 'candidates', 'multivariate'],
};

function invalid(field: string, rule: string, value: unknown): LablogError {
  return new LablogError('INVALID_OPTION', `createSweep: ${field} ${rule}, got ${describeValue(value)}`, { option: field });
}

/** Checks a sampler spec (and, for a grid, that the space can be enumerated); returns it as stored. */
export function checkSampler(spec: unknown, space: SearchSpace): SamplerSpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw invalid('sampler', `must be an object { type: ${SAMPLER_TYPES.join(' | ')} }`, spec);
  const s = spec as Record<string, unknown>;
  if (!(SAMPLER_TYPES as readonly unknown[]).includes(s['type']))
    throw invalid('sampler.type', `must be one of ${SAMPLER_TYPES.join(', ')}`, s['type']);
  const type = s['type'] as SamplerSpec['type'];
  assertKnownOptions(`createSweep: sampler (${type})`, s, KNOWN[type]);
  const seed = s['seed'];
  if (seed !== undefined && !(Number.isSafeInteger(seed) && (seed as number) >= 0 && (seed as number) < 2 ** 32)) {
    throw invalid('sampler.seed', 'must be an integer from 0 to 2^32 − 1', seed);
  }
  if (type === 'grid') {
    GridSampler.combinations(space); // throws when the space cannot be enumerated
    return { type, ...(seed !== undefined ? { seed: seed as number } : {}) };
  }
  if (type === 'random') return { type, ...(seed !== undefined ? { seed: seed as number } : {}) };
  const startup = s['startupTrials'];
  if (
    startup !== undefined &&
    !(Number.isSafeInteger(startup) && (startup as number) >= 1 && (startup as number) <= MAX_TPE_STARTUP_TRIALS)
  ) {
    throw invalid('sampler.startupTrials', `must be an integer from 1 to ${MAX_TPE_STARTUP_TRIALS}`, startup);
  }
  const candidates = s['candidates'];
  if (
    candidates !== undefined &&
    !(Number.isSafeInteger(candidates) && (candidates as number) >= 1 && (candidates as number) <= MAX_TPE_CANDIDATES)
  ) {
    throw invalid('sampler.candidates', `must be an integer from 1 to ${MAX_TPE_CANDIDATES}`, candidates);
  }
  const multivariate = s['multivariate'];
  if (multivariate !== undefined && typeof multivariate !== 'boolean')
    throw invalid('sampler.multivariate', 'must be true or false', multivariate);
  return {
    type,
    ...(seed !== undefined ? { seed: seed as number } : {}),
    ...(startup !== undefined ? { startupTrials: startup as number } : {}),
    ...(candidates !== undefined ? { candidates: candidates as number } : {}),
    ...(multivariate !== undefined ? { multivariate: multivariate as boolean } : {}),
  };
}

/** The sampler of a checked spec over a checked space; `seed` is the sweep's (spec.seed, or the one chosen at creation). */
export function createSampler(spec: SamplerSpec, space: SearchSpace, goal: Goal, seed: number): Sampler {
  if (spec.type === 'grid') return new GridSampler(space);
  if (spec.type === 'random') return new RandomSampler(space, seed);
  return new TpeSampler(space, goal, seed, spec);
}

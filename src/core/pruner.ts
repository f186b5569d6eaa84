// Pruners: whether a running trial should stop early given what it and the other trials reported (none, median, ASHA), and the pruner a spec names.

import { LablogError, describeValue } from '../model/errors.js';
import type { Goal } from '../model/metric-goal.js';
import { PRUNER_TYPES, type PrunerSpec, type TrialView } from '../model/sweep.js';
import { assertKnownOptions } from '../model/validation.js';
import { AshaPruner, DEFAULT_ASHA_MIN_RESOURCE, DEFAULT_ASHA_REDUCTION_FACTOR } from './pruner-asha.js';
import { MedianPruner } from './pruner-median.js';

/** Decides whether `trial` (running, with its reports so far) should stop, given every other trial of the sweep. */
export interface Pruner {
  shouldPrune(trial: TrialView, others: readonly TrialView[]): boolean;
}

/** The largest warm-up, start-up, resource or factor a pruner may be given. */
export const MAX_PRUNER_OPTION = 1_000_000;

const KNOWN: Record<PrunerSpec['type'], readonly string[]> = {
  none: ['type'],
  median: ['type', 'warmupSteps', 'startupTrials'],
  asha: ['type', 'minResource', 'reductionFactor'],
};

function integer(field: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > MAX_PRUNER_OPTION) {
    throw new LablogError(
      'INVALID_OPTION',
      `createSweep: ${field} must be an integer from ${min} to ${MAX_PRUNER_OPTION}, got ${describeValue(value)}`,
      {
        option: field,
      },
    );
  }
  return value as number;
}

/** Checks a pruner spec (undefined: none); returns it as stored. */
export function checkPruner(spec: unknown): PrunerSpec {
  if (spec === undefined) return { type: 'none' };
  if (
    typeof spec !== 'object' ||
    spec === null ||
    Array.isArray(spec) ||
    !(PRUNER_TYPES as readonly unknown[]).includes((spec as { type?: unknown }).type)
  ) {
    throw new LablogError(
      'INVALID_OPTION',
      `createSweep: pruner must be { type: ${PRUNER_TYPES.join(' | ')} }, got ${describeValue(spec)}`,
      {
        option: 'pruner',
      },
    );
  }
  const s = spec as Record<string, unknown>;
  const type = s['type'] as PrunerSpec['type'];
  assertKnownOptions(`createSweep: pruner (${type})`, s, KNOWN[type]);
  if (type === 'none') return { type };
  if (type === 'median') {
    const warmupSteps = integer('pruner.warmupSteps', s['warmupSteps'], 0);
    const startupTrials = integer('pruner.startupTrials', s['startupTrials'], 0);
    return { type, ...(warmupSteps !== undefined ? { warmupSteps } : {}), ...(startupTrials !== undefined ? { startupTrials } : {}) };
  }
  const minResource = integer('pruner.minResource', s['minResource'], 1);
  const reductionFactor = integer('pruner.reductionFactor', s['reductionFactor'], 2);
  return { type, ...(minResource !== undefined ? { minResource } : {}), ...(reductionFactor !== undefined ? { reductionFactor } : {}) };
}

const NEVER: Pruner = { shouldPrune: () => false };

export function createPruner(spec: PrunerSpec, goal: Goal): Pruner {
  if (spec.type === 'none') return NEVER;
  if (spec.type === 'median') return new MedianPruner(goal, spec.warmupSteps ?? 0, spec.startupTrials);
  return new AshaPruner(goal, spec.minResource ?? DEFAULT_ASHA_MIN_RESOURCE, spec.reductionFactor ?? DEFAULT_ASHA_REDUCTION_FACTOR);
}

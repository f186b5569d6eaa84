// Pruners against hand-computed cases: median (warm-up, start-up, median of completed trials at the same step) and ASHA (rungs, the best 1/η go on).

import { describe, expect, it } from 'vitest';
import { checkPruner, createPruner } from '../src/core/pruner.js';
import { medianOf } from '../src/core/pruner-median.js';
import type { LablogError } from '../src/index.js';
import type { TrialView } from '../src/model/sweep.js';

/** A trial that reported `values` at steps 0, 1, 2, … */
function trial(number: number, values: number[], status: TrialView['status'] = 'completed'): TrialView {
  return {
    number,
    status,
    params: {},
    value: status === 'completed' ? values[values.length - 1]! : null,
    reports: values.map((value, step) => ({ step, value })),
  };
}

describe('median pruner', () => {
  // Completed trials' values at step 2: 0.5, 0.6, 0.7, 0.8, 0.9 → median 0.7.
  const completed = [0.5, 0.6, 0.7, 0.8, 0.9].map((v, i) => trial(i, [1, 0.9, v, v]));
  const pruner = createPruner(checkPruner({ type: 'median', warmupSteps: 2 }), 'minimize');

  it('prunes when the best so far is worse than the median at the same step, not when better or equal', () => {
    expect(pruner.shouldPrune(trial(9, [1, 0.95, 0.75], 'running'), completed)).toBe(true);
    expect(pruner.shouldPrune(trial(9, [1, 0.95, 0.7], 'running'), completed)).toBe(false);
    expect(pruner.shouldPrune(trial(9, [1, 0.95, 0.65], 'running'), completed)).toBe(false);
    // The best so far counts, not the last value: 0.6 at step 0.
    expect(pruner.shouldPrune(trial(9, [0.6, 0.95, 0.75], 'running'), completed)).toBe(false);
    expect(medianOf([0.5, 0.6, 0.7, 0.8])).toBeCloseTo(0.65, 12);
  });

  it('never prunes during warm-up, nor before startupTrials completed trials, nor at a step no completed trial reported', () => {
    expect(pruner.shouldPrune(trial(9, [5, 5], 'running'), completed)).toBe(false); // step 1 < warmupSteps 2
    expect(pruner.shouldPrune(trial(9, [5, 5, 5], 'running'), completed.slice(0, 4))).toBe(false); // 4 < 5 completed
    expect(pruner.shouldPrune(trial(9, [5, 5, 5, 5, 5, 5], 'running'), completed)).toBe(false); // step 5: nobody reported it
    // Running and pruned trials are not in the median.
    const others = [...completed, trial(6, [1, 1, 0.1], 'running'), trial(7, [1, 1, 0.1], 'pruned')];
    expect(pruner.shouldPrune(trial(9, [1, 0.95, 0.75], 'running'), others)).toBe(true);
  });

  it('maximize: prunes when the best so far is below the median', () => {
    const p = createPruner(checkPruner({ type: 'median', startupTrials: 1 }), 'maximize');
    const done = [trial(0, [0.2, 0.5]), trial(1, [0.3, 0.7])]; // median at step 1: 0.6
    expect(p.shouldPrune(trial(2, [0.1, 0.55], 'running'), done)).toBe(true);
    expect(p.shouldPrune(trial(2, [0.1, 0.65], 'running'), done)).toBe(false);
  });
});

describe('ASHA pruner', () => {
  // η = 2, min resource 1: rungs at steps 1, 2, 4, 8.
  const pruner = createPruner(checkPruner({ type: 'asha', minResource: 1, reductionFactor: 2 }), 'minimize');

  it('keeps the best ⌊n/η⌋ (at least 1) of the trials that reached the rung, itself included', () => {
    // At rung 0 (step 1) others reported 0.4, 0.6, 0.8: with the trial, n = 4 → keep 2, threshold the 2nd best.
    const others = [trial(0, [1, 0.4]), trial(1, [1, 0.6]), trial(2, [1, 0.8])];
    expect(pruner.shouldPrune(trial(3, [1, 0.5], 'running'), others)).toBe(false); // 0.4, 0.5 | 0.6, 0.8
    expect(pruner.shouldPrune(trial(3, [1, 0.7], 'running'), others)).toBe(true); // 0.4, 0.6 | 0.7, 0.8
    // Alone at a rung, a trial goes on; with one better other (n = 2 → keep 1), it stops.
    expect(pruner.shouldPrune(trial(3, [1, 0.7], 'running'), [])).toBe(false);
    expect(pruner.shouldPrune(trial(3, [1, 0.7], 'running'), [trial(0, [1, 0.4])])).toBe(true);
  });

  it('judges a trial only at the first report at or past each rung, and at the highest rung reached', () => {
    const others = [trial(0, [1, 0.4, 0.3, 0.3, 0.1]), trial(1, [1, 0.6, 0.5, 0.5, 0.2])];
    // Step 3 is between rungs 2 and 4: no judgement.
    expect(pruner.shouldPrune(trial(2, [1, 0.5, 0.9, 0.9], 'running'), others)).toBe(false);
    // Step 4 is rung 2: others have 0.1 and 0.2 there; n = 3 → keep 1 → 0.15 is pruned, 0.05 goes on.
    expect(pruner.shouldPrune(trial(2, [1, 0.5, 0.9, 0.9, 0.15], 'running'), others)).toBe(true);
    expect(pruner.shouldPrune(trial(2, [1, 0.5, 0.9, 0.9, 0.05], 'running'), others)).toBe(false);
    // Before the first rung (step 0), nothing is pruned.
    expect(pruner.shouldPrune(trial(2, [100], 'running'), others)).toBe(false);
  });

  it('refuses bad options', () => {
    const msg = (spec: unknown) => {
      try {
        checkPruner(spec);
      } catch (error) {
        return (error as LablogError).message;
      }
      return 'accepted';
    };
    expect(msg({ type: 'hyperband' })).toMatch(/pruner must be \{ type: none \| median \| asha \}/);
    expect(msg({ type: 'asha', reductionFactor: 1 })).toMatch(/pruner\.reductionFactor must be an integer from 2/);
    expect(msg({ type: 'median', warmupSteps: -1 })).toMatch(/pruner\.warmupSteps must be an integer from 0/);
    expect(msg({ type: 'median', minResource: 1 })).toMatch(/minResource/);
    expect(checkPruner(undefined)).toEqual({ type: 'none' });
  });
});

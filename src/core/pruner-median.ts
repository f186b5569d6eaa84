// Median pruner: stop a trial whose best value so far is worse than the median of the completed trials' values at the same step, after warm-up.

import type { Goal } from '../model/metric-goal.js';
import type { TrialView } from '../model/sweep.js';
import type { Pruner } from './pruner.js';

/** Completed trials needed before the median pruner prunes anything, when not given (Optuna's n_startup_trials). */
export const DEFAULT_MEDIAN_STARTUP_TRIALS = 5;

/** The median of values (sorted copy; the mean of the two middle ones for an even count). */
export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export class MedianPruner implements Pruner {
  readonly #goal: Goal;
  readonly #warmupSteps: number;
  readonly #startupTrials: number;

  constructor(goal: Goal, warmupSteps: number, startupTrials = DEFAULT_MEDIAN_STARTUP_TRIALS) {
    this.#goal = goal;
    this.#warmupSteps = warmupSteps;
    this.#startupTrials = startupTrials;
  }

  shouldPrune(trial: TrialView, others: readonly TrialView[]): boolean {
    const last = trial.reports[trial.reports.length - 1];
    if (last === undefined || last.step < this.#warmupSteps) return false;
    const completed = others.filter((t) => t.status === 'completed' && t.number !== trial.number);
    if (completed.length < this.#startupTrials) return false;
    // Each completed trial's value at exactly this step (trials that never reported it do not count).
    const atStep: number[] = [];
    for (const t of completed) {
      const report = t.reports.find((r) => r.step === last.step);
      if (report !== undefined && !Number.isNaN(report.value)) atStep.push(report.value);
    }
    if (atStep.length === 0) return false;
    const median = medianOf(atStep);
    const values = trial.reports.map((r) => r.value).filter((v) => !Number.isNaN(v));
    if (values.length === 0) return true; // only NaN so far: nothing to keep it for
    const best = this.#goal === 'minimize' ? Math.min(...values) : Math.max(...values);
    return this.#goal === 'minimize' ? best > median : best < median;
  }
}

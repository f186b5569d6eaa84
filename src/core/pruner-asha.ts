// ASHA pruner (asynchronous successive halving): at rungs minResource·η^k a trial goes on only if it is in the best 1/η of the trials that reached that rung.

import type { Goal } from '../model/metric-goal.js';
import type { TrialView } from '../model/sweep.js';
import type { Pruner } from './pruner.js';

/** The first rung's step, when not given. */
export const DEFAULT_ASHA_MIN_RESOURCE = 1;
/** η: the share of trials kept at each rung is 1/η (Optuna's default 4). */
export const DEFAULT_ASHA_REDUCTION_FACTOR = 4;

export class AshaPruner implements Pruner {
  readonly #goal: Goal;
  readonly #minResource: number;
  readonly #eta: number;

  constructor(goal: Goal, minResource: number, reductionFactor: number) {
    this.#goal = goal;
    this.#minResource = minResource;
    this.#eta = reductionFactor;
  }

  /** The step of rung k. */
  rungStep(k: number): number {
    return this.#minResource * this.#eta ** k;
  }

  /** A trial's value at rung k: what it reported at the first step at or past the rung's (undefined: it has not got there). */
  #valueAt(trial: TrialView, k: number): number | undefined {
    const step = this.rungStep(k);
    return trial.reports.find((r) => r.step >= step)?.value;
  }

  shouldPrune(trial: TrialView, others: readonly TrialView[]): boolean {
    const last = trial.reports[trial.reports.length - 1];
    if (last === undefined || last.step < this.#minResource) return false;
    // The highest rung the trial has reached: it is judged there, once, when it reports there first.
    let k = Math.floor(Math.log(last.step / this.#minResource) / Math.log(this.#eta) + 1e-9);
    while (k > 0 && this.rungStep(k) > last.step) k--;
    const value = this.#valueAt(trial, k)!;
    const firstAtRung = trial.reports.findIndex((r) => r.step >= this.rungStep(k)) === trial.reports.length - 1;
    if (!firstAtRung) return false;
    if (Number.isNaN(value)) return true;
    const competing = [value];
    for (const t of others) {
      if (t.number === trial.number) continue;
      const v = this.#valueAt(t, k);
      if (v !== undefined && !Number.isNaN(v)) competing.push(v);
    }
    // With fewer than η trials at the rung, only the best goes on (a trial cannot wait to be promoted later).
    const keep = Math.max(1, Math.floor(competing.length / this.#eta));
    const sorted = competing.sort((a, b) => (this.#goal === 'minimize' ? a - b : b - a));
    const threshold = sorted[keep - 1]!;
    return this.#goal === 'minimize' ? value > threshold : value < threshold;
  }
}

// A sweep's results as pure functions of its record and trials: the best trial, the optimization history and the param importances.

import { isBetter } from '../model/metric-goal.js';
import type { SweepRecord, TrialParams, TrialRecord } from '../model/sweep.js';
import { paramImportances, type ParamImportance } from './param-importance.js';

/** The best completed trial: its number, params, value and experiment. */
export interface BestTrial {
  readonly trial: number;
  readonly params: TrialParams;
  readonly value: number;
  readonly experimentId: string | null;
}

/** One completed trial in the order trials were numbered, with the best value so far. */
export interface HistoryPoint {
  readonly trial: number;
  readonly value: number;
  readonly best: number;
}

/** The completed trials with a value, by number. */
function completed(trials: readonly TrialRecord[]): (TrialRecord & { readonly value: number })[] {
  return trials
    .filter((t): t is TrialRecord & { value: number } => t.status === 'completed' && t.value !== null)
    .sort((a, b) => a.number - b.number);
}

/** The completed trial with the best value for the sweep's goal (ties: the earliest); null before one completed. */
export function bestTrial(sweep: Pick<SweepRecord, 'goal'>, trials: readonly TrialRecord[]): BestTrial | null {
  let best: (TrialRecord & { value: number }) | undefined;
  for (const t of completed(trials)) if (best === undefined || isBetter(sweep.goal, t.value, best.value)) best = t;
  return best === undefined ? null : { trial: best.number, params: best.params, value: best.value, experimentId: best.experimentId };
}

/** The completed trials' values by trial number, with the best so far (an optimization-history chart). */
export function sweepHistory(sweep: Pick<SweepRecord, 'goal'>, trials: readonly TrialRecord[]): HistoryPoint[] {
  const points: HistoryPoint[] = [];
  let best: number | undefined;
  for (const t of completed(trials)) {
    if (best === undefined || isBetter(sweep.goal, t.value, best)) best = t.value;
    points.push({ trial: t.number, value: t.value, best });
  }
  return points;
}

/** Each param's share of the objective's variance over the completed trials (see paramImportances for the method). */
export function sweepImportances(sweep: Pick<SweepRecord, 'space'>, trials: readonly TrialRecord[]): ParamImportance[] {
  return paramImportances(
    sweep.space,
    completed(trials).map((t) => ({ params: t.params, value: t.value })),
  );
}

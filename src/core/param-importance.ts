// Param importances of a sweep: how much of the objective's variance each param explains on its own (the correlation ratio η² over quantile bins), normalised to sum to 1.

import type { SearchSpace, TrialParams } from '../model/sweep.js';
import { dimensionsOf } from './sweep-space.js';

/** Numeric params are cut into this many bins of (about) equal counts. */
export const IMPORTANCE_BINS = 5;
/** Completed trials needed before importances are estimated. */
export const MIN_IMPORTANCE_TRIALS = 4;

export interface ParamImportance {
  readonly param: string;
  /** Share of the explained variance (the importances sum to 1; 0 for all when nothing is explained). */
  readonly importance: number;
  /** η²: the share of the objective's total variance between this param's groups (0–1), before normalising. */
  readonly eta2: number;
}

/** The group of each trial: an enum's value, or a numeric param's quantile bin on its sampling scale (log for log params). */
function groups(values: readonly number[], bins: number): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const group = new Array<number>(values.length);
  order.forEach(([, i], rank) => (group[i] = Math.min(bins - 1, Math.floor((rank * bins) / values.length))));
  // Equal values share a bin (the lowest rank's).
  for (let r = 1; r < order.length; r++) if (order[r]![0] === order[r - 1]![0]) group[order[r]![1]] = group[order[r - 1]![1]]!;
  return group;
}

/**
 * For each param, η² = Σ_g n_g (ȳ_g − ȳ)² / Σ_i (y_i − ȳ)² of the objective y grouped by the param (an enum's
 * values; a number's IMPORTANCE_BINS quantile bins): the first-order share of variance it explains alone, as
 * fANOVA's main effects are, estimated without a surrogate model. Params are then normalised to sum to 1.
 * Interactions are not seen; with few trials, bins are noisy. Empty below MIN_IMPORTANCE_TRIALS trials.
 */
export function paramImportances(space: SearchSpace, trials: readonly { params: TrialParams; value: number }[]): ParamImportance[] {
  const finite = trials.filter((t) => Number.isFinite(t.value));
  if (finite.length < MIN_IMPORTANCE_TRIALS) return [];
  const ys = finite.map((t) => t.value);
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const total = ys.reduce((a, y) => a + (y - mean) ** 2, 0);
  const raw = dimensionsOf(space).map((d) => {
    const group =
      d.kind === 'categorical'
        ? finite.map((t) => d.index(t.params[d.name]!))
        : groups(
            finite.map((t) => d.internal(t.params[d.name] as number)),
            IMPORTANCE_BINS,
          );
    const sums = new Map<number, { n: number; sum: number }>();
    group.forEach((g, i) => {
      const s = sums.get(g) ?? { n: 0, sum: 0 };
      s.n++;
      s.sum += ys[i]!;
      sums.set(g, s);
    });
    let between = 0;
    for (const { n, sum } of sums.values()) between += n * (sum / n - mean) ** 2;
    return { param: d.name, eta2: total === 0 ? 0 : between / total };
  });
  const sum = raw.reduce((a, r) => a + r.eta2, 0);
  return raw
    .map((r) => ({ ...r, importance: sum === 0 ? 0 : r.eta2 / sum }))
    .sort((a, b) => b.importance - a.importance || a.param.localeCompare(b.param));
}

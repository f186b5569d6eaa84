// Study statistics: counts by status, the best experiment for a metric, training time and cost, from plain experiment data.

import { defaultMetricGoal, type Goal } from '../model/metric-goal.js';
import { LablogError, describeValue } from '../model/errors.js';
import { assertKnownOptions, assertOptionsObject } from '../model/validation.js';

export interface StudyStatisticsOptions {
  /** The metric that picks the best experiment (its final value). */
  metric?: string;
  /** Default: the goal the metric's name suggests (lower is better for losses, errors, latencies…). */
  goal?: Goal;
}

export interface StudyStatistics {
  readonly total: number;
  readonly completed: number;
  readonly running: number;
  readonly failed: number;
  readonly crashed: number;
  readonly cancelled: number;
  /** The best experiment by the chosen metric's final value, among completed ones. */
  readonly best: { readonly id: string; readonly name: string; readonly metric: string; readonly value: number } | null;
  /** Wall time of the experiments that ended (end − start), summed and averaged, in ms. */
  readonly totalTrainingTimeMs: number;
  readonly meanTrainingTimeMs: number | null;
  /** Sum of the last value of each experiment's `cost` metric; null when none logs one. */
  readonly totalCost: number | null;
}

/** What statistics read of an experiment (from a local Experiment, or from a server's store). */
export interface StudiedExperiment {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly createdAt: number;
  readonly endedAt: number | null;
  readonly series: readonly { readonly name: string; readonly kind: string; readonly lastValue: number | null }[];
}

export function studyStatistics(experiments: readonly StudiedExperiment[], options?: StudyStatisticsOptions): StudyStatistics {
  assertOptionsObject('statistics', options);
  if (options) assertKnownOptions('statistics', options, ['metric', 'goal']);
  // No goal stated: the one the metric's name suggests (model/metric-goal.ts).
  const goal = options?.goal ?? (options?.metric !== undefined ? defaultMetricGoal(options.metric) : 'minimize');
  if (goal !== 'minimize' && goal !== 'maximize') {
    throw new LablogError('INVALID_OPTION', `statistics: goal must be 'minimize' or 'maximize', got ${describeValue(goal)}`, {
      option: 'goal',
    });
  }
  const count = (status: string) => experiments.filter((e) => e.status === status).length;
  let best: StudyStatistics['best'] = null;
  let totalCost: number | null = null;
  const durations: number[] = [];
  for (const e of experiments) {
    const cost = e.series.find((s) => s.name === 'cost' && s.kind === 'metric')?.lastValue;
    if (typeof cost === 'number' && Number.isFinite(cost)) totalCost = (totalCost ?? 0) + cost;
    if (e.endedAt !== null) durations.push(e.endedAt - e.createdAt);
    if (options?.metric === undefined || e.status !== 'completed') continue;
    const value = e.series.find((s) => s.name === options.metric && s.kind === 'metric')?.lastValue;
    if (typeof value !== 'number' || Number.isNaN(value)) continue;
    if (best === null || (goal === 'minimize' ? value < best.value : value > best.value))
      best = { id: e.id, name: e.name, metric: options.metric, value };
  }
  const totalTrainingTimeMs = durations.reduce((a, b) => a + b, 0);
  return {
    total: experiments.length,
    completed: count('completed'),
    running: count('running'),
    failed: count('failed'),
    crashed: count('crashed'),
    cancelled: count('cancelled'),
    best,
    totalTrainingTimeMs,
    meanTrainingTimeMs: durations.length > 0 ? totalTrainingTimeMs / durations.length : null,
    totalCost,
  };
}

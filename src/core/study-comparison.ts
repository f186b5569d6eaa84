// Study comparison: rankings, statistics, significance between replicate groups, correlations, Pareto frontier and insights.

import { LablogError, describeValue } from '../model/errors.js';
import { describe, paretoFrontier, pearson, spearman, welchTTest } from './statistics.js';
import type { Goal } from '../model/metric-goal.js';
import { findByIdOrName } from '../model/ids.js';
import { DEFAULT_LIMITS } from '../model/limits.js';
import { assertKnownOptions, assertName, assertOptionsObject, type ParamValue } from '../model/validation.js';

/** What a comparison reads of an experiment (from a local Experiment, or from a server's store). */
export interface ComparedExperiment {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly series: readonly {
    readonly name: string;
    readonly kind: string;
    readonly count: number;
    readonly lastValue: number | null;
    readonly minValue: number | null;
    readonly maxValue: number | null;
  }[];
}

export interface MetricGoal {
  readonly name: string;
  readonly goal: Goal;
}

export interface CompareOptions {
  /** Ids or names of member experiments (default: all members). Only completed ones are compared. */
  experiments?: string[];
  metrics: MetricGoal[];
  /** Params that define a configuration (default: every param that varies and whose name does not contain "seed"). */
  params?: string[];
  /** An A/B comparison of two sets of experiments (ids or names), tested per metric. */
  groups?: { A: string[]; B: string[] };
}

export interface SignificanceResult {
  readonly metric: string;
  /** A group's configuration, e.g. "lr=0.01, width=32" (or "A" / "B"). */
  readonly groupA: string;
  readonly groupB: string;
  readonly idsA: readonly string[];
  readonly idsB: readonly string[];
  readonly meanA: number;
  readonly meanB: number;
  readonly t: number;
  readonly df: number;
  readonly pValue: number;
}

export interface CorrelationResult {
  readonly param: string;
  readonly metric: string;
  readonly pearson: number;
  readonly spearman: number;
  readonly n: number;
}

export interface Comparison {
  /** Completed experiments compared, by id (sorted). */
  readonly experiments: readonly string[];
  /** Per metric: final value and best value by goal, per experiment id. */
  readonly values: Readonly<Record<string, Readonly<Record<string, { final: number; best: number }>>>>;
  /** Per metric: experiment ids from best to worst final value. */
  readonly rankings: Readonly<Record<string, readonly string[]>>;
  readonly statistics: Readonly<Record<string, { mean: number; std: number; min: number; max: number; n: number }>>;
  readonly significance: readonly SignificanceResult[];
  readonly correlations: readonly CorrelationResult[];
  /** Ids of experiments no other beats on every metric (two metrics or more). */
  readonly paretoFrontier: readonly string[];
  /** The baseline's value per metric, when the study has one. */
  readonly baseline: { readonly name: string; readonly metrics: Readonly<Record<string, number>> } | null;
  readonly insights: readonly string[];
}

/** Experiments needed for a comparison. */
export const MINIMUM_COMPLETED = 2;
/** p-value under which a difference is called significant in insights. */
export const SIGNIFICANCE_LEVEL = 0.05;
/** |Spearman ρ| from which a correlation is mentioned in insights, and the fewest pairs. */
export const NOTABLE_CORRELATION = 0.5;
export const NOTABLE_CORRELATION_N = 4;

const SEED = /seed/i;

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const text =
    Math.abs(value) >= 1e5 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : Number(value.toPrecision(3)).toString();
  return text.replace('-', '−');
}

function fmtP(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${Number(p.toPrecision(2))}`;
}

function paramText(value: ParamValue | undefined): string {
  if (value === undefined) return '∅';
  return value instanceof Date ? value.toISOString() : String(value);
}

/** Metrics one comparison ranks (each is ranked, described and tested over every experiment). */
export const MAX_COMPARE_METRICS = 50;
/** Entries of one list of a comparison's options (experiments, params, each A/B group): a study holds at most 1,000 experiments. */
export const MAX_COMPARE_LIST = 1_000;

function assertListSize(option: string, list: readonly unknown[], limit: number): void {
  if (list.length > limit) {
    throw new LablogError('INVALID_OPTION', `compare: ${option} has ${list.length} entries; the limit is ${limit}`, {
      option,
      limit,
      actual: list.length,
    });
  }
}

function checkOptions(options: CompareOptions): MetricGoal[] {
  assertOptionsObject('compare', options);
  if (options === undefined)
    throw new LablogError('INVALID_OPTION', 'compare: options { metrics: [{ name, goal }] } are required', { option: 'metrics' });
  assertKnownOptions('compare', options, ['experiments', 'metrics', 'params', 'groups']);
  if (!Array.isArray(options.metrics) || options.metrics.length === 0) {
    throw new LablogError('INVALID_OPTION', "compare: metrics must be a non-empty array of { name, goal: 'minimize' | 'maximize' }", {
      option: 'metrics',
    });
  }
  assertListSize('metrics', options.metrics, MAX_COMPARE_METRICS);
  for (const m of options.metrics) {
    if (typeof m !== 'object' || m === null || typeof m.name !== 'string' || (m.goal !== 'minimize' && m.goal !== 'maximize')) {
      throw new LablogError('INVALID_OPTION', `compare: each metric is { name, goal: 'minimize' | 'maximize' }, got ${describeValue(m)}`, {
        option: 'metrics',
      });
    }
    // A name no series can have (e.g. __proto__, which would vanish as a key of the answer).
    assertName('metric name', m.name, DEFAULT_LIMITS.maxNameLength);
  }
  if (Array.isArray(options.experiments)) assertListSize('experiments', options.experiments, MAX_COMPARE_LIST);
  if (Array.isArray(options.params)) assertListSize('params', options.params, MAX_COMPARE_LIST);
  for (const which of ['A', 'B'] as const) {
    const list = (options.groups as Record<string, unknown> | undefined)?.[which];
    if (Array.isArray(list)) assertListSize(`groups.${which}`, list, MAX_COMPARE_LIST);
  }
  if (options.groups !== undefined && (typeof options.groups !== 'object' || options.groups === null || Array.isArray(options.groups))) {
    throw new LablogError('INVALID_OPTION', 'compare: groups must be { A: [ids or names], B: [ids or names] }', { option: 'groups' });
  }
  if (options.params !== undefined && (!Array.isArray(options.params) || options.params.some((p) => typeof p !== 'string'))) {
    throw new LablogError('INVALID_OPTION', 'compare: params must be an array of param names', { option: 'params' });
  }
  return options.metrics;
}

export function compareExperiments(
  chosen: readonly ComparedExperiment[],
  options: CompareOptions,
  baseline: { name: string; metrics: Record<string, number> } | undefined,
): Comparison {
  const metrics = checkOptions(options);
  // By id: the same experiments give the same result whatever order a store lists them in.
  // Each experiment once: a duplicate would count as a replicate and invent significance.
  const unique = [...new Map(chosen.map((e) => [e.id, e])).values()];
  const completed = unique.filter((e) => e.status === 'completed').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (completed.length < MINIMUM_COMPLETED) {
    throw new LablogError(
      'INSUFFICIENT_RUNS',
      `a comparison needs ${MINIMUM_COMPLETED} completed experiments; ${completed.length} completed`,
      {
        completed: completed.length,
        minimumRequired: MINIMUM_COMPLETED,
      },
    );
  }
  const names = new Map(completed.map((e) => [e.id, e.name]));
  const params = new Map(completed.map((e) => [e.id, e.params]));
  const series = new Map(completed.map((e) => [e.id, e.series]));

  const values: Record<string, Record<string, { final: number; best: number }>> = {};
  const rankings: Record<string, string[]> = {};
  const statistics: Record<string, ReturnType<typeof describe>> = {};
  for (const { name, goal } of metrics) {
    const perExperiment: Record<string, { final: number; best: number }> = {};
    for (const e of completed) {
      const s = series.get(e.id)!.find((x) => x.name === name && x.kind === 'metric');
      if (s === undefined || s.count === 0) continue;
      // A stored NaN may come back as null (SQLite has no NaN): the same final value either way.
      const best = goal === 'minimize' ? s.minValue : s.maxValue;
      perExperiment[e.id] = { final: s.lastValue ?? Number.NaN, best: best ?? Number.NaN };
    }
    values[name] = perExperiment;
    const ids = Object.keys(perExperiment).filter((id) => !Number.isNaN(perExperiment[id]!.final));
    const sign = goal === 'minimize' ? 1 : -1;
    rankings[name] = ids.sort((a, b) => sign * (perExperiment[a]!.final - perExperiment[b]!.final) || (a < b ? -1 : 1));
    statistics[name] = describe(ids.map((id) => perExperiment[id]!.final));
  }

  // Replicate groups: experiments with the same configuration params (seeds aside).
  // Params with one value across all experiments name no configuration: left out of group labels.
  const varies = (k: string) => new Set(completed.map((e) => paramText(params.get(e.id)![k]))).size > 1;
  const configKeys =
    options.params ??
    [...new Set(completed.flatMap((e) => Object.keys(params.get(e.id)!)))].filter((k) => !SEED.test(k) && varies(k)).sort();
  const groups = new Map<string, string[]>();
  for (const e of completed) {
    const p = params.get(e.id)!;
    const label = configKeys.map((k) => `${k}=${paramText(p[k])}`).join(', ') || '(no params)';
    groups.set(label, [...(groups.get(label) ?? []), e.id]);
  }
  const significance: SignificanceResult[] = [];
  for (const { name, goal } of metrics) {
    const finals = (ids: readonly string[]) =>
      ids.map((id) => values[name]![id]?.final).filter((v): v is number => v !== undefined && !Number.isNaN(v));
    const replicated = [...groups.entries()].filter(([, ids]) => finals(ids).length >= 2);
    if (replicated.length >= 2) {
      const mean = (ids: string[]) => describe(finals(ids)).mean;
      const sign = goal === 'minimize' ? 1 : -1;
      replicated.sort(([, a], [, b]) => sign * (mean(a) - mean(b)));
      const [bestLabel, bestIds] = replicated[0]!;
      for (const [label, ids] of replicated.slice(1)) {
        const test = welchTTest(finals(bestIds), finals(ids));
        if (test)
          significance.push({
            metric: name,
            groupA: bestLabel,
            groupB: label,
            idsA: bestIds,
            idsB: ids,
            meanA: test.meanA,
            meanB: test.meanB,
            t: test.t,
            df: test.df,
            pValue: test.pValue,
          });
      }
    }
    if (options.groups !== undefined) {
      const resolve = (list: unknown, which: string) => {
        if (!Array.isArray(list))
          throw new LablogError('INVALID_OPTION', `compare: groups.${which} must be an array of ids or names`, { option: 'groups' });
        return list.map((key: unknown) => {
          const e = findByIdOrName(completed, key);
          if (e === undefined)
            throw new LablogError('EXPERIMENT_NOT_FOUND', `groups.${which}: no completed experiment '${String(key)}' in the comparison`, {
              key: String(key),
            });
          return e.id;
        });
      };
      const idsA = resolve(options.groups.A, 'A');
      const idsB = resolve(options.groups.B, 'B');
      const test = welchTTest(finals(idsA), finals(idsB));
      if (test === undefined) {
        throw new LablogError('INSUFFICIENT_RUNS', `an A/B test of '${name}' needs 2 values in each group`, {
          completed: Math.min(idsA.length, idsB.length),
          minimumRequired: 2,
        });
      }
      significance.push({
        metric: name,
        groupA: 'A',
        groupB: 'B',
        idsA,
        idsB,
        meanA: test.meanA,
        meanB: test.meanB,
        t: test.t,
        df: test.df,
        pValue: test.pValue,
      });
    }
  }

  // Correlations: every numeric param that varies, against every metric's final value.
  const numericParams = [...new Set(completed.flatMap((e) => Object.keys(params.get(e.id)!)))]
    .filter((k) => options.params === undefined || options.params.includes(k))
    .filter((k) => completed.every((e) => typeof params.get(e.id)![k] === 'number' || params.get(e.id)![k] === undefined))
    .sort();
  const correlations: CorrelationResult[] = [];
  for (const param of numericParams) {
    for (const { name } of metrics) {
      const x: number[] = [];
      const y: number[] = [];
      for (const e of completed) {
        const p = params.get(e.id)![param];
        const v = values[name]![e.id]?.final;
        if (typeof p === 'number' && Number.isFinite(p) && v !== undefined && Number.isFinite(v)) {
          x.push(p);
          y.push(v);
        }
      }
      if (x.length < 3 || new Set(x).size < 2) continue;
      correlations.push({ param, metric: name, pearson: pearson(x, y), spearman: spearman(x, y), n: x.length });
    }
  }

  const paretoFrontierIds =
    metrics.length >= 2
      ? paretoFrontier(
          completed
            .filter((e) => metrics.every((m) => values[m.name]![e.id] !== undefined))
            .map((e) => ({ id: e.id, values: metrics.map((m) => values[m.name]![e.id]!.final) })),
          metrics.map((m) => m.goal),
        )
      : [];

  const insights: string[] = [];
  for (const { name, goal } of metrics) {
    const first = rankings[name]![0];
    if (first === undefined) continue;
    const s = statistics[name]!;
    insights.push(
      `${names.get(first)} has the ${goal === 'minimize' ? 'lowest' : 'highest'} final ${name}: ${fmt(values[name]![first]!.final)} (mean ${fmt(s.mean)} ± ${fmt(s.std)} over ${s.n} experiments).`,
    );
    const b = baseline?.metrics[name];
    if (b !== undefined) {
      const delta = values[name]![first]!.final - b;
      const better = goal === 'minimize' ? delta < 0 : delta > 0;
      insights.push(
        `Against the baseline ${baseline!.name} (${name} ${fmt(b)}), the best is ${better ? 'better' : 'not better'} by ${fmt(Math.abs(delta))}.`,
      );
    }
  }
  for (const r of significance) {
    const verdict = r.pValue < SIGNIFICANCE_LEVEL ? 'differs significantly from' : 'does not differ significantly from';
    insights.push(
      `On ${r.metric}, [${r.groupA}] (mean ${fmt(r.meanA)}, n = ${r.idsA.length}) ${verdict} [${r.groupB}] (mean ${fmt(r.meanB)}, n = ${r.idsB.length}): Welch t = ${fmt(r.t)}, df = ${fmt(r.df)}, ${fmtP(r.pValue)}.`,
    );
  }
  for (const c of correlations) {
    if (!(Math.abs(c.spearman) >= NOTABLE_CORRELATION) || c.n < NOTABLE_CORRELATION_N) continue;
    insights.push(
      `Higher ${c.param} correlates with ${c.spearman > 0 ? 'higher' : 'lower'} ${c.metric}: ρ = ${c.spearman.toFixed(2).replace('-', '−')}, n = ${c.n}.`,
    );
  }
  if (paretoFrontierIds.length > 0) {
    insights.push(
      `${paretoFrontierIds.length} of ${completed.length} experiments are on the Pareto frontier of ${metrics.map((m) => `${m.name} (${m.goal})`).join(', ')}: ${paretoFrontierIds.map((id) => names.get(id)).join(', ')}.`,
    );
  }

  return {
    experiments: completed.map((e) => e.id),
    values,
    rankings,
    statistics,
    significance,
    correlations,
    paretoFrontier: paretoFrontierIds,
    baseline: baseline ?? null,
    insights,
  };
}

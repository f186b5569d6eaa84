// Scaling analysis of a progressive_scaling study: each completed member's size and final metric, the fitted law, and the size each target needs.

import { LablogError } from '../model/errors.js';
import type { Goal } from '../model/metric-goal.js';
import type { StudyTemplate } from '../model/study.js';
import type { ComparedExperiment } from './study-comparison.js';
import { fitPowerLaw, sizeForTarget, type PowerLawFit } from './scaling-law.js';
import { sizeParamOf } from './scaling-template.js';

export interface ScalingPoint {
  readonly experimentId: string;
  readonly name: string;
  /** The experiment's size param. */
  readonly size: number;
  /** The metric's final (last logged) value, as the study comparison reads it. */
  readonly value: number;
  /** Each efficiency metric: the metric's final value, else the param's value if it is a number; null if neither. */
  readonly efficiency: Readonly<Record<string, number | null>>;
}

export interface ScalingTargetPrediction {
  readonly metric: string;
  readonly target: number;
  /** The size at which the metric's fitted curve reaches the target; null when it never does (see reason). */
  readonly size: number | null;
  readonly reason: string | null;
}

export interface ScalingLawAnalysis {
  readonly metric: string;
  readonly objective: Goal;
  readonly sizeParam: string;
  /** Whether the template asks for the fit to be shown (scaling_law_analysis, default true). */
  readonly scalingLawAnalysis: boolean;
  /** The points fitted, smallest size first. */
  readonly points: readonly ScalingPoint[];
  /** Members left out of the fit, and why. */
  readonly skipped: readonly { readonly experimentId: string; readonly name: string; readonly reason: string }[];
  /** L(N) = a·N^(−b) + c for the template's metric. */
  readonly fit: PowerLawFit;
  /** One per performance target. A target on another metric is predicted from that metric's own fit on the same runs. */
  readonly targets: readonly ScalingTargetPrediction[];
}

function sizeOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function finalValue(e: ComparedExperiment, metric: string): number | undefined {
  const s = e.series.find((x) => x.name === metric && x.kind === 'metric');
  return s !== undefined && typeof s.lastValue === 'number' && Number.isFinite(s.lastValue) ? s.lastValue : undefined;
}

/** (size, final value) of every completed experiment with both, smallest size first (ties by id). */
function pointsFor(experiments: readonly ComparedExperiment[], sizeParam: string, metric: string) {
  const points: { e: ComparedExperiment; size: number; value: number }[] = [];
  const skipped: { experimentId: string; name: string; reason: string }[] = [];
  for (const e of experiments) {
    const size = sizeOf(e.params[sizeParam]);
    const value = finalValue(e, metric);
    const reason =
      e.status !== 'completed'
        ? `status ${e.status} (only completed experiments are fitted)`
        : size === undefined
          ? `param ${sizeParam} is ${e.params[sizeParam] === undefined ? 'missing' : `not a positive number (${String(e.params[sizeParam])})`}`
          : value === undefined
            ? `no finite final value of ${metric}`
            : null;
    if (reason !== null) skipped.push({ experimentId: e.id, name: e.name, reason });
    else points.push({ e, size: size!, value: value! });
  }
  points.sort((p, q) => p.size - q.size || (p.e.id < q.e.id ? -1 : p.e.id > q.e.id ? 1 : 0));
  return { points, skipped };
}

/**
 * Fits the template's metric against size over the completed members (each experiment once) and predicts the
 * size for each performance target. INVALID_OPTION if the template is not progressive_scaling; INSUFFICIENT_RUNS
 * with fewer than 3 fitted points at 3 distinct sizes.
 */
export function analyzeScaling(
  experiments: readonly ComparedExperiment[],
  template: StudyTemplate | null,
  study: string,
): ScalingLawAnalysis {
  if (template === null || template.kind !== 'progressive_scaling') {
    throw new LablogError(
      'INVALID_OPTION',
      `study '${study}' was not created from the progressive_scaling template; a scaling law needs one`,
      {
        study,
      },
    );
  }
  const p = template.parameters;
  const metric = p['metric'] as string;
  const sizeParam = sizeParamOf(p);
  const unique = [...new Map(experiments.map((e) => [e.id, e])).values()];
  const { points, skipped } = pointsFor(unique, sizeParam, metric);
  const fit = fitPowerLaw(
    points.map((x) => x.size),
    points.map((x) => x.value),
  );
  const efficiencyNames = Array.isArray(p['efficiency_metrics']) ? (p['efficiency_metrics'] as string[]) : [];
  const targets = Object.entries((p['performance_targets'] ?? {}) as Record<string, number>).map(([name, target]) => {
    let curve: PowerLawFit = fit;
    if (name !== metric) {
      const own = pointsFor(unique, sizeParam, name).points;
      try {
        curve = fitPowerLaw(
          own.map((x) => x.size),
          own.map((x) => x.value),
        );
      } catch (error) {
        if (error instanceof LablogError && error.code === 'INSUFFICIENT_RUNS') {
          return { metric: name, target, size: null, reason: `${name} has ${own.length} completed points; a fit needs 3 at 3 sizes` };
        }
        throw error;
      }
    }
    return { metric: name, target, ...sizeForTarget(curve, target) };
  });
  return {
    metric,
    objective: p['objective'] as Goal,
    sizeParam,
    scalingLawAnalysis: p['scaling_law_analysis'] !== false,
    points: points.map(({ e, size, value }) => ({
      experimentId: e.id,
      name: e.name,
      size,
      value,
      efficiency: Object.fromEntries(
        efficiencyNames.map((n) => {
          const fromMetric = finalValue(e, n);
          const param = e.params[n];
          return [n, fromMetric ?? (typeof param === 'number' && Number.isFinite(param) ? param : null)];
        }),
      ),
    })),
    skipped,
    fit,
    targets,
  };
}

// The progressive_scaling study template: its parameters checked at creation (sizes, metric, targets) and its plan, one run per size.

import { LablogError, describeValue } from '../model/errors.js';
import type { Goal } from '../model/metric-goal.js';
import { MIN_SCALING_POINTS } from './scaling-law.js';

/** Most model sizes a progressive_scaling study plans. */
export const MAX_SCALING_SIZES = 100;
/** Most names in efficiency_metrics, and most entries in performance_targets. */
export const MAX_SCALING_NAMES = 32;
/** The param that carries each run's size when the template names none. */
export const DEFAULT_SIZE_PARAM = 'model_size';

export interface ProgressiveScalingParameters {
  /** Sizes to train (e.g. parameter counts): positive numbers, distinct; planned in ascending order. */
  model_sizes: number[];
  /** The metric fitted against size. */
  metric: string;
  objective: Goal;
  /** Metrics or params recorded per run to show beside each size (e.g. parameters, flops, memory). */
  efficiency_metrics?: string[];
  /** Values to reach per metric: the fit predicts the size that reaches each. */
  performance_targets?: Record<string, number>;
  /** Whether `lablog study show` and the UI present the fit (default true). */
  scaling_law_analysis?: boolean;
  /** The param carrying each run's size (default model_size). */
  size_param?: string;
}

const KNOWN = [
  'model_sizes',
  'metric',
  'objective',
  'efficiency_metrics',
  'performance_targets',
  'scaling_law_analysis',
  'size_param',
] as const;

function invalid(message: string, field: string, actual: unknown, limit?: number): LablogError {
  return new LablogError('INVALID_OPTION', `createStudy: progressive_scaling ${message}`, {
    option: `templateParameters.${field}`,
    actual: describeValue(actual),
    ...(limit !== undefined ? { limit } : {}),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkNames(field: string, value: unknown): void {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0) || new Set(value).size !== value.length) {
    throw invalid(`${field} must be an array of distinct non-empty names, got ${describeValue(value)}`, field, value);
  }
  if (value.length > MAX_SCALING_NAMES) {
    throw invalid(
      `${field} has ${value.length} names; the limit is ${MAX_SCALING_NAMES} (MAX_SCALING_NAMES)`,
      field,
      value.length,
      MAX_SCALING_NAMES,
    );
  }
}

/** Checks progressive_scaling parameters; each broken rule is an INVALID_OPTION naming the field, the rule and the value. */
export function checkScalingParameters(parameters: Record<string, unknown>): void {
  const unknown = Object.keys(parameters).find((k) => !(KNOWN as readonly string[]).includes(k));
  if (unknown !== undefined) {
    throw invalid(`has no parameter '${unknown}'; it takes ${KNOWN.join(', ')}`, unknown, parameters[unknown]);
  }
  const sizes = parameters['model_sizes'];
  if (!Array.isArray(sizes))
    throw invalid(`needs model_sizes: an array of positive numbers, got ${describeValue(sizes)}`, 'model_sizes', sizes);
  const bad = sizes.findIndex((s) => typeof s !== 'number' || !Number.isFinite(s) || s <= 0);
  if (bad >= 0) {
    throw invalid(
      `model_sizes must be positive finite numbers; model_sizes[${bad}] is ${describeValue(sizes[bad])}`,
      'model_sizes',
      sizes[bad],
    );
  }
  if (new Set(sizes).size !== sizes.length) {
    const repeated = sizes.find((s, i) => sizes.indexOf(s) !== i);
    throw invalid(`model_sizes must be distinct; ${String(repeated)} is given twice`, 'model_sizes', repeated);
  }
  if (sizes.length < MIN_SCALING_POINTS) {
    throw invalid(
      `needs at least ${MIN_SCALING_POINTS} model_sizes to fit a, b and c of L(N) = a·N^(−b) + c; got ${sizes.length}`,
      'model_sizes',
      sizes.length,
      MIN_SCALING_POINTS,
    );
  }
  if (sizes.length > MAX_SCALING_SIZES) {
    throw invalid(
      `has ${sizes.length} model_sizes; the limit is ${MAX_SCALING_SIZES} (MAX_SCALING_SIZES)`,
      'model_sizes',
      sizes.length,
      MAX_SCALING_SIZES,
    );
  }
  const metric = parameters['metric'];
  if (typeof metric !== 'string' || metric.length === 0) {
    throw invalid(`needs metric: the name of the metric fitted against size, got ${describeValue(metric)}`, 'metric', metric);
  }
  const objective = parameters['objective'];
  if (objective !== 'minimize' && objective !== 'maximize') {
    throw invalid(`needs objective: 'minimize' | 'maximize', got ${describeValue(objective)}`, 'objective', objective);
  }
  if (parameters['efficiency_metrics'] !== undefined) checkNames('efficiency_metrics', parameters['efficiency_metrics']);
  const targets = parameters['performance_targets'];
  if (targets !== undefined) {
    if (!isObject(targets)) {
      throw invalid(
        `performance_targets must be an object { metric: value }, got ${describeValue(targets)}`,
        'performance_targets',
        targets,
      );
    }
    const entries = Object.entries(targets);
    if (entries.length > MAX_SCALING_NAMES) {
      throw invalid(
        `performance_targets has ${entries.length} entries; the limit is ${MAX_SCALING_NAMES} (MAX_SCALING_NAMES)`,
        'performance_targets',
        entries.length,
        MAX_SCALING_NAMES,
      );
    }
    for (const [name, value] of entries) {
      if (name.length === 0) throw invalid('performance_targets names a metric with an empty name', 'performance_targets', name);
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw invalid(`performance_targets.${name} must be a finite number, got ${describeValue(value)}`, 'performance_targets', value);
      }
    }
  }
  const analysis = parameters['scaling_law_analysis'];
  if (analysis !== undefined && typeof analysis !== 'boolean') {
    throw invalid(`scaling_law_analysis must be true or false, got ${describeValue(analysis)}`, 'scaling_law_analysis', analysis);
  }
  const sizeParam = parameters['size_param'];
  if (sizeParam !== undefined && (typeof sizeParam !== 'string' || sizeParam.length === 0)) {
    throw invalid(`size_param must be the name of a param, got ${describeValue(sizeParam)}`, 'size_param', sizeParam);
  }
}

/** The size param of checked parameters (size_param, else model_size). */
export function sizeParamOf(parameters: Readonly<Record<string, unknown>>): string {
  const p = parameters['size_param'];
  return typeof p === 'string' && p.length > 0 ? p : DEFAULT_SIZE_PARAM;
}

/** One run per size, smallest first, each `{ [size_param]: N }`. */
export function planScaling(parameters: ProgressiveScalingParameters) {
  const sizeParam = sizeParamOf(parameters as unknown as Record<string, unknown>);
  return {
    template: 'progressive_scaling' as const,
    metric: parameters.metric,
    objective: parameters.objective,
    sizeParam,
    scalingLawAnalysis: parameters.scaling_law_analysis !== false,
    runs: [...parameters.model_sizes].sort((x, y) => x - y).map((size) => ({ [sizeParam]: size })),
  };
}

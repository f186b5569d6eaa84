// Study templates: grid search, A/B test and progressive scaling — their parameters checked at creation, and the plan of runs they imply.

import { LablogError, describeValue } from '../model/errors.js';
import { sampleSizePerGroup } from './statistics.js';
import type { Goal } from '../model/metric-goal.js';
import { STUDY_TEMPLATE_KINDS, type StudyTemplate } from '../model/study.js';
import { checkScalingParameters, planScaling, type ProgressiveScalingParameters } from './scaling-template.js';

/** Runs a plan may list (param sets of a grid, runs of an A/B test). */
export const MAX_GRID_SIZE = 10_000;
/** Largest template parameters (search space, variants, metric names), in bytes of JSON. */
export const MAX_TEMPLATE_BYTES = 64 * 1024;

export interface GridSearchParameters {
  /** Values to try per param: the grid is every combination. */
  search_space: Record<string, (number | string | boolean)[]>;
  objective: Goal;
  metric: string;
}

export interface AbTestingParameters {
  variants: string[];
  success_metric: string;
  /** Smallest difference of the success metric worth detecting, in its units. */
  minimum_effect_size: number;
  alpha?: number;
  statistical_power?: number;
  /** Expected standard deviation of the success metric between runs (default 1: the effect size is then Cohen's d). */
  metric_std?: number;
  traffic_split?: number[];
}

export type StudyPlan =
  | {
      readonly template: 'grid_search';
      readonly metric: string;
      readonly objective: Goal;
      readonly runs: readonly Record<string, number | string | boolean>[];
    }
  | {
      readonly template: 'ab_testing';
      readonly successMetric: string;
      readonly sampleSizePerVariant: number;
      readonly alpha: number;
      readonly power: number;
      readonly runs: readonly { readonly variant: string; readonly replicate: number }[];
    }
  | {
      readonly template: 'progressive_scaling';
      readonly metric: string;
      readonly objective: Goal;
      /** The param each run carries its size in. */
      readonly sizeParam: string;
      readonly scalingLawAnalysis: boolean;
      /** One run per size, smallest first: `{ [sizeParam]: size }`. */
      readonly runs: readonly Record<string, number>[];
    };

function invalid(message: string, option: string): LablogError {
  return new LablogError('INVALID_OPTION', `createStudy: ${message}`, { option });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a template's parameters; returns them as stored. */
export function checkTemplate(kind: unknown, parameters: unknown): StudyTemplate {
  if (kind !== 'grid_search' && kind !== 'ab_testing' && kind !== 'progressive_scaling') {
    throw invalid(`template must be one of ${STUDY_TEMPLATE_KINDS.join(', ')}, got ${describeValue(kind)}`, 'template');
  }
  if (!isObject(parameters)) throw invalid(`the ${kind} template needs templateParameters { … }`, 'templateParameters');
  const json = JSON.stringify(parameters);
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_TEMPLATE_BYTES) {
    throw new LablogError(
      'INVALID_OPTION',
      `createStudy: templateParameters are ${bytes} bytes of JSON; the limit is ${MAX_TEMPLATE_BYTES} (MAX_TEMPLATE_BYTES)`,
      {
        option: 'templateParameters',
        limit: MAX_TEMPLATE_BYTES,
        actual: bytes,
      },
    );
  }
  // JSON.stringify escapes a lone surrogate as \udXXX; unescaped text never holds a backslash-u of a surrogate otherwise.
  if (/(^|[^\\])(\\\\)*\\ud[89a-f][0-9a-f]{2}/i.test(json)) {
    throw invalid(
      'templateParameters hold a string with a lone surrogate (half of a character); stores cannot hold it',
      'templateParameters',
    );
  }
  if (kind === 'progressive_scaling') {
    checkScalingParameters(parameters);
  } else if (kind === 'grid_search') {
    const space = parameters['search_space'];
    if (!isObject(space) || Object.keys(space).length === 0)
      throw invalid('grid_search needs search_space: { param: [values…] }', 'templateParameters.search_space');
    let size = 1;
    for (const [key, values] of Object.entries(space)) {
      if (!Array.isArray(values) || values.length === 0 || values.some((v) => !['number', 'string', 'boolean'].includes(typeof v))) {
        throw invalid(`search_space.${key} must be a non-empty array of numbers, strings or booleans`, 'templateParameters.search_space');
      }
      size *= values.length;
    }
    if (size > MAX_GRID_SIZE)
      throw invalid(`the grid has ${size} param sets; the limit is ${MAX_GRID_SIZE}`, 'templateParameters.search_space');
    if (parameters['objective'] !== 'minimize' && parameters['objective'] !== 'maximize') {
      throw invalid("grid_search needs objective: 'minimize' | 'maximize'", 'templateParameters.objective');
    }
    if (typeof parameters['metric'] !== 'string' || parameters['metric'].length === 0)
      throw invalid('grid_search needs metric: the name of the metric', 'templateParameters.metric');
  } else {
    const variants = parameters['variants'];
    if (
      !Array.isArray(variants) ||
      variants.length < 2 ||
      variants.some((v) => typeof v !== 'string') ||
      new Set(variants).size !== variants.length
    ) {
      throw invalid('ab_testing needs variants: two or more distinct names', 'templateParameters.variants');
    }
    if (typeof parameters['success_metric'] !== 'string')
      throw invalid('ab_testing needs success_metric', 'templateParameters.success_metric');
    // Checks effect size, alpha, power and std the way plan() will use them, and the size of the plan.
    const { n } = planAb(parameters as unknown as AbTestingParameters);
    if (n * variants.length > MAX_GRID_SIZE) {
      throw invalid(
        `the A/B test needs ${n} runs per variant, ${n * variants.length} in all; the limit is ${MAX_GRID_SIZE} (raise minimum_effect_size or lower statistical_power)`,
        'templateParameters.minimum_effect_size',
      );
    }
  }
  return { kind, parameters: JSON.parse(JSON.stringify(parameters)) as Record<string, unknown> };
}

function planAb(p: AbTestingParameters) {
  const alpha = p.alpha ?? 0.05;
  const power = p.statistical_power ?? 0.8;
  const n = sampleSizePerGroup({ effectSize: p.minimum_effect_size, alpha, power, sd: p.metric_std ?? 1 });
  return { alpha, power, n };
}

/** Every combination of a search space, in the order its keys and values were given. */
export function gridOf(space: Record<string, readonly (number | string | boolean)[]>): Record<string, number | string | boolean>[] {
  let runs: Record<string, number | string | boolean>[] = [{}];
  for (const [key, values] of Object.entries(space)) runs = runs.flatMap((run) => values.map((value) => ({ ...run, [key]: value })));
  return runs;
}

export function planStudy(template: StudyTemplate): StudyPlan {
  if (template.kind === 'grid_search') {
    const p = template.parameters as unknown as GridSearchParameters;
    return { template: 'grid_search', metric: p.metric, objective: p.objective, runs: gridOf(p.search_space) };
  }
  if (template.kind === 'progressive_scaling') return planScaling(template.parameters as unknown as ProgressiveScalingParameters);
  const p = template.parameters as unknown as AbTestingParameters;
  const { alpha, power, n } = planAb(p);
  return {
    template: 'ab_testing',
    successMetric: p.success_metric,
    sampleSizePerVariant: n,
    alpha,
    power,
    runs: p.variants.flatMap((variant) => Array.from({ length: n }, (_, replicate) => ({ variant, replicate }))),
  };
}

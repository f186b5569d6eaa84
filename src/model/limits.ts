// Limits: every budget of an experiment as a named constant, and the resolution of user overrides.

import { LablogError } from './errors.js';

export interface Limits {
  /** Longest name (experiment, project, param, series, table, tag), in characters. */
  readonly maxNameLength: number;
  /** Metric values per experiment, across all its metric series (Infinity: no limit). */
  readonly maxMetricValues: number;
  /** Distinct params per experiment. */
  readonly maxParams: number;
  /** Rows per logged table. */
  readonly maxTableRows: number;
  /** Longest string param value, in characters. */
  readonly maxParamValueLength: number;
  /** Largest PNG image, in bytes. */
  readonly maxImageBytes: number;
  /** Largest Plotly figure, in bytes of JSON. */
  readonly maxPlotBytes: number;
  /** Longest experiment description, in characters. */
  readonly maxDescriptionLength: number;
  /** Tags per experiment. */
  readonly maxTags: number;
  /** Columns per logged table. */
  readonly maxTableColumns: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxNameLength: 100,
  maxMetricValues: 100_000,
  maxParams: 500,
  maxTableRows: 100_000,
  maxParamValueLength: 6_000,
  maxImageBytes: 32 * 1024 * 1024,
  maxPlotBytes: 16 * 1024 * 1024,
  maxDescriptionLength: 10_000,
  maxTags: 100,
  maxTableColumns: 1_000,
});

/** Fraction of a budget after which the experiment warns once. */
export const BUDGET_WARNING_FRACTION = 0.8;

const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];

/**
 * Limits that may be Infinity, meaning no limit: budgets only this process keeps (a team server holds
 * published experiments to its own limits). Lengths and sizes stay finite: every store must hold them.
 */
export const UNBOUNDED_LIMITS: readonly (keyof Limits)[] = ['maxMetricValues'];

/** Validates a partial `limits` option and merges it over the defaults. Throws on a bad option. */
export function resolveLimits(overrides: unknown): Limits {
  if (overrides === undefined) return DEFAULT_LIMITS;
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new LablogError('INVALID_OPTION', `option 'limits' must be an object like { maxMetricValues: 1_000_000 }`, {
      option: 'limits',
    });
  }
  const merged: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(LIMIT_KEYS as string[]).includes(key)) {
      throw new LablogError('INVALID_OPTION', `unknown limit '${key}'; known limits: ${LIMIT_KEYS.join(', ')}`, {
        option: `limits.${key}`,
      });
    }
    if (value === Infinity && (UNBOUNDED_LIMITS as readonly string[]).includes(key)) {
      merged[key] = value;
      continue;
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      const unbounded = (UNBOUNDED_LIMITS as readonly string[]).includes(key) ? ' or Infinity (no limit)' : '';
      throw new LablogError('INVALID_OPTION', `limit '${key}' must be a positive integer${unbounded}, got ${String(value)}`, {
        option: `limits.${key}`,
        actual: value,
      });
    }
    merged[key] = value;
  }
  return Object.freeze(merged) as unknown as Limits;
}

/** The count at which a budget of size `limit` warns: the first value past 80%. */
export function budgetWarningAt(limit: number): number {
  return Math.floor(limit * BUDGET_WARNING_FRACTION) + 1;
}

/** Longest hostname recorded with an experiment, in characters (a DNS name is at most 253). */
export const MAX_HOSTNAME_LENGTH = 255;
/** Longest caption of an image or plot point, in characters. */
export const MAX_CAPTION_LENGTH = 1_000;

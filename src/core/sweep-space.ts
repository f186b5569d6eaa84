// Search spaces: a sweep's space checked when it is created, and each param as a sampling dimension (numbers on an internal, possibly log, scale).

import { LablogError, describeValue } from '../model/errors.js';
import { DEFAULT_LIMITS } from '../model/limits.js';
import { checkName } from '../model/validation.js';
import {
  MAX_ENUM_VALUES,
  MAX_PATTERN_LENGTH,
  MAX_SPACE_PARAMS,
  PARAM_SPEC_TYPES,
  type EnumValue,
  type ParamSpec,
  type SearchSpace,
  type TrialParams,
} from '../model/sweep.js';

const SPEC_KEYS: Record<ParamSpec['type'], readonly string[]> = {
  float: ['type', 'min', 'max', 'log', 'step', 'exclusiveMin', 'exclusiveMax'],
  int: ['type', 'min', 'max', 'log', 'step'],
  enum: ['type', 'values', 'pattern'],
};

function invalid(field: string, rule: string, value: unknown): LablogError {
  return new LablogError('INVALID_OPTION', `createSweep: ${field} ${rule}, got ${describeValue(value)}`, {
    option: field,
    actual: typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' ? value : describeValue(value),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalBoolean(field: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false', value);
  return value;
}

/** Checks one param's spec; returns it as stored (defaults left out). */
function checkSpec(name: string, spec: unknown): ParamSpec {
  const at = `space.${name}`;
  if (!isObject(spec)) throw invalid(at, "must be an object { type: 'float' | 'int' | 'enum', … }", spec);
  if (!(PARAM_SPEC_TYPES as readonly unknown[]).includes(spec['type'])) {
    throw invalid(`${at}.type`, `must be one of ${PARAM_SPEC_TYPES.join(', ')}`, spec['type']);
  }
  const type = spec['type'] as ParamSpec['type'];
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS[type].includes(key))
      throw invalid(`${at}.${key}`, `is not an option of a ${type} param (${SPEC_KEYS[type].join(', ')})`, key);
  }
  if (type === 'enum') {
    const values = spec['values'];
    if (!Array.isArray(values) || values.length === 0) throw invalid(`${at}.values`, 'must be a non-empty array', values);
    if (values.length > MAX_ENUM_VALUES)
      throw invalid(`${at}.values`, `must list at most ${MAX_ENUM_VALUES} values (MAX_ENUM_VALUES)`, values.length);
    const seen = new Set<string>();
    for (const [i, v] of values.entries()) {
      const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
      if (!ok) throw invalid(`${at}.values[${i}]`, 'must be a string, a finite number or a boolean', v);
      const key = `${typeof v}:${String(v)}`;
      if (seen.has(key)) throw invalid(`${at}.values[${i}]`, 'must not repeat an earlier value', v);
      seen.add(key);
      if (typeof v === 'string' && v.length > DEFAULT_LIMITS.maxParamValueLength) {
        throw invalid(`${at}.values[${i}]`, `must be at most ${DEFAULT_LIMITS.maxParamValueLength} characters`, v.length);
      }
    }
    const pattern = spec['pattern'];
    if (pattern !== undefined) {
      if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
        throw invalid(`${at}.pattern`, `must be a regular expression of 1 to ${MAX_PATTERN_LENGTH} characters`, pattern);
      }
      let regex: RegExp;
      try {
        regex = new RegExp(`^(?:${pattern})$`, 'u');
      } catch (error) {
        throw invalid(`${at}.pattern`, `must be a valid regular expression (${(error as Error).message})`, pattern);
      }
      for (const [i, v] of values.entries()) {
        if (!regex.test(String(v))) throw invalid(`${at}.values[${i}]`, `must match the pattern /${pattern}/ (the whole value)`, v);
      }
    }
    return { type, values: [...(values as EnumValue[])], ...(pattern !== undefined ? { pattern: pattern as string } : {}) };
  }
  const min = spec['min'];
  const max = spec['max'];
  const integer = type === 'int';
  const numberRule = integer ? 'must be a safe integer' : 'must be a finite number';
  const isNumber = (v: unknown) => typeof v === 'number' && (integer ? Number.isSafeInteger(v) : Number.isFinite(v));
  if (!isNumber(min)) throw invalid(`${at}.min`, numberRule, min);
  if (!isNumber(max)) throw invalid(`${at}.max`, numberRule, max);
  const lo = min as number;
  const hi = max as number;
  if (!(lo < hi)) throw invalid(`${at}.min`, `must be less than max (${hi})`, lo);
  const log = optionalBoolean(`${at}.log`, spec['log']);
  const exclusiveMin = type === 'float' ? optionalBoolean(`${at}.exclusiveMin`, spec['exclusiveMin']) : false;
  const exclusiveMax = type === 'float' ? optionalBoolean(`${at}.exclusiveMax`, spec['exclusiveMax']) : false;
  if (log && !(lo > 0)) throw invalid(`${at}.min`, 'must be > 0 with log: true (a log scale needs a positive range)', lo);
  const step = spec['step'];
  if (step !== undefined) {
    if (log) throw invalid(`${at}.step`, 'cannot be combined with log: true', step);
    if (typeof step !== 'number' || !(step > 0) || !Number.isFinite(step) || (integer && !Number.isSafeInteger(step))) {
      throw invalid(`${at}.step`, integer ? 'must be a positive integer' : 'must be a positive finite number', step);
    }
    if (step > hi - lo) throw invalid(`${at}.step`, `must be at most max − min (${hi - lo})`, step);
    if (exclusiveMin || exclusiveMax) {
      throw invalid(`${at}.step`, 'cannot be combined with exclusiveMin or exclusiveMax (the grid includes both ends)', step);
    }
  }
  const base = { min: lo, max: hi, ...(log ? { log } : {}), ...(step !== undefined ? { step: step as number } : {}) };
  if (type === 'int') return { type, ...base };
  return { type, ...base, ...(exclusiveMin ? { exclusiveMin } : {}), ...(exclusiveMax ? { exclusiveMax } : {}) };
}

/** Checks a search space (names, types, bounds, log, step, enums, patterns); returns it as stored. INVALID_OPTION naming the field, the rule and the value. */
export function checkSpace(space: unknown): SearchSpace {
  if (!isObject(space)) throw invalid('space', 'must be an object of param name → spec', space);
  const names = Object.keys(space);
  if (names.length === 0) throw invalid('space', 'must have at least one param', space);
  if (names.length > MAX_SPACE_PARAMS)
    throw invalid('space', `must have at most ${MAX_SPACE_PARAMS} params (MAX_SPACE_PARAMS)`, names.length);
  const checked: Record<string, ParamSpec> = {};
  for (const name of names) {
    const nameError = checkName('param name', name, DEFAULT_LIMITS.maxNameLength);
    if (nameError) throw new LablogError('INVALID_OPTION', `createSweep: space: ${nameError.message}`, { option: 'space', actual: name });
    checked[name] = checkSpec(name, space[name]);
  }
  return checked;
}

/** What changed between a sweep's stored space and the one given on resume (empty: the same). */
export function spaceChanges(stored: SearchSpace, given: SearchSpace): string[] {
  const changes: string[] = [];
  for (const name of Object.keys(stored)) {
    if (!(name in given)) changes.push(`param '${name}' was removed`);
    else if (JSON.stringify(stored[name]) !== JSON.stringify(given[name])) {
      changes.push(`param '${name}' changed from ${JSON.stringify(stored[name])} to ${JSON.stringify(given[name])}`);
    }
  }
  for (const name of Object.keys(given)) if (!(name in stored)) changes.push(`param '${name}' was added`);
  return changes;
}

/** A number param on its internal scale: sampled in [low, high] (log of the value with log), mapped to a value by `value`. */
export interface NumericDimension {
  readonly kind: 'numeric';
  readonly name: string;
  readonly low: number;
  readonly high: number;
  /** The param's value at internal point x (rounded to its grid or integers, kept inside exclusive bounds). */
  value(x: number): number;
  /** The internal point of a value. */
  internal(value: number): number;
}

export interface CategoricalDimension {
  readonly kind: 'categorical';
  readonly name: string;
  readonly values: readonly EnumValue[];
  /** The index of a value (-1 when not one of them). */
  index(value: EnumValue): number;
}

export type Dimension = NumericDimension | CategoricalDimension;

/** The largest double below / above x. */
function nextDown(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const buffer = new Float64Array([x]);
  const bits = new BigInt64Array(buffer.buffer);
  bits[0] = bits[0]! + (x > 0 ? -1n : 1n);
  return buffer[0]!;
}
function nextUp(x: number): number {
  return -nextDown(-x);
}

function numericDimension(name: string, spec: Exclude<ParamSpec, { type: 'enum' }>): NumericDimension {
  const { min, max } = spec;
  const log = spec.log === true;
  if (spec.step !== undefined) {
    // A grid min, min + step, … ≤ max: sampled as an index, each index owning an interval of width 1.
    const step = spec.step;
    const last = Math.floor((max - min) / step + 1e-9);
    const round = (v: number) => (spec.type === 'int' ? Math.round(v) : Number(v.toPrecision(15)));
    return {
      kind: 'numeric',
      name,
      low: -0.5,
      high: last + 0.5,
      value: (x) => round(min + Math.min(last, Math.max(0, Math.round(x))) * step),
      internal: (v) => (v - min) / step,
    };
  }
  if (spec.type === 'int') {
    const low = log ? Math.log(min - 0.5 > 0 ? min - 0.5 : min) : min - 0.5;
    const high = log ? Math.log(max + 0.5) : max + 0.5;
    return {
      kind: 'numeric',
      name,
      low,
      high,
      value: (x) => Math.min(max, Math.max(min, Math.round(log ? Math.exp(x) : x))),
      internal: (v) => (log ? Math.log(v) : v),
    };
  }
  const lowValue = spec.exclusiveMin === true ? nextUp(min) : min;
  const highValue = spec.exclusiveMax === true ? nextDown(max) : max;
  return {
    kind: 'numeric',
    name,
    low: log ? Math.log(min) : min,
    high: log ? Math.log(max) : max,
    value: (x) => Math.min(highValue, Math.max(lowValue, log ? Math.exp(x) : x)),
    internal: (v) => (log ? Math.log(v) : v),
  };
}

/** The space's params as sampling dimensions, in the space's order. */
export function dimensionsOf(space: SearchSpace): Dimension[] {
  return Object.entries(space).map(([name, spec]): Dimension => {
    if (spec.type === 'enum') {
      const values = spec.values;
      return { kind: 'categorical', name, values, index: (v) => values.findIndex((x) => x === v) };
    }
    return numericDimension(name, spec);
  });
}

/** Whether `params` are a point of the space (every param, each value allowed): a trial's params read back from a store. */
export function isInSpace(space: SearchSpace, params: TrialParams): boolean {
  return dimensionsOf(space).every((d) => {
    const v = params[d.name];
    if (d.kind === 'categorical') return v !== undefined && d.index(v) >= 0;
    return typeof v === 'number' && Number.isFinite(v);
  });
}

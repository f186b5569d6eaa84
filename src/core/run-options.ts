// Launch options: what store.launch() takes, checked against the run limits, with the defaults filled in.

import { basename, resolve } from 'node:path';
import { LablogError, describeValue } from '../model/errors.js';
import { resolveLimits } from '../model/limits.js';
import { DEFAULT_PROJECT } from './project.js';
import { assertKnownOptions, assertName, assertOptionsObject, checkParamValue } from '../model/validation.js';
import {
  DEFAULT_RUN_GRACE_MS,
  DEFAULT_RUN_LOG_CAP_BYTES,
  DEFAULT_RUN_TIMEOUT_MS,
  MAX_RUN_GRACE_MS,
  MAX_RUN_RETRIES,
  MAX_RUN_TIMEOUT_MS,
} from '../model/run.js';

/** The smallest log cap a run may be given (bytes). */
export const MIN_RUN_LOG_CAP_BYTES = 1_024;

/** A param given at launch: logged, typed, on the experiment before the child starts. */
export type LaunchParam = boolean | number | string;

export interface LaunchOptions {
  /** The program to run (looked up on PATH). */
  command: string;
  args?: string[];
  project?: string;
  /** The experiment's name (default: the command's base name); deduplicated like createExperiment's. */
  name?: string;
  params?: Record<string, LaunchParam>;
  tags?: string[];
  /** Extra environment variables for the child (on top of this process's environment); not stored. */
  env?: Record<string, string>;
  /** Milliseconds; default 4 h (DEFAULT_RUN_TIMEOUT_MS), at most 48 h (MAX_RUN_TIMEOUT_MS). */
  timeout?: number;
  /** Milliseconds between SIGTERM and SIGKILL when the child is stopped; default 30 s. */
  grace?: number;
  /** Re-launches of a failed run (not a cancelled or timed-out one); default 0. */
  retries?: number;
  /** The child's working directory (default: this process's). */
  cwd?: string;
  /** Bytes of output kept per run (default 64 MiB); past it the oldest lines are dropped and counted. */
  logCap?: number;
  /** Also write the child's output to this process's stdout and stderr as it comes (default false). */
  echo?: boolean;
}

/** The options launch() knows. */
export const LAUNCH_OPTIONS = [
  'command',
  'args',
  'project',
  'name',
  'params',
  'tags',
  'env',
  'timeout',
  'grace',
  'retries',
  'cwd',
  'logCap',
  'echo',
] as const;

/** Launch options checked, with every default applied. */
export interface ResolvedLaunch {
  readonly command: string;
  readonly args: readonly string[];
  readonly project: string;
  readonly name: string;
  readonly params: readonly [string, LaunchParam][];
  readonly tags: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly graceMs: number;
  readonly retries: number;
  readonly cwd: string;
  readonly logCapBytes: number;
  readonly echo: boolean;
}

function invalid(message: string, option: string, extra: { limit?: number; actual?: unknown } = {}): LablogError {
  return new LablogError('INVALID_OPTION', `launch: ${message}`, { option, ...extra });
}

function strings(option: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw invalid(`${option} must be an array of strings, got ${describeValue(value)}`, option);
  }
  return value as string[];
}

/** A duration option in ms: positive, finite, at most `max`. */
function duration(option: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(`${option} must be a number of milliseconds > 0, got ${describeValue(value)}`, option, {
      actual: typeof value === 'number' ? value : describeValue(value),
    });
  }
  if (value > max) {
    throw invalid(`${option} is ${value} ms; the limit is ${max} ms (${max / 3_600_000} h)`, option, { limit: max, actual: value });
  }
  return value;
}

export function resolveLaunch(options: LaunchOptions): ResolvedLaunch {
  assertOptionsObject('launch', options);
  if (options === undefined) throw invalid('options { command } are required', 'command');
  assertKnownOptions('launch', options, LAUNCH_OPTIONS);
  const limits = resolveLimits(undefined);
  if (typeof options.command !== 'string' || options.command.length === 0) {
    throw invalid(`command must be a non-empty string, got ${describeValue(options.command)}`, 'command');
  }
  const project = options.project ?? DEFAULT_PROJECT;
  assertName('project name', project, limits.maxNameLength);
  const name = options.name ?? basename(options.command).slice(0, limits.maxNameLength);
  assertName('experiment name', name, limits.maxNameLength);
  const params: [string, LaunchParam][] = [];
  if (options.params !== undefined) {
    if (typeof options.params !== 'object' || options.params === null || Array.isArray(options.params)) {
      throw invalid(`params must be an object of key → value, got ${describeValue(options.params)}`, 'params');
    }
    for (const [key, value] of Object.entries(options.params)) {
      assertName('param key', key, limits.maxNameLength);
      const checked = checkParamValue(key, value, limits.maxParamValueLength);
      if (checked.error) throw checked.error;
      if (checked.type === 'date') throw invalid(`param '${key}' must be a boolean, number or string`, 'params');
      params.push([key, value]);
    }
  }
  const tags = strings('tags', options.tags);
  for (const tag of tags) assertName('tag', tag, limits.maxNameLength);
  const env: Record<string, string> = {};
  if (options.env !== undefined) {
    if (typeof options.env !== 'object' || options.env === null || Array.isArray(options.env)) {
      throw invalid(`env must be an object of name → string, got ${describeValue(options.env)}`, 'env');
    }
    for (const [key, value] of Object.entries(options.env)) {
      if (typeof value !== 'string') throw invalid(`env ${key} must be a string, got ${describeValue(value)}`, 'env');
      env[key] = value;
    }
  }
  const retries = options.retries ?? 0;
  if (!Number.isSafeInteger(retries) || retries < 0 || retries > MAX_RUN_RETRIES) {
    throw invalid(`retries must be an integer from 0 to ${MAX_RUN_RETRIES}, got ${describeValue(retries)}`, 'retries', {
      limit: MAX_RUN_RETRIES,
      actual: retries,
    });
  }
  const logCap = options.logCap ?? DEFAULT_RUN_LOG_CAP_BYTES;
  if (!Number.isSafeInteger(logCap) || logCap < MIN_RUN_LOG_CAP_BYTES) {
    throw invalid(`logCap must be an integer of bytes >= ${MIN_RUN_LOG_CAP_BYTES}, got ${describeValue(logCap)}`, 'logCap', {
      limit: MIN_RUN_LOG_CAP_BYTES,
      actual: logCap,
    });
  }
  if (options.cwd !== undefined && (typeof options.cwd !== 'string' || options.cwd.length === 0)) {
    throw invalid(`cwd must be a non-empty string, got ${describeValue(options.cwd)}`, 'cwd');
  }
  if (options.echo !== undefined && typeof options.echo !== 'boolean') {
    throw invalid(`echo must be a boolean, got ${describeValue(options.echo)}`, 'echo');
  }
  return {
    command: options.command,
    args: strings('args', options.args),
    project,
    name,
    params,
    tags: [...new Set(tags)],
    env,
    timeoutMs: duration('timeout', options.timeout, DEFAULT_RUN_TIMEOUT_MS, MAX_RUN_TIMEOUT_MS),
    graceMs: duration('grace', options.grace, DEFAULT_RUN_GRACE_MS, MAX_RUN_GRACE_MS),
    retries,
    cwd: resolve(options.cwd ?? process.cwd()),
    logCapBytes: logCap,
    echo: options.echo ?? false,
  };
}

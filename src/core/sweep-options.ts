// createSweep options: the sweep's study and its search (space, sampler, pruner, metric, goal, maxTrials) checked, with defaults filled in.

import { LablogError, describeValue } from '../model/errors.js';
import { METRIC_GOALS, defaultMetricGoal, parseMetricGoal, type Goal } from '../model/metric-goal.js';
import type { StudyRecord } from '../model/study.js';
import {
  DEFAULT_MAX_TRIALS,
  MAX_SWEEP_PARALLEL,
  MAX_TRIALS_LIMIT,
  TRIAL_STATUSES,
  type TrialStatus,
  type NewSweep,
  type SamplerSpec,
  type SearchSpace,
  type SweepRecord,
} from '../model/sweep.js';
import { assertKnownOptions, assertName, assertOptionsObject } from '../model/validation.js';
import { DEFAULT_LIMITS } from '../model/limits.js';
import { checkPruner } from './pruner.js';
import { checkSampler } from './sampler.js';
import { freshSeed } from './seeded-random.js';
import { studyRecordFrom } from './study-rules.js';
import { checkSpace, spaceChanges } from './sweep-space.js';
import { DEFAULT_TRIAL_TIMEOUT_MS, MAX_TRIAL_TIMEOUT_MS } from './sweep-worker.js';

export interface CreateSweepOptions {
  name: string;
  project?: string;
  description?: string;
  tags?: string[];
  /** The metric the sweep optimizes (what an objective returns, or the last value a launched trial logs). */
  metric: string;
  /** 'min' | 'max' | 'minimize' | 'maximize'; default read from the metric's name (loss → minimize). */
  goal?: string;
  space: SearchSpace;
  /** Default { type: 'tpe' }. */
  sampler?: unknown;
  /** Default { type: 'none' }. */
  pruner?: unknown;
  /** Trials to run at most (default DEFAULT_MAX_TRIALS, 100; at most MAX_TRIALS_LIMIT); re-runs of a trial do not count. */
  maxTrials?: number;
  /** Trials one optimize() runs at once unless told otherwise (default 1, at most MAX_SWEEP_PARALLEL). */
  parallel?: number;
  /**
   * When a sweep of this name exists in the project: go on with it (a resume) if it searches the same way
   * (space, metric, goal, sampler, pruner, maxTrials), else INVALID_OPTION saying what changed. Default false:
   * the name must be new.
   */
  loadIfExists?: boolean;
}

const OPTIONS = [
  'name',
  'project',
  'description',
  'tags',
  'metric',
  'goal',
  'space',
  'sampler',
  'pruner',
  'maxTrials',
  'parallel',
  'loadIfExists',
] as const;

export function checkGoal(goal: unknown, metric: string): Goal {
  if (goal === undefined) return defaultMetricGoal(metric);
  const parsed = typeof goal === 'string' ? parseMetricGoal(goal) : undefined;
  if (parsed === undefined) {
    throw new LablogError(
      'INVALID_OPTION',
      `createSweep: goal must be one of min, max, ${METRIC_GOALS.join(', ')}, got ${describeValue(goal)}`,
      {
        option: 'goal',
      },
    );
  }
  return parsed;
}

/** The sweep's study record and what the sweep stores beside it. */
export function sweepRecordsFrom(options: CreateSweepOptions, now: number): { study: StudyRecord; sweep: NewSweep } {
  assertOptionsObject('createSweep', options);
  if (options === undefined)
    throw new LablogError('INVALID_OPTION', 'createSweep: options { name, metric, space } are required', { option: 'name' });
  assertKnownOptions('createSweep', options, OPTIONS);
  if (options.loadIfExists !== undefined && typeof options.loadIfExists !== 'boolean') {
    throw new LablogError('INVALID_OPTION', `createSweep: loadIfExists must be true or false, got ${describeValue(options.loadIfExists)}`, {
      option: 'loadIfExists',
    });
  }
  assertName('metric name', options.metric, DEFAULT_LIMITS.maxNameLength);
  const goal = checkGoal(options.goal, options.metric);
  const space = checkSpace(options.space);
  const sampler = checkSampler(options.sampler ?? { type: 'tpe' }, space);
  const pruner = checkPruner(options.pruner);
  const maxTrials = options.maxTrials ?? DEFAULT_MAX_TRIALS;
  if (!Number.isSafeInteger(maxTrials) || maxTrials < 1 || maxTrials > MAX_TRIALS_LIMIT) {
    throw new LablogError(
      'INVALID_OPTION',
      `createSweep: maxTrials must be an integer from 1 to ${MAX_TRIALS_LIMIT}, got ${describeValue(maxTrials)}`,
      {
        option: 'maxTrials',
        limit: MAX_TRIALS_LIMIT,
        actual: maxTrials,
      },
    );
  }
  const parallel = checkParallel('createSweep', options.parallel ?? 1);
  const { record } = studyRecordFrom(
    {
      name: options.name,
      ...(options.project !== undefined ? { project: options.project } : {}),
      ...(options.description !== undefined ? { description: options.description } : {}),
      ...(options.tags !== undefined ? { tags: options.tags } : {}),
      hypothesis: `${goal} ${options.metric} over ${Object.keys(space).join(', ')} (${sampler.type} sampler)`,
      metadata: { sweep: true },
    },
    now,
  );
  const seed = sampler.seed ?? freshSeed();
  return {
    study: record,
    sweep: { id: record.id, metric: options.metric, goal, space, sampler, pruner, seed, maxTrials, parallel, createdAt: now },
  };
}

/** A count of trials at once: an integer from 1 to MAX_SWEEP_PARALLEL. */
export function checkParallel(what: string, parallel: unknown): number {
  if (!Number.isSafeInteger(parallel) || (parallel as number) < 1 || (parallel as number) > MAX_SWEEP_PARALLEL) {
    throw new LablogError(
      'INVALID_OPTION',
      `${what}: parallel must be an integer from 1 to ${MAX_SWEEP_PARALLEL}, got ${describeValue(parallel)}`,
      {
        option: 'parallel',
        limit: MAX_SWEEP_PARALLEL,
        actual: typeof parallel === 'number' ? parallel : describeValue(parallel),
      },
    );
  }
  return parallel as number;
}

/** What differs between a stored sweep and the one asked for again (empty: the same search); the seed counts only when given. */
export function sweepChanges(stored: SweepRecord, given: NewSweep, givenSeed: number | undefined): string[] {
  const changes = spaceChanges(stored.space, given.space);
  if (stored.metric !== given.metric) changes.push(`metric changed from '${stored.metric}' to '${given.metric}'`);
  if (stored.goal !== given.goal) changes.push(`goal changed from ${stored.goal} to ${given.goal}`);
  const samplerOf = (s: SamplerSpec) => JSON.stringify({ ...s, seed: undefined });
  if (samplerOf(stored.sampler) !== samplerOf(given.sampler)) {
    changes.push(`sampler changed from ${JSON.stringify(stored.sampler)} to ${JSON.stringify(given.sampler)}`);
  }
  if (givenSeed !== undefined && givenSeed !== stored.seed) changes.push(`sampler.seed changed from ${stored.seed} to ${givenSeed}`);
  if (JSON.stringify(stored.pruner) !== JSON.stringify(given.pruner)) {
    changes.push(`pruner changed from ${JSON.stringify(stored.pruner)} to ${JSON.stringify(given.pruner)}`);
  }
  if (stored.maxTrials !== given.maxTrials) changes.push(`maxTrials changed from ${stored.maxTrials} to ${given.maxTrials}`);
  return changes;
}

/** The stored sweep to go on with when createSweep({ loadIfExists }) finds one of its name; INVALID_OPTION saying what changed otherwise. */
export function resumableSweep(where: string, existing: SweepRecord, given: NewSweep): SweepRecord {
  const changes = sweepChanges(existing, given, given.sampler.seed);
  if (changes.length > 0) {
    throw new LablogError(
      'INVALID_OPTION',
      `${where}: sweep '${existing.name}' exists in project '${existing.project}' and searches differently: ${changes.join('; ')}. Give it a new name to start another.`,
      { option: 'loadIfExists', key: existing.name },
    );
  }
  return existing;
}

/** The `trials` budget of one optimize()/run() call: a positive integer, Infinity (the default) for no budget. */
export function checkTrials(where: string, trials: unknown): number {
  if (trials === undefined || trials === Infinity) return Infinity;
  if (!Number.isSafeInteger(trials) || (trials as number) < 1) {
    throw new LablogError('INVALID_OPTION', `${where}: trials must be a positive integer, got ${describeValue(trials)}`, {
      option: 'trials',
    });
  }
  return trials as number;
}

/** The per-trial `timeout` of optimize(): milliseconds > 0, at most MAX_TRIAL_TIMEOUT_MS (default DEFAULT_TRIAL_TIMEOUT_MS). */
export function checkTrialTimeout(where: string, timeout: unknown): number {
  const timeoutMs = timeout ?? DEFAULT_TRIAL_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_TRIAL_TIMEOUT_MS) {
    throw new LablogError(
      'INVALID_OPTION',
      `${where}: timeout must be a number of milliseconds > 0 and at most ${MAX_TRIAL_TIMEOUT_MS} (48 h), got ${describeValue(timeoutMs)}`,
      { option: 'timeout', limit: MAX_TRIAL_TIMEOUT_MS, actual: typeof timeoutMs === 'number' ? timeoutMs : describeValue(timeoutMs) },
    );
  }
  return timeoutMs;
}

/** The objective of optimize(): a function. */
export function checkObjective(objective: unknown): void {
  if (typeof objective !== 'function') {
    throw new LablogError('INVALID_OPTION', `optimize: objective must be a function (trial) => value, got ${describeValue(objective)}`, {
      option: 'objective',
    });
  }
}

/** The `status` filter of trials(): undefined (every trial), or the statuses wanted, each one of TRIAL_STATUSES. */
export function checkTrialFilter(options: unknown): TrialStatus[] | undefined {
  assertOptionsObject('trials', options);
  if (options) assertKnownOptions('trials', options as Record<string, unknown>, ['status']);
  const status = (options as { status?: unknown } | undefined)?.status;
  const wanted = status === undefined ? undefined : Array.isArray(status) ? status : [status];
  for (const s of wanted ?? []) {
    if (!(TRIAL_STATUSES as readonly unknown[]).includes(s)) {
      throw new LablogError('INVALID_OPTION', `trials: status must be one of ${TRIAL_STATUSES.join(', ')}, got ${describeValue(s)}`, {
        option: 'status',
      });
    }
  }
  return wanted as TrialStatus[] | undefined;
}

// Sweeps as records: search spaces and their param specs, sampler and pruner specs, sweep and trial statuses, and their limits.

import type { Goal } from './metric-goal.js';

/** A sweep's statuses (PAI's HPO experiment): `no_more_trials` when a grid is exhausted before maxTrials. */
export const SWEEP_STATUSES = ['created', 'running', 'finished', 'failed', 'stopped', 'no_more_trials'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];

/** A trial's statuses: `pruned` is PAI's EARLY_STOPPED, `stopped` its USER_CANCELED. */
export const TRIAL_STATUSES = ['pending', 'running', 'completed', 'pruned', 'failed', 'stopped'] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];
/** The statuses a trial ends in. */
export const FINAL_TRIAL_STATUSES = ['completed', 'pruned', 'failed', 'stopped'] as const satisfies readonly TrialStatus[];

/** Trials a sweep runs when not told (PAI's default). */
export const DEFAULT_MAX_TRIALS = 100;
/** The most trials a sweep may be given. */
export const MAX_TRIALS_LIMIT = 10_000;
/** The most experiments a sweep's study holds (trials and their re-runs): above a plain study's MAX_STUDY_EXPERIMENTS. */
export const MAX_SWEEP_EXPERIMENTS = 2 * MAX_TRIALS_LIMIT;
/** The most trials one worker runs at once. */
export const MAX_SWEEP_PARALLEL = 64;
/** The most params a search space may have. */
export const MAX_SPACE_PARAMS = 64;
/** The most values an enum param may list. */
export const MAX_ENUM_VALUES = 1_000;
/** The longest `pattern` of an enum param, in characters. */
export const MAX_PATTERN_LENGTH = 1_000;

export const PARAM_SPEC_TYPES = ['float', 'int', 'enum'] as const;
export type ParamSpecType = (typeof PARAM_SPEC_TYPES)[number];

/** A range of numbers: [min, max], either bound exclusive if asked, sampled on a log scale with `log`, on a grid of `step` with step. */
export interface FloatSpec {
  readonly type: 'float';
  readonly min: number;
  readonly max: number;
  readonly log?: boolean;
  readonly step?: number;
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
}

/** Integers in [min, max] (inclusive), on a log scale with `log`, every `step`-th from min with step. */
export interface IntSpec {
  readonly type: 'int';
  readonly min: number;
  readonly max: number;
  readonly log?: boolean;
  readonly step?: number;
}

export type EnumValue = string | number | boolean;

/** One of `values`; `pattern` (a regular expression) every string value must match. */
export interface EnumSpec {
  readonly type: 'enum';
  readonly values: readonly EnumValue[];
  readonly pattern?: string;
}

export type ParamSpec = FloatSpec | IntSpec | EnumSpec;
export type SearchSpace = Readonly<Record<string, ParamSpec>>;
/** The params a sampler chose for a trial. */
export type TrialParams = Readonly<Record<string, EnumValue>>;

export const SAMPLER_TYPES = ['grid', 'random', 'tpe'] as const;
export type SamplerType = (typeof SAMPLER_TYPES)[number];

export interface TpeOptions {
  /** Trials sampled at random before the Parzen estimators are used (Optuna's n_startup_trials: 10). */
  readonly startupTrials?: number;
  /** Candidates drawn from the good trials' estimator, of which the best ratio is kept (Optuna: 24). */
  readonly candidates?: number;
  /** Model the params jointly (one kernel per trial over all params) rather than one by one (default true). */
  readonly multivariate?: boolean;
}

export type SamplerSpec =
  | { readonly type: 'grid'; readonly seed?: number }
  | { readonly type: 'random'; readonly seed?: number }
  | ({ readonly type: 'tpe'; readonly seed?: number } & TpeOptions);

export const PRUNER_TYPES = ['none', 'median', 'asha'] as const;
export type PrunerType = (typeof PRUNER_TYPES)[number];

export type PrunerSpec =
  | { readonly type: 'none' }
  /** Prunes a trial whose best value so far is worse than the median of the other trials' at the same step. */
  | { readonly type: 'median'; readonly warmupSteps?: number; readonly startupTrials?: number }
  /** Asynchronous successive halving: at rungs minResource·reduction^k, only the best 1/reduction go on. */
  | { readonly type: 'asha'; readonly minResource?: number; readonly reductionFactor?: number };

/** A trial's intermediate value at a step, as reported to the pruner. */
export interface TrialReport {
  readonly step: number;
  readonly value: number;
}

/** A trial as samplers and pruners see it. */
export interface TrialView {
  readonly number: number;
  readonly status: TrialStatus;
  readonly params: TrialParams;
  /** The objective's value (completed trials). */
  readonly value: number | null;
  readonly reports: readonly TrialReport[];
}

export interface SweepObjective {
  readonly metric: string;
  readonly goal: Goal;
}

/** The most reports (intermediate values) a trial keeps for its pruner; later ones are not kept (the experiment's metric has them all). */
export const MAX_TRIAL_REPORTS = 10_000;
/** A trial's error message is cut to this many characters. */
export const MAX_TRIAL_ERROR_CHARS = 4_000;

/** A sweep as stored: its study's id, project and name, and what drives its trials. */
export interface SweepRecord {
  /** The sweep's study's id. */
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly metric: string;
  readonly goal: Goal;
  readonly space: SearchSpace;
  readonly sampler: SamplerSpec;
  readonly pruner: PrunerSpec;
  /** The sampler's seed (the spec's, or one chosen when the sweep was created). */
  readonly seed: number;
  readonly maxTrials: number;
  /** Trials run at once by one optimize() or `lablog sweep run`, unless it is told otherwise. */
  readonly parallel: number;
  readonly status: SweepStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What creating a sweep stores beside its study. */
export type NewSweep = Omit<SweepRecord, 'project' | 'name' | 'status' | 'updatedAt'>;

/** Who runs a trial: its process, for liveness. */
export interface TrialWorker {
  readonly host: string;
  readonly pid: number;
}

/** A trial as stored. */
export interface TrialRecord extends TrialView {
  readonly sweepId: string;
  /** The trial's experiment (null until its worker has created it). */
  readonly experimentId: string | null;
  /** The trial this one re-runs (its worker died, or it was restarted), with the same params. */
  readonly retryOf: number | null;
  readonly error: string | null;
  readonly worker: TrialWorker | null;
  readonly heartbeatAt: number | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
}

/** What asking a sweep for a trial gave. */
export type AskOutcome =
  | { readonly kind: 'trial'; readonly trial: TrialRecord }
  /** maxTrials trials have been given (not counting re-runs). */
  | { readonly kind: 'full' }
  /** The sampler has nothing left (an exhausted grid). */
  | { readonly kind: 'exhausted' }
  /** The sweep is not running any more (stopped, finished). */
  | { readonly kind: 'closed'; readonly status: SweepStatus };

/** How a trial ended. */
export interface TrialOutcome {
  readonly status: 'completed' | 'pruned' | 'failed' | 'stopped';
  readonly value: number | null;
  readonly error: string | null;
}

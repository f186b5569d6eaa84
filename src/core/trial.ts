// Trial: what an in-process objective gets — its number, params and experiment — with report / shouldPrune to the sweep's pruner, and pruned().

import { MAX_TRIAL_REPORTS, type TrialParams, type TrialRecord } from '../model/sweep.js';
import { LablogError, describeValue } from '../model/errors.js';
import type { Experiment } from './experiment.js';
import type { Pruner } from './pruner.js';
import type { TrialChannel } from './trial-channel.js';

/** What an objective returns for a trial its pruner stopped: `return trial.pruned()`. */
export interface PrunedResult {
  readonly pruned: true;
  readonly step: number | null;
}

export function isPrunedResult(value: unknown): value is PrunedResult {
  return typeof value === 'object' && value !== null && (value as { pruned?: unknown }).pruned === true;
}

/** Where a trial reports, and its pruner. */
export interface TrialContext {
  readonly channel: TrialChannel;
  readonly pruner: Pruner;
}

export class Trial {
  readonly number: number;
  readonly params: TrialParams;
  /** The trial's experiment, in the sweep's study: log to it as in any training loop. */
  readonly experiment: Experiment;
  readonly #context: TrialContext;
  #record: TrialRecord;

  /** @internal Trials are made by sweep.optimize(). */
  constructor(context: TrialContext, record: TrialRecord, experiment: Experiment) {
    this.#context = context;
    this.#record = record;
    this.number = record.number;
    this.params = record.params;
    this.experiment = experiment;
  }

  /** Whether the trial was stopped from outside (lablog trial stop, sweep.stopTrial): the objective should return. */
  get stopped(): boolean {
    return this.#record.status === 'stopped';
  }

  /** Reports an intermediate value of the objective at `step` (steps increasing) for the pruner. */
  report(step: number, value: number): void {
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new LablogError('INVALID_STEP', `trial.report: step must be an integer >= 0, got ${describeValue(step)}`, {
        key: 'report',
        actual: step,
      });
    }
    if (typeof value !== 'number') {
      throw new LablogError('INVALID_METRIC_VALUE', `trial.report: value must be a number, got ${describeValue(value)}`, {
        key: 'report',
        actual: describeValue(value),
      });
    }
    const status = this.#context.channel.report(this.number, step, value);
    const last = this.#record.reports[this.#record.reports.length - 1];
    // The same rule as the store's: a report is kept when its step is above the last one (and within the cap).
    const kept = status === 'running' && (last === undefined || step > last.step) && this.#record.reports.length < MAX_TRIAL_REPORTS;
    this.#record = {
      ...this.#record,
      status: status ?? this.#record.status,
      reports: kept ? [...this.#record.reports, { step, value }] : this.#record.reports,
    };
  }

  /**
   * Reports (step, value) when given, then says whether the trial should stop: its pruner judges it against
   * the other trials, or it was stopped from outside. `if (trial.shouldPrune(epoch, loss)) return trial.pruned();`
   */
  shouldPrune(step?: number, value?: number): boolean {
    if (step !== undefined && value !== undefined) this.report(step, value);
    const others = this.#context.channel.trials();
    // The trial as stored now: a stop from another process shows here even without a report (a status
    // only moves on from 'running', so a remote copy read before the stop cannot undo it).
    const stored = others.find((t) => t.number === this.number);
    if (stored !== undefined && stored.status !== 'running' && stored.status !== 'pending')
      this.#record = { ...this.#record, status: stored.status };
    if (this.stopped) return true;
    return this.#context.pruner.shouldPrune(this.#record, others);
  }

  /** The result that ends the trial as pruned (its logged data is kept). */
  pruned(): PrunedResult {
    const last = this.#record.reports[this.#record.reports.length - 1];
    return { pruned: true, step: last?.step ?? null };
  }
}

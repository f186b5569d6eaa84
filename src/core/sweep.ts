// Sweep: the handle of a hyperparameter search — its record, trials, best, history, stop and restart of trials, and optimize().

import { LablogError } from '../model/errors.js';
import type { SweepRecord, SweepStatus, TrialRecord, TrialStatus } from '../model/sweep.js';
import { assertKnownOptions, assertOptionsObject } from '../model/validation.js';
import type { SweepStore } from '../store/sweep-store.js';
import type { Study } from './study.js';
import type { ParamImportance } from './param-importance.js';
import { bestTrial, sweepHistory, sweepImportances, type BestTrial, type HistoryPoint } from './sweep-results.js';
import { commandRunner, type LaunchedTrialContext, type TrialLaunch } from './sweep-launch.js';
import { checkObjective, checkParallel, checkTrialFilter, checkTrialTimeout, checkTrials } from './sweep-options.js';
import { storeSweepPort } from './sweep-port.js';
import { storeTrialChannel } from './trial-channel.js';
import { assertRestartable, assertStoppable } from './trial-rules.js';
import {
  objectiveRunner,
  optimizeSweep,
  type Objective,
  type OptimizeOptions,
  type OptimizeResult,
  type SweepWorkerContext,
} from './sweep-worker.js';

export type { BestTrial, HistoryPoint } from './sweep-results.js';

/** What a sweep handle needs from its store (the worker's port is the store's, made per sweep). */
export interface SweepContext extends Omit<SweepWorkerContext, 'port' | 'channel'>, Omit<LaunchedTrialContext, 'port'> {
  readonly store: SweepStore;
  study(id: string): Study;
}

export class Sweep {
  readonly id: string;
  readonly #context: SweepContext;
  #record: SweepRecord;

  /** @internal Use store.createSweep() or store.getSweep(). */
  constructor(context: SweepContext, record: SweepRecord) {
    this.#context = context;
    this.#record = record;
    this.id = record.id;
  }

  /** The sweep as stored now. */
  record(): SweepRecord {
    const record = this.#context.store.getSweep(this.id);
    if (record === undefined) throw new LablogError('SWEEP_NOT_FOUND', `no sweep with id ${this.id}`, { id: this.id });
    this.#record = record;
    return record;
  }

  get name(): string {
    return this.#record.name;
  }

  get project(): string {
    return this.#record.project;
  }

  get status(): SweepStatus {
    return this.record().status;
  }

  /** The sweep's study: compare, statistics and export apply to its trials' experiments. */
  study(): Study {
    return this.#context.study(this.id);
  }

  /** The trials, by number (only those with the given statuses). */
  trials(options?: { status?: TrialStatus | TrialStatus[] }): TrialRecord[] {
    const wanted = checkTrialFilter(options);
    const trials = this.#context.store.trials(this.id);
    return wanted === undefined ? trials : trials.filter((t) => wanted.includes(t.status));
  }

  /** The trial with the best value (ties: the earliest); null before one completed. */
  best(): BestTrial | null {
    return bestTrial(this.record(), this.#context.store.trials(this.id));
  }

  /** The completed trials' values by trial number, with the best so far (an optimization-history chart). */
  history(): HistoryPoint[] {
    return sweepHistory(this.record(), this.#context.store.trials(this.id));
  }

  /** Each param's share of the objective's variance over the completed trials (see paramImportances for the method). */
  importances(): ParamImportance[] {
    return sweepImportances(this.record(), this.#context.store.trials(this.id));
  }

  #trial(number: number): TrialRecord {
    const trial = this.#context.store.trials(this.id).find((t) => t.number === number);
    if (trial === undefined)
      throw new LablogError('TRIAL_NOT_FOUND', `no trial ${number} in sweep '${this.name}'`, { id: this.id, number });
    return trial;
  }

  /** Stops a pending or running trial: it ends 'stopped' (a running in-process objective sees it at its next shouldPrune). */
  stopTrial(number: number): TrialRecord {
    assertStoppable(this.#trial(number));
    this.#context.store.finishTrial(this.id, number, { status: 'stopped', value: null, error: null }, Date.now());
    return this.#trial(number);
  }

  /** Runs an ended trial again with the same params, as a new pending trial (retryOf the old one); the next ask takes it. */
  restartTrial(number: number): TrialRecord {
    assertRestartable(this.#trial(number));
    const now = Date.now();
    const record = this.record();
    // A sweep that had ended takes its trial again.
    if (record.status !== 'created' && record.status !== 'running') this.#context.store.setSweepStatus(this.id, 'running', now);
    return this.#context.store.requeueTrial(this.id, number, now);
  }

  /** Stops the sweep: no new trials are asked (trials running now finish). */
  stop(): void {
    this.#context.store.setSweepStatus(this.id, 'stopped', Date.now());
  }

  /**
   * Runs trials of the sweep in this process until it has maxTrials, the grid is exhausted, the sweep is
   * stopped, or `trials` have run: each trial an experiment of the sweep's study, given to `objective`.
   * Every ask and tell is in the store: calling it again (after a crash, in another process, on another
   * day) goes on without repeating finished trials. Resolves when this call's trials have ended.
   */
  async optimize(objective: Objective, options?: OptimizeOptions): Promise<OptimizeResult> {
    assertOptionsObject('optimize', options);
    if (options) assertKnownOptions('optimize', options, ['parallel', 'trials', 'timeout']);
    checkObjective(objective);
    const record = this.record();
    const parallel = checkParallel('optimize', options?.parallel ?? record.parallel);
    const trials = checkTrials('optimize', options?.trials);
    const timeoutMs = checkTrialTimeout('optimize', options?.timeout);
    const port = storeSweepPort(this.#context.store, this.id);
    const channel = storeTrialChannel(this.#context.store, this.id);
    const worker: SweepWorkerContext = { ...this.#context, port, channel: async () => channel };
    const result = await optimizeSweep(port, objectiveRunner(worker, objective, timeoutMs), { parallel, trials });
    this.record();
    return result;
  }

  /**
   * Runs trials as launched runs of a command (`lablog sweep run`): each gets its params in $LABLOG_PARAMS
   * (and logged on its experiment), and its value is the last value of the sweep's metric it logged. The
   * pruner reads the metric as it is logged and cancels a run it prunes; a stopped trial's run is cancelled.
   * `timeout` is each run's. Resumable like optimize().
   */
  async run(launch: TrialLaunch & { parallel?: number; trials?: number }): Promise<OptimizeResult> {
    assertOptionsObject('run', launch);
    const { parallel: parallelOption, trials: trialsOption, ...rest } = launch;
    const parallel = checkParallel('run', parallelOption ?? this.record().parallel);
    const trials = checkTrials('run', trialsOption);
    const port = storeSweepPort(this.#context.store, this.id);
    const result = await optimizeSweep(port, commandRunner({ ...this.#context, port }, rest), { parallel, trials });
    this.record();
    return result;
  }
}

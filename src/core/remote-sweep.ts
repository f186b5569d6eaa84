// Remote sweep: a sweep kept on a team server, worked on from this machine — trials asked there (sampled and assigned atomically), run here as experiments of this store published live.

import type { MetricData } from '../model/series.js';
import type { SweepRecord, TrialRecord, TrialStatus } from '../model/sweep.js';
import { assertKnownOptions, assertOptionsObject } from '../model/validation.js';
import type { Experiment } from './experiment.js';
import type { RemoteSpec } from './publishing.js';
import type { LaunchOptions } from './run-options.js';
import type { Run } from './run.js';
import { commandRunner, type TrialLaunch } from './sweep-launch.js';
import {
  checkObjective,
  checkParallel,
  checkTrialFilter,
  checkTrialTimeout,
  checkTrials,
  type CreateSweepOptions,
} from './sweep-options.js';
import type { SweepPort } from './sweep-port.js';
import type { BestTrial, HistoryPoint } from './sweep-results.js';
import type { ParamImportance } from './param-importance.js';
import { objectiveRunner, optimizeSweep, type Objective, type OptimizeOptions, type OptimizeResult } from './sweep-worker.js';
import { portTrialChannel } from './trial-channel.js';

/**
 * A sweep as the server answers GET /api/v1/sweeps/:id, in one read: its record, its trials by number (without
 * their intermediate values) and its results, the numbers of sweep.best(), history() and importances().
 */
export interface RemoteSweepDetail {
  readonly sweep: SweepRecord;
  readonly trials: readonly Omit<TrialRecord, 'reports'>[];
  readonly best: BestTrial | null;
  readonly history: HistoryPoint[];
  readonly importances: ParamImportance[];
}

/** A team server's sweep routes, as the sync layer provides them (core never imports sync). */
export interface RemoteSweepApi {
  readonly url: string;
  create(options: CreateSweepOptions): Promise<SweepRecord>;
  /** By id, or by name in `project` (or in any of the key's projects when unique). */
  find(idOrName: string, project?: string): Promise<SweepRecord>;
  list(project?: string): Promise<SweepRecord[]>;
  port(sweepId: string): SweepPort;
  /** The sweep with its trials, best trial, history and importances. */
  detail(sweepId: string): Promise<RemoteSweepDetail>;
  stopTrial(sweepId: string, number: number): Promise<TrialRecord>;
  restartTrial(sweepId: string, number: number): Promise<TrialRecord>;
}

/** What a remote sweep needs from the local store its trials run in. */
export interface RemoteSweepContext {
  readonly api: RemoteSweepApi;
  readonly remote: RemoteSpec;
  createExperiment(options: { name: string; project: string; tags: string[]; remote: RemoteSpec }): Experiment;
  launch(options: LaunchOptions): Run;
  readMetric(experimentId: string, metric: string): MetricData;
  /** Publishes what the live publication of the experiment left (resolves even when it fails: `lablog sync` catches up). */
  publish(experimentId: string): Promise<void>;
}

/**
 * The server's port, with each trial's experiment published before its outcome is told: the live publication
 * may not have sent everything by the end of the trial (a close is bounded), and the server links a trial to
 * its experiment only once it has it. Publishing is exactly once, so what was sent live is not sent again.
 */
function publishingPort(port: SweepPort, context: RemoteSweepContext): SweepPort {
  const experiments = new Map<number, string>();
  return {
    ...port,
    setTrialExperiment: async (number, experimentId) => {
      experiments.set(number, experimentId);
      await port.setTrialExperiment(number, experimentId);
    },
    finish: async (number, outcome) => {
      const experimentId = experiments.get(number);
      experiments.delete(number);
      if (experimentId !== undefined) await context.publish(experimentId);
      return port.finish(number, outcome);
    },
  };
}

export class RemoteSweep {
  readonly id: string;
  readonly name: string;
  readonly project: string;
  readonly #context: RemoteSweepContext;

  /** @internal Use store.remoteSweeps(). */
  constructor(context: RemoteSweepContext, record: SweepRecord) {
    this.#context = context;
    this.id = record.id;
    this.name = record.name;
    this.project = record.project;
  }

  /** The sweep as the server holds it now. */
  record(): Promise<SweepRecord> {
    return this.#context.api.port(this.id).sweep();
  }

  /** The trials, by number (only those with the given statuses). */
  async trials(options?: { status?: TrialStatus | TrialStatus[] }): Promise<TrialRecord[]> {
    const wanted = checkTrialFilter(options);
    const trials = await this.#context.api.port(this.id).trials();
    return wanted === undefined ? trials : trials.filter((t) => wanted.includes(t.status));
  }

  /** The sweep, its trials and its results in one read of the server: the best trial, the history and the importances. */
  detail(): Promise<RemoteSweepDetail> {
    return this.#context.api.detail(this.id);
  }

  /** The best completed trial (as sweep.best()), null before one completed. */
  async best(): Promise<BestTrial | null> {
    return (await this.detail()).best;
  }

  /** The completed trials' values by number with the best so far (as sweep.history()). */
  async history(): Promise<HistoryPoint[]> {
    return (await this.detail()).history;
  }

  /** Stops a pending or running trial; the worker running it cancels its run at its next look. */
  stopTrial(number: number): Promise<TrialRecord> {
    return this.#context.api.stopTrial(this.id, number);
  }

  /** Queues an ended trial to run again with the same params: the returned re-run goes to the next worker that asks. */
  restartTrial(number: number): Promise<TrialRecord> {
    return this.#context.api.restartTrial(this.id, number);
  }

  /** Stops the sweep on the server: no worker gets a new trial (trials running now finish). */
  async stop(): Promise<void> {
    await this.#context.api.port(this.id).setStatus('stopped');
  }

  /**
   * Runs trials of the server's sweep in this process, as sweep.optimize() does on a local one: each trial is
   * asked from the server, runs here as an experiment of this store published live to the server (where it
   * joins the sweep's study), and is told back. Workers on any number of machines share the sweep.
   */
  async optimize(objective: Objective, options?: OptimizeOptions): Promise<OptimizeResult> {
    assertOptionsObject('optimize', options);
    if (options) assertKnownOptions('optimize', options, ['parallel', 'trials', 'timeout']);
    checkObjective(objective);
    const port = publishingPort(this.#context.api.port(this.id), this.#context);
    const record = await port.sweep();
    const parallel = checkParallel('optimize', options?.parallel ?? record.parallel);
    const trials = checkTrials('optimize', options?.trials);
    const timeoutMs = checkTrialTimeout('optimize', options?.timeout);
    const { remote } = this.#context;
    const runner = objectiveRunner(
      {
        port,
        channel: async () => portTrialChannel(port, await port.trials()),
        createTrialExperiment: (sweep, trial) => {
          const experiment = this.#context.createExperiment({
            name: `${sweep.name}-${trial.number}`,
            project: sweep.project,
            tags: ['trial'],
            remote,
          });
          try {
            experiment.logParams(trial.params);
          } catch (error) {
            void experiment.close({ status: 'failed' });
            throw error;
          }
          return experiment;
        },
      },
      objective,
      timeoutMs,
    );
    return optimizeSweep(port, runner, { parallel, trials });
  }

  /** Runs trials as launched runs of a command (`lablog sweep run --remote`), each published live to the server. */
  async run(launch: TrialLaunch & { parallel?: number; trials?: number }): Promise<OptimizeResult> {
    assertOptionsObject('run', launch);
    const { parallel: parallelOption, trials: trialsOption, ...rest } = launch;
    const port = publishingPort(this.#context.api.port(this.id), this.#context);
    const parallel = checkParallel('run', parallelOption ?? (await port.sweep()).parallel);
    const trials = checkTrials('run', trialsOption);
    const { remote } = this.#context;
    const runner = commandRunner(
      {
        port,
        launch: (options) => this.#context.launch({ ...options, remote }),
        // The server adds the run's experiment to the study once it has it (the port links it).
        joinStudy: () => undefined,
        readMetric: (experimentId, metric) => this.#context.readMetric(experimentId, metric),
      },
      rest,
    );
    return optimizeSweep(port, runner, { parallel, trials });
  }
}

/** The sweeps of one team server, from a store: create one there, find one, list them; each a RemoteSweep to work on. */
export class RemoteSweeps {
  readonly #api: Promise<RemoteSweepApi>;
  readonly #context: Omit<RemoteSweepContext, 'api'>;

  /** @internal Use store.remoteSweeps(). */
  constructor(api: Promise<RemoteSweepApi>, context: Omit<RemoteSweepContext, 'api'>) {
    this.#api = api;
    this.#context = context;
  }

  async #sweep(record: (api: RemoteSweepApi) => Promise<SweepRecord>): Promise<RemoteSweep> {
    const api = await this.#api;
    return new RemoteSweep({ ...this.#context, api }, await record(api));
  }

  /** Creates the sweep on the server (the options of store.createSweep; loadIfExists resumes one of the same search). */
  create(options: CreateSweepOptions): Promise<RemoteSweep> {
    assertOptionsObject('createSweep', options);
    return this.#sweep((api) => api.create(options));
  }

  /** A sweep of the server by id or name (in `project`, or in any of the key's projects when unique). */
  get(idOrName: string, options?: { project?: string }): Promise<RemoteSweep> {
    assertOptionsObject('getSweep', options);
    if (options) assertKnownOptions('getSweep', options, ['project']);
    return this.#sweep((api) => api.find(idOrName, options?.project));
  }

  /** The server's sweeps the key can see, newest first (in `project`, or all). */
  async list(options?: { project?: string }): Promise<RemoteSweep[]> {
    assertOptionsObject('listSweeps', options);
    if (options) assertKnownOptions('listSweeps', options, ['project']);
    const api = await this.#api;
    return (await api.list(options?.project)).map((r) => new RemoteSweep({ ...this.#context, api }, r));
  }
}

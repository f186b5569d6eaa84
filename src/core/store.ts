// Store: where experiments live; creates, finds and lists experiments over a StoreBackend.

import { EXIT_MAX_WAIT_MS } from './exit-hooks.js';
import { isUuid } from '../model/ids.js';
import { LablogError, LablogWarning, describeValue } from '../model/errors.js';
import { ERROR_HANDLER_TYPES, ErrorHandlerType } from './error-handler.js';
import { resolveLimits, type Limits } from '../model/limits.js';
import { assertKnownOptions, assertName, assertOptionsObject, characterLength, checkText } from '../model/validation.js';
import { isCrashed, THIS_HOST } from './liveness.js';
import { Experiment, newExperimentId } from './experiment.js';
import {
  EXPERIMENT_SORT_FIELDS,
  EXPERIMENT_STATUSES,
  type ExperimentQuery,
  type ExperimentRecord,
  type ExperimentStatus,
} from '../model/experiment.js';
import { type StoreBackend } from '../store/backend.js';
import { collectArtifactBlobs, type ArtifactGcOptions, type ArtifactGcResult } from './artifact-gc.js';
import { resolveRemote, type Publishing, type PublishOptions, type PublishReport, type RemoteSpec } from './publishing.js';
import { Study, type StudyContext } from './study.js';
import { studyRecordFrom, type CreateStudyOptions } from './study-rules.js';
import {
  DEFAULT_STUDY_PAGE,
  MAX_STUDY_PAGE,
  STUDY_SORT_FIELDS,
  STUDY_STATUSES,
  studyPageProblem,
  type StudyQuery,
  type StudyRecord,
  type StudySortField,
  type StudyStatus,
} from '../model/study.js';
import { dedupedName } from '../model/experiment-names.js';
import { claimLaunchedExperiment } from './run-attach.js';
import { findRun, launchRun, listRuns, type ListRunsOptions, type Run, type RunContext } from './run.js';
import { basename } from 'node:path';
import type { LaunchOptions } from './run-options.js';
import { GridLaunch, resolveGrid, type LaunchGridOptions } from './run-grid.js';
import { Sweep, type SweepContext } from './sweep.js';
import { RemoteSweeps } from './remote-sweep.js';
import { resumableSweep, sweepRecordsFrom, type CreateSweepOptions } from './sweep-options.js';
import { MAX_SWEEP_EXPERIMENTS } from '../model/sweep.js';
import type { RunRecord } from '../model/run.js';
import { EnvVars } from './env-vars.js';
import { fetchRemoteEnv } from './remote-env.js';
import { openKeyFile, secretKeyPath } from './secret-key-file.js';
import type { SecretBox } from './secret-box.js';
import { ModelRegistry, type ModelVersion, type ModelVersionDetail, type RegisterModelOptions } from './model-registry.js';
import type { AliasMove, ModelRecord } from '../model/artifact.js';

import { DEFAULT_PROJECT } from './project.js';
export { DEFAULT_PROJECT };
export type { CreateStudyOptions };

export interface CreateExperimentOptions {
  name: string;
  project?: string;
  description?: string;
  tags?: string[];
  errorHandler?: ErrorHandlerType;
  limits?: Partial<Limits>;
  onWarning?: (warning: LablogWarning) => void;
  /**
   * Publish to a lablog server in the background while the run logs (default: $LABLOG_REMOTE with
   * $LABLOG_API_KEY, when set); false turns that off.
   */
  remote?: RemoteSpec | false;
  /** A study (or its id or name) the experiment joins at creation. */
  study?: Study | string;
}

const CREATE_OPTIONS = ['name', 'project', 'description', 'tags', 'errorHandler', 'limits', 'onWarning', 'remote', 'study'] as const;

export interface ListStudiesOptions {
  project?: string;
  status?: StudyStatus;
  tags?: string[];
  /** 1 to 100, default 50. */
  limit?: number;
  offset?: number;
  sort?: StudySortField;
  order?: 'asc' | 'desc';
}

export interface StorePublishOptions extends PublishOptions {
  /** Ids or names of the experiments to publish (default: all of them). */
  experiments?: string[];
}

export interface ListExperimentsOptions {
  project?: string;
  status?: ExperimentStatus | ExperimentStatus[];
  tags?: string[];
  limit?: number;
  offset?: number;
  sort?: (typeof EXPERIMENT_SORT_FIELDS)[number];
  order?: 'asc' | 'desc';
}

const LIST_OPTIONS = ['project', 'status', 'tags', 'limit', 'offset', 'sort', 'order'] as const;

export interface GetExperimentOptions {
  project?: string;
}

/** How long store.close() waits for the writes, status and fsync of experiments whose close() ran out of time (as long as the exit hook would). */
export const STORE_CLOSE_WAIT_MS = EXIT_MAX_WAIT_MS;

export class Store {
  readonly #backend: StoreBackend;
  /** Experiments this Store opened for logging, so getExperiment returns the live object. */
  readonly #open = new Map<string, Experiment>();
  #closed = false;
  readonly #onOpened = (experiment: Experiment) => void this.#open.set(experiment.id, experiment);
  readonly #onFinished = (experiment: Experiment) => {
    this.#open.delete(experiment.id);
    if (experiment.closePending) this.#closePending.add(experiment);
    for (const artifact of experiment.pendingArtifacts) this.#artifactsPending.add(artifact);
  };
  /** Artifacts of closed experiments still being copied: close() waits for them before the connection goes. */
  readonly #artifactsPending = new Set<Promise<unknown>>();
  /** Experiments whose close() ran out of time: close() finishes them before the connection goes. */
  readonly #closePending = new Set<Experiment>();

  /** Use openStore(). (Private, so the published types offer no constructor; `Store.over` is the internal way in.) */
  private constructor(backend: StoreBackend, publishing?: Publishing) {
    this.#backend = backend;
    this.#publishing = publishing;
  }

  /** @internal The Store over `backend`: what openStore() returns. */
  static over(backend: StoreBackend, publishing?: Publishing): Store {
    return new Store(backend, publishing);
  }

  readonly #publishing: Publishing | undefined;

  /** Publishes these experiments (all when undefined) with validated options. */
  readonly #publish = async (ids: readonly string[] | undefined, options: PublishOptions | undefined): Promise<PublishReport> => {
    assertOptionsObject('publish', options);
    if (options) assertKnownOptions('publish', options, ['remote', 'apiKey', 'version', 'experiments']);
    const remote = resolveRemote('publish', options?.remote, options?.apiKey);
    if (remote === undefined) {
      throw new LablogError('INVALID_OPTION', 'publish: pass { remote, apiKey } or set LABLOG_REMOTE and LABLOG_API_KEY', {
        option: 'remote',
      });
    }
    if (options?.version !== undefined) assertName('version', options.version, resolveLimits(undefined).maxNameLength);
    if (this.#publishing === undefined) throw new LablogError('INVALID_OPTION', 'publishing is not available for this store', {});
    return this.#publishing.publish(this.path, remote, ids, options?.version);
  };

  /**
   * Publishes experiments to a remote lablog server: for each, everything not yet acknowledged, exactly
   * once. Problems with single items are in the report; the rest is published.
   */
  async publish(options?: StorePublishOptions): Promise<PublishReport> {
    this.#assertOpen();
    const ids = options?.experiments?.map((idOrName) => this.getExperiment(idOrName).id);
    await Promise.all([...this.#open.values()].filter((e) => ids === undefined || ids.includes(e.id)).map((e) => e.flush()));
    return this.#publish(ids, options);
  }

  /** The store's location (the SQLite file path). */
  get path(): string {
    return this.#backend.location;
  }

  /**
   * Starts an experiment. A name already used in the project gets a suffix (`name-2`, `name-3`, …), so
   * the same script can run many times. Bad options throw whatever the error handler.
   */
  createExperiment(options: CreateExperimentOptions): Experiment {
    this.#assertOpen();
    assertOptionsObject('createExperiment', options);
    if (options === undefined) {
      throw new LablogError('INVALID_OPTION', 'createExperiment: options { name } are required', { option: 'name' });
    }
    assertKnownOptions('createExperiment', options, CREATE_OPTIONS);
    const limits = resolveLimits(options.limits);
    assertName('experiment name', options.name, limits.maxNameLength);
    const project = options.project ?? DEFAULT_PROJECT;
    assertName('project name', project, limits.maxNameLength);
    const description = options.description ?? null;
    if (description !== null) {
      if (typeof description !== 'string') {
        throw new LablogError('INVALID_OPTION', `createExperiment: description must be a string, got ${describeValue(description)}`, {
          option: 'description',
        });
      }
      const length = characterLength(description);
      if (length > limits.maxDescriptionLength) {
        throw new LablogError(
          'INVALID_OPTION',
          `createExperiment: description is ${length} characters; the limit is ${limits.maxDescriptionLength} (maxDescriptionLength)`,
          { option: 'description', limit: limits.maxDescriptionLength, actual: length },
        );
      }
      const textError = checkText('createExperiment: description', description, limits.maxDescriptionLength, 'INVALID_OPTION', {
        option: 'description',
      });
      if (textError) throw textError;
    }
    const tags = validateTags(options.tags, limits);
    const errorHandler = options.errorHandler ?? ErrorHandlerType.WARN;
    if (!ERROR_HANDLER_TYPES.includes(errorHandler)) {
      throw new LablogError(
        'INVALID_OPTION',
        `createExperiment: errorHandler must be one of ${ERROR_HANDLER_TYPES.join(', ')}, got ${describeValue(errorHandler)}`,
        { option: 'errorHandler' },
      );
    }
    if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
      throw new LablogError('INVALID_OPTION', `createExperiment: onWarning must be a function, got ${describeValue(options.onWarning)}`, {
        option: 'onWarning',
      });
    }
    const remote =
      options.remote === false
        ? undefined
        : options.remote !== undefined && (typeof options.remote !== 'object' || options.remote === null)
          ? invalidRemote(options.remote)
          : resolveRemote('createExperiment', options.remote?.url, options.remote?.apiKey);
    const study =
      options.study === undefined
        ? undefined
        : typeof options.study === 'string'
          ? this.getStudy(options.study, { project })
          : options.study;
    if (study !== undefined && !(study instanceof Study)) {
      throw new LablogError(
        'INVALID_OPTION',
        `createExperiment: study must be a Study, an id or a name, got ${describeValue(options.study)}`,
        { option: 'study' },
      );
    }
    const base = options.name;
    // Inside a run launched by lablog: the first experiment is the run's own (its tags merge in).
    const launched = claimLaunchedExperiment(this.path);
    const attached = launched === undefined ? undefined : this.#backend.runs().attachExperiment(launched, tags, Date.now());
    const record =
      attached ??
      this.#backend.createExperiment(
        {
          id: newExperimentId(),
          project,
          description,
          tags,
          createdAt: Date.now(),
          pid: process.pid,
          hostname: THIS_HOST,
        },
        (attempt) => dedupedName(base, attempt, limits.maxNameLength),
      );
    const experiment = Experiment.from({
      backend: this.#backend,
      record,
      limits,
      errorHandler,
      onWarning: options.onWarning,
      writable: true,
      onOpened: this.#onOpened,
      onFinished: this.#onFinished,
      publish: this.#publish,
    });
    if (study !== undefined) {
      try {
        study.addExperiment(experiment);
      } catch (error) {
        void experiment.close({ status: 'failed' });
        throw error;
      }
    }
    if (remote !== undefined && this.#publishing !== undefined) {
      experiment.attachLivePublication(
        this.#publishing.startLive(this.path, experiment.id, remote, (problem) => experiment.warnPublishProblem(problem)),
      );
    }
    return experiment;
  }

  /**
   * An experiment by id, or by name (in `project`, or in any project when the name is unique). Throws
   * EXPERIMENT_NOT_FOUND, or AMBIGUOUS_NAME when several projects hold that name.
   */
  getExperiment(idOrName: string, options?: GetExperimentOptions): Experiment {
    this.#assertOpen();
    assertOptionsObject('getExperiment', options);
    if (options) assertKnownOptions('getExperiment', options, ['project']);
    if (typeof idOrName !== 'string' || idOrName.length === 0) {
      throw new LablogError('INVALID_OPTION', `getExperiment: expected an id or a name, got ${describeValue(idOrName)}`, {});
    }
    const live = this.#open.get(idOrName);
    if (live) return live;
    let record = isUuid(idOrName) ? this.#backend.getExperiment(idOrName) : undefined;
    if (record === undefined) {
      const found = this.#backend.findExperiments(idOrName, options?.project);
      if (found.length > 1) {
        throw new LablogError(
          'AMBIGUOUS_NAME',
          `experiment name '${idOrName}' exists in projects ${found.map((r) => r.project).join(', ')}; pass { project }`,
          { key: idOrName, projects: found.map((r) => r.project) },
        );
      }
      record = found[0];
    }
    if (record === undefined) {
      const where = options?.project ? ` in project '${options.project}'` : '';
      throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id or name '${idOrName}'${where} in ${this.path}`, {
        key: idOrName,
      });
    }
    const open = this.#open.get(record.id);
    if (open) return open;
    return this.#readHandle(this.#reconcile([record])[0]!);
  }

  /** Experiments matching the query, newest first by default. Running experiments whose process died show as 'crashed'. */
  listExperiments(options?: ListExperimentsOptions): Experiment[] {
    this.#assertOpen();
    const query = toQuery(options);
    const records = this.#reconcile(this.#backend.listExperiments(query));
    return records.map((record) => this.#open.get(record.id) ?? this.#readHandle(record));
  }

  /** How many experiments match the query (ignores limit and offset). */
  countExperiments(options?: ListExperimentsOptions): number {
    this.#assertOpen();
    return this.#backend.countExperiments(toQuery(options));
  }

  // ---- runs ------------------------------------------------------------------------------------------

  /**
   * Launches a command as a run: an experiment (params logged first) whose child process this process
   * supervises (output captured, timeout, cancel, retries). Returns at once; `await run.wait()` for the end.
   */
  launch(options: LaunchOptions): Run {
    this.#assertOpen();
    const run = launchRun(this.#runContext, options);
    this.#supervised.add(run);
    void run.wait().finally(() => this.#supervised.delete(run));
    return run;
  }

  /**
   * Launches every combination of `grid` as a run of a new study (template grid_search when `metric` is
   * given), at most `parallel` at a time. Returns at once; `await grid.wait()` for every run's end.
   */
  launchGrid(options: LaunchGridOptions): GridLaunch {
    this.#assertOpen();
    const resolved = resolveGrid(options);
    const baseName = options.name ?? basename(options.command);
    const searchSpace = Object.fromEntries(Object.entries(options.grid).map(([k, values]) => [k, [...values]]));
    const study = this.createStudy({
      name: options.study ?? baseName,
      ...(options.project !== undefined ? { project: options.project } : {}),
      hypothesis: `grid over ${Object.keys(options.grid).join(', ')}`,
      ...(resolved.metric !== undefined
        ? {
            template: 'grid_search' as const,
            templateParameters: { search_space: searchSpace, metric: resolved.metric, objective: resolved.objective },
          }
        : {}),
      metadata: { command: options.command, args: options.args ?? [], search_space: searchSpace },
    });
    return new GridLaunch({ launch: (launch) => this.launch(launch) }, study, resolved, baseName);
  }

  /** Runs this store supervises that have not ended: close() stops them first. */
  readonly #supervised = new Set<Run>();

  /** A run by id or name (supervised here or by another process). RUN_NOT_FOUND or AMBIGUOUS_NAME otherwise. */
  getRun(idOrName: string, options?: { project?: string }): Run {
    this.#assertOpen();
    assertOptionsObject('getRun', options);
    if (options) assertKnownOptions('getRun', options, ['project']);
    return findRun(this.#runContext, idOrName, options?.project);
  }

  /** Launch records, newest first. */
  listRuns(options?: ListRunsOptions): RunRecord[] {
    this.#assertOpen();
    return listRuns(this.#runContext, options);
  }

  get #runContext(): RunContext {
    return {
      backend: this.#backend,
      path: this.path,
      onWarning: (warning) => process.emitWarning(warning),
      environment: async (project, experimentId, remote) => {
        // The team server's project vars (the launch's remote: its option, else $LABLOG_REMOTE with
        // $LABLOG_API_KEY; none with remote: false) sit below the local ones.
        const local = this.#env.forRun(project, experimentId);
        if (remote === undefined) return local;
        const server = await fetchRemoteEnv(remote, project);
        return { env: { ...server.env, ...local.env }, secrets: [...server.secrets, ...local.secrets] };
      },
      ...(this.#publishing !== undefined ? { publishing: this.#publishing } : {}),
    };
  }

  // ---- env vars --------------------------------------------------------------------------------------

  #secretBox: SecretBox | undefined;

  readonly #env: EnvVars = new EnvVars({
    env: () => {
      this.#assertOpen();
      return this.#backend.env();
    },
    experiment: (idOrName, project) => {
      const experiment = this.getExperiment(idOrName, project === undefined ? undefined : { project });
      return { id: experiment.id, project: experiment.project };
    },
    // The key file ($LABLOG_SECRET_KEY_FILE, else ~/.config/lablog/secret.key), read once it is needed.
    secretBox: (create) => (this.#secretBox ??= openKeyFile(secretKeyPath(), create)),
  });

  /**
   * The env vars of this store's projects and experiments, given to launched runs (`store.env.set`,
   * `list`, `delete`); secrets are sealed with the key file and never shown again.
   */
  get env(): EnvVars {
    return this.#env;
  }

  // ---- models ----------------------------------------------------------------------------------------

  #modelRegistry: ModelRegistry | undefined;

  get #models(): ModelRegistry {
    return (this.#modelRegistry ??= new ModelRegistry({
      backend: this.#backend,
      // The artifact capability of the store, when it has one.
      artifacts: () => this.#backend.artifacts(),
      experiment: (idOrName) => this.getExperiment(idOrName),
    }));
  }

  /**
   * Registers an experiment's artifact as the next version (1, 2, …) of the model `name` (created on first
   * use, in the experiment's project unless `project` is given), pointing `aliases` at it. MODEL_NOT_FOUND,
   * ARTIFACT_NOT_FOUND, LIMIT_EXCEEDED (MAX_MODEL_VERSIONS, MAX_MODEL_ALIASES), INVALID_NAME.
   */
  registerModel(name: string, options: RegisterModelOptions): ModelVersion {
    this.#assertOpen();
    return this.#models.register(name, options);
  }

  /**
   * The version `ref` names: `name` (the latest), `name@alias` or `name@3`, with its lineage (the experiment's
   * params, last metric values, datasets and study, and the artifact). The model is looked up in `project`,
   * or in the only project that has that name (AMBIGUOUS_NAME otherwise). MODEL_NOT_FOUND for no such model,
   * alias or version.
   */
  getModel(ref: string, options?: { project?: string }): ModelVersionDetail {
    this.#assertOpen();
    assertOptionsObject('getModel', options);
    if (options) assertKnownOptions('getModel', options, ['project']);
    return this.#models.get(ref, options?.project);
  }

  /** Points `alias` of model `name` at `version`; null removes it. Each move is recorded (see modelAliasMoves). */
  setAlias(name: string, alias: string, version: number | null, options?: { project?: string }): void {
    this.#assertOpen();
    assertOptionsObject('setAlias', options);
    if (options) assertKnownOptions('setAlias', options, ['project']);
    this.#models.setAlias(name, alias, version, options?.project);
  }

  /** Registered models by name (in `project`, or in every project). */
  listModels(options?: { project?: string }): ModelRecord[] {
    this.#assertOpen();
    assertOptionsObject('listModels', options);
    if (options) assertKnownOptions('listModels', options, ['project']);
    return this.#models.list(options?.project);
  }

  /** The versions of model `name`, oldest first, each with the aliases pointing at it. */
  listModelVersions(name: string, options?: { project?: string }): ModelVersion[] {
    this.#assertOpen();
    assertOptionsObject('listModelVersions', options);
    if (options) assertKnownOptions('listModelVersions', options, ['project']);
    return this.#models.versions(name, options?.project);
  }

  /** Every move of model `name`'s aliases, oldest first (from null: created; to null: removed). */
  modelAliasMoves(name: string, options?: { project?: string }): AliasMove[] {
    this.#assertOpen();
    assertOptionsObject('modelAliasMoves', options);
    if (options) assertKnownOptions('modelAliasMoves', options, ['project']);
    return this.#models.aliasMoves(name, options?.project);
  }

  // ---- sweeps ----------------------------------------------------------------------------------------

  /**
   * Starts a hyperparameter sweep: a study whose experiments (trials) take their params from a sampler
   * (grid, random, TPE) over a search space, judged on `metric`, with an optional pruner. The space and
   * every option are checked here; run it with `sweep.optimize(objective)` or `lablog sweep run`.
   */
  createSweep(options: CreateSweepOptions): Sweep {
    this.#assertOpen();
    const { study, sweep } = sweepRecordsFrom(options, Date.now());
    if (options.loadIfExists === true) {
      const existing = this.#backend
        .sweeps()
        .listSweeps(study.project)
        .find((s) => s.name === study.name);
      if (existing !== undefined) return new Sweep(this.#sweepContext, resumableSweep('createSweep', existing, sweep));
    }
    return new Sweep(this.#sweepContext, this.#backend.sweeps().createSweep(study, sweep));
  }

  /** A sweep by id or name (in `project`, or in any project when unique). SWEEP_NOT_FOUND or AMBIGUOUS_NAME otherwise. */
  getSweep(idOrName: string, options?: { project?: string }): Sweep {
    this.#assertOpen();
    assertOptionsObject('getSweep', options);
    if (options) assertKnownOptions('getSweep', options, ['project']);
    const sweeps = this.#backend.sweeps();
    let record = isUuid(idOrName) ? sweeps.getSweep(idOrName) : undefined;
    if (record === undefined) {
      const found = sweeps.listSweeps(options?.project).filter((s) => s.name === idOrName);
      if (found.length > 1) {
        throw new LablogError(
          'AMBIGUOUS_NAME',
          `sweep name '${idOrName}' exists in projects ${found.map((r) => r.project).join(', ')}; pass { project }`,
          {
            key: idOrName,
          },
        );
      }
      record = found[0];
    }
    if (record === undefined) {
      throw new LablogError('SWEEP_NOT_FOUND', `no sweep with id or name '${idOrName}' in ${this.path}`, { key: idOrName });
    }
    return new Sweep(this.#sweepContext, record);
  }

  /** Sweeps, newest first (in `project`, or all). */
  listSweeps(options?: { project?: string }): Sweep[] {
    this.#assertOpen();
    assertOptionsObject('listSweeps', options);
    if (options) assertKnownOptions('listSweeps', options, ['project']);
    return this.#backend
      .sweeps()
      .listSweeps(options?.project)
      .map((r) => new Sweep(this.#sweepContext, r));
  }

  get #sweepContext(): SweepContext {
    return {
      store: this.#backend.sweeps(),
      study: (id) => this.getStudy(id),
      launch: (options) => this.launch(options),
      joinStudy: (sweepId, experimentId) => this.#joinSweepStudy(sweepId, experimentId),
      readMetric: (experimentId, metric) =>
        this.#backend.readMetric(experimentId, metric) ?? {
          steps: new Float64Array(0),
          values: new Float64Array(0),
          timestamps: new Float64Array(0),
        },
      createTrialExperiment: (sweep, trial) => {
        const experiment = this.createExperiment({ name: `${sweep.name}-${trial.number}`, project: sweep.project, tags: ['trial'] });
        try {
          this.#joinSweepStudy(sweep.id, experiment.id);
          experiment.logParams(trial.params);
        } catch (error) {
          void experiment.close({ status: 'failed' });
          throw error;
        }
        return experiment;
      },
    };
  }

  /**
   * The sweeps of a team server (`remote` and `apiKey`, else $LABLOG_REMOTE and $LABLOG_API_KEY): create one
   * there, or find one, and run its trials from here — `await (await store.remoteSweeps().get('mlp')).optimize(fn)`.
   * Trials are assigned by the server (atomically, whatever the number of workers on any machines) and run
   * as experiments of this store, published live to it.
   */
  remoteSweeps(options?: { remote?: string; apiKey?: string }): RemoteSweeps {
    this.#assertOpen();
    assertOptionsObject('remoteSweeps', options);
    if (options) assertKnownOptions('remoteSweeps', options, ['remote', 'apiKey']);
    const remote = resolveRemote('remoteSweeps', options?.remote, options?.apiKey);
    if (remote === undefined) {
      throw new LablogError('INVALID_OPTION', 'remoteSweeps: pass { remote, apiKey } or set LABLOG_REMOTE and LABLOG_API_KEY', {
        option: 'remote',
      });
    }
    if (this.#publishing === undefined) throw new LablogError('INVALID_OPTION', 'remote sweeps are not available for this store', {});
    return new RemoteSweeps(this.#publishing.sweeps(remote), {
      remote,
      publish: async (experimentId) => {
        const report = await this.publish({ remote: remote.url, apiKey: remote.apiKey, experiments: [experimentId] }).catch(
          (error: Error) => error,
        );
        const problem = report instanceof Error ? report.message : report.problems[0]?.message;
        if (problem !== undefined) {
          process.emitWarning(
            new LablogWarning('REMOTE_ERROR', `publishing trial experiment ${experimentId}: ${problem} (lablog sync sends it later)`, {}),
          );
        }
      },
      createExperiment: (options) => this.createExperiment(options),
      launch: (options) => this.launch(options),
      readMetric: (experimentId, metric) =>
        this.#backend.readMetric(experimentId, metric) ?? {
          steps: new Float64Array(0),
          values: new Float64Array(0),
          timestamps: new Float64Array(0),
        },
    });
  }

  /** A trial's experiment joins its sweep's study, which holds up to MAX_SWEEP_EXPERIMENTS (a plain study: MAX_STUDY_EXPERIMENTS). */
  #joinSweepStudy(sweepId: string, experimentId: string): void {
    this.#backend.studies().addMember(sweepId, { experimentId, notes: null, tags: [], addedAt: Date.now() }, MAX_SWEEP_EXPERIMENTS);
  }

  // ---- studies ---------------------------------------------------------------------------------------

  /** Starts a study: a question (hypothesis) that a group of experiments answers. */
  createStudy(options: CreateStudyOptions): Study {
    this.#assertOpen();
    const { record, baselineExperiment } = studyRecordFrom(options, Date.now());
    if (baselineExperiment !== undefined) {
      return this.#createStudy({
        ...record,
        baseline: { experimentId: this.getExperiment(baselineExperiment, { project: record.project }).id },
      });
    }
    return this.#createStudy(record);
  }

  /** A study by id or name (in `project`, or in any project when unique). STUDY_NOT_FOUND or AMBIGUOUS_NAME otherwise. */
  getStudy(idOrName: string, options?: { project?: string }): Study {
    this.#assertOpen();
    assertOptionsObject('getStudy', options);
    if (options) assertKnownOptions('getStudy', options, ['project']);
    if (typeof idOrName !== 'string' || idOrName.length === 0) {
      throw new LablogError('INVALID_OPTION', `getStudy: expected an id or a name, got ${describeValue(idOrName)}`, {});
    }
    const studies = this.#backend.studies();
    let record = isUuid(idOrName) ? studies.getStudy(idOrName) : undefined;
    if (record === undefined) {
      const found = studies.findStudies(idOrName, options?.project);
      if (found.length > 1) {
        throw new LablogError(
          'AMBIGUOUS_NAME',
          `study name '${idOrName}' exists in projects ${found.map((r) => r.project).join(', ')}; pass { project }`,
          {
            key: idOrName,
          },
        );
      }
      record = found[0];
    }
    if (record === undefined)
      throw new LablogError('STUDY_NOT_FOUND', `no study with id or name '${idOrName}' in ${this.path}`, { key: idOrName });
    return Study.from(this.#studyContext, record);
  }

  /** Studies matching the query, newest first by default; limit 1–100 (default 50). */
  listStudies(options?: ListStudiesOptions): Study[] {
    this.#assertOpen();
    const query = toStudyQuery(options);
    return this.#backend
      .studies()
      .listStudies(query)
      .map((r) => Study.from(this.#studyContext, r));
  }

  /** How many studies match (ignores limit and offset). */
  countStudies(options?: ListStudiesOptions): number {
    this.#assertOpen();
    const { project, status, tags } = toStudyQuery(options);
    return this.#backend.studies().countStudies({
      ...(project !== undefined ? { project } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(tags ? { tags } : {}),
    });
  }

  readonly #studyContext: StudyContext = {
    studies: () => this.#backend.studies(),
    experiment: (idOrName, project) => this.getExperiment(idOrName, { project }),
    create: (record) => this.#createStudy(record),
    dropArtifacts: (ids) => this.#backend.studies().dropArtifacts(ids),
    copyExperiment: (id, now) => {
      const source = this.#backend.getExperiment(id);
      if (source === undefined) throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id ${id}`, { id });
      const limits = resolveLimits(undefined);
      return this.#backend.copyExperiment(id, newExperimentId(), (attempt) => dedupedName(source.name, attempt, limits.maxNameLength), now)
        .id;
    },
  };

  #createStudy(record: StudyRecord): Study {
    this.#backend.studies().createStudy(record);
    return Study.from(this.#studyContext, record);
  }

  /**
   * Removes the artifact blobs no artifact references (`lablog gc`), except those stored less than
   * ARTIFACT_GC_GRACE_MS ago (a write that stored its bytes but has not committed its row yet).
   */
  collectArtifactBlobs(options?: ArtifactGcOptions): Promise<ArtifactGcResult> {
    this.#assertOpen();
    return collectArtifactBlobs(this.#backend.artifacts(), this.#backend.artifactBlobs(), options);
  }

  /** Closes every experiment this Store opened (status 'completed'), then the store itself. */
  /**
   * Stops the runs it supervises, closes the experiments still open, finishes any whose close() ran out of
   * time (within STORE_CLOSE_WAIT_MS), then the store's connection.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    // The runs this store supervises are cancelled (SIGTERM, SIGKILL after their grace period) and end first.
    await Promise.allSettled(
      [...this.#supervised].map((run) => {
        try {
          run.cancel();
        } catch {
          // Ended meanwhile.
        }
        return run.wait();
      }),
    );
    await Promise.allSettled([...this.#open.values()].map((e) => e.close()));
    // A close() that ran out of time (a slow disk, a loaded machine) left its status to record: do it now,
    // while the connection is open; closing it first would leave the run 'crashed' with all its data written.
    const pending = [...this.#closePending];
    this.#closePending.clear();
    await Promise.allSettled(pending.map((e) => e.finishPendingClose(STORE_CLOSE_WAIT_MS)));
    if (this.#artifactsPending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.#artifactsPending]),
        new Promise((resolve) => (timer = setTimeout(resolve, STORE_CLOSE_WAIT_MS))),
      ]);
      clearTimeout(timer);
      this.#artifactsPending.clear();
    }
    this.#closed = true;
    this.#backend.close();
  }

  #readHandle(record: ExperimentRecord): Experiment {
    return Experiment.from({
      backend: this.#backend,
      record,
      limits: resolveLimits(undefined),
      errorHandler: ErrorHandlerType.WARN,
      onWarning: undefined,
      writable: false,
      onOpened: this.#onOpened,
      onFinished: this.#onFinished,
      publish: this.#publish,
    });
  }

  /** Records as 'crashed' the running experiments whose process is gone, and returns the records as now stored. */
  #reconcile(records: ExperimentRecord[]): ExperimentRecord[] {
    const now = Date.now();
    return records.map((record) => {
      if (this.#open.has(record.id) || !isCrashed(record, now)) return record;
      this.#backend.setStatus(record.id, 'crashed', null, now);
      return { ...record, status: 'crashed' as const };
    });
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new LablogError('STORAGE_ERROR', `the store at ${this.path} is closed`, {
        driver: 'sqlite',
        driverCode: null,
        location: this.path,
      });
  }
}

function toStudyQuery(options: ListStudiesOptions | undefined): StudyQuery {
  assertOptionsObject('listStudies', options);
  if (options) assertKnownOptions('listStudies', options, ['project', 'status', 'tags', 'limit', 'offset', 'sort', 'order']);
  const limit = options?.limit ?? DEFAULT_STUDY_PAGE;
  const offset = options?.offset ?? 0;
  const pageProblem = studyPageProblem(limit, offset);
  if (pageProblem === 'limit') {
    throw new LablogError(
      'INVALID_OPTION',
      `listStudies: limit must be an integer from 1 to ${MAX_STUDY_PAGE}, got ${describeValue(limit)}`,
      { option: 'limit' },
    );
  }
  if (pageProblem === 'offset')
    throw new LablogError('INVALID_OPTION', `listStudies: offset must be an integer >= 0`, { option: 'offset' });
  const sort = options?.sort ?? 'created_at';
  if (!(STUDY_SORT_FIELDS as readonly string[]).includes(sort)) {
    throw new LablogError(
      'INVALID_OPTION',
      `listStudies: sort must be one of ${STUDY_SORT_FIELDS.join(', ')}, got ${describeValue(sort)}`,
      { option: 'sort' },
    );
  }
  const order = options?.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc')
    throw new LablogError('INVALID_OPTION', `listStudies: order must be 'asc' or 'desc'`, { option: 'order' });
  if (options?.status !== undefined && !(STUDY_STATUSES as readonly string[]).includes(options.status)) {
    throw new LablogError(
      'INVALID_OPTION',
      `listStudies: status must be one of ${STUDY_STATUSES.join(', ')}, got ${describeValue(options.status)}`,
      { option: 'status' },
    );
  }
  if (options?.tags !== undefined && (!Array.isArray(options.tags) || options.tags.some((t) => typeof t !== 'string'))) {
    throw new LablogError('INVALID_OPTION', 'listStudies: tags must be an array of strings', { option: 'tags' });
  }
  return {
    ...(options?.project !== undefined ? { project: options.project } : {}),
    ...(options?.status !== undefined ? { status: options.status } : {}),
    ...(options?.tags !== undefined ? { tags: options.tags } : {}),
    limit,
    offset,
    sort,
    order,
  };
}

function invalidRemote(remote: unknown): never {
  throw new LablogError('INVALID_OPTION', `createExperiment: remote must be { url, apiKey } or false, got ${describeValue(remote)}`, {
    option: 'remote',
  });
}

function validateTags(tags: unknown, limits: Limits): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) {
    throw new LablogError('INVALID_OPTION', `createExperiment: tags must be an array of strings, got ${describeValue(tags)}`, {
      option: 'tags',
    });
  }
  if (tags.length > limits.maxTags) {
    throw new LablogError('INVALID_OPTION', `createExperiment: ${tags.length} tags; the limit is ${limits.maxTags} (maxTags)`, {
      option: 'tags',
      limit: limits.maxTags,
      actual: tags.length,
    });
  }
  for (const tag of tags) assertName('tag', tag, limits.maxNameLength);
  return [...new Set(tags as string[])];
}

function toQuery(options: ListExperimentsOptions | undefined): ExperimentQuery {
  assertOptionsObject('listExperiments', options);
  if (options === undefined) return {};
  assertKnownOptions('listExperiments', options, LIST_OPTIONS);
  const status = options.status === undefined ? undefined : Array.isArray(options.status) ? options.status : [options.status];
  for (const s of status ?? []) {
    if (!(EXPERIMENT_STATUSES as readonly string[]).includes(s)) {
      throw new LablogError(
        'INVALID_OPTION',
        `listExperiments: status must be one of ${EXPERIMENT_STATUSES.join(', ')}, got ${describeValue(s)}`,
        {
          option: 'status',
        },
      );
    }
  }
  if (options.sort !== undefined && !(EXPERIMENT_SORT_FIELDS as readonly string[]).includes(options.sort)) {
    throw new LablogError(
      'INVALID_OPTION',
      `listExperiments: sort must be one of ${EXPERIMENT_SORT_FIELDS.join(', ')}, got ${describeValue(options.sort)}`,
      {
        option: 'sort',
      },
    );
  }
  if (options.order !== undefined && options.order !== 'asc' && options.order !== 'desc') {
    throw new LablogError('INVALID_OPTION', `listExperiments: order must be 'asc' or 'desc', got ${describeValue(options.order)}`, {
      option: 'order',
    });
  }
  for (const field of ['limit', 'offset'] as const) {
    const value = options[field];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new LablogError('INVALID_OPTION', `listExperiments: ${field} must be an integer >= 0, got ${describeValue(value)}`, {
        option: field,
      });
    }
  }
  if (options.tags !== undefined && (!Array.isArray(options.tags) || options.tags.some((t) => typeof t !== 'string'))) {
    throw new LablogError('INVALID_OPTION', 'listExperiments: tags must be an array of strings', { option: 'tags' });
  }
  return { ...options, status };
}

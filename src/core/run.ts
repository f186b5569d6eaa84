// Run: the handle of a launched job (id, status, wait, cancel, logs), and launching, finding and listing runs over a store.

import { LablogError, LablogWarning, describeValue } from '../model/errors.js';
import { resolveLimits } from '../model/limits.js';
import { isRunOrphaned, THIS_HOST } from './liveness.js';
import { encodeParam } from './param.js';
import { resolveLaunch, type LaunchOptions } from './run-options.js';
import type { RemoteSpec } from './publishing.js';
import { RunSupervisor } from './run-supervisor.js';
import type { LivePublication, Publishing } from './publishing.js';
import { assertKnownOptions, assertOptionsObject } from '../model/validation.js';
import { newExperimentId } from './experiment.js';
import { isUuid } from '../model/ids.js';
import {
  isFinalRunStatus,
  LIVE_RUN_STATUSES,
  LOG_STREAMS,
  RUN_STATUSES,
  type LogPage,
  type LogQuery,
  type RunAttempt,
  type RunRecord,
  type RunStatus,
  type RunTransition,
} from '../model/run.js';
import type { StoreBackend } from '../store/backend.js';
import type { RunEnvironment } from './env-vars.js';
import { dedupedName } from '../model/experiment-names.js';

/** wait() on a run supervised by another process reads its status this often. */
export const RUN_WAIT_POLL_MS = 200;
/** Most lines one logs() call returns when no tail is asked (page on with `after`). */
export const MAX_LOG_PAGE_LINES = 10_000;

/** The store as runs see it. */
export interface RunContext {
  readonly backend: StoreBackend;
  readonly path: string;
  readonly onWarning: (warning: LablogWarning) => void;
  /** The env vars a run's child gets (read again at each attempt's start); none when absent. */
  readonly environment?: (project: string, experimentId: string, remote: RemoteSpec | undefined) => Promise<RunEnvironment>;
  /** Live publishing (absent: the store cannot publish). */
  readonly publishing?: Publishing;
}

/** After a run ends, its live publication has this long to send the rest (what does not fit waits for `lablog sync`). */
export const RUN_PUBLISH_STOP_MS = 10_000;

export interface RunLogsOptions {
  stream?: 'stdout' | 'stderr';
  /** The last N lines. */
  tail?: number;
  /** Lines after this position (a previous page's `position`): --follow. */
  after?: number;
  /** At most this many lines (default and maximum MAX_LOG_PAGE_LINES). */
  limit?: number;
}

export interface WaitOptions {
  /** Give up after this many ms (the run goes on): RUN_ENDED is not thrown, the current record is returned. */
  timeoutMs?: number;
}

function reconciled(backend: StoreBackend, record: RunRecord): RunRecord {
  if (!isRunOrphaned(record)) return record;
  backend.runs().transition(record.id, 'crashed', Date.now());
  return backend.runs().getRun(record.id) ?? record;
}

/** A launched run: supervised by this process (from launch()) or by another one (from getRun()). */
export class Run {
  readonly id: string;
  readonly #context: RunContext;
  readonly #supervisor: RunSupervisor | undefined;

  /** @internal Use store.launch() or store.getRun(). */
  constructor(context: RunContext, id: string, supervisor?: RunSupervisor) {
    this.#context = context;
    this.id = id;
    this.#supervisor = supervisor;
  }

  /** The run's launch record as stored now (a run whose supervisor died shows 'crashed'). */
  record(): RunRecord {
    const record = this.#context.backend.runs().getRun(this.id);
    if (record === undefined) throw new LablogError('RUN_NOT_FOUND', `no run with id ${this.id} in ${this.#context.path}`, { id: this.id });
    return reconciled(this.#context.backend, record);
  }

  get status(): RunStatus {
    return this.record().status;
  }

  attempts(): RunAttempt[] {
    return this.#context.backend.runs().attempts(this.id);
  }

  transitions(): RunTransition[] {
    return this.#context.backend.runs().transitions(this.id);
  }

  /** Resolves with the final record once the run has ended. */
  async wait(options?: WaitOptions): Promise<RunRecord> {
    assertOptionsObject('wait', options);
    if (options) assertKnownOptions('wait', options, ['timeoutMs']);
    const until = options?.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    if (this.#supervisor !== undefined) {
      // Supervised here: done settles after the end is published (live), so a timed wait races it rather than polling the record.
      if (until === Infinity) return this.#supervisor.done;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, Math.max(0, until - Date.now()), undefined)));
      const final = await Promise.race([this.#supervisor.done, late]);
      clearTimeout(timer);
      return final ?? this.record();
    }
    for (;;) {
      const record = this.record();
      if (isFinalRunStatus(record.status) || Date.now() >= until) return record;
      await new Promise((resolve) => setTimeout(resolve, Math.min(RUN_WAIT_POLL_MS, Math.max(0, until - Date.now()))));
    }
  }

  /**
   * Asks the run to stop: its supervisor (this process or another) sees the request within a second and
   * stops the child as for a timeout ('cancelling', then 'cancelled'). A second request while it stops is
   * the same request. RUN_ENDED when the run has ended.
   */
  cancel(): void {
    this.record();
    const outcome = this.#context.backend.runs().requestCancel(this.id, Date.now());
    if (outcome.kind === 'missing') throw new LablogError('RUN_NOT_FOUND', `no run with id ${this.id}`, { id: this.id });
    if (outcome.kind === 'ended') {
      throw new LablogError('RUN_ENDED', `run ${this.id} has ended (${outcome.record.status}); there is nothing to cancel`, {
        id: this.id,
        status: outcome.record.status,
      });
    }
    this.#supervisor?.cancelRequested();
  }

  /** Captured output lines in order, with the position to read on from and what the log cap dropped. */
  logs(options?: RunLogsOptions): LogPage {
    assertOptionsObject('logs', options);
    if (options) assertKnownOptions('logs', options, ['stream', 'tail', 'after', 'limit']);
    const query: { -readonly [K in keyof LogQuery]: LogQuery[K] } = { limit: MAX_LOG_PAGE_LINES };
    if (options?.stream !== undefined) {
      if (!(LOG_STREAMS as readonly string[]).includes(options.stream)) {
        throw new LablogError(
          'INVALID_OPTION',
          `logs: stream must be one of ${LOG_STREAMS.join(', ')}, got ${describeValue(options.stream)}`,
          {
            option: 'stream',
          },
        );
      }
      query.stream = options.stream;
    }
    for (const field of ['tail', 'after', 'limit'] as const) {
      const value = options?.[field];
      if (value === undefined) continue;
      if (!Number.isSafeInteger(value) || value < 0 || (field !== 'after' && value > MAX_LOG_PAGE_LINES)) {
        throw new LablogError(
          'INVALID_OPTION',
          `logs: ${field} must be an integer from 0${field === 'after' ? '' : ` to ${MAX_LOG_PAGE_LINES}`}, got ${describeValue(value)}`,
          { option: field, ...(field === 'after' ? {} : { limit: MAX_LOG_PAGE_LINES }), actual: value },
        );
      }
      query[field] = value;
    }
    return this.#context.backend.runs().readLogs(this.id, query);
  }
}

/** Creates the run's experiment (params logged, typed), its launch record, and starts supervising it. */
export function launchRun(context: RunContext, options: LaunchOptions): Run {
  const launch = resolveLaunch(options);
  const { backend } = context;
  const limits = resolveLimits(undefined);
  const now = Date.now();
  const experiment = backend.createExperiment(
    {
      id: newExperimentId(),
      project: launch.project,
      description: null,
      tags: launch.tags,
      createdAt: now,
      pid: process.pid,
      hostname: THIS_HOST,
    },
    (attempt) => dedupedName(launch.name, attempt, limits.maxNameLength),
  );
  try {
    backend.write({
      experimentId: experiment.id,
      params: launch.params.map(([key, value]) => encodeParam(key, typeof value as 'boolean' | 'number' | 'string', value)),
      metrics: [],
      images: [],
      plots: [],
      tables: [],
      heartbeatAt: now,
    });
    backend.runs().createRun({
      id: experiment.id,
      command: launch.command,
      args: launch.args,
      cwd: launch.cwd,
      hostname: THIS_HOST,
      supervisorPid: process.pid,
      timeoutMs: launch.timeoutMs,
      graceMs: launch.graceMs,
      retries: launch.retries,
      logCapBytes: launch.logCapBytes,
      timeCreated: now,
    });
  } catch (error) {
    backend.setStatus(experiment.id, 'failed', Date.now(), Date.now());
    throw error;
  }
  // Published from this process (the child may never import lablog): a cancel made on the server comes back through it.
  let live: LivePublication | undefined;
  if (launch.remote !== undefined && context.publishing !== undefined) {
    live = context.publishing.startLive(context.path, experiment.id, launch.remote, (problem) => context.onWarning(problem));
  }
  const supervisor = new RunSupervisor({
    backend,
    runId: experiment.id,
    storePath: context.path,
    launch,
    paramsJson: JSON.stringify(Object.fromEntries(launch.params)),
    environment: async () => (await context.environment?.(launch.project, experiment.id, launch.remote)) ?? { env: {}, secrets: [] },
    onProblem: (error) =>
      context.onWarning(
        new LablogWarning('STORAGE_ERROR', `run ${experiment.id}: ${error.message}`, { experiment: experiment.id }, { cause: error }),
      ),
    ...(live !== undefined ? { onEnded: () => live.stop(RUN_PUBLISH_STOP_MS) } : {}),
  });
  return new Run(context, experiment.id, supervisor);
}

/** A run by id, or by its experiment's name (in `project`, or in any project when unique). */
export function findRun(context: RunContext, idOrName: string, project?: string): Run {
  if (typeof idOrName !== 'string' || idOrName.length === 0) {
    throw new LablogError('INVALID_OPTION', `getRun: expected an id or a name, got ${describeValue(idOrName)}`, {});
  }
  const runs = context.backend.runs();
  let record = isUuid(idOrName) ? runs.getRun(idOrName) : undefined;
  if (record === undefined) {
    const found = context.backend
      .findExperiments(idOrName, project)
      .map((e) => runs.getRun(e.id))
      .filter((r): r is RunRecord => r !== undefined);
    if (found.length > 1) {
      throw new LablogError(
        'AMBIGUOUS_NAME',
        `run name '${idOrName}' exists in projects ${found.map((r) => r.project).join(', ')}; pass { project }`,
        {
          key: idOrName,
          projects: found.map((r) => r.project),
        },
      );
    }
    record = found[0];
  }
  if (record === undefined) {
    const where = project ? ` in project '${project}'` : '';
    throw new LablogError('RUN_NOT_FOUND', `no run with id or name '${idOrName}'${where} in ${context.path}`, { key: idOrName });
  }
  return new Run(context, record.id);
}

export interface ListRunsOptions {
  project?: string;
  status?: RunStatus | RunStatus[];
  limit?: number;
}

/** Launch records, newest first; runs whose supervisor died show 'crashed'. */
export function listRuns(context: RunContext, options?: ListRunsOptions): RunRecord[] {
  assertOptionsObject('listRuns', options);
  if (options) assertKnownOptions('listRuns', options, ['project', 'status', 'limit']);
  const status = options?.status === undefined ? undefined : Array.isArray(options.status) ? options.status : [options.status];
  for (const s of status ?? []) {
    if (!(RUN_STATUSES as readonly string[]).includes(s)) {
      throw new LablogError('INVALID_OPTION', `listRuns: status must be one of ${RUN_STATUSES.join(', ')}, got ${describeValue(s)}`, {
        option: 'status',
      });
    }
  }
  if (options?.limit !== undefined && (!Number.isSafeInteger(options.limit) || options.limit < 0)) {
    throw new LablogError('INVALID_OPTION', `listRuns: limit must be an integer >= 0, got ${describeValue(options.limit)}`, {
      option: 'limit',
    });
  }
  const project = options?.project !== undefined ? { project: options.project } : {};
  if (status === undefined) {
    const records = context.backend.runs().listRuns({ ...project, ...(options?.limit !== undefined ? { limit: options.limit } : {}) });
    return records.map((r) => reconciled(context.backend, r));
  }
  // A run stored as in flight may read as crashed once reconciled: those are fetched too, then filtered.
  const stored = status.includes('crashed') ? [...new Set([...status, ...LIVE_RUN_STATUSES])] : status;
  const records = context.backend
    .runs()
    .listRuns({ ...project, status: stored })
    .map((r) => reconciled(context.backend, r))
    .filter((r) => status.includes(r.status));
  return options?.limit !== undefined ? records.slice(0, options.limit) : records;
}

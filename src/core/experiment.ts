// Experiment: one training attempt; buffers params, metric/image/plot series and tables into its store.

import { randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import type { DataFrame } from 'nodejs-polars';
import type { Table } from 'apache-arrow';
import { LablogError, LablogWarning, describeValue } from './errors.js';
import { driverCodeOf } from '../model/error-codes.js';
import { ERROR_HANDLER_TYPES, ErrorHandler, ErrorHandlerType, type WarningListener } from './error-handler.js';
import { budgetWarningAt, resolveLimits, type Limits } from './limits.js';
import {
  assertKnownOptions,
  assertOptionsObject,
  checkCaption,
  checkName,
  checkParamValue,
  checkStep,
  toTimestamp,
  type ParamValue,
} from './validation.js';
import { FLUSH_AT_BYTES, FLUSH_AT_POINTS, FLUSH_INTERVAL_MS, MAX_BUFFERED_POINTS, MetricSeriesBuffer, type WriteBuffer } from './buffer.js';
import { BatchQueue } from './batch-queue.js';
import { resolveFlushOptions, type FlushOptions } from './flush-options.js';
import { THIS_HOST, isCrashed } from './liveness.js';
import type { LivePublication, PublishOptions, PublishReport } from './publishing.js';
import { trackForExit, untrackForExit, type ExitParticipant, type ExitStatus } from './exit-hooks.js';
import { decodeParam, encodeParam } from './param.js';
import { toPngImage, type ImageInput } from '../media/image.js';
import { serializeFigure, type PlotlyFigure } from '../media/plot.js';
import { dataFrameFromIpc, loadArrow, loadedArrow, readTableInput, serializeTable, tableFromIpc, type TableInput } from '../media/table.js';
import type { ExperimentRecord, ExperimentStatus } from '../model/experiment.js';
import type { ImagePoint, MetricData, PlotPoint, SeriesKind, SeriesRecord } from '../model/series.js';
import type { TableSummary } from '../model/table.js';
import type { StoreBackend } from '../store/backend.js';

/** close() gives up waiting for the disk after this long and leaves the rest to the exit hook. */
export const CLOSE_TIMEOUT_MS = 2_000;
/** At process exit, lablog waits for the writer while it makes progress or retries a refusal; it stops after this long without progress. */
const EXIT_STALL_MS = 5_000;
/** A read of an experiment this process logs into first waits this long for its writes. */
const READ_WAIT_MS = 10_000;
/** flush() waits at most this long for the writer (it returns earlier when the store refuses a write). */
const FLUSH_WAIT_MS = 60_000;

export const FINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

export interface MetricOptions {
  /** Integer >= 0, strictly greater than the series' previous step. Default: previous + 1 (first: 0). */
  step?: number;
  /** Wall-clock time of the value (Date or ms since the epoch). Default: the time of the call. */
  timestamp?: number | Date;
}

export interface MediaOptions {
  caption?: string;
  step?: number;
}

export interface CloseOptions {
  status?: FinalStatus;
}

export interface ResumeOptions {
  errorHandler?: ErrorHandlerType;
  /** Overrides of the default limits, as for createExperiment. */
  limits?: Partial<Limits>;
  onWarning?: WarningListener;
}

/** Validates resumeFrom's options (they throw whatever the handler, as createExperiment's do). */
function resolveResumeOptions(options: ResumeOptions | undefined, current: ErrorHandlerType) {
  assertOptionsObject('resumeFrom', options);
  if (options === undefined) return { errorHandler: current, limits: undefined };
  assertKnownOptions('resumeFrom', options, ['errorHandler', 'limits', 'onWarning']);
  const errorHandler = options.errorHandler ?? current;
  if (!ERROR_HANDLER_TYPES.includes(errorHandler)) {
    throw new LablogError(
      'INVALID_OPTION',
      `resumeFrom: errorHandler must be one of ${ERROR_HANDLER_TYPES.join(', ')}, got ${describeValue(errorHandler)}`,
      {
        option: 'errorHandler',
      },
    );
  }
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
    throw new LablogError('INVALID_OPTION', `resumeFrom: onWarning must be a function, got ${describeValue(options.onWarning)}`, {
      option: 'onWarning',
    });
  }
  return { errorHandler, limits: options.limits === undefined ? undefined : resolveLimits(options.limits) };
}

export interface SeriesSummary {
  readonly name: string;
  readonly kind: SeriesKind;
  readonly count: number;
  readonly firstStep: number | null;
  readonly lastStep: number | null;
  readonly lastValue: number | null;
  readonly minValue: number | null;
  readonly maxValue: number | null;
}

/** What a flush did; flush() resolves with it (and rejects under FAIL when `error` is set). */
export interface FlushResult {
  /** Metric points written by this flush. */
  readonly points: number;
  /** Metric points still held in memory because the store did not take them. */
  readonly pending: number;
  /** Metric points dropped so far because the hard cap on held points was reached. */
  readonly dropped: number;
  readonly error?: LablogError;
}

export interface ExperimentStats {
  readonly metricValues: number;
  readonly params: number;
  readonly pendingPoints: number;
  /** Points dropped because the store refused writes while MAX_BUFFERED_POINTS were held. */
  readonly droppedPoints: number;
  /** Metric points in batches the store rejected for good (a constraint broken by another writer); in this store, from this process. */
  readonly rejectedPoints: number;
  /** Log calls that waited because the writer was healthy but behind, and how long in all (ms). */
  readonly backpressureWaits: number;
  readonly backpressureMs: number;
  readonly flushes: number;
  readonly errors: number;
  readonly lastError: LablogError | undefined;
}

/** @internal How a Store hands an experiment its parts. */
export interface ExperimentInit {
  readonly backend: StoreBackend;
  readonly record: ExperimentRecord;
  readonly limits: Limits;
  readonly errorHandler: ErrorHandlerType;
  readonly onWarning: WarningListener | undefined;
  readonly writable: boolean;
  /** Called when the experiment opens for logging in this process (at creation, or by resumeFrom). */
  readonly onOpened: (experiment: Experiment) => void;
  readonly onFinished: (experiment: Experiment) => void;
  /** Publishes experiments of the store to a remote (provided by the sync layer through the Store). */
  readonly publish: (ids: readonly string[], options: PublishOptions | undefined) => Promise<PublishReport>;
}

const OPEN = 0;
const DEFERRED_ERROR = 1;
const CLOSING = 2;
const CLOSED = 3;
const READ_ONLY = 4;
type State = typeof OPEN | typeof DEFERRED_ERROR | typeof CLOSING | typeof CLOSED | typeof READ_ONLY;

export class Experiment {
  readonly id: string;
  readonly name: string;
  readonly project: string;
  readonly description: string | null;
  readonly tags: readonly string[];
  readonly createdAt: Date;

  readonly #backend: StoreBackend;
  readonly #onOpened: (experiment: Experiment) => void;
  readonly #onFinished: (experiment: Experiment) => void;
  readonly #publish: ExperimentInit['publish'];
  /** The background publication started with the experiment (createExperiment's `remote`). */
  #live: LivePublication | undefined;
  #record: ExperimentRecord;
  #limits: Limits;
  #handler: ErrorHandler;
  #state: State;
  #closing: Promise<void> | undefined;
  /** The status close() recorded (or tried to), rewritten by the exit hook if data was still pending. */
  #closedStatus: FinalStatus | undefined;

  readonly #queue: BatchQueue;
  /** The queue's buffer, held directly for the hot path. */
  readonly #buffer: WriteBuffer;
  #deferredError: LablogError | undefined;
  #writtenAtLastFlush = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #inflight = new Set<Promise<void>>();
  readonly #exitParticipant: ExitParticipant = {
    onProcessExit: (status, deadline) => this.#onProcessExit(status, deadline),
    requestDurableAtExit: () => this.#requestDurableAtExit(),
    awaitDurableAtExit: (deadline) => this.#awaitDurableAtExit(deadline),
  };
  /** After a close() that ran out of time: what is left to do (store.close() or the exit hook finishes it). */
  #closePending: { statusRecorded: boolean } | undefined;
  /** At exit: true once everything is written and should be put on stable storage; then the ticket to wait for. */
  #durableAtExit: boolean | number = false;

  /** Kind of every series name in use; names are unique across kinds within an experiment. */
  readonly #seriesKinds = new Map<string, SeriesKind>();
  /** Last step of image and plot series (metric series keep theirs in their buffer). */
  readonly #mediaLastStep = new Map<string, number>();
  readonly #paramKeys = new Set<string>();
  #metricCount = 0;
  #metricWarnAt = 0;
  #paramWarnAt = 0;

  /** @internal How a Store makes an experiment. */
  static from(init: ExperimentInit): Experiment {
    return new Experiment(init);
  }

  /** Use store.createExperiment or store.getExperiment. (Private, so the published types offer no constructor.) */
  private constructor(init: ExperimentInit) {
    this.#backend = init.backend;
    this.#record = init.record;
    this.#onOpened = init.onOpened;
    this.#onFinished = init.onFinished;
    this.#publish = init.publish;
    this.id = init.record.id;
    this.name = init.record.name;
    this.project = init.record.project;
    this.description = init.record.description;
    this.tags = Object.freeze([...init.record.tags]);
    this.createdAt = new Date(init.record.createdAt);
    this.#limits = init.limits;
    this.#handler = new ErrorHandler(init.errorHandler, init.onWarning);
    this.#queue = new BatchQueue(this.id, init.backend.writer(), init.backend.location);
    this.#buffer = this.#queue.buffer;
    this.#state = READ_ONLY;
    if (init.writable) this.#openForLogging();
  }

  get status(): ExperimentStatus {
    return this.#record.status;
  }

  get endedAt(): Date | null {
    return this.#record.endedAt === null ? null : new Date(this.#record.endedAt);
  }

  get errorHandler(): ErrorHandlerType {
    return this.#handler.type;
  }

  get limits(): Limits {
    return this.#limits;
  }

  /** True while this process may log into the experiment. */
  get isOpen(): boolean {
    return this.#state === OPEN || this.#state === DEFERRED_ERROR;
  }

  // ---- logging -------------------------------------------------------------------------------------

  logParam(key: string, value: ParamValue): void {
    if (this.#state !== OPEN && !this.#gate(key)) return;
    const nameError = checkName('param name', key, this.#limits.maxNameLength);
    if (nameError) return this.#handler.report(nameError);
    const checked = checkParamValue(key, value, this.#limits.maxParamValueLength);
    if (checked.error) return this.#handler.report(checked.error);
    if (!this.#paramKeys.has(key)) {
      if (this.#paramKeys.size >= this.#limits.maxParams) {
        return this.#handler.report(
          new LablogError(
            'LIMIT_EXCEEDED',
            `experiment '${this.name}' has ${this.#paramKeys.size} params; the limit is ${this.#limits.maxParams} (maxParams), so param '${key}' was dropped`,
            { experiment: this.name, key, limit: this.#limits.maxParams, actual: this.#paramKeys.size + 1 },
          ),
        );
      }
      this.#paramKeys.add(key);
      if (this.#paramKeys.size === this.#paramWarnAt) this.#warnBudget('params', 'maxParams', this.#limits.maxParams, this.#paramKeys.size);
    }
    this.#buffer.params.set(key, encodeParam(key, checked.type, value));
  }

  logParams(params: Record<string, ParamValue>): void {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      if (this.#state !== OPEN && !this.#gate('params')) return;
      return this.#handler.report(
        new LablogError('INVALID_PARAM_VALUE', `logParams expects an object of key → value, got ${describeValue(params)}`, {
          actual: describeValue(params),
        }),
      );
    }
    this.#each(Object.entries(params), ([key, value]) => this.logParam(key, value));
  }

  logMetric(key: string, value: number, options?: MetricOptions): void {
    if (this.#state !== OPEN && !this.#gate(key)) return;
    let series = this.#buffer.metrics.get(key);
    if (series === undefined) {
      series = this.#openMetricSeries(key);
      if (series === undefined) return;
    }
    if (typeof value !== 'number') {
      return this.#handler.report(
        new LablogError('INVALID_METRIC_VALUE', `metric '${key}' must be a number, got ${describeValue(value)}`, {
          key,
          actual: describeValue(value),
        }),
      );
    }
    let step: number;
    let timestamp: number;
    if (options === undefined) {
      step = series.lastStep + 1;
      timestamp = Date.now();
    } else {
      if (options.step === undefined) step = series.lastStep + 1;
      else {
        const stepError = checkStep(key, options.step);
        if (stepError) return this.#handler.report(stepError);
        step = options.step;
      }
      if (options.timestamp === undefined) timestamp = Date.now();
      else {
        const ts = toTimestamp(key, options.timestamp);
        if (typeof ts !== 'number') return this.#handler.report(ts);
        timestamp = ts;
      }
    }
    if (step <= series.lastStep) return this.#handler.report(this.#stepError(key, step, series.lastStep));
    if (this.#metricCount >= this.#limits.maxMetricValues) return this.#handler.report(this.#metricLimitError(key, step));
    if (this.#queue.saturated) return this.#drop(key);
    series.push(step, value, timestamp);
    if (++this.#metricCount === this.#metricWarnAt) {
      this.#warnBudget('metric values', 'maxMetricValues', this.#limits.maxMetricValues, this.#metricCount);
    }
    if (++this.#buffer.points >= FLUSH_AT_POINTS) this.#flushInline();
  }

  logMetrics(metrics: Record<string, number>, options?: MetricOptions): void {
    if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
      if (this.#state !== OPEN && !this.#gate('metrics')) return;
      return this.#handler.report(
        new LablogError('INVALID_METRIC_VALUE', `logMetrics expects an object of key → number, got ${describeValue(metrics)}`, {
          actual: describeValue(metrics),
        }),
      );
    }
    // One timestamp for the whole record: these values were observed together.
    const shared: MetricOptions = { step: options?.step, timestamp: options?.timestamp ?? Date.now() };
    this.#each(Object.entries(metrics), ([key, value]) => this.logMetric(key, value, shared));
  }

  /**
   * Logs a PNG image: bytes, a path to a PNG file, or a sharp instance. The step and time are taken at
   * the call; the bytes are read and validated asynchronously. Non-PNG input is INVALID_IMAGE.
   */
  async logImage(key: string, image: ImageInput, options?: MediaOptions): Promise<void> {
    const slot = this.#reserveMediaStep(key, 'image', options);
    if (slot === undefined) return;
    const done = (async () => {
      const result = await toPngImage(key, image, this.#limits.maxImageBytes);
      if (result instanceof LablogError) return this.#handler.report(result);
      if (this.#state === CLOSED || this.#state === READ_ONLY) {
        return this.#handler.report(this.#closedError(key));
      }
      this.#buffer.images.push({ name: key, ...slot, png: result.png, width: result.width, height: result.height });
      this.#buffer.bytes += result.png.length;
      if (this.#buffer.bytes >= FLUSH_AT_BYTES) this.#flushInline();
    })();
    this.#inflight.add(done);
    try {
      await done;
    } finally {
      this.#inflight.delete(done);
    }
  }

  /** Logs a Plotly figure ({ data, layout?, frames? }), serialised to JSON at the call. */
  logPlot(key: string, figure: PlotlyFigure, options?: MediaOptions): void {
    if (this.#state !== OPEN && !this.#gate(key)) return;
    const kindError = this.#checkSeriesName(key, 'plot');
    if (kindError) return this.#handler.report(kindError);
    const json = serializeFigure(key, figure, this.#limits.maxPlotBytes);
    if (json instanceof LablogError) return this.#handler.report(json);
    const slot = this.#reserveMediaStep(key, 'plot', options);
    if (slot === undefined) return;
    this.#buffer.plots.push({ name: key, ...slot, figure: json });
    this.#buffer.bytes += json.length;
    if (this.#buffer.bytes >= FLUSH_AT_BYTES) this.#flushInline();
  }

  /**
   * Logs a nodejs-polars DataFrame or an apache-arrow Table, stored losslessly as Arrow IPC. Logging a key
   * again replaces it. The first table of a process is written once apache-arrow has loaded (flush and
   * close wait for it); an error found then is reported like a background error.
   */
  logTable(key: string, table: DataFrame | Table): void {
    if (this.#state !== OPEN && !this.#gate(key)) return;
    const nameError = checkName('table name', key, this.#limits.maxNameLength);
    if (nameError) return this.#handler.report(nameError);
    const input = readTableInput(key, table, this.#limits.maxTableRows, this.#limits.maxTableColumns);
    if (input instanceof LablogError) return this.#handler.report(input);
    const loggedAt = Date.now();
    const arrow = loadedArrow();
    if (arrow) return this.#bufferTable(arrow, key, input, loggedAt);
    this.#track(
      loadArrow().then((loaded) => this.#bufferTable(loaded, key, input, loggedAt)),
      (cause) => new LablogError('INVALID_TABLE', `table '${key}' could not be stored: ${(cause as Error).message}`, { key }, { cause }),
    );
  }

  #bufferTable(arrow: Parameters<typeof serializeTable>[0], key: string, input: TableInput, loggedAt: number): void {
    if (this.#state === CLOSED || this.#state === READ_ONLY) return this.#handler.report(this.#closedError(key));
    const serialized = serializeTable(arrow, key, input);
    if (serialized instanceof LablogError) return this.#handler.report(serialized);
    this.#buffer.tables.set(key, { name: key, ...serialized, loggedAt });
    this.#buffer.bytes += serialized.ipc.length;
    if (this.#buffer.bytes >= FLUSH_AT_BYTES) this.#flushInline();
  }

  /** Keeps background work of a log call in view of flush and close; its errors go through the handler without throwing into a timer. */
  #track(work: Promise<void>, wrap: (cause: unknown) => LablogError): void {
    const done = work.catch((cause: unknown) => {
      const error = cause instanceof LablogError ? cause : wrap(cause);
      if (this.#handler.type === ErrorHandlerType.FAIL) {
        this.#deferredError ??= error;
        if (this.#state === OPEN) this.#state = DEFERRED_ERROR;
      } else this.#handler.report(error);
    });
    this.#inflight.add(done);
    void done.finally(() => this.#inflight.delete(done));
  }

  // ---- lifecycle -----------------------------------------------------------------------------------

  /**
   * Writes everything buffered and resolves once it is committed. With `{ durable: true }`, resolves only
   * once it is also on stable storage (one fsync, shared with the flushes and closes waiting meanwhile).
   * Under FAIL, rejects when the store did not take it (or could not fsync it).
   */
  async flush(options?: FlushOptions): Promise<FlushResult> {
    const { durable } = resolveFlushOptions(options);
    const deadline = Date.now() + FLUSH_WAIT_MS;
    if (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    this.#throwDeferred();
    const writeError = await this.#queue.writeAll(FLUSH_WAIT_MS);
    let error = writeError ?? this.#queue.takeRejection();
    if (durable && !writeError && this.#state !== READ_ONLY) {
      const syncError = await this.#queue.makeDurable(Math.max(0, deadline - Date.now()));
      error ??= syncError;
    }
    const result: FlushResult = {
      points: this.#queue.writtenPoints - this.#writtenAtLastFlush,
      pending: this.#queue.pendingPoints,
      dropped: this.#queue.dropped,
      ...(error ? { error } : {}),
    };
    this.#writtenAtLastFlush = this.#queue.writtenPoints;
    if (error) this.#handler.report(error);
    return result;
  }

  /**
   * Writes what is buffered, ends the experiment with `status` (default 'completed') and resolves once the
   * data and the status are on stable storage (one fsync, shared with the closes and durable flushes
   * waiting meanwhile). Bounded in time (CLOSE_TIMEOUT_MS): what is not written or not fsynced by then is
   * reported, and the exit hook finishes it. Idempotent; later log calls are EXPERIMENT_CLOSED.
   */
  close(options?: CloseOptions): Promise<void> {
    if (this.#closing) return this.#closing;
    const status = options?.status ?? 'completed';
    if (!(FINAL_STATUSES as readonly string[]).includes(status)) {
      return Promise.reject(
        new LablogError('INVALID_OPTION', `close: status must be one of ${FINAL_STATUSES.join(', ')}, got ${describeValue(status)}`, {
          option: 'status',
        }),
      );
    }
    if (this.#state === READ_ONLY) return Promise.resolve();
    this.#closing = this.#finish(status);
    return this.#closing;
  }

  async #finish(status: FinalStatus): Promise<void> {
    const deadline = Date.now() + CLOSE_TIMEOUT_MS;
    this.#state = CLOSING;
    this.#closedStatus = status;
    if (this.#inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.#inflight]),
        new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
      ]);
      clearTimeout(timer);
    }
    this.#stopTimer();
    const deferred = this.#deferredError;
    this.#deferredError = undefined;
    const writeError = await this.#queue.writeAll(Math.max(0, deadline - Date.now()));
    let error = deferred ?? writeError ?? this.#queue.takeRejection();
    // The status is recorded once the data is in the store; if it is not yet, store.close() or the exit
    // hook records it after waiting for the writer (if that fails too, the run shows as crashed, not complete).
    const endError = writeError ? undefined : this.#end(status);
    error ??= endError;
    // Data and status are committed: one fsync puts them on stable storage.
    const syncError = writeError ? undefined : await this.#queue.makeDurable(Math.max(0, deadline - Date.now()));
    error ??= syncError;
    this.#state = CLOSED;
    // What the store has not taken (or not fsynced) yet stays with the writer, which retries: the exit hook waits for it.
    if (this.#queue.idle && !syncError && !endError) untrackForExit(this.#exitParticipant);
    else this.#closePending = { statusRecorded: !writeError && !endError };
    this.#onFinished(this);
    // The last of the close budget publishes what is left; the rest waits for `lablog sync`.
    const live = this.#live;
    this.#live = undefined;
    if (live) await live.stop(Math.max(0, deadline - Date.now()));
    if (error) this.#handler.report(error);
  }

  /** @internal True after a close() that ran out of time with writes, its status or its fsync still to do. */
  get closePending(): boolean {
    return this.#closePending !== undefined;
  }

  /**
   * @internal Finishes a close() that ran out of time, as the exit hook would, without blocking: waits up to
   * timeoutMs for the writer, records the closed status, fsyncs. True when nothing is left to do.
   */
  async finishPendingClose(timeoutMs: number): Promise<boolean> {
    const pending = this.#closePending;
    if (pending === undefined || this.#state !== CLOSED) return true;
    const deadline = Date.now() + timeoutMs;
    if (await this.#queue.writeAll(timeoutMs)) return false;
    if (!pending.statusRecorded) {
      if (this.#end(this.#closedStatus ?? 'completed')) return false;
      pending.statusRecorded = true;
    }
    if (await this.#queue.makeDurable(Math.max(0, deadline - Date.now()))) return false;
    this.#closePending = undefined;
    untrackForExit(this.#exitParticipant);
    return true;
  }

  /** @internal Attaches the background publication started by createExperiment. */
  attachLivePublication(live: LivePublication): void {
    this.#live = live;
  }

  /** @internal A background publication problem: a warning (training goes on; `lablog sync` can finish the job). */
  warnPublishProblem(problem: LablogWarning): void {
    this.#handler.warn(new LablogWarning(problem.code, `publishing experiment '${this.name}': ${problem.message}`, problem.details));
  }

  /**
   * Publishes this experiment to a remote lablog server: everything it has not acknowledged yet, exactly
   * once (re-running sends only what is new). Writes what is buffered first. Resolves with a report;
   * items the remote rejects are listed in `problems` and the rest is published.
   */
  async publish(options?: PublishOptions): Promise<PublishReport> {
    if (this.isOpen) await this.flush();
    return this.#publish([this.id], options);
  }

  /**
   * Reopens a closed or crashed experiment for logging from `step` on: every series keeps only its points
   * with step < `step`, so a job restarted from a checkpoint logs on in strict order without losing
   * earlier data. Status goes back to 'running'.
   */
  resumeFrom(step: number, options?: ResumeOptions): this {
    const stepError = checkStep('resumeFrom', step);
    if (stepError) throw stepError;
    if (this.#state === CLOSING) {
      throw new LablogError('EXPERIMENT_CLOSED', `experiment '${this.name}' is closing; await close() before resumeFrom`, {
        experiment: this.name,
      });
    }
    if (this.#inflight.size > 0) {
      throw new LablogError(
        'EXPERIMENT_RUNNING',
        `experiment '${this.name}' has ${this.#inflight.size} logImage/logTable calls still in progress; await them (or exp.flush()) before resumeFrom`,
        { experiment: this.name, actual: this.#inflight.size },
      );
    }
    const resolved = resolveResumeOptions(options, this.#handler.type);
    const ownedHere = this.isOpen;
    // Everything logged before the resume point must be in the store before it is truncated, or it
    // would land after the truncation.
    const unwritten =
      (this.#queue.idle && this.#buffer.isEmpty ? undefined : this.#queue.writeAllSync(READ_WAIT_MS)) ??
      this.#queue.waitForStore(READ_WAIT_MS);
    if (unwritten) throw unwritten;
    if (!ownedHere) {
      const current = this.#backend.getExperiment(this.id);
      if (current === undefined) throw new LablogError('EXPERIMENT_NOT_FOUND', `experiment ${this.id} no longer exists`, { id: this.id });
      this.#record = current;
      // Running in another live process: refuse. Running under this process's id with no handle open here
      // (its close() could not write everything yet) is this process's own.
      const ownRecord = current.pid === process.pid && current.hostname === THIS_HOST;
      if (current.status === 'running' && !ownRecord && !isCrashed(current, Date.now())) {
        throw new LablogError(
          'EXPERIMENT_RUNNING',
          `experiment '${this.name}' is still running in process ${current.pid ?? '?'} on ${current.hostname ?? '?'}; close it there first`,
          { experiment: this.name, pid: current.pid, hostname: current.hostname },
        );
      }
    }
    this.#backend.reopenExperiment(this.id, step, process.pid, THIS_HOST, Date.now());
    if (resolved.limits) this.#limits = resolved.limits;
    if (options?.errorHandler !== undefined || options?.onWarning !== undefined) {
      this.#handler = new ErrorHandler(resolved.errorHandler, options.onWarning);
    }
    this.#metricWarnAt = budgetWarningAt(this.#limits.maxMetricValues);
    this.#paramWarnAt = budgetWarningAt(this.#limits.maxParams);
    this.#closing = undefined;
    this.#closedStatus = undefined;
    this.#buffer.metrics.clear();
    this.#seriesKinds.clear();
    this.#mediaLastStep.clear();
    this.#paramKeys.clear();
    this.#metricCount = 0;
    this.#record = this.#backend.getExperiment(this.id)!;
    if (ownedHere) this.#loadState();
    else this.#openForLogging();
    return this;
  }

  stats(): ExperimentStats {
    return {
      metricValues: this.#metricCount,
      params: this.#paramKeys.size,
      pendingPoints: this.#queue.pendingPoints,
      droppedPoints: this.#queue.dropped,
      rejectedPoints: this.#queue.rejectedPoints,
      backpressureWaits: this.#queue.backpressureWaits,
      backpressureMs: this.#queue.backpressureMs,
      flushes: this.#queue.batchesWritten,
      errors: this.#handler.errorCount,
      lastError: this.#handler.lastError,
    };
  }

  // ---- reading -------------------------------------------------------------------------------------

  getParams(): Record<string, ParamValue> {
    this.#writeBeforeRead();
    const params: Record<string, ParamValue> = {};
    for (const record of this.#backend.readParams(this.id)) params[record.key] = decodeParam(record);
    return params;
  }

  listSeries(): SeriesSummary[] {
    this.#writeBeforeRead();
    return this.#backend.readSeries(this.id).map((series: SeriesRecord) => ({
      name: series.name,
      kind: series.kind,
      count: series.count,
      firstStep: series.firstStep,
      lastStep: series.lastStep,
      lastValue: series.kind === 'metric' ? (series.count > 0 ? (series.lastValue ?? Number.NaN) : null) : null,
      minValue: series.minValue,
      maxValue: series.maxValue,
    }));
  }

  /** A metric series as columns: steps, values and wall-clock timestamps (ms since the epoch). */
  getMetric(key: string): MetricData {
    this.#writeBeforeRead();
    const data = this.#backend.readMetric(this.id, key);
    if (data === undefined) throw this.#seriesNotFound(key, 'metric');
    return data;
  }

  getImages(key: string): ImagePoint[] {
    this.#writeBeforeRead();
    const points = this.#backend.listImages(this.id, key).map(({ hash: _, ...meta }) => ({
      ...meta,
      png: this.#backend.readImage(this.id, key, meta.step)!,
    }));
    if (points.length === 0 && !this.#hasSeries(key, 'image')) throw this.#seriesNotFound(key, 'image');
    return points;
  }

  getPlots(key: string): PlotPoint[] {
    this.#writeBeforeRead();
    const points = this.#backend.readPlots(this.id, key);
    if (points.length === 0 && !this.#hasSeries(key, 'plot')) throw this.#seriesNotFound(key, 'plot');
    return points;
  }

  listTables(): TableSummary[] {
    this.#writeBeforeRead();
    return this.#backend.listTables(this.id);
  }

  /** A logged table as an apache-arrow Table (async: apache-arrow is loaded on first use). */
  async getTable(key: string): Promise<Table> {
    return tableFromIpc(await this.#readTableBytes(key));
  }

  /** A logged table as a nodejs-polars DataFrame. */
  async getTableDataFrame(key: string): Promise<DataFrame> {
    return dataFrameFromIpc(await this.#readTableBytes(key));
  }

  // ---- internals -----------------------------------------------------------------------------------

  async #readTableBytes(key: string): Promise<Buffer> {
    if (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    this.#writeBeforeRead();
    const record = this.#backend.readTable(this.id, key);
    if (record === undefined) {
      const known = this.#backend.listTables(this.id).map((t) => t.name);
      throw new LablogError('SERIES_NOT_FOUND', `experiment '${this.name}' has no table '${key}' (tables: ${known.join(', ') || 'none'})`, {
        experiment: this.name,
        key,
      });
    }
    return record.ipc;
  }

  #hasSeries(key: string, kind: SeriesKind): boolean {
    return this.#backend.readSeries(this.id).some((s) => s.name === key && s.kind === kind);
  }

  #seriesNotFound(key: string, kind: SeriesKind): LablogError {
    const known = this.#backend
      .readSeries(this.id)
      .filter((s) => s.kind === kind)
      .map((s) => s.name);
    return new LablogError(
      'SERIES_NOT_FOUND',
      `experiment '${this.name}' has no ${kind} series '${key}' (${kind} series: ${known.join(', ') || 'none'})`,
      { experiment: this.name, key },
    );
  }

  #writeBeforeRead(): void {
    if (this.isOpen) this.#queue.writeAllSync(READ_WAIT_MS);
  }

  #openForLogging(): void {
    // The writer starts as soon as the program yields (or at the first flush), not inside this call: a
    // process that ends at once never waits for a half-started thread.
    setTimeout(() => this.#queue.start(), 0).unref();
    this.#loadState();
    this.#state = OPEN;
    this.#metricWarnAt = budgetWarningAt(this.#limits.maxMetricValues);
    this.#paramWarnAt = budgetWarningAt(this.#limits.maxParams);
    this.#timer = setInterval(() => this.#onTimer(), FLUSH_INTERVAL_MS);
    this.#timer.unref();
    trackForExit(this.#exitParticipant);
    this.#onOpened(this);
  }

  /** Rebuilds per-series steps and budget counts from the store (a new or resumed experiment). */
  #loadState(): void {
    for (const series of this.#backend.readSeries(this.id)) {
      this.#seriesKinds.set(series.name, series.kind);
      const lastStep = series.lastStep ?? -1;
      if (series.kind === 'metric') {
        this.#buffer.metrics.set(series.name, new MetricSeriesBuffer(series.name, lastStep));
        this.#metricCount += series.count;
      } else {
        this.#mediaLastStep.set(series.name, lastStep);
      }
    }
    for (const param of this.#backend.readParams(this.id)) this.#paramKeys.add(param.key);
  }

  /** Reports a background error kept for the caller (FAIL), if any. */
  #throwDeferred(): void {
    if (this.#state !== DEFERRED_ERROR) return;
    this.#state = OPEN;
    const error = this.#deferredError!;
    this.#deferredError = undefined;
    this.#handler.report(error);
  }

  /** Slow path of every log call when the experiment is not plainly open. Returns whether to go on. */
  #gate(key: string): boolean {
    if (this.#state === DEFERRED_ERROR) {
      this.#throwDeferred();
      return true;
    }
    this.#handler.report(this.#closedError(key));
    return false;
  }

  #closedError(key: string): LablogError {
    const why =
      this.#state === READ_ONLY
        ? `was opened for reading (status '${this.status}'); call resumeFrom(step) to log into it again`
        : 'is closed';
    return new LablogError('EXPERIMENT_CLOSED', `experiment '${this.name}' ${why}; '${key}' was dropped`, {
      experiment: this.name,
      key,
    });
  }

  /** Calls fn for each item; under FAIL, logs every valid item first and then throws the first error. */
  #each<T>(items: T[], fn: (item: T) => void): void {
    let first: unknown;
    for (const item of items) {
      try {
        fn(item);
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  }

  #checkSeriesName(key: string, kind: SeriesKind): LablogError | undefined {
    const existing = this.#seriesKinds.get(key);
    if (existing === kind) return undefined;
    if (existing !== undefined) {
      return new LablogError(
        'SERIES_KIND_MISMATCH',
        `series '${key}' already holds ${existing} values; a ${kind} series needs another name`,
        { key, actual: kind, expected: existing },
      );
    }
    return checkName(`${kind} name`, key, this.#limits.maxNameLength);
  }

  #openMetricSeries(key: string): MetricSeriesBuffer | undefined {
    const error = this.#checkSeriesName(key, 'metric');
    if (error) {
      this.#handler.report(error);
      return undefined;
    }
    const series = new MetricSeriesBuffer(key, -1);
    this.#buffer.metrics.set(key, series);
    this.#seriesKinds.set(key, 'metric');
    return series;
  }

  /** Validates the name and step of an image or plot at the call, and takes the step and time. */
  #reserveMediaStep(key: string, kind: 'image' | 'plot', options: MediaOptions | undefined) {
    if (this.#state !== OPEN && !this.#gate(key)) return undefined;
    const error = this.#checkSeriesName(key, kind);
    if (error) return void this.#handler.report(error);
    const lastStep = this.#mediaLastStep.get(key) ?? -1;
    let step = lastStep + 1;
    if (options?.step !== undefined) {
      const stepError = checkStep(key, options.step);
      if (stepError) return void this.#handler.report(stepError);
      step = options.step;
    }
    if (step <= lastStep) return void this.#handler.report(this.#stepError(key, step, lastStep));
    const caption = options?.caption ?? null;
    const captionError = checkCaption(key, caption);
    if (captionError) return void this.#handler.report(captionError);
    this.#seriesKinds.set(key, kind);
    this.#mediaLastStep.set(key, step);
    return { step, timestamp: Date.now(), caption };
  }

  #stepError(key: string, step: number, lastStep: number): LablogError {
    return new LablogError(
      'STEP_NOT_INCREASING',
      `step ${step} for '${key}' is not greater than its previous step ${lastStep}; steps must strictly increase (use resumeFrom(step) to restart from a checkpoint)`,
      { key, step, limit: lastStep, actual: step },
    );
  }

  #metricLimitError(key: string, step: number): LablogError {
    const limit = this.#limits.maxMetricValues;
    return new LablogError(
      'LIMIT_EXCEEDED',
      `experiment '${this.name}' has ${this.#metricCount} metric values; the limit is ${limit} (maxMetricValues), so '${key}' at step ${step} was dropped`,
      { experiment: this.name, key, step, limit, actual: this.#metricCount + 1 },
    );
  }

  #warnBudget(what: string, limitName: string, limit: number, used: number): void {
    this.#handler.warn(
      new LablogWarning(
        'LIMIT_APPROACHING',
        `experiment '${this.name}' has used ${used} of its ${limit} ${what} (${limitName}); values past the limit will be dropped`,
        { experiment: this.name, limit, actual: used },
      ),
    );
  }

  #drop(key: string): void {
    this.#queue.drop();
    // One report per refusal episode, not per point: the first drop says what happened.
    if (this.#queue.dropped === 1 || this.#queue.dropped % 1_000_000 === 0) {
      this.#handler.report(
        new LablogError(
          'STORAGE_ERROR',
          `the store at ${this.#backend.location} has not taken the last ${this.#queue.pendingPoints} points; past the cap of ${MAX_BUFFERED_POINTS} held in memory, '${key}' was dropped (${this.#queue.dropped} dropped so far)`,
          {
            driver: 'sqlite',
            driverCode: null,
            location: this.#backend.location,
            key,
            limit: MAX_BUFFERED_POINTS,
            actual: this.#queue.pendingPoints,
          },
        ),
      );
    }
  }

  /** A flush from inside a log call: hands the buffer to the writer; a refusal goes through the handler. */
  #flushInline(): void {
    const waitsBefore = this.#queue.backpressureWaits;
    this.#queue.submit(Date.now());
    if (waitsBefore === 0 && this.#queue.backpressureWaits > 0) {
      this.#handler.warn(
        new LablogWarning(
          'BACKPRESSURE',
          `experiment '${this.name}' logs faster than the store at ${this.#backend.location} writes: log calls wait for it once ${MAX_BUFFERED_POINTS} points are unwritten (counted in stats().backpressureWaits / backpressureMs)`,
          { experiment: this.name, limit: MAX_BUFFERED_POINTS },
        ),
      );
    }
    const failure = this.#queue.newFailure();
    if (failure) this.#handler.report(failure);
  }

  #onTimer(): void {
    if (this.#state !== OPEN && this.#state !== DEFERRED_ERROR) return;
    const now = Date.now();
    this.#queue.submit(now);
    this.#queue.heartbeat(now);
    const failure = this.#queue.newFailure();
    if (!failure) return;
    // Never throw from a timer: under FAIL the next log call throws it, otherwise report it now.
    if (this.#handler.type === ErrorHandlerType.FAIL) {
      this.#deferredError ??= failure;
      if (this.#state === OPEN) this.#state = DEFERRED_ERROR;
    } else {
      this.#handler.report(failure);
    }
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #end(status: ExperimentStatus): LablogError | undefined {
    const now = Date.now();
    try {
      this.#backend.setStatus(this.id, status, now, now);
      this.#record = { ...this.#record, status, endedAt: now, updatedAt: now };
      return undefined;
    } catch (cause) {
      return cause instanceof LablogError
        ? cause
        : new LablogError(
            'STORAGE_ERROR',
            `recording status '${status}' failed: ${(cause as Error).message}`,
            { driver: 'sqlite', driverCode: driverCodeOf(cause), location: this.#backend.location },
            { cause },
          );
    }
  }

  #onProcessExit(status: ExitStatus, deadline: number): void {
    if (this.#state === READ_ONLY) return;
    if (status === null) {
      // The program goes on (it handles the signal itself): write what there is, without waiting long.
      this.#queue.writeAllSync(Math.min(EXIT_STALL_MS, Math.max(0, deadline - Date.now())));
      return;
    }
    const unwritten = this.#queue.writeAllAtExit(EXIT_STALL_MS, deadline);
    const rejected = this.#queue.takeRejection();
    this.#stopTimer();
    if (rejected) {
      reportAtExit(
        `lablog: experiment '${this.name}' (${this.id}): ${this.#queue.rejectedPoints} points were dropped: ${rejected.message}\n`,
      );
    }
    if (unwritten) {
      // Nobody is left to tell but the terminal. The status stays 'running', so the run shows as crashed
      // rather than as a complete one.
      reportAtExit(
        `lablog: experiment '${this.name}' (${this.id}): ${this.#queue.pendingPoints} logged points could not be written before the process ended: ${unwritten.message}\n`,
      );
    } else {
      // A close() (finished or in progress) decides the status; else how the process ended does.
      this.#end(this.#closedStatus ?? status);
      this.#durableAtExit = true;
    }
    this.#state = CLOSED;
    untrackForExit(this.#exitParticipant);
    this.#onFinished(this);
  }

  #requestDurableAtExit(): void {
    if (this.#durableAtExit === true) this.#durableAtExit = this.#queue.requestDurable();
  }

  #awaitDurableAtExit(deadline: number): void {
    const ticket = this.#durableAtExit;
    if (typeof ticket !== 'number') return;
    this.#durableAtExit = false;
    const error = this.#queue.waitDurableSync(ticket, Math.min(EXIT_STALL_MS, Math.max(0, deadline - Date.now())));
    if (error) {
      reportAtExit(
        `lablog: experiment '${this.name}' (${this.id}): its data is written but not known to be on stable storage (a power loss may take it back): ${error.message}\n`,
      );
    }
  }
}

/** Writes to stderr synchronously: at process exit, nothing asynchronous runs any more. */
function reportAtExit(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // No terminal: nothing more can be done.
  }
}

/** A fresh experiment id. */
export function newExperimentId(): string {
  return randomUUID();
}

// Experiment: one training attempt; buffers params, metric/image/plot series and tables into its store.

import { randomUUID } from 'node:crypto';
import type { DataFrame } from 'nodejs-polars';
import type { Table } from 'apache-arrow';
import { LablogError, LablogWarning, describeValue } from '../model/errors.js';
import { ErrorHandler, ErrorHandlerType, type WarningListener } from './error-handler.js';
import { type Limits } from '../model/limits.js';
import { checkName, checkParamValue, checkStep, toTimestamp, type ParamValue } from '../model/validation.js';
import { FLUSH_AT_BYTES, FLUSH_AT_POINTS, FLUSH_INTERVAL_MS, type MetricSeriesBuffer, type WriteBuffer } from './buffer.js';
import { BatchQueue } from './batch-queue.js';
import { resolveFlushOptions, type FlushOptions } from './flush-options.js';
import { THIS_HOST } from './liveness.js';
import type { LivePublication, PublishOptions, PublishReport } from './publishing.js';
import { trackForExit, untrackForExit, type ExitParticipant, type ExitStatus } from './exit-hooks.js';
import { encodeParam } from './param.js';
import {
  FINAL_STATUSES,
  resolveResumeOptions,
  type CloseOptions,
  type FinalStatus,
  type MediaOptions,
  type MetricOptions,
  type ResumeOptions,
} from './experiment-options.js';
import type { ExperimentStats, FlushResult, SeriesSummary } from './experiment-results.js';
import {
  backpressure,
  budgetApproaching,
  experimentClosed,
  metricLimitExceeded,
  paramLimitExceeded,
  pointsDropped,
  reportAtExit,
  statusNotRecorded,
  stepNotIncreasing,
} from './experiment-problems.js';
import { SeriesState, type MediaSlot } from './series-state.js';
import * as reads from './experiment-reads.js';
import { takeOverRecord } from './experiment-resume.js';
import { toPngImage, type ImageInput } from '../media/image.js';
import { serializeFigure, type PlotlyFigure } from '../media/plot.js';
import { dataFrameFromIpc, loadArrow, loadedArrow, readTableInput, serializeTable, tableFromIpc, type TableInput } from '../media/table.js';
import type { ExperimentRecord, ExperimentStatus } from '../model/experiment.js';
import { checkProgress, type ExperimentProgress } from '../model/progress.js';
import { MAX_DATASETS, toDatasetRecord, type DatasetInput, type DatasetRecord } from '../model/dataset.js';
import type { ImagePoint, MetricData, PlotPoint } from '../model/series.js';
import type { TableSummary } from '../model/table.js';
import type { StoreBackend } from '../store/backend.js';
import type { Readable } from 'node:stream';
import type { ArtifactRecord } from '../model/artifact.js';
import { resolveArtifactOptions, type ArtifactSource, type LogArtifactOptions } from './artifact-options.js';
import { logArtifactInto, type ArtifactTarget } from './artifact-logging.js';
import { downloadArtifactTo, openArtifactStream, type ArtifactReadOptions, type ArtifactStreamOptions } from './artifact-download.js';

export { FINAL_STATUSES, type FinalStatus, type MetricOptions, type MediaOptions, type CloseOptions, type ResumeOptions };
export type { SeriesSummary, FlushResult, ExperimentStats };
export type { ArtifactSource, LogArtifactOptions, ArtifactReadOptions, ArtifactStreamOptions };

/** close() gives up waiting for the disk after this long and leaves the rest to the exit hook. */
export const CLOSE_TIMEOUT_MS = 2_000;
/** At process exit, lablog waits for the writer while it makes progress or retries a refusal; it stops after this long without progress. */
const EXIT_STALL_MS = 5_000;
/** A read of an experiment this process logs into first waits this long for its writes. */
const READ_WAIT_MS = 10_000;
/** flush() waits at most this long for the writer (it returns earlier when the store refuses a write). */
const FLUSH_WAIT_MS = 60_000;

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
  /** Artifacts being copied (each promise settles once committed or refused), by name. */
  readonly #artifactsPending = new Map<Promise<unknown>, string>();
  /** At process exit, says which artifacts were still being copied (they are not logged: nothing of them is visible). */
  readonly #artifactExitParticipant: ExitParticipant = {
    onProcessExit: (status) => {
      if (status === null || this.#artifactsPending.size === 0) return;
      const names = [...new Set(this.#artifactsPending.values())].join("', '");
      reportAtExit(
        `lablog: experiment '${this.name}' (${this.id}): artifact '${names}' was not logged: the process ended while its bytes were being copied (nothing of it is visible; \`lablog gc\` removes what was copied)\n`,
      );
    },
  };
  readonly #exitParticipant: ExitParticipant = {
    onProcessExit: (status, deadline) => this.#onProcessExit(status, deadline),
    requestDurableAtExit: () => this.#requestDurableAtExit(),
    awaitDurableAtExit: (deadline) => this.#awaitDurableAtExit(deadline),
  };
  /** After a close() that ran out of time: what is left to do (store.close() or the exit hook finishes it). */
  #closePending: { statusRecorded: boolean } | undefined;
  /** At exit: true once everything is written and should be put on stable storage; then the ticket to wait for. */
  #durableAtExit: boolean | number = false;

  #progress: ExperimentProgress | null;
  /** Role and name of every dataset stored or buffered (read from the store at the first logDataset). */
  #datasetKeys: Set<string> | undefined;

  /** Per-series steps and kinds, params, and the budget counts. */
  readonly #series: SeriesState;

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
    this.#progress = init.record.progress ?? null;
    this.#limits = init.limits;
    this.#handler = new ErrorHandler(init.errorHandler, init.onWarning);
    this.#queue = new BatchQueue(this.id, init.backend.writer(), init.backend.location);
    this.#buffer = this.#queue.buffer;
    this.#series = new SeriesState(this.#buffer.metrics);
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
    const paramKeys = this.#series.paramKeys;
    if (!paramKeys.has(key)) {
      if (paramKeys.size >= this.#limits.maxParams) {
        return this.#handler.report(paramLimitExceeded(this.name, key, paramKeys.size, this.#limits.maxParams));
      }
      paramKeys.add(key);
      if (paramKeys.size === this.#series.paramWarnAt) this.#warnBudget('params', 'maxParams', this.#limits.maxParams, paramKeys.size);
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
    if (step <= series.lastStep) return this.#handler.report(stepNotIncreasing(key, step, series.lastStep));
    const state = this.#series;
    if (state.metricCount >= this.#limits.maxMetricValues) {
      return this.#handler.report(metricLimitExceeded(this.name, key, step, state.metricCount, this.#limits.maxMetricValues));
    }
    if (this.#queue.saturated) return this.#drop(key);
    series.push(step, value, timestamp);
    if (++state.metricCount === state.metricWarnAt) {
      this.#warnBudget('metric values', 'maxMetricValues', this.#limits.maxMetricValues, state.metricCount);
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
    const kindError = this.#series.checkSeriesName(key, 'plot', this.#limits.maxNameLength);
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

  /**
   * Reports how far the job is: `pct` from 0 to 100 (finite) and an optional `phase` (e.g. 'testing', name
   * rules, at most MAX_PHASE_LENGTH characters). Buffered like every write (never waits for the disk); the
   * latest value wins. Readable as `exp.progress`, and on the experiment's record in every store.
   */
  setProgress(pct: number, options?: { phase?: string | null }): void {
    if (this.#state !== OPEN && !this.#gate('progress')) return;
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
      return this.#handler.report(
        new LablogError(
          'INVALID_OPTION',
          `setProgress: options must be an object like { phase: 'testing' }, got ${describeValue(options)}`,
          {
            actual: describeValue(options),
          },
        ),
      );
    }
    const unknown = options && Object.keys(options).find((key) => key !== 'phase');
    if (unknown) {
      return this.#handler.report(
        new LablogError('INVALID_OPTION', `setProgress: unknown option '${unknown}'; known options: phase`, { option: unknown }),
      );
    }
    const phase = options?.phase ?? null;
    const error = checkProgress(pct, phase);
    if (error) return this.#handler.report(error);
    const progress: ExperimentProgress = { pct, phase, at: Date.now() };
    this.#progress = progress;
    this.#buffer.progress = progress;
  }

  /** The latest progress set (in this process, or as stored when the experiment was opened); null if never set. */
  get progress(): ExperimentProgress | null {
    return this.#progress;
  }

  /**
   * Records a dataset the experiment uses: a reference (role, name, and optionally id, uri, digest, rows),
   * never a copy. (role, name) is unique per experiment: logging the same pair again replaces the
   * reference (the latest wins). At most MAX_DATASETS per experiment. Buffered like every write.
   */
  logDataset(dataset: DatasetInput): void {
    if (this.#state !== OPEN && !this.#gate('dataset')) return;
    const record = toDatasetRecord(dataset, Date.now());
    if (record instanceof LablogError) return this.#handler.report(record);
    const key = `${record.role}\u0000${record.name}`;
    this.#datasetKeys ??= new Set(this.#backend.readDatasets(this.id).map((d) => `${d.role}\u0000${d.name}`));
    if (!this.#datasetKeys.has(key)) {
      if (this.#datasetKeys.size >= MAX_DATASETS) {
        return this.#handler.report(
          new LablogError(
            'LIMIT_EXCEEDED',
            `experiment '${this.name}' already has ${this.#datasetKeys.size} datasets; the limit is ${MAX_DATASETS} (MAX_DATASETS); dataset '${record.role}/${record.name}' was not logged`,
            { experiment: this.name, key: record.name, limit: MAX_DATASETS, actual: this.#datasetKeys.size },
          ),
        );
      }
      this.#datasetKeys.add(key);
    }
    this.#buffer.datasets.set(key, record);
  }

  /** The datasets the experiment logged, by role then name. */
  datasets(): DatasetRecord[] {
    this.#writeBeforeRead();
    return this.#backend.readDatasets(this.id);
  }

  // ---- artifacts -----------------------------------------------------------------------------------

  /**
   * Keeps a file, a directory (its regular files, recursively) or bytes with the experiment: streamed into
   * the store's blobs (hashed while copied: constant memory whatever the size; the same bytes are stored
   * once), then committed in one transaction, so nothing half-written is ever visible. Never blocks the
   * training loop: resolves with the record once committed. Rejects with a typed error and logs nothing
   * for a bad name or option, a name taken at that step (ARTIFACT_EXISTS), a path that does not exist,
   * a symlink loop, a socket/FIFO/device, a file that changed while copied (CHECKSUM_MISMATCH), a limit
   * (model/artifact.ts) or a full disk (STORAGE_ERROR). Bytes are copied at the call. close() waits for
   * pending artifacts within its time bound; store.close() waits for the rest.
   */
  logArtifact(source: ArtifactSource, options?: LogArtifactOptions): Promise<ArtifactRecord> {
    let work: Promise<ArtifactRecord>;
    try {
      if (this.#state !== OPEN && this.#state !== DEFERRED_ERROR) throw this.#closedError(options?.name ?? 'artifact');
      const resolved = resolveArtifactOptions(source, options, this.#limits.maxNameLength);
      const input = typeof source === 'string' ? source : Buffer.from(source);
      work = logArtifactInto(this.#artifactTarget(), input, resolved);
      if (this.#artifactsPending.size === 0) trackForExit(this.#artifactExitParticipant);
      this.#artifactsPending.set(work, resolved.name);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const settled = () => {
      this.#artifactsPending.delete(work);
      if (this.#artifactsPending.size === 0) untrackForExit(this.#artifactExitParticipant);
    };
    work.then(settled, settled);
    return work;
  }

  /** The experiment's artifacts by name, then step (none first): name, kind, step, size, sha256, files. */
  listArtifacts(): ArtifactRecord[] {
    return this.#backend.artifacts().listArtifacts(this.id);
  }

  /**
   * Writes the files of artifact `name` (at `step`; default its highest step) under `dir`, verifying each
   * file's sha256 while writing; refuses any stored path that would leave `dir`. Resolves with the paths written.
   */
  downloadArtifact(name: string, dir: string, options?: ArtifactReadOptions): Promise<string[]> {
    return downloadArtifactTo(this.#artifactTarget(), name, dir, options);
  }

  /** A stream of artifact `name`'s bytes (a directory artifact's file at `path`). */
  getArtifactStream(name: string, options?: ArtifactStreamOptions): Promise<Readable> {
    return openArtifactStream(this.#artifactTarget(), name, options);
  }

  /** @internal Artifacts still being copied: store.close() waits for them before the store goes. */
  get pendingArtifacts(): Promise<unknown>[] {
    return [...this.#artifactsPending.keys()];
  }

  #artifactTarget(): ArtifactTarget {
    return {
      artifacts: this.#backend.artifacts(),
      blobs: this.#backend.artifactBlobs(),
      experimentId: this.id,
      experimentName: this.name,
    };
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
   * waiting meanwhile; before the writer thread runs, written and fsynced on this thread). Bounded in
   * time (CLOSE_TIMEOUT_MS): what is not written or not fsynced by then is reported, and the exit hook
   * finishes it. Idempotent; later log calls are EXPERIMENT_CLOSED.
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
    if (this.#inflight.size > 0 || this.#artifactsPending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        // Artifacts still copying at the deadline go on (their promises tell); store.close() waits for them.
        Promise.allSettled([...this.#inflight, ...this.#artifactsPending.keys()]),
        new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
      ]);
      clearTimeout(timer);
    }
    this.#stopTimer();
    const deferred = this.#deferredError;
    this.#deferredError = undefined;
    // A script that ends before the writer's worker runs writes and fsyncs on this thread (close() awaits
    // anyway) instead of starting a thread for one batch, as the exit hook does.
    const writeError = await this.#queue.writeAll(Math.max(0, deadline - Date.now()), true);
    let error = deferred ?? writeError ?? this.#queue.takeRejection();
    // The status is recorded once the data is in the store; if it is not yet, store.close() or the exit
    // hook records it after waiting for the writer (if that fails too, the run shows as crashed, not complete).
    const endError = writeError ? undefined : this.#end(status);
    error ??= endError;
    // Data and status are committed: one fsync puts them on stable storage.
    const syncError = writeError ? undefined : await this.#queue.makeDurable(Math.max(0, deadline - Date.now()), true);
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
    if (!ownedHere) this.#record = takeOverRecord(this.#backend, this.id, this.name, Date.now());
    this.#backend.reopenExperiment(this.id, step, process.pid, THIS_HOST, Date.now());
    if (resolved.limits) this.#limits = resolved.limits;
    if (options?.errorHandler !== undefined || options?.onWarning !== undefined) {
      this.#handler = new ErrorHandler(resolved.errorHandler, options.onWarning);
    }
    this.#series.useLimits(this.#limits);
    this.#closing = undefined;
    this.#closedStatus = undefined;
    this.#series.clear();
    this.#record = this.#backend.getExperiment(this.id)!;
    this.#progress = this.#record.progress ?? this.#progress;
    this.#datasetKeys = undefined;
    if (ownedHere) this.#series.load(this.#backend, this.id);
    else this.#openForLogging();
    return this;
  }

  stats(): ExperimentStats {
    return {
      metricValues: this.#series.metricCount,
      params: this.#series.paramKeys.size,
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
    return reads.readParams(this.#readTarget());
  }

  listSeries(): SeriesSummary[] {
    this.#writeBeforeRead();
    return reads.readSeriesSummaries(this.#readTarget());
  }

  /** A metric series as columns: steps, values and wall-clock timestamps (ms since the epoch). */
  getMetric(key: string): MetricData {
    this.#writeBeforeRead();
    return reads.readMetric(this.#readTarget(), key);
  }

  getImages(key: string): ImagePoint[] {
    this.#writeBeforeRead();
    return reads.readImages(this.#readTarget(), key);
  }

  getPlots(key: string): PlotPoint[] {
    this.#writeBeforeRead();
    return reads.readPlots(this.#readTarget(), key);
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
    return reads.readTableBytes(this.#readTarget(), key);
  }

  #readTarget(): reads.ReadTarget {
    return { backend: this.#backend, id: this.id, name: this.name };
  }

  #writeBeforeRead(): void {
    if (this.isOpen) this.#queue.writeAllSync(READ_WAIT_MS);
  }

  #openForLogging(): void {
    this.#queue.startSoon();
    this.#series.load(this.#backend, this.id);
    this.#state = OPEN;
    this.#series.useLimits(this.#limits);
    this.#timer = setInterval(() => this.#onTimer(), FLUSH_INTERVAL_MS);
    this.#timer.unref();
    trackForExit(this.#exitParticipant);
    this.#onOpened(this);
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
    return experimentClosed(this.name, key, this.#state === READ_ONLY ? this.status : undefined);
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

  #openMetricSeries(key: string): MetricSeriesBuffer | undefined {
    const series = this.#series.openMetricSeries(key, this.#limits.maxNameLength);
    if (series instanceof LablogError) {
      this.#handler.report(series);
      return undefined;
    }
    return series;
  }

  /** The step, time and caption of an image or plot, taken at the call; undefined (reported) when it cannot be logged. */
  #reserveMediaStep(key: string, kind: 'image' | 'plot', options: MediaOptions | undefined): MediaSlot | undefined {
    if (this.#state !== OPEN && !this.#gate(key)) return undefined;
    const slot = this.#series.reserveMediaStep(key, kind, options, this.#limits.maxNameLength);
    if (slot instanceof LablogError) return void this.#handler.report(slot);
    return slot;
  }

  #warnBudget(what: string, limitName: string, limit: number, used: number): void {
    this.#handler.warn(budgetApproaching(this.name, what, limitName, limit, used));
  }

  #drop(key: string): void {
    this.#queue.drop();
    // One report per refusal episode, not per point: the first drop says what happened.
    if (this.#queue.dropped === 1 || this.#queue.dropped % 1_000_000 === 0) {
      this.#handler.report(pointsDropped(this.#backend.location, key, this.#queue.pendingPoints, this.#queue.dropped));
    }
  }

  /** A flush from inside a log call: hands the buffer to the writer; a refusal goes through the handler. */
  #flushInline(): void {
    const waitsBefore = this.#queue.backpressureWaits;
    this.#queue.submit(Date.now());
    if (waitsBefore === 0 && this.#queue.backpressureWaits > 0) {
      this.#handler.warn(backpressure(this.name, this.#backend.location));
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
      return statusNotRecorded(status, cause, this.#backend.location);
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

/** A fresh experiment id. */
export function newExperimentId(): string {
  return randomUUID();
}

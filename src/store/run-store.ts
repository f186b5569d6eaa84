// The run capability of a store: launch records beside experiments, attempts, transitions, cancel requests and captured logs (types only).

import type { ExperimentRecord } from '../model/experiment.js';
import type {
  AttemptOutcome,
  CancelOutcome,
  LogLine,
  LogPage,
  LogQuery,
  NewRun,
  RunAttempt,
  RunQuery,
  RunRecord,
  RunStatus,
  RunTransition,
} from '../model/run.js';
import type { Async } from './async.js';

/** Runs in a store. Synchronous; failures throw LablogError (STORAGE_ERROR, or the typed code). */
export interface RunStore {
  /** Stores the launch record of the existing experiment `run.id`, status 'pending' (its first transition). EXPERIMENT_NOT_FOUND without one. */
  createRun(run: NewRun): RunRecord;
  getRun(id: string): RunRecord | undefined;
  /** Runs newest first (`limit`: at most that many). */
  listRuns(query: RunQuery): RunRecord[];
  /** Starts attempt `attempt` (pid: null when the command could not be spawned): the run is 'running' in that attempt. */
  startAttempt(id: string, attempt: number, pid: number | null, now: number): void;
  /** Ends the current attempt with its outcome; with `final`, the run too (its status, exit, times and success). */
  endAttempt(id: string, outcome: AttemptOutcome, final: boolean): void;
  /** Moves the run to `status` if the rules allow it from its current status (RUN_TRANSITIONS); false if not. */
  transition(id: string, status: RunStatus, now: number): boolean;
  attempts(id: string): RunAttempt[];
  transitions(id: string): RunTransition[];
  /** Records a cancel request (the first one's time is kept) on a live run; says what it found. */
  requestCancel(id: string, now: number): CancelOutcome;
  /**
   * Appends lines in order; then drops the oldest lines of the run until its lines hold at most `capBytes`
   * bytes of text, counting what was dropped.
   */
  appendLogs(id: string, lines: readonly LogLine[], capBytes: number): void;
  readLogs(id: string, query: LogQuery): LogPage;
  /** A launched experiment, opened by its child's createExperiment: `tags` merged into its own; its record after. */
  attachExperiment(id: string, tags: readonly string[], now: number): ExperimentRecord | undefined;
}

/** The same operations for a server's store: asynchronous, with the same rules and errors. */
export type ServerRunStore = Async<RunStore>;

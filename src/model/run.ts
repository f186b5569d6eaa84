// Runs as records: the launch record of a supervised job, its statuses and their transitions, attempts, log lines and limits.

import type { ExperimentStatus } from './experiment.js';

/**
 * A run's statuses: `pending` (created, not started) → `running` → one final status. `cancelling` while the
 * child is being stopped after a cancel request; `crashed` when the supervisor itself died.
 */
export const RUN_STATUSES = ['pending', 'running', 'cancelling', 'completed', 'failed', 'cancelled', 'timed_out', 'crashed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The statuses a run ends in. */
export const FINAL_RUN_STATUSES = ['completed', 'failed', 'cancelled', 'timed_out', 'crashed'] as const satisfies readonly RunStatus[];
export type FinalRunStatus = (typeof FINAL_RUN_STATUSES)[number];

/** The statuses of a run whose supervisor is (or should be) alive. */
export const LIVE_RUN_STATUSES = ['pending', 'running', 'cancelling'] as const satisfies readonly RunStatus[];

/** The statuses each status may move to (a final status moves nowhere; `running` again is a retry's next attempt). */
export const RUN_TRANSITIONS: { readonly [S in RunStatus]: readonly RunStatus[] } = {
  pending: ['running', 'failed', 'cancelled', 'crashed'],
  running: ['running', 'cancelling', 'completed', 'failed', 'timed_out', 'crashed'],
  cancelling: ['cancelled', 'crashed'],
  completed: [],
  failed: [],
  cancelled: [],
  timed_out: [],
  crashed: [],
};

export function isFinalRunStatus(status: RunStatus): status is FinalRunStatus {
  return (FINAL_RUN_STATUSES as readonly string[]).includes(status);
}

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

/**
 * The status of the experiment a run is, for everything that knows experiments only (lists, the UI, sync):
 * a run in flight is 'running'; a timed-out run 'failed'.
 */
export const EXPERIMENT_STATUS_OF_RUN: { readonly [S in RunStatus]: ExperimentStatus } = {
  pending: 'running',
  running: 'running',
  cancelling: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  timed_out: 'failed',
  crashed: 'crashed',
};

const HOUR_MS = 3_600_000;
/** A run's timeout when none is given (UbiOps' default). */
export const DEFAULT_RUN_TIMEOUT_MS = 4 * HOUR_MS;
/** The longest timeout a run may have (UbiOps' rule). */
export const MAX_RUN_TIMEOUT_MS = 48 * HOUR_MS;
/** How long a stopped child has between SIGTERM and SIGKILL, when not given. */
export const DEFAULT_RUN_GRACE_MS = 30_000;
/** The longest grace period. */
export const MAX_RUN_GRACE_MS = HOUR_MS;
/** Bytes of captured output a run keeps by default; past it the oldest lines are dropped (and counted). */
export const DEFAULT_RUN_LOG_CAP_BYTES = 64 * 1024 * 1024;
/** The most re-launches of a failed run. */
export const MAX_RUN_RETRIES = 100;

export const LOG_STREAMS = ['stdout', 'stderr'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

/** The launch record of a run, beside its experiment (same id). Times in milliseconds since the epoch. */
export interface RunRecord {
  /** The experiment's id. */
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly hostname: string;
  /** The supervising process. */
  readonly supervisorPid: number;
  /** The child of the current (last) attempt; null before it starts or when it could not start. */
  readonly pid: number | null;
  readonly status: RunStatus;
  /** The current (last) attempt, from 1; 0 before the first starts. */
  readonly attempt: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly errorMessage: string | null;
  readonly timeoutMs: number;
  readonly graceMs: number;
  readonly retries: number;
  readonly logCapBytes: number;
  readonly timeCreated: number;
  readonly timeStarted: number | null;
  readonly timeCompleted: number | null;
  readonly cancelRequestedAt: number | null;
  /** null until the run ends; then true only for 'completed'. */
  readonly success: boolean | null;
  /** Bytes of log lines kept, and the lines and bytes dropped to stay within logCapBytes. */
  readonly logBytes: number;
  readonly logLinesDropped: number;
  readonly logBytesDropped: number;
}

/** What creating a run stores (its experiment exists already). */
export interface NewRun {
  readonly id: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly hostname: string;
  readonly supervisorPid: number;
  readonly timeoutMs: number;
  readonly graceMs: number;
  readonly retries: number;
  readonly logCapBytes: number;
  readonly timeCreated: number;
}

/** One launch of the command: each attempt keeps its own exit code, times and log lines. */
export interface RunAttempt {
  readonly attempt: number;
  readonly pid: number | null;
  readonly status: RunStatus;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly errorMessage: string | null;
  readonly timeStarted: number;
  readonly timeCompleted: number | null;
}

/** How an attempt ended. */
export interface AttemptOutcome {
  readonly status: FinalRunStatus;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly errorMessage: string | null;
  readonly timeCompleted: number;
}

/** A status a run entered, when, and in which attempt. */
export interface RunTransition {
  readonly status: RunStatus;
  readonly at: number;
  readonly attempt: number;
}

/** One captured line of output. */
export interface LogLine {
  readonly attempt: number;
  readonly stream: LogStream;
  readonly timestamp: number;
  readonly text: string;
  /** Bytes of the line cut off past the per-line limit (0: the whole line). */
  readonly cutBytes: number;
}

/** A stored log line with its position (increasing within a run; --follow reads from the last one seen). */
export interface StoredLogLine extends LogLine {
  readonly position: number;
}

export interface LogQuery {
  readonly stream?: LogStream;
  /** Only lines after this position. */
  readonly after?: number;
  /** Only the last `tail` lines (of those matching). */
  readonly tail?: number;
  /** At most this many lines (from the first matching). */
  readonly limit?: number;
}

/** What a log read returns: lines in order, where to continue, and what the cap dropped. */
export interface LogPage {
  readonly lines: StoredLogLine[];
  /** The position of the last line returned (or `after` when none): pass it as `after` to follow. */
  readonly position: number;
  readonly linesDropped: number;
  readonly bytesDropped: number;
}

export interface RunQuery {
  readonly project?: string;
  readonly status?: readonly RunStatus[];
  readonly limit?: number;
}

/** What a cancel request found. */
export type CancelOutcome =
  | { readonly kind: 'requested'; readonly record: RunRecord }
  | { readonly kind: 'ended'; readonly record: RunRecord }
  | { readonly kind: 'missing' };

// Runs as they are published: the snapshot of a run's record with its attempts and transitions, log lines with their positions, and the rules a server applies to them.

import { isFinalRunStatus, MAX_RUN_RETRIES, type RunAttempt, type RunRecord, type RunTransition, type StoredLogLine } from './run.js';

/** The attempts one run may have: the first launch and every retry. */
export const MAX_RUN_ATTEMPTS = MAX_RUN_RETRIES + 1;
/**
 * The transitions one run may record: pending, then per attempt running (and at most cancelling and a final
 * status), plus a cancelled or crashed at the end.
 */
export const MAX_RUN_TRANSITIONS = 3 * MAX_RUN_ATTEMPTS + 3;
/** Log lines one publish request carries (the publisher sends at most LOG_LINES_PER_REQUEST). */
export const MAX_LOG_LINES_PER_REQUEST = 10_000;
/** Bytes of log text one publish request carries, roughly. */
export const MAX_LOG_BYTES_PER_REQUEST = 8 * 1024 * 1024;
/** The most bytes of log lines a server keeps per run, whatever the run's own cap says (past it the oldest are dropped, counted). */
export const MAX_PUBLISHED_LOG_CAP_BYTES = 1024 * 1024 * 1024;

/** The launch record's fields a publisher sends (the server knows project and name from the experiment; log counters travel with the lines). */
export type PublishedRunRecord = Omit<RunRecord, 'project' | 'name' | 'success' | 'logBytes' | 'logLinesDropped' | 'logBytesDropped'>;

/** A run as published: its record, attempts and transitions, replacing what the server had (unless older, see isStaleSnapshot). */
export interface RunSnapshot {
  readonly run: PublishedRunRecord;
  readonly attempts: readonly RunAttempt[];
  readonly transitions: readonly RunTransition[];
}

/** Log lines as published: with the client's positions (contiguous, increasing), and what the client's cap dropped so far. */
export interface PublishedLogs {
  readonly lines: readonly StoredLogLine[];
  readonly linesDropped: number;
  readonly bytesDropped: number;
}

/** What a server did with published log lines: its last position after them, lines stored and lines it had already. */
export interface LogIngestResult {
  readonly position: number;
  readonly accepted: number;
  readonly skipped: number;
}

/** What a server did with a snapshot: the run as it stands, and whether the snapshot was applied or was older than what it had. */
export interface RunIngestResult {
  readonly record: RunRecord;
  readonly applied: boolean;
}

/**
 * Whether a snapshot is older than the run the server holds: it has fewer transitions (they only ever grow),
 * or the run has ended there and the snapshot says it has not. A stale snapshot never moves a run back.
 */
export function isStaleSnapshot(stored: { status: RunRecord['status']; transitions: number }, snapshot: RunSnapshot): boolean {
  if (snapshot.transitions.length < stored.transitions) return true;
  return isFinalRunStatus(stored.status) && !isFinalRunStatus(snapshot.run.status);
}

/** The snapshot of a run as a store holds it. */
export function runSnapshot(record: RunRecord, attempts: readonly RunAttempt[], transitions: readonly RunTransition[]): RunSnapshot {
  const { project: _project, name: _name, success: _success, logBytes: _b, logLinesDropped: _l, logBytesDropped: _d, ...run } = record;
  return { run, attempts, transitions };
}

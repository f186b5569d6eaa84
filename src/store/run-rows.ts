// Rows of the runs tables as both stores hold them (the same columns), and the records they map to.

import { LIVE_RUN_STATUSES, type LogStream, type RunRecord, type RunStatus, type StoredLogLine } from '../model/run.js';

export interface RunRow {
  experiment_id: string;
  project: string;
  name: string;
  command: string;
  args: string;
  cwd: string;
  hostname: string;
  supervisor_pid: number;
  pid: number | null;
  status: RunStatus;
  attempt: number;
  exit_code: number | null;
  signal: string | null;
  error_message: string | null;
  timeout_ms: number;
  grace_ms: number;
  retries: number;
  log_cap_bytes: number;
  time_created: number;
  time_started: number | null;
  time_completed: number | null;
  cancel_requested_at: number | null;
  log_bytes: number;
  log_lines_dropped: number;
  log_bytes_dropped: number;
}

/** A stored line: attempt, stream (0 stdout, 1 stderr), timestamp, text, bytes cut off. */
export type PackedLine = [number, 0 | 1, number, string, number];

export interface LogChunkRow {
  id: number;
  first_seq: number;
  count: number;
  bytes: number;
  lines: string;
}

export function toRun(row: RunRow): RunRecord {
  const ended = !(LIVE_RUN_STATUSES as readonly string[]).includes(row.status);
  return {
    id: row.experiment_id,
    project: row.project,
    name: row.name,
    command: row.command,
    args: JSON.parse(row.args) as string[],
    cwd: row.cwd,
    hostname: row.hostname,
    supervisorPid: row.supervisor_pid,
    pid: row.pid,
    status: row.status,
    attempt: row.attempt,
    exitCode: row.exit_code,
    signal: row.signal,
    errorMessage: row.error_message,
    timeoutMs: row.timeout_ms,
    graceMs: row.grace_ms,
    retries: row.retries,
    logCapBytes: row.log_cap_bytes,
    timeCreated: row.time_created,
    timeStarted: row.time_started,
    timeCompleted: row.time_completed,
    cancelRequestedAt: row.cancel_requested_at,
    success: ended ? row.status === 'completed' : null,
    logBytes: row.log_bytes,
    logLinesDropped: row.log_lines_dropped,
    logBytesDropped: row.log_bytes_dropped,
  };
}

export function unpackLogChunk(chunk: LogChunkRow): StoredLogLine[] {
  return (JSON.parse(chunk.lines) as PackedLine[]).map(([attempt, stream, timestamp, text, cutBytes], i) => ({
    position: chunk.first_seq + i,
    attempt,
    stream: (stream === 0 ? 'stdout' : 'stderr') satisfies LogStream,
    timestamp,
    text,
    cutBytes,
  }));
}

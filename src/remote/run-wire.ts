// Run bodies of /api/v1 as the server checks them: a run snapshot and a batch of log lines (a client may be old or hostile).

import { LablogError, describeValue } from '../model/errors.js';
import { MAX_HOSTNAME_LENGTH } from '../model/limits.js';
import {
  MAX_LOG_BYTES_PER_REQUEST,
  MAX_LOG_LINES_PER_REQUEST,
  MAX_RUN_ATTEMPTS,
  MAX_RUN_TRANSITIONS,
  type PublishedLogs,
  type RunSnapshot,
} from '../model/run-publication.js';
import {
  LOG_STREAMS,
  MAX_RUN_GRACE_MS,
  MAX_RUN_RETRIES,
  MAX_RUN_TIMEOUT_MS,
  RUN_STATUSES,
  type LogStream,
  type RunAttempt,
  type RunStatus,
  type RunTransition,
  type StoredLogLine,
} from '../model/run.js';
import { checkText } from '../model/validation.js';

/** Characters of a run's command, cwd, each argument and error message. */
export const MAX_RUN_TEXT_LENGTH = 64 * 1024;
/** Arguments of a run's command. */
export const MAX_RUN_ARGS = 10_000;
/** The range of a JavaScript Date, in ms since the epoch. */
const MAX_TIME = 8.64e15;

function invalid(message: string, details: Record<string, unknown> = {}): LablogError {
  return new LablogError('INVALID_OPTION', message, details);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(field: string, value: unknown, limit: number): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string, got ${describeValue(value)}`, { field });
  const error = checkText(field, value, limit, 'INVALID_OPTION', { field });
  if (error) throw error;
  return value;
}

function textOrNull(field: string, value: unknown, limit: number): string | null {
  return value === null || value === undefined ? null : text(field, value, limit);
}

function integer(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${field} must be an integer from ${min} to ${max}, got ${describeValue(value)}`, { field, limit: max });
  }
  return value;
}

function integerOrNull(field: string, value: unknown, min: number, max: number): number | null {
  return value === null || value === undefined ? null : integer(field, value, min, max);
}

function time(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_TIME) {
    throw invalid(`${field} must be milliseconds since the epoch, got ${describeValue(value)}`, { field });
  }
  return value;
}

function timeOrNull(field: string, value: unknown): number | null {
  return value === null || value === undefined ? null : time(field, value);
}

function status(field: string, value: unknown): RunStatus {
  if (!(RUN_STATUSES as readonly unknown[]).includes(value))
    throw invalid(`${field} must be one of ${RUN_STATUSES.join(', ')}, got ${describeValue(value)}`, { field });
  return value as RunStatus;
}

function list(field: string, value: unknown, max: number): unknown[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be an array`, { field });
  if (value.length > max) {
    throw new LablogError('LIMIT_EXCEEDED', `${field} has ${value.length} items; the limit is ${max}`, {
      limit: max,
      actual: value.length,
    });
  }
  return value;
}

const PID_MAX = 2 ** 31;

/** A duration in ms: a finite number from `min` to `max` (timeouts may be fractional). */
function duration(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`${field} must be milliseconds from ${min} to ${max}, got ${describeValue(value)}`, { field, limit: max });
  }
  return value;
}

/** Checks a PUT /api/v1/runs/{id} body: the run's record, its attempts and transitions. */
export function decodeRunSnapshot(id: string, body: unknown): RunSnapshot {
  if (!isObject(body) || !isObject(body['run'])) throw invalid('the body must be { run, attempts, transitions }');
  const r = body['run'];
  const attempts = list('attempts', body['attempts'], MAX_RUN_ATTEMPTS).map((a, i): RunAttempt => {
    const at = `attempts[${i}]`;
    if (!isObject(a)) throw invalid(`${at} must be an object`);
    return {
      attempt: integer(`${at}.attempt`, a['attempt'], 1, MAX_RUN_ATTEMPTS),
      pid: integerOrNull(`${at}.pid`, a['pid'], 0, PID_MAX),
      status: status(`${at}.status`, a['status']),
      exitCode: integerOrNull(`${at}.exitCode`, a['exitCode'], -PID_MAX, PID_MAX),
      signal: textOrNull(`${at}.signal`, a['signal'], 64),
      errorMessage: textOrNull(`${at}.errorMessage`, a['errorMessage'], MAX_RUN_TEXT_LENGTH),
      timeStarted: time(`${at}.timeStarted`, a['timeStarted']),
      timeCompleted: timeOrNull(`${at}.timeCompleted`, a['timeCompleted']),
    };
  });
  if (new Set(attempts.map((a) => a.attempt)).size !== attempts.length) throw invalid('attempts must have distinct attempt numbers');
  const transitions = list('transitions', body['transitions'], MAX_RUN_TRANSITIONS).map((t, i): RunTransition => {
    const at = `transitions[${i}]`;
    if (!isObject(t)) throw invalid(`${at} must be an object`);
    return {
      status: status(`${at}.status`, t['status']),
      at: time(`${at}.at`, t['at']),
      attempt: integer(`${at}.attempt`, t['attempt'], 0, MAX_RUN_ATTEMPTS),
    };
  });
  const args = list('run.args', r['args'], MAX_RUN_ARGS).map((a, i) => text(`run.args[${i}]`, a, MAX_RUN_TEXT_LENGTH));
  return {
    run: {
      id,
      command: text('run.command', r['command'], MAX_RUN_TEXT_LENGTH),
      args,
      cwd: text('run.cwd', r['cwd'], MAX_RUN_TEXT_LENGTH),
      hostname: text('run.hostname', r['hostname'], MAX_HOSTNAME_LENGTH),
      supervisorPid: integer('run.supervisorPid', r['supervisorPid'], 0, PID_MAX),
      pid: integerOrNull('run.pid', r['pid'], 0, PID_MAX),
      status: status('run.status', r['status']),
      attempt: integer('run.attempt', r['attempt'], 0, MAX_RUN_ATTEMPTS),
      exitCode: integerOrNull('run.exitCode', r['exitCode'], -PID_MAX, PID_MAX),
      signal: textOrNull('run.signal', r['signal'], 64),
      errorMessage: textOrNull('run.errorMessage', r['errorMessage'], MAX_RUN_TEXT_LENGTH),
      timeoutMs: duration('run.timeoutMs', r['timeoutMs'], 0, MAX_RUN_TIMEOUT_MS),
      graceMs: duration('run.graceMs', r['graceMs'], 0, MAX_RUN_GRACE_MS),
      retries: integer('run.retries', r['retries'], 0, MAX_RUN_RETRIES),
      logCapBytes: integer('run.logCapBytes', r['logCapBytes'], 1, Number.MAX_SAFE_INTEGER),
      timeCreated: time('run.timeCreated', r['timeCreated']),
      timeStarted: timeOrNull('run.timeStarted', r['timeStarted']),
      timeCompleted: timeOrNull('run.timeCompleted', r['timeCompleted']),
      cancelRequestedAt: timeOrNull('run.cancelRequestedAt', r['cancelRequestedAt']),
    },
    attempts,
    transitions,
  };
}

/** Checks a POST /api/v1/runs/{id}/logs body: lines at contiguous increasing positions, and the client's dropped counters. */
export function decodeRunLogs(body: unknown): PublishedLogs {
  if (!isObject(body)) throw invalid('the body must be { lines, linesDropped, bytesDropped }');
  let bytes = 0;
  let previous: number | undefined;
  const lines = list('lines', body['lines'], MAX_LOG_LINES_PER_REQUEST).map((l, i): StoredLogLine => {
    const at = `lines[${i}]`;
    if (!isObject(l)) throw invalid(`${at} must be { position, attempt, stream, timestamp, text, cutBytes }`);
    const position = integer(`${at}.position`, l['position'], 1, Number.MAX_SAFE_INTEGER);
    if (previous !== undefined && position !== previous + 1) {
      throw invalid(`${at}.position must follow the line before it (${previous + 1}), got ${position}`, { field: 'position' });
    }
    previous = position;
    if (!(LOG_STREAMS as readonly unknown[]).includes(l['stream'])) throw invalid(`${at}.stream must be one of ${LOG_STREAMS.join(', ')}`);
    const lineText = text(`${at}.text`, l['text'], MAX_LOG_BYTES_PER_REQUEST);
    bytes += lineText.length;
    if (bytes > MAX_LOG_BYTES_PER_REQUEST) {
      throw new LablogError(
        'LIMIT_EXCEEDED',
        `a request may carry ${MAX_LOG_BYTES_PER_REQUEST} characters of log text (MAX_LOG_BYTES_PER_REQUEST)`,
        {
          limit: MAX_LOG_BYTES_PER_REQUEST,
          actual: bytes,
        },
      );
    }
    return {
      position,
      attempt: integer(`${at}.attempt`, l['attempt'], 0, MAX_RUN_ATTEMPTS),
      stream: l['stream'] as LogStream,
      timestamp: time(`${at}.timestamp`, l['timestamp']),
      text: lineText,
      cutBytes: integer(`${at}.cutBytes`, l['cutBytes'], 0, Number.MAX_SAFE_INTEGER),
    };
  });
  return {
    lines,
    linesDropped: integer('linesDropped', body['linesDropped'] ?? 0, 0, Number.MAX_SAFE_INTEGER),
    bytesDropped: integer('bytesDropped', body['bytesDropped'] ?? 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

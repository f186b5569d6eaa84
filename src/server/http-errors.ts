// HTTP errors of the server: one table from error code to status, and the `{ error, message, details }` body (remote/error-answer.ts).

import { LablogError } from '../model/errors.js';
import type { ErrorCode } from '../model/error-codes.js';
import type { ErrorAnswer } from '../remote/error-answer.js';
import { excerpt } from '../model/validation.js';

/** Characters of an error message sent back (a message quoting a client's 10 MB value is cut here). */
export const MAX_ERROR_MESSAGE_CHARS = 1_000;
/** Characters of each string in an error's details sent back. */
export const MAX_ERROR_DETAIL_CHARS = 200;
/** Items of an array in an error's details sent back, and how deep nested details are kept. */
const MAX_ERROR_DETAIL_ITEMS = 50;
const MAX_ERROR_DETAIL_DEPTH = 3;

/** A detail value as sent back: strings cut to MAX_ERROR_DETAIL_CHARS, arrays to MAX_ERROR_DETAIL_ITEMS, nesting to MAX_ERROR_DETAIL_DEPTH. */
function boundedDetail(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return excerpt(value, MAX_ERROR_DETAIL_CHARS);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_ERROR_DETAIL_DEPTH) return Array.isArray(value) ? `an array of length ${value.length}` : 'an object';
  if (Array.isArray(value)) return value.slice(0, MAX_ERROR_DETAIL_ITEMS).map((v) => boundedDetail(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value).slice(0, MAX_ERROR_DETAIL_ITEMS))
    out[excerpt(key, MAX_ERROR_DETAIL_CHARS)] = boundedDetail(v, depth + 1);
  return out;
}

/** An error's message and details as sent back to a client: every echoed value bounded (one place for every answer). */
export function boundedProblem(
  message: string,
  details: Readonly<Record<string, unknown>>,
): { message: string; details: Record<string, unknown> } {
  return { message: excerpt(message, MAX_ERROR_MESSAGE_CHARS), details: boundedDetail(details, 0) as Record<string, unknown> };
}

/**
 * The HTTP status of every error code: a code without one fails the build (`satisfies Record<ErrorCode, …>`),
 * so no error reaches a client as a 500 by being forgotten here. INTERNAL (a bug) is the only 500.
 */
export const HTTP_STATUS = Object.freeze({
  INVALID_OPTION: 400,
  INVALID_NAME: 400,
  INVALID_PARAM_VALUE: 400,
  INVALID_METRIC_VALUE: 400,
  INVALID_STEP: 400,
  STEP_NOT_INCREASING: 400,
  INVALID_IMAGE: 400,
  INVALID_PLOT: 400,
  INVALID_TABLE: 400,
  SERIES_KIND_MISMATCH: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  EXPERIMENT_NOT_FOUND: 404,
  SERIES_NOT_FOUND: 404,
  STUDY_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  SWEEP_NOT_FOUND: 404,
  TRIAL_NOT_FOUND: 404,
  ARTIFACT_NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  ARTIFACT_EXISTS: 409,
  UPLOAD_CONFLICT: 409,
  CHECKSUM_MISMATCH: 422,
  REQUEST_TIMEOUT: 408,
  ALREADY_IN_STUDY: 409,
  STUDY_NOT_ARCHIVED: 409,
  AMBIGUOUS_NAME: 409,
  SYNC_CONFLICT: 409,
  EXPERIMENT_CLOSED: 409,
  EXPERIMENT_RUNNING: 409,
  RUN_ENDED: 409,
  SECRET_DOWNGRADE: 409,
  PAYLOAD_TOO_LARGE: 413,
  LIMIT_EXCEEDED: 422,
  INSUFFICIENT_RUNS: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  REMOTE_ERROR: 502,
  REMOTE_UNAVAILABLE: 502,
  STORAGE_ERROR: 503,
  SECRET_KEY_ERROR: 503,
} as const satisfies Record<ErrorCode, number>);

/**
 * The answer to a client-chosen id (PUT) that this key can never use: taken by another project, whether
 * or not the key can see that project. Names no project and says nothing else about the object.
 */
export function unusableId(what: 'experiment' | 'study', id: string): LablogError {
  return new LablogError('FORBIDDEN', `${what} id ${id} cannot be used by this API key; publish the ${what} under a new id`, { id });
}

/** What a failed request is answered with. */
export type ErrorBody = ErrorAnswer;

/** Status and body for anything a handler threw: a LablogError, a framework error, or a bug (500, no internals). */
export function toHttpError(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof LablogError && error.code === 'STORAGE_ERROR') {
    // Details name the database (file path, URL, driver codes): they stay in the server's log.
    return {
      status: 503,
      body: { error: 'STORAGE_ERROR', message: 'the server could not read or write its store; try again later', details: {} },
    };
  }
  if (error instanceof LablogError) {
    // boundedProblem keeps every field and its type (strings cut, arrays shortened), so the details keep their code's shape.
    return { status: HTTP_STATUS[error.code], body: { error: error.code, ...boundedProblem(error.message, error.details) } as ErrorBody };
  }
  const e = error as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      body: { error: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than the server accepts', details: {} },
    };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: 'INVALID_OPTION', ...boundedProblem(e.message ?? 'bad request', { cause: e.code }) } };
  }
  return { status: 500, body: { error: 'INTERNAL', message: 'the server failed to handle the request; see its log', details: {} } };
}

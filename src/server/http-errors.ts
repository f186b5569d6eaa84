// HTTP errors of the server: one table from error code to status, and the `{ error, message, details }` body.

import { LablogError, type LablogErrorCode } from '../core/errors.js';

/** The HTTP status of every error code the API answers with. */
export const HTTP_STATUS: Readonly<Partial<Record<LablogErrorCode, number>>> = Object.freeze({
  VALIDATION: 400,
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
  ALREADY_IN_STUDY: 409,
  STUDY_NOT_ARCHIVED: 409,
  INSUFFICIENT_RUNS: 422,
  AMBIGUOUS_NAME: 409,
  SYNC_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  LIMIT_EXCEEDED: 422,
  RATE_LIMITED: 429,
  STORAGE_ERROR: 503,
});

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

/** Status and body for anything a handler threw: a LablogError, a framework error, or a bug (500, no internals). */
export function toHttpError(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof LablogError && error.code === 'STORAGE_ERROR') {
    // Details name the database (file path, URL, driver codes): they stay in the server's log.
    return { status: 503, body: { error: 'STORAGE_ERROR', message: 'the server could not read or write its store; try again later', details: {} } };
  }
  if (error instanceof LablogError) {
    return { status: HTTP_STATUS[error.code] ?? 500, body: { error: error.code, message: error.message, details: { ...error.details } } };
  }
  const e = error as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { error: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than the server accepts', details: {} } };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: 'VALIDATION', message: e.message ?? 'bad request', details: { cause: e.code } } };
  }
  return { status: 500, body: { error: 'INTERNAL', message: 'the server failed to handle the request; see its log', details: {} } };
}

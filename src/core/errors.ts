// Errors and warnings: one error class with a stable string `code` and the data to act on.

/** Every code a LablogError can carry. Stable: programs may switch on them. */
export const ERROR_CODES = [
  'INVALID_OPTION',
  'INVALID_NAME',
  'INVALID_PARAM_VALUE',
  'INVALID_METRIC_VALUE',
  'INVALID_STEP',
  'STEP_NOT_INCREASING',
  'INVALID_IMAGE',
  'INVALID_PLOT',
  'INVALID_TABLE',
  'SERIES_KIND_MISMATCH',
  'LIMIT_EXCEEDED',
  'EXPERIMENT_CLOSED',
  'EXPERIMENT_RUNNING',
  'EXPERIMENT_NOT_FOUND',
  'AMBIGUOUS_NAME',
  'SERIES_NOT_FOUND',
  'STORAGE_ERROR',
  // Studies.
  'STUDY_NOT_FOUND',
  'ALREADY_IN_STUDY',
  'INSUFFICIENT_RUNS',
  'STUDY_NOT_ARCHIVED',
  // Publishing to a remote store, and the server's answers.
  'SYNC_CONFLICT',
  'VALIDATION',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'REQUEST_TIMEOUT',
  'REMOTE_UNAVAILABLE',
  'REMOTE_ERROR',
] as const;

export type LablogErrorCode = (typeof ERROR_CODES)[number];

/** Details attached to an error: what was wrong, and for limits the limit and the actual value. */
export interface LablogErrorDetails {
  readonly experiment?: string;
  readonly key?: string;
  readonly step?: number;
  readonly limit?: number;
  readonly actual?: unknown;
  readonly [field: string]: unknown;
}

/** What errors and warnings share: a stable code and the data to act on. */
abstract class CodedProblem<Code extends string> extends Error {
  readonly code: Code;
  readonly details: LablogErrorDetails;

  constructor(code: Code, message: string, details: LablogErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export class LablogError extends CodedProblem<LablogErrorCode> {
  override readonly name = 'LablogError';
}

/** Codes a warning can carry: an error that the WARN handler reported, a budget nearly used up, or backpressure. */
export type LablogWarningCode = LablogErrorCode | 'LIMIT_APPROACHING' | 'BACKPRESSURE';

/** What `onWarning` receives (and what `process.emitWarning` prints when no callback is given). */
export class LablogWarning extends CodedProblem<LablogWarningCode> {
  override readonly name = 'LablogWarning';
}

/** Short, bounded rendering of a user value for an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'string': {
      const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
      return `string ${JSON.stringify(shown)}`;
    }
    case 'number':
      return `number ${String(value)}`;
    case 'bigint':
      return `bigint ${String(value)}n`;
    case 'boolean':
      return `boolean ${String(value)}`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default: {
      if (value instanceof Date) return `Date ${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()}`;
      if (Array.isArray(value)) return `an array of length ${value.length}`;
      const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
      return ctor && ctor !== 'Object' ? `an instance of ${ctor}` : 'an object';
    }
  }
}

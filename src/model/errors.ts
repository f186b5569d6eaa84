// Errors and warnings: one error class with a stable string `code` and the data to act on.

import type { ErrorCode, ErrorDetails } from './error-codes.js';

export {
  ERROR_CODES,
  isErrorCode,
  type ErrorDetails,
  type ErrorDetailsByCode,
  type StorageErrorDetails,
  type StorageDriver,
} from './error-codes.js';

/** Every code a LablogError can carry (ERROR_CODES). Stable: programs may switch on them. */
export type LablogErrorCode = ErrorCode;

/** Details of an error whose code is not known statically: what was wrong, and for limits the limit and the actual value. */
export interface LablogErrorDetails {
  readonly experiment?: string;
  readonly key?: string;
  readonly step?: number;
  readonly limit?: number;
  readonly actual?: unknown;
  readonly [field: string]: unknown;
}

/** One error of code `C`: what `new LablogError(code, …)` builds. */
class CodedLablogError<C extends LablogErrorCode> extends Error {
  override readonly name = 'LablogError';
  readonly code: C;
  readonly details: ErrorDetails<C>;

  constructor(code: C, message: string, details: ErrorDetails<C>, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/**
 * A failure with a stable `code` and the data to act on. As a type, a union over the codes: checking
 * `error.code === 'SYNC_CONFLICT'` narrows `error.details` to that code's shape (model/error-codes.ts),
 * and `new LablogError('LIMIT_EXCEEDED', …, { limit, actual })` checks the details against the code.
 */
export type LablogError<C extends LablogErrorCode = LablogErrorCode> = { [K in C]: CodedLablogError<K> }[C];

/** What `LablogError` is as a value: the constructor, and the class `instanceof LablogError` checks. */
export interface LablogErrorConstructor {
  new <C extends LablogErrorCode>(code: C, message: string, details: ErrorDetails<C>, options?: { cause?: unknown }): LablogError<C>;
  readonly prototype: LablogError;
  /** Types `error instanceof LablogError` (the default check at run time) as the union over the codes, so `error.code` narrows `error.details`. */
  [Symbol.hasInstance](value: unknown): value is LablogError;
}

/** The class of every lablog error (`error instanceof LablogError`). */
export const LablogError: LablogErrorConstructor = CodedLablogError as unknown as LablogErrorConstructor;

/** Codes a warning can carry: an error that the WARN handler reported, a budget nearly used up, or backpressure. */
export type LablogWarningCode = LablogErrorCode | 'LIMIT_APPROACHING' | 'BACKPRESSURE';

/** What `onWarning` receives (and what `process.emitWarning` prints when no callback is given). */
export class LablogWarning extends Error {
  override readonly name = 'LablogWarning';
  readonly code: LablogWarningCode;
  readonly details: LablogErrorDetails;

  constructor(code: LablogWarningCode, message: string, details: LablogErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
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

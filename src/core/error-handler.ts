// Error handler: routes every logging error through one switchable policy (FAIL, WARN, SUPPRESS).

import { type LablogError, LablogWarning } from '../model/errors.js';

export const ErrorHandlerType = Object.freeze({
  FAIL: 'FAIL',
  WARN: 'WARN',
  SUPPRESS: 'SUPPRESS',
} as const);

export type ErrorHandlerType = (typeof ErrorHandlerType)[keyof typeof ErrorHandlerType];

export const ERROR_HANDLER_TYPES: readonly ErrorHandlerType[] = Object.values(ErrorHandlerType);

export type WarningListener = (warning: LablogWarning) => void;

/** Sends a warning to the listener, or to `process.emitWarning` when there is none. Never throws. */
export function emitLablogWarning(listener: WarningListener | undefined, warning: LablogWarning): void {
  try {
    if (listener) listener(warning);
    else process.emitWarning(warning);
  } catch {
    // A throwing listener must not break the training loop.
  }
}

/**
 * One experiment's policy. `report` is called with every error of a log call, after the offending value
 * was dropped: FAIL throws it, WARN warns about the first one and stays silent after, SUPPRESS is silent.
 */
export class ErrorHandler {
  readonly type: ErrorHandlerType;
  readonly #listener: WarningListener | undefined;
  #warned = false;
  /** How many errors this experiment's log calls have met, whatever the policy. */
  errorCount = 0;
  /** The most recent error, kept so that callers under WARN/SUPPRESS can still inspect it. */
  lastError: LablogError | undefined;

  constructor(type: ErrorHandlerType, listener: WarningListener | undefined) {
    this.type = type;
    this.#listener = listener;
  }

  report(error: LablogError): void {
    this.errorCount++;
    this.lastError = error;
    if (this.type === ErrorHandlerType.FAIL) throw error;
    if (this.type === ErrorHandlerType.WARN && !this.#warned) {
      this.#warned = true;
      emitLablogWarning(
        this.#listener,
        new LablogWarning(
          error.code,
          `${error.message} (logging goes on; further errors of this experiment are not reported)`,
          error.details,
          { cause: error },
        ),
      );
    }
  }

  /** A warning that is not an error (a budget nearly used up): always delivered, whatever the policy. */
  warn(warning: LablogWarning): void {
    emitLablogWarning(this.#listener, warning);
  }
}

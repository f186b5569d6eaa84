// The options of an experiment's log, close and resume calls, and the checks of resumeFrom's.

import { LablogError, describeValue } from '../model/errors.js';
import { ERROR_HANDLER_TYPES, type ErrorHandlerType, type WarningListener } from './error-handler.js';
import { resolveLimits, type Limits } from '../model/limits.js';
import { assertKnownOptions, assertOptionsObject } from '../model/validation.js';

export const FINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

export interface MetricOptions {
  /** Integer >= 0, strictly greater than the series' previous step. Default: previous + 1 (first: 0). */
  step?: number;
  /** Wall-clock time of the value (Date or ms since the epoch). Default: the time of the call. */
  timestamp?: number | Date;
}

export interface MediaOptions {
  caption?: string;
  step?: number;
}

export interface CloseOptions {
  status?: FinalStatus;
}

export interface ResumeOptions {
  errorHandler?: ErrorHandlerType;
  /** Overrides of the default limits, as for createExperiment. */
  limits?: Partial<Limits>;
  onWarning?: WarningListener;
}

/** Validates resumeFrom's options (they throw whatever the handler, as createExperiment's do). */
export function resolveResumeOptions(options: ResumeOptions | undefined, current: ErrorHandlerType) {
  assertOptionsObject('resumeFrom', options);
  if (options === undefined) return { errorHandler: current, limits: undefined };
  assertKnownOptions('resumeFrom', options, ['errorHandler', 'limits', 'onWarning']);
  const errorHandler = options.errorHandler ?? current;
  if (!ERROR_HANDLER_TYPES.includes(errorHandler)) {
    throw new LablogError(
      'INVALID_OPTION',
      `resumeFrom: errorHandler must be one of ${ERROR_HANDLER_TYPES.join(', ')}, got ${describeValue(errorHandler)}`,
      {
        option: 'errorHandler',
      },
    );
  }
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
    throw new LablogError('INVALID_OPTION', `resumeFrom: onWarning must be a function, got ${describeValue(options.onWarning)}`, {
      option: 'onWarning',
    });
  }
  return { errorHandler, limits: options.limits === undefined ? undefined : resolveLimits(options.limits) };
}

// The errors and warnings an experiment reports while it logs, each stating the limit and the actual value, and the last word at exit.

import { writeSync } from 'node:fs';
import { LablogError, LablogWarning } from '../model/errors.js';
import { MAX_BUFFERED_POINTS } from './buffer.js';
import { driverCodeOf } from '../model/error-codes.js';
import type { ExperimentStatus } from '../model/experiment.js';

/** A point whose step is not past its series' last one. */
export function stepNotIncreasing(key: string, step: number, lastStep: number): LablogError {
  return new LablogError(
    'STEP_NOT_INCREASING',
    `step ${step} for '${key}' is not greater than its previous step ${lastStep}; steps must strictly increase (use resumeFrom(step) to restart from a checkpoint)`,
    { key, step, limit: lastStep, actual: step },
  );
}

/** A metric value past maxMetricValues. */
export function metricLimitExceeded(experiment: string, key: string, step: number, count: number, limit: number): LablogError {
  return new LablogError(
    'LIMIT_EXCEEDED',
    `experiment '${experiment}' has ${count} metric values; the limit is ${limit} (maxMetricValues), so '${key}' at step ${step} was dropped`,
    { experiment, key, step, limit, actual: count + 1 },
  );
}

/** A new param past maxParams. */
export function paramLimitExceeded(experiment: string, key: string, count: number, limit: number): LablogError {
  return new LablogError(
    'LIMIT_EXCEEDED',
    `experiment '${experiment}' has ${count} params; the limit is ${limit} (maxParams), so param '${key}' was dropped`,
    { experiment, key, limit, actual: count + 1 },
  );
}

/** A budget nearly used up (said once, at the warning threshold). */
export function budgetApproaching(experiment: string, what: string, limitName: string, limit: number, used: number): LablogWarning {
  return new LablogWarning(
    'LIMIT_APPROACHING',
    `experiment '${experiment}' has used ${used} of its ${limit} ${what} (${limitName}); values past the limit will be dropped`,
    { experiment, limit, actual: used },
  );
}

/** A log call into an experiment that is closed or opened for reading. */
export function experimentClosed(experiment: string, key: string, readOnlyStatus: ExperimentStatus | undefined): LablogError {
  const why =
    readOnlyStatus !== undefined
      ? `was opened for reading (status '${readOnlyStatus}'); call resumeFrom(step) to log into it again`
      : 'is closed';
  return new LablogError('EXPERIMENT_CLOSED', `experiment '${experiment}' ${why}; '${key}' was dropped`, { experiment, key });
}

/** Points dropped past MAX_BUFFERED_POINTS while the store refuses writes. */
export function pointsDropped(location: string, key: string, pending: number, dropped: number): LablogError {
  return new LablogError(
    'STORAGE_ERROR',
    `the store at ${location} has not taken the last ${pending} points; past the cap of ${MAX_BUFFERED_POINTS} held in memory, '${key}' was dropped (${dropped} dropped so far)`,
    { driver: 'sqlite', driverCode: null, location, key, limit: MAX_BUFFERED_POINTS, actual: pending },
  );
}

/** Log calls start waiting for a writer that is healthy but behind. */
export function backpressure(experiment: string, location: string): LablogWarning {
  return new LablogWarning(
    'BACKPRESSURE',
    `experiment '${experiment}' logs faster than the store at ${location} writes: log calls wait for it once ${MAX_BUFFERED_POINTS} points are unwritten (counted in stats().backpressureWaits / backpressureMs)`,
    { experiment, limit: MAX_BUFFERED_POINTS },
  );
}

/** Recording the experiment's status failed. */
export function statusNotRecorded(status: ExperimentStatus, cause: unknown, location: string): LablogError {
  return cause instanceof LablogError
    ? cause
    : new LablogError(
        'STORAGE_ERROR',
        `recording status '${status}' failed: ${(cause as Error).message}`,
        { driver: 'sqlite', driverCode: driverCodeOf(cause), location },
        { cause },
      );
}

/** Writes to stderr synchronously: at process exit, nothing asynchronous runs any more. */
export function reportAtExit(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // No terminal: nothing more can be done.
  }
}

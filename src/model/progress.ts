// Progress of an experiment: a percentage and an optional phase, the latest value set, with its rules.

import { LablogError, describeValue } from './errors.js';
import { checkName } from './validation.js';

/** Longest progress phase (e.g. 'testing'), in characters; phases follow the name rules. */
export const MAX_PHASE_LENGTH = 50;
export const MIN_PROGRESS_PCT = 0;
export const MAX_PROGRESS_PCT = 100;

/** The latest progress an experiment reported. */
export interface ExperimentProgress {
  /** 0–100. */
  readonly pct: number;
  readonly phase: string | null;
  /** When it was set, in milliseconds since the epoch. */
  readonly at: number;
}

/** The problem with a progress value and phase, if any (INVALID_OPTION / INVALID_NAME, naming the rule and the value). */
export function checkProgress(pct: unknown, phase: unknown): LablogError | undefined {
  if (typeof pct !== 'number' || !Number.isFinite(pct) || pct < MIN_PROGRESS_PCT || pct > MAX_PROGRESS_PCT) {
    return new LablogError(
      'INVALID_OPTION',
      `setProgress: pct must be a finite number from ${MIN_PROGRESS_PCT} to ${MAX_PROGRESS_PCT}, got ${describeValue(pct)}`,
      { option: 'pct', actual: describeValue(pct), limit: MAX_PROGRESS_PCT },
    );
  }
  if (phase === undefined || phase === null) return undefined;
  return checkName('progress phase', phase, MAX_PHASE_LENGTH);
}

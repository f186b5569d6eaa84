// Experiment names: `name`, `name-2`, `name-3`, … when a name is taken in its project (every store names them alike).

import { LablogError } from './errors.js';

/** Longest name tried when deduplicating before giving up. */
export const MAX_NAME_ATTEMPTS = 100_000;

/** The name for attempt `attempt` (1: the name itself), cut to fit maxLength characters with its suffix. */
export function dedupedName(base: string, attempt: number, maxLength: number): string {
  if (attempt === 1) return base;
  if (attempt > MAX_NAME_ATTEMPTS) {
    throw new LablogError('LIMIT_EXCEEDED', `more than ${MAX_NAME_ATTEMPTS} experiments are named '${base}'`, {
      limit: MAX_NAME_ATTEMPTS,
      actual: attempt,
    });
  }
  const suffix = `-${attempt}`;
  const chars = [...base];
  const room = maxLength - suffix.length;
  return (chars.length > room ? chars.slice(0, room).join('') : base) + suffix;
}

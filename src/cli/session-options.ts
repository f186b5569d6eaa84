// The UI-session options of `lablog server` (--session-lifetime, --session-idle), read into a SessionPolicy.

import { LablogError } from '../model/errors.js';
import { DEFAULT_SESSION_POLICY, type SessionPolicy } from '../server/ui-session.js';

/** Longest session lifetime or idle limit the options accept: one year. */
export const MAX_SESSION_OPTION_S = 365 * 24 * 3600;

function seconds(option: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SESSION_OPTION_S) {
    throw new LablogError('INVALID_OPTION', `${option} takes whole seconds from 1 to ${MAX_SESSION_OPTION_S}, got '${text}'`, {
      option,
      limit: MAX_SESSION_OPTION_S,
      actual: text,
    });
  }
  return n * 1000;
}

export function sessionPolicy(opts: { sessionLifetime?: string; sessionIdle?: string }): SessionPolicy {
  return {
    lifetimeMs:
      opts.sessionLifetime === undefined ? DEFAULT_SESSION_POLICY.lifetimeMs : seconds('--session-lifetime', opts.sessionLifetime),
    idleMs: opts.sessionIdle === undefined ? DEFAULT_SESSION_POLICY.idleMs : seconds('--session-idle', opts.sessionIdle),
  };
}

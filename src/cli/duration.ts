// Durations on the command line: `90`, `1500ms`, `30s`, `15m`, `2h`, `1h30m` → milliseconds.

import { LablogError } from '../model/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Milliseconds of a duration: a number (seconds) or number-unit parts (ms, s, m, h); INVALID_OPTION naming the option otherwise. */
export function parseDuration(option: string, text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1_000;
  let total = 0;
  PART.lastIndex = 0;
  let parts = 0;
  while (PART.lastIndex < trimmed.length) {
    const match = PART.exec(trimmed);
    if (match === null) break;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    parts++;
  }
  if (parts === 0 || PART.lastIndex !== trimmed.length) {
    throw new LablogError('INVALID_OPTION', `--${option}: expected a duration like 90 (seconds), 30s, 15m, 2h or 1h30m, got '${text}'`, {
      option,
      actual: text,
    });
  }
  return total;
}

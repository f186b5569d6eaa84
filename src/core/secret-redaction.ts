// Secret redaction: replaces each secret's value by *** in a line of captured output, longest secret first.

import { MIN_SECRET_LENGTH } from '../model/env-vars.js';

/** What a secret's value is replaced with. */
export const REDACTED = '***';

/** A line with every secret replaced. */
export type Redactor = (line: string) => string;

/** Leaves a line as it is (no secrets). */
export const NO_REDACTION: Redactor = (line) => line;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The redactor of these secret values: longest first, so a secret containing another is replaced whole.
 * Values shorter than MIN_SECRET_LENGTH (only the empty one can be stored) are skipped. It sees one line at
 * a time: a secret split across lines, cut by the line limit, or printed encoded (base64, URL) is not found.
 */
export function secretRedactor(secrets: Iterable<string>): Redactor {
  const values = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  if (values.length === 0) return NO_REDACTION;
  const pattern = new RegExp(values.map(escape).join('|'), 'g');
  return (line) => (line.length < values[values.length - 1]!.length ? line : line.replace(pattern, REDACTED));
}

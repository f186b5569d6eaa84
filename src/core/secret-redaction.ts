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
 * It sees one line at a time, so a secret of several lines (a PEM key) is redacted line by line: each of
 * its lines of at least MIN_SECRET_LENGTH characters is replaced wherever it appears. Shorter pieces are
 * skipped (they would blank out ordinary output). A secret cut by the line limit, or printed encoded
 * (base64, URL), is not found.
 */
export function secretRedactor(secrets: Iterable<string>): Redactor {
  const pieces = [...secrets].flatMap((s) => s.split(/\r?\n/).map((line) => line.trim()));
  const values = [...new Set(pieces)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  if (values.length === 0) return NO_REDACTION;
  const pattern = new RegExp(values.map(escape).join('|'), 'g');
  return (line) => (line.length < values[values.length - 1]!.length ? line : line.replace(pattern, REDACTED));
}

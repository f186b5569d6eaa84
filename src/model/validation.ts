// Validation: names, param values, steps and timestamps, each failing with a typed LablogError.

import { LablogError, describeValue, type LablogErrorCode } from './errors.js';
import { MAX_CAPTION_LENGTH } from './limits.js';

// C0 and C1 control characters, including DEL.
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's job
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Length in characters (code points), not UTF-16 units, so an emoji counts once. */
export function characterLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Characters of a refused value quoted in an error message (a 10 MB name is not echoed back). */
export const MAX_QUOTED_CHARS = 40;

/** Names that vanish or turn into something else as keys of a JavaScript object (a params or metrics map). */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__']);

/** A short, quoted excerpt of a user string for an error message or its details. */
export function excerpt(text: string, max = MAX_QUOTED_CHARS): string {
  if (text.length <= max) return text;
  // Never cut a surrogate pair in two: the excerpt itself must be well-formed.
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** String methods of ES2024 (Node 20 has them; the TypeScript lib here predates them). */
interface Es2024String {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** The text with each lone surrogate replaced by U+FFFD (what a store would have made of it). */
export function wellFormed(text: string): string {
  return (text as unknown as Es2024String).toWellFormed();
}

/** Index of the first lone surrogate (half of a UTF-16 pair), which no store can hold as text; -1 if none. */
export function loneSurrogateIndex(text: string): number {
  if ((text as unknown as Es2024String).isWellFormed()) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

/**
 * A name of an experiment, project, param, series, table or tag: 1..max characters, well-formed UTF-16
 * (no lone surrogate), no control characters (NUL included), not a reserved object key like `__proto__`.
 */
export function checkName(what: string, name: unknown, maxLength: number): LablogError | undefined {
  if (typeof name !== 'string') {
    return new LablogError('INVALID_NAME', `${what} must be a string, got ${describeValue(name)}`, { actual: describeValue(name) });
  }
  if (name.length === 0) {
    return new LablogError('INVALID_NAME', `${what} must not be empty`, { limit: maxLength, actual: 0 });
  }
  const length = name.length <= maxLength ? name.length : characterLength(name);
  if (length > maxLength) {
    return new LablogError(
      'INVALID_NAME',
      `${what} is ${length} characters long; the limit is ${maxLength} (name starts ${JSON.stringify(excerpt(name, 20))})`,
      { limit: maxLength, actual: length, key: excerpt(name) },
    );
  }
  const lone = loneSurrogateIndex(name);
  if (lone >= 0) {
    const code = name.charCodeAt(lone).toString(16).toUpperCase();
    return new LablogError(
      'INVALID_NAME',
      `${what} ${JSON.stringify(name)} contains a lone surrogate U+${code} at index ${lone} (half of a character, e.g. an emoji cut by slice); stores cannot hold it`,
      { key: wellFormed(name), actual: `U+${code}` },
    );
  }
  const control = CONTROL_CHARACTER.exec(name);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(4, '0');
    return new LablogError(
      'INVALID_NAME',
      `${what} ${JSON.stringify(name)} contains the control character U+${code} at index ${control.index}`,
      { key: name, actual: `U+${code}` },
    );
  }
  if (RESERVED_NAMES.has(name)) {
    return new LablogError('INVALID_NAME', `${what} '${name}' is reserved: it is not a plain key of a JavaScript object`, {
      key: name,
      actual: name,
    });
  }
  return undefined;
}

/**
 * Free text (a description, caption, note, param value): well-formed (no lone surrogate), no NUL (which
 * PostgreSQL text cannot hold), at most `maxLength` characters. Fails with `code`, naming `what`, the
 * limit and the actual length.
 */
export function checkText(
  what: string,
  value: string,
  maxLength: number,
  code: LablogErrorCode,
  details: Record<string, unknown> = {},
): LablogError | undefined {
  if (value.length > maxLength) {
    const length = characterLength(value);
    if (length > maxLength) {
      return new LablogError(code, `${what} is ${length} characters; the limit is ${maxLength}`, {
        ...details,
        limit: maxLength,
        actual: length,
      });
    }
  }
  const lone = loneSurrogateIndex(value);
  if (lone >= 0) {
    const unit = value.charCodeAt(lone).toString(16).toUpperCase();
    return new LablogError(
      code,
      `${what} contains a lone surrogate U+${unit} at index ${lone} (half of a character); stores cannot hold it`,
      {
        ...details,
        actual: `U+${unit}`,
      },
    );
  }
  const nul = value.indexOf('\u0000');
  if (nul >= 0) {
    return new LablogError(code, `${what} contains a NUL character (U+0000) at index ${nul}; stores cannot hold it`, {
      ...details,
      actual: 'U+0000',
    });
  }
  return undefined;
}

/** A caption of an image or plot point of series `key`: a string of at most MAX_CAPTION_LENGTH characters, or null. */
export function checkCaption(key: string, caption: unknown): LablogError | undefined {
  if (caption === null || caption === undefined) return undefined;
  if (typeof caption !== 'string') {
    return new LablogError('INVALID_OPTION', `caption for '${key}' must be a string, got ${describeValue(caption)}`, {
      key,
      option: 'caption',
    });
  }
  if (caption.length > MAX_CAPTION_LENGTH && characterLength(caption) > MAX_CAPTION_LENGTH) {
    const length = characterLength(caption);
    return new LablogError(
      'LIMIT_EXCEEDED',
      `caption for '${key}' is ${length} characters; the limit is ${MAX_CAPTION_LENGTH} (MAX_CAPTION_LENGTH)`,
      {
        key,
        option: 'caption',
        limit: MAX_CAPTION_LENGTH,
        actual: length,
      },
    );
  }
  return checkText(`caption for '${key}'`, caption, MAX_CAPTION_LENGTH, 'INVALID_OPTION', { key, option: 'caption' });
}

/** Same as checkName, but throws: for user options, which fail whatever the error handler. */
export function assertName(what: string, name: unknown, maxLength: number): asserts name is string {
  const error = checkName(what, name, maxLength);
  if (error) throw error;
}

export type ParamValue = boolean | number | string | Date;
export type ParamType = 'boolean' | 'number' | 'string' | 'date';

/** Classifies a param value, or returns an INVALID_PARAM_VALUE error. */
export function checkParamValue(
  key: string,
  value: unknown,
  maxValueLength: number,
): { type: ParamType; error?: undefined } | { type?: undefined; error: LablogError } {
  switch (typeof value) {
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      return { type: 'number' };
    case 'string': {
      const error = checkText(`param '${key}'`, value, maxValueLength, 'INVALID_PARAM_VALUE', { key });
      if (error) return { error };
      return { type: 'string' };
    }
    default:
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) {
          return { error: new LablogError('INVALID_PARAM_VALUE', `param '${key}' is an Invalid Date`, { key }) };
        }
        return { type: 'date' };
      }
      return {
        error: new LablogError(
          'INVALID_PARAM_VALUE',
          `param '${key}' must be a boolean, number, string or Date, got ${describeValue(value)}`,
          { key, actual: describeValue(value) },
        ),
      };
  }
}

/** A user-given step: a safe integer >= 0. */
export function checkStep(key: string, step: unknown): LablogError | undefined {
  if (typeof step === 'number' && Number.isSafeInteger(step) && step >= 0) return undefined;
  return new LablogError('INVALID_STEP', `step for '${key}' must be an integer >= 0, got ${describeValue(step)}`, {
    key,
    actual: typeof step === 'number' ? step : describeValue(step),
  });
}

/** A user-given timestamp: a Date or milliseconds since the epoch, finite. Returns ms or an error. */
export function toTimestamp(key: string, timestamp: unknown): number | LablogError {
  const ms = timestamp instanceof Date ? timestamp.getTime() : timestamp;
  if (typeof ms === 'number' && Number.isFinite(ms)) return ms;
  return new LablogError(
    'INVALID_OPTION',
    `timestamp for '${key}' must be a Date or milliseconds since the epoch, got ${describeValue(timestamp)}`,
    { key, option: 'timestamp' },
  );
}

/** Throws INVALID_OPTION when `options` has a key not in `known` (catches misspelled options). */
export function assertKnownOptions(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new LablogError('INVALID_OPTION', `${where}: unknown option '${key}'; known options: ${known.join(', ')}`, {
        option: key,
      });
    }
  }
}

/** Throws INVALID_OPTION unless `options` is undefined or a plain object. */
export function assertOptionsObject(where: string, options: unknown): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new LablogError('INVALID_OPTION', `${where}: options must be an object, got ${describeValue(options)}`, {
      actual: describeValue(options),
    });
  }
}

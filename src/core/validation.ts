// Validation: names, param values, steps and timestamps, each failing with a typed LablogError.

import { LablogError, describeValue } from './errors.js';

// C0 and C1 control characters, including DEL.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Length in characters (code points), not UTF-16 units, so an emoji counts once. */
export function characterLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** A name of an experiment, project, param, series, table or tag: 1..max characters, no control characters. */
export function checkName(what: string, name: unknown, maxLength: number): LablogError | undefined {
  if (typeof name !== 'string') {
    return new LablogError('INVALID_NAME', `${what} must be a string, got ${describeValue(name)}`, { actual: name });
  }
  if (name.length === 0) {
    return new LablogError('INVALID_NAME', `${what} must not be empty`, { limit: maxLength, actual: 0 });
  }
  const length = name.length <= maxLength ? name.length : characterLength(name);
  if (length > maxLength) {
    return new LablogError(
      'INVALID_NAME',
      `${what} is ${length} characters long; the limit is ${maxLength} (name starts ${JSON.stringify(name.slice(0, 20))})`,
      { limit: maxLength, actual: length, key: name },
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
  return undefined;
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
      if (value.length > maxValueLength) {
        const length = characterLength(value);
        if (length > maxValueLength) {
          return {
            error: new LablogError(
              'INVALID_PARAM_VALUE',
              `param '${key}' is a string of ${length} characters; the limit is ${maxValueLength}`,
              { key, limit: maxValueLength, actual: length },
            ),
          };
        }
      }
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
  return new LablogError(
    'INVALID_STEP',
    `step for '${key}' must be an integer >= 0, got ${describeValue(step)}`,
    { key, actual: typeof step === 'number' ? step : describeValue(step) },
  );
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

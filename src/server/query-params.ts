// Query parameters of API requests: one value, or a list (repeated or comma-separated); enum values and the key's projects checked.

import { LablogError } from '../model/errors.js';
import { excerpt } from '../model/validation.js';

export type Query = Record<string, string | string[] | undefined>;

/** The sort orders a list query takes (`?order=`). */
export const ORDERS = ['asc', 'desc'] as const;

/** Experiment and study ids are UUIDs (the model's pattern). */
export { UUID_PATTERN as UUID } from '../model/ids.js';

/** The parameter's value (the last one when repeated). */
export function one(query: Query, field: string): string | undefined {
  const value = query[field];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** Every value of a parameter: repeated (`tags=a&tags=b`) or comma-separated (`tags=a,b`). */
export function many(query: Query, field: string): string[] {
  const value = query[field];
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((v) => v.split(',')).filter((v) => v.length > 0);
}

/**
 * The project a list query names (`?project=`, the last when repeated), when the API key's scope holds it;
 * undefined when it names none (the list then covers the whole scope). FORBIDDEN for a project outside the scope.
 */
export function projectInScope(query: Query, scope: readonly string[]): string | undefined {
  const project = one(query, 'project');
  if (project !== undefined && !scope.includes(project)) {
    throw new LablogError('FORBIDDEN', `this API key cannot read project '${project}'`, { project });
  }
  return project;
}

/** INVALID_OPTION for a value of an enum-valued parameter that is not one of `allowed`, quoting the value. */
function notAllowed(field: string, allowed: readonly string[], value: string): LablogError {
  return new LablogError('INVALID_OPTION', `${field} must be one of ${allowed.join(', ')}, got '${excerpt(value)}'`, {
    field,
    actual: excerpt(value),
  });
}

/** Every value of an enum-valued parameter (repeated or comma-separated, as `many`), each one of `allowed`; INVALID_OPTION for any other. */
export function valuesIn<T extends string>(query: Query, field: string, allowed: readonly T[]): T[] {
  const values = many(query, field);
  for (const value of values) if (!(allowed as readonly string[]).includes(value)) throw notAllowed(field, allowed, value);
  return values as T[];
}

/** The value of a one-valued enum parameter (the last when repeated, as `one`) if one of `allowed`, undefined when absent; INVALID_OPTION for any other. */
export function valueIn<T extends string>(query: Query, field: string, allowed: readonly T[]): T | undefined {
  const value = one(query, field);
  if (value !== undefined && !(allowed as readonly string[]).includes(value)) throw notAllowed(field, allowed, value);
  return value as T | undefined;
}

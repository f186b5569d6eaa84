// Query parameters of API requests: one value, or a list (repeated or comma-separated).

export type Query = Record<string, string | string[] | undefined>;

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

// Numbers in JSON answers: NaN and ±Infinity travel as the strings 'NaN', 'Infinity' and '-Infinity', so a
// diverged value stays visible and is never confused with a missing one (null).

export const NON_FINITE_TOKENS = ['NaN', 'Infinity', '-Infinity'] as const;
export type NonFiniteToken = (typeof NON_FINITE_TOKENS)[number];
/** A number as JSON answers carry it. */
export type JsonNumber = number | NonFiniteToken;

/** The JSON form of a number: itself when finite, else its token. */
export function toJsonNumber(value: number): JsonNumber {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** The JSON form of a number that may be missing (null stays null: no value). */
export function toJsonNumberOrNull(value: number | null | undefined): JsonNumber | null {
  return value === null || value === undefined ? null : toJsonNumber(value);
}

/** The number a JSON answer carries (tokens back to NaN and ±Infinity); null stays null. */
export function fromJsonNumber(value: JsonNumber | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  return value === 'NaN' ? Number.NaN : value === 'Infinity' ? Infinity : -Infinity;
}

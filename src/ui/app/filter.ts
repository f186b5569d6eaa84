// The experiments table's condition filter: parses `lr < 0.01 and max(val/acc) >= 0.9, tag = x` and tests rows.

import { fromJsonNumber } from '../../model/json-number.js';
import type { ExperimentRow } from '../ui-api.js';

export type Op = '<' | '<=' | '>' | '>=' | '=' | '!=' | '~';
export type Stat = 'last' | 'min' | 'max';
export type Value = number | string | boolean;

/** What a condition looks at: a param, a metric's last/min/max, or the experiment's name, status or tags. */
export type Field = { kind: 'param'; key: string } | { kind: 'metric'; key: string; stat: Stat } | { kind: 'name' | 'status' | 'tag' };

export interface Condition {
  readonly field: Field;
  readonly op: Op;
  readonly value: Value;
}

/** Conditions that must all hold (an empty filter matches every row). */
export interface Filter {
  readonly conditions: readonly Condition[];
}

export class FilterError extends Error {}

const BUILTINS: Record<string, 'name' | 'status' | 'tag'> = { name: 'name', status: 'status', tag: 'tag', tags: 'tag' };
// NAME (anything up to the operator, or stat(NAME)), OP, VALUE (the rest).
const CONDITION = /^(?:(last|min|max)\s*\(\s*(.+?)\s*\)|(.+?))\s*(<=|>=|!=|==|=|<|>|~)\s*(.*)$/s;

/** Parses the filter text; names resolve to a param first, then a metric, then name/status/tag. */
export function parseFilter(text: string, keys: { params: readonly string[]; metrics: readonly string[] }): Filter {
  const params = new Set(keys.params);
  const metrics = new Set(keys.metrics);
  const conditions = splitConditions(text).map((part): Condition => {
    const match = CONDITION.exec(part);
    if (!match) throw new FilterError(`'${part}': expected NAME OP VALUE, with OP one of < <= > >= = != ~`);
    const [, stat, statName, plainName, rawOp, rawValue = ''] = match;
    const name = (statName ?? plainName ?? '').trim();
    const op = (rawOp === '==' ? '=' : rawOp) as Op;
    if (rawValue.trim() === '') throw new FilterError(`'${part}': missing value after '${op}'`);
    // `lr <<< 1` or `lr =< 1`: an operator the grammar does not have, not `<` followed by the text "<< 1".
    if (/^[<>=!~]/.test(rawValue.trim()))
      throw new FilterError(`'${part}': unknown operator; OP is one of < <= > >= = != ~ (quote a value that starts with one of them)`);
    const value = parseValue(rawValue.trim());
    let field: Field;
    if (stat !== undefined) {
      if (!metrics.has(name))
        throw new FilterError(
          params.has(name)
            ? `'${stat}(${name})': ${name} is a param; ${stat}() applies to metrics`
            : `'${stat}(${name})': no metric named '${name}'`,
        );
      field = { kind: 'metric', key: name, stat: stat as Stat };
    } else if (params.has(name)) field = { kind: 'param', key: name };
    else if (metrics.has(name)) field = { kind: 'metric', key: name, stat: 'last' };
    else if (BUILTINS[name.toLowerCase()] !== undefined) field = { kind: BUILTINS[name.toLowerCase()]! };
    else throw new FilterError(`'${name}': no param or metric of that name (nor name, status, tag)`);
    return { field, op, value };
  });
  return { conditions };
}

export function matches(filter: Filter, row: ExperimentRow): boolean {
  return filter.conditions.every((condition) => holds(condition, row));
}

function holds({ field, op, value }: Condition, row: ExperimentRow): boolean {
  switch (field.kind) {
    case 'param': {
      const actual = row.params[field.key];
      return actual !== undefined && compare(actual, op, value);
    }
    case 'metric': {
      const actual = fromJsonNumber(row.metrics[field.key]?.[field.stat]);
      return actual !== null && compare(actual, op, value);
    }
    case 'name':
      return compare(row.name, op, value);
    case 'status':
      return compare(row.status, op, value);
    case 'tag':
      // `tag != x`: no tag is x; any other operator: some tag satisfies it.
      return op === '!=' ? !row.tags.some((tag) => compare(tag, '=', value)) : row.tags.some((tag) => compare(tag, op, value));
  }
}

/** Numbers compare numerically, everything else as text; `~` is a case-insensitive substring test. */
function compare(actual: Value, op: Op, expected: Value): boolean {
  if (op === '~') return String(actual).toLowerCase().includes(String(expected).toLowerCase());
  let order: number;
  if (typeof actual === 'number' && typeof expected === 'number') order = actual === expected ? 0 : actual < expected ? -1 : 1;
  else {
    const a = String(actual);
    const b = String(expected);
    order = a === b ? 0 : a < b ? -1 : 1;
  }
  switch (op) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
  }
}

function parseValue(text: string): Value {
  const quote = text[0];
  if ((quote === '"' || quote === "'") && text.length >= 2 && text.endsWith(quote)) return text.slice(1, -1);
  if (quote === '"' || quote === "'") throw new FilterError(`${text}: unterminated quote`);
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) return Number(text);
  return text;
}

/** Splits on `,` and on the word `and`, outside quotes; empty parts (a trailing comma) are dropped. */
function splitConditions(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== null) {
      if (c === quote) quote = null;
      current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if (c === ',') {
      parts.push(current);
      current = '';
    } else if (/\s/.test(c) && /^and\s/i.test(text.slice(i + 1, i + 5)) && current.trim() !== '') {
      parts.push(current);
      current = '';
      i += 4;
    } else current += c;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

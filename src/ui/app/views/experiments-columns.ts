// The experiments table's columns: the fixed ones and a param's or a metric statistic's, their cells, the default choice, their order in the URL, and the rows they sort.

import { fromJsonNumber } from '../../../model/json-number.js';
import { formatDuration, formatNumber, formatTime, h, statusBadge } from '../dom.js';
import { matches, type Filter, type Stat } from '../filter.js';
import { href } from '../navigation.js';
import type { ExperimentRow, ExperimentTable } from '../../ui-api.js';

/** Params and metrics the default columns show at most. */
const DEFAULT_PARAMS = 4;
const DEFAULT_METRICS = 6;
/** A metric's statistics the column chooser offers. */
export const STATS: readonly Stat[] = ['last', 'min', 'max'];

export type Cell = number | string | boolean | null | undefined;

export interface Column {
  /** name, status, started, duration, tags, param:KEY or metric:KEY:STAT (also the `sort` and `cols` URL values). */
  readonly id: string;
  readonly label: string;
  readonly title?: string;
  value(row: ExperimentRow): Cell;
  cell(row: ExperimentRow): HTMLTableCellElement;
}

const clampPct = (pct: number) => Math.min(100, Math.max(0, pct));

export const FIXED_COLUMNS: readonly Column[] = [
  {
    id: 'name',
    label: 'name',
    value: (row) => row.name,
    cell: (row) => h('td', { class: 'name' }, h('a', { href: href(`/experiments/${row.id}`), title: row.description ?? null }, row.name)),
  },
  {
    id: 'status',
    label: 'status',
    value: (row) => row.status,
    // With a reported progress, a small bar and its percentage beside the badge.
    cell: (row) =>
      h(
        'td',
        null,
        statusBadge(row.status),
        row.progress
          ? h(
              'span',
              { class: 'mini-progress', 'data-testid': 'row-progress', title: row.progress.phase ?? null },
              h(
                'span',
                { class: 'mini-progress-bar' },
                h('span', { class: 'mini-progress-fill', style: `width: ${clampPct(row.progress.pct)}%` }),
              ),
              ` ${Number(clampPct(row.progress.pct).toFixed(1))}%`,
            )
          : null,
      ),
  },
  { id: 'started', label: 'started', value: (row) => row.createdAt, cell: (row) => h('td', { class: 'num' }, formatTime(row.createdAt)) },
  {
    id: 'duration',
    label: 'duration',
    value: (row) => row.durationMs,
    cell: (row) => h('td', { class: 'num' }, formatDuration(row.durationMs)),
  },
  {
    id: 'tags',
    label: 'tags',
    value: (row) => (row.tags.length > 0 ? row.tags.join(', ') : null),
    cell: (row) =>
      h(
        'td',
        null,
        row.tags.map((tag) => h('span', { class: 'tag' }, tag)),
      ),
  },
];

export function dataColumn(id: string): Column | null {
  if (id.startsWith('param:')) {
    const key = id.slice('param:'.length);
    return { id, label: key, title: `param ${key}`, value: (row) => row.params[key], cell: (row) => valueCell(id, row.params[key]) };
  }
  const match = /^metric:(.+):(last|min|max)$/s.exec(id);
  if (!match) return null;
  const key = match[1]!;
  const stat = match[2] as Stat;
  const value = (row: ExperimentRow): Cell => fromJsonNumber(row.metrics[key]?.[stat]);
  return {
    id,
    label: stat === 'last' ? key : `${stat}(${key})`,
    title: `metric ${key}, ${stat} value`,
    value,
    cell: (row) => valueCell(id, value(row)),
  };
}

/** A param or metric cell: formatted text, the exact value in data-value (absent when missing). */
function valueCell(id: string, value: Cell): HTMLTableCellElement {
  const missing = value === null || value === undefined;
  return h(
    'td',
    { class: typeof value === 'number' ? 'num' : null, 'data-col': id, 'data-value': missing ? null : String(value) },
    typeof value === 'number' ? formatNumber(value) : missing ? '—' : String(value),
  );
}

// `cols` in the URL: ids joined by ',', with '%' and ',' escaped inside an id.
export const encodeCols = (ids: readonly string[]): string => ids.map((id) => id.replace(/%/g, '%25').replace(/,/g, '%2C')).join(',');
export const decodeCols = (text: string): string[] =>
  text
    .split(',')
    .filter((id) => id !== '')
    .map((id) => id.replace(/%2C/gi, ',').replace(/%25/g, '%'));

/**
 * Up to 4 params whose value differs between rows (the ones most rows have first; text unique to every row,
 * such as a start time, is left to the chooser), then every metric's last value, up to 6.
 */
export function defaultColumns(table: ExperimentTable): string[] {
  const rows = table.experiments;
  const present = (key: string) => rows.filter((row) => row.params[key] !== undefined);
  const varying = table.paramKeys.filter((key) => {
    if (rows.length <= 1) return true;
    const values = present(key).map((row) => row.params[key]);
    const distinct = new Set(values);
    if (distinct.size <= 1 && values.length === rows.length) return false;
    const allText = values.every((v) => typeof v === 'string');
    return !(allText && values.length > 2 && distinct.size === values.length);
  });
  varying.sort((a, b) => present(b).length - present(a).length);
  return [
    ...varying.slice(0, DEFAULT_PARAMS).map((key) => `param:${key}`),
    ...table.metricKeys.slice(0, DEFAULT_METRICS).map((key) => `metric:${key}:last`),
  ];
}

export const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Ascending order of two present values: numbers numerically and before text, text with natural number order. */
function compareCells(a: number | string | boolean, b: number | string | boolean): number {
  // NaN after every other number (a diverged run sorts beside the worst, never at random).
  if (typeof a === 'number' && typeof b === 'number')
    return Number.isNaN(a) || Number.isNaN(b) ? Number(Number.isNaN(a)) - Number(Number.isNaN(b)) : a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return collator.compare(String(a), String(b));
}

/** What narrows and orders the rows: the status and tag chosen, the parsed filter, and the sort. */
export interface RowQuery {
  readonly statusFilter: string;
  readonly tagFilter: string;
  readonly condition: Filter | null;
  readonly sortId: string | null;
  readonly order: 'asc' | 'desc';
}

/** The rows that pass the filters, sorted by the sort column (stable; missing values last, whatever the order). */
export function visibleRows(all: readonly ExperimentRow[], q: RowQuery, cols: readonly Column[]): ExperimentRow[] {
  let rows = all.filter(
    (row) =>
      (q.statusFilter === '' || row.status === q.statusFilter) &&
      (q.tagFilter === '' || row.tags.includes(q.tagFilter)) &&
      (q.condition === null || matches(q.condition, row)),
  );
  const sortCol = q.sortId === null ? undefined : cols.find((c) => c.id === q.sortId);
  if (sortCol) {
    const direction = q.order === 'asc' ? 1 : -1;
    const keyed = rows.map((row, index) => ({ row, index, value: sortCol.value(row) }));
    keyed.sort((a, b) => {
      const am = a.value === null || a.value === undefined;
      const bm = b.value === null || b.value === undefined;
      if (am || bm) return am === bm ? a.index - b.index : am ? 1 : -1; // missing values last, whatever the order
      return direction * compareCells(a.value!, b.value!) || a.index - b.index;
    });
    rows = keyed.map((k) => k.row);
  }
  return rows;
}

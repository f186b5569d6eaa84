// A sweep's trials table: number, status, value, one column per param, duration; sorted by any column on a header click, filtered by status.

import { TRIAL_STATUSES, type TrialStatus } from '../../../model/sweep.js';
import { formatDuration, formatValue, h, mount, statusBadge } from '../dom.js';
import type { TrialSummary } from '../../ui-api.js';
import { collator } from './compare-rows.js';

type Cell = number | string | boolean | null;

interface Column {
  readonly id: string;
  readonly label: string;
  readonly numeric: boolean;
  readonly value: (trial: TrialSummary, now: number) => Cell;
  readonly text?: (trial: TrialSummary, now: number) => string | HTMLElement;
}

/** How long a trial ran: started to completed, or to now while it runs; null before it started. */
function durationOf(trial: TrialSummary, now: number): number | null {
  if (trial.startedAt === null) return null;
  return Math.max(0, (trial.completedAt ?? (trial.status === 'running' ? now : trial.startedAt)) - trial.startedAt);
}

/** Null last whatever the order; numbers by value, the rest as text (numeric collation). */
function compareCells(a: Cell, b: Cell): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

export interface TrialsTableState {
  sort: string;
  order: 'asc' | 'desc';
  /** The status shown; null: every status. */
  status: TrialStatus | null;
}

export interface TrialsTable {
  readonly element: HTMLElement;
  /** Draws these trials with the current sort and filter. */
  update(trials: readonly TrialSummary[]): void;
}

/** The table; `onChange` hears the sort and the filter as the user changes them (to keep them in the address). */
export function trialsTable(
  params: readonly { readonly name: string; readonly numeric: boolean }[],
  state: TrialsTableState,
  onChange: (state: TrialsTableState) => void,
): TrialsTable {
  const columns: Column[] = [
    { id: 'number', label: '#', numeric: true, value: (t) => t.number },
    { id: 'status', label: 'status', numeric: false, value: (t) => t.status, text: (t) => statusBadge(t.status) },
    { id: 'value', label: 'value', numeric: true, value: (t) => t.value },
    ...params.map((p): Column => ({
      id: `param:${p.name}`,
      label: p.name,
      numeric: p.numeric,
      value: (t) => (Object.hasOwn(t.params, p.name) ? t.params[p.name]! : null),
    })),
    {
      id: 'duration',
      label: 'duration',
      numeric: true,
      value: (t, now) => durationOf(t, now),
      text: (t, now) => formatDuration(durationOf(t, now)),
    },
  ];
  if (!columns.some((c) => c.id === state.sort)) state.sort = 'number';
  let trials: readonly TrialSummary[] = [];

  const filter = h(
    'select',
    { 'data-testid': 'trial-status-filter' },
    h('option', { value: '' }, 'every status'),
    TRIAL_STATUSES.map((s) => h('option', { value: s }, s)),
  );
  filter.value = state.status ?? '';
  filter.addEventListener('change', () => {
    state.status = filter.value === '' ? null : (filter.value as TrialStatus);
    onChange(state);
    draw();
  });
  const count = h('span', { class: 'muted', 'data-testid': 'trial-count' });
  const head = h('thead');
  const body = h('tbody');
  const empty = h('p', { class: 'muted', 'data-testid': 'trials-empty', hidden: true });
  const element = h(
    'section',
    { class: 'panel', 'data-section': 'trials' },
    h('div', { class: 'toolbar' }, h('h2', null, 'Trials'), h('label', null, 'status ', filter), count),
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid sweep-trials', 'data-testid': 'sweep-trials' }, head, body)),
    empty,
  );

  const drawHead = () =>
    mount(
      head,
      h(
        'tr',
        null,
        columns.map((c) => {
          const sorted = c.id === state.sort;
          return h(
            'th',
            {
              'data-col': c.id,
              'data-sort': sorted ? state.order : null,
              title: `sort by ${c.label}`,
              class: [c.numeric ? 'num' : '', sorted ? 'sorted' : ''].join(' ').trim() || null,
              onclick: () => {
                if (state.sort === c.id) state.order = state.order === 'asc' ? 'desc' : 'asc';
                else {
                  state.sort = c.id;
                  state.order = 'asc';
                }
                onChange(state);
                draw();
              },
            },
            c.label,
            h('span', { class: 'arrow' }, sorted ? (state.order === 'asc' ? ' ▲' : ' ▼') : ''),
          );
        }),
      ),
    );

  const draw = () => {
    const now = Date.now();
    drawHead();
    const column = columns.find((c) => c.id === state.sort)!;
    const sign = state.order === 'asc' ? 1 : -1;
    const shown = trials
      .filter((t) => state.status === null || t.status === state.status)
      .map((t) => ({ t, key: column.value(t, now) }))
      .sort((a, b) => {
        // Empty cells stay last in both orders; ties by trial number.
        if (a.key === null || b.key === null) return compareCells(a.key, b.key) || a.t.number - b.t.number;
        return sign * compareCells(a.key, b.key) || a.t.number - b.t.number;
      });
    count.textContent = state.status === null ? `${trials.length} trials` : `${shown.length} of ${trials.length} trials`;
    empty.hidden = shown.length > 0;
    empty.textContent = trials.length === 0 ? 'No trials yet: they show here as workers ask for them.' : `No ${state.status ?? ''} trials.`;
    mount(
      body,
      shown.map(({ t }) =>
        h(
          'tr',
          { 'data-trial': t.number, 'data-status': t.status, title: t.error ?? null },
          columns.map((c) => {
            const value = c.value(t, now);
            return h(
              'td',
              { 'data-col': c.id, 'data-value': typeof value === 'boolean' ? String(value) : value, class: c.numeric ? 'num' : null },
              c.text ? c.text(t, now) : formatValue(value),
            );
          }),
        ),
      ),
    );
  };

  return {
    element,
    update(next) {
      trials = next;
      draw();
    },
  };
}

// The compare view's table: name, status, duration, the params that differ and every metric's last value, sortable, best values marked.

import { formatDuration, formatNumber, formatValue, h, mount, statusBadge } from '../dom.js';
import { href, replaceQuery, type ViewContext } from '../navigation.js';
import { seriesColor } from '../charts/line-chart.js';
import { type CompareGoals } from './compare-goals.js';
import type { ExperimentRow } from '../../ui-api.js';
import { collator, finite, differs } from './compare-rows.js';

/** A dot in the color the charts give the experiment at `index` (same palette, same order). */
export function swatch(index: number): HTMLElement {
  const dot = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  dot.style.background = seriesColor(index);
  return dot;
}

/** The chosen experiments in a table: name, status, duration, the params that differ, every metric's last value. */
export function compareTable(
  ctx: ViewContext,
  rows: readonly ExperimentRow[],
  paramKeys: readonly string[],
  metricKeys: readonly string[],
  goals: CompareGoals,
): HTMLElement {
  const varying = rows.length === 1 ? [...paramKeys] : paramKeys.filter((k) => differs(rows, k));
  const same = paramKeys.filter((k) => !varying.includes(k));
  const wrap = h('div', { class: 'table-wrap' });
  const allParams = h('input', { type: 'checkbox', 'data-testid': 'compare-all-params' });
  const colorIndex = new Map(rows.map((r, i) => [r.id, i]));
  let sort: { col: string; dir: 1 | -1 } | null = null;
  const sortBy = (col: string): void => {
    sort = sort?.col === col ? (sort.dir === 1 ? { col, dir: -1 } : null) : { col, dir: 1 };
    draw();
  };
  const draw = (): void => {
    const shown = allParams.checked ? paramKeys : varying;
    // Best last value per metric column, by the goal stated in the URL or suggested by its name.
    const best = new Map<string, number>();
    for (const key of metricKeys) {
      const values = rows.map((r) => r.metrics[key]?.last).filter(finite);
      if (values.length > 1) best.set(key, goals.of(key) === 'minimize' ? Math.min(...values) : Math.max(...values));
    }
    // The goal of a metric column, as a switch: a click states the other goal (kept in the URL).
    const goalSwitch = (key: string): HTMLElement => {
      const goal = goals.of(key);
      return h(
        'button',
        {
          type: 'button',
          class: 'goal-switch',
          'data-testid': 'goal-switch',
          'data-metric': key,
          'data-goal': goal,
          title: `${goal === 'minimize' ? 'lower' : 'higher'} is better${goals.stated(key) ? '' : ' (from the name)'}: click for ${goal === 'minimize' ? 'higher' : 'lower'}`,
          onclick: (event: Event) => {
            event.stopPropagation(); // not a sort
            goals.flip(key);
            replaceQuery({ ...Object.fromEntries(ctx.query), goals: goals.toQuery() });
            draw();
          },
        },
        goal === 'minimize' ? '↓' : '↑',
      );
    };
    const th = (col: string, label: string, cls: string | null, title: string | null) =>
      h(
        'th',
        {
          'data-col': col,
          class: cls,
          title,
          'aria-sort': sort?.col === col ? (sort.dir === 1 ? 'ascending' : 'descending') : null,
          onclick: () => sortBy(col),
        },
        label,
        sort?.col === col ? (sort.dir === 1 ? ' ▲' : ' ▼') : '',
      );
    const head = h(
      'tr',
      null,
      th('name', 'experiment', null, null),
      th('status', 'status', null, null),
      th('duration', 'duration', 'num', null),
      shown.map((k) => th(`param:${k}`, k, 'param-col', 'param')),
      metricKeys.map((k) =>
        h(
          'th',
          {
            'data-col': `metric:${k}:last`,
            class: 'num metric-col',
            title: 'last value',
            'aria-sort': sort?.col === `metric:${k}:last` ? (sort.dir === 1 ? 'ascending' : 'descending') : null,
            onclick: () => sortBy(`metric:${k}:last`),
          },
          goalSwitch(k),
          ' ',
          k,
          sort?.col === `metric:${k}:last` ? (sort.dir === 1 ? ' ▲' : ' ▼') : '',
        ),
      ),
    );
    const ordered =
      sort === null ? [...rows] : [...rows].sort((a, b) => compareCells(sortValue(a, sort!.col), sortValue(b, sort!.col), sort!.dir));
    const body = ordered.map((r) =>
      h(
        'tr',
        { 'data-id': r.id },
        h(
          'td',
          { 'data-col': 'name', 'data-value': r.name },
          swatch(colorIndex.get(r.id)!),
          h('a', { href: href(`/experiments/${r.id}`) }, r.name),
        ),
        h('td', { 'data-col': 'status', 'data-value': r.status }, statusBadge(r.status)),
        h('td', { 'data-col': 'duration', 'data-value': r.durationMs, class: 'num' }, formatDuration(r.durationMs)),
        shown.map((k) => {
          const v = r.params[k];
          return h(
            'td',
            { 'data-col': `param:${k}`, 'data-value': v === undefined ? null : String(v), class: typeof v === 'number' ? 'num' : null },
            v === undefined ? '' : formatValue(v),
          );
        }),
        metricKeys.map((k) => {
          const s = r.metrics[k];
          const last = s?.last ?? null;
          const isBest = last !== null && best.get(k) === last;
          return h(
            'td',
            {
              'data-col': `metric:${k}:last`,
              'data-value': last,
              class: isBest ? 'num best' : 'num',
              title: s ? `step ${s.lastStep ?? '—'}, min ${formatNumber(s.min)}, max ${formatNumber(s.max)}` : null,
            },
            s ? formatNumber(last) : '',
          );
        }),
      ),
    );
    mount(
      wrap,
      h('table', { class: 'grid compare-table', 'data-testid': 'compare-table' }, h('thead', null, head), h('tbody', null, body)),
    );
  };
  allParams.addEventListener('change', draw);
  draw();
  return h(
    'div',
    null,
    h(
      'div',
      { class: 'toolbar' },
      h(
        'span',
        { class: 'muted' },
        varying.length === paramKeys.length ? `${paramKeys.length} params` : `${varying.length} of ${paramKeys.length} params differ`,
      ),
      same.length > 0 ? h('label', null, allParams, ' show all params') : null,
    ),
    wrap,
  );
}

/** The value a compare-table column sorts by. */
function sortValue(row: ExperimentRow, col: string): number | string | null {
  if (col === 'name') return row.name;
  if (col === 'status') return row.status;
  if (col === 'duration') return row.durationMs;
  if (col.startsWith('param:')) {
    const v = row.params[col.slice('param:'.length)];
    return v === undefined ? null : typeof v === 'number' ? v : String(v);
  }
  const metric = col.slice('metric:'.length, -':last'.length);
  return row.metrics[metric]?.last ?? null;
}

/** Numbers before text, missing values last whatever the direction. */
function compareCells(a: number | string | null, b: number | string | null, dir: 1 | -1): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return dir * (a - b);
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return dir * collator.compare(a, b);
}

// The experiments table's column chooser: a checkbox per param and per metric statistic, a search box, and a reset to the default columns.

import { h, mount } from '../dom.js';
import { STATS, defaultColumns } from './experiments-columns.js';
import type { ExperimentsPage } from './experiments-page.js';
import { syncUrl } from './experiments-state.js';

function setColumns(page: ExperimentsPage, ids: string[]): void {
  page.state.colIds = ids;
  page.state.customCols = true;
  syncUrl(page.state);
  page.renderTable();
}

/** The chooser's body: a checkbox per param, three (last/min/max) per metric, a search box and a reset. */
export function fillChooser(page: ExperimentsPage): void {
  const { state, columnsChooser } = page;
  const search = h('input', { type: 'search', placeholder: 'find a param or metric', class: 'chooser-search' });
  const list = h('div', { class: 'chooser-list' });
  const toggle = (id: string, on: boolean) => {
    const without = state.colIds.filter((c) => c !== id);
    if (!on) return setColumns(page, without);
    // Params go after the other param columns, metrics at the end.
    const at = id.startsWith('param:') ? without.filter((c) => c.startsWith('param:')).length : without.length;
    setColumns(page, [...without.slice(0, at), id, ...without.slice(at)]);
  };
  const box = (id: string, label: string) =>
    h(
      'label',
      { class: 'chooser-item' },
      h('input', {
        type: 'checkbox',
        'data-col': id,
        checked: state.colIds.includes(id),
        onchange: (event: Event) => toggle(id, (event.target as HTMLInputElement).checked),
      }),
      label,
    );
  const fill = () => {
    const table = state.table;
    const needle = search.value.trim().toLowerCase();
    const keep = (key: string) => needle === '' || key.toLowerCase().includes(needle);
    const params = table.paramKeys.filter(keep);
    const metrics = table.metricKeys.filter(keep);
    mount(
      list,
      h('h4', null, `Params (${table.paramKeys.length})`),
      params.length > 0
        ? params.map((key) => h('div', { class: 'chooser-row' }, box(`param:${key}`, key)))
        : h('p', { class: 'muted' }, 'none'),
      h('h4', null, `Metrics (${table.metricKeys.length})`),
      metrics.length > 0
        ? metrics.map((key) =>
            h(
              'div',
              { class: 'chooser-row' },
              h('span', { class: 'chooser-key', title: key }, key),
              STATS.map((stat) => box(`metric:${key}:${stat}`, stat)),
            ),
          )
        : h('p', { class: 'muted' }, 'none'),
    );
  };
  search.addEventListener('input', fill);
  fill();
  mount(
    columnsChooser,
    h('summary', null, 'Columns'),
    h(
      'div',
      { class: 'chooser-panel' },
      h(
        'div',
        { class: 'chooser-actions' },
        search,
        h(
          'button',
          {
            onclick: () => {
              state.colIds = defaultColumns(state.table);
              state.customCols = false;
              syncUrl(state);
              page.renderTable();
              fill();
            },
          },
          'Default columns',
        ),
      ),
      list,
    ),
  );
  columnsChooser.open = true;
}

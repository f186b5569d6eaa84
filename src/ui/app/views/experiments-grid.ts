// The experiments table itself: its header (click to sort, select all), the rows shown with their checkboxes, "show more", and the compare button's state.

import { formatNumber, h, mount } from '../dom.js';
import { MAX_SERIES_EXPERIMENTS } from '../../ui-api.js';
import { FIXED_COLUMNS, dataColumn, visibleRows, type Column } from './experiments-columns.js';
import type { ExperimentsPage } from './experiments-page.js';
import { PAGE_ROWS, syncUrl } from './experiments-state.js';

/** The columns shown: the fixed ones, then the chosen params and metric statistics. */
export function columns(page: ExperimentsPage): Column[] {
  return [...FIXED_COLUMNS, ...page.state.colIds.map(dataColumn).filter((c): c is Column => c !== null)];
}

/** Draws the header, the first `limit` rows that pass the filters in sort order, the counts and "show more". */
export function renderGrid(page: ExperimentsPage): void {
  const { state, thead, tbody, rowCount, truncatedNote, more } = page;
  const cols = columns(page);
  const rows = visibleRows(state.table.experiments, state, cols);
  const shown = rows.slice(0, state.limit);
  state.renderedIds = shown.map((row) => row.id);

  const selectAll = h('input', { type: 'checkbox', 'data-testid': 'select-all', title: 'Select the rows shown' });
  selectAll.addEventListener('change', () => {
    for (const id of state.renderedIds) {
      if (selectAll.checked) state.selected.add(id);
      else state.selected.delete(id);
    }
    for (const tr of tbody.rows) {
      const box = tr.querySelector<HTMLInputElement>('input[type=checkbox]');
      if (box) box.checked = selectAll.checked;
      tr.classList.toggle('selected', selectAll.checked);
    }
    updateSelection(page);
  });
  mount(
    thead,
    h(
      'tr',
      null,
      h('th', { class: 'select' }, selectAll),
      cols.map((col) => {
        const sorted = col.id === state.sortId;
        const sample =
          col.id === 'started' || col.id === 'duration' ? 0 : shown.map((row) => col.value(row)).find((v) => v !== null && v !== undefined);
        return h(
          'th',
          {
            'data-col': col.id,
            'data-sort': sorted ? state.order : null,
            title: col.title ?? `sort by ${col.label}`,
            class: [typeof sample === 'number' ? 'num' : '', sorted ? 'sorted' : ''].join(' ').trim() || null,
            onclick: () => {
              if (state.sortId === col.id) state.order = state.order === 'asc' ? 'desc' : 'asc';
              else {
                state.sortId = col.id;
                state.order = 'asc';
              }
              syncUrl(state);
              page.renderTable();
            },
          },
          col.label,
          h('span', { class: 'arrow' }, sorted ? (state.order === 'asc' ? ' ▲' : ' ▼') : ''),
        );
      }),
    ),
  );

  const fragment = document.createDocumentFragment();
  for (const row of shown) {
    const isSelected = state.selected.has(row.id);
    fragment.append(
      h(
        'tr',
        { 'data-id': row.id, class: isSelected ? 'selected' : null },
        h(
          'td',
          { class: 'select' },
          h('input', { type: 'checkbox', 'data-testid': 'select-row', checked: isSelected, title: 'Select for comparison' }),
        ),
        cols.map((col) => col.cell(row)),
      ),
    );
  }
  tbody.replaceChildren(fragment);
  if (shown.length === 0)
    tbody.append(h('tr', { class: 'no-rows' }, h('td', { colspan: cols.length + 1 }, 'No experiment matches these filters.')));

  const table = state.table;
  rowCount.textContent = `${formatNumber(rows.length)} of ${formatNumber(table.experiments.length)} experiments`;
  truncatedNote.textContent = table.truncated
    ? `Only the newest ${formatNumber(table.experiments.length)} of ${formatNumber(table.total)} experiments in ${state.project} are loaded.`
    : '';
  const remaining = rows.length - shown.length;
  mount(
    more,
    remaining > 0
      ? [
          h('span', { class: 'muted' }, `Showing ${formatNumber(shown.length)} of ${formatNumber(rows.length)}. `),
          h(
            'button',
            {
              'data-testid': 'show-more',
              onclick: () => {
                state.limit += PAGE_ROWS;
                page.renderTable();
              },
            },
            `Show ${formatNumber(Math.min(PAGE_ROWS, remaining))} more`,
          ),
        ]
      : null,
  );
  updateSelection(page);
}

/** The compare button, "clear selection" and the select-all box, after the selection changed. */
export function updateSelection(page: ExperimentsPage): void {
  const { state, compareButton, clearButton, thead } = page;
  const n = state.selected.size;
  compareButton.textContent = n > 0 ? `Compare ${n}` : 'Compare';
  compareButton.disabled = n < 2 || n > MAX_SERIES_EXPERIMENTS;
  compareButton.title =
    n > MAX_SERIES_EXPERIMENTS
      ? `At most ${MAX_SERIES_EXPERIMENTS} experiments can be compared`
      : n < 2
        ? 'Select at least two experiments'
        : '';
  clearButton.hidden = n === 0;
  const selectAll = thead.querySelector<HTMLInputElement>('[data-testid=select-all]');
  if (selectAll) {
    const shownSelected = state.renderedIds.filter((id) => state.selected.has(id)).length;
    selectAll.checked = state.renderedIds.length > 0 && shownSelected === state.renderedIds.length;
    selectAll.indeterminate = shownSelected > 0 && shownSelected < state.renderedIds.length;
  }
}

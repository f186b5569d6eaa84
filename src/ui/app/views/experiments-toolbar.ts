// The experiments page's filters: status, tag and the condition text (debounced), each resetting the rows shown and asking for a redraw.

import { h, mount } from '../dom.js';
import { collator } from './experiments-columns.js';
import { PAGE_ROWS, type TableState } from './experiments-state.js';

const FILTER_DEBOUNCE_MS = 250;
const STATUSES = ['running', 'completed', 'failed', 'cancelled', 'crashed'] as const;

export interface FilterControls {
  readonly statusSelect: HTMLSelectElement;
  readonly tagSelect: HTMLSelectElement;
  readonly filterInput: HTMLInputElement;
  readonly filterError: HTMLElement;
  /** Refills the tag choice from the table's rows (after a poll). */
  fillTags(): void;
}

/** The filter controls over `state`; `update` redraws after a change. The debounce timer stops with `signal`. */
export function filterControls(state: TableState, signal: AbortSignal, update: () => void): FilterControls {
  const statusSelect = h(
    'select',
    {
      'data-testid': 'status-filter',
      title: 'Status',
      onchange: () => {
        state.statusFilter = statusSelect.value;
        state.limit = PAGE_ROWS;
        update();
      },
    },
    h('option', { value: '' }, 'any status'),
    STATUSES.map((s) => h('option', { value: s, selected: s === state.statusFilter }, s)),
  );
  const tagSelect = h('select', {
    'data-testid': 'tag-filter',
    title: 'Tag',
    onchange: () => {
      state.tagFilter = tagSelect.value;
      state.limit = PAGE_ROWS;
      update();
    },
  });
  const fillTags = () => {
    const tags = [...new Set(state.table.experiments.flatMap((row) => row.tags))].sort(collator.compare);
    if (state.tagFilter && !tags.includes(state.tagFilter)) tags.unshift(state.tagFilter);
    mount(
      tagSelect,
      h('option', { value: '' }, 'any tag'),
      tags.map((tag) => h('option', { value: tag, selected: tag === state.tagFilter }, tag)),
    );
  };
  fillTags();

  const filterError = h('div', { class: 'filter-error', 'data-testid': 'filter-error', role: 'status' });
  const filterInput = h('input', {
    type: 'search',
    class: 'filter-input',
    'data-testid': 'filter',
    placeholder: 'filter: lr < 0.01 and max(val/acc) >= 0.9, tag = baseline',
    title:
      'Conditions joined by "and" or ",": NAME OP VALUE with OP < <= > >= = != ~ (contains). NAME: a param, a metric (its last value), min(metric), max(metric), name, status or tag.',
    spellcheck: 'false',
    autocomplete: 'off',
  });
  filterInput.value = state.filterText;
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  const applyFilter = () => {
    clearTimeout(filterTimer);
    if (filterInput.value.trim() === state.filterText.trim() && state.condition !== null) return;
    state.filterText = filterInput.value.trim();
    state.limit = PAGE_ROWS;
    update();
  };
  filterInput.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(applyFilter, FILTER_DEBOUNCE_MS);
  });
  filterInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') applyFilter();
  });
  signal.addEventListener('abort', () => clearTimeout(filterTimer));
  return { statusSelect, tagSelect, filterInput, filterError, fillTags };
}

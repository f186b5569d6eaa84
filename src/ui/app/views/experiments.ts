// The experiments page: a project's experiments as a filterable, sortable table with chosen columns, selection and compare.

import './experiments.css';
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { FilterError, parseFilter } from '../filter.js';
import { href, type ViewContext } from '../navigation.js';
import { defaultColumns } from './experiments-columns.js';
import { fillChooser } from './experiments-chooser.js';
import { firstExperimentHelp } from './experiments-empty.js';
import { renderGrid, updateSelection } from './experiments-grid.js';
import type { ExperimentsPage } from './experiments-page.js';
import { readState, syncUrl } from './experiments-state.js';
import { filterControls } from './experiments-toolbar.js';

const POLL_MS = 5000;

export async function renderExperiments(ctx: ViewContext): Promise<void> {
  const { root, query, signal } = ctx;
  const overview = await api.overview();
  if (signal.aborted) return;
  if (overview.projects.length === 0) {
    mount(root, h('h1', null, 'Experiments'), firstExperimentHelp(overview, null));
    return;
  }
  const project = query.get('project') || overview.projects[0]!.name;
  const table = await api.experiments(project);
  if (signal.aborted) return;

  const projectPicker =
    overview.projects.length > 1
      ? h(
          'select',
          {
            'data-testid': 'project',
            title: 'Project',
            onchange: (event: Event) => (location.hash = href('/experiments', { project: (event.target as HTMLSelectElement).value })),
          },
          overview.projects.map((p) => h('option', { value: p.name, selected: p.name === project }, `${p.name} (${p.experiments})`)),
        )
      : null;
  const heading = h(
    'div',
    { class: 'page-head' },
    h('h1', null, 'Experiments'),
    projectPicker ?? h('span', { class: 'muted' }, `project ${project}`),
  );

  if (table.experiments.length === 0) {
    mount(root, heading, firstExperimentHelp(overview, project));
    return;
  }

  // State, mirrored in the URL.
  const state = readState(query, project, table);
  const filters = filterControls(state, signal, () => page.update());
  const { filterInput, filterError } = filters;

  const compareButton = h('button', {
    class: 'primary',
    'data-testid': 'compare',
    onclick: () => {
      if (state.selected.size >= 2) location.hash = href('/compare', { ids: [...state.selected].join(',') });
    },
  });
  const clearButton = h('button', { class: 'link', onclick: () => (state.selected.clear(), page.renderTable()) }, 'clear selection');
  const columnsChooser = h('details', { class: 'columns-chooser', 'data-testid': 'columns' });
  columnsChooser.addEventListener('toggle', () => {
    if (columnsChooser.open) fillChooser(page);
  });

  const page: ExperimentsPage = {
    state,
    thead: h('thead'),
    tbody: h('tbody'),
    rowCount: h('span', { class: 'row-count', 'data-testid': 'row-count' }),
    truncatedNote: h('div', { class: 'muted truncated' }),
    more: h('div', { class: 'show-more' }),
    compareButton,
    clearButton,
    columnsChooser,
    update(): void {
      state.condition = null;
      filterError.textContent = '';
      filterInput.removeAttribute('aria-invalid');
      if (state.filterText !== '') {
        try {
          state.condition = parseFilter(state.filterText, { params: state.table.paramKeys, metrics: state.table.metricKeys });
        } catch (error) {
          if (!(error instanceof FilterError)) throw error;
          filterError.textContent = error.message;
          filterInput.setAttribute('aria-invalid', 'true');
        }
      }
      syncUrl(state);
      renderGrid(page);
    },
    renderTable: () => renderGrid(page),
  };
  const { thead, tbody } = page;
  const tableEl = h('table', { class: 'grid experiments-table', 'data-testid': 'experiments' }, thead, tbody);

  tbody.addEventListener('change', (event) => {
    const box = event.target as HTMLInputElement;
    const id = box.closest('tr')?.dataset['id'];
    if (box.type !== 'checkbox' || id === undefined) return;
    if (box.checked) state.selected.add(id);
    else state.selected.delete(id);
    box.closest('tr')!.classList.toggle('selected', box.checked);
    updateSelection(page);
  });

  mount(
    root,
    heading,
    h(
      'div',
      { class: 'toolbar' },
      filters.statusSelect,
      filters.tagSelect,
      h('div', { class: 'filter-box' }, filterInput, filterError),
      columnsChooser,
      h('span', { class: 'spacer' }),
      page.rowCount,
      clearButton,
      compareButton,
    ),
    page.truncatedNote,
    h('div', { class: 'table-wrap' }, tableEl),
    page.more,
  );
  mount(columnsChooser, h('summary', null, 'Columns'));

  page.update();

  // Live: while any experiment runs, re-fetch every 5 s; selection, filters, sort and shown rows stay.
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener('abort', () => clearTimeout(pollTimer));
  const schedulePoll = () => {
    if (signal.aborted || !state.table.experiments.some((row) => row.status === 'running')) return;
    pollTimer = setTimeout(() => void poll(), POLL_MS);
  };
  const poll = async () => {
    try {
      const next = await api.experiments(project);
      if (signal.aborted) return;
      state.table = next;
      const ids = new Set(state.table.experiments.map((row) => row.id));
      for (const id of state.selected) if (!ids.has(id)) state.selected.delete(id);
      if (!state.customCols) state.colIds = defaultColumns(state.table);
      filters.fillTags();
      if (columnsChooser.open) fillChooser(page);
      page.update();
    } catch {
      // a failed poll is retried at the next tick
    }
    schedulePoll();
  };
  schedulePoll();
}

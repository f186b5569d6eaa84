// The experiments page: a project's experiments as a filterable, sortable table with chosen columns, selection and compare.

import { fromJsonNumber } from '../../../model/json-number.js';
import './experiments.css';
import { api } from '../api.js';
import { emptyState, formatDuration, formatNumber, formatTime, h, mount, statusBadge } from '../dom.js';
import { FilterError, matches, parseFilter, type Filter, type Stat } from '../filter.js';
import { href, replaceQuery, type ViewContext } from '../navigation.js';
import { MAX_SERIES_EXPERIMENTS, type ExperimentRow, type ExperimentTable, type Overview } from '../../ui-api.js';

/** Rows rendered at once; "Show more" adds as many again. Filter and sort always run over every row. */
const PAGE_ROWS = 500;
const POLL_MS = 5000;
const FILTER_DEBOUNCE_MS = 250;
const DEFAULT_PARAMS = 4;
const DEFAULT_METRICS = 6;
const STATUSES = ['running', 'completed', 'failed', 'cancelled', 'crashed'] as const;
const STATS: readonly Stat[] = ['last', 'min', 'max'];

type Cell = number | string | boolean | null | undefined;

interface Column {
  /** name, status, started, duration, tags, param:KEY or metric:KEY:STAT (also the `sort` and `cols` URL values). */
  readonly id: string;
  readonly label: string;
  readonly title?: string;
  value(row: ExperimentRow): Cell;
  cell(row: ExperimentRow): HTMLTableCellElement;
}

const FIXED_COLUMNS: readonly Column[] = [
  {
    id: 'name',
    label: 'name',
    value: (row) => row.name,
    cell: (row) => h('td', { class: 'name' }, h('a', { href: href(`/experiments/${row.id}`), title: row.description ?? null }, row.name)),
  },
  { id: 'status', label: 'status', value: (row) => row.status, cell: (row) => h('td', null, statusBadge(row.status)) },
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

function dataColumn(id: string): Column | null {
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
const encodeCols = (ids: readonly string[]): string => ids.map((id) => id.replace(/%/g, '%25').replace(/,/g, '%2C')).join(',');
const decodeCols = (text: string): string[] =>
  text
    .split(',')
    .filter((id) => id !== '')
    .map((id) => id.replace(/%2C/gi, ',').replace(/%25/g, '%'));

/**
 * Up to 4 params whose value differs between rows (the ones most rows have first; text unique to every row,
 * such as a start time, is left to the chooser), then every metric's last value, up to 6.
 */
function defaultColumns(table: ExperimentTable): string[] {
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

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Ascending order of two present values: numbers numerically and before text, text with natural number order. */
function compareCells(a: number | string | boolean, b: number | string | boolean): number {
  // NaN after every other number (a diverged run sorts beside the worst, never at random).
  if (typeof a === 'number' && typeof b === 'number')
    return Number.isNaN(a) || Number.isNaN(b) ? Number(Number.isNaN(a)) - Number(Number.isNaN(b)) : a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return collator.compare(String(a), String(b));
}

export async function renderExperiments(ctx: ViewContext): Promise<void> {
  const { root, query, signal } = ctx;
  const overview = await api.overview();
  if (signal.aborted) return;
  if (overview.projects.length === 0) {
    mount(root, h('h1', null, 'Experiments'), firstExperimentHelp(overview, null));
    return;
  }
  const project = query.get('project') || overview.projects[0]!.name;
  let table = await api.experiments(project);
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
  let filterText = query.get('filter') ?? '';
  let statusFilter = query.get('status') ?? '';
  let tagFilter = query.get('tag') ?? '';
  let sortId = query.get('sort') || null;
  let order: 'asc' | 'desc' = query.get('order') === 'desc' ? 'desc' : 'asc';
  const queryCols = query.get('cols');
  let customCols = queryCols !== null;
  let colIds = customCols ? decodeCols(queryCols!) : defaultColumns(table);
  let condition: Filter | null = null;
  let limit = PAGE_ROWS;
  const selected = new Set<string>();
  let renderedIds: string[] = [];

  const syncUrl = () =>
    replaceQuery({
      project,
      filter: filterText || undefined,
      status: statusFilter || undefined,
      tag: tagFilter || undefined,
      sort: sortId ?? undefined,
      order: sortId ? order : undefined,
      cols: customCols ? encodeCols(colIds) : undefined,
    });

  // Toolbar
  const statusSelect = h(
    'select',
    {
      'data-testid': 'status-filter',
      title: 'Status',
      onchange: () => {
        statusFilter = statusSelect.value;
        limit = PAGE_ROWS;
        update();
      },
    },
    h('option', { value: '' }, 'any status'),
    STATUSES.map((s) => h('option', { value: s, selected: s === statusFilter }, s)),
  );
  const tagSelect = h('select', {
    'data-testid': 'tag-filter',
    title: 'Tag',
    onchange: () => {
      tagFilter = tagSelect.value;
      limit = PAGE_ROWS;
      update();
    },
  });
  const fillTags = () => {
    const tags = [...new Set(table.experiments.flatMap((row) => row.tags))].sort(collator.compare);
    if (tagFilter && !tags.includes(tagFilter)) tags.unshift(tagFilter);
    mount(
      tagSelect,
      h('option', { value: '' }, 'any tag'),
      tags.map((tag) => h('option', { value: tag, selected: tag === tagFilter }, tag)),
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
  filterInput.value = filterText;
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  const applyFilter = () => {
    clearTimeout(filterTimer);
    if (filterInput.value.trim() === filterText.trim() && condition !== null) return;
    filterText = filterInput.value.trim();
    limit = PAGE_ROWS;
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

  const rowCount = h('span', { class: 'row-count', 'data-testid': 'row-count' });
  const compareButton = h('button', {
    class: 'primary',
    'data-testid': 'compare',
    onclick: () => {
      if (selected.size >= 2) location.hash = href('/compare', { ids: [...selected].join(',') });
    },
  });
  const clearButton = h('button', { class: 'link', onclick: () => (selected.clear(), renderTable()) }, 'clear selection');
  const columnsChooser = h('details', { class: 'columns-chooser', 'data-testid': 'columns' });
  columnsChooser.addEventListener('toggle', () => {
    if (columnsChooser.open) fillChooser();
  });

  const truncatedNote = h('div', { class: 'muted truncated' });
  const thead = h('thead');
  const tbody = h('tbody');
  const tableEl = h('table', { class: 'grid experiments-table', 'data-testid': 'experiments' }, thead, tbody);
  const more = h('div', { class: 'show-more' });

  tbody.addEventListener('change', (event) => {
    const box = event.target as HTMLInputElement;
    const id = box.closest('tr')?.dataset['id'];
    if (box.type !== 'checkbox' || id === undefined) return;
    if (box.checked) selected.add(id);
    else selected.delete(id);
    box.closest('tr')!.classList.toggle('selected', box.checked);
    updateSelection();
  });

  mount(
    root,
    heading,
    h(
      'div',
      { class: 'toolbar' },
      statusSelect,
      tagSelect,
      h('div', { class: 'filter-box' }, filterInput, filterError),
      columnsChooser,
      h('span', { class: 'spacer' }),
      rowCount,
      clearButton,
      compareButton,
    ),
    truncatedNote,
    h('div', { class: 'table-wrap' }, tableEl),
    more,
  );

  function columns(): Column[] {
    return [...FIXED_COLUMNS, ...colIds.map(dataColumn).filter((c): c is Column => c !== null)];
  }

  /** Re-parses the condition (keys may have changed), then redraws the table and the URL. */
  function update(): void {
    condition = null;
    filterError.textContent = '';
    filterInput.removeAttribute('aria-invalid');
    if (filterText !== '') {
      try {
        condition = parseFilter(filterText, { params: table.paramKeys, metrics: table.metricKeys });
      } catch (error) {
        if (!(error instanceof FilterError)) throw error;
        filterError.textContent = error.message;
        filterInput.setAttribute('aria-invalid', 'true');
      }
    }
    syncUrl();
    renderTable();
  }

  function visibleRows(cols: readonly Column[]): ExperimentRow[] {
    let rows = table.experiments.filter(
      (row) =>
        (statusFilter === '' || row.status === statusFilter) &&
        (tagFilter === '' || row.tags.includes(tagFilter)) &&
        (condition === null || matches(condition, row)),
    );
    const sortCol = sortId === null ? undefined : cols.find((c) => c.id === sortId);
    if (sortCol) {
      const direction = order === 'asc' ? 1 : -1;
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

  function renderTable(): void {
    const cols = columns();
    const rows = visibleRows(cols);
    const shown = rows.slice(0, limit);
    renderedIds = shown.map((row) => row.id);

    const selectAll = h('input', { type: 'checkbox', 'data-testid': 'select-all', title: 'Select the rows shown' });
    selectAll.addEventListener('change', () => {
      for (const id of renderedIds) {
        if (selectAll.checked) selected.add(id);
        else selected.delete(id);
      }
      for (const tr of tbody.rows) {
        const box = tr.querySelector<HTMLInputElement>('input[type=checkbox]');
        if (box) box.checked = selectAll.checked;
        tr.classList.toggle('selected', selectAll.checked);
      }
      updateSelection();
    });
    mount(
      thead,
      h(
        'tr',
        null,
        h('th', { class: 'select' }, selectAll),
        cols.map((col) => {
          const sorted = col.id === sortId;
          const sample =
            col.id === 'started' || col.id === 'duration'
              ? 0
              : shown.map((row) => col.value(row)).find((v) => v !== null && v !== undefined);
          return h(
            'th',
            {
              'data-col': col.id,
              'data-sort': sorted ? order : null,
              title: col.title ?? `sort by ${col.label}`,
              class: [typeof sample === 'number' ? 'num' : '', sorted ? 'sorted' : ''].join(' ').trim() || null,
              onclick: () => {
                if (sortId === col.id) order = order === 'asc' ? 'desc' : 'asc';
                else {
                  sortId = col.id;
                  order = 'asc';
                }
                syncUrl();
                renderTable();
              },
            },
            col.label,
            h('span', { class: 'arrow' }, sorted ? (order === 'asc' ? ' ▲' : ' ▼') : ''),
          );
        }),
      ),
    );

    const fragment = document.createDocumentFragment();
    for (const row of shown) {
      const isSelected = selected.has(row.id);
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

    rowCount.textContent = `${formatNumber(rows.length)} of ${formatNumber(table.experiments.length)} experiments`;
    truncatedNote.textContent = table.truncated
      ? `Only the newest ${formatNumber(table.experiments.length)} of ${formatNumber(table.total)} experiments in ${project} are loaded.`
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
                  limit += PAGE_ROWS;
                  renderTable();
                },
              },
              `Show ${formatNumber(Math.min(PAGE_ROWS, remaining))} more`,
            ),
          ]
        : null,
    );
    updateSelection();
  }

  function updateSelection(): void {
    const n = selected.size;
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
      const shownSelected = renderedIds.filter((id) => selected.has(id)).length;
      selectAll.checked = renderedIds.length > 0 && shownSelected === renderedIds.length;
      selectAll.indeterminate = shownSelected > 0 && shownSelected < renderedIds.length;
    }
  }

  function setColumns(ids: string[]): void {
    colIds = ids;
    customCols = true;
    syncUrl();
    renderTable();
  }

  /** The column chooser's body: a checkbox per param, three (last/min/max) per metric, a search box and a reset. */
  function fillChooser(): void {
    const search = h('input', { type: 'search', placeholder: 'find a param or metric', class: 'chooser-search' });
    const list = h('div', { class: 'chooser-list' });
    const toggle = (id: string, on: boolean) => {
      const without = colIds.filter((c) => c !== id);
      if (!on) return setColumns(without);
      // Params go after the other param columns, metrics at the end.
      const at = id.startsWith('param:') ? without.filter((c) => c.startsWith('param:')).length : without.length;
      setColumns([...without.slice(0, at), id, ...without.slice(at)]);
    };
    const box = (id: string, label: string) =>
      h(
        'label',
        { class: 'chooser-item' },
        h('input', {
          type: 'checkbox',
          'data-col': id,
          checked: colIds.includes(id),
          onchange: (event: Event) => toggle(id, (event.target as HTMLInputElement).checked),
        }),
        label,
      );
    const fill = () => {
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
                colIds = defaultColumns(table);
                customCols = false;
                syncUrl();
                renderTable();
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
  mount(columnsChooser, h('summary', null, 'Columns'));

  update();

  // Live: while any experiment runs, re-fetch every 5 s; selection, filters, sort and shown rows stay.
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener('abort', () => clearTimeout(pollTimer));
  const schedulePoll = () => {
    if (signal.aborted || !table.experiments.some((row) => row.status === 'running')) return;
    pollTimer = setTimeout(() => void poll(), POLL_MS);
  };
  const poll = async () => {
    try {
      const next = await api.experiments(project);
      if (signal.aborted) return;
      table = next;
      const ids = new Set(table.experiments.map((row) => row.id));
      for (const id of selected) if (!ids.has(id)) selected.delete(id);
      if (!customCols) colIds = defaultColumns(table);
      fillTags();
      if (columnsChooser.open) fillChooser();
      update();
    } catch {
      // a failed poll is retried at the next tick
    }
    schedulePoll();
  };
  schedulePoll();
}

const SNIPPET = (project: string) => `import { openStore } from 'lablog';

const store = openStore(); // ./.lablog/lablog.db, or $LABLOG_DIR/lablog.db
const exp = store.createExperiment({ name: 'first', project: '${project}' });
exp.logParams({ learning_rate: 0.01, batch_size: 32 });
for (let step = 0; step < 100; step++) {
  exp.logMetric('train/loss', 1 / (step + 1), { step });
}
await exp.close(); // status 'completed'`;

/** What to do when there is nothing to show: a logging snippet for a first experiment. */
function firstExperimentHelp(overview: Overview, project: string | null): HTMLElement {
  const box = emptyState(
    project === null ? 'No experiments yet' : `No experiments in ${project} yet`,
    overview.mode === 'local'
      ? ['This UI reads ', h('code', null, overview.store), '. Log a first experiment into that store from your training code:']
      : [
          'Nothing your API key may read has been published to this server yet. Log an experiment (and publish it with ',
          h('code', null, 'LABLOG_REMOTE'),
          '):',
        ],
  );
  box.append(
    h('pre', { class: 'snippet' }, h('code', null, SNIPPET(project ?? 'default'))),
    h(
      'p',
      null,
      'Run it (for example with ',
      h('code', null, 'npx tsx train.ts'),
      '), then reload this page. The experiment shows up here while it runs.',
    ),
  );
  return box;
}

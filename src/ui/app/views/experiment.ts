// The experiment page: header and timings, params, one chart per metric, image strips, Plotly figures and paged tables; live while running.

import './experiment.css';
import { api } from '../api.js';
import { lineChart, type LineChart } from '../charts/line-chart.js';
import { plotFigure, purgeFigure } from '../charts/plotly.js';
import { emptyState, formatDuration, formatNumber, formatTime, formatValue, h, mount, statusBadge } from '../dom.js';
import { href, type ViewContext } from '../navigation.js';
import { datasetsSection, progressBar, runSection } from './experiment-run.js';
import type { ExperimentPage, SeriesInfo, TableInfo, TablePage } from '../../ui-api.js';

const POLL_MS = 2000;
/** More metrics than this: a name filter above the charts, and charts past the first ones drawn when scrolled to. */
const MANY_METRICS = 12;
const TABLE_PAGE_ROWS = 50;
/** Columns of a table the page shows at once (the server's default window is 50 too). */
const TABLE_PAGE_COLUMNS = 50;
const THUMBS = 11;
/** Pages of an image or plot list the page reads (each page is bounded by the server). */
const MAX_MEDIA_PAGES = 100;

const collator = new Intl.Collator(undefined, { numeric: true });

export async function renderExperiment(ctx: ViewContext, id: string): Promise<void> {
  const { root, signal } = ctx;
  let page = await api.experiment(id);
  if (signal.aborted) return;
  const experimentId = page.experiment.id;
  const label = page.experiment.name;

  // Header
  const statusSlot = h('span', { class: 'status-slot' });
  const title = h('h1', null, h('span', { class: 'exp-name' }, label), statusSlot);
  const breadcrumb = h(
    'div',
    { class: 'breadcrumb' },
    h('a', { href: href('/experiments', { project: page.experiment.project }) }, `← ${page.experiment.project}`),
  );
  const meta = h('dl', { class: 'kv meta', 'data-testid': 'meta' });
  const params = h('dl', { class: 'kv params', 'data-testid': 'params' });
  const paramsPanel = h('div', { class: 'panel params-panel' }, h('h2', null, 'Params'), params);

  // Sections, hidden while empty (a running experiment may fill them later).
  const emptyNote = h('div', { class: 'exp-empty' });
  const metricFilter = h('input', {
    type: 'search',
    placeholder: 'filter metrics',
    'data-testid': 'metric-filter',
    class: 'metric-filter',
    hidden: true,
  });
  const metricCount = h('span', { class: 'muted' });
  const charts = h('div', { class: 'charts' });
  const metricsSection = h(
    'section',
    { class: 'exp-section', 'data-section': 'metrics' },
    h('div', { class: 'section-head' }, h('h2', null, 'Metrics'), metricCount, metricFilter),
    charts,
  );
  const images = h('div', { class: 'image-strips' });
  const imagesSection = h('section', { class: 'exp-section', 'data-section': 'images' }, h('h2', null, 'Images'), images);
  const plots = h('div', { class: 'plots' });
  const plotsSection = h('section', { class: 'exp-section', 'data-section': 'plots' }, h('h2', null, 'Plots'), plots);
  const progress = progressBar();
  const datasets = datasetsSection();
  const tables = h('div', { class: 'tables' });
  const tablesSection = h('section', { class: 'exp-section', 'data-section': 'tables' }, h('h2', null, 'Tables'), tables);

  mount(
    root,
    breadcrumb,
    title,
    progress.element,
    h('div', { class: 'exp-overview' }, h('div', { class: 'panel' }, meta), paramsPanel),
    page.isRun ? runSection(experimentId, signal) : null,
    datasets.element,
    emptyNote,
    metricsSection,
    imagesSection,
    plotsSection,
    tablesSection,
  );

  // Metric charts: created in order; past the first MANY_METRICS, when their slot scrolls into view.
  const chartSlots = new Map<string, { slot: HTMLElement; count: number; chart: LineChart | null }>();
  const lazy =
    typeof IntersectionObserver === 'function'
      ? new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              if (!entry.isIntersecting) continue;
              const key = (entry.target as HTMLElement).dataset['slot']!;
              lazy?.unobserve(entry.target);
              createChart(key);
            }
          },
          { rootMargin: '300px' },
        )
      : null;
  signal.addEventListener('abort', () => lazy?.disconnect());
  const createChart = (key: string) => {
    const entry = chartSlots.get(key);
    if (!entry || entry.chart !== null || signal.aborted) return;
    entry.chart = lineChart(key, { experiments: [{ id: experimentId, label }], signal });
    entry.slot.replaceChildren(entry.chart.element);
    entry.slot.classList.remove('pending');
  };
  const applyMetricFilter = () => {
    const needle = metricFilter.value.trim().toLowerCase();
    for (const [key, entry] of chartSlots) entry.slot.hidden = needle !== '' && !key.toLowerCase().includes(needle);
  };
  metricFilter.addEventListener('input', applyMetricFilter);

  const imageStrips = new Map<string, { count: number; update: () => void }>();
  const plotPanels = new Map<string, { count: number; update: () => void }>();
  const tablePanels = new Map<string, { loggedAt: number; rows: number; update: () => void }>();

  function renderHeader(): void {
    const e = page.experiment;
    const badge = statusBadge(e.status);
    badge.setAttribute('data-testid', 'status');
    mount(statusSlot, badge);
    const metrics = page.series.filter((s) => s.kind === 'metric');
    const lastStep = metrics.reduce<number | null>(
      (most, s) => (s.lastStep !== null && (most === null || s.lastStep > most) ? s.lastStep : most),
      null,
    );
    const study = page.study ?? (e.studyId !== null ? { id: e.studyId, name: e.studyId } : null);
    const row = (name: string, field: string, ...value: (Node | string | null)[]) => [
      h('dt', null, name),
      h('dd', { 'data-field': field }, ...value),
    ];
    mount(
      meta,
      row('id', 'id', h('code', null, e.id)),
      row('project', 'project', h('a', { href: href('/experiments', { project: e.project }) }, e.project)),
      study ? row('study', 'study', h('a', { href: href(`/studies/${study.id}`), 'data-testid': 'study-link' }, study.name)) : null,
      e.tags.length > 0 ? row('tags', 'tags', ...e.tags.map((tag) => h('span', { class: 'tag' }, tag))) : null,
      e.description ? row('notes', 'notes', h('span', { class: 'notes', 'data-testid': 'notes' }, e.description)) : null,
      e.hostname ? row('host', 'host', e.hostname) : null,
      row('started', 'started', formatTime(e.createdAt)),
      e.endedAt !== null ? row('ended', 'ended', formatTime(e.endedAt)) : null,
      row('duration', 'duration', formatDuration(e.durationMs)),
      e.status === 'running'
        ? row(
            'progress',
            'progress',
            h(
              'span',
              { 'data-testid': 'progress' },
              lastStep !== null ? `step ${formatNumber(lastStep)}` : 'no step yet',
              e.heartbeatAt !== null ? ` · heartbeat ${formatDuration(Math.max(0, Date.now() - e.heartbeatAt))} ago` : '',
            ),
          )
        : null,
    );
  }

  let paramsJson = '';
  function renderParams(): void {
    const entries = Object.entries(page.experiment.params).sort(([a], [b]) => collator.compare(a, b));
    const json = JSON.stringify(entries);
    if (json === paramsJson) return;
    paramsJson = json;
    paramsPanel.hidden = entries.length === 0;
    mount(
      params,
      entries.flatMap(([key, value]) => [
        h('dt', { title: key }, key),
        h('dd', { 'data-param': key, class: typeof value === 'number' ? 'num' : null }, formatValue(value)),
      ]),
    );
  }

  function syncSeries(): void {
    const metrics = page.series.filter((s) => s.kind === 'metric');
    for (const s of metrics) {
      const entry = chartSlots.get(s.name);
      if (entry) {
        if (entry.count !== s.count) {
          entry.count = s.count;
          entry.chart?.refresh().catch(() => {});
        }
        continue;
      }
      const slot = h(
        'div',
        { class: 'chart-slot pending', 'data-slot': s.name },
        h('div', { class: 'chart placeholder' }, h('h3', null, s.name)),
      );
      chartSlots.set(s.name, { slot, count: s.count, chart: null });
      charts.append(slot);
      if (chartSlots.size <= MANY_METRICS || lazy === null) createChart(s.name);
      else lazy.observe(slot);
    }
    metricsSection.hidden = metrics.length === 0;
    metricCount.textContent = metrics.length > 1 ? `${metrics.length} series` : '';
    metricFilter.hidden = metrics.length <= MANY_METRICS;
    applyMetricFilter();

    for (const s of page.series) {
      if (s.kind === 'image') {
        const strip = imageStrips.get(s.name);
        if (!strip) {
          const created = imageStrip(experimentId, s, signal);
          imageStrips.set(s.name, { count: s.count, update: created.update });
          images.append(created.element);
        } else if (strip.count !== s.count) {
          strip.count = s.count;
          strip.update();
        }
      } else if (s.kind === 'plot') {
        const panel = plotPanels.get(s.name);
        if (!panel) {
          const created = plotPanel(experimentId, s, signal);
          plotPanels.set(s.name, { count: s.count, update: created.update });
          plots.append(created.element);
        } else if (panel.count !== s.count) {
          panel.count = s.count;
          panel.update();
        }
      }
    }
    imagesSection.hidden = imageStrips.size === 0;
    plotsSection.hidden = plotPanels.size === 0;

    for (const t of page.tables) {
      const panel = tablePanels.get(t.name);
      if (!panel) {
        const created = tablePanel(experimentId, t, signal);
        tablePanels.set(t.name, { loggedAt: t.loggedAt, rows: t.rows, update: created.update });
        tables.append(created.element);
      } else if (panel.loggedAt !== t.loggedAt || panel.rows !== t.rows) {
        panel.loggedAt = t.loggedAt;
        panel.rows = t.rows;
        panel.update();
      }
    }
    tablesSection.hidden = tablePanels.size === 0;

    const nothing =
      !page.isRun &&
      page.series.length === 0 &&
      page.tables.length === 0 &&
      page.datasets.length === 0 &&
      Object.keys(page.experiment.params).length === 0;
    mount(
      emptyNote,
      nothing
        ? emptyState(
            'Nothing logged yet',
            page.experiment.status === 'running'
              ? 'This experiment has no params, metrics, images, plots or tables yet. This page updates as it logs.'
              : 'This experiment has no params, metrics, images, plots or tables.',
          )
        : null,
    );
  }

  const render = () => {
    progress.update(page.experiment.progress);
    datasets.update(page.datasets);
    renderHeader();
    renderParams();
    syncSeries();
  };
  render();

  // Live: poll while running; charts whose series grew are refreshed, new series get charts.
  let timer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener('abort', () => clearTimeout(timer));
  const schedule = () => {
    if (!signal.aborted && page.experiment.status === 'running') timer = setTimeout(() => void poll(), POLL_MS);
  };
  const poll = async () => {
    try {
      const next: ExperimentPage = await api.experiment(id);
      if (signal.aborted) return;
      page = next;
      render();
    } catch {
      // retried at the next tick
    }
    schedule();
  };
  schedule();
}

/** An image series: the selected image large with its step and caption, a step slider and thumbnails around it. */
function imageStrip(experimentId: string, info: SeriesInfo, signal: AbortSignal): { element: HTMLElement; update: () => void } {
  type Image = Awaited<ReturnType<typeof api.images>>['images'][number];
  let list: Image[] = [];
  let index = 0;
  let followLast = true;
  const large = h('img', { class: 'image-large', alt: info.name });
  const caption = h('figcaption', { 'data-testid': 'image-caption' });
  const slider = h('input', { type: 'range', 'data-testid': 'image-slider', step: 1, title: 'step' });
  const stepLabel = h('span', { class: 'muted image-step' });
  const thumbs = h('div', { class: 'thumbs' });
  const status = h('div', { class: 'muted' }, 'Loading…');
  const element = h(
    'div',
    { class: 'panel image-strip', 'data-testid': 'image-strip', 'data-key': info.name },
    h('h3', null, info.name, ' ', h('span', { class: 'muted' }, `(${info.count})`)),
    status,
    h('figure', { class: 'image-figure' }, large, caption),
    h('div', { class: 'image-controls' }, slider, stepLabel),
    thumbs,
  );
  const count = element.querySelector('h3 .muted')!;

  slider.addEventListener('input', () => {
    if (list.length === 0) return;
    // Snap to the image whose step is nearest the slider's value.
    const value = Number(slider.value);
    let best = 0;
    for (let i = 1; i < list.length; i++) if (Math.abs(list[i]!.step - value) < Math.abs(list[best]!.step - value)) best = i;
    select(best);
  });

  function select(i: number): void {
    index = Math.max(0, Math.min(list.length - 1, i));
    followLast = index === list.length - 1;
    draw();
  }

  function draw(): void {
    count.textContent = `(${list.length})`;
    if (list.length === 0) {
      status.textContent = 'No images.';
      return;
    }
    status.textContent = '';
    const image = list[index]!;
    const first = list[0]!.step;
    const last = list[list.length - 1]!.step;
    slider.min = String(first);
    slider.max = String(last);
    slider.value = String(image.step);
    slider.disabled = list.length === 1;
    stepLabel.textContent = `image ${index + 1} of ${list.length}`;
    element.dataset['step'] = String(image.step);
    if (large.getAttribute('src') !== image.url) large.src = image.url;
    large.width = image.width;
    large.height = image.height;
    // Small images (MNIST digits) are scaled up without blurring.
    large.classList.toggle('pixelated', image.width < 256);
    large.style.width = image.width < 256 ? `${256}px` : '';
    large.style.height = image.width < 256 ? 'auto' : '';
    mount(
      caption,
      h('span', { class: 'image-step-label' }, `step ${formatNumber(image.step)}`),
      image.caption ? [' · ', h('span', { class: 'image-caption-text' }, image.caption)] : null,
    );
    const start = Math.max(0, Math.min(index - Math.floor(THUMBS / 2), list.length - THUMBS));
    mount(
      thumbs,
      list.slice(start, start + THUMBS).map((thumb, k) =>
        h(
          'button',
          {
            class: start + k === index ? 'thumb selected' : 'thumb',
            'data-testid': 'image-thumb',
            'data-step': thumb.step,
            title: `step ${thumb.step}${thumb.caption ? ` · ${thumb.caption}` : ''}`,
            onclick: () => select(start + k),
          },
          h('img', { src: thumb.url, alt: `step ${thumb.step}`, loading: 'lazy' }),
        ),
      ),
    );
  }

  async function load(): Promise<void> {
    try {
      // The server answers a page at a time: follow `next` to the end of the series.
      const all: Image[] = [];
      let from: number | undefined;
      for (let pages = 0; pages < MAX_MEDIA_PAGES; pages++) {
        const answer = await api.images(experimentId, info.name, from);
        if (signal.aborted) return;
        all.push(...answer.images);
        if (answer.next === undefined) break;
        from = answer.next;
      }
      const step = list[index]?.step;
      list = all.sort((a, b) => a.step - b.step);
      const kept = list.findIndex((image) => image.step === step);
      index = followLast || kept < 0 ? list.length - 1 : kept;
      draw();
    } catch (error) {
      status.textContent = `Could not load images: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  void load();
  return { element, update: () => void load() };
}

/** A Plotly series: the figure at the chosen step (the last by default), drawn when Plotly has loaded. */
function plotPanel(experimentId: string, info: SeriesInfo, signal: AbortSignal): { element: HTMLElement; update: () => void } {
  type Plot = Awaited<ReturnType<typeof api.plotIndex>>['plots'][number];
  let list: Plot[] = [];
  let index = -1;
  let followLast = true;
  const figure = h('div', { class: 'plot-figure' });
  const caption = h('div', { class: 'muted plot-caption' });
  const stepSelect = h('select', { 'data-testid': 'plot-step', hidden: true, title: 'step' });
  const status = h('div', { class: 'muted' }, 'Loading…');
  const element = h(
    'div',
    { class: 'panel plot', 'data-testid': 'plot', 'data-key': info.name },
    h('div', { class: 'section-head' }, h('h3', null, info.name), stepSelect),
    status,
    figure,
    caption,
  );
  stepSelect.addEventListener('change', () => {
    index = Number(stepSelect.value);
    followLast = index === list.length - 1;
    void draw();
  });

  signal.addEventListener('abort', () => purgeFigure(figure), { once: true });
  let drawing = 0;

  async function draw(): Promise<void> {
    const mine = ++drawing;
    const plot = list[index];
    if (!plot) {
      status.textContent = 'No figure.';
      return;
    }
    element.dataset['step'] = String(plot.step);
    caption.textContent = plot.caption ?? '';
    try {
      // The list has no figures: fetch the one drawn.
      const answer = await api.plot(experimentId, info.name, plot.step);
      if (signal.aborted || mine !== drawing) return;
      const drawn = answer.plots[0];
      if (drawn === undefined || drawn.step !== plot.step) {
        status.textContent = 'No figure.';
        return;
      }
      await plotFigure(figure, drawn.figure);
      // Left the page, or a newer figure was asked for meanwhile: that one draws, this one says nothing.
      if (signal.aborted || mine !== drawing) return;
      status.textContent = '';
      element.dataset['ready'] = '1';
    } catch (error) {
      status.textContent = `Could not draw the figure: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  async function load(): Promise<void> {
    try {
      const all: Plot[] = [];
      let from: number | undefined;
      for (let pages = 0; pages < MAX_MEDIA_PAGES; pages++) {
        const answer = await api.plotIndex(experimentId, info.name, from);
        if (signal.aborted) return;
        all.push(...answer.plots);
        if (answer.next === undefined) break;
        from = answer.next;
      }
      const step = list[index]?.step;
      list = all.sort((a, b) => a.step - b.step);
      const kept = list.findIndex((p) => p.step === step);
      const nextIndex = followLast || kept < 0 ? list.length - 1 : kept;
      stepSelect.hidden = list.length < 2;
      mount(
        stepSelect,
        list.map((p, i) => h('option', { value: i, selected: i === nextIndex }, `step ${p.step}${p.caption ? ` · ${p.caption}` : ''}`)),
      );
      const changed = nextIndex !== index || list[nextIndex]?.step !== step || element.dataset['ready'] !== '1';
      index = nextIndex;
      if (changed) await draw();
    } catch (error) {
      status.textContent = `Could not load the figure: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  void load();
  return { element, update: () => void load() };
}

/** A logged table, 50 rows a page, sorted by the server when a header is clicked. */
function tablePanel(experimentId: string, info: TableInfo, signal: AbortSignal): { element: HTMLElement; update: () => void } {
  let offset = 0;
  let columnOffset = 0;
  let sort: string | undefined;
  let order: 'asc' | 'desc' = 'asc';
  let sequence = 0;
  let total = info.rows;
  const thead = h('thead');
  const tbody = h('tbody');
  const range = h('span', { class: 'muted table-range', 'data-testid': 'table-range' });
  const status = h('div', { class: 'muted' });
  const prev = h('button', { 'data-testid': 'table-prev', onclick: () => go(offset - TABLE_PAGE_ROWS) }, '‹ prev');
  const next = h('button', { 'data-testid': 'table-next', onclick: () => go(offset + TABLE_PAGE_ROWS) }, 'next ›');
  const shape = h('span', { class: 'muted' });
  // Wide tables come a window of columns at a time.
  const columnRange = h('span', { class: 'muted table-column-range', 'data-testid': 'table-column-range' });
  const prevColumns = h(
    'button',
    { 'data-testid': 'table-prev-columns', onclick: () => goColumns(columnOffset - TABLE_PAGE_COLUMNS) },
    '‹ columns',
  );
  const nextColumns = h(
    'button',
    { 'data-testid': 'table-next-columns', onclick: () => goColumns(columnOffset + TABLE_PAGE_COLUMNS) },
    'columns ›',
  );
  const columnPager = h('div', { class: 'pager', hidden: true }, prevColumns, columnRange, nextColumns);
  const element = h(
    'div',
    { class: 'panel table-panel', 'data-testid': 'table', 'data-name': info.name },
    h('div', { class: 'section-head' }, h('h3', null, info.name), shape),
    status,
    columnPager,
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid' }, thead, tbody)),
    h('div', { class: 'pager' }, prev, range, next),
  );
  const describe = (rows: number, columns: number) => (shape.textContent = `${formatNumber(rows)} rows × ${formatNumber(columns)} columns`);
  describe(info.rows, info.columns);

  function go(nextOffset: number): void {
    offset = Math.max(0, Math.min(nextOffset, Math.max(0, total - 1)));
    offset -= offset % TABLE_PAGE_ROWS;
    void load();
  }

  function goColumns(nextOffset: number): void {
    columnOffset = Math.max(0, Math.min(nextOffset, Math.max(0, info.columns - 1)));
    columnOffset -= columnOffset % TABLE_PAGE_COLUMNS;
    void load();
  }

  function draw(answer: TablePage): void {
    total = answer.total ?? answer.rows.length;
    const totalColumns = answer.totalColumns ?? answer.columns.length;
    describe(total, totalColumns);
    columnPager.hidden = totalColumns <= answer.columns.length;
    columnRange.textContent = `columns ${formatNumber(answer.columnOffset + 1)}–${formatNumber(answer.columnOffset + answer.columns.length)} of ${formatNumber(totalColumns)}`;
    prevColumns.disabled = answer.columnOffset <= 0;
    nextColumns.disabled = answer.nextColumn === undefined;
    const cut = new Set((answer.truncatedCells ?? []).map((c) => `${c.row}\u0000${c.column}`));
    mount(
      thead,
      h(
        'tr',
        null,
        answer.columns.map((column) =>
          h(
            'th',
            {
              'data-col': column.name,
              'data-sort': sort === column.name ? order : null,
              title: `${column.type} · sort`,
              class:
                [/int|float|decimal|double/i.test(column.type) ? 'num' : '', sort === column.name ? 'sorted' : ''].join(' ').trim() || null,
              onclick: () => {
                if (sort === column.name) order = order === 'asc' ? 'desc' : 'asc';
                else {
                  sort = column.name;
                  order = 'asc';
                }
                offset = 0;
                void load();
              },
            },
            column.name,
            sort === column.name ? (order === 'asc' ? ' ▲' : ' ▼') : '',
          ),
        ),
      ),
    );
    mount(
      tbody,
      answer.rows.map((row, r) =>
        h(
          'tr',
          null,
          answer.columns.map((column) => {
            const value = row[column.name];
            // A cell the server cut short says so (the Arrow download has it whole).
            const truncated = cut.has(`${r}\u0000${column.name}`);
            return h(
              'td',
              {
                class: typeof value === 'number' ? 'num' : null,
                'data-truncated': truncated ? '1' : null,
                title: truncated ? 'cut short: download the table as Arrow for the whole value' : null,
              },
              cellText(value),
              truncated ? '…' : '',
            );
          }),
        ),
      ),
    );
    const from = answer.rows.length > 0 ? answer.offset + 1 : 0;
    range.textContent =
      total === 0 ? 'no rows' : `rows ${formatNumber(from)}–${formatNumber(answer.offset + answer.rows.length)} of ${formatNumber(total)}`;
    prev.disabled = answer.offset <= 0;
    next.disabled = answer.offset + answer.rows.length >= total;
  }

  async function load(): Promise<void> {
    const mine = ++sequence;
    try {
      const answer = await api.table(experimentId, info.name, {
        offset,
        limit: TABLE_PAGE_ROWS,
        columnOffset,
        ...(sort !== undefined ? { sort, order } : {}),
      });
      if (signal.aborted || mine !== sequence) return;
      status.textContent = '';
      offset = answer.offset ?? offset;
      draw({ ...answer, offset });
    } catch (error) {
      if (mine === sequence) status.textContent = `Could not load the table: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  void load();
  return { element, update: () => void load() };
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

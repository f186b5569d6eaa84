// The compare page: chosen experiments side by side — differing params and last values, overlaid curves per metric, parallel coordinates, a scatter and the study comparison.

import './compare.css';
import { api, ApiError, type ComparisonJson, type StudyDetailJson } from '../api.js';
import { emptyState, formatDuration, formatNumber, formatValue, h, mount, statusBadge } from '../dom.js';
import { href, replaceQuery, type ViewContext } from '../navigation.js';
import { lineChart, seriesColor, type LineChart } from '../charts/line-chart.js';
import { loadPlotly } from '../charts/plotly.js';
import { fromJsonNumber, type JsonNumber } from '../../../model/json-number.js';
import type { Goal } from '../../../model/metric-goal.js';
import { templateObjective } from '../../../model/study.js';
import { CompareGoals } from './compare-goals.js';
import { MAX_SERIES_EXPERIMENTS, type ExperimentRow, type ParamValue, type XAxis } from '../../ui-api.js';

type Stat = 'last' | 'min' | 'max';
type PlotlyApi = Awaited<ReturnType<typeof loadPlotly>>;

/** Charts drawn at once; the others when they scroll near the viewport. */
const IMMEDIATE_CHARTS = 4;
/** Most param axes in the parallel-coordinates plot (Plotly draws up to 60 dimensions). */
const MAX_PARALLEL_PARAMS = 40;
/** Names listed in the header; the table lists them all. */
const HEADER_NAMES = 12;

/** Plotly renders some HTML tags in labels and hover text: user text goes in with its brackets escaped. */
function plotText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const collator = new Intl.Collator(undefined, { numeric: true });
const finite = (v: JsonNumber | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function statOf(row: ExperimentRow, metric: string, stat: Stat): number | null {
  const summary = row.metrics[metric];
  return summary === undefined ? null : fromJsonNumber(summary[stat]);
}

/** A param as a stable text, for "does it differ" and categorical axes. */
function paramKey(value: ParamValue | undefined): string {
  return value === undefined ? '∅' : `${typeof value}:${String(value)}`;
}

/** The rows of the chosen experiments, in the order of `ids`, and the ids no readable project has. */
async function loadRows(ids: readonly string[]): Promise<{ rows: ExperimentRow[]; missing: string[] }> {
  const table = await api.experimentsByIds(ids);
  const found = new Map(table.experiments.map((row) => [row.id, row]));
  return { rows: ids.flatMap((id) => found.get(id) ?? []), missing: ids.filter((id) => !found.has(id)) };
}

/** Metric names of the rows, most shared first, then by name. */
/** A dot in the color the charts give the experiment at `index` (same palette, same order). */
function swatch(index: number): HTMLElement {
  const dot = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  dot.style.background = seriesColor(index);
  return dot;
}

function metricKeysOf(rows: readonly ExperimentRow[]): string[] {
  const counts = new Map<string, number>();
  for (const row of rows) for (const key of Object.keys(row.metrics)) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || collator.compare(a, b));
}

function paramKeysOf(rows: readonly ExperimentRow[]): string[] {
  return [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort(collator.compare);
}

function differs(rows: readonly ExperimentRow[], key: string): boolean {
  return new Set(rows.map((r) => paramKey(r.params[key]))).size > 1;
}

export async function renderCompare(ctx: ViewContext): Promise<void> {
  delete document.body.dataset['comparePainted'];
  const allIds = [
    ...new Set(
      (ctx.query.get('ids') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  ];
  if (allIds.length < 2) {
    mount(
      ctx.root,
      emptyState('Pick experiments to compare', [
        'Select two experiments or more on the ',
        h('a', { href: href('/experiments') }, 'Experiments page'),
        ' and press Compare: their params, last values and curves show here side by side.',
      ]),
    );
    ctx.root.querySelector('.empty')?.setAttribute('data-testid', 'compare-empty');
    return;
  }
  const ids = allIds.slice(0, MAX_SERIES_EXPERIMENTS);
  const goals = CompareGoals.fromQuery(ctx.query.get('goals'));
  const xParam = ctx.query.get('x');
  const x: XAxis | undefined = xParam === 'step' || xParam === 'time' || xParam === 'relative' ? xParam : undefined;

  mount(ctx.root, h('p', { class: 'muted' }, `Loading ${ids.length} experiments…`));
  const { rows, missing } = await loadRows(ids);
  if (ctx.signal.aborted) return;
  const notes: HTMLElement[] = [];
  if (allIds.length > ids.length) {
    notes.push(
      h(
        'p',
        { class: 'note', 'data-testid': 'compare-capped' },
        `Showing the first ${ids.length} of ${allIds.length} experiments (at most ${MAX_SERIES_EXPERIMENTS} share a chart).`,
      ),
    );
  }
  if (missing.length > 0) {
    notes.push(
      h(
        'p',
        { class: 'note', 'data-testid': 'compare-missing' },
        `Not found (deleted, or in a project you cannot read): ${missing.join(', ')}`,
      ),
    );
  }
  if (rows.length === 0) {
    mount(
      ctx.root,
      h(
        'div',
        { class: 'empty', 'data-testid': 'compare-empty' },
        h('h2', null, 'None of these experiments were found'),
        notes,
        h('a', { href: href('/experiments') }, 'Back to the experiments'),
      ),
    );
    return;
  }

  const metricKeys = metricKeysOf(rows);
  const wantedMetric = ctx.query.get('metric');
  if (wantedMetric !== null && metricKeys.includes(wantedMetric))
    metricKeys.splice(0, 0, ...metricKeys.splice(metricKeys.indexOf(wantedMetric), 1));
  const paramKeys = paramKeysOf(rows);
  const names = new Map(rows.map((r) => [r.id, r.name]));

  const header = h(
    'header',
    { class: 'compare-header' },
    h('h1', null, `Comparing ${rows.length} experiments`),
    h(
      'p',
      { class: 'compare-names', 'data-testid': 'compare-names' },
      rows
        .slice(0, HEADER_NAMES)
        .map((r, i) => h('a', { href: href(`/experiments/${r.id}`), 'data-id': r.id, class: 'compare-name' }, swatch(i), r.name)),
      rows.length > HEADER_NAMES ? h('span', { class: 'muted' }, `and ${rows.length - HEADER_NAMES} more`) : null,
    ),
    notes,
  );

  const chartsBox = h('div', { class: 'charts', 'data-testid': 'compare-charts' });
  const parallelSection = h('section', { class: 'panel compare-section' });
  const scatterSection = h('section', { class: 'panel compare-section' });
  const studySection = h('section', { class: 'panel compare-section' });
  const sameStudy = rows[0]!.studyId !== null && rows.every((r) => r.studyId === rows[0]!.studyId) ? rows[0]!.studyId : null;

  // Curves first: with many experiments the table is long, and the curves are what people came for. The
  // charts ask for their series before the rest of the page is built.
  mount(
    ctx.root,
    header,
    h('h2', null, 'Metrics'),
    metricKeys.length === 0 ? h('p', { class: 'muted' }, 'These experiments log no metric series.') : chartsBox,
  );
  const rest = () =>
    ctx.root.append(
      h('h2', null, 'Params and last values'),
      h('section', { class: 'compare-section compare-table-box' }, compareTable(ctx, rows, paramKeys, metricKeys, goals)),
      ...(metricKeys.length > 0 ? [parallelSection, scatterSection] : []),
      ...(sameStudy !== null && metricKeys.length > 0 ? [studySection] : []),
    );

  // Curves: the first few now, the rest when scrolled near.
  const charts: LineChart[] = [];
  const experiments = rows.map((r) => ({ id: r.id, label: r.name }));
  // Each chart's first request after the previous one's first draw: the first curves, which mark the paint,
  // get the server to themselves instead of sharing it with the charts below.
  let previous: Promise<unknown> | undefined;
  const start = (slot: HTMLElement, key: string): LineChart => {
    const chart = lineChart(key, {
      experiments,
      ...(x !== undefined ? { x } : {}),
      signal: ctx.signal,
      ...(previous !== undefined ? { after: previous } : {}),
    });
    previous = chart.ready;
    slot.replaceChildren(chart.element);
    slot.dataset['loaded'] = '1';
    charts.push(chart);
    return chart;
  };
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting || ctx.signal.aborted) continue;
        const slot = entry.target as HTMLElement;
        observer.unobserve(slot);
        start(slot, slot.dataset['slot']!);
      }
    },
    { rootMargin: '400px 0px' },
  );
  let first: LineChart | undefined;
  for (const [i, key] of metricKeys.entries()) {
    const slot = h('div', { class: 'compare-slot', 'data-slot': key });
    chartsBox.append(slot);
    if (i < IMMEDIATE_CHARTS) {
      const chart = start(slot, key);
      first ??= chart;
    } else {
      slot.append(
        h('div', { class: 'chart compare-placeholder' }, h('h3', null, key), h('p', { class: 'muted' }, 'Drawn when scrolled into view…')),
      );
      observer.observe(slot);
    }
  }
  // After the charts' requests are sent (they start in a microtask): the table and the plots' sections.
  setTimeout(() => {
    if (!ctx.signal.aborted) rest();
  }, 0);
  ctx.signal.addEventListener(
    'abort',
    () => {
      observer.disconnect();
      for (const chart of charts) {
        try {
          chart.destroy();
        } catch {
          // already gone with its signal
        }
      }
    },
    { once: true },
  );

  const painted = first === undefined ? Promise.resolve() : first.ready.catch(() => {});
  void painted.then(() => {
    if (ctx.signal.aborted) return;
    document.body.dataset['comparePainted'] = '1';
    performance.mark('lablog:compare-painted');
    if (metricKeys.length === 0) return;
    // Plotly (4.7 MB) only once the first curves are on screen.
    const plotly = (): Promise<PlotlyApi> => loadPlotly();
    const metric = metricKeys[0]!;
    const failed = (section: HTMLElement) => (error: unknown) => {
      if (!ctx.signal.aborted)
        section.append(h('div', { class: 'error', role: 'alert' }, h('p', null, (error as Error).message ?? String(error))));
    };
    renderParallel(ctx, parallelSection, plotly, rows, paramKeys, metricKeys, metric, x, goals).catch(failed(parallelSection));
    renderScatter(ctx, scatterSection, plotly, rows, paramKeys, metricKeys, metric).catch(failed(scatterSection));
    if (sameStudy !== null) renderStudyComparison(ctx, studySection, sameStudy, rows, metricKeys, names, goals).catch(failed(studySection));
  });
  if (metricKeys.length > 0) {
    mount(
      parallelSection,
      h('h2', null, 'Params → metric'),
      h('div', { class: 'plot', 'data-testid': 'parallel' }, h('p', { class: 'muted' }, 'Loading…')),
    );
    mount(
      scatterSection,
      h('h2', null, 'Scatter'),
      h('div', { class: 'plot', 'data-testid': 'scatter' }, h('p', { class: 'muted' }, 'Loading…')),
    );
    if (sameStudy !== null)
      mount(
        studySection,
        h('h2', null, 'Study comparison'),
        h('div', { 'data-testid': 'study-comparison' }, h('p', { class: 'muted' }, 'Loading…')),
      );
  }
}

/** Plotly once loaded; undefined when the page was left meanwhile, or it failed to load (said in `box`). */
async function loadedPlotly(ctx: ViewContext, box: HTMLElement, loading: () => Promise<PlotlyApi>): Promise<PlotlyApi | undefined> {
  try {
    const plotly = await loading();
    return ctx.signal.aborted ? undefined : plotly;
  } catch (error) {
    mount(box, h('p', { class: 'error' }, `Plotly could not load: ${(error as Error).message}`));
    return undefined;
  }
}

/** The chosen experiments in a table: name, status, duration, the params that differ, every metric's last value. */
function compareTable(
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

function metricSelect(testid: string, metricKeys: readonly string[], value: string): HTMLSelectElement {
  const select = h(
    'select',
    { 'data-testid': testid },
    metricKeys.map((k) => h('option', { value: k }, k)),
  );
  select.value = value;
  return select;
}

/** A parcoords trace of the params (numeric or categorical axes) and the metric's last value, lines colored by it. */
function parallelFigure(
  rows: readonly ExperimentRow[],
  paramKeys: readonly string[],
  metric: string,
  goal: Goal,
): { data: unknown[]; layout: Record<string, unknown> } | string {
  const usable = rows.filter((r) => finite(r.metrics[metric]?.last));
  if (usable.length === 0) return `No experiment has a finite last value of ${metric}.`;
  const varying = paramKeys.filter((k) => differs(usable, k));
  const keys = (varying.length > 0 ? varying : [...paramKeys]).slice(0, MAX_PARALLEL_PARAMS);
  if (keys.length === 0) return 'These experiments log no params.';
  const dimensions: Record<string, unknown>[] = [];
  for (const key of keys) {
    const values = usable.map((r) => r.params[key]);
    if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      dimensions.push({ label: plotText(key), values });
      continue;
    }
    const texts = values.map((v) => (v === undefined ? '∅' : String(v)));
    const categories = [...new Set(texts)].sort(collator.compare);
    const index = new Map(categories.map((c, i) => [c, i]));
    dimensions.push({
      label: plotText(key),
      values: texts.map((t) => index.get(t)!),
      tickvals: categories.map((_, i) => i),
      ticktext: categories.map(plotText),
      range: [0, Math.max(1, categories.length - 1)],
    });
  }
  const y = usable.map((r) => r.metrics[metric]!.last!);
  dimensions.push({ label: plotText(metric), values: y });
  return {
    data: [
      {
        type: 'parcoords',
        line: {
          color: y,
          colorscale: 'Viridis',
          reversescale: goal === 'minimize',
          showscale: true,
          colorbar: { title: { text: plotText(metric) } },
        },
        dimensions,
      },
    ],
    layout: { height: 420, margin: { l: 70, r: 90, t: 50, b: 30 }, paper_bgcolor: 'rgba(0,0,0,0)' },
  };
}

async function renderParallel(
  ctx: ViewContext,
  section: HTMLElement,
  plotlyLoading: () => Promise<PlotlyApi>,
  rows: readonly ExperimentRow[],
  paramKeys: readonly string[],
  metricKeys: readonly string[],
  initial: string,
  x: XAxis | undefined,
  goals: CompareGoals,
): Promise<void> {
  if (paramKeys.length === 0) {
    mount(
      section,
      h('h2', null, 'Params → metric'),
      h('div', { class: 'plot', 'data-testid': 'parallel' }, h('p', { class: 'muted' }, 'These experiments log no params.')),
    );
    return;
  }
  const box = h('div', { class: 'plot', 'data-testid': 'parallel' }, h('p', { class: 'muted' }, 'Loading Plotly…'));
  const select = metricSelect('parallel-metric', metricKeys, initial);
  mount(section, h('h2', null, 'Params → metric'), h('div', { class: 'toolbar' }, h('label', null, 'metric (last value) ', select)), box);
  const plotly = await loadedPlotly(ctx, box, plotlyLoading);
  if (plotly === undefined) return;
  let drawn = false;
  const draw = async (): Promise<void> => {
    const figure = parallelFigure(rows, paramKeys, select.value, goals.of(select.value));
    box.dataset['metric'] = select.value;
    if (typeof figure === 'string') {
      if (drawn) plotly.purge(box);
      drawn = false;
      mount(box, h('p', { class: 'muted' }, figure));
      return;
    }
    if (!drawn) box.replaceChildren();
    const config = { responsive: true, displaylogo: false };
    await (drawn ? plotly.react(box, figure.data, figure.layout, config) : plotly.newPlot(box, figure.data, figure.layout, config));
    drawn = true;
    box.dataset['ready'] = '1';
  };
  select.addEventListener('change', () => {
    const ids = ctx.query.get('ids') ?? undefined;
    replaceQuery({ ids, metric: select.value, x, goals: goals.toQuery() });
    void draw();
  });
  ctx.signal.addEventListener('abort', () => drawn && plotly.purge(box), { once: true });
  await draw();
}

async function renderScatter(
  ctx: ViewContext,
  section: HTMLElement,
  plotlyLoading: () => Promise<PlotlyApi>,
  rows: readonly ExperimentRow[],
  paramKeys: readonly string[],
  metricKeys: readonly string[],
  initial: string,
): Promise<void> {
  const box = h('div', { class: 'plot', 'data-testid': 'scatter' }, h('p', { class: 'muted' }, 'Loading Plotly…'));
  if (paramKeys.length === 0) {
    mount(
      section,
      h('h2', null, 'Scatter'),
      h(
        'div',
        { class: 'plot', 'data-testid': 'scatter' },
        h('p', { class: 'muted' }, 'These experiments log no params to plot a metric against.'),
      ),
    );
    return;
  }
  const varying = paramKeys.filter((k) => differs(rows, k));
  const xSelect = h(
    'select',
    { 'data-testid': 'scatter-x' },
    paramKeys.map((k) => h('option', { value: k }, k)),
  );
  xSelect.value = varying[0] ?? paramKeys[0]!;
  const ySelect = metricSelect('scatter-y', metricKeys, initial);
  const statSelect = h(
    'select',
    { 'data-testid': 'scatter-stat' },
    (['last', 'min', 'max'] as const).map((s) => h('option', { value: s }, s)),
  );
  mount(
    section,
    h('h2', null, 'Scatter'),
    h(
      'div',
      { class: 'toolbar' },
      h('label', null, 'param ', xSelect),
      h('label', null, 'metric ', ySelect),
      h('label', null, 'value ', statSelect),
    ),
    box,
  );
  const plotly = await loadedPlotly(ctx, box, plotlyLoading);
  if (plotly === undefined) return;
  let drawn = false;
  const draw = async (): Promise<void> => {
    const param = xSelect.value;
    const metric = ySelect.value;
    const stat = statSelect.value as Stat;
    const points = rows.flatMap((r) => {
      const px = r.params[param];
      const py = statOf(r, metric, stat);
      return px === undefined || !finite(py) ? [] : [{ r, px, py }];
    });
    const numeric = points.every((p) => typeof p.px === 'number');
    box.dataset['x'] = param;
    box.dataset['y'] = `${metric}:${stat}`;
    box.dataset['points'] = String(points.length);
    const data = [
      {
        type: 'scatter',
        mode: 'markers',
        x: points.map((p) => (numeric ? p.px : plotText(String(p.px)))),
        y: points.map((p) => p.py),
        text: points.map((p) => plotText(p.r.name)),
        customdata: points.map((p) => p.r.id),
        hovertemplate: '<b>%{text}</b><br>x: %{x}<br>y: %{y}<extra></extra>',
        marker: { size: 9, opacity: 0.85, color: '#2563eb', line: { width: 1, color: '#fff' } },
      },
    ];
    const layout = {
      height: 380,
      margin: { l: 70, r: 20, t: 20, b: 60 },
      xaxis: { title: { text: plotText(param) }, type: numeric ? '-' : 'category', automargin: true },
      yaxis: { title: { text: plotText(`${metric} (${stat})`) }, automargin: true },
      paper_bgcolor: 'rgba(0,0,0,0)',
      hovermode: 'closest',
    };
    if (!drawn) box.replaceChildren();
    const config = { responsive: true, displaylogo: false };
    await (drawn ? plotly.react(box, data, layout, config) : plotly.newPlot(box, data, layout, config));
    if (!drawn) {
      // Plotly adds .on() to the element it draws into: a click opens the experiment.
      (box as unknown as { on?: (event: string, handler: (e: { points?: { customdata?: unknown }[] }) => void) => void }).on?.(
        'plotly_click',
        (e) => {
          const id = e.points?.[0]?.customdata;
          if (typeof id === 'string') location.hash = href(`/experiments/${id}`);
        },
      );
    }
    drawn = true;
    box.dataset['ready'] = '1';
  };
  for (const select of [xSelect, ySelect, statSelect]) select.addEventListener('change', () => void draw());
  ctx.signal.addEventListener('abort', () => drawn && plotly.purge(box), { once: true });
  await draw();
}

/** The study's own comparison (rankings, Pareto frontier, Welch t-tests, insights) of these experiments. */
async function renderStudyComparison(
  ctx: ViewContext,
  section: HTMLElement,
  studyId: string,
  rows: readonly ExperimentRow[],
  metricKeys: readonly string[],
  names: ReadonlyMap<string, string>,
  goals: CompareGoals,
): Promise<void> {
  const box = h('div', { 'data-testid': 'study-comparison', 'data-study': studyId });
  const title = h('h2', null, 'Study comparison');
  mount(section, title, box);
  let study: StudyDetailJson | undefined;
  try {
    study = await api.study(studyId);
  } catch {
    // the comparison may still work; the study's name is only a label
  }
  if (ctx.signal.aborted) return;
  if (study !== undefined) mount(title, 'Study comparison · ', h('a', { href: href(`/studies/${studyId}`) }, study.name));

  // Defaults: the template's metric and objective, else the first metric with the goal its name suggests.
  const objective = templateObjective(study?.template ?? null);
  const templateMetric = objective?.metric;
  const templateGoal = objective?.goal;
  const initial = templateMetric !== undefined && metricKeys.includes(templateMetric) ? templateMetric : metricKeys[0]!;

  const picks = metricKeys.map((key) => {
    const check = h('input', { type: 'checkbox', 'data-testid': 'study-metric', value: key });
    check.checked = key === initial;
    const goal = h(
      'select',
      { 'data-testid': 'study-goal', 'data-metric': key },
      h('option', { value: 'minimize' }, 'minimize'),
      h('option', { value: 'maximize' }, 'maximize'),
    );
    goal.value = key === templateMetric && templateGoal !== undefined && !goals.stated(key) ? templateGoal : goals.of(key);
    return { key, check, goal };
  });
  const result = h('div', { class: 'study-result', 'data-testid': 'study-result' });
  let sequence = 0;
  const run = async (): Promise<void> => {
    const metrics = picks.filter((p) => p.check.checked).map((p) => ({ name: p.key, goal: p.goal.value as Goal }));
    const mine = ++sequence;
    if (metrics.length === 0) {
      mount(result, h('p', { class: 'note' }, 'Pick a metric to rank the experiments by.'));
      return;
    }
    result.classList.add('loading');
    let comparison: ComparisonJson;
    try {
      comparison = await api.compareStudy(studyId, { metrics, experiments: rows.map((r) => r.id) });
    } catch (error) {
      if (mine !== sequence || ctx.signal.aborted) return;
      result.classList.remove('loading');
      if (error instanceof ApiError && (error.code === 'INSUFFICIENT_RUNS' || error.status === 422)) {
        mount(
          result,
          h(
            'p',
            { class: 'note', 'data-testid': 'study-comparison-note' },
            `No comparison yet: ${error.message}. Only completed experiments are compared.`,
          ),
        );
      } else {
        mount(result, h('div', { class: 'error', role: 'alert' }, h('p', null, `The comparison failed: ${(error as Error).message}`)));
      }
      return;
    }
    if (mine !== sequence || ctx.signal.aborted) return;
    result.classList.remove('loading');
    mount(result, comparisonView(comparison, metrics, names, rows.length));
  };
  for (const p of picks) {
    p.check.addEventListener('change', () => void run());
    p.goal.addEventListener('change', () => void run());
  }
  mount(
    box,
    h(
      'p',
      { class: 'muted' },
      'Ranks the completed experiments by their final values; replicates (same params but the seed) are tested against each other with Welch’s t-test.',
    ),
    h(
      'div',
      { class: 'study-metrics' },
      picks.map((p) => h('label', { class: 'metric-pick' }, p.check, ' ', p.key, ' ', p.goal)),
    ),
    result,
  );
  await run();
}

function comparisonView(
  comparison: ComparisonJson,
  metrics: readonly { name: string; goal: Goal }[],
  names: ReadonlyMap<string, string>,
  chosen: number,
): HTMLElement[] {
  const name = (id: string) => names.get(id) ?? id;
  const link = (id: string) => h('a', { href: href(`/experiments/${id}`) }, name(id));
  const pareto = new Set(comparison.paretoFrontier);
  const out: HTMLElement[] = [];
  if (comparison.experiments.length < chosen) {
    out.push(h('p', { class: 'muted' }, `${comparison.experiments.length} of ${chosen} experiments are completed and compared.`));
  }

  const rankings = h('div', { class: 'rankings' });
  for (const { name: metric, goal } of metrics) {
    const ranking = comparison.rankings[metric] ?? [];
    const values = comparison.values[metric] ?? {};
    const stats = comparison.statistics[metric];
    const baseline = comparison.baseline?.metrics[metric];
    rankings.append(
      h(
        'div',
        { class: 'ranking', 'data-metric': metric },
        h('h3', null, `${metric} `, h('span', { class: 'muted' }, goal === 'minimize' ? '(lower is better)' : '(higher is better)')),
        h(
          'table',
          { class: 'grid' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { class: 'num' }, '#'),
              h('th', null, 'experiment'),
              h('th', { class: 'num' }, 'final'),
              h('th', { class: 'num' }, goal === 'minimize' ? 'best (min)' : 'best (max)'),
            ),
          ),
          h(
            'tbody',
            null,
            ranking.map((id, i) =>
              h(
                'tr',
                {
                  'data-testid': 'ranking',
                  'data-id': id,
                  'data-metric': metric,
                  'data-rank': i + 1,
                  class: pareto.has(id) ? 'on-pareto' : null,
                },
                h('td', { class: 'num' }, i + 1),
                h('td', null, link(id)),
                h('td', { class: 'num', 'data-value': values[id]?.final ?? null }, formatNumber(values[id]?.final)),
                h('td', { class: 'num', 'data-value': values[id]?.best ?? null }, formatNumber(values[id]?.best)),
              ),
            ),
          ),
        ),
        ranking.length === 0 ? h('p', { class: 'muted' }, `No completed experiment has a final value of ${metric}.`) : null,
        stats
          ? h(
              'p',
              { class: 'muted' },
              `mean ${formatNumber(stats.mean)} ± ${formatNumber(stats.std)} · min ${formatNumber(stats.min)} · max ${formatNumber(stats.max)} · n = ${stats.n}`,
            )
          : null,
        baseline !== undefined && comparison.baseline
          ? h('p', { class: 'muted', 'data-testid': 'baseline-value' }, `baseline ${comparison.baseline.name}: ${formatNumber(baseline)}`)
          : null,
      ),
    );
  }
  out.push(rankings);

  out.push(
    h(
      'div',
      { class: 'pareto', 'data-testid': 'pareto' },
      h('h3', null, 'Pareto frontier'),
      metrics.length < 2
        ? h('p', { class: 'muted' }, 'Pick two metrics or more: the frontier holds the experiments no other beats on all of them.')
        : comparison.paretoFrontier.length === 0
          ? h('p', { class: 'muted' }, 'No experiment has a value of every chosen metric.')
          : h(
              'p',
              null,
              `${comparison.paretoFrontier.length} of ${comparison.experiments.length}: `,
              comparison.paretoFrontier.map((id) =>
                h('a', { class: 'pareto-name', href: href(`/experiments/${id}`), 'data-id': id }, name(id)),
              ),
            ),
    ),
  );

  out.push(
    h(
      'div',
      { class: 'significance' },
      h('h3', null, 'Significance (Welch’s t-test)'),
      comparison.significance.length === 0
        ? h('p', { class: 'muted' }, 'Nothing to test: that needs two configurations with two completed runs or more each.')
        : h(
            'table',
            { class: 'grid', 'data-testid': 'significance' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['metric', 'best group', 'other group', 'mean A', 'mean B', 't', 'df', 'p'].map((t, i) =>
                  h('th', { class: i >= 3 ? 'num' : null }, t),
                ),
              ),
            ),
            h(
              'tbody',
              null,
              comparison.significance.map((s) =>
                h(
                  'tr',
                  { 'data-metric': s.metric, class: s.pValue !== null && s.pValue < 0.05 ? 'significant' : null },
                  h('td', null, s.metric),
                  h('td', { class: 'wrap' }, `${s.groupA} (n = ${s.idsA.length})`),
                  h('td', { class: 'wrap' }, `${s.groupB} (n = ${s.idsB.length})`),
                  h('td', { class: 'num' }, formatNumber(s.meanA)),
                  h('td', { class: 'num' }, formatNumber(s.meanB)),
                  h('td', { class: 'num', 'data-value': s.t }, formatNumber(s.t)),
                  h('td', { class: 'num', 'data-value': s.df }, formatNumber(s.df)),
                  h('td', { class: 'num', 'data-value': s.pValue }, formatNumber(s.pValue)),
                ),
              ),
            ),
          ),
    ),
  );

  if (comparison.correlations.length > 0) {
    out.push(
      h(
        'div',
        { class: 'correlations' },
        h('h3', null, 'Correlations with params'),
        h(
          'table',
          { class: 'grid', 'data-testid': 'correlations' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['param', 'metric', 'Pearson r', 'Spearman ρ', 'n'].map((t, i) => h('th', { class: i >= 2 ? 'num' : null }, t)),
            ),
          ),
          h(
            'tbody',
            null,
            comparison.correlations.map((c) =>
              h(
                'tr',
                null,
                h('td', null, c.param),
                h('td', null, c.metric),
                h('td', { class: 'num' }, formatNumber(c.pearson)),
                h('td', { class: 'num' }, formatNumber(c.spearman)),
                h('td', { class: 'num' }, c.n),
              ),
            ),
          ),
        ),
      ),
    );
  }

  out.push(
    h(
      'div',
      { class: 'insights' },
      h('h3', null, 'Insights'),
      comparison.insights.length === 0
        ? h('p', { class: 'muted' }, 'No insight from these numbers.')
        : h(
            'ul',
            { 'data-testid': 'insights' },
            comparison.insights.map((text) => h('li', null, text)),
          ),
    ),
  );
  return out;
}

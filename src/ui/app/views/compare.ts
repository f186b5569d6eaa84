// The compare page: chosen experiments side by side — differing params and last values, overlaid curves per metric, parallel coordinates, a scatter and the study comparison.

import './compare.css';
import { emptyState, h, mount } from '../dom.js';
import { href, type ViewContext } from '../navigation.js';
import { lineChart, type LineChart } from '../charts/line-chart.js';
import { loadPlotly } from '../charts/plotly.js';
import { CompareGoals } from './compare-goals.js';
import { MAX_SERIES_EXPERIMENTS, type XAxis } from '../../ui-api.js';
import { loadRows, metricKeysOf, paramKeysOf } from './compare-rows.js';
import { swatch, compareTable } from './compare-table.js';
import type { PlotlyApi } from './compare-plotly.js';
import { renderParallel } from './compare-parallel.js';
import { renderScatter } from './compare-scatter.js';
import { renderStudyComparison } from './compare-study.js';

/** Charts drawn at once; the others when they scroll near the viewport. */
const IMMEDIATE_CHARTS = 4;

/** Names listed in the header; the table lists them all. */
const HEADER_NAMES = 12;

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

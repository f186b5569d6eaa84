// The compare view's parallel coordinates: params → a metric's last value, one line per experiment.

import { h, mount } from '../dom.js';
import { replaceQuery, type ViewContext } from '../navigation.js';
import type { Goal } from '../../../model/metric-goal.js';
import { type CompareGoals } from './compare-goals.js';
import type { ExperimentRow, XAxis } from '../../ui-api.js';
import { collator, finite, differs } from './compare-rows.js';
import { type PlotlyApi, plotText, loadedPlotly, metricSelect } from './compare-plotly.js';

/** Most param axes in the parallel-coordinates plot (Plotly draws up to 60 dimensions). */
const MAX_PARALLEL_PARAMS = 40;

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

export async function renderParallel(
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

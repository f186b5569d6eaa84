// Parallel coordinates: params → an objective, one line each (the compare view's experiments, a sweep's trials), and the compare view's section.

import { h, mount } from '../dom.js';
import { replaceQuery, type ViewContext } from '../navigation.js';
import type { Goal } from '../../../model/metric-goal.js';
import { type CompareGoals } from './compare-goals.js';
import type { ExperimentRow, ParamValue, XAxis } from '../../ui-api.js';
import { collator, finite } from './compare-rows.js';
import { type PlotlyApi, plotText, loadedPlotly, metricSelect } from './compare-plotly.js';

/** Most param axes in the parallel-coordinates plot (Plotly draws up to 60 dimensions). */
const MAX_PARALLEL_PARAMS = 40;

/** One line of a parallel-coordinates plot: its params and its objective (a finite number). */
export interface ParallelLine {
  readonly params: Readonly<Record<string, ParamValue | undefined>>;
  readonly value: number;
}

/** Whether the lines' values of a param differ. */
function varies(lines: readonly ParallelLine[], key: string): boolean {
  return new Set(lines.map((l) => (l.params[key] === undefined ? '∅' : `${typeof l.params[key]}:${String(l.params[key])}`))).size > 1;
}

/**
 * A parcoords trace of the params (numeric or categorical axes, those that vary when some do) and the
 * objective `label`, one line per entry, coloured by the objective (the better end bright); or why there is none.
 */
export function parcoordsFigure(
  lines: readonly ParallelLine[],
  paramKeys: readonly string[],
  label: string,
  goal: Goal,
): { data: unknown[]; layout: Record<string, unknown> } | string {
  const varying = paramKeys.filter((k) => varies(lines, k));
  const keys = (varying.length > 0 ? varying : [...paramKeys]).slice(0, MAX_PARALLEL_PARAMS);
  if (keys.length === 0) return 'No params to draw.';
  const dimensions: Record<string, unknown>[] = [];
  for (const key of keys) {
    const values = lines.map((l) => l.params[key]);
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
  const y = lines.map((l) => l.value);
  dimensions.push({ label: plotText(label), values: y });
  return {
    data: [
      {
        type: 'parcoords',
        line: {
          color: y,
          colorscale: 'Viridis',
          reversescale: goal === 'minimize',
          showscale: true,
          colorbar: { title: { text: plotText(label) } },
        },
        dimensions,
      },
    ],
    layout: { height: 420, margin: { l: 70, r: 90, t: 50, b: 30 }, paper_bgcolor: 'rgba(0,0,0,0)' },
  };
}

/** A parcoords trace of the params and the metric's last value, one line per experiment with a finite one. */
function parallelFigure(
  rows: readonly ExperimentRow[],
  paramKeys: readonly string[],
  metric: string,
  goal: Goal,
): { data: unknown[]; layout: Record<string, unknown> } | string {
  const usable = rows.filter((r) => finite(r.metrics[metric]?.last));
  if (usable.length === 0) return `No experiment has a finite last value of ${metric}.`;
  const figure = parcoordsFigure(
    usable.map((r) => ({ params: r.params, value: r.metrics[metric]!.last as number })),
    paramKeys,
    metric,
    goal,
  );
  return typeof figure === 'string' ? 'These experiments log no params.' : figure;
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

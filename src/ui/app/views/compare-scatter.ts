// The compare view's scatter: any param or metric against any metric, one point per experiment.

import { h, mount } from '../dom.js';
import { href, type ViewContext } from '../navigation.js';
import type { ExperimentRow } from '../../ui-api.js';
import { type Stat, finite, statOf, differs } from './compare-rows.js';
import { type PlotlyApi, plotText, loadedPlotly, metricSelect } from './compare-plotly.js';

export async function renderScatter(
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

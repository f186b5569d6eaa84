// The sweep page's result sections: parallel coordinates of the completed trials (Plotly) and the param importances as bars.

import type { Goal } from '../../../model/metric-goal.js';
import { formatNumber, h, mount } from '../dom.js';
import type { ViewContext } from '../navigation.js';
import { loadPlotly } from '../charts/plotly.js';
import type { ParamImportance, TrialSummary } from '../../ui-api.js';
import { parcoordsFigure } from './compare-parallel.js';
import { loadedPlotly } from './compare-plotly.js';

/** How the importances are computed (src/core/param-importance.ts), as the page states it. */
const IMPORTANCE_METHOD =
  'η² (correlation ratio): the share of the objective’s variance between each param’s groups — an enum’s values, a number’s quantile bins — normalised to sum to 1. First-order effects only; interactions are not seen.';

export interface SweepSection<T> {
  readonly element: HTMLElement;
  update(value: T): void;
}

/** Parallel coordinates of the params and the objective, one line per completed trial, coloured by its value. */
export function parallelSection(
  ctx: ViewContext,
  params: readonly string[],
  metric: string,
  goal: Goal,
): SweepSection<readonly TrialSummary[]> {
  const box = h('div', { class: 'plot', 'data-testid': 'sweep-parallel' }, h('p', { class: 'muted' }, 'Loading Plotly…'));
  const element = h('section', { class: 'panel', 'data-section': 'parallel' }, h('h2', null, `Params → ${metric}`), box);
  let drawn = false;
  let shown = '';
  let latest: readonly TrialSummary[] = [];
  let plotly: Awaited<ReturnType<typeof loadPlotly>> | undefined;
  ctx.signal.addEventListener('abort', () => drawn && plotly?.purge(box), { once: true });
  const draw = async () => {
    if (plotly === undefined) return;
    const lines = latest.flatMap((t) => (t.status === 'completed' && t.value !== null ? [{ params: t.params, value: t.value }] : []));
    // Redrawn only when the completed trials changed (a live page re-reads every few seconds).
    const key = JSON.stringify(lines);
    if (key === shown) return;
    shown = key;
    box.dataset['lines'] = String(lines.length);
    const figure = lines.length === 0 ? 'No completed trial yet.' : parcoordsFigure(lines, params, metric, goal);
    if (typeof figure === 'string') {
      if (drawn) plotly.purge(box);
      drawn = false;
      mount(box, h('p', { class: 'muted', 'data-testid': 'sweep-parallel-empty' }, figure));
      return;
    }
    if (!drawn) box.replaceChildren();
    const config = { responsive: true, displaylogo: false };
    await (drawn ? plotly.react(box, figure.data, figure.layout, config) : plotly.newPlot(box, figure.data, figure.layout, config));
    drawn = true;
    box.dataset['ready'] = '1';
  };
  void loadedPlotly(ctx, box, loadPlotly).then((loaded) => {
    plotly = loaded;
    void draw();
  });
  return {
    element,
    update(trials) {
      latest = trials;
      void draw();
    },
  };
}

/** The importances as horizontal bars, largest first, with the method named. */
export function importancesSection(): SweepSection<readonly ParamImportance[]> {
  const list = h('ol', { class: 'importances', 'data-testid': 'sweep-importances' });
  const element = h(
    'section',
    { class: 'panel', 'data-section': 'importances' },
    h('h2', null, 'Param importances'),
    h('p', { class: 'muted', 'data-testid': 'importance-method' }, IMPORTANCE_METHOD),
    list,
  );
  let shown = '';
  return {
    element,
    update(importances) {
      const key = JSON.stringify(importances);
      if (key === shown) return;
      shown = key;
      if (importances.length === 0) {
        mount(
          list,
          h('li', { class: 'muted', 'data-testid': 'importances-empty' }, 'Not enough completed trials yet to estimate importances.'),
        );
        return;
      }
      mount(
        list,
        importances.map((i) => {
          const fill = h('span', { class: 'importance-fill' });
          // Set through the CSSOM: the page's policy refuses style attributes.
          fill.style.width = `${Math.max(0, Math.min(1, i.importance)) * 100}%`;
          return h(
            'li',
            { 'data-param': i.param, 'data-importance': i.importance, title: `η² ${formatNumber(i.eta2)}` },
            h('span', { class: 'importance-name' }, i.param),
            h('span', { class: 'importance-bar' }, fill),
            h('span', { class: 'importance-value num' }, `${formatNumber(Math.round(i.importance * 1000) / 10)}%`),
          );
        }),
      );
    },
  };
}

// A sweep's optimization-history chart (uPlot): each completed trial's value by trial number, and the best-so-far line.

import uPlot from 'uplot';
import { formatNumber, h } from '../dom.js';
import type { HistoryPoint } from '../../ui-api.js';
import { seriesColor } from './line-chart.js';

/** Steps between the trial axis' ticks uPlot may choose from. */
const TRIAL_TICK_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000];

export interface SweepHistoryChart {
  /** The chart; its data-points, data-trials and data-best say what uPlot last drew. */
  readonly element: HTMLElement;
  /** Draws these points (a live page calls it when trials complete). */
  update(history: readonly HistoryPoint[]): void;
  destroy(): void;
}

/** uPlot's aligned columns of the history: trial numbers, values, best so far. */
function columns(history: readonly HistoryPoint[]): uPlot.AlignedData {
  return [history.map((p) => p.trial), history.map((p) => p.value), history.map((p) => p.best)];
}

export function sweepHistoryChart(metric: string, history: readonly HistoryPoint[], height = 280): SweepHistoryChart {
  const element = h('div', { class: 'chart sweep-history-chart', 'data-testid': 'sweep-history' });
  const plotBox = h('div', { class: 'plot-box' });
  element.append(plotBox);
  let data = columns(history);
  let plot: uPlot | null = null;
  const axisFont = '11px system-ui, sans-serif';
  const build = () => {
    plot?.destroy();
    plot = new uPlot(
      {
        width: plotBox.clientWidth > 0 ? plotBox.clientWidth : 600,
        height,
        series: [
          { label: 'trial', value: (_u, v) => (v === null ? '—' : String(v)) },
          {
            label: metric,
            stroke: seriesColor(0),
            paths: () => null,
            points: { show: true, size: 7, stroke: seriesColor(0), fill: seriesColor(0) },
            value: (_u, v) => formatNumber(v),
          },
          {
            label: 'best so far',
            stroke: seriesColor(1),
            width: 2,
            paths: uPlot.paths.stepped!({ align: 1 }),
            points: { show: false },
            value: (_u, v) => formatNumber(v),
          },
        ],
        scales: { x: { time: false } },
        axes: [
          // Trial numbers are integers: ticks at whole steps only.
          { font: axisFont, label: 'trial', incrs: TRIAL_TICK_STEPS },
          {
            font: axisFont,
            label: metric,
            values: (_u: uPlot, splits: (number | null)[]) => splits.map((s) => (s === null ? '' : formatNumber(s))),
            size: (_u: uPlot, values: string[] | null) => (values ? Math.max(40, ...values.map((v) => v.length * 7 + 18)) : 50),
          },
        ],
        hooks: {
          // What was drawn, read back from uPlot's own data: tests and styles look here.
          draw: [
            (u: uPlot) => {
              const xs = u.data[0] as number[];
              const best = u.data[2] as (number | null)[];
              element.dataset['points'] = String((u.data[1] as (number | null)[]).filter((v) => v !== null).length);
              element.dataset['trials'] = xs.join(',');
              element.dataset['best'] = best.length > 0 ? String(best[best.length - 1]) : '';
              element.dataset['ready'] = '1';
            },
          ],
        },
      },
      data,
      plotBox,
    );
  };
  let lastWidth = 0;
  const observer = new ResizeObserver(() => {
    const width = plotBox.clientWidth;
    if (width > 0 && width !== lastWidth) {
      lastWidth = width;
      if (plot === null) build();
      else plot.setSize({ width, height });
    }
  });
  observer.observe(plotBox);
  requestAnimationFrame(() => {
    if (plot === null) build();
  });
  return {
    element,
    update(next) {
      data = columns(next);
      plot?.setData(data);
    },
    destroy() {
      observer.disconnect();
      plot?.destroy();
      plot = null;
    },
  };
}

// The scaling-law chart (uPlot): a progressive_scaling study's metric against size on a log axis, the fitted curve, the targets and the sizes predicted for them.

import uPlot from 'uplot';
import { formatNumber, h } from '../dom.js';
import type { ScalingLawJson } from '../api.js';
import { seriesColor } from './line-chart.js';

/** Points of the fitted curve, log-spaced across the axis. */
const CURVE_POINTS = 120;
/** The axis extends to a predicted size only within this factor of the largest size run (further is off any useful chart). */
const MAX_EXTRAPOLATION = 1000;
const TARGET_COLOR = '#d62728';

/** A tick label: uPlot passes null for ticks it leaves unlabelled; large sizes as 1e6 rather than 1000000. */
function tick(value: number | null): string {
  if (value === null) return '';
  return Math.abs(value) >= 1e4 ? value.toExponential().replace('e+', 'e') : formatNumber(value);
}

export interface ScalingChart {
  readonly element: HTMLElement;
  destroy(): void;
}

/** The chart of `law` (its fit must exist); the caller appends `element`. */
export function scalingChart(law: ScalingLawJson, height = 300): ScalingChart {
  const { fit, points, metric, sizeParam } = law;
  const curve = (n: number) => fit.a * Math.pow(n, -fit.b) + fit.c;
  const sizes = points.map((p) => p.size);
  const smallest = Math.min(...sizes);
  const largest = Math.max(...sizes);
  const targets = law.targets.filter((t) => t.metric === metric);
  const predicted = targets.flatMap((t) => (t.size !== null && t.size <= largest * MAX_EXTRAPOLATION ? [t.size] : []));
  const lo = Math.min(smallest, ...predicted) / 1.5;
  const hi = Math.max(largest, ...predicted) * 1.5;

  // uPlot series share one x array: the curve's points and every observed size, each series null where it has no value.
  const xs = [
    ...new Set([...Array.from({ length: CURVE_POINTS }, (_, i) => lo * Math.pow(hi / lo, i / (CURVE_POINTS - 1))), ...sizes, ...predicted]),
  ].sort((x, y) => x - y);
  // Replicates (several runs of one size) go to further "observed" series, one value per x each.
  const bySize = new Map<number, number[]>();
  for (const p of points) bySize.set(p.size, [...(bySize.get(p.size) ?? []), p.value]);
  const replicates = Math.max(...[...bySize.values()].map((v) => v.length));
  const observed = Array.from({ length: replicates }, (_, k) => xs.map((x) => bySize.get(x)?.[k] ?? null));
  const fitted = xs.map((x) => curve(x));
  const targetLines = targets.map((t) => xs.map(() => t.target));

  const series: uPlot.Series[] = [
    { label: sizeParam, value: (_u, v) => (v === null ? '—' : formatNumber(v)) },
    ...observed.map((_, k): uPlot.Series => ({
      label: k === 0 ? `${metric} (final)` : `${metric} (final, run ${k + 1})`,
      stroke: seriesColor(0),
      fill: seriesColor(0),
      paths: () => null,
      points: { show: true, size: 8, stroke: seriesColor(0), fill: seriesColor(0) },
      value: (_u, v) => formatNumber(v),
    })),
    {
      label: `fit a·N^(−b) + c`,
      stroke: seriesColor(1),
      width: 2,
      points: { show: false },
      value: (_u, v) => formatNumber(v),
    },
    ...targets.map((t): uPlot.Series => ({
      label: `target ${formatNumber(t.target)}`,
      stroke: TARGET_COLOR,
      width: 1,
      dash: [6, 4],
      points: { show: false },
      value: () => formatNumber(t.target),
    })),
  ];
  const element = h('div', {
    class: 'chart scaling-chart',
    'data-testid': 'scaling-chart',
    'data-points': String(points.length),
    'data-curve': String(fitted.length),
    'data-targets': String(targets.length),
  });
  const plotBox = h('div', { class: 'plot-box' });
  element.append(plotBox);
  const axisFont = '11px system-ui, sans-serif';
  let plot: uPlot | null = null;
  const build = () => {
    plot?.destroy();
    plot = new uPlot(
      {
        width: plotBox.clientWidth > 0 ? plotBox.clientWidth : 600,
        height,
        series,
        scales: { x: { time: false, distr: 3, log: 10 } },
        axes: [
          { font: axisFont, label: sizeParam, values: (_u: uPlot, splits: (number | null)[]) => splits.map(tick) },
          {
            font: axisFont,
            label: metric,
            values: (_u: uPlot, splits: (number | null)[]) => splits.map((s) => (s === null ? '' : formatNumber(s))),
            size: (_u: uPlot, values: string[] | null) => (values ? Math.max(40, ...values.map((v) => v.length * 7 + 18)) : 50),
          },
        ],
        hooks: {
          // A dashed vertical line at each predicted size: where the curve meets its target.
          draw: [
            (u: uPlot) => {
              const ctx = u.ctx;
              ctx.save();
              ctx.strokeStyle = TARGET_COLOR;
              ctx.setLineDash([3, 3]);
              ctx.lineWidth = 1;
              for (const size of predicted) {
                const x = u.valToPos(size, 'x', true);
                ctx.beginPath();
                ctx.moveTo(x, u.bbox.top);
                ctx.lineTo(x, u.bbox.top + u.bbox.height);
                ctx.stroke();
              }
              ctx.restore();
            },
          ],
        },
      },
      [xs, ...observed, fitted, ...targetLines] as uPlot.AlignedData,
      plotBox,
    );
    // The scale uPlot drew with (distr 3: logarithmic), for tests and for styles.
    element.dataset['xScale'] = plot.scales['x']?.distr === 3 ? `log${plot.scales['x'].log ?? 10}` : 'linear';
    element.dataset['ready'] = '1';
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
  // Built once the element is in the page and has a width (the observer), or now at a default width if it never gets one.
  requestAnimationFrame(() => {
    if (plot === null) build();
  });
  return {
    element,
    destroy() {
      observer.disconnect();
      plot?.destroy();
      plot = null;
    },
  };
}

// A metric line chart (uPlot) of one or more experiments: fetches downsampled series, zooms with detail, smooths, logs, follows live data.

import uPlot from 'uplot';
import { api } from '../api.js';
import { formatDuration, formatNumber, formatTime, h } from '../dom.js';
import { NonFiniteMarkers } from './non-finite-markers.js';
import { MAX_SERIES_POINTS, type SeriesAnswer, type XAxis } from '../../ui-api.js';
import '../views/experiment.css';

export interface LineChartOptions {
  /** Series to draw, in legend order (one for the experiment view, many for compare). */
  experiments: { id: string; label: string }[];
  x?: XAxis; // default 'step'
  height?: number; // default 260
  signal?: AbortSignal; // stop work when aborted
  /**
   * The first request waits for this (settled either way). The server answers SQLite reads a slice at a
   * time, so concurrent requests share it: charts queued behind the first let the first paint sooner.
   */
  after?: Promise<unknown>;
}

export interface LineChart {
  readonly element: HTMLElement; // class="chart", data-metric=KEY; append it where you like
  /** Resolves after the first draw (or rejects with the load error, also shown inside the element). */
  readonly ready: Promise<void>;
  /** Re-fetches the current range (live updates): keeps the zoom if the user zoomed, else follows the growing data. */
  refresh(): Promise<void>;
  destroy(): void;
}

/** Ten distinct colours (d3's category10); series cycle through them in legend order. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
] as const;
export const seriesColor = (index: number): string => PALETTE[index % PALETTE.length]!;

const X_LABELS: Record<XAxis, string> = { step: 'step', time: 'wall time', relative: 'relative time' };
const SMOOTHING_TITLE =
  'Exponential moving average, computed in the browser. The smoothed line is drawn over the raw series (faint); the legend shows smoothed values.';
const ZOOM_DEBOUNCE_MS = 150;
/** How near the cursor (in pixels) a NaN or ±Infinity point is named in the legend. */
const LEGEND_REACH_PX = 4;
/** Values a chart asks for across all its series at most, and per series at least. */
const TOTAL_POINTS = 60_000;
const MIN_SERIES_POINTS = 400;
/** Above this many series the legend stops following the cursor (a hundred live rows cost more than the plot). */
const LIVE_LEGEND_SERIES = 12;

type Range = { from: number; to: number };
const noop = (): void => {};

export function lineChart(key: string, options: LineChartOptions): LineChart {
  const experiments = options.experiments;
  const ids = experiments.map((e) => e.id);
  const height = options.height ?? 260;
  let x: XAxis = options.x ?? 'step';
  let logScale = false;
  let smoothing = 0;
  let zoom: Range | null = null;
  let plot: uPlot | null = null;
  let shape = '';
  let answer: SeriesAnswer | null = null;
  /** The NaN and ±Infinity points of the answer drawn (the plot's plugin and legend read the latest). */
  const markers = new NonFiniteMarkers();
  let requestedPoints = 0;
  let sequence = 0;
  let destroyed = false;
  let zoomTimer: ReturnType<typeof setTimeout> | undefined;
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Legend toggles, by experiment index, kept when the plot is rebuilt. */
  const hidden = new Set<number>();

  let settle: { resolve: () => void; reject: (error: unknown) => void } | null = null;
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => {}); // callers that never await `ready` must not see an unhandled rejection

  const xSelect = h(
    'select',
    { 'data-testid': 'chart-x', title: 'x axis', onchange: () => setX(xSelect.value as XAxis) },
    (['step', 'time', 'relative'] as const).map((value) => h('option', { value, selected: value === x }, X_LABELS[value])),
  );
  const logBox = h('input', { type: 'checkbox', 'data-testid': 'chart-log', onchange: () => ((logScale = logBox.checked), draw()) });
  const smoothValue = h('span', { class: 'smooth-value' }, '0');
  const smoothSlider = h('input', {
    type: 'range',
    min: 0,
    max: 0.99,
    step: 0.01,
    value: 0,
    'data-testid': 'chart-smoothing',
    title: SMOOTHING_TITLE,
    oninput: () => {
      smoothing = Number(smoothSlider.value);
      smoothValue.textContent = smoothing.toFixed(2);
      draw();
    },
  });
  const note = h('div', { class: 'chart-note muted' });
  const errorBox = h('div', { class: 'chart-error', role: 'alert', hidden: true });
  const plotBox = h('div', { class: 'chart-plot', style: `min-height:${height}px` });
  const element = h(
    'div',
    { class: 'chart', 'data-metric': key },
    h(
      'div',
      { class: 'chart-head' },
      h('h3', { title: key }, key),
      h(
        'div',
        { class: 'chart-controls' },
        xSelect,
        h('label', { title: 'Logarithmic y axis' }, logBox, 'log'),
        h('label', { title: SMOOTHING_TITLE }, 'smooth', smoothSlider, smoothValue),
      ),
    ),
    errorBox,
    plotBox,
    note,
  );

  const observer = new ResizeObserver(() => {
    const width = plotBox.clientWidth;
    if (plot === null || width <= 0 || width === plot.width) return;
    plot.setSize({ width, height });
    // A wider plot deserves more points when the answer was downsampled.
    if (answer !== null && !answer.exact && pointsFor(width) > requestedPoints * 1.25) {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => void load(zoom).catch(() => {}), 300);
    }
  });
  observer.observe(plotBox);

  const onAbort = () => destroy();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  /**
   * Two values per pixel column (a bucket's min and max); with many series overlaid, fewer each, so a chart
   * draws at most about TOTAL_POINTS (no line of a hundred can be told apart at full resolution anyway).
   */
  function pointsFor(width: number): number {
    const perSeries = Math.max(MIN_SERIES_POINTS, Math.floor(TOTAL_POINTS / ids.length));
    return Math.max(50, Math.min(MAX_SERIES_POINTS, perSeries, Math.round(2 * width)));
  }

  /** The plot's width without forcing a layout before the first request: measured once laid out, else estimated. */
  function plotWidth(): number {
    if (plot !== null) return plot.width;
    // The charts' grid: columns of at least 460 px across the window, less the page's margins.
    const usable = Math.max(300, window.innerWidth - 60);
    const columns = Math.max(1, Math.floor(usable / 474));
    // Never below the grid's 460 px column (less its padding): a narrow window still gets a full column.
    return Math.max(442, Math.round(usable / columns - 30));
  }

  /** Fetches [range] (or everything) and draws it; answers overtaken by a newer request are dropped. */
  async function load(range: Range | null): Promise<void> {
    if (destroyed) return;
    const mine = ++sequence;
    const points = pointsFor(plotWidth());
    let next: SeriesAnswer;
    try {
      next = await api.series(key, ids, x, points, range ?? undefined);
    } catch (error) {
      if (destroyed || mine !== sequence) return;
      const message = error instanceof Error ? error.message : String(error);
      errorBox.textContent = `Could not load ${key}: ${message}`;
      errorBox.hidden = false;
      element.dataset['error'] = message;
      if (settle) {
        settle.reject(error);
        settle = null;
      }
      throw error;
    }
    if (destroyed || mine !== sequence) return;
    errorBox.hidden = true;
    delete element.dataset['error'];
    answer = next;
    requestedPoints = points;
    element.dataset['points'] = String(next.series.reduce((sum, s) => sum + s.total, 0));
    element.dataset['exact'] = String(next.exact);
    if (experiments.length === 1) {
      // The series' last stored value, whatever the range drawn and however it was downsampled.
      const last = next.series[0]?.last?.value ?? null;
      if (last === null) delete element.dataset['last'];
      else element.dataset['last'] = String(last);
    }
    draw();
  }

  function draw(): void {
    if (destroyed || answer === null) return;
    const n = experiments.length;
    const xs = answer.xs as number[];
    const raw = experiments.map((e) => {
      const found = answer!.series.find((s) => s.experimentId === e.id);
      return found ? (found.values as (number | null)[]) : new Array<number | null>(xs.length).fill(null);
    });
    const smoothed = smoothing > 0 ? raw.map((values) => ema(values, smoothing)) : [];
    const ys = [...raw, ...smoothed];
    const notes: string[] = [];
    let log = logScale;
    if (log && ys.some((values) => values.some((v) => v !== null && v <= 0))) {
      log = false;
      notes.push('log scale off: some values are ≤ 0');
    }
    if (!answer.exact) {
      const buckets = Math.max(1, Math.floor(requestedPoints / 2));
      const most = Math.max(0, ...answer.series.map((s) => s.points));
      notes.push(`min/max of ${formatNumber(Math.ceil(most / buckets))} points per bucket`);
    }
    if (xs.length === 0) notes.push('no points yet');
    if (zoom !== null) notes.push('zoomed: double-click to reset');
    note.textContent = notes.join(' · ');

    markers.set(
      experiments.map((e, i) => ({
        label: e.label,
        color: seriesColor(i),
        points: answer!.series.find((s) => s.experimentId === e.id)?.nonFinite ?? [],
      })),
    );
    element.dataset['nonfinite'] = String(markers.count);

    const data: uPlot.AlignedData = [xs, ...ys];
    const nextShape = `${x}|${log}|${smoothed.length > 0}|${n}`;
    if (plot !== null && nextShape === shape) {
      plot.setData(data, true);
    } else {
      plot?.destroy();
      shape = nextShape;
      plot = new uPlot(plotOptions(log, smoothed.length > 0), data, plotBox);
    }
    if (zoom !== null) plot.setScale('x', { min: zoom.from, max: zoom.to });
    element.dataset['ready'] = '1';
    element.dispatchEvent(new CustomEvent('lablog:drawn', { bubbles: true }));
    if (settle) {
      settle.resolve();
      settle = null;
    }
  }

  /** How far, in x, a few pixels reach: the legend names a non-finite value that close to the cursor. */
  function cursorTolerance(u: uPlot): number {
    return Math.abs(u.posToVal(LEGEND_REACH_PX, 'x') - u.posToVal(0, 'x'));
  }

  function plotOptions(log: boolean, smooth: boolean): uPlot.Options {
    const n = experiments.length;
    const xValue = (v: number | null): string =>
      v === null ? '—' : x === 'time' ? formatTime(v * 1000) : x === 'relative' ? formatDuration(v * 1000) : formatNumber(v);
    // A NaN or ±Infinity point has no y: the legend names its value (where the cursor is at its x, or at the
    // bucket point nearest to it in a downsampled answer) instead of a dash or a neighbour's number.
    const yValue = (u: uPlot, v: number | null, seriesIndex: number, index: number | null): string =>
      (index !== null ? markers.labelAt((seriesIndex - 1) % n, u.data[0], index, cursorTolerance(u)) : undefined) ?? formatNumber(v);
    const series: uPlot.Series[] = [{ label: X_LABELS[x], value: (_u, v) => xValue(v) }];
    // Raw series first (drawn below); with smoothing they are faint and left out of the legend.
    experiments.forEach((e, i) => {
      const color = seriesColor(i);
      series.push({
        label: e.label,
        stroke: smooth ? `${color}40` : color,
        width: smooth ? 1 : 1.5,
        spanGaps: true,
        show: !hidden.has(i),
        value: yValue,
        ...(smooth ? { class: 'lablog-raw' } : {}),
      });
    });
    if (smooth) {
      experiments.forEach((e, i) => {
        series.push({ label: e.label, stroke: seriesColor(i), width: 1.5, spanGaps: true, show: !hidden.has(i), value: yValue });
      });
    }
    const axisFont = '11px system-ui, sans-serif';
    return {
      width: plotBox.clientWidth > 0 ? plotBox.clientWidth : 600,
      height,
      series,
      scales: { x: { time: x === 'time' }, y: log ? { distr: 3, log: 10 } : {} },
      axes: [
        {
          font: axisFont,
          ...(x === 'relative' ? { values: (_u: uPlot, splits: number[]) => splits.map((s) => formatDuration(s * 1000)) } : {}),
          ...(x === 'step' ? { values: (_u: uPlot, splits: number[]) => splits.map((s) => formatNumber(s)) } : {}),
        },
        {
          font: axisFont,
          values: (_u: uPlot, splits: number[]) => splits.map((s) => formatNumber(s)),
          size: (_u: uPlot, values: string[] | null) => (values ? Math.max(40, ...values.map((v) => v.length * 7 + 18)) : 50),
        },
      ],
      legend: { live: experiments.length <= LIVE_LEGEND_SERIES },
      plugins: [markers.plugin((seriesIndex) => (seriesIndex - 1) % n)],
      cursor: {
        drag: { x: true, y: false, dist: 5 },
        bind: {
          dblclick: () => () => {
            resetZoom();
            return null;
          },
        },
      },
      hooks: {
        setSelect: [
          (u: uPlot) => {
            if (u.select.width <= 0) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            if (!(to > from)) return;
            zoom = { from, to };
            clearTimeout(zoomTimer);
            zoomTimer = setTimeout(() => void load(zoom).catch(() => {}), ZOOM_DEBOUNCE_MS);
          },
        ],
        setSeries: [
          (u: uPlot, index: number | null) => {
            if (index === null || index < 1) return;
            const experiment = (index - 1) % n;
            const show = u.series[index]?.show !== false;
            if (show) hidden.delete(experiment);
            else hidden.add(experiment);
            // Keep a raw series and its smoothed twin toggled together.
            if (smooth) {
              const twin = index > n ? index - n : index + n;
              if (u.series[twin] && u.series[twin].show !== show) u.setSeries(twin, { show }, false);
            }
          },
        ],
      },
    };
  }

  function resetZoom(): void {
    clearTimeout(zoomTimer);
    zoom = null;
    void load(null).catch(() => {});
  }

  function setX(next: XAxis): void {
    x = next;
    zoom = null;
    clearTimeout(zoomTimer);
    void load(null).catch(() => {});
  }

  function destroy(): void {
    if (destroyed) return;
    destroyed = true;
    clearTimeout(zoomTimer);
    clearTimeout(resizeTimer);
    observer.disconnect();
    options.signal?.removeEventListener('abort', onAbort);
    plot?.destroy();
    plot = null;
    if (settle) {
      settle.reject(new DOMException('chart destroyed', 'AbortError'));
      settle = null;
    }
  }

  if (options.signal?.aborted) destroy();
  // Start after the caller had a chance to put the element in the page, so its width is known.
  else void (options.after ?? Promise.resolve()).then(noop, noop).then(() => load(null).catch(() => {}));

  return {
    element,
    ready,
    refresh: () => load(zoom),
    destroy,
  };
}

/** Exponential moving average; nulls stay null and do not move the average. */
function ema(values: readonly (number | null)[], alpha: number): (number | null)[] {
  let last: number | null = null;
  return values.map((v) => {
    if (v === null) return null;
    last = last === null ? v : alpha * last + (1 - alpha) * v;
    return last;
  });
}

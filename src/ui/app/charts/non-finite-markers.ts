// NaN and ±Infinity points of a line chart: a marker at the plot's edge at their x (a line cannot draw them), and their value in the legend.

import type uPlot from 'uplot';
import type { NonFiniteToken } from '../../../model/json-number.js';

/** How the chart names each value (the legend and the marker's tooltip). */
export const NON_FINITE_LABELS: Record<NonFiniteToken, string> = { NaN: 'NaN', Infinity: '+Infinity', '-Infinity': '-Infinity' };
/** Where each value is marked: +Infinity and NaN (a diverged run) at the top edge, -Infinity at the bottom. */
const EDGE: Record<NonFiniteToken, 'top' | 'bottom'> = { NaN: 'top', Infinity: 'top', '-Infinity': 'bottom' };
const GLYPH: Record<NonFiniteToken, string> = { NaN: '◆', Infinity: '▲', '-Infinity': '▼' };
/** Most markers one chart draws (in legend order, then x order): past that many, more say nothing new. */
export const MAX_MARKERS_DRAWN = 2_000;

export interface NonFiniteSeries {
  readonly label: string;
  readonly color: string;
  readonly points: readonly { readonly x: number; readonly value: NonFiniteToken }[];
}

/** The non-finite values of the chart's series (by experiment index), looked up by x; the latest answer's. */
export class NonFiniteMarkers {
  #series: readonly NonFiniteSeries[] = [];
  /** Each series' points sorted by x, for the legend's look-up. */
  #sorted: (readonly { readonly x: number; readonly value: NonFiniteToken }[])[] = [];

  /** Takes the points of a new answer (the plot's next draw places them). */
  set(series: readonly NonFiniteSeries[]): void {
    this.#series = series;
    this.#sorted = series.map((s) => [...s.points].sort((a, b) => a.x - b.x));
  }

  get count(): number {
    return this.#series.reduce((n, s) => n + s.points.length, 0);
  }

  /**
   * The label of a NaN or ±Infinity value experiment `index` has at the chart's point `at` of `xs`: at that
   * x, or (in a downsampled answer, whose xs are bucket points and skip the non-finite ones) nearer to it
   * than to either neighbour, or within `tolerance` of it (a few pixels: a cursor cannot aim closer). The
   * first such value if several share the span.
   */
  labelAt(index: number, xs: ArrayLike<number | null | undefined>, at: number, tolerance = 0): string | undefined {
    const points = this.#sorted[index];
    const x = xs[at];
    if (points === undefined || points.length === 0 || x === null || x === undefined) return undefined;
    const before = at > 0 ? xs[at - 1] : undefined;
    const after = at < xs.length - 1 ? xs[at + 1] : undefined;
    const from = Math.min(x - tolerance, before === null || before === undefined ? -Infinity : (before + x) / 2);
    const to = Math.max(x + tolerance, after === null || after === undefined ? Infinity : (x + after) / 2);
    // The first point at or after `from` (binary search), if it is before `to` (or exactly at x).
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (points[mid]!.x < from) lo = mid + 1;
      else hi = mid;
    }
    const point = points[lo];
    return point !== undefined && point.x <= to ? NON_FINITE_LABELS[point.value] : undefined;
  }

  /**
   * A uPlot plugin that keeps one element per point over the plot, at its x on the top or bottom edge.
   * `experimentOf` maps a uPlot series index to the experiment index (smoothed twins share their raw series').
   */
  plugin(experimentOf: (seriesIndex: number) => number): uPlot.Plugin {
    let layer: HTMLElement | null = null;
    const place = (u: uPlot): void => {
      const target = layer;
      if (target === null) return;
      target.replaceChildren();
      const xMin = u.scales['x']?.min ?? -Infinity;
      const xMax = u.scales['x']?.max ?? Infinity;
      const shown = new Set<number>();
      u.series.forEach((s, i) => {
        if (i > 0 && s.show !== false) shown.add(experimentOf(i));
      });
      let drawn = 0;
      this.#series.forEach((series, index) => {
        if (!shown.has(index)) return;
        for (const point of series.points) {
          if (point.x < xMin || point.x > xMax) continue;
          if (++drawn > MAX_MARKERS_DRAWN) return;
          const label = NON_FINITE_LABELS[point.value];
          const marker = document.createElement('span');
          marker.className = `nonfinite-marker nonfinite-${EDGE[point.value]}`;
          marker.dataset['testid'] = 'nonfinite-marker';
          marker.dataset['x'] = String(point.x);
          marker.dataset['value'] = label;
          marker.dataset['series'] = series.label;
          marker.title = `${series.label}: ${label} at ${point.x}`;
          marker.textContent = GLYPH[point.value];
          marker.style.color = series.color;
          marker.style.left = `${u.valToPos(point.x, 'x')}px`;
          target.append(marker);
        }
      });
    };
    return {
      hooks: {
        ready: [
          (u: uPlot) => {
            layer = document.createElement('div');
            layer.className = 'nonfinite-layer';
            u.over.append(layer);
            place(u);
          },
        ],
        draw: [place],
        setSeries: [place],
        destroy: [
          () => {
            layer?.remove();
            layer = null;
          },
        ],
      },
    };
  }
}

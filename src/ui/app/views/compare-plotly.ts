// What the compare view's Plotly sections share: Plotly loaded on demand, user text escaped for its labels, a metric picker.

import { h, mount } from '../dom.js';
import type { ViewContext } from '../navigation.js';
import { type loadPlotly } from '../charts/plotly.js';

export type PlotlyApi = Awaited<ReturnType<typeof loadPlotly>>;

/** Plotly renders some HTML tags in labels and hover text: user text goes in with its brackets escaped. */
export function plotText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Plotly once loaded; undefined when the page was left meanwhile, or it failed to load (said in `box`). */
export async function loadedPlotly(ctx: ViewContext, box: HTMLElement, loading: () => Promise<PlotlyApi>): Promise<PlotlyApi | undefined> {
  try {
    const plotly = await loading();
    return ctx.signal.aborted ? undefined : plotly;
  } catch (error) {
    mount(box, h('p', { class: 'error' }, `Plotly could not load: ${(error as Error).message}`));
    return undefined;
  }
}

export function metricSelect(testid: string, metricKeys: readonly string[], value: string): HTMLSelectElement {
  const select = h(
    'select',
    { 'data-testid': testid },
    metricKeys.map((k) => h('option', { value: k }, k)),
  );
  select.value = value;
  return select;
}

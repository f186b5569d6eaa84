// Plotly, loaded on first use (a chunk of its own), and drawing a logged Plotly figure into an element.

/** The few Plotly calls the app makes (plotly.js-dist-min ships without types). */
export interface Plotly {
  newPlot(el: HTMLElement, data: unknown[], layout?: Record<string, unknown>, config?: Record<string, unknown>): Promise<HTMLElement>;
  newPlot(
    el: HTMLElement,
    figure: { data: unknown[]; layout?: Record<string, unknown>; config?: Record<string, unknown>; frames?: unknown[] },
  ): Promise<HTMLElement>;
  react(el: HTMLElement, data: unknown[], layout?: Record<string, unknown>, config?: Record<string, unknown>): Promise<HTMLElement>;
  purge(el: HTMLElement): void;
  Plots: { resize(el: HTMLElement): void };
}

let loading: Promise<Plotly> | undefined;

export function loadPlotly(): Promise<Plotly> {
  if (loading === undefined) {
    const attempt = (async () => {
      // @ts-expect-error plotly.js-dist-min has no type declarations; the Plotly interface above describes what is used.
      const module = (await import('plotly.js-dist-min')) as { default?: Plotly } & Partial<Plotly>;
      return (module.default ?? module) as Plotly;
    })();
    // A failed load (a chunk that did not arrive) may be retried.
    attempt.catch(() => {
      if (loading === attempt) loading = undefined;
    });
    loading = attempt;
  }
  return loading;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Draws a figure as logged ({ data, layout?, config?, frames? }) into `el`, responsive and without the Plotly logo. */
/** Frees what Plotly holds for `el` (its resize listener keeps a detached figure alive otherwise). */
export function purgeFigure(el: HTMLElement): void {
  if (loading !== undefined) void loading.then((plotly) => plotly.purge(el)).catch(() => {});
}

export async function plotFigure(el: HTMLElement, figure: unknown): Promise<void> {
  const plotly = await loadPlotly();
  const f = isRecord(figure) ? figure : {};
  const data = Array.isArray(f['data']) ? (f['data'] as unknown[]) : [];
  const layout = isRecord(f['layout']) ? f['layout'] : {};
  plotly.purge(el);
  await plotly.newPlot(el, {
    data,
    layout: { autosize: true, margin: { t: 40, r: 20, b: 50, l: 60 }, ...layout },
    // The logged config is not used: it can name servers to send the figure to (plotlyServerURL, …).
    config: { responsive: true, displaylogo: false },
    ...(Array.isArray(f['frames']) ? { frames: f['frames'] as unknown[] } : {}),
  });
}

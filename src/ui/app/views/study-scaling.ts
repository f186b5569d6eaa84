// A progressive_scaling study's scaling-law panel: the chart of metric against size with the fit, the estimates with intervals, and the size each target needs.

import { ApiError, api, type ScalingLawJson } from '../api.js';
import { formatNumber, h, mount } from '../dom.js';
import { href, type ViewContext } from '../navigation.js';
import { scalingChart } from '../charts/scaling-chart.js';

/** The panel, filled once the fit arrives; the caller places it in the page. */
export function scalingPanel(ctx: ViewContext, studyId: string): HTMLElement {
  const panel = h(
    'section',
    { class: 'panel scaling-panel', 'data-testid': 'scaling-law' },
    h('h2', null, 'Scaling law'),
    h('p', { class: 'muted' }, 'Fitting…'),
  );
  void api.scalingLaw(studyId).then(
    (law) => {
      if (ctx.signal.aborted) return;
      fill(ctx, panel, law);
    },
    (error: unknown) => {
      if (ctx.signal.aborted) return;
      const text =
        error instanceof ApiError && error.code === 'INSUFFICIENT_RUNS'
          ? `Not fitted yet: ${error.message}`
          : `The fit could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
      panel.dataset['state'] = 'unfitted';
      mount(panel, h('h2', null, 'Scaling law'), h('p', { class: 'muted', 'data-testid': 'scaling-unfitted' }, text));
    },
  );
  return panel;
}

function fill(ctx: ViewContext, panel: HTMLElement, law: ScalingLawJson): void {
  const { fit } = law;
  const chart = scalingChart(law);
  ctx.signal.addEventListener('abort', () => chart.destroy(), { once: true });
  const level = `${Math.round(fit.confidenceLevel * 100)}%`;
  const estimates = h(
    'table',
    { class: 'grid scaling-fit', 'data-testid': 'scaling-fit' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['param', 'estimate', 'std error', `${level} interval`].map((c) => h('th', { class: c === 'param' ? null : 'num' }, c)),
      ),
    ),
    h(
      'tbody',
      null,
      (['a', 'b', 'c'] as const).map((k) =>
        h(
          'tr',
          { 'data-param': k },
          h('td', null, k),
          h('td', { class: 'num', 'data-value': fit[k] }, formatNumber(fit[k])),
          h('td', { class: 'num' }, fit.standardErrors === null ? '—' : formatNumber(fit.standardErrors[k])),
          h(
            'td',
            { class: 'num' },
            fit.confidenceIntervals === null
              ? '—'
              : `${formatNumber(fit.confidenceIntervals[k][0])} … ${formatNumber(fit.confidenceIntervals[k][1])}`,
          ),
        ),
      ),
    ),
  );
  const targets =
    law.targets.length === 0
      ? null
      : h(
          'ul',
          { class: 'scaling-targets', 'data-testid': 'scaling-targets' },
          law.targets.map((t) =>
            h(
              'li',
              { 'data-metric': t.metric, 'data-size': t.size },
              h('strong', null, `${t.metric} ${formatNumber(t.target)}`),
              t.size === null ? `: unreachable — ${t.reason ?? ''}` : `: predicted at ${law.sizeParam} ≈ ${formatNumber(t.size)}`,
            ),
          ),
        );
  panel.dataset['state'] = 'fitted';
  mount(
    panel,
    h('h2', null, 'Scaling law'),
    h(
      'p',
      { class: 'muted' },
      `${law.metric} = a·N^(−b) + c with N = ${law.sizeParam}, least squares over the final ${law.metric} of ${fit.n} completed experiments. `,
      `R² ${formatNumber(fit.rSquared)}, RSS ${formatNumber(fit.rss)}, ${fit.degreesOfFreedom} residual degrees of freedom`,
      fit.confidenceIntervals === null ? ' (intervals need at least 4 experiments).' : '.',
    ),
    fit.exponentAtBound
      ? h('p', { class: 'warning' }, 'b is at the end of the searched range: the data do not determine the exponent.')
      : null,
    chart.element,
    estimates,
    targets,
    law.skipped.length > 0
      ? h(
          'p',
          { class: 'muted', 'data-testid': 'scaling-skipped' },
          'Not fitted: ',
          law.skipped.flatMap((s, i) => [
            i > 0 ? '; ' : '',
            h('a', { href: href(`/experiments/${s.experimentId}`) }, s.name),
            ` (${s.reason})`,
          ]),
        )
      : null,
  );
}

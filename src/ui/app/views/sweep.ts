// The sweep page: its header (search, progress, best), optimization history, trials table, parallel coordinates and importances; live while it runs.

import './sweeps.css';
import {
  TRIAL_STATUSES,
  type PrunerSpec,
  type SamplerSpec,
  type SweepRecord,
  type SweepStatus,
  type TrialStatus,
} from '../../../model/sweep.js';
import { ApiError, api } from '../api.js';
import { formatNumber, formatTime, formatValue, h, mount, statusBadge } from '../dom.js';
import { href, replaceQuery, type ViewContext } from '../navigation.js';
import { sweepHistoryChart } from '../charts/sweep-history-chart.js';
import type { SweepDetail } from '../../ui-api.js';
import { trialsTable, type TrialsTableState } from './sweep-trials.js';
import { importancesSection, parallelSection } from './sweep-sections.js';

/** The page re-reads the sweep this often while it is created or running. */
export const SWEEP_POLL_MS = 2_000;
/** Statuses in which a sweep may still get trials: the page stays live. */
const LIVE_STATUSES: readonly SweepStatus[] = ['created', 'running'];

/** A spec's type and its options: `tpe (seed 7, startupTrials 5)`. */
function describeSpec(spec: SamplerSpec | PrunerSpec): string {
  const options = Object.entries(spec)
    .filter(([k]) => k !== 'type')
    .map(([k, v]) => `${k} ${String(v)}`);
  return options.length === 0 ? spec.type : `${spec.type} (${options.join(', ')})`;
}

function headerView(detail: SweepDetail): HTMLElement[] {
  const { sweep, trials, best } = detail;
  const asked = trials.filter((t) => t.retryOf === null).length;
  const reruns = trials.length - asked;
  const item = (key: string, label: string, value: string | number | null, text: string | HTMLElement | (string | HTMLElement)[]) => [
    h('dt', null, label),
    h('dd', { 'data-field': key, 'data-value': value }, text),
  ];
  return [
    h('h1', { class: 'study-title' }, sweep.name, ' ', statusBadge(sweep.status)),
    h(
      'dl',
      { class: 'kv sweep-header', 'data-testid': 'sweep-header' },
      item('status', 'status', sweep.status, sweep.status),
      item('objective', 'objective', `${sweep.goal} ${sweep.metric}`, `${sweep.goal} ${sweep.metric}`),
      item('sampler', 'sampler', sweep.sampler.type, describeSpec(sweep.sampler)),
      item('pruner', 'pruner', sweep.pruner.type, describeSpec(sweep.pruner)),
      item('trials', 'trials', asked, `${asked} / ${sweep.maxTrials}${reruns > 0 ? ` (and ${reruns} re-runs)` : ''}`),
      item(
        'best',
        'best',
        best?.value ?? null,
        best === null
          ? h('span', { class: 'muted' }, 'no completed trial yet')
          : [
              h('strong', null, `${sweep.metric} = ${formatNumber(best.value)}`),
              ` · trial ${best.trial}`,
              best.experimentId !== null ? [' · ', h('a', { href: href(`/experiments/${best.experimentId}`) }, 'experiment')] : [],
            ].flat(),
      ),
      item(
        'best-params',
        'best params',
        best === null ? null : JSON.stringify(best.params),
        best === null
          ? '—'
          : Object.entries(best.params).map(([k, v]) =>
              h('span', { class: 'baseline-metric', 'data-param': k }, `${k} = ${formatValue(v)}`),
            ),
      ),
      item('created', 'created', sweep.createdAt, formatTime(sweep.createdAt)),
      item('updated', 'updated', sweep.updatedAt, formatTime(sweep.updatedAt)),
    ),
  ];
}

function tableState(ctx: ViewContext): TrialsTableState {
  const status = ctx.query.get('status');
  return {
    sort: ctx.query.get('sort') ?? 'number',
    order: ctx.query.get('order') === 'desc' ? 'desc' : 'asc',
    // A status the address names that trials cannot have shows every trial.
    status: (TRIAL_STATUSES as readonly (string | null)[]).includes(status) ? (status as TrialStatus) : null,
  };
}

export async function renderSweep(ctx: ViewContext, id: string): Promise<void> {
  let detail = await api.sweep(id);
  if (ctx.signal.aborted) return;
  const sweep: SweepRecord = detail.sweep;
  const paramNames = Object.keys(sweep.space);
  const header = h('div', { class: 'sweep-top' });
  const notice = h('p', { class: 'warning', 'data-testid': 'sweep-notice', hidden: true });
  const history = sweepHistoryChart(sweep.metric, detail.history);
  const historyEmpty = h('p', { class: 'muted', 'data-testid': 'history-empty' }, 'No completed trial yet.');
  const table = trialsTable(
    paramNames.map((name) => ({ name, numeric: sweep.space[name]!.type !== 'enum' })),
    tableState(ctx),
    (state) => replaceQuery({ sort: state.sort, order: state.order, status: state.status ?? undefined }),
  );
  const parallel = parallelSection(ctx, paramNames, sweep.metric, sweep.goal);
  const importances = importancesSection();
  const page = h(
    'div',
    { class: 'sweep-page', 'data-testid': 'sweep-page' },
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: href('/sweeps', { project: sweep.project }) }, 'Sweeps'),
      ' / ',
      sweep.project,
      ' · ',
      h('a', { href: href(`/studies/${sweep.id}`), 'data-testid': 'sweep-study' }, 'its study'),
    ),
    header,
    notice,
    h('section', { class: 'panel', 'data-section': 'history' }, h('h2', null, 'Optimization history'), historyEmpty, history.element),
    table.element,
    h('div', { class: 'sweep-results' }, parallel.element, importances.element),
  );
  mount(ctx.root, page);
  ctx.signal.addEventListener('abort', () => history.destroy(), { once: true });

  const render = () => {
    mount(header, headerView(detail));
    const live = LIVE_STATUSES.includes(detail.sweep.status);
    page.dataset['live'] = live ? '1' : '0';
    page.dataset['status'] = detail.sweep.status;
    historyEmpty.hidden = detail.history.length > 0;
    history.element.hidden = detail.history.length === 0;
    history.update(detail.history);
    table.update(detail.trials);
    parallel.update(detail.trials);
    importances.update(detail.importances);
  };
  render();

  // Live: re-read while the sweep may still get trials; a failed read is said and tried again at the next tick.
  let timer: ReturnType<typeof setTimeout> | undefined;
  ctx.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  const schedule = () => {
    if (!ctx.signal.aborted && LIVE_STATUSES.includes(detail.sweep.status)) timer = setTimeout(() => void poll(), SWEEP_POLL_MS);
  };
  const poll = async () => {
    try {
      const next = await api.sweep(id);
      if (ctx.signal.aborted) return;
      detail = next;
      notice.hidden = true;
      render();
    } catch (error) {
      if (ctx.signal.aborted) return;
      notice.hidden = false;
      notice.textContent =
        error instanceof ApiError && error.status === 404
          ? 'This sweep is no longer there.'
          : `Live update failed (${error instanceof Error ? error.message : String(error)}); trying again.`;
      if (error instanceof ApiError && error.status === 404) return;
    }
    schedule();
  };
  schedule();
}

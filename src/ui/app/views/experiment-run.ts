// The experiment page's job detail: progress bar and phase, datasets, and for a launched run its record, attempts and a live log pane.

import { ApiError, api, type RunAnswer } from '../api.js';
import { formatDuration, formatTime, h, mount, statusBadge } from '../dom.js';
import { isFinalRunStatus, type StoredLogLine } from '../../../model/run.js';
import type { ExperimentProgress } from '../../../model/progress.js';
import type { DatasetRecord } from '../../../model/dataset.js';

/** The log pane and the run record poll this often while the run is live. */
const LOG_POLL_MS = 1_000;
/** Lines the pane reads at first (the end of the log) and per poll. */
const LOG_TAIL_LINES = 500;
const LOG_PAGE_LINES = 1_000;
/** Lines the pane keeps; older ones leave the top as new ones arrive. */
const MAX_PANE_LINES = 5_000;

/** A progress bar with its percentage and phase; updated in place. */
export function progressBar(): { element: HTMLElement; update: (progress: ExperimentProgress | null) => void } {
  const fill = h('div', { class: 'progress-fill' });
  const label = h('span', { class: 'progress-label', 'data-testid': 'progress-pct' });
  const phase = h('span', { class: 'progress-phase muted', 'data-testid': 'progress-phase' });
  const bar = h(
    'div',
    { class: 'progress-bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'data-testid': 'progress-bar' },
    fill,
  );
  const element = h('div', { class: 'progress-row', hidden: true }, bar, label, phase);
  return {
    element,
    update(progress) {
      element.hidden = progress === null;
      if (progress === null) return;
      const pct = Math.min(100, Math.max(0, progress.pct));
      fill.style.width = `${pct}%`;
      bar.setAttribute('aria-valuenow', String(pct));
      label.textContent = `${Number(pct.toFixed(1))}%`;
      phase.textContent = progress.phase ?? '';
    },
  };
}

/** The datasets table (hidden while there are none); re-rendered only when they change. */
export function datasetsSection(): { element: HTMLElement; update: (datasets: readonly DatasetRecord[]) => void } {
  const body = h('tbody');
  const element = h(
    'section',
    { class: 'exp-section', 'data-section': 'datasets', hidden: true },
    h('h2', null, 'Datasets'),
    h(
      'table',
      { class: 'grid datasets', 'data-testid': 'datasets' },
      h('thead', null, h('tr', null, ...['role', 'name', 'id', 'rows', 'digest', 'uri'].map((c) => h('th', null, c)))),
      body,
    ),
  );
  let shown = '';
  return {
    element,
    update(datasets) {
      const json = JSON.stringify(datasets);
      if (json === shown) return;
      shown = json;
      element.hidden = datasets.length === 0;
      mount(
        body,
        datasets.map((d) =>
          h(
            'tr',
            { 'data-dataset': `${d.role}/${d.name}` },
            h('td', null, d.role),
            h('td', null, d.name),
            h('td', null, d.id ?? '—'),
            h('td', { class: 'num' }, d.rows === null ? '—' : String(d.rows)),
            h('td', null, d.digest ?? '—'),
            h('td', null, d.uri ?? '—'),
          ),
        ),
      );
    },
  };
}

/**
 * The run section of a launched experiment: command, status, exit and error, attempts, and a log pane that
 * tails the run while it is live (polling the lines after the last position seen). Hidden for a plain experiment.
 */
export function runSection(experimentId: string, signal: AbortSignal): HTMLElement {
  const meta = h('dl', { class: 'kv run-meta', 'data-testid': 'run-meta' });
  const attempts = h('tbody');
  const attemptsTable = h(
    'table',
    { class: 'grid attempts', 'data-testid': 'attempts' },
    h('thead', null, h('tr', null, ...['attempt', 'status', 'exit', 'signal', 'started', 'duration'].map((c) => h('th', null, c)))),
    attempts,
  );
  const dropped = h('div', { class: 'muted log-dropped', 'data-testid': 'log-dropped', hidden: true });
  // Cancel: on the team server, for a live run (its supervisor sees the request through its live publisher).
  const cancel = h(
    'button',
    { type: 'button', class: 'run-cancel', 'data-testid': 'run-cancel', hidden: true },
    'Cancel run',
  ) as HTMLButtonElement;
  const cancelNote = h('span', { class: 'muted run-cancel-note', 'data-testid': 'run-cancel-note' });
  cancel.addEventListener('click', () => {
    cancel.disabled = true;
    api.cancelRun(experimentId).then(
      () => (cancelNote.textContent = 'Cancel requested; the run stops once its supervisor hears of it.'),
      (error: unknown) => {
        cancel.disabled = false;
        cancelNote.textContent = error instanceof Error ? error.message : String(error);
      },
    );
  });
  const pane = h('pre', { class: 'log-pane', 'data-testid': 'log-pane', tabindex: 0 });
  const element = h(
    'section',
    { class: 'exp-section', 'data-section': 'run', hidden: true },
    h('h2', null, 'Run'),
    meta,
    h('div', { class: 'run-actions' }, cancel, cancelNote),
    attemptsTable,
    h('h3', null, 'Output'),
    dropped,
    pane,
  );

  // Whether this is the team server (where a run can be cancelled) or `lablog ui`: the mode main.ts read at
  // start, else (the page was loaded before a login) asked now.
  let serverMode = document.body.dataset['mode'] === 'server';
  if (document.body.dataset['mode'] === undefined) {
    void api
      .overview()
      .then((overview) => {
        document.body.dataset['mode'] = overview.mode;
        serverMode = overview.mode === 'server';
      })
      .catch(() => undefined);
  }

  let position: number | undefined;
  let live = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener('abort', () => clearTimeout(timer));

  const renderRun = ({ run, attempts: list }: RunAnswer) => {
    const row = (name: string, field: string, ...value: (Node | string | null)[]) => [
      h('dt', null, name),
      h('dd', { 'data-field': field }, ...value),
    ];
    const badge = statusBadge(run.status);
    badge.setAttribute('data-testid', 'run-status');
    mount(
      meta,
      row('command', 'command', h('code', null, [run.command, ...run.args].join(' '))),
      row('cwd', 'cwd', h('code', null, run.cwd)),
      row('host', 'host', `${run.hostname} (pid ${run.pid ?? '—'})`),
      row('status', 'run-status', badge),
      run.exitCode !== null ? row('exit code', 'exit-code', String(run.exitCode)) : null,
      run.signal !== null ? row('signal', 'signal', run.signal) : null,
      run.errorMessage !== null
        ? row('error', 'error', h('pre', { class: 'run-error', 'data-testid': 'run-error' }, run.errorMessage))
        : null,
      row('created', 'created', formatTime(run.timeCreated)),
      run.timeCompleted !== null ? row('completed', 'completed', formatTime(run.timeCompleted)) : null,
    );
    attemptsTable.hidden = list.length === 0;
    const cancellable = !isFinalRunStatus(run.status) && run.status !== 'cancelling' && run.cancelRequestedAt === null;
    cancel.hidden = !(cancellable && serverMode);
    mount(
      attempts,
      list.map((a) =>
        h(
          'tr',
          { 'data-attempt': a.attempt },
          h('td', { class: 'num' }, String(a.attempt)),
          h('td', null, statusBadge(a.status)),
          h('td', { class: 'num' }, a.exitCode === null ? '—' : String(a.exitCode)),
          h('td', null, a.signal ?? '—'),
          h('td', null, formatTime(a.timeStarted)),
          h('td', { class: 'num' }, formatDuration((a.timeCompleted ?? Date.now()) - a.timeStarted)),
        ),
      ),
    );
  };

  // Log lines are untrusted text: appended as text nodes, never as HTML.
  const append = (lines: readonly StoredLogLine[]) => {
    if (lines.length === 0) return;
    const follow = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 4;
    for (const line of lines) {
      pane.append(
        h(
          'span',
          { class: `log-line log-${line.stream}`, 'data-position': line.position },
          line.text,
          line.cutBytes > 0 ? ` … (${line.cutBytes} bytes cut)` : '',
          '\n',
        ),
      );
    }
    while (pane.childElementCount > MAX_PANE_LINES) pane.firstElementChild!.remove();
    if (follow) pane.scrollTop = pane.scrollHeight;
  };

  const tick = async () => {
    try {
      const answer = await api.run(experimentId);
      if (signal.aborted) return;
      element.hidden = false;
      renderRun(answer);
      const page = await api.runLogs(
        experimentId,
        position === undefined ? { tail: LOG_TAIL_LINES } : { after: position, limit: LOG_PAGE_LINES },
      );
      if (signal.aborted) return;
      append(page.lines);
      position = page.position;
      dropped.hidden = page.linesDropped === 0;
      dropped.textContent = `${page.linesDropped} older lines (${page.bytesDropped} bytes) were dropped by the run's log cap`;
      // One more read after the run ends picks up its last lines; a full page means more are waiting.
      live = !isFinalRunStatus(answer.run.status) || page.lines.length >= LOG_PAGE_LINES;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'RUN_NOT_FOUND') return; // not a run: nothing to show
    }
    if (!signal.aborted && live) timer = setTimeout(() => void tick(), LOG_POLL_MS);
  };
  void tick();
  return element;
}

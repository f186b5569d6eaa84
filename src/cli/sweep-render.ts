// Sweep rendering: the text of `lablog sweep show|ls` and `lablog trials`, from a sweep's view — a local sweep's or a team server's, the same records.

import type { Sweep } from '../core/sweep.js';
import type { RemoteSweepDetail } from '../core/remote-sweep.js';
import type { ParamImportance } from '../core/param-importance.js';
import type { BestTrial, HistoryPoint } from '../core/sweep-results.js';
import { TRIAL_STATUSES, type SweepRecord, type TrialRecord } from '../model/sweep.js';
import { formatDuration } from './format.js';
import { renderTable, type Align } from './text-table.js';

/** The longest trial error shown in a table cell (the rest is cut off with an ellipsis). */
export const MAX_TRIAL_ERROR_SHOWN = 60;

/** A trial as the tables show it (a server's trials come without their intermediate values). */
export type TrialView = Omit<TrialRecord, 'reports'>;

/** What the renderers read of a sweep: its record, trials and results. */
export interface SweepView {
  readonly record: SweepRecord;
  readonly trials: readonly TrialView[];
  readonly best: BestTrial | null;
  readonly history: readonly HistoryPoint[];
  readonly importances: readonly ParamImportance[];
}

/** The view of a sweep of this store. */
export function localSweepView(sweep: Sweep): SweepView {
  return { record: sweep.record(), trials: sweep.trials(), best: sweep.best(), history: sweep.history(), importances: sweep.importances() };
}

/** The view of a team server's sweep, from one GET /api/v1/sweeps/:id. */
export function remoteSweepView(detail: RemoteSweepDetail): SweepView {
  const { sweep, ...rest } = detail;
  return { record: sweep, ...rest };
}

export const fmtValue = (v: number | null) => (v === null ? '-' : String(Number(v.toPrecision(6))));

function trialDuration(t: TrialView, now: number): string {
  if (t.startedAt === null) return '-';
  return formatDuration((t.completedAt ?? now) - t.startedAt);
}

function errorCell(error: string | null): string {
  if (error === null) return '';
  return error.length > MAX_TRIAL_ERROR_SHOWN ? `${error.slice(0, MAX_TRIAL_ERROR_SHOWN - 3)}…` : error;
}

/** A table of trials: number, status, value, each param, duration, what it re-runs, its error. */
export function renderTrials(sweep: Pick<SweepRecord, 'name' | 'space'>, trials: readonly TrialView[]): string {
  if (trials.length === 0) return `No trials in sweep '${sweep.name}'.`;
  const names = Object.keys(sweep.space);
  const now = Date.now();
  const rows = trials.map((t) => [
    String(t.number),
    t.status,
    fmtValue(t.value),
    ...names.map((n) => {
      const v = t.params[n];
      return typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v);
    }),
    trialDuration(t, now),
    t.retryOf === null ? '-' : String(t.retryOf),
    errorCell(t.error),
  ]);
  const align: Align[] = ['right', 'left', 'right', ...names.map((): Align => 'right'), 'right', 'right', 'left'];
  return renderTable(['TRIAL', 'STATUS', 'VALUE', ...names.map((n) => n.toUpperCase()), 'DURATION', 'RERUN OF', 'ERROR'], rows, align);
}

/** `lablog sweep show`: what the sweep searches, how far it got, its best trial, history and trials. */
export function renderSweep(view: SweepView): string {
  const { record: r, trials } = view;
  const counts = TRIAL_STATUSES.map((s) => [s, trials.filter((t) => t.status === s).length] as const).filter(([, n]) => n > 0);
  const lines = [
    `Sweep ${r.name} (${r.id}), project ${r.project}: ${r.status}`,
    `  objective: ${r.goal} ${r.metric}`,
    `  sampler:   ${JSON.stringify({ ...r.sampler, seed: r.seed })}`,
    `  pruner:    ${JSON.stringify(r.pruner)}`,
    `  space:     ${Object.entries(r.space)
      .map(([n, s]) => `${n} ${JSON.stringify(s)}`)
      .join(', ')}`,
    `  trials:    ${trials.filter((t) => t.retryOf === null).length} of ${r.maxTrials}${counts.length > 0 ? ` (${counts.map(([s, n]) => `${n} ${s}`).join(', ')})` : ''}`,
  ];
  const { best, history, importances } = view;
  if (best !== null) {
    lines.push('', `Best: trial ${best.trial}, ${r.metric} = ${fmtValue(best.value)}`, `  params: ${JSON.stringify(best.params)}`);
  }
  if (history.length > 0) {
    // The trials that improved on every earlier one.
    const improvements = history.filter((h, i) => i === 0 || h.best !== history[i - 1]!.best);
    lines.push('', `History (best so far): ${improvements.map((h) => `#${h.trial} ${fmtValue(h.best)}`).join(' → ')}`);
  }
  if (importances.length > 0) {
    lines.push(
      '',
      `Importances (η² by param, normalised): ${importances.map((i) => `${i.param} ${(i.importance * 100).toFixed(0)}%`).join(', ')}`,
    );
  }
  lines.push('', renderTrials(r, trials));
  return lines.join('\n');
}

/** `lablog sweep ls`: one row per sweep, newest first; `where` names the store or server when there are none. */
export function renderSweepList(views: readonly SweepView[], where: string): string {
  if (views.length === 0) return `No sweeps in ${where}.`;
  const rows = views.map(({ record: r, trials, best }) => [
    r.id,
    r.project,
    r.name,
    r.status,
    `${r.goal} ${r.metric}`,
    String(trials.length),
    best === null ? '-' : fmtValue(best.value),
  ]);
  return renderTable(['ID', 'PROJECT', 'NAME', 'STATUS', 'OBJECTIVE', 'TRIALS', 'BEST'], rows, [
    'left',
    'left',
    'left',
    'left',
    'left',
    'right',
    'right',
  ]);
}

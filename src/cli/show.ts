// `lablog show`: prints one experiment: params and, per series, count, last and best value.

import { metricGoal as goalOf, type Goal } from '../model/metric-goal.js';
import type { Experiment } from '../core/experiment.js';
import { renderTable } from './text-table.js';
import { formatDuration, formatNumber, formatParam, formatProgress, formatTime } from './format.js';
import { renderLaunch } from './show-run.js';
import type { RunAttempt, RunRecord } from '../model/run.js';

/** 'min' or 'max' for a metric: the goal stated in `goals`, else the one its name suggests. */
export function metricGoal(name: string, goals?: Readonly<Record<string, Goal>>): 'min' | 'max' {
  return goalOf(name, goals) === 'minimize' ? 'min' : 'max';
}

/** The experiment as text; `goals` states a metric's goal where its name does not tell (`--goal name:min`); `run`: its launch record. */
export function renderExperiment(
  exp: Experiment,
  goals?: Readonly<Record<string, Goal>>,
  run?: { record: RunRecord; attempts: readonly RunAttempt[] },
): string {
  const out: string[] = [];
  const end = exp.endedAt?.getTime() ?? (exp.status === 'running' ? Date.now() : null);
  out.push(`experiment  ${exp.name}`);
  out.push(`id          ${exp.id}`);
  out.push(`project     ${exp.project}`);
  out.push(`status      ${exp.status}`);
  out.push(`started     ${formatTime(exp.createdAt)}${end === null ? '' : `  (${formatDuration(end - exp.createdAt.getTime())})`}`);
  if (exp.tags.length > 0) out.push(`tags        ${exp.tags.join(', ')}`);
  if (exp.description) out.push(`description ${exp.description}`);
  const progress = exp.progress;
  if (progress) out.push(`progress    ${formatProgress(progress.pct)}${progress.phase === null ? '' : `  ${progress.phase}`}`);
  if (run) out.push(...renderLaunch(run.record, run.attempts, Date.now()));

  const datasets = exp.datasets();
  if (datasets.length > 0) {
    out.push('', `datasets (${datasets.length})`);
    const rows = datasets.map((d) => [d.role, d.name, d.id ?? '-', d.rows === null ? '-' : String(d.rows), d.digest ?? '-', d.uri ?? '-']);
    out.push(indent(renderTable(['ROLE', 'NAME', 'ID', 'ROWS', 'DIGEST', 'URI'], rows, ['left', 'left', 'left', 'right', 'left', 'left'])));
  }

  const params = Object.entries(exp.getParams());
  out.push('', `params (${params.length})`);
  if (params.length > 0) {
    out.push(
      indent(
        renderTable(
          ['NAME', 'VALUE'],
          params.map(([k, v]) => [k, formatParam(v)]),
        ),
      ),
    );
  }

  const series = exp.listSeries();
  const metrics = series.filter((s) => s.kind === 'metric');
  out.push('', `metrics (${metrics.length})`);
  if (metrics.length > 0) {
    const rows = metrics.map((s) => {
      const goal = metricGoal(s.name, goals);
      const best = goal === 'min' ? s.minValue : s.maxValue;
      return [
        s.name,
        String(s.count),
        s.lastStep === null ? '-' : String(s.lastStep),
        formatNumber(s.lastValue),
        `${formatNumber(best)} (${goal})`,
      ];
    });
    out.push(indent(renderTable(['NAME', 'COUNT', 'LAST STEP', 'LAST', 'BEST'], rows, ['left', 'right', 'right', 'right', 'right'])));
  }
  for (const kind of ['image', 'plot'] as const) {
    const media = series.filter((s) => s.kind === kind);
    if (media.length === 0) continue;
    out.push('', `${kind}s (${media.length})`);
    out.push(
      indent(
        renderTable(
          ['NAME', 'COUNT', 'STEPS'],
          media.map((s) => [s.name, String(s.count), s.count === 0 ? '-' : `${s.firstStep}…${s.lastStep}`]),
          ['left', 'right', 'left'],
        ),
      ),
    );
  }
  const tables = exp.listTables();
  if (tables.length > 0) {
    out.push('', `tables (${tables.length})`);
    out.push(
      indent(
        renderTable(
          ['NAME', 'ROWS', 'COLUMNS'],
          tables.map((t) => [t.name, String(t.rows), String(t.columns)]),
          ['left', 'right', 'right'],
        ),
      ),
    );
  }
  return out.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

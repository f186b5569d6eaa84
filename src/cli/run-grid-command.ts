// `lablog run --grid k=a,b … --parallel N`: launches every combination as a run of a new study and prints a summary table at the end.

import { openStore } from '../open-store.js';
import { LablogError } from '../model/errors.js';
import { defaultMetricGoal, isBetter, parseMetricGoal, type Goal } from '../model/metric-goal.js';
import type { GridEntry } from '../core/run-grid.js';
import type { Store } from '../core/store.js';
import type { LaunchParam } from '../core/run-options.js';
import { formatDuration } from './format.js';
import { renderTable, type Align } from './text-table.js';
import { EXIT_CANCELLED, exitCodeOf, parseParam, type RunCommandOptions } from './runs-command.js';
import { parseDuration } from './duration.js';

export interface GridCommandOptions extends RunCommandOptions {
  grid: string[];
  parallel?: string;
  metric?: string;
  goal?: string;
  study?: string;
}

/** `k=a,b,c` as a param and its values, each typed as --param types it. */
export function parseGridOption(text: string): [string, LaunchParam[]] {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new LablogError('INVALID_OPTION', `--grid: expected key=value1,value2,…, got '${text}'`, { option: 'grid', actual: text });
  }
  const key = text.slice(0, eq);
  const values = text
    .slice(eq + 1)
    .split(',')
    .map((raw) => parseParam(`${key}=${raw}`)[1]);
  return [key, values];
}

function metricValue(store: Store, entry: GridEntry, metric: string): number | null {
  if (entry.run === null) return null;
  const series = store
    .getExperiment(entry.run.id)
    .listSeries()
    .find((s) => s.kind === 'metric' && s.name === metric);
  return series?.lastValue ?? null;
}

/** The summary of a grid: one row per combination, its params, how its run ended, and the metric (best marked *). */
export function renderGridSummary(
  store: Store,
  entries: readonly GridEntry[],
  keys: readonly string[],
  metric?: string,
  goal?: Goal,
): string {
  const values = entries.map((e) => (metric === undefined ? null : metricValue(store, e, metric)));
  let best: number | null = null;
  for (const v of values) if (v !== null && Number.isFinite(v) && (best === null || isBetter(goal ?? 'minimize', v, best))) best = v;
  const rows = entries.map((e, i) => {
    const r = e.run;
    const duration = r?.timeStarted != null && r.timeCompleted !== null ? formatDuration(r.timeCompleted - r.timeStarted) : '-';
    const cells = [
      String(i + 1),
      r?.name ?? '-',
      ...keys.map((k) => String(e.params[k])),
      r?.status ?? 'not launched',
      duration,
      r === null ? '-' : r.exitCode !== null ? String(r.exitCode) : (r.signal ?? '-'),
    ];
    if (metric !== undefined) {
      const v = values[i];
      cells.push(v === null || v === undefined ? '-' : `${String(v)}${v === best ? ' *' : ''}`);
    }
    return cells;
  });
  const header = [
    '#',
    'NAME',
    ...keys.map((k) => k.toUpperCase()),
    'STATUS',
    'DURATION',
    'EXIT',
    ...(metric !== undefined ? [metric] : []),
  ];
  const align: Align[] = ['right', 'left', ...keys.map((): Align => 'right'), 'left', 'right', 'right', 'right'];
  return renderTable(header, rows, align);
}

/** Launches the grid; resolves with the exit code to end with (0 when every run completed). */
export async function runGrid(command: string, args: string[], opts: GridCommandOptions): Promise<number> {
  const grid = Object.fromEntries(opts.grid.map(parseGridOption));
  const params = Object.fromEntries((opts.param ?? []).map(parseParam));
  const goal = opts.goal === undefined ? undefined : parseMetricGoal(opts.goal);
  if (opts.goal !== undefined && goal === undefined) {
    throw new LablogError('INVALID_OPTION', `--goal must be min or max, got '${opts.goal}'`, { option: 'goal', actual: opts.goal });
  }
  const parallel = opts.parallel === undefined ? undefined : Number(opts.parallel);
  const retries = opts.retries === undefined ? undefined : Number(opts.retries);
  const store = openStore(opts.store === undefined ? undefined : { path: opts.store });
  try {
    const launch = store.launchGrid({
      command,
      args,
      grid,
      params,
      ...(parallel !== undefined ? { parallel } : {}),
      ...(opts.project !== undefined ? { project: opts.project } : {}),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.study !== undefined ? { study: opts.study } : {}),
      ...(opts.metric !== undefined ? { metric: opts.metric } : {}),
      ...(goal !== undefined ? { objective: goal } : {}),
      ...(opts.timeout !== undefined ? { timeout: parseDuration('timeout', opts.timeout) } : {}),
      ...(opts.grace !== undefined ? { grace: parseDuration('grace', opts.grace) } : {}),
      ...(retries !== undefined ? { retries } : {}),
      // One run's output is echoed as it comes; several at once would interleave, so then only their ends are.
      echo: (parallel ?? 1) === 1,
    });
    const combinations = Object.values(grid).reduce((n, values) => n * values.length, 1);
    process.stderr.write(
      `lablog: study ${launch.study.id} (${launch.study.project}/${launch.study.name}): ${combinations} runs, ${launch.parallel} at a time\n`,
    );
    let interrupts = 0;
    const onInterrupt = () => {
      interrupts++;
      if (interrupts > 1) process.exit(EXIT_CANCELLED);
      process.stderr.write('\nlablog: cancelling the grid (Ctrl-C again to stop waiting)\n');
      launch.cancel();
    };
    process.on('SIGINT', onInterrupt);
    const reported = new Set<string>();
    const report = setInterval(() => {
      for (const run of launch.runs()) {
        const record = run.record();
        const key = `${run.id}:${record.status}`;
        if (reported.has(key) || (record.status !== 'running' && record.timeCompleted === null)) continue;
        reported.add(key);
        process.stderr.write(
          `lablog: run ${record.name} ${record.status}${record.exitCode !== null ? ` (exit ${record.exitCode})` : ''}\n`,
        );
      }
    }, 500);
    let entries: GridEntry[];
    try {
      entries = await launch.wait();
    } finally {
      clearInterval(report);
      process.off('SIGINT', onInterrupt);
    }
    process.stdout.write(
      `${renderGridSummary(store, entries, Object.keys(grid), opts.metric, goal ?? (opts.metric ? defaultMetricGoal(opts.metric) : undefined))}\n`,
    );
    const failed = entries.find((e) => e.run === null || e.run.status !== 'completed');
    return failed === undefined ? 0 : failed.run === null ? EXIT_CANCELLED : exitCodeOf(failed.run);
  } finally {
    await store.close();
  }
}

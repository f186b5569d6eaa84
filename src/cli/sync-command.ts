// `lablog sync`: publishes a local store to a remote server, with a progress bar and a summary; --watch follows live runs.

import { SingleBar, Presets } from 'cli-progress';
import { resolveRemote, type PublishReport } from '../core/publishing.js';
import { LablogError } from '../model/errors.js';
import { publishStore } from '../sync/publish-store.js';

/** With --watch, how long to wait between rounds. */
export const WATCH_INTERVAL_MS = 2_000;

export interface SyncCommandOptions {
  remote?: string;
  apiKey?: string;
  store: string;
  watch?: boolean;
  version?: string;
  experiment?: string[];
  progress?: boolean;
}

export function renderReport(report: PublishReport): string {
  const lines = [
    `Published ${report.experiments} experiment(s) to ${report.remote}: ${report.accepted} point(s) stored, ${report.skipped} already there.`,
  ];
  if (report.problems.length > 0) {
    lines.push(`${report.problems.length} problem(s); everything else was published:`);
    for (const p of report.problems) {
      const item = p.item ? ` ${p.item.kind} '${p.item.name}'` : '';
      lines.push(`  ${p.experiment}${item}: ${p.code}: ${p.message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** One sync round; returns the report. */
async function round(opts: SyncCommandOptions, experimentIds: string[] | undefined, showProgress: boolean): Promise<PublishReport> {
  const remote = resolveRemote('lablog sync', opts.remote, opts.apiKey);
  if (remote === undefined)
    throw new LablogError('INVALID_OPTION', 'lablog sync: pass --remote URL (or set LABLOG_REMOTE)', { option: 'remote' });
  const bar = showProgress
    ? new SingleBar(
        { format: 'sync [{bar}] {percentage}% | {value}/{total} points | {experiment}', stream: process.stderr },
        Presets.shades_classic,
      )
    : undefined;
  try {
    return await publishStore({
      storePath: opts.store,
      remote,
      ...(experimentIds ? { experimentIds } : {}),
      ...(opts.version !== undefined ? { version: opts.version } : {}),
      onStart: ({ points }) => bar?.start(Math.max(points, 1), 0, { experiment: '' }),
      onPoints: (points) => bar?.increment(points),
      onExperiment: (name) => bar?.update({ experiment: name }),
    });
  } finally {
    bar?.stop();
  }
}

export async function runSync(
  opts: SyncCommandOptions,
  experimentIds: string[] | undefined,
  write: (text: string) => void,
): Promise<number> {
  const showProgress = opts.progress !== false && process.stderr.isTTY === true;
  if (!opts.watch) {
    const report = await round(opts, experimentIds, showProgress);
    write(renderReport(report));
    return report.problems.length > 0 ? 1 : 0;
  }
  let stopping = false;
  const stop = () => (stopping = true);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  write(`Watching ${opts.store}; Ctrl-C to stop.\n`);
  while (!stopping) {
    const report = await round(opts, experimentIds, false);
    if (report.accepted > 0 || report.problems.length > 0) write(renderReport(report));
    await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
  }
  return 0;
}

// `lablog show` of a launched run: the launch record (command, cwd, host, pid, status, exit) and its attempts.

import { LablogError } from '../model/errors.js';
import type { RunAttempt, RunRecord } from '../model/run.js';
import type { Store } from '../core/store.js';
import { renderTable } from './text-table.js';
import { formatDuration, formatTime } from './format.js';

/** A command line as one would type it: arguments with spaces or quotes shown as JSON strings. */
function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : JSON.stringify(part))).join(' ');
}

const time = (ms: number | null) => (ms === null ? '-' : formatTime(new Date(ms)));

/** The launch record and attempts of experiment `id` when lablog launched it; undefined for a plain experiment. */
export function launchOf(store: Store, id: string): { record: RunRecord; attempts: RunAttempt[] } | undefined {
  try {
    const run = store.getRun(id);
    return { record: run.record(), attempts: run.attempts() };
  } catch (error) {
    if (error instanceof LablogError && error.code === 'RUN_NOT_FOUND') return undefined;
    throw error;
  }
}

/** The lines `lablog show` adds for a run. */
export function renderLaunch(run: RunRecord, attempts: readonly RunAttempt[], now: number): string[] {
  const out: string[] = ['', 'run'];
  const field = (name: string, value: string) => out.push(`  ${name.padEnd(11)} ${value}`);
  field('command', commandLine(run.command, run.args));
  field('cwd', run.cwd);
  field('host', `${run.hostname}  (supervisor pid ${run.supervisorPid}${run.pid === null ? '' : `, child pid ${run.pid}`})`);
  field('status', `${run.status}${run.attempt > 1 ? `  (attempt ${run.attempt} of ${run.retries + 1})` : ''}`);
  if (run.exitCode !== null) field('exit code', String(run.exitCode));
  if (run.signal !== null) field('signal', run.signal);
  if (run.errorMessage !== null) field('error', run.errorMessage.split('\n').join('\n              '));
  field('created', time(run.timeCreated));
  field('started', time(run.timeStarted));
  field('completed', time(run.timeCompleted));
  field('timeout', formatDuration(run.timeoutMs));
  field('logs', `${run.logBytes} bytes kept, ${run.logLinesDropped} lines (${run.logBytesDropped} bytes) dropped by the cap`);
  if (attempts.length > 0) {
    out.push('', `attempts (${attempts.length})`);
    const rows = attempts.map((a) => [
      String(a.attempt),
      a.status,
      a.exitCode === null ? '-' : String(a.exitCode),
      a.signal ?? '-',
      time(a.timeStarted),
      formatDuration((a.timeCompleted ?? now) - a.timeStarted),
    ]);
    const table = renderTable(['ATTEMPT', 'STATUS', 'EXIT', 'SIGNAL', 'STARTED', 'DURATION'], rows, [
      'right',
      'left',
      'right',
      'left',
      'left',
      'right',
    ]);
    out.push(...table.split('\n').map((line) => `  ${line}`));
  }
  return out;
}

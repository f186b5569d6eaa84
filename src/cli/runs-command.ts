// `lablog run`, `runs`, `logs` and `cancel`: launch a command as a run, list runs, read or follow their logs, cancel one.

import { constants } from 'node:os';
import { openStore } from '../open-store.js';
import { LablogError } from '../model/errors.js';
import type { Store } from '../core/store.js';
import type { LaunchParam } from '../core/run-options.js';
import type { Run } from '../core/run.js';
import { isFinalRunStatus, type LogStream, type RunRecord } from '../model/run.js';
import { parseDuration } from './duration.js';
import { formatDuration } from './format.js';
import { renderTable } from './text-table.js';

/** `lablog logs --follow` reads new lines this often. */
export const FOLLOW_POLL_MS = 250;
/** Exit codes of `lablog run` when the run has no exit code of its own (as timeout(1) and shells use them). */
export const EXIT_COMMAND_NOT_STARTED = 127;
export const EXIT_TIMED_OUT = 124;
export const EXIT_CANCELLED = 130;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

type Write = (text: string) => void;

/** `k=v` as a typed param: true/false a boolean, a decimal number a number, anything else a string. */
export function parseParam(text: string): [string, LaunchParam] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new LablogError('INVALID_OPTION', `--param: expected key=value, got '${text}'`, { option: 'param', actual: text });
  const key = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  if (raw === 'true' || raw === 'false') return [key, raw === 'true'];
  if (NUMBER.test(raw)) return [key, Number(raw)];
  return [key, raw];
}

/** The exit code `lablog run` ends with: the run's own, else one that says how it ended. */
export function exitCodeOf(record: RunRecord): number {
  if (record.status === 'completed') return 0;
  if (record.status === 'timed_out') return EXIT_TIMED_OUT;
  if (record.status === 'cancelled') return EXIT_CANCELLED;
  if (record.exitCode !== null) return record.exitCode;
  if (record.signal !== null) return 128 + (constants.signals[record.signal as NodeJS.Signals] ?? 0);
  return record.pid === null ? EXIT_COMMAND_NOT_STARTED : 1;
}

function describeEnd(record: RunRecord): string {
  const took =
    record.timeStarted !== null && record.timeCompleted !== null
      ? ` after ${formatDuration(record.timeCompleted - record.timeStarted)}`
      : '';
  const exit = record.exitCode !== null ? `, exit code ${record.exitCode}` : record.signal !== null ? `, ${record.signal}` : '';
  const attempts = record.attempt > 1 ? `, attempt ${record.attempt}` : '';
  return `${record.status}${took}${exit}${attempts}`;
}

export interface RunCommandOptions {
  project?: string;
  name?: string;
  param?: string[];
  timeout?: string;
  retries?: string;
  grace?: string;
  store?: string;
}

/** Launches `command args…` as a run, streaming its output; resolves with the exit code to end with. */
export async function runRun(command: string, args: string[], opts: RunCommandOptions): Promise<number> {
  const params = Object.fromEntries((opts.param ?? []).map(parseParam));
  const retries = opts.retries === undefined ? undefined : Number(opts.retries);
  const store = openStore(opts.store === undefined ? undefined : { path: opts.store });
  let run: Run | undefined;
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts > 1 || run === undefined) process.exit(EXIT_CANCELLED);
    process.stderr.write(`\nlablog: cancelling run ${run.id} (Ctrl-C again to stop waiting)\n`);
    try {
      run.cancel();
    } catch {
      // It ended meanwhile.
    }
  };
  process.on('SIGINT', onInterrupt);
  try {
    run = store.launch({
      command,
      args,
      ...(opts.project !== undefined ? { project: opts.project } : {}),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      params,
      ...(opts.timeout !== undefined ? { timeout: parseDuration('timeout', opts.timeout) } : {}),
      ...(opts.grace !== undefined ? { grace: parseDuration('grace', opts.grace) } : {}),
      ...(retries !== undefined ? { retries } : {}),
      echo: true,
    });
    const started = run.record();
    process.stderr.write(`lablog: run ${run.id} (${started.project}/${started.name})\n`);
    const record = await run.wait();
    process.stderr.write(`lablog: run ${run.id} ${describeEnd(record)}\n`);
    if (record.status === 'failed' && record.pid === null && record.errorMessage !== null)
      process.stderr.write(`lablog: ${record.errorMessage}\n`);
    return exitCodeOf(record);
  } finally {
    process.off('SIGINT', onInterrupt);
    await store.close();
  }
}

/** `lablog runs`: one row per run, newest first. */
export function renderRunList(store: Store, project: string | undefined): string {
  const runs = store.listRuns(project === undefined ? undefined : { project });
  if (runs.length === 0) return `No runs${project ? ` in project '${project}'` : ''} in ${store.path}.`;
  const now = Date.now();
  const rows = runs.map((r) => {
    const end = r.timeCompleted ?? (isFinalRunStatus(r.status) ? null : now);
    return [
      r.id,
      r.project,
      r.name,
      r.status,
      String(r.attempt),
      r.timeStarted === null || end === null ? '-' : formatDuration(end - r.timeStarted),
      r.exitCode !== null ? String(r.exitCode) : (r.signal ?? '-'),
    ];
  });
  const table = renderTable(['ID', 'PROJECT', 'NAME', 'STATUS', 'ATTEMPT', 'DURATION', 'EXIT'], rows, [
    'left',
    'left',
    'left',
    'left',
    'right',
    'right',
    'right',
  ]);
  return `${table}\n\n${runs.length} run${runs.length === 1 ? '' : 's'} in ${store.path}`;
}

export interface LogsCommandOptions {
  follow?: boolean;
  stream?: LogStream;
  tail?: string;
  project?: string;
  store?: string;
}

/** `lablog logs`: prints a run's captured lines; with --follow, keeps printing until the run ends. */
export async function runLogs(idOrName: string, opts: LogsCommandOptions, write: Write): Promise<void> {
  const store = openStore(opts.store === undefined ? undefined : { path: opts.store });
  try {
    const run = store.getRun(idOrName, opts.project === undefined ? undefined : { project: opts.project });
    const stream = opts.stream === undefined ? {} : { stream: opts.stream };
    const tail = opts.tail === undefined ? undefined : Number(opts.tail);
    let page = run.logs({ ...stream, ...(tail !== undefined ? { tail } : {}) });
    if (page.linesDropped > 0) {
      process.stderr.write(`lablog: ${page.linesDropped} earlier lines (${page.bytesDropped} bytes) were dropped by the run's log cap\n`);
    }
    for (;;) {
      if (page.lines.length > 0) write(`${page.lines.map((l) => l.text).join('\n')}\n`);
      if (page.lines.length > 0 && tail === undefined) {
        page = run.logs({ ...stream, after: page.position });
        continue;
      }
      if (!opts.follow) return;
      // Read the status before the lines: lines written before the run ended are all read after it.
      const ended = isFinalRunStatus(run.status);
      const next = run.logs({ ...stream, after: page.position });
      if (next.lines.length === 0 && ended) return;
      if (next.lines.length === 0) await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      page = next;
    }
  } finally {
    await store.close();
  }
}

/** `lablog cancel`: asks the run's supervisor to stop it. */
export async function runCancel(idOrName: string, opts: { project?: string; store?: string }, write: Write): Promise<void> {
  const store = openStore(opts.store === undefined ? undefined : { path: opts.store });
  try {
    const run = store.getRun(idOrName, opts.project === undefined ? undefined : { project: opts.project });
    run.cancel();
    write(`Cancel requested for run ${run.id}; its supervisor stops it within a second.\n`);
  } finally {
    await store.close();
  }
}

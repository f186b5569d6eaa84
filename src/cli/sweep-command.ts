// `lablog sweep create|run|show|ls`, `lablog trials` and `lablog trial stop|restart`: hyperparameter sweeps from the shell.

import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { LablogError } from '../model/errors.js';
import { openStore } from '../open-store.js';
import type { Store } from '../core/store.js';
import type { Sweep } from '../core/sweep.js';
import type { CreateSweepOptions } from '../core/sweep-options.js';
import { TRIAL_STATUSES, type TrialRecord, type TrialStatus } from '../model/sweep.js';
import { formatDuration } from './format.js';
import { renderTable, type Align } from './text-table.js';
import { parseDuration } from './duration.js';

type Write = (text: string) => void;
type WithStore = <T>(path: string | undefined, fn: (store: Store) => T) => Promise<T>;

function invalid(option: string, message: string): LablogError {
  return new LablogError('INVALID_OPTION', message, { option });
}

function positiveInteger(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw invalid(option, `--${option} must be a positive integer, got '${text}'`);
  return n;
}

export interface SweepCreateFlags {
  config?: string;
  name?: string;
  project?: string;
  metric?: string;
  goal?: string;
  space?: string;
  sampler?: string;
  seed?: string;
  pruner?: string;
  maxTrials?: string;
  parallel?: string;
}

function parseJson(option: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalid(option, `--${option}: not valid JSON (${(error as Error).message})`);
  }
}

/** The sweep options of `lablog sweep create`: the --config file's, then the flags over them. */
export function sweepOptionsFrom(flags: SweepCreateFlags): CreateSweepOptions {
  let base: Record<string, unknown> = {};
  if (flags.config !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.config, 'utf8');
    } catch (error) {
      throw invalid(
        'config',
        `--config: cannot read ${flags.config} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    const parsed = parseJson('config', text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw invalid('config', `--config: ${flags.config} must hold a JSON object`);
    base = parsed as Record<string, unknown>;
  }
  const options: Record<string, unknown> = { ...base };
  if (flags.name !== undefined) options['name'] = flags.name;
  if (flags.project !== undefined) options['project'] = flags.project;
  if (flags.metric !== undefined) options['metric'] = flags.metric;
  if (flags.goal !== undefined) options['goal'] = flags.goal;
  if (flags.space !== undefined) options['space'] = parseJson('space', flags.space);
  if (flags.sampler !== undefined || flags.seed !== undefined) {
    const sampler = { ...((base['sampler'] as Record<string, unknown> | undefined) ?? { type: 'tpe' }) };
    if (flags.sampler !== undefined) sampler['type'] = flags.sampler;
    if (flags.seed !== undefined) sampler['seed'] = Number(flags.seed);
    options['sampler'] = sampler;
  }
  if (flags.pruner !== undefined) options['pruner'] = { type: flags.pruner };
  const maxTrials = positiveInteger('max-trials', flags.maxTrials);
  if (maxTrials !== undefined) options['maxTrials'] = maxTrials;
  const parallel = positiveInteger('parallel', flags.parallel);
  if (parallel !== undefined) options['parallel'] = parallel;
  return options as unknown as CreateSweepOptions;
}

const fmtValue = (v: number | null) => (v === null ? '-' : String(Number(v.toPrecision(6))));

function trialDuration(t: TrialRecord, now: number): string {
  if (t.startedAt === null) return '-';
  return formatDuration((t.completedAt ?? now) - t.startedAt);
}

/** A table of trials: number, status, value, each param, duration, what it re-runs, its error. */
export function renderTrials(sweep: Sweep, trials: readonly TrialRecord[]): string {
  if (trials.length === 0) return `No trials in sweep '${sweep.name}'.`;
  const names = Object.keys(sweep.record().space);
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
    t.error === null ? '' : t.error.length > 60 ? `${t.error.slice(0, 57)}…` : t.error,
  ]);
  const align: Align[] = ['right', 'left', 'right', ...names.map((): Align => 'right'), 'right', 'right', 'left'];
  return renderTable(['TRIAL', 'STATUS', 'VALUE', ...names.map((n) => n.toUpperCase()), 'DURATION', 'RERUN OF', 'ERROR'], rows, align);
}

/** `lablog sweep show`: what the sweep searches, how far it got, its best trial, history and trials. */
export function renderSweep(sweep: Sweep): string {
  const r = sweep.record();
  const trials = sweep.trials();
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
  const best = sweep.best();
  if (best !== null) {
    lines.push('', `Best: trial ${best.trial}, ${r.metric} = ${fmtValue(best.value)}`, `  params: ${JSON.stringify(best.params)}`);
  }
  const history = sweep.history();
  if (history.length > 0) {
    // The trials that improved on every earlier one.
    const improvements = history.filter((h, i) => i === 0 || h.best !== history[i - 1]!.best);
    lines.push('', `History (best so far): ${improvements.map((h) => `#${h.trial} ${fmtValue(h.best)}`).join(' → ')}`);
  }
  const importances = sweep.importances();
  if (importances.length > 0) {
    lines.push(
      '',
      `Importances (η² by param, normalised): ${importances.map((i) => `${i.param} ${(i.importance * 100).toFixed(0)}%`).join(', ')}`,
    );
  }
  lines.push('', renderTrials(sweep, trials));
  return lines.join('\n');
}

function trialStatuses(text: string | undefined): TrialStatus[] | undefined {
  if (text === undefined) return undefined;
  const statuses = text.split(',').map((s) => s.trim());
  for (const s of statuses) {
    if (!(TRIAL_STATUSES as readonly string[]).includes(s))
      throw invalid('status', `--status must be among ${TRIAL_STATUSES.join(', ')}, got '${s}'`);
  }
  return statuses as TrialStatus[];
}

const projectOf = (opts: { project?: string }) => (opts.project === undefined ? undefined : { project: opts.project });

export function registerSweepCommands(program: Command, write: Write, storeOption: () => Option, withStore: WithStore): void {
  const sweep = program.command('sweep').description('hyperparameter sweeps: create, run, show, list');
  sweep
    .command('create')
    .description(
      'create a sweep from a JSON config (name, project, metric, goal, space, sampler, pruner, maxTrials, parallel) and/or flags',
    )
    .option('--config <file>', 'a JSON file with the sweep options (as store.createSweep takes them)')
    .option('--name <name>', "the sweep's name")
    .option('-p, --project <name>', 'its project')
    .option('--metric <name>', 'the metric optimized')
    .option('--goal <min|max>', 'default: read from the metric name')
    .option('--space <json>', 'the search space as JSON: {"lr": {"type": "float", "min": 1e-5, "max": 1, "log": true}, …}')
    .option('--sampler <type>', 'grid | random | tpe (default tpe)')
    .option('--seed <n>', "the sampler's seed")
    .option('--pruner <type>', 'none | median | asha (default none)')
    .option('--max-trials <n>', 'default 100')
    .option('--parallel <n>', 'trials at once in `lablog sweep run` (default 1)')
    .addOption(storeOption())
    .action(async (opts: SweepCreateFlags & { store?: string }) => {
      const text = await withStore(opts.store, (store) => {
        const created = store.createSweep(sweepOptionsFrom(opts));
        const r = created.record();
        return `Created sweep ${r.id} (${r.project}/${r.name}): ${r.sampler.type} sampler, ${r.pruner.type} pruner, ${r.goal} ${r.metric}, at most ${r.maxTrials} trials`;
      });
      write(`${text}\n`);
    });

  sweep
    .command('run')
    .description("run a sweep's trials, each a launched run of the command with its params in $LABLOG_PARAMS; resumable")
    .usage('[options] <sweep> -- <command> [args...]')
    .argument('<sweep>', 'id or name')
    .argument('<command>', 'the program each trial runs')
    .argument('[args...]', 'its arguments')
    .option('-p, --project <name>', 'project of the sweep name')
    .option('--parallel <n>', "trials at once (default: the sweep's)")
    .option('--trials <n>', 'run at most this many trials now')
    .option('--timeout <duration>', "each trial's run timeout: 90 (s), 30s, 15m, 2h (default 4h)")
    .addOption(storeOption())
    .passThroughOptions()
    .action(
      async (
        name: string,
        command: string,
        args: string[],
        opts: { project?: string; parallel?: string; trials?: string; timeout?: string; store?: string },
      ) => {
        // Options pass through after <sweep>: a `--` there arrives as the first argument.
        if (command === '--') {
          if (args.length === 0) throw invalid('command', 'lablog sweep run: give the command after --');
          [command, ...args] = args as [string, ...string[]];
        }
        const store = openStore(opts.store === undefined ? undefined : { path: opts.store });
        try {
          const s = store.getSweep(name, projectOf(opts));
          const parallel = positiveInteger('parallel', opts.parallel);
          const trials = positiveInteger('trials', opts.trials);
          process.stderr.write(`lablog: sweep ${s.id} (${s.project}/${s.name}): running trials of: ${[command, ...args].join(' ')}\n`);
          const result = await s.run({
            command,
            args,
            ...(parallel !== undefined ? { parallel } : {}),
            ...(trials !== undefined ? { trials } : {}),
            ...(opts.timeout !== undefined ? { timeout: parseDuration('timeout', opts.timeout) } : {}),
          });
          const ran = Object.entries(result.ran)
            .filter(([, n]) => n > 0)
            .map(([status, n]) => `${n} ${status}`)
            .join(', ');
          write(
            `${renderSweep(s)}\n\nThis run: ${ran || 'no trials'}${result.recovered > 0 ? `; ${result.recovered} orphaned trials failed and re-queued` : ''}. Sweep ${result.status}.\n`,
          );
        } finally {
          await store.close();
        }
      },
    );

  sweep
    .command('show')
    .description('print a sweep: its search, status, best trial, history and trials')
    .argument('<sweep>', 'id or name')
    .option('-p, --project <name>', 'project of the name')
    .addOption(storeOption())
    .action(async (name: string, opts: { project?: string; store?: string }) => {
      write(`${await withStore(opts.store, (store) => renderSweep(store.getSweep(name, projectOf(opts))))}\n`);
    });

  sweep
    .command('ls')
    .description('list sweeps, newest first')
    .option('-p, --project <name>', 'only this project')
    .addOption(storeOption())
    .action(async (opts: { project?: string; store?: string }) => {
      const text = await withStore(opts.store, (store) => {
        const sweeps = store.listSweeps(projectOf(opts));
        if (sweeps.length === 0) return `No sweeps in ${store.path}.`;
        const rows = sweeps.map((s) => {
          const r = s.record();
          const best = s.best();
          return [
            r.id,
            r.project,
            r.name,
            r.status,
            `${r.goal} ${r.metric}`,
            String(s.trials().length),
            best === null ? '-' : fmtValue(best.value),
          ];
        });
        return renderTable(['ID', 'PROJECT', 'NAME', 'STATUS', 'OBJECTIVE', 'TRIALS', 'BEST'], rows, [
          'left',
          'left',
          'left',
          'left',
          'left',
          'right',
          'right',
        ]);
      });
      write(`${text}\n`);
    });

  program
    .command('trials')
    .description("list a sweep's trials (trial logs: lablog logs <sweep name>-<trial>)")
    .argument('<sweep>', 'id or name')
    .option('-p, --project <name>', 'project of the name')
    .option('--status <statuses>', `only these, comma-separated (${TRIAL_STATUSES.join(', ')})`)
    .addOption(storeOption())
    .action(async (name: string, opts: { project?: string; status?: string; store?: string }) => {
      const text = await withStore(opts.store, (store) => {
        const s = store.getSweep(name, projectOf(opts));
        const status = trialStatuses(opts.status);
        return renderTrials(s, s.trials(status === undefined ? undefined : { status }));
      });
      write(`${text}\n`);
    });

  const trial = program.command('trial').description("stop or restart one of a sweep's trials");
  for (const action of ['stop', 'restart'] as const) {
    trial
      .command(action)
      .description(
        action === 'stop' ? 'stop a pending or running trial (its run is cancelled)' : 'run an ended trial again with the same params',
      )
      .argument('<sweep>', 'id or name')
      .argument('<trial>', "the trial's number")
      .option('-p, --project <name>', 'project of the name')
      .addOption(storeOption())
      .action(async (name: string, number: string, opts: { project?: string; store?: string }) => {
        const n = Number(number);
        if (!Number.isSafeInteger(n) || n < 0) throw invalid('trial', `<trial> must be a trial's number, got '${number}'`);
        const text = await withStore(opts.store, (store) => {
          const s = store.getSweep(name, projectOf(opts));
          if (action === 'stop') {
            s.stopTrial(n);
            return `Stopped trial ${n} of sweep ${s.name}.`;
          }
          const again = s.restartTrial(n);
          return `Trial ${n} of sweep ${s.name} will run again as trial ${again.number} (same params) at the next lablog sweep run or optimize().`;
        });
        write(`${text}\n`);
      });
  }
}

// `lablog sweep create|run|show|ls`, `lablog trials` and `lablog trial stop|restart`: hyperparameter sweeps from the shell, this store's or (with --remote) a team server's.

import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { LablogError } from '../model/errors.js';
import { openStore } from '../open-store.js';
import type { RemoteSweeps } from '../core/remote-sweep.js';
import type { Store } from '../core/store.js';
import type { CreateSweepOptions } from '../core/sweep-options.js';
import type { OptimizeResult } from '../core/sweep-worker.js';
import { TRIAL_STATUSES, type SweepRecord, type TrialStatus } from '../model/sweep.js';
import { parseDuration } from './duration.js';
import { localSweepView, remoteSweepView, renderSweep, renderSweepList, renderTrials, type SweepView } from './sweep-render.js';

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

/** The options that point a sweep command at a team server's sweep instead of this store's. */
interface RemoteFlags {
  remote?: string;
  apiKey?: string;
  store?: string;
}

function remoteOptions(): Option[] {
  return [
    new Option('--remote <url>', "work on the sweep of this team server (default: this store's; $LABLOG_REMOTE alone does not)"),
    new Option('--api-key <key>', "the server's API key (default: $LABLOG_API_KEY)"),
  ];
}

/** Whether the command is remote: only an explicit --remote makes it so (an --api-key alone is a mistake). */
function isRemote<T extends RemoteFlags>(opts: T): opts is T & { remote: string } {
  if (opts.remote !== undefined) return true;
  if (opts.apiKey !== undefined) throw invalid('api-key', '--api-key is the key of a --remote server: pass --remote <url> too');
  return false;
}

/** Gives `fn` the server's sweeps, worked on from this machine's store (where a `sweep run`'s trials run), then closes the store. */
async function withRemoteSweeps<T>(opts: RemoteFlags & { remote: string }, fn: (sweeps: RemoteSweeps) => Promise<T>): Promise<T> {
  const apiKey = opts.apiKey ?? process.env['LABLOG_API_KEY'];
  if (apiKey === undefined || apiKey === '') throw invalid('api-key', `--remote ${opts.remote} needs --api-key <key> (or $LABLOG_API_KEY)`);
  const store = openStore(opts.store === undefined ? undefined : { path: opts.store });
  try {
    return await fn(store.remoteSweeps({ remote: opts.remote, apiKey }));
  } finally {
    await store.close();
  }
}

function createdText(r: SweepRecord, where: string): string {
  return `Created sweep ${r.id} (${r.project}/${r.name})${where}: ${r.sampler.type} sampler, ${r.pruner.type} pruner, ${r.goal} ${r.metric}, at most ${r.maxTrials} trials`;
}

function ranText(view: SweepView, result: OptimizeResult): string {
  const ran = Object.entries(result.ran)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  return `${renderSweep(view)}\n\nThis run: ${ran || 'no trials'}${result.recovered > 0 ? `; ${result.recovered} orphaned trials failed and re-queued` : ''}. Sweep ${result.status}.\n`;
}

function trialText(action: 'stop' | 'restart', sweepName: string, n: number, again: number): string {
  if (action === 'stop') return `Stopped trial ${n} of sweep ${sweepName}.`;
  return `Trial ${n} of sweep ${sweepName} will run again as trial ${again} (same params) at the next lablog sweep run or optimize().`;
}

export function registerSweepCommands(program: Command, write: Write, storeOption: () => Option, withStore: WithStore): void {
  /** The options of every sweep command: where the sweep is (this store, or --remote with its key). */
  const whereOptions = (command: Command): Command => {
    command.addOption(storeOption());
    for (const option of remoteOptions()) command.addOption(option);
    return command;
  };
  const sweep = program.command('sweep').description('hyperparameter sweeps: create, run, show, list');
  whereOptions(
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
      .option('--parallel <n>', 'trials at once in `lablog sweep run` (default 1)'),
  ).action(async (opts: SweepCreateFlags & RemoteFlags) => {
    if (isRemote(opts)) {
      const options = sweepOptionsFrom(opts);
      const text = await withRemoteSweeps(opts, async (sweeps) =>
        createdText(await (await sweeps.create(options)).record(), ` on ${opts.remote}`),
      );
      write(`${text}\n`);
      return;
    }
    const text = await withStore(opts.store, (store) => createdText(store.createSweep(sweepOptionsFrom(opts)).record(), ''));
    write(`${text}\n`);
  });

  whereOptions(
    sweep
      .command('run')
      .description(
        "run a sweep's trials, each a launched run of the command with its params in $LABLOG_PARAMS; resumable; with --remote, trials of the server's sweep run here and are published live to it",
      )
      .usage('<sweep> [options] -- <command> [args...]')
      .argument('<sweep>', 'id or name')
      .argument('<command>', 'the program each trial runs')
      .argument('[args...]', 'its arguments')
      .option('-p, --project <name>', 'project of the sweep name')
      .option('--parallel <n>', "trials at once (default: the sweep's)")
      .option('--trials <n>', 'run at most this many trials now')
      .option('--timeout <duration>', "each trial's run timeout: 90 (s), 30s, 15m, 2h (default 4h)"),
  ).action(
    async (
      name: string,
      command: string,
      args: string[],
      opts: { project?: string; parallel?: string; trials?: string; timeout?: string } & RemoteFlags,
    ) => {
      const parallel = positiveInteger('parallel', opts.parallel);
      const trials = positiveInteger('trials', opts.trials);
      const launch = {
        command,
        args,
        ...(parallel !== undefined ? { parallel } : {}),
        ...(trials !== undefined ? { trials } : {}),
        ...(opts.timeout !== undefined ? { timeout: parseDuration('timeout', opts.timeout) } : {}),
      };
      const starting = (s: { id: string; project: string; name: string }, where: string) =>
        process.stderr.write(
          `lablog: sweep ${s.id} (${s.project}/${s.name})${where}: running trials of: ${[command, ...args].join(' ')}\n`,
        );
      if (isRemote(opts)) {
        const text = await withRemoteSweeps(opts, async (sweeps) => {
          const s = await sweeps.get(name, projectOf(opts));
          starting(s, ` on ${opts.remote}`);
          const result = await s.run(launch);
          return ranText(remoteSweepView(await s.detail()), result);
        });
        write(text);
        return;
      }
      const store = openStore(opts.store === undefined ? undefined : { path: opts.store });
      try {
        const s = store.getSweep(name, projectOf(opts));
        starting(s, '');
        const result = await s.run(launch);
        write(ranText(localSweepView(s), result));
      } finally {
        await store.close();
      }
    },
  );

  whereOptions(
    sweep
      .command('show')
      .description('print a sweep: its search, status, best trial, history and trials')
      .argument('<sweep>', 'id or name')
      .option('-p, --project <name>', 'project of the name'),
  ).action(async (name: string, opts: { project?: string } & RemoteFlags) => {
    const text = isRemote(opts)
      ? await withRemoteSweeps(opts, async (sweeps) =>
          renderSweep(remoteSweepView(await (await sweeps.get(name, projectOf(opts))).detail())),
        )
      : await withStore(opts.store, (store) => renderSweep(localSweepView(store.getSweep(name, projectOf(opts)))));
    write(`${text}\n`);
  });

  whereOptions(sweep.command('ls').description('list sweeps, newest first').option('-p, --project <name>', 'only this project')).action(
    async (opts: { project?: string } & RemoteFlags) => {
      const text = isRemote(opts)
        ? await withRemoteSweeps(opts, async (sweeps) => {
            const views: SweepView[] = [];
            // One read per sweep, in turn: the server lists at most MAX_SWEEPS_LISTED.
            for (const s of await sweeps.list(projectOf(opts))) views.push(remoteSweepView(await s.detail()));
            return renderSweepList(views, opts.remote);
          })
        : await withStore(opts.store, (store) => renderSweepList(store.listSweeps(projectOf(opts)).map(localSweepView), store.path));
      write(`${text}\n`);
    },
  );

  whereOptions(
    program
      .command('trials')
      .description("list a sweep's trials (trial logs: lablog logs <sweep name>-<trial>)")
      .argument('<sweep>', 'id or name')
      .option('-p, --project <name>', 'project of the name')
      .option('--status <statuses>', `only these, comma-separated (${TRIAL_STATUSES.join(', ')})`),
  ).action(async (name: string, opts: { project?: string; status?: string } & RemoteFlags) => {
    const status = trialStatuses(opts.status);
    const only = status === undefined ? undefined : { status };
    const text = isRemote(opts)
      ? await withRemoteSweeps(opts, async (sweeps) => {
          const s = await sweeps.get(name, projectOf(opts));
          return renderTrials(await s.record(), await s.trials(only));
        })
      : await withStore(opts.store, (store) => {
          const s = store.getSweep(name, projectOf(opts));
          return renderTrials(s.record(), s.trials(only));
        });
    write(`${text}\n`);
  });

  const trial = program.command('trial').description("stop or restart one of a sweep's trials");
  for (const action of ['stop', 'restart'] as const) {
    whereOptions(
      trial
        .command(action)
        .description(
          action === 'stop' ? 'stop a pending or running trial (its run is cancelled)' : 'run an ended trial again with the same params',
        )
        .argument('<sweep>', 'id or name')
        .argument('<trial>', "the trial's number")
        .option('-p, --project <name>', 'project of the name'),
    ).action(async (name: string, number: string, opts: { project?: string } & RemoteFlags) => {
      const n = Number(number);
      if (!Number.isSafeInteger(n) || n < 0) throw invalid('trial', `<trial> must be a trial's number, got '${number}'`);
      const text = isRemote(opts)
        ? await withRemoteSweeps(opts, async (sweeps) => {
            const s = await sweeps.get(name, projectOf(opts));
            const changed = action === 'stop' ? await s.stopTrial(n) : await s.restartTrial(n);
            return trialText(action, s.name, n, changed.number);
          })
        : await withStore(opts.store, (store) => {
            const s = store.getSweep(name, projectOf(opts));
            const changed = action === 'stop' ? s.stopTrial(n) : s.restartTrial(n);
            return trialText(action, s.name, n, changed.number);
          });
      write(`${text}\n`);
    });
  }
}

// The lablog command program: its commands and options, and running one against a store.

import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { openStore, resolveStorePath } from '../open-store.js';
import { LablogError } from '../model/errors.js';
import { EXPERIMENT_STATUSES, type ExperimentStatus } from '../model/experiment.js';
import type { Store } from '../core/store.js';
import { renderExperimentList } from './ls.js';
import { registerSweepCommands } from './sweep-command.js';
import { registerArtifactCommands } from './artifacts-command.js';
import { registerModelCommands } from './models-command.js';
import { renderExperiment } from './show.js';
import { launchOf } from './show-run.js';
import { parseMetricGoal, parseStatedGoals, renderComparison, renderStudy, renderStudyList } from './studies.js';
import {
  EXPORT_FORMATS,
  EXPORT_INCLUDES,
  exportExperiments,
  type ExportFormat,
  type ExportInclude,
  type ExportResult,
} from '../core/study-export.js';
import { DEFAULT_STUDY_PAGE, MAX_STUDY_PAGE, STUDY_STATUSES, type StudyStatus } from '../model/study.js';
import { DEFAULT_CONNECTION_LIMITS as CONN } from '../server/connection-limits.js';
import { DEFAULT_ANONYMOUS_RATE_LIMIT } from '../server/anonymous-rate-guard.js';
import { LOG_STREAMS, type LogStream } from '../model/run.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function storeOption(): Option {
  return new Option('--store <path>', 'store file (default: $LABLOG_DIR/lablog.db, else ./.lablog/lablog.db)');
}

async function withStore<T>(path: string | undefined, fn: (store: Store) => T): Promise<T> {
  const store = openStore(path === undefined ? undefined : { path });
  try {
    return fn(store);
  } finally {
    await store.close();
  }
}

export function buildProgram(write: (text: string) => void = (text) => process.stdout.write(text)): Command {
  const program = new Command('lablog')
    .description('Look at the experiments in a lablog store.')
    .version(pkg.version)
    .showHelpAfterError()
    .enablePositionalOptions();

  program
    .command('ls')
    .description('list experiments with their status and counts, newest first')
    .option('-p, --project <name>', 'only this project')
    .addOption(new Option('-s, --status <status>', 'only this status').choices(EXPERIMENT_STATUSES))
    .option('-t, --tag <tag...>', 'only experiments with all these tags')
    .addOption(storeOption())
    .action(async (opts: { project?: string; status?: ExperimentStatus; tag?: string[]; store?: string }) => {
      const text = await withStore(opts.store, (store) =>
        renderExperimentList(store, { project: opts.project, status: opts.status, tags: opts.tag }),
      );
      write(`${text}\n`);
    });

  program
    .command('show')
    .description('print an experiment: params, and per series its count, last and best value')
    .argument('<experiment>', 'id or name')
    .option('-p, --project <name>', 'project of the name')
    .option('--goal <name:min|max...>', "a metric's goal where its name does not tell, e.g. score_delta:min")
    .addOption(storeOption())
    .action(async (experiment: string, opts: { project?: string; goal?: string[]; store?: string }) => {
      const goals = parseStatedGoals(opts.goal ?? []);
      const text = await withStore(opts.store, (store) => {
        const exp = store.getExperiment(experiment, opts.project === undefined ? undefined : { project: opts.project });
        return renderExperiment(exp, goals, launchOf(store, exp.id));
      });
      write(`${text}\n`);
    });

  program
    .command('run')
    .description(
      "launch a command as a run: an experiment whose output, exit, timeout, cancel and retries lablog records; exit code = the run's",
    )
    .usage('[options] -- <command> [args...]')
    .argument('<command>', 'the program to run')
    .argument('[args...]', 'its arguments')
    .option('-p, --project <name>', 'project of the run')
    .option('--name <name>', "the run's (experiment's) name (default: the command's name)")
    .option(
      '--param <key=value...>',
      'a param logged on the run before it starts (typed: true/false, numbers, else text), given to the child in $LABLOG_PARAMS',
    )
    .option('--timeout <duration>', 'stop the run after this long: 90 (s), 30s, 15m, 2h (default 4h, at most 48h)')
    .option('--retries <n>', 'launch a failed run again up to n times (not a timed-out or cancelled one)')
    .option('--grace <duration>', 'between SIGTERM and SIGKILL when the run is stopped (default 30s)')
    .option(
      '--grid <key=v1,v2...>',
      'launch every combination of these values as runs of a new study (repeat for more params), printing a summary table at the end',
    )
    .option('--parallel <n>', 'with --grid: runs at once (default 1)')
    .option(
      '--metric <name>',
      "with --grid: the metric to compare the runs on (the study's grid_search objective; its last value in the summary)",
    )
    .option('--goal <min|max>', 'with --metric: whether lower or higher is better (default: read from its name, e.g. loss → min)')
    .option('--study <name>', "with --grid: the study's name (default: the runs' name)")
    .addOption(storeOption())
    .passThroughOptions()
    .action(async (command: string, args: string[], opts) => {
      if (opts.grid !== undefined) {
        const { runGrid } = await import('./run-grid-command.js');
        process.exitCode = await runGrid(command, args, opts);
        return;
      }
      for (const option of ['parallel', 'metric', 'goal', 'study'] as const) {
        if (opts[option] !== undefined) throw new LablogError('INVALID_OPTION', `--${option} needs --grid`, { option });
      }
      const { runRun } = await import('./runs-command.js');
      process.exitCode = await runRun(command, args, opts);
    });

  program
    .command('runs')
    .description('list runs: id, project, name, status, attempt, duration, exit; newest first')
    .option('-p, --project <name>', 'only this project')
    .addOption(storeOption())
    .action(async (opts: { project?: string; store?: string }) => {
      const { renderRunList } = await import('./runs-command.js');
      const text = await withStore(opts.store, (store) => renderRunList(store, opts.project));
      write(`${text}\n`);
    });

  program
    .command('logs')
    .description("print a run's captured output (stdout and stderr, in order)")
    .argument('<run>', 'id or name')
    .option('-f, --follow', 'keep printing new lines until the run ends')
    .addOption(new Option('--stream <stream>', 'only this stream').choices(LOG_STREAMS))
    .option('--tail <n>', 'only the last n lines')
    .option('-p, --project <name>', 'project of the name')
    .addOption(storeOption())
    .action(async (run: string, opts: { follow?: boolean; stream?: LogStream; tail?: string; project?: string; store?: string }) => {
      const { runLogs } = await import('./runs-command.js');
      await runLogs(run, opts, write);
    });

  program
    .command('cancel')
    .description('cancel a run from any terminal: its supervisor stops it (SIGTERM, then SIGKILL after the grace period)')
    .argument('<run>', 'id or name')
    .option('-p, --project <name>', 'project of the name')
    .addOption(storeOption())
    .action(async (run: string, opts: { project?: string; store?: string }) => {
      const { runCancel } = await import('./runs-command.js');
      await runCancel(run, opts, write);
    });

  const env = program.command('env').description('env vars given to runs, per project or per experiment (secrets are never shown again)');
  const scopeOptions = (command: Command) =>
    command
      .option('-p, --project <name>', 'the project (default: default)')
      .option('-e, --experiment <id-or-name>', "an experiment's own vars (they shadow its project's)")
      .addOption(storeOption());
  scopeOptions(
    env
      .command('set')
      .description('set env vars: NAME is letters, digits and underscores, starting with a letter, not ending with _')
      .argument('<NAME=VALUE...>', 'the variables')
      .option('--secret', 'sealed at rest, never printed again, replaced by *** in captured output; cannot become plain again'),
  ).action(async (assignments: string[], opts: { project?: string; experiment?: string; secret?: boolean; store?: string }) => {
    const { runEnvSet } = await import('./env-command.js');
    write(`${await withStore(opts.store, (store) => runEnvSet(store, assignments, opts))}\n`);
  });
  scopeOptions(
    env.command('ls').description("list env vars: NAME, VALUE (*** for a secret), SECRET, INHERITANCE (an experiment's: resolved)"),
  ).action(async (opts: { project?: string; experiment?: string; store?: string }) => {
    const { renderEnvList } = await import('./env-command.js');
    write(`${await withStore(opts.store, (store) => renderEnvList(store, opts))}\n`);
  });
  scopeOptions(
    env.command('rm').description('delete env vars of the project (or of the experiment)').argument('<NAME...>', 'the names'),
  ).action(async (names: string[], opts: { project?: string; experiment?: string; store?: string }) => {
    const { runEnvRm } = await import('./env-command.js');
    write(`${await withStore(opts.store, (store) => runEnvRm(store, names, opts))}\n`);
  });

  program
    .command('where')
    .description('print the path of the store the other commands use')
    .addOption(storeOption())
    .action((opts: { store?: string }) => write(`${resolveStorePath(opts.store)}\n`));

  program
    .command('studies')
    .description('list studies with their status and experiment counts, newest first')
    .option('-p, --project <name>', 'only this project')
    .addOption(new Option('-s, --status <status>', 'only this status').choices(STUDY_STATUSES))
    .option('-t, --tag <tag...>', 'only studies with all these tags')
    .option('--limit <n>', `at most this many (1-${MAX_STUDY_PAGE})`, String(DEFAULT_STUDY_PAGE))
    .addOption(storeOption())
    .action(async (opts: { project?: string; status?: StudyStatus; tag?: string[]; limit: string; store?: string }) => {
      const text = await withStore(opts.store, (store) =>
        renderStudyList(store, {
          ...(opts.project !== undefined ? { project: opts.project } : {}),
          ...(opts.status !== undefined ? { status: opts.status } : {}),
          ...(opts.tag !== undefined ? { tags: opts.tag } : {}),
          limit: Number(opts.limit),
        }),
      );
      write(`${text}\n`);
    });

  program
    .command('study')
    .description('look at one study')
    .command('show')
    .description('print a study: question, baseline, conclusion, statistics and experiments')
    .argument('<study>', 'id or name')
    .option('-p, --project <name>', 'project of the name')
    .option('--metric <metric>', 'pick the best experiment by this metric: NAME, NAME:min or NAME:max (default goal: from the name)')
    .addOption(storeOption())
    .action(async (study: string, opts: { project?: string; metric?: string; store?: string }) => {
      const text = await withStore(opts.store, (store) =>
        renderStudy(
          store.getStudy(study, opts.project === undefined ? undefined : { project: opts.project }),
          opts.metric === undefined ? undefined : parseMetricGoal(opts.metric),
        ),
      );
      write(`${text}\n`);
    });

  program
    .command('compare')
    .description("compare a study's completed experiments: rankings, statistics, significance, correlations, Pareto frontier")
    .argument('<study>', 'id or name')
    .requiredOption(
      '--metric <metric...>',
      'metric(s), each NAME, NAME:min or NAME:max, e.g. val/loss val/acc:max (default goal: from the name)',
    )
    .option('--param <name...>', 'params that define a configuration (default: all but seeds)')
    .option('--json', 'print the comparison as JSON')
    .option('-p, --project <name>', 'project of the name')
    .addOption(storeOption())
    .action(async (study: string, opts: { metric: string[]; param?: string[]; json?: boolean; project?: string; store?: string }) => {
      const metrics = opts.metric.map(parseMetricGoal);
      const text = await withStore(opts.store, (store) => {
        const s = store.getStudy(study, opts.project === undefined ? undefined : { project: opts.project });
        const comparison = s.compare({ metrics, ...(opts.param ? { params: opts.param } : {}) });
        return opts.json ? JSON.stringify(comparison, null, 2) : renderComparison(s, comparison, metrics);
      });
      write(`${text}\n`);
    });

  program
    .command('export')
    .description('write a study (its experiments) or one experiment to a file: one row per experiment, or --series for every point')
    .argument('<study-or-experiment>', 'id or name of a study, else of an experiment')
    .addOption(new Option('--format <format>', 'file format').choices(EXPORT_FORMATS).makeOptionMandatory())
    .requiredOption('--out <path>', 'file to write')
    .option('--include <part...>', `what to include (${EXPORT_INCLUDES.join(', ')}; default all)`)
    .option('--series', 'every metric point in long form (experiment, metric, step, value, timestamp)')
    .option('-p, --project <name>', 'project of the name')
    .addOption(storeOption())
    .action(
      async (
        target: string,
        opts: { format: ExportFormat; out: string; include?: ExportInclude[]; series?: boolean; project?: string; store?: string },
      ) => {
        const store = openStore(opts.store === undefined ? undefined : { path: opts.store });
        try {
          const where = opts.project === undefined ? undefined : { project: opts.project };
          const options = {
            format: opts.format,
            path: opts.out,
            ...(opts.include ? { include: opts.include } : {}),
            ...(opts.series ? { series: true } : {}),
          };
          let result: ExportResult;
          try {
            result = await store.getStudy(target, where).export(options);
          } catch (error) {
            if ((error as LablogError).code !== 'STUDY_NOT_FOUND') throw error;
            result = await exportExperiments([store.getExperiment(target, where)], options);
          }
          write(`Wrote ${result.rows} row(s) × ${result.columns.length} column(s) to ${result.path}\n`);
        } finally {
          await store.close();
        }
      },
    );

  program
    .command('server')
    .description('run the lablog server: the remote store a team publishes to (REST under /api/v1)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '5380')
    .option('--db <file|url>', 'SQLite file, or a postgres:// URL (default: $LABLOG_SERVER_DB, else ./.lablog/server.db)')
    .option('--body-limit <bytes>', 'largest JSON request body accepted (413 above)')
    .option('--rate-limit <n>', 'requests per second per API key (429 with Retry-After above)')
    .option('--limit <name=value...>', 'a limit experiments are held to, e.g. maxMetricValues=10000000')
    .option('--log', 'log every request as JSON')
    .option('--session-lifetime <seconds>', 'how long a UI login lasts, however much it is used (default 7 days)')
    .option('--session-idle <seconds>', 'how long a UI login lasts without a request (default 1 day)')
    .option(
      '--request-timeout <ms>',
      `a whole request (headers and body) must arrive within this, else 408 (default ${CONN.requestTimeoutMs})`,
    )
    .option(
      '--headers-timeout <ms>',
      `request headers must arrive within this, else 408 (default ${CONN.headersTimeoutMs}, at most --request-timeout)`,
    )
    .option('--idle-timeout <ms>', `close a connection on which nothing moves for this long (default ${CONN.idleTimeoutMs})`)
    .option(
      '--keep-alive-timeout <ms>',
      `close a kept-alive connection idle between requests after this (default ${CONN.keepAliveTimeoutMs})`,
    )
    .option('--max-connections <n>', `open connections at most; more are closed at once (default ${CONN.maxConnections})`)
    .option(
      '--max-connections-per-address <n>',
      `open connections per client address (IPv6: per /64) at most (default ${CONN.maxConnectionsPerAddress})`,
    )
    .option(
      '--anonymous-rate-limit <n>',
      `requests per second per client address without a known API key, and logins (429 above; default ${DEFAULT_ANONYMOUS_RATE_LIMIT.perSecond}, burst twice the rate)`,
    )
    .option('--trust-proxy <addresses>', 'comma-separated proxy addresses/CIDRs whose X-Forwarded-For names the client')
    .option(
      '--blob-quota <bytes>',
      'bytes of uploaded blobs a project may hold before images or tables reference them (422 above; default 1 GiB)',
    )
    .option('--blob-grace <seconds>', 'how long a blob nothing references is kept after its last use (default 86400)')
    .option(
      '--artifacts <dir|s3://bucket/prefix>',
      'where artifact bytes live: a folder (default: artifacts/ beside a SQLite --db, ./lablog-artifacts for PostgreSQL) or S3',
    )
    .action(async (opts) => {
      const { runServer } = await import('./server-command.js');
      await runServer(opts, write);
    });

  program
    .command('ui')
    .description('open the web UI over a local store: experiments, charts, comparisons, studies (read-only)')
    .addOption(storeOption())
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '5381')
    .action(async (opts: { store?: string; host: string; port: string }) => {
      const { runUi } = await import('./ui-command.js');
      await runUi(opts, write);
    });

  const keys = program.command('keys').description('manage the API keys of a lablog server');
  keys
    .command('create')
    .description('create an API key for one or more projects and print it (once)')
    .requiredOption('--project <name...>', 'project(s) the key may read and write')
    .option('--name <name>', 'a label for the key')
    .option('--db <file|url>', 'the server database (default: $LABLOG_SERVER_DB, else ./.lablog/server.db)')
    .action(async (opts: { project: string[]; name?: string; db?: string }) => {
      const { runKeysCreate } = await import('./server-command.js');
      await runKeysCreate(opts, write);
    });
  keys
    .command('list')
    .description('list the API keys: id, name, projects, created, last used (never the key nor its hash)')
    .option('--all', 'also the revoked keys, with when they were revoked')
    .option('--json', 'print the keys as JSON')
    .option('--db <file|url>', 'the server database (default: $LABLOG_SERVER_DB, else ./.lablog/server.db)')
    .action(async (opts: { all?: boolean; json?: boolean; db?: string }) => {
      const { runKeysList } = await import('./keys-command.js');
      await runKeysList(opts, write);
    });
  keys
    .command('revoke')
    .description('revoke an API key by name or id: every server refuses it from its next request, and its UI sessions end')
    .argument('<name-or-id>', "the key's id, or its name when no other unrevoked key has it")
    .option('--db <file|url>', 'the server database (default: $LABLOG_SERVER_DB, else ./.lablog/server.db)')
    .action(async (nameOrId: string, opts: { db?: string }) => {
      const { runKeysRevoke } = await import('./keys-command.js');
      await runKeysRevoke(nameOrId, opts, write);
    });

  program
    .command('sync')
    .description('publish the local store to a lablog server: only what it does not have yet')
    .option('--remote <url>', 'the server (default: $LABLOG_REMOTE)')
    .option('--api-key <key>', 'its API key (default: $LABLOG_API_KEY)')
    .option('--experiment <id-or-name...>', 'only these experiments')
    .option('--model-version <label>', 'label the published experiments with a (model) version')
    .option('--watch', 'keep publishing live runs until interrupted')
    .option('--no-progress', 'no progress bar')
    .addOption(storeOption())
    .action(
      async (opts: {
        remote?: string;
        apiKey?: string;
        experiment?: string[];
        modelVersion?: string;
        watch?: boolean;
        progress?: boolean;
        store?: string;
      }) => {
        const { runSync } = await import('./sync-command.js');
        const storePath = resolveStorePath(opts.store);
        const ids = opts.experiment && (await withStore(opts.store, (store) => opts.experiment!.map((e) => store.getExperiment(e).id)));
        const code = await runSync(
          { ...opts, ...(opts.modelVersion !== undefined ? { version: opts.modelVersion } : {}), store: storePath },
          ids,
          write,
        );
        if (code !== 0) process.exitCode = code;
      },
    );

  registerSweepCommands(program, write, storeOption, withStore);
  registerArtifactCommands(program, write, storeOption);
  registerModelCommands(program, write, storeOption, withStore);

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof LablogError) {
      process.stderr.write(`lablog: ${error.message} [${error.code}]\n`);
      return 1;
    }
    throw error;
  }
}

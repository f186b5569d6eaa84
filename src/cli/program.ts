// The lablog command program: its commands and options, and running one against a store.

import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { openStore, resolveStorePath } from '../open-store.js';
import { LablogError } from '../core/errors.js';
import { EXPERIMENT_STATUSES, type ExperimentStatus } from '../store/backend.js';
import type { Store } from '../core/store.js';
import { renderExperimentList } from './ls.js';
import { renderExperiment } from './show.js';

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
    .showHelpAfterError();

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
    .addOption(storeOption())
    .action(async (experiment: string, opts: { project?: string; store?: string }) => {
      const text = await withStore(opts.store, (store) =>
        renderExperiment(store.getExperiment(experiment, opts.project === undefined ? undefined : { project: opts.project })),
      );
      write(`${text}\n`);
    });

  program
    .command('where')
    .description('print the path of the store the other commands use')
    .addOption(storeOption())
    .action((opts: { store?: string }) => write(`${resolveStorePath(opts.store)}\n`));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof LablogError) {
      process.stderr.write(`lablog: ${error.message} [${error.code}]\n`);
      return 1;
    }
    throw error;
  }
}

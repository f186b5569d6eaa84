// `lablog models ls|show|alias`: registered models, their versions, aliases and alias moves, and where each version came from.

import type { Command, Option } from 'commander';
import { LablogError } from '../model/errors.js';
import type { Store } from '../core/store.js';
import { formatNumber, formatParam, formatTime } from './format.js';
import { renderTable } from './text-table.js';

type Write = (text: string) => void;
type WithStore = <T>(path: string | undefined, fn: (store: Store) => T) => Promise<T>;

const at = (ms: number) => formatTime(new Date(ms));
const scope = (project: string | undefined) => (project === undefined ? undefined : { project });

/** The models of the store (or of a project), one line each. */
export function renderModelList(store: Store, project: string | undefined): string {
  const models = store.listModels(scope(project));
  if (models.length === 0) return `No models${project ? ` in project '${project}'` : ''} in ${store.path}.`;
  const rows = models.map((m) => [
    m.project,
    m.name,
    m.latestVersion === null ? '-' : String(m.latestVersion),
    Object.entries(m.aliases)
      .map(([alias, v]) => `${alias}→${v}`)
      .join(', '),
    at(m.updatedAt),
  ]);
  return `${renderTable(['PROJECT', 'NAME', 'LATEST', 'ALIASES', 'UPDATED'], rows, ['left', 'left', 'right', 'left', 'left'])}\n\n${models.length} model${models.length === 1 ? '' : 's'} in ${store.path}`;
}

/** A model version (the ref's), its lineage, then every version and the alias moves. */
export function renderModel(store: Store, ref: string, project: string | undefined): string {
  const detail = store.getModel(ref, scope(project));
  const { experiment, artifact } = detail.lineage;
  const lines = [
    `model       ${detail.model}`,
    `project     ${detail.project}`,
    `version     ${detail.version}${detail.aliases.length > 0 ? ` (${detail.aliases.join(', ')})` : ''}`,
    `registered  ${at(detail.createdAt)}`,
  ];
  if (detail.description) lines.push(`description ${detail.description}`);
  lines.push(
    artifact === null
      ? `artifact    ${detail.artifactId}`
      : `artifact    ${artifact.name}${artifact.step === null ? '' : ` @ step ${artifact.step}`} (${artifact.type}, ${artifact.size} bytes, sha256 ${artifact.sha256.slice(0, 12)}) ${artifact.id}`,
  );
  if (experiment === null) lines.push(`experiment  ${detail.experimentId} (not in this store)`);
  else {
    lines.push(`experiment  ${experiment.name} ${experiment.id} (${experiment.status})`);
    if (experiment.study) lines.push(`study       ${experiment.study.name} ${experiment.study.id}`);
    const params = Object.entries(experiment.params);
    if (params.length > 0) lines.push(`params      ${params.map(([k, v]) => `${k}=${formatParam(v)}`).join(', ')}`);
    const metrics = Object.entries(experiment.metrics);
    if (metrics.length > 0) lines.push(`metrics     ${metrics.map(([k, v]) => `${k}=${formatNumber(v)}`).join(', ')}`);
    for (const d of experiment.datasets) lines.push(`dataset     ${d.role} ${d.name}${d.digest ? ` ${d.digest}` : ''}`);
  }
  const versions = store.listModelVersions(detail.model, { project: detail.project });
  lines.push(
    '',
    renderTable(
      ['VERSION', 'ALIASES', 'EXPERIMENT', 'REGISTERED'],
      versions.map((v) => [String(v.version), v.aliases.join(', '), v.experimentId.slice(0, 8), at(v.createdAt)]),
      ['right'],
    ),
  );
  const moves = store.modelAliasMoves(detail.model, { project: detail.project });
  if (moves.length > 0) {
    lines.push('', 'alias moves');
    for (const m of moves) lines.push(`  ${at(m.at)}  ${m.alias}: ${m.from ?? '-'} → ${m.to ?? '-'}`);
  }
  return lines.join('\n');
}

/** A version number from the command line. */
function versionOf(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new LablogError('INVALID_OPTION', `the version must be a version number (1, 2, …), got '${text}'`, {
      option: 'version',
      actual: text,
    });
  return n;
}

export function registerModelCommands(program: Command, write: Write, storeOption: () => Option, withStore: WithStore): void {
  const models = program.command('models').description("registered models: versions of experiments' artifacts, with aliases");
  models
    .command('ls')
    .description('list registered models with their latest version and aliases')
    .option('-p, --project <name>', 'only this project')
    .addOption(storeOption())
    .action(async (opts: { project?: string; store?: string }) => {
      write(`${await withStore(opts.store, (store) => renderModelList(store, opts.project))}\n`);
    });
  models
    .command('show')
    .description('print a model version (name: the latest, name@alias, name@3) with its lineage, every version and the alias moves')
    .argument('<model>', 'name, name@alias or name@version')
    .option('-p, --project <name>', 'project of the model')
    .addOption(storeOption())
    .action(async (ref: string, opts: { project?: string; store?: string }) => {
      write(`${await withStore(opts.store, (store) => renderModel(store, ref, opts.project))}\n`);
    });
  models
    .command('alias')
    .description('point an alias of a model at a version (the move is recorded), or remove it with --remove')
    .argument('<model>', 'model name')
    .argument('<alias>', 'alias')
    .argument('[version]', 'version number')
    .option('--remove', 'remove the alias')
    .option('-p, --project <name>', 'project of the model')
    .addOption(storeOption())
    .action(
      async (name: string, alias: string, version: string | undefined, opts: { remove?: boolean; project?: string; store?: string }) => {
        if ((version === undefined) === (opts.remove !== true))
          throw new LablogError('INVALID_OPTION', 'models alias: give a version, or --remove (not both)', { option: 'version' });
        const to = version === undefined ? null : versionOf(version);
        await withStore(opts.store, (store) => store.setAlias(name, alias, to, scope(opts.project)));
        write(
          to === null ? `Removed alias '${alias}' of model ${name}.\n` : `Alias '${alias}' of model ${name} now points at version ${to}.\n`,
        );
      },
    );
}

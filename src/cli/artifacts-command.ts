// `lablog artifacts ls|get <experiment>` and `lablog gc`: an experiment's artifacts as a table, downloaded into a folder, and the blobs nothing references removed.

import { resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { LablogError } from '../model/errors.js';
import type { ArtifactRecord } from '../model/artifact.js';
import type { Store } from '../core/store.js';
import { ARTIFACT_GC_GRACE_MS } from '../core/artifact-gc.js';
import { openStore } from '../open-store.js';
import { formatDuration } from './format.js';
import { renderTable } from './text-table.js';

/** Hex digits of an artifact's sha256 that `artifacts ls` shows. */
export const SHA256_PREFIX_LENGTH = 12;
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** A size in bytes, binary units: 512 B, 1.5 MiB. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${BYTE_UNITS[unit]}`;
}

interface ExperimentOptions {
  project?: string;
  store?: string;
}

async function withStore<T>(path: string | undefined, fn: (store: Store) => Promise<T> | T): Promise<T> {
  const store = openStore(path === undefined ? undefined : { path });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function experimentOf(store: Store, idOrName: string, opts: ExperimentOptions) {
  return store.getExperiment(idOrName, opts.project === undefined ? undefined : { project: opts.project });
}

/** The table of an experiment's artifacts: NAME, KIND, STEP, SIZE, SHA256 (a prefix), FILES. */
export function renderArtifactList(artifacts: readonly ArtifactRecord[], experimentName: string): string {
  if (artifacts.length === 0) return `No artifacts in experiment '${experimentName}'.`;
  const rows = artifacts.map((a) => [
    a.name,
    a.kind ?? '-',
    a.step === null ? '-' : String(a.step),
    formatBytes(a.size),
    a.sha256.slice(0, SHA256_PREFIX_LENGTH),
    String(a.files.length),
  ]);
  return renderTable(['NAME', 'KIND', 'STEP', 'SIZE', 'SHA256', 'FILES'], rows, ['left', 'left', 'right', 'right', 'left', 'right']);
}

/** A step option: an integer >= 0. */
function parseStep(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text)) {
    throw new LablogError('INVALID_OPTION', `--step must be an integer >= 0, got '${text.slice(0, 40)}'`, { option: 'step', actual: text });
  }
  return Number(text);
}

/**
 * Downloads artifact `name` (at --step; default its highest step) into --out, or with no name every
 * artifact (each at its highest step) into --out/<name>/. One line per artifact written.
 */
export async function runArtifactsGet(
  store: Store,
  idOrName: string,
  name: string | undefined,
  opts: ExperimentOptions & { step?: string; out?: string },
): Promise<string> {
  const exp = experimentOf(store, idOrName, opts);
  const step = parseStep(opts.step);
  const out = resolve(opts.out ?? '.');
  if (name === undefined && step !== undefined) {
    throw new LablogError('INVALID_OPTION', '--step needs an artifact name', { option: 'step' });
  }
  const names = name === undefined ? [...new Set(exp.listArtifacts().map((a) => a.name))] : [name];
  if (names.length === 0) return `No artifacts in experiment '${exp.name}'.`;
  const lines: string[] = [];
  for (const each of names) {
    const dir = name === undefined ? resolve(out, each) : out;
    const paths = await exp.downloadArtifact(each, dir, step === undefined ? undefined : { step });
    // Listed by name then step: the last of the name is the one read when no step is given.
    const record = exp
      .listArtifacts()
      .filter((a) => a.name === each && (step === undefined || a.step === step))
      .at(-1);
    const at = record?.step === null || record === undefined ? '' : ` (step ${record.step})`;
    lines.push(`${each}${at}: ${paths.length} file${paths.length === 1 ? '' : 's'}, ${formatBytes(record?.size ?? 0)} → ${dir}`);
  }
  return lines.join('\n');
}

/** `lablog gc`: what was (or, with --dry-run, would be) removed, and what was kept. */
export async function runGc(store: Store, opts: { dryRun?: boolean }): Promise<string> {
  const result = await store.collectArtifactBlobs({ dryRun: opts.dryRun ?? false });
  const verb = result.dryRun ? 'would remove' : 'removed';
  const lines = result.removed.map((b) => `${verb} ${b.sha256} (${formatBytes(b.size)})`);
  lines.push(
    `${verb} ${result.removed.length} blob${result.removed.length === 1 ? '' : 's'} (${formatBytes(result.removedBytes)}); ` +
      `kept ${result.referenced} referenced and ${result.recent} stored less than ${formatDuration(ARTIFACT_GC_GRACE_MS)} ago`,
  );
  return lines.join('\n');
}

/** Registers `artifacts ls`, `artifacts get` and `gc`. */
export function registerArtifactCommands(program: Command, write: (text: string) => void, storeOption: () => Option): void {
  const artifacts = program.command('artifacts').description("an experiment's artifacts: list them, download them");
  artifacts
    .command('ls')
    .description("list an experiment's artifacts: name, kind, step, size, sha256 (prefix), files")
    .argument('<experiment>', 'id or name')
    .option('-p, --project <name>', 'project of the name')
    .addOption(storeOption())
    .action(async (experiment: string, opts: ExperimentOptions) => {
      write(
        `${await withStore(opts.store, (store) => renderArtifactList(experimentOf(store, experiment, opts).listArtifacts(), experiment))}\n`,
      );
    });
  artifacts
    .command('get')
    .description('download an artifact (or, with no name, each at its highest step into DIR/<name>/), sha256 verified')
    .argument('<experiment>', 'id or name')
    .argument('[name]', 'the artifact')
    .option('--step <n>', 'the version at this step (default: the highest)')
    .option('--out <dir>', 'where to write (default: the current folder)')
    .option('-p, --project <name>', 'project of the name')
    .addOption(storeOption())
    .action(async (experiment: string, name: string | undefined, opts: ExperimentOptions & { step?: string; out?: string }) => {
      write(`${await withStore(opts.store, (store) => runArtifactsGet(store, experiment, name, opts))}\n`);
    });
  program
    .command('gc')
    .description(`remove artifact blobs no artifact references (not those stored in the last ${formatDuration(ARTIFACT_GC_GRACE_MS)})`)
    .option('--dry-run', 'list what would be removed, remove nothing')
    .addOption(storeOption())
    .action(async (opts: { dryRun?: boolean; store?: string }) => {
      write(`${await withStore(opts.store, (store) => runGc(store, opts))}\n`);
    });
}

// Export: writes experiments (one row each, or every metric point in long form) to CSV, Parquet, JSON or Arrow through nodejs-polars / apache-arrow.

import { loadPolars, type Polars } from '../media/polars.js';
import { metricGoal, type Goal } from '../model/metric-goal.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { DataFrame, DataType, Series } from 'nodejs-polars';
import { LablogError, describeValue } from '../model/errors.js';
import { driverCodeOf } from '../model/error-codes.js';
import type { Experiment } from './experiment.js';

/** What an export reads of an experiment: a local Experiment, or the same from a server's store. */
export type ExportableExperiment = Pick<
  Experiment,
  'id' | 'name' | 'project' | 'status' | 'createdAt' | 'endedAt' | 'description' | 'tags' | 'getParams' | 'listSeries' | 'getMetric'
>;
import { assertKnownOptions, assertOptionsObject, type ParamValue } from '../model/validation.js';
import { loadArrow } from '../media/table.js';

export const EXPORT_FORMATS = ['csv', 'parquet', 'json', 'arrow'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_INCLUDES = ['params', 'metrics', 'tags', 'metadata'] as const;
export type ExportInclude = (typeof EXPORT_INCLUDES)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** File to write (its parent folders are created). */
  path: string;
  /** Column groups of the wide form (default: all four). `id` and `name` are always written. Ignored with `series`. */
  include?: ExportInclude[];
  /** Long form of every metric series (experiment_id, experiment, metric, step, value, timestamp) instead of one row per experiment. */
  series?: boolean;
  /** Goal per metric for the "best" column (default: 'minimize' for names that look like a loss/error/time, else 'maximize'). */
  goals?: Record<string, 'minimize' | 'maximize'>;
}

export interface ExportResult {
  /** Absolute path of the written file. */
  path: string;
  format: ExportFormat;
  rows: number;
  columns: string[];
}

export interface ExportExtra {
  /** The study the experiments belong to: adds a `study` column (its name) under 'metadata'. */
  study?: { id: string; name: string };
  /** Study-membership tags per experiment id: adds a `member_tags` column under 'tags'. */
  memberTags?: Record<string, readonly string[]>;
}

const OPTION_KEYS = ['format', 'path', 'include', 'series', 'goals'] as const;

function invalid(option: string, message: string, actual?: unknown): LablogError {
  return new LablogError(
    'INVALID_OPTION',
    `export: ${message}`,
    actual === undefined ? { option } : { option, actual: describeValue(actual) },
  );
}

interface ResolvedOptions {
  format: ExportFormat;
  path: string;
  include: ReadonlySet<ExportInclude>;
  series: boolean;
  goals: Readonly<Record<string, Goal>>;
}

function resolveOptions(options: ExportOptions): ResolvedOptions {
  if (options === undefined || options === null) throw invalid('format', 'options { format, path } are required');
  assertOptionsObject('export', options);
  assertKnownOptions('export', options, OPTION_KEYS);
  const { format, path, include, series, goals } = options;
  if (!(EXPORT_FORMATS as readonly unknown[]).includes(format)) {
    throw invalid('format', `format must be one of ${EXPORT_FORMATS.join(', ')}, got ${describeValue(format)}`, format);
  }
  if (typeof path !== 'string' || path.trim() === '') {
    throw invalid('path', `path must be a non-empty string, got ${describeValue(path)}`, path);
  }
  let included: Set<ExportInclude>;
  if (include === undefined) included = new Set(EXPORT_INCLUDES);
  else {
    if (!Array.isArray(include))
      throw invalid('include', `include must be an array of ${EXPORT_INCLUDES.join(', ')}, got ${describeValue(include)}`, include);
    for (const item of include as unknown[]) {
      if (!(EXPORT_INCLUDES as readonly unknown[]).includes(item)) {
        throw invalid('include', `include: unknown column group ${describeValue(item)}; known: ${EXPORT_INCLUDES.join(', ')}`, item);
      }
    }
    included = new Set(include);
  }
  if (series !== undefined && typeof series !== 'boolean')
    throw invalid('series', `series must be a boolean, got ${describeValue(series)}`, series);
  if (goals !== undefined) {
    if (typeof goals !== 'object' || goals === null || Array.isArray(goals)) {
      throw invalid('goals', `goals must be an object of metric → 'minimize' | 'maximize', got ${describeValue(goals)}`, goals);
    }
    for (const [metric, goal] of Object.entries(goals)) {
      if (goal !== 'minimize' && goal !== 'maximize') {
        throw invalid('goals', `goals['${metric}'] must be 'minimize' or 'maximize', got ${describeValue(goal)}`, goal);
      }
    }
  }
  return { format, path: resolve(path), include: included, series: series ?? false, goals: goals ?? {} };
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A column and its dtype; values are built as plain arrays (or a Float64Array) and handed to polars once. */
interface Column {
  readonly name: string;
  readonly dtype: 'str' | 'f64' | 'i64' | 'bool';
  readonly values: ArrayLike<unknown>;
}

/** NaN → null, for formats that have no NaN (a typed array without NaN is kept as is). */
function nanToNull(values: ArrayLike<unknown>): ArrayLike<unknown> {
  const isNaN = (v: unknown) => typeof v === 'number' && Number.isNaN(v);
  if (ArrayBuffer.isView(values))
    return Array.prototype.some.call(values, isNaN) ? Array.from(values, (v) => (isNaN(v) ? null : v)) : values;
  return Array.from(values, (v) => (isNaN(v) ? null : v));
}

function toSeries(pl: Polars, column: Column, nanAsNull: boolean): Series {
  const dtype: DataType =
    column.dtype === 'str' ? pl.Utf8 : column.dtype === 'f64' ? pl.Float64 : column.dtype === 'i64' ? pl.Int64 : pl.Bool;
  const values = nanAsNull && column.dtype === 'f64' ? nanToNull(column.values) : column.values;
  // polars ignores the dtype for typed arrays, so cast when it differs.
  const series = pl.Series(column.name, values as unknown[], dtype);
  return series.dtype.equals(dtype) ? series : series.cast(dtype);
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

function paramType(value: ParamValue): 'number' | 'boolean' | 'string' | 'date' {
  if (value instanceof Date) return 'date';
  return typeof value as 'number' | 'boolean' | 'string';
}

function paramAsString(value: ParamValue): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

function wideColumns(experiments: readonly ExportableExperiment[], options: ResolvedOptions, extra: ExportExtra | undefined): Column[] {
  const n = experiments.length;
  const columns: Column[] = [
    { name: 'id', dtype: 'str', values: experiments.map((e) => e.id) },
    { name: 'name', dtype: 'str', values: experiments.map((e) => e.name) },
  ];

  if (options.include.has('metadata')) {
    columns.push(
      { name: 'project', dtype: 'str', values: experiments.map((e) => e.project) },
      { name: 'status', dtype: 'str', values: experiments.map((e) => e.status) },
      { name: 'created_at', dtype: 'str', values: experiments.map((e) => e.createdAt.toISOString()) },
    );
    const ended = experiments.map((e) => e.endedAt);
    columns.push(
      { name: 'ended_at', dtype: 'str', values: ended.map(iso) },
      {
        name: 'duration_s',
        dtype: 'f64',
        values: ended.map((end, i) => (end === null ? null : (end.getTime() - experiments[i]!.createdAt.getTime()) / 1000)),
      },
      { name: 'description', dtype: 'str', values: experiments.map((e) => e.description) },
    );
    if (extra?.study !== undefined) columns.push({ name: 'study', dtype: 'str', values: new Array<string>(n).fill(extra.study.name) });
  }

  if (options.include.has('tags')) {
    columns.push({ name: 'tags', dtype: 'str', values: experiments.map((e) => e.tags.join(', ')) });
    const memberTags = extra?.memberTags;
    if (memberTags !== undefined) {
      columns.push({
        name: 'member_tags',
        dtype: 'str',
        values: experiments.map((e) => (Object.hasOwn(memberTags, e.id) ? memberTags[e.id]!.join(', ') : null)),
      });
    }
  }

  if (options.include.has('params')) {
    // Per key: the values by experiment (missing → null) and the set of types seen.
    const params = new Map<string, { values: (ParamValue | null)[]; types: Set<string> }>();
    experiments.forEach((experiment, row) => {
      for (const [key, value] of Object.entries(experiment.getParams())) {
        let param = params.get(key);
        if (param === undefined) params.set(key, (param = { values: new Array<ParamValue | null>(n).fill(null), types: new Set() }));
        param.values[row] = value;
        param.types.add(paramType(value));
      }
    });
    for (const key of [...params.keys()].sort(byCodeUnit)) {
      const { values, types } = params.get(key)!;
      const name = `param.${key}`;
      const only = types.size === 1 ? [...types][0] : 'mixed';
      if (only === 'number') columns.push({ name, dtype: 'f64', values });
      else if (only === 'boolean') columns.push({ name, dtype: 'bool', values });
      else columns.push({ name, dtype: 'str', values: values.map((v) => (v === null ? null : paramAsString(v))) });
    }
  }

  if (options.include.has('metrics')) {
    const metrics = new Map<string, { final: (number | null)[]; best: (number | null)[]; count: (number | null)[] }>();
    experiments.forEach((experiment, row) => {
      for (const series of experiment.listSeries()) {
        if (series.kind !== 'metric') continue;
        let metric = metrics.get(series.name);
        if (metric === undefined) {
          const empty = () => new Array<number | null>(n).fill(null);
          metrics.set(series.name, (metric = { final: empty(), best: empty(), count: empty() }));
        }
        const goal = metricGoal(series.name, options.goals);
        metric.final[row] = series.lastValue;
        metric.best[row] = goal === 'minimize' ? series.minValue : series.maxValue;
        metric.count[row] = series.count;
      }
    });
    for (const name of [...metrics.keys()].sort(byCodeUnit)) {
      const metric = metrics.get(name)!;
      columns.push(
        { name: `metric.${name}.final`, dtype: 'f64', values: metric.final },
        { name: `metric.${name}.best`, dtype: 'f64', values: metric.best },
        { name: `metric.${name}.count`, dtype: 'i64', values: metric.count },
      );
    }
  }
  return columns;
}

function longColumns(experiments: readonly ExportableExperiment[]): Column[] {
  const parts: { experiment: ExportableExperiment; metric: string; steps: Float64Array; values: Float64Array; timestamps: Float64Array }[] =
    [];
  let total = 0;
  for (const experiment of experiments) {
    const names = experiment
      .listSeries()
      .filter((s) => s.kind === 'metric')
      .map((s) => s.name)
      .sort(byCodeUnit);
    for (const metric of names) {
      const data = experiment.getMetric(metric);
      parts.push({ experiment, metric, steps: data.steps, values: data.values, timestamps: data.timestamps });
      total += data.steps.length;
    }
  }
  const ids = new Array<string>(total);
  const names = new Array<string>(total);
  const metrics = new Array<string>(total);
  const steps = new Float64Array(total);
  const values = new Float64Array(total);
  const timestamps = new Float64Array(total);
  let at = 0;
  for (const part of parts) {
    const count = part.steps.length;
    ids.fill(part.experiment.id, at, at + count);
    names.fill(part.experiment.name, at, at + count);
    metrics.fill(part.metric, at, at + count);
    steps.set(part.steps, at);
    values.set(part.values, at);
    timestamps.set(part.timestamps, at);
    at += count;
  }
  return [
    { name: 'experiment_id', dtype: 'str', values: ids },
    { name: 'experiment', dtype: 'str', values: names },
    { name: 'metric', dtype: 'str', values: metrics },
    { name: 'step', dtype: 'i64', values: steps },
    { name: 'value', dtype: 'f64', values },
    { name: 'timestamp', dtype: 'f64', values: timestamps },
  ];
}

async function writeFrame(df: DataFrame, format: ExportFormat, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  switch (format) {
    case 'csv':
      df.writeCSV(path);
      return;
    case 'json':
      df.writeJSON(path, { format: 'json' }); // a JSON array of row objects
      return;
    case 'parquet':
      df.writeParquet(path, { compression: 'zstd' });
      return;
    case 'arrow': {
      // Polars' own IPC file writer uses string-view columns that apache-arrow (JS) cannot read; its
      // stream writer does not. apache-arrow re-encodes the stream as an Arrow IPC file.
      const arrow = await loadArrow();
      const table = arrow.tableFromIPC(df.writeIPCStream());
      await writeFile(path, arrow.tableToIPC(table, 'file'));
      return;
    }
  }
}

/**
 * Writes experiments to a file: one row per experiment with metadata, tags, params (`param.<key>`) and
 * per metric `metric.<name>.final|best|count`; or, with `series`, every metric point in long form.
 */
export async function exportExperiments(
  experiments: readonly ExportableExperiment[],
  options: ExportOptions,
  extra?: ExportExtra,
): Promise<ExportResult> {
  const resolved = resolveOptions(options);
  const pl = loadPolars();
  const columns = resolved.series ? longColumns(experiments) : wideColumns(experiments, resolved, extra);
  // NaN has no CSV/JSON spelling: those get null (polars' CSV writer would print "NaN").
  const nanAsNull = resolved.format === 'csv' || resolved.format === 'json';
  const df = pl.DataFrame(columns.map((column) => toSeries(pl, column, nanAsNull)));
  try {
    await writeFrame(df, resolved.format, resolved.path);
  } catch (cause) {
    throw new LablogError(
      'STORAGE_ERROR',
      `export: cannot write ${resolved.format} to ${resolved.path}: ${(cause as Error).message}`,
      { driver: 'filesystem', driverCode: driverCodeOf(cause), location: resolved.path },
      { cause },
    );
  }
  return { path: resolved.path, format: resolved.format, rows: df.height, columns: df.columns };
}

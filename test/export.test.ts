// Export: experiments to CSV, Parquet, JSON and Arrow, wide and long form, each read back and checked value by value.

import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LablogError } from '../src/model/errors.js';
import type { Experiment } from '../src/core/experiment.js';
import { EXPORT_FORMATS, exportExperiments, type ExportFormat, type ExportOptions } from '../src/core/study-export.js';
import { tempDir, tempStore } from './helpers.js';

const pl = createRequire(import.meta.url)('nodejs-polars') as typeof import('nodejs-polars');

const T0 = 1_700_000_000_000;
const START_A = new Date('2024-01-02T03:04:05.678Z');
const START_B = new Date('2025-06-07T08:09:10.000Z');

/** Three experiments: a completed one, a failed one with a NaN metric, a running one without metrics. */
async function logExperiments(): Promise<Experiment[]> {
  const { store } = tempStore();

  const a = store.createExperiment({ name: 'run-a', project: 'vision', description: 'first, "quoted"', tags: ['cnn', 'baseline'] });
  a.logParams({ lr: 0.01, batch: 32, use_bn: true, optimizer: 'adam', start: START_A, mixed: 5, warmup: 100 });
  [1.0, 0.5, 0.7].forEach((v, i) => a.logMetric('train/loss', v, { step: i, timestamp: T0 + i }));
  [0.2, 0.9, 0.8].forEach((v, i) => a.logMetric('accuracy', v, { step: i * 10, timestamp: T0 + 100 + i }));
  await a.close();

  const b = store.createExperiment({ name: 'run-b', project: 'vision' });
  b.logParams({ lr: 0.1, batch: 64, use_bn: false, optimizer: 'sgd', start: START_B, mixed: 'five' });
  b.logMetric('train/loss', 2, { step: 0, timestamp: T0 + 1000 });
  b.logMetric('train/loss', Number.NaN, { step: 1, timestamp: T0 + 1001 });
  b.logMetric('accuracy', 0.1, { step: 5, timestamp: T0 + 1002 });
  await b.close({ status: 'failed' });

  const c = store.createExperiment({ name: 'run-c', project: 'audio', tags: ['rnn'] });
  c.logParams({ lr: 0.001, batch: 16, use_bn: true, optimizer: 'adam', start: START_A, mixed: true });
  await c.flush();

  return [a.id, b.id, c.id].map((id) => store.getExperiment(id));
}

const WIDE_COLUMNS = [
  'id',
  'name',
  'project',
  'status',
  'created_at',
  'ended_at',
  'duration_s',
  'description',
  'tags',
  'param.batch',
  'param.lr',
  'param.mixed',
  'param.optimizer',
  'param.start',
  'param.use_bn',
  'param.warmup',
  'metric.accuracy.final',
  'metric.accuracy.best',
  'metric.accuracy.count',
  'metric.train/loss.final',
  'metric.train/loss.best',
  'metric.train/loss.count',
];

/** The expected wide rows, with NaN where the data has NaN. */
function expectedRows(experiments: Experiment[]): Record<string, unknown>[] {
  const [a, b, c] = experiments as [Experiment, Experiment, Experiment];
  const meta = (e: Experiment) => ({
    id: e.id,
    name: e.name,
    project: e.project,
    status: e.status,
    created_at: e.createdAt.toISOString(),
    ended_at: e.endedAt === null ? null : e.endedAt.toISOString(),
    duration_s: e.endedAt === null ? null : (e.endedAt.getTime() - e.createdAt.getTime()) / 1000,
  });
  return [
    {
      ...meta(a),
      description: 'first, "quoted"',
      tags: 'cnn, baseline',
      'param.batch': 32,
      'param.lr': 0.01,
      'param.mixed': '5',
      'param.optimizer': 'adam',
      'param.start': '2024-01-02T03:04:05.678Z',
      'param.use_bn': true,
      'param.warmup': 100,
      'metric.accuracy.final': 0.8,
      'metric.accuracy.best': 0.9,
      'metric.accuracy.count': 3,
      'metric.train/loss.final': 0.7,
      'metric.train/loss.best': 0.5,
      'metric.train/loss.count': 3,
    },
    {
      ...meta(b),
      description: null,
      tags: '',
      'param.batch': 64,
      'param.lr': 0.1,
      'param.mixed': 'five',
      'param.optimizer': 'sgd',
      'param.start': '2025-06-07T08:09:10.000Z',
      'param.use_bn': false,
      'param.warmup': null,
      'metric.accuracy.final': 0.1,
      'metric.accuracy.best': 0.1,
      'metric.accuracy.count': 1,
      'metric.train/loss.final': Number.NaN,
      'metric.train/loss.best': 2,
      'metric.train/loss.count': 2,
    },
    {
      ...meta(c),
      description: null,
      tags: 'rnn',
      'param.batch': 16,
      'param.lr': 0.001,
      'param.mixed': 'true',
      'param.optimizer': 'adam',
      'param.start': '2024-01-02T03:04:05.678Z',
      'param.use_bn': true,
      'param.warmup': null,
      'metric.accuracy.final': null,
      'metric.accuracy.best': null,
      'metric.accuracy.count': null,
      'metric.train/loss.final': null,
      'metric.train/loss.best': null,
      'metric.train/loss.count': null,
    },
  ];
}

/** NaN → null, as CSV and JSON hold it. */
function withoutNaN(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'number' && Number.isNaN(v) ? null : v])),
  );
}

function readBack(format: ExportFormat, path: string): { columns: string[]; rows: Record<string, unknown>[] } {
  const bytes = readFileSync(path);
  if (format === 'json') {
    const rows = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>[];
    return { columns: rows.length > 0 ? Object.keys(rows[0]!) : [], rows };
  }
  const df = format === 'csv' ? pl.readCSV(bytes) : format === 'parquet' ? pl.readParquet(bytes) : pl.readIPC(bytes);
  return { columns: df.columns, rows: df.toRecords() as Record<string, unknown>[] };
}

/** Column → polars dtype name ("Float64", "String", …). */
function dtypeNames(df: import('nodejs-polars').DataFrame): Record<string, string> {
  const schema = df.schema as Record<string, import('nodejs-polars').DataType>;
  return Object.fromEntries(Object.entries(schema).map(([name, dtype]) => [name, dtype.variant]));
}

describe('exportExperiments, wide form', () => {
  it.each(EXPORT_FORMATS)('writes one row per experiment to %s and reads back every value', async (format) => {
    const experiments = await logExperiments();
    const path = join(tempDir(), 'nested', 'deeper', `out.${format}`);
    const result = await exportExperiments(experiments, { format, path });
    expect(result).toEqual({ path, format, rows: 3, columns: WIDE_COLUMNS });
    expect(experiments.map((e) => e.status)).toEqual(['completed', 'failed', 'running']);

    const back = readBack(format, path);
    expect(back.columns).toEqual(WIDE_COLUMNS);
    const expected = expectedRows(experiments);
    if (format === 'csv' || format === 'json') expect(back.rows).toEqual(withoutNaN(expected));
    else {
      expect(back.rows).toEqual(expected);
      expect(Number.isNaN(back.rows[1]!['metric.train/loss.final'])).toBe(true);
    }
    if (format === 'csv') expect(readFileSync(path, 'utf8')).not.toContain('NaN');
  });

  it('keeps types in Parquet and Arrow: numbers, booleans, integer counts, strings for mixed params and dates', async () => {
    const experiments = await logExperiments();
    const dir = tempDir();
    for (const format of ['parquet', 'arrow'] as const) {
      const path = join(dir, `out.${format}`);
      await exportExperiments(experiments, { format, path });
      const bytes = readFileSync(path);
      const df = format === 'parquet' ? pl.readParquet(bytes) : pl.readIPC(bytes);
      expect(dtypeNames(df)).toMatchObject({
        duration_s: 'Float64',
        'param.batch': 'Float64',
        'param.lr': 'Float64',
        'param.use_bn': 'Bool',
        'param.mixed': 'String',
        'param.start': 'String',
        'param.warmup': 'Float64',
        'metric.accuracy.final': 'Float64',
        'metric.accuracy.count': 'Int64',
        created_at: 'String',
      });
    }
  });

  it('writes an Arrow IPC file that apache-arrow reads too', async () => {
    const experiments = await logExperiments();
    const path = join(tempDir(), 'out.arrow');
    await exportExperiments(experiments, { format: 'arrow', path });
    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('ARROW1');
    expect(bytes.subarray(bytes.length - 6).toString('latin1')).toBe('ARROW1');
    const arrow = await import('apache-arrow');
    const table = arrow.tableFromIPC(bytes);
    expect(table.numRows).toBe(3);
    expect(table.schema.fields.map((f) => f.name)).toEqual(WIDE_COLUMNS);
    const rows = table.toArray().map((row) => row.toJSON() as Record<string, unknown>);
    expect(rows.map((r) => r['name'])).toEqual(['run-a', 'run-b', 'run-c']);
    expect(rows.map((r) => r['param.lr'])).toEqual([0.01, 0.1, 0.001]);
    expect(rows.map((r) => r['param.use_bn'])).toEqual([true, false, true]);
    expect(rows.map((r) => r['metric.train/loss.count'])).toEqual([3n, 2n, null]);
    expect(rows.map((r) => r['metric.train/loss.final'])).toEqual([0.7, Number.NaN, null]);
  });

  it('writes only the included column groups, plus id and name', async () => {
    const experiments = await logExperiments();
    const dir = tempDir();
    const params = await exportExperiments(experiments, { format: 'json', path: join(dir, 'p.json'), include: ['params'] });
    expect(params.columns).toEqual(['id', 'name', ...WIDE_COLUMNS.filter((c) => c.startsWith('param.'))]);
    const rows = JSON.parse(readFileSync(join(dir, 'p.json'), 'utf8')) as Record<string, unknown>[];
    expect(rows[1]).toEqual({
      id: experiments[1]!.id,
      name: 'run-b',
      'param.batch': 64,
      'param.lr': 0.1,
      'param.mixed': 'five',
      'param.optimizer': 'sgd',
      'param.start': '2025-06-07T08:09:10.000Z',
      'param.use_bn': false,
      'param.warmup': null,
    });

    const tags = await exportExperiments(experiments, { format: 'csv', path: join(dir, 't.csv'), include: ['tags', 'metrics'] });
    expect(tags.columns).toEqual(['id', 'name', 'tags', ...WIDE_COLUMNS.filter((c) => c.startsWith('metric.'))]);

    const none = await exportExperiments(experiments, { format: 'csv', path: join(dir, 'n.csv'), include: [] });
    expect(none.columns).toEqual(['id', 'name']);
    expect(pl.readCSV(readFileSync(join(dir, 'n.csv'))).toRecords()).toEqual(experiments.map((e) => ({ id: e.id, name: e.name })));
  });

  it('takes the best value by goal: the default from the name, or the goals given', async () => {
    const experiments = await logExperiments();
    const dir = tempDir();
    await exportExperiments(experiments, {
      format: 'json',
      path: join(dir, 'g.json'),
      include: ['metrics'],
      goals: { accuracy: 'minimize', 'train/loss': 'maximize' },
    });
    const rows = JSON.parse(readFileSync(join(dir, 'g.json'), 'utf8')) as Record<string, unknown>[];
    expect(rows.map((r) => r['metric.accuracy.best'])).toEqual([0.2, 0.1, null]);
    // NaN is ignored for min and max.
    expect(rows.map((r) => r['metric.train/loss.best'])).toEqual([1.0, 2, null]);
    expect(rows.map((r) => r['metric.train/loss.final'])).toEqual([0.7, null, null]);
  });

  it('adds the study name and the study-membership tags when given', async () => {
    const experiments = await logExperiments();
    const path = join(tempDir(), 's.csv');
    const result = await exportExperiments(
      experiments,
      { format: 'csv', path, include: ['metadata', 'tags'] },
      {
        study: { id: 'study-1', name: 'lr sweep' },
        memberTags: { [experiments[0]!.id]: ['winner', 'seed-1'], [experiments[1]!.id]: [] },
      },
    );
    expect(result.columns).toEqual([...WIDE_COLUMNS.slice(0, 8), 'study', 'tags', 'member_tags']);
    const rows = pl.readCSV(readFileSync(path)).toRecords() as Record<string, unknown>[];
    expect(rows.map((r) => r['study'])).toEqual(['lr sweep', 'lr sweep', 'lr sweep']);
    expect(rows.map((r) => r['member_tags'])).toEqual(['winner, seed-1', '', null]);
    expect(rows.map((r) => r['tags'])).toEqual(['cnn, baseline', '', 'rnn']);
  });
});

describe('exportExperiments, long form (series)', () => {
  const LONG_COLUMNS = ['experiment_id', 'experiment', 'metric', 'step', 'value', 'timestamp'];

  function expectedPoints(experiments: Experiment[]): Record<string, unknown>[] {
    const [a, b] = experiments as [Experiment, Experiment];
    const point = (e: Experiment, metric: string, step: number, value: number, timestamp: number) => ({
      experiment_id: e.id,
      experiment: e.name,
      metric,
      step,
      value,
      timestamp,
    });
    return [
      point(a, 'accuracy', 0, 0.2, T0 + 100),
      point(a, 'accuracy', 10, 0.9, T0 + 101),
      point(a, 'accuracy', 20, 0.8, T0 + 102),
      point(a, 'train/loss', 0, 1.0, T0),
      point(a, 'train/loss', 1, 0.5, T0 + 1),
      point(a, 'train/loss', 2, 0.7, T0 + 2),
      point(b, 'accuracy', 5, 0.1, T0 + 1002),
      point(b, 'train/loss', 0, 2, T0 + 1000),
      point(b, 'train/loss', 1, Number.NaN, T0 + 1001),
    ];
  }

  it.each(EXPORT_FORMATS)('writes every point of every metric series to %s', async (format) => {
    const experiments = await logExperiments();
    const path = join(tempDir(), `series.${format}`);
    const result = await exportExperiments(experiments, { format, path, series: true });
    expect(result).toEqual({ path, format, rows: 9, columns: LONG_COLUMNS });
    const back = readBack(format, path);
    expect(back.columns).toEqual(LONG_COLUMNS);
    const expected = expectedPoints(experiments);
    expect(back.rows).toEqual(format === 'csv' || format === 'json' ? withoutNaN(expected) : expected);
    expect(back.rows.filter((r) => r['experiment'] === 'run-a')).toHaveLength(6);
    expect(back.rows.filter((r) => r['metric'] === 'train/loss')).toHaveLength(5);
  });

  it('types step as an integer and value and timestamp as floats', async () => {
    const experiments = await logExperiments();
    const path = join(tempDir(), 'series.parquet');
    await exportExperiments(experiments, { format: 'parquet', path, series: true });
    const df = pl.readParquet(readFileSync(path));
    expect(dtypeNames(df)).toEqual({
      experiment_id: 'String',
      experiment: 'String',
      metric: 'String',
      step: 'Int64',
      value: 'Float64',
      timestamp: 'Float64',
    });
  });
});

describe('exportExperiments with no experiments', () => {
  it.each(EXPORT_FORMATS)('writes the header or schema and no rows to %s', async (format) => {
    const dir = tempDir();
    const wide = await exportExperiments([], { format, path: join(dir, `wide.${format}`) });
    const metaColumns = ['id', 'name', 'project', 'status', 'created_at', 'ended_at', 'duration_s', 'description', 'tags'];
    expect(wide).toMatchObject({ rows: 0, columns: metaColumns });
    const long = await exportExperiments([], { format, path: join(dir, `long.${format}`), series: true });
    expect(long).toMatchObject({ rows: 0, columns: ['experiment_id', 'experiment', 'metric', 'step', 'value', 'timestamp'] });

    for (const [file, columns] of [
      [`wide.${format}`, metaColumns],
      [`long.${format}`, long.columns],
    ] as const) {
      const bytes = readFileSync(join(dir, file));
      if (format === 'json') expect(JSON.parse(bytes.toString('utf8'))).toEqual([]);
      else if (format === 'csv') expect(bytes.toString('utf8')).toBe(`${columns.join(',')}\n`);
      else {
        const df = format === 'parquet' ? pl.readParquet(bytes) : pl.readIPC(bytes);
        expect(df.height).toBe(0);
        expect(df.columns).toEqual(columns);
      }
    }
  });
});

describe('exportExperiments option errors', () => {
  async function invalidOption(options: unknown): Promise<LablogError<'INVALID_OPTION'>> {
    const error = await exportExperiments([], options as ExportOptions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LablogError);
    expect((error as LablogError).code).toBe('INVALID_OPTION');
    return error as LablogError<'INVALID_OPTION'>;
  }

  it('rejects an unknown format, an unknown include, an empty path and unknown options, writing nothing', async () => {
    const dir = tempDir();
    const path = join(dir, 'out.file');
    expect((await invalidOption({ format: 'xlsx', path })).details.option).toBe('format');
    expect((await invalidOption({ path })).details.option).toBe('format');
    expect((await invalidOption({ format: 'csv', path, include: ['params', 'images'] })).details.option).toBe('include');
    expect((await invalidOption({ format: 'csv', path, include: 'params' })).details.option).toBe('include');
    expect((await invalidOption({ format: 'csv', path: '' })).details.option).toBe('path');
    expect((await invalidOption({ format: 'csv', path: '   ' })).details.option).toBe('path');
    expect((await invalidOption({ format: 'csv' })).details.option).toBe('path');
    expect((await invalidOption({ format: 'csv', path, series: 'yes' })).details.option).toBe('series');
    expect((await invalidOption({ format: 'csv', path, goals: { loss: 'min' } })).details.option).toBe('goals');
    expect((await invalidOption({ format: 'csv', path, out: 'x' })).details.option).toBe('out');
    expect((await invalidOption(undefined)).details.option).toBe('format');
    expect(existsSync(path)).toBe(false);
  });
});

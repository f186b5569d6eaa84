// UI routes: what the web UI reads in one request each — projects, the experiments table, an experiment page, downsampled series.

import { toJsonNumberOrNull, type JsonNumber } from '../model/json-number.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LablogError } from '../model/errors.js';
import { isCrashed } from '../core/liveness.js';
import type { ExperimentSummary, RemoteExperimentRecord, ServerBackend } from '../store/server-backend.js';
import {
  MAX_SERIES_EXPERIMENTS,
  MAX_SERIES_POINTS,
  MAX_TABLE_ROWS,
  type ExperimentPage,
  type ExperimentRow,
  type ExperimentTable,
  type MetricSummary,
  type Overview,
  type SeriesAnswer,
  type UiMode,
  type XAxis,
} from '../ui/ui-api.js';
import { alignChunks, type SeriesChunks, type SeriesColumns } from './downsample.js';
import { nonFinitePoints } from './non-finite-points.js';
import { paramsView, seriesView } from './json-views.js';
import { one, type Query } from './query-params.js';
import { MAX_SERIES_LISTED, MAX_TABLES_LISTED, visibleExperiment } from './read-routes.js';

const X_AXES: readonly XAxis[] = ['step', 'time', 'relative'];
const DEFAULT_SERIES_POINTS = 1_000;
/** Most stored points one series request reads across its experiments (200 experiments × the default maxMetricValues). */
export const MAX_SERIES_READ_POINTS = 20_000_000;
/** Experiments whose summaries the experiments table reads at once (other requests run between two reads). */
export const UI_SUMMARY_BATCH = 100;
/** Most series of one experiment a line of the experiments table summarises (by name). */
export const MAX_ROW_SERIES = 1_000;
/** Most bytes of params and series summaries (estimated) one experiments table holds; older rows are left out (`truncated`). */
export const MAX_UI_TABLE_SUMMARY_BYTES = 16 * 1024 * 1024;

/** Longest a UI read keeps the event loop before it lets other requests run (SQLite reads are synchronous). */
export const UI_READ_SLICE_MS = 20;

/** A yield that lets other requests run once UI_READ_SLICE_MS has passed since the last one (a yield per
 * experiment cost the compare view tens of milliseconds on 100 series reads). */
function timeSlicer(): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < UI_READ_SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}

/** About how many bytes of JSON an experiment's summary adds to a table answer. */
function summaryBytes(summary: ExperimentSummary | undefined): number {
  if (summary === undefined) return 0;
  let bytes = 0;
  for (const p of summary.params) bytes += p.key.length + String(p.value).length + 16;
  for (const s of summary.series) bytes += s.name.length + 96;
  return bytes;
}

/** A table row: the record with the displayed status, its params, metric summaries and media counts. */
export function experimentRow(record: RemoteExperimentRecord, summary: ExperimentSummary | undefined, now: number): ExperimentRow {
  const status = isCrashed(record, now) ? 'crashed' : record.status;
  const end = record.endedAt ?? (status === 'running' ? now : record.heartbeatAt);
  // Prototype-free, so a series named __proto__ (stored before names refused it) is a key like any other.
  const metrics = Object.create(null) as Record<string, MetricSummary>;
  const media = Object.create(null) as Record<string, { kind: 'image' | 'plot'; count: number }>;
  for (const s of summary?.series ?? []) {
    if (s.kind === 'metric') {
      metrics[s.name] = {
        count: s.count,
        lastStep: s.lastStep,
        last: toJsonNumberOrNull(s.lastValue),
        min: toJsonNumberOrNull(s.minValue),
        max: toJsonNumberOrNull(s.maxValue),
      };
    } else {
      media[s.name] = { kind: s.kind, count: s.count };
    }
  }
  return {
    id: record.id,
    project: record.project,
    name: record.name,
    description: record.description,
    status,
    tags: record.tags,
    createdAt: record.createdAt,
    endedAt: record.endedAt,
    heartbeatAt: record.heartbeatAt,
    durationMs: end === null ? null : Math.max(0, end - record.createdAt),
    hostname: record.hostname,
    studyId: summary?.studyId ?? null,
    params: paramsView(summary?.params ?? []) as ExperimentRow['params'],
    metrics,
    media,
    progress: record.progress,
  };
}

/** Rounds a series' values to about 6 significant digits of its span (max − min), in place. */
function roundToSpan(values: (number | null)[]): void {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v === null) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  if (!(span > 0) || !Number.isFinite(span)) return;
  const digits = Math.min(17, 6 + Math.max(0, Math.ceil(Math.log10(Math.max(Math.abs(min), Math.abs(max)) / span))));
  for (let i = 0; i < values.length; i++) if (values[i] !== null) values[i] = significant(values[i]!, digits);
}

/** v rounded to `digits` significant digits. */
export function significant(v: number, digits: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(v))));
  return Number.isFinite(scale) && scale !== 0 ? Math.round(v * scale) / scale : v;
}

function number(query: Query, field: string): number | undefined {
  const text = one(query, field);
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new LablogError('INVALID_OPTION', `${field} must be a number, got '${text}'`, { field, actual: text });
  return n;
}

/**
 * The points in x order. Steps always ascend; timestamps usually do, but a clock set back or a timestamp given
 * by hand can break the order, and the downsampler reads a sorted x (points of equal x keep their order).
 */
function ascending(chunks: readonly { xs: Float64Array; values: Float64Array }[]): SeriesChunks {
  let sorted = true;
  let previous = -Infinity;
  for (const { xs } of chunks) {
    for (let i = 0; i < xs.length && sorted; i++) {
      sorted = xs[i]! >= previous;
      previous = xs[i]!;
    }
  }
  if (sorted) return chunks;
  const xs = Float64Array.from(chunks.flatMap((c) => Array.from(c.xs)));
  const values = Float64Array.from(chunks.flatMap((c) => Array.from(c.values)));
  const order = Array.from({ length: xs.length }, (_, i) => i).sort((a, b) => xs[a]! - xs[b]! || a - b);
  return [{ xs: Float64Array.from(order, (i) => xs[i]!), values: Float64Array.from(order, (i) => values[i]!) } satisfies SeriesColumns];
}

/** Timestamps (ms) as seconds: since the epoch ('time'), or since the experiment started ('relative'). */
function seconds(axis: 'time' | 'relative', column: Float64Array, createdAt: number): Float64Array {
  const origin = axis === 'time' ? 0 : createdAt;
  for (let i = 0; i < column.length; i++) column[i] = (column[i]! - origin) / 1000;
  return column;
}

export interface UiRouteOptions {
  readonly mode: UiMode;
  /** Projects the request may read (its API key's, or every project of a local store). */
  readonly scope: (request: FastifyRequest) => readonly string[];
}

export function registerUiRoutes(app: FastifyInstance, backend: ServerBackend, options: UiRouteOptions): void {
  app.get('/api/v1/ui/overview', async (request): Promise<Overview> => {
    const projects = await backend.listProjects(options.scope(request));
    // A team server's database location is not every key holder's business; a local store's path is the user's own.
    return { mode: options.mode, store: options.mode === 'local' ? backend.location : '', projects };
  });

  /** The table of these records: rows, and the param and metric names over them. */
  async function table(project: string | null, all: readonly RemoteExperimentRecord[], total: number): Promise<ExperimentTable> {
    // Summaries a batch at a time, within MAX_UI_TABLE_SUMMARY_BYTES: the rows past the budget are left out.
    const summaries = new Map<string, ExperimentSummary>();
    let records = all;
    let bytes = 0;
    const yieldToOthers = timeSlicer();
    for (let start = 0; start < all.length; start += UI_SUMMARY_BATCH) {
      if (start > 0) await yieldToOthers();
      const batch = all.slice(start, start + UI_SUMMARY_BATCH);
      const read = await backend.readSummaries(
        batch.map((r) => r.id),
        MAX_ROW_SERIES,
      );
      let kept = 0;
      for (const record of batch) {
        const summary = read.get(record.id);
        bytes += summaryBytes(summary) + record.name.length + (record.description?.length ?? 0) + 256;
        if (bytes > MAX_UI_TABLE_SUMMARY_BYTES && start + kept > 0) break;
        if (summary !== undefined) summaries.set(record.id, summary);
        kept++;
      }
      if (kept < batch.length) {
        records = all.slice(0, start + kept);
        break;
      }
    }
    const now = Date.now();
    const experiments = records.map((record) => experimentRow(record, summaries.get(record.id), now));
    const paramKeys = new Set<string>();
    const metricKeys = new Set<string>();
    for (const row of experiments) {
      for (const key of Object.keys(row.params)) paramKeys.add(key);
      for (const key of Object.keys(row.metrics)) metricKeys.add(key);
    }
    return {
      project,
      total,
      truncated: total > experiments.length,
      experiments,
      paramKeys: [...paramKeys].sort(),
      metricKeys: [...metricKeys].sort(),
    };
  }

  app.get('/api/v1/ui/experiments', async (request): Promise<ExperimentTable> => {
    const query = request.query as Query;
    const scope = options.scope(request);
    const idList = one(query, 'ids');
    if (idList !== undefined) {
      const ids = [...new Set(idList.split(',').filter((id) => id.length > 0))];
      if (ids.length > MAX_SERIES_EXPERIMENTS) {
        throw new LablogError('INVALID_OPTION', `at most ${MAX_SERIES_EXPERIMENTS} ids, got ${ids.length}`, {
          field: 'ids',
          limit: MAX_SERIES_EXPERIMENTS,
          actual: ids.length,
        });
      }
      const found = await Promise.all(ids.map((id) => backend.getExperiment(id)));
      const records = found.filter((r): r is RemoteExperimentRecord => r !== undefined && scope.includes(r.project));
      return table(null, records, records.length);
    }
    const project = one(query, 'project');
    if (project === undefined || project === '')
      throw new LablogError('INVALID_OPTION', "query parameter 'project' (or 'ids') is required", { field: 'project' });
    if (!scope.includes(project)) {
      if (options.mode === 'local') return { project, total: 0, truncated: false, experiments: [], paramKeys: [], metricKeys: [] };
      throw new LablogError('FORBIDDEN', `this API key cannot read project '${project}'`, { project });
    }
    const [records, total] = await Promise.all([
      backend.listExperiments({ project, projects: scope, limit: MAX_TABLE_ROWS, sort: 'created_at', order: 'desc' }),
      backend.countExperiments({ project, projects: scope }),
    ]);
    return table(project, records, total);
  });

  app.get<{ Params: { id: string } }>('/api/v1/ui/experiments/:id', async (request): Promise<ExperimentPage> => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const [summaries, tables, datasets, run] = await Promise.all([
      backend.readSummaries([record.id], MAX_SERIES_LISTED + 1),
      backend.listTables(record.id, MAX_TABLES_LISTED + 1),
      backend.readDatasets(record.id),
      backend.runs?.().getRun(record.id),
    ]);
    const full = summaries.get(record.id);
    const summary = full === undefined ? undefined : { ...full, series: full.series.slice(0, MAX_SERIES_LISTED) };
    const study = summary?.studyId ? await backend.studies().getStudy(summary.studyId) : undefined;
    return {
      experiment: experimentRow(record, summary, Date.now()),
      series: (summary?.series ?? []).map(seriesView),
      tables: tables.slice(0, MAX_TABLES_LISTED),
      ...((full?.series.length ?? 0) > MAX_SERIES_LISTED ? { seriesTruncated: true } : {}),
      ...(tables.length > MAX_TABLES_LISTED ? { tablesTruncated: true } : {}),
      study: study === undefined ? null : { id: study.id, name: study.name },
      datasets,
      isRun: run !== undefined,
    };
  });

  app.get('/api/v1/ui/series', async (request): Promise<SeriesAnswer> => {
    const query = request.query as Query;
    const key = one(query, 'key');
    if (key === undefined || key === '') throw new LablogError('INVALID_OPTION', "query parameter 'key' is required", { field: 'key' });
    const ids = [...new Set((one(query, 'experiments') ?? '').split(',').filter((id) => id.length > 0))];
    if (ids.length === 0)
      throw new LablogError('INVALID_OPTION', "query parameter 'experiments' needs at least one id", { field: 'experiments' });
    if (ids.length > MAX_SERIES_EXPERIMENTS) {
      throw new LablogError('INVALID_OPTION', `at most ${MAX_SERIES_EXPERIMENTS} experiments per request, got ${ids.length}`, {
        field: 'experiments',
        limit: MAX_SERIES_EXPERIMENTS,
        actual: ids.length,
      });
    }
    const x = (one(query, 'x') ?? 'step') as XAxis;
    if (!X_AXES.includes(x)) throw new LablogError('INVALID_OPTION', `x must be one of ${X_AXES.join(', ')}, got '${x}'`, { field: 'x' });
    const points = number(query, 'points') ?? DEFAULT_SERIES_POINTS;
    if (!Number.isSafeInteger(points) || points < 2 || points > MAX_SERIES_POINTS) {
      throw new LablogError('INVALID_OPTION', `points must be an integer from 2 to ${MAX_SERIES_POINTS}, got '${points}'`, {
        field: 'points',
        limit: MAX_SERIES_POINTS,
      });
    }
    const from = number(query, 'from');
    const to = number(query, 'to');
    if ((from === undefined) !== (to === undefined) || (from !== undefined && to !== undefined && from > to)) {
      throw new LablogError('INVALID_OPTION', 'from and to go together, with from <= to', { field: 'from' });
    }
    const records = await Promise.all(ids.map((id) => visibleExperiment(backend, request, id)));
    const summaries = await backend.readSummaries(records.map((r) => r.id));
    let stored = 0;
    for (const record of records) stored += summaries.get(record.id)?.series.find((s) => s.kind === 'metric' && s.name === key)?.count ?? 0;
    if (stored > MAX_SERIES_READ_POINTS) {
      throw new LablogError(
        'LIMIT_EXCEEDED',
        `these series hold ${stored} points; one series request reads at most ${MAX_SERIES_READ_POINTS} (MAX_SERIES_READ_POINTS): ask fewer experiments`,
        { field: 'experiments', limit: MAX_SERIES_READ_POINTS, actual: stored },
      );
    }
    const columns: SeriesChunks[] = [];
    const totals: number[] = [];
    const lasts: ({ x: number; value: JsonNumber | null } | null)[] = [];
    const range = from !== undefined && to !== undefined ? { from, to } : undefined;
    const yieldToOthers = timeSlicer();
    for (const [n, record] of records.entries()) {
      if (n > 0) await yieldToOthers();
      const info = summaries.get(record.id)?.series.find((s) => s.kind === 'metric' && s.name === key);
      // Only the x column and the values; on the step axis, only the chunks that overlap the range.
      const data =
        info === undefined
          ? undefined
          : await backend.readMetricXs(record.id, key, x === 'step' ? 'steps' : 'timestamps', x === 'step' ? range : undefined);
      // Steps ascend by the store's rule; timestamps (always decoded: only steps stay even columns) are
      // turned into seconds, and sorted when a clock went backwards.
      columns.push(
        x === 'step'
          ? (data ?? [])
          : ascending((data ?? []).map((chunk) => ({ xs: seconds(x, chunk.xs as Float64Array, record.createdAt), values: chunk.values }))),
      );
      totals.push(info?.count ?? 0);
      const lastX =
        info === undefined
          ? null
          : x === 'step'
            ? info.lastStep
            : info.lastTimestamp === null
              ? null
              : seconds(x, Float64Array.of(info.lastTimestamp), record.createdAt)[0]!;
      lasts.push(info === undefined || lastX === null ? null : { x: lastX, value: toJsonNumberOrNull(info.lastValue) });
    }
    const aligned = alignChunks(columns, points, range);
    // A bucket's min or max is drawn, not read: rounded to a millionth of the series' own span, which halves
    // the answer and moves no pixel (however small the span is next to the values).
    if (!aligned.exact) for (const values of aligned.values) roundToSpan(values);
    return {
      key,
      x,
      exact: aligned.exact,
      xs: aligned.xs,
      series: records.map((record, i) => ({
        experimentId: record.id,
        values: aligned.values[i]!,
        points: aligned.points[i]!,
        total: totals[i]!,
        last: lasts[i]!,
        nonFinite: nonFinitePoints(columns[i]!, aligned.range),
      })),
      range: aligned.range,
    };
  });
}

// Read routes: experiments, their metrics, images, plots and tables, within the API key's projects.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LablogError } from '../model/errors.js';
import { EXPERIMENT_SORT_FIELDS, EXPERIMENT_STATUSES } from '../model/experiment.js';
import type { ApiKeyRecord, RemoteExperimentRecord, ServerBackend } from '../store/server-backend.js';
import { datasetView, experimentView, metricView, paramsView, seriesView } from './json-views.js';
import { checkTableArrays, loadArrow } from '../media/table.js';
import { DEFAULT_LIMITS, type Limits } from '../model/limits.js';
import { ORDERS, many, one, projectInScope, valueIn, valuesIn, type Query } from './query-params.js';
import {
  DEFAULT_TABLE_PAGE_COLUMNS,
  DEFAULT_TABLE_PAGE_ROWS,
  MAX_TABLE_PAGE_COLUMNS,
  MAX_TABLE_PAGE_ROWS,
  tablePage,
} from './table-page.js';

export const MAX_PAGE = 1_000;
export const DEFAULT_PAGE = 50;
/** Points of a metric answer when the request names no `limit`: a whole series under the default maxMetricValues. */
export const DEFAULT_METRIC_PAGE_POINTS = 100_000;
/** Most points one metric answer holds (a longer series is read page by page, following `next`). */
export const MAX_METRIC_PAGE_POINTS = 100_000;
/** Images of an image list when the request names no `limit`. */
export const DEFAULT_IMAGE_PAGE = 1_000;
/** Most images one image list holds. */
export const MAX_IMAGE_PAGE = 10_000;
/** Plot points (with their figures) of a plots answer when the request names no `limit`. */
export const DEFAULT_PLOT_PAGE = 100;
/** Most plot points one plots answer holds with their figures. */
export const MAX_PLOT_PAGE = 1_000;
/** Most plot points one plots answer holds without their figures (`figures=false`). */
export const MAX_PLOT_INDEX_PAGE = 10_000;
/** Most bytes of figures one plots answer holds; the page ends before the figure that would cross it (the first is always sent). */
export const MAX_PLOT_PAGE_BYTES = 32 * 1024 * 1024;
/** Most series an experiment's answer lists (by name; `seriesTruncated` says when there are more). */
export const MAX_SERIES_LISTED = 10_000;
/** Most tables an experiment's answer lists (by name; `tablesTruncated` says when there are more). */
export const MAX_TABLES_LISTED = 1_000;

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyRecord;
  }
}

function integer(query: Query, field: string, fallback: number, max: number, min = 0): number {
  const text = one(query, field);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new LablogError('INVALID_OPTION', `${field} must be an integer from ${min} to ${max}, got '${text.slice(0, 40)}'`, {
      field,
      limit: max,
      actual: text.slice(0, 40),
    });
  }
  return n;
}

/** The `fromStep` of a paged series read: a finite number (every step when absent). */
function fromStep(query: Query): number {
  const text = one(query, 'fromStep');
  if (text === undefined) return -Infinity;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) {
    throw new LablogError('INVALID_OPTION', `fromStep must be a number, got '${text.slice(0, 40)}'`, {
      field: 'fromStep',
      actual: text.slice(0, 40),
    });
  }
  return n;
}

function required(query: Query, field: string): string {
  const value = one(query, field);
  if (value === undefined || value.length === 0)
    throw new LablogError('INVALID_OPTION', `query parameter '${field}' is required`, { field });
  return value;
}

/** The experiment, if the key may see it; another project's experiment is not found (its existence is not disclosed). */
export async function visibleExperiment(backend: ServerBackend, request: FastifyRequest, id: string): Promise<RemoteExperimentRecord> {
  const record = await backend.getExperiment(id);
  if (record === undefined || !request.apiKey.projects.includes(record.project)) {
    throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id '${id}'`, { id });
  }
  return record;
}

export function registerReadRoutes(app: FastifyInstance, backend: ServerBackend, limits: Limits = DEFAULT_LIMITS): void {
  app.get('/api/v1/experiments', async (request) => {
    const query = request.query as Query;
    const scope = request.apiKey.projects;
    const project = projectInScope(query, scope);
    const status = valuesIn(query, 'status', EXPERIMENT_STATUSES);
    const sort = valueIn(query, 'sort', EXPERIMENT_SORT_FIELDS) ?? 'created_at';
    const order = valueIn(query, 'order', ORDERS) ?? 'desc';
    const filter = {
      ...(project !== undefined ? { project } : {}),
      projects: scope,
      status,
      tags: many(query, 'tags'),
    };
    const limit = integer(query, 'limit', DEFAULT_PAGE, MAX_PAGE);
    const offset = integer(query, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const [records, total] = await Promise.all([
      backend.listExperiments({ ...filter, limit, offset, sort, order }),
      backend.countExperiments(filter),
    ]);
    return { experiments: records.map(experimentView), total, limit, offset };
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const [params, series, tables, datasets] = await Promise.all([
      backend.readParams(record.id),
      backend.readSeries(record.id, MAX_SERIES_LISTED + 1),
      backend.listTables(record.id, MAX_TABLES_LISTED + 1),
      backend.readDatasets(record.id),
    ]);
    return {
      ...experimentView(record),
      params: paramsView(params),
      datasets: datasets.map(datasetView),
      series: series.slice(0, MAX_SERIES_LISTED).map(seriesView),
      tables: tables.slice(0, MAX_TABLES_LISTED),
      ...(series.length > MAX_SERIES_LISTED ? { seriesTruncated: true } : {}),
      ...(tables.length > MAX_TABLES_LISTED ? { tablesTruncated: true } : {}),
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/metrics', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const query = request.query as Query;
    const key = required(query, 'key');
    const limit = integer(query, 'limit', DEFAULT_METRIC_PAGE_POINTS, MAX_METRIC_PAGE_POINTS, 1);
    const page = await backend.readMetricPage(record.id, key, fromStep(query), limit);
    if (page === undefined) throw new LablogError('SERIES_NOT_FOUND', `experiment has no metric series '${key}'`, { key });
    // `next` (the step to ask from) only when points follow: the last page has the shape of a whole series.
    return { ...metricView(key, page), ...(page.next !== null ? { next: page.next } : {}) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/images', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const query = request.query as Query;
    const key = required(query, 'key');
    const limit = integer(query, 'limit', DEFAULT_IMAGE_PAGE, MAX_IMAGE_PAGE, 1);
    const images = await backend.listImages(record.id, key, { fromStep: fromStep(query), limit: limit + 1 });
    const base = `/api/v1/experiments/${record.id}/images`;
    return {
      key,
      images: images.slice(0, limit).map((image) => ({ ...image, url: `${base}/${image.step}?key=${encodeURIComponent(key)}` })),
      ...(images.length > limit ? { next: images[limit]!.step } : {}),
    };
  });

  app.get<{ Params: { id: string; step: string } }>('/api/v1/experiments/:id/images/:step', async (request, reply) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const key = required(request.query as Query, 'key');
    const step = Number(request.params.step);
    const png = Number.isSafeInteger(step) ? await backend.readImage(record.id, key, step) : undefined;
    if (png === undefined) throw new LablogError('SERIES_NOT_FOUND', `no image at step ${request.params.step} of '${key}'`, { key });
    return reply.type('image/png').header('cache-control', 'private, max-age=31536000, immutable').send(png);
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/plots', async (request, reply) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const query = request.query as Query;
    const key = required(query, 'key');
    const figures = one(query, 'figures') ?? 'true';
    if (figures !== 'true' && figures !== 'false')
      throw new LablogError('INVALID_OPTION', `figures must be true or false, got '${figures.slice(0, 40)}'`, { field: 'figures' });
    const limit =
      figures === 'true'
        ? integer(query, 'limit', DEFAULT_PLOT_PAGE, MAX_PLOT_PAGE, 1)
        : integer(query, 'limit', MAX_PLOT_INDEX_PAGE, MAX_PLOT_INDEX_PAGE, 1);
    const metas = await backend.listPlots(record.id, key, fromStep(query), limit + 1);
    let count = Math.min(limit, metas.length);
    if (figures === 'false') {
      return { key, plots: metas.slice(0, count), ...(metas.length > count ? { next: metas[count]!.step } : {}) };
    }
    // Figures are spliced in as stored (validated JSON at ingest): never parsed again, and at most MAX_PLOT_PAGE_BYTES of them.
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      if (i > 0 && bytes + metas[i]!.bytes > MAX_PLOT_PAGE_BYTES) {
        count = i;
        break;
      }
      bytes += metas[i]!.bytes;
    }
    const texts = count === 0 ? [] : await backend.readPlotFigures(record.id, key, metas[0]!.step, metas[count - 1]!.step);
    const byStep = new Map(texts.map((t) => [t.step, t.figure]));
    const plots = metas
      .slice(0, count)
      .filter((m) => byStep.has(m.step))
      .map(
        (m) =>
          `${JSON.stringify({ step: m.step, timestamp: m.timestamp, caption: m.caption }).slice(0, -1)},"figure":${byStep.get(m.step)!}}`,
      );
    const next = metas.length > count ? `,"next":${JSON.stringify(metas[count]!.step)}` : '';
    return reply.type('application/json').send(`{"key":${JSON.stringify(key)},"plots":[${plots.join(',')}]${next}}`);
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/tables', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const tables = await backend.listTables(record.id, MAX_TABLES_LISTED + 1);
    return { tables: tables.slice(0, MAX_TABLES_LISTED), ...(tables.length > MAX_TABLES_LISTED ? { truncated: true } : {}) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/tables/data', async (request, reply) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const query = request.query as Query;
    const name = required(query, 'name');
    const format = one(query, 'format') ?? 'arrow';
    if (format !== 'arrow' && format !== 'json')
      throw new LablogError('INVALID_OPTION', `format must be arrow or json, got '${format}'`, { field: 'format' });
    const ipc = (await backend.readTable(record.id, name))?.ipc;
    if (ipc === undefined) throw new LablogError('SERIES_NOT_FOUND', `experiment has no table '${name}'`, { key: name });
    if (format === 'arrow') return reply.type('application/vnd.apache.arrow.stream').send(ipc);
    const order = one(query, 'order') ?? 'asc';
    if (order !== 'asc' && order !== 'desc')
      throw new LablogError('INVALID_OPTION', `order must be asc or desc, got '${order.slice(0, 40)}'`, { field: 'order' });
    const named = query['column'] === undefined ? [] : Array.isArray(query['column']) ? query['column'] : [query['column']];
    if (named.length > MAX_TABLE_PAGE_COLUMNS) {
      throw new LablogError(
        'INVALID_OPTION',
        `at most ${MAX_TABLE_PAGE_COLUMNS} columns per page (MAX_TABLE_PAGE_COLUMNS), got ${named.length}`,
        {
          field: 'column',
          limit: MAX_TABLE_PAGE_COLUMNS,
          actual: named.length,
        },
      );
    }
    const offset = integer(query, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const limit = integer(query, 'limit', DEFAULT_TABLE_PAGE_ROWS, MAX_TABLE_PAGE_ROWS);
    const columns =
      named.length > 0
        ? { names: named }
        : {
            offset: integer(query, 'columnOffset', 0, Number.MAX_SAFE_INTEGER),
            limit: integer(query, 'columnLimit', DEFAULT_TABLE_PAGE_COLUMNS, MAX_TABLE_PAGE_COLUMNS, 1),
          };
    const sort = one(query, 'sort');
    const arrow = await loadArrow();
    // A table stored before MAX_TABLE_ARRAYS was checked at ingest could take seconds to decode: refused.
    const tooMany = checkTableArrays(arrow, name, ipc);
    if (tooMany !== undefined) throw tooMany;
    const table = arrow.tableFromIPC(ipc);
    const body = tablePage(arrow, name, table, {
      offset,
      limit,
      columns,
      ...(sort !== undefined ? { sort: { column: sort, descending: order === 'desc' } } : {}),
      maxSortRows: limits.maxTableRows,
    });
    return reply.type('application/json').send(body);
  });
}

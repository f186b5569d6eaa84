// Read routes: experiments, their metrics, images, plots and tables, within the API key's projects.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LablogError } from '../core/errors.js';
import { EXPERIMENT_SORT_FIELDS, EXPERIMENT_STATUSES, type ExperimentStatus } from '../store/backend.js';
import type { ApiKeyRecord, RemoteExperimentRecord, ServerBackend } from '../store/server-backend.js';
import { experimentView, metricView, paramsView, seriesView } from './json-views.js';
import { tableFromIpc } from '../media/table.js';
import { many, one, type Query } from './query-params.js';

export const MAX_PAGE = 1_000;
export const DEFAULT_PAGE = 50;

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyRecord;
  }
}

function integer(query: Query, field: string, fallback: number, max: number): number {
  const text = one(query, field);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) {
    throw new LablogError('VALIDATION', `${field} must be an integer from 0 to ${max}, got '${text}'`, { field, actual: text });
  }
  return n;
}

function required(query: Query, field: string): string {
  const value = one(query, field);
  if (value === undefined || value.length === 0) throw new LablogError('VALIDATION', `query parameter '${field}' is required`, { field });
  return value;
}

const COLLATOR = new Intl.Collator('en', { numeric: true });

/** Order of two table cells: nulls last whatever the order, numbers (and bigints) by value, the rest as text. */
function compareCells(a: unknown, b: unknown, descending: boolean): number {
  const aNull = a === null || a === undefined || (typeof a === 'number' && Number.isNaN(a));
  const bNull = b === null || b === undefined || (typeof b === 'number' && Number.isNaN(b));
  if (aNull || bNull) return aNull === bNull ? 0 : aNull ? 1 : -1;
  let c: number;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) c = a < b ? -1 : a > b ? 1 : 0;
  else c = COLLATOR.compare(String(a), String(b));
  return descending ? -c : c;
}

/** The experiment, if the key may see it; another project's experiment is not found (its existence is not disclosed). */
export async function visibleExperiment(backend: ServerBackend, request: FastifyRequest, id: string): Promise<RemoteExperimentRecord> {
  const record = await backend.getExperiment(id);
  if (record === undefined || !request.apiKey.projects.includes(record.project)) {
    throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id '${id}'`, { id });
  }
  return record;
}

export function registerReadRoutes(app: FastifyInstance, backend: ServerBackend): void {
  app.get('/api/v1/experiments', async (request) => {
    const query = request.query as Query;
    const project = one(query, 'project');
    const scope = request.apiKey.projects;
    if (project !== undefined && !scope.includes(project)) {
      throw new LablogError('FORBIDDEN', `this API key cannot read project '${project}'`, { project });
    }
    const status = many(query, 'status');
    for (const s of status) {
      if (!(EXPERIMENT_STATUSES as readonly string[]).includes(s)) {
        throw new LablogError('VALIDATION', `status must be one of ${EXPERIMENT_STATUSES.join(', ')}, got '${s}'`, { field: 'status', actual: s });
      }
    }
    const sort = one(query, 'sort') ?? 'created_at';
    if (!(EXPERIMENT_SORT_FIELDS as readonly string[]).includes(sort)) {
      throw new LablogError('VALIDATION', `sort must be one of ${EXPERIMENT_SORT_FIELDS.join(', ')}, got '${sort}'`, { field: 'sort', actual: sort });
    }
    const order = one(query, 'order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw new LablogError('VALIDATION', `order must be asc or desc, got '${order}'`, { field: 'order' });
    const filter = {
      ...(project !== undefined ? { project } : {}),
      projects: scope,
      status: status as ExperimentStatus[],
      tags: many(query, 'tags'),
    };
    const limit = integer(query, 'limit', DEFAULT_PAGE, MAX_PAGE);
    const offset = integer(query, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const [records, total] = await Promise.all([
      backend.listExperiments({ ...filter, limit, offset, sort: sort as (typeof EXPERIMENT_SORT_FIELDS)[number], order }),
      backend.countExperiments(filter),
    ]);
    return { experiments: records.map(experimentView), total, limit, offset };
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const [params, series, tables] = await Promise.all([
      backend.readParams(record.id),
      backend.readSeries(record.id),
      backend.listTables(record.id),
    ]);
    return { ...experimentView(record), params: paramsView(params), series: series.map(seriesView), tables };
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/metrics', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const key = required(request.query as Query, 'key');
    const data = await backend.readMetric(record.id, key);
    if (data === undefined) throw new LablogError('SERIES_NOT_FOUND', `experiment has no metric series '${key}'`, { key });
    return metricView(key, data);
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/images', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const key = required(request.query as Query, 'key');
    const images = await backend.listImages(record.id, key);
    const base = `/api/v1/experiments/${record.id}/images`;
    return {
      key,
      images: images.map((image) => ({ ...image, url: `${base}/${image.step}?key=${encodeURIComponent(key)}` })),
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

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/plots', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const key = required(request.query as Query, 'key');
    return { key, plots: await backend.readPlots(record.id, key) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/tables', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    return { tables: await backend.listTables(record.id) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/tables/data', async (request, reply) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const query = request.query as Query;
    const name = required(query, 'name');
    const format = one(query, 'format') ?? 'arrow';
    if (format !== 'arrow' && format !== 'json') throw new LablogError('VALIDATION', `format must be arrow or json, got '${format}'`, { field: 'format' });
    const ipc = await backend.readTable(record.id, name);
    if (ipc === undefined) throw new LablogError('SERIES_NOT_FOUND', `experiment has no table '${name}'`, { key: name });
    if (format === 'arrow') return reply.type('application/vnd.apache.arrow.stream').send(ipc);
    const table = await tableFromIpc(ipc);
    const total = table.numRows;
    const offset = integer(query, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const limit = integer(query, 'limit', total, Number.MAX_SAFE_INTEGER);
    const sort = one(query, 'sort');
    const order = one(query, 'order') ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw new LablogError('VALIDATION', `order must be asc or desc, got '${order}'`, { field: 'order' });
    let indices: number[] | Uint32Array = Array.from({ length: Math.min(limit, Math.max(0, total - offset)) }, (_, i) => offset + i);
    if (sort !== undefined) {
      const column = table.getChild(sort);
      if (column === null) throw new LablogError('VALIDATION', `table '${name}' has no column '${sort}'`, { field: 'sort', actual: sort });
      // get() answers null for a null cell (toArray() would give its placeholder, 0 for numbers).
      const values = Array.from({ length: total }, (_, i) => column.get(i) as unknown);
      const all = Array.from({ length: total }, (_, i) => i);
      all.sort((a, b) => compareCells(values[a], values[b], order === 'desc'));
      indices = all.slice(offset, offset + limit);
    }
    const rows = Array.from(indices, (i) => (table.get(i)?.toJSON() ?? {}) as Record<string, unknown>);
    const columns = table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) }));
    const body = JSON.stringify({ name, columns, rows, total, offset }, (_k, v: unknown) =>
      typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v,
    );
    return reply.type('application/json').send(body);
  });
}

// Run routes: list, read, follow the logs of and cancel runs, within the API key's projects (another project's run is not found).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LablogError } from '../model/errors.js';
import { LOG_STREAMS, RUN_STATUSES, type LogQuery, type LogStream, type RunRecord } from '../model/run.js';
import type { ServerBackend } from '../store/server-backend.js';
import { one, projectInScope, valuesIn, type Query } from './query-params.js';

/** Runs one list answer holds when the request names no `limit`, and at most. */
export const DEFAULT_RUN_PAGE = 50;
export const MAX_RUN_PAGE = 1_000;
/** Log lines one answer holds when the request names no `limit` or `tail`, and at most. */
export const DEFAULT_LOG_PAGE_LINES = 1_000;
export const MAX_LOG_PAGE_LINES = 10_000;

function integer(query: Query, field: string, max: number): number | undefined {
  const text = one(query, field);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < 0 || n > max) {
    throw new LablogError('INVALID_OPTION', `${field} must be an integer from 0 to ${max}, got '${text.slice(0, 40)}'`, {
      field,
      limit: max,
      actual: text.slice(0, 40),
    });
  }
  return n;
}

/** The run, if the key may see its project; otherwise not found (its existence is not disclosed). */
async function visibleRun(backend: ServerBackend, request: FastifyRequest, id: string): Promise<RunRecord> {
  const record = await backend.runs().getRun(id);
  if (record === undefined || !request.apiKey.projects.includes(record.project)) {
    throw new LablogError('RUN_NOT_FOUND', `no run with id '${id}'`, { id });
  }
  return record;
}

export function registerRunRoutes(app: FastifyInstance, backend: ServerBackend): void {
  const runs = backend.runs();

  app.get('/api/v1/runs', async (request) => {
    const query = request.query as Query;
    const scope = request.apiKey.projects;
    const project = projectInScope(query, scope);
    const status = valuesIn(query, 'status', RUN_STATUSES);
    const limit = integer(query, 'limit', MAX_RUN_PAGE) ?? DEFAULT_RUN_PAGE;
    const filter = { status, limit };
    // Each project of the scope, newest first, merged: at most `limit` per project are read.
    const lists = await Promise.all((project !== undefined ? [project] : scope).map((p) => runs.listRuns({ ...filter, project: p })));
    const merged = lists
      .flat()
      .sort((a, b) => b.timeCreated - a.timeCreated || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, limit);
    return { runs: merged };
  });

  app.get<{ Params: { id: string } }>('/api/v1/runs/:id', async (request) => {
    const run = await visibleRun(backend, request, request.params.id);
    const [attempts, transitions] = await Promise.all([runs.attempts(run.id), runs.transitions(run.id)]);
    return { run, attempts, transitions };
  });

  app.get<{ Params: { id: string } }>('/api/v1/runs/:id/logs', async (request) => {
    const run = await visibleRun(backend, request, request.params.id);
    const query = request.query as Query;
    const stream = one(query, 'stream');
    if (stream !== undefined && !(LOG_STREAMS as readonly string[]).includes(stream)) {
      throw new LablogError('INVALID_OPTION', `stream must be one of ${LOG_STREAMS.join(', ')}, got '${stream.slice(0, 40)}'`, {
        field: 'stream',
      });
    }
    const after = integer(query, 'after', Number.MAX_SAFE_INTEGER);
    const tail = integer(query, 'tail', MAX_LOG_PAGE_LINES);
    const limit = integer(query, 'limit', MAX_LOG_PAGE_LINES);
    const logQuery: LogQuery = {
      ...(stream !== undefined ? { stream: stream as LogStream } : {}),
      ...(after !== undefined ? { after } : {}),
      ...(tail !== undefined ? { tail } : { limit: limit ?? DEFAULT_LOG_PAGE_LINES }),
    };
    return runs.readLogs(run.id, logQuery);
  });

  // Recorded here; the run's supervisor learns of it through its live publisher (the answer to its next request).
  app.post<{ Params: { id: string } }>('/api/v1/runs/:id/cancel', async (request, reply) => {
    const run = await visibleRun(backend, request, request.params.id);
    const outcome = await runs.requestCancel(run.id, Date.now());
    if (outcome.kind === 'missing') throw new LablogError('RUN_NOT_FOUND', `no run with id '${run.id}'`, { id: run.id });
    if (outcome.kind === 'ended') {
      throw new LablogError('RUN_ENDED', `run ${run.id} has ended (${outcome.record.status}); there is nothing to cancel`, {
        id: run.id,
        status: outcome.record.status,
      });
    }
    return reply.code(202).send({ run: outcome.record });
  });
}

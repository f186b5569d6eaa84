// Run routes (reads): a run's launch record with its attempts and transitions, and its captured log lines, within the API key's projects.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LablogError } from '../model/errors.js';
import { LOG_STREAMS, type LogQuery, type LogStream, type RunRecord } from '../model/run.js';
import type { ServerBackend } from '../store/server-backend.js';
import type { ServerRunStore } from '../store/run-store.js';
import { one, type Query } from './query-params.js';

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

/** The run, if the store keeps runs and the key may see its project; otherwise not found (its existence is not disclosed). */
async function visibleRun(runs: ServerRunStore | undefined, request: FastifyRequest, id: string): Promise<RunRecord> {
  const record = await runs?.getRun(id);
  if (record === undefined || !request.apiKey.projects.includes(record.project)) {
    throw new LablogError('RUN_NOT_FOUND', `no run with id '${id}'`, { id });
  }
  return record;
}

export function registerRunRoutes(app: FastifyInstance, backend: ServerBackend): void {
  const runs = backend.runs?.();

  app.get<{ Params: { id: string } }>('/api/v1/runs/:id', async (request) => {
    const run = await visibleRun(runs, request, request.params.id);
    const [attempts, transitions] = await Promise.all([runs!.attempts(run.id), runs!.transitions(run.id)]);
    return { run, attempts, transitions };
  });

  app.get<{ Params: { id: string } }>('/api/v1/runs/:id/logs', async (request) => {
    const run = await visibleRun(runs, request, request.params.id);
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
    return runs!.readLogs(run.id, logQuery);
  });
}

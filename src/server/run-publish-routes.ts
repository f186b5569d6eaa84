// Run publish routes: a run's snapshot and its log lines, sent by the publisher of the run's experiment, within the API key's projects.

import type { FastifyInstance } from 'fastify';
import type { WireRunAnswer, WireRunLogsAnswer } from '../remote/protocol.js';
import { decodeRunLogs, decodeRunSnapshot } from '../remote/run-wire.js';
import type { ServerBackend } from '../store/server-backend.js';
import { visibleExperiment } from './read-routes.js';

export function registerRunPublishRoutes(app: FastifyInstance, backend: ServerBackend): void {
  const ingest = backend.runIngest();

  // The experiment is published first (PUT /api/v1/experiments/:id); another project's is not found, as for ingest.
  app.put<{ Params: { id: string } }>('/api/v1/runs/:id', async (request): Promise<WireRunAnswer> => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const snapshot = decodeRunSnapshot(record.id, request.body);
    const result = await ingest.putRun(record.id, snapshot, Date.now());
    return { run: result.record, applied: result.applied };
  });

  app.post<{ Params: { id: string } }>('/api/v1/runs/:id/logs', async (request): Promise<WireRunLogsAnswer> => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const logs = decodeRunLogs(request.body);
    const result = await ingest.ingestLogs(record.id, logs, Date.now());
    const run = await backend.runs().getRun(record.id);
    return { ...result, cancelRequestedAt: run?.cancelRequestedAt ?? null };
  });
}

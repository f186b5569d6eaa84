// Publish routes: what the publisher sends — experiments, series points, truncations and content-addressed blobs.

import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { LablogError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { validatePng } from '../media/png.js';
import { serializeFigure } from '../media/plot.js';
import { checkTableArrays, loadArrow, tableFromIpc } from '../media/table.js';
import { decodeExperiment, decodeIngest, type WireImagePoint, type WireMedia } from '../remote/protocol.js';
import type { IngestImagePoint, IngestPlotPoint, IngestTable, RejectedItem, ServerBackend, IngestMedia } from '../store/server-backend.js';
import { experimentView } from './json-views.js';
import { visibleExperiment } from './read-routes.js';
import { UUID } from './query-params.js';
import { unusableId } from './http-errors.js';

const SHA256 = /^[0-9a-f]{64}$/;
/** Hashes asked about in one /blobs/missing request. */
export const MAX_HASHES_PER_QUERY = 10_000;

function rejected(kind: RejectedItem['kind'], name: string, error: LablogError): RejectedItem {
  return { kind, name, error: error.code, message: error.message, details: { ...error.details } };
}

function assertUuid(id: string): void {
  if (!UUID.test(id)) throw new LablogError('VALIDATION', `experiment id must be a UUID, got '${id}'`, { id });
}

export function registerPublishRoutes(app: FastifyInstance, backend: ServerBackend, limits: Limits): void {
  app.put<{ Params: { id: string } }>('/api/v1/experiments/:id', async (request) => {
    const id = request.params.id;
    assertUuid(id);
    const experiment = decodeExperiment(id.toLowerCase(), request.body, limits);
    const scope = request.apiKey.projects;
    if (!scope.includes(experiment.project)) {
      throw new LablogError('FORBIDDEN', `this API key cannot write to project '${experiment.project}'`, { project: experiment.project });
    }
    const existing = await backend.getExperiment(experiment.id);
    // Taken by another project: the same answer whether or not this key can see that project (no existence oracle).
    if (existing !== undefined && existing.project !== experiment.project) throw unusableId('experiment', id);
    return experimentView(await backend.upsertExperiment(experiment, limits, Date.now()));
  });

  app.post<{ Params: { id: string } }>('/api/v1/experiments/:id/ingest', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const wire = decodeIngest(request.body, limits);
    const refused: RejectedItem[] = [...wire.rejected];

    const images: IngestMedia<IngestImagePoint>[] = [];
    for (const item of wire.images) {
      const points = await checkImages(backend, item, limits);
      if (points instanceof LablogError) refused.push(rejected('image', item.name, points));
      else images.push({ name: item.name, after: item.after, points });
    }
    const plots: IngestMedia<IngestPlotPoint>[] = [];
    for (const item of wire.plots) {
      const points: IngestPlotPoint[] = [];
      let error: LablogError | undefined;
      for (const p of item.points) {
        const figure = serializeFigure(item.name, p.figure, limits.maxPlotBytes);
        if (figure instanceof LablogError) {
          error = figure;
          break;
        }
        points.push({ step: p.step, timestamp: p.timestamp, caption: p.caption, figure });
      }
      if (error) refused.push(rejected('plot', item.name, error));
      else plots.push({ name: item.name, after: item.after, points });
    }
    const tables: IngestTable[] = [];
    for (const t of wire.tables) {
      const ipc = await backend.readBlob(t.hash);
      if (ipc === undefined) {
        refused.push(rejected('table', t.name, new LablogError('VALIDATION', `table '${t.name}': blob ${t.hash} was not uploaded`, { key: t.name, hash: t.hash })));
        continue;
      }
      try {
        const tooMany = checkTableArrays(await loadArrow(), t.name, ipc);
        if (tooMany !== undefined) {
          refused.push(rejected('table', t.name, tooMany));
          continue;
        }
        const table = await tableFromIpc(ipc);
        if (table.numCols > limits.maxTableColumns) {
          refused.push(
            rejected('table', t.name, new LablogError('LIMIT_EXCEEDED', `table '${t.name}' has ${table.numCols} columns; the limit is ${limits.maxTableColumns} (maxTableColumns)`, {
              key: t.name,
              limit: limits.maxTableColumns,
              actual: table.numCols,
            })),
          );
          continue;
        }
        tables.push({ name: t.name, hash: t.hash, rows: table.numRows, columns: table.numCols, loggedAt: t.loggedAt });
      } catch (cause) {
        refused.push(rejected('table', t.name, new LablogError('INVALID_TABLE', `table '${t.name}' is not an Arrow IPC stream: ${(cause as Error).message}`, { key: t.name })));
      }
    }
    const result = await backend.ingest({ experimentId: record.id, metrics: wire.metrics, images, plots, tables }, limits, Date.now());
    return { ...result, rejected: [...refused, ...result.rejected] };
  });

  app.post<{ Params: { id: string } }>('/api/v1/experiments/:id/truncate', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const fromStep = (request.body as { fromStep?: unknown } | null)?.fromStep;
    if (typeof fromStep !== 'number' || !Number.isSafeInteger(fromStep) || fromStep < 0) {
      throw new LablogError('VALIDATION', 'the body must be { fromStep: integer >= 0 }', { field: 'fromStep' });
    }
    await backend.truncate(record.id, fromStep, Date.now());
    return { id: record.id, fromStep };
  });

  app.post('/api/v1/blobs/missing', async (request) => {
    const hashes = (request.body as { hashes?: unknown } | null)?.hashes;
    if (!Array.isArray(hashes) || hashes.length > MAX_HASHES_PER_QUERY || hashes.some((h) => typeof h !== 'string' || !SHA256.test(h))) {
      throw new LablogError('VALIDATION', `the body must be { hashes: [sha256 hex, …] } with at most ${MAX_HASHES_PER_QUERY} hashes`, {});
    }
    return { missing: await backend.missingBlobs(hashes as string[]) };
  });

  app.put<{ Params: { hash: string } }>('/api/v1/blobs/:hash', async (request, reply) => {
    const hash = request.params.hash;
    if (!SHA256.test(hash)) throw new LablogError('VALIDATION', 'a blob is named by the sha256 (lowercase hex) of its bytes', { hash });
    const bytes = request.body;
    if (!Buffer.isBuffer(bytes)) throw new LablogError('VALIDATION', 'send the blob as application/octet-stream', { hash });
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== hash) throw new LablogError('VALIDATION', `the bytes hash to ${actual}, not ${hash}`, { hash, actual });
    await backend.putBlob(hash, bytes);
    return reply.code(201).send({ hash, size: bytes.length });
  });
}

/** Reads each image's PNG from the blobs, validates it and takes its size from it; the item's first failure rejects it. */
async function checkImages(backend: ServerBackend, item: WireMedia<WireImagePoint>, limits: Limits): Promise<IngestImagePoint[] | LablogError> {
  const points: IngestImagePoint[] = [];
  for (const p of item.points) {
    const png = await backend.readBlob(p.hash);
    if (png === undefined) return new LablogError('VALIDATION', `image '${item.name}' at step ${p.step}: blob ${p.hash} was not uploaded`, { key: item.name, hash: p.hash });
    if (png.length > limits.maxImageBytes) {
      return new LablogError('LIMIT_EXCEEDED', `image '${item.name}' is ${png.length} bytes; the limit is ${limits.maxImageBytes} (maxImageBytes)`, {
        key: item.name,
        limit: limits.maxImageBytes,
        actual: png.length,
      });
    }
    const info = await validatePng(item.name, png);
    if (info instanceof LablogError) return info;
    points.push({ step: p.step, timestamp: p.timestamp, caption: p.caption, hash: p.hash, width: info.width, height: info.height });
  }
  return points;
}

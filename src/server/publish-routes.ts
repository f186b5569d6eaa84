// Publish routes: what the publisher sends — experiments, series points, truncations and content-addressed blobs.

import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LablogError } from '../model/errors.js';
import type { Limits } from '../model/limits.js';
import { serializeFigure } from '../media/plot.js';
import { decodeExperiment, decodeIngest, type WireImagePoint, type WireMedia } from '../remote/protocol.js';
import type { IngestImagePoint, IngestPlotPoint, IngestTable, RejectedItem, ServerBackend, IngestMedia } from '../store/server-backend.js';
import { BlobReferences, checkError, notUploaded, type BlobAnswer, type BlobKind } from './blob-references.js';
import { experimentView } from './json-views.js';
import { visibleExperiment } from './read-routes.js';
import { one, UUID, type Query } from './query-params.js';
import { unusableId } from './http-errors.js';
import { rejection } from '../store/ingest-plan.js';

const SHA256 = /^[0-9a-f]{64}$/;
/** Hashes asked about in one /blobs/missing request. */
export const MAX_HASHES_PER_QUERY = 10_000;
/** Bytes of blobs a project may hold uploaded but not yet referenced by any image point or table (1 GiB). */
export const DEFAULT_BLOB_QUOTA_BYTES = 1024 * 1024 * 1024;

export interface PublishRouteOptions {
  /** Per-project quota of unreferenced blob bytes (default DEFAULT_BLOB_QUOTA_BYTES). */
  readonly blobQuota?: number;
}

function assertUuid(id: string): void {
  if (!UUID.test(id)) throw new LablogError('INVALID_OPTION', `experiment id must be a UUID, got '${id}'`, { id });
}

/**
 * The project a blob request is for: the `project` it names, which the key must be able to write, or the
 * key's only project when it names none (publishers before blob ownership send none).
 */
function blobProject(request: FastifyRequest, given: unknown): string {
  const scope = request.apiKey.projects;
  if (given === undefined || given === null) {
    if (scope.length === 1) return scope[0]!;
    throw new LablogError(
      'INVALID_OPTION',
      `name the project the blobs are for (project): this API key can write ${scope.length} projects`,
      {
        field: 'project',
        actual: scope.length,
      },
    );
  }
  if (typeof given !== 'string') throw new LablogError('INVALID_OPTION', 'project must be a string', { field: 'project' });
  if (!scope.includes(given)) throw new LablogError('FORBIDDEN', `this API key cannot write to project '${given}'`, { project: given });
  return given;
}

export function registerPublishRoutes(
  app: FastifyInstance,
  backend: ServerBackend,
  limits: Limits,
  options: PublishRouteOptions = {},
): void {
  const blobQuota = options.blobQuota ?? DEFAULT_BLOB_QUOTA_BYTES;
  const references = new BlobReferences(backend);
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
    // Every blob the batch names, looked up for the experiment's project at once and validated once each.
    const wanted: { hash: string; kind: BlobKind }[] = [
      ...wire.images.flatMap((item) => item.points.map((p) => ({ hash: p.hash, kind: 'image' as const }))),
      ...wire.tables.map((t) => ({ hash: t.hash, kind: 'table' as const })),
    ];
    const blobs = await references.resolve(record.project, wanted, limits, request.log);

    const images: IngestMedia<IngestImagePoint>[] = [];
    for (const item of wire.images) {
      const points = checkImages(blobs, item, limits);
      if (points instanceof LablogError) refused.push(rejection('image', item.name, points));
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
      if (error) refused.push(rejection('plot', item.name, error));
      else plots.push({ name: item.name, after: item.after, points });
    }
    const tables: IngestTable[] = [];
    for (const t of wire.tables) {
      const blob = blobs.get(`table:${t.hash}`)!;
      if (!blob.owned || blob.check === undefined) {
        refused.push(rejection('table', t.name, notUploaded('table', t.name, t.hash)));
        continue;
      }
      const check = blob.check;
      if ('invalid' in check) refused.push(rejection('table', t.name, checkError('table', t.name, check.invalid)));
      else if (check.kind === 'table' && check.columns > limits.maxTableColumns) {
        refused.push(
          rejection(
            'table',
            t.name,
            new LablogError(
              'LIMIT_EXCEEDED',
              `table '${t.name}' has ${check.columns} columns; the limit is ${limits.maxTableColumns} (maxTableColumns)`,
              {
                key: t.name,
                limit: limits.maxTableColumns,
                actual: check.columns,
              },
            ),
          ),
        );
      } else if (check.kind === 'table')
        tables.push({ name: t.name, hash: t.hash, rows: check.rows, columns: check.columns, loggedAt: t.loggedAt });
    }
    const result = await backend.ingest({ experimentId: record.id, metrics: wire.metrics, images, plots, tables }, limits, Date.now());
    return { ...result, rejected: [...refused, ...result.rejected] };
  });

  app.post<{ Params: { id: string } }>('/api/v1/experiments/:id/truncate', async (request) => {
    const record = await visibleExperiment(backend, request, request.params.id);
    const fromStep = (request.body as { fromStep?: unknown } | null)?.fromStep;
    if (typeof fromStep !== 'number' || !Number.isSafeInteger(fromStep) || fromStep < 0) {
      throw new LablogError('INVALID_OPTION', 'the body must be { fromStep: integer >= 0 }', { field: 'fromStep' });
    }
    await backend.truncate(record.id, fromStep, Date.now());
    return { id: record.id, fromStep };
  });

  // Missing for this project: a hash only another project uploaded is missing (no existence oracle). The
  // project's blobs that are present have their grace period restarted: the caller is about to name them.
  app.post('/api/v1/blobs/missing', async (request) => {
    const body = request.body as { hashes?: unknown; project?: unknown } | null;
    const hashes = body?.hashes;
    if (!Array.isArray(hashes) || hashes.length > MAX_HASHES_PER_QUERY || hashes.some((h) => typeof h !== 'string' || !SHA256.test(h))) {
      throw new LablogError(
        'INVALID_OPTION',
        `the body must be { project, hashes: [sha256 hex, …] } with at most ${MAX_HASHES_PER_QUERY} hashes`,
        {
          limit: MAX_HASHES_PER_QUERY,
          actual: Array.isArray(hashes) ? hashes.length : null,
        },
      );
    }
    const project = blobProject(request, body?.project);
    const owned = await backend.ownedBlobs(project, hashes as string[], Date.now());
    return { project, missing: [...new Set(hashes as string[])].filter((hash) => !owned.has(hash)) };
  });

  app.put<{ Params: { hash: string } }>('/api/v1/blobs/:hash', async (request, reply) => {
    const hash = request.params.hash;
    if (!SHA256.test(hash)) throw new LablogError('INVALID_OPTION', 'a blob is named by the sha256 (lowercase hex) of its bytes', { hash });
    const project = blobProject(request, one(request.query as Query, 'project'));
    const bytes = request.body;
    if (!Buffer.isBuffer(bytes)) throw new LablogError('INVALID_OPTION', 'send the blob as application/octet-stream', { hash });
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== hash) throw new LablogError('INVALID_OPTION', `the bytes hash to ${actual}, not ${hash}`, { hash, actual });
    await backend.uploadBlob(project, hash, bytes, blobQuota, Date.now());
    return reply.code(201).send({ hash, size: bytes.length, project });
  });
}

/** Takes each image's size from its blob's check; the item's first failure (not owned, too large, not a PNG) rejects it. */
function checkImages(
  blobs: ReadonlyMap<string, BlobAnswer>,
  item: WireMedia<WireImagePoint>,
  limits: Limits,
): IngestImagePoint[] | LablogError {
  const points: IngestImagePoint[] = [];
  for (const p of item.points) {
    const blob = blobs.get(`image:${p.hash}`)!;
    if (!blob.owned) return notUploaded('image', item.name, p.hash, p.step);
    if (blob.size > limits.maxImageBytes) {
      return new LablogError(
        'LIMIT_EXCEEDED',
        `image '${item.name}' is ${blob.size} bytes; the limit is ${limits.maxImageBytes} (maxImageBytes)`,
        {
          key: item.name,
          limit: limits.maxImageBytes,
          actual: blob.size,
        },
      );
    }
    const check = blob.check;
    if (check === undefined) return notUploaded('image', item.name, p.hash, p.step);
    if ('invalid' in check) return checkError('image', item.name, check.invalid);
    if (check.kind !== 'image') return notUploaded('image', item.name, p.hash, p.step);
    points.push({ step: p.step, timestamp: p.timestamp, caption: p.caption, hash: p.hash, width: check.width, height: check.height });
  }
  return points;
}

// Artifact routes: resumable chunked uploads of artifact bytes per project (verified by sha256 before they count), artifact records that reference only bytes the project holds, and streamed downloads with ranges.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_UPLOAD_CHUNK_BYTES, SHA256_PATTERN, assertArtifactPath, type ArtifactRecord } from '../model/artifact.js';
import { LablogError, describeValue } from '../model/errors.js';
import type { Limits } from '../model/limits.js';
import { decodeArtifactRecord } from '../remote/artifact-wire.js';
import type { ArtifactBlobs } from '../store/artifact-blobs.js';
import type { ServerBackend } from '../store/server-backend.js';
import { one, type Query } from './query-params.js';
import { visibleExperiment } from './read-routes.js';

type BlobParams = { Params: { project: string; sha256: string } };

function writableProject(request: FastifyRequest, project: string): string {
  if (!request.apiKey.projects.includes(project)) {
    throw new LablogError('FORBIDDEN', `this API key cannot write to project '${project.slice(0, 100)}'`, {
      project: project.slice(0, 100),
    });
  }
  return project;
}

function sha256Of(text: string): string {
  if (!SHA256_PATTERN.test(text))
    throw new LablogError('INVALID_OPTION', 'a blob is named by the sha256 (64 lower-case hex digits) of its bytes', {
      key: text.slice(0, 80),
    });
  return text;
}

function integer(field: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(n)) {
    throw new LablogError('INVALID_OPTION', `${field} must be an integer >= 0, got ${describeValue(text.slice(0, 40))}`, { field });
  }
  return n;
}

/** A `Range: bytes=a-b` header over `size` bytes: the inclusive range, undefined for none, or 'unsatisfiable'. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | 'unsatisfiable' {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === '' && match[2] === '')) return 'unsatisfiable';
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** Streams a stored blob, the whole or a range, with the headers a download needs. */
async function sendBlob(
  blobs: ArtifactBlobs,
  reply: FastifyReply,
  request: FastifyRequest,
  sha256: string,
  size: number,
  fileName: string,
) {
  const range = parseRange(request.headers.range, size);
  reply.header('accept-ranges', 'bytes');
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${size}`);
    return reply.code(416).send({
      error: 'INVALID_OPTION',
      message: `the range ${String(request.headers.range).slice(0, 100)} is not within the ${size} bytes`,
    });
  }
  reply.header('etag', `"${sha256}"`);
  reply.header('content-type', 'application/octet-stream');
  reply.header('content-disposition', `attachment; filename="${fileName.replace(/[^\w.-]/g, '_')}"`);
  if (size === 0) return reply.code(200).header('content-length', '0').send(Buffer.alloc(0));
  if (range === undefined) {
    reply.header('content-length', String(size));
    return reply.code(200).send(await blobs.read(sha256));
  }
  reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`);
  reply.header('content-length', String(range.end - range.start + 1));
  return reply.code(206).send(await blobs.read(sha256, range));
}

export function registerArtifactRoutes(app: FastifyInstance, backend: ServerBackend, blobs: ArtifactBlobs, limits: Limits): void {
  const owners = backend.artifactOwners();
  const artifacts = backend.artifacts();

  // Whether the project holds these bytes (then nothing is sent again), and how far an upload of them has come.
  app.get<BlobParams>('/api/v1/projects/:project/artifact-blobs/:sha256', async (request) => {
    const project = writableProject(request, request.params.project);
    const sha256 = sha256Of(request.params.sha256);
    const size = await blobs.size(sha256);
    const stored = size !== undefined && (await owners.ownsBlob(project, sha256));
    return { sha256, stored, ...(stored ? { size } : {}), offset: stored ? size : await blobs.uploadOffset(sha256) };
  });

  app.put<BlobParams & { Params: { offset: string } }>(
    '/api/v1/projects/:project/artifact-blobs/:sha256/chunks/:offset',
    async (request) => {
      writableProject(request, request.params.project);
      const sha256 = sha256Of(request.params.sha256);
      const offset = integer('offset', request.params.offset)!;
      const chunk = request.body;
      if (!Buffer.isBuffer(chunk)) throw new LablogError('INVALID_OPTION', 'send the chunk as application/octet-stream', { key: sha256 });
      if (chunk.length === 0 || chunk.length > MAX_UPLOAD_CHUNK_BYTES) {
        throw new LablogError(
          'LIMIT_EXCEEDED',
          `a chunk is 1 to ${MAX_UPLOAD_CHUNK_BYTES} bytes (MAX_UPLOAD_CHUNK_BYTES), got ${chunk.length}`,
          {
            limit: MAX_UPLOAD_CHUNK_BYTES,
            actual: chunk.length,
          },
        );
      }
      return { sha256, offset: await blobs.appendUpload(sha256, offset, chunk) };
    },
  );

  app.post<BlobParams>('/api/v1/projects/:project/artifact-blobs/:sha256/complete', async (request) => {
    const project = writableProject(request, request.params.project);
    const sha256 = sha256Of(request.params.sha256);
    const size = (request.body as { size?: unknown } | null)?.size;
    if (!Number.isSafeInteger(size) || (size as number) < 0)
      throw new LablogError('INVALID_OPTION', `size must be an integer >= 0, got ${describeValue(size)}`, { field: 'size' });
    // The project's own bytes must have arrived: bytes stored by another project are never given by naming them.
    const received = await blobs.uploadOffset(sha256);
    if (received !== size && !(await owners.ownsBlob(project, sha256))) {
      throw new LablogError('UPLOAD_CONFLICT', `the upload of ${sha256} has ${received} of its ${String(size)} bytes`, {
        expected: received,
        actual: size as number,
        sha256,
      });
    }
    if (received === size) await blobs.completeUpload(sha256, size as number);
    await owners.ownBlob(project, sha256, size as number, Date.now());
    return { sha256, stored: true, size };
  });

  // An artifact record: every file's bytes must be ones the experiment's project holds.
  app.put<{ Params: { id: string; artifactId: string } }>('/api/v1/experiments/:id/artifacts/:artifactId', async (request, reply) => {
    const experiment = await visibleExperiment(backend, request, request.params.id);
    const record = decodeArtifactRecord(request.body, experiment.id, request.params.artifactId, limits);
    for (const file of record.files) {
      const size = await blobs.size(file.sha256);
      if (size === undefined || size !== file.size || !(await owners.ownsBlob(experiment.project, file.sha256))) {
        throw new LablogError(
          'ARTIFACT_NOT_FOUND',
          `the bytes of '${file.path}' (sha256 ${file.sha256}) are not uploaded to project '${experiment.project}'`,
          {
            experiment: experiment.id,
            key: file.path,
            sha256: file.sha256,
          },
        );
      }
    }
    const existing = await artifacts.getArtifactById(record.id);
    if (existing !== undefined) {
      // Sent again (its answer lost): the same artifact is already there.
      const same =
        existing.experimentId === record.experimentId &&
        existing.name === record.name &&
        existing.step === record.step &&
        existing.sha256 === record.sha256;
      if (same) return reply.code(200).send({ artifact: existing, created: false });
      throw new LablogError('ARTIFACT_EXISTS', `artifact id ${record.id} is another artifact`, {
        experiment: experiment.id,
        key: record.name,
        ...(record.step === null ? {} : { step: record.step }),
      });
    }
    await artifacts.addArtifact(record);
    return reply.code(201).send({ artifact: await artifacts.getArtifactById(record.id), created: true });
  });

  app.get<{ Params: { id: string } }>('/api/v1/experiments/:id/artifacts', async (request) => {
    const experiment = await visibleExperiment(backend, request, request.params.id);
    return { artifacts: await artifacts.listArtifacts(experiment.id) };
  });

  // One file of an artifact (a file artifact's only file when no path is given), streamed, with Range.
  app.get<{ Params: { id: string; name: string } }>('/api/v1/experiments/:id/artifacts/:name/file', async (request, reply) => {
    const experiment = await visibleExperiment(backend, request, request.params.id);
    const query = request.query as Query;
    const stepText = one(query, 'step');
    const step = stepText === 'none' ? null : integer('step', stepText);
    const artifact: ArtifactRecord | undefined = await artifacts.getArtifact(experiment.id, request.params.name, step);
    if (artifact === undefined) {
      throw new LablogError(
        'ARTIFACT_NOT_FOUND',
        `experiment '${experiment.name}' has no artifact '${request.params.name.slice(0, 100)}'${step === undefined ? '' : ` at step ${String(step)}`}`,
        {
          experiment: experiment.id,
          key: request.params.name.slice(0, 100),
        },
      );
    }
    const path = one(query, 'path');
    if (path !== undefined) assertArtifactPath(path);
    if (path === undefined && artifact.type === 'directory') {
      throw new LablogError(
        'INVALID_OPTION',
        `artifact '${artifact.name}' is a directory of ${artifact.files.length} files: name one with ?path=`,
        { field: 'path' },
      );
    }
    const file = path === undefined ? artifact.files[0]! : artifact.files.find((f) => f.path === path);
    if (file === undefined) {
      throw new LablogError('ARTIFACT_NOT_FOUND', `artifact '${artifact.name}' has no file '${path!}'`, {
        experiment: experiment.id,
        key: path!,
      });
    }
    return sendBlob(blobs, reply, request, file.sha256, file.size, file.path.split('/').pop()!);
  });
}

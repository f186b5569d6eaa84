// Artifact wire format: an artifact record as a client publishes it, checked field by field on the server (names, steps, file paths, sizes and digests agree).

import { createHash } from 'node:crypto';
import {
  MAX_ARTIFACT_BYTES,
  MAX_ARTIFACT_FILES,
  MAX_ARTIFACT_METADATA_CHARS,
  SHA256_PATTERN,
  artifactManifest,
  assertArtifactPath,
  type ArtifactFile,
  type ArtifactRecord,
} from '../model/artifact.js';
import { LablogError, describeValue } from '../model/errors.js';
import { isUuid } from '../model/ids.js';
import type { Limits } from '../model/limits.js';
import { assertName } from '../model/validation.js';

function invalid(field: string, rule: string, value: unknown): LablogError {
  return new LablogError('INVALID_OPTION', `artifact ${field} ${rule}, got ${describeValue(value)}`, { field });
}

const sizeOk = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** The artifact a client sends for experiment `experimentId` under id `artifactId`, checked; the digest of a directory is recomputed from its files. */
export function decodeArtifactRecord(value: unknown, experimentId: string, artifactId: string, limits: Limits): ArtifactRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('record', 'must be a JSON object', value);
  const r = value as Record<string, unknown>;
  if (!isUuid(artifactId) || r['id'] !== artifactId)
    throw invalid('id', `must be the artifact id of the path (${artifactId.slice(0, 40)})`, r['id']);
  if (r['experimentId'] !== experimentId)
    throw invalid('experimentId', `must be the experiment of the path (${experimentId})`, r['experimentId']);
  assertName('artifact name', r['name'], limits.maxNameLength);
  const step = r['step'];
  if (step !== null && (!Number.isSafeInteger(step) || (step as number) < 0))
    throw invalid('step', 'must be an integer >= 0 or null', step);
  const kind = r['kind'];
  if (kind !== null) assertName('artifact kind', kind, limits.maxNameLength);
  const type = r['type'];
  if (type !== 'file' && type !== 'directory') throw invalid('type', "must be 'file' or 'directory'", type);
  const filesIn = r['files'];
  if (!Array.isArray(filesIn) || filesIn.length === 0 || filesIn.length > MAX_ARTIFACT_FILES) {
    throw invalid(
      'files',
      `must be a list of 1 to ${MAX_ARTIFACT_FILES} files (MAX_ARTIFACT_FILES)`,
      Array.isArray(filesIn) ? filesIn.length : filesIn,
    );
  }
  if (type === 'file' && filesIn.length !== 1) throw invalid('files', "of a 'file' artifact must be one file", filesIn.length);
  const seen = new Set<string>();
  const files: ArtifactFile[] = filesIn.map((f: unknown) => {
    const file = (f ?? {}) as Record<string, unknown>;
    assertArtifactPath(file['path']);
    if (seen.has(file['path'] as string)) throw invalid('files', 'must not name a path twice', file['path']);
    seen.add(file['path'] as string);
    if (!sizeOk(file['size'])) throw invalid('file size', 'must be an integer >= 0', file['size']);
    if (typeof file['sha256'] !== 'string' || !SHA256_PATTERN.test(file['sha256']))
      throw invalid('file sha256', 'must be 64 lower-case hex digits', file['sha256']);
    return { path: file['path'] as string, size: file['size'] as number, sha256: file['sha256'] };
  });
  const size = files.reduce((sum, f) => sum + f.size, 0);
  if (r['size'] !== size) throw invalid('size', `must be the sum of its files' sizes (${size})`, r['size']);
  if (size > MAX_ARTIFACT_BYTES) {
    throw new LablogError(
      'LIMIT_EXCEEDED',
      `artifact '${String(r['name'])}' is ${size} bytes; the limit is ${MAX_ARTIFACT_BYTES} (MAX_ARTIFACT_BYTES)`,
      {
        key: String(r['name']),
        limit: MAX_ARTIFACT_BYTES,
        actual: size,
      },
    );
  }
  const sha256 = type === 'file' ? files[0]!.sha256 : createHash('sha256').update(artifactManifest(files)).digest('hex');
  if (r['sha256'] !== sha256)
    throw invalid('sha256', `must be ${type === 'file' ? "its file's" : "its manifest's"} sha256 (${sha256})`, r['sha256']);
  const metadata = r['metadata'];
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw invalid('metadata', 'must be a JSON object', metadata);
  const metadataChars = JSON.stringify(metadata).length;
  if (metadataChars > MAX_ARTIFACT_METADATA_CHARS) {
    throw new LablogError(
      'LIMIT_EXCEEDED',
      `artifact metadata is ${metadataChars} characters of JSON; the limit is ${MAX_ARTIFACT_METADATA_CHARS} (MAX_ARTIFACT_METADATA_CHARS)`,
      {
        key: String(r['name']),
        limit: MAX_ARTIFACT_METADATA_CHARS,
        actual: metadataChars,
      },
    );
  }
  const createdAt = r['createdAt'];
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) throw invalid('createdAt', 'must be a time in ms', createdAt);
  return {
    id: artifactId,
    experimentId,
    name: r['name'] as string,
    step: step as number | null,
    kind: kind as string | null,
    type,
    size,
    sha256,
    files,
    metadata: metadata as Record<string, unknown>,
    createdAt,
  };
}

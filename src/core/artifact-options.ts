// The options of exp.logArtifact: what may be logged (a path, or bytes with a name), its name, kind, step and metadata, checked at the call.

import { basename } from 'node:path';
import { LablogError, describeValue } from '../model/errors.js';
import { MAX_ARTIFACT_METADATA_CHARS, type ArtifactMetadata } from '../model/artifact.js';
import { assertKnownOptions, assertName, assertOptionsObject, checkStep } from '../model/validation.js';

/** What exp.logArtifact keeps: a file or directory path (a directory recursively), or bytes. */
export type ArtifactSource = string | Buffer | Uint8Array;

export interface LogArtifactOptions {
  /** The artifact's name (name rules); unique per experiment and step. Default for a path: its last segment. Required for bytes. */
  name?: string;
  /** A label such as 'checkpoint', 'model', 'dataset' (name rules). */
  kind?: string;
  /** The step it belongs to: versions of a checkpoint are steps. */
  step?: number;
  /** JSON metadata (at most MAX_ARTIFACT_METADATA_CHARS as JSON). */
  metadata?: Record<string, unknown>;
}

/** logArtifact's options, checked. */
export interface ResolvedArtifactOptions {
  readonly name: string;
  readonly kind: string | null;
  readonly step: number | null;
  readonly metadata: ArtifactMetadata;
}

const KNOWN = ['name', 'kind', 'step', 'metadata'] as const;

/** Checks logArtifact's source and options; throws INVALID_OPTION, INVALID_NAME, INVALID_STEP or LIMIT_EXCEEDED naming the rule and the value. */
export function resolveArtifactOptions(source: unknown, options: unknown, maxNameLength: number): ResolvedArtifactOptions {
  assertOptionsObject('logArtifact', options);
  const opts = (options ?? {}) as LogArtifactOptions;
  assertKnownOptions('logArtifact', opts, KNOWN);
  const isBytes = source instanceof Uint8Array;
  if (!isBytes && (typeof source !== 'string' || source.length === 0)) {
    throw new LablogError(
      'INVALID_OPTION',
      `logArtifact: the source must be a file or directory path, or a Buffer/Uint8Array, got ${describeValue(source)}`,
      { option: 'source', actual: describeValue(source) },
    );
  }
  if (isBytes && opts.name === undefined) {
    throw new LablogError('INVALID_OPTION', 'logArtifact: bytes need a name: logArtifact(bytes, { name })', { option: 'name' });
  }
  const name = opts.name ?? basename((source as string).replace(/[/\\]+$/, ''));
  assertName('artifact name', name, maxNameLength);
  if (opts.kind !== undefined) assertName('artifact kind', opts.kind, maxNameLength);
  if (opts.step !== undefined) {
    const error = checkStep(name, opts.step);
    if (error) throw error;
  }
  return { name, kind: opts.kind ?? null, step: opts.step ?? null, metadata: checkMetadata(name, opts.metadata) };
}

function checkMetadata(name: string, metadata: unknown): ArtifactMetadata {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new LablogError('INVALID_OPTION', `logArtifact: metadata of '${name}' must be an object, got ${describeValue(metadata)}`, {
      option: 'metadata',
      key: name,
      actual: describeValue(metadata),
    });
  }
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch (cause) {
    throw new LablogError(
      'INVALID_OPTION',
      `logArtifact: metadata of '${name}' is not JSON: ${(cause as Error).message}`,
      { option: 'metadata', key: name },
      { cause },
    );
  }
  if (json.length > MAX_ARTIFACT_METADATA_CHARS) {
    throw new LablogError(
      'LIMIT_EXCEEDED',
      `logArtifact: metadata of '${name}' is ${json.length} characters of JSON; the limit is ${MAX_ARTIFACT_METADATA_CHARS} (MAX_ARTIFACT_METADATA_CHARS)`,
      { option: 'metadata', key: name, limit: MAX_ARTIFACT_METADATA_CHARS, actual: json.length },
    );
  }
  return JSON.parse(json) as ArtifactMetadata;
}

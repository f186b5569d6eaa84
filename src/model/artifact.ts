// Artifacts and models: a file or directory kept with an experiment (content-addressed), and registered model versions with aliases — records, limits and name rules (types and pure functions).

import { LablogError, describeValue } from './errors.js';

/** The largest artifact (a file, or a directory's files together). */
export const MAX_ARTIFACT_BYTES = 20 * 1024 ** 3;
/** The most bytes of artifacts one experiment keeps (deduplicated bytes still count once per artifact). */
export const MAX_EXPERIMENT_ARTIFACT_BYTES = 200 * 1024 ** 3;
/** The most artifacts (name × step) one experiment keeps. */
export const MAX_ARTIFACTS_PER_EXPERIMENT = 10_000;
/** The most files in one artifact (a directory logged recursively). */
export const MAX_ARTIFACT_FILES = 100_000;
/** The longest path of a file inside an artifact, in characters. */
export const MAX_ARTIFACT_PATH_LENGTH = 1_024;
/** The largest metadata object of an artifact, as JSON characters. */
export const MAX_ARTIFACT_METADATA_CHARS = 64 * 1024;
/** The bytes of one upload chunk when an artifact is published (the server takes at most MAX_UPLOAD_CHUNK_BYTES). */
export const ARTIFACT_CHUNK_BYTES = 8 * 1024 * 1024;
export const MAX_UPLOAD_CHUNK_BYTES = 16 * 1024 * 1024;
/** The most versions one registered model holds, and aliases per model. */
export const MAX_MODEL_VERSIONS = 100_000;
export const MAX_MODEL_ALIASES = 100;

/** A sha256 digest in lower-case hex: how artifact bytes are addressed. */
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** One file of an artifact: its path inside the artifact ('/'-separated, relative), size and sha256. A single-file artifact has one, named as the file. */
export interface ArtifactFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** JSON metadata of an artifact (what the user passed as `metadata`). */
export type ArtifactMetadata = Readonly<Record<string, unknown>>;

/** An artifact as stored: visible only once every file's bytes are in the blob store. */
export interface ArtifactRecord {
  readonly id: string;
  readonly experimentId: string;
  /** Follows the name rules; unique per experiment and step. */
  readonly name: string;
  /** The step it belongs to (versions of a checkpoint are steps); null when none was given. */
  readonly step: number | null;
  /** A label such as 'checkpoint', 'model', 'dataset'; null when none was given. */
  readonly kind: string | null;
  /** 'file' (one file, or bytes) or 'directory' (files under it, recursively). */
  readonly type: 'file' | 'directory';
  /** Bytes of all its files. */
  readonly size: number;
  /** A file's sha256; for a directory, the sha256 of its manifest (each file's path, size and sha256, sorted by path). */
  readonly sha256: string;
  readonly files: readonly ArtifactFile[];
  readonly metadata: ArtifactMetadata;
  readonly createdAt: number;
}

/** A registered model: a name per project, with versions 1, 2, … and aliases. */
export interface ModelRecord {
  readonly project: string;
  readonly name: string;
  readonly description: string | null;
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Alias → version. */
  readonly aliases: Readonly<Record<string, number>>;
  readonly latestVersion: number | null;
}

/** A version of a registered model: an experiment's artifact. */
export interface ModelVersionRecord {
  readonly project: string;
  readonly model: string;
  readonly version: number;
  readonly experimentId: string;
  readonly artifactId: string;
  readonly description: string | null;
  readonly createdAt: number;
}

/** A move of an alias, kept (aliases can be moved; each move is recorded). */
export interface AliasMove {
  readonly alias: string;
  /** The version it pointed at before (null: it is new) and after (null: it was removed). */
  readonly from: number | null;
  readonly to: number | null;
  readonly at: number;
}

/**
 * Checks the path of a file inside an artifact: relative, '/'-separated, no empty, '.' or '..' segment, no
 * NUL or backslash, at most MAX_ARTIFACT_PATH_LENGTH characters. Paths come from a directory walk here and
 * from clients on the server, and are joined to download folders: a path that could leave one is refused.
 */
export function assertArtifactPath(path: unknown): asserts path is string {
  const refuse = (rule: string): never => {
    throw new LablogError('INVALID_NAME', `artifact file path ${describeValue(path)} ${rule}`, { key: String(path).slice(0, 200) });
  };
  if (typeof path !== 'string' || path.length === 0) refuse('must be a non-empty string');
  const p = path as string;
  if (p.length > MAX_ARTIFACT_PATH_LENGTH) refuse(`is longer than ${MAX_ARTIFACT_PATH_LENGTH} characters (MAX_ARTIFACT_PATH_LENGTH)`);
  if (p.includes('\u0000') || p.includes('\\')) refuse('must not contain NUL or a backslash');
  if (p.startsWith('/')) refuse('must be relative (no leading /)');
  for (const segment of p.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') refuse("must not have an empty, '.' or '..' segment");
  }
}

/** The manifest a directory artifact's sha256 is taken of: one line per file, `sha256 size path`, sorted by path. */
export function artifactManifest(files: readonly ArtifactFile[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.sha256} ${f.size} ${f.path}\n`)
    .join('');
}

/** A model reference `name`, `name@alias` or `name@3` (a version), parsed. */
export function parseModelRef(ref: string): { name: string; alias?: string; version?: number } {
  const at = ref.lastIndexOf('@');
  if (at < 0) return { name: ref };
  const name = ref.slice(0, at);
  const selector = ref.slice(at + 1);
  if (/^[1-9]\d{0,8}$/.test(selector)) return { name, version: Number(selector) };
  return { name, alias: selector };
}

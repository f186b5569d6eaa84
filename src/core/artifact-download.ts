// Reading an artifact back: finding it by name and step, streaming one of its files, and downloading its files under a folder (sha256 verified while written, no path leaving the folder).

import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LablogError } from '../model/errors.js';
import { assertArtifactPath, type ArtifactFile, type ArtifactRecord } from '../model/artifact.js';
import type { ArtifactTarget } from './artifact-logging.js';

/** Which version of an artifact to read: a step (null: the one without a step); default the highest step. */
export interface ArtifactReadOptions {
  step?: number | null;
}

export interface ArtifactStreamOptions extends ArtifactReadOptions {
  /** The file of a directory artifact (its path inside it); a file artifact's only file by default. */
  path?: string;
}

/** The artifact of that name (and step), or ARTIFACT_NOT_FOUND naming what the experiment has. */
export function findArtifact(target: ArtifactTarget, name: string, options?: ArtifactReadOptions): ArtifactRecord {
  const record = target.artifacts.getArtifact(target.experimentId, name, options?.step);
  if (record !== undefined) return record;
  const names = [...new Set(target.artifacts.listArtifacts(target.experimentId).map((a) => a.name))];
  const at = options?.step === undefined ? '' : options.step === null ? ' without a step' : ` at step ${options.step}`;
  return notFound(target, name, at, names, options?.step);
}

function notFound(target: ArtifactTarget, name: string, at: string, names: string[], step: number | null | undefined): never {
  const has = names.length === 0 ? 'it has none' : `it has: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}`;
  throw new LablogError('ARTIFACT_NOT_FOUND', `experiment '${target.experimentName}' has no artifact '${name}'${at}; ${has}`, {
    experiment: target.experimentName,
    key: name,
    ...(typeof step === 'number' ? { step } : {}),
  });
}

/** A stream of one file of the artifact (bounded memory). */
export async function openArtifactStream(target: ArtifactTarget, name: string, options?: ArtifactStreamOptions): Promise<Readable> {
  const record = findArtifact(target, name, options);
  let file: ArtifactFile | undefined;
  if (options?.path !== undefined) file = record.files.find((f) => f.path === options.path);
  else if (record.type === 'file') file = record.files[0];
  else {
    throw new LablogError(
      'INVALID_OPTION',
      `artifact '${name}' is a directory of ${record.files.length} files: say which with { path } (e.g. '${record.files[0]?.path}')`,
      { option: 'path', key: name },
    );
  }
  if (file === undefined) {
    throw new LablogError('ARTIFACT_NOT_FOUND', `artifact '${name}' has no file '${String(options?.path)}'`, {
      experiment: target.experimentName,
      key: `${name}/${String(options?.path)}`,
    });
  }
  return target.blobs.read(file.sha256);
}

/**
 * Writes the artifact's files under `dir` (created if needed) at their paths, each through a temp file
 * renamed in once its sha256 is verified (CHECKSUM_MISMATCH otherwise). Every path is checked first: one
 * that could leave `dir` (absolute, `..`) is INVALID_NAME and nothing is written. Returns the paths written.
 */
export async function downloadArtifactTo(
  target: ArtifactTarget,
  name: string,
  dir: string,
  options?: ArtifactReadOptions,
): Promise<string[]> {
  const record = findArtifact(target, name, options);
  const root = resolve(dir);
  const destinations = record.files.map((file) => {
    assertArtifactPath(file.path);
    const destination = join(root, ...file.path.split('/'));
    const inside = relative(root, destination);
    if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
      throw new LablogError('INVALID_NAME', `artifact file path '${file.path}' leaves the download folder ${root}`, { key: file.path });
    }
    return { file, destination };
  });
  const written: string[] = [];
  for (const { file, destination } of destinations) {
    await mkdir(dirname(destination), { recursive: true });
    const temp = `${destination}.${randomUUID()}.lablog-part`;
    const hash = createHash('sha256');
    let size = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(await target.blobs.read(file.sha256), hashing, createWriteStream(temp, { flags: 'wx' }));
      const actual = hash.digest('hex');
      if (actual !== file.sha256 || size !== file.size) {
        throw new LablogError(
          'CHECKSUM_MISMATCH',
          `artifact '${name}' file '${file.path}' read back as ${size} bytes with sha256 ${actual}, not the ${file.size} bytes with sha256 ${file.sha256} stored; it was not written`,
          { expected: file.sha256, actual, key: file.path },
        );
      }
      await rename(temp, destination);
    } catch (cause) {
      await unlink(temp).catch(() => undefined);
      throw cause;
    }
    written.push(destination);
  }
  return written;
}

// Logging an artifact: each file streamed into the blobs (hashed while copied, checked unchanged after), then the artifact committed in one transaction.

import { createHash, randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { LablogError } from '../model/errors.js';
import { driverCodeOf } from '../model/error-codes.js';
import { MAX_ARTIFACT_BYTES, artifactManifest, type ArtifactFile, type ArtifactRecord } from '../model/artifact.js';
import type { ArtifactBlobs } from '../store/artifact-blobs.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { ResolvedArtifactOptions } from './artifact-options.js';
import { badSource, listSourceFiles, type SourceFile } from './artifact-walk.js';

/** Bytes read from a file at a time while it is copied: the copy's memory is about this, whatever the file's size. */
export const ARTIFACT_COPY_CHUNK_BYTES = 1024 * 1024;

/** Where an artifact goes: the experiment's store (rows) and its blobs (bytes). */
export interface ArtifactTarget {
  readonly artifacts: ArtifactStore;
  readonly blobs: ArtifactBlobs;
  readonly experimentId: string;
  readonly experimentName: string;
}

/** ARTIFACT_EXISTS for a name taken at that step. */
export function artifactExists(target: ArtifactTarget, options: ResolvedArtifactOptions): LablogError {
  const at = options.step === null ? 'without a step' : `at step ${options.step}`;
  return new LablogError(
    'ARTIFACT_EXISTS',
    `experiment '${target.experimentName}' has an artifact '${options.name}' ${at} already; log it at another step or under another name`,
    { experiment: target.experimentName, key: options.name, ...(options.step === null ? {} : { step: options.step }) },
  );
}

/**
 * Copies `source` (a path, or bytes the caller copied at the call) into the blobs and commits the artifact.
 * Nothing is committed unless every file's bytes are stored and every file was unchanged while copied;
 * blobs stored before a failure are left for `lablog gc`.
 */
export async function logArtifactInto(
  target: ArtifactTarget,
  source: string | Buffer,
  options: ResolvedArtifactOptions,
): Promise<ArtifactRecord> {
  if (target.artifacts.getArtifact(target.experimentId, options.name, options.step) !== undefined) throw artifactExists(target, options);
  let type: 'file' | 'directory';
  let files: ArtifactFile[];
  if (typeof source !== 'string') {
    const written = await target.blobs.write(Readable.from([source]), { maxBytes: MAX_ARTIFACT_BYTES });
    type = 'file';
    files = [{ path: options.name, size: written.size, sha256: written.sha256 }];
  } else {
    const listing = await listSourceFiles(source, options.name);
    type = listing.type;
    files = [];
    for (const file of listing.files) files.push(await copyFile(target.blobs, file));
  }
  const size = files.reduce((sum, f) => sum + f.size, 0);
  const sha256 = type === 'file' ? files[0]!.sha256 : createHash('sha256').update(artifactManifest(files)).digest('hex');
  const record: ArtifactRecord = {
    id: randomUUID(),
    experimentId: target.experimentId,
    name: options.name,
    step: options.step,
    kind: options.kind,
    type,
    size,
    sha256,
    files,
    metadata: options.metadata,
    createdAt: Date.now(),
  };
  target.artifacts.addArtifact(record);
  return record;
}

/** Streams one file into the blobs; the file must be the same (size and modification time) before, during and after. */
async function copyFile(blobs: ArtifactBlobs, file: SourceFile): Promise<ArtifactFile> {
  let handle;
  try {
    handle = await open(file.absolute, 'r');
  } catch (cause) {
    throw badSource(file.absolute, `cannot be read (${driverCodeOf(cause) ?? (cause as Error).message})`, cause);
  }
  try {
    const before = await handle.stat();
    if (!before.isFile()) throw badSource(file.absolute, 'is no longer a regular file');
    if (before.size !== file.size || before.mtimeMs !== file.mtimeMs) throw changedWhileCopied(file, file.size, before.size);
    const stream =
      before.size === 0
        ? Readable.from([])
        : Readable.from(
            readAll(
              handle.createReadStream({ start: 0, end: before.size - 1, highWaterMark: ARTIFACT_COPY_CHUNK_BYTES, autoClose: false }),
              file,
            ),
          );
    const written = await blobs.write(stream, { maxBytes: before.size });
    const after = await handle.stat();
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || written.size !== before.size) {
      throw changedWhileCopied(file, before.size, after.size);
    }
    return { path: file.path, size: written.size, sha256: written.sha256 };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The chunks of a file's read stream, its read failures as a refusal naming the file. */
async function* readAll(stream: AsyncIterable<Buffer>, file: SourceFile): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk;
  } catch (cause) {
    throw badSource(file.absolute, `could not be read (${driverCodeOf(cause) ?? (cause as Error).message})`, cause);
  }
}

function changedWhileCopied(file: SourceFile, sizeBefore: number, sizeAfter: number): LablogError {
  const sizes =
    sizeBefore === sizeAfter
      ? `its modification time changed (${sizeAfter} bytes)`
      : `${sizeBefore} bytes when the copy started, ${sizeAfter} when it ended`;
  return new LablogError(
    'CHECKSUM_MISMATCH',
    `logArtifact: ${file.absolute} changed while it was copied (${sizes}); nothing was logged — log a file that is no longer written to`,
    { expected: `${sizeBefore} bytes`, actual: `${sizeAfter} bytes`, key: file.path },
  );
}

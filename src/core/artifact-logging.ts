// Logging an artifact: each file streamed into the blobs (hashed while copied, checked unchanged after), then the artifact committed in one transaction.

import { createHash, randomUUID } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
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
    const options = { maxBytes: before.size };
    const written = blobs.writeFrom
      ? await blobs.writeFrom((buffer, position) => readChunk(handle, buffer, position, before.size, file), options)
      : await blobs.write(before.size === 0 ? Readable.from([]) : new FileChunks(handle, before.size, file), options);
    const after = await handle.stat();
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || written.size !== before.size) {
      throw changedWhileCopied(file, before.size, after.size);
    }
    return { path: file.path, size: written.size, sha256: written.sha256 };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Reads the file into `buffer` from `position`, never past `size` (a file that grew is not read further); 0 at the end. */
async function readChunk(handle: FileHandle, buffer: Buffer, position: number, size: number, file: SourceFile): Promise<number> {
  const length = Math.min(buffer.length, size - position);
  if (length <= 0) return 0;
  try {
    return (await handle.read(buffer, 0, length, position)).bytesRead;
  } catch (cause) {
    throw badSource(file.absolute, `could not be read (${driverCodeOf(cause) ?? (cause as Error).message})`, cause);
  }
}

/**
 * The first `size` bytes of an open file, in ARTIFACT_COPY_CHUNK_BYTES chunks read on demand (the consumer's
 * pace bounds the memory). A read failure ends the stream with a refusal naming the file; a file that
 * shrank ends it early (the size check after the copy says so).
 */
class FileChunks extends Readable {
  readonly #handle: FileHandle;
  readonly #size: number;
  readonly #file: SourceFile;
  #position = 0;

  constructor(handle: FileHandle, size: number, file: SourceFile) {
    super({ highWaterMark: ARTIFACT_COPY_CHUNK_BYTES });
    this.#handle = handle;
    this.#size = size;
    this.#file = file;
  }

  override _read(): void {
    const length = Math.min(ARTIFACT_COPY_CHUNK_BYTES, this.#size - this.#position);
    if (length <= 0) {
      this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafe(length);
    this.#handle.read(buffer, 0, length, this.#position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          this.push(null);
          return;
        }
        this.#position += bytesRead;
        this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
      },
      (cause: unknown) =>
        this.destroy(badSource(this.#file.absolute, `could not be read (${driverCodeOf(cause) ?? (cause as Error).message})`, cause)),
    );
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

// Artifact blobs in a folder: files named by sha256 (sha256/ab/cdef…), written through a temp file that is hashed while copied, fsynced and renamed into place.

import { createHash, randomUUID } from 'node:crypto';
import { close, createReadStream, createWriteStream, fsync, open as openCallback, write as writeCallback, type ReadStream } from 'node:fs';
import { promisify } from 'node:util';
import { mkdir, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LablogError } from '../../model/errors.js';
import { driverCodeOf } from '../../model/error-codes.js';
import { SHA256_PATTERN } from '../../model/artifact.js';
import type { ArtifactBlobs, BlobWriteOptions, WrittenBlob } from '../artifact-blobs.js';

/** Bytes read at a time from a blob or an upload (a stream's buffer: memory stays this size whatever the blob). */
export const BLOB_READ_CHUNK_BYTES = 1024 * 1024;
/** The buffers writeFrom copies through (three of them: one read into, one hashed, one written). */
export const BLOB_COPY_CHUNK_BYTES = 4 * 1024 * 1024;
/** Bytes a write may have queued for the file before the source is read further. */
export const BLOB_WRITE_BUFFER_BYTES = 4 * 1024 * 1024;
/** The folder of blobs under the root (by algorithm), of temp files being written, and of uploads in progress. */
const BLOB_FOLDER = 'sha256';
const TEMP_FOLDER = 'tmp';
const UPLOAD_FOLDER = 'uploads';

/**
 * The blobs of a folder (the embedded store's `<store dir>/blobs`, or a server's `--artifacts DIR`). A blob
 * is visible (listed, readable) only once complete: it is written to `tmp/`, fsynced, then renamed into
 * `sha256/`, and the folder is fsynced. Temp files and uploads live beside it and are never listed.
 */
export class FileArtifactBlobs implements ArtifactBlobs {
  readonly location: string;
  /** Uploads of one sha256 are serialized in this process (a chunk sent twice at once writes once). */
  readonly #uploadLocks = new Map<string, Promise<unknown>>();

  constructor(root: string) {
    this.location = root;
  }

  /** The path of a stored blob. */
  blobPath(sha256: string): string {
    assertSha256(sha256);
    return join(this.location, BLOB_FOLDER, sha256.slice(0, 2), sha256.slice(2));
  }

  async size(sha256: string): Promise<number | undefined> {
    return (await this.#stat(this.blobPath(sha256)))?.size;
  }

  /** When the blob was last written or found again by a write (ms since the epoch); undefined when it is not there. */
  async storedAt(sha256: string): Promise<number | undefined> {
    return (await this.#stat(this.blobPath(sha256)))?.mtimeMs;
  }

  async write(source: Readable, options: BlobWriteOptions): Promise<WrittenBlob> {
    return this.#writeTemp(options, async (fd, take) => {
      // Hashed on the way to the file: the next chunk is hashed while the previous one is being written.
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          const refusal = take(chunk);
          if (refusal) done(refusal);
          else done(null, chunk);
        },
      });
      await pipeline(source, hashing, createWriteStream('', { fd, autoClose: false, highWaterMark: BLOB_WRITE_BUFFER_BYTES }));
    });
  }

  /**
   * Like write(), the bytes pulled by `read(buffer, position)` (bytes read, 0 at the end) into three buffers
   * of BLOB_COPY_CHUNK_BYTES used in turn: while one chunk is hashed, the next is read and the previous one
   * written. No garbage per chunk, so memory stays flat however large the file.
   */
  async writeFrom(read: (buffer: Buffer, position: number) => Promise<number>, options: BlobWriteOptions): Promise<WrittenBlob> {
    return this.#writeTemp(options, async (fd, take) => {
      const buffers = [0, 1, 2].map(() => Buffer.allocUnsafe(BLOB_COPY_CHUNK_BYTES));
      let position = 0;
      let turn = 0;
      let writing: Promise<void> = Promise.resolve();
      let reading: Promise<number> = read(buffers[0]!, 0);
      try {
        for (;;) {
          const length = await reading;
          if (length === 0) break;
          const chunk = buffers[turn % 3]!.subarray(0, length);
          position += length;
          // The buffer read into next held chunk turn - 2, whose write was awaited before chunk turn - 1's began.
          reading = read(buffers[(turn + 1) % 3]!, position);
          turn++;
          const refusal = take(chunk);
          if (refusal) throw refusal;
          await writing;
          writing = writeAllFd(fd, chunk);
        }
      } finally {
        // The descriptor is closed only once no read or write is in flight (a failed write is reported below).
        await Promise.allSettled([reading, writing]);
      }
      await writing;
    });
  }

  /** Writes a temp file through `fill`, which hands every chunk to `take` (hash and size; a refusal past maxBytes), then fsyncs and moves it in. */
  async #writeTemp(
    options: BlobWriteOptions,
    fill: (fd: number, take: (chunk: Buffer) => LablogError | undefined) => Promise<void>,
  ): Promise<WrittenBlob> {
    const tempDir = join(this.location, TEMP_FOLDER);
    await this.#guard('creating the temp folder', () => mkdir(tempDir, { recursive: true }));
    const temp = join(tempDir, `${randomUUID()}.part`);
    // A numeric descriptor: a FileHandle's write stream that does not close it keeps its close() waiting.
    const fd = await this.#guard('creating a temp file', () => openFd(temp, 'wx'));
    const hash = createHash('sha256');
    let size = 0;
    let kept = false;
    let refusal: LablogError | undefined;
    const take = (chunk: Buffer): LablogError | undefined => {
      size += chunk.length;
      if (size > options.maxBytes) {
        refusal = new LablogError(
          'LIMIT_EXCEEDED',
          `a blob is at most ${options.maxBytes} bytes; this one is more than that (${size} bytes read so far)`,
          { limit: options.maxBytes, actual: size },
        );
        return refusal;
      }
      hash.update(chunk);
      return undefined;
    };
    try {
      try {
        await fill(fd, take);
        await fsyncFd(fd);
      } finally {
        await closeFd(fd);
      }
      const sha256 = hash.digest('hex');
      if (options.expectedSha256 !== undefined && options.expectedSha256 !== sha256) {
        throw new LablogError('CHECKSUM_MISMATCH', `the bytes have sha256 ${sha256}, not the ${options.expectedSha256} announced`, {
          expected: options.expectedSha256,
          actual: sha256,
        });
      }
      const existed = await this.#moveIn(temp, sha256);
      kept = !existed;
      return { sha256, size, existed };
    } catch (cause) {
      // A stream pipeline may end with another stream's error (a premature close) than the refusal that ended it.
      throw refusal ?? this.#storageError('writing a blob', cause);
    } finally {
      if (!kept) await unlink(temp).catch(() => undefined);
    }
  }

  async read(sha256: string, range?: { readonly start: number; readonly end: number }): Promise<Readable> {
    const path = this.blobPath(sha256);
    const stats = await this.#stat(path);
    if (stats === undefined) throw notFound(sha256, this.location);
    if (range !== undefined) {
      const { start, end } = range;
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= stats.size) {
        throw new LablogError('INVALID_OPTION', `range ${start}-${end} is not inside the blob's ${stats.size} bytes`, {
          option: 'range',
          actual: `${start}-${end}`,
          limit: stats.size,
        });
      }
    }
    return await openStream(path, range, this);
  }

  async *list(): AsyncIterable<string> {
    const root = join(this.location, BLOB_FOLDER);
    const prefixes = await this.#listDir(root);
    for (const prefix of prefixes.sort()) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const rest of (await this.#listDir(join(root, prefix))).sort()) {
        const sha256 = prefix + rest;
        if (SHA256_PATTERN.test(sha256)) yield sha256;
      }
    }
  }

  async remove(sha256: string): Promise<void> {
    const path = this.blobPath(sha256);
    await this.#guard('removing a blob', () => unlink(path).catch(ignoreMissing));
  }

  async uploadOffset(sha256: string): Promise<number> {
    return (await this.#stat(this.#uploadPath(sha256)))?.size ?? 0;
  }

  appendUpload(sha256: string, offset: number, chunk: Buffer): Promise<number> {
    return this.#withUploadLock(sha256, async () => {
      const path = this.#uploadPath(sha256);
      const current = (await this.#stat(path))?.size ?? 0;
      if (offset !== current) {
        throw new LablogError(
          'UPLOAD_CONFLICT',
          `the upload of ${sha256} is at offset ${current}; a chunk at offset ${offset} (out of order, or sent again) was not written`,
          { expected: current, actual: offset, sha256 },
        );
      }
      await this.#guard('creating the uploads folder', () => mkdir(dirname(path), { recursive: true }));
      await this.#guard('appending to an upload', async () => {
        const handle = await open(path, 'a');
        try {
          await writeAll(handle, chunk);
          // An acknowledged chunk survives a crash: the next offset asked for is after it.
          await handle.sync();
        } finally {
          await handle.close();
        }
      });
      return current + chunk.length;
    });
  }

  completeUpload(sha256: string, size: number): Promise<void> {
    return this.#withUploadLock(sha256, async () => {
      const path = this.#uploadPath(sha256);
      let stats = await this.#stat(path);
      if (stats === undefined && size === 0) {
        await this.#guard('creating an empty upload', async () => {
          await mkdir(dirname(path), { recursive: true });
          await (await open(path, 'w')).close();
        });
        stats = await this.#stat(path);
      }
      if (stats === undefined) throw notFound(sha256, this.location);
      const actual = stats.size === size ? await this.#hashFile(path) : `(${stats.size} bytes, not ${size})`;
      if (actual !== sha256) {
        await unlink(path).catch(ignoreMissing);
        throw new LablogError(
          'CHECKSUM_MISMATCH',
          `the upload of ${sha256} (${size} bytes announced) has ${stats.size === size ? `sha256 ${actual}` : `${stats.size} bytes`}; it was discarded`,
          { expected: sha256, actual },
        );
      }
      try {
        if (await this.#moveIn(path, sha256)) await unlink(path).catch(ignoreMissing);
      } catch (cause) {
        throw this.#storageError('completing an upload', cause);
      }
    });
  }

  // ---- internals -----------------------------------------------------------------------------------

  #uploadPath(sha256: string): string {
    assertSha256(sha256);
    return join(this.location, UPLOAD_FOLDER, sha256);
  }

  /**
   * Renames a complete, fsynced file into place as blob `sha256` and fsyncs the folder; true (and nothing
   * moved) when the blob is there already — its time is then refreshed, so `gc` sees it as just used.
   */
  async #moveIn(file: string, sha256: string): Promise<boolean> {
    const target = this.blobPath(sha256);
    if ((await this.#stat(target)) !== undefined) {
      const now = new Date();
      await utimes(target, now, now).catch(ignoreMissing);
      if ((await this.#stat(target)) !== undefined) return true;
    }
    await mkdir(dirname(target), { recursive: true });
    await rename(file, target);
    await syncFolder(dirname(target));
    return false;
  }

  async #hashFile(path: string): Promise<string> {
    const hash = createHash('sha256');
    await this.#guard('hashing an upload', async () => {
      for await (const chunk of createReadStream(path, { highWaterMark: BLOB_READ_CHUNK_BYTES })) hash.update(chunk as Buffer);
    });
    return hash.digest('hex');
  }

  #withUploadLock<T>(sha256: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#uploadLocks.get(sha256) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.#uploadLocks.set(sha256, settled);
    void settled.then(() => {
      if (this.#uploadLocks.get(sha256) === settled) this.#uploadLocks.delete(sha256);
    });
    return run;
  }

  async #stat(path: string) {
    try {
      return await stat(path);
    } catch (cause) {
      if (driverCodeOf(cause) === 'ENOENT') return undefined;
      throw this.#storageError(`reading ${path}`, cause);
    }
  }

  async #listDir(path: string): Promise<string[]> {
    try {
      return await readdir(path);
    } catch (cause) {
      if (driverCodeOf(cause) === 'ENOENT') return [];
      throw this.#storageError(`listing ${path}`, cause);
    }
  }

  async #guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw this.#storageError(what, cause);
    }
  }

  /** @internal A failure as STORAGE_ERROR with the system's code (ENOSPC for a full disk); a LablogError as it is. */
  #storageError(what: string, cause: unknown): LablogError {
    if (cause instanceof LablogError) return cause;
    return storageError(what, cause, this.location);
  }
}

/** A filesystem failure as a STORAGE_ERROR naming the system's code (ENOSPC, EIO, EFBIG…). */
export function storageError(what: string, cause: unknown, location: string): LablogError {
  const code = driverCodeOf(cause);
  const hint = code === 'ENOSPC' ? ' (the disk is full)' : code === 'EFBIG' ? ' (a file size limit was reached)' : '';
  return new LablogError(
    'STORAGE_ERROR',
    `${what} in ${location}${hint}: ${(cause as Error)?.message ?? String(cause)}`,
    { driver: 'filesystem', driverCode: code, location },
    { cause },
  );
}

function assertSha256(sha256: string): void {
  if (typeof sha256 !== 'string' || !SHA256_PATTERN.test(sha256)) {
    throw new LablogError(
      'INVALID_OPTION',
      `a blob is named by a sha256 of 64 lower-case hex digits, got '${String(sha256).slice(0, 80)}'`,
      {
        option: 'sha256',
        actual: String(sha256).slice(0, 80),
      },
    );
  }
}

function notFound(sha256: string, location: string): LablogError {
  return new LablogError('ARTIFACT_NOT_FOUND', `no blob ${sha256} in ${location}`, { sha256 });
}

function ignoreMissing(cause: unknown): void {
  if (driverCodeOf(cause) !== 'ENOENT') throw cause;
}

const openFd = promisify(openCallback);
const writeFd = promisify(writeCallback);
const fsyncFd = promisify(fsync);
const closeFd = promisify(close);

/** Writes every byte of `bytes` at the descriptor's position (a write may take fewer than it is given). */
async function writeAllFd(fd: number, bytes: Buffer): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await writeFd(fd, bytes, done, bytes.length - done, null);
    done += bytesWritten;
  }
}

/** Writes every byte of `bytes` (a write may take fewer than it is given). */
async function writeAll(handle: import('node:fs/promises').FileHandle, bytes: Buffer): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

/** fsyncs a folder, so a rename into it survives a power loss. */
async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A read stream over the file, opened before it is returned (a failure to open rejects here, not on the stream). */
function openStream(path: string, range: { start: number; end: number } | undefined, blobs: FileArtifactBlobs): Promise<ReadStream> {
  return new Promise((resolve, reject) => {
    const stream = createReadStream(path, { highWaterMark: BLOB_READ_CHUNK_BYTES, ...(range ?? {}) });
    stream.once('open', () => resolve(stream));
    stream.once('error', (cause) => reject(storageError('opening a blob', cause, blobs.location)));
  });
}

// Blob references at ingest: which blobs an experiment's project may name, and each blob validated once (the result remembered in the store).

import type { FastifyBaseLogger } from 'fastify';
import { LablogError } from '../model/errors.js';
import type { Limits } from '../model/limits.js';
import { invalidPng, validatePng } from '../media/png.js';
import { countTableArrays, loadArrow, MAX_TABLE_ARRAYS, tableArraysError, tableFromIpc } from '../media/table.js';
import type { BlobCheck, OwnedBlob, ServerBackend } from '../store/server-backend.js';

export type BlobKind = 'image' | 'table';

/** Blobs one request decodes at the same time (each holds its bytes and an inflate stream while it runs). */
export const MAX_CONCURRENT_VALIDATIONS = 2;

/** What an item learns about a blob it names: not usable by this project, or its size and check. */
export type BlobAnswer = { readonly owned: false } | { readonly owned: true; readonly size: number; readonly check: BlobCheck | undefined };

/** The error for a blob the project does not own: the same whether it was never uploaded or another project uploaded it. */
export function notUploaded(kind: BlobKind, name: string, hash: string, step?: number): LablogError {
  const where = kind === 'image' ? `image '${name}' at step ${step}` : `table '${name}'`;
  return new LablogError('INVALID_OPTION', `${where}: blob ${hash} was not uploaded`, { key: name, hash });
}

/** How a check records a table over MAX_TABLE_ARRAYS (followed by its count), refused without decoding it. */
const TOO_MANY_ARRAYS = 'MAX_TABLE_ARRAYS:';

/** The error a failed check stands for, worded for the item that names the blob. */
export function checkError(kind: BlobKind, name: string, invalid: string): LablogError {
  if (kind === 'image') return invalidPng(name, invalid);
  if (invalid.startsWith(TOO_MANY_ARRAYS)) return tableArraysError(name, Number(invalid.slice(TOO_MANY_ARRAYS.length)));
  return new LablogError('INVALID_TABLE', `table '${name}' is not an Arrow IPC stream: ${invalid}`, { key: name });
}

/**
 * Validates blobs for a server: each (blob, kind) is decoded at most once — a check found in the store is
 * reused, one already running in this process is awaited — and what it found is saved for every later
 * request (and every other server process on the database).
 */
export class BlobReferences {
  readonly #backend: ServerBackend;
  readonly #running = new Map<string, Promise<BlobCheck | undefined>>();

  constructor(backend: ServerBackend) {
    this.#backend = backend;
  }

  /**
   * Answers, for each named (hash, kind), whether `project` owns the blob and what its bytes are. One
   * ownership query for the whole request; images larger than maxImageBytes are not decoded (the caller
   * refuses them by size).
   */
  async resolve(
    project: string,
    wanted: readonly { hash: string; kind: BlobKind }[],
    limits: Limits,
    log: FastifyBaseLogger,
  ): Promise<Map<string, BlobAnswer>> {
    const answers = new Map<string, BlobAnswer>();
    if (wanted.length === 0) return answers;
    const owned = await this.#backend.ownedBlobs(
      project,
      wanted.map((w) => w.hash),
      Date.now(),
    );
    const fresh: { hash: string; check: BlobCheck }[] = [];
    const pending: (() => Promise<void>)[] = [];
    for (const { hash, kind } of wanted) {
      const key = `${kind}:${hash}`;
      if (answers.has(key)) continue;
      const blob = owned.get(hash);
      if (blob === undefined) {
        answers.set(key, { owned: false });
        continue;
      }
      const known = blob.checks.find((c) => c.kind === kind);
      if (known !== undefined || (kind === 'image' && blob.size > limits.maxImageBytes)) {
        answers.set(key, { owned: true, size: blob.size, check: known });
        continue;
      }
      // Set now, so a second name of the same blob in this request does not queue it again.
      answers.set(key, { owned: true, size: blob.size, check: undefined });
      pending.push(async () => {
        const { check, saved } = await this.#validate(blob, kind, log);
        // No bytes: collected since ownership was read, so not uploaded as far as this request goes.
        if (check === undefined) return void answers.set(key, { owned: false });
        answers.set(key, { owned: true, size: blob.size, check });
        if (!saved) fresh.push({ hash, check });
      });
    }
    const workers = Array.from({ length: Math.min(MAX_CONCURRENT_VALIDATIONS, pending.length) }, async () => {
      for (let next = pending.shift(); next !== undefined; next = pending.shift()) await next();
    });
    await Promise.all(workers);
    if (fresh.length > 0) {
      // A check is a function of the bytes: failing to remember it only costs a later decode.
      await this.#backend.saveBlobChecks(fresh).catch((error: unknown) => log.warn({ err: error }, 'could not remember blob checks'));
    }
    return answers;
  }

  /** Decodes one blob as `kind`, or joins the decode of it already running; `saved` is false for the one that ran it. */
  async #validate(blob: OwnedBlob, kind: BlobKind, log: FastifyBaseLogger): Promise<{ check: BlobCheck | undefined; saved: boolean }> {
    const key = `${kind}:${blob.hash}`;
    const running = this.#running.get(key);
    if (running !== undefined) return { check: await running, saved: true };
    const started = performance.now();
    const run = (async (): Promise<BlobCheck | undefined> => {
      const bytes = await this.#backend.readBlob(blob.hash);
      if (bytes === undefined) return undefined;
      if (kind === 'image') {
        const info = await validatePng('', bytes);
        return info instanceof LablogError
          ? { kind, invalid: String(info.details.actual) }
          : { kind, width: info.width, height: info.height };
      }
      try {
        // Counted from the message headers alone: a stream of many tiny batches costs seconds to decode.
        const arrays = countTableArrays(await loadArrow(), bytes);
        if (arrays > MAX_TABLE_ARRAYS) return { kind, invalid: `${TOO_MANY_ARRAYS}${arrays}` };
        const table = await tableFromIpc(bytes);
        return { kind, rows: table.numRows, columns: table.numCols };
      } catch (cause) {
        return { kind, invalid: (cause as Error).message };
      }
    })();
    this.#running.set(key, run);
    try {
      const check = await run;
      if (check === undefined) return { check, saved: true };
      log.info(
        { hash: blob.hash, kind, bytes: blob.size, ms: Math.round(performance.now() - started), valid: !('invalid' in check) },
        'blob validated',
      );
      return { check, saved: false };
    } finally {
      this.#running.delete(key);
    }
  }
}

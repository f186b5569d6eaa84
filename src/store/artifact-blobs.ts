// Artifact blobs: artifact bytes kept outside the database under their sha256 — written streaming (hashed while copied, fsynced, renamed), read streaming with ranges, resumable uploads for the server (types only).

import type { Readable } from 'node:stream';

/** A blob written: its sha256 and size, and whether these bytes were there already (nothing was written). */
export interface WrittenBlob {
  readonly sha256: string;
  readonly size: number;
  readonly existed: boolean;
}

/** How much a blob may hold, and the sha256 it must have when the writer knows it. */
export interface BlobWriteOptions {
  readonly maxBytes: number;
  readonly expectedSha256?: string;
}

/**
 * Bytes stored by sha256 (a folder of files for the embedded store and `lablog server --artifacts DIR`,
 * or S3-compatible object storage). Asynchronous and streaming: memory stays bounded whatever the size.
 * A blob is visible only complete and verified; failures reject with a LablogError (STORAGE_ERROR with the
 * driver's code — ENOSPC for a full disk —, LIMIT_EXCEEDED, CHECKSUM_MISMATCH).
 */
export interface ArtifactBlobs {
  /** Where the bytes live (a folder, or s3://bucket/prefix), for messages. */
  readonly location: string;
  /** The size of a stored blob, or undefined when it is not there. */
  size(sha256: string): Promise<number | undefined>;
  /**
   * Streams `source` in under the sha256 computed while copying: to a temp file (object), flushed to stable
   * storage, then renamed into place. More than `maxBytes`: LIMIT_EXCEEDED and nothing kept. `expectedSha256`
   * given and different: CHECKSUM_MISMATCH and nothing kept. Bytes already stored are not kept twice.
   */
  write(source: Readable, options: BlobWriteOptions): Promise<WrittenBlob>;
  /**
   * Optional: like write(), with the bytes pulled by `read(buffer, position)` (it fills `buffer` from
   * `position` and resolves with the bytes read, 0 at the end) into buffers the store owns and reuses, so
   * a copy of any size makes no garbage per chunk (a stream's fresh buffers let RSS grow until a GC).
   * Failures of `read` reject as they are.
   */
  writeFrom?(read: (buffer: Buffer, position: number) => Promise<number>, options: BlobWriteOptions): Promise<WrittenBlob>;
  /** The blob's bytes (from `start` to `end` inclusive, when given). ARTIFACT_NOT_FOUND when it is not there. */
  read(sha256: string, range?: { readonly start: number; readonly end: number }): Promise<Readable>;
  /** Every stored blob's sha256 (not uploads in progress, not temp files). */
  list(): AsyncIterable<string>;
  /**
   * When the blob was last written, or found already there by a write (ms since the epoch); undefined when it
   * is not there. `lablog gc` keeps blobs younger than its grace period (a write may not have committed its
   * row yet). Optional: a store without it is collected by references alone.
   */
  storedAt?(sha256: string): Promise<number | undefined>;
  /** Deletes a stored blob (absent: nothing happens). */
  remove(sha256: string): Promise<void>;

  // Resumable uploads (the server's): the bytes of one blob arrive in chunks, in order, over any number of requests.
  /** Bytes received so far of the upload of `sha256` (0 when none started). */
  uploadOffset(sha256: string): Promise<number>;
  /**
   * Appends a chunk at `offset`, which must be the upload's current offset (else UPLOAD_CONFLICT with the
   * offset it is at: a chunk out of order or sent again writes nothing); returns the new offset.
   */
  appendUpload(sha256: string, offset: number, chunk: Buffer): Promise<number>;
  /**
   * Ends the upload: its bytes must be `size` long and hash to `sha256` (else CHECKSUM_MISMATCH, and the upload
   * is discarded); then they are moved in as the blob.
   */
  completeUpload(sha256: string, size: number): Promise<void>;
}

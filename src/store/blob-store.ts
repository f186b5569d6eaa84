// The blob capability of a server's store: content-addressed bytes, per-project ownership and quota, collection (types only).

/** What validating a blob's bytes as an image (PNG) or a table (Arrow IPC) found; remembered per blob and kind. */
export type BlobCheck =
  | { readonly kind: 'image'; readonly width: number; readonly height: number }
  | { readonly kind: 'table'; readonly rows: number; readonly columns: number }
  | { readonly kind: 'image' | 'table'; readonly invalid: string };

/** A blob a project owns: its size and the checks already run on its bytes. */
export interface OwnedBlob {
  readonly hash: string;
  readonly size: number;
  readonly checks: readonly BlobCheck[];
}

/** What one pass of blob collection removed. */
export interface BlobCollection {
  /** Ownership records dropped (a project's unreferenced upload past its grace period). */
  readonly owners: number;
  /** Blobs whose bytes were deleted. */
  readonly blobs: number;
  readonly bytes: number;
}

/** Bytes stored under their sha256, and which project owns them. Failures throw a LablogError. */
export interface BlobStore {
  /** Which of these blob hashes the store lacks, whoever uploaded them (store-wide: never an answer to a client). */
  missingBlobs(hashes: readonly string[]): string[];
  /** Stores bytes under their sha256 (verified by the caller) for no project; storing known bytes again stores nothing. */
  putBlob(hash: string, bytes: Buffer): void;
  readBlob(hash: string): Buffer | undefined;
  /**
   * Stores bytes (once per hash) and records that `project` uploaded them, in one transaction that first
   * checks the project's quota of unreferenced bytes: LIMIT_EXCEEDED (limit, actual) when these bytes would
   * make the project's unreferenced uploads exceed `quota` (nothing stored). Bytes the project already owns
   * cost nothing and only refresh its ownership.
   */
  uploadBlob(project: string, hash: string, bytes: Buffer, quota: number, now: number): void;
  /**
   * The blobs among `hashes` that `project` owns (uploaded, or referenced by one of its experiments), with
   * their size and remembered checks; their ownership is refreshed to `now`, so none is collected for a
   * grace period. Hashes only other projects own are absent, exactly like hashes never uploaded.
   */
  ownedBlobs(project: string, hashes: readonly string[], now: number): Map<string, OwnedBlob>;
  /** Remembers what validating blobs found (a check is a function of the bytes: storing it twice keeps the first). */
  saveBlobChecks(checks: readonly { readonly hash: string; readonly check: BlobCheck }[]): void;
  /**
   * Drops up to `maxOwners` ownership records that nothing references and that were not refreshed for
   * `graceMs`, then the bytes no project owns and nothing references, in one short transaction. Safe with
   * several server processes on one database.
   */
  collectBlobs(graceMs: number, now: number, maxOwners: number): BlobCollection;
}

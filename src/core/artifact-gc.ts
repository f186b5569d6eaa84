// Collecting artifact blobs: removes the stored blobs no artifact references, except those younger than a grace period (a write whose row is not committed yet).

import type { ArtifactBlobs } from '../store/artifact-blobs.js';
import type { ArtifactStore } from '../store/artifact-store.js';

/**
 * A blob written (or found already there by a write) less than this long ago is kept even when nothing
 * references it: logArtifact stores the bytes first and commits the row after, and a copy of many files
 * or a slow commit must not lose its blobs to a concurrent `lablog gc` (24 h).
 */
export const ARTIFACT_GC_GRACE_MS = 24 * 60 * 60 * 1000;
/** The most blobs one pass looks at (the rest waits for the next `lablog gc`). */
export const MAX_GC_BLOBS_PER_PASS = 10_000_000;

export interface ArtifactGcOptions {
  /** List what would be removed, remove nothing. */
  readonly dryRun?: boolean;
  /** Keep unreferenced blobs younger than this (default ARTIFACT_GC_GRACE_MS). */
  readonly graceMs?: number;
}

export interface ArtifactGcResult {
  /** The blobs removed (or, on a dry run, that would be): sha256 and size. */
  readonly removed: readonly { readonly sha256: string; readonly size: number }[];
  readonly removedBytes: number;
  /** Blobs kept because an artifact references them, and unreferenced ones kept because they are recent. */
  readonly referenced: number;
  readonly recent: number;
  readonly dryRun: boolean;
}

/**
 * One pass: every stored blob (never a temp file or an upload in progress: those are not blobs) that no
 * artifact file references and that is older than the grace period is removed. The references are read
 * after the listing, so a row committed meanwhile keeps its blob.
 */
export async function collectArtifactBlobs(
  artifacts: ArtifactStore,
  blobs: ArtifactBlobs,
  options: ArtifactGcOptions = {},
): Promise<ArtifactGcResult> {
  const graceMs = options.graceMs ?? ARTIFACT_GC_GRACE_MS;
  const dryRun = options.dryRun ?? false;
  const stored: string[] = [];
  for await (const sha256 of blobs.list()) {
    stored.push(sha256);
    if (stored.length >= MAX_GC_BLOBS_PER_PASS) break;
  }
  let referenced = artifacts.referencedBlobs();
  const candidates: { sha256: string; size: number }[] = [];
  let kept = 0;
  let recent = 0;
  const now = Date.now();
  for (const sha256 of stored) {
    if (referenced.has(sha256)) {
      kept++;
      continue;
    }
    const storedAt = blobs.storedAt ? await blobs.storedAt(sha256) : undefined;
    if (storedAt !== undefined && now - storedAt < graceMs) {
      recent++;
      continue;
    }
    candidates.push({ sha256, size: (await blobs.size(sha256)) ?? 0 });
  }
  // Read again just before removing: a row committed since the first read keeps its blob.
  referenced = artifacts.referencedBlobs();
  const removed = candidates.filter((c) => !referenced.has(c.sha256));
  kept += candidates.length - removed.length;
  if (!dryRun) for (const { sha256 } of removed) await blobs.remove(sha256);
  const removedBytes = removed.reduce((sum, c) => sum + c.size, 0);
  return { removed, removedBytes, referenced: kept, recent, dryRun };
}

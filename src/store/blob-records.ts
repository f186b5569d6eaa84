// Blob records shared by the server stores: a remembered check as table columns and back, and the upload quota's error.

import { LablogError } from '../model/errors.js';
import type { BlobCheck } from './blob-store.js';

/** A blob_checks row as both stores read it (kind null: the blob has no check yet). */
export interface BlobCheckRow {
  readonly kind: 'image' | 'table' | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly rows: number | null;
  readonly columns: number | null;
  readonly invalid: string | null;
}

export function blobCheck(row: BlobCheckRow): BlobCheck {
  const kind = row.kind!;
  if (row.invalid !== null) return { kind, invalid: row.invalid };
  return kind === 'image' ? { kind, width: row.width!, height: row.height! } : { kind, rows: row.rows!, columns: row.columns! };
}

/** kind, width, height, rows, columns, invalid: the column values of a check. */
export function blobCheckColumns(check: BlobCheck): [string, number | null, number | null, number | null, number | null, string | null] {
  if ('invalid' in check) return [check.kind, null, null, null, null, check.invalid];
  if (check.kind === 'image') return ['image', check.width, check.height, null, null, null];
  return ['table', null, null, check.rows, check.columns, null];
}

/** Fails LIMIT_EXCEEDED when a project's uploads not yet referenced would come to `actual` bytes, over `quota`. */
export function assertBlobQuota(project: string, actual: number, quota: number): void {
  if (actual <= quota) return;
  throw new LablogError(
    'LIMIT_EXCEEDED',
    `project '${project}' would hold ${actual} bytes of uploaded blobs no image or table references; the limit is ${quota} (blob quota): publish the points that use them first, or wait until unreferenced uploads are collected`,
    { project, limit: quota, actual },
  );
}

// The state of one resumable upload into S3: its multipart upload and the parts acknowledged so far, kept as a small JSON object beside the blobs (types and pure functions).

/** S3's smallest part of a multipart upload, except the last one (5 MiB). */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's most parts in one multipart upload. */
export const S3_MAX_PARTS = 10_000;

/** One acknowledged part: its number (1, 2, …), the ETag S3 answered and its size. */
export interface S3UploadPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
}

/**
 * An upload in progress (`<prefix>/uploads/<sha256>.json`): the multipart upload the chunks go to, at key
 * `key`, and its parts in order. S3-compatible servers do not all list multipart uploads (s3rver does
 * not), so the state is an object of its own, rewritten after each acknowledged part.
 */
export interface S3UploadState {
  readonly uploadId: string;
  readonly key: string;
  readonly parts: readonly S3UploadPart[];
}

/** The bytes an upload has received: the sum of its parts' sizes. */
export function uploadStateOffset(state: S3UploadState): number {
  return state.parts.reduce((sum, part) => sum + part.size, 0);
}

/** Reads a state object's JSON; undefined when it is not one (the caller reports the object as malformed). */
export function parseUploadState(text: string): S3UploadState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = value as { uploadId?: unknown; key?: unknown; parts?: unknown };
  if (typeof v !== 'object' || v === null || typeof v.uploadId !== 'string' || typeof v.key !== 'string' || !Array.isArray(v.parts)) {
    return undefined;
  }
  const parts: S3UploadPart[] = [];
  for (const [index, p] of (v.parts as unknown[]).entries()) {
    const part = p as { partNumber?: unknown; etag?: unknown; size?: unknown };
    if (
      typeof part !== 'object' ||
      part === null ||
      part.partNumber !== index + 1 ||
      typeof part.etag !== 'string' ||
      !Number.isSafeInteger(part.size) ||
      (part.size as number) < 0
    ) {
      return undefined;
    }
    parts.push({ partNumber: index + 1, etag: part.etag, size: part.size as number });
  }
  return { uploadId: v.uploadId, key: v.key, parts };
}

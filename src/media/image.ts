// Image input: turns PNG bytes, a path to a PNG or a sharp instance into validated PNG bytes.

import { readFile } from 'node:fs/promises';
import { LablogError, describeValue } from '../model/errors.js';
import { validatePng, type PngInfo } from './png.js';

/** What logImage accepts. A sharp instance is recognised by its shape, so lablog does not load sharp itself. */
export type ImageInput = Buffer | Uint8Array | string | SharpLike;

export interface SharpLike {
  clone(): SharpLike;
  png(): SharpLike;
  toBuffer(): Promise<Buffer>;
}

export interface PngImage extends PngInfo {
  readonly png: Buffer;
}

function isSharpLike(value: unknown): value is SharpLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SharpLike).png === 'function' &&
    typeof (value as SharpLike).toBuffer === 'function' &&
    typeof (value as SharpLike).clone === 'function'
  );
}

/**
 * Reads an image input into PNG bytes (copied, so later changes by the caller do not reach the store)
 * and validates it. JPEG/GIF/WebP bytes or files are rejected, never converted; a sharp instance is
 * encoded as PNG because the caller chose the pipeline.
 */
export async function toPngImage(key: string, input: unknown, maxBytes: number): Promise<PngImage | LablogError> {
  let bytes: Buffer;
  if (Buffer.isBuffer(input)) {
    bytes = Buffer.from(input);
  } else if (input instanceof Uint8Array) {
    bytes = Buffer.from(input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength));
  } else if (typeof input === 'string') {
    try {
      bytes = await readFile(input);
    } catch (cause) {
      return new LablogError('INVALID_IMAGE', `image '${key}': cannot read ${input}: ${(cause as Error).message}`, {
        key,
        path: input,
      });
    }
  } else if (isSharpLike(input)) {
    try {
      bytes = await input.clone().png().toBuffer();
    } catch (cause) {
      return new LablogError('INVALID_IMAGE', `image '${key}': sharp could not encode it as PNG: ${(cause as Error).message}`, {
        key,
      });
    }
  } else {
    return new LablogError(
      'INVALID_IMAGE',
      `image '${key}' must be PNG bytes (Buffer or Uint8Array), a path to a PNG file or a sharp instance, got ${describeValue(input)}`,
      { key, actual: describeValue(input) },
    );
  }
  if (bytes.length > maxBytes) {
    return new LablogError('LIMIT_EXCEEDED', `image '${key}' is ${bytes.length} bytes; the limit is ${maxBytes} (maxImageBytes)`, {
      key,
      limit: maxBytes,
      actual: bytes.length,
    });
  }
  const info = await validatePng(key, bytes);
  if (info instanceof LablogError) return info;
  return { png: bytes, width: info.width, height: info.height };
}

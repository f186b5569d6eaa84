// PNG validation: checks a PNG's structure, checksums and compressed pixel data without decoding it.

import { crc32, createInflate } from 'node:zlib';
import { LablogError } from '../model/errors.js';

/** Largest image accepted, in pixels (8192 × 8192): decoding is checked, and a small file can claim a huge image. */
export const MAX_PNG_PIXELS = 8192 * 8192;

/** Size of the inflated data, counted as it streams (never held whole); stops counting past `limit`. */
function inflatedSize(data: Buffer, limit: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const inflate = createInflate();
    let size = 0;
    inflate.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        inflate.destroy();
        resolve(size);
      }
    });
    inflate.on('end', () => resolve(size));
    inflate.on('error', reject);
    inflate.end(data);
  });
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const BIT_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
// Adam7 passes: x start, y start, x step, y step.
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

export interface PngInfo {
  readonly width: number;
  readonly height: number;
}

/** The INVALID_IMAGE error for PNG bytes of image `key`, saying why they are not a valid PNG. */
export function invalidPng(key: string, why: string): LablogError<'INVALID_IMAGE'> {
  return new LablogError('INVALID_IMAGE', `image '${key}' is not a valid PNG: ${why}`, { key, actual: why });
}

/** Names the format of bytes that are not PNG, for a clearer error. */
function sniffFormat(bytes: Uint8Array): string {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'JPEG data';
  if (bytes.length >= 6 && Buffer.from(bytes.subarray(0, 4)).toString('latin1') === 'GIF8') return 'GIF data';
  if (bytes.length >= 12 && Buffer.from(bytes.subarray(8, 12)).toString('latin1') === 'WEBP') return 'WebP data';
  if (bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d) return 'BMP data';
  return `no PNG signature (first bytes ${Buffer.from(bytes.subarray(0, 8)).toString('hex') || 'none'})`;
}

/**
 * Checks a PNG fully: signature, chunk lengths and CRCs, IHDR first and valid, IEND last, and that the
 * IDAT stream inflates to exactly the size the header implies (catches truncation and corruption).
 */
export async function validatePng(key: string, bytes: Buffer): Promise<PngInfo | LablogError<'INVALID_IMAGE'>> {
  if (bytes.length < SIGNATURE.length || !bytes.subarray(0, 8).equals(SIGNATURE)) {
    return invalidPng(key, bytes.length === 0 ? 'it is empty' : `${sniffFormat(bytes)}; only PNG is accepted`);
  }
  let offset = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colorType = 0;
  let interlace = 0;
  let sawEnd = false;
  let sawPalette = false;
  const idat: Buffer[] = [];
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length) return invalidPng(key, `truncated chunk header at byte ${offset}`);
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > bytes.length) return invalidPng(key, `chunk ${type} at byte ${offset} is truncated`);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    const expected = bytes.readUInt32BE(offset + 8 + length);
    if (crc32(body, crc32(bytes.subarray(offset + 4, offset + 8))) !== expected) {
      return invalidPng(key, `chunk ${type} at byte ${offset} has a bad CRC`);
    }
    if (offset === 8) {
      if (type !== 'IHDR' || length !== 13) return invalidPng(key, 'the first chunk is not a 13-byte IHDR');
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      bitDepth = body[8]!;
      colorType = body[9]!;
      interlace = body[12]!;
      if (width === 0 || height === 0) return invalidPng(key, `its size is ${width}×${height}`);
      // From the header, before any other work: what one validation costs is bounded by this limit.
      if (width * height > MAX_PNG_PIXELS) {
        return invalidPng(key, `it is ${width}×${height} pixels; the limit is ${MAX_PNG_PIXELS} pixels (8192×8192)`);
      }
      if (!BIT_DEPTHS[colorType]?.includes(bitDepth)) {
        return invalidPng(key, `color type ${colorType} with bit depth ${bitDepth} does not exist`);
      }
      if (interlace > 1) return invalidPng(key, `unknown interlace method ${interlace}`);
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'PLTE') {
      sawPalette = true;
    } else if (type === 'IEND') {
      sawEnd = true;
      if (end !== bytes.length) return invalidPng(key, `${bytes.length - end} bytes follow the IEND chunk`);
    }
    offset = end;
  }
  if (!sawEnd) return invalidPng(key, 'it has no IEND chunk (truncated?)');
  if (idat.length === 0) return invalidPng(key, 'it has no IDAT chunk');
  if (colorType === 3 && !sawPalette) return invalidPng(key, 'an indexed-color image without a PLTE chunk');

  const bitsPerPixel = CHANNELS[colorType]! * bitDepth;
  const rowBytes = (w: number) => 1 + Math.ceil((w * bitsPerPixel) / 8);
  let expectedSize = 0;
  if (interlace === 0) {
    expectedSize = height * rowBytes(width);
  } else {
    for (const [xs, ys, dx, dy] of ADAM7) {
      const w = width > xs ? Math.ceil((width - xs) / dx) : 0;
      const h = height > ys ? Math.ceil((height - ys) / dy) : 0;
      if (w > 0 && h > 0) expectedSize += h * rowBytes(w);
    }
  }
  let inflated: number;
  try {
    inflated = await inflatedSize(Buffer.concat(idat), expectedSize);
  } catch (cause) {
    return invalidPng(key, `its pixel data does not decompress (${(cause as Error).message})`);
  }
  if (inflated !== expectedSize) {
    const what = inflated > expectedSize ? `more than ${expectedSize}` : String(inflated);
    return invalidPng(key, `its pixel data is ${what} bytes; a ${width}×${height} image needs ${expectedSize}`);
  }
  return { width, height };
}

// Column codec: compact, lossless encodings of metric chunk columns (steps, timestamps), shared by every store and the sync wire format.
//
// Each column's encoding is a small integer kept beside the blob (metric_chunks.encoding):
//   RAW         little-endian float64 × count
//   ARITHMETIC  [first f64][delta f64]                 16 bytes: steps 0, 1, 2, … and other exact progressions
//   DELTA_U16   [first f64][u16 × (count − 1) deltas]  integers increasing by 0..65535 (ms timestamps)
//   DELTA_I32   [first f64][i32 × (count − 1) deltas]  integers whose deltas fit in int32
// An encoding is chosen only when decoding reproduces every value exactly.

export const RAW = 0;
export const ARITHMETIC = 1;
export const DELTA_U16 = 2;
export const DELTA_I32 = 3;
export type ColumnEncoding = typeof RAW | typeof ARITHMETIC | typeof DELTA_U16 | typeof DELTA_I32;

const MAX_EXACT = 2 ** 53;

export interface EncodedColumn {
  readonly encoding: ColumnEncoding;
  /** May share memory with the column that was encoded. */
  readonly bytes: Buffer;
}

function raw(values: Float64Array): EncodedColumn {
  return { encoding: RAW, bytes: Buffer.from(values.buffer, values.byteOffset, values.byteLength) };
}

/** The smallest lossless encoding of a column. */
export function encodeColumn(values: Float64Array): EncodedColumn {
  const n = values.length;
  if (n < 3) return raw(values);
  const first = values[0]!;
  const delta = values[1]! - first;
  // -0 and non-finite values are kept raw; so is anything not reproduced exactly below.
  if (!(Math.abs(first) < MAX_EXACT) || (first === 0 && 1 / first < 0)) return raw(values);
  // Pass 1: an exact progression (steps nearly always are). Fails fast on anything else.
  // Every value is checked as the decoder will compute it, the second one too (first + delta may round
  // differently from values[1]); -0 anywhere stays raw.
  let arithmetic = Math.abs(delta) < MAX_EXACT;
  for (let i = 1; arithmetic && i < n; i++) {
    const v = values[i]!;
    if (first + i * delta !== v || (v === 0 && 1 / v < 0)) arithmetic = false;
  }
  if (arithmetic) {
    const out = new Float64Array([first, delta]);
    return { encoding: ARITHMETIC, bytes: Buffer.from(out.buffer) };
  }
  // Pass 2: exact integers (no -0) with bounded deltas.
  if (Math.floor(first) !== first) return raw(values);
  let minDelta = Infinity;
  let maxDelta = -Infinity;
  let previous = first;
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    if (Math.floor(v) !== v || !(Math.abs(v) < MAX_EXACT) || (v === 0 && 1 / v < 0)) return raw(values);
    const d = v - previous;
    if (d < minDelta) minDelta = d;
    if (d > maxDelta) maxDelta = d;
    previous = v;
  }
  const wide = !(minDelta >= 0 && maxDelta <= 0xffff);
  if (wide && !(minDelta >= -0x80000000 && maxDelta <= 0x7fffffff)) return raw(values);
  const buffer = new ArrayBuffer(8 + (wide ? 4 : 2) * (n - 1));
  new Float64Array(buffer, 0, 1)[0] = first;
  const deltas = wide ? new Int32Array(buffer, 8, n - 1) : new Uint16Array(buffer, 8, n - 1);
  for (let i = 1; i < n; i++) deltas[i - 1] = values[i]! - values[i - 1]!;
  return { encoding: wide ? DELTA_I32 : DELTA_U16, bytes: Buffer.from(buffer) };
}

/** A copy of the bytes in memory of their own, so typed views on it are aligned. */
function aligned(bytes: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}

/** Decodes a column of `count` values into `target` from index `offset`. */
export function decodeColumn(encoding: number, bytes: Buffer, count: number, target: Float64Array, offset: number): void {
  switch (encoding) {
    case RAW:
      new Uint8Array(target.buffer, target.byteOffset + offset * 8, count * 8).set(bytes.subarray(0, count * 8));
      return;
    case ARITHMETIC: {
      const first = bytes.readDoubleLE(0);
      const delta = bytes.readDoubleLE(8);
      for (let i = 0; i < count; i++) target[offset + i] = first + i * delta;
      return;
    }
    case DELTA_U16:
    case DELTA_I32: {
      const buffer = aligned(bytes);
      let value = new Float64Array(buffer, 0, 1)[0]!;
      const deltas = encoding === DELTA_U16 ? new Uint16Array(buffer, 8, count - 1) : new Int32Array(buffer, 8, count - 1);
      target[offset] = value;
      for (let i = 1; i < count; i++) target[offset + i] = value += deltas[i - 1]!;
      return;
    }
    default:
      throw new Error(`unknown column encoding ${encoding}`);
  }
}

export function decodeColumnToArray(encoding: number, bytes: Buffer, count: number): Float64Array {
  const out = new Float64Array(count);
  decodeColumn(encoding, bytes, count, out, 0);
  return out;
}

/** Steps' and timestamps' encodings packed in one integer (low 4 bits: steps). */
export function packEncodings(steps: ColumnEncoding, timestamps: ColumnEncoding): number {
  return steps | (timestamps << 4);
}

export function unpackEncodings(packed: number): { steps: number; timestamps: number } {
  return { steps: packed & 0xf, timestamps: (packed >> 4) & 0xf };
}

/** A stored chunk of a metric series: its point count, packed encodings and the three column blobs. */
export interface EncodedChunk {
  readonly count: number;
  readonly encoding: number;
  readonly steps: Buffer;
  readonly vals: Buffer;
  readonly timestamps: Buffer;
}

/** Decodes consecutive chunks into one set of columns (values are always raw float64). */
export function decodeChunks(chunks: readonly EncodedChunk[]): { steps: Float64Array; values: Float64Array; timestamps: Float64Array } {
  let total = 0;
  for (const chunk of chunks) total += chunk.count;
  const steps = new Float64Array(total);
  const values = new Float64Array(total);
  const timestamps = new Float64Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    const encodings = unpackEncodings(chunk.encoding);
    decodeColumn(encodings.steps, chunk.steps, chunk.count, steps, offset);
    decodeColumn(RAW, chunk.vals, chunk.count, values, offset);
    decodeColumn(encodings.timestamps, chunk.timestamps, chunk.count, timestamps, offset);
    offset += chunk.count;
  }
  return { steps, values, timestamps };
}

/** A chunk as a chart reads it: its x column (steps or timestamps) and its values, nothing else. */
export interface EncodedXChunk {
  readonly count: number;
  readonly encoding: number;
  readonly xs: Buffer;
  readonly vals: Buffer;
}

/** An x column of evenly spaced values, not materialised: first + i × delta for i < length. */
export interface EvenColumn {
  readonly first: number;
  readonly delta: number;
  readonly length: number;
}

/**
 * Decodes each chunk's x column (`steps` or `timestamps`, per the packed encodings) and values, chunk by
 * chunk: a chart reads millions of points, so values are views on the stored bytes where they are aligned
 * (no copy, no concatenation), and evenly spaced steps (0, 1, 2, …) stay an EvenColumn.
 */
export function decodeXChunks(
  chunks: readonly EncodedXChunk[],
  x: 'steps' | 'timestamps',
): { xs: Float64Array | EvenColumn; values: Float64Array }[] {
  return chunks.map((chunk) => {
    const encoding = unpackEncodings(chunk.encoding)[x];
    const first = encoding === ARITHMETIC ? chunk.xs.readDoubleLE(0) : NaN;
    const delta = encoding === ARITHMETIC ? chunk.xs.readDoubleLE(8) : NaN;
    // Only a true ascending progression stays even (the downsampler walks buckets by it).
    const even = x === 'steps' && chunk.count >= 2 && delta > 0 && Number.isFinite(first + delta * chunk.count);
    const xs = even ? { first, delta, length: chunk.count } : decodeColumnToArray(encoding, chunk.xs, chunk.count);
    const bytes = chunk.vals;
    const values =
      bytes.byteOffset % 8 === 0
        ? new Float64Array(bytes.buffer, bytes.byteOffset, chunk.count)
        : decodeColumnToArray(RAW, bytes, chunk.count);
    return { xs, values };
  });
}

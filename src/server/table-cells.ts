// Table cells: one cell of an Arrow column as JSON, reading no more of the stored bytes than its character budget shows.

import type { Data, Vector } from 'apache-arrow';

export type Arrow = typeof import('apache-arrow');

/** A column chopped into its record batches' Data, with where each batch starts. */
export interface Column {
  readonly name: string;
  readonly type: string;
  readonly data: readonly Data[];
  readonly starts: readonly number[];
}

/** Remaining characters of the cell being rendered; `cut` once anything was left out. */
export interface Budget {
  chars: number;
  cut: boolean;
}

const decoder = new TextDecoder('utf-8');

export function chop(vector: Vector, name: string): Column {
  const starts: number[] = [];
  let start = 0;
  for (const data of vector.data) {
    starts.push(start);
    start += data.length;
  }
  return { name, type: String(vector.type), data: vector.data, starts };
}

const dictionaries = new WeakMap<Vector, Column>();

/** The batch and index within it of row `row`. */
export function locate(column: Column, row: number): [Data, number] {
  let lo = 0;
  let hi = column.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (column.starts[mid]! <= row) lo = mid;
    else hi = mid - 1;
  }
  return [column.data[lo]!, row - column.starts[lo]!];
}

/** Text of at most `budget.chars` characters from UTF-8 bytes [start, end): never decodes more than it shows. */
function text(bytes: Uint8Array, start: number, end: number, budget: Budget): string {
  const take = Math.min(end - start, Math.max(0, budget.chars));
  let out = decoder.decode(bytes.subarray(start, start + take));
  if (take < end - start) {
    budget.cut = true;
    // A cut through a multi-byte character decodes as U+FFFD: drop it.
    while (out.endsWith('\uFFFD')) out = out.slice(0, -1);
  }
  budget.chars -= out.length + 2;
  return out;
}

function base64(bytes: Uint8Array, budget: Budget): string {
  const take = Math.min(bytes.length, Math.max(0, Math.floor((budget.chars * 3) / 4)));
  if (take < bytes.length) budget.cut = true;
  const out = Buffer.from(bytes.buffer, bytes.byteOffset, take).toString('base64');
  budget.chars -= out.length + 2;
  return out;
}

/** A scalar's JSON-able value: numbers, booleans and bigints as they are; typed arrays (intervals, decimals) as lists. */
function scalar(value: unknown, budget: Budget): unknown {
  if (value === null || value === undefined) {
    budget.chars -= 4;
    return null;
  }
  if (ArrayBuffer.isView(value)) {
    const list = Array.from(value as unknown as ArrayLike<number | bigint>);
    budget.chars -= list.length * 8;
    return list;
  }
  budget.chars -= typeof value === 'string' ? value.length + 2 : 12;
  return value;
}

const fixedWidth = new WeakMap<Data, Vector>();

/**
 * Cell `i` of `data` as JSON, reading only what the budget lets it show: text and bytes are sliced before
 * they are decoded, lists and structs stop at the budget, dictionary cells read only their own entry.
 */
export function cell(arrow: Arrow, data: Data, i: number, budget: Budget): unknown {
  const { DataType } = arrow;
  const type = data.type;
  if (budget.chars <= 0) {
    budget.cut = true;
    return null;
  }
  if (DataType.isNull(type)) {
    budget.chars -= 4;
    return null;
  }
  if (DataType.isUnion(type)) {
    const typeId = (data.typeIds as Int8Array)[i]!;
    const child = data.children[type.typeIdToChildIndex[typeId]!]!;
    const index = type.mode === arrow.UnionMode.Dense ? (data.valueOffsets as Int32Array)[i]! : i;
    return cell(arrow, child, index, budget);
  }
  if (!data.getValid(i)) {
    budget.chars -= 4;
    return null;
  }
  if (DataType.isDictionary(type)) {
    const index = Number((data.values as ArrayLike<number | bigint>)[i]!);
    const vector = data.dictionary!;
    let dictionary = dictionaries.get(vector);
    if (dictionary === undefined) dictionaries.set(vector, (dictionary = chop(vector, '')));
    return cell(arrow, ...locate(dictionary, index), budget);
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) {
    const offsets = data.valueOffsets as ArrayLike<number | bigint>;
    return text(data.values as Uint8Array, Number(offsets[i]!), Number(offsets[i + 1]!), budget);
  }
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) {
    const offsets = data.valueOffsets as ArrayLike<number | bigint>;
    return base64((data.values as Uint8Array).subarray(Number(offsets[i]!), Number(offsets[i + 1]!)), budget);
  }
  if (DataType.isFixedSizeBinary(type)) {
    const width = type.byteWidth;
    return base64((data.values as Uint8Array).subarray(i * width, (i + 1) * width), budget);
  }
  if (DataType.isList(type) || DataType.isFixedSizeList(type) || DataType.isMap(type)) {
    let start: number;
    let end: number;
    if (DataType.isFixedSizeList(type)) {
      start = i * type.listSize;
      end = start + type.listSize;
    } else {
      const offsets = data.valueOffsets as ArrayLike<number | bigint>;
      start = Number(offsets[i]!);
      end = Number(offsets[i + 1]!);
    }
    const child = data.children[0]!;
    budget.chars -= 2;
    if (DataType.isMap(type)) {
      // Entries are a struct of key and value: an object keyed by the key's text.
      const out: Record<string, unknown> = {};
      for (let j = start; j < end; j++) {
        if (budget.chars <= 0) {
          budget.cut = true;
          break;
        }
        const key = String(cell(arrow, child.children[0]!, j, budget));
        Object.defineProperty(out, key, {
          value: cell(arrow, child.children[1]!, j, budget),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return out;
    }
    const out: unknown[] = [];
    for (let j = start; j < end; j++) {
      if (budget.chars <= 0) {
        budget.cut = true;
        break;
      }
      out.push(cell(arrow, child, j, budget));
      budget.chars -= 1;
    }
    return out;
  }
  if (DataType.isStruct(type)) {
    const out: Record<string, unknown> = {};
    budget.chars -= 2;
    type.children.forEach((field, k) => {
      if (budget.chars <= 0) {
        budget.cut = true;
        return;
      }
      budget.chars -= field.name.length + 4;
      Object.defineProperty(out, field.name, {
        value: cell(arrow, data.children[k]!, i, budget),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    });
    return out;
  }
  // Fixed-width scalars (bool, int, float, decimal, date, time, timestamp, interval, duration): arrow's own reading.
  let vector = fixedWidth.get(data);
  if (vector === undefined) fixedWidth.set(data, (vector = arrow.makeVector(data)));
  return scalar(vector.get(i), budget);
}

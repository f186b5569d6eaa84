// Tables: turns a nodejs-polars DataFrame or an apache-arrow Table into Arrow IPC stream bytes, and back.

import { loadPolars } from './polars.js';
import { createRequire } from 'node:module';
import type { Table } from 'apache-arrow';
import type { DataFrame } from 'nodejs-polars';
import { LablogError, describeValue } from '../model/errors.js';

type Arrow = typeof import('apache-arrow');

// apache-arrow ships separate ESM and CommonJS builds whose classes differ: a Table made with one is
// not written by the other. lablog is ESM and so are its users: it loads the ESM build, on first use
// (it costs ~130 ms), and falls back to the CommonJS build for tables made with require().
let esmArrow: Arrow | undefined;
let esmArrowLoading: Promise<Arrow> | undefined;
const require = createRequire(import.meta.url);

/** The ESM apache-arrow module when it has already been loaded, else undefined. */
export function loadedArrow(): Arrow | undefined {
  return esmArrow;
}

export function loadArrow(): Promise<Arrow> {
  return (esmArrowLoading ??= import('apache-arrow').then((module) => (esmArrow = module)));
}

export interface SerializedTable {
  readonly ipc: Buffer;
  readonly rows: number;
  readonly columns: number;
}

interface PolarsLike {
  height: number;
  width?: number;
  writeIPCStream(): Buffer;
}
interface ArrowLike {
  numRows: number;
  numCols?: number;
  schema: object;
  batches: unknown[];
}

export type TableInput =
  | { readonly kind: 'polars'; readonly rows: number; readonly ipc: Buffer }
  | { readonly kind: 'arrow'; readonly rows: number; readonly table: ArrowLike };

function isPolarsDataFrame(value: unknown): value is PolarsLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PolarsLike).writeIPCStream === 'function' &&
    typeof (value as PolarsLike).height === 'number'
  );
}

function isArrowTable(value: unknown): value is ArrowLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ArrowLike).numRows === 'number' &&
    Array.isArray((value as ArrowLike).batches) &&
    typeof (value as ArrowLike).schema === 'object'
  );
}

/**
 * Checks a table at the call: its kind and row count. A polars DataFrame is written to IPC bytes now
 * (a DataFrame can change later); an arrow Table is immutable and is written when arrow is loaded.
 */
export function readTableInput(key: string, table: unknown, maxRows: number, maxColumns = Infinity): TableInput | LablogError {
  const polars = isPolarsDataFrame(table);
  if (!polars && !isArrowTable(table)) {
    return new LablogError(
      'INVALID_TABLE',
      `table '${key}' must be a nodejs-polars DataFrame or an apache-arrow Table, got ${describeValue(table)}`,
      { key, actual: describeValue(table) },
    );
  }
  const rows = polars ? table.height : table.numRows;
  if (rows > maxRows) {
    return new LablogError('LIMIT_EXCEEDED', `table '${key}' has ${rows} rows; the limit is ${maxRows} (maxTableRows)`, {
      key,
      limit: maxRows,
      actual: rows,
    });
  }
  const columns = polars ? (table as PolarsLike).width : (table as ArrowLike).numCols;
  if (typeof columns === 'number' && columns > maxColumns) {
    return new LablogError('LIMIT_EXCEEDED', `table '${key}' has ${columns} columns; the limit is ${maxColumns} (maxTableColumns)`, {
      key,
      limit: maxColumns,
      actual: columns,
    });
  }
  if (!polars) return { kind: 'arrow', rows, table };
  try {
    // Polars' IPC *file* writer uses string-view types apache-arrow cannot read; its stream writer does not.
    return { kind: 'polars', rows, ipc: table.writeIPCStream() };
  } catch (cause) {
    return new LablogError('INVALID_TABLE', `table '${key}': polars could not write it as Arrow IPC: ${(cause as Error).message}`, { key });
  }
}

/**
 * Finishes a table with arrow loaded: writes an arrow Table to IPC, then reads the bytes back, so every
 * stored table can be returned whole by getTable.
 */
export function serializeTable(arrow: Arrow, key: string, input: TableInput): SerializedTable | LablogError {
  try {
    let ipc: Buffer;
    if (input.kind === 'polars') ipc = input.ipc;
    else if (input.table instanceof arrow.Table) ipc = Buffer.from(arrow.tableToIPC(input.table, 'stream'));
    else {
      const cjs = require('apache-arrow') as Arrow;
      if (!(input.table instanceof cjs.Table)) {
        return new LablogError(
          'INVALID_TABLE',
          `table '${key}' is an apache-arrow Table from another copy of apache-arrow than lablog's; pass a Table made with the apache-arrow lablog depends on, or a polars DataFrame`,
          { key },
        );
      }
      ipc = Buffer.from(cjs.tableToIPC(input.table, 'stream'));
    }
    const arrays = checkTableArrays(arrow, key, ipc);
    if (arrays !== undefined) return arrays;
    const check = arrow.tableFromIPC(ipc);
    if (check.numRows !== input.rows) throw new Error(`read back ${check.numRows} rows instead of ${input.rows}`);
    return { ipc, rows: input.rows, columns: check.numCols };
  } catch (cause) {
    return new LablogError('INVALID_TABLE', `table '${key}' cannot be stored as Arrow IPC: ${(cause as Error).message}`, { key });
  }
}

/**
 * Most arrays (a column, or a nested child, in one record batch or dictionary batch) one stored table holds:
 * decoding each costs ~20 µs whatever its length, so a small stream of many one-row batches of many columns
 * would take seconds to read (1,000 batches × 1,000 Null columns, 16 MB: 18 s).
 */
export const MAX_TABLE_ARRAYS = 10_000;

/** Arrays of an Arrow IPC stream (see MAX_TABLE_ARRAYS), counted from its message headers without decoding any batch. */
export function countTableArrays(arrow: Arrow, ipc: Uint8Array): number {
  const reader = new arrow.MessageReader(ipc);
  let arrays = 0;
  for (const message of reader) {
    if (message.isRecordBatch()) arrays += message.header().nodes.length;
    else if (message.isDictionaryBatch()) arrays += message.header().data.nodes.length;
    reader.readMessageBody(Number(message.bodyLength));
  }
  return arrays;
}

/** LIMIT_EXCEEDED when an Arrow IPC stream holds more than MAX_TABLE_ARRAYS arrays, else undefined. */
export function checkTableArrays(arrow: Arrow, key: string, ipc: Uint8Array): LablogError | undefined {
  const arrays = countTableArrays(arrow, ipc);
  return arrays <= MAX_TABLE_ARRAYS ? undefined : tableArraysError(key, arrays);
}

/** The LIMIT_EXCEEDED error of a table stored as `arrays` arrays, over MAX_TABLE_ARRAYS. */
export function tableArraysError(key: string, arrays: number): LablogError {
  return new LablogError(
    'LIMIT_EXCEEDED',
    `table '${key}' is stored as ${arrays} arrays (record batches × columns); the limit is ${MAX_TABLE_ARRAYS} (MAX_TABLE_ARRAYS): rechunk it into fewer batches`,
    { key, limit: MAX_TABLE_ARRAYS, actual: arrays },
  );
}

export async function tableFromIpc(ipc: Uint8Array): Promise<Table> {
  return (await loadArrow()).tableFromIPC(ipc);
}

export function dataFrameFromIpc(ipc: Uint8Array): DataFrame {
  return loadPolars().readIPCStream(Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength));
}

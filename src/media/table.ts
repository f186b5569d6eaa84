// Tables: turns a nodejs-polars DataFrame or an apache-arrow Table into Arrow IPC stream bytes, and back.

import { createRequire } from 'node:module';
import type { Table } from 'apache-arrow';
import type { DataFrame } from 'nodejs-polars';
import { LablogError, describeValue } from '../core/errors.js';

// Loaded on first use so that importing lablog stays fast (arrow costs ~70 ms, polars ~50 ms).
const require = createRequire(import.meta.url);
let arrowModule: typeof import('apache-arrow') | undefined;
let polarsModule: typeof import('nodejs-polars') | undefined;
export function loadArrow(): typeof import('apache-arrow') {
  return (arrowModule ??= require('apache-arrow') as typeof import('apache-arrow'));
}
export function loadPolars(): typeof import('nodejs-polars') {
  return (polarsModule ??= require('nodejs-polars') as typeof import('nodejs-polars'));
}

export interface SerializedTable {
  readonly ipc: Buffer;
  readonly rows: number;
  readonly columns: number;
}

interface PolarsLike {
  height: number;
  width: number;
  writeIPCStream(): Buffer;
}
interface ArrowLike {
  numRows: number;
  numCols: number;
  schema: { fields: unknown[] };
  batches: unknown[];
}

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
 * Serialises a table losslessly (column types kept) as an Arrow IPC stream. The bytes are read back with
 * apache-arrow before they are accepted, so every stored table can be returned by getTable.
 */
export function serializeTable(key: string, table: unknown, maxRows: number): SerializedTable | LablogError {
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
  let ipc: Buffer;
  try {
    const arrow = loadArrow();
    // Polars' IPC *file* writer uses string-view types apache-arrow cannot read; its stream writer does not.
    ipc = polars ? table.writeIPCStream() : Buffer.from(arrow.tableToIPC(table as unknown as Table, 'stream'));
    const check = arrow.tableFromIPC(ipc);
    if (check.numRows !== rows) throw new Error(`read back ${check.numRows} rows instead of ${rows}`);
    return { ipc, rows, columns: check.numCols };
  } catch (cause) {
    return new LablogError('INVALID_TABLE', `table '${key}' cannot be stored as Arrow IPC: ${(cause as Error).message}`, {
      key,
    });
  }
}

export function tableFromIpc(ipc: Uint8Array): Table {
  return loadArrow().tableFromIPC(ipc);
}

export function dataFrameFromIpc(ipc: Uint8Array): DataFrame {
  return loadPolars().readIPCStream(Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength));
}

// Table pages: one bounded JSON page of a stored Arrow table — rows × columns within named limits, every cell cut to a budget.

import type { Data, Table } from 'apache-arrow';
import { LablogError } from '../model/errors.js';
import { cell, chop, locate, type Arrow, type Budget, type Column } from './table-cells.js';

/** Rows of a JSON page when the request names no `limit`. */
export const DEFAULT_TABLE_PAGE_ROWS = 100;
/** Most rows one JSON page answers. */
export const MAX_TABLE_PAGE_ROWS = 1_000;
/** Columns of a JSON page when the request names neither `column` nor `columnLimit`. */
export const DEFAULT_TABLE_PAGE_COLUMNS = 50;
/** Most columns one JSON page answers. */
export const MAX_TABLE_PAGE_COLUMNS = 200;
/** Most cells (rows × columns) one JSON page answers. */
export const MAX_TABLE_PAGE_CELLS = 20_000;
/** Most characters of JSON one cell renders to (a longer string, list or struct is cut and listed in `truncatedCells`). */
export const MAX_TABLE_CELL_CHARS = 1_000;
/** Most bytes of JSON one page answers; the page ends early (see `next`) at the row that would cross it. */
export const MAX_TABLE_PAGE_BYTES = 4 * 1024 * 1024;
/** Characters of a text cell a sort compares (a longer text sorts by its prefix). */
export const MAX_TABLE_SORT_KEY_CHARS = 256;

/** What a page request asks for (already validated against the limits above, except the cells and bytes). */
export interface TablePageRequest {
  readonly offset: number;
  readonly limit: number;
  /** Named columns (in this order), or a window of the schema's columns. */
  readonly columns: { readonly names: readonly string[] } | { readonly offset: number; readonly limit: number };
  readonly sort?: { readonly column: string; readonly descending: boolean };
  /** Most rows a sort may order (the server's maxTableRows). */
  readonly maxSortRows: number;
}

/** Whether a column of this type can be sorted (scalars, text, and dictionaries of them). */
function sortable(arrow: Arrow, type: import('apache-arrow').DataType): boolean {
  const { DataType } = arrow;
  if (DataType.isDictionary(type)) return sortable(arrow, type.dictionary);
  return !(
    DataType.isList(type) ||
    DataType.isFixedSizeList(type) ||
    DataType.isStruct(type) ||
    DataType.isMap(type) ||
    DataType.isUnion(type) ||
    DataType.isBinary(type) ||
    DataType.isLargeBinary(type) ||
    DataType.isFixedSizeBinary(type)
  );
}

const COLLATOR = new Intl.Collator('en', { numeric: true });

/** Order of two sort keys: nulls last whatever the order, numbers (and bigints) by value, the rest as text. */
function compareKeys(a: unknown, b: unknown, descending: boolean): number {
  const aNull = a === null || a === undefined || (typeof a === 'number' && Number.isNaN(a));
  const bNull = b === null || b === undefined || (typeof b === 'number' && Number.isNaN(b));
  if (aNull || bNull) return aNull === bNull ? 0 : aNull ? 1 : -1;
  let c: number;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) c = a < b ? -1 : a > b ? 1 : 0;
  else c = COLLATOR.compare(String(a), String(b));
  return descending ? -c : c;
}

/** Row numbers in sort order: reads only the sort column, text cut to MAX_TABLE_SORT_KEY_CHARS, a dictionary entry once. */
function sortedRows(arrow: Arrow, column: Column, total: number, descending: boolean): Uint32Array {
  const keys = new Array<unknown>(total);
  const dictionaryKeys = new Map<Data, Map<number, unknown>>();
  for (let row = 0; row < total; row++) {
    const [data, i] = locate(column, row);
    if (arrow.DataType.isDictionary(data.type) && data.getValid(i)) {
      const index = Number((data.values as ArrayLike<number | bigint>)[i]!);
      let memo = dictionaryKeys.get(data);
      if (memo === undefined) dictionaryKeys.set(data, (memo = new Map()));
      if (!memo.has(index)) memo.set(index, cell(arrow, data, i, { chars: MAX_TABLE_SORT_KEY_CHARS, cut: false }));
      keys[row] = memo.get(index);
    } else {
      keys[row] = cell(arrow, data, i, { chars: MAX_TABLE_SORT_KEY_CHARS, cut: false });
    }
  }
  const order = Uint32Array.from({ length: total }, (_, i) => i);
  return order.sort((a, b) => compareKeys(keys[a], keys[b], descending) || a - b);
}

const bigintSafe = (_k: string, v: unknown): unknown =>
  typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v;

/** The JSON text of one page of `table` (a TablePage of src/ui/ui-api.ts), within every limit above whatever the schema; throws LIMIT_EXCEEDED or INVALID_OPTION. */
export function tablePage(arrow: Arrow, name: string, table: Table, request: TablePageRequest): string {
  const total = table.numRows;
  const fields = table.schema.fields;
  let picked: number[];
  let columnOffset = 0;
  let nextColumn: number | undefined;
  if ('names' in request.columns) {
    picked = request.columns.names.map((column) => {
      const index = fields.findIndex((f) => f.name === column);
      if (index < 0)
        throw new LablogError('INVALID_OPTION', `table '${name}' has no column '${column}'`, { field: 'column', actual: column });
      return index;
    });
  } else {
    columnOffset = Math.min(request.columns.offset, fields.length);
    const end = Math.min(fields.length, columnOffset + request.columns.limit);
    picked = Array.from({ length: end - columnOffset }, (_, k) => columnOffset + k);
    if (end < fields.length) nextColumn = end;
  }
  const rowCount = Math.min(request.limit, Math.max(0, total - request.offset));
  if (rowCount * picked.length > MAX_TABLE_PAGE_CELLS) {
    throw new LablogError(
      'LIMIT_EXCEEDED',
      `a table page holds at most ${MAX_TABLE_PAGE_CELLS} cells (MAX_TABLE_PAGE_CELLS); ${rowCount} rows × ${picked.length} columns is ${rowCount * picked.length}: ask fewer rows (limit) or columns (columnLimit)`,
      { limit: MAX_TABLE_PAGE_CELLS, actual: rowCount * picked.length },
    );
  }
  const columns = picked.map((index) => chop(table.getChildAt(index)!, fields[index]!.name));
  let order: Uint32Array | undefined;
  if (request.sort !== undefined) {
    const { column: sortName, descending } = request.sort;
    const index = fields.findIndex((f) => f.name === sortName);
    if (index < 0)
      throw new LablogError('INVALID_OPTION', `table '${name}' has no column '${sortName}'`, { field: 'sort', actual: sortName });
    if (!sortable(arrow, fields[index]!.type)) {
      throw new LablogError(
        'INVALID_OPTION',
        `table '${name}': column '${sortName}' of type ${String(fields[index]!.type)} cannot be sorted`,
        { field: 'sort', actual: sortName },
      );
    }
    if (total > request.maxSortRows) {
      throw new LablogError(
        'LIMIT_EXCEEDED',
        `table '${name}' has ${total} rows; a sort orders at most ${request.maxSortRows} (maxTableRows)`,
        {
          limit: request.maxSortRows,
          actual: total,
        },
      );
    }
    order = sortedRows(arrow, chop(table.getChildAt(index)!, sortName), total, descending);
  }
  const head = {
    name,
    columns: columns.map((c) => ({ name: c.name, type: c.type })),
    total,
    offset: request.offset,
    limit: request.limit,
    totalColumns: fields.length,
    columnOffset,
    ...(nextColumn !== undefined ? { nextColumn } : {}),
  };
  let bytes = JSON.stringify(head).length + 64;
  const rows: string[] = [];
  const truncatedCells: { row: number; column: string }[] = [];
  for (let k = 0; k < rowCount; k++) {
    const row = order === undefined ? request.offset + k : order[request.offset + k]!;
    const out: Record<string, unknown> = {};
    const cut: string[] = [];
    for (const column of columns) {
      const budget: Budget = { chars: MAX_TABLE_CELL_CHARS, cut: false };
      const [data, i] = locate(column, row);
      // defineProperty: a column named __proto__ is a key like any other.
      Object.defineProperty(out, column.name, {
        value: cell(arrow, data, i, budget),
        enumerable: true,
        configurable: true,
        writable: true,
      });
      if (budget.cut) cut.push(column.name);
    }
    const json = JSON.stringify(out, bigintSafe);
    const cost = json.length + 1 + cut.reduce((sum, c) => sum + c.length + 24, 0);
    if (bytes + cost > MAX_TABLE_PAGE_BYTES) {
      if (rows.length === 0) {
        throw new LablogError(
          'LIMIT_EXCEEDED',
          `one row of table '${name}' is ${bytes + cost} bytes of JSON; a page holds at most ${MAX_TABLE_PAGE_BYTES} (MAX_TABLE_PAGE_BYTES): ask fewer columns`,
          {
            limit: MAX_TABLE_PAGE_BYTES,
            actual: bytes + cost,
          },
        );
      }
      break;
    }
    bytes += cost;
    for (const c of cut) truncatedCells.push({ row: rows.length, column: c });
    rows.push(json);
  }
  const end = request.offset + rows.length;
  const tail = { ...(end < total ? { next: end } : {}), truncatedCells };
  return `${JSON.stringify(head).slice(0, -1)},"rows":[${rows.join(',')}],${JSON.stringify(tail, bigintSafe).slice(1)}`;
}

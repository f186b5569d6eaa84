// Values as PostgreSQL parameters: doubles that keep -0, JSON as text, and many rows in as few statements as the budgets allow.

import type { PgQuery } from './pg-pool.js';

/** Bind parameters per statement (PostgreSQL allows 65535) and bytes, when inserting many rows at once. */
const MAX_STATEMENT_PARAMETERS = 30_000;
const MAX_STATEMENT_BYTES = 64 * 1024 * 1024;

/** A double for a query parameter: pg sends numbers as toString(), which turns -0 into 0. */
export function f8(value: number | null): number | string | null {
  return value !== null && Object.is(value, -0) ? '-0' : value;
}

/**
 * A JSON value as a parameter: always text from JSON.stringify (pg would send a JS array as a PostgreSQL
 * array literal, and JSON.stringify is what SQLite stores); null stays SQL NULL.
 */
export function jsonParam(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/**
 * Runs `statement` over rows given as a VALUES list, in as few statements as the parameter and size
 * budgets allow. `casts` types each column (e.g. '::bigint'; '' when the target column types it). Buffers
 * travel as binary parameters, not hex text.
 */
export async function withValues(
  db: PgQuery,
  rows: readonly (readonly unknown[])[],
  statement: (values: string) => string,
  casts: readonly string[] = [],
): Promise<void> {
  const width = rows[0]?.length ?? 0;
  let start = 0;
  while (start < rows.length) {
    let end = start;
    let bytes = 0;
    while (end < rows.length && (end - start + 1) * width <= MAX_STATEMENT_PARAMETERS && (end === start || bytes < MAX_STATEMENT_BYTES)) {
      for (const value of rows[end]!) {
        if (Buffer.isBuffer(value) || typeof value === 'string') bytes += value.length;
      }
      end++;
    }
    const tuples: string[] = [];
    for (let r = 0; r < end - start; r++) {
      tuples.push(`(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}${casts[c] ?? ''}`).join(', ')})`);
    }
    await db.query(statement(tuples.join(', ')), rows.slice(start, end).flat());
    start = end;
  }
}

/** Inserts rows with multi-row VALUES; `head` names the table and columns. */
export function insertRows(db: PgQuery, head: string, rows: readonly (readonly unknown[])[]): Promise<void> {
  return withValues(db, rows, (values) => `${head} VALUES ${values}`);
}

// The connection pool of a PostgreSQL store: the only file that loads pg at run time; statements and transactions with the store's errors.

import pg from 'pg';
import { LablogError } from '../../model/errors.js';
import { driverCodeOf } from '../../model/error-codes.js';

/** How long opening a connection may take before the call fails. */
const CONNECT_TIMEOUT_MS = 10_000;

/** bigint columns (steps, counts) come back as JS numbers: every one of them is a safe integer. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (text: string) => Number(text)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** One connection a statement runs on (inside a transaction, a pg.PoolClient); driver errors pass through. */
export interface PgQuery {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** What the parts of a PostgreSQL store use of its pool: statements and transactions that fail as STORAGE_ERROR. */
export interface PgStore {
  /** Where the data lives: the database URL without its password, for messages. */
  readonly location: string;
  /** Runs one statement outside a transaction. */
  query<R extends pg.QueryResultRow>(what: string, text: string, values: unknown[]): Promise<R[]>;
  /** Like query, as a named statement: parsed and planned once per connection (for the per-request lookups). */
  prepared<R extends pg.QueryResultRow>(what: string, name: string, text: string, values: unknown[]): Promise<R[]>;
  /** Runs `fn` in a transaction on one connection: committed if it returns, rolled back if it throws. */
  transaction<T>(what: string, fn: (db: PgQuery) => Promise<T>): Promise<T>;
}

/** The URL without its password (in the authority or as a `password=` parameter), for messages. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.searchParams.delete('password');
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, '@').replace(/password=[^&\s]*/gi, 'password=***');
  }
}

/** A driver error's message; a refused connection can be an AggregateError with an empty one. */
function messageOf(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  if (cause.message) return cause.message;
  const inner = (cause as { errors?: unknown[] }).errors?.[0];
  if (inner instanceof Error && inner.message) return inner.message;
  return (cause as { code?: string }).code ?? cause.name;
}

/** A pg.Pool behind the PgStore interface; driver errors become STORAGE_ERROR naming the location. */
export class PgPool implements PgStore {
  readonly location: string;
  readonly #pool: pg.Pool;
  #closed = false;

  /** A pool for the database at `url`; connections are opened on first use. */
  constructor(url: string) {
    this.location = withoutPassword(url);
    this.#pool = new pg.Pool({ connectionString: url, types: TYPES, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // An idle connection that breaks (server restart) is dropped by the pool; without a listener the
    // 'error' event would crash the process. The next query reports the problem if it persists.
    this.#pool.on('error', () => {});
  }

  #storageError(what: string, cause: unknown): LablogError {
    if (cause instanceof LablogError) return cause;
    return new LablogError(
      'STORAGE_ERROR',
      `${what} (${this.location}): ${messageOf(cause)}`,
      { driver: 'postgres', driverCode: driverCodeOf(cause), location: this.location },
      { cause },
    );
  }

  #assertOpen(what: string): void {
    if (this.#closed)
      throw new LablogError('STORAGE_ERROR', `${what}: the store at ${this.location} is closed`, {
        driver: 'postgres',
        driverCode: null,
        location: this.location,
      });
  }

  async query<R extends pg.QueryResultRow>(what: string, text: string, values: unknown[]): Promise<R[]> {
    this.#assertOpen(what);
    try {
      return (await this.#pool.query<R>(text, values)).rows;
    } catch (cause) {
      throw this.#storageError(what, cause);
    }
  }

  async prepared<R extends pg.QueryResultRow>(what: string, name: string, text: string, values: unknown[]): Promise<R[]> {
    this.#assertOpen(what);
    try {
      return (await this.#pool.query<R>({ name, text, values })).rows;
    } catch (cause) {
      throw this.#storageError(what, cause);
    }
  }

  async transaction<T>(what: string, fn: (db: PgQuery) => Promise<T>): Promise<T> {
    this.#assertOpen(what);
    let db: pg.PoolClient;
    try {
      db = await this.#pool.connect();
    } catch (cause) {
      throw this.#storageError(what, cause);
    }
    let broken: Error | undefined;
    try {
      await db.query('BEGIN');
      const result = await fn(db);
      await db.query('COMMIT');
      return result;
    } catch (cause) {
      try {
        await db.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable: release(error) destroys it instead of returning it to the pool.
        broken = rollbackError as Error;
      }
      throw this.#storageError(what, cause);
    } finally {
      db.release(broken);
    }
  }

  /** Waits for running queries, then closes every connection. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

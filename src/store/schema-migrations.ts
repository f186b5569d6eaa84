// Numbered schema migrations, and the rule every store's migration loop applies: which ones a database still needs.

import { LablogError } from '../model/errors.js';

/** One step of a store's schema: applied once, in version order, and recorded. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
  /**
   * Columns the migration adds before its sql runs, each only when the table lacks it (SQLite has no
   * ADD COLUMN IF NOT EXISTS): a store whose version was set back replays the migration safely.
   */
  readonly addColumns?: readonly { readonly table: string; readonly column: string; readonly definition: string }[];
}

/** The database a loop migrates, for the error that refuses a newer one. */
export interface MigrationTarget {
  readonly driver: 'sqlite' | 'postgres';
  readonly location: string;
  /** How a message names it: 'store' (a SQLite file) or 'database' (PostgreSQL). */
  readonly noun: 'store' | 'database';
}

/** The schema version a list of migrations (in ascending order) brings a database to. */
export function schemaVersion(migrations: readonly Migration[]): number {
  return migrations[migrations.length - 1]?.version ?? 0;
}

/**
 * The migrations above the `recorded` version, in order; STORAGE_ERROR when the database was migrated by
 * a newer lablog (its version is above the last one known here).
 *
 * Each driver keeps its own loop around this (read the recorded version, apply what this returns, record
 * each) rather than one runner for both: SQLite's must be synchronous (the embedded store opens
 * synchronously) and runs in one IMMEDIATE transaction that records versions in PRAGMA user_version;
 * PostgreSQL's is asynchronous and runs in one transaction under an advisory lock (several server processes
 * may start together), recording versions in a table. One runner would take callbacks that return a value
 * in one store and a promise in the other, and so exist twice inside itself; what the two loops share —
 * the order, the newer-schema refusal and its message — is here, once.
 */
export function pendingMigrations(migrations: readonly Migration[], recorded: number, target: MigrationTarget): readonly Migration[] {
  const latest = schemaVersion(migrations);
  if (recorded > latest) {
    throw new LablogError(
      'STORAGE_ERROR',
      `the ${target.noun} at ${target.location} has schema version ${recorded}, newer than this lablog's ${latest}; upgrade lablog`,
      { driver: target.driver, driverCode: null, location: target.location, limit: latest, actual: recorded },
    );
  }
  return migrations.filter((migration) => migration.version > recorded);
}

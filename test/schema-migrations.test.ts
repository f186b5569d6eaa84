// The rule both stores' migration loops apply: the migrations above the recorded version, in order; a newer schema refused.

import { describe, expect, it } from 'vitest';
import { LablogError } from '../src/model/errors.js';
import { pendingMigrations, schemaVersion, type Migration, type MigrationTarget } from '../src/store/schema-migrations.js';

const step = (version: number): Migration => ({ version, description: `step ${version}`, sql: `-- ${version}` });
const MIGRATIONS = [step(1), step(2), step(3)];
const TARGET: MigrationTarget = { driver: 'postgres', location: 'postgres://db.example/lab', noun: 'database' };

describe('schema migrations', () => {
  it('brings a database to the version of the last migration; none is version 0', () => {
    expect(schemaVersion(MIGRATIONS)).toBe(3);
    expect(schemaVersion([])).toBe(0);
  });

  it('picks the migrations above the recorded version, in order', () => {
    expect(pendingMigrations(MIGRATIONS, 0, TARGET).map((m) => m.version)).toEqual([1, 2, 3]);
    expect(pendingMigrations(MIGRATIONS, 1, TARGET).map((m) => m.version)).toEqual([2, 3]);
    expect(pendingMigrations(MIGRATIONS, 3, TARGET)).toEqual([]);
  });

  it('refuses a database a newer lablog migrated, naming it and both versions', () => {
    let error: unknown;
    try {
      pendingMigrations(MIGRATIONS, 5, { driver: 'sqlite', location: '/tmp/lab.db', noun: 'store' });
    } catch (cause) {
      error = cause;
    }
    expect(error).toBeInstanceOf(LablogError);
    expect(error).toMatchObject({
      code: 'STORAGE_ERROR',
      message: "the store at /tmp/lab.db has schema version 5, newer than this lablog's 3; upgrade lablog",
      details: { driver: 'sqlite', driverCode: null, location: '/tmp/lab.db', limit: 3, actual: 5 },
    });
  });
});

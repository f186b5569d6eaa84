// Existing stores gain the runs tables when opened: migration 7 applies on top of a version-6 store, keeping its experiments.

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/sqlite/migrations.js';
import { tempDir } from './helpers.js';

const RUNS_MIGRATION = MIGRATIONS.find((m) => m.description.startsWith('runs:'))!.version;

describe('run store migration', () => {
  it('a store made before runs existed migrates, keeps its experiments, and launches runs', async () => {
    const path = join(tempDir(), 'lablog.db');
    const db = new Database(path);
    for (const migration of MIGRATIONS.filter((m) => m.version < RUNS_MIGRATION)) db.exec(migration.sql);
    db.pragma(`user_version = ${RUNS_MIGRATION - 1}`);
    db.prepare(
      `INSERT INTO experiments (id, project, name, tags, status, created_at, updated_at) VALUES ('00000000-0000-4000-8000-000000000001', 'p', 'old', '[]', 'completed', 1, 1)`,
    ).run();
    db.close();

    const store = openStore({ path });
    try {
      expect(store.listExperiments().map((e) => [e.name, e.status])).toEqual([['old', 'completed']]);
      expect(store.listRuns()).toEqual([]);
      const run = store.launch({ command: process.execPath, args: ['-e', 'console.log("migrated")'], project: 'p' });
      expect((await run.wait()).status).toBe('completed');
      expect(run.logs().lines.map((l) => l.text)).toEqual(['migrated']);
    } finally {
      await store.close();
    }
    const reopened = new Database(path, { readonly: true });
    expect(reopened.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    reopened.close();
  });
});

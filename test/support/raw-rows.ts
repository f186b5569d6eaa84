// Test support: rows written straight into a store's tables with SQL (no rule checked) — artifacts for model tests, and rows past a limit.

import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ArtifactRecord } from '../../src/model/artifact.js';
import type { ArtifactStore } from '../../src/store/artifact-store.js';

/** Rows as column → value; every row of one call has the same columns. */
export type Row = Record<string, string | number | null>;

export interface RawRows {
  insert(table: string, rows: readonly Row[]): Promise<void>;
  close(): Promise<void>;
}

/** How many rows one PostgreSQL INSERT carries (its bind parameters are bounded). */
const ROWS_PER_STATEMENT = 1_000;

/** Rows into the SQLite file at `file`, on a connection of their own (opened on first use), one transaction per call. */
export function sqliteRows(file: string): RawRows {
  let db: Database.Database | undefined;
  return {
    async insert(table, rows) {
      if (rows.length === 0) return;
      db ??= new Database(file, { timeout: 5_000 });
      const columns = Object.keys(rows[0]!);
      const statement = db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      db.transaction(() => {
        for (const row of rows) statement.run(...columns.map((c) => row[c]));
      })();
    },
    async close() {
      db?.close();
    },
  };
}

/** Rows into the PostgreSQL database at `url`, on a client of its own, one transaction per call. */
export function postgresRows(url: string): RawRows {
  let client: pg.Client | undefined;
  return {
    async insert(table, rows) {
      if (rows.length === 0) return;
      if (client === undefined) {
        client = new pg.Client({ connectionString: url });
        await client.connect();
      }
      const columns = Object.keys(rows[0]!);
      await client.query('BEGIN');
      try {
        for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
          const slice = rows.slice(start, start + ROWS_PER_STATEMENT);
          const tuples = slice.map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
          await client.query(
            `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`,
            slice.flatMap((row) => columns.map((c) => row[c])),
          );
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    },
    async close() {
      await client?.end().catch(() => {});
    },
  };
}

/** An artifact record of `experimentId`: one file by default. */
export function artifactRecord(experimentId: string, overrides: Partial<ArtifactRecord> = {}): ArtifactRecord {
  const name = overrides.name ?? 'model';
  const sha256 = overrides.sha256 ?? 'a'.repeat(64);
  return {
    id: randomUUID(),
    experimentId,
    name,
    step: null,
    kind: 'model',
    type: 'file',
    size: 12,
    sha256,
    files: [{ path: `${name}.bin`, size: overrides.size ?? 12, sha256 }],
    metadata: {},
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

/** Writes artifacts (and their files' rows) with SQL: what the model tests need where no ArtifactStore is. */
export async function insertArtifacts(rows: RawRows, records: readonly ArtifactRecord[]): Promise<void> {
  await rows.insert(
    'artifacts',
    records.map((a) => ({
      id: a.id,
      experiment_id: a.experimentId,
      name: a.name,
      step: a.step,
      kind: a.kind,
      type: a.type,
      size: a.size,
      sha256: a.sha256,
      metadata: JSON.stringify(a.metadata),
      created_at: a.createdAt,
    })),
  );
  await rows.insert(
    'artifact_files',
    records.flatMap((a) => a.files.map((f) => ({ artifact_id: a.id, path: f.path, size: f.size, sha256: f.sha256 }))),
  );
}

interface ArtifactRow {
  id: string;
  experiment_id: string;
  name: string;
  step: number | null;
  kind: string | null;
  type: 'file' | 'directory';
  size: number;
  sha256: string;
  metadata: string;
  created_at: number;
}

/**
 * Reads artifacts rows of the SQLite file with SQL (getArtifact, getArtifactById): what core's model registry
 * reads, for tests on a store whose own ArtifactStore is not there.
 */
export function sqliteArtifactReader(db: Database.Database): Pick<ArtifactStore, 'getArtifact' | 'getArtifactById'> {
  const record = (row: ArtifactRow | undefined): ArtifactRecord | undefined =>
    row && {
      id: row.id,
      experimentId: row.experiment_id,
      name: row.name,
      step: row.step,
      kind: row.kind,
      type: row.type,
      size: row.size,
      sha256: row.sha256,
      metadata: JSON.parse(row.metadata) as ArtifactRecord['metadata'],
      createdAt: row.created_at,
      files: db
        .prepare('SELECT path, size, sha256 FROM artifact_files WHERE artifact_id = ? ORDER BY path')
        .all(row.id) as ArtifactRecord['files'],
    };
  return {
    getArtifact(experimentId, name, step) {
      const row =
        step === undefined
          ? db
              .prepare('SELECT * FROM artifacts WHERE experiment_id = ? AND name = ? ORDER BY step IS NULL, step DESC LIMIT 1')
              .get(experimentId, name)
          : db
              .prepare('SELECT * FROM artifacts WHERE experiment_id = ? AND name = ? AND coalesce(step, -1) = coalesce(?, -1)')
              .get(experimentId, name, step);
      return record(row as ArtifactRow | undefined);
    },
    getArtifactById: (id) => record(db.prepare('SELECT * FROM artifacts WHERE id = ?').get(id) as ArtifactRow | undefined),
  };
}

/** The backend with `artifacts()` answered by `artifacts` (every other member the backend's own). */
export function withArtifacts<T extends object>(backend: T, artifacts: Pick<ArtifactStore, 'getArtifact' | 'getArtifactById'>): T {
  return new Proxy(backend, {
    get(target, key) {
      if (key === 'artifacts') return () => artifacts;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// SQLite artifacts: the ArtifactStore over the store's own connection (rows of artifacts and artifact_files, committed after their blobs).

import { LablogError } from '../../model/errors.js';
import {
  MAX_ARTIFACTS_PER_EXPERIMENT,
  MAX_EXPERIMENT_ARTIFACT_BYTES,
  type ArtifactFile,
  type ArtifactMetadata,
  type ArtifactRecord,
} from '../../model/artifact.js';
import type { ArtifactStore } from '../artifact-store.js';
import type { SqliteBackend } from './sqlite-backend.js';

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

export class SqliteArtifactBackend implements ArtifactStore {
  readonly #store: SqliteBackend;

  constructor(store: SqliteBackend) {
    this.#store = store;
  }

  get #db() {
    return this.#store.database;
  }

  addArtifact(record: ArtifactRecord): void {
    this.#store.transaction('adding an artifact', () => {
      const experiment = this.#db.prepare('SELECT name FROM experiments WHERE id = ?').pluck().get(record.experimentId) as
        string | undefined;
      if (experiment === undefined) {
        throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment ${record.experimentId} for artifact '${record.name}'`, {
          id: record.experimentId,
        });
      }
      const clash = this.#db
        .prepare('SELECT 1 FROM artifacts WHERE experiment_id = ? AND name = ? AND coalesce(step, -1) = coalesce(?, -1)')
        .get(record.experimentId, record.name, record.step);
      if (clash !== undefined) {
        const at = record.step === null ? 'without a step' : `at step ${record.step}`;
        throw new LablogError('ARTIFACT_EXISTS', `experiment '${experiment}' has an artifact '${record.name}' ${at} already`, {
          experiment: record.experimentId,
          key: record.name,
          ...(record.step === null ? {} : { step: record.step }),
        });
      }
      const totals = this.#db
        .prepare('SELECT count(*) AS count, coalesce(sum(size), 0) AS bytes FROM artifacts WHERE experiment_id = ?')
        .get(record.experimentId) as { count: number; bytes: number };
      if (totals.count + 1 > MAX_ARTIFACTS_PER_EXPERIMENT) {
        throw new LablogError(
          'LIMIT_EXCEEDED',
          `experiment '${experiment}' keeps at most ${MAX_ARTIFACTS_PER_EXPERIMENT} artifacts (MAX_ARTIFACTS_PER_EXPERIMENT); '${record.name}' would make ${totals.count + 1}`,
          { experiment: record.experimentId, key: record.name, limit: MAX_ARTIFACTS_PER_EXPERIMENT, actual: totals.count + 1 },
        );
      }
      if (totals.bytes + record.size > MAX_EXPERIMENT_ARTIFACT_BYTES) {
        throw new LablogError(
          'LIMIT_EXCEEDED',
          `experiment '${experiment}' keeps at most ${MAX_EXPERIMENT_ARTIFACT_BYTES} bytes of artifacts (MAX_EXPERIMENT_ARTIFACT_BYTES); '${record.name}' would make ${totals.bytes + record.size}`,
          { experiment: record.experimentId, key: record.name, limit: MAX_EXPERIMENT_ARTIFACT_BYTES, actual: totals.bytes + record.size },
        );
      }
      this.#db
        .prepare(
          `INSERT INTO artifacts (id, experiment_id, name, step, kind, type, size, sha256, metadata, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          record.id,
          record.experimentId,
          record.name,
          record.step,
          record.kind,
          record.type,
          record.size,
          record.sha256,
          JSON.stringify(record.metadata),
          record.createdAt,
        );
      const insertFile = this.#db.prepare('INSERT INTO artifact_files (artifact_id, path, size, sha256) VALUES (?, ?, ?, ?)');
      for (const file of record.files) insertFile.run(record.id, file.path, file.size, file.sha256);
    });
  }

  listArtifacts(experimentId: string): ArtifactRecord[] {
    return this.#store.read('listing artifacts', () => {
      const rows = this.#db
        .prepare('SELECT * FROM artifacts WHERE experiment_id = ? ORDER BY name, coalesce(step, -1)')
        .all(experimentId) as ArtifactRow[];
      return rows.map((row) => this.#record(row));
    });
  }

  getArtifact(experimentId: string, name: string, step?: number | null): ArtifactRecord | undefined {
    return this.#store.read('reading an artifact', () => {
      const row = (
        step === undefined
          ? this.#db
              .prepare('SELECT * FROM artifacts WHERE experiment_id = ? AND name = ? ORDER BY coalesce(step, -1) DESC LIMIT 1')
              .get(experimentId, name)
          : this.#db
              .prepare('SELECT * FROM artifacts WHERE experiment_id = ? AND name = ? AND coalesce(step, -1) = coalesce(?, -1)')
              .get(experimentId, name, step)
      ) as ArtifactRow | undefined;
      return row && this.#record(row);
    });
  }

  getArtifactById(id: string): ArtifactRecord | undefined {
    return this.#store.read('reading an artifact', () => {
      const row = this.#db.prepare('SELECT * FROM artifacts WHERE id = ?').get(id) as ArtifactRow | undefined;
      return row && this.#record(row);
    });
  }

  referencedBlobs(): Set<string> {
    return this.#store.read(
      'listing the blobs artifacts reference',
      () => new Set(this.#db.prepare('SELECT DISTINCT sha256 FROM artifact_files').pluck().all() as string[]),
    );
  }

  #record(row: ArtifactRow): ArtifactRecord {
    const files = this.#db
      .prepare('SELECT path, size, sha256 FROM artifact_files WHERE artifact_id = ? ORDER BY path')
      .all(row.id) as ArtifactFile[];
    return {
      id: row.id,
      experimentId: row.experiment_id,
      name: row.name,
      step: row.step,
      kind: row.kind,
      type: row.type,
      size: row.size,
      sha256: row.sha256,
      files,
      metadata: JSON.parse(row.metadata) as ArtifactMetadata,
      createdAt: row.created_at,
    };
  }
}

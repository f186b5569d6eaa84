// PostgreSQL artifacts: the ArtifactStore of a server's database, with the embedded store's rules; adding one locks its experiment's row, so the limits hold across server processes.

import {
  MAX_ARTIFACTS_PER_EXPERIMENT,
  MAX_EXPERIMENT_ARTIFACT_BYTES,
  type ArtifactFile,
  type ArtifactMetadata,
  type ArtifactRecord,
} from '../../model/artifact.js';
import { LablogError } from '../../model/errors.js';
import type { ServerArtifactStore } from '../artifact-store.js';
import { lockExperiment } from './experiment-lock.js';
import type { PgStore } from './pg-pool.js';
import { insertRows, jsonParam } from './sql-values.js';

/** metadata arrives parsed by the driver (json: the text as stored, key order kept); bigint sizes and steps as numbers. */
interface ArtifactRow {
  id: string;
  experiment_id: string;
  name: string;
  step: number | null;
  kind: string | null;
  type: 'file' | 'directory';
  size: number;
  sha256: string;
  metadata: ArtifactMetadata;
  created_at: number;
}

interface FileRow extends ArtifactFile {
  artifact_id: string;
}

const ARTIFACT_COLUMNS = 'id, experiment_id, name, step, kind, type, size, sha256, metadata, created_at';
/** By name, then step with no step first (as the embedded store). */
const ARTIFACT_ORDER = 'ORDER BY name, step NULLS FIRST';

function toArtifact(row: ArtifactRow, files: readonly ArtifactFile[]): ArtifactRecord {
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
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

/**
 * The artifacts of a PostgreSQL store, with the embedded store's rules and errors. addArtifact locks the
 * experiment's row (SELECT … FOR UPDATE) before counting, so two server processes adding at once cannot both
 * pass a limit; the unique index on (experiment, name, step or -1) refuses a clash.
 */
export class PostgresArtifactStore implements ServerArtifactStore {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async addArtifact(record: ArtifactRecord): Promise<void> {
    await this.#store.transaction('adding an artifact', async (db) => {
      await lockExperiment(db, record.experimentId);
      const clash = await db.query(
        'SELECT 1 FROM artifacts WHERE experiment_id = $1 AND name = $2 AND coalesce(step, -1) = coalesce($3::bigint, -1)',
        [record.experimentId, record.name, record.step],
      );
      if ((clash.rowCount ?? 0) > 0) {
        const at = record.step === null ? 'without a step' : `at step ${record.step}`;
        throw new LablogError('ARTIFACT_EXISTS', `experiment ${record.experimentId} has an artifact '${record.name}' ${at} already`, {
          experiment: record.experimentId,
          key: record.name,
          ...(record.step === null ? {} : { step: record.step }),
        });
      }
      const { rows } = await db.query<{ count: number; bytes: number }>(
        'SELECT count(*)::bigint AS count, coalesce(sum(size), 0)::bigint AS bytes FROM artifacts WHERE experiment_id = $1',
        [record.experimentId],
      );
      const { count, bytes } = rows[0]!;
      if (count + 1 > MAX_ARTIFACTS_PER_EXPERIMENT) {
        throw new LablogError(
          'LIMIT_EXCEEDED',
          `experiment ${record.experimentId} would have ${count + 1} artifacts; the limit is ${MAX_ARTIFACTS_PER_EXPERIMENT} (MAX_ARTIFACTS_PER_EXPERIMENT)`,
          { experiment: record.experimentId, key: record.name, limit: MAX_ARTIFACTS_PER_EXPERIMENT, actual: count + 1 },
        );
      }
      if (bytes + record.size > MAX_EXPERIMENT_ARTIFACT_BYTES) {
        throw new LablogError(
          'LIMIT_EXCEEDED',
          `experiment ${record.experimentId} would keep ${bytes + record.size} bytes of artifacts; the limit is ${MAX_EXPERIMENT_ARTIFACT_BYTES} (MAX_EXPERIMENT_ARTIFACT_BYTES)`,
          { experiment: record.experimentId, key: record.name, limit: MAX_EXPERIMENT_ARTIFACT_BYTES, actual: bytes + record.size },
        );
      }
      await db.query(`INSERT INTO artifacts (${ARTIFACT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
        record.id,
        record.experimentId,
        record.name,
        record.step,
        record.kind,
        record.type,
        record.size,
        record.sha256,
        jsonParam(record.metadata),
        record.createdAt,
      ]);
      if (record.files.length > 0) {
        await insertRows(
          db,
          'INSERT INTO artifact_files (artifact_id, path, size, sha256)',
          record.files.map((f) => [record.id, f.path, f.size, f.sha256]),
        );
      }
    });
  }

  /** The records of these rows, with their files (one query for all of them). */
  async #withFiles(rows: readonly ArtifactRow[]): Promise<ArtifactRecord[]> {
    if (rows.length === 0) return [];
    const files = await this.#store.query<FileRow>(
      'reading artifact files',
      'SELECT artifact_id, path, size, sha256 FROM artifact_files WHERE artifact_id = ANY($1::text[]) ORDER BY artifact_id, path',
      [rows.map((r) => r.id)],
    );
    const byArtifact = new Map<string, ArtifactFile[]>();
    for (const { artifact_id, ...file } of files) {
      let list = byArtifact.get(artifact_id);
      if (list === undefined) byArtifact.set(artifact_id, (list = []));
      list.push(file);
    }
    return rows.map((row) => toArtifact(row, byArtifact.get(row.id) ?? []));
  }

  async listArtifacts(experimentId: string): Promise<ArtifactRecord[]> {
    const rows = await this.#store.query<ArtifactRow>(
      'listing artifacts',
      `SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE experiment_id = $1 ${ARTIFACT_ORDER}`,
      [experimentId],
    );
    return this.#withFiles(rows);
  }

  async getArtifact(experimentId: string, name: string, step?: number | null): Promise<ArtifactRecord | undefined> {
    const rows =
      step === undefined
        ? await this.#store.query<ArtifactRow>(
            'reading an artifact',
            `SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE experiment_id = $1 AND name = $2 ORDER BY step DESC NULLS LAST LIMIT 1`,
            [experimentId, name],
          )
        : await this.#store.query<ArtifactRow>(
            'reading an artifact',
            `SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE experiment_id = $1 AND name = $2 AND coalesce(step, -1) = coalesce($3::bigint, -1)`,
            [experimentId, name, step],
          );
    return (await this.#withFiles(rows))[0];
  }

  async getArtifactById(id: string): Promise<ArtifactRecord | undefined> {
    const rows = await this.#store.query<ArtifactRow>('reading an artifact', `SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE id = $1`, [
      id,
    ]);
    return (await this.#withFiles(rows))[0];
  }

  async referencedBlobs(): Promise<Set<string>> {
    const rows = await this.#store.query<{ sha256: string }>('listing referenced blobs', 'SELECT DISTINCT sha256 FROM artifact_files', []);
    return new Set(rows.map((r) => r.sha256));
  }
}

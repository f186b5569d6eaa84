// PostgreSQL store: the server's ServerBackend on node-postgres (the only module that imports pg).

import pg from 'pg';
import { LablogError } from '../../model/errors.js';
import { driverCodeOf } from '../../model/error-codes.js';
import type { Limits } from '../../model/limits.js';
import type { ExperimentStatus, ParamRecord, ParamType } from '../../model/experiment.js';
import type { MetricData, PlotPoint, SeriesKind, SeriesRecord } from '../../model/series.js';
import type { TableRecord, TableSummary } from '../../model/table.js';
import {
  RAW,
  decodeChunks,
  decodeColumnToArray,
  decodeXChunks,
  encodeColumn,
  packEncodings,
  unpackEncodings,
  type EncodedXChunk,
} from '../column-codec.js';
import { assertTruncateStep, planIngest, type IngestPlan } from '../ingest-plan.js';
import { keyRecord, sessionAndKey, type KeyRow as StoredKeyRow, type SessionRow } from '../key-records.js';
import { assertBlobQuota, blobCheck, blobCheckColumns, type BlobCheckRow } from '../blob-records.js';
import type {
  ApiKeyListing,
  ApiKeyRecord,
  BlobCheck,
  BlobCollection,
  ExperimentSummary,
  OwnedBlob,
  ProjectCount,
  ImageMeta,
  PlotMeta,
  IngestBatch,
  IngestResult,
  PublishedExperiment,
  RemoteExperimentQuery,
  RemoteExperimentRecord,
  SeriesState,
  ServerBackend,
  UiSessionRecord,
} from '../server-backend.js';
import { dedupedName, MAX_NAME_ATTEMPTS } from '../../model/experiment-names.js';
import { bytesOf, extremes } from '../column-stats.js';
import { assembleMetricPage, type MetricPage } from '../metric-page.js';
import type { StudyFilter, StudyMember, StudyPatch, StudyQuery, StudyRecord, StudyStatus } from '../../model/study.js';
import type { ServerStudyBackend } from '../study-store.js';

interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * Schema migrations, applied in order; lablog_migrations records the applied ones. The tables mirror the
 * SQLite store's (v1–v3, without the client-side sync tables, then v4's studies as version 2 and v5's
 * keys and sessions as version 3). Names are COLLATE "C" so they sort by code point like SQLite's BINARY,
 * whatever the database's locale.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'experiments, params, series in columnar chunks, images, plots, tables, blobs, API keys',
    sql: `
      CREATE TABLE experiments (
        id           text COLLATE "C" PRIMARY KEY,
        project      text COLLATE "C" NOT NULL,
        name         text COLLATE "C" NOT NULL,
        description  text,
        tags         text[] NOT NULL DEFAULT '{}',
        status       text COLLATE "C" NOT NULL,
        created_at   double precision NOT NULL,
        updated_at   double precision NOT NULL,
        ended_at     double precision,
        heartbeat_at double precision,
        hostname     text,
        -- Publishing: the version label and when data last arrived.
        version      text,
        published_at double precision NOT NULL,
        UNIQUE (project, name)
      );
      CREATE INDEX experiments_created ON experiments (created_at, id);
      CREATE INDEX experiments_updated ON experiments (updated_at, id);
      CREATE INDEX experiments_project_created ON experiments (project, created_at, id);

      CREATE TABLE experiment_tags (
        experiment_id text COLLATE "C" NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        tag           text COLLATE "C" NOT NULL,
        PRIMARY KEY (experiment_id, tag)
      );
      CREATE INDEX experiment_tags_tag ON experiment_tags (tag, experiment_id);

      CREATE TABLE params (
        experiment_id text COLLATE "C" NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        key           text COLLATE "C" NOT NULL,
        type          text NOT NULL,
        value         text NOT NULL,
        PRIMARY KEY (experiment_id, key)
      );

      -- One row per series; count/steps/last/min/max are kept current by every write. Free room on
      -- each page lets those updates happen in place (HOT: no index entries to add).
      CREATE TABLE series (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        experiment_id  text COLLATE "C" NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        name           text COLLATE "C" NOT NULL,
        kind           text NOT NULL,
        count          bigint NOT NULL DEFAULT 0,
        first_step     bigint,
        last_step      bigint,
        last_timestamp double precision,
        last_value     double precision,
        min_value      double precision,
        max_value      double precision,
        UNIQUE (experiment_id, name)
      ) WITH (fillfactor = 70);

      -- Metric points in columns: one row per series per ingested item. Steps and timestamps are encoded
      -- as column-codec.ts says (encoding packs both), values are raw little-endian float64. min/max of
      -- the chunk's values (NaN ignored) let a truncation recompute the series' extremes without decoding.
      CREATE TABLE metric_chunks (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        series_id  bigint NOT NULL REFERENCES series (id) ON DELETE CASCADE,
        first_step bigint NOT NULL,
        last_step  bigint NOT NULL,
        count      integer NOT NULL,
        encoding   integer NOT NULL,
        min_value  double precision,
        max_value  double precision,
        steps      bytea NOT NULL,
        vals       bytea NOT NULL,
        timestamps bytea NOT NULL,
        UNIQUE (series_id, first_step)
      );
      -- Float columns barely compress: store them out of line without trying.
      ALTER TABLE metric_chunks ALTER COLUMN steps SET STORAGE EXTERNAL,
        ALTER COLUMN vals SET STORAGE EXTERNAL, ALTER COLUMN timestamps SET STORAGE EXTERNAL;

      -- Content-addressed bytes (PNGs, Arrow IPC streams), uploaded before the points that name them.
      CREATE TABLE blobs (
        hash  text COLLATE "C" PRIMARY KEY,
        size  bigint NOT NULL,
        bytes bytea NOT NULL
      );

      CREATE TABLE image_points (
        series_id bigint NOT NULL REFERENCES series (id) ON DELETE CASCADE,
        step      bigint NOT NULL,
        timestamp double precision NOT NULL,
        caption   text,
        blob_hash text COLLATE "C" NOT NULL REFERENCES blobs (hash),
        width     integer NOT NULL,
        height    integer NOT NULL,
        PRIMARY KEY (series_id, step)
      );

      CREATE TABLE plot_points (
        series_id bigint NOT NULL REFERENCES series (id) ON DELETE CASCADE,
        step      bigint NOT NULL,
        timestamp double precision NOT NULL,
        caption   text,
        figure    text NOT NULL,
        PRIMARY KEY (series_id, step)
      );

      CREATE TABLE tables (
        experiment_id text COLLATE "C" NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        name          text COLLATE "C" NOT NULL,
        rows          integer NOT NULL,
        columns       integer NOT NULL,
        format        text NOT NULL,
        blob_hash     text COLLATE "C" NOT NULL REFERENCES blobs (hash),
        logged_at     double precision NOT NULL,
        PRIMARY KEY (experiment_id, name)
      );

      CREATE TABLE api_keys (
        id         text COLLATE "C" PRIMARY KEY,
        hash       text COLLATE "C" NOT NULL UNIQUE,
        projects   text[] NOT NULL,
        name       text,
        created_at double precision NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'studies: named groups of experiments around a question',
    // Tags are jsonb arrays (containment filters, GIN-indexed); metadata, baseline and template are json,
    // which keeps the text as written (key order included), like SQLite's TEXT.
    sql: `
      CREATE TABLE studies (
        id                 text COLLATE "C" PRIMARY KEY,
        project            text COLLATE "C" NOT NULL,
        name               text COLLATE "C" NOT NULL,
        description        text,
        hypothesis         text,
        tags               jsonb NOT NULL DEFAULT '[]',
        metadata           json NOT NULL DEFAULT '{}',
        baseline           json,
        template           json,
        status             text COLLATE "C" NOT NULL,
        conclusion         text,
        archive_reason     text,
        preserve_artifacts boolean,
        created_at         double precision NOT NULL,
        updated_at         double precision NOT NULL,
        UNIQUE (project, name)
      );
      CREATE INDEX studies_created ON studies (created_at, id);
      CREATE INDEX studies_project_created ON studies (project, created_at, id);
      CREATE INDEX studies_tags ON studies USING gin (tags jsonb_path_ops);

      -- The primary key makes an experiment belong to one study at most.
      CREATE TABLE study_experiments (
        experiment_id text COLLATE "C" PRIMARY KEY REFERENCES experiments (id) ON DELETE CASCADE,
        study_id      text COLLATE "C" NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
        notes         text,
        tags          jsonb NOT NULL DEFAULT '[]',
        added_at      double precision NOT NULL
      );
      CREATE INDEX study_experiments_study ON study_experiments (study_id, added_at, experiment_id);
    `,
  },
  {
    version: 3,
    description: 'API keys revoked and last used, UI sessions kept on the server',
    sql: `
      ALTER TABLE api_keys ADD COLUMN last_used_at double precision;
      ALTER TABLE api_keys ADD COLUMN revoked_at double precision;
      -- A UI login: the browser holds a random id, this table only its sha256. id orders logins of a key.
      CREATE TABLE ui_sessions (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        hash         text COLLATE "C" NOT NULL UNIQUE,
        key_id       text COLLATE "C" NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
        created_at   double precision NOT NULL,
        expires_at   double precision NOT NULL,
        last_seen_at double precision NOT NULL
      );
      CREATE INDEX ui_sessions_key ON ui_sessions (key_id, id);
    `,
  },
  {
    version: 4,
    description: 'blobs belong to projects: ownership, remembered validation, reference indexes',
    // As the SQLite store's version 6. The foreign keys make a collection that races an upload or a
    // reference of the same bytes fail (and retry later) instead of deleting bytes someone now holds.
    sql: `
      CREATE TABLE blob_owners (
        project       text COLLATE "C" NOT NULL,
        hash          text COLLATE "C" NOT NULL REFERENCES blobs (hash),
        touched_at    double precision NOT NULL,
        referenced_at double precision,
        PRIMARY KEY (project, hash)
      );
      CREATE INDEX blob_owners_hash ON blob_owners (hash);
      CREATE INDEX blob_owners_touched ON blob_owners (touched_at);
      CREATE INDEX blob_owners_unreferenced ON blob_owners (project) WHERE referenced_at IS NULL;

      CREATE TABLE blob_checks (
        hash    text COLLATE "C" NOT NULL REFERENCES blobs (hash) ON DELETE CASCADE,
        kind    text COLLATE "C" NOT NULL,
        width   integer,
        height  integer,
        rows    bigint,
        columns bigint,
        invalid text,
        PRIMARY KEY (hash, kind)
      );

      CREATE INDEX image_points_blob ON image_points (blob_hash);
      CREATE INDEX tables_blob ON tables (blob_hash);

      INSERT INTO blob_owners (project, hash, touched_at, referenced_at)
        SELECT e.project, p.blob_hash, extract(epoch FROM now()) * 1000, extract(epoch FROM now()) * 1000
        FROM image_points p JOIN series s ON s.id = p.series_id JOIN experiments e ON e.id = s.experiment_id
        UNION
        SELECT e.project, t.blob_hash, extract(epoch FROM now()) * 1000, extract(epoch FROM now()) * 1000
        FROM tables t JOIN experiments e ON e.id = t.experiment_id
        ON CONFLICT DO NOTHING;
      INSERT INTO blob_owners (project, hash, touched_at, referenced_at)
        SELECT '', b.hash, extract(epoch FROM now()) * 1000, NULL FROM blobs b
        WHERE NOT EXISTS (SELECT 1 FROM blob_owners o WHERE o.hash = b.hash)
        ON CONFLICT DO NOTHING;
    `,
  },
];

const PG_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** pg_advisory_xact_lock key serializing migrations across server processes ('lablog' in ASCII). */
const MIGRATION_LOCK_KEY = '119251208400743';
const TABLE_FORMAT = 'arrow-ipc-stream';
/** First pg_advisory_xact_lock key of the per-project blob quota lock ('blob' in ASCII); the second is the project's hashtext. */
const BLOB_QUOTA_LOCK_KEY = 1651273570;
/** Candidate names checked per query when deduplicating. */
const NAME_PROBE = 64;
/** Bind parameters per statement (PostgreSQL allows 65535) and bytes, when inserting many rows at once. */
const MAX_STATEMENT_PARAMETERS = 30_000;
const MAX_STATEMENT_BYTES = 64 * 1024 * 1024;
/** How long opening a connection may take before the call fails. */
const CONNECT_TIMEOUT_MS = 10_000;

/** bigint columns (steps, counts) come back as JS numbers: every one of them is a safe integer. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (text: string) => Number(text)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const SORT_COLUMNS: Record<string, string> = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  name: 'name',
  status: 'status',
};

const MEDIA_TABLES: Record<'image' | 'plot', string> = { image: 'image_points', plot: 'plot_points' };

const EXPERIMENT_COLUMNS =
  'id, project, name, description, tags, status, created_at, updated_at, ended_at, heartbeat_at, hostname, version, published_at';

const KEY_COLUMNS = 'k.id, k.hash, k.projects, k.name, k.created_at, k.last_used_at, k.revoked_at';

type KeyRow = StoredKeyRow<string[]>;

interface ExperimentRow {
  id: string;
  project: string;
  name: string;
  description: string | null;
  tags: string[];
  status: ExperimentStatus;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  heartbeat_at: number | null;
  hostname: string | null;
  version: string | null;
  published_at: number;
}

interface ChunkRow {
  count: number;
  encoding: number;
  steps: Buffer;
  vals: Buffer;
  timestamps: Buffer;
}

/** A change of one series' summary: absolute (truncate) or added to what is stored (ingest). */
interface SeriesStats {
  id: number;
  count: number;
  first: number | null;
  last: number | null;
  lastTimestamp: number | null;
  lastValue: number | null;
  min: number | null;
  max: number | null;
}

function toRecord(row: ExperimentRow): RemoteExperimentRecord {
  return {
    id: row.id,
    project: row.project,
    name: row.name,
    description: row.description,
    tags: row.tags,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
    heartbeatAt: row.heartbeat_at,
    // The client's process id means nothing on the server.
    pid: null,
    hostname: row.hostname,
    version: row.version,
    publishedAt: row.published_at,
  };
}

/** A double for a query parameter: pg sends numbers as toString(), which turns -0 into 0. */
function f8(value: number | null): number | string | null {
  return value !== null && Object.is(value, -0) ? '-0' : value;
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

type Db = pg.Pool | pg.PoolClient;

/**
 * Runs `statement` over rows given as a VALUES list, in as few statements as the parameter and size
 * budgets allow. `casts` types each column (e.g. '::bigint'; '' when the target column types it). Buffers
 * travel as binary parameters, not hex text.
 */
async function withValues(
  db: Db,
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
function insertRows(db: Db, head: string, rows: readonly (readonly unknown[])[]): Promise<void> {
  return withValues(db, rows, (values) => `${head} VALUES ${values}`);
}

/** Arrays of a series summary change, for an UPDATE … FROM unnest(…). */
function statsColumns(stats: readonly SeriesStats[]): unknown[] {
  return [
    stats.map((s) => s.id),
    stats.map((s) => s.count),
    stats.map((s) => s.first),
    stats.map((s) => s.last),
    stats.map((s) => f8(s.lastTimestamp)),
    stats.map((s) => f8(s.lastValue)),
    stats.map((s) => f8(s.min)),
    stats.map((s) => f8(s.max)),
  ];
}

const STATS_FROM = `unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[], $8::float8[])
  AS u(id, n, first, last, ts, lv, mn, mx)`;

interface StudyRow {
  id: string;
  project: string;
  name: string;
  description: string | null;
  hypothesis: string | null;
  /** jsonb and json columns arrive parsed (JSON.parse) by the driver. */
  tags: string[];
  metadata: Record<string, unknown>;
  baseline: StudyRecord['baseline'];
  template: StudyRecord['template'];
  status: StudyStatus;
  conclusion: string | null;
  archive_reason: string | null;
  preserve_artifacts: boolean | null;
  created_at: number;
  updated_at: number;
}

const STUDY_COLUMNS =
  'id, project, name, description, hypothesis, tags, metadata, baseline, template, status, conclusion, archive_reason, ' +
  'preserve_artifacts, created_at, updated_at';

/** StudyPatch fields and their columns: the only names an update puts in its statement. */
const STUDY_PATCH_COLUMNS: Record<string, string> = {
  name: 'name',
  description: 'description',
  hypothesis: 'hypothesis',
  tags: 'tags',
  metadata: 'metadata',
  baseline: 'baseline',
  template: 'template',
  status: 'status',
  conclusion: 'conclusion',
  archiveReason: 'archive_reason',
  preserveArtifacts: 'preserve_artifacts',
};
const STUDY_JSON_FIELDS = new Set(['tags', 'metadata', 'baseline', 'template']);
const STUDY_SORT_COLUMNS: Record<string, string> = { created_at: 'created_at', updated_at: 'updated_at', name: 'name' };
/** The constraint that makes a study name unique in its project (PostgreSQL's default name for UNIQUE (project, name)). */
const STUDY_NAME_CONSTRAINT = 'studies_project_name_key';
const UNIQUE_VIOLATION = '23505';

function toStudyRecord(row: StudyRow): StudyRecord {
  return {
    id: row.id,
    project: row.project,
    name: row.name,
    description: row.description,
    hypothesis: row.hypothesis,
    tags: row.tags,
    metadata: row.metadata,
    baseline: row.baseline,
    template: row.template,
    status: row.status,
    conclusion: row.conclusion,
    archiveReason: row.archive_reason,
    preserveArtifacts: row.preserve_artifacts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * A JSON value as a parameter: always text from JSON.stringify (pg would send a JS array as a PostgreSQL
 * array literal, and JSON.stringify is what SQLite stores); null stays SQL NULL.
 */
function jsonParam(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function studyParam(field: string, value: unknown): unknown {
  if (STUDY_JSON_FIELDS.has(field)) return jsonParam(value);
  return value;
}

function isUniqueViolation(cause: unknown, constraint: string): boolean {
  const error = cause as { code?: unknown; constraint?: unknown } | null;
  return error?.code === UNIQUE_VIOLATION && error.constraint === constraint;
}

function nameTaken(name: string, project: string, details: Record<string, unknown>): LablogError {
  return new LablogError('INVALID_NAME', `a study named '${name}' exists in project '${project}'`, details);
}

/** What the study backend uses of its store: statements and transactions with the store's error handling. */
interface StudyStore {
  query<R extends pg.QueryResultRow>(what: string, text: string, values: unknown[]): Promise<R[]>;
  transaction<T>(what: string, fn: (db: pg.PoolClient) => Promise<T>): Promise<T>;
}

/**
 * The studies of a PostgreSQL store, with the SQLite store's rules and errors (sqlite-study-backend.ts).
 * Writers of one study take turns on its row (SELECT … FOR UPDATE); the primary key of study_experiments
 * keeps an experiment in one study at most, whoever adds it at the same time.
 */
class PostgresStudyBackend implements ServerStudyBackend {
  readonly #store: StudyStore;

  constructor(store: StudyStore) {
    this.#store = store;
  }

  async createStudy(r: StudyRecord): Promise<void> {
    // DO NOTHING only on the name: a taken id still fails (STORAGE_ERROR), as in SQLite.
    const rows = await this.#store.query(
      'creating a study',
      `INSERT INTO studies (${STUDY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (project, name) DO NOTHING RETURNING id`,
      [
        r.id,
        r.project,
        r.name,
        r.description,
        r.hypothesis,
        jsonParam(r.tags),
        jsonParam(r.metadata),
        jsonParam(r.baseline),
        jsonParam(r.template),
        r.status,
        r.conclusion,
        r.archiveReason,
        r.preserveArtifacts,
        f8(r.createdAt),
        f8(r.updatedAt),
      ],
    );
    if (rows.length === 0) throw nameTaken(r.name, r.project, { key: r.name, project: r.project });
  }

  async getStudy(id: string): Promise<StudyRecord | undefined> {
    const rows = await this.#store.query<StudyRow>('reading a study', `SELECT ${STUDY_COLUMNS} FROM studies WHERE id = $1`, [id]);
    return rows[0] && toStudyRecord(rows[0]);
  }

  async findStudies(name: string, project?: string): Promise<StudyRecord[]> {
    const rows =
      project === undefined
        ? await this.#store.query<StudyRow>(
            'finding studies',
            `SELECT ${STUDY_COLUMNS} FROM studies WHERE name = $1 ORDER BY created_at, id`,
            [name],
          )
        : await this.#store.query<StudyRow>('finding studies', `SELECT ${STUDY_COLUMNS} FROM studies WHERE name = $1 AND project = $2`, [
            name,
            project,
          ]);
    return rows.map(toStudyRecord);
  }

  /** The WHERE clause of a query; values go to `args` as parameters. */
  #where(query: StudyFilter, args: unknown[]): string {
    const arg = (value: unknown) => {
      args.push(value);
      return `$${args.length}`;
    };
    const clauses: string[] = [];
    if (query.project !== undefined) clauses.push(`project = ${arg(query.project)}`);
    // An empty scope matches nothing.
    if (query.projects !== undefined) clauses.push(`project = ANY (${arg([...query.projects])}::text[])`);
    if (query.status !== undefined) clauses.push(`status = ${arg(query.status)}`);
    // Every tag: the tags array contains all of them.
    const tags = [...new Set(query.tags ?? [])];
    if (tags.length > 0) clauses.push(`tags @> ${arg(JSON.stringify(tags))}::jsonb`);
    return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  }

  async listStudies(query: StudyQuery): Promise<StudyRecord[]> {
    const args: unknown[] = [];
    const where = this.#where(query, args);
    const column = STUDY_SORT_COLUMNS[query.sort] ?? 'created_at';
    const order = query.order === 'asc' ? 'ASC' : 'DESC';
    // As in SQLite: a negative limit is no limit (LIMIT NULL), a negative offset is none.
    args.push(query.limit < 0 ? null : query.limit, Math.max(0, query.offset));
    const rows = await this.#store.query<StudyRow>(
      'listing studies',
      `SELECT ${STUDY_COLUMNS} FROM studies ${where}
       ORDER BY ${column} ${order}, id ${order} LIMIT $${args.length - 1} OFFSET $${args.length}`,
      args,
    );
    return rows.map(toStudyRecord);
  }

  async countStudies(query: StudyFilter): Promise<number> {
    const args: unknown[] = [];
    const where = this.#where(query, args);
    const rows = await this.#store.query<{ n: number }>('counting studies', `SELECT count(*) AS n FROM studies ${where}`, args);
    return rows[0]!.n;
  }

  async updateStudy(id: string, patch: StudyPatch, now: number): Promise<StudyRecord> {
    return this.#store.transaction('updating a study', async (db) => {
      const { rows } = await db.query<{ project: string; name: string }>('SELECT project, name FROM studies WHERE id = $1 FOR UPDATE', [
        id,
      ]);
      const current = rows[0];
      if (current === undefined) throw new LablogError('STUDY_NOT_FOUND', `no study with id ${id}`, { id });
      const renamed = patch.name !== undefined && patch.name !== current.name;
      if (renamed) {
        const taken = await db.query('SELECT 1 FROM studies WHERE project = $1 AND name = $2', [current.project, patch.name]);
        if (taken.rowCount !== 0) throw nameTaken(patch.name!, current.project, { key: patch.name });
      }
      const values = patch as Record<string, unknown>;
      const fields = Object.keys(patch).filter((f) => Object.hasOwn(STUDY_PATCH_COLUMNS, f) && values[f] !== undefined);
      const args: unknown[] = [id, f8(now)];
      const sets = fields.map((f) => {
        args.push(studyParam(f, values[f]));
        return `${STUDY_PATCH_COLUMNS[f]} = $${args.length}`;
      });
      try {
        const updated = await db.query<StudyRow>(
          `UPDATE studies SET ${[...sets, 'updated_at = $2'].join(', ')} WHERE id = $1 RETURNING ${STUDY_COLUMNS}`,
          args,
        );
        return toStudyRecord(updated.rows[0]!);
      } catch (cause) {
        // Another process took the name since the check above.
        if (renamed && isUniqueViolation(cause, STUDY_NAME_CONSTRAINT)) throw nameTaken(patch.name!, current.project, { key: patch.name });
        throw cause;
      }
    });
  }

  async deleteStudy(id: string): Promise<void> {
    await this.#store.transaction('deleting a study', async (db) => {
      await db.query('DELETE FROM study_experiments WHERE study_id = $1', [id]);
      await db.query('DELETE FROM studies WHERE id = $1', [id]);
    });
  }

  async addMember(studyId: string, member: StudyMember, maxMembers: number): Promise<void> {
    await this.#store.transaction('adding an experiment to a study', async (db) => {
      // Adds to one study take turns here, so the count below is exact. An unknown study fails at the
      // insert (foreign key: STORAGE_ERROR), after the same checks as in SQLite.
      await db.query('SELECT 1 FROM studies WHERE id = $1 FOR UPDATE', [studyId]);
      const alreadyIn = (existing: string) =>
        new LablogError('ALREADY_IN_STUDY', `experiment ${member.experimentId} already belongs to study ${existing}`, {
          experimentId: member.experimentId,
          existingStudyId: existing,
        });
      const studyOf = async () =>
        (await db.query<{ study_id: string }>('SELECT study_id FROM study_experiments WHERE experiment_id = $1', [member.experimentId]))
          .rows[0]?.study_id;
      const existing = await studyOf();
      if (existing !== undefined) throw alreadyIn(existing);
      const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM study_experiments WHERE study_id = $1', [studyId]);
      const count = rows[0]!.n;
      if (count >= maxMembers) {
        throw new LablogError('LIMIT_EXCEEDED', `a study holds at most ${maxMembers} experiments`, {
          limit: maxMembers,
          actual: count + 1,
        });
      }
      for (;;) {
        // Adding it to another study at the same time: the primary key lets one insert through; this one
        // waits for it, then inserts nothing (no error, so the transaction can still read who won).
        const inserted = await db.query(
          `INSERT INTO study_experiments (experiment_id, study_id, notes, tags, added_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (experiment_id) DO NOTHING`,
          [member.experimentId, studyId, member.notes, jsonParam(member.tags), f8(member.addedAt)],
        );
        if (inserted.rowCount === 1) break;
        const winner = await studyOf();
        if (winner !== undefined) throw alreadyIn(winner);
        // The other membership was deleted meanwhile: try again.
      }
      await db.query('UPDATE studies SET updated_at = $2 WHERE id = $1', [studyId, f8(member.addedAt)]);
    });
  }

  async members(studyId: string): Promise<StudyMember[]> {
    const rows = await this.#store.query<{ experiment_id: string; notes: string | null; tags: string[]; added_at: number }>(
      'reading study members',
      'SELECT experiment_id, notes, tags, added_at FROM study_experiments WHERE study_id = $1 ORDER BY added_at, experiment_id',
      [studyId],
    );
    return rows.map((r) => ({ experimentId: r.experiment_id, notes: r.notes, tags: r.tags, addedAt: r.added_at }));
  }

  async studyOf(experimentId: string): Promise<string | undefined> {
    const rows = await this.#store.query<{ study_id: string }>(
      'finding the study of an experiment',
      'SELECT study_id FROM study_experiments WHERE experiment_id = $1',
      [experimentId],
    );
    return rows[0]?.study_id;
  }

  async dropArtifacts(experimentIds: readonly string[]): Promise<void> {
    const ids = [...new Set(experimentIds)];
    if (ids.length === 0) return;
    await this.#store.transaction('deleting artifacts', async (db) => {
      // The experiments' locks (in id order: no deadlock between two callers) keep an ingest from writing
      // points into a series deleted under it.
      await db.query('SELECT 1 FROM experiments WHERE id = ANY ($1::text[]) ORDER BY id FOR UPDATE', [ids]);
      // The series rows stay, emptied, as in the SQLite stores (where a deleted id could be reused).
      await db.query(
        "DELETE FROM image_points WHERE series_id IN (SELECT id FROM series WHERE experiment_id = ANY ($1::text[]) AND kind = 'image')",
        [ids],
      );
      await db.query(
        "DELETE FROM plot_points WHERE series_id IN (SELECT id FROM series WHERE experiment_id = ANY ($1::text[]) AND kind = 'plot')",
        [ids],
      );
      await db.query(
        "UPDATE series SET count = 0, first_step = NULL, last_step = NULL, last_timestamp = NULL WHERE experiment_id = ANY ($1::text[]) AND kind IN ('image', 'plot')",
        [ids],
      );
      await db.query('DELETE FROM tables WHERE experiment_id = ANY ($1::text[])', [ids]);
      // Blobs stay: another request may be about to name them (they were uploaded first, verified by hash).
    });
  }
}

interface SeriesRow {
  name: string;
  kind: SeriesKind;
  count: number;
  first_step: number | null;
  last_step: number | null;
  last_timestamp: number | null;
  last_value: number | null;
  min_value: number | null;
  max_value: number | null;
}

function seriesRecord(row: SeriesRow): SeriesRecord {
  return {
    name: row.name,
    kind: row.kind,
    count: row.count,
    firstStep: row.first_step,
    lastStep: row.last_step,
    lastTimestamp: row.last_timestamp,
    lastValue: row.last_value,
    minValue: row.min_value,
    maxValue: row.max_value,
  };
}

export class PostgresBackend implements ServerBackend {
  readonly location: string;
  readonly #pool: pg.Pool;
  #closed = false;
  #studies: PostgresStudyBackend | undefined;

  private constructor(pool: pg.Pool, location: string) {
    this.#pool = pool;
    this.location = location;
  }

  /** Connects to the database at `url` and brings its schema up to date. */
  static async open(url: string): Promise<PostgresBackend> {
    const location = withoutPassword(url);
    const pool = new pg.Pool({ connectionString: url, types: TYPES, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // An idle connection that breaks (server restart) is dropped by the pool; without a listener the
    // 'error' event would crash the process. The next query reports the problem if it persists.
    pool.on('error', () => {});
    const backend = new PostgresBackend(pool, location);
    try {
      await backend.#transaction('opening the store', (db) => backend.#migrate(db));
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
    return backend;
  }

  /** Applies pending migrations; the advisory lock makes processes starting together take turns. */
  async #migrate(db: pg.PoolClient): Promise<void> {
    await db.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await db.query(
      `CREATE TABLE IF NOT EXISTS lablog_migrations (
         version     integer PRIMARY KEY,
         description text NOT NULL,
         applied_at  timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await db.query<{ version: number | null }>('SELECT max(version) AS version FROM lablog_migrations');
    const version = rows[0]?.version ?? 0;
    if (version > PG_SCHEMA_VERSION) {
      throw new LablogError(
        'STORAGE_ERROR',
        `the database at ${this.location} has schema version ${version}, newer than this lablog's ${PG_SCHEMA_VERSION}; upgrade lablog`,
        { driver: 'postgres', driverCode: null, location: this.location, limit: PG_SCHEMA_VERSION, actual: version },
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= version) continue;
      await db.query(migration.sql);
      await db.query('INSERT INTO lablog_migrations (version, description) VALUES ($1, $2)', [migration.version, migration.description]);
    }
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

  /** Runs one statement outside a transaction; driver errors become STORAGE_ERROR. */
  async #query<R extends pg.QueryResultRow>(what: string, text: string, values: unknown[]): Promise<R[]> {
    if (this.#closed)
      throw new LablogError('STORAGE_ERROR', `${what}: the store at ${this.location} is closed`, {
        driver: 'postgres',
        driverCode: null,
        location: this.location,
      });
    try {
      return (await this.#pool.query<R>(text, values)).rows;
    } catch (cause) {
      throw this.#storageError(what, cause);
    }
  }

  /** Like #query, as a named statement: parsed and planned once per connection (for the per-request lookups). */
  async #prepared<R extends pg.QueryResultRow>(what: string, name: string, text: string, values: unknown[]): Promise<R[]> {
    if (this.#closed)
      throw new LablogError('STORAGE_ERROR', `${what}: the store at ${this.location} is closed`, {
        driver: 'postgres',
        driverCode: null,
        location: this.location,
      });
    try {
      return (await this.#pool.query<R>({ name, text, values })).rows;
    } catch (cause) {
      throw this.#storageError(what, cause);
    }
  }

  /** Runs `fn` in a transaction on one connection: committed if it returns, rolled back if it throws. */
  async #transaction<T>(what: string, fn: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.#closed)
      throw new LablogError('STORAGE_ERROR', `${what}: the store at ${this.location} is closed`, {
        driver: 'postgres',
        driverCode: null,
        location: this.location,
      });
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

  /** Locks the experiment's row until the transaction ends, so writers of one experiment take turns. */
  async #lockExperiment(db: pg.PoolClient, id: string): Promise<void> {
    const { rowCount } = await db.query('SELECT 1 FROM experiments WHERE id = $1 FOR UPDATE', [id]);
    if (rowCount === 0) {
      throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id ${id}; publish the experiment first`, { id });
    }
  }

  async upsertExperiment(e: PublishedExperiment, limits: Limits, now: number): Promise<RemoteExperimentRecord> {
    return this.#transaction(`publishing experiment ${e.id}`, async (db) => {
      for (;;) {
        const { rows } = await db.query<{ project: string }>('SELECT project FROM experiments WHERE id = $1 FOR UPDATE', [e.id]);
        const existing = rows[0];
        if (existing !== undefined) {
          if (existing.project !== e.project) {
            throw new LablogError('INVALID_OPTION', `experiment ${e.id} is in another project; a project cannot change`, { id: e.id });
          }
          await db.query(
            `UPDATE experiments SET status = $2, description = $3, tags = $4, ended_at = $5, heartbeat_at = $6, hostname = $7,
               version = coalesce($8, version), updated_at = $9, published_at = $9
             WHERE id = $1`,
            [e.id, e.status, e.description, [...e.tags], e.endedAt, e.heartbeatAt, e.hostname, e.version, now],
          );
          await db.query('DELETE FROM experiment_tags WHERE experiment_id = $1 AND NOT (tag = ANY ($2::text[]))', [e.id, [...e.tags]]);
          break;
        }
        if (await this.#insertExperiment(db, e, limits, now)) break;
        // Another process created this id meanwhile: update it instead.
      }
      await db.query('INSERT INTO experiment_tags (experiment_id, tag) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [
        e.id,
        [...e.tags],
      ]);
      await this.#upsertParams(db, e, limits);
      const { rows } = await db.query<ExperimentRow>(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE id = $1`, [e.id]);
      return toRecord(rows[0]!);
    });
  }

  /**
   * Inserts the experiment under the first free name among name, name-2, …; false when the insert lost
   * a race for the id to another process (the caller then updates).
   */
  async #insertExperiment(db: pg.PoolClient, e: PublishedExperiment, limits: Limits, now: number): Promise<boolean> {
    for (let start = 1; ; start += NAME_PROBE) {
      if (start > MAX_NAME_ATTEMPTS) dedupedName(e.name, start, limits.maxNameLength); // throws LIMIT_EXCEEDED
      const count = Math.min(NAME_PROBE, MAX_NAME_ATTEMPTS - start + 1);
      const candidates = Array.from({ length: count }, (_, i) => dedupedName(e.name, start + i, limits.maxNameLength));
      const { rows } = await db.query<{ name: string }>('SELECT name FROM experiments WHERE project = $1 AND name = ANY ($2::text[])', [
        e.project,
        candidates,
      ]);
      const taken = new Set(rows.map((row) => row.name));
      for (const name of candidates) {
        if (taken.has(name)) continue;
        // DO NOTHING on either unique key: the name or the id was taken since the check above.
        const inserted = await db.query(
          `INSERT INTO experiments (id, project, name, description, tags, status, created_at, updated_at, ended_at, heartbeat_at,
             hostname, version, published_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $8)
           ON CONFLICT DO NOTHING`,
          [e.id, e.project, name, e.description, [...e.tags], e.status, e.createdAt, now, e.endedAt, e.heartbeatAt, e.hostname, e.version],
        );
        if (inserted.rowCount === 1) return true;
        const { rowCount } = await db.query('SELECT 1 FROM experiments WHERE id = $1', [e.id]);
        if (rowCount !== 0) return false;
      }
    }
  }

  /** Upserts every param; fails LIMIT_EXCEEDED (the transaction rolls back) when new keys pass maxParams. */
  async #upsertParams(db: pg.PoolClient, e: PublishedExperiment, limits: Limits): Promise<void> {
    if (e.params.length === 0) return;
    // One statement cannot update a row twice: the last of duplicate keys wins.
    const params = [...new Map(e.params.map((p) => [p.key, p] as const)).values()];
    const { rows } = await db.query<{ inserted: boolean }>(
      `INSERT INTO params (experiment_id, key, type, value)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
       ON CONFLICT (experiment_id, key) DO UPDATE SET type = excluded.type, value = excluded.value
       RETURNING (xmax = 0) AS inserted`,
      [e.id, params.map((p) => p.key), params.map((p) => p.type), params.map((p) => p.value)],
    );
    // Only new keys can pass the limit: updating an experiment already over a since-lowered limit still works.
    if (!rows.some((row) => row.inserted)) return;
    const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM params WHERE experiment_id = $1', [e.id]);
    const actual = count.rows[0]!.n;
    if (actual > limits.maxParams) {
      throw new LablogError(
        'LIMIT_EXCEEDED',
        `experiment ${e.id} would have ${actual} params; the limit is ${limits.maxParams} (maxParams)`,
        {
          experiment: e.id,
          limit: limits.maxParams,
          actual,
        },
      );
    }
  }

  async ingest(batch: IngestBatch, limits: Limits, now: number): Promise<IngestResult> {
    const id = batch.experimentId;
    return this.#transaction(`ingesting into experiment ${id}`, async (db) => {
      await this.#lockExperiment(db, id);
      // What is stored, read under the lock: another process ingesting this experiment waits above.
      const names = [...new Set([...batch.metrics, ...batch.images, ...batch.plots].map((item) => item.name))].filter(
        (name) => typeof name === 'string',
      );
      const seriesIds = new Map<string, number>();
      const series = new Map<string, SeriesState>();
      if (names.length > 0) {
        const { rows } = await db.query<{ id: number; name: string; kind: SeriesKind; count: number; last_step: number | null }>(
          'SELECT id, name, kind, count, last_step FROM series WHERE experiment_id = $1 AND name = ANY ($2::text[])',
          [id, names],
        );
        for (const row of rows) {
          seriesIds.set(row.name, row.id);
          series.set(row.name, { name: row.name, kind: row.kind, count: row.count, lastStep: row.last_step });
        }
      }
      let metricCount = 0;
      if (batch.metrics.length > 0) {
        const { rows } = await db.query<{ n: number }>(
          `SELECT coalesce(sum(count), 0)::bigint AS n FROM series WHERE experiment_id = $1 AND kind = 'metric'`,
          [id],
        );
        metricCount = rows[0]!.n;
      }
      const tables = new Map<string, number>();
      if (batch.tables.length > 0) {
        const { rows } = await db.query<{ name: string; logged_at: number }>(
          'SELECT name, logged_at FROM tables WHERE experiment_id = $1 AND name = ANY ($2::text[])',
          [id, batch.tables.map((t) => String(t.name))],
        );
        for (const row of rows) tables.set(row.name, row.logged_at);
      }

      const plan = planIngest(batch, { series, metricCount, tables }, limits);
      await this.#assertBlobs(db, plan, id, now);
      await this.#createSeries(db, id, plan, seriesIds);
      await this.#writeMetrics(db, plan, seriesIds);
      await this.#writeMedia(db, plan, seriesIds);
      for (const t of plan.tables) {
        // The logged_at guard keeps the newest of two same-named tables in one batch.
        await db.query(
          `INSERT INTO tables (experiment_id, name, rows, columns, format, blob_hash, logged_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (experiment_id, name) DO UPDATE SET rows = excluded.rows, columns = excluded.columns,
             format = excluded.format, blob_hash = excluded.blob_hash, logged_at = excluded.logged_at
           WHERE tables.logged_at < excluded.logged_at`,
          [id, t.name, t.rows, t.columns, TABLE_FORMAT, t.hash, f8(t.loggedAt)],
        );
      }
      await db.query('UPDATE experiments SET published_at = $2, updated_at = $2 WHERE id = $1', [id, now]);
      return plan.result;
    });
  }

  /**
   * Points and tables name blobs uploaded before; a missing one fails the request (nothing is stored). The
   * blobs are share-locked until commit (a collection cannot delete them under this ingest), and become
   * owned and referenced by the experiment's project (rows locked in hash order: no deadlock between two).
   */
  async #assertBlobs(db: pg.PoolClient, plan: IngestPlan, experimentId: string, now: number): Promise<void> {
    const hashes = [...new Set([...plan.images.map((p) => p.hash), ...plan.tables.map((t) => t.hash)])].sort();
    if (hashes.length === 0) return;
    const { rows } = await db.query<{ hash: string }>('SELECT hash FROM blobs WHERE hash = ANY ($1::text[]) ORDER BY hash FOR KEY SHARE', [
      hashes,
    ]);
    const present = new Set(rows.map((row) => row.hash));
    const missing = hashes.filter((hash) => !present.has(hash));
    if (missing.length > 0) {
      throw new LablogError(
        'INVALID_OPTION',
        `${missing.length} blob(s) named by the batch were not uploaded, e.g. ${missing[0]}; upload them first`,
        {
          missing,
        },
      );
    }
    await db.query(
      `INSERT INTO blob_owners (project, hash, touched_at, referenced_at)
       SELECT (SELECT project FROM experiments WHERE id = $1), h, $3, $3 FROM unnest($2::text[]) AS h ORDER BY h
       ON CONFLICT (project, hash) DO UPDATE SET touched_at = excluded.touched_at, referenced_at = excluded.referenced_at`,
      [experimentId, hashes, now],
    );
  }

  /** Creates the series the plan writes to that do not exist yet (the experiment lock keeps this race-free). */
  async #createSeries(db: pg.PoolClient, experimentId: string, plan: IngestPlan, ids: Map<string, number>): Promise<void> {
    const fresh = new Map<string, SeriesKind>();
    const want = (name: string, kind: SeriesKind) => {
      if (!ids.has(name)) fresh.set(name, kind);
    };
    for (const chunk of plan.metrics) want(chunk.name, 'metric');
    for (const image of plan.images) want(image.name, 'image');
    for (const plot of plan.plots) want(plot.name, 'plot');
    if (fresh.size === 0) return;
    const { rows } = await db.query<{ id: number; name: string }>(
      'INSERT INTO series (experiment_id, name, kind) SELECT $1, * FROM unnest($2::text[], $3::text[]) RETURNING id, name',
      [experimentId, [...fresh.keys()], [...fresh.values()]],
    );
    for (const row of rows) ids.set(row.name, row.id);
  }

  /** One metric_chunks row per planned chunk, then each series' summary in one statement. */
  async #writeMetrics(db: pg.PoolClient, plan: IngestPlan, ids: Map<string, number>): Promise<void> {
    if (plan.metrics.length === 0) return;
    const rows: unknown[][] = [];
    const stats = new Map<number, SeriesStats>();
    for (const chunk of plan.metrics) {
      const n = chunk.steps.length;
      const seriesId = ids.get(chunk.name)!;
      const first = chunk.steps[0]!;
      const last = chunk.steps[n - 1]!;
      const steps = encodeColumn(chunk.steps);
      const timestamps = encodeColumn(chunk.timestamps);
      const [min, max] = extremes(chunk.values);
      rows.push([
        seriesId,
        first,
        last,
        n,
        packEncodings(steps.encoding, timestamps.encoding),
        f8(min),
        f8(max),
        steps.bytes,
        bytesOf(chunk.values),
        timestamps.bytes,
      ]);
      // Several chunks of one series in a batch follow each other (the plan keeps steps increasing).
      const s = stats.get(seriesId);
      stats.set(seriesId, {
        id: seriesId,
        count: (s?.count ?? 0) + n,
        first: s?.first ?? first,
        last,
        lastTimestamp: chunk.timestamps[n - 1]!,
        lastValue: chunk.values[n - 1]!,
        min: s?.min == null ? min : min === null ? s.min : Math.min(s.min, min),
        max: s?.max == null ? max : max === null ? s.max : Math.max(s.max, max),
      });
    }
    await insertRows(
      db,
      'INSERT INTO metric_chunks (series_id, first_step, last_step, count, encoding, min_value, max_value, steps, vals, timestamps)',
      rows,
    );
    await this.#addStats(db, [...stats.values()]);
  }

  async #writeMedia(db: pg.PoolClient, plan: IngestPlan, ids: Map<string, number>): Promise<void> {
    const stats = new Map<number, SeriesStats>();
    const add = (seriesId: number, step: number, timestamp: number) => {
      const s = stats.get(seriesId);
      stats.set(seriesId, {
        id: seriesId,
        count: (s?.count ?? 0) + 1,
        first: s?.first ?? step,
        last: step,
        lastTimestamp: timestamp,
        lastValue: null,
        min: null,
        max: null,
      });
    };
    if (plan.images.length > 0) {
      const rows = plan.images.map((p) => {
        const seriesId = ids.get(p.name)!;
        add(seriesId, p.step, p.timestamp);
        return [seriesId, p.step, f8(p.timestamp), p.caption, p.hash, p.width, p.height];
      });
      await insertRows(db, 'INSERT INTO image_points (series_id, step, timestamp, caption, blob_hash, width, height)', rows);
    }
    if (plan.plots.length > 0) {
      const rows = plan.plots.map((p) => {
        const seriesId = ids.get(p.name)!;
        add(seriesId, p.step, p.timestamp);
        return [seriesId, p.step, f8(p.timestamp), p.caption, p.figure];
      });
      await insertRows(db, 'INSERT INTO plot_points (series_id, step, timestamp, caption, figure)', rows);
    }
    await this.#addStats(db, [...stats.values()]);
  }

  /** Adds newly written points to series summaries (min/max: NaN never reaches them). */
  async #addStats(db: pg.PoolClient, stats: readonly SeriesStats[]): Promise<void> {
    if (stats.length === 0) return;
    await db.query(
      `UPDATE series s SET
         count = s.count + u.n,
         first_step = coalesce(s.first_step, u.first),
         last_step = u.last,
         last_timestamp = u.ts,
         last_value = u.lv,
         min_value = CASE WHEN u.mn IS NULL THEN s.min_value WHEN s.min_value IS NULL THEN u.mn ELSE least(s.min_value, u.mn) END,
         max_value = CASE WHEN u.mx IS NULL THEN s.max_value WHEN s.max_value IS NULL THEN u.mx ELSE greatest(s.max_value, u.mx) END
       FROM ${STATS_FROM}
       WHERE s.id = u.id`,
      statsColumns(stats),
    );
  }

  async copyExperiment(
    sourceId: string,
    newId: string,
    nameFor: (attempt: number) => string,
    now: number,
  ): Promise<RemoteExperimentRecord> {
    await this.#transaction(`copying experiment ${sourceId}`, async (db) => {
      await this.#lockExperiment(db, sourceId);
      const { rows } = await db.query<{ project: string }>('SELECT project FROM experiments WHERE id = $1', [sourceId]);
      const project = rows[0]!.project;
      let name = nameFor(1);
      for (
        let attempt = 2;
        ((await db.query('SELECT 1 FROM experiments WHERE project = $1 AND name = $2', [project, name])).rowCount ?? 0) > 0;
        attempt++
      ) {
        name = nameFor(attempt);
      }
      await db.query(
        `INSERT INTO experiments (id, project, name, description, tags, status, created_at, updated_at, ended_at, heartbeat_at, hostname, version, published_at)
         SELECT $1, project, $2, description, tags, status, created_at, $3, ended_at, heartbeat_at, hostname, version, $3 FROM experiments WHERE id = $4`,
        [newId, name, now, sourceId],
      );
      await db.query('INSERT INTO experiment_tags (experiment_id, tag) SELECT $1, tag FROM experiment_tags WHERE experiment_id = $2', [
        newId,
        sourceId,
      ]);
      await db.query(
        'INSERT INTO params (experiment_id, key, type, value) SELECT $1, key, type, value FROM params WHERE experiment_id = $2',
        [newId, sourceId],
      );
      const series = await db.query<{ id: string }>('SELECT id FROM series WHERE experiment_id = $1 ORDER BY id', [sourceId]);
      for (const { id } of series.rows) {
        const copy = await db.query<{ id: string }>(
          `INSERT INTO series (experiment_id, name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value)
           SELECT $1, name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value FROM series WHERE id = $2 RETURNING id`,
          [newId, id],
        );
        const to = copy.rows[0]!.id;
        await db.query(
          `INSERT INTO metric_chunks (series_id, first_step, last_step, count, encoding, min_value, max_value, steps, vals, timestamps)
           SELECT $1, first_step, last_step, count, encoding, min_value, max_value, steps, vals, timestamps FROM metric_chunks WHERE series_id = $2`,
          [to, id],
        );
        await db.query(
          `INSERT INTO image_points (series_id, step, timestamp, caption, blob_hash, width, height)
           SELECT $1, step, timestamp, caption, blob_hash, width, height FROM image_points WHERE series_id = $2`,
          [to, id],
        );
        await db.query(
          'INSERT INTO plot_points (series_id, step, timestamp, caption, figure) SELECT $1, step, timestamp, caption, figure FROM plot_points WHERE series_id = $2',
          [to, id],
        );
      }
      await db.query(
        `INSERT INTO tables (experiment_id, name, rows, columns, format, blob_hash, logged_at)
         SELECT $1, name, rows, columns, format, blob_hash, logged_at FROM tables WHERE experiment_id = $2`,
        [newId, sourceId],
      );
    });
    return (await this.getExperiment(newId))!;
  }

  async truncate(experimentId: string, fromStep: number, now: number): Promise<void> {
    assertTruncateStep(fromStep);
    await this.#transaction(`truncating experiment ${experimentId}`, async (db) => {
      await this.#lockExperiment(db, experimentId);
      // Only series with a point at or after fromStep change.
      const { rows } = await db.query<{ id: number; kind: SeriesKind }>(
        'SELECT id, kind FROM series WHERE experiment_id = $1 AND last_step >= $2',
        [experimentId, fromStep],
      );
      const ofKind = (kind: SeriesKind) => rows.filter((row) => row.kind === kind).map((row) => row.id);
      await this.#truncateMetrics(db, ofKind('metric'), fromStep);
      for (const kind of ['image', 'plot'] as const) await this.#truncateMedia(db, kind, ofKind(kind), fromStep);
      // Blobs stay: another request may be about to name them (they were uploaded first, verified by hash).
      await db.query('UPDATE experiments SET published_at = $2, updated_at = $2 WHERE id = $1', [experimentId, now]);
    });
  }

  /** Drops chunks from fromStep, cuts the chunk that straddles it, and recomputes the summaries. */
  async #truncateMetrics(db: pg.PoolClient, seriesIds: number[], fromStep: number): Promise<void> {
    if (seriesIds.length === 0) return;
    await db.query('DELETE FROM metric_chunks WHERE series_id = ANY ($1::bigint[]) AND first_step >= $2', [seriesIds, fromStep]);
    const straddling = await db.query<ChunkRow & { id: number }>(
      'SELECT id, count, encoding, steps, vals, timestamps FROM metric_chunks WHERE series_id = ANY ($1::bigint[]) AND last_step >= $2',
      [seriesIds, fromStep],
    );
    const rewritten = straddling.rows.map((chunk) => {
      const encodings = unpackEncodings(chunk.encoding);
      const steps = decodeColumnToArray(encodings.steps, chunk.steps, chunk.count);
      let keep = 0;
      while (keep < steps.length && steps[keep]! < fromStep) keep++; // >= 1: first_step < fromStep
      const kept = steps.subarray(0, keep);
      const values = decodeColumnToArray(RAW, chunk.vals, keep);
      const timestamps = decodeColumnToArray(encodings.timestamps, chunk.timestamps, chunk.count).subarray(0, keep);
      const encodedSteps = encodeColumn(kept);
      const encodedTimestamps = encodeColumn(timestamps);
      const [min, max] = extremes(values);
      return [
        chunk.id,
        kept[keep - 1]!,
        keep,
        packEncodings(encodedSteps.encoding, encodedTimestamps.encoding),
        f8(min),
        f8(max),
        encodedSteps.bytes,
        bytesOf(values),
        encodedTimestamps.bytes,
      ];
    });
    await withValues(
      db,
      rewritten,
      (values) =>
        `UPDATE metric_chunks c SET last_step = u.last, count = u.n, encoding = u.encoding, min_value = u.mn, max_value = u.mx,
           steps = u.steps, vals = u.vals, timestamps = u.ts
         FROM (VALUES ${values}) AS u(id, last, n, encoding, mn, mx, steps, vals, ts)
         WHERE c.id = u.id`,
      ['::bigint', '::bigint', '::int', '::int', '::float8', '::float8', '::bytea', '::bytea', '::bytea'],
    );
    // Summaries from the chunks' columns, plus the last point of each series' last chunk.
    const totals = await db.query<{ series_id: number; count: number; first: number; last: number; mn: number | null; mx: number | null }>(
      `SELECT series_id, sum(count)::bigint AS count, min(first_step) AS first, max(last_step) AS last,
         min(min_value) AS mn, max(max_value) AS mx
       FROM metric_chunks WHERE series_id = ANY ($1::bigint[]) GROUP BY series_id`,
      [seriesIds],
    );
    const lastChunks = await db.query<ChunkRow & { series_id: number }>(
      `SELECT DISTINCT ON (series_id) series_id, count, encoding, steps, vals, timestamps
       FROM metric_chunks WHERE series_id = ANY ($1::bigint[]) ORDER BY series_id, first_step DESC`,
      [seriesIds],
    );
    const lastPoint = new Map<number, { value: number; timestamp: number }>();
    for (const chunk of lastChunks.rows) {
      const timestamps = decodeColumnToArray(unpackEncodings(chunk.encoding).timestamps, chunk.timestamps, chunk.count);
      lastPoint.set(chunk.series_id, { value: chunk.vals.readDoubleLE((chunk.count - 1) * 8), timestamp: timestamps[chunk.count - 1]! });
    }
    const byId = new Map(totals.rows.map((row) => [row.series_id, row] as const));
    const stats = seriesIds.map((seriesId): SeriesStats => {
      const total = byId.get(seriesId);
      const last = lastPoint.get(seriesId);
      return total === undefined || last === undefined
        ? { id: seriesId, count: 0, first: null, last: null, lastTimestamp: null, lastValue: null, min: null, max: null }
        : {
            id: seriesId,
            count: total.count,
            first: total.first,
            last: total.last,
            lastTimestamp: last.timestamp,
            lastValue: last.value,
            min: total.mn,
            max: total.mx,
          };
    });
    await db.query(
      `UPDATE series s SET count = u.n, first_step = u.first, last_step = u.last, last_timestamp = u.ts,
         last_value = u.lv, min_value = u.mn, max_value = u.mx
       FROM ${STATS_FROM}
       WHERE s.id = u.id`,
      statsColumns(stats),
    );
  }

  /** Deletes media points from fromStep and recomputes the summaries from what is left. */
  async #truncateMedia(db: pg.PoolClient, kind: 'image' | 'plot', seriesIds: number[], fromStep: number): Promise<void> {
    if (seriesIds.length === 0) return;
    const table = MEDIA_TABLES[kind];
    await db.query(`DELETE FROM ${table} WHERE series_id = ANY ($1::bigint[]) AND step >= $2`, [seriesIds, fromStep]);
    await db.query(
      `UPDATE series s SET count = a.count, first_step = a.first, last_step = a.last,
         last_timestamp = (SELECT p.timestamp FROM ${table} p WHERE p.series_id = s.id ORDER BY p.step DESC LIMIT 1)
       FROM (SELECT s2.id, count(p.step) AS count, min(p.step) AS first, max(p.step) AS last
             FROM series s2 LEFT JOIN ${table} p ON p.series_id = s2.id
             WHERE s2.id = ANY ($1::bigint[]) GROUP BY s2.id) a
       WHERE s.id = a.id`,
      [seriesIds],
    );
  }

  async missingBlobs(hashes: readonly string[]): Promise<string[]> {
    const unique = [...new Set(hashes)];
    if (unique.length === 0) return [];
    const rows = await this.#query<{ hash: string }>('checking blobs', 'SELECT hash FROM blobs WHERE hash = ANY ($1::text[])', [unique]);
    const present = new Set(rows.map((row) => row.hash));
    return unique.filter((hash) => !present.has(hash));
  }

  async putBlob(hash: string, bytes: Buffer): Promise<void> {
    await this.#query('storing a blob', 'INSERT INTO blobs (hash, size, bytes) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING', [
      hash,
      bytes.length,
      bytes,
    ]);
  }

  async readBlob(hash: string): Promise<Buffer | undefined> {
    const rows = await this.#query<{ bytes: Buffer }>('reading a blob', 'SELECT bytes FROM blobs WHERE hash = $1', [hash]);
    return rows[0]?.bytes;
  }

  async uploadBlob(project: string, hash: string, bytes: Buffer, quota: number, now: number): Promise<void> {
    await this.#transaction('storing a blob', async (db) => {
      // One upload per project at a time past this point: the quota is checked and charged atomically.
      await db.query(`SELECT pg_advisory_xact_lock(${BLOB_QUOTA_LOCK_KEY}, hashtext($1))`, [project]);
      const touched = await db.query('UPDATE blob_owners SET touched_at = $3 WHERE project = $1 AND hash = $2', [project, hash, now]);
      if ((touched.rowCount ?? 0) > 0) return;
      const { rows } = await db.query<{ n: number }>(
        'SELECT coalesce(sum(b.size), 0)::bigint AS n FROM blob_owners o JOIN blobs b ON b.hash = o.hash WHERE o.project = $1 AND o.referenced_at IS NULL',
        [project],
      );
      assertBlobQuota(project, rows[0]!.n + bytes.length, quota);
      await db.query('INSERT INTO blobs (hash, size, bytes) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING', [
        hash,
        bytes.length,
        bytes,
      ]);
      await db.query(
        'INSERT INTO blob_owners (project, hash, touched_at, referenced_at) VALUES ($1, $2, $3, NULL) ON CONFLICT DO NOTHING',
        [project, hash, now],
      );
    });
  }

  async ownedBlobs(project: string, hashes: readonly string[], now: number): Promise<Map<string, OwnedBlob>> {
    const out = new Map<string, OwnedBlob>();
    const wanted = [...new Set(hashes)].sort();
    if (wanted.length === 0) return out;
    const rows = await this.#transaction('checking blobs', async (db) => {
      await db.query(
        `UPDATE blob_owners SET touched_at = $3 WHERE project = $1 AND hash IN (
           SELECT hash FROM blob_owners WHERE project = $1 AND hash = ANY ($2::text[]) ORDER BY hash FOR UPDATE)`,
        [project, wanted, now],
      );
      const result = await db.query<BlobCheckRow & { hash: string; size: number }>(
        `SELECT b.hash, b.size, c.kind, c.width, c.height, c.rows, c.columns, c.invalid
         FROM blob_owners o JOIN blobs b ON b.hash = o.hash LEFT JOIN blob_checks c ON c.hash = o.hash
         WHERE o.project = $1 AND o.hash = ANY ($2::text[])`,
        [project, wanted],
      );
      return result.rows;
    });
    for (const row of rows) {
      const owned = out.get(row.hash) ?? { hash: row.hash, size: row.size, checks: [] };
      out.set(row.hash, owned);
      if (row.kind !== null) (owned.checks as BlobCheck[]).push(blobCheck(row));
    }
    return out;
  }

  async saveBlobChecks(checks: readonly { readonly hash: string; readonly check: BlobCheck }[]): Promise<void> {
    if (checks.length === 0) return;
    const columns = checks.map(({ hash, check }) => [hash, ...blobCheckColumns(check)] as const);
    await this.#query(
      'remembering blob checks',
      `INSERT INTO blob_checks (hash, kind, width, height, rows, columns, invalid)
       SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::bigint[], $6::bigint[], $7::text[])
         AS c (hash, kind, width, height, rows, columns, invalid)
       WHERE EXISTS (SELECT 1 FROM blobs b WHERE b.hash = c.hash)
       ON CONFLICT DO NOTHING`,
      [0, 1, 2, 3, 4, 5, 6].map((i) => columns.map((c) => c[i])),
    );
  }

  async collectBlobs(graceMs: number, now: number, maxOwners: number): Promise<BlobCollection> {
    return this.#transaction('collecting unreferenced blobs', async (db) => {
      // Rows an ingest or upload holds right now are skipped (they are being refreshed); the others are
      // locked and re-checked against the cutoff before they go.
      const dropped = await db.query<{ hash: string }>(
        `DELETE FROM blob_owners o USING (
           SELECT c.project, c.hash FROM blob_owners c WHERE c.touched_at < $1
             AND NOT EXISTS (SELECT 1 FROM image_points p JOIN series s ON s.id = p.series_id JOIN experiments e ON e.id = s.experiment_id
                             WHERE p.blob_hash = c.hash AND e.project = c.project)
             AND NOT EXISTS (SELECT 1 FROM tables t JOIN experiments e ON e.id = t.experiment_id WHERE t.blob_hash = c.hash AND e.project = c.project)
           LIMIT $2 FOR UPDATE SKIP LOCKED
         ) expired
         WHERE o.project = expired.project AND o.hash = expired.hash
         RETURNING o.hash`,
        [now - graceMs, maxOwners],
      );
      if (dropped.rows.length === 0) return { owners: 0, blobs: 0, bytes: 0 };
      const gone = await db.query<{ size: number }>(
        `DELETE FROM blobs b WHERE b.hash = ANY ($1::text[])
           AND NOT EXISTS (SELECT 1 FROM blob_owners o WHERE o.hash = b.hash)
           AND NOT EXISTS (SELECT 1 FROM image_points p WHERE p.blob_hash = b.hash)
           AND NOT EXISTS (SELECT 1 FROM tables t WHERE t.blob_hash = b.hash)
         RETURNING b.size`,
        [[...new Set(dropped.rows.map((row) => row.hash))]],
      );
      return { owners: dropped.rows.length, blobs: gone.rows.length, bytes: gone.rows.reduce((sum, row) => sum + row.size, 0) };
    });
  }

  async findExperiments(name: string, project?: string): Promise<RemoteExperimentRecord[]> {
    const rows = await this.#query<ExperimentRow>(
      'finding an experiment',
      `SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE name = $1 AND ($2::text IS NULL OR project = $2) ORDER BY created_at`,
      [name, project ?? null],
    );
    return rows.map(toRecord);
  }

  async getExperiment(id: string): Promise<RemoteExperimentRecord | undefined> {
    const rows = await this.#query<ExperimentRow>('reading an experiment', `SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE id = $1`, [
      id,
    ]);
    return rows[0] && toRecord(rows[0]);
  }

  /** The WHERE clause of a query; values go to `args` as parameters. */
  #where(query: RemoteExperimentQuery, args: unknown[]): string {
    const arg = (value: unknown) => {
      args.push(value);
      return `$${args.length}`;
    };
    const clauses: string[] = [];
    if (query.project !== undefined) clauses.push(`project = ${arg(query.project)}`);
    // An empty scope matches nothing.
    if (query.projects !== undefined) clauses.push(`project = ANY (${arg([...query.projects])}::text[])`);
    if (query.status !== undefined && query.status.length > 0) clauses.push(`status = ANY (${arg([...query.status])}::text[])`);
    for (const tag of new Set(query.tags ?? [])) {
      clauses.push(`EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = experiments.id AND t.tag = ${arg(tag)})`);
    }
    return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  }

  async listExperiments(query: RemoteExperimentQuery): Promise<RemoteExperimentRecord[]> {
    const args: unknown[] = [];
    const where = this.#where(query, args);
    const column = SORT_COLUMNS[query.sort ?? 'created_at'] ?? 'created_at';
    const order = query.order === 'asc' ? 'ASC' : 'DESC';
    // LIMIT NULL is no limit.
    args.push(query.limit ?? null, query.offset ?? 0);
    const rows = await this.#query<ExperimentRow>(
      'listing experiments',
      `SELECT ${EXPERIMENT_COLUMNS} FROM experiments ${where}
       ORDER BY ${column} ${order}, id ${order} LIMIT $${args.length - 1} OFFSET $${args.length}`,
      args,
    );
    return rows.map(toRecord);
  }

  async countExperiments(query: RemoteExperimentQuery): Promise<number> {
    const args: unknown[] = [];
    const where = this.#where(query, args);
    const rows = await this.#query<{ n: number }>('counting experiments', `SELECT count(*) AS n FROM experiments ${where}`, args);
    return rows[0]!.n;
  }

  async readParams(experimentId: string): Promise<ParamRecord[]> {
    return this.#query<{ key: string; type: ParamType; value: string }>(
      'reading params',
      'SELECT key, type, value FROM params WHERE experiment_id = $1 ORDER BY key',
      [experimentId],
    );
  }

  async readSeries(experimentId: string, limit?: number): Promise<SeriesRecord[]> {
    const rows = await this.#query<SeriesRow>(
      'reading series',
      `SELECT name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value
       FROM series WHERE experiment_id = $1 ORDER BY name LIMIT $2`,
      [experimentId, limit ?? null],
    );
    return rows.map(seriesRecord);
  }

  async readMetricXs(experimentId: string, name: string, x: 'steps' | 'timestamps', steps?: { from: number; to: number }) {
    const column = x === 'steps' ? 'steps' : 'timestamps';
    // The LEFT JOIN tells an emptied series (one row of NULLs) from no series (no row).
    const rows = await this.#query<{ count: number | null; encoding: number | null; xs: Buffer | null; vals: Buffer | null }>(
      'reading a metric',
      `SELECT c.count, c.encoding, c.${column} AS xs, c.vals
       FROM series s LEFT JOIN metric_chunks c ON c.series_id = s.id AND c.last_step >= $3::float8 AND c.first_step <= $4::float8
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'metric'
       ORDER BY c.first_step`,
      [experimentId, name, steps?.from ?? -Number.MAX_VALUE, steps?.to ?? Number.MAX_VALUE],
    );
    if (rows.length === 0) return undefined;
    return decodeXChunks(
      rows.filter((row): row is EncodedXChunk => row.count !== null),
      x,
    );
  }

  async readSummaries(experimentIds: readonly string[], seriesLimit?: number): Promise<Map<string, ExperimentSummary>> {
    const out = new Map<string, ExperimentSummary>();
    if (experimentIds.length === 0) return out;
    const ids = [...experimentIds];
    const [experiments, params, series] = await Promise.all([
      this.#query<{ id: string; study_id: string | null }>(
        'reading experiments',
        'SELECT e.id, m.study_id FROM experiments e LEFT JOIN study_experiments m ON m.experiment_id = e.id WHERE e.id = ANY ($1::text[])',
        [ids],
      ),
      this.#query<ParamRecord & { experiment_id: string }>(
        'reading params',
        'SELECT experiment_id, key, type, value FROM params WHERE experiment_id = ANY ($1::text[]) ORDER BY experiment_id, key',
        [ids],
      ),
      this.#query<SeriesRow & { experiment_id: string }>(
        'reading series',
        `SELECT * FROM (
           SELECT experiment_id, name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value,
                  row_number() OVER (PARTITION BY experiment_id ORDER BY name) AS n
           FROM series WHERE experiment_id = ANY ($1::text[])
         ) AS s WHERE n <= $2 ORDER BY experiment_id, name`,
        [ids, seriesLimit ?? Number.MAX_SAFE_INTEGER],
      ),
    ]);
    for (const e of experiments) out.set(e.id, { params: [], series: [], studyId: e.study_id });
    for (const { experiment_id, ...param } of params) out.get(experiment_id)?.params.push(param);
    for (const row of series) out.get(row.experiment_id)?.series.push(seriesRecord(row));
    return out;
  }

  async listProjects(projects?: readonly string[]): Promise<ProjectCount[]> {
    const rows = await this.#query<{ name: string; experiments: number; running: number }>(
      'listing projects',
      `SELECT name, sum(experiments)::int AS experiments, sum(running)::int AS running FROM (
         SELECT project AS name, count(*) AS experiments, count(*) FILTER (WHERE status = 'running') AS running FROM experiments GROUP BY project
         UNION ALL SELECT DISTINCT project, 0, 0 FROM studies
       ) AS p GROUP BY name ORDER BY name`,
      [],
    );
    return projects === undefined ? rows : rows.filter((row) => projects.includes(row.name));
  }

  async readMetric(experimentId: string, name: string): Promise<MetricData | undefined> {
    // The LEFT JOIN tells an emptied series (one row of NULLs: empty arrays) from no series (no row).
    const rows = await this.#query<{ [K in keyof ChunkRow]: ChunkRow[K] | null }>(
      'reading a metric',
      `SELECT c.count, c.encoding, c.steps, c.vals, c.timestamps
       FROM series s LEFT JOIN metric_chunks c ON c.series_id = s.id
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'metric'
       ORDER BY c.first_step`,
      [experimentId, name],
    );
    if (rows.length === 0) return undefined;
    return decodeChunks(rows.filter((row): row is ChunkRow => row.count !== null));
  }

  async listImages(experimentId: string, name: string, page?: { fromStep: number; limit: number }): Promise<ImageMeta[]> {
    return this.#query<ImageMeta>(
      'listing images',
      `SELECT p.step, p.timestamp, p.caption, p.width, p.height, p.blob_hash AS hash
       FROM image_points p JOIN series s ON s.id = p.series_id
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'image' AND p.step >= $3::float8 ORDER BY p.step LIMIT $4`,
      [experimentId, name, page?.fromStep ?? -Number.MAX_VALUE, page?.limit ?? null],
    );
  }

  async readImage(experimentId: string, name: string, step: number): Promise<Buffer | undefined> {
    if (!Number.isSafeInteger(step)) return undefined;
    const rows = await this.#query<{ bytes: Buffer }>(
      'reading an image',
      `SELECT b.bytes FROM image_points p JOIN series s ON s.id = p.series_id JOIN blobs b ON b.hash = p.blob_hash
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'image' AND p.step = $3`,
      [experimentId, name, step],
    );
    return rows[0]?.bytes;
  }

  async readPlots(experimentId: string, name: string): Promise<PlotPoint[]> {
    const rows = await this.#query<{ step: number; timestamp: number; caption: string | null; figure: string }>(
      'reading plots',
      `SELECT p.step, p.timestamp, p.caption, p.figure
       FROM plot_points p JOIN series s ON s.id = p.series_id
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'plot' ORDER BY p.step`,
      [experimentId, name],
    );
    return rows.map((row) => ({
      step: row.step,
      timestamp: row.timestamp,
      caption: row.caption,
      figure: JSON.parse(row.figure) as unknown,
    }));
  }

  async listTables(experimentId: string, limit?: number): Promise<TableSummary[]> {
    const rows = await this.#query<{ name: string; rows: number; columns: number; logged_at: number }>(
      'listing tables',
      'SELECT name, rows, columns, logged_at FROM tables WHERE experiment_id = $1 ORDER BY name LIMIT $2',
      [experimentId, limit ?? null],
    );
    return rows.map((row) => ({ name: row.name, rows: row.rows, columns: row.columns, loggedAt: row.logged_at }));
  }

  async readTable(experimentId: string, name: string): Promise<TableRecord | undefined> {
    const rows = await this.#query<{ name: string; rows: number; columns: number; logged_at: number; bytes: Buffer }>(
      'reading a table',
      `SELECT t.name, t.rows, t.columns, t.logged_at, b.bytes FROM tables t JOIN blobs b ON b.hash = t.blob_hash
       WHERE t.experiment_id = $1 AND t.name = $2`,
      [experimentId, name],
    );
    const row = rows[0];
    return row && { name: row.name, rows: row.rows, columns: row.columns, loggedAt: row.logged_at, ipc: row.bytes };
  }

  async readMetricPage(experimentId: string, name: string, fromStep: number, limit: number): Promise<MetricPage | undefined> {
    const series = await this.#query<{ id: number }>(
      'reading a metric',
      "SELECT id FROM series WHERE experiment_id = $1 AND name = $2 AND kind = 'metric'",
      [experimentId, name],
    );
    if (series.length === 0) return undefined;
    const id = series[0]!.id;
    return assembleMetricPage(fromStep, limit, (after, batch) =>
      this.#query<ChunkRow>(
        'reading a metric',
        `SELECT count, encoding, steps, vals, timestamps FROM metric_chunks
         WHERE series_id = $1 AND last_step >= $2::float8 AND first_step > $3::float8 ORDER BY first_step LIMIT $4`,
        [id, Math.max(fromStep, -Number.MAX_VALUE), Math.max(after, -Number.MAX_VALUE), batch],
      ),
    );
  }

  async listPlots(experimentId: string, name: string, fromStep: number, limit: number): Promise<PlotMeta[]> {
    return this.#query<PlotMeta>(
      'listing plots',
      `SELECT p.step, p.timestamp, p.caption, octet_length(p.figure) AS bytes
       FROM plot_points p JOIN series s ON s.id = p.series_id
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'plot' AND p.step >= $3::float8 ORDER BY p.step LIMIT $4`,
      [experimentId, name, Math.max(fromStep, -Number.MAX_VALUE), limit],
    );
  }

  async readPlotFigures(experimentId: string, name: string, fromStep: number, toStep: number): Promise<{ step: number; figure: string }[]> {
    return this.#query<{ step: number; figure: string }>(
      'reading plots',
      `SELECT p.step, p.figure FROM plot_points p JOIN series s ON s.id = p.series_id
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'plot' AND p.step >= $3::float8 AND p.step <= $4::float8 ORDER BY p.step`,
      [experimentId, name, fromStep, toStep],
    );
  }

  studies(): ServerStudyBackend {
    return (this.#studies ??= new PostgresStudyBackend({
      query: (what, text, values) => this.#query(what, text, values),
      transaction: (what, fn) => this.#transaction(what, fn),
    }));
  }

  async createKey(key: ApiKeyRecord): Promise<void> {
    await this.#query('creating an API key', 'INSERT INTO api_keys (id, hash, projects, name, created_at) VALUES ($1, $2, $3, $4, $5)', [
      key.id,
      key.hash,
      [...key.projects],
      key.name,
      key.createdAt,
    ]);
  }

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    // Named: prepared once per connection, as it runs on every request.
    const rows = await this.#prepared<KeyRow>(
      'finding an API key',
      'lablog_find_key',
      `SELECT ${KEY_COLUMNS} FROM api_keys k WHERE k.hash = $1 AND k.revoked_at IS NULL`,
      [hash],
    );
    const row = rows[0];
    return row && keyRecord(row, row.projects);
  }

  async listKeys(includeRevoked: boolean): Promise<ApiKeyListing[]> {
    const rows = await this.#query<Omit<KeyRow, 'hash'>>(
      'listing API keys',
      `SELECT id, projects, name, created_at, last_used_at, revoked_at FROM api_keys ${includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY created_at, id`,
      [],
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      projects: row.projects,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      revokedAt: row.revoked_at,
    }));
  }

  async revokeKey(id: string, now: number): Promise<boolean> {
    return this.#transaction('revoking an API key', async (db) => {
      const { rowCount } = await db.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, now]);
      await db.query('DELETE FROM ui_sessions WHERE key_id = $1', [id]);
      return (rowCount ?? 0) > 0;
    });
  }

  async touchKey(id: string, now: number): Promise<void> {
    await this.#query(
      'recording the use of an API key',
      'UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)',
      [id, now],
    );
  }

  async createSession(session: UiSessionRecord, maxPerKey: number): Promise<void> {
    await this.#transaction('creating a UI session', async (db) => {
      await db.query('INSERT INTO ui_sessions (hash, key_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)', [
        session.hash,
        session.keyId,
        session.createdAt,
        session.expiresAt,
        session.lastSeenAt,
      ]);
      await db.query(
        'DELETE FROM ui_sessions WHERE key_id = $1 AND id NOT IN (SELECT id FROM ui_sessions WHERE key_id = $1 ORDER BY id DESC LIMIT $2)',
        [session.keyId, maxPerKey],
      );
    });
  }

  async findSession(hash: string): Promise<{ session: UiSessionRecord; key: ApiKeyRecord } | undefined> {
    const rows = await this.#prepared<KeyRow & SessionRow>(
      'finding a UI session',
      'lablog_find_session',
      `SELECT ${KEY_COLUMNS}, s.hash AS session_hash, s.created_at AS session_created_at, s.expires_at, s.last_seen_at
       FROM ui_sessions s JOIN api_keys k ON k.id = s.key_id WHERE s.hash = $1 AND k.revoked_at IS NULL`,
      [hash],
    );
    const row = rows[0];
    return row && sessionAndKey(row, row.projects);
  }

  async touchSession(hash: string, now: number): Promise<void> {
    await this.#query(
      'recording the use of a UI session',
      'UPDATE ui_sessions SET last_seen_at = $2 WHERE hash = $1 AND last_seen_at < $2',
      [hash, now],
    );
  }

  async deleteSession(hash: string): Promise<void> {
    await this.#query('deleting a UI session', 'DELETE FROM ui_sessions WHERE hash = $1', [hash]);
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    const rows = await this.#query<{ n: number }>(
      'deleting expired UI sessions',
      'WITH gone AS (DELETE FROM ui_sessions WHERE expires_at <= $1 OR last_seen_at <= $2 RETURNING 1) SELECT count(*)::int AS n FROM gone',
      [now, idleBefore],
    );
    return rows[0]?.n ?? 0;
  }

  /** Waits for running queries, then closes every connection. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

// The PostgreSQL store's schema migrations, and the loop that applies them under an advisory lock.

import type { PgQuery } from './pg-pool.js';
import { pendingMigrations, type Migration } from '../schema-migrations.js';

/**
 * Schema migrations, applied in order; lablog_migrations records the applied ones. The tables mirror the
 * SQLite store's (v1–v3, without the client-side sync tables, then v4's studies as version 2 and v5's
 * keys and sessions as version 3). Names are COLLATE "C" so they sort by code point like SQLite's BINARY,
 * whatever the database's locale.
 */
export const MIGRATIONS: readonly Migration[] = [
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
  {
    version: 5,
    description: 'runs: launch records beside experiments, their attempts, status transitions and captured logs',
    // As the SQLite store's version 7 (runs published by their supervisors, and cancel requests made here).
    sql: `
      CREATE TABLE runs (
        experiment_id       text COLLATE "C" PRIMARY KEY REFERENCES experiments (id) ON DELETE CASCADE,
        command             text NOT NULL,
        args                text NOT NULL,
        cwd                 text NOT NULL,
        hostname            text NOT NULL,
        supervisor_pid      bigint NOT NULL,
        pid                 bigint,
        status              text COLLATE "C" NOT NULL,
        attempt             integer NOT NULL DEFAULT 0,
        exit_code           integer,
        signal              text,
        error_message       text,
        timeout_ms          double precision NOT NULL,
        grace_ms            double precision NOT NULL,
        retries             integer NOT NULL,
        log_cap_bytes       bigint NOT NULL,
        time_created        double precision NOT NULL,
        time_started        double precision,
        time_completed      double precision,
        cancel_requested_at double precision,
        log_bytes           bigint NOT NULL DEFAULT 0,
        log_lines_dropped   bigint NOT NULL DEFAULT 0,
        log_bytes_dropped   bigint NOT NULL DEFAULT 0,
        log_next_seq        bigint NOT NULL DEFAULT 1
      );
      CREATE INDEX runs_created ON runs (time_created, experiment_id);

      CREATE TABLE run_attempts (
        experiment_id  text COLLATE "C" NOT NULL REFERENCES runs (experiment_id) ON DELETE CASCADE,
        attempt        integer NOT NULL,
        pid            bigint,
        status         text COLLATE "C" NOT NULL,
        exit_code      integer,
        signal         text,
        error_message  text,
        time_started   double precision NOT NULL,
        time_completed double precision,
        PRIMARY KEY (experiment_id, attempt)
      );

      CREATE TABLE run_transitions (
        seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        experiment_id text COLLATE "C" NOT NULL REFERENCES runs (experiment_id) ON DELETE CASCADE,
        status        text COLLATE "C" NOT NULL,
        attempt       integer NOT NULL,
        at            double precision NOT NULL
      );
      CREATE INDEX run_transitions_run ON run_transitions (experiment_id, seq);

      -- As in SQLite: one row per batch of lines, a JSON array of [attempt, stream, timestamp, text, cut bytes];
      -- a line's position is first_seq + its index. bytes: the UTF-8 bytes of the texts (what the cap counts).
      CREATE TABLE run_log_chunks (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        experiment_id text COLLATE "C" NOT NULL REFERENCES runs (experiment_id) ON DELETE CASCADE,
        first_seq     bigint NOT NULL,
        count         integer NOT NULL,
        bytes         bigint NOT NULL,
        lines         text NOT NULL
      );
      CREATE INDEX run_log_chunks_run ON run_log_chunks (experiment_id, first_seq);
    `,
  },
  {
    version: 6,
    description: 'env vars: per project and per experiment, secrets sealed',
    // As the SQLite store's version 8: experiment_id '' is the project's own scope.
    sql: `
      CREATE TABLE IF NOT EXISTS env_vars (
        project       text COLLATE "C" NOT NULL,
        experiment_id text COLLATE "C" NOT NULL DEFAULT '',
        name          text COLLATE "C" NOT NULL,
        value         text NOT NULL,
        secret        boolean NOT NULL,
        updated_at    double precision NOT NULL,
        PRIMARY KEY (project, experiment_id, name)
      );
    `,
  },
  {
    version: 7,
    description: "job detail: an experiment's latest progress (pct, phase, when) and the datasets it used",
    // IF NOT EXISTS throughout: replaying it (a version set back) changes nothing.
    sql: `
      ALTER TABLE experiments ADD COLUMN IF NOT EXISTS progress double precision;
      ALTER TABLE experiments ADD COLUMN IF NOT EXISTS phase text;
      ALTER TABLE experiments ADD COLUMN IF NOT EXISTS progress_at double precision;
      CREATE TABLE IF NOT EXISTS experiment_datasets (
        experiment_id text COLLATE "C" NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        role          text COLLATE "C" NOT NULL,
        name          text COLLATE "C" NOT NULL,
        dataset_id    text,
        uri           text,
        digest        text,
        rows          bigint,
        logged_at     double precision NOT NULL,
        PRIMARY KEY (experiment_id, role, name)
      );
    `,
  },
  {
    version: 8,
    description: 'sweeps: search spaces, samplers and pruners beside their studies, and their trials',
    // As the SQLite store's version 11. Space, sampler, pruner and params are json, not jsonb: json keeps the
    // text as written, key order included (the order a sampler walks a space's params in), like SQLite's TEXT.
    // IF NOT EXISTS throughout: replaying it (a version set back) changes nothing.
    sql: `
      -- A sweep is a study (same id) that asks a sampler for its experiments' params.
      CREATE TABLE IF NOT EXISTS sweeps (
        study_id   text COLLATE "C" PRIMARY KEY REFERENCES studies (id) ON DELETE CASCADE,
        metric     text COLLATE "C" NOT NULL,
        goal       text COLLATE "C" NOT NULL,
        space      json NOT NULL,
        sampler    json NOT NULL,
        pruner     json NOT NULL,
        seed       bigint NOT NULL,
        max_trials integer NOT NULL,
        parallel   integer NOT NULL,
        status     text COLLATE "C" NOT NULL,
        created_at double precision NOT NULL,
        updated_at double precision NOT NULL
      );
      CREATE INDEX IF NOT EXISTS sweeps_created ON sweeps (created_at, study_id);

      -- A trial: its params, status and value; retry_of: the trial it re-runs with the same params.
      -- report_count, last_step and last_value: of its reports, kept beside (a report is appended without reading
      -- them; a sampler ranks pruned trials by their last report).
      CREATE TABLE IF NOT EXISTS sweep_trials (
        sweep_id      text COLLATE "C" NOT NULL REFERENCES sweeps (study_id) ON DELETE CASCADE,
        number        integer NOT NULL,
        status        text COLLATE "C" NOT NULL,
        params        json NOT NULL,
        value         double precision,
        experiment_id text COLLATE "C" REFERENCES experiments (id) ON DELETE SET NULL,
        retry_of      integer,
        error         text,
        worker_host   text,
        worker_pid    bigint,
        heartbeat_at  double precision,
        created_at    double precision NOT NULL,
        started_at    double precision,
        completed_at  double precision,
        report_count  integer NOT NULL DEFAULT 0,
        last_step     bigint,
        last_value    double precision,
        -- The token of the ask that gave it: an ask sent again with it gets this trial.
        ask_token     text COLLATE "C",
        PRIMARY KEY (sweep_id, number)
      );
      CREATE UNIQUE INDEX IF NOT EXISTS sweep_trials_ask_token ON sweep_trials (sweep_id, ask_token) WHERE ask_token IS NOT NULL;
      -- Deleting an experiment clears the trials that name it (ON DELETE SET NULL) without scanning them all.
      CREATE INDEX IF NOT EXISTS sweep_trials_experiment ON sweep_trials (experiment_id) WHERE experiment_id IS NOT NULL;

      -- A trial's intermediate values, for its sweep's pruner (double precision holds ±Infinity; NULL is NaN, as in SQLite).
      CREATE TABLE IF NOT EXISTS sweep_trial_reports (
        sweep_id text COLLATE "C" NOT NULL,
        number   integer NOT NULL,
        step     bigint NOT NULL,
        value    double precision,
        PRIMARY KEY (sweep_id, number, step),
        FOREIGN KEY (sweep_id, number) REFERENCES sweep_trials (sweep_id, number) ON DELETE CASCADE
      );
    `,
  },
  {
    version: 9,
    description: 'artifacts (their bytes are blobs beside the store, by sha256) and registered models with versions and aliases',
    // As the SQLite store's version 13. Metadata is json, not jsonb: json keeps the text as written, key order
    // included, like SQLite's TEXT; tags are jsonb arrays as a study's. IF NOT EXISTS throughout: replaying it
    // (a version set back) changes nothing.
    sql: `
      -- An artifact: a file or a directory of an experiment, at a step or none; committed after its bytes.
      CREATE TABLE IF NOT EXISTS artifacts (
        id            text COLLATE "C" PRIMARY KEY,
        experiment_id text COLLATE "C" NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        name          text COLLATE "C" NOT NULL,
        step          bigint,
        kind          text COLLATE "C",
        type          text COLLATE "C" NOT NULL,
        size          bigint NOT NULL,
        sha256        text COLLATE "C" NOT NULL,
        metadata      json NOT NULL DEFAULT '{}',
        created_at    double precision NOT NULL
      );
      -- Unique per experiment, name and step; no step (NULL) clashes with no step.
      CREATE UNIQUE INDEX IF NOT EXISTS artifacts_name_step ON artifacts (experiment_id, name, coalesce(step, -1));
      -- The files of an artifact (one for a file artifact), each a blob.
      CREATE TABLE IF NOT EXISTS artifact_files (
        artifact_id text COLLATE "C" NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
        path        text COLLATE "C" NOT NULL,
        size        bigint NOT NULL,
        sha256      text COLLATE "C" NOT NULL,
        PRIMARY KEY (artifact_id, path)
      );
      CREATE INDEX IF NOT EXISTS artifact_files_sha256 ON artifact_files (sha256);
      -- The projects that uploaded a blob (its bytes verified). A project may reference bytes it uploaded or
      -- already references, never another's by naming their sha256.
      CREATE TABLE IF NOT EXISTS artifact_blob_owners (
        project    text COLLATE "C" NOT NULL,
        sha256     text COLLATE "C" NOT NULL,
        size       bigint NOT NULL,
        created_at double precision NOT NULL,
        PRIMARY KEY (project, sha256)
      );

      -- A registered model: a name per project.
      CREATE TABLE IF NOT EXISTS models (
        project     text COLLATE "C" NOT NULL,
        name        text COLLATE "C" NOT NULL,
        description text,
        tags        jsonb NOT NULL DEFAULT '[]',
        created_at  double precision NOT NULL,
        updated_at  double precision NOT NULL,
        PRIMARY KEY (project, name)
      );
      -- Its versions 1, 2, …, each an experiment's artifact.
      CREATE TABLE IF NOT EXISTS model_versions (
        project       text COLLATE "C" NOT NULL,
        model         text COLLATE "C" NOT NULL,
        version       integer NOT NULL,
        experiment_id text COLLATE "C" NOT NULL REFERENCES experiments (id),
        artifact_id   text COLLATE "C" NOT NULL REFERENCES artifacts (id),
        description   text,
        created_at    double precision NOT NULL,
        PRIMARY KEY (project, model, version),
        FOREIGN KEY (project, model) REFERENCES models (project, name) ON DELETE CASCADE
      );
      CREATE INDEX IF NOT EXISTS model_versions_artifact ON model_versions (artifact_id);
      CREATE INDEX IF NOT EXISTS model_versions_experiment ON model_versions (experiment_id);
      -- An alias points at one version of its model.
      CREATE TABLE IF NOT EXISTS model_aliases (
        project text COLLATE "C" NOT NULL,
        model   text COLLATE "C" NOT NULL,
        alias   text COLLATE "C" NOT NULL,
        version integer NOT NULL,
        PRIMARY KEY (project, model, alias),
        FOREIGN KEY (project, model, version) REFERENCES model_versions (project, model, version) ON DELETE CASCADE
      );
      -- Every move of an alias (from NULL: created; to NULL: removed), in the order made (id).
      CREATE TABLE IF NOT EXISTS model_alias_moves (
        id           bigserial PRIMARY KEY,
        project      text COLLATE "C" NOT NULL,
        model        text COLLATE "C" NOT NULL,
        alias        text COLLATE "C" NOT NULL,
        from_version integer,
        to_version   integer,
        at           double precision NOT NULL
      );
      CREATE INDEX IF NOT EXISTS model_alias_moves_model ON model_alias_moves (project, model, at);
    `,
  },
];

/** pg_advisory_xact_lock key serializing migrations across server processes ('lablog' in ASCII). */
const MIGRATION_LOCK_KEY = '119251208400743';

/**
 * Applies pending migrations inside the caller's transaction, recording each in lablog_migrations; the
 * advisory lock makes processes starting together take turns.
 */
export async function migrate(db: PgQuery, location: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
  await db.query(
    `CREATE TABLE IF NOT EXISTS lablog_migrations (
       version     integer PRIMARY KEY,
       description text NOT NULL,
       applied_at  timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const { rows } = await db.query<{ version: number }>('SELECT version FROM lablog_migrations');
  const applied = new Set(rows.map((r) => r.version));
  const recorded = Math.max(0, ...applied);
  // pendingMigrations refuses a newer database; then every migration not recorded is applied, in order,
  // including one below the maximum (numbers taken by migrations made on different branches).
  pendingMigrations(MIGRATIONS, recorded, { driver: 'postgres', location, noun: 'database' });
  for (const migration of MIGRATIONS.filter((m) => !applied.has(m.version))) {
    await db.query(migration.sql);
    await db.query('INSERT INTO lablog_migrations (version, description) VALUES ($1, $2)', [migration.version, migration.description]);
  }
}

// Schema migrations of the SQLite store, applied in order; PRAGMA user_version records the last one.

import { schemaVersion, type Migration } from '../schema-migrations.js';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'experiments, params, series in columnar chunks, images, plots, tables',
    sql: `
      CREATE TABLE experiments (
        id           TEXT PRIMARY KEY,
        project      TEXT NOT NULL,
        name         TEXT NOT NULL,
        description  TEXT,
        tags         TEXT NOT NULL DEFAULT '[]',
        status       TEXT NOT NULL,
        created_at   REAL NOT NULL,
        updated_at   REAL NOT NULL,
        ended_at     REAL,
        heartbeat_at REAL,
        pid          INTEGER,
        hostname     TEXT,
        UNIQUE (project, name)
      );
      CREATE INDEX experiments_created ON experiments (created_at);
      CREATE INDEX experiments_project_created ON experiments (project, created_at);

      CREATE TABLE experiment_tags (
        experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        tag           TEXT NOT NULL,
        PRIMARY KEY (experiment_id, tag)
      ) WITHOUT ROWID;
      CREATE INDEX experiment_tags_tag ON experiment_tags (tag, experiment_id);

      CREATE TABLE params (
        experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        key           TEXT NOT NULL,
        type          TEXT NOT NULL,
        value         TEXT NOT NULL,
        PRIMARY KEY (experiment_id, key)
      ) WITHOUT ROWID;

      -- One row per series; count/steps/last/min/max are kept current by every write, so listing
      -- and "last value of a metric across experiments" never scan points.
      CREATE TABLE series (
        id             INTEGER PRIMARY KEY,
        experiment_id  TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        name           TEXT NOT NULL,
        kind           TEXT NOT NULL,
        count          INTEGER NOT NULL DEFAULT 0,
        first_step     INTEGER,
        last_step      INTEGER,
        last_timestamp REAL,
        last_value     REAL,
        min_value      REAL,
        max_value      REAL,
        UNIQUE (experiment_id, name)
      );

      -- Metric points in columns: one row per series per flush, steps/values/timestamps as
      -- little-endian float64 arrays.
      CREATE TABLE metric_chunks (
        id         INTEGER PRIMARY KEY,
        series_id  INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
        first_step INTEGER NOT NULL,
        last_step  INTEGER NOT NULL,
        count      INTEGER NOT NULL,
        steps      BLOB NOT NULL,
        vals       BLOB NOT NULL,
        timestamps BLOB NOT NULL
      );
      CREATE UNIQUE INDEX metric_chunks_series_step ON metric_chunks (series_id, first_step);

      -- Content-addressed bytes (images, tables): the same bytes are stored once.
      CREATE TABLE blobs (
        hash  TEXT PRIMARY KEY,
        size  INTEGER NOT NULL,
        bytes BLOB NOT NULL
      );

      CREATE TABLE image_points (
        series_id INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
        step      INTEGER NOT NULL,
        timestamp REAL NOT NULL,
        caption   TEXT,
        blob_hash TEXT NOT NULL,
        width     INTEGER NOT NULL,
        height    INTEGER NOT NULL,
        PRIMARY KEY (series_id, step)
      );

      CREATE TABLE plot_points (
        series_id INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
        step      INTEGER NOT NULL,
        timestamp REAL NOT NULL,
        caption   TEXT,
        figure    TEXT NOT NULL,
        PRIMARY KEY (series_id, step)
      );

      CREATE TABLE tables (
        experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        rows          INTEGER NOT NULL,
        columns       INTEGER NOT NULL,
        format        TEXT NOT NULL,
        blob_hash     TEXT NOT NULL,
        logged_at     REAL NOT NULL,
        PRIMARY KEY (experiment_id, name)
      );
    `,
  },
  {
    version: 2,
    description: 'compact lossless encodings of metric chunk steps and timestamps',
    sql: `
      -- How steps and timestamps of a chunk are encoded (see column-codec.ts); 0 is raw float64.
      ALTER TABLE metric_chunks ADD COLUMN encoding INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 3,
    description: 'publishing: truncation log and sync watermarks (client), versions and API keys (server)',
    sql: `
      -- Every resumeFrom, so a publisher can truncate the remote copy the same way.
      CREATE TABLE truncations (
        seq           INTEGER PRIMARY KEY,
        experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        from_step     INTEGER NOT NULL,
        at            REAL NOT NULL
      );
      CREATE INDEX truncations_experiment ON truncations (experiment_id, seq);

      -- Client side: what each remote has acknowledged, per experiment and per series / table.
      CREATE TABLE sync_experiments (
        remote         TEXT NOT NULL,
        experiment_id  TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        meta_hash      TEXT,
        truncation_seq INTEGER NOT NULL DEFAULT 0,
        remote_name    TEXT,
        synced_at      REAL,
        PRIMARY KEY (remote, experiment_id)
      ) WITHOUT ROWID;
      CREATE TABLE sync_series (
        remote        TEXT NOT NULL,
        experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        last_step     INTEGER NOT NULL,
        PRIMARY KEY (remote, experiment_id, name)
      ) WITHOUT ROWID;
      CREATE TABLE sync_tables (
        remote        TEXT NOT NULL,
        experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        logged_at     REAL NOT NULL,
        PRIMARY KEY (remote, experiment_id, name)
      ) WITHOUT ROWID;

      -- Server side: the published version label and when data last arrived.
      ALTER TABLE experiments ADD COLUMN version TEXT;
      ALTER TABLE experiments ADD COLUMN published_at REAL;
      CREATE TABLE api_keys (
        id         TEXT PRIMARY KEY,
        hash       TEXT NOT NULL UNIQUE,
        projects   TEXT NOT NULL,
        name       TEXT,
        created_at REAL NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: 'studies: named groups of experiments around a question',
    sql: `
      CREATE TABLE studies (
        id                 TEXT PRIMARY KEY,
        project            TEXT NOT NULL,
        name               TEXT NOT NULL,
        description        TEXT,
        hypothesis         TEXT,
        tags               TEXT NOT NULL DEFAULT '[]',
        metadata           TEXT NOT NULL DEFAULT '{}',
        baseline           TEXT,
        template           TEXT,
        status             TEXT NOT NULL,
        conclusion         TEXT,
        archive_reason     TEXT,
        preserve_artifacts INTEGER,
        created_at         REAL NOT NULL,
        updated_at         REAL NOT NULL,
        UNIQUE (project, name)
      );
      CREATE INDEX studies_project_created ON studies (project, created_at);

      -- The primary key makes an experiment belong to one study at most.
      CREATE TABLE study_experiments (
        experiment_id TEXT PRIMARY KEY REFERENCES experiments (id) ON DELETE CASCADE,
        study_id      TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
        notes         TEXT,
        tags          TEXT NOT NULL DEFAULT '[]',
        added_at      REAL NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX study_experiments_study ON study_experiments (study_id, added_at);
    `,
  },
  {
    version: 5,
    description: 'server: API keys revoked and last used, UI sessions kept on the server',
    sql: `
      ALTER TABLE api_keys ADD COLUMN last_used_at REAL;
      ALTER TABLE api_keys ADD COLUMN revoked_at REAL;
      -- A UI login: the browser holds a random id, this table only its sha256. id orders logins of a key.
      CREATE TABLE ui_sessions (
        id           INTEGER PRIMARY KEY,
        hash         TEXT NOT NULL UNIQUE,
        key_id       TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
        created_at   REAL NOT NULL,
        expires_at   REAL NOT NULL,
        last_seen_at REAL NOT NULL
      );
      CREATE INDEX ui_sessions_key ON ui_sessions (key_id, id);
    `,
  },
  {
    version: 6,
    description: 'blobs belong to projects (server): ownership, remembered validation, reference indexes',
    sql: `
      -- Server side: which project uploaded (or references) which blob; bytes stay deduplicated in blobs.
      -- touched_at: last upload, reference or query by the project (collection waits a grace period after it);
      -- referenced_at: null while the upload was never referenced (counted against the project's quota).
      CREATE TABLE blob_owners (
        project       TEXT NOT NULL,
        hash          TEXT NOT NULL,
        touched_at    REAL NOT NULL,
        referenced_at REAL,
        PRIMARY KEY (project, hash)
      ) WITHOUT ROWID;
      CREATE INDEX blob_owners_hash ON blob_owners (hash);
      CREATE INDEX blob_owners_touched ON blob_owners (touched_at);
      CREATE INDEX blob_owners_unreferenced ON blob_owners (project) WHERE referenced_at IS NULL;

      -- What validating a blob as an image or a table found (width/height, rows/columns, or why it is invalid).
      CREATE TABLE blob_checks (
        hash    TEXT NOT NULL,
        kind    TEXT NOT NULL,
        width   INTEGER,
        height  INTEGER,
        rows    INTEGER,
        columns INTEGER,
        invalid TEXT,
        PRIMARY KEY (hash, kind)
      ) WITHOUT ROWID;

      CREATE INDEX image_points_blob ON image_points (blob_hash);
      CREATE INDEX tables_blob ON tables (blob_hash);

      -- Existing blobs belong to the projects whose experiments reference them; the others to no project
      -- (the empty name no key can hold), so they are collected a grace period after this upgrade.
      INSERT OR IGNORE INTO blob_owners (project, hash, touched_at, referenced_at)
        SELECT e.project, p.blob_hash, (julianday('now') - 2440587.5) * 86400000.0, (julianday('now') - 2440587.5) * 86400000.0
        FROM image_points p JOIN series s ON s.id = p.series_id JOIN experiments e ON e.id = s.experiment_id
        UNION
        SELECT e.project, t.blob_hash, (julianday('now') - 2440587.5) * 86400000.0, (julianday('now') - 2440587.5) * 86400000.0
        FROM tables t JOIN experiments e ON e.id = t.experiment_id;
      INSERT OR IGNORE INTO blob_owners (project, hash, touched_at, referenced_at)
        SELECT '', hash, (julianday('now') - 2440587.5) * 86400000.0, NULL FROM blobs WHERE hash NOT IN (SELECT hash FROM blob_owners);
    `,
  },
  {
    version: 7,
    description: 'runs: launch records beside experiments, their attempts, status transitions and captured logs',
    sql: `
      -- IF NOT EXISTS: a store whose user_version was set back (to replay an earlier migration) keeps its runs.
      -- A run is an experiment launched and supervised by lablog: same id. status is the run's own
      -- (pending, running, cancelling, ..., timed_out); the experiment keeps one of its five.
      CREATE TABLE IF NOT EXISTS runs (
        experiment_id       TEXT PRIMARY KEY REFERENCES experiments (id) ON DELETE CASCADE,
        command             TEXT NOT NULL,
        args                TEXT NOT NULL,
        cwd                 TEXT NOT NULL,
        hostname            TEXT NOT NULL,
        supervisor_pid      INTEGER NOT NULL,
        pid                 INTEGER,
        status              TEXT NOT NULL,
        attempt             INTEGER NOT NULL DEFAULT 0,
        exit_code           INTEGER,
        signal              TEXT,
        error_message       TEXT,
        timeout_ms          REAL NOT NULL,
        grace_ms            REAL NOT NULL,
        retries             INTEGER NOT NULL,
        log_cap_bytes       INTEGER NOT NULL,
        time_created        REAL NOT NULL,
        time_started        REAL,
        time_completed      REAL,
        cancel_requested_at REAL,
        log_bytes           INTEGER NOT NULL DEFAULT 0,
        log_lines_dropped   INTEGER NOT NULL DEFAULT 0,
        log_bytes_dropped   INTEGER NOT NULL DEFAULT 0,
        log_next_seq        INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX IF NOT EXISTS runs_created ON runs (time_created);

      CREATE TABLE IF NOT EXISTS run_attempts (
        experiment_id  TEXT NOT NULL REFERENCES runs (experiment_id) ON DELETE CASCADE,
        attempt        INTEGER NOT NULL,
        pid            INTEGER,
        status         TEXT NOT NULL,
        exit_code      INTEGER,
        signal         TEXT,
        error_message  TEXT,
        time_started   REAL NOT NULL,
        time_completed REAL,
        PRIMARY KEY (experiment_id, attempt)
      ) WITHOUT ROWID;

      CREATE TABLE IF NOT EXISTS run_transitions (
        seq           INTEGER PRIMARY KEY,
        experiment_id TEXT NOT NULL REFERENCES runs (experiment_id) ON DELETE CASCADE,
        status        TEXT NOT NULL,
        attempt       INTEGER NOT NULL,
        at            REAL NOT NULL
      );
      CREATE INDEX IF NOT EXISTS run_transitions_run ON run_transitions (experiment_id, seq);

      -- Captured output in chunks: one row per batch of lines, as a JSON array of [attempt, stream, timestamp,
      -- text, cut bytes]; a line's position is first_seq + its index (--follow reads after a position).
      -- bytes: the UTF-8 bytes of the chunk's texts (what the run's log cap counts).
      CREATE TABLE IF NOT EXISTS run_log_chunks (
        id            INTEGER PRIMARY KEY,
        experiment_id TEXT NOT NULL REFERENCES runs (experiment_id) ON DELETE CASCADE,
        first_seq     INTEGER NOT NULL,
        count         INTEGER NOT NULL,
        bytes         INTEGER NOT NULL,
        lines         TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS run_log_chunks_run ON run_log_chunks (experiment_id, first_seq);
    `,
  },
  {
    version: 8,
    description: 'env vars: per project and per experiment, secrets sealed',
    sql: `
      -- IF NOT EXISTS: replayable, like the runs migration. experiment_id '' is the project's own scope (a
      -- primary key column cannot be NULL); no foreign key, so a server keeps variables of experiments it has
      -- not been sent yet. value: the plain text, or for a secret its sealed form (never the plain text).
      CREATE TABLE IF NOT EXISTS env_vars (
        project       TEXT NOT NULL,
        experiment_id TEXT NOT NULL DEFAULT '',
        name          TEXT NOT NULL,
        value         TEXT NOT NULL,
        secret        INTEGER NOT NULL,
        updated_at    REAL NOT NULL,
        PRIMARY KEY (project, experiment_id, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    description: "job detail: an experiment's latest progress (pct, phase, when) and the datasets it used",
    // Added only when missing, and IF NOT EXISTS below: a store whose user_version was set back replays this.
    addColumns: [
      { table: 'experiments', column: 'progress', definition: 'REAL' },
      { table: 'experiments', column: 'phase', definition: 'TEXT' },
      { table: 'experiments', column: 'progress_at', definition: 'REAL' },
    ],
    sql: `
      -- References to datasets, not copies; logging the same (role, name) again replaces the row.
      CREATE TABLE IF NOT EXISTS experiment_datasets (
        experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        role          TEXT NOT NULL,
        name          TEXT NOT NULL,
        dataset_id    TEXT,
        uri           TEXT,
        digest        TEXT,
        rows          INTEGER,
        logged_at     REAL NOT NULL,
        PRIMARY KEY (experiment_id, role, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 10,
    description: 'publishing runs: per remote, the run snapshot and the last log position acknowledged (client)',
    sql: `
      -- Client side, beside sync_experiments: what each remote has acknowledged of each run.
      CREATE TABLE IF NOT EXISTS sync_runs (
        remote        TEXT NOT NULL,
        experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        snapshot_hash TEXT,
        log_position  INTEGER NOT NULL DEFAULT 0,
        synced_at     REAL,
        PRIMARY KEY (remote, experiment_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 11,
    description: 'sweeps: search spaces, samplers and pruners beside their studies, and their trials',
    sql: `
      -- A sweep is a study (same id) that asks a sampler for its experiments' params.
      CREATE TABLE IF NOT EXISTS sweeps (
        study_id   TEXT PRIMARY KEY REFERENCES studies (id) ON DELETE CASCADE,
        metric     TEXT NOT NULL,
        goal       TEXT NOT NULL,
        space      TEXT NOT NULL,
        sampler    TEXT NOT NULL,
        pruner     TEXT NOT NULL,
        seed       INTEGER NOT NULL,
        max_trials INTEGER NOT NULL,
        parallel   INTEGER NOT NULL,
        status     TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
      );
      -- A trial: its params, status and value; retry_of: the trial it re-runs with the same params.
      -- report_count, last_step and last_value: of its reports, kept beside (a report is appended without reading
      -- them; a sampler ranks pruned trials by their last report).
      CREATE TABLE IF NOT EXISTS sweep_trials (
        sweep_id      TEXT NOT NULL REFERENCES sweeps (study_id) ON DELETE CASCADE,
        number        INTEGER NOT NULL,
        status        TEXT NOT NULL,
        params        TEXT NOT NULL,
        value         REAL,
        experiment_id TEXT REFERENCES experiments (id) ON DELETE SET NULL,
        retry_of      INTEGER,
        error         TEXT,
        worker_host   TEXT,
        worker_pid    INTEGER,
        heartbeat_at  REAL,
        created_at    REAL NOT NULL,
        started_at    REAL,
        completed_at  REAL,
        report_count  INTEGER NOT NULL DEFAULT 0,
        last_step     INTEGER,
        last_value    REAL,
        PRIMARY KEY (sweep_id, number)
      ) WITHOUT ROWID;
      -- A trial's intermediate values, for its sweep's pruner (REAL holds ±Infinity; NULL is NaN).
      CREATE TABLE IF NOT EXISTS sweep_trial_reports (
        sweep_id TEXT NOT NULL,
        number   INTEGER NOT NULL,
        step     INTEGER NOT NULL,
        value    REAL,
        PRIMARY KEY (sweep_id, number, step),
        FOREIGN KEY (sweep_id, number) REFERENCES sweep_trials (sweep_id, number) ON DELETE CASCADE
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 12,
    description: 'sweeps: the token of the ask that gave a trial, so an ask sent again gets the same trial',
    // Added only when missing, and IF NOT EXISTS below: a store whose user_version was set back replays this.
    addColumns: [{ table: 'sweep_trials', column: 'ask_token', definition: 'TEXT' }],
    sql: `
      CREATE UNIQUE INDEX IF NOT EXISTS sweep_trials_ask_token ON sweep_trials (sweep_id, ask_token) WHERE ask_token IS NOT NULL;
    `,
  },
  {
    version: 13,
    description: 'artifacts (their bytes are blobs beside the store, by sha256) and registered models with versions and aliases',
    sql: `
      -- An artifact: a file or a directory of an experiment, at a step or none. Its bytes are in the blob
      -- folder; the row is committed after them, so an artifact is never visible half-written.
      CREATE TABLE IF NOT EXISTS artifacts (
        id            TEXT PRIMARY KEY,
        experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        step          INTEGER,
        kind          TEXT,
        type          TEXT NOT NULL,
        size          INTEGER NOT NULL,
        sha256        TEXT NOT NULL,
        metadata      TEXT NOT NULL DEFAULT '{}',
        created_at    REAL NOT NULL
      );
      -- Unique per experiment, name and step; no step (NULL) clashes with no step.
      CREATE UNIQUE INDEX IF NOT EXISTS artifacts_name_step ON artifacts (experiment_id, name, coalesce(step, -1));
      -- The files of an artifact (one for a file artifact), each a blob.
      CREATE TABLE IF NOT EXISTS artifact_files (
        artifact_id TEXT NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
        path        TEXT NOT NULL,
        size        INTEGER NOT NULL,
        sha256      TEXT NOT NULL,
        PRIMARY KEY (artifact_id, path)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS artifact_files_sha256 ON artifact_files (sha256);
      -- Server: the projects that uploaded a blob (its bytes verified). A project may reference bytes it
      -- uploaded or already references, never another's by naming their sha256.
      CREATE TABLE IF NOT EXISTS artifact_blob_owners (
        project    TEXT NOT NULL,
        sha256     TEXT NOT NULL,
        size       INTEGER NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (project, sha256)
      ) WITHOUT ROWID;
      -- Client: the artifacts each remote has acknowledged (published once).
      CREATE TABLE IF NOT EXISTS sync_artifacts (
        remote      TEXT NOT NULL,
        artifact_id TEXT NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
        acked_at    REAL NOT NULL,
        PRIMARY KEY (remote, artifact_id)
      ) WITHOUT ROWID;

      -- A registered model: a name per project.
      CREATE TABLE IF NOT EXISTS models (
        project     TEXT NOT NULL,
        name        TEXT NOT NULL,
        description TEXT,
        tags        TEXT NOT NULL DEFAULT '[]',
        created_at  REAL NOT NULL,
        updated_at  REAL NOT NULL,
        PRIMARY KEY (project, name)
      ) WITHOUT ROWID;
      -- Its versions 1, 2, …, each an experiment's artifact.
      CREATE TABLE IF NOT EXISTS model_versions (
        project       TEXT NOT NULL,
        model         TEXT NOT NULL,
        version       INTEGER NOT NULL,
        experiment_id TEXT NOT NULL REFERENCES experiments (id),
        artifact_id   TEXT NOT NULL REFERENCES artifacts (id),
        description   TEXT,
        created_at    REAL NOT NULL,
        PRIMARY KEY (project, model, version),
        FOREIGN KEY (project, model) REFERENCES models (project, name) ON DELETE CASCADE
      ) WITHOUT ROWID;
      -- An alias points at one version of its model.
      CREATE TABLE IF NOT EXISTS model_aliases (
        project TEXT NOT NULL,
        model   TEXT NOT NULL,
        alias   TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (project, model, alias),
        FOREIGN KEY (project, model, version) REFERENCES model_versions (project, model, version) ON DELETE CASCADE
      ) WITHOUT ROWID;
      -- Every move of an alias (from NULL: created; to NULL: removed).
      CREATE TABLE IF NOT EXISTS model_alias_moves (
        project      TEXT NOT NULL,
        model        TEXT NOT NULL,
        alias        TEXT NOT NULL,
        from_version INTEGER,
        to_version   INTEGER,
        at           REAL NOT NULL
      );
      CREATE INDEX IF NOT EXISTS model_alias_moves_model ON model_alias_moves (project, model, at);
    `,
  },
];

export const SCHEMA_VERSION = schemaVersion(MIGRATIONS);

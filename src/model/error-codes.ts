// Error codes: every code a LablogError can carry, declared once, with the shape of the details each code carries.

/**
 * Every code a LablogError can carry, and the only codes a lablog server answers with. Stable: programs may
 * switch on them. A new code needs its details below and its HTTP status (server/http-errors.ts); the
 * compiler refuses the build until both are there.
 */
export const ERROR_CODES = [
  // A value or an option a caller gave breaks a rule.
  'INVALID_OPTION',
  'INVALID_NAME',
  'INVALID_PARAM_VALUE',
  'INVALID_METRIC_VALUE',
  'INVALID_STEP',
  'STEP_NOT_INCREASING',
  'INVALID_IMAGE',
  'INVALID_PLOT',
  'INVALID_TABLE',
  'SERIES_KIND_MISMATCH',
  'LIMIT_EXCEEDED',
  // Experiments and their series.
  'EXPERIMENT_CLOSED',
  'EXPERIMENT_RUNNING',
  'EXPERIMENT_NOT_FOUND',
  'AMBIGUOUS_NAME',
  'SERIES_NOT_FOUND',
  'STORAGE_ERROR',
  // Studies.
  'STUDY_NOT_FOUND',
  'ALREADY_IN_STUDY',
  'INSUFFICIENT_RUNS',
  'STUDY_NOT_ARCHIVED',
  // Runs (launched and supervised jobs).
  'RUN_NOT_FOUND',
  'RUN_ENDED',
  // Env vars and their secrets.
  'SECRET_DOWNGRADE',
  'SECRET_KEY_ERROR',
  // Sweeps (hyperparameter search) and their trials.
  'SWEEP_NOT_FOUND',
  'TRIAL_NOT_FOUND',
  // Artifacts, their bytes, and registered models.
  'ARTIFACT_NOT_FOUND',
  'ARTIFACT_EXISTS',
  'MODEL_NOT_FOUND',
  'CHECKSUM_MISMATCH',
  'UPLOAD_CONFLICT',
  // Publishing to a remote store, and the server's answers.
  'SYNC_CONFLICT',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'REQUEST_TIMEOUT',
  'REMOTE_UNAVAILABLE',
  'REMOTE_ERROR',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether `value` is one of ERROR_CODES (a code read from the wire or a worker message). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Where a store keeps its data: the embedded SQLite file, the server's PostgreSQL, plain files, a lablog server, or S3-compatible object storage (artifact bytes). */
export const STORAGE_DRIVERS = ['sqlite', 'postgres', 'filesystem', 'remote', 's3'] as const;

export type StorageDriver = (typeof STORAGE_DRIVERS)[number];

/** The details of a STORAGE_ERROR, the same from every driver. */
export type StorageErrorDetails = {
  readonly driver: StorageDriver;
  /** The driver's own code (SQLite's `SQLITE_BUSY`, a PostgreSQL SQLSTATE like `23505`, Node's `ENOENT`, S3's `NoSuchBucket`); null when lablog itself refused (a closed store, a newer schema). */
  readonly driverCode: string | null;
  /** The file path, the database URL without its password, or the server's URL. */
  readonly location: string;
  /** For a limit (a schema version, the points held in memory): the limit and the actual value. */
  readonly limit?: number;
  readonly actual?: number;
  /** The series whose point was dropped. */
  readonly key?: string;
};

/** Fields any error may carry, whatever its code: where a server's answer came from, and which published item a problem is about. */
export type CommonErrorDetails = {
  /** The HTTP status of the server's answer the error was decoded from. */
  readonly httpStatus?: number;
  /** The URL of the server that answered. */
  readonly remote?: string;
  /** How long the server asked the client to wait (its Retry-After), in ms. */
  readonly retryAfterMs?: number;
  /** The code a server sent that this lablog does not know (a newer server); `code` is then the closest known one. */
  readonly remoteCode?: string;
  /** The name of the series or table a publishing problem is about. */
  readonly item?: string;
};

/** A value that broke a rule: the series or param it was for, the option or request field, and the value (bounded). */
type ValueProblem = {
  /** The series, param, table or name the value was for. */
  readonly key?: string;
  /** The option of a library call that was wrong. */
  readonly option?: string;
  /** The field or query parameter of a request to a server that was wrong. */
  readonly field?: string;
  readonly actual?: unknown;
};

/** A count or size over a rule's limit: both numbers. */
type LimitProblem = { readonly limit: number; readonly actual: unknown };

/** No details beyond the common ones. */
type NoDetails = Record<never, never>;

/** Checks at compile time that every code has its details (a missing code fails the build here). */
type EveryCode<T extends { readonly [C in ErrorCode]: object }> = T;

/** The details each code carries: what was wrong and the data to act on. */
export type ErrorDetailsByCode = EveryCode<{
  INVALID_OPTION: ValueProblem & {
    readonly step?: number;
    readonly limit?: number;
    readonly id?: string;
    readonly experimentId?: string;
    readonly study?: string;
    /** A blob a request named but did not upload (its sha256), or the blobs missing from a batch. */
    readonly hash?: string;
    readonly missing?: readonly string[];
    /** The HTTP framework's own code for a malformed request. */
    readonly cause?: string;
  };
  INVALID_NAME: ValueProblem & { readonly limit?: number; readonly project?: string };
  INVALID_PARAM_VALUE: ValueProblem & { readonly limit?: number };
  INVALID_METRIC_VALUE: ValueProblem;
  INVALID_STEP: ValueProblem;
  STEP_NOT_INCREASING: {
    readonly key: string;
    readonly step: number;
    readonly limit?: number;
    readonly actual?: number;
    readonly lastStep?: number | null;
  };
  INVALID_IMAGE: ValueProblem & { readonly path?: string; readonly limit?: number };
  INVALID_PLOT: ValueProblem & { readonly limit?: number };
  INVALID_TABLE: ValueProblem & { readonly limit?: number };
  SERIES_KIND_MISMATCH: { readonly key: string; readonly actual?: string; readonly expected?: string };
  LIMIT_EXCEEDED: LimitProblem &
    Omit<ValueProblem, 'actual'> & { readonly experiment?: string; readonly step?: number; readonly project?: string };
  EXPERIMENT_CLOSED: { readonly experiment: string; readonly key?: string };
  EXPERIMENT_RUNNING: {
    readonly experiment?: string;
    readonly actual?: unknown;
    /** The process that runs it, and its host. */
    readonly pid?: number | null;
    readonly hostname?: string | null;
    /** A study whose experiments are still running. */
    readonly study?: string;
    readonly running?: readonly string[];
  };
  EXPERIMENT_NOT_FOUND: { readonly id?: string; readonly key?: string; readonly study?: string };
  AMBIGUOUS_NAME: { readonly key: string; readonly projects?: readonly string[]; readonly ids?: readonly string[] };
  SERIES_NOT_FOUND: { readonly key: string; readonly experiment?: string };
  STORAGE_ERROR: StorageErrorDetails;
  STUDY_NOT_FOUND: { readonly id?: string; readonly key?: string };
  ALREADY_IN_STUDY: { readonly experimentId: string; readonly existingStudyId: string };
  INSUFFICIENT_RUNS: { readonly completed: number; readonly minimumRequired: number };
  STUDY_NOT_ARCHIVED: { readonly study: string; readonly status: string };
  RUN_NOT_FOUND: { readonly id?: string; readonly key?: string };
  /** A cancel of a run that has ended: its id and final status. */
  RUN_ENDED: { readonly id: string; readonly status: string };
  /** A secret env var set again as plain: its name and scope. */
  SECRET_DOWNGRADE: { readonly key: string; readonly project: string; readonly experimentId?: string };
  /**
   * The secret key cannot be used: none given (a server without LABLOG_SECRET_KEY), a key file others may
   * read or that is malformed, or a secret that does not open with it (another key, altered data).
   */
  SECRET_KEY_ERROR: {
    readonly reason: 'missing' | 'permissions' | 'malformed' | 'undecryptable';
    readonly path?: string;
    readonly mode?: string;
    readonly key?: string;
    readonly project?: string;
  };
  SWEEP_NOT_FOUND: { readonly id?: string; readonly key?: string };
  TRIAL_NOT_FOUND: { readonly id: string; readonly number: number };
  /** No artifact of that name (at that step) in the experiment, or no blob with that sha256. */
  ARTIFACT_NOT_FOUND: { readonly experiment?: string; readonly key?: string; readonly step?: number; readonly sha256?: string };
  /** An artifact of that name at that step (none: `step` absent) is in the experiment already. */
  ARTIFACT_EXISTS: { readonly experiment: string; readonly key: string; readonly step?: number };
  MODEL_NOT_FOUND: { readonly key: string; readonly project?: string; readonly version?: number; readonly alias?: string };
  /** Bytes whose sha256 is not the one announced (an upload, a copy that changed while read). */
  CHECKSUM_MISMATCH: { readonly expected: string; readonly actual: string; readonly key?: string };
  /** An upload chunk at an offset the upload is not at (out of order, or sent again): the offset it is at. */
  UPLOAD_CONFLICT: { readonly expected: number; readonly actual: number; readonly sha256?: string };
  SYNC_CONFLICT: { readonly key: string; readonly after: number | null; readonly serverLastStep: number | null };
  NOT_FOUND: { readonly key?: string };
  UNAUTHENTICATED: { readonly limit?: number; readonly actual?: number };
  FORBIDDEN: { readonly id?: string; readonly project?: string };
  RATE_LIMITED: { readonly retryAfterMs?: number; readonly limit?: number; readonly burst?: number; readonly address?: string };
  PAYLOAD_TOO_LARGE: { readonly limit?: number; readonly actual?: number };
  REQUEST_TIMEOUT: { readonly limit?: number; readonly requestTimeoutMs?: number; readonly headersTimeoutMs?: number };
  REMOTE_UNAVAILABLE: NoDetails;
  REMOTE_ERROR: NoDetails;
  INTERNAL: NoDetails;
}>;

/** The details of an error with code `C`, plus what any error may carry. */
export type ErrorDetails<C extends ErrorCode> = ErrorDetailsByCode[C] & CommonErrorDetails;

/** The driver's own code of a failure (`SQLITE_BUSY`, a SQLSTATE, `ENOENT`), or null when it has none. */
export function driverCodeOf(cause: unknown): string | null {
  const code = (cause as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code.length > 0 ? code : null;
}

// lablog: the public API of the embedded experiment logger.

export { openStore, resolveStorePath, STORE_FILE_NAME, DEFAULT_STORE_DIR, type OpenStoreOptions } from './open-store.js';
export { Study } from './core/study.js';
export {
  MAX_STUDY_EXPERIMENTS,
  type AddExperimentOptions,
  type StudyUpdate,
  type ArchiveOptions,
  type CloneOptions,
} from './core/study-rules.js';
export type { StudyStatistics, StudyStatisticsOptions } from './core/study-statistics.js';
export type { Comparison, CompareOptions, MetricGoal, SignificanceResult, CorrelationResult } from './core/study-comparison.js';
export type { StudyPlan } from './core/study-template.js';
export type { ScalingLawAnalysis, ScalingPoint, ScalingTargetPrediction } from './core/study-scaling.js';
export type { PowerLawFit, PowerLawParameters } from './core/scaling-law.js';
export type { ProgressiveScalingParameters } from './core/scaling-template.js';
export { STUDY_TEMPLATE_KINDS as STUDY_TEMPLATES, type StudyTemplateKind } from './model/study.js';
export {
  EXPORT_FORMATS,
  EXPORT_INCLUDES,
  type ExportFormat,
  type ExportInclude,
  type ExportOptions,
  type ExportResult,
} from './core/study-export.js';
export { STUDY_STATUSES, type StudyStatus, type StudyBaseline } from './model/study.js';
export type { PublishOptions, PublishReport, PublishProblemReport, RemoteSpec } from './core/publishing.js';
export {
  Store,
  DEFAULT_PROJECT,
  STORE_CLOSE_WAIT_MS,
  type CreateStudyOptions,
  type ListStudiesOptions,
  type StorePublishOptions,
  type CreateExperimentOptions,
  type ListExperimentsOptions,
  type GetExperimentOptions,
} from './core/store.js';
export {
  Experiment,
  CLOSE_TIMEOUT_MS,
  FINAL_STATUSES,
  type FinalStatus,
  type MetricOptions,
  type MediaOptions,
  type CloseOptions,
  type ResumeOptions,
  type SeriesSummary,
  type FlushResult,
  type ExperimentStats,
  type ArtifactSource,
  type LogArtifactOptions,
  type ArtifactReadOptions,
  type ArtifactStreamOptions,
} from './core/experiment.js';
export {
  MAX_ARTIFACT_BYTES,
  MAX_EXPERIMENT_ARTIFACT_BYTES,
  MAX_ARTIFACTS_PER_EXPERIMENT,
  MAX_ARTIFACT_FILES,
  MAX_ARTIFACT_PATH_LENGTH,
  MAX_ARTIFACT_METADATA_CHARS,
  type ArtifactRecord,
  type ArtifactFile,
  type ArtifactMetadata,
} from './model/artifact.js';
export { ARTIFACT_GC_GRACE_MS, type ArtifactGcOptions, type ArtifactGcResult } from './core/artifact-gc.js';
export type { FlushOptions } from './core/flush-options.js';
export { ErrorHandlerType, type WarningListener } from './core/error-handler.js';
export {
  LablogError,
  LablogWarning,
  ERROR_CODES,
  type LablogErrorCode,
  type LablogWarningCode,
  type LablogErrorDetails,
} from './model/errors.js';
export {
  isErrorCode,
  STORAGE_DRIVERS,
  type ErrorDetails,
  type ErrorDetailsByCode,
  type StorageDriver,
  type StorageErrorDetails,
  type CommonErrorDetails,
} from './model/error-codes.js';
export { METRIC_GOALS, defaultMetricGoal, type Goal } from './model/metric-goal.js';
export type { JsonNumber } from './model/json-number.js';
export { DEFAULT_LIMITS, BUDGET_WARNING_FRACTION, UNBOUNDED_LIMITS, type Limits } from './model/limits.js';
export { FLUSH_INTERVAL_MS, FLUSH_AT_POINTS, FLUSH_AT_BYTES, MAX_BUFFERED_POINTS } from './core/buffer.js';
export { HEARTBEAT_INTERVAL_MS, STALE_HEARTBEAT_MS } from './core/liveness.js';
export type { ParamValue } from './model/validation.js';
export type { ImageInput, SharpLike } from './media/image.js';
export type { PlotlyFigure } from './media/plot.js';
export { EXPERIMENT_STATUSES, type ExperimentStatus } from './model/experiment.js';
export { SERIES_KINDS, type SeriesKind, type MetricData, type ImagePoint, type PlotPoint } from './model/series.js';
export { type TableSummary } from './model/table.js';
export { MAX_PHASE_LENGTH, MIN_PROGRESS_PCT, MAX_PROGRESS_PCT, type ExperimentProgress } from './model/progress.js';
export {
  DATASET_ROLES,
  MAX_DATASETS,
  MAX_DATASET_NAME_LENGTH,
  MAX_DATASET_ID_LENGTH,
  MAX_DATASET_URI_LENGTH,
  MAX_DATASET_DIGEST_LENGTH,
  type DatasetInput,
  type DatasetRecord,
} from './model/dataset.js';
export { Run, RUN_WAIT_POLL_MS, MAX_LOG_PAGE_LINES, type RunLogsOptions, type WaitOptions, type ListRunsOptions } from './core/run.js';
export { MIN_RUN_LOG_CAP_BYTES, type LaunchOptions, type LaunchParam } from './core/run-options.js';
export { GridLaunch, MAX_GRID_PARALLEL, type LaunchGridOptions, type GridEntry } from './core/run-grid.js';
export { Sweep, type BestTrial, type HistoryPoint } from './core/sweep.js';
export { RemoteSweep, RemoteSweeps } from './core/remote-sweep.js';
export { Trial, type PrunedResult } from './core/trial.js';
export { IMPORTANCE_BINS, type ParamImportance } from './core/param-importance.js';
export type { CreateSweepOptions } from './core/sweep-options.js';
export {
  DEFAULT_TRIAL_TIMEOUT_MS,
  MAX_TRIAL_TIMEOUT_MS,
  type Objective,
  type OptimizeOptions,
  type OptimizeResult,
} from './core/sweep-worker.js';
export {
  SWEEP_STATUSES,
  TRIAL_STATUSES,
  DEFAULT_MAX_TRIALS,
  MAX_TRIALS_LIMIT,
  MAX_SWEEP_PARALLEL,
  type SweepStatus,
  type TrialStatus,
  type SearchSpace,
  type ParamSpec,
  type SamplerSpec,
  type PrunerSpec,
  type SweepRecord,
  type TrialRecord,
  type TrialParams,
} from './model/sweep.js';
export {
  MAX_MODEL_DESCRIPTION_CHARS,
  type ModelLineage,
  type ModelVersion,
  type ModelVersionDetail,
  type RegisterModelOptions,
} from './core/model-registry.js';
export { MAX_MODEL_ALIASES, MAX_MODEL_VERSIONS, type AliasMove, type ModelRecord, type ModelVersionRecord } from './model/artifact.js';
export { CANCEL_POLL_MS } from './core/run-supervisor.js';
export { MAX_LOG_LINE_BYTES } from './core/log-capture.js';
export {
  RUN_STATUSES,
  FINAL_RUN_STATUSES,
  DEFAULT_RUN_TIMEOUT_MS,
  MAX_RUN_TIMEOUT_MS,
  DEFAULT_RUN_GRACE_MS,
  DEFAULT_RUN_LOG_CAP_BYTES,
  MAX_RUN_RETRIES,
  type RunStatus,
  type FinalRunStatus,
  type RunRecord,
  type RunAttempt,
  type RunTransition,
  type LogPage,
  type StoredLogLine,
  type LogStream,
} from './model/run.js';
export { EnvVars, type EnvScopeOptions, type SetEnvOptions, type DeleteEnvOptions } from './core/env-vars.js';
export {
  ENV_VAR_NAME_RULE,
  ENV_VAR_NAME_PATTERN,
  MAX_ENV_VAR_NAME_LENGTH,
  MAX_ENV_VAR_VALUE_LENGTH,
  MAX_ENV_VARS_PER_SCOPE,
  MIN_SECRET_LENGTH,
  ENV_INHERITANCES,
  type EnvVar,
  type EnvInheritance,
} from './model/env-vars.js';
export { SECRET_KEY_FILE_ENV, DEFAULT_SECRET_KEY_FILE } from './core/secret-key-file.js';
export { REDACTED } from './core/secret-redaction.js';

// The server's store interface, composed from the capabilities, each asynchronous (PostgreSQL drivers are) (types only).

import type { ExperimentQuery } from '../model/experiment.js';
import type { ServerModelStore } from './artifact-store.js';
import type { Async } from './async.js';
import type { BlobStore } from './blob-store.js';
import type { ExperimentIngest, RemoteExperimentRecord } from './experiment-ingest.js';
import type { ExperimentReader } from './experiment-reader.js';
import type { ServerEnvStore } from './env-store.js';
import type { KeyStore } from './key-store.js';
import type { ServerRunIngest } from './run-ingest.js';
import type { ServerRunStore } from './run-store.js';
import type { SeriesPages } from './series-pages.js';
import type { ServerStudyBackend } from './study-store.js';
import type { ServerSweepStore } from './sweep-store.js';
import type { ServerArtifactBlobOwners, ServerArtifactStore } from './artifact-store.js';
import type { UiQueries } from './ui-queries.js';

export type { ImageMeta, PlotMeta } from '../model/series.js';
export type { BlobCheck, BlobCollection, OwnedBlob } from './blob-store.js';
export type {
  IngestBatch,
  IngestImagePoint,
  IngestMedia,
  IngestMetric,
  IngestPlotPoint,
  IngestResult,
  IngestTable,
  PublishedExperiment,
  RejectedItem,
  RemoteExperimentRecord,
  SeriesState,
} from './experiment-ingest.js';
export type { ApiKeyListing, ApiKeyRecord, UiSessionRecord } from './key-store.js';
export type { ExperimentSummary, ProjectCount } from './ui-queries.js';

/** A query of a server's experiments (`projects`: the API key's scope). */
export type RemoteExperimentQuery = ExperimentQuery;

/**
 * A store the server reads and writes through: every capability, asynchronous. Every write is idempotent,
 * and safe with several server processes on one database. Failures reject with a LablogError
 * (STORAGE_ERROR, or the typed code).
 */
export interface ServerBackend
  extends
    Async<ExperimentReader<RemoteExperimentRecord>>,
    Async<ExperimentIngest>,
    Async<BlobStore>,
    Async<KeyStore>,
    Async<SeriesPages>,
    Async<UiQueries> {
  /** Where the data lives (a file path or a database URL without password), for messages. */
  readonly location: string;
  /** The studies of the server's store (same rules and errors as the library's). */
  studies(): ServerStudyBackend;
  /** The env vars of the server's store (same rules and errors as the library's; secrets sealed with the server's key). */
  env(): ServerEnvStore;
  /** The runs of the server's store (same rules and errors as the library's). */
  runs(): ServerRunStore;
  /** The sweeps of the server's store and their trials (same rules and errors as the library's; an ask is atomic across server processes). */
  sweeps(): ServerSweepStore;
  /** Artifacts published to the server (their bytes are in the server's ArtifactBlobs). */
  artifacts(): ServerArtifactStore;
  /** Which projects may reference which artifact blobs. */
  artifactOwners(): ServerArtifactBlobOwners;
  /** The registered models of the server's store (same rules and errors as the library's; a version is numbered atomically across server processes). */
  models(): ServerModelStore;
  /** Published runs: snapshots and log lines, written idempotently. */
  runIngest(): ServerRunIngest;
  close(): Promise<void>;
}

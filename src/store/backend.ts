// The embedded store's interface, composed from the capabilities: what core needs from a storage implementation (types only).

import type { ArtifactBlobs } from './artifact-blobs.js';
import type { ArtifactStore } from './artifact-store.js';
import type { ModelStore } from './artifact-store.js';
import type { EnvStore } from './env-store.js';
import type { ExperimentReader } from './experiment-reader.js';
import type { ExperimentWriter } from './experiment-writer.js';
import type { RunStore } from './run-store.js';
import type { StudyStore } from './study-store.js';
import type { SweepStore } from './sweep-store.js';

export type { BatchWriter, WriteBatch } from './experiment-writer.js';

/**
 * A storage implementation for the embedded store. Calls are synchronous: the embedded store must be able
 * to flush from a process 'exit' handler. Failures throw a LablogError with code STORAGE_ERROR.
 */
export interface StoreBackend extends ExperimentReader, ExperimentWriter {
  /** Where the data lives (a file path), for messages. */
  readonly location: string;
  /** The studies of this store. */
  studies(): StudyStore;
  /** The runs (launch records, attempts, logs) of this store. */
  runs(): RunStore;
  /** The env vars (project and experiment scopes, secrets sealed) of this store. */
  env(): EnvStore;
  /** The sweeps (search spaces, trials) of this store. */
  sweeps(): SweepStore;
  /** The artifacts (rows naming their files' sha256) of this store. */
  artifacts(): ArtifactStore;
  /** Where the bytes of its artifacts live: a folder beside the store file (blobs/sha256/ab/cdef…). */
  artifactBlobs(): ArtifactBlobs;
  /** The registered models (versions, aliases and their moves) of this store. */
  models(): ModelStore;
  close(): void;
}

// The artifact and model capabilities of a store: artifacts committed once their bytes are stored, and registered models with versions and aliases (types only).

import type { AliasMove, ArtifactRecord, ModelRecord, ModelVersionRecord } from '../model/artifact.js';
import type { Async } from './async.js';

/** Artifacts of experiments. Synchronous; failures throw LablogError (STORAGE_ERROR, or the typed code). */
export interface ArtifactStore {
  /**
   * Commits an artifact in one transaction; every file's bytes must be in the store's blobs already (the
   * caller wrote them first), so nothing half-written is ever visible. ARTIFACT_EXISTS when the experiment has
   * an artifact of that name at that step (a null step clashes with a null step); LIMIT_EXCEEDED past
   * MAX_ARTIFACTS_PER_EXPERIMENT or MAX_EXPERIMENT_ARTIFACT_BYTES; EXPERIMENT_NOT_FOUND for no experiment.
   */
  addArtifact(record: ArtifactRecord): void;
  /** The experiment's artifacts by name, then step (null first). */
  listArtifacts(experimentId: string): ArtifactRecord[];
  /** The artifact of that name: at `step` (null: the one without a step), or when `step` is undefined the one with the highest step (else the one without). */
  getArtifact(experimentId: string, name: string, step?: number | null): ArtifactRecord | undefined;
  getArtifactById(id: string): ArtifactRecord | undefined;
  /** Every sha256 an artifact's file references: the blobs `lablog gc` keeps. */
  referencedBlobs(): Set<string>;
}

/** What registering a version needs: the model (created on first use), the experiment's artifact, aliases to point at it. */
export interface NewModelVersion {
  readonly project: string;
  readonly model: string;
  readonly experimentId: string;
  readonly artifactId: string;
  readonly description: string | null;
  readonly aliases: readonly string[];
  readonly now: number;
}

/** Registered models. Synchronous; failures throw LablogError (STORAGE_ERROR, or the typed code). */
export interface ModelStore {
  /**
   * In one transaction: creates the model if new, numbers the version (1, 2, …: the highest so far + 1, atomic
   * whatever the number of writers), and points each alias at it (a move is recorded). LIMIT_EXCEEDED past
   * MAX_MODEL_VERSIONS or MAX_MODEL_ALIASES.
   */
  registerVersion(version: NewModelVersion): ModelVersionRecord;
  getModel(project: string, name: string): ModelRecord | undefined;
  /** Models by name (in a project, or all). */
  listModels(project?: string): ModelRecord[];
  /** Versions, oldest first. */
  listVersions(project: string, name: string): ModelVersionRecord[];
  getVersion(project: string, name: string, version: number): ModelVersionRecord | undefined;
  /** Points `alias` at `version` (null: removes it), recording the move. MODEL_NOT_FOUND for no such model or version. */
  setAlias(project: string, name: string, alias: string, version: number | null, now: number): void;
  /** Every move of the model's aliases, oldest first. */
  aliasMoves(project: string, name: string): AliasMove[];
  /** Sets the model's description and tags (what is given). MODEL_NOT_FOUND for no such model. */
  updateModel(project: string, name: string, patch: { description?: string | null; tags?: readonly string[] }, now: number): ModelRecord;
}

/**
 * Which projects may reference a blob on a server: one that uploaded its bytes (verified), or whose
 * experiments' artifacts reference it already. A project never gets another's bytes by naming their sha256.
 */
export interface ArtifactBlobOwners {
  /** Records that `project` uploaded the blob's bytes (verified against its sha256). */
  ownBlob(project: string, sha256: string, size: number, now: number): void;
  /** Whether `project` may reference the blob. */
  ownsBlob(project: string, sha256: string): boolean;
}

/** Client side: the artifacts each remote has acknowledged, so each is published once. */
export interface ArtifactLedger {
  artifactAcked(remote: string, artifactId: string): boolean;
  ackArtifact(remote: string, artifactId: string, now: number): void;
}

/** The same operations for a server's store: asynchronous, with the same rules and errors. */
export type ServerArtifactStore = Async<ArtifactStore>;
export type ServerModelStore = Async<ModelStore>;
export type ServerArtifactBlobOwners = Async<ArtifactBlobOwners>;

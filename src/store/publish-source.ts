// The publisher's view of a local store: its reads, the points after a watermark, and the sync ledger (types only).

import type { ImagePoint, MetricData } from '../model/series.js';
import type { ExperimentReader } from './experiment-reader.js';
import type { StudyStore } from './study-store.js';
import type { SyncLedger } from './sync-ledger.js';
import type { RunLedger } from './run-ledger.js';
import type { RunStore } from './run-store.js';
import type { ArtifactLedger, ArtifactStore } from './artifact-store.js';
import type { ArtifactBlobs } from './artifact-blobs.js';

export type { LedgerEntry, SyncLedger, Truncation } from './sync-ledger.js';
export type { RunLedger, RunLedgerEntry } from './run-ledger.js';

/** The reads of a run a publisher sends, and the cancel request a remote passes on to its supervisor. */
export type RunSource = Pick<RunStore, 'getRun' | 'attempts' | 'transitions' | 'readLogs' | 'requestCancel'>;

export interface PlotText {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  readonly figure: string;
}

/** Reads of what a remote has not acknowledged yet: the points after a watermark, in bounded pieces. */
export interface WatermarkReader {
  /** Points with step > after (null: all), whole stored chunks until at least maxPoints (or the end). */
  readMetricAfter(experimentId: string, name: string, after: number | null, maxPoints: number): MetricData;
  /** Metric points with step > after, counted by chunk (an upper bound, for progress). */
  countMetricAfter(experimentId: string, name: string, after: number | null): number;
  readImagesAfter(experimentId: string, name: string, after: number | null, max: number): ImagePoint[];
  readPlotsAfter(experimentId: string, name: string, after: number | null, max: number): PlotText[];
}

/**
 * What a publisher reads and records: a local store opened for it (its own connection: the publisher may
 * run in another thread), closed by the publisher when done.
 */
export interface PublishSource
  extends ExperimentReader, WatermarkReader, SyncLedger, RunLedger, ArtifactLedger, Pick<StudyStore, 'studyOf' | 'getStudy' | 'members'> {
  /** The store's artifacts and their bytes, for publishing them. */
  artifacts(): Pick<ArtifactStore, 'listArtifacts'>;
  artifactBlobs(): ArtifactBlobs;
  /** The store's runs, for publishing the experiments that are runs. */
  runs(): RunSource;
  readonly location: string;
  close(): void;
}

// What an experiment's calls answer: its series listed, a flush's result, its counters.

import type { LablogError } from '../model/errors.js';
import type { SeriesKind } from '../model/series.js';

export interface SeriesSummary {
  readonly name: string;
  readonly kind: SeriesKind;
  readonly count: number;
  readonly firstStep: number | null;
  readonly lastStep: number | null;
  readonly lastValue: number | null;
  readonly minValue: number | null;
  readonly maxValue: number | null;
}

/** What a flush did; flush() resolves with it (and rejects under FAIL when `error` is set). */
export interface FlushResult {
  /** Metric points written by this flush. */
  readonly points: number;
  /** Metric points still held in memory because the store did not take them. */
  readonly pending: number;
  /** Metric points dropped so far because the hard cap on held points was reached. */
  readonly dropped: number;
  readonly error?: LablogError;
}

export interface ExperimentStats {
  readonly metricValues: number;
  readonly params: number;
  readonly pendingPoints: number;
  /** Points dropped because the store refused writes while MAX_BUFFERED_POINTS were held. */
  readonly droppedPoints: number;
  /** Metric points in batches the store rejected for good (a constraint broken by another writer); in this store, from this process. */
  readonly rejectedPoints: number;
  /** Log calls that waited because the writer was healthy but behind, and how long in all (ms). */
  readonly backpressureWaits: number;
  readonly backpressureMs: number;
  readonly flushes: number;
  readonly errors: number;
  readonly lastError: LablogError | undefined;
}

// The publisher's view of a local store: points after a watermark, truncations, and the ledger of what each remote acknowledged (types only).

import type { StudyMember, StudyRecord } from '../model/study.js';
import type { ExperimentQuery, ExperimentRecord, ParamRecord } from '../model/experiment.js';
import type { ImagePoint, MetricData, SeriesRecord } from '../model/series.js';
import type { TableRecord, TableSummary } from '../model/table.js';

export interface Truncation {
  readonly seq: number;
  readonly fromStep: number;
}

/** What one remote has acknowledged of one experiment. */
export interface SyncLedger {
  /** Hash of the experiment description last acknowledged; null: never published there. */
  readonly metaHash: string | null;
  readonly remoteName: string | null;
  /** The last truncation (resumeFrom) the remote has applied. */
  readonly truncationSeq: number;
  /** Per series: the last step the remote acknowledged. */
  readonly series: ReadonlyMap<string, number>;
  /** Per table: the loggedAt the remote acknowledged. */
  readonly tables: ReadonlyMap<string, number>;
}

export interface PlotText {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  readonly figure: string;
}

export interface PublishSource {
  readonly location: string;
  listExperiments(query: ExperimentQuery): ExperimentRecord[];
  getExperiment(id: string): ExperimentRecord | undefined;
  readParams(experimentId: string): ParamRecord[];
  readSeries(experimentId: string): SeriesRecord[];
  /** Points with step > after (null: all), whole stored chunks until at least maxPoints (or the end). */
  readMetricAfter(experimentId: string, name: string, after: number | null, maxPoints: number): MetricData;
  /** Metric points with step > after, counted by chunk (an upper bound, for progress). */
  countMetricAfter(experimentId: string, name: string, after: number | null): number;
  readImagesAfter(experimentId: string, name: string, after: number | null, max: number): ImagePoint[];
  readPlotsAfter(experimentId: string, name: string, after: number | null, max: number): PlotText[];
  listTables(experimentId: string): TableSummary[];
  readTable(experimentId: string, name: string): TableRecord | undefined;
  truncationsAfter(experimentId: string, seq: number): Truncation[];
  /** The study an experiment belongs to, its record and members. */
  studyOf(experimentId: string): string | undefined;
  getStudy(id: string): StudyRecord | undefined;
  studyMembers(id: string): StudyMember[];

  ledger(remote: string, experimentId: string): SyncLedger;
  saveMeta(remote: string, experimentId: string, metaHash: string, remoteName: string, now: number): void;
  saveTruncation(remote: string, experimentId: string, seq: number, fromStep: number): void;
  /**
   * Records acknowledged steps, unless the remote's truncation seq is no longer `truncationSeq` (another
   * publisher sent a truncation since these answers were given); false then, and nothing is saved.
   */
  saveWatermarks(remote: string, experimentId: string, watermarks: ReadonlyMap<string, number>, truncationSeq: number): boolean;
  saveTable(remote: string, experimentId: string, name: string, loggedAt: number): void;
  close(): void;
}

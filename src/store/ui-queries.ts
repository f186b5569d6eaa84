// The reads only the web UI makes: experiment summaries at once, chart columns, project counts (types only).

import type { ParamRecord } from '../model/experiment.js';
import type { SeriesRecord } from '../model/series.js';
import type { EvenColumn } from './column-codec.js';

/** What the UI's experiments table reads of one experiment besides its record. */
export interface ExperimentSummary {
  readonly params: ParamRecord[];
  readonly series: SeriesRecord[];
  readonly studyId: string | null;
}

/** A project and how many experiments it holds (and how many of them say 'running'). */
export interface ProjectCount {
  readonly name: string;
  readonly experiments: number;
  readonly running: number;
}

/** What the UI's pages read besides the experiment reads. Failures throw a LablogError. */
export interface UiQueries {
  /**
   * One metric's x column (steps, or timestamps in ms) and values, chunk by chunk in step order, for charts:
   * only what a chart draws, and with `steps`, only the chunks that overlap that step range (the caller trims
   * the points at its edges).
   */
  readMetricXs(
    experimentId: string,
    name: string,
    x: 'steps' | 'timestamps',
    steps?: { from: number; to: number },
  ): { xs: Float64Array | EvenColumn; values: Float64Array }[] | undefined;
  /** Params, series (the first `seriesLimit` by name of each, when given) and study of each of these experiments at once; ids not stored are absent from the map. */
  readSummaries(experimentIds: readonly string[], seriesLimit?: number): Map<string, ExperimentSummary>;
  /** Projects that hold experiments or studies, by name; only those among `projects` when given. */
  listProjects(projects?: readonly string[]): ProjectCount[];
}

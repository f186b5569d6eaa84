// The read capability of every store: experiments, their params, series, points, images and tables (types only).

import type { ExperimentQuery, ExperimentRecord, ParamRecord } from '../model/experiment.js';
import type { ImageMeta, MetricData, PlotPoint, SeriesRecord } from '../model/series.js';
import type { TableRecord, TableSummary } from '../model/table.js';
import type { DatasetRecord } from '../model/dataset.js';

/**
 * Reads of experiments and what was logged into them, one shape for every store (R: the store's record,
 * the embedded ExperimentRecord or a server's RemoteExperimentRecord). Failures throw a LablogError
 * (STORAGE_ERROR with the driver's details).
 */
export interface ExperimentReader<R extends ExperimentRecord = ExperimentRecord> {
  getExperiment(id: string): R | undefined;
  /** Experiments with this exact name, in one project or in all, oldest first. */
  findExperiments(name: string, project?: string): R[];
  /** A page of experiments (no limit: all), sorted by `sort` then id; `projects` scopes to those projects. */
  listExperiments(query: ExperimentQuery): R[];
  countExperiments(query: ExperimentQuery): number;
  /** Params by key. */
  readParams(experimentId: string): ParamRecord[];
  /** The datasets the experiment logged, by role then name. */
  readDatasets(experimentId: string): DatasetRecord[];
  /** The experiment's series by name; with `limit`, the first `limit` of them only. */
  readSeries(experimentId: string, limit?: number): SeriesRecord[];
  /** Every point of a metric series; undefined when there is no such metric. */
  readMetric(experimentId: string, name: string): MetricData | undefined;
  /** Every point of a plot series in step order, figures parsed (none: [] whether or not the series exists). */
  readPlots(experimentId: string, name: string): PlotPoint[];
  /** The series' images in step order, without their bytes; with `page`, only those with step >= fromStep, at most `limit`. */
  listImages(experimentId: string, name: string, page?: { fromStep: number; limit: number }): ImageMeta[];
  /** The PNG bytes of the image at `step`. */
  readImage(experimentId: string, name: string, step: number): Buffer | undefined;
  /** The experiment's tables by name; with `limit`, the first `limit` of them only. */
  listTables(experimentId: string, limit?: number): TableSummary[];
  /** A table with its Arrow IPC stream bytes. */
  readTable(experimentId: string, name: string): TableRecord | undefined;
}

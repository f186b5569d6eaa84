// Paged reads of one series for the REST API: metric pages, plot listings and figures by step range (types only).

import type { PlotMeta } from '../model/series.js';
import type { MetricPage } from './metric-page.js';

/** Reads that return at most a page of a series, reading only what the page holds. Failures throw a LablogError. */
export interface SeriesPages {
  /** A page of one metric: points with step >= fromStep, at most `limit`, reading only the chunks that hold them; undefined: no such series. */
  readMetricPage(experimentId: string, name: string, fromStep: number, limit: number): MetricPage | undefined;
  /** Plot points with step >= fromStep, at most `limit`, without their figures: step, time, caption and the figure's size in bytes. */
  listPlots(experimentId: string, name: string, fromStep: number, limit: number): PlotMeta[];
  /** The figures (JSON text as stored) of the plot points with fromStep <= step <= toStep, in step order. */
  readPlotFigures(experimentId: string, name: string, fromStep: number, toStep: number): { step: number; figure: string }[];
}

// Pages of a PostgreSQL store's series: a metric page by chunks, plots listed and their figures by step range.

import type { Async } from '../async.js';
import { assembleMetricPage, type MetricPage } from '../metric-page.js';
import type { SeriesPages } from '../series-pages.js';
import type { PlotMeta } from '../server-backend.js';
import type { ChunkRow } from './experiment-rows.js';
import type { PgStore } from './pg-pool.js';

/** The SeriesPages of a PostgreSQL store. */
export class PostgresSeriesPages implements Async<SeriesPages> {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async readMetricPage(experimentId: string, name: string, fromStep: number, limit: number): Promise<MetricPage | undefined> {
    const series = await this.#store.query<{ id: number }>(
      'reading a metric',
      "SELECT id FROM series WHERE experiment_id = $1 AND name = $2 AND kind = 'metric'",
      [experimentId, name],
    );
    if (series.length === 0) return undefined;
    const id = series[0]!.id;
    return assembleMetricPage(fromStep, limit, (after, batch) =>
      this.#store.query<ChunkRow>(
        'reading a metric',
        `SELECT count, encoding, steps, vals, timestamps FROM metric_chunks
         WHERE series_id = $1 AND last_step >= $2::float8 AND first_step > $3::float8 ORDER BY first_step LIMIT $4`,
        [id, Math.max(fromStep, -Number.MAX_VALUE), Math.max(after, -Number.MAX_VALUE), batch],
      ),
    );
  }

  async listPlots(experimentId: string, name: string, fromStep: number, limit: number): Promise<PlotMeta[]> {
    return this.#store.query<PlotMeta>(
      'listing plots',
      `SELECT p.step, p.timestamp, p.caption, octet_length(p.figure) AS bytes
       FROM plot_points p JOIN series s ON s.id = p.series_id
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'plot' AND p.step >= $3::float8 ORDER BY p.step LIMIT $4`,
      [experimentId, name, Math.max(fromStep, -Number.MAX_VALUE), limit],
    );
  }

  async readPlotFigures(experimentId: string, name: string, fromStep: number, toStep: number): Promise<{ step: number; figure: string }[]> {
    return this.#store.query<{ step: number; figure: string }>(
      'reading plots',
      `SELECT p.step, p.figure FROM plot_points p JOIN series s ON s.id = p.series_id
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'plot' AND p.step >= $3::float8 AND p.step <= $4::float8 ORDER BY p.step`,
      [experimentId, name, fromStep, toStep],
    );
  }
}

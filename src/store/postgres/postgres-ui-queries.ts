// The UI's queries on a PostgreSQL store: a metric's xs, experiment summaries for the tables, projects and their counts.

import type { ParamRecord } from '../../model/experiment.js';
import type { Async } from '../async.js';
import { decodeXChunks, type EncodedXChunk } from '../column-codec.js';
import type { ExperimentSummary, ProjectCount } from '../server-backend.js';
import type { UiQueries } from '../ui-queries.js';
import { seriesRecord, type SeriesRow } from './experiment-rows.js';
import type { PgStore } from './pg-pool.js';

/** The UiQueries of a PostgreSQL store. */
export class PostgresUiQueries implements Async<UiQueries> {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async readMetricXs(experimentId: string, name: string, x: 'steps' | 'timestamps', steps?: { from: number; to: number }) {
    const column = x === 'steps' ? 'steps' : 'timestamps';
    // The LEFT JOIN tells an emptied series (one row of NULLs) from no series (no row).
    const rows = await this.#store.query<{ count: number | null; encoding: number | null; xs: Buffer | null; vals: Buffer | null }>(
      'reading a metric',
      `SELECT c.count, c.encoding, c.${column} AS xs, c.vals
       FROM series s LEFT JOIN metric_chunks c ON c.series_id = s.id AND c.last_step >= $3::float8 AND c.first_step <= $4::float8
       WHERE s.experiment_id = $1 AND s.name = $2 AND s.kind = 'metric'
       ORDER BY c.first_step`,
      [experimentId, name, steps?.from ?? -Number.MAX_VALUE, steps?.to ?? Number.MAX_VALUE],
    );
    if (rows.length === 0) return undefined;
    return decodeXChunks(
      rows.filter((row): row is EncodedXChunk => row.count !== null),
      x,
    );
  }

  async readSummaries(experimentIds: readonly string[], seriesLimit?: number): Promise<Map<string, ExperimentSummary>> {
    const out = new Map<string, ExperimentSummary>();
    if (experimentIds.length === 0) return out;
    const ids = [...experimentIds];
    const [experiments, params, series] = await Promise.all([
      this.#store.query<{ id: string; study_id: string | null }>(
        'reading experiments',
        'SELECT e.id, m.study_id FROM experiments e LEFT JOIN study_experiments m ON m.experiment_id = e.id WHERE e.id = ANY ($1::text[])',
        [ids],
      ),
      this.#store.query<ParamRecord & { experiment_id: string }>(
        'reading params',
        'SELECT experiment_id, key, type, value FROM params WHERE experiment_id = ANY ($1::text[]) ORDER BY experiment_id, key',
        [ids],
      ),
      this.#store.query<SeriesRow & { experiment_id: string }>(
        'reading series',
        `SELECT * FROM (
           SELECT experiment_id, name, kind, count, first_step, last_step, last_timestamp, last_value, min_value, max_value,
                  row_number() OVER (PARTITION BY experiment_id ORDER BY name) AS n
           FROM series WHERE experiment_id = ANY ($1::text[])
         ) AS s WHERE n <= $2 ORDER BY experiment_id, name`,
        [ids, seriesLimit ?? Number.MAX_SAFE_INTEGER],
      ),
    ]);
    for (const e of experiments) out.set(e.id, { params: [], series: [], studyId: e.study_id });
    for (const { experiment_id, ...param } of params) out.get(experiment_id)?.params.push(param);
    for (const row of series) out.get(row.experiment_id)?.series.push(seriesRecord(row));
    return out;
  }

  async listProjects(projects?: readonly string[]): Promise<ProjectCount[]> {
    const rows = await this.#store.query<{ name: string; experiments: number; running: number }>(
      'listing projects',
      `SELECT name, sum(experiments)::int AS experiments, sum(running)::int AS running FROM (
         SELECT project AS name, count(*) AS experiments, count(*) FILTER (WHERE status = 'running') AS running FROM experiments GROUP BY project
         UNION ALL SELECT DISTINCT project, 0, 0 FROM studies
       ) AS p GROUP BY name ORDER BY name`,
      [],
    );
    return projects === undefined ? rows : rows.filter((row) => projects.includes(row.name));
  }
}

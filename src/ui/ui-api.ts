// The UI's API: the JSON answers of the /api/v1/ui routes and of the sweep read routes, shared by the server routes and the browser app (types only).

import type { ExperimentStatus } from '../model/experiment.js';
import type { ExperimentProgress } from '../model/progress.js';
import type { DatasetRecord } from '../model/dataset.js';
import type { JsonNumber, NonFiniteToken } from '../model/json-number.js';
import type { SweepRecord, TrialRecord, TrialReport } from '../model/sweep.js';
import type { BestTrial, HistoryPoint } from '../core/sweep-results.js';
import type { ParamImportance } from '../core/param-importance.js';

export type { BestTrial, HistoryPoint, ParamImportance };

/** How the UI is served: `lablog ui` over a local store (no keys, read-only), or `lablog server` (API keys). */
export type UiMode = 'local' | 'server';

export interface ProjectSummary {
  readonly name: string;
  readonly experiments: number;
  readonly running: number;
}

/** GET /api/v1/ui/overview */
export interface Overview {
  readonly mode: UiMode;
  /** Where the data lives: the store's path for `lablog ui`; empty on a team server. */
  readonly store: string;
  /** Projects the caller may read, with at least one experiment or study, by name. */
  readonly projects: readonly ProjectSummary[];
}

/** A metric series in one line of the experiments table. */
export interface MetricSummary {
  readonly count: number;
  readonly lastStep: number | null;
  /** null for NaN or ±Infinity (JSON has no such numbers) or no point. */
  /** NaN and ±Infinity as their tokens; null: no value. */
  readonly last: JsonNumber | null;
  readonly min: JsonNumber | null;
  readonly max: JsonNumber | null;
}

/** A param's JSON value: boolean, number, string; dates as ISO text; NaN and ±Infinity as text. */
export type ParamValue = boolean | number | string;

/** One line of the experiments table. Times are milliseconds since the epoch. */
export interface ExperimentRow {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly description: string | null;
  /** The stored status, except that a 'running' experiment whose process is gone shows as 'crashed'. */
  readonly status: ExperimentStatus;
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly endedAt: number | null;
  readonly heartbeatAt: number | null;
  /** endedAt (or, while running, the last heartbeat) minus createdAt; null when unknown. */
  readonly durationMs: number | null;
  readonly hostname: string | null;
  readonly studyId: string | null;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly metrics: Readonly<Record<string, MetricSummary>>;
  /** Image and plot series: name → number of points. */
  readonly media: Readonly<Record<string, { readonly kind: 'image' | 'plot'; readonly count: number }>>;
  /** The latest exp.setProgress (pct 0–100, phase, when); null when never set. */
  readonly progress: ExperimentProgress | null;
}

/**
 * GET /api/v1/ui/experiments?project=P — every experiment of the project, newest first (at most MAX_TABLE_ROWS);
 * or ?ids=ID,ID… — those experiments (any readable project, at most MAX_SERIES_EXPERIMENTS), in that order,
 * with project null; ids not found (or not readable) are left out.
 */
export interface ExperimentTable {
  readonly project: string | null;
  /** Experiments in the project. */
  readonly total: number;
  /** total > experiments.length: only the newest MAX_TABLE_ROWS are here. */
  readonly truncated: boolean;
  readonly experiments: readonly ExperimentRow[];
  /** Union of param keys and of metric names over the rows, sorted. */
  readonly paramKeys: readonly string[];
  readonly metricKeys: readonly string[];
}

export interface SeriesInfo {
  readonly name: string;
  readonly kind: 'metric' | 'image' | 'plot';
  readonly count: number;
  readonly firstStep: number | null;
  readonly lastStep: number | null;
  readonly lastTimestamp: number | null;
  /** NaN and ±Infinity as their tokens; null: no value. */
  readonly lastValue: JsonNumber | null;
  readonly minValue: JsonNumber | null;
  readonly maxValue: JsonNumber | null;
}

export interface TableInfo {
  readonly name: string;
  readonly rows: number;
  readonly columns: number;
  readonly loggedAt: number;
}

/** GET /api/v1/ui/experiments/:id — one experiment with everything the experiment page lists. */
export interface ExperimentPage {
  readonly experiment: ExperimentRow;
  readonly series: readonly SeriesInfo[];
  readonly tables: readonly TableInfo[];
  readonly study: { readonly id: string; readonly name: string } | null;
  /** The datasets the experiment logged (references), by role then name. */
  readonly datasets: readonly DatasetRecord[];
  /** True when lablog launched it (a run): GET /api/v1/runs/:id has its launch record and logs. */
  readonly isRun: boolean;
  /** True when the experiment has more series than MAX_SERIES_LISTED (10,000): only the first by name are here. */
  readonly seriesTruncated?: true;
  /** True when it has more tables than MAX_TABLES_LISTED (1,000). */
  readonly tablesTruncated?: true;
}

/** The x axis of a chart: step, wall time (seconds since the epoch), or seconds since the experiment started. */
export type XAxis = 'step' | 'time' | 'relative';

/**
 * GET /api/v1/ui/series?key=K&experiments=ID,ID…&x=step|time|relative&points=N[&from=X&to=X]
 *
 * One metric of several experiments on one shared x grid (uPlot's aligned data). When every point in
 * [from, to] fits in `points` x values, they are all sent (`exact`); otherwise the range is cut into
 * points/2 buckets and each series sends its smallest and largest value per bucket (in the order they
 * occur), so no spike is lost and the browser never gets more than `points` values per series; those
 * values are rounded to 6 significant digits (exact answers carry the stored values as they are).
 */
export interface SeriesAnswer {
  readonly key: string;
  readonly x: XAxis;
  /** True: the values are the stored points; false: min/max per bucket. */
  readonly exact: boolean;
  /** The x values, ascending (steps, or seconds). */
  readonly xs: readonly number[];
  readonly series: readonly {
    readonly experimentId: string;
    /** Aligned with xs; null where the series has no point (or a NaN/±Infinity one). */
    readonly values: readonly (number | null)[];
    /** Points of the series in the range (before downsampling). */
    readonly points: number;
    /** Points of the whole series. */
    readonly total: number;
    /** The series' last stored point (whatever the range): x on this axis, value (NaN and ±Infinity as their tokens). */
    readonly last: { readonly x: number; readonly value: JsonNumber | null } | null;
    /** The series' NaN and ±Infinity points in the range, in x order (the first MAX_NON_FINITE_POINTS): charts mark them. */
    readonly nonFinite: readonly { readonly x: number; readonly value: NonFiniteToken }[];
  }[];
  /** The range the answer covers (the whole data when from/to were not given); null when no point. */
  readonly range: { readonly from: number; readonly to: number } | null;
}

/**
 * GET /api/v1/experiments/:id/tables/data?name=T&format=json&offset=&limit=&columnOffset=&columnLimit=&sort=COL&order=asc|desc
 * (or &column=C&column=D… for named columns): one page of rows × columns, each cell cut to MAX_TABLE_CELL_CHARS
 * (src/server/table-page.ts has every limit).
 */
export interface TablePage {
  readonly name: string;
  /** The page's columns. */
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly Record<string, unknown>[];
  /** Rows in the whole table. */
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  /** Offset of the next page of rows; absent on the last page. */
  readonly next?: number;
  /** Columns in the whole table. */
  readonly totalColumns: number;
  /** Index of the page's first column. */
  readonly columnOffset: number;
  /** Index of the next window of columns; absent on the last. */
  readonly nextColumn?: number;
  /** Cells cut short: index in `rows` and column name. */
  readonly truncatedCells: readonly { readonly row: number; readonly column: string }[];
}

/** POST /api/v1/session { key } starts a server-side session, its random id in an HttpOnly cookie (server mode); DELETE /api/v1/session ends it. */
export interface SessionAnswer {
  readonly projects: readonly string[];
}

/** Most rows the experiments table answers with. */
export const MAX_TABLE_ROWS = 10_000;
/** Most x values a series answer may carry. */
export const MAX_SERIES_POINTS = 4_000;
/** Most experiments in one series request. */
export const MAX_SERIES_EXPERIMENTS = 200;

/** Most sweeps GET /api/v1/sweeps answers with (newest first). */
export const MAX_SWEEPS_LISTED = 1_000;

/** GET /api/v1/sweeps?project=P — the sweeps of the key's projects (or of P), newest first, at most MAX_SWEEPS_LISTED. */
export interface SweepList {
  readonly sweeps: readonly SweepRecord[];
  /** True when there are more than MAX_SWEEPS_LISTED: only the newest are here. */
  readonly truncated: boolean;
}

/**
 * A trial as the sweep routes answer: its record with the count and the last of its intermediate values
 * instead of all of them (a trial keeps up to MAX_TRIAL_REPORTS; the experiment's metric has the series).
 */
export interface TrialSummary extends Omit<TrialRecord, 'reports'> {
  readonly reportCount: number;
  readonly lastReport: TrialReport | null;
}

/** GET /api/v1/sweeps/:id — the sweep, its trials by number and its results (src/core/sweep-results.ts). */
export interface SweepDetail {
  readonly sweep: SweepRecord;
  readonly trials: readonly TrialSummary[];
  readonly best: BestTrial | null;
  readonly history: readonly HistoryPoint[];
  readonly importances: readonly ParamImportance[];
}

/** GET /api/v1/sweeps/:id/trials?status=S,S… — the trials by number (only those with the given statuses). */
export interface SweepTrials {
  readonly trials: readonly TrialSummary[];
}

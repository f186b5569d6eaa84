// The browser's client of the lablog API: typed fetches, with the server's error body as a thrown ApiError.

import type { ErrorCode } from '../../model/error-codes.js';
import { MAX_STUDY_PAGE } from '../../model/study.js';
import type { LogPage, RunAttempt, RunRecord, RunTransition } from '../../model/run.js';
import type {
  ExperimentPage,
  ExperimentRow,
  ExperimentTable,
  Overview,
  SeriesAnswer,
  SessionAnswer,
  SweepDetail,
  SweepList,
  TablePage,
  XAxis,
} from '../ui-api.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The server's error code; HTTP_ERROR when the answer was not a lablog error body (a proxy's page). */
    readonly code: ErrorCode | 'HTTP_ERROR',
    message: string,
  ) {
    super(message);
  }
}

/** Called when the server answers 401: the app shows the login form. */
let onUnauthenticated: () => void = () => {};
export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    // A header no cross-site form can send: the server accepts the session cookie for non-GET requests only with it.
    headers: { 'x-lablog-ui': '1', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) {
    let code: ErrorCode | 'HTTP_ERROR' = 'HTTP_ERROR';
    let message = `${method} ${path}: HTTP ${response.status}`;
    try {
      // The app is served by the server it calls (one build): its codes are this build's codes.
      const error = (await response.json()) as { error?: ErrorCode; message?: string };
      code = error.error ?? code;
      message = error.message ?? message;
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 401) onUnauthenticated();
    throw new ApiError(response.status, code, message);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A map keyed by logged names, without a prototype: a name like 'constructor' or 'toString' finds only what was logged. */
function ownMap<V>(map: Readonly<Record<string, V>>): Readonly<Record<string, V>> {
  return Object.assign(Object.create(null) as Record<string, V>, map);
}

/** An experiment row whose params, metrics and media are looked up by user-chosen names. */
function withOwnMaps(row: ExperimentRow): ExperimentRow {
  return { ...row, params: ownMap(row.params), metrics: ownMap(row.metrics), media: ownMap(row.media) };
}

const q = (params: Record<string, string | number | undefined>): string => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, String(v));
  const text = search.toString();
  return text.length > 0 ? `?${text}` : '';
};

export const api = {
  overview: () => request<Overview>('GET', '/api/v1/ui/overview'),
  experiments: (project: string) =>
    request<ExperimentTable>('GET', `/api/v1/ui/experiments${q({ project })}`).then((t) => ({
      ...t,
      experiments: t.experiments.map(withOwnMaps),
    })),
  experimentsByIds: (ids: readonly string[]) =>
    request<ExperimentTable>('GET', `/api/v1/ui/experiments${q({ ids: ids.join(',') })}`).then((t) => ({
      ...t,
      experiments: t.experiments.map(withOwnMaps),
    })),
  experiment: (id: string) =>
    request<ExperimentPage>('GET', `/api/v1/ui/experiments/${encodeURIComponent(id)}`).then((p) => ({
      ...p,
      experiment: withOwnMaps(p.experiment),
    })),
  series: (key: string, experiments: readonly string[], x: XAxis, points: number, range?: { from: number; to: number }) =>
    request<SeriesAnswer>(
      'GET',
      `/api/v1/ui/series${q({ key, experiments: experiments.join(','), x, points, from: range?.from, to: range?.to })}`,
    ),
  /** One page of a series' images from `fromStep` on; `next` is where the following page starts. */
  images: (id: string, key: string, fromStep?: number) =>
    request<{
      key: string;
      images: { step: number; timestamp: number; caption: string | null; width: number; height: number; url: string }[];
      next?: number;
    }>('GET', `/api/v1/experiments/${encodeURIComponent(id)}/images${q({ key, fromStep })}`),
  /** One page of a plot series' points without their figures. */
  plotIndex: (id: string, key: string, fromStep?: number) =>
    request<{ key: string; plots: { step: number; timestamp: number; caption: string | null; bytes: number }[]; next?: number }>(
      'GET',
      `/api/v1/experiments/${encodeURIComponent(id)}/plots${q({ key, figures: 'false', fromStep })}`,
    ),
  /** The figure of the plot point at `step`. */
  plot: (id: string, key: string, step: number) =>
    request<{ key: string; plots: { step: number; timestamp: number; caption: string | null; figure: unknown }[] }>(
      'GET',
      `/api/v1/experiments/${encodeURIComponent(id)}/plots${q({ key, fromStep: step, limit: 1 })}`,
    ),
  table: (id: string, name: string, page: { offset: number; limit: number; columnOffset: number; sort?: string; order?: 'asc' | 'desc' }) =>
    request<TablePage>('GET', `/api/v1/experiments/${encodeURIComponent(id)}/tables/data${q({ name, format: 'json', ...page })}`),
  studies: (project?: string) =>
    request<{ studies: StudyJson[]; total: number }>('GET', `/api/v1/studies${q({ project, limit: MAX_STUDY_PAGE })}`),
  study: (id: string) => request<StudyDetailJson>('GET', `/api/v1/studies/${encodeURIComponent(id)}`),
  scalingLaw: (id: string) => request<ScalingLawJson>('GET', `/api/v1/studies/${encodeURIComponent(id)}/scaling-law`),
  compareStudy: (id: string, body: { metrics: { name: string; goal: 'minimize' | 'maximize' }[]; experiments?: string[] }) =>
    request<ComparisonJson>('POST', `/api/v1/studies/${encodeURIComponent(id)}/compare`, body),
  /** The sweeps of the readable projects (or of `project`), newest first. */
  sweeps: (project?: string) => request<SweepList>('GET', `/api/v1/sweeps${q({ project })}`),
  /** A sweep with its trials, best trial, history and param importances (404 SWEEP_NOT_FOUND: not a sweep, or not readable). */
  sweep: (id: string) => request<SweepDetail>('GET', `/api/v1/sweeps/${encodeURIComponent(id)}`),
  /** A launched run's record, attempts and transitions (404 RUN_NOT_FOUND: the experiment is not a run). */
  run: (id: string) => request<RunAnswer>('GET', `/api/v1/runs/${encodeURIComponent(id)}`),
  /** Asks the run's supervisor to stop it (the team server only: `lablog ui` is read-only). */
  cancelRun: (id: string) => request<{ run: RunRecord }>('POST', `/api/v1/runs/${encodeURIComponent(id)}/cancel`),
  /** A run's captured lines after `after` (or the last `tail` lines), with the position to read on from. */
  runLogs: (id: string, page: { after?: number; tail?: number; limit?: number }) =>
    request<LogPage>('GET', `/api/v1/runs/${encodeURIComponent(id)}/logs${q(page)}`),
  login: (key: string) => request<SessionAnswer>('POST', '/api/v1/session', { key }),
  logout: () => request<void>('DELETE', '/api/v1/session'),
};

/** GET /api/v1/runs/:id */
export interface RunAnswer {
  run: RunRecord;
  attempts: RunAttempt[];
  transitions: RunTransition[];
}

/** A study as the REST API answers (src/model/study.ts StudyRecord). */
export interface StudyJson {
  id: string;
  project: string;
  name: string;
  description: string | null;
  hypothesis: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  status: 'active' | 'completed' | 'archived';
  baseline: { experimentId: string } | { name: string; metrics: Record<string, number> } | null;
  conclusion: string | null;
  template: unknown;
  archiveReason: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface StudyDetailJson extends StudyJson {
  statistics: {
    total: number;
    completed: number;
    running: number;
    failed: number;
    crashed: number;
    cancelled: number;
    best: { id: string; name: string; metric: string; value: number } | null;
    totalTrainingTimeMs: number;
    meanTrainingTimeMs: number | null;
    totalCost: number | null;
  };
  members: { experimentId: string; notes: string | null; tags: string[]; addedAt: number }[];
}

/** A progressive_scaling study's scaling law (src/core/study-scaling.ts ScalingLawAnalysis; NaN arrives as null). */
export interface ScalingLawJson {
  metric: string;
  objective: 'minimize' | 'maximize';
  sizeParam: string;
  scalingLawAnalysis: boolean;
  points: { experimentId: string; name: string; size: number; value: number; efficiency: Record<string, number | null> }[];
  skipped: { experimentId: string; name: string; reason: string }[];
  fit: {
    a: number;
    b: number;
    c: number;
    standardErrors: { a: number; b: number; c: number } | null;
    confidenceIntervals: { a: [number, number]; b: [number, number]; c: [number, number] } | null;
    confidenceLevel: number;
    rss: number;
    rSquared: number | null;
    n: number;
    degreesOfFreedom: number;
    exponentAtBound: boolean;
  };
  targets: { metric: string; target: number; size: number | null; reason: string | null }[];
}

/** The study comparison (src/core/study-comparison.ts Comparison). */
export interface ComparisonJson {
  experiments: string[];
  values: Record<string, Record<string, { final: number; best: number }>>;
  rankings: Record<string, string[]>;
  statistics: Record<string, { mean: number; std: number; min: number; max: number; n: number }>;
  significance: {
    metric: string;
    groupA: string;
    groupB: string;
    idsA: string[];
    idsB: string[];
    meanA: number;
    meanB: number;
    t: number;
    df: number;
    pValue: number;
  }[];
  correlations: { param: string; metric: string; pearson: number; spearman: number; n: number }[];
  paretoFrontier: string[];
  baseline: { name: string; metrics: Record<string, number> } | null;
  insights: string[];
}

// JSON views: how experiments, params, series and metric columns look in API answers.

import { toJsonNumber, toJsonNumberOrNull, type JsonNumber } from '../model/json-number.js';
import { decodeParam } from '../core/param.js';
import type { DatasetRecord } from '../model/dataset.js';
import type { ParamRecord } from '../model/experiment.js';
import type { MetricData, SeriesRecord } from '../model/series.js';
import type { RemoteExperimentRecord } from '../store/server-backend.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function experimentView(record: RemoteExperimentRecord) {
  return {
    id: record.id,
    project: record.project,
    name: record.name,
    description: record.description,
    tags: record.tags,
    status: record.status,
    version: record.version,
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
    endedAt: iso(record.endedAt),
    heartbeatAt: iso(record.heartbeatAt),
    publishedAt: iso(record.publishedAt),
    hostname: record.hostname,
    progress: record.progress && { pct: record.progress.pct, phase: record.progress.phase, at: iso(record.progress.at) },
  };
}

/** A dataset reference, its time as ISO text. */
export function datasetView(dataset: DatasetRecord) {
  return { ...dataset, loggedAt: iso(dataset.loggedAt) };
}

/** Params as typed JSON values (dates as ISO text); keyed without a prototype, so no stored key is lost or shadowed. */
export function paramsView(params: readonly ParamRecord[]): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const p of params) {
    const value = decodeParam(p);
    out[p.key] = value instanceof Date ? value.toISOString() : Number.isFinite(value) || typeof value !== 'number' ? value : String(value);
  }
  return out;
}

export function seriesView(series: SeriesRecord) {
  return {
    name: series.name,
    kind: series.kind,
    count: series.count,
    firstStep: series.firstStep,
    lastStep: series.lastStep,
    lastTimestamp: series.lastTimestamp,
    lastValue: toJsonNumberOrNull(series.lastValue),
    minValue: toJsonNumberOrNull(series.minValue),
    maxValue: toJsonNumberOrNull(series.maxValue),
  };
}

/** A column as JSON: NaN and ±Infinity as their tokens (model/json-number.ts), never as null. */
function column(values: Float64Array): JsonNumber[] {
  const out = new Array<JsonNumber>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toJsonNumber(values[i]!);
  return out;
}

/** Steps and timestamps are finite by the store's rules; values may be NaN or ±Infinity. */
export function metricView(key: string, data: MetricData) {
  return { key, steps: Array.from(data.steps), values: column(data.values), timestamps: Array.from(data.timestamps) };
}

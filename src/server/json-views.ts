// JSON views: how experiments, params, series and metric columns look in API answers.

import { decodeParam } from '../core/param.js';
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
  };
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
    lastValue: series.lastValue,
    minValue: series.minValue,
    maxValue: series.maxValue,
  };
}

/** JSON numbers cannot be NaN or infinite: those values are null. */
function column(values: Float64Array): (number | null)[] {
  const out = new Array<number | null>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = Number.isFinite(v) ? v : null;
  }
  return out;
}

export function metricView(key: string, data: MetricData) {
  return { key, steps: column(data.steps), values: column(data.values), timestamps: column(data.timestamps) };
}

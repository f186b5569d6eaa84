// Reading an experiment back from its store: params, series, media and tables, with SERIES_NOT_FOUND naming what exists.

import { LablogError } from '../model/errors.js';
import { decodeParam } from './param.js';
import type { ParamValue } from '../model/validation.js';
import type { SeriesSummary } from './experiment-results.js';
import type { ImagePoint, MetricData, PlotPoint, SeriesKind, SeriesRecord } from '../model/series.js';
import type { StoreBackend } from '../store/backend.js';

/** The experiment a read is about: its store, id and name (for the errors). */
export interface ReadTarget {
  readonly backend: StoreBackend;
  readonly id: string;
  readonly name: string;
}

export function readParams({ backend, id }: ReadTarget): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = {};
  for (const record of backend.readParams(id)) params[record.key] = decodeParam(record);
  return params;
}

export function readSeriesSummaries({ backend, id }: ReadTarget): SeriesSummary[] {
  return backend.readSeries(id).map((series: SeriesRecord) => ({
    name: series.name,
    kind: series.kind,
    count: series.count,
    firstStep: series.firstStep,
    lastStep: series.lastStep,
    lastValue: series.kind === 'metric' ? (series.count > 0 ? (series.lastValue ?? Number.NaN) : null) : null,
    minValue: series.minValue,
    maxValue: series.maxValue,
  }));
}

export function readMetric(target: ReadTarget, key: string): MetricData {
  const data = target.backend.readMetric(target.id, key);
  if (data === undefined) throw seriesNotFound(target, key, 'metric');
  return data;
}

export function readImages(target: ReadTarget, key: string): ImagePoint[] {
  // A point gone between the listing and its read (dropped by another process) is left out, not answered without bytes.
  const points = target.backend.listImages(target.id, key).flatMap(({ hash: _, ...meta }) => {
    const png = target.backend.readImage(target.id, key, meta.step);
    return png === undefined ? [] : [{ ...meta, png }];
  });
  if (points.length === 0 && !hasSeries(target, key, 'image')) throw seriesNotFound(target, key, 'image');
  return points;
}

export function readPlots(target: ReadTarget, key: string): PlotPoint[] {
  const points = target.backend.readPlots(target.id, key);
  if (points.length === 0 && !hasSeries(target, key, 'plot')) throw seriesNotFound(target, key, 'plot');
  return points;
}

/** A logged table's Arrow IPC bytes. */
export function readTableBytes({ backend, id, name }: ReadTarget, key: string): Buffer {
  const record = backend.readTable(id, key);
  if (record === undefined) {
    const known = backend.listTables(id).map((t) => t.name);
    throw new LablogError('SERIES_NOT_FOUND', `experiment '${name}' has no table '${key}' (tables: ${known.join(', ') || 'none'})`, {
      experiment: name,
      key,
    });
  }
  return record.ipc;
}

function hasSeries({ backend, id }: ReadTarget, key: string, kind: SeriesKind): boolean {
  return backend.readSeries(id).some((s) => s.name === key && s.kind === kind);
}

function seriesNotFound({ backend, id, name }: ReadTarget, key: string, kind: SeriesKind): LablogError {
  const known = backend
    .readSeries(id)
    .filter((s) => s.kind === kind)
    .map((s) => s.name);
  return new LablogError(
    'SERIES_NOT_FOUND',
    `experiment '${name}' has no ${kind} series '${key}' (${kind} series: ${known.join(', ') || 'none'})`,
    { experiment: name, key },
  );
}

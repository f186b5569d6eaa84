// Buffer: what an experiment logged but has not yet written, in columns, with its flush thresholds.

import type {
  ImagePointRecord,
  MetricChunk,
  ParamRecord,
  PlotPointRecord,
  TableRecord,
  WriteBatch,
} from '../store/backend.js';

/** A timer flushes pending writes at least this often. */
export const FLUSH_INTERVAL_MS = 500;
/** A log call that brings the buffered metric points to this count flushes them at once. */
export const FLUSH_AT_POINTS = 16_384;
/** A log call that brings buffered image, plot and table bytes to this size flushes them at once. */
export const FLUSH_AT_BYTES = 8 * 1024 * 1024;
/**
 * Hard cap on metric points held in memory while the store cannot take them (disk full, store locked):
 * past it new points are dropped and counted, never buffered without bound.
 */
export const MAX_BUFFERED_POINTS = 1_048_576;

const INITIAL_CAPACITY = 64;

/** One metric series: its last step and the points not yet written, in growable columns. */
export class MetricSeriesBuffer {
  readonly name: string;
  lastStep: number;
  length = 0;
  steps = new Float64Array(INITIAL_CAPACITY);
  values = new Float64Array(INITIAL_CAPACITY);
  timestamps = new Float64Array(INITIAL_CAPACITY);

  constructor(name: string, lastStep: number) {
    this.name = name;
    this.lastStep = lastStep;
  }

  push(step: number, value: number, timestamp: number): void {
    const i = this.length;
    if (i === this.steps.length) this.#grow();
    this.steps[i] = step;
    this.values[i] = value;
    this.timestamps[i] = timestamp;
    this.length = i + 1;
    this.lastStep = step;
  }

  /** Hands the pending points over as a chunk (copied) and empties the buffer, keeping its capacity. */
  drain(): MetricChunk {
    const n = this.length;
    this.length = 0;
    return {
      name: this.name,
      steps: this.steps.slice(0, n),
      values: this.values.slice(0, n),
      timestamps: this.timestamps.slice(0, n),
    };
  }

  #grow(): void {
    const capacity = this.steps.length * 2;
    const grow = (old: Float64Array) => {
      const next = new Float64Array(capacity);
      next.set(old);
      return next;
    };
    this.steps = grow(this.steps);
    this.values = grow(this.values);
    this.timestamps = grow(this.timestamps);
  }
}

/** Pending writes of one experiment. */
export class WriteBuffer {
  readonly metrics = new Map<string, MetricSeriesBuffer>();
  readonly params = new Map<string, ParamRecord>();
  images: ImagePointRecord[] = [];
  plots: PlotPointRecord[] = [];
  readonly tables = new Map<string, TableRecord>();
  /** Metric points buffered in `metrics`. */
  points = 0;
  /** Bytes of images, plots and tables buffered. */
  bytes = 0;

  get isEmpty(): boolean {
    return (
      this.points === 0 &&
      this.params.size === 0 &&
      this.images.length === 0 &&
      this.plots.length === 0 &&
      this.tables.size === 0
    );
  }

  /** Takes everything pending as one batch and empties the buffer. */
  take(experimentId: string, now: number): WriteBatch {
    const metrics: MetricChunk[] = [];
    if (this.points > 0) {
      for (const series of this.metrics.values()) if (series.length > 0) metrics.push(series.drain());
    }
    const batch: WriteBatch = {
      experimentId,
      params: [...this.params.values()],
      metrics,
      images: this.images,
      plots: this.plots,
      tables: [...this.tables.values()],
      heartbeatAt: now,
    };
    this.params.clear();
    this.tables.clear();
    this.images = [];
    this.plots = [];
    this.points = 0;
    this.bytes = 0;
    return batch;
  }
}

/** Metric points in a batch. */
export function batchPoints(batch: WriteBatch): number {
  let n = 0;
  for (const chunk of batch.metrics) n += chunk.steps.length;
  return n;
}

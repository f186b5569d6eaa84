// Buffer: what an experiment logged but has not yet written, in columns, with its flush thresholds.

import type { ParamRecord } from '../model/experiment.js';
import type { ImagePointRecord, MetricChunk, PlotPointRecord } from '../model/series.js';
import type { TableRecord } from '../model/table.js';
import type { WriteBatch } from '../store/backend.js';

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
/** Column arrays kept for reuse, per capacity; past this they are left to the garbage collector. */
const POOLED_PER_CAPACITY = 96;

/**
 * Reuse of column arrays: a flush hands its arrays to the writer, which gives their memory back once
 * written. A training loop then allocates nothing per flush (no copies, no garbage, no GC pauses).
 */
export const columnPool = {
  free: new Map<number, Float64Array[]>(),
  take(capacity: number): Float64Array {
    return this.free.get(capacity)?.pop() ?? new Float64Array(capacity);
  },
  give(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) {
      const capacity = buffer.byteLength / 8;
      let list = this.free.get(capacity);
      if (list === undefined) this.free.set(capacity, (list = []));
      if (list.length < POOLED_PER_CAPACITY) list.push(new Float64Array(buffer));
    }
  },
};

/** One metric series: its last step and the points not yet written, in growable columns. */
export class MetricSeriesBuffer {
  readonly name: string;
  lastStep: number;
  length = 0;
  steps: Float64Array = columnPool.take(INITIAL_CAPACITY);
  values: Float64Array = columnPool.take(INITIAL_CAPACITY);
  timestamps: Float64Array = columnPool.take(INITIAL_CAPACITY);

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

  /**
   * Hands the pending points over as a chunk (views on the buffer's own arrays, which the writer takes)
   * and continues in arrays of the same capacity from the pool.
   */
  drain(): MetricChunk {
    const n = this.length;
    const capacity = this.steps.length;
    const chunk = {
      name: this.name,
      steps: this.steps.subarray(0, n),
      values: this.values.subarray(0, n),
      timestamps: this.timestamps.subarray(0, n),
    };
    this.length = 0;
    this.steps = columnPool.take(capacity);
    this.values = columnPool.take(capacity);
    this.timestamps = columnPool.take(capacity);
    return chunk;
  }

  #grow(): void {
    const capacity = this.steps.length * 2;
    const grow = (old: Float64Array) => {
      const next = columnPool.take(capacity);
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
    return this.points === 0 && this.params.size === 0 && this.images.length === 0 && this.plots.length === 0 && this.tables.size === 0;
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

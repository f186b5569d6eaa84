// Buffer: what an experiment logged but has not yet written, in columns, with its flush thresholds.

import type { ParamRecord } from '../model/experiment.js';
import type { ImagePointRecord, MetricChunk, PlotPointRecord } from '../model/series.js';
import type { TableRecord } from '../model/table.js';
import type { ExperimentProgress } from '../model/progress.js';
import type { DatasetRecord } from '../model/dataset.js';
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
/** Column memory kept for reuse, in bytes; past this, slabs given back are left to the garbage collector. */
const POOLED_BYTES = 8 * 1024 * 1024;
/** Each series has three columns (steps, values, timestamps), laid out one after the other in a slab. */
const COLUMNS = 3;

/**
 * Reuse of column memory. A flush hands the slabs holding its columns to the writer, which gives them back
 * once written; the next flush takes a slab of the same length from here. One slab per flush (not three
 * arrays per series): an ArrayBuffer allocation costs about 8 µs, so 30 of them made every flush of 10
 * series a 0.3 ms log call.
 */
export const columnPool = {
  free: new Map<number, Float64Array[]>(),
  bytes: 0,
  /** A slab of `length` float64s: a pooled one, else a new one. */
  take(length: number): Float64Array {
    const pooled = this.free.get(length)?.pop();
    if (pooled === undefined) return new Float64Array(length);
    this.bytes -= pooled.byteLength;
    return pooled;
  },
  /** Forgets every pooled slab. */
  clear(): void {
    this.free.clear();
    this.bytes = 0;
  },
  give(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) {
      if (this.bytes + buffer.byteLength > POOLED_BYTES) continue;
      const length = buffer.byteLength / 8;
      let list = this.free.get(length);
      if (list === undefined) this.free.set(length, (list = []));
      list.push(new Float64Array(buffer));
      this.bytes += buffer.byteLength;
    }
  },
};

/** One metric series: its last step and the points not yet written, in growable columns (views on a slab). */
export class MetricSeriesBuffer {
  readonly name: string;
  lastStep: number;
  length = 0;
  steps!: Float64Array;
  values!: Float64Array;
  timestamps!: Float64Array;

  constructor(name: string, lastStep: number) {
    this.name = name;
    this.lastStep = lastStep;
    this.place(columnPool.take(COLUMNS * INITIAL_CAPACITY), 0, INITIAL_CAPACITY);
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

  /** The room for points before the series must grow. */
  get capacity(): number {
    return this.steps.length;
  }

  /** Hands the pending points over as a chunk: views on the series' columns, whose slab the writer takes. */
  drain(): MetricChunk {
    const n = this.length;
    this.length = 0;
    return {
      name: this.name,
      steps: this.steps.subarray(0, n),
      values: this.values.subarray(0, n),
      timestamps: this.timestamps.subarray(0, n),
    };
  }

  /** Moves the (empty) series' columns into `slab` at `offset`: three columns of `capacity` each. */
  place(slab: Float64Array, offset: number, capacity: number): void {
    this.steps = slab.subarray(offset, offset + capacity);
    this.values = slab.subarray(offset + capacity, offset + 2 * capacity);
    this.timestamps = slab.subarray(offset + 2 * capacity, offset + COLUMNS * capacity);
  }

  #grow(): void {
    const capacity = this.steps.length * 2;
    const { steps, values, timestamps } = this;
    this.place(columnPool.take(COLUMNS * capacity), 0, capacity);
    this.steps.set(steps);
    this.values.set(values);
    this.timestamps.set(timestamps);
  }
}

/** Pending writes of one experiment. */
export class WriteBuffer {
  readonly metrics = new Map<string, MetricSeriesBuffer>();
  readonly params = new Map<string, ParamRecord>();
  images: ImagePointRecord[] = [];
  plots: PlotPointRecord[] = [];
  readonly tables = new Map<string, TableRecord>();
  /** The latest progress set since the last batch (the latest value wins). */
  progress: ExperimentProgress | undefined;
  /** Datasets logged since the last batch, by role and name (logging one again replaces it). */
  readonly datasets = new Map<string, DatasetRecord>();
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
      this.tables.size === 0 &&
      this.progress === undefined &&
      this.datasets.size === 0
    );
  }

  /**
   * Takes everything pending as one batch and empties the buffer. When metric points go, every series
   * moves into one new slab (the old ones go to the writer with the chunks): a series that logged keeps
   * its capacity, an idle one shrinks back to the initial capacity.
   */
  take(experimentId: string, now: number): WriteBatch {
    const metrics: MetricChunk[] = [];
    if (this.points > 0) {
      let length = 0;
      for (const series of this.metrics.values()) length += COLUMNS * (series.length > 0 ? series.capacity : INITIAL_CAPACITY);
      const slab = columnPool.take(length);
      let offset = 0;
      for (const series of this.metrics.values()) {
        const capacity = series.length > 0 ? series.capacity : INITIAL_CAPACITY;
        if (series.length > 0) metrics.push(series.drain());
        series.place(slab, offset, capacity);
        offset += COLUMNS * capacity;
      }
    }
    const batch: WriteBatch = {
      experimentId,
      params: [...this.params.values()],
      metrics,
      images: this.images,
      plots: this.plots,
      tables: [...this.tables.values()],
      heartbeatAt: now,
      ...(this.progress ? { progress: this.progress } : {}),
      ...(this.datasets.size > 0 ? { datasets: [...this.datasets.values()] } : {}),
    };
    this.progress = undefined;
    this.datasets.clear();
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

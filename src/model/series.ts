// Series as records: kinds, metric chunks and data, image and plot points, and a series' stored summary.

export const SERIES_KINDS = ['metric', 'image', 'plot'] as const;
export type SeriesKind = (typeof SERIES_KINDS)[number];

/**
 * Consecutive points of one metric series, in columns; the unit of writing and reading. The arrays may be
 * views on larger buffers; a BatchWriter takes those buffers over and may give them back (onRecycle).
 */
export interface MetricChunk {
  readonly name: string;
  readonly steps: Float64Array;
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
}

export interface ImagePointRecord {
  readonly name: string;
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
}

export interface PlotPointRecord {
  readonly name: string;
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  /** The Plotly figure as JSON text. */
  readonly figure: string;
}

export interface SeriesRecord {
  readonly name: string;
  readonly kind: SeriesKind;
  readonly count: number;
  readonly firstStep: number | null;
  readonly lastStep: number | null;
  readonly lastTimestamp: number | null;
  /** Metric series only: last, smallest and largest value (NaN ignored for min/max). */
  readonly lastValue: number | null;
  readonly minValue: number | null;
  readonly maxValue: number | null;
}

export interface MetricData {
  readonly steps: Float64Array;
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
}

/** An image as read back: its record without the series name. */
export type ImagePoint = Omit<ImagePointRecord, 'name'>;

export interface PlotPoint {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  readonly figure: unknown;
}

/** An image point without its bytes: what a listing of an image series returns (its PNG is read by step). */
export interface ImageMeta {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  readonly width: number;
  readonly height: number;
  readonly hash: string;
}

/** A plot point without its figure: step, time, caption and the figure's size. */
export interface PlotMeta {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  /** Bytes of the figure's JSON text. */
  readonly bytes: number;
}

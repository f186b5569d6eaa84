// An experiment's per-series state and budgets: the kind and last step of every series, its params, and the counts its limits are checked against.

import { LablogError } from '../model/errors.js';
import { budgetWarningAt, type Limits } from '../model/limits.js';
import { checkCaption, checkName, checkStep } from '../model/validation.js';
import { MetricSeriesBuffer } from './buffer.js';
import { stepNotIncreasing } from './experiment-problems.js';
import type { MediaOptions } from './experiment-options.js';
import type { SeriesKind } from '../model/series.js';
import type { StoreBackend } from '../store/backend.js';

/** Where an image or plot goes: its step, the time of the call, its caption. */
export interface MediaSlot {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
}

/**
 * Fields, not accessors: logMetric reads and bumps the metric count on every call. Metric series keep
 * their last step in their buffer (`metrics`, the write buffer's map), image and plot series here.
 */
export class SeriesState {
  /** Kind of every series name in use; names are unique across kinds within an experiment. */
  readonly kinds = new Map<string, SeriesKind>();
  /** Last step of image and plot series. */
  readonly mediaLastStep = new Map<string, number>();
  readonly paramKeys = new Set<string>();
  metricCount = 0;
  /** The counts at which the budget warnings are given (budgetWarningAt of the limits). */
  metricWarnAt = 0;
  paramWarnAt = 0;

  constructor(readonly metrics: Map<string, MetricSeriesBuffer>) {}

  /** Sets the warning thresholds for these limits. */
  useLimits(limits: Limits): void {
    this.metricWarnAt = budgetWarningAt(limits.maxMetricValues);
    this.paramWarnAt = budgetWarningAt(limits.maxParams);
  }

  /** Rebuilds per-series steps and budget counts from the store (a new or resumed experiment). */
  load(backend: StoreBackend, experimentId: string): void {
    for (const series of backend.readSeries(experimentId)) {
      this.kinds.set(series.name, series.kind);
      const lastStep = series.lastStep ?? -1;
      if (series.kind === 'metric') {
        this.metrics.set(series.name, new MetricSeriesBuffer(series.name, lastStep));
        this.metricCount += series.count;
      } else {
        this.mediaLastStep.set(series.name, lastStep);
      }
    }
    for (const param of backend.readParams(experimentId)) this.paramKeys.add(param.key);
  }

  /** Forgets everything (before a resume loads the truncated store again). */
  clear(): void {
    this.metrics.clear();
    this.kinds.clear();
    this.mediaLastStep.clear();
    this.paramKeys.clear();
    this.metricCount = 0;
  }

  /** Whether `key` may hold a series of `kind`: a name of the right form, not used by another kind. */
  checkSeriesName(key: string, kind: SeriesKind, maxNameLength: number): LablogError | undefined {
    const existing = this.kinds.get(key);
    if (existing === kind) return undefined;
    if (existing !== undefined) {
      return new LablogError(
        'SERIES_KIND_MISMATCH',
        `series '${key}' already holds ${existing} values; a ${kind} series needs another name`,
        { key, actual: kind, expected: existing },
      );
    }
    return checkName(`${kind} name`, key, maxNameLength);
  }

  /** A new metric series' buffer, or why the name cannot have one. */
  openMetricSeries(key: string, maxNameLength: number): MetricSeriesBuffer | LablogError {
    const error = this.checkSeriesName(key, 'metric', maxNameLength);
    if (error) return error;
    const series = new MetricSeriesBuffer(key, -1);
    this.metrics.set(key, series);
    this.kinds.set(key, 'metric');
    return series;
  }

  /** Validates the name and step of an image or plot at the call, and takes the step and time. */
  reserveMediaStep(key: string, kind: 'image' | 'plot', options: MediaOptions | undefined, maxNameLength: number): MediaSlot | LablogError {
    const error = this.checkSeriesName(key, kind, maxNameLength);
    if (error) return error;
    const lastStep = this.mediaLastStep.get(key) ?? -1;
    let step = lastStep + 1;
    if (options?.step !== undefined) {
      const stepError = checkStep(key, options.step);
      if (stepError) return stepError;
      step = options.step;
    }
    if (step <= lastStep) return stepNotIncreasing(key, step, lastStep);
    const caption = options?.caption ?? null;
    const captionError = checkCaption(key, caption);
    if (captionError) return captionError;
    this.kinds.set(key, kind);
    this.mediaLastStep.set(key, step);
    return { step, timestamp: Date.now(), caption };
  }
}

// Ingest plan: decides, from what a store holds, which points of a batch to store, skip or reject (shared by every server store).

import { LablogError } from '../model/errors.js';
import type { Limits } from '../model/limits.js';
import { checkName } from '../model/validation.js';
import type { MetricChunk, SeriesKind } from '../model/series.js';
import type {
  IngestBatch,
  IngestImagePoint,
  IngestMedia,
  IngestPlotPoint,
  IngestResult,
  IngestTable,
  RejectedItem,
  SeriesState,
} from './server-backend.js';

/** What the store holds of the batch's experiment, read inside the transaction that will write. */
export interface StoredState {
  readonly series: ReadonlyMap<string, SeriesState>;
  /** Metric values stored across all the experiment's metric series. */
  readonly metricCount: number;
  /** logged_at of each stored table. */
  readonly tables: ReadonlyMap<string, number>;
}

export interface IngestPlan {
  readonly metrics: MetricChunk[];
  readonly images: (IngestImagePoint & { readonly name: string })[];
  readonly plots: (IngestPlotPoint & { readonly name: string })[];
  readonly tables: IngestTable[];
  readonly result: IngestResult;
}

/** The item `name` of `kind` refused with `error`: its code, message and details (one place for every refusal an ingest answers). */
export function rejection(kind: RejectedItem['kind'], name: string, error: LablogError): RejectedItem {
  return { kind, name, error: error.code, message: error.message, details: { ...error.details } } as RejectedItem;
}

/** Steps must be integers >= 0, strictly increasing; timestamps finite. Returns the first violation. */
function checkPoints(name: string, steps: ArrayLike<number>, timestamps: ArrayLike<number>): LablogError | undefined {
  let previous = -1;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (!Number.isSafeInteger(step) || step < 0) {
      return new LablogError('INVALID_STEP', `step for '${name}' must be an integer >= 0, got ${step}`, { key: name, actual: step });
    }
    if (step <= previous) {
      return new LablogError('STEP_NOT_INCREASING', `steps of '${name}' must increase strictly: ${step} follows ${previous}`, {
        key: name,
        step,
        lastStep: previous,
      });
    }
    previous = step;
    if (!Number.isFinite(timestamps[i]!)) {
      return new LablogError('INVALID_OPTION', `timestamp for '${name}' at step ${step} is not finite`, { key: name, step });
    }
  }
  return undefined;
}

/** Index of the first step greater than `lastStep` (steps are increasing). */
function firstAfter(steps: ArrayLike<number>, lastStep: number | null): number {
  if (lastStep === null) return 0;
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (steps[mid]! <= lastStep) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Plans a batch against stored state: points at or before a series' last stored step are skipped (that is
 * what makes re-sending harmless); the rest must follow the step rules and fit the limits, or the whole
 * series item is rejected and reported while the other items are stored.
 */
export function planIngest(batch: IngestBatch, stored: StoredState, limits: Limits): IngestPlan {
  const states = new Map(stored.series);
  const rejected: RejectedItem[] = [];
  const touched = new Set<string>();
  let accepted = 0;
  let skipped = 0;
  let metricCount = stored.metricCount;

  /** Common checks of a series item; returns the index of its first new point, or undefined if rejected. */
  const admit = (kind: SeriesKind, name: string, after: number | null, steps: ArrayLike<number>, timestamps: ArrayLike<number>) => {
    touched.add(name);
    const nameError = checkName('series name', name, limits.maxNameLength);
    if (nameError) return void rejected.push(rejection(kind, String(name), nameError));
    const state = states.get(name);
    if (state && state.kind !== kind) {
      return void rejected.push(
        rejection(
          kind,
          name,
          new LablogError('SERIES_KIND_MISMATCH', `series '${name}' is a ${state.kind} series, not a ${kind} series`, { key: name }),
        ),
      );
    }
    const lastStep = state?.lastStep ?? null;
    if (after !== null && (lastStep === null || lastStep < after)) {
      return void rejected.push(
        rejection(
          kind,
          name,
          new LablogError(
            'SYNC_CONFLICT',
            `the client was told step ${after} of '${name}' is stored, but the server's last step is ${lastStep ?? 'none'}; send again from there`,
            { key: name, after, serverLastStep: lastStep },
          ),
        ),
      );
    }
    const pointError = checkPoints(name, steps, timestamps);
    if (pointError) return void rejected.push(rejection(kind, name, pointError));
    const from = firstAfter(steps, lastStep);
    skipped += from;
    return from;
  };

  const metrics: MetricChunk[] = [];
  for (const item of batch.metrics) {
    const from = admit('metric', item.name, item.after, item.steps, item.timestamps);
    if (from === undefined) continue;
    const n = item.steps.length - from;
    if (n === 0) continue;
    if (metricCount + n > limits.maxMetricValues) {
      rejected.push(
        rejection(
          'metric',
          item.name,
          new LablogError(
            'LIMIT_EXCEEDED',
            `'${item.name}': ${n} more metric values would make ${metricCount + n}; the limit is ${limits.maxMetricValues} (maxMetricValues)`,
            { key: item.name, limit: limits.maxMetricValues, actual: metricCount + n },
          ),
        ),
      );
      continue;
    }
    metricCount += n;
    accepted += n;
    metrics.push({
      name: item.name,
      steps: item.steps.subarray(from),
      values: item.values.subarray(from),
      timestamps: item.timestamps.subarray(from),
    });
    const before = states.get(item.name);
    states.set(item.name, {
      name: item.name,
      kind: 'metric',
      count: (before?.count ?? 0) + n,
      lastStep: item.steps[item.steps.length - 1]!,
    });
  }

  const planMedia = <P extends IngestImagePoint | IngestPlotPoint>(kind: 'image' | 'plot', items: readonly IngestMedia<P>[]) => {
    const out: (P & { name: string })[] = [];
    for (const item of items) {
      const steps = item.points.map((p) => p.step);
      const from = admit(
        kind,
        item.name,
        item.after,
        steps,
        item.points.map((p) => p.timestamp),
      );
      if (from === undefined) continue;
      const fresh = item.points.slice(from);
      if (fresh.length === 0) continue;
      accepted += fresh.length;
      for (const point of fresh) out.push({ ...point, name: item.name });
      const before = states.get(item.name);
      states.set(item.name, { name: item.name, kind, count: (before?.count ?? 0) + fresh.length, lastStep: steps[steps.length - 1]! });
    }
    return out;
  };
  const images = planMedia('image', batch.images);
  const plots = planMedia('plot', batch.plots);

  const tables: IngestTable[] = [];
  const tableTimes = new Map(stored.tables);
  for (const table of batch.tables) {
    const nameError = checkName('table name', table.name, limits.maxNameLength);
    if (nameError) {
      rejected.push(rejection('table', String(table.name), nameError));
      continue;
    }
    if (table.rows > limits.maxTableRows) {
      rejected.push(
        rejection(
          'table',
          table.name,
          new LablogError(
            'LIMIT_EXCEEDED',
            `table '${table.name}' has ${table.rows} rows; the limit is ${limits.maxTableRows} (maxTableRows)`,
            {
              key: table.name,
              limit: limits.maxTableRows,
              actual: table.rows,
            },
          ),
        ),
      );
      continue;
    }
    const storedAt = tableTimes.get(table.name);
    if (storedAt !== undefined && storedAt >= table.loggedAt) {
      skipped++;
      continue;
    }
    accepted++;
    tableTimes.set(table.name, table.loggedAt);
    const earlier = tables.findIndex((t) => t.name === table.name);
    if (earlier >= 0) {
      // The same table twice in one batch: the later one is stored, the earlier one counts as skipped (as it
      // would, had it come after), so every table of a batch is counted once whatever their order.
      tables.splice(earlier, 1);
      accepted--;
      skipped++;
    }
    tables.push(table);
  }

  const series = [...touched].flatMap((name) => {
    const state = states.get(name);
    return state ? [state] : [];
  });
  return { metrics, images, plots, tables, result: { series, accepted, skipped, rejected } };
}

/** Fails INVALID_STEP unless a truncation's fromStep is an integer >= 0 (steps are), in every server store alike. */
export function assertTruncateStep(fromStep: number): void {
  if (!Number.isSafeInteger(fromStep) || fromStep < 0) {
    throw new LablogError('INVALID_STEP', `truncate: fromStep must be an integer >= 0, got ${fromStep}`, { actual: fromStep });
  }
}

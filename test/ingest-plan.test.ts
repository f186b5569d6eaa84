// The ingest plan on its own: what a server store keeps, skips and rejects of a batch, given what it holds.

import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/model/limits.js';
import { planIngest, type StoredState } from '../src/store/ingest-plan.js';
import type { IngestBatch, IngestMetric } from '../src/store/server-backend.js';

const f64 = (values: number[]) => Float64Array.from(values);
const metric = (name: string, after: number | null, steps: number[]): IngestMetric => ({
  name,
  after,
  steps: f64(steps),
  values: f64(steps.map((s) => s * 10)),
  timestamps: f64(steps.map((s) => 1_000 + s)),
});
const batch = (parts: Partial<IngestBatch>): IngestBatch => ({
  experimentId: 'e',
  metrics: [],
  images: [],
  plots: [],
  tables: [],
  ...parts,
});
const empty: StoredState = { series: new Map(), metricCount: 0, tables: new Map() };

describe('planIngest', () => {
  it('keeps only the points after the stored last step', () => {
    const stored: StoredState = {
      series: new Map([['m', { name: 'm', kind: 'metric', count: 3, lastStep: 2 }]]),
      metricCount: 3,
      tables: new Map(),
    };
    const plan = planIngest(batch({ metrics: [metric('m', 2, [1, 2, 3, 4])] }), stored, DEFAULT_LIMITS);
    expect([...plan.metrics[0]!.steps]).toEqual([3, 4]);
    expect([...plan.metrics[0]!.values]).toEqual([30, 40]);
    expect(plan.result).toEqual({ series: [{ name: 'm', kind: 'metric', count: 5, lastStep: 4 }], accepted: 2, skipped: 2, rejected: [] });
  });

  it('stores nothing twice: the same batch planned against its own result skips everything', () => {
    const first = planIngest(batch({ metrics: [metric('m', null, [0, 1, 2])] }), empty, DEFAULT_LIMITS);
    const after: StoredState = { series: new Map(first.result.series.map((s) => [s.name, s])), metricCount: 3, tables: new Map() };
    const second = planIngest(batch({ metrics: [metric('m', null, [0, 1, 2])] }), after, DEFAULT_LIMITS);
    expect(second.metrics).toEqual([]);
    expect(second.result).toMatchObject({ accepted: 0, skipped: 3, rejected: [] });
  });

  it('rejects a series whose watermark is ahead of the store (SYNC_CONFLICT) and keeps the others', () => {
    const plan = planIngest(batch({ metrics: [metric('behind', 5, [6]), metric('fresh', null, [0])] }), empty, DEFAULT_LIMITS);
    expect(plan.result.rejected).toEqual([
      expect.objectContaining({
        kind: 'metric',
        name: 'behind',
        error: 'SYNC_CONFLICT',
        details: expect.objectContaining({ after: 5, serverLastStep: null }),
      }),
    ]);
    expect(plan.metrics.map((m) => m.name)).toEqual(['fresh']);
  });

  it('counts the metric budget across series of one batch', () => {
    const limits = { ...DEFAULT_LIMITS, maxMetricValues: 4 };
    const plan = planIngest(batch({ metrics: [metric('a', null, [0, 1, 2]), metric('b', null, [0, 1])] }), empty, limits);
    expect(plan.metrics.map((m) => m.name)).toEqual(['a']);
    expect(plan.result.rejected).toEqual([
      expect.objectContaining({ name: 'b', error: 'LIMIT_EXCEEDED', details: expect.objectContaining({ limit: 4, actual: 5 }) }),
    ]);
  });

  it('stores the newest of tables with one name in a batch, and counts each table once, in whatever order', () => {
    const table = (loggedAt: number, hash: string) => ({ name: 't', hash, rows: 1, columns: 1, loggedAt });
    const [older, newest, oldest] = [table(1, 'a'.repeat(64)), table(2, 'b'.repeat(64)), table(0, 'c'.repeat(64))];
    const orders = [
      [older, newest, oldest],
      [oldest, older, newest],
      [newest, older, oldest],
      [older, oldest, newest],
    ];
    for (const tables of orders) {
      const plan = planIngest(batch({ tables }), empty, DEFAULT_LIMITS);
      const order = tables.map((t) => t.loggedAt).join(',');
      expect(plan.tables, order).toEqual([newest]);
      // One stored; the two older ones skipped (a newer one is stored), whether they came before it or after.
      expect(plan.result, order).toMatchObject({ accepted: 1, skipped: 2, rejected: [] });
    }
  });
});

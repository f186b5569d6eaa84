import { describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import pl from 'nodejs-polars';
import { ErrorHandlerType, LablogError, LablogWarning, type Experiment, type LablogErrorCode } from '../src/index.js';
import { tempStore, warnings } from './helpers.js';

interface Case {
  code: LablogErrorCode;
  /** Makes one error of this code; returns a promise for async methods. */
  trigger: (exp: Experiment, ctx: { path: string }) => unknown;
  limits?: Record<string, number>;
  /** Undo whatever the trigger left behind (a lock), before checking that logging goes on. */
  after?: () => void;
}

let lock: Database.Database | undefined;
function holdWriteLock(path: string): void {
  lock = new Database(path);
  lock.exec('BEGIN IMMEDIATE');
}
function releaseWriteLock(): void {
  lock?.exec('ROLLBACK');
  lock?.close();
  lock = undefined;
}

const CASES: Case[] = [
  { code: 'INVALID_NAME', trigger: (e) => e.logMetric('', 1) },
  { code: 'INVALID_NAME', trigger: (e) => e.logParam('x'.repeat(101), 1) },
  { code: 'INVALID_NAME', trigger: (e) => e.logMetric('bad\nname', 1) },
  { code: 'INVALID_PARAM_VALUE', trigger: (e) => e.logParam('p', { nested: true } as never) },
  { code: 'INVALID_METRIC_VALUE', trigger: (e) => e.logMetric('m', '0.5' as never) },
  { code: 'INVALID_STEP', trigger: (e) => e.logMetric('m', 1, { step: 1.5 }) },
  {
    code: 'STEP_NOT_INCREASING',
    trigger: (e) => {
      e.logMetric('m', 1, { step: 5 });
      e.logMetric('m', 2, { step: 5 });
    },
  },
  { code: 'INVALID_IMAGE', trigger: (e) => e.logImage('img', Buffer.from('not a png at all')) },
  { code: 'INVALID_PLOT', trigger: (e) => e.logPlot('plot', { layout: {} } as never) },
  { code: 'INVALID_TABLE', trigger: (e) => e.logTable('table', [{ a: 1 }] as never) },
  {
    code: 'LIMIT_EXCEEDED',
    limits: { maxParams: 1 },
    trigger: (e) => {
      e.logParam('first', 1);
      e.logParam('second', 2);
    },
  },
  {
    code: 'SERIES_KIND_MISMATCH',
    trigger: (e) => {
      e.logMetric('shared', 1);
      e.logPlot('shared', { data: [] });
    },
  },
  {
    code: 'EXPERIMENT_CLOSED',
    trigger: async (e) => {
      await e.close();
      e.logMetric('m', 1);
    },
  },
  {
    code: 'STORAGE_ERROR',
    trigger: (e, ctx) => {
      e.logMetric('m', 1);
      holdWriteLock(ctx.path);
      return e.flush();
    },
    after: releaseWriteLock,
  },
];

async function outcome(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe.each([ErrorHandlerType.FAIL, ErrorHandlerType.WARN, ErrorHandlerType.SUPPRESS])('error handler %s', (handler) => {
  it.each(CASES.map((c, i) => [`${c.code} #${i}`, c] as const))('%s', async (_label, c) => {
    const { store, path } = tempStore();
    const w = warnings();
    const exp = store.createExperiment({ name: 'e', errorHandler: handler, onWarning: w.onWarning, limits: c.limits });
    exp.logMetric('healthy', 1);

    const error = await outcome(() => c.trigger(exp, { path }));
    if (handler === 'FAIL') {
      expect(error).toBeInstanceOf(LablogError);
      expect((error as LablogError).code).toBe(c.code);
    } else {
      expect(error).toBeUndefined();
    }
    // Budget warnings (LIMIT_APPROACHING) come whatever the handler; only error warnings count here.
    const errorWarnings = () => w.list.filter((x) => x.code !== 'LIMIT_APPROACHING');
    if (handler === 'WARN') {
      expect(errorWarnings()).toHaveLength(1);
      expect(errorWarnings()[0]).toBeInstanceOf(LablogWarning);
      expect(errorWarnings()[0]!.code).toBe(c.code);
      // A second error of the same experiment stays silent.
      exp.logMetric('m', Symbol('bad') as never);
      expect(errorWarnings()).toHaveLength(1);
    } else {
      expect(errorWarnings()).toHaveLength(0);
    }
    expect(exp.stats().errors).toBeGreaterThanOrEqual(1);
    c.after?.();

    // Nothing else stopped: another series logs on and reaches the store.
    if (c.code !== 'EXPERIMENT_CLOSED') {
      exp.logMetric('healthy', 2);
      await exp.close();
      const read = store.getExperiment(exp.id);
      expect(read.getMetric('healthy').values).toEqual(new Float64Array([1, 2]));
    } else {
      expect(store.getExperiment(exp.id).getMetric('healthy').values).toEqual(new Float64Array([1]));
    }
  });
});

describe('WARN without onWarning', () => {
  it('emits one process warning for the first error only', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    expect(exp.errorHandler).toBe('WARN');
    const seen: Error[] = [];
    const listener = (w: Error) => seen.push(w);
    process.on('warning', listener);
    try {
      exp.logMetric('m', 'x' as never);
      exp.logMetric('m', 'y' as never);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]!.name).toBe('LablogWarning');
    expect((seen[0] as LablogWarning).code).toBe('INVALID_METRIC_VALUE');
    expect(seen[0]!.message).toContain(`metric 'm' must be a number, got string "x"`);
  });
});

describe('bad values are dropped, the rest of a record is kept', () => {
  it('logMetrics under FAIL logs the valid keys, then throws the first error', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    expect(() => exp.logMetrics({ a: 1, b: 'no' as never, c: 3 }, { step: 4 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_METRIC_VALUE' }),
    );
    expect(exp.getMetric('a').steps).toEqual(new Float64Array([4]));
    expect(exp.getMetric('c').values).toEqual(new Float64Array([3]));
    expect(() => exp.getMetric('b')).toThrowError(expect.objectContaining({ code: 'SERIES_NOT_FOUND' }));
  });

  it('logParams under FAIL logs the valid keys, then throws the first error', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    expect(() => exp.logParams({ a: 1, b: null as never, c: 'x' })).toThrowError(expect.objectContaining({ code: 'INVALID_PARAM_VALUE' }));
    expect(exp.getParams()).toEqual({ a: 1, c: 'x' });
  });

  it('a timer flush failure under FAIL is thrown by the next log call, never from the timer', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logMetric('m', 1);
    holdWriteLock(path);
    let thrown: unknown;
    try {
      // The timer hands the point over within FLUSH_INTERVAL_MS; the writer waits BUSY_TIMEOUT_MS for the
      // lock, then reports; the next timer tick keeps the error for the next log call. Log calls into another
      // series (too few to flush by themselves) go through until that happens; then one throws it.
      let probe = 0;
      await vi.waitUntil(
        () => {
          try {
            exp.logMetric('probe', probe++);
            return false;
          } catch (error) {
            thrown = error;
            return true;
          }
        },
        { timeout: 30_000, interval: 50 },
      );
    } finally {
      releaseWriteLock();
    }
    expect(thrown).toMatchObject({ code: 'STORAGE_ERROR' });
    // Thrown once: the next call goes through.
    exp.logMetric('m', 2);
    // The point refused by the store was kept and is written once the store takes writes again.
    exp.logMetric('m', 3);
    await exp.close();
    expect(store.getExperiment(exp.id).getMetric('m').values).toEqual(new Float64Array([1, 2, 3]));
  });

  it('pl DataFrame and arrow Table are the only tables', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    expect(() => exp.logTable('t', pl.Series('a', [1, 2]) as never)).toThrowError(expect.objectContaining({ code: 'INVALID_TABLE' }));
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, ErrorHandlerType, Experiment } from '../src/index.js';
import { tempStore } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('createExperiment', () => {
  it('returns a running experiment with a UUID, its name and project', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'my-experiment', project: 'mnist', description: 'first try', tags: ['cnn', 'baseline'] });
    expect(exp).toBeInstanceOf(Experiment);
    expect(exp.id).toMatch(UUID);
    expect(exp.name).toBe('my-experiment');
    expect(exp.project).toBe('mnist');
    expect(exp.status).toBe('running');
    expect(exp.description).toBe('first try');
    expect(exp.tags).toEqual(['cnn', 'baseline']);
    expect(exp.errorHandler).toBe(ErrorHandlerType.WARN);
    expect(exp.limits).toEqual(DEFAULT_LIMITS);
  });

  it("puts experiments in project 'default' when none is given", () => {
    const { store } = tempStore();
    expect(store.createExperiment({ name: 'x' }).project).toBe('default');
  });

  it('deduplicates a name already used in the project: name-2, name-3, …', () => {
    const { store } = tempStore();
    const names = [1, 2, 3, 4].map(() => store.createExperiment({ name: 'run', project: 'p' }).name);
    expect(names).toEqual(['run', 'run-2', 'run-3', 'run-4']);
    // Another project has its own names.
    expect(store.createExperiment({ name: 'run', project: 'q' }).name).toBe('run');
  });

  it('keeps a deduplicated name within the name limit', () => {
    const { store } = tempStore();
    const long = 'n'.repeat(100);
    store.createExperiment({ name: long });
    const second = store.createExperiment({ name: long });
    expect(second.name).toBe(`${'n'.repeat(98)}-2`);
    expect(second.name).toHaveLength(100);
  });

  it('accepts a name of exactly 100 characters and rejects 101, whatever the handler', () => {
    const { store } = tempStore();
    expect(store.createExperiment({ name: 'a'.repeat(100) }).name).toHaveLength(100);
    for (const errorHandler of ['FAIL', 'WARN', 'SUPPRESS'] as const) {
      expect(() => store.createExperiment({ name: 'a'.repeat(101), errorHandler })).toThrowError(
        expect.objectContaining({
          code: 'INVALID_NAME',
          message: expect.stringContaining('101 characters long; the limit is 100'),
          details: expect.objectContaining({ limit: 100, actual: 101 }),
        }),
      );
    }
  });

  it('counts characters, not UTF-16 units: 100 emoji are a valid name', () => {
    const { store } = tempStore();
    expect(store.createExperiment({ name: '🚀'.repeat(100) }).name).toBe('🚀'.repeat(100));
    expect(() => store.createExperiment({ name: '🚀'.repeat(101) })).toThrowError(expect.objectContaining({ code: 'INVALID_NAME' }));
  });

  it('allows / for namespaces and rejects control characters and empty names', () => {
    const { store } = tempStore();
    expect(store.createExperiment({ name: 'team/vision/resnet' }).name).toBe('team/vision/resnet');
    for (const name of ['', 'tab\there', 'nul\u0000', 'del\u007f', 'c1\u0085']) {
      expect(() => store.createExperiment({ name })).toThrowError(expect.objectContaining({ code: 'INVALID_NAME' }));
    }
    expect(() => store.createExperiment({ name: 'ok', project: 'bad\nproject' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_NAME' }),
    );
  });

  it('rejects bad options with INVALID_OPTION whatever the handler', () => {
    const { store } = tempStore();
    expect(() => store.createExperiment(undefined as never)).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => store.createExperiment({ name: 'x', errorHandler: 'LOUD' as never })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
    const bad: unknown[] = [
      { name: 'x', limts: {} },
      { name: 'x', limits: { maxMetricValue: 10 } },
      { name: 'x', limits: { maxMetricValues: 0 } },
      { name: 'x', limits: { maxMetricValues: 1.5 } },
      { name: 'x', tags: 'a,b' },
      { name: 'x', description: 5 },
      { name: 'x', description: 'd'.repeat(10_001) },
      { name: 'x', onWarning: 'log' },
    ];
    // Under SUPPRESS and WARN too, a bad option throws: the handler is for what happens while logging.
    for (const errorHandler of Object.values(ErrorHandlerType)) {
      for (const options of bad) {
        expect(
          () => store.createExperiment({ ...(options as object), errorHandler } as never),
          `${errorHandler} ${JSON.stringify(options)}`,
        ).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
      }
      expect(() => store.createExperiment({ name: 'x', tags: ['ok', 'bad\u0001'], errorHandler }), errorHandler).toThrowError(
        expect.objectContaining({ code: 'INVALID_NAME' }),
      );
    }
    expect(Object.values(ErrorHandlerType)).toEqual(['FAIL', 'WARN', 'SUPPRESS']);
    // Nothing was created by any of them.
    expect(store.listExperiments()).toEqual([]);
  });

  it('merges partial limits over the defaults', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'x', limits: { maxMetricValues: 5_000_000 } });
    expect(exp.limits).toEqual({ ...DEFAULT_LIMITS, maxMetricValues: 5_000_000 });
  });
});

import { describe, expect, it } from 'vitest';
import { tempStore, warnings } from './helpers.js';

describe('params', () => {
  it('stores boolean, number, string and Date values with their types', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const started = new Date('2026-11-23T10:20:30.456Z');
    exp.logParam('learning_rate', 1e-3);
    exp.logParams({ batch_size: 12, parallel: true, started, optimizer: 'adam', neg_zero: -0, nan: NaN, inf: -Infinity, big: 2 ** 53 - 1 });
    await exp.close();
    const params = store.getExperiment(exp.id).getParams();
    expect(params).toEqual({
      learning_rate: 1e-3,
      batch_size: 12,
      parallel: true,
      started,
      optimizer: 'adam',
      neg_zero: -0,
      nan: NaN,
      inf: -Infinity,
      big: 2 ** 53 - 1,
    });
    expect(params['started']).toBeInstanceOf(Date);
    expect(Object.is(params['neg_zero'], -0)).toBe(true);
  });

  it('overwrites a key logged again', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e' });
    exp.logParam('lr', 0.1);
    await exp.flush();
    exp.logParam('lr', 'auto');
    expect(exp.getParams()).toEqual({ lr: 'auto' });
  });

  it('rejects values that are not boolean, number, string or Date', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    for (const value of [null, undefined, 10n, [1], { a: 1 }, () => 1, Symbol('s'), new Date(NaN)]) {
      expect(() => exp.logParam('p', value as never)).toThrowError(expect.objectContaining({ code: 'INVALID_PARAM_VALUE' }));
    }
    expect(() => exp.logParams('lr=1' as never)).toThrowError(expect.objectContaining({ code: 'INVALID_PARAM_VALUE' }));
    expect(exp.getParams()).toEqual({});
  });

  it('accepts a string value of exactly maxParamValueLength characters', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logParam('ok', 's'.repeat(6_000));
    expect(() => exp.logParam('long', 's'.repeat(6_001))).toThrowError(
      expect.objectContaining({ code: 'INVALID_PARAM_VALUE', details: expect.objectContaining({ limit: 6_000, actual: 6_001 }) }),
    );
  });

  it('accepts exactly 500 distinct params and rejects the 501st with the limit and the actual count', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    for (let i = 0; i < 500; i++) exp.logParam(`p${i}`, i);
    // Overwriting an existing key is not a new param.
    exp.logParam('p0', 'again');
    expect(() => exp.logParam('p500', 500)).toThrowError(
      expect.objectContaining({
        code: 'LIMIT_EXCEEDED',
        message: "experiment 'e' has 500 params; the limit is 500 (maxParams), so param 'p500' was dropped",
        details: expect.objectContaining({ limit: 500, actual: 501 }),
      }),
    );
    const params = exp.getParams();
    expect(Object.keys(params)).toHaveLength(500);
    expect(params['p0']).toBe('again');
  });

  it('warns once when passing 80% of the params budget, whatever the handler', () => {
    const { store } = tempStore();
    const w = warnings();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'SUPPRESS', onWarning: w.onWarning, limits: { maxParams: 10 } });
    for (let i = 0; i < 8; i++) exp.logParam(`p${i}`, i);
    expect(w.list).toHaveLength(0);
    exp.logParam('p8', 8);
    expect(w.list.map((x) => [x.code, x.message])).toEqual([
      ['LIMIT_APPROACHING', "experiment 'e' has used 9 of its 10 params (maxParams); values past the limit will be dropped"],
    ]);
    exp.logParam('p9', 9);
    exp.logParam('p10', 10); // over the limit, suppressed
    expect(w.list).toHaveLength(1);
  });
});

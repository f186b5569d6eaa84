import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { createRequire } from 'node:module';
import { tableFromArrays, Table, vectorFromArray, Int32, Dictionary, Utf8 } from 'apache-arrow';
import { loadArrow, loadedArrow } from '../src/media/table.js';
import { tempStore } from './helpers.js';

describe('logTable', () => {
  // Runs first in this file: lablog has not loaded apache-arrow yet, so the table waits for it.
  it('stores the first table of a process, written once apache-arrow has loaded', async () => {
    expect(loadedArrow()).toBeUndefined();
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logTable('first', tableFromArrays({ a: new Float64Array([1, 2, 3]) }));
    exp.logMetric('m', 1);
    await exp.close();
    expect(loadedArrow()).toBeDefined();
    const back = await store.getExperiment(exp.id).getTable('first');
    expect(back.getChild('a')!.toArray()).toEqual(new Float64Array([1, 2, 3]));
  });

  it('round-trips a polars DataFrame losslessly, keeping column types', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const leaderboard = pl.DataFrame({
      model_type: ['xgboost', 'decision_tree', 'torch_nn', null],
      score: [0.75, 0.6, 0.93, NaN],
      rank: pl.Series('rank', [2, 3, 1, 4], pl.Int32),
      ok: [true, false, true, null],
      // nodejs-polars 0.24 cannot build Int64 from bigint arrays; from numbers it can.
      big: pl.Series('big', [1, 2, 2 ** 53 - 1, 0], pl.Int64),
      when: pl.Series('when', [new Date('2026-01-01T00:00:00Z'), new Date('2026-06-01T12:00:00Z'), null, new Date(0)]),
    });
    exp.logTable('model_leaderboard', leaderboard);
    await exp.close();
    const read = store.getExperiment(exp.id);
    const df = await read.getTableDataFrame('model_leaderboard');
    expect(df.dtypes.map(String)).toEqual(leaderboard.dtypes.map(String));
    expect(df.frameEqual(leaderboard, true)).toBe(true);
    const table = await read.getTable('model_leaderboard');
    expect(table.numRows).toBe(4);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['model_type', 'score', 'rank', 'ok', 'big', 'when']);
    expect(table.getChild('rank')!.toArray()).toEqual(new Int32Array([2, 3, 1, 4]));
    expect(table.getChild('big')!.get(2)).toBe(2n ** 53n - 1n);
    expect(read.listTables()).toEqual([{ name: 'model_leaderboard', rows: 4, columns: 6, loggedAt: expect.any(Number) }]);
  });

  it('round-trips an apache-arrow Table, including dictionary columns', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const table = new Table({
      id: vectorFromArray([1, 2, 3], new Int32()),
      label: vectorFromArray(['cat', 'dog', 'cat'], new Dictionary(new Utf8(), new Int32())),
    });
    const floats = tableFromArrays({ x: new Float64Array([0.1, 0.2]), y: new Float32Array([1.5, 2.5]) });
    exp.logTable('labels', table);
    exp.logTable('floats', floats);
    await exp.close();
    const read = store.getExperiment(exp.id);
    const back = await read.getTable('labels');
    expect(back).toBeInstanceOf(Table);
    expect(String(back.schema.fields[1]!.type)).toBe(String(table.schema.fields[1]!.type));
    expect(back.toArray().map((r) => r.toJSON())).toEqual([
      { id: 1, label: 'cat' },
      { id: 2, label: 'dog' },
      { id: 3, label: 'cat' },
    ]);
    const f = await read.getTable('floats');
    expect(f.getChild('y')!.toArray()).toEqual(new Float32Array([1.5, 2.5]));
  });

  it('takes an arrow Table made with the CommonJS build of apache-arrow', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const cjs = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');
    const table = cjs.tableFromArrays({ a: new Int32Array([7, 8]) });
    expect(table).not.toBeInstanceOf(Table); // a different class from the ESM build's
    exp.logTable('cjs', table);
    const back = await exp.getTable('cjs');
    expect(back).toBeInstanceOf(Table);
    expect(back.getChild('a')!.toArray()).toEqual(new Int32Array([7, 8]));
  });

  it('refuses a table from a foreign copy of apache-arrow with a clear error', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    await loadArrow();
    const foreign = { numRows: 2, batches: [], schema: { fields: [] } };
    expect(() => exp.logTable('foreign', foreign as never)).toThrowError(
      expect.objectContaining({ code: 'INVALID_TABLE', message: expect.stringContaining('from another copy of apache-arrow') }),
    );
  });

  it('replaces a table logged again under the same key', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logTable('t', pl.DataFrame({ a: [1] }));
    exp.logTable('t', pl.DataFrame({ a: [1, 2, 3] }));
    expect((await exp.getTable('t')).numRows).toBe(3);
  });

  it('accepts exactly 100,000 rows and rejects 100,001 with the limit and the actual count', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const ok = pl.DataFrame({ i: Array.from({ length: 100_000 }, (_, i) => i) });
    exp.logTable('ok', ok);
    const tooBig = pl.DataFrame({ i: Array.from({ length: 100_001 }, (_, i) => i) });
    expect(() => exp.logTable('big', tooBig)).toThrowError(
      expect.objectContaining({
        code: 'LIMIT_EXCEEDED',
        message: "table 'big' has 100001 rows; the limit is 100000 (maxTableRows)",
        details: expect.objectContaining({ limit: 100_000, actual: 100_001 }),
      }),
    );
    const arrowTooBig = tableFromArrays({ i: new Int32Array(100_001) });
    expect(() => exp.logTable('big', arrowTooBig)).toThrowError(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
    expect(exp.listTables().map((t) => [t.name, t.rows])).toEqual([['ok', 100_000]]);
  });

  it('rejects what is neither a polars DataFrame nor an arrow Table', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    for (const table of [[{ a: 1 }], { a: [1, 2] }, 'a,b\n1,2', null, 7]) {
      expect(() => exp.logTable('t', table as never)).toThrowError(expect.objectContaining({ code: 'INVALID_TABLE' }));
    }
    await expect(exp.getTable('t')).rejects.toMatchObject({ code: 'SERIES_NOT_FOUND' });
  });
});

import { describe, expect, it } from 'vitest';
import { tempStore } from './helpers.js';

describe('logPlot', () => {
  it('stores Plotly figures as JSON, with steps and captions', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const roc = { data: [{ x: [0, 0.5, 1], y: [0, 0.8, 1], type: 'scatter', mode: 'lines' }], layout: { title: { text: 'ROC' } } };
    exp.logPlot('val/roc', roc);
    exp.logPlot('val/roc', { data: [], layout: {}, frames: [{ name: 'f0', data: [] }] }, { caption: 'empty', step: 7 });
    await exp.close();
    const plots = store.getExperiment(exp.id).getPlots('val/roc');
    expect(plots.map((p) => [p.step, p.caption])).toEqual([
      [0, null],
      [7, 'empty'],
    ]);
    expect(plots[0]!.figure).toEqual(roc);
    expect(plots[1]!.figure).toEqual({ data: [], layout: {}, frames: [{ name: 'f0', data: [] }] });
  });

  it('serialises at the call: later changes to the figure object are not stored', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const figure = { data: [{ y: [1, 2, 3] }] };
    exp.logPlot('p', figure);
    figure.data[0]!.y.push(4);
    expect(exp.getPlots('p')[0]!.figure).toEqual({ data: [{ y: [1, 2, 3] }] });
  });

  it('rejects what is not a JSON-serialisable Plotly figure', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const cyclic: Record<string, unknown> = { data: [] };
    cyclic['self'] = cyclic;
    const bad: [unknown, string][] = [
      [null, 'expected an object'],
      ['{"data":[]}', 'expected an object'],
      [{ layout: {} }, "'data' must be an array"],
      [{ data: [1, 2] }, 'data[0] must be a trace object'],
      [{ data: [], layout: [] }, "'layout' must be an object"],
      [{ data: [], frames: {} }, "'frames' must be an array"],
      [{ data: [{ y: [1n] }] }, 'not JSON-serialisable'],
      [{ data: [{ hover: () => 1 }] }, "field 'hover' is a function"],
      [cyclic, 'not JSON-serialisable'],
      [new Map([['data', []]]), 'expected an object'],
    ];
    for (const [figure, reason] of bad) {
      expect(() => exp.logPlot('p', figure as never)).toThrowError(
        expect.objectContaining({ code: 'INVALID_PLOT', message: expect.stringContaining(reason) }),
      );
    }
  });

  it('enforces strictly increasing steps per plot series, and maxPlotBytes', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', limits: { maxPlotBytes: 100 } });
    exp.logPlot('p', { data: [] }, { step: 2 });
    expect(() => exp.logPlot('p', { data: [] }, { step: 1 })).toThrowError(expect.objectContaining({ code: 'STEP_NOT_INCREASING' }));
    expect(() => exp.logPlot('p', { data: [{ y: Array.from({ length: 100 }, (_, i) => i) }] })).toThrowError(
      expect.objectContaining({ code: 'LIMIT_EXCEEDED', details: expect.objectContaining({ limit: 100 }) }),
    );
    expect(exp.getPlots('p')).toHaveLength(1);
  });
});

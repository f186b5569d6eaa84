// Free text and names in the library: each field's named limit, lone surrogates, NUL and __proto__ refused
// at the call through the error handler (the value dropped, everything else kept), as a server would refuse them.

import { describe, expect, it } from 'vitest';
import { LablogError } from '../src/model/errors.js';
import { MAX_CAPTION_LENGTH } from '../src/model/limits.js';
import { MAX_BASELINE_METRICS, MAX_STUDY_METADATA_BYTES, MAX_STUDY_TEXT } from '../src/core/study-rules.js';
import { MAX_TEMPLATE_BYTES } from '../src/core/study-template.js';
import { solidPng, tempStore } from './helpers.js';

/** 'loss 🔥' cut in the middle of its emoji: a lone high surrogate. */
const LONE = 'loss 🔥'.slice(0, 6);

/** The LablogError a call throws (FAIL handler or an option), or undefined. */
function thrown(fn: () => unknown): LablogError | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof LablogError) return error;
    throw error;
  }
  return undefined;
}

async function rejected(promise: Promise<unknown>): Promise<LablogError | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LablogError) return error;
    throw error;
  }
  return undefined;
}

const FIGURE = { data: [{ x: [1, 2], y: [3, 4], type: 'scatter' }] };

describe('free-text limits and unstorable names in the library', () => {
  it('refuses a caption over MAX_CAPTION_LENGTH or with a lone surrogate, and keeps the series flowing', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'captions', errorHandler: 'FAIL' });
    const long = thrown(() => exp.logPlot('fig', FIGURE, { caption: 'c'.repeat(1_001) }));
    expect(long).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { key: 'fig', option: 'caption', limit: 1_000, actual: 1_001 } });
    const lone = thrown(() => exp.logPlot('fig', FIGURE, { caption: `a ${LONE}` }));
    expect(lone).toMatchObject({ code: 'INVALID_OPTION', details: { key: 'fig', option: 'caption', actual: 'U+D83D' } });
    const nul = thrown(() => exp.logPlot('fig', FIGURE, { caption: 'a\u0000b' }));
    expect(nul).toMatchObject({ code: 'INVALID_OPTION', details: { actual: 'U+0000' } });
    const png = await solidPng(4, 4);
    expect(await rejected(exp.logImage('img', png, { caption: 'x'.repeat(1_001) }))).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { limit: 1_000, actual: 1_001 },
    });
    // Exactly at the limit is fine, and the refused points took no step.
    exp.logPlot('fig', FIGURE, { caption: 'c'.repeat(1_000) });
    await exp.logImage('img', png, { caption: 'ok' });
    await exp.close();
    const read = store.getExperiment(exp.id);
    expect(read.getPlots('fig').map((p) => [p.step, p.caption?.length])).toEqual([[0, 1_000]]);
    expect(read.getImages('img').map((p) => [p.step, p.caption])).toEqual([[0, 'ok']]);
    expect(MAX_CAPTION_LENGTH).toBe(1_000);
  });

  it('refuses names with a lone surrogate, NUL or __proto__ with INVALID_NAME per series; other series keep flowing', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'names', errorHandler: 'FAIL' });
    for (const name of [LONE, 'x\u0000y', '__proto__', '\udc00tail']) {
      const error = thrown(() => exp.logMetric(name, 1));
      expect(error?.code, JSON.stringify(name)).toBe('INVALID_NAME');
      expect(thrown(() => exp.logParam(name, 1))?.code, JSON.stringify(name)).toBe('INVALID_NAME');
      expect(thrown(() => exp.logPlot(name, FIGURE))?.code, JSON.stringify(name)).toBe('INVALID_NAME');
    }
    expect(thrown(() => exp.logMetric(LONE, 1))?.details).toEqual({ key: 'loss \ufffd', actual: 'U+D83D' });
    // A whole emoji is one character, and a name around it is fine.
    exp.logMetric('loss 🔥', 1);
    exp.logMetric('loss', 2);
    exp.logParam('lr', 0.1);
    // logMetrics logs every valid key, then throws the first error.
    expect(thrown(() => exp.logMetrics({ acc: 0.5, ['__proto__']: 3, [LONE]: 4 } as Record<string, number>))?.code).toBe('INVALID_NAME');
    await exp.close();
    const read = store.getExperiment(exp.id);
    expect(
      read
        .listSeries()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['acc', 'loss', 'loss 🔥'].sort());
    expect(read.getParams()).toEqual({ lr: 0.1 });
  });

  it('reports through WARN without throwing, and stores nothing of the refused value', async () => {
    const { store } = tempStore();
    const seen: string[] = [];
    const exp = store.createExperiment({ name: 'warn', onWarning: (w) => seen.push(`${w.code} ${String(w.details['key'] ?? '')}`) });
    exp.logMetric(LONE, 1);
    exp.logMetric('ok', 1);
    await exp.close();
    expect(seen).toEqual(['INVALID_NAME loss \ufffd']);
    expect(exp.stats().errors).toBe(1);
    expect(
      store
        .getExperiment(exp.id)
        .listSeries()
        .map((s) => s.name),
    ).toEqual(['ok']);
  });

  it('refuses string params with a lone surrogate or NUL (INVALID_PARAM_VALUE), and descriptions and tags likewise', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'params', errorHandler: 'FAIL' });
    expect(thrown(() => exp.logParam('text', `a ${LONE}`))).toMatchObject({
      code: 'INVALID_PARAM_VALUE',
      details: { key: 'text', actual: 'U+D83D' },
    });
    expect(thrown(() => exp.logParam('text', 'a\u0000b'))).toMatchObject({
      code: 'INVALID_PARAM_VALUE',
      details: { key: 'text', actual: 'U+0000' },
    });
    expect(thrown(() => exp.logParam('text', 'x'.repeat(6_001)))).toMatchObject({
      code: 'INVALID_PARAM_VALUE',
      details: { limit: 6_000, actual: 6_001 },
    });
    exp.logParam('text', 'fine 🔥');
    expect(exp.getParams()).toEqual({ text: 'fine 🔥' });
    expect(thrown(() => store.createExperiment({ name: 'd', description: `about ${LONE}` }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { option: 'description', actual: 'U+D83D' },
    });
    expect(thrown(() => store.createExperiment({ name: 'd', description: 'x'.repeat(10_001) }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { limit: 10_000, actual: 10_001 },
    });
    expect(thrown(() => store.createExperiment({ name: 'd', tags: [LONE] }))?.code).toBe('INVALID_NAME');
    expect(thrown(() => store.createExperiment({ name: '__proto__' }))?.code).toBe('INVALID_NAME');
    expect(thrown(() => store.createExperiment({ name: 'd', project: 'p\u0000' }))?.code).toBe('INVALID_NAME');
  });

  it('echoes a 10 MB name only as a short excerpt', () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'long', errorHandler: 'FAIL' });
    const error = thrown(() => exp.logMetric('n'.repeat(10_000_000), 1))!;
    expect(error.code).toBe('INVALID_NAME');
    expect(error.details).toMatchObject({ limit: 100, actual: 10_000_000 });
    expect(error.message.length).toBeLessThan(200);
    expect(JSON.stringify(error.details).length).toBeLessThan(200);
  });

  it('bounds study text, metadata, baselines and template parameters, each with its limit', () => {
    const { store } = tempStore();
    const big = { blob: 'x'.repeat(65_536) };
    expect(thrown(() => store.createStudy({ name: 's', metadata: big }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { option: 'metadata', limit: 65_536, actual: JSON.stringify(big).length },
    });
    expect(thrown(() => store.createStudy({ name: 's', metadata: { note: LONE } }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { option: 'metadata' },
    });
    expect(thrown(() => store.createStudy({ name: 's', hypothesis: 'h'.repeat(10_001) }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { option: 'hypothesis', limit: 10_000, actual: 10_001 },
    });
    expect(thrown(() => store.createStudy({ name: 's', description: `d ${LONE}` }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { option: 'description', actual: 'U+D83D' },
    });
    expect(thrown(() => store.createStudy({ name: 's', baseline: { name: 'b'.repeat(101), metrics: { loss: 1 } } }))).toMatchObject({
      code: 'INVALID_NAME',
      details: { limit: 100, actual: 101 },
    });
    const many = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`m${i}`, i]));
    expect(thrown(() => store.createStudy({ name: 's', baseline: { name: 'paper', metrics: many } }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { option: 'baseline.metrics', limit: 500, actual: 501 },
    });
    expect(
      thrown(() => store.createStudy({ name: 's', baseline: { name: 'paper', metrics: { ['__proto__']: 1 } as Record<string, number> } }))
        ?.code,
    ).toBe('INVALID_NAME');
    const template = thrown(() =>
      store.createStudy({
        name: 's',
        template: 'grid_search',
        templateParameters: { search_space: { lr: ['x'.repeat(70_000)] }, objective: 'minimize', metric: 'loss' },
      }),
    );
    expect(template).toMatchObject({ code: 'INVALID_OPTION', details: { option: 'templateParameters', limit: 65_536 } });
    const study = store.createStudy({ name: 's', metadata: { ok: true }, baseline: { name: 'paper', metrics: { loss: 0.5 } } });
    const exp = store.createExperiment({ name: 'member' });
    expect(thrown(() => study.addExperiment(exp, { notes: 'n'.repeat(10_001) }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { option: 'notes', limit: 10_000, actual: 10_001 },
    });
    expect(thrown(() => study.update({ conclusion: `c ${LONE}` }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { option: 'conclusion' },
    });
    expect(thrown(() => study.archive({ reason: 'r'.repeat(10_001) }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { option: 'reason', limit: 10_000 },
    });
    expect(thrown(() => study.clone({ name: 'c', modifications: { blob: 'y'.repeat(65_536) } }))).toMatchObject({
      code: 'INVALID_OPTION',
      details: { limit: 65_536 },
    });
    // Nothing refused was stored.
    expect(store.listStudies().map((s) => s.name)).toEqual(['s']);
    expect(store.getStudy('s').members()).toEqual([]);
    expect([MAX_STUDY_TEXT, MAX_STUDY_METADATA_BYTES, MAX_BASELINE_METRICS, MAX_TEMPLATE_BYTES]).toEqual([10_000, 65_536, 500, 65_536]);
  });
});

// Studies in the library: creating, listing, members, status, statistics, comparison against reference values, templates, archive, clone, delete.

import { describe, expect, it, vi } from 'vitest';
import pl from 'nodejs-polars';
import { solidPng, tempStore } from './helpers.js';
import type { Store } from '../src/index.js';
import { MAX_STUDY_EXPERIMENTS } from '../src/core/study-rules.js';

/** Logs a finished experiment with params and final metric values. */
async function run(
  store: Store,
  name: string,
  params: Record<string, number | string>,
  metrics: Record<string, number[]>,
  status: 'completed' | 'failed' = 'completed',
) {
  const exp = store.createExperiment({ name });
  exp.logParams(params);
  for (const [key, values] of Object.entries(metrics)) for (const v of values) exp.logMetric(key, v);
  await exp.close({ status });
  return exp;
}

describe('studies', () => {
  it('are created, found by id or name, listed with filters and pages, and validated', () => {
    const { store } = tempStore();
    const a = store.createStudy({
      name: 'lora-rank',
      hypothesis: 'lower rank, higher alpha wins',
      tags: ['lora'],
      metadata: { owner: 'ana' },
    });
    store.createStudy({ name: 'patch-size', project: 'vision', tags: ['vit'] });
    store.createStudy({ name: 'lr', tags: ['lora', 'lr'] });
    expect(store.getStudy(a.id).name).toBe('lora-rank');
    expect(store.getStudy('lora-rank')).toMatchObject({
      hypothesis: 'lower rank, higher alpha wins',
      status: 'active',
      metadata: { owner: 'ana' },
    });
    expect(store.listStudies({ tags: ['lora'], sort: 'name', order: 'asc' }).map((s) => s.name)).toEqual(['lora-rank', 'lr']);
    expect(store.listStudies({ project: 'vision' }).map((s) => s.name)).toEqual(['patch-size']);
    expect(store.listStudies({ limit: 1, offset: 1, sort: 'name', order: 'asc' }).map((s) => s.name)).toEqual(['lr']);
    expect(store.countStudies({ tags: ['lora'] })).toBe(2);
    expect(() => store.listStudies({ limit: 101 })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => store.listStudies({ limit: 0 })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => store.getStudy('nope')).toThrowError(expect.objectContaining({ code: 'STUDY_NOT_FOUND' }));
    expect(() => store.createStudy({ name: 'lr' })).toThrowError(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => store.createStudy({ name: 'x', template: 'grid_search', templateParameters: { search_space: {} } as never })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });

  it('hold each experiment once, at most 1,000, and take experiments at creation', async () => {
    const { store } = tempStore();
    const study = store.createStudy({ name: 's' });
    const other = store.createStudy({ name: 'other' });
    const exp = store.createExperiment({ name: 'e1', study });
    expect(study.members().map((m) => m.experimentId)).toEqual([exp.id]);
    expect(() => other.addExperiment(exp)).toThrowError(
      expect.objectContaining({ code: 'ALREADY_IN_STUDY', details: expect.objectContaining({ existingStudyId: study.id }) }),
    );
    const byName = store.createExperiment({ name: 'e2', study: 'other' });
    expect(other.experiments().map((e) => e.id)).toEqual([byName.id]);
    expect(() => study.addExperiment('no-such-experiment')).toThrowError(expect.objectContaining({ code: 'EXPERIMENT_NOT_FOUND' }));

    const big = store.createStudy({ name: 'big' });
    for (let i = 0; i < MAX_STUDY_EXPERIMENTS; i++) big.addExperiment(store.createExperiment({ name: `m${i}` }));
    expect(() => big.addExperiment(store.createExperiment({ name: 'one-too-many' }))).toThrowError(
      expect.objectContaining({ code: 'LIMIT_EXCEEDED', details: { limit: 1_000, actual: 1_001 } }),
    );
    await store.close();
  }, 60_000);

  it('move from active to completed with a conclusion, then archived; delete needs archive or force', async () => {
    const { store } = tempStore();
    const study = store.createStudy({ name: 's' });
    const exp = store.createExperiment({ name: 'e', study });
    await exp.logImage('img', await solidPng(2, 2));
    exp.logTable('t', pl.DataFrame({ a: [1, 2] }));
    await exp.close();
    study.update({ status: 'completed', conclusion: 'rank 8 wins', description: 'done', tags: ['final'] });
    expect(store.getStudy('s')).toMatchObject({ status: 'completed', conclusion: 'rank 8 wins', tags: ['final'] });
    expect(() => study.delete()).toThrowError(expect.objectContaining({ code: 'STUDY_NOT_ARCHIVED' }));
    study.archive({ reason: 'written up', preserveArtifacts: false });
    expect(store.getStudy('s')).toMatchObject({ status: 'archived', archiveReason: 'written up' });
    expect(
      store
        .getExperiment(exp.id)
        .listSeries()
        .map((s) => [s.name, s.count]),
    ).toEqual([['img', 0]]);
    expect(store.getExperiment(exp.id).getImages('img')).toEqual([]);
    expect(store.getExperiment(exp.id).listTables()).toEqual([]);
    study.delete();
    expect(() => store.getStudy('s')).toThrowError(expect.objectContaining({ code: 'STUDY_NOT_FOUND' }));
    expect(store.getExperiment(exp.id).status).toBe('completed');
    const forced = store.createStudy({ name: 'forced' });
    forced.delete({ force: true });
    expect(store.countStudies()).toBe(0);
  });

  it('clone with copyExperiments: new experiments with every datum, in the clone', async () => {
    const { store } = tempStore();
    const study = store.createStudy({ name: 's' });
    const exp = store.createExperiment({ name: 'run', study, tags: ['t'] });
    exp.logParams({ lr: 0.1, when: new Date('2026-01-01T00:00:00Z') });
    for (let i = 0; i < 5_000; i++) exp.logMetric('loss', 1 / (i + 1));
    await exp.logImage('img', await solidPng(3, 3), { caption: 'c' });
    exp.logPlot('roc', { data: [{ x: [0, 1], y: [0, 1] }] });
    await exp.close();
    study.addExperiment(store.createExperiment({ name: 'second' }), { notes: 'n', tags: ['m'] });
    const clone = study.clone({ name: 's-copy', copyExperiments: true });
    const copies = clone.experiments();
    expect(copies.map((e) => e.name)).toEqual(['run-2', 'second-2']);
    expect(clone.members()[1]).toMatchObject({ notes: 'n', tags: ['m'] });
    const copy = copies[0]!;
    expect(copy.id).not.toBe(exp.id);
    expect(copy).toMatchObject({ status: 'completed', tags: ['t'] });
    expect(copy.getParams()).toEqual(exp.getParams());
    expect(copy.listSeries()).toEqual(store.getExperiment(exp.id).listSeries());
    expect([...copy.getMetric('loss').values]).toEqual([...store.getExperiment(exp.id).getMetric('loss').values]);
    expect(copy.getImages('img')[0]).toMatchObject({ caption: 'c', width: 3 });
    expect(copy.getPlots('roc')).toHaveLength(1);
    // The originals stay where they were.
    expect(study.members().map((m) => m.experimentId)).toContain(exp.id);
    expect(() => study.clone({ name: 'bad', copyExperiments: 'yes' as never })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });

  it('clone the question, not the experiments', () => {
    const { store } = tempStore();
    const study = store.createStudy({ name: 's', hypothesis: 'h', tags: ['a'], baseline: { name: 'paper', metrics: { loss: 0.45 } } });
    store.createExperiment({ name: 'e', study });
    const clone = study.clone({ name: 's-13b', modifications: { base_model: '13b' } });
    expect(clone).toMatchObject({ name: 's-13b', hypothesis: 'h', status: 'active', baseline: { name: 'paper', metrics: { loss: 0.45 } } });
    expect(clone.metadata).toEqual({ clonedFrom: study.id, modifications: { base_model: '13b' } });
    expect(clone.members()).toEqual([]);
  });

  it('count experiments by status and find the best, with training time and cost', async () => {
    const { store } = tempStore();
    const study = store.createStudy({ name: 's' });
    // The clock (Date only; timers stay real) is set around each run, so each has a known wall time.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2024, 0, 1) });
    try {
      const timed = async (seconds: number, ...args: Parameters<typeof run>) => {
        const exp = store.createExperiment({ name: args[1] });
        exp.logParams(args[2]);
        for (const [key, values] of Object.entries(args[3])) for (const v of values) exp.logMetric(key, v);
        vi.setSystemTime(Date.now() + seconds * 1000);
        await exp.close({ status: args[4] ?? 'completed' });
        return exp;
      };
      for (const [name, loss, cost, seconds] of [
        ['a', 0.5, 10, 1],
        ['b', 0.3, 12, 2],
        ['c', 0.4, 8, 3],
      ] as const) {
        study.addExperiment(await timed(seconds, store, name, {}, { 'val/loss': [1, loss], cost: [cost] }));
      }
      study.addExperiment(await timed(4, store, 'broken', {}, { 'val/loss': [0.1] }, 'failed'));
      // Running: started, not ended, so it has no training time yet however long it has run.
      study.addExperiment(store.createExperiment({ name: 'live' }));
      vi.setSystemTime(Date.now() + 60_000);
      const stats = study.statistics({ metric: 'val/loss', goal: 'minimize' });
      expect(stats).toMatchObject({ total: 5, completed: 3, failed: 1, running: 1, crashed: 0, totalCost: 30 });
      expect(stats.best).toMatchObject({ name: 'b', metric: 'val/loss', value: 0.3 });
      // The four that ended ran 1 + 2 + 3 + 4 s.
      expect(stats.totalTrainingTimeMs).toBe(10_000);
      expect(stats.meanTrainingTimeMs).toBe(2_500);
      expect(study.statistics({ metric: 'val/loss', goal: 'maximize' }).best).toMatchObject({ name: 'a' });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('study.compare', () => {
  it('needs two completed experiments (INSUFFICIENT_RUNS)', async () => {
    const { store } = tempStore();
    const study = store.createStudy({ name: 's' });
    study.addExperiment(await run(store, 'only', {}, { loss: [1] }));
    study.addExperiment(await run(store, 'failed', {}, { loss: [1] }, 'failed'));
    expect(() => study.compare({ metrics: [{ name: 'loss', goal: 'minimize' }] })).toThrowError(
      expect.objectContaining({ code: 'INSUFFICIENT_RUNS', details: { completed: 1, minimumRequired: 2 } }),
    );
  });

  it('ranks, tests replicate groups with Welch, correlates params and finds the Pareto frontier', async () => {
    const { store } = tempStore();
    const study = store.createStudy({ name: 'lr', baseline: { name: 'paper', metrics: { 'val/loss': 0.35 } } });
    // Two configurations with replicated seeds: lr 0.1 (3 seeds) and lr 0.01 (4 seeds).
    const finals = { 0.1: [0.3, 0.32, 0.31], 0.01: [0.4, 0.38, 0.41, 0.39] };
    const speed: Record<string, number> = {};
    for (const [lr, losses] of Object.entries(finals)) {
      for (const [seed, loss] of losses.entries()) {
        const name = `lr${lr}-s${seed}`;
        speed[name] = Number(lr) * 100 + seed;
        study.addExperiment(await run(store, name, { lr: Number(lr), seed }, { 'val/loss': [0.9, loss], throughput: [speed[name]!] }));
      }
    }
    const cmp = study.compare({
      metrics: [
        { name: 'val/loss', goal: 'minimize' },
        { name: 'throughput', goal: 'maximize' },
      ],
    });
    const name = (id: string) => store.getExperiment(id).name;
    expect(cmp.rankings['val/loss']!.map(name)).toEqual([
      'lr0.1-s0',
      'lr0.1-s2',
      'lr0.1-s1',
      'lr0.01-s1',
      'lr0.01-s3',
      'lr0.01-s0',
      'lr0.01-s2',
    ]);
    expect(cmp.statistics['val/loss']).toMatchObject({ n: 7, min: 0.3, max: 0.41 });
    expect(cmp.statistics['val/loss']!.mean).toBeCloseTo((0.3 + 0.32 + 0.31 + 0.4 + 0.38 + 0.41 + 0.39) / 7, 12);

    // Reference: scipy 1.17.1, stats.ttest_ind([0.30, 0.32, 0.31], [0.40, 0.38, 0.41, 0.39], equal_var=False)
    //   statistic -9.81495457622364, pvalue 0.00019567435295956488, df 4.959183673469387
    expect(cmp.significance).toHaveLength(2);
    const welch = cmp.significance.find((s) => s.metric === 'val/loss')!;
    expect(welch).toMatchObject({ groupA: 'lr=0.1', groupB: 'lr=0.01' });
    expect(welch.t).toBeCloseTo(-9.81495457622364, 9);
    expect(welch.df).toBeCloseTo(4.959183673469387, 9);
    expect(welch.pValue).toBeCloseTo(0.00019567435295956488, 12);

    // Reference: scipy 1.17.1, stats.pearsonr / stats.spearmanr of lr [0.1]*3 + [0.01]*4 against the losses above:
    //   pearson -0.9728856819885574, spearman -0.8660254037844388
    const corr = cmp.correlations.find((c) => c.param === 'lr' && c.metric === 'val/loss')!;
    expect(corr.n).toBe(7);
    expect(corr.pearson).toBeCloseTo(-0.9728856819885574, 10);
    expect(corr.spearman).toBeCloseTo(-0.8660254037844388, 10);
    expect(cmp.correlations.some((c) => c.param === 'seed')).toBe(true);

    // (loss, throughput): s0 (0.30, 10), s1 (0.32, 11), s2 (0.31, 12) for lr 0.1, and lower throughput for lr 0.01.
    // s2 beats s1 on both; s0 and s2 trade off: the frontier.
    expect(cmp.paretoFrontier.map(name).sort()).toEqual(['lr0.1-s0', 'lr0.1-s2']);
    expect(cmp.baseline).toEqual({ name: 'paper', metrics: { 'val/loss': 0.35 } });
    // Reference: python 3.11, statistics.stdev of the 7 losses = 0.04670066788550653
    expect(cmp.statistics['val/loss']!.std).toBeCloseTo(0.04670066788550653, 12);
    expect(cmp.insights).toContain('lr0.1-s0 has the lowest final val/loss: 0.3 (mean 0.359 ± 0.0467 over 7 experiments).');
    expect(cmp.insights).toContain('Higher lr correlates with lower val/loss: ρ = −0.87, n = 7.');
    expect(
      cmp.insights.some((i) =>
        i.startsWith(
          'On val/loss, [lr=0.1] (mean 0.31, n = 3) differs significantly from [lr=0.01] (mean 0.395, n = 4): Welch t = −9.81, df = 4.96, p < 0.001.',
        ),
      ),
    ).toBe(true);
    expect(cmp.insights).toContain('Against the baseline paper (val/loss 0.35), the best is better by 0.05.');

    const ab = study.compare({
      metrics: [{ name: 'val/loss', goal: 'minimize' }],
      groups: { A: ['lr0.1-s0', 'lr0.1-s1', 'lr0.1-s2'], B: ['lr0.01-s0', 'lr0.01-s1', 'lr0.01-s2', 'lr0.01-s3'] },
    });
    const abTest = ab.significance.find((s) => s.groupA === 'A')!;
    expect(abTest.t).toBeCloseTo(-9.81495457622364, 9);
    expect(() => study.compare({ metrics: [{ name: 'val/loss', goal: 'best' as never }] })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
    expect(() => study.compare({ experiments: ['nope'], metrics: [{ name: 'val/loss', goal: 'minimize' }] })).toThrowError(
      expect.objectContaining({ code: 'EXPERIMENT_NOT_FOUND' }),
    );
  });
});

describe('study rules', () => {
  it('refuse to drop artifacts under a running experiment', async () => {
    const { store } = tempStore();
    const study = store.createStudy({ name: 's' });
    const live = store.createExperiment({ name: 'live', study });
    expect(() => study.archive({ reason: 'r', preserveArtifacts: false })).toThrowError(
      expect.objectContaining({ code: 'EXPERIMENT_RUNNING' }),
    );
    expect(store.getStudy('s').status).toBe('active');
    await live.close();
    study.archive({ reason: 'r', preserveArtifacts: false });
  });

  it('compare each experiment once, and refuse a malformed A/B group', async () => {
    const { store } = tempStore();
    const study = store.createStudy({ name: 's' });
    for (const [name, loss] of [
      ['a', 1],
      ['b', 2],
    ] as const)
      study.addExperiment(await run(store, name, {}, { loss: [loss] }));
    const cmp = study.compare({ experiments: ['a', 'a', 'b', 'b'], metrics: [{ name: 'loss', goal: 'minimize' }] });
    expect(cmp.experiments).toHaveLength(2);
    expect(cmp.significance).toEqual([]);
    expect(() => study.compare({ metrics: [{ name: 'loss', goal: 'minimize' }], groups: null as never })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });
});

describe('study templates', () => {
  it('plan a grid search: every combination of the search space', () => {
    const { store } = tempStore();
    const study = store.createStudy({
      name: 'grid',
      template: 'grid_search',
      templateParameters: {
        search_space: { learning_rate: [1e-4, 3e-4, 1e-3], batch_size: [16, 32] },
        objective: 'minimize',
        metric: 'validation_loss',
      },
    });
    const plan = study.plan();
    expect(plan).toMatchObject({ template: 'grid_search', metric: 'validation_loss', objective: 'minimize' });
    expect(plan.runs).toEqual([
      { learning_rate: 1e-4, batch_size: 16 },
      { learning_rate: 1e-4, batch_size: 32 },
      { learning_rate: 3e-4, batch_size: 16 },
      { learning_rate: 3e-4, batch_size: 32 },
      { learning_rate: 1e-3, batch_size: 16 },
      { learning_rate: 1e-3, batch_size: 32 },
    ]);
  });

  it('plan an A/B test: the sample size per variant from the power analysis', () => {
    const { store } = tempStore();
    const study = store.createStudy({
      name: 'ab',
      template: 'ab_testing',
      templateParameters: {
        variants: ['A', 'B'],
        success_metric: 'accuracy',
        minimum_effect_size: 0.5,
        statistical_power: 0.8,
        alpha: 0.05,
      },
    });
    // Reference: python, math.ceil(2 * (norm.ppf(0.975) + norm.ppf(0.8))**2 / 0.5**2) = 63 (scipy 1.17.1).
    const plan = study.plan();
    expect(plan).toMatchObject({ template: 'ab_testing', successMetric: 'accuracy', sampleSizePerVariant: 63, alpha: 0.05, power: 0.8 });
    expect(plan.runs).toHaveLength(126);
    expect(() =>
      store.createStudy({
        name: 'bad',
        template: 'ab_testing',
        templateParameters: { variants: ['A'], success_metric: 'x', minimum_effect_size: 1 },
      }),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => store.createStudy({ name: 'plain' }).plan()).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    // A tiny effect would need millions of runs: refused at creation, not when planning.
    expect(() =>
      store.createStudy({
        name: 'tiny',
        template: 'ab_testing',
        templateParameters: { variants: ['A', 'B'], success_metric: 'x', minimum_effect_size: 1e-4 },
      }),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('runs per variant') }));
  });
});

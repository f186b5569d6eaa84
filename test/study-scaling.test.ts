// The progressive_scaling study template: parameters checked at creation, one planned run per size, the study's scaling law and `lablog study show`.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir, tempStore } from './helpers.js';
import { openStore, type Store } from '../src/index.js';
import { LablogError } from '../src/model/errors.js';
import { MAX_SCALING_SIZES } from '../src/core/scaling-template.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function lablogError(fn: () => unknown): LablogError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LablogError);
    return error as LablogError;
  }
  throw new Error('expected a LablogError, nothing was thrown');
}

function expectRel(actual: number | null | undefined, expected: number, rel = 1e-6): void {
  expect(actual).toBeTypeOf('number');
  const a = actual as number;
  if (!(Math.abs(a - expected) <= Math.abs(expected) * rel)) throw new Error(`expected ${a} within relative ${rel} of ${expected}`);
}

const SIZES = [1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9];
// Noisy validation losses at SIZES; scipy's curve_fit on them (see test/scaling-law.test.ts for the call):
const LOSSES = [3.412, 2.853, 2.447, 2.171, 1.995, 1.873, 1.801];
const SCIPY = { a: 206.92474411096077, b: 0.3439927000324011, c: 1.6279764217170085 };
const SCIPY_SE = { a: 20.533077644376757, b: 0.007571774081180198, c: 0.015331094836716715 };

const PARAMETERS = {
  model_sizes: [1e9, 1e6, 3e8, 3e6, 1e8, 1e7, 3e7],
  metric: 'val/loss',
  objective: 'minimize',
  efficiency_metrics: ['flops', 'parameters'],
  performance_targets: { 'val/loss': 1.9, 'val/acc': 0.9, bleu: 30 },
};

function create(store: Store, parameters: Record<string, unknown> = PARAMETERS) {
  return store.createStudy({ name: 'scaling', template: 'progressive_scaling', templateParameters: parameters });
}

/** One completed experiment per size: val/loss falling to LOSSES[i], val/acc = 0.95 − 2·N^(−0.2), flops logged as a metric. */
async function fill(store: Store) {
  const study = create(store);
  for (const [i, size] of SIZES.entries()) {
    const exp = store.createExperiment({ name: `size-${size}`, study });
    exp.logParams({ model_size: size, parameters: size * 1.1 });
    exp.logMetric('val/loss', LOSSES[i]! + 1);
    exp.logMetric('val/loss', LOSSES[i]!);
    exp.logMetric('val/acc', 0.95 - 2 * size ** -0.2);
    exp.logMetric('flops', 6 * size * 1e9);
    await exp.close();
  }
  const failed = store.createExperiment({ name: 'size-3e9-oom', study });
  failed.logParams({ model_size: 3e9 });
  failed.logMetric('val/loss', 9);
  await failed.close({ status: 'failed' });
  const unsized = store.createExperiment({ name: 'no-size', study });
  unsized.logMetric('val/loss', 1);
  await unsized.close();
  return study;
}

describe('the progressive_scaling template', () => {
  it('plans one run per size, smallest first, in the size param', () => {
    const { store } = tempStore();
    expect(create(store).plan()).toEqual({
      template: 'progressive_scaling',
      metric: 'val/loss',
      objective: 'minimize',
      sizeParam: 'model_size',
      scalingLawAnalysis: true,
      runs: SIZES.map((model_size) => ({ model_size })),
    });
    const own = store.createStudy({
      name: 'widths',
      template: 'progressive_scaling',
      templateParameters: {
        model_sizes: [512, 64, 128],
        metric: 'acc',
        objective: 'maximize',
        size_param: 'width',
        scaling_law_analysis: false,
      },
    });
    expect(own.plan()).toMatchObject({
      sizeParam: 'width',
      scalingLawAnalysis: false,
      runs: [{ width: 64 }, { width: 128 }, { width: 512 }],
    });
  });

  it('refuses each broken rule at creation with INVALID_OPTION naming the field, the rule and the value', () => {
    const { store } = tempStore();
    const cases: [Record<string, unknown>, string, string][] = [
      [
        { ...PARAMETERS, model_sizes: undefined },
        'templateParameters.model_sizes',
        'needs model_sizes: an array of positive numbers, got undefined',
      ],
      [{ ...PARAMETERS, model_sizes: ['small', 'medium', 'large'] }, 'templateParameters.model_sizes', 'model_sizes[0] is string "small"'],
      [{ ...PARAMETERS, model_sizes: [1, 0, 2] }, 'templateParameters.model_sizes', 'model_sizes[1] is number 0'],
      [{ ...PARAMETERS, model_sizes: [1, 2, 1] }, 'templateParameters.model_sizes', '1 is given twice'],
      [{ ...PARAMETERS, model_sizes: [1, 2] }, 'templateParameters.model_sizes', 'needs at least 3 model_sizes'],
      [
        { ...PARAMETERS, model_sizes: Array.from({ length: MAX_SCALING_SIZES + 1 }, (_, i) => i + 1) },
        'templateParameters.model_sizes',
        `has 101 model_sizes; the limit is ${MAX_SCALING_SIZES}`,
      ],
      [{ ...PARAMETERS, metric: '' }, 'templateParameters.metric', 'needs metric'],
      [
        { ...PARAMETERS, objective: 'lower' },
        'templateParameters.objective',
        `needs objective: 'minimize' | 'maximize', got string "lower"`,
      ],
      [{ ...PARAMETERS, efficiency_metrics: ['flops', 'flops'] }, 'templateParameters.efficiency_metrics', 'distinct non-empty names'],
      [
        { ...PARAMETERS, performance_targets: { 'val/loss': '0.3' } },
        'templateParameters.performance_targets',
        'performance_targets.val/loss must be a finite number, got string "0.3"',
      ],
      [{ ...PARAMETERS, performance_targets: [0.3] }, 'templateParameters.performance_targets', 'must be an object'],
      [{ ...PARAMETERS, scaling_law_analysis: 'yes' }, 'templateParameters.scaling_law_analysis', 'must be true or false'],
      [{ ...PARAMETERS, size_param: 3 }, 'templateParameters.size_param', 'must be the name of a param'],
      [{ ...PARAMETERS, model_size: [1, 2, 3] }, 'templateParameters.model_size', "has no parameter 'model_size'"],
    ];
    for (const [parameters, option, message] of cases) {
      const error = lablogError(() => create(store, parameters));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.details).toMatchObject({ option });
      expect(error.message).toContain(message);
    }
    expect(store.listStudies({}).map((s) => s.name)).toEqual([]);
  });
});

describe("a progressive_scaling study's scaling law", () => {
  it('fits the final metric of the completed members against their size, as scipy does, and predicts each target', async () => {
    const { store } = tempStore();
    const study = await fill(store);
    const law = study.scalingLaw();
    expect(law).toMatchObject({ metric: 'val/loss', objective: 'minimize', sizeParam: 'model_size', scalingLawAnalysis: true });
    expect(law.points.map((p) => [p.size, p.value])).toEqual(SIZES.map((s, i) => [s, LOSSES[i]]));
    // Efficiency: a metric's final value (flops), else the param (parameters).
    expect(law.points[0]!.efficiency).toEqual({ flops: 6e15, parameters: 1.1e6 });
    expect(law.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['size-3e9-oom', 'status failed (only completed experiments are fitted)'],
      ['no-size', 'param model_size is missing'],
    ]);
    for (const k of ['a', 'b', 'c'] as const) {
      expectRel(law.fit[k], SCIPY[k]);
      expectRel(law.fit.standardErrors![k], SCIPY_SE[k]);
    }
    expect(law.fit.n).toBe(7);
    const [loss, acc, bleu] = law.targets;
    expect(loss).toMatchObject({ metric: 'val/loss', target: 1.9, reason: null });
    expectRel(loss!.size, (SCIPY.a / (1.9 - SCIPY.c)) ** (1 / SCIPY.b), 1e-6);
    // val/acc = 0.95 − 2·N^(−0.2) has its own (exact) fit: 0.9 is reached at (2 / 0.05)^(1/0.2) = 40⁵.
    expect(acc).toMatchObject({ metric: 'val/acc', target: 0.9, reason: null });
    expectRel(acc!.size, 40 ** 5, 1e-8);
    expect(bleu).toEqual({ metric: 'bleu', target: 30, size: null, reason: 'bleu has 0 completed points; a fit needs 3 at 3 sizes' });
  });

  it('says a target beyond the asymptote is unreachable, and refuses fewer than 3 sizes or another template', async () => {
    const { store } = tempStore();
    const study = create(store, { ...PARAMETERS, performance_targets: { 'val/loss': 1.5 } });
    for (const [i, size] of SIZES.slice(0, 2).entries()) {
      const exp = store.createExperiment({ name: `s${i}`, study });
      exp.logParams({ model_size: size });
      exp.logMetric('val/loss', LOSSES[i]!);
      await exp.close();
    }
    expect(lablogError(() => study.scalingLaw())).toMatchObject({
      code: 'INSUFFICIENT_RUNS',
      message: expect.stringContaining('got 2 points at 2 sizes'),
    });
    const exp = store.createExperiment({ name: 's2', study });
    exp.logParams({ model_size: SIZES[2]! });
    exp.logMetric('val/loss', LOSSES[2]!);
    await exp.close();
    const law = study.scalingLaw();
    expect(law.fit.confidenceIntervals).toBeNull();
    expect(law.targets[0]).toMatchObject({
      size: null,
      reason: expect.stringContaining('the target 1.5 is at or below the asymptote c = '),
    });
    expect(lablogError(() => store.createStudy({ name: 'plain' }).scalingLaw()).code).toBe('INVALID_OPTION');
  });

  it('is printed by `lablog study show`: points, estimates with intervals, and the predicted sizes', async () => {
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    await fill(store);
    await store.close();
    const show = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'study', 'show', 'scaling', '--store', path], { encoding: 'utf8' });
    expect(show.stderr).toBe('');
    expect(show.status).toBe(0);
    const out = show.stdout;
    expect(out).toContain('scaling law  val/loss = a·N^(−b) + c, N = model_size, fitted by least squares on 7 completed experiments');
    expect(out).toMatch(/SIZE\s+EXPERIMENT\s+VAL\/LOSS\s+FITTED\s+FLOPS\s+PARAMETERS/);
    expect(out).toMatch(/1000000\s+size-1000000\s+3\.412\s+3\.41\d*\s+6000000000000000\s+1100000/);
    // Estimates (6 significant digits) and 95% intervals, estimate ± t(0.975, 4)·se.
    expect(out).toMatch(/a\s+206\.925\s+20\.5331\s+149\.916 … 263\.934/);
    expect(out).toMatch(/b\s+0\.343993\s+0\.00757177\s+0\.32297 … 0\.365015/);
    expect(out).toMatch(/c\s+1\.62798\s+0\.0153311\s+1\.58541 … 1\.67054/);
    expect(out).toContain('R² 0.999845, RSS 0.000322747, n 7, 4 residual degrees of freedom');
    expect(out).toContain(
      'not fitted: size-3e9-oom (status failed (only completed experiments are fitted)); no-size (param model_size is missing)',
    );
    expect(out).toContain(
      `val/loss 1.9: predicted at model_size ≈ ${Number(((SCIPY.a / (1.9 - SCIPY.c)) ** (1 / SCIPY.b)).toPrecision(6))}`,
    );
    expect(out).toContain('val/acc 0.9: predicted at model_size ≈ 102400000');
    expect(out).toContain('bleu 30: unreachable: bleu has 0 completed points');
  });
});

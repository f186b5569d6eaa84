// Samplers: grid enumerates and is exhausted, random and TPE are reproducible trial for trial from a seed, TPE concentrates where the good trials are.

import { describe, expect, it } from 'vitest';
import { type LablogError } from '../src/index.js';
import { checkSampler, createSampler } from '../src/core/sampler.js';
import { checkSpace } from '../src/core/sweep-space.js';
import { goodCount } from '../src/core/sampler-tpe.js';
import { observationWeights } from '../src/core/parzen-estimator.js';
import type { SamplerSpec, TrialParams, TrialView } from '../src/model/sweep.js';

const SPACE = checkSpace({
  lr: { type: 'float', min: 1e-5, max: 1, log: true },
  width: { type: 'int', min: 8, max: 512, log: true },
  optimizer: { type: 'enum', values: ['sgd', 'adam', 'rmsprop'] },
  dropout: { type: 'float', min: 0, max: 0.8, exclusiveMax: true },
});

/** A toy objective with its minimum at lr = 1e-2, width = 128, adam, dropout = 0.2. */
function objective(p: TrialParams): number {
  const lr = Math.log10(p['lr'] as number) + 2;
  const width = Math.log2(p['width'] as number) - 7;
  return lr * lr + 0.5 * width * width + (p['optimizer'] === 'adam' ? 0 : 1) + 4 * ((p['dropout'] as number) - 0.2) ** 2;
}

/** Runs `trials` trials of a sampler on the toy objective; returns the params and values in order. */
function drive(spec: SamplerSpec, seed: number, trials: number): TrialView[] {
  const sampler = createSampler(checkSampler(spec, SPACE), SPACE, 'minimize', seed);
  const history: TrialView[] = [];
  for (let n = 0; n < trials; n++) {
    const params = sampler.sample(n, history)!;
    history.push({ number: n, status: 'completed', params, value: objective(params), reports: [] });
  }
  return history;
}

describe('grid sampler', () => {
  it('gives every combination once, in order, then null (no_more_trials)', () => {
    const space = checkSpace({
      opt: { type: 'enum', values: ['sgd', 'adam'] },
      layers: { type: 'int', min: 1, max: 3 },
      lr: { type: 'float', min: 0.1, max: 0.3, step: 0.1 },
    });
    const sampler = createSampler(checkSampler({ type: 'grid' }, space), space, 'minimize', 0);
    const history: TrialView[] = [];
    for (let n = 0; ; n++) {
      const params = sampler.sample(n, history);
      if (params === null) break;
      history.push({ number: n, status: 'completed', params, value: n, reports: [] });
      expect(n).toBeLessThan(100);
    }
    expect(history).toHaveLength(18);
    expect(history.slice(0, 4).map((t) => t.params)).toEqual([
      { opt: 'sgd', layers: 1, lr: 0.1 },
      { opt: 'sgd', layers: 1, lr: 0.2 },
      { opt: 'sgd', layers: 1, lr: 0.3 },
      { opt: 'sgd', layers: 2, lr: 0.1 },
    ]);
    expect(new Set(history.map((t) => JSON.stringify(t.params))).size).toBe(18);
    // A failed trial's combination counts as tried: a restart re-runs it with its own params.
    expect(sampler.sample(18, history)).toBeNull();
  });

  it('refuses a float range without step, and a grid past MAX_GRID_SIZE', () => {
    const err = (space: Record<string, unknown>) => {
      try {
        checkSampler({ type: 'grid' }, checkSpace(space));
      } catch (error) {
        return (error as LablogError).message;
      }
      return 'accepted';
    };
    expect(err({ lr: { type: 'float', min: 0, max: 1 } })).toMatch(
      /the grid sampler needs a step for float param 'lr' \(space\.lr\.step\)/,
    );
    expect(err({ a: { type: 'int', min: 1, max: 200 }, b: { type: 'int', min: 1, max: 200 } })).toMatch(
      /the grid has 40000 combinations; the limit is 10000/,
    );
  });
});

describe('seeded samplers', () => {
  it.each([{ type: 'random' } as const, { type: 'tpe' } as const, { type: 'tpe', multivariate: false } as const])(
    '%j: the same seed gives the same trials, another seed others; params stay in the space',
    (spec) => {
      const a = drive(spec, 7, 40);
      const b = drive(spec, 7, 40);
      const c = drive(spec, 8, 40);
      expect(b.map((t) => t.params)).toEqual(a.map((t) => t.params));
      expect(c.map((t) => t.params)).not.toEqual(a.map((t) => t.params));
      for (const { params } of a) {
        expect(params['lr']).toBeGreaterThanOrEqual(1e-5);
        expect(params['lr']).toBeLessThanOrEqual(1);
        expect(Number.isInteger(params['width'])).toBe(true);
        expect(params['width']).toBeGreaterThanOrEqual(8);
        expect(params['width']).toBeLessThanOrEqual(512);
        expect(['sgd', 'adam', 'rmsprop']).toContain(params['optimizer']);
        expect(params['dropout']).toBeGreaterThanOrEqual(0);
        expect(params['dropout']).toBeLessThan(0.8);
      }
    },
  );

  it('a trial asked again with the same history gets the same params (a resumed sweep asks the same)', () => {
    const history = drive({ type: 'tpe' }, 3, 30);
    const sampler = createSampler({ type: 'tpe' }, SPACE, 'minimize', 3);
    expect(sampler.sample(30, history)).toEqual(sampler.sample(30, history));
    expect(sampler.sample(12, history.slice(0, 12))).toEqual(history[12]!.params);
  });

  it('TPE finds better values than random sampling on the same budget (median over 15 seeds)', () => {
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const best = (spec: SamplerSpec) =>
      median(Array.from({ length: 15 }, (_, seed) => Math.min(...drive(spec, 100 + seed, 40).map((t) => t.value!))));
    const random = best({ type: 'random' });
    const tpe = best({ type: 'tpe' });
    // Measured here: random 0.70, TPE 0.046; the assertion leaves a wide margin.
    expect(tpe).toBeLessThan(random / 3);
  });

  it('TPE samples where the good trials are: late trials of a seeded run concentrate near the optimum', () => {
    const history = drive({ type: 'tpe' }, 11, 60);
    const adamShare = (trials: TrialView[]) => trials.filter((t) => t.params['optimizer'] === 'adam').length / trials.length;
    expect(adamShare(history.slice(40))).toBeGreaterThan(0.6);
  });
});

describe('TPE parameters', () => {
  it('counts the good trials as min(⌈0.25·n⌉, 25) and weights old observations down past 25', () => {
    expect([1, 4, 5, 10, 40, 100, 1000].map(goodCount)).toEqual([1, 1, 2, 3, 10, 25, 25]);
    expect(observationWeights(3)).toEqual([1, 1, 1]);
    const w = observationWeights(30);
    expect(w).toHaveLength(30);
    expect(w[0]).toBeCloseTo(1 / 30, 12);
    expect(w[4]).toBeCloseTo(1, 12);
    expect(w.slice(5)).toEqual(new Array(25).fill(1));
  });

  it('refuses bad sampler options', () => {
    const msg = (spec: unknown) => {
      try {
        checkSampler(spec, SPACE);
      } catch (error) {
        return (error as LablogError).message;
      }
      return 'accepted';
    };
    expect(msg({ type: 'bayes' })).toMatch(/sampler\.type must be one of grid, random, tpe/);
    expect(msg({ type: 'tpe', seed: -1 })).toMatch(/sampler\.seed must be an integer from 0 to 2\^32 − 1/);
    expect(msg({ type: 'tpe', startupTrials: 0 })).toMatch(/sampler\.startupTrials must be an integer from 1/);
    expect(msg({ type: 'random', candidates: 3 })).toMatch(/candidates/);
  });
});

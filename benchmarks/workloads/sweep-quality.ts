// Sweep quality: lablog's samplers on Branin and Hartmann-6 (50 trials, 20 seeds), the median best value
// beside Optuna 3.1's figures measured on this machine (given in the issue; Optuna is not run here).

import { createSampler } from '../../src/core/sampler.js';
import { checkSpace } from '../../src/core/sweep-space.js';
import type { SamplerSpec, TrialView } from '../../src/model/sweep.js';
import { log, median, report } from '../measure.js';

const TRIALS = 50;
const SEEDS = Number(process.env['SWEEP_BENCH_SEEDS'] ?? 20);
const SEED_BASE = Number(process.env['SWEEP_BENCH_SEED_BASE'] ?? 0);

function branin(p: Record<string, unknown>): number {
  const x1 = p['x1'] as number;
  const x2 = p['x2'] as number;
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

function hartmann6(p: Record<string, unknown>): number {
  const x = [0, 1, 2, 3, 4, 5].map((i) => p[`x${i}`] as number);
  let total = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += H_A[i]![j]! * (x[j]! - H_P[i]![j]!) ** 2;
    total -= H_ALPHA[i]! * Math.exp(-inner);
  }
  return total;
}

const PROBLEMS = {
  branin: { f: branin, space: checkSpace({ x1: { type: 'float', min: -5, max: 10 }, x2: { type: 'float', min: 0, max: 15 } }) },
  hartmann6: {
    f: hartmann6,
    space: checkSpace(Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [`x${i}`, { type: 'float', min: 0, max: 1 }]))),
  },
};

const SAMPLERS: Record<string, SamplerSpec> = {
  random: { type: 'random' },
  tpe: { type: 'tpe', multivariate: false },
  tpeMultivariate: { type: 'tpe', multivariate: true },
};

const results: Record<string, Record<string, { medianBest: number; bests: number[]; msPerTrial: number }>> = {};
for (const [problem, { f, space }] of Object.entries(PROBLEMS)) {
  results[problem] = {};
  for (const [name, spec] of Object.entries(SAMPLERS)) {
    const bests: number[] = [];
    const t0 = performance.now();
    for (let seed = 0; seed < SEEDS; seed++) {
      const sampler = createSampler(spec, space, 'minimize', SEED_BASE + seed);
      const history: TrialView[] = [];
      let bestValue = Infinity;
      for (let n = 0; n < TRIALS; n++) {
        const params = sampler.sample(n, history)!;
        const value = f(params);
        bestValue = Math.min(bestValue, value);
        history.push({ number: n, status: 'completed', params, value, reports: [] });
      }
      bests.push(bestValue);
    }
    const msPerTrial = (performance.now() - t0) / (SEEDS * TRIALS);
    results[problem][name] = { medianBest: median(bests), bests, msPerTrial };
    log(`${problem} ${name}: median best ${median(bests).toFixed(3)} (${msPerTrial.toFixed(2)} ms per trial)`);
  }
}
report({ trials: TRIALS, seeds: SEEDS, results });

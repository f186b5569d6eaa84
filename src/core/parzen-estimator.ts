// Parzen estimators for TPE: a weighted mixture of truncated-normal (numbers) and smoothed one-hot (enums) kernels, one per observed trial plus a prior; sampling and log density.
// After Optuna's, with two differences: an enum kernel spreads the prior's weight s over its k choices (s/k each, Optuna: s each), and the
// univariate bandwidth does not count the range's ends as neighbours.

import { normalCdf, normalQuantile } from './statistics.js';
import type { Dimension } from './sweep-space.js';
import type { SeededRandom } from './seeded-random.js';

/** Weight of the prior kernel, relative to one observation's (Optuna's prior_weight). */
export const PRIOR_WEIGHT = 1;
/** Multivariate bandwidth: this fraction of the range times n^(−1/(d+4)) (Scott's rule; Optuna's SIGMA0_MAGNITUDE is 0.2, see DEFAULT_TPE_STARTUP_TRIALS). */
export const SIGMA0_MAGNITUDE = 0.07;
/** Observations past this count get decreasing weights, oldest lowest (Optuna's default_weights). */
export const FLAT_WEIGHT_TRIALS = 25;

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** One point of the space on the internal scale: numbers as they are sampled, enums as their index. */
export type InternalPoint = readonly number[];

/**
 * erfc(x) for x ≥ 0 with fractional error below 1.2e-7 everywhere (Numerical Recipes 2nd ed., 6.2, erfcc:
 * a Chebyshev fit): precise enough for a kernel's truncation mass, and much cheaper than statistics.ts'
 * normalCdf, which TPE would call twice per kernel and dimension at every trial.
 */
function erfcApprox(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  return (
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  );
}

/** Φ(b) − Φ(a) for a ≤ b, from the tail nearer each end (so a far tail is not lost to cancellation). */
function normalMass(a: number, b: number): number {
  const upper = (z: number) => (z >= 0 ? 0.5 * erfcApprox(z / Math.SQRT2) : 1 - 0.5 * erfcApprox(-z / Math.SQRT2)); // 1 − Φ(z)
  return a >= 0 ? upper(a) - upper(b) : b <= 0 ? upper(-b) - upper(-a) : 1 - upper(b) - upper(-a);
}

/** Optuna's default_weights: n < 25 all 1; else a ramp from 1/n to 1 for the oldest n − 25, then 25 ones. */
export function observationWeights(n: number): number[] {
  if (n < FLAT_WEIGHT_TRIALS) return new Array<number>(n).fill(1);
  const ramp = n - FLAT_WEIGHT_TRIALS;
  const weights: number[] = [];
  for (let i = 0; i < ramp; i++) weights.push(ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1));
  for (let i = 0; i < FLAT_WEIGHT_TRIALS; i++) weights.push(1);
  return weights;
}

interface NumericKernels {
  readonly kind: 'numeric';
  readonly low: number;
  readonly high: number;
  readonly mus: Float64Array;
  readonly sigmas: Float64Array;
  readonly inverseSigmas: Float64Array;
  /** Per kernel, −log σ − log √(2π) − log(its normal mass inside [low, high]): the constant of its log density. */
  readonly logScale: Float64Array;
}

/**
 * Every observation's kernel gives its own choice one probability and each other choice another (the same
 * two numbers for all of them); the prior's kernel is uniform. So only the observed choices are stored.
 */
interface CategoricalKernels {
  readonly kind: 'categorical';
  readonly choices: number;
  /** The observed choice of each observation's kernel (the prior, last, has none: -1). */
  readonly observed: Int32Array;
  readonly logChosen: number;
  readonly logOther: number;
  readonly logUniform: number;
}

type Kernels = NumericKernels | CategoricalKernels;

/** Univariate bandwidths: the larger distance to a neighbour among the sorted mus (prior included), clipped (Optuna's magic clip). */
function neighbourSigmas(mus: Float64Array, low: number, high: number): Float64Array {
  const n = mus.length;
  const order = Array.from(mus.keys()).sort((a, b) => mus[a]! - mus[b]!);
  const sigmas = new Float64Array(n);
  const range = high - low;
  const minSigma = range / Math.min(100, 1 + n);
  for (let r = 0; r < n; r++) {
    const i = order[r]!;
    const left = r > 0 ? mus[i]! - mus[order[r - 1]!]! : -Infinity;
    const right = r < n - 1 ? mus[order[r + 1]!]! - mus[i]! : -Infinity;
    let sigma = Math.max(left, right);
    if (!Number.isFinite(sigma)) sigma = range;
    sigmas[i] = Math.min(range, Math.max(minSigma, sigma));
  }
  return sigmas;
}

/** A weighted mixture over observed points and a prior, per dimension (univariate) or jointly (multivariate). */
export class ParzenEstimator {
  readonly #dimensions: readonly Dimension[];
  readonly #kernels: Kernels[];
  /** Normalised log weights of the mixture's components (observations, then the prior). */
  readonly #logWeights: Float64Array;
  readonly #weights: Float64Array;
  /** Scratch space for logDensity's per-component terms. */
  readonly #terms: Float64Array;

  /**
   * `points`: observations on the internal scale, oldest first (their weights follow observationWeights).
   * `multivariate`: bandwidths by Scott's rule over all dimensions; else each dimension's own neighbour rule.
   */
  constructor(dimensions: readonly Dimension[], points: readonly InternalPoint[], multivariate: boolean) {
    this.#dimensions = dimensions;
    const n = points.length;
    const weights = [...observationWeights(n), PRIOR_WEIGHT];
    const total = weights.reduce((a, b) => a + b, 0);
    this.#weights = Float64Array.from(weights, (w) => w / total);
    this.#logWeights = Float64Array.from(this.#weights, (w) => Math.log(w));
    this.#terms = new Float64Array(this.#weights.length);
    this.#kernels = dimensions.map((d, j): Kernels => {
      if (d.kind === 'categorical') {
        const k = d.values.length;
        // Each observation's kernel puts its choice first and spreads the prior's weight over all choices.
        const spread = PRIOR_WEIGHT / (n + PRIOR_WEIGHT);
        const observed = new Int32Array(n + 1).fill(-1);
        for (let i = 0; i < n; i++) observed[i] = points[i]![j]!;
        return {
          kind: 'categorical',
          choices: k,
          observed,
          logChosen: Math.log((1 + spread / k) / (1 + spread)),
          logOther: Math.log(spread / k / (1 + spread)),
          logUniform: -Math.log(k),
        };
      }
      const { low, high } = d;
      const range = high - low;
      const mus = new Float64Array(n + 1);
      for (let i = 0; i < n; i++) mus[i] = points[i]![j]!;
      mus[n] = (low + high) / 2;
      let sigmas: Float64Array;
      if (multivariate) {
        const sigma = SIGMA0_MAGNITUDE * Math.max(n, 1) ** (-1 / (dimensions.length + 4)) * range;
        sigmas = new Float64Array(n + 1).fill(Math.min(range, Math.max(range / Math.min(100, n + 2), sigma)));
      } else {
        sigmas = neighbourSigmas(mus, low, high);
      }
      sigmas[n] = range; // the prior: wide, centred
      const logScale = new Float64Array(n + 1);
      for (let i = 0; i <= n; i++) {
        const mass = normalMass((low - mus[i]!) / sigmas[i]!, (high - mus[i]!) / sigmas[i]!);
        logScale[i] = -Math.log(sigmas[i]!) - LOG_SQRT_2PI - Math.log(Math.max(mass, 1e-300));
      }
      return { kind: 'numeric', low, high, mus, sigmas, inverseSigmas: sigmas.map((x) => 1 / x), logScale };
    });
  }

  /** One point drawn from the mixture: a component, then each dimension from that component's kernel. */
  sample(random: SeededRandom): number[] {
    const component = random.choose(this.#weights);
    return this.#kernels.map((k) => {
      if (k.kind === 'categorical') {
        const observed = k.observed[component]!;
        if (observed < 0) return random.below(k.choices);
        const chosen = Math.exp(k.logChosen);
        const other = Math.exp(k.logOther);
        const u = random.uniform() * (chosen + other * (k.choices - 1));
        if (u < chosen) return observed;
        const rest = Math.min(k.choices - 2, Math.floor((u - chosen) / other));
        return rest >= observed ? rest + 1 : rest;
      }
      const mu = k.mus[component]!;
      const sigma = k.sigmas[component]!;
      // Inverse CDF of the normal truncated to [low, high].
      const a = normalCdf((k.low - mu) / sigma);
      const b = normalCdf((k.high - mu) / sigma);
      const u = a + (b - a) * random.uniform();
      const x = mu + sigma * normalQuantile(Math.min(1 - 1e-16, Math.max(1e-300, u)));
      return Math.min(k.high, Math.max(k.low, Number.isFinite(x) ? x : mu));
    });
  }

  /** log density of a point under the joint mixture (one component for all dimensions). */
  logDensity(point: InternalPoint): number {
    const components = this.#weights.length;
    // Dimension by dimension over all components (typed arrays, no call per kernel): the hot loop of TPE.
    const terms = this.#terms;
    terms.set(this.#logWeights);
    for (let j = 0; j < this.#kernels.length; j++) {
      const k = this.#kernels[j]!;
      const x = point[j]!;
      if (k.kind === 'categorical') {
        const observed = k.observed;
        for (let c = 0; c < components; c++) {
          const o = observed[c]!;
          terms[c] = terms[c]! + (o < 0 ? k.logUniform : o === x ? k.logChosen : k.logOther);
        }
      } else {
        const { mus, inverseSigmas, logScale } = k;
        for (let c = 0; c < components; c++) {
          const z = (x - mus[c]!) * inverseSigmas[c]!;
          terms[c] = terms[c]! + logScale[c]! - 0.5 * z * z;
        }
      }
    }
    let max = -Infinity;
    for (let c = 0; c < components; c++) if (terms[c]! > max) max = terms[c]!;
    if (max === -Infinity) return -Infinity;
    let sum = 0;
    for (let c = 0; c < components; c++) sum += Math.exp(terms[c]! - max);
    return max + Math.log(sum);
  }

  get dimensions(): readonly Dimension[] {
    return this.#dimensions;
  }
}

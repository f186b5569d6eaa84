// Statistics: descriptive statistics, Welch's t-test, correlations, Pareto frontier and power analysis for study comparisons.
//
// Pure functions on plain arrays of numbers, with no dependencies. Accuracy: the special functions (log-gamma,
// incomplete beta, normal CDF and quantile) agree with scipy to about 1e-14 relative for moderate arguments; for
// very large degrees of freedom the log-gamma differences in the incomplete beta prefactor lose digits (about 1e-10
// relative at df = 1e5). The test suite checks them against scipy at a relative tolerance of 1e-9.

import { LablogError } from '../model/errors.js';
import type { Goal } from '../model/metric-goal.js';

// ---------------------------------------------------------------------------------------------------------------
// Descriptive statistics
// ---------------------------------------------------------------------------------------------------------------

/** Arithmetic mean. NaN for an empty array; NaN values propagate. */
export function mean(xs: readonly number[]): number {
  const n = xs.length;
  if (n === 0) return NaN;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / n;
}

/**
 * Sum of squared deviations from the mean, by the corrected two-pass algorithm
 * (Chan, Golub & LeVeque 1983, "Algorithms for computing the sample variance", eq. 1.7):
 * Σ(x−m)² − (Σ(x−m))²/n, which cancels most of the rounding error of the first pass's mean.
 */
function sumOfSquaredDeviations(xs: readonly number[], m: number): number {
  let ss = 0;
  let comp = 0;
  for (const x of xs) {
    const d = x - m;
    ss += d * d;
    comp += d;
  }
  return ss - (comp * comp) / xs.length;
}

/** Sample variance with the n−1 (Bessel) denominator. NaN when n < 2. */
function sampleVariance(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  // Rounding can make the corrected sum a tiny negative number for constant data: clamp.
  return Math.max(0, sumOfSquaredDeviations(xs, mean(xs)) / (n - 1));
}

/** Sample standard deviation, √(Σ(x−x̄)²/(n−1)) (like Python's `statistics.stdev`). NaN when n < 2. */
export function sampleStd(xs: readonly number[]): number {
  return Math.sqrt(sampleVariance(xs));
}

export interface Description {
  readonly mean: number;
  /** Sample standard deviation (n−1 denominator); 0 for a single value, NaN for none. */
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/**
 * Mean, sample standard deviation, min, max and count.
 *
 * - n = 0: every field NaN except `n` (0).
 * - n = 1: `std` is 0 (not NaN, unlike {@link sampleStd}): a single run has no observed spread, and a summary
 *   table reads better with "± 0" than with "± NaN".
 * - A NaN value makes mean, std, min and max NaN.
 */
export function describe(xs: readonly number[]): Description {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN, n: 0 };
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    // Math.min/max (rather than < and >) so that a NaN propagates.
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const m = mean(xs);
  const std = n === 1 ? (Number.isNaN(m) ? NaN : 0) : sampleStd(xs);
  return { mean: m, std, min, max, n };
}

// ---------------------------------------------------------------------------------------------------------------
// Special functions
// ---------------------------------------------------------------------------------------------------------------

/** Lanczos coefficients for g = 7, n = 9 (Godfrey; the set quoted by Wikipedia, "Lanczos approximation"). */
const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * ln |Γ(x)|.
 *
 * Lanczos approximation with g = 7, n = 9 (relative error of Γ about 1e-15; Numerical Recipes 6.1 describes the
 * method) for x ≥ 0.5, and the reflection formula Γ(x)·Γ(1−x) = π / sin(πx) below. +Infinity at the poles
 * (0, −1, −2, …); NaN for NaN.
 */
export function logGamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0 && Number.isInteger(x)) return Infinity;
  if (x < 0.5) {
    // Reflection: ln|Γ(x)| = ln(π / |sin(πx)|) − ln Γ(1−x).
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS_COEFFICIENTS[0];
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) sum += LANCZOS_COEFFICIENTS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const BETA_MAX_ITERATIONS = 10_000;
const BETA_EPSILON = 1e-16;
const TINY = 1e-300;

/**
 * Continued fraction for the incomplete beta function, evaluated by the modified Lentz method
 * (Numerical Recipes 3rd ed., 6.4, `betacf`; Lentz 1976). Converges quickly for x < (a+1)/(a+b+2).
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= BETA_MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    // Even step: d_{2m} = m(b−m)x / ((a+2m−1)(a+2m)).
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // Odd step: d_{2m+1} = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)).
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= BETA_EPSILON) break;
  }
  // Not converging within the budget only happens for a or b far beyond 1e7; the last approximant is returned.
  return h;
}

/** I_x(a, b) with y = 1 − x supplied by the caller (so that x near 1 keeps its precision). */
function incompleteBeta(x: number, y: number, a: number, b: number): number {
  if (Number.isNaN(x) || Number.isNaN(y) || !(a > 0) || !(b > 0)) return NaN;
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  // Prefactor x^a (1−x)^b / (a B(a, b)), in logs.
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(y);
  // Use the continued fraction directly where it converges fast, else the symmetry I_x(a,b) = 1 − I_{1−x}(b,a).
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(y, b, a)) / b;
}

/**
 * Regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), for 0 ≤ x ≤ 1 and a, b > 0
 * (scipy.special.betainc). Numerical Recipes 3rd ed., 6.4 (`betai`): continued fraction by the modified Lentz method,
 * with the symmetry relation for x > (a+1)/(a+b+2). NaN outside the domain.
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1)) return NaN;
  return incompleteBeta(x, 1 - x, a, b);
}

/**
 * Two-sided tail probability P(|T| ≥ |t|) of Student's t with `df` degrees of freedom:
 * I_{df/(df+t²)}(df/2, 1/2) (Numerical Recipes 3rd ed., 6.14.9). Computed without subtracting from 1, so small
 * p-values keep their relative precision.
 */
function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || !(df > 0)) return NaN;
  if (!Number.isFinite(t)) return 0;
  if (df === Infinity) return 2 * normalCdf(-Math.abs(t));
  const t2 = t * t;
  // x = df/(df+t²) and 1 − x = t²/(df+t²), both computed directly.
  return incompleteBeta(df / (df + t2), t2 / (df + t2), df / 2, 0.5);
}

/**
 * CDF of Student's t distribution with `df` > 0 degrees of freedom (non-integer df allowed; df = Infinity gives the
 * normal CDF). Via the incomplete beta function: for t < 0, F(t) = ½·I_{df/(df+t²)}(df/2, ½), and F(t) = 1 − F(−t)
 * (Numerical Recipes 3rd ed., 6.14.9). NaN for df ≤ 0 or NaN arguments.
 */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || !(df > 0)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  if (df === Infinity) return normalCdf(t);
  const tail = 0.5 * studentTTwoSidedP(t, df);
  return t < 0 ? tail : 1 - tail;
}

const T_QUANTILE_MAX_ITERATIONS = 200;

/** Density of Student's t with `df` degrees of freedom at t (finite df > 0). */
function studentTPdf(t: number, df: number): number {
  const logNorm = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logNorm - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * Quantile (inverse CDF) of Student's t with `df` > 0 degrees of freedom (scipy.stats.t.ppf). The upper tail
 * q = min(p, 1 − p) is inverted by safeguarded Newton iteration with bisection (Numerical Recipes 3rd ed., 9.4,
 * `rtsafe`) on u = ln t, solving ln P(T > eᵘ) = ln q: in u the heavy tail P(T > t) ≈ C·t^(−df) is nearly linear, so
 * Newton converges in a few steps from the normal quantile, also far in the tail. As accurate as
 * {@link studentTCdf} (about 1e-14 relative). ±Infinity at 1 and 0, NaN for p outside [0, 1] or df ≤ 0.
 */
export function studentTQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || Number.isNaN(df) || !(df > 0) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (df === Infinity) return normalQuantile(p);
  const q = p < 0.5 ? p : 1 - p;
  const logQ = Math.log(q);
  // g(u) = ln P(T > eᵘ) − ln q, decreasing in u; g'(u) = −pdf(t)·t / P(T > t).
  const g = (u: number) => Math.log(0.5 * studentTTwoSidedP(Math.exp(u), df)) - logQ;
  // Start from the normal quantile (the t quantile is larger in magnitude) and widen a bracket [lo, hi] around it.
  let u = Math.log(Math.max(-normalQuantile(q), Number.MIN_VALUE));
  let lo = u;
  let hi = u;
  for (let i = 0; i < T_QUANTILE_MAX_ITERATIONS && g(lo) < 0; i++) lo -= 1;
  for (let i = 0; i < T_QUANTILE_MAX_ITERATIONS && g(hi) > 0; i++) hi += 1;
  for (let i = 0; i < T_QUANTILE_MAX_ITERATIONS; i++) {
    const t = Math.exp(u);
    const tail = 0.5 * studentTTwoSidedP(t, df);
    const value = Math.log(tail) - logQ;
    if (value === 0) break;
    if (value > 0) lo = u;
    else hi = u;
    const slope = (-studentTPdf(t, df) * t) / tail;
    let next = u - value / slope;
    // Outside the bracket (or no slope): bisect instead.
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    const step = next - u;
    u = next;
    if (Math.abs(step) <= 1e-15 * Math.max(1, Math.abs(u)) || hi - lo <= 1e-15 * Math.max(1, Math.abs(u))) break;
  }
  const t = Math.exp(u);
  return p < 0.5 ? -t : t;
}

const SQRT_PI = Math.sqrt(Math.PI);
const ERF_MAX_ITERATIONS = 500;

/**
 * erfc(u) for u ≥ 0, as the regularized incomplete gamma function Q(½, u²) (erf(u) = P(½, u²)):
 * the series P(a, x) = e^{−x} x^a Σ xⁿ / Γ(a+n+1) (Numerical Recipes 3rd ed., 6.2.5; all terms positive, so no
 * cancellation) for u² < 1.5, and the continued fraction for Q(a, x) by modified Lentz (NR 6.2.7, `gcf`) above.
 */
function erfcNonNegative(u: number): number {
  const x = u * u;
  if (x < 1.5) {
    // erf(u) = (2/√π)·e^{−u²}·Σ 2ⁿ u^{2n+1} / (1·3·5···(2n+1)).
    let term = u;
    let sum = u;
    for (let n = 1; n < ERF_MAX_ITERATIONS; n++) {
      term *= x / (n + 0.5);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
    }
    return 1 - (2 / SQRT_PI) * Math.exp(-x) * sum;
  }
  // Q(½, x) = e^{−x} x^{½} / Γ(½) · 1/(x+½− 1·½/(x+5/2− 2·(3/2)/(x+9/2− …))), Γ(½) = √π.
  const a = 0.5;
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < ERF_MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= 1e-16) break;
  }
  return (Math.exp(-x) * u * h) / SQRT_PI;
}

/**
 * Standard normal CDF Φ(z) = ½·erfc(−z/√2), with erfc from the incomplete gamma function Q(½, z²/2)
 * (Numerical Recipes 3rd ed., 6.2). Accurate to about 1e-15 relative, also in the lower tail.
 */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  const u = Math.abs(z) / Math.SQRT2;
  const upperTail = 0.5 * erfcNonNegative(u);
  return z < 0 ? upperTail : 1 - upperTail;
}

// Acklam's rational approximations for the normal quantile (relative error < 1.15e-9 before refinement).
const ACKLAM_A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239,
] as const;
const ACKLAM_B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1] as const;
const ACKLAM_C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783,
] as const;
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const;
const ACKLAM_P_LOW = 0.02425;
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Acklam's approximation for 0 < p ≤ 0.5 (lower and central regions only). */
function acklamLowerHalf(p: number): number {
  const [a0, a1, a2, a3, a4, a5] = ACKLAM_A;
  const [b0, b1, b2, b3, b4] = ACKLAM_B;
  const [c0, c1, c2, c3, c4, c5] = ACKLAM_C;
  const [d0, d1, d2, d3] = ACKLAM_D;
  if (p < ACKLAM_P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/**
 * Standard normal quantile Φ⁻¹(p) (scipy.stats.norm.ppf). Acklam's algorithm (P. J. Acklam, "An algorithm for
 * computing the inverse normal cumulative distribution function", 2003; rational approximations, relative error
 * 1.15e-9) followed by one step of Halley's method on Φ(x) − p, which brings it to about 1e-15 relative.
 * Computed on the lower half only, with Φ⁻¹(p) = −Φ⁻¹(1−p) for p > ½ (1−p is exact there), so both tails are
 * accurate. −Infinity at 0, +Infinity at 1, NaN outside [0, 1].
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p > 0.5) return -normalQuantile(1 - p);
  const x = acklamLowerHalf(p);
  // Halley step: e = Φ(x) − p, u = e·√(2π)·e^{x²/2} (= e / φ(x)), x ← x − u / (1 + x·u/2).
  const e = normalCdf(x) - p;
  const u = e * SQRT_2PI * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Welch's t-test
// ---------------------------------------------------------------------------------------------------------------

export interface WelchResult {
  /** (mean A − mean B) / √(s²_A/n_A + s²_B/n_B). */
  readonly t: number;
  /** Welch–Satterthwaite degrees of freedom (non-integer). */
  readonly df: number;
  /** Two-sided p-value. */
  readonly pValue: number;
  readonly meanA: number;
  readonly meanB: number;
  /** Sample sizes [n_A, n_B]. */
  readonly n: [number, number];
}

/**
 * Welch's unequal-variances t-test, two-sided (scipy.stats.ttest_ind(a, b, equal_var=False)).
 *
 * t = (x̄_A − x̄_B) / √(v_A + v_B) with v = s²/n (sample variances, n−1 denominator), and the Welch–Satterthwaite
 * degrees of freedom df = (v_A + v_B)² / (v_A²/(n_A−1) + v_B²/(n_B−1)) (Welch 1947; Satterthwaite 1946).
 * p = P(|T_df| ≥ |t|) = I_{df/(df+t²)}(df/2, ½).
 *
 * Edge cases:
 * - Fewer than 2 values in either group: `undefined` (no variance can be estimated).
 * - Both variances 0 (each group constant): df = n_A + n_B − 2; if the means are equal t = 0 and p = 1, else
 *   t = ±Infinity (the sign of x̄_A − x̄_B) and p = 0. (scipy returns NaN for the first case.)
 * - Only one variance 0: the formulas apply (df becomes n − 1 of the other group).
 * - NaN values propagate to t, df and p (not filtered out).
 */
export function welchTTest(a: readonly number[], b: readonly number[]): WelchResult | undefined {
  const nA = a.length;
  const nB = b.length;
  if (nA < 2 || nB < 2) return undefined;
  const meanA = mean(a);
  const meanB = mean(b);
  const vA = sampleVariance(a) / nA;
  const vB = sampleVariance(b) / nB;
  const n: [number, number] = [nA, nB];
  if (vA === 0 && vB === 0) {
    const df = nA + nB - 2;
    if (meanA === meanB) return { t: 0, df, pValue: 1, meanA, meanB, n };
    return { t: meanA > meanB ? Infinity : -Infinity, df, pValue: 0, meanA, meanB, n };
  }
  const v = vA + vB;
  const t = (meanA - meanB) / Math.sqrt(v);
  const df = (v * v) / ((vA * vA) / (nA - 1) + (vB * vB) / (nB - 1));
  return { t, df, pValue: studentTTwoSidedP(t, df), meanA, meanB, n };
}

// ---------------------------------------------------------------------------------------------------------------
// Correlation
// ---------------------------------------------------------------------------------------------------------------

function checkSameLength(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) {
    throw new LablogError('INVALID_OPTION', `Correlation needs arrays of the same length, got ${x.length} and ${y.length}`, {
      option: 'y',
      actual: y.length,
    });
  }
}

/**
 * Pearson's product-moment correlation coefficient r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²) (scipy.stats.pearsonr),
 * clamped to [−1, 1]. NaN for fewer than 2 pairs or when either variable has zero variance; NaN values propagate.
 * Throws INVALID_OPTION when the arrays differ in length.
 */
export function pearson(x: readonly number[], y: readonly number[]): number {
  checkSameLength(x, y);
  const n = x.length;
  if (n < 2) return NaN;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / (Math.sqrt(sxx) * Math.sqrt(syy));
  return Math.max(-1, Math.min(1, r));
}

/**
 * Ranks, 1-based, with tied values getting the average of the ranks they span (scipy.stats.rankdata(method='average')):
 * ranks([10, 20, 20, 30]) = [1, 2.5, 2.5, 4]. NaN values get rank NaN and are left out of the ranking of the others.
 */
export function ranks(xs: readonly number[]): number[] {
  const result = new Array<number>(xs.length).fill(NaN);
  const order: number[] = [];
  for (let i = 0; i < xs.length; i++) if (!Number.isNaN(xs[i]!)) order.push(i);
  order.sort((i, j) => xs[i]! - xs[j]! || i - j);
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && xs[order[end]!] === xs[order[start]!]) end++;
    // Positions start..end-1 hold equal values: ranks start+1..end, average (start+1+end)/2.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) result[order[k]!] = rank;
    start = end;
  }
  return result;
}

/**
 * Spearman's rank correlation ρ: Pearson's r on average ranks, so ties are handled exactly
 * (scipy.stats.spearmanr). NaN for fewer than 2 pairs, constant input, or any NaN value.
 * Throws INVALID_OPTION when the arrays differ in length.
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  checkSameLength(x, y);
  if (x.some(Number.isNaN) || y.some(Number.isNaN)) return NaN;
  return pearson(ranks(x), ranks(y));
}

// ---------------------------------------------------------------------------------------------------------------
// Pareto frontier
// ---------------------------------------------------------------------------------------------------------------

export interface ParetoPoint {
  readonly id: string;
  readonly values: readonly number[];
}

/**
 * Ids of the non-dominated points, in input order. Point P dominates Q when P is at least as good as Q on every
 * objective and strictly better on at least one ("better" = lower for 'minimize', higher for 'maximize').
 * Duplicates (equal on every objective) do not dominate each other, so all copies of a frontier point are kept.
 * Points with a NaN value are excluded (neither on the frontier nor dominating anything); ±Infinity compares
 * normally. Throws INVALID_OPTION when a point's number of values differs from the number of goals.
 * O(n²·k) for n points and k objectives.
 */
export function paretoFrontier(points: readonly ParetoPoint[], goals: readonly Goal[]): string[] {
  const k = goals.length;
  for (const point of points) {
    if (point.values.length !== k) {
      throw new LablogError(
        'INVALID_OPTION',
        `Point ${JSON.stringify(point.id)} has ${point.values.length} values but there are ${k} goals`,
        { option: 'goals', actual: point.values.length },
      );
    }
  }
  // Orient every objective as "higher is better".
  const candidates = points
    .filter((point) => !point.values.some(Number.isNaN))
    .map((point) => ({ id: point.id, v: point.values.map((value, i) => (goals[i] === 'minimize' ? -value : value)) }));
  const dominates = (p: readonly number[], q: readonly number[]): boolean => {
    let strictly = false;
    for (let i = 0; i < k; i++) {
      if (p[i]! < q[i]!) return false;
      if (p[i]! > q[i]!) strictly = true;
    }
    return strictly;
  };
  return candidates.filter((q) => !candidates.some((p) => p !== q && dominates(p.v, q.v))).map((q) => q.id);
}

// ---------------------------------------------------------------------------------------------------------------
// Power analysis
// ---------------------------------------------------------------------------------------------------------------

export interface SampleSizeOptions {
  /** Minimum detectable difference between the group means, in the metric's units (> 0). */
  readonly effectSize: number;
  /** Two-sided significance level, 0 < alpha < 1 (e.g. 0.05). */
  readonly alpha: number;
  /** Desired power, 0 < power < 1 (e.g. 0.8). */
  readonly power: number;
  /** Standard deviation of the metric within a group (> 0). Default 1, which makes effectSize Cohen's d. */
  readonly sd?: number;
}

/**
 * Runs needed per group for a two-sided two-sample test to detect a difference of `effectSize` with the given
 * power, by the normal approximation (e.g. Chow, Shao & Wang, "Sample Size Calculations in Clinical Research",
 * 3.2.1): n = ⌈2·(z_{1−α/2} + z_{power})²·(sd/effectSize)²⌉. It slightly underestimates the t-test's n for small
 * samples (d = 0.5, α = 0.05, power 0.8: 63 here, 64 with the exact t distribution).
 * Never less than 2, the fewest values {@link welchTTest} accepts.
 * Throws INVALID_OPTION for alpha or power outside (0, 1), or effectSize or sd not a positive finite number.
 */
export function sampleSizePerGroup(options: SampleSizeOptions): number {
  const { effectSize, alpha, power, sd = 1 } = options;
  if (!(typeof alpha === 'number' && alpha > 0 && alpha < 1)) {
    throw new LablogError('INVALID_OPTION', `alpha must be between 0 and 1 (exclusive), got ${String(alpha)}`, {
      option: 'alpha',
      actual: alpha,
    });
  }
  if (!(typeof power === 'number' && power > 0 && power < 1)) {
    throw new LablogError('INVALID_OPTION', `power must be between 0 and 1 (exclusive), got ${String(power)}`, {
      option: 'power',
      actual: power,
    });
  }
  if (!(typeof effectSize === 'number' && effectSize > 0 && Number.isFinite(effectSize))) {
    throw new LablogError('INVALID_OPTION', `effectSize must be a positive finite number, got ${String(effectSize)}`, {
      option: 'effectSize',
      actual: effectSize,
    });
  }
  if (!(typeof sd === 'number' && sd > 0 && Number.isFinite(sd))) {
    throw new LablogError('INVALID_OPTION', `sd must be a positive finite number, got ${String(sd)}`, { option: 'sd', actual: sd });
  }
  // z_{1−α/2} = −Φ⁻¹(α/2), which avoids rounding 1 − α/2. A negative sum (power below α/2) means no runs are needed.
  const z = Math.max(0, -normalQuantile(alpha / 2) + normalQuantile(power));
  const ratio = sd / effectSize;
  return Math.max(2, Math.ceil(2 * z * z * ratio * ratio));
}

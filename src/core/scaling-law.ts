// Scaling law: least-squares fit of L(N) = a·N^(−b) + c to (size, value) points, its uncertainty, and the size a target needs.
//
// Method: variable projection (Golub & Pereyra 1973, "The differentiation of pseudo-inverses and nonlinear least
// squares problems whose variables separate"). For a fixed exponent b the model is linear in a and c, so a and c
// come from a simple linear regression of L on N^(−b) and the residual sum of squares becomes a function of b
// alone, RSS(b). RSS(b) is evaluated on a log-spaced grid of b in [MIN_SCALING_EXPONENT, MAX_SCALING_EXPONENT]
// (which finds the global minimum up to the grid's resolution, where Gauss–Newton from a guess may stop in a
// local one), then the minimum is refined by bisection on the sign of dRSS/db = 2·a·Σ rᵢ·ln(Nᵢ)·Nᵢ^(−b) (the
// partial derivative at the optimal a, c equals the total one: Golub & Pereyra, theorem 2.1) to full precision.
//
// Uncertainty as scipy.optimize.curve_fit reports it (absolute_sigma=False): covariance s²·(JᵀJ)⁻¹ with J the
// Jacobian of the model at the optimum and s² = RSS/(n − 3); (JᵀJ)⁻¹ = R⁻¹R⁻ᵀ from a Householder QR of J. The
// intervals are estimate ± t_{0.975, n−3}·standard error: they assume independent errors of equal variance and
// a model linear enough near the optimum, and are wider than they look when n is small.
//
// Sizes are divided by their geometric mean before fitting (a = α·N̄^b for the fitted α), which keeps N^(−b) near
// 1 whatever the units of N; the covariance is carried back to (a, b, c) by the Jacobian of that change.

import { LablogError } from '../model/errors.js';
import { studentTQuantile } from './statistics.js';

/** Fewest points (and distinct sizes) a fit of three parameters needs. */
export const MIN_SCALING_POINTS = 3;
/** Smallest exponent b searched: below it N^(−b) is nearly linear in ln N and a, c are not separable. */
export const MIN_SCALING_EXPONENT = 1e-3;
/** Largest exponent b searched. */
export const MAX_SCALING_EXPONENT = 10;
/** Points of the grid of b (log-spaced) searched before refinement. */
export const SCALING_EXPONENT_GRID = 400;
/** Bisection steps refining b (each halves the bracket; 100 is far below the precision of a double). */
const MAX_BISECTION_STEPS = 100;
/** Confidence level of the reported intervals. */
export const SCALING_CONFIDENCE_LEVEL = 0.95;

export interface PowerLawParameters {
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

export interface PowerLawFit extends PowerLawParameters {
  /** Standard errors of a, b, c; null when n − 3 < 1 (no residual degrees of freedom) or the Jacobian is singular. */
  readonly standardErrors: PowerLawParameters | null;
  /** Intervals at SCALING_CONFIDENCE_LEVEL, estimate ± t·standard error; null with the standard errors. */
  readonly confidenceIntervals: { readonly a: [number, number]; readonly b: [number, number]; readonly c: [number, number] } | null;
  readonly confidenceLevel: number;
  /** Residual sum of squares. */
  readonly rss: number;
  /** 1 − RSS / Σ(L − mean L)²; NaN when every value is the same. */
  readonly rSquared: number;
  readonly n: number;
  /** n − 3. */
  readonly degreesOfFreedom: number;
  /** The best b is at an end of the searched range, or the fit is flat (a = 0): the data do not pin the exponent down. */
  readonly exponentAtBound: boolean;
}

/** L(N) = a·N^(−b) + c. */
export function powerLawValue(fit: PowerLawParameters, size: number): number {
  return fit.a * Math.pow(size, -fit.b) + fit.c;
}

/** The size at which the fitted curve reaches `target`, or why it never does. */
export function sizeForTarget(fit: PowerLawParameters, target: number): { size: number; reason: null } | { size: null; reason: string } {
  const { a, b, c } = fit;
  if (a === 0) return { size: null, reason: `the fitted curve is flat at ${Number(c.toPrecision(6))}` };
  // a·N^(−b) = target − c has a solution N > 0 only when target − c has the sign of a.
  const ratio = a / (target - c);
  if (!(ratio > 0) || !Number.isFinite(ratio)) {
    const side = a > 0 ? 'at or below' : 'at or above';
    return {
      size: null,
      reason: `the target ${target} is ${side} the asymptote c = ${Number(c.toPrecision(6))}, which the curve approaches but never crosses`,
    };
  }
  const size = Math.pow(ratio, 1 / b);
  if (!Number.isFinite(size)) return { size: null, reason: `the size needed overflows a double (${a} / (${target} − ${c}))^(1/${b})` };
  return { size, reason: null };
}

/** Linear regression y ≈ α·x + c on centred data; the residual sum of squares computed from the residuals. */
function linearFit(x: readonly number[], y: readonly number[]): { alpha: number; c: number; rss: number } {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i]! - mx) * (x[i]! - mx);
    sxy += (x[i]! - mx) * (y[i]! - my);
  }
  const alpha = sxx > 0 ? sxy / sxx : 0;
  const c = my - alpha * mx;
  let rss = 0;
  for (let i = 0; i < n; i++) {
    const r = y[i]! - alpha * x[i]! - c;
    rss += r * r;
  }
  return { alpha, c, rss };
}

/**
 * (JᵀJ)⁻¹ for an n×3 matrix J (columns given), by Householder QR (Golub & Van Loan, "Matrix Computations",
 * 4th ed., 5.2.1): JᵀJ = RᵀR, so (JᵀJ)⁻¹ = R⁻¹R⁻ᵀ. Null when a column is (numerically) dependent on the others.
 */
function inverseNormalMatrix(columns: readonly (readonly number[])[]): number[][] | null {
  const n = columns[0]!.length;
  const m = columns.length;
  const A = columns.map((col) => [...col]);
  const R = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  for (let k = 0; k < m; k++) {
    let norm = 0;
    for (let i = k; i < n; i++) norm = Math.hypot(norm, A[k]![i]!);
    const scale = columns[k]!.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
    if (!(norm > scale * 1e-13)) return null;
    const alpha = A[k]![k]! > 0 ? -norm : norm;
    // v = x − alpha·e₁, H = I − 2vvᵀ/(vᵀv), applied to the remaining columns.
    const v = A[k]!.slice(k);
    v[0] = v[0]! - alpha;
    const vv = v.reduce((s, x) => s + x * x, 0);
    R[k]![k] = alpha;
    for (let j = k + 1; j < m; j++) {
      let dot = 0;
      for (let i = k; i < n; i++) dot += v[i - k]! * A[j]![i]!;
      const f = (2 * dot) / vv;
      for (let i = k; i < n; i++) A[j]![i] = A[j]![i]! - f * v[i - k]!;
      R[k]![j] = A[j]![k]!;
    }
  }
  // Rinv: upper triangular inverse of R by back substitution.
  const Rinv = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  for (let j = 0; j < m; j++) {
    Rinv[j]![j] = 1 / R[j]![j]!;
    for (let i = j - 1; i >= 0; i--) {
      let s = 0;
      for (let k = i + 1; k <= j; k++) s += R[i]![k]! * Rinv[k]![j]!;
      Rinv[i]![j] = -s / R[i]![i]!;
    }
  }
  const inverse = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = Math.max(i, j); k < m; k++) s += Rinv[i]![k]! * Rinv[j]![k]!;
      inverse[i]![j] = s;
    }
  return inverse;
}

/**
 * Fits L(N) = a·N^(−b) + c by least squares (see the top of this file for the method). Sizes must be positive
 * finite numbers and values finite; INSUFFICIENT_RUNS below MIN_SCALING_POINTS points or distinct sizes.
 */
export function fitPowerLaw(sizes: readonly number[], values: readonly number[]): PowerLawFit {
  if (sizes.length !== values.length) {
    throw new LablogError('INVALID_OPTION', `fitPowerLaw: ${sizes.length} sizes but ${values.length} values`, { option: 'values' });
  }
  for (const [what, list] of [
    ['sizes', sizes],
    ['values', values],
  ] as const) {
    const bad = list.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v) || (what === 'sizes' && v <= 0));
    if (bad >= 0) {
      throw new LablogError(
        'INVALID_OPTION',
        `fitPowerLaw: ${what} must be ${what === 'sizes' ? 'positive ' : ''}finite numbers; ${what}[${bad}] is ${String(list[bad])}`,
        { option: what, actual: list[bad] },
      );
    }
  }
  const distinct = new Set(sizes).size;
  if (sizes.length < MIN_SCALING_POINTS || distinct < MIN_SCALING_POINTS) {
    throw new LablogError(
      'INSUFFICIENT_RUNS',
      `a scaling-law fit (a, b and c) needs ${MIN_SCALING_POINTS} points at ${MIN_SCALING_POINTS} distinct sizes; got ${sizes.length} points at ${distinct} sizes`,
      { completed: Math.min(sizes.length, distinct), minimumRequired: MIN_SCALING_POINTS },
    );
  }
  const n = sizes.length;
  const logs = sizes.map((s) => Math.log(s));
  const logRef = logs.reduce((s, l) => s + l, 0) / n;
  const ell = logs.map((l) => l - logRef);
  const xs = (b: number) => ell.map((l) => Math.exp(-b * l));
  const profile = (b: number) => {
    const x = xs(b);
    const fit = linearFit(x, values);
    return { ...fit, x, rss: Number.isFinite(fit.rss) ? fit.rss : Infinity };
  };
  // dRSS/db at the optimal α, c: r = y − αx − c, ∂r/∂b = α·ℓ·x.
  const slope = (b: number) => {
    const { alpha, c, x } = profile(b);
    let s = 0;
    for (let i = 0; i < n; i++) s += (values[i]! - alpha * x[i]! - c) * ell[i]! * x[i]!;
    return 2 * alpha * s;
  };

  const logMin = Math.log(MIN_SCALING_EXPONENT);
  const logStep = (Math.log(MAX_SCALING_EXPONENT) - logMin) / (SCALING_EXPONENT_GRID - 1);
  const grid = Array.from({ length: SCALING_EXPONENT_GRID }, (_, i) =>
    i === SCALING_EXPONENT_GRID - 1 ? MAX_SCALING_EXPONENT : Math.exp(logMin + i * logStep),
  );
  let best = 0;
  let bestRss = Infinity;
  grid.forEach((b, i) => {
    const rss = profile(b).rss;
    if (rss < bestRss) {
      bestRss = rss;
      best = i;
    }
  });
  let b = grid[best]!;
  let exponentAtBound = false;
  // The minimum lies where dRSS/db turns from negative to positive: look on both sides of the best grid point.
  const brackets: [number, number][] = [];
  if (best > 0) brackets.push([grid[best - 1]!, b]);
  if (best < grid.length - 1) brackets.push([b, grid[best + 1]!]);
  const bracket = brackets.find(([lo, hi]) => slope(lo) <= 0 && slope(hi) >= 0);
  if (bracket === undefined) {
    exponentAtBound = best === 0 || best === grid.length - 1;
  } else {
    let [lo, hi] = bracket;
    for (let i = 0; i < MAX_BISECTION_STEPS && hi - lo > 2 * Number.EPSILON * hi; i++) {
      const mid = (lo + hi) / 2;
      if (mid <= lo || mid >= hi) break;
      if (slope(mid) < 0) lo = mid;
      else hi = mid;
    }
    b = profile(lo).rss <= profile(hi).rss ? lo : hi;
  }
  const { alpha, c, rss, x } = profile(b);
  // A flat fit (a = 0, a constant metric) leaves b undetermined: said the same way as an exponent at the range's end.
  if (alpha === 0) exponentAtBound = true;
  const scaleA = Math.exp(b * logRef);
  const a = alpha * scaleA;
  const meanValue = values.reduce((s, v) => s + v, 0) / n;
  const tss = values.reduce((s, v) => s + (v - meanValue) * (v - meanValue), 0);
  const rSquared = tss > 0 ? 1 - rss / tss : NaN;
  const degreesOfFreedom = n - MIN_SCALING_POINTS;

  let standardErrors: PowerLawParameters | null = null;
  let confidenceIntervals: PowerLawFit['confidenceIntervals'] = null;
  // Jacobian in (α, b, c): ∂f/∂α = x, ∂f/∂b = −α·ℓ·x, ∂f/∂c = 1.
  const inverse = degreesOfFreedom >= 1 ? inverseNormalMatrix([x, x.map((xi, i) => -alpha * ell[i]! * xi), x.map(() => 1)]) : null;
  if (inverse !== null) {
    const s2 = rss / degreesOfFreedom;
    // a = α·e^{b·ln N̄}: da = e^{b·ln N̄}·dα + a·ln N̄·db, so var a = T·Cov·Tᵀ with T = (e^{b·ln N̄}, a·ln N̄, 0).
    const t0 = scaleA;
    const t1 = a * logRef;
    const varA = s2 * (t0 * t0 * inverse[0]![0]! + 2 * t0 * t1 * inverse[0]![1]! + t1 * t1 * inverse[1]![1]!);
    const se = {
      a: Math.sqrt(Math.max(0, varA)),
      b: Math.sqrt(Math.max(0, s2 * inverse[1]![1]!)),
      c: Math.sqrt(Math.max(0, s2 * inverse[2]![2]!)),
    };
    const t = studentTQuantile(1 - (1 - SCALING_CONFIDENCE_LEVEL) / 2, degreesOfFreedom);
    standardErrors = se;
    confidenceIntervals = {
      a: [a - t * se.a, a + t * se.a],
      b: [b - t * se.b, b + t * se.b],
      c: [c - t * se.c, c + t * se.c],
    };
  }
  return {
    a,
    b,
    c,
    standardErrors,
    confidenceIntervals,
    confidenceLevel: SCALING_CONFIDENCE_LEVEL,
    rss,
    rSquared,
    n,
    degreesOfFreedom,
    exponentAtBound,
  };
}

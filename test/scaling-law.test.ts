// The scaling-law fit L(N) = a·N^(−b) + c against scipy's curve_fit: estimates, standard errors, intervals, R², and target sizes.

import { describe, expect, it } from 'vitest';
import { LablogError } from '../src/model/errors.js';
import { MAX_SCALING_EXPONENT, fitPowerLaw, powerLawValue, sizeForTarget } from '../src/core/scaling-law.js';

// Reference values: Python 3.11, scipy 1.17.1, numpy; printed with repr() and pasted here. Each data set was fitted with
//
//   from scipy.optimize import curve_fit; from scipy import stats; import numpy as np
//   f = lambda N, a, b, c: a * N**(-b) + c
//   p, cov = curve_fit(f, np.array(N), np.array(L), p0=P0, ftol=1e-15, xtol=1e-15, gtol=1e-15, maxfev=100000)
//   se = np.sqrt(np.diag(cov)); r = L - f(N, *p); rss = r @ r; r2 = 1 - rss / ((L - L.mean())**2).sum()
//   t = stats.t.ppf(0.975, len(N) - 3)
//
// (curve_fit's default absolute_sigma=False: cov = RSS/(n−3)·(JᵀJ)⁻¹, the same definition lablog uses.)
//
// Tolerance: relative 1e-6. The fits agree to about 1e-8: the exponent is weakly determined (RSS is flat along a
// valley in (a, b)), so two correct optimizers stop a few 1e-9 apart; a wrong formula shows up at 1e-3 or worse.
const REL = 1e-6;

function expectRel(actual: number | undefined, expected: number, rel = REL): void {
  expect(actual).toBeTypeOf('number');
  const a = actual as number;
  if (!(Math.abs(a - expected) <= Math.abs(expected) * rel)) {
    throw new Error(`expected ${a} to be within relative ${rel} of ${expected} (difference ${Math.abs(a - expected)})`);
  }
}

function lablogError(fn: () => unknown): LablogError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LablogError);
    return error as LablogError;
  }
  throw new Error('expected a LablogError, nothing was thrown');
}

const SIZES = [1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9];

describe('fitPowerLaw', () => {
  it('recovers a, b and c exactly from noiseless points (Chinchilla-like a = 406.4, b = 0.34, c = 1.69)', () => {
    const losses = SIZES.map((n) => 406.4 * n ** -0.34 + 1.69);
    // scipy, P0 = [300, 0.3, 1.5]: p = [406.40000000000055, 0.34000000000000014, 1.6900000000000006], rss 1.97e-30, r2 1.0.
    const fit = fitPowerLaw(SIZES, losses);
    expectRel(fit.a, 406.40000000000055, 1e-10);
    expectRel(fit.b, 0.34000000000000014, 1e-10);
    expectRel(fit.c, 1.6900000000000006, 1e-10);
    expect(fit.rss).toBeLessThan(1e-25);
    expect(fit.rSquared).toBe(1);
    expect(fit).toMatchObject({ n: 7, degreesOfFreedom: 4, confidenceLevel: 0.95, exponentAtBound: false });
    // The standard errors are rounding noise (scipy: 1.5e-12, 2.8e-16, 1.2e-15): only their size is meaningful.
    expect(fit.standardErrors!.a).toBeLessThan(1e-9);
    expect(fit.standardErrors!.b).toBeLessThan(1e-12);
    expect(fit.standardErrors!.c).toBeLessThan(1e-12);
    expectRel(powerLawValue(fit, 1e10), 406.4 * 1e10 ** -0.34 + 1.69, 1e-12);
  });

  it('matches scipy on noisy losses: estimates, standard errors, 95% intervals, RSS and R²', () => {
    const losses = [3.412, 2.853, 2.447, 2.171, 1.995, 1.873, 1.801];
    const fit = fitPowerLaw(SIZES, losses);
    // scipy, P0 = [300, 0.3, 1.5].
    const p = [206.92474411096077, 0.3439927000324011, 1.6279764217170085];
    const se = [20.533077644376757, 0.007571774081180198, 0.015331094836716715];
    const t = 2.7764451051977934; // stats.t.ppf(0.975, 4)
    expectRel(fit.a, p[0]!);
    expectRel(fit.b, p[1]!);
    expectRel(fit.c, p[2]!);
    expectRel(fit.standardErrors!.a, se[0]!);
    expectRel(fit.standardErrors!.b, se[1]!);
    expectRel(fit.standardErrors!.c, se[2]!);
    expectRel(fit.rss, 0.00032274747865478943);
    expectRel(fit.rSquared, 0.9998445168722391, 1e-12);
    const ci = fit.confidenceIntervals!;
    (['a', 'b', 'c'] as const).forEach((k, i) => {
      expectRel(ci[k][0], p[i]! - t * se[i]!);
      expectRel(ci[k][1], p[i]! + t * se[i]!);
    });
    // Sizes in other units (thousands) move a by 1000^b and leave b, c and their errors alone.
    const scaled = fitPowerLaw(
      SIZES.map((n) => n / 1000),
      losses,
    );
    expectRel(scaled.b, p[1]!);
    expectRel(scaled.c, p[2]!);
    expectRel(scaled.a, p[0]! * 1000 ** -p[1]!);
    expectRel(scaled.standardErrors!.c, se[2]!);
  });

  it('fits a rising metric (accuracy, a < 0) with one residual degree of freedom, as scipy does', () => {
    const fit = fitPowerLaw([1e5, 1e6, 1e7, 1e8], [0.612, 0.744, 0.831, 0.869]);
    // scipy, P0 = [-5, 0.3, 0.9]; t = stats.t.ppf(0.975, 1) = 12.706204736174694.
    expectRel(fit.a, -5.043157388805773);
    expectRel(fit.b, 0.23901464024396965);
    expectRel(fit.c, 0.9330609311311899);
    expectRel(fit.standardErrors!.a, 1.831526060038985);
    expectRel(fit.standardErrors!.b, 0.03714729997902446);
    expectRel(fit.standardErrors!.c, 0.02454154182852181);
    expectRel(fit.rss, 4.276239353394097e-5);
    expectRel(fit.rSquared, 0.9989040342012933, 1e-10);
    expectRel(fit.confidenceIntervals!.b[1], 0.23901464024396965 + 12.706204736174694 * 0.03714729997902446);
    expect(fit.degreesOfFreedom).toBe(1);
  });

  it('interpolates three points exactly, with no intervals (n − 3 = 0)', () => {
    // 2·N^(−1) + 1 through N = 1, 2, 4.
    const fit = fitPowerLaw([4, 1, 2], [1.5, 3, 2]);
    expectRel(fit.a, 2, 1e-12);
    expectRel(fit.b, 1, 1e-12);
    expectRel(fit.c, 1, 1e-12);
    expect(fit.degreesOfFreedom).toBe(0);
    expect(fit.standardErrors).toBeNull();
    expect(fit.confidenceIntervals).toBeNull();
  });

  it('refuses fewer than 3 points or 3 distinct sizes, and sizes that are not positive', () => {
    const few = lablogError(() => fitPowerLaw([1, 2], [1, 2]));
    expect(few.code).toBe('INSUFFICIENT_RUNS');
    expect(few.message).toContain('needs 3 points at 3 distinct sizes; got 2 points at 2 sizes');
    const repeated = lablogError(() => fitPowerLaw([1, 1, 2, 2], [3, 3.1, 2, 2.1]));
    expect(repeated.code).toBe('INSUFFICIENT_RUNS');
    expect(repeated.message).toContain('got 4 points at 2 sizes');
    const negative = lablogError(() => fitPowerLaw([1, -2, 3], [1, 2, 3]));
    expect(negative).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('sizes[1] is -2') });
    expect(lablogError(() => fitPowerLaw([1, 2, 3], [1, NaN, 3])).message).toContain('values[1] is NaN');
  });

  it('says when the exponent runs to the end of the searched range', () => {
    // A straight line in N: the best "power law" wants b → 0 (a → ∞): no exponent in range fits.
    const fit = fitPowerLaw([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]);
    expect(fit.exponentAtBound).toBe(true);
    // Points only at the smallest size differ: b wants to be huge.
    const steep = fitPowerLaw([1, 10, 100, 1000], [2, 1, 1, 1]);
    expect(steep.b).toBe(MAX_SCALING_EXPONENT);
    expect(steep.exponentAtBound).toBe(true);
    // A constant metric: a = 0, no exponent to speak of, no standard errors (the Jacobian's b column is 0).
    const flat = fitPowerLaw([1, 10, 100, 1000], [2, 2, 2, 2]);
    expect(flat).toMatchObject({ a: 0, c: 2, rss: 0, exponentAtBound: true, standardErrors: null, confidenceIntervals: null });
    expect(flat.rSquared).toBeNaN();
  });
});

describe('sizeForTarget', () => {
  const falling = { a: 406.4, b: 0.34, c: 1.69 };
  it('is the size where the curve meets the target, (a / (target − c))^(1/b)', () => {
    const { size } = sizeForTarget(falling, 2);
    expectRel(size!, (406.4 / 0.31) ** (1 / 0.34), 1e-12);
    expectRel(powerLawValue(falling, size!), 2, 1e-12);
    // Rising accuracy: a < 0, the asymptote above.
    const rising = { a: -5, b: 0.24, c: 0.93 };
    expectRel(sizeForTarget(rising, 0.9).size!, (-5 / (0.9 - 0.93)) ** (1 / 0.24), 1e-12);
  });
  it('is unreachable beyond the asymptote, with the reason', () => {
    expect(sizeForTarget(falling, 1.5)).toEqual({
      size: null,
      reason: 'the target 1.5 is at or below the asymptote c = 1.69, which the curve approaches but never crosses',
    });
    expect(sizeForTarget(falling, 1.69).size).toBeNull();
    expect(sizeForTarget({ a: -5, b: 0.24, c: 0.93 }, 0.95).reason).toContain('at or above the asymptote c = 0.93');
    expect(sizeForTarget({ a: 0, b: 1, c: 2 }, 3).reason).toBe('the fitted curve is flat at 2');
  });
});

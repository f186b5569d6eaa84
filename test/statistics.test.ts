import { describe, expect, it } from 'vitest';
import { LablogError } from '../src/model/errors.js';
import {
  describe as describeSample,
  logGamma,
  mean,
  normalCdf,
  normalQuantile,
  paretoFrontier,
  pearson,
  ranks,
  regularizedIncompleteBeta,
  sampleSizePerGroup,
  sampleStd,
  spearman,
  studentTCdf,
  studentTQuantile,
  welchTTest,
} from '../src/core/statistics.js';

// Reference values: computed with Python 3.11, scipy 1.17.1 and numpy, printed with repr() (17 significant digits)
// and pasted here. The one-liner for each is in the comment next to it, with `from scipy import stats, special`.
//
// Tolerance: relative 1e-9 (absolute 1e-300 when the reference is 0) for t, df, p-values, correlations, CDFs,
// quantiles and special functions. The implementation agrees with scipy to about 1e-14, so 1e-9 leaves room for
// platform differences while still catching any wrong formula or constant (which shows up at 1e-3 or worse).
const REL = 1e-9;

function expectRel(actual: number | undefined, expected: number, rel = REL): void {
  expect(actual).toBeTypeOf('number');
  const a = actual as number;
  const tolerance = Math.max(Math.abs(expected) * rel, 1e-300);
  if (!(Math.abs(a - expected) <= tolerance)) {
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

// Wikipedia, "Welch's t-test", example 1: two samples of 15 values (the article gives t = −2.46, df = 24.9,
// p = 0.021 for the Welch test).
const WIKI_A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
const WIKI_A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];

// Two groups of run accuracies of different sizes and spreads.
const ACC_A = [0.912, 0.934, 0.921, 0.905, 0.929, 0.917];
const ACC_B = [0.889, 0.931, 0.874, 0.902, 0.918, 0.866, 0.895, 0.909, 0.881];

// Two clearly separated groups: a p-value far below 1e-10 (checked relatively, not with a fixed number of decimals).
const SEP_A = [10.1, 9.9, 10.0, 10.2, 9.8, 10.05, 9.95, 10.1, 9.9, 10.0];
const SEP_B = [12.0, 12.3, 11.8, 12.1, 11.9, 12.2, 11.7, 12.05];

// Anscombe's quartet, data set I (r ≈ 0.816).
const ANSCOMBE_X = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
const ANSCOMBE_Y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68];

// Wikipedia, "Spearman's rank correlation coefficient", example: IQ against hours of TV per week; ρ = −29/165.
const IQ = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110];
const TV = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17];

// A small set with ties in both variables.
const TIES_X = [1, 2, 2, 3, 4, 4, 4, 5];
const TIES_Y = [2, 1, 3, 3, 5, 4, 6, 5];

describe('descriptive statistics', () => {
  it('mean', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([-5])).toBe(-5);
    expect(mean([])).toBeNaN();
    expect(mean([1, NaN])).toBeNaN();
    // np.mean(A1) = 20.819999999999997, np.mean(A2) = 22.986666666666665
    expectRel(mean(WIKI_A1), 20.82);
    expectRel(mean(WIKI_A2), 22.986666666666665);
  });

  it('sampleStd uses the n−1 denominator (Python statistics.stdev)', () => {
    // statistics.stdev([2,4,4,4,5,5,7,9]) = 2.138089935299395
    expectRel(sampleStd([2, 4, 4, 4, 5, 5, 7, 9]), 2.138089935299395);
    // statistics.stdev(A1) = 2.804893682731767
    expectRel(sampleStd(WIKI_A1), 2.804893682731767);
    // statistics.stdev(ACC_A) = 0.010726913193769533
    expectRel(sampleStd(ACC_A), 0.010726913193769533);
    expect(sampleStd([3, 3, 3])).toBe(0);
    expect(sampleStd([1e9 + 0.1, 1e9 + 0.1, 1e9 + 0.1])).toBe(0);
    expect(sampleStd([4])).toBeNaN();
    expect(sampleStd([])).toBeNaN();
  });

  it('describe: mean, sample std, min, max, n; n = 1 gives std 0 and n = 0 gives NaN', () => {
    const d = describeSample([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(d.mean).toBe(5);
    expectRel(d.std, 2.138089935299395);
    expect(d).toMatchObject({ min: 2, max: 9, n: 8 });
    expect(describeSample([0.25])).toEqual({ mean: 0.25, std: 0, min: 0.25, max: 0.25, n: 1 });
    const empty = describeSample([]);
    expect(empty.n).toBe(0);
    expect(empty.mean).toBeNaN();
    expect(empty.std).toBeNaN();
    expect(empty.min).toBeNaN();
    expect(empty.max).toBeNaN();
    const withNaN = describeSample([1, NaN, 3]);
    expect(withNaN.n).toBe(3);
    expect([withNaN.mean, withNaN.std, withNaN.min, withNaN.max].every(Number.isNaN)).toBe(true);
  });
});

describe('special functions', () => {
  it('logGamma matches scipy.special.gammaln', () => {
    // special.gammaln(x) for x in [0.5, 3.3, 10, 100.5]
    expectRel(logGamma(0.5), 0.5723649429247);
    expectRel(logGamma(3.3), 0.9870985778947343);
    expectRel(logGamma(10), 12.801827480081469);
    expectRel(logGamma(100.5), 361.43554046777757);
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(2)).toBeCloseTo(0, 14);
    expect(logGamma(0)).toBe(Infinity);
    expect(logGamma(-3)).toBe(Infinity);
    expect(logGamma(NaN)).toBeNaN();
  });

  it('regularizedIncompleteBeta matches scipy.special.betainc', () => {
    // special.betainc(a, b, x) — note scipy's argument order (a, b, x)
    expectRel(regularizedIncompleteBeta(0.5, 2, 3), 0.6875); // special.betainc(2, 3, 0.5) = 0.6875 (11/16 exactly)
    expectRel(regularizedIncompleteBeta(0.2, 0.5, 0.5), 0.2951672353008665); // special.betainc(0.5, 0.5, 0.2)
    expectRel(regularizedIncompleteBeta(0.9, 12.45, 0.5), 0.10878403409467577); // special.betainc(12.45, 0.5, 0.9)
    expectRel(regularizedIncompleteBeta(0.35, 30, 60), 0.6393308373947568); // special.betainc(30, 60, 0.35)
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
    expect(regularizedIncompleteBeta(1.5, 2, 3)).toBeNaN();
    expect(regularizedIncompleteBeta(0.5, 0, 3)).toBeNaN();
  });

  it('studentTCdf matches scipy.stats.t.cdf, including non-integer df', () => {
    // stats.t.cdf(t, df)
    expectRel(studentTCdf(-2.46, 24.9), 0.010592733644480322);
    expectRel(studentTCdf(1.5, 3), 0.8847080673775886);
    expectRel(studentTCdf(-0.7, 2.5), 0.271702471594774);
    expectRel(studentTCdf(3.1, 17.25), 0.9967905341344115);
    expectRel(studentTCdf(-6, 40), 2.3632275663940903e-7);
    expectRel(studentTCdf(0.25, 1), 0.5779791303773694);
    expect(studentTCdf(0, 7)).toBe(0.5);
    expect(studentTCdf(Infinity, 3)).toBe(1);
    expect(studentTCdf(-Infinity, 3)).toBe(0);
    expect(studentTCdf(1.3, Infinity)).toBe(normalCdf(1.3));
    expect(studentTCdf(1, 0)).toBeNaN();
    expect(studentTCdf(NaN, 3)).toBeNaN();
  });

  it('normalCdf matches scipy.stats.norm.cdf', () => {
    // stats.norm.cdf(z)
    expectRel(normalCdf(-7), 1.279812543885835e-12);
    expectRel(normalCdf(-1.96), 0.024997895148220435);
    expect(normalCdf(0)).toBe(0.5);
    expectRel(normalCdf(0.5), 0.6914624612740131);
    expectRel(normalCdf(2.5), 0.9937903346742238);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalCdf(NaN)).toBeNaN();
  });

  it('normalQuantile matches scipy.stats.norm.ppf', () => {
    // stats.norm.ppf(p)
    expectRel(normalQuantile(0.001), -3.090232306167813);
    expectRel(normalQuantile(0.025), -1.9599639845400545);
    expectRel(normalQuantile(0.2), -0.8416212335729142);
    expect(normalQuantile(0.5)).toBe(0);
    expectRel(normalQuantile(0.8), 0.8416212335729143);
    expectRel(normalQuantile(0.975), 1.959963984540054);
    expectRel(normalQuantile(0.999999), 4.753424308817087);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.1)).toBeNaN();
    expect(normalQuantile(NaN)).toBeNaN();
    // Round trip through the CDF in both tails and the centre (all three regions of Acklam's approximation).
    for (const p of [1e-12, 1e-5, 0.01, 0.03, 0.3, 0.7, 0.97, 0.99]) expectRel(normalCdf(normalQuantile(p)), p);
  });
});

describe('welchTTest', () => {
  it('reproduces the Wikipedia example (t = −2.46, df = 24.9, p = 0.021)', () => {
    // r = stats.ttest_ind(A1, A2, equal_var=False); r.statistic, r.df, r.pvalue
    const r = welchTTest(WIKI_A1, WIKI_A2);
    expectRel(r?.t, -2.455356398286006);
    expectRel(r?.df, 24.988529290231416);
    expectRel(r?.pValue, 0.021378001462866992);
    expectRel(r?.meanA, 20.82);
    expectRel(r?.meanB, 22.986666666666665);
    expect(r?.n).toEqual([15, 15]);
  });

  it('handles unequal sizes and variances, and is antisymmetric in its arguments', () => {
    // stats.ttest_ind(ACC_A, ACC_B, equal_var=False)
    const r = welchTTest(ACC_A, ACC_B);
    expectRel(r?.t, 2.8398489177883413);
    expectRel(r?.df, 12.412172355066312);
    expectRel(r?.pValue, 0.014476594943306319);
    expect(r?.n).toEqual([6, 9]);
    const reversed = welchTTest(ACC_B, ACC_A);
    expectRel(reversed?.t, -2.8398489177883413);
    expectRel(reversed?.df, 12.412172355066312);
    expectRel(reversed?.pValue, 0.014476594943306319);
  });

  it('keeps relative precision for very small p-values', () => {
    // stats.ttest_ind(SEP_A, SEP_B, equal_var=False)
    const r = welchTTest(SEP_A, SEP_B);
    expectRel(r?.t, -25.0235405711179);
    expectRel(r?.df, 10.755042481414916);
    expectRel(r?.pValue, 7.040635925945543e-11);
  });

  it('one constant group: the formulas apply (df = n − 1 of the other group)', () => {
    // stats.ttest_ind([1, 1, 1], [0.5, 0.7, 0.9, 1.1], equal_var=False)
    const r = welchTTest([1, 1, 1], [0.5, 0.7, 0.9, 1.1]);
    expectRel(r?.t, 1.5491933384829661);
    expectRel(r?.df, 3.0);
    expectRel(r?.pValue, 0.21910203741704798);
  });

  it('both groups constant: t = 0, p = 1 for equal means, else t = ±Infinity, p = 0; df = n1 + n2 − 2', () => {
    expect(welchTTest([2, 2, 2], [2, 2])).toEqual({ t: 0, df: 3, pValue: 1, meanA: 2, meanB: 2, n: [3, 2] });
    expect(welchTTest([3, 3], [2, 2, 2, 2])).toEqual({ t: Infinity, df: 4, pValue: 0, meanA: 3, meanB: 2, n: [2, 4] });
    expect(welchTTest([1, 1], [2, 2])).toMatchObject({ t: -Infinity, df: 2, pValue: 0 });
  });

  it('returns undefined when a group has fewer than 2 values', () => {
    expect(welchTTest([1], [1, 2, 3])).toBeUndefined();
    expect(welchTTest([1, 2, 3], [])).toBeUndefined();
    expect(welchTTest([], [])).toBeUndefined();
  });
});

describe('correlation', () => {
  it('pearson matches scipy.stats.pearsonr', () => {
    // stats.pearsonr(ANSCOMBE_X, ANSCOMBE_Y).statistic
    expectRel(pearson(ANSCOMBE_X, ANSCOMBE_Y), 0.8164205163448395);
    // stats.pearsonr(IQ, TV).statistic
    expectRel(pearson(IQ, TV), -0.07021632602905671);
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 14);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 14);
  });

  it('pearson: NaN for fewer than 2 pairs or zero variance; different lengths throw', () => {
    expect(pearson([], [])).toBeNaN();
    expect(pearson([1], [2])).toBeNaN();
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(pearson([1, 2, 3], [5, 5, 5])).toBeNaN();
    expect(pearson([1, NaN, 3], [1, 2, 3])).toBeNaN();
    expect(lablogError(() => pearson([1, 2], [1, 2, 3])).code).toBe('INVALID_OPTION');
  });

  it('ranks: 1-based average ranks (scipy.stats.rankdata)', () => {
    expect(ranks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    expect(ranks([3, 1, 2])).toEqual([3, 1, 2]);
    expect(ranks([])).toEqual([]);
    expect(ranks([7, 7, 7])).toEqual([2, 2, 2]);
    // stats.rankdata(TIES_X), stats.rankdata(TIES_Y)
    expect(ranks(TIES_X)).toEqual([1, 2.5, 2.5, 4, 6, 6, 6, 8]);
    expect(ranks(TIES_Y)).toEqual([2, 1, 3.5, 3.5, 6.5, 5, 8, 6.5]);
    expect(ranks([2, NaN, 1])).toEqual([2, NaN, 1]);
  });

  it('spearman matches scipy.stats.spearmanr, with and without ties', () => {
    // stats.spearmanr(IQ, TV).statistic = -0.17575757575757575 (= -29/165, as in the Wikipedia article)
    expectRel(spearman(IQ, TV), -29 / 165);
    // stats.spearmanr(TIES_X, TIES_Y).statistic
    expectRel(spearman(TIES_X, TIES_Y), 0.8510794409931051);
    // stats.spearmanr(ANSCOMBE_X, ANSCOMBE_Y).statistic
    expectRel(spearman(ANSCOMBE_X, ANSCOMBE_Y), 0.8181818181818182);
    // Monotone but non-linear: ρ = 1.
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 1000])).toBeCloseTo(1, 14);
    expect(spearman([1], [1])).toBeNaN();
    expect(spearman([1, 2, 3], [4, 4, 4])).toBeNaN();
    expect(spearman([1, NaN, 3], [1, 2, 3])).toBeNaN();
    expect(lablogError(() => spearman([1], [1, 2])).code).toBe('INVALID_OPTION');
  });
});

describe('paretoFrontier', () => {
  // Minimize latency, maximize accuracy. By hand: D is dominated by B (faster and more accurate), E by A (faster
  // and more accurate); A, B, C and F each beat every other point on one objective or the other.
  const points = [
    { id: 'A', values: [10, 0.8] },
    { id: 'B', values: [20, 0.9] },
    { id: 'C', values: [15, 0.85] },
    { id: 'D', values: [25, 0.88] },
    { id: 'E', values: [12, 0.78] },
    { id: 'F', values: [30, 0.95] },
  ];
  const goals = ['minimize', 'maximize'] as const;

  it('returns the non-dominated ids for mixed goals, in input order', () => {
    expect(paretoFrontier(points, goals)).toEqual(['A', 'B', 'C', 'F']);
    expect(paretoFrontier([...points].reverse(), goals)).toEqual(['F', 'C', 'B', 'A']);
  });

  it('reversed goals give the other frontier', () => {
    // Maximize latency, minimize accuracy: A is dominated by E (slower, less accurate), B by D; C, D, E, F remain.
    expect(paretoFrontier(points, ['maximize', 'minimize'])).toEqual(['C', 'D', 'E', 'F']);
  });

  it('keeps duplicates, and a tie on one objective with a loss on the other is dominated', () => {
    const withTies = [
      ...points,
      { id: 'A2', values: [10, 0.8] }, // a copy of A: neither dominates the other
      { id: 'G', values: [10, 0.75] }, // as fast as A, less accurate: dominated
      { id: 'H', values: [30, 0.95] }, // a copy of F
    ];
    expect(paretoFrontier(withTies, goals)).toEqual(['A', 'B', 'C', 'F', 'A2', 'H']);
    const same = [
      { id: 'x', values: [1, 1] },
      { id: 'y', values: [1, 1] },
    ];
    expect(paretoFrontier(same, goals)).toEqual(['x', 'y']);
  });

  it('excludes points with a NaN value: they are not on the frontier and dominate nothing', () => {
    const withNaN = [...points, { id: 'N1', values: [NaN, 0.99] }, { id: 'N2', values: [1, NaN] }];
    expect(paretoFrontier(withNaN, goals)).toEqual(['A', 'B', 'C', 'F']);
    expect(paretoFrontier([{ id: 'N', values: [NaN, NaN] }], goals)).toEqual([]);
  });

  it('works with one or three objectives, infinities and no points', () => {
    expect(
      paretoFrontier(
        [
          { id: 'a', values: [3] },
          { id: 'b', values: [1] },
          { id: 'c', values: [1] },
        ],
        ['minimize'],
      ),
    ).toEqual(['b', 'c']);
    const three = [
      { id: 'p', values: [1, 5, 5] },
      { id: 'q', values: [2, 6, 4] },
      { id: 'r', values: [2, 4, 6] }, // dominated by p: lower loss, higher score, lower cost
      { id: 's', values: [Infinity, 9, 1] },
    ];
    expect(paretoFrontier(three, ['minimize', 'maximize', 'minimize'])).toEqual(['p', 'q', 's']);
    expect(paretoFrontier([], goals)).toEqual([]);
  });

  it('throws INVALID_OPTION when a point has the wrong number of values', () => {
    const error = lablogError(() => paretoFrontier([{ id: 'a', values: [1] }], goals));
    expect(error).toMatchObject({ code: 'INVALID_OPTION', details: { option: 'goals' } });
  });
});

describe('sampleSizePerGroup', () => {
  it('matches the normal-approximation formula', () => {
    // math.ceil(2*(stats.norm.ppf(0.975)+stats.norm.ppf(0.8))**2/0.5**2) = 63 (unrounded 62.79103787479271)
    expect(sampleSizePerGroup({ effectSize: 0.5, alpha: 0.05, power: 0.8 })).toBe(63);
    // math.ceil(2*(stats.norm.ppf(0.975)+stats.norm.ppf(0.8))**2/0.8**2) = 25 (24.527749169840895)
    expect(sampleSizePerGroup({ effectSize: 0.8, alpha: 0.05, power: 0.8 })).toBe(25);
    // math.ceil(2*(stats.norm.ppf(0.975)+stats.norm.ppf(0.8))**2/0.2**2) = 393 (392.4439867174543)
    expect(sampleSizePerGroup({ effectSize: 0.2, alpha: 0.05, power: 0.8 })).toBe(393);
    // Metric units: difference 1.5 with sd 3 is d = 0.5.
    // math.ceil(2*(stats.norm.ppf(0.995)+stats.norm.ppf(0.9))**2*(3/1.5)**2) = 120 (119.03509735398825)
    expect(sampleSizePerGroup({ effectSize: 1.5, alpha: 0.01, power: 0.9, sd: 3 })).toBe(120);
  });

  it('never returns fewer than 2', () => {
    expect(sampleSizePerGroup({ effectSize: 10, alpha: 0.05, power: 0.8 })).toBe(2);
    expect(sampleSizePerGroup({ effectSize: 0.5, alpha: 0.5, power: 0.01 })).toBe(2);
  });

  it('throws INVALID_OPTION naming the option', () => {
    const cases: [Parameters<typeof sampleSizePerGroup>[0], string][] = [
      [{ effectSize: 0.5, alpha: 0, power: 0.8 }, 'alpha'],
      [{ effectSize: 0.5, alpha: 1, power: 0.8 }, 'alpha'],
      [{ effectSize: 0.5, alpha: NaN, power: 0.8 }, 'alpha'],
      [{ effectSize: 0.5, alpha: 0.05, power: 0 }, 'power'],
      [{ effectSize: 0.5, alpha: 0.05, power: 1.5 }, 'power'],
      [{ effectSize: 0, alpha: 0.05, power: 0.8 }, 'effectSize'],
      [{ effectSize: -1, alpha: 0.05, power: 0.8 }, 'effectSize'],
      [{ effectSize: NaN, alpha: 0.05, power: 0.8 }, 'effectSize'],
      [{ effectSize: Infinity, alpha: 0.05, power: 0.8 }, 'effectSize'],
      [{ effectSize: 0.5, alpha: 0.05, power: 0.8, sd: 0 }, 'sd'],
    ];
    for (const [options, option] of cases) {
      const error = lablogError(() => sampleSizePerGroup(options));
      expect(error).toMatchObject({ code: 'INVALID_OPTION', details: { option } });
    }
  });
});

describe('studentTQuantile', () => {
  it('inverts the t CDF as scipy does, in the centre and far in the tails', () => {
    // stats.t.ppf(p, df) for each (p, df) (scipy 1.17.1).
    const cases: [number, number, number][] = [
      [0.975, 1, 12.706204736174694],
      [0.975, 4, 2.7764451051977934],
      [0.995, 2.5, 7.163728138948783],
      [0.025, 7, -2.3646242515927844],
      [1e-10, 3, -2225.769284683093],
    ];
    for (const [p, df, expected] of cases) {
      expectRel(studentTQuantile(p, df), expected);
      expectRel(studentTCdf(studentTQuantile(p, df), df), p);
    }
    expect(studentTQuantile(0.5, 3)).toBe(0);
    expect(studentTQuantile(1, 3)).toBe(Infinity);
    expect(studentTQuantile(0, 3)).toBe(-Infinity);
    expect(studentTQuantile(0.975, 0)).toBeNaN();
    expect(studentTQuantile(1.5, 3)).toBeNaN();
    expectRel(studentTQuantile(0.975, Infinity), normalQuantile(0.975));
  });
});

import { describe, expect, it } from 'vitest';
import { aucDeLong, type Rating, ratingScore, readerStats, wilson } from './stats';

// Golden values from make-stats-golden.py (scipy's Mann–Whitney U, DeLong by Sun & Xu's midranks,
// scipy's Wilson interval), and the first AUC by hand below.

describe('reader test statistics', () => {
  it('maps the 2×5 answers to the 1 … 10 scale, a missing confidence to 3', () => {
    expect([5, 4, 3, 2, 1].map((c) => ratingScore('real', c))).toEqual([1, 2, 3, 4, 5]);
    expect([1, 2, 3, 4, 5].map((c) => ratingScore('synthetic', c))).toEqual([6, 7, 8, 9, 10]);
    expect(ratingScore('real', null)).toBe(3);
    expect(ratingScore('synthetic', null)).toBe(8);
    expect(() => ratingScore('real', 6)).toThrow(/1 to 5/);
  });

  it('AUC and DeLong’s interval: a case by hand', () => {
    // positives 3, 2; negatives 1, 2. ψ: (3,1) 1, (3,2) 1, (2,1) 1, (2,2) ½ → AUC 3.5/4 = 0.875.
    // V10 = (1, 0.75), V01 = (1, 0.75): S10 = S01 = 2·0.125² / 1 = 0.03125;
    // var = 0.03125/2 + 0.03125/2 = 0.03125, SE = 0.1767767; 0.875 ± 1.96·SE = 0.5285 … 1.2215 → 1.
    const a = aucDeLong([3, 2], [1, 2]);
    expect(a?.auc).toBe(0.875);
    expect(a?.se).toBeCloseTo(0.1767766952966369, 14);
    expect(a?.lo).toBeCloseTo(0.5285240439125805, 14);
    expect(a?.hi).toBe(1);
  });

  it('AUC and DeLong’s interval against the reference (ties, unequal counts)', () => {
    const a = aucDeLong([10, 8, 6, 3, 9], [1, 6, 2, 7, 4, 3]);
    expect(a?.auc).toBeCloseTo(0.8333333333333334, 14);
    expect(a?.se).toBeCloseTo(0.13281147875424357, 14);
    expect(a?.lo).toBeCloseTo(0.5730276182415095, 14);
    expect(a?.hi).toBe(1);
  });

  it('AUC without an interval below two cases of a truth; none without one of each', () => {
    expect(aucDeLong([7], [2, 9])).toEqual({ auc: 0.5, se: null, lo: null, hi: null });
    expect(aucDeLong([], [1])).toBeNull();
    // a reader who always answers the opposite: AUC 0, a zero-width interval (DeLong's variance is 0)
    expect(aucDeLong([1, 2], [9, 10])).toEqual({ auc: 0, se: 0, lo: 0, hi: 0 });
  });

  it('Wilson’s interval against the reference', () => {
    const cases: [number, number, number, number][] = [
      [7, 10, 0.39677814746114526, 0.892208732593699],
      [0, 4, 0, 0.4898908364545973],
      [5, 5, 0.5655175352168251, 1],
      [3, 11, 0.09746059290024892, 0.5656453011761292],
    ];
    for (const [k, n, lo, hi] of cases) {
      const p = wilson(k, n);
      expect(p.value).toBe(k / n);
      expect(p.lo).toBeCloseTo(lo, 12);
      expect(p.hi).toBeCloseTo(hi, 12);
    }
    expect(wilson(0, 0)).toEqual({ k: 0, n: 0, value: null, lo: null, hi: null });
  });

  it('accuracy, sensitivity (synthetic called synthetic), specificity (real called real), AUC of the scores', () => {
    const s = (answer: Rating['answer'], confidence: number | null): Omit<Rating, 'truth'> => ({ answer, confidence });
    const ratings: Rating[] = [
      // synthetic: scores 10, 8, 6, 3, 9 (the reference case above)
      { truth: 'synthetic', ...s('synthetic', 5) },
      { truth: 'synthetic', ...s('synthetic', null) },
      { truth: 'synthetic', ...s('synthetic', 1) },
      { truth: 'synthetic', ...s('real', 3) },
      { truth: 'synthetic', ...s('synthetic', 4) },
      // real: scores 1, 6, 2, 7, 4, 3
      { truth: 'real', ...s('real', 5) },
      { truth: 'real', ...s('synthetic', 1) },
      { truth: 'real', ...s('real', 4) },
      { truth: 'real', ...s('synthetic', 2) },
      { truth: 'real', ...s('real', 2) },
      { truth: 'real', ...s('real', null) },
    ];
    const r = readerStats(ratings);
    expect(r.answered).toBe(11);
    expect(r.sensitivity).toMatchObject({ k: 4, n: 5 });
    expect(r.specificity).toMatchObject({ k: 4, n: 6 });
    expect(r.accuracy).toMatchObject({ k: 8, n: 11 });
    expect(r.auc?.auc).toBeCloseTo(0.8333333333333334, 14);
    expect(r.auc?.se).toBeCloseTo(0.13281147875424357, 14);
  });
});

// The reader test's statistics: pure functions of the answers, no DOM.
//
// Positive = synthetic. Sensitivity is the fraction of synthetic cases called synthetic, specificity
// the fraction of real cases called real. Each answer with its confidence is one point of a 10-step
// ordinal scale (ratingScore), the usual rating-scale ROC of reader studies: "real, sure" = 1 …
// "real, unsure" = 5, "synthetic, unsure" = 6 … "synthetic, sure" = 10. An answer given without a
// confidence counts as 3 (the middle), so a test answered without confidences gives the AUC of the
// binary answers.
//
// AUC: the Mann–Whitney statistic (ties count ½), its 95% interval AUC ± 1.96·SE with DeLong's
// variance (E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson, "Comparing the areas under two or more
// correlated receiver operating characteristic curves: a nonparametric approach", Biometrics 44(3),
// 837–845, 1988; pROC's default), clipped to [0, 1]. It needs two cases of each truth; where every
// synthetic case scores above every real one (AUC 1) or all tie, the variance is 0 and the interval
// is one point, as in pROC. Proportions get Wilson's score interval (E. B. Wilson, "Probable
// inference, the law of succession, and statistical inference", JASA 22, 209–212, 1927).

export type Verdict = 'real' | 'synthetic';

/** One answered case. confidence: 1 (unsure) … 5 (sure), or null when none was given. */
export interface Rating {
  truth: Verdict;
  answer: Verdict;
  confidence: number | null;
}

/** The two-sided 95% normal quantile. */
const Z95 = 1.959963984540054;

/** Confidence used where none was given: the middle of 1 … 5. */
const DEFAULT_CONFIDENCE = 3;

/** The answer and its confidence as a point of the 1 … 10 scale (higher = more surely synthetic). */
export function ratingScore(answer: Verdict, confidence: number | null): number {
  const c = confidence ?? DEFAULT_CONFIDENCE;
  if (!Number.isInteger(c) || c < 1 || c > 5) throw new RangeError(`confidence must be a whole number from 1 to 5, got ${c}`);
  return answer === 'synthetic' ? 5 + c : 6 - c;
}

/** k of n with Wilson's 95% interval; value and interval null when n = 0. */
export interface Proportion {
  k: number;
  n: number;
  value: number | null;
  lo: number | null;
  hi: number | null;
}

export function wilson(k: number, n: number): Proportion {
  if (n === 0) return { k, n, value: null, lo: null, hi: null };
  const p = k / n;
  const z2 = Z95 * Z95;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (Z95 / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { k, n, value: p, lo: Math.max(0, center - half), hi: Math.min(1, center + half) };
}

/** The ROC AUC with DeLong's standard error and 95% interval (null where fewer than 2 of a truth). */
export interface Auc {
  auc: number;
  se: number | null;
  lo: number | null;
  hi: number | null;
}

/** ψ of the Mann–Whitney statistic: 1 when the positive scores higher, ½ on a tie. */
const psi = (x: number, y: number): number => (x > y ? 1 : x === y ? 0.5 : 0);

/** AUC of scores of positives against negatives (higher = more positive); null when either is empty. */
export function aucDeLong(positives: readonly number[], negatives: readonly number[]): Auc | null {
  const m = positives.length;
  const n = negatives.length;
  if (m === 0 || n === 0) return null;
  // structural components: V10 per positive, V01 per negative (m, n ≤ a few hundred: O(mn) is fine)
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const s = psi(positives[i], negatives[j]);
      v10[i] += s;
      v01[j] += s;
      sum += s;
    }
  }
  const auc = sum / (m * n);
  if (m < 2 || n < 2) return { auc, se: null, lo: null, hi: null };
  let s10 = 0;
  for (let i = 0; i < m; i++) s10 += (v10[i] / n - auc) ** 2;
  let s01 = 0;
  for (let j = 0; j < n; j++) s01 += (v01[j] / m - auc) ** 2;
  const variance = s10 / (m - 1) / m + s01 / (n - 1) / n;
  const se = Math.sqrt(variance);
  return { auc, se, lo: Math.max(0, auc - Z95 * se), hi: Math.min(1, auc + Z95 * se) };
}

export interface ReaderStats {
  /** Answered cases. */
  answered: number;
  accuracy: Proportion;
  /** Synthetic cases called synthetic (positive = synthetic). */
  sensitivity: Proportion;
  /** Real cases called real. */
  specificity: Proportion;
  auc: Auc | null;
}

/** Accuracy, sensitivity, specificity and the rating-scale AUC of the answered cases. */
export function readerStats(ratings: readonly Rating[]): ReaderStats {
  let correct = 0;
  let truePositives = 0;
  let trueNegatives = 0;
  const positives: number[] = [];
  const negatives: number[] = [];
  for (const r of ratings) {
    const score = ratingScore(r.answer, r.confidence);
    if (r.answer === r.truth) correct++;
    if (r.truth === 'synthetic') {
      positives.push(score);
      if (r.answer === 'synthetic') truePositives++;
    } else {
      negatives.push(score);
      if (r.answer === 'real') trueNegatives++;
    }
  }
  return {
    answered: ratings.length,
    accuracy: wilson(correct, ratings.length),
    sensitivity: wilson(truePositives, positives.length),
    specificity: wilson(trueNegatives, negatives.length),
    auc: aucDeLong(positives, negatives),
  };
}

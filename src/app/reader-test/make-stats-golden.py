# The golden values of stats.test.ts from independent code: scipy's Mann–Whitney U for the AUC,
# DeLong's variance by the midrank algorithm of Sun & Xu (IEEE SPL 21(11), 2014) rather than stats.ts's
# pairwise sums, and scipy's Wilson interval. Run: /work/venv-torch2/bin/python make-stats-golden.py (numpy, scipy).
import numpy as np
from scipy.stats import mannwhitneyu, binomtest, rankdata
def delong(pos, neg):
    pos = np.asarray(pos, float); neg = np.asarray(neg, float)
    m, n = len(pos), len(neg)
    tz = rankdata(np.concatenate([pos, neg])); tx = rankdata(pos); ty = rankdata(neg)
    auc = (tz[:m].sum() - m*(m+1)/2) / (m*n)
    v01 = (tz[:m] - tx) / n
    v10 = 1 - (tz[m:] - ty) / m
    var = np.var(v01, ddof=1)/m + np.var(v10, ddof=1)/n
    return auc, np.sqrt(var)
for pos, neg in [([3,2],[1,2]), ([10,8,6,3,9],[1,6,2,7,4,3])]:
    u = mannwhitneyu(pos, neg, alternative='two-sided').statistic
    auc, se = delong(pos, neg)
    print(pos, neg, 'U/mn', u/(len(pos)*len(neg)), 'delong', repr(auc), repr(se), 'ci', repr(max(0, auc-1.959963984540054*se)), repr(min(1, auc+1.959963984540054*se)))
for k, n in [(7, 10), (0, 4), (5, 5), (3, 11)]:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method='wilson')
    print('wilson', k, n, repr(ci.low), repr(ci.high))

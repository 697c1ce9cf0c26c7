"""Golden values for crates/gutjoint-stats/src/group_tests.rs (scipy / statsmodels).

Run: python tests/data/golden/stats/make_group_tests_golden.py  (scipy 1.17.1, statsmodels 0.15.0)
Prints Rust-ready reprs; the unit test `matches_scipy_and_statsmodels` holds them.
"""
import numpy as np
import scipy.stats as st
import statsmodels.api as sm

chi = st.chi2_contingency(np.array([[12, 5, 9], [3, 14, 8]]), correction=False)
print("chi2", repr(chi.statistic), repr(chi.pvalue), chi.dof)
print("fisher", repr(st.fisher_exact([[7, 2], [1, 9]]).pvalue))
a = [1.5, 2.0, 2.0, 3.1, 4.0, 4.0, 5.2]
b = [2.0, 3.5, 4.0, 6.0, 7.1, 8.0]
mw = st.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True)
print("mwu", repr(mw.statistic), repr(mw.pvalue))
kw = st.kruskal([1, 2, 2, 5], [3, 3, 6, 7, 9], [4, 8, 10])
print("kruskal", repr(kw.statistic), repr(kw.pvalue))
# Nested OLS likelihood-ratio test.
x_group = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0], float)
x_cov = np.array([1.0, 2.0, 0.5, 3.0, 2.5, 1.0, 4.0, 3.5, 2.0, 1.5])
y = np.array([0.3, 0.9, 0.1, 1.4, 2.0, 1.1, 2.9, 2.4, 1.7, 0.4])
full = sm.OLS(y, np.column_stack([np.ones(10), x_group, x_cov])).fit()
reduced = sm.OLS(y, np.column_stack([np.ones(10), x_cov])).fit()
lr, p, df = full.compare_lr_test(reduced)
print("lr", repr(lr), repr(p), df)

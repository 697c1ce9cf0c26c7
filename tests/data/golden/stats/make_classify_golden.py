"""Converged L1-logistic out-of-fold probabilities for `gutjoint classify --model l1-logistic`.

make_stats_golden.py fits scikit-learn's LogisticRegression(penalty="l1", solver="liblinear",
C=1) with liblinear's default stopping tolerance, which stops visibly short of the optimum on
nearly separable data (GMHI AS vs healthy); liblinear with tol=1e-10 did not finish in ten
minutes. The problem is convex, so this script solves liblinear's objective,
    ||w||_1 + |b| + C * sum_i log(1 + exp(-y_i (x_i.w + b)))    (y in {-1, 1}),
independently to high accuracy with scipy's L-BFGS-B on the split form w = u - v, u, v >= 0
(smooth, bound-constrained, same optimum), on the same CLR features and folds, and checks that
its objective is no higher than liblinear's own solution's.

Inputs (this folder): gespic_axspa_healthy_genus.tsv + _metadata.tsv, rf_folds.tsv;
gmhi_as_healthy_species.tsv + _metadata.tsv, rf_folds_gmhi.tsv; pseudocounts.tsv.
Outputs: l1_logistic_converged_gespic_oof.tsv, l1_logistic_converged_gmhi_oof.tsv.

Run: pip install scikit-learn==1.9.1 scipy pandas numpy && python3 make_classify_golden.py
"""
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

C = 1.0


def load(name):
    with open(name) as f:
        lines = [l for l in f if not l.startswith("# ")]
    from io import StringIO
    t = pd.read_csv(StringIO("".join(lines)), sep="\t", index_col=0)
    return t.drop(columns=[c for c in t.columns if c.lower() == "taxonomy"]).astype(float)


pseudo = pd.read_csv("pseudocounts.tsv", sep="\t", index_col=0)["pseudocount"]
for tag, tab, md, col, pos, folds in [
    ("gespic", "gespic_axspa_healthy_genus.tsv", "gespic_axspa_healthy_metadata.tsv", "group",
     "axSpA", "rf_folds.tsv"),
    ("gmhi", "gmhi_as_healthy_species.tsv", "gmhi_as_healthy_metadata.tsv", "label", "AS",
     "rf_folds_gmhi.tsv"),
]:
    X = load(tab).T  # samples x features
    meta = pd.read_csv(md, sep="\t", index_col=0)
    fold = pd.read_csv(folds, sep="\t", index_col=0)["fold"]
    ids = list(fold.index)
    X = X.loc[ids]
    logx = np.log(X.values + pseudo[tab.removesuffix(".tsv")])
    clr = logx - logx.mean(axis=1, keepdims=True)
    y = (meta.loc[ids, col] == pos).astype(int).values
    prob = np.full(len(ids), np.nan)
    for k in sorted(fold.unique()):
        te = (fold.values == k)
        Xa = np.column_stack([clr[~te], np.ones((~te).sum())])
        s = np.where(y[~te] == 1, 1.0, -1.0)
        q = Xa.shape[1]

        def f(z):
            beta = z[:q] - z[q:]
            m = s * (Xa @ beta)
            loss = np.logaddexp(0.0, -m).sum()
            g_beta = Xa.T @ (-s * expit(-m))
            return z.sum() + C * loss, np.concatenate([1 + C * g_beta, 1 - C * g_beta])

        res = minimize(f, np.zeros(2 * q), jac=True, method="L-BFGS-B",
                       bounds=[(0, None)] * (2 * q),
                       options={"maxiter": 200000, "maxfun": 400000, "ftol": 1e-15,
                                "gtol": 1e-11})
        beta = res.x[:q] - res.x[q:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = LogisticRegression(penalty="l1", solver="liblinear", C=C, random_state=0)
            m.fit(clr[~te], y[~te])
        ref = np.concatenate([m.coef_[0], m.intercept_])
        assert res.fun <= f(np.concatenate([np.maximum(ref, 0), np.maximum(-ref, 0)]))[0] + 1e-9
        prob[te] = expit(np.column_stack([clr[te], np.ones(te.sum())]) @ beta)
    pd.DataFrame({"sample-id": ids, "label": y, "fold": fold.values, "probability": prob}) \
        .to_csv(f"l1_logistic_converged_{tag}_oof.tsv", sep="\t", index=False,
                float_format="%.17g")
    print(tag, "done", len(ids))

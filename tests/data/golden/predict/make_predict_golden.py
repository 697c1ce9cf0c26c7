"""Golden values for `gutjoint predict` (crates/gutjoint-stats: elastic_net, metrics).

Run from the repository root with scikit-learn 1.9.1, statsmodels 0.15.0, numpy 2.4.6, pandas:
    python tests/data/golden/predict/make_predict_golden.py

Input: the GESPIC axSpA-vs-healthy genus CLR table already used by the classify goldens
(tests/data/golden/stats/gespic_axspa_healthy_clr.tsv, made by make_stats_golden.py there) and
its metadata. The 12 genera with the largest CLR variance are the features.

Writes, beside this script:
- en_x.tsv        sample-id, label (1 = axSpA), age, then the 12 CLR features (raw, unscaled)
- en_folds.tsv    sample-id, fold: StratifiedKFold(5, shuffle=True, random_state=0) on label
- en_coef.tsv     per fold, after StandardScaler fitted on that fold's training rows:
                  LogisticRegression(penalty="elasticnet", solver="saga", C=1/(n_train*alpha),
                  l1_ratio) and ElasticNet(alpha, l1_ratio) on age, for two settings each;
                  rows fold, model, alpha, l1_ratio, term, value (term "intercept" or a feature)
- metrics.tsv     on the logistic model's out-of-fold probabilities (alpha 0.05, l1 0.5):
                  brier_score_loss, calibration slope and intercept (statsmodels GLM binomial on
                  logit(p) clipped to [1e-6, 1-1e-6]; the intercept with logit(p) as offset),
                  calibration_curve(n_bins=10) as rows curve_<k> mean_predicted / observed
- en_oof.tsv      sample-id, label, probability (those out-of-fold probabilities)

saga converges slowly: tol=1e-13 and max_iter=10**7 make it reach the optimum to ~1e-10 on
these 130-row problems (checked by the KKT conditions below, which the script asserts).
"""
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.calibration import calibration_curve
from sklearn.linear_model import ElasticNet, LogisticRegression
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore", category=FutureWarning)
here = Path(__file__).parent
stats = here.parent / "stats"
clr = pd.read_csv(stats / "gespic_axspa_healthy_clr.tsv", sep="\t", index_col=0).T
md = pd.read_csv(stats / "gespic_axspa_healthy_metadata.tsv", sep="\t", index_col=0)
md = md.loc[clr.index]
top = clr.var().sort_values(ascending=False, kind="stable").index[:12]
X = clr[top].to_numpy()
y = (md["group"] == "axSpA").astype(int).to_numpy()
age = md["age"].astype(float).to_numpy()
ids = clr.index.to_list()

table = pd.DataFrame(X, index=ids, columns=top)
table.insert(0, "age", age)
table.insert(0, "label", y)
table.index.name = "sample-id"
table.to_csv(here / "en_x.tsv", sep="\t", float_format="%.17g")

folds = np.zeros(len(y), dtype=int)
for k, (_, test) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)):
    folds[test] = k
pd.DataFrame({"sample-id": ids, "fold": folds}).to_csv(here / "en_folds.tsv", sep="\t", index=False)

rows = []
oof = np.zeros(len(y))
settings = [(0.05, 0.5), (0.01, 1.0)]
for k in range(5):
    tr, te = folds != k, folds == k
    sc = StandardScaler().fit(X[tr])
    Xtr, Xte = sc.transform(X[tr]), sc.transform(X[te])
    n = tr.sum()
    for alpha, l1 in settings:
        lr = LogisticRegression(penalty="elasticnet", solver="saga", C=1.0 / (n * alpha),
                                l1_ratio=l1, tol=1e-13, max_iter=10**7).fit(Xtr, y[tr])
        w, b = lr.coef_[0], lr.intercept_[0]
        # KKT check of the objective (1/n) sum logloss + alpha (l1 |w| + (1-l1)/2 w^2).
        p = 1 / (1 + np.exp(-(Xtr @ w + b)))
        g = Xtr.T @ (p - y[tr]) / n + alpha * (1 - l1) * w
        nz = w != 0
        assert np.all(np.abs(g[nz] + alpha * l1 * np.sign(w[nz])) < 1e-8), g
        assert np.all(np.abs(g[~nz]) <= alpha * l1 + 1e-8)
        assert abs(np.sum(p - y[tr])) < 1e-8
        rows.append((k, "logistic", alpha, l1, "intercept", b))
        rows += [(k, "logistic", alpha, l1, t, v) for t, v in zip(top, w)]
        if (alpha, l1) == settings[0]:
            oof[te] = lr.predict_proba(Xte)[:, 1]
        en = ElasticNet(alpha=alpha * 20, l1_ratio=l1, tol=1e-14, max_iter=10**7).fit(Xtr, age[tr])
        rows.append((k, "gaussian", alpha * 20, l1, "intercept", en.intercept_))
        rows += [(k, "gaussian", alpha * 20, l1, t, v) for t, v in zip(top, en.coef_)]
pd.DataFrame(rows, columns=["fold", "model", "alpha", "l1_ratio", "term", "value"]).to_csv(
    here / "en_coef.tsv", sep="\t", index=False, float_format="%.17g")

pd.DataFrame({"sample-id": ids, "label": y, "probability": oof}).to_csv(
    here / "en_oof.tsv", sep="\t", index=False, float_format="%.17g")
pc = np.clip(oof, 1e-6, 1 - 1e-6)
z = np.log(pc / (1 - pc))
slope_fit = sm.GLM(y, sm.add_constant(z), family=sm.families.Binomial()).fit(tol=1e-14)
int_fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=z).fit(tol=1e-14)
prob_true, prob_pred = calibration_curve(y, oof, n_bins=10)
metrics = [("brier", brier_score_loss(y, oof)),
           ("calibration_slope", slope_fit.params[1]),
           ("calibration_intercept", int_fit.params[0])]
for k, (t, p) in enumerate(zip(prob_true, prob_pred)):
    metrics += [(f"curve_{k}_mean_predicted", p), (f"curve_{k}_observed", t)]
pd.DataFrame(metrics, columns=["metric", "value"]).to_csv(
    here / "metrics.tsv", sep="\t", index=False, float_format="%.17g")
print("written", len(rows), "coefficients")

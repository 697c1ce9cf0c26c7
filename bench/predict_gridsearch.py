"""gutjoint predict vs scikit-learn GridSearchCV: nested 5x5 cross-validation of an elastic-net
logistic model with 20 hyper-parameter settings on 500 patients x 1,000 taxa.

    cargo build --release -p gutjoint-cli
    pip install scikit-learn numpy pandas
    python bench/predict_gridsearch.py [--gutjoint PATH] [--samples 500] [--taxa 1000]

Synthetic, seeded data (numpy default_rng(42)): log-normal abundances with ~60% zeros, closed
to proportions; a binary outcome driven by two taxa's log-ratio. gutjoint runs
`predict --l1-ratios 0.1,0.5,0.9,1 --alphas a1..a5 --permutations 0` (4 x 5 = 20 settings,
5 outer x 5 inner folds). The peer is GridSearchCV(Pipeline(CLR with the training fold's
pseudocount -> StandardScaler -> LogisticRegression(penalty="elasticnet", solver="saga",
C=1/(n_train*alpha))), cv=StratifiedKFold(5)) inside the same outer folds gutjoint used (read
back from its predictions.tsv); its inner folds are scikit-learn's own. Not like for like, and
said in the output: gutjoint fits two penalised models per fold (microbiome-only and combined,
which without clinical columns are the same problem) plus the clinical baseline, and its time
includes process start, reading the TSV and writing the outputs; scikit-learn's covers only the
nested fit on data in memory and does not refit the prevalence filter in the inner folds.
Prints both out-of-fold AUCs (they should agree to a few hundredths) and the ratio.
"""
import argparse
import os
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=ConvergenceWarning)

ap = argparse.ArgumentParser()
ap.add_argument("--gutjoint", default=os.environ.get("GUTJOINT_BIN", "target/release/gutjoint"))
ap.add_argument("--samples", type=int, default=500)
ap.add_argument("--taxa", type=int, default=1000)
args = ap.parse_args()

rng = np.random.default_rng(42)
n, p = args.samples, args.taxa
logs = rng.normal(size=(n, p))
raw = np.exp(logs) * (rng.random((n, p)) > 0.6)
raw[:, :2] = np.exp(logs[:, :2])  # the two signal taxa are always present
rel = raw / raw.sum(axis=1, keepdims=True)
eta = 1.2 * (logs[:, 0] - logs[:, 1])
y = rng.random(n) < 1 / (1 + np.exp(-eta))
ids = [f"S{i}" for i in range(n)]
taxa = [f"taxon{j}" for j in range(p)]
ALPHAS = [0.2, 0.1, 0.05, 0.02, 0.01]
L1 = [0.1, 0.5, 0.9, 1.0]

tmp = Path(tempfile.mkdtemp(prefix="gutjoint-predict-bench-"))
table = tmp / "table.tsv"
pd.DataFrame(rel.T, index=taxa, columns=ids).rename_axis("#OTU ID").to_csv(table, sep="\t")
md = tmp / "md.tsv"
pd.DataFrame({"sample-id": ids, "response": np.where(y, "yes", "no")}).to_csv(md, sep="\t", index=False)

cmd = [args.gutjoint, "predict", str(table), "--metadata", str(md), "--outcome", "response",
       "--positive", "yes", "--seed", "1", "--permutations", "0", "--min-prevalence", "0",
       "--l1-ratios", ",".join(map(str, L1)), "--alphas", ",".join(map(str, ALPHAS)),
       "-o", str(tmp / "out"), "--json", "--quiet"]
t0 = time.perf_counter()
out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
t_gutjoint = time.perf_counter() - t0
import json
report = json.loads(out)
pred = pd.read_csv(tmp / "out" / "predictions.tsv", sep="\t", index_col=0).loc[ids]
folds = pred["fold"].to_numpy()
# Printed at once: scikit-learn's half takes tens of minutes, and a run cut short still has this.
print(f"gutjoint predict      {t_gutjoint:8.2f} s  microbiome AUC {report['microbiome']['auc']:.4f}"
      f" (combined {report['combined']['auc']:.4f}, clinical {report['clinical']['auc']:.4f})", flush=True)


class Clr(BaseEstimator, TransformerMixin):
    """CLR with half the training rows' smallest nonzero proportion as pseudocount."""

    def fit(self, X, y=None):
        self.pc_ = X[X > 0].min() / 2
        return self

    def transform(self, X):
        L = np.log(X + self.pc_)
        return L - L.mean(axis=1, keepdims=True)


t0 = time.perf_counter()
oof = np.zeros(n)
for k in sorted(set(folds)):
    tr, te = folds != k, folds == k
    n_inner = int(tr.sum() * 4 / 5)
    grid = [{"lr__l1_ratio": [l1], "lr__C": [1.0 / (n_inner * a) for a in ALPHAS]} for l1 in L1]
    pipe = Pipeline([("clr", Clr()), ("scale", StandardScaler()),
                     ("lr", LogisticRegression(penalty="elasticnet", solver="saga", tol=1e-4, max_iter=1000))])
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                          scoring="neg_log_loss", n_jobs=1).fit(rel[tr], y[tr])
    oof[te] = search.predict_proba(rel[te])[:, 1]
    print(f"  sklearn outer fold {k}: {time.perf_counter() - t0:8.2f} s so far", flush=True)
t_sklearn = time.perf_counter() - t0

print(f"data: {n} samples x {p} taxa, {int(y.sum())} positive; nested 5x5, 20 settings")
print(f"gutjoint predict      {t_gutjoint:8.2f} s  microbiome AUC {report['microbiome']['auc']:.4f}"
      f" (combined {report['combined']['auc']:.4f}, clinical {report['clinical']['auc']:.4f})")
print(f"sklearn GridSearchCV  {t_sklearn:8.2f} s  AUC {roc_auc_score(y, oof):.4f} (same outer folds)")
print(f"ratio sklearn / gutjoint: {t_sklearn / t_gutjoint:.1f}")
print("not like for like: gutjoint also fits the combined and clinical models, reads and writes files;")
print("sklearn's inner folds are its own and its time is the fit on data in memory")
assert abs(report["microbiome"]["auc"] - roc_auc_score(y, oof)) < 0.05, "AUCs disagree"

"""Random-forest cross-validation at 1,000 samples x 500 taxa: gutjoint vs scikit-learn.

Generates a seeded relative-abundance table (1,000 samples x 500 taxa, ~30% nonzero, the first
10 taxa shifted in cases), writes 5 stratified folds, then runs in one go
  gutjoint classify --model rf --trees 500 --folds-from FOLDS   (all cores)
  scikit-learn RandomForestClassifier(n_estimators=500, n_jobs=-1) on the same CLR features
  and folds
and prints each wall time, the ratio and both out-of-fold AUCs. Usage:
  python bench/classify_rf.py [--samples 1000] [--taxa 500] [--gutjoint target/release/gutjoint]
"""
import argparse, os, subprocess, tempfile, time, json
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--samples", type=int, default=1000)
ap.add_argument("--taxa", type=int, default=500)
ap.add_argument("--gutjoint", default=os.path.join(root, "target/release/gutjoint"))
args = ap.parse_args()
n, p = args.samples, args.taxa
rng = np.random.default_rng(7)
y = (np.arange(n) % 2 == 0).astype(int)
rng.shuffle(y)
present = rng.random((n, p)) < 0.3
x = np.where(present, rng.gamma(0.5, 1.0, (n, p)), 0.0)
x[:, :10] *= np.where(y[:, None] == 1, 4.0, 1.0)
x = x / x.sum(axis=1, keepdims=True)
fold = np.zeros(n, dtype=int)
for c in (0, 1):
    idx = np.flatnonzero(y == c)
    rng.shuffle(idx)
    fold[idx] = np.arange(len(idx)) % 5

with tempfile.TemporaryDirectory() as d:
    ids = [f"S{i}" for i in range(n)]
    with open(f"{d}/t.tsv", "w") as f:
        f.write("#OTU ID\t" + "\t".join(ids) + "\n")
        for j in range(p):
            f.write(f"taxon{j}\t" + "\t".join(f"{v:.8g}" for v in x[:, j]) + "\n")
    with open(f"{d}/md.tsv", "w") as f:
        f.write("sample-id\tstatus\n" + "".join(f"{s}\t{'case' if c else 'control'}\n" for s, c in zip(ids, y)))
    with open(f"{d}/folds.tsv", "w") as f:
        f.write("sample-id\tfold\n" + "".join(f"{s}\t{k}\n" for s, k in zip(ids, fold)))
    t0 = time.perf_counter()
    out = subprocess.run([args.gutjoint, "classify", f"{d}/t.tsv", "--metadata", f"{d}/md.tsv",
                          "--column", "status", "--positive", "case", "--model", "rf",
                          "--trees", "500", "--folds-from", f"{d}/folds.tsv", "--json", "--quiet"],
                         check=True, capture_output=True, text=True).stdout
    t_ours = time.perf_counter() - t0
    ours = json.loads(out)
    # Same features as gutjoint: half the smallest nonzero value as pseudocount, natural-log CLR.
    t0 = time.perf_counter()
    xs = np.loadtxt(f"{d}/t.tsv", skiprows=1, usecols=range(1, n + 1), delimiter="\t").T
    pseudo = xs[xs > 0].min() / 2
    logx = np.log(xs + pseudo)
    clr = logx - logx.mean(axis=1, keepdims=True)
    prob = np.zeros(n)
    for k in range(5):
        te = fold == k
        rf = RandomForestClassifier(n_estimators=500, n_jobs=-1, random_state=0).fit(clr[~te], y[~te])
        prob[te] = rf.predict_proba(clr[te])[:, 1]
    t_skl = time.perf_counter() - t0
    print(f"{n} samples x {p} taxa, 5-fold CV, 500 trees, {os.cpu_count()} cores")
    print(f"gutjoint     {t_ours:8.2f} s  AUC {ours['auc']:.4f}  (95% CI {ours['auc_ci'][0]:.3f}-{ours['auc_ci'][1]:.3f})")
    print(f"scikit-learn {t_skl:8.2f} s  AUC {roc_auc_score(y, prob):.4f}")
    print(f"ratio scikit-learn / gutjoint: {t_skl / t_ours:.2f}x")

"""Mixed models per feature: gutjoint `da --method lmm` vs statsmodels MixedLM (REML), one run.

    cargo build --release -p gutjoint-cli
    pip install statsmodels pandas numpy
    python bench/lmm.py [--samples 10000] [--features 1000] [--subjects 2000] [--peer-features 10]

Seeded synthetic study (numpy default_rng(42)): `--subjects` subjects with `samples/subjects`
visits each (time 0, 1, …), half of them treated; counts from a Poisson around a per-feature,
per-subject log-normal mean with a time × treated effect on a tenth of the features. gutjoint
fits `log10(rel + pc) ~ time * group + (1 | subject)` for every feature (REML, Satterthwaite df)
from the TSV on disk, so its time includes process start, reading and writing.

statsmodels is timed on the first `--peer-features` features only (one MixedLM fit each, on the
same transformed responses, the data already in memory) and its time is extrapolated per
feature to the whole table: a statsmodels fit of this size takes seconds, so the full 1,000
would take many minutes. The script says so in its output. It checks that gutjoint's estimates
for those features equal statsmodels' within 1e-6 relative (exit 1 otherwise).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--features", type=int, default=1_000)
    ap.add_argument("--subjects", type=int, default=2_000)
    ap.add_argument("--peer-features", type=int, default=10)
    ap.add_argument("--gutjoint", default=os.environ.get("GUTJOINT_BIN", "target/release/gutjoint"))
    args = ap.parse_args()
    visits = args.samples // args.subjects
    rng = np.random.default_rng(42)
    n = args.subjects * visits
    subject = np.repeat(np.arange(args.subjects), visits)
    t = np.tile(np.arange(visits), args.subjects)
    treated = (subject < args.subjects // 2).astype(float)
    base = rng.normal(2.0, 1.0, size=args.features)
    subj_eff = rng.normal(0.0, 0.7, size=(args.subjects, args.features))
    effect = np.where(np.arange(args.features) % 10 == 0, 0.3, 0.0)
    mu = np.exp(base[None, :] + subj_eff[subject] + np.outer(t * treated, effect)
                + rng.normal(0, 0.5, size=(n, args.features)))
    counts = rng.poisson(mu)
    ids = [f"s{i}" for i in range(n)]
    feats = [f"f{j}" for j in range(args.features)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        table = tmp / "table.tsv"
        md = tmp / "metadata.tsv"
        out = tmp / "lmm.tsv"
        pd.DataFrame(counts.T, index=feats, columns=ids).rename_axis("feature").to_csv(table, sep="\t")
        pd.DataFrame({
            "sample-id": ids,
            "subject": [f"P{s}" for s in subject],
            "time": t,
            "group": np.where(treated == 1, "treated", "control"),
        }).to_csv(md, sep="\t", index=False)
        cmd = [args.gutjoint, "--quiet", "da", str(table), "--metadata", str(md), "--formula",
               "time * group", "--reference", "group=control", "--method", "lmm", "--subject",
               "subject", "-o", str(out)]
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        ours = time.perf_counter() - start
        result = pd.read_csv(out, sep="\t")

        # The same responses statsmodels sees: relative abundance + half the smallest nonzero.
        rel = counts / counts.sum(axis=1, keepdims=True)
        pc = rel[rel > 0].min() / 2.0
        import statsmodels.formula.api as smf
        k = min(args.peer_features, args.features)
        data = pd.DataFrame({"subject": subject, "time": t,
                             "group": pd.Categorical(np.where(treated == 1, "treated", "control"),
                                                     categories=["control", "treated"])})
        worst = 0.0
        start = time.perf_counter()
        fits = []
        for j in range(k):
            data["y"] = np.log10(rel[:, j] + pc)
            m = smf.mixedlm("y ~ time * group", data, groups=data["subject"])
            fits.append(m.fit(reml=True))
        peer = time.perf_counter() - start
        for j, fit in enumerate(fits):
            for term, value in fit.fe_params.items():
                mine = result[(result.feature == f"f{j}") & (result.term == term)].estimate.iloc[0]
                worst = max(worst, abs(mine - value) / max(abs(value), 1e-12))
    per_feature = peer / k
    extrapolated = per_feature * args.features
    print(f"study: {n} samples x {args.features} features, {args.subjects} subjects x {visits} visits")
    print(f"gutjoint da --method lmm (all {args.features} features, incl. Satterthwaite df, "
          f"process start, TSV read/write): {ours:.2f} s")
    print(f"statsmodels MixedLM REML: {peer:.2f} s for {k} features in memory "
          f"({per_feature:.2f} s per feature, no Satterthwaite df) -> extrapolated to "
          f"{args.features} features: {extrapolated:.1f} s")
    print(f"ratio statsmodels (extrapolated) / gutjoint: {extrapolated / ours:.1f}x")
    print(f"largest relative difference of the fixed-effect estimates on those {k} features: {worst:.2e}")
    if worst > 1e-6:
        print("FAIL: estimates differ by more than 1e-6 relative")
        sys.exit(1)


if __name__ == "__main__":
    main()

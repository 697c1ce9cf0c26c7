"""Golden values for `da --method ancombc2` and `da --method dirmult-lme` from scikit-bio 0.7.4.

Run from the repository root in a venv with scikit-bio 0.7.4, statsmodels and pandas
(`scripts/setup.sh` makes one: ~/.cache/gutjoint/py-peers):

    python tests/data/golden/compositional/make_compositional_golden.py

Inputs: the probiotic trial bundled under examples/data/longitudinal/peerj32 (Lahti et al.
2013, PeerJ 1:e32; 22 adults, LGG vs placebo, before (time 1) and after (time 2), 130 HITChip
taxa) and a seeded synthetic study written here (synthetic_counts.tsv, synthetic_metadata.tsv).

Writes, beside this script:
  synthetic_counts.tsv / synthetic_metadata.tsv
        24 subjects (12 treated) x 3 visits (time 0, 1, 2), 60 taxa; counts drawn from a
        multinomial whose log-abundances have known effects (TRUTH below) and a per-subject
        random intercept, with library sizes varying 20-fold (unequal sampling fractions).
  ancombc2_peerj32.tsv      ancombc2(counts, md, "time * group", pseudocount=1), Placebo the
                            reference group; scikit-bio's defaults otherwise (Holm, var_quantile
                            0.05, max_iter 100, tol 1e-5).
  ancombc2_synthetic.tsv    ancombc2(counts, md, "time + group", pseudocount=1), control reference.
  dirmult_lme_peerj32_seed{0,1}.tsv
                            dirmult_lme(counts, md, "time * group", grouping="subject",
                            seed=0 / 1): Monte Carlo results; gutjoint's draws come from its own
                            generator, so the two seeds' spread is the yardstick.
  dirmult_lme_peerj32_x1e4.tsv
                            the same on (counts + 0.5) x 10^4 (counts x 10^4, pseudocount 5000;
                            seed 0): every Gamma shape is then >= 5000, the posterior so narrow
                            that the result is the mixed model on clr(counts + 0.5) to ~1e-3,
                            which makes a near-deterministic comparison possible.
  dirmult_lme_synthetic_seed{0,1}.tsv
                            dirmult_lme(counts, md, "time + group", grouping="subject").
"""

from pathlib import Path

import numpy as np
import pandas as pd
import skbio
from skbio.stats.composition import ancombc2, dirmult_lme

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]

# log-abundance effects of the synthetic study: (taxon index, time effect, treated effect)
TRUTH = [
    (0, 0.0, 1.5),  # more abundant in the treated group from the start
    (1, 0.0, -1.5),
    (2, 0.6, 0.0),  # rises over time in everyone
    (3, -0.6, 0.0),
]


def synthetic():
    rng = np.random.default_rng(2017)
    n_subjects, n_taxa = 24, 60
    base = rng.normal(0.0, 1.5, n_taxa)  # log mean abundance of each taxon
    rows, counts = [], []
    for s in range(n_subjects):
        treated = 1 if s < n_subjects // 2 else 0
        u = rng.normal(0.0, 0.5, n_taxa)  # the subject's own level of each taxon
        for t in (0, 1, 2):
            log_mu = base + u + rng.normal(0.0, 0.3, n_taxa)
            for i, bt, bg in TRUTH:
                log_mu[i] += bt * t + bg * treated
            prob = np.exp(log_mu - log_mu.max())
            prob /= prob.sum()
            depth = int(rng.integers(2_000, 40_000))
            counts.append(rng.multinomial(depth, prob))
            rows.append(
                {
                    "sample_id": f"p{s + 1:02d}v{t}",
                    "subject": f"P{s + 1:02d}",
                    "group": "treated" if treated else "control",
                    "time": t,
                }
            )
    md = pd.DataFrame(rows).set_index("sample_id")
    table = pd.DataFrame(counts, index=md.index, columns=[f"taxon{i:02d}" for i in range(n_taxa)])
    return table, md


def peerj32():
    d = ROOT / "examples/data/longitudinal/peerj32"
    counts = pd.read_csv(d / "counts.tsv", sep="\t", index_col=0).T
    md = pd.read_csv(d / "metadata.tsv", sep="\t", index_col=0)
    return counts.loc[md.index], md


def categorical(md, reference):
    md = md.copy()
    md["group"] = pd.Categorical(md["group"], categories=reference)
    return md


def write(df, name):
    df = df.reset_index() if "FeatureID" not in df.columns else df
    df.to_csv(HERE / name, sep="\t", index=False, float_format="%.17g")


def main():
    assert skbio.__version__ == "0.7.4", skbio.__version__
    table, md = synthetic()
    table.T.rename_axis("taxon").to_csv(HERE / "synthetic_counts.tsv", sep="\t")
    md.to_csv(HERE / "synthetic_metadata.tsv", sep="\t")
    smd = categorical(md, ["control", "treated"])
    write(ancombc2(table, smd, "time + group", pseudocount=1).result, "ancombc2_synthetic.tsv")
    for seed in (0, 1):
        res = dirmult_lme(table, smd, "time + group", grouping="subject", seed=seed)
        write(res, f"dirmult_lme_synthetic_seed{seed}.tsv")

    counts, pmd = peerj32()
    pmd = categorical(pmd, ["Placebo", "LGG"])
    write(ancombc2(counts, pmd, "time * group", pseudocount=1).result, "ancombc2_peerj32.tsv")
    for seed in (0, 1):
        res = dirmult_lme(counts, pmd, "time * group", grouping="subject", seed=seed)
        write(res, f"dirmult_lme_peerj32_seed{seed}.tsv")
    res = dirmult_lme(
        counts * 10_000, pmd, "time * group", grouping="subject", pseudocount=5_000, seed=0
    )
    write(res, "dirmult_lme_peerj32_x1e4.tsv")


if __name__ == "__main__":
    main()

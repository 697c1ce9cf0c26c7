"""Golden values for `da --method lmm` (crates/gutjoint-stats/src/lmm.rs) from statsmodels.

Run from the repository root with statsmodels 0.14 (a venv with `pip install statsmodels pandas`):

    python tests/data/golden/longitudinal/make_lmm_golden.py
    Rscript tests/data/golden/longitudinal/make_lmm_golden.R   # lme4 + lmerTest (Debian r-cran-lmertest)

Writes, beside this script:
  synthetic_data.tsv         a seeded therapy-like study: 30 subjects (15 treated), visits at
                             time 0, 1, 2 with 6 visits missing, five responses y1..y5 with known
                             fixed effects (below), a random intercept per subject and, for y4
                             and y5, a random slope in time.
  peerj32_log10.tsv          the probiotic trial (examples/data/longitudinal/peerj32) as gutjoint
                             transforms it for `--method lm`/`lmm`: relative abundance, plus half
                             the smallest nonzero relative abundance, log10; samples x taxa.
  *_statsmodels.tsv          MixedLM(REML) fixed effects and variance components; `se` is
                             statsmodels' bse, `se_gls` the GLS standard error from its fitted
                             variance components (what lme4 and gutjoint report).
The R script writes the lme4/lmerTest counterparts (*_lmertest.tsv).
"""

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]

# ---- the synthetic study: known effects -------------------------------------------------
# y = b0 + b_group·treated + b_time·time + b_int·time·treated + u_subject (+ v_subject·time) + e
TRUTH = {
    #      b0    group  time   time:group  sd_u  sd_v  sd_e
    "y1": (1.0, 0.0, 0.0, 0.0, 0.8, 0.0, 0.5),  # null
    "y2": (2.0, 0.5, -0.3, 0.0, 1.0, 0.0, 0.6),  # main effects only
    "y3": (0.5, 0.0, 0.1, 0.8, 0.6, 0.0, 0.4),  # the treated move over time
    "y4": (1.5, -0.4, 0.2, 0.6, 0.7, 0.35, 0.3),  # random slope
    "y5": (0.0, 0.3, 0.5, -0.5, 0.5, 0.4, 0.25),  # random slope
}


def synthetic():
    rng = np.random.default_rng(17)
    rows = []
    for s in range(30):
        treated = 1 if s < 15 else 0
        effects = {k: (rng.normal(0, v[4]), rng.normal(0, v[5])) for k, v in TRUTH.items()}
        for t in (0, 1, 2):
            row = {
                "sample_id": f"p{s + 1:02d}v{t}",
                "subject": f"P{s + 1:02d}",
                "group": "treated" if treated else "control",
                "time": t,
            }
            for k, (b0, bg, bt, bi, _, _, sde) in TRUTH.items():
                u, v = effects[k]
                row[k] = b0 + bg * treated + bt * t + bi * t * treated + u + v * t + rng.normal(0, sde)
            rows.append(row)
    df = pd.DataFrame(rows)
    # Six missed visits make the design unbalanced (as real studies are).
    missing = rng.choice(len(df), size=6, replace=False)
    df = df.drop(index=missing).reset_index(drop=True)
    for k in TRUTH:
        df[k] = df[k].round(6)
    return df


def peerj32():
    d = ROOT / "examples/data/longitudinal/peerj32"
    counts = pd.read_csv(d / "counts.tsv", sep="\t", index_col=0)
    md = pd.read_csv(d / "metadata.tsv", sep="\t", index_col=0)
    rel = counts / counts.sum(axis=0)
    pc = rel.values[rel.values > 0].min() / 2.0
    y = np.log10(rel + pc).T
    y = y.loc[md.index]
    return md, y, pc


def fit(df, response, reference, slope):
    data = df.copy()
    data["group"] = pd.Categorical(data["group"], categories=reference)
    re = "~time" if slope else None
    model = smf.mixedlm(f"{response} ~ time * group", data, groups=data["subject"], re_formula=re)
    res = model.fit(reml=True, method=["bfgs"], gtol=1e-12, maxiter=2000)
    out = []
    fe = res.fe_params.index
    cov = res.cov_params().loc[fe, fe]
    # Var(beta) = (sum_i X_i' V_i^-1 X_i)^-1 with V_i = Z_i G Z_i' + scale I, from statsmodels'
    # own fitted variance components: the GLS covariance that lme4 reports. statsmodels' bse
    # invert the joint observed information of fixed effects and variance parameters instead,
    # which differs from it when the design is unbalanced.
    xtvx = np.zeros((len(fe), len(fe)))
    for k, g in enumerate(model.group_labels):
        idx = model.row_indices[g]
        x = model.exog[idx]
        z = model.exog_re_li[k]
        v = z @ np.asarray(res.cov_re) @ z.T + res.scale * np.eye(len(idx))
        xtvx += x.T @ np.linalg.solve(v, x)
    gls = pd.Series(np.sqrt(np.diag(np.linalg.inv(xtvx))), index=model.exog_names)
    for term in fe:
        name = term.replace("group[T.", "group[T.")
        out.append(
            {
                "feature": response,
                "model": "slope" if slope else "intercept",
                "term": name,
                "estimate": repr(float(res.fe_params[term])),
                # sqrt of the fixed-effect block of statsmodels' covariance (its bse).
                "se": repr(float(np.sqrt(cov.loc[term, term]))),
                "se_gls": repr(float(gls[term])),
                "subject_variance": repr(float(res.cov_re.iloc[0, 0])),
                "residual_variance": repr(float(res.scale)),
                "converged": res.converged,
            }
        )
    return out


def main():
    df = synthetic()
    df.to_csv(HERE / "synthetic_data.tsv", sep="\t", index=False)
    rows = []
    for k in TRUTH:
        rows += fit(df, k, ["control", "treated"], slope=False)
        if k in ("y4", "y5"):
            rows += fit(df, k, ["control", "treated"], slope=True)
    pd.DataFrame(rows).to_csv(HERE / "synthetic_statsmodels.tsv", sep="\t", index=False)

    md, y, pc = peerj32()
    out = y.copy()
    out.insert(0, "subject", md["subject"])
    out.insert(1, "group", md["group"])
    out.insert(2, "time", md["time"])
    out.index.name = "sample_id"
    out.to_csv(HERE / "peerj32_log10.tsv", sep="\t", float_format="%.17g")
    data = md[["subject", "group", "time"]].copy()
    rows = []
    for i, taxon in enumerate(y.columns):
        data[f"y{i}"] = y[taxon].values
        for r in fit(data, f"y{i}", ["Placebo", "LGG"], slope=False):
            r["feature"] = taxon
            rows.append(r)
    pd.DataFrame(rows).to_csv(HERE / "peerj32_statsmodels.tsv", sep="\t", index=False)
    print(f"pseudocount {pc!r}; {len(y.columns)} taxa")


if __name__ == "__main__":
    main()

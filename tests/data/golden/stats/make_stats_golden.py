"""Regenerate the cohort-statistics golden files in this folder.

Peer tools: statsmodels (OLS), scikit-bio (ANCOM-BC, dirmult_ttest, CLR), scipy and
pingouin (Spearman / partial Spearman), scikit-learn (random forest, L1 logistic
regression, stratified CV, ROC AUC). See README.md for what every file holds.

Usage (from anywhere; paths come from __file__):

    pip install scikit-bio==0.7.4 statsmodels scikit-learn pingouin
    python tests/data/golden/stats/make_stats_golden.py

Everything is seeded, so two runs write byte-identical files.
"""
import csv
import hashlib
import math
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin
import scipy
import scipy.stats
import sklearn
import skbio
import statsmodels
import statsmodels.formula.api as smf
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from skbio.stats.composition import ancombc, clr, dirmult_ttest
import skbio.stats.composition._ancombc as _ancombc_mod

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
GESPIC = ROOT / "examples" / "data" / "gespic"
GMHI = ROOT / "examples" / "data" / "gmhi"

MISSING = {"NA", ""}
PREVALENCE = 0.10            # feature kept if nonzero in >= 10% of the subset's samples
COUNT_SCALE = 10_000         # proportion -> pseudo-count for dirmult_ttest
DIRMULT_SEEDS = (0, 1)
HOST_VARIABLES = ("Calprotectin", "CRP", "BASDAI")
CV_SEED = 42


# ----------------------------------------------------------------------------- output
def fmt(v):
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if v is pd.NA or v is None:
        return "NA"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    return str(v)


def write_tsv(name, header, rows, comment=None):
    path = HERE / name
    with open(path, "w", newline="") as f:
        if comment:
            f.write(f"# {comment}\n")
        f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(fmt(v) for v in r) + "\n")
    print(f"wrote {name} ({len(rows)} rows)")


def write_df(name, df, comment=None):
    write_tsv(name, list(df.columns), list(df.itertuples(index=False, name=None)), comment)


# ----------------------------------------------------------------------------- helpers
def half_min_nonzero(x):
    x = np.asarray(x, dtype=float)
    return float(x[x > 0].min()) / 2.0


def clr_matrix(x, pseudo):
    """CLR over columns (features) of samples x features matrix x + pseudo, natural log."""
    logx = np.log(np.asarray(x, dtype=float) + pseudo)
    out = logx - logx.mean(axis=1, keepdims=True)
    # cross-check against scikit-bio's clr
    ref = clr(np.asarray(x, dtype=float) + pseudo)
    assert np.allclose(out, ref, rtol=0, atol=1e-12), np.abs(out - ref).max()
    return out


def prevalence_filter(x, n_samples):
    """x: features x samples DataFrame of floats. Returns boolean mask over features."""
    nnz = (x > 0).sum(axis=1)
    return nnz >= PREVALENCE * n_samples


# ----------------------------------------------------------------------------- GESPIC input
def load_gespic():
    with open(GESPIC / "gespic_genus.tsv", newline="") as f:
        lines = f.read().split("\n")
    comment = lines[0]
    assert comment.startswith("#") and lines[1].startswith("#OTU ID\t")
    header = lines[1].split("\t")
    assert header[-1] == "taxonomy"
    samples = header[1:-1]
    feats, taxa, texts = [], [], []
    for line in lines[2:]:
        if not line:
            continue
        parts = line.split("\t")
        assert len(parts) == len(header)
        feats.append(parts[0])
        texts.append(parts[1:-1])
        taxa.append(parts[-1])
    text = pd.DataFrame(texts, index=feats, columns=samples)
    values = text.astype(float)
    meta = pd.read_csv(GESPIC / "gespic_metadata.tsv", sep="\t", dtype=str,
                       keep_default_na=False)
    meta = meta.set_index("sample-id", drop=False)
    return comment, text, values, pd.Series(taxa, index=feats), meta


def num(series):
    return pd.to_numeric(series.where(~series.isin(MISSING)), errors="raise")


def main():
    np.set_printoptions(precision=17)
    notes = {}  # values quoted in README
    comment, text, values, taxa, meta_all = load_gespic()

    # ------------------------------------------------------------------ 1. subset
    keep = [s for s in values.columns
            if meta_all.at[s, "group"] in ("axSpA", "healthy")
            and meta_all.at[s, "age"] not in MISSING and meta_all.at[s, "sex"] not in MISSING]
    dropped = [s for s in values.columns if meta_all.at[s, "group"] in ("axSpA", "healthy")
               and s not in keep]
    n = len(keep)
    fmask = prevalence_filter(values[keep], n)
    genera = [g for g in values.index if fmask[g]]
    sub_text = text.loc[genera, keep]
    X = values.loc[genera, keep].T          # samples x genera, proportions
    meta = meta_all.loc[keep].copy()
    meta["age_f"] = num(meta["age"]).astype(float)
    meta["sex_i"] = num(meta["sex"]).astype(int)
    assert set(meta["sex_i"]) == {1, 2}
    notes.update(n_samples=n, n_axspa=int((meta["group"] == "axSpA").sum()),
                 n_healthy=int((meta["group"] == "healthy").sum()),
                 dropped_missing_age_sex=dropped, n_genera_in=len(values.index),
                 n_genera=len(genera), min_nnz=int(math.ceil(PREVALENCE * n - 1e-12)))

    with open(HERE / "gespic_axspa_healthy_genus.tsv", "w", newline="") as f:
        f.write("# Subset of examples/data/gespic/gespic_genus.tsv written by make_stats_golden.py "
                "(axSpA+healthy, non-missing age/sex, genera nonzero in >=10% of samples)\n")
        f.write("#OTU ID\t" + "\t".join(keep) + "\ttaxonomy\n")
        for g in genera:
            f.write(g + "\t" + "\t".join(sub_text.loc[g]) + "\t" + taxa[g] + "\n")
    print(f"wrote gespic_axspa_healthy_genus.tsv ({len(genera)} genera x {n} samples)")
    meta_cols = ["sample-id", "group", "age", "sex", "NSAID_current"] + list(HOST_VARIABLES)
    write_tsv("gespic_axspa_healthy_metadata.tsv", meta_cols,
              [[meta.at[s, c] if meta.at[s, c] != "" else "NA" for c in meta_cols] for s in keep])

    pseudo = half_min_nonzero(X.values)
    notes["pseudo_gespic"] = pseudo
    notes["min_nonzero_gespic"] = float(X.values[X.values > 0].min())
    zero_total = [s for s in keep if X.loc[s].sum() == 0]
    assert not zero_total

    # ------------------------------------------------------------------ 2. OLS
    def run_ols(formula, frame, fname):
        rows = []
        for g in genera:
            d = frame.copy()
            d["y"] = np.log10(X.loc[d.index, g].values + pseudo)
            res = smf.ols(formula, data=d).fit()
            assert int(res.nobs) == len(d)
            # independent check: hand-built treatment-coded design, numpy least squares
            cols = [np.ones(len(d)), (d["group"] == "axSpA").astype(float),
                    (d["sex"] == 2).astype(float), d["age"].astype(float)]
            names = ["Intercept", "C(group, Treatment(reference='healthy'))[T.axSpA]",
                     "C(sex)[T.2]", "age"]
            if "NSAID_current" in d:
                cols.append((d["NSAID_current"] == 1).astype(float))
                names.append("C(NSAID_current)[T.1]")
            beta = np.linalg.lstsq(np.column_stack(cols), d["y"].values, rcond=None)[0]
            assert np.allclose(beta, res.params[names].values, rtol=1e-9, atol=1e-12)
            for term in res.params.index:
                rows.append([g, term, res.params[term], res.bse[term], res.tvalues[term],
                             res.pvalues[term]])
        write_tsv(fname, ["feature", "term", "estimate", "se", "t", "p"], rows)

    base = pd.DataFrame({"group": meta["group"], "age": meta["age_f"], "sex": meta["sex_i"]},
                        index=keep)
    f1 = "y ~ C(group, Treatment(reference='healthy')) + age + C(sex)"
    run_ols(f1, base, "ols_group_age_sex.tsv")
    nsaid_ok = ~meta["NSAID_current"].isin(MISSING)
    notes["nsaid_dropped"] = [s for s in keep if not nsaid_ok[s]]
    with_nsaid = base[nsaid_ok.values].copy()
    with_nsaid["NSAID_current"] = num(meta.loc[nsaid_ok, "NSAID_current"]).astype(int)
    notes["n_nsaid"] = len(with_nsaid)
    run_ols(f1 + " + C(NSAID_current)", with_nsaid, "ols_group_age_sex_nsaid.tsv")

    # ------------------------------------------------------------------ 3. ANCOM-BC
    anc_meta = pd.DataFrame({
        "group": pd.Categorical(meta["group"], categories=["healthy", "axSpA"]),
        "age": meta["age_f"].values,
        "sex": pd.Categorical(meta["sex"], categories=["1", "2"]),
    }, index=pd.Index(keep, name="sample-id"))
    anc_table = X + pseudo                       # samples x genera, strictly positive

    bias_log = []
    orig_em = _ancombc_mod._estimate_bias_em

    def logging_em(*a, **k):                     # record, do not alter, the EM bias estimate
        out = orig_em(*a, **k)
        bias_log.append(tuple(float(v) for v in out))
        return out

    _ancombc_mod._estimate_bias_em = logging_em
    try:
        anc = ancombc(anc_table, anc_meta, formula="group + age + sex")
    finally:
        _ancombc_mod._estimate_bias_em = orig_em
    res = anc.result.reset_index()
    res.columns = ["feature", "term"] + list(res.columns[2:])
    write_df("ancombc_group_age_sex.tsv", res)
    covars = list(anc.result.index.get_level_values("Covariate").unique())
    assert len(bias_log) == len(covars)
    write_tsv("ancombc_group_age_sex_bias.tsv", ["term", "delta_em", "delta_wls", "var_delta"],
              [[c, *b] for c, b in zip(covars, bias_log)])
    # Cross-check: integer pseudo-counts (x 10,000) + 1 are the same matrix scaled by
    # 1/pseudo when pseudo == 1e-4, so the non-intercept terms must agree.
    counts = np.rint(X * COUNT_SCALE).astype(np.int64)
    assert np.abs(X.values * COUNT_SCALE - counts.values).max() < 1e-6
    anc2 = ancombc(counts + 1, anc_meta, formula="group + age + sex").result
    nonint = anc.result.index.get_level_values("Covariate") != "Intercept"
    d = (anc.result.loc[nonint, ["Log(FC)", "SE", "W", "pvalue"]]
         - anc2.loc[nonint, ["Log(FC)", "SE", "W", "pvalue"]]).abs().max().max()
    notes["ancombc_counts_plus1_maxdiff"] = float(d)

    # ------------------------------------------------------------------ 4. dirmult_ttest
    grouping = meta["group"].copy()
    runs = {}
    for seed in DIRMULT_SEEDS:
        r = dirmult_ttest(counts, grouping, treatment="axSpA", reference="healthy", seed=seed)
        r = r.reset_index()
        r.columns = ["feature"] + list(r.columns[1:])
        runs[seed] = r
        write_df(f"dirmult_ttest_seed{seed}.tsv", r)
    a, b = runs[DIRMULT_SEEDS[0]], runs[DIRMULT_SEEDS[1]]
    assert list(a["feature"]) == list(b["feature"])
    var_rows = []
    for c in a.columns[1:]:
        if c == "Signif":
            var_rows.append([c, "n_disagree", int((a[c].astype(bool) != b[c].astype(bool)).sum())])
        else:
            diff = (a[c].astype(float) - b[c].astype(float)).abs()
            var_rows.append([c, "max_abs_diff", float(diff.max())])
            var_rows.append([c, "median_abs_diff", float(diff.median())])
    write_tsv("dirmult_ttest_seed_variability.tsv", ["column", "statistic", "value"], var_rows)
    notes["dirmult_var"] = var_rows

    # ------------------------------------------------------------------ CLR features
    clr_g = pd.DataFrame(clr_matrix(X.values, pseudo), index=keep, columns=genera)
    write_tsv("gespic_axspa_healthy_clr.tsv", ["feature"] + keep,
              [[g, *clr_g[g].values] for g in genera])

    # ------------------------------------------------------------------ 5. Spearman
    ax = [s for s in keep if meta.at[s, "group"] == "axSpA"]
    sp_rows, skipped = [], {}
    for hv in HOST_VARIABLES:
        ok = [s for s in ax if meta.at[s, hv] not in MISSING]
        if len(ok) < 5:
            skipped[hv] = len(ok)
            continue
        host = num(meta.loc[ok, hv]).astype(float).values
        for g in genera:
            x = clr_g.loc[ok, g].values
            r, p = scipy.stats.spearmanr(x, host)
            d = pd.DataFrame({"x": x, "y": host, "age": meta.loc[ok, "age_f"].values,
                              "sex": meta.loc[ok, "sex_i"].astype(float).values})
            pc = pingouin.partial_corr(data=d, x="x", y="y", covar=["age", "sex"],
                                       method="spearman")
            assert int(pc["n"].iloc[0]) == len(ok)
            # independent check: Pearson r of rank residuals after regressing on ranked covariates
            rk = d.rank()
            Z = np.column_stack([np.ones(len(d)), rk["age"], rk["sex"]])
            ex = rk["x"] - Z @ np.linalg.lstsq(Z, rk["x"], rcond=None)[0]
            ey = rk["y"] - Z @ np.linalg.lstsq(Z, rk["y"], rcond=None)[0]
            assert abs(np.corrcoef(ex, ey)[0, 1] - pc["r"].iloc[0]) < 1e-10
            sp_rows.append([g, hv, len(ok), float(r), float(p), float(pc["r"].iloc[0]),
                            float(pc["p_val"].iloc[0])])
        notes[f"n_{hv}"] = len(ok)
    notes["spearman_skipped"] = skipped
    write_tsv("spearman_partial_axspa.tsv", ["feature", "host_variable", "n", "spearman_r",
                                              "spearman_p", "partial_r", "partial_p"], sp_rows)

    # ------------------------------------------------------------------ 6./7. classifiers
    def classify(tag, ids, feats, y, fold_file):
        Xc = np.asarray(feats, dtype=float)
        y = np.asarray(y, dtype=int)
        skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=CV_SEED)
        fold = np.full(len(y), -1)
        oof = {"random_forest": np.full(len(y), np.nan), "logreg_l1": np.full(len(y), np.nan)}
        fold_auc = []
        for k, (tr, te) in enumerate(skf.split(Xc, y)):
            fold[te] = k
            rf = RandomForestClassifier(n_estimators=500, random_state=0)
            with warnings.catch_warnings():
                # scikit-learn >= 1.8 deprecates `penalty`; penalty='l1' == l1_ratio=1 here.
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", UserWarning)
                lr = LogisticRegression(penalty="l1", solver="liblinear", C=1.0, random_state=0)
                for name, model in (("random_forest", rf), ("logreg_l1", lr)):
                    model.fit(Xc[tr], y[tr])
                    pos = list(model.classes_).index(1)
                    oof[name][te] = model.predict_proba(Xc[te])[:, pos]
            for name in oof:
                fold_auc.append([name, f"fold{k}", len(te), int(y[te].sum()),
                                 roc_auc_score(y[te], oof[name][te])])
        assert (fold >= 0).all()
        write_tsv(fold_file, ["sample-id", "fold"], [[s, int(f)] for s, f in zip(ids, fold)])
        write_tsv(f"rf_auc_{tag}_oof.tsv",
                  ["sample-id", "label", "fold", "random_forest_prob", "logreg_l1_prob"],
                  [[s, int(l), int(f), p1, p2] for s, l, f, p1, p2 in
                   zip(ids, y, fold, oof["random_forest"], oof["logreg_l1"])])
        summary = [[name, "pooled", len(y), int(y.sum()), roc_auc_score(y, oof[name])]
                   for name in oof] + fold_auc
        write_tsv(f"rf_auc_{tag}.tsv", ["model", "scope", "n", "n_positive", "auc"], summary)
        notes[f"auc_{tag}"] = {r[0]: r[4] for r in summary if r[1] == "pooled"}

    y_g = (meta["group"] == "axSpA").astype(int).values
    classify("gespic", keep, clr_g.values, y_g, "rf_folds.tsv")

    # GMHI validation: AS vs healthy, species level
    with open(GMHI / "validation_metadata.csv", newline="", encoding="utf-8-sig") as f:
        mrows = list(csv.reader(f))
    assert mrows[0][0] == "Sample_Ids" and mrows[0][1] == "Phenotype_all" \
        and mrows[0][3] == "Phenotype"
    label = {}
    for r in mrows[1:]:
        is_as = r[1] == "N-5:AS"
        is_h = r[3] == "Healthy"
        assert not (is_as and is_h)
        if is_as or is_h:
            label[r[0]] = (1 if is_as else 0, r[1], r[3])
    with open(GMHI / "validation_abundance.csv", newline="", encoding="utf-8-sig") as f:
        arows = list(csv.reader(f))
    a_samples = arows[0][1:]
    sp_names = [r[0] for r in arows[1:]]
    a_text = pd.DataFrame([r[1:] for r in arows[1:]], index=sp_names, columns=a_samples)
    g_ids = [s for s in a_samples if s in label]
    assert len(g_ids) == len(label)
    gv = a_text[g_ids].astype(float)
    gmask = prevalence_filter(gv, len(g_ids))
    species = [s for s in sp_names if gmask[s]]
    GX = gv.loc[species].T
    g_pseudo = half_min_nonzero(GX.values)
    notes.update(gmhi_n=len(g_ids), gmhi_n_as=sum(label[s][0] for s in g_ids),
                 gmhi_species_in=len(sp_names), gmhi_species=len(species),
                 pseudo_gmhi=g_pseudo, gmhi_min_nnz=int(math.ceil(PREVALENCE * len(g_ids) - 1e-12)),
                 gmhi_healthy_sources=pd.Series([label[s][1] for s in g_ids if not label[s][0]])
                 .value_counts().to_dict())
    write_tsv("gmhi_as_healthy_species.tsv", ["#OTU ID"] + g_ids,
              [[s, *a_text.loc[s, g_ids].values] for s in species],
              comment="Subset of examples/data/gmhi/validation_abundance.csv (percent, no "
                      "taxonomy column) written by make_stats_golden.py (N-5:AS + Healthy, "
                      "species nonzero in >=10% of samples)")
    write_tsv("gmhi_as_healthy_metadata.tsv", ["sample-id", "label", "Phenotype_all", "Phenotype"],
              [[s, "AS" if label[s][0] else "healthy", label[s][1], label[s][2]] for s in g_ids])
    clr_s = clr_matrix(GX.values, g_pseudo)
    classify("gmhi", g_ids, clr_s, [label[s][0] for s in g_ids], "rf_folds_gmhi.tsv")

    # ANCOM-BC on GMHI AS vs healthy (species in percent + the pseudocount; the metadata has
    # no age or sex, so the formula is the label alone, healthy the reference).
    g_meta = pd.DataFrame({"label": pd.Categorical(
        ["AS" if label[s][0] else "healthy" for s in g_ids], categories=["healthy", "AS"])},
        index=g_ids)
    g_res = ancombc(GX + g_pseudo, g_meta, formula="label").result.reset_index()
    g_res.columns = ["feature", "term"] + list(g_res.columns[2:])
    write_df("ancombc_gmhi_label.tsv", g_res)
    notes["ancombc_gmhi_signif"] = int(g_res.loc[g_res["term"] == "label[T.AS]", "Signif"].sum())

    # ------------------------------------------------------------------ bookkeeping
    write_tsv("pseudocounts.tsv", ["dataset", "units", "min_nonzero", "pseudocount"],
              [["gespic_axspa_healthy_genus", "proportion", notes["min_nonzero_gespic"], pseudo],
               ["gmhi_as_healthy_species", "percent", float(GX.values[GX.values > 0].min()),
                g_pseudo]])
    versions = [["python", platform.python_version()], ["numpy", np.__version__],
                ["scipy", scipy.__version__], ["pandas", pd.__version__],
                ["scikit-bio", skbio.__version__], ["statsmodels", statsmodels.__version__],
                ["scikit-learn", sklearn.__version__], ["pingouin", pingouin.__version__]]
    try:
        import formulaic
        versions.append(["formulaic", formulaic.__version__])
    except ImportError:
        pass
    try:
        import patsy
        versions.append(["patsy", patsy.__version__])
    except ImportError:
        pass
    write_tsv("versions.tsv", ["package", "version"], versions)

    print("\n--- notes for README ---")
    for k, v in notes.items():
        print(f"{k}: {v!r}")
    print("\n--- sha256 ---")
    for p in sorted(HERE.glob("*.tsv")):
        print(hashlib.sha256(p.read_bytes()).hexdigest()[:16], p.name)


if __name__ == "__main__":
    main()

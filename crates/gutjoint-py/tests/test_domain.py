"""The domain analyses against their peers: GMHI against the authors' output, dysbiosis against
scikit-bio's Bray–Curtis, differential abundance against statsmodels OLS and scikit-bio's
ANCOM-BC, signatures against abundances computed in pandas."""

import numpy as np
import pandas as pd
import pytest

import gutjoint


def test_gmhi_equals_the_authors_output(data):
    df = gutjoint.read_table(data / "gmhi" / "species_relative_abundances.csv")
    ours = gutjoint.gmhi(df)["gmhi"]
    authors = pd.read_csv(data / "gmhi" / "GMHI_output.csv", index_col=0)["GMHI"]
    assert list(ours.index) == list(authors.index)
    # the authors' R script printed 15 significant digits
    np.testing.assert_allclose(ours.to_numpy(), authors.to_numpy(), rtol=1e-9, atol=1e-12)


def test_dysbiosis_is_the_median_braycurtis_to_the_reference(gmhi_validation):
    from skbio.diversity import beta_diversity as sk_beta

    df, md = gmhi_validation
    healthy_ids = md.index[md["Phenotype"] == "Healthy"].astype(str)
    healthy = df.loc[df.index.isin(healthy_ids)]
    scored = df.loc[~df.index.isin(healthy_ids)].iloc[:25]
    ref = gutjoint.build_reference(healthy, name="gmhi-healthy-test")
    assert ref.sizes == {"reference": len(healthy)}
    ours = gutjoint.dysbiosis(scored, ref)
    # HMP2's definition by hand: proportions over the union of species, scikit-bio's BC
    both = pd.concat([scored, healthy])
    props = both.div(both.sum(axis=1), axis=0)
    dm = sk_beta("braycurtis", props.to_numpy(), ids=list(props.index))
    square = pd.DataFrame(dm.data, index=dm.ids, columns=dm.ids)
    expected = square.loc[scored.index, healthy.index].median(axis=1)
    np.testing.assert_allclose(ours.loc[scored.index, "dysbiosis"].to_numpy(),
                               expected.to_numpy(), rtol=1e-9)
    assert ours["percentile"].between(0, 100).all()
    assert ours.attrs["metric"] == "braycurtis"
    # A saved reference reads back to the same scores.
    assert isinstance(ours["top_deviating_taxa"].iloc[0], list)


def test_reference_save_and_load(tmp_path, gmhi_validation):
    df, md = gmhi_validation
    healthy = df.loc[df.index.isin(md.index[md["Phenotype"] == "Healthy"].astype(str))]
    pops = md.loc[healthy.index, "Phenotype_all"].iloc[:, 0] if isinstance(
        md.loc[healthy.index, "Phenotype_all"], pd.DataFrame) else md.loc[healthy.index,
                                                                           "Phenotype_all"]
    ref = gutjoint.build_reference(healthy, pops, name="by-study")
    assert "all" in ref.populations and len(ref.populations) >= 2
    ref.save(tmp_path / "ref.json")
    again = gutjoint.Reference.load(tmp_path / "ref.json")
    a = gutjoint.dysbiosis(df.iloc[:10], ref, population="all")
    b = gutjoint.dysbiosis(df.iloc[:10], tmp_path / "ref.json", population="all")
    pd.testing.assert_frame_equal(a, b)
    assert again.name == "by-study"
    with pytest.raises(ValueError, match="population 'Mars'"):
        gutjoint.dysbiosis(df.iloc[:10], ref, population="Mars")


def test_signatures_report_the_samples_own_abundance(gmhi_validation):
    df, _ = gmhi_validation
    rows = gutjoint.signatures(df.iloc[:30], "AS")
    assert len(rows) > 0 and set(rows["disease"]) == {"AS"}
    assert {"citation", "doi", "consistent", "reported_direction"} <= set(rows.columns)
    # abundance of a species-level association = the species' share of the sample, from pandas
    species = rows[(rows["rank"] == "species") & rows["abundance"].notna()]
    assert len(species) > 0
    props = df.iloc[:30].div(df.iloc[:30].sum(axis=1), axis=0)
    checked = 0
    for _, r in species.iterrows():
        cols = [c for c in df.columns
                if c.split("|")[-1].replace("s__", "").replace("_", " ").lower()
                == r["taxon"].lower()]
        if len(cols) == 1:
            assert r["abundance"] == pytest.approx(props.loc[r["sample_id"], cols[0]], rel=1e-9,
                                                   abs=1e-15)
            checked += 1
    assert checked > 0
    with pytest.raises(ValueError, match="unknown disease"):
        gutjoint.signatures(df.iloc[:3], "not-a-disease-xyz")


def _gespic_subset(gespic):
    df, md = gespic
    md = md.loc[md["group"].isin(["axSpA", "healthy"])]
    df = df.loc[df.index.isin(md.index.astype(str))]
    # a manageable, prevalent set of genera keeps statsmodels quick
    keep = (df > 0).mean() >= 0.5
    return df.loc[:, keep], md


def test_da_lm_matches_statsmodels(gespic):
    import statsmodels.formula.api as smf

    df, md = _gespic_subset(gespic)
    res = gutjoint.da(df, md[["group", "age", "sex"]], "group + age + C(sex)",
                      {"group": "healthy"})
    terms = set(res["term"])
    assert {"Intercept", "group[T.axSpA]", "age"} <= terms
    design = res.attrs["design"]
    used = list(design["sample_ids"])
    sub = df.loc[used]
    sub = sub.loc[:, (sub > 0).any()]
    # counts are modelled as proportions; a relative table (GESPIC's) as it is
    rel = sub.div(sub.sum(axis=1), axis=0) if (sub.to_numpy() % 1 == 0).all() else sub
    pseudo = rel.to_numpy()[rel.to_numpy() > 0].min() / 2
    frame = md.loc[used, ["group", "age", "sex"]].copy()
    for feature in list(rel.columns)[:8]:
        frame["y"] = np.log10(rel[feature].to_numpy() + pseudo)
        fit = smf.ols("y ~ C(group, Treatment('healthy')) + age + C(sex)", frame).fit()
        row = res[(res["feature"] == feature) & (res["term"] == "group[T.axSpA]")].iloc[0]
        name = "C(group, Treatment('healthy'))[T.axSpA]"
        assert row["estimate"] == pytest.approx(fit.params[name], rel=1e-9, abs=1e-12)
        assert row["se"] == pytest.approx(fit.bse[name], rel=1e-9)
        assert row["p"] == pytest.approx(fit.pvalues[name], rel=1e-7, abs=1e-14)


def test_da_ancombc_matches_skbio(gespic):
    from skbio.stats.composition import ancombc

    df, md = _gespic_subset(gespic)
    meta = md.loc[df.index, ["group", "age"]].dropna()
    df = df.loc[meta.index]
    df = df.loc[:, (df > 0).any()]
    res = gutjoint.da(df, meta, "group + age", {"group": "healthy"}, method="ancombc",
                      pseudocount=1)
    theirs = ancombc(df + 1, meta, "C(group, Treatment('healthy')) + age").result
    theirs.index = theirs.index.set_names(["feature", "term"])
    t = theirs.reset_index()
    t = t[t["term"].str.contains("axSpA")].set_index("feature")
    ours = res[res["term"] == "group[T.axSpA]"].set_index("feature")
    common = ours.index.intersection(t.index)
    assert len(common) == len(ours) > 10
    # the CLI's measured agreement: 8.7e-10 (log fold change), 7.2e-9 (p)
    np.testing.assert_allclose(ours.loc[common, "estimate"].to_numpy(),
                               t.loc[common, "Log(FC)"].to_numpy(), rtol=0, atol=1e-7)
    np.testing.assert_allclose(ours.loc[common, "se"].to_numpy(),
                               t.loc[common, "SE"].to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(ours.loc[common, "p"].to_numpy(),
                               t.loc[common, "pvalue"].to_numpy(), rtol=0, atol=1e-6)


def test_da_bad_formula_column_is_a_value_error(gespic):
    df, md = _gespic_subset(gespic)
    with pytest.raises(ValueError, match="no column 'nope'"):
        gutjoint.da(df, md[["group"]], "group + nope")


def test_drug_capacity_is_abundance_times_agora2_carriage(data):
    carriage = pd.read_csv(data.parent.parent / "knowledge" / "enzyme_carriage.tsv", sep="\t",
                           index_col=0)
    a, b = "Escherichia coli", "Bacteroides fragilis"
    df = pd.DataFrame([[50.0, 30.0, 20.0]], index=["P1"],
                      columns=["s__Escherichia_coli", "s__Bacteroides_fragilis",
                               "s__Madeupus_nonexistens"])
    calls = gutjoint.drugs(df, ["Azulfidine", "diclofenac"],
                           knowledge=data.parent.parent / "knowledge")
    assert set(calls["drug"]) == {"sulfasalazine", "diclofenac"}  # the brand name resolves
    uid = calls[(calls["drug"] == "diclofenac") & (calls["interaction"] == "toxification")]
    uid = uid.iloc[0]
    expected = 0.5 * carriage.loc[a, "UidA_any"] + 0.3 * carriage.loc[b, "UidA_any"]
    assert expected > 0.5
    assert uid["capacity"] == pytest.approx(expected, rel=1e-12)
    assert uid["mapped_fraction"] == pytest.approx(0.8, rel=1e-12)
    assert uid["upper_bound"] == pytest.approx(expected + 0.2, rel=1e-12)
    with pytest.raises(ValueError, match="unknown drug 'sulfasalazin'; did you mean"):
        gutjoint.drugs(df, ["sulfasalazin"], knowledge=data.parent.parent / "knowledge")
    meds = pd.Series({"P1": "methotrexate; none"})
    both = gutjoint.drugs(df, medications=meds, knowledge=data.parent.parent / "knowledge")
    assert set(both["drug"]) == {"methotrexate"}


def test_classify_auc_is_sklearns_on_its_probabilities(gespic):
    from sklearn.metrics import roc_auc_score

    df, md = gespic
    res = gutjoint.classify(df, md["group"], "axSpA", "healthy", repeats=1, seed=1)
    pred = res["predictions"]
    assert set(md.loc[pred.index, "group"]) == {"axSpA", "healthy"}
    assert res["auc"] == pytest.approx(roc_auc_score(pred["label"], pred["probability"]),
                                       rel=1e-12)
    again = gutjoint.classify(df, md["group"], "axSpA", "healthy", repeats=1, seed=1)
    np.testing.assert_array_equal(again["predictions"]["probability"], pred["probability"])
    # a label that separates the samples perfectly is found
    rng = np.random.default_rng(5)
    x = rng.geometric(0.2, size=(60, 12)).astype(float)
    y = np.array([True] * 30 + [False] * 30)
    x[y, 0] *= 40
    toy = pd.DataFrame(x, index=[f"S{i}" for i in range(60)], columns=[f"f{j}" for j in range(12)])
    sep = gutjoint.classify(toy, pd.Series(np.where(y, "case", "control"), index=toy.index),
                            "case", model="rf", trees=50, repeats=1)
    assert sep["auc"] > 0.95
    with pytest.raises(ValueError, match="unknown model"):
        gutjoint.classify(toy, list(y), True, model="svm")


def test_analyze_and_write_report(tmp_path, data):
    config = {"table": data / "gmhi" / "validation_abundance.csv",
              "metadata": data.parent / "demo" / "gmhi_arthritis_metadata.tsv",
              "group": "group", "permutations": 99, "seed": 1, "classifier": "none"}
    steps = []
    res = gutjoint.write_report(config, tmp_path / "out",
                                progress=lambda step, done, total: steps.append(step))
    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000
    import json
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == res
    assert steps[0] == "reading the table" and len(set(steps)) >= 5
    again = gutjoint.analyze(config)
    assert again == res  # same inputs and seed, same results
    with pytest.raises(ValueError, match="unknown field|unknown variant|nonsense"):
        gutjoint.analyze(config, nonsense=1)
    with pytest.raises(FileNotFoundError):
        gutjoint.analyze({"table": tmp_path / "missing.tsv"})

    def stop(step, done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        gutjoint.analyze(config, progress=stop)


def test_built_in_reference_by_name(gmhi_validation):
    df, _ = gmhi_validation
    names = gutjoint.built_in_references()
    assert "gmhi-healthy" in names.index
    d = gutjoint.dysbiosis(df.iloc[:5], "gmhi-healthy")
    assert d.attrs["reference"] == "gmhi-healthy" and len(d) == 5
    with pytest.raises(ValueError, match="gmhi-healthy"):
        gutjoint.dysbiosis(df.iloc[:5], "no-such-reference")

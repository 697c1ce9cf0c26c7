"""Reading, diversity, ordination and permutation tests against scikit-bio 0.7.4 on the bundled
real data. Tolerances are the CLI's (1e-9 relative for scikit-bio's numbers; 1e-12 for the
distances the issue names)."""

import threading
import time

import numpy as np
import pandas as pd
import pytest
import skbio
from skbio.diversity import alpha_diversity as sk_alpha
from skbio.diversity import beta_diversity as sk_beta

import gutjoint


def test_installed_wheel_is_imported():
    # The tests run against the wheel installed in a fresh environment, not the source tree.
    assert "site-packages" in gutjoint.__file__
    assert gutjoint.__version__


def test_read_table_matches_pandas(globalpatterns, data):
    df, _ = globalpatterns
    raw = pd.read_csv(data / "phyloseq" / "GlobalPatterns.otu.tsv", sep="\t", index_col=0)
    expected = raw.T.astype(float)
    assert df.shape == (26, 19216)
    assert list(df.index) == [str(s) for s in expected.index]
    assert list(df.columns) == [str(f) for f in expected.columns]
    np.testing.assert_array_equal(df.to_numpy(), expected.to_numpy())
    assert df.attrs["value_kind"] == "counts"
    assert df.attrs["format"] == "tsv"


def test_read_table_biom_round_trip(enterotype):
    import biom

    df, _ = enterotype
    table = gutjoint.read_table  # the reader of record
    as_biom = gutjoint._convert.to_biom(gutjoint._convert.to_table(df))
    assert isinstance(as_biom, biom.Table)
    assert as_biom.shape == (df.shape[1], df.shape[0])
    back = as_biom.to_dataframe(dense=True).T
    np.testing.assert_array_equal(back.loc[df.index, df.columns].to_numpy(), df.to_numpy())
    # biom.Table as input gives the same distances as the DataFrame
    a = gutjoint.beta_diversity(df, "braycurtis")
    b = gutjoint.beta_diversity(as_biom, "braycurtis")
    np.testing.assert_array_equal(a.data, b.data)
    assert table is gutjoint.read_table


def test_read_metaphlan_and_biom_formats(tmp_path, gmhi_validation):
    import biom
    from biom.util import biom_open

    df, _ = gmhi_validation
    assert df.shape == (782, 576)
    sub = df.iloc[:20]
    sub = sub.loc[:, (sub > 0).any()]
    t = biom.Table(sub.T.to_numpy(), list(sub.columns), list(sub.index))
    with biom_open(str(tmp_path / "t.biom"), "w") as f:
        t.to_hdf5(f, "test")
    with open(tmp_path / "t.json", "w") as f:
        f.write(t.to_json("test"))
    for name in ("t.biom", "t.json"):
        back = gutjoint.read_table(tmp_path / name)
        # the peer: what biom-format itself reads from the file it wrote
        peer = biom.load_table(str(tmp_path / name)).to_dataframe(dense=True).T
        np.testing.assert_array_equal(back.loc[sub.index, sub.columns].to_numpy(),
                                      peer.loc[sub.index, sub.columns].to_numpy())
    as_b = gutjoint.read_table(tmp_path / "t.biom", as_biom=True)
    assert isinstance(as_b, biom.Table) and as_b.shape == t.shape


ALPHA = ["observed_features", "shannon", "simpson", "dominance", "berger_parker_d",
         "pielou_e", "chao1"]


@pytest.mark.parametrize("metric", ALPHA)
def test_alpha_matches_skbio(globalpatterns, metric):
    df, _ = globalpatterns
    ours = gutjoint.alpha_diversity(df, metric)
    theirs = sk_alpha(metric, df.to_numpy().astype(int), ids=list(df.index))
    assert ours.name == metric
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=0)
    assert list(ours.index) == list(theirs.index)


def test_alpha_several_metrics_and_skbio_argument_order(globalpatterns):
    df, _ = globalpatterns
    both = gutjoint.alpha_diversity(df, ["shannon", "observed_features"])
    assert list(both.columns) == ["shannon", "observed_features"]
    swapped = gutjoint.alpha_diversity("shannon", df)
    np.testing.assert_array_equal(both["shannon"].to_numpy(), swapped.to_numpy())


def test_faith_pd_matches_skbio(globalpatterns):
    df, tree_path = globalpatterns
    tree = skbio.TreeNode.read(str(tree_path))
    ours = gutjoint.alpha_diversity(df, "faith_pd", tree=tree)
    theirs = sk_alpha("faith_pd", df.to_numpy().astype(int), ids=list(df.index),
                      taxa=list(df.columns), tree=tree)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("metric", ["braycurtis", "jaccard"])
def test_beta_matches_skbio_on_bundled_tables(globalpatterns, enterotype, metric):
    for df in (globalpatterns[0], enterotype[0]):
        ours = gutjoint.beta_diversity(df, metric)
        theirs = sk_beta(metric, df.to_numpy(), ids=list(df.index))
        assert isinstance(ours, skbio.DistanceMatrix)
        assert ours.ids == theirs.ids
        np.testing.assert_allclose(ours.data, theirs.data, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("metric", ["unweighted_unifrac", "weighted_unifrac",
                                    "weighted_normalized_unifrac"])
def test_unifrac_matches_skbio(globalpatterns, metric):
    df, tree_path = globalpatterns
    tree = skbio.TreeNode.read(str(tree_path))
    counts = df.to_numpy().astype(int)
    kwargs = dict(taxa=list(df.columns), tree=tree)
    if metric == "weighted_normalized_unifrac":
        theirs = sk_beta("weighted_unifrac", counts, ids=list(df.index), normalized=True, **kwargs)
    else:
        theirs = sk_beta(metric, counts, ids=list(df.index), **kwargs)
    # tree as TreeNode, as a path and as Newick text give the same answer
    ours = gutjoint.beta_diversity(df, metric, tree=tree)
    by_path = gutjoint.beta_diversity(df, metric, tree=str(tree_path))
    np.testing.assert_allclose(ours.data, theirs.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ours.data, by_path.data)


def test_aitchison_is_euclidean_between_clr(enterotype):
    from skbio.stats.composition import clr
    from scipy.spatial.distance import pdist, squareform

    df, _ = enterotype
    ours = gutjoint.beta_diversity(df, "aitchison", pseudocount=1e-6)
    theirs = squareform(pdist(clr(df.to_numpy() + 1e-6)))
    np.testing.assert_allclose(ours.data, theirs, rtol=1e-9, atol=1e-12)


def test_numpy_array_input_and_condensed_output(enterotype):
    df, _ = enterotype
    ids = list(df.index)
    dense = gutjoint.beta_diversity(df.to_numpy(), "braycurtis", ids=ids)
    fortran = gutjoint.beta_diversity(np.asfortranarray(df.to_numpy()), "braycurtis", ids=ids)
    cond = gutjoint.beta_diversity(df, "braycurtis", condensed=True)
    import scipy.sparse as sp

    sparse = gutjoint.beta_diversity(sp.csr_matrix(df.to_numpy()), "braycurtis", ids=ids)
    np.testing.assert_array_equal(dense.data, sparse.data)
    np.testing.assert_array_equal(dense.data, fortran.data)
    np.testing.assert_array_equal(dense.condensed_form(), cond.condensed_form())
    assert dense.ids == tuple(ids)


def test_pcoa_matches_skbio(enterotype):
    from skbio.stats.ordination import pcoa as sk_pcoa

    df, _ = enterotype
    dm = gutjoint.beta_diversity(df, "braycurtis")
    ours = gutjoint.pcoa(dm)
    theirs = sk_pcoa(dm)
    k = int((theirs.eigvals > 1e-8).sum())
    np.testing.assert_allclose(ours.eigvals.to_numpy()[:k], theirs.eigvals.to_numpy()[:k],
                               rtol=1e-9)
    np.testing.assert_allclose(ours.proportion_explained.to_numpy()[:k],
                               theirs.proportion_explained.to_numpy()[:k], rtol=1e-9)
    a, b = ours.samples.to_numpy()[:, :5], theirs.samples.to_numpy()[:, :5]
    signs = np.sign((a * b).sum(axis=0))  # eigenvector signs are arbitrary
    np.testing.assert_allclose(a * signs, b, rtol=1e-7, atol=1e-9)
    assert list(ours.samples.columns[:2]) == ["PC1", "PC2"]
    assert list(ours.samples.index) == list(dm.ids)


def test_pcoa_dimensions_match_skbio_partial_eigh(enterotype):
    # scikit-bio computes only the leading axes when `dimensions` < n and divides by the
    # trace of the centred matrix: the engine's partial (block Lanczos) path must agree.
    from skbio.stats.ordination import pcoa as sk_pcoa

    df, _ = enterotype
    dm = gutjoint.beta_diversity(df, "braycurtis")
    ours = gutjoint.pcoa(dm, dimensions=5)
    theirs = sk_pcoa(dm, method="eigh", dimensions=5)
    assert ours.samples.shape == (len(dm.ids), 5)
    np.testing.assert_allclose(ours.eigvals.to_numpy(), theirs.eigvals.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours.proportion_explained.to_numpy(),
                               theirs.proportion_explained.to_numpy(), rtol=1e-9)
    a, b = ours.samples.to_numpy(), theirs.samples.to_numpy()
    signs = np.sign((a * b).sum(axis=0))
    np.testing.assert_allclose(a * signs, b, rtol=1e-7, atol=1e-9)


def test_permanova_matches_skbio(enterotype):
    from skbio.stats.distance import permanova as sk_permanova

    df, md = enterotype
    dm = gutjoint.beta_diversity(df, "braycurtis")
    md = md.loc[md.index.isin(dm.ids)]
    dm = dm.filter(md.index.astype(str))
    ours = gutjoint.permanova(dm, md, column="SeqTech", permutations=999, seed=1)
    theirs = sk_permanova(dm, md, column="SeqTech", permutations=999, seed=1)
    assert list(ours.index) == list(theirs.index)
    assert ours.name == theirs.name == "PERMANOVA results"
    for key in ("method name", "test statistic name", "sample size", "number of groups",
                "number of permutations"):
        assert ours[key] == theirs[key]
    assert ours["test statistic"] == pytest.approx(theirs["test statistic"], rel=1e-9)
    # Sequencing technology separates these profiles strongly: no permutation reaches it.
    assert ours["p-value"] == theirs["p-value"] == pytest.approx(1 / 1000)
    # Same seed, same p-value; a Series grouping gives the same statistic
    again = gutjoint.permanova(dm, md["SeqTech"], permutations=999, seed=1)
    assert again["test statistic"] == ours["test statistic"]


def test_permanova_p_value_agrees_within_monte_carlo_error(gespic):
    from skbio.stats.distance import permanova as sk_permanova

    df, md = gespic
    dm = gutjoint.beta_diversity(df, "braycurtis")
    group = md["sex"].loc[list(dm.ids)].dropna().astype(str)
    dm = dm.filter(group.index)
    ours = gutjoint.permanova(dm, group, permutations=999, seed=3)
    theirs = sk_permanova(dm, group.to_numpy(), permutations=999, seed=3)
    assert ours["test statistic"] == pytest.approx(theirs["test statistic"], rel=1e-9)
    # two independent estimates of the same p: within 4 binomial standard errors
    p = theirs["p-value"]
    assert abs(ours["p-value"] - p) <= 4 * np.sqrt(max(p * (1 - p), 1e-3) / 1000) + 2e-3


def test_permdisp_matches_skbio(enterotype):
    from skbio.stats.distance import permdisp as sk_permdisp

    df, md = enterotype
    dm = gutjoint.beta_diversity(df, "braycurtis")
    md = md.loc[md.index.isin(dm.ids)]
    dm = dm.filter(md.index.astype(str))
    ours = gutjoint.permdisp(dm, md, column="SeqTech", permutations=99, seed=1)
    theirs = sk_permdisp(dm, md, column="SeqTech", permutations=99, seed=1)
    assert ours["test statistic"] == pytest.approx(theirs["test statistic"], rel=1e-6)


def test_progress_callback_and_gil_released():
    rng = np.random.default_rng(7)
    x = rng.geometric(0.3, size=(1500, 400)) * (rng.random((1500, 400)) < 0.1)
    calls = []
    dm = gutjoint.beta_diversity(x.astype(float), "braycurtis",
                                 progress=lambda done, total: calls.append((done, total)))
    total = 1500 * 1499 // 2
    assert calls and calls[-1] == (total, total)
    assert all(0 <= d <= t == total for d, t in calls)
    assert dm.shape == (1500, 1500)

    # While the engine works in one thread, Python code keeps running in another.
    ticks = 0
    worker = threading.Thread(target=gutjoint.beta_diversity, args=(x.astype(float), "jaccard"))
    worker.start()
    while worker.is_alive():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    assert ticks > 1


def test_progress_callback_exception_is_raised():
    def fail(done, total):
        raise KeyError("stop")

    x = np.random.default_rng(1).random((1200, 300))
    with pytest.raises(KeyError):
        gutjoint.beta_diversity(x, "braycurtis", progress=fail)

"""Bad input raises a Python exception carrying the engine's message; the interpreter never
crashes. Each case is run in a child interpreter too, so that an abort would fail the test
instead of killing the test run."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import skbio

import gutjoint


def test_missing_file_is_file_not_found(tmp_path):
    missing = tmp_path / "no-such-table.tsv"
    with pytest.raises(FileNotFoundError, match="no-such-table.tsv"):
        gutjoint.read_table(missing)
    with pytest.raises(OSError):
        gutjoint.read_table(missing)


def test_malformed_file_names_the_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("#OTU ID\tS1\tS2\nf1\t1\t2\nf2\t3\n")
    with pytest.raises(ValueError, match=r"bad.tsv.*line 3"):
        gutjoint.read_table(bad)


def test_duplicate_ids_are_a_value_error(tmp_path):
    df = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=["A", "A"], columns=["x", "y"])
    with pytest.raises(ValueError, match="duplicate.*'A'|'A'.*duplicate|A"):
        gutjoint.beta_diversity(df, "braycurtis")
    dup = tmp_path / "dup.tsv"
    dup.write_text("#OTU ID\tS1\tS1\nf1\t1\t2\n")
    with pytest.raises(ValueError, match="S1"):
        gutjoint.read_table(dup)


def test_negative_values_are_a_value_error():
    df = pd.DataFrame([[1.0, -2.0], [3.0, 4.0]], index=["A", "B"], columns=["x", "y"])
    with pytest.raises(ValueError, match="sample A, feature y"):
        gutjoint.alpha_diversity(df, "shannon")
    nan = pd.DataFrame([[1.0, np.nan], [3.0, 4.0]], index=["A", "B"], columns=["x", "y"])
    with pytest.raises(ValueError, match="sample A, feature y"):
        gutjoint.beta_diversity(nan, "braycurtis")


def test_tree_missing_features_is_a_value_error():
    df = pd.DataFrame([[1.0, 2.0, 3.0], [3.0, 4.0, 0.0]], index=["A", "B"],
                      columns=["t1", "t2", "t9"])
    tree = skbio.TreeNode.read(["((t1:1,t2:1):1,t3:2);"])
    with pytest.raises(ValueError, match="t9"):
        gutjoint.beta_diversity(df, "unweighted_unifrac", tree=tree)
    # with drop_missing the feature is left out
    dm = gutjoint.beta_diversity(df, "unweighted_unifrac", tree=tree, drop_missing=True)
    assert dm.shape == (2, 2)


def test_unknown_metric_and_missing_tree():
    df = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=["A", "B"], columns=["x", "y"])
    with pytest.raises(ValueError, match="unknown metric 'bray'"):
        gutjoint.beta_diversity(df, "bray")
    with pytest.raises(ValueError, match="needs a phylogenetic tree"):
        gutjoint.beta_diversity(df, "weighted_unifrac")
    with pytest.raises(ValueError, match="chao1 needs integer counts"):
        gutjoint.alpha_diversity(df / 10.0, "chao1")


CHILD = r"""
import sys, pandas as pd, numpy as np, gutjoint, skbio
cases = [
    lambda: gutjoint.read_table("/nonexistent/table.biom"),
    lambda: gutjoint.beta_diversity(pd.DataFrame([[1.0, 2.0]], index=["A"], columns=["x", "x"]), "braycurtis"),
    lambda: gutjoint.alpha_diversity(pd.DataFrame([[-1.0]], index=["A"], columns=["x"]), "shannon"),
    lambda: gutjoint.beta_diversity(pd.DataFrame([[1.0, 1.0], [2.0, 0.0]], index=["A", "B"], columns=["a", "zz"]),
                                    "unweighted_unifrac", tree="(a:1,b:1);"),
    lambda: gutjoint.Tree.from_newick("((a:1,b:1);"),
    lambda: gutjoint.pcoa(skbio.DistanceMatrix([[0.0]], ["A"])),
    lambda: gutjoint.permanova(skbio.DistanceMatrix([[0, 1], [1, 0]], ["A", "B"]), ["x", "y"]),
]
for case in cases:
    try:
        case()
    except (ValueError, OSError) as e:
        assert str(e), "empty message"
    else:
        sys.exit("no exception")
print("ok")
"""


def test_errors_never_crash_the_interpreter():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

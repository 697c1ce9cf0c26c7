"""examples/python/tour.py, the notebook-style example of issue #18 (read a MetaPhlAn table,
diversity, PCoA plot with matplotlib, PERMANOVA, dysbiosis, drugs), runs whole here so it cannot
rot, and what it shows a reader is checked against scikit-bio on the same objects."""

import runpy
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    pytest.importorskip("matplotlib")
    import os

    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("tour"))  # the tour writes gutjoint-python-tour/ here
    try:
        ns = runpy.run_path(str(ROOT / "examples" / "python" / "tour.py"), run_name="__main__")
        ns["_out"] = Path.cwd() / "gutjoint-python-tour"
    finally:
        os.chdir(here)
    return ns


def test_tour_plots_the_pcoa(tour):
    png = tour["_out"] / "pcoa.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The plotted coordinates are scikit-bio's PCoA of the tour's distance matrix, up to each
    # axis' sign (eigenvectors are defined up to sign).
    from skbio.stats.ordination import pcoa

    theirs = pcoa(tour["dm"]).samples
    ours = tour["coords"]
    for axis in ["PC1", "PC2"]:
        a, b = ours[axis].to_numpy(), theirs.loc[ours.index, axis].to_numpy()
        sign = np.sign(a @ b)
        np.testing.assert_allclose(a, sign * b, rtol=0, atol=1e-9)


def test_tour_permanova_is_scikit_bios(tour):
    from skbio.stats.distance import permanova

    theirs = permanova(tour["dm"], tour["group"], permutations=0)
    ours = tour["result"]
    assert ours["sample size"] == theirs["sample size"]
    assert ours["number of groups"] == theirs["number of groups"]
    assert ours["test statistic"] == pytest.approx(theirs["test statistic"], rel=1e-9)


def test_tour_covers_dysbiosis_and_drugs(tour):
    scores, calls, table = tour["scores"], tour["calls"], tour["table"]
    assert list(scores.index) == list(table.index)
    assert set(calls["drug"]) == {"sulfasalazine", "methotrexate", "diclofenac"}
    assert calls["citation"].str.len().min() > 0

"""Shared fixtures: the bundled real data of the repository (examples/data, PROVENANCE.md)."""

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "examples" / "data"


@pytest.fixture(scope="session")
def data():
    return DATA


@pytest.fixture(scope="session")
def globalpatterns():
    """GlobalPatterns (Caporaso et al. 2011): 26 samples × 19,216 OTUs of counts, and its tree."""
    import gutjoint

    df = gutjoint.read_table(DATA / "phyloseq" / "GlobalPatterns.otu.tsv")
    return df, DATA / "phyloseq" / "GlobalPatterns.tree.nwk"


@pytest.fixture(scope="session")
def enterotype():
    """Arumugam et al. 2011 enterotype genus profiles (relative) and their metadata."""
    import gutjoint

    df = gutjoint.read_table(DATA / "phyloseq" / "enterotype.genus.tsv")
    md = pd.read_csv(DATA / "phyloseq" / "enterotype.metadata.tsv", sep="\t", index_col=0)
    return df, md


@pytest.fixture(scope="session")
def gmhi_validation():
    """GMHI validation profiles (Gupta et al. 2020): MetaPhlAn2 species, 782 samples."""
    import gutjoint

    df = gutjoint.read_table(DATA / "gmhi" / "validation_abundance.csv")
    md = pd.read_csv(DATA / "gmhi" / "validation_metadata.csv", index_col=0, encoding="utf-8-sig")
    return df, md


@pytest.fixture(scope="session")
def gespic():
    """GESPIC (Essex et al. 2022): 16S genus counts with group, age, sex."""
    import gutjoint

    df = gutjoint.read_table(DATA / "gespic" / "gespic_genus.tsv")
    md = pd.read_csv(DATA / "gespic" / "gespic_metadata.tsv", sep="\t", index_col=0)
    return df, md

"""Every format specimen of tests/data/formats (manifest index.toml, made by biom-format and
the scripts beside it) through gutjoint.read_table: valid files give the manifest's shape, total
and nonzero count; invalid ones raise ValueError/OSError with the manifest's phrase."""

from pathlib import Path

import numpy as np
import pytest

import gutjoint

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

FORMATS = Path(__file__).resolve().parents[3] / "tests" / "data" / "formats"
MANIFEST = (tomllib.loads((FORMATS / "index.toml").read_text())["file"]
            if tomllib is not None else [])
TABLES = [f for f in MANIFEST if f.get("format") not in ("metadata", "newick", "lsmat")]


@pytest.mark.skipif(tomllib is None, reason="needs Python 3.11's tomllib")
@pytest.mark.parametrize("spec", TABLES, ids=[f["path"] for f in TABLES])
def test_specimen(spec):
    path = FORMATS / spec["path"]
    kind = spec.get("format", "")
    if kind in ("metadata", "newick", "lsmat"):
        pytest.skip("not a feature table")
    rows = "samples_as_rows" in spec["path"]
    if spec["valid"]:
        df = gutjoint.read_table(path, samples_as_rows=rows)
        assert df.shape == (spec["samples"], spec["features"])
        assert int((df.to_numpy() != 0).sum()) == spec.get("nnz", int((df.to_numpy() != 0).sum()))
        assert float(df.to_numpy().sum()) == pytest.approx(spec["total"], rel=1e-9)
        table = gutjoint.read_table(path, as_table=True, samples_as_rows=rows)
        assert table.format == spec["format"]
    else:
        with pytest.raises((ValueError, OSError)) as info:
            gutjoint.read_table(path)
        phrase = spec.get("error_contains")
        if phrase:
            assert phrase.lower() in str(info.value).lower()

#!/usr/bin/env python3
"""Cross-check UniFrac values with the `unifrac` package (Striped UniFrac / libssu).

Runs under whichever Python has a working `unifrac` import. On Debian 12 the
PyPI sdist unifrac==1.5 cannot be built (it needs conda's libssu >= 1.4
headers), so make_golden.py runs this script with Debian's /usr/bin/python3
and the `python3-unifrac` package (unifrac 1.2 + libssu 1.2). Override with
the UNIFRAC_PYTHON environment variable if you have unifrac 1.5 elsewhere.

Writes crosscheck/unifrac_<dataset>_<metric>.lsmat.tsv (values as repr()).
Needs only numpy, biom-format and unifrac, so it works with old or new
scikit-bio underneath.
"""
import os
import sys
import tempfile

import numpy as np
import biom
from biom.util import biom_open
import unifrac

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
OUT = os.path.join(HERE, "crosscheck")


def read_features_by_samples(path):
    """features x samples TSV; first header cell empty or '#OTU ID'."""
    with open(path) as fh:
        header = fh.readline().rstrip("\n").split("\t")
        samples = header[1:]
        feats, rows = [], []
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            feats.append(parts[0])
            rows.append([float(x) for x in parts[1:]])
    return np.array(rows, dtype=float), feats, samples


def write_lsmat(dm, path):
    ids = list(dm.ids)
    with open(path, "w") as fh:
        fh.write("\t".join([""] + ids) + "\n")
        for i, id_ in enumerate(ids):
            fh.write("\t".join([id_] + [repr(float(v)) for v in dm.data[i]]) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    datasets = {
        "globalpatterns": (
            os.path.join(REPO, "examples/data/phyloseq/GlobalPatterns.otu.tsv"),
            os.path.join(REPO, "examples/data/phyloseq/GlobalPatterns.tree.nwk"),
        ),
        "tiny": (os.path.join(HERE, "tiny_table.tsv"), os.path.join(HERE, "tiny_tree.nwk")),
    }
    version = getattr(unifrac, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as _v
            version = _v("unifrac")
        except Exception:  # Debian's python3-unifrac ships no dist-info version
            version = "unknown"
    print("unifrac package version:", version, "python", sys.version.split()[0])
    with tempfile.TemporaryDirectory() as tmp:
        for name, (table_path, tree_path) in datasets.items():
            data, feats, samples = read_features_by_samples(table_path)
            table = biom.Table(data, feats, samples)
            bpath = os.path.join(tmp, name + ".biom")
            with biom_open(bpath, "w") as f:
                table.to_hdf5(f, "gutjoint golden")
            runs = {
                "unweighted_unifrac": lambda: unifrac.unweighted_fp64(bpath, tree_path),
                "weighted_unifrac": lambda: unifrac.weighted_unnormalized_fp64(bpath, tree_path),
                "weighted_normalized_unifrac": lambda: unifrac.weighted_normalized_fp64(bpath, tree_path),
                "generalized_unifrac_alpha0.5": lambda: unifrac.generalized_fp64(bpath, tree_path, alpha=0.5),
                "generalized_unifrac_alpha1.0": lambda: unifrac.generalized_fp64(bpath, tree_path, alpha=1.0),
            }
            for metric, fn in runs.items():
                dm = fn()
                write_lsmat(dm, os.path.join(OUT, "unifrac_%s_%s.lsmat.tsv" % (name, metric)))
            print(name, "done:", data.shape[1], "samples")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Golden values for PCoA restricted to the leading axes (`gutjoint pcoa --dimensions K`).

scikit-bio 0.7.4's `pcoa(dm, method="eigh", dimensions=K)` with 0 < K < n asks LAPACK for the
top K eigenpairs only (scipy `eigh(subset_by_index=...)`) and reports the proportion explained
as eigenvalue / trace of the centred matrix, not / the sum of the K computed eigenvalues nor of
the positive ones (the full path's rule). Inputs are lsmat fixtures already in this folder:

* enterotype_braycurtis.lsmat.tsv (280 samples), K = 10: a spectrum with close neighbours
  (1.385 / 1.342) and 166 eigenvalues at or below zero, so the trace differs from the positive sum;
* globalpatterns_braycurtis.lsmat.tsv (26 samples), K = 3.

Writes `<name>_pcoa_top<K>.tsv` (axis, eigenvalue, proportion_explained) and
`<name>_pcoa_top<K>_coords.tsv` (sample-id, PC1..PCK; signs as LAPACK returned them, the test
compares up to each axis' sign). Run from anywhere (paths are relative to this file):

    python tests/data/golden/ecology/make_pcoa_top.py
"""

import warnings
from pathlib import Path

from skbio import DistanceMatrix
from skbio.stats.ordination import pcoa

HERE = Path(__file__).resolve().parent


def fmt(v):
    return v if isinstance(v, str) else repr(float(v))


def write_tsv(path, columns, rows):
    with open(path, "w") as fh:
        fh.write("\t".join(columns) + "\n")
        for row in rows:
            fh.write("\t".join(fmt(v) for v in row) + "\n")


def main():
    warnings.simplefilter("ignore")  # negative-eigenvalue warnings
    for name, k in [("enterotype", 10), ("globalpatterns", 3)]:
        dm = DistanceMatrix.read(str(HERE / f"{name}_braycurtis.lsmat.tsv"), format="lsmat")
        res = pcoa(dm, method="eigh", dimensions=k)
        axes = list(res.eigvals.index)
        assert len(axes) == k
        write_tsv(HERE / f"{name}_pcoa_top{k}.tsv", ["axis", "eigenvalue", "proportion_explained"],
                  [[a, e, p] for a, e, p in zip(axes, res.eigvals.to_numpy(), res.proportion_explained.to_numpy())])
        coords = res.samples.loc[list(dm.ids)]
        write_tsv(HERE / f"{name}_pcoa_top{k}_coords.tsv", ["sample-id"] + axes,
                  [[sid] + [float(coords.loc[sid, a]) for a in axes] for sid in dm.ids])
        print(name, k, "eigenvalues", res.eigvals.to_numpy()[:3], "...",
              "proportions", res.proportion_explained.to_numpy()[:3], "...")


if __name__ == "__main__":
    main()

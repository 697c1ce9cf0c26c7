#!/usr/bin/env python3
"""Distance matrices saved by NumPy, for the `.npy` reader's cross-tool test
(crates/gutjoint-cli/tests/cli/ecology.rs, `npy_saved_by_numpy_reads_as_the_lsmat`).

scikit-bio reads the golden GlobalPatterns Bray-Curtis lsmat (26 samples) and NumPy saves it
as a user would: the square `dm.data` in C order, the same in Fortran order, and the condensed
`dm.condensed_form()`; each with its ids, one per line, in `<file>.ids.txt`. The test checks that
gutjoint gives the same PCoA bytes and PERMANOVA answer from each file as from the lsmat.

    python tests/data/npy/make_npy.py      # numpy >= 1.17, scikit-bio 0.7.4
"""
import os

import numpy as np
from skbio import DistanceMatrix

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "golden", "ecology", "globalpatterns_braycurtis.lsmat.tsv")

dm = DistanceMatrix.read(SOURCE)
for name, array in (
    ("globalpatterns_braycurtis.square.npy", np.ascontiguousarray(dm.data)),
    ("globalpatterns_braycurtis.fortran.npy", np.asfortranarray(dm.data)),
    ("globalpatterns_braycurtis.condensed.npy", dm.condensed_form()),
):
    path = os.path.join(HERE, name)
    np.save(path, array)
    with open(path + ".ids.txt", "w") as f:
        f.write("".join(f"{i}\n" for i in dm.ids))
    print(name, array.shape, array.dtype, "fortran" if array.flags.f_contiguous and array.ndim == 2 else "C")

"""Golden values for analyze's "Confounders and batches" section on GESPIC (axSpA vs healthy).

The sequencing run (SeqExp) is collinear with the group; the section then tests the group
within run 0, the largest run holding both groups. This script computes, with scikit-bio, the
PERMANOVA pseudo-F of the group on Bray-Curtis distances of the raw genus counts
(1) over every axSpA and healthy sample with a run and (2) within run 0 only, and the level
counts. The pseudo-F does not depend on the permutations, so it is compared to 1e-9.

Run: ~/.cache/gutjoint/py-peers/bin/python make_gespic_within_run.py > gespic_within_run.json
"""
import json
import pathlib

import numpy as np
import pandas as pd
from skbio import DistanceMatrix
from skbio.diversity import beta_diversity
from skbio.stats.distance import permanova

data = pathlib.Path(__file__).resolve().parents[4] / "examples" / "data" / "gespic"
table = pd.read_csv(data / "gespic_genus.tsv", sep="\t", skiprows=1, index_col=0)
table = table.drop(columns=[c for c in table.columns if c.lower() == "taxonomy"])
md = pd.read_csv(data / "gespic_metadata.tsv", sep="\t", index_col=0, dtype=str)
ids = [s for s in table.columns if s in md.index and md.loc[s, "group"] in ("axSpA", "healthy")]
ids = [s for s in ids if isinstance(md.loc[s, "SeqExp"], str)]
counts = table[ids].T.values.astype(float)


def f_of(samples):
    rows = [ids.index(s) for s in samples]
    dm = beta_diversity("braycurtis", counts[rows], ids=samples)
    res = permanova(dm, [md.loc[s, "group"] for s in samples], permutations=0)
    return float(res["test statistic"]), int(res["sample size"])


levels = {}
for s in ids:
    key = (md.loc[s, "SeqExp"], md.loc[s, "group"])
    levels[key] = levels.get(key, 0) + 1
run0 = [s for s in ids if md.loc[s, "SeqExp"] == "0"]
f_all, n_all = f_of(ids)
f_run0, n_run0 = f_of(run0)
print(json.dumps({
    "permanova_f_all": f_all, "n_all": n_all,
    "permanova_f_run0": f_run0, "n_run0": n_run0,
    "levels": {f"{k[0]}|{k[1]}": v for k, v in sorted(levels.items())},
}, indent=1))

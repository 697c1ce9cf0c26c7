# %% [markdown]
# # gutjoint from Python: a tour on real metagenomes
#
# A notebook in "percent" format: open it in Jupyter (with jupytext), VS Code or Spyder and run
# cell by cell, or run it whole with `python examples/python/tour.py` from the repository root.
# It needs `pip install crates/gutjoint-py scikit-bio matplotlib` (see the README).
#
# The data are the GMHI validation profiles (Gupta et al. 2020, Nat Commun 11:4635): MetaPhlAn2
# species-level relative abundances of 782 stool metagenomes, among them people with ankylosing
# spondylitis (AS), rheumatoid arthritis (RA) and healthy controls from several studies
# (examples/data/PROVENANCE.md). Research use only: nothing here is a diagnosis.

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; remove this line in a notebook to see the plots inline
import matplotlib.pyplot as plt
import pandas as pd

import gutjoint

ROOT = Path(__file__).resolve().parents[2] if "__file__" in globals() else Path("../..")
DATA = ROOT / "examples" / "data" / "gmhi"
OUT = Path("gutjoint-python-tour")
OUT.mkdir(exist_ok=True)

# %% [markdown]
# ## 1. Read a MetaPhlAn table
# `read_table` sniffs the format (MetaPhlAn, BIOM, QIIME 2 .qza, TSV/CSV, HUMAnN) and returns
# a pandas DataFrame with samples as rows and species as columns.

# %%
profiles = gutjoint.read_table(DATA / "validation_abundance.csv")
# The arthritis samples (AS, RA) and healthy controls of the validation set, with their source
# study (examples/demo/README.md says how this file was derived from the GMHI metadata).
metadata = pd.read_csv(ROOT / "examples" / "demo" / "gmhi_arthritis_metadata.tsv", sep="\t",
                       index_col=0)
print(profiles.shape, profiles.attrs["value_kind"])
samples = metadata.index.intersection(profiles.index)
table = profiles.loc[samples]
group = metadata.loc[samples, "group"]
print(group.value_counts())

# %% [markdown]
# ## 2. Diversity
# Alpha diversity comes back as a pandas Series, beta diversity as a `skbio.DistanceMatrix`
# (the same numbers as scikit-bio, computed by the Rust engine).

# %%
shannon = gutjoint.alpha_diversity(table, "shannon")
print(shannon.groupby(group).median().round(3))
dm = gutjoint.beta_diversity(table, "braycurtis")
print(dm)

# %% [markdown]
# ## 3. PCoA plot

# %%
ordination = gutjoint.pcoa(dm)
coords = ordination.samples
explained = ordination.proportion_explained
fig, ax = plt.subplots(figsize=(6, 5))
for label, colour in zip(sorted(group.unique()), ["tab:red", "tab:blue", "tab:green"]):
    members = group.index[group == label]
    ax.scatter(coords.loc[members, "PC1"], coords.loc[members, "PC2"], s=12, c=colour,
               label=label, alpha=0.7)
ax.set_xlabel(f"PC1 ({100 * explained['PC1']:.1f}%)")
ax.set_ylabel(f"PC2 ({100 * explained['PC2']:.1f}%)")
ax.set_title("Bray–Curtis PCoA, GMHI validation profiles")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "pcoa.png", dpi=120)

# %% [markdown]
# ## 4. PERMANOVA
# Same result fields as `skbio.stats.distance.permanova`. The phenotypes here come from different
# studies (different countries and protocols), so a difference between them is also a
# difference between studies: the test cannot separate the two (see the `phenotype_all` column).

# %%
result = gutjoint.permanova(dm, group, permutations=999, seed=1)
print(result)

# %% [markdown]
# ## 5. Dysbiosis against a healthy reference
# Build a reference from healthy controls (ideally of the same country and protocol as the
# samples scored), then score every sample: median Bray–Curtis distance to the reference, its
# percentile among the reference's own leave-one-out scores, and the most deviating taxa.

# %%
healthy = table.loc[group == "healthy"]
reference = gutjoint.build_reference(healthy, name="tour-healthy")
scores = gutjoint.dysbiosis(table, reference)
print(scores.groupby(group)[["dysbiosis", "percentile"]].median().round(3))
print(scores.loc[group.index[group != "healthy"][0], "top_deviating_taxa"])
# The healthy samples score against a reference that contains them (left_out_of_reference says
# so); score new healthy people, or build the reference from a held-out half, for a fair view.

# %% [markdown]
# ## 6. Health index and arthritis signatures

# %%
index = gutjoint.gmhi(table)
print(index["gmhi"].groupby(group).median().round(3))
sig = gutjoint.signatures(table.loc[group == "AS"], "AS", reference=reference)
print(sig.groupby("taxon")["consistent"].value_counts().unstack(fill_value=0).head(10))

# %% [markdown]
# ## 7. Drugs and gut bacteria
# Which of the arthritis drugs the community may activate, inactivate or make toxic: capacity =
# Σ species abundance × AGORA2 strain carriage of the enzyme, called low/typical/high against
# the built-in healthy reference, with the evidence and its citation. Not a prescription aid.

# %%
calls = gutjoint.drugs(table, ["sulfasalazine", "methotrexate", "diclofenac"],
                       reference="gmhi-healthy")
summary = (calls.assign(group=calls["sample_id"].map(group))
           .groupby(["drug", "interaction", "group"])["capacity"].median().unstack())
print(summary.round(4))
print(calls[["drug", "interaction", "enzyme", "mechanism_evidence", "citation"]].drop_duplicates()
      .to_string())

"""Derive gutjoint-ready files from the GESPIC supplementary tables (run from this folder).

supp-table-3-master.tsv holds samples as rows with clinical (clin.*), taxonomic (tax.*) and
serum metabolite (metab.*) columns. This script writes:

- gespic_genus.tsv: genus-bin relative abundances (the tax.* columns that are not ASVs and not
  the Observed/Shannon/PB_ratio summaries), features as rows, BIOM-style TSV with a taxonomy
  column built from supp-table-1-taxonomy.tsv (phylum..genus of the ASVs in each bin);
- gespic_metadata.tsv: QIIME 2 metadata (sample-id = PatientID) with the clin.* and metab.*
  columns (prefix removed) and `group` = healthy / axSpA / uveitis / Crohn's from clin.Cohort
  (H / S / U / C, as the paper's cohort codes).

Usage: python derive.py   (standard library only)
"""
import csv

COHORT = {"H": "healthy", "S": "axSpA", "U": "uveitis", "C": "Crohn's"}

with open("supp-table-3-master.tsv", newline="") as f:
    rows = list(csv.reader(f, delimiter="\t"))
header, data = rows[0], rows[1:]
# 18 PatientIDs occur twice with different data (different ages, sequencing runs): those are
# told apart by their sequencing experiment, `P164-run0` / `P164-run1`; unique ids are kept.
seqexp = header.index("clin.SeqExp")
counts = {}
for r in data:
    counts[r[0]] = counts.get(r[0], 0) + 1
ids = [r[0] if counts[r[0]] == 1 else f"{r[0]}-run{r[seqexp]}" for r in data]
assert len(set(ids)) == len(ids)

bins = [c for c in header if c.startswith("tax.") and not c.startswith("tax.ASV") and c not in ("tax.Observed", "tax.Shannon", "tax.PB_ratio")]

lineage = {}
with open("supp-table-1-taxonomy.tsv", newline="") as f:
    for r in csv.DictReader(f, delimiter="\t"):
        levels = [("p", r["phylum"]), ("c", r["class"]), ("o", r["order"]), ("f", r["family"]), ("g", r["genus"])]
        # A bin named after a family holds ASVs without a genus: keep the ranks down to it.
        parts = ["d__Bacteria"]
        for prefix, name in levels:
            if name in ("", "NA"):
                break
            parts.append(f"{prefix}__{name}")
            if name == r["bin"]:
                break
        lineage.setdefault(r["bin"], "; ".join(parts))

with open("gespic_genus.tsv", "w") as out:
    out.write("# Derived from supp-table-3-master.tsv by derive.py\n#OTU ID\t" + "\t".join(ids) + "\ttaxonomy\n")
    for c in bins:
        k = header.index(c)
        name = c[len("tax."):]
        values = [r[k] if r[k] not in ("", "NA") else "0" for r in data]
        out.write(name + "\t" + "\t".join(values) + "\t" + lineage.get(name, "") + "\n")

meta_cols = [c for c in header if c.startswith("clin.") or c.startswith("metab.")]
with open("gespic_metadata.tsv", "w") as out:
    names = [c.split(".", 1)[1] for c in meta_cols]
    out.write("sample-id\tgroup\t" + "\t".join(names) + "\n")
    for sid, r in zip(ids, data):
        cohort = r[header.index("clin.Cohort")]
        out.write(sid + "\t" + COHORT.get(cohort, "") + "\t" + "\t".join(r[header.index(c)] for c in meta_cols) + "\n")
print(len(bins), "genus bins,", len(ids), "samples")

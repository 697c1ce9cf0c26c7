"""Honest validation of the enzyme-carriage prediction (AGORA2) against in-vitro truth.

knowledge/known_drug_metabolizers.tsv lists 253 strain–activity pairs tested in vitro (AGORA2's
knownDrugMetabolizers; Heinken et al. 2023). For each pair with an AGORA2 enzyme column, this
script scores a single-species profile (100% of that species) with `gutjoint enzymes`, i.e. the
species' fraction of AGORA2 strains annotated with the enzyme, and calls the pair positive when
that fraction is >= 0.5 (most strains carry it). It prints sensitivity and specificity per
enzyme and overall. Species are named from the strain id (genus + species epithet).
Standard library only: python docs/measure_drugs.py   (uses $GUTJOINT or target/release/gutjoint)
"""
import csv, io, os, subprocess, tempfile, collections

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
exe = os.environ.get("GUTJOINT", os.path.join(root, "target/release/gutjoint"))

with open(os.path.join(root, "knowledge/known_drug_metabolizers.tsv")) as f:
    pairs = [r for r in csv.DictReader(f, delimiter="\t") if r["agora2_column"] and r["in_vitro"] in ("Yes", "No")]

def species(name):
    parts = name.replace("_", " ").split()
    return " ".join(parts[:2])

names = sorted({species(p["strain_or_species"]) for p in pairs})
with tempfile.TemporaryDirectory() as tmp:
    table = os.path.join(tmp, "single_species.tsv")
    with open(table, "w") as out:
        out.write("#OTU ID\t" + "\t".join(f"P{i}" for i in range(len(names))) + "\n")
        for i, n in enumerate(names):
            out.write(f"s__{n.replace(' ', '_')}\t" + "\t".join("1" if j == i else "0" for j in range(len(names))) + "\n")
    columns = sorted({p["agora2_column"] for p in pairs})
    args = [exe, "enzymes", table, "--quiet"] + [a for c in columns for a in ("--enzyme", c)]
    result = list(csv.DictReader(io.StringIO(subprocess.run(args, check=True, capture_output=True, text=True).stdout), delimiter="\t"))
by_species = {names[int(r["sample-id"][1:])]: r for r in result}

counts = collections.defaultdict(lambda: [0, 0, 0, 0, 0])  # tp fn tn fp unmapped
for p in pairs:
    col = p["agora2_column"]
    row = by_species[species(p["strain_or_species"])]
    key = (col, p["activity"].split(" via ")[0].split("  ")[0].strip())
    if float(row[f"{col}_mapped_fraction"]) == 0:
        counts[key][4] += 1
        continue
    predicted = float(row[col]) >= 0.5
    truth = p["in_vitro"] == "Yes"
    counts[key][0 if truth and predicted else 1 if truth else 3 if predicted else 2] += 1

def rate(a, b):
    return f"{a}/{a + b} ({100 * a / (a + b):.0f}%)" if a + b else "—"

print("| enzyme column | activity | sensitivity | specificity | species not in AGORA2 |")
print("| --- | --- | --- | --- | --- |")
total = [0, 0, 0, 0, 0]
for (col, activity), c in sorted(counts.items()):
    print(f"| {col} | {activity} | {rate(c[0], c[1])} | {rate(c[2], c[3])} | {c[4]} |")
    total = [a + b for a, b in zip(total, c)]
print(f"| **all** | | {rate(total[0], total[1])} | {rate(total[2], total[3])} | {total[4]} |")

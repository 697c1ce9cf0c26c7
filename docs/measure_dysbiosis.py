"""Measure GMHI and dysbiosis by phenotype on the bundled GMHI validation cohort.

Runs the gutjoint binary (path in $GUTJOINT, default target/release/gutjoint) on
examples/data/gmhi/validation_abundance.csv: `gmhi`, and `dysbiosis` against the built-in
`gmhi-healthy` reference (healthy samples are scored leaving themselves out). Prints, per
phenotype group, n and median [IQR] of both scores, and the AUC of each score for healthy vs AS
and healthy vs RA (Mann–Whitney, ties counted half; for GMHI higher = healthier, for dysbiosis
higher = less healthy). Standard library only: python docs/measure_dysbiosis.py
"""
import csv, os, statistics, subprocess, io

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
exe = os.environ.get("GUTJOINT", os.path.join(root, "target/release/gutjoint"))
table = os.path.join(root, "examples/data/gmhi/validation_abundance.csv")

def run(*args):
    out = subprocess.run([exe, *args, "--quiet"], check=True, capture_output=True, text=True).stdout
    return {r["sample-id"]: r for r in csv.DictReader(io.StringIO(out), delimiter="\t")}

gmhi = run("gmhi", table)
dys = run("dysbiosis", table, "--reference", "gmhi-healthy")
ait = run("dysbiosis", table, "--reference", "gmhi-healthy", "--metric", "aitchison")
groups = {}
with open(os.path.join(root, "examples/data/gmhi/validation_metadata.csv"), encoding="utf-8-sig") as f:
    rows = list(csv.reader(f))
    # Columns: Sample_Ids, Phenotype_all, Phenotype_all1, Phenotype, Phenotype_all (the name is
    # used twice; the first one holds the study-level phenotype used here).
    for r in rows[1:]:
        sample, p, health = r[0], r[1], r[3]
        label = "healthy" if health == "Healthy" else ("AS" if p == "N-5:AS" else ("RA" if p == "Rheumatoid arthritis" else p))
        groups.setdefault(label, []).append(sample)

def auc(pos, neg):
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))

def summary(values):
    if len(values) < 2:
        return f"{values[0]:.3f}"
    q = statistics.quantiles(values, n=4, method="inclusive")
    return f"{statistics.median(values):.3f} [{q[0]:.3f}, {q[2]:.3f}]"

print("| group | n | GMHI median [IQR] | dysbiosis median [IQR] | flagged (>90th pct) |")
print("| --- | --- | --- | --- | --- |")
order = ["healthy", "AS", "RA"] + sorted(k for k in groups if k not in ("healthy", "AS", "RA"))
for g in order:
    ids = groups[g]
    gv = [float(gmhi[i]["gmhi"]) for i in ids]
    dv = [float(dys[i]["dysbiosis"]) for i in ids]
    flagged = sum(dys[i]["flag"] == "true" for i in ids)
    print(f"| {g} | {len(ids)} | {summary(gv)} | {summary(dv)} | {flagged} ({100 * flagged / len(ids):.0f}%) |")
print()
h = groups["healthy"]
for case in ["AS", "RA"]:
    c = groups[case]
    a_g = auc([float(gmhi[i]["gmhi"]) for i in h], [float(gmhi[i]["gmhi"]) for i in c])
    a_d = auc([float(dys[i]["dysbiosis"]) for i in c], [float(dys[i]["dysbiosis"]) for i in h])
    a_a = auc([float(ait[i]["dysbiosis"]) for i in c], [float(ait[i]["dysbiosis"]) for i in h])
    print(f"healthy vs {case}: AUC GMHI = {a_g:.3f}, AUC dysbiosis (Bray-Curtis) = {a_d:.3f}, AUC dysbiosis (Aitchison) = {a_a:.3f}")

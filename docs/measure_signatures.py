"""Measure how often patients' and healthy samples point the way the literature reports.

For each cohort, runs `gutjoint signatures` against a healthy reference built from the same
cohort's healthy samples (each healthy sample is compared with the others only), then, per
association, prints the share of case samples and of healthy samples whose abundance lies on the
reported side of the healthy median ("yes"), among the samples scored; a sample equal to the
median (a zero against a zero median included) is a tie: scored, not on either side.

Cohorts: GMHI validation (AS = study N-5, RA; reference `gmhi-healthy`, species level) and
GESPIC (axSpA; reference `gespic-healthy`, genus level), also within sequencing run 0 only
(SeqExp = 0: 16 axSpA and all 62 controls; docs/confounders.md says why). Standard library only:
python docs/measure_signatures.py   (uses $GUTJOINT or target/release/gutjoint)
"""
import csv, io, os, subprocess

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
exe = os.environ.get("GUTJOINT", os.path.join(root, "target/release/gutjoint"))

def signatures(table, disease, reference, extra=()):
    out = subprocess.run([exe, "signatures", table, "--disease", disease, "--reference", reference, "--quiet", *extra],
                         check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(io.StringIO(out), delimiter="\t"))

def gmhi_groups():
    groups = {}
    with open(os.path.join(root, "examples/data/gmhi/validation_metadata.csv"), encoding="utf-8-sig") as f:
        for r in list(csv.reader(f))[1:]:
            label = "healthy" if r[3] == "Healthy" else ("AS" if r[1] == "N-5:AS" else ("RA" if r[1] == "Rheumatoid arthritis" else None))
            if label:
                groups[r[0]] = label
    return groups

def gespic_groups():
    with open(os.path.join(root, "examples/data/gespic/gespic_metadata.tsv")) as f:
        return {r["sample-id"]: r["group"] for r in csv.DictReader(f, delimiter="\t") if r["group"] in ("healthy", "axSpA")}

def table(rows, groups, case):
    by = {}
    for r in rows:
        g = groups.get(r["sample-id"])
        if g not in (case, "healthy") or r["consistent"] == "n/a":
            continue
        key = (r["association"], r["taxon"], r["reported_direction"], r["citation"])
        d = by.setdefault(key, {case: [0, 0, 0], "healthy": [0, 0, 0]})
        d[g][0] += r["consistent"] == "yes"
        d[g][1] += 1
        d[g][2] += r["consistent"] == "tie"
    print(f"| id | taxon | reported in {case} | study | {case}: on reported side | healthy: on reported side |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (aid, taxon, direction, cite), d in sorted(by.items()):
        c, h = d[case], d["healthy"]
        fmt = lambda x: (f"{x[0]}/{x[1]} ({100 * x[0] / x[1]:.0f}%)" + (f", {x[2]} ties" if x[2] else "")) if x[1] else "—"
        print(f"| {aid} | {taxon} | {direction} | {cite} | {fmt(c)} | {fmt(h)} |")
    print()

gmhi = os.path.join(root, "examples/data/gmhi/validation_abundance.csv")
for case in ("AS", "RA"):
    print(f"### GMHI validation cohort: {case} vs healthy (species level, reference gmhi-healthy)\n")
    table(signatures(gmhi, case, "gmhi-healthy"), gmhi_groups(), case)
print("### GESPIC: axSpA vs healthy (genus level, reference gespic-healthy)\n")
gespic = os.path.join(root, "examples/data/gespic/gespic_genus.tsv")
rows = signatures(gespic, "axSpA", "gespic-healthy") + signatures(gespic, "AS", "gespic-healthy")
table(rows, gespic_groups(), "axSpA")

# Within sequencing run 0: every control is in run 0 and 86 of 102 patients are in run 1, so the
# full-cohort shares above carry the run difference; run 0 alone compares like with like.
with open(os.path.join(root, "examples/data/gespic/gespic_metadata.tsv")) as f:
    run0 = {r["sample-id"] for r in csv.DictReader(f, delimiter="\t") if r["SeqExp"] == "0"}
print("### GESPIC within sequencing run 0: axSpA vs healthy (genus level, reference gespic-healthy)\n")
table(rows, {k: v for k, v in gespic_groups().items() if k in run0}, "axSpA")

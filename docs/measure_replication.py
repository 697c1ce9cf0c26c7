"""Which literature associations replicate in GESPIC (axSpA vs healthy), with and without
medication covariates, and with both models. Runs `gutjoint replicate` with covariates age + sex,
then age + sex + current NSAID use, each with --method lm and --method ancombc, and prints two
tables (lm in full; then lm vs ANCOM-BC status by status). Standard library only:
python docs/measure_replication.py   (uses $GUTJOINT or target/release/gutjoint)
"""
import csv, io, os, subprocess

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
exe = os.environ.get("GUTJOINT", os.path.join(root, "target/release/gutjoint"))

def run(adjust, method="lm"):
    out = subprocess.run([exe, "replicate", os.path.join(root, "examples/data/gespic/gespic_genus.tsv"),
                          "--metadata", os.path.join(root, "examples/data/gespic/gespic_metadata.tsv"),
                          "--column", "group", "--case", "axSpA", "--control", "healthy", "--adjust", adjust,
                          "--method", method, "--quiet"],
                         check=True, capture_output=True, text=True).stdout
    return {r["association"]: r for r in csv.DictReader(io.StringIO(out), delimiter="\t")}

base = run("age + C(sex)")
meds = run("age + C(sex) + NSAID_current")
print("| id | taxon | reported | study | observed (age, sex) | q | status | observed (+ NSAID) | q | status |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for aid, a in base.items():
    if a["status"] in ("taxon absent", "not tested"):
        continue
    m = meds[aid]
    q = lambda r: f"{float(r['q']):.3g}" if r["q"] != "NA" else "NA"
    print(f"| {aid} | {a['taxon']} | {a['reported_direction']} {a['disease']} | {a['citation']} | {a['observed_direction']} | {q(a)} | {a['status']} | {m['observed_direction']} | {q(m)} | {m['status']} |")
absent = [a["taxon"] for a in base.values() if a["status"] == "taxon absent"]
print(f"\nNot testable at their rank in GESPIC's genus bins ({len(absent)}): {', '.join(sorted(set(absent)))}")
untested = [f"{aid} {a['taxon']} ({a['not_tested_because']})" for aid, a in base.items() if a["status"] == "not tested"]
print(f"\nNot tested, their contrast, sample type or method not this cohort's ({len(untested)}): {'; '.join(untested)}")

base_bc = run("age + C(sex)", "ancombc")
meds_bc = run("age + C(sex) + NSAID_current", "ancombc")
print("\n| id | taxon | reported | lm (age, sex) | ANCOM-BC (age, sex) | lm (+ NSAID) | ANCOM-BC (+ NSAID) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
cell = lambda r: f"{r['status']} ({r['observed_direction']}, q {float(r['q']):.3g})" if r["q"] != "NA" else r["status"]
for aid, a in base.items():
    if a["status"] in ("taxon absent", "not tested"):
        continue
    print(f"| {aid} | {a['taxon']} | {a['reported_direction']} {a['disease']} | {cell(a)} | {cell(base_bc[aid])} | {cell(meds[aid])} | {cell(meds_bc[aid])} |")
for label, rows in [("lm, age + sex", base), ("ANCOM-BC, age + sex", base_bc), ("lm, + NSAID", meds), ("ANCOM-BC, + NSAID", meds_bc)]:
    counts = {}
    for r in rows.values():
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(f"\n{label}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), end="")
print()

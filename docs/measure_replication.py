"""Which literature associations replicate in GESPIC (axSpA vs healthy), with and without
medication covariates. Runs `gutjoint replicate` twice (covariates age + sex, then age + sex +
current NSAID use) and prints one table. Standard library only:
python docs/measure_replication.py   (uses $GUTJOINT or target/release/gutjoint)
"""
import csv, io, os, subprocess

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
exe = os.environ.get("GUTJOINT", os.path.join(root, "target/release/gutjoint"))

def run(adjust):
    out = subprocess.run([exe, "replicate", os.path.join(root, "examples/data/gespic/gespic_genus.tsv"),
                          "--metadata", os.path.join(root, "examples/data/gespic/gespic_metadata.tsv"),
                          "--column", "group", "--case", "axSpA", "--control", "healthy", "--adjust", adjust, "--quiet"],
                         check=True, capture_output=True, text=True).stdout
    return {r["association"]: r for r in csv.DictReader(io.StringIO(out), delimiter="\t")}

base = run("age + C(sex)")
meds = run("age + C(sex) + NSAID_current")
print("| id | taxon | reported | study | observed (age, sex) | q | status | observed (+ NSAID) | q | status |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for aid, a in base.items():
    if a["status"] == "taxon absent":
        continue
    m = meds[aid]
    q = lambda r: f"{float(r['q']):.3g}" if r["q"] != "NA" else "NA"
    print(f"| {aid} | {a['taxon']} | {a['reported_direction']} {a['disease']} | {a['citation']} | {a['observed_direction']} | {q(a)} | {a['status']} | {m['observed_direction']} | {q(m)} | {m['status']} |")
absent = [a["taxon"] for a in base.values() if a["status"] == "taxon absent"]
print(f"\nNot testable at their rank in GESPIC's genus bins ({len(absent)}): {', '.join(sorted(set(absent)))}")

"""Host–microbe associations in GESPIC, with and without medication adjustment.

Runs `gutjoint associate` on the GESPIC genus bins and guilds of the axSpA patients (disease
activity BASDAI/ASDAS, CRP, serum short-chain fatty acids) adjusting for age and sex, then also
for current DMARD use (all of them take NSAIDs; biologic use is not recorded), and prints the strongest associations (by q) of each
run; then the butyrate-producer guild against serum butyrate (axSpA, and all cohorts) and faecal
calprotectin (measured only in the Crohn's patients). Standard library only:
python docs/measure_associations.py   (uses $GUTJOINT or target/release/gutjoint)
"""
import csv, io, os, subprocess

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
exe = os.environ.get("GUTJOINT", os.path.join(root, "target/release/gutjoint"))
table = os.path.join(root, "examples/data/gespic/gespic_genus.tsv")
md = os.path.join(root, "examples/data/gespic/gespic_metadata.tsv")

skipped = []

def run(hosts, adjust, where=None, features="both"):
    """One host variable at a time, so a covariate that is constant among the samples that
    have one variable (a clear error from gutjoint) skips that variable only."""
    rows = []
    for host in hosts.split(","):
        args = [exe, "associate", table, "--metadata", md, "--with", host, "--adjust", adjust, "--features", features, "--quiet"]
        if where:
            args += ["--where", where]
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            skipped.append(f"{host} with `{adjust}`: {done.stderr.strip().split(': ', 2)[-1]}")
            continue
        rows += list(csv.DictReader(io.StringIO(done.stdout), delimiter="\t"))
    return rows

hosts = "BASDAI,ASDAS,CRP,SCFA_butyrate,SCFA_propionate,SCFA_acetate"
base = run(hosts, "age + C(sex)", "group=axSpA")
# Every axSpA patient with a record takes NSAIDs (NSAID_current is constant) and biologic use
# is not recorded for them (all NA): current DMARD use is the medication that can be adjusted for.
meds = run(hosts, "age + C(sex) + DMARD_current", "group=axSpA")
key = lambda r: (r["feature"], r["host_variable"])
meds_by = {key(r): r for r in meds}
top = sorted(base, key=lambda r: float(r["q"]))[:15]
print("| feature | host variable | n | estimate (age, sex) | q | partial ρ | n | estimate (+ DMARD) | q | partial ρ |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for r in top:
    m = meds_by.get(key(r), {"n": "—", "estimate": "nan", "q": "nan", "partial_r": "nan"})
    print(f"| {r['feature']} | {r['host_variable']} | {r['n']} | {float(r['estimate']):.3g} | {float(r['q']):.3g} | {float(r['partial_r']):.2f} | {m['n']} | {float(m['estimate']):.3g} | {float(m['q']):.3g} | {float(m['partial_r']):.2f} |")
print()
print("Butyrate-producer guild (knowledge/guilds.tsv G01):\n")
print("| samples | host variable | n | estimate | p | partial ρ | partial p |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for label, where in [("axSpA", "group=axSpA"), ("all cohorts", None), ("Crohn's", "group=Crohn's")]:
    hosts = "SCFA_butyrate" if label != "Crohn's" else "SCFA_butyrate,Calprotectin"
    for r in run(hosts, "age + C(sex)", where, "guilds"):
        if r["feature"] == "guild:butyrate_producers":
            print(f"| {label} | {r['host_variable']} | {r['n']} | {float(r['estimate']):.3g} | {float(r['p']):.3g} | {float(r['partial_r']):.2f} | {float(r['partial_p']):.3g} |")

if skipped:
    print("\nNot estimable:\n")
    for s in skipped:
        print(f"- {s}")

"""GESPIC's measurements re-run with the sequencing batch handled (issue 13, item 6).

GESPIC's `SeqExp` (sequencing run) is almost collinear with diagnosis: every healthy sample is
in run 0 and most axSpA samples in run 1. This script re-runs the docs' GESPIC measurements
three ways — as before (age + sex), with the run in the model (`--batch SeqExp`, i.e.
+ C(SeqExp)), and within run 0 only (16 axSpA vs 62 healthy, the only run holding both) — and
prints the tables quoted in docs/confounders.md. Standard library only:
python docs/measure_batch.py   (uses $GUTJOINT or target/release/gutjoint)
"""
import csv, io, json, os, subprocess, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
exe = os.environ.get("GUTJOINT", os.path.join(root, "target/release/gutjoint"))
table = os.path.join(root, "examples/data/gespic/gespic_genus.tsv")
md_all = os.path.join(root, "examples/data/gespic/gespic_metadata.tsv")

# Metadata with the group blanked outside run 0: every command then compares within run 0.
tmp = tempfile.mkdtemp(prefix="gutjoint-batch-")
md_run0 = os.path.join(tmp, "gespic_metadata_run0.tsv")
with open(md_all) as f, open(md_run0, "w") as out:
    rows = list(csv.reader(f, delimiter="\t"))
    h = rows[0]
    g, s = h.index("group"), h.index("SeqExp")
    for i, r in enumerate(rows):
        if i > 0 and r[s] != "0":
            r[g] = "NA"
        out.write("\t".join(r) + "\n")


def gj(*args):
    return subprocess.run([exe, *args, "--quiet"], check=True, capture_output=True, text=True).stdout


def tsv(text):
    return list(csv.DictReader(io.StringIO("\n".join(l for l in text.splitlines() if not l.startswith("#"))), delimiter="\t"))


print("## 1. What differs between axSpA and healthy besides the disease\n")
rep = json.loads(gj("confounders", table, "--metadata", md_all, "--column", "group", "--case", "axSpA",
                    "--control", "healthy", "--permutations", "199", "--seed", "1", "--json"))
print("| column | role | test | effect | p | collinear | R² beyond group | group R² beyond it (p) | handling |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for c in rep["columns"]:
    if c["column"] not in ("SeqExp", "LibSize", "HLAB27", "PPIs", "NSAID_current", "DMARD_current",
                           "cortis_current", "ATB_prev", "age", "sex", "bmi", "smoker", "Cohort"):
        continue
    p = c.get("permanova")
    eff = "" if c["effect_size"] is None else f"{c['effect_size_name']} {c['effect_size']:.2f}"
    pv = "" if c["p_value"] is None else f"{c['p_value']:.2g}"
    col_r2 = "" if not p else f"{p['column']['r2']:.4f}"
    grp = "" if not p else f"{p['group']['r2']:.4f} ({p['group']['p_value']:.3g})"
    print(f"| {c['column']} | {c['role']} | {c['test'] or ''} | {eff} | {pv} | {c['collinear']} | {col_r2} | {grp} | {c['handling']} |")
print("\nWarnings:")
for w in rep["warnings"]:
    print(f"- {w}")
st = [f for f in rep["features"] if f["status"] != "not_significant"]
conf = [f for f in st if f["status"] == "confounded"]
print(f"\nPer genus: {len(rep['features'])} tested, {len(st)} differ by group (q < 0.1), "
      f"{len(conf)} of them confounded ({sum('SeqExp' in f['confounded_by'] for f in conf)} by SeqExp), "
      f"{len(st) - len(conf)} deconfounded.")
for name in ("Blautia", "Fusicatenibacter", "Marvinbryantia", "Lachnospira", "Bifidobacterium", "Lachnoclostridium"):
    f = next((f for f in rep["features"] if f["feature"] == name), None)
    if f:
        by = ",".join(f["confounded_by"])
        print(f"- {name}: naive q {f['naive_q']:.3g}, AUC {f['auc']:.2f}: {f['status']}{' by ' + by if by else ''}")

print("\n## 2. PERMANOVA (Bray–Curtis) of group, free and within runs\n")
dm = os.path.join(tmp, "bc.tsv")
sub = os.path.join(tmp, "axspa_healthy.tsv")
with open(md_all) as f, open(sub, "w") as out:
    for i, line in enumerate(f):
        parts = line.rstrip("\n").split("\t")
        if i == 0 or parts[1] in ("axSpA", "healthy"):
            out.write(line)
ids = [r["sample-id"] for r in tsv(open(sub).read())]
gj("beta", table, "--metric", "braycurtis", "-o", dm)
for label, extra in (("free", []), ("within SeqExp", ["--strata", "SeqExp"])):
    r = json.loads(gj("permanova", dm, "--metadata", sub, "--column", "group", "--permutations", "999",
                      "--seed", "1", "--json", *extra))
    print(f"- {label}: pseudo-F {r['test_statistic']:.3f}, p {r['p_value']:.3g} (n = {r['sample_size']})")

print("\n## 3. Classifier AUC (L1 logistic, 5 × 5 folds, seed 1, genera ≥ 10% prevalence)\n")
for label, md in (("all runs", md_all), ("run 0 only", md_run0)):
    for model in ("l1-logistic",):
        r = json.loads(gj("classify", table, "--metadata", md, "--column", "group", "--positive", "axSpA",
                          "--negative", "healthy", "--model", model, "--seed", "1", "--min-prevalence", "0.1", "--json"))
        print(f"- {label}, {model}: AUC {r['auc']:.3f} ({r['auc_ci'][0]:.3f}–{r['auc_ci'][1]:.3f}), n = {r['n']} ({r['n_positive']} axSpA)")

print("\n## 4. Differential abundance (lm, log10), group[T.axSpA] for the genera the docs name\n")
genera = ("Blautia", "Fusicatenibacter", "Marvinbryantia", "Lachnospira", "Bifidobacterium", "Lachnoclostridium")
runs = [("age + sex", md_all, []), ("+ C(SeqExp)", md_all, ["--batch", "SeqExp"]), ("run 0 only", md_run0, [])]
res = {}
for label, md, extra in runs:
    out = tsv(gj("da", table, "--metadata", md, "--formula", "group + age + C(sex)", "--reference",
                 "group=healthy", "--min-prevalence", "0.1", *extra))
    res[label] = {r["feature"]: r for r in out if r["term"].startswith("group[T.axSpA]")}
print("| genus | " + " | ".join(f"{l}: estimate (q)" for l, _, _ in runs) + " |")
print("| --- |" + " --- |" * len(runs))
for gname in genera:
    cells = []
    for l, _, _ in runs:
        r = res[l].get(gname)
        cells.append("absent" if r is None else f"{float(r['estimate']):+.3f} ({float(r['q']):.3g})")
    print(f"| {gname} | " + " | ".join(cells) + " |")
for l, _, _ in runs:
    n = sum(float(r["q"]) < 0.05 for r in res[l].values() if r["q"] != "NA")
    print(f"- {l}: {n} of {len(res[l])} genera at q < 0.05")

print("\n## 5. Replication of the literature (lm)\n")
rep_runs = [("age + sex", md_all, []), ("+ C(SeqExp)", md_all, ["--batch", "SeqExp"]), ("run 0 only", md_run0, [])]
rr = {}
for label, md, extra in rep_runs:
    rr[label] = tsv(gj("replicate", table, "--metadata", md, "--column", "group", "--case", "axSpA",
                       "--control", "healthy", "--adjust", "age + C(sex)", *extra))
for label, rows in rr.items():
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(f"- {label}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
base = {r["association"]: r for r in rr["age + sex"]}
print("\nAssociations called replicated or opposite in any variant:\n")
print("| id | taxon | reported | " + " | ".join(rr) + " |")
print("| --- | --- | --- |" + " --- |" * len(rr))
for aid, a in base.items():
    cells = []
    interesting = False
    for label, rows in rr.items():
        r = next(x for x in rows if x["association"] == aid)
        interesting |= r["status"] in ("replicated", "opposite")
        cells.append(r["status"] if r["q"] == "NA" else f"{r['status']} ({r['observed_direction']}, q {float(r['q']):.2g})")
    if interesting:
        print(f"| {aid} | {a['taxon']} | {a['reported_direction']} {a['disease']} | " + " | ".join(cells) + " |")

print("\n## 6. Host associations in axSpA (ASDAS, CRP), + C(SeqExp)\n")
for label, extra in (("age + sex", []), ("+ C(SeqExp)", ["--batch", "SeqExp"])):
    out = tsv(gj("associate", table, "--metadata", md_all, "--where", "group=axSpA", "--with", "ASDAS,CRP",
                 "--adjust", "age + C(sex)", "--features", "both", *extra))
    out.sort(key=lambda r: float(r["p"]) if r["p"] != "NA" else 2)
    top = [f"{r['feature']}~{r['host_variable']} (q {float(r['q']):.3g})" for r in out[:5]]
    print(f"- {label}: " + "; ".join(top))

print("\n## 7. Dysbiosis against GESPIC's own healthy controls (median Bray–Curtis)\n")
for label, md in (("all runs", md_all), ("run 0 only", md_run0)):
    r = json.loads(gj("dysbiosis", table, "--metadata", md, "--column", "group", "--control", "healthy", "--json"))
    groups = {row["sample-id"]: row["group"] for row in tsv(open(md).read())}
    by = {}
    for s in r["scores"]:
        by.setdefault(groups.get(s["sample_id"], "NA"), []).append(s)
    cells = []
    for gname in ("healthy", "axSpA", "uveitis", "Crohn's"):
        xs = by.get(gname, [])
        if xs:
            med = sorted(x["dysbiosis"] for x in xs)[len(xs) // 2]
            flagged = sum(x["flag"] for x in xs)
            cells.append(f"{gname} median {med:.3f}, flagged {flagged}/{len(xs)}")
    print(f"- {label}: " + "; ".join(cells))

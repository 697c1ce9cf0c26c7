"""ANCOM-BC at 1,000 samples x 300 taxa: gutjoint vs scikit-bio 0.7.4, side by side.

Generates a seeded count table (1,000 samples x 300 taxa, negative-binomial counts with
sample-specific sampling fractions; taxa 0-14 up and 15-29 down in cases) and metadata with
group, age and sex, then runs in one go
  gutjoint da --method ancombc --formula "group + age + C(sex)" --pseudocount 1   (end to end:
      reading the table, fitting, writing the TSV)
  skbio.stats.composition.ancombc(counts + 1, metadata, "group + age + sex")     (in memory)
and prints the wall times (best of --repeat runs each) — gutjoint's end to end and its compute
phase (from --timings), scikit-bio's in memory — their ratios, and how far the two results are
apart. Usage:
  pip install scikit-bio==0.7.4
  python bench/ancombc.py [--samples 1000] [--taxa 300] [--repeat 3] [--gutjoint target/release/gutjoint]
"""
import argparse, os, subprocess, tempfile, time
import numpy as np
import pandas as pd
from skbio.stats.composition import ancombc

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--samples", type=int, default=1000)
ap.add_argument("--taxa", type=int, default=300)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--gutjoint", default=os.path.join(root, "target/release/gutjoint"))
args = ap.parse_args()
n, p = args.samples, args.taxa
rng = np.random.default_rng(11)
case = rng.random(n) < 0.5
age = rng.normal(45, 12, n).round()
sex = rng.integers(1, 3, n)
# Absolute abundances: log-normal baseline per taxon, a group effect on 30 taxa, a small age
# effect; each sample observes them through its own sampling fraction.
log_mu = rng.normal(3.0, 1.5, p)
effect = np.zeros(p)
effect[:15], effect[15:30] = 1.0, -1.0
log_abs = log_mu[None, :] + case[:, None] * effect[None, :] + 0.01 * (age[:, None] - 45)
fraction = rng.lognormal(0.0, 0.5, n)
mean = np.exp(log_abs) * fraction[:, None]
counts = rng.negative_binomial(2, 2 / (2 + mean)).astype(float)

with tempfile.TemporaryDirectory() as d:
    ids = [f"S{i}" for i in range(n)]
    taxa = [f"taxon{j}" for j in range(p)]
    with open(f"{d}/t.tsv", "w") as f:
        f.write("#OTU ID\t" + "\t".join(ids) + "\n")
        for j in range(p):
            f.write(f"{taxa[j]}\t" + "\t".join(str(int(v)) for v in counts[:, j]) + "\n")
    with open(f"{d}/md.tsv", "w") as f:
        f.write("sample-id\tgroup\tage\tsex\n")
        for i in range(n):
            f.write(f"{ids[i]}\t{'case' if case[i] else 'control'}\t{age[i]:g}\t{sex[i]}\n")
    cmd = [args.gutjoint, "--timings", "da", f"{d}/t.tsv", "--metadata", f"{d}/md.tsv",
           "--formula", "group + age + C(sex)", "--reference", "group=control",
           "--method", "ancombc", "--pseudocount", "1", "-o", f"{d}/ours.tsv", "--quiet"]
    t_ours, t_compute = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run = subprocess.run(cmd, check=True, capture_output=True, text=True)
        t_ours.append(time.perf_counter() - t0)
        phases = dict(l.split("\t")[1:] for l in run.stderr.splitlines() if l.startswith("timing\t"))
        t_compute.append(float(phases["compute"]))
    meta = pd.DataFrame({
        "group": pd.Categorical(np.where(case, "case", "control"), categories=["control", "case"]),
        "age": age,
        "sex": pd.Categorical(sex.astype(str), categories=["1", "2"]),
    }, index=ids)
    table = pd.DataFrame(counts + 1, index=ids, columns=taxa)
    t_skbio = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = ancombc(table, meta, formula="group + age + sex").result
        t_skbio.append(time.perf_counter() - t0)
    ours = pd.read_csv(f"{d}/ours.tsv", sep="\t").set_index(["feature", "term"])
    theirs = res.rename(index={"group[T.case]": "group[T.case]"}).copy()
    theirs.index = theirs.index.set_names(["feature", "term"])
    ours = ours.loc[theirs.index]
    print(f"{n} samples x {p} taxa, formula group + age + sex, {os.cpu_count()} cores, best of {args.repeat}")
    print(f"gutjoint   {min(t_ours):8.3f} s  end to end (process start, reading the TSV, fitting, writing)")
    print(f"gutjoint   {min(t_compute):8.3f} s  ANCOM-BC itself (its --timings 'compute' phase)")
    print(f"scikit-bio {min(t_skbio):8.3f} s  ANCOM-BC itself (in memory, table already in a DataFrame)")
    print(f"ratio scikit-bio / gutjoint: {min(t_skbio) / min(t_compute):.1f}x compute, {min(t_skbio) / min(t_ours):.1f}x end to end")
    for a, b in [("estimate", "Log(FC)"), ("se", "SE"), ("p", "pvalue"), ("q", "qvalue")]:
        x, y = ours[a].to_numpy(), theirs[b].to_numpy()
        print(f"  {b:8s} max |diff| {np.max(np.abs(x - y)):.2e}  max rel {np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-300)):.2e}")
    sig_ours = set(ours.index[(ours["q"] <= 0.05).to_numpy()])
    sig_theirs = set(theirs.index[theirs["Signif"].to_numpy(dtype=bool)])
    print(f"  significant (q <= 0.05): gutjoint {len(sig_ours)}, scikit-bio {len(sig_theirs)}, in both {len(sig_ours & sig_theirs)}")
    grp = theirs.xs("group[T.case]", level="term")
    called = set(grp.index[grp["Signif"].to_numpy(dtype=bool)])
    print(f"  group[T.case] called by scikit-bio: {len(called & set(taxa[:30]))} of the 30 shifted taxa, {len(called - set(taxa[:30]))} others")

"""ANCOM-BC at 1,000 samples x 300 taxa: gutjoint vs scikit-bio 0.7.4, side by side.

Generates a seeded count table (1,000 samples x 300 taxa, negative-binomial counts with
sample-specific sampling fractions; taxa 0-14 up and 15-29 down in cases) and metadata with
group, age and sex, then runs in one go
  gutjoint da --method ancombc --formula "group + age + C(sex)" --pseudocount 1   (a whole
      process: start, reading the table and metadata, fitting, writing the TSV)
  skbio.stats.composition.ancombc(counts + 1, metadata, "group + age + sex")     (in memory)
  the same as a whole Python process: start, import pandas and scikit-bio, read the same TSV
      and metadata, ancombc, write the result table
and prints the wall times (best of --repeat runs each; the runs alternate between the sides so
that a load change hits both) — gutjoint's whole process and its --timings phases, scikit-bio in
memory and as a process — the two ratios issue #19 asks about (gutjoint's whole process against
scikit-bio's computation alone, and process against process), and how far the results are apart.
Exits 1 if they disagree beyond the conformance test's tolerances (tests/ancombc_golden.rs:
1e-7 absolute on the log fold change, 1e-6 relative on p and q — EM stops at tol 1e-5, so the
two EM paths end ~1e-9 apart — and 1e-12 relative on SE) or if the Python process's table is
more than 1e-9 from the in-memory one.
Usage:
  pip install scikit-bio==0.7.4
  python bench/ancombc.py [--samples 1000] [--taxa 300] [--repeat 5] [--gutjoint target/release/gutjoint]
"""
import argparse, os, subprocess, sys, tempfile, time
import numpy as np
import pandas as pd
from skbio.stats.composition import ancombc

# The peer as a whole process: what a user runs to get the same table from scikit-bio.
PEER = r'''
import sys
import numpy as np
import pandas as pd
from skbio.stats.composition import ancombc
table_path, md_path, out_path = sys.argv[1:4]
raw = pd.read_csv(table_path, sep="\t", index_col=0)
# Samples as rows in C order, as a DataFrame built from a samples x taxa array is.
counts = pd.DataFrame(np.ascontiguousarray(raw.to_numpy(dtype=float).T), index=raw.columns, columns=raw.index)
md = pd.read_csv(md_path, sep="\t", index_col=0, dtype={"sex": str})
md["group"] = pd.Categorical(md["group"], categories=["control", "case"])
md["sex"] = pd.Categorical(md["sex"], categories=["1", "2"])
res = ancombc(counts + 1, md.loc[counts.index], formula="group + age + sex").result
res.to_csv(out_path, sep="\t", float_format="%.17g")
'''

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--samples", type=int, default=1000)
ap.add_argument("--taxa", type=int, default=300)
ap.add_argument("--repeat", type=int, default=5)
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
    with open(f"{d}/peer.py", "w") as f:
        f.write(PEER)
    cmd = [args.gutjoint, "--timings", "da", f"{d}/t.tsv", "--metadata", f"{d}/md.tsv",
           "--formula", "group + age + C(sex)", "--reference", "group=control",
           "--method", "ancombc", "--pseudocount", "1", "-o", f"{d}/ours.tsv", "--quiet"]
    peer_cmd = [sys.executable, f"{d}/peer.py", f"{d}/t.tsv", f"{d}/md.tsv", f"{d}/theirs.tsv"]
    meta = pd.DataFrame({
        "group": pd.Categorical(np.where(case, "case", "control"), categories=["control", "case"]),
        "age": age,
        "sex": pd.Categorical(sex.astype(str), categories=["1", "2"]),
    }, index=ids)
    table = pd.DataFrame(counts + 1, index=ids, columns=taxa)
    t_ours, phases, t_skbio, t_peer = [], {}, [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run = subprocess.run(cmd, check=True, capture_output=True, text=True)
        t_ours.append(time.perf_counter() - t0)
        for line in run.stderr.splitlines():
            if line.startswith("timing\t"):
                _, label, seconds = line.split("\t")
                phases.setdefault(label, []).append(float(seconds))
        t0 = time.perf_counter()
        res = ancombc(table, meta, formula="group + age + sex").result
        t_skbio.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run(peer_cmd, check=True, capture_output=True, text=True)
        t_peer.append(time.perf_counter() - t0)
    ours = pd.read_csv(f"{d}/ours.tsv", sep="\t").set_index(["feature", "term"])
    theirs = res.copy()
    theirs.index = theirs.index.set_names(["feature", "term"])
    ours = ours.loc[theirs.index]
    peer = pd.read_csv(f"{d}/theirs.tsv", sep="\t").set_index(["FeatureID", "Covariate"])
    ours_best, skbio_best, peer_best = min(t_ours), min(t_skbio), min(t_peer)
    print(f"{n} samples x {p} taxa, formula group + age + sex, {os.cpu_count()} cores, "
          f"best of {args.repeat}, load average {os.getloadavg()[0]:.2f}")
    print(f"gutjoint   {ours_best:8.4f} s  whole process (start, reading table + metadata, fitting, writing)")
    for label in ("read", "compute", "write"):
        if label in phases:
            print(f"             {min(phases[label]):8.4f} s  of which '{label}' (--timings)")
    print(f"scikit-bio {skbio_best:8.4f} s  ancombc itself (in memory, table already in a DataFrame)")
    print(f"scikit-bio {peer_best:8.4f} s  whole process (python start, imports, read_csv x2, ancombc, to_csv)")
    print(f"ratio scikit-bio / gutjoint: {skbio_best / min(phases['compute']):.1f}x compute vs compute, "
          f"{skbio_best / ours_best:.1f}x its computation vs our whole process, "
          f"{peer_best / ours_best:.1f}x process vs process")
    ok = True
    # (column, scikit-bio's column, allowed absolute, allowed relative): ancombc_golden.rs's rules
    # (estimates absolute, as some are near 0).
    for a, b, tol_abs, tol_rel in [("estimate", "Log(FC)", 1e-7, None), ("se", "SE", None, 1e-12),
                                   ("p", "pvalue", None, 1e-6), ("q", "qvalue", None, 1e-6)]:
        x, y = ours[a].to_numpy(), theirs[b].to_numpy()
        diff = np.max(np.abs(x - y))
        worst = np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-300))
        ok &= bool(diff <= tol_abs) if tol_abs is not None else bool(worst <= tol_rel)
        allowed = f"abs {tol_abs:g}" if tol_abs is not None else f"rel {tol_rel:g}"
        print(f"  {b:8s} max |diff| {diff:.2e}  max rel {worst:.2e}  (allowed {allowed})")
    # The process reads the table transposed from the TSV (another memory layout, so NumPy sums
    # in another order): the same numbers up to rounding, not bit for bit.
    peer_diff = max(np.max(np.abs(peer.loc[theirs.index, a].to_numpy() - theirs[a].to_numpy()))
                    for a in ("Log(FC)", "SE"))
    ok &= bool(peer_diff <= 1e-9)
    print(f"  scikit-bio's process vs in memory: max |diff| {peer_diff:.2e} (allowed 1e-9)")
    sig_ours = set(ours.index[(ours["q"] <= 0.05).to_numpy()])
    sig_theirs = set(theirs.index[theirs["Signif"].to_numpy(dtype=bool)])
    ok &= sig_ours == sig_theirs
    print(f"  significant (q <= 0.05): gutjoint {len(sig_ours)}, scikit-bio {len(sig_theirs)}, in both {len(sig_ours & sig_theirs)}")
    grp = theirs.xs("group[T.case]", level="term")
    called = set(grp.index[grp["Signif"].to_numpy(dtype=bool)])
    print(f"  group[T.case] called by scikit-bio: {len(called & set(taxa[:30]))} of the 30 shifted taxa, {len(called - set(taxa[:30]))} others")
    if not ok:
        print("FAIL: the answers disagree")
        sys.exit(1)

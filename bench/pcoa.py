#!/usr/bin/env python3
"""PCoA: gutjoint against scikit-bio, timed side by side on the same matrix, answers checked.

1. eigh (default 2,000 samples): `gutjoint pcoa dm.tsv -o out.tsv` as a subprocess (process
   start, reading the lsmat, all axes, writing the TSV; best of --repeat) against
   `skbio.stats.ordination.pcoa(dm, method="eigh")` on the DistanceMatrix already in memory
   (computation alone; best of --repeat). The Bray-Curtis matrix comes from `gutjoint beta` on
   compare_ecology.py's table generator (95 % zeros, seed 42). Checks: every eigenvalue and
   proportion explained within 1e-9 (relative to the largest eigenvalue), coordinates of the
   first 10 axes within 1e-9 of scikit-bio's up to each axis' sign (relative to the axis'
   largest |coordinate|). Exit 1 if a check fails.
1b. leading axes (same matrix, --dimensions, default 10): `gutjoint pcoa dm.tsv -o out.tsv
   --dimensions 10` as a subprocess (process start, reading, block Lanczos for the top 10,
   writing; best of --repeat) against `pcoa(dm, method="eigh", dimensions=10)` in memory (scipy's
   partial LAPACK eigh; best of --repeat). Checks: the 10 eigenvalues within 1e-9 relative,
   proportions (of the trace) within 1e-9, coordinates within 1e-9 up to sign. Exit 1 if not.
   Then the same from the .npy of the matrix (`beta -o DM.npy`), whose output must be the same
   bytes, with its ratio to both scikit-bio timings (partial eigh, and step 1's all-axes eigh,
   the issue's literal comparison).
2. fsvd accuracy (default 5,000 samples, 10 dimensions): gutjoint's `--method fsvd` and
   scikit-bio's `pcoa(method="fsvd")` are each compared with exact eigh (scikit-bio's for the top
   10 axes, which step 1 shows equal to gutjoint's): relative eigenvalue error per axis and the largest coordinate
   difference up to sign (relative to the axis' largest |coordinate|). Both tools' times are
   printed (gutjoint end to end, scikit-bio in memory). gutjoint's exact `--dimensions` path
   is checked against the same reference (1e-9).
   --generator picks the table: `random` (compare_ecology.py's independent counts: no
   structure, the leading eigenvalues have no gap, so any randomized method mixes the axes) or
   `cohort` (samples drawn from a few community types, so the spectrum has a gap; see
   make_cohort_counts).
3. --scale N: gutjoint alone, `pcoa --method fsvd --dimensions 10` on an N-sample lsmat, then on
   the same matrix as .npy, under /usr/bin/time -v (wall time, peak RSS), with an address-space
   limit of available RAM - 1 GB. --scale-formats npy skips the lsmat (44 GB at 50,000).

    python bench/pcoa.py [--samples 2000] [--fsvd-samples 5000] [--scale 0] [--scale-formats lsmat,npy]
                         [--gutjoint PATH]
                         [--generator random|cohort] [--timed-top-command "... {dm} {out}"]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare_ecology import make_counts, write_biom_tsv  # noqa: E402


def gutjoint_bin(arg):
    path = arg or os.environ.get("GUTJOINT_BIN") or os.path.join(HERE, "..", "target", "release", "gutjoint")
    if not os.path.exists(path):
        sys.exit(f"no gutjoint binary at {path}: cargo build --release -p gutjoint-cli")
    return os.path.abspath(path)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def best_of(repeat, fn):
    best, value = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t)
    return best, value


def make_cohort_counts(rng, n_samples, n_features, types=5, depth=5000):
    """Counts from a few community types: each type puts 70 % of its mass on its own 40
    features and spreads the rest over all features (Dirichlet); a sample is a mixture of its
    type with a random second type (weight 0–30 %), sequenced by a multinomial draw of `depth`
    reads. Between-type differences dominate, so the leading eigenvalues stand apart from the
    sampling-noise bulk, as enterotype-like cohorts do."""
    profiles = []
    for t in range(types):
        p = 0.3 * rng.dirichlet(np.full(n_features, 0.1))
        own = rng.choice(n_features, size=40, replace=False)
        p[own] += 0.7 * rng.dirichlet(np.ones(40))
        profiles.append(p / p.sum())
    counts = np.zeros((n_samples, n_features), dtype=np.int64)
    for i in range(n_samples):
        a, b = rng.choice(types, size=2, replace=False)
        w = rng.uniform(0.0, 0.3)
        mix = (1 - w) * profiles[a] + w * profiles[b]
        counts[i] = rng.multinomial(depth, mix / mix.sum())
    return counts


def write_matrix(gj, workdir, samples, features, name, generator="random", formats=("lsmat", "npy")):
    rng = np.random.default_rng(42)
    counts = (make_cohort_counts if generator == "cohort" else make_counts)(rng, samples, features)
    ids = [f"S{i}" for i in range(samples)]
    table = os.path.join(workdir, f"{name}.tsv")
    write_biom_tsv(table, counts, ids, [f"F{j}" for j in range(features)])
    dm = os.path.join(workdir, f"{name}_dm.tsv")
    if "lsmat" in formats:
        run([gj, "beta", table, "--metric", "braycurtis", "-o", dm, "--quiet"])
    # The same matrix as .npy (condensed f64, ids beside it), for step 1b's binary input.
    if "npy" in formats:
        run([gj, "beta", table, "--metric", "braycurtis", "-o", dm.removesuffix(".tsv") + ".npy", "--quiet"])
    os.remove(table)
    return dm


def axis_errors(ref_vals, ref_coords, vals, coords, k):
    """Relative eigenvalue errors and coordinate errors up to sign for the first k axes."""
    out = []
    for a in range(k):
        x, y = ref_coords[:, a], coords[:, a]
        scale = np.abs(x).max()
        diff = min(np.abs(x - y).max(), np.abs(x + y).max()) / scale if scale > 0 else 0.0
        out.append((abs(vals[a] - ref_vals[a]) / abs(ref_vals[a]), diff))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--features", type=int, default=1000)
    ap.add_argument("--fsvd-samples", type=int, default=5000)
    ap.add_argument("--dimensions", type=int, default=10)
    ap.add_argument("--scale", type=int, default=0)
    ap.add_argument("--scale-formats", default="lsmat,npy",
                    help="inputs for --scale: lsmat, npy or both (the 50,000-sample lsmat is 44 GB)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--gutjoint")
    ap.add_argument("--generator", choices=["random", "cohort"], default="random",
                    help="table generator for steps 1-2 (see make_cohort_counts)")
    ap.add_argument("--timed-top-command", help="time this instead of `gutjoint pcoa DM -o OUT --dimensions K` "
                    "in step 1b, with {dm} and {out} filled in (e.g. `pcoa_phases {dm} {out} top 10`)")
    ap.add_argument("--timed-command", help="time this instead of `gutjoint pcoa DM -o OUT`, with {dm} and {out} "
                    "filled in (e.g. the release build of examples/pcoa_phases.rs when the CLI's release build "
                    "is not available); its output file is the one checked")
    args = ap.parse_args()
    gj = gutjoint_bin(args.gutjoint)

    import pandas as pd
    from skbio import DistanceMatrix
    from skbio.stats.ordination import pcoa

    failed = False
    with tempfile.TemporaryDirectory(prefix="gj_pcoa_") as tmp:
        # -- 1. eigh (skipped with --samples 0) ---------------------------------------------------
        if args.samples:
            dm_path = write_matrix(gj, tmp, args.samples, args.features, "eigh", args.generator)
            dm = DistanceMatrix.read(dm_path)
            out = os.path.join(tmp, "pcoa.tsv")
            timed = ([w.format(dm=dm_path, out=out) for w in args.timed_command.split()] if args.timed_command
                     else [gj, "--timings", "pcoa", dm_path, "-o", out, "--quiet"])
            gj_s, proc = best_of(args.repeat, lambda: run(timed))
            ours = json.loads(run([gj, "pcoa", dm_path, "--json"]).stdout)  # untimed: all eigenvalues
            phases = dict(l.removeprefix("timing\t").split("\t") for l in proc.stderr.splitlines() if "\t" in l)
            import warnings

            warnings.simplefilter("ignore")
            sk_s, res = best_of(args.repeat, lambda: pcoa(dm, method="eigh"))
            sk_all_s = sk_s
            coords = pd.read_csv(out, sep="\t", index_col=0).to_numpy()
            sk_vals = res.eigvals.to_numpy()
            sk_coords = res.samples.to_numpy()
            top = sk_vals[0]
            val_diff = np.abs(np.array(ours["eigenvalues"]) - sk_vals).max() / top
            prop_diff = np.abs(np.array(ours["proportion_explained"]) - res.proportion_explained.to_numpy()).max()
            errs = axis_errors(sk_vals, sk_coords, np.array(ours["eigenvalues"]), coords, 10)
            coord_diff = max(e[1] for e in errs)
            print(f"PCoA eigh, {args.samples} samples (Bray-Curtis of {args.features} features, 95% zeros)")
            print(f"  gutjoint pcoa (process, read, all axes, write) {gj_s:8.3f} s   phases {phases}")
            if args.timed_command:
                print(f"  (timed: {' '.join(timed)})")
            print(f"  skbio pcoa(method='eigh') in memory            {sk_s:8.3f} s")
            print(f"  ratio skbio / gutjoint: {sk_s / gj_s:.2f}x")
            print(f"  max |eigenvalue diff| / lambda1 {val_diff:.2e}; proportion explained {prop_diff:.2e}; "
                  f"coordinates (10 axes, up to sign) {coord_diff:.2e}")
            for name, d in [("eigenvalues", val_diff), ("proportions", prop_diff), ("coordinates", coord_diff)]:
                if not d <= 1e-9:
                    print(f"  CHECK FAILED: {name} differ by {d:.2e}")
                    failed = True

            # -- 1b. the leading axes only (--dimensions k < n) ----------------------------------
            k = args.dimensions
            out_top = os.path.join(tmp, "pcoa_top.tsv")
            timed = ([w.format(dm=dm_path, out=out_top) for w in args.timed_top_command.split()]
                     if args.timed_top_command
                     else [gj, "--timings", "pcoa", dm_path, "-o", out_top, "--dimensions", str(k), "--quiet"])
            gj_s, proc = best_of(args.repeat, lambda: run(timed))
            phases = dict(l.removeprefix("timing\t").split("\t") for l in proc.stderr.splitlines() if "\t" in l)
            ours = json.loads(run([gj, "pcoa", dm_path, "--dimensions", str(k), "--json"]).stdout)
            sk_s, res = best_of(args.repeat, lambda: pcoa(dm, method="eigh", dimensions=k))
            sk_vals = res.eigvals.to_numpy()
            coords = pd.read_csv(out_top, sep="\t", index_col=0).to_numpy()
            val_diff = (np.abs(np.array(ours["eigenvalues"]) - sk_vals) / np.abs(sk_vals)).max()
            prop_sk = res.proportion_explained.to_numpy()
            prop_diff = (np.abs(np.array(ours["proportion_explained"]) - prop_sk) / np.abs(prop_sk)).max()
            errs = axis_errors(sk_vals, res.samples.to_numpy(), np.array(ours["eigenvalues"]), coords, k)
            coord_diff = max(e[1] for e in errs)
            print(f"\nPCoA eigh, leading {k} axes ({args.samples} samples; eigenvalues {sk_vals[0]:.6g} ... "
                  f"{sk_vals[-1]:.6g}, smallest gap {np.abs(np.diff(sk_vals)).min():.3g})")
            print(f"  gutjoint pcoa --dimensions {k} (process, read, compute, write) {gj_s:8.3f} s   phases {phases}")
            if args.timed_top_command:
                print(f"  (timed: {' '.join(timed)})")
            print(f"  skbio pcoa(method='eigh', dimensions={k}) in memory      {sk_s:8.3f} s")
            print(f"  ratio skbio / gutjoint: {sk_s / gj_s:.2f}x")
            print(f"  max relative diff: eigenvalues {val_diff:.2e}; proportions {prop_diff:.2e}; "
                  f"coordinates ({k} axes, up to sign, / axis max) {coord_diff:.2e}")
            for name, d in [("eigenvalues", val_diff), ("proportions", prop_diff), ("coordinates", coord_diff)]:
                if not d <= 1e-9:
                    print(f"  CHECK FAILED: leading axes: {name} differ by {d:.2e}")
                    failed = True
            # Same leading axes from the .npy matrix (`beta -o DM.npy`): no text to parse.
            npy_path = dm_path.removesuffix(".tsv") + ".npy"
            out_npy = os.path.join(tmp, "pcoa_top_npy.tsv")
            npy_s, proc = best_of(args.repeat, lambda: run(
                [gj, "--timings", "pcoa", npy_path, "-o", out_npy, "--dimensions", str(k), "--quiet"]))
            phases = dict(l.removeprefix("timing\t").split("\t") for l in proc.stderr.splitlines() if "\t" in l)
            same = open(out_npy, "rb").read() == open(out_top, "rb").read()
            print(f"  gutjoint pcoa DM.npy --dimensions {k} (process, read, compute, write) {npy_s:8.3f} s   "
                  f"phases {phases}")
            print(f"  ratio skbio partial eigh / gutjoint from .npy: {sk_s / npy_s:.2f}x; "
                  f"skbio pcoa(method='eigh') (all axes, step 1) / gutjoint from .npy: {sk_all_s / npy_s:.2f}x")
            print(f"  output from .npy identical to the output from the lsmat: {same}")
            if not same:
                print("  CHECK FAILED: .npy input gives other bytes than the lsmat")
                failed = True
            os.remove(dm_path)
            os.remove(npy_path)

        # -- 2. fsvd accuracy ------------------------------------------------------------------
        if args.fsvd_samples:
            k = args.dimensions
            dm_path = write_matrix(gj, tmp, args.fsvd_samples, args.features, "fsvd", args.generator)
            dm = DistanceMatrix.read(dm_path)
            # Exact reference: scikit-bio's eigh for the top k (LAPACK's partial eigh), which
            # step 1 shows equal to gutjoint's full eigh within 1e-9.
            t = time.perf_counter()
            ref = pcoa(dm, method="eigh", dimensions=k)
            sk_eigh = time.perf_counter() - t
            t = time.perf_counter()
            approx = json.loads(run([gj, "pcoa", dm_path, "--method", "fsvd", "--dimensions", str(k), "--seed", "1", "--json"]).stdout)
            gj_fsvd = time.perf_counter() - t
            t = time.perf_counter()
            sk = pcoa(dm, method="fsvd", dimensions=k, seed=1)
            sk_fsvd = time.perf_counter() - t
            t = time.perf_counter()
            exact = json.loads(run([gj, "pcoa", dm_path, "--dimensions", str(k), "--json"]).stdout)
            gj_top = time.perf_counter() - t
            ev, ec = ref.eigvals.to_numpy(), ref.samples.to_numpy()
            top_errs = axis_errors(ev, ec, np.array(exact["eigenvalues"]), np.array(exact["coordinates"]), k)
            top_diff = max(max(e) for e in top_errs)
            ours = axis_errors(ev, ec, np.array(approx["eigenvalues"]), np.array(approx["coordinates"]), k)
            theirs = axis_errors(ev, ec, sk.eigvals.to_numpy(), sk.samples.to_numpy(), k)
            print(f"\nPCoA fsvd, {args.fsvd_samples} samples ({args.generator} generator), {k} dimensions, "
                  f"against exact eigh")
            print(f"  gutjoint's exact --dimensions {k} (block Lanczos): {gj_top:.2f} s end to end, largest "
                  f"relative eigenvalue / coordinate difference from skbio's eigh {top_diff:.2e}")
            if not top_diff <= 1e-9:
                print("  CHECK FAILED: gutjoint --dimensions differs from skbio's eigh")
                failed = True
            print(f"  times: gutjoint fsvd {gj_fsvd:.2f} s (end to end); skbio fsvd {sk_fsvd:.2f} s, "
                  f"skbio eigh (top {k}) {sk_eigh:.2f} s (in memory)")
            print("  axis  eigenvalue   gutjoint fsvd: rel. eigenvalue error, coord error | skbio fsvd: same")
            for a in range(k):
                print(f"  PC{a + 1:<3} {ev[a]:11.6g}   {ours[a][0]:9.2e}  {ours[a][1]:9.2e}"
                      f"            | {theirs[a][0]:9.2e}  {theirs[a][1]:9.2e}")
            os.remove(dm_path)

        # -- 3. scale --------------------------------------------------------------------------
        if args.scale:
            formats = [f for f in args.scale_formats.split(",") if f]
            if not formats or any(f not in ("lsmat", "npy") for f in formats):
                sys.exit(f"--scale-formats {args.scale_formats!r}: expected lsmat, npy or lsmat,npy")
            dm_path = write_matrix(gj, tmp, args.scale, args.features, "scale", formats=formats)
            avail = int(open("/proc/meminfo").read().split("MemAvailable:")[1].split()[0]) * 1024
            limit = avail - (1 << 30)

            def cap():
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

            npy_path = dm_path.removesuffix(".tsv") + ".npy"
            inputs = [(dm_path, "lsmat")] if "lsmat" in formats else []
            inputs += [(npy_path, ".npy")] if "npy" in formats else []
            for path, kind in inputs:
                t = time.perf_counter()
                p = subprocess.run(["/usr/bin/time", "-v", gj, "--timings", "pcoa", path, "--method", "fsvd",
                                    "--dimensions", str(args.dimensions), "-o",
                                    os.path.join(tmp, "scale_pcoa.tsv")],
                                   capture_output=True, text=True, preexec_fn=cap)
                wall = time.perf_counter() - t
                rss = [l for l in p.stderr.splitlines() if "Maximum resident" in l]
                timings = [l for l in p.stderr.splitlines() if l.startswith("timing")]
                print(f"\nPCoA fsvd at {args.scale} samples ({os.path.getsize(path) / 1e9:.1f} GB {kind}): "
                      f"exit {p.returncode}, {wall:.1f} s, {rss[0].strip() if rss else '?'}; {timings}")
                if p.returncode != 0:
                    print(p.stderr[-2000:])
                    failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

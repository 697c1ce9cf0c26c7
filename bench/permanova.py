#!/usr/bin/env python3
"""PERMANOVA: gutjoint against scikit-bio, computation and whole process, side by side.

Data: compare_ecology.py's generator (default 2,000 samples x 1,000 features, 95 % zeros,
seed 42) and its 3-level `group` column; the Bray-Curtis matrix is written once as an lsmat by
`gutjoint beta` (scikit-bio reads the same file).

Two comparisons, each printing both times and the ratio in one run:

1. computation: gutjoint's `compute` phase (`--timings`: the permutation test on the matrix in
   memory) against `skbio.stats.distance.permanova(dm, md, column="group", permutations=999)`
   on the DistanceMatrix already in memory;
2. whole process: `gutjoint permanova DM.tsv --metadata MD.tsv --column group --permutations
   999 --seed 1 --json` as a subprocess against a Python subprocess that starts, imports
   scikit-bio, reads the same lsmat (`DistanceMatrix.read`) and metadata (`pandas.read_csv`),
   runs permanova and prints the result;
3. whole process from the .npy of the same matrix (`beta -o DM.npy`: the condensed triangle,
   ids in DM.npy.ids.txt): gutjoint reads it directly, the Python subprocess with `np.load`,
   `squareform` and `DistanceMatrix` — binary input on both sides.

Each side is timed best of --repeat, the two sides alternating so that both see the same load.
Checks (exit 1 if one fails): pseudo-F of gutjoint and of both scikit-bio runs within 1e-9
relative; gutjoint's output is the same bytes with 1 thread and with all threads. p-values are
printed; they differ only because the two tools draw different permutations.

    python bench/permanova.py [--samples 2000] [--features 1000] [--permutations 999]
        [--repeat 5] [--gutjoint PATH]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare_ecology import make_counts, write_biom_tsv, write_metadata, write_random_tree  # noqa: E402

PEER_SCRIPT = """
import sys
import pandas as pd
from skbio import DistanceMatrix
from skbio.stats.distance import permanova
dm = DistanceMatrix.read(sys.argv[1])
md = pd.read_csv(sys.argv[2], sep="\\t", index_col=0, dtype=str)
r = permanova(dm, md, column="group", permutations=int(sys.argv[3]))
print(r.to_json())
"""

# The same from the .npy of the matrix (condensed, ids in DM.npy.ids.txt), read by NumPy.
PEER_NPY_SCRIPT = """
import sys
import numpy as np
import pandas as pd
from scipy.spatial.distance import squareform
from skbio import DistanceMatrix
from skbio.stats.distance import permanova
ids = open(sys.argv[1] + ".ids.txt").read().split()
dm = DistanceMatrix(squareform(np.load(sys.argv[1]), checks=False), ids)
md = pd.read_csv(sys.argv[2], sep="\\t", index_col=0, dtype=str)
r = permanova(dm, md, column="group", permutations=int(sys.argv[3]))
print(r.to_json())
"""


def gutjoint_bin(arg):
    path = arg or os.environ.get("GUTJOINT_BIN") or os.path.join(HERE, "..", "target", "release", "gutjoint")
    if not os.path.exists(path):
        sys.exit(f"no gutjoint binary at {path}: cargo build --release -p gutjoint-cli")
    return os.path.abspath(path)


def timed_process(argv, env=None):
    t = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    s = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()}")
    return s, p


def phases(stderr):
    """gutjoint's `timing\\t<phase>\\t<seconds>` lines."""
    out = {}
    for line in stderr.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] == "timing":
            out[parts[1]] = float(parts[2])
    return out


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b)) if max(abs(a), abs(b)) > 0 else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--features", type=int, default=1000)
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--gutjoint")
    args = ap.parse_args()
    gj = gutjoint_bin(args.gutjoint)
    for var in ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.pop(var, None)  # both sides use every core

    import pandas as pd
    import skbio
    from skbio import DistanceMatrix
    from skbio.stats.distance import permanova

    print(f"nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"gutjoint {gj}; python {sys.version.split()[0]}, scikit-bio {skbio.__version__}, "
          f"numpy {np.__version__}, pandas {pd.__version__}")
    failed = False
    with tempfile.TemporaryDirectory(prefix="gj_permanova_") as tmp:
        P = lambda name: os.path.join(tmp, name)  # noqa: E731
        rng = np.random.default_rng(42)
        sids = [f"S{i}" for i in range(args.samples)]
        counts = make_counts(rng, args.samples, args.features)
        write_biom_tsv(P("table.tsv"), counts, sids, [f"F{j}" for j in range(args.features)])
        # compare_ecology.py draws its tree between the table and the metadata: drawing it too
        # keeps the groups (and so the test) the same as there.
        write_random_tree(P("tree.nwk"), rng, [f"F{j}" for j in range(args.features)])
        groups = write_metadata(P("md.tsv"), rng, sids)
        subprocess.run([gj, "beta", P("table.tsv"), "--metric", "braycurtis", "-o", P("dm.tsv"),
                        "--quiet"], check=True)
        subprocess.run([gj, "beta", P("table.tsv"), "--metric", "braycurtis", "-o", P("dm.npy"),
                        "--quiet"], check=True)
        os.remove(P("table.tsv"))
        print(f"data: {args.samples} samples x {args.features} features, lsmat "
              f"{os.path.getsize(P('dm.tsv')) / 1e6:.1f} MB, groups "
              f"{ {str(k): int(v) for k, v in zip(*np.unique(groups, return_counts=True))} }, "
              f"{args.permutations} permutations")

        gj_argv = [gj, "permanova", P("dm.tsv"), "--metadata", P("md.tsv"), "--column", "group",
                   "--permutations", str(args.permutations), "--seed", "1", "--json"]
        peer_argv = [sys.executable, "-c", PEER_SCRIPT, P("dm.tsv"), P("md.tsv"),
                     str(args.permutations)]
        gj_npy_argv = [gj_argv[0], gj_argv[1], P("dm.npy")] + gj_argv[3:]
        peer_npy_argv = [sys.executable, "-c", PEER_NPY_SCRIPT, P("dm.npy"), P("md.tsv"),
                         str(args.permutations)]
        dm = DistanceMatrix.read(P("dm.tsv"))
        md = pd.read_csv(P("md.tsv"), sep="\t", index_col=0, dtype=str)

        gj_whole, gj_compute, gj_read = [], [], []
        sk_compute, sk_whole = [], []
        gj_npy, sk_npy = [], []
        gj_npy_out = sk_npy_out = None
        gj_out = sk_mem = sk_proc = None
        for _ in range(args.repeat):
            s, p = timed_process(gj_argv)
            gj_whole.append(s)
            ph = phases(timed_process(gj_argv + ["--timings"])[1].stderr)
            gj_compute.append(ph.get("compute", float("nan")))
            gj_read.append(ph.get("read", float("nan")))
            gj_out = p.stdout
            t = time.perf_counter()
            sk_mem = permanova(dm, md, column="group", permutations=args.permutations)
            sk_compute.append(time.perf_counter() - t)
            s, p = timed_process(peer_argv)
            sk_whole.append(s)
            sk_proc = p.stdout
            s, p = timed_process(gj_npy_argv)
            gj_npy.append(s)
            gj_npy_out = p.stdout
            s, p = timed_process(peer_npy_argv)
            sk_npy.append(s)
            sk_npy_out = p.stdout
        ours = json.loads(gj_out)
        theirs = json.loads(sk_proc)
        f_gj = float(ours["test_statistic"])
        f_mem = float(sk_mem["test statistic"])
        f_proc = float(theirs["test statistic"])

        # Same bytes with one thread as with all.
        one = subprocess.run([gj, "--threads", "1"] + gj_argv[1:], capture_output=True,
                             text=True, check=True).stdout

        print()
        print(f"{'':<26}{'gutjoint s':>12}{'scikit-bio s':>14}{'ratio':>9}")
        print(f"{'computation':<26}{min(gj_compute):>12.4f}{min(sk_compute):>14.4f}"
              f"{min(sk_compute) / min(gj_compute):>8.1f}x")
        print(f"{'whole process':<26}{min(gj_whole):>12.4f}{min(sk_whole):>14.4f}"
              f"{min(sk_whole) / min(gj_whole):>8.1f}x")
        print(f"{'whole process, .npy in':<26}{min(gj_npy):>12.4f}{min(sk_npy):>14.4f}"
              f"{min(sk_npy) / min(gj_npy):>8.1f}x")
        print(f"gutjoint phases (best): read {min(gj_read):.4f} s, compute {min(gj_compute):.4f} s; "
              f"all runs whole {', '.join(f'{x:.3f}' for x in gj_whole)}")
        print(f"scikit-bio all runs: computation {', '.join(f'{x:.3f}' for x in sk_compute)}; "
              f"whole {', '.join(f'{x:.3f}' for x in sk_whole)}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print()
        checks = [
            ("pseudo-F vs scikit-bio in memory", rel(f_gj, f_mem) <= 1e-9, f"{rel(f_gj, f_mem):.2e}"),
            ("pseudo-F vs scikit-bio process", rel(f_gj, f_proc) <= 1e-9, f"{rel(f_gj, f_proc):.2e}"),
            ("same output with --threads 1", one == gj_out, "identical" if one == gj_out else "DIFFER"),
            ("same output from the .npy", gj_npy_out == gj_out, "identical" if gj_npy_out == gj_out else "DIFFER"),
            ("pseudo-F vs scikit-bio process on the .npy",
             rel(f_gj, float(json.loads(sk_npy_out)["test statistic"])) <= 1e-9,
             f"{rel(f_gj, float(json.loads(sk_npy_out)['test statistic'])):.2e}"),
        ]
        for name, ok, detail in checks:
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
            failed |= not ok
        print(f"gutjoint F={f_gj:.12g} p={ours['p_value']}; scikit-bio F={f_mem:.12g} "
              f"p={sk_mem['p-value']} (p-values differ by the permutations drawn)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

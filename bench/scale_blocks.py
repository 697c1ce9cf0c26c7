#!/usr/bin/env python3
"""Blockwise distance matrices and PERMANOVA (issue #16): time and peak memory per block.

For synthetic tables of n samples x 1,000 features (5 % nonzero, geometric counts, seeded;
the generators of compare_ecology.py) and a random tree, runs

    gutjoint --threads 1 beta T --metric M [--tree] --block I/N -o PART
    gutjoint --threads 1 permanova-map PART --metadata MD --column group --permutations P

under /usr/bin/time -v, and prints CPU seconds (user + sys: the machine is shared, so wall time
is reported too but CPU time is the figure that transfers to a cluster node), peak RSS, pairs
in the block and bytes written. Then it times, on the same table, one process
(`beta` to .npy) against the Snakemake workflow with `--shards` blocks (same total work), when
snakemake is installed.

    python bench/scale_blocks.py [--sizes 1000,2000,5000] [--blocks 4] [--gutjoint PATH]
        [--permutations 99] [--workflow-samples 5000] [--snakemake PATH]

The peer of every number here is gutjoint's own single run: correctness (bit-for-bit merge,
PERMANOVA equality) is tested in crates/gutjoint-cli/tests/cli/scale.rs; this script measures.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from compare_ecology import make_counts, write_biom_tsv, write_metadata, write_random_tree  # noqa: E402


def timed(argv):
    """Runs argv under /usr/bin/time -v; returns (cpu seconds, wall seconds, max RSS MB)."""
    r = subprocess.run(["/usr/bin/time", "-v"] + argv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{r.stderr[-2000:]}")
    def field(name):
        m = re.search(rf"{re.escape(name)}: ([0-9.:]+)", r.stderr)
        return m.group(1)
    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(x) for x in wall.split(":")]
    wall_s = sum(p * 60 ** k for k, p in enumerate(reversed(parts)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    return cpu, wall_s, rss


def pairs_in_block(n, i, count):
    """Rows of block i (1-based) of count, as gutjoint's blocks.rs lays them out."""
    total = n * (n - 1) // 2
    def before(r):
        return r * (n - 1) - r * (r - 1) // 2
    def boundary(k):
        if k == 0:
            return 0
        if k >= count:
            return n
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            if before(mid) * count >= total * k:
                hi = mid
            else:
                lo = mid + 1
        return lo
    a, b = boundary(i - 1), boundary(i)
    return before(b) - before(a), (a, b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2000,5000,10000")
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--permutations", type=int, default=99)
    ap.add_argument("--gutjoint", default=os.environ.get("GUTJOINT_BIN", os.path.join(REPO, "target/release/gutjoint")))
    ap.add_argument("--workflow-samples", type=int, default=0)
    ap.add_argument("--snakemake", default=os.path.expanduser("~/.cache/gutjoint/snakemake/bin/snakemake"))
    ap.add_argument("--metrics", default="braycurtis,unweighted_unifrac")
    args = ap.parse_args()
    gj = os.path.abspath(args.gutjoint)
    tmp = tempfile.mkdtemp(prefix="gutjoint-scale-")
    rng = np.random.default_rng(42)
    rows = []
    try:
        print(f"gutjoint: {gj}; blocks per matrix: {args.blocks}; 1 thread per job")
        print("| samples | metric | block | pairs | CPU s | wall s | peak RSS MB | part MB | ns/pair (CPU) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for n in [int(x) for x in args.sizes.split(",") if x]:
            counts = make_counts(rng, n, 1000)
            sids = [f"S{i}" for i in range(n)]
            fids = [f"F{j}" for j in range(1000)]
            table = os.path.join(tmp, f"t{n}.tsv")
            tree = os.path.join(tmp, "tree.nwk")
            md = os.path.join(tmp, f"md{n}.tsv")
            write_biom_tsv(table, counts, sids, fids)
            write_random_tree(tree, rng, fids)
            write_metadata(md, rng, sids)
            for metric in args.metrics.split(","):
                extra = ["--tree", tree] if "unifrac" in metric else []
                # Reading the table and setting up, without distances: the fixed cost per job.
                for i in (1, args.blocks):
                    part = os.path.join(tmp, f"b{n}.{metric}.{i}.part")
                    cpu, wall, rss = timed([gj, "--quiet", "--threads", "1", "beta", table, "--metric", metric, *extra,
                                           "--block", f"{i}/{args.blocks}", "-o", part])
                    pairs, _ = pairs_in_block(n, i, args.blocks)
                    size = os.path.getsize(part) / 1e6
                    print(f"| {n} | {metric} | {i}/{args.blocks} | {pairs} | {cpu:.2f} | {wall:.2f} | {rss:.0f} | {size:.1f} | {1e9 * cpu / max(pairs, 1):.1f} |", flush=True)
                    rows.append((n, metric, i, pairs, cpu, wall, rss, size))
                    if metric == "braycurtis" and args.permutations:
                        out = os.path.join(tmp, f"sums{n}.{i}.json")
                        cpu, wall, rss = timed([gj, "--quiet", "--threads", "1", "permanova-map", part, "--metadata", md,
                                               "--column", "group", "--permutations", str(args.permutations),
                                               "--seed", "1", "-o", out])
                        print(f"| {n} | permanova-map ({args.permutations} perm.) | {i}/{args.blocks} | {pairs} | {cpu:.2f} | {wall:.2f} | {rss:.0f} | - | {1e9 * cpu / max(pairs, 1) / args.permutations:.2f} per perm. |", flush=True)
                    os.remove(part)
            os.remove(table)
        if args.workflow_samples and os.path.exists(args.snakemake):
            n = args.workflow_samples
            counts = make_counts(rng, n, 1000)
            sids = [f"S{i}" for i in range(n)]
            fids = [f"F{j}" for j in range(1000)]
            table = os.path.join(tmp, "wf.tsv")
            write_biom_tsv(table, counts, sids, fids)
            single = os.path.join(tmp, "single.npy")
            cpu1, wall1, rss1 = timed([gj, "--quiet", "--threads", "1", "beta", table, "--metric", "braycurtis", "-o", single])
            config = os.path.join(tmp, "wf.yaml")
            with open(config, "w") as f:
                f.write(f"table: {table}\nmetric: braycurtis\nshards: {args.blocks}\nformat: npy\noutdir: {tmp}/wf\n"
                        f"merge: true\ngutjoint: {gj}\nthreads: 1\nper_sample: []\n")
            t0 = time.time()
            cpu2, wall2, rss2 = timed([args.snakemake, "-s", os.path.join(REPO, "workflow/Snakefile"), "--configfile", config,
                                       "--cores", "1", "--directory", tmp, "--quiet"])
            same = open(single, "rb").read() == open(os.path.join(tmp, "wf/distance.npy"), "rb").read()
            print(f"\nworkflow overhead, {n} samples, Bray-Curtis, {args.blocks} blocks on 1 core "
                  f"(same total work): one process {cpu1:.2f} s CPU / {wall1:.2f} s wall; Snakemake "
                  f"{cpu2:.2f} s CPU / {wall2:.2f} s wall (children included); merged matrix identical: {same}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

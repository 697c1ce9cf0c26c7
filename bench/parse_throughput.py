#!/usr/bin/env python3
"""Measure how fast, and in how much memory, gutjoint reads a large merged abundance table.

What it measures
----------------
Generates (seeded, numpy default_rng(42)) a merged table of 20,000 samples x 5,000 features at
95 % zeros, relative abundances (each sample sums to 1) written with 6 significant digits, as a
TSV with features as rows and samples as columns (a few hundred MB). Then runs, single-threaded,

    /usr/bin/time -v gutjoint --threads 1 inspect FILE --json --quiet

and reports the file size (MB), wall time, throughput (MB/s), maximum resident set size, the
size of the table held sparsely (nnz x 12 bytes, i.e. an f64 value plus a u32 index per nonzero,
plus the bytes of the sample and feature ids) and the ratio max RSS / sparse size. For
comparison it times pandas.read_csv(FILE, sep='\\t', index_col=0) once (MB/s; pandas' own
peak memory is reported as the growth of this process's max RSS). The file is deleted at the end.

How to run
----------
    pip install numpy pandas
    cargo build --release -p gutjoint-cli
    python bench/parse_throughput.py [--quick] [--gutjoint PATH]

--quick uses 2,000 samples. The binary is taken from --gutjoint, else $GUTJOINT_BIN, else
target/release/gutjoint. /usr/bin/time comes from Debian's `time` package (installed if missing).
"""

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def write_table(path, n_samples, n_features, density=0.05, seed=42):
    """Writes the table; returns (nnz, bytes of all ids)."""
    rng = np.random.default_rng(seed)
    # the whole sparse table is small (~5 M nonzeros): draw it, normalise per sample, then
    # write one feature row at a time
    mask = rng.random((n_features, n_samples), dtype=np.float32) < density
    empty = np.flatnonzero(~mask.any(axis=0))
    mask[rng.integers(n_features, size=empty.size), empty] = True  # no empty sample
    rows, cols = np.nonzero(mask)  # row-major: grouped by feature
    del mask
    vals = rng.lognormal(mean=0.0, sigma=2.0, size=rows.size)
    totals = np.bincount(cols, weights=vals, minlength=n_samples)
    vals /= totals[cols]
    starts = np.searchsorted(rows, np.arange(n_features + 1))
    sample_ids = [f"sample_{i:05d}" for i in range(n_samples)]
    feature_ids = [f"k__Bacteria|p__Phylum{j % 40}|g__Genus{j}|s__Species_{j}"
                   for j in range(n_features)]
    with open(path, "w", buffering=1 << 22) as f:
        f.write("#OTU ID\t" + "\t".join(sample_ids) + "\n")
        for j in range(n_features):
            cells = ["0"] * n_samples
            a, b = starts[j], starts[j + 1]
            for c, v in zip(cols[a:b].tolist(), vals[a:b].tolist()):
                cells[c] = f"{v:.6g}"
            f.write(feature_ids[j] + "\t" + "\t".join(cells) + "\n")
    id_bytes = sum(len(s) for s in sample_ids) + sum(len(s) for s in feature_ids)
    return int(rows.size), id_bytes


def parse_time_v(stderr):
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    secs = None
    if wall:
        parts = [float(x) for x in wall.group(1).split(":")]
        secs = sum(v * 60 ** (len(parts) - 1 - k) for k, v in enumerate(parts))
    return secs, (int(rss.group(1)) * 1024 if rss else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000 samples")
    ap.add_argument("--gutjoint", default=os.environ.get("GUTJOINT_BIN"))
    args = ap.parse_args()
    gj = args.gutjoint or os.path.join(REPO, "target", "release", "gutjoint")
    if not os.path.exists(gj):
        sys.exit(f"gutjoint binary not found: {gj} (cargo build --release -p gutjoint-cli)")
    if not os.path.exists("/usr/bin/time"):
        subprocess.run(["apt-get", "install", "-y", "time"], capture_output=True)

    n_samples, n_features = (2000 if args.quick else 20000), 5000
    workdir = tempfile.mkdtemp(prefix="gutjoint-parse-", dir="/tmp")
    path = os.path.join(workdir, "merged_abundance.tsv")
    try:
        t0 = time.perf_counter()
        nnz, id_bytes = write_table(path, n_samples, n_features)
        size = os.path.getsize(path)
        mb = size / 1e6
        print(f"table: {n_samples} samples x {n_features} features, nnz {nnz:,} "
              f"({100 * (1 - nnz / (n_samples * n_features)):.1f}% zeros), "
              f"{mb:.1f} MB, written in {time.perf_counter() - t0:.1f} s")

        subprocess.run(["cat", path], stdout=subprocess.DEVNULL)  # warm the page cache
        argv = ["/usr/bin/time", "-v", gj, "--threads", "1", "inspect", path, "--json", "--quiet"]
        print("$ " + " ".join(argv))
        p = subprocess.run(argv, capture_output=True, text=True)
        if p.returncode != 0:
            print(f"gutjoint inspect FAILED ({p.returncode}):\n{p.stderr[-2000:]}")
            sys.exit(1)
        wall, rss = parse_time_v(p.stderr)
        report = json.loads(p.stdout)
        seen = {k: report[k] for k in report if re.search(r"sample|feature|nnz|nonzero", k)
                and not isinstance(report[k], (list, dict))}
        print(f"gutjoint inspect says: {json.dumps(seen)}")
        for key, want in (("samples", n_samples), ("features", n_features), ("nonzero", nnz)):
            if key in report:
                assert report[key] == want, f"inspect: {key} = {report[key]}, expected {want}"

        sparse = nnz * 12 + id_bytes
        print()
        print(f"{'reader':<34}{'file MB':>9}{'wall s':>9}{'MB/s':>9}{'max RSS MB':>12}"
              f"{'sparse MB':>11}{'RSS/sparse':>12}")
        print("-" * 96)
        print(f"{'gutjoint inspect --threads 1':<34}{mb:>9.1f}{wall:>9.2f}{mb / wall:>9.1f}"
              f"{rss / 1e6:>12.1f}{sparse / 1e6:>11.1f}{rss / sparse:>12.2f}")

        import pandas as pd

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        t0 = time.perf_counter()
        df = pd.read_csv(path, sep="\t", index_col=0)
        t = time.perf_counter() - t0
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        assert df.shape == (n_features, n_samples), df.shape
        del df
        grew = max(rss_after - rss_before, 0)
        print(f"{'pandas.read_csv (1 run)':<34}{mb:>9.1f}{t:>9.2f}{mb / t:>9.1f}"
              f"{('+' + format(grew / 1e6, '.1f')):>12}{'':>11}{'':>12}")
        print()
        print("sparse MB = nnz x 12 bytes (f64 value + u32 index) + the ids' bytes.")
        print("gutjoint's wall time includes process start and the JSON report; the file is in")
        print("the page cache for both readers. pandas' RSS is the growth of this process's peak")
        print(f"(dense float64 frame: {n_samples * n_features * 8 / 1e6:.0f} MB).")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"deleted {workdir}")


if __name__ == "__main__":
    main()

"""ANCOM-BC2 and the Dirichlet-multinomial mixed model: gutjoint vs scikit-bio 0.7.4, same input,
one run, ratio printed.

    python bench/compositional.py [--gutjoint PATH] [--draws 128]

Inputs: the bundled probiotic trial (44 samples x 130 taxa, `time * group`, subject) and the
seeded synthetic study of tests/data/golden/compositional (72 samples x 60 taxa, `time + group`).
gutjoint runs as a subprocess (best of 3 wall-clock runs, including process start, reading the
files and writing the TSV); scikit-bio runs in this process on data already in memory (best of
3). The ratio is scikit-bio / gutjoint: above 1, gutjoint is faster.
"""

import argparse
import os
import subprocess
import time
from pathlib import Path

import pandas as pd
from skbio.stats.composition import ancombc2, dirmult_lme

ROOT = Path(__file__).resolve().parents[1]


def best(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gutjoint", default=os.environ.get("GUTJOINT_BIN", str(ROOT / "target/release/gutjoint")))
    ap.add_argument("--draws", type=int, default=128)
    args = ap.parse_args()

    sets = {
        "probiotic trial": (
            ROOT / "examples/data/longitudinal/peerj32/counts.tsv",
            ROOT / "examples/data/longitudinal/peerj32/metadata.tsv",
            "time * group",
            ["Placebo", "LGG"],
        ),
        "synthetic": (
            ROOT / "tests/data/golden/compositional/synthetic_counts.tsv",
            ROOT / "tests/data/golden/compositional/synthetic_metadata.tsv",
            "time + group",
            ["control", "treated"],
        ),
    }
    print("| data | method | gutjoint (s) | scikit-bio (s) | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for name, (counts, metadata, formula, levels) in sets.items():
        table = pd.read_csv(counts, sep="\t", index_col=0).T
        md = pd.read_csv(metadata, sep="\t", index_col=0)
        table = table.loc[md.index]
        md["group"] = pd.Categorical(md["group"], categories=levels)
        base = [
            args.gutjoint, "da", str(counts), "--metadata", str(metadata), "--formula", formula,
            "--reference", f"group={levels[0]}", "-o", "/tmp/gutjoint_bench_compositional.tsv",
        ]
        runs = {
            "ancombc2": (
                base + ["--method", "ancombc2"],
                lambda: ancombc2(table, md, formula, pseudocount=1),
            ),
            "dirmult-lme": (
                base + ["--method", "dirmult-lme", "--subject", "subject", "--draws", str(args.draws)],
                lambda: dirmult_lme(table, md, formula, grouping="subject", draws=args.draws, seed=0),
            ),
        }
        for method, (command, peer) in runs.items():
            ours = best(lambda: subprocess.run(command, check=True, capture_output=True))
            theirs = best(peer)
            print(f"| {name} | {method} | {ours:.3f} | {theirs:.3f} | {theirs / ours:.2f} |")
    os.remove("/tmp/gutjoint_bench_compositional.tsv")


if __name__ == "__main__":
    main()

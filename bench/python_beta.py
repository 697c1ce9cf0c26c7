"""gutjoint's Python package against scikit-bio in the same Python process.

    pip install crates/gutjoint-py scikit-bio==0.7.4     (or the wheel scripts/test-python.sh builds)
    python bench/python_beta.py [--samples 2000] [--features 1000] [--repeat 3] [--skip-skbio-unifrac]

A seeded table of samples × features counts (95 % zeros, geometric nonzeros, as
compare_ecology.py) in a pandas DataFrame, and a random rooted binary tree over the features
with branch lengths k/1024. Times, best of --repeat (scikit-bio's unweighted UniFrac once: it
takes minutes):

- Bray–Curtis: gutjoint.beta_diversity(df, "braycurtis") vs skbio.diversity.beta_diversity;
- unweighted UniFrac: gutjoint.beta_diversity(df, "unweighted_unifrac", tree=TreeNode) vs
  skbio.diversity.beta_diversity("unweighted_unifrac", ..., tree=TreeNode).

Both sides start from data in memory and end with a skbio.DistanceMatrix: gutjoint from the
float DataFrame and the TreeNode (its times include converting both), scikit-bio from the
integer count array (its fastest input) and the same TreeNode.
Prints each ratio and checks the answers agree within 1e-12 (exit 1 otherwise).

--breakdown also times the parts of gutjoint's Bray–Curtis call (best of --repeat each): the
DataFrame → engine table conversion, the kernel alone (condensed vector), the kernel with the
square matrix filled for scikit-bio, and wrapping that array in a DistanceMatrix.
"""

import argparse
import sys
import time

import numpy as np
import pandas as pd

import gutjoint
import skbio
from skbio.diversity import beta_diversity as sk_beta


def make_counts(rng, n, d, density=0.05):
    mask = rng.random((n, d)) < density
    counts = np.zeros((n, d), dtype=np.int64)
    counts[mask] = rng.geometric(0.05, size=int(mask.sum()))
    for i in np.flatnonzero(counts.sum(axis=1) == 0):
        counts[i, rng.integers(d)] = 1
    return counts


def make_tree(rng, names):
    nodes = [f"{n}:{rng.integers(10, 1025) / 1024}" for n in names]
    while len(nodes) > 2:
        i, j = sorted(rng.choice(len(nodes), size=2, replace=False).tolist())
        b, a = nodes.pop(j), nodes.pop(i)
        nodes.append(f"({a},{b}):{rng.integers(10, 1025) / 1024}")
    return skbio.TreeNode.read([f"({nodes[0]},{nodes[1]});"])


def best(f, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def breakdown(df, repeat):
    """Where gutjoint's Bray–Curtis call spends its time (the steps beta_diversity takes)."""
    from gutjoint import _convert, _gutjoint

    t_table, native = best(lambda: _convert.to_table(df), repeat)
    t_kernel, _ = best(lambda: _gutjoint.beta(native, "braycurtis"), repeat)
    t_square, square = best(lambda: _gutjoint.beta(native, "braycurtis", square=True), repeat)
    t_wrap, _ = best(lambda: skbio.DistanceMatrix(square, native.sample_ids, validate=False),
                     repeat)
    print(f"  DataFrame -> engine table {1e3 * t_table:.1f} ms; kernel (condensed) "
          f"{1e3 * t_kernel:.1f} ms; kernel + square fill {1e3 * t_square:.1f} ms "
          f"(fill {1e3 * (t_square - t_kernel):.1f} ms); DistanceMatrix wrap {1e3 * t_wrap:.2f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--features", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-skbio-unifrac", action="store_true")
    ap.add_argument("--breakdown", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(42)
    counts = make_counts(rng, args.samples, args.features)
    ids = [f"S{i}" for i in range(args.samples)]
    taxa = [f"F{j}" for j in range(args.features)]
    df = pd.DataFrame(counts.astype(float), index=ids, columns=taxa)
    tree = make_tree(rng, taxa)
    print(f"table {args.samples} samples × {args.features} features, "
          f"{100 * (counts == 0).mean():.1f}% zeros; gutjoint {gutjoint.__version__}, "
          f"scikit-bio {skbio.__version__}")
    failed = False

    t_ours, ours = best(lambda: gutjoint.beta_diversity(df, "braycurtis"), args.repeat)
    # scikit-bio gets its fastest input, the integer count array
    t_sk, theirs = best(lambda: sk_beta("braycurtis", counts, ids=ids), args.repeat)
    diff = float(np.max(np.abs(ours.data - theirs.data)))
    print(f"braycurtis: gutjoint {t_ours:.3f} s, scikit-bio {t_sk:.3f} s, "
          f"ratio {t_sk / t_ours:.1f}x, max |diff| {diff:.2e}")
    failed |= diff > 1e-12
    if args.breakdown:
        breakdown(df, args.repeat)

    t_ours, ours = best(lambda: gutjoint.beta_diversity(df, "unweighted_unifrac", tree=tree),
                        args.repeat)
    print(f"unweighted_unifrac: gutjoint {t_ours:.3f} s (best of {args.repeat})")
    if not args.skip_skbio_unifrac:
        t = time.perf_counter()
        theirs = sk_beta("unweighted_unifrac", counts, ids=ids, taxa=taxa, tree=tree)
        t_sk = time.perf_counter() - t
        diff = float(np.max(np.abs(ours.data - theirs.data)))
        print(f"unweighted_unifrac: scikit-bio {t_sk:.3f} s (one run), ratio "
              f"{t_sk / t_ours:.1f}x, max |diff| {diff:.2e}")
        failed |= diff > 1e-12
    if failed:
        print("error: answers differ by more than 1e-12", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark gutjoint's ecology commands against their Python peers, and check the answers.

What it measures
----------------
On a synthetic, seeded (numpy default_rng(42)) count table of 2,000 samples x 1,000 features
at 95 % zeros, with a random rooted binary tree over the features and a 3-level grouping:

    task                         gutjoint command                       peer
    Bray-Curtis                  beta --metric braycurtis               skbio beta_diversity
    Jaccard                      beta --metric jaccard                  skbio beta_diversity
    Unweighted UniFrac           beta --metric unweighted_unifrac       unifrac.unweighted
                                                                        (+ skbio, once, 120 s cap)
    Weighted normalized UniFrac  beta --metric weighted_normalized_...  unifrac.weighted_normalized
    Weighted UniFrac             beta --metric weighted_unifrac         unifrac.weighted_unnormalized
    Generalized UniFrac a=0.5    beta --metric generalized_unifrac      unifrac.generalized(alpha=0.5)
    PCoA                         pcoa (on the Bray-Curtis matrix)       skbio pcoa(method='eigh')
    PERMANOVA (999 perms)        permanova --permutations 999           skbio permanova

gutjoint is timed as a subprocess (wall clock, best of 3); its time therefore INCLUDES process
start, reading the table and writing the lsmat output. The skbio peers are timed in-process on
data already in memory (best of 3 when a run takes < 10 s, else 1 run), so their time EXCLUDES
file I/O; for Bray-Curtis the peer is also timed including pandas.read_csv of the same TSV.
The unifrac peer is given file paths (BIOM HDF5 + Newick), so its time includes reading them.

The answers are checked, not just timed: Bray-Curtis and unweighted UniFrac must equal the
peer's to 1e-9 (relative), and PERMANOVA's pseudo-F must agree to 1e-9; the other metrics'
differences are printed for information.

Scale step: Bray-Curtis on 50,000 samples x 2,000 features (20,000 samples when /tmp has under
60 GB free), gutjoint only, under `/usr/bin/time -v`: wall time and maximum RSS. The run gets a
20-minute timeout, an address-space limit (available RAM - 2 GB) so that running out of memory
fails cleanly instead of waking the OOM killer, and a guard that stops it if /tmp falls under
3 GB free. If the 50,000-sample run fails, it is repeated at 20,000 samples. Big files are deleted.

How to run
----------
    pip install scikit-bio==0.7.4 unifrac==1.5 numpy pandas biom-format h5py
    # unifrac 1.5 builds only against conda's libssu; without conda use Debian's 1.2:
    # apt-get install python3-unifrac   (found automatically, see below)
    cargo build --release -p gutjoint-cli
    python bench/compare_ecology.py [--quick] [--gutjoint PATH] [--no-scale]

--quick uses 500 samples and skips the scale step. The gutjoint binary is taken from --gutjoint,
else $GUTJOINT_BIN, else target/release/gutjoint. If `import unifrac` fails in this interpreter
(unifrac 1.5 needs conda's libssu to build), the unifrac peer is run in another interpreter
that has it: --unifrac-python, else /usr/bin/python3 (Debian: `apt-get install python3-unifrac`);
its time is measured inside that interpreter, around the unifrac call only.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PEER_REPEAT_UNDER = 10.0  # seconds: peers faster than this are run 3 times, best kept
SKBIO_UNIFRAC_CAP = 120.0
SCALE_TIMEOUT = 20 * 60


# ---------------------------------------------------------------------------------------------
# data


def make_counts(rng, n_samples, n_features, density=0.05):
    """Samples x features int64 counts, `density` nonzero, nonzeros geometric (>= 1, mean 20)."""
    mask = rng.random((n_samples, n_features)) < density
    counts = np.zeros((n_samples, n_features), dtype=np.int64)
    counts[mask] = rng.geometric(0.05, size=int(mask.sum()))
    for i in np.flatnonzero(counts.sum(axis=1) == 0):  # no empty sample (Bray-Curtis 0/0)
        counts[i, rng.integers(n_features)] = 1
    return counts


def write_biom_tsv(path, counts, sample_ids, feature_ids):
    """BIOM-style TSV: '#OTU ID' header, features as rows, samples as columns."""
    with open(path, "w") as f:
        f.write("#OTU ID\t" + "\t".join(sample_ids) + "\n")
        for j, fid in enumerate(feature_ids):
            f.write(fid + "\t" + "\t".join(map(str, counts[:, j].tolist())) + "\n")


def write_random_tree(path, rng, tips):
    """Random rooted binary tree (random pairwise merges), branch lengths k/1024, k in 10..1024.

    The lengths are exact in float32: libssu (the unifrac package's engine) parses Newick
    lengths in single precision, which alone moves its UniFrac values by ~1e-9 relative from
    any float64 implementation (skbio, gutjoint) on 6-decimal lengths. Dyadic lengths make
    every implementation see the same tree, so the 1e-9 check tests the algorithms.
    """
    nodes = list(tips)
    while len(nodes) > 1:
        i, j = sorted(rng.choice(len(nodes), size=2, replace=False).tolist())
        b = nodes[j]
        nodes[j] = nodes[-1]
        nodes.pop()
        a = nodes[i]
        la, lb = rng.integers(10, 1025, size=2) / 1024
        nodes[i] = f"({a}:{la:.10f},{b}:{lb:.10f})"
    with open(path, "w") as f:
        f.write(nodes[0] + "root;\n")


def write_metadata(path, rng, sample_ids):
    groups = rng.choice(["g1", "g2", "g3"], size=len(sample_ids))
    with open(path, "w") as f:
        f.write("sample-id\tgroup\n")
        for s, g in zip(sample_ids, groups):
            f.write(f"{s}\t{g}\n")
    return list(groups)


def write_biom_hdf5(path, counts, sample_ids, feature_ids):
    import biom
    import h5py
    from scipy.sparse import csr_matrix

    table = biom.Table(csr_matrix(counts.T.astype(float)), feature_ids, sample_ids)
    with h5py.File(path, "w") as f:
        table.to_hdf5(f, "bench")


# ---------------------------------------------------------------------------------------------
# timing and checking helpers


COMPUTE = {}  # command key -> best compute-only seconds reported by gutjoint --timings


def run_gutjoint(argv, reps=3):
    """Best wall time of `reps` runs of a gutjoint command; returns (seconds, stdout). The
    command runs with --timings, and its best compute-phase time (reading and writing
    excluded) is kept in COMPUTE under the command line."""
    best, out = float("inf"), ""
    compute = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        p = subprocess.run(argv + ["--timings"], capture_output=True, text=True)
        t = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()}")
        best, out = min(best, t), p.stdout
        for line in p.stderr.splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[0] == "timing" and parts[1] == "compute":
                compute = min(compute, float(parts[2]))
    COMPUTE[" ".join(argv)] = compute
    global LAST_COMPUTE
    LAST_COMPUTE = compute
    return best, out


LAST_COMPUTE = float("nan")


def time_peer(fn):
    """Runs fn once; if it took < 10 s, twice more. Returns (best seconds, runs, last result)."""
    t0 = time.perf_counter()
    res = fn()
    times = [time.perf_counter() - t0]
    if times[0] < PEER_REPEAT_UNDER:
        for _ in range(2):
            t0 = time.perf_counter()
            res = fn()
            times.append(time.perf_counter() - t0)
    return min(times), len(times), res


def read_lsmat(path, expected_ids):
    import pandas as pd

    df = pd.read_csv(path, sep="\t", index_col=0)
    ids = [str(x) for x in df.index]
    assert ids == list(expected_ids), f"{path}: sample order differs from the table's"
    assert [str(c) for c in df.columns] == ids, f"{path}: column ids differ from row ids"
    return df.to_numpy(dtype=float)


def max_rel_diff(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, f"shape {a.shape} vs {b.shape}"
    den = np.maximum(np.abs(a), np.abs(b))
    diff = np.abs(a - b)
    rel = np.where(den > 0, diff / np.where(den > 0, den, 1.0), 0.0)
    return float(rel.max()) if rel.size else 0.0


# ---------------------------------------------------------------------------------------------
# unifrac peer (possibly in another interpreter)

UNIFRAC_HELPER = r"""
import json, sys, time
import numpy as np
import unifrac
biom_fp, tree_fp, method, alpha, out, repeat_under = sys.argv[1:7]
fn = getattr(unifrac, method)
kw = {"alpha": float(alpha)} if method == "generalized" else {}
times = []
for k in range(3):
    t0 = time.perf_counter()
    dm = fn(biom_fp, tree_fp, **kw)
    times.append(time.perf_counter() - t0)
    if times[0] >= float(repeat_under):
        break
np.save(out, np.asarray(dm.data, dtype=float))
try:
    from importlib.metadata import version
    v = version("unifrac")
except Exception:
    v = "?"
print(json.dumps({"times": times, "ids": [str(i) for i in dm.ids], "version": v,
                  "file": unifrac.__file__}))
"""


def find_unifrac_python(explicit):
    cands = [explicit] if explicit else [sys.executable, "/usr/bin/python3"]
    for py in cands:
        if py and os.path.exists(py):
            p = subprocess.run([py, "-c", "import unifrac"], capture_output=True)
            if p.returncode == 0:
                return py
    return None


def run_unifrac_peer(py, biom_fp, tree_fp, method, alpha, out_npy):
    p = subprocess.run(
        [py, "-c", UNIFRAC_HELPER, biom_fp, tree_fp, method, str(alpha), out_npy,
         str(PEER_REPEAT_UNDER)],
        capture_output=True, text=True,
    )
    if p.returncode != 0:
        raise RuntimeError(f"unifrac.{method} failed: {p.stderr.strip()[-2000:]}")
    info = json.loads(p.stdout.strip().splitlines()[-1])
    return min(info["times"]), len(info["times"]), info, np.load(out_npy)


SKBIO_UU_HELPER = r"""
import sys, time
import numpy as np
from skbio import TreeNode
from skbio.diversity import beta_diversity
counts_fp, tree_fp, out = sys.argv[1:4]
z = np.load(counts_fp, allow_pickle=False)
counts, ids, taxa = z["counts"], [str(s) for s in z["ids"]], [str(t) for t in z["taxa"]]
tree = TreeNode.read(tree_fp)
print("READY", flush=True)
t0 = time.perf_counter()
dm = beta_diversity("unweighted_unifrac", counts, ids, tree=tree, taxa=taxa)
t = time.perf_counter() - t0
np.save(out, dm.data)
print("DONE", t, flush=True)
"""


def run_skbio_uu_capped(counts_npz, tree_fp, out_npy, cap):
    """skbio unweighted UniFrac, once, killed after `cap` seconds of computing (load not timed)."""
    p = subprocess.Popen(
        [sys.executable, "-c", SKBIO_UU_HELPER, counts_npz, tree_fp, out_npy],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = p.stdout.readline()
    if not line.startswith("READY"):
        p.kill()
        _, err = p.communicate()
        raise RuntimeError(f"skbio UniFrac helper failed: {err.strip()[-2000:]}")
    try:
        out, err = p.communicate(timeout=cap + 5)  # +5 s: numpy save and exit
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None, None
    if p.returncode != 0:
        raise RuntimeError(f"skbio UniFrac helper failed: {err.strip()[-2000:]}")
    t = float(out.strip().split()[-1])
    if t > cap:
        return None, None
    return t, np.load(out_npy)


# ---------------------------------------------------------------------------------------------
# whole process against whole process (issue #19): each side starts, reads the input files,
# computes and writes its distance matrix; wall clock of the process, best of 3 (1 run when a
# run takes >= 10 s).

SKBIO_BC_PROCESS = r"""
import sys
import pandas as pd
from skbio.diversity import beta_diversity
table_fp, out = sys.argv[1:3]
df = pd.read_csv(table_fp, sep="\t", index_col=0)
dm = beta_diversity("braycurtis", df.to_numpy().T, [str(c) for c in df.columns])
dm.write(out)
"""

# The same, saving the binary matrix as gutjoint's `-o DM.npy` does (condensed triangle, ids in
# DM.npy.ids.txt), so both sides skip the text.
SKBIO_BC_NPY_PROCESS = r"""
import sys
import numpy as np
import pandas as pd
from skbio.diversity import beta_diversity
table_fp, out = sys.argv[1:3]
df = pd.read_csv(table_fp, sep="\t", index_col=0)
dm = beta_diversity("braycurtis", df.to_numpy().T, [str(c) for c in df.columns])
np.save(out, dm.condensed_form())
with open(out + ".ids.txt", "w") as f:
    f.write("".join(f"{i}\n" for i in dm.ids))
"""


def time_process(argv, env=None, output=None):
    """Best wall time of a whole process (1 run if the first takes >= 10 s, else 3). `output`,
    if given, is deleted before each run, so that every run writes a new file: overwriting a
    70 MB output makes the kernel free the old file's cached pages inside the timed process
    (~30 ms here), which a peer that runs once never pays."""
    times = []
    for _ in range(3):
        if output is not None and os.path.exists(output):
            os.remove(output)
        t0 = time.perf_counter()
        p = subprocess.run(argv, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
        if times[0] >= PEER_REPEAT_UNDER:
            break
    return min(times), len(times)


def whole_process(gj, P, sids, upy):
    """Rows (task, gutjoint s, peer, peer s, runs, kind) and checks (what, diff, required) of
    the whole-process comparisons: Bray-Curtis against a Python process (pandas.read_csv,
    skbio beta_diversity, DistanceMatrix.write), UniFrac against Striped UniFrac's `ssu`
    (Debian unifrac-tools) writing its text matrix, and against the unifrac package timed
    inside its interpreter (files read, no start-up, nothing written)."""
    rows, checks = [], []
    def lsmat_diff(ours, theirs):
        return max_rel_diff(read_lsmat(ours, sids), read_lsmat(theirs, sids))

    def npy_diff(ours, theirs):
        same_ids = open(ours + ".ids.txt").read() == open(theirs + ".ids.txt").read()
        return max_rel_diff(np.load(ours), np.load(theirs)) if same_ids else float("inf")

    # Text out on both sides, then binary out on both sides (gutjoint's `-o DM.npy`).
    for task, ext, script, peer, what, diff in (
        ("Bray-Curtis", "tsv", SKBIO_BC_PROCESS, "python: read_csv + skbio + DistanceMatrix.write",
         "Bray-Curtis whole process vs skbio's written lsmat", lsmat_diff),
        ("Bray-Curtis, .npy out", "npy", SKBIO_BC_NPY_PROCESS, "python: read_csv + skbio + np.save",
         "Bray-Curtis .npy vs skbio's saved condensed matrix (and the same ids)", npy_diff),
    ):
        ours, theirs = P(f"wp_gj_braycurtis.{ext}"), P(f"wp_skbio_braycurtis.{ext}")
        g, _ = time_process([gj, "beta", P("table.tsv"), "--metric", "braycurtis", "-o", ours,
                             "--quiet"], output=ours)
        s, runs = time_process([sys.executable, "-c", script, P("table.tsv"), theirs],
                               output=theirs)
        rows.append((task, g, peer, s, runs))
        checks.append((what, diff(ours, theirs), True))

    ssu = shutil.which("ssu")
    for name, flags, ssu_method, alpha, py_method in (
        ("Unweighted UniFrac", ["--metric", "unweighted_unifrac"], "unweighted_fp64", None,
         "unweighted_fp64"),
        ("Generalized UniFrac a=0.5", ["--metric", "generalized_unifrac", "--alpha", "0.5"],
         "generalized", 0.5, "generalized"),
    ):
        gj_out = P(f"wp_gj_{ssu_method}.tsv")
        g, _ = time_process([gj, "beta", P("table.tsv"), *flags, "--tree", P("tree.nwk"),
                             "-o", gj_out, "--quiet"], output=gj_out)
        gj_dm = read_lsmat(gj_out, sids)
        required = ssu_method == "unweighted_fp64"
        if ssu:
            out = P(f"wp_ssu_{ssu_method}.txt")
            argv = [ssu, "-i", P("table.biom"), "-t", P("tree.nwk"), "-m", ssu_method, "-o", out]
            if alpha is not None:
                argv += ["-a", str(alpha)]
            s, runs = time_process(argv, output=out)
            rows.append((name, g, f"ssu -m {ssu_method} (writes its text matrix)", s, runs))
            checks.append((f"{name} whole process vs ssu {ssu_method}",
                           max_rel_diff(gj_dm, read_lsmat(out, sids)), required))
        if upy:
            s, runs, _, peer = run_unifrac_peer(upy, P("table.biom"), P("tree.nwk"), py_method,
                                                alpha or 0.0, P(f"wp_py_{py_method}.npy"))
            rows.append((name, g, f"unifrac.{py_method} in its interpreter", s, runs))
            checks.append((f"{name} whole process vs unifrac.{py_method}",
                           max_rel_diff(gj_dm, peer), required))
    return rows, checks, ssu


def report_checks(checks):
    """Prints each check; returns the names of the required ones that failed (> 1e-9)."""
    failed = []
    for what, d, required in checks:
        flag = ("OK" if d <= 1e-9 else "FAIL") if required else "info"
        print(f"  {what:<62} {d:.3e}  [{flag}{' <= 1e-9' if required else ''}]")
        if required and d > 1e-9:
            failed.append(what)
    return failed


def print_whole_process(rows, ssu):
    print()
    print("whole process against whole process (start, read the input files, compute, write):")
    print(f"{'task':<28}{'gutjoint s':>11}  {'peer':<48}{'peer s':>9}{'ratio':>9}")
    print("-" * 105)
    for task, g, pname, s, runs in rows:
        pname = pname + (" (1 run)" if runs == 1 else "")
        print(f"{task:<28}{g:>11.3f}  {pname:<48}{s:>9.3f}{s / g:>8.1f}x")
    print("gutjoint: `beta ... -o DM.tsv` (lsmat), best of 3 wall clock, all cores on both sides.")
    print("`unifrac.<m> in its interpreter` is the unifrac package's call on file paths, timed")
    print("inside the already started interpreter: it excludes Python's start-up and writes")
    print("nothing, so it is a lower bound of a whole process.")
    if not ssu:
        print("ssu (Debian unifrac-tools: Striped UniFrac's command line) not found: skipped.")


# ---------------------------------------------------------------------------------------------
# scale step


def parse_time_v(stderr):
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    secs = None
    if wall:
        parts = [float(x) for x in wall.group(1).split(":")]
        secs = sum(v * 60 ** (len(parts) - 1 - k) for k, v in enumerate(parts))
    return secs, (int(rss.group(1)) if rss else None)


def mem_available_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return None


def write_big_table(path, n_samples, n_features, seed=42):
    """Streams a features-as-rows count TSV, one feature row at a time (low memory)."""
    rng = np.random.default_rng(seed)
    with open(path, "w", buffering=1 << 22) as f:
        f.write("#OTU ID\t" + "\t".join(f"S{i}" for i in range(n_samples)) + "\n")
        for j in range(n_features):
            row = np.zeros(n_samples, dtype=np.int64)
            mask = rng.random(n_samples) < 0.05
            row[mask] = rng.geometric(0.05, size=int(mask.sum()))
            f.write(f"F{j}\t" + "\t".join(map(str, row.tolist())) + "\n")


def run_scale(gj, workdir, n_samples, n_features=2000):
    time_bin = shutil.which("time") and "/usr/bin/time"
    if not os.path.exists("/usr/bin/time"):
        print("  /usr/bin/time missing: installing the `time` package")
        subprocess.run(["apt-get", "install", "-y", "time"], capture_output=True)
        time_bin = "/usr/bin/time"
    big = os.path.join(workdir, "big.tsv")
    # The scale target is f32; 50,000 samples make 1.25e9 distances, written as scipy's
    # condensed vector (.npy, 5 GB) rather than ~25 GB of lsmat text.
    big_dm = os.path.join(workdir, "big_dm.npy")
    t0 = time.perf_counter()
    write_big_table(big, n_samples, n_features)
    print(f"  generated {n_samples} x {n_features} table: {os.path.getsize(big) / 1e6:.0f} MB "
          f"in {time.perf_counter() - t0:.0f} s")
    avail = mem_available_bytes()
    limit = max(avail - (2 << 30), 1 << 30) if avail else None

    def preexec():
        os.setsid()
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    if limit:
        print(f"  address-space limit for the run: {limit / 2**30:.1f} GiB "
              f"(MemAvailable {avail / 2**30:.1f} GiB - 2 GiB)")
    argv = [time_bin, "-v", gj, "beta", big, "--metric", "braycurtis", "--precision", "f32", "-o", big_dm, "--quiet"]
    print("  $ " + " ".join(argv))
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=preexec)
    stopped = {"why": None}

    def disk_guard():
        while p.poll() is None:
            if shutil.disk_usage(workdir).free < (3 << 30):
                stopped["why"] = "stopped: /tmp fell under 3 GB free"
                os.killpg(p.pid, signal.SIGKILL)
                return
            time.sleep(2)

    threading.Thread(target=disk_guard, daemon=True).start()
    peak_out = 0
    try:
        _, err = p.communicate(timeout=SCALE_TIMEOUT)
    except subprocess.TimeoutExpired:
        stopped["why"] = f"TIMED OUT after {SCALE_TIMEOUT / 60:.0f} min"
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate()
    for fn in os.listdir(workdir):
        if fn.startswith(".big_dm") or fn == "big_dm.npy":
            peak_out = max(peak_out, os.path.getsize(os.path.join(workdir, fn)))
    wall, rss_kb = parse_time_v(err)
    status = re.search(r"Exit status: (\d+)", err)
    sig = re.search(r"Command terminated by signal (\d+)", err)
    ok = stopped["why"] is None and p.returncode == 0
    result = {
        "samples": n_samples, "features": n_features, "ok": ok, "wall": wall,
        "rss_gib": rss_kb / 2**20 if rss_kb else None,
        "out_gb": peak_out / 1e9,
        "why": stopped["why"] or (None if ok else (
            f"killed by signal {sig.group(1)}" if sig else
            f"exit status {status.group(1)}" if status else f"return code {p.returncode}")),
        # gutjoint's own stderr: what comes before /usr/bin/time's report
        "stderr_tail": re.split(r"Command (?:being timed|terminated by signal)", err)[0].strip(),
    }
    for fpath in (big, big_dm, big_dm + ".ids.txt"):
        if os.path.exists(fpath):
            os.remove(fpath)
    for fn in os.listdir(workdir):  # the atomic writer's leftovers, if killed
        if fn.startswith(".big_dm"):
            os.remove(os.path.join(workdir, fn))
    return result


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="500 samples, no scale step")
    ap.add_argument("--gutjoint", default=os.environ.get("GUTJOINT_BIN"))
    ap.add_argument("--unifrac-python", default=None)
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--whole-process-only", action="store_true",
                    help="only the whole-process comparisons (Bray-Curtis, UniFrac vs ssu)")
    args = ap.parse_args()

    gj = args.gutjoint or os.path.join(REPO, "target", "release", "gutjoint")
    if not os.path.exists(gj):
        sys.exit(f"gutjoint binary not found: {gj} (cargo build --release -p gutjoint-cli)")
    for var in ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.pop(var, None)  # both sides use every core

    import pandas as pd
    import scipy
    import skbio
    from skbio import DistanceMatrix, TreeNode
    from skbio.diversity import beta_diversity
    from skbio.stats.distance import permanova
    from skbio.stats.ordination import pcoa

    n_samples = 500 if args.quick else 2000
    n_features = 1000
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    gj_version = subprocess.run([gj, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"nproc: {nproc}   (no OMP_NUM_THREADS / RAYON_NUM_THREADS set: all cores on both sides)")
    print(f"gutjoint: {gj} ({gj_version})")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"pandas {pd.__version__}, scikit-bio {skbio.__version__}")

    workdir = tempfile.mkdtemp(prefix="gutjoint-bench-", dir="/tmp")
    try:
        rng = np.random.default_rng(42)
        sids = [f"S{i}" for i in range(n_samples)]
        fids = [f"F{j}" for j in range(n_features)]
        counts = make_counts(rng, n_samples, n_features)
        P = lambda name: os.path.join(workdir, name)  # noqa: E731
        write_biom_tsv(P("table.tsv"), counts, sids, fids)
        write_random_tree(P("tree.nwk"), rng, fids)
        groups = write_metadata(P("md.tsv"), rng, sids)
        write_biom_hdf5(P("table.biom"), counts, sids, fids)
        np.savez(P("counts.npz"), counts=counts, ids=np.array(sids), taxa=np.array(fids))
        print(f"data: {n_samples} samples x {n_features} features, "
              f"{100 * (1 - np.count_nonzero(counts) / counts.size):.1f}% zeros, "
              f"TSV {os.path.getsize(P('table.tsv')) / 1e6:.1f} MB, in {workdir}")
        tree = TreeNode.read(P("tree.nwk"))

        upy = find_unifrac_python(args.unifrac_python)
        rows, checks, notes = [], [], []
        if args.whole_process_only:
            wp_rows, wp_checks, ssu = whole_process(gj, P, sids, upy)
            print_whole_process(wp_rows, ssu)
            print()
            print("checks (max relative difference |a-b|/max(|a|,|b|)):")
            failed = report_checks(wp_checks)
            if failed:
                print("\nFAILED checks: " + ", ".join(failed))
                sys.exit(1)
            return

        def row(task, gj_s, peer_name, peer_s, peer_runs, incl_read=None):
            rows.append((task, gj_s, peer_name, peer_s, peer_runs, incl_read, LAST_COMPUTE))

        # -- Bray-Curtis and Jaccard ----------------------------------------------------------
        for metric in ("braycurtis", "jaccard"):
            out = P(f"dm_{metric}.tsv")
            gj_s, _ = run_gutjoint([gj, "beta", P("table.tsv"), "--metric", metric, "-o", out,
                                    "--quiet"])
            peer_s, runs, peer_dm = time_peer(lambda: beta_diversity(metric, counts, sids))
            incl = None
            if metric == "braycurtis":
                def with_read():
                    df = pd.read_csv(P("table.tsv"), sep="\t", index_col=0)
                    return beta_diversity(metric, df.to_numpy().T, [str(c) for c in df.columns])
                incl, _, _ = time_peer(with_read)
            name = "Bray-Curtis" if metric == "braycurtis" else "Jaccard"
            row(name, gj_s, "skbio beta_diversity", peer_s, runs, incl)
            d = max_rel_diff(read_lsmat(out, sids), peer_dm.data)
            checks.append((f"{name} matrix vs skbio", d, metric == "braycurtis"))
            if metric == "braycurtis":
                bc_dm = peer_dm
        shutil.copy(P("dm_braycurtis.tsv"), P("dm.tsv"))

        # -- UniFrac family -------------------------------------------------------------------
        unifrac_tasks = [
            ("Unweighted UniFrac", ["--metric", "unweighted_unifrac"], "unweighted", None),
            ("Weighted normalized UniFrac", ["--metric", "weighted_normalized_unifrac"],
             "weighted_normalized", None),
            ("Weighted UniFrac", ["--metric", "weighted_unifrac"], "weighted_unnormalized", None),
            ("Generalized UniFrac a=0.5", ["--metric", "generalized_unifrac", "--alpha", "0.5"],
             "generalized", 0.5),
        ]
        unifrac_desc = None
        for name, flags, method, alpha in unifrac_tasks:
            out = P(f"dm_{method}.tsv")
            gj_s, _ = run_gutjoint([gj, "beta", P("table.tsv"), *flags, "--tree", P("tree.nwk"),
                                    "-o", out, "--quiet"])
            gj_dm = read_lsmat(out, sids)
            if upy is None:
                row(name, gj_s, "unifrac (not installed)", None, 0)
                notes.append("unifrac package not importable: UniFrac peers skipped")
            # the unifrac package's plain names compute in float32 (libssu's default);
            # the _fp64 variants are the like-for-like peer of gutjoint's float64
            # (not for generalized: libssu 1.2's generalized_fp64/_fp32 ignore alpha and return
            # weighted normalized UniFrac, identical to weighted_normalized_fp64)
            variants = [method] if method == "generalized" else [method, method + "_fp64"]
            for variant in ([] if upy is None else variants):
                try:
                    peer_s, runs, info, peer = run_unifrac_peer(
                        upy, P("table.biom"), P("tree.nwk"), variant, alpha or 0.0,
                        P(f"peer_{variant}.npy"))
                    unifrac_desc = f"unifrac {info['version']} ({info['file']}, python {upy})"
                    row(name, gj_s, f"unifrac.{variant}", peer_s, runs)
                    assert info["ids"] == sids, "unifrac returned samples in another order"
                    checks.append((f"{name} vs unifrac.{variant}", max_rel_diff(gj_dm, peer),
                                   variant == "unweighted_fp64"))
                except Exception as e:  # report and go on
                    row(name, gj_s, f"unifrac.{variant} FAILED", None, 0)
                    notes.append(f"unifrac.{variant} failed: {e}")
            if method == "unweighted":
                t, sk = run_skbio_uu_capped(P("counts.npz"), P("tree.nwk"), P("skbio_uu.npy"),
                                            SKBIO_UNIFRAC_CAP)
                if t is None:
                    row(name, gj_s, "skbio beta_diversity", f"> {SKBIO_UNIFRAC_CAP:.0f} s", 1)
                else:
                    row(name, gj_s, "skbio beta_diversity", t, 1)
                    checks.append((f"{name} vs skbio", max_rel_diff(gj_dm, sk), True))

        # -- PCoA -----------------------------------------------------------------------------
        gj_s, _ = run_gutjoint([gj, "pcoa", P("dm.tsv"), "-o", P("pcoa.tsv"), "--quiet"])
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # negative-eigenvalue warning
            peer_s, runs, ord_res = time_peer(lambda: pcoa(bc_dm, method="eigh"))
        row("PCoA (Bray-Curtis)", gj_s, "skbio pcoa(eigh)", peer_s, runs)
        gj_pc = pd.read_csv(P("pcoa.tsv"), sep="\t", index_col=0)
        k = 3
        a = np.abs(gj_pc.iloc[:, :k].to_numpy())
        b = np.abs(ord_res.samples.iloc[:, :k].to_numpy())
        checks.append(("PCoA |PC1..PC3| coordinates vs skbio", max_rel_diff(a, b), False))

        # -- PERMANOVA ------------------------------------------------------------------------
        gj_s, out = run_gutjoint([gj, "permanova", P("dm.tsv"), "--metadata", P("md.tsv"),
                                  "--column", "group", "--permutations", "999", "--seed", "1",
                                  "--json"])
        gj_perm = json.loads(out)
        md = pd.DataFrame({"group": groups}, index=sids)
        peer_s, runs, sk_perm = time_peer(
            lambda: permanova(bc_dm, md, column="group", permutations=999))
        row("PERMANOVA (999 perms)", gj_s, "skbio permanova", peer_s, runs)
        gj_f = None
        for key in ("test_statistic", "test statistic", "pseudo_f", "pseudo-F", "F", "statistic"):
            if isinstance(gj_perm, dict) and key in gj_perm:
                gj_f = float(gj_perm[key])
                break
        if gj_f is None:
            raise RuntimeError(f"no pseudo-F in gutjoint's permanova JSON: {out[:500]}")
        sk_f = float(sk_perm["test statistic"])
        checks.append(("PERMANOVA pseudo-F vs skbio", max_rel_diff([gj_f], [sk_f]), True))
        gj_p = next((gj_perm[k] for k in ("p_value", "p-value", "p") if k in gj_perm), "?")
        notes.append(f"PERMANOVA: gutjoint F={gj_f:.10g} p={gj_p}; skbio F={sk_f:.10g} "
                     f"p={sk_perm['p-value']} (p-values differ by permutation RNG only)")

        # -- report ---------------------------------------------------------------------------
        print()
        print(f"{'task':<30}{'gutjoint s':>11}{'compute s':>11}  {'peer':<40}{'peer s':>9}{'ratio':>9}"
              f"{'ratio compute':>15}{'peer incl. read s':>19}")
        print("-" * 144)
        for task, g, pname, ps, runs, incl, comp in rows:
            if isinstance(ps, str):
                pss, ratio, rc = ps, "-", "-"
            elif ps is None:
                pss, ratio, rc = "-", "-", "-"
            else:
                pss, ratio = f"{ps:.3f}", f"{ps / g:.1f}x"
                rc = f"{ps / comp:.1f}x" if comp == comp and comp > 0 else "-"
            pname = pname + (" (1 run)" if runs == 1 else "")
            incs = f"{incl:.3f}" if incl is not None else ""
            cs = f"{comp:.3f}" if comp == comp and comp != float("inf") else "-"
            print(f"{task:<30}{g:>11.3f}{cs:>11}  {pname:<40}{pss:>9}{ratio:>9}{rc:>15}{incs:>19}")
        print()
        print("ratio = peer s / gutjoint s (> 1: gutjoint faster). gutjoint: best of 3, wall clock")
        print("of the whole process (start + read TSV + compute + write lsmat/TSV output).")
        print("'compute s' is gutjoint's own compute phase (--timings: reading and writing excluded),")
        print("'ratio compute' compares it with the peer's in-memory time: like against like.")
        print("skbio peers: in-process on data already in memory, file I/O EXCLUDED; best of 3")
        print("when < 10 s. 'peer incl. read' adds pandas.read_csv of the same TSV.")
        if unifrac_desc:
            print(f"unifrac peer: {unifrac_desc}; called on file paths (BIOM HDF5 + Newick), so")
            print("its time includes reading them; timed inside its interpreter (no start-up).")
            print("unifrac.<metric> is libssu's float32 default; unifrac.<metric>_fp64 is float64.")
            print("No generalized_fp64 row: in libssu 1.2 it ignores alpha (returns weighted")
            print("normalized UniFrac), so only the float32 unifrac.generalized is a valid peer.")
        wp_rows, wp_checks, ssu = whole_process(gj, P, sids, upy)
        print_whole_process(wp_rows, ssu)
        print()
        print("checks (max relative difference |a-b|/max(|a|,|b|)):")
        failed = report_checks(checks + wp_checks)
        for n in notes:
            print("  note: " + n)

        # -- scale ----------------------------------------------------------------------------
        if args.quick or args.no_scale:
            print("\nscale step: skipped (--quick / --no-scale)")
        else:
            print("\nscale step: gutjoint beta --metric braycurtis, 2,000 features, 95% zeros")
            free = shutil.disk_usage("/tmp").free
            print(f"  df -h /tmp: {free / 2**30:.0f} GiB free")
            big_n = 50_000 if free >= 60 * 2**30 else 20_000
            if big_n == 20_000:
                print("  under 60 GB free: using 20,000 samples instead of 50,000")
            results = [run_scale(gj, workdir, big_n)]
            if not results[-1]["ok"] and big_n != 20_000:
                print(f"  {big_n} samples failed ({results[-1]['why']}): repeating at 20,000")
                results.append(run_scale(gj, workdir, 20_000))
            print()
            print(f"  {'samples':>8} {'features':>9} {'result':<34}{'wall s':>9}{'max RSS GiB':>13}"
                  f"{'output GB':>11}")
            for r in results:
                res = "ok" if r["ok"] else f"FAILED: {r['why']}"
                wall = f"{r['wall']:.1f}" if r["wall"] is not None else "-"
                rss = f"{r['rss_gib']:.2f}" if r["rss_gib"] is not None else "-"
                print(f"  {r['samples']:>8} {r['features']:>9} {res:<34}{wall:>9}{rss:>13}"
                      f"{r['out_gb']:>11.1f}")
            for r in results:
                if not r["ok"] and r["stderr_tail"]:
                    lines = r["stderr_tail"].splitlines()
                    print(f"  gutjoint's stderr in the {r['samples']}-sample run "
                          f"({len(lines)} lines, first 6):")
                    for line in lines[:6]:
                        print("    " + line[:200])
            print("  (big table and distance matrix deleted)")

        if failed:
            print("\nFAILED checks: " + ", ".join(failed))
            sys.exit(1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

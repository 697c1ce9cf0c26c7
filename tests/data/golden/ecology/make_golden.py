#!/usr/bin/env python3
"""Generate golden ecology reference values for gutjoint's tests.

    pip install scikit-bio==0.7.4
    apt-get install -y r-base-core r-cran-gunifrac python3-unifrac   # Debian 12
    python tests/data/golden/ecology/make_golden.py

Everything is written next to this script. Inputs are read from
<repo>/examples/data/phyloseq/ (repo root derived from __file__). See README.md
for what each output file holds and the conventions behind each number.

Steps:
  1. write the tiny hand-checkable inputs (tiny_table.tsv, tiny_tree.nwk);
  2. Rscript make_gunifrac.R            -> crosscheck/gunifrac_*.lsmat.tsv
  3. $UNIFRAC_PYTHON make_unifrac_pkg.py -> crosscheck/unifrac_*.lsmat.tsv
     (default /usr/bin/python3, i.e. Debian's python3-unifrac)
  4. scikit-bio alpha / beta / PCoA / PERMANOVA / PERMDISP golden files;
     generalized UniFrac golden files are taken from GUniFrac (step 2);
  5. crosscheck_summary.tsv: max abs / rel differences between implementations.
"""
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import skbio
from scipy.spatial.distance import pdist, squareform
from skbio import DistanceMatrix, TreeNode
from skbio.diversity import alpha_diversity, beta_diversity
from skbio.stats.composition import clr
from skbio.stats.distance import permanova, permdisp
from skbio.stats.ordination import pcoa

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]  # tests/data/golden/ecology -> repo root
DATA = REPO / "examples" / "data" / "phyloseq"
CROSS = HERE / "crosscheck"
SEED = 42
PERMUTATIONS = 999
AITCHISON_PSEUDOCOUNT = 1.0

ALPHA_METRICS = [
    "observed_features",
    "shannon",
    "simpson",
    "dominance",
    "berger_parker_d",
    "pielou_e",
    "chao1",
    "faith_pd",
]

# ----------------------------------------------------------------------------
# tiny hand-checkable case
TINY_FEATURES = ["F1", "F2", "F3", "F4", "F5"]
TINY_SAMPLES = ["S1", "S2", "S3", "S4"]
# rows = features, columns = samples. S2 has a single nonzero feature (F2),
# S3 is all singletons, S4 has 2 singletons + 1 doubleton; no all-zero sample,
# every feature present somewhere.
TINY_COUNTS = np.array(
    [
        [10, 0, 1, 2],  # F1
        [0, 7, 1, 1],  # F2
        [5, 0, 1, 0],  # F3
        [3, 0, 1, 4],  # F4
        [2, 0, 1, 1],  # F5
    ],
    dtype=np.int64,
)
# Rooted, binary, dyadic branch lengths (exact in binary floating point).
TINY_NEWICK = "((F1:0.5,F2:0.25)n1:1.0,(F3:0.75,(F4:1.5,F5:0.25)n3:0.5)n2:2.0)root;\n"


def fmt(v):
    """Full-precision text for one value (repr of a Python float / int)."""
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, str):
        return v
    return repr(float(v))


def write_tsv(path, columns, rows):
    with open(path, "w") as fh:
        fh.write("\t".join(columns) + "\n")
        for row in rows:
            fh.write("\t".join(fmt(v) for v in row) + "\n")


def write_dm(dm, path):
    dm.write(str(path), format="lsmat")
    # verify the text round-trips bit-exactly
    back = DistanceMatrix.read(str(path), format="lsmat")
    assert list(back.ids) == list(dm.ids)
    assert np.array_equal(back.data, dm.data), path


def read_features_by_samples(path, dtype):
    """features x samples TSV (R write.table export or '#OTU ID' TSV).

    Returns (samples x features ndarray, sample ids, feature ids) with ids kept
    as strings (pandas would otherwise turn GlobalPatterns' numeric OTU ids
    into ints).
    """
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    first = df.columns[0]
    feats = df[first].tolist()
    samples = list(df.columns[1:])
    vals = df[samples]
    if (vals == "NA").any().any():
        raise ValueError(f"{path}: NA values present")
    # float(str) is correctly rounded (same as Rust's str::parse::<f64>)
    mat = np.array([[float(x) for x in r] for r in vals.to_numpy()], dtype=np.float64)
    if dtype is int:
        assert np.all(mat == np.round(mat)), path
        mat = mat.astype(np.int64)
    return mat.T.copy(), samples, feats


def max_diffs(a, b):
    """max |a-b| and max |a-b|/max(|a|,|b|) over the strict upper triangle."""
    assert list(a.ids) == list(b.ids)
    iu = np.triu_indices(len(a.ids), 1)
    x, y = a.data[iu], b.data[iu]
    absd = np.abs(x - y)
    denom = np.maximum(np.abs(x), np.abs(y))
    rel = np.where(denom > 0, absd / np.where(denom > 0, denom, 1.0), 0.0)
    return float(absd.max()), float(rel.max())


# ----------------------------------------------------------------------------
def alpha_table(counts, sample_ids, feature_ids, tree):
    out = {}
    for m in ALPHA_METRICS:
        kw = {}
        if m in ("shannon", "pielou_e"):
            kw["base"] = None  # skbio 0.7.4: None == natural log (the default)
        if m == "chao1":
            kw["bias_corrected"] = True  # skbio default
        if m == "faith_pd":
            kw.update(taxa=feature_ids, tree=tree)
        s = alpha_diversity(m, counts, ids=sample_ids, **kw)
        out[m] = s.loc[sample_ids].to_numpy()

    # independent numpy re-derivation of the closed-form metrics (sanity)
    for i in range(counts.shape[0]):
        c = counts[i][counts[i] > 0].astype(float)
        n = c.sum()
        p = c / n
        S = c.size
        H = -(p * np.log(p)).sum()
        D = (p * p).sum()
        singles, doubles = (c == 1).sum(), (c == 2).sum()
        exp = {
            "observed_features": S,
            "shannon": H,
            "dominance": D,
            "simpson": 1 - D,
            "berger_parker_d": c.max() / n,
            "pielou_e": 1.0 if S == 1 else H / math.log(S),
            "chao1": S + singles * (singles - 1) / (2 * (doubles + 1)),
        }
        for m, v in exp.items():
            got = out[m][i]
            assert abs(got - v) <= 1e-12 * max(1.0, abs(v)), (m, i, got, v)

    rows = []
    for i, sid in enumerate(sample_ids):
        row = [sid]
        for m in ALPHA_METRICS:
            v = out[m][i]
            row.append(int(v) if m == "observed_features" else float(v))
        rows.append(row)
    return rows


def beta_set(counts, sample_ids, feature_ids, tree):
    dms = {}
    dms["braycurtis"] = beta_diversity("braycurtis", counts, ids=sample_ids)
    # skbio binarises counts (counts > 0) for qualitative metrics such as
    # jaccard before calling scipy's pdist.
    dms["jaccard"] = beta_diversity("jaccard", counts, ids=sample_ids)
    # Aitchison = Euclidean distance between clr(counts + 1) vectors.
    z = clr(counts.astype(np.float64) + AITCHISON_PSEUDOCOUNT)
    dms["aitchison"] = beta_diversity("euclidean", z, ids=sample_ids, validate=False)
    dms["unweighted_unifrac"] = beta_diversity(
        "unweighted_unifrac", counts, ids=sample_ids, taxa=feature_ids, tree=tree
    )
    dms["weighted_unifrac"] = beta_diversity(
        "weighted_unifrac", counts, ids=sample_ids, taxa=feature_ids, tree=tree,
        normalized=False,
    )
    dms["weighted_normalized_unifrac"] = beta_diversity(
        "weighted_unifrac", counts, ids=sample_ids, taxa=feature_ids, tree=tree,
        normalized=True,
    )

    # sanity re-derivations with plain numpy/scipy
    bc = squareform(pdist(counts.astype(float), "braycurtis"))
    assert np.allclose(dms["braycurtis"].data, bc, rtol=1e-13, atol=0)
    pa = counts > 0
    jac = np.zeros_like(bc)
    for i in range(len(sample_ids)):
        for j in range(len(sample_ids)):
            u = np.logical_or(pa[i], pa[j]).sum()
            jac[i, j] = 0.0 if u == 0 else 1.0 - np.logical_and(pa[i], pa[j]).sum() / u
    assert np.allclose(dms["jaccard"].data, jac, rtol=1e-13, atol=0)
    lg = np.log(counts.astype(float) + AITCHISON_PSEUDOCOUNT)
    lg = lg - lg.mean(axis=1, keepdims=True)
    ait = squareform(pdist(lg, "euclidean"))
    assert np.allclose(dms["aitchison"].data, ait, rtol=1e-11, atol=0)
    return dms


def tree_report(tree, feature_ids):
    tips = {t.name for t in tree.tips()}
    feats = set(feature_ids)
    return {
        "root_children": len(tree.children),
        "n_tips": len(tips),
        "table_features_missing_from_tree": len(feats - tips),
        "tree_tips_missing_from_table": len(tips - feats),
    }


def branch_matrix(counts, feature_ids, tree, fp32_lengths=False):
    """Per non-root branch: length and the per-sample proportion of reads below it."""
    col = {f: k for k, f in enumerate(feature_ids)}
    props = counts.astype(np.float64) / counts.sum(axis=1, keepdims=True)
    below, lengths, vecs = {}, [], []
    for node in tree.postorder(include_self=True):
        if node.is_tip():
            v = props[:, col[node.name]] if node.name in col else np.zeros(props.shape[0])
        else:
            v = sum(below.pop(id(c)) for c in node.children)
        below[id(node)] = v
        if not node.is_root():
            ln = float(node.length)
            lengths.append(float(np.float32(ln)) if fp32_lengths else ln)
            vecs.append(v)
    return np.array(lengths), np.array(vecs)  # (branches,), (branches, samples)


def unifrac_numpy(counts, sample_ids, feature_ids, tree, fp32_lengths=False):
    """Independent plain-numpy UniFrac family (for cross-checking only)."""
    bl, V = branch_matrix(counts, feature_ids, tree, fp32_lengths)
    n = len(sample_ids)
    out = {k: np.zeros((n, n)) for k in ("unweighted_unifrac", "weighted_unifrac",
                                          "generalized_unifrac_alpha0.5",
                                          "generalized_unifrac_alpha1.0")}
    for i in range(n):
        for j in range(i + 1, n):
            c1, c2 = V[:, i], V[:, j]
            s = c1 + c2
            m = s > 0
            b, c1, c2, s = bl[m], c1[m], c2[m], s[m]
            p1, p2 = c1 > 0, c2 > 0
            vals = {
                "unweighted_unifrac": (b * (p1 != p2)).sum() / b.sum(),
                "weighted_unifrac": (b * np.abs(c1 - c2)).sum(),
            }
            frac = np.abs(c1 - c2) / s
            for a, key in ((0.5, "generalized_unifrac_alpha0.5"), (1.0, "generalized_unifrac_alpha1.0")):
                w = b * s ** a
                vals[key] = (frac * w).sum() / w.sum()
            for k, v in vals.items():
                out[k][i, j] = out[k][j, i] = v
    return {k: DistanceMatrix(v, sample_ids) for k, v in out.items()}


def run_external():
    """Run GUniFrac (R) and the unifrac package; return what succeeded."""
    CROSS.mkdir(exist_ok=True)
    ok = {"gunifrac": False, "unifrac_pkg": False}
    rscript = shutil.which("Rscript")
    if rscript:
        r = subprocess.run([rscript, str(HERE / "make_gunifrac.R")], capture_output=True, text=True)
        sys.stdout.write(r.stdout)
        if r.returncode == 0:
            ok["gunifrac"] = True
        else:
            sys.stderr.write(r.stderr)
    else:
        print("Rscript not found: skipping GUniFrac")
    upy = os.environ.get("UNIFRAC_PYTHON", "/usr/bin/python3")
    if shutil.which(upy) or os.path.exists(upy):
        r = subprocess.run([upy, str(HERE / "make_unifrac_pkg.py")], capture_output=True, text=True)
        sys.stdout.write(r.stdout)
        if r.returncode == 0:
            ok["unifrac_pkg"] = True
        else:
            sys.stderr.write(r.stderr)
    else:
        print(f"{upy} not found: skipping the unifrac package cross-check")
    return ok


def read_cross(kind, dataset, name, ids):
    dm = DistanceMatrix.read(str(CROSS / f"{kind}_{dataset}_{name}.lsmat.tsv"), format="lsmat")
    return dm.filter(ids)


def generalized_and_crosscheck(dataset, dms, sample_ids, ok, summary, np64, np32):
    """Add generalized UniFrac (alpha 0.5, 1.0) to dms and fill summary rows.

    np64 / np32: unifrac_numpy() results with float64 / float32-rounded
    branch lengths.
    """
    gu_names = {"generalized_unifrac_alpha0.5": "d_0.5", "generalized_unifrac_alpha1.0": "d_1"}
    for golden_name, gname in gu_names.items():
        if ok["gunifrac"]:
            dms[golden_name] = read_cross("gunifrac", dataset, gname, sample_ids)
        elif ok["unifrac_pkg"]:
            dms[golden_name] = read_cross("unifrac", dataset, golden_name, sample_ids)

    def add(metric, ref_name, ref, other_name, other):
        a, r = max_diffs(ref, other)
        summary.append([dataset, metric, ref_name, other_name, a, r])

    if ok["unifrac_pkg"]:
        for m in ("unweighted_unifrac", "weighted_unifrac", "weighted_normalized_unifrac"):
            add(m, "skbio", dms[m], "unifrac_pkg", read_cross("unifrac", dataset, m, sample_ids))
        add("weighted_normalized_unifrac", "skbio", dms["weighted_normalized_unifrac"],
            "unifrac_pkg.generalized(alpha=1)",
            read_cross("unifrac", dataset, "generalized_unifrac_alpha1.0", sample_ids))
    if ok["gunifrac"]:
        add("unweighted_unifrac", "skbio", dms["unweighted_unifrac"], "GUniFrac d_UW",
            read_cross("gunifrac", dataset, "d_UW", sample_ids))
        add("weighted_normalized_unifrac", "skbio", dms["weighted_normalized_unifrac"],
            "GUniFrac d_1", read_cross("gunifrac", dataset, "d_1", sample_ids))
    if ok["gunifrac"] and ok["unifrac_pkg"]:
        for golden_name, gname in gu_names.items():
            add(golden_name, f"GUniFrac {gname}", read_cross("gunifrac", dataset, gname, sample_ids),
                "unifrac_pkg", read_cross("unifrac", dataset, golden_name, sample_ids))
    # independent plain-numpy implementation (float64 branch lengths)
    for m in ("unweighted_unifrac", "weighted_unifrac"):
        add(m, "skbio", dms[m], "numpy_fp64", np64[m])
    for golden_name in gu_names:
        if golden_name in dms:
            src = "GUniFrac" if ok["gunifrac"] else "unifrac_pkg"
            add(golden_name, f"golden ({src})", dms[golden_name], "numpy_fp64", np64[golden_name])
    # libssu keeps branch lengths in float32: numpy with float32-rounded
    # lengths reproduces the unifrac package to ~1e-15.
    if ok["unifrac_pkg"]:
        for m in ("unweighted_unifrac", "weighted_unifrac") + tuple(gu_names):
            add(m, "numpy_fp32_branch_lengths", np32[m], "unifrac_pkg",
                read_cross("unifrac", dataset, m, sample_ids))


# ----------------------------------------------------------------------------
def main():
    print(f"scikit-bio {skbio.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"pandas {pd.__version__}, python {sys.version.split()[0]}")
    assert skbio.__version__ == "0.7.4", "golden values are defined by scikit-bio 0.7.4"

    # 1. tiny inputs
    with open(HERE / "tiny_table.tsv", "w") as fh:
        fh.write("\t".join(["#OTU ID"] + TINY_SAMPLES) + "\n")
        for f, row in zip(TINY_FEATURES, TINY_COUNTS):
            fh.write("\t".join([f] + [str(int(v)) for v in row]) + "\n")
    with open(HERE / "tiny_tree.nwk", "w") as fh:
        fh.write(TINY_NEWICK)

    # 2./3. external implementations
    ok = run_external()
    print("external tools:", ok)

    summary = []
    notes = []
    for dataset, table_path, tree_path in [
        ("globalpatterns", DATA / "GlobalPatterns.otu.tsv", DATA / "GlobalPatterns.tree.nwk"),
        ("tiny", HERE / "tiny_table.tsv", HERE / "tiny_tree.nwk"),
    ]:
        counts, sids, fids = read_features_by_samples(table_path, int)
        tree = TreeNode.read(str(tree_path), format="newick")
        rep = tree_report(tree, fids)
        print(dataset, counts.shape, rep)
        notes.append([dataset] + [rep[k] for k in sorted(rep)])

        rows = alpha_table(counts, sids, fids, tree)
        write_tsv(HERE / f"{dataset}_alpha.tsv", ["sample-id"] + ALPHA_METRICS, rows)

        dms = beta_set(counts, sids, fids, tree)
        np64 = unifrac_numpy(counts, sids, fids, tree)
        np32 = unifrac_numpy(counts, sids, fids, tree, fp32_lengths=True)
        generalized_and_crosscheck(dataset, dms, sids, ok, summary, np64, np32)
        for name, dm in dms.items():
            write_dm(dm, HERE / f"{dataset}_{name}.lsmat.tsv")

        if dataset == "globalpatterns":
            bc = dms["braycurtis"]
            res = pcoa(bc, method="eigh")
            eig = res.eigvals.to_numpy()
            prop = res.proportion_explained.to_numpy()
            write_tsv(HERE / "globalpatterns_pcoa_braycurtis.tsv",
                      ["axis", "eigenvalue", "proportion_explained"],
                      [[ax, e, p] for ax, e, p in zip(res.eigvals.index, eig, prop)])
            coords = res.samples.loc[sids]
            write_tsv(HERE / "globalpatterns_pcoa_braycurtis_coords.tsv",
                      ["sample-id"] + [f"PC{k}" for k in range(1, 6)],
                      [[sid] + [float(coords.loc[sid, f"PC{k}"]) for k in range(1, 6)] for sid in sids])
            # unclamped eigenvalues of the Gower-centred matrix, for reference
            d2 = bc.data ** 2
            n = d2.shape[0]
            J = np.eye(n) - np.ones((n, n)) / n
            G = -0.5 * J @ d2 @ J
            raw = np.sort(np.linalg.eigvalsh(G))[::-1]
            write_tsv(HERE / "globalpatterns_pcoa_braycurtis_raw_eigenvalues.tsv",
                      ["axis", "raw_eigenvalue"],
                      [[f"PC{k+1}", v] for k, v in enumerate(raw)])
            print("PCoA: negative raw eigenvalues:", int((raw < 0).sum()),
                  "min", raw.min(), "max", raw.max())

    write_tsv(HERE / "crosscheck_summary.tsv",
              ["dataset", "metric", "reference", "other", "max_abs_diff", "max_rel_diff"], summary)
    for row in summary:
        print("crosscheck", row)

    # 4. enterotype PERMANOVA / PERMDISP
    X, esids, efeats = read_features_by_samples(DATA / "enterotype.genus.tsv", float)
    ebc = beta_diversity("braycurtis", X, ids=esids)
    assert np.allclose(ebc.data, squareform(pdist(X, "braycurtis")), rtol=1e-13, atol=0)
    write_dm(ebc, HERE / "enterotype_braycurtis.lsmat.tsv")
    md = pd.read_csv(DATA / "enterotype.metadata.tsv", sep="\t", dtype=str,
                     keep_default_na=False).set_index("sample-id")
    md = md.loc[esids]
    perma_rows, pdisp_rows, pdisp_var_rows = [], [], []
    for col in ["SeqTech", "Enterotype"]:
        keep = [s for s in esids if md.loc[s, col] not in ("NA", "")]
        dm = ebc.filter(keep)
        grouping = md.loc[keep, [col]]
        print(f"enterotype {col}: {len(keep)} samples, groups {sorted(set(grouping[col]))}")
        r = permanova(dm, grouping, column=col, permutations=PERMUTATIONS, seed=SEED)
        perma_rows.append([col, r["method name"], int(r["sample size"]), int(r["number of groups"]),
                           float(r["test statistic"]), float(r["p-value"]),
                           int(r["number of permutations"])])
        for test in ("median", "centroid"):
            for dims in (10, len(keep)):
                r = permdisp(dm, grouping, column=col, permutations=PERMUTATIONS, seed=SEED,
                             test=test, dimensions=dims, warn_neg_eigval=False)
                row = [col, r["method name"], int(r["sample size"]), int(r["number of groups"]),
                       float(r["test statistic"]), float(r["p-value"]),
                       int(r["number of permutations"])]
                pdisp_var_rows.append([col, test, dims] + row[2:])
                if test == "median" and dims == 10:  # skbio 0.7.4 defaults
                    pdisp_rows.append(row)
    cols = ["column", "method", "sample_size", "number_of_groups", "test_statistic", "p_value",
            "permutations"]
    write_tsv(HERE / "enterotype_permanova.tsv", cols, perma_rows)
    write_tsv(HERE / "enterotype_permdisp.tsv", cols, pdisp_rows)
    write_tsv(HERE / "enterotype_permdisp_variants.tsv",
              ["column", "test", "pcoa_dimensions", "sample_size", "number_of_groups",
               "test_statistic", "p_value", "permutations"], pdisp_var_rows)
    for r in perma_rows + pdisp_var_rows:
        print(r)
    print("done")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Regenerate the BIOM / QIIME 2 / MetaPhlAn / Newick format specimens.

    pip install biom-format==2.1.18 h5py
    python make_specimens.py

Every file in this folder except this script, read_back.py and index.toml is
written here, and index.toml (the manifest the Rust tests read) is written
from the same numbers, so the expectations can't drift from the files.

Valid BIOM specimens are written by biom-format itself (the reference
implementation); the formats biom-format can't write (dense BIOM 1.0 JSON,
R write.table, MetaPhlAn, QIIME 2 metadata, Newick, lsmat, .qza zips) are
written by hand following the real tools' layouts.  At the end every valid
table is loaded back with biom.load_table and checked against the manifest,
and every HDF5/JSON invalid specimen is tried with biom.load_table too; what
biom-format itself does with it is recorded in the manifest (`biom_accepts`).

Optional: if scikit-bio is importable, the Newick and lsmat specimens are
also parsed with it (and the lsmat bytes compared with skbio's own writer).
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid as uuidlib
import zipfile
from datetime import datetime

import h5py
import numpy as np
import biom
from biom import Table, load_table

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
GP_DIR = os.path.join(REPO, "examples", "data", "phyloseq")

GENERATED_BY = "gutjoint fixture"
# Fixed so that re-running the script does not change the JSON files and the
# creation-date attribute (HDF5 files may still differ in a few bytes).
CREATION_DATE = datetime(2024, 1, 15, 12, 0, 0)

ENTRIES = []  # manifest entries, in order


def p(name):
    return os.path.join(HERE, name)


def add(path, origin, valid, fmt, why, error_contains=None, **extra):
    e = {"path": path, "origin": origin, "valid": valid, "format": fmt,
         "why": why}
    if error_contains is not None:
        e["error_contains"] = error_contains
    e.update(extra)
    ENTRIES.append(e)


# ---------------------------------------------------------------------------
# The small table: 6 observations x 4 samples, integer counts, some zeros.
# ---------------------------------------------------------------------------
OBS_IDS = ["O1", "O2", "O3", "O4", "O5", "O6"]
SAMPLE_IDS = ["S1", "S2", "S3", "S4"]
COUNTS = np.array([
    [10, 0, 5, 2],
    [0, 3, 0, 8],
    [7, 7, 0, 0],
    [1, 0, 0, 0],
    [0, 0, 12, 4],
    [25, 14, 3, 0],
], dtype=float)
TAXONOMY = [
    ["k__Bacteria", "p__Firmicutes", "c__Clostridia", "o__Clostridiales",
     "f__Ruminococcaceae", "g__Faecalibacterium", "s__prausnitzii"],
    ["k__Bacteria", "p__Bacteroidetes", "c__Bacteroidia", "o__Bacteroidales",
     "f__Bacteroidaceae", "g__Bacteroides", "s__"],
    ["k__Bacteria", "p__Firmicutes", "c__Clostridia", "o__Clostridiales",
     "f__Lachnospiraceae", "g__Roseburia", "s__"],
    # shorter lineage: biom pads the (N, 7) HDF5 dataset with "" for it
    ["k__Bacteria", "p__Proteobacteria", "c__Gammaproteobacteria"],
    ["k__Bacteria", "p__Actinobacteria", "c__Actinobacteria",
     "o__Bifidobacteriales", "f__Bifidobacteriaceae", "g__Bifidobacterium",
     "s__longum"],
    ["k__Archaea", "p__Euryarchaeota", "c__Methanobacteria",
     "o__Methanobacteriales", "f__Methanobacteriaceae",
     "g__Methanobrevibacter", "s__smithii"],
]


def small_table():
    md = [{"taxonomy": list(t)} for t in TAXONOMY]
    return Table(COUNTS.copy(), list(OBS_IDS), list(SAMPLE_IDS),
                 observation_metadata=md, type="OTU table",
                 generated_by=GENERATED_BY, create_date=CREATION_DATE)


def write_hdf5(table, name, compress):
    with h5py.File(p(name), "w") as f:
        table.to_hdf5(f, GENERATED_BY, compress=compress,
                      creation_date=CREATION_DATE)


def table_stats(table):
    return dict(samples=int(table.shape[1]), features=int(table.shape[0]),
                total=float(table.sum()), nnz=int(table.nnz))


def make_biom_hdf5():
    t = small_table()
    # NB: biom's to_hdf5 default is compress=True; small.biom is written
    # uncompressed (contiguous datasets) so that both storage layouts exist.
    write_hdf5(t, "small.biom", compress=False)
    add("small.biom", "biom-format 2.1.18 Table.to_hdf5(compress=False)",
        True, "biom-hdf5",
        "BIOM 2.1 HDF5, 6 obs x 4 samples integer counts (stored float64), "
        "observation metadata taxonomy as (6,7) vlen-str dataset padded with "
        "'' (O4 has only 3 ranks); contiguous (unchunked) datasets",
        **table_stats(t), taxonomy_O4="k__Bacteria;p__Proteobacteria;"
        "c__Gammaproteobacteria")
    write_hdf5(t, "small_compressed.biom", compress=True)
    add("small_compressed.biom",
        "biom-format 2.1.18 Table.to_hdf5(compress=True) (biom's default)",
        True, "biom-hdf5",
        "same table as small.biom; every dataset chunked + gzip (deflate) "
        "filter", **table_stats(t))

    rel = t.norm(axis="sample", inplace=False)
    rel.type = "OTU table"
    write_hdf5(rel, "relative.biom", compress=True)
    add("relative.biom", "biom-format 2.1.18 Table.norm + to_hdf5",
        True, "biom-hdf5",
        "relative abundances (small.biom divided by sample totals); each "
        "sample sums to 1 within float rounding; compare total with "
        "tolerance 1e-9", **table_stats(rel))
    return t, rel


# ---------------------------------------------------------------------------
# BIOM 1.0 JSON
# ---------------------------------------------------------------------------
def make_json(t):
    s = t.to_json(GENERATED_BY, creation_date=CREATION_DATE)
    with open(p("small_sparse.json"), "w") as f:
        f.write(s)
    add("small_sparse.json", "biom-format 2.1.18 Table.to_json", True,
        "biom-json",
        "BIOM 1.0 JSON, matrix_type sparse ([row, col, value] triples), "
        "taxonomy in rows[].metadata, columns[].metadata null",
        **table_stats(t))

    sparse = json.loads(s)
    dense = {
        "id": None,
        "format": "Biological Observation Matrix 1.0.0",
        "format_url": "http://biom-format.org",
        "type": "OTU table",
        "generated_by": GENERATED_BY,
        "date": CREATION_DATE.isoformat(),
        "rows": [{"id": o, "metadata": {"taxonomy": tx}}
                 for o, tx in zip(OBS_IDS, TAXONOMY)],
        "columns": [{"id": s_, "metadata": None} for s_ in SAMPLE_IDS],
        "matrix_type": "dense",
        "matrix_element_type": "int",
        "shape": [len(OBS_IDS), len(SAMPLE_IDS)],
        "data": [[int(v) for v in row] for row in COUNTS],
    }
    assert sparse["format"] == dense["format"]
    with open(p("small_dense.json"), "w") as f:
        json.dump(dense, f, indent=2)
        f.write("\n")
    add("small_dense.json", "hand-written (BIOM 1.0 spec layout)", True,
        "biom-json",
        "BIOM 1.0 JSON, matrix_type dense (data is a list of rows), "
        "matrix_element_type int, id null", **table_stats(t))

    # biom's to_json writes "matrix_element_type" from the data; record it
    return sparse["matrix_element_type"]


# ---------------------------------------------------------------------------
# GlobalPatterns subset
# ---------------------------------------------------------------------------
RANK_PREFIX = ["k__", "p__", "c__", "o__", "f__", "g__", "s__"]


def make_globalpatterns():
    otu_path = os.path.join(GP_DIR, "GlobalPatterns.otu.tsv")
    tax_path = os.path.join(GP_DIR, "GlobalPatterns.taxonomy.tsv")
    with open(otu_path) as f:
        header = f.readline().rstrip("\n").split("\t")
        assert header[0] == "", "expected R write.table empty first cell"
        samples = header[1:]
        ids, rows = [], []
        for line in f:
            if len(ids) == 200:
                break
            parts = line.rstrip("\n").split("\t")
            ids.append(parts[0])
            rows.append([float(x) for x in parts[1:]])
    tax = {}
    with open(tax_path) as f:
        f.readline()
        for line in f:
            parts = line.rstrip("\n").split("\t")
            tax[parts[0]] = parts[1:8]
    md = []
    for i in ids:
        # QIIME / Greengenes convention: always 7 ranks, NA -> empty name
        # after the rank prefix (keeps rank positions; GlobalPatterns has
        # NA in the middle of lineages, e.g. family NA but genus known).
        md.append({"taxonomy": [pre + ("" if v == "NA" else v)
                                for pre, v in zip(RANK_PREFIX, tax[i])]})
    t = Table(np.array(rows), ids, samples, observation_metadata=md,
              type="OTU table")
    write_hdf5(t, "globalpatterns_subset.biom", compress=True)
    empty = int((np.array(rows).sum(axis=1) == 0).sum())
    add("globalpatterns_subset.biom",
        "biom-format 2.1.18 to_hdf5(compress=True) from the first 200 OTU "
        "rows of examples/data/phyloseq/GlobalPatterns.otu.tsv",
        True, "biom-hdf5",
        "real data: numeric-looking OTU ids (e.g. '549322'), 26 samples, "
        "taxonomy k__..s__ with NA written as the bare prefix ('f__')",
        **table_stats(t), first_feature=ids[0], last_feature=ids[-1],
        all_zero_features=empty)


# ---------------------------------------------------------------------------
# QIIME 2 artifacts (.qza)
# ---------------------------------------------------------------------------
FRAMEWORK = "2024.5.0"


def _qza(name, semantic_type, fmt, data_files, uid, import_format):
    """Write a QIIME 2 archive-version-6 zip like qiime2's _ZipArchive."""
    tmp = tempfile.mkdtemp()
    try:
        root = os.path.join(tmp, uid)
        os.makedirs(os.path.join(root, "data"))
        version = "QIIME 2\narchive: 6\nframework: %s\n" % FRAMEWORK
        metadata = "uuid: %s\ntype: %s\nformat: %s\n" % (
            uid, semantic_type, fmt)
        files = {"VERSION": version.encode(), "metadata.yaml":
                 metadata.encode()}
        for rel, content in data_files.items():
            files["data/" + rel] = content
        exec_uuid = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, uid + "/exec"))
        manifest = "".join(
            "    -   name: %s\n        md5sum: %s\n"
            % (rel, hashlib.md5(c).hexdigest())
            for rel, c in data_files.items())
        action = (
            "execution:\n"
            "    uuid: %s\n"
            "    runtime:\n"
            "        start: 2024-01-15T12:00:00.000000+00:00\n"
            "        end: 2024-01-15T12:00:00.250000+00:00\n"
            "        duration: 250000 microseconds\n"
            "    execution_context:\n"
            "        type: synchronous\n"
            "\n"
            "action:\n"
            "    type: import\n"
            "    format: %s\n"
            "    manifest:\n%s"
            "\n"
            "transformers:\n"
            "    output:\n"
            "    -   from: %s\n"
            "        to: %s\n"
            "        plugin: !ref 'environment:plugins:types'\n"
            "\n"
            "environment:\n"
            "    platform: linux-64\n"
            "    python: |-\n"
            "        3.9.19 | packaged by conda-forge\n"
            "    framework:\n"
            "        version: %s\n"
            "        website: https://qiime2.org\n"
            "        citations:\n"
            "        - !cite 'framework|qiime2:%s|0'\n"
            "    plugins:\n"
            "        types:\n"
            "            version: %s\n"
            "            website: https://github.com/qiime2/q2-types\n"
        ) % (exec_uuid, import_format, manifest, import_format, fmt,
             FRAMEWORK, FRAMEWORK, FRAMEWORK)
        citations = (
            "@article{framework|qiime2:%s|0,\n"
            " author = {Bolyen, Evan and others},\n"
            " journal = {Nature Biotechnology},\n"
            " title = {Reproducible, interactive, scalable and extensible "
            "microbiome data science using QIIME 2},\n"
            " year = {2019}\n}\n" % FRAMEWORK)
        files["provenance/VERSION"] = version.encode()
        files["provenance/metadata.yaml"] = metadata.encode()
        files["provenance/citations.bib"] = citations.encode()
        files["provenance/action/action.yaml"] = action.encode()
        checksums = "".join("%s  %s\n" % (hashlib.md5(c).hexdigest(), n)
                            for n, c in sorted(files.items()))
        files["checksums.md5"] = checksums.encode()
        order = ["VERSION", "metadata.yaml", "checksums.md5"] + sorted(
            n for n in files if n not in
            ("VERSION", "metadata.yaml", "checksums.md5"))
        with zipfile.ZipFile(p(name), "w", compression=zipfile.ZIP_DEFLATED,
                             allowZip64=True) as zf:
            for n in order:
                info = zipfile.ZipInfo(uid + "/" + n,
                                       date_time=(2024, 1, 15, 12, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, files[n])
    finally:
        shutil.rmtree(tmp)


def _uuid(tag):
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL,
                             "https://gutjoint.invalid/fixture/" + tag))


def make_qza(t, rel):
    with open(p("small.biom"), "rb") as f:
        small = f.read()
    with open(p("relative.biom"), "rb") as f:
        relb = f.read()
    uid = _uuid("table")
    _qza("table.qza", "FeatureTable[Frequency]", "BIOMV210DirFmt",
         {"feature-table.biom": small}, uid, "BIOMV210Format")
    add("table.qza", "hand-built QIIME 2 archive v6 zip (qiime2 layout)",
        True, "qza",
        "FeatureTable[Frequency] / BIOMV210DirFmt; payload "
        "<uuid>/data/feature-table.biom is byte-identical to small.biom; "
        "also VERSION, checksums.md5, provenance/",
        **table_stats(t), uuid=uid)
    uid = _uuid("relative")
    _qza("relative.qza", "FeatureTable[RelativeFrequency]", "BIOMV210DirFmt",
         {"feature-table.biom": relb}, uid, "BIOMV210Format")
    add("relative.qza", "hand-built QIIME 2 archive v6 zip (qiime2 layout)",
        True, "qza",
        "FeatureTable[RelativeFrequency]; payload is relative.biom",
        **table_stats(rel), uuid=uid)


# ---------------------------------------------------------------------------
# Delimited text
# ---------------------------------------------------------------------------
def fmt_num(v):
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def make_text(t):
    tsv = t.to_tsv(header_key="taxonomy", header_value="taxonomy",
                   metadata_formatter=lambda x: "; ".join(x))
    with open(p("small.tsv"), "w") as f:
        f.write(tsv)
    add("small.tsv", "biom-format 2.1.18 Table.to_tsv (biom convert "
        "--to-tsv --header-key taxonomy)", True, "tsv",
        "'# Constructed from biom file' line, '#OTU ID' header, values "
        "written as floats ('10.0'), last column taxonomy joined with '; '; "
        "as biom writes it, NO newline after the last line",
        **table_stats(t))

    lines = ["\t" + "\t".join(SAMPLE_IDS)]
    for o, row in zip(OBS_IDS, COUNTS):
        lines.append(o + "\t" + "\t".join(fmt_num(v) for v in row))
    with open(p("small_rwritetable.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    add("small_rwritetable.tsv",
        "hand-written like R write.table(x, sep='\\t', quote=FALSE, "
        "col.names=NA)", True, "tsv",
        "features as rows, header starts with an empty cell (leading tab), "
        "integers without decimals", **table_stats(t))

    with open(p("small_rwritetable_short_header.tsv"), "w") as f:
        f.write("\t".join(SAMPLE_IDS) + "\n" + "\n".join(lines[1:]) + "\n")
    add("small_rwritetable_short_header.tsv",
        "hand-written like R write.table(x, sep='\\t', quote=FALSE) "
        "(R default col.names=TRUE)", True, "tsv",
        "header has one field fewer than the data rows (no cell above the "
        "row names), as R writes by default and read.table accepts",
        **table_stats(t))

    lines = ["sample_id," + ",".join(OBS_IDS)]
    for j, s in enumerate(SAMPLE_IDS):
        lines.append(s + "," + ",".join(fmt_num(v) for v in COUNTS[:, j]))
    with open(p("small_samples_as_rows.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    add("small_samples_as_rows.csv", "hand-written (pandas-like to_csv of "
        "the transposed table)", True, "csv",
        "samples as rows, features as columns, first header cell "
        "'sample_id'; must be read transposed", **table_stats(t),
        orientation="samples-as-rows")
    return tsv


# ---------------------------------------------------------------------------
# MetaPhlAn profiles
# ---------------------------------------------------------------------------
def _mpa_lines(leaves, scale):
    """leaves: list of (clade names tuple, taxid tuple, abundance int in
    1/scale units, additional_species).  Returns ordered lines with every
    ancestor's abundance the exact sum of its children."""
    sums, taxids, order = {}, {}, []
    for names, ids, ab, _ in leaves:
        for d in range(1, len(names) + 1):
            key = names[:d]
            if key not in sums:
                sums[key] = 0
                order.append(key)
                taxids[key] = ids[:d]
            sums[key] += ab
    extra = {}
    for names, _, _, add_sp in leaves:
        for d in range(1, len(names) + 1):
            if d == len(names) or names[d - 1].startswith("s__"):
                extra[names[:d]] = add_sp
    # MetaPhlAn prints all kingdoms, then all phyla, ... level by level,
    # sorted by abundance within a level.
    order.sort(key=lambda k: (len(k), -sums[k]))
    out = []
    for key in order:
        out.append((key, taxids[key], sums[key], extra.get(key, "")))
    return out, sums


def make_metaphlan():
    S = 100000  # abundances in units of 1e-5 %
    B, A = ("k__Bacteria", "2"), ("k__Archaea", "2157")
    firm = B + ("p__Firmicutes", "1239")
    bact = B + ("p__Bacteroidetes", "976")
    actino = B + ("p__Actinobacteria", "201174")

    def L(*pairs_and_ab):
        *pairs, ab, add_sp = pairs_and_ab
        names = tuple(pairs[0::2])
        ids = tuple(pairs[1::2])
        return (names, ids, ab, add_sp)

    clost = firm + ("c__Clostridia", "186801", "o__Eubacteriales", "186802")
    bacto = bact + ("c__Bacteroidia", "200643", "o__Bacteroidales", "171549")
    # MetaPhlAn 4 (vJan21): SGB leaves; taxid of a t__SGB line is the
    # species' path plus a trailing '|'; GGB/FGB clades have empty taxids.
    v4_leaves = [
        L(*clost, "f__Oscillospiraceae", "216572", "g__Faecalibacterium",
          "216851", "s__Faecalibacterium_prausnitzii", "853",
          "t__SGB15316", "", 1843210, ""),
        L(*clost, "f__Lachnospiraceae", "186803", "g__Roseburia", "841",
          "s__Roseburia_intestinalis", "166486", "t__SGB4951", "", 512345,
          ""),
        L(*clost, "f__Lachnospiraceae", "186803", "g__GGB9296", "",
          "s__GGB9296_SGB14253", "", "t__SGB14253", "", 0, ""),
        L(*bacto, "f__Bacteroidaceae", "815", "g__Bacteroides", "816",
          "s__Bacteroides_uniformis", "820", "t__SGB1836", "", 2156789,
          ""),
        L(*bacto, "f__Bacteroidaceae", "815", "g__Phocaeicola", "909656",
          "s__Phocaeicola_vulgatus", "821", "t__SGB1814", "", 1587654,
          "k__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|"
          "f__Bacteroidaceae|g__Phocaeicola|s__Phocaeicola_dorei"),
        L(*bacto, "f__Prevotellaceae", "171552", "g__Prevotella", "838",
          "s__Prevotella_copri_clade_A", "165179", "t__SGB1626", "",
          2400000, ""),
        L(*actino, "c__Actinomycetia", "1760", "o__Bifidobacteriales",
          "85004", "f__Bifidobacteriaceae", "31953", "g__Bifidobacterium",
          "1678", "s__Bifidobacterium_longum", "216816", "t__SGB17248", "",
          346237, ""),
        L(*A, "p__Euryarchaeota", "28890", "c__Methanobacteria", "183925",
          "o__Methanobacteriales", "2158", "f__Methanobacteriaceae", "2159",
          "g__Methanobrevibacter", "2172", "s__Methanobrevibacter_smithii",
          "2173", "t__SGB714", "", 51234, ""),
    ]
    # the GGB species takes what is left so that everything sums to 100 - 5
    classified = 95 * S
    used = sum(l[2] for l in v4_leaves)
    names, ids, _, add_sp = v4_leaves[2]
    v4_leaves[2] = (names, ids, classified - used, add_sp)
    lines, sums = _mpa_lines(v4_leaves, S)
    out = ["#mpa_vJan21_CHOCOPhlAnSGB_202103",
           "#/opt/conda/bin/metaphlan sample1.fastq.gz --input_type fastq "
           "--bowtie2out sample1.bowtie2.bz2 --nproc 8 -o "
           "sample1_profile.txt",
           "#8234117 reads processed",
           "#SampleID\tMetaphlan_Analysis",
           "#clade_name\tNCBI_tax_id\trelative_abundance\tadditional_species",
           "UNCLASSIFIED\t-1\t%.5f\t" % 5.0]
    for key, tid, ab, extra in lines:
        tid_s = "|".join(tid)
        if key[-1].startswith("t__"):
            tid_s = "|".join(tid[:-1]) + "|"
        out.append("%s\t%s\t%.5f\t%s" % ("|".join(key), tid_s, ab / S,
                                         extra))
    with open(p("metaphlan4_single.tsv"), "w") as f:
        f.write("\n".join(out) + "\n")
    species = [k for k in sums if k[-1].startswith("s__")]
    add("metaphlan4_single.tsv", "hand-written MetaPhlAn 4 (vJan21) "
        "single-sample profile", True, "metaphlan",
        "MetaPhlAn 4 layout: 5 '#' header lines, UNCLASSIFIED row (-1, "
        "5.0), k__..s__ and t__SGB lines level by level; every parent is "
        "the exact sum of its children (5 decimals); one GGB species with "
        "empty taxid components; additional_species filled on one row",
        samples=1, features=len(species), total=round(
            sum(sums[k] for k in species) / S, 5),
        species=len(species), sgbs=len(species), unclassified=5.0,
        kingdoms=2, sample_name="Metaphlan_Analysis",
        species_names=[k[-1] for k in sorted(species, key=lambda k: -sums[k])])

    # MetaPhlAn 3: no t__ lines by default, UNKNOWN with --unknown_estimation
    clost3 = firm + ("c__Clostridia", "186801", "o__Clostridiales", "186802")
    bacto3 = bacto
    v3_leaves = [
        L(*clost3, "f__Ruminococcaceae", "216572", "g__Faecalibacterium",
          "216851", "s__Faecalibacterium_prausnitzii", "853", 2210345, ""),
        L(*clost3, "f__Lachnospiraceae", "186803", "g__Roseburia", "841",
          "s__Roseburia_intestinalis", "166486", 634512, ""),
        L(*bacto3, "f__Bacteroidaceae", "815", "g__Bacteroides", "816",
          "s__Bacteroides_vulgatus", "821", 2012877,
          "k__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|"
          "f__Bacteroidaceae|g__Bacteroides|s__Bacteroides_dorei"),
        L(*bacto3, "f__Bacteroidaceae", "815", "g__Bacteroides", "816",
          "s__Bacteroides_uniformis", "820", 1456001, ""),
        L(*bacto3, "f__Prevotellaceae", "171552", "g__Prevotella", "838",
          "s__Prevotella_copri", "165179", 1100000, ""),
        L(*actino, "c__Actinobacteria", "1760", "o__Bifidobacteriales",
          "85004", "f__Bifidobacteriaceae", "31953", "g__Bifidobacterium",
          "1678", "s__Bifidobacterium_longum", "216816", 0, ""),
    ]
    unknown = 1278654  # 12.78654 %
    used = sum(l[2] for l in v3_leaves)
    names, ids, _, add_sp = v3_leaves[-1]
    v3_leaves[-1] = (names, ids, 100 * S - unknown - used, add_sp)
    lines, sums = _mpa_lines(v3_leaves, S)
    out = ["#mpa_v30_CHOCOPhlAn_201901",
           "#/usr/local/bin/metaphlan sample2.fastq --input_type fastq "
           "--unknown_estimation --nproc 4 -o sample2_profile.txt",
           "#5123456 reads processed",
           "#SampleID\tMetaphlan_Analysis",
           "#clade_name\tNCBI_tax_id\trelative_abundance\tadditional_species",
           "UNKNOWN\t-1\t%.5f\t" % (unknown / S)]
    for key, tid, ab, extra in lines:
        out.append("%s\t%s\t%.5f\t%s" % ("|".join(key), "|".join(tid),
                                         ab / S, extra))
    with open(p("metaphlan3_single.tsv"), "w") as f:
        f.write("\n".join(out) + "\n")
    species = [k for k in sums if k[-1].startswith("s__")]
    add("metaphlan3_single.tsv", "hand-written MetaPhlAn 3 (v30) profile "
        "run with --unknown_estimation", True, "metaphlan",
        "MetaPhlAn 3 layout: UNKNOWN row (-1, 12.78654) instead of "
        "UNCLASSIFIED, no t__ lines, parents are exact sums of children",
        samples=1, features=len(species),
        total=round(sum(sums[k] for k in species) / S, 5),
        species=len(species), unclassified=unknown / S, kingdoms=1,
        sample_name="Metaphlan_Analysis",
        species_names=[k[-1] for k in sorted(species, key=lambda k: -sums[k])])

    # MetaPhlAn 2: two columns, t__ strain lines, sums to 100 per level
    v2_leaves = [
        (n + ("t__" + n[-1][3:] + "_unclassified",), i + ("",), ab, "")
        for n, i, ab, _ in [
            L(*clost3, "f__Ruminococcaceae", "216572", "g__Faecalibacterium",
              "216851", "s__Faecalibacterium_prausnitzii", "853", 3812001,
              ""),
            L(*bacto3, "f__Bacteroidaceae", "815", "g__Bacteroides", "816",
              "s__Bacteroides_vulgatus", "821", 4002113, ""),
            L(*bacto3, "f__Bacteroidaceae", "815", "g__Bacteroides", "816",
              "s__Bacteroides_uniformis", "820", 1385886, ""),
            L(*actino, "c__Actinobacteria", "1760", "o__Bifidobacteriales",
              "85004", "f__Bifidobacteriaceae", "31953",
              "g__Bifidobacterium", "1678", "s__Bifidobacterium_longum",
              "216816", 0, ""),
        ]]
    used = sum(l[2] for l in v2_leaves)
    names, ids, _, add_sp = v2_leaves[-1]
    v2_leaves[-1] = (names, ids, 100 * S - used, add_sp)
    lines, sums = _mpa_lines(v2_leaves, S)
    out = ["#SampleID\tMetaphlan2_Analysis"]
    for key, tid, ab, extra in lines:
        v = ab / S
        out.append("%s\t%s" % ("|".join(key),
                               "100.0" if ab == 100 * S else "%.5f" % v))
    with open(p("metaphlan2_single.tsv"), "w") as f:
        f.write("\n".join(out) + "\n")
    species = [k for k in sums if k[-1].startswith("s__")]
    add("metaphlan2_single.tsv", "hand-written MetaPhlAn 2 profile", True,
        "metaphlan",
        "MetaPhlAn 2 layout: '#SampleID\\tMetaphlan2_Analysis' header, two "
        "columns, no taxid column, k__Bacteria 100.0, t__*_unclassified "
        "strain lines under each species",
        samples=1, features=len(species),
        total=round(sum(sums[k] for k in species) / S, 5),
        species=len(species), unclassified=0.0, kingdoms=1,
        sample_name="Metaphlan2_Analysis",
        species_names=[k[-1] for k in sorted(species, key=lambda k: -sums[k])])


# ---------------------------------------------------------------------------
# Metadata, tree, distance matrix
# ---------------------------------------------------------------------------
def make_metadata():
    with open(p("metadata.tsv"), "w") as f:
        f.write("sample-id\tbody-site\tsubject\tdays-since-experiment-start"
                "\tph\n"
                "#q2:types\tcategorical\tcategorical\tnumeric\tnumeric\n"
                "S1\tgut\tsubject-1\t0\t6.5\n"
                "S2\tgut\tsubject-1\t84\t\n"
                "S3\ttongue\tsubject-2\t0\t7.1\n"
                "S4\ttongue\tsubject-2\t84\t7.0\n")
    add("metadata.tsv", "hand-written QIIME 2 metadata", True, "metadata",
        "'sample-id' id header, '#q2:types' directive row, S2's ph empty "
        "(missing); 'subject' declared categorical", samples=4, columns=4,
        id_header="sample-id", missing=["S2\tph"],
        numeric_columns=["days-since-experiment-start", "ph"],
        categorical_columns=["body-site", "subject"])

    with open(p("metadata_hash_sampleid.tsv"), "w") as f:
        f.write("#SampleID\tBarcodeSequence\tbody-site\tsubject\tph\n"
                "# a comment line, ignored by QIIME 2\n"
                "S1\tAGCACGAGCCTA\tgut\tsubject-1\t6.5\n"
                "S2\tAACTCGTCGATG\tgut\tsubject-1\t\n"
                "S3\tACAGACCACTCA\ttongue\tsubject-2\t7.1\n"
                "S4\tACCAGCGACTAG\ttongue\tsubject-2\t7.0\n")
    add("metadata_hash_sampleid.tsv", "hand-written QIIME 1 mapping-file "
        "style metadata", True, "metadata",
        "'#SampleID' id header (a recognised QIIME 2 id header too), a "
        "'# ' comment line, no #q2:types row (types inferred: ph numeric), "
        "S2's ph missing", samples=4, columns=4, id_header="#SampleID",
        missing=["S2\tph"])


TREE = ("(((O1:0.1,O2:0.2)1.000.2:0.05[a comment],('O3':0.3,O4:0.15)"
        "0.870.3:0.1)0.990.5:0.02,(O5:0.25,O6:0.05)0.910.4:0.2)root;\n")


def make_tree():
    with open(p("tree.nwk"), "w") as f:
        f.write(TREE)
    add("tree.nwk", "hand-written Newick", True, "newick",
        "rooted binary tree over O1..O6; tip O3 written quoted ('O3'), "
        "QIIME-style internal labels like 1.000.2 (support.node-number), a "
        "[comment] to skip, branch lengths, root labelled 'root' with no "
        "length", tips=6, tip_names=OBS_IDS, internal_nodes=5,
        total_length=round(0.1 + 0.2 + 0.05 + 0.3 + 0.15 + 0.1 + 0.02 +
                           0.25 + 0.05 + 0.2, 10))


def bray_curtis(x):
    n = x.shape[1]
    d = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            a, b = x[:, i], x[:, j]
            d[i, j] = np.abs(a - b).sum() / (a + b).sum()
    return d


def make_lsmat():
    d = bray_curtis(COUNTS)
    lines = ["\t".join([""] + SAMPLE_IDS)]
    for s, row in zip(SAMPLE_IDS, d):
        lines.append(s + "\t" + "\t".join(np.asarray(row, dtype=str)))
    text = "\n".join(lines) + "\n"
    with open(p("dm.lsmat.tsv"), "w") as f:
        f.write(text)
    add("dm.lsmat.tsv", "hand-written skbio lsmat layout "
        "(DistanceMatrix.write(format='lsmat'))", True, "lsmat",
        "Bray-Curtis distances of small.biom's samples; first line "
        "'\\tS1\\tS2\\tS3\\tS4'; values as Python str(float)", samples=4,
        ids=SAMPLE_IDS, d_S1_S2=float(d[0, 1]), d_S3_S4=float(d[2, 3]))
    return text, d


# ---------------------------------------------------------------------------
# Invalid corpus
# ---------------------------------------------------------------------------
TSV_HEAD = "# Constructed from biom file\n#OTU ID\tS1\tS2\tS3\n"


def bad_text(name, content, fmt, why, error_contains, **extra):
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(p(name), mode) as f:
        f.write(content)
    add(name, "hand-written by make_specimens.py", False, fmt, why,
        error_contains=error_contains, **extra)


def copy_h5(src, dst):
    shutil.copyfile(p(src), p(dst))


def make_invalid(tsv_text):
    bad_text("bad_empty.tsv", "", "tsv", "zero-byte file", "empty")
    bad_text("bad_headers_only.tsv", TSV_HEAD, "tsv",
             "comment and header line but no feature rows", "no features")
    bad_text("bad_ragged.tsv", TSV_HEAD + "O1\t1\t2\t3\nO2\t4\t5\nO3\t6\t7"
             "\t8\n", "tsv", "row O2 (line 4) has 2 values for 3 samples",
             "line 4")
    bad_text("bad_nonnumeric.tsv", TSV_HEAD + "O1\t1\t2\t3\nO2\t4\t12x\t6\n",
             "tsv", "value '12x' is not a number", "12x")
    bad_text("bad_nan.tsv", TSV_HEAD + "O1\t1\t2\t3\nO2\t4\tNaN\t6\n", "tsv",
             "NaN abundance", "nan")
    bad_text("bad_inf.tsv", TSV_HEAD + "O1\t1\tinf\t3\nO2\t4\t5\t6\n", "tsv",
             "infinite abundance", "inf")
    bad_text("bad_negative.tsv", TSV_HEAD + "O1\t1\t2\t3\nO2\t4\t-3\t6\n",
             "tsv", "negative abundance -3", "negative")
    bad_text("bad_duplicate_sample.tsv", "# Constructed from biom file\n"
             "#OTU ID\tS1\tS2\tS1\nO1\t1\t2\t3\nO2\t4\t5\t6\n", "tsv",
             "sample id S1 appears twice in the header", "duplicate")
    bad_text("bad_duplicate_feature.tsv", TSV_HEAD + "O1\t1\t2\t3\nO2\t4\t5"
             "\t6\nO1\t7\t8\t9\n", "tsv", "feature id O1 appears twice",
             "duplicate")
    bad_text("bad_unbalanced.nwk", "((O1:0.1,O2:0.2):0.05,(O3:0.3,O4:0.1);\n",
             "newick", "one more '(' than ')'", "unbalanced")
    bad_text("bad_metadata_no_id.tsv", "foo\tbody-site\nS1\tgut\nS2\t"
             "tongue\n", "metadata",
             "first column header 'foo' is not an id header (sample-id, id, "
             "sampleid, #SampleID, feature-id, ...)", "id column")

    # BIOM JSON whose shape disagrees with its data: shape says 5 rows, but
    # there are 6 rows and data uses row index 5.
    j = json.load(open(p("small_sparse.json")))
    j["shape"] = [5, 4]
    with open(p("bad_shape_mismatch.json"), "w") as f:
        json.dump(j, f)
    add("bad_shape_mismatch.json", "small_sparse.json with shape edited",
        False, "biom-json",
        "shape [5, 4] but 6 rows listed and data has row index 5", "shape")

    # QIIME 2 artifact of the wrong semantic type
    _qza("bad_wrong_type.qza", "Phylogeny[Rooted]", "NewickDirectoryFormat",
         {"tree.nwk": TREE.encode()}, _uuid("bad-tree"), "NewickFormat")
    add("bad_wrong_type.qza", "hand-built QIIME 2 archive", False, "qza",
        "a valid archive but metadata.yaml says type: Phylogeny[Rooted] "
        "(data/tree.nwk), not a FeatureTable", "phylogeny")
    # archive whose data/ lacks feature-table.biom
    _qza("bad_no_table.qza", "FeatureTable[Frequency]", "BIOMV210DirFmt",
         {"README.txt": b"no table here\n"}, _uuid("bad-empty"),
         "BIOMV210Format")
    add("bad_no_table.qza", "hand-built QIIME 2 archive", False, "qza",
        "metadata.yaml claims FeatureTable[Frequency] but data/ holds only "
        "README.txt", "feature-table.biom")
    with zipfile.ZipFile(p("bad_not_qiime.zip"), "w",
                         compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("notes/readme.txt",
                               date_time=(2024, 1, 15, 12, 0, 0))
        zf.writestr(info, "just a zip, no table and no metadata.yaml\n")
    add("bad_not_qiime.zip", "hand-written by make_specimens.py", False,
        "qza", "plain zip: no <uuid>/metadata.yaml and no table at all",
        "metadata.yaml")

    # HDF5 with the indptr datasets deleted
    copy_h5("small.biom", "bad_missing_indptr.biom")
    with h5py.File(p("bad_missing_indptr.biom"), "a") as f:
        del f["observation/matrix/indptr"]
        del f["sample/matrix/indptr"]
    add("bad_missing_indptr.biom", "small.biom copied with h5py, then "
        "observation/matrix/indptr and sample/matrix/indptr deleted",
        False, "biom-hdf5", "CSR/CSC matrix without indptr", "indptr")

    # HDF5 with an index out of range (in both orientations)
    copy_h5("small.biom", "bad_index_out_of_range.biom")
    with h5py.File(p("bad_index_out_of_range.biom"), "a") as f:
        idx = f["sample/matrix/indices"][:]
        idx[-1] = 6  # only 6 observations: valid 0..5
        f["sample/matrix/indices"][:] = idx
        idx = f["observation/matrix/indices"][:]
        idx[-1] = 4  # only 4 samples: valid 0..3
        f["observation/matrix/indices"][:] = idx
    add("bad_index_out_of_range.biom", "small.biom copied with h5py, last "
        "entry of sample/matrix/indices set to 6 and of "
        "observation/matrix/indices set to 4", False, "biom-hdf5",
        "row index 6 with 6 observations / column index 4 with 4 samples. "
        "biom-format 2.1.18 does not check indices: it silently drops the "
        "entry and scipy's csc->csr conversion writes out of bounds "
        "(repeated loads in one process segfault)", "out of range")

    with open(p("small.biom"), "rb") as f:
        raw = f.read()
    with open(p("bad_truncated.biom"), "wb") as f:
        f.write(raw[:len(raw) // 2])
    add("bad_truncated.biom", "first half of the bytes of small.biom", False,
        "biom-hdf5", "HDF5 superblock intact, end-of-file address past the "
        "end of the file", "truncated")

    gz = gzip.compress(tsv_text.encode(), mtime=0)
    with open(p("bad_truncated.tsv.gz"), "wb") as f:
        f.write(gz[:len(gz) // 2])
    add("bad_truncated.tsv.gz", "gzip of small.tsv (mtime 0) cut in half",
        False, "tsv", "gzip stream ends early (no trailer)", "gzip")


# ---------------------------------------------------------------------------
# layout dump, self-checks, manifest
# ---------------------------------------------------------------------------
def _attr_line(obj, name):
    aid = h5py.h5a.open(obj.id, name.encode())
    dt = aid.dtype
    shape = aid.shape
    tid = aid.get_type()
    v = obj.attrs[name]
    kind = _type_desc(dt, tid)
    return "    ATTR %-16s %-44s shape=%s value=%r" % (name, kind,
                                                      shape, v)


def _type_desc(dt, tid):
    si = h5py.check_string_dtype(dt)
    if si is not None:
        if isinstance(tid, h5py.h5t.TypeStringID):
            cset = {h5py.h5t.CSET_ASCII: "ASCII",
                    h5py.h5t.CSET_UTF8: "UTF8"}[tid.get_cset()]
            vlen = "variable-length" if tid.is_variable_str() else \
                "fixed-length %d" % tid.get_size()
            return "H5T_STRING %s %s" % (vlen, cset)
        return "string %r" % (si,)
    order = {h5py.h5t.ORDER_LE: "LE", h5py.h5t.ORDER_BE: "BE"}.get(
        tid.get_order(), "?") if hasattr(tid, "get_order") else ""
    return "%s (%s %s, %d bytes)" % (dt, type(tid).__name__, order,
                                     tid.get_size())


def dump_layout(name, out):
    lines = ["# h5py walk of %s (biom-format %s, h5py %s, HDF5 %s)"
             % (name, biom.__version__, h5py.__version__,
                h5py.version.hdf5_version)]
    with h5py.File(p(name), "r") as f:
        sb = f.id.get_create_plist()
        lines.append("# superblock version %s, userblock %d"
                     % (sb.get_version(), sb.get_userblock()))
        lines.append("GROUP /")
        for a in f.attrs:
            lines.append(_attr_line(f, a))

        def visit(path, obj):
            depth = path.count("/") + 1
            ind = "  " * depth
            if isinstance(obj, h5py.Group):
                lines.append("%sGROUP /%s" % (ind, path))
            else:
                dcpl = obj.id.get_create_plist()
                layout = {h5py.h5d.CONTIGUOUS: "CONTIGUOUS",
                          h5py.h5d.CHUNKED: "CHUNKED",
                          h5py.h5d.COMPACT: "COMPACT"}[dcpl.get_layout()]
                filters = [dcpl.get_filter(i)[0]
                           for i in range(dcpl.get_nfilters())]
                fnames = {1: "deflate", 2: "shuffle", 3: "fletcher32"}
                lines.append(
                    "%sDATASET /%s\n%s    type=%s\n%s    shape=%s maxshape=%s "
                    "layout=%s chunks=%s compression=%s opts=%s filters=%s"
                    % (ind, path, ind, _type_desc(obj.dtype, obj.id.get_type()),
                       ind, obj.shape, obj.maxshape, layout, obj.chunks,
                       obj.compression, obj.compression_opts,
                       [fnames.get(x, x) for x in filters]))
                try:
                    v = obj[()]
                    lines.append("%s    data=%r" % (ind, v.tolist()
                                                    if hasattr(v, "tolist")
                                                    else v))
                except Exception as e:  # pragma: no cover
                    lines.append("%s    data=<%s>" % (ind, e))
            for a in obj.attrs:
                lines.append(ind + _attr_line(obj, a))
        f.visititems(visit)
    with open(p(out), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def load_any(path):
    if path.endswith(".qza"):
        with zipfile.ZipFile(path) as z:
            name = [n for n in z.namelist()
                    if n.endswith("/data/feature-table.biom")][0]
            tmp = tempfile.NamedTemporaryFile(suffix=".biom", delete=False)
            tmp.write(z.read(name))
            tmp.close()
        try:
            return load_table(tmp.name)
        finally:
            os.unlink(tmp.name)
    return load_table(path)


_PROBE = r"""
import json, sys
import biom
try:
    t = biom.load_table(sys.argv[1])
    print(json.dumps({"ok": True, "shape": [int(x) for x in t.shape],
                      "sum": float(t.sum())}))
except Exception as ex:
    msg = ("%s: %s" % (type(ex).__name__, ex)).splitlines()[0][:160]
    print(json.dumps({"ok": False, "error": msg}))
"""


def self_check():
    for e in ENTRIES:
        path = p(e["path"])
        assert os.path.exists(path), path
        e["bytes"] = os.path.getsize(path)
        biomish = e["format"] in ("biom-hdf5", "biom-json", "qza") or \
            e["path"] in ("small.tsv",)
        if e["valid"] and biomish:
            t = load_any(path)
            assert t.shape == (e["features"], e["samples"]), (path, t.shape)
            assert abs(t.sum() - e["total"]) < 1e-9, (path, t.sum())
            assert t.nnz == e["nnz"], path
            e["biom_load_table"] = "ok"
        elif not e["valid"] and e["format"] in ("biom-hdf5", "biom-json",
                                                "tsv"):
            # in a child process: biom + scipy can corrupt the heap on bad
            # input (bad_index_out_of_range.biom segfaults on repeat loads)
            r = subprocess.run([sys.executable, "-W", "ignore", "-c",
                                _PROBE, path], capture_output=True,
                               text=True, timeout=120)
            if r.returncode != 0 or not r.stdout.strip():
                e["biom_accepts"] = False
                e["biom_error"] = "process died (exit %d)" % r.returncode
                continue
            res = json.loads(r.stdout.strip().splitlines()[-1])
            e["biom_accepts"] = res["ok"]
            if res["ok"]:
                e["why"] += ("; NB biom.load_table accepts it (shape %s, "
                             "sum %s)" % (res["shape"], res["sum"]))
            else:
                e["biom_error"] = res["error"].replace(HERE + os.sep, "")

    # optional scikit-bio cross-check
    try:
        import skbio
    except ImportError:
        return
    tree = skbio.TreeNode.read(p("tree.nwk"), format="newick")
    tips = sorted(t.name for t in tree.tips())
    assert tips == OBS_IDS, tips
    dm = skbio.DistanceMatrix.read(p("dm.lsmat.tsv"), format="lsmat")
    buf = io.StringIO()
    dm.write(buf, format="lsmat")
    assert buf.getvalue() == open(p("dm.lsmat.tsv")).read()
    import warnings
    warnings.simplefilter("ignore")
    try:
        skbio.TreeNode.read(p("bad_unbalanced.nwk"), format="newick")
        raise AssertionError("skbio accepted bad_unbalanced.nwk")
    except AssertionError:
        raise
    except Exception:
        pass


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, float):
        r = repr(float(v))
        return r if ("." in r or "e" in r or "n" in r) else r + ".0"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)  # basic TOML string


def write_index(json_element_type):
    out = [
        "# Manifest of the format specimens in this folder.",
        "# GENERATED by make_specimens.py (biom-format %s, h5py %s) - do not "
        "edit by hand." % (biom.__version__, h5py.__version__),
        "#",
        "# Every [[file]] has path, origin, valid, format, why.",
        "# Valid tables: samples, features, total (sum of all values), nnz.",
        "#   For metaphlan files features = species (s__ clades), total = sum "
        "of the species' relative abundances (percent).",
        "# Invalid files: error_contains = a short lowercase phrase gutjoint's "
        "error should contain (compare case-insensitively).",
        "#   biom_accepts / biom_error record what biom.load_table itself "
        "does with the file (tsv/json/hdf5 only).",
        "# biom's to_json wrote matrix_element_type = %s for the integer "
        "counts." % json.dumps(json_element_type),
        "",
    ]
    for e in ENTRIES:
        out.append("[[file]]")
        for k, v in e.items():
            out.append("%s = %s" % (k, toml_value(v)))
        out.append("")
    with open(p("index.toml"), "w") as f:
        f.write("\n".join(out))


def main():
    if biom.__version__ != "2.1.18":
        print("warning: expected biom-format 2.1.18, have %s"
              % biom.__version__, file=sys.stderr)
    t, rel = make_biom_hdf5()
    element_type = make_json(t)
    make_globalpatterns()
    make_qza(t, rel)
    tsv = make_text(t)
    make_metaphlan()
    make_metadata()
    make_tree()
    make_lsmat()
    make_invalid(tsv)
    dump_layout("small.biom", "small.biom.layout.txt")
    dump_layout("small_compressed.biom", "small_compressed.biom.layout.txt")
    self_check()
    write_index(element_type)
    for e in ENTRIES:
        print("%-40s %7d bytes  valid=%s" % (e["path"], e["bytes"],
                                             e["valid"]))


if __name__ == "__main__":
    main()

//! The ecology issue's conformance evidence: gutjoint against scikit-bio 0.7.4, R's GUniFrac
//! and the `unifrac` package on real data (GlobalPatterns, enterotype) and on a tiny
//! hand-checkable table. Golden files and the scripts that made them are in
//! tests/data/golden/ecology/ (README there).

use crate::common::*;

const GOLDEN: &str = "tests/data/golden/ecology";
const GP: &str = "examples/data/phyloseq/GlobalPatterns.otu.tsv";
const GP_TREE: &str = "examples/data/phyloseq/GlobalPatterns.tree.nwk";

/// Reads an lsmat file into ids and a square matrix.
fn lsmat(path: &std::path::Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let ids: Vec<String> = lines
        .next()
        .expect("header")
        .split('\t')
        .skip(1)
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| {
            l.split('\t')
                .skip(1)
                .map(|v| v.parse().expect("number"))
                .collect()
        })
        .collect();
    (ids, rows)
}

fn table_tsv(path: &std::path::Path) -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    let text = std::fs::read_to_string(path).expect("tsv");
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("header")
        .split('\t')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| {
            let mut f = l.split('\t');
            let id = f.next().expect("id").to_string();
            (id, f.map(|v| v.parse().expect("number")).collect())
        })
        .collect();
    (header, rows)
}

fn assert_matrix_close(ours: &std::path::Path, golden: &str, rel: f64) {
    let (ids_a, a) = lsmat(ours);
    let (ids_b, b) = lsmat(&repo().join(GOLDEN).join(golden));
    assert_eq!(ids_a, ids_b, "{golden}: ids differ");
    for i in 0..a.len() {
        for j in 0..a.len() {
            assert!(
                close(a[i][j], b[i][j], rel),
                "{golden}: d({}, {}) = {} vs {}",
                ids_a[i],
                ids_a[j],
                a[i][j],
                b[i][j]
            );
        }
    }
}

fn beta_case(table: &str, tree: &str, metric: &str, extra: &[&str], golden: &str) {
    let out = temp_dir(&format!("beta-{golden}"));
    let path = out.join("dm.tsv");
    let mut args = vec![
        "beta",
        table,
        "--metric",
        metric,
        "--tree",
        tree,
        "-o",
        path.to_str().expect("utf8"),
    ];
    args.extend_from_slice(extra);
    ok(args);
    assert_matrix_close(&path, golden, 1e-9);
}

#[test]
fn beta_metrics_match_scikit_bio_and_gunifrac_on_globalpatterns() {
    for metric in [
        "braycurtis",
        "jaccard",
        "aitchison",
        "unweighted_unifrac",
        "weighted_unifrac",
        "weighted_normalized_unifrac",
    ] {
        beta_case(
            GP,
            GP_TREE,
            metric,
            &[],
            &format!("globalpatterns_{metric}.lsmat.tsv"),
        );
    }
    // Generalized UniFrac golden values are R's GUniFrac (d_0.5, d_1).
    beta_case(
        GP,
        GP_TREE,
        "generalized_unifrac",
        &["--alpha", "0.5"],
        "globalpatterns_generalized_unifrac_alpha0.5.lsmat.tsv",
    );
    beta_case(
        GP,
        GP_TREE,
        "generalized_unifrac",
        &["--alpha", "1"],
        "globalpatterns_generalized_unifrac_alpha1.0.lsmat.tsv",
    );
}

#[test]
fn beta_metrics_match_on_the_tiny_table() {
    let table = format!("{GOLDEN}/tiny_table.tsv");
    let tree = format!("{GOLDEN}/tiny_tree.nwk");
    for metric in [
        "braycurtis",
        "jaccard",
        "aitchison",
        "unweighted_unifrac",
        "weighted_unifrac",
        "weighted_normalized_unifrac",
    ] {
        beta_case(
            &table,
            &tree,
            metric,
            &[],
            &format!("tiny_{metric}.lsmat.tsv"),
        );
    }
    beta_case(
        &table,
        &tree,
        "generalized_unifrac",
        &["--alpha", "0.5"],
        "tiny_generalized_unifrac_alpha0.5.lsmat.tsv",
    );
}

#[test]
fn alpha_metrics_match_scikit_bio() {
    for (table, tree, golden) in [
        (
            GP.to_string(),
            GP_TREE.to_string(),
            "globalpatterns_alpha.tsv",
        ),
        (
            format!("{GOLDEN}/tiny_table.tsv"),
            format!("{GOLDEN}/tiny_tree.nwk"),
            "tiny_alpha.tsv",
        ),
    ] {
        let out = temp_dir(&format!("alpha-{golden}"));
        let path = out.join("alpha.tsv");
        ok([
            "alpha",
            &table,
            "--tree",
            &tree,
            "-o",
            path.to_str().expect("utf8"),
        ]);
        let (h_ours, ours) = table_tsv(&path);
        let (h_gold, gold) = table_tsv(&repo().join(GOLDEN).join(golden));
        assert_eq!(h_ours[0], "sample-id");
        for (k, metric) in h_gold.iter().enumerate().skip(1) {
            let c = h_ours
                .iter()
                .position(|h| h == metric)
                .unwrap_or_else(|| panic!("{metric} missing"));
            for ((id_a, a), (id_b, b)) in ours.iter().zip(&gold) {
                assert_eq!(id_a, id_b);
                let (x, y) = (a[c - 1], b[k - 1]);
                assert!(
                    (x.is_nan() && y.is_nan()) || close(x, y, 1e-9),
                    "{golden} {metric} {id_a}: {x} vs {y}"
                );
            }
        }
    }
}

#[test]
fn pcoa_matches_scikit_bio() {
    let out = temp_dir("pcoa");
    let dm = out.join("bc.tsv");
    ok([
        "beta",
        GP,
        "--metric",
        "braycurtis",
        "-o",
        dm.to_str().expect("utf8"),
    ]);
    let coords = out.join("pcoa.tsv");
    let v = json(&ok([
        "pcoa",
        dm.to_str().expect("utf8"),
        "-o",
        coords.to_str().expect("utf8"),
        "--json",
    ]));
    let (_, gold) = table_tsv(
        &repo()
            .join(GOLDEN)
            .join("globalpatterns_pcoa_braycurtis.tsv"),
    );
    let eig = v["eigenvalues"].as_array().expect("eigenvalues");
    let prop = v["proportion_explained"].as_array().expect("proportions");
    for (k, (axis, values)) in gold.iter().enumerate() {
        let (e, p) = (
            eig[k].as_f64().expect("f64"),
            prop[k].as_f64().expect("f64"),
        );
        // Eigenvalues that scikit-bio zeroes (|λ| ≤ 1e-8 or negative) compare absolutely.
        assert!(
            close(e, values[0], 1e-9) || (values[0] == 0.0 && e.abs() < 1e-8),
            "{axis}: {e} vs {}",
            values[0]
        );
        assert!(
            close(p, values[1], 1e-9) || (values[1] == 0.0 && p.abs() < 1e-8),
            "{axis}: {p} vs {}",
            values[1]
        );
    }
    // Coordinates agree up to each axis' sign (eigenvectors have no preferred sign).
    let (h, ours) = table_tsv(&coords);
    let (hg, theirs) = table_tsv(
        &repo()
            .join(GOLDEN)
            .join("globalpatterns_pcoa_braycurtis_coords.tsv"),
    );
    for (axis, name) in hg.iter().enumerate().skip(1) {
        let c = h.iter().position(|x| x == name).expect("axis");
        let sign = if ours[0].1[c - 1] * theirs[0].1[axis - 1] < 0.0 {
            -1.0
        } else {
            1.0
        };
        for (a, b) in ours.iter().zip(&theirs) {
            assert!(
                close(sign * a.1[c - 1], b.1[axis - 1], 1e-7),
                "{} {}: {} vs {}",
                a.0,
                hg[axis],
                a.1[c - 1],
                b.1[axis - 1]
            );
        }
    }
}

#[test]
fn pcoa_dimensions_match_scikit_bio_partial_eigh() {
    // `--dimensions K` with K < n computes only the leading K axes (block Lanczos) and, as
    // scikit-bio's `pcoa(method="eigh", dimensions=K)`, reports proportions of the centred
    // matrix's trace. Golden values: make_pcoa_top.py beside the fixtures.
    for (name, k) in [("enterotype", 10), ("globalpatterns", 3)] {
        let out = temp_dir(&format!("pcoa_top_{name}"));
        let coords = out.join("pcoa.tsv");
        let dm = repo()
            .join(GOLDEN)
            .join(format!("{name}_braycurtis.lsmat.tsv"));
        let v = json(&ok([
            "pcoa",
            dm.to_str().expect("utf8"),
            "--dimensions",
            &k.to_string(),
            "-o",
            coords.to_str().expect("utf8"),
            "--json",
        ]));
        let (_, gold) = table_tsv(&repo().join(GOLDEN).join(format!("{name}_pcoa_top{k}.tsv")));
        let eig = v["eigenvalues"].as_array().expect("eigenvalues");
        let prop = v["proportion_explained"].as_array().expect("proportions");
        assert_eq!((eig.len(), prop.len(), gold.len()), (k, k, k));
        for (a, (axis, values)) in gold.iter().enumerate() {
            let (e, p) = (
                eig[a].as_f64().expect("f64"),
                prop[a].as_f64().expect("f64"),
            );
            assert!(
                close(e, values[0], 1e-9),
                "{name} {axis}: {e} vs {}",
                values[0]
            );
            assert!(
                close(p, values[1], 1e-9),
                "{name} {axis}: {p} vs {}",
                values[1]
            );
        }
        // Coordinates up to each axis' sign, within 1e-9 of the axis' largest |coordinate|.
        let (h, ours) = table_tsv(&coords);
        let (hg, theirs) = table_tsv(
            &repo()
                .join(GOLDEN)
                .join(format!("{name}_pcoa_top{k}_coords.tsv")),
        );
        assert_eq!(h, hg);
        assert_eq!(ours.len(), theirs.len());
        for axis in 0..k {
            let scale = theirs.iter().map(|r| r.1[axis].abs()).fold(0.0, f64::max);
            let dot: f64 = ours
                .iter()
                .zip(&theirs)
                .map(|(a, b)| a.1[axis] * b.1[axis])
                .sum();
            let sign = dot.signum();
            for (a, b) in ours.iter().zip(&theirs) {
                assert_eq!(a.0, b.0);
                assert!(
                    (sign * a.1[axis] - b.1[axis]).abs() <= 1e-9 * scale,
                    "{name} {} PC{}: {} vs {}",
                    a.0,
                    axis + 1,
                    a.1[axis],
                    b.1[axis]
                );
            }
        }
    }
}

fn test_row(golden: &str, column: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(GOLDEN).join(golden)).expect("golden");
    text.lines()
        .find(|l| l.starts_with(&format!("{column}\t")))
        .expect("row")
        .split('\t')
        .map(str::to_string)
        .collect()
}

#[test]
fn permanova_and_permdisp_match_scikit_bio_on_enterotype() {
    let dm = format!("{GOLDEN}/enterotype_braycurtis.lsmat.tsv");
    let md = "examples/data/phyloseq/enterotype.metadata.tsv";
    for column in ["SeqTech", "Enterotype"] {
        for (command, golden) in [
            ("permanova", "enterotype_permanova.tsv"),
            ("permdisp", "enterotype_permdisp.tsv"),
        ] {
            let row = test_row(golden, column);
            let v = json(&ok([
                command,
                &dm,
                "--metadata",
                md,
                "--column",
                column,
                "--permutations",
                "999",
                "--seed",
                "42",
                "--json",
            ]));
            assert_eq!(
                v["sample_size"].as_u64().map(|x| x.to_string()).as_deref(),
                Some(row[2].as_str()),
                "{command} {column}"
            );
            assert_eq!(
                v["number_of_groups"]
                    .as_u64()
                    .map(|x| x.to_string())
                    .as_deref(),
                Some(row[3].as_str())
            );
            let f: f64 = row[4].parse().expect("F");
            let tolerance = if command == "permanova" { 1e-9 } else { 1e-6 };
            assert!(
                close(v["test_statistic"].as_f64().expect("F"), f, tolerance),
                "{command} {column}: {} vs {f}",
                v["test_statistic"]
            );
            let p: f64 = row[5].parse().expect("p");
            assert!(
                (v["p_value"].as_f64().expect("p") - p).abs() <= 0.02,
                "{command} {column}: p {} vs {p}",
                v["p_value"]
            );
            assert_eq!(v["permutations"], 999);
        }
    }
    // The Enterotype column is NA for 9 samples: they are dropped and named.
    let v = json(&ok([
        "permanova",
        &dm,
        "--metadata",
        md,
        "--column",
        "Enterotype",
        "--permutations",
        "9",
        "--json",
    ]));
    assert_eq!(v["dropped_missing_value"].as_array().map(Vec::len), Some(9));
}

#[test]
fn same_seed_same_bytes_and_permutation_invariance() {
    let dm = format!("{GOLDEN}/enterotype_braycurtis.lsmat.tsv");
    let md = "examples/data/phyloseq/enterotype.metadata.tsv";
    let a = ok([
        "permanova",
        &dm,
        "--metadata",
        md,
        "--column",
        "SeqTech",
        "--permutations",
        "99",
        "--seed",
        "7",
        "--json",
    ]);
    let b = ok([
        "permanova",
        &dm,
        "--metadata",
        md,
        "--column",
        "SeqTech",
        "--permutations",
        "99",
        "--seed",
        "7",
        "--json",
    ]);
    assert_eq!(a, b);
    // Reordering the table's samples reorders the matrix and nothing else.
    let out = temp_dir("reorder");
    let table = format!("{GOLDEN}/tiny_table.tsv");
    let text = std::fs::read_to_string(repo().join(&table)).expect("tiny");
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split('\t').collect();
    let order = [0usize, 4, 2, 3, 1];
    let mut reordered = String::new();
    for l in &lines {
        let f: Vec<&str> = l.split('\t').collect();
        let picked: Vec<&str> = order
            .iter()
            .filter(|&&k| k < f.len())
            .map(|&k| f[k])
            .collect();
        reordered.push_str(&picked.join("\t"));
        reordered.push('\n');
    }
    assert_eq!(header.len(), 5, "the tiny table has 4 samples");
    std::fs::write(out.join("re.tsv"), reordered).expect("write");
    for metric in ["braycurtis", "weighted_unifrac", "unweighted_unifrac"] {
        let tree = format!("{GOLDEN}/tiny_tree.nwk");
        ok([
            "beta",
            &table,
            "--metric",
            metric,
            "--tree",
            &tree,
            "-o",
            out.join("a.tsv").to_str().expect("utf8"),
        ]);
        ok([
            "beta",
            out.join("re.tsv").to_str().expect("utf8"),
            "--metric",
            metric,
            "--tree",
            &tree,
            "-o",
            out.join("b.tsv").to_str().expect("utf8"),
        ]);
        let (ia, a) = lsmat(&out.join("a.tsv"));
        let (ib, b) = lsmat(&out.join("b.tsv"));
        for i in 0..ia.len() {
            assert_eq!(a[i][i], 0.0, "zero diagonal");
            for j in 0..ia.len() {
                assert_eq!(a[i][j], a[j][i], "symmetric");
                let (bi, bj) = (
                    ib.iter().position(|x| *x == ia[i]).expect("id"),
                    ib.iter().position(|x| *x == ia[j]).expect("id"),
                );
                assert!(
                    close(a[i][j], b[bi][bj], 1e-12),
                    "{metric}: order changed d({}, {})",
                    ia[i],
                    ia[j]
                );
            }
        }
    }
}

#[test]
fn ecology_errors_are_clear() {
    let r = run([
        "alpha",
        "examples/data/gmhi/validation_abundance.csv",
        "--metric",
        "chao1",
    ]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.contains("chao1 needs integer counts"),
        "{}",
        r.stderr
    );
    let r = run([
        "beta",
        GP,
        "--metric",
        "unweighted_unifrac",
        "-o",
        "/dev/null",
    ]);
    // The library says what is wrong; the command line adds its flag (from the typed error).
    assert!(
        r.stderr.contains("needs a phylogenetic tree")
            && r.stderr.contains("hint: give the tree with --tree"),
        "{}",
        r.stderr
    );
    let r = run([
        "beta",
        "tests/data/formats/small.biom",
        "--metric",
        "weighted_unifrac",
        "--tree",
        GP_TREE,
        "-o",
        "/dev/null",
    ]);
    assert!(
        r.stderr.contains("not tips of the tree") && r.stderr.contains("hint: pass --drop-missing"),
        "{}",
        r.stderr
    );
    let r = run(["beta", GP, "--metric", "bray", "-o", "/dev/null"]);
    assert!(
        r.status == 2
            && r.stderr.contains("invalid value 'bray' for '--metric")
            && r.stderr.contains("braycurtis, jaccard, aitchison"),
        "{}",
        r.stderr
    );
    let dm = format!("{GOLDEN}/enterotype_braycurtis.lsmat.tsv");
    let r = run([
        "permanova",
        &dm,
        "--metadata",
        "examples/data/phyloseq/enterotype.metadata.tsv",
        "--column",
        "Nope",
    ]);
    assert!(
        r.stderr.contains("no column 'Nope'") && r.stderr.contains("SeqTech"),
        "{}",
        r.stderr
    );
}

/// Reads a 1-D `.npy` vector of f32 or f64 (the header is parsed, not assumed).
fn read_npy(path: &std::path::Path) -> Vec<f64> {
    let bytes = std::fs::read(path).expect("npy");
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + len]).expect("header");
    let data = &bytes[10 + len..];
    if header.contains("'<f4'") {
        data.chunks(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect()
    } else {
        assert!(header.contains("'<f8'"), "{header}");
        data.chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()
    }
}

#[test]
fn npy_output_in_both_precisions_equals_the_lsmat() {
    let out = temp_dir("npy");
    let table = "examples/data/phyloseq/enterotype.genus.tsv";
    let p = |name: &str| out.join(name).to_str().expect("utf8").to_string();
    ok(["beta", table, "--metric", "braycurtis", "-o", &p("bc.tsv")]);
    ok([
        "beta",
        table,
        "--metric",
        "braycurtis",
        "-o",
        &p("bc64.npy"),
    ]);
    ok([
        "beta",
        table,
        "--metric",
        "braycurtis",
        "--precision",
        "f32",
        "-o",
        &p("bc32.npy"),
    ]);
    // Computed and written in blocks of 4 KB of distances (dozens of blocks) instead of one:
    // the same file, byte for byte.
    ok([
        "beta",
        table,
        "--metric",
        "braycurtis",
        "--precision",
        "f32",
        "--f32-block-bytes",
        "4096",
        "-o",
        &p("bc32_blocks.npy"),
    ]);
    let whole = std::fs::read(out.join("bc32.npy")).expect("npy");
    assert!(
        whole.len() > 20 * 4096,
        "{} bytes: too few blocks",
        whole.len()
    );
    assert_eq!(
        whole,
        std::fs::read(out.join("bc32_blocks.npy")).expect("npy")
    );
    let (ids, square) = lsmat(&out.join("bc.tsv"));
    let ids_npy: Vec<String> = std::fs::read_to_string(out.join("bc32.npy.ids.txt"))
        .expect("ids")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ids, ids_npy);
    let (v64, v32) = (
        read_npy(&out.join("bc64.npy")),
        read_npy(&out.join("bc32.npy")),
    );
    assert_eq!(v64.len(), ids.len() * (ids.len() - 1) / 2);
    let upper: Vec<f64> = square
        .iter()
        .enumerate()
        .flat_map(|(i, row)| row[i + 1..].to_vec())
        .collect();
    for ((a, b), d) in v64.iter().zip(&v32).zip(&upper) {
        assert_eq!(a, d, "f64 .npy must equal the lsmat exactly");
        assert!((b - d).abs() <= 6e-8 * d.max(1e-30), "f32 rounding only");
    }
    // The .npy reads back as the same matrix: every command that takes a distance matrix
    // gives the same answer from it as from the lsmat (PCoA bytes, PERMANOVA's JSON).
    ok([
        "pcoa",
        &p("bc.tsv"),
        "--dimensions",
        "5",
        "-o",
        &p("pcoa_tsv.tsv"),
    ]);
    ok([
        "pcoa",
        &p("bc64.npy"),
        "--dimensions",
        "5",
        "-o",
        &p("pcoa_npy.tsv"),
    ]);
    let read = |name: &str| std::fs::read(out.join(name)).expect("pcoa output");
    assert_eq!(read("pcoa_tsv.tsv"), read("pcoa_npy.tsv"));
    let md = "examples/data/phyloseq/enterotype.metadata.tsv";
    assert_eq!(
        permanova_json(&p("bc.tsv"), md, "SeqTech"),
        permanova_json(&p("bc64.npy"), md, "SeqTech")
    );
    let r = run([
        "beta",
        table,
        "--metric",
        "braycurtis",
        "--precision",
        "f32",
        "-o",
        &p("bc.tsv"),
    ]);
    assert!(r.stderr.contains("writes a .npy file"), "{}", r.stderr);
}

/// `permanova DM --metadata MD --column COLUMN --seed 3 --json`'s output, for comparing the
/// same matrix read from two files.
fn permanova_json(dm: &str, md: &str, column: &str) -> String {
    ok([
        "permanova",
        dm,
        "--metadata",
        md,
        "--column",
        column,
        "--seed",
        "3",
        "--json",
    ])
}

/// Files NumPy saved (tests/data/npy/make_npy.py: scikit-bio's square `dm.data` in C and in
/// Fortran order, and its condensed form) read as the lsmat they came from: the same PCoA
/// bytes and the same PERMANOVA answer.
#[test]
fn npy_saved_by_numpy_reads_as_the_lsmat() {
    let out = temp_dir("npy-numpy");
    let lsmat = format!("{GOLDEN}/globalpatterns_braycurtis.lsmat.tsv");
    let md = "examples/data/phyloseq/GlobalPatterns.metadata.tsv";
    let pcoa = |dm: &str, name: &str| {
        let path = out.join(name);
        ok([
            "pcoa",
            dm,
            "--dimensions",
            "4",
            "-o",
            path.to_str().expect("utf8"),
        ]);
        std::fs::read(path).expect("pcoa output")
    };
    let permanova = |dm: &str| permanova_json(dm, md, "SampleType");
    let (expected_pcoa, expected_permanova) = (pcoa(&lsmat, "lsmat.tsv"), permanova(&lsmat));
    for layout in ["square", "fortran", "condensed"] {
        let npy = format!("tests/data/npy/globalpatterns_braycurtis.{layout}.npy");
        assert_eq!(
            pcoa(&npy, &format!("{layout}.tsv")),
            expected_pcoa,
            "{layout}"
        );
        assert_eq!(permanova(&npy), expected_permanova, "{layout}");
    }
}

#[test]
fn fsvd_approximates_the_exact_pcoa() {
    let out = temp_dir("fsvd");
    let dm = out.join("bc.tsv");
    ok([
        "beta",
        GP,
        "--metric",
        "braycurtis",
        "-o",
        dm.to_str().expect("utf8"),
    ]);
    let exact = json(&ok(["pcoa", dm.to_str().expect("utf8"), "--json"]));
    let approx = json(&ok([
        "pcoa",
        dm.to_str().expect("utf8"),
        "--method",
        "fsvd",
        "--dimensions",
        "3",
        "--seed",
        "5",
        "--json",
    ]));
    for k in 0..3 {
        let (e, a) = (
            exact["eigenvalues"][k].as_f64().expect("e"),
            approx["eigenvalues"][k].as_f64().expect("a"),
        );
        assert!(close(e, a, 1e-5), "axis {k}: {e} vs {a}");
        let (pe, pa) = (
            exact["proportion_explained"][k].as_f64().expect("p"),
            approx["proportion_explained"][k].as_f64().expect("p"),
        );
        assert!(close(pe, pa, 1e-5), "axis {k}: {pe} vs {pa}");
    }
}

/// `alpha --metric` and `dysbiosis --metric` are parsed by clap from one list of names
/// (crates/gutjoint-cli/src/methods.rs): the old spellings still work and name the same metric
/// (the column is named canonically), an unknown name is refused with status 2 and the list.
#[test]
fn metric_options_are_value_enums() {
    let canonical = ok([
        "alpha",
        GP,
        "--metric",
        "observed_features",
        "--metric",
        "pielou_e",
    ]);
    let alias = ok([
        "alpha",
        GP,
        "--metric",
        "observed-features",
        "--metric",
        "pielou-e",
    ]);
    assert_eq!(canonical, alias);
    assert!(
        canonical.starts_with("sample-id\tobserved_features\tpielou_e\n"),
        "{canonical}"
    );
    let r = run(["alpha", GP, "--metric", "shanon"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("invalid value 'shanon' for '--metric")
            && r.stderr.contains("observed_features, shannon, simpson"),
        "{}",
        r.stderr
    );
    let table = "examples/data/gmhi/validation_abundance.csv";
    let head = |metric: &str| {
        ok([
            "dysbiosis",
            table,
            "--reference",
            "gmhi-healthy",
            "--metric",
            metric,
            "--samples",
            "1/40",
        ])
    };
    let bray = head("braycurtis");
    assert_eq!(head("bray_curtis"), bray);
    assert_ne!(head("aitchison"), bray);
    let r = run([
        "dysbiosis",
        table,
        "--reference",
        "gmhi-healthy",
        "--metric",
        "euclid",
    ]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("invalid value 'euclid' for '--metric")
            && r.stderr
                .contains("[possible values: braycurtis, aitchison]"),
        "{}",
        r.stderr
    );
}

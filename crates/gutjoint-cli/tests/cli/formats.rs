//! The foundation issue's evidence: every specimen in tests/data/formats/index.toml (valid ones
//! give the manifest's shape and total, invalid ones a clear error and a non-zero exit, never
//! a panic), round trips through every output format, biom-format reading our files, and the
//! bundled real tables read whole.

use crate::common::*;

fn inspect(path: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["inspect", path, "--json"];
    args.extend_from_slice(extra);
    json(&ok(args))
}

#[test]
fn every_specimen_in_the_manifest() {
    let dir = repo().join("tests/data/formats");
    let entries = manifest(&dir.join("index.toml"));
    assert!(
        entries.len() >= 30,
        "manifest has {} entries",
        entries.len()
    );
    let mut checked = 0;
    for e in &entries {
        let path = format!("tests/data/formats/{}", e["path"]);
        let format = e["format"].as_str();
        let valid = e["valid"] == "true";
        let is_table = matches!(
            format,
            "biom-hdf5" | "biom-json" | "qza" | "tsv" | "csv" | "metaphlan"
        );
        let mut args: Vec<String> = match (format, is_table) {
            ("newick", _) | ("metadata", _) | ("lsmat", _) => {
                vec!["validate".into(), format.into(), path.clone()]
            }
            _ => vec!["inspect".into(), path.clone(), "--json".into()],
        };
        if e["path"].ends_with("samples_as_rows.csv") {
            args.push("--samples-as-rows".into());
        }
        let r = run(&args);
        assert_ne!(r.status, 101, "{path}: gutjoint panicked: {}", r.stderr);
        if valid {
            assert_eq!(r.status, 0, "{path}: expected success, got: {}", r.stderr);
            if is_table && e.contains_key("samples") {
                let v = json(&r.stdout);
                assert_eq!(
                    v["samples"].as_u64().map(|x| x.to_string()),
                    Some(e["samples"].clone()),
                    "{path} samples"
                );
                assert_eq!(
                    v["features"].as_u64().map(|x| x.to_string()),
                    Some(e["features"].clone()),
                    "{path} features"
                );
                let total: f64 = e["total"].parse().expect("total");
                assert!(
                    close(v["total"].as_f64().expect("total"), total, 1e-9),
                    "{path}: total {} vs {total}",
                    v["total"]
                );
                if let Some(nnz) = e.get("nnz") {
                    assert_eq!(
                        v["nonzero"].as_u64().map(|x| x.to_string()).as_ref(),
                        Some(nnz),
                        "{path} nnz"
                    );
                }
            }
        } else {
            assert_eq!(
                r.status, 1,
                "{path}: expected a clean failure, got status {} ({})",
                r.status, r.stderr
            );
            assert!(r.stderr.starts_with("error: "), "{path}: {}", r.stderr);
            assert!(
                r.stderr.contains(&e["path"]),
                "{path}: error does not name the file: {}",
                r.stderr
            );
            if let Some(hint) = e.get("error_contains") {
                let message = r.stderr.replace(&path, "FILE");
                assert!(
                    message.to_lowercase().contains(&hint.to_lowercase()),
                    "{path}: error should mention '{hint}': {}",
                    r.stderr
                );
            }
            assert_eq!(
                r.stderr.lines().count(),
                1,
                "{path}: one human line expected: {}",
                r.stderr
            );
        }
        checked += 1;
    }
    assert_eq!(checked, entries.len());
}

#[test]
fn round_trips_through_every_format() {
    let out = temp_dir("roundtrip");
    for source in [
        "tests/data/formats/small.biom",
        "tests/data/formats/globalpatterns_subset.biom",
        "tests/data/formats/relative.qza",
        "tests/data/formats/metaphlan4_single.tsv",
    ] {
        let original = ok([
            "convert",
            source,
            "-o",
            out.join("orig.tsv").to_str().expect("utf8"),
        ]);
        assert!(original.is_empty());
        let reference = std::fs::read_to_string(out.join("orig.tsv")).expect("tsv");
        for ext in ["biom", "json", "tsv"] {
            let first = out.join(format!("a.{ext}"));
            ok(["convert", source, "-o", first.to_str().expect("utf8")]);
            let back = out.join(format!("back-{ext}.tsv"));
            ok([
                "convert",
                first.to_str().expect("utf8"),
                "-o",
                back.to_str().expect("utf8"),
            ]);
            let text = std::fs::read_to_string(&back).expect("tsv");
            assert_eq!(
                text, reference,
                "{source} -> .{ext} -> .tsv changed ids, values or taxonomy"
            );
        }
    }
}

/// biom-format (Python) must read what we write. CI installs it (`.ci/run` sets
/// GUTJOINT_REQUIRE_PYTHON=1); elsewhere the test says it skipped.
#[test]
fn biom_format_reads_our_files() {
    let python = std::process::Command::new("python3")
        .args(["-c", "import biom, h5py"])
        .status();
    if !python.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var_os("GUTJOINT_REQUIRE_PYTHON").is_none(),
            "biom-format is required but not importable"
        );
        eprintln!("skipped: Python biom-format is not installed");
        return;
    }
    let out = temp_dir("biomread");
    for (source, ext) in [
        ("tests/data/formats/small.biom", "biom"),
        ("tests/data/formats/small.biom", "json"),
        ("tests/data/formats/globalpatterns_subset.biom", "biom"),
        ("examples/data/gmhi/species_relative_abundances.csv", "biom"),
    ] {
        let ours = out.join(format!("ours.{ext}"));
        ok(["convert", source, "-o", ours.to_str().expect("utf8")]);
        let ours_view = std::process::Command::new("python3")
            .arg(repo().join("tests/data/formats/read_back.py"))
            .arg(&ours)
            .output()
            .expect("python");
        assert!(
            ours_view.status.success(),
            "biom-format could not read our {ext}: {}",
            String::from_utf8_lossy(&ours_view.stderr)
        );
        let ours_json = json(&String::from_utf8_lossy(&ours_view.stdout));
        // Compare with what biom-format sees in a file it wrote itself, or in our own reading.
        let theirs = inspect(source, &[]);
        assert_eq!(
            ours_json["samples"].as_array().map(Vec::len),
            theirs["samples"].as_u64().map(|n| n as usize),
            "{source}"
        );
        assert_eq!(
            ours_json["features"].as_array().map(Vec::len),
            theirs["features"].as_u64().map(|n| n as usize),
            "{source}"
        );
        assert!(
            close(
                ours_json["total"].as_f64().expect("total"),
                theirs["total"].as_f64().expect("total"),
                1e-12
            ),
            "{source}"
        );
        assert_eq!(
            ours_json["nnz"].as_u64(),
            theirs["nonzero"].as_u64(),
            "{source}"
        );
    }
}

#[test]
fn bundled_real_tables_are_read_whole() {
    let gmhi = inspect("examples/data/gmhi/validation_abundance.csv", &[]);
    assert_eq!(gmhi["samples"], 782);
    assert_eq!(gmhi["features"], 576);
    assert_eq!(gmhi["format"], "csv");
    assert_eq!(gmhi["value_kind"], "relative");
    let gp = inspect("examples/data/phyloseq/GlobalPatterns.otu.tsv", &[]);
    assert_eq!(gp["samples"], 26);
    assert_eq!(gp["features"], 19216);
    // Sum of every count in the file (awk '{for(i=2;i<=NF;i++)s+=$i} END{print s}' skipping the header).
    assert_eq!(gp["total"], 28216678.0);
    assert_eq!(gp["value_kind"], "counts");
}

#[test]
fn taxonomy_file_and_rank_collapse() {
    let genus = inspect(
        "examples/data/phyloseq/GlobalPatterns.otu.tsv",
        &[
            "--taxonomy",
            "examples/data/phyloseq/GlobalPatterns.taxonomy.tsv",
            "--rank",
            "phylum",
        ],
    );
    assert_eq!(genus["samples"], 26);
    assert_eq!(
        genus["total"], 28216678.0,
        "collapsing must keep every count"
    );
    // Distinct Kingdom;Phylum pairs in GlobalPatterns.taxonomy.tsv (cut -f2,3 | sort -u | wc -l).
    let pairs: std::collections::BTreeSet<String> =
        std::fs::read_to_string(repo().join("examples/data/phyloseq/GlobalPatterns.taxonomy.tsv"))
            .expect("taxonomy")
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                format!("{}|{}", f[1], f[2])
            })
            .collect();
    assert_eq!(genus["features"].as_u64(), Some(pairs.len() as u64));
}

#[test]
fn metaphlan_rank_selection() {
    let species = inspect("tests/data/formats/metaphlan4_single.tsv", &[]);
    let phylum = inspect(
        "tests/data/formats/metaphlan4_single.tsv",
        &["--rank", "phylum"],
    );
    // Every rank of the profile sums to 100 minus its UNCLASSIFIED share (5.0), which is set aside.
    assert!(
        close(species["total"].as_f64().expect("t"), 95.0, 1e-9),
        "{species}"
    );
    assert!(
        close(phylum["total"].as_f64().expect("t"), 95.0, 1e-9),
        "{phylum}"
    );
    assert_eq!(species["features"], 8);
    assert_eq!(
        phylum["features"], 4,
        "Bacteroidetes, Firmicutes, Actinobacteria, Euryarchaeota"
    );
    assert!(
        species["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("UNCLASSIFIED")),
        "{species}"
    );
}

#[test]
fn outputs_are_atomic_and_inputs_untouched() {
    let out = temp_dir("atomic");
    let target = out.join("t.biom");
    std::fs::write(&target, b"previous").expect("write");
    let r = run([
        "convert",
        "tests/data/formats/bad_ragged.tsv",
        "-o",
        target.to_str().expect("utf8"),
    ]);
    assert_eq!(r.status, 1);
    assert_eq!(
        std::fs::read(&target).expect("read"),
        b"previous",
        "a failed run must not touch the output"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    let bad_ext = run([
        "convert",
        "tests/data/formats/small.biom",
        "-o",
        out.join("t.xlsx").to_str().expect("utf8"),
    ]);
    assert_eq!(bad_ext.status, 1);
    assert!(bad_ext.stderr.contains("cannot tell the output format"));
}

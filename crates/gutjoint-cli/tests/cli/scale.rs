//! Issue #16: distance matrices in blocks, merged bit for bit; PERMANOVA by blocks equal to the
//! single run; per-sample analyses in chunks; the Snakemake workflow. The peer of every check
//! is gutjoint's own single-process command, itself checked against scikit-bio elsewhere
//! (ecology.rs): blocks must not change a single bit of it.

use crate::common::{json, ok, repo, run, temp_dir};
use std::path::{Path, PathBuf};

const GP: &str = "examples/data/phyloseq/GlobalPatterns.otu.tsv";
const GP_TREE: &str = "examples/data/phyloseq/GlobalPatterns.tree.nwk";
const GP_MD: &str = "examples/data/phyloseq/GlobalPatterns.metadata.tsv";
const ENT: &str = "examples/data/phyloseq/enterotype.genus.tsv";
const ENT_MD: &str = "examples/data/phyloseq/enterotype.metadata.tsv";

fn s(p: &Path) -> String {
    p.to_str().expect("utf8").to_string()
}

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Writes the `count` parts of a matrix and returns their paths (block 1 first).
fn parts(dir: &Path, name: &str, count: usize, beta_args: &[&str]) -> Vec<PathBuf> {
    (1..=count)
        .map(|i| {
            let part = dir.join(format!("{name}.{i}of{count}.part"));
            let mut args: Vec<String> = vec!["beta".into()];
            args.extend(beta_args.iter().map(|a| a.to_string()));
            args.extend([
                "--block".into(),
                format!("{i}/{count}"),
                "-o".into(),
                s(&part),
            ]);
            ok(&args);
            part
        })
        .collect()
}

fn merge(parts: &[PathBuf], out: &Path) -> crate::common::Run {
    let mut args = vec!["beta-merge".to_string()];
    args.extend(parts.iter().map(|p| s(p)));
    args.extend(["-o".into(), s(out)]);
    run(&args)
}

#[test]
fn merged_blocks_are_the_single_run_bit_for_bit() {
    let dir = temp_dir("scale-merge");
    let cases: [(&str, &[&str]); 5] = [
        ("braycurtis", &[GP, "--metric", "braycurtis"]),
        ("jaccard", &[GP, "--metric", "jaccard"]),
        (
            "aitchison",
            &[ENT, "--metric", "aitchison", "--pseudocount", "0.5"],
        ),
        (
            "unweighted_unifrac",
            &[GP, "--metric", "unweighted_unifrac", "--tree", GP_TREE],
        ),
        (
            "generalized_unifrac",
            &[
                GP,
                "--metric",
                "generalized_unifrac",
                "--alpha",
                "0.3",
                "--tree",
                GP_TREE,
            ],
        ),
    ];
    for (name, args) in cases {
        for precision in ["f64", "f32"] {
            let mut single: Vec<&str> = vec!["beta"];
            single.extend(args);
            let whole = dir.join(format!("{name}.{precision}.npy"));
            let ws = s(&whole);
            single.extend(["--precision", precision, "-o", &ws]);
            ok(&single);
            let lsmat = dir.join(format!("{name}.tsv"));
            if precision == "f64" {
                let mut single: Vec<&str> = vec!["beta"];
                single.extend(args);
                let ls = s(&lsmat);
                single.extend(["-o", &ls]);
                ok(&single);
            }
            let mut block_args = args.to_vec();
            block_args.extend(["--precision", precision]);
            // In any order, and with more blocks than a small matrix has rows' worth.
            for count in [1, 3, 7] {
                let mut p = parts(&dir, &format!("{name}.{precision}"), count, &block_args);
                p.reverse();
                let merged = dir.join(format!("{name}.{precision}.{count}.npy"));
                let r = merge(&p, &merged);
                assert_eq!(r.status, 0, "{name} {precision} {count}: {}", r.stderr);
                assert!(
                    bytes(&merged) == bytes(&whole),
                    "{name} {precision} in {count} blocks: merged .npy differs from the single run"
                );
                let ids = |p: &Path| bytes(Path::new(&format!("{}.ids.txt", p.display())));
                assert_eq!(ids(&merged), ids(&whole));
                if precision == "f64" {
                    let merged_ls = dir.join(format!("{name}.{count}.tsv"));
                    assert_eq!(merge(&p, &merged_ls).status, 0);
                    assert!(
                        bytes(&merged_ls) == bytes(&lsmat),
                        "{name} lsmat, {count} blocks"
                    );
                } else if count == 3 {
                    let r = merge(&p, &dir.join("f32.tsv"));
                    assert!(r.stderr.contains("name the output OUT.npy"), "{}", r.stderr);
                }
            }
        }
    }
}

#[test]
fn parts_that_do_not_make_one_matrix_are_refused_by_name() {
    let dir = temp_dir("scale-bad");
    let bc = parts(&dir, "bc", 3, &[GP, "--metric", "braycurtis"]);
    let out = dir.join("out.npy");
    let refused = |parts: &[PathBuf], expect: &[&str]| {
        let r = merge(parts, &out);
        assert_ne!(r.status, 0, "merged {parts:?}");
        for e in expect {
            assert!(r.stderr.contains(e), "expected '{e}' in: {}", r.stderr);
        }
        assert!(!out.exists(), "no output may be written");
    };
    // Missing and duplicated blocks.
    refused(&[bc[0].clone(), bc[2].clone()], &["block 2/3", "missing"]);
    refused(
        &[bc[0].clone(), bc[1].clone(), bc[1].clone(), bc[2].clone()],
        &["block 2/3 is given twice", &s(&bc[1])],
    );
    // Another metric, another table, another split.
    let jac = parts(&dir, "jac", 3, &[GP, "--metric", "jaccard"]);
    refused(
        &[bc[0].clone(), jac[1].clone(), bc[2].clone()],
        &["different matrices", "metric", &s(&jac[1])],
    );
    let ent = parts(&dir, "ent", 3, &[ENT, "--metric", "braycurtis"]);
    refused(
        &[bc[0].clone(), ent[1].clone(), bc[2].clone()],
        &["different matrices", "table_sha256"],
    );
    let four = parts(&dir, "bc4", 4, &[GP, "--metric", "braycurtis"]);
    refused(
        &[bc[0].clone(), four[1].clone(), bc[2].clone()],
        &["one of 3 blocks", "one of 4"],
    );
    let f32 = parts(
        &dir,
        "bc32",
        3,
        &[GP, "--metric", "braycurtis", "--precision", "f32"],
    );
    refused(
        &[bc[0].clone(), f32[1].clone(), bc[2].clone()],
        &["precision"],
    );
    // A flipped payload byte, a truncated file, a file that is not a part.
    let corrupt = dir.join("corrupt.part");
    let mut b = bytes(&bc[1]);
    let last = b.len() - 3;
    b[last] ^= 0x40;
    std::fs::write(&corrupt, &b).expect("write");
    refused(
        &[bc[0].clone(), corrupt.clone(), bc[2].clone()],
        &["corrupt.part", "SHA-256"],
    );
    std::fs::write(&corrupt, &bytes(&bc[1])[..b.len() - 8]).expect("write");
    refused(
        &[bc[0].clone(), corrupt.clone(), bc[2].clone()],
        &["corrupt.part", "truncated"],
    );
    refused(
        &[bc[0].clone(), PathBuf::from(GP_MD)],
        &["not a gutjoint block part"],
    );
    // The three good parts still merge.
    assert_eq!(merge(&bc, &out).status, 0);
}

/// The single run's JSON against the blockwise one: every key equal, the pseudo-F to the
/// reassociation bound (blocks add their sums of squares separately: see blocks.rs).
fn same_permanova(single: &serde_json::Value, blocks: &serde_json::Value, what: &str) {
    for key in [
        "method",
        "sample_size",
        "number_of_groups",
        "p_value",
        "permutations",
        "column",
        "seed",
        "groups",
        "dropped_missing_value",
        "dropped_not_in_metadata",
    ] {
        assert_eq!(single[key], blocks[key], "{what}: {key}");
    }
    let (a, b) = (
        single["test_statistic"].as_f64().expect("F"),
        blocks["test_statistic"].as_f64().expect("F"),
    );
    assert!((a - b).abs() <= 1e-12 * a, "{what}: F {a} vs {b}");
}

#[test]
fn permanova_by_blocks_equals_the_single_run() {
    let dir = temp_dir("scale-permanova");
    // 280 enterotype samples (single run in f32 products), 3 groups, some without a value;
    // and GlobalPatterns' 26 samples in 9 sample types on unweighted UniFrac.
    let cases: [(&str, &[&str], &str, &str); 2] = [
        (
            "ent",
            &[ENT, "--metric", "braycurtis"],
            ENT_MD,
            "Enterotype",
        ),
        (
            "gp",
            &[GP, "--metric", "unweighted_unifrac", "--tree", GP_TREE],
            GP_MD,
            "SampleType",
        ),
    ];
    for (name, args, md, column) in cases {
        let lsmat = dir.join(format!("{name}.tsv"));
        let mut single: Vec<&str> = vec!["beta"];
        single.extend(args);
        let ls = s(&lsmat);
        single.extend(["-o", &ls]);
        ok(&single);
        let test = [
            "--metadata",
            md,
            "--column",
            column,
            "--permutations",
            "299",
            "--seed",
            "5",
        ];
        let mut a = vec!["permanova".to_string(), ls.clone()];
        a.extend(test.iter().map(|x| x.to_string()));
        a.push("--json".into());
        let one = json(&ok(&a));
        for count in [1, 4] {
            let p = parts(&dir, name, count, args);
            let mut a = vec!["permanova".to_string(), "--blocks".into()];
            a.extend(p.iter().map(|x| s(x)));
            a.extend(test.iter().map(|x| x.to_string()));
            a.push("--json".into());
            let blocks = json(&ok(&a));
            same_permanova(&one, &blocks, &format!("{name} --blocks, {count} blocks"));
            if count == 1 {
                assert_eq!(
                    one["test_statistic"], blocks["test_statistic"],
                    "one block: same bits"
                );
            }
            // The same through separate map and reduce steps.
            let mut sums = Vec::new();
            for (i, part) in p.iter().enumerate() {
                let out = dir.join(format!("{name}.{i}.sums.json"));
                let mut a = vec!["permanova-map".to_string(), s(part)];
                a.extend(test.iter().map(|x| x.to_string()));
                a.extend(["-o".into(), s(&out)]);
                ok(&a);
                sums.push(s(&out));
            }
            let mut a = vec!["permanova-reduce".to_string(), "--json".into()];
            a.extend(sums.iter().rev().cloned());
            let reduced = json(&ok(&a));
            same_permanova(
                &one,
                &reduced,
                &format!("{name} map/reduce, {count} blocks"),
            );
            if count == 4 {
                // A block mapped with another seed, or missing, is refused.
                let other = dir.join("other-seed.json");
                let mut a = vec!["permanova-map".to_string(), s(&p[1])];
                // The same options with --seed 6 instead of 5.
                a.extend(
                    test.iter()
                        .map(|x| if *x == "5" { "6" } else { x }.to_string()),
                );
                a.extend(["-o".into(), s(&other)]);
                ok(&a);
                let r = run(["permanova-reduce", &sums[0], &s(&other), &sums[2], &sums[3]]);
                assert!(
                    r.stderr
                        .contains("different metadata, column, strata, permutations, seed"),
                    "{}",
                    r.stderr
                );
                let r = run(["permanova-reduce", &sums[0], &sums[2], &sums[3]]);
                assert!(
                    r.stderr.contains("block 2/4") && r.stderr.contains("missing"),
                    "{}",
                    r.stderr
                );
            }
        }
    }
}

/// Concatenating chunk outputs (the header once) gives one run's output, byte for byte.
fn chunks_concatenate(command: &[&str], count: usize) {
    let whole = ok(command);
    let mut joined = String::new();
    for k in 1..=count {
        let mut a: Vec<String> = command.iter().map(|x| x.to_string()).collect();
        a.extend(["--samples".into(), format!("{k}/{count}")]);
        let text = ok(&a);
        let mut lines = text.lines();
        let header = lines.next().expect("header");
        if k == 1 {
            joined.push_str(header);
            joined.push('\n');
        } else {
            assert_eq!(header, whole.lines().next().expect("header"));
        }
        for l in lines {
            joined.push_str(l);
            joined.push('\n');
        }
    }
    assert_eq!(joined, whole, "{command:?} in {count} chunks");
}

#[test]
fn per_sample_chunks_concatenate_to_one_run() {
    chunks_concatenate(&["alpha", GP, "--tree", GP_TREE], 4);
    chunks_concatenate(&["alpha", ENT, "--metric", "shannon"], 3);
    chunks_concatenate(
        &["gmhi", "examples/data/gmhi/species_relative_abundances.csv"],
        3,
    );
    chunks_concatenate(
        &[
            "dysbiosis",
            "examples/data/gespic/gespic_genus.tsv",
            "--reference",
            "gespic-healthy",
        ],
        3,
    );
    // Signatures against a reference with the samples in it (each scored leave-one-out) and
    // drugs called against the built-in healthy bands: neither depends on the other samples.
    chunks_concatenate(
        &[
            "signatures",
            "examples/data/gmhi/validation_abundance.csv",
            "--disease",
            "AS",
            "--reference",
            "gmhi-healthy",
        ],
        3,
    );
    chunks_concatenate(
        &[
            "drugs",
            "examples/data/gmhi/validation_abundance.csv",
            "--drugs",
            "sulfasalazine,digoxin",
        ],
        3,
    );
    let r = run(["alpha", GP, "--samples", "5/4"]);
    assert!(r.stderr.contains("1 ≤ I ≤ N"), "{}", r.stderr);
}

/// The snakemake that scripts/setup.sh installs (or `GUTJOINT_SNAKEMAKE`), if any.
fn snakemake() -> Option<String> {
    let home = std::env::var("HOME").unwrap_or_default();
    [
        std::env::var("GUTJOINT_SNAKEMAKE").unwrap_or_default(),
        format!("{home}/.cache/gutjoint/snakemake/bin/snakemake"),
    ]
    .into_iter()
    .find(|c| !c.is_empty() && Path::new(c).is_file())
}

/// The snakemake to test with, or `None` after a skip note. CI installs it and sets
/// GUTJOINT_REQUIRE_SNAKEMAKE: there a missing snakemake fails.
fn snakemake_or_skip() -> Option<String> {
    let found = snakemake();
    if found.is_none() {
        assert!(
            std::env::var_os("GUTJOINT_REQUIRE_SNAKEMAKE").is_none(),
            "snakemake is required but not installed"
        );
        eprintln!("skipped: snakemake not installed (scripts/setup.sh installs it)");
    }
    found
}

/// Runs `workflow/Snakefile` with `config` in `dir` (`extra`: how snakemake schedules the
/// jobs); fails with snakemake's log unless it succeeds, else returns that log.
fn run_workflow(snakemake: &str, dir: &Path, config: &Path, extra: &[&str]) -> String {
    let output = std::process::Command::new(snakemake)
        .args(["--snakefile"])
        .arg(repo().join("workflow/Snakefile"))
        .args(["--configfile"])
        .arg(config)
        .args(extra)
        .args(["--directory"])
        .arg(dir)
        .output()
        .expect("run snakemake");
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "snakemake failed:\n{log}");
    log
}

/// Runs the workflow with 3 shards on the enterotype table (`extra`: how snakemake schedules
/// the jobs) and checks every output against the single-process commands: the merged matrix
/// and its ids byte for byte, PERMANOVA's pseudo-F and p, the alpha chunks' rows.
fn workflow_matches_the_single_process_commands(snakemake: &str, name: &str, extra: &[&str]) {
    let dir = temp_dir(name);
    let bin = crate::common::bin();
    let config = dir.join("config.yaml");
    let outdir = dir.join("out");
    std::fs::write(
        &config,
        format!(
            "table: {r}/{ENT}\nmetric: braycurtis\nmetadata: {r}/{ENT_MD}\ncolumn: Enterotype\nshards: 3\npermutations: 199\nseed: 3\nformat: npy\noutdir: {o}\nmerge: true\ngutjoint: {b}\nper_sample: [alpha]\n",
            r = repo().display(),
            o = outdir.display(),
            b = bin.display()
        ),
    )
    .expect("config");
    let log = run_workflow(snakemake, &dir, &config, extra);
    let single = dir.join("single.npy");
    ok(["beta", ENT, "--metric", "braycurtis", "-o", &s(&single)]);
    assert!(
        bytes(&outdir.join("distance.npy")) == bytes(&single),
        "workflow matrix differs"
    );
    let ids = |p: &Path| bytes(Path::new(&format!("{}.ids.txt", p.display())));
    assert_eq!(ids(&outdir.join("distance.npy")), ids(&single));
    let lsmat = dir.join("single.tsv");
    ok(["beta", ENT, "--metric", "braycurtis", "-o", &s(&lsmat)]);
    let one = json(&ok([
        "permanova",
        &s(&lsmat),
        "--metadata",
        ENT_MD,
        "--column",
        "Enterotype",
        "--permutations",
        "199",
        "--seed",
        "3",
        "--json",
    ]));
    let text = std::fs::read_to_string(outdir.join("permanova.json")).expect("permanova.json");
    same_permanova(&one, &json(&text), "workflow");
    let alpha = std::fs::read_to_string(outdir.join("alpha.tsv")).expect("alpha.tsv");
    assert_eq!(alpha, ok(["alpha", ENT]), "workflow alpha chunks");
    if extra.contains(&"slurm") {
        // Every job but the final `all` went through sbatch: 3 blocks, 3 maps, 1 reduce,
        // 1 merge, 3 alpha chunks and their concatenation.
        let submitted = log.matches("has been submitted with SLURM jobid").count();
        assert_eq!(submitted, 12, "jobs submitted to Slurm:\n{log}");
    }
}

/// Runs the Snakemake workflow with 3 shards when `snakemake` is installed (scripts/setup.sh
/// puts it in ~/.cache/gutjoint/snakemake), else says why it did not.
#[test]
fn snakemake_workflow_matches_the_single_process_commands() {
    let Some(snakemake) = snakemake_or_skip() else {
        return;
    };
    workflow_matches_the_single_process_commands(&snakemake, "scale-snakemake", &["--cores", "2"]);
}

/// The same workflow submitted to a one-node Slurm cluster through the Slurm executor plugin
/// and the repository's `slurm` profile: runs where `scripts/slurm-test.sh start` made that
/// cluster (it exports GUTJOINT_TEST_SLURM; `.ci/run` does so and sets GUTJOINT_REQUIRE_SLURM).
/// No accounting database there, so job states come from squeue (docs/scale.md says why).
#[test]
fn snakemake_workflow_on_slurm() {
    let cluster = std::env::var_os("GUTJOINT_TEST_SLURM").is_some();
    let snakemake = snakemake();
    let (Some(snakemake), true) = (snakemake, cluster) else {
        assert!(
            std::env::var_os("GUTJOINT_REQUIRE_SLURM").is_none(),
            "a Slurm cluster and snakemake are required (scripts/slurm-test.sh start)"
        );
        eprintln!("skipped: no test Slurm cluster (scripts/slurm-test.sh start makes one)");
        return;
    };
    let profile = repo().join("workflow/profiles/slurm");
    workflow_matches_the_single_process_commands(
        &snakemake,
        "scale-slurm",
        &[
            "--workflow-profile",
            &s(&profile),
            "--executor",
            "slurm",
            "--slurm-status-command",
            "squeue",
            "--slurm-init-seconds-before-status-checks",
            "2",
            "--seconds-between-status-checks",
            "2",
            "--latency-wait",
            "5",
        ],
    );
}

/// Every per-sample analysis the workflow offers, in 3 chunks on a species table, concatenated
/// by the workflow: the same bytes as one `gutjoint` run of each (distances unmerged).
#[test]
fn snakemake_per_sample_analyses_match_one_run() {
    let Some(snakemake) = snakemake_or_skip() else {
        return;
    };
    const GMHI: &str = "examples/data/gmhi/validation_abundance.csv";
    let dir = temp_dir("scale-per-sample");
    let outdir = dir.join("out");
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "table: {r}/{GMHI}\nmetric: braycurtis\nshards: 3\noutdir: {o}\nmerge: false\ngutjoint: {b}\nper_sample: [gmhi, dysbiosis, signatures, drugs]\nreference: gmhi-healthy\ndisease: AS\ndrugs: [sulfasalazine, digoxin]\n",
            r = repo().display(),
            o = outdir.display(),
            b = crate::common::bin().display()
        ),
    )
    .expect("config");
    run_workflow(&snakemake, &dir, &config, &["--cores", "2"]);
    let read = |name: &str| std::fs::read_to_string(outdir.join(name)).expect(name);
    let reference = ["--reference", "gmhi-healthy"];
    assert_eq!(read("gmhi.tsv"), ok(["gmhi", GMHI]));
    assert_eq!(
        read("dysbiosis.tsv"),
        ok([&["dysbiosis", GMHI][..], &reference].concat())
    );
    assert_eq!(
        read("signatures.tsv"),
        ok([&["signatures", GMHI, "--disease", "AS"][..], &reference].concat())
    );
    assert_eq!(
        read("drugs.tsv"),
        ok([
            &[
                "drugs",
                GMHI,
                "--disease",
                "AS",
                "--drugs",
                "sulfasalazine,digoxin"
            ][..],
            &reference
        ]
        .concat())
    );
    assert!(
        !outdir.join("distance.npy").exists(),
        "merge: false assembled the matrix"
    );
}

//! Compresses the data files the binary carries (demo data, built-in references, run-time
//! knowledge tables) into OUT_DIR, where `src/assets.rs` embeds them with `include_bytes!`.
//! Compressed, the demo table is a fifth of its size; nothing here is read at run time.

use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `(path from the repository root, name in OUT_DIR)`.
const FILES: &[(&str, &str)] = &[
    (
        "knowledge/maier2018_inhibition.tsv",
        "maier2018_inhibition.tsv",
    ),
    (
        "examples/data/gmhi/validation_abundance.csv",
        "demo_gmhi_validation_abundance.csv",
    ),
    (
        "examples/demo/gmhi_arthritis_metadata.tsv",
        "demo_gmhi_arthritis_metadata.tsv",
    ),
    (
        "examples/data/gespic/gespic_genus.tsv",
        "demo_gespic_genus.tsv",
    ),
    (
        "examples/data/gespic/gespic_metadata.tsv",
        "demo_gespic_metadata.tsv",
    ),
    // The LGG probiotic trial (Lahti et al. 2013): the demo's third report, change over time.
    (
        "examples/data/longitudinal/peerj32/counts.tsv",
        "demo_peerj32_counts.tsv",
    ),
    (
        "examples/data/longitudinal/peerj32/metadata.tsv",
        "demo_peerj32_metadata.tsv",
    ),
    (
        "examples/data/longitudinal/peerj32/taxonomy.tsv",
        "demo_peerj32_taxonomy.tsv",
    ),
    // Arumugam et al. 2011 genus profiles with their published enterotype labels: the
    // enterotype centroids (`gutjoint enterotype`, engraftment's baseline community type).
    (
        "examples/data/phyloseq/enterotype.genus.tsv",
        "enterotype_genus.tsv",
    ),
    (
        "examples/data/phyloseq/enterotype.metadata.tsv",
        "enterotype_metadata.tsv",
    ),
    (
        "crates/gutjoint-pipeline/assets/references/gmhi-healthy.reference.json",
        "gmhi-healthy.reference.json",
    ),
    (
        "crates/gutjoint-pipeline/assets/references/gespic-healthy.reference.json",
        "gespic-healthy.reference.json",
    ),
];

/// Embedded only with the `agora2` feature: GPL-3-derived data (knowledge/PHARMACO.md §6).
/// `known_drug_metabolizers.tsv` comes from the same GPL-3 repository; it is what the drug
/// calls' measured validity (sensitivity of each carriage column) is computed from.
const GPL_FILES: &[(&str, &str)] = &[
    ("knowledge/enzyme_carriage.tsv", "enzyme_carriage.tsv"),
    (
        "knowledge/known_drug_metabolizers.tsv",
        "known_drug_metabolizers.tsv",
    ),
];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("../..");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let agora2 = std::env::var_os("CARGO_FEATURE_AGORA2").is_some();
    for (source, name) in FILES.iter().chain(GPL_FILES.iter().filter(|_| agora2)) {
        compress(&root.join(source), &out.join(format!("{name}.gz")));
    }
}

fn compress(source: &Path, target: &Path) {
    println!("cargo:rerun-if-changed={}", source.display());
    let bytes = std::fs::read(source)
        .unwrap_or_else(|e| panic!("{}: cannot read a bundled data file: {e}", source.display()));
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(&bytes).expect("writing to memory");
    let gz = encoder.finish().expect("writing to memory");
    std::fs::write(target, gz)
        .unwrap_or_else(|e| panic!("{}: cannot write: {e}", target.display()));
}

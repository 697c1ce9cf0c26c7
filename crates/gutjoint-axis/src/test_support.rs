//! Fixtures shared by this crate's unit tests: small genus-level count tables and a two-group
//! case/control design, built the same way wherever a test needs one.

use gutjoint_stats::design::Design;
use gutjoint_stats::{Term, design};
use gutjoint_table::{FeatureTable, Lineage, Location, ValueKind};
use std::collections::BTreeMap;

/// Sample ids `S0`, `S1`, … for `n` samples.
pub fn sample_ids(n: usize) -> Vec<String> {
    (0..n).map(|s| format!("S{s}")).collect()
}

/// A count table over samples `S0…S{n-1}` with one feature per genus (lineage `g__Genus`),
/// from `(sample, genus index, count)` triplets.
pub fn genus_table(genera: &[&str], n: usize, triplets: Vec<(u32, u32, f64)>) -> FeatureTable {
    FeatureTable::from_triplets(
        sample_ids(n),
        genera.iter().map(|g| g.to_string()).collect(),
        triplets,
        &Location::named("toy"),
    )
    .expect("table")
    .with_lineages(
        genera
            .iter()
            .map(|g| Lineage::parse(&format!("d__Bacteria; g__{g}")))
            .collect(),
    )
    .expect("lineages")
    .with_kind(ValueKind::Counts)
}

/// `group ~ case vs healthy` over `S0…S{n-1}`, odd samples the cases; with which rows are cases.
pub fn case_control_design(n: usize, case: &str) -> (Design, Vec<bool>) {
    let samples = sample_ids(n);
    let mut md = String::from("sample-id\tgroup\n");
    for (s, id) in samples.iter().enumerate() {
        let group = if s % 2 == 1 { case } else { "healthy" };
        md.push_str(&format!("{id}\t{group}\n"));
    }
    let md = gutjoint_table::metadata::read_metadata(md.as_bytes(), &Location::named("md"))
        .expect("metadata");
    let terms = [Term {
        column: "group".into(),
        categorical: true,
    }];
    let refs = BTreeMap::from([("group".to_string(), "healthy".to_string())]);
    let d = design(&md, &samples, &terms, &refs).expect("design");
    (d, (0..n).map(|s| s % 2 == 1).collect())
}

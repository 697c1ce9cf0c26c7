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

/// One made-up taxon–disease finding for a test knowledge base.
pub struct Finding<'a> {
    pub id: &'a str,
    pub taxon: &'a str,
    pub disease: &'a str,
    pub direction: &'a str,
    pub contrast: &'a str,
    pub sample_type: &'a str,
    pub method: &'a str,
}

/// A genus-level stool case–control finding in AS.
pub fn finding<'a>(id: &'a str, taxon: &'a str, direction: &'a str) -> Finding<'a> {
    Finding {
        id,
        taxon,
        disease: "AS",
        direction,
        contrast: "case_control",
        sample_type: "stool",
        method: "16S",
    }
}

/// The embedded knowledge base with its taxon–disease table replaced by `findings` (all at
/// genus rank), so a test does not depend on which studies the curated table holds today.
pub fn knowledge_base(findings: &[Finding<'_>]) -> gutjoint_knowledge::KnowledgeBase {
    let kb = gutjoint_knowledge::KnowledgeBase::embedded().expect("kb");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../knowledge")
        .join(gutjoint_knowledge::base::TAXON_DISEASE_FILE);
    let text = std::fs::read_to_string(path).expect("taxon_disease.tsv");
    let header: Vec<&str> = text.lines().next().expect("header").split('\t').collect();
    let mut table = header.join("\t");
    for f in findings {
        let row: Vec<&str> = header
            .iter()
            .map(|h| match *h {
                "id" => f.id,
                "taxon" => f.taxon,
                "rank" => "genus",
                "disease" => f.disease,
                "direction" => f.direction,
                "contrast" => f.contrast,
                "sample_type" => f.sample_type,
                "method" => f.method,
                "first_author" => "Test A",
                "year" => "2020",
                "doi" => "10.0000/test",
                "confidence" => "M",
                "source_read" => "abstract",
                _ => "",
            })
            .collect();
        table.push('\n');
        table.push_str(&row.join("\t"));
    }
    let rows = gutjoint_knowledge::parse_taxon_disease(&table, "test taxon_disease").expect("rows");
    gutjoint_knowledge::KnowledgeBase::from_tables(
        rows,
        kb.therapy_microbiome().to_vec(),
        kb.taxon_synonyms().to_vec(),
        kb.drugs().to_vec(),
        kb.drug_microbe().to_vec(),
    )
}

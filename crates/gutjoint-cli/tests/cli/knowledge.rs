//! The knowledge-base issue's evidence from the command line: synonyms, citations, and the
//! founding article's own misspelling of filgotinib.

use crate::common::*;

#[test]
fn segatella_copri_returns_the_prevotella_copri_rows_with_dois() {
    let v = json(&ok(["kb", "taxon", "Segatella copri", "--json"]));
    assert_eq!(v["resolved"]["accepted"], "Prevotella copri");
    let rows = v["associations"].as_array().expect("rows");
    let scher = rows
        .iter()
        .find(|r| {
            r["first_author"]
                .as_str()
                .is_some_and(|a| a.starts_with("Scher"))
                && r["year"] == 2013
        })
        .expect("Scher 2013");
    assert_eq!(scher["doi"], "10.7554/eLife.01202");
    assert_eq!(scher["disease"], "RA");
    assert_eq!(scher["direction"], "increased");
    // The same rows whichever name is used.
    let plain = json(&ok(["kb", "taxon", "s__Prevotella_copri", "--json"]));
    assert_eq!(plain["associations"], v["associations"]);
}

#[test]
fn gnavus_under_every_name() {
    let names = [
        "Ruminococcus gnavus",
        "Mediterraneibacter gnavus",
        "[Ruminococcus] gnavus group",
    ];
    let answers: Vec<serde_json::Value> = names
        .iter()
        .map(|n| json(&ok(["kb", "taxon", n, "--json"])))
        .collect();
    for a in &answers {
        assert_eq!(a["associations"], answers[0]["associations"]);
    }
    let diseases: Vec<&str> = answers[0]["associations"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["disease"].as_str())
        .collect();
    assert!(
        diseases
            .iter()
            .any(|d| matches!(*d, "axSpA" | "AS" | "EnA")),
        "{diseases:?}"
    );
}

#[test]
fn fligotinib_suggests_filgotinib_and_says_what_is_not_known() {
    let text = ok(["kb", "therapy", "fligotinib"]);
    assert!(text.contains("did you mean 'filgotinib'?"), "{text}");
    assert!(text.contains("no_evidence"), "{text}");
    assert!(text.contains("no_microbial_metabolism_reported"), "{text}");
    let v = json(&ok(["kb", "therapy", "fligotinib", "--json"]));
    assert_eq!(v["suggestion"], "filgotinib");
}

#[test]
fn disease_names_and_codes_agree_and_misses_are_clear() {
    let a = json(&ok(["kb", "disease", "rheumatoid arthritis", "--json"]));
    let b = json(&ok(["kb", "disease", "RA", "--json"]));
    assert_eq!(a["associations"], b["associations"]);
    // Every RA row in knowledge/taxon_disease.tsv (disease column) is returned.
    let tsv = std::fs::read_to_string(repo().join("knowledge/taxon_disease.tsv")).expect("tsv");
    let expected = tsv
        .lines()
        .skip(1)
        .filter(|l| l.split('\t').nth(3) == Some("RA"))
        .count();
    assert_eq!(a["associations"].as_array().map(Vec::len), Some(expected));
    let r = run(["kb", "taxon", "Segatela copri"]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.contains("did you mean 'Segatella copri'?"),
        "{}",
        r.stderr
    );
}

#[test]
fn signature_values_are_the_samples_abundance_and_reference_percentile() {
    let out = temp_dir("signatures");
    let reference = out.join("ref.json");
    ok([
        "reference",
        "build",
        "examples/data/gmhi/validation_abundance.csv",
        "--metadata",
        "examples/data/gmhi/validation_metadata.csv",
        "--where",
        "Phenotype=Healthy",
        "--rank",
        "species",
        "-o",
        reference.to_str().expect("utf8"),
        "--quiet",
    ]);
    let rows = json(&ok([
        "signatures",
        "tests/data/formats/metaphlan4_single.tsv",
        "--disease",
        "RA",
        "--reference",
        reference.to_str().expect("utf8"),
        "--sample-population",
        "Germany",
        "--json",
        "--quiet",
    ]));
    let scher = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["association"] == "TD001")
        .expect("TD001 row");
    // The profile holds Prevotella copri clade A at 24.0 of 95.0 classified percent.
    let x = 24.0 / 95.0;
    assert!(
        close(scher["abundance"].as_f64().expect("abundance"), x, 1e-12),
        "{scher}"
    );
    // Percentile by hand from the reference file: share of the 118 healthy samples below x.
    let r = json(&std::fs::read_to_string(&reference).expect("ref"));
    let pop = &r["populations"][0];
    let k = pop["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .position(|k| k == "Prevotella copri")
        .expect("key") as u64;
    let values: Vec<f64> = pop["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|row| {
            row.as_array()
                .expect("row")
                .iter()
                .filter(|p| p[0].as_u64() == Some(k))
                .map(|p| p[1].as_f64().expect("v"))
                .sum()
        })
        .collect();
    let below = values.iter().filter(|v| **v < x).count() as f64;
    let equal = values.iter().filter(|v| **v == x).count() as f64;
    let expected = 100.0 * (below + 0.5 * equal) / values.len() as f64;
    assert!(close(
        scher["percentile"].as_f64().expect("percentile"),
        expected,
        1e-12
    ));
    // The side is read against the reference median (mean of the middle two of 118).
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[58] + sorted[59]) / 2.0;
    assert!(close(
        scher["reference_median"].as_f64().expect("median"),
        median,
        1e-12
    ));
    let side = if x == median {
        "tie"
    } else if x > median {
        "yes"
    } else {
        "no"
    };
    assert_eq!(scher["consistent"], side, "P. copri is reported increased");
    assert_eq!(scher["doi"], "10.7554/eLife.01202");
    assert!(
        scher["population_note"]
            .as_str()
            .expect("note")
            .contains("sample population Germany")
    );
    let typo = run([
        "signatures",
        "tests/data/formats/metaphlan4_single.tsv",
        "--disease",
        "rheumatoid arthritiss",
    ]);
    assert_eq!(typo.status, 0);
    assert!(
        typo.stderr
            .contains("reading disease 'rheumatoid arthritiss' as 'rheumatoid arthritis' (RA)"),
        "{}",
        typo.stderr
    );
    let bad = run([
        "signatures",
        "tests/data/formats/metaphlan4_single.tsv",
        "--disease",
        "lupus",
    ]);
    assert_eq!(bad.status, 1);
    assert!(
        bad.stderr.contains("unknown disease 'lupus'"),
        "{}",
        bad.stderr
    );
}

/// Issue 13: healthy samples "agreed" 86–97% with the reported Megamonas, Cronobacter and
/// Weissella decreases in AS because a zero among mostly-zero healthy values has a mid-rank
/// below 50%. (Those rows have since left the knowledge base for want of an identifier; every
/// reported decrease in AS and RA is checked instead, several of them taxa most healthy people
/// lack.) Against the healthy median a sample can lie strictly below it only if it is not in
/// the upper half, so at most half of the healthy samples (plus one, for the left-out sample's
/// shift of the median) can agree; an absent taxon against a zero median is a tie.
#[test]
fn healthy_samples_do_not_agree_with_rare_taxon_decreases() {
    let metadata =
        std::fs::read_to_string(repo().join("examples/data/gmhi/validation_metadata.csv"))
            .expect("metadata");
    let healthy: std::collections::BTreeSet<String> = metadata
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.get(3) == Some(&"Healthy")).then(|| f[0].to_string())
        })
        .collect();
    assert_eq!(healthy.len(), 118);
    let mut by_association: std::collections::BTreeMap<String, Vec<serde_json::Value>> =
        Default::default();
    for disease in ["AS", "RA"] {
        let rows = json(&ok([
            "signatures",
            "examples/data/gmhi/validation_abundance.csv",
            "--disease",
            disease,
            "--reference",
            "gmhi-healthy",
            "--json",
            "--quiet",
        ]));
        for r in rows.as_array().expect("rows") {
            if r["reported_direction"] == "decreased"
                && r["consistent"] != "n/a"
                && healthy.contains(r["sample_id"].as_str().expect("id"))
            {
                by_association
                    .entry(r["association"].as_str().expect("id").to_string())
                    .or_default()
                    .push(r.clone());
            }
        }
    }
    let mut mostly_absent = 0;
    for (association, rows) in &by_association {
        assert_eq!(rows.len(), 118, "{association}");
        let yes = rows.iter().filter(|r| r["consistent"] == "yes").count();
        assert!(
            yes <= 60,
            "{association}: {yes} of 118 healthy samples 'agree'"
        );
        let mut zero_ties = 0;
        for r in rows {
            let x = r["abundance"].as_f64().expect("abundance");
            let m = r["reference_median"].as_f64().expect("median");
            let expected = if x == m {
                "tie"
            } else if x < m {
                "yes"
            } else {
                "no"
            };
            assert_eq!(r["consistent"], expected, "{r}");
            if x == 0.0 && m == 0.0 {
                zero_ties += 1;
            }
        }
        if zero_ties > 59 {
            // Most healthy people lack it: before the fix each of them "agreed".
            mostly_absent += 1;
            assert_eq!(yes, 0, "{association}: nothing lies below a zero median");
        }
    }
    assert!(
        mostly_absent >= 2,
        "reported decreases of taxa most healthy people lack: {mostly_absent}"
    );
}

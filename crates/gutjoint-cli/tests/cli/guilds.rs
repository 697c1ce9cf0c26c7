//! Functional guilds and their host associations (the gut–joint link issue).

use crate::common::*;

fn row(text: &str, sample: &str) -> std::collections::BTreeMap<String, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let line = lines
        .find(|l| l.starts_with(&format!("{sample}\t")))
        .expect("sample row");
    header
        .iter()
        .map(|h| h.to_string())
        .zip(line.split('\t').map(str::to_string))
        .collect()
}

#[test]
fn guild_abundance_by_hand_on_a_metaphlan_profile() {
    let out = ok([
        "guilds",
        "tests/data/formats/metaphlan4_single.tsv",
        "--quiet",
    ]);
    let r = row(&out, "metaphlan4_single");
    // Butyrate producers in the profile: F. prausnitzii 18.43210 + Roseburia intestinalis
    // 5.12345, over the 95.0 classified percent (knowledge/guilds.tsv G01).
    let expected = (18.43210 + 5.12345) / 95.0;
    assert!(close(
        r["butyrate_producers_abundance"].parse().expect("n"),
        expected,
        1e-12
    ));
    assert_eq!(r["butyrate_producers_richness"], "2");
    assert_eq!(
        r["mucin_degraders_abundance"], "0",
        "no member in this profile, and no negative zero"
    );
}

#[test]
fn measured_butyrate_routes_from_humann_pathways() {
    let out = temp_dir("guilds-humann");
    let pathways = out.join("pathabundance.tsv");
    std::fs::write(
        &pathways,
        "# Pathway\tmetaphlan4_single_Abundance\nCENTFERM-PWY: pyruvate fermentation to butanoate\t7.5\nCENTFERM-PWY: pyruvate fermentation to butanoate|g__Faecalibacterium.s__Faecalibacterium_prausnitzii\t7.5\nPWY-5676: acetyl-CoA fermentation to butanoate II\t2.5\nP163-PWY: L-lysine fermentation to acetate and butanoate\t1.0\n",
    )
    .expect("write");
    let text = ok([
        "guilds",
        "tests/data/formats/metaphlan4_single.tsv",
        "--functional",
        pathways.to_str().expect("utf8"),
        "--quiet",
    ]);
    let r = row(&text, "metaphlan4_single");
    assert_eq!(
        r["measured_butyrate_acetyl_coa"], "10",
        "CENTFERM-PWY + PWY-5676, unstratified rows only"
    );
    assert_eq!(r["measured_butyrate_lysine"], "1");
    assert_eq!(r["measured_butyrate_glutarate"], "0");
}

#[test]
fn guilds_as_features_of_host_associations() {
    let text = ok([
        "associate",
        "examples/data/gespic/gespic_genus.tsv",
        "--metadata",
        "examples/data/gespic/gespic_metadata.tsv",
        "--where",
        "group=axSpA",
        "--with",
        "SCFA_butyrate,BASDAI",
        "--adjust",
        "age + C(sex)",
        "--features",
        "guilds",
        "--quiet",
    ]);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(
        rows.iter().all(|l| l.starts_with("guild:")),
        "only guild features"
    );
    assert!(
        rows.iter()
            .any(|l| l.starts_with("guild:butyrate_producers\tSCFA_butyrate\t"))
    );
    let both = ok([
        "associate",
        "examples/data/gespic/gespic_genus.tsv",
        "--metadata",
        "examples/data/gespic/gespic_metadata.tsv",
        "--where",
        "group=axSpA",
        "--with",
        "BASDAI",
        "--features",
        "both",
        "--quiet",
    ]);
    assert!(
        both.lines().any(|l| l.starts_with("guild:"))
            && both.lines().any(|l| l.starts_with("Faecalibacterium\t"))
    );
}

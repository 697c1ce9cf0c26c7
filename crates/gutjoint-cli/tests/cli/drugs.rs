//! The pharmacomicrobiomics issue's evidence: capacities equal what AGORA2's carriage table
//! implies, every row is cited or says "no evidence", names resolve, unknown drugs are clear.

use crate::common::*;

fn carriage(species: &str, column: &str) -> f64 {
    let text =
        std::fs::read_to_string(repo().join("knowledge/enzyme_carriage.tsv")).expect("carriage");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let c = header.iter().position(|h| *h == column).expect("column");
    let row = lines
        .find(|l| l.starts_with(&format!("{species}\t")))
        .expect("species");
    row.split('\t')
        .nth(c)
        .expect("cell")
        .parse()
        .expect("number")
}

fn single_species_table(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("two.tsv");
    std::fs::write(
        &path,
        "#OTU ID\tecoli\tblongum\ns__Escherichia_coli\t100\t0\ns__Bifidobacterium_longum\t0\t100\n",
    )
    .expect("write");
    path
}

#[test]
fn e_coli_versus_b_longum_beta_glucuronidase() {
    let out = temp_dir("drugs-gus");
    let table = single_species_table(&out);
    let v = json(&ok([
        "drugs",
        table.to_str().expect("utf8"),
        "--drugs",
        "diclofenac",
        "--json",
        "--quiet",
    ]));
    let rows = v.as_array().expect("rows");
    let cap = |sample: &str| -> f64 {
        rows.iter()
            .find(|r| r["sample_id"] == sample && r["interaction"] == "toxification")
            .and_then(|r| r["capacity"].as_f64())
            .expect("capacity")
    };
    let (e, b) = (
        carriage("Escherichia coli", "UidA_any"),
        carriage("Bifidobacterium longum", "UidA_any"),
    );
    assert!(close(cap("ecoli"), e, 1e-12), "{} vs {e}", cap("ecoli"));
    assert!(close(cap("blongum"), b, 1e-12));
    assert!(close(cap("ecoli") - cap("blongum"), e - b, 1e-12));
    for r in rows {
        if r["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("inferred"))
        {
            assert_eq!(
                r["mapped_fraction"].as_f64(),
                Some(1.0),
                "a one-species AGORA2 profile is fully mapped: {r}"
            );
        }
        let citation = r["citation"].as_str().expect("citation");
        assert!(
            !citation.is_empty(),
            "every row cites or says no evidence: {r}"
        );
    }
}

#[test]
fn names_medication_columns_and_unknown_drugs() {
    let out = temp_dir("drugs-md");
    let table = single_species_table(&out);
    let md = out.join("md.tsv");
    std::fs::write(
        &md,
        "sample-id\tmeds\necoli\tAzulfidine; Fligotinib\nblongum\tnone\n",
    )
    .expect("write");
    let r = run([
        "drugs",
        table.to_str().expect("utf8"),
        "--metadata",
        md.to_str().expect("utf8"),
        "--medication-column",
        "meds",
        "--json",
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let drugs: std::collections::BTreeSet<&str> = v
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|x| x["drug"].as_str())
        .collect();
    // Azulfidine is a brand of sulfasalazine; the founding article's "Fligotinib" is filgotinib.
    assert_eq!(drugs, ["filgotinib", "sulfasalazine"].into_iter().collect());
    let filgotinib = v
        .as_array()
        .expect("rows")
        .iter()
        .find(|x| x["drug"] == "filgotinib")
        .expect("row");
    assert_eq!(
        filgotinib["interaction"],
        "no_microbial_metabolism_reported"
    );
    assert_eq!(filgotinib["citation"], "no evidence");
    std::fs::write(
        &md,
        "sample-id\tmeds\necoli\tsulfasalazine, wonderpill\nblongum\tnone\n",
    )
    .expect("write");
    let warn = run([
        "drugs",
        table.to_str().expect("utf8"),
        "--metadata",
        md.to_str().expect("utf8"),
        "--medication-column",
        "meds",
    ]);
    assert_eq!(warn.status, 0);
    assert!(
        warn.stderr.contains("unknown drug 'wonderpill'") && warn.stderr.contains("not scored"),
        "{}",
        warn.stderr
    );
    let bad = run([
        "drugs",
        table.to_str().expect("utf8"),
        "--drugs",
        "sulfasalazin",
    ]);
    let good = bad.status == 0 || bad.stderr.contains("did you mean 'sulfasalazine'");
    assert!(good, "{}", bad.stderr);
    let unknown = run([
        "drugs",
        table.to_str().expect("utf8"),
        "--drugs",
        "wonderpill",
    ]);
    assert_eq!(unknown.status, 1);
    assert!(
        unknown.stderr.contains("unknown drug 'wonderpill'"),
        "{}",
        unknown.stderr
    );
    let genus_only = run([
        "drugs",
        "examples/data/gespic/gespic_genus.tsv",
        "--drugs",
        "sulfasalazine",
    ]);
    assert!(
        genus_only.stderr.contains("needs species-level profiles"),
        "{}",
        genus_only.stderr
    );
}

#[test]
fn humann_ec_table_gives_measured_capacity() {
    let out = temp_dir("drugs-humann");
    let table = single_species_table(&out);
    let ec = out.join("ec.tsv");
    std::fs::write(&ec, "# Gene Family\tecoli_Abundance-RPKs\tblongum_Abundance-RPKs\n3.2.1.31: Beta-glucuronidase\t12.5\t2.0\n3.2.1.31: Beta-glucuronidase|g__Escherichia.s__Escherichia_coli\t12.5\t0\n1.1.1.1\t3\t4\n").expect("write");
    let v = json(&ok([
        "drugs",
        table.to_str().expect("utf8"),
        "--drugs",
        "diclofenac",
        "--functional",
        ec.to_str().expect("utf8"),
        "--json",
        "--quiet",
    ]));
    let row = v
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["sample_id"] == "blongum" && r["interaction"] == "toxification")
        .expect("row");
    assert_eq!(
        row["capacity"].as_f64(),
        Some(2.0),
        "the unstratified EC 3.2.1.31 total"
    );
    assert!(
        row["source"]
            .as_str()
            .expect("source")
            .starts_with("measured (HUMAnN EC 3.2.1.31")
    );
}

/// Issue 13: the sulfasalazine activation call came from AzoR_any (0/16 in-vitro azo-reducers
/// found) under the mechanism's "human (H)" badge, and 5-ASA acetylation was scored as if it
/// mattered in RA, where sulfapyridine is the active moiety (Pullar 1985, PMID 2860942).
#[test]
fn sulfasalazine_in_ra_grades_apart_and_not_informative() {
    let out = temp_dir("drugs-ra");
    let table = single_species_table(&out);
    let text = ok([
        "drugs",
        table.to_str().expect("utf8"),
        "--drugs",
        "sulfasalazine",
        "--disease",
        "RA",
        "--quiet",
    ]);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    let find = |sample: &str, interaction: &str| {
        rows.iter()
            .find(|r| r[0] == sample && r[col("interaction")] == interaction)
            .unwrap_or_else(|| panic!("no {sample} {interaction} row"))
    };
    for sample in ["ecoli", "blongum"] {
        let activation = find(sample, "activation");
        assert_eq!(activation[col("call")], "not informative");
        assert_eq!(activation[col("mechanism_evidence")], "human (H)");
        assert!(
            activation[col("estimate_validity")].contains("AzoR_any: sensitivity 0/16 (0%)"),
            "{activation:?}"
        );
        assert!(
            activation[col("pharmacology")].contains("in RA the active moiety is sulfapyridine")
        );
        let acetylation = find(sample, "inactivation");
        assert!(
            acetylation[col("call")].starts_with("not relevant in RA"),
            "{acetylation:?}"
        );
    }
    let typo = run([
        "drugs",
        table.to_str().expect("utf8"),
        "--drugs",
        "sulfasalazine",
        "--disease",
        "lupus",
    ]);
    assert_eq!(typo.status, 1);
    assert!(
        typo.stderr.contains("unknown disease 'lupus'"),
        "{}",
        typo.stderr
    );
}

/// `analyze` reads the drugs for the disease the run is about, as `drugs --disease` does: on
/// an RA-vs-healthy cohort the patient view's rows equal `drugs --disease RA`'s rows for that
/// sample, field for field (before, analyze scored without the disease: sulfasalazine's
/// 5-ASA acetylation was scored instead of `not relevant in RA`, and the pharmacology listed
/// every disease's moiety). With `--disease RA` on the AS + RA + healthy cohort the rows are
/// the same; without it that cohort names two diseases, so none is chosen.
#[test]
fn analyze_scores_drugs_for_the_cohorts_disease_as_drugs_does() {
    let out = temp_dir("drugs-analyze-disease");
    let table = "examples/data/gmhi/validation_abundance.csv";
    let metadata = repo().join("examples/demo/gmhi_arthritis_metadata.tsv");
    let text = std::fs::read_to_string(&metadata).expect("metadata");
    let ra_md = out.join("ra_healthy.tsv");
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains("\tAS\t")).collect();
    std::fs::write(&ra_md, kept.join("\n") + "\n").expect("write metadata");
    let patient = kept
        .iter()
        .find(|l| l.contains("\tRA\t"))
        .and_then(|l| l.split('\t').next())
        .expect("an RA sample");
    let drugs = "sulfasalazine,methotrexate";
    let rows_of_drugs = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["drugs", table, "--drugs", drugs, "--json", "--quiet"];
        args.extend_from_slice(extra);
        let all = json(&ok(args));
        serde_json::Value::Array(
            all.as_array()
                .expect("rows")
                .iter()
                .filter(|r| r["sample_id"] == patient)
                .cloned()
                .collect(),
        )
    };
    let rows_of_analyze = |md: &std::path::Path, name: &str, extra: &[&str]| -> serde_json::Value {
        let dir = out.join(name);
        let mut args = vec![
            "analyze",
            table,
            "--metadata",
            md.to_str().expect("utf8"),
            "--group",
            "group",
            "--drugs",
            drugs,
            "--sample",
            patient,
            "--permutations",
            "9",
            "--classifier",
            "none",
            "--quiet",
            "-o",
            dir.to_str().expect("utf8"),
        ];
        args.extend_from_slice(extra);
        ok(args);
        let results = json(&std::fs::read_to_string(dir.join("results.json")).expect("results"));
        results["patient"]["drugs"].clone()
    };
    let by_drugs = rows_of_drugs(&["--disease", "RA"]);
    let rows = by_drugs.as_array().expect("rows");
    assert!(rows.len() >= 4, "{by_drugs}");
    // The disease is in the rows: 5-ASA acetylation does not matter in RA.
    assert!(
        rows.iter().any(|r| r["drug"] == "sulfasalazine"
            && r["call"]
                .as_str()
                .is_some_and(|c| c.starts_with("not relevant in RA"))),
        "{by_drugs}"
    );
    // RA vs healthy: the run is about RA without being told.
    assert_eq!(rows_of_analyze(&ra_md, "ra", &[]), by_drugs);
    // AS + RA + healthy, told.
    assert_eq!(
        rows_of_analyze(&metadata, "told", &["--disease", "rheumatoid arthritis"]),
        by_drugs
    );
    // AS + RA + healthy, not told: no disease, as `drugs` without --disease.
    assert_eq!(
        rows_of_analyze(&metadata, "untold", &[]),
        rows_of_drugs(&[])
    );
    let typo = run([
        "analyze",
        table,
        "--metadata",
        metadata.to_str().expect("utf8"),
        "--group",
        "group",
        "--drugs",
        drugs,
        "--disease",
        "lupus",
        "-o",
        out.join("typo").to_str().expect("utf8"),
    ]);
    assert_eq!(typo.status, 1);
    assert!(
        typo.stderr.contains("unknown disease 'lupus'"),
        "{}",
        typo.stderr
    );
    assert!(!out.join("typo").join("results.json").exists());
}

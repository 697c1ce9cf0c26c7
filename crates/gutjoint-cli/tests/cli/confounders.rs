//! Confounders and batches (issue 13): `gutjoint confounders`, `permanova --strata`,
//! `classify --cv leave-group-out`, `--batch` in da/replicate/associate, dysbiosis against the
//! cohort's own controls, guild members at the table's rank, quoted column names.

use crate::common::*;

const TABLE: &str = "examples/data/gespic/gespic_genus.tsv";
const MD: &str = "examples/data/gespic/gespic_metadata.tsv";
const VEGAN: &str = "tests/data/golden/ecology/vegan_adonis2";

fn column<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|c| c["column"] == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The done-when of issue 13 on GESPIC: SeqExp collinear, HLA-B27 tracking the disease but not
/// adjusted for, PPIs missing for every control, and the marginal PERMANOVA of each column
/// (adonis2(d ~ group + column, by = "margin")) equal to vegan's.
#[test]
fn gespic_confounders_and_vegan_margins() {
    let lsmat = format!("{VEGAN}/gespic_axspa_healthy_braycurtis.lsmat.tsv");
    let r = run([
        "confounders",
        TABLE,
        "--metadata",
        MD,
        "--column",
        "group",
        "--case",
        "axSpA",
        "--control",
        "healthy",
        "--distance",
        &lsmat,
        "--permutations",
        "0",
        "--features",
        "none",
        "--json",
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let report = json(&r.stdout);
    assert_eq!(report["n_samples"], 164);
    let seq = column(&report, "SeqExp");
    assert_eq!(seq["collinear"], true);
    assert_eq!(seq["role"], "nuisance");
    assert_eq!(seq["handling"], "adjust_and_compare_within_levels");
    // 62 healthy in run 0; axSpA 16 in run 0, 86 in run 1: phi = 62·86 / sqrt(62·102·78·86).
    let v = 62.0 * 86.0 / (62.0f64 * 102.0 * 78.0 * 86.0).sqrt();
    assert!(close(seq["effect_size"].as_f64().expect("V"), v, 1e-12));
    let hla = column(&report, "HLAB27");
    assert_eq!(hla["role"], "biology");
    assert_eq!(hla["handling"], "report");
    assert_eq!(hla["collinear"], true);
    let adjust: Vec<&str> = report["adjust_for"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(!adjust.contains(&"HLAB27") && !adjust.contains(&"SeqExp"));
    assert!(
        adjust.contains(&"age") && adjust.contains(&"sex"),
        "{adjust:?}"
    );
    let ppis = column(&report, "PPIs");
    assert_eq!(ppis["missing_in_groups"][0], "healthy");
    assert_eq!(ppis["handling"], "cannot_adjust");
    assert!(
        r.stderr.contains("warning: 'PPIs' is recorded for axSpA")
            && r.stderr.contains("missing for every healthy sample"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("'HLAB27': tracks the disease"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("proton-pump inhibitor"), "{}", r.stderr);
    // vegan's margins.
    let golden =
        std::fs::read_to_string(repo().join(VEGAN).join("adonis2_margin.tsv")).expect("golden");
    let mut checked = 0;
    for line in golden.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').map(str::trim).collect();
        let Some(col) = f[0].strip_prefix("group + ") else {
            continue;
        };
        if col.contains(' ') || f[1] == "Residual" || f[1] == "Total" {
            continue;
        }
        let p = &column(&report, col)["permanova"];
        let term = if f[1] == "group" {
            &p["group"]
        } else {
            &p["column"]
        };
        assert_eq!(p["n"].as_u64().expect("n").to_string(), f[6], "{col}");
        for (key, at) in [("r2", 4), ("f", 5), ("sum_of_squares", 3)] {
            let ours = term[key].as_f64().expect("number");
            let theirs: f64 = f[at].parse().expect("golden number");
            assert!(
                close(ours, theirs, 1e-9),
                "{col} {} {key}: {ours} vs vegan {theirs}",
                f[1]
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 16, "eight columns, two terms each");
}

/// Per-feature status: every feature called confounded has a likelihood-ratio test that the
/// group effect did not survive, and every deconfounded one survived all of them.
#[test]
fn feature_statuses_follow_their_likelihood_ratio_tests() {
    let out = temp_dir("confounders-features");
    let status = out.join("status.tsv");
    let r = run([
        "confounders",
        TABLE,
        "--metadata",
        MD,
        "--column",
        "group",
        "--case",
        "axSpA",
        "--control",
        "healthy",
        "--metric",
        "none",
        "--features-output",
        status.to_str().expect("utf8"),
        "--json",
        "--quiet",
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let report = json(&r.stdout);
    let features = report["features"].as_array().expect("features");
    assert!(!features.is_empty());
    let mut confounded_by_run = 0;
    for f in features {
        let tests = f["tests"].as_array().expect("tests");
        let failed: Vec<&str> = tests
            .iter()
            .filter(|t| t["p_value"].as_f64().expect("p") >= 0.05)
            .map(|t| t["column"].as_str().expect("column"))
            .collect();
        match f["status"].as_str().expect("status") {
            "not_significant" => {
                assert!(f["naive_q"].as_f64().expect("q") >= 0.1);
                assert!(tests.is_empty());
            }
            "deconfounded" => assert!(failed.is_empty(), "{f}"),
            "confounded" => {
                let by: Vec<&str> = f["confounded_by"]
                    .as_array()
                    .expect("by")
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect();
                assert_eq!(by, failed, "{f}");
                if by.contains(&"SeqExp") {
                    confounded_by_run += 1;
                }
            }
            other => panic!("status {other}"),
        }
    }
    assert!(
        confounded_by_run > 0,
        "some genus differences are the run's"
    );
    let tsv = std::fs::read_to_string(&status).expect("status tsv");
    assert!(tsv.starts_with("feature\tnaive_p\tnaive_q\tauc\tstatus\tconfounded_by\tlr_tests\n"));
    assert_eq!(tsv.lines().count(), features.len() + 1);
}

/// Two batches far apart; the group is spread 15:5 and 5:15 over them with no effect within
/// either. Written as a one-dimensional Euclidean matrix (batch offset 10, within-batch
/// positions from a fixed sequence).
fn batch_only_fixture(dir: &std::path::Path, with_missing: bool) -> (String, String) {
    let n = 40;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let within = ((i * 17 + 5) % 23) as f64 / 23.0;
            if i < 20 { within } else { 10.0 + within }
        })
        .collect();
    let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    let mut lsmat = String::new();
    for id in &ids {
        lsmat.push('\t');
        lsmat.push_str(id);
    }
    lsmat.push('\n');
    for i in 0..n {
        lsmat.push_str(&ids[i]);
        for j in 0..n {
            lsmat.push_str(&format!("\t{}", (x[i] - x[j]).abs()));
        }
        lsmat.push('\n');
    }
    let mut md = String::from("sample-id\tgroup\tbatch\n");
    for (i, id) in ids.iter().enumerate() {
        let case = if i < 20 { i % 4 != 0 } else { i % 4 == 0 };
        let batch = if with_missing && i == 7 {
            "NA"
        } else if i < 20 {
            "A"
        } else {
            "B"
        };
        md.push_str(&format!(
            "{id}\t{}\t{batch}\n",
            if case { "case" } else { "control" }
        ));
    }
    let dm = dir.join("dm.tsv");
    let mdp = dir.join(if with_missing {
        "md_missing.tsv"
    } else {
        "md.tsv"
    });
    std::fs::write(&dm, lsmat).expect("write");
    std::fs::write(&mdp, md).expect("write");
    (
        dm.to_str().expect("utf8").to_string(),
        mdp.to_str().expect("utf8").to_string(),
    )
}

#[test]
fn permanova_strata_sees_through_a_batch() {
    let dir = temp_dir("strata");
    let (dm, md) = batch_only_fixture(&dir, false);
    let p = |extra: &[&str]| -> f64 {
        let mut args = vec![
            "permanova",
            &dm,
            "--metadata",
            &md,
            "--column",
            "group",
            "--permutations",
            "999",
            "--seed",
            "1",
            "--json",
        ];
        args.extend_from_slice(extra);
        json(&ok(args))["p_value"].as_f64().expect("p")
    };
    let free = p(&[]);
    let within = p(&["--strata", "batch"]);
    assert!(free <= 0.01, "without strata p = {free}");
    assert!(within >= 0.05, "within batches p = {within}");
    // A stratum value missing: an error naming the sample.
    let (_, md_missing) = batch_only_fixture(&dir, true);
    let r = run([
        "permanova",
        &dm,
        "--metadata",
        &md_missing,
        "--column",
        "group",
        "--strata",
        "batch",
    ]);
    assert_ne!(r.status, 0);
    assert!(
        r.stderr
            .contains("sample 's7' has no value in strata column 'batch'"),
        "{}",
        r.stderr
    );
    // Strata that explain the grouping entirely.
    let r = run([
        "permanova",
        &dm,
        "--metadata",
        &md,
        "--column",
        "batch",
        "--strata",
        "batch",
    ]);
    assert_ne!(r.status, 0);
    assert!(
        r.stderr
            .contains("does not vary within any of the 2 strata"),
        "{}",
        r.stderr
    );
}

#[test]
fn batch_option_checks_and_adds_the_batch() {
    let dir = temp_dir("batch");
    let out = dir.join("da.tsv");
    // axSpA vs healthy only: the other cohorts' group values blanked.
    let two = dir.join("two.tsv");
    let text = std::fs::read_to_string(repo().join(MD)).expect("md");
    let blanked: Vec<String> = text
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split('\t').collect();
            if !matches!(f[1], "group" | "axSpA" | "healthy") {
                f[1] = "NA";
            }
            f.join("\t")
        })
        .collect();
    std::fs::write(&two, blanked.join("\n") + "\n").expect("write");
    let r = run([
        "da",
        TABLE,
        "--metadata",
        two.to_str().expect("utf8"),
        "--formula",
        "group + age",
        "--reference",
        "group=healthy",
        "--batch",
        "SeqExp",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("batch column 'SeqExp' is collinear with 'group'"),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(&out).expect("da output");
    assert!(text.contains("SeqExp[T.1]"), "the batch is a model term");
    // One level among the samples: an error.
    let one = dir.join("one.tsv");
    std::fs::write(
        &one,
        std::fs::read_to_string(repo().join(MD))
            .expect("md")
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    format!("{l}\tplate")
                } else {
                    format!("{l}\tp1")
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("write");
    for command in ["da", "replicate", "associate"] {
        let mut args: Vec<&str> = vec![command, TABLE, "--metadata", one.to_str().expect("utf8")];
        match command {
            "da" => args.extend(["--formula", "group", "--reference", "group=healthy"]),
            "replicate" => args.extend([
                "--column",
                "group",
                "--case",
                "axSpA",
                "--control",
                "healthy",
            ]),
            _ => args.extend(["--with", "CRP"]),
        }
        args.extend(["--batch", "plate"]);
        let r = run(&args);
        assert_ne!(r.status, 0, "{command}");
        assert!(
            r.stderr
                .contains("batch column 'plate' has a single level ('p1')"),
            "{command}: {}",
            r.stderr
        );
    }
    // The group entirely explained by the batch (Cohort is the group under another name).
    let r = run([
        "replicate",
        TABLE,
        "--metadata",
        MD,
        "--column",
        "group",
        "--case",
        "axSpA",
        "--control",
        "healthy",
        "--batch",
        "Cohort",
    ]);
    assert_ne!(r.status, 0);
    assert!(
        r.stderr
            .contains("'group' is entirely explained by batch column 'Cohort'"),
        "{}",
        r.stderr
    );
}

#[test]
fn leave_group_out_reports_each_held_out_group() {
    let dir = temp_dir("logo");
    let preds = dir.join("p.tsv");
    let out = ok([
        "classify",
        TABLE,
        "--metadata",
        MD,
        "--column",
        "group",
        "--positive",
        "axSpA",
        "--negative",
        "healthy",
        "--model",
        "l1-logistic",
        "--cv",
        "leave-group-out",
        "--groups",
        "sex",
        "-o",
        preds.to_str().expect("utf8"),
        "--json",
        "--quiet",
    ]);
    let s = json(&out);
    assert_eq!(s["validation"], "leave-group-out");
    let groups = s["held_out_groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 2);
    // Each group's AUC and the pooled AUC, recomputed from the predictions (Mann–Whitney
    // form: the share of positive–negative pairs ranked right, ties half).
    let text = std::fs::read_to_string(&preds).expect("predictions");
    let rows: Vec<(bool, f64, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[1] == "1", f[2].parse().expect("p"), f[3].to_string())
        })
        .collect();
    let auc = |rows: &[&(bool, f64, String)]| {
        let (mut won, mut pairs) = (0.0, 0.0);
        for a in rows.iter().filter(|r| r.0) {
            for b in rows.iter().filter(|r| !r.0) {
                pairs += 1.0;
                won += if a.1 > b.1 {
                    1.0
                } else if a.1 == b.1 {
                    0.5
                } else {
                    0.0
                };
            }
        }
        won / pairs
    };
    for g in groups {
        let name = g["group"].as_str().expect("name");
        let mine: Vec<&(bool, f64, String)> = rows.iter().filter(|r| r.2 == name).collect();
        assert!(
            close(g["auc"].as_f64().expect("auc"), auc(&mine), 1e-12),
            "{g}"
        );
    }
    let all: Vec<&(bool, f64, String)> = rows.iter().collect();
    assert!(close(s["auc"].as_f64().expect("auc"), auc(&all), 1e-12));
    // Holding out sequencing runs: run 1 has no healthy sample and run 0 holds every one, so
    // no held-out prediction set has both classes — a clear error, not a number.
    let r = run([
        "classify",
        TABLE,
        "--metadata",
        MD,
        "--column",
        "group",
        "--positive",
        "axSpA",
        "--negative",
        "healthy",
        "--model",
        "l1-logistic",
        "--cv",
        "leave-group-out",
        "--groups",
        "SeqExp",
    ]);
    assert_ne!(r.status, 0);
    assert!(r.stderr.contains("no pooled AUC"), "{}", r.stderr);
}

#[test]
fn dysbiosis_against_the_cohorts_own_controls() {
    let out = ok([
        "dysbiosis",
        TABLE,
        "--metadata",
        MD,
        "--column",
        "group",
        "--control",
        "healthy",
        "--json",
        "--quiet",
    ]);
    let r = json(&out);
    assert_eq!(r["reference"], "own controls (healthy)");
    let md = std::fs::read_to_string(repo().join(MD)).expect("md");
    let healthy: std::collections::BTreeSet<&str> = md
        .lines()
        .skip(1)
        .filter(|l| l.split('\t').nth(1) == Some("healthy"))
        .filter_map(|l| l.split('\t').next())
        .collect();
    let scores = r["scores"].as_array().expect("scores");
    let mut controls = 0;
    for s in scores {
        let id = s["sample_id"].as_str().expect("id");
        assert_eq!(s["left_out_of_reference"], healthy.contains(id), "{id}");
        controls += usize::from(healthy.contains(id));
    }
    assert_eq!(controls, 62);
    // Without controls in the column, a clear error.
    let r = run([
        "dysbiosis",
        TABLE,
        "--metadata",
        MD,
        "--column",
        "group",
        "--control",
        "HC",
    ]);
    assert_ne!(r.status, 0);
    assert!(r.stderr.contains("number 0 in the table"), "{}", r.stderr);
}

#[test]
fn guilds_on_genus_bins_count_species_through_their_genus_and_list_the_rest() {
    let text = ok(["guilds", TABLE, "--quiet"]);
    let line = text
        .lines()
        .find(|l| l.starts_with("# butyrate_producers:"))
        .expect("guild comment");
    assert!(
        line.contains("Faecalibacterium prausnitzii via Faecalibacterium"),
        "{line}"
    );
    assert!(line.contains("Eubacterium rectale via "), "{line}");
    assert!(line.contains("Agathobacter"), "{line}");
    let h2s = text
        .lines()
        .find(|l| l.starts_with("# h2s_producers:"))
        .expect("h2s comment");
    assert!(h2s.contains("Bilophila wadsworthia via Bilophila"), "{h2s}");
}

#[test]
fn quoted_column_names_work_in_formulas() {
    let dir = temp_dir("quoted");
    let md = dir.join("md.tsv");
    let text = std::fs::read_to_string(repo().join(MD)).expect("md");
    std::fs::write(&md, text.replacen("\tgroup\t", "\tGroup (1=HC,2=RA)\t", 1)).expect("write");
    let out = dir.join("da.tsv");
    let r = run([
        "da",
        TABLE,
        "--metadata",
        md.to_str().expect("utf8"),
        "--formula",
        "C(Q(\"Group (1=HC,2=RA)\")) + age",
        "--reference",
        "Group (1=HC,2=RA)=healthy",
        "--min-prevalence",
        "0.5",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let da = std::fs::read_to_string(&out).expect("da");
    assert!(
        da.contains("Group (1=HC,2=RA)[T.axSpA]"),
        "{}",
        &da[..200.min(da.len())]
    );
    let r = run([
        "associate",
        TABLE,
        "--metadata",
        md.to_str().expect("utf8"),
        "--with",
        "CRP",
        "--adjust",
        "age, C(Q(\"Group (1=HC,2=RA)\"))",
        "--quiet",
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
}

//! `analyze --subject --time [--donor]`: the report's "Change over time" section carries the
//! numbers of `gutjoint trajectory` (mixed models, per-sample Shannon and dysbiosis) and of
//! q2-fmt's PEDS (via `gutjoint engraftment`'s function), the knowledge base's therapy rows,
//! and refuses bad longitudinal input with the axis crate's errors.

use crate::common::*;
use std::collections::HashMap;

const PJ: &str = "examples/data/longitudinal/peerj32";
const FMT: &str = "examples/data/longitudinal/q2fmt";

/// The probiotic trial through `analyze` and through `trajectory` (same table, taxonomy,
/// reference and control arm): every model term and every per-sample value is the same number.
#[test]
fn analyze_change_section_equals_trajectory() {
    let out = temp_dir("change-lgg");
    ok([
        "analyze",
        &format!("{PJ}/counts.tsv"),
        "--taxonomy",
        &format!("{PJ}/taxonomy.tsv"),
        "--metadata",
        &format!("{PJ}/metadata.tsv"),
        "--group",
        "group",
        "--subject",
        "subject",
        "--time",
        "time",
        "--therapy",
        "probiotic",
        "--reference",
        "gespic-healthy",
        "--permutations",
        "9",
        "--classifier",
        "none",
        "-o",
        out.to_str().expect("utf8"),
        "--quiet",
    ]);
    let results = json(&std::fs::read_to_string(out.join("results.json")).expect("results"));
    let change = &results["change"];
    // HITChip names read as species, but the profiles are 16S genus-like: GESPIC's genera.
    assert_eq!(
        results["provenance"]["reference"]["name"].as_str(),
        Some("gespic-healthy"),
        "{}",
        results["provenance"]["reference"]
    );
    let traj = json(&ok([
        "trajectory",
        &format!("{PJ}/counts.tsv"),
        "--taxonomy",
        &format!("{PJ}/taxonomy.tsv"),
        "--metadata",
        &format!("{PJ}/metadata.tsv"),
        "--subject",
        "subject",
        "--time",
        "time",
        "--group",
        "group",
        "--control",
        "Placebo",
        "--reference",
        "gespic-healthy",
        "--json",
        "--quiet",
    ]));
    // "Placebo" is recognised as the control arm without being named.
    assert_eq!(change["control_group"], "Placebo");
    assert_eq!(traj["reference_group"], "Placebo");
    let models = change["models"].as_array().expect("models");
    let expected = traj["models"].as_array().expect("models");
    assert_eq!(models.len(), expected.len());
    let metrics: Vec<&str> = models.iter().filter_map(|m| m["metric"].as_str()).collect();
    assert_eq!(metrics, ["shannon", "observed_features", "dysbiosis"]);
    // Two visits: the distance to the first sample exists at time 2 only, so time is constant
    // and that model is skipped, said in the section as trajectory says it.
    assert_eq!(
        change["skipped_models"][0].as_str(),
        Some(
            format!(
                "no model for braycurtis_to_first: {}",
                traj["skipped_models"][0]["reason"]
                    .as_str()
                    .expect("reason")
            )
            .as_str()
        )
    );
    for (m, e) in models.iter().zip(expected) {
        assert_eq!(m["metric"], e["metric"]);
        assert_eq!(m["formula"], "time * group + (1 | subject)");
        assert_eq!(m["n_subjects"], 22);
        assert_eq!(m["formula"], e["formula"]);
        assert_eq!(m["n_samples"], e["n_samples"]);
        let (terms, want) = (
            m["terms"].as_array().expect("t"),
            e["terms"].as_array().expect("t"),
        );
        assert_eq!(terms.len(), 4, "{m}");
        for (t, w) in terms.iter().zip(want) {
            assert_eq!(t["term"], w["term"]);
            for k in ["estimate", "se", "df", "p"] {
                assert_eq!(
                    t[k].as_f64(),
                    w[k].as_f64(),
                    "{} {} {k}",
                    m["metric"],
                    t["term"]
                );
            }
        }
    }
    assert!(
        models[0]["terms"]
            .as_array()
            .expect("terms")
            .iter()
            .any(|t| t["term"] == "time:group[T.LGG]")
    );
    // Per sample: Shannon and dysbiosis are trajectory's values.
    let points = change["points"].as_array().expect("points");
    assert_eq!(points.len(), 44);
    let by: HashMap<&str, &serde_json::Value> = traj["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| (p["sample"].as_str().expect("id"), p))
        .collect();
    for p in points {
        let t = by[p["sample"].as_str().expect("id")];
        assert_eq!(p["shannon"].as_f64(), t["shannon"].as_f64());
        assert_eq!(p["dysbiosis"].as_f64(), t["dysbiosis"].as_f64());
        assert!(p["dysbiosis"].as_f64().is_some());
        assert_eq!(p["subject"], t["subject"]);
    }
    // The knowledge base's probiotic rows, each with its citation and what the trial shows.
    let therapies = change["therapies"].as_array().expect("therapies");
    assert!(!therapies.is_empty());
    for t in therapies {
        assert_eq!(t["therapy_class"], "probiotic", "{t}");
        assert!(t["id"].as_str().is_some_and(|id| id.starts_with("TM")));
        assert!(!t["citation"].as_str().unwrap_or("").is_empty(), "{t}");
        assert!(
            t["this_cohort"]
                .as_str()
                .is_some_and(|s| s.contains("dysbiosis time:group[T.LGG]")),
            "{t}"
        );
    }
    // The report draws a line per subject: 22 in each of the two plots.
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    let section = html
        .split("<section id=\"change\">")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("change section");
    assert_eq!(section.matches("<svg").count(), 2);
    assert_eq!(section.matches("<polyline").count(), 44);
    assert!(section.contains(therapies[0]["id"].as_str().expect("id")));
    // A report without --subject has no such section (and no `change` key).
    let plain = temp_dir("change-none");
    ok([
        "analyze",
        &format!("{PJ}/counts.tsv"),
        "--metadata",
        &format!("{PJ}/metadata.tsv"),
        "--group",
        "group",
        "--permutations",
        "9",
        "--classifier",
        "none",
        "-o",
        plain.to_str().expect("utf8"),
        "--quiet",
    ]);
    let text = std::fs::read_to_string(plain.join("results.json")).expect("results");
    assert!(!text.contains("\"change\""));
}

/// A faecal transplant cohort: the engraftment curves hold q2-fmt's own PEDS for all 25
/// recipient samples, and the FMT row of the knowledge base stands beside them.
#[test]
fn analyze_engraftment_curves_equal_q2_fmt() {
    let out = temp_dir("change-fmt");
    ok([
        "analyze",
        &format!("{FMT}/feature-table.biom"),
        "--metadata",
        &format!("{FMT}/metadata.tsv"),
        "--group",
        "time_point",
        "--subject",
        "SubjectID",
        "--time",
        "time_point",
        "--donor",
        "Donor",
        "--permutations",
        "9",
        "--classifier",
        "none",
        "-o",
        out.to_str().expect("utf8"),
        "--quiet",
    ]);
    let results = json(&std::fs::read_to_string(out.join("results.json")).expect("results"));
    let change = &results["change"];
    // Grouped by the time itself: no arms, so the models are `metric ~ time`.
    assert!(change["group_column"].is_null());
    assert_eq!(change["models"][0]["formula"], "time + (1 | subject)");
    let samples = change["engraftment"]["samples"]
        .as_array()
        .expect("samples");
    crate::longitudinal::assert_peds_equal_q2_fmt(samples);
    assert_eq!(samples.len(), 25);
    let therapies = change["therapies"].as_array().expect("therapies");
    assert!(
        therapies
            .iter()
            .any(|t| t["id"] == "TM016" && t["therapy_class"] == "FMT"),
        "{therapies:?}"
    );
    assert!(
        therapies[0]["this_cohort"]
            .as_str()
            .is_some_and(|s| s.contains("median PEDS at time 5")),
        "{}",
        therapies[0]
    );
    // Every plot (Shannon, PEDS, distance to donor; no dysbiosis: ASV ids carry no names)
    // draws the 5 recipients' lines.
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    let section = html
        .split("<section id=\"change\">")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("change section");
    let plots = section.matches("<svg").count();
    assert_eq!(
        section.matches("<polyline").count(),
        5 * plots,
        "{plots} plots"
    );
    assert!(section.contains(">PEDS</text>"));
}

/// Bad longitudinal input ends `analyze` with the same error `trajectory` gives, naming the
/// metadata file; no report is written.
#[test]
fn analyze_change_refuses_a_duplicate_subject_time() {
    let dir = temp_dir("change-bad");
    let md = std::fs::read_to_string(repo().join(PJ).join("metadata.tsv")).expect("md");
    // sample-2 is S1's second visit; make it a second sample at time 1.
    let bad = dir.join("dup.tsv");
    std::fs::write(&bad, md.replacen("sample-2\t2\t", "sample-2\t1\t", 1)).expect("write");
    let out = dir.join("out");
    let r = run([
        "analyze",
        &format!("{PJ}/counts.tsv"),
        "--metadata",
        bad.to_str().expect("utf8"),
        "--group",
        "group",
        "--subject",
        "subject",
        "--time",
        "time",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_ne!(r.status, 0);
    assert!(
        r.stderr.contains("dup.tsv")
            && r.stderr
                .contains("subject 'S1' has two samples at time 1 ('sample-1' and 'sample-2')"),
        "{}",
        r.stderr
    );
    assert!(!out.join("report.html").exists());
    // --time without --subject is refused by the command line.
    let r = run([
        "analyze",
        &format!("{PJ}/counts.tsv"),
        "--metadata",
        &format!("{PJ}/metadata.tsv"),
        "--group",
        "group",
        "--time",
        "time",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--subject"), "{}", r.stderr);
}

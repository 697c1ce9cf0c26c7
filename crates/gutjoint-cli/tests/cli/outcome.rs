//! `analyze --outcome`: the report's "Does the microbiome predict response?" section holds the
//! numbers `gutjoint predict --json` prints for the same inputs, seed and settings, draws its
//! plots, shows predict's warnings and verdict, and re-renders byte for byte from results.json.
//!
//! No bundled data set records a treatment response (examples/data holds the GMHI validation
//! profiles, GESPIC, phyloseq's GlobalPatterns and enterotype tables, two longitudinal studies
//! and HUMAnN specimens: diagnoses, disease activity and time points, no responder column), so
//! the cohort here is simulated with a fixed seed: 80 patients × 25 taxa, age and sex as the
//! clinical covariates, a binary response driven by age and one taxon, and a continuous change
//! in disease activity driven by another taxon.

use crate::common::*;
use std::fmt::Write as _;
use std::path::Path;

/// SplitMix64 (Steele et al. 2014): a tiny seeded generator, so the cohort is the same on
/// every machine without a data file.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller.
    fn normal(&mut self) -> f64 {
        let u = self.next().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * self.next()).cos()
    }
}

/// Writes the simulated cohort's table and metadata into `dir`.
fn simulate(dir: &Path) -> (String, String) {
    let (n, taxa) = (80, 25);
    let mut rng = SplitMix(20);
    let mut logs = vec![vec![0.0; taxa]; n];
    let mut md = String::from("sample-id\tresponse\tdas28_change\tage\tsex\tsite\n");
    for (i, row) in logs.iter_mut().enumerate() {
        for v in row.iter_mut() {
            *v = rng.normal();
        }
        let age = 35.0 + 30.0 * rng.next();
        let sex = if rng.next() < 0.5 { "f" } else { "m" };
        let eta = 0.06 * (age - 50.0) + 1.5 * row[0];
        let responder = rng.next() < 1.0 / (1.0 + (-eta).exp());
        let change = -1.0 + 0.8 * row[1] + 0.5 * rng.normal();
        let _ = writeln!(
            md,
            "P{i:02}\t{}\t{change:.4}\t{age:.1}\t{sex}\t{}",
            if responder { "yes" } else { "no" },
            if i % 2 == 0 { "A" } else { "B" }
        );
    }
    let mut table = String::from("#OTU ID");
    for i in 0..n {
        let _ = write!(table, "\tP{i:02}");
    }
    table.push('\n');
    for t in 0..taxa {
        let _ = write!(table, "taxon{t}");
        for row in &logs {
            // About a quarter zeros outside the two signal taxa, as counts.
            let zero = t > 1 && (row[t] * 7.0).fract().abs() < 0.25;
            let count = if zero {
                0.0
            } else {
                (200.0 * row[t].exp()).round() + 1.0
            };
            let _ = write!(table, "\t{count}");
        }
        table.push('\n');
    }
    let (t, m) = (dir.join("table.tsv"), dir.join("metadata.tsv"));
    std::fs::write(&t, table).expect("table");
    std::fs::write(&m, md).expect("metadata");
    (
        t.to_str().expect("utf8").into(),
        m.to_str().expect("utf8").into(),
    )
}

/// Runs `analyze` with the outcome flags and returns the output folder.
fn analyze(dir: &Path, table: &str, md: &str, name: &str, outcome: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "analyze",
        table,
        "--metadata",
        md,
        "--group",
        "site",
        "--permutations",
        "9",
        "--classifier",
        "none",
        "--seed",
        "3",
        "-o",
        out.to_str().expect("utf8"),
        "--quiet",
    ];
    args.extend_from_slice(outcome);
    ok(&args);
    out
}

fn predict(table: &str, md: &str, dir: &Path, outcome: &[&str], json: bool) -> String {
    let mut args = vec![
        "predict",
        table,
        "--metadata",
        md,
        "--seed",
        "3",
        "-o",
        dir.to_str().expect("utf8"),
        "--quiet",
    ];
    args.extend_from_slice(outcome);
    if json {
        args.push("--json");
    }
    ok(&args)
}

#[test]
fn outcome_section_equals_predict_and_renders() {
    let dir = temp_dir("outcome");
    let (table, md) = simulate(&dir);

    // Binary: responder or not, against age and sex.
    let out = analyze(
        &dir,
        &table,
        &md,
        "binary",
        &[
            "--outcome",
            "response",
            "--positive",
            "yes",
            "--clinical",
            "age,sex",
            "--outcome-permutations",
            "9",
        ],
    );
    let results = json(&std::fs::read_to_string(out.join("results.json")).expect("results"));
    let s = &results["outcome"];
    let p_dir = dir.join("predict-binary");
    let flags = [
        "--outcome",
        "response",
        "--positive",
        "yes",
        "--clinical",
        "age,sex",
        "--permutations",
        "9",
    ];
    let p = json(&predict(&table, &md, &p_dir, &flags, true));
    // The section holds predict's own report (the same type, not a copy under other names):
    // equal to `predict --json` as a whole, to the last bit, but for the stability list cut
    // to the 20 features the report shows.
    let r = &s["prediction"];
    let mut expected = p.clone();
    if let Some(list) = expected["stability"].as_array_mut() {
        list.truncate(20);
    }
    assert_eq!(r, &expected);
    assert_eq!(r["outcome"], "binary");
    assert_eq!(s["clinical"], serde_json::json!(["age", "sex=m"]));
    let rocs = s["roc"].as_array().expect("roc curves");
    assert_eq!(rocs.len(), 3);
    for (curve, name) in rocs.iter().zip(["clinical", "microbiome", "combined"]) {
        assert_eq!(curve["model"], name);
        let m = &r[name];
        assert_eq!(m["block"], name);
        for key in [
            "auc",
            "auc_ci",
            "brier",
            "calibration_intercept",
            "calibration_slope",
            "calibration_curve",
            "candidate_features",
        ] {
            assert_eq!(m[key], p[name][key], "{name}.{key}");
            assert!(!m[key].is_null(), "{name}.{key} is null");
        }
        // The ROC curve runs from (0, 0) to (1, 1) and the trapezoids under it sum to the
        // reported (Mann–Whitney) AUC.
        let roc = curve["points"].as_array().expect("roc");
        let xy = |c: &serde_json::Value| {
            (
                c["false_positive_rate"].as_f64().expect("fpr"),
                c["true_positive_rate"].as_f64().expect("tpr"),
            )
        };
        assert_eq!(xy(&roc[0]), (0.0, 0.0));
        assert_eq!(xy(&roc[roc.len() - 1]), (1.0, 1.0));
        let area: f64 = roc
            .windows(2)
            .map(|w| {
                let ((x0, y0), (x1, y1)) = (xy(&w[0]), xy(&w[1]));
                (x1 - x0) * (y0 + y1) / 2.0
            })
            .sum();
        let auc = m["auc"].as_f64().expect("auc");
        assert!((area - auc).abs() < 1e-12, "{name}: area {area}, AUC {auc}");
    }
    for key in ["delta", "ci", "p", "method"] {
        assert_eq!(
            r["combined_vs_clinical"][key], p["combined_vs_clinical"][key],
            "combined_vs_clinical.{key}"
        );
    }
    assert_eq!(r["permutation_p"], p["permutation_p"]);
    assert_eq!(r["permutations"], 9);
    assert_eq!(r["warnings"], p["warnings"]);
    let stability = r["stability"].as_array().expect("stability");
    let expected = p["stability"].as_array().expect("stability");
    assert_eq!(stability.len(), expected.len().min(20));
    for (a, b) in stability.iter().zip(expected) {
        for key in ["feature", "block", "selected_share", "mean_weight"] {
            assert_eq!(a[key], b[key], "stability {key}");
        }
    }
    // 40-odd events for 26 candidate features: predict's events-per-feature warning is there.
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().expect("text"))
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("fewer than 10")),
        "{warnings:?}"
    );
    // The verdict is the one `gutjoint predict` prints for the same run.
    let text = predict(&table, &md, &dir.join("predict-text"), &flags, false);
    let printed = text
        .lines()
        .find_map(|l| l.strip_prefix("verdict: "))
        .expect("verdict line");
    assert_eq!(s["verdict"]["text"], printed);
    // The out-of-fold predictions table is predict's.
    assert_eq!(
        std::fs::read_to_string(out.join("tables/outcome_predictions.tsv")).expect("tsv"),
        std::fs::read_to_string(p_dir.join("predictions.tsv")).expect("tsv")
    );

    // The report draws it: three ROC and three calibration curves, the verdict and warnings.
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    let section = html
        .split("<section id=\"outcome\">")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("outcome section");
    assert!(section.contains("Does the microbiome predict response?"));
    assert_eq!(section.matches("<svg").count(), 2, "ROC and calibration");
    assert_eq!(
        section.matches("<polyline").count(),
        6,
        "3 ROC + 3 calibration"
    );
    let escape = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    assert!(section.contains(&escape(printed)), "verdict in the report");
    for w in &warnings {
        assert!(section.contains(&escape(w)), "warning in the report: {w}");
    }
    assert!(html.contains("Response prediction (as `gutjoint predict`)"));
    // results.json re-renders to the same bytes, and the provenance command names the flags.
    let again = out.join("again.html");
    ok([
        "report",
        out.join("results.json").to_str().expect("utf8"),
        "-o",
        again.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(std::fs::read(&again).expect("again") == html.as_bytes());
    let command = results["provenance"]["command"].as_str().expect("command");
    assert!(
        command.contains(
            "--outcome response --positive yes --clinical age,sex --outcome-permutations 9"
        ),
        "{command}"
    );

    // Continuous: ΔDAS28 against age, without permutations: observed-against-predicted plots.
    let out = analyze(
        &dir,
        &table,
        &md,
        "continuous",
        &[
            "--outcome",
            "das28_change",
            "--clinical",
            "age",
            "--outcome-permutations",
            "0",
        ],
    );
    let results = json(&std::fs::read_to_string(out.join("results.json")).expect("results"));
    let s = &results["outcome"];
    let p = json(&predict(
        &table,
        &md,
        &dir.join("predict-continuous"),
        &[
            "--outcome",
            "das28_change",
            "--clinical",
            "age",
            "--permutations",
            "0",
        ],
        true,
    ));
    let r = &s["prediction"];
    let mut expected = p.clone();
    if let Some(list) = expected["stability"].as_array_mut() {
        list.truncate(20);
    }
    assert_eq!(r, &expected);
    assert_eq!(r["outcome"], "continuous");
    for name in ["clinical", "microbiome", "combined"] {
        for key in ["r2", "r2_ci", "rmse", "rmse_ci", "mae", "mae_ci"] {
            assert!(!r[name][key].is_null(), "{name}.{key} is null");
        }
    }
    assert!(r["permutation_p"].is_null());
    assert!(
        s.get("roc").is_none(),
        "no ROC curve for a continuous outcome"
    );
    assert_eq!(r["predictions"].as_array().map(Vec::len), Some(80));
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    let section = html
        .split("<section id=\"outcome\">")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("outcome section");
    assert_eq!(section.matches("<svg").count(), 3, "one per model");
    assert_eq!(section.matches("<circle").count(), 3 * 80);

    // An outcome without the metadata holding it is refused before any work.
    let r = run([
        "analyze",
        &table,
        "--outcome",
        "response",
        "-o",
        dir.join("nomd").to_str().expect("utf8"),
        "--quiet",
    ]);
    assert_ne!(r.status, 0);
    assert!(r.stderr.contains("metadata"), "{}", r.stderr);
    assert!(!dir.join("nomd/report.html").exists());
}

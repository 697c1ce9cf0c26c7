//! `gutjoint predict` end to end on the GESPIC axSpA/healthy fixture (tests/data/golden/stats):
//! the issue's JSON keys, a continuous outcome, saving and scoring a model, and the bad inputs
//! the issue names. The numbers behind it are checked in gutjoint-stats (elastic net and
//! metrics against scikit-learn/statsmodels, planted signal, no leakage).

use crate::common::*;

const TABLE: &str = "tests/data/golden/stats/gespic_axspa_healthy_genus.tsv";
const MD: &str = "tests/data/golden/stats/gespic_axspa_healthy_metadata.tsv";

fn out_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gutjoint-predict-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn quick(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "predict",
        TABLE,
        "--metadata",
        MD,
        "--seed",
        "1",
        "--permutations",
        "3",
        "--bootstrap",
        "100",
        "--l1-ratios",
        "0.5,1",
        "--n-alphas",
        "3",
        "--inner-folds",
        "3",
        "--min-prevalence",
        "0.5",
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn binary_report_has_the_issue_keys() {
    let dir = out_dir("binary");
    let d = dir.to_str().unwrap();
    let v = json(&ok(quick(&[
        "--outcome",
        "group",
        "--positive",
        "axSpA",
        "--clinical",
        "age,sex,CRP",
        "-o",
        d,
        "--json",
    ])));
    for model in ["clinical", "microbiome", "combined"] {
        for key in ["auc", "auc_ci", "brier", "calibration_slope"] {
            assert!(
                v[model].get(key).is_some(),
                "{model}.{key} missing: {}",
                v[model]
            );
        }
        let auc = v[model]["auc"].as_f64().unwrap();
        let ci = &v[model]["auc_ci"];
        assert!(ci[0].as_f64().unwrap() <= auc && auc <= ci[1].as_f64().unwrap());
    }
    for key in ["delta", "ci", "p"] {
        assert!(v["combined_vs_clinical"].get(key).is_some());
    }
    // 3 permutations: p is one of 1/4, 2/4, 3/4, 1.
    let p = v["permutation_p"].as_f64().unwrap();
    assert!([0.25, 0.5, 0.75, 1.0].contains(&p), "{p}");
    // CRP has 3 missing values: imputed inside the folds and said so.
    assert_eq!(v["missing_clinical"][0]["column"], "CRP");
    assert_eq!(v["missing_clinical"][0]["missing"], 3);
    for f in [
        "report.json",
        "predictions.tsv",
        "stability.tsv",
        "calibration.tsv",
        "decision_curve.tsv",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    let predictions = std::fs::read_to_string(dir.join("predictions.tsv")).unwrap();
    assert!(predictions.starts_with("sample-id\t"));
    assert_eq!(predictions.lines().count(), 164);
    // Same seed, same bytes.
    let again = out_dir("binary-again");
    ok(quick(&[
        "--outcome",
        "group",
        "--positive",
        "axSpA",
        "--clinical",
        "age,sex,CRP",
        "-o",
        again.to_str().unwrap(),
    ]));
    assert_eq!(
        std::fs::read(dir.join("report.json")).unwrap(),
        std::fs::read(again.join("report.json")).unwrap()
    );
}

#[test]
fn continuous_outcome_reports_r2_and_rmse() {
    let dir = out_dir("continuous");
    let v = json(&ok(quick(&[
        "--outcome",
        "BASDAI",
        "--clinical",
        "age,sex",
        "-o",
        dir.to_str().unwrap(),
        "--json",
    ])));
    for model in ["clinical", "microbiome", "combined"] {
        for key in ["r2", "rmse", "r2_ci", "mae"] {
            assert!(v[model].get(key).is_some(), "{model}.{key}");
        }
        assert!(v[model].get("auc").is_none());
    }
    assert_eq!(v["combined_vs_clinical"]["method"], "paired_bootstrap");
    assert_eq!(v["n"], 161);
}

#[test]
fn saved_model_scores_new_profiles_and_refuses_another_feature_space() {
    let dir = out_dir("model");
    let model = dir.join("model.json");
    ok(quick(&[
        "--outcome",
        "group",
        "--positive",
        "axSpA",
        "--clinical",
        "age,sex",
        "-o",
        dir.to_str().unwrap(),
        "--save-model",
        model.to_str().unwrap(),
        "--population",
        "GESPIC, Berlin",
    ]));
    let saved = json(&std::fs::read_to_string(&model).unwrap());
    assert_eq!(saved["format"], "gutjoint-predict-model/1");
    assert_eq!(saved["model_card"]["population"], "GESPIC, Berlin");
    assert!(
        saved["model_card"]["performance"]
            .as_str()
            .unwrap()
            .contains("AUC")
    );
    assert!(
        !saved["model_card"]["must_not_be_used_for"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let scores = dir.join("scores.tsv");
    let r = run([
        "predict",
        "--model",
        model.to_str().unwrap(),
        TABLE,
        "--metadata",
        MD,
        "-o",
        scores.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stderr.contains("Research use only"), "{}", r.stderr);
    let text = std::fs::read_to_string(&scores).unwrap();
    assert_eq!(text.lines().count(), 164);
    let p: f64 = text
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.0..=1.0).contains(&p));
    // A species-level MetaPhlAn table is not the model's genus feature space.
    let r = run([
        "predict",
        "--model",
        model.to_str().unwrap(),
        "tests/data/golden/stats/gmhi_as_healthy_species.tsv",
        "--metadata",
        MD,
    ]);
    assert_ne!(r.status, 0);
    assert!(
        r.stderr.contains("does not fit") || r.stderr.contains("rank"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_inputs_get_clear_errors() {
    let dir = out_dir("bad");
    let d = dir.to_str().unwrap();
    let r = run(quick(&[
        "--outcome",
        "BASDAI",
        "--positive",
        "5.6",
        "-o",
        d,
    ]));
    assert_ne!(r.status, 0);
    assert!(r.stderr.contains("continuous"), "{}", r.stderr);
    let r = run(quick(&[
        "--outcome",
        "group",
        "--positive",
        "nobody",
        "-o",
        d,
    ]));
    assert!(r.stderr.contains("no value 'nobody'"), "{}", r.stderr);
    let r = run(quick(&["--outcome", "group", "-o", d]));
    assert!(r.stderr.contains("positive level"), "{}", r.stderr);
    let r = run(quick(&[
        "--outcome",
        "group",
        "--positive",
        "axSpA",
        "--clinical",
        "nope",
        "-o",
        d,
    ]));
    assert!(r.stderr.contains("no column 'nope'"), "{}", r.stderr);
}

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

/// Trains axSpA vs healthy with age and sex (and `extra`) into a fresh folder and saves the
/// model there; returns the folder, the model path and the parsed model.
fn train_and_save(
    name: &str,
    extra: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf, serde_json::Value) {
    let dir = out_dir(name);
    let model = dir.join("model.json");
    let (d, m) = (
        dir.to_str().expect("utf-8 temp dir"),
        model.to_str().expect("utf-8 temp dir"),
    );
    let mut args = vec![
        "--outcome",
        "group",
        "--positive",
        "axSpA",
        "--clinical",
        "age,sex",
        "-o",
        d,
        "--save-model",
        m,
    ];
    args.extend_from_slice(extra);
    ok(quick(&args));
    let text = std::fs::read_to_string(&model).expect("model saved");
    let saved = json(&text);
    (dir, model, saved)
}

#[test]
fn saved_model_scores_new_profiles_and_refuses_another_feature_space() {
    let (dir, model, saved) = train_and_save("model", &["--population", "GESPIC, Berlin"]);
    assert_eq!(saved["format"], "gutjoint-predict-model/2");
    assert_eq!(saved["model"]["learner"], "elastic_net");
    // Provenance: the input files' SHA-256 (as sha256sum prints it), version, seed, settings.
    assert_eq!(saved["provenance"]["table_sha256"][0], sha256sum(TABLE));
    assert_eq!(saved["provenance"]["metadata_sha256"], sha256sum(MD));
    assert!(
        saved["provenance"]["software"]
            .as_str()
            .unwrap()
            .starts_with("gutjoint ")
    );
    assert_eq!(saved["provenance"]["config"]["seed"], 1);
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
    let r = score_training_table(&model, &scores);
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

/// The SHA-256 that coreutils' `sha256sum` prints for a repository file (an independent
/// implementation to check the saved provenance against).
fn sha256sum(path: &str) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(path),
        )
        .output()
        .expect("sha256sum runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("sha256sum prints a digest")
        .to_string()
}

/// Scores the training table with a saved model into `out`; the run must succeed.
fn score_training_table(model: &std::path::Path, out: &std::path::Path) -> Run {
    let args: [&std::ffi::OsStr; 8] = [
        "predict".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        TABLE.as_ref(),
        "--metadata".as_ref(),
        MD.as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    let r = run(args);
    assert_eq!(r.status, 0, "{}", r.stderr);
    r
}

/// The score column of a scores TSV.
fn scores_of(path: &std::path::Path) -> Vec<f64> {
    std::fs::read_to_string(path)
        .expect("scores written")
        .lines()
        .skip(1)
        .map(|l| {
            l.split('\t')
                .nth(1)
                .and_then(|v| v.parse().ok())
                .expect("a numeric score in column 2")
        })
        .collect()
}

/// The forest can be saved now: the model file holds its trees, and scoring the training table
/// twice gives the same bytes; its scores on its own training samples rank them as the outcome
/// (a forest fits its training data closely).
#[test]
fn saved_forest_scores_its_training_table() {
    let (dir, model, saved) = train_and_save("forest", &["--model", "rf", "--trees", "30"]);
    assert_eq!(saved["model"]["learner"], "random_forest");
    assert_eq!(saved["model"]["trees"], 30);
    let score = |name: &str| {
        let out = dir.join(name);
        let r = score_training_table(&model, &out);
        assert!(r.stderr.contains("Research use only"));
        scores_of(&out)
    };
    let a = score("a.tsv");
    assert_eq!(a, score("b.tsv"));
    assert_eq!(a.len(), 163);
    let md = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(MD),
    )
    .unwrap();
    let axspa: std::collections::HashSet<&str> = md
        .lines()
        .filter(|l| l.split('\t').nth(1) == Some("axSpA"))
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    let text = std::fs::read_to_string(dir.join("a.tsv")).unwrap();
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for l in text.lines().skip(1) {
        let mut f = l.split('\t');
        let id = f.next().unwrap();
        let p: f64 = f.next().unwrap().parse().unwrap();
        if axspa.contains(id) {
            pos.push(p)
        } else {
            neg.push(p)
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&pos) > mean(&neg) + 0.2,
        "{} vs {}",
        mean(&pos),
        mean(&neg)
    );
}

/// Derived features on the command line: dysbiosis against the training folds' healthy
/// controls and guild abundances join the microbiome columns (named in stability.tsv and the
/// candidate count), the saved model stores the dysbiosis reference it was fitted with and
/// scores a table again without --controls; bad requests get clear errors.
#[test]
fn derived_features_join_the_microbiome_models() {
    let dir = out_dir("derived");
    let model = dir.join("model.json");
    let plain = json(&ok(quick(&[
        "--outcome",
        "BASDAI",
        "--clinical",
        "age",
        "-o",
        dir.to_str().unwrap(),
        "--json",
    ])));
    let v = json(&ok(quick(&[
        "--outcome",
        "BASDAI",
        "--clinical",
        "age",
        "--derived",
        "dysbiosis,guilds",
        "--controls",
        "group=healthy",
        "-o",
        dir.to_str().unwrap(),
        "--json",
        "--save-model",
        model.to_str().unwrap(),
    ])));
    let saved = json(&std::fs::read_to_string(&model).unwrap());
    let derived = saved["preprocessing"]["derived"].as_array().unwrap();
    assert_eq!(derived[0]["name"], "dysbiosis_own_controls");
    assert_eq!(derived[0]["data_dependent"], true);
    assert_eq!(derived[1]["name"], "guilds");
    let guilds = derived[1]["columns"].as_array().unwrap().len();
    assert!(guilds > 0);
    assert_eq!(
        v["combined"]["candidate_features"].as_u64().unwrap(),
        plain["combined"]["candidate_features"].as_u64().unwrap() + 1 + guilds as u64
    );
    let stability = std::fs::read_to_string(dir.join("stability.tsv")).unwrap();
    assert!(stability.contains("age\t"), "{stability}");
    let out = dir.join("scores.tsv");
    score_training_table(&model, &out);
    assert_eq!(scores_of(&out).len(), 163);
    // Bad requests, each with what the error must say. A genus table has no species, so a
    // drug's capacity cannot be computed there.
    let d = dir.to_str().unwrap();
    for (derived, says) in [
        ("dysbiosis", "needs --controls"),
        ("bogus", "expected enterotype, gmhi"),
        ("drug:aspirin-x", "no AGORA2 enzyme column"),
        ("drug:sulfasalazine", "need species names"),
    ] {
        let r = run(quick(&[
            "--outcome",
            "BASDAI",
            "--derived",
            derived,
            "-o",
            d,
        ]));
        assert_ne!(r.status, 0, "{derived}");
        assert!(r.stderr.contains(says), "{derived}: {}", r.stderr);
    }
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

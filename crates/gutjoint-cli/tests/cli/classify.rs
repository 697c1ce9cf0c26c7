//! `gutjoint classify` against scikit-learn on the same folds (tests/data/golden/stats, made by
//! make_stats_golden.py there: RandomForestClassifier(n_estimators=500) and
//! LogisticRegression(penalty="l1", solver="liblinear", C=1) on CLR features with the pseudocount
//! of pseudocounts.tsv, 5-fold StratifiedKFold written to rf_folds*.tsv).

use crate::common::*;

const G: &str = "tests/data/golden/stats";

fn rows(path: &std::path::Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// sklearn's pooled out-of-fold AUC for `model` in rf_auc_<tag>.tsv.
fn sklearn_auc(tag: &str, model: &str) -> f64 {
    rows(&repo().join(G).join(format!("rf_auc_{tag}.tsv")))
        .into_iter()
        .find(|r| r[0] == model && r[1] == "pooled")
        .expect("pooled row")[4]
        .parse()
        .expect("auc")
}

struct Case {
    tag: &'static str,
    table: &'static str,
    metadata: &'static str,
    column: &'static str,
    positive: &'static str,
    folds: &'static str,
}

const CASES: [Case; 2] = [
    Case {
        tag: "gespic",
        table: "gespic_axspa_healthy_genus.tsv",
        metadata: "gespic_axspa_healthy_metadata.tsv",
        column: "group",
        positive: "axSpA",
        folds: "rf_folds.tsv",
    },
    Case {
        tag: "gmhi",
        table: "gmhi_as_healthy_species.tsv",
        metadata: "gmhi_as_healthy_metadata.tsv",
        column: "label",
        positive: "AS",
        folds: "rf_folds_gmhi.tsv",
    },
];

fn classify(case: &Case, model: &str, out: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args: Vec<String> = [
        "classify",
        &format!("{G}/{}", case.table),
        "--metadata",
        &format!("{G}/{}", case.metadata),
        "--column",
        case.column,
        "--positive",
        case.positive,
        "--model",
        model,
        "--json",
        "--quiet",
        "-o",
        out.to_str().expect("utf8"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    json(&ok(args))
}

/// The bar: AUC within ±0.03 of scikit-learn's random forest on the same folds.
#[test]
fn random_forest_auc_matches_scikit_learn_on_the_same_folds() {
    let out = temp_dir("classify_rf");
    for case in &CASES {
        let folds = format!("{G}/{}", case.folds);
        let j = classify(case, "rf", &out.join("oof.tsv"), &["--folds-from", &folds]);
        let ours = j["auc"].as_f64().expect("auc");
        let theirs = sklearn_auc(case.tag, "random_forest");
        assert!(
            (ours - theirs).abs() <= 0.03,
            "{}: AUC {ours} vs scikit-learn {theirs}",
            case.tag
        );
        let ci = j["auc_ci"].as_array().expect("ci");
        let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
        assert!(lo < ours && ours < hi && hi <= 1.0, "{lo} {ours} {hi}");
        assert_eq!(j["folds"], 5);
        assert_eq!(j["repeats"], 1);
        assert_eq!(j["model"], "random_forest");
    }
}

/// The L1 problem is convex with one optimum. liblinear's default tolerance stops short of it
/// on nearly separable data (its GMHI probabilities differ from the optimum's by up to 0.035),
/// so probabilities are compared with an independent high-accuracy solve of liblinear's
/// objective (scipy L-BFGS-B, make_classify_golden.py; measured max difference 4.6e-7 with the
/// Newton/coordinate-descent solver, 4.1e-6 with the earlier proximal-gradient one) and the
/// AUC with scikit-learn's liblinear run (measured within 0.0006).
#[test]
fn l1_logistic_reaches_liblinears_optimum() {
    let out = temp_dir("classify_l1");
    for case in &CASES {
        let folds = format!("{G}/{}", case.folds);
        let oof = out.join(format!("{}.tsv", case.tag));
        let j = classify(case, "l1-logistic", &oof, &["--folds-from", &folds]);
        let theirs = sklearn_auc(case.tag, "logreg_l1");
        let ours = j["auc"].as_f64().expect("auc");
        assert!(
            (ours - theirs).abs() <= 0.002,
            "{}: {ours} vs {theirs}",
            case.tag
        );
        let golden: std::collections::HashMap<String, f64> = rows(
            &repo()
                .join(G)
                .join(format!("l1_logistic_converged_{}_oof.tsv", case.tag)),
        )
        .into_iter()
        .map(|r| (r[0].clone(), r[3].parse().expect("prob")))
        .collect();
        let mine = rows(&oof);
        assert_eq!(mine.len(), golden.len());
        for r in &mine {
            let p: f64 = r[2].parse().expect("prob");
            let g = golden[&r[0]];
            assert!(
                (p - g).abs() < 2e-6,
                "{} {}: {p} vs converged {g}",
                case.tag,
                r[0]
            );
        }
    }
}

/// Same seed, same bytes, whatever the thread count; a different seed moves the folds.
#[test]
fn classify_is_seeded_and_thread_independent() {
    let out = temp_dir("classify_seed");
    let case = &CASES[0];
    let a = classify(
        case,
        "rf",
        &out.join("a.tsv"),
        &[
            "--seed",
            "4",
            "--trees",
            "50",
            "--repeats",
            "2",
            "--threads",
            "1",
        ],
    );
    let b = classify(
        case,
        "rf",
        &out.join("b.tsv"),
        &[
            "--seed",
            "4",
            "--trees",
            "50",
            "--repeats",
            "2",
            "--threads",
            "2",
        ],
    );
    assert_eq!(a, b);
    assert_eq!(
        std::fs::read(out.join("a.tsv")).unwrap(),
        std::fs::read(out.join("b.tsv")).unwrap()
    );
    assert_eq!(a["repeat_auc"].as_array().unwrap().len(), 2);
    classify(
        case,
        "rf",
        &out.join("c.tsv"),
        &["--seed", "5", "--trees", "50", "--repeats", "2"],
    );
    assert_ne!(
        std::fs::read(out.join("a.tsv")).unwrap(),
        std::fs::read(out.join("c.tsv")).unwrap()
    );
}

/// Train on one set and test on another: the test samples' probabilities must be exactly those
/// a cross-validation gives them when the training set is the only other fold (the logistic
/// fit is deterministic).
#[test]
fn train_where_test_where_is_a_held_out_fit() {
    let out = temp_dir("classify_split");
    let case = &CASES[0];
    let split = classify(
        case,
        "l1-logistic",
        &out.join("split.tsv"),
        &["--train-where", "sex=1", "--test-where", "sex=2"],
    );
    assert_eq!(split["validation"], "train-test");
    let (n_train, n_test) = (
        split["n_train"].as_u64().unwrap(),
        split["n_test"].as_u64().unwrap(),
    );
    assert_eq!(n_train + n_test, 163);
    // Fold 0 = the test set (sex 2), fold 1 = the training set (sex 1).
    let md = rows(&repo().join(G).join(case.metadata));
    let mut folds = String::from("sample-id\tfold\n");
    for r in &md {
        folds.push_str(&format!("{}\t{}\n", r[0], if r[3] == "2" { 0 } else { 1 }));
    }
    std::fs::write(out.join("folds.tsv"), folds).unwrap();
    classify(
        case,
        "l1-logistic",
        &out.join("cv.tsv"),
        &["--folds-from", out.join("folds.tsv").to_str().unwrap()],
    );
    let cv: std::collections::HashMap<String, String> = rows(&out.join("cv.tsv"))
        .into_iter()
        .map(|r| (r[0].clone(), r[2].clone()))
        .collect();
    let held = rows(&out.join("split.tsv"));
    assert_eq!(held.len() as u64, n_test);
    for r in &held {
        assert_eq!(r[2], cv[&r[0]], "{}", r[0]);
    }
}

#[test]
fn classify_refuses_bad_input_clearly() {
    let case = &CASES[0];
    let with_column = |column: &str, extra: &[&str]| {
        let mut a = vec![
            "classify".to_string(),
            format!("{G}/{}", case.table),
            "--metadata".into(),
            format!("{G}/{}", case.metadata),
            "--column".into(),
            column.to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        run(a)
    };
    let base = |extra: &[&str]| with_column("group", extra);
    let r = base(&["--positive", "RA"]);
    assert_ne!(r.status, 0);
    assert!(
        r.stderr.contains("both classes") && r.stderr.contains("'RA'"),
        "{}",
        r.stderr
    );
    let r = base(&["--positive", "axSpA", "--model", "svm"]);
    assert!(
        r.status != 0
            && r.stderr.contains("invalid value 'svm' for '--model")
            && r.stderr.contains("l1-logistic"),
        "{}",
        r.stderr
    );
    let r = with_column("nope", &["--positive", "axSpA"]);
    assert!(
        r.status != 0 && r.stderr.contains("no column 'nope'"),
        "{}",
        r.stderr
    );
    let bad = temp_dir("classify_bad").join("folds.tsv");
    std::fs::write(&bad, "sample-id\tfold\nP129\t0\n").unwrap();
    let r = base(&["--positive", "axSpA", "--folds-from", bad.to_str().unwrap()]);
    assert!(
        r.status != 0 && r.stderr.contains("no fold for sample"),
        "{}",
        r.stderr
    );
}

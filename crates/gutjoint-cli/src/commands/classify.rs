//! `gutjoint classify`: how well does the microbiome separate cases from controls?

use crate::input::TableArgs;
use crate::methods::ClassifierName;
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_stats::classify::{Model, cross_validate, fit_predict, roc_auc};
use gutjoint_table::read_metadata_file;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Classify samples from CLR-transformed abundances with a random forest (`rf`, 500 trees,
/// √p features per split, as scikit-learn's defaults) or L1-regularised logistic regression
/// (`l1-logistic`, liblinear's objective with C), evaluated by stratified, repeated k-fold
/// cross-validation: each sample's out-of-fold probability is averaged over repeats and the
/// ROC AUC is reported with DeLong's 95% CI. With --train-where/--test-where the model is
/// trained on one population (country, study) and tested on another instead, because
/// signatures move with geography. Seeded: the same inputs and seed give the same bytes.
///
/// Example:
///   gutjoint classify examples/data/gespic/gespic_genus.tsv --metadata examples/data/gespic/gespic_metadata.tsv \
///       --column group --positive axSpA --negative healthy --model rf --seed 1 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    #[arg(long, value_name = "MD")]
    pub metadata: PathBuf,
    /// Column holding the class labels.
    #[arg(long, value_name = "C")]
    pub column: String,
    /// The positive class.
    #[arg(long, value_name = "VALUE")]
    pub positive: String,
    /// The negative class(es), comma-separated (default: every other value of the column).
    #[arg(long, value_name = "VALUES")]
    pub negative: Option<String>,
    /// rf or l1-logistic.
    #[arg(long, value_enum, default_value_t = ClassifierName::Rf)]
    pub model: ClassifierName,
    /// Trees of the random forest.
    #[arg(long, default_value_t = 500)]
    pub trees: usize,
    /// Inverse regularisation strength C of the L1 logistic model.
    #[arg(long = "c", default_value_t = 1.0)]
    pub c: f64,
    /// Folds of the cross-validation.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Repeats of the cross-validation, each with a different seeded split.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Validation: kfold (stratified, repeated) or leave-group-out (hold out one study, batch
    /// or country at a time, --groups COL; one AUC per held-out group plus the pooled one, as
    /// SIAMCAT's cross-study validation).
    #[arg(long, value_enum, default_value_t = crate::methods::CvName::Kfold, value_name = "SCHEME")]
    pub cv: crate::methods::CvName,
    /// The column whose levels are held out one at a time (--cv leave-group-out).
    #[arg(long, value_name = "COL")]
    pub groups: Option<String>,
    /// Fixed fold assignment instead: a TSV of sample-id and fold (0-based); one repeat.
    #[arg(long, value_name = "FOLDS.tsv", conflicts_with = "train_where")]
    pub folds_from: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Keep features present in at least this fraction of the used samples.
    #[arg(long, default_value_t = 0.0)]
    pub min_prevalence: f64,
    /// Pseudocount added before the CLR (default: half the smallest nonzero relative
    /// abundance of the used samples).
    #[arg(long)]
    pub pseudocount: Option<f64>,
    /// Train on these samples only: COLUMN=VALUE[,VALUE...].
    #[arg(long, value_name = "COL=VALUES", requires = "test_where")]
    pub train_where: Option<String>,
    /// Test on these samples: COLUMN=VALUE[,VALUE...].
    #[arg(long, value_name = "COL=VALUES", requires = "train_where")]
    pub test_where: Option<String>,
    /// Out-of-fold (or test-set) predictions, TSV.
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    /// Feature importances, TSV.
    #[arg(long, value_name = "IMP.tsv")]
    pub importances: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Summary {
    model: &'static str,
    validation: &'static str,
    auc: f64,
    auc_ci: [f64; 2],
    auc_se: f64,
    folds: usize,
    repeats: usize,
    repeat_auc: Vec<f64>,
    seed: u64,
    n: usize,
    n_positive: usize,
    n_train: Option<usize>,
    n_test: Option<usize>,
    features: usize,
    pseudocount: f64,
    /// Leave-group-out: the column held out and each held-out group's AUC.
    #[serde(skip_serializing_if = "Option::is_none")]
    groups_column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    held_out_groups: Option<Vec<gutjoint_stats::classify::HeldOutGroup>>,
}

/// `COL=V1,V2` → (column, values).
fn parse_where(spec: &str, flag: &str) -> Result<(String, Vec<String>)> {
    let (c, v) = spec
        .split_once('=')
        .with_context(|| format!("{flag} '{spec}': expected COLUMN=VALUE[,VALUE...]"))?;
    Ok((
        c.trim().to_string(),
        v.split(',').map(|s| s.trim().to_string()).collect(),
    ))
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let model = match args.model {
        ClassifierName::Rf => {
            if args.trees == 0 {
                bail!("--trees must be at least 1");
            }
            Model::RandomForest {
                trees: args.trees,
                seed: args.seed,
            }
        }
        ClassifierName::L1Logistic => {
            if args.c.is_nan() || args.c <= 0.0 {
                bail!("--c must be positive, got {}", args.c);
            }
            Model::L1Logistic { c: args.c }
        }
        ClassifierName::None => {
            bail!("--model none is analyze's; classify needs rf or l1-logistic")
        }
    };
    let table = args.input.read(quiet)?.table;
    let md = read_metadata_file(&args.metadata)?;
    let mdpath = args.metadata.display();
    let column = md.column(&args.column).with_context(|| {
        format!(
            "{mdpath}: no column '{}' (columns: {})",
            args.column,
            md.column_names().join(", ")
        )
    })?;
    let index = md.index();
    let negatives: Option<Vec<String>> = args
        .negative
        .as_ref()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let split = match (&args.train_where, &args.test_where) {
        (Some(a), Some(b)) => Some((
            parse_where(a, "--train-where")?,
            parse_where(b, "--test-where")?,
        )),
        _ => None,
    };
    let value_of = |col: &str, id: &str| -> Result<Option<String>> {
        let c = md
            .column(col)
            .with_context(|| format!("{mdpath}: no column '{col}'"))?;
        Ok(index.get(id).and_then(|&r| c.text(r)))
    };
    // Which samples take part, their labels and (for a split) their side.
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    let mut side = Vec::new();
    let mut missing = 0usize;
    for (s, id) in table.sample_ids().iter().enumerate() {
        let Some(v) = index.get(id.as_str()).and_then(|&r| column.text(r)) else {
            missing += 1;
            continue;
        };
        let positive = v == args.positive;
        if !positive && negatives.as_ref().is_some_and(|n| !n.contains(&v)) {
            continue;
        }
        let in_side = match &split {
            None => 0u8,
            Some(((tc, tv), (ec, ev))) => {
                let train = value_of(tc, id)?.is_some_and(|x| tv.contains(&x));
                let test = value_of(ec, id)?.is_some_and(|x| ev.contains(&x));
                match (train, test) {
                    (true, true) => bail!(
                        "sample '{id}' matches both --train-where and --test-where; the sets must not overlap"
                    ),
                    (true, false) => 1,
                    (false, true) => 2,
                    (false, false) => continue,
                }
            }
        };
        rows.push(s);
        labels.push(positive);
        side.push(in_side);
    }
    if !quiet && missing > 0 {
        eprintln!(
            "note: {missing} samples without a value in '{}' left out",
            args.column
        );
    }
    let n_positive = labels.iter().filter(|&&b| b).count();
    if n_positive == 0 || n_positive == labels.len() {
        bail!(
            "{mdpath}: '{}' must give both classes; found {} samples, {n_positive} with '{}'",
            args.column,
            labels.len(),
            args.positive
        );
    }
    // Leave-group-out: each sample's group; samples without one cannot be held out and are
    // left out, with a note.
    let held_out: Option<(String, Vec<String>)> = match (args.cv, &args.groups) {
        (crate::methods::CvName::LeaveGroupOut, Some(column)) => {
            let groups_col = crate::input::metadata_column(&md, &args.metadata, column)?;
            let mut kept = (Vec::new(), Vec::new(), Vec::new());
            for (k, &s) in rows.iter().enumerate() {
                let id = table.sample_ids()[s].as_str();
                if let Some(g) = index.get(id).and_then(|&r| groups_col.text(r)) {
                    kept.0.push(s);
                    kept.1.push(labels[k]);
                    kept.2.push(g);
                }
            }
            if !quiet && kept.0.len() < rows.len() {
                eprintln!(
                    "note: {} samples without a value in '{column}' left out (they cannot be held out)",
                    rows.len() - kept.0.len()
                );
            }
            rows = kept.0;
            labels = kept.1;
            Some((column.clone(), kept.2))
        }
        (crate::methods::CvName::LeaveGroupOut, None) => {
            bail!("--cv leave-group-out needs --groups COL (the study, batch or country column)")
        }
        _ => None,
    };
    let (data, features, pseudocount) = gutjoint_stats::features::clr_dataset(
        &table,
        &rows,
        labels,
        args.min_prevalence,
        args.pseudocount,
    )?;
    let ids: Vec<&str> = rows
        .iter()
        .map(|&s| table.sample_ids()[s].as_str())
        .collect();
    let mut predictions = String::new();
    let leave_group_out = args.cv == crate::methods::CvName::LeaveGroupOut;
    if leave_group_out && (split.is_some() || args.folds_from.is_some()) {
        bail!("--cv leave-group-out makes its own folds; drop --train-where/--folds-from");
    }
    if !leave_group_out && args.groups.is_some() {
        bail!("--groups is for --cv leave-group-out");
    }
    let (summary, importances, selected) = if let Some((column, groups)) = &held_out {
        let column = column.as_str();
        let cv = output::with_progress("leave-group-out", quiet, || {
            gutjoint_stats::classify::leave_group_out(&data, model, groups)
        })
        .with_context(|| format!("holding out each level of '{column}'"))?;
        predictions.push_str("sample-id\tlabel\tprobability\theld_out_group\n");
        for i in 0..data.n {
            let _ = writeln!(
                predictions,
                "{}\t{}\t{}\t{}",
                ids[i],
                u8::from(data.y[i]),
                cv.probabilities[i].map_or("NA".to_string(), |p| p.to_string()),
                groups[i]
            );
        }
        if !quiet {
            for g in cv.groups.iter().filter(|g| g.note.is_some()) {
                eprintln!(
                    "note: {column}={}: {}",
                    g.group,
                    g.note.as_deref().unwrap_or_default()
                );
            }
        }
        (
            Summary {
                model: model.name(),
                validation: "leave-group-out",
                auc: cv.pooled_auc,
                auc_ci: cv.pooled_auc_ci,
                auc_se: cv.pooled_auc_se,
                folds: cv.groups.len(),
                repeats: 1,
                repeat_auc: Vec::new(),
                seed: args.seed,
                n: cv.n_predicted,
                n_positive: (0..data.n)
                    .filter(|&i| data.y[i] && cv.probabilities[i].is_some())
                    .count(),
                n_train: None,
                n_test: None,
                features: data.p,
                pseudocount,
                groups_column: Some(column.to_string()),
                held_out_groups: Some(cv.groups.clone()),
            },
            cv.importances,
            cv.selected,
        )
    } else if split.is_some() {
        let train: Vec<usize> = (0..data.n).filter(|&i| side[i] == 1).collect();
        let test: Vec<usize> = (0..data.n).filter(|&i| side[i] == 2).collect();
        let (tr, te) = (data.subset(&train), data.subset(&test));
        let fitted = fit_predict(model, &tr, &te).context("training set")?;
        let auc = roc_auc(&fitted.probabilities, &te.y).context("test set")?;
        predictions.push_str("sample-id\tlabel\tprobability\n");
        for (k, &i) in test.iter().enumerate() {
            let _ = writeln!(
                predictions,
                "{}\t{}\t{}",
                ids[i],
                u8::from(data.y[i]),
                fitted.probabilities[k]
            );
        }
        let selected = fitted
            .importances
            .iter()
            .map(|&v| if v != 0.0 { 1.0 } else { 0.0 })
            .collect();
        (
            Summary {
                model: model.name(),
                validation: "train-test",
                auc: auc.auc,
                auc_ci: auc.ci,
                auc_se: auc.se,
                folds: 0,
                repeats: 0,
                repeat_auc: Vec::new(),
                seed: args.seed,
                n: data.n,
                n_positive,
                n_train: Some(train.len()),
                n_test: Some(test.len()),
                features: data.p,
                pseudocount,
                groups_column: None,
                held_out_groups: None,
            },
            fitted.importances,
            selected,
        )
    } else {
        let folds = match &args.folds_from {
            Some(path) => vec![read_folds(path, &ids)?],
            None => {
                if args.folds < 2 || args.repeats == 0 {
                    bail!("--folds must be at least 2 and --repeats at least 1");
                }
                let smaller = n_positive.min(data.n - n_positive);
                if smaller < args.folds {
                    bail!(
                        "{} folds need at least {} samples of each class; the smaller class has {smaller}",
                        args.folds,
                        args.folds
                    );
                }
                (0..args.repeats)
                    .map(|r| {
                        gutjoint_stats::classify::stratified_folds(
                            &data.y,
                            args.folds,
                            args.seed.wrapping_add(r as u64),
                        )
                    })
                    .collect()
            }
        };
        let cv = output::with_progress("cross-validating", quiet, || {
            cross_validate(&data, model, folds)
        })?;
        predictions.push_str("sample-id\tlabel\tprobability\tfolds\n");
        for i in 0..data.n {
            let f: Vec<String> = cv.folds.iter().map(|r| r[i].to_string()).collect();
            let _ = writeln!(
                predictions,
                "{}\t{}\t{}\t{}",
                ids[i],
                u8::from(data.y[i]),
                cv.probabilities[i],
                f.join(",")
            );
        }
        let k = cv.folds[0].iter().copied().max().unwrap_or(0) + 1;
        (
            Summary {
                model: model.name(),
                validation: "cross-validation",
                auc: cv.auc.auc,
                auc_ci: cv.auc.ci,
                auc_se: cv.auc.se,
                folds: k,
                repeats: cv.folds.len(),
                repeat_auc: cv.repeat_auc.clone(),
                seed: args.seed,
                n: data.n,
                n_positive,
                n_train: None,
                n_test: None,
                features: data.p,
                pseudocount,
                groups_column: None,
                held_out_groups: None,
            },
            cv.importances,
            cv.selected,
        )
    };
    if let Some(path) = &args.output {
        output::write_file(path, predictions.as_bytes())?;
    }
    if let Some(path) = &args.importances {
        let mut order: Vec<usize> = (0..features.len()).collect();
        order.sort_by(|&a, &b| {
            importances[b]
                .abs()
                .total_cmp(&importances[a].abs())
                .then(a.cmp(&b))
        });
        let mut text = String::from("feature\tlineage\timportance\tselected_share\n");
        for j in order {
            let _ = writeln!(
                text,
                "{}\t{}\t{}\t{}",
                features[j].id, features[j].lineage, importances[j], selected[j]
            );
        }
        output::write_file(path, text.as_bytes())?;
    }
    if args.json {
        output::print_json(&summary)
    } else {
        let mut text = format!(
            "{} ({}): AUC {:.3} (95% CI {:.3}–{:.3}), n = {} ({} {}), {} features\n",
            summary.model,
            summary.validation,
            summary.auc,
            summary.auc_ci[0],
            summary.auc_ci[1],
            summary.n,
            summary.n_positive,
            args.positive,
            summary.features
        );
        for g in summary.held_out_groups.iter().flatten() {
            let _ = writeln!(
                text,
                "  held out {}={}: n = {} ({} {}), AUC {}",
                summary.groups_column.as_deref().unwrap_or_default(),
                g.group,
                g.n,
                g.n_positive,
                args.positive,
                g.auc.map_or_else(
                    || format!("none ({})", g.note.as_deref().unwrap_or_default()),
                    |a| format!("{a:.3}")
                )
            );
        }
        output::print(&text)
    }
}

/// A fold assignment TSV (`sample-id`, `fold`), every used sample present, read with the
/// metadata reader (so a malformed file gets its file-and-line errors).
fn read_folds(path: &std::path::Path, ids: &[&str]) -> Result<Vec<usize>> {
    let md = read_metadata_file(path)?;
    let column = md
        .column("fold")
        .with_context(|| format!("{}: expected a 'fold' column", path.display()))?;
    let index = md.index();
    ids.iter()
        .map(|id| {
            let text = index
                .get(id)
                .and_then(|&r| column.text(r))
                .with_context(|| format!("{}: no fold for sample '{id}'", path.display()))?;
            text.parse::<usize>().with_context(|| {
                format!(
                    "{}: fold '{text}' of sample '{id}' is not a non-negative integer",
                    path.display()
                )
            })
        })
        .collect()
}

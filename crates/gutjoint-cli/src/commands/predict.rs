//! `gutjoint predict`: does the baseline microbiome add anything to what the clinic already
//! knows about who will respond? Nested cross-validation of clinical-only, microbiome-only and
//! combined models; or, with `--model model.json`, scoring new profiles with a saved model.

use crate::input::{TableArgs, metadata_column};
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_axis::derived::{DrugCapacity, Enterotype, Gmhi, Guilds, OwnControlsDysbiosis};
use gutjoint_axis::enterotype::Centroids;
use gutjoint_axis::pharmaco::CarriageIndex;
use gutjoint_pipeline::Assets;
use gutjoint_stats::elastic_net::Tolerance;
use gutjoint_stats::predict::{
    ClinicalColumn, Derived, Learner, Metrics, Outcome, PredictConfig, PredictInput,
    PredictionReport, Provenance, RESEARCH_USE, SavedModel, fit_final, metadata_values, predict,
    score, verdict,
};
use gutjoint_table::{Metadata, read_metadata_file};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Predict treatment response (binary: responder or not; continuous: ΔDAS28, ΔBASDAI, ASDAS at
/// follow-up) from the baseline microbiome and clinical covariates, judged honestly: three
/// models side by side (clinical only, microbiome only, combined), nested cross-validation
/// with every data-dependent step (prevalence filter, CLR pseudocount, imputation, scaling,
/// tuning) inside the folds, leave-one-group-out with --groups. Reports AUC with DeLong CI,
/// Brier, calibration and net benefit (binary) or R², RMSE, MAE with bootstrap CIs
/// (continuous); the combined-vs-clinical difference with CI and p; a label-permutation p for
/// the microbiome-only model; feature stability; warnings. Research use only.
///
/// Elastic net: clinical covariates are never penalised; taxa (CLR, standardised) are.
/// Missing clinical values are imputed by the training folds' median (and reported).
///
/// Examples:
///   gutjoint predict table.tsv --metadata md.tsv --outcome response --positive responder \
///       --clinical age,sex,baseline_das28 --seed 1 -o predict_out --save-model model.json
///   gutjoint predict table.tsv --metadata md.tsv --outcome delta_basdai --clinical age \
///       --groups centre --seed 1 -o predict_out --json
///   gutjoint predict --model model.json new_patients.tsv --metadata new_md.tsv -o scores.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    #[arg(long, value_name = "MD")]
    pub metadata: Option<PathBuf>,
    /// Outcome column (binary with --positive, else numeric and continuous).
    #[arg(long, value_name = "COL")]
    pub outcome: Option<String>,
    /// The outcome's positive level (responder); makes the outcome binary.
    #[arg(long, value_name = "VALUE")]
    pub positive: Option<String>,
    /// Clinical covariates, comma-separated (numeric, or categorical coded as indicators).
    #[arg(long, value_name = "COL,COL", value_delimiter = ',')]
    pub clinical: Vec<String>,
    /// elastic-net or rf; or a saved model.json to score the table with.
    #[arg(long, default_value = "elastic-net", value_name = "MODEL")]
    pub model: String,
    /// Leave one group out (study, centre, country) in the outer folds.
    #[arg(long, value_name = "COL")]
    pub groups: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 5)]
    pub outer_folds: usize,
    #[arg(long, default_value_t = 5)]
    pub inner_folds: usize,
    /// Elastic-net L1 ratios tried by the inner folds.
    #[arg(long, value_delimiter = ',', default_value = "0.1,0.5,0.9,1")]
    pub l1_ratios: Vec<f64>,
    /// Fixed α values (default: --n-alphas log-spaced from each training set's α_max).
    #[arg(long, value_delimiter = ',')]
    pub alphas: Vec<f64>,
    #[arg(long, default_value_t = 5)]
    pub n_alphas: usize,
    /// Keep taxa present in at least this share of a fold's training samples.
    #[arg(long, default_value_t = 0.1)]
    pub min_prevalence: f64,
    /// Label permutations for the microbiome-only model's p (0 to skip).
    #[arg(long, default_value_t = 99)]
    pub permutations: usize,
    /// Bootstrap replicates (continuous CIs, paired R² comparison).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Trees of the random forest.
    #[arg(long, default_value_t = 500)]
    pub trees: usize,
    /// Derived microbiome features added to the microbiome and combined models, comma-separated:
    /// enterotype, gmhi, guilds, dysbiosis (against the training folds' controls; needs
    /// --controls), drug:NAME (AGORA2 capacities for the drug, e.g. drug:methotrexate).
    #[arg(long, value_name = "FEATURE,…", value_delimiter = ',')]
    pub derived: Vec<String>,
    /// Controls for the dysbiosis feature, as COL=VALUE. Controls with an outcome enter a fold's
    /// reference only when they are among its training samples; controls without one always do.
    #[arg(long, value_name = "COL=VALUE")]
    pub controls: Option<String>,
    /// Output folder (report.json, predictions.tsv, stability.tsv, calibration.tsv,
    /// decision_curve.tsv); when scoring, the scores TSV.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Save the combined model (elastic net or forest), refitted on all samples, with its
    /// preprocessing, provenance (input SHA-256, version, seed, settings) and a model card.
    #[arg(long, value_name = "model.json")]
    pub save_model: Option<PathBuf>,
    /// Who the training cohort is, for the model card (e.g. "new-onset RA, Spain, 2015-2018").
    #[arg(long, value_name = "TEXT")]
    pub population: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    match args.model.as_str() {
        "elastic-net" | "enet" => train(args, Learner::ElasticNet, quiet),
        "rf" | "random-forest" => {
            if args.trees == 0 {
                bail!("--trees must be at least 1");
            }
            let trees = args.trees;
            train(args, Learner::RandomForest { trees }, quiet)
        }
        path => {
            let path = PathBuf::from(path);
            if !path.is_file() {
                bail!(
                    "--model '{}': expected elastic-net, rf, or a saved model file",
                    path.display()
                );
            }
            score_table(&args, &path, quiet)
        }
    }
}

/// Clinical columns for the given samples, coded by [`ClinicalColumn::from_metadata`].
fn clinical_columns(
    md: &Metadata,
    path: &Path,
    names: &[String],
    ids: &[String],
) -> Result<Vec<ClinicalColumn>> {
    let mut out = Vec::new();
    for name in names {
        let column = metadata_column(md, path, name)?;
        out.extend(ClinicalColumn::from_metadata(
            name,
            column,
            &metadata_values(md, column, ids),
        ));
    }
    Ok(out)
}

/// One requested derived feature.
#[derive(Debug, Clone, PartialEq)]
enum DerivedSpec {
    Enterotype,
    Gmhi,
    Guilds,
    Dysbiosis,
    Drug(String),
}

impl DerivedSpec {
    fn parse(text: &str) -> Result<DerivedSpec> {
        Ok(match text.trim() {
            "enterotype" => DerivedSpec::Enterotype,
            "gmhi" => DerivedSpec::Gmhi,
            "guilds" => DerivedSpec::Guilds,
            "dysbiosis" | "dysbiosis_own_controls" => DerivedSpec::Dysbiosis,
            other => match other.strip_prefix("drug:") {
                Some(drug) if !drug.trim().is_empty() => DerivedSpec::Drug(drug.trim().into()),
                _ => bail!(
                    "--derived '{other}': expected enterotype, gmhi, guilds, dysbiosis or \
                     drug:NAME"
                ),
            },
        })
    }
}

/// What the derived features read: the knowledge base, the AGORA2 carriage and the published
/// enterotype centroids, loaded only when asked for.
struct DerivedData {
    assets: Assets,
    index: Option<CarriageIndex>,
    centroids: Option<Centroids>,
}

impl DerivedData {
    fn load(specs: &[DerivedSpec]) -> Result<Option<DerivedData>> {
        if specs.is_empty() {
            return Ok(None);
        }
        let assets = super::analyze::assets()?;
        let index = if specs.iter().any(|s| matches!(s, DerivedSpec::Drug(_))) {
            let pharmaco = assets.pharmaco()?;
            Some(CarriageIndex::new(assets.knowledge(), &pharmaco))
        } else {
            None
        };
        let centroids = if specs.contains(&DerivedSpec::Enterotype) {
            Some(super::axis::published_centroids()?.0)
        } else {
            None
        };
        Ok(Some(DerivedData {
            assets,
            index,
            centroids,
        }))
    }
}

/// The derived features of `specs`, in order; `dysbiosis` is the control set's feature (needed
/// when `specs` names it).
fn derived_features<'a>(
    specs: &[DerivedSpec],
    data: Option<&'a DerivedData>,
    dysbiosis: Option<OwnControlsDysbiosis<'a>>,
) -> Result<Vec<Box<dyn Derived + 'a>>> {
    let mut out: Vec<Box<dyn Derived + 'a>> = Vec::new();
    let mut dysbiosis = dysbiosis;
    for spec in specs {
        let data = data.context("derived features need the knowledge base")?;
        let kb = data.assets.knowledge();
        out.push(match spec {
            DerivedSpec::Enterotype => Box::new(Enterotype {
                centroids: data.centroids.as_ref().context("enterotype centroids")?,
            }),
            DerivedSpec::Gmhi => Box::new(Gmhi),
            DerivedSpec::Guilds => Box::new(Guilds {
                kb,
                guilds: data.assets.guilds(),
            }),
            DerivedSpec::Dysbiosis => Box::new(
                dysbiosis
                    .take()
                    .context("--derived dysbiosis needs --controls COL=VALUE")?,
            ),
            DerivedSpec::Drug(drug) => Box::new(DrugCapacity::new(
                kb,
                data.index.as_ref().context("AGORA2 carriage")?,
                drug,
            )?),
        });
    }
    Ok(out)
}

/// SHA-256 of a file, in hex (provenance of a saved model).
fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest as _;
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(sha2::Sha256::digest(&bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        }))
}

fn train(args: Args, learner: Learner, quiet: bool) -> Result<()> {
    let Some(md_path) = args.metadata.clone() else {
        bail!("predict needs --metadata (and --outcome) to train, or --model model.json to score");
    };
    let Some(outcome_column) = args.outcome.clone() else {
        bail!("predict needs --outcome COL");
    };
    let Some(out_dir) = args.output.clone() else {
        bail!("predict needs -o DIR for its tables");
    };
    let specs: Vec<DerivedSpec> = args
        .derived
        .iter()
        .map(|d| DerivedSpec::parse(d))
        .collect::<Result<_>>()?;
    if args.controls.is_some() && !specs.contains(&DerivedSpec::Dysbiosis) {
        bail!("--controls is only used by --derived dysbiosis");
    }
    let full = args.input.read(quiet)?.table;
    let table = &full;
    let md = read_metadata_file(&md_path)?;
    let mdname = md_path.display().to_string();
    let column = metadata_column(&md, &md_path, &outcome_column)?;
    let ids: Vec<String> = table.sample_ids().to_vec();
    let index = md.index();
    let in_md: Vec<usize> = (0..ids.len())
        .filter(|&s| index.contains_key(ids[s].as_str()))
        .collect();
    if in_md.is_empty() {
        bail!(
            "{mdname}: none of the table's {} sample ids appear",
            ids.len()
        );
    }
    let mut values = metadata_values(&md, column, &ids);
    // Samples without a group are left out too (they cannot be held out with their group).
    let group_values = match &args.groups {
        Some(g) => Some(metadata_values(
            &md,
            metadata_column(&md, &md_path, g)?,
            &ids,
        )),
        None => None,
    };
    if let Some(g) = &group_values {
        for (v, gv) in values.iter_mut().zip(g) {
            if gv.is_none() {
                *v = None;
            }
        }
    }
    let (outcome, kept) = Outcome::from_column(&outcome_column, &values, args.positive.as_deref())
        .with_context(|| mdname.clone())?;
    let dropped = ids.len() - kept.len();
    if !quiet && dropped > 0 {
        eprintln!(
            "note: {dropped} samples without metadata, outcome{} left out",
            if args.groups.is_some() {
                " or group"
            } else {
                ""
            }
        );
    }
    let table = table.select_samples(&kept);
    let kept_ids: Vec<String> = table.sample_ids().to_vec();
    // Controls of the dysbiosis feature: in the prediction set (used inside the folds only when
    // training) or outside it (always in the reference).
    let mut external_controls = None;
    let mut is_control = Vec::new();
    if let Some(spec) = &args.controls {
        let Some((col, level)) = spec.split_once('=') else {
            bail!("--controls '{spec}': expected COL=VALUE");
        };
        let values = metadata_values(&md, metadata_column(&md, &md_path, col)?, &ids);
        let control: Vec<bool> = values.iter().map(|v| v.as_deref() == Some(level)).collect();
        if !control.iter().any(|c| *c) {
            bail!("{mdname}: no sample of the table has {col} = '{level}' (--controls)");
        }
        is_control = kept.iter().map(|&s| control[s]).collect();
        let outside: Vec<usize> = (0..ids.len())
            .filter(|&s| control[s] && kept.binary_search(&s).is_err())
            .collect();
        if !outside.is_empty() {
            external_controls = Some(full.select_samples(&outside));
        }
    }
    let derived_data = DerivedData::load(&specs)?;
    let dysbiosis = args.controls.as_ref().map(|_| OwnControlsDysbiosis {
        is_control: is_control.clone(),
        external: external_controls.as_ref(),
        software: output::generated_by(),
    });
    let derived = derived_features(&specs, derived_data.as_ref(), dysbiosis)?;
    let derived_refs: Vec<&dyn Derived> =
        derived.iter().map(|d| d.as_ref() as &dyn Derived).collect();
    let clinical = clinical_columns(&md, &md_path, &args.clinical, &kept_ids)?;
    let groups: Option<Vec<String>> = group_values.map(|g| {
        kept.iter()
            .map(|&s| g[s].clone().unwrap_or_default())
            .collect()
    });
    let config = PredictConfig {
        learner,
        outer_folds: args.outer_folds,
        inner_folds: args.inner_folds,
        l1_ratios: args.l1_ratios.clone(),
        alphas: (!args.alphas.is_empty()).then(|| args.alphas.clone()),
        n_alphas: args.n_alphas,
        alpha_min_ratio: 0.01,
        min_prevalence: args.min_prevalence,
        permutations: args.permutations,
        bootstrap: args.bootstrap,
        seed: args.seed,
        tolerance: Tolerance {
            tol: 1e-6,
            max_iterations: 100_000,
        },
    };
    let input = PredictInput {
        table: &table,
        clinical: &clinical,
        outcome: &outcome,
        groups: groups.as_deref(),
        derived: &derived_refs,
    };
    let report = output::with_progress("nested cross-validation", quiet, || {
        predict(&input, &config)
    })
    .with_context(|| format!("{mdname}: outcome '{outcome_column}'"))?;
    write_tables(&report, &out_dir)?;
    if let Some(path) = &args.save_model {
        let provenance = Provenance {
            software: output::generated_by(),
            table: args
                .input
                .table
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            table_sha256: args
                .input
                .table
                .iter()
                .map(|p| sha256_file(p))
                .collect::<Result<_>>()?,
            metadata: mdname.clone(),
            metadata_sha256: sha256_file(&md_path)?,
            samples: report.n,
            config: config.clone(),
        };
        let population = args
            .population
            .clone()
            .unwrap_or_else(|| "not stated by the user (give --population)".into());
        let model = fit_final(
            &input,
            &config,
            &report,
            &outcome_column,
            &population,
            provenance,
        )?;
        let mut text = serde_json::to_string_pretty(&model)?;
        text.push('\n');
        output::write_file(path, text.as_bytes())?;
    }
    if !quiet {
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
    if args.json {
        output::print_json(&report)
    } else {
        output::print(&summary(&report))
    }
}

fn summary(r: &PredictionReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} outcome, n = {}{}; {:?}, {} outer folds",
        match r.outcome {
            gutjoint_stats::predict::OutcomeKind::Binary => "binary",
            gutjoint_stats::predict::OutcomeKind::Continuous => "continuous",
        },
        r.n,
        r.events
            .map(|e| format!(" ({e} positive)"))
            .unwrap_or_default(),
        r.validation.scheme,
        r.validation.outer_folds
    );
    for m in [&r.clinical, &r.microbiome, &r.combined] {
        match &m.metrics {
            Metrics::Binary(b) => {
                let _ = writeln!(
                    s,
                    "{:<11} AUC {:.3} (95% CI {:.3}–{:.3}), Brier {:.3}, calibration slope {:.2}",
                    format!("{:?}", m.block).to_lowercase(),
                    b.auc,
                    b.auc_ci[0],
                    b.auc_ci[1],
                    b.brier,
                    b.calibration_slope
                );
            }
            Metrics::Continuous(c) => {
                let _ = writeln!(
                    s,
                    "{:<11} R² {:.3} (95% CI {:.3} to {:.3}), RMSE {:.3}, MAE {:.3}",
                    format!("{:?}", m.block).to_lowercase(),
                    c.r2,
                    c.r2_ci[0],
                    c.r2_ci[1],
                    c.rmse,
                    c.mae
                );
            }
        }
    }
    let d = &r.combined_vs_clinical;
    let _ = writeln!(
        s,
        "combined − clinical: {:+.3} (95% CI {:.3} to {:.3}), p = {:.3}",
        d.delta, d.ci[0], d.ci[1], d.p
    );
    if let Some(p) = r.permutation_p {
        let _ = writeln!(
            s,
            "microbiome-only label-permutation p = {p:.3} ({} permutations)",
            r.permutations
        );
    }
    let _ = writeln!(s, "verdict: {}", verdict(r).text);
    let _ = writeln!(s, "{RESEARCH_USE}");
    s
}

fn write_tables(r: &PredictionReport, dir: &Path) -> Result<()> {
    let mut json = serde_json::to_string_pretty(r)?;
    json.push('\n');
    let mut predictions =
        String::from("sample-id\tfold\tobserved\tclinical\tmicrobiome\tcombined\n");
    for p in &r.predictions {
        let _ = writeln!(
            predictions,
            "{}\t{}\t{}\t{}\t{}\t{}",
            p.sample, p.fold, p.observed, p.clinical, p.microbiome, p.combined
        );
    }
    let mut stability = String::from("feature\tblock\tselected_share\tmean_weight\n");
    for f in &r.stability {
        let _ = writeln!(
            stability,
            "{}\t{:?}\t{}\t{}",
            f.feature, f.block, f.selected_share, f.mean_weight
        );
    }
    let mut calibration = String::from("model\tmean_predicted\tobserved\tcount\n");
    let mut decision = String::from("model\tthreshold\tnet_benefit\ttreat_all\n");
    for m in [&r.clinical, &r.microbiome, &r.combined] {
        if let Metrics::Binary(b) = &m.metrics {
            let name = format!("{:?}", m.block).to_lowercase();
            for c in &b.calibration_curve {
                let _ = writeln!(
                    calibration,
                    "{name}\t{}\t{}\t{}",
                    c.mean_predicted, c.observed, c.count
                );
            }
            for d in &b.decision_curve {
                let _ = writeln!(
                    decision,
                    "{name}\t{}\t{}\t{}",
                    d.threshold, d.model, d.treat_all
                );
            }
        }
    }
    output::write_file(&dir.join("report.json"), json.as_bytes())?;
    output::write_file(&dir.join("predictions.tsv"), predictions.as_bytes())?;
    output::write_file(&dir.join("stability.tsv"), stability.as_bytes())?;
    if r.events.is_some() {
        output::write_file(&dir.join("calibration.tsv"), calibration.as_bytes())?;
        output::write_file(&dir.join("decision_curve.tsv"), decision.as_bytes())?;
    }
    Ok(())
}

fn score_table(args: &Args, path: &Path, quiet: bool) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the model", path.display()))?;
    let model: SavedModel = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a gutjoint predict model (saved with --save-model)",
            path.display()
        )
    })?;
    let table = args.input.read(quiet)?.table;
    let ids: Vec<String> = table.sample_ids().to_vec();
    let mut clinical = Vec::new();
    if !model.preprocessing.clinical.is_empty() {
        let Some(md_path) = &args.metadata else {
            bail!(
                "{}: the model needs clinical columns ({}); give --metadata",
                path.display(),
                model.preprocessing.clinical.join(", ")
            );
        };
        let md = read_metadata_file(md_path)?;
        for name in &model.preprocessing.clinical {
            // A numeric column by its name, or a categorical indicator `column=level`.
            if let Some(column) = md.column(name) {
                let values = metadata_values(&md, column, &ids);
                clinical.push(ClinicalColumn {
                    name: name.clone(),
                    values: values
                        .iter()
                        .map(|v| v.as_deref().and_then(|t| t.parse::<f64>().ok()))
                        .collect(),
                });
            } else if let Some((col, level)) = name.rsplit_once('=') {
                let column = metadata_column(&md, md_path, col)?;
                clinical.push(ClinicalColumn::indicator(
                    col,
                    level,
                    &metadata_values(&md, column, &ids),
                ));
            } else {
                metadata_column(&md, md_path, name)?;
            }
        }
    }
    let specs: Vec<DerivedSpec> = model
        .preprocessing
        .derived
        .iter()
        .map(|d| {
            DerivedSpec::parse(&d.name)
                .with_context(|| format!("{}: derived feature '{}'", path.display(), d.name))
        })
        .collect::<Result<_>>()?;
    let derived_data = DerivedData::load(&specs)?;
    // The dysbiosis reference is the one stored in the model; no controls are needed here.
    let dysbiosis = OwnControlsDysbiosis {
        is_control: Vec::new(),
        external: None,
        software: output::generated_by(),
    };
    let derived = derived_features(&specs, derived_data.as_ref(), Some(dysbiosis))?;
    let derived_refs: Vec<&dyn Derived> =
        derived.iter().map(|d| d.as_ref() as &dyn Derived).collect();
    let scores = score(&model, &table, &clinical, &derived_refs).with_context(|| {
        format!(
            "{}: cannot score with {}",
            args.input.table[0].display(),
            path.display()
        )
    })?;
    let mut tsv = String::from("sample-id\tscore\timputed\n");
    for s in &scores.scores {
        let _ = writeln!(tsv, "{}\t{}\t{}", s.sample, s.score, s.imputed.join(","));
    }
    // The research-use statement goes with every score, even with --quiet.
    eprintln!("{RESEARCH_USE}");
    if !quiet && !scores.absent_taxa.is_empty() {
        eprintln!(
            "note: {} of the model's reference taxa are absent from the table and scored as zero",
            scores.absent_taxa.len()
        );
    }
    if let Some(out) = &args.output {
        output::write_file(out, tsv.as_bytes())?;
    }
    if args.json {
        output::print_json(&scores)
    } else if args.output.is_none() {
        output::print(&format!("{tsv}# {RESEARCH_USE}\n"))
    } else {
        Ok(())
    }
}

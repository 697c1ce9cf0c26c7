/*!
"Does the microbiome predict response?" — `analyze --outcome`. The section runs exactly what
`gutjoint predict` runs (the same outcome coding, clinical coding and nested cross-validation
of [`gutjoint_stats::predict`], with that command's default settings and the analysis seed), so
the report's numbers are the ones `gutjoint predict --json` prints for the same inputs, in the
same type ([`PredictionReport`]); it adds the ROC curves the report draws and the verdict both
print.
*/

use crate::error::PipelineError;
use crate::input::metadata_column;
use crate::outputs::NamedTable;
use gutjoint_report::{OutcomeSection, RocCurve};
use gutjoint_stats::metrics::roc_curve;
use gutjoint_stats::predict::{
    Block, ClinicalColumn, Outcome, OutcomeKind, PredictConfig, PredictInput, PredictionReport,
    Scheme, metadata_values, predict, verdict,
};
use gutjoint_table::{FeatureTable, read_metadata_file};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// What to predict: the outcome column, its positive level (binary) and the clinical
/// covariates the microbiome has to beat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OutcomeConfig {
    /// Metadata column of the outcome (responder / non-responder, ΔDAS28 …).
    pub column: String,
    /// Its positive level; makes the outcome binary (else it must be numeric).
    pub positive: Option<String>,
    /// Clinical covariates (numeric, or categorical coded as indicators).
    pub clinical: Vec<String>,
    /// Label permutations of the microbiome-only model's p (0: none).
    pub permutations: usize,
}

impl Default for OutcomeConfig {
    fn default() -> Self {
        OutcomeConfig {
            column: String::new(),
            positive: None,
            clinical: Vec::new(),
            permutations: PredictConfig::default().permutations,
        }
    }
}

/// The section, its method line and its predictions table; `Ok(None)` with a note when the
/// outcome cannot be predicted (one level, fewer than 10 events …).
pub(crate) fn outcome_section(
    config: &OutcomeConfig,
    seed: u64,
    table: &FeatureTable,
    metadata: Option<&Path>,
    notes: &mut Vec<String>,
) -> Result<Option<(OutcomeSection, String, NamedTable)>, PipelineError> {
    let Some(md_path) = metadata else {
        return Err(PipelineError::Config(
            "predicting an outcome needs the metadata file that holds it".into(),
        ));
    };
    let md = read_metadata_file(md_path)?;
    let column = metadata_column(&md, md_path, &config.column)?;
    let ids: Vec<String> = table.sample_ids().to_vec();
    let values = metadata_values(&md, column, &ids);
    let (outcome, kept) =
        match Outcome::from_column(&config.column, &values, config.positive.as_deref()) {
            Ok(o) => o,
            Err(e) => {
                notes.push(format!(
                    "outcome '{}' was not predicted: {e}",
                    config.column
                ));
                return Ok(None);
            }
        };
    let table = table.select_samples(&kept);
    let kept_ids = table.sample_ids().to_vec();
    let mut clinical: Vec<ClinicalColumn> = Vec::new();
    for name in &config.clinical {
        let c = metadata_column(&md, md_path, name)?;
        clinical.extend(ClinicalColumn::from_metadata(
            name,
            c,
            &metadata_values(&md, c, &kept_ids),
        ));
    }
    let settings = PredictConfig {
        permutations: config.permutations,
        seed,
        ..PredictConfig::default()
    };
    let input = PredictInput {
        table: &table,
        clinical: &clinical,
        outcome: &outcome,
        groups: None,
        derived: &[],
    };
    let report = match predict(&input, &settings) {
        Ok(r) => r,
        Err(e) => {
            notes.push(format!(
                "outcome '{}' was not predicted: {e}",
                config.column
            ));
            return Ok(None);
        }
    };
    let labels = match &outcome {
        Outcome::Binary { labels, .. } => Some(labels.as_slice()),
        Outcome::Continuous { .. } => None,
    };
    let section = section_of(config, &clinical, &report, labels)?;
    let method = method_line(&settings, &report);
    let mut tsv = String::from("sample-id\tfold\tobserved\tclinical\tmicrobiome\tcombined\n");
    for p in &report.predictions {
        let _ = writeln!(
            tsv,
            "{}\t{}\t{}\t{}\t{}\t{}",
            p.sample, p.fold, p.observed, p.clinical, p.microbiome, p.combined
        );
    }
    Ok(Some((
        section,
        method,
        NamedTable {
            name: "tables/outcome_predictions.tsv".into(),
            text: tsv,
        },
    )))
}

/// The section: predict's own report (stability cut to the 20 features the report lists),
/// the ROC curve of each model for a binary outcome, and the verdict.
fn section_of(
    config: &OutcomeConfig,
    clinical: &[ClinicalColumn],
    r: &PredictionReport,
    labels: Option<&[bool]>,
) -> Result<OutcomeSection, PipelineError> {
    let mut roc = Vec::new();
    if let Some(labels) = labels {
        for block in Block::ALL {
            let scores: Vec<f64> = r
                .predictions
                .iter()
                .map(|p| match block {
                    Block::Clinical => p.clinical,
                    Block::Microbiome => p.microbiome,
                    Block::Combined => p.combined,
                })
                .collect();
            roc.push(RocCurve {
                model: block,
                points: roc_curve(&scores, labels)?,
            });
        }
    }
    let mut prediction = r.clone();
    prediction.stability.truncate(20);
    Ok(OutcomeSection {
        outcome: config.column.clone(),
        positive: config.positive.clone(),
        clinical: clinical.iter().map(|c| c.name.clone()).collect(),
        prediction,
        roc,
        verdict: verdict(r),
    })
}

/// The methods line: what was fitted, how it was validated and compared.
fn method_line(c: &PredictConfig, r: &PredictionReport) -> String {
    let scheme = match r.validation.scheme {
        Scheme::StratifiedKFold => "stratified",
        Scheme::KFold => "shuffled",
        Scheme::LeaveOneGroupOut => "leave-one-group-out",
    };
    format!(
        "Response prediction (as `gutjoint predict`): clinical-only, microbiome-only and combined \
         elastic-net models (clinical covariates unpenalised; taxa as CLR of relative abundance, \
         standardised), nested cross-validation with {} {scheme} outer folds and {} inner folds \
         choosing the L1 ratio ({}) and α ({} values from each training set's α_max) by held-out \
         {}; prevalence filter (≥{}% of training samples), CLR pseudocount, median imputation and \
         scaling fitted inside every fold. {}; combined vs clinical by {}; microbiome-only \
         label-permutation p with {} permutations; seed {}.",
        r.validation.outer_folds,
        c.inner_folds,
        c.l1_ratios
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        c.n_alphas,
        if r.outcome == OutcomeKind::Binary {
            "log-loss"
        } else {
            "squared error"
        },
        c.min_prevalence * 100.0,
        if r.outcome == OutcomeKind::Binary {
            "AUC with DeLong's 95% CI, Brier score, calibration intercept and slope (logistic \
             recalibration)"
        } else {
            "R², RMSE and MAE with percentile bootstrap 95% CIs"
        },
        if r.outcome == OutcomeKind::Binary {
            "DeLong's paired test"
        } else {
            "a paired bootstrap of R²"
        },
        c.permutations,
        c.seed
    )
}

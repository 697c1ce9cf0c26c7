/*!
Who will respond? Treatment-response prediction from the baseline microbiome and the clinic,
judged the way a reviewer would.

Studies of response to methotrexate (Artacho et al. 2021, Arthritis Rheumatol 73:931,
doi:10.1002/art.41622) or to TNF blockade in spondyloarthritis (Bazin et al. 2018, Sci Rep,
doi:10.1038/s41598-018-23571-4; Dougados et al. 2023, RMD Open, doi:10.1136/rmdopen-2022-002794)
had 20–100 patients, where three mistakes make a microbiome look predictive: tuning or feature
selection outside the cross-validation, no clinical baseline to beat, and a single optimistic
number without its uncertainty. This module avoids all three:

- **Three models, always side by side**: clinical covariates only, microbiome only, and both.
  With the elastic net, clinical covariates are never penalised (the clinical model is the
  ordinary logistic or linear regression a clinician would fit; the combined model adds
  penalised taxa to it), so "the microbiome adds something" means the penalised taxa improve
  on exactly that model.
- **Nested cross-validation**: outer folds (stratified k-fold for a binary outcome, shuffled
  k-fold for a continuous one, or leave-one-group-out when groups such as study or centre are
  given) evaluate; inner folds on each outer training set choose α and the L1 ratio by pooled
  held-out log-loss (binary) or squared error (continuous). Every data-dependent step — the
  prevalence filter, the CLR pseudocount (half the smallest nonzero proportion), the median
  imputation of missing clinical values, the centring and scaling — is fitted on the training
  rows of each fold (inner or outer) and only applied to its held-out rows.
- **Honest numbers** from the out-of-fold predictions (see [`crate::metrics`]): AUC with
  DeLong's CI, Brier score, calibration intercept and slope, calibration curve, net benefit;
  or R², RMSE and MAE with bootstrap CIs. The combined-vs-clinical difference with DeLong's
  paired test (AUC) or a paired bootstrap (R²); a label-permutation p for the microbiome-only
  model (the whole nested procedure rerun on permuted outcomes); how often each feature is
  selected across outer folds; warnings when events per candidate feature are few or a CI is
  too wide to mean anything.

The fitted combined model can be saved ([`SavedModel`]) with its feature space, preprocessing,
provenance and a model card, and used to score new profiles ([`score`]), which refuses a table
whose taxonomic rank or feature space does not fit. Research use only: a score is not a
prediction for an individual patient's care.
*/

use crate::classify::{self, Dataset, Model, roc_auc, stratified_folds};
use crate::elastic_net::{self, ElasticNetFit, Family, Penalty, Tolerance};
use crate::error::{Error, Result};
use crate::metrics::{
    CalibrationBin, Difference, NetBenefit, brier, calibration, calibration_curve, decision_curve,
    delong_paired, r2_paired_bootstrap, regression, regression_bootstrap,
};
use gutjoint_numeric::Rng;
use gutjoint_table::{Column, FeatureTable, Metadata, ValueKind};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The statement printed with every score and stored in every model card.
pub const RESEARCH_USE: &str = "Research use only: these scores come from a model trained on a \
research cohort; they are not a diagnosis, a prognosis or a treatment recommendation for any \
individual patient.";

// ----------------------------------------------------------------------------- inputs

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Outcome {
    /// Responder (`true`) or not.
    Binary { labels: Vec<bool>, positive: String },
    /// E.g. ΔDAS28, ΔBASDAI or ASDAS at follow-up.
    Continuous { values: Vec<f64> },
}

impl Outcome {
    pub fn len(&self) -> usize {
        match self {
            Outcome::Binary { labels, .. } => labels.len(),
            Outcome::Continuous { values } => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn values(&self) -> Vec<f64> {
        match self {
            Outcome::Binary { labels, .. } => {
                labels.iter().map(|b| f64::from(u8::from(*b))).collect()
            }
            Outcome::Continuous { values } => values.clone(),
        }
    }

    fn family(&self) -> Family {
        match self {
            Outcome::Binary { .. } => Family::Binomial,
            Outcome::Continuous { .. } => Family::Gaussian,
        }
    }

    fn subset(&self, rows: &[usize]) -> Outcome {
        match self {
            Outcome::Binary { labels, positive } => Outcome::Binary {
                labels: rows.iter().map(|&r| labels[r]).collect(),
                positive: positive.clone(),
            },
            Outcome::Continuous { values } => Outcome::Continuous {
                values: rows.iter().map(|&r| values[r]).collect(),
            },
        }
    }

    /// Reads an outcome from a metadata column's text values (`None` = missing). With a
    /// `positive` level the outcome is binary (every other non-missing value is negative), and a
    /// column of more than two distinct numbers is refused as binary; without one the column
    /// must be numeric and is continuous. Returns the outcome over the samples that have a
    /// value, and the indices of those samples.
    pub fn from_column(
        column: &str,
        values: &[Option<String>],
        positive: Option<&str>,
    ) -> Result<(Outcome, Vec<usize>)> {
        let present: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_some()).collect();
        let text: Vec<&str> = present
            .iter()
            .filter_map(|&i| values[i].as_deref())
            .collect();
        let mut distinct: Vec<&str> = text.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let numeric: Option<Vec<f64>> = text.iter().map(|t| t.trim().parse::<f64>().ok()).collect();
        match positive {
            Some(level) => {
                if let Some(nums) = &numeric {
                    let mut d = nums.clone();
                    d.sort_by(f64::total_cmp);
                    d.dedup();
                    if d.len() > 2 {
                        return Err(Error::Metadata(format!(
                            "outcome '{column}' is continuous ({} distinct numeric values, {} to {}), \
                             not binary; predict it as continuous (no positive level), or make a \
                             responder column first",
                            d.len(),
                            d[0],
                            d[d.len() - 1]
                        )));
                    }
                }
                if !distinct.contains(&level) {
                    return Err(Error::Metadata(format!(
                        "outcome '{column}' has no value '{level}' (values: {})",
                        distinct.join(", ")
                    )));
                }
                if distinct.len() < 2 {
                    return Err(Error::Metadata(format!(
                        "outcome '{column}' has one level only ('{level}' in all {} samples); \
                         nothing to predict",
                        text.len()
                    )));
                }
                let labels = text.iter().map(|t| *t == level).collect();
                Ok((
                    Outcome::Binary {
                        labels,
                        positive: level.to_string(),
                    },
                    present,
                ))
            }
            None => {
                let Some(nums) = numeric else {
                    return Err(Error::Metadata(format!(
                        "outcome '{column}' is not numeric (values such as '{}'); a categorical \
                         outcome needs its positive level named",
                        text.iter()
                            .find(|t| t.trim().parse::<f64>().is_err())
                            .copied()
                            .unwrap_or_default()
                    )));
                };
                if distinct.len() < 2 {
                    return Err(Error::Metadata(format!(
                        "outcome '{column}' has one value only; nothing to predict"
                    )));
                }
                Ok((Outcome::Continuous { values: nums }, present))
            }
        }
    }
}

/// One clinical covariate, numeric (categorical covariates are coded 0/1 by the caller);
/// `None` is a missing value, imputed inside the folds by the training rows' median.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClinicalColumn {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

impl ClinicalColumn {
    /// A metadata column as clinical covariates for the samples whose values are `values`
    /// (from [`metadata_values`]): a numeric column as is; a categorical one as 0/1 indicators
    /// of every level but the first in sorted order, named `column=level`. The one coding used
    /// by `gutjoint predict` and `analyze --outcome`.
    pub fn from_metadata(name: &str, column: &Column, values: &[Option<String>]) -> Vec<Self> {
        if column.is_numeric() {
            return vec![ClinicalColumn {
                name: name.to_string(),
                values: values
                    .iter()
                    .map(|v| v.as_deref().and_then(|t| t.parse::<f64>().ok()))
                    .collect(),
            }];
        }
        let mut levels: Vec<&str> = values.iter().flatten().map(String::as_str).collect();
        levels.sort_unstable();
        levels.dedup();
        levels
            .iter()
            .skip(1)
            .map(|level| ClinicalColumn::indicator(name, level, values))
            .collect()
    }

    /// The indicator `name=level`: 1 where the value is `level`, 0 elsewhere, missing where
    /// the value is.
    pub fn indicator(name: &str, level: &str, values: &[Option<String>]) -> Self {
        ClinicalColumn {
            name: format!("{name}={level}"),
            values: values
                .iter()
                .map(|v| v.as_ref().map(|t| f64::from(u8::from(t == level))))
                .collect(),
        }
    }
}

/// The values of metadata `column` for the samples `ids`, in their order (`None` where the
/// sample is not in the metadata or its value is missing).
pub fn metadata_values(md: &Metadata, column: &Column, ids: &[String]) -> Vec<Option<String>> {
    let index = md.index();
    ids.iter()
        .map(|id| index.get(id.as_str()).and_then(|&r| column.text(r)))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "learner")]
pub enum Learner {
    /// Elastic net (logistic or linear), tuned by the inner folds.
    ElasticNet,
    /// The random forest of [`crate::classify`] (binary outcomes only; not tuned: scikit-learn's
    /// defaults, so the inner folds are not used).
    RandomForest { trees: usize },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictConfig {
    pub learner: Learner,
    /// Outer folds (ignored when groups are given: one fold per group).
    pub outer_folds: usize,
    pub inner_folds: usize,
    /// Elastic-net mixing values tried.
    pub l1_ratios: Vec<f64>,
    /// Fixed α values; if `None`, `n_alphas` log-spaced values from each training set's α_max
    /// down to `alpha_min_ratio · α_max`.
    pub alphas: Option<Vec<f64>>,
    pub n_alphas: usize,
    pub alpha_min_ratio: f64,
    /// Keep taxa present (> 0) in at least this share of the training rows.
    pub min_prevalence: f64,
    /// Label permutations for the microbiome-only model's p (0: not computed).
    pub permutations: usize,
    /// Bootstrap replicates for the continuous CIs and the paired R² comparison.
    pub bootstrap: usize,
    pub seed: u64,
    /// Solver tolerance.
    pub tolerance: Tolerance,
}

impl Default for PredictConfig {
    fn default() -> Self {
        PredictConfig {
            learner: Learner::ElasticNet,
            outer_folds: 5,
            inner_folds: 5,
            l1_ratios: vec![0.1, 0.5, 0.9, 1.0],
            alphas: None,
            n_alphas: 5,
            alpha_min_ratio: 0.01,
            min_prevalence: 0.1,
            permutations: 99,
            bootstrap: 1000,
            seed: 0,
            tolerance: Tolerance {
                tol: 1e-6,
                max_iterations: 100_000,
            },
        }
    }
}

/// A feature computed from the whole profile rather than read from one taxon: enterotype,
/// GMHI, dysbiosis against the cohort's controls, a drug-metabolism capacity, guild abundances.
/// The domain code that computes them lives above this crate (gutjoint-axis implements this
/// trait); here they are extra microbiome columns, penalised like the taxa and used by the
/// microbiome and combined models. One that learns from data (`data_dependent`) is fitted on
/// each fold's training rows only, like the CLR and the scaling; the others are computed once.
pub trait Derived: Send + Sync {
    /// The name stored in a saved model, to find the same feature again when scoring.
    fn name(&self) -> String;
    /// The columns it yields, in order.
    fn columns(&self) -> Vec<String>;
    /// Whether [`Derived::fit`] learns anything from the training samples.
    fn data_dependent(&self) -> bool;
    /// What it learns from the samples `train` of `table` (`Value::Null` when nothing); stored
    /// in the fold's preprocessing and in a saved model.
    fn fit(&self, table: &FeatureTable, train: &[usize]) -> Result<serde_json::Value>;
    /// Its values for the samples `rows` of `table` given what `fit` learned: rows × columns,
    /// row-major.
    fn apply(
        &self,
        state: &serde_json::Value,
        table: &FeatureTable,
        rows: &[usize],
    ) -> Result<Vec<f64>>;
}

impl std::fmt::Debug for dyn Derived + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Derived({})", self.name())
    }
}

/// What the analysis receives: a table whose samples are in the outcome's order.
#[derive(Debug, Clone, Copy)]
pub struct PredictInput<'a> {
    pub table: &'a FeatureTable,
    pub clinical: &'a [ClinicalColumn],
    pub outcome: &'a Outcome,
    /// Study, centre or country per sample: outer folds leave one group out.
    pub groups: Option<&'a [String]>,
    /// Derived microbiome features (empty for taxa only).
    pub derived: &'a [&'a dyn Derived],
}

// ---------------------------------------------------------------------------- results

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    Clinical,
    Microbiome,
    Combined,
}

impl Block {
    pub const ALL: [Block; 3] = [Block::Clinical, Block::Microbiome, Block::Combined];

    /// The serde name (`clinical`, `microbiome`, `combined`).
    pub fn name(self) -> &'static str {
        match self {
            Block::Clinical => "clinical",
            Block::Microbiome => "microbiome",
            Block::Combined => "combined",
        }
    }

    fn uses_clinical(self) -> bool {
        self != Block::Microbiome
    }

    fn uses_taxa(self) -> bool {
        self != Block::Clinical
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BinaryMetrics {
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub auc: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub auc_ci: [f64; 2],
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub auc_se: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub brier: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub calibration_intercept: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub calibration_slope: f64,
    pub calibration_curve: Vec<CalibrationBin>,
    pub decision_curve: Vec<NetBenefit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ContinuousMetrics {
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub r2: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub r2_ci: [f64; 2],
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub rmse: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub rmse_ci: [f64; 2],
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub mae: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub mae_ci: [f64; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Metrics {
    Binary(BinaryMetrics),
    Continuous(ContinuousMetrics),
}

/// One model's out-of-fold performance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelEvaluation {
    pub block: Block,
    /// Candidate features (clinical columns plus taxa passing the prevalence filter on all
    /// samples; each fold filters its own training rows).
    pub candidate_features: usize,
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Hyper-parameters the inner folds chose, per outer fold (empty for the forest and for the
    /// unpenalised clinical model).
    pub chosen: Vec<Penalty>,
}

/// How often a feature was selected (nonzero coefficient; for the forest, nonzero importance)
/// across the outer folds' combined models, and its mean standardised coefficient (or
/// importance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FeatureStability {
    pub feature: String,
    pub block: Block,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub selected_share: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub mean_weight: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    StratifiedKFold,
    KFold,
    LeaveOneGroupOut,
}

impl Scheme {
    /// The serde name (`stratified_k_fold`, `k_fold`, `leave_one_group_out`).
    pub fn name(self) -> &'static str {
        match self {
            Scheme::StratifiedKFold => "stratified_k_fold",
            Scheme::KFold => "k_fold",
            Scheme::LeaveOneGroupOut => "leave_one_group_out",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Validation {
    pub scheme: Scheme,
    pub outer_folds: usize,
    pub inner_folds: usize,
    /// Group of each outer fold, for leave-one-group-out.
    pub groups: Vec<String>,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MissingClinical {
    pub column: String,
    pub missing: usize,
}

/// One sample's out-of-fold predictions (probability or value) from the three models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OutOfFold {
    pub sample: String,
    pub fold: usize,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub observed: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub clinical: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub microbiome: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub combined: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PredictionReport {
    pub outcome: OutcomeKind,
    pub n: usize,
    /// Samples of the positive class (binary).
    pub events: Option<usize>,
    pub learner: Learner,
    pub validation: Validation,
    pub clinical: ModelEvaluation,
    pub microbiome: ModelEvaluation,
    pub combined: ModelEvaluation,
    pub combined_vs_clinical: Difference,
    /// Share of label permutations whose microbiome-only AUC (or R²) reached the observed one,
    /// (hits + 1) / (permutations + 1); `None` when no permutations were asked.
    pub permutation_p: Option<f64>,
    pub permutations: usize,
    pub stability: Vec<FeatureStability>,
    pub missing_clinical: Vec<MissingClinical>,
    pub warnings: Vec<String>,
    pub predictions: Vec<OutOfFold>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Binary,
    Continuous,
}

// ------------------------------------------------------------------ preprocessing

/// Dense inputs shared by every fold.
struct Prepared<'a> {
    n: usize,
    /// Relative abundances, row-major n × taxa.
    relative: Vec<f64>,
    taxa: Vec<String>,
    /// Clinical values, row-major n × clinical, NaN where missing.
    clinical: Vec<f64>,
    clinical_names: Vec<String>,
    table: &'a FeatureTable,
    derived: &'a [&'a dyn Derived],
    /// Values of each derived feature that learns nothing from data, computed once for all rows
    /// (row-major n × its columns); `None` for the data-dependent ones, fitted per fold.
    derived_cache: Vec<Option<(serde_json::Value, Vec<f64>)>>,
    /// Column names of all derived features, in order.
    derived_columns: Vec<String>,
}

/// One derived feature as a fold (or a saved model) fitted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DerivedState {
    pub name: String,
    pub columns: Vec<String>,
    pub data_dependent: bool,
    /// What it learned from the training rows (`null` when nothing).
    pub state: serde_json::Value,
}

/// Checks a derived feature's values: the expected count, all finite.
fn check_derived(
    d: &dyn Derived,
    values: &[f64],
    rows: &[usize],
    table: &FeatureTable,
) -> Result<()> {
    let k = d.columns().len();
    if values.len() != rows.len() * k {
        return Err(Error::Invalid(format!(
            "derived feature '{}' gave {} values for {} samples × {k} columns",
            d.name(),
            values.len(),
            rows.len()
        )));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!(
            "derived feature '{}' is {} for sample '{}'",
            d.name(),
            values[i],
            table.sample_ids()[rows[i / k]]
        )));
    }
    Ok(())
}

impl<'a> Prepared<'a> {
    fn new(input: &PredictInput<'a>) -> Result<Prepared<'a>> {
        let table = input.table;
        let n = input.outcome.len();
        if table.n_samples() != n {
            return Err(Error::Invalid(format!(
                "the table has {} samples but the outcome {n}",
                table.n_samples()
            )));
        }
        let rel = if table.kind() == ValueKind::Counts {
            table.to_relative()
        } else {
            table.clone()
        };
        let p = rel.n_features();
        let mut relative = vec![0.0; n * p];
        for s in 0..n {
            let total = rel.sample_total(s);
            let (idx, vals) = rel.sample(s);
            for (f, v) in idx.iter().zip(vals) {
                // Relative tables may be in percent: rescale each sample to proportions.
                relative[s * p + *f as usize] = if total > 0.0 { v / total } else { 0.0 };
            }
        }
        let c = input.clinical.len();
        let mut clinical = vec![f64::NAN; n * c];
        for (j, col) in input.clinical.iter().enumerate() {
            if col.values.len() != n {
                return Err(Error::Invalid(format!(
                    "clinical column '{}' has {} values for {n} samples",
                    col.name,
                    col.values.len()
                )));
            }
            for (i, v) in col.values.iter().enumerate() {
                if let Some(v) = v {
                    if !v.is_finite() {
                        return Err(Error::Metadata(format!(
                            "clinical column '{}', sample '{}': value {v} is not finite",
                            col.name,
                            table.sample_ids()[i]
                        )));
                    }
                    clinical[i * c + j] = *v;
                }
            }
        }
        let all: Vec<usize> = (0..n).collect();
        let mut derived_cache = Vec::new();
        let mut derived_columns = Vec::new();
        for d in input.derived {
            derived_columns.extend(d.columns());
            derived_cache.push(if d.data_dependent() {
                None
            } else {
                let state = d.fit(table, &all)?;
                let values = d.apply(&state, table, &all)?;
                check_derived(*d, &values, &all, table)?;
                Some((state, values))
            });
        }
        Ok(Prepared {
            n,
            relative,
            taxa: table.feature_ids().to_vec(),
            clinical,
            clinical_names: input.clinical.iter().map(|c| c.name.clone()).collect(),
            table,
            derived: input.derived,
            derived_cache,
            derived_columns,
        })
    }

    /// Taxa present (> 0) in at least `min_prevalence` of `rows`, and their smallest nonzero
    /// proportion there.
    fn prevalent_taxa(&self, rows: &[usize], min_prevalence: f64) -> (Vec<usize>, f64) {
        let p = self.n_taxa();
        let need = min_prevalence * rows.len() as f64;
        let mut smallest = f64::INFINITY;
        let mut kept = Vec::new();
        for f in 0..p {
            let present = rows
                .iter()
                .filter(|&&r| self.relative[r * p + f] > 0.0)
                .count();
            if present > 0 && present as f64 >= need {
                kept.push(f);
                for &r in rows {
                    let v = self.relative[r * p + f];
                    if v > 0.0 {
                        smallest = smallest.min(v);
                    }
                }
            }
        }
        (kept, smallest)
    }

    fn n_taxa(&self) -> usize {
        self.taxa.len()
    }

    fn n_clinical(&self) -> usize {
        self.clinical_names.len()
    }
}

/// Everything a fold's training rows decide before a model sees the data, applied unchanged to
/// held-out rows and to new patients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    pub block: Block,
    pub clinical: Vec<String>,
    /// Training median of each clinical column (imputes its missing values).
    pub clinical_medians: Vec<f64>,
    /// Taxa kept by the prevalence filter, the CLR's reference set.
    pub taxa: Vec<String>,
    #[serde(skip)]
    taxon_index: Vec<usize>,
    pub pseudocount: f64,
    /// Derived features (after the taxa), fitted on the training rows where they learn from
    /// data.
    #[serde(default)]
    pub derived: Vec<DerivedState>,
    /// Centring and scaling of each model column (clinical first, then taxa): training mean and
    /// population standard deviation (1 where constant), as scikit-learn's StandardScaler.
    pub means: Vec<f64>,
    pub scales: Vec<f64>,
}

impl Preprocessing {
    fn fit(data: &Prepared, rows: &[usize], block: Block, min_prevalence: f64) -> Result<Self> {
        let mut medians = Vec::new();
        let mut clinical = Vec::new();
        if block.uses_clinical() {
            let c = data.n_clinical();
            for j in 0..c {
                let mut v: Vec<f64> = rows
                    .iter()
                    .map(|&r| data.clinical[r * c + j])
                    .filter(|v| !v.is_nan())
                    .collect();
                if v.is_empty() {
                    return Err(Error::Metadata(format!(
                        "clinical column '{}' has no value in a training set of {} samples",
                        data.clinical_names[j],
                        rows.len()
                    )));
                }
                v.sort_by(f64::total_cmp);
                medians.push(gutjoint_numeric::quantile_sorted(&v, 0.5));
                clinical.push(data.clinical_names[j].clone());
            }
        }
        let mut taxon_index = Vec::new();
        let mut pseudocount = 0.0;
        let mut derived = Vec::new();
        if block.uses_taxa() {
            let (kept, smallest) = data.prevalent_taxa(rows, min_prevalence);
            taxon_index = kept;
            if taxon_index.len() < 2 {
                return Err(Error::Invalid(format!(
                    "{} taxa pass the prevalence filter ({min_prevalence}) in a training set of {} \
                     samples; the microbiome models need at least 2",
                    taxon_index.len(),
                    rows.len()
                )));
            }
            pseudocount = smallest / 2.0;
            for (d, cache) in data.derived.iter().zip(&data.derived_cache) {
                derived.push(DerivedState {
                    name: d.name(),
                    columns: d.columns(),
                    data_dependent: cache.is_none(),
                    state: match cache {
                        Some((state, _)) => state.clone(),
                        None => d.fit(data.table, rows)?,
                    },
                });
            }
        }
        let mut pre = Preprocessing {
            block,
            clinical,
            clinical_medians: medians,
            taxa: taxon_index.iter().map(|&f| data.taxa[f].clone()).collect(),
            taxon_index,
            pseudocount,
            derived,
            means: Vec::new(),
            scales: Vec::new(),
        };
        let raw = pre.raw(data, rows)?;
        let k = pre.width();
        let m = rows.len() as f64;
        for j in 0..k {
            let mean = (0..rows.len()).map(|i| raw[i * k + j]).sum::<f64>() / m;
            let var = (0..rows.len())
                .map(|i| (raw[i * k + j] - mean).powi(2))
                .sum::<f64>()
                / m;
            let sd = var.sqrt();
            pre.means.push(mean);
            pre.scales.push(if sd > 1e-12 * mean.abs().max(1.0) {
                sd
            } else {
                1.0
            });
        }
        Ok(pre)
    }

    fn width(&self) -> usize {
        self.clinical.len() + self.taxa.len() + self.derived_width()
    }

    fn derived_width(&self) -> usize {
        self.derived.iter().map(|d| d.columns.len()).sum()
    }

    /// Values of the derived features for `rows` (rows × derived columns): cached ones read,
    /// data-dependent ones computed from this preprocessing's fitted state.
    fn derived_values(&self, data: &Prepared, rows: &[usize]) -> Result<Vec<f64>> {
        let w = self.derived_width();
        let mut out = vec![0.0; rows.len() * w];
        if rows.is_empty() {
            // Nothing to compute (the final fit predicts no held-out rows).
            return Ok(out);
        }
        let mut offset = 0;
        for ((state, d), cache) in self
            .derived
            .iter()
            .zip(data.derived)
            .zip(&data.derived_cache)
        {
            let k = state.columns.len();
            let values = match cache {
                Some((_, all)) => rows
                    .iter()
                    .flat_map(|&r| all[r * k..(r + 1) * k].iter().copied())
                    .collect(),
                None => {
                    let v = d.apply(&state.state, data.table, rows)?;
                    check_derived(*d, &v, rows, data.table)?;
                    v
                }
            };
            for i in 0..rows.len() {
                out[i * w + offset..i * w + offset + k]
                    .copy_from_slice(&values[i * k..(i + 1) * k]);
            }
            offset += k;
        }
        Ok(out)
    }

    /// Columns before scaling: imputed clinical values, CLR of the kept taxa, then the derived
    /// features.
    fn raw(&self, data: &Prepared, rows: &[usize]) -> Result<Vec<f64>> {
        let c = data.n_clinical();
        let p = data.n_taxa();
        let k = self.width();
        let mut out = vec![0.0; rows.len() * k];
        for (i, &r) in rows.iter().enumerate() {
            let row = &mut out[i * k..(i + 1) * k];
            for (j, median) in self.clinical_medians.iter().enumerate() {
                let v = data.clinical[r * c + j];
                row[j] = if v.is_nan() { *median } else { v };
            }
            let off = self.clinical.len();
            clr_into(
                self.taxon_index.iter().map(|&f| data.relative[r * p + f]),
                self.pseudocount,
                &mut row[off..off + self.taxa.len()],
            );
        }
        let w = self.derived_width();
        if w > 0 {
            let derived = self.derived_values(data, rows)?;
            let off = k - w;
            for i in 0..rows.len() {
                out[i * k + off..(i + 1) * k].copy_from_slice(&derived[i * w..(i + 1) * w]);
            }
        }
        Ok(out)
    }

    fn transform(&self, data: &Prepared, rows: &[usize]) -> Result<Vec<f64>> {
        let mut x = self.raw(data, rows)?;
        self.scale(&mut x);
        Ok(x)
    }

    fn scale(&self, x: &mut [f64]) {
        let k = self.width();
        if k == 0 {
            return;
        }
        for row in x.chunks_mut(k) {
            for ((v, m), s) in row.iter_mut().zip(&self.means).zip(&self.scales) {
                *v = (*v - m) / s;
            }
        }
    }

    /// Penalty factors: clinical columns unpenalised, taxa and derived features penalised.
    fn factors(&self) -> Vec<f64> {
        let mut f = vec![0.0; self.clinical.len()];
        f.extend(std::iter::repeat_n(
            1.0,
            self.taxa.len() + self.derived_width(),
        ));
        f
    }

    /// Position among all features (clinical 0..c, taxa c..c+p, derived after) of each model
    /// column, for stability counts.
    fn global_index(&self, data: &Prepared, j: usize) -> usize {
        let (nc, nt) = (self.clinical.len(), self.taxa.len());
        if j < nc {
            j
        } else if j < nc + nt {
            data.n_clinical() + self.taxon_index[j - nc]
        } else {
            data.n_clinical() + data.n_taxa() + (j - nc - nt)
        }
    }
}

/// CLR of proportions plus a pseudocount, written into `out` (the numeric room's kernel).
use gutjoint_numeric::clr_dense_into as clr_into;

// -------------------------------------------------------------------------- folds

/// Fold of each row (0-based). Groups: one fold per group, in sorted order
/// ([`classify::group_folds`]).
fn assign_folds(
    outcome: &Outcome,
    groups: Option<&[String]>,
    k: usize,
    seed: u64,
) -> (Vec<usize>, Vec<String>, Scheme) {
    if let Some(g) = groups {
        let (folds, names) = classify::group_folds(g);
        return (folds, names, Scheme::LeaveOneGroupOut);
    }
    match outcome {
        Outcome::Binary { labels, .. } => (
            stratified_folds(labels, k, seed),
            Vec::new(),
            Scheme::StratifiedKFold,
        ),
        Outcome::Continuous { values } => {
            let mut order: Vec<usize> = (0..values.len()).collect();
            Rng::new(seed).shuffle(&mut order);
            let mut folds = vec![0; values.len()];
            for (d, i) in order.into_iter().enumerate() {
                folds[i] = d % k;
            }
            (folds, Vec::new(), Scheme::KFold)
        }
    }
}

fn fold_seed(seed: u64, salt: u64) -> u64 {
    seed ^ salt.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

// ------------------------------------------------------------------- model fitting

/// A model fitted on training rows, with its predictions for held-out rows.
struct FoldFit {
    predictions: Vec<f64>,
    /// Weight per global feature index (clinical 0..c, then taxa c..c+p); 0 where unused.
    weights: Vec<f64>,
    chosen: Option<Penalty>,
}

/// The α values tried: fixed ones, or a log-spaced path whose first point is α_max, where the
/// penalised taxa are all zero — so the combined model can always fall back on exactly the
/// clinical one when the taxa do not help.
fn alpha_grid(
    config: &PredictConfig,
    family: Family,
    design: &elastic_net::Design,
    y: &[f64],
    l1_ratio: f64,
    factors: &[f64],
) -> Result<Vec<f64>> {
    if let Some(a) = &config.alphas {
        return Ok(a.clone());
    }
    let top = design
        .alpha_max(y, family, l1_ratio, Some(factors))?
        .max(1e-12);
    let k = config.n_alphas.max(1);
    Ok((0..k)
        .map(|i| {
            let t = if k == 1 {
                0.0
            } else {
                i as f64 / (k - 1) as f64
            };
            top * config.alpha_min_ratio.powf(t)
        })
        .collect())
}

fn loss(family: Family, predicted: f64, observed: f64) -> f64 {
    match family {
        Family::Gaussian => (observed - predicted).powi(2),
        Family::Binomial => {
            let p = predicted.clamp(1e-15, 1.0 - 1e-15);
            -(observed * p.ln() + (1.0 - observed) * (1.0 - p).ln())
        }
    }
}

/// Fits the elastic net for `block` on `train` (tuning on inner folds when anything is
/// penalised) and predicts `test`.
#[allow(clippy::too_many_arguments)]
fn fit_elastic_net(
    data: &Prepared,
    outcome: &Outcome,
    groups: Option<&[String]>,
    block: Block,
    train: &[usize],
    test: &[usize],
    config: &PredictConfig,
    seed: u64,
) -> Result<(Preprocessing, ElasticNetFit, Option<Penalty>, Vec<f64>)> {
    let family = outcome.family();
    let y_all = outcome.values();
    let pre = Preprocessing::fit(data, train, block, config.min_prevalence)?;
    let x = pre.transform(data, train)?;
    let y: Vec<f64> = train.iter().map(|&r| y_all[r]).collect();
    let design = elastic_net::Design::new(&x, train.len(), pre.width())?;
    let factors = pre.factors();
    let penalised = factors.iter().any(|f| *f > 0.0);
    let chosen = if penalised {
        Some(tune(
            data, outcome, groups, block, train, config, seed, &design, &y, &factors,
        )?)
    } else {
        None
    };
    let penalty = chosen.unwrap_or(Penalty {
        alpha: 0.0,
        l1_ratio: 1.0,
    });
    // Warm-start down the path to the chosen α (faster and steadier than a cold start).
    let fit = if let Some(c) = chosen {
        let mut path: Vec<f64> = alpha_grid(config, family, &design, &y, c.l1_ratio, &factors)?
            .into_iter()
            .filter(|a| *a > c.alpha)
            .collect();
        path.push(c.alpha);
        elastic_net::fit_path(
            &design,
            &y,
            family,
            &path,
            c.l1_ratio,
            Some(&factors),
            config.tolerance,
        )?
        .pop()
        .ok_or_else(|| Error::Invalid("empty α path".into()))?
    } else {
        elastic_net::fit(
            &design,
            &y,
            family,
            penalty,
            Some(&factors),
            None,
            config.tolerance,
        )?
    };
    let xt = pre.transform(data, test)?;
    let k = pre.width();
    let predictions = (0..test.len())
        .map(|i| fit.predict(family, &xt[i * k..(i + 1) * k]))
        .collect();
    Ok((pre, fit, chosen, predictions))
}

/// Inner cross-validation on the outer training rows: every preprocessing step refitted on each
/// inner training set; the (α, L1 ratio) with the smallest pooled held-out loss wins (ties: the
/// larger α, the simpler model).
#[allow(clippy::too_many_arguments)]
fn tune(
    data: &Prepared,
    outcome: &Outcome,
    groups: Option<&[String]>,
    block: Block,
    train: &[usize],
    config: &PredictConfig,
    seed: u64,
    outer_design: &elastic_net::Design,
    outer_y: &[f64],
    outer_factors: &[f64],
) -> Result<Penalty> {
    let family = outcome.family();
    let y_all = outcome.values();
    let sub = outcome.subset(train);
    let sub_groups: Option<Vec<String>> =
        groups.map(|g| train.iter().map(|&r| g[r].clone()).collect());
    let distinct_groups = sub_groups
        .as_deref()
        .map_or(0, |g| classify::group_folds(g).1.len());
    let inner_groups = if distinct_groups >= 3 {
        sub_groups.as_deref()
    } else {
        None
    };
    let (folds, _, _) = assign_folds(&sub, inner_groups, config.inner_folds, seed);
    let k = folds.iter().copied().max().map_or(0, |m| m + 1);
    // The grid is fixed per outer training set, so the inner folds score the same settings.
    let grid: Vec<(f64, Vec<f64>)> = config
        .l1_ratios
        .iter()
        .map(|&l1| {
            Ok((
                l1,
                alpha_grid(config, family, outer_design, outer_y, l1, outer_factors)?,
            ))
        })
        .collect::<Result<_>>()?;
    let mut total: Vec<Vec<f64>> = grid.iter().map(|(_, a)| vec![0.0; a.len()]).collect();
    for f in 0..k {
        let inner_train: Vec<usize> = (0..train.len())
            .filter(|&i| folds[i] != f)
            .map(|i| train[i])
            .collect();
        let inner_test: Vec<usize> = (0..train.len())
            .filter(|&i| folds[i] == f)
            .map(|i| train[i])
            .collect();
        if inner_test.is_empty() {
            continue;
        }
        let pre = Preprocessing::fit(data, &inner_train, block, config.min_prevalence)?;
        let x = pre.transform(data, &inner_train)?;
        let y: Vec<f64> = inner_train.iter().map(|&r| y_all[r]).collect();
        let design = elastic_net::Design::new(&x, inner_train.len(), pre.width())?;
        let factors = pre.factors();
        let xt = pre.transform(data, &inner_test)?;
        let w = pre.width();
        for (g, (l1, alphas)) in grid.iter().enumerate() {
            let fits = elastic_net::fit_path(
                &design,
                &y,
                family,
                alphas,
                *l1,
                Some(&factors),
                config.tolerance,
            )?;
            for (a, fit) in fits.iter().enumerate() {
                total[g][a] += inner_test
                    .iter()
                    .enumerate()
                    .map(|(i, &r)| {
                        loss(
                            family,
                            fit.predict(family, &xt[i * w..(i + 1) * w]),
                            y_all[r],
                        )
                    })
                    .sum::<f64>();
            }
        }
    }
    let mut best: Option<(f64, Penalty)> = None;
    for (g, (l1, alphas)) in grid.iter().enumerate() {
        for (a, alpha) in alphas.iter().enumerate() {
            let v = total[g][a];
            let better = match best {
                None => true,
                Some((bv, bp)) => {
                    v < bv - 1e-12 * bv.abs() || (v <= bv + 1e-12 * bv.abs() && *alpha > bp.alpha)
                }
            };
            if better {
                best = Some((
                    v,
                    Penalty {
                        alpha: *alpha,
                        l1_ratio: *l1,
                    },
                ));
            }
        }
    }
    best.map(|b| b.1)
        .ok_or_else(|| Error::Invalid("the hyper-parameter grid is empty".into()))
}

/// One outer fold of one block.
#[allow(clippy::too_many_arguments)]
fn fit_fold(
    data: &Prepared,
    outcome: &Outcome,
    groups: Option<&[String]>,
    block: Block,
    train: &[usize],
    test: &[usize],
    config: &PredictConfig,
    seed: u64,
) -> Result<FoldFit> {
    let mut weights = vec![0.0; data.n_clinical() + data.n_taxa() + data.derived_columns.len()];
    match config.learner {
        Learner::ElasticNet => {
            let (pre, fit, chosen, predictions) =
                fit_elastic_net(data, outcome, groups, block, train, test, config, seed)?;
            for (j, w) in fit.coefficients.iter().enumerate() {
                weights[pre.global_index(data, j)] = *w;
            }
            Ok(FoldFit {
                predictions,
                weights,
                chosen,
            })
        }
        Learner::RandomForest { trees } => {
            let Outcome::Binary { labels, .. } = outcome else {
                return Err(Error::Invalid(
                    "the random forest here is a classifier; a continuous outcome needs the \
                     elastic net"
                        .into(),
                ));
            };
            let pre = Preprocessing::fit(data, train, block, config.min_prevalence)?;
            let k = pre.width();
            let make = |rows: &[usize]| -> Result<Dataset> {
                Ok(Dataset {
                    n: rows.len(),
                    p: k,
                    x: pre.transform(data, rows)?,
                    y: rows.iter().map(|&r| labels[r]).collect(),
                })
            };
            let predictions = if k == 0 {
                // No clinical columns: the clinical model is the training prevalence.
                let prevalence =
                    train.iter().filter(|&&r| labels[r]).count() as f64 / train.len() as f64;
                vec![prevalence; test.len()]
            } else {
                let fitted = classify::fit_predict(
                    Model::RandomForest { trees, seed },
                    &make(train)?,
                    &make(test)?,
                )?;
                for (j, w) in fitted.importances.iter().enumerate() {
                    weights[pre.global_index(data, j)] = *w;
                }
                fitted.probabilities
            };
            Ok(FoldFit {
                predictions,
                weights,
                chosen: None,
            })
        }
    }
}

/// Out-of-fold predictions of one block over the given outer folds.
fn cross_validate_block(
    data: &Prepared,
    outcome: &Outcome,
    groups: Option<&[String]>,
    block: Block,
    folds: &[usize],
    config: &PredictConfig,
) -> Result<(Vec<f64>, Vec<FoldFit>)> {
    let k = folds.iter().copied().max().map_or(0, |m| m + 1);
    let fits: Vec<(Vec<usize>, FoldFit)> = (0..k)
        .into_par_iter()
        .map(|f| -> Result<(Vec<usize>, FoldFit)> {
            let train: Vec<usize> = (0..data.n).filter(|&i| folds[i] != f).collect();
            let test: Vec<usize> = (0..data.n).filter(|&i| folds[i] == f).collect();
            let fit = fit_fold(
                data,
                outcome,
                groups,
                block,
                &train,
                &test,
                config,
                fold_seed(config.seed, f as u64),
            )
            .map_err(|e| Error::Invalid(format!("outer fold {}: {e}", f + 1)))?;
            Ok((test, fit))
        })
        .collect::<Result<_>>()?;
    let mut oof = vec![f64::NAN; data.n];
    for (test, fit) in &fits {
        for (&i, p) in test.iter().zip(&fit.predictions) {
            oof[i] = *p;
        }
    }
    Ok((oof, fits.into_iter().map(|(_, f)| f).collect()))
}

fn headline(outcome: &Outcome, predictions: &[f64]) -> Result<f64> {
    Ok(match outcome {
        Outcome::Binary { labels, .. } => roc_auc(predictions, labels)?.auc,
        Outcome::Continuous { values } => regression(predictions, values).r2,
    })
}

fn evaluate(
    outcome: &Outcome,
    predictions: &[f64],
    config: &PredictConfig,
    salt: u64,
) -> Result<Metrics> {
    Ok(match outcome {
        Outcome::Binary { labels, .. } => {
            let auc = roc_auc(predictions, labels)?;
            let cal = calibration(predictions, labels)?;
            let thresholds: Vec<f64> = (1..20).map(|k| k as f64 * 0.05).collect();
            Metrics::Binary(BinaryMetrics {
                auc: auc.auc,
                auc_ci: auc.ci,
                auc_se: auc.se,
                brier: brier(predictions, labels),
                calibration_intercept: cal.intercept,
                calibration_slope: cal.slope,
                calibration_curve: calibration_curve(predictions, labels, 10),
                decision_curve: decision_curve(predictions, labels, &thresholds),
            })
        }
        Outcome::Continuous { values } => {
            let r = regression(predictions, values);
            let ci = regression_bootstrap(
                predictions,
                values,
                config.bootstrap,
                fold_seed(config.seed, 1000 + salt),
            );
            Metrics::Continuous(ContinuousMetrics {
                r2: r.r2,
                r2_ci: ci.r2_ci,
                rmse: r.rmse,
                rmse_ci: ci.rmse_ci,
                mae: r.mae,
                mae_ci: ci.mae_ci,
            })
        }
    })
}

/// Runs the whole comparison. Pure: same inputs and config, same report.
pub fn predict(input: &PredictInput<'_>, config: &PredictConfig) -> Result<PredictionReport> {
    let outcome = input.outcome;
    validate(input, config)?;
    let data = Prepared::new(input)?;
    let (folds, group_names, scheme) =
        assign_folds(outcome, input.groups, config.outer_folds, config.seed);
    let k = folds.iter().copied().max().map_or(0, |m| m + 1);
    if k < 2 {
        return Err(Error::Invalid(format!(
            "cross-validation needs at least 2 outer folds; found {k} (one group?)"
        )));
    }
    let mut oof = Vec::new();
    let mut fold_fits = Vec::new();
    for block in Block::ALL {
        let (p, fits) = cross_validate_block(&data, outcome, input.groups, block, &folds, config)?;
        oof.push(p);
        fold_fits.push(fits);
    }
    let mut evaluations = Vec::new();
    let mut warnings = Vec::new();
    let all: Vec<usize> = (0..data.n).collect();
    for (b, block) in Block::ALL.into_iter().enumerate() {
        let metrics = evaluate(outcome, &oof[b], config, b as u64)?;
        // Counted without fitting anything on all rows (a data-dependent derived feature is
        // only ever fitted on training rows).
        let candidate = if block.uses_clinical() {
            data.n_clinical()
        } else {
            0
        } + if block.uses_taxa() {
            data.prevalent_taxa(&all, config.min_prevalence).0.len() + data.derived_columns.len()
        } else {
            0
        };
        match &metrics {
            Metrics::Binary(m) if m.auc_ci[1] - m.auc_ci[0] > 0.3 => warnings.push(format!(
                "{block:?} model: the AUC's 95% CI ({:.2}–{:.2}) is wider than 0.3; it cannot \
                 tell a useful model from a useless one",
                m.auc_ci[0], m.auc_ci[1]
            )),
            Metrics::Continuous(m) if m.r2_ci[1] - m.r2_ci[0] > 0.5 => warnings.push(format!(
                "{block:?} model: the R²'s 95% CI ({:.2} to {:.2}) is wider than 0.5; it cannot \
                 tell a useful model from a useless one",
                m.r2_ci[0], m.r2_ci[1]
            )),
            _ => {}
        }
        evaluations.push(ModelEvaluation {
            block,
            candidate_features: candidate,
            metrics,
            chosen: fold_fits[b].iter().filter_map(|f| f.chosen).collect(),
        });
    }
    let combined_candidates = evaluations[2].candidate_features;
    let events = match outcome {
        Outcome::Binary { labels, .. } => Some(labels.iter().filter(|b| **b).count()),
        Outcome::Continuous { .. } => None,
    };
    // Events per candidate feature: the smaller class (or n for a continuous outcome).
    let limiting = events.map_or(data.n, |e| e.min(data.n - e));
    let epv = limiting as f64 / combined_candidates.max(1) as f64;
    if epv < 10.0 {
        warnings.push(format!(
            "{limiting} {} for {combined_candidates} candidate features ({epv:.2} per feature, \
             fewer than 10): penalisation keeps the fit possible, but estimates are unstable and \
             an external validation cohort is needed before any claim",
            if events.is_some() {
                "events (smaller class)"
            } else {
                "samples"
            }
        ));
    }
    let combined_vs_clinical = match outcome {
        Outcome::Binary { labels, .. } => delong_paired(&oof[0], &oof[2], labels)?,
        Outcome::Continuous { values } => r2_paired_bootstrap(
            &oof[0],
            &oof[2],
            values,
            config.bootstrap.max(1),
            fold_seed(config.seed, 2000),
        )?,
    };
    let permutation_p = if config.permutations > 0 {
        let observed = headline(outcome, &oof[1])?;
        let hits: Vec<bool> = (0..config.permutations)
            .into_par_iter()
            .map(|b| -> Result<bool> {
                let mut rng = Rng::new(fold_seed(config.seed, 10_000 + b as u64));
                let mut order: Vec<usize> = (0..data.n).collect();
                rng.shuffle(&mut order);
                let permuted = outcome.subset(&order);
                let (pf, _, _) =
                    assign_folds(&permuted, input.groups, config.outer_folds, config.seed);
                let (p, _) = cross_validate_block(
                    &data,
                    &permuted,
                    input.groups,
                    Block::Microbiome,
                    &pf,
                    config,
                )?;
                Ok(headline(&permuted, &p)? >= observed)
            })
            .collect::<Result<_>>()?;
        let h = hits.iter().filter(|b| **b).count();
        Some((h + 1) as f64 / (config.permutations + 1) as f64)
    } else {
        None
    };
    // Stability of the combined model's features across outer folds.
    let c = data.n_clinical();
    let names: Vec<(String, Block)> = data
        .clinical_names
        .iter()
        .map(|n| (n.clone(), Block::Clinical))
        .chain(data.taxa.iter().map(|t| (t.clone(), Block::Microbiome)))
        .chain(
            data.derived_columns
                .iter()
                .map(|t| (t.clone(), Block::Microbiome)),
        )
        .collect();
    let fits = &fold_fits[2];
    let mut stability: Vec<FeatureStability> = names
        .into_iter()
        .enumerate()
        .map(|(j, (feature, block))| FeatureStability {
            feature,
            block,
            selected_share: fits.iter().filter(|f| f.weights[j] != 0.0).count() as f64
                / fits.len() as f64,
            mean_weight: fits.iter().map(|f| f.weights[j]).sum::<f64>() / fits.len() as f64,
        })
        .filter(|s| s.selected_share > 0.0 || s.block == Block::Clinical)
        .collect();
    stability.sort_by(|a, b| {
        b.selected_share
            .total_cmp(&a.selected_share)
            .then(b.mean_weight.abs().total_cmp(&a.mean_weight.abs()))
            .then(a.feature.cmp(&b.feature))
    });
    let missing_clinical: Vec<MissingClinical> = (0..c)
        .map(|j| MissingClinical {
            column: data.clinical_names[j].clone(),
            missing: (0..data.n)
                .filter(|&i| data.clinical[i * c + j].is_nan())
                .count(),
        })
        .filter(|m| m.missing > 0)
        .collect();
    for m in &missing_clinical {
        warnings.push(format!(
            "clinical column '{}': {} missing values imputed by the training folds' median",
            m.column, m.missing
        ));
    }
    let observed = outcome.values();
    let predictions = (0..data.n)
        .map(|i| OutOfFold {
            sample: input.table.sample_ids()[i].clone(),
            fold: folds[i],
            observed: observed[i],
            clinical: oof[0][i],
            microbiome: oof[1][i],
            combined: oof[2][i],
        })
        .collect();
    let mut evaluations = evaluations.into_iter();
    let (Some(clinical), Some(microbiome), Some(combined)) =
        (evaluations.next(), evaluations.next(), evaluations.next())
    else {
        return Err(Error::Invalid("three models expected".into()));
    };
    Ok(PredictionReport {
        outcome: match outcome {
            Outcome::Binary { .. } => OutcomeKind::Binary,
            Outcome::Continuous { .. } => OutcomeKind::Continuous,
        },
        n: data.n,
        events,
        learner: config.learner,
        validation: Validation {
            scheme,
            outer_folds: k,
            inner_folds: config.inner_folds,
            groups: group_names,
            seed: config.seed,
        },
        clinical,
        microbiome,
        combined,
        combined_vs_clinical,
        permutation_p,
        permutations: config.permutations,
        stability,
        missing_clinical,
        warnings,
        predictions,
    })
}

fn validate(input: &PredictInput<'_>, config: &PredictConfig) -> Result<()> {
    if config.outer_folds < 2 || config.inner_folds < 2 {
        return Err(Error::Invalid(format!(
            "nested cross-validation needs at least 2 outer and 2 inner folds (got {} and {})",
            config.outer_folds, config.inner_folds
        )));
    }
    if config.l1_ratios.is_empty()
        || config.l1_ratios.iter().any(|r| !(0.0..=1.0).contains(r))
        || config
            .alphas
            .as_ref()
            .is_some_and(|a| a.is_empty() || a.iter().any(|v| v.is_nan() || *v <= 0.0))
    {
        return Err(Error::Invalid(
            "the grid needs L1 ratios in [0, 1] and positive α values".into(),
        ));
    }
    if let Some(g) = input.groups
        && g.len() != input.outcome.len()
    {
        return Err(Error::Invalid(format!(
            "{} groups for {} samples",
            g.len(),
            input.outcome.len()
        )));
    }
    match input.outcome {
        Outcome::Binary { labels, positive } => {
            let events = labels.iter().filter(|b| **b).count();
            let smaller = events.min(labels.len() - events);
            if smaller == 0 {
                return Err(Error::Metadata(format!(
                    "the outcome has one level only ({} samples, {events} '{positive}')",
                    labels.len()
                )));
            }
            if smaller < 10 {
                return Err(Error::Metadata(format!(
                    "the outcome's smaller class has {smaller} samples ({events} '{positive}' of \
                     {}); fewer than 10 events leave nothing a cross-validated estimate could \
                     mean",
                    labels.len()
                )));
            }
            if input.groups.is_none() && smaller < config.outer_folds {
                return Err(Error::Invalid(format!(
                    "{} stratified folds need {} samples of each class; the smaller has {smaller}",
                    config.outer_folds, config.outer_folds
                )));
            }
        }
        Outcome::Continuous { values } => {
            if values.len() < 10 {
                return Err(Error::Metadata(format!(
                    "{} samples with an outcome; at least 10 are needed",
                    values.len()
                )));
            }
            if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                return Err(Error::Metadata(format!("outcome value {v} is not finite")));
            }
            if config.learner != Learner::ElasticNet {
                return Err(Error::Invalid(
                    "the random forest here is a classifier; a continuous outcome needs the \
                     elastic net"
                        .into(),
                ));
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------ verdict

/// What the comparison of the combined model with the clinical one showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// The combined model beat the clinical one (p < 0.05, difference > 0).
    AddedValue,
    /// No difference shown.
    NoAddedValue,
    /// Adding the microbiome made the model worse (p < 0.05, difference < 0): overfitting.
    Worse,
}

/// The plain-language answer to "does the microbiome add anything to what the clinic
/// knows?", read from the numbers of one [`PredictionReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verdict {
    pub finding: Finding,
    /// One paragraph: the finding, the numbers behind it, and what they do not show.
    pub text: String,
}

/// The smallest gain in AUC (or R²) this verdict calls worth having: a confidence interval
/// that reaches above it leaves a useful gain possible even when none was shown.
const USEFUL_GAIN: f64 = 0.05;

/// Reads the verdict off a report; `gutjoint predict` prints it and `analyze --outcome` shows
/// it, so both say the same thing about the same numbers.
pub fn verdict(r: &PredictionReport) -> Verdict {
    let (name, clinical, combined, microbiome) = match (
        &r.clinical.metrics,
        &r.combined.metrics,
        &r.microbiome.metrics,
    ) {
        (Metrics::Binary(a), Metrics::Binary(b), Metrics::Binary(m)) => {
            ("AUC", a.auc, b.auc, m.auc)
        }
        (Metrics::Continuous(a), Metrics::Continuous(b), Metrics::Continuous(m)) => {
            ("R²", a.r2, b.r2, m.r2)
        }
        _ => ("AUC", f64::NAN, f64::NAN, f64::NAN),
    };
    let d = &r.combined_vs_clinical;
    let numbers = format!(
        "combined {name} {combined:.3} against clinical {clinical:.3}: difference {:+.3} \
         (95% CI {:.3} to {:.3}, p = {:.3})",
        d.delta, d.ci[0], d.ci[1], d.p
    );
    let finding = if d.p < 0.05 && d.delta > 0.0 {
        Finding::AddedValue
    } else if d.p < 0.05 && d.delta < 0.0 {
        Finding::Worse
    } else {
        Finding::NoAddedValue
    };
    let mut text = match finding {
        Finding::AddedValue => format!(
            "The microbiome added to the clinical model in this cohort ({numbers}). This is \
             one cohort's cross-validation: it needs an independent cohort before anyone \
             relies on it."
        ),
        Finding::Worse => format!(
            "No added value shown: adding the microbiome made the model worse ({numbers}), \
             the mark of fitting noise among many microbiome features."
        ),
        Finding::NoAddedValue => {
            let mut t = format!("No added value shown ({numbers}).");
            if d.ci[1] > USEFUL_GAIN {
                let _ = write!(
                    t,
                    " The interval still allows a gain of up to {:.3}, so this does not show \
                     the microbiome is useless either: a larger cohort could tell.",
                    d.ci[1]
                );
            } else {
                let _ = write!(
                    t,
                    " The interval rules out a gain larger than {:.3}.",
                    d.ci[1].max(0.0)
                );
            }
            t
        }
    };
    match r.permutation_p {
        Some(p) if p < 0.05 => {
            let _ = write!(
                text,
                " On its own the microbiome predicts better than shuffled outcomes ({name} \
                 {microbiome:.3}, permutation p = {p:.3}){}.",
                if finding == Finding::AddedValue {
                    ""
                } else {
                    ", but what it knows overlaps with what the clinical variables already tell"
                }
            );
        }
        Some(p) => {
            let _ = write!(
                text,
                " On its own the microbiome did no better than shuffled outcomes ({name} \
                 {microbiome:.3}, permutation p = {p:.3})."
            );
        }
        None => {}
    }
    if r.clinical.candidate_features == 0 {
        text.push_str(
            " No clinical variables were given, so the 'clinical' model knows only the \
             outcome's overall rate: this compares the microbiome with knowing nothing, not \
             with what the clinic knows.",
        );
    }
    Verdict { finding, text }
}

// ------------------------------------------------------------------ saved models

/// Where a saved model came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Name and version of the software that fitted it.
    pub software: String,
    pub table: String,
    /// SHA-256 of each input table file, in the order given (hex).
    #[serde(default)]
    pub table_sha256: Vec<String>,
    pub metadata: String,
    #[serde(default)]
    pub metadata_sha256: String,
    pub samples: usize,
    /// Every setting, the seed among them.
    pub config: PredictConfig,
}

/// What a reader of a saved model must know before using it (Mitchell et al. 2019, "Model
/// Cards for Model Reporting", FAT* '19, doi:10.1145/3287560.3287596).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub data: String,
    pub population: String,
    pub outcome_definition: String,
    /// Cross-validated performance of the combined model and its comparison with the clinical
    /// one, with CIs (from the same run).
    pub performance: String,
    pub intended_use: String,
    pub must_not_be_used_for: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeDefinition {
    pub column: String,
    pub kind: OutcomeKind,
    pub positive: Option<String>,
}

/// The fitted combined model, on the standardised columns of the saved preprocessing (clinical
/// first, then taxa, then derived features).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "learner")]
pub enum FittedModel {
    ElasticNet {
        /// α and L1 ratio chosen by the inner cross-validation on all samples (`None` when
        /// nothing is penalised).
        penalty: Option<Penalty>,
        intercept: f64,
        coefficients: Vec<f64>,
    },
    /// The grown trees themselves, so scoring uses exactly the fitted forest.
    RandomForest {
        trees: usize,
        forest: classify::Forest,
    },
}

impl FittedModel {
    /// Whether each model column is used (nonzero coefficient, or split on by some tree).
    fn used(&self) -> Vec<bool> {
        match self {
            FittedModel::ElasticNet { coefficients, .. } => {
                coefficients.iter().map(|c| *c != 0.0).collect()
            }
            FittedModel::RandomForest { forest, .. } => forest.used_features(),
        }
    }

    fn width(&self) -> usize {
        match self {
            FittedModel::ElasticNet { coefficients, .. } => coefficients.len(),
            FittedModel::RandomForest { forest, .. } => forest.features,
        }
    }

    fn predict(&self, family: Family, row: &[f64]) -> f64 {
        match self {
            FittedModel::ElasticNet {
                intercept,
                coefficients,
                ..
            } => ElasticNetFit {
                intercept: *intercept,
                coefficients: coefficients.clone(),
            }
            .predict(family, row),
            FittedModel::RandomForest { forest, .. } => forest.probability(row),
        }
    }
}

/// The combined model refitted on every sample (the elastic net's α and L1 ratio chosen by the
/// inner cross-validation on all samples; the forest grown with the run's settings), with what
/// is needed to score a new profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    pub format: String,
    pub outcome: OutcomeDefinition,
    pub family: Family,
    /// Deepest taxonomic rank of the training table's lineages (`None` for plain ids).
    pub rank: Option<String>,
    pub preprocessing: Preprocessing,
    pub model: FittedModel,
    pub provenance: Provenance,
    pub model_card: ModelCard,
    pub research_use: String,
}

/// Version 2 stores either learner and the derived features; version 1 (elastic net only) is
/// refused with a message to refit.
pub const MODEL_FORMAT: &str = "gutjoint-predict-model/2";

fn deepest_rank(table: &FeatureTable) -> Option<String> {
    table.ranks_present().last().map(|r| r.name().to_string())
}

/// Fits the combined model on all samples for saving. `report` is the cross-validated report of
/// the same input and config (its numbers go into the model card).
pub fn fit_final(
    input: &PredictInput<'_>,
    config: &PredictConfig,
    report: &PredictionReport,
    outcome_column: &str,
    population: &str,
    provenance: Provenance,
) -> Result<SavedModel> {
    validate(input, config)?;
    let data = Prepared::new(input)?;
    let (pre, model) = fit_combined_on_all(&data, input, config)?;
    let (kind, positive, definition) = match input.outcome {
        Outcome::Binary { labels, positive } => (
            OutcomeKind::Binary,
            Some(positive.clone()),
            format!(
                "'{outcome_column}' = '{positive}' ({} of {} samples) against every other value",
                labels.iter().filter(|b| **b).count(),
                labels.len()
            ),
        ),
        Outcome::Continuous { values } => (
            OutcomeKind::Continuous,
            None,
            format!("'{outcome_column}' as a number ({} samples)", values.len()),
        ),
    };
    let d = &report.combined_vs_clinical;
    let performance = match (&report.combined.metrics, &report.clinical.metrics) {
        (Metrics::Binary(m), Metrics::Binary(c)) => format!(
            "nested cross-validation ({:?}, {} outer folds): combined AUC {:.3} (95% CI {:.3}–{:.3}), \
             Brier {:.3}, calibration slope {:.2}; clinical-only AUC {:.3}; combined − clinical \
             {:+.3} (95% CI {:.3} to {:.3}, DeLong p = {:.3})",
            report.validation.scheme,
            report.validation.outer_folds,
            m.auc,
            m.auc_ci[0],
            m.auc_ci[1],
            m.brier,
            m.calibration_slope,
            c.auc,
            d.delta,
            d.ci[0],
            d.ci[1],
            d.p
        ),
        (Metrics::Continuous(m), Metrics::Continuous(c)) => format!(
            "nested cross-validation ({:?}, {} outer folds): combined R² {:.3} (95% CI {:.3} to \
             {:.3}), RMSE {:.3}; clinical-only R² {:.3}; combined − clinical {:+.3} (95% CI {:.3} \
             to {:.3}, paired bootstrap p = {:.3})",
            report.validation.scheme,
            report.validation.outer_folds,
            m.r2,
            m.r2_ci[0],
            m.r2_ci[1],
            m.rmse,
            c.r2,
            d.delta,
            d.ci[0],
            d.ci[1],
            d.p
        ),
        _ => String::new(),
    };
    let model_card = ModelCard {
        data: format!(
            "{} samples of '{}' with metadata '{}'; {} taxa after the prevalence filter, \
             clinical covariates: {}",
            data.n,
            provenance.table,
            provenance.metadata,
            pre.taxa.len(),
            if pre.clinical.is_empty() {
                "none".to_string()
            } else {
                pre.clinical.join(", ")
            }
        ),
        population: population.to_string(),
        outcome_definition: definition,
        performance,
        intended_use: "research: to ask whether the baseline microbiome adds to clinical \
                       predictors of response in cohorts like the training one, and to test that \
                       in an independent cohort"
            .into(),
        must_not_be_used_for: vec![
            "deciding or withholding any patient's treatment".into(),
            "populations, sequencing protocols or taxonomic profilers other than the training \
             cohort's without external validation"
                .into(),
            "claims of causality: the coefficients describe association in one cohort".into(),
        ],
        warnings: report.warnings.clone(),
    };
    Ok(SavedModel {
        format: MODEL_FORMAT.into(),
        outcome: OutcomeDefinition {
            column: outcome_column.to_string(),
            kind,
            positive,
        },
        family: input.outcome.family(),
        rank: deepest_rank(input.table),
        preprocessing: pre,
        model,
        provenance,
        model_card,
        research_use: RESEARCH_USE.into(),
    })
}

/// The combined model fitted on every sample, as saved: its preprocessing and the fit.
fn fit_combined_on_all(
    data: &Prepared,
    input: &PredictInput<'_>,
    config: &PredictConfig,
) -> Result<(Preprocessing, FittedModel)> {
    let all: Vec<usize> = (0..data.n).collect();
    let seed = fold_seed(config.seed, 999);
    match config.learner {
        Learner::ElasticNet => {
            let (pre, fit, chosen, _) = fit_elastic_net(
                data,
                input.outcome,
                input.groups,
                Block::Combined,
                &all,
                &[],
                config,
                seed,
            )?;
            Ok((
                pre,
                FittedModel::ElasticNet {
                    penalty: chosen,
                    intercept: fit.intercept,
                    coefficients: fit.coefficients,
                },
            ))
        }
        Learner::RandomForest { trees } => {
            let Outcome::Binary { labels, .. } = input.outcome else {
                return Err(Error::Invalid(
                    "the random forest here is a classifier; a continuous outcome needs the \
                     elastic net"
                        .into(),
                ));
            };
            let pre = Preprocessing::fit(data, &all, Block::Combined, config.min_prevalence)?;
            let train = Dataset {
                n: data.n,
                p: pre.width(),
                x: pre.transform(data, &all)?,
                y: labels.clone(),
            };
            // The seed `fit_predict` would give the same forest (`Model::RandomForest`).
            let (forest, _) = classify::Forest::grow(&train, trees, seed);
            Ok((pre, FittedModel::RandomForest { trees, forest }))
        }
    }
}

/// One new profile's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub sample: String,
    /// Probability of the positive level (binary) or the predicted value (continuous).
    pub score: f64,
    /// Clinical values that were missing and imputed with the training median.
    pub imputed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub outcome: OutcomeDefinition,
    pub scores: Vec<Score>,
    /// Model taxa absent from the new table (scored as zero abundance).
    pub absent_taxa: Vec<String>,
    pub research_use: String,
}

/// Scores new profiles with a saved model. `clinical` holds the model's clinical columns by
/// name, values in the table's sample order; `derived` the derived features the model uses, by
/// name (each applied with the state the model stored). Refuses a table at another taxonomic
/// rank, one lacking any taxon the model uses (nonzero coefficient, or a split of some tree),
/// or one holding under 80% of the model's CLR reference taxa (the log-ratios would not mean
/// the same).
pub fn score(
    model: &SavedModel,
    table: &FeatureTable,
    clinical: &[ClinicalColumn],
    derived: &[&dyn Derived],
) -> Result<Scores> {
    if model.format != MODEL_FORMAT {
        return Err(Error::Invalid(format!(
            "model format '{}' is not '{MODEL_FORMAT}'; refit and save it with this version",
            model.format
        )));
    }
    let pre = &model.preprocessing;
    if pre.width() != model.model.width()
        || pre.means.len() != pre.width()
        || pre.scales.len() != pre.width()
        || pre.clinical_medians.len() != pre.clinical.len()
    {
        return Err(Error::Invalid(
            "the model's preprocessing and fitted model disagree in width".into(),
        ));
    }
    if let FittedModel::RandomForest { forest, .. } = &model.model {
        forest.check()?;
    }
    let rank = deepest_rank(table);
    if rank != model.rank {
        return Err(Error::Invalid(format!(
            "the table's deepest rank is {} but the model was trained at {}; collapse the table to \
             the model's rank first",
            rank.as_deref().unwrap_or("none (plain ids)"),
            model.rank.as_deref().unwrap_or("none (plain ids)")
        )));
    }
    let index: std::collections::HashMap<&str, usize> = table
        .feature_ids()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    let nc = pre.clinical.len();
    let used = model.model.used();
    let absent: Vec<usize> = (0..pre.taxa.len())
        .filter(|&t| !index.contains_key(pre.taxa[t].as_str()))
        .collect();
    let used_absent: Vec<&str> = absent
        .iter()
        .filter(|&&t| used[nc + t])
        .map(|&t| pre.taxa[t].as_str())
        .collect();
    if !used_absent.is_empty() {
        return Err(Error::Invalid(format!(
            "the table lacks {} taxa the model uses (e.g. '{}'); its feature space does not fit \
             the model's",
            used_absent.len(),
            used_absent[0]
        )));
    }
    if !pre.taxa.is_empty() && (absent.len() as f64) > 0.2 * pre.taxa.len() as f64 {
        return Err(Error::Invalid(format!(
            "the table holds {} of the model's {} taxa (under 80%); the CLR reference would \
             differ and the feature space does not fit the model's",
            pre.taxa.len() - absent.len(),
            pre.taxa.len()
        )));
    }
    let mut columns: Vec<&ClinicalColumn> = Vec::new();
    for name in &pre.clinical {
        let col = clinical.iter().find(|c| &c.name == name).ok_or_else(|| {
            Error::Metadata(format!("the model needs the clinical column '{name}'"))
        })?;
        if col.values.len() != table.n_samples() {
            return Err(Error::Metadata(format!(
                "clinical column '{name}' has {} values for {} samples",
                col.values.len(),
                table.n_samples()
            )));
        }
        columns.push(col);
    }
    // Derived features, each with the state fitted on the training samples.
    let rows: Vec<usize> = (0..table.n_samples()).collect();
    let dw = pre.derived_width();
    let mut derived_values = vec![0.0; rows.len() * dw];
    let mut offset = 0;
    for state in &pre.derived {
        let d = derived
            .iter()
            .find(|d| d.name() == state.name)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "the model uses the derived feature '{}'; it must be given to score",
                    state.name
                ))
            })?;
        if d.columns() != state.columns {
            return Err(Error::Invalid(format!(
                "derived feature '{}' now yields columns {:?}, the model was fitted with {:?}",
                state.name,
                d.columns(),
                state.columns
            )));
        }
        let k = state.columns.len();
        let v = d.apply(&state.state, table, &rows)?;
        check_derived(*d, &v, &rows, table)?;
        for i in 0..rows.len() {
            derived_values[i * dw + offset..i * dw + offset + k]
                .copy_from_slice(&v[i * k..(i + 1) * k]);
        }
        offset += k;
    }
    let rel = if table.kind() == ValueKind::Counts {
        table.to_relative()
    } else {
        table.clone()
    };
    let family = model.family;
    let nt = pre.taxa.len();
    let mut scores = Vec::with_capacity(table.n_samples());
    let mut row = vec![0.0; pre.width()];
    for s in 0..table.n_samples() {
        let total = rel.sample_total(s);
        let mut imputed = Vec::new();
        for (j, col) in columns.iter().enumerate() {
            row[j] = match col.values[s] {
                Some(v) => v,
                None => {
                    imputed.push(col.name.clone());
                    pre.clinical_medians[j]
                }
            };
        }
        let values = pre.taxa.iter().map(|t| {
            index.get(t.as_str()).map_or(0.0, |&f| {
                if total > 0.0 {
                    rel.get(s, f) / total
                } else {
                    0.0
                }
            })
        });
        clr_into(values, pre.pseudocount, &mut row[nc..nc + nt]);
        row[nc + nt..].copy_from_slice(&derived_values[s * dw..(s + 1) * dw]);
        pre.scale(&mut row);
        scores.push(Score {
            sample: table.sample_ids()[s].clone(),
            score: model.model.predict(family, &row),
            imputed,
        });
    }
    Ok(Scores {
        outcome: model.outcome.clone(),
        scores,
        absent_taxa: absent.iter().map(|&t| pre.taxa[t].clone()).collect(),
        research_use: RESEARCH_USE.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_table::Location;

    fn normal(rng: &mut Rng) -> f64 {
        // Box–Muller from two uniforms in (0, 1).
        let u = (rng.below(1 << 52) as f64 + 0.5) / (1u64 << 52) as f64;
        let v = (rng.below(1 << 52) as f64 + 0.5) / (1u64 << 52) as f64;
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    struct Simulated {
        table: FeatureTable,
        clinical: Vec<ClinicalColumn>,
        outcome: Outcome,
    }

    /// `n` patients, 20 taxa with log-normal abundances, two clinical covariates (the first may
    /// carry signal, the second never); logit P(response) = c·x₁ + t·clr(taxon 0).
    fn simulate(n: usize, clinical_effect: f64, taxon_effect: f64, seed: u64) -> Simulated {
        let p = 20;
        let mut rng = Rng::new(seed);
        let mut triplets = Vec::new();
        let mut labels = Vec::new();
        let mut x1 = Vec::new();
        let mut x2 = Vec::new();
        for i in 0..n {
            let logs: Vec<f64> = (0..p).map(|_| normal(&mut rng)).collect();
            let mean = logs.iter().sum::<f64>() / p as f64;
            let c1 = normal(&mut rng);
            let c2 = normal(&mut rng);
            let eta = clinical_effect * c1 + taxon_effect * (logs[0] - mean);
            let u = (rng.below(1 << 52) as f64 + 0.5) / (1u64 << 52) as f64;
            labels.push(u < crate::elastic_net::sigmoid(eta));
            x1.push(Some(c1));
            x2.push(Some(c2));
            let total: f64 = logs.iter().map(|l| l.exp()).sum();
            for (f, l) in logs.iter().enumerate() {
                triplets.push((i as u32, f as u32, l.exp() / total));
            }
        }
        let table = FeatureTable::from_triplets(
            (0..n).map(|i| format!("S{i}")).collect(),
            (0..p).map(|f| format!("taxon{f}")).collect(),
            triplets,
            &Location::named("simulated"),
        )
        .unwrap();
        Simulated {
            table,
            clinical: vec![
                ClinicalColumn {
                    name: "x1".into(),
                    values: x1,
                },
                ClinicalColumn {
                    name: "x2".into(),
                    values: x2,
                },
            ],
            outcome: Outcome::Binary {
                labels,
                positive: "responder".into(),
            },
        }
    }

    fn quick(seed: u64) -> PredictConfig {
        PredictConfig {
            l1_ratios: vec![0.5, 1.0],
            n_alphas: 4,
            permutations: 0,
            bootstrap: 200,
            seed,
            ..PredictConfig::default()
        }
    }

    fn input_of(s: &Simulated) -> PredictInput<'_> {
        PredictInput {
            table: &s.table,
            clinical: &s.clinical,
            outcome: &s.outcome,
            groups: None,
            derived: &[],
        }
    }

    fn run(s: &Simulated, config: &PredictConfig) -> PredictionReport {
        predict(
            &PredictInput {
                table: &s.table,
                clinical: &s.clinical,
                outcome: &s.outcome,
                groups: None,
                derived: &[],
            },
            config,
        )
        .unwrap()
    }

    fn auc(m: &ModelEvaluation) -> f64 {
        match &m.metrics {
            Metrics::Binary(b) => b.auc,
            Metrics::Continuous(_) => panic!("binary expected"),
        }
    }

    /// The issue's planted-signal check: added microbiome value (combined vs clinical,
    /// DeLong p < 0.01) where a taxon carries signal, none where only the clinic does.
    #[test]
    fn planted_signal_is_found_where_planted() {
        let taxon = run(&simulate(200, 0.0, 2.0, 1), &quick(1));
        assert!(
            taxon.combined_vs_clinical.p < 0.01,
            "{:?}",
            taxon.combined_vs_clinical
        );
        assert!(auc(&taxon.microbiome) > 0.7);
        let both = run(&simulate(200, 1.5, 2.0, 2), &quick(2));
        assert!(
            both.combined_vs_clinical.p < 0.01,
            "{:?}",
            both.combined_vs_clinical
        );
        assert!(auc(&both.clinical) > 0.65 && auc(&both.combined) > auc(&both.clinical));
        let clinic = run(&simulate(200, 1.5, 0.0, 3), &quick(3));
        for (name, r) in [("taxon", &taxon), ("both", &both), ("clinical", &clinic)] {
            eprintln!(
                "planted {name}: clinical AUC {:.3}, combined {:.3}, delta {:+.3}, p {:.2e}",
                auc(&r.clinical),
                auc(&r.combined),
                r.combined_vs_clinical.delta,
                r.combined_vs_clinical.p
            );
        }
        assert!(
            clinic.combined_vs_clinical.p >= 0.05,
            "{:?}",
            clinic.combined_vs_clinical
        );
        assert!(auc(&clinic.clinical) > 0.7);
        // The planted taxon is the most stable microbiome feature of the combined model.
        let top = taxon
            .stability
            .iter()
            .find(|s| s.block == Block::Microbiome)
            .unwrap();
        assert_eq!(top.feature, "taxon0");
        // The verdict follows the planted truth: added value where a taxon carries signal the
        // clinic lacks, "no added value shown" where only the clinical variable does.
        for (r, finding) in [
            (&taxon, Finding::AddedValue),
            (&both, Finding::AddedValue),
            (&clinic, Finding::NoAddedValue),
        ] {
            let v = verdict(r);
            assert_eq!(v.finding, finding, "{}", v.text);
            let d = &r.combined_vs_clinical;
            assert!(
                v.text.contains(&format!("{:+.3}", d.delta))
                    && v.text.contains(&format!("p = {:.3}", d.p)),
                "the verdict quotes its numbers: {}",
                v.text
            );
        }
        assert!(verdict(&clinic).text.starts_with("No added value shown"));
    }

    #[test]
    fn no_added_value_is_claimed_under_the_null() {
        let significant = (0..20)
            .map(|seed| {
                run(&simulate(120, 1.0, 0.0, 100 + seed), &quick(seed)).combined_vs_clinical
            })
            .collect::<Vec<_>>();
        let hits = significant.iter().filter(|d| d.p < 0.05).count();
        eprintln!("null seeds with p < 0.05: {hits} of 20");
        assert!(
            hits <= 1,
            "{hits} of 20 null seeds had p < 0.05: {significant:?}"
        );
    }

    #[test]
    fn bad_outcomes_are_refused_clearly() {
        let v = |xs: &[&str]| xs.iter().map(|x| Some(x.to_string())).collect::<Vec<_>>();
        let one = Outcome::from_column("resp", &v(&["yes", "yes", "yes"]), Some("yes"));
        assert!(one.unwrap_err().to_string().contains("one level"));
        let cont = Outcome::from_column("das", &v(&["1.5", "2.0", "3.1", "0.2"]), Some("2.0"));
        assert!(cont.unwrap_err().to_string().contains("continuous"));
        let cat = Outcome::from_column("resp", &v(&["yes", "no"]), None);
        assert!(cat.unwrap_err().to_string().contains("positive level"));
        // Fewer than 10 events.
        let mut s = simulate(60, 0.0, 0.0, 5);
        s.outcome = Outcome::Binary {
            labels: (0..60).map(|i| i < 8).collect(),
            positive: "responder".into(),
        };
        let e = predict(
            &PredictInput {
                table: &s.table,
                clinical: &s.clinical,
                outcome: &s.outcome,
                groups: None,
                derived: &[],
            },
            &quick(0),
        )
        .unwrap_err();
        assert!(e.to_string().contains("fewer than 10 events"), "{e}");
    }

    #[test]
    fn missing_clinical_values_are_imputed_inside_folds_and_reported() {
        let mut s = simulate(100, 1.0, 0.0, 7);
        for i in (0..100).step_by(7) {
            s.clinical[0].values[i] = None;
        }
        let r = run(&s, &quick(7));
        assert_eq!(
            r.missing_clinical,
            vec![MissingClinical {
                column: "x1".into(),
                missing: 15
            }]
        );
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("imputed by the training folds' median"))
        );
        assert!(auc(&r.clinical) > 0.6);
    }

    #[test]
    fn same_seed_same_report_and_groups_leave_one_out() {
        let s = simulate(90, 1.0, 1.0, 11);
        let a = run(&s, &quick(4));
        assert_eq!(a, run(&s, &quick(4)));
        let groups: Vec<String> = (0..90).map(|i| format!("centre{}", i % 3)).collect();
        let r = predict(
            &PredictInput {
                table: &s.table,
                clinical: &s.clinical,
                outcome: &s.outcome,
                groups: Some(&groups),
                derived: &[],
            },
            &quick(4),
        )
        .unwrap();
        assert_eq!(r.validation.scheme, Scheme::LeaveOneGroupOut);
        assert_eq!(r.validation.groups, vec!["centre0", "centre1", "centre2"]);
        assert!(r.predictions.iter().all(
            |p| format!("centre{}", p.fold) == groups[p.sample[1..].parse::<usize>().unwrap()]
        ));
    }

    fn provenance(config: &PredictConfig) -> Provenance {
        Provenance {
            software: "test".into(),
            table: "simulated".into(),
            table_sha256: vec![],
            metadata: "simulated".into(),
            metadata_sha256: String::new(),
            samples: 100,
            config: config.clone(),
        }
    }

    /// The saved forest is the one grown in memory: scoring the training profiles with the
    /// model read back from JSON gives exactly the probabilities of `classify::fit_predict` on
    /// the same preprocessed rows with the same seed; a tampered tree is refused, not followed.
    #[test]
    fn saved_forest_scores_equal_the_in_memory_forest() {
        let s = simulate(100, 1.0, 2.0, 17);
        let config = PredictConfig {
            learner: Learner::RandomForest { trees: 25 },
            ..quick(17)
        };
        let input = input_of(&s);
        let report = predict(&input, &config).unwrap();
        let model = fit_final(
            &input,
            &config,
            &report,
            "resp",
            "simulated",
            provenance(&config),
        )
        .unwrap();
        let text = serde_json::to_string(&model).unwrap();
        let back: SavedModel = serde_json::from_str(&text).unwrap();
        assert_eq!(back.model, model.model);
        let scores = score(&back, &s.table, &s.clinical, &[]).unwrap();
        let data = Prepared::new(&input).unwrap();
        let all: Vec<usize> = (0..100).collect();
        let pre = Preprocessing::fit(&data, &all, Block::Combined, config.min_prevalence).unwrap();
        let Outcome::Binary { labels, .. } = &s.outcome else {
            panic!()
        };
        let rows = Dataset {
            n: 100,
            p: pre.width(),
            x: pre.transform(&data, &all).unwrap(),
            y: labels.clone(),
        };
        let own = classify::fit_predict(
            Model::RandomForest {
                trees: 25,
                seed: fold_seed(17, 999),
            },
            &rows,
            &rows,
        )
        .unwrap()
        .probabilities;
        let got: Vec<f64> = scores.scores.iter().map(|s| s.score).collect();
        assert_eq!(got, own);
        // A forest trained on signal scores responders higher on its own training data.
        assert!(roc_auc(&got, labels).unwrap().auc > 0.9);
        // A tree whose child points back to its root is refused when scoring.
        let tampered = text.replacen("\"left\":1,", "\"left\":0,", 1);
        assert_ne!(tampered, text);
        let bad: SavedModel = serde_json::from_str(&tampered).unwrap();
        let e = score(&bad, &s.table, &s.clinical, &[]).unwrap_err();
        assert!(e.to_string().contains("does not fit a tree"), "{e}");
    }

    /// A data-dependent derived feature for the in-fold check: the share of taxon 0 minus its
    /// mean share over the training rows (the state). Every fit is recorded.
    struct CentredTaxon0 {
        fits: std::sync::Mutex<Vec<(Vec<usize>, f64)>>,
    }

    impl CentredTaxon0 {
        fn share(table: &FeatureTable, r: usize) -> f64 {
            table.get(r, 0) / table.sample_total(r)
        }
    }

    impl Derived for CentredTaxon0 {
        fn name(&self) -> String {
            "centred_taxon0".into()
        }
        fn columns(&self) -> Vec<String> {
            vec!["centred_taxon0".into()]
        }
        fn data_dependent(&self) -> bool {
            true
        }
        fn fit(&self, table: &FeatureTable, train: &[usize]) -> Result<serde_json::Value> {
            let mean =
                train.iter().map(|&r| Self::share(table, r)).sum::<f64>() / train.len() as f64;
            self.fits.lock().unwrap().push((train.to_vec(), mean));
            Ok(serde_json::json!(mean))
        }
        fn apply(
            &self,
            state: &serde_json::Value,
            table: &FeatureTable,
            rows: &[usize],
        ) -> Result<Vec<f64>> {
            let mean = state.as_f64().unwrap();
            Ok(rows.iter().map(|&r| Self::share(table, r) - mean).collect())
        }
    }

    /// Data-dependent derived features are fitted on training rows only: every recorded fit
    /// leaves out at least one outer fold's test rows entirely, none sees all samples, and each
    /// outer fold's fit learned the mean of exactly its training rows — which, derived here by
    /// hand, differs from the whole-table mean a leaky pipeline would have used.
    #[test]
    fn data_dependent_derived_features_are_fitted_inside_the_folds() {
        let s = simulate(90, 1.0, 2.0, 19);
        let derived = CentredTaxon0 {
            fits: std::sync::Mutex::new(Vec::new()),
        };
        let list: [&dyn Derived; 1] = [&derived];
        let r = predict(
            &PredictInput {
                table: &s.table,
                clinical: &s.clinical,
                outcome: &s.outcome,
                groups: None,
                derived: &list,
            },
            &quick(19),
        )
        .unwrap();
        let fits = derived.fits.lock().unwrap();
        let k = r.validation.outer_folds;
        let test_rows =
            |f: usize| -> Vec<usize> { (0..90).filter(|&i| r.predictions[i].fold == f).collect() };
        // Microbiome and combined models, each outer fold: one outer fit and `inner_folds`
        // inner ones.
        assert_eq!(fits.len(), 2 * k * (1 + 5));
        for (train, _) in fits.iter() {
            assert!(train.len() < 90);
            assert!(
                (0..k).any(|f| test_rows(f).iter().all(|i| !train.contains(i))),
                "a fit saw rows of every outer fold"
            );
        }
        let whole = (0..90)
            .map(|i| CentredTaxon0::share(&s.table, i))
            .sum::<f64>()
            / 90.0;
        for f in 0..k {
            let train: Vec<usize> = (0..90).filter(|&i| r.predictions[i].fold != f).collect();
            let by_hand = train
                .iter()
                .map(|&i| CentredTaxon0::share(&s.table, i))
                .sum::<f64>()
                / train.len() as f64;
            let (_, mean) = fits.iter().find(|(t, _)| *t == train).unwrap();
            assert!((mean - by_hand).abs() < 1e-15);
            assert!((mean - whole).abs() > 1e-6, "fold {f}: {mean} vs {whole}");
        }
        // The feature shows up in the stability table as a microbiome column.
        assert!(r.stability.iter().any(|f| f.feature == "centred_taxon0"));
        assert_eq!(r.combined.candidate_features, 2 + 20 + 1);
    }

    #[test]
    fn saved_model_scores_its_own_training_profiles_and_refuses_other_spaces() {
        let s = simulate(100, 1.0, 2.0, 13);
        let config = quick(13);
        let input = input_of(&s);
        let report = predict(&input, &config).unwrap();
        let provenance = provenance(&config);
        let model = fit_final(&input, &config, &report, "resp", "simulated", provenance).unwrap();
        let back: SavedModel =
            serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
        let scores = score(&back, &s.table, &s.clinical, &[]).unwrap();
        // Scoring the training profiles reproduces the fitted model's own predictions.
        let data = Prepared::new(&input).unwrap();
        let all: Vec<usize> = (0..100).collect();
        let (_, fit, _, own) = fit_elastic_net(
            &data,
            &s.outcome,
            None,
            Block::Combined,
            &all,
            &all,
            &config,
            fold_seed(13, 999),
        )
        .unwrap();
        let FittedModel::ElasticNet { coefficients, .. } = &model.model else {
            panic!("elastic net expected")
        };
        assert_eq!(&fit.coefficients, coefficients);
        for (a, b) in scores.scores.iter().zip(&own) {
            assert!((a.score - b).abs() < 1e-12, "{} vs {b}", a.score);
        }
        // A table without most of the model's taxa is refused.
        let few = s.table.select_features(&[0, 1, 2]);
        let e = score(&back, &few, &s.clinical, &[]).unwrap_err();
        assert!(e.to_string().contains("feature space does not fit"), "{e}");
        // A model needing clinical columns refuses without them.
        assert!(
            score(&back, &s.table, &[], &[])
                .unwrap_err()
                .to_string()
                .contains("clinical column")
        );
    }
}

/// The issue's no-leakage check on a real table: GESPIC genera (examples/data/gespic) with the
/// labels shuffled, so nothing can truly be predicted. The nested procedure keeps every model's
/// AUC near 0.5; a deliberately leaky variant — the ten taxa most different between the
/// shuffled classes chosen on all samples before the split, test-only code — looks predictive.
#[cfg(test)]
mod leakage {
    use super::*;
    use gutjoint_table::{ReadOptions, read_metadata_file, read_table};

    fn gespic() -> (FeatureTable, Vec<Option<f64>>) {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/gespic");
        let table = read_table(&root.join("gespic_genus.tsv"), ReadOptions::default())
            .unwrap()
            .table;
        let md = read_metadata_file(&root.join("gespic_metadata.tsv")).unwrap();
        let index = md.index();
        let age = md.column("age").unwrap();
        let ages = table
            .sample_ids()
            .iter()
            .map(|id| {
                index
                    .get(id.as_str())
                    .and_then(|&r| age.text(r))
                    .and_then(|t| t.parse().ok())
            })
            .collect();
        (table, ages)
    }

    /// Welch t of each taxon's CLR between the classes, on every sample (the leak).
    fn leaky_selection(table: &FeatureTable, labels: &[bool], keep: usize) -> Vec<usize> {
        let rel = table.to_relative();
        let pc = crate::da::default_pseudocount(&rel);
        let x = gutjoint_numeric::clr_dense(&rel, pc).unwrap();
        let p = rel.n_features();
        let mut t: Vec<(f64, usize)> = (0..p)
            .map(|f| {
                let stats = |class: bool| {
                    let v: Vec<f64> = (0..labels.len())
                        .filter(|&i| labels[i] == class)
                        .map(|i| x[i * p + f])
                        .collect();
                    let m = v.iter().sum::<f64>() / v.len() as f64;
                    let var = v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
                    (m, var / v.len() as f64)
                };
                let ((m1, s1), (m0, s0)) = (stats(true), stats(false));
                (((m1 - m0) / (s1 + s0).sqrt().max(1e-12)).abs(), f)
            })
            .collect();
        t.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        t.iter().take(keep).map(|v| v.1).collect()
    }

    #[test]
    fn shuffled_labels_stay_near_chance_unless_selection_leaks() {
        let (table, ages) = gespic();
        // 120 samples with a known age; a third "respond", labels shuffled by a seeded draw.
        let rows: Vec<usize> = (0..table.n_samples())
            .filter(|&s| ages[s].is_some())
            .take(120)
            .collect();
        let table = table.select_samples(&rows);
        let mut labels: Vec<bool> = (0..rows.len()).map(|i| i % 3 == 0).collect();
        Rng::new(2024).shuffle(&mut labels);
        let outcome = Outcome::Binary {
            labels: labels.clone(),
            positive: "responder".into(),
        };
        let clinical = vec![ClinicalColumn {
            name: "age".into(),
            values: rows.iter().map(|&s| ages[s]).collect(),
        }];
        let config = PredictConfig {
            l1_ratios: vec![0.5, 1.0],
            n_alphas: 4,
            permutations: 0,
            seed: 3,
            ..PredictConfig::default()
        };
        let honest = predict(
            &PredictInput {
                table: &table,
                clinical: &clinical,
                outcome: &outcome,
                groups: None,
                derived: &[],
            },
            &config,
        )
        .unwrap();
        for m in [&honest.clinical, &honest.microbiome, &honest.combined] {
            let Metrics::Binary(b) = &m.metrics else {
                panic!()
            };
            eprintln!("honest {:?} AUC {:.3}", m.block, b.auc);
            assert!(
                (0.40..=0.60).contains(&b.auc),
                "{:?}: AUC {}",
                m.block,
                b.auc
            );
        }
        let leaked = table.select_features(&leaky_selection(&table, &labels, 10));
        let leaky = predict(
            &PredictInput {
                table: &leaked,
                clinical: &clinical,
                outcome: &outcome,
                groups: None,
                derived: &[],
            },
            &PredictConfig {
                min_prevalence: 0.0,
                ..config
            },
        )
        .unwrap();
        let Metrics::Binary(b) = &leaky.microbiome.metrics else {
            panic!()
        };
        eprintln!("leaky microbiome AUC {:.3}", b.auc);
        assert!(b.auc > 0.60, "leaky AUC {}", b.auc);
    }
}

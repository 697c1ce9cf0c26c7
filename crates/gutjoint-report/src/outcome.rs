/*!
"Does the microbiome predict response?" — the `analyze --outcome` section's results: the three
models of `gutjoint predict` (clinical only, microbiome only, combined) judged by nested
cross-validation, the combined-vs-clinical comparison, the label-permutation p, feature
stability, the warnings and the plain-language verdict. The numbers are those of
`gutjoint predict --json` with the same seed and settings (the pipeline calls the same library
function); the curves (ROC corners, calibration bins, observed against predicted values) are
stored here so the renderer draws them without computing anything.
*/

use crate::real;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The prediction of one outcome from the baseline microbiome and the clinical covariates.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OutcomeSection {
    /// The metadata column predicted.
    pub outcome: String,
    /// `binary` (responder or not) or `continuous` (ΔDAS28, ΔBASDAI …).
    pub kind: String,
    /// The positive level of a binary outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive: Option<String>,
    /// The clinical covariates as the models saw them (numeric columns; categorical ones as
    /// `column=level` indicators).
    pub clinical: Vec<String>,
    /// Samples with an outcome value.
    pub n: usize,
    /// Samples of the positive level (binary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<usize>,
    /// `elastic_net`.
    pub learner: String,
    /// `stratified_k_fold`, `k_fold` or `leave_one_group_out`.
    pub scheme: String,
    pub outer_folds: usize,
    pub inner_folds: usize,
    pub seed: u64,
    /// Clinical only, microbiome only, combined, in this order.
    pub models: Vec<OutcomeModel>,
    /// Combined minus clinical (DeLong's paired test for AUC, paired bootstrap for R²).
    pub combined_vs_clinical: ModelDifference,
    /// Label-permutation p of the microbiome-only model (none when no permutations were run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permutation_p: Option<f64>,
    pub permutations: usize,
    /// The combined model's most often selected features across the outer folds (at most 20,
    /// in `gutjoint predict`'s order: share selected, then |mean weight|).
    pub stability: Vec<StableFeature>,
    /// Too few events per candidate feature, confidence intervals too wide, imputed values.
    pub warnings: Vec<String>,
    /// `added_value`, `no_added_value` or `worse`.
    pub finding: String,
    /// The plain-language verdict, with the numbers behind it.
    pub verdict: String,
    /// Each sample's out-of-fold predictions of a continuous outcome (for the
    /// observed-against-predicted plots); empty for a binary outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<OutcomePrediction>,
}

/// One model's out-of-fold performance: AUC, Brier and calibration for a binary outcome; R²,
/// RMSE and MAE for a continuous one. Field names follow `gutjoint predict --json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OutcomeModel {
    /// `clinical`, `microbiome` or `combined`.
    pub model: String,
    /// Clinical columns plus taxa passing the prevalence filter on all samples.
    pub candidate_features: usize,
    #[serde(flatten)]
    pub metrics: OutcomeMetrics,
}

/// The metrics of one model, by outcome kind.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OutcomeMetrics {
    Binary(BinaryOutcomeMetrics),
    Continuous(ContinuousOutcomeMetrics),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BinaryOutcomeMetrics {
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub auc: f64,
    /// DeLong's 95% CI.
    #[serde(deserialize_with = "real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub auc_ci: [f64; 2],
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub brier: f64,
    /// Calibration-in-the-large (ideal 0).
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub calibration_intercept: f64,
    /// Calibration slope (ideal 1; below 1: predictions too extreme).
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub calibration_slope: f64,
    /// The empirical ROC curve's corners, from (0, 0) to (1, 1).
    pub roc: Vec<RocCorner>,
    /// Uniform-bin calibration curve (scikit-learn's `calibration_curve`, 10 bins).
    pub calibration_curve: Vec<CalibrationPoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ContinuousOutcomeMetrics {
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub r2: f64,
    /// Percentile bootstrap 95% CI.
    #[serde(deserialize_with = "real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub r2_ci: [f64; 2],
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub rmse: f64,
    #[serde(deserialize_with = "real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub rmse_ci: [f64; 2],
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub mae: f64,
    #[serde(deserialize_with = "real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub mae_ci: [f64; 2],
}

/// A corner of the ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RocCorner {
    pub false_positive_rate: f64,
    pub true_positive_rate: f64,
}

/// One non-empty calibration bin: mean predicted probability against the observed share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CalibrationPoint {
    pub mean_predicted: f64,
    pub observed: f64,
    pub count: usize,
}

/// A paired comparison of two models on the same samples.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ModelDifference {
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub delta: f64,
    #[serde(deserialize_with = "real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub ci: [f64; 2],
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub p: f64,
    /// `delong` or `paired_bootstrap`.
    pub method: String,
}

/// How often the combined model chose a feature across the outer folds.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StableFeature {
    pub feature: String,
    /// `clinical` or `microbiome`.
    pub block: String,
    pub selected_share: f64,
    /// Mean standardised coefficient over the folds (0 where not selected).
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub mean_weight: f64,
}

/// One sample's observed outcome and the three models' out-of-fold predictions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OutcomePrediction {
    pub sample: String,
    pub observed: f64,
    pub clinical: f64,
    pub microbiome: f64,
    pub combined: f64,
}

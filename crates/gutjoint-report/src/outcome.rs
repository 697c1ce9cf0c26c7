/*!
"Does the microbiome predict response?" — the `analyze --outcome` section's results. The models,
metrics, comparison, permutation p, feature stability, warnings and out-of-fold predictions are
`gutjoint_stats::predict`'s own [`PredictionReport`] — the type `gutjoint predict --json`
prints for the same inputs, seed and settings — reused here rather than mirrored field by field,
with the plain-language [`Verdict`] both faces print. The section adds only what the report
draws and predict does not compute: each model's ROC curve (binary outcomes), stored so the
renderer draws without computing anything.
*/

use gutjoint_stats::metrics::RocPoint;
use gutjoint_stats::predict::{Block, PredictionReport, Verdict};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The prediction of one outcome from the baseline microbiome and the clinical covariates.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OutcomeSection {
    /// The metadata column predicted.
    pub outcome: String,
    /// The positive level of a binary outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive: Option<String>,
    /// The clinical covariates as the models saw them (numeric columns; categorical ones as
    /// `column=level` indicators).
    pub clinical: Vec<String>,
    /// `gutjoint predict`'s report for these inputs and settings, its feature-stability list
    /// cut to the 20 most often selected features (predict's order: share selected, then
    /// |mean weight|).
    pub prediction: PredictionReport,
    /// The empirical ROC curve of each model's out-of-fold probabilities (binary outcomes;
    /// empty for continuous ones), clinical, microbiome and combined in that order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roc: Vec<RocCurve>,
    /// The plain-language verdict, with the numbers behind it.
    pub verdict: Verdict,
}

/// One model's ROC curve: scikit-learn's `roc_curve(drop_intermediate=False)` corners, from
/// (0, 0) at threshold +∞ (written `null`) to (1, 1).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RocCurve {
    pub model: Block,
    pub points: Vec<RocPoint>,
}

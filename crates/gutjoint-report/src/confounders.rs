/*!
The "Confounders and batches" section of the report: what else differs between the groups
compared, which columns were adjusted for, and — when a column is collinear with the group —
the group comparisons adjusted for it and within its levels, so a reader sees at once whether
a difference survives the batch (GESPIC: every healthy sample in sequencing run 0, most axSpA
samples in run 1). Also which healthy reference the dysbiosis and signature sections used,
with a warning when it is not the cohort's own controls.

These are owned, schema-bearing copies of the analysis' findings (the axis crate's
`ConfounderReport` has no JSON schema and carries per-feature detail the report does not
show); non-finite numbers are stored as `None`.
*/

use crate::{DaSection, PermutationTest};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Everything the section shows.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ConfounderSection {
    /// The control level the comparisons are made against (given, or recognised by name:
    /// healthy, HC, control, controls); `None` when the groups were checked all together.
    pub control: Option<String>,
    /// One check per case group against the control (or one over all groups).
    pub comparisons: Vec<ConfounderComparison>,
    /// `--batch COL`: the batch check and the batch-aware tests.
    pub batch: Option<BatchSection>,
    /// Which healthy reference scored dysbiosis and signatures.
    pub reference: Option<ReferenceChoice>,
}

impl ConfounderSection {
    /// Every warning of the section, in the order the report shows them (the boxes at the top).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(r) = &self.reference
            && let Some(w) = &r.warning
        {
            out.push(w.clone());
        }
        if let Some(b) = &self.batch {
            out.extend(b.warnings.iter().cloned());
        }
        for c in &self.comparisons {
            for col in &c.collinear {
                out.push(col.warning.clone());
            }
        }
        out
    }
}

/// The confounder check of one comparison.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ConfounderComparison {
    /// `axSpA vs healthy`, or `all groups`.
    pub label: String,
    pub case: Option<String>,
    pub control: Option<String>,
    pub samples: usize,
    /// Every other metadata column (tested or not, with why not).
    pub columns: Vec<ConfounderColumn>,
    /// Nuisance and exposure columns recorded in every group and not collinear: adjust for them.
    pub adjust_for: Vec<String>,
    /// Collinear nuisance or exposure columns: compared within their levels.
    pub compare_within: Vec<String>,
    /// The analysis' warnings (missing in one group, biology tracking the disease,
    /// microbiome-moving medications, a column that is the group under another name).
    pub warnings: Vec<String>,
    /// For each collinear nuisance or exposure column: the group comparisons adjusted for it
    /// and within its largest level holding both groups.
    pub collinear: Vec<CollinearCheck>,
}

/// One metadata column against the group.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ConfounderColumn {
    pub column: String,
    /// `categorical` or `numeric`.
    pub kind: String,
    pub levels: usize,
    /// `nuisance`, `exposure`, `biology` or `unknown`.
    pub role: String,
    /// Whether the role was given (else guessed from the name).
    pub role_given: bool,
    /// The microbiome-moving drug class the column names, if any.
    pub medication: Option<String>,
    /// Samples with a value.
    pub n: usize,
    /// Groups in which every value is missing while another group has values.
    pub missing_in_groups: Vec<String>,
    /// `chi_square`, `fisher_exact`, `mann_whitney` or `kruskal_wallis`.
    pub test: Option<String>,
    pub p: Option<f64>,
    /// Benjamini–Hochberg over the columns tested.
    pub q: Option<f64>,
    /// `cramers_v`, `auc` or `max_pairwise_auc`.
    pub effect_size_name: Option<String>,
    pub effect_size: Option<f64>,
    pub collinear: bool,
    pub same_as_group: bool,
    /// Marginal PERMANOVA R² of the column beyond the group (`adonis2(by = "margin")`).
    pub permanova_r2: Option<f64>,
    pub permanova_p: Option<f64>,
    /// The group's marginal R² beyond the column.
    pub group_r2_given_column: Option<f64>,
    /// `adjust`, `adjust_and_compare_within_levels`, `report`, `cannot_adjust`,
    /// `is_the_group` or `not_tested`.
    pub handling: String,
    pub note: Option<String>,
}

/// Samples of each group in one level of a column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LevelCounts {
    pub level: String,
    pub case: usize,
    pub control: usize,
}

/// A column collinear with the group, and the comparisons that take it into account.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CollinearCheck {
    pub column: String,
    pub case: String,
    pub control: String,
    /// The warning box's text.
    pub warning: String,
    pub levels: Vec<LevelCounts>,
    /// PERMANOVA of the group on the samples with a value of the column, unrestricted.
    pub permanova: Option<PermutationTest>,
    /// The same with permutations restricted to the column's levels (vegan's `strata`).
    pub permanova_strata: Option<PermutationTest>,
    /// The largest level holding both groups, where the within-level comparison is made.
    pub within_level: Option<String>,
    /// PERMANOVA of the group within that level only.
    pub permanova_within: Option<PermutationTest>,
    /// Differential abundance of case vs control without the column (same samples).
    pub da_naive: Option<DaSection>,
    /// The same model with `+ C(column)`.
    pub da_adjusted: Option<DaSection>,
    /// The same model within the level only.
    pub da_within: Option<DaSection>,
    /// Why a part could not be computed.
    pub notes: Vec<String>,
}

/// `--batch COL`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchSection {
    pub column: String,
    /// Samples per batch level.
    pub levels: Vec<crate::GroupCount>,
    /// Samples without a batch value.
    pub missing: usize,
    /// Cramér's V of batch against the group.
    pub cramers_v: Option<f64>,
    /// Collinear batch, missing values: the warning boxes.
    pub warnings: Vec<String>,
    /// The sections the batch was added to, in words.
    pub applied_to: Vec<String>,
    /// PERMANOVA of the group with permutations restricted to batches.
    pub permanova_strata: Option<PermutationTest>,
    /// Leave-one-batch-out classifiers, beside the within-cohort AUC.
    pub classifiers: Vec<BatchClassifier>,
    pub notes: Vec<String>,
}

/// One comparison's classifier validated by leaving out one batch at a time.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchClassifier {
    pub case: String,
    pub control: String,
    /// The repeated stratified cross-validation AUC of the classifier section.
    pub within_cohort_auc: Option<f64>,
    /// AUC of all held-out predictions together.
    pub pooled_auc: Option<f64>,
    pub pooled_auc_ci: Option<[f64; 2]>,
    pub held_out: Vec<HeldOutBatch>,
}

/// One held-out batch.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HeldOutBatch {
    pub batch: String,
    pub n: usize,
    pub n_case: usize,
    pub auc: Option<f64>,
    pub note: Option<String>,
}

/// The healthy reference of the dysbiosis and signature sections.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReferenceChoice {
    /// `own_controls` or `built_in`.
    pub kind: String,
    /// The reference's name (`own controls (healthy)`, `gespic-healthy`).
    pub name: String,
    /// The population the reference's healthy samples come from.
    pub reference_population: String,
    /// The cohort's population, from a country/population column of the metadata, else
    /// `unknown`.
    pub cohort_population: String,
    /// The control level and its size, when the cohort's own controls are the reference.
    pub control_level: Option<String>,
    pub n_controls: Option<usize>,
    /// Set when a reference from another population is used.
    pub warning: Option<String>,
}

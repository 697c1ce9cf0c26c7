/*!
The "Change over time" section of `results.json`: what a longitudinal cohort (the same
subjects sampled before and after a drug, a probiotic or a faecal transplant) shows. The
numbers are those of `gutjoint trajectory` and `gutjoint engraftment` (the axis crate's
`trajectory` and `engraftment`), copied field by field so the schema can say which numbers
may be `null` (JSON has no NaN); nothing is computed here.
*/

use crate::real;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Change within subjects over time, by group.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChangeSection {
    /// Metadata column naming each sample's subject.
    pub subject_column: String,
    /// Numeric metadata column with each sample's time.
    pub time_column: String,
    /// The group column (treatment arm), when the analysis has one.
    pub group_column: Option<String>,
    /// The group the others are compared with in the models (the control arm).
    pub control_group: Option<String>,
    /// The healthy reference dysbiosis is measured against, when one could be used.
    pub dysbiosis_reference: Option<String>,
    /// One row per sample with a subject value, in table order.
    pub points: Vec<ChangePoint>,
    /// `metric ~ time * group + (1 | subject)` per metric (REML, Satterthwaite df).
    pub models: Vec<ChangeModel>,
    /// Metrics that got no model, and why.
    pub skipped_models: Vec<String>,
    /// Subjects with a single sample: kept, but they say nothing about change.
    pub single_sample_subjects: Vec<String>,
    /// Analysed samples without a subject value (left out of this section, counted).
    pub samples_without_subject: usize,
    /// Faecal transplants (`--donor`): engraftment per recipient sample.
    pub engraftment: Option<EngraftmentCurves>,
    /// What the knowledge base says the cohort's therapy does, beside what this cohort shows.
    pub therapies: Vec<TherapyExpectation>,
}

/// One sample's place in its subject's trajectory.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChangePoint {
    pub sample: String,
    pub subject: String,
    #[serde(deserialize_with = "real::de")]
    pub time: f64,
    pub group: Option<String>,
    /// Shannon diversity (natural logarithm).
    #[serde(deserialize_with = "real::de")]
    pub shannon: f64,
    /// Median Bray–Curtis distance to the reference's healthy samples.
    pub dysbiosis: Option<f64>,
    /// Bray–Curtis to the subject's first sample (none for that sample).
    pub braycurtis_to_first: Option<f64>,
}

/// One metric's mixed model.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChangeModel {
    pub metric: String,
    pub formula: String,
    pub n_samples: usize,
    pub n_subjects: usize,
    #[serde(deserialize_with = "real::de")]
    pub subject_variance: f64,
    #[serde(deserialize_with = "real::de")]
    pub residual_variance: f64,
    /// The subject variance is estimated at 0.
    pub singular: bool,
    pub terms: Vec<ChangeTerm>,
}

/// One fixed-effect term: estimate, standard error, Satterthwaite df and p.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChangeTerm {
    pub term: String,
    #[serde(deserialize_with = "real::de")]
    pub estimate: f64,
    #[serde(deserialize_with = "real::de")]
    pub se: f64,
    #[serde(deserialize_with = "real::de")]
    pub df: f64,
    #[serde(deserialize_with = "real::de")]
    pub p: f64,
}

/// PEDS and the distance to the donor per recipient sample (feature-level, not strains).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EngraftmentCurves {
    /// Metadata column naming each recipient sample's donor sample.
    pub donor_column: String,
    pub samples: Vec<EngraftmentPoint>,
    /// Subjects left out of the baseline measures, with the reason.
    pub excluded_from_baseline_measures: Vec<String>,
    /// That these measures count features, not strains.
    pub resolution_note: String,
}

/// One recipient sample.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EngraftmentPoint {
    pub sample: String,
    pub subject: String,
    #[serde(deserialize_with = "real::de")]
    pub time: f64,
    pub donor: String,
    /// Proportional engraftment of donor strains (q2-fmt's PEDS): shared with the donor over
    /// present in the donor.
    #[serde(deserialize_with = "real::de")]
    pub peds: f64,
    pub transferred_donor_features: usize,
    pub total_donor_features: usize,
    #[serde(deserialize_with = "real::de")]
    pub braycurtis_to_donor: f64,
    pub is_baseline: bool,
    pub braycurtis_to_baseline: Option<f64>,
}

/// One knowledge-base row about the cohort's therapy and what this cohort shows beside it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TherapyExpectation {
    /// The name in the metadata, `--drugs` or `--therapy` that matched.
    pub named_as: String,
    /// Knowledge-base row id (`TM016`).
    pub id: String,
    pub therapy: String,
    pub therapy_class: String,
    pub disease: String,
    /// What the study found, in the curators' words.
    pub effect: String,
    /// restores, disrupts, predicts_response …
    pub direction: String,
    pub evidence: String,
    pub confidence: String,
    pub citation: String,
    pub doi: String,
    /// What this cohort shows on the comparable measure, in one sentence.
    pub this_cohort: String,
}

/*!
# gutjoint-report — what `gutjoint analyze` hands to people and machines

[`AnalysisResults`] is the versioned schema of `results.json`: every number the analysis
produced, with the parameters and software version that made it. [`render_html`] turns it into
one self-contained HTML file (inline CSS and SVG, no script, no network) that opens, prints and
shares offline. Renderers never compute statistics: summaries such as box-plot quartiles are
computed by the analysis and stored in the results, so the JSON and the picture always agree.
*/

mod html;
mod svg;

pub use html::render_html;

use gutjoint_ecology::PermutationTest;
use gutjoint_table::TableSummary;
use serde::Serialize;

/// Version of the `results.json` layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: &str = "0.1";

/// Everything one `gutjoint analyze` run found.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisResults {
    pub schema_version: &'static str,
    pub software: String,
    pub title: String,
    pub inputs: Inputs,
    pub table: TableSummary,
    pub samples_used: usize,
    pub dropped_not_in_metadata: usize,
    pub dropped_without_group: usize,
    pub groups: Vec<GroupCount>,
    pub alpha: Vec<AlphaByGroup>,
    pub beta_metric: String,
    pub ordination: Ordination,
    pub permanova: Option<PermutationTest>,
    pub permdisp: Option<PermutationTest>,
    pub composition: Composition,
    /// GMHI by group (species-level profiles only).
    pub gmhi: Option<ScoreByGroup>,
    /// Dysbiosis against a healthy reference, by group.
    pub dysbiosis: Option<DysbiosisSection>,
    /// Literature associations re-tested in this cohort.
    pub signatures: Option<SignatureSection>,
    /// Drug–microbe capacities by group.
    pub drugs: Option<Vec<DrugSummary>>,
    /// What is known of the cohort's drugs and the microbiome (knowledge base rows).
    pub therapy_notes: Vec<TherapyNote>,
    /// One-patient view (`--sample`).
    pub patient: Option<PatientView>,
    /// Barrier-related guilds by group and the strongest host associations.
    pub gut_joint: Option<GutJointSection>,
    /// Differential abundance of each group against the reference group.
    pub differential_abundance: Option<DaSection>,
    /// Cross-validated classifiers of each group against the reference group.
    pub classifiers: Option<ClassifierSection>,
    pub methods: Vec<String>,
    pub notes: Vec<String>,
}

/// A per-sample score summarised per group.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreByGroup {
    pub score: String,
    pub groups: Vec<AlphaByGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DysbiosisSection {
    pub reference: String,
    pub population: String,
    pub rank: String,
    /// The reference's 90th percentile of leave-one-out scores: the flag threshold.
    pub threshold: f64,
    pub by_group: Vec<AlphaByGroup>,
    pub flagged: Vec<GroupCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureSection {
    pub reference: String,
    pub diseases: Vec<String>,
    pub rows: Vec<SignatureSummary>,
}

/// One association: how many samples of each group lie on the reported side of the healthy median.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureSummary {
    pub association: String,
    pub taxon: String,
    pub disease: String,
    pub reported_direction: String,
    pub population: String,
    pub citation: String,
    pub doi: String,
    pub confidence: String,
    /// `(group, on reported side, informative samples)`.
    pub by_group: Vec<(String, usize, usize)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrugSummary {
    pub drug: String,
    pub interaction: String,
    pub enzyme: String,
    pub evidence: String,
    pub citation: String,
    pub source: String,
    /// Median capacity per group, when the mechanism is quantifiable.
    pub median_capacity: Vec<(String, f64)>,
    /// `(group, low, typical, high)` call counts.
    pub calls: Vec<(String, usize, usize, usize)>,
    /// For rows that are not quantifiable: what the knowledge base says.
    pub statement: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TherapyNote {
    pub therapy: String,
    pub direction: String,
    pub effect: String,
    pub evidence: String,
    pub confidence: String,
    pub citation: String,
    pub doi: String,
}

/// Where one sample sits.
#[derive(Debug, Clone, Serialize)]
pub struct PatientView {
    pub sample_id: String,
    pub group: String,
    pub gmhi: Option<f64>,
    pub dysbiosis: Option<f64>,
    pub dysbiosis_percentile: Option<f64>,
    pub dysbiosis_flag: Option<bool>,
    pub top_deviating_taxa: Vec<(String, f64)>,
    /// Associations this sample points along: `(taxon, disease, direction, percentile, citation, doi)`.
    pub consistent_signatures: Vec<(String, String, String, f64, String, String)>,
    /// `(drug, interaction, capacity, call, citation)`.
    pub drugs: Vec<(String, String, Option<f64>, String, String)>,
    pub dominant_taxon: Option<(String, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    pub table: String,
    pub metadata: Option<String>,
    pub group_column: Option<String>,
    pub seed: u64,
    pub permutations: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupCount {
    pub group: String,
    pub samples: usize,
}

/// Five-number summary of one alpha metric in one group.
#[derive(Debug, Clone, Serialize)]
pub struct AlphaByGroup {
    pub metric: String,
    pub group: String,
    pub n: usize,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

/// PCoA of the beta-diversity matrix (first axes only).
#[derive(Debug, Clone, Serialize)]
pub struct Ordination {
    pub eigenvalues: Vec<f64>,
    pub proportion_explained: Vec<f64>,
    pub points: Vec<OrdinationPoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrdinationPoint {
    pub sample_id: String,
    pub group: String,
    pub pc1: f64,
    pub pc2: f64,
}

/// Mean relative abundance (percent) of the most abundant taxa per group.
#[derive(Debug, Clone, Serialize)]
pub struct Composition {
    pub rank: String,
    pub taxa: Vec<String>,
    /// `means[g][t]`: group `g`, taxon `t` (the last taxon is "other").
    pub groups: Vec<String>,
    pub means: Vec<Vec<f64>>,
}

/// Quartiles by linear interpolation (numpy's default), from unsorted values.
pub fn five_numbers(values: &[f64]) -> Option<[f64; 5]> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (v.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
    };
    Some([v[0], q(0.25), q(0.5), q(0.75), v[v.len() - 1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_as_numpy() {
        // numpy.percentile([1, 2, 3, 4], [25, 50, 75]) = 1.75, 2.5, 3.25
        assert_eq!(
            five_numbers(&[4.0, 1.0, 3.0, 2.0]),
            Some([1.0, 1.75, 2.5, 3.25, 4.0])
        );
        assert_eq!(five_numbers(&[f64::NAN]), None);
    }
}

/// The gut–joint link: guild abundance by group, and host associations when host variables
/// were given.
#[derive(Debug, Clone, Serialize)]
pub struct GutJointSection {
    /// `(guild, per-group five numbers of its relative abundance)`.
    pub guilds: Vec<(String, Vec<AlphaByGroup>)>,
    pub covariates: String,
    pub associations: Vec<HostAssociation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostAssociation {
    pub feature: String,
    pub host_variable: String,
    pub n: usize,
    pub estimate: f64,
    pub q: f64,
    pub partial_r: f64,
    /// What the knowledge base reports for this taxon, if anything.
    pub literature: Option<String>,
}

/// Per-feature models of the groups with the covariates.
#[derive(Debug, Clone, Serialize)]
pub struct DaSection {
    /// `lm` (linear models on a transform) or `ancombc` (ANCOM-BC).
    pub method: String,
    pub formula: String,
    pub reference: String,
    pub transform: String,
    pub samples: usize,
    pub features: usize,
    /// Every group coefficient: `(feature, term, estimate, p, q)`.
    pub coefficients: Vec<(String, String, f64, f64, f64)>,
}

/// Can the microbiome tell each group from the reference group? Out-of-fold ROC AUC of a
/// classifier on CLR features, with DeLong's 95% CI.
#[derive(Debug, Clone, Serialize)]
pub struct ClassifierSection {
    /// `l1_logistic` or `random_forest`.
    pub model: String,
    pub folds: usize,
    pub repeats: usize,
    pub seed: u64,
    pub comparisons: Vec<ClassifierResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassifierResult {
    pub case: String,
    pub control: String,
    pub n_case: usize,
    pub n_control: usize,
    /// Features used (present in at least 10% of the samples compared).
    pub features: usize,
    pub auc: f64,
    pub auc_ci: [f64; 2],
    /// The features with the largest mean |importance| (logistic: coefficient on the CLR
    /// scale, positive = higher in the case group): `(feature, mean importance, share of fits
    /// that used it)`.
    pub top: Vec<(String, f64, f64)>,
}

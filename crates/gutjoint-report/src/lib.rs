/*!
# gutjoint-report — what `gutjoint analyze` hands to people and machines

[`AnalysisResults`] is the versioned schema of `results.json`: every number the analysis
produced, with the [`Provenance`] that made it (input checksums, knowledge-base checksum,
software version, every parameter and the command that reproduces it). It derives
`Serialize`, `Deserialize` and a JSON Schema, so `results.json` can be read back
([`read_results`]) and re-rendered, and docs/results.schema.json is generated from these types
([`results_schema`]). Every field is named: no positional tuples.

[`render_html`] turns the results into one self-contained HTML file (inline CSS and SVG, no
script, no network) that opens, prints and shares offline. Renderers never compute
statistics: summaries such as box-plot quartiles are computed by the analysis and stored in the
results, so the JSON and the picture always agree, and a report re-rendered from
`results.json` has the bytes of the one the analysis wrote.

JSON has no NaN: a number that is not finite is written as `null` and read back as NaN (the
schema says `number | null` for those fields).
*/

mod html;
mod html_outcome;
mod outcome;
use gutjoint_numeric::real;
mod svg;

mod confounders;
mod html_confounders;
pub use confounders::{
    BatchClassifier, BatchSection, CollinearCheck, ConfounderColumn, ConfounderComparison,
    ConfounderSection, HeldOutBatch, LevelCounts, ReferenceChoice,
};
// Change over time (longitudinal cohorts, #17).
mod change;
mod html_change;
pub use change::{
    ChangeModel, ChangePoint, ChangeSection, ChangeTerm, EngraftmentCurves, EngraftmentPoint,
    TherapyExpectation,
};

pub use gutjoint_axis::pharmaco::{DrugCall, DrugGroupSummary, GroupCalls, GroupMedian};
pub use html::render_html;
pub use outcome::{OutcomeSection, RocCurve};

/// PERMANOVA and PERMDISP as the ecology library reports them: the type `gutjoint permanova
/// --json` prints, reused by the results model rather than mirrored.
pub use gutjoint_ecology::{PermutationMethod, PermutationTest};
use gutjoint_table::TableSummary;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the `results.json` layout, `MAJOR.MINOR`. The major number changes with any
/// change a reader of the previous layout cannot follow (a field renamed, removed or retyped);
/// the minor number with additions only (readers ignore fields they do not know).
/// [`read_results`] refuses another major version.
///
/// 2.0: the PERMANOVA/PERMDISP entries are ecology's `PermutationTest` (same keys as 1.x) and
/// the outcome section holds `gutjoint predict`'s own report (`prediction`), its ROC curves
/// (`roc`) and verdict (`verdict`) instead of a copy of them under other names.
pub const SCHEMA_VERSION: &str = "2.0";

/// Everything one `gutjoint analyze` run found, with the analysis configuration in its
/// provenance (the pipeline's `AnalysisConfig`; any JSON object when read without it).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AnalysisResults<C = serde_json::Value> {
    /// [`SCHEMA_VERSION`] of the program that wrote the file; readers accept the same major
    /// version (the pattern follows the major number of [`SCHEMA_VERSION`]).
    #[schemars(regex(pattern = r"^2\.[0-9]+$"))]
    pub schema_version: String,
    /// Name and version of the program that wrote the file (`gutjoint 0.1.0`).
    pub software: String,
    pub title: String,
    /// What produced these results, exactly enough to reproduce them.
    pub provenance: Provenance<C>,
    /// The inputs in short, as the report's Data section shows them.
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
    pub drugs: Option<Vec<DrugGroupSummary>>,
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
    /// Confounders and batches: other columns against the group, collinear-column checks,
    /// `--batch`, and which healthy reference was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confounders: Option<ConfounderSection>,
    /// Change over time within subjects (`--subject`, `--time`): trajectories, mixed models,
    /// engraftment and the therapy's expected effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeSection>,
    /// Does the microbiome predict response? (`analyze --outcome`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeSection>,
}

/// Where a set of results came from (in the spirit of QIIME 2's provenance): enough to say
/// exactly which inputs, knowledge and settings produced them, and how to run it again. It
/// holds no time stamp and no absolute path the user did not give, so the same inputs and seed
/// give the same bytes.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Provenance<C = serde_json::Value> {
    /// Name and version of the program (`gutjoint 0.1.0`).
    pub software: String,
    /// A `gutjoint` command line that reproduces these results, run from the folder the paths
    /// are relative to (input paths inside the output folder are written relative to it).
    pub command: String,
    /// Every setting of the analysis, defaults included.
    pub parameters: C,
    /// Every file the analysis read besides its built-in knowledge: table(s), metadata, tree,
    /// taxonomy, reference file.
    pub inputs: Vec<InputFile>,
    /// The healthy reference used, when one was (a built-in name or the reference file).
    pub reference: Option<ReferenceUsed>,
    /// The knowledge base and run-time knowledge tables the analysis used.
    pub knowledge_base: KnowledgeBaseDigest,
}

/// One input file and its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InputFile {
    /// What the file is to the analysis.
    pub role: InputRole,
    /// The path as given (relative to the output folder when inside it).
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
}

/// The part a file plays in the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InputRole {
    Table,
    Metadata,
    Tree,
    Taxonomy,
    Reference,
}

impl InputRole {
    /// The role in words, as the report shows it.
    pub fn name(self) -> &'static str {
        match self {
            InputRole::Table => "feature table",
            InputRole::Metadata => "metadata",
            InputRole::Tree => "tree",
            InputRole::Taxonomy => "taxonomy",
            InputRole::Reference => "reference file",
        }
    }
}

/// The healthy reference of the dysbiosis, signature and drug sections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReferenceUsed {
    /// A built-in name (`gmhi-healthy`) or the reference file's path.
    pub name: String,
    /// SHA-256 of the reference file's bytes (the built-in copy's for a built-in name).
    pub sha256: String,
}

/// The knowledge the analysis used: which copy, and a checksum of every table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KnowledgeBaseDigest {
    /// Which copy: `built into gutjoint 0.1.0`, or `assets folder` (GUTJOINT_ASSETS).
    pub version: String,
    /// SHA-256 over the tables in the order listed, each as its name, a NUL byte, its bytes
    /// and a NUL byte: one number that changes when any table changes.
    pub sha256: String,
    /// Each table with its own checksum, in a fixed order.
    pub tables: Vec<KnowledgeTable>,
}

/// One knowledge table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KnowledgeTable {
    /// Its path in an assets folder (`knowledge/taxon_disease.tsv`).
    pub name: String,
    /// Data rows (lines after the header).
    pub rows: usize,
    pub sha256: String,
}

/// Why a results file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{origin}: not JSON: {source}")]
    Json {
        origin: String,
        source: serde_json::Error,
    },
    #[error("{origin}: no schema_version: not a gutjoint results file")]
    NoVersion { origin: String },
    #[error(
        "{origin}: results schema version {found}, but this gutjoint ({software}) reads schema version {supported} (major version {major}); re-run the analysis with this version, or read the file with the version that wrote it"
    )]
    Version {
        origin: String,
        found: String,
        supported: &'static str,
        major: String,
        software: String,
    },
    #[error("{origin}: does not follow results schema {version}: {source}")]
    Layout {
        origin: String,
        version: String,
        source: serde_json::Error,
    },
}

/// The major part of a `MAJOR.MINOR` version.
fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// Reads a `results.json` text; `origin` (the file name) prefixes every error. A file written
/// with another major schema version is refused with both versions named.
pub fn read_results<C: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
    software: &str,
) -> Result<AnalysisResults<C>, ReadError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|source| ReadError::Json {
            origin: origin.into(),
            source,
        })?;
    let found = value
        .get("schema_version")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| ReadError::NoVersion {
            origin: origin.into(),
        })?
        .to_string();
    if major(&found) != major(SCHEMA_VERSION) {
        return Err(ReadError::Version {
            origin: origin.into(),
            found,
            supported: SCHEMA_VERSION,
            major: major(SCHEMA_VERSION).into(),
            software: software.into(),
        });
    }
    serde_json::from_value(value).map_err(|source| ReadError::Layout {
        origin: origin.into(),
        version: found,
        source,
    })
}

/// The JSON Schema (draft 2020-12) of `results.json` with configuration type `C`, as pretty
/// JSON with a final newline: the text of docs/results.schema.json.
pub fn results_schema<C: JsonSchema>() -> String {
    let mut schema = schemars::schema_for!(AnalysisResults<C>);
    schema.insert(
        "$id".into(),
        format!("https://gutjoint.invalid/results/{SCHEMA_VERSION}").into(),
    );
    schema.insert(
        "title".into(),
        format!("gutjoint results.json, schema version {SCHEMA_VERSION}").into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// A per-sample score summarised per group.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ScoreByGroup {
    pub score: String,
    pub groups: Vec<AlphaByGroup>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DysbiosisSection {
    pub reference: String,
    pub population: String,
    pub rank: String,
    /// The reference's 90th percentile of leave-one-out scores: the flag threshold.
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub threshold: f64,
    pub by_group: Vec<AlphaByGroup>,
    pub flagged: Vec<GroupCount>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SignatureSection {
    pub reference: String,
    pub diseases: Vec<String>,
    pub rows: Vec<SignatureSummary>,
}

/// One association: how many samples of each group lie on the reported side of the healthy median.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SignatureSummary {
    pub association: String,
    pub taxon: String,
    pub disease: String,
    pub reported_direction: String,
    pub population: String,
    pub citation: String,
    pub doi: String,
    pub confidence: String,
    pub by_group: Vec<SignatureTally>,
}

/// One group's count for one association.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SignatureTally {
    pub group: String,
    /// Samples whose abundance lies on the reported side of the healthy median.
    pub on_reported_side: usize,
    /// Samples that could be placed (ties and unreadable ranks left out).
    pub informative: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PatientView {
    pub sample_id: String,
    pub group: String,
    pub gmhi: Option<f64>,
    pub dysbiosis: Option<f64>,
    pub dysbiosis_percentile: Option<f64>,
    pub dysbiosis_flag: Option<bool>,
    /// The taxa whose CLR abundance lies furthest from the reference, largest first.
    pub top_deviating_taxa: Vec<TaxonDeviation>,
    /// Associations this sample points along.
    pub consistent_signatures: Vec<PatientSignature>,
    /// This sample's drug calls (the drug section's rows for this sample).
    pub drugs: Vec<DrugCall>,
    pub dominant_taxon: Option<DominantTaxon>,
}

/// A taxon's distance from the reference, in reference standard deviations of CLR abundance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaxonDeviation {
    pub taxon: String,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub z: f64,
}

/// A literature association one sample points along.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PatientSignature {
    pub taxon: String,
    pub disease: String,
    pub reported_direction: String,
    /// The sample's abundance percentile among the reference's healthy samples.
    pub percentile: Option<f64>,
    pub citation: String,
    pub doi: String,
}

/// The most abundant taxon of a sample and its share (0–1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DominantTaxon {
    pub taxon: String,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub share: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Inputs {
    /// The table path(s), comma-separated.
    pub table: String,
    pub metadata: Option<String>,
    pub group_column: Option<String>,
    pub seed: u64,
    pub permutations: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GroupCount {
    pub group: String,
    pub samples: usize,
}

/// Five-number summary of one alpha metric in one group.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AlphaByGroup {
    pub metric: String,
    pub group: String,
    pub n: usize,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub min: f64,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub q1: f64,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub median: f64,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub q3: f64,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub max: f64,
}

/// PCoA of the beta-diversity matrix (first axes only).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Ordination {
    #[serde(deserialize_with = "real::de_vec")]
    #[schemars(with = "Vec<Option<f64>>")]
    pub eigenvalues: Vec<f64>,
    #[serde(deserialize_with = "real::de_vec")]
    #[schemars(with = "Vec<Option<f64>>")]
    pub proportion_explained: Vec<f64>,
    pub points: Vec<OrdinationPoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrdinationPoint {
    pub sample_id: String,
    pub group: String,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub pc1: f64,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub pc2: f64,
}

/// Mean relative abundance (percent) of the most abundant taxa per group.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Composition {
    pub rank: String,
    /// The taxa shown; the last one is "other".
    pub taxa: Vec<String>,
    pub groups: Vec<String>,
    /// `means[g][t]`: group `g`, taxon `t`, percent.
    #[serde(deserialize_with = "real::de_matrix")]
    #[schemars(with = "Vec<Vec<Option<f64>>>")]
    pub means: Vec<Vec<f64>>,
}

/// Quartiles by linear interpolation (the numeric room's rule, NumPy's default), from unsorted
/// values.
pub fn five_numbers(values: &[f64]) -> Option<[f64; 5]> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| gutjoint_numeric::quantile_sorted(&v, p);
    Some([v[0], q(0.25), q(0.5), q(0.75), v[v.len() - 1]])
}

/// The gut–joint link: guild abundance by group, and host associations when host variables
/// were given.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GutJointSection {
    pub guilds: Vec<GuildByGroup>,
    pub covariates: String,
    pub associations: Vec<HostAssociation>,
}

/// One guild's relative abundance summarised per group.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GuildByGroup {
    pub guild: String,
    pub groups: Vec<AlphaByGroup>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HostAssociation {
    pub feature: String,
    pub host_variable: String,
    pub n: usize,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub estimate: f64,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub q: f64,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub partial_r: f64,
    /// What the knowledge base reports for this taxon, if anything.
    pub literature: Option<String>,
}

/// Per-feature models of the groups with the covariates.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DaSection {
    /// `lm` (linear models on a transform) or `ancombc` (ANCOM-BC).
    pub method: String,
    pub formula: String,
    pub reference: String,
    pub transform: String,
    pub samples: usize,
    pub features: usize,
    /// Every group coefficient.
    pub coefficients: Vec<DaCoefficient>,
}

/// One feature's coefficient for one group term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DaCoefficient {
    pub feature: String,
    /// The model term (`group[T.AS]`).
    pub term: String,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub estimate: f64,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub p: f64,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub q: f64,
}

/// Can the microbiome tell each group from the reference group? Out-of-fold ROC AUC of a
/// classifier on CLR features, with DeLong's 95% CI.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ClassifierSection {
    /// `l1_logistic` or `random_forest`.
    pub model: String,
    pub folds: usize,
    pub repeats: usize,
    pub seed: u64,
    pub comparisons: Vec<ClassifierResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ClassifierResult {
    pub case: String,
    pub control: String,
    pub n_case: usize,
    pub n_control: usize,
    /// Features used (present in at least 10% of the samples compared).
    pub features: usize,
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub auc: f64,
    #[serde(deserialize_with = "real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub auc_ci: [f64; 2],
    /// The features with the largest mean |importance|.
    pub top: Vec<FeatureImportance>,
}

/// A feature's weight in a classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FeatureImportance {
    pub feature: String,
    /// Mean importance over the fits (logistic: coefficient on the CLR scale, positive =
    /// higher in the case group).
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub importance: f64,
    /// Share of the fits that used the feature.
    #[serde(deserialize_with = "real::de")]
    #[schemars(with = "Option<f64>")]
    pub selected: f64,
}

#[cfg(test)]
mod tests;

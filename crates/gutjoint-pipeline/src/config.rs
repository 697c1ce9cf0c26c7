//! What an analysis is asked to do: one plain serde struct, the same for every face. The
//! command line builds it from its flags, the service from a JSON body, Python from keyword
//! arguments; defaults live here once.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The settings of one analysis. Paths are read as given (relative to the process's working
/// directory). Unknown fields are refused when deserialising, so a misspelt setting is an
/// error rather than a silently used default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisConfig {
    /// The feature table (BIOM, QIIME 2 .qza, MetaPhlAn, TSV/CSV); several MetaPhlAn profiles
    /// are merged.
    pub table: Vec<PathBuf>,
    /// Table format, skipping sniffing: biom-hdf5, biom-json, qza, metaphlan, tsv, csv.
    pub format: Option<String>,
    /// Plain TSV/CSV with samples as rows and features as columns.
    pub samples_as_rows: bool,
    /// Work at this rank (domain … species): MetaPhlAn rows of that rank are kept, other
    /// tables are collapsed by lineage.
    pub rank: Option<String>,
    /// Taxonomy file for the features (QIIME 2 `Feature ID<TAB>Taxon` or one column per rank).
    pub taxonomy: Option<PathBuf>,
    /// QIIME 2 metadata file; samples not in it are left out (and counted).
    pub metadata: Option<PathBuf>,
    /// Metadata column defining the groups compared.
    pub group: Option<String>,
    /// Beta-diversity metric of the ordination and the tests (scikit-bio's names).
    pub metric: String,
    /// Newick tree (enables faith_pd and the UniFrac metrics).
    pub tree: Option<PathBuf>,
    /// Permutations of PERMANOVA and PERMDISP.
    pub permutations: usize,
    /// Seed of every permutation, fold assignment and forest.
    pub seed: u64,
    /// Healthy reference: a built-in name or a reference file (default: gmhi-healthy for
    /// species-level tables, gespic-healthy for others).
    pub reference: Option<String>,
    /// Population of the reference to compare with.
    pub population: Option<String>,
    /// Metadata column listing each sample's drugs.
    pub medication_column: Option<String>,
    /// Drugs scored for every sample.
    pub drugs: Vec<String>,
    /// Numeric metadata columns (CRP, BASDAI …) for the gut–joint associations.
    pub host_variables: Vec<String>,
    /// Covariates of the host associations and differential abundance (`age + C(sex)`).
    pub covariates: Option<String>,
    /// Differential-abundance model.
    pub da_method: DaMethod,
    /// Classifier of each group against the reference group.
    pub classifier: ClassifierModel,
    /// One-patient view of this sample.
    pub sample: Option<String>,
    /// Report title.
    pub title: String,
    /// Batch column (sequencing run, centre, study): added to the differential-abundance and
    /// host-association models as `C(batch)`, PERMANOVA re-run with permutations within
    /// batches, classifiers validated leaving one batch out. One level, or a group entirely
    /// explained by the batch, is an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// The group's control level (default: a level named healthy, HC, control or controls):
    /// dysbiosis and signatures are scored against these samples, each scored leave-one-out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    // The change-over-time settings are left out of the written configuration when unset,
    // so the provenance (and report) of an analysis without them keeps its bytes.
    /// Metadata column naming each sample's subject: with `time`, adds the "Change over
    /// time" section (trajectories per subject and mixed models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Numeric metadata column with each sample's time (days, weeks or visit number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Metadata column naming each recipient sample's donor sample (faecal transplants):
    /// adds engraftment (PEDS) per recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub donor: Option<String>,
    /// The intervention studied (probiotic, FMT, anti-TNF …), when neither the metadata nor
    /// `drugs` names it: the knowledge base's rows for it stand beside what the cohort shows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub therapy: Vec<String>,
    /// The disease the cohort is about (a code or name, e.g. RA), as `gutjoint drugs
    /// --disease`: the drugs' pharmacology is read for it, and a mechanism acting only on a
    /// moiety that is not the active one in it is called `not relevant`. Default: the one
    /// disease the group's levels name (none when they name several or none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disease: Option<String>,
    /// Predict this outcome from the baseline microbiome and clinical covariates ("Does the
    /// microbiome predict response?"); absent: no such section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<crate::OutcomeConfig>,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            table: Vec::new(),
            format: None,
            samples_as_rows: false,
            rank: None,
            taxonomy: None,
            metadata: None,
            group: None,
            metric: "braycurtis".into(),
            tree: None,
            permutations: 999,
            seed: 0,
            reference: None,
            population: None,
            medication_column: None,
            drugs: Vec::new(),
            host_variables: Vec::new(),
            covariates: None,
            da_method: DaMethod::default(),
            classifier: ClassifierModel::default(),
            sample: None,
            title: "gutjoint report".into(),
            batch: None,
            control: None,
            subject: None,
            time: None,
            donor: None,
            therapy: Vec::new(),
            disease: None,
            outcome: None,
        }
    }
}

/// Differential-abundance models. The serde names are the canonical ones; aliases are
/// accepted when reading.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DaMethod {
    /// Per-feature linear models on log10(relative abundance + pseudocount).
    #[default]
    Lm,
    /// ANCOM-BC (Lin & Peddada 2020) on the table's own values.
    #[serde(alias = "ancom-bc", alias = "ancom_bc")]
    Ancombc,
}

impl DaMethod {
    /// Every model with its canonical name.
    pub const ALL: [DaMethod; 2] = [DaMethod::Lm, DaMethod::Ancombc];

    pub fn name(self) -> &'static str {
        match self {
            DaMethod::Lm => "lm",
            DaMethod::Ancombc => "ancombc",
        }
    }
}

/// Classifiers of a group against the reference group.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ClassifierModel {
    /// L1-regularised logistic regression (liblinear's objective, C = 1).
    #[default]
    #[serde(alias = "l1-logistic", alias = "l1", alias = "lasso")]
    L1Logistic,
    /// Random forest of 500 trees (scikit-learn's defaults).
    #[serde(alias = "random-forest", alias = "rf")]
    RandomForest,
    /// No classifier section.
    None,
}

impl ClassifierModel {
    pub const ALL: [ClassifierModel; 3] = [
        ClassifierModel::L1Logistic,
        ClassifierModel::RandomForest,
        ClassifierModel::None,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ClassifierModel::L1Logistic => "l1_logistic",
            ClassifierModel::RandomForest => "random_forest",
            ClassifierModel::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_fields_and_aliases_read() {
        let c: AnalysisConfig = serde_json::from_str(
            r#"{"table": ["t.tsv"], "da_method": "ancom-bc", "classifier": "rf"}"#,
        )
        .expect("valid config");
        assert_eq!(c.permutations, 999);
        assert_eq!(c.metric, "braycurtis");
        assert_eq!(c.da_method, DaMethod::Ancombc);
        assert_eq!(c.classifier, ClassifierModel::RandomForest);
        let back: AnalysisConfig =
            serde_json::from_str(&serde_json::to_string(&c).expect("serialises"))
                .expect("reads back");
        assert_eq!(back, c);
    }

    #[test]
    fn a_misspelt_setting_is_refused() {
        let e = serde_json::from_str::<AnalysisConfig>(r#"{"permutation": 9}"#)
            .expect_err("unknown field");
        assert!(e.to_string().contains("unknown field `permutation`"), "{e}");
    }
}

/*!
What else differs between patients and controls? Disease-vs-healthy microbiome contrasts are
notoriously confounded by sequencing batches and drugs (Forslund et al. 2021, Nature 600:500;
Vujkovic-Cvijin et al. 2020, Nature 587:448): in GESPIC all healthy samples sit in sequencing
run 0 and most axSpA samples in run 1. This room checks every other metadata column against the
group before anything is called a disease effect.

Per column: its kind; its association with the group — Pearson's chi-square, or Fisher's exact
test for a 2 × 2 table with an expected count under 5, for a categorical column (effect size
Cramér's V); Mann–Whitney for a numeric column between two groups (effect size the AUC of the
column for telling case from control), Kruskal–Wallis for more groups (effect size the largest
pairwise AUC, folded to ≥ 0.5) — with p and q (Benjamini–Hochberg over columns). A column is
**collinear** with the group when it alone nearly separates the groups: Cramér's V ≥ 0.7 or a
(folded) AUC ≥ 0.8 ([`COLLINEAR_CRAMERS_V`], [`COLLINEAR_AUC`]). Those thresholds mark where
adjusting for the column can no longer be told apart from removing the disease effect (a V of
0.7 means the column's levels reproduce the grouping for most samples); the report then asks
for within-level comparisons instead. With a distance matrix, the column's marginal PERMANOVA
(`adonis2(d ~ group + column, by = "margin")`) says how much community variation it explains
beyond the group, and how much the group explains beyond it.

Columns have **roles** ([`Role`]): a nuisance (sequencing run, study, centre; age, sex and BMI
are adjusted like one) is adjusted for; an exposure (medication, diet, smoking) is adjusted for
and named; a biological column (HLA-B27, disease activity, CRP) that tracks the disease is part
of what the disease is and is reported, never adjusted away unless its role is overridden.
Roles are guessed from the column's name and can be given. A column recorded for one group and
missing for another (a medication asked of patients only) cannot be adjusted for: it is a
warning, not a silently dropped covariate. Medications known to move the gut microbiome
(proton-pump inhibitors, antibiotics, metformin, laxatives, SSRIs, statins, glucocorticoids;
Vich Vila et al. 2020, Nat Commun 11:362; Forslund et al. 2021) are recognised by name
([`recognise_medication`]).

Per feature, a metadeconfoundR-style status (Birkner et al., bioRxiv 2023; Forslund et al.
2021): a feature that differs by group (Mann–Whitney / Kruskal–Wallis, q below the threshold)
is tested against each candidate confounder — a nuisance or exposure column associated with the
group — by the likelihood-ratio test of `feature ~ column + group` against `feature ~ column`.
It is `deconfounded` when the group effect survives every candidate, `confounded` (by the
columns named) when it does not survive one of them, `not significant` when there was no
group difference to explain. Unlike metadeconfoundR, every group-associated candidate is
tested, whether or not it is itself associated with the feature (more conservative).
*/

use crate::error::{Error, Result};
use gutjoint_ecology::{MarginalTerm, ModelTerm, permanova_margin};
use gutjoint_stats::group_tests::{
    chi_square, fisher_exact, kruskal_wallis, lr_test, mann_whitney,
};
use gutjoint_stats::{Adjust, Term, adjust, design};
use gutjoint_table::{Column, DistanceMatrix, Metadata};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Cramér's V at or above which a categorical column counts as collinear with the group.
pub const COLLINEAR_CRAMERS_V: f64 = 0.7;
/// AUC (folded to ≥ 0.5) at or above which a numeric column counts as collinear.
pub const COLLINEAR_AUC: f64 = 0.8;
/// A numeric column with at most this many distinct values is treated as categorical
/// (0/1 flags, sex coded 1/2, sequencing runs 0/1/2).
pub const MAX_CODED_LEVELS: usize = 5;

/// What a column is, for deciding whether to adjust for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Technical or demographic: sequencing run, study, centre, age, sex, BMI. Adjusted for.
    Nuisance,
    /// Something the host takes or does: medication, diet, smoking. Adjusted for and named.
    Exposure,
    /// Part of the disease: HLA-B27, activity scores, CRP. Reported, not adjusted for.
    Biology,
    /// Not recognised: reported; give its role to have it adjusted.
    Unknown,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "nuisance" | "batch" | "technical" => Role::Nuisance,
            "exposure" | "medication" | "drug" => Role::Exposure,
            "biology" | "biological" | "disease" => Role::Biology,
            "unknown" => Role::Unknown,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Role::Nuisance => "nuisance",
            Role::Exposure => "exposure",
            Role::Biology => "biology",
            Role::Unknown => "unknown",
        }
    }
}

/// Drug classes known to move the gut microbiome (Vich Vila et al. 2020, Nat Commun 11:362;
/// Forslund et al. 2021, Nature 600:500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MedicationClass {
    ProtonPumpInhibitor,
    Antibiotic,
    Metformin,
    Laxative,
    Ssri,
    Statin,
    Glucocorticoid,
}

impl MedicationClass {
    pub fn label(self) -> &'static str {
        match self {
            MedicationClass::ProtonPumpInhibitor => "proton-pump inhibitor",
            MedicationClass::Antibiotic => "antibiotic",
            MedicationClass::Metformin => "metformin",
            MedicationClass::Laxative => "laxative",
            MedicationClass::Ssri => "SSRI",
            MedicationClass::Statin => "statin",
            MedicationClass::Glucocorticoid => "glucocorticoid",
        }
    }
}

/// Lower-case alphanumeric tokens of a name (`clin.PPIs` → `clin`, `ppis`).
fn tokens(name: &str) -> Vec<String> {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether a token is `word` or its plural.
fn is_word(token: &str, word: &str) -> bool {
    token == word || token.strip_suffix('s') == Some(word)
}

/// The microbiome-moving drug class a metadata column or a drug name refers to, if any:
/// class names and abbreviations used in clinical metadata (`PPIs`, `ATB_prev`,
/// `cortis_current`) and the common drugs of each class by generic name.
pub fn recognise_medication(name: &str) -> Option<MedicationClass> {
    use MedicationClass::*;
    let lower = name.to_lowercase();
    let toks = tokens(name);
    let any_word = |words: &[&str]| toks.iter().any(|t| words.iter().any(|w| is_word(t, w)));
    let any_part = |parts: &[&str]| parts.iter().any(|p| lower.contains(p));
    if any_word(&["ppi", "ppis"]) || any_part(&["proton pump", "proton-pump", "prazole"]) {
        return Some(ProtonPumpInhibitor);
    }
    if any_word(&["atb", "abx"])
        || any_part(&[
            "antibiot",
            "amoxicillin",
            "penicillin",
            "cillin",
            "mycin",
            "cycline",
            "floxacin",
            "cephalosporin",
            "metronidazole",
            "trimethoprim",
            "sulfamethoxazole",
            "rifaximin",
        ])
    {
        return Some(Antibiotic);
    }
    if any_part(&["metformin", "biguanide"]) {
        return Some(Metformin);
    }
    if any_part(&[
        "laxative",
        "macrogol",
        "lactulose",
        "polyethylene glycol",
        "bisacodyl",
        "senna",
    ]) {
        return Some(Laxative);
    }
    if any_word(&["ssri"])
        || any_part(&[
            "sertraline",
            "fluoxetine",
            "citalopram",
            "paroxetine",
            "fluvoxamine",
            "serotonin reuptake",
        ])
    {
        return Some(Ssri);
    }
    if toks
        .iter()
        .any(|t| (t.ends_with("statin") || t.ends_with("statins")) && !t.starts_with("nystatin"))
    {
        return Some(Statin);
    }
    if any_word(&["cortis", "steroid"])
        || any_part(&[
            "cortico",
            "glucocort",
            "prednis",
            "methylpred",
            "dexameth",
            "budesonide",
            "hydrocortisone",
        ])
    {
        return Some(Glucocorticoid);
    }
    None
}

/// A role guessed from a column's name, with the reason.
fn guess_role(name: &str) -> (Role, String) {
    if let Some(class) = recognise_medication(name) {
        return (
            Role::Exposure,
            format!("a {} (moves the gut microbiome)", class.label()),
        );
    }
    let lower = name.to_lowercase();
    let toks = tokens(name);
    let word = |ws: &[&str]| toks.iter().any(|t| ws.iter().any(|w| is_word(t, w)));
    let part = |ps: &[&str]| ps.iter().any(|p| lower.contains(p));
    if word(&[
        "seqexp",
        "run",
        "batch",
        "plate",
        "lane",
        "study",
        "cohort",
        "centre",
        "center",
        "site",
        "libsize",
        "library",
        "depth",
        "extraction",
        "kit",
        "country",
        "platform",
        "seqtech",
        "project",
        "sequencer",
    ]) || part(&["sequencing", "batch", "seqrun"])
    {
        return (
            Role::Nuisance,
            "technical (sequencing run, batch, study or site)".into(),
        );
    }
    if word(&["age", "sex", "gender", "bmi"]) {
        return (
            Role::Nuisance,
            "demographic (adjusted like a nuisance)".into(),
        );
    }
    if word(&[
        "nsaid",
        "dmard",
        "bdmard",
        "csdmard",
        "tsdmard",
        "biologic",
        "tnf",
        "tnfi",
        "mtx",
        "methotrexate",
        "sulfasalazine",
        "ssz",
        "meds",
        "drug",
        "therapy",
        "treatment",
        "monother",
        "polyther",
        "anymeds",
        "smoker",
        "smoking",
        "diet",
        "alcohol",
    ]) || part(&["dmard", "alcohol", "smok", "diet", "medicat"])
    {
        return (Role::Exposure, "medication or lifestyle exposure".into());
    }
    if word(&[
        "crp",
        "esr",
        "basdai",
        "asdas",
        "basfi",
        "das28",
        "cdai",
        "sdai",
        "haq",
        "hbi",
        "cd",
        "aau",
        "psa",
        "spa",
        "ra",
        "as",
        "ibd",
        "uc",
        "activity",
        "duration",
        "diagnosis",
        "disease",
        "scfa",
        "trp",
    ]) || part(&[
        "hla",
        "calprotectin",
        "uveitis",
        "activity",
        "arthritis",
        "enthes",
        "dactyl",
        "psoria",
        "crohn",
        "colitis",
    ]) {
        return (
            Role::Biology,
            "part of the disease or its activity (reported, not adjusted for)".into(),
        );
    }
    (
        Role::Unknown,
        "not recognised; give its role to have it adjusted for".into(),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VariableKind {
    Categorical,
    Numeric,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssociationTest {
    ChiSquare,
    FisherExact,
    MannWhitney,
    KruskalWallis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectSize {
    CramersV,
    /// AUC of the column for telling case (first group) from control; 0.5 = no separation.
    Auc,
    /// Largest pairwise AUC between groups, folded to ≥ 0.5 (more than two groups).
    MaxPairwiseAuc,
}

/// What the analysis does with a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handling {
    /// A nuisance or exposure: add it to the models.
    Adjust,
    /// Collinear with the group: adjusting removes most of the group contrast, so compare
    /// within its levels as well.
    AdjustAndCompareWithinLevels,
    /// Biology or unknown role: reported, not adjusted for.
    Report,
    /// Recorded for some groups only: cannot be adjusted for.
    CannotAdjust,
    /// The same partition as the group under another name.
    IsTheGroup,
    /// Constant or empty among the samples used.
    NotTested,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMissing {
    pub group: String,
    pub n: usize,
    pub missing: usize,
}

/// `adonis2(d ~ group + column, by = "margin")` on the samples with both values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnPermanova {
    pub n: usize,
    /// The column's contribution beyond the group.
    pub column: MarginalTerm,
    /// The group's contribution beyond the column.
    pub group: MarginalTerm,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnReport {
    pub column: String,
    pub kind: VariableKind,
    /// Distinct values among the samples used.
    pub levels: usize,
    pub role: Role,
    /// Whether the role was given (`true`) or guessed from the name.
    pub role_given: bool,
    pub role_reason: String,
    pub medication: Option<MedicationClass>,
    /// Samples with a value.
    pub n: usize,
    pub missing_by_group: Vec<GroupMissing>,
    /// Groups in which every value is missing while another group has values.
    pub missing_in_groups: Vec<String>,
    pub test: Option<AssociationTest>,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    pub q_value: Option<f64>,
    pub effect_size_name: Option<EffectSize>,
    pub effect_size: Option<f64>,
    pub collinear: bool,
    pub same_as_group: bool,
    pub permanova: Option<ColumnPermanova>,
    pub handling: Handling,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCount {
    pub level: String,
    pub n: usize,
}

/// A microbiome-moving medication found in the metadata or the drug list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicationMention {
    pub name: String,
    pub class: MedicationClass,
    /// `metadata column` or `drug list`.
    pub found_in: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureVerdict {
    NotSignificant,
    Deconfounded,
    Confounded,
}

/// One nested-model likelihood-ratio test: `feature ~ column + group` vs `feature ~ column`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfounderTest {
    pub column: String,
    pub n: usize,
    pub statistic: f64,
    pub df: usize,
    pub p_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStatus {
    pub feature: String,
    /// The naive group test (Mann–Whitney / Kruskal–Wallis) and its q over features.
    pub naive_p: f64,
    pub naive_q: f64,
    /// Case vs control AUC of the feature (two groups), else `None`.
    pub auc: Option<f64>,
    pub status: FeatureVerdict,
    pub confounded_by: Vec<String>,
    pub tests: Vec<ConfounderTest>,
}

/// Thresholds the report used (so a reader can see them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub collinear_cramers_v: f64,
    pub collinear_auc: f64,
    /// p under which a column counts as associated with the group (a candidate confounder).
    pub alpha: f64,
    /// q under which a feature counts as differing by group.
    pub feature_q: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            collinear_cramers_v: COLLINEAR_CRAMERS_V,
            collinear_auc: COLLINEAR_AUC,
            alpha: 0.05,
            feature_q: 0.1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfounderReport {
    pub group_column: String,
    pub case: Option<String>,
    pub control: Option<String>,
    pub groups: Vec<GroupCount>,
    pub n_samples: usize,
    pub thresholds: Thresholds,
    pub columns: Vec<ColumnReport>,
    pub medications: Vec<MedicationMention>,
    /// Columns the group comparisons should be adjusted for (nuisances and exposures, not
    /// collinear, recorded in every group).
    pub adjust_for: Vec<String>,
    /// Collinear nuisance or exposure columns: compare within their levels.
    pub compare_within: Vec<String>,
    pub warnings: Vec<String>,
    pub permanova_permutations: usize,
    pub seed: u64,
    pub features: Vec<FeatureStatus>,
}

/// Feature values per sample, aligned with the samples given to [`confounders`].
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureValues {
    pub names: Vec<String>,
    /// `values[f][s]`.
    pub values: Vec<Vec<f64>>,
}

/// What to check.
#[derive(Debug, Clone)]
pub struct ConfounderInput<'a> {
    pub metadata: &'a Metadata,
    /// Sample ids analysed (e.g. the table's), in order.
    pub samples: &'a [String],
    pub group_column: &'a str,
    pub case: Option<&'a str>,
    pub control: Option<&'a str>,
    /// Roles given by the user; other columns' roles are guessed.
    pub roles: &'a BTreeMap<String, Role>,
    /// Drug names to check against the microbiome-moving classes.
    pub drugs: &'a [String],
    /// Columns not to check (ids, free text).
    pub skip: &'a [String],
    pub distances: Option<&'a DistanceMatrix>,
    pub features: Option<&'a FeatureValues>,
    pub permutations: usize,
    pub seed: u64,
    pub thresholds: Thresholds,
}

/// A column's values for the used samples.
enum Values {
    Text(Vec<Option<String>>),
    Number(Vec<Option<f64>>),
}

fn column_values(column: &Column, rows: &[usize]) -> Values {
    match column {
        Column::Categorical(v) => Values::Text(rows.iter().map(|&r| v[r].clone()).collect()),
        Column::Numeric(v) => Values::Number(rows.iter().map(|&r| v[r]).collect()),
    }
}

/// Sorted distinct values (numbers ordered numerically).
fn distinct(values: &Values) -> Vec<String> {
    match values {
        Values::Text(v) => v
            .iter()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        Values::Number(v) => {
            let mut xs: Vec<f64> = v.iter().flatten().copied().collect();
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            xs.into_iter().map(|x| x.to_string()).collect()
        }
    }
}

fn text_of(values: &Values, i: usize) -> Option<String> {
    match values {
        Values::Text(v) => v[i].clone(),
        Values::Number(v) => v[i].map(|x| x.to_string()),
    }
}

/// The samples of the comparison.
struct Comparison {
    /// Positions in `ConfounderInput::samples`.
    positions: Vec<usize>,
    /// Metadata rows.
    rows: Vec<usize>,
    /// Group index per sample.
    labels: Vec<usize>,
    /// Group names, case first when given.
    names: Vec<String>,
}

/// The samples of the comparison: in the metadata, with a group value (case or control when
/// given).
fn comparison(input: &ConfounderInput) -> Result<Comparison> {
    let md = input.metadata;
    let group = md.column(input.group_column).ok_or_else(|| {
        Error::Invalid(format!(
            "no column '{}' in the metadata; the columns are: {}",
            input.group_column,
            md.column_names().join(", ")
        ))
    })?;
    let index = md.index();
    let names: Vec<String> = match (input.case, input.control) {
        (Some(c), Some(k)) => vec![c.to_string(), k.to_string()],
        (None, None) => {
            let mut all = BTreeSet::new();
            for id in input.samples {
                if let Some(v) = index.get(id.as_str()).and_then(|&r| group.text(r)) {
                    all.insert(v);
                }
            }
            all.into_iter().collect()
        }
        _ => {
            return Err(Error::Invalid(
                "give both a case and a control level, or neither".into(),
            ));
        }
    };
    let (mut positions, mut rows, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for (s, id) in input.samples.iter().enumerate() {
        let Some(&row) = index.get(id.as_str()) else {
            continue;
        };
        let Some(v) = group.text(row) else { continue };
        if let Some(l) = names.iter().position(|n| *n == v) {
            positions.push(s);
            rows.push(row);
            labels.push(l);
        }
    }
    for (l, name) in names.iter().enumerate() {
        if !labels.contains(&l) {
            return Err(Error::Invalid(format!(
                "no sample has {}={name}",
                input.group_column
            )));
        }
    }
    if names.len() < 2 {
        return Err(Error::Invalid(format!(
            "column '{}' has a single level among the samples; there is nothing to compare",
            input.group_column
        )));
    }
    Ok(Comparison {
        positions,
        rows,
        labels,
        names,
    })
}

/// Checks every other metadata column against the group (see the module documentation).
pub fn confounders(input: &ConfounderInput) -> Result<ConfounderReport> {
    let Comparison {
        positions,
        rows,
        labels,
        names,
    } = comparison(input)?;
    let g = names.len();
    let n = rows.len();
    let th = input.thresholds;
    let mut columns = Vec::new();
    let mut warnings = Vec::new();
    let mut medications = Vec::new();
    for (name, column) in &input.metadata.columns {
        if name == input.group_column || input.skip.contains(name) {
            continue;
        }
        let values = column_values(column, &rows);
        let present: Vec<usize> = (0..n).filter(|&i| text_of(&values, i).is_some()).collect();
        let missing_by_group: Vec<GroupMissing> = (0..g)
            .map(|l| {
                let members = (0..n).filter(|&i| labels[i] == l);
                let total = members.clone().count();
                let missing = members.filter(|&i| text_of(&values, i).is_none()).count();
                GroupMissing {
                    group: names[l].clone(),
                    n: total,
                    missing,
                }
            })
            .collect();
        let (role, role_given, role_reason) = match input.roles.get(name) {
            Some(r) => (*r, true, "given".to_string()),
            None => {
                let (r, why) = guess_role(name);
                (r, false, why)
            }
        };
        let medication = recognise_medication(name);
        if let Some(class) = medication {
            medications.push(MedicationMention {
                name: name.clone(),
                class,
                found_in: "metadata column".into(),
            });
        }
        let levels_all = distinct(&values);
        let kind = match column {
            Column::Categorical(_) => VariableKind::Categorical,
            Column::Numeric(_) if levels_all.len() <= MAX_CODED_LEVELS => VariableKind::Categorical,
            Column::Numeric(_) => VariableKind::Numeric,
        };
        let mut report = ColumnReport {
            column: name.clone(),
            kind,
            levels: levels_all.len(),
            role,
            role_given,
            role_reason,
            medication,
            n: present.len(),
            missing_by_group: missing_by_group.clone(),
            missing_in_groups: Vec::new(),
            test: None,
            statistic: None,
            p_value: None,
            q_value: None,
            effect_size_name: None,
            effect_size: None,
            collinear: false,
            same_as_group: false,
            permanova: None,
            handling: Handling::NotTested,
            note: None,
        };
        if present.is_empty() {
            report.note = Some("no value among the samples compared".into());
            columns.push(report);
            continue;
        }
        report.missing_in_groups = missing_by_group
            .iter()
            .filter(|m| m.n > 0 && m.missing == m.n)
            .map(|m| m.group.clone())
            .collect();
        if !report.missing_in_groups.is_empty() {
            let recorded: Vec<String> = missing_by_group
                .iter()
                .filter(|m| m.missing < m.n)
                .map(|m| format!("{} ({} of {})", m.group, m.n - m.missing, m.n))
                .collect();
            let summary = value_summary(&values, &labels, &names);
            warnings.push(format!(
                "'{name}' is recorded for {} and missing for every {} sample: it cannot be adjusted for, and a difference between the groups may be this column's; compare within {} instead{summary}",
                recorded.join(", "),
                report.missing_in_groups.join(", "),
                recorded
                    .iter()
                    .map(|r| r.split(' ').next().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            report.handling = Handling::CannotAdjust;
            report.note = Some("recorded for some groups only".into());
            columns.push(report);
            continue;
        }
        if levels_all.len() < 2 {
            report.note = Some(format!(
                "constant ('{}') among the samples compared",
                levels_all[0]
            ));
            columns.push(report);
            continue;
        }
        match kind {
            VariableKind::Categorical => {
                let table: Vec<Vec<f64>> = levels_all
                    .iter()
                    .map(|lv| {
                        (0..g)
                            .map(|l| {
                                present
                                    .iter()
                                    .filter(|&&i| {
                                        labels[i] == l && text_of(&values, i).as_ref() == Some(lv)
                                    })
                                    .count() as f64
                            })
                            .collect()
                    })
                    .collect();
                match chi_square(&table) {
                    Ok(c) => {
                        let fisher = table.len() == 2 && g == 2 && c.min_expected < 5.0;
                        report.test = Some(if fisher {
                            AssociationTest::FisherExact
                        } else {
                            AssociationTest::ChiSquare
                        });
                        report.statistic = Some(c.statistic);
                        report.p_value = Some(if fisher {
                            let k = |a: usize, b: usize| table[a][b] as u64;
                            fisher_exact([[k(0, 0), k(0, 1)], [k(1, 0), k(1, 1)]])
                        } else {
                            c.p_value
                        });
                        report.effect_size_name = Some(EffectSize::CramersV);
                        report.effect_size = Some(c.cramers_v);
                        report.collinear = c.cramers_v >= th.collinear_cramers_v;
                        // The same partition as the group: every level within one group, and
                        // as many levels as groups.
                        report.same_as_group = table.len() == g
                            && table
                                .iter()
                                .all(|row| row.iter().filter(|v| **v > 0.0).count() == 1);
                    }
                    Err(e) => report.note = Some(e.to_string()),
                }
            }
            VariableKind::Numeric => {
                let by_group: Vec<Vec<f64>> = (0..g)
                    .map(|l| {
                        present
                            .iter()
                            .filter(|&&i| labels[i] == l)
                            .filter_map(|&i| match &values {
                                Values::Number(v) => v[i],
                                Values::Text(_) => None,
                            })
                            .collect()
                    })
                    .collect();
                if g == 2 {
                    let m = mann_whitney(&by_group[0], &by_group[1])?;
                    report.test = Some(AssociationTest::MannWhitney);
                    report.statistic = Some(m.u);
                    report.p_value = Some(m.p_value);
                    report.effect_size_name = Some(EffectSize::Auc);
                    report.effect_size = Some(m.auc);
                    report.collinear = m.auc.max(1.0 - m.auc) >= th.collinear_auc;
                } else {
                    let k = kruskal_wallis(&by_group)?;
                    let mut best = 0.5f64;
                    for a in 0..g {
                        for b in (a + 1)..g {
                            if !by_group[a].is_empty() && !by_group[b].is_empty() {
                                let auc = mann_whitney(&by_group[a], &by_group[b])?.auc;
                                best = best.max(auc.max(1.0 - auc));
                            }
                        }
                    }
                    report.test = Some(AssociationTest::KruskalWallis);
                    report.statistic = Some(k.statistic);
                    report.p_value = Some(k.p_value);
                    report.effect_size_name = Some(EffectSize::MaxPairwiseAuc);
                    report.effect_size = Some(best);
                    report.collinear = best >= th.collinear_auc;
                }
            }
        }
        report.handling = if report.same_as_group {
            Handling::IsTheGroup
        } else {
            match role {
                Role::Nuisance | Role::Exposure if report.collinear => {
                    Handling::AdjustAndCompareWithinLevels
                }
                Role::Nuisance | Role::Exposure => Handling::Adjust,
                Role::Biology | Role::Unknown => Handling::Report,
            }
        };
        if let Some(dm) = input.distances
            && !report.same_as_group
        {
            match column_permanova(input, dm, name, kind, &positions) {
                Ok(p) => report.permanova = Some(p),
                Err(e) => {
                    report.note = Some(format!("PERMANOVA not computed: {e}"));
                }
            }
        }
        columns.push(report);
    }
    // q over the columns that were tested.
    let ps: Vec<f64> = columns
        .iter()
        .map(|c| c.p_value.unwrap_or(f64::NAN))
        .collect();
    for (c, q) in columns.iter_mut().zip(adjust(&ps, Adjust::Bh)) {
        c.q_value = q.is_finite().then_some(q);
    }
    for d in input.drugs {
        if let Some(class) = recognise_medication(d) {
            medications.push(MedicationMention {
                name: d.clone(),
                class,
                found_in: "drug list".into(),
            });
        }
    }
    if !medications.is_empty() {
        let listed: Vec<String> = medications
            .iter()
            .map(|m| format!("{} ({}, {})", m.name, m.class.label(), m.found_in))
            .collect();
        warnings.push(format!(
            "medications known to move the gut microbiome are present: {} (Vich Vila et al. 2020, Nat Commun 11:362; Forslund et al. 2021, Nature 600:500); check that group differences are not theirs",
            listed.join("; ")
        ));
    }
    for c in &columns {
        let effect = c
            .effect_size
            .map(|e| match c.effect_size_name {
                Some(EffectSize::CramersV) => format!("Cramér's V {e:.2}"),
                _ => format!("AUC {e:.2}"),
            })
            .unwrap_or_default();
        if c.same_as_group {
            warnings.push(format!(
                "'{}' is the group under another name ({effect}): the grouping is entirely explained by it",
                c.column
            ));
        } else if c.collinear {
            let what = match c.role {
                Role::Nuisance | Role::Exposure => format!(
                    "a {} column collinear with the group ({effect}): group differences cannot be told apart from '{}' differences; compare within its levels and adjusted for it",
                    c.role.name(),
                    c.column
                ),
                Role::Biology => format!(
                    "tracks the disease ({effect}); as biology it is reported, not adjusted for (adjusting would remove part of the disease itself; give --role {}=nuisance to adjust)",
                    c.column
                ),
                Role::Unknown => format!(
                    "collinear with the group ({effect}); its role is unknown, so it was not adjusted for"
                ),
            };
            warnings.push(format!("'{}': {what}", c.column));
        }
    }
    let adjust_for: Vec<String> = columns
        .iter()
        .filter(|c| c.handling == Handling::Adjust)
        .map(|c| c.column.clone())
        .collect();
    let compare_within: Vec<String> = columns
        .iter()
        .filter(|c| c.handling == Handling::AdjustAndCompareWithinLevels)
        .map(|c| c.column.clone())
        .collect();
    let features = match input.features {
        Some(f) => feature_status(input, f, &columns, &positions, &labels, &names)?,
        None => Vec::new(),
    };
    Ok(ConfounderReport {
        group_column: input.group_column.to_string(),
        case: input.case.map(str::to_string),
        control: input.control.map(str::to_string),
        groups: (0..g)
            .map(|l| GroupCount {
                level: names[l].clone(),
                n: labels.iter().filter(|&&x| x == l).count(),
            })
            .collect(),
        n_samples: n,
        thresholds: th,
        columns,
        medications,
        adjust_for,
        compare_within,
        warnings,
        permanova_permutations: input.permutations,
        seed: input.seed,
        features,
    })
}

/// ` (values: 1 in 40 of 102 axSpA)` for a 0/1 column, else empty.
fn value_summary(values: &Values, labels: &[usize], names: &[String]) -> String {
    let Values::Number(v) = values else {
        return String::new();
    };
    let present: Vec<(usize, f64)> = v
        .iter()
        .zip(labels)
        .filter_map(|(x, l)| x.map(|x| (*l, x)))
        .collect();
    if !present.iter().all(|(_, x)| *x == 0.0 || *x == 1.0) {
        return String::new();
    }
    let parts: Vec<String> = (0..names.len())
        .filter_map(|l| {
            let of: Vec<f64> = present
                .iter()
                .filter(|(g, _)| *g == l)
                .map(|p| p.1)
                .collect();
            (!of.is_empty()).then(|| {
                format!(
                    "{} of {} {}",
                    of.iter().filter(|x| **x == 1.0).count(),
                    of.len(),
                    names[l]
                )
            })
        })
        .collect();
    format!(" (value 1 in {})", parts.join(", "))
}

/// Terms for a design: the group (categorical) and one column.
fn terms_for(group: &str, column: &str, kind: VariableKind) -> Vec<Term> {
    vec![
        Term {
            column: group.to_string(),
            categorical: true,
        },
        Term {
            column: column.to_string(),
            categorical: kind == VariableKind::Categorical,
        },
    ]
}

/// Design columns that belong to `term` (`term[T.level]` dummies or the numeric column).
fn term_columns(d: &gutjoint_stats::Design, term: &str) -> Vec<Vec<f64>> {
    let prefix = format!("{term}[T.");
    (0..d.p)
        .filter(|&j| d.names[j] == term || d.names[j].starts_with(&prefix))
        .map(|j| (0..d.n).map(|i| d.x[i * d.p + j]).collect())
        .collect()
}

fn restricted_references(input: &ConfounderInput) -> BTreeMap<String, String> {
    input
        .control
        .map(|c| BTreeMap::from([(input.group_column.to_string(), c.to_string())]))
        .unwrap_or_default()
}

fn column_permanova(
    input: &ConfounderInput,
    dm: &DistanceMatrix,
    column: &str,
    kind: VariableKind,
    positions: &[usize],
) -> Result<ColumnPermanova> {
    let ids: Vec<String> = positions
        .iter()
        .map(|&s| input.samples[s].clone())
        .collect();
    let d = design(
        input.metadata,
        &ids,
        &terms_for(input.group_column, column, kind),
        &restricted_references(input),
    )?;
    let dm_index: BTreeMap<&str, usize> = dm
        .ids()
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let keep: Vec<usize> = d
        .sample_ids
        .iter()
        .map(|id| {
            dm_index.get(id.as_str()).copied().ok_or_else(|| {
                Error::Invalid(format!("sample '{id}' is not in the distance matrix"))
            })
        })
        .collect::<Result<_>>()?;
    let sub = dm.select(&keep);
    let terms = [
        ModelTerm {
            name: input.group_column.to_string(),
            columns: term_columns(&d, input.group_column),
        },
        ModelTerm {
            name: column.to_string(),
            columns: term_columns(&d, column),
        },
    ];
    let m = permanova_margin(&sub, &terms, input.permutations, input.seed, None)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let mut t = m.terms.into_iter();
    let group = t.next().expect("two terms");
    let col = t.next().expect("two terms");
    Ok(ColumnPermanova {
        n: d.n,
        column: col,
        group,
    })
}

fn feature_status(
    input: &ConfounderInput,
    features: &FeatureValues,
    columns: &[ColumnReport],
    positions: &[usize],
    labels: &[usize],
    names: &[String],
) -> Result<Vec<FeatureStatus>> {
    let th = input.thresholds;
    if features
        .values
        .iter()
        .any(|v| v.len() != input.samples.len())
    {
        return Err(Error::Invalid(format!(
            "feature values must have one value per sample ({})",
            input.samples.len()
        )));
    }
    let g = names.len();
    // Naive test per feature.
    let mut naive = Vec::with_capacity(features.names.len());
    for values in &features.values {
        let by_group: Vec<Vec<f64>> = (0..g)
            .map(|l| {
                positions
                    .iter()
                    .zip(labels)
                    .filter(|(_, x)| **x == l)
                    .map(|(&s, _)| values[s])
                    .collect()
            })
            .collect();
        naive.push(if g == 2 {
            let m = mann_whitney(&by_group[0], &by_group[1])?;
            (m.p_value, Some(m.auc))
        } else {
            (kruskal_wallis(&by_group)?.p_value, None)
        });
    }
    let ps: Vec<f64> = naive.iter().map(|n| n.0).collect();
    let qs = adjust(&ps, Adjust::Bh);
    // Candidate confounders: nuisances and exposures associated with the group.
    let ids: Vec<String> = positions
        .iter()
        .map(|&s| input.samples[s].clone())
        .collect();
    let sample_position: BTreeMap<&str, usize> = input
        .samples
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mut candidates = Vec::new();
    for c in columns {
        let candidate = matches!(c.role, Role::Nuisance | Role::Exposure)
            && matches!(
                c.handling,
                Handling::Adjust | Handling::AdjustAndCompareWithinLevels
            )
            && c.p_value.is_some_and(|p| p < th.alpha);
        if !candidate {
            continue;
        }
        let refs = restricted_references(input);
        let terms = terms_for(input.group_column, &c.column, c.kind);
        let full = match design(input.metadata, &ids, &terms, &refs) {
            Ok(d) => d,
            Err(_) => continue,
        };
        let reduced = match design(input.metadata, &full.sample_ids, &terms[1..], &refs) {
            Ok(d) => d,
            Err(_) => continue,
        };
        let rows: Vec<usize> = full
            .sample_ids
            .iter()
            .map(|id| sample_position[id.as_str()])
            .collect();
        candidates.push((c.column.clone(), full, reduced, rows));
    }
    let mut out = Vec::with_capacity(features.names.len());
    for (f, name) in features.names.iter().enumerate() {
        let (p, auc) = naive[f];
        let q = qs[f];
        let mut status = FeatureStatus {
            feature: name.clone(),
            naive_p: p,
            naive_q: q,
            auc,
            status: FeatureVerdict::NotSignificant,
            confounded_by: Vec::new(),
            tests: Vec::new(),
        };
        if q.is_finite() && q < th.feature_q {
            for (column, full, reduced, rows) in &candidates {
                let y: Vec<f64> = rows.iter().map(|&s| features.values[f][s]).collect();
                let lr = lr_test(full, reduced, &y)?;
                if lr.p_value >= th.alpha || lr.p_value.is_nan() {
                    status.confounded_by.push(column.clone());
                }
                status.tests.push(ConfounderTest {
                    column: column.clone(),
                    n: full.n,
                    statistic: lr.statistic,
                    df: lr.df,
                    p_value: lr.p_value,
                });
            }
            status.status = if status.confounded_by.is_empty() {
                FeatureVerdict::Deconfounded
            } else {
                FeatureVerdict::Confounded
            };
        }
        out.push(status);
    }
    Ok(out)
}

/// What a batch column looks like against the group, before it is added to a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchCheck {
    pub column: String,
    pub levels: Vec<GroupCount>,
    /// Samples without a batch value (they leave the model).
    pub missing: usize,
    /// Cramér's V of batch against the group, when a group was given.
    pub cramers_v: Option<f64>,
    pub warnings: Vec<String>,
}

/// Checks a batch column for `samples`: an error when it is absent, has one level, or
/// explains the group entirely (every batch holds one group only); a warning when it is
/// collinear with the group (Cramér's V ≥ [`COLLINEAR_CRAMERS_V`]) or missing for some samples.
pub fn check_batch(
    metadata: &Metadata,
    samples: &[String],
    batch: &str,
    group: Option<&str>,
) -> Result<BatchCheck> {
    let column = metadata.column(batch).ok_or_else(|| {
        Error::Invalid(format!(
            "no batch column '{batch}' in the metadata; the columns are: {}",
            metadata.column_names().join(", ")
        ))
    })?;
    let group_column = match group {
        Some(gc) => Some(
            metadata
                .column(gc)
                .ok_or_else(|| Error::Invalid(format!("no column '{gc}' in the metadata")))?,
        ),
        None => None,
    };
    let index = metadata.index();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut pairs: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut missing = 0;
    for id in samples {
        let Some(&row) = index.get(id.as_str()) else {
            continue;
        };
        let Some(b) = column.text(row) else {
            missing += 1;
            continue;
        };
        *counts.entry(b.clone()).or_default() += 1;
        if let Some(gv) = group_column.and_then(|c| c.text(row)) {
            *pairs.entry((b, gv)).or_default() += 1;
        }
    }
    if counts.len() < 2 {
        return Err(Error::Invalid(format!(
            "batch column '{batch}' has {} among the {} samples used; there is no batch to adjust for",
            match counts.keys().next() {
                Some(level) => format!("a single level ('{level}')"),
                None => "no value".to_string(),
            },
            samples.len()
        )));
    }
    let mut warnings = Vec::new();
    if missing > 0 {
        warnings.push(format!(
            "{missing} samples have no value in batch column '{batch}' and leave the model"
        ));
    }
    let mut cramers_v = None;
    if let Some(gc) = group {
        let groups: BTreeSet<&String> = pairs.keys().map(|(_, g)| g).collect();
        let batches: Vec<&String> = counts.keys().collect();
        if groups.len() >= 2 {
            let table: Vec<Vec<f64>> = batches
                .iter()
                .map(|b| {
                    groups
                        .iter()
                        .map(|g| *pairs.get(&((*b).clone(), (*g).clone())).unwrap_or(&0) as f64)
                        .collect()
                })
                .collect();
            let one_group_each = table
                .iter()
                .all(|row| row.iter().filter(|v| **v > 0.0).count() <= 1);
            if one_group_each {
                return Err(Error::Invalid(format!(
                    "'{gc}' is entirely explained by batch column '{batch}': every batch holds one group only, so a group effect cannot be separated from the batch"
                )));
            }
            if let Ok(c) = chi_square(&table) {
                cramers_v = Some(c.cramers_v);
                if c.cramers_v >= COLLINEAR_CRAMERS_V {
                    warnings.push(format!(
                        "batch column '{batch}' is collinear with '{gc}' (Cramér's V {:.2}): the adjusted group effect rests on the few batches that hold both groups; compare within batches too",
                        c.cramers_v
                    ));
                }
            }
        }
    }
    Ok(BatchCheck {
        column: batch.to_string(),
        levels: counts
            .into_iter()
            .map(|(level, n)| GroupCount { level, n })
            .collect(),
        missing,
        cramers_v,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_table::{Location, metadata::read_metadata};

    #[test]
    fn medications_are_recognised_by_name() {
        use MedicationClass::*;
        for (name, class) in [
            ("PPIs", Some(ProtonPumpInhibitor)),
            ("clin.PPIs", Some(ProtonPumpInhibitor)),
            ("omeprazole", Some(ProtonPumpInhibitor)),
            ("ATB_prev", Some(Antibiotic)),
            ("amoxicillin", Some(Antibiotic)),
            ("Metformin", Some(Metformin)),
            ("macrogol", Some(Laxative)),
            ("sertraline", Some(Ssri)),
            ("atorvastatin", Some(Statin)),
            ("statins_current", Some(Statin)),
            ("nystatin", None),
            ("cortis_current", Some(Glucocorticoid)),
            ("prednisolone", Some(Glucocorticoid)),
            ("NSAID_current", None),
            ("age", None),
        ] {
            assert_eq!(recognise_medication(name), class, "{name}");
        }
    }

    #[test]
    fn roles_are_guessed_from_names() {
        for (name, role) in [
            ("SeqExp", Role::Nuisance),
            ("LibSize", Role::Nuisance),
            ("age", Role::Nuisance),
            ("sex", Role::Nuisance),
            ("HLAB27", Role::Biology),
            ("BASDAI", Role::Biology),
            ("CRP", Role::Biology),
            ("PPIs", Role::Exposure),
            ("NSAID_current", Role::Exposure),
            ("bDMARD_naive", Role::Exposure),
            ("smoker", Role::Exposure),
            ("favourite_colour", Role::Unknown),
        ] {
            assert_eq!(guess_role(name).0, role, "{name}");
        }
    }

    fn md(text: &str) -> Metadata {
        read_metadata(text.as_bytes(), &Location::named("md")).expect("metadata")
    }

    /// A run that holds all controls and most cases, a flag recorded for cases only, a
    /// biological marker that tracks the disease, and a balanced covariate.
    fn cohort() -> (Metadata, Vec<String>) {
        let mut text = String::from("sample-id\tgroup\trun\tPPIs\tHLAB27\tage\n");
        let mut ids = Vec::new();
        for i in 0..40 {
            let case = i >= 16;
            let run = if !case || i < 20 { 0 } else { 1 };
            let ppi = if case {
                (i % 3 == 0) as u8 as f64
            } else {
                f64::NAN
            };
            let hla = if case {
                (i % 10 != 0) as u8
            } else {
                (i % 8 == 0) as u8
            };
            let age = 30 + (i * 7) % 25;
            let ppi = if ppi.is_nan() {
                "NA".to_string()
            } else {
                ppi.to_string()
            };
            text.push_str(&format!(
                "s{i}\t{}\t{run}\t{ppi}\t{hla}\t{age}\n",
                if case { "axSpA" } else { "healthy" }
            ));
            ids.push(format!("s{i}"));
        }
        (md(&text), ids)
    }

    fn input<'a>(
        md: &'a Metadata,
        ids: &'a [String],
        roles: &'a BTreeMap<String, Role>,
    ) -> ConfounderInput<'a> {
        ConfounderInput {
            metadata: md,
            samples: ids,
            group_column: "group",
            case: Some("axSpA"),
            control: Some("healthy"),
            roles,
            drugs: &[],
            skip: &[],
            distances: None,
            features: None,
            permutations: 0,
            seed: 0,
            thresholds: Thresholds::default(),
        }
    }

    #[test]
    fn run_is_collinear_ppis_warned_hla_reported_not_adjusted() {
        let (md, ids) = cohort();
        let roles = BTreeMap::new();
        let r = confounders(&input(&md, &ids, &roles)).expect("report");
        let col = |name: &str| r.columns.iter().find(|c| c.column == name).expect(name);
        // run: 16 controls in run 0; cases 4 in run 0, 20 in run 1.
        // Table [[16, 4], [0, 20]] (run 0/1 × healthy/axSpA... rows run, columns case, control)
        // phi = (ad − bc)/sqrt(row and column sums) with a = 4 (run 0, axSpA), b = 16,
        // c = 20, d = 0: |0 − 320| / sqrt(20 · 20 · 24 · 16) = 320 / sqrt(153600).
        let run = col("run");
        let v = 320.0 / 153_600f64.sqrt();
        assert!((run.effect_size.expect("V") - v).abs() < 1e-12);
        assert!(run.collinear);
        assert_eq!(run.role, Role::Nuisance);
        assert_eq!(run.handling, Handling::AdjustAndCompareWithinLevels);
        assert_eq!(r.compare_within, ["run"]);
        let ppis = col("PPIs");
        assert_eq!(ppis.missing_in_groups, ["healthy"]);
        assert_eq!(ppis.handling, Handling::CannotAdjust);
        assert!(r.warnings.iter().any(|w| w.contains(
            "'PPIs' is recorded for axSpA (24 of 24) and missing for every healthy sample"
        )));
        assert!(r.medications.iter().any(|m| m.name == "PPIs"));
        let hla = col("HLAB27");
        assert_eq!(hla.role, Role::Biology);
        assert_eq!(hla.handling, Handling::Report);
        assert!(hla.collinear, "{hla:?}");
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("'HLAB27': tracks the disease"))
        );
        assert!(!r.adjust_for.contains(&"HLAB27".to_string()));
        assert!(r.adjust_for.contains(&"age".to_string()));
        // Asked for, HLA-B27 is adjusted.
        let roles = BTreeMap::from([("HLAB27".to_string(), Role::Nuisance)]);
        let r2 = confounders(&input(&md, &ids, &roles)).expect("report");
        assert!(r2.compare_within.contains(&"HLAB27".to_string()));
    }

    #[test]
    fn a_feature_driven_by_the_run_is_confounded_one_driven_by_disease_is_not() {
        let (md, ids) = cohort();
        let roles = BTreeMap::new();
        let run: Vec<f64> = (0..40).map(|i| if i >= 20 { 1.0 } else { 0.0 }).collect();
        let case: Vec<f64> = (0..40).map(|i| if i >= 16 { 1.0 } else { 0.0 }).collect();
        let wiggle = |i: usize| ((i * 37) % 11) as f64 / 20.0;
        let features = FeatureValues {
            names: vec!["by_run".into(), "by_disease".into(), "flat".into()],
            values: vec![
                (0..40).map(|i| 3.0 * run[i] + wiggle(i)).collect(),
                (0..40).map(|i| 3.0 * case[i] + wiggle(i)).collect(),
                (0..40).map(wiggle).collect(),
            ],
        };
        let mut inp = input(&md, &ids, &roles);
        inp.features = Some(&features);
        let r = confounders(&inp).expect("report");
        let f = |name: &str| r.features.iter().find(|x| x.feature == name).expect(name);
        assert_eq!(f("by_run").status, FeatureVerdict::Confounded);
        assert_eq!(f("by_run").confounded_by, ["run"]);
        assert_eq!(f("by_disease").status, FeatureVerdict::Deconfounded);
        assert_eq!(f("flat").status, FeatureVerdict::NotSignificant);
        // The LR statistic by hand for by_disease against run: n ln(RSS_reduced / RSS_full).
        let t = &f("by_disease").tests[0];
        assert_eq!((t.column.as_str(), t.n, t.df), ("run", 40, 1));
        assert!(t.p_value < 1e-6);
    }

    #[test]
    fn batch_checks() {
        let (cohort_md, ids) = cohort();
        let c = check_batch(&cohort_md, &ids, "run", Some("group")).expect("ok");
        assert!(c.warnings.iter().any(|w| w.contains("collinear")));
        let one = md_one_level();
        let e = check_batch(&one.0, &one.1, "run", Some("group"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a single level ('1')"), "{e}");
        let e = check_batch(&cohort_md, &ids, "group", Some("HLAB27"))
            .map(|_| ())
            .err();
        assert!(e.is_none(), "a batch holding both groups is not an error");
        let explained = md("sample-id\tgroup\tplate\na\tRA\tp1\nb\tRA\tp1\nc\tHC\tp2\nd\tHC\tp2\n");
        let ids4: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let e = check_batch(&explained, &ids4, "plate", Some("group"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("entirely explained by batch column 'plate'"),
            "{e}"
        );
    }

    fn md_one_level() -> (Metadata, Vec<String>) {
        (
            md("sample-id\tgroup\trun\na\tRA\t1\nb\tHC\t1\n"),
            vec!["a".into(), "b".into()],
        )
    }
}

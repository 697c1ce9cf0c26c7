/*!
The "Confounders and batches" section of `analyze`, and the choices that follow from it: which
group is the control, which batch is threaded through the models, which healthy reference
scores dysbiosis and signatures. A disease-vs-healthy difference that a sequencing run made
(GESPIC: every healthy sample in run 0, 86 of 102 axSpA samples in run 1) or that a reference
from another population made must not reach the reader unflagged.

The column checks are `gutjoint_axis::confounders` (the same as `gutjoint confounders`), run
once per case group against the control. For each nuisance or exposure column collinear with
the group, the section adds what the reader then needs: PERMANOVA with permutations within the
column's levels and within its largest level holding both groups, and the differential-
abundance model without the column, with `+ C(column)`, and within that level.
*/

use crate::config::{AnalysisConfig, ClassifierModel};
use crate::error::PipelineError;
use gutjoint_axis::confounders::{
    BatchCheck, ConfounderInput, ConfounderReport, Handling, Thresholds, VariableKind, check_batch,
    confounders,
};
use gutjoint_ecology::{Grouping, Strata, permanova_within};
use gutjoint_report::{
    BatchClassifier, BatchSection, ClassifierSection, CollinearCheck, ConfounderColumn,
    ConfounderComparison, ConfounderSection, DaSection, GroupCount, HeldOutBatch, LevelCounts,
    PermutationTest, ReferenceChoice,
};
use gutjoint_stats::quote_column;
use gutjoint_table::{DistanceMatrix, FeatureTable, Metadata, read_metadata_file};
use std::collections::BTreeMap;

type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// Level names taken as the control group when `--control` is not given (case-insensitive).
pub(crate) const CONTROL_NAMES: [&str; 4] = ["healthy", "hc", "control", "controls"];

/// The control level: the one given, else a level named as in [`CONTROL_NAMES`].
pub(crate) fn control_level(config: &AnalysisConfig, grouping: &Grouping) -> Option<String> {
    match &config.control {
        Some(c) => grouping.names.iter().find(|g| *g == c).cloned(),
        None => grouping
            .names
            .iter()
            .find(|g| CONTROL_NAMES.iter().any(|n| g.eq_ignore_ascii_case(n)))
            .cloned(),
    }
}

/// The group the differential-abundance models and classifiers compare against: the control
/// level when there is one, else the first group.
pub(crate) fn reference_group(config: &AnalysisConfig, grouping: &Grouping) -> String {
    control_level(config, grouping).unwrap_or_else(|| grouping.names[0].clone())
}

/// The covariates with the batch appended as `C(batch)` (quoted as patsy does), unless the
/// covariates already name it.
pub(crate) fn covariates_with_batch(config: &AnalysisConfig) -> Option<String> {
    let covariates = config.covariates.clone().filter(|c| !c.trim().is_empty());
    let Some(batch) = &config.batch else {
        return covariates;
    };
    let term = format!("C({})", quote_column(batch));
    match covariates {
        Some(c) if c.contains(batch.as_str()) => Some(c),
        Some(c) => Some(format!("{c} + {term}")),
        None => Some(term),
    }
}

/// Checks the run's settings against the samples before any work: a `--control` that is not
/// a group level, and a `--batch` with one level or that explains the group entirely, are
/// errors naming the file and column.
pub(crate) fn check_settings(
    config: &AnalysisConfig,
    md: &Metadata,
    md_path: &std::path::Path,
    samples: &[String],
    grouping: &Grouping,
) -> Result<Option<BatchCheck>> {
    if let Some(c) = &config.control
        && !grouping.names.contains(c)
    {
        return Err(PipelineError::Config(format!(
            "control level '{c}' is not a level of the group column in {}; the levels are: {}",
            md_path.display(),
            grouping.names.join(", ")
        )));
    }
    let Some(batch) = &config.batch else {
        return Ok(None);
    };
    if config.group.as_deref() == Some(batch.as_str()) {
        return Err(PipelineError::Config(format!(
            "batch column '{batch}' is the group column itself"
        )));
    }
    check_batch(md, samples, batch, config.group.as_deref())
        .map(Some)
        .map_err(|e| {
            PipelineError::Config(format!("{}: batch column {batch}: {e}", md_path.display()))
        })
}

/// A finite number, else `None` (JSON has no NaN).
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn json_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|j| j.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// What the section needs from the run.
pub(crate) struct Context<'a> {
    pub config: &'a AnalysisConfig,
    pub table: &'a FeatureTable,
    pub dm: &'a DistanceMatrix,
    pub grouping: &'a Grouping,
    pub batch: Option<&'a BatchCheck>,
    pub classifiers: Option<&'a ClassifierSection>,
    pub reference: Option<ReferenceChoice>,
}

/// The section, or `None` without metadata or with one group; parts that fail leave notes.
pub(crate) fn section(ctx: &Context, notes: &mut Vec<String>) -> Option<ConfounderSection> {
    let (md_path, column) = (ctx.config.metadata.as_ref()?, ctx.config.group.as_ref()?);
    if ctx.grouping.names.len() < 2 {
        return None;
    }
    let md = match read_metadata_file(md_path) {
        Ok(md) => md,
        Err(e) => {
            notes.push(format!("confounders were not checked: {e}"));
            return None;
        }
    };
    let control = control_level(ctx.config, ctx.grouping);
    let pairs: Vec<(Option<String>, Option<String>)> = match &control {
        Some(k) => ctx
            .grouping
            .names
            .iter()
            .filter(|g| *g != k)
            .map(|g| (Some(g.clone()), Some(k.clone())))
            .collect(),
        None => vec![(None, None)],
    };
    let mut comparisons = Vec::new();
    for (case, ctrl) in pairs {
        match comparison(ctx, &md, column, case.as_deref(), ctrl.as_deref()) {
            Ok(c) => comparisons.push(c),
            Err(e) => notes.push(format!(
                "confounders of {}: not checked: {e}",
                case.as_deref().unwrap_or("the groups")
            )),
        }
    }
    // Comparisons with a collinear column first: they carry the warnings.
    comparisons.sort_by_key(|c: &ConfounderComparison| c.collinear.is_empty());
    let batch = ctx.batch.map(|b| batch_section(ctx, &md, column, b));
    Some(ConfounderSection {
        control,
        comparisons,
        batch,
        reference: ctx.reference.clone(),
    })
}

/// Positions (in the table) of the samples in `levels` of the group.
fn positions_of(grouping: &Grouping, levels: &[&str]) -> Vec<usize> {
    (0..grouping.labels.len())
        .filter(|&s| levels.contains(&grouping.names[grouping.labels[s]].as_str()))
        .collect()
}

fn comparison(
    ctx: &Context,
    md: &Metadata,
    column: &str,
    case: Option<&str>,
    control: Option<&str>,
) -> Result<ConfounderComparison> {
    let positions: Vec<usize> = match (case, control) {
        (Some(a), Some(b)) => positions_of(ctx.grouping, &[a, b]),
        _ => (0..ctx.grouping.labels.len()).collect(),
    };
    let samples: Vec<String> = positions
        .iter()
        .map(|&s| ctx.table.sample_ids()[s].clone())
        .collect();
    let dm = ctx.dm.select(&positions);
    let roles = BTreeMap::new();
    let report = confounders(&ConfounderInput {
        metadata: md,
        samples: &samples,
        group_column: column,
        case,
        control,
        roles: &roles,
        drugs: &ctx.config.drugs,
        skip: &[],
        distances: Some(&dm),
        features: None,
        permutations: ctx.config.permutations,
        seed: ctx.config.seed,
        thresholds: Thresholds::default(),
    })?;
    let collinear = match (case, control) {
        (Some(a), Some(b)) => report
            .columns
            .iter()
            .filter(|c| c.handling == Handling::AdjustAndCompareWithinLevels)
            .map(|c| collinear_check(ctx, md, column, a, b, &c.column, c.kind, &report))
            .collect(),
        _ => Vec::new(),
    };
    Ok(ConfounderComparison {
        label: match (case, control) {
            (Some(a), Some(b)) => format!("{a} vs {b}"),
            _ => "all groups".into(),
        },
        case: case.map(str::to_string),
        control: control.map(str::to_string),
        samples: report.n_samples,
        columns: report.columns.iter().map(column_row).collect(),
        adjust_for: report.adjust_for.clone(),
        compare_within: report.compare_within.clone(),
        warnings: report
            .warnings
            .iter()
            .filter(|w| {
                // The collinear nuisance warnings become boxes of their own.
                !report
                    .compare_within
                    .iter()
                    .any(|c| w.starts_with(&format!("'{c}': a ")))
            })
            .cloned()
            .collect(),
        collinear,
    })
}

fn column_row(c: &gutjoint_axis::confounders::ColumnReport) -> ConfounderColumn {
    ConfounderColumn {
        column: c.column.clone(),
        kind: json_name(&c.kind),
        levels: c.levels,
        role: c.role.name().into(),
        role_given: c.role_given,
        medication: c.medication.map(|m| m.label().to_string()),
        n: c.n,
        missing_in_groups: c.missing_in_groups.clone(),
        test: c.test.as_ref().map(json_name),
        p: c.p_value.and_then(finite),
        q: c.q_value.and_then(finite),
        effect_size_name: c.effect_size_name.as_ref().map(json_name),
        effect_size: c.effect_size.and_then(finite),
        collinear: c.collinear,
        same_as_group: c.same_as_group,
        permanova_r2: c.permanova.as_ref().and_then(|p| finite(p.column.r2)),
        permanova_p: c.permanova.as_ref().and_then(|p| p.column.p_value),
        group_r2_given_column: c.permanova.as_ref().and_then(|p| finite(p.group.r2)),
        handling: json_name(&c.handling),
        note: c.note.clone(),
    }
}

/// A PERMANOVA of the group on `positions` of the table, permutations restricted to `strata`
/// (one value per position) when given.
fn group_permanova(
    ctx: &Context,
    positions: &[usize],
    strata: Option<&[String]>,
) -> Result<PermutationTest> {
    let dm = ctx.dm.select(positions);
    let labels: Vec<String> = positions
        .iter()
        .map(|&s| ctx.grouping.names[ctx.grouping.labels[s]].clone())
        .collect();
    let grouping = Grouping::from_values(&labels);
    let strata = strata.map(Strata::from_values);
    Ok(permanova_within(
        &dm,
        &grouping,
        ctx.config.permutations,
        ctx.config.seed,
        strata.as_ref(),
    )?)
}

/// The values of metadata `column` for the table's samples at `positions` (`None` = missing).
fn values_at(
    md: &Metadata,
    table: &FeatureTable,
    column: &str,
    positions: &[usize],
) -> Vec<Option<String>> {
    let index = md.index();
    let col = md.column(column);
    positions
        .iter()
        .map(|&s| {
            let id = &table.sample_ids()[s];
            col.and_then(|c| index.get(id.as_str()).and_then(|&r| c.text(r)))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn collinear_check(
    ctx: &Context,
    md: &Metadata,
    group_column: &str,
    case: &str,
    control: &str,
    column: &str,
    kind: VariableKind,
    report: &ConfounderReport,
) -> CollinearCheck {
    let effect = report
        .columns
        .iter()
        .find(|c| c.column == column)
        .and_then(|c| c.effect_size)
        .unwrap_or(f64::NAN);
    let mut check = CollinearCheck {
        column: column.into(),
        case: case.into(),
        control: control.into(),
        warning: String::new(),
        levels: Vec::new(),
        permanova: None,
        permanova_strata: None,
        within_level: None,
        permanova_within: None,
        da_naive: None,
        da_adjusted: None,
        da_within: None,
        notes: Vec::new(),
    };
    let all = positions_of(ctx.grouping, &[case, control]);
    let values = values_at(md, ctx.table, column, &all);
    let with_value: Vec<(usize, String)> = all
        .iter()
        .zip(&values)
        .filter_map(|(&s, v)| v.clone().map(|v| (s, v)))
        .collect();
    let positions: Vec<usize> = with_value.iter().map(|p| p.0).collect();
    let is_case = |s: usize| ctx.grouping.names[ctx.grouping.labels[s]] == case;
    let mut by_level: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (s, v) in &with_value {
        let e = by_level.entry(v.clone()).or_default();
        if is_case(*s) {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    if kind == VariableKind::Categorical {
        check.levels = by_level
            .iter()
            .map(|(level, (a, b))| LevelCounts {
                level: level.clone(),
                case: *a,
                control: *b,
            })
            .collect();
    }
    let distribution = check
        .levels
        .iter()
        .map(|l| {
            format!(
                "{} {case} and {} {control} in {column} = {}",
                l.case, l.control, l.level
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    // The largest level holding both groups: where the group can be compared batch-free.
    let within = by_level
        .iter()
        .filter(|(_, (a, b))| *a > 0 && *b > 0)
        .max_by(|x, y| (x.1.0 + x.1.1).cmp(&(y.1.0 + y.1.1)).then(y.0.cmp(x.0)))
        .map(|(l, _)| l.clone())
        .filter(|_| kind == VariableKind::Categorical);
    check.warning = format!(
        "{case} vs {control}: '{column}' is a {} column collinear with the group ({} {:.2}){}. Group differences cannot be told apart from '{column}' differences: read the comparisons below adjusted for '{column}' and within {}.",
        report
            .columns
            .iter()
            .find(|c| c.column == column)
            .map_or("nuisance", |c| c.role.name()),
        if kind == VariableKind::Categorical {
            "Cramér's V"
        } else {
            "AUC"
        },
        effect,
        if distribution.is_empty() {
            String::new()
        } else {
            format!(": {distribution}")
        },
        within
            .as_ref()
            .map_or("its levels".to_string(), |l| format!("{column} = {l}"))
    );
    match group_permanova(ctx, &positions, None) {
        Ok(t) => check.permanova = Some(t),
        Err(e) => check.notes.push(format!("PERMANOVA: {e}")),
    }
    if kind == VariableKind::Categorical {
        let strata: Vec<String> = with_value.iter().map(|p| p.1.clone()).collect();
        match group_permanova(ctx, &positions, Some(&strata)) {
            Ok(t) => check.permanova_strata = Some(t),
            Err(e) => check
                .notes
                .push(format!("PERMANOVA within '{column}' levels: {e}")),
        }
    }
    let within_positions: Vec<usize> = match &within {
        Some(l) => with_value
            .iter()
            .filter(|p| &p.1 == l)
            .map(|p| p.0)
            .collect(),
        None => {
            check.notes.push(format!(
                "no level of '{column}' holds both {case} and {control} samples: no within-level comparison"
            ));
            Vec::new()
        }
    };
    if !within_positions.is_empty() {
        match group_permanova(ctx, &within_positions, None) {
            Ok(t) => check.permanova_within = Some(t),
            Err(e) => check.notes.push(format!("PERMANOVA within level: {e}")),
        }
    }
    check.within_level = within;
    // Differential abundance: the analysis' own model, on the same samples, without and
    // with the column, then within the level.
    let covariates = covariates_with_batch(ctx.config).unwrap_or_default();
    let base = if covariates.trim().is_empty() {
        format!("C({})", quote_column(group_column))
    } else {
        format!("C({}) + {covariates}", quote_column(group_column))
    };
    let term = match kind {
        VariableKind::Categorical => format!("C({})", quote_column(column)),
        VariableKind::Numeric => quote_column(column),
    };
    let mut da = |positions: &[usize], formula: &str, what: &str| -> Option<DaSection> {
        let table = ctx.table.select_samples(positions);
        match crate::run::da_model(ctx.config, md, &table, group_column, control, formula) {
            Ok(d) => Some(d),
            Err(e) => {
                check
                    .notes
                    .push(format!("differential abundance {what}: {e}"));
                None
            }
        }
    };
    let naive = da(&positions, &base, "without the column");
    let adjusted = if base.contains(&term) {
        None
    } else {
        da(&positions, &format!("{base} + {term}"), "adjusted")
    };
    let within_da = (!within_positions.is_empty())
        .then(|| da(&within_positions, &base, "within the level"))
        .flatten();
    check.da_naive = naive;
    check.da_adjusted = adjusted;
    check.da_within = within_da;
    check
}

fn batch_section(ctx: &Context, md: &Metadata, column: &str, b: &BatchCheck) -> BatchSection {
    let mut notes = Vec::new();
    let all: Vec<usize> = (0..ctx.grouping.labels.len()).collect();
    let values = values_at(md, ctx.table, &b.column, &all);
    let with_value: Vec<(usize, String)> = all
        .iter()
        .zip(&values)
        .filter_map(|(&s, v)| v.clone().map(|v| (s, v)))
        .collect();
    let positions: Vec<usize> = with_value.iter().map(|p| p.0).collect();
    let strata: Vec<String> = with_value.iter().map(|p| p.1.clone()).collect();
    let permanova_strata = match group_permanova(ctx, &positions, Some(&strata)) {
        Ok(t) => Some(t),
        Err(e) => {
            notes.push(format!("PERMANOVA within batches: {e}"));
            None
        }
    };
    let mut classifiers = Vec::new();
    let model = match ctx.config.classifier {
        ClassifierModel::None => None,
        ClassifierModel::L1Logistic => Some(gutjoint_stats::classify::Model::L1Logistic { c: 1.0 }),
        ClassifierModel::RandomForest => Some(gutjoint_stats::classify::Model::RandomForest {
            trees: 500,
            seed: ctx.config.seed,
        }),
    };
    let reference = reference_group(ctx.config, ctx.grouping);
    if let Some(model) = model {
        for case in ctx.grouping.names.iter().filter(|g| **g != reference) {
            let rows: Vec<(usize, String)> = with_value
                .iter()
                .filter(|(s, _)| {
                    let g = &ctx.grouping.names[ctx.grouping.labels[*s]];
                    g == case || *g == reference
                })
                .cloned()
                .collect();
            let labels: Vec<bool> = rows
                .iter()
                .map(|(s, _)| ctx.grouping.names[ctx.grouping.labels[*s]] == *case)
                .collect();
            let batches: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
            let idx: Vec<usize> = rows.iter().map(|r| r.0).collect();
            let within_cohort_auc = ctx.classifiers.and_then(|c| {
                c.comparisons
                    .iter()
                    .find(|r| r.case == *case && r.control == reference)
                    .and_then(|r| finite(r.auc))
            });
            let run = || -> Result<gutjoint_stats::classify::GroupCrossValidation> {
                let (data, _, _) = gutjoint_stats::features::clr_dataset(
                    ctx.table,
                    &idx,
                    labels.clone(),
                    0.1,
                    None,
                )?;
                Ok(gutjoint_stats::classify::leave_group_out(
                    &data, model, &batches,
                )?)
            };
            match run() {
                Ok(cv) => classifiers.push(BatchClassifier {
                    case: case.clone(),
                    control: reference.clone(),
                    within_cohort_auc,
                    pooled_auc: finite(cv.pooled_auc),
                    pooled_auc_ci: (cv.pooled_auc_ci.iter().all(|x| x.is_finite()))
                        .then_some(cv.pooled_auc_ci),
                    held_out: cv
                        .groups
                        .into_iter()
                        .map(|g| HeldOutBatch {
                            batch: g.group,
                            n: g.n,
                            n_case: g.n_positive,
                            auc: g.auc.and_then(finite),
                            note: g.note,
                        })
                        .collect(),
                }),
                Err(e) => notes.push(format!(
                    "classifier {case} vs {reference}, leaving one batch out: {e}"
                )),
            }
        }
    } else {
        notes.push("no classifier was asked for: no leave-one-batch-out AUC".into());
    }
    let quoted = format!("C({})", quote_column(&b.column));
    let mut applied_to = vec![format!("differential abundance ({quoted} in the model)")];
    if !ctx.config.host_variables.is_empty() {
        applied_to.push(format!("host associations ({quoted} among the covariates)"));
    }
    applied_to.push("PERMANOVA (permutations within batches, below)".into());
    if !classifiers.is_empty() {
        applied_to.push("classifiers (leave-one-batch-out AUC, below)".into());
    }
    let _ = column;
    BatchSection {
        column: b.column.clone(),
        levels: b
            .levels
            .iter()
            .map(|l| GroupCount {
                group: l.level.clone(),
                samples: l.n,
            })
            .collect(),
        missing: b.missing,
        cramers_v: b.cramers_v.and_then(finite),
        warnings: b.warnings.clone(),
        applied_to,
        permanova_strata,
        classifiers,
        notes,
    }
}

/// Metadata columns that may say where a cohort comes from.
const POPULATION_COLUMNS: [&str; 6] = [
    "country",
    "population",
    "nationality",
    "ethnicity",
    "geography",
    "region",
];

/// The cohort's population from a country/population column of the metadata (its distinct
/// values), else `unknown`.
pub(crate) fn cohort_population(config: &AnalysisConfig, samples: &[String]) -> String {
    let Some(md) = config
        .metadata
        .as_ref()
        .and_then(|p| read_metadata_file(p).ok())
    else {
        return "unknown".into();
    };
    let index = md.index();
    for name in md.column_names() {
        if !POPULATION_COLUMNS
            .iter()
            .any(|p| name.eq_ignore_ascii_case(p))
        {
            continue;
        }
        let Some(col) = md.column(name) else {
            continue;
        };
        let mut values: Vec<String> = samples
            .iter()
            .filter_map(|id| index.get(id.as_str()).and_then(|&r| col.text(r)))
            .collect();
        values.sort();
        values.dedup();
        if !values.is_empty() {
            return format!("{} ('{name}' column)", values.join(", "));
        }
    }
    "unknown".into()
}

/// The reference that scores dysbiosis and signatures, and what the report says about it.
/// With a control level (and no `--reference` asked for), a reference built from the cohort's
/// own controls at the table's deepest of species and genus (each control scored leave-one-out);
/// otherwise `None` (the built-in `builtin` is used) and a warning naming both populations.
pub(crate) fn own_reference(
    config: &AnalysisConfig,
    table: &FeatureTable,
    grouping: &Grouping,
    builtin: Option<&gutjoint_axis::reference::Reference>,
    builtin_name: &str,
    notes: &mut Vec<String>,
) -> (
    Option<gutjoint_axis::reference::Reference>,
    Option<ReferenceChoice>,
) {
    if config.metadata.is_none() {
        return (None, None);
    }
    let cohort = cohort_population(config, table.sample_ids());
    let control = control_level(config, grouping);
    let mut failed = None;
    if let (Some(level), None) = (&control, &config.reference) {
        let ids: Vec<String> = (0..grouping.labels.len())
            .filter(|&s| grouping.names[grouping.labels[s]] == *level)
            .map(|s| table.sample_ids()[s].clone())
            .collect();
        let ranks = table.ranks_present();
        let rank = [gutjoint_table::Rank::Species, gutjoint_table::Rank::Genus]
            .into_iter()
            .find(|r| ranks.contains(r));
        match gutjoint_axis::dysbiosis::own_controls_reference(
            table,
            &ids,
            level,
            rank,
            &crate::software_version(),
        ) {
            Ok(r) => {
                let choice = ReferenceChoice {
                    kind: "own_controls".into(),
                    name: r.name.clone(),
                    reference_population: format!("this cohort's '{level}' samples"),
                    cohort_population: cohort,
                    control_level: Some(level.clone()),
                    n_controls: Some(ids.len()),
                    warning: None,
                };
                return (Some(r), Some(choice));
            }
            Err(e) => {
                notes.push(format!(
                    "the cohort's own controls could not be the reference: {e}"
                ));
                failed = Some(e.to_string());
            }
        }
    }
    let Some(builtin) = builtin else {
        return (None, None);
    };
    let why = match (&control, &config.reference, failed) {
        (_, _, Some(e)) => format!("the cohort's own controls could not be used ({e})"),
        (Some(level), Some(_), None) => format!(
            "the built-in reference {builtin_name} was asked for although the cohort has its own controls ('{level}')"
        ),
        _ => format!(
            "the group has no control level (none of {}; name the control level)",
            grouping.names.join(", ")
        ),
    };
    let reference_population = builtin.description.clone();
    let warning = format!(
        "Dysbiosis and signatures are scored against the built-in reference '{builtin_name}' because {why}. Reference population: {reference_population}. This cohort's population: {cohort}. Differences of geography, protocol or rank between the two are measured as dysbiosis as much as disease is."
    );
    (
        None,
        Some(ReferenceChoice {
            kind: "built_in".into(),
            name: builtin_name.into(),
            reference_population,
            cohort_population: cohort,
            control_level: None,
            n_controls: None,
            warning: Some(warning),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grouping(names: &[&str]) -> Grouping {
        Grouping::from_values(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_control_level_is_given_or_recognised_by_name() {
        let config = AnalysisConfig::default();
        assert_eq!(
            control_level(&config, &grouping(&["RA", "HC", "RA"])).as_deref(),
            Some("HC")
        );
        assert_eq!(
            control_level(&config, &grouping(&["case", "Controls"])).as_deref(),
            Some("Controls")
        );
        assert_eq!(control_level(&config, &grouping(&["AS", "RA"])), None);
        let given = AnalysisConfig {
            control: Some("RA".into()),
            ..AnalysisConfig::default()
        };
        assert_eq!(
            control_level(&given, &grouping(&["AS", "RA", "healthy"])).as_deref(),
            Some("RA")
        );
        assert_eq!(reference_group(&config, &grouping(&["b", "a"])), "a");
    }

    #[test]
    fn the_batch_joins_the_covariates_quoted() {
        let mut config = AnalysisConfig {
            batch: Some("Seq run".into()),
            ..AnalysisConfig::default()
        };
        assert_eq!(
            covariates_with_batch(&config).as_deref(),
            Some("C(Q(\"Seq run\"))")
        );
        config.covariates = Some("age + C(sex)".into());
        assert_eq!(
            covariates_with_batch(&config).as_deref(),
            Some("age + C(sex) + C(Q(\"Seq run\"))")
        );
        config.batch = None;
        assert_eq!(
            covariates_with_batch(&config).as_deref(),
            Some("age + C(sex)")
        );
    }

    use crate::assets::Assets;
    use crate::observer::NoopObserver;
    use std::path::PathBuf;

    fn gespic_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/gespic")
    }

    fn gespic(metadata: PathBuf) -> AnalysisConfig {
        AnalysisConfig {
            table: vec![gespic_dir().join("gespic_genus.tsv")],
            metadata: Some(metadata),
            group: Some("group".into()),
            permutations: 99,
            seed: 1,
            classifier: ClassifierModel::None,
            ..AnalysisConfig::default()
        }
    }

    /// A copy of the GESPIC metadata with `edit` applied to each data line's fields, in a
    /// fresh folder under the system's temporary directory.
    fn edited_metadata(name: &str, mut edit: impl FnMut(&mut Vec<String>)) -> PathBuf {
        let text = std::fs::read_to_string(gespic_dir().join("gespic_metadata.tsv")).unwrap();
        let mut out = String::new();
        for (i, line) in text.lines().enumerate() {
            let mut fields: Vec<String> = line.split('\t').map(str::to_string).collect();
            if i > 0 && !line.starts_with('#') {
                edit(&mut fields);
            }
            out.push_str(&fields.join("\t"));
            out.push('\n');
        }
        let dir =
            std::env::temp_dir().join(format!("gutjoint-confound-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metadata.tsv");
        std::fs::write(&path, out).unwrap();
        path
    }

    fn golden() -> serde_json::Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/golden/confounders/gespic_within_run.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// GESPIC, axSpA vs healthy: SeqExp is collinear with the group and becomes a warning box;
    /// the group is then tested within run 0 (16 axSpA, 62 healthy, counts from the metadata)
    /// with scikit-bio's pseudo-F (make_gespic_within_run.py); HLA-B27 is reported as biology
    /// tracking the disease, not adjusted for; PPIs draws the missing-in-one-group warning;
    /// dysbiosis is scored against the 62 healthy controls.
    #[test]
    fn gespic_opens_with_the_run_warning_and_within_run_results() {
        let assets = Assets::embedded().unwrap();
        let config = gespic(gespic_dir().join("gespic_metadata.tsv"));
        let a = crate::run(&config, &assets, &NoopObserver).unwrap();
        let section = a.results.confounders.as_ref().expect("confounder section");
        assert_eq!(section.control.as_deref(), Some("healthy"));
        let axspa = section
            .comparisons
            .iter()
            .find(|c| c.label == "axSpA vs healthy")
            .expect("axSpA vs healthy");
        assert_eq!(axspa.samples, 164);
        assert_eq!(axspa.compare_within, vec!["SeqExp".to_string()]);
        let check = &axspa.collinear[0];
        assert_eq!(check.column, "SeqExp");
        let g = golden();
        let levels: Vec<(String, usize, usize)> = check
            .levels
            .iter()
            .map(|l| (l.level.clone(), l.case, l.control))
            .collect();
        assert_eq!(
            levels,
            vec![
                (
                    "0".into(),
                    g["levels"]["0|axSpA"].as_u64().unwrap() as usize,
                    62
                ),
                (
                    "1".into(),
                    g["levels"]["1|axSpA"].as_u64().unwrap() as usize,
                    0
                )
            ]
        );
        assert_eq!(check.within_level.as_deref(), Some("0"));
        let close = |x: f64, want: &serde_json::Value| {
            let want = want.as_f64().unwrap();
            assert!((x - want).abs() <= 1e-9 * want.abs(), "{x} vs {want}");
        };
        let all = check.permanova.as_ref().unwrap();
        close(all.test_statistic, &g["permanova_f_all"]);
        assert_eq!(all.sample_size, 164);
        let within = check.permanova_within.as_ref().unwrap();
        close(within.test_statistic, &g["permanova_f_run0"]);
        assert_eq!(within.sample_size, 78);
        // Restricted permutations leave the pseudo-F unchanged.
        close(
            check.permanova_strata.as_ref().unwrap().test_statistic,
            &g["permanova_f_all"],
        );
        let adjusted = check.da_adjusted.as_ref().unwrap();
        assert!(
            adjusted.formula.ends_with("+ C(SeqExp)"),
            "{}",
            adjusted.formula
        );
        assert_eq!(check.da_within.as_ref().unwrap().samples, 78);
        // The report opens with the warning: it comes before every other section.
        let html = gutjoint_report::render_html(&a.results);
        let warning = html
            .find("is a nuisance column collinear with the group")
            .unwrap();
        assert!(warning < html.find("<section id=\"data\"").unwrap());
        let hla = axspa.columns.iter().find(|c| c.column == "HLAB27").unwrap();
        assert_eq!(
            (hla.role.as_str(), hla.handling.as_str()),
            ("biology", "report")
        );
        assert!(hla.collinear);
        assert!(!axspa.adjust_for.contains(&"HLAB27".to_string()));
        let ppis = axspa.columns.iter().find(|c| c.column == "PPIs").unwrap();
        assert_eq!(ppis.missing_in_groups, vec!["healthy".to_string()]);
        assert!(axspa.warnings.iter().any(|w| w.starts_with(
            "'PPIs' is recorded for axSpA (102 of 102) and missing for every healthy sample"
        )));
        let reference = section.reference.as_ref().unwrap();
        assert_eq!(reference.kind, "own_controls");
        assert_eq!(reference.n_controls, Some(62));
        assert!(reference.warning.is_none());
    }

    /// Bray–Curtis between proportion profiles, written out here as the hand derivation:
    /// Σ|p − q| / 2 over the genus bins.
    fn braycurtis(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / 2.0
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }

    /// With a control level, dysbiosis is each sample's median Bray–Curtis distance to the
    /// cohort's own controls, a control's to the other controls (leave-one-out). Checked
    /// against the definition computed here from the genus proportions.
    #[test]
    fn dysbiosis_is_scored_against_the_cohorts_own_controls() {
        let assets = Assets::embedded().unwrap();
        let config = AnalysisConfig {
            sample: Some("P119".into()),
            ..gespic(gespic_dir().join("gespic_metadata.tsv"))
        };
        let a = crate::run(&config, &assets, &NoopObserver).unwrap();
        let d = a.results.dysbiosis.as_ref().unwrap();
        assert_eq!(d.reference, "own controls (healthy)");
        let raw = crate::input::read_input_table(&crate::input::TableInput {
            table: config.table.clone(),
            format: None,
            samples_as_rows: false,
            rank: None,
            taxonomy: None,
        })
        .unwrap()
        .table;
        // Genus bins as the reference keys them: features of one genus pooled, features
        // without a genus pooled into one 'unassigned' bin; proportions of the sample total.
        let mut bins: Vec<String> = (0..raw.n_features())
            .map(|f| {
                raw.lineage(f)
                    .get(gutjoint_table::Rank::Genus)
                    .unwrap_or("unassigned")
                    .to_string()
            })
            .collect();
        let keys: Vec<String> = {
            let mut k = bins.clone();
            k.sort();
            k.dedup();
            k
        };
        let bin_of: Vec<usize> = bins
            .drain(..)
            .map(|b| keys.binary_search(&b).unwrap())
            .collect();
        let read = &raw;
        let dense = |s: usize| -> Vec<f64> {
            let mut v = vec![0.0; keys.len()];
            for f in 0..raw.n_features() {
                v[bin_of[f]] += raw.get(s, f);
            }
            let total: f64 = v.iter().sum();
            v.iter().map(|x| x / total).collect()
        };
        let md = gutjoint_table::read_metadata_file(config.metadata.as_ref().unwrap()).unwrap();
        let group = md.column("group").unwrap();
        let index = md.index();
        let controls: Vec<usize> = (0..read.n_samples())
            .filter(|&s| {
                index
                    .get(read.sample_ids()[s].as_str())
                    .and_then(|&r| group.text(r))
                    .as_deref()
                    == Some("healthy")
            })
            .collect();
        assert_eq!(controls.len(), 62);
        let score = |s: usize| {
            median(
                controls
                    .iter()
                    .filter(|&&c| c != s)
                    .map(|&c| braycurtis(&dense(s), &dense(c)))
                    .collect(),
            )
        };
        let healthy: Vec<f64> = controls.iter().map(|&c| score(c)).collect();
        let row = d.by_group.iter().find(|g| g.group == "healthy").unwrap();
        assert_eq!(row.n, 62);
        assert!(
            (row.median - median(healthy.clone())).abs() < 1e-12,
            "{} vs hand {}",
            row.median,
            median(healthy)
        );
        let p119 = read.sample_ids().iter().position(|s| s == "P119").unwrap();
        let patient = a.results.patient.as_ref().unwrap().dysbiosis.unwrap();
        assert!((patient - score(p119)).abs() < 1e-12, "{patient}");
    }

    /// Without a control level the built-in reference is used, with a warning box naming the
    /// reference's population and the cohort's ("unknown": no country column).
    #[test]
    fn without_controls_the_built_in_reference_comes_with_a_warning() {
        let md = edited_metadata("no-controls", |f| {
            if f[1] == "healthy" {
                f[1] = "volunteer".into();
            }
        });
        let a = crate::run(&gespic(md), &Assets::embedded().unwrap(), &NoopObserver).unwrap();
        let section = a.results.confounders.as_ref().unwrap();
        assert_eq!(section.control, None);
        let r = section.reference.as_ref().unwrap();
        assert_eq!(
            (r.kind.as_str(), r.name.as_str()),
            ("built_in", "gespic-healthy")
        );
        let w = r.warning.as_deref().unwrap();
        assert!(
            w.contains("62 healthy controls of the German Spondyloarthritis Inception Cohort"),
            "{w}"
        );
        assert!(w.contains("This cohort's population: unknown"), "{w}");
        assert_eq!(
            a.results.dysbiosis.as_ref().unwrap().reference,
            "gespic-healthy"
        );
        let html = gutjoint_report::render_html(&a.results);
        assert!(html.contains(
            "<strong>Warning.</strong> Dysbiosis and signatures are scored against the built-in reference 'gespic-healthy'"
        ));
    }

    /// `--batch`: a batch with one level, or one that is the group under another name, ends
    /// the run with an error naming the column; a batch with missing values is a warning box;
    /// a usable batch enters the models and the restricted PERMANOVA.
    #[test]
    fn bad_batches_are_refused_and_a_good_one_is_threaded_through() {
        let assets = Assets::embedded().unwrap();
        let one_level = edited_metadata("one-level", |f| f[2] = "0".into());
        let e = crate::run(
            &AnalysisConfig {
                batch: Some("SeqExp".into()),
                ..gespic(one_level)
            },
            &assets,
            &NoopObserver,
        )
        .expect_err("one level");
        assert!(
            e.to_string()
                .contains("batch column 'SeqExp' has a single level ('0')"),
            "{e}"
        );
        let e = crate::run(
            &AnalysisConfig {
                batch: Some("Cohort".into()),
                ..gespic(gespic_dir().join("gespic_metadata.tsv"))
            },
            &assets,
            &NoopObserver,
        )
        .expect_err("the group under another name");
        assert!(
            e.to_string()
                .contains("entirely explained by batch column 'Cohort'"),
            "{e}"
        );
        let e = crate::run(
            &AnalysisConfig {
                control: Some("nobody".into()),
                ..gespic(gespic_dir().join("gespic_metadata.tsv"))
            },
            &assets,
            &NoopObserver,
        )
        .expect_err("not a level");
        assert!(
            e.to_string()
                .contains("control level 'nobody' is not a level"),
            "{e}"
        );
        // The library serves Python and HTTP too: its messages name no command-line flag.
        assert!(!e.to_string().contains("--"), "{e}");
        // Five samples lose their run: a warning, and they leave the batch-aware tests.
        let mut k = 0;
        let missing = edited_metadata("missing", |f| {
            if f[1] == "axSpA" && k < 5 {
                f[2] = "NA".into();
                k += 1;
            }
        });
        let config = AnalysisConfig {
            batch: Some("SeqExp".into()),
            classifier: ClassifierModel::L1Logistic,
            ..gespic(missing)
        };
        let a = crate::run(&config, &assets, &NoopObserver).unwrap();
        let section = a.results.confounders.as_ref().unwrap();
        let b = section.batch.as_ref().unwrap();
        assert_eq!(b.missing, 5);
        assert!(
            section
                .warnings()
                .iter()
                .any(|w| w.contains("5 samples have no value in batch column 'SeqExp'"))
        );
        let da = a.results.differential_abundance.as_ref().unwrap();
        assert_eq!(da.formula, "C(group) + C(SeqExp)");
        assert_eq!(da.samples, a.results.samples_used - 5);
        let strata = b.permanova_strata.as_ref().unwrap();
        assert_eq!(strata.sample_size, a.results.samples_used - 5);
        // Leaving one run out cannot validate axSpA vs healthy: every healthy sample is in run
        // 0, so run 0 cannot be held out (run 1 alone holds no control) and run 1's held-out
        // predictions are all axSpA. The report says so instead of printing an AUC.
        assert!(!b.classifiers.iter().any(|c| c.case == "axSpA"));
        assert!(
            b.notes.iter().any(|n| n
                .starts_with("classifier axSpA vs healthy, leaving one batch out:")
                && n.contains("no pooled AUC")),
            "{:?}",
            b.notes
        );
    }
}

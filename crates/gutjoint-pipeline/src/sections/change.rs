/*!
The "Change over time" section of `analyze` (`subject` and `time`, optionally `donor`): the
same subjects sampled before and after a drug, a probiotic or a faecal transplant. It runs the
axis crate's `trajectory` (Shannon, dysbiosis, the mixed models `metric ~ time * group +
(1 | subject)`) and `engraftment` (PEDS per recipient) — the functions behind `gutjoint
trajectory` and `gutjoint engraftment`, so the report's numbers are those commands' numbers —
and puts the knowledge base's therapy–microbiome rows for the cohort's therapy beside what the
cohort shows. Bad longitudinal input (a duplicate subject × time, a time that is not a number,
a donor that is not a sample) ends the run with the axis crate's error, naming the metadata
file: the user asked for this section, so it is not skipped in silence.
*/

use crate::assets::Assets;
use crate::config::AnalysisConfig;
use crate::error::PipelineError;
use crate::input::metadata_column;
use gutjoint_axis::trajectory::{MetricModel, NamedColumn, TrajectoryResult};
use gutjoint_report::{
    ChangeModel, ChangePoint, ChangeSection, ChangeTerm, EngraftmentCurves, EngraftmentPoint,
    TherapyExpectation,
};
use gutjoint_table::{FeatureTable, read_metadata_file};
use std::path::Path;

type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// Words that name a control arm: the models compare the other groups with it.
const CONTROL_WORDS: [&str; 4] = ["placebo", "control", "healthy", "sham"];

/// The section, or `None` when no subject and time columns were given. `table` holds the
/// analysed samples, `full` every sample read (donor samples may have no group);
/// `reference_name` is the healthy reference the dysbiosis section used (if it could be loaded).
pub(crate) fn change(
    config: &AnalysisConfig,
    assets: &Assets,
    table: &FeatureTable,
    full: &FeatureTable,
    reference_name: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<Option<ChangeSection>> {
    let (Some(subject), Some(time)) = (&config.subject, &config.time) else {
        return Ok(None);
    };
    let Some(md_path) = &config.metadata else {
        return Err(PipelineError::Config(
            "change over time needs the metadata file with the subject and time columns".into(),
        ));
    };
    let md = read_metadata_file(md_path)?;
    let in_file =
        |e: gutjoint_axis::Error| PipelineError::Config(format!("{}: {e}", md_path.display()));
    let named = |name| named_column(&md, md_path, name);
    // The group is the arm when it varies between subjects' samples and is not the time or
    // subject itself (an FMT cohort grouped by time point has no arms).
    let group = config
        .group
        .as_deref()
        .filter(|g| g != subject && g != time);
    let (mut samples, no_subject) = gutjoint_axis::trajectory::timed_samples(
        &md,
        table.sample_ids(),
        named(subject)?,
        named(time)?,
        group.map(named).transpose()?,
    )
    .map_err(in_file)?;
    let levels: std::collections::BTreeSet<&str> =
        samples.iter().filter_map(|s| s.group.as_deref()).collect();
    let group = if levels.len() >= 2 { group } else { None };
    let control = group.and_then(|_| {
        levels
            .iter()
            .find(|l| {
                let lower = l.to_lowercase();
                CONTROL_WORDS.iter().any(|w| lower.contains(w))
            })
            .map(|l| l.to_string())
    });
    if group.is_none() {
        for s in &mut samples {
            s.group = None;
        }
    }
    // Dysbiosis against the reference the dysbiosis section used.
    let dysbiosis = match reference_name.map(|r| assets.reference(r)) {
        Some(Ok(reference)) => gutjoint_axis::KeyedProfiles::from_table(table, reference.rank())
            .map_err(PipelineError::from)
            .and_then(|p| {
                Ok(gutjoint_axis::dysbiosis::dysbiosis(
                    &p,
                    &reference,
                    config.population.as_deref(),
                    0,
                )?)
            })
            .map_err(|e| notes.push(format!("change over time: no dysbiosis trajectory: {e}")))
            .ok(),
        _ => None,
    };
    let trajectory = gutjoint_axis::trajectory::trajectory(
        table,
        &samples,
        dysbiosis.as_ref(),
        control.as_deref(),
    )
    .map_err(in_file)?;
    let engraftment = match &config.donor {
        Some(donor) => {
            // Recipients are the samples with a subject; donors are samples of the whole
            // table, also those the group join left out (donor samples have no arm).
            let recipients = gutjoint_axis::engraftment::recipients(
                &md,
                table.sample_ids(),
                named(subject)?,
                named(time)?,
                named(donor)?,
            )
            .map_err(in_file)?;
            let e = gutjoint_axis::engraftment::engraftment(full, &recipients, None)
                .map_err(in_file)?;
            Some(EngraftmentCurves {
                donor_column: donor.clone(),
                samples: e
                    .samples
                    .iter()
                    .map(|s| EngraftmentPoint {
                        sample: s.sample.clone(),
                        subject: s.subject.clone(),
                        time: s.time,
                        donor: s.donor.clone(),
                        peds: s.peds,
                        transferred_donor_features: s.transferred_donor_features,
                        total_donor_features: s.total_donor_features,
                        braycurtis_to_donor: s.braycurtis_to_donor,
                        is_baseline: s.is_baseline,
                        braycurtis_to_baseline: s.braycurtis_to_baseline,
                    })
                    .collect(),
                excluded_from_baseline_measures: e
                    .excluded_from_baseline_measures
                    .iter()
                    .map(|x| {
                        format!(
                            "subject '{}' left out of the baseline measures: {}",
                            x.subject, x.reason
                        )
                    })
                    .collect(),
                resolution_note: e.resolution_note.clone(),
            })
        }
        None => None,
    };
    let summary = cohort_summary(&trajectory, engraftment.as_ref());
    let therapies = therapies(config, assets, &md, md_path, table, &summary)?;
    Ok(Some(ChangeSection {
        subject_column: subject.clone(),
        time_column: time.clone(),
        group_column: group.map(str::to_string),
        control_group: trajectory.reference_group.clone(),
        dysbiosis_reference: dysbiosis
            .as_ref()
            .map(|d| format!("{}:{}", d.reference, d.population)),
        points: trajectory
            .points
            .iter()
            .map(|p| ChangePoint {
                sample: p.sample.clone(),
                subject: p.subject.clone(),
                time: p.time,
                group: p.group.clone(),
                shannon: p.shannon,
                dysbiosis: p.dysbiosis,
                braycurtis_to_first: p.braycurtis_to_first,
            })
            .collect(),
        models: trajectory.models.iter().map(model).collect(),
        skipped_models: trajectory
            .skipped_models
            .iter()
            .map(|s| format!("no model for {}: {}", s.metric, s.reason))
            .collect(),
        single_sample_subjects: trajectory.single_sample_subjects.clone(),
        samples_without_subject: no_subject,
        engraftment,
        therapies,
    }))
}

/// A metadata column by name, or the error naming the file and its columns.
fn named_column<'a>(
    md: &'a gutjoint_table::Metadata,
    path: &Path,
    name: &'a str,
) -> Result<NamedColumn<'a>> {
    Ok(NamedColumn {
        name,
        column: metadata_column(md, path, name)?,
    })
}

fn model(m: &MetricModel) -> ChangeModel {
    ChangeModel {
        metric: m.metric.clone(),
        formula: m.formula.clone(),
        n_samples: m.n_samples,
        n_subjects: m.n_subjects,
        subject_variance: m.subject_variance,
        residual_variance: m.residual_variance,
        singular: m.singular,
        terms: m
            .terms
            .iter()
            .map(|t| ChangeTerm {
                term: t.term.clone(),
                estimate: t.estimate,
                se: t.se,
                df: t.df,
                p: t.p,
            })
            .collect(),
    }
}

/// What this cohort shows, in one sentence: the change terms of dysbiosis and Shannon (the
/// `time:group` interactions when there are arms, else the time slope), and for transplants
/// the median PEDS at the last time point.
fn cohort_summary(t: &TrajectoryResult, e: Option<&EngraftmentCurves>) -> String {
    let mut parts = Vec::new();
    for (metric, label, healthier, worse) in [
        (
            "dysbiosis",
            "dysbiosis",
            "toward the healthy reference",
            "away from the healthy reference",
        ),
        (
            "shannon",
            "Shannon",
            "toward higher diversity",
            "toward lower diversity",
        ),
    ] {
        let Some(m) = t.models.iter().find(|m| m.metric == metric) else {
            continue;
        };
        let change_terms: Vec<_> = m
            .terms
            .iter()
            .filter(|x| x.term.starts_with("time:"))
            .collect();
        let terms = if change_terms.is_empty() {
            m.terms.iter().filter(|x| x.term == "time").collect()
        } else {
            change_terms
        };
        for x in terms {
            let better = if metric == "dysbiosis" {
                x.estimate < 0.0
            } else {
                x.estimate > 0.0
            };
            let reading = if x.p < 0.05 {
                if better { healthier } else { worse }
            } else {
                "no change detectable at p < 0.05"
            };
            parts.push(format!(
                "{label} {} {:+.4} (p = {:.3}; {reading})",
                x.term, x.estimate, x.p
            ));
        }
    }
    if let Some(e) = e {
        let last = e
            .samples
            .iter()
            .map(|s| s.time)
            .fold(f64::NEG_INFINITY, f64::max);
        let mut at_last: Vec<f64> = e
            .samples
            .iter()
            .filter(|s| s.time == last && s.peds.is_finite())
            .map(|s| s.peds)
            .collect();
        if !at_last.is_empty() {
            let m = gutjoint_axis::reference::median(&mut at_last);
            parts.push(format!(
                "median PEDS at time {last} {m:.3} ({} recipients)",
                at_last.len()
            ));
        }
    }
    if parts.is_empty() {
        "no model could be fitted".into()
    } else {
        parts.join("; ")
    }
}

/// The knowledge base's therapy–microbiome rows for the therapies the configuration names
/// (`therapy`, `drugs`), the medication column's cells, the group levels, and FMT when a donor
/// column is given; each row once, with the name that found it.
fn therapies(
    config: &AnalysisConfig,
    assets: &Assets,
    md: &gutjoint_table::Metadata,
    md_path: &Path,
    table: &FeatureTable,
    this_cohort: &str,
) -> Result<Vec<TherapyExpectation>> {
    let kb = assets.knowledge();
    let mut names: Vec<String> = config.therapy.clone();
    names.extend(config.drugs.iter().cloned());
    if config.donor.is_some() {
        names.push("FMT".into());
    }
    let index = md.index();
    let rows: Vec<usize> = table
        .sample_ids()
        .iter()
        .filter_map(|id| index.get(id.as_str()).copied())
        .collect();
    if let Some(column) = &config.medication_column {
        let col = metadata_column(md, md_path, column)?;
        let (per_sample, unknown) = gutjoint_axis::pharmaco::medications_by_sample(
            kb,
            &[],
            rows.iter().map(|&r| col.text(r)),
        );
        names.extend(per_sample.into_iter().flatten());
        // Not drugs, but maybe therapies (a probiotic product, FMT).
        names.extend(unknown.into_keys());
    }
    if let Some(group) = &config.group
        && let Some(col) = md.column(group)
    {
        let levels: std::collections::BTreeSet<String> =
            rows.iter().filter_map(|&r| col.text(r)).collect();
        names.extend(levels);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for name in names {
        let answer = kb.therapy(&name);
        // Only names the base knows as written: a guessed spelling is not what the
        // metadata says.
        if answer.matched.is_none() || answer.suggestion.is_some() {
            continue;
        }
        for t in answer.therapy_effects {
            if !seen.insert(t.id.clone()) {
                continue;
            }
            out.push(TherapyExpectation {
                named_as: name.clone(),
                id: t.id.clone(),
                therapy: t.therapy.clone(),
                therapy_class: t.therapy_class.code().to_string(),
                disease: t.disease.to_string(),
                effect: t.effect.clone(),
                direction: t.direction.to_string(),
                evidence: t.evidence.to_string(),
                confidence: t.confidence.to_string(),
                citation: t.citation.short().unwrap_or_default(),
                doi: t.citation.doi.clone().unwrap_or_default(),
                this_cohort: this_cohort.to_string(),
            });
        }
    }
    Ok(out)
}

/*!
Trajectories over time: does a treated group's microbiome move differently from the control
group's, and toward or away from health? Per sample: Shannon diversity and observed features
(the ecology crate's kernels), GMHI (species tables), dysbiosis against a healthy reference
(HMP2's median Bray–Curtis), and Bray–Curtis to the subject's own first sample and to the
previous one. Then, per metric, a linear mixed model `metric ~ time * group + (1 | subject)`
(REML, Satterthwaite degrees of freedom; `gutjoint_stats::lmm`): the `time:group` term answers
"did the groups change differently"; for dysbiosis a negative time slope means moving toward the
reference, for GMHI a positive one.

Each subject's samples are ordered by time; duplicate (subject, time) pairs and non-finite times
are refused, and subjects with a single sample are kept in the table but listed, since they say
nothing about change within a subject.
*/

use crate::dysbiosis::DysbiosisResult;
use crate::error::{Error, Result};
use crate::gmhi::gmhi;
use crate::profile::{KeyedProfiles, braycurtis_sparse};
use gutjoint_ecology::alpha::{AlphaMetric, alpha_of};
use gutjoint_stats::design::{Interaction, add_interactions, design, parse_formula};
use gutjoint_stats::lmm::MixedModel;
use gutjoint_table::{Column, FeatureTable, Metadata};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One sample of a subject at a time, optionally in a group (treatment arm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedSample {
    pub sample: String,
    pub subject: String,
    pub time: f64,
    pub group: Option<String>,
}

/// The per-sample metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryPoint {
    pub sample: String,
    pub subject: String,
    pub time: f64,
    pub group: Option<String>,
    pub shannon: f64,
    pub observed_features: f64,
    /// Present when the table has GMHI's marker species.
    pub gmhi: Option<f64>,
    /// Present when a reference was given.
    pub dysbiosis: Option<f64>,
    /// None for the subject's first sample.
    pub braycurtis_to_first: Option<f64>,
    pub braycurtis_to_previous: Option<f64>,
}

/// One fixed-effect term of a metric's mixed model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelTerm {
    pub term: String,
    pub estimate: f64,
    pub se: f64,
    pub df: f64,
    pub p: f64,
}

/// `metric ~ time [* group] + (1 | subject)` for one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricModel {
    pub metric: String,
    pub formula: String,
    pub n_samples: usize,
    pub n_subjects: usize,
    pub subject_variance: f64,
    pub residual_variance: f64,
    pub singular: bool,
    pub terms: Vec<ModelTerm>,
}

/// A metric that got no model, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedModel {
    pub metric: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryResult {
    pub points: Vec<TrajectoryPoint>,
    pub models: Vec<MetricModel>,
    pub skipped_models: Vec<SkippedModel>,
    /// Subjects with one sample: in the table, not informative about change.
    pub single_sample_subjects: Vec<String>,
    /// The reference level of the group (the controls), if there is a group.
    pub reference_group: Option<String>,
    /// One organism followed over time (`trajectory --taxon`), from [`follow_taxon`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxon: Option<TaxonFollowUp>,
}

/// Refuses a non-finite time or two samples of one subject at the same time (shared by the
/// trajectory and engraftment analyses). Items: (sample, subject, time).
pub(crate) fn check_subject_times<'a>(
    items: impl Iterator<Item = (&'a str, &'a str, f64)>,
) -> Result<()> {
    let mut seen: HashMap<(&str, u64), &str> = HashMap::new();
    for (sample, subject, time) in items {
        if !time.is_finite() {
            return Err(Error::Invalid(format!(
                "sample '{sample}' (subject '{subject}') has no numeric time"
            )));
        }
        if let Some(other) = seen.insert((subject, time.to_bits()), sample) {
            return Err(Error::Invalid(format!(
                "subject '{subject}' has two samples at time {time} ('{other}' and '{sample}'); each (subject, time) pair must be unique"
            )));
        }
    }
    Ok(())
}

/// A sample's time from a metadata column: present and numeric, or an error naming the sample,
/// its subject, the column `name` and the value found (shared by trajectories and engraftment).
pub fn sample_time(
    column: &Column,
    row: usize,
    sample: &str,
    subject: &str,
    name: &str,
) -> Result<f64> {
    let text = column.text(row).ok_or_else(|| {
        Error::Invalid(format!(
            "sample '{sample}' (subject '{subject}') has no '{name}' value"
        ))
    })?;
    text.trim()
        .parse()
        .ok()
        .filter(|t: &f64| t.is_finite())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "sample '{sample}': '{name}' is '{text}', expected a number"
            ))
        })
}

/// A metadata column and its name (the name goes into error messages).
#[derive(Debug, Clone, Copy)]
pub struct NamedColumn<'a> {
    pub name: &'a str,
    pub column: &'a Column,
}

/// The samples of `sample_ids` that have a subject value in `md`, with their time and group,
/// and the number left out because they are not in the metadata or have no subject. A sample
/// with a subject but no numeric time, or no group value when a group is given, is an error.
pub fn timed_samples(
    md: &Metadata,
    sample_ids: &[String],
    subject: NamedColumn,
    time: NamedColumn,
    group: Option<NamedColumn>,
) -> Result<(Vec<TimedSample>, usize)> {
    let index = md.index();
    let mut samples = Vec::new();
    let mut no_subject = 0usize;
    for id in sample_ids {
        let Some(who) = index
            .get(id.as_str())
            .and_then(|&row| subject.column.text(row).map(|s| (row, s)))
        else {
            no_subject += 1;
            continue;
        };
        let (row, who) = who;
        let when = sample_time(time.column, row, id, &who, time.name)?;
        let group = match group {
            Some(g) => Some(g.column.text(row).ok_or_else(|| {
                Error::Invalid(format!(
                    "sample '{id}' (subject '{who}') has no '{}' value",
                    g.name
                ))
            })?),
            None => None,
        };
        samples.push(TimedSample {
            sample: id.clone(),
            subject: who,
            time: when,
            group,
        });
    }
    if samples.is_empty() {
        return Err(Error::Invalid(format!(
            "no sample of the table has a '{}' value",
            subject.name
        )));
    }
    Ok((samples, no_subject))
}

/// Checks times and (subject, time) uniqueness; returns sample indices in the table.
fn validate(table: &FeatureTable, samples: &[TimedSample]) -> Result<Vec<usize>> {
    check_subject_times(
        samples
            .iter()
            .map(|s| (s.sample.as_str(), s.subject.as_str(), s.time)),
    )?;
    let index = table.sample_index();
    samples
        .iter()
        .map(|s| {
            index
                .get(s.sample.as_str())
                .copied()
                .ok_or_else(|| Error::Invalid(format!("sample '{}' is not in the table", s.sample)))
        })
        .collect()
}

/// Per-sample metrics and per-metric mixed models. `dysbiosis` holds scores of the table's
/// samples against a reference (from [`crate::dysbiosis::dysbiosis`]); `reference_group` the
/// control level of the group.
pub fn trajectory(
    table: &FeatureTable,
    samples: &[TimedSample],
    dysbiosis: Option<&DysbiosisResult>,
    reference_group: Option<&str>,
) -> Result<TrajectoryResult> {
    let rows = validate(table, samples)?;
    let profiles = KeyedProfiles::from_table(table, None)?;
    let g = gmhi(table);
    let gmhi_of: Option<HashMap<&str, f64>> = (g.mh_species_in_table + g.mn_species_in_table > 0)
        .then(|| {
            g.scores
                .iter()
                .map(|s| (s.sample_id.as_str(), s.gmhi))
                .collect()
        });
    let dysbiosis_of: Option<HashMap<&str, f64>> = dysbiosis.map(|d| {
        d.scores
            .iter()
            .map(|s| (s.sample_id.as_str(), s.dysbiosis))
            .collect()
    });
    // Each subject's samples in time order.
    let mut by_subject: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in samples.iter().enumerate() {
        by_subject.entry(s.subject.as_str()).or_default().push(i);
    }
    let mut first = vec![None; samples.len()];
    let mut previous = vec![None; samples.len()];
    let mut single = Vec::new();
    for (subject, members) in by_subject.iter_mut() {
        members.sort_by(|a, b| samples[*a].time.total_cmp(&samples[*b].time));
        if members.len() == 1 {
            single.push(subject.to_string());
        }
        let start = rows[members[0]];
        for w in 1..members.len() {
            let here = rows[members[w]];
            first[members[w]] = Some(braycurtis_sparse(
                &profiles.rows[here],
                &profiles.rows[start],
            ));
            previous[members[w]] = Some(braycurtis_sparse(
                &profiles.rows[here],
                &profiles.rows[rows[members[w - 1]]],
            ));
        }
    }
    let points: Vec<TrajectoryPoint> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // The alpha kernel takes a sample's nonzero values.
            let (_, stored) = table.sample(rows[i]);
            let values: Vec<f64> = stored.iter().copied().filter(|v| *v > 0.0).collect();
            TrajectoryPoint {
                sample: s.sample.clone(),
                subject: s.subject.clone(),
                time: s.time,
                group: s.group.clone(),
                shannon: alpha_of(AlphaMetric::Shannon, &values),
                observed_features: alpha_of(AlphaMetric::ObservedFeatures, &values),
                gmhi: gmhi_of
                    .as_ref()
                    .and_then(|m| m.get(s.sample.as_str()).copied()),
                dysbiosis: dysbiosis_of
                    .as_ref()
                    .and_then(|m| m.get(s.sample.as_str()).copied()),
                braycurtis_to_first: first[i],
                braycurtis_to_previous: previous[i],
            }
        })
        .collect();
    // The models.
    let grouped = samples.iter().any(|s| s.group.is_some());
    let mut metrics: Vec<(&str, Vec<Option<f64>>)> = vec![
        ("shannon", points.iter().map(|p| Some(p.shannon)).collect()),
        (
            "observed_features",
            points.iter().map(|p| Some(p.observed_features)).collect(),
        ),
    ];
    if gmhi_of.is_some() {
        metrics.push(("gmhi", points.iter().map(|p| p.gmhi).collect()));
    }
    if dysbiosis_of.is_some() {
        metrics.push(("dysbiosis", points.iter().map(|p| p.dysbiosis).collect()));
    }
    metrics.push((
        "braycurtis_to_first",
        points.iter().map(|p| p.braycurtis_to_first).collect(),
    ));
    let mut models = Vec::new();
    let mut skipped = Vec::new();
    let mut chosen_reference = None;
    for (metric, values) in metrics {
        match metric_model(samples, &values, grouped, reference_group) {
            Ok((model, reference)) => {
                chosen_reference = reference.or(chosen_reference);
                models.push(MetricModel {
                    metric: metric.to_string(),
                    ..model
                });
            }
            Err(e) => skipped.push(SkippedModel {
                metric: metric.to_string(),
                reason: e.to_string(),
            }),
        }
    }
    Ok(TrajectoryResult {
        points,
        models,
        skipped_models: skipped,
        single_sample_subjects: single,
        reference_group: chosen_reference,
        taxon: None,
    })
}

/// Fits `metric ~ time [* group] + (1 | subject)` over the samples that have the metric.
fn metric_model(
    samples: &[TimedSample],
    values: &[Option<f64>],
    grouped: bool,
    reference_group: Option<&str>,
) -> Result<(MetricModel, Option<String>)> {
    let kept: Vec<usize> = (0..samples.len())
        .filter(|&i| values[i].is_some_and(f64::is_finite))
        .collect();
    let ids: Vec<String> = kept.iter().map(|&i| samples[i].sample.clone()).collect();
    // An in-memory metadata so the design is built by the one design kernel.
    let mut columns = vec![(
        "time".to_string(),
        Column::Numeric(kept.iter().map(|&i| Some(samples[i].time)).collect()),
    )];
    let formula = if grouped {
        columns.push((
            "group".to_string(),
            Column::Categorical(kept.iter().map(|&i| samples[i].group.clone()).collect()),
        ));
        "time * group"
    } else {
        "time"
    };
    let md = Metadata {
        id_header: "sample-id".into(),
        ids: ids.clone(),
        columns,
    };
    let mut references = BTreeMap::new();
    if let (true, Some(r)) = (grouped, reference_group) {
        references.insert("group".to_string(), r.to_string());
    }
    let terms = parse_formula(if grouped { "time + group" } else { "time" })
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let mut d =
        design(&md, &ids, &terms, &references).map_err(|e| Error::Invalid(e.to_string()))?;
    if grouped {
        add_interactions(
            &mut d,
            &[Interaction {
                left: "time".into(),
                right: "group".into(),
            }],
        )
        .map_err(|e| Error::Invalid(e.to_string()))?;
    }
    let row_of: HashMap<&str, usize> = kept
        .iter()
        .map(|&i| (samples[i].sample.as_str(), i))
        .collect();
    let subjects: Vec<String> = d
        .sample_ids
        .iter()
        .map(|id| samples[row_of[id.as_str()]].subject.clone())
        .collect();
    let y: Vec<f64> = d
        .sample_ids
        .iter()
        .map(|id| values[row_of[id.as_str()]].unwrap_or(f64::NAN))
        .collect();
    let model = MixedModel::new(&d, &subjects, None).map_err(|e| Error::Invalid(e.to_string()))?;
    let fit = model.fit(&y).map_err(|e| Error::Invalid(e.to_string()))?;
    let terms = d
        .names
        .iter()
        .enumerate()
        .map(|(j, term)| ModelTerm {
            term: term.clone(),
            estimate: fit.estimate[j],
            se: fit.se[j],
            df: fit.df[j],
            p: fit.p[j],
        })
        .collect();
    Ok((
        MetricModel {
            metric: String::new(),
            formula: format!("{formula} + (1 | subject)"),
            n_samples: model.n_samples(),
            n_subjects: model.n_subjects(),
            subject_variance: fit.subject_variance,
            residual_variance: fit.residual_variance,
            singular: fit.singular,
            terms,
        },
        d.references.get("group").cloned(),
    ))
}

/// The features of a table that are one organism, and how the name was resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxonMatch {
    /// The name asked for.
    pub query: String,
    /// Its canonical key in the knowledge base, if the base knows it.
    pub accepted: Option<String>,
    /// The names compared with the table's features (the query, the accepted key and its
    /// synonyms), in that order.
    pub names: Vec<String>,
    /// Matched feature ids, in table order.
    pub features: Vec<String>,
}

/// Finds the features of `table` that are the organism `query`: a feature matches when its id
/// or a lineage name, after the knowledge base's normalisation ([`normalize`]: case, `s__`
/// prefixes, `_`, brackets), equals one of the taxon's names — the query, its accepted key and
/// every synonym listed for it (`Lacticaseibacillus rhamnosus` and `Lactobacillus rhamnosus`
/// are one organism) — or begins with one followed by a space (a strain, a subspecies or a
/// HITChip "et rel." group of that name). A genus name therefore also matches the genus's
/// species written out in full; `Lactobacillus` matches `Lactobacillus gasseri et rel.`.
pub fn match_taxon(
    table: &FeatureTable,
    kb: &gutjoint_knowledge::KnowledgeBase,
    query: &str,
) -> Result<TaxonMatch> {
    use gutjoint_knowledge::names::normalize;
    let resolved = kb.resolve_taxon(query);
    let mut names = vec![query.trim().to_string()];
    if let Some(r) = &resolved {
        names.push(r.accepted.clone());
        names.extend(kb.synonyms_of(&r.accepted));
    }
    let mut keys: Vec<String> = names.iter().map(|n| normalize(n)).collect();
    keys.retain(|k| !k.is_empty());
    keys.sort();
    keys.dedup();
    let hit = |name: &str| {
        let n = normalize(name);
        keys.iter()
            .any(|k| n == *k || (n.starts_with(k.as_str()) && n[k.len()..].starts_with(' ')))
    };
    let features: Vec<String> = (0..table.n_features())
        .filter(|&f| {
            let lineage = table.lineage(f);
            hit(&table.feature_ids()[f]) || lineage.ranks().any(|r| lineage.get(r).is_some_and(hit))
        })
        .map(|f| table.feature_ids()[f].clone())
        .collect();
    if features.is_empty() {
        return Err(Error::Invalid(format!(
            "no feature of the table is '{query}' (compared with: {}); name the organism as the table does, or its genus",
            names.join(", ")
        )));
    }
    Ok(TaxonMatch {
        query: query.trim().to_string(),
        accepted: resolved.map(|r| r.accepted),
        names,
        features,
    })
}

/// One organism followed over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxonFollowUp {
    pub taxon: TaxonMatch,
    /// Relative abundance of the matched features together, per sample in the order given.
    pub relative_abundance: Vec<f64>,
    /// Per (group, time): how many subjects were sampled and in how many the taxon was seen.
    pub by_group_and_time: Vec<TaxonCell>,
    /// `log10(relative abundance + pseudocount) ~ time [* group] + (1 | subject)`.
    pub model: Option<MetricModel>,
    /// Why there is no model, if there is none.
    pub skipped_model: Option<String>,
    /// Half the smallest nonzero relative abundance of the taxon (the model's pseudocount).
    pub pseudocount: f64,
}

/// The taxon in one group at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxonCell {
    pub group: Option<String>,
    pub time: f64,
    pub samples: usize,
    /// Samples (one per subject at a time) in which the taxon has a nonzero abundance.
    pub detected: usize,
    pub mean_relative_abundance: f64,
    pub median_relative_abundance: f64,
}

/// Follows the features of `taxon` through `samples`: their summed relative abundance per
/// sample, detection by group and time, and the mixed model of its log abundance.
pub fn follow_taxon(
    table: &FeatureTable,
    samples: &[TimedSample],
    taxon: TaxonMatch,
    reference_group: Option<&str>,
) -> Result<TaxonFollowUp> {
    let rows = validate(table, samples)?;
    let wanted: std::collections::HashSet<&str> =
        taxon.features.iter().map(String::as_str).collect();
    let columns: Vec<bool> = table
        .feature_ids()
        .iter()
        .map(|f| wanted.contains(f.as_str()))
        .collect();
    let relative_abundance: Vec<f64> = rows
        .iter()
        .map(|&r| {
            let total = table.sample_total(r);
            let (features, values) = table.sample(r);
            let part: f64 = features
                .iter()
                .zip(values)
                .filter(|(f, _)| columns[**f as usize])
                .map(|(_, v)| v)
                .sum();
            if total > 0.0 { part / total } else { 0.0 }
        })
        .collect();
    let mut cells: BTreeMap<(Option<String>, u64), Vec<f64>> = BTreeMap::new();
    for (s, &a) in samples.iter().zip(&relative_abundance) {
        // Keyed by the time's bits (times are finite, validated); sorted by value below.
        cells
            .entry((s.group.clone(), s.time.to_bits()))
            .or_default()
            .push(a);
    }
    let mut by_group_and_time: Vec<TaxonCell> = cells
        .into_iter()
        .map(|((group, time), mut values)| {
            let n = values.len();
            let median = gutjoint_numeric::median(&mut values);
            TaxonCell {
                group,
                time: f64::from_bits(time),
                samples: n,
                detected: values.iter().filter(|v| **v > 0.0).count(),
                mean_relative_abundance: values.iter().sum::<f64>() / n as f64,
                median_relative_abundance: median,
            }
        })
        .collect();
    by_group_and_time.sort_by(|a, b| a.group.cmp(&b.group).then(a.time.total_cmp(&b.time)));
    let smallest = relative_abundance
        .iter()
        .copied()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let pseudocount = if smallest.is_finite() {
        smallest / 2.0
    } else {
        0.0
    };
    let grouped = samples.iter().any(|s| s.group.is_some());
    let (model, skipped_model) = if pseudocount == 0.0 {
        (
            None,
            Some("the taxon is absent from every sample".to_string()),
        )
    } else {
        let values: Vec<Option<f64>> = relative_abundance
            .iter()
            .map(|a| Some((a + pseudocount).log10()))
            .collect();
        match metric_model(samples, &values, grouped, reference_group) {
            Ok((m, _)) => (
                Some(MetricModel {
                    metric: format!("log10({} + {pseudocount:e})", taxon.query),
                    ..m
                }),
                None,
            ),
            Err(e) => (None, Some(e.to_string())),
        }
    };
    Ok(TaxonFollowUp {
        taxon,
        relative_abundance,
        by_group_and_time,
        model,
        skipped_model,
        pseudocount,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_to_first_and_previous_follow_time_order() {
        // One subject sampled at times 2, 0, 1 (out of order on purpose), two features:
        //   t0: (1, 0)  t1: (1, 1)  t2: (0, 1)
        // BC(t1, t0) = |0.5−1| + |0.5−0| over 2 = 0.5; BC(t2, t0) = 1; BC(t2, t1) = 0.5.
        let triplets = vec![(0, 1, 5.0), (1, 0, 5.0), (2, 0, 5.0), (2, 1, 5.0)];
        let table = FeatureTable::from_triplets(
            vec!["t2".into(), "t0".into(), "t1".into()],
            vec!["a".into(), "b".into()],
            triplets,
            &gutjoint_table::Location::named("hand-made"),
        )
        .expect("table");
        let s = |id: &str, t: f64| TimedSample {
            sample: id.into(),
            subject: "p".into(),
            time: t,
            group: None,
        };
        let result = trajectory(
            &table,
            &[s("t2", 2.0), s("t0", 0.0), s("t1", 1.0)],
            None,
            None,
        )
        .expect("trajectory");
        let by: HashMap<&str, &TrajectoryPoint> = result
            .points
            .iter()
            .map(|p| (p.sample.as_str(), p))
            .collect();
        assert_eq!(by["t0"].braycurtis_to_first, None);
        assert_eq!(by["t1"].braycurtis_to_first, Some(0.5));
        assert_eq!(by["t2"].braycurtis_to_first, Some(1.0));
        assert_eq!(by["t2"].braycurtis_to_previous, Some(0.5));
        // Shannon of (0.5, 0.5) = ln 2.
        assert!((by["t1"].shannon - std::f64::consts::LN_2).abs() < 1e-15);
        // One subject: the models cannot be fitted, and say why.
        assert!(result.models.is_empty());
        assert!(result.skipped_models[0].reason.contains("subject"));
        let dup = trajectory(&table, &[s("t2", 1.0), s("t1", 1.0)], None, None)
            .unwrap_err()
            .to_string();
        assert!(dup.contains("two samples at time 1"), "{dup}");
    }
    #[test]
    fn a_genus_matches_its_split_genera_and_written_out_species() {
        // Lacticaseibacillus is one of the genera split from Lactobacillus (Zheng et al. 2020);
        // the knowledge base rolls it up to Lactobacillus, so asking for Lactobacillus finds it.
        // Lactococcus is another genus and must not match on the shared prefix.
        let kb = gutjoint_knowledge::KnowledgeBase::embedded().expect("kb");
        let table = FeatureTable::from_triplets(
            vec!["x".into()],
            vec![
                "s__Lacticaseibacillus_rhamnosus".into(),
                "Lactobacillus gasseri et rel.".into(),
                "Lactococcus lactis".into(),
                "Bifidobacterium longum".into(),
            ],
            vec![(0, 0, 1.0), (0, 1, 1.0), (0, 2, 1.0), (0, 3, 1.0)],
            &gutjoint_table::Location::named("hand-made"),
        )
        .expect("table");
        let m = match_taxon(&table, &kb, "Lactobacillus").expect("match");
        assert_eq!(
            m.features,
            [
                "s__Lacticaseibacillus_rhamnosus",
                "Lactobacillus gasseri et rel."
            ]
        );
        assert_eq!(m.accepted.as_deref(), Some("Lactobacillus"));
        let m = match_taxon(&table, &kb, "Lacticaseibacillus rhamnosus").expect("species");
        assert_eq!(m.features, ["s__Lacticaseibacillus_rhamnosus"]);
        let e = match_taxon(&table, &kb, "Akkermansia")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no feature of the table is 'Akkermansia'"),
            "{e}"
        );
    }

    #[test]
    fn following_a_taxon_by_hand() {
        // Two subjects per arm, before (0) and after (1). Features: the probiotic "L" and a
        // background "B". Counts (L, B):
        //   a1: t0 (0, 10) t1 (5, 15)   a2: t0 (0, 20) t1 (10, 30)     arm "probiotic"
        //   c1: t0 (0, 10) t1 (0, 10)   c2: t0 (1, 9)  t1 (0, 20)      arm "placebo"
        // Relative abundance of L: a1 0, 0.25; a2 0, 0.25; c1 0, 0; c2 0.1, 0.
        let ids = [
            "a1t0", "a1t1", "a2t0", "a2t1", "c1t0", "c1t1", "c2t0", "c2t1",
        ];
        let counts = [
            (0.0, 10.0),
            (5.0, 15.0),
            (0.0, 20.0),
            (10.0, 30.0),
            (0.0, 10.0),
            (0.0, 10.0),
            (1.0, 9.0),
            (0.0, 20.0),
        ];
        let mut triplets = Vec::new();
        for (s, (l, b)) in counts.iter().enumerate() {
            if *l > 0.0 {
                triplets.push((s as u32, 0, *l));
            }
            triplets.push((s as u32, 1, *b));
        }
        let table = FeatureTable::from_triplets(
            ids.iter().map(|s| s.to_string()).collect(),
            vec!["L".into(), "B".into()],
            triplets,
            &gutjoint_table::Location::named("hand-made"),
        )
        .expect("table");
        let samples: Vec<TimedSample> = ids
            .iter()
            .map(|id| TimedSample {
                sample: id.to_string(),
                subject: id[..2].to_string(),
                time: if id.ends_with('0') { 0.0 } else { 1.0 },
                group: Some(
                    if id.starts_with('a') {
                        "probiotic"
                    } else {
                        "placebo"
                    }
                    .into(),
                ),
            })
            .collect();
        let taxon = TaxonMatch {
            query: "L".into(),
            accepted: None,
            names: vec!["L".into()],
            features: vec!["L".into()],
        };
        let f = follow_taxon(&table, &samples, taxon, Some("placebo")).expect("follow");
        assert_eq!(
            f.relative_abundance,
            [0.0, 0.25, 0.0, 0.25, 0.0, 0.0, 0.1, 0.0]
        );
        let cell = |g: &str, t: f64| {
            f.by_group_and_time
                .iter()
                .find(|c| c.group.as_deref() == Some(g) && c.time == t)
                .expect("cell")
                .clone()
        };
        let after = cell("probiotic", 1.0);
        assert_eq!((after.samples, after.detected), (2, 2));
        assert!((after.mean_relative_abundance - 0.25).abs() < 1e-15);
        let before = cell("placebo", 0.0);
        assert_eq!(
            (before.detected, before.median_relative_abundance),
            (1, 0.05)
        );
        assert_eq!(cell("placebo", 1.0).detected, 0);
        // Pseudocount: half the smallest nonzero abundance, 0.1 / 2.
        assert!((f.pseudocount - 0.05).abs() < 1e-15);
        // The model's time:group term is the probiotic arm's extra change in log10 abundance:
        // with every subject observed twice it is the difference in mean changes,
        // probiotic: log10(0.30) − log10(0.05) = 0.778151 (both subjects);
        // placebo: c1 0, c2 log10(0.05) − log10(0.15) = −0.477121, mean −0.238561;
        // difference 1.016712.
        let model = f.model.expect("model");
        let term = model
            .terms
            .iter()
            .find(|t| t.term == "time:group[T.probiotic]")
            .expect("interaction");
        let want = (0.3f64.log10() - 0.05f64.log10()) - 0.5 * (0.05f64.log10() - 0.15f64.log10());
        assert!((want - 1.016712).abs() < 1e-6);
        assert!(
            (term.estimate - want).abs() < 1e-9,
            "{} vs {want}",
            term.estimate
        );
    }
}

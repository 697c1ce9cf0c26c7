/*!
Dysbiosis scores against a healthy reference (Lloyd-Price et al. 2019, Nature 569:655): a
sample's score is its median Bray–Curtis distance to the reference population's healthy
samples; its percentile places it among the reference samples' own leave-one-out scores, and
it is flagged above the 90th percentile, as in HMP2. The taxa that deviate most are those
with the largest CLR z-scores against the reference, reported with their direction. A sample
whose id is in the reference is never compared with itself.

A reference from another population, protocol or rank measures those differences as much as
health ("microbial patterns also vary by geography"). When the cohort has its own controls,
[`dysbiosis_against_controls`] scores every sample against them: each control is scored
against the other controls (leave-one-out), cases against all of them.
*/

use crate::error::{Error, Result};
use crate::profile::{KeyedProfiles, braycurtis_sparse};
use crate::reference::{
    Population, Reference, build_reference, clr_row, euclidean, median, quantile_sorted,
};
use gutjoint_table::{FeatureTable, Rank};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// The flag threshold: the reference's own 90th percentile (HMP2's rule).
pub const FLAG_QUANTILE: f64 = 0.9;

#[derive(Debug, Clone, Serialize)]
pub struct DysbiosisScore {
    pub sample_id: String,
    pub dysbiosis: f64,
    pub percentile: f64,
    pub flag: bool,
    pub reference: String,
    /// `(taxon, z)`, largest |z| first.
    pub top_deviating_taxa: Vec<(String, f64)>,
    /// Whether the sample's own id was left out of the reference it was scored against.
    pub left_out_of_reference: bool,
}

/// The distance behind the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DysbiosisMetric {
    /// Bray–Curtis on proportions over the union of taxa (HMP2's choice).
    BrayCurtis,
    /// Aitchison: Euclidean between CLR profiles over the reference's taxa (taxa the reference
    /// lacks are left out), with the reference's pseudocount.
    Aitchison,
}

#[derive(Debug, Clone, Serialize)]
pub struct DysbiosisResult {
    pub metric: DysbiosisMetric,
    pub reference: String,
    pub population: String,
    pub rank: String,
    pub threshold: f64,
    /// Share of each sample's abundance in taxa that the reference population has (mean).
    pub mean_shared_abundance: f64,
    pub scores: Vec<DysbiosisScore>,
}

/// Scores every sample of `profiles` against one population of `reference`.
pub fn dysbiosis_with(
    profiles: &KeyedProfiles,
    reference: &Reference,
    population: Option<&str>,
    top: usize,
    metric: DysbiosisMetric,
) -> Result<DysbiosisResult> {
    let pop: &Population = reference.population(population)?;
    let mut keys = pop.keys.clone();
    let n_ref_keys = keys.len();
    let rows = profiles.reindexed(&mut keys);
    let shared: Vec<f64> = rows
        .iter()
        .map(|r| {
            r.iter()
                .filter(|(k, _)| (*k as usize) < n_ref_keys)
                .map(|p| p.1)
                .sum()
        })
        .collect();
    if shared.iter().all(|s| *s == 0.0) {
        return Err(Error::NoOverlap {
            rank: reference.rank.clone(),
            reference: reference.name.clone(),
        });
    }
    let reference_clrs: Vec<Vec<f64>> = match metric {
        DysbiosisMetric::Aitchison => {
            if pop.loo_aitchison.len() != pop.sample_ids.len() {
                return Err(Error::Invalid(format!(
                    "reference '{}' was built without Aitchison scores; rebuild it with this version of gutjoint",
                    reference.name
                )));
            }
            pop.profiles
                .iter()
                .map(|r| clr_row(r, n_ref_keys, reference.pseudocount))
                .collect()
        }
        DysbiosisMetric::BrayCurtis => Vec::new(),
    };
    let mut sorted = match metric {
        DysbiosisMetric::BrayCurtis => pop.loo_scores.clone(),
        DysbiosisMetric::Aitchison => pop.loo_aitchison.clone(),
    };
    sorted.sort_by(f64::total_cmp);
    let threshold = quantile_sorted(&sorted, FLAG_QUANTILE);
    let own: HashMap<&str, usize> = pop
        .sample_ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let label = format!("{}:{}", reference.name, pop.label);
    let scores = rows
        .par_iter()
        .enumerate()
        .map(|(s, row)| {
            let id = &profiles.sample_ids[s];
            let skip = own.get(id.as_str()).copied();
            let clr = clr_row(row, n_ref_keys, reference.pseudocount);
            let mut d: Vec<f64> = match metric {
                DysbiosisMetric::BrayCurtis => pop
                    .profiles
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| Some(*j) != skip)
                    .map(|(_, r)| braycurtis_sparse(row, r))
                    .collect(),
                DysbiosisMetric::Aitchison => reference_clrs
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| Some(*j) != skip)
                    .map(|(_, r)| euclidean(&clr, r))
                    .collect(),
            };
            let score = median(&mut d);
            let below = sorted.iter().filter(|v| **v <= score).count();
            let mut z: Vec<(String, f64)> = (0..n_ref_keys)
                .filter(|&k| pop.clr_sd[k] > 0.0)
                .map(|k| {
                    (
                        pop.keys[k].clone(),
                        (clr[k] - pop.clr_mean[k]) / pop.clr_sd[k],
                    )
                })
                .collect();
            z.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
            z.truncate(top);
            DysbiosisScore {
                sample_id: id.clone(),
                dysbiosis: score,
                percentile: 100.0 * below as f64 / sorted.len() as f64,
                flag: score > threshold,
                reference: label.clone(),
                top_deviating_taxa: z,
                left_out_of_reference: skip.is_some(),
            }
        })
        .collect();
    Ok(DysbiosisResult {
        metric,
        reference: reference.name.clone(),
        population: pop.label.clone(),
        rank: reference.rank.clone(),
        threshold,
        mean_shared_abundance: shared.iter().sum::<f64>() / shared.len().max(1) as f64,
        scores,
    })
}

/// A reference built from the cohort's own controls (`control_ids`, at least three of them in
/// the table), named `own controls (<label>)`, at `rank` (None = by feature id). Scoring a
/// table against it leaves each control out of its own comparison ([`dysbiosis_with`] and the
/// signatures skip a sample's own id), so controls get leave-one-out scores, the same as the
/// percentile base.
pub fn own_controls_reference(
    table: &FeatureTable,
    control_ids: &[String],
    label: &str,
    rank: Option<Rank>,
    software: &str,
) -> Result<Reference> {
    let index = table.sample_index();
    let mut rows: Vec<usize> = control_ids
        .iter()
        .filter_map(|id| index.get(id.as_str()).copied())
        .collect();
    rows.sort_unstable();
    rows.dedup();
    if rows.len() < 3 {
        return Err(Error::Invalid(format!(
            "the cohort's own controls ('{label}') number {} in the table; at least 3 are needed to score against them",
            rows.len()
        )));
    }
    let controls = table.select_samples(&rows);
    let profiles = KeyedProfiles::from_table(&controls, rank)?;
    let labels = vec![label.to_string(); rows.len()];
    build_reference(
        &format!("own controls ({label})"),
        &format!(
            "the cohort's own {} control samples ('{label}'); controls scored leave-one-out",
            rows.len()
        ),
        "the analysed table",
        software,
        &profiles,
        &labels,
    )
}

/// Scores every sample of `table` against the cohort's own controls
/// ([`own_controls_reference`]).
pub fn dysbiosis_against_controls(
    table: &FeatureTable,
    control_ids: &[String],
    label: &str,
    rank: Option<Rank>,
    top: usize,
    metric: DysbiosisMetric,
    software: &str,
) -> Result<DysbiosisResult> {
    let reference = own_controls_reference(table, control_ids, label, rank, software)?;
    let all = KeyedProfiles::from_table(table, rank)?;
    dysbiosis_with(&all, &reference, None, top, metric)
}

/// Bray–Curtis dysbiosis (the HMP2 definition); see [`dysbiosis_with`] for Aitchison.
pub fn dysbiosis(
    profiles: &KeyedProfiles,
    reference: &Reference,
    population: Option<&str>,
    top: usize,
) -> Result<DysbiosisResult> {
    dysbiosis_with(
        profiles,
        reference,
        population,
        top,
        DysbiosisMetric::BrayCurtis,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_table::Location;

    /// Four controls and one case, two taxa; Bray–Curtis between proportion profiles is half
    /// the L1 distance. Controls (a, b, c, d) = (1, 0), (0.8, 0.2), (0.6, 0.4), (0.9, 0.1);
    /// case (0, 1).
    #[test]
    fn scores_against_own_controls_leave_one_out() {
        let profiles = [[1.0, 0.0], [0.8, 0.2], [0.6, 0.4], [0.9, 0.1], [0.0, 1.0]];
        let ids = ["a", "b", "c", "d", "case"];
        let mut triplets = Vec::new();
        for (s, p) in profiles.iter().enumerate() {
            for (f, v) in p.iter().enumerate() {
                if *v > 0.0 {
                    triplets.push((s as u32, f as u32, *v));
                }
            }
        }
        let table = FeatureTable::from_triplets(
            ids.iter().map(|s| s.to_string()).collect(),
            vec!["Alpha".into(), "Beta".into()],
            triplets,
            &Location::named("t"),
        )
        .expect("table");
        let controls: Vec<String> = ids[..4].iter().map(|s| s.to_string()).collect();
        let r = dysbiosis_against_controls(
            &table,
            &controls,
            "healthy",
            None,
            2,
            DysbiosisMetric::BrayCurtis,
            "test",
        )
        .expect("scores");
        assert_eq!(r.reference, "own controls (healthy)");
        let bc = |x: [f64; 2], y: [f64; 2]| ((x[0] - y[0]).abs() + (x[1] - y[1]).abs()) / 2.0;
        let med3 = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[1]
        };
        // Control a against b, c, d: 0.2, 0.4, 0.1 → median 0.2.
        let a = med3(vec![
            bc(profiles[0], profiles[1]),
            bc(profiles[0], profiles[2]),
            bc(profiles[0], profiles[3]),
        ]);
        assert!((r.scores[0].dysbiosis - a).abs() < 1e-12);
        assert!(r.scores[0].left_out_of_reference);
        // The case against all four controls: 1.0, 0.8, 0.6, 0.9 → median 0.85.
        assert!((r.scores[4].dysbiosis - 0.85).abs() < 1e-12);
        assert!(!r.scores[4].left_out_of_reference);
        assert!(r.scores[4].flag);
        assert_eq!(r.scores[4].percentile, 100.0);
        let e = dysbiosis_against_controls(
            &table,
            &controls[..2],
            "healthy",
            None,
            2,
            DysbiosisMetric::BrayCurtis,
            "test",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("number 2 in the table"), "{e}");
    }
}

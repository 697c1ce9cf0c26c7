/*!
Healthy reference cohorts, by population.

"How dysbiotic is this gut?" only has an answer relative to healthy people — and gut
communities differ between countries, diets and sequencing protocols, so the reference should
match the sample's population. A [`Reference`] stores, for each population label, its healthy
samples' profiles at one rank, each sample's leave-one-out dysbiosis score (its median
Bray–Curtis distance to the other reference samples: the HMP2 definition, Lloyd-Price et al.
2019, Nature 569:655), and per-taxon CLR means and standard deviations for z-scores. A
reference is only as good as its population match; the file says where its samples came from.
*/

use crate::error::{Error, Result};
use crate::profile::{KeyedProfiles, braycurtis_sparse};
use gutjoint_table::Rank;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "gutjoint-reference";
pub const VERSION: u32 = 1;

/// A versioned reference file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reference {
    pub format: String,
    pub version: u32,
    pub name: String,
    pub description: String,
    /// Rank name (`species`, `genus`…) or `feature` for tables matched by feature id.
    pub rank: String,
    pub software: String,
    pub source: String,
    /// Added to proportions before the CLR of the z-scores.
    pub pseudocount: f64,
    pub populations: Vec<Population>,
}

/// One population's healthy samples.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Population {
    pub label: String,
    pub sample_ids: Vec<String>,
    pub keys: Vec<String>,
    /// Sparse proportions per sample, `(key index, proportion)`.
    pub profiles: Vec<Vec<(u32, f64)>>,
    /// Each sample's median Bray–Curtis distance to the population's other samples.
    pub loo_scores: Vec<f64>,
    /// The same with the Aitchison distance (Euclidean between CLR profiles over the
    /// population's taxa, with the reference's pseudocount).
    #[serde(default)]
    pub loo_aitchison: Vec<f64>,
    pub clr_mean: Vec<f64>,
    pub clr_sd: Vec<f64>,
}

impl Reference {
    pub fn rank(&self) -> Option<Rank> {
        Rank::parse(&self.rank)
    }

    pub fn population(&self, label: Option<&str>) -> Result<&Population> {
        match label {
            Some(l) => self
                .populations
                .iter()
                .find(|p| p.label == l)
                .ok_or_else(|| Error::UnknownPopulation {
                    asked: l.into(),
                    reference: self.name.clone(),
                    available: self
                        .populations
                        .iter()
                        .map(|p| format!("{} ({} samples)", p.label, p.sample_ids.len()))
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            None => self
                .populations
                .iter()
                .find(|p| p.label == "all")
                .or(self.populations.first())
                .ok_or_else(|| {
                    Error::Invalid(format!("reference '{}' has no population", self.name))
                }),
        }
    }

    /// Checks the header of a reference read from a file.
    pub fn check(&self) -> Result<()> {
        if self.format != FORMAT || self.version != VERSION {
            return Err(Error::Invalid(format!(
                "not a gutjoint reference of version {VERSION} (format '{}', version {})",
                self.format, self.version
            )));
        }
        Ok(())
    }
}

impl Reference {
    /// Checks the header and every dimension a reader indexes by, so a malformed or
    /// hand-edited file is refused with a message instead of panicking later: per population,
    /// one profile and one leave-one-out score per sample, one CLR mean and SD per key, and
    /// profile entries pointing at existing keys.
    pub fn validate(&self) -> Result<()> {
        self.check()?;
        if self.populations.is_empty() {
            return Err(Error::Invalid(format!(
                "reference '{}' has no population",
                self.name
            )));
        }
        for p in &self.populations {
            let n = p.sample_ids.len();
            let k = p.keys.len();
            let bad = |what: String| {
                Err(Error::Invalid(format!(
                    "reference '{}', population '{}': {what}",
                    self.name, p.label
                )))
            };
            if p.profiles.len() != n || p.loo_scores.len() != n {
                return bad(format!(
                    "{n} samples but {} profiles and {} leave-one-out scores",
                    p.profiles.len(),
                    p.loo_scores.len()
                ));
            }
            if !p.loo_aitchison.is_empty() && p.loo_aitchison.len() != n {
                return bad(format!(
                    "{n} samples but {} Aitchison leave-one-out scores",
                    p.loo_aitchison.len()
                ));
            }
            if p.clr_mean.len() != k || p.clr_sd.len() != k {
                return bad(format!(
                    "{k} taxa but {} CLR means and {} CLR SDs",
                    p.clr_mean.len(),
                    p.clr_sd.len()
                ));
            }
            if let Some((s, &(key, _))) = p
                .profiles
                .iter()
                .enumerate()
                .find_map(|(s, row)| row.iter().find(|e| e.0 as usize >= k).map(|e| (s, e)))
            {
                return bad(format!(
                    "sample '{}' refers to taxon {key} of {k}",
                    p.sample_ids[s]
                ));
            }
        }
        Ok(())
    }
}

/// The numeric room's median, quantile and Euclidean distance, under their old paths here.
pub use gutjoint_numeric::{euclidean, median, quantile_sorted};

/// CLR of one sparse proportion row over `n_keys` keys with a pseudocount.
pub fn clr_row(row: &[(u32, f64)], n_keys: usize, pseudocount: f64) -> Vec<f64> {
    let mut out = vec![0.0; n_keys];
    gutjoint_numeric::clr_sparse_into(
        row.iter().map(|(k, v)| (*k as usize, *v)),
        pseudocount,
        &mut out,
    );
    out
}

fn build_population(
    label: String,
    profiles: &KeyedProfiles,
    members: &[usize],
    pseudocount: f64,
) -> Population {
    // Keys used by this population only, in sorted order.
    let mut used: Vec<u32> = members
        .iter()
        .flat_map(|&s| profiles.rows[s].iter().map(|p| p.0))
        .collect();
    used.sort_unstable();
    used.dedup();
    let keys: Vec<String> = used
        .iter()
        .map(|&k| profiles.keys[k as usize].clone())
        .collect();
    let rows: Vec<Vec<(u32, f64)>> = members
        .iter()
        .map(|&s| {
            profiles.rows[s]
                .iter()
                .map(|(k, v)| (used.binary_search(k).unwrap_or(0) as u32, *v))
                .collect()
        })
        .collect();
    let loo_scores: Vec<f64> = (0..rows.len())
        .into_par_iter()
        .map(|i| {
            let mut d: Vec<f64> = (0..rows.len())
                .filter(|&j| j != i)
                .map(|j| braycurtis_sparse(&rows[i], &rows[j]))
                .collect();
            median(&mut d)
        })
        .collect();
    let n = keys.len();
    let clrs: Vec<Vec<f64>> = rows.iter().map(|r| clr_row(r, n, pseudocount)).collect();
    let m = clrs.len().max(1) as f64;
    let clr_mean: Vec<f64> = (0..n)
        .map(|k| clrs.iter().map(|c| c[k]).sum::<f64>() / m)
        .collect();
    let loo_aitchison: Vec<f64> = (0..clrs.len())
        .into_par_iter()
        .map(|i| {
            let mut d: Vec<f64> = (0..clrs.len())
                .filter(|&j| j != i)
                .map(|j| euclidean(&clrs[i], &clrs[j]))
                .collect();
            median(&mut d)
        })
        .collect();
    let clr_sd: Vec<f64> = (0..n)
        .map(|k| {
            let var = clrs
                .iter()
                .map(|c| (c[k] - clr_mean[k]).powi(2))
                .sum::<f64>()
                / (m - 1.0).max(1.0);
            var.sqrt()
        })
        .collect();
    Population {
        label,
        sample_ids: members
            .iter()
            .map(|&s| profiles.sample_ids[s].clone())
            .collect(),
        keys,
        profiles: rows,
        loo_scores,
        loo_aitchison,
        clr_mean,
        clr_sd,
    }
}

/// Builds a reference from healthy samples' profiles and a population label per sample. With
/// more than one population, an `all` population pools them.
pub fn build_reference(
    name: &str,
    description: &str,
    source: &str,
    software: &str,
    profiles: &KeyedProfiles,
    labels: &[String],
) -> Result<Reference> {
    if profiles.rows.len() < 3 {
        return Err(Error::Invalid(format!(
            "a reference needs at least 3 healthy samples, got {}",
            profiles.rows.len()
        )));
    }
    let min_nonzero = profiles
        .rows
        .iter()
        .flatten()
        .map(|p| p.1)
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let pseudocount = if min_nonzero.is_finite() {
        min_nonzero / 2.0
    } else {
        1e-6
    };
    let mut names: Vec<String> = labels.to_vec();
    names.sort();
    names.dedup();
    let mut populations = Vec::new();
    for label in &names {
        let members: Vec<usize> = (0..labels.len()).filter(|&s| &labels[s] == label).collect();
        if members.len() < 3 {
            return Err(Error::Invalid(format!(
                "population '{label}' has {} healthy samples; at least 3 are needed",
                members.len()
            )));
        }
        populations.push(build_population(
            label.clone(),
            profiles,
            &members,
            pseudocount,
        ));
    }
    if names.len() > 1 {
        let all: Vec<usize> = (0..labels.len()).collect();
        populations.push(build_population("all".into(), profiles, &all, pseudocount));
    }
    Ok(Reference {
        format: FORMAT.into(),
        version: VERSION,
        name: name.into(),
        description: description.into(),
        rank: profiles.rank.map_or("feature".into(), |r| r.name().into()),
        software: software.into(),
        source: source.into(),
        pseudocount,
        populations,
    })
}

/*!
Dominance: one organism taking over the community. The founding article describes a healthy gut
as one with "no single bacterium, virus, or fungus dominating". Following Taur et al. (2012,
Clin Infect Dis 55:905), a sample is flagged as dominated when one taxon reaches 30% of its
abundance (Berger–Parker index ≥ 0.30); the threshold is a parameter.
*/

use crate::profile::KeyedProfiles;
use serde::Serialize;

/// Taur et al.'s threshold for intestinal domination.
pub const DEFAULT_THRESHOLD: f64 = 0.30;

#[derive(Debug, Clone, Serialize)]
pub struct DominanceCall {
    pub sample_id: String,
    pub top_taxon: String,
    /// Berger–Parker: the top taxon's share of the sample.
    pub share: f64,
    pub dominated: bool,
}

pub fn dominance(profiles: &KeyedProfiles, threshold: f64) -> Vec<DominanceCall> {
    profiles
        .rows
        .iter()
        .zip(&profiles.sample_ids)
        .map(|(row, id)| {
            let top = row
                .iter()
                .copied()
                .fold(None::<(u32, f64)>, |best, p| match best {
                    Some(b) if b.1 >= p.1 => Some(b),
                    _ => Some(p),
                });
            let (taxon, share) = top.map_or((String::new(), 0.0), |(k, v)| {
                (profiles.keys[k as usize].clone(), v)
            });
            DominanceCall {
                sample_id: id.clone(),
                top_taxon: taxon,
                share,
                dominated: share >= threshold,
            }
        })
        .collect()
}

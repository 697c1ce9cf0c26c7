/*!
Profiles keyed by taxon name at one rank, so that a user's table and a reference built from
another study can be compared: both are collapsed to the rank (genus, species…) and their
features matched by the name at that rank, whatever the lineage spelling around it.
*/

use crate::error::{Error, Result};
use gutjoint_table::{FeatureTable, Rank};
use std::collections::BTreeMap;

/// Relative-abundance profiles (proportions summing to 1 per sample) keyed by taxon name.
#[derive(Debug, Clone)]
pub struct KeyedProfiles {
    pub rank: Option<Rank>,
    pub sample_ids: Vec<String>,
    /// Sorted unique taxon keys.
    pub keys: Vec<String>,
    /// Per sample: (key index, proportion), sorted by key index.
    pub rows: Vec<Vec<(u32, f64)>>,
}

/// The key of feature `f` at `rank`: its name at that rank; features without a name there are
/// pooled as `unassigned <rank>` (so their mass still counts in distances).
fn key_at(table: &FeatureTable, f: usize, rank: Option<Rank>) -> String {
    match rank {
        None => table.feature_ids()[f].clone(),
        Some(rank) => match table.lineage(f).get(rank) {
            Some(name) => name.to_string(),
            None => format!("unassigned {rank}"),
        },
    }
}

impl KeyedProfiles {
    /// Collapses a table to `rank` (None = by feature id) and normalises every sample.
    pub fn from_table(table: &FeatureTable, rank: Option<Rank>) -> Result<KeyedProfiles> {
        if let Some(r) = rank
            && !table.ranks_present().contains(&r)
        {
            let present: Vec<&str> = table.ranks_present().iter().map(|r| r.name()).collect();
            return Err(Error::WrongRank {
                wanted: r.name().into(),
                present: if present.is_empty() {
                    "none (opaque feature ids)".into()
                } else {
                    present.join(", ")
                },
            });
        }
        let feature_keys: Vec<String> = (0..table.n_features())
            .map(|f| key_at(table, f, rank))
            .collect();
        let mut keys: Vec<String> = feature_keys.clone();
        keys.sort();
        keys.dedup();
        let index: BTreeMap<&str, u32> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i as u32))
            .collect();
        let rows = (0..table.n_samples())
            .map(|s| {
                let (idx, vals) = table.sample(s);
                let total: f64 = vals.iter().sum();
                let mut acc: BTreeMap<u32, f64> = BTreeMap::new();
                if total > 0.0 {
                    for (f, v) in idx.iter().zip(vals) {
                        *acc.entry(index[feature_keys[*f as usize].as_str()])
                            .or_insert(0.0) += v / total;
                    }
                }
                acc.into_iter().collect()
            })
            .collect();
        Ok(KeyedProfiles {
            rank,
            sample_ids: table.sample_ids().to_vec(),
            keys,
            rows,
        })
    }

    /// Re-expresses these profiles in another key space (keys missing there are appended).
    pub fn reindexed(&self, keys: &mut Vec<String>) -> Vec<Vec<(u32, f64)>> {
        let mut index: BTreeMap<String, u32> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u32))
            .collect();
        let map: Vec<u32> = self
            .keys
            .iter()
            .map(|k| {
                *index.entry(k.clone()).or_insert_with(|| {
                    keys.push(k.clone());
                    (keys.len() - 1) as u32
                })
            })
            .collect();
        self.rows
            .iter()
            .map(|row| {
                let mut r: Vec<(u32, f64)> =
                    row.iter().map(|(k, v)| (map[*k as usize], *v)).collect();
                r.sort_by_key(|p| p.0);
                r
            })
            .collect()
    }
}

/// Bray–Curtis between two sorted sparse rows (the numeric room's kernel, under its old path).
pub use gutjoint_numeric::braycurtis_sparse;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_braycurtis_by_hand() {
        // a = (0.5, 0.5, 0), b = (0, 0.5, 0.5): |0.5| + 0 + |0.5| over 2 = 0.5
        assert_eq!(
            braycurtis_sparse(&[(0, 0.5), (1, 0.5)], &[(1, 0.5), (2, 0.5)]),
            0.5
        );
        assert_eq!(braycurtis_sparse(&[(3, 1.0)], &[(3, 1.0)]), 0.0);
    }
}

/*!
The Gut Microbiome Health Index (GMHI; Gupta et al. 2020, Nat Commun 11:4635).

GMHI compares two groups of species found by the authors in 4,347 public stool metagenomes:
7 health-prevalent (MH) and 43 health-scarce (MN) species. Following the authors' reference
script step by step:

1. drop features whose name contains `unclassified`, then those containing `virus` (as the
   authors' `grep`, case-sensitive, on the feature's name);
2. renormalise each sample to proportions; set proportions below 1e-5 to zero (no second
   renormalisation);
3. for each group G ∈ {MH, MN}: richness `R_G` (species present) and Shannon `H_G = -Σ x ln x`
   over the group's species, with `x` the sample-wide proportions;
4. `ψ_MH = R_MH / 7 · H_MH`, `ψ_MN = R_MN / 31 · H_MN` (7 and 31 are the authors' R′: median
   richness in the top and bottom 1% of samples);
5. `GMHI = log10((ψ_MH + 1e-5) / (ψ_MN + 1e-5))`.

Species are matched by name whatever the spelling: `s__Alistipes_senegalensis`,
`Alistipes senegalensis`, or a full MetaPhlAn lineage ending in that species.
*/

use gutjoint_table::{FeatureTable, Lineage, Rank};
use serde::Serialize;
use std::collections::HashSet;

const MH_LIST: &str = include_str!("../data/gmhi_MH_species.txt");
const MN_LIST: &str = include_str!("../data/gmhi_MN_species.txt");
/// The authors' R′ values.
pub const MH_PRIME: f64 = 7.0;
pub const MN_PRIME: f64 = 31.0;
const FLOOR: f64 = 1e-5;

/// GMHI and its parts for one sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GmhiScore {
    pub sample_id: String,
    pub gmhi: f64,
    pub mh_richness: usize,
    pub mn_richness: usize,
    pub mh_shannon: f64,
    pub mn_shannon: f64,
    pub psi_mh: f64,
    pub psi_mn: f64,
}

/// GMHI of every sample, with how many of the 50 marker species the table names.
#[derive(Debug, Clone, Serialize)]
pub struct GmhiResult {
    pub scores: Vec<GmhiScore>,
    pub mh_species_in_table: usize,
    pub mn_species_in_table: usize,
    pub features_dropped_unclassified_or_virus: usize,
}

/// The species name a feature stands for, normalised for matching (`alistipes senegalensis`).
fn species_key(feature_id: &str, lineage: &Lineage) -> Option<String> {
    lineage
        .get(Rank::Species)
        .map(str::to_string)
        .or_else(|| {
            Lineage::from_feature_id(feature_id)
                .get(Rank::Species)
                .map(str::to_string)
        })
        .map(|s| s.to_lowercase())
}

fn list_keys(text: &str) -> HashSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            Lineage::from_feature_id(l)
                .get(Rank::Species)
                .map(|s| s.to_lowercase())
        })
        .collect()
}

/// Computes GMHI for every sample of a species-level table.
pub fn gmhi(table: &FeatureTable) -> GmhiResult {
    let mh = list_keys(MH_LIST);
    let mn = list_keys(MN_LIST);
    let mut group = vec![0u8; table.n_features()]; // 0 none, 1 MH, 2 MN, 3 dropped
    let mut dropped = 0;
    let (mut mh_seen, mut mn_seen) = (HashSet::new(), HashSet::new());
    for (f, slot) in group.iter_mut().enumerate() {
        let id = &table.feature_ids()[f];
        if id.contains("unclassified") || id.contains("virus") {
            *slot = 3;
            dropped += 1;
            continue;
        }
        if let Some(key) = species_key(id, &table.lineage(f)) {
            if mh.contains(&key) {
                *slot = 1;
                mh_seen.insert(key);
            } else if mn.contains(&key) {
                *slot = 2;
                mn_seen.insert(key);
            }
        }
    }
    let scores = (0..table.n_samples())
        .map(|s| {
            let (idx, vals) = table.sample(s);
            let total: f64 = idx
                .iter()
                .zip(vals)
                .filter(|(f, _)| group[**f as usize] != 3)
                .map(|(_, v)| v)
                .sum();
            let (mut r_mh, mut r_mn, mut h_mh, mut h_mn) = (0usize, 0usize, 0.0, 0.0);
            if total > 0.0 {
                for (f, v) in idx.iter().zip(vals) {
                    let x = v / total;
                    if x < FLOOR {
                        continue;
                    }
                    match group[*f as usize] {
                        1 => {
                            r_mh += 1;
                            h_mh -= x * x.ln();
                        }
                        2 => {
                            r_mn += 1;
                            h_mn -= x * x.ln();
                        }
                        _ => {}
                    }
                }
            }
            let psi_mh = r_mh as f64 / MH_PRIME * h_mh;
            let psi_mn = r_mn as f64 / MN_PRIME * h_mn;
            GmhiScore {
                sample_id: table.sample_ids()[s].clone(),
                gmhi: ((psi_mh + FLOOR) / (psi_mn + FLOOR)).log10(),
                mh_richness: r_mh,
                mn_richness: r_mn,
                mh_shannon: h_mh,
                mn_shannon: h_mn,
                psi_mh,
                psi_mn,
            }
        })
        .collect();
    GmhiResult {
        scores,
        mh_species_in_table: mh_seen.len(),
        mn_species_in_table: mn_seen.len(),
        features_dropped_unclassified_or_virus: dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_table::Location;

    #[test]
    fn marker_lists_have_the_published_sizes() {
        assert_eq!(list_keys(MH_LIST).len(), 7);
        assert_eq!(list_keys(MN_LIST).len(), 43);
    }

    #[test]
    fn hand_derived_score() {
        // One sample: an MH species at 0.5, an MN species at 0.25, an unclassified row at 0.25
        // (dropped, so the others renormalise to 2/3 and 1/3).
        let t = FeatureTable::from_triplets(
            vec!["S".into()],
            vec![
                "s__Alistipes_senegalensis".into(),
                "s__Anaerotruncus_colihominis".into(),
                "s__Clostridium_unclassified".into(),
            ],
            vec![(0, 0, 0.5), (0, 1, 0.25), (0, 2, 0.25)],
            &Location::named("t"),
        )
        .expect("valid");
        let r = gmhi(&t);
        let (x, y) = (2.0f64 / 3.0, 1.0f64 / 3.0);
        let psi_mh = 1.0 / 7.0 * (-x * x.ln());
        let psi_mn = 1.0 / 31.0 * (-y * y.ln());
        let expected = ((psi_mh + 1e-5) / (psi_mn + 1e-5)).log10();
        assert!(
            (r.scores[0].gmhi - expected).abs() < 1e-15,
            "{} vs {expected}",
            r.scores[0].gmhi
        );
        assert_eq!(r.features_dropped_unclassified_or_virus, 1);
    }
}

/*!
What `gutjoint inspect` reports about a table: its shape, sparsity, depth distribution, value
kind and the taxonomic ranks its features name.
*/

use crate::lineage::Rank;
use crate::table::{FeatureTable, ValueKind};
use serde::{Deserialize, Serialize};

/// A description of a feature table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TableSummary {
    pub samples: usize,
    pub features: usize,
    pub nonzero: usize,
    /// nonzero / (samples × features).
    pub density: f64,
    pub total: f64,
    pub min_depth: f64,
    /// Median of the per-sample totals (mean of the two middle values for an even count).
    pub median_depth: f64,
    pub max_depth: f64,
    pub value_kind: ValueKind,
    pub ranks_present: Vec<Rank>,
    /// Samples whose total is zero.
    pub empty_samples: usize,
    /// Features absent from every sample.
    pub empty_features: usize,
}

/// Summarises a table.
pub fn summarize(table: &FeatureTable) -> TableSummary {
    let mut depths: Vec<f64> = (0..table.n_samples())
        .map(|s| table.sample_total(s))
        .collect();
    depths.sort_by(f64::total_cmp);
    let n = depths.len();
    let median = match n {
        0 => 0.0,
        _ if n % 2 == 1 => depths[n / 2],
        _ => (depths[n / 2 - 1] + depths[n / 2]) / 2.0,
    };
    let mut seen = vec![false; table.n_features()];
    for &f in table.indices() {
        seen[f as usize] = true;
    }
    let cells = (table.n_samples() * table.n_features()) as f64;
    TableSummary {
        samples: table.n_samples(),
        features: table.n_features(),
        nonzero: table.nnz(),
        density: if cells > 0.0 {
            table.nnz() as f64 / cells
        } else {
            0.0
        },
        total: table.total(),
        min_depth: depths.first().copied().unwrap_or(0.0),
        median_depth: median,
        max_depth: depths.last().copied().unwrap_or(0.0),
        value_kind: table.kind(),
        ranks_present: table.ranks_present(),
        empty_samples: depths.iter().filter(|d| **d == 0.0).count(),
        empty_features: seen.iter().filter(|s| !**s).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Location;

    #[test]
    fn hand_computed_summary() {
        // S0 = 1 + 3 = 4, S1 = 2, S2 = 4 + 5 = 9; F? none empty except F4.
        let t = FeatureTable::from_triplets(
            vec!["S0".into(), "S1".into(), "S2".into()],
            (0..5).map(|i| format!("F{i}")).collect(),
            vec![
                (0, 0, 1.0),
                (0, 2, 3.0),
                (1, 1, 2.0),
                (2, 0, 4.0),
                (2, 3, 5.0),
            ],
            &Location::named("t"),
        )
        .expect("valid");
        let s = summarize(&t);
        assert_eq!((s.samples, s.features, s.nonzero), (3, 5, 5));
        assert_eq!(s.density, 5.0 / 15.0);
        assert_eq!(
            (s.min_depth, s.median_depth, s.max_depth, s.total),
            (2.0, 4.0, 9.0, 15.0)
        );
        assert_eq!(s.empty_features, 1);
    }
}

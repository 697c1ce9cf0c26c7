/*!
Alpha diversity: how diverse one sample is, with scikit-bio 0.7's definitions.

With `S` the number of observed features (nonzero), `N` the sample total and `p_i = x_i / N`:

| metric | definition |
| --- | --- |
| `observed_features` | `S` |
| `shannon` | `-Σ p_i ln p_i` (natural logarithm, scikit-bio's default) |
| `dominance` | `Σ p_i²` (Simpson's dominance) |
| `simpson` | `1 - Σ p_i²` |
| `berger_parker_d` | `max x_i / N` |
| `pielou_e` | `shannon / ln S`; 1 when `S = 1`, NaN for an empty sample |
| `chao1` | bias-corrected `S + F1 (F1 - 1) / (2 (F2 + 1))`, F1/F2 = singletons/doubletons; counts only |
| `faith_pd` | sum of branch lengths joining the observed features to the root (Faith 1992) |

Empty samples give NaN for every metric but `observed_features` (0) and `faith_pd` (0).
*/

use crate::error::{Error, Result};
use crate::phylo::PhyloTable;
use gutjoint_table::{FeatureTable, ValueKind};
use rayon::prelude::*;
use serde::Serialize;

/// The alpha metrics gutjoint computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlphaMetric {
    ObservedFeatures,
    Shannon,
    Simpson,
    Dominance,
    BergerParkerD,
    PielouE,
    Chao1,
    FaithPd,
}

impl AlphaMetric {
    pub const ALL: [AlphaMetric; 8] = [
        AlphaMetric::ObservedFeatures,
        AlphaMetric::Shannon,
        AlphaMetric::Simpson,
        AlphaMetric::Dominance,
        AlphaMetric::BergerParkerD,
        AlphaMetric::PielouE,
        AlphaMetric::Chao1,
        AlphaMetric::FaithPd,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AlphaMetric::ObservedFeatures => "observed_features",
            AlphaMetric::Shannon => "shannon",
            AlphaMetric::Simpson => "simpson",
            AlphaMetric::Dominance => "dominance",
            AlphaMetric::BergerParkerD => "berger_parker_d",
            AlphaMetric::PielouE => "pielou_e",
            AlphaMetric::Chao1 => "chao1",
            AlphaMetric::FaithPd => "faith_pd",
        }
    }

    pub fn parse(name: &str) -> Result<AlphaMetric> {
        AlphaMetric::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| Error::UnknownMetric {
                name: name.to_string(),
                expected: AlphaMetric::ALL
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Alpha diversity of every sample for each requested metric.
#[derive(Debug, Clone, Serialize)]
pub struct AlphaResult {
    pub metrics: Vec<AlphaMetric>,
    pub sample_ids: Vec<String>,
    /// `values[m][s]`: metric `m` of sample `s`.
    pub values: Vec<Vec<f64>>,
}

/// One metric of one sample from its nonzero values.
pub fn alpha_of(metric: AlphaMetric, values: &[f64]) -> f64 {
    let s = values.len();
    let n: f64 = values.iter().sum();
    let empty = s == 0 || n == 0.0;
    match metric {
        AlphaMetric::ObservedFeatures => s as f64,
        _ if empty => f64::NAN,
        AlphaMetric::Shannon => shannon(values, n),
        AlphaMetric::Dominance => dominance(values, n),
        AlphaMetric::Simpson => 1.0 - dominance(values, n),
        AlphaMetric::BergerParkerD => values.iter().copied().fold(0.0, f64::max) / n,
        AlphaMetric::PielouE => {
            if s == 1 {
                1.0
            } else {
                shannon(values, n) / (s as f64).ln()
            }
        }
        AlphaMetric::Chao1 => {
            let f1 = values.iter().filter(|v| **v == 1.0).count() as f64;
            let f2 = values.iter().filter(|v| **v == 2.0).count() as f64;
            s as f64 + f1 * (f1 - 1.0) / (2.0 * (f2 + 1.0))
        }
        AlphaMetric::FaithPd => f64::NAN, // needs the tree: see `alpha`
    }
}

fn shannon(values: &[f64], n: f64) -> f64 {
    -values
        .iter()
        .map(|v| v / n)
        .map(|p| p * p.ln())
        .sum::<f64>()
}

fn dominance(values: &[f64], n: f64) -> f64 {
    values.iter().map(|v| v / n).map(|p| p * p).sum()
}

/// Computes the requested metrics for every sample.
pub fn alpha(
    table: &FeatureTable,
    metrics: &[AlphaMetric],
    tree: Option<&PhyloTable>,
) -> Result<AlphaResult> {
    for &m in metrics {
        if m == AlphaMetric::Chao1 && table.kind() != ValueKind::Counts {
            return Err(Error::NeedsCounts {
                metric: m.name().into(),
            });
        }
        if m == AlphaMetric::FaithPd && tree.is_none() {
            return Err(Error::NeedsTree {
                metric: m.name().into(),
            });
        }
    }
    let values = metrics
        .iter()
        .map(|&m| {
            if m == AlphaMetric::FaithPd {
                let phylo = tree.expect("checked above");
                (0..table.n_samples())
                    .into_par_iter()
                    .map(|s| phylo.faith_pd(s))
                    .collect()
            } else {
                (0..table.n_samples())
                    .into_par_iter()
                    .map(|s| alpha_of(m, table.sample(s).1))
                    .collect()
            }
        })
        .collect();
    Ok(AlphaResult {
        metrics: metrics.to_vec(),
        sample_ids: table.sample_ids().to_vec(),
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_derived_values() {
        // counts 1, 1, 2: N = 4, p = .25 .25 .5
        let v = [1.0, 1.0, 2.0];
        let h = -(0.25f64 * 0.25f64.ln() * 2.0 + 0.5 * 0.5f64.ln());
        assert!((alpha_of(AlphaMetric::Shannon, &v) - h).abs() < 1e-15);
        assert_eq!(alpha_of(AlphaMetric::Dominance, &v), 0.375);
        assert_eq!(alpha_of(AlphaMetric::Simpson, &v), 0.625);
        assert_eq!(alpha_of(AlphaMetric::BergerParkerD, &v), 0.5);
        // F1 = 2, F2 = 1: 3 + 2*1/(2*2) = 3.5
        assert_eq!(alpha_of(AlphaMetric::Chao1, &v), 3.5);
        assert!((alpha_of(AlphaMetric::PielouE, &v) - h / 3f64.ln()).abs() < 1e-15);
        assert_eq!(alpha_of(AlphaMetric::PielouE, &[5.0]), 1.0);
        assert!(alpha_of(AlphaMetric::Shannon, &[]).is_nan());
    }
}

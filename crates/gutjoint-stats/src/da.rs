/*!
Differential abundance by per-feature linear models: each feature's abundance, transformed
(`log10(x + pseudocount)` by default, or arcsine square root), is regressed on the design
(group and covariates); every coefficient is reported with its standard error, t, p and a
multiple-testing q within each term across features (Benjamini–Hochberg by default).
Relative abundances are used as the table holds them; count tables are first divided by each
sample's total. The default pseudocount is half the smallest nonzero value of the table.
*/

use crate::design::Design;
use crate::error::Result;
use crate::fdr::{Adjust, adjust};
use crate::ols::Ols;
use gutjoint_table::{FeatureTable, ValueKind};
use rayon::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    Log10 { pseudocount: f64 },
    ArcsineSqrt,
}

impl Transform {
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::Log10 { pseudocount } => (x + pseudocount).log10(),
            Transform::ArcsineSqrt => x.clamp(0.0, 1.0).sqrt().asin(),
        }
    }
}

/// Half the smallest nonzero value of a table (relative scale).
pub fn default_pseudocount(table: &FeatureTable) -> f64 {
    let smallest = if table.kind() == ValueKind::Counts {
        // The smallest proportion is some sample's smallest count over its total.
        (0..table.n_samples())
            .map(|s| {
                let (_, values) = table.sample(s);
                let total = table.sample_total(s);
                values
                    .iter()
                    .filter(|v| **v > 0.0)
                    .map(|v| v / total)
                    .fold(f64::INFINITY, f64::min)
            })
            .fold(f64::INFINITY, f64::min)
    } else {
        table
            .values()
            .iter()
            .copied()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min)
    };
    smallest / 2.0
}

#[derive(Debug, Clone, Serialize)]
pub struct Coefficient {
    pub feature: String,
    pub term: String,
    pub estimate: f64,
    pub se: f64,
    pub statistic: f64,
    pub p: f64,
    pub q: f64,
}

/// The transformed abundance of each feature over a list of samples: what every per-feature
/// model of this crate (linear or mixed) regresses on its design. Count tables are divided by
/// each sample's total first.
#[derive(Debug)]
pub struct Responses<'a> {
    rel: std::borrow::Cow<'a, FeatureTable>,
    rows: Vec<usize>,
    transform: Transform,
}

impl<'a> Responses<'a> {
    /// `sample_ids` (the design's rows, in order) must all be samples of `table`.
    pub fn new(
        table: &'a FeatureTable,
        sample_ids: &[String],
        transform: Transform,
    ) -> Responses<'a> {
        let rel = if table.kind() == ValueKind::Counts {
            std::borrow::Cow::Owned(table.to_relative())
        } else {
            std::borrow::Cow::Borrowed(table)
        };
        let index = rel.sample_index();
        let rows = sample_ids.iter().map(|id| index[id.as_str()]).collect();
        Responses {
            rel,
            rows,
            transform,
        }
    }

    pub fn n_features(&self) -> usize {
        self.rel.n_features()
    }

    pub fn feature_ids(&self) -> &[String] {
        self.rel.feature_ids()
    }

    /// Feature `f`'s transformed values in design-row order.
    pub fn feature(&self, f: usize) -> Vec<f64> {
        self.rows
            .iter()
            .map(|&s| self.transform.apply(self.rel.get(s, f)))
            .collect()
    }
}

/// Fits every feature of `table` (samples in `design.sample_ids` order must exist in it).
pub fn linear_models(
    table: &FeatureTable,
    design: &Design,
    transform: Transform,
    method: Adjust,
) -> Result<Vec<Coefficient>> {
    let responses = Responses::new(table, &design.sample_ids, transform);
    let ols = Ols::new(design)?;
    let fits: Vec<_> = (0..responses.n_features())
        .into_par_iter()
        .map(|f| ols.fit(&responses.feature(f)))
        .collect();
    let mut out = Vec::with_capacity(fits.len() * design.p);
    for (j, term) in design.names.iter().enumerate() {
        let p: Vec<f64> = fits.iter().map(|fit| fit.p[j]).collect();
        let q = adjust(&p, method);
        for (f, fit) in fits.iter().enumerate() {
            out.push(Coefficient {
                feature: responses.feature_ids()[f].clone(),
                term: term.clone(),
                estimate: fit.estimate[j],
                se: fit.se[j],
                statistic: fit.t[j],
                p: fit.p[j],
                q: q[f],
            });
        }
    }
    Ok(out)
}

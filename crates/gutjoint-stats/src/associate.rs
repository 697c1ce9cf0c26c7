/*!
Host–microbe associations: for each host variable (calprotectin, CRP, BASDAI, serum butyrate…)
and each feature, a linear model `log10(feature + pseudocount) ~ host + covariates` (the host
coefficient, its standard error and p; q by Benjamini–Hochberg within each host variable) and,
as a robustness check that needs no distributional assumption, the Spearman and partial
Spearman correlations of the feature's CLR with the host variable given the covariates
(pingouin's `partial_corr(method="spearman")`). Samples missing the host variable (or a
covariate) are dropped for that variable only, and `n` says how many remained.
*/

use crate::correlation::{partial_spearman, spearman};
use crate::da::Transform;
use crate::design::{Term, design};
use crate::error::{Error, Result};
use crate::fdr::{Adjust, adjust};
use crate::lmm::MixedModel;
use crate::ols::Ols;
use gutjoint_table::{FeatureTable, Metadata, ValueKind};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct Association {
    pub feature: String,
    pub host_variable: String,
    pub n: usize,
    pub estimate: f64,
    pub se: f64,
    pub p: f64,
    pub q: f64,
    pub spearman_r: f64,
    pub spearman_p: f64,
    pub partial_r: f64,
    pub partial_p: f64,
}

/// CLR of every sample (rows) over all features, after adding `pseudocount` to every cell.
fn clr_rows(table: &FeatureTable, pseudocount: f64) -> Vec<Vec<f64>> {
    (0..table.n_samples())
        .map(|s| {
            let mut row = vec![0.0; table.n_features()];
            gutjoint_numeric::clr_dense_into(
                table.dense_sample(s).into_iter(),
                pseudocount,
                &mut row,
            );
            row
        })
        .collect()
}

/// Host coefficient (estimate, se, p), Spearman (r, p) and partial Spearman (r, p) of one feature.
type FeatureResult = (f64, f64, f64, (f64, f64), (f64, f64));

/// Runs every (host variable × feature) pair.
pub fn associate(
    table: &FeatureTable,
    metadata: &Metadata,
    hosts: &[String],
    covariates: &[Term],
    pseudocount: f64,
    method: Adjust,
) -> Result<Vec<Association>> {
    associate_within(
        table,
        metadata,
        hosts,
        covariates,
        None,
        pseudocount,
        method,
    )
}

/// [`associate`] for repeated samples of the same subjects: with `subject` (a metadata
/// column) the host coefficient comes from a linear mixed model with a random intercept per
/// subject (REML, Satterthwaite df; [`crate::lmm`]) instead of OLS, so repeated visits are not
/// counted as independent patients. The Spearman columns stay sample-level correlations.
pub fn associate_within(
    table: &FeatureTable,
    metadata: &Metadata,
    hosts: &[String],
    covariates: &[Term],
    subject: Option<&str>,
    pseudocount: f64,
    method: Adjust,
) -> Result<Vec<Association>> {
    let subject_column = match subject {
        Some(c) => Some(metadata.column(c).ok_or_else(|| {
            Error::Metadata(format!(
                "no subject column '{c}'; the columns are: {}",
                metadata.column_names().join(", ")
            ))
        })?),
        None => None,
    };
    let rel = if table.kind() == ValueKind::Counts {
        table.to_relative()
    } else {
        table.clone()
    };
    let clr = clr_rows(&rel, pseudocount);
    let index = rel.sample_index();
    let transform = Transform::Log10 { pseudocount };
    let mut out = Vec::new();
    for host in hosts {
        let column = metadata.column(host).ok_or_else(|| {
            Error::Metadata(format!(
                "no host variable '{host}'; the columns are: {}",
                metadata.column_names().join(", ")
            ))
        })?;
        let mdi = metadata.index();
        let present = rel
            .sample_ids()
            .iter()
            .filter(|id| mdi.get(id.as_str()).and_then(|&r| column.text(r)).is_some())
            .count();
        if present == 0 {
            return Err(Error::Metadata(format!(
                "no sample has a value for host variable '{host}'"
            )));
        }
        if !column.is_numeric() {
            return Err(Error::Metadata(format!(
                "host variable '{host}' is not numeric (e.g. '{}')",
                (0..metadata.ids.len())
                    .find_map(|i| column.text(i))
                    .unwrap_or_default()
            )));
        }
        let mut terms = vec![Term {
            column: host.clone(),
            categorical: false,
        }];
        terms.extend(covariates.iter().cloned());
        let mdi_all = metadata.index();
        let samples: Vec<String> = match subject_column {
            Some(c) => rel
                .sample_ids()
                .iter()
                .filter(|id| mdi_all.get(id.as_str()).and_then(|&r| c.text(r)).is_some())
                .cloned()
                .collect(),
            None => rel.sample_ids().to_vec(),
        };
        let d = design(metadata, &samples, &terms, &BTreeMap::new()).map_err(|e| {
            let inner = match e {
                Error::Metadata(m) => m,
                other => other.to_string(),
            };
            Error::Metadata(format!("host variable '{host}': {inner}"))
        })?;
        if d.n < terms.len() + 3 {
            return Err(Error::Metadata(format!(
                "host variable '{host}': only {} samples remain after dropping missing values",
                d.n
            )));
        }
        let rows: Vec<usize> = d.sample_ids.iter().map(|id| index[id.as_str()]).collect();
        let host_col = d.names.iter().position(|n| n == host).unwrap_or(1);
        let host_values: Vec<f64> = (0..d.n).map(|i| d.x[i * d.p + host_col]).collect();
        // Covariate columns of the design (everything but intercept and host), for partial rho.
        let cov_cols: Vec<Vec<f64>> = (1..d.p)
            .filter(|&j| j != host_col)
            .map(|j| (0..d.n).map(|i| d.x[i * d.p + j]).collect())
            .collect();
        let ols = Ols::new(&d)?;
        let mixed = match subject_column {
            Some(c) => {
                let subjects: Vec<String> = d
                    .sample_ids
                    .iter()
                    .map(|id| c.text(mdi_all[id.as_str()]).unwrap_or_default())
                    .collect();
                Some(
                    MixedModel::new(&d, &subjects, None)
                        .map_err(|e| Error::Metadata(format!("host variable '{host}': {e}")))?,
                )
            }
            None => None,
        };
        let per_feature: Vec<FeatureResult> = (0..rel.n_features())
            .into_par_iter()
            .map(|f| {
                let y: Vec<f64> = rows
                    .iter()
                    .map(|&s| transform.apply(rel.get(s, f)))
                    .collect();
                let (estimate, se, p) = match &mixed {
                    Some(m) => m.fit(&y).map_or((f64::NAN, f64::NAN, f64::NAN), |fit| {
                        (fit.estimate[host_col], fit.se[host_col], fit.p[host_col])
                    }),
                    None => {
                        let fit = ols.fit(&y);
                        (fit.estimate[host_col], fit.se[host_col], fit.p[host_col])
                    }
                };
                let x: Vec<f64> = rows.iter().map(|&s| clr[s][f]).collect();
                (
                    estimate,
                    se,
                    p,
                    spearman(&x, &host_values),
                    partial_spearman(&x, &host_values, &cov_cols),
                )
            })
            .collect();
        let q = adjust(&per_feature.iter().map(|r| r.2).collect::<Vec<_>>(), method);
        for (f, r) in per_feature.iter().enumerate() {
            out.push(Association {
                feature: rel.feature_ids()[f].clone(),
                host_variable: host.clone(),
                n: d.n,
                estimate: r.0,
                se: r.1,
                p: r.2,
                q: q[f],
                spearman_r: r.3.0,
                spearman_p: r.3.1,
                partial_r: r.4.0,
                partial_p: r.4.1,
            });
        }
    }
    Ok(out)
}

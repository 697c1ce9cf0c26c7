//! Feature matrices for the classifiers: CLR-transformed relative abundances of the features
//! present in enough samples, shared by `gutjoint classify` and the analysis pipeline.

use crate::classify::Dataset;
use crate::error::{Error, Result};
use gutjoint_table::{FeatureTable, ValueKind};

/// A feature's id and its lineage text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureName {
    pub id: String,
    pub lineage: String,
}

/// Dense CLR features of the samples `rows` of `table`, labelled `labels`, after dropping
/// features present in fewer than `min_prevalence` (a share) of those samples. Counts are
/// turned into proportions first; the pseudocount defaults to half the smallest nonzero value
/// ([`crate::da::default_pseudocount`]). Returns the data set, the kept features and the
/// pseudocount used.
pub fn clr_dataset(
    table: &FeatureTable,
    rows: &[usize],
    labels: Vec<bool>,
    min_prevalence: f64,
    pseudocount: Option<f64>,
) -> Result<(Dataset, Vec<FeatureName>, f64)> {
    let used = table.select_samples(rows);
    let used = if used.kind() == ValueKind::Counts {
        used.to_relative()
    } else {
        used
    };
    let present = used.feature_prevalence();
    let keep: Vec<usize> = (0..used.n_features())
        .filter(|&f| present[f] > 0 && present[f] as f64 >= min_prevalence * rows.len() as f64)
        .collect();
    if keep.len() < 2 {
        return Err(Error::Invalid(format!(
            "{} features are present in at least {} of the samples; a classifier needs at least 2",
            keep.len(),
            min_prevalence
        )));
    }
    let used = used.select_features(&keep);
    let pseudocount = match pseudocount {
        Some(p) if p > 0.0 => p,
        Some(p) => {
            return Err(Error::Invalid(format!(
                "the pseudocount must be positive, got {p}"
            )));
        }
        None => crate::da::default_pseudocount(&used),
    };
    let p = used.n_features();
    let x = gutjoint_numeric::clr_dense(&used, pseudocount)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let features = (0..p)
        .map(|f| FeatureName {
            id: used.feature_ids()[f].clone(),
            lineage: used.lineage(f).to_string(),
        })
        .collect();
    Ok((
        Dataset {
            n: rows.len(),
            p,
            x,
            y: labels,
        },
        features,
        pseudocount,
    ))
}

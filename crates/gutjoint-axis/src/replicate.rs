/*!
Replication of the literature in the user's cohort: every cited association for the disease is
re-tested with the same linear model as `gutjoint da` (log10 abundance of the taxon, matched at
the association's rank through lineages and synonyms, against case/control with the user's
covariates) and classified as `replicated` (q below the threshold, same direction), `opposite`
(q below the threshold, other direction), `not significant`, or `taxon absent` (no feature of
the table is that taxon at that rank, or it is absent from every sample). q values are
Benjamini–Hochberg across the associations tested.
*/

use crate::signatures::{canonical, taxon_abundances};
use gutjoint_knowledge::{Direction, KnowledgeBase, TaxonDisease};
use gutjoint_stats::da::Transform;
use gutjoint_stats::design::Design;
use gutjoint_stats::{Adjust, Ols, adjust};
use gutjoint_table::ValueKind;
use gutjoint_table::{FeatureTable, Rank};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Replication {
    pub association: String,
    pub taxon: String,
    pub rank: Rank,
    pub disease: String,
    pub reported_direction: String,
    pub observed_direction: String,
    pub estimate: Option<f64>,
    pub se: Option<f64>,
    pub p: Option<f64>,
    pub q: Option<f64>,
    pub status: &'static str,
    pub prevalence_case: Option<f64>,
    pub prevalence_control: Option<f64>,
    pub population: String,
    pub citation: String,
    pub doi: String,
}

/// The model an association is re-tested with.
#[derive(Debug, Clone)]
pub struct Model<'a> {
    pub design: &'a Design,
    /// The case-vs-control coefficient, e.g. `group[T.axSpA]`.
    pub term: &'a str,
    /// Which design rows are cases.
    pub is_case: &'a [bool],
    pub pseudocount: f64,
    pub q_threshold: f64,
}

/// Re-tests `associations` on `table` (samples looked up by the design's sample ids).
pub fn replicate(
    kb: &KnowledgeBase,
    table: &FeatureTable,
    associations: &[&TaxonDisease],
    model: &Model<'_>,
) -> gutjoint_stats::Result<Vec<Replication>> {
    let Model {
        design,
        term,
        is_case,
        pseudocount,
        q_threshold,
    } = *model;
    let index = table.sample_index();
    let rows: Vec<usize> = design
        .sample_ids
        .iter()
        .map(|id| index[id.as_str()])
        .collect();
    let wanted: Vec<(Rank, String)> = associations
        .iter()
        .map(|a| (a.rank, canonical(kb, &a.taxon)))
        .collect();
    // On the scale `gutjoint da` models: relative tables as they are, counts as proportions.
    let abundance = taxon_abundances(kb, table, &wanted, table.kind() == ValueKind::Counts);
    let ols = Ols::new(design)?;
    let j =
        design.names.iter().position(|n| n == term).ok_or_else(|| {
            gutjoint_stats::Error::Invalid(format!("no term '{term}' in the design"))
        })?;
    let transform = Transform::Log10 { pseudocount };
    let mut fits = Vec::new();
    for key in &wanted {
        let fit = abundance.get(key).and_then(|values| {
            let y_raw: Vec<f64> = rows.iter().map(|&s| values[s]).collect();
            if y_raw.iter().all(|v| *v == 0.0) {
                return None;
            }
            let prevalence = |case: bool| {
                let v: Vec<&f64> = y_raw
                    .iter()
                    .zip(is_case)
                    .filter(|(_, c)| **c == case)
                    .map(|(v, _)| v)
                    .collect();
                v.iter().filter(|x| ***x > 0.0).count() as f64 / v.len().max(1) as f64
            };
            let y: Vec<f64> = y_raw.iter().map(|v| transform.apply(*v)).collect();
            Some((ols.fit(&y), prevalence(true), prevalence(false)))
        });
        fits.push(fit);
    }
    let p: Vec<f64> = fits
        .iter()
        .map(|f| f.as_ref().map_or(f64::NAN, |x| x.0.p[j]))
        .collect();
    let q = adjust(&p, Adjust::Bh);
    Ok(associations
        .iter()
        .zip(&fits)
        .zip(&q)
        .map(|((a, fit), q)| {
            let c = &a.citation;
            let base = Replication {
                association: a.id.clone(),
                taxon: a.taxon.clone(),
                rank: a.rank,
                disease: a.disease.to_string(),
                reported_direction: a.direction.to_string(),
                observed_direction: String::new(),
                estimate: None,
                se: None,
                p: None,
                q: None,
                status: "taxon absent",
                prevalence_case: None,
                prevalence_control: None,
                population: a.population.clone().unwrap_or_else(|| "not stated".into()),
                citation: c.short().unwrap_or_default(),
                doi: c.doi.clone().unwrap_or_default(),
            };
            match fit {
                None => base,
                Some((fit, pc, pn)) => {
                    let estimate = fit.estimate[j];
                    let observed = if estimate > 0.0 {
                        "increased"
                    } else {
                        "decreased"
                    };
                    let same = matches!(
                        (a.direction, estimate > 0.0),
                        (Direction::Increased, true) | (Direction::Decreased, false)
                    );
                    let status = if *q < q_threshold {
                        if same { "replicated" } else { "opposite" }
                    } else {
                        "not significant"
                    };
                    Replication {
                        observed_direction: observed.into(),
                        estimate: Some(estimate),
                        se: Some(fit.se[j]),
                        p: Some(fit.p[j]),
                        q: Some(*q),
                        status,
                        prevalence_case: Some(*pc),
                        prevalence_control: Some(*pn),
                        ..base
                    }
                }
            }
        })
        .collect())
}

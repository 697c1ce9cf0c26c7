/*!
Replication of the literature in the user's cohort: every cited association for the disease is
re-tested with the same linear model as `gutjoint da` (log10 abundance of the taxon, matched at
the association's rank through lineages and synonyms, against case/control with the user's
covariates) and classified as `replicated` (q below the threshold, same direction), `opposite`
(q below the threshold, other direction), `not significant`, or `taxon absent` (no feature of
the table is that taxon at that rank, or it is absent from every sample). q values are
Benjamini–Hochberg across the associations tested.

With [`Method::Ancombc`] the test is ANCOM-BC's instead: the table is grouped at the
association's rank (every feature into the canonical taxon it belongs to there, features
without that rank into one remainder group, so the composition stays whole), ANCOM-BC is run on
that grouped table — its sampling-fraction bias is estimated from all taxa at the rank — and the
taxon's bias-corrected natural-log fold change, standard error and p are read off.
*/

use crate::signatures::{canonical, taxon_abundances};
use gutjoint_knowledge::{Direction, KnowledgeBase, TaxonDisease};
use gutjoint_stats::ancombc;
use gutjoint_stats::da::Transform;
use gutjoint_stats::design::Design;
use gutjoint_stats::{Adjust, Ols, adjust};
use gutjoint_table::ValueKind;
use gutjoint_table::{FeatureTable, Location, Rank};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How each association is re-tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// OLS on log10(abundance + pseudocount), as `gutjoint da --method lm`.
    Lm,
    /// ANCOM-BC on the table grouped at the association's rank (natural-log fold changes).
    Ancombc,
}

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
    pub method: Method,
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
        method,
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
    let by_ancombc = if method == Method::Ancombc {
        ancombc_by_rank(kb, table, design, term, pseudocount, &wanted)?
    } else {
        HashMap::new()
    };
    let mut fits: Vec<Option<Fit>> = Vec::new();
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
            let (estimate, se, p) = match method {
                Method::Lm => {
                    let y: Vec<f64> = y_raw.iter().map(|v| transform.apply(*v)).collect();
                    let fit = ols.fit(&y);
                    (fit.estimate[j], fit.se[j], fit.p[j])
                }
                Method::Ancombc => *by_ancombc.get(key)?,
            };
            Some(Fit {
                estimate,
                se,
                p,
                prevalence_case: prevalence(true),
                prevalence_control: prevalence(false),
            })
        });
        fits.push(fit);
    }
    let p: Vec<f64> = fits
        .iter()
        .map(|f| f.as_ref().map_or(f64::NAN, |x| x.p))
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
                Some(fit) => {
                    let estimate = fit.estimate;
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
                        se: Some(fit.se),
                        p: Some(fit.p),
                        q: Some(*q),
                        status,
                        prevalence_case: Some(fit.prevalence_case),
                        prevalence_control: Some(fit.prevalence_control),
                        ..base
                    }
                }
            }
        })
        .collect())
}

/// One association's test in this cohort.
#[derive(Debug, Clone, Copy)]
struct Fit {
    estimate: f64,
    se: f64,
    p: f64,
    prevalence_case: f64,
    prevalence_control: f64,
}

/// (estimate, se, p) of the case/control term.
type Tested = (f64, f64, f64);

/// ANCOM-BC's (estimate, se, p) of `term` for every wanted (rank, taxon), one ANCOM-BC run per
/// rank on the table grouped at that rank.
fn ancombc_by_rank(
    kb: &KnowledgeBase,
    table: &FeatureTable,
    design: &Design,
    term: &str,
    pseudocount: f64,
    wanted: &[(Rank, String)],
) -> gutjoint_stats::Result<HashMap<(Rank, String), Tested>> {
    let present = table.ranks_present();
    let ranks: BTreeSet<Rank> = wanted
        .iter()
        .map(|(r, _)| *r)
        .filter(|r| present.contains(r))
        .collect();
    let mut out = HashMap::new();
    let mut cache: HashMap<String, String> = HashMap::new();
    for rank in ranks {
        // Group index of each feature: its canonical taxon at this rank, or the remainder.
        const REMAINDER: &str = "(no name at this rank)";
        let mut names: BTreeMap<String, u32> = BTreeMap::new();
        let keys: Vec<String> = (0..table.n_features())
            .map(|f| match table.lineage(f).get(rank) {
                Some(name) => cache
                    .entry(name.to_string())
                    .or_insert_with(|| canonical(kb, name))
                    .clone(),
                None => REMAINDER.to_string(),
            })
            .collect();
        for k in &keys {
            let next = names.len() as u32;
            names.entry(k.clone()).or_insert(next);
        }
        let mut triplets = Vec::new();
        for s in 0..table.n_samples() {
            let (features, values) = table.sample(s);
            let mut sums: BTreeMap<u32, f64> = BTreeMap::new();
            for (&f, &v) in features.iter().zip(values) {
                *sums.entry(names[&keys[f as usize]]).or_default() += v;
            }
            triplets.extend(sums.into_iter().map(|(g, v)| (s as u32, g, v)));
        }
        let mut ids = vec![String::new(); names.len()];
        for (name, &g) in &names {
            ids[g as usize] = name.clone();
        }
        let grouped = FeatureTable::from_triplets(
            table.sample_ids().to_vec(),
            ids,
            triplets,
            &Location::named(format!("table grouped at {rank}")),
        )
        .map_err(|e| gutjoint_stats::Error::Invalid(e.to_string()))?
        .with_kind(table.kind());
        let result = ancombc::ancombc(
            &grouped,
            design,
            pseudocount,
            ancombc::Options {
                adjust: Adjust::None,
                ..ancombc::Options::default()
            },
        )?;
        for c in result.coefficients.iter().filter(|c| c.term == term) {
            out.insert((rank, c.feature.clone()), (c.estimate, c.se, c.p));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_stats::{Term, design};
    use gutjoint_table::Lineage;

    #[test]
    fn ancombc_replication_is_ancombc_on_the_genus_table() {
        // Six genera, each its own feature, so grouping at genus changes nothing: the
        // replication's numbers must be exactly `ancombc` on the table itself.
        let kb = KnowledgeBase::embedded().expect("kb");
        let genera = [
            "Bacteroides",
            "Streptococcus",
            "Megamonas",
            "Veillonella",
            "Dialister",
            "Blautia",
        ];
        let n = 16;
        let mut triplets = Vec::new();
        for s in 0..n {
            for (f, _) in genera.iter().enumerate() {
                // Deterministic, uneven counts; cases (odd s) have more Streptococcus.
                let mut v = 5.0 + ((s * 7 + f * 13) % 11) as f64 * 3.0;
                if f == 1 && s % 2 == 1 {
                    v *= 4.0;
                }
                triplets.push((s as u32, f as u32, v));
            }
        }
        let samples: Vec<String> = (0..n).map(|s| format!("S{s}")).collect();
        let table = FeatureTable::from_triplets(
            samples.clone(),
            genera.iter().map(|g| g.to_string()).collect(),
            triplets,
            &Location::named("toy"),
        )
        .expect("table")
        .with_lineages(
            genera
                .iter()
                .map(|g| Lineage::parse(&format!("d__Bacteria; g__{g}")))
                .collect(),
        )
        .expect("lineages")
        .with_kind(ValueKind::Counts);
        let mut md = String::from("sample-id\tgroup\n");
        for (s, id) in samples.iter().enumerate() {
            let group = if s % 2 == 1 { "AS" } else { "healthy" };
            md.push_str(&format!("{id}\t{group}\n"));
        }
        let md = gutjoint_table::metadata::read_metadata(md.as_bytes(), &Location::named("md"))
            .expect("metadata");
        let terms = [Term {
            column: "group".into(),
            categorical: true,
        }];
        let refs = BTreeMap::from([("group".to_string(), "healthy".to_string())]);
        let d = design(&md, &samples, &terms, &refs).expect("design");
        let is_case: Vec<bool> = (0..n).map(|s| s % 2 == 1).collect();
        let associations: Vec<&TaxonDisease> = kb
            .taxon_disease()
            .iter()
            .filter(|a| a.rank == Rank::Genus && genera.contains(&a.taxon.as_str()))
            .collect();
        assert!(
            associations.len() >= 3,
            "the knowledge base cites these genera"
        );
        let model = Model {
            design: &d,
            term: "group[T.AS]",
            is_case: &is_case,
            pseudocount: 1.0,
            q_threshold: 0.05,
            method: Method::Ancombc,
        };
        let rows = replicate(&kb, &table, &associations, &model).expect("replicate");
        let direct =
            ancombc::ancombc(&table, &d, 1.0, ancombc::Options::default()).expect("ancombc");
        for r in &rows {
            let c = direct
                .coefficients
                .iter()
                .find(|c| c.term == "group[T.AS]" && c.feature == r.taxon)
                .expect("same genus");
            assert_eq!(r.estimate, Some(c.estimate), "{}", r.taxon);
            assert_eq!(r.se, Some(c.se));
            assert_eq!(r.p, Some(c.p));
        }
        // Streptococcus was made 4x higher in cases: increased, by about ln 4 before the
        // composition's bias is removed.
        let strep = rows
            .iter()
            .find(|r| r.taxon == "Streptococcus")
            .expect("row");
        assert_eq!(strep.observed_direction, "increased");
        assert!(strep.estimate.expect("estimate") > 0.8, "{strep:?}");
    }
}

/*!
Replication of the literature in the user's cohort: every cited association for the disease is
re-tested with the same linear model as `gutjoint da` (log10 abundance of the taxon, matched at
the association's rank through lineages and synonyms, against case/control with the user's
covariates).

Only associations the cohort can test are re-tested ([`select`]): the study's contrast must be
the cohort's (patients versus controls by default: a within-patient disease-activity finding
says nothing about patients versus controls), its sample type the cohort's (stool by default:
an ileal-biopsy finding is not a stool finding), and a probe-panel result (GA-map) names
probes, not taxa of a sequencing table. The others are listed as not tested, with the reason.

Several associations often name the same taxon at the same rank (Bacteroides from three
studies, Lachnospiraceae from two with opposite directions). In one cohort these are one test
with one p: it is fitted once and counted once in the Benjamini–Hochberg correction, and the
test gets one status. `replicated` (q below the threshold, every report in the observed
direction), `opposite` (q below the threshold, every report the other way), `conflicting
reports` (q below the threshold, the reports disagree among themselves; `agrees` says which
side each is on), `not significant`, or `taxon absent` (no feature of the table is that taxon
at that rank, or it is absent from every sample). No result is thus both replicated and
opposite.
*/

use crate::signatures::{canonical, taxon_abundances};
use gutjoint_knowledge::{
    Contrast, Direction, KnowledgeBase, Method as StudyMethod, SampleType, TaxonDisease,
};
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

/// What the user's cohort is, so that only associations from the same kind of study are
/// re-tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cohort {
    /// What the cohort compares (patients versus controls unless said otherwise).
    pub contrast: Contrast,
    /// The cohort's samples (stool unless said otherwise).
    pub sample_type: SampleType,
}

impl Default for Cohort {
    fn default() -> Self {
        Cohort {
            contrast: Contrast::CaseControl,
            sample_type: SampleType::Stool,
        }
    }
}

/// An association left out because the cohort cannot test it.
#[derive(Debug, Clone, Serialize)]
pub struct NotTested {
    pub association: String,
    pub taxon: String,
    pub rank: Rank,
    pub disease: String,
    pub reported_direction: String,
    pub reason: String,
    pub population: String,
    pub citation: String,
    pub doi: String,
}

/// Why `association` cannot be re-tested in `cohort`, if it cannot.
pub fn untestable(a: &TaxonDisease, cohort: &Cohort) -> Option<String> {
    // A patients-versus-controls cohort re-tests patients-versus-controls findings (at-risk
    // people versus controls included); any other comparison only the same one.
    let same_contrast = if cohort.contrast == Contrast::CaseControl {
        a.contrast.is_between_patients_and_controls()
    } else {
        a.contrast == cohort.contrast
    };
    if !same_contrast {
        return Some(format!(
            "the study compared {}, not {}",
            a.contrast, cohort.contrast
        ));
    }
    if a.sample_type.is_empty() {
        return Some("it pools studies without one sample type, so no sample type to match".into());
    }
    if !a.sample_type.contains(&cohort.sample_type) {
        let types: Vec<&str> = a.sample_type.iter().map(|t| t.code()).collect();
        return Some(format!(
            "measured in {}, not {}",
            types.join(" and "),
            cohort.sample_type
        ));
    }
    if !a.method.is_empty() && a.method.iter().all(|m| *m == StudyMethod::GaMap) {
        return Some(
            "a probe-panel (GA-map) result: its probes are not taxa of a sequencing table".into(),
        );
    }
    None
}

/// Splits `associations` into those `cohort` can test and those it cannot (with the reason).
pub fn select<'a>(
    associations: &[&'a TaxonDisease],
    cohort: &Cohort,
) -> (Vec<&'a TaxonDisease>, Vec<NotTested>) {
    let mut tested = Vec::new();
    let mut not_tested = Vec::new();
    for a in associations {
        match untestable(a, cohort) {
            None => tested.push(*a),
            Some(reason) => not_tested.push(NotTested {
                association: a.id.clone(),
                taxon: a.taxon.clone(),
                rank: a.rank,
                disease: a.disease.to_string(),
                reported_direction: a.direction.to_string(),
                reason,
                population: a.population.clone().unwrap_or_else(|| "not stated".into()),
                citation: a.citation.short().unwrap_or_default(),
                doi: a.citation.doi.clone().unwrap_or_default(),
            }),
        }
    }
    (tested, not_tested)
}

#[derive(Debug, Clone, Serialize)]
pub struct Replication {
    pub association: String,
    /// The test this association shares with every other one naming the same taxon at the
    /// same rank (`genus bacteroides`): one fit, one p, one q, one status.
    pub test: String,
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
    /// Whether this report's direction is the one observed (`None` when the taxon is absent).
    pub agrees: Option<bool>,
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
    // One fit per distinct (rank, taxon): identical tests are counted once.
    let mut tests: Vec<&(Rank, String)> = Vec::new();
    for key in &wanted {
        if !tests.contains(&key) {
            tests.push(key);
        }
    }
    let mut fits: HashMap<&(Rank, String), Fit> = HashMap::new();
    for key in &tests {
        let fit = abundance.get(*key).and_then(|values| {
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
                Method::Ancombc => *by_ancombc.get(*key)?,
            };
            Some(Fit {
                estimate,
                se,
                p,
                prevalence_case: prevalence(true),
                prevalence_control: prevalence(false),
            })
        });
        if let Some(fit) = fit {
            fits.insert(*key, fit);
        }
    }
    let p: Vec<f64> = tests
        .iter()
        .map(|k| fits.get(*k).map_or(f64::NAN, |x| x.p))
        .collect();
    let q: HashMap<&(Rank, String), f64> =
        tests.iter().copied().zip(adjust(&p, Adjust::Bh)).collect();
    // A significant test's status: every report agreeing, every one opposed, or both.
    let status_of = |key: &(Rank, String), fit: &Fit| -> &'static str {
        if q[key] >= q_threshold {
            return "not significant";
        }
        let reports = associations
            .iter()
            .zip(&wanted)
            .filter(|(_, k)| *k == key)
            .map(|(a, _)| agrees(a.direction, fit.estimate));
        let (mut with, mut against) = (0, 0);
        for same in reports {
            if same {
                with += 1;
            } else {
                against += 1;
            }
        }
        match (with, against) {
            (_, 0) => "replicated",
            (0, _) => "opposite",
            _ => "conflicting reports",
        }
    };
    Ok(associations
        .iter()
        .zip(&wanted)
        .map(|(a, key)| {
            let c = &a.citation;
            let base = Replication {
                association: a.id.clone(),
                test: format!("{} {}", key.0, key.1),
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
                agrees: None,
                prevalence_case: None,
                prevalence_control: None,
                population: a.population.clone().unwrap_or_else(|| "not stated".into()),
                citation: c.short().unwrap_or_default(),
                doi: c.doi.clone().unwrap_or_default(),
            };
            match fits.get(key) {
                None => base,
                Some(fit) => {
                    let estimate = fit.estimate;
                    let observed = if estimate > 0.0 {
                        "increased"
                    } else {
                        "decreased"
                    };
                    Replication {
                        observed_direction: observed.into(),
                        estimate: Some(estimate),
                        se: Some(fit.se),
                        p: Some(fit.p),
                        q: Some(q[key]),
                        status: status_of(key, fit),
                        agrees: Some(agrees(a.direction, estimate)),
                        prevalence_case: Some(fit.prevalence_case),
                        prevalence_control: Some(fit.prevalence_control),
                        ..base
                    }
                }
            }
        })
        .collect())
}

/// Whether a reported direction is the one a fitted estimate shows.
fn agrees(reported: Direction, estimate: f64) -> bool {
    matches!(
        (reported, estimate > 0.0),
        (Direction::Increased, true) | (Direction::Decreased, false)
    )
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
        let table = crate::test_support::genus_table(&genera, n, triplets);
        let (d, is_case) = crate::test_support::case_control_design(n, "AS");
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

    /// Issue 13: Bacteroides is reported down in AS by Wen 2017 (TD031) and up by You (TD065):
    /// in one cohort that is one test. Before, it was fitted twice, counted twice in BH and
    /// scored `opposite` for TD031 and `replicated` for TD065 at once. The GA-map Bacteroides
    /// row (TD047) and the within-patient, biopsy Dialister row (TD041) are not stool case–control
    /// taxon tests and are not re-tested.
    #[test]
    fn one_test_per_taxon_counted_once_and_only_testable_rows() {
        use crate::test_support::{Finding, finding, knowledge_base};
        // The curated rows of issue 13 (TD031/TD047/TD065 Bacteroides, TD041 Dialister), made up
        // here so that the test does not depend on which studies the table holds today.
        let kb = knowledge_base(&[
            finding("TD031", "Bacteroides", "decreased"),
            finding("TD065", "Bacteroides", "increased"),
            Finding {
                method: "GA-map",
                ..finding("TD047", "Bacteroides", "decreased")
            },
            Finding {
                contrast: "activity_within_patients",
                sample_type: "ileal_biopsy;colonic_biopsy",
                ..finding("TD041", "Dialister", "increased")
            },
            finding("TD049", "Streptococcus", "increased"),
            finding("TD051", "Megamonas", "decreased"),
        ]);
        let genera = [
            "Bacteroides",
            "Streptococcus",
            "Megamonas",
            "Dialister",
            "Blautia",
        ];
        let n = 20;
        let mut triplets = Vec::new();
        for s in 0..n {
            for f in 0..genera.len() {
                let mut v = 5.0 + ((s * 7 + f * 13) % 11) as f64 * 3.0;
                if f == 0 && s % 2 == 1 {
                    v *= 20.0; // Bacteroides far higher in cases
                }
                triplets.push((s as u32, f as u32, v));
            }
        }
        let table = crate::test_support::genus_table(&genera, n, triplets);
        let (d, is_case) = crate::test_support::case_control_design(n, "AS");
        let all: Vec<&TaxonDisease> = kb
            .taxon_disease()
            .iter()
            .filter(|a| matches!(a.disease.to_string().as_str(), "AS" | "axSpA"))
            .filter(|a| a.rank == Rank::Genus && genera.contains(&a.taxon.as_str()))
            .collect();
        let (tested, not_tested) = select(&all, &Cohort::default());
        let reason = |id: &str| {
            not_tested
                .iter()
                .find(|n| n.association == id)
                .map(|n| n.reason.clone())
        };
        assert!(
            reason("TD047").is_some_and(|r| r.contains("GA-map")),
            "{not_tested:?}"
        );
        assert!(
            reason("TD041").is_some_and(|r| r.contains("activity_within_patients")),
            "{not_tested:?}"
        );
        assert!(tested.iter().all(|a| a.id != "TD047" && a.id != "TD041"));
        let model = Model {
            design: &d,
            term: "group[T.AS]",
            is_case: &is_case,
            pseudocount: 1e-4,
            q_threshold: 0.05,
            method: Method::Lm,
        };
        let rows = replicate(&kb, &table, &tested, &model).expect("replicate");
        let bacteroides: Vec<&Replication> =
            rows.iter().filter(|r| r.taxon == "Bacteroides").collect();
        let ids: Vec<&str> = bacteroides.iter().map(|r| r.association.as_str()).collect();
        assert!(ids.contains(&"TD031") && ids.contains(&"TD065"), "{ids:?}");
        for r in &bacteroides {
            assert_eq!(r.test, "genus bacteroides");
            assert_eq!(r.observed_direction, "increased");
            assert_eq!(r.status, "conflicting reports", "{r:?}");
            assert_eq!(r.agrees, Some(r.reported_direction == "increased"));
        }
        // BH over the distinct tests: each test's p once.
        let mut by_test: BTreeMap<&str, f64> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.p.is_some()) {
            let p = r.p.expect("p");
            let first = *by_test.entry(r.test.as_str()).or_insert(p);
            assert_eq!(first, p, "one fit per test");
        }
        assert!(by_test.len() < rows.iter().filter(|r| r.p.is_some()).count());
        let tests: Vec<&str> = by_test.keys().copied().collect();
        let p: Vec<f64> = by_test.values().copied().collect();
        let q = adjust(&p, Adjust::Bh);
        for r in rows.iter().filter(|r| r.q.is_some()) {
            let k = tests.iter().position(|t| *t == r.test).expect("test");
            assert_eq!(r.q, Some(q[k]), "{r:?}");
        }
        let statuses: BTreeSet<(&str, &str)> =
            rows.iter().map(|r| (r.test.as_str(), r.status)).collect();
        let per_test: BTreeSet<&str> = statuses.iter().map(|(t, _)| *t).collect();
        assert_eq!(statuses.len(), per_test.len(), "one status per test");
    }
}

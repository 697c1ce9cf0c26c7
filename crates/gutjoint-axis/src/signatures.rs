/*!
Arthritis signatures: each cited taxon–disease association of the knowledge base, looked up in
each sample. For every sample and association the output says the sample's relative abundance
of that taxon (matched through its lineage and the synonym table at the association's rank),
where that abundance falls among healthy reference samples (percentile, mid-rank for ties; a
sample is never compared with itself), and whether it points the way the study reported:
`yes` above the reference median for an `increased` taxon (below for `decreased`), `no` the
other way, `tie` when it equals the median, `n/a` without a reference or when the table lacks
the rank.

The side is read against the reference median itself, not from the percentile: a taxon most
healthy people lack has a median of zero, and a sample without it then ties with the reference.
Reading "percentile below 50" as "decreased" instead would score every such sample as pointing
the `decreased` way (the mid-rank of a zero among 70% zeros is 35), so healthy people would
"agree" with a reported decrease for nothing more than sharing the common absence.

Only associations the cohort can test are scored: the study's sample type must be the cohort's
(stool by default) and probe-panel results are left out (see [`crate::replicate::untestable`]).

This is a comparison, never a diagnosis: the studies' populations and methods differ from the
user's, and the output carries a population note whenever they do.
*/

use crate::reference::Reference;
use crate::replicate::{Cohort, untestable};
use gutjoint_knowledge::{Direction, KnowledgeBase, TaxonDisease, normalize};
use gutjoint_table::{FeatureTable, Lineage, Rank};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Serialize)]
pub struct SignatureRow {
    pub sample_id: String,
    pub association: String,
    pub taxon: String,
    pub rank: Rank,
    pub disease: String,
    pub reported_direction: String,
    /// Proportion of the sample (0–1); `None` when the table has no names at that rank.
    pub abundance: Option<f64>,
    pub percentile: Option<f64>,
    /// Median of the reference samples the sample was compared with (itself left out).
    pub reference_median: Option<f64>,
    /// `yes`, `no`, `tie` (equal to the reference median) or `n/a`.
    pub consistent: &'static str,
    pub population_note: String,
    pub confidence: String,
    pub citation: String,
    pub doi: String,
}

/// Canonical key of a taxon name: its accepted name through the synonym table, else the name
/// normalised.
pub fn canonical(kb: &KnowledgeBase, name: &str) -> String {
    kb.resolve_taxon(name)
        .map(|r| r.accepted)
        .unwrap_or_else(|| normalize(name))
        .to_lowercase()
}

/// Abundance of each (rank, canonical taxon) in each sample of `table` (proportions).
pub fn table_abundances(
    kb: &KnowledgeBase,
    table: &FeatureTable,
    wanted: &[(Rank, String)],
) -> HashMap<(Rank, String), Vec<f64>> {
    taxon_abundances(kb, table, wanted, true)
}

/// Abundance of each (rank, canonical taxon) per sample: divided by the sample total when
/// `proportions` is set, else on the table's own scale (what `gutjoint da` models).
pub fn taxon_abundances(
    kb: &KnowledgeBase,
    table: &FeatureTable,
    wanted: &[(Rank, String)],
    proportions: bool,
) -> HashMap<(Rank, String), Vec<f64>> {
    let mut out: HashMap<(Rank, String), Vec<f64>> = HashMap::new();
    let ranks_present = table.ranks_present();
    let totals: Vec<f64> = (0..table.n_samples())
        .map(|s| table.sample_total(s))
        .collect();
    let mut members: HashMap<(Rank, String), Vec<usize>> = HashMap::new();
    let lineages: Vec<Lineage> = (0..table.n_features()).map(|f| table.lineage(f)).collect();
    let mut cache: HashMap<String, String> = HashMap::new();
    for (rank, key) in wanted {
        // Several associations name the same taxon: gather its features once.
        if !ranks_present.contains(rank) || members.contains_key(&(*rank, key.clone())) {
            continue;
        }
        let list = members.entry((*rank, key.clone())).or_default();
        for (f, l) in lineages.iter().enumerate() {
            if let Some(name) = l.get(*rank) {
                let c = cache
                    .entry(name.to_string())
                    .or_insert_with(|| canonical(kb, name));
                if c == key {
                    list.push(f);
                }
            }
        }
    }
    for (k, feats) in members {
        let v = (0..table.n_samples())
            .map(|s| {
                let sum: f64 = feats.iter().map(|&f| table.get(s, f)).sum::<f64>() + 0.0;
                if !proportions {
                    sum
                } else if totals[s] > 0.0 {
                    sum / totals[s]
                } else {
                    0.0
                }
            })
            .collect();
        out.insert(k, v);
    }
    out
}

/// Abundance of one taxon in each reference sample, with the sample's id.
type ReferenceValues = Vec<(String, f64)>;

/// The reference population's abundances of (rank, canonical taxon), keyed by sample id.
fn reference_abundances(
    kb: &KnowledgeBase,
    reference: &Reference,
    population: Option<&str>,
    rank: Rank,
    key: &str,
) -> Option<Vec<(String, f64)>> {
    let pop = reference.population(population).ok()?;
    let ref_rank = reference.rank()?;
    // Reference keys are names at its rank; a species name also names its genus. Any other
    // rank cannot be read from the reference, so the percentile is unknown rather than wrong.
    if !(rank == ref_rank || (ref_rank == Rank::Species && rank == Rank::Genus)) {
        return None;
    }
    let hits: Vec<bool> = pop
        .keys
        .iter()
        .map(|k| {
            let l = if ref_rank == Rank::Species || ref_rank == Rank::Genus {
                Lineage::from_plain_name(k)
            } else {
                Lineage::empty()
            };
            let name = if rank == ref_rank {
                Some(k.as_str())
            } else {
                l.get(rank)
            };
            name.is_some_and(|n| canonical(kb, n) == key)
        })
        .collect();
    Some(
        pop.sample_ids
            .iter()
            .zip(&pop.profiles)
            .map(|(id, row)| {
                (
                    id.clone(),
                    row.iter()
                        .filter(|(k, _)| hits[*k as usize])
                        .map(|p| p.1)
                        .sum(),
                )
            })
            .collect(),
    )
}

fn cite(a: &TaxonDisease) -> String {
    a.citation
        .short()
        .unwrap_or_else(|| "no citation recorded".into())
}

/// Scores every sample of a stool `table` against the associations of `diseases` (all when
/// empty) that a stool cohort can test.
pub fn signatures(
    kb: &KnowledgeBase,
    table: &FeatureTable,
    diseases: &[String],
    reference: Option<(&Reference, Option<&str>)>,
    sample_population: Option<&str>,
) -> Vec<SignatureRow> {
    signatures_in(
        kb,
        table,
        diseases,
        reference,
        sample_population,
        &Cohort::default(),
    )
}

/// As [`signatures`], for a cohort of another kind: only associations that `cohort` can test
/// ([`crate::replicate::untestable`]) are scored.
///
/// Rows come sample by sample, in the table's sample order, with the associations in
/// knowledge-base order within each sample. The order is set here, once, so every face (the
/// command line, Python, the service, the report) lists the same rows in the same order, and
/// the rows of consecutive chunks of samples concatenate to the rows of one run.
pub fn signatures_in(
    kb: &KnowledgeBase,
    table: &FeatureTable,
    diseases: &[String],
    reference: Option<(&Reference, Option<&str>)>,
    sample_population: Option<&str>,
    cohort: &Cohort,
) -> Vec<SignatureRow> {
    let associations: Vec<&TaxonDisease> = kb
        .taxon_disease()
        .iter()
        .filter(|a| {
            diseases.is_empty()
                || diseases
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(&a.disease.to_string()))
        })
        .filter(|a| untestable(a, cohort).is_none())
        .collect();
    let wanted: Vec<(Rank, String)> = associations
        .iter()
        .map(|a| (a.rank, canonical(kb, &a.taxon)))
        .collect();
    let abundances = table_abundances(kb, table, &wanted);
    let mut ref_cache: BTreeMap<(Rank, String), Option<ReferenceValues>> = BTreeMap::new();
    // `rows[s]`: sample `s`'s rows, filled association by association.
    let mut rows: Vec<Vec<SignatureRow>> = vec![Vec::new(); table.n_samples()];
    for (a, key) in associations.iter().zip(&wanted) {
        let reference_values = reference.and_then(|(r, p)| {
            ref_cache
                .entry(key.clone())
                .or_insert_with(|| reference_abundances(kb, r, p, key.0, &key.1))
                .clone()
        });
        let population = a.population.clone().unwrap_or_else(|| "not stated".into());
        let population_note = match sample_population {
            Some(p)
                if a.country_iso.as_deref().is_some_and(|c| p.contains(c))
                    || population.contains(p) =>
            {
                String::new()
            }
            Some(p) => format!("study population {population}; sample population {p}"),
            None => format!("study population {population}; sample population not given"),
        };
        for s in 0..table.n_samples() {
            let id = &table.sample_ids()[s];
            let abundance = abundances.get(key).map(|v| v[s]);
            let others: Option<Vec<f64>> = reference_values.as_ref().map(|values| {
                values
                    .iter()
                    .filter(|(rid, _)| rid != id)
                    .map(|p| p.1)
                    .collect()
            });
            let (percentile, reference_median) = match (abundance, others) {
                (Some(x), Some(mut others)) if !others.is_empty() => {
                    let below = others.iter().filter(|v| **v < x).count() as f64;
                    let equal = others.iter().filter(|v| **v == x).count() as f64;
                    let percentile = 100.0 * (below + 0.5 * equal) / others.len() as f64;
                    (
                        Some(percentile),
                        Some(crate::reference::median(&mut others)),
                    )
                }
                _ => (None, None),
            };
            let consistent = match (abundance, reference_median) {
                (Some(x), Some(m)) => side(x, m, a.direction),
                _ => "n/a",
            };
            rows[s].push(SignatureRow {
                sample_id: id.clone(),
                association: a.id.clone(),
                taxon: a.taxon.clone(),
                rank: a.rank,
                disease: a.disease.to_string(),
                reported_direction: a.direction.to_string(),
                abundance,
                percentile,
                reference_median,
                consistent,
                population_note: population_note.clone(),
                confidence: a.confidence.to_string(),
                citation: cite(a),
                doi: a.citation.doi.clone().unwrap_or_default(),
            });
        }
    }
    rows.into_iter().flatten().collect()
}

/// Whether `abundance` lies on the reported side of the reference `median`: `yes`, `no`, or
/// `tie` when it equals the median (zero against a median of zero included).
pub fn side(abundance: f64, median: f64, reported: Direction) -> &'static str {
    if abundance == median {
        return "tie";
    }
    match (reported, abundance > median) {
        (Direction::Increased, true) | (Direction::Decreased, false) => "yes",
        _ => "no",
    }
}

/// `(group, samples on the reported side, samples scored)`.
pub type GroupTally = (String, usize, usize);

/// Per association, how many samples of each group lie on the reported side (`yes`) among the
/// samples scored (`yes`, `no` or `tie`; n/a left out). Ties stay in the denominator: for a
/// taxon most people lack (median zero) they are most samples, and leaving them out would show
/// the few carriers as "100% on the increased side" in every group. Groups in `groups` order.
pub fn tally(
    rows: &[SignatureRow],
    group_of: &HashMap<String, String>,
    groups: &[String],
) -> Vec<(String, Vec<GroupTally>)> {
    let mut order: Vec<String> = Vec::new();
    let mut counts: HashMap<String, HashMap<String, (usize, usize)>> = HashMap::new();
    for r in rows {
        if !counts.contains_key(&r.association) {
            order.push(r.association.clone());
        }
        let per = counts.entry(r.association.clone()).or_default();
        let Some(g) = group_of.get(&r.sample_id) else {
            continue;
        };
        let c = per.entry(g.clone()).or_insert((0, 0));
        match r.consistent {
            "yes" => {
                c.0 += 1;
                c.1 += 1;
            }
            "no" | "tie" => c.1 += 1,
            _ => {}
        }
    }
    order
        .into_iter()
        .map(|a| {
            let per = &counts[&a];
            let by = groups.iter().map(|g| {
                let (y, n) = per.get(g).copied().unwrap_or((0, 0));
                (g.clone(), y, n)
            });
            (a, by.collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::KeyedProfiles;
    use crate::reference::build_reference;

    #[test]
    fn the_side_is_read_against_the_median() {
        assert_eq!(side(0.0, 0.0, Direction::Decreased), "tie");
        assert_eq!(side(0.0, 0.0, Direction::Increased), "tie");
        assert_eq!(side(0.2, 0.2, Direction::Increased), "tie");
        assert_eq!(side(0.1, 0.0, Direction::Increased), "yes");
        assert_eq!(side(0.1, 0.0, Direction::Decreased), "no");
        assert_eq!(side(0.1, 0.3, Direction::Decreased), "yes");
        assert_eq!(side(0.1, 0.3, Direction::Increased), "no");
    }

    /// Five samples, Megamonas in one of them only: the median of the others is zero for the
    /// four without it, so they tie. Before the fix their mid-rank percentile (3 ties and one
    /// higher value among 4: (0 + 0.5 * 3) / 4 = 37.5%) sat below 50 and each was counted as
    /// agreeing with the reported Megamonas decrease.
    #[test]
    fn absence_against_a_zero_median_is_a_tie_not_a_decrease() {
        // Issue 13's case: Megamonas reported down in AS (the curated rows that said so were
        // later retired for want of an identifier, so the test brings its own).
        use crate::test_support::{finding, knowledge_base};
        let kb = knowledge_base(&[
            finding("TD901", "Megamonas", "decreased"),
            finding("TD902", "Bacteroides", "decreased"),
            finding("TD903", "Bacteroides", "increased"),
        ]);
        let genera = ["Megamonas", "Bacteroides"];
        let megamonas = [0.0, 0.0, 0.0, 0.0, 30.0];
        let mut triplets = Vec::new();
        for (s, m) in megamonas.iter().enumerate() {
            if *m > 0.0 {
                triplets.push((s as u32, 0, *m));
            }
            triplets.push((s as u32, 1, 100.0 - m));
        }
        let samples = crate::test_support::sample_ids(5);
        let table = crate::test_support::genus_table(&genera, 5, triplets);
        let profiles = KeyedProfiles::from_table(&table, Some(Rank::Genus)).expect("profiles");
        let labels = vec!["toy".to_string(); 5];
        let reference =
            build_reference("toy", "toy", "test", "test", &profiles, &labels).expect("reference");
        let rows = signatures(&kb, &table, &["AS".into()], Some((&reference, None)), None);
        let mega: Vec<&SignatureRow> = rows
            .iter()
            .filter(|r| r.taxon == "Megamonas" && r.reported_direction == "decreased")
            .collect();
        assert!(
            !mega.is_empty(),
            "the knowledge base reports Megamonas down in AS"
        );
        for r in &mega {
            let s: usize = r.sample_id[1..].parse().expect("index");
            if s < 4 {
                assert_eq!(r.abundance, Some(0.0));
                assert_eq!(r.percentile, Some(37.5), "mid-rank among the other four");
                assert_eq!(r.reference_median, Some(0.0));
                assert_eq!(r.consistent, "tie", "{r:?}");
            } else {
                // The carrier sits above the others' zero median: against a decrease.
                assert_eq!(r.abundance, Some(0.3));
                assert_eq!(r.reference_median, Some(0.0));
                assert_eq!(r.consistent, "no");
            }
        }
        // Bacteroides: others' values 1.0 ×3 and 0.7 → median 1.0 for S0..S3 (ties), and
        // S4 (0.7) lies below the others' median of 1.0.
        let bact: Vec<&SignatureRow> = rows
            .iter()
            .filter(|r| r.taxon == "Bacteroides" && r.rank == Rank::Genus)
            .collect();
        assert_eq!(bact.len(), 10, "two findings × five samples");
        for r in bact {
            let s: usize = r.sample_id[1..].parse().expect("index");
            let expected = match (s, r.reported_direction.as_str()) {
                (0..=3, _) => "tie",
                (_, "decreased") => "yes",
                _ => "no",
            };
            assert_eq!(r.consistent, expected, "{r:?}");
        }
        // Ties count as scored but not as agreeing: 0 of 5 on the decreased side (before the
        // fix, 4 of 5).
        let group_of: HashMap<String, String> =
            samples.iter().map(|s| (s.clone(), "g".into())).collect();
        let tallies = tally(&rows, &group_of, &["g".to_string()]);
        let (_, by) = tallies
            .iter()
            .find(|(a, _)| *a == mega[0].association)
            .expect("tally");
        assert_eq!(by[0], ("g".to_string(), 0, 5));
    }

    /// Rows come sample by sample (associations in knowledge-base order within a sample), from
    /// the library itself, so every face lists them alike; and the rows of consecutive chunks
    /// of samples, scored apart, concatenate to the rows of one run (what `--samples K/N` and
    /// the workflow's shards rely on).
    #[test]
    fn rows_are_listed_sample_by_sample() {
        use crate::test_support::{finding, knowledge_base};
        let kb = knowledge_base(&[
            finding("TD901", "Megamonas", "decreased"),
            finding("TD902", "Bacteroides", "decreased"),
            finding("TD903", "Bacteroides", "increased"),
        ]);
        let genera = ["Megamonas", "Bacteroides"];
        let mut triplets = Vec::new();
        for s in 0..5u32 {
            triplets.push((s, 0, f64::from(s + 1)));
            triplets.push((s, 1, f64::from(10 - s)));
        }
        let table = crate::test_support::genus_table(&genera, 5, triplets);
        let profiles = KeyedProfiles::from_table(&table, Some(Rank::Genus)).expect("profiles");
        let labels = vec!["toy".to_string(); 5];
        let reference =
            build_reference("toy", "toy", "test", "test", &profiles, &labels).expect("reference");
        let key = |rows: &[SignatureRow]| -> Vec<(String, String, Option<f64>, &'static str)> {
            rows.iter()
                .map(|r| {
                    (
                        r.sample_id.clone(),
                        r.association.clone(),
                        r.percentile,
                        r.consistent,
                    )
                })
                .collect()
        };
        let score =
            |t: &FeatureTable| signatures(&kb, t, &["AS".into()], Some((&reference, None)), None);
        let whole = score(&table);
        let order: Vec<(&str, &str)> = whole
            .iter()
            .map(|r| (r.sample_id.as_str(), r.association.as_str()))
            .collect();
        let mut expected = Vec::new();
        for s in ["S0", "S1", "S2", "S3", "S4"] {
            for a in ["TD901", "TD902", "TD903"] {
                expected.push((s, a));
            }
        }
        assert_eq!(order, expected);
        let mut chunks = score(&table.select_samples(&[0, 1]));
        chunks.extend(score(&table.select_samples(&[2, 3, 4])));
        assert_eq!(key(&chunks), key(&whole));
        // The values are real ones: S0's Megamonas (1 of 11) lies below the four others'.
        assert_eq!(whole[0].percentile, Some(0.0));
        assert_eq!(whole[0].consistent, "yes");
    }
}

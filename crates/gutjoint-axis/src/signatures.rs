/*!
Arthritis signatures: each cited taxon–disease association of the knowledge base, looked up in
each sample. For every sample and association the output says the sample's relative abundance
of that taxon (matched through its lineage and the synonym table at the association's rank),
where that abundance falls among healthy reference samples (percentile, mid-rank for ties; a
sample is never compared with itself), and whether it points the way the study reported:
`yes` above the reference median for an `increased` taxon (below for `decreased`), `no` the
other way, `tie` at the median, `n/a` without a reference or when the table lacks the rank.

This is a comparison, never a diagnosis: the studies' populations and methods differ from the
user's, and the output carries a population note whenever they do.
*/

use crate::reference::Reference;
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

/// Scores every sample of `table` against the associations of `diseases` (all when empty).
pub fn signatures(
    kb: &KnowledgeBase,
    table: &FeatureTable,
    diseases: &[String],
    reference: Option<(&Reference, Option<&str>)>,
    sample_population: Option<&str>,
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
        .collect();
    let wanted: Vec<(Rank, String)> = associations
        .iter()
        .map(|a| (a.rank, canonical(kb, &a.taxon)))
        .collect();
    let abundances = table_abundances(kb, table, &wanted);
    let mut ref_cache: BTreeMap<(Rank, String), Option<ReferenceValues>> = BTreeMap::new();
    let mut rows = Vec::new();
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
            let percentile = match (abundance, &reference_values) {
                (Some(x), Some(values)) => {
                    let others: Vec<f64> = values
                        .iter()
                        .filter(|(rid, _)| rid != id)
                        .map(|p| p.1)
                        .collect();
                    if others.is_empty() {
                        None
                    } else {
                        let below = others.iter().filter(|v| **v < x).count() as f64;
                        let equal = others.iter().filter(|v| **v == x).count() as f64;
                        Some(100.0 * (below + 0.5 * equal) / others.len() as f64)
                    }
                }
                _ => None,
            };
            let consistent = match percentile {
                None => "n/a",
                Some(50.0) => "tie",
                Some(p) => match (a.direction, p > 50.0) {
                    (Direction::Increased, true) | (Direction::Decreased, false) => "yes",
                    _ => "no",
                },
            };
            rows.push(SignatureRow {
                sample_id: id.clone(),
                association: a.id.clone(),
                taxon: a.taxon.clone(),
                rank: a.rank,
                disease: a.disease.to_string(),
                reported_direction: a.direction.to_string(),
                abundance,
                percentile,
                consistent,
                population_note: population_note.clone(),
                confidence: a.confidence.to_string(),
                citation: cite(a),
                doi: a.citation.doi.clone().unwrap_or_default(),
            });
        }
    }
    rows
}

/// `(group, samples on the reported side, informative samples)`.
pub type GroupTally = (String, usize, usize);

/// Per association, how many samples of each group lie on the reported side (`yes`) among the
/// informative ones (`yes` or `no`; ties and n/a left out). Groups in `groups` order.
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
            "no" => c.1 += 1,
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

/*!
Pharmacomicrobiomics: what a person's gut bacteria may do to their drugs.

Gut bacteria activate some drugs (azoreductases free 5-aminosalicylic acid from
sulfasalazine), inactivate others (Cgr reduces digoxin; TyrDC decarboxylates L-dopa), and
make some toxic (β-glucuronidases undo the glucuronides of diclofenac, indomethacin and
irinotecan's SN-38). Following AGORA2 (Heinken et al. 2023, Nat Biotechnol 41:1320), a sample's
**capacity** for a reaction is the abundance-weighted share of its community able to carry it:
`Σ_species p_s · f_s`, with `f_s` the fraction of the species' AGORA2 strains annotated with
the enzyme. Species AGORA2 does not cover are reported as the unmapped share, with the bounds
that follow (none of them carries the enzyme / all of them do). The call — low, typical, high —
places the capacity within a healthy reference's 10th–90th percentile range. When a HUMAnN EC
table is given, the measured enzyme abundance is reported next to the inference, labelled as
measured. Drugs that inhibit gut strains in vitro (Maier et al. 2018, Nature 555:623) are listed
with the inhibited species present in the sample.

Evidence is graded and cited per row; nothing here is a prediction for a patient.
*/

use crate::profile::KeyedProfiles;
use crate::reference::quantile_sorted;
use gutjoint_knowledge::{DrugMicrobe, KnowledgeBase, PharmacoData, normalize};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// AGORA2 carriage, indexed by canonical species name (synonyms merged strain-weighted).
#[derive(Debug, Clone)]
pub struct CarriageIndex {
    by_key: HashMap<String, (u32, BTreeMap<String, f64>)>,
}

/// Canonical species key: accepted name through the synonym table, else the normalised name.
pub fn species_key(kb: &KnowledgeBase, name: &str) -> String {
    kb.resolve_taxon(name)
        .map(|r| r.accepted)
        .unwrap_or_else(|| normalize(name))
        .to_lowercase()
}

impl CarriageIndex {
    pub fn new(kb: &KnowledgeBase, data: &PharmacoData) -> CarriageIndex {
        let mut by_key: HashMap<String, (u32, BTreeMap<String, f64>)> = HashMap::new();
        for (name, c) in &data.carriage {
            let entry = by_key
                .entry(species_key(kb, name))
                .or_insert_with(|| (0, BTreeMap::new()));
            // Strain-weighted mean when two AGORA2 names are one species (B. vulgatus / P. vulgatus).
            let (n_old, n_new) = (f64::from(entry.0), f64::from(c.n_strains));
            for (col, f) in &c.fractions {
                let old = entry.1.get(col).copied().unwrap_or(0.0);
                entry.1.insert(
                    col.clone(),
                    (old * n_old + f * n_new) / (n_old + n_new).max(1.0),
                );
            }
            entry.0 += c.n_strains;
        }
        CarriageIndex { by_key }
    }

    /// Fraction of the species' strains carrying `column`, if AGORA2 has the species.
    pub fn fraction(&self, key: &str, column: &str) -> Option<f64> {
        self.by_key
            .get(key)
            .map(|(_, f)| f.get(column).copied().unwrap_or(0.0))
    }
}

/// One sample's capacity for one enzyme.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Capacity {
    pub capacity: f64,
    /// Share of the sample's abundance in species AGORA2 covers.
    pub mapped_fraction: f64,
    /// Capacity if every unmapped species carried the enzyme.
    pub upper_bound: f64,
}

/// Capacity of every sample of species-level `profiles` for an AGORA2 enzyme column.
pub fn enzyme_capacity(
    kb: &KnowledgeBase,
    index: &CarriageIndex,
    profiles: &KeyedProfiles,
    column: &str,
) -> Vec<Capacity> {
    let keys: Vec<String> = profiles.keys.iter().map(|k| species_key(kb, k)).collect();
    let fractions: Vec<Option<f64>> = keys.iter().map(|k| index.fraction(k, column)).collect();
    profiles
        .rows
        .iter()
        .map(|row| {
            let (mut capacity, mut mapped) = (0.0, 0.0);
            for (k, p) in row {
                if let Some(f) = fractions[*k as usize] {
                    capacity += p * f;
                    mapped += p;
                }
            }
            let total: f64 = row.iter().map(|p| p.1).sum();
            Capacity {
                capacity,
                mapped_fraction: mapped,
                upper_bound: capacity + (total - mapped).max(0.0),
            }
        })
        .collect()
}

/// One output row: a sample, a drug and one of its mechanisms.
#[derive(Debug, Clone, Serialize)]
pub struct DrugCall {
    pub sample_id: String,
    pub drug: String,
    pub interaction: String,
    pub enzyme: String,
    pub capacity: Option<f64>,
    pub mapped_fraction: Option<f64>,
    pub upper_bound: Option<f64>,
    /// `low`, `typical`, `high` against the reference; or what the row is instead.
    pub call: String,
    /// Where the capacity comes from: `inferred (AGORA2 carriage)` or `measured (HUMAnN EC …)`.
    pub source: String,
    pub evidence: String,
    pub citation: String,
}

/// Reference distribution of a capacity: its 10th and 90th percentiles.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Band {
    pub q10: f64,
    pub q90: f64,
}

pub fn band(values: &[f64]) -> Option<Band> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 5 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(Band {
        q10: quantile_sorted(&v, 0.1),
        q90: quantile_sorted(&v, 0.9),
    })
}

/// The healthy reference's capacity band for every AGORA2 enzyme column the knowledge base's
/// drug–microbe rows use, from one population of a species-level reference (empty when the
/// reference is not species-level: calls are then n/a). What every face scores drugs against.
pub fn reference_bands(
    kb: &KnowledgeBase,
    index: &CarriageIndex,
    reference: &crate::reference::Reference,
    population: Option<&str>,
) -> crate::Result<BTreeMap<String, Band>> {
    let mut bands = BTreeMap::new();
    if reference.rank() != Some(gutjoint_table::Rank::Species) {
        return Ok(bands);
    }
    let pop = reference.population(population)?;
    let profiles = KeyedProfiles {
        rank: Some(gutjoint_table::Rank::Species),
        sample_ids: pop.sample_ids.clone(),
        keys: pop.keys.clone(),
        rows: pop.profiles.clone(),
    };
    let columns: std::collections::BTreeSet<&String> = kb
        .drug_microbe()
        .iter()
        .filter_map(|m| m.agora2_column.as_ref())
        .collect();
    for column in columns {
        let caps: Vec<f64> = enzyme_capacity(kb, index, &profiles, column)
            .iter()
            .map(|c| c.capacity)
            .collect();
        if let Some(b) = band(&caps) {
            bands.insert(column.clone(), b);
        }
    }
    Ok(bands)
}

fn cite(m: &DrugMicrobe) -> String {
    m.citation
        .with_identifier()
        .unwrap_or_else(|| "no evidence".into())
}

/// Inputs for scoring.
#[derive(Debug)]
pub struct DrugInputs<'a> {
    pub kb: &'a KnowledgeBase,
    pub data: &'a PharmacoData,
    pub index: &'a CarriageIndex,
    pub profiles: &'a KeyedProfiles,
    /// Per sample, the canonical drug names to score.
    pub drugs: &'a [Vec<String>],
    /// Capacity bands of the healthy reference, per enzyme column.
    pub bands: &'a BTreeMap<String, Band>,
    /// Measured enzyme abundance per sample from HUMAnN, keyed by EC number.
    pub measured: Option<&'a HashMap<String, Vec<f64>>>,
}

/// Scores every requested drug of every sample.
pub fn score_drugs(inputs: &DrugInputs<'_>) -> Vec<DrugCall> {
    let kb = inputs.kb;
    let mut capacity_cache: HashMap<String, Vec<Capacity>> = HashMap::new();
    let mut out = Vec::new();
    let present_keys: Vec<String> = inputs
        .profiles
        .keys
        .iter()
        .map(|k| species_key(kb, k))
        .collect();
    // Species the drug inhibits in vitro (Maier 2018) that the sample carries, with abundance.
    let maier_hits = |drug: &str, s: usize| -> (f64, String) {
        let mut seen: BTreeMap<String, f64> = BTreeMap::new();
        for h in inputs.data.maier_for(drug).iter().filter(|h| h.inhibits) {
            let key = species_key(kb, &h.species);
            if let Some(k) = present_keys.iter().position(|x| *x == key)
                && let Some((_, p)) = inputs.profiles.rows[s]
                    .iter()
                    .find(|(kk, _)| *kk as usize == k)
            {
                seen.entry(h.species.clone()).or_insert(*p);
            }
        }
        let text = if seen.is_empty() {
            "no inhibited species present".to_string()
        } else {
            format!(
                "inhibited species present: {}",
                seen.iter()
                    .map(|(n, p)| format!("{n} ({p:.3})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        (seen.values().sum(), text)
    };
    for (s, drugs) in inputs.drugs.iter().enumerate() {
        let sample_id = &inputs.profiles.sample_ids[s];
        for drug in drugs {
            let rows: Vec<&DrugMicrobe> = kb
                .drug_microbe()
                .iter()
                .filter(|m| &m.drug == drug)
                .collect();
            if rows.is_empty() {
                out.push(DrugCall {
                    sample_id: sample_id.clone(),
                    drug: drug.clone(),
                    interaction: "not reviewed".into(),
                    enzyme: String::new(),
                    capacity: None,
                    mapped_fraction: None,
                    upper_bound: None,
                    call: "no curated drug–microbe row for this drug".into(),
                    source: String::new(),
                    evidence: "none".into(),
                    citation: "no evidence".into(),
                });
            }
            let screened = inputs.data.maier_for(drug).iter().any(|h| h.inhibits);
            if screened
                && !rows
                    .iter()
                    .any(|m| m.interaction.to_string() == "drug_inhibits_bacteria")
            {
                let (total, text) = maier_hits(drug, s);
                out.push(DrugCall {
                    sample_id: sample_id.clone(),
                    drug: drug.clone(),
                    interaction: "drug_inhibits_bacteria".into(),
                    enzyme: String::new(),
                    capacity: Some(total),
                    mapped_fraction: None,
                    upper_bound: None,
                    call: text,
                    source: "Maier 2018 screen (padj < 0.01)".into(),
                    evidence: "in_vitro".into(),
                    citation: "Maier L 2018 Nature doi:10.1038/nature25979".into(),
                });
            }
            for m in rows {
                let mut call = DrugCall {
                    sample_id: sample_id.clone(),
                    drug: drug.clone(),
                    interaction: m.interaction.to_string(),
                    enzyme: m.enzyme.join("; "),
                    capacity: None,
                    mapped_fraction: None,
                    upper_bound: None,
                    call: String::new(),
                    source: String::new(),
                    evidence: format!(
                        "{}{}",
                        m.evidence,
                        m.confidence.map_or(String::new(), |c| format!(" ({c})"))
                    ),
                    citation: cite(m),
                };
                if let Some(measured) = inputs.measured.filter(|_| !m.humann_ec.is_empty()) {
                    let values: Vec<f64> = m
                        .humann_ec
                        .iter()
                        .filter_map(|ec| measured.get(ec))
                        .map(|v| v[s])
                        .collect();
                    if !values.is_empty() {
                        let total: f64 = values.iter().sum();
                        call.capacity = Some(total);
                        call.call = "measured (no functional reference)".into();
                        call.source = format!("measured (HUMAnN EC {})", m.humann_ec.join(", "));
                        out.push(call);
                        continue;
                    }
                }
                match &m.agora2_column {
                    Some(column) => {
                        let caps = capacity_cache.entry(column.clone()).or_insert_with(|| {
                            enzyme_capacity(kb, inputs.index, inputs.profiles, column)
                        });
                        let c = caps[s];
                        call.capacity = Some(c.capacity);
                        call.mapped_fraction = Some(c.mapped_fraction);
                        call.upper_bound = Some(c.upper_bound);
                        call.source = format!("inferred (AGORA2 carriage, {column})");
                        call.call = match inputs.bands.get(column) {
                            Some(b) if c.capacity < b.q10 => "low".into(),
                            Some(b) if c.capacity > b.q90 => "high".into(),
                            Some(_) => "typical".into(),
                            None => "n/a (no reference)".into(),
                        };
                    }
                    None if m.interaction.to_string() == "drug_inhibits_bacteria" => {
                        let (total, text) = maier_hits(drug, s);
                        call.capacity = Some(total);
                        call.source = "Maier 2018 screen (padj < 0.01)".into();
                        call.call = text;
                    }
                    None => {
                        call.call = match m.interaction.to_string().as_str() {
                            "no_microbial_metabolism_reported" => {
                                "no microbial metabolism reported".into()
                            }
                            other => format!(
                                "{} (not quantifiable from a profile)",
                                other.replace('_', " ")
                            ),
                        };
                    }
                }
                out.push(call);
            }
        }
    }
    out
}

/// Summary of one (drug, interaction, enzyme) over groups: median capacity of the samples that
/// were scored for it, and low/typical/high counts.
#[derive(Debug, Clone, Serialize)]
pub struct DrugGroupSummary {
    pub drug: String,
    pub interaction: String,
    pub enzyme: String,
    pub evidence: String,
    pub citation: String,
    pub source: String,
    pub median_capacity: Vec<(String, f64)>,
    pub calls: Vec<(String, usize, usize, usize)>,
    /// The call text of rows that carry no number (e.g. "no microbial metabolism reported").
    pub statement: Option<String>,
}

pub fn summarize_by_group(
    calls: &[DrugCall],
    group_of: &HashMap<String, String>,
    groups: &[String],
) -> Vec<DrugGroupSummary> {
    let mut order: Vec<(String, String, String)> = Vec::new();
    let mut by: HashMap<(String, String, String), Vec<&DrugCall>> = HashMap::new();
    for c in calls {
        let key = (c.drug.clone(), c.interaction.clone(), c.enzyme.clone());
        if !by.contains_key(&key) {
            order.push(key.clone());
        }
        by.entry(key).or_default().push(c);
    }
    order
        .into_iter()
        .map(|key| {
            let rows = &by[&key];
            let first = rows[0];
            let quantified = first.capacity.is_some() && first.source.starts_with("inferred");
            let mut median_capacity = Vec::new();
            let mut counts = Vec::new();
            if quantified {
                for g in groups {
                    let mut v: Vec<f64> = rows
                        .iter()
                        .filter(|c| group_of.get(&c.sample_id) == Some(g))
                        .filter_map(|c| c.capacity)
                        .collect();
                    if !v.is_empty() {
                        median_capacity.push((g.clone(), crate::reference::median(&mut v)));
                    }
                    let of = |label: &str| {
                        rows.iter()
                            .filter(|c| group_of.get(&c.sample_id) == Some(g) && c.call == label)
                            .count()
                    };
                    counts.push((g.clone(), of("low"), of("typical"), of("high")));
                }
            }
            DrugGroupSummary {
                drug: key.0.clone(),
                interaction: key.1.clone(),
                enzyme: key.2.clone(),
                evidence: first.evidence.clone(),
                citation: first.citation.clone(),
                source: first.source.clone(),
                median_capacity,
                calls: counts,
                statement: (!quantified).then(|| {
                    if first.interaction == "drug_inhibits_bacteria" {
                        let with = rows
                            .iter()
                            .filter(|c| c.call.starts_with("inhibited"))
                            .count();
                        format!(
                            "{with} of {} samples carry species this drug inhibited in vitro",
                            rows.len()
                        )
                    } else {
                        first.call.clone()
                    }
                }),
            }
        })
        .collect()
}

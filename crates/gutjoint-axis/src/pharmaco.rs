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
places the capacity within a healthy reference's 10th–90th percentile range.

Two grades are kept apart. The **mechanism's evidence** (`human (H)`, `in_vitro`, …) says how
well it is established that bacteria do this to the drug. The **estimate's measured validity**
says how well AGORA2 carriage finds the activity at all: AGORA2's authors tested strains in vitro
(`known_drug_metabolizers.tsv`), and each tested strain's species counts as predicted when most
of its AGORA2 strains carry the enzyme (as `docs/measure_drugs.py` does). An enzyme column that
finds fewer than half of the in-vitro positives ([`MIN_SENSITIVITY`]; azoreductase finds 0 of
16) cannot tell a low capacity from an unannotated one, so its calls are `not informative`
instead of low/typical/high, whatever the grade of the mechanism.

Some drugs act through a different moiety in different diseases: sulfasalazine's azo bond is
split by gut bacteria into sulfapyridine, the active moiety in rheumatoid arthritis (Pullar et
al. 1985), and 5-aminosalicylic acid, the active moiety in ulcerative colitis (Azad Khan et al.
1977). Given the disease, a mechanism acting only on the other moiety is called `not relevant`
([`ACTIVE_MOIETIES`]).

When a HUMAnN EC
table is given, the measured enzyme abundance is reported next to the inference, labelled as
measured. Drugs that inhibit gut strains in vitro (Maier et al. 2018, Nature 555:623) are listed
with the inhibited species present in the sample.

Evidence is graded and cited per row; nothing here is a prediction for a patient.
*/

use crate::profile::KeyedProfiles;
use crate::reference::quantile_sorted;
use gutjoint_knowledge::{
    Disease, DrugMicrobe, Interaction, KnowledgeBase, KnownMetabolizer, PharmacoData, normalize,
};
use serde::{Deserialize, Serialize};
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

/// An enzyme column finding fewer of the in-vitro positive strains than this is not informative.
pub const MIN_SENSITIVITY: f64 = 0.5;

/// A species counts as carrying an activity when at least this fraction of its AGORA2 strains
/// is annotated with the enzyme (most of them).
pub const CARRIER_FRACTION: f64 = 0.5;

/// How well an enzyme column's species carriage reproduces AGORA2's in-vitro tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MeasuredValidity {
    /// The `enzyme_carriage.tsv` column.
    pub column: String,
    /// The activity tested, or `None` when pooled over every activity of the column.
    pub activity: Option<String>,
    /// In-vitro positive, species predicted to carry it.
    pub true_positives: u32,
    /// In-vitro positive, species not predicted (the estimate misses it).
    pub false_negatives: u32,
    /// In-vitro negative, species not predicted.
    pub true_negatives: u32,
    /// In-vitro negative, species predicted.
    pub false_positives: u32,
    /// Tested strains whose species AGORA2 does not cover (left out of the rates).
    pub not_in_agora2: u32,
}

impl MeasuredValidity {
    /// Share of in-vitro positives found; `None` when no positive strain was tested.
    pub fn sensitivity(&self) -> Option<f64> {
        let n = self.true_positives + self.false_negatives;
        (n > 0).then(|| f64::from(self.true_positives) / f64::from(n))
    }

    /// Share of in-vitro negatives not predicted; `None` when no negative strain was tested.
    pub fn specificity(&self) -> Option<f64> {
        let n = self.true_negatives + self.false_positives;
        (n > 0).then(|| f64::from(self.true_negatives) / f64::from(n))
    }

    /// False when the measured sensitivity is under [`MIN_SENSITIVITY`]; an unmeasured
    /// sensitivity does not make a column uninformative (the text says it is unmeasured).
    pub fn informative(&self) -> bool {
        self.sensitivity().is_none_or(|s| s >= MIN_SENSITIVITY)
    }

    /// `sensitivity 0/16 (0%), specificity 6/6 (100%) against AGORA2's in-vitro tests`.
    pub fn describe(&self) -> String {
        let rate = |a: u32, b: u32| {
            if a + b == 0 {
                "not measured".to_string()
            } else {
                format!(
                    "{a}/{} ({:.0}%)",
                    a + b,
                    100.0 * f64::from(a) / f64::from(a + b)
                )
            }
        };
        let mut text = format!(
            "{}: sensitivity {}, specificity {} against AGORA2's in-vitro tests",
            self.column,
            rate(self.true_positives, self.false_negatives),
            rate(self.true_negatives, self.false_positives)
        );
        if !self.informative() {
            text.push_str(&format!(
                "; under {:.0}% sensitivity, so the call is not informative",
                100.0 * MIN_SENSITIVITY
            ));
        }
        text
    }
}

/// Validity of every (enzyme column, activity) tested in vitro, in column then activity order:
/// each tested strain's species is looked up in AGORA2 (through the synonym table) and counts
/// as predicted when at least [`CARRIER_FRACTION`] of its strains carry the column's enzyme.
pub fn validity_by_activity(
    kb: &KnowledgeBase,
    index: &CarriageIndex,
    known: &[KnownMetabolizer],
) -> Vec<MeasuredValidity> {
    let mut by: BTreeMap<(String, String), MeasuredValidity> = BTreeMap::new();
    for k in known {
        let Some(column) = &k.agora2_column else {
            continue;
        };
        let v = by
            .entry((column.clone(), k.activity.clone()))
            .or_insert_with(|| MeasuredValidity {
                column: column.clone(),
                activity: Some(k.activity.clone()),
                true_positives: 0,
                false_negatives: 0,
                true_negatives: 0,
                false_positives: 0,
                not_in_agora2: 0,
            });
        match index.fraction(&species_key(kb, &k.species()), column) {
            None => v.not_in_agora2 += 1,
            Some(f) => match (k.in_vitro, f >= CARRIER_FRACTION) {
                (true, true) => v.true_positives += 1,
                (true, false) => v.false_negatives += 1,
                (false, false) => v.true_negatives += 1,
                (false, true) => v.false_positives += 1,
            },
        }
    }
    by.into_values().collect()
}

/// [`validity_by_activity`] pooled per enzyme column: what a call from that column is worth.
pub fn validity_by_column(
    kb: &KnowledgeBase,
    index: &CarriageIndex,
    known: &[KnownMetabolizer],
) -> BTreeMap<String, MeasuredValidity> {
    let mut out: BTreeMap<String, MeasuredValidity> = BTreeMap::new();
    for v in validity_by_activity(kb, index, known) {
        let pooled = out
            .entry(v.column.clone())
            .or_insert_with(|| MeasuredValidity {
                activity: None,
                true_positives: 0,
                false_negatives: 0,
                true_negatives: 0,
                false_positives: 0,
                not_in_agora2: 0,
                ..v.clone()
            });
        pooled.true_positives += v.true_positives;
        pooled.false_negatives += v.false_negatives;
        pooled.true_negatives += v.true_negatives;
        pooled.false_positives += v.false_positives;
        pooled.not_in_agora2 += v.not_in_agora2;
    }
    out
}

/// The moiety of a drug that acts in some diseases, where it differs between diseases.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ActiveMoiety {
    /// Key into `drugs.tsv`.
    pub drug: &'static str,
    pub moiety: &'static str,
    /// How a mechanism text names the moiety (matched case-insensitively).
    pub names: &'static [&'static str],
    /// Diseases in which this moiety is the active one.
    pub diseases: &'static [Disease],
    /// The disease as the evidence names it.
    pub shown_in: &'static str,
    pub finding: &'static str,
    pub citation: &'static str,
}

/// Active moieties that depend on the disease, each with the trial that showed it.
pub const ACTIVE_MOIETIES: &[ActiveMoiety] = &[
    ActiveMoiety {
        drug: "sulfasalazine",
        moiety: "sulfapyridine",
        names: &["sulfapyridine", "sulphapyridine"],
        diseases: &[Disease::Ra],
        shown_in: "RA",
        finding: "over 24 weeks sulfapyridine alone had sulfasalazine's second-line effect, 5-ASA only a weak first-line one",
        citation: "Pullar T 1985 BMJ 290:1535 doi:10.1136/bmj.290.6481.1535 PMID 2860942",
    },
    ActiveMoiety {
        drug: "sulfasalazine",
        moiety: "5-aminosalicylic acid",
        names: &["5-aminosalicylic acid", "5-asa"],
        diseases: &[Disease::Cd],
        shown_in: "IBD (ulcerative colitis)",
        finding: "5-ASA enemas, not sulfapyridine ones, improved active ulcerative colitis",
        citation: "Azad Khan AK 1977 Lancet 2:892 doi:10.1016/s0140-6736(77)90831-5 PMID 72239",
    },
];

/// What the disease means for one mechanism of a drug whose active moiety depends on it:
/// `(pharmacology note, Some(reason) when the mechanism acts only on a moiety that is not the
/// active one in this disease)`. `None` for drugs without disease-dependent moieties.
pub fn moiety_in_disease(
    m: &DrugMicrobe,
    disease: Option<Disease>,
) -> Option<(String, Option<String>)> {
    let moieties: Vec<&ActiveMoiety> = ACTIVE_MOIETIES
        .iter()
        .filter(|a| a.drug == m.drug)
        .collect();
    if moieties.is_empty() {
        return None;
    }
    let all = moieties
        .iter()
        .map(|a| format!("{}: {} ({})", a.shown_in, a.moiety, a.citation))
        .collect::<Vec<_>>()
        .join("; ");
    let Some(d) = disease else {
        return Some((format!("active moiety by disease: {all}"), None));
    };
    let Some(active) = moieties.iter().find(|a| a.diseases.contains(&d)) else {
        return Some((format!("active moiety in {d} not established; {all}"), None));
    };
    let note = format!(
        "in {d} the active moiety is {} ({}: {})",
        active.moiety, active.citation, active.finding
    );
    // Bacteria that inactivate only another moiety do not touch what acts in this disease.
    let text = m.mechanism.as_deref().unwrap_or_default().to_lowercase();
    let names = |a: &ActiveMoiety| a.names.iter().any(|n| text.contains(n));
    let acts_on_other = m.interaction == Interaction::Inactivation
        && !names(active)
        && moieties
            .iter()
            .any(|a| a.moiety != active.moiety && names(a));
    let not_relevant = acts_on_other.then(|| {
        format!(
            "not relevant in {d}: this inactivates another moiety; {} is the active one ({})",
            active.moiety, active.citation
        )
    });
    Some((note, not_relevant))
}

/// One output row: a sample, a drug and one of its mechanisms.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DrugCall {
    pub sample_id: String,
    pub drug: String,
    pub interaction: String,
    pub enzyme: String,
    pub capacity: Option<f64>,
    pub mapped_fraction: Option<f64>,
    pub upper_bound: Option<f64>,
    /// `low`, `typical`, `high` against the reference; `not informative` when the enzyme
    /// column's measured sensitivity is under [`MIN_SENSITIVITY`]; or what the row is instead.
    pub call: String,
    /// Where the capacity comes from: `inferred (AGORA2 carriage)` or `measured (HUMAnN EC …)`.
    pub source: String,
    /// The grade of the mechanism (that bacteria do this to the drug), not of this estimate.
    #[serde(rename = "mechanism_evidence")]
    pub evidence: String,
    /// How well this estimate finds the activity in vitro (AGORA2-inferred rows).
    pub validity: Option<MeasuredValidity>,
    /// The estimate's validity in words, or why it has none.
    pub estimate_validity: String,
    /// Which moiety acts in the disease, for drugs where that depends on the disease.
    pub pharmacology: Option<String>,
    pub citation: String,
}

/// The drug names in one medication cell of sample metadata: split on `,` `;` `/` `+` and
/// trimmed; `none`, `no`, `na`, `-` and `0` (any case) mean "no medication" and yield nothing.
pub fn medication_names(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([',', ';', '/', '+']).map(str::trim).filter(|x| {
        !x.is_empty()
            && !matches!(
                x.to_ascii_lowercase().as_str(),
                "none" | "no" | "na" | "-" | "0"
            )
    })
}

/// A drug name as the knowledge base knows it (brands and spellings resolved), or a message
/// that names it and the nearest known name.
pub fn resolve_drug_name(kb: &KnowledgeBase, name: &str) -> Result<String, String> {
    match kb.resolve_drug(name.trim()) {
        Ok(d) => Ok(d.drug.clone()),
        Err(s) => Err(match s.suggestion {
            Some(x) => format!("unknown drug '{name}'; did you mean '{x}'?"),
            None => format!("unknown drug '{name}'"),
        }),
    }
}

/// The drugs each sample takes: `common` (canonical names every sample takes, e.g. from
/// `--drugs`), then those of its medication cell (`None`: no cell), as canonical names, each
/// once and in the order listed; names the knowledge base does not know are returned apart,
/// with their message, rather than dropped in silence. Every face (the `drugs` command,
/// `analyze`) reads medication columns through this one rule.
pub fn medications_by_sample<I, S>(
    kb: &KnowledgeBase,
    common: &[String],
    cells: I,
) -> (Vec<Vec<String>>, BTreeMap<String, String>)
where
    I: IntoIterator<Item = Option<S>>,
    S: AsRef<str>,
{
    let mut unknown = BTreeMap::new();
    let per_sample = cells
        .into_iter()
        .map(|cell| {
            let mut drugs: Vec<String> = common.to_vec();
            if let Some(cell) = cell {
                for name in medication_names(cell.as_ref()) {
                    match resolve_drug_name(kb, name) {
                        Ok(d) if !drugs.contains(&d) => drugs.push(d),
                        Ok(_) => {}
                        Err(message) => {
                            unknown.insert(name.to_string(), message);
                        }
                    }
                }
            }
            drugs
        })
        .collect();
    (per_sample, unknown)
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

/// Scores every requested drug of every sample, the disease not given.
pub fn score_drugs(inputs: &DrugInputs<'_>) -> Vec<DrugCall> {
    score_drugs_in(inputs, None)
}

/// Scores every requested drug of every sample of a cohort with `disease`: mechanisms acting
/// only on a moiety that is not the active one in that disease are called `not relevant`.
pub fn score_drugs_in(inputs: &DrugInputs<'_>, disease: Option<Disease>) -> Vec<DrugCall> {
    let kb = inputs.kb;
    let validity = validity_by_column(kb, inputs.index, &inputs.data.known_metabolizers);
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
                    validity: None,
                    estimate_validity: "no estimate".into(),
                    pharmacology: None,
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
                    validity: None,
                    estimate_validity: "species present, from the profile; no estimate".into(),
                    pharmacology: None,
                    citation: "Maier L 2018 Nature doi:10.1038/nature25979".into(),
                });
            }
            for m in rows {
                let moiety = moiety_in_disease(m, disease);
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
                    validity: None,
                    estimate_validity: "no estimate".into(),
                    pharmacology: moiety.as_ref().map(|(note, _)| note.clone()),
                    citation: cite(m),
                };
                let not_relevant = moiety.and_then(|(_, reason)| reason);
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
                        call.call = not_relevant
                            .clone()
                            .unwrap_or_else(|| "measured (no functional reference)".into());
                        call.source = format!("measured (HUMAnN EC {})", m.humann_ec.join(", "));
                        call.estimate_validity =
                            "measured enzyme abundance (HUMAnN); not validated against activity"
                                .into();
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
                        let v = validity.get(column);
                        call.validity = v.cloned();
                        call.estimate_validity = match v {
                            Some(v) => v.describe(),
                            None if inputs.data.known_metabolizers.is_empty() => {
                                "not measured: the in-vitro table was not loaded".into()
                            }
                            None => format!("{column}: not measured (no in-vitro test)"),
                        };
                        call.call = if let Some(reason) = &not_relevant {
                            reason.clone()
                        } else if !v.is_none_or(MeasuredValidity::informative) {
                            "not informative".into()
                        } else {
                            match inputs.bands.get(column) {
                                Some(b) if c.capacity < b.q10 => "low".into(),
                                Some(b) if c.capacity > b.q90 => "high".into(),
                                Some(_) => "typical".into(),
                                None => "n/a (no reference)".into(),
                            }
                        };
                    }
                    None if m.interaction.to_string() == "drug_inhibits_bacteria" => {
                        let (total, text) = maier_hits(drug, s);
                        call.capacity = Some(total);
                        call.source = "Maier 2018 screen (padj < 0.01)".into();
                        call.estimate_validity =
                            "species present, from the profile; no estimate".into();
                        call.call = not_relevant.clone().unwrap_or(text);
                    }
                    None => {
                        call.call = match m.interaction.to_string().as_str() {
                            _ if not_relevant.is_some() => not_relevant.clone().unwrap_or_default(),
                            "no_microbial_metabolism_reported" => {
                                "no microbial metabolism reported".into()
                            }
                            other if !m.enzyme.is_empty() => format!(
                                "{} (not quantifiable from a profile: AGORA2 does not annotate {})",
                                other.replace('_', " "),
                                m.enzyme.join("; ")
                            ),
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
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DrugGroupSummary {
    pub drug: String,
    pub interaction: String,
    pub enzyme: String,
    /// The grade of the mechanism, not of the estimate.
    #[serde(rename = "mechanism_evidence")]
    pub evidence: String,
    /// How well the estimate finds the activity in vitro (AGORA2-inferred rows).
    pub validity: Option<MeasuredValidity>,
    pub estimate_validity: String,
    pub pharmacology: Option<String>,
    pub citation: String,
    pub source: String,
    /// Median capacity per group, for groups with scored samples (quantifiable rows only).
    pub median_capacity: Vec<GroupMedian>,
    /// Low / typical / high call counts per group (quantifiable rows only).
    pub calls: Vec<GroupCalls>,
    /// The call text of rows that carry no number (e.g. "no microbial metabolism reported").
    pub statement: Option<String>,
}

/// The median capacity of one group's samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GroupMedian {
    pub group: String,
    pub median: f64,
}

/// How many of one group's samples were called low, typical or high against the reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GroupCalls {
    pub group: String,
    pub low: usize,
    pub typical: usize,
    pub high: usize,
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
            // Counts of low/typical/high only where such calls were made: not for rows whose
            // enzyme column is not informative, nor for mechanisms not relevant in the disease.
            let quantified = first.capacity.is_some()
                && first.source.starts_with("inferred")
                && rows.iter().all(|c| {
                    matches!(c.call.as_str(), "low" | "typical" | "high")
                        || c.call.starts_with("n/a")
                });
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
                        median_capacity.push(GroupMedian {
                            group: g.clone(),
                            median: crate::reference::median(&mut v),
                        });
                    }
                    let of = |label: &str| {
                        rows.iter()
                            .filter(|c| group_of.get(&c.sample_id) == Some(g) && c.call == label)
                            .count()
                    };
                    counts.push(GroupCalls {
                        group: g.clone(),
                        low: of("low"),
                        typical: of("typical"),
                        high: of("high"),
                    });
                }
            }
            DrugGroupSummary {
                drug: key.0.clone(),
                interaction: key.1.clone(),
                enzyme: key.2.clone(),
                evidence: first.evidence.clone(),
                validity: first.validity.clone(),
                estimate_validity: first.estimate_validity.clone(),
                pharmacology: first.pharmacology.clone(),
                citation: first.citation.clone(),
                source: first.source.clone(),
                median_capacity,
                calls: counts,
                statement: (!quantified).then(|| {
                    if first.call == "not informative" {
                        format!("not informative: {}", first.estimate_validity)
                    } else if first.interaction == "drug_inhibits_bacteria" {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn data() -> (KnowledgeBase, PharmacoData) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge");
        let kb = KnowledgeBase::embedded().expect("kb");
        let data = KnowledgeBase::load_pharmaco_dir(&dir).expect("pharmaco tables");
        (kb, data)
    }

    fn one_species(name: &str) -> KeyedProfiles {
        KeyedProfiles {
            rank: Some(gutjoint_table::Rank::Species),
            sample_ids: vec!["S".into()],
            keys: vec![name.into()],
            rows: vec![vec![(0, 1.0)]],
        }
    }

    /// (TP, FN, TN, FP, not in AGORA2) per column: docs/pharmaco.md's table (made by
    /// docs/measure_drugs.py through `gutjoint enzymes`), summed over each column's activities.
    #[test]
    fn validity_is_the_measured_table_of_docs_pharmaco() {
        let (kb, data) = data();
        let index = CarriageIndex::new(&kb, &data);
        let v = validity_by_column(&kb, &index, &data.known_metabolizers);
        let counts = |c: &str| {
            let x = &v[c];
            (
                x.true_positives,
                x.false_negatives,
                x.true_negatives,
                x.false_positives,
                x.not_in_agora2,
            )
        };
        assert_eq!(counts("AzoR_any"), (0, 16, 6, 0, 0));
        assert_eq!(counts("NAT_any"), (5, 2, 18, 5, 0));
        // Diclofenac glucuronide 1/1, SN38G 3/4, β-glucuronidase in general 3/15.
        assert_eq!(counts("UidA_any"), (7, 13, 0, 0, 0));
        // Digitoxin 0/1 and digoxin 0/1; 3/3 specificity each.
        assert_eq!(counts("cCgr"), (0, 2, 6, 0, 0));
        assert_eq!(counts("TdcA"), (8, 1, 5, 0, 1));
        assert_eq!(counts("Dadh"), (0, 0, 13, 1, 5));
        assert!(!v["AzoR_any"].informative());
        assert!(!v["UidA_any"].informative(), "7/20 = 35%");
        assert!(!v["cCgr"].informative());
        assert!(v["NAT_any"].informative(), "5/7 = 71%");
        assert!(v["TdcA"].informative());
        assert!(
            v["Dadh"].informative() && v["Dadh"].sensitivity().is_none(),
            "no in-vitro positive: sensitivity unmeasured, not under 50%"
        );
        let by_activity = validity_by_activity(&kb, &index, &data.known_metabolizers);
        let sn38 = by_activity
            .iter()
            .find(|x| x.activity.as_deref() == Some("SN38G via beta-glucuronidase"))
            .or_else(|| {
                by_activity.iter().find(|x| {
                    x.activity
                        .as_deref()
                        .is_some_and(|a| a.starts_with("SN38G"))
                })
            })
            .expect("SN38G");
        assert_eq!((sn38.true_positives, sn38.false_negatives), (3, 1));
    }

    /// Issue 13: sulfasalazine activation was called low/typical/high from AzoR_any, whose
    /// sensitivity against in-vitro azo-reducers is 0/16, under the mechanism's "human (H)".
    #[test]
    fn azoreductase_calls_are_not_informative_and_grades_are_apart() {
        let (kb, data) = data();
        let index = CarriageIndex::new(&kb, &data);
        let profiles = one_species("Escherichia coli");
        let columns = ["AzoR_any", "UidA_any", "TdcA"];
        // A band around every capacity: without the validity rule each call would be typical.
        let bands: BTreeMap<String, Band> = columns
            .iter()
            .map(|c| {
                (
                    c.to_string(),
                    Band {
                        q10: -1.0,
                        q90: 2.0,
                    },
                )
            })
            .collect();
        let drugs = vec![vec![
            "sulfasalazine".to_string(),
            "levodopa".into(),
            "diclofenac".into(),
        ]];
        let calls = score_drugs(&DrugInputs {
            kb: &kb,
            data: &data,
            index: &index,
            profiles: &profiles,
            drugs: &drugs,
            bands: &bands,
            measured: None,
        });
        let activation = calls
            .iter()
            .find(|c| c.drug == "sulfasalazine" && c.interaction == "activation")
            .expect("DM001");
        assert_eq!(activation.call, "not informative");
        assert_eq!(activation.evidence, "human (H)", "the mechanism's grade");
        assert!(
            activation
                .estimate_validity
                .contains("sensitivity 0/16 (0%)"),
            "{}",
            activation.estimate_validity
        );
        assert!(activation.capacity.is_some(), "the number is still shown");
        let diclofenac = calls
            .iter()
            .find(|c| c.drug == "diclofenac")
            .expect("diclofenac");
        assert_eq!(diclofenac.call, "not informative", "UidA_any finds 7/20");
        let tyrdc = calls
            .iter()
            .find(|c| c.drug == "levodopa" && c.enzyme.contains("tyrosine decarboxylase"))
            .expect("TdcA row");
        assert_eq!(tyrdc.call, "typical", "TdcA finds 8/9: its call stands");
        let group_of = HashMap::from([("S".to_string(), "g".to_string())]);
        let summary = summarize_by_group(&calls, &group_of, &["g".to_string()]);
        let s = summary
            .iter()
            .find(|s| s.drug == "sulfasalazine" && s.interaction == "activation")
            .expect("summary");
        assert!(s.calls.is_empty(), "no low/typical/high counts");
        assert!(
            s.statement
                .as_deref()
                .is_some_and(|t| t.starts_with("not informative: AzoR_any")),
            "{s:?}"
        );
    }

    /// Sulfapyridine acts in RA (Pullar 1985), 5-ASA in ulcerative colitis (Azad Khan 1977):
    /// bacteria acetylating 5-ASA do not touch what acts in RA. And the Mehta 2023 acetylation
    /// rows go through that paper's thiolases and GNAT acyltransferases, not AGORA2's NAT.
    #[test]
    fn sulfasalazine_by_disease_and_mehta_enzyme_families() {
        let (kb, data) = data();
        let index = CarriageIndex::new(&kb, &data);
        let profiles = one_species("Escherichia coli");
        let bands = BTreeMap::from([(
            "NAT_any".to_string(),
            Band {
                q10: -1.0,
                q90: 2.0,
            },
        )]);
        let drugs = vec![vec!["sulfasalazine".to_string(), "mesalazine".into()]];
        let inputs = DrugInputs {
            kb: &kb,
            data: &data,
            index: &index,
            profiles: &profiles,
            drugs: &drugs,
            bands: &bands,
            measured: None,
        };
        let acetylation = |calls: &[DrugCall], drug: &str| -> DrugCall {
            calls
                .iter()
                .find(|c| c.drug == drug && c.interaction == "inactivation")
                .cloned()
                .expect("acetylation row")
        };
        let ra = score_drugs_in(&inputs, Some(Disease::Ra));
        let ssz = acetylation(&ra, "sulfasalazine");
        assert!(ssz.call.starts_with("not relevant in RA"), "{}", ssz.call);
        assert!(
            ssz.pharmacology
                .as_deref()
                .is_some_and(|p| p.contains("sulfapyridine") && p.contains("PMID 2860942")),
            "{ssz:?}"
        );
        let activation = ra
            .iter()
            .find(|c| c.drug == "sulfasalazine" && c.interaction == "activation")
            .expect("DM001");
        assert!(
            !activation.call.starts_with("not relevant"),
            "azo reduction frees sulfapyridine too"
        );
        // Mesalazine is 5-ASA itself: no disease-dependent moiety.
        assert_eq!(acetylation(&ra, "mesalazine").pharmacology, None);
        let cd = score_drugs_in(&inputs, Some(Disease::Cd));
        let ssz = acetylation(&cd, "sulfasalazine");
        assert!(!ssz.call.starts_with("not relevant"), "{}", ssz.call);
        assert!(
            ssz.pharmacology
                .as_deref()
                .is_some_and(|p| p.contains("PMID 72239"))
        );
        let none = score_drugs(&inputs);
        let ssz = acetylation(&none, "sulfasalazine");
        assert!(ssz.pharmacology.as_deref().is_some_and(|p| {
            p.starts_with("active moiety by disease")
                && p.contains("2860942")
                && p.contains("72239")
        }));
        // Mehta 2023: no EC 2.3.1.5 / NAT_any estimate; the paper's enzyme families, unannotated.
        for drug in ["sulfasalazine", "mesalazine"] {
            let c = acetylation(&none, drug);
            assert!(
                c.enzyme.contains("thiolases") && c.enzyme.contains("GNAT"),
                "{c:?}"
            );
            assert_eq!(c.capacity, None, "no NAT_any capacity: {c:?}");
            assert!(
                c.call.contains("AGORA2 does not annotate thiolases"),
                "{}",
                c.call
            );
            let row = kb
                .drug_microbe()
                .iter()
                .find(|m| m.drug == drug && m.interaction.to_string() == "inactivation")
                .expect("row");
            assert!(row.ec.is_empty() && row.humann_ec.is_empty() && row.agora2_column.is_none());
        }
    }
    #[test]
    fn medication_cells_split_resolve_and_report_unknown_names() {
        let kb = KnowledgeBase::embedded().expect("kb");
        let names: Vec<&str> = medication_names(" MTX; none / Sulfasalazine+ ,NA,0").collect();
        assert_eq!(names, ["MTX", "Sulfasalazine"]);
        let sulfa = resolve_drug_name(&kb, "Sulfasalazine").expect("known");
        let cells = [
            Some("sulfasalazine; Sulfasalazine"),
            None,
            Some("none"),
            Some("sulfasalazine, notadrug"),
        ];
        let (per_sample, unknown) = medications_by_sample(&kb, &[], cells);
        assert_eq!(
            per_sample,
            [vec![sulfa.clone()], vec![], vec![], vec![sulfa]],
            "each drug once per sample, nothing for an empty or 'none' cell"
        );
        assert_eq!(unknown.keys().collect::<Vec<_>>(), ["notadrug"]);
        assert!(unknown["notadrug"].starts_with("unknown drug 'notadrug'"));
    }
}

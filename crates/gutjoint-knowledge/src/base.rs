/*!
The knowledge base: the five curated tables, loaded together, with the name index that ties
them to each other and to users' taxon names, and the cross-table validation.

The tables are compiled into the binary ([`KnowledgeBase::embedded`]) so gutjoint runs without
a data directory; [`KnowledgeBase::load_dir`] reads the same files from disk, for curators
checking an edit without rebuilding.
*/

use crate::codes::{DrugEvidence, Interaction, TherapyDirection, TherapyEvidence};
use crate::error::{Error, Result};
use crate::names::normalize;
use crate::records::{
    Citation, Drug, DrugMicrobe, TaxonDisease, TaxonSynonym, TherapyMicrobiome, parse_drug_microbe,
    parse_drugs, parse_taxon_disease, parse_taxon_synonyms, parse_therapy_microbiome,
};
use gutjoint_table::{Lineage, Rank};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// The embedded copies of the tables (project licence), as compiled into the binary.
pub mod embedded {
    pub const TAXON_DISEASE: &str = include_str!("../../../knowledge/taxon_disease.tsv");
    pub const THERAPY_MICROBIOME: &str = include_str!("../../../knowledge/therapy_microbiome.tsv");
    pub const TAXON_SYNONYMS: &str = include_str!("../../../knowledge/taxon_synonyms.tsv");
    pub const DRUGS: &str = include_str!("../../../knowledge/drugs.tsv");
    pub const DRUG_MICROBE: &str = include_str!("../../../knowledge/drug_microbe.tsv");
    pub const GUILDS: &str = include_str!("../../../knowledge/guilds.tsv");
}

/// The functional guilds of `knowledge/guilds.tsv` (embedded).
pub fn embedded_guilds() -> Result<Vec<crate::records::GuildMember>> {
    crate::records::parse_guilds(embedded::GUILDS, "knowledge/guilds.tsv")
}

/// File names of the embedded tables, as they sit in `knowledge/`.
pub const TAXON_DISEASE_FILE: &str = "taxon_disease.tsv";
pub const THERAPY_MICROBIOME_FILE: &str = "therapy_microbiome.tsv";
pub const TAXON_SYNONYMS_FILE: &str = "taxon_synonyms.tsv";
pub const DRUGS_FILE: &str = "drugs.tsv";
pub const DRUG_MICROBE_FILE: &str = "drug_microbe.tsv";

/// Finding rows (every taxon–disease row, therapy rows other than `no_evidence`, drug–microbe
/// rows other than gap rows) that carry neither a DOI nor a PMID although their paper was found
/// (knowledge/README.md, "How identifiers were verified"). [`KnowledgeBase::validate`] accepts
/// exactly these; any other finding without an identifier is a problem (a finding whose paper
/// cannot be identified is dropped, not kept), and so is an entry here that has since gained one.
pub const FINDINGS_WITHOUT_IDENTIFIER: &[&str] = &[
    // Peppercorn & Goldman 1972, J Pharmacol Exp Ther (sulfasalazine azo reduction by gut
    // bacteria): title, authors, journal and year confirmed; the paper predates DOIs and no
    // PMID was printed on the pages read.
    "DM001",
];

/// AGORA2 enzyme columns of `enzyme_carriage.tsv` that `drug_microbe.tsv` may point to: the
/// 24 annotations of `drugTable.txt` and the 9 `*_any` unions (knowledge/PHARMACO.md §3).
pub const ENZYME_COLUMNS: &[&str] = &[
    "eALP", "cALP", "cAzNAD", "cAzNADP", "eBGal", "cBGal", "cBRV", "cCda", "eCda", "cCgr", "cCodA",
    "eCodA", "cDpdNAD", "cDpdNADP", "eDpdNADP", "cHpd", "TdcA", "Dadh", "cNAT", "eNAT", "eNit",
    "cNit", "eUidA", "cUidA", "AzoR_any", "UidA_any", "NAT_any", "ALP_any", "BGal_any", "Cda_any",
    "CodA_any", "Dpd_any", "Nit_any",
];

/// A taxon name resolved to gutjoint's canonical key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedTaxon {
    /// The canonical key (`Prevotella copri` for `Segatella copri`).
    pub accepted: String,
    /// Rank of the accepted name, when the knowledge base states it.
    pub rank: Option<Rank>,
    /// How the match was made, for people (`synonym 'Segatella copri' (NCBI)`).
    pub matched_via: String,
}

/// A name the tables use that has no synonym row: it is its own canonical key.
#[derive(Debug, Clone)]
struct OwnName {
    name: String,
    rank: Option<Rank>,
    table: &'static str,
}

/// Lookup structures built once from the synonym table and the names the tables use.
#[derive(Debug, Clone, Default)]
struct NameIndex {
    /// Lower-cased synonym name → row index.
    exact: HashMap<String, usize>,
    /// Normalised synonym name → row index (first row wins; conflicts are problems).
    normalized: HashMap<String, usize>,
    /// Accepted key → its rank (from its own row).
    accepted_rank: HashMap<String, Rank>,
    /// Lower-cased own name → name.
    own_exact: HashMap<String, OwnName>,
    /// Normalised own name → lower-cased own name.
    own_normalized: HashMap<String, String>,
    /// Conflicts found while building, reported by `validate`.
    problems: Vec<String>,
}

/// The curated tables, loaded and indexed. Cheap to query; build it once.
#[derive(Debug, Clone)]
pub struct KnowledgeBase {
    pub(crate) taxon_disease: Vec<TaxonDisease>,
    pub(crate) therapy_microbiome: Vec<TherapyMicrobiome>,
    pub(crate) taxon_synonyms: Vec<TaxonSynonym>,
    pub(crate) drugs: Vec<Drug>,
    pub(crate) drug_microbe: Vec<DrugMicrobe>,
    names: NameIndex,
}

impl KnowledgeBase {
    /// The tables compiled into the binary.
    pub fn embedded() -> Result<KnowledgeBase> {
        let name = |file: &str| format!("knowledge/{file}");
        Ok(Self::from_tables(
            parse_taxon_disease(embedded::TAXON_DISEASE, &name(TAXON_DISEASE_FILE))?,
            parse_therapy_microbiome(embedded::THERAPY_MICROBIOME, &name(THERAPY_MICROBIOME_FILE))?,
            parse_taxon_synonyms(embedded::TAXON_SYNONYMS, &name(TAXON_SYNONYMS_FILE))?,
            parse_drugs(embedded::DRUGS, &name(DRUGS_FILE))?,
            parse_drug_microbe(embedded::DRUG_MICROBE, &name(DRUG_MICROBE_FILE))?,
        ))
    }

    /// Reads the five tables from a directory laid out like `knowledge/` (the only I/O in
    /// this crate besides [`KnowledgeBase::load_pharmaco_dir`]).
    pub fn load_dir(dir: &Path) -> Result<KnowledgeBase> {
        let read = |file: &str| -> Result<(String, String)> {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|error| Error::Io {
                path: path.clone(),
                error,
            })?;
            Ok((text, path.display().to_string()))
        };
        let (td, td_name) = read(TAXON_DISEASE_FILE)?;
        let (tm, tm_name) = read(THERAPY_MICROBIOME_FILE)?;
        let (syn, syn_name) = read(TAXON_SYNONYMS_FILE)?;
        let (drugs, drugs_name) = read(DRUGS_FILE)?;
        let (dm, dm_name) = read(DRUG_MICROBE_FILE)?;
        Ok(Self::from_tables(
            parse_taxon_disease(&td, &td_name)?,
            parse_therapy_microbiome(&tm, &tm_name)?,
            parse_taxon_synonyms(&syn, &syn_name)?,
            parse_drugs(&drugs, &drugs_name)?,
            parse_drug_microbe(&dm, &dm_name)?,
        ))
    }

    /// Assembles a knowledge base from parsed tables and builds its name index.
    pub fn from_tables(
        taxon_disease: Vec<TaxonDisease>,
        therapy_microbiome: Vec<TherapyMicrobiome>,
        taxon_synonyms: Vec<TaxonSynonym>,
        drugs: Vec<Drug>,
        drug_microbe: Vec<DrugMicrobe>,
    ) -> KnowledgeBase {
        let mut kb = KnowledgeBase {
            taxon_disease,
            therapy_microbiome,
            taxon_synonyms,
            drugs,
            drug_microbe,
            names: NameIndex::default(),
        };
        kb.names = kb.build_name_index();
        kb
    }

    pub fn taxon_disease(&self) -> &[TaxonDisease] {
        &self.taxon_disease
    }

    pub fn therapy_microbiome(&self) -> &[TherapyMicrobiome] {
        &self.therapy_microbiome
    }

    pub fn taxon_synonyms(&self) -> &[TaxonSynonym] {
        &self.taxon_synonyms
    }

    pub fn drugs(&self) -> &[Drug] {
        &self.drugs
    }

    pub fn drug_microbe(&self) -> &[DrugMicrobe] {
        &self.drug_microbe
    }

    fn build_name_index(&self) -> NameIndex {
        let mut index = NameIndex::default();
        for (i, syn) in self.taxon_synonyms.iter().enumerate() {
            if syn.name == syn.accepted {
                index.accepted_rank.insert(syn.accepted.clone(), syn.rank);
            }
            index.exact.entry(syn.name.to_lowercase()).or_insert(i);
            let key = normalize(&syn.name);
            match index.normalized.get(&key) {
                Some(&first) if self.taxon_synonyms[first].accepted != syn.accepted => {
                    let other = &self.taxon_synonyms[first];
                    index.problems.push(format!(
                        "taxon_synonyms: '{}' (→ {}) and '{}' (→ {}) normalise to the same name '{key}' but map to different taxa",
                        other.name, other.accepted, syn.name, syn.accepted
                    ));
                }
                Some(_) => {}
                None => {
                    index.normalized.insert(key, i);
                }
            }
        }

        // Names the tables use without a synonym row are their own canonical keys.
        let used = self
            .taxon_disease
            .iter()
            .map(|row| (row.taxon.as_str(), Some(row.rank), "taxon_disease.tsv"))
            .chain(self.therapy_microbiome.iter().flat_map(|row| {
                row.taxa
                    .iter()
                    .map(|t| (t.as_str(), None, "therapy_microbiome.tsv"))
            }));
        for (name, rank, table) in used {
            if index.synonym_row(name).is_some() {
                continue;
            }
            let lower = name.to_lowercase();
            if let Some(own) = index.own_exact.get_mut(&lower) {
                match (own.rank, rank) {
                    (None, Some(_)) => own.rank = rank,
                    (Some(a), Some(b)) if a != b => index.problems.push(format!(
                        "taxon '{name}' is given rank {a} and rank {b} in different rows"
                    )),
                    _ => {}
                }
                continue;
            }
            let key = normalize(name);
            if let Some(other) = index.own_normalized.get(&key) {
                index.problems.push(format!(
                    "taxon names '{name}' and '{}' differ only in spelling (both normalise to '{key}'); use one spelling or add a synonym row",
                    index.own_exact.get(other).map_or(other.as_str(), |o| o.name.as_str())
                ));
                continue;
            }
            index.own_normalized.insert(key, lower.clone());
            index.own_exact.insert(
                lower,
                OwnName {
                    name: name.to_string(),
                    rank,
                    table,
                },
            );
        }
        index
    }

    /// Resolves a taxon name to its canonical key: through `taxon_synonyms.tsv` (exact, then
    /// after [`normalize`]), then names the tables use without synonyms, then, for a prefixed
    /// lineage (`k__…|s__…`, `d__…; g__…`), its deepest rank that resolves.
    pub fn resolve_taxon(&self, name: &str) -> Option<ResolvedTaxon> {
        self.resolve_name(name).or_else(|| {
            if name.contains('|') || Lineage::looks_prefixed(name) {
                self.resolve_lineage(&Lineage::parse(name))
            } else {
                None
            }
        })
    }

    /// Resolves the deepest rank of a lineage that the knowledge base knows. Check the
    /// returned `rank`: a species the base does not know falls back to its genus.
    pub fn resolve_lineage(&self, lineage: &Lineage) -> Option<ResolvedTaxon> {
        Rank::ALL.iter().rev().find_map(|rank| {
            let name = lineage.get(*rank)?;
            let mut resolved = self.resolve_name(name)?;
            resolved.matched_via = format!("{rank} of the lineage: {}", resolved.matched_via);
            Some(resolved)
        })
    }

    fn resolve_name(&self, name: &str) -> Option<ResolvedTaxon> {
        let names = &self.names;
        let lower = name.trim().to_lowercase();
        if lower.is_empty() {
            return None;
        }
        let key = normalize(name);
        let synonym = names
            .exact
            .get(&lower)
            .map(|i| (*i, false))
            .or_else(|| names.normalized.get(&key).map(|i| (*i, true)));
        if let Some((i, normalised)) = synonym {
            let syn = &self.taxon_synonyms[i];
            let after = if normalised { " after normalising" } else { "" };
            let matched_via = if syn.name == syn.accepted {
                format!("accepted name '{}'{after}", syn.name)
            } else {
                let sources: Vec<&str> = syn.source.iter().map(|s| s.code()).collect();
                format!("synonym '{}' ({}){after}", syn.name, sources.join(", "))
            };
            return Some(ResolvedTaxon {
                accepted: syn.accepted.clone(),
                rank: names.accepted_rank.get(&syn.accepted).copied(),
                matched_via,
            });
        }
        let own = names.own_exact.get(&lower).or_else(|| {
            names
                .own_normalized
                .get(&key)
                .and_then(|l| names.own_exact.get(l))
        })?;
        Some(ResolvedTaxon {
            accepted: own.name.clone(),
            rank: own.rank,
            matched_via: format!("name used in {} (no synonyms listed)", own.table),
        })
    }

    /// Other names of the taxon `name` resolves to (synonyms, GTDB and SILVA names,
    /// roll-ups), in table order, without the accepted name itself.
    pub fn synonyms_of(&self, name: &str) -> Vec<String> {
        let Some(resolved) = self.resolve_taxon(name) else {
            return Vec::new();
        };
        self.taxon_synonyms
            .iter()
            .filter(|s| s.accepted == resolved.accepted && s.name != s.accepted)
            .map(|s| s.name.clone())
            .collect()
    }

    /// Every taxon name the base can resolve exactly (synonym-table names and names the
    /// tables use), for suggestions.
    pub fn taxon_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .taxon_synonyms
            .iter()
            .map(|s| s.name.as_str())
            .chain(self.names.own_exact.values().map(|o| o.name.as_str()))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Ids of finding rows with neither a DOI nor a PMID (see [`FINDINGS_WITHOUT_IDENTIFIER`]).
    /// `no_evidence` therapy rows and drug–microbe gap rows report no finding and need none.
    pub fn unidentified_findings(&self) -> Vec<&str> {
        let unidentified = |c: &Citation| c.doi.is_none() && c.pmid.is_none();
        let td = self
            .taxon_disease
            .iter()
            .filter(|r| unidentified(&r.citation))
            .map(|r| r.id.as_str());
        let tm = self
            .therapy_microbiome
            .iter()
            .filter(|r| r.direction != TherapyDirection::NoEvidence)
            .filter(|r| unidentified(&r.citation))
            .map(|r| r.id.as_str());
        let dm = self
            .drug_microbe
            .iter()
            .filter(|r| r.interaction != Interaction::NoMicrobialMetabolismReported)
            .filter(|r| unidentified(&r.citation))
            .map(|r| r.id.as_str());
        td.chain(tm).chain(dm).collect()
    }

    /// Checks across rows and tables. Returns one sentence per problem; empty means valid.
    /// (Per-row checks — coded values, identifier shapes — already ran in the parsers.)
    pub fn validate(&self) -> Vec<String> {
        let mut problems = self.names.problems.clone();

        duplicate_ids(
            "taxon_disease",
            self.taxon_disease.iter().map(|r| r.id.as_str()),
            &mut problems,
        );
        duplicate_ids(
            "therapy_microbiome",
            self.therapy_microbiome.iter().map(|r| r.id.as_str()),
            &mut problems,
        );
        duplicate_ids(
            "drug_microbe",
            self.drug_microbe.iter().map(|r| r.id.as_str()),
            &mut problems,
        );

        // One row per taxon per study contrast.
        let mut seen: HashMap<_, &str> = HashMap::new();
        for row in &self.taxon_disease {
            let key = (
                row.taxon.as_str(),
                row.disease,
                row.direction,
                row.population.as_deref(),
                row.citation.first_author.as_deref(),
                row.citation.year,
            );
            if let Some(first) = seen.insert(key, &row.id) {
                problems.push(format!(
                    "taxon_disease: {} repeats {first} (same taxon, disease, direction, population, first author and year)",
                    row.id
                ));
            }
        }

        // Identifiers: every finding carries a DOI or a PMID.
        let unidentified = self.unidentified_findings();
        for id in &unidentified {
            if !FINDINGS_WITHOUT_IDENTIFIER.contains(id) {
                problems.push(format!(
                    "{id}: reports a finding but has no DOI or PMID (identify the paper or drop the row)"
                ));
            }
        }
        for id in FINDINGS_WITHOUT_IDENTIFIER {
            if !unidentified.contains(id) {
                problems.push(format!(
                    "{id} is listed in FINDINGS_WITHOUT_IDENTIFIER but has an identifier now or no longer exists; remove it from the list"
                ));
            }
        }

        // Taxa resolve, and ranks agree with the synonym table.
        for row in &self.taxon_disease {
            match self.names.synonym_row(&row.taxon) {
                Some(i) => {
                    let syn = &self.taxon_synonyms[i];
                    if syn.rank != row.rank {
                        problems.push(format!(
                            "taxon_disease: {} gives '{}' rank {}, taxon_synonyms gives '{}' rank {}",
                            row.id, row.taxon, row.rank, syn.name, syn.rank
                        ));
                    }
                }
                None if self.resolve_taxon(&row.taxon).is_none() => problems.push(format!(
                    "taxon_disease: {} taxon '{}' does not resolve",
                    row.id, row.taxon
                )),
                None => {}
            }
        }

        // Synonym table: unique names, every accepted key present as its own row.
        let mut names = HashSet::new();
        for syn in &self.taxon_synonyms {
            if !names.insert(syn.name.to_lowercase()) {
                problems.push(format!(
                    "taxon_synonyms: name '{}' appears more than once",
                    syn.name
                ));
            }
        }
        let own_rows: HashSet<&str> = self
            .taxon_synonyms
            .iter()
            .filter(|s| s.name == s.accepted)
            .map(|s| s.name.as_str())
            .collect();
        let mut missing: Vec<&str> = self
            .taxon_synonyms
            .iter()
            .map(|s| s.accepted.as_str())
            .filter(|a| !own_rows.contains(a))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        for accepted in missing {
            problems.push(format!(
                "taxon_synonyms: accepted name '{accepted}' has no row of its own (name = accepted)"
            ));
        }

        // Drugs: unique keys, every synonym names one drug.
        let mut owner: HashMap<String, &str> = HashMap::new();
        for drug in &self.drugs {
            if owner.insert(drug.drug.clone(), &drug.drug).is_some() {
                problems.push(format!(
                    "drugs: drug '{}' appears more than once",
                    drug.drug
                ));
            }
        }
        for drug in &self.drugs {
            for synonym in &drug.synonyms {
                let lower = synonym.to_lowercase();
                if lower != *synonym {
                    problems.push(format!(
                        "drugs: synonym '{synonym}' of {} is not lower case",
                        drug.drug
                    ));
                }
                match owner.get(&lower) {
                    Some(other) if *other != drug.drug => problems.push(format!(
                        "drugs: synonym '{synonym}' of {} is also a name of {other}",
                        drug.drug
                    )),
                    Some(_) => {}
                    None => {
                        owner.insert(lower, &drug.drug);
                    }
                }
            }
        }

        // Therapy rows: `evidence = none` means nothing was found.
        for row in &self.therapy_microbiome {
            if row.evidence == TherapyEvidence::None
                && row.direction != TherapyDirection::NoEvidence
            {
                problems.push(format!(
                    "therapy_microbiome: {} has evidence 'none' but direction '{}', expected no_evidence",
                    row.id, row.direction
                ));
            }
        }

        // Drug–microbe rows: known drugs, gap rows empty, AGORA2 columns real.
        let drug_keys: HashSet<&str> = self.drugs.iter().map(|d| d.drug.as_str()).collect();
        for row in &self.drug_microbe {
            if !drug_keys.contains(row.drug.as_str()) {
                problems.push(format!(
                    "drug_microbe: {} names drug '{}', which is not in drugs.tsv",
                    row.id, row.drug
                ));
            }
            if row.interaction == Interaction::NoMicrobialMetabolismReported {
                if row.evidence != DrugEvidence::None {
                    problems.push(format!(
                        "drug_microbe: {} is a gap row with evidence '{}', expected none",
                        row.id, row.evidence
                    ));
                }
                if !row.citation.is_empty() {
                    problems.push(format!(
                        "drug_microbe: {} is a gap row but carries a citation",
                        row.id
                    ));
                }
            }
            if let Some(column) = &row.agora2_column
                && !ENZYME_COLUMNS.contains(&column.as_str())
            {
                problems.push(format!(
                    "drug_microbe: {} agora2_column '{column}' is not an enzyme_carriage.tsv column",
                    row.id
                ));
            }
        }
        problems
    }

    /// Drugs by canonical key, for callers that join on it.
    pub fn drug_index(&self) -> BTreeMap<&str, &Drug> {
        self.drugs.iter().map(|d| (d.drug.as_str(), d)).collect()
    }
}

impl NameIndex {
    /// The synonym row for a name, exactly (case-insensitive) or after normalising.
    fn synonym_row(&self, name: &str) -> Option<usize> {
        self.exact
            .get(&name.trim().to_lowercase())
            .or_else(|| self.normalized.get(&normalize(name)))
            .copied()
    }
}

fn duplicate_ids<'a>(table: &str, ids: impl Iterator<Item = &'a str>, problems: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            problems.push(format!("{table}: id {id} appears more than once"));
        }
    }
}

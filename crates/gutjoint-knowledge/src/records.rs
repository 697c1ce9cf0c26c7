/*!
One typed record per curated table, and the parser that reads it.

Each parser takes the table's text and the name to report in errors, so the same code reads
the embedded copies (`knowledge/taxon_disease.tsv`), a directory given at run time, or a
deliberately broken string in a test. Parsers check everything a single row can get wrong
(coded values, identifiers' shapes, required cells); checks across rows and tables (duplicate
ids, unknown drugs, unresolvable taxa, missing citations) are [`crate::KnowledgeBase::validate`]'s.
*/

use crate::codes::{
    Confidence, Contrast, Direction, Disease, DrugClass, DrugEvidence, Indication, Interaction,
    Method, NameSource, SampleType, SourceRead, TherapyClass, TherapyDirection, TherapyEvidence,
};
use crate::error::Result;
use crate::tsv::{Coded, Row, Tsv};
use gutjoint_table::Rank;
use serde::Serialize;

/// The citation columns shared by the taxon, therapy and drug–microbe tables. Empty cells mean
/// the source did not contain the detail; nothing was guessed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// Surname and initials as in the source (surname only when initials were not given).
    pub first_author: Option<String>,
    pub year: Option<u16>,
    /// Abbreviated journal name.
    pub journal: Option<String>,
    /// Bare DOI (`10.7554/eLife.01202`).
    pub doi: Option<String>,
    /// PubMed id, digits only.
    pub pmid: Option<String>,
}

impl Citation {
    /// Whether the row can be looked up: a DOI, a PMID, or first author and year.
    pub fn is_traceable(&self) -> bool {
        self.doi.is_some()
            || self.pmid.is_some()
            || (self.first_author.is_some() && self.year.is_some())
    }

    /// "First author year journal", the way tables and reports cite a row; `None` when no part
    /// is recorded.
    pub fn short(&self) -> Option<String> {
        let parts: Vec<String> = [
            self.first_author.clone(),
            self.year.map(|y| y.to_string()),
            self.journal.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// [`short`](Citation::short) followed by the DOI (or PMID) when there is one.
    pub fn with_identifier(&self) -> Option<String> {
        let id = self
            .doi
            .as_ref()
            .map(|d| format!("doi:{d}"))
            .or_else(|| self.pmid.as_ref().map(|p| format!("PMID:{p}")));
        match (self.short(), id) {
            (Some(s), Some(i)) => Some(format!("{s} {i}")),
            (s, i) => s.or(i),
        }
    }

    /// Whether every citation cell is empty.
    pub fn is_empty(&self) -> bool {
        self == &Citation::default()
    }

    fn read(row: &Row<'_>, c: &CitationColumns) -> Result<Self> {
        Ok(Citation {
            first_author: row.optional(c.first_author),
            year: row.year(c.year)?,
            journal: row.optional(c.journal),
            doi: row.doi(c.doi)?,
            pmid: row.pmid(c.pmid)?,
        })
    }
}

struct CitationColumns {
    first_author: usize,
    year: usize,
    journal: usize,
    doi: usize,
    pmid: usize,
}

impl CitationColumns {
    fn find(tsv: &Tsv<'_>) -> Result<Self> {
        Ok(Self {
            first_author: tsv.column("first_author")?,
            year: tsv.column("year")?,
            journal: tsv.column("journal")?,
            doi: tsv.column("doi")?,
            pmid: tsv.column("pmid")?,
        })
    }
}

/// The first PMCID (`PMC` followed by digits) mentioned in a text, if any.
pub fn pmcid_in(text: &str) -> Option<&str> {
    let mut rest = text;
    let mut offset = 0;
    while let Some(pos) = rest.find("PMC") {
        let start = offset + pos;
        let digits = text[start + 3..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits > 0 {
            return Some(&text[start..start + 3 + digits]);
        }
        offset = start + 3;
        rest = &text[offset..];
    }
    None
}

fn rank(row: &Row<'_>, column: usize) -> Result<Rank> {
    let text = row.text(column);
    match Rank::parse(text) {
        // Only the full rank names: the tables never abbreviate.
        Some(rank) if rank.name() == text => Ok(rank),
        _ => Err(row.error(format!(
            "unknown rank '{text}', expected one of species, genus, family, order, class, phylum"
        ))),
    }
}

fn id(row: &Row<'_>, column: usize, prefix: &str) -> Result<String> {
    let text = row.text(column);
    let digits = text.strip_prefix(prefix).unwrap_or("");
    if digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err(row.error(format!(
            "id '{text}' is malformed, expected '{prefix}' and three digits ({prefix}001)"
        )))
    }
}

// ---------------------------------------------------------------------------------------------

/// A row of `taxon_disease.tsv`: one taxon in one study contrast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaxonDisease {
    /// `TD001`, … (stable).
    pub id: String,
    /// The name as the study gives it; resolve it with [`crate::KnowledgeBase::resolve_taxon`].
    pub taxon: String,
    pub rank: Rank,
    pub disease: Disease,
    pub direction: Direction,
    /// What the study compared; only `case_control` and `at_risk_vs_control` rows are
    /// patients versus controls.
    pub contrast: Contrast,
    pub population: Option<String>,
    /// ISO 3166-1 alpha-2, or `multi`.
    pub country_iso: Option<String>,
    /// Empty only on rows that pool studies (meta-analysis, review) without one sample type.
    pub sample_type: Vec<SampleType>,
    /// Never empty.
    pub method: Vec<Method>,
    pub cohort_size: Option<String>,
    #[serde(flatten)]
    pub citation: Citation,
    pub confidence: Confidence,
    pub source_read: Vec<SourceRead>,
    pub notes: Option<String>,
}

/// Parses `taxon_disease.tsv`.
pub fn parse_taxon_disease(text: &str, table: &str) -> Result<Vec<TaxonDisease>> {
    let tsv = Tsv::parse(text, table)?;
    let c = (
        tsv.column("id")?,
        tsv.column("taxon")?,
        tsv.column("rank")?,
        tsv.column("disease")?,
        tsv.column("direction")?,
        tsv.column("population")?,
        tsv.column("country_iso")?,
        tsv.column("sample_type")?,
        tsv.column("method")?,
        tsv.column("cohort_size")?,
    );
    let (confidence, source_read, notes, contrast) = (
        tsv.column("confidence")?,
        tsv.column("source_read")?,
        tsv.column("notes")?,
        tsv.column("contrast")?,
    );
    let cite = CitationColumns::find(&tsv)?;
    tsv.rows()
        .map(|row| {
            let disease: Disease = row.coded(c.3)?;
            let contrast: Contrast = row.coded(contrast)?;
            if contrast.is_about_therapy() {
                return Err(row.error(format!(
                    "contrast '{contrast}' belongs in therapy_microbiome.tsv, expected a disease contrast ({})",
                    Contrast::ALL
                        .iter()
                        .filter(|c| !c.is_about_therapy())
                        .map(|c| c.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let method: Vec<Method> = row.coded_list(c.8, false)?;
            let sample_type: Vec<SampleType> = row.coded_list(c.7, true)?;
            if sample_type.is_empty() && !method.iter().all(|m| m.is_pooled()) {
                return Err(row.error(format!(
                    "empty sample type, expected one or more of {} (only rows that pool studies may leave it empty)",
                    <SampleType as Coded>::codes().join(", ")
                )));
            }
            if !disease.in_taxon_vocabulary() {
                return Err(row.error(format!(
                    "disease '{disease}' is only used in therapy_microbiome.tsv, expected one of {}",
                    Disease::ALL
                        .iter()
                        .filter(|d| d.in_taxon_vocabulary())
                        .map(|d| d.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let country_iso = row.optional(c.6);
            if let Some(code) = &country_iso
                && code != "multi"
                && !(code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
            {
                return Err(row.error(format!(
                    "country_iso '{code}', expected an ISO 3166-1 alpha-2 code (US, CN, …), 'multi' or empty"
                )));
            }
            Ok(TaxonDisease {
                id: id(&row, c.0, "TD")?,
                taxon: row.required(c.1, "taxon")?,
                rank: rank(&row, c.2)?,
                disease,
                direction: row.coded(c.4)?,
                contrast,
                population: row.optional(c.5),
                country_iso,
                sample_type,
                method,
                cohort_size: row.optional(c.9),
                citation: Citation::read(&row, &cite)?,
                confidence: row.coded(confidence)?,
                source_read: source_read_parts(&row, source_read)?,
                notes: row.optional(notes),
            })
        })
        .collect()
}

fn source_read_parts(row: &Row<'_>, column: usize) -> Result<Vec<SourceRead>> {
    let text = row.text(column);
    text.split('+')
        .map(|part| {
            SourceRead::parse(part.trim()).ok_or_else(|| {
                row.error(format!(
                    "unknown source_read '{text}', expected {} joined by '+'",
                    SourceRead::codes().join(", ")
                ))
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------

/// A row of `therapy_microbiome.tsv`: one therapy × disease × finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TherapyMicrobiome {
    /// `TM001`, … (stable).
    pub id: String,
    /// Drug name (INN, lower case), product or strain, or a class description.
    pub therapy: String,
    pub therapy_class: TherapyClass,
    pub disease: Disease,
    /// One sentence, in the curators' words.
    pub effect: String,
    pub direction: TherapyDirection,
    pub taxa: Vec<String>,
    pub evidence: TherapyEvidence,
    /// What was compared, on rows that measured the microbiome (empty on clinical-outcome and
    /// no-evidence rows).
    pub contrast: Option<Contrast>,
    /// Empty when no microbiome was measured or the source does not say.
    pub sample_type: Vec<SampleType>,
    /// Empty when no microbiome was measured or the source does not say.
    pub method: Vec<Method>,
    #[serde(flatten)]
    pub citation: Citation,
    pub confidence: Confidence,
    pub notes: Option<String>,
}

/// Parses `therapy_microbiome.tsv`.
pub fn parse_therapy_microbiome(text: &str, table: &str) -> Result<Vec<TherapyMicrobiome>> {
    let tsv = Tsv::parse(text, table)?;
    let c = (
        tsv.column("id")?,
        tsv.column("therapy")?,
        tsv.column("therapy_class")?,
        tsv.column("disease")?,
        tsv.column("effect")?,
        tsv.column("direction")?,
        tsv.column("taxa")?,
        tsv.column("evidence")?,
        tsv.column("confidence")?,
        tsv.column("notes")?,
    );
    let measured = (
        tsv.column("contrast")?,
        tsv.column("sample_type")?,
        tsv.column("method")?,
    );
    let cite = CitationColumns::find(&tsv)?;
    tsv.rows()
        .map(|row| {
            let direction: TherapyDirection = row.coded(c.5)?;
            let contrast: Option<Contrast> = row.optional_coded(measured.0)?;
            let sample_type: Vec<SampleType> = row.coded_list(measured.1, true)?;
            let method: Vec<Method> = row.coded_list(measured.2, true)?;
            match (direction.measures_microbiome(), contrast) {
                (true, None) => {
                    return Err(row.error(format!(
                        "empty contrast on a '{direction}' row, expected one of {} (the row reports a microbiome finding)",
                        <Contrast as Coded>::codes().join(", ")
                    )));
                }
                (false, Some(c)) => {
                    return Err(row.error(format!(
                        "contrast '{c}' on a '{direction}' row, expected empty (no microbiome finding to compare)"
                    )));
                }
                _ => {}
            }
            let measured_cells = !sample_type.is_empty() || !method.is_empty();
            if !direction.measures_microbiome() && measured_cells {
                return Err(row.error(format!(
                    "sample_type or method on a '{direction}' row, expected both empty (no microbiome finding)"
                )));
            }
            Ok(TherapyMicrobiome {
                id: id(&row, c.0, "TM")?,
                therapy: row.required(c.1, "therapy")?,
                therapy_class: row.coded(c.2)?,
                disease: row.coded(c.3)?,
                effect: row.required(c.4, "effect")?,
                direction,
                taxa: row.list(c.6),
                evidence: row.coded(c.7)?,
                contrast,
                sample_type,
                method,
                citation: Citation::read(&row, &cite)?,
                confidence: row.coded(c.8)?,
                notes: row.optional(c.9),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------

/// A row of `taxon_synonyms.tsv`: a name and gutjoint's canonical key for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxonSynonym {
    /// A name as it may appear in input data or the literature.
    pub name: String,
    /// The canonical key (also present as its own `name` row).
    pub accepted: String,
    /// Rank of `name` in its source.
    pub rank: Rank,
    pub source: Vec<NameSource>,
    pub note: Option<String>,
}

/// Parses `taxon_synonyms.tsv`.
pub fn parse_taxon_synonyms(text: &str, table: &str) -> Result<Vec<TaxonSynonym>> {
    let tsv = Tsv::parse(text, table)?;
    let c = (
        tsv.column("name")?,
        tsv.column("accepted")?,
        tsv.column("rank")?,
        tsv.column("source")?,
        tsv.column("note")?,
    );
    tsv.rows()
        .map(|row| {
            Ok(TaxonSynonym {
                name: row.required(c.0, "name")?,
                accepted: row.required(c.1, "accepted")?,
                rank: rank(&row, c.2)?,
                source: row.coded_list(c.3, false)?,
                note: row.optional(c.4),
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------

/// A row of `drugs.tsv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drug {
    /// Canonical key: the lowercase INN (`indomethacin` is the one USAN exception).
    pub drug: String,
    /// Lowercase brand names, spellings, salts, research codes and common misspellings.
    pub synonyms: Vec<String>,
    /// WHO ATC codes, current first.
    pub atc: Vec<String>,
    pub drug_class: DrugClass,
    pub used_in: Vec<Indication>,
    pub notes: Option<String>,
}

/// Parses `drugs.tsv`.
pub fn parse_drugs(text: &str, table: &str) -> Result<Vec<Drug>> {
    let tsv = Tsv::parse(text, table)?;
    let c = (
        tsv.column("drug")?,
        tsv.column("synonyms")?,
        tsv.column("atc")?,
        tsv.column("drug_class")?,
        tsv.column("used_in")?,
        tsv.column("notes")?,
    );
    tsv.rows()
        .map(|row| {
            let drug = row.required(c.0, "drug")?;
            if drug != drug.to_lowercase() {
                return Err(row.error(format!("drug '{drug}' is not lower case")));
            }
            let atc = row.list(c.2);
            if let Some(bad) = atc.iter().find(|code| !is_atc(code)) {
                return Err(row.error(format!(
                    "atc '{bad}' is not an ATC code, expected a letter, two digits, two letters and two digits (M01AB05)"
                )));
            }
            Ok(Drug {
                drug,
                synonyms: row.list(c.1),
                atc,
                drug_class: row.coded(c.3)?,
                used_in: row.coded_list(c.4, false)?,
                notes: row.optional(c.5),
            })
        })
        .collect()
}

fn is_atc(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 7
        && b[0].is_ascii_uppercase()
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3..5].iter().all(u8::is_ascii_uppercase)
        && b[5..7].iter().all(u8::is_ascii_digit)
}

// ---------------------------------------------------------------------------------------------

/// A row of `drug_microbe.tsv`: one drug × interaction mechanism.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrugMicrobe {
    /// `DM001`, … (stable within a release).
    pub id: String,
    /// Key into `drugs.tsv`.
    pub drug: String,
    pub interaction: Interaction,
    pub mechanism: Option<String>,
    pub enzyme: Vec<String>,
    pub ec: Vec<String>,
    pub ko: Vec<String>,
    /// Column of `enzyme_carriage.tsv` measuring carriage of the enzyme.
    pub agora2_column: Option<String>,
    /// EC numbers to sum in a HUMAnN level-4 EC table.
    pub humann_ec: Vec<String>,
    /// Taxa as the source spells them (old names and parenthesised notes allowed).
    pub taxa: Vec<String>,
    /// The strongest kind of evidence behind the row.
    pub evidence: DrugEvidence,
    /// Empty exactly on `no_microbial_metabolism_reported` gap rows.
    pub confidence: Option<Confidence>,
    #[serde(flatten)]
    pub citation: Citation,
    pub notes: Option<String>,
}

/// Parses `drug_microbe.tsv`.
pub fn parse_drug_microbe(text: &str, table: &str) -> Result<Vec<DrugMicrobe>> {
    let tsv = Tsv::parse(text, table)?;
    let c = (
        tsv.column("id")?,
        tsv.column("drug")?,
        tsv.column("interaction")?,
        tsv.column("mechanism")?,
        tsv.column("enzyme")?,
        tsv.column("ec")?,
        tsv.column("ko")?,
        tsv.column("agora2_column")?,
        tsv.column("humann_ec")?,
        tsv.column("taxa")?,
        tsv.column("evidence")?,
        tsv.column("confidence")?,
    );
    let notes = tsv.column("notes")?;
    let cite = CitationColumns::find(&tsv)?;
    tsv.rows()
        .map(|row| {
            let interaction: Interaction = row.coded(c.2)?;
            let confidence: Option<Confidence> = row.optional_coded(c.11)?;
            let gap = interaction == Interaction::NoMicrobialMetabolismReported;
            match (gap, confidence) {
                (false, None) => {
                    return Err(row.error(format!(
                        "empty confidence, expected one of {} (only {} rows may leave it empty)",
                        Confidence::codes().join(", "),
                        Interaction::NoMicrobialMetabolismReported
                    )));
                }
                (true, Some(grade)) => {
                    return Err(row.error(format!(
                        "confidence '{grade}' on a {} row, expected empty (nothing to grade)",
                        Interaction::NoMicrobialMetabolismReported
                    )));
                }
                _ => {}
            }
            let ec = row.list(c.5);
            let humann_ec = row.list(c.8);
            if let Some(bad) = ec.iter().chain(&humann_ec).find(|e| !is_ec(e)) {
                return Err(row.error(format!(
                    "EC number '{bad}' is malformed, expected four dot-separated numbers (3.2.1.31)"
                )));
            }
            let ko = row.list(c.6);
            if let Some(bad) = ko.iter().find(|k| !is_ko(k)) {
                return Err(row.error(format!(
                    "KEGG KO '{bad}' is malformed, expected 'K' and five digits (K01195)"
                )));
            }
            Ok(DrugMicrobe {
                id: id(&row, c.0, "DM")?,
                drug: row.required(c.1, "drug")?,
                interaction,
                mechanism: row.optional(c.3),
                enzyme: row.list(c.4),
                ec,
                ko,
                agora2_column: row.optional(c.7),
                humann_ec,
                taxa: row.list(c.9),
                evidence: row.coded(c.10)?,
                confidence,
                citation: Citation::read(&row, &cite)?,
                notes: row.optional(notes),
            })
        })
        .collect()
}

fn is_ec(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_ko(text: &str) -> bool {
    text.len() == 6 && text.starts_with('K') && text[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pmcid_is_found_after_false_starts() {
        assert_eq!(pmcid_in("see PMCID PMC9351697; x"), Some("PMC9351697"));
        assert_eq!(pmcid_in("PMC only"), None);
        assert_eq!(pmcid_in(""), None);
    }

    #[test]
    fn identifier_shapes() {
        assert!(is_atc("M01AB05"));
        assert!(!is_atc("M01AB5"));
        assert!(is_ec("1.7.1.17"));
        assert!(!is_ec("1.7.1"));
        assert!(is_ko("K01195"));
        assert!(!is_ko("K0119"));
    }
}

// ---------------------------------------------------------------------------------------------

/// A row of `guilds.tsv`: one member of a functional guild (knowledge/GUILDS.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuildMember {
    pub guild_id: String,
    pub guild: String,
    pub member: String,
    pub rank: Rank,
    pub membership_basis: String,
    /// The source assigns the whole genus, not particular species.
    pub genus_level_only: bool,
    #[serde(flatten)]
    pub citation: Citation,
    pub confidence: Confidence,
    pub notes: Option<String>,
}

/// Parses `guilds.tsv`.
pub fn parse_guilds(text: &str, table: &str) -> Result<Vec<GuildMember>> {
    let tsv = Tsv::parse(text, table)?;
    let cite = CitationColumns::find(&tsv)?;
    let c = (
        tsv.column("guild_id")?,
        tsv.column("guild")?,
        tsv.column("member")?,
        tsv.column("rank")?,
        tsv.column("membership_basis")?,
        tsv.column("genus_level_only")?,
        tsv.column("confidence")?,
        tsv.column("notes")?,
    );
    tsv.rows()
        .map(|row| {
            let guild_id = row.required(c.0, "guild_id")?;
            let digits = guild_id.strip_prefix('G').unwrap_or("");
            if digits.len() != 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(row.error(format!(
                    "guild_id '{guild_id}' is malformed, expected 'G' and two digits (G01)"
                )));
            }
            let flag = row.required(c.5, "genus_level_only")?;
            let genus_level_only = match flag.as_str() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(row.error(format!(
                        "genus_level_only '{other}', expected true or false"
                    )));
                }
            };
            let citation = Citation::read(&row, &cite)?;
            if !citation.is_traceable() {
                return Err(row.error(
                    "a guild member needs a citation (DOI, PMID, or first author and year)",
                ));
            }
            Ok(GuildMember {
                guild_id,
                guild: row.required(c.1, "guild")?,
                member: row.required(c.2, "member")?,
                rank: rank(&row, c.3)?,
                membership_basis: row.required(c.4, "membership_basis")?,
                genus_level_only,
                citation,
                confidence: row.coded(c.6)?,
                notes: row.optional(c.7),
            })
        })
        .collect()
}

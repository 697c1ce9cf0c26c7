/*!
AGORA2 enzyme carriage, AGORA2's in-vitro tested drug metabolizers and the Maier 2018
growth-inhibition screen, read at run time.

These tables are not compiled in. `enzyme_carriage.tsv` is derived from AGORA2 and
MicrobeRX files published under GPL-3, and embedding it would arguably make the MIT/Apache
binary a combined work (knowledge/PHARMACO.md §6); `known_drug_metabolizers.tsv` (the strains
AGORA2's authors checked in vitro, the ground truth that measures how well carriage predicts an
activity) comes from the same GPL-3 repository; `maier2018_inhibition.tsv` is a large derived
subset of Nature supplementary data with unstated redistribution terms. All are read from a
directory by [`KnowledgeBase::load_pharmaco_dir`] when a command needs them.
*/

use crate::base::KnowledgeBase;
use crate::error::{Error, Result};
use crate::tsv::Tsv;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

pub const ENZYME_CARRIAGE_FILE: &str = "enzyme_carriage.tsv";
pub const MAIER2018_FILE: &str = "maier2018_inhibition.tsv";
pub const KNOWN_METABOLIZERS_FILE: &str = "known_drug_metabolizers.tsv";

/// Padj below which Maier et al. count a strain as inhibited (reproduces their `n_hit`).
pub const MAIER_HIT_PADJ: f64 = 0.01;

/// Columns of `enzyme_carriage.tsv` that are not enzyme fractions.
const CARRIAGE_META: &[&str] = &[
    "species",
    "n_strains",
    "n_strains_species_parsed_from_id",
    "genus",
    "phylum",
    "ncbi_taxids",
];

/// One AGORA2 species: how many strains it has and which fraction carries each enzyme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeciesCarriage {
    /// Species as AGORA2 names it (brackets kept, old and new names mixed upstream).
    pub species: String,
    /// Strains behind the fractions; a fraction from 1–2 strains is weak evidence.
    pub n_strains: u32,
    /// Enzyme column (`cCgr`, `UidA_any`, …) → fraction of strains annotated with it.
    pub fractions: BTreeMap<String, f64>,
    /// Strains whose species was parsed from the strain id (verify before relying on it).
    pub n_strains_species_parsed_from_id: u32,
    pub genus: Option<String>,
    pub phylum: Option<String>,
    pub ncbi_taxids: Vec<String>,
}

impl SpeciesCarriage {
    /// The fraction for an enzyme column, if the table has the column.
    pub fn fraction(&self, column: &str) -> Option<f64> {
        self.fractions.get(column).copied()
    }
}

/// One drug × strain cell of the Maier 2018 screen (20 µM, anaerobic, in vitro).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaierInhibition {
    /// Key into `drugs.tsv`.
    pub drug: String,
    /// Maier NT strain code (`NT5033`).
    pub strain: String,
    /// Species as Maier names it.
    pub species: String,
    /// Adjusted p-value for growth inhibition.
    pub padj: f64,
    /// `padj < 0.01`, Maier's hit definition.
    pub inhibits: bool,
    pub prestwick_id: String,
    pub compound: String,
    /// `false` for secondary compounds of a drug that already has a primary one.
    pub primary_form: bool,
    pub n_hit_compound: u32,
    pub maier_label: String,
    /// Matching `enzyme_carriage.tsv` species (with renames); empty when not in AGORA2.
    pub agora2_species: Vec<String>,
    pub citation: String,
}

/// One strain (or species) × activity that AGORA2's authors tested in vitro
/// (`knownDrugMetabolizers`, Heinken et al. 2023): the truth a carriage estimate is measured on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownMetabolizer {
    /// AGORA2 strain id or species, words joined by `_` (`Escherichia_coli_K12`).
    pub strain_or_species: String,
    /// The activity as the source words it (`Azoreductase activity (general)`).
    pub activity: String,
    /// Whether the activity was observed in vitro.
    pub in_vitro: bool,
    /// The `enzyme_carriage.tsv` column that predicts this activity; `None` when there is none.
    pub agora2_column: Option<String>,
    /// `PMID:…` references, as the source gives them.
    pub reference: Option<String>,
}

impl KnownMetabolizer {
    /// The species the strain belongs to: its first two words (`Escherichia coli`).
    pub fn species(&self) -> String {
        self.strain_or_species
            .split(['_', ' '])
            .filter(|w| !w.is_empty())
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The run-time pharmacomicrobiomics tables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PharmacoData {
    /// Enzyme columns in file order.
    pub enzyme_columns: Vec<String>,
    /// AGORA2 species → carriage.
    pub carriage: BTreeMap<String, SpeciesCarriage>,
    pub maier: Vec<MaierInhibition>,
    /// In-vitro tests of AGORA2 strains; empty when the table was not loaded (then no estimate
    /// has a measured validity, and the output says so).
    pub known_metabolizers: Vec<KnownMetabolizer>,
}

impl PharmacoData {
    /// Parses both tables from text; `*_table` names them in errors.
    pub fn parse(
        carriage_text: &str,
        carriage_table: &str,
        maier_text: &str,
        maier_table: &str,
    ) -> Result<PharmacoData> {
        let (enzyme_columns, species) = parse_enzyme_carriage(carriage_text, carriage_table)?;
        let carriage = species
            .into_iter()
            .map(|s| (s.species.clone(), s))
            .collect();
        Ok(PharmacoData {
            enzyme_columns,
            carriage,
            maier: parse_maier2018(maier_text, maier_table)?,
            known_metabolizers: Vec::new(),
        })
    }

    /// Adds the in-vitro tests of `known_drug_metabolizers.tsv` (`table` names it in errors).
    pub fn with_known_metabolizers(mut self, text: &str, table: &str) -> Result<PharmacoData> {
        self.known_metabolizers = parse_known_metabolizers(text, table)?;
        Ok(self)
    }

    /// Carriage of an AGORA2 species, by its exact AGORA2 name.
    pub fn carriage_of(&self, species: &str) -> Option<&SpeciesCarriage> {
        self.carriage.get(species)
    }

    /// Maier rows for a drug (primary compound only), in file order.
    pub fn maier_for(&self, drug: &str) -> Vec<&MaierInhibition> {
        self.maier
            .iter()
            .filter(|m| m.drug == drug && m.primary_form)
            .collect()
    }
}

/// Parses `enzyme_carriage.tsv` into its enzyme columns and one record per species.
pub fn parse_enzyme_carriage(
    text: &str,
    table: &str,
) -> Result<(Vec<String>, Vec<SpeciesCarriage>)> {
    let tsv = Tsv::parse(text, table)?;
    let species_col = tsv.column("species")?;
    let n_strains_col = tsv.column("n_strains")?;
    let parsed_col = tsv.column("n_strains_species_parsed_from_id")?;
    let genus_col = tsv.column("genus")?;
    let phylum_col = tsv.column("phylum")?;
    let taxids_col = tsv.column("ncbi_taxids")?;
    let enzymes: Vec<(&str, usize)> = tsv
        .header()
        .into_iter()
        .filter(|(name, _)| !CARRIAGE_META.contains(name))
        .collect();
    if enzymes.is_empty() {
        return Err(Error::row(
            table,
            1,
            "no enzyme columns in the header, expected eALP, cALP, …",
        ));
    }
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for row in tsv.rows() {
        let species = row.required(species_col, "species")?;
        if let Some(first) = seen.insert(species.clone(), row.line) {
            return Err(row.error(format!(
                "species '{species}' already appears on line {first}"
            )));
        }
        let n_strains = row.count(n_strains_col, "n_strains")?;
        if n_strains == 0 {
            return Err(row.error("n_strains is 0, expected at least one strain"));
        }
        let fractions = enzymes
            .iter()
            .map(|(name, col)| Ok((name.to_string(), row.unit_interval(*col, name)?)))
            .collect::<Result<_>>()?;
        out.push(SpeciesCarriage {
            species,
            n_strains,
            fractions,
            n_strains_species_parsed_from_id: row
                .count(parsed_col, "n_strains_species_parsed_from_id")?,
            genus: row.optional(genus_col),
            phylum: row.optional(phylum_col),
            ncbi_taxids: row.list(taxids_col),
        });
    }
    Ok((
        enzymes.into_iter().map(|(n, _)| n.to_string()).collect(),
        out,
    ))
}

/// Parses `maier2018_inhibition.tsv`.
pub fn parse_maier2018(text: &str, table: &str) -> Result<Vec<MaierInhibition>> {
    let tsv = Tsv::parse(text, table)?;
    let c = (
        tsv.column("drug")?,
        tsv.column("strain")?,
        tsv.column("species")?,
        tsv.column("padj")?,
        tsv.column("inhibits")?,
        tsv.column("prestwick_id")?,
        tsv.column("compound")?,
        tsv.column("primary_form")?,
        tsv.column("n_hit_compound")?,
        tsv.column("maier_label")?,
        tsv.column("agora2_species")?,
        tsv.column("citation")?,
    );
    tsv.rows()
        .map(|row| {
            Ok(MaierInhibition {
                drug: row.required(c.0, "drug")?,
                strain: row.required(c.1, "strain")?,
                species: row.required(c.2, "species")?,
                padj: row.unit_interval(c.3, "padj")?,
                inhibits: row.boolean(c.4, "inhibits")?,
                prestwick_id: row.required(c.5, "prestwick_id")?,
                compound: row.required(c.6, "compound")?,
                primary_form: row.boolean(c.7, "primary_form")?,
                n_hit_compound: row.count(c.8, "n_hit_compound")?,
                maier_label: row.required(c.9, "maier_label")?,
                agora2_species: row.list(c.10),
                citation: row.required(c.11, "citation")?,
            })
        })
        .collect()
}

/// Parses `known_drug_metabolizers.tsv`.
pub fn parse_known_metabolizers(text: &str, table: &str) -> Result<Vec<KnownMetabolizer>> {
    let tsv = Tsv::parse(text, table)?;
    let c = (
        tsv.column("strain_or_species")?,
        tsv.column("activity")?,
        tsv.column("in_vitro")?,
        tsv.column("agora2_column")?,
        tsv.column("reference")?,
    );
    tsv.rows()
        .map(|row| {
            let in_vitro = match row.text(c.2) {
                "Yes" => true,
                "No" => false,
                other => {
                    return Err(row.error(format!("in_vitro '{other}', expected Yes or No")));
                }
            };
            Ok(KnownMetabolizer {
                strain_or_species: row.required(c.0, "strain_or_species")?,
                // The source's spacing is kept in the file; one space here is easier to read.
                activity: row
                    .required(c.1, "activity")?
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                in_vitro,
                agora2_column: row.optional(c.3),
                reference: row.optional(c.4),
            })
        })
        .collect()
}

impl KnowledgeBase {
    /// Reads `enzyme_carriage.tsv`, `maier2018_inhibition.tsv` and
    /// `known_drug_metabolizers.tsv` from `dir` (GPL-3-derived and large; never embedded).
    pub fn load_pharmaco_dir(dir: &Path) -> Result<PharmacoData> {
        let read = |file: &str| -> Result<(String, String)> {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|error| Error::Io {
                path: path.clone(),
                error,
            })?;
            Ok((text, path.display().to_string()))
        };
        let (carriage, carriage_name) = read(ENZYME_CARRIAGE_FILE)?;
        let (maier, maier_name) = read(MAIER2018_FILE)?;
        let (known, known_name) = read(KNOWN_METABOLIZERS_FILE)?;
        PharmacoData::parse(&carriage, &carriage_name, &maier, &maier_name)?
            .with_known_metabolizers(&known, &known_name)
    }

    /// Checks joining the run-time tables to the embedded ones: Maier drugs exist, hits follow
    /// the padj rule, hit counts agree, (drug, strain) is unique among primary compounds,
    /// AGORA2 species exist, and every `agora2_column` of `drug_microbe.tsv` is a carriage
    /// column. Empty means consistent.
    pub fn validate_pharmaco(&self, data: &PharmacoData) -> Vec<String> {
        let mut problems = Vec::new();
        let drugs: HashSet<&str> = self.drugs.iter().map(|d| d.drug.as_str()).collect();
        let mut primary = HashSet::new();
        let mut hits: HashMap<&str, (u32, u32)> = HashMap::new();
        for m in &data.maier {
            let what = format!("maier2018: {} × {}", m.drug, m.strain);
            if !drugs.contains(m.drug.as_str()) {
                problems.push(format!("{what}: drug is not in drugs.tsv"));
            }
            if m.inhibits != (m.padj < MAIER_HIT_PADJ) {
                problems.push(format!(
                    "{what}: inhibits={} but padj={} (hit means padj < {MAIER_HIT_PADJ})",
                    m.inhibits, m.padj
                ));
            }
            if m.primary_form && !primary.insert((m.drug.as_str(), m.strain.as_str())) {
                problems.push(format!("{what}: repeated among primary-form rows"));
            }
            let entry = hits
                .entry(m.prestwick_id.as_str())
                .or_insert((0, m.n_hit_compound));
            entry.0 += u32::from(m.inhibits);
            for species in &m.agora2_species {
                if !data.carriage.contains_key(species) {
                    problems.push(format!(
                        "{what}: agora2_species '{species}' is not in enzyme_carriage.tsv"
                    ));
                }
            }
        }
        let mut compounds: Vec<_> = hits.into_iter().collect();
        compounds.sort_unstable();
        for (compound, (counted, stated)) in compounds {
            if counted != stated {
                problems.push(format!(
                    "maier2018: {compound} has {counted} hits but n_hit_compound {stated}"
                ));
            }
        }
        for k in &data.known_metabolizers {
            if let Some(column) = &k.agora2_column
                && !data.enzyme_columns.contains(column)
            {
                problems.push(format!(
                    "known_drug_metabolizers: {} × {}: agora2_column '{column}' is not a column of enzyme_carriage.tsv",
                    k.strain_or_species, k.activity
                ));
            }
        }
        for row in &self.drug_microbe {
            if let Some(column) = &row.agora2_column
                && !data.enzyme_columns.contains(column)
            {
                problems.push(format!(
                    "drug_microbe: {} agora2_column '{column}' is not a column of enzyme_carriage.tsv",
                    row.id
                ));
            }
        }
        problems
    }
}

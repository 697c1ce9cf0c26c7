/*!
Questions people ask the knowledge base: about a taxon, a disease, a therapy or drug.

Every query is pure and returns a plain struct deriving `Serialize`, so the command line can
print it for people or as JSON. A miss is not an error: the answer carries a `suggestion` (the
closest known name), and for diseases and therapies the rest of the answer is filled in for that
suggestion, so `fligotinib` answers for filgotinib while saying so. Taxon answers are not filled
in from a suggestion: the nearest name of a different taxon (`Ruminococcus_B` and
`Ruminococcus_C` sit in different families) would be a wrong answer, not a helpful one.
*/

use crate::base::{KnowledgeBase, ResolvedTaxon};
use crate::codes::{Disease, DrugClass, TherapyClass};
use crate::names::{contains_words, gtdb_base, normalize, osa_distance, suggest, suggest_by};
use crate::records::{Drug, DrugMicrobe, TaxonDisease, TherapyMicrobiome};
use serde::Serialize;
use std::fmt;

/// What the base knows about one taxon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaxonAnswer {
    pub query: String,
    pub resolved: Option<ResolvedTaxon>,
    /// The closest known name when the query did not resolve.
    pub suggestion: Option<String>,
    /// Other names of the resolved taxon.
    pub synonyms: Vec<String>,
    /// Taxon–disease rows whose taxon resolves to the same canonical key.
    pub associations: Vec<TaxonDisease>,
}

/// What the base knows about one disease.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiseaseAnswer {
    pub query: String,
    pub disease: Option<Disease>,
    /// Long name of `disease`.
    pub name: Option<&'static str>,
    /// The closest known disease name when the query was not one; the answer is for it.
    pub suggestion: Option<String>,
    pub associations: Vec<TaxonDisease>,
    pub therapies: Vec<TherapyMicrobiome>,
}

/// How a therapy query was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TherapyMatch {
    /// The canonical drug name (`filgotinib`).
    Drug,
    /// A brand, spelling, salt or code listed for a drug (`jyseleca`, `fligotinib`).
    DrugSynonym,
    /// A therapy or drug class (`anti-TNF`, `JAK inhibitors`).
    Class,
    /// Text of the `therapy` column (`probiotics`, `faecal microbiota transplantation`).
    TherapyText,
}

/// What the base knows about one therapy, drug or class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TherapyAnswer {
    pub query: String,
    /// The canonical drug, the class, or the therapy text matched.
    pub matched: Option<String>,
    pub matched_as: Option<TherapyMatch>,
    /// The canonical spelling when the query looks misspelt; the answer is for it.
    pub suggestion: Option<String>,
    pub drug: Option<Drug>,
    /// Therapy–microbiome rows: those naming the drug, and class-level rows of its class.
    pub therapy_effects: Vec<TherapyMicrobiome>,
    /// For a drug: ids in `therapy_effects` about its class as a whole (`TNF inhibitors`),
    /// not the drug itself. Empty for class and text answers.
    pub class_level: Vec<String>,
    pub drug_microbe: Vec<DrugMicrobe>,
}

/// A drug name the base does not know, with the closest canonical drug if one is near.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub query: String,
    pub suggestion: Option<String>,
}

impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown drug '{}'", self.query)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean '{s}'?")?;
        }
        Ok(())
    }
}

impl std::error::Error for Suggestion {}

/// A class as users name it: a therapy class, a drug class, or both.
#[derive(Debug, Clone, Copy)]
struct ClassQuery {
    name: &'static str,
    therapy: Option<TherapyClass>,
    drug: Option<DrugClass>,
}

const CLASS_ALIASES: &[(&str, &str)] = &[
    ("tnf inhibitor", "anti-TNF"),
    ("tnfi", "anti-TNF"),
    ("tnf blocker", "anti-TNF"),
    ("anti tnf", "anti-TNF"),
    ("jak", "JAK inhibitor"),
    ("jaki", "JAK inhibitor"),
    ("jakinib", "JAK inhibitor"),
    ("il-17 inhibitor", "anti-IL-17"),
    ("il-17a inhibitor", "anti-IL-17"),
    ("il-17i", "anti-IL-17"),
    ("anti-il17", "anti-IL-17"),
    ("anti il-17", "anti-IL-17"),
    ("conventional synthetic dmard", "csDMARD"),
    ("dmard", "csDMARD"),
    ("faecal microbiota transplantation", "FMT"),
    ("fecal microbiota transplantation", "FMT"),
    ("faecal microbiota transplant", "FMT"),
    ("fecal microbiota transplant", "FMT"),
    ("corticosteroid", "glucocorticoid"),
    ("steroid", "glucocorticoid"),
    ("urate-lowering therapy", "urate-lowering"),
    ("urate lowering", "urate-lowering"),
    ("ult", "urate-lowering"),
    ("nonsteroidal anti-inflammatory drug", "NSAID"),
];

fn class_query(text: &str) -> Option<ClassQuery> {
    let lower = text.trim().to_lowercase();
    let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    // Plurals: `JAK inhibitors`, `NSAIDs`, `probiotics`, `glucocorticoids`.
    let singular = lower.strip_suffix('s').unwrap_or(&lower).to_string();
    let canonical = |candidate: &str| -> Option<&'static str> {
        TherapyClass::ALL
            .iter()
            .map(|c| c.code())
            .chain(DrugClass::ALL.iter().map(|c| c.code()))
            .find(|code| code.to_lowercase() == candidate)
            .or_else(|| {
                CLASS_ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == candidate)
                    .map(|(_, code)| *code)
            })
    };
    let name = canonical(&lower).or_else(|| canonical(&singular))?;
    // `reference` and `colchicine` are bookkeeping classes in drugs.tsv, not therapies.
    if name == "reference" || name == "colchicine" {
        return None;
    }
    let therapy = TherapyClass::parse(name);
    let drug = DrugClass::parse(name).or_else(|| therapy.and_then(TherapyClass::drug_class));
    Some(ClassQuery {
        name,
        therapy,
        drug,
    })
}

impl KnowledgeBase {
    /// Everything about one taxon: its canonical key, other names, and the disease
    /// associations of every name that resolves to the same key.
    pub fn taxon(&self, name: &str) -> TaxonAnswer {
        let resolved = self.resolve_taxon(name);
        let (suggestion, synonyms, associations) = match &resolved {
            Some(r) => (
                None,
                self.synonyms_of(&r.accepted),
                self.taxon_disease
                    .iter()
                    .filter(|row| {
                        self.resolve_taxon(&row.taxon)
                            .is_some_and(|t| t.accepted == r.accepted)
                    })
                    .cloned()
                    .collect(),
            ),
            None => (self.suggest_taxon(name), Vec::new(), Vec::new()),
        };
        TaxonAnswer {
            query: name.to_string(),
            resolved,
            suggestion,
            synonyms,
            associations,
        }
    }

    /// The closest taxon name. None for an unmapped GTDB split of a known taxon
    /// (`Bacteroides_D`, `Ruminococcus_B`): the curators left those out on purpose, and the
    /// nearest spelling (`Bacteroides_E`, `Bacteroidetes`) would name a different taxon.
    fn suggest_taxon(&self, name: &str) -> Option<String> {
        let base = gtdb_base(name);
        if base != name.trim().to_lowercase() && self.resolve_taxon(&base).is_some() {
            return None;
        }
        let candidates: Vec<&str> = self
            .taxon_names()
            .into_iter()
            .filter(|c| gtdb_base(c) != base)
            .collect();
        suggest_by(name, &candidates, normalize)
    }

    /// Taxon associations and therapy rows for a disease, given as a code or a long name in
    /// any case (`RA`, `rheumatoid arthritis`, `axial spondyloarthritis`).
    pub fn disease(&self, name: &str) -> DiseaseAnswer {
        let (disease, suggestion) = match Disease::from_query(name) {
            Some(d) => (Some(d), None),
            None => match suggest(name, &Disease::query_names()) {
                Some(s) => (Disease::from_query(&s), Some(s)),
                None => (None, None),
            },
        };
        DiseaseAnswer {
            query: name.to_string(),
            disease,
            name: disease.map(Disease::long_name),
            suggestion,
            associations: self
                .taxon_disease
                .iter()
                .filter(|r| Some(r.disease) == disease)
                .cloned()
                .collect(),
            therapies: self
                .therapy_microbiome
                .iter()
                .filter(|r| Some(r.disease) == disease)
                .cloned()
                .collect(),
        }
    }

    /// The drug whose canonical name or listed synonym is `name` (case-insensitive), or the
    /// closest canonical drug name as a suggestion.
    pub fn resolve_drug(&self, name: &str) -> Result<&Drug, Suggestion> {
        if let Some(drug) = self.find_drug(name) {
            return Ok(drug);
        }
        let suggestion = suggest(name, &self.drug_names())
            .and_then(|s| self.find_drug(&s))
            .map(|d| d.drug.clone());
        Err(Suggestion {
            query: name.to_string(),
            suggestion,
        })
    }

    fn find_drug(&self, name: &str) -> Option<&Drug> {
        let lower = name.trim().to_lowercase();
        self.drugs
            .iter()
            .find(|d| d.drug == lower)
            .or_else(|| self.drugs.iter().find(|d| d.synonyms.contains(&lower)))
    }

    fn drug_names(&self) -> Vec<&str> {
        self.drugs
            .iter()
            .flat_map(|d| std::iter::once(&d.drug).chain(&d.synonyms))
            .map(String::as_str)
            .collect()
    }

    /// Everything about a therapy: a drug (by INN, brand or listed spelling), a class
    /// (`anti-TNF`, `JAK inhibitors`) or therapy text (`probiotics`). On a miss the closest
    /// name is suggested and answered for.
    pub fn therapy(&self, name: &str) -> TherapyAnswer {
        if let Some(answer) = self.therapy_exact(name) {
            return answer;
        }
        let mut candidates = self.drug_names();
        candidates.extend(TherapyClass::ALL.iter().map(|c| c.code()));
        candidates.extend(
            DrugClass::ALL
                .iter()
                .map(|c| c.code())
                .filter(|c| !matches!(*c, "reference" | "colchicine")),
        );
        candidates.extend(self.therapy_microbiome.iter().map(|r| r.therapy.as_str()));
        if let Some(suggestion) = suggest(name, &candidates)
            && let Some(mut answer) = self.therapy_exact(&suggestion)
        {
            answer.query = name.to_string();
            answer.suggestion = Some(suggestion);
            return answer;
        }
        TherapyAnswer {
            query: name.to_string(),
            matched: None,
            matched_as: None,
            suggestion: None,
            drug: None,
            therapy_effects: Vec::new(),
            class_level: Vec::new(),
            drug_microbe: Vec::new(),
        }
    }

    fn therapy_exact(&self, name: &str) -> Option<TherapyAnswer> {
        let query = name.trim();
        if query.is_empty() {
            return None;
        }
        if let Some(drug) = self.find_drug(query) {
            return Some(self.drug_answer(name, drug));
        }
        if let Some(class) = class_query(query) {
            return Some(self.class_answer(name, class));
        }
        // Therapy text (substring, case-insensitive): products, strains, class descriptions.
        let lower = query.to_lowercase();
        if lower.chars().count() < 3 {
            return None;
        }
        let rows: Vec<TherapyMicrobiome> = self
            .therapy_microbiome
            .iter()
            .filter(|r| r.therapy.to_lowercase().contains(&lower))
            .cloned()
            .collect();
        let first = rows.first()?;
        let matched = if rows.iter().all(|r| r.therapy == first.therapy) {
            first.therapy.clone()
        } else if rows.iter().all(|r| r.therapy_class == first.therapy_class) {
            first.therapy_class.code().to_string()
        } else {
            query.to_string()
        };
        Some(TherapyAnswer {
            query: name.to_string(),
            matched: Some(matched),
            matched_as: Some(TherapyMatch::TherapyText),
            suggestion: None,
            drug: None,
            therapy_effects: rows,
            class_level: Vec::new(),
            drug_microbe: Vec::new(),
        })
    }

    /// Whether a therapy cell names any drug of `drugs.tsv` (by key or synonym).
    fn names_a_drug(&self, therapy: &str) -> bool {
        self.drugs.iter().any(|d| {
            contains_words(therapy, &d.drug)
                || d.synonyms.iter().any(|s| contains_words(therapy, s))
        })
    }

    fn drug_answer(&self, name: &str, drug: &Drug) -> TherapyAnswer {
        let query = name.trim().to_lowercase();
        let names_this = |therapy: &str| {
            contains_words(therapy, &drug.drug)
                || drug.synonyms.iter().any(|s| contains_words(therapy, s))
        };
        let mut effects = Vec::new();
        let mut class_level = Vec::new();
        for row in &self.therapy_microbiome {
            if names_this(&row.therapy) {
                effects.push(row.clone());
            } else if row.therapy_class.drug_class() == Some(drug.drug_class)
                && !self.names_a_drug(&row.therapy)
            {
                class_level.push(row.id.clone());
                effects.push(row.clone());
            }
        }
        let (matched_as, suggestion) = if query == drug.drug {
            (TherapyMatch::Drug, None)
        } else {
            // A listed spelling variant (`fligotinib`, `indometacin`) rather than a brand:
            // point to the canonical spelling.
            let near =
                osa_distance(&query, &drug.drug) <= crate::names::max_suggestion_distance(&query);
            (TherapyMatch::DrugSynonym, near.then(|| drug.drug.clone()))
        };
        TherapyAnswer {
            query: name.to_string(),
            matched: Some(drug.drug.clone()),
            matched_as: Some(matched_as),
            suggestion,
            drug: Some(drug.clone()),
            therapy_effects: effects,
            class_level,
            drug_microbe: self
                .drug_microbe
                .iter()
                .filter(|r| r.drug == drug.drug)
                .cloned()
                .collect(),
        }
    }

    fn class_answer(&self, name: &str, class: ClassQuery) -> TherapyAnswer {
        let in_class = |drug: &str| {
            class.drug.is_some()
                && self
                    .drugs
                    .iter()
                    .any(|d| d.drug == drug && Some(d.drug_class) == class.drug)
        };
        let effects: Vec<TherapyMicrobiome> = self
            .therapy_microbiome
            .iter()
            .filter(|r| {
                Some(r.therapy_class) == class.therapy
                    || (class.drug.is_some() && r.therapy_class.drug_class() == class.drug)
            })
            .cloned()
            .collect();
        TherapyAnswer {
            query: name.to_string(),
            matched: Some(class.name.to_string()),
            matched_as: Some(TherapyMatch::Class),
            suggestion: None,
            drug: None,
            // Every row of a class answer is about the class; the field is for drug answers.
            class_level: Vec::new(),
            therapy_effects: effects,
            drug_microbe: self
                .drug_microbe
                .iter()
                .filter(|r| in_class(&r.drug))
                .cloned()
                .collect(),
        }
    }
}

/*!
The coded columns of the knowledge tables, one enum per vocabulary.

Each enum is written in the tables exactly as its code (`axSpA`, `reduces_diversity`,
`JAK inhibitor`), serialises as that code, and parses only that code: the files are curated, so
a near miss (`AxSpA`, `Increased`) is a typo to fix, not something to guess. The lenient,
user-facing parsing of disease names lives in [`Disease::from_query`].
*/

use crate::tsv::Coded;
use serde::{Serialize, Serializer};
use std::fmt;

macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in the order the schema lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code as written in the table.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The value for an exact code (case-sensitive, as the tables are).
            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl Coded for $name {
            const WHAT: &'static str = $what;
            fn codes() -> &'static [&'static str] {
                &[$($code),+]
            }
            fn from_code(code: &str) -> Option<Self> {
                Self::parse(code)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }
    };
}

coded_enum! {
    /// The disease vocabulary. The first nine are the arthritis types of `taxon_disease.tsv`;
    /// `therapy_microbiome.tsv` adds `arthritis` (several or unspecified types), `CD` (Crohn's
    /// disease, as IBD-risk context) and `CIA` (collagen-induced arthritis, a mouse model).
    Disease, "disease" {
        /// Rheumatoid arthritis, including new-onset, early and pre-clinical RA.
        Ra => "RA",
        /// Ankylosing spondylitis (when the study says AS).
        As => "AS",
        /// Axial spondyloarthritis, and spondyloarthritis (SpA) studies in general.
        AxSpa => "axSpA",
        /// Psoriatic arthritis.
        Psa => "PsA",
        /// Reactive (post-infectious) arthritis.
        Rea => "ReA",
        /// Enteropathic arthritis: arthritis or SpA with inflammatory bowel disease.
        Ena => "EnA",
        /// Gout.
        Gout => "gout",
        /// Osteoarthritis.
        Oa => "OA",
        /// Juvenile idiopathic arthritis, all subtypes.
        Jia => "JIA",
        /// Several or unspecified arthritis types (therapy table only).
        Arthritis => "arthritis",
        /// Crohn's disease, as IBD-risk context (therapy table only).
        Cd => "CD",
        /// Collagen-induced arthritis, a mouse model (therapy table only).
        Cia => "CIA",
    }
}

impl Disease {
    /// The name a reader would write out.
    pub fn long_name(self) -> &'static str {
        match self {
            Disease::Ra => "rheumatoid arthritis",
            Disease::As => "ankylosing spondylitis",
            Disease::AxSpa => "axial spondyloarthritis",
            Disease::Psa => "psoriatic arthritis",
            Disease::Rea => "reactive arthritis",
            Disease::Ena => "enteropathic arthritis",
            Disease::Gout => "gout",
            Disease::Oa => "osteoarthritis",
            Disease::Jia => "juvenile idiopathic arthritis",
            Disease::Arthritis => "arthritis (several or unspecified types)",
            Disease::Cd => "Crohn's disease",
            Disease::Cia => "collagen-induced arthritis (mouse model)",
        }
    }

    /// Whether `taxon_disease.tsv` may use this code (the nine arthritis types).
    pub fn in_taxon_vocabulary(self) -> bool {
        !matches!(self, Disease::Arthritis | Disease::Cd | Disease::Cia)
    }

    /// Other names users type for the disease (besides the code and the long name).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Disease::AxSpa => &["spondyloarthritis", "spa", "axial spa"],
            Disease::Ena => &["ibd-associated arthritis", "enteropathic spondyloarthritis"],
            Disease::Cd => &["crohn disease", "crohns disease", "crohn's"],
            Disease::Cia => &["collagen-induced arthritis"],
            Disease::Arthritis => &["arthritis"],
            _ => &[],
        }
    }

    /// Parses a disease as a user types it: the code or the long name, any case
    /// (`RA`, `ra`, `Rheumatoid arthritis`, `axial spondyloarthritis`, `SpA`).
    pub fn from_query(text: &str) -> Option<Disease> {
        let query = text.trim().to_lowercase();
        let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
        Disease::ALL.iter().copied().find(|d| {
            d.code().to_lowercase() == query
                || d.long_name().to_lowercase() == query
                || d.aliases().contains(&query.as_str())
        })
    }

    /// Every spelling [`Disease::from_query`] accepts, for suggestions on a miss.
    pub fn query_names() -> Vec<&'static str> {
        let mut names = Vec::new();
        for d in Disease::ALL {
            names.push(d.code());
            names.push(d.long_name());
            names.extend(d.aliases().iter().copied());
        }
        names
    }
}

coded_enum! {
    /// Direction of a taxon–disease finding: in patients relative to controls (or, for the
    /// few within-patient rows, higher with the feature named in `notes`).
    Direction, "direction" {
        Increased => "increased",
        Decreased => "decreased",
    }
}

coded_enum! {
    /// Confidence grade, as defined in knowledge/README.md and PHARMACO.md.
    Confidence, "confidence" {
        /// Abstract read and reproduced by an independent cohort (taxon/therapy tables), or
        /// mechanism shown with enzymes/organisms in vivo or in several studies (drug table).
        High => "H",
        /// Abstract read, single study; or one good study / an animal or association study.
        Medium => "M",
        /// Secondary or title-level source, contradicted, very small, or association-only.
        Low => "L",
    }
}

coded_enum! {
    /// What `therapy_microbiome.tsv` says a therapy does (knowledge/README.md).
    TherapyDirection, "therapy direction" {
        Restores => "restores",
        ReducesDiversity => "reduces_diversity",
        IncreasesTaxon => "increases_taxon",
        DecreasesTaxon => "decreases_taxon",
        NoEffect => "no_effect",
        NoEvidence => "no_evidence",
        Mixed => "mixed",
        PredictsResponse => "predicts_response",
        ClinicalBenefit => "clinical_benefit",
        ClinicalNoBenefit => "clinical_no_benefit",
        ClinicalHarm => "clinical_harm",
    }
}

coded_enum! {
    /// Therapy class in `therapy_microbiome.tsv`.
    TherapyClass, "therapy class" {
        AntiTnf => "anti-TNF",
        AntiIl17 => "anti-IL-17",
        JakInhibitor => "JAK inhibitor",
        CsDmard => "csDMARD",
        Fmt => "FMT",
        Probiotic => "probiotic",
        Nsaid => "NSAID",
    }
}

impl TherapyClass {
    /// The matching class of `drugs.tsv`, where there is one.
    pub fn drug_class(self) -> Option<DrugClass> {
        match self {
            TherapyClass::AntiTnf => Some(DrugClass::AntiTnf),
            TherapyClass::AntiIl17 => Some(DrugClass::AntiIl17),
            TherapyClass::JakInhibitor => Some(DrugClass::JakInhibitor),
            TherapyClass::CsDmard => Some(DrugClass::CsDmard),
            TherapyClass::Nsaid => Some(DrugClass::Nsaid),
            TherapyClass::Fmt | TherapyClass::Probiotic => None,
        }
    }
}

coded_enum! {
    /// Study design behind a `therapy_microbiome.tsv` row.
    TherapyEvidence, "evidence" {
        Rct => "RCT",
        Cohort => "cohort",
        CaseSeries => "case_series",
        Animal => "animal",
        Review => "review",
        MetaAnalysis => "meta_analysis",
        None => "none",
    }
}

coded_enum! {
    /// Kind of drug–microbe interaction in `drug_microbe.tsv` (knowledge/PHARMACO.md).
    Interaction, "interaction" {
        Activation => "activation",
        Inactivation => "inactivation",
        Toxification => "toxification",
        DrugInhibitsBacteria => "drug_inhibits_bacteria",
        BacteriaReduceEfficacy => "bacteria_reduce_efficacy",
        /// A gap row: nothing was found (always `evidence = none`, no confidence).
        NoMicrobialMetabolismReported => "no_microbial_metabolism_reported",
        DrugAltersMicrobiota => "drug_alters_microbiota",
        MicrobiomePredictsResponse => "microbiome_predicts_response",
    }
}

coded_enum! {
    /// Strongest kind of evidence behind a `drug_microbe.tsv` row.
    DrugEvidence, "evidence" {
        InVitro => "in_vitro",
        Animal => "animal",
        Human => "human",
        InSilico => "in_silico",
        None => "none",
    }
}

coded_enum! {
    /// Drug class in `drugs.tsv`.
    DrugClass, "drug class" {
        CsDmard => "csDMARD",
        Nsaid => "NSAID",
        Glucocorticoid => "glucocorticoid",
        JakInhibitor => "JAK inhibitor",
        AntiTnf => "anti-TNF",
        AntiIl17 => "anti-IL-17",
        UrateLowering => "urate-lowering",
        Colchicine => "colchicine",
        Antimalarial => "antimalarial",
        /// A non-rheumatic reference drug (digoxin, levodopa, irinotecan, mesalazine, sulfapyridine).
        Reference => "reference",
    }
}

coded_enum! {
    /// Indications in `drugs.tsv` `used_in`.
    Indication, "indication" {
        Ra => "RA",
        AxSpa => "axSpA",
        Psa => "PsA",
        Jia => "JIA",
        Gout => "gout",
        Cppd => "CPPD",
        Fmf => "FMF",
        Sle => "SLE",
        Pmr => "PMR",
        Vasculitis => "vasculitis",
        Ibd => "IBD",
        Reference => "reference",
    }
}

coded_enum! {
    /// Sample type in `taxon_disease.tsv`.
    SampleType, "sample type" {
        Stool => "stool",
        /// Ileal or colonic mucosa (`notes` says which).
        GutBiopsy => "gut_biopsy",
        Saliva => "saliva",
        DentalPlaque => "dental_plaque",
    }
}

coded_enum! {
    /// Method in `taxon_disease.tsv`.
    Method, "method" {
        Amplicon16S => "16S",
        Shotgun => "shotgun",
        /// Fungal ITS2 amplicons.
        Its2 => "ITS2",
        /// GA-map probe-panel dysbiosis test.
        GaMap => "GA-map",
        Qpcr => "qPCR",
        Culture => "culture",
        MetaAnalysis => "meta-analysis",
        SystematicReview => "systematic_review",
        Review => "review",
    }
}

coded_enum! {
    /// What the source note read for a `taxon_disease.tsv` row (`+`-joined when several).
    SourceRead, "source_read part" {
        /// Abstract, publisher page or abstract mirror.
        Abstract => "abstract",
        /// A review, review table, news item or another paper's introduction.
        Secondary => "secondary",
        Title => "title",
    }
}

coded_enum! {
    /// Where a name in `taxon_synonyms.tsv` is used.
    NameSource, "name source" {
        Ncbi => "NCBI",
        Gtdb => "GTDB",
        Silva => "SILVA",
        /// Superseded or literature-only name.
        Older => "older",
        MetaPhlAn => "MetaPhlAn",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for d in Disease::ALL {
            assert_eq!(Disease::parse(d.code()), Some(*d));
            assert_eq!(Disease::from_query(d.long_name()), Some(*d));
            assert_eq!(Disease::from_query(&d.code().to_uppercase()), Some(*d));
        }
        assert_eq!(Disease::parse("axspa"), None);
        assert_eq!(
            Disease::from_query("  Rheumatoid   Arthritis "),
            Some(Disease::Ra)
        );
        assert_eq!(Method::parse("16S"), Some(Method::Amplicon16S));
        assert_eq!(
            TherapyClass::parse("JAK inhibitor"),
            Some(TherapyClass::JakInhibitor)
        );
    }
}

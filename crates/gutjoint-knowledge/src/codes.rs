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
        /// Microbiome changes without one consistent direction, or direction not stated.
        Mixed => "mixed",
        PredictsResponse => "predicts_response",
        ClinicalBenefit => "clinical_benefit",
        ClinicalNoBenefit => "clinical_no_benefit",
        ClinicalHarm => "clinical_harm",
        /// Clinical outcomes only, some better and some unchanged (CRP lower, DAS28 not).
        ClinicalMixed => "clinical_mixed",
    }
}

impl TherapyDirection {
    /// Whether the row reports something measured in the microbiome (and so has a contrast,
    /// and a sample type and method when the source states them), as opposed to clinical
    /// outcomes only or no evidence.
    pub fn measures_microbiome(self) -> bool {
        !matches!(
            self,
            TherapyDirection::NoEvidence
                | TherapyDirection::ClinicalBenefit
                | TherapyDirection::ClinicalNoBenefit
                | TherapyDirection::ClinicalHarm
                | TherapyDirection::ClinicalMixed
        )
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
    /// What a finding compares (`contrast` in `taxon_disease.tsv` and `therapy_microbiome.tsv`).
    /// A finding can only be re-tested in a cohort that can make the same comparison: a
    /// within-patient activity association says nothing about patients versus controls, and a
    /// responders-versus-non-responders difference says nothing about disease. For every
    /// contrast except `case_control` and `at_risk_vs_control`, the row's direction means
    /// "higher with the feature named in `notes`" (more active disease, the clinical feature,
    /// response, after treatment, later in time, the trait).
    Contrast, "contrast" {
        /// Patients (any stage; `notes` gives it) versus people without the disease: healthy,
        /// household, first-degree-relative or infection-exposed controls.
        CaseControl => "case_control",
        /// People at risk or in a pre-clinical phase (autoantibody-positive, symptomatic
        /// relatives) versus controls without those features.
        AtRiskVsControl => "at_risk_vs_control",
        /// Patients with one disease versus patients with another (no healthy controls).
        DiseaseVsDisease => "disease_vs_disease",
        /// Within patients: association with disease activity (score, active vs inactive).
        ActivityWithinPatients => "activity_within_patients",
        /// Within patients: a clinical feature (enthesitis, uveitis, sacroiliitis, HLA-B27).
        FeatureWithinPatients => "feature_within_patients",
        /// Within patients: baseline microbiome of responders versus non-responders to a therapy.
        TreatmentResponse => "treatment_response",
        /// The same patients before and after a therapy.
        TreatmentChange => "treatment_change",
        /// Treated versus untreated groups sampled separately (trial arms, animal arms, users
        /// versus non-users).
        TreatedVsUntreated => "treated_vs_untreated",
        /// Repeated samples over time without a therapy contrast (flare versus recovery,
        /// progressors versus non-progressors).
        Longitudinal => "longitudinal",
        /// A trait's association across a general population (not patients versus controls).
        PopulationAssociation => "population_association",
    }
}

impl Contrast {
    /// Whether the finding compares people with (or at risk of) the disease against people
    /// without it, as a case-control cohort can re-test.
    pub fn is_between_patients_and_controls(self) -> bool {
        matches!(self, Contrast::CaseControl | Contrast::AtRiskVsControl)
    }

    /// Whether the finding concerns a therapy (change under it, response to it, or treated arms).
    pub fn is_about_therapy(self) -> bool {
        matches!(
            self,
            Contrast::TreatmentResponse | Contrast::TreatmentChange | Contrast::TreatedVsUntreated
        )
    }
}

coded_enum! {
    /// Sample type in `taxon_disease.tsv` and `therapy_microbiome.tsv`. Mucosal biopsies are
    /// split by site because ileal and colonic communities differ from each other and from stool.
    SampleType, "sample type" {
        Stool => "stool",
        /// Terminal-ileum mucosal biopsy.
        IlealBiopsy => "ileal_biopsy",
        /// Colonic (or rectal) mucosal biopsy.
        ColonicBiopsy => "colonic_biopsy",
        /// Intestinal mucosal biopsy whose site the source does not state (`notes` says so).
        GutBiopsy => "gut_biopsy",
        Saliva => "saliva",
        DentalPlaque => "dental_plaque",
    }
}

impl SampleType {
    /// Whether the sample is intestinal mucosa rather than stool or the mouth.
    pub fn is_biopsy(self) -> bool {
        matches!(
            self,
            SampleType::IlealBiopsy | SampleType::ColonicBiopsy | SampleType::GutBiopsy
        )
    }
}

coded_enum! {
    /// How the taxa were measured (`method` in `taxon_disease.tsv` and `therapy_microbiome.tsv`).
    Method, "method" {
        /// 16S rRNA gene amplicon sequencing.
        Amplicon16S => "16S",
        /// Shotgun metagenomics.
        Shotgun => "shotgun",
        /// Fungal ITS2 amplicons.
        Its2 => "ITS2",
        /// GA-map probe-panel dysbiosis test: a fixed set of probes, not a community profile.
        GaMap => "GA-map",
        /// Quantitative PCR for chosen taxa.
        Qpcr => "qPCR",
        Culture => "culture",
        /// Pooled estimate over several studies.
        MetaAnalysis => "meta-analysis",
        SystematicReview => "systematic_review",
        /// A narrative review's statement (the primary study is named in `notes` when known).
        Review => "review",
    }
}

impl Method {
    /// Whether the method profiles the whole community (16S, shotgun, ITS2), as the tables a
    /// user analyses do, rather than targeting chosen taxa (probe panel, qPCR, culture).
    pub fn is_community_profile(self) -> bool {
        matches!(self, Method::Amplicon16S | Method::Shotgun | Method::Its2)
    }

    /// Whether the row pools other studies (meta-analysis, systematic or narrative review).
    pub fn is_pooled(self) -> bool {
        matches!(
            self,
            Method::MetaAnalysis | Method::SystematicReview | Method::Review
        )
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

/*!
# gutjoint-knowledge — what the literature says about gut microbes and arthritis

A microbiome profile only becomes interpretable next to what is already known: which taxa
studies found raised or lowered in rheumatoid arthritis, spondyloarthritis, gout and the other
arthritides; what methotrexate, TNF blockers or probiotics do to the gut community; which gut
bacteria activate, inactivate or are inhibited by the drugs patients take. This crate holds that
knowledge as curated tables, one row per finding, and answers questions about it:

| table | one row per | query |
| --- | --- | --- |
| `taxon_disease.tsv` ([`TaxonDisease`]) | taxon × study contrast | [`KnowledgeBase::taxon`], [`KnowledgeBase::disease`] |
| `therapy_microbiome.tsv` ([`TherapyMicrobiome`]) | therapy × disease × finding | [`KnowledgeBase::therapy`] |
| `taxon_synonyms.tsv` ([`TaxonSynonym`]) | name → canonical key | [`KnowledgeBase::resolve_taxon`] |
| `drugs.tsv` ([`Drug`]) | drug, with brands and spellings | [`KnowledgeBase::resolve_drug`] |
| `drug_microbe.tsv` ([`DrugMicrobe`]) | drug × interaction mechanism | [`KnowledgeBase::therapy`] |

Names are resolved before they are compared: *Segatella copri* finds the *Prevotella copri*
studies, `[Ruminococcus] gnavus group` and *Mediterraneibacter gnavus* find *Ruminococcus
gnavus*, GTDB clusters such as `Faecalibacterium prausnitzii_D` roll up where the synonym table
says so, and a misspelling gets a suggestion (`fligotinib` → filgotinib).

## Evidence grades

Every row carries its citation (first author, year, journal, DOI or PMID where the source had
one), population, method, direction and a [`Confidence`] grade:

- **H** — the abstract was read and the direction was reproduced in an independent cohort
  (for drug–microbe rows: mechanism shown with enzymes or organisms, in vivo or in several
  studies);
- **M** — abstract read, single study (or one good study, or an animal or association study);
- **L** — secondary or title-level source, contradicted elsewhere, or a very small cohort.

Findings often disagree between populations and methods (*Collinsella* in RA is up in the USA
and down in Korea). Keep them per population and method; never collapse them into one sign.

## Not a diagnosis

Nothing here diagnoses anyone or predicts a drug response. The rows are published group-level
associations, many from small cohorts, animals or in vitro screens; a person's microbiome
matching one says nothing reliable about that person. gutjoint reports them as context for
research, with their grades and citations, so they can be checked.

## Provenance and licences

The five tables above were compiled by the project from public abstracts, publisher pages,
review tables and repositories (knowledge/README.md and knowledge/PHARMACO.md record what was
read for each claim); the wording of notes is the curators' own. They are under the project
licence and are compiled into the binary with `include_str!` ([`KnowledgeBase::embedded`]),
so gutjoint runs without a data directory.

`enzyme_carriage.tsv` and `known_drug_metabolizers.tsv` are derived from AGORA2 (Heinken et al.
2023, Nat Biotechnol, doi:10.1038/s41587-022-01628-0) and MicrobeRX (Ruiz-Moreno et al. 2025,
Microbiome 13:78) files published under **GPL-3**. They are treated as GPL-3 data, shipped as
separate files, and **read at run time, never compiled in** ([`KnowledgeBase::load_pharmaco_dir`]),
so the MIT/Apache binaries do not become combined works. `maier2018_inhibition.tsv` (Maier et
al. 2018, Nature 555:623, doi:10.1038/nature25979) is a derived subset of supplementary data and
is likewise loaded at run time.
*/

pub mod base;
pub mod codes;
pub mod error;
pub mod names;
pub mod pharmaco;
pub mod query;
pub mod records;
mod tsv;

#[cfg(test)]
mod tests;

pub use base::{
    ENZYME_COLUMNS, FINDINGS_WITHOUT_IDENTIFIER, KnowledgeBase, ResolvedTaxon, embedded,
    embedded_guilds,
};
pub use codes::{
    Confidence, Contrast, Direction, Disease, DrugClass, DrugEvidence, Indication, Interaction,
    Method, NameSource, SampleType, SourceRead, TherapyClass, TherapyDirection, TherapyEvidence,
};
pub use error::{Error, Result};
pub use names::{max_suggestion_distance, normalize, osa_distance, suggest};
pub use pharmaco::{
    KnownMetabolizer, MAIER_HIT_PADJ, MaierInhibition, PharmacoData, SpeciesCarriage,
    parse_enzyme_carriage, parse_known_metabolizers, parse_maier2018,
};
pub use query::{DiseaseAnswer, Suggestion, TaxonAnswer, TherapyAnswer, TherapyMatch};
pub use records::{
    Citation, Drug, DrugMicrobe, GuildMember, TaxonDisease, TaxonSynonym, TherapyMicrobiome,
    parse_drug_microbe, parse_drugs, parse_guilds, parse_taxon_disease, parse_taxon_synonyms,
    parse_therapy_microbiome, pmcid_in,
};

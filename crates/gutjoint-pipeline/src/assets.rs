//! The data an analysis needs besides the user's files: the curated knowledge base, the
//! run-time knowledge tables (AGORA2 carriage, Maier 2018 inhibition), the built-in healthy
//! references (precomputed) and the bundled demo data.
//!
//! [`Assets::embedded`] uses the copies compiled into the binary (gzip-compressed; see
//! `build.rs`), so an installed binary, a container or a wheel runs with no source tree.
//! [`Assets::from_dir`] reads a folder laid out the same way (`knowledge/*.tsv`,
//! `references/<name>.reference.json`, `demo/…`): each file found there replaces the
//! embedded copy, the rest fall back to it, so a curator can try an edited table without
//! rebuilding.
//!
//! Licences: the knowledge tables and references are the project's (the references derive
//! from the GMHI validation data and the GESPIC cohort, see examples/data/PROVENANCE.md);
//! `enzyme_carriage.tsv` is GPL-3-derived data and is embedded only with the `agora2`
//! feature, which makes a binary built with it a GPL-3 combined work (knowledge/PHARMACO.md §6).

use crate::error::PipelineError;
use crate::input::metadata_column;
use gutjoint_axis::KeyedProfiles;
use gutjoint_axis::reference::{Reference, build_reference};
use gutjoint_knowledge::{GuildMember, KnowledgeBase, PharmacoData};
use gutjoint_table::{FeatureTable, Metadata, Rank};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

macro_rules! gz {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".gz")).as_slice()
    };
}

/// The compressed files compiled into the binary, by their path in an assets folder.
const EMBEDDED: &[(&str, &[u8])] = &[
    (
        "knowledge/maier2018_inhibition.tsv",
        gz!("maier2018_inhibition.tsv"),
    ),
    #[cfg(feature = "agora2")]
    ("knowledge/enzyme_carriage.tsv", gz!("enzyme_carriage.tsv")),
    #[cfg(feature = "agora2")]
    (
        "knowledge/known_drug_metabolizers.tsv",
        gz!("known_drug_metabolizers.tsv"),
    ),
    (
        "enterotype/enterotype.genus.tsv",
        gz!("enterotype_genus.tsv"),
    ),
    (
        "enterotype/enterotype.metadata.tsv",
        gz!("enterotype_metadata.tsv"),
    ),
    (
        "references/gmhi-healthy.reference.json",
        gz!("gmhi-healthy.reference.json"),
    ),
    (
        "references/gespic-healthy.reference.json",
        gz!("gespic-healthy.reference.json"),
    ),
    (
        "demo/gmhi/validation_abundance.csv",
        gz!("demo_gmhi_validation_abundance.csv"),
    ),
    (
        "demo/gmhi/gmhi_arthritis_metadata.tsv",
        gz!("demo_gmhi_arthritis_metadata.tsv"),
    ),
    ("demo/gespic/gespic_genus.tsv", gz!("demo_gespic_genus.tsv")),
    (
        "demo/gespic/gespic_metadata.tsv",
        gz!("demo_gespic_metadata.tsv"),
    ),
    (
        "demo/probiotic/peerj32_counts.tsv",
        gz!("demo_peerj32_counts.tsv"),
    ),
    (
        "demo/probiotic/peerj32_metadata.tsv",
        gz!("demo_peerj32_metadata.tsv"),
    ),
    (
        "demo/probiotic/peerj32_taxonomy.tsv",
        gz!("demo_peerj32_taxonomy.tsv"),
    ),
];

/// A healthy reference built into gutjoint from the bundled real data. Its precomputed file
/// is `references/<name>.reference.json`; a test rebuilds it from the source data.
#[derive(Debug, Clone, Copy)]
pub struct BuiltInReference {
    pub name: &'static str,
    /// The table its healthy samples come from (path in the repository's `examples/`).
    pub table: &'static str,
    /// The metadata that says which samples are healthy.
    pub metadata: &'static str,
    /// `(column, value)` selecting the healthy samples.
    pub healthy_where: (&'static str, &'static str),
    /// Column naming each sample's population, or one population named `label`.
    pub population: Option<&'static str>,
    pub label: &'static str,
    pub rank: Rank,
    pub description: &'static str,
}

/// The built-in references, in the order `gutjoint reference list` shows them.
pub const BUILT_IN_REFERENCES: [BuiltInReference; 2] = [
    BuiltInReference {
        name: "gmhi-healthy",
        table: "data/gmhi/validation_abundance.csv",
        metadata: "data/gmhi/validation_metadata.csv",
        healthy_where: ("Phenotype", "Healthy"),
        population: Some("Phenotype_all"),
        label: "",
        rank: Rank::Species,
        description: "118 healthy stool metagenomes (MetaPhlAn2 species) from the GMHI validation set (Gupta et al. 2020, Nat Commun 11:4635), one population per source study (Healthy_P, N-1:Healthy, N-8:Healthy); countries are not recorded in the bundled metadata",
    },
    BuiltInReference {
        name: "gespic-healthy",
        table: "data/gespic/gespic_genus.tsv",
        metadata: "data/gespic/gespic_metadata.tsv",
        healthy_where: ("group", "healthy"),
        population: None,
        label: "Germany (Berlin)",
        rank: Rank::Genus,
        description: "62 healthy controls of the German Spondyloarthritis Inception Cohort (16S rRNA, DADA2 genus bins; Essex et al. 2022, medRxiv doi:10.1101/2022.05.13.22275044)",
    },
];

/// The knowledge base, references and demo data of one installation. Loaded once and shared:
/// `Assets` is `Send + Sync`, and a run-time table or reference is decoded at most once.
#[derive(Debug)]
pub struct Assets {
    knowledge: KnowledgeBase,
    guilds: Vec<GuildMember>,
    /// Folder whose files replace the embedded ones.
    dir: Option<PathBuf>,
    pharmaco: OnceLock<Result<Arc<PharmacoData>, String>>,
    references: Mutex<BTreeMap<String, Arc<Reference>>>,
}

impl Assets {
    /// The assets compiled into the binary.
    pub fn embedded() -> Result<Assets, PipelineError> {
        Self::load(None)
    }

    /// Assets read from `dir` (`knowledge/`, `references/`, `demo/`); files it does not hold
    /// come from the embedded copies. The folder must exist.
    pub fn from_dir(dir: &Path) -> Result<Assets, PipelineError> {
        if !dir.is_dir() {
            return Err(PipelineError::Asset {
                name: dir.display().to_string(),
                message: "no such folder (expected one with knowledge/, references/ or demo/)"
                    .into(),
            });
        }
        Self::load(Some(dir.to_path_buf()))
    }

    fn load(dir: Option<PathBuf>) -> Result<Assets, PipelineError> {
        // The knowledge tables are read together: a folder with knowledge/ replaces them all.
        let knowledge_dir = dir.as_ref().map(|d| d.join("knowledge")).filter(|k| {
            k.join(gutjoint_knowledge::base::TAXON_DISEASE_FILE)
                .is_file()
        });
        let (knowledge, guilds) = match &knowledge_dir {
            Some(k) => {
                let guilds_path = k.join("guilds.tsv");
                let guilds_text = std::fs::read_to_string(&guilds_path)
                    .map_err(|e| PipelineError::io(&guilds_path, e))?;
                (
                    KnowledgeBase::load_dir(k)?,
                    gutjoint_knowledge::parse_guilds(
                        &guilds_text,
                        &guilds_path.display().to_string(),
                    )?,
                )
            }
            None => (
                KnowledgeBase::embedded()?,
                gutjoint_knowledge::embedded_guilds()?,
            ),
        };
        Ok(Assets {
            knowledge,
            guilds,
            dir,
            pharmaco: OnceLock::new(),
            references: Mutex::new(BTreeMap::new()),
        })
    }

    /// The curated knowledge base.
    pub fn knowledge(&self) -> &KnowledgeBase {
        &self.knowledge
    }

    /// The functional guilds of the gut–joint section.
    pub fn guilds(&self) -> &[GuildMember] {
        &self.guilds
    }

    /// The folder whose files replace the embedded ones, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The bytes of the asset at `name` (`demo/gespic/gespic_genus.tsv`,
    /// `references/gmhi-healthy.reference.json` …): the folder's copy when it has one, else
    /// the embedded one.
    pub fn file(&self, name: &str) -> Result<Vec<u8>, PipelineError> {
        if let Some(dir) = &self.dir {
            let path = dir.join(name);
            if path.is_file() {
                return std::fs::read(&path).map_err(|e| PipelineError::io(&path, e));
            }
        }
        let (_, gz) = EMBEDDED
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| PipelineError::Asset {
                name: name.into(),
                message: if name == "knowledge/enzyme_carriage.tsv" {
                    "the AGORA2 enzyme carriage table (GPL-3 data) is not built into this binary; give an assets folder holding knowledge/enzyme_carriage.tsv, or build with the agora2 feature".into()
                } else {
                    "not in the assets folder and not built into this binary".into()
                },
            })?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(*gz)
            .read_to_end(&mut bytes)
            .map_err(|e| PipelineError::Asset {
                name: name.into(),
                message: format!("the embedded copy is corrupt: {e}"),
            })?;
        Ok(bytes)
    }

    fn text(&self, name: &str) -> Result<String, PipelineError> {
        String::from_utf8(self.file(name)?).map_err(|_| PipelineError::Asset {
            name: name.into(),
            message: "not UTF-8 text".into(),
        })
    }

    /// The names of the demo files (`demo/…`) this binary carries.
    pub fn demo_files() -> Vec<&'static str> {
        EMBEDDED
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| n.starts_with("demo/"))
            .collect()
    }

    /// The AGORA2 carriage and Maier 2018 tables of the drug section (decoded once).
    pub fn pharmaco(&self) -> Result<Arc<PharmacoData>, PipelineError> {
        self.pharmaco
            .get_or_init(|| {
                let load = || -> Result<PharmacoData, PipelineError> {
                    let carriage = self.text("knowledge/enzyme_carriage.tsv")?;
                    let maier = self.text("knowledge/maier2018_inhibition.tsv")?;
                    // The in-vitro truth the calls' validity is measured against: without
                    // it a call from an uninformative enzyme column would look graded.
                    let known = self.text("knowledge/known_drug_metabolizers.tsv")?;
                    Ok(PharmacoData::parse(
                        &carriage,
                        "knowledge/enzyme_carriage.tsv",
                        &maier,
                        "knowledge/maier2018_inhibition.tsv",
                    )?
                    .with_known_metabolizers(&known, "knowledge/known_drug_metabolizers.tsv")?)
                };
                load().map(Arc::new).map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|message| PipelineError::Asset {
                name: "knowledge/enzyme_carriage.tsv, knowledge/maier2018_inhibition.tsv and knowledge/known_drug_metabolizers.tsv".into(),
                message,
            })
    }

    /// A built-in reference by name, or a reference file (checked before use).
    pub fn reference(&self, spec: &str) -> Result<Arc<Reference>, PipelineError> {
        if let Some(r) = self.references.lock().map_err(|_| poisoned())?.get(spec) {
            return Ok(r.clone());
        }
        let reference = match BUILT_IN_REFERENCES.iter().find(|b| b.name == spec) {
            Some(b) => {
                let name = format!("references/{}.reference.json", b.name);
                parse_reference(&self.file(&name)?, &name)?
            }
            None => read_reference_file(Path::new(spec))?,
        };
        let reference = Arc::new(reference);
        self.references
            .lock()
            .map_err(|_| poisoned())?
            .insert(spec.to_string(), reference.clone());
        Ok(reference)
    }
}

fn poisoned() -> PipelineError {
    PipelineError::Asset {
        name: "reference cache".into(),
        message: "a previous run panicked while loading a reference".into(),
    }
}

/// Parses and validates a reference file's bytes; `origin` names it in errors.
pub fn parse_reference(bytes: &[u8], origin: &str) -> Result<Reference, PipelineError> {
    let reference: Reference =
        serde_json::from_slice(bytes).map_err(|source| PipelineError::Json {
            what: format!("{origin}: not a gutjoint reference file"),
            source,
        })?;
    reference.validate().map_err(|e| PipelineError::Asset {
        name: origin.into(),
        message: e.to_string(),
    })?;
    Ok(reference)
}

/// Reads a reference file and checks it.
pub fn read_reference_file(path: &Path) -> Result<Reference, PipelineError> {
    if !path.is_file() {
        return Err(PipelineError::UnknownValue {
            setting: "reference",
            value: path.display().to_string(),
            expected: format!(
                "a reference file or a built-in reference ({})",
                BUILT_IN_REFERENCES
                    .iter()
                    .map(|b| b.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| PipelineError::io(path, e))?;
    parse_reference(&bytes, &path.display().to_string())
}

/// A reference from the samples of `table` whose metadata column `healthy_where.0` equals
/// `healthy_where.1`, one population per value of `population` (or all labelled `label`).
#[allow(clippy::too_many_arguments)]
pub fn healthy_reference(
    table: &FeatureTable,
    md: &Metadata,
    md_path: &Path,
    healthy_where: (&str, &str),
    population: Option<&str>,
    label: &str,
    rank: Option<Rank>,
    name: &str,
    description: &str,
    source: &str,
) -> Result<Reference, PipelineError> {
    let (col, value) = healthy_where;
    let filter = metadata_column(md, md_path, col)?;
    let pop_col = population
        .map(|p| metadata_column(md, md_path, p))
        .transpose()?;
    let index = md.index();
    let (mut keep, mut labels) = (Vec::new(), Vec::new());
    for (s, id) in table.sample_ids().iter().enumerate() {
        if let Some(&row) = index.get(id.as_str())
            && filter.text(row).as_deref() == Some(value)
        {
            let l = match pop_col {
                Some(c) => match c.text(row) {
                    Some(l) => l,
                    None => continue,
                },
                None => label.to_string(),
            };
            keep.push(s);
            labels.push(l);
        }
    }
    if keep.is_empty() {
        return Err(PipelineError::Config(format!(
            "no sample of the table has {col}={value} in {}",
            md_path.display()
        )));
    }
    let healthy = table.select_samples(&keep);
    let rank = rank.or_else(|| healthy.ranks_present().last().copied());
    let profiles = KeyedProfiles::from_table(&healthy, rank)?;
    Ok(build_reference(
        name,
        description,
        source,
        &crate::software_version(),
        &profiles,
        &labels,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_table::{Format, ReadOptions, read_metadata_file, read_table};

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// Rebuilds a built-in reference from the repository's data, as `reference build` does.
    fn rebuild(b: &BuiltInReference) -> Reference {
        let examples = repo().join("examples");
        let mut read = read_table(
            &examples.join(b.table),
            ReadOptions {
                format: None,
                samples_as_rows: false,
                metaphlan_rank: b.rank,
            },
        )
        .expect("bundled table reads");
        if read.format != Format::Metaphlan
            && read.table.ranks_present().contains(&b.rank)
            && read
                .table
                .lineages()
                .is_some_and(|l| l.iter().any(|l| l.deepest_rank() != Some(b.rank)))
        {
            read.table = read.table.collapse(b.rank).expect("collapses");
        }
        let md_path = examples.join(b.metadata);
        let md = read_metadata_file(&md_path).expect("bundled metadata reads");
        let source = format!(
            "examples/{} with examples/{} ({}={})",
            b.table, b.metadata, b.healthy_where.0, b.healthy_where.1
        );
        healthy_reference(
            &read.table,
            &md,
            &md_path,
            b.healthy_where,
            b.population,
            b.label,
            Some(b.rank),
            b.name,
            b.description,
            &source,
        )
        .expect("builds")
    }

    /// The precomputed references are what the bundled data gives today; with
    /// GUTJOINT_BLESS=1 the test rewrites them instead (then rebuild to embed them).
    #[test]
    fn built_in_references_are_current() {
        let assets = Assets::embedded().expect("embedded assets load");
        for b in &BUILT_IN_REFERENCES {
            let fresh = rebuild(b);
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(format!("assets/references/{}.reference.json", b.name));
            let mut json = serde_json::to_string(&fresh).expect("serialises");
            json.push('\n');
            if std::env::var_os("GUTJOINT_BLESS").is_some() {
                std::fs::write(&path, &json).expect("writes");
                continue;
            }
            let committed = std::fs::read_to_string(&path).expect("committed reference");
            assert!(
                committed == json,
                "{} is stale: run GUTJOINT_BLESS=1 cargo test -p gutjoint-pipeline built_in_references",
                path.display()
            );
            let embedded = assets.reference(b.name).expect("embedded reference");
            assert_eq!(
                serde_json::to_string(&*embedded).expect("serialises"),
                json.trim_end()
            );
        }
    }

    #[test]
    fn a_malformed_reference_is_refused_not_a_panic() {
        let assets = Assets::embedded().expect("embedded assets load");
        let mut r = (*assets.reference("gespic-healthy").expect("built in")).clone();
        r.populations[0].clr_sd.pop();
        let bytes = serde_json::to_vec(&r).expect("serialises");
        let e = parse_reference(&bytes, "bad.json").expect_err("one SD short");
        assert!(e.to_string().contains("CLR SDs"), "{e}");
        let mut r = (*assets.reference("gespic-healthy").expect("built in")).clone();
        r.populations[0].profiles[0].push((u32::MAX, 0.1));
        let bytes = serde_json::to_vec(&r).expect("serialises");
        let e = parse_reference(&bytes, "bad.json").expect_err("index out of range");
        assert!(e.to_string().contains("refers to taxon"), "{e}");
    }

    #[test]
    fn a_folder_replaces_only_the_files_it_holds() {
        let dir = std::env::temp_dir().join(format!("gutjoint-assets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("demo/gespic")).expect("temp dir");
        std::fs::write(
            dir.join("demo/gespic/gespic_metadata.tsv"),
            "sample-id\tx\n",
        )
        .expect("writes");
        let assets = Assets::from_dir(&dir).expect("folder assets");
        assert_eq!(
            assets
                .file("demo/gespic/gespic_metadata.tsv")
                .expect("from the folder"),
            b"sample-id\tx\n"
        );
        let embedded = assets
            .file("demo/gmhi/gmhi_arthritis_metadata.tsv")
            .expect("falls back to the embedded copy");
        let source =
            std::fs::read(repo().join("examples/demo/gmhi_arthritis_metadata.tsv")).expect("reads");
        assert_eq!(embedded, source);
        assert!(matches!(
            Assets::from_dir(&dir.join("absent")),
            Err(PipelineError::Asset { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

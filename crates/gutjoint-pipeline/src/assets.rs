//! The data an analysis needs besides the user's files: the curated knowledge base, the
//! built-in healthy references and the bundled demo data. [`Assets::embedded`] uses the
//! copies compiled into the binary; [`Assets::from_dir`] reads the same layout from a folder
//! (`knowledge/`, `examples/`), so a curator can try an edit without rebuilding.

use crate::error::PipelineError;
use crate::input::metadata_column;
use gutjoint_axis::KeyedProfiles;
use gutjoint_axis::reference::{Reference, build_reference};
use gutjoint_knowledge::{GuildMember, KnowledgeBase, PharmacoData};
use gutjoint_table::{FeatureTable, Metadata, Rank, ReadOptions, read_metadata_file, read_table};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// A healthy reference built into gutjoint from the bundled real data.
#[derive(Debug, Clone, Copy)]
pub struct BuiltInReference {
    pub name: &'static str,
    /// The bundled table its healthy samples come from (path inside `examples/`).
    pub table: &'static str,
    /// The bundled metadata that says which samples are healthy.
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
/// `Assets` is `Send + Sync`, and a reference is built or read at most once per `Assets`.
#[derive(Debug)]
pub struct Assets {
    knowledge: KnowledgeBase,
    guilds: Vec<GuildMember>,
    /// Folder with `knowledge/` and `examples/`.
    root: PathBuf,
    pharmaco: OnceLock<Result<Arc<PharmacoData>, String>>,
    references: Mutex<BTreeMap<String, Arc<Reference>>>,
}

impl Assets {
    /// The assets compiled into the binary.
    pub fn embedded() -> Result<Assets, PipelineError> {
        // First cut: the run-time tables and the reference data are still read from the
        // source tree; they move into the binary in the next step.
        let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        Ok(Assets {
            knowledge: KnowledgeBase::embedded()?,
            guilds: gutjoint_knowledge::embedded_guilds()?,
            root,
            pharmaco: OnceLock::new(),
            references: Mutex::new(BTreeMap::new()),
        })
    }

    /// Assets read from `dir`, laid out as the repository: `dir/knowledge/*.tsv` and
    /// `dir/examples/data/…`.
    pub fn from_dir(dir: &Path) -> Result<Assets, PipelineError> {
        let knowledge_dir = dir.join("knowledge");
        if !knowledge_dir.is_dir() {
            return Err(PipelineError::Asset {
                name: dir.display().to_string(),
                message:
                    "expected a folder with knowledge/ (and examples/ for the built-in references)"
                        .into(),
            });
        }
        let guilds_path = knowledge_dir.join("guilds.tsv");
        let guilds_text = std::fs::read_to_string(&guilds_path)
            .map_err(|e| PipelineError::io(&guilds_path, e))?;
        Ok(Assets {
            knowledge: KnowledgeBase::load_dir(&knowledge_dir)?,
            guilds: gutjoint_knowledge::parse_guilds(
                &guilds_text,
                &guilds_path.display().to_string(),
            )?,
            root: dir.to_path_buf(),
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

    /// The AGORA2 carriage and Maier 2018 tables of the drug section.
    pub fn pharmaco(&self) -> Result<Arc<PharmacoData>, PipelineError> {
        self.pharmaco
            .get_or_init(|| {
                KnowledgeBase::load_pharmaco_dir(&self.root.join("knowledge"))
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|message| PipelineError::Asset {
                name: "AGORA2 carriage and Maier 2018 tables".into(),
                message,
            })
    }

    /// A built-in reference by name, or a reference file (checked before use).
    pub fn reference(&self, spec: &str) -> Result<Arc<Reference>, PipelineError> {
        if let Some(r) = self.references.lock().map_err(|_| poisoned())?.get(spec) {
            return Ok(r.clone());
        }
        let reference = match BUILT_IN_REFERENCES.iter().find(|b| b.name == spec) {
            Some(b) => self.build_built_in(b)?,
            None => read_reference_file(Path::new(spec))?,
        };
        let reference = Arc::new(reference);
        self.references
            .lock()
            .map_err(|_| poisoned())?
            .insert(spec.to_string(), reference.clone());
        Ok(reference)
    }

    fn build_built_in(&self, b: &BuiltInReference) -> Result<Reference, PipelineError> {
        let examples = self.root.join("examples");
        let table_path = examples.join(b.table);
        let md_path = examples.join(b.metadata);
        let mut read = read_table(
            &table_path,
            ReadOptions {
                format: None,
                samples_as_rows: false,
                metaphlan_rank: b.rank,
            },
        )?;
        if read
            .table
            .lineages()
            .is_some_and(|l| l.iter().any(|l| l.deepest_rank() != Some(b.rank)))
            && read.table.ranks_present().contains(&b.rank)
            && read.format != gutjoint_table::Format::Metaphlan
        {
            read.table = read.table.collapse(b.rank)?;
        }
        let md = read_metadata_file(&md_path)?;
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
    }
}

fn poisoned() -> PipelineError {
    PipelineError::Asset {
        name: "reference cache".into(),
        message: "a previous run panicked while loading a reference".into(),
    }
}

/// Reads a reference file and checks its layout.
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
    let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
    let reference: Reference =
        serde_json::from_str(&text).map_err(|source| PipelineError::Json {
            what: format!("{}: not a gutjoint reference file", path.display()),
            source,
        })?;
    reference.check().map_err(|e| PipelineError::Asset {
        name: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(reference)
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

/*!
Provenance of an analysis: what exactly produced a set of results. Checksums (SHA-256) of
every input file and of the knowledge the run used, the software version, every parameter and
a command line that reproduces the run, as QIIME 2 records for its artifacts.

Everything here is deterministic: no time stamps, no host names, and no path the user did not
give; [`Analysis::relocate`] writes input paths that lie inside the output folder relative to
it, so the same inputs and seed give the same bytes wherever the results are written.
*/

use crate::assets::{Assets, BUILT_IN_REFERENCES};
use crate::config::{AnalysisConfig, ClassifierModel};
use crate::error::PipelineError;
use crate::run::Analysis;
use gutjoint_report::{
    InputFile, InputRole, KnowledgeBaseDigest, KnowledgeTable, Provenance, ReferenceUsed,
};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the reproducing command writes; the command line face replaces it with the real
/// output folder ([`Analysis::relocate`]).
pub const OUTPUT_PLACEHOLDER: &str = "OUT_DIR";

/// The provenance of a run of `config` with `assets`; `reference` is the healthy reference
/// the run used, if any.
pub(crate) fn provenance(
    config: &AnalysisConfig,
    assets: &Assets,
    reference: Option<&str>,
) -> Result<Provenance<AnalysisConfig>, PipelineError> {
    Ok(Provenance {
        software: crate::software_version(),
        command: command_line(config, Path::new(OUTPUT_PLACEHOLDER)),
        parameters: config.clone(),
        inputs: input_files(config)?,
        reference: reference
            .map(|name| reference_used(assets, name))
            .transpose()?,
        knowledge_base: knowledge_digest(assets)?,
    })
}

fn digest_file(role: InputRole, path: &Path) -> Result<InputFile, PipelineError> {
    let bytes = std::fs::read(path).map_err(|e| PipelineError::io(path, e))?;
    Ok(InputFile {
        role,
        path: path.display().to_string(),
        bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
    })
}

/// Every input file of `config`, in the order of the configuration. A table given as a
/// folder of profiles is listed file by file (sorted by name).
fn input_files(config: &AnalysisConfig) -> Result<Vec<InputFile>, PipelineError> {
    let mut files = Vec::new();
    for table in &config.table {
        if table.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(table)
                .map_err(|e| PipelineError::io(table, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            inside.sort();
            for path in inside {
                files.push(digest_file(InputRole::Table, &path)?);
            }
        } else {
            files.push(digest_file(InputRole::Table, table)?);
        }
    }
    for (role, path) in [
        (InputRole::Taxonomy, &config.taxonomy),
        (InputRole::Metadata, &config.metadata),
        (InputRole::Tree, &config.tree),
    ] {
        if let Some(path) = path {
            files.push(digest_file(role, path)?);
        }
    }
    Ok(files)
}

/// The reference used: a built-in name with the checksum of its built-in file, or a file.
fn reference_used(assets: &Assets, name: &str) -> Result<ReferenceUsed, PipelineError> {
    let bytes = match BUILT_IN_REFERENCES.iter().find(|b| b.name == name) {
        Some(b) => assets.file(&format!("references/{}.reference.json", b.name))?,
        None => std::fs::read(name).map_err(|e| PipelineError::io(Path::new(name), e))?,
    };
    Ok(ReferenceUsed {
        name: name.into(),
        sha256: sha256_hex(&bytes),
    })
}

/// The curated tables (read together from one copy) and the run-time tables (each from the
/// assets folder when it holds it, else built in; tables this binary lacks are not listed).
fn knowledge_digest(assets: &Assets) -> Result<KnowledgeBaseDigest, PipelineError> {
    use gutjoint_knowledge::base::{
        DRUG_MICROBE_FILE, DRUGS_FILE, TAXON_DISEASE_FILE, TAXON_SYNONYMS_FILE,
        THERAPY_MICROBIOME_FILE, embedded,
    };
    let folder = assets
        .dir()
        .map(|d| d.join("knowledge"))
        .filter(|k| k.join(TAXON_DISEASE_FILE).is_file());
    let curated = [
        (TAXON_DISEASE_FILE, embedded::TAXON_DISEASE),
        (THERAPY_MICROBIOME_FILE, embedded::THERAPY_MICROBIOME),
        (TAXON_SYNONYMS_FILE, embedded::TAXON_SYNONYMS),
        (DRUGS_FILE, embedded::DRUGS),
        (DRUG_MICROBE_FILE, embedded::DRUG_MICROBE),
        ("guilds.tsv", embedded::GUILDS),
    ];
    let mut tables: Vec<(String, Vec<u8>)> = Vec::new();
    for (file, built_in) in curated {
        let bytes = match &folder {
            Some(k) => {
                let path = k.join(file);
                std::fs::read(&path).map_err(|e| PipelineError::io(&path, e))?
            }
            None => built_in.as_bytes().to_vec(),
        };
        tables.push((format!("knowledge/{file}"), bytes));
    }
    for name in [
        "knowledge/enzyme_carriage.tsv",
        "knowledge/maier2018_inhibition.tsv",
        "knowledge/known_drug_metabolizers.tsv",
    ] {
        // A table this binary does not carry (the GPL-3 AGORA2 tables without the `agora2`
        // feature) is simply not part of its knowledge.
        if let Ok(bytes) = assets.file(name) {
            tables.push((name.into(), bytes));
        }
    }
    let mut all = Sha256::new();
    for (name, bytes) in &tables {
        all.update(name.as_bytes());
        all.update([0]);
        all.update(bytes);
        all.update([0]);
    }
    let sha256 = all.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(KnowledgeBaseDigest {
        version: match assets.dir() {
            Some(_) => format!(
                "{}, with files of an assets folder replacing the built-in ones",
                crate::software_version()
            ),
            None => format!("built into {}", crate::software_version()),
        },
        sha256,
        tables: tables
            .iter()
            .map(|(name, bytes)| KnowledgeTable {
                name: name.clone(),
                rows: bytes
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count()
                    .saturating_sub(1),
                sha256: sha256_hex(bytes),
            })
            .collect(),
    })
}

/// Quotes one shell word when it needs it (POSIX single quotes).
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The `gutjoint analyze` command line of `config` writing into `out`: every setting spelt
/// out, defaults included, so the command does not depend on a later version's defaults.
pub fn command_line(config: &AnalysisConfig, out: &Path) -> String {
    let path = |p: &Path| shell_word(&p.display().to_string());
    let mut words: Vec<String> = vec!["gutjoint".into(), "analyze".into()];
    words.extend(config.table.iter().map(|t| path(t)));
    let mut flag = |name: &str, value: String| {
        words.push(format!("--{name}"));
        words.push(value);
    };
    if let Some(f) = &config.format {
        flag("format", shell_word(f));
    }
    if let Some(r) = &config.rank {
        flag("rank", shell_word(r));
    }
    if let Some(t) = &config.taxonomy {
        flag("taxonomy", path(t));
    }
    if let Some(m) = &config.metadata {
        flag("metadata", path(m));
    }
    if let Some(g) = &config.group {
        flag("group", shell_word(g));
    }
    flag("metric", shell_word(&config.metric));
    if let Some(t) = &config.tree {
        flag("tree", path(t));
    }
    flag("permutations", config.permutations.to_string());
    flag("seed", config.seed.to_string());
    if let Some(r) = &config.reference {
        flag("reference", shell_word(r));
    }
    if let Some(p) = &config.population {
        flag("population", shell_word(p));
    }
    if let Some(c) = &config.medication_column {
        flag("medication-column", shell_word(c));
    }
    if !config.drugs.is_empty() {
        flag("drugs", shell_word(&config.drugs.join(",")));
    }
    if !config.host_variables.is_empty() {
        flag(
            "host-variables",
            shell_word(&config.host_variables.join(",")),
        );
    }
    if let Some(c) = &config.covariates {
        flag("covariates", shell_word(c));
    }
    flag("da-method", config.da_method.name().into());
    flag(
        "classifier",
        match config.classifier {
            ClassifierModel::L1Logistic => "l1-logistic",
            ClassifierModel::RandomForest => "rf",
            ClassifierModel::None => "none",
        }
        .into(),
    );
    if let Some(s) = &config.sample {
        flag("sample", shell_word(s));
    }
    flag("title", shell_word(&config.title));
    // Change over time (#17).
    if let Some(s) = &config.subject {
        flag("subject", shell_word(s));
    }
    if let Some(t) = &config.time {
        flag("time", shell_word(t));
    }
    if let Some(d) = &config.donor {
        flag("donor", shell_word(d));
    }
    if !config.therapy.is_empty() {
        flag("therapy", shell_word(&config.therapy.join(",")));
    }
    if let Some(d) = &config.disease {
        flag("disease", shell_word(d));
    }
    if let Some(o) = &config.outcome {
        flag("outcome", shell_word(&o.column));
        if let Some(p) = &o.positive {
            flag("positive", shell_word(p));
        }
        if !o.clinical.is_empty() {
            flag("clinical", shell_word(&o.clinical.join(",")));
        }
        flag("outcome-permutations", o.permutations.to_string());
    }
    flag("output", path(out));
    if config.samples_as_rows {
        words.push("--samples-as-rows".into());
    }
    if let Some(b) = &config.batch {
        words.push("--batch".into());
        words.push(shell_word(b));
    }
    if let Some(c) = &config.control {
        words.push("--control".into());
        words.push(shell_word(c));
    }
    words.join(" ")
}

impl Analysis {
    /// Records that the results are written to `out` as the caller named it. When every input
    /// file lies inside `out` (the demo writes its inputs there), their paths become relative
    /// to it and the command runs from that folder (`-o .`), so the results read the same
    /// wherever the folder is; otherwise the paths stay as given and the command names `out`.
    pub fn relocate(&mut self, out: &Path) {
        let config = &mut self.results.provenance.parameters;
        let mut paths: Vec<&mut PathBuf> = config.table.iter_mut().collect();
        paths.extend(
            [&mut config.metadata, &mut config.tree, &mut config.taxonomy]
                .into_iter()
                .flatten(),
        );
        let inside = !paths.is_empty() && paths.iter().all(|p| p.strip_prefix(out).is_ok());
        let target = if inside {
            for p in paths {
                if let Ok(rel) = p.strip_prefix(out) {
                    *p = rel.to_path_buf();
                }
            }
            for f in &mut self.results.provenance.inputs {
                if let Ok(rel) = Path::new(&f.path).strip_prefix(out) {
                    f.path = rel.display().to_string();
                }
            }
            PathBuf::from(".")
        } else {
            out.to_path_buf()
        };
        let config = &self.results.provenance.parameters;
        self.results.inputs.table = config
            .table
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        self.results.inputs.metadata = config.metadata.as_ref().map(|p| p.display().to_string());
        self.results.provenance.command = command_line(config, &target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_strings() {
        // FIPS 180-2 test vector, and `printf '' | sha256sum`.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn the_command_spells_out_every_setting_and_quotes_what_the_shell_would_split() {
        let config = AnalysisConfig {
            table: vec!["my data/t.tsv".into()],
            metadata: Some("md.tsv".into()),
            group: Some("group".into()),
            drugs: vec!["sulfasalazine".into(), "methotrexate".into()],
            covariates: Some("age + C(sex)".into()),
            title: "Tom's report".into(),
            ..AnalysisConfig::default()
        };
        assert_eq!(
            command_line(&config, Path::new("out")),
            "gutjoint analyze 'my data/t.tsv' --metadata md.tsv --group group --metric braycurtis \
             --permutations 999 --seed 0 --drugs sulfasalazine,methotrexate --covariates 'age + C(sex)' \
             --da-method lm --classifier l1-logistic --title 'Tom'\\''s report' --output out"
        );
    }
}

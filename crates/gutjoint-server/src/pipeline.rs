//! The real analysis behind the service: `gutjoint_pipeline::run` on a job's stored files
//! with the submitted config, its progress and cancellation bridged to the job's observer,
//! and `write_outputs` into the job's output folder. Nothing here computes anything.

use crate::runner::{Analysis, JobInputs, JobObserver, TableShape};
use gutjoint_pipeline::{AnalysisConfig, Assets, Observer, TableInput};
use std::path::Path;

/// Config fields that name files: the server sets them from the upload, never the client.
const PATH_FIELDS: [&str; 4] = ["table", "metadata", "tree", "taxonomy"];

/// The pipeline with its assets (knowledge base, references), loaded once.
#[derive(Debug)]
pub struct PipelineAnalysis {
    assets: Assets,
}

impl PipelineAnalysis {
    /// Embedded assets, or those of `dir`.
    pub fn new(dir: Option<&Path>) -> Result<PipelineAnalysis, gutjoint_pipeline::PipelineError> {
        Ok(PipelineAnalysis {
            assets: match dir {
                Some(d) => Assets::from_dir(d)?,
                None => Assets::embedded()?,
            },
        })
    }
}

/// The submitted settings as the pipeline's config, paths from the server.
fn config_for(
    value: &serde_json::Value,
    inputs: Option<&JobInputs>,
) -> Result<AnalysisConfig, String> {
    if let Some(object) = value.as_object() {
        for field in PATH_FIELDS {
            if object.contains_key(field) {
                return Err(format!(
                    "`{field}` cannot be set in the config: the server uses the uploaded files (send it as the multipart field instead)"
                ));
            }
        }
        // A reference may be a file path for the command line; here only built-in names.
        if let Some(reference) = object.get("reference").and_then(|r| r.as_str())
            && !reference
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        {
            return Err(format!(
                "`reference` {reference:?}: the service accepts only built-in reference names"
            ));
        }
    }
    let mut config: AnalysisConfig =
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    if let Some(inputs) = inputs {
        config.table = vec![inputs.table.clone()];
        config.metadata = inputs.metadata.clone();
        config.tree = inputs.tree.clone();
    }
    Ok(config)
}

/// Progress and cancellation of the pipeline, into the job's observer.
struct Bridge<'a>(&'a JobObserver);

impl Observer for Bridge<'_> {
    fn progress(&self, step: &str, done: u64, total: u64) {
        self.0.report(step, done, total);
    }
    fn is_cancelled(&self) -> bool {
        self.0.should_stop()
    }
}

impl Analysis for PipelineAnalysis {
    fn check_config(&self, config: &serde_json::Value) -> Result<(), String> {
        config_for(config, None).map(|_| ())
    }

    fn check_inputs(&self, inputs: &JobInputs) -> Result<TableShape, String> {
        let config = config_for(&inputs.config, Some(inputs))?;
        let read = gutjoint_pipeline::read_input_table(&TableInput {
            table: config.table.clone(),
            format: config.format.clone(),
            samples_as_rows: config.samples_as_rows,
            rank: config.rank.clone(),
            taxonomy: None,
        })
        .map_err(|e| e.to_string())?;
        if let Some(md) = &inputs.metadata {
            gutjoint_table::read_metadata_file(md).map_err(|e| e.to_string())?;
        }
        if let Some(tree) = &inputs.tree {
            gutjoint_table::read_tree_file(tree).map_err(|e| e.to_string())?;
        }
        Ok(TableShape {
            samples: read.table.n_samples() as u64,
            features: read.table.n_features() as u64,
        })
    }

    fn run(&self, inputs: &JobInputs, output: &Path, observer: &JobObserver) -> Result<(), String> {
        let config = config_for(&inputs.config, Some(inputs))?;
        let analysis = gutjoint_pipeline::run(&config, &self.assets, &Bridge(observer))
            .map_err(|e| e.to_string())?;
        gutjoint_pipeline::write_outputs(&analysis, output).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_cannot_name_server_paths() {
        for field in PATH_FIELDS {
            let v = serde_json::json!({ field: "/etc/passwd" });
            let e = config_for(&v, None).expect_err("refused");
            assert!(e.contains(&format!("`{field}` cannot be set")), "{e}");
        }
        let e =
            config_for(&serde_json::json!({"reference": "../x.tsv"}), None).expect_err("refused");
        assert!(e.contains("built-in reference names"), "{e}");
        let e = config_for(&serde_json::json!({"permutation": 9}), None).expect_err("refused");
        assert!(e.contains("unknown field `permutation`"), "{e}");
        let c = config_for(
            &serde_json::json!({"group": "diagnosis", "drugs": ["methotrexate"], "seed": 4}),
            Some(&JobInputs {
                table: "/srv/t.tsv".into(),
                metadata: None,
                tree: None,
                config: serde_json::json!({}),
            }),
        )
        .expect("accepted");
        assert_eq!(c.group.as_deref(), Some("diagnosis"));
        assert_eq!(c.drugs, ["methotrexate"]);
        assert_eq!(c.seed, 4);
        assert_eq!(c.table, [std::path::PathBuf::from("/srv/t.tsv")]);
    }
}

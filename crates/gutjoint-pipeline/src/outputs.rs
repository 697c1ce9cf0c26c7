//! Writing an analysis to a folder: `results.json`, `report.html` and `tables/*.tsv`, each
//! through a temporary file and a rename so a reader never sees half a file; and reading
//! `results.json` back, with its schema (docs/results.schema.json) generated from the types.

use crate::error::PipelineError;
use crate::run::{Analysis, Results};
use std::path::Path;

/// A TSV table of an analysis, named by its path inside the output folder
/// (`tables/alpha.tsv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTable {
    pub name: String,
    pub text: String,
}

/// The JSON text of the results, as written to `results.json`.
pub fn results_json(analysis: &Analysis) -> Result<String, PipelineError> {
    let mut json =
        serde_json::to_string_pretty(&analysis.results).map_err(|source| PipelineError::Json {
            what: "results".into(),
            source,
        })?;
    json.push('\n');
    Ok(json)
}

/// Reads the text of a `results.json` (`origin` names it in errors). Another major schema
/// version is refused with both versions named.
pub fn read_results(text: &str, origin: &str) -> Result<Results, PipelineError> {
    Ok(gutjoint_report::read_results(
        text,
        origin,
        &crate::software_version(),
    )?)
}

/// The JSON Schema of `results.json`: the text of docs/results.schema.json.
pub fn results_schema() -> String {
    gutjoint_report::results_schema::<crate::AnalysisConfig>()
}

/// Writes `results.json`, `report.html` and the tables into `dir` (created if needed).
pub fn write_outputs(analysis: &Analysis, dir: &Path) -> Result<(), PipelineError> {
    let tables = dir.join("tables");
    std::fs::create_dir_all(&tables).map_err(|e| PipelineError::io(&tables, e))?;
    gutjoint_table::write_atomic(
        &dir.join("results.json"),
        results_json(analysis)?.as_bytes(),
    )?;
    gutjoint_table::write_atomic(
        &dir.join("report.html"),
        gutjoint_report::render_html(&analysis.results).as_bytes(),
    )?;
    for table in &analysis.tables {
        gutjoint_table::write_atomic(&dir.join(&table.name), table.text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/results.schema.json is generated from the types; this fails when it is stale.
    /// `GUTJOINT_BLESS=1 cargo test -p gutjoint-pipeline schema` rewrites it.
    #[test]
    fn the_results_schema_in_docs_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results.schema.json");
        let generated = results_schema();
        if std::env::var_os("GUTJOINT_BLESS").is_some() {
            std::fs::write(&path, &generated).expect("write the schema");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "docs/results.schema.json is stale: run `GUTJOINT_BLESS=1 cargo test -p gutjoint-pipeline schema`"
        );
    }
}

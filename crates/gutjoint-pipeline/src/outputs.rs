//! Writing an analysis to a folder: `results.json`, `report.html` and `tables/*.tsv`, each
//! through a temporary file and a rename so a reader never sees half a file.

use crate::error::PipelineError;
use crate::run::Analysis;
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

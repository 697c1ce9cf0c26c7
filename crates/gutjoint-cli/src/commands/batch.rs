//! `--batch COL`, shared by `da`, `replicate` and `associate`: the batch column is checked
//! against the samples and the group (one level, or a group entirely explained by the batch,
//! is an error; a collinear batch a warning), then added to the model as `C(COL)`.

use anyhow::{Context, Result};
use gutjoint_axis::confounders::check_batch;
use gutjoint_stats::Term;
use gutjoint_table::Metadata;
use std::path::Path;

/// Checks `batch` and returns it as a categorical term, unless the model already has it.
pub fn batch_term(
    md: &Metadata,
    md_path: &Path,
    samples: &[String],
    batch: &str,
    group: Option<&str>,
    terms: &[Term],
    quiet: bool,
) -> Result<Option<Term>> {
    let check = check_batch(md, samples, batch, group)
        .with_context(|| format!("{}: --batch {batch}", md_path.display()))?;
    if !quiet {
        for w in &check.warnings {
            eprintln!("warning: {w}");
        }
        let levels: Vec<String> = check
            .levels
            .iter()
            .map(|l| format!("{} ({})", l.level, l.n))
            .collect();
        eprintln!(
            "note: batch '{batch}' added to the model as C({}): levels {}",
            gutjoint_stats::quote_column(batch),
            levels.join(", ")
        );
    }
    if terms.iter().any(|t| t.column == batch) {
        return Ok(None);
    }
    Ok(Some(Term {
        column: batch.to_string(),
        categorical: true,
    }))
}

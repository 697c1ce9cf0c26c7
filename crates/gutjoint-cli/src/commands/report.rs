/*!
`gutjoint report`: the HTML report re-rendered from a `results.json`, without recomputing.
The renderer is a pure function of the results, so the bytes equal the report `analyze`
wrote with the same version; a results file of another major schema version is refused with
both versions named.
*/

use anyhow::{Context, Result};
use std::path::PathBuf;

/// Re-render the HTML report of an analysis from its results.json (no recomputation; the
/// same bytes `gutjoint analyze` wrote).
///
/// Example:
///   gutjoint report gutjoint-demo/results.json -o report.html
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The results.json written by `gutjoint analyze` (or `demo`, the service, Python).
    #[arg(value_name = "RESULTS.json")]
    pub results: PathBuf,
    /// The HTML file to write.
    #[arg(short, long, value_name = "REPORT.html")]
    pub output: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let text = std::fs::read_to_string(&args.results)
        .with_context(|| format!("{}: cannot read the results file", args.results.display()))?;
    let results = gutjoint_pipeline::read_results(&text, &args.results.display().to_string())?;
    crate::output::write_file(
        &args.output,
        gutjoint_report::render_html(&results).as_bytes(),
    )
}

//! `gutjoint convert`: one table format to another.

use crate::input::TableArgs;
use crate::output;
use anyhow::{Context, Result};
use gutjoint_table::{OutputFormat, table_bytes};
use std::path::PathBuf;

/// Convert a feature table. The output's extension picks the format:
/// .biom (BIOM 2.1 HDF5), .json (BIOM 1.0), .tsv (BIOM-style TSV).
///
/// Examples:
///   gutjoint convert examples/data/phyloseq/GlobalPatterns.otu.tsv -o gp.biom
///   gutjoint convert profiles/ --rank genus -o genus.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    /// Output file (.biom, .json or .tsv).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let format = OutputFormat::from_path(&args.output).with_context(|| {
        format!("{}: cannot tell the output format from the extension; use .biom (BIOM 2.1), .json (BIOM 1.0) or .tsv", args.output.display())
    })?;
    let read = args.input.read(false)?;
    let bytes = table_bytes(&read.table, format, &output::generated_by())?;
    output::write_file(&args.output, &bytes)
}

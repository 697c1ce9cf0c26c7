//! `gutjoint inspect`: what is in a table, without changing it.

use crate::input::TableArgs;
use crate::output;
use anyhow::Result;
use gutjoint_table::{Format, TableSummary, summarize};
use serde::Serialize;

/// Describe a feature table: format, samples, features, sparsity, depths, value kind, ranks.
///
/// Example:
///   gutjoint inspect examples/data/gmhi/validation_abundance.csv --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Inspection {
    file: String,
    format: Format,
    gzipped: bool,
    #[serde(flatten)]
    summary: TableSummary,
    notes: Vec<String>,
}

pub fn run(args: Args) -> Result<()> {
    let read = args.input.read(true)?;
    let report = Inspection {
        file: args
            .input
            .table
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        format: read.format,
        gzipped: read.gzipped,
        summary: summarize(&read.table),
        notes: read.notes,
    };
    if args.json {
        return output::print_json(&report);
    }
    let s = &report.summary;
    let ranks: Vec<&str> = s.ranks_present.iter().map(|r| r.name()).collect();
    let mut text = format!(
        "file\t{}\nformat\t{}{}\nsamples\t{}\nfeatures\t{}\nnonzero\t{}\ndensity\t{:.6}\ntotal\t{}\nmin_depth\t{}\nmedian_depth\t{}\nmax_depth\t{}\nvalue_kind\t{}\nranks_present\t{}\nempty_samples\t{}\nempty_features\t{}\n",
        report.file,
        report.format.name(),
        if report.gzipped { " (gzip)" } else { "" },
        s.samples,
        s.features,
        s.nonzero,
        s.density,
        s.total,
        s.min_depth,
        s.median_depth,
        s.max_depth,
        s.value_kind.name(),
        if ranks.is_empty() {
            "none".to_string()
        } else {
            ranks.join(",")
        },
        s.empty_samples,
        s.empty_features,
    );
    for note in &report.notes {
        text.push_str(&format!("note\t{note}\n"));
    }
    output::print(&text)
}

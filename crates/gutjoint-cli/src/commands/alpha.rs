//! `gutjoint alpha`: per-sample diversity.

use crate::input::TableArgs;
use crate::output;
use anyhow::Result;
use gutjoint_ecology::{AlphaMetric, alpha};
use gutjoint_table::FeatureTable;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Alpha diversity per sample, one column per metric (scikit-bio 0.7 definitions; Shannon in
/// natural log). Metrics: observed_features, shannon, simpson, dominance, berger_parker_d,
/// pielou_e, chao1 (counts only), faith_pd (needs --tree).
///
/// Example:
///   gutjoint alpha examples/data/phyloseq/GlobalPatterns.otu.tsv --metric shannon \
///       --metric faith_pd --tree examples/data/phyloseq/GlobalPatterns.tree.nwk -o alpha.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    /// Metric to compute (repeatable; default: all that the input allows).
    #[arg(long = "metric", value_name = "M", value_enum)]
    pub metrics: Vec<crate::methods::AlphaMetricName>,
    /// Newick tree for faith_pd.
    #[arg(long, value_name = "NWK")]
    pub tree: Option<PathBuf>,
    /// Leave out features that are not tips of the tree instead of failing.
    #[arg(long)]
    pub drop_missing: bool,
    /// Output TSV (`sample-id` + one column per metric); stdout when omitted.
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Only chunk K of N of the samples (1 ≤ K ≤ N, consecutive in table order), for cohorts
    /// split over jobs: the chunks' rows, concatenated in order, are one run's rows.
    #[arg(long, value_name = "K/N")]
    pub samples: Option<String>,
}

/// Chunk `spec` (`K/N`) of the table's samples: samples `⌊(K−1)·n/N⌋ .. ⌊K·n/N⌋`, so the N
/// chunks are consecutive, cover every sample once and differ in size by at most one.
pub fn sample_chunk(table: FeatureTable, spec: Option<&str>) -> Result<FeatureTable> {
    let Some(spec) = spec else {
        return Ok(table);
    };
    let (k, count) = super::beta::parse_fraction(spec, "--samples")?;
    let n = table.n_samples();
    let keep: Vec<usize> = (k * n / count..(k + 1) * n / count).collect();
    Ok(table.select_samples(&keep))
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let read = args.input.read(quiet)?;
    let table = sample_chunk(read.table, args.samples.as_deref())?;
    let metrics: Vec<AlphaMetric> = if args.metrics.is_empty() {
        AlphaMetric::ALL
            .into_iter()
            .filter(|m| *m != AlphaMetric::FaithPd || args.tree.is_some())
            .filter(|m| {
                *m != AlphaMetric::Chao1 || table.kind() == gutjoint_table::ValueKind::Counts
            })
            .collect()
    } else {
        args.metrics.iter().map(|m| m.metric()).collect()
    };
    let phylo = match &args.tree {
        Some(tree) => Some(super::ecology_args::phylo(
            &table,
            tree,
            args.drop_missing,
            quiet,
        )?),
        None => None,
    };
    let result = alpha(&table, &metrics, phylo.as_ref())?;
    if args.json {
        return output::print_json(&result);
    }
    let mut text = String::from("sample-id");
    for m in &result.metrics {
        text.push('\t');
        text.push_str(m.name());
    }
    text.push('\n');
    for (s, id) in result.sample_ids.iter().enumerate() {
        text.push_str(id);
        for values in &result.values {
            let _ = write!(text, "\t{}", values[s]);
        }
        text.push('\n');
    }
    output::write_or_print(args.output.as_deref(), &text)
}

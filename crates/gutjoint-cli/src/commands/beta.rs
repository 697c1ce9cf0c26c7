//! `gutjoint beta`: distance matrices.

use crate::input::TableArgs;
use crate::output;
use anyhow::{Result, bail};
use gutjoint_ecology::{BetaMetric, beta};
use std::path::PathBuf;

/// Beta diversity between all samples, written as a scikit-bio lsmat distance matrix.
/// Metrics: braycurtis, jaccard, aitchison (CLR with --pseudocount, default 1),
/// unweighted_unifrac, weighted_unifrac, weighted_normalized_unifrac,
/// generalized_unifrac (--alpha, default 0.5); UniFrac needs --tree.
///
/// Example:
///   gutjoint beta examples/data/phyloseq/GlobalPatterns.otu.tsv --metric unweighted_unifrac \
///       --tree examples/data/phyloseq/GlobalPatterns.tree.nwk -o uu.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    /// Metric.
    #[arg(long, value_name = "M")]
    pub metric: String,
    /// Newick tree for the UniFrac metrics.
    #[arg(long, value_name = "NWK")]
    pub tree: Option<PathBuf>,
    /// Leave out features that are not tips of the tree instead of failing.
    #[arg(long)]
    pub drop_missing: bool,
    /// Generalized UniFrac's alpha (0 to 1).
    #[arg(long, default_value_t = 0.5)]
    pub alpha: f64,
    /// Pseudocount added to every cell before the CLR of the Aitchison distance.
    #[arg(long, default_value_t = 1.0)]
    pub pseudocount: f64,
    /// Output lsmat TSV.
    #[arg(short, long, value_name = "DM.tsv")]
    pub output: PathBuf,
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let metric = BetaMetric::parse(&args.metric, args.alpha, args.pseudocount)?;
    if !(0.0..=1.0).contains(&args.alpha) {
        bail!("--alpha must be between 0 and 1, got {}", args.alpha);
    }
    let table = args.input.read(quiet)?.table;
    let phylo = match (&args.tree, metric.is_phylogenetic()) {
        (Some(tree), true) => Some(super::ecology_args::phylo(
            &table,
            tree,
            args.drop_missing,
            quiet,
        )?),
        (None, true) => bail!(
            "{} needs a phylogenetic tree: add --tree FILE.nwk",
            metric.name()
        ),
        _ => None,
    };
    let dm = beta(&table, metric, phylo.as_ref())?;
    output::write_file(&args.output, dm.to_lsmat().as_bytes())
}

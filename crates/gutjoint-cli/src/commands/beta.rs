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
    /// Output: lsmat TSV (scikit-bio), or `.npy` for very large cohorts (the condensed upper
    /// triangle as a NumPy vector, scipy's `squareform` layout, sample ids in `<OUT>.ids.txt`).
    #[arg(short, long, value_name = "DM.tsv")]
    pub output: PathBuf,
    /// Storage precision: f64, or f32 to halve memory (braycurtis and jaccard; with .npy output).
    #[arg(long, value_enum, default_value_t = Precision::F64)]
    pub precision: Precision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Precision {
    F64,
    F32,
}

fn write_npy<T: gutjoint_table::npy::NpyElement>(
    path: &std::path::Path,
    ids: &[String],
    values: &[T],
) -> Result<()> {
    gutjoint_table::write_atomic_with(path, |w| gutjoint_table::npy::write_npy_vector(values, w))?;
    let mut id_path = path.as_os_str().to_owned();
    id_path.push(".ids.txt");
    let mut text = ids.join("\n");
    text.push('\n');
    output::write_file(std::path::Path::new(&id_path), text.as_bytes())
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let metric = BetaMetric::parse(&args.metric, args.alpha, args.pseudocount)?;
    if !(0.0..=1.0).contains(&args.alpha) {
        bail!("--alpha must be between 0 and 1, got {}", args.alpha);
    }
    let table = output::timed("read", || args.input.read(quiet))?.table;
    let npy = args.output.extension().is_some_and(|e| e == "npy");
    if args.precision == Precision::F32 {
        if !npy {
            bail!(
                "--precision f32 writes a .npy file (the condensed matrix); name the output OUT.npy"
            );
        }
        let condensed = output::timed("compute", || {
            output::with_progress(metric.name(), quiet, || {
                gutjoint_ecology::beta::beta_condensed_f32(&table, metric)
            })
        })?;
        return output::timed("write", || {
            write_npy(&args.output, table.sample_ids(), &condensed)
        });
    }
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
    let dm = output::timed("compute", || {
        output::with_progress(metric.name(), quiet, || {
            beta(&table, metric, phylo.as_ref())
        })
    })?;
    if npy {
        return output::timed("write", || {
            write_npy(&args.output, dm.ids(), dm.condensed())
        });
    }
    output::timed("write", || {
        gutjoint_table::write_atomic_with(&args.output, |w| dm.write_lsmat(w))?;
        Ok(())
    })
}

//! `gutjoint beta`: distance matrices.

use super::beta_merge::{Source, write_part};
use crate::input::TableArgs;
use crate::output;
use anyhow::{Result, bail};
use gutjoint_ecology::blocks::{Block, beta_block};
use gutjoint_ecology::{BetaMetric, beta};
use gutjoint_table::FeatureTable;
use std::path::PathBuf;

/// Beta diversity between all samples, written as a scikit-bio lsmat distance matrix.
/// Metrics: braycurtis, jaccard, aitchison (CLR with --pseudocount, default 1),
/// unweighted_unifrac, weighted_unifrac, weighted_normalized_unifrac,
/// generalized_unifrac (--alpha, default 0.5); UniFrac needs --tree.
///
/// Example:
///   gutjoint beta examples/data/phyloseq/GlobalPatterns.otu.tsv --metric unweighted_unifrac \
///       --tree examples/data/phyloseq/GlobalPatterns.tree.nwk -o uu.tsv
///
/// With --block I/N, computes only block I (1 to N) of the matrix — a stripe of rows holding
/// 1/N of the pairs — into a self-describing part file; `gutjoint beta-merge` joins the N
/// parts into the same matrix, bit for bit, and `gutjoint permanova --blocks` tests them.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    /// Metric.
    #[arg(long, value_name = "M", value_enum)]
    pub metric: crate::methods::BetaMetricName,
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
    /// Storage precision: f64, or f32 to halve memory (computed in f64, rounded once; with
    /// .npy output or --block). An f32 .npy is computed and written ~1 GiB at a time, so the
    /// whole matrix is never in memory.
    #[arg(long, value_enum, default_value_t = Precision::F64)]
    pub precision: Precision,
    /// With `--precision f32` and a .npy output: the bytes of distances computed and written at
    /// a time (the whole matrix is never held). Hidden: for tests of the blockwise writing.
    #[arg(long, hide = true, default_value_t = 1 << 30)]
    pub f32_block_bytes: usize,
    /// Compute block I of N only (1 ≤ I ≤ N) and write it as a part file for `beta-merge`.
    #[arg(long, value_name = "I/N")]
    pub block: Option<String>,
}

/// Parses `I/N` (1 ≤ I ≤ N) into a 0-based index and a count.
pub fn parse_fraction(text: &str, option: &str) -> Result<(usize, usize)> {
    let parsed = text.split_once('/').and_then(|(i, n)| {
        Some((
            i.trim().parse::<usize>().ok()?,
            n.trim().parse::<usize>().ok()?,
        ))
    });
    match parsed {
        Some((i, n)) if n >= 1 && (1..=n).contains(&i) => Ok((i - 1, n)),
        _ => bail!("{option} takes I/N with 1 ≤ I ≤ N (e.g. 2/8), got '{text}'"),
    }
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
    write_ids_beside(path, ids)
}

/// The f32 condensed matrix as a `.npy`, computed and written in blocks of rows of about
/// `--f32-block-bytes` (1 GiB), so that the whole matrix is never in memory: at 50,000 samples
/// it is 5 GB, which with the table and the kernel's copies made the peak 4.82 GiB; now it is
/// one block's worth. Each block holds the same bits as the same rows of a single run
/// ([`beta_block`]), so the file is the same whatever the block size. `--timings` reports the
/// compute and write phases summed over the blocks.
fn write_f32_npy(
    args: &Args,
    table: &FeatureTable,
    metric: BetaMetric,
    phylo: Option<&gutjoint_ecology::phylo::PhyloTable>,
    quiet: bool,
) -> Result<()> {
    use gutjoint_table::npy::{NpyElement, write_npy_header};
    let n = table.n_samples();
    let total = gutjoint_ecology::blocks::pairs_before(n, n);
    let count = (total * 4).div_ceil(args.f32_block_bytes.max(4)).max(1);
    let (mut compute, mut write) = (0.0, 0.0);
    // The computation's error, kept while the writer is told only to stop.
    let mut failed: Option<anyhow::Error> = None;
    let written = gutjoint_table::write_atomic_with(&args.output, |w| {
        write_npy_header::<f32>(total, w)?;
        for index in 0..count {
            let start = std::time::Instant::now();
            let values = Block::new(n, index, count).and_then(|block| {
                let label = if count == 1 {
                    metric.name().to_string()
                } else {
                    format!("{} block {}/{count}", metric.name(), index + 1)
                };
                output::with_progress(&label, quiet, || {
                    beta_block::<f32>(table, metric, phylo, &block)
                })
            });
            compute += start.elapsed().as_secs_f64();
            let values = match values {
                Ok(values) => values,
                Err(e) => {
                    failed = Some(e.into());
                    return Err(std::io::Error::other("the computation failed"));
                }
            };
            let start = std::time::Instant::now();
            f32::write_le(&values, w)?;
            write += start.elapsed().as_secs_f64();
        }
        Ok(())
    });
    if let Some(e) = failed {
        return Err(e);
    }
    written?;
    let start = std::time::Instant::now();
    write_ids_beside(&args.output, table.sample_ids())?;
    output::report_timing("compute", compute);
    output::report_timing("write", write + start.elapsed().as_secs_f64());
    Ok(())
}

/// The sample ids of a `.npy` matrix, one per line in `<OUT>.ids.txt`.
pub fn write_ids_beside(path: &std::path::Path, ids: &[String]) -> Result<()> {
    let mut text = ids.join("\n");
    text.push('\n');
    output::write_file(&gutjoint_table::npy::ids_path(path), text.as_bytes())
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let metric = BetaMetric::parse(args.metric.name(), args.alpha, args.pseudocount)?;
    if !(0.0..=1.0).contains(&args.alpha) {
        bail!("--alpha must be between 0 and 1, got {}", args.alpha);
    }
    let block = args
        .block
        .as_deref()
        .map(|b| parse_fraction(b, "--block"))
        .transpose()?;
    let npy = args.output.extension().is_some_and(|e| e == "npy");
    if args.precision == Precision::F32 && !npy && block.is_none() {
        bail!("--precision f32 writes a .npy file (the condensed matrix); name the output OUT.npy");
    }
    let table = output::timed("read", || args.input.read(quiet))?.table;
    let phylo = match (&args.tree, metric.is_phylogenetic()) {
        (Some(tree), true) => Some(super::ecology_args::phylo(
            &table,
            tree,
            args.drop_missing,
            quiet,
        )?),
        // The library's typed error, so that the top level adds the same `--tree` hint as for
        // every other command.
        (None, true) => {
            return Err(gutjoint_ecology::Error::NeedsTree {
                metric: metric.name().to_string(),
            }
            .into());
        }
        _ => None,
    };
    if let Some((index, count)) = block {
        return run_block(&args, &table, metric, phylo.as_ref(), index, count, quiet);
    }
    if args.precision == Precision::F32 {
        return write_f32_npy(&args, &table, metric, phylo.as_ref(), quiet);
    }
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

/// What the distances depend on besides the table and tree files: recorded in every part so
/// that parts of different computations cannot be merged.
fn source(args: &Args, metric: BetaMetric, table: &FeatureTable) -> Result<Source> {
    let taxonomy = args
        .input
        .taxonomy
        .as_deref()
        .map(super::beta_merge::file_sha256)
        .transpose()?;
    let mut parameters = serde_json::json!({
        "format": args.input.format,
        "samples_as_rows": args.input.samples_as_rows,
        "rank": args.input.rank,
        "taxonomy_sha256": taxonomy,
        "drop_missing": args.drop_missing,
    });
    match metric {
        BetaMetric::Aitchison { pseudocount } => parameters["pseudocount"] = pseudocount.into(),
        BetaMetric::GeneralizedUnifrac { alpha } => parameters["alpha"] = alpha.into(),
        _ => {}
    }
    Ok(Source {
        table_sha256: super::beta_merge::inputs_sha256(&args.input.table)?,
        tree_sha256: match (&args.tree, metric.is_phylogenetic()) {
            (Some(t), true) => Some(super::beta_merge::file_sha256(t)?),
            _ => None,
        },
        metric: metric.name().into(),
        parameters,
        precision: match args.precision {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
        .into(),
        n_samples: table.n_samples(),
        sample_ids_sha256: super::beta_merge::ids_sha256(table.sample_ids()),
    })
}

fn run_block(
    args: &Args,
    table: &FeatureTable,
    metric: BetaMetric,
    phylo: Option<&gutjoint_ecology::PhyloTable>,
    index: usize,
    count: usize,
    quiet: bool,
) -> Result<()> {
    let block = Block::new(table.n_samples(), index, count)?;
    let source = source(args, metric, table)?;
    let label = format!("{} block {}/{count}", metric.name(), index + 1);
    let job = BlockJob {
        table,
        metric,
        phylo,
        block: &block,
        label: &label,
        quiet,
    };
    match args.precision {
        Precision::F64 => job.write::<f64>(&args.output, source),
        Precision::F32 => job.write::<f32>(&args.output, source),
    }
}

/// One block to compute and write, in either precision.
struct BlockJob<'a> {
    table: &'a FeatureTable,
    metric: BetaMetric,
    phylo: Option<&'a gutjoint_ecology::PhyloTable>,
    block: &'a Block,
    label: &'a str,
    quiet: bool,
}

impl BlockJob<'_> {
    fn write<T>(&self, path: &std::path::Path, source: Source) -> Result<()>
    where
        T: gutjoint_ecology::pairwise::Precision + gutjoint_table::npy::NpyElement,
    {
        let values = output::timed("compute", || {
            output::with_progress(self.label, self.quiet, || {
                beta_block::<T>(self.table, self.metric, self.phylo, self.block)
            })
        })?;
        output::timed("write", || {
            write_part(path, source, self.table.sample_ids(), self.block, &values)
        })
    }
}

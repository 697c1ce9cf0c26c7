//! `gutjoint permanova` and `gutjoint permdisp`: do groups differ in location or spread?

use crate::output;
use anyhow::Result;
use clap::ValueEnum;
use gutjoint_ecology::{DispersionCentre, PermutationTest, permanova, permdisp};
use gutjoint_table::read_distance_file;
use serde::Serialize;
use std::path::PathBuf;

/// PERMANOVA: pseudo-F and permutation p-value = (hits + 1) / (permutations + 1), as
/// scikit-bio. Samples with no value in the column are dropped and reported.
///
/// Example:
///   gutjoint permanova bc.tsv --metadata examples/data/phyloseq/enterotype.metadata.tsv \
///       --column SeqTech --permutations 999 --seed 1 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Distance matrix (lsmat TSV).
    #[arg(value_name = "DM.tsv")]
    pub matrix: PathBuf,
    /// QIIME 2 metadata file.
    #[arg(long, value_name = "MD.tsv")]
    pub metadata: PathBuf,
    /// Grouping column.
    #[arg(long, value_name = "C")]
    pub column: String,
    /// Number of permutations.
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
    /// Seed of the permutation generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the result as JSON (the default output is a two-column TSV).
    #[arg(long)]
    pub json: bool,
}

/// PERMDISP: homogeneity of group dispersions (distances to the group's spatial median or
/// centroid in PCoA space, one-way ANOVA F), as scikit-bio.
///
/// Example:
///   gutjoint permdisp bc.tsv --metadata examples/data/phyloseq/enterotype.metadata.tsv \
///       --column Enterotype --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DispArgs {
    #[command(flatten)]
    pub common: Args,
    /// Group centre.
    #[arg(long, value_enum, default_value_t = Centre::Median)]
    pub test: Centre,
    /// PCoA axes used (scikit-bio's default 10; 0 = all).
    #[arg(long, default_value_t = 10)]
    pub dimensions: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Centre {
    Median,
    Centroid,
}

#[derive(Serialize)]
struct Report {
    #[serde(flatten)]
    test: PermutationTest,
    column: String,
    seed: u64,
    groups: Vec<String>,
    dropped_missing_value: Vec<String>,
    dropped_not_in_metadata: Vec<String>,
    software: String,
}

fn report(
    test: PermutationTest,
    args: &Args,
    g: super::ecology_args::GroupedMatrix,
    quiet: bool,
) -> Result<()> {
    if !quiet && (!g.dropped_missing_value.is_empty() || !g.dropped_not_in_metadata.is_empty()) {
        eprintln!(
            "note: dropped {} samples with no value in '{}' and {} absent from the metadata",
            g.dropped_missing_value.len(),
            args.column,
            g.dropped_not_in_metadata.len()
        );
    }
    let r = Report {
        test,
        column: args.column.clone(),
        seed: args.seed,
        groups: g.grouping.names,
        dropped_missing_value: g.dropped_missing_value,
        dropped_not_in_metadata: g.dropped_not_in_metadata,
        software: output::generated_by(),
    };
    if args.json {
        return output::print_json(&r);
    }
    let p = r.test.p_value.map_or("NaN".to_string(), |p| p.to_string());
    output::print(&format!(
        "method name\t{}\ntest statistic name\t{}\nsample size\t{}\nnumber of groups\t{}\ntest statistic\t{}\np-value\t{}\nnumber of permutations\t{}\n",
        r.test.method,
        r.test.test_statistic_name,
        r.test.sample_size,
        r.test.number_of_groups,
        r.test.test_statistic,
        p,
        r.test.permutations
    ))
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let dm = output::timed("read", || read_distance_file(&args.matrix))?;
    let g = super::ecology_args::grouped(dm, &args.metadata, &args.column)?;
    let test = output::timed("compute", || {
        output::with_progress("PERMANOVA permutations", quiet, || {
            permanova(&g.dm, &g.grouping, args.permutations, args.seed)
        })
    })?;
    report(test, &args, g, quiet)
}

pub fn run_disp(args: DispArgs, quiet: bool) -> Result<()> {
    let common = args.common;
    let g = super::ecology_args::grouped(
        read_distance_file(&common.matrix)?,
        &common.metadata,
        &common.column,
    )?;
    let centre = match args.test {
        Centre::Median => DispersionCentre::Median,
        Centre::Centroid => DispersionCentre::Centroid,
    };
    let test = output::with_progress("PERMDISP permutations", quiet, || {
        permdisp(
            &g.dm,
            &g.grouping,
            common.permutations,
            common.seed,
            centre,
            args.dimensions,
        )
    })?;
    report(test, &common, g, quiet)
}

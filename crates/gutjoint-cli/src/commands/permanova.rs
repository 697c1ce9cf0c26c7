//! `gutjoint permanova` and `gutjoint permdisp`: do groups differ in location or spread?

use crate::output;
use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use gutjoint_ecology::{DispersionCentre, PermutationTest, Strata, permanova_within, permdisp};
use gutjoint_table::{read_distance_file, read_metadata_file};
use serde::Serialize;
use std::path::PathBuf;

/// PERMANOVA: pseudo-F and permutation p-value = (hits + 1) / (permutations + 1), as
/// scikit-bio. Samples with no value in the column are dropped and reported.
/// With --strata COL, labels are permuted only within the levels of COL (a sequencing run, a
/// study), as vegan's adonis2(..., strata = COL): the pseudo-F is unchanged, the p-value asks
/// whether the groups differ within strata. Every sample needs a stratum value.
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
    /// Permute only within the levels of this column (PERMANOVA only).
    #[arg(long, value_name = "COL")]
    pub strata: Option<String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    strata: Option<StrataReport>,
    seed: u64,
    groups: Vec<String>,
    dropped_missing_value: Vec<String>,
    dropped_not_in_metadata: Vec<String>,
    software: String,
}

#[derive(Serialize)]
struct StrataReport {
    column: String,
    levels: Vec<String>,
}

fn report(
    test: PermutationTest,
    args: &Args,
    g: super::ecology_args::GroupedMatrix,
    strata: Option<StrataReport>,
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
        strata,
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
    let strata = match &args.strata {
        Some(col) => Some(strata_of(&g, &args.metadata, col)?),
        None => None,
    };
    let test = output::timed("compute", || {
        output::with_progress("PERMANOVA permutations", quiet, || {
            permanova_within(
                &g.dm,
                &g.grouping,
                args.permutations,
                args.seed,
                strata.as_ref(),
            )
        })
    })
    .with_context(|| match &args.strata {
        Some(col) => format!("permutations within '{col}'"),
        None => "PERMANOVA".into(),
    })?;
    let strata = strata
        .zip(args.strata.clone())
        .map(|(s, column)| StrataReport {
            column,
            levels: s.names,
        });
    report(test, &args, g, strata, quiet)
}

/// The strata of the grouped samples; a missing value is an error naming the sample.
fn strata_of(
    g: &super::ecology_args::GroupedMatrix,
    metadata: &std::path::Path,
    column: &str,
) -> Result<Strata> {
    let md = read_metadata_file(metadata)?;
    let col = crate::input::metadata_column(&md, metadata, column)?;
    let index = md.index();
    let mut values = Vec::with_capacity(g.dm.len());
    for id in g.dm.ids() {
        match index.get(id.as_str()).and_then(|&r| col.text(r)) {
            Some(v) => values.push(v),
            None => bail!(
                "{}: sample '{id}' has no value in strata column '{column}'; every sample needs a stratum (drop it or give it one)",
                metadata.display()
            ),
        }
    }
    let strata = Strata::from_values(&values);
    if strata.names.len() < 2 {
        bail!(
            "{}: strata column '{column}' has a single level ('{}') among the samples used; permutations within it are the unrestricted ones",
            metadata.display(),
            strata.names[0]
        );
    }
    Ok(strata)
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
    if common.strata.is_some() {
        bail!("--strata is for PERMANOVA; PERMDISP permutes freely");
    }
    report(test, &common, g, None, quiet)
}

//! `gutjoint permanova` and `gutjoint permdisp`: do groups differ in location or spread?

use super::beta_merge::{Source, block_order, difference, hex, read_part_header, read_payload};
use super::ecology_args::{Groups, groups_of};
use crate::output;
use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use gutjoint_ecology::blocks::{
    PermanovaDesign, PermanovaPartial, permanova_map, permanova_reduce,
};
use gutjoint_ecology::{DispersionCentre, PermutationTest, Strata, permanova_within, permdisp};
use gutjoint_table::{read_distance_file, read_metadata_file};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// PERMANOVA: pseudo-F and permutation p-value = (hits + 1) / (permutations + 1), as
/// scikit-bio. Samples with no value in the column are dropped and reported.
/// With --strata COL, labels are permuted only within the levels of COL (a sequencing run, a
/// study), as vegan's adonis2(..., strata = COL): the pseudo-F is unchanged, the p-value asks
/// whether the groups differ within strata. Every sample needs a stratum value.
///
/// Example:
///   gutjoint permanova bc.tsv --metadata examples/data/phyloseq/enterotype.metadata.tsv \
///       --column SeqTech --permutations 999 --seed 1 --json
///
/// With --blocks PART…, tests the matrix from the parts of `gutjoint beta --block I/N` without
/// assembling it (map: each part's sums for the observed labels and every permutation;
/// reduce: their totals); `permanova-map` and `permanova-reduce` run the two steps apart.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Distance matrix: lsmat TSV, or `.npy` (condensed or square, ids in `<DM>.npy.ids.txt`,
    /// as `beta -o DM.npy` writes; read without parsing text).
    #[arg(value_name = "DM.tsv", required_unless_present = "blocks")]
    pub matrix: Option<PathBuf>,
    /// The parts of a blockwise matrix (`gutjoint beta --block I/N`), instead of DM.tsv.
    #[arg(long, value_name = "PART", num_args = 1.., conflicts_with = "matrix")]
    pub blocks: Vec<PathBuf>,
    #[command(flatten)]
    pub design: Design,
    /// Print the result as JSON (the default output is a two-column TSV).
    #[arg(long)]
    pub json: bool,
}

/// The grouping and permutations of a test, shared by `permanova`, `permdisp` and
/// `permanova-map`.
#[derive(Debug, clap::Args)]
pub struct Design {
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

#[derive(Debug, Serialize, Deserialize, Clone, PartialEq)]
struct StrataReport {
    column: String,
    levels: Vec<String>,
}

fn report(
    test: PermutationTest,
    args: &Args,
    g: Groups,
    strata: Option<StrataReport>,
    quiet: bool,
) -> Result<()> {
    let r = Report {
        test,
        column: args.design.column.clone(),
        strata,
        seed: args.design.seed,
        groups: g.grouping.names,
        dropped_missing_value: g.dropped_missing_value,
        dropped_not_in_metadata: g.dropped_not_in_metadata,
        software: output::generated_by(),
    };
    note_dropped(&r, quiet);
    print_report(&r, args.json)
}

fn print_report(r: &Report, json: bool) -> Result<()> {
    if json {
        return output::print_json(r);
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
    let Some(matrix) = &args.matrix else {
        return run_blocks(&args, quiet);
    };
    let dm = output::timed("read", || read_distance_file(matrix))?;
    let g = super::ecology_args::grouped(dm, &args.design.metadata, &args.design.column)?;
    let strata = match &args.design.strata {
        Some(col) => Some(strata_of(g.dm.ids(), &args.design.metadata, col)?),
        None => None,
    };
    let test = output::timed("compute", || {
        output::with_progress("PERMANOVA permutations", quiet, || {
            permanova_within(
                &g.dm,
                &g.grouping,
                args.design.permutations,
                args.design.seed,
                strata.as_ref(),
            )
        })
    })
    .with_context(|| match &args.design.strata {
        Some(col) => format!("permutations within '{col}'"),
        None => "PERMANOVA".into(),
    })?;
    let strata = strata
        .zip(args.design.strata.clone())
        .map(|(s, column)| StrataReport {
            column,
            levels: s.names,
        });
    report(test, &args, groups_of_matrix(g), strata, quiet)
}

/// The grouping of a matrix that has been tested (its samples no longer needed).
fn groups_of_matrix(g: super::ecology_args::GroupedMatrix) -> Groups {
    Groups {
        keep: Vec::new(),
        grouping: g.grouping,
        dropped_missing_value: g.dropped_missing_value,
        dropped_not_in_metadata: g.dropped_not_in_metadata,
    }
}

/// The strata of the grouped samples `ids`; a missing value is an error naming the sample.
fn strata_of(ids: &[String], metadata: &std::path::Path, column: &str) -> Result<Strata> {
    let md = read_metadata_file(metadata)?;
    let col = crate::input::metadata_column(&md, metadata, column)?;
    let index = md.index();
    let mut values = Vec::with_capacity(ids.len());
    for id in ids {
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
    let Some(matrix) = &common.matrix else {
        bail!(
            "PERMDISP needs the whole matrix (its PCoA); merge the parts with `gutjoint beta-merge` first"
        );
    };
    let g = super::ecology_args::grouped(
        read_distance_file(matrix)?,
        &common.design.metadata,
        &common.design.column,
    )?;
    let centre = match args.test {
        Centre::Median => DispersionCentre::Median,
        Centre::Centroid => DispersionCentre::Centroid,
    };
    let test = output::with_progress("PERMDISP permutations", quiet, || {
        permdisp(
            &g.dm,
            &g.grouping,
            common.design.permutations,
            common.design.seed,
            centre,
            args.dimensions,
        )
    })?;
    if common.design.strata.is_some() {
        bail!("--strata is for PERMANOVA; PERMDISP permutes freely");
    }
    report(test, &common, groups_of_matrix(g), None, quiet)
}

/// PERMANOVA's map step on one part of a blockwise matrix (`gutjoint beta --block I/N`): the
/// part's sums of squared distances for the observed labels and for every permutation (drawn
/// from --seed exactly as `gutjoint permanova` draws them), written as JSON for
/// `permanova-reduce`.
///
/// Example:
///   gutjoint permanova-map bc.2.part --metadata md.tsv --column group --seed 1 -o bc.2.sums.json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct MapArgs {
    /// One part file.
    #[arg(value_name = "PART")]
    pub part: PathBuf,
    #[command(flatten)]
    pub design: Design,
    /// Output JSON of partial sums.
    #[arg(short, long, value_name = "SUMS.json")]
    pub output: PathBuf,
}

/// PERMANOVA's reduce step: adds the partial sums of every block (`permanova-map`) and prints
/// the result as `gutjoint permanova` does. Checks that the sums come from one matrix, one
/// grouping and one set of permutations, each block exactly once.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ReduceArgs {
    /// Partial sums (any order).
    #[arg(value_name = "SUMS.json", required = true)]
    pub sums: Vec<PathBuf>,
    /// Print the result as JSON (the default output is a two-column TSV).
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON result to this file.
    #[arg(short, long, value_name = "OUT.json")]
    pub output: Option<PathBuf>,
}

/// One block's PERMANOVA sums, and everything the reduce step must find equal across blocks.
#[derive(Debug, Serialize, Deserialize)]
struct PartialFile {
    format: String,
    version: u32,
    software: String,
    source: Source,
    block: usize,
    blocks: usize,
    design: DesignRecord,
    total: f64,
    within: Vec<f64>,
    permuted: Vec<f64>,
    /// SHA-256 of the sums' little-endian bytes (total, within, permuted).
    sums_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DesignRecord {
    metadata_sha256: String,
    column: String,
    strata: Option<StrataReport>,
    permutations: usize,
    seed: u64,
    groups: Vec<String>,
    group_sizes: Vec<usize>,
    dropped_missing_value: Vec<String>,
    dropped_not_in_metadata: Vec<String>,
}

fn sums_sha256(total: f64, within: &[f64], permuted: &[f64]) -> String {
    let mut h = Sha256::new();
    for v in std::iter::once(&total).chain(within).chain(permuted) {
        h.update(v.to_le_bytes());
    }
    hex(&h.finalize())
}

fn map_part(part: &Path, o: &Design, quiet: bool) -> Result<PartialFile> {
    let (header, reader) = read_part_header(part)?;
    let block = header.placement.block(header.source.n_samples, part)?;
    let values = read_payload(part, &header, reader)?.into_f64();
    let ids = &header.sample_ids;
    let g = groups_of(ids, &o.metadata, &o.column)?;
    let kept_ids: Vec<String> = g.keep.iter().map(|&i| ids[i].clone()).collect();
    let strata = o
        .strata
        .as_deref()
        .map(|c| strata_of(&kept_ids, &o.metadata, c))
        .transpose()?;
    let mut kept = vec![None; ids.len()];
    for (k, &i) in g.keep.iter().enumerate() {
        kept[i] = Some(k);
    }
    let design = PermanovaDesign {
        kept,
        grouping: g.grouping.clone(),
        strata: strata.clone(),
        permutations: o.permutations,
        seed: o.seed,
    };
    let partial = output::with_progress(
        &format!("PERMANOVA block {}/{}", block.index + 1, block.count),
        quiet,
        || permanova_map(&values, &block, &design),
    )
    .with_context(|| format!("{}: PERMANOVA map", part.display()))?;
    Ok(PartialFile {
        format: "gutjoint-permanova-partial".into(),
        version: 1,
        software: output::generated_by(),
        source: header.source,
        block: block.index + 1,
        blocks: block.count,
        design: DesignRecord {
            metadata_sha256: super::beta_merge::file_sha256(&o.metadata)?,
            column: o.column.clone(),
            strata: strata
                .zip(o.strata.clone())
                .map(|(s, column)| StrataReport {
                    column,
                    levels: s.names,
                }),
            permutations: o.permutations,
            seed: o.seed,
            group_sizes: design.group_sizes(),
            groups: g.grouping.names,
            dropped_missing_value: g.dropped_missing_value,
            dropped_not_in_metadata: g.dropped_not_in_metadata,
        },
        sums_sha256: sums_sha256(partial.total, &partial.within, &partial.permuted),
        total: partial.total,
        within: partial.within,
        permuted: partial.permuted,
    })
}

/// Checks that the partial sums belong together and reduces them to the report.
fn reduce(files: Vec<(PathBuf, PartialFile)>) -> Result<Report> {
    let (first_path, first) = &files[0];
    for (p, f) in &files {
        if f.format != "gutjoint-permanova-partial" || f.version != 1 {
            bail!(
                "{}: not a version-1 PERMANOVA partial-sums file (format '{}', version {})",
                p.display(),
                f.format,
                f.version
            );
        }
        if sums_sha256(f.total, &f.within, &f.permuted) != f.sums_sha256 {
            bail!(
                "{}: corrupt partial sums: their SHA-256 differs from the recorded one",
                p.display()
            );
        }
        if let Some(diff) = difference(&first.source, &f.source) {
            bail!(
                "{} and {} are sums over different matrices ({diff})",
                first_path.display(),
                p.display()
            );
        }
        if f.design != first.design || f.blocks != first.blocks {
            bail!(
                "{} and {} were mapped with different metadata, column, strata, permutations, seed or block count; map every block with the same options",
                first_path.display(),
                p.display()
            );
        }
    }
    let placed: Vec<(&Path, usize)> = files.iter().map(|(p, f)| (p.as_path(), f.block)).collect();
    let order = block_order(&placed, first.blocks, "gutjoint permanova-map")?;
    let partials: Vec<PermanovaPartial> = order
        .iter()
        .map(|&k| PermanovaPartial {
            total: files[k].1.total,
            within: files[k].1.within.clone(),
            permuted: files[k].1.permuted.clone(),
        })
        .collect();
    let d = &first.design;
    let test = permanova_reduce(&partials, &d.group_sizes, d.permutations)?;
    Ok(Report {
        test,
        column: d.column.clone(),
        strata: d.strata.clone(),
        seed: d.seed,
        groups: d.groups.clone(),
        dropped_missing_value: d.dropped_missing_value.clone(),
        dropped_not_in_metadata: d.dropped_not_in_metadata.clone(),
        software: output::generated_by(),
    })
}

fn note_dropped(r: &Report, quiet: bool) {
    if !quiet && (!r.dropped_missing_value.is_empty() || !r.dropped_not_in_metadata.is_empty()) {
        eprintln!(
            "note: dropped {} samples with no value in '{}' and {} absent from the metadata",
            r.dropped_missing_value.len(),
            r.column,
            r.dropped_not_in_metadata.len()
        );
    }
}

fn run_blocks(args: &Args, quiet: bool) -> Result<()> {
    let files = output::timed("compute", || {
        args.blocks
            .iter()
            .map(|p| Ok((p.clone(), map_part(p, &args.design, quiet)?)))
            .collect::<Result<Vec<_>>>()
    })?;
    let r = reduce(files)?;
    note_dropped(&r, quiet);
    print_report(&r, args.json)
}

pub fn run_map(args: MapArgs, quiet: bool) -> Result<()> {
    let file = map_part(&args.part, &args.design, quiet)?;
    let mut text = serde_json::to_string(&file)?;
    text.push('\n');
    output::write_file(&args.output, text.as_bytes())
}

pub fn run_reduce(args: ReduceArgs, quiet: bool) -> Result<()> {
    let mut files = Vec::with_capacity(args.sums.len());
    for p in &args.sums {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("{}: cannot read the partial sums", p.display()))?;
        let f: PartialFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a PERMANOVA partial-sums file (written by `gutjoint permanova-map`)",
                p.display()
            )
        })?;
        files.push((p.clone(), f));
    }
    let r = reduce(files)?;
    note_dropped(&r, quiet);
    if let Some(out) = &args.output {
        let mut text = serde_json::to_string_pretty(&r)?;
        text.push('\n');
        output::write_file(out, text.as_bytes())?;
    }
    print_report(&r, args.json)
}

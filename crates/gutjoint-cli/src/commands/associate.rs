//! `gutjoint associate`: microbial features against host markers and disease activity.

use crate::input::TableArgs;
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_stats::associate::associate_within;
use gutjoint_stats::da::default_pseudocount;
use gutjoint_stats::parse_covariates;
use gutjoint_table::read_metadata_file;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Host–microbe associations: for each feature and host variable (faecal calprotectin, CRP,
/// BASDAI, ASDAS, serum SCFA…), a linear model log10(feature + pseudocount) ~ host + covariates
/// (estimate, se, p, q by BH within each host variable), and Spearman and partial Spearman
/// correlations of the feature's CLR with the host variable given the covariates. Samples
/// missing a host value are dropped for that variable only; `n` reports how many remained.
///
/// Example:
///   gutjoint associate examples/data/gespic/gespic_genus.tsv --metadata examples/data/gespic/gespic_metadata.tsv \
///       --where group=axSpA --with CRP,BASDAI --adjust "age + C(sex) + NSAID_current" -o assoc.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    #[arg(long, value_name = "MD")]
    pub metadata: PathBuf,
    /// Host variables (numeric metadata columns), comma-separated.
    #[arg(
        long = "with",
        value_delimiter = ',',
        required = true,
        value_name = "V1,V2"
    )]
    pub hosts: Vec<String>,
    /// Adjustment covariates as a formula right-hand side (`age + C(sex)`) or a comma list.
    #[arg(long, value_name = "COVARIATES")]
    pub adjust: Option<String>,
    /// Batch column (sequencing run, study): checked (one level is an error) and added to the
    /// covariates as C(COL).
    #[arg(long, value_name = "COL")]
    pub batch: Option<String>,
    /// Analyse only samples with COLUMN=VALUE (e.g. group=axSpA).
    #[arg(long = "where", value_name = "COL=VALUE")]
    pub where_: Option<String>,
    /// Pseudocount for log10 and CLR (default: half the smallest nonzero relative abundance).
    #[arg(long)]
    pub pseudocount: Option<f64>,
    /// Features tested: taxa (the table's features), guilds (knowledge/guilds.tsv), or both.
    #[arg(long, default_value = "taxa")]
    pub features: String,
    /// Repeated samples of the same subjects: the metadata column naming each sample's subject;
    /// the host coefficient then comes from a linear mixed model with a random intercept per
    /// subject (REML, Satterthwaite df) instead of OLS.
    #[arg(long, value_name = "COL")]
    pub subject: Option<String>,
    /// Multiple-testing adjustment within each host variable: bh, holm, bonferroni, none.
    #[arg(long, value_enum, ignore_case = true, default_value_t = crate::methods::PAdjustName::Bh)]
    pub p_adjust: crate::methods::PAdjustName,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let adjust = args.p_adjust.adjust();
    let mut covariates = match &args.adjust {
        Some(text) if !text.trim().is_empty() => parse_covariates(text)?,
        _ => Vec::new(),
    };
    let mut table = args.input.read(quiet)?.table;
    let md = read_metadata_file(&args.metadata)?;
    if let Some(w) = &args.where_ {
        let (c, v) = w
            .split_once('=')
            .with_context(|| format!("--where '{w}': expected COLUMN=VALUE"))?;
        let col = md
            .column(c)
            .with_context(|| format!("{}: no column '{c}'", args.metadata.display()))?;
        let index = md.index();
        let keep: Vec<usize> = (0..table.n_samples())
            .filter(|&s| {
                index
                    .get(table.sample_ids()[s].as_str())
                    .and_then(|&r| col.text(r))
                    .as_deref()
                    == Some(v)
            })
            .collect();
        if keep.is_empty() {
            bail!(
                "no sample of the table has {c}={v} in {}",
                args.metadata.display()
            );
        }
        table = table.select_samples(&keep);
    }
    let table = match args.features.as_str() {
        "taxa" => table,
        "guilds" | "both" => {
            let kb = gutjoint_knowledge::KnowledgeBase::embedded()?;
            let guilds = gutjoint_axis::guilds::guild_profile(
                &kb,
                &gutjoint_knowledge::embedded_guilds()?,
                &table,
            )
            .to_table()?;
            if args.features == "guilds" {
                guilds
            } else {
                table.to_relative().concat_features(&guilds)?
            }
        }
        other => bail!("unknown --features '{other}'; expected taxa, guilds or both"),
    };
    if let Some(batch) = &args.batch
        && let Some(t) = super::batch::batch_term(
            &md,
            &args.metadata,
            table.sample_ids(),
            batch,
            None,
            &covariates,
            quiet,
        )?
    {
        covariates.push(t);
    }
    let pseudocount = args
        .pseudocount
        .unwrap_or_else(|| default_pseudocount(&table));
    let rows = associate_within(
        &table,
        &md,
        &args.hosts,
        &covariates,
        args.subject.as_deref(),
        pseudocount,
        adjust,
    )
    .with_context(|| args.metadata.display().to_string())?;
    if !quiet {
        let mut seen = std::collections::BTreeMap::new();
        for r in &rows {
            seen.entry(r.host_variable.clone()).or_insert(r.n);
        }
        for (h, n) in seen {
            eprintln!(
                "note: {h}: {n} of {} samples have a value (and every covariate)",
                table.n_samples()
            );
        }
    }
    let mut text = String::from(
        "feature\thost_variable\tn\testimate\tse\tp\tq\tspearman_r\tspearman_p\tpartial_r\tpartial_p\n",
    );
    for r in &rows {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.feature,
            r.host_variable,
            r.n,
            r.estimate,
            r.se,
            r.p,
            r.q,
            r.spearman_r,
            r.spearman_p,
            r.partial_r,
            r.partial_p
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

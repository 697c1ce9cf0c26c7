//! `gutjoint da`: differential abundance with covariates.

use crate::input::TableArgs;
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_stats::da::{Transform, default_pseudocount, linear_models};
use gutjoint_stats::{Adjust, design, parse_formula};
use gutjoint_table::read_metadata_file;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Differential abundance: one model per feature with the formula's covariates, every term
/// reported with estimate, standard error, statistic, p and q (BH within each term), then the
/// prevalence and mean relative abundance of the feature in each level of the first
/// categorical term. Methods: `lm` (linear model on log10(x + pseudocount) or arcsine square
/// root; statsmodels OLS numbers). ANCOM-BC and the Dirichlet-multinomial t-test are not
/// implemented yet and are refused by name.
///
/// Example:
///   gutjoint da examples/data/gespic/gespic_genus.tsv --metadata examples/data/gespic/gespic_metadata.tsv \
///       --formula "group + age + C(sex) + NSAID_current" --reference group=healthy -o da.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    #[arg(long, value_name = "MD")]
    pub metadata: PathBuf,
    /// Right-hand side of the model: `group + age + C(sex)`; C(x) makes x categorical.
    #[arg(long)]
    pub formula: String,
    /// Reference level of a categorical term, as COLUMN=LEVEL (repeatable).
    #[arg(long = "reference", value_name = "COL=LEVEL")]
    pub references: Vec<String>,
    /// Method: lm.
    #[arg(long, default_value = "lm")]
    pub method: String,
    /// Transform for lm: log10 or asin-sqrt.
    #[arg(long, default_value = "log10")]
    pub transform: String,
    /// Pseudocount for log10 (default: half the smallest nonzero relative abundance).
    #[arg(long)]
    pub pseudocount: Option<f64>,
    /// Multiple-testing adjustment: bh, holm, bonferroni, none.
    #[arg(long, default_value = "bh")]
    pub p_adjust: String,
    /// Keep features present in at least this fraction of the analysed samples.
    #[arg(long, default_value_t = 0.0)]
    pub min_prevalence: f64,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    match args.method.as_str() {
        "lm" => {}
        "ancombc" | "dirmult-ttest" => bail!(
            "--method {} is not implemented yet in this version; use --method lm",
            args.method
        ),
        other => bail!("unknown --method '{other}'; expected lm"),
    }
    let adjust = Adjust::parse(&args.p_adjust).with_context(|| {
        format!(
            "unknown --p-adjust '{}'; expected bh, holm, bonferroni or none",
            args.p_adjust
        )
    })?;
    let mut references = BTreeMap::new();
    for r in &args.references {
        let (c, l) = r
            .split_once('=')
            .with_context(|| format!("--reference '{r}': expected COLUMN=LEVEL"))?;
        references.insert(c.trim().to_string(), l.trim().to_string());
    }
    let terms = parse_formula(&args.formula)?;
    let table = args.input.read(quiet)?.table;
    let md = read_metadata_file(&args.metadata)?;
    let d = design(&md, table.sample_ids(), &terms, &references)
        .with_context(|| args.metadata.display().to_string())?;
    if !quiet && !d.dropped.is_empty() {
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, c) in &d.dropped {
            *by.entry(c.as_str()).or_default() += 1;
        }
        let reasons: Vec<String> = by
            .iter()
            .map(|(c, n)| format!("{n} missing '{c}'"))
            .collect();
        eprintln!(
            "note: dropped {} samples ({}); {} analysed",
            d.dropped.len(),
            reasons.join(", "),
            d.n
        );
    }
    // Restrict to the analysed samples, then to prevalent features.
    let index = table.sample_index();
    let keep: Vec<usize> = d.sample_ids.iter().map(|id| index[id.as_str()]).collect();
    let used = table.select_samples(&keep);
    let mut present = vec![0usize; used.n_features()];
    for &f in used.indices() {
        present[f as usize] += 1;
    }
    let features: Vec<usize> = (0..used.n_features())
        .filter(|&f| {
            present[f] as f64 >= args.min_prevalence * used.n_samples() as f64 && present[f] > 0
        })
        .collect();
    let used = used.select_features(&features);
    let transform = match args.transform.as_str() {
        "log10" | "log" => Transform::Log10 {
            pseudocount: args
                .pseudocount
                .unwrap_or_else(|| default_pseudocount(&used)),
        },
        "asin-sqrt" | "arcsine" => Transform::ArcsineSqrt,
        other => bail!("unknown --transform '{other}'; expected log10 or asin-sqrt"),
    };
    let coefficients = linear_models(&used, &d, transform, adjust)?;
    // Per-level prevalence and mean of the first categorical term.
    let group_col = terms
        .iter()
        .map(|t| t.column.clone())
        .find(|c| d.references.contains_key(c));
    let levels: Vec<(String, Vec<usize>)> = match &group_col {
        Some(c) => {
            let col = md.column(c).context("column")?;
            let mdi = md.index();
            let values: Vec<String> = d
                .sample_ids
                .iter()
                .map(|id| col.text(mdi[id.as_str()]).unwrap_or_default())
                .collect();
            let mut names = values.clone();
            names.sort();
            names.dedup();
            names
                .into_iter()
                .map(|n| {
                    let members = (0..values.len()).filter(|&i| values[i] == n).collect();
                    (n, members)
                })
                .collect()
        }
        None => Vec::new(),
    };
    let rel = if used.kind() == gutjoint_table::ValueKind::Counts {
        used.to_relative()
    } else {
        used.clone()
    };
    let mut text = String::from("feature\tlineage\tterm\testimate\tse\tstatistic\tp\tq");
    for (l, _) in &levels {
        let _ = write!(text, "\tprevalence[{l}]\tmean[{l}]");
    }
    text.push('\n');
    let feature_index: std::collections::HashMap<&str, usize> = rel
        .feature_ids()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    for c in &coefficients {
        let f = feature_index[c.feature.as_str()];
        let _ = write!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.feature,
            rel.lineage(f),
            c.term,
            c.estimate,
            c.se,
            c.statistic,
            c.p,
            c.q
        );
        for (_, members) in &levels {
            let values: Vec<f64> = members.iter().map(|&s| rel.get(s, f)).collect();
            let prevalence =
                values.iter().filter(|v| **v > 0.0).count() as f64 / values.len() as f64;
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let _ = write!(text, "\t{prevalence}\t{mean}");
        }
        text.push('\n');
    }
    match &args.output {
        Some(p) => output::write_file(p, text.as_bytes()),
        None => output::print(&text),
    }
}

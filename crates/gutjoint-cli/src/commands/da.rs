//! `gutjoint da`: differential abundance with covariates.

use crate::input::TableArgs;
use crate::methods::DaMethodName;
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_stats::ancombc;
use gutjoint_stats::da::{Coefficient, Transform, default_pseudocount, linear_models};
use gutjoint_stats::design::{add_interactions, split_interactions};
use gutjoint_stats::dirmult::DirmultLmeRow;
use gutjoint_stats::lmm::{LmmResult, mixed_models};
use gutjoint_stats::{Adjust, design, parse_formula};
use gutjoint_table::{ValueKind, read_metadata_file};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Differential abundance: one model per feature with the formula's covariates, every term
/// reported with estimate, standard error, statistic, p and q (adjusted within each term across
/// features), then the prevalence and mean relative abundance of the feature in each level of
/// the first categorical term. Methods:
///   lm             linear model on log10(x + pseudocount) or arcsine square root (statsmodels
///                  OLS numbers); q by BH unless --p-adjust.
///   ancombc        ANCOM-BC (Lin & Peddada 2020) as scikit-bio 0.7.4's ancombc: natural-log
///                  fold changes corrected for the per-term sampling bias, sandwich standard
///                  errors, W = estimate/se, normal p; q by Holm unless --p-adjust. The table's
///                  values are used as they are (counts or proportions) plus the pseudocount
///                  (default 1 for counts, half the smallest nonzero value for proportions).
///   lmm            linear mixed model for repeated measures (same subject sampled more than
///                  once): the lm transform, a random intercept per --subject (and a random
///                  slope for --random-slope), REML as R's lme4; p from Student's t with
///                  Satterthwaite degrees of freedom as R's lmerTest. Adds df, the subject and
///                  residual variances and the number of subjects. q by BH unless --p-adjust.
///   ancombc2       ANCOM-BC2 (Lin & Peddada 2024) as scikit-bio 0.7.4's ancombc2 with a
///                  pseudocount: per-sample sampling fractions estimated and removed, the model
///                  refitted; se widened by the bias uncertainty plus the --var-quantile
///                  quantile of the term's variances; p from Student's t with n - p df; q by
///                  Holm unless --p-adjust. Fixed effects only (scikit-bio has no random effect
///                  for it): with repeated samples per subject use dirmult-lme or lmm.
///   dirmult-lme    Dirichlet-multinomial mixed model as scikit-bio's dirmult_lme: per posterior
///                  draw (seeded) the CLR of every sample, then per feature the REML model
///                  with a random intercept per --subject; means over draws of the log2 fold
///                  change and of the normal p, the widest 95% bounds; q by Holm across each
///                  feature's terms (scikit-bio's family); significant = q <= 0.05 and the
///                  bounds exclude 0. Counts required (or --counts-scale).
///   all            consensus (Nearing et al. 2022: results depend on the method): lm,
///                  ancombc and ancombc2, plus lmm and dirmult-lme with --subject, on the same
///                  samples and features; per feature and term each method's estimate, q and
///                  call (q <= 0.05), how many call it and whether they agree in direction.
///   dirmult-ttest  ALDEx2-style Dirichlet-multinomial CLR Welch t-test of the first
///                  categorical term's --treatment level against its reference, as scikit-bio's
///                  dirmult_ttest; seeded; counts required, or --counts-scale for relative data.
///
/// Examples:
///   gutjoint da examples/data/gespic/gespic_genus.tsv --metadata examples/data/gespic/gespic_metadata.tsv \
///       --formula "group + age + C(sex) + NSAID_current" --reference group=healthy -o da.tsv
///   gutjoint da examples/data/gespic/gespic_genus.tsv --metadata examples/data/gespic/gespic_metadata.tsv \
///       --formula "group + age + C(sex)" --reference group=healthy --method ancombc \
///       --min-prevalence 0.1 -o ancombc.tsv
///   gutjoint da examples/data/longitudinal/peerj32/counts.tsv \
///       --metadata examples/data/longitudinal/peerj32/metadata.tsv --formula "time * group" \
///       --reference group=Placebo --method lmm --subject subject -o lmm.tsv
///   gutjoint da examples/data/longitudinal/peerj32/counts.tsv \
///       --metadata examples/data/longitudinal/peerj32/metadata.tsv --formula "time * group" \
///       --reference group=Placebo --method dirmult-lme --subject subject -o dirmult_lme.tsv
///
/// Formulas take two-way interactions: `time * group` is time + group + time:group.
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
    /// Batch column (sequencing run, study, centre): checked against the first categorical
    /// term (one level, or a group entirely explained by it, is an error; collinear, a
    /// warning) and added to the model as C(COL). lm and ancombc only.
    #[arg(long, value_name = "COL")]
    pub batch: Option<String>,
    /// Method: lm, lmm, ancombc, ancombc2, dirmult-lme, dirmult-ttest or all (consensus).
    #[arg(long, value_enum, default_value_t = DaMethodName::Lm)]
    pub method: DaMethodName,
    /// Transform for lm: log10 or asin-sqrt.
    #[arg(long, value_enum, default_value_t = crate::methods::TransformName::Log10)]
    pub transform: crate::methods::TransformName,
    /// Pseudocount added before the logarithm (lm: half the smallest nonzero relative
    /// abundance; ancombc, ancombc2: 1 for counts, half the smallest nonzero value for
    /// proportions; dirmult-lme: 0.5).
    #[arg(long)]
    pub pseudocount: Option<f64>,
    /// Multiple-testing adjustment: bh, holm, bonferroni, none (default: bh for lm; holm for
    /// ancombc and dirmult-ttest, as scikit-bio).
    #[arg(long, value_enum, ignore_case = true)]
    pub p_adjust: Option<crate::methods::PAdjustName>,
    /// Keep features present in at least this fraction of the analysed samples.
    #[arg(long, default_value_t = 0.0)]
    pub min_prevalence: f64,
    /// dirmult-ttest: the level tested against the reference (default: the only other level).
    #[arg(long, value_name = "LEVEL")]
    pub treatment: Option<String>,
    /// dirmult-ttest, dirmult-lme: posterior draws.
    #[arg(long, default_value_t = 128)]
    pub draws: usize,
    /// dirmult-ttest, dirmult-lme: seed of the draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// ancombc, ancombc2: maximum EM iterations of the bias estimate.
    #[arg(long, default_value_t = 100)]
    pub max_iter: usize,
    /// ancombc: EM stops when its parameters move by at most this (Euclidean norm).
    #[arg(long, default_value_t = 1e-5)]
    pub tol: f64,
    /// lmm, dirmult-lme: the metadata column naming each sample's subject (patient); one
    /// random intercept per subject.
    #[arg(long, value_name = "COL")]
    pub subject: Option<String>,
    /// lmm: also a random slope per subject for this numeric column (usually time).
    #[arg(long, value_name = "COL")]
    pub random_slope: Option<String>,
    /// dirmult-ttest, dirmult-lme on relative abundances: multiply by this and round to
    /// pseudo-counts.
    #[arg(long, value_name = "N")]
    pub counts_scale: Option<f64>,
    /// ancombc2: quantile of each term's coefficient variances added to every variance
    /// (scikit-bio's var_quantile, the R package's s0_perc); 0 disables.
    #[arg(long, default_value_t = 0.05)]
    pub var_quantile: f64,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let (ancombc, ancombc2, dirmult_lme) = match args.method {
        DaMethodName::Lm | DaMethodName::Lmm | DaMethodName::All => (false, false, false),
        DaMethodName::Ancombc => (true, false, false),
        DaMethodName::Ancombc2 => (false, true, false),
        DaMethodName::DirmultLme => (false, false, true),
        DaMethodName::DirmultTtest => return run_dirmult(args, quiet),
    };
    let mixed = args.method == DaMethodName::Lmm;
    if (mixed || dirmult_lme) && args.subject.is_none() {
        bail!(
            "--method {} needs --subject COL (the metadata column naming each sample's subject)",
            args.method.name()
        );
    }
    if ancombc2 && args.subject.is_some() {
        bail!(
            "--method ancombc2 has no random effect here: scikit-bio 0.7.4's ancombc2, which gutjoint matches, takes none, and the R package's rand_formula could not be checked; for repeated samples per subject use --method dirmult-lme or lmm with --subject"
        );
    }
    let all = args.method == DaMethodName::All;
    if !(mixed || dirmult_lme || all) && args.subject.is_some() {
        bail!("--subject belongs to --method lmm or dirmult-lme (repeated measures)");
    }
    if !mixed && args.random_slope.is_some() {
        bail!("--random-slope belongs to --method lmm (repeated measures)");
    }
    let default_adjust = if ancombc || ancombc2 || dirmult_lme {
        Adjust::Holm
    } else {
        Adjust::Bh
    };
    let adjust = args.p_adjust.map_or(default_adjust, |a| a.adjust());
    let mut references = BTreeMap::new();
    for r in &args.references {
        let (c, l) = r
            .split_once('=')
            .with_context(|| format!("--reference '{r}': expected COLUMN=LEVEL"))?;
        references.insert(c.trim().to_string(), l.trim().to_string());
    }
    let (main_formula, interactions) = split_interactions(&args.formula)?;
    let mut terms = parse_formula(&main_formula)?;
    let table = output::timed("read", || args.input.read(quiet))?.table;
    let md = read_metadata_file(&args.metadata)?;
    if let Some(batch) = &args.batch {
        let group = terms
            .iter()
            .find(|t| t.categorical || md.column(&t.column).is_some_and(|c| !c.is_numeric()))
            .map(|t| t.column.clone());
        if let Some(t) = super::batch::batch_term(
            &md,
            &args.metadata,
            table.sample_ids(),
            batch,
            group.as_deref(),
            &terms,
            quiet,
        )? {
            terms.push(t);
        }
    }
    // lmm: samples without a subject cannot enter the model; they are counted, not hidden.
    let samples = match &args.subject {
        Some(c) => {
            let (kept, missing) = with_subject(&md, &args.metadata, c, table.sample_ids())?;
            if !quiet && missing > 0 {
                eprintln!("note: dropped {missing} samples with no '{c}' (subject) value");
            }
            kept
        }
        None => table.sample_ids().to_vec(),
    };
    let mut d = design(&md, &samples, &terms, &references)
        .with_context(|| args.metadata.display().to_string())?;
    add_interactions(&mut d, &interactions)?;
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
    // Copies only when something is left out (a copy of a large table costs real time).
    let all_samples =
        keep.len() == table.n_samples() && keep.iter().enumerate().all(|(i, &s)| i == s);
    let used = if all_samples {
        table
    } else {
        table.select_samples(&keep)
    };
    let present = used.feature_prevalence();
    let features: Vec<usize> = (0..used.n_features())
        .filter(|&f| {
            present[f] as f64 >= args.min_prevalence * used.n_samples() as f64 && present[f] > 0
        })
        .collect();
    let used = if features.len() == used.n_features() {
        used
    } else {
        used.select_features(&features)
    };
    if all {
        return run_all(&args, &md, &used, &d, quiet);
    }
    let mut lmm: Option<LmmResult> = None;
    let mut draws: Option<Vec<DirmultLmeRow>> = None;
    let coefficients: Vec<Coefficient> = if ancombc2 {
        let pseudocount = args
            .pseudocount
            .unwrap_or_else(|| ancombc::default_pseudocount(&used));
        let options = gutjoint_stats::ancombc2::Options {
            max_iter: args.max_iter,
            tol: args.tol,
            adjust,
            var_quantile: args.var_quantile,
        };
        let result = output::timed("compute", || {
            gutjoint_stats::ancombc2::ancombc2(&used, &d, pseudocount, options)
        })?;
        if !quiet {
            report_bias(&result.bias, pseudocount, args.max_iter);
            eprintln!(
                "note: ANCOM-BC2 t tests on {} degrees of freedom; sampling fractions removed per sample",
                result.df
            );
        }
        result.coefficients
    } else if dirmult_lme {
        let rows = output::timed("compute", || fit_dirmult_lme(&args, &md, &used, &d, adjust))?;
        let coefficients = rows
            .iter()
            .map(|r| Coefficient {
                feature: r.feature.clone(),
                term: r.term.clone(),
                estimate: r.log2_fc,
                se: f64::NAN,
                statistic: f64::NAN,
                p: r.p,
                q: r.q,
            })
            .collect();
        draws = Some(rows);
        coefficients
    } else if ancombc {
        let pseudocount = args
            .pseudocount
            .unwrap_or_else(|| ancombc::default_pseudocount(&used));
        let options = ancombc::Options {
            max_iter: args.max_iter,
            tol: args.tol,
            adjust,
        };
        let result = output::timed("compute", || {
            ancombc::ancombc(&used, &d, pseudocount, options)
        })?;
        if !quiet {
            report_bias(&result.bias, pseudocount, args.max_iter);
        }
        result.coefficients
    } else {
        let transform = match args.transform {
            crate::methods::TransformName::Log10 => Transform::Log10 {
                pseudocount: args
                    .pseudocount
                    .unwrap_or_else(|| default_pseudocount(&used)),
            },
            crate::methods::TransformName::AsinSqrt => Transform::ArcsineSqrt,
        };
        if mixed {
            let result = output::timed("compute", || {
                fit_mixed(&args, &md, &used, &d, transform, adjust)
            })?;
            if !quiet {
                report_mixed(&result);
            }
            let coefficients = result.da_coefficients();
            lmm = Some(result);
            coefficients
        } else {
            output::timed("compute", || linear_models(&used, &d, transform, adjust))?
        }
    };
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
    // Means are of relative abundances: counts are divided by their sample's total on the fly
    // (the same division `to_relative` does), instead of copying the whole table first — the
    // copy's first-touch page faults cost more than the fit on a dense 1,000 x 300 table.
    let relative = used.kind() == ValueKind::Counts;
    let mut text = String::from("feature\tlineage\tterm\testimate\tse\tstatistic\tp\tq");
    if lmm.is_some() {
        text.push_str("\tdf\tsubject_variance\tresidual_variance\tn_subjects\tsingular");
    }
    if draws.is_some() {
        text.push_str("\tci_lower\tci_upper\tsignificant\treps");
    }
    for (l, _) in &levels {
        let _ = write!(text, "\tprevalence[{l}]\tmean[{l}]");
    }
    text.push('\n');
    // Nonzero count and sum of each feature within each level, in one pass over the samples.
    let mut by_level = vec![vec![(0usize, 0.0f64); levels.len()]; used.n_features()];
    for (l, (_, members)) in levels.iter().enumerate() {
        for &s in members {
            let (indices, values) = used.sample(s);
            let total = if relative { used.sample_total(s) } else { 0.0 };
            for (&f, &v) in indices.iter().zip(values) {
                let v = if total > 0.0 { v / total } else { v };
                let cell = &mut by_level[f as usize][l];
                if v > 0.0 {
                    cell.0 += 1;
                }
                cell.1 += v;
            }
        }
    }
    let feature_index: std::collections::HashMap<&str, usize> = used
        .feature_ids()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    for (i, c) in coefficients.iter().enumerate() {
        let f = feature_index[c.feature.as_str()];
        let _ = write!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.feature,
            used.lineage(f),
            c.term,
            c.estimate,
            c.se,
            c.statistic,
            c.p,
            c.q
        );
        if let Some(result) = &lmm {
            // Coefficients run term by term over the same feature order as `features`.
            let fit = &result.features[i % result.features.len()];
            let _ = write!(
                text,
                "\t{}\t{}\t{}\t{}\t{}",
                result.coefficients[i].df,
                fit.subject_variance,
                fit.residual_variance,
                result.n_subjects,
                fit.singular
            );
        }
        if let Some(rows) = &draws {
            let r = &rows[i];
            let _ = write!(
                text,
                "\t{}\t{}\t{}\t{}",
                r.ci_lower, r.ci_upper, r.significant, r.reps
            );
        }
        for (l, (_, members)) in levels.iter().enumerate() {
            let (present, sum) = by_level[f][l];
            let size = members.len() as f64;
            let _ = write!(text, "\t{}\t{}", present as f64 / size, sum / size);
        }
        text.push('\n');
    }
    output::timed("write", || {
        output::write_or_print(args.output.as_deref(), &text)
    })
}

/// The table's samples that have a value in the subject column, and how many do not.
fn with_subject(
    md: &gutjoint_table::Metadata,
    path: &std::path::Path,
    column: &str,
    samples: &[String],
) -> Result<(Vec<String>, usize)> {
    let col = crate::input::metadata_column(md, path, column)?;
    let index = md.index();
    let kept: Vec<String> = samples
        .iter()
        .filter(|id| index.get(id.as_str()).and_then(|&r| col.text(r)).is_some())
        .cloned()
        .collect();
    let missing = samples.len() - kept.len();
    Ok((kept, missing))
}

/// `--method lmm` on the analysed samples: subjects (and random slopes) in design-row order.
fn fit_mixed(
    args: &Args,
    md: &gutjoint_table::Metadata,
    table: &gutjoint_table::FeatureTable,
    d: &gutjoint_stats::Design,
    transform: Transform,
    adjust: Adjust,
) -> Result<LmmResult> {
    let subject = args.subject.as_deref().context("--subject")?;
    let index = md.index();
    let col = crate::input::metadata_column(md, &args.metadata, subject)?;
    let subjects: Vec<String> = d
        .sample_ids
        .iter()
        .map(|id| col.text(index[id.as_str()]).unwrap_or_default())
        .collect();
    let slope_values: Option<(String, Vec<f64>)> = match &args.random_slope {
        Some(c) => {
            let column = crate::input::metadata_column(md, &args.metadata, c)?;
            if !column.is_numeric() {
                bail!("--random-slope '{c}' is not numeric");
            }
            let values = d
                .sample_ids
                .iter()
                .map(|id| {
                    column
                        .text(index[id.as_str()])
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(f64::NAN)
                })
                .collect();
            Some((c.clone(), values))
        }
        None => None,
    };
    let slope = slope_values
        .as_ref()
        .map(|(c, v)| (c.as_str(), v.as_slice()));
    Ok(mixed_models(table, d, &subjects, slope, transform, adjust)?)
}

/// One method's calls in the consensus view: (feature, term) → (estimate, q, called).
type Calls = BTreeMap<(String, String), (f64, f64, bool)>;

/// `--method all`: the methods that apply to this design on the same samples and features,
/// and per feature and term which of them call it (Nearing et al. 2022, Nat Commun 13:342:
/// differential-abundance results depend on the method, so read the agreement, not one list).
/// Each method keeps its own transform, scale and default adjustment; "called" is q <= 0.05
/// (dirmult-lme: its significance rule, q <= 0.05 and the bounds exclude 0). With --subject
/// the mixed models (lmm, dirmult-lme) join and the others still treat samples as independent.
fn run_all(
    args: &Args,
    md: &gutjoint_table::Metadata,
    used: &gutjoint_table::FeatureTable,
    d: &gutjoint_stats::Design,
    quiet: bool,
) -> Result<()> {
    if args.p_adjust.is_some() {
        bail!(
            "--method all uses each method's own adjustment (bh for lm and lmm, holm for the others); drop --p-adjust"
        );
    }
    let from = |coefficients: &[Coefficient]| -> Calls {
        coefficients
            .iter()
            .filter(|c| c.term != "Intercept")
            .map(|c| {
                (
                    (c.feature.clone(), c.term.clone()),
                    (c.estimate, c.q, c.q <= 0.05),
                )
            })
            .collect()
    };
    let mut methods: Vec<(&str, Calls)> = Vec::new();
    let lm_transform = Transform::Log10 {
        pseudocount: args
            .pseudocount
            .unwrap_or_else(|| default_pseudocount(used)),
    };
    let compositional_pc = args
        .pseudocount
        .unwrap_or_else(|| ancombc::default_pseudocount(used));
    let lm = output::timed("lm", || linear_models(used, d, lm_transform, Adjust::Bh))?;
    methods.push(("lm", from(&lm)));
    if args.subject.is_some() {
        let result = output::timed("lmm", || {
            fit_mixed(args, md, used, d, lm_transform, Adjust::Bh)
        })?;
        let coefficients = result.da_coefficients();
        methods.push(("lmm", from(&coefficients)));
    }
    let options = ancombc::Options {
        max_iter: args.max_iter,
        tol: args.tol,
        adjust: Adjust::Holm,
    };
    let result = output::timed("ancombc", || {
        ancombc::ancombc(used, d, compositional_pc, options)
    })?;
    methods.push(("ancombc", from(&result.coefficients)));
    let options = gutjoint_stats::ancombc2::Options {
        max_iter: args.max_iter,
        tol: args.tol,
        adjust: Adjust::Holm,
        var_quantile: args.var_quantile,
    };
    let result = output::timed("ancombc2", || {
        gutjoint_stats::ancombc2::ancombc2(used, d, compositional_pc, options)
    })?;
    methods.push(("ancombc2", from(&result.coefficients)));
    let counts_available = used.kind() == ValueKind::Counts || args.counts_scale.is_some();
    if args.subject.is_some() && counts_available {
        let rows = output::timed("dirmult-lme", || {
            fit_dirmult_lme(args, md, used, d, Adjust::Holm)
        })?;
        let calls = rows
            .iter()
            .map(|r| {
                (
                    (r.feature.clone(), r.term.clone()),
                    (r.log2_fc, r.q, r.significant),
                )
            })
            .collect();
        methods.push(("dirmult-lme", calls));
    } else if args.subject.is_some() && !quiet {
        eprintln!("note: dirmult-lme left out: it needs counts (or --counts-scale)");
    }
    let names: Vec<&str> = methods.iter().map(|(m, _)| *m).collect();
    if !quiet {
        eprintln!(
            "note: consensus of {} on {} samples{}",
            names.join(", "),
            d.n,
            if args.subject.is_some() {
                "; lm, ancombc and ancombc2 treat repeated samples of a subject as independent"
            } else {
                ""
            }
        );
    }
    // Rows: lm's (feature, term) pairs in its order (term by term, features in table order).
    let mut text = String::from("feature\tlineage\tterm");
    for m in &names {
        let _ = write!(text, "\testimate[{m}]\tq[{m}]\tcalled[{m}]");
    }
    text.push_str("\tn_called\tn_methods\tcalled_by\tsame_direction\n");
    let feature_index: std::collections::HashMap<&str, usize> = used
        .feature_ids()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    let mut agreed = vec![0usize; names.len() + 1];
    for c in lm.iter().filter(|c| c.term != "Intercept") {
        let key = (c.feature.clone(), c.term.clone());
        let _ = write!(
            text,
            "{}\t{}\t{}",
            c.feature,
            used.lineage(feature_index[c.feature.as_str()]),
            c.term
        );
        let mut called_by = Vec::new();
        let mut signs = Vec::new();
        let mut present = 0;
        for (m, calls) in &methods {
            match calls.get(&key) {
                Some((estimate, q, called)) => {
                    present += 1;
                    let _ = write!(text, "\t{estimate}\t{q}\t{called}");
                    if *called {
                        called_by.push(*m);
                        signs.push(estimate.signum());
                    }
                }
                None => text.push_str("\tNA\tNA\tNA"),
            }
        }
        let same = signs.windows(2).all(|w| w[0] == w[1]);
        agreed[called_by.len()] += 1;
        let _ = writeln!(
            text,
            "\t{}\t{present}\t{}\t{}",
            called_by.len(),
            if called_by.is_empty() {
                "-".to_string()
            } else {
                called_by.join(",")
            },
            if called_by.is_empty() {
                "NA"
            } else if same {
                "true"
            } else {
                "false"
            }
        );
    }
    if !quiet {
        let summary: Vec<String> = agreed
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{n} by {k}"))
            .collect();
        eprintln!(
            "note: feature-term pairs called by k of {} methods: {}",
            names.len(),
            summary.join(", ")
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

/// `--method dirmult-lme` on the analysed samples, in design-row order (feature by feature,
/// the terms within a feature, as scikit-bio reports it).
fn fit_dirmult_lme(
    args: &Args,
    md: &gutjoint_table::Metadata,
    table: &gutjoint_table::FeatureTable,
    d: &gutjoint_stats::Design,
    adjust: Adjust,
) -> Result<Vec<DirmultLmeRow>> {
    let subject = args.subject.as_deref().context("--subject")?;
    let index = md.index();
    let col = crate::input::metadata_column(md, &args.metadata, subject)?;
    let subjects: Vec<String> = d
        .sample_ids
        .iter()
        .map(|id| col.text(index[id.as_str()]).unwrap_or_default())
        .collect();
    let model = gutjoint_stats::lmm::MixedModel::new(d, &subjects, None)?;
    let rows = table.sample_index();
    let counts: Vec<Vec<f64>> = match (table.kind(), args.counts_scale) {
        (ValueKind::Counts, _) => d
            .sample_ids
            .iter()
            .map(|id| table.dense_sample(rows[id.as_str()]))
            .collect(),
        (_, Some(k)) => d
            .sample_ids
            .iter()
            .map(|id| {
                table
                    .dense_sample(rows[id.as_str()])
                    .iter()
                    .map(|v| (v * k).round())
                    .collect()
            })
            .collect(),
        (_, None) => bail!(
            "dirmult-lme models counts; this table holds relative abundances (give --counts-scale N to use round(x * N) as pseudo-counts)"
        ),
    };
    let pseudocount = args.pseudocount.unwrap_or(0.5);
    Ok(gutjoint_stats::dirmult::dirmult_lme(
        &counts,
        table.feature_ids(),
        &model,
        pseudocount,
        args.draws,
        args.seed,
        adjust,
    )?)
}

/// What the mixed models rest on, on the terminal.
fn report_mixed(result: &LmmResult) {
    let singular = result.features.iter().filter(|f| f.singular).count();
    let failed: Vec<&str> = result
        .features
        .iter()
        .filter(|f| f.failure.is_some())
        .map(|f| f.feature.as_str())
        .collect();
    eprintln!(
        "note: mixed models on {} samples from {} subjects ({} with a single sample); {} of {} features have a subject variance of zero (singular fit, as lme4 reports)",
        result.n_samples,
        result.n_subjects,
        result.single_sample_subjects,
        singular,
        result.features.len()
    );
    if !failed.is_empty() {
        eprintln!(
            "note: {} features could not be fitted (constant after the transform) and have NA: {}",
            failed.len(),
            failed.join(", ")
        );
    }
}

/// ANCOM-BC's per-term bias on the terminal: what was subtracted, and whether EM converged.
fn report_bias(bias: &[ancombc::Bias], pseudocount: f64, max_iter: usize) {
    eprintln!("note: ANCOM-BC on ln(value + {pseudocount}); bias removed from each term:");
    for b in bias {
        let converged = if b.em_iterations >= max_iter {
            format!(
                " — EM stopped at --max-iter {max_iter} before moving less than --tol (scikit-bio stops there too)"
            )
        } else {
            String::new()
        };
        eprintln!(
            "  {}: delta_em {:.6} (WLS {:.6}, var {:.3e}){converged}",
            b.term, b.delta_em, b.delta_wls, b.var_delta
        );
    }
}

fn run_dirmult(args: Args, quiet: bool) -> Result<()> {
    if args.batch.is_some() {
        bail!(
            "--batch needs a model with covariates (--method lm or ancombc); dirmult-ttest compares two levels without covariates"
        );
    }
    let adjust = args.p_adjust.map_or(Adjust::Holm, |a| a.adjust());
    let terms = parse_formula(&args.formula)?;
    let column = terms
        .first()
        .map(|t| t.column.clone())
        .context("the formula has no term")?;
    let table = args.input.read(quiet)?.table;
    let md = read_metadata_file(&args.metadata)?;
    let col = md
        .column(&column)
        .with_context(|| format!("{}: no column '{column}'", args.metadata.display()))?;
    let reference = args
        .references
        .iter()
        .find_map(|r| {
            r.split_once('=')
                .filter(|(c, _)| c.trim() == column)
                .map(|(_, l)| l.trim().to_string())
        })
        .with_context(|| format!("dirmult-ttest needs --reference {column}=LEVEL"))?;
    let index = md.index();
    let labels: Vec<Option<String>> = table
        .sample_ids()
        .iter()
        .map(|id| index.get(id.as_str()).and_then(|&r| col.text(r)))
        .collect();
    let mut levels: Vec<&String> = labels
        .iter()
        .flatten()
        .filter(|l| **l != reference)
        .collect();
    levels.sort();
    levels.dedup();
    let treatment = match &args.treatment {
        Some(t) => t.clone(),
        None if levels.len() == 1 => levels[0].clone(),
        None => bail!(
            "'{column}' has {} levels besides '{reference}'; choose one with --treatment",
            levels.len()
        ),
    };
    let pick = |level: &str| -> Vec<usize> {
        (0..labels.len())
            .filter(|&s| labels[s].as_deref() == Some(level))
            .collect()
    };
    let (trt, rf) = (pick(&treatment), pick(&reference));
    if trt.len() < 2 || rf.len() < 2 {
        bail!(
            "dirmult-ttest needs at least 2 samples per group ('{treatment}': {}, '{reference}': {})",
            trt.len(),
            rf.len()
        );
    }
    let counts: Vec<Vec<f64>> = match (table.kind(), args.counts_scale) {
        (gutjoint_table::ValueKind::Counts, _) => (0..table.n_samples())
            .map(|s| table.dense_sample(s))
            .collect(),
        (_, Some(k)) => (0..table.n_samples())
            .map(|s| {
                table
                    .dense_sample(s)
                    .iter()
                    .map(|v| (v * k).round())
                    .collect()
            })
            .collect(),
        (_, None) => bail!(
            "dirmult-ttest models counts; this table holds relative abundances (give --counts-scale N to use round(x * N) as pseudo-counts)"
        ),
    };
    let rows = gutjoint_stats::dirmult::dirmult_ttest(
        &counts,
        table.feature_ids(),
        &trt,
        &rf,
        0.5,
        args.draws,
        args.seed,
        adjust,
    );
    let term = format!("{column}[T.{treatment}]");
    let mut text = String::from(
        "feature\tlineage\tterm\testimate\tse\tstatistic\tp\tq\tci_lower\tci_upper\tsignificant\n",
    );
    for (f, r) in rows.iter().enumerate() {
        let _ = writeln!(
            text,
            "{}\t{}\t{term}\t{}\tNA\t{}\t{}\t{}\t{}\t{}\t{}",
            r.feature,
            table.lineage(f),
            r.log2_fc,
            r.t_statistic,
            r.p,
            r.q,
            r.ci_lower,
            r.ci_upper,
            r.significant
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

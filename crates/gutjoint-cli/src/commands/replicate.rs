//! `gutjoint replicate`: does the literature hold in this cohort?

use crate::input::TableArgs;
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_axis::replicate::Method;
use gutjoint_knowledge::KnowledgeBase;
use gutjoint_stats::{Term, design, parse_covariates};
use gutjoint_table::read_metadata_file;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Re-test every cited taxon–disease association of the knowledge base that this cohort can
/// test (same sample type, stool by default; not probe-panel results): the taxon (matched at the
/// association's rank through lineages and synonyms) against case vs control with the
/// covariates given. Associations naming the same taxon at the same rank are one test, fitted
/// and counted once in BH; its status is replicated / opposite / conflicting reports (the
/// studies disagree; `agrees` says which side each is on) / not significant / taxon absent.
/// Associations the cohort cannot test are listed as `not tested` with the reason.
/// Methods: lm (log10 abundance, OLS, as `da --method lm`; the default) or ancombc (ANCOM-BC on
/// the table grouped at each association's rank; natural-log fold changes corrected for the
/// sampling bias).
///
/// Example:
///   gutjoint replicate examples/data/gespic/gespic_genus.tsv --metadata examples/data/gespic/gespic_metadata.tsv \
///       --column group --case axSpA --control healthy --adjust "age + C(sex) + NSAID_current" --method ancombc
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    #[arg(long, value_name = "MD")]
    pub metadata: PathBuf,
    /// Column holding case/control labels.
    #[arg(long, value_name = "C")]
    pub column: String,
    #[arg(long, value_name = "X")]
    pub case: String,
    #[arg(long, value_name = "Y")]
    pub control: String,
    /// Diseases whose associations are tested (default: the case label, with AS for axSpA).
    #[arg(long = "disease", value_name = "D")]
    pub diseases: Vec<String>,
    /// Covariates (`age + C(sex)`).
    #[arg(long, value_name = "COVARIATES")]
    pub adjust: Option<String>,
    /// Batch column (sequencing run, study): checked against case/control (one level, or a
    /// group entirely explained by it, is an error) and added to the model as C(COL).
    #[arg(long, value_name = "COL")]
    pub batch: Option<String>,
    /// q threshold for 'replicated' / 'opposite'.
    #[arg(long, default_value_t = 0.05)]
    pub q: f64,
    /// Model: lm or ancombc.
    #[arg(long, value_enum, default_value_t = crate::methods::ReplicateMethodName::Lm)]
    pub method: crate::methods::ReplicateMethodName,
    /// Pseudocount before the logarithm (default: half the smallest nonzero relative
    /// abundance; for ancombc on counts, 1).
    #[arg(long)]
    pub pseudocount: Option<f64>,
    /// The cohort's sample type: only associations measured in it are re-tested.
    #[arg(long, value_name = "TYPE", default_value = "stool")]
    pub sample_type: String,
    /// What the cohort compares (case_control: patients vs controls, which also re-tests
    /// at-risk-vs-control findings; or e.g. activity_within_patients).
    #[arg(long, value_name = "CONTRAST", default_value = "case_control")]
    pub contrast: String,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    /// JSON (`tested` and `not_tested`) instead of TSV.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let method = match args.method {
        crate::methods::ReplicateMethodName::Lm => Method::Lm,
        crate::methods::ReplicateMethodName::Ancombc => Method::Ancombc,
    };
    let kb = KnowledgeBase::embedded()?;
    let mut diseases = Vec::new();
    let requested = if args.diseases.is_empty() {
        vec![args.case.clone()]
    } else {
        args.diseases.clone()
    };
    for d in &requested {
        let a = kb.disease(d);
        match a.disease {
            Some(code) => diseases.push(code.to_string()),
            None => bail!(
                "'{d}' is not a disease the knowledge base knows{}; pass --disease",
                a.suggestion
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default()
            ),
        }
    }
    if diseases.iter().any(|d| d == "axSpA") && !diseases.iter().any(|d| d == "AS") {
        diseases.push("AS".into());
    }
    let cohort = gutjoint_axis::replicate::Cohort {
        contrast: parse_code(
            &args.contrast,
            "--contrast",
            gutjoint_knowledge::Contrast::ALL,
        )?,
        sample_type: parse_code(
            &args.sample_type,
            "--sample-type",
            gutjoint_knowledge::SampleType::ALL,
        )?,
    };
    let associations: Vec<_> = kb
        .taxon_disease()
        .iter()
        .filter(|a| diseases.contains(&a.disease.to_string()))
        .collect();
    let (associations, not_tested) = gutjoint_axis::replicate::select(&associations, &cohort);
    let table = args.input.read(quiet)?.table;
    let md = read_metadata_file(&args.metadata)?;
    let col = md
        .column(&args.column)
        .with_context(|| format!("{}: no column '{}'", args.metadata.display(), args.column))?;
    let index = md.index();
    let keep: Vec<usize> = (0..table.n_samples())
        .filter(|&s| {
            let v = index
                .get(table.sample_ids()[s].as_str())
                .and_then(|&r| col.text(r));
            v.as_deref() == Some(&args.case) || v.as_deref() == Some(&args.control)
        })
        .collect();
    if keep.is_empty() {
        bail!(
            "no sample has {}={} or {}={}",
            args.column,
            args.case,
            args.column,
            args.control
        );
    }
    let table = table.select_samples(&keep);
    let mut terms = vec![Term {
        column: args.column.clone(),
        categorical: true,
    }];
    if let Some(a) = args.adjust.as_ref().filter(|a| !a.trim().is_empty()) {
        terms.extend(parse_covariates(a)?);
    }
    if let Some(batch) = &args.batch
        && let Some(t) = super::batch::batch_term(
            &md,
            &args.metadata,
            table.sample_ids(),
            batch,
            Some(&args.column),
            &terms,
            quiet,
        )?
    {
        terms.push(t);
    }
    let refs = BTreeMap::from([(args.column.clone(), args.control.clone())]);
    let d = design(&md, table.sample_ids(), &terms, &refs)
        .with_context(|| args.metadata.display().to_string())?;
    if !quiet && !d.dropped.is_empty() {
        eprintln!(
            "note: dropped {} samples missing a covariate; {} analysed",
            d.dropped.len(),
            d.n
        );
    }
    let is_case: Vec<bool> = d
        .sample_ids
        .iter()
        .map(|id| col.text(index[id.as_str()]).as_deref() == Some(args.case.as_str()))
        .collect();
    let pseudocount = args.pseudocount.unwrap_or_else(|| match method {
        Method::Lm => gutjoint_stats::da::default_pseudocount(&table),
        Method::Ancombc => gutjoint_stats::ancombc::default_pseudocount(&table),
    });
    let term = format!("{}[T.{}]", args.column, args.case);
    let model = gutjoint_axis::replicate::Model {
        design: &d,
        term: &term,
        is_case: &is_case,
        pseudocount,
        q_threshold: args.q,
        method,
    };
    let rows = gutjoint_axis::replicate::replicate(&kb, &table, &associations, &model)?;
    if !quiet && !not_tested.is_empty() {
        eprintln!(
            "note: {} associations not tested: their study's sample type, contrast or method is not this cohort's (listed as 'not tested')",
            not_tested.len()
        );
    }
    if args.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            tested: &'a [gutjoint_axis::replicate::Replication],
            not_tested: &'a [gutjoint_axis::replicate::NotTested],
        }
        return output::print_json(&Out {
            tested: &rows,
            not_tested: &not_tested,
        });
    }
    let na = |v: Option<f64>| v.map_or("NA".to_string(), |x| x.to_string());
    let mut text = String::from(
        "association\ttaxon\trank\tdisease\treported_direction\tobserved_direction\testimate\tse\tp\tq\tstatus\tprevalence_case\tprevalence_control\tstudy_population\tcitation\tdoi\ttest\tagrees\tnot_tested_because\n",
    );
    for r in &rows {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
            r.association,
            r.taxon,
            r.rank,
            r.disease,
            r.reported_direction,
            r.observed_direction,
            na(r.estimate),
            na(r.se),
            na(r.p),
            na(r.q),
            r.status,
            na(r.prevalence_case),
            na(r.prevalence_control),
            r.population,
            r.citation,
            r.doi,
            r.test,
            r.agrees.map_or("NA", |a| if a { "yes" } else { "no" })
        );
    }
    for n in &not_tested {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t\tNA\tNA\tNA\tNA\tnot tested\tNA\tNA\t{}\t{}\t{}\t\tNA\t{}",
            n.association,
            n.taxon,
            n.rank,
            n.disease,
            n.reported_direction,
            n.population,
            n.citation,
            n.doi,
            n.reason
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

/// A knowledge-base code (`stool`, `case_control`, …) given on the command line: one of `all`
/// (a coded enum's `ALL`, displayed as its code).
pub fn parse_code<T: Copy + std::fmt::Display>(text: &str, what: &str, all: &[T]) -> Result<T> {
    all.iter()
        .copied()
        .find(|t| t.to_string() == text)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "unknown {what} '{text}'; expected one of {}",
                all.iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

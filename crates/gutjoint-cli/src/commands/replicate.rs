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

/// Re-test every cited taxon–disease association of the knowledge base in this cohort: the
/// taxon (matched at the association's rank through lineages and synonyms) against case vs
/// control with the covariates given, then replicated / opposite / not significant / taxon
/// absent, with q (BH across associations), citation and study population.
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
    #[arg(long, default_value = "lm")]
    pub method: String,
    /// Pseudocount before the logarithm (default: half the smallest nonzero relative
    /// abundance; for ancombc on counts, 1).
    #[arg(long)]
    pub pseudocount: Option<f64>,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let method = match args.method.as_str() {
        "lm" => Method::Lm,
        "ancombc" | "ancom-bc" => Method::Ancombc,
        other => bail!("unknown --method '{other}'; expected lm or ancombc"),
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
    let associations: Vec<_> = kb
        .taxon_disease()
        .iter()
        .filter(|a| diseases.contains(&a.disease.to_string()))
        .collect();
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
    let na = |v: Option<f64>| v.map_or("NA".to_string(), |x| x.to_string());
    let mut text = String::from(
        "association\ttaxon\trank\tdisease\treported_direction\tobserved_direction\testimate\tse\tp\tq\tstatus\tprevalence_case\tprevalence_control\tstudy_population\tcitation\tdoi\n",
    );
    for r in &rows {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
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
            r.doi
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

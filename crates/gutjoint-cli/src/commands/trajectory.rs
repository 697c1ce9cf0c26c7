//! `gutjoint trajectory`: per-subject change over time and whether groups changed differently.

use crate::input::{TableArgs, metadata_column};
use crate::output;
use anyhow::{Context, Result, anyhow};
use gutjoint_axis::profile::KeyedProfiles;
use gutjoint_axis::trajectory::{
    NamedColumn, TaxonFollowUp, follow_taxon, match_taxon, timed_samples, trajectory,
};
use gutjoint_table::read_metadata_file;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Change over time per sample: Shannon, observed features, GMHI (species tables), dysbiosis
/// against a healthy --reference (median Bray–Curtis, HMP2), and Bray–Curtis to the subject's
/// first and previous sample. Then, per metric, a linear mixed model
/// `metric ~ time * group + (1 | subject)` (REML, Satterthwaite df as R's lmerTest), printed on
/// stderr and in --json: the `time:group[T.…]` term says whether the groups changed
/// differently; for dysbiosis a negative slope is a move toward the reference.
///
/// With --taxon NAME, one organism is followed too (probiotic persistence): the features whose
/// name is NAME or one of its synonyms in the knowledge base (split genera such as
/// Lacticaseibacillus count as Lactobacillus), or begins with one (species, strains, HITChip
/// "et rel." groups), summed per sample as a relative abundance (column
/// taxon_relative_abundance); on stderr, per group and time, the samples in which it is
/// detected and its mean and median; and the mixed model of
/// log10(abundance + half its smallest nonzero value) ~ time * group + (1 | subject).
/// Feature-level: a matched name is not proof of the administered strain.
///
/// Examples:
///   gutjoint trajectory examples/data/longitudinal/peerj32/counts.tsv \
///       --metadata examples/data/longitudinal/peerj32/metadata.tsv --subject subject \
///       --time time --group group --control Placebo -o trajectory.tsv
///   gutjoint trajectory examples/data/longitudinal/peerj32/counts.tsv \
///       --metadata examples/data/longitudinal/peerj32/metadata.tsv --subject subject \
///       --time time --group group --control Placebo --taxon Lactobacillus -o lacto.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    #[arg(long, value_name = "MD")]
    pub metadata: PathBuf,
    /// Metadata column naming each sample's subject.
    #[arg(long, value_name = "COL")]
    pub subject: String,
    /// Numeric metadata column with each sample's time.
    #[arg(long, value_name = "COL")]
    pub time: String,
    /// Metadata column with each subject's group (treatment arm).
    #[arg(long, value_name = "COL")]
    pub group: Option<String>,
    /// The control level of --group (default: the first in sorted order).
    #[arg(long, value_name = "LEVEL")]
    pub control: Option<String>,
    /// Healthy reference for dysbiosis (file from `reference build` or a built-in name).
    #[arg(long, value_name = "REF")]
    pub reference: Option<String>,
    /// Population of the reference (default: all pooled).
    #[arg(long)]
    pub population: Option<String>,
    /// Follow one organism (with its knowledge-base synonyms) per subject over time.
    #[arg(long, value_name = "NAME")]
    pub taxon: Option<String>,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    /// Print the result (points and models) as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let table = args.input.read(quiet)?.table;
    let md = read_metadata_file(&args.metadata)?;
    let path = &args.metadata;
    let subject_col = metadata_column(&md, path, &args.subject)?;
    let time_col = metadata_column(&md, path, &args.time)?;
    let group_col = match &args.group {
        Some(g) => Some(metadata_column(&md, path, g)?),
        None => None,
    };
    let (samples, no_subject) = timed_samples(
        &md,
        table.sample_ids(),
        NamedColumn {
            name: &args.subject,
            column: subject_col,
        },
        NamedColumn {
            name: &args.time,
            column: time_col,
        },
        group_col.map(|column| NamedColumn {
            name: args.group.as_deref().unwrap_or_default(),
            column,
        }),
    )
    .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let dysbiosis = match &args.reference {
        Some(r) => {
            let reference = super::axis::load_reference(r, quiet)?;
            let profiles = KeyedProfiles::from_table(&table, reference.rank())?;
            Some(gutjoint_axis::dysbiosis::dysbiosis(
                &profiles,
                &reference,
                args.population.as_deref(),
                0,
            )?)
        }
        None => None,
    };
    let mut result = trajectory(
        &table,
        &samples,
        dysbiosis.as_ref(),
        args.control.as_deref(),
    )
    .with_context(|| path.display().to_string())?;
    if let Some(name) = &args.taxon {
        let kb = gutjoint_knowledge::KnowledgeBase::embedded()?;
        let matched = match_taxon(&table, &kb, name)?;
        result.taxon = Some(
            follow_taxon(&table, &samples, matched, result.reference_group.as_deref())
                .with_context(|| path.display().to_string())?,
        );
    }
    if !quiet {
        if no_subject > 0 {
            eprintln!(
                "note: {no_subject} samples have no '{}' value and were left out",
                args.subject
            );
        }
        if !result.single_sample_subjects.is_empty() {
            eprintln!(
                "note: {} subjects have a single sample (kept; they carry no within-subject change): {}",
                result.single_sample_subjects.len(),
                result.single_sample_subjects.join(", ")
            );
        }
        for m in &result.models {
            eprintln!(
                "model {} ~ {} ({} samples, {} subjects{}):",
                m.metric,
                m.formula,
                m.n_samples,
                m.n_subjects,
                if m.singular {
                    ", singular: subject variance 0"
                } else {
                    ""
                }
            );
            for t in &m.terms {
                eprintln!(
                    "  {:<28} {:>12.6} se {:>10.6} df {:>7.2} p {:.4}",
                    t.term, t.estimate, t.se, t.df, t.p
                );
            }
        }
        for s in &result.skipped_models {
            eprintln!("note: no model for {}: {}", s.metric, s.reason);
        }
        if let Some(t) = &result.taxon {
            report_taxon(t);
        }
    }
    if args.json {
        return output::print_json(&result);
    }
    let opt = |v: Option<f64>| v.map_or_else(|| "NA".to_string(), |x| x.to_string());
    let mut text = String::from(
        "sample-id\tsubject\ttime\tgroup\tshannon\tobserved_features\tgmhi\tdysbiosis\tbraycurtis_to_first\tbraycurtis_to_previous",
    );
    if result.taxon.is_some() {
        text.push_str("\ttaxon_relative_abundance");
    }
    text.push('\n');
    for (i, p) in result.points.iter().enumerate() {
        let _ = write!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            p.sample,
            p.subject,
            p.time,
            p.group.as_deref().unwrap_or("NA"),
            p.shannon,
            p.observed_features,
            opt(p.gmhi),
            opt(p.dysbiosis),
            opt(p.braycurtis_to_first),
            opt(p.braycurtis_to_previous)
        );
        if let Some(t) = &result.taxon {
            let _ = write!(text, "\t{}", t.relative_abundance[i]);
        }
        text.push('\n');
    }
    output::write_or_print(args.output.as_deref(), &text)
}

/// The followed organism on the terminal: what matched, detection by group and time, model.
fn report_taxon(t: &TaxonFollowUp) {
    let via = match &t.taxon.accepted {
        Some(a) if a != &t.taxon.query => format!(" (knowledge base: {a})"),
        _ => String::new(),
    };
    eprintln!(
        "taxon {}{via}: {} features matched: {}",
        t.taxon.query,
        t.taxon.features.len(),
        t.taxon.features.join(", ")
    );
    for c in &t.by_group_and_time {
        eprintln!(
            "  {:<12} time {:<6} detected in {:>3} of {:>3} samples; mean {:.6}, median {:.6}",
            c.group.as_deref().unwrap_or("all"),
            c.time,
            c.detected,
            c.samples,
            c.mean_relative_abundance,
            c.median_relative_abundance
        );
    }
    match (&t.model, &t.skipped_model) {
        (Some(m), _) => {
            eprintln!("model {} ~ {}:", m.metric, m.formula);
            for term in &m.terms {
                eprintln!(
                    "  {:<28} {:>12.6} se {:>10.6} df {:>7.2} p {:.4}",
                    term.term, term.estimate, term.se, term.df, term.p
                );
            }
        }
        (None, Some(why)) => eprintln!("note: no model for the taxon: {why}"),
        (None, None) => {}
    }
}

//! `gutjoint trajectory`: per-subject change over time and whether groups changed differently.

use crate::input::{TableArgs, metadata_column};
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_axis::profile::KeyedProfiles;
use gutjoint_axis::trajectory::{TimedSample, trajectory};
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
/// Example:
///   gutjoint trajectory examples/data/longitudinal/peerj32/counts.tsv \
///       --metadata examples/data/longitudinal/peerj32/metadata.tsv --subject subject \
///       --time time --group group --control Placebo -o trajectory.tsv
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
    let index = md.index();
    let mut samples = Vec::new();
    let mut no_subject = 0usize;
    for id in table.sample_ids() {
        let Some(&row) = index.get(id.as_str()) else {
            no_subject += 1;
            continue;
        };
        let Some(subject) = subject_col.text(row) else {
            no_subject += 1;
            continue;
        };
        let time = super::engraftment::sample_time(time_col, row, path, id, &subject, &args.time)?;
        let group = match group_col {
            Some(c) => Some(c.text(row).with_context(|| {
                format!(
                    "{}: sample '{id}' has no '{}' value",
                    path.display(),
                    args.group.as_deref().unwrap_or_default()
                )
            })?),
            None => None,
        };
        samples.push(TimedSample {
            sample: id.clone(),
            subject,
            time,
            group,
        });
    }
    if samples.is_empty() {
        bail!(
            "{}: no sample of the table has a '{}' value",
            path.display(),
            args.subject
        );
    }
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
    let result = trajectory(
        &table,
        &samples,
        dysbiosis.as_ref(),
        args.control.as_deref(),
    )
    .with_context(|| path.display().to_string())?;
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
    }
    if args.json {
        return output::print_json(&result);
    }
    let opt = |v: Option<f64>| v.map_or_else(|| "NA".to_string(), |x| x.to_string());
    let mut text = String::from(
        "sample-id\tsubject\ttime\tgroup\tshannon\tobserved_features\tgmhi\tdysbiosis\tbraycurtis_to_first\tbraycurtis_to_previous\n",
    );
    for p in &result.points {
        let _ = writeln!(
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
    }
    output::write_or_print(args.output.as_deref(), &text)
}

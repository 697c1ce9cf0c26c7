//! `gutjoint engraftment`: faecal transplant uptake per recipient sample over time.

use crate::input::{TableArgs, metadata_column};
use crate::output;
use anyhow::{Context, Result, anyhow};
use gutjoint_axis::engraftment::{EngraftmentResult, RecipientSample, engraftment};
use gutjoint_axis::profile::KeyedProfiles;
use gutjoint_axis::trajectory::NamedColumn;
use gutjoint_table::{Metadata, Rank, read_metadata_file};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Engraftment after faecal microbiota transplantation (FMT), per recipient sample: PEDS
/// (proportional engraftment of donor strains, as q2-fmt computes it: features present in both
/// the sample and its donor sample over those present in the donor), Bray–Curtis (proportions)
/// to the donor and to the recipient's own baseline, and the fate of each present feature —
/// donor only, recipient only (baseline), shared, or new. These are feature-level measures
/// (ASVs or species), not strain tracking.
///
/// Recipient samples are those with a --subject value; donor samples are named in --donor and
/// must be samples of the table. The baseline is the sample at --baseline TIME, or each subject's
/// earliest sample. When the table has genus names the recipient's baseline enterotype is
/// reported beside engraftment: in the FLORA trial of FMT in psoriatic arthritis, 5 of 7
/// Bacteroides-type and 0 of 6 Prevotella-type recipients had a long-term response (Kragsnaes
/// et al., "Clinical Significance of Gut Microbiota Community Types for Long-Term Response to
/// Fecal Microbiota Transplantation in Patients With Psoriatic Arthritis"). 13 patients: a
/// hypothesis, not a prediction.
///
/// Example:
///   gutjoint engraftment examples/data/longitudinal/q2fmt/feature-table.biom \
///       --metadata examples/data/longitudinal/q2fmt/metadata.tsv --subject SubjectID \
///       --time time_point --donor Donor -o engraftment.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    #[arg(long, value_name = "MD")]
    pub metadata: PathBuf,
    /// Metadata column naming each recipient sample's subject.
    #[arg(long, value_name = "COL")]
    pub subject: String,
    /// Numeric metadata column with each sample's time (days, weeks or visit number).
    #[arg(long, value_name = "COL")]
    pub time: String,
    /// Metadata column naming each recipient sample's donor sample id.
    #[arg(long, value_name = "COL")]
    pub donor: String,
    /// The baseline (pre-transplant) time; default: each subject's earliest sample.
    #[arg(long, value_name = "TIME")]
    pub baseline: Option<f64>,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The recipient's baseline enterotype beside their engraftment (genus tables only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineEnterotype {
    pub subject: String,
    pub baseline_sample: String,
    pub enterotype: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngraftmentReport {
    pub engraftment: EngraftmentResult,
    /// Empty when the table has no genus names.
    pub baseline_enterotypes: Vec<BaselineEnterotype>,
}

/// Recipient samples from the metadata: rows of the table's samples with a subject value.
pub fn recipients(
    md: &Metadata,
    path: &std::path::Path,
    samples: &[String],
    subject: &str,
    time: &str,
    donor: &str,
) -> Result<Vec<RecipientSample>> {
    let [subject, time, donor] = [subject, time, donor]
        .map(|name| metadata_column(md, path, name).map(|column| NamedColumn { name, column }));
    gutjoint_axis::engraftment::recipients(md, samples, subject?, time?, donor?)
        .map_err(|e| anyhow!("{}: {e}", path.display()))
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let table = args.input.read(quiet)?.table;
    let md = read_metadata_file(&args.metadata)?;
    let recipients = recipients(
        &md,
        &args.metadata,
        table.sample_ids(),
        &args.subject,
        &args.time,
        &args.donor,
    )?;
    let result = engraftment(&table, &recipients, args.baseline)
        .with_context(|| args.metadata.display().to_string())?;
    let baseline_enterotypes = match KeyedProfiles::from_table(&table, Some(Rank::Genus)) {
        Ok(profiles) => {
            let (centroids, _, _) = super::axis::published_centroids()?;
            let calls = gutjoint_axis::enterotype::assign(&profiles, &centroids, None);
            let mut seen = std::collections::BTreeMap::new();
            for s in result.samples.iter().filter(|s| s.is_baseline) {
                if let Some(call) = calls.iter().find(|c| c.sample_id == s.sample) {
                    seen.insert(
                        s.subject.clone(),
                        BaselineEnterotype {
                            subject: s.subject.clone(),
                            baseline_sample: s.sample.clone(),
                            enterotype: call.enterotype.to_string(),
                        },
                    );
                }
            }
            seen.into_values().collect()
        }
        Err(_) => Vec::new(),
    };
    if !quiet {
        eprintln!(
            "note: {} recipient samples from {} subjects; {}",
            result.samples.len(),
            result
                .samples
                .iter()
                .map(|s| s.subject.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            result.resolution_note
        );
        for e in &result.excluded_from_baseline_measures {
            eprintln!(
                "note: subject '{}' left out of the baseline measures: {}",
                e.subject, e.reason
            );
        }
        if baseline_enterotypes.is_empty() {
            eprintln!(
                "note: no baseline enterotype: the table has no genus names (enterotypes need genus profiles)"
            );
        }
    }
    let report = EngraftmentReport {
        engraftment: result,
        baseline_enterotypes,
    };
    if args.json {
        return output::print_json(&report);
    }
    let enterotype_of: std::collections::HashMap<&str, &str> = report
        .baseline_enterotypes
        .iter()
        .map(|e| (e.subject.as_str(), e.enterotype.as_str()))
        .collect();
    let na = |v: Option<String>| v.unwrap_or_else(|| "NA".into());
    let mut text = String::from(
        "sample-id\tsubject\ttime\tdonor\tpeds\ttransferred_donor_features\ttotal_donor_features\tbraycurtis_to_donor\tbaseline_sample\tbraycurtis_to_baseline\tdonor_only\trecipient_only\tshared\tnew\tlost_from_baseline\tbaseline_enterotype\n",
    );
    for s in &report.engraftment.samples {
        let fates = s.fates.map(|f| {
            format!(
                "{}\t{}\t{}\t{}\t{}",
                f.donor_only, f.recipient_only, f.shared, f.new, f.lost_from_baseline
            )
        });
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            s.sample,
            s.subject,
            s.time,
            s.donor,
            s.peds,
            s.transferred_donor_features,
            s.total_donor_features,
            s.braycurtis_to_donor,
            na(s.baseline_sample.clone()),
            na(s.braycurtis_to_baseline.map(|v| v.to_string())),
            fates.unwrap_or_else(|| "NA\tNA\tNA\tNA\tNA".into()),
            enterotype_of
                .get(s.subject.as_str())
                .copied()
                .unwrap_or("NA"),
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

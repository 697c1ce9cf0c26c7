//! The dysbiosis commands: `gmhi`, `reference build|list`, `dysbiosis`, `dominance`,
//! `enterotype`.

use crate::input::TableArgs;
use crate::output;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use gutjoint_axis::enterotype::{assign, centroids};
use gutjoint_axis::gmhi::gmhi;
use gutjoint_axis::reference::Reference;
use gutjoint_axis::{KeyedProfiles, dominance};
use gutjoint_table::metadata::read_metadata;
use gutjoint_table::text::{TextOptions, read_delimited};
use gutjoint_table::{Location, Rank, read_metadata_file};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Gut Microbiome Health Index (Gupta et al. 2020) per sample, exactly as the authors'
/// script: drops unclassified/virus rows, renormalises, zeroes values < 1e-5, compares the
/// 7 health-prevalent with the 43 health-scarce species. Needs species-level profiles.
///
/// Example:
///   gutjoint gmhi examples/data/gmhi/species_relative_abundances.csv -o gmhi.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct GmhiArgs {
    #[command(flatten)]
    pub input: TableArgs,
    /// Only chunk K of N of the samples (consecutive; chunks concatenate to one run's rows).
    #[arg(long, value_name = "K/N")]
    pub samples: Option<String>,
    /// Output TSV (stdout when omitted).
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run_gmhi(args: GmhiArgs, quiet: bool) -> Result<()> {
    let table = super::alpha::sample_chunk(args.input.read(quiet)?.table, args.samples.as_deref())?;
    let result = gmhi(&table);
    if result.mh_species_in_table + result.mn_species_in_table == 0 {
        bail!(
            "none of GMHI's 50 marker species is in the table; GMHI needs MetaPhlAn species-level profiles (s__Genus_species names or lineages)"
        );
    }
    if !quiet {
        eprintln!(
            "note: {} of 7 health-prevalent and {} of 43 health-scarce species are in the table; {} unclassified/virus rows dropped",
            result.mh_species_in_table,
            result.mn_species_in_table,
            result.features_dropped_unclassified_or_virus
        );
    }
    if args.json {
        return output::print_json(&result);
    }
    let mut text = String::from(
        "sample-id\tgmhi\tmh_richness\tmn_richness\tmh_shannon\tmn_shannon\tpsi_mh\tpsi_mn\n",
    );
    for s in &result.scores {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            s.sample_id,
            s.gmhi,
            s.mh_richness,
            s.mn_richness,
            s.mh_shannon,
            s.mn_shannon,
            s.psi_mh,
            s.psi_mn
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

#[derive(Debug, Subcommand)]
pub enum ReferenceCommand {
    Build(Box<BuildArgs>),
    List,
}

/// Healthy reference cohorts: build one from your own healthy samples, or list the built-in
/// ones (made from the bundled real data).
#[derive(Debug, clap::Args)]
pub struct ReferenceArgs {
    #[command(subcommand)]
    pub command: ReferenceCommand,
}

/// Build a reference from the healthy samples of a table.
///
/// Example:
///   gutjoint reference build examples/data/gmhi/validation_abundance.csv \
///       --metadata examples/data/gmhi/validation_metadata.csv --where Phenotype=Healthy \
///       --population Phenotype_all --rank species -o healthy.reference.json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct BuildArgs {
    #[command(flatten)]
    pub input: TableArgs,
    #[arg(long, value_name = "MD")]
    pub metadata: PathBuf,
    /// Which samples are healthy, as COLUMN=VALUE.
    #[arg(long = "where", value_name = "COL=VALUE")]
    pub where_: String,
    /// Column naming each sample's population (country, study); one population when omitted.
    #[arg(long, value_name = "COL")]
    pub population: Option<String>,
    /// Population label when --population is not given.
    #[arg(long, default_value = "reference")]
    pub label: String,
    /// Reference name.
    #[arg(long)]
    pub name: Option<String>,
    /// Free-text description: where the samples come from.
    #[arg(long, default_value = "")]
    pub description: String,
    /// Output reference file (JSON).
    #[arg(short, long, value_name = "REF.json")]
    pub output: PathBuf,
}

#[allow(clippy::too_many_arguments)]
fn build(
    table_path: &[PathBuf],
    input: &TableArgs,
    metadata: &Path,
    where_: (&str, &str),
    population: Option<&str>,
    label: &str,
    name: &str,
    description: &str,
    quiet: bool,
) -> Result<Reference> {
    let table = input.read(quiet)?.table;
    let md = read_metadata_file(metadata)?;
    let source = format!(
        "{} with {} ({}={})",
        table_path
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        metadata.display(),
        where_.0,
        where_.1
    );
    Ok(gutjoint_pipeline::healthy_reference(
        &table,
        &md,
        metadata,
        where_,
        population,
        label,
        input.rank.as_deref().and_then(Rank::parse),
        name,
        description,
        &source,
    )?)
}

pub fn run_reference(args: ReferenceArgs, quiet: bool) -> Result<()> {
    match args.command {
        ReferenceCommand::List => {
            let mut text = String::from("name\trank\tdescription\n");
            for b in &gutjoint_pipeline::BUILT_IN_REFERENCES {
                let _ = writeln!(text, "{}\t{}\t{}", b.name, b.rank, b.description);
            }
            text.push_str("# A reference is only as good as its match to the sample's population: prefer one built from healthy people of the same country and protocol (gutjoint reference build).\n");
            output::print(&text)
        }
        ReferenceCommand::Build(b) => {
            let (col, value) = b
                .where_
                .split_once('=')
                .with_context(|| format!("--where '{}': expected COLUMN=VALUE", b.where_))?;
            let name = b.name.clone().unwrap_or_else(|| {
                b.output.file_stem().map_or("reference".into(), |s| {
                    s.to_string_lossy()
                        .trim_end_matches(".reference")
                        .to_string()
                })
            });
            let reference = build(
                &b.input.table,
                &b.input,
                &b.metadata,
                (col, value),
                b.population.as_deref(),
                &b.label,
                &name,
                &b.description,
                quiet,
            )?;
            let mut json = serde_json::to_string(&reference)?;
            json.push('\n');
            output::write_file(&b.output, json.as_bytes())
        }
    }
}

/// Loads a reference file, or a built-in one by name (precomputed, built into gutjoint).
pub fn load_reference(spec: &str, _quiet: bool) -> Result<Reference> {
    let reference = super::analyze::assets()?.reference(spec)?;
    Ok(std::sync::Arc::unwrap_or_clone(reference))
}

/// Dysbiosis per sample: median Bray–Curtis distance to a healthy reference population (HMP2's
/// definition), its percentile among the reference's own leave-one-out scores, a flag above the
/// 90th percentile, and the taxa that deviate most (CLR z-scores, with direction).
/// With --control VALUE (and --metadata, --column) the reference is the cohort's own control
/// samples instead: same population and protocol, each control scored leave-one-out. A
/// reference from another population measures geography and protocol as much as health; use
/// a built-in one only when the cohort has no controls.
///
/// Examples:
///   gutjoint dysbiosis examples/data/gmhi/validation_abundance.csv --reference gmhi-healthy -o d.tsv
///   gutjoint dysbiosis examples/data/gespic/gespic_genus.tsv --metadata examples/data/gespic/gespic_metadata.tsv \
///       --column group --control healthy -o d.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DysbiosisArgs {
    #[command(flatten)]
    pub input: TableArgs,
    /// Reference file (from `reference build`) or a built-in name (`reference list`).
    #[arg(
        long,
        value_name = "REF",
        required_unless_present = "control",
        conflicts_with = "control"
    )]
    pub reference: Option<String>,
    /// Score against the cohort's own samples with COLUMN=VALUE (needs --metadata, --column).
    #[arg(long, value_name = "VALUE", requires_all = ["metadata", "column"])]
    pub control: Option<String>,
    #[arg(long, value_name = "MD")]
    pub metadata: Option<PathBuf>,
    /// The group column holding the control level.
    #[arg(long, value_name = "COL")]
    pub column: Option<String>,
    /// Population of the reference to compare with (default: all pooled).
    #[arg(long, value_name = "P")]
    pub population: Option<String>,
    /// Number of deviating taxa reported per sample.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Distance: braycurtis (HMP2's definition) or aitchison (CLR over the reference's taxa).
    #[arg(long, value_enum, default_value_t = crate::methods::DysbiosisMetricName::Braycurtis)]
    pub metric: crate::methods::DysbiosisMetricName,
    /// Only chunk K of N of the samples (with --reference: each sample is scored on its own;
    /// chunks concatenate to one run's rows).
    #[arg(long, value_name = "K/N", conflicts_with = "control")]
    pub samples: Option<String>,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn run_dysbiosis(args: DysbiosisArgs, quiet: bool) -> Result<()> {
    let metric = args.metric.metric();
    let result = match (&args.reference, &args.control, &args.metadata, &args.column) {
        (_, Some(control), Some(md_path), Some(column)) => {
            let table = args.input.read(quiet)?.table;
            let md = read_metadata_file(md_path)?;
            let col = crate::input::metadata_column(&md, md_path, column)?;
            let index = md.index();
            let controls: Vec<String> = table
                .sample_ids()
                .iter()
                .filter(|id| {
                    index
                        .get(id.as_str())
                        .and_then(|&r| col.text(r))
                        .is_some_and(|v| v == *control)
                })
                .cloned()
                .collect();
            let rank = match &args.input.rank {
                Some(r) => Rank::parse(r),
                None => table.ranks_present().last().copied(),
            };
            gutjoint_axis::dysbiosis::dysbiosis_against_controls(
                &table,
                &controls,
                control,
                rank,
                args.top,
                metric,
                &output::generated_by(),
            )
            .with_context(|| format!("{}: {column}={control}", md_path.display()))?
        }
        (Some(spec), _, _, _) => {
            let reference = load_reference(spec, quiet)?;
            let table =
                super::alpha::sample_chunk(args.input.read(quiet)?.table, args.samples.as_deref())?;
            let profiles = KeyedProfiles::from_table(&table, reference.rank())?;
            if !quiet {
                eprintln!(
                    "warning: scoring against reference '{}' ({}), built from another cohort: differences of population, country and protocol count as dysbiosis; with the cohort's own controls, use --control",
                    reference.name, reference.description
                );
            }
            gutjoint_axis::dysbiosis::dysbiosis_with(
                &profiles,
                &reference,
                args.population.as_deref(),
                args.top,
                metric,
            )?
        }
        _ => bail!("give --reference, or --control with --metadata and --column"),
    };
    if !quiet && result.mean_shared_abundance < 0.5 {
        eprintln!(
            "note: on average only {:.0}% of a sample's abundance is in taxa the reference has; distances will be large for reasons of method, not health",
            100.0 * result.mean_shared_abundance
        );
    }
    if args.json {
        return output::print_json(&result);
    }
    let mut text =
        String::from("sample-id\tdysbiosis\tpercentile\tflag\treference\ttop_deviating_taxa\n");
    for s in &result.scores {
        let taxa: Vec<String> = s
            .top_deviating_taxa
            .iter()
            .map(|(t, z)| format!("{t} ({z:+.2})"))
            .collect();
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}",
            s.sample_id,
            s.dysbiosis,
            s.percentile,
            s.flag,
            s.reference,
            taxa.join("; ")
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

/// Flag samples dominated by one taxon: Berger–Parker share ≥ threshold (Taur et al. 2012's 30%).
///
/// Example:
///   gutjoint dominance examples/data/gmhi/validation_abundance.csv --rank species
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DominanceArgs {
    #[command(flatten)]
    pub input: TableArgs,
    /// Share at which one taxon counts as dominating.
    #[arg(long, default_value_t = gutjoint_axis::dominance::DEFAULT_THRESHOLD)]
    pub threshold: f64,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
}

pub fn run_dominance(args: DominanceArgs, quiet: bool) -> Result<()> {
    let table = args.input.read(quiet)?.table;
    let rank = args.input.rank.as_deref().and_then(Rank::parse);
    let profiles = KeyedProfiles::from_table(&table, rank)?;
    let mut text = String::from("sample-id\ttop_taxon\tshare\tdominated\n");
    for c in dominance::dominance(&profiles, args.threshold) {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}",
            c.sample_id, c.top_taxon, c.share, c.dominated
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

/// Enterotype per sample (Bacteroides, Prevotella or Ruminococcus type; Arumugam et al. 2011):
/// nearest genus-profile centroid of the published enterotype samples by Jensen–Shannon distance.
///
/// Example:
///   gutjoint enterotype examples/data/gmhi/validation_abundance.csv -o enterotypes.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct EnterotypeArgs {
    #[command(flatten)]
    pub input: TableArgs,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    /// Print the calls as JSON.
    #[arg(long)]
    pub json: bool,
    /// Instead of calling a table, measure agreement with the published labels of the bundled
    /// Arumugam et al. samples, in-sample and leaving each sample out of its centroid.
    #[arg(long, conflicts_with = "json")]
    pub evaluate_published: bool,
}

/// Centroids from the Arumugam et al. data built into the binary (or the assets folder's copy:
/// `enterotype/enterotype.genus.tsv` and `.metadata.tsv`), never from a build-time path.
pub fn published_centroids() -> Result<(
    gutjoint_axis::enterotype::Centroids,
    KeyedProfiles,
    Vec<Option<usize>>,
)> {
    let assets = super::analyze::assets()?;
    let (table_name, md_name) = (
        "enterotype/enterotype.genus.tsv",
        "enterotype/enterotype.metadata.tsv",
    );
    let table = read_delimited(
        assets.file(table_name)?.as_slice(),
        &Location::named(table_name),
        TextOptions::default(),
    )?;
    let profiles = KeyedProfiles::from_table(&table, Some(Rank::Genus))?;
    let md = read_metadata(assets.file(md_name)?.as_slice(), &Location::named(md_name))?;
    let col = md
        .column("Enterotype")
        .context("enterotype metadata has no Enterotype column")?;
    let index = md.index();
    let labels: Vec<Option<usize>> = table
        .sample_ids()
        .iter()
        .map(|id| {
            index
                .get(id.as_str())
                .and_then(|&r| col.text(r))
                .and_then(|t| t.parse::<usize>().ok())
                .and_then(|e| e.checked_sub(1))
        })
        .collect();
    Ok((centroids(&profiles, &labels), profiles, labels))
}

pub fn run_enterotype(args: EnterotypeArgs, quiet: bool) -> Result<()> {
    let (c, published, labels) = published_centroids()?;
    if args.evaluate_published {
        let agreement = |calls: &[gutjoint_axis::enterotype::EnterotypeCall]| {
            let pairs: Vec<bool> = calls
                .iter()
                .zip(&labels)
                .filter_map(|(call, l)| {
                    l.map(|e| call.enterotype == gutjoint_axis::enterotype::NAMES[e])
                })
                .collect();
            (pairs.iter().filter(|a| **a).count(), pairs.len())
        };
        let (a, n) = agreement(&assign(&published, &c, None));
        let (b, _) = agreement(&assign(&published, &c, Some(&labels)));
        return output::print(&format!(
            "labelled_samples\t{n}\nagreement_in_sample\t{a}\t{:.4}\nagreement_leave_one_out\t{b}\t{:.4}\n",
            a as f64 / n as f64,
            b as f64 / n as f64
        ));
    }
    let table = args.input.read(quiet)?.table;
    let profiles = match KeyedProfiles::from_table(&table, Some(Rank::Genus)) {
        Ok(p) => p,
        Err(_) => KeyedProfiles::from_table(&table, None)?,
    };
    let calls = assign(&profiles, &c, None);
    if args.json {
        return output::print_json(&calls);
    }
    let mut text =
        String::from("sample-id\tenterotype\tjsd_bacteroides\tjsd_prevotella\tjsd_ruminococcus\n");
    for e in &calls {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}",
            e.sample_id, e.enterotype, e.distances[0], e.distances[1], e.distances[2]
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

/// Arthritis signatures: for each sample and each cited taxon–disease association, the
/// sample's abundance of the taxon, its percentile among healthy reference samples, and
/// whether it points the way the study reported (yes/no against the reference median; `tie`
/// when equal to it, a zero against a zero median included) — with citation and a population
/// note. A comparison, not a diagnosis.
///
/// Example:
///   gutjoint signatures examples/data/gmhi/validation_abundance.csv --disease AS \
///       --reference gmhi-healthy -o signatures.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SignaturesArgs {
    #[command(flatten)]
    pub input: TableArgs,
    /// Disease codes or names to include (repeatable; default: all).
    #[arg(long = "disease", value_name = "D")]
    pub diseases: Vec<String>,
    /// Healthy reference for percentiles (file or built-in name).
    #[arg(long, value_name = "REF")]
    pub reference: Option<String>,
    /// Reference population to use.
    #[arg(long, value_name = "P")]
    pub population: Option<String>,
    /// The samples' own population (country name or ISO code), for the population notes.
    #[arg(long, value_name = "LABEL")]
    pub sample_population: Option<String>,
    /// The samples' type: only associations measured in it are scored.
    #[arg(long, value_name = "TYPE", default_value = "stool")]
    pub sample_type: String,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    /// Only chunk K of N of the samples (consecutive; each sample is scored against the
    /// reference on its own, so the chunks' rows concatenate to one run's rows).
    #[arg(long, value_name = "K/N")]
    pub samples: Option<String>,
}

pub fn run_signatures(args: SignaturesArgs, quiet: bool) -> Result<()> {
    let kb = gutjoint_knowledge::KnowledgeBase::embedded()?;
    let mut diseases = Vec::new();
    for d in &args.diseases {
        let answer = kb.disease(d);
        match answer.disease {
            Some(code) => {
                if let Some(s) = &answer.suggestion {
                    eprintln!("note: reading disease '{d}' as '{s}' ({code})");
                }
                diseases.push(code.to_string());
            }
            None => match answer.suggestion {
                Some(s) => bail!("unknown disease '{d}'; did you mean '{s}'?"),
                None => bail!("unknown disease '{d}'"),
            },
        }
    }
    let reference = match &args.reference {
        Some(r) => Some(load_reference(r, quiet)?),
        None => None,
    };
    if let Some(r) = &reference {
        r.population(args.population.as_deref())?;
    }
    let table = super::alpha::sample_chunk(args.input.read(quiet)?.table, args.samples.as_deref())?;
    let cohort = gutjoint_axis::replicate::Cohort {
        contrast: gutjoint_knowledge::Contrast::CaseControl,
        sample_type: super::replicate::parse_code(
            &args.sample_type,
            "--sample-type",
            gutjoint_knowledge::SampleType::ALL,
        )?,
    };
    // Sample by sample (the library's order), so the rows of consecutive `--samples` chunks
    // concatenate to one run's rows.
    let rows = gutjoint_axis::signatures::signatures_in(
        &kb,
        &table,
        &diseases,
        reference.as_ref().map(|r| (r, args.population.as_deref())),
        args.sample_population.as_deref(),
        &cohort,
    );
    if args.json {
        return output::print_json(&rows);
    }
    let mut text = String::from(
        "sample-id\ttaxon\tdisease\treported_direction\tabundance\tpercentile\tconsistent\tpopulation_note\tcitation\tdoi\tassociation\tconfidence\treference_median\n",
    );
    let na = |v: Option<f64>| v.map_or("NA".to_string(), |x| x.to_string());
    for r in &rows {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.sample_id,
            r.taxon,
            r.disease,
            r.reported_direction,
            na(r.abundance),
            na(r.percentile),
            r.consistent,
            r.population_note,
            r.citation,
            r.doi,
            r.association,
            r.confidence,
            na(r.reference_median)
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

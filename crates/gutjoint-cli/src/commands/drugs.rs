//! `gutjoint drugs` and `gutjoint enzymes`: what a profile's bacteria may do to drugs.

use crate::input::TableArgs;
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_axis::KeyedProfiles;
use gutjoint_axis::pharmaco::{
    CarriageIndex, DrugInputs, enzyme_capacity, medications_by_sample, reference_bands,
    resolve_drug_name, score_drugs_in,
};
use gutjoint_knowledge::{KnowledgeBase, PharmacoData};
use gutjoint_table::{Rank, read_metadata_file, read_table};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The knowledge base and the run-time tables (AGORA2 carriage, Maier 2018): from --knowledge
/// or GUTJOINT_KNOWLEDGE when given, else from the assets (built in, or GUTJOINT_ASSETS).
fn load(arg: &Option<PathBuf>) -> Result<(KnowledgeBase, std::sync::Arc<PharmacoData>)> {
    let dir = arg
        .clone()
        .or_else(|| std::env::var_os("GUTJOINT_KNOWLEDGE").map(PathBuf::from));
    if let Some(dir) = dir {
        let data = KnowledgeBase::load_pharmaco_dir(&dir).with_context(|| {
            format!(
                "cannot read the AGORA2/Maier tables in {} (use --knowledge DIR)",
                dir.display()
            )
        })?;
        return Ok((KnowledgeBase::embedded()?, std::sync::Arc::new(data)));
    }
    let assets = super::analyze::assets()?;
    Ok((assets.knowledge().clone(), assets.pharmaco()?))
}

fn species_profiles(
    input: &TableArgs,
    samples: Option<&str>,
    quiet: bool,
) -> Result<KeyedProfiles> {
    let table = super::alpha::sample_chunk(input.read(quiet)?.table, samples)?;
    if !table.ranks_present().contains(&Rank::Species) {
        bail!(
            "drug–microbe capacity needs species-level profiles (MetaPhlAn species or a table with species lineages); this table names no species"
        );
    }
    Ok(KeyedProfiles::from_table(&table, Some(Rank::Species))?)
}

/// Resolves a drug name (brand names and misspellings included) to its canonical key.
/// Drug–microbe interactions per sample: for each drug and mechanism, the community's capacity
/// (Σ abundance × AGORA2 strain carriage of the enzyme), the share of the profile AGORA2 covers
/// and the upper bound if every unmapped species carried it, a low/typical/high call against a
/// healthy reference, the mechanism's evidence grade and, separately, the estimate's measured
/// validity (sensitivity and specificity of the enzyme column against AGORA2's in-vitro tests;
/// under 50% sensitivity the call is `not informative`), and the citation; drugs that inhibit
/// gut strains in vitro (Maier 2018) list the inhibited species present. With --disease, a
/// mechanism acting only on a moiety that is not the active one in that disease is `not
/// relevant` (sulfasalazine: sulfapyridine in RA, 5-ASA in IBD). Research use only, never a
/// prescription aid.
///
/// Examples:
///   gutjoint drugs examples/data/gmhi/validation_abundance.csv --drugs sulfasalazine,diclofenac -o drugs.tsv
///   gutjoint drugs profiles/ --metadata md.tsv --medication-column medication
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    /// Drugs to score for every sample (comma-separated; brand names and synonyms accepted).
    #[arg(long, value_delimiter = ',', value_name = "D1,D2")]
    pub drugs: Vec<String>,
    /// Metadata with each sample's medication list (use with --medication-column).
    #[arg(long, value_name = "MD")]
    pub metadata: Option<PathBuf>,
    /// Column listing each sample's drugs (separated by , ; / or +).
    #[arg(long, value_name = "COL")]
    pub medication_column: Option<String>,
    /// HUMAnN EC table (regrouped, e.g. humann_regroup_table --groups uniref90_level4ec): measured
    /// enzyme abundance is used where it covers the mechanism.
    #[arg(long, value_name = "EC.tsv")]
    pub functional: Option<PathBuf>,
    /// The samples' disease (code or name, e.g. RA): the drugs' pharmacology is read for it.
    #[arg(long, value_name = "D")]
    pub disease: Option<String>,
    /// Healthy reference for the calls (default: the built-in gmhi-healthy).
    #[arg(long, value_name = "REF", default_value = "gmhi-healthy")]
    pub reference: String,
    /// Folder with enzyme_carriage.tsv and maier2018_inhibition.tsv (default: the tables built into gutjoint).
    #[arg(long, value_name = "DIR")]
    pub knowledge: Option<PathBuf>,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    /// Only chunk K of N of the samples (consecutive; each sample is called against the
    /// reference's bands on its own, so the chunks' rows concatenate to one run's rows).
    #[arg(long, value_name = "K/N")]
    pub samples: Option<String>,
}

/// HUMAnN unstratified EC rows: EC number → abundance per profile sample.
fn measured_ec(path: &Path, sample_ids: &[String]) -> Result<HashMap<String, Vec<f64>>> {
    let table = read_table(path, Default::default())?.table;
    let strip = |id: &str| id.split("_Abundance").next().unwrap_or(id).to_string();
    let columns: HashMap<String, usize> = table
        .sample_ids()
        .iter()
        .enumerate()
        .map(|(i, id)| (strip(id), i))
        .collect();
    let mut missing = Vec::new();
    let positions: Vec<usize> = sample_ids
        .iter()
        .filter_map(|id| {
            let p = columns.get(id).copied();
            if p.is_none() {
                missing.push(id.clone());
            }
            p
        })
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: no column for {} profile samples (first: '{}'); HUMAnN columns must be named by sample id",
            path.display(),
            missing.len(),
            missing[0]
        );
    }
    let mut out: HashMap<String, Vec<f64>> = HashMap::new();
    for (f, id) in table.feature_ids().iter().enumerate() {
        if id.contains('|') {
            continue; // stratified row: the unstratified total is used
        }
        let ec = id.split([':', ' ']).next().unwrap_or(id).to_string();
        let entry = out.entry(ec).or_insert_with(|| vec![0.0; sample_ids.len()]);
        for (s, &col) in positions.iter().enumerate() {
            entry[s] += table.get(col, f);
        }
    }
    Ok(out)
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let (kb, data) = load(&args.knowledge)?;
    let disease = match &args.disease {
        None => None,
        Some(d) => {
            let answer = kb.disease(d);
            match (answer.disease, answer.suggestion) {
                (Some(code), None) => Some(code),
                (Some(code), Some(s)) => {
                    if !quiet {
                        eprintln!("note: reading disease '{d}' as '{s}' ({code})");
                    }
                    Some(code)
                }
                (None, Some(s)) => bail!("unknown disease '{d}'; did you mean '{s}'?"),
                (None, None) => bail!("unknown disease '{d}'"),
            }
        }
    };
    let profiles = species_profiles(&args.input, args.samples.as_deref(), quiet)?;
    let mut common = Vec::new();
    for d in &args.drugs {
        common.push(resolve_drug_name(&kb, d).map_err(anyhow::Error::msg)?);
    }
    let per_sample = match (&args.metadata, &args.medication_column) {
        (Some(md_path), Some(column)) => {
            let md = read_metadata_file(md_path)?;
            let col = crate::input::metadata_column(&md, md_path, column)?;
            let index = md.index();
            let (per_sample, unknown) = medications_by_sample(
                &kb,
                &common,
                profiles
                    .sample_ids
                    .iter()
                    .map(|id| index.get(id.as_str()).and_then(|&r| col.text(r))),
            );
            if !unknown.is_empty() && !quiet {
                for message in unknown.values() {
                    eprintln!("warning: {message} (in column '{column}'); it was not scored");
                }
            }
            per_sample
        }
        (None, None) => vec![common; profiles.sample_ids.len()],
        _ => bail!("--metadata and --medication-column go together"),
    };
    if per_sample.iter().all(Vec::is_empty) {
        bail!("no drug to score: give --drugs, or --metadata with --medication-column");
    }
    let index = CarriageIndex::new(&kb, &data);
    // The reference's capacity band for each enzyme column used.
    let reference = super::axis::load_reference(&args.reference, quiet)?;
    let bands = reference_bands(&kb, &index, &reference, None)?;
    if bands.is_empty() && !quiet {
        eprintln!(
            "note: reference '{}' is not species-level; calls are n/a",
            reference.name
        );
    }
    let measured = match &args.functional {
        Some(path) => Some(measured_ec(path, &profiles.sample_ids)?),
        None => None,
    };
    let calls = score_drugs_in(
        &DrugInputs {
            kb: &kb,
            data: &data,
            index: &index,
            profiles: &profiles,
            drugs: &per_sample,
            bands: &bands,
            measured: measured.as_ref(),
        },
        disease,
    );
    if args.json {
        return output::print_json(&calls);
    }
    let na = |v: Option<f64>| v.map_or("NA".to_string(), |x| x.to_string());
    let mut text = String::from(
        "sample-id\tdrug\tinteraction\tenzyme\tcapacity\tmapped_fraction\tcall\tmechanism_evidence\tcitation\tupper_bound\tsource\testimate_validity\tpharmacology\n",
    );
    for c in &calls {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.sample_id,
            c.drug,
            c.interaction,
            c.enzyme,
            na(c.capacity),
            na(c.mapped_fraction),
            c.call,
            c.evidence,
            c.citation,
            na(c.upper_bound),
            c.source,
            c.estimate_validity,
            c.pharmacology.as_deref().unwrap_or("")
        );
    }
    output::write_or_print(args.output.as_deref(), &text)
}

/// Enzyme capacities per sample for AGORA2 enzyme columns (Σ abundance × strain carriage).
///
/// Example:
///   gutjoint enzymes examples/data/gmhi/validation_abundance.csv --enzyme UidA_any --enzyme AzoR_any
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct EnzymeArgs {
    #[command(flatten)]
    pub input: TableArgs,
    /// AGORA2 enzyme column (repeatable), e.g. AzoR_any, UidA_any, NAT_any, cCgr, TdcA.
    #[arg(long = "enzyme", value_name = "COL", required = true)]
    pub enzymes: Vec<String>,
    #[arg(long, value_name = "DIR")]
    pub knowledge: Option<PathBuf>,
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
}

pub fn run_enzymes(args: EnzymeArgs, quiet: bool) -> Result<()> {
    let (kb, data) = load(&args.knowledge)?;
    for e in &args.enzymes {
        if !data.enzyme_columns.contains(e) {
            bail!(
                "unknown enzyme column '{e}'; the AGORA2 columns are: {}",
                data.enzyme_columns.join(", ")
            );
        }
    }
    let profiles = species_profiles(&args.input, None, quiet)?;
    let index = CarriageIndex::new(&kb, &data);
    let caps: Vec<Vec<gutjoint_axis::pharmaco::Capacity>> = args
        .enzymes
        .iter()
        .map(|e| enzyme_capacity(&kb, &index, &profiles, e))
        .collect();
    let mut text = String::from("sample-id");
    for e in &args.enzymes {
        let _ = write!(text, "\t{e}\t{e}_mapped_fraction");
    }
    text.push('\n');
    for (s, id) in profiles.sample_ids.iter().enumerate() {
        text.push_str(id);
        for c in &caps {
            let _ = write!(text, "\t{}\t{}", c[s].capacity, c[s].mapped_fraction);
        }
        text.push('\n');
    }
    output::write_or_print(args.output.as_deref(), &text)
}

//! `gutjoint drugs` and `gutjoint enzymes`: what a profile's bacteria may do to drugs.

use crate::input::TableArgs;
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_axis::KeyedProfiles;
use gutjoint_axis::pharmaco::{
    Band, CarriageIndex, DrugInputs, band, enzyme_capacity, score_drugs,
};
use gutjoint_knowledge::{KnowledgeBase, PharmacoData};
use gutjoint_table::{Rank, read_metadata_file, read_table};
use std::collections::{BTreeMap, HashMap};
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

fn species_profiles(input: &TableArgs, quiet: bool) -> Result<KeyedProfiles> {
    let table = input.read(quiet)?.table;
    if !table.ranks_present().contains(&Rank::Species) {
        bail!(
            "drug–microbe capacity needs species-level profiles (MetaPhlAn species or a table with species lineages); this table names no species"
        );
    }
    Ok(KeyedProfiles::from_table(&table, Some(Rank::Species))?)
}

/// Resolves a drug name (brand names and misspellings included) to its canonical key.
fn resolve(kb: &KnowledgeBase, name: &str) -> Result<String, String> {
    match kb.resolve_drug(name) {
        Ok(d) => Ok(d.drug.clone()),
        Err(s) => Err(match s.suggestion {
            Some(x) => format!("unknown drug '{name}'; did you mean '{x}'?"),
            None => format!("unknown drug '{name}'"),
        }),
    }
}

/// Drug–microbe interactions per sample: for each drug and mechanism, the community's capacity
/// (Σ abundance × AGORA2 strain carriage of the enzyme), the share of the profile AGORA2 covers
/// and the upper bound if every unmapped species carried it, a low/typical/high call against a
/// healthy reference, evidence and citation; drugs that inhibit gut strains in vitro (Maier
/// 2018) list the inhibited species present. Research use only, never a prescription aid.
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
    let profiles = species_profiles(&args.input, quiet)?;
    let n = profiles.sample_ids.len();
    let mut per_sample: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut common = Vec::new();
    for d in &args.drugs {
        common.push(resolve(&kb, d.trim()).map_err(anyhow::Error::msg)?);
    }
    for v in per_sample.iter_mut() {
        v.extend(common.iter().cloned());
    }
    match (&args.metadata, &args.medication_column) {
        (Some(md_path), Some(column)) => {
            let md = read_metadata_file(md_path)?;
            let col = crate::input::metadata_column(&md, md_path, column)?;
            let index = md.index();
            let mut unknown: BTreeMap<String, String> = BTreeMap::new();
            for (s, id) in profiles.sample_ids.iter().enumerate() {
                let Some(text) = index.get(id.as_str()).and_then(|&r| col.text(r)) else {
                    continue;
                };
                for name in text
                    .split([',', ';', '/', '+'])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                {
                    if matches!(
                        name.to_ascii_lowercase().as_str(),
                        "none" | "no" | "na" | "-" | "0"
                    ) {
                        continue;
                    }
                    match resolve(&kb, name) {
                        Ok(d) => {
                            if !per_sample[s].contains(&d) {
                                per_sample[s].push(d);
                            }
                        }
                        Err(message) => {
                            unknown.insert(name.to_string(), message);
                        }
                    }
                }
            }
            if !unknown.is_empty() && !quiet {
                for message in unknown.values() {
                    eprintln!("warning: {message} (in column '{column}'); it was not scored");
                }
            }
        }
        (None, None) => {}
        _ => bail!("--metadata and --medication-column go together"),
    }
    if per_sample.iter().all(Vec::is_empty) {
        bail!("no drug to score: give --drugs, or --metadata with --medication-column");
    }
    let index = CarriageIndex::new(&kb, &data);
    // The reference's capacity band for each enzyme column used.
    let reference = super::axis::load_reference(&args.reference, quiet)?;
    let mut bands: BTreeMap<String, Band> = BTreeMap::new();
    if reference.rank() == Some(Rank::Species) {
        let pop = reference.population(None)?;
        let ref_profiles = KeyedProfiles {
            rank: Some(Rank::Species),
            sample_ids: pop.sample_ids.clone(),
            keys: pop.keys.clone(),
            rows: pop.profiles.clone(),
        };
        let columns: std::collections::BTreeSet<String> = kb
            .drug_microbe()
            .iter()
            .filter_map(|m| m.agora2_column.clone())
            .collect();
        for column in columns {
            let caps: Vec<f64> = enzyme_capacity(&kb, &index, &ref_profiles, &column)
                .iter()
                .map(|c| c.capacity)
                .collect();
            if let Some(b) = band(&caps) {
                bands.insert(column, b);
            }
        }
    } else if !quiet {
        eprintln!(
            "note: reference '{}' is not species-level; calls are n/a",
            reference.name
        );
    }
    let measured = match &args.functional {
        Some(path) => Some(measured_ec(path, &profiles.sample_ids)?),
        None => None,
    };
    let calls = score_drugs(&DrugInputs {
        kb: &kb,
        data: &data,
        index: &index,
        profiles: &profiles,
        drugs: &per_sample,
        bands: &bands,
        measured: measured.as_ref(),
    });
    if args.json {
        return output::print_json(&calls);
    }
    let na = |v: Option<f64>| v.map_or("NA".to_string(), |x| x.to_string());
    let mut text = String::from(
        "sample-id\tdrug\tinteraction\tenzyme\tcapacity\tmapped_fraction\tcall\tevidence\tcitation\tupper_bound\tsource\n",
    );
    for c in &calls {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
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
            c.source
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
    let profiles = species_profiles(&args.input, quiet)?;
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

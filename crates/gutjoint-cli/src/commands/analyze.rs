//! `gutjoint analyze` and `gutjoint demo`: the main job, one report from one command.

use crate::input::TableArgs;
use crate::methods::{BetaMetricName, ClassifierName, DaMethodName};
use anyhow::{Context, Result, bail};
use gutjoint_pipeline::{AnalysisConfig, Assets, Observer, OutcomeConfig, write_outputs};
use std::path::{Path, PathBuf};

/// Run every analysis the inputs allow and write OUT_DIR/report.html (self-contained),
/// OUT_DIR/results.json and OUT_DIR/tables/*.tsv: table QC, alpha diversity by group,
/// composition, beta diversity with PCoA, PERMANOVA and PERMDISP.
///
/// Example:
///   gutjoint analyze examples/data/gmhi/validation_abundance.csv \
///       --metadata examples/demo/gmhi_arthritis_metadata.tsv --group group -o out/
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    /// QIIME 2 metadata file; samples not in it are left out (and counted).
    #[arg(long, value_name = "MD.tsv")]
    pub metadata: Option<PathBuf>,
    /// Metadata column that defines the groups compared.
    #[arg(long, value_name = "COL")]
    pub group: Option<String>,
    /// Beta-diversity metric for the ordination and the tests.
    #[arg(long, value_enum, default_value_t = BetaMetricName::Braycurtis, value_name = "M")]
    pub metric: BetaMetricName,
    /// Newick tree (enables faith_pd and UniFrac metrics).
    #[arg(long, value_name = "NWK")]
    pub tree: Option<PathBuf>,
    /// Permutations for PERMANOVA/PERMDISP.
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
    /// Seed for every permutation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Healthy reference for dysbiosis, signatures and drug calls (file or built-in name;
    /// default: gmhi-healthy for species-level tables, gespic-healthy for genus-level ones).
    #[arg(long, value_name = "REF")]
    pub reference: Option<String>,
    /// Population of the reference to compare with.
    #[arg(long, value_name = "P")]
    pub population: Option<String>,
    /// Metadata column listing each sample's drugs (scored for drug–microbe interactions).
    #[arg(long, value_name = "COL")]
    pub medication_column: Option<String>,
    /// Drugs to score for every sample ("what would these bacteria do to …"), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "D1,D2")]
    pub drugs: Vec<String>,
    /// Host variables (numeric metadata columns such as CRP, BASDAI) for the gut–joint section.
    #[arg(long, value_delimiter = ',', value_name = "V1,V2")]
    pub host_variables: Vec<String>,
    /// Covariates of the host associations (`age + C(sex)`).
    #[arg(long, value_name = "COVARIATES")]
    pub covariates: Option<String>,
    /// Differential-abundance model: lm (log10 linear models) or ancombc (ANCOM-BC).
    #[arg(long, value_enum, default_value_t = DaMethodName::Lm, value_name = "METHOD")]
    pub da_method: DaMethodName,
    /// Classifier of each group against the reference group: l1-logistic, rf or none.
    #[arg(long, value_enum, default_value_t = ClassifierName::L1Logistic, value_name = "MODEL")]
    pub classifier: ClassifierName,
    /// One-patient view of this sample at the top of the report.
    #[arg(long, value_name = "ID")]
    pub sample: Option<String>,
    /// Report title.
    #[arg(long, default_value = "gutjoint report")]
    pub title: String,
    /// Output folder.
    #[arg(short, long, value_name = "OUT_DIR")]
    pub output: PathBuf,
    /// Batch column (sequencing run, centre, study): added to the differential-abundance and
    /// host-association models, PERMANOVA re-run with permutations within batches, classifiers
    /// validated leaving one batch out.
    #[arg(long, value_name = "COL")]
    pub batch: Option<String>,
    /// Control level of the group column (default: healthy, HC, control or controls when
    /// present): dysbiosis and signatures are scored against these samples.
    #[arg(long, value_name = "VALUE")]
    pub control: Option<String>,
    /// Metadata column naming each sample's subject: with --time, adds "Change over time"
    /// (a line per subject for Shannon and dysbiosis, and per metric the mixed model
    /// `metric ~ time * group + (1 | subject)` that `gutjoint trajectory` fits).
    #[arg(long, value_name = "COL", requires = "time")]
    pub subject: Option<String>,
    /// Numeric metadata column with each sample's time (days, weeks or visit number).
    #[arg(long, value_name = "COL", requires = "subject")]
    pub time: Option<String>,
    /// Metadata column naming each recipient sample's donor sample (faecal transplants):
    /// adds the engraftment (PEDS) curves per recipient, as `gutjoint engraftment`.
    #[arg(long, value_name = "COL", requires = "subject")]
    pub donor: Option<String>,
    /// The intervention studied (probiotic, FMT, anti-TNF …) when the metadata does not name
    /// it: the knowledge base's rows for it stand beside what the cohort shows.
    #[arg(long, value_delimiter = ',', value_name = "T1,T2")]
    pub therapy: Vec<String>,
    /// The disease the cohort is about (code or name, e.g. RA), as `gutjoint drugs --disease`:
    /// the drugs' pharmacology is read for it (default: the one disease the group's levels
    /// name; none when they name several).
    #[arg(long, value_name = "D")]
    pub disease: Option<String>,
    /// Add "Does the microbiome predict response?": predict this metadata column (binary with
    /// --positive, else numeric) from the baseline microbiome and --clinical covariates, as
    /// `gutjoint predict` does with its default settings and this --seed.
    #[arg(long, value_name = "COL")]
    pub outcome: Option<String>,
    /// The outcome's positive level (responder); makes the outcome binary.
    #[arg(long, value_name = "VALUE", requires = "outcome")]
    pub positive: Option<String>,
    /// Clinical covariates the microbiome has to beat, comma-separated.
    #[arg(
        long,
        value_name = "COL,COL",
        value_delimiter = ',',
        requires = "outcome"
    )]
    pub clinical: Vec<String>,
    /// Label permutations of the microbiome-only model's p (0 to skip).
    #[arg(long, default_value_t = 99, requires = "outcome")]
    pub outcome_permutations: usize,
}

/// Run `analyze` on the bundled real data and write three reports: GMHI validation profiles
/// (ankylosing spondylitis, rheumatoid arthritis and healthy stool metagenomes) in OUT_DIR,
/// the GESPIC spondyloarthritis cohort in OUT_DIR/gespic, and change over time in a probiotic
/// trial (Lactobacillus rhamnosus GG vs placebo, before and after) in OUT_DIR/probiotic.
///
/// Example:
///   gutjoint demo -o gutjoint-demo && open gutjoint-demo/report.html
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// Output folder.
    #[arg(short, long, default_value = "gutjoint-demo")]
    pub output: PathBuf,
    /// Folder laid out as the repository's examples/ to read the demo data from (default: the
    /// copies built into gutjoint, written to OUT_DIR/inputs/).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Permutations for PERMANOVA/PERMDISP.
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
    /// Seed for every permutation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run_demo(args: DemoArgs, quiet: bool) -> Result<()> {
    let assets = assets()?;
    // The bundled data: from --data (the repository's examples/ layout), else the copies
    // built into the binary, written beside the report so the run can be repeated by hand.
    let file = |data: &str, embedded: &str, out: &Path| -> Result<PathBuf> {
        if let Some(dir) = &args.data {
            let path = dir.join(data);
            if !path.is_file() {
                bail!("{}: no such file in the --data folder", path.display());
            }
            return Ok(path);
        }
        let name = Path::new(embedded).file_name().unwrap_or_default();
        let path = out.join("inputs").join(name);
        crate::output::write_file(&path, &assets.file(embedded)?)?;
        Ok(path)
    };
    let gespic_out = args.output.join("gespic");
    let common = |table: PathBuf, metadata: PathBuf, title: &str| AnalysisConfig {
        table: vec![table],
        metadata: Some(metadata),
        group: Some("group".into()),
        permutations: args.permutations,
        seed: args.seed,
        title: title.into(),
        ..AnalysisConfig::default()
    };
    // 1. GMHI validation profiles: AS, RA and healthy stool metagenomes (MetaPhlAn2 species).
    let gmhi = AnalysisConfig {
        drugs: ["sulfasalazine", "methotrexate", "diclofenac", "filgotinib"]
            .map(String::from)
            .to_vec(),
        ..common(
            file(
                "data/gmhi/validation_abundance.csv",
                "demo/gmhi/validation_abundance.csv",
                &args.output,
            )?,
            file(
                "demo/gmhi_arthritis_metadata.tsv",
                "demo/gmhi/gmhi_arthritis_metadata.tsv",
                &args.output,
            )?,
            "gutjoint demo — gut microbiome in ankylosing spondylitis, rheumatoid arthritis and health (GMHI validation profiles)",
        )
    };
    // 2. GESPIC: German axSpA, uveitis, Crohn's and healthy controls (16S genus bins).
    let gespic = AnalysisConfig {
        host_variables: ["BASDAI", "ASDAS", "CRP"].map(String::from).to_vec(),
        covariates: Some("age + C(sex)".into()),
        ..common(
            file(
                "data/gespic/gespic_genus.tsv",
                "demo/gespic/gespic_genus.tsv",
                &gespic_out,
            )?,
            file(
                "data/gespic/gespic_metadata.tsv",
                "demo/gespic/gespic_metadata.tsv",
                &gespic_out,
            )?,
            "gutjoint demo — German Spondyloarthritis Inception Cohort (GESPIC, 16S genus level)",
        )
    };
    // 3. Change over time: the Lactobacillus rhamnosus GG trial (Lahti et al. 2013, PeerJ),
    // 22 adults before and after LGG or placebo (HITChip genus-like taxa). Chosen over the
    // bundled FMT set because it has two arms (LGG, placebo) to colour and compare, enough
    // subjects for the mixed models, genus names for dysbiosis and composition, and a
    // documented study; the FMT set (5 recipients, no arms, no taxonomy) is what the CLI tests
    // run the engraftment curves on.
    let probiotic_out = args.output.join("probiotic");
    let probiotic = AnalysisConfig {
        taxonomy: Some(file(
            "data/longitudinal/peerj32/taxonomy.tsv",
            "demo/probiotic/peerj32_taxonomy.tsv",
            &probiotic_out,
        )?),
        // HITChip's "et rel." groups read as species, but the profiles are genus-like 16S:
        // the healthy reference is GESPIC's 16S genera, not GMHI's metagenomic species.
        reference: Some("gespic-healthy".into()),
        subject: Some("subject".into()),
        time: Some("time".into()),
        therapy: vec!["probiotic".into()],
        ..common(
            file(
                "data/longitudinal/peerj32/counts.tsv",
                "demo/probiotic/peerj32_counts.tsv",
                &probiotic_out,
            )?,
            file(
                "data/longitudinal/peerj32/metadata.tsv",
                "demo/probiotic/peerj32_metadata.tsv",
                &probiotic_out,
            )?,
            "gutjoint demo — change over time: Lactobacillus rhamnosus GG vs placebo, before and after (Lahti et al. 2013, HITChip)",
        )
    };
    run_config(&gmhi, &assets, &args.output, quiet)?;
    run_config(&gespic, &assets, &gespic_out, quiet)?;
    run_config(&probiotic, &assets, &probiotic_out, quiet)
}

/// The assets: the folder named by GUTJOINT_ASSETS when set (its files replace the built-in
/// ones), else the copies built into the binary.
pub fn assets() -> Result<Assets> {
    Ok(match std::env::var_os("GUTJOINT_ASSETS") {
        Some(dir) if !dir.is_empty() => Assets::from_dir(Path::new(&dir))
            .with_context(|| "GUTJOINT_ASSETS names an unusable assets folder".to_string())?,
        _ => Assets::embedded()?,
    })
}

/// Shows the steps of a run on stderr (`[gutjoint] step`), unless `--quiet`.
struct CliObserver {
    quiet: bool,
}

impl Observer for CliObserver {
    fn progress(&self, step: &str, _done: u64, _total: u64) {
        if !self.quiet {
            eprintln!("[gutjoint] {step}");
        }
    }
}

/// The settings of `analyze`'s flags as the library's configuration.
fn config_of(args: &Args) -> Result<AnalysisConfig> {
    // Refuse a mistyped model before any work: a silent fallback would put another method's
    // numbers in the report.
    let da_method = args.da_method.for_analysis()?;
    let classifier = args.classifier.for_analysis();
    if args.metadata.is_some() != args.group.is_some() {
        bail!("--metadata and --group go together");
    }
    Ok(AnalysisConfig {
        table: args.input.table.clone(),
        format: args.input.format.clone(),
        samples_as_rows: args.input.samples_as_rows,
        rank: args.input.rank.clone(),
        taxonomy: args.input.taxonomy.clone(),
        metadata: args.metadata.clone(),
        group: args.group.clone(),
        metric: args.metric.name().into(),
        tree: args.tree.clone(),
        permutations: args.permutations,
        seed: args.seed,
        reference: args.reference.clone(),
        population: args.population.clone(),
        medication_column: args.medication_column.clone(),
        drugs: args.drugs.clone(),
        host_variables: args.host_variables.clone(),
        covariates: args.covariates.clone(),
        da_method,
        classifier,
        sample: args.sample.clone(),
        title: args.title.clone(),
        batch: args.batch.clone(),
        control: args.control.clone(),
        subject: args.subject.clone(),
        time: args.time.clone(),
        donor: args.donor.clone(),
        therapy: args.therapy.clone(),
        disease: args.disease.clone(),
        outcome: args.outcome.as_ref().map(|column| OutcomeConfig {
            column: column.clone(),
            positive: args.positive.clone(),
            clinical: args.clinical.clone(),
            permutations: args.outcome_permutations,
        }),
    })
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let config = config_of(&args)?;
    run_config(&config, &assets()?, &args.output, quiet)
}

/// Runs the pipeline and writes its outputs, printing the notes unless `quiet`.
fn run_config(config: &AnalysisConfig, assets: &Assets, out: &Path, quiet: bool) -> Result<()> {
    let mut analysis = gutjoint_pipeline::run(config, assets, &CliObserver { quiet })?;
    // Inputs inside the output folder (the demo's) are named relative to it, so the results
    // and the report read the same wherever they were written.
    analysis.relocate(out);
    if !quiet {
        for note in &analysis.results.notes {
            eprintln!("note: {note}");
        }
        eprintln!("[gutjoint] writing the report");
    }
    write_outputs(&analysis, out)?;
    if !quiet {
        eprintln!("[gutjoint] wrote {}", out.join("report.html").display());
    }
    Ok(())
}

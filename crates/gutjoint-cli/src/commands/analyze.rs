//! `gutjoint analyze` and `gutjoint demo`: the main job, one report from one command.

use crate::input::TableArgs;
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_ecology::{
    AlphaMetric, BetaMetric, DispersionCentre, Grouping, alpha, beta, pcoa, permanova, permdisp,
};
use gutjoint_report::{
    AlphaByGroup, AnalysisResults, Composition, GroupCount, Inputs, Ordination, OrdinationPoint,
    SCHEMA_VERSION, five_numbers, render_html,
};
use gutjoint_table::{FeatureTable, Rank, read_metadata_file, summarize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
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
    #[arg(long, default_value = "braycurtis")]
    pub metric: String,
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
    #[arg(long, default_value = "lm", value_name = "METHOD")]
    pub da_method: String,
    /// Classifier of each group against the reference group: l1-logistic, rf or none.
    #[arg(long, default_value = "l1-logistic", value_name = "MODEL")]
    pub classifier: String,
    /// One-patient view of this sample at the top of the report.
    #[arg(long, value_name = "ID")]
    pub sample: Option<String>,
    /// Report title.
    #[arg(long, default_value = "gutjoint report")]
    pub title: String,
    /// Output folder.
    #[arg(short, long, value_name = "OUT_DIR")]
    pub output: PathBuf,
}

/// Run `analyze` on the bundled real data (GMHI validation profiles: ankylosing spondylitis,
/// rheumatoid arthritis and healthy stool metagenomes) and write the report.
///
/// Example:
///   gutjoint demo -o gutjoint-demo && open gutjoint-demo/report.html
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// Output folder.
    #[arg(short, long, default_value = "gutjoint-demo")]
    pub output: PathBuf,
    /// Folder holding the bundled data (default: the repository's examples/).
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
    let data = args
        .data
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples"));
    let table = data.join("data/gmhi/validation_abundance.csv");
    if !table.is_file() {
        bail!(
            "{}: the bundled demo data is missing; pass --data with the repository's examples/ folder",
            table.display()
        );
    }
    let common = |table: PathBuf,
                  metadata: PathBuf,
                  title: &str,
                  output: PathBuf,
                  drugs: Vec<String>,
                  hosts: Vec<String>,
                  covariates: Option<&str>| {
        Args {
            input: TableArgs {
                table: vec![table],
                format: None,
                samples_as_rows: false,
                rank: None,
                taxonomy: None,
            },
            metadata: Some(metadata),
            group: Some("group".into()),
            metric: "braycurtis".into(),
            tree: None,
            reference: None,
            population: None,
            medication_column: None,
            drugs,
            host_variables: hosts,
            covariates: covariates.map(String::from),
            sample: None,
            da_method: "lm".into(),
            classifier: "l1-logistic".into(),
            permutations: args.permutations,
            seed: args.seed,
            title: title.into(),
            output,
        }
    };
    // 1. GMHI validation profiles: AS, RA and healthy stool metagenomes (MetaPhlAn2 species).
    run(
        common(
            table,
            data.join("demo/gmhi_arthritis_metadata.tsv"),
            "gutjoint demo — gut microbiome in ankylosing spondylitis, rheumatoid arthritis and health (GMHI validation profiles)",
            args.output.clone(),
            ["sulfasalazine", "methotrexate", "diclofenac", "filgotinib"]
                .map(String::from)
                .to_vec(),
            Vec::new(),
            None,
        ),
        quiet,
    )?;
    // 2. GESPIC: German axSpA, uveitis, Crohn's and healthy controls (16S genus bins).
    run(
        common(
            data.join("data/gespic/gespic_genus.tsv"),
            data.join("data/gespic/gespic_metadata.tsv"),
            "gutjoint demo — German Spondyloarthritis Inception Cohort (GESPIC, 16S genus level)",
            args.output.join("gespic"),
            Vec::new(),
            ["BASDAI", "ASDAS", "CRP"].map(String::from).to_vec(),
            Some("age + C(sex)"),
        ),
        quiet,
    )
}

fn step(quiet: bool, what: &str) {
    if !quiet {
        eprintln!("[gutjoint] {what}");
    }
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    // Refuse a mistyped model before any work: a silent fallback would put another method's
    // numbers in the report.
    if !matches!(args.da_method.as_str(), "lm" | "ancombc") {
        bail!(
            "unknown --da-method '{}'; expected lm or ancombc",
            args.da_method
        );
    }
    if !matches!(
        args.classifier.as_str(),
        "l1-logistic" | "l1" | "lasso" | "rf" | "random-forest" | "none"
    ) {
        bail!(
            "unknown --classifier '{}'; expected l1-logistic, rf or none",
            args.classifier
        );
    }
    step(quiet, "reading the table");
    let read = args.input.read(quiet)?;
    let full = read.table;
    let summary = summarize(&full);
    let mut notes: Vec<String> = read.notes.clone();

    // Join the metadata: which samples, in which group.
    let (table, labels, dropped_absent, dropped_no_group) = match (&args.metadata, &args.group) {
        (Some(md_path), Some(column)) => {
            step(quiet, "joining the metadata");
            let md = read_metadata_file(md_path)?;
            let col = crate::input::metadata_column(&md, md_path, column)?;
            let index = md.index();
            let (mut keep, mut labels, mut absent, mut no_value) = (Vec::new(), Vec::new(), 0, 0);
            for (s, id) in full.sample_ids().iter().enumerate() {
                match index.get(id.as_str()).map(|&row| col.text(row)) {
                    None => absent += 1,
                    Some(None) => no_value += 1,
                    Some(Some(v)) => {
                        keep.push(s);
                        labels.push(v);
                    }
                }
            }
            if keep.is_empty() {
                bail!(
                    "none of the table's {} sample ids is in {} with a value in '{column}' (first table id: '{}', first metadata id: '{}')",
                    full.n_samples(),
                    md_path.display(),
                    full.sample_ids().first().map_or("", String::as_str),
                    md.ids.first().map_or("", String::as_str)
                );
            }
            if absent > 0 || no_value > 0 {
                notes.push(format!("{absent} table samples are not in the metadata and {no_value} have no '{column}' value: both left out"));
            }
            (full.select_samples(&keep), labels, absent, no_value)
        }
        (None, None) => {
            let n = full.n_samples();
            (full.clone(), vec!["all".to_string(); n], 0, 0)
        }
        _ => bail!("--metadata and --group go together"),
    };
    let grouping = Grouping::from_values(&labels);
    let group_counts: Vec<GroupCount> = grouping
        .names
        .iter()
        .enumerate()
        .map(|(g, name)| GroupCount {
            group: name.clone(),
            samples: grouping.labels.iter().filter(|l| **l == g).count(),
        })
        .collect();

    step(quiet, "alpha diversity");
    let phylo = match &args.tree {
        Some(tree) => Some(super::ecology_args::phylo(&table, tree, true, quiet)?),
        None => None,
    };
    let mut metrics = vec![
        AlphaMetric::ObservedFeatures,
        AlphaMetric::Shannon,
        AlphaMetric::Simpson,
        AlphaMetric::BergerParkerD,
    ];
    if phylo.is_some() {
        metrics.push(AlphaMetric::FaithPd);
    }
    let alpha_result = alpha(&table, &metrics, phylo.as_ref())?;
    let alpha_groups: Vec<AlphaByGroup> = alpha_result
        .metrics
        .iter()
        .zip(&alpha_result.values)
        .flat_map(|(m, values)| by_group(values, &grouping, m.name()))
        .collect();

    step(quiet, "beta diversity and PCoA");
    let metric = BetaMetric::parse(&args.metric, 0.5, 1.0)?;
    let dm = beta(&table, metric, phylo.as_ref())?;
    let ordination = pcoa(&dm)?;
    let points = (0..dm.len())
        .map(|i| OrdinationPoint {
            sample_id: dm.ids()[i].clone(),
            group: grouping.names[grouping.labels[i]].clone(),
            pc1: ordination.coordinate(i, 0),
            pc2: if ordination.n_axes() > 1 {
                ordination.coordinate(i, 1)
            } else {
                0.0
            },
        })
        .collect();

    let (mut perm, mut disp) = (None, None);
    if grouping.names.len() >= 2 {
        step(quiet, "PERMANOVA and PERMDISP");
        match permanova(&dm, &grouping, args.permutations, args.seed) {
            Ok(t) => perm = Some(t),
            Err(e) => notes.push(format!("PERMANOVA was not run: {e}")),
        }
        match permdisp(
            &dm,
            &grouping,
            args.permutations,
            args.seed,
            DispersionCentre::Median,
            10,
        ) {
            Ok(t) => disp = Some(t),
            Err(e) => notes.push(format!("PERMDISP was not run: {e}")),
        }
    } else {
        notes.push("one group only: PERMANOVA and PERMDISP need at least two".into());
    }

    step(quiet, "composition");
    let composition = composition(&table, &grouping, &mut notes);

    let labels_of: std::collections::HashMap<String, String> = table
        .sample_ids()
        .iter()
        .zip(&grouping.labels)
        .map(|(id, l)| (id.clone(), grouping.names[*l].clone()))
        .collect();
    let domain = domain(&args, &table, &grouping, &labels_of, quiet, &mut notes);

    let results = AnalysisResults {
        schema_version: SCHEMA_VERSION,
        software: output::generated_by(),
        title: args.title.clone(),
        inputs: Inputs {
            table: args.input.table.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
            metadata: args.metadata.as_ref().map(|p| p.display().to_string()),
            group_column: args.group.clone(),
            seed: args.seed,
            permutations: args.permutations,
        },
        table: summary,
        samples_used: table.n_samples(),
        dropped_not_in_metadata: dropped_absent,
        dropped_without_group: dropped_no_group,
        groups: group_counts,
        alpha: alpha_groups,
        beta_metric: metric.name().into(),
        ordination: Ordination { eigenvalues: ordination.eigenvalues.iter().take(10).copied().collect(), proportion_explained: ordination.proportion_explained.iter().take(10).copied().collect(), points },
        permanova: perm,
        permdisp: disp,
        composition,
        gmhi: domain.gmhi,
        dysbiosis: domain.dysbiosis,
        signatures: domain.signatures,
        drugs: domain.drugs,
        therapy_notes: domain.therapy_notes,
        patient: domain.patient,
        gut_joint: gut_joint(&args, &table, &grouping, quiet, &mut notes),
        differential_abundance: differential_abundance(&args, &table, &grouping, quiet, &mut notes),
        classifiers: classifiers(&args, &table, &grouping, quiet, &mut notes),
        methods: vec![
            format!("Alpha diversity: {} as scikit-bio 0.7 (Shannon with natural logarithm).", metrics.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")),
            format!("Beta diversity: {} between all analysed samples; PCoA by full eigendecomposition of the Gower-centred matrix (scikit-bio's eigh method).", metric.name()),
            format!("PERMANOVA (Anderson 2001) pseudo-F with {} permutations, seed {}, p = (hits + 1)/(permutations + 1).", args.permutations, args.seed),
            format!("PERMDISP (Anderson 2006): distances to each group's spatial median in the first 10 PCoA axes, one-way ANOVA F, {} permutations.", args.permutations),
            "Composition: features collapsed to genus when lineages allow; mean relative abundance per group; the ten largest genera overall are shown, the rest pooled as 'other'.".into(),
            "GMHI: Gupta et al. 2020 (Nat Commun 11:4635), the authors' method (unclassified and viral rows dropped, renormalised, values < 1e-5 zeroed).".into(),
            format!(
                "Dysbiosis: median Bray–Curtis distance to the healthy samples of the reference{}, percentile among the reference's leave-one-out scores, flag above its 90th percentile (Lloyd-Price et al. 2019, Nature 569:655).",
                domain.reference_label.as_deref().map(|r| format!(" {r}")).unwrap_or_default()
            ),
            "Signatures: cited taxon–disease associations of the embedded knowledge base; a sample's abundance percentile among the reference's healthy samples (mid-rank, itself excluded), 'yes' when on the reported side of the median.".into(),
            "Drugs: capacity = Σ species abundance × fraction of its AGORA2 strains carrying the enzyme (Heinken et al. 2023); calls against the reference's 10th–90th percentiles; in-vitro inhibition from Maier et al. 2018.".into(),
            format!("Software: {}; results schema {SCHEMA_VERSION}.", output::generated_by()),
        ],
        notes,
    };

    if !quiet {
        for note in &results.notes {
            eprintln!("note: {note}");
        }
    }
    step(quiet, "writing the report");
    let out = &args.output;
    std::fs::create_dir_all(out.join("tables"))
        .with_context(|| format!("{}: cannot create the output folder", out.display()))?;
    let mut json = serde_json::to_string_pretty(&results)?;
    json.push('\n');
    output::write_file(&out.join("results.json"), json.as_bytes())?;
    output::write_file(&out.join("report.html"), render_html(&results).as_bytes())?;
    output::write_file(
        &out.join(format!("tables/distance_{}.tsv", metric.name())),
        dm.to_lsmat().as_bytes(),
    )?;
    let mut alpha_tsv = String::from("sample-id\tgroup");
    for m in &alpha_result.metrics {
        let _ = write!(alpha_tsv, "\t{}", m.name());
    }
    alpha_tsv.push('\n');
    for (s, id) in alpha_result.sample_ids.iter().enumerate() {
        let _ = write!(alpha_tsv, "{id}\t{}", grouping.names[grouping.labels[s]]);
        for v in &alpha_result.values {
            let _ = write!(alpha_tsv, "\t{}", v[s]);
        }
        alpha_tsv.push('\n');
    }
    output::write_file(&out.join("tables/alpha.tsv"), alpha_tsv.as_bytes())?;
    let mut pcoa_tsv = String::from("sample-id\tPC1\tPC2\tPC3\n");
    for i in 0..dm.len() {
        let _ = write!(pcoa_tsv, "{}", dm.ids()[i]);
        for a in 0..3.min(ordination.n_axes()) {
            let _ = write!(pcoa_tsv, "\t{}", ordination.coordinate(i, a));
        }
        pcoa_tsv.push('\n');
    }
    output::write_file(&out.join("tables/pcoa.tsv"), pcoa_tsv.as_bytes())?;
    if !quiet {
        eprintln!("[gutjoint] wrote {}", out.join("report.html").display());
    }
    Ok(())
}

/// Mean relative abundance (percent) per group of the ten largest genera (or features).
fn composition(table: &FeatureTable, grouping: &Grouping, notes: &mut Vec<String>) -> Composition {
    let (collapsed, rank) = match table.collapse(Rank::Genus) {
        Ok(t) => (t, "genera"),
        Err(_) => {
            notes.push("features have no genus names: composition shows features".into());
            (table.clone(), "features")
        }
    };
    let rel = collapsed.to_relative();
    let g = grouping.names.len();
    let mut means = vec![vec![0.0; rel.n_features()]; g];
    let mut counts = vec![0usize; g];
    for s in 0..rel.n_samples() {
        let l = grouping.labels[s];
        counts[l] += 1;
        let (idx, vals) = rel.sample(s);
        for (f, v) in idx.iter().zip(vals) {
            means[l][*f as usize] += v * 100.0;
        }
    }
    for (row, c) in means.iter_mut().zip(&counts) {
        row.iter_mut().for_each(|v| *v /= (*c).max(1) as f64);
    }
    let mut overall: Vec<(usize, f64)> = (0..rel.n_features())
        .map(|f| (f, means.iter().map(|m| m[f]).sum::<f64>()))
        .collect();
    overall.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<usize> = overall.iter().take(10).map(|p| p.0).collect();
    let name = |f: usize| {
        let l = rel.lineage(f);
        l.get(Rank::Genus)
            .map(str::to_string)
            .unwrap_or_else(|| rel.feature_ids()[f].clone())
    };
    let mut taxa: Vec<String> = top.iter().map(|&f| name(f)).collect();
    taxa.push("other".into());
    let rows = means
        .iter()
        .map(|m| {
            let mut row: Vec<f64> = top.iter().map(|&f| m[f]).collect();
            let shown: f64 = row.iter().sum();
            row.push((m.iter().sum::<f64>() - shown).max(0.0));
            row
        })
        .collect();
    Composition {
        rank: rank.into(),
        taxa,
        groups: grouping.names.clone(),
        means: rows,
    }
}

/// The domain sections: each runs when the inputs allow and records a note when it cannot.
struct Domain {
    gmhi: Option<gutjoint_report::ScoreByGroup>,
    dysbiosis: Option<gutjoint_report::DysbiosisSection>,
    signatures: Option<gutjoint_report::SignatureSection>,
    drugs: Option<Vec<gutjoint_report::DrugSummary>>,
    therapy_notes: Vec<gutjoint_report::TherapyNote>,
    patient: Option<gutjoint_report::PatientView>,
    reference_label: Option<String>,
}

fn by_group(values: &[f64], grouping: &Grouping, metric: &str) -> Vec<AlphaByGroup> {
    grouping
        .names
        .iter()
        .enumerate()
        .filter_map(|(g, name)| {
            let vs: Vec<f64> = values
                .iter()
                .zip(&grouping.labels)
                .filter(|(_, l)| **l == g)
                .map(|(v, _)| *v)
                .collect();
            five_numbers(&vs).map(|f| AlphaByGroup {
                metric: metric.into(),
                group: name.clone(),
                n: vs.len(),
                min: f[0],
                q1: f[1],
                median: f[2],
                q3: f[3],
                max: f[4],
            })
        })
        .collect()
}

fn domain(
    args: &Args,
    table: &FeatureTable,
    grouping: &Grouping,
    labels_of: &std::collections::HashMap<String, String>,
    quiet: bool,
    notes: &mut Vec<String>,
) -> Domain {
    use gutjoint_axis::KeyedProfiles;
    let mut d = Domain {
        gmhi: None,
        dysbiosis: None,
        signatures: None,
        drugs: None,
        therapy_notes: Vec::new(),
        patient: None,
        reference_label: None,
    };
    let species_level = table.ranks_present().contains(&Rank::Species);
    let patient_index = args
        .sample
        .as_ref()
        .and_then(|id| table.sample_ids().iter().position(|s| s == id));
    if let (Some(id), None) = (&args.sample, patient_index) {
        notes.push(format!(
            "--sample {id}: no such sample among the analysed ones"
        ));
    }
    let mut patient = patient_index.map(|s| gutjoint_report::PatientView {
        sample_id: table.sample_ids()[s].clone(),
        group: labels_of
            .get(&table.sample_ids()[s])
            .cloned()
            .unwrap_or_default(),
        gmhi: None,
        dysbiosis: None,
        dysbiosis_percentile: None,
        dysbiosis_flag: None,
        top_deviating_taxa: Vec::new(),
        consistent_signatures: Vec::new(),
        drugs: Vec::new(),
        dominant_taxon: None,
    });

    // GMHI
    if species_level {
        step(quiet, "GMHI");
        let r = gutjoint_axis::gmhi::gmhi(table);
        if r.mh_species_in_table + r.mn_species_in_table > 0 {
            let values: Vec<f64> = r.scores.iter().map(|s| s.gmhi).collect();
            d.gmhi = Some(gutjoint_report::ScoreByGroup {
                score: "gmhi".into(),
                groups: by_group(&values, grouping, "gmhi"),
            });
            if let (Some(p), Some(s)) = (patient.as_mut(), patient_index) {
                p.gmhi = Some(values[s]);
            }
        } else {
            notes.push("GMHI not computed: none of its 50 marker species is in the table".into());
        }
    }

    // Reference, dysbiosis
    let reference_name = args.reference.clone().unwrap_or_else(|| {
        if species_level {
            "gmhi-healthy".into()
        } else {
            "gespic-healthy".into()
        }
    });
    let reference = match super::axis::load_reference(&reference_name, true) {
        Ok(r) => Some(r),
        Err(e) => {
            notes.push(format!("reference '{reference_name}' unavailable: {e:#}"));
            None
        }
    };
    let kb = gutjoint_knowledge::KnowledgeBase::embedded().ok();
    if let Some(reference) = &reference {
        step(quiet, "dysbiosis");
        let result = KeyedProfiles::from_table(table, reference.rank())
            .map_err(anyhow::Error::from)
            .and_then(|p| {
                Ok(gutjoint_axis::dysbiosis::dysbiosis(
                    &p,
                    reference,
                    args.population.as_deref(),
                    5,
                )?)
            });
        match result {
            Ok(r) => {
                let values: Vec<f64> = r.scores.iter().map(|s| s.dysbiosis).collect();
                let flagged = grouping
                    .names
                    .iter()
                    .enumerate()
                    .map(|(g, name)| GroupCount {
                        group: name.clone(),
                        samples: r
                            .scores
                            .iter()
                            .zip(&grouping.labels)
                            .filter(|(s, l)| **l == g && s.flag)
                            .count(),
                    })
                    .collect();
                d.reference_label = Some(format!("{}:{}", r.reference, r.population));
                if let (Some(p), Some(s)) = (patient.as_mut(), patient_index) {
                    let row = &r.scores[s];
                    p.dysbiosis = Some(row.dysbiosis);
                    p.dysbiosis_percentile = Some(row.percentile);
                    p.dysbiosis_flag = Some(row.flag);
                    p.top_deviating_taxa = row.top_deviating_taxa.clone();
                }
                d.dysbiosis = Some(gutjoint_report::DysbiosisSection {
                    reference: r.reference.clone(),
                    population: r.population.clone(),
                    rank: r.rank.clone(),
                    threshold: r.threshold,
                    by_group: by_group(&values, grouping, "dysbiosis"),
                    flagged,
                });
                if r.mean_shared_abundance < 0.5 {
                    notes.push(format!(
                        "on average only {:.0}% of a sample's abundance is in taxa the reference has: dysbiosis distances are inflated by method differences",
                        100.0 * r.mean_shared_abundance
                    ));
                }
            }
            Err(e) => notes.push(format!("dysbiosis was not scored: {e:#}")),
        }
        if let (Some(p), Some(s)) = (patient.as_mut(), patient_index)
            && let Ok(prof) = KeyedProfiles::from_table(table, reference.rank())
        {
            let call = &gutjoint_axis::dominance::dominance(
                &prof,
                gutjoint_axis::dominance::DEFAULT_THRESHOLD,
            )[s];
            p.dominant_taxon = Some((call.top_taxon.clone(), call.share));
        }
    }

    // Signatures
    if let (Some(kb), Some(reference)) = (&kb, &reference) {
        step(quiet, "arthritis signatures");
        let diseases: Vec<String> = grouping
            .names
            .iter()
            .filter_map(|g| {
                let a = kb.disease(g);
                a.suggestion
                    .is_none()
                    .then_some(a.disease)
                    .flatten()
                    .map(|x| x.to_string())
            })
            .collect();
        // Ankylosing spondylitis is the radiographic form of axial spondyloarthritis: an axSpA
        // cohort is compared with the AS literature too.
        let mut diseases = diseases;
        if diseases.iter().any(|d| d == "axSpA") && !diseases.iter().any(|d| d == "AS") {
            diseases.push("AS".into());
        }
        let rows = gutjoint_axis::signatures::signatures(
            kb,
            table,
            &diseases,
            Some((reference, args.population.as_deref())),
            None,
        );
        let tallies = gutjoint_axis::signatures::tally(&rows, labels_of, &grouping.names);
        let mut summaries = Vec::new();
        for (association, by) in tallies {
            let Some(first) = rows.iter().find(|r| r.association == association) else {
                continue;
            };
            if by.iter().all(|(_, _, n)| *n == 0) {
                continue;
            }
            let a = kb.taxon_disease().iter().find(|t| t.id == association);
            summaries.push(gutjoint_report::SignatureSummary {
                association: association.clone(),
                taxon: first.taxon.clone(),
                disease: first.disease.clone(),
                reported_direction: first.reported_direction.clone(),
                population: a
                    .and_then(|t| t.population.clone())
                    .unwrap_or_else(|| "not stated".into()),
                citation: first.citation.clone(),
                doi: first.doi.clone(),
                confidence: first.confidence.clone(),
                by_group: by,
            });
        }
        if let (Some(p), Some(s)) = (patient.as_mut(), patient_index) {
            let id = &table.sample_ids()[s];
            p.consistent_signatures = rows
                .iter()
                .filter(|r| &r.sample_id == id && r.consistent == "yes")
                .map(|r| {
                    (
                        r.taxon.clone(),
                        r.disease.clone(),
                        r.reported_direction.clone(),
                        r.percentile.unwrap_or(f64::NAN),
                        r.citation.clone(),
                        r.doi.clone(),
                    )
                })
                .collect();
        }
        d.signatures = Some(gutjoint_report::SignatureSection {
            reference: d
                .reference_label
                .clone()
                .unwrap_or_else(|| reference.name.clone()),
            diseases: if diseases.is_empty() {
                vec!["all".into()]
            } else {
                diseases
            },
            rows: summaries,
        });
    }

    // Drugs
    let wants_drugs = !args.drugs.is_empty() || args.medication_column.is_some();
    if wants_drugs && let Some(kb) = &kb {
        step(quiet, "drug–microbe interactions");
        match drug_section(
            args,
            kb,
            table,
            grouping,
            labels_of,
            reference.as_ref(),
            patient_index,
            notes,
        ) {
            Ok((summaries, therapy, patient_drugs)) => {
                d.drugs = Some(summaries);
                d.therapy_notes = therapy;
                if let Some(p) = patient.as_mut() {
                    p.drugs = patient_drugs;
                }
            }
            Err(e) => notes.push(format!("drug–microbe interactions were not scored: {e:#}")),
        }
    }
    d.patient = patient;
    d
}

type DrugSection = (
    Vec<gutjoint_report::DrugSummary>,
    Vec<gutjoint_report::TherapyNote>,
    Vec<(String, String, Option<f64>, String, String)>,
);

#[allow(clippy::too_many_arguments)]
fn drug_section(
    args: &Args,
    kb: &gutjoint_knowledge::KnowledgeBase,
    table: &FeatureTable,
    grouping: &Grouping,
    labels_of: &std::collections::HashMap<String, String>,
    reference: Option<&gutjoint_axis::reference::Reference>,
    patient_index: Option<usize>,
    notes: &mut Vec<String>,
) -> Result<DrugSection> {
    use gutjoint_axis::KeyedProfiles;
    use gutjoint_axis::pharmaco::{
        CarriageIndex, DrugInputs, band, enzyme_capacity, score_drugs, summarize_by_group,
    };
    if !table.ranks_present().contains(&Rank::Species) {
        bail!("drug–microbe capacity needs species-level profiles");
    }
    let dir = std::env::var_os("GUTJOINT_KNOWLEDGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge"));
    let data = gutjoint_knowledge::KnowledgeBase::load_pharmaco_dir(&dir)?;
    let profiles = KeyedProfiles::from_table(table, Some(Rank::Species))?;
    let n = profiles.sample_ids.len();
    let mut per_sample: Vec<Vec<String>> = vec![Vec::new(); n];
    for name in &args.drugs {
        match kb.resolve_drug(name.trim()) {
            Ok(drug) => per_sample
                .iter_mut()
                .for_each(|v| v.push(drug.drug.clone())),
            Err(s) => notes.push(format!(
                "drug '{name}' is unknown{}",
                s.suggestion
                    .map(|x| format!("; did you mean '{x}'?"))
                    .unwrap_or_default()
            )),
        }
    }
    if let (Some(md_path), Some(column)) = (&args.metadata, &args.medication_column) {
        let md = read_metadata_file(md_path)?;
        let col = md
            .column(column)
            .with_context(|| format!("no medication column '{column}' in {}", md_path.display()))?;
        let index = md.index();
        let mut unknown = std::collections::BTreeSet::new();
        for (s, id) in profiles.sample_ids.iter().enumerate() {
            let Some(text) = index.get(id.as_str()).and_then(|&r| col.text(r)) else {
                continue;
            };
            for name in text.split([',', ';', '/', '+']).map(str::trim).filter(|x| {
                !x.is_empty()
                    && !matches!(
                        x.to_ascii_lowercase().as_str(),
                        "none" | "no" | "na" | "-" | "0"
                    )
            }) {
                match kb.resolve_drug(name) {
                    Ok(drug) if !per_sample[s].contains(&drug.drug) => {
                        per_sample[s].push(drug.drug.clone())
                    }
                    Ok(_) => {}
                    Err(_) => {
                        unknown.insert(name.to_string());
                    }
                }
            }
        }
        if !unknown.is_empty() {
            notes.push(format!(
                "medications not in the knowledge base (not scored): {}",
                unknown.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let index = CarriageIndex::new(kb, &data);
    let mut bands = BTreeMap::new();
    if let Some(r) = reference.filter(|r| r.rank() == Some(Rank::Species))
        && let Ok(pop) = r.population(None)
    {
        let ref_profiles = KeyedProfiles {
            rank: Some(Rank::Species),
            sample_ids: pop.sample_ids.clone(),
            keys: pop.keys.clone(),
            rows: pop.profiles.clone(),
        };
        for column in kb
            .drug_microbe()
            .iter()
            .filter_map(|m| m.agora2_column.clone())
            .collect::<std::collections::BTreeSet<_>>()
        {
            let caps: Vec<f64> = enzyme_capacity(kb, &index, &ref_profiles, &column)
                .iter()
                .map(|c| c.capacity)
                .collect();
            if let Some(b) = band(&caps) {
                bands.insert(column, b);
            }
        }
    }
    let calls = score_drugs(&DrugInputs {
        kb,
        data: &data,
        index: &index,
        profiles: &profiles,
        drugs: &per_sample,
        bands: &bands,
        measured: None,
    });
    let summaries = summarize_by_group(&calls, labels_of, &grouping.names)
        .into_iter()
        .map(|s| gutjoint_report::DrugSummary {
            drug: s.drug,
            interaction: s.interaction,
            enzyme: s.enzyme,
            evidence: s.evidence,
            citation: s.citation,
            source: s.source,
            median_capacity: s.median_capacity,
            calls: s.calls,
            statement: s.statement,
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut therapy = Vec::new();
    let drugs: std::collections::BTreeSet<&String> = per_sample.iter().flatten().collect();
    for drug in drugs {
        for t in kb.therapy(drug).therapy_effects {
            if seen.insert(t.id.clone()) {
                let c = &t.citation;
                therapy.push(gutjoint_report::TherapyNote {
                    therapy: t.therapy.clone(),
                    direction: t.direction.to_string(),
                    effect: t.effect.clone(),
                    evidence: t.evidence.to_string(),
                    confidence: t.confidence.to_string(),
                    citation: c.short().unwrap_or_default(),
                    doi: c.doi.clone().unwrap_or_default(),
                });
            }
        }
    }
    let patient_drugs = patient_index
        .map(|s| {
            let id = &profiles.sample_ids[s];
            calls
                .iter()
                .filter(|c| &c.sample_id == id)
                .map(|c| {
                    (
                        c.drug.clone(),
                        c.interaction.clone(),
                        c.capacity,
                        c.call.clone(),
                        c.citation.clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((summaries, therapy, patient_drugs))
}

/// Guilds by group, and the strongest host associations when host variables were given.
fn gut_joint(
    args: &Args,
    table: &FeatureTable,
    grouping: &Grouping,
    quiet: bool,
    notes: &mut Vec<String>,
) -> Option<gutjoint_report::GutJointSection> {
    let kb = gutjoint_knowledge::KnowledgeBase::embedded().ok()?;
    let guilds = gutjoint_knowledge::embedded_guilds().ok()?;
    step(quiet, "gut–joint link");
    let profile = gutjoint_axis::guilds::guild_profile(&kb, &guilds, table);
    if profile.members_found.iter().all(Vec::is_empty) {
        notes.push(
            "no feature matches a guild member: the gut–joint guild profile needs named taxa"
                .into(),
        );
        return None;
    }
    let by_guild = profile
        .guilds
        .iter()
        .enumerate()
        .map(|(g, name)| {
            let values: Vec<f64> = profile.abundance.iter().map(|row| row[g]).collect();
            (name.clone(), by_group(&values, grouping, name))
        })
        .collect();
    let mut associations = Vec::new();
    let covariates_text = args.covariates.clone().unwrap_or_default();
    if let (false, Some(md_path)) = (args.host_variables.is_empty(), &args.metadata) {
        let run = || -> Result<Vec<gutjoint_stats::associate::Association>> {
            let md = read_metadata_file(md_path)?;
            let covariates = if covariates_text.trim().is_empty() {
                Vec::new()
            } else {
                gutjoint_stats::parse_formula(&covariates_text)?
            };
            let guild_table = profile.to_table()?;
            let both = table.to_relative().concat_features(&guild_table)?;
            let pseudocount = gutjoint_stats::da::default_pseudocount(&both);
            Ok(gutjoint_stats::associate::associate(
                &both,
                &md,
                &args.host_variables,
                &covariates,
                pseudocount,
                gutjoint_stats::Adjust::Bh,
            )?)
        };
        match run() {
            Ok(mut rows) => {
                rows.sort_by(|a, b| a.q.total_cmp(&b.q).then(a.p.total_cmp(&b.p)));
                for r in rows.into_iter().filter(|r| r.q.is_finite()).take(12) {
                    let taxon = r
                        .feature
                        .strip_prefix("guild:")
                        .unwrap_or(&r.feature)
                        .to_string();
                    let literature = kb
                        .taxon(&taxon)
                        .associations
                        .iter()
                        .take(2)
                        .map(|a| {
                            format!(
                                "{} in {} ({} {})",
                                a.direction,
                                a.disease,
                                a.citation.first_author.clone().unwrap_or_default(),
                                a.citation.year.map(|y| y.to_string()).unwrap_or_default()
                            )
                        })
                        .reduce(|a, b| format!("{a}; {b}"));
                    associations.push(gutjoint_report::HostAssociation {
                        feature: r.feature,
                        host_variable: r.host_variable,
                        n: r.n,
                        estimate: r.estimate,
                        q: r.q,
                        partial_r: r.partial_r,
                        literature,
                    });
                }
            }
            Err(e) => notes.push(format!("host associations were not computed: {e:#}")),
        }
    }
    Some(gutjoint_report::GutJointSection {
        guilds: by_guild,
        covariates: if covariates_text.is_empty() {
            "nothing".into()
        } else {
            covariates_text
        },
        associations,
    })
}

/// Per-feature linear models of group (against `healthy` when present, else the first group)
/// plus the covariates, on log10(relative abundance + half the smallest nonzero value).
fn differential_abundance(
    args: &Args,
    table: &FeatureTable,
    grouping: &Grouping,
    quiet: bool,
    notes: &mut Vec<String>,
) -> Option<gutjoint_report::DaSection> {
    let (md_path, column) = (args.metadata.as_ref()?, args.group.as_ref()?);
    if grouping.names.len() < 2 {
        return None;
    }
    step(quiet, "differential abundance");
    let run = || -> Result<gutjoint_report::DaSection> {
        let md = read_metadata_file(md_path)?;
        let reference = grouping
            .names
            .iter()
            .find(|g| g.eq_ignore_ascii_case("healthy"))
            .unwrap_or(&grouping.names[0])
            .clone();
        let covariates = args.covariates.clone().unwrap_or_default();
        let formula = if covariates.trim().is_empty() {
            format!("C({column})")
        } else {
            format!("C({column}) + {covariates}")
        };
        let terms = gutjoint_stats::parse_formula(&formula)?;
        let refs = BTreeMap::from([(column.clone(), reference.clone())]);
        let design = gutjoint_stats::design(&md, table.sample_ids(), &terms, &refs)?;
        let index = table.sample_index();
        let keep: Vec<usize> = design
            .sample_ids
            .iter()
            .map(|id| index[id.as_str()])
            .collect();
        let used = table.select_samples(&keep);
        let present = used.feature_prevalence();
        let features: Vec<usize> = (0..used.n_features())
            .filter(|&f| present[f] * 10 >= used.n_samples() && present[f] > 0)
            .collect();
        let used = used.select_features(&features);
        let pseudocount = gutjoint_stats::da::default_pseudocount(&used);
        let prefix = format!("{column}[T.");
        let (method, transform, coefficients): (&str, String, Vec<_>) =
            if args.da_method == "ancombc" {
                // ANCOM-BC on the table's own values (counts or proportions).
                let pseudocount = gutjoint_stats::ancombc::default_pseudocount(&used);
                let result = gutjoint_stats::ancombc::ancombc(
                    &used,
                    &design,
                    pseudocount,
                    gutjoint_stats::ancombc::Options::default(),
                )?;
                let rows = result
                    .coefficients
                    .into_iter()
                    .filter(|c| c.term.starts_with(&prefix))
                    .map(|c| (c.feature, c.term, c.estimate, c.p, c.q))
                    .collect();
                ("ancombc", format!("ln(value + {pseudocount:.3e})"), rows)
            } else {
                let transform = gutjoint_stats::da::Transform::Log10 { pseudocount };
                let rows = gutjoint_stats::da::linear_models(
                    &used,
                    &design,
                    transform,
                    gutjoint_stats::Adjust::Bh,
                )?
                .into_iter()
                .filter(|c| c.term.starts_with(&prefix))
                .map(|c| (c.feature, c.term, c.estimate, c.p, c.q))
                .collect();
                (
                    "lm",
                    format!("log10(relative abundance + {pseudocount:.3e})"),
                    rows,
                )
            };
        Ok(gutjoint_report::DaSection {
            method: method.into(),
            formula,
            reference,
            transform,
            samples: design.n,
            features: used.n_features(),
            coefficients,
        })
    };
    match run() {
        Ok(section) => Some(section),
        Err(e) => {
            notes.push(format!("differential abundance was not run: {e:#}"));
            None
        }
    }
}

/// Out-of-fold classifiers of each group against the reference group (`healthy` when present,
/// else the first group), on CLR features present in ≥10% of the samples compared.
fn classifiers(
    args: &Args,
    table: &FeatureTable,
    grouping: &Grouping,
    quiet: bool,
    notes: &mut Vec<String>,
) -> Option<gutjoint_report::ClassifierSection> {
    use gutjoint_stats::classify::{Model, cross_validate, stratified_folds};
    let model = match args.classifier.as_str() {
        "none" => return None,
        "l1-logistic" | "l1" | "lasso" => Model::L1Logistic { c: 1.0 },
        // Anything else was refused when the run started.
        _ => Model::RandomForest {
            trees: 500,
            seed: args.seed,
        },
    };
    if grouping.names.len() < 2 {
        return None;
    }
    step(quiet, "classifiers");
    let (folds, repeats) = (5usize, 5usize);
    let reference = grouping
        .names
        .iter()
        .position(|g| g.eq_ignore_ascii_case("healthy"))
        .unwrap_or(0);
    let mut comparisons = Vec::new();
    for (g, case) in grouping.names.iter().enumerate() {
        if g == reference {
            continue;
        }
        let rows: Vec<usize> = (0..table.n_samples())
            .filter(|&s| grouping.labels[s] == g || grouping.labels[s] == reference)
            .collect();
        let labels: Vec<bool> = rows.iter().map(|&s| grouping.labels[s] == g).collect();
        let n_case = labels.iter().filter(|&&b| b).count();
        let n_control = labels.len() - n_case;
        if n_case.min(n_control) < folds {
            notes.push(format!(
                "classifier {case} vs {}: not run, {folds}-fold cross-validation needs at least {folds} samples per group ({n_case} and {n_control})",
                grouping.names[reference]
            ));
            continue;
        }
        let run = || -> Result<gutjoint_report::ClassifierResult> {
            let (data, features, _) =
                super::classify::clr_dataset(table, &rows, labels.clone(), 0.1, None)?;
            let assignments = (0..repeats)
                .map(|r| stratified_folds(&data.y, folds, args.seed.wrapping_add(r as u64)))
                .collect();
            let cv = cross_validate(&data, model, assignments)?;
            let mut order: Vec<usize> = (0..data.p).collect();
            order.sort_by(|&a, &b| {
                cv.importances[b]
                    .abs()
                    .total_cmp(&cv.importances[a].abs())
                    .then(a.cmp(&b))
            });
            let top = order
                .into_iter()
                .filter(|&j| cv.importances[j] != 0.0)
                .take(5)
                .map(|j| {
                    // The deepest named rank reads better than a prefixed id (s__A_b → A b).
                    let lineage = gutjoint_table::Lineage::parse(&features[j].1);
                    let name = lineage
                        .deepest_rank()
                        .and_then(|r| lineage.get(r))
                        .unwrap_or(&features[j].0)
                        .replace('_', " ");
                    (name, cv.importances[j], cv.selected[j])
                })
                .collect();
            Ok(gutjoint_report::ClassifierResult {
                case: case.clone(),
                control: grouping.names[reference].clone(),
                n_case,
                n_control,
                features: data.p,
                auc: cv.auc.auc,
                auc_ci: cv.auc.ci,
                top,
            })
        };
        match run() {
            Ok(r) => comparisons.push(r),
            Err(e) => notes.push(format!(
                "classifier {case} vs {}: not run: {e:#}",
                grouping.names[reference]
            )),
        }
    }
    if comparisons.is_empty() {
        return None;
    }
    Some(gutjoint_report::ClassifierSection {
        model: model.name().into(),
        folds,
        repeats,
        seed: args.seed,
        comparisons,
    })
}

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
    let analyze = Args {
        input: TableArgs { table: vec![table], format: None, samples_as_rows: false, rank: None, taxonomy: None },
        metadata: Some(data.join("demo/gmhi_arthritis_metadata.tsv")),
        group: Some("group".into()),
        metric: "braycurtis".into(),
        tree: None,
        permutations: args.permutations,
        seed: args.seed,
        title: "gutjoint demo — gut microbiome in ankylosing spondylitis, rheumatoid arthritis and health (GMHI validation profiles)".into(),
        output: args.output,
    };
    run(analyze, quiet)
}

fn step(quiet: bool, what: &str) {
    if !quiet {
        eprintln!("[gutjoint] {what}");
    }
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
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
            let col = md.column(column).with_context(|| {
                format!(
                    "{}: no column '{column}'; the columns are: {}",
                    md_path.display(),
                    md.column_names().join(", ")
                )
            })?;
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
    let mut alpha_groups = Vec::new();
    for (m, values) in alpha_result.metrics.iter().zip(&alpha_result.values) {
        for (g, name) in grouping.names.iter().enumerate() {
            let vs: Vec<f64> = values
                .iter()
                .zip(&grouping.labels)
                .filter(|(_, l)| **l == g)
                .map(|(v, _)| *v)
                .collect();
            if let Some(f) = five_numbers(&vs) {
                alpha_groups.push(AlphaByGroup {
                    metric: m.name().into(),
                    group: name.clone(),
                    n: vs.len(),
                    min: f[0],
                    q1: f[1],
                    median: f[2],
                    q3: f[3],
                    max: f[4],
                });
            }
        }
    }

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
        methods: vec![
            format!("Alpha diversity: {} as scikit-bio 0.7 (Shannon with natural logarithm).", metrics.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")),
            format!("Beta diversity: {} between all analysed samples; PCoA by full eigendecomposition of the Gower-centred matrix (scikit-bio's eigh method).", metric.name()),
            format!("PERMANOVA (Anderson 2001) pseudo-F with {} permutations, seed {}, p = (hits + 1)/(permutations + 1).", args.permutations, args.seed),
            format!("PERMDISP (Anderson 2006): distances to each group's spatial median in the first 10 PCoA axes, one-way ANOVA F, {} permutations.", args.permutations),
            "Composition: features collapsed to genus when lineages allow; mean relative abundance per group; the ten largest genera overall are shown, the rest pooled as 'other'.".into(),
            format!("Software: {}; results schema {SCHEMA_VERSION}.", output::generated_by()),
        ],
        notes,
    };

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

//! `gutjoint confounders`: what else differs between the groups, before a taxon is called a
//! disease effect.

use crate::input::TableArgs;
use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_axis::confounders::{
    ConfounderInput, ConfounderReport, FeatureValues, Role, Thresholds, confounders,
};
use gutjoint_axis::guilds::guild_profile;
use gutjoint_ecology::{BetaMetric, beta};
use gutjoint_knowledge::{KnowledgeBase, embedded_guilds};
use gutjoint_stats::da::{Transform, default_pseudocount};
use gutjoint_table::{FeatureTable, read_distance_file, read_metadata_file};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Confounders and batches: every other metadata column against the group — its role
/// (nuisance, exposure, biology), association test (chi-square or Fisher for categorical,
/// Mann–Whitney or Kruskal–Wallis for numeric), effect size (Cramér's V or AUC), p and q, a
/// `collinear` flag when the column alone nearly separates the groups (Cramér's V ≥ 0.7 or
/// AUC ≥ 0.8), and its marginal PERMANOVA R² and F beyond the group (vegan's
/// adonis2(d ~ group + column, by = "margin")), with what to do about it: adjust, compare
/// within its levels, report only (biology: HLA-B27 tracks the disease and is not adjusted
/// away unless --role says so), or cannot adjust (recorded for one group only).
/// Medications known to move the gut microbiome (PPIs, antibiotics, metformin, laxatives,
/// SSRIs, statins, glucocorticoids) are named. Per feature that differs by group, a
/// metadeconfoundR-style status: deconfounded, confounded by the columns named, or not
/// significant (likelihood-ratio tests of feature ~ column + group vs feature ~ column).
/// Warnings go to stderr; the TSV has one row per column; --json prints everything.
///
/// Example:
///   gutjoint confounders examples/data/gespic/gespic_genus.tsv --metadata examples/data/gespic/gespic_metadata.tsv \
///       --column group --case axSpA --control healthy -o confounders.tsv --features-output status.tsv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub input: TableArgs,
    #[arg(long, value_name = "MD")]
    pub metadata: PathBuf,
    /// The group column (disease vs control).
    #[arg(long, value_name = "GROUP")]
    pub column: String,
    #[arg(long, value_name = "A", requires = "control")]
    pub case: Option<String>,
    #[arg(long, value_name = "B", requires = "case")]
    pub control: Option<String>,
    /// Features given a per-feature status: taxa, guilds, both or none.
    #[arg(long, default_value = "taxa")]
    pub features: String,
    /// Keep taxa present in at least this fraction of the compared samples.
    #[arg(long, default_value_t = 0.1)]
    pub min_prevalence: f64,
    /// Beta metric of the marginal PERMANOVA: braycurtis, jaccard or aitchison; none skips it.
    #[arg(long, value_enum, default_value_t = crate::methods::ConfounderMetricName::Braycurtis)]
    pub metric: crate::methods::ConfounderMetricName,
    /// A precomputed distance matrix (lsmat TSV, or `.npy` with `<DM>.npy.ids.txt`) instead of
    /// --metric.
    #[arg(long, value_name = "DM.tsv")]
    pub distance: Option<PathBuf>,
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// A column's role, overriding the guess: COL=nuisance|exposure|biology (repeatable).
    #[arg(long = "role", value_name = "COL=ROLE")]
    pub roles: Vec<String>,
    /// Drugs taken in the cohort, comma-separated (checked against the microbiome-moving
    /// classes).
    #[arg(long, value_delimiter = ',', value_name = "D1,D2")]
    pub drugs: Vec<String>,
    /// Columns not to check (repeatable).
    #[arg(long = "skip", value_name = "COL")]
    pub skip: Vec<String>,
    /// The column table (TSV).
    #[arg(short, long, value_name = "OUT.tsv")]
    pub output: Option<PathBuf>,
    /// Per-feature statuses (TSV).
    #[arg(long, value_name = "STATUS.tsv")]
    pub features_output: Option<PathBuf>,
    /// Print the whole report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_roles(specs: &[String]) -> Result<BTreeMap<String, Role>> {
    let mut roles = BTreeMap::new();
    for spec in specs {
        let (c, r) = spec
            .rsplit_once('=')
            .with_context(|| format!("--role '{spec}': expected COLUMN=ROLE"))?;
        let role = Role::parse(r).with_context(|| {
            format!("--role '{spec}': unknown role '{r}'; expected nuisance, exposure or biology")
        })?;
        roles.insert(c.trim().to_string(), role);
    }
    Ok(roles)
}

/// log10(relative abundance + pseudocount) of each feature, as `da --method lm` models it.
fn log_values(table: &FeatureTable, prefix: &str) -> FeatureValues {
    let relative = table.to_relative();
    let transform = Transform::Log10 {
        pseudocount: default_pseudocount(&relative),
    };
    FeatureValues {
        names: relative
            .feature_ids()
            .iter()
            .map(|f| format!("{prefix}{f}"))
            .collect(),
        values: (0..relative.n_features())
            .map(|f| {
                (0..relative.n_samples())
                    .map(|s| transform.apply(relative.get(s, f)))
                    .collect()
            })
            .collect(),
    }
}

pub fn run(args: Args, quiet: bool) -> Result<()> {
    let roles = parse_roles(&args.roles)?;
    let md = read_metadata_file(&args.metadata)?;
    crate::input::metadata_column(&md, &args.metadata, &args.column)?;
    for c in roles.keys() {
        crate::input::metadata_column(&md, &args.metadata, c)?;
    }
    let table = output::timed("read", || args.input.read(quiet))?.table;
    // The compared samples only, so prevalence and distances are theirs.
    let group = md.column(&args.column).context("group column")?;
    let index = md.index();
    let keep: Vec<usize> = (0..table.n_samples())
        .filter(|&s| {
            index
                .get(table.sample_ids()[s].as_str())
                .and_then(|&r| group.text(r))
                .is_some_and(|v| match (&args.case, &args.control) {
                    (Some(a), Some(b)) => v == *a || v == *b,
                    _ => true,
                })
        })
        .collect();
    if keep.is_empty() {
        bail!(
            "no sample of the table has a value of '{}' to compare in {}",
            args.column,
            args.metadata.display()
        );
    }
    let table = table.select_samples(&keep);
    let distances = match (&args.distance, args.metric.beta()) {
        (Some(path), _) => Some(read_distance_file(path)?),
        (None, None) => None,
        (None, Some(name)) => {
            let relative = table.to_relative();
            // Aitchison on proportions: half the smallest nonzero proportion, not 1.
            let metric = BetaMetric::parse(name, 1.0, default_pseudocount(&relative))?;
            Some(beta(&relative, metric, None)?)
        }
    };
    let present = table.feature_prevalence();
    let prevalent: Vec<usize> = (0..table.n_features())
        .filter(|&f| {
            present[f] > 0 && present[f] as f64 >= args.min_prevalence * table.n_samples() as f64
        })
        .collect();
    let guilds = || -> Result<FeatureValues> {
        let kb = KnowledgeBase::embedded()?;
        let profile = guild_profile(&kb, &embedded_guilds()?, &table);
        Ok(log_values(&profile.to_table()?, ""))
    };
    let features = match args.features.as_str() {
        "none" => None,
        "taxa" => Some(log_values(&table.select_features(&prevalent), "")),
        "guilds" => Some(guilds()?),
        "both" => {
            let mut t = log_values(&table.select_features(&prevalent), "");
            let g = guilds()?;
            t.names.extend(g.names);
            t.values.extend(g.values);
            Some(t)
        }
        other => bail!("unknown --features '{other}'; expected taxa, guilds, both or none"),
    };
    let input = ConfounderInput {
        metadata: &md,
        samples: table.sample_ids(),
        group_column: &args.column,
        case: args.case.as_deref(),
        control: args.control.as_deref(),
        roles: &roles,
        drugs: &args.drugs,
        skip: &args.skip,
        distances: distances.as_ref(),
        features: features.as_ref(),
        permutations: args.permutations,
        seed: args.seed,
        thresholds: Thresholds::default(),
    };
    let report = output::timed("compute", || {
        output::with_progress("confounder checks", quiet, || confounders(&input))
    })
    .with_context(|| args.metadata.display().to_string())?;
    if !quiet {
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
    if let Some(path) = &args.features_output {
        output::write_file(path, feature_tsv(&report).as_bytes())?;
    }
    if args.json {
        return output::print_json(&report);
    }
    output::write_or_print(args.output.as_deref(), &column_tsv(&report))
}

fn opt(v: Option<f64>) -> String {
    v.map_or("NA".into(), |x| x.to_string())
}

fn json_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|j| j.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One row per column.
pub fn column_tsv(r: &ConfounderReport) -> String {
    let mut text = String::from(
        "column\tkind\tlevels\trole\trole_source\tmedication\tn\tmissing_by_group\ttest\tstatistic\tp\tq\teffect_size_name\teffect_size\tcollinear\tsame_as_group\tpermanova_n\tpermanova_r2\tpermanova_f\tpermanova_p\tgroup_r2_given_column\tgroup_f_given_column\tgroup_p_given_column\thandling\tnote\n",
    );
    for c in &r.columns {
        let missing: Vec<String> = c
            .missing_by_group
            .iter()
            .map(|m| format!("{}:{}/{}", m.group, m.missing, m.n))
            .collect();
        let p = c.permanova.as_ref();
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.column,
            json_name(&c.kind),
            c.levels,
            c.role.name(),
            if c.role_given { "given" } else { "guessed" },
            c.medication.map_or("", |m| m.label()),
            c.n,
            missing.join(","),
            c.test.as_ref().map_or(String::new(), json_name),
            opt(c.statistic),
            opt(c.p_value),
            opt(c.q_value),
            c.effect_size_name.as_ref().map_or(String::new(), json_name),
            opt(c.effect_size),
            c.collinear,
            c.same_as_group,
            p.map_or("NA".into(), |p| p.n.to_string()),
            opt(p.map(|p| p.column.r2)),
            opt(p.map(|p| p.column.f)),
            opt(p.and_then(|p| p.column.p_value)),
            opt(p.map(|p| p.group.r2)),
            opt(p.map(|p| p.group.f)),
            opt(p.and_then(|p| p.group.p_value)),
            json_name(&c.handling),
            c.note
                .clone()
                .unwrap_or_default()
                .replace(['\t', '\n'], " "),
        );
    }
    for w in &r.warnings {
        let _ = writeln!(text, "# warning: {}", w.replace('\n', " "));
    }
    text
}

/// One row per feature.
pub fn feature_tsv(r: &ConfounderReport) -> String {
    let mut text =
        String::from("feature\tnaive_p\tnaive_q\tauc\tstatus\tconfounded_by\tlr_tests\n");
    for f in &r.features {
        let tests: Vec<String> = f
            .tests
            .iter()
            .map(|t| {
                format!(
                    "{}: LR {:.4} (df {}, n {}) p {:.3e}",
                    t.column, t.statistic, t.df, t.n, t.p_value
                )
            })
            .collect();
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            f.feature,
            f.naive_p,
            f.naive_q,
            opt(f.auc),
            json_name(&f.status),
            f.confounded_by.join(","),
            tests.join("; ")
        );
    }
    text
}

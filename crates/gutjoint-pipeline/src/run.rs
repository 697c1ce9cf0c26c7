//! The analysis itself: the steps `gutjoint analyze` runs, from a configuration and assets to
//! typed results and tables. Each section runs when the inputs allow it and leaves a note in
//! the results when it cannot; only unusable inputs end the run with an error.

use crate::assets::Assets;
use crate::config::{AnalysisConfig, ClassifierModel, DaMethod};
use crate::error::PipelineError;
use crate::input::{TableInput, metadata_column, read_input_table};
use crate::observer::Observer;
use crate::outputs::NamedTable;
use gutjoint_ecology::{
    AlphaMetric, BetaMetric, DispersionCentre, Grouping, PhyloTable, alpha, beta, pcoa, permanova,
    permdisp,
};
use gutjoint_report::{
    AlphaByGroup, AnalysisResults, Composition, GroupCount, Inputs, Ordination, OrdinationPoint,
    SCHEMA_VERSION, five_numbers,
};

/// The results of one analysis, with its configuration in the provenance.
pub type Results = AnalysisResults<AnalysisConfig>;
use gutjoint_knowledge::Disease;
use gutjoint_table::{FeatureTable, Rank, read_metadata_file, read_tree_file};
use std::collections::BTreeMap;
use std::fmt::Write as _;

type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// One finished analysis: the typed results and the TSV tables written beside them.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Everything `results.json` holds.
    pub results: Results,
    /// `tables/alpha.tsv`, `tables/pcoa.tsv`, `tables/distance_<metric>.tsv`.
    pub tables: Vec<NamedTable>,
}

/// The named steps of a run, in order, for progress.
const STEPS: [&str; 13] = [
    "reading the table",
    "joining the metadata",
    "alpha diversity",
    "beta diversity and PCoA",
    "PERMANOVA and PERMDISP",
    "composition",
    "GMHI",
    "dysbiosis",
    "arthritis signatures",
    "drug–microbe interactions",
    "gut–joint link",
    "differential abundance",
    "classifiers",
];

/// Reports steps to the observer and checks for cancellation between them.
struct Steps<'a> {
    observer: &'a dyn Observer,
}

impl Steps<'_> {
    /// Announces `what` (one of [`STEPS`]).
    fn start(&self, what: &str) {
        let done = STEPS.iter().position(|s| *s == what).unwrap_or(0) as u64;
        self.observer.progress(what, done, STEPS.len() as u64);
    }

    /// Ends the run if the observer asked for it.
    fn check(&self) -> Result<()> {
        if self.observer.is_cancelled() {
            Err(PipelineError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Checks the configuration before any work, so a mistake is reported at once.
fn validate(config: &AnalysisConfig) -> Result<BetaMetric> {
    if config.table.is_empty() {
        return Err(PipelineError::Config("no feature table was given".into()));
    }
    if config.metadata.is_some() != config.group.is_some() {
        return Err(PipelineError::Config(
            "the metadata file and the group column go together: give both or neither".into(),
        ));
    }
    // Change over time (#17).
    if config.subject.is_some() != config.time.is_some() {
        return Err(PipelineError::Config(
            "the subject and time columns go together: give both or neither".into(),
        ));
    }
    if config.donor.is_some() && config.subject.is_none() {
        return Err(PipelineError::Config(
            "the donor column needs the subject and time columns".into(),
        ));
    }
    if config.outcome.is_some() && config.metadata.is_none() {
        return Err(PipelineError::Config(
            "predicting an outcome needs the metadata file that holds it".into(),
        ));
    }
    if let Some(f) = &config.format {
        crate::input::parse_format(f)?;
    }
    if let Some(r) = &config.rank {
        crate::input::parse_rank(r)?;
    }
    Ok(BetaMetric::parse(&config.metric, 0.5, 1.0)?)
}

/// Runs every analysis the inputs allow. Pure apart from reading the input files named in
/// `config`: nothing is printed or written.
pub fn run(config: &AnalysisConfig, assets: &Assets, observer: &dyn Observer) -> Result<Analysis> {
    let metric = validate(config)?;
    let steps = Steps { observer };
    steps.check()?;
    steps.start("reading the table");
    let read = read_input_table(&TableInput {
        table: config.table.clone(),
        format: config.format.clone(),
        samples_as_rows: config.samples_as_rows,
        rank: config.rank.clone(),
        taxonomy: config.taxonomy.clone(),
    })?;
    for note in &read.notes {
        observer.note(note);
    }
    let full = read.table;
    let summary = gutjoint_table::summarize(&full);
    let mut notes: Vec<String> = read.notes.clone();
    steps.check()?;

    // Join the metadata: which samples, in which group.
    let (table, labels, dropped_absent, dropped_no_group) = match (&config.metadata, &config.group)
    {
        (Some(md_path), Some(column)) => {
            steps.start("joining the metadata");
            let md = read_metadata_file(md_path)?;
            let col = metadata_column(&md, md_path, column)?;
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
                return Err(PipelineError::NoSampleMatches {
                    path: md_path.clone(),
                    column: column.clone(),
                    samples: full.n_samples(),
                    first_table_id: full.sample_ids().first().cloned().unwrap_or_default(),
                    first_metadata_id: md.ids.first().cloned().unwrap_or_default(),
                });
            }
            if absent > 0 || no_value > 0 {
                notes.push(format!("{absent} table samples are not in the metadata and {no_value} have no '{column}' value: both left out"));
            }
            (full.select_samples(&keep), labels, absent, no_value)
        }
        _ => {
            let n = full.n_samples();
            (full.clone(), vec!["all".to_string(); n], 0, 0)
        }
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
    // --control and --batch are checked before any work: a wrong level or an unusable batch
    // ends the run with the file and column named.
    let batch_check = match (&config.metadata, config.group.is_some()) {
        (Some(md_path), true) => crate::sections::confounders::check_settings(
            config,
            &read_metadata_file(md_path)?,
            md_path,
            table.sample_ids(),
            &grouping,
        )?,
        _ if config.batch.is_some() || config.control.is_some() => {
            return Err(PipelineError::Config(
                "a batch column or a control level needs the metadata and the group column".into(),
            ));
        }
        _ => None,
    };
    // The disease the drug calls are read for, checked before any work (a mistyped name stops
    // the run rather than scoring without it).
    let disease = cohort_disease(config, assets.knowledge(), &grouping, &mut notes)?;
    steps.check()?;

    steps.start("alpha diversity");
    let phylo = match &config.tree {
        Some(tree) => {
            let tree = read_tree_file(tree)?;
            let phylo = PhyloTable::new(&table, &tree, true)?;
            if !phylo.dropped.is_empty() {
                notes.push(format!(
                    "left out {} features that are not tips of the tree",
                    phylo.dropped.len()
                ));
            }
            Some(phylo)
        }
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
    steps.check()?;

    steps.start("beta diversity and PCoA");
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
    steps.check()?;

    let (mut perm, mut disp) = (None, None);
    if grouping.names.len() >= 2 {
        steps.start("PERMANOVA and PERMDISP");
        match permanova(&dm, &grouping, config.permutations, config.seed) {
            Ok(t) => perm = Some(t),
            Err(e) => notes.push(format!("PERMANOVA was not run: {e}")),
        }
        match permdisp(
            &dm,
            &grouping,
            config.permutations,
            config.seed,
            DispersionCentre::Median,
            10,
        ) {
            Ok(t) => disp = Some(t),
            Err(e) => notes.push(format!("PERMDISP was not run: {e}")),
        }
    } else {
        notes.push("one group only: PERMANOVA and PERMDISP need at least two".into());
    }
    steps.check()?;

    steps.start("composition");
    let composition = composition(&table, &grouping, &mut notes);

    let labels_of: std::collections::HashMap<String, String> = table
        .sample_ids()
        .iter()
        .zip(&grouping.labels)
        .map(|(id, l)| (id.clone(), grouping.names[*l].clone()))
        .collect();
    steps.check()?;
    let domain = domain(
        config, assets, &table, &grouping, &labels_of, disease, &steps, &mut notes,
    );
    steps.check()?;
    let gut_joint = gut_joint(config, assets, &table, &grouping, &steps, &mut notes);
    steps.check()?;
    let differential_abundance =
        differential_abundance(config, &table, &grouping, &steps, &mut notes);
    steps.check()?;
    let classifiers = classifiers(config, &table, &grouping, &steps, &mut notes);
    steps.check()?;
    let confounders = crate::sections::confounders::section(
        &crate::sections::confounders::Context {
            config,
            table: &table,
            dm: &dm,
            grouping: &grouping,
            batch: batch_check.as_ref(),
            classifiers: classifiers.as_ref(),
            reference: domain.reference_choice.clone(),
        },
        &mut notes,
    );
    // Change over time (#17).
    let change = crate::sections::change::change(
        config,
        assets,
        &table,
        &full,
        domain.reference_name.as_deref(),
        &mut notes,
    )?;
    let outcome = match &config.outcome {
        Some(o) => {
            observer.progress(
                "treatment-response prediction",
                STEPS.len() as u64,
                STEPS.len() as u64,
            );
            crate::sections::outcome::outcome_section(
                o,
                config.seed,
                &full,
                config.metadata.as_deref(),
                &mut notes,
            )?
        }
        None => None,
    };
    steps.check()?;

    let software = crate::software_version();
    let provenance =
        crate::provenance::provenance(config, assets, domain.reference_name.as_deref())?;
    let mut results = AnalysisResults {
        schema_version: SCHEMA_VERSION.into(),
        software: software.clone(),
        title: config.title.clone(),
        provenance,
        inputs: Inputs {
            table: config.table.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
            metadata: config.metadata.as_ref().map(|p| p.display().to_string()),
            group_column: config.group.clone(),
            seed: config.seed,
            permutations: config.permutations,
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
        gut_joint,
        differential_abundance,
        classifiers,
        methods: vec![
            format!("Alpha diversity: {} as scikit-bio 0.7 (Shannon with natural logarithm).", metrics.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")),
            format!("Beta diversity: {} between all analysed samples; PCoA by full eigendecomposition of the Gower-centred matrix (scikit-bio's eigh method).", metric.name()),
            format!("PERMANOVA (Anderson 2001) pseudo-F with {} permutations, seed {}, p = (hits + 1)/(permutations + 1).", config.permutations, config.seed),
            format!("PERMDISP (Anderson 2006): distances to each group's spatial median in the first 10 PCoA axes, one-way ANOVA F, {} permutations.", config.permutations),
            "Composition: features collapsed to genus when lineages allow; mean relative abundance per group; the ten largest genera overall are shown, the rest pooled as 'other'.".into(),
            "GMHI: Gupta et al. 2020 (Nat Commun 11:4635), the authors' method (unclassified and viral rows dropped, renormalised, values < 1e-5 zeroed).".into(),
            format!(
                "Dysbiosis: median Bray–Curtis distance to the healthy samples of the reference{}, percentile among the reference's leave-one-out scores, flag above its 90th percentile (Lloyd-Price et al. 2019, Nature 569:655).",
                domain.reference_label.as_deref().map(|r| format!(" {r}")).unwrap_or_default()
            ),
            "Signatures: cited taxon–disease associations of the embedded knowledge base; a sample's abundance percentile among the reference's healthy samples (mid-rank, itself excluded), 'yes' when on the reported side of the median.".into(),
            format!(
                "Drugs: capacity = Σ species abundance × fraction of its AGORA2 strains carrying the enzyme (Heinken et al. 2023); calls against the reference's 10th–90th percentiles; in-vitro inhibition from Maier et al. 2018.{}",
                // Said only where drugs were scored, so other reports keep their bytes.
                disease
                    .filter(|_| !config.drugs.is_empty() || config.medication_column.is_some())
                    .map(|d| format!(" Pharmacology read for {d}: a mechanism acting only on a moiety that is not the active one in {d} is called not relevant."))
                    .unwrap_or_default()
            ),
            format!("Software: {software}; results schema {SCHEMA_VERSION}."),
        ],
        notes,
        confounders,
        change,
        outcome: outcome.as_ref().map(|o| o.0.clone()),
    };
    if let Some((_, method, _)) = &outcome {
        results.methods.push(method.clone());
    }

    let mut tables = vec![NamedTable {
        name: format!("tables/distance_{}.tsv", metric.name()),
        text: dm.to_lsmat(),
    }];
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
    tables.push(NamedTable {
        name: "tables/alpha.tsv".into(),
        text: alpha_tsv,
    });
    let mut pcoa_tsv = String::from("sample-id\tPC1\tPC2\tPC3\n");
    for i in 0..dm.len() {
        let _ = write!(pcoa_tsv, "{}", dm.ids()[i]);
        for a in 0..3.min(ordination.n_axes()) {
            let _ = write!(pcoa_tsv, "\t{}", ordination.coordinate(i, a));
        }
        pcoa_tsv.push('\n');
    }
    tables.push(NamedTable {
        name: "tables/pcoa.tsv".into(),
        text: pcoa_tsv,
    });
    if let Some((_, _, predictions)) = outcome {
        tables.push(predictions);
    }
    Ok(Analysis { results, tables })
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
    drugs: Option<Vec<gutjoint_report::DrugGroupSummary>>,
    therapy_notes: Vec<gutjoint_report::TherapyNote>,
    patient: Option<gutjoint_report::PatientView>,
    reference_label: Option<String>,
    /// The healthy reference used (built-in name or file), when it could be loaded.
    reference_name: Option<String>,
    /// Which reference scored dysbiosis and signatures: own controls or a built-in one.
    reference_choice: Option<gutjoint_report::ReferenceChoice>,
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

#[allow(clippy::too_many_arguments)]
fn domain(
    config: &AnalysisConfig,
    assets: &Assets,
    table: &FeatureTable,
    grouping: &Grouping,
    labels_of: &std::collections::HashMap<String, String>,
    disease: Option<Disease>,
    steps: &Steps,
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
        reference_name: None,
        reference_choice: None,
    };
    let species_level = table.ranks_present().contains(&Rank::Species);
    let patient_index = config
        .sample
        .as_ref()
        .and_then(|id| table.sample_ids().iter().position(|s| s == id));
    if let (Some(id), None) = (&config.sample, patient_index) {
        notes.push(format!(
            "sample '{id}' (one-patient view): no such sample among the analysed ones"
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
        steps.start("GMHI");
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
    let reference_name = config.reference.clone().unwrap_or_else(|| {
        if species_level {
            "gmhi-healthy".into()
        } else {
            "gespic-healthy".into()
        }
    });
    let reference = match assets.reference(&reference_name) {
        Ok(r) => {
            d.reference_name = Some(reference_name.clone());
            Some(r)
        }
        Err(e) => {
            notes.push(format!("reference '{reference_name}' unavailable: {e}"));
            None
        }
    };
    let kb = assets.knowledge();
    // The cohort's own controls score dysbiosis and signatures when there are any; the
    // built-in reference (kept for the drug calls) otherwise, with a warning.
    let (own, choice) = crate::sections::confounders::own_reference(
        config,
        table,
        grouping,
        reference.as_deref(),
        &reference_name,
        notes,
    );
    d.reference_choice = choice;
    let population = if own.is_some() {
        None
    } else {
        config.population.as_deref()
    };
    let scoring = own.as_ref().or(reference.as_deref());
    if let Some(reference) = scoring {
        steps.start("dysbiosis");
        let result = KeyedProfiles::from_table(table, reference.rank())
            .map_err(PipelineError::from)
            .and_then(|p| {
                Ok(gutjoint_axis::dysbiosis::dysbiosis(
                    &p, reference, population, 5,
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
                    p.top_deviating_taxa = row
                        .top_deviating_taxa
                        .iter()
                        .map(|(taxon, z)| gutjoint_report::TaxonDeviation {
                            taxon: taxon.clone(),
                            z: *z,
                        })
                        .collect();
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
            Err(e) => notes.push(format!("dysbiosis was not scored: {e}")),
        }
        if let (Some(p), Some(s)) = (patient.as_mut(), patient_index)
            && let Ok(prof) = KeyedProfiles::from_table(table, reference.rank())
        {
            let call = &gutjoint_axis::dominance::dominance(
                &prof,
                gutjoint_axis::dominance::DEFAULT_THRESHOLD,
            )[s];
            p.dominant_taxon = Some(gutjoint_report::DominantTaxon {
                taxon: call.top_taxon.clone(),
                share: call.share,
            });
        }
    }

    // Signatures
    if let Some(reference) = scoring {
        steps.start("arthritis signatures");
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
            Some((reference, population)),
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
                by_group: by
                    .into_iter()
                    .map(
                        |(group, on_reported_side, informative)| gutjoint_report::SignatureTally {
                            group,
                            on_reported_side,
                            informative,
                        },
                    )
                    .collect(),
            });
        }
        if let (Some(p), Some(s)) = (patient.as_mut(), patient_index) {
            let id = &table.sample_ids()[s];
            p.consistent_signatures = rows
                .iter()
                .filter(|r| &r.sample_id == id && r.consistent == "yes")
                .map(|r| gutjoint_report::PatientSignature {
                    taxon: r.taxon.clone(),
                    disease: r.disease.clone(),
                    reported_direction: r.reported_direction.clone(),
                    percentile: r.percentile.filter(|p| p.is_finite()),
                    citation: r.citation.clone(),
                    doi: r.doi.clone(),
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
    let wants_drugs = !config.drugs.is_empty() || config.medication_column.is_some();
    if wants_drugs {
        steps.start("drug–microbe interactions");
        match drug_section(
            config,
            assets,
            kb,
            table,
            grouping,
            labels_of,
            reference.as_deref(),
            disease,
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
            Err(e) => notes.push(format!("drug–microbe interactions were not scored: {e}")),
        }
    }
    d.patient = patient;
    d
}

type DrugSection = (
    Vec<gutjoint_report::DrugGroupSummary>,
    Vec<gutjoint_report::TherapyNote>,
    Vec<gutjoint_report::DrugCall>,
);

#[allow(clippy::too_many_arguments)]
fn drug_section(
    config: &AnalysisConfig,
    assets: &Assets,
    kb: &gutjoint_knowledge::KnowledgeBase,
    table: &FeatureTable,
    grouping: &Grouping,
    labels_of: &std::collections::HashMap<String, String>,
    reference: Option<&gutjoint_axis::reference::Reference>,
    disease: Option<Disease>,
    patient_index: Option<usize>,
    notes: &mut Vec<String>,
) -> Result<DrugSection> {
    use gutjoint_axis::KeyedProfiles;
    use gutjoint_axis::pharmaco::{
        CarriageIndex, DrugInputs, medications_by_sample, reference_bands, resolve_drug_name,
        score_drugs_in, summarize_by_group,
    };
    if !table.ranks_present().contains(&Rank::Species) {
        return Err(PipelineError::Config(
            "drug–microbe capacity needs species-level profiles".into(),
        ));
    }
    let data = assets.pharmaco()?;
    let profiles = KeyedProfiles::from_table(table, Some(Rank::Species))?;
    let mut common = Vec::new();
    for name in &config.drugs {
        match resolve_drug_name(kb, name) {
            Ok(drug) => common.push(drug),
            Err(message) => notes.push(message),
        }
    }
    let per_sample = match (&config.metadata, &config.medication_column) {
        (Some(md_path), Some(column)) => {
            let md = read_metadata_file(md_path)?;
            let col = metadata_column(&md, md_path, column)?;
            let index = md.index();
            let (per_sample, unknown) = medications_by_sample(
                kb,
                &common,
                profiles
                    .sample_ids
                    .iter()
                    .map(|id| index.get(id.as_str()).and_then(|&r| col.text(r))),
            );
            if !unknown.is_empty() {
                notes.push(format!(
                    "medications not in the knowledge base (not scored): {}",
                    unknown.into_keys().collect::<Vec<_>>().join(", ")
                ));
            }
            per_sample
        }
        _ => vec![common; profiles.sample_ids.len()],
    };
    let index = CarriageIndex::new(kb, &data);
    // The same bands the `drugs` command scores against; none (calls n/a) without a
    // species-level reference.
    let bands = match reference {
        Some(r) => reference_bands(kb, &index, r, None).unwrap_or_else(|e| {
            notes.push(format!("drug calls are n/a: {e}"));
            BTreeMap::new()
        }),
        None => BTreeMap::new(),
    };
    // Read for the cohort's disease, as `gutjoint drugs --disease` does.
    let calls = score_drugs_in(
        &DrugInputs {
            kb,
            data: &data,
            index: &index,
            profiles: &profiles,
            drugs: &per_sample,
            bands: &bands,
            measured: None,
        },
        disease,
    );
    let summaries = summarize_by_group(&calls, labels_of, &grouping.names);
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
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Ok((summaries, therapy, patient_drugs))
}

/// The disease the run is about, for the drugs' pharmacology: `config.disease` read as
/// `gutjoint drugs --disease` reads it (a code or a name; a near miss is read as the closest
/// name, with a note; an unknown one is an error), else the one disease the group's levels
/// name exactly (an RA-vs-healthy cohort is about RA). A cohort whose levels name several
/// diseases (AS and RA) or none gets none: its drugs' active moiety is listed by disease.
pub(crate) fn cohort_disease(
    config: &AnalysisConfig,
    kb: &gutjoint_knowledge::KnowledgeBase,
    grouping: &Grouping,
    notes: &mut Vec<String>,
) -> Result<Option<Disease>> {
    if let Some(name) = &config.disease {
        let answer = kb.disease(name);
        return match (answer.disease, answer.suggestion) {
            (Some(code), None) => Ok(Some(code)),
            (Some(code), Some(s)) => {
                notes.push(format!("disease '{name}' read as '{s}' ({code})"));
                Ok(Some(code))
            }
            (None, Some(s)) => Err(PipelineError::UnknownValue {
                setting: "disease",
                value: name.clone(),
                expected: format!(
                    "a disease code or name of the knowledge base (did you mean '{s}'?)"
                ),
            }),
            (None, None) => Err(PipelineError::UnknownValue {
                setting: "disease",
                value: name.clone(),
                expected: format!(
                    "a disease code or name of the knowledge base ({})",
                    Disease::query_names().join(", ")
                ),
            }),
        };
    }
    let named: std::collections::BTreeSet<Disease> = grouping
        .names
        .iter()
        .filter_map(|g| {
            let a = kb.disease(g);
            a.suggestion.is_none().then_some(a.disease).flatten()
        })
        .collect();
    Ok(match named.len() {
        1 => named.into_iter().next(),
        _ => None,
    })
}

/// Guilds by group, and the strongest host associations when host variables were given.
fn gut_joint(
    config: &AnalysisConfig,
    assets: &Assets,
    table: &FeatureTable,
    grouping: &Grouping,
    steps: &Steps,
    notes: &mut Vec<String>,
) -> Option<gutjoint_report::GutJointSection> {
    let kb = assets.knowledge();
    steps.start("gut–joint link");
    let profile = gutjoint_axis::guilds::guild_profile(kb, assets.guilds(), table);
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
            gutjoint_report::GuildByGroup {
                guild: name.clone(),
                groups: by_group(&values, grouping, name),
            }
        })
        .collect();
    let mut associations = Vec::new();
    let covariates_text =
        crate::sections::confounders::covariates_with_batch(config).unwrap_or_default();
    if let (false, Some(md_path)) = (config.host_variables.is_empty(), &config.metadata) {
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
                &config.host_variables,
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
            Err(e) => notes.push(format!("host associations were not computed: {e}")),
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
    config: &AnalysisConfig,
    table: &FeatureTable,
    grouping: &Grouping,
    steps: &Steps,
    notes: &mut Vec<String>,
) -> Option<gutjoint_report::DaSection> {
    let (md_path, column) = (config.metadata.as_ref()?, config.group.as_ref()?);
    if grouping.names.len() < 2 {
        return None;
    }
    steps.start("differential abundance");
    let run = || -> Result<gutjoint_report::DaSection> {
        let md = read_metadata_file(md_path)?;
        let reference = crate::sections::confounders::reference_group(config, grouping);
        let covariates =
            crate::sections::confounders::covariates_with_batch(config).unwrap_or_default();
        let formula = if covariates.trim().is_empty() {
            format!("C({column})")
        } else {
            format!("C({column}) + {covariates}")
        };
        da_model(config, &md, table, column, &reference, &formula)
    };
    match run() {
        Ok(section) => Some(section),
        Err(e) => {
            notes.push(format!("differential abundance was not run: {e}"));
            None
        }
    }
}

/// One differential-abundance model, `formula` with `column` against `reference`, on the
/// samples of `table` that have every value the formula needs; features present in ≥10% of
/// them. The group coefficients only.
pub(crate) fn da_model(
    config: &AnalysisConfig,
    md: &gutjoint_table::Metadata,
    table: &FeatureTable,
    column: &str,
    reference: &str,
    formula: &str,
) -> Result<gutjoint_report::DaSection> {
    let terms = gutjoint_stats::parse_formula(formula)?;
    let refs = BTreeMap::from([(column.to_string(), reference.to_string())]);
    let design = gutjoint_stats::design(md, table.sample_ids(), &terms, &refs)?;
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
        if config.da_method == DaMethod::Ancombc {
            // ANCOM-BC on the table's own values (counts or proportions).
            let pseudocount = gutjoint_stats::ancombc::default_pseudocount(&used);
            let result = gutjoint_stats::ancombc::ancombc(
                &used,
                &design,
                pseudocount,
                gutjoint_stats::ancombc::Options::default(),
            )?;
            let rows = group_terms(result.coefficients, &prefix);
            ("ancombc", format!("ln(value + {pseudocount:.3e})"), rows)
        } else {
            let transform = gutjoint_stats::da::Transform::Log10 { pseudocount };
            let rows = group_terms(
                gutjoint_stats::da::linear_models(
                    &used,
                    &design,
                    transform,
                    gutjoint_stats::Adjust::Bh,
                )?,
                &prefix,
            );
            (
                "lm",
                format!("log10(relative abundance + {pseudocount:.3e})"),
                rows,
            )
        };
    Ok(gutjoint_report::DaSection {
        method: method.into(),
        formula: formula.to_string(),
        reference: reference.to_string(),
        transform,
        samples: design.n,
        features: used.n_features(),
        coefficients,
    })
}

/// Out-of-fold classifiers of each group against the reference group (`healthy` when present,
/// else the first group), on CLR features present in ≥10% of the samples compared.
fn classifiers(
    config: &AnalysisConfig,
    table: &FeatureTable,
    grouping: &Grouping,
    steps: &Steps,
    notes: &mut Vec<String>,
) -> Option<gutjoint_report::ClassifierSection> {
    use gutjoint_stats::classify::{Model, cross_validate, stratified_folds};
    let model = match config.classifier {
        ClassifierModel::None => return None,
        ClassifierModel::L1Logistic => Model::L1Logistic { c: 1.0 },
        ClassifierModel::RandomForest => Model::RandomForest {
            trees: 500,
            seed: config.seed,
        },
    };
    if grouping.names.len() < 2 {
        return None;
    }
    steps.start("classifiers");
    let (folds, repeats) = (5usize, 5usize);
    let reference = grouping
        .names
        .iter()
        .position(|g| *g == crate::sections::confounders::reference_group(config, grouping))
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
                gutjoint_stats::features::clr_dataset(table, &rows, labels.clone(), 0.1, None)?;
            let assignments = (0..repeats)
                .map(|r| stratified_folds(&data.y, folds, config.seed.wrapping_add(r as u64)))
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
                    let lineage = gutjoint_table::Lineage::parse(&features[j].lineage);
                    let name = lineage
                        .deepest_rank()
                        .and_then(|r| lineage.get(r))
                        .unwrap_or(&features[j].id)
                        .replace('_', " ");
                    gutjoint_report::FeatureImportance {
                        feature: name,
                        importance: cv.importances[j],
                        selected: cv.selected[j],
                    }
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
                "classifier {case} vs {}: not run: {e}",
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
        seed: config.seed,
        comparisons,
    })
}

/// The group's rows (terms `column[T.level]`) of a differential-abundance fit, in the report's
/// layout: the same mapping for ANCOM-BC and the linear models.
fn group_terms(
    coefficients: Vec<gutjoint_stats::da::Coefficient>,
    prefix: &str,
) -> Vec<gutjoint_report::DaCoefficient> {
    coefficients
        .into_iter()
        .filter(|c| c.term.starts_with(prefix))
        .map(|c| gutjoint_report::DaCoefficient {
            feature: c.feature,
            term: c.term,
            estimate: c.estimate,
            p: c.p,
            q: c.q,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observer::NoopObserver;
    use std::path::PathBuf;

    fn gespic(seed: u64) -> AnalysisConfig {
        let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/gespic");
        AnalysisConfig {
            table: vec![data.join("gespic_genus.tsv")],
            metadata: Some(data.join("gespic_metadata.tsv")),
            group: Some("group".into()),
            permutations: 19,
            seed,
            classifier: ClassifierModel::None,
            ..AnalysisConfig::default()
        }
    }

    /// Everything a run writes: results.json, report.html and the tables.
    fn bytes(a: &Analysis) -> String {
        let mut all = crate::outputs::results_json(a).expect("serialises");
        all.push_str(&gutjoint_report::render_html(&a.results));
        for t in &a.tables {
            all.push_str(&t.text);
        }
        all
    }

    /// Two analyses on two threads of one process share no state: each gives the bytes it
    /// gives alone (progress, notes and caches are per run or read-only).
    #[test]
    fn concurrent_runs_give_the_bytes_of_runs_alone() {
        let assets = Assets::embedded().expect("embedded assets");
        let alone =
            [1, 2].map(|seed| bytes(&run(&gespic(seed), &assets, &NoopObserver).expect("runs")));
        assert_ne!(alone[0], alone[1], "seeds 1 and 2 permute differently");
        let together = std::thread::scope(|scope| {
            let handles = [1, 2].map(|seed| {
                let assets = &assets;
                scope
                    .spawn(move || bytes(&run(&gespic(seed), assets, &NoopObserver).expect("runs")))
            });
            handles.map(|h| h.join().expect("no panic"))
        });
        assert_eq!(together, alone);
    }

    /// results.json reads back into the same results: re-serialised it is the same text, and
    /// the report rendered from it has the bytes of the report rendered from the run. The
    /// configuration exercises the host associations, the patient view and ANCOM-BC.
    #[test]
    fn results_read_back_and_re_render_the_same_bytes() {
        let assets = Assets::embedded().expect("embedded assets");
        let mut config = gespic(3);
        config.host_variables = vec!["BASDAI".into(), "CRP".into()];
        config.covariates = Some("age + C(sex)".into());
        config.da_method = DaMethod::Ancombc;
        config.sample = Some("P119".into());
        let analysis = run(&config, &assets, &NoopObserver).expect("runs");
        let text = crate::outputs::results_json(&analysis).expect("serialises");
        let back = crate::outputs::read_results(&text, "results.json").expect("reads back");
        let mut again = serde_json::to_string_pretty(&back).expect("serialises");
        again.push('\n');
        assert!(again == text, "results.json changes in a round trip");
        assert!(
            gutjoint_report::render_html(&back) == gutjoint_report::render_html(&analysis.results),
            "the report from results.json differs"
        );
        assert_eq!(
            back.provenance.parameters, config,
            "every setting is recorded"
        );
        assert_eq!(back.provenance.inputs.len(), 2, "table and metadata");
    }

    /// An observer that cancels stops the run between steps with a typed error.
    #[test]
    fn a_cancelled_run_stops_between_steps() {
        struct CancelAfterAlpha(std::sync::atomic::AtomicBool);
        impl Observer for CancelAfterAlpha {
            fn progress(&self, step: &str, _done: u64, _total: u64) {
                if step == "alpha diversity" {
                    self.0.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            fn is_cancelled(&self) -> bool {
                self.0.load(std::sync::atomic::Ordering::Relaxed)
            }
        }
        let assets = Assets::embedded().expect("embedded assets");
        let observer = CancelAfterAlpha(std::sync::atomic::AtomicBool::new(false));
        assert!(matches!(
            run(&gespic(1), &assets, &observer),
            Err(PipelineError::Cancelled)
        ));
    }
}

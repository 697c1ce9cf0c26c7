//! The self-contained HTML report: inline CSS and SVG, printable, no script, no network.

use crate::AnalysisResults;
use crate::svg::{boxplot, boxplot_with_line, escape, scatter, stacked_bars, volcano};
use crate::{AlphaByGroup, PatientView};
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:2em}\
.note{background:#fff4d6;border-left:4px solid #E69F00;padding:.6em 1em}.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;max-width:380px}figcaption{font-size:.85em;color:#555}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f0f4f8}\
.num{text-align:right;font-variant-numeric:tabular-nums}.badge{display:inline-block;padding:0 .4em;border-radius:.3em;font-size:.85em;color:#fff}\
.ev-human{background:#009E73}.ev-animal{background:#0072B2}.ev-in_vitro{background:#56B4E9}.ev-in_silico{background:#CC79A7}.ev-none{background:#999}\
.patient{border:2px solid #0072B2;padding:.5em 1em;border-radius:.4em}footer{margin-top:3em;color:#666;font-size:.9em}\
@media print{.plots{display:block}h2{break-after:avoid}}";

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return "NaN".into();
    }
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// Renders the report.
pub fn render_html(r: &AnalysisResults) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>",
        escape(&r.title)
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p>{} · results schema {}</p>",
        escape(&r.title),
        escape(&r.software),
        r.schema_version
    );
    h.push_str("<p class=\"note\" id=\"research-use\"><strong>Research software.</strong> This report describes microbiome data and compares groups; it is not a diagnosis and must not guide treatment on its own.</p>");

    if let Some(p) = &r.patient {
        patient_section(&mut h, p);
    }

    // Data
    let t = &r.table;
    h.push_str("<section id=\"data\"><h2>Data</h2><table>");
    let rows = [
        ("table", escape(&r.inputs.table)),
        (
            "metadata",
            r.inputs.metadata.as_deref().map_or("—".into(), escape),
        ),
        (
            "group column",
            r.inputs.group_column.as_deref().map_or("—".into(), escape),
        ),
        ("samples in table", t.samples.to_string()),
        ("features", t.features.to_string()),
        ("value kind", t.value_kind.name().to_string()),
        ("density (nonzero)", format!("{:.4}", t.density)),
        (
            "depth min / median / max",
            format!(
                "{} / {} / {}",
                fmt(t.min_depth),
                fmt(t.median_depth),
                fmt(t.max_depth)
            ),
        ),
        ("samples analysed", r.samples_used.to_string()),
        (
            "dropped: not in metadata / no group value",
            format!(
                "{} / {}",
                r.dropped_not_in_metadata, r.dropped_without_group
            ),
        ),
    ];
    for (k, v) in rows {
        let _ = write!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    h.push_str("</table><table><tr><th>group</th><th>samples</th></tr>");
    for g in &r.groups {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
            escape(&g.group),
            g.samples
        );
    }
    h.push_str("</table></section>");

    // Composition
    let c = &r.composition;
    let _ = write!(
        h,
        "<section id=\"composition\"><h2>Composition</h2><p>Mean relative abundance of the {} most abundant {} per group.</p>",
        c.taxa.len().saturating_sub(1),
        escape(&c.rank)
    );
    h.push_str(&stacked_bars(&c.groups, &c.taxa, &c.means));
    h.push_str("</section>");

    // Alpha
    h.push_str("<section id=\"alpha\"><h2>Alpha diversity</h2><div class=\"plots\">");
    let mut metrics: Vec<&str> = r.alpha.iter().map(|a| a.metric.as_str()).collect();
    metrics.dedup();
    for m in &metrics {
        let boxes: Vec<(String, [f64; 5])> = r
            .alpha
            .iter()
            .filter(|a| a.metric == *m)
            .map(|a| (a.group.clone(), [a.min, a.q1, a.median, a.q3, a.max]))
            .collect();
        h.push_str("<figure>");
        h.push_str(&boxplot(&boxes, m));
        let _ = write!(
            h,
            "<figcaption>{} by group (box: quartiles, line: median, whiskers: range)</figcaption></figure>",
            escape(m)
        );
    }
    h.push_str(
        "</div><table><tr><th>metric</th><th>group</th><th>n</th><th>median</th><th>IQR</th></tr>",
    );
    for a in &r.alpha {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} – {}</td></tr>",
            escape(&a.metric),
            escape(&a.group),
            a.n,
            fmt(a.median),
            fmt(a.q1),
            fmt(a.q3)
        );
    }
    h.push_str("</table></section>");

    // Beta
    let o = &r.ordination;
    let groups: Vec<String> = r.groups.iter().map(|g| g.group.clone()).collect();
    let points: Vec<(f64, f64, usize)> = o
        .points
        .iter()
        .map(|p| {
            (
                p.pc1,
                p.pc2,
                groups.iter().position(|g| *g == p.group).unwrap_or(0),
            )
        })
        .collect();
    let pct = |k: usize| o.proportion_explained.get(k).map_or(0.0, |p| p * 100.0);
    let _ = write!(
        h,
        "<section id=\"beta\"><h2>Beta diversity</h2><p>PCoA of {} distances.</p>",
        escape(&r.beta_metric)
    );
    h.push_str(&scatter(
        &points,
        &groups,
        &format!("PC1 ({:.1}%)", pct(0)),
        &format!("PC2 ({:.1}%)", pct(1)),
    ));
    h.push_str("<table><tr><th>test</th><th>statistic</th><th>p-value</th><th>samples</th><th>groups</th><th>permutations</th></tr>");
    for test in [&r.permanova, &r.permdisp].into_iter().flatten() {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{} = {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            test.method,
            test.test_statistic_name,
            fmt(test.test_statistic),
            test.p_value.map_or("—".into(), fmt),
            test.sample_size,
            test.number_of_groups,
            test.permutations
        );
    }
    h.push_str("</table><p>PERMANOVA tests whether group centroids differ; PERMDISP whether group spreads differ. A significant PERMANOVA with a significant PERMDISP may reflect dispersion rather than location.</p></section>");

    domain_sections(&mut h, r);

    // Notes and methods
    if !r.notes.is_empty() {
        h.push_str("<section id=\"notes\"><h2>Notes</h2><ul>");
        for n in &r.notes {
            let _ = write!(h, "<li>{}</li>", escape(n));
        }
        h.push_str("</ul></section>");
    }
    h.push_str("<section id=\"methods\"><h2>Methods</h2><ul>");
    for m in &r.methods {
        let _ = write!(h, "<li>{}</li>", escape(m));
    }
    let _ = writeln!(
        h,
        "</ul></section><footer>Generated by {}. Seed {}. Open offline; no external resources.</footer></body></html>",
        escape(&r.software),
        r.inputs.seed
    );
    h
}

fn boxes(rows: &[AlphaByGroup]) -> Vec<(String, [f64; 5])> {
    rows.iter()
        .map(|a| (a.group.clone(), [a.min, a.q1, a.median, a.q3, a.max]))
        .collect()
}

fn doi_link(doi: &str, text: &str) -> String {
    if doi.is_empty() {
        escape(text)
    } else {
        format!(
            "<a href=\"https://doi.org/{}\">{}</a>",
            escape(doi),
            escape(text)
        )
    }
}

fn badge(evidence: &str) -> String {
    let class = evidence.split([' ', '(']).next().unwrap_or("none");
    format!(
        "<span class=\"badge ev-{}\">{}</span>",
        escape(class),
        escape(evidence)
    )
}

fn patient_section(h: &mut String, p: &PatientView) {
    let _ = write!(
        h,
        "<section id=\"patient\" class=\"patient\"><h2>Sample {} ({})</h2><ul>",
        escape(&p.sample_id),
        escape(&p.group)
    );
    if let Some(g) = p.gmhi {
        let _ = write!(
            h,
            "<li>GMHI {} ({})</li>",
            fmt(g),
            if g > 0.0 {
                "more health-prevalent than health-scarce species"
            } else {
                "health-scarce species outweigh health-prevalent ones"
            }
        );
    }
    if let (Some(d), Some(pc)) = (p.dysbiosis, p.dysbiosis_percentile) {
        let flag = if p.dysbiosis_flag == Some(true) {
            " — above the reference's 90th percentile"
        } else {
            ""
        };
        let _ = write!(
            h,
            "<li>Dysbiosis {} (percentile {:.0} of the healthy reference{flag})</li>",
            fmt(d),
            pc
        );
    }
    if let Some((taxon, share)) = &p.dominant_taxon {
        let _ = write!(
            h,
            "<li>Most abundant taxon: <i>{}</i> at {:.1}%</li>",
            escape(taxon),
            share * 100.0
        );
    }
    if !p.top_deviating_taxa.is_empty() {
        let list: Vec<String> = p
            .top_deviating_taxa
            .iter()
            .map(|(t, z)| format!("<i>{}</i> ({z:+.1} SD)", escape(t)))
            .collect();
        let _ = write!(
            h,
            "<li>Taxa deviating most from the reference (CLR z-scores): {}</li>",
            list.join(", ")
        );
    }
    h.push_str("</ul>");
    if !p.consistent_signatures.is_empty() {
        h.push_str("<p>Literature associations this sample points along (abundance on the reported side of the healthy median):</p><table><tr><th>taxon</th><th>disease</th><th>reported</th><th>percentile</th><th>study</th></tr>");
        for (taxon, disease, direction, pc, cite, doi) in &p.consistent_signatures {
            let _ = write!(
                h,
                "<tr><td><i>{}</i></td><td>{}</td><td>{}</td><td class=\"num\">{pc:.0}</td><td>{}</td></tr>",
                escape(taxon),
                escape(disease),
                escape(direction),
                doi_link(doi, cite)
            );
        }
        h.push_str("</table>");
    }
    if !p.drugs.is_empty() {
        h.push_str("<p>This sample's drugs and its bacteria:</p><table><tr><th>drug</th><th>interaction</th><th>capacity</th><th>call</th><th>source</th></tr>");
        for (drug, interaction, capacity, call, cite) in &p.drugs {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(drug),
                escape(interaction),
                capacity.map_or("—".into(), fmt),
                escape(call),
                escape(cite)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<p><em>A description of one microbiome profile against references; not a diagnosis.</em></p></section>");
}

fn domain_sections(h: &mut String, r: &AnalysisResults) {
    if let Some(g) = &r.gmhi {
        h.push_str("<section id=\"gmhi\"><h2>Gut Microbiome Health Index</h2><p>GMHI (Gupta et al. 2020): log10 ratio of the collective abundance of 7 health-prevalent to 43 health-scarce species; above 0 leans healthy.</p>");
        h.push_str(&boxplot_with_line(
            &boxes(&g.groups),
            "GMHI",
            Some((0.0, "GMHI = 0")),
        ));
        h.push_str("</section>");
    }
    if let Some(d) = &r.dysbiosis {
        let _ = write!(
            h,
            "<section id=\"dysbiosis\"><h2>Dysbiosis</h2><p>Median Bray–Curtis distance to the healthy samples of reference <b>{}</b> (population {}, {} level); dashed line: the reference's own 90th percentile, above which a sample is flagged. A reference is only as good as its match to the samples' population.</p>",
            escape(&d.reference),
            escape(&d.population),
            escape(&d.rank)
        );
        h.push_str(&boxplot_with_line(
            &boxes(&d.by_group),
            "dysbiosis score",
            Some((d.threshold, "reference 90th percentile")),
        ));
        h.push_str("<table><tr><th>group</th><th>flagged</th></tr>");
        for f in &d.flagged {
            let n = r
                .groups
                .iter()
                .find(|g| g.group == f.group)
                .map_or(0, |g| g.samples);
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"num\">{} of {n}</td></tr>",
                escape(&f.group),
                f.samples
            );
        }
        h.push_str("</table></section>");
    }
    if let Some(sig) = &r.signatures {
        let groups: Vec<String> = r.groups.iter().map(|g| g.group.clone()).collect();
        let _ = write!(
            h,
            "<section id=\"signatures\"><h2>Arthritis signatures</h2><p>Cited taxon–disease associations ({}) re-tested here: the share of each group's samples whose abundance lies on the reported side of the healthy median of reference {} (ties and unreadable ranks left out). Study populations differ from this cohort's; never a diagnosis.</p><table><tr><th>taxon</th><th>disease</th><th>reported</th><th>study population</th><th>study</th>",
            escape(&sig.diseases.join(", ")),
            escape(&sig.reference)
        );
        for g in &groups {
            let _ = write!(h, "<th>{}</th>", escape(g));
        }
        h.push_str("</tr>");
        for row in &sig.rows {
            let _ = write!(
                h,
                "<tr><td><i>{}</i></td><td>{}</td><td>{}</td><td>{}</td><td>{} <small>({})</small></td>",
                escape(&row.taxon),
                escape(&row.disease),
                escape(&row.reported_direction),
                escape(&row.population),
                doi_link(&row.doi, &row.citation),
                escape(&row.confidence)
            );
            for g in &groups {
                match row.by_group.iter().find(|(name, _, _)| name == g) {
                    Some((_, k, n)) if *n > 0 => {
                        let _ = write!(
                            h,
                            "<td class=\"num\">{:.0}% <small>({k}/{n})</small></td>",
                            100.0 * *k as f64 / *n as f64
                        );
                    }
                    _ => h.push_str("<td class=\"num\">—</td>"),
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</table></section>");
    }
    if let Some(drugs) = &r.drugs {
        h.push_str("<section id=\"drugs\"><h2>Drugs and gut bacteria</h2><p>For each drug and mechanism: the community's capacity (abundance-weighted share of species whose AGORA2 strains carry the enzyme), median per group, and calls against the healthy reference's 10th–90th percentile band. Research use: evidence graded, never a prescription aid.</p><table><tr><th>drug</th><th>interaction</th><th>enzyme</th><th>evidence</th><th>median capacity by group</th><th>low / typical / high</th><th>source</th></tr>");
        for d in drugs {
            let medians = if d.median_capacity.is_empty() {
                d.statement
                    .clone()
                    .map(|s| escape(&s))
                    .unwrap_or_else(|| "—".into())
            } else {
                d.median_capacity
                    .iter()
                    .map(|(g, m)| format!("{}: {}", escape(g), fmt(*m)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let calls = d
                .calls
                .iter()
                .map(|(g, l, t, hi)| format!("{}: {l} / {t} / {hi}", escape(g)))
                .collect::<Vec<_>>()
                .join("<br>");
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{medians}</td><td>{}</td><td>{}</td></tr>",
                escape(&d.drug),
                escape(&d.interaction),
                escape(&d.enzyme),
                badge(&d.evidence),
                if calls.is_empty() {
                    "—".into()
                } else {
                    calls
                },
                escape(&d.citation)
            );
        }
        h.push_str("</table></section>");
    }
    if let Some(da) = &r.differential_abundance {
        let _ = write!(
            h,
            "<section id=\"differential-abundance\"><h2>Differential abundance</h2><p>{}: {} of each feature ~ {} (reference group: {}); {} samples, {} features present in ≥10% of them; q: {} within each term. Coloured: q &lt; 0.05.</p>",
            if da.method == "ancombc" {
                "ANCOM-BC (Lin &amp; Peddada 2020), as scikit-bio's ancombc: natural-log fold changes corrected for each term's sampling bias"
            } else {
                "One linear model per feature"
            },
            escape(&da.transform),
            escape(&da.formula),
            escape(&da.reference),
            da.samples,
            da.features,
            if da.method == "ancombc" {
                "Holm"
            } else {
                "Benjamini–Hochberg"
            }
        );
        let mut terms: Vec<&str> = da.coefficients.iter().map(|c| c.1.as_str()).collect();
        terms.dedup();
        h.push_str("<div class=\"plots\">");
        for term in &terms {
            let points: Vec<(String, f64, f64, f64)> = da
                .coefficients
                .iter()
                .filter(|c| c.1 == *term)
                .map(|c| (c.0.clone(), c.2, c.3, c.4))
                .collect();
            let _ = write!(
                h,
                "<figure>{}<figcaption>{}</figcaption></figure>",
                volcano(&points, &format!("estimate: {term}")),
                escape(term)
            );
        }
        h.push_str("</div><table><tr><th>feature</th><th>term</th><th>estimate</th><th>p</th><th>q</th></tr>");
        let mut top: Vec<&(String, String, f64, f64, f64)> =
            da.coefficients.iter().filter(|c| c.4 < 0.05).collect();
        top.sort_by(|a, b| a.4.total_cmp(&b.4));
        for c in top.iter().take(20) {
            let _ = write!(
                h,
                "<tr><td><i>{}</i></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&c.0),
                escape(&c.1),
                fmt(c.2),
                fmt(c.3),
                fmt(c.4)
            );
        }
        if top.is_empty() {
            h.push_str("<tr><td colspan=\"5\">no feature with q &lt; 0.05</td></tr>");
        }
        h.push_str("</table></section>");
    }
    if let Some(c) = &r.classifiers {
        let _ = write!(
            h,
            "<section id=\"classifiers\"><h2>Can the microbiome tell the groups apart?</h2><p>{} on CLR-transformed abundances of the features present in ≥10% of the samples compared; stratified {}-fold cross-validation repeated {} times (seed {}), each sample's out-of-fold probability averaged over repeats; ROC AUC with DeLong's 95% CI. An AUC near 0.5 means no signal. This is separation within this cohort, confounded with whatever else differs between the groups (medication, study, country) — not a diagnostic test.</p><table><tr><th>comparison</th><th>samples</th><th>features</th><th>AUC (95% CI)</th><th>features that weigh most</th></tr>",
            if c.model == "random_forest" {
                "Random forest"
            } else {
                "L1-regularised logistic regression (LASSO, C = 1)"
            },
            c.folds,
            c.repeats,
            c.seed
        );
        for x in &c.comparisons {
            let top: Vec<String> = x
                .top
                .iter()
                .map(|(f, w, _)| {
                    let arrow = if c.model == "random_forest" {
                        ""
                    } else if *w > 0.0 {
                        " ↑"
                    } else {
                        " ↓"
                    };
                    format!("<i>{}</i>{arrow}", escape(f))
                })
                .collect();
            let _ = write!(
                h,
                "<tr><td>{} vs {}</td><td class=\"num\">{} + {}</td><td class=\"num\">{}</td><td class=\"num\">{:.3} ({:.3}–{:.3})</td><td>{}</td></tr>",
                escape(&x.case),
                escape(&x.control),
                x.n_case,
                x.n_control,
                x.features,
                x.auc,
                x.auc_ci[0],
                x.auc_ci[1],
                if top.is_empty() {
                    "—".to_string()
                } else {
                    top.join(", ")
                }
            );
        }
        h.push_str("</table>");
        if c.model != "random_forest" {
            h.push_str("<p><small>↑ / ↓: mean coefficient positive (higher in the first group of the comparison) or negative.</small></p>");
        }
        h.push_str("</section>");
    }
    if let Some(g) = &r.gut_joint {
        h.push_str("<section id=\"gut-joint\"><h2>The gut–joint link</h2><p>Barrier-related functional guilds (cited members, knowledge/guilds.tsv): median relative abundance by group [interquartile range]. A guild is a taxonomic proxy for a function.</p><table><tr><th>guild</th>");
        let groups: Vec<String> = r.groups.iter().map(|x| x.group.clone()).collect();
        for name in &groups {
            let _ = write!(h, "<th>{}</th>", escape(name));
        }
        h.push_str("</tr>");
        for (guild, rows) in &g.guilds {
            let _ = write!(h, "<tr><td>{}</td>", escape(&guild.replace('_', " ")));
            for name in &groups {
                match rows.iter().find(|a| &a.group == name) {
                    Some(a) => {
                        let _ = write!(
                            h,
                            "<td class=\"num\">{:.2}% <small>[{:.2}–{:.2}]</small></td>",
                            a.median * 100.0,
                            a.q1 * 100.0,
                            a.q3 * 100.0
                        );
                    }
                    None => h.push_str("<td>—</td>"),
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
        if !g.associations.is_empty() {
            let _ = write!(
                h,
                "<p>Strongest associations with host variables (linear model on log10 abundance adjusted for {}; q: Benjamini–Hochberg within each variable; partial ρ: Spearman given the covariates):</p><table><tr><th>feature</th><th>host variable</th><th>n</th><th>estimate</th><th>q</th><th>partial ρ</th><th>literature</th></tr>",
                escape(&g.covariates)
            );
            for a in &g.associations {
                let _ = write!(
                    h,
                    "<tr><td><i>{}</i></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td><td>{}</td></tr>",
                    escape(&a.feature),
                    escape(&a.host_variable),
                    a.n,
                    fmt(a.estimate),
                    fmt(a.q),
                    a.partial_r,
                    a.literature.as_deref().map_or("—".into(), escape)
                );
            }
            h.push_str("</table>");
        }
        h.push_str("</section>");
    }
    if !r.therapy_notes.is_empty() {
        h.push_str("<section id=\"therapy\"><h2>Therapy and the microbiome: what is known</h2><table><tr><th>therapy</th><th>effect</th><th>direction</th><th>evidence</th><th>study</th></tr>");
        for t in &r.therapy_notes {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td></tr>",
                escape(&t.therapy),
                escape(&t.effect),
                escape(&t.direction),
                badge(&t.evidence),
                escape(&t.confidence),
                doi_link(&t.doi, &t.citation)
            );
        }
        h.push_str("</table></section>");
    }
}

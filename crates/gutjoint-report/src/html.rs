//! The self-contained HTML report: inline CSS and SVG, printable, no script, no network.

use crate::svg::{Point, boxplot, boxplot_with_line, escape, scatter, stacked_bars, volcano};
use crate::{AlphaByGroup, AnalysisResults, DaCoefficient, PatientView, Provenance};
use serde::Serialize;
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:2em}\
.note{background:#fff4d6;border-left:4px solid #E69F00;padding:.6em 1em}.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;max-width:380px}figcaption{font-size:.85em;color:#555}\
table{border-collapse:collapse;margin:.5em 0;max-width:100%}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;overflow-wrap:anywhere}th{background:#f0f4f8}\
pre.command{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:.5em}\
.num{text-align:right;font-variant-numeric:tabular-nums}.badge{display:inline-block;padding:0 .4em;border-radius:.3em;font-size:.85em;color:#fff}\
.ev-human{background:#009E73}.ev-animal{background:#0072B2}.ev-in_vitro{background:#56B4E9}.ev-in_silico{background:#CC79A7}.ev-none{background:#999}\
.patient{border:2px solid #0072B2;padding:.5em 1em;border-radius:.4em}footer{margin-top:3em;color:#666;font-size:.9em}\
@media print{.plots{display:block}h2{break-after:avoid}}";

pub(crate) fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return "NaN".into();
    }
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// Renders the report. A pure function of the results: the same results (also when read back
/// from `results.json`) give the same bytes.
pub fn render_html<C: Serialize>(r: &AnalysisResults<C>) -> String {
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

    if let Some(c) = &r.confounders {
        crate::html_confounders::confounder_section(&mut h, c);
    }

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
    let points: Vec<Point> = o
        .points
        .iter()
        .map(|p| Point {
            x: p.pc1,
            y: p.pc2,
            group: groups.iter().position(|g| *g == p.group).unwrap_or(0),
            title: format!(
                "{} ({}): PC1 {}, PC2 {}",
                p.sample_id,
                p.group,
                fmt(p.pc1),
                fmt(p.pc2)
            ),
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
            test.method.name(),
            escape(&test.test_statistic_name),
            fmt(test.test_statistic),
            test.p_value.map_or("—".into(), fmt),
            test.sample_size,
            test.number_of_groups,
            test.permutations
        );
    }
    h.push_str("</table><p>PERMANOVA tests whether group centroids differ; PERMDISP whether group spreads differ. A significant PERMANOVA with a significant PERMDISP may reflect dispersion rather than location.</p></section>");

    domain_sections(&mut h, r);
    if let Some(c) = &r.change {
        crate::html_change::change_section(&mut h, c);
    }
    if let Some(o) = &r.outcome {
        crate::html_outcome::render(&mut h, o);
    }

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
    h.push_str("</ul></section>");
    provenance_section(&mut h, &r.provenance);
    let _ = writeln!(
        h,
        "<footer>Generated by {}. Seed {}. Open offline; no external resources.</footer></body></html>",
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

pub(crate) fn doi_link(doi: &str, text: &str) -> String {
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

pub(crate) fn badge(evidence: &str) -> String {
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
    if let Some(d) = &p.dominant_taxon {
        let _ = write!(
            h,
            "<li>Most abundant taxon: <i>{}</i> at {:.1}%</li>",
            escape(&d.taxon),
            d.share * 100.0
        );
    }
    if !p.top_deviating_taxa.is_empty() {
        let list: Vec<String> = p
            .top_deviating_taxa
            .iter()
            .map(|t| format!("<i>{}</i> ({:+.1} SD)", escape(&t.taxon), t.z))
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
        for s in &p.consistent_signatures {
            let _ = write!(
                h,
                "<tr><td><i>{}</i></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                escape(&s.taxon),
                escape(&s.disease),
                escape(&s.reported_direction),
                s.percentile.map_or("—".into(), |pc| format!("{pc:.0}")),
                doi_link(&s.doi, &s.citation)
            );
        }
        h.push_str("</table>");
    }
    if !p.drugs.is_empty() {
        h.push_str("<p>This sample's drugs and its bacteria:</p><table><tr><th>drug</th><th>interaction</th><th>capacity</th><th>call</th><th>source</th></tr>");
        for d in &p.drugs {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(&d.drug),
                escape(&d.interaction),
                d.capacity.map_or("—".into(), fmt),
                escape(&d.call),
                escape(&d.citation)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<p><em>A description of one microbiome profile against references; not a diagnosis.</em></p></section>");
}

/// What produced the results: input checksums, the knowledge base, every parameter and the
/// command that reproduces them.
fn provenance_section<C: Serialize>(h: &mut String, p: &Provenance<C>) {
    h.push_str("<section id=\"provenance\"><h2>Provenance</h2><p>Reproduce with (from the folder the paths are relative to):</p><pre class=\"command\"><code>");
    h.push_str(&escape(&p.command));
    h.push_str("</code></pre><table class=\"wrap\"><tr><th>input</th><th>path</th><th>bytes</th><th>SHA-256</th></tr>");
    for f in &p.inputs {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            f.role.name(),
            escape(&f.path),
            f.bytes,
            escape(&f.sha256)
        );
    }
    if let Some(reference) = &p.reference {
        let _ = write!(
            h,
            "<tr><td>healthy reference</td><td>{}</td><td class=\"num\">—</td><td><code>{}</code></td></tr>",
            escape(&reference.name),
            escape(&reference.sha256)
        );
    }
    let kb = &p.knowledge_base;
    let _ = write!(
        h,
        "<tr><td>knowledge base</td><td>{} ({} tables)</td><td class=\"num\">—</td><td><code>{}</code></td></tr></table>",
        escape(&kb.version),
        kb.tables.len(),
        escape(&kb.sha256)
    );
    let _ = write!(
        h,
        "<p>Software: {}. Parameters (defaults included):</p><table class=\"wrap\"><tr><th>parameter</th><th>value</th></tr>",
        escape(&p.software)
    );
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(&p.parameters) {
        for (k, v) in &map {
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td><code>{}</code></td></tr>",
                escape(k),
                escape(&value)
            );
        }
    }
    h.push_str("</table></section>");
}

fn domain_sections<C>(h: &mut String, r: &AnalysisResults<C>) {
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
                match row.by_group.iter().find(|t| &t.group == g) {
                    Some(t) if t.informative > 0 => {
                        let _ = write!(
                            h,
                            "<td class=\"num\">{:.0}% <small>({}/{})</small></td>",
                            100.0 * t.on_reported_side as f64 / t.informative as f64,
                            t.on_reported_side,
                            t.informative
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
        h.push_str("<section id=\"drugs\"><h2>Drugs and gut bacteria</h2><p>For each drug and mechanism: the community's capacity (abundance-weighted share of species whose AGORA2 strains carry the enzyme), median per group, and calls against the healthy reference's 10th–90th percentile band. Research use: evidence graded, never a prescription aid.</p><table><tr><th>drug</th><th>interaction</th><th>enzyme</th><th>evidence (mechanism; estimate)</th><th>median capacity by group</th><th>low / typical / high</th><th>source</th></tr>");
        for d in drugs {
            let medians = if d.median_capacity.is_empty() {
                d.statement
                    .clone()
                    .map(|s| escape(&s))
                    .unwrap_or_else(|| "—".into())
            } else {
                d.median_capacity
                    .iter()
                    .map(|m| format!("{}: {}", escape(&m.group), fmt(m.median)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let calls = d
                .calls
                .iter()
                .map(|c| {
                    format!(
                        "{}: {} / {} / {}",
                        escape(&c.group),
                        c.low,
                        c.typical,
                        c.high
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>");
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}<br><small>{}</small></td><td>{medians}</td><td>{}</td><td>{}</td></tr>",
                escape(&d.drug),
                escape(&d.interaction),
                escape(&d.enzyme),
                badge(&d.evidence),
                escape(&d.estimate_validity),
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
        let mut terms: Vec<&str> = da.coefficients.iter().map(|c| c.term.as_str()).collect();
        terms.dedup();
        h.push_str("<div class=\"plots\">");
        for term in &terms {
            let points: Vec<&DaCoefficient> =
                da.coefficients.iter().filter(|c| c.term == *term).collect();
            let _ = write!(
                h,
                "<figure>{}<figcaption>{}</figcaption></figure>",
                volcano(&points, &format!("estimate: {term}")),
                escape(term)
            );
        }
        h.push_str("</div><table><tr><th>feature</th><th>term</th><th>estimate</th><th>p</th><th>q</th></tr>");
        let mut top: Vec<&DaCoefficient> = da.coefficients.iter().filter(|c| c.q < 0.05).collect();
        top.sort_by(|a, b| a.q.total_cmp(&b.q));
        for c in top.iter().take(20) {
            let _ = write!(
                h,
                "<tr><td><i>{}</i></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&c.feature),
                escape(&c.term),
                fmt(c.estimate),
                fmt(c.p),
                fmt(c.q)
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
                .map(|f| {
                    let arrow = if c.model == "random_forest" {
                        ""
                    } else if f.importance > 0.0 {
                        " ↑"
                    } else {
                        " ↓"
                    };
                    format!("<i>{}</i>{arrow}", escape(&f.feature))
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
        for guild in &g.guilds {
            let _ = write!(h, "<tr><td>{}</td>", escape(&guild.guild.replace('_', " ")));
            for name in &groups {
                match guild.groups.iter().find(|a| &a.group == name) {
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

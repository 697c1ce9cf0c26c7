//! The self-contained HTML report: inline CSS and SVG, printable, no script, no network.

use crate::AnalysisResults;
use crate::svg::{boxplot, escape, scatter, stacked_bars};
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:2em}\
.note{background:#fff4d6;border-left:4px solid #E69F00;padding:.6em 1em}.plots{display:flex;flex-wrap:wrap;gap:1em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f0f4f8}\
.num{text-align:right;font-variant-numeric:tabular-nums}footer{margin-top:3em;color:#666;font-size:.9em}\
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

/*!
Renders the "Confounders and batches" section. It comes right after the title, because a
group difference that a sequencing run or a foreign reference could have made is the first
thing a reader needs to know: its warnings are boxes, and for a column collinear with the
group the naive, adjusted and within-level results sit side by side.
*/

use crate::confounders::{
    BatchSection, CollinearCheck, ConfounderColumn, ConfounderComparison, ConfounderSection,
};
use crate::html::fmt;
use crate::svg::escape;
use crate::{DaSection, PermutationTest};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Rows of the feature comparison table under a collinear column.
const DA_ROWS: usize = 15;

fn warning_box(h: &mut String, text: &str) {
    let _ = write!(
        h,
        "<p class=\"note confounder-warning\" style=\"border-left-color:#D55E00;background:#fde9df\"><strong>Warning.</strong> {}</p>",
        escape(text)
    );
}

fn opt(v: Option<f64>) -> String {
    v.map_or("—".into(), fmt)
}

pub(crate) fn confounder_section(h: &mut String, c: &ConfounderSection) {
    h.push_str("<section id=\"confounders\"><h2>Confounders and batches</h2>");
    for w in c.warnings() {
        warning_box(h, &w);
    }
    if let Some(r) = &c.reference {
        let _ = write!(
            h,
            "<p id=\"reference-choice\">Dysbiosis and signatures are scored against <b>{}</b> (reference population: {}; this cohort: {}){}.</p>",
            escape(&r.name),
            escape(&r.reference_population),
            escape(&r.cohort_population),
            match (&r.control_level, r.n_controls) {
                (Some(l), Some(n)) => format!(
                    ": the cohort's own {n} '{}' samples, each control scored leave-one-out",
                    escape(l)
                ),
                _ => String::new(),
            }
        );
    }
    h.push_str("<p>Every other metadata column is tested against the group (chi-square or Fisher for categorical columns with Cramér's V, Mann–Whitney or Kruskal–Wallis for numeric ones with the AUC). A column is <em>collinear</em> when it alone nearly separates the groups (V ≥ 0.7 or AUC ≥ 0.8): a nuisance or exposure column that is collinear cannot be told apart from the disease, so the group comparisons are shown adjusted for it and within its levels. Biological columns (HLA-B27, CRP…) are reported, never adjusted away.</p>");
    for comparison in &c.comparisons {
        comparison_block(h, comparison);
    }
    if let Some(b) = &c.batch {
        batch_block(h, b);
    }
    h.push_str("</section>");
}

fn comparison_block(h: &mut String, c: &ConfounderComparison) {
    let _ = write!(h, "<h3>{} ({} samples)</h3>", escape(&c.label), c.samples);
    for check in &c.collinear {
        collinear_block(h, check);
    }
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.iter().map(|s| escape(s)).collect::<Vec<_>>().join(", ")
        }
    };
    let _ = write!(
        h,
        "<p>Candidates for adjustment (nuisances and exposures recorded in every group; the report's models use only the covariates and batch given): {}. Compared within levels (collinear): {}.</p>",
        list(&c.adjust_for),
        list(&c.compare_within)
    );
    // The column-by-column detail folds away: the collinear checks above are what to read.
    let _ = write!(
        h,
        "<details class=\"confounder-detail\"><summary>{} notes and the column table</summary>",
        c.warnings.len()
    );
    if !c.warnings.is_empty() {
        h.push_str("<ul class=\"confounder-notes\">");
        for w in &c.warnings {
            let _ = write!(h, "<li>{}</li>", escape(w));
        }
        h.push_str("</ul>");
    }
    let notable = |col: &&ConfounderColumn| {
        col.collinear
            || col.same_as_group
            || !col.missing_in_groups.is_empty()
            || col.q.is_some_and(|q| q < 0.05)
    };
    let shown: Vec<&ConfounderColumn> = c.columns.iter().filter(notable).collect();
    let _ = write!(
        h,
        "<p>Columns associated with the group (q &lt; 0.05), collinear with it, or missing in a group: {} of {}.</p>",
        shown.len(),
        c.columns.len()
    );
    column_table(h, &shown);
    if shown.len() < c.columns.len() {
        let all: Vec<&ConfounderColumn> = c.columns.iter().collect();
        h.push_str("<details><summary>Every column</summary>");
        column_table(h, &all);
        h.push_str("</details>");
    }
    h.push_str("</details>");
}

fn column_table(h: &mut String, columns: &[&ConfounderColumn]) {
    h.push_str("<table class=\"confounder-table\"><tr><th>column</th><th>role</th><th>test</th><th>effect size</th><th>p</th><th>q</th><th>collinear</th><th>PERMANOVA R² (beyond group)</th><th>handling</th></tr>");
    for col in columns {
        let effect = match (&col.effect_size_name, col.effect_size) {
            (Some(name), Some(e)) => {
                let label = if name == "cramers_v" { "V" } else { "AUC" };
                format!("{label} {}", fmt(e))
            }
            _ => "—".into(),
        };
        let role = format!(
            "{}{}{}",
            col.role,
            if col.role_given { " (given)" } else { "" },
            col.medication
                .as_deref()
                .map(|m| format!("; {m}"))
                .unwrap_or_default()
        );
        let handling = match (&col.note, col.missing_in_groups.is_empty()) {
            (_, false) => format!(
                "{} (missing for every {})",
                col.handling.replace('_', " "),
                col.missing_in_groups.join(", ")
            ),
            (Some(n), true) => format!("{} ({n})", col.handling.replace('_', " ")),
            (None, true) => col.handling.replace('_', " "),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&col.column),
            escape(&role),
            escape(
                &col.test
                    .clone()
                    .unwrap_or_else(|| "—".into())
                    .replace('_', " ")
            ),
            effect,
            opt(col.p),
            opt(col.q),
            if col.same_as_group {
                "is the group"
            } else if col.collinear {
                "yes"
            } else {
                "no"
            },
            opt(col.permanova_r2),
            escape(&handling)
        );
    }
    h.push_str("</table>");
}

fn test_row(h: &mut String, label: &str, t: Option<&PermutationTest>) {
    let Some(t) = t else {
        let _ = write!(
            h,
            "<tr><td>{}</td><td colspan=\"3\">not computed</td></tr>",
            escape(label)
        );
        return;
    };
    let _ = write!(
        h,
        "<tr><td>{}</td><td class=\"num\">{} = {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        escape(label),
        escape(&t.test_statistic_name),
        fmt(t.test_statistic),
        t.p_value.map_or("—".into(), fmt),
        t.sample_size
    );
}

fn collinear_block(h: &mut String, c: &CollinearCheck) {
    let col = escape(&c.column);
    let _ = write!(
        h,
        "<div class=\"collinear\" id=\"collinear-{}\"><h4>{} vs {}, taking '{col}' into account</h4><table><tr><th>{col}</th><th>{}</th><th>{}</th></tr>",
        escape(
            &c.column
                .replace(|ch: char| !ch.is_ascii_alphanumeric(), "-")
        ),
        escape(&c.case),
        escape(&c.control),
        escape(&c.case),
        escape(&c.control)
    );
    for l in &c.levels {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&l.level),
            l.case,
            l.control
        );
    }
    h.push_str("</table><table><tr><th>PERMANOVA of the group</th><th>statistic</th><th>p-value</th><th>samples</th></tr>");
    test_row(h, "all samples", c.permanova.as_ref());
    test_row(
        h,
        &format!("permutations within '{}' levels", c.column),
        c.permanova_strata.as_ref(),
    );
    test_row(
        h,
        &format!(
            "within {} = {} only",
            c.column,
            c.within_level.as_deref().unwrap_or("—")
        ),
        c.permanova_within.as_ref(),
    );
    h.push_str("</table>");
    da_comparison(h, c);
    if !c.notes.is_empty() {
        h.push_str("<ul>");
        for n in &c.notes {
            let _ = write!(h, "<li>{}</li>", escape(n));
        }
        h.push_str("</ul>");
    }
    h.push_str("</div>");
}

/// The features with the smallest naive q, with their naive, adjusted and within-level
/// coefficients side by side.
fn da_comparison(h: &mut String, c: &CollinearCheck) {
    let Some(naive) = &c.da_naive else {
        return;
    };
    let by_feature = |d: &Option<DaSection>| -> BTreeMap<String, (f64, f64)> {
        d.as_ref()
            .map(|d| {
                d.coefficients
                    .iter()
                    .map(|k| (k.feature.clone(), (k.estimate, k.q)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (adjusted, within) = (by_feature(&c.da_adjusted), by_feature(&c.da_within));
    let mut rows: Vec<_> = naive.coefficients.iter().collect();
    rows.sort_by(|a, b| a.q.total_cmp(&b.q).then(a.p.total_cmp(&b.p)));
    let cell = |v: Option<&(f64, f64)>| match v {
        Some((e, q)) => format!(
            "<td class=\"num\">{}</td><td class=\"num\">{}</td>",
            fmt(*e),
            fmt(*q)
        ),
        None => "<td>—</td><td>—</td>".into(),
    };
    let formula = |d: &Option<DaSection>| {
        d.as_ref().map_or("not computed".to_string(), |d| {
            format!("{}, n = {}", d.formula, d.samples)
        })
    };
    let _ = write!(
        h,
        "<p>Differential abundance ({}; {}): the {} features with the smallest q without '{}', then adjusted for it ({}) and within {} = {} ({}).</p><table class=\"da-collinear\"><tr><th>feature</th><th>estimate</th><th>q</th><th>adjusted estimate</th><th>adjusted q</th><th>within-level estimate</th><th>within-level q</th></tr>",
        escape(&naive.method),
        escape(&naive.transform),
        DA_ROWS.min(rows.len()),
        escape(&c.column),
        escape(&formula(&c.da_adjusted)),
        escape(&c.column),
        escape(c.within_level.as_deref().unwrap_or("—")),
        escape(&formula(&c.da_within)),
    );
    for k in rows.into_iter().take(DA_ROWS) {
        let _ = write!(
            h,
            "<tr><td>{}</td>{}{}{}</tr>",
            escape(&k.feature),
            cell(Some(&(k.estimate, k.q))),
            cell(adjusted.get(&k.feature)),
            cell(within.get(&k.feature))
        );
    }
    h.push_str("</table>");
}

fn batch_block(h: &mut String, b: &BatchSection) {
    let levels: Vec<String> = b
        .levels
        .iter()
        .map(|l| format!("{} ({})", escape(&l.group), l.samples))
        .collect();
    let _ = write!(
        h,
        "<div id=\"batch\"><h3>Batch '{}'</h3><p>Levels: {}; samples without a value: {}; Cramér's V with the group: {}. Added to: {}.</p><table><tr><th>test</th><th>statistic</th><th>p-value</th><th>samples</th></tr>",
        escape(&b.column),
        levels.join(", "),
        b.missing,
        opt(b.cramers_v),
        escape(&b.applied_to.join("; "))
    );
    test_row(
        h,
        "PERMANOVA of the group, permutations within batches",
        b.permanova_strata.as_ref(),
    );
    h.push_str("</table>");
    if !b.classifiers.is_empty() {
        h.push_str("<table><tr><th>classifier</th><th>within-cohort AUC</th><th>leave-one-batch-out AUC (pooled)</th><th>95% CI</th><th>per held-out batch</th></tr>");
        for c in &b.classifiers {
            let held: Vec<String> = c
                .held_out
                .iter()
                .map(|g| {
                    format!(
                        "{} (n {}, {} {}): {}",
                        g.batch,
                        g.n,
                        g.n_case,
                        c.case,
                        g.auc.map_or_else(
                            || g.note.clone().unwrap_or_else(|| "—".into()),
                            |a| format!("AUC {}", fmt(a))
                        )
                    )
                })
                .collect();
            let _ = write!(
                h,
                "<tr><td>{} vs {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                escape(&c.case),
                escape(&c.control),
                opt(c.within_cohort_auc),
                opt(c.pooled_auc),
                c.pooled_auc_ci
                    .map_or("—".into(), |[a, b]| format!("{} – {}", fmt(a), fmt(b))),
                escape(&held.join("; "))
            );
        }
        h.push_str("</table>");
    }
    if !b.notes.is_empty() {
        h.push_str("<ul>");
        for n in &b.notes {
            let _ = write!(h, "<li>{}</li>", escape(n));
        }
        h.push_str("</ul>");
    }
    h.push_str("</div>");
}

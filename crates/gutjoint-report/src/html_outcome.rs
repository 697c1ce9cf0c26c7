/*!
Renders "Does the microbiome predict response?": the verdict first (a reader who stops there
has the answer), then the three models' numbers, the comparison, the ROC and calibration plots
(binary) or observed-against-predicted plots (continuous), the warnings and feature stability.
Like the rest of the report it only draws what the analysis stored.
*/

use crate::outcome::OutcomeSection;
use crate::svg::{PALETTE, escape};
use gutjoint_stats::metrics::DifferenceMethod;
use gutjoint_stats::predict::Metrics;
use std::fmt::Write as _;

/// A number for a table cell ("—" when not finite, so a value read back from `null` shows the
/// same).
fn num(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "—".into()
    }
}

/// One series of an x–y plot: joined by a line (curves) or drawn as points.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    line: bool,
}

/// An x–y plot over the square `[lo, hi]²` with the identity as a dashed reference line
/// (chance for a ROC curve, perfect calibration, perfect prediction) and a legend.
fn xy_plot(series: &[Series], lo: f64, hi: f64, x_label: &str, y_label: &str) -> String {
    let (w, h, left, bottom, top, right) = (380.0, 340.0, 55.0, 45.0, 15.0, 15.0);
    let span = if hi - lo > 1e-12 { hi - lo } else { 1.0 };
    let sx = |x: f64| left + (x - lo) / span * (w - left - right);
    let sy = |y: f64| h - bottom - (y - lo) / span * (h - bottom - top);
    let mut s = crate::svg::framed_plot(w, h, [left, bottom, top, right]);
    let _ = write!(
        s,
        "<line x1=\"{:.2}\" y1=\"{:.2}\" x2=\"{:.2}\" y2=\"{:.2}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>",
        sx(lo),
        sy(lo),
        sx(hi),
        sy(hi)
    );
    for (k, tick) in [lo, (lo + hi) / 2.0, hi].iter().enumerate() {
        let anchor = ["start", "middle", "end"][k];
        let _ = write!(
            s,
            "<text x=\"{:.2}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"11\">{}</text><text x=\"{}\" y=\"{:.2}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
            sx(*tick),
            h - bottom + 14.0,
            short(*tick),
            left - 4.0,
            sy(*tick) + 4.0,
            short(*tick)
        );
    }
    for (i, series) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let name = escape(&series.name);
        if series.line {
            let path: Vec<String> = series
                .points
                .iter()
                .map(|(x, y)| format!("{:.2},{:.2}", sx(*x), sy(*y)))
                .collect();
            let _ = write!(
                s,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"><title>{name}</title></polyline>",
                path.join(" ")
            );
        }
        for (x, y) in &series.points {
            if !series.line {
                let _ = write!(
                    s,
                    "<circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"2.6\" fill=\"{colour}\" fill-opacity=\"0.6\"><title>{name}: {}, {}</title></circle>",
                    sx(*x),
                    sy(*y),
                    short(*x),
                    short(*y)
                );
            }
        }
    }
    // The legend in the lower right corner, which curves above the diagonal leave empty.
    let lx = w - right - 150.0;
    let ly0 = h - bottom - 8.0 - series.len() as f64 * 16.0;
    let _ = write!(
        s,
        "<rect x=\"{}\" y=\"{}\" width=\"146\" height=\"{}\" fill=\"#fff\" fill-opacity=\"0.85\"/>",
        lx - 4.0,
        ly0,
        series.len() as f64 * 16.0 + 4.0
    );
    for (i, series) in series.iter().enumerate() {
        let ly = ly0 + 14.0 + i as f64 * 16.0;
        let _ = write!(
            s,
            "<rect x=\"{lx}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{ly}\" font-size=\"11\">{}</text>",
            ly - 9.0,
            PALETTE[i % PALETTE.len()],
            lx + 14.0,
            escape(&series.name)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text>",
        (left + w - right) / 2.0,
        h - 8.0,
        escape(x_label)
    );
    let mid = (top + h - bottom) / 2.0;
    let _ = write!(
        s,
        "<text x=\"14\" y=\"{mid}\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 14 {mid})\">{}</text>",
        escape(y_label)
    );
    s.push_str("</svg>");
    s
}

fn short(v: f64) -> String {
    let t = format!("{v:.2}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Appends the section to the report.
pub(crate) fn render(h: &mut String, o: &OutcomeSection) {
    let r = &o.prediction;
    let models = [&r.clinical, &r.microbiome, &r.combined];
    let what = match &o.positive {
        Some(level) => format!(
            "'{}' = {} ({} of {} samples)",
            escape(&o.outcome),
            escape(level),
            r.events.unwrap_or(0),
            r.n
        ),
        None => format!("{} (continuous, {} samples)", escape(&o.outcome), r.n),
    };
    let _ = write!(
        h,
        "<section id=\"outcome\"><h2>Does the microbiome predict response?</h2><p>Outcome {what}. Three models side by side: <b>clinical</b> only ({}), <b>microbiome</b> only, and <b>combined</b>. Every number is out-of-fold: nested cross-validation, {} outer × {} inner folds ({}), seed {}; the numbers are those of <code>gutjoint predict</code> with the same seed.</p>",
        if o.clinical.is_empty() {
            "none given: it knows only the outcome's overall rate".to_string()
        } else {
            o.clinical
                .iter()
                .map(|c| escape(c))
                .collect::<Vec<_>>()
                .join(", ")
        },
        r.validation.outer_folds,
        r.validation.inner_folds,
        escape(&r.validation.scheme.name().replace('_', " ")),
        r.validation.seed
    );
    let _ = write!(
        h,
        "<p class=\"note\" id=\"outcome-verdict\"><strong>Verdict.</strong> {}</p>",
        escape(&o.verdict.text)
    );
    if !r.warnings.is_empty() {
        h.push_str("<ul id=\"outcome-warnings\">");
        for w in &r.warnings {
            let _ = write!(h, "<li>warning: {}</li>", escape(w));
        }
        h.push_str("</ul>");
    }
    let binary = matches!(r.clinical.metrics, Metrics::Binary(_));
    if binary {
        h.push_str("<table><tr><th>model</th><th>candidate features</th><th>AUC (95% CI)</th><th>Brier</th><th>calibration intercept</th><th>calibration slope</th></tr>");
    } else {
        h.push_str("<table><tr><th>model</th><th>candidate features</th><th>R² (95% CI)</th><th>RMSE (95% CI)</th><th>MAE (95% CI)</th></tr>");
    }
    for m in models {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td>",
            escape(m.block.name()),
            m.candidate_features
        );
        match &m.metrics {
            Metrics::Binary(b) => {
                let _ = write!(
                    h,
                    "<td class=\"num\">{} ({}–{})</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                    num(b.auc, 3),
                    num(b.auc_ci[0], 3),
                    num(b.auc_ci[1], 3),
                    num(b.brier, 3),
                    num(b.calibration_intercept, 2),
                    num(b.calibration_slope, 2)
                );
            }
            Metrics::Continuous(c) => {
                let _ = write!(
                    h,
                    "<td class=\"num\">{} ({} to {})</td><td class=\"num\">{} ({}–{})</td><td class=\"num\">{} ({}–{})</td>",
                    num(c.r2, 3),
                    num(c.r2_ci[0], 3),
                    num(c.r2_ci[1], 3),
                    num(c.rmse, 3),
                    num(c.rmse_ci[0], 3),
                    num(c.rmse_ci[1], 3),
                    num(c.mae, 3),
                    num(c.mae_ci[0], 3),
                    num(c.mae_ci[1], 3)
                );
            }
        }
        h.push_str("</tr>");
    }
    let d = &r.combined_vs_clinical;
    let _ = write!(
        h,
        "</table><p>Combined − clinical {}: {} (95% CI {} to {}), p = {} ({}).",
        if binary { "AUC" } else { "R²" },
        if d.delta.is_finite() {
            format!("{:+.3}", d.delta)
        } else {
            "—".into()
        },
        num(d.ci[0], 3),
        num(d.ci[1], 3),
        num(d.p, 3),
        if d.method == DifferenceMethod::Delong {
            "DeLong's paired test"
        } else {
            "paired bootstrap"
        }
    );
    if let Some(p) = r.permutation_p {
        let _ = write!(
            h,
            " Microbiome-only model against {} label permutations (the whole nested procedure rerun on shuffled outcomes): p = {}.",
            r.permutations,
            num(p, 3)
        );
    }
    h.push_str("</p><div class=\"plots\">");
    if binary {
        let mut roc = Vec::new();
        let mut calibration = Vec::new();
        for m in models {
            if let Metrics::Binary(b) = &m.metrics {
                roc.push(Series {
                    name: format!("{} (AUC {})", m.block.name(), num(b.auc, 2)),
                    points: o
                        .roc
                        .iter()
                        .filter(|c| c.model == m.block)
                        .flat_map(|c| &c.points)
                        .map(|c| (c.false_positive_rate, c.true_positive_rate))
                        .collect(),
                    line: true,
                });
                calibration.push(Series {
                    name: m.block.name().into(),
                    points: b
                        .calibration_curve
                        .iter()
                        .map(|c| (c.mean_predicted, c.observed))
                        .collect(),
                    line: true,
                });
            }
        }
        let _ = write!(
            h,
            "<figure>{}<figcaption>ROC curves of the out-of-fold probabilities (dashed: chance).</figcaption></figure><figure>{}<figcaption>Calibration: observed share against mean predicted probability in ten equal-width bins (dashed: perfect calibration).</figcaption></figure>",
            xy_plot(&roc, 0.0, 1.0, "false-positive rate", "true-positive rate"),
            xy_plot(
                &calibration,
                0.0,
                1.0,
                "mean predicted probability",
                "observed share"
            )
        );
    } else {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in &r.predictions {
            for v in [p.observed, p.clinical, p.microbiome, p.combined] {
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        for (k, m) in models.iter().enumerate() {
            let series = Series {
                name: m.block.name().into(),
                points: r
                    .predictions
                    .iter()
                    .map(|p| ([p.clinical, p.microbiome, p.combined][k.min(2)], p.observed))
                    .collect(),
                line: false,
            };
            let _ = write!(
                h,
                "<figure>{}<figcaption>{}: observed against out-of-fold predicted {} (dashed: perfect prediction).</figcaption></figure>",
                xy_plot(
                    std::slice::from_ref(&series),
                    lo,
                    hi,
                    "predicted",
                    "observed"
                ),
                escape(m.block.name()),
                escape(&o.outcome)
            );
        }
    }
    h.push_str("</div>");
    if !r.stability.is_empty() {
        h.push_str("<p>Feature stability: how often the combined model kept each feature across the outer folds (mean standardised coefficient; positive = higher outcome).</p><table><tr><th>feature</th><th>block</th><th>selected in</th><th>mean weight</th></tr>");
        for s in &r.stability {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.0}%</td><td class=\"num\">{}</td></tr>",
                escape(&s.feature),
                escape(s.block.name()),
                s.selected_share * 100.0,
                num(s.mean_weight, 3)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<p><small>Research use only: a cross-validated estimate in one cohort is not a validated predictor; nothing here should guide any one patient's treatment.</small></p></section>");
}

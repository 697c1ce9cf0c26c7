//! Hand-written SVG plots: byte-stable output, no dependencies, easy to snapshot. Every mark
//! carries a `<title>` (a tooltip in browsers, read by screen readers) with what it stands for.

use crate::DaCoefficient;
use std::fmt::Write as _;

/// Colour-blind-safe palette (Okabe & Ito 2008).
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal axis title centred at `x`.
pub(crate) fn x_title(s: &mut String, x: f64, y: f64, font: u32, text: &str) {
    let _ = write!(
        s,
        "<text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\" font-size=\"{font}\">{}</text>",
        escape(text)
    );
}

/// A vertical axis title at `x`, centred on `mid_y`.
pub(crate) fn y_title(s: &mut String, x: u32, mid_y: f64, font: u32, text: &str) {
    let _ = write!(
        s,
        "<text x=\"{x}\" y=\"{mid_y}\" text-anchor=\"middle\" font-size=\"{font}\" transform=\"rotate(-90 {x} {mid_y})\">{}</text>",
        escape(text)
    );
}

pub(crate) fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// One point of a scatter plot: its position, its group (index into the legend) and its
/// tooltip.
#[derive(Debug, Clone)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub group: usize,
    pub title: String,
}

/// The opening of an x–y plot `w` × `h` with its frame inside the margins
/// `[left, bottom, top, right]`.
pub(crate) fn framed_plot(w: f64, h: f64, [left, bottom, top, right]: [f64; 4]) -> String {
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" class=\"plot\">"
    );
    let _ = write!(
        s,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
        w - left - right,
        h - bottom - top
    );
    s
}

/// Scatter plot of points coloured by group, with a legend.
pub fn scatter(points: &[Point], groups: &[String], x_label: &str, y_label: &str) -> String {
    let (w, h, left, bottom, top, right) = (560.0, 400.0, 60.0, 50.0, 20.0, 140.0);
    let (x0, x1) = range(points.iter().map(|p| p.x));
    let (y0, y1) = range(points.iter().map(|p| p.y));
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let sy = |y: f64| h - bottom - (y - y0) / (y1 - y0) * (h - bottom - top);
    let mut s = framed_plot(w, h, [left, bottom, top, right]);
    for p in points {
        let _ = write!(
            s,
            "<circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"3.2\" fill=\"{}\" fill-opacity=\"0.75\"><title>{}</title></circle>",
            sx(p.x),
            sy(p.y),
            PALETTE[p.group % PALETTE.len()],
            escape(&p.title)
        );
    }
    x_title(&mut s, (left + w - right) / 2.0, h - 12.0, 13, x_label);
    y_title(&mut s, 16, (top + h - bottom) / 2.0, 13, y_label);
    legend(&mut s, groups, w - right + 12.0, top + 10.0);
    s.push_str("</svg>");
    s
}

pub(crate) fn legend(s: &mut String, groups: &[String], x: f64, y: f64) {
    for (g, name) in groups.iter().enumerate() {
        let yy = y + g as f64 * 20.0;
        let _ = write!(
            s,
            "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>",
            yy - 10.0,
            PALETTE[g % PALETTE.len()]
        );
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{yy}\" font-size=\"12\">{}</text>",
            x + 18.0,
            escape(name)
        );
    }
}

/// Box plots from precomputed five-number summaries, one per group.
pub fn boxplot(boxes: &[(String, [f64; 5])], y_label: &str) -> String {
    boxplot_with_line(boxes, y_label, None)
}

/// Box plots with an optional dashed horizontal reference line (e.g. a flag threshold).
pub fn boxplot_with_line(
    boxes: &[(String, [f64; 5])],
    y_label: &str,
    line: Option<(f64, &str)>,
) -> String {
    let (w, h, left, bottom, top) = (360.0, 300.0, 60.0, 40.0, 15.0);
    let (y0, y1) = range(
        boxes
            .iter()
            .flat_map(|b| [b.1[0], b.1[4]])
            .chain(line.map(|l| l.0)),
    );
    let sy = |y: f64| h - bottom - (y - y0) / (y1 - y0) * (h - bottom - top);
    let slot = (w - left - 10.0) / boxes.len().max(1) as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" class=\"plot\">"
    );
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"#999\"/>",
        h - bottom
    );
    for (k, v) in [y0, (y0 + y1) / 2.0, y1].iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{:.3}</text>",
            left - 4.0,
            sy(*v) + 4.0,
            v
        );
        let _ = k;
    }
    for (i, (name, f)) in boxes.iter().enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        let bw = slot * 0.5;
        let colour = PALETTE[i % PALETTE.len()];
        let _ = write!(
            s,
            "<line x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>",
            sy(f[0]),
            sy(f[4])
        );
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{colour}\" fill-opacity=\"0.6\" stroke=\"#333\"><title>{}: min {}, Q1 {}, median {}, Q3 {}, max {}</title></rect>",
            cx - bw / 2.0,
            sy(f[3]),
            (sy(f[1]) - sy(f[3])).max(0.5),
            escape(name),
            short(f[0]),
            short(f[1]),
            short(f[2]),
            short(f[3]),
            short(f[4])
        );
        let _ = write!(
            s,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#000\" stroke-width=\"2\"/>",
            cx - bw / 2.0,
            sy(f[2]),
            cx + bw / 2.0,
            sy(f[2])
        );
        let _ = write!(
            s,
            "<text x=\"{cx:.1}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
            h - bottom + 18.0,
            escape(name)
        );
    }
    y_title(&mut s, 14, (top + h - bottom) / 2.0, 12, y_label);
    if let Some((value, label)) = line {
        let y = sy(value);
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#D55E00\" stroke-dasharray=\"5,4\"/>",
            w - 10.0
        );
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#D55E00\">{}</text>",
            w - 12.0,
            y - 4.0,
            escape(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// Stacked bars: one bar per group, segments per taxon (percent).
pub fn stacked_bars(groups: &[String], taxa: &[String], means: &[Vec<f64>]) -> String {
    let (w, h, left, bottom, top, right) = (620.0, 320.0, 50.0, 40.0, 15.0, 260.0);
    let slot = (w - left - right) / groups.len().max(1) as f64;
    let colours: Vec<String> = (0..taxa.len())
        .map(|t| {
            if t + 1 == taxa.len() {
                "#cccccc".to_string()
            } else {
                format!("hsl({}, 55%, {}%)", (t * 47) % 360, 45 + (t % 3) * 10)
            }
        })
        .collect();
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" class=\"plot\">"
    );
    let scale = (h - bottom - top) / 100.0;
    for (g, name) in groups.iter().enumerate() {
        let x = left + slot * g as f64 + slot * 0.15;
        let mut y = h - bottom;
        for (t, v) in means[g].iter().enumerate() {
            let height = v * scale;
            y -= height;
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y:.2}\" width=\"{:.1}\" height=\"{height:.2}\" fill=\"{}\"><title>{}: {v:.2}%</title></rect>",
                slot * 0.7,
                colours[t],
                escape(&taxa[t])
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
            x + slot * 0.35,
            h - bottom + 18.0,
            escape(name)
        );
    }
    for (t, name) in taxa.iter().enumerate() {
        let yy = top + 10.0 + t as f64 * 17.0;
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"11\" height=\"11\" fill=\"{}\"/>",
            w - right + 10.0,
            yy - 9.0,
            colours[t]
        );
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{yy}\" font-size=\"11\" font-style=\"italic\">{}</text>",
            w - right + 26.0,
            escape(name)
        );
    }
    y_title(
        &mut s,
        14,
        (top + h - bottom) / 2.0,
        12,
        "mean relative abundance (%)",
    );
    s.push_str("</svg>");
    s
}

/// A number for a tooltip: four significant digits.
fn short(v: f64) -> String {
    if !v.is_finite() {
        "NaN".into()
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e5) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// How many points of a volcano plot get a label at most.
const VOLCANO_LABELS: usize = 12;

/// Volcano plot: estimate against -log10(p); points with q below 0.05 in colour. Only the
/// strongest significant features are labelled (smallest q, then largest |estimate|, at most
/// [`VOLCANO_LABELS`]), and a label that would overlap one already placed is left out; every
/// point carries its name and values as a tooltip.
pub fn volcano(points: &[&DaCoefficient], x_label: &str) -> String {
    let (w, h, left, bottom, top, right) = (560.0, 360.0, 60.0, 45.0, 15.0, 20.0);
    let ys: Vec<f64> = points.iter().map(|p| -p.p.max(1e-300).log10()).collect();
    let (x0, x1) = range(points.iter().map(|p| p.estimate));
    let (y0, y1) = range(ys.iter().copied().chain([0.0]));
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let sy = |y: f64| h - bottom - (y - y0) / (y1 - y0) * (h - bottom - top);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" class=\"plot\">"
    );
    let _ = write!(
        s,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
        w - left - right,
        h - bottom - top
    );
    if x0 < 0.0 && x1 > 0.0 {
        let _ = write!(
            s,
            "<line x1=\"{:.1}\" y1=\"{top}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"#ccc\"/>",
            sx(0.0),
            sx(0.0),
            h - bottom
        );
    }
    for (p, y) in points.iter().zip(&ys) {
        let significant = p.q < 0.05;
        let colour = if !significant {
            "#999999"
        } else if p.estimate > 0.0 {
            PALETTE[5]
        } else {
            PALETTE[0]
        };
        let _ = write!(
            s,
            "<circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"3\" fill=\"{colour}\" fill-opacity=\"0.8\"><title>{}: estimate {}, p {}, q {}</title></circle>",
            sx(p.estimate),
            sy(*y),
            escape(&p.feature),
            short(p.estimate),
            short(p.p),
            short(p.q)
        );
    }
    // Labels: strongest first; each takes a box of its estimated text extent, and one that
    // would overlap a box already taken (or leave the plot) is dropped.
    let mut order: Vec<usize> = (0..points.len()).filter(|&i| points[i].q < 0.05).collect();
    order.sort_by(|&a, &b| {
        points[a]
            .q
            .total_cmp(&points[b].q)
            .then(
                points[b]
                    .estimate
                    .abs()
                    .total_cmp(&points[a].estimate.abs()),
            )
            .then(a.cmp(&b))
    });
    let (font, char_width) = (9.0, 4.6);
    let mut taken: Vec<[f64; 4]> = Vec::new();
    for i in order {
        if taken.len() == VOLCANO_LABELS {
            break;
        }
        let (px, py) = (sx(points[i].estimate), sy(ys[i]));
        let name = label_name(&points[i].feature);
        let width = name.chars().count() as f64 * char_width;
        // Right of the point, or left of it when that would leave the plot.
        let x = if px + 4.0 + width <= w - right {
            px + 4.0
        } else {
            px - 4.0 - width
        };
        let y = (py - 3.0).max(top + font);
        let b = [x, y - font, x + width, y + 2.0];
        if b[0] < left || taken.iter().any(|t| overlaps(t, &b)) {
            continue;
        }
        taken.push(b);
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{font}\" font-style=\"italic\">{}</text>",
            escape(&name)
        );
    }
    x_title(&mut s, (left + w - right) / 2.0, h - 10.0, 12, x_label);
    y_title(&mut s, 16, (top + h - bottom) / 2.0, 12, "-log10(p)");
    s.push_str("</svg>");
    s
}

/// The readable end of a feature id: the deepest rank of a lineage (`g__Blautia`), without
/// its prefix.
fn label_name(feature: &str) -> String {
    let last = feature
        .rsplit(['|', ';'])
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.ends_with("__"))
        .unwrap_or(feature);
    let bare = match last.split_once("__") {
        Some((prefix, rest)) if prefix.len() == 1 && !rest.is_empty() => rest,
        _ => last,
    };
    bare.replace('_', " ")
}

fn overlaps(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coefficient(feature: &str, estimate: f64, p: f64, q: f64) -> DaCoefficient {
        DaCoefficient {
            feature: feature.into(),
            term: "group[T.AS]".into(),
            estimate,
            p,
            q,
        }
    }

    /// Forty significant features in one spot: at most one label there (the strongest),
    /// every point still drawn with its tooltip.
    #[test]
    fn volcano_labels_the_strongest_without_overlap() {
        let mut points: Vec<DaCoefficient> = (0..40)
            .map(|i| coefficient(&format!("g__Genus{i}"), 1.0 + i as f64 * 1e-4, 1e-6, 1e-4))
            .collect();
        points.push(coefficient("g__Strongest", 1.0, 1e-6, 1e-9));
        points.push(coefficient("g__Far", -3.0, 1e-3, 0.01));
        points.push(coefficient("g__Null", 0.1, 0.5, 0.9));
        let refs: Vec<&DaCoefficient> = points.iter().collect();
        let svg = volcano(&refs, "estimate");
        let labels: Vec<&str> = svg
            .split("font-style=\"italic\">")
            .skip(1)
            .map(|t| t.split('<').next().unwrap_or(""))
            .collect();
        assert_eq!(labels, ["Strongest", "Far"], "one label per crowded spot");
        assert_eq!(svg.matches("<circle").count(), 43);
        assert!(svg.contains("<title>g__Null: estimate 0.1000, p 0.5000, q 0.9000</title>"));
    }

    #[test]
    fn labels_read_as_names() {
        assert_eq!(
            label_name("k__Bacteria|p__Firmicutes|g__Blautia|s__Blautia_obeum"),
            "Blautia obeum"
        );
        assert_eq!(
            label_name("d__Bacteria; g__Prevotella_9; s__"),
            "Prevotella 9"
        );
        assert_eq!(label_name("ASV_17"), "ASV 17");
    }
}

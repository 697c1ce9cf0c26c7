/*!
Rendering of the "Change over time" section: one line per subject (coloured by group) for
Shannon diversity and dysbiosis, the mixed-model table, engraftment curves for transplants,
and the knowledge base's expectation for the cohort's therapy beside what the cohort shows.
A pure function of [`ChangeSection`]; every mark has a `<title>` tooltip.
*/

use crate::change::ChangeSection;
use crate::html::{badge, doi_link, fmt};
use crate::svg::{PALETTE, escape, framed_plot, legend, range, x_title, y_title};
use std::fmt::Write as _;

/// One subject's line: its group (index into the legend) and its (time, value, sample) points
/// in time order.
pub(crate) struct Series {
    pub subject: String,
    pub group: usize,
    pub points: Vec<(f64, f64, String)>,
}

/// A line per subject over time, coloured by group, with a dot and a tooltip at each visit.
pub(crate) fn lines(series: &[Series], groups: &[String], x_label: &str, y_label: &str) -> String {
    let (w, h, left, bottom, top, right) = (460.0, 320.0, 60.0, 45.0, 15.0, 110.0);
    let (x0, x1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (y0, y1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let sy = |y: f64| h - bottom - (y - y0) / (y1 - y0) * (h - bottom - top);
    let mut s = framed_plot(w, h, [left, bottom, top, right]);
    // Axis ends, so the scale can be read without hovering.
    for (x, anchor, value) in [(left, "start", x0), (w - right, "end", x1)] {
        let _ = write!(
            s,
            "<text x=\"{x}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"10\">{}</text>",
            h - bottom + 12.0,
            fmt(value)
        );
    }
    for (y, value) in [(h - bottom, y0), (top + 8.0, y1)] {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"end\" font-size=\"10\">{}</text>",
            left - 3.0,
            fmt(value)
        );
    }
    let group_name = |g: usize| groups.get(g).map_or("", String::as_str);
    for line in series {
        let colour = PALETTE[line.group % PALETTE.len()];
        let finite: Vec<&(f64, f64, String)> = line
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        if finite.len() > 1 {
            let coords: Vec<String> = finite
                .iter()
                .map(|p| format!("{:.2},{:.2}", sx(p.0), sy(p.1)))
                .collect();
            let _ = write!(
                s,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-opacity=\"0.6\" stroke-width=\"1.5\"><title>{} ({})</title></polyline>",
                coords.join(" "),
                escape(&line.subject),
                escape(group_name(line.group))
            );
        }
        for p in finite {
            let _ = write!(
                s,
                "<circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"3\" fill=\"{colour}\"><title>{}: subject {} ({}), time {}, {} {}</title></circle>",
                sx(p.0),
                sy(p.1),
                escape(&p.2),
                escape(&line.subject),
                escape(group_name(line.group)),
                fmt(p.0),
                escape(y_label),
                fmt(p.1)
            );
        }
    }
    x_title(&mut s, (left + w - right) / 2.0, h - 10.0, 13, x_label);
    y_title(&mut s, 16, (top + h - bottom) / 2.0, 13, y_label);
    legend(&mut s, groups, w - right + 12.0, top + 10.0);
    s.push_str("</svg>");
    s
}

/// Subjects' series of one value, in order of first appearance, each sorted by time.
fn series_of<'a>(
    rows: impl Iterator<Item = (&'a str, Option<&'a str>, f64, Option<f64>, &'a str)>,
    groups: &[String],
) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for (subject, group, time, value, sample) in rows {
        let Some(v) = value else { continue };
        let g = group
            .and_then(|g| groups.iter().position(|x| x == g))
            .unwrap_or(0);
        match out.iter_mut().find(|s| s.subject == subject) {
            Some(s) => s.points.push((time, v, sample.to_string())),
            None => out.push(Series {
                subject: subject.to_string(),
                group: g,
                points: vec![(time, v, sample.to_string())],
            }),
        }
    }
    for s in &mut out {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

fn figure(h: &mut String, svg: &str, caption: &str) {
    let _ = write!(
        h,
        "<figure style=\"max-width:470px\">{svg}<figcaption>{}</figcaption></figure>",
        escape(caption)
    );
}

/// The section. `h` is the report being written.
pub(crate) fn change_section(h: &mut String, c: &ChangeSection) {
    let mut groups: Vec<String> = Vec::new();
    for p in &c.points {
        let g = p.group.clone().unwrap_or_else(|| "all".into());
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    groups.sort();
    let subjects: std::collections::BTreeSet<&str> =
        c.points.iter().map(|p| p.subject.as_str()).collect();
    let _ = write!(
        h,
        "<section id=\"change\"><h2>Change over time</h2><p>{} samples of {} subjects (subject: '{}', time: '{}'{}). Each line is one subject; the models ask whether the groups changed differently (the <code>time:group</code> terms, against {}).</p><div class=\"plots\">",
        c.points.len(),
        subjects.len(),
        escape(&c.subject_column),
        escape(&c.time_column),
        c.group_column
            .as_deref()
            .map(|g| format!(", group: '{}'", escape(g)))
            .unwrap_or_default(),
        c.control_group
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| "no group".into())
    );
    let rows = || {
        c.points.iter().map(|p| {
            (
                p.subject.as_str(),
                Some(p.group.as_deref().unwrap_or("all")),
                p.time,
                p,
            )
        })
    };
    let shannon = series_of(
        rows().map(|(s, g, t, p)| (s, g, t, Some(p.shannon), p.sample.as_str())),
        &groups,
    );
    figure(
        h,
        &lines(&shannon, &groups, &c.time_column, "Shannon"),
        "Shannon diversity per subject over time",
    );
    let dysbiosis = series_of(
        rows().map(|(s, g, t, p)| (s, g, t, p.dysbiosis, p.sample.as_str())),
        &groups,
    );
    if !dysbiosis.is_empty() {
        figure(
            h,
            &lines(&dysbiosis, &groups, &c.time_column, "dysbiosis"),
            &format!(
                "Dysbiosis (median Bray–Curtis to the healthy samples of {}) per subject; lower is closer to health",
                c.dysbiosis_reference.as_deref().unwrap_or("the reference")
            ),
        );
    }
    if let Some(e) = &c.engraftment {
        let all = vec!["recipients".to_string()];
        let peds = series_of(
            e.samples.iter().map(|s| {
                (
                    s.subject.as_str(),
                    None,
                    s.time,
                    Some(s.peds),
                    s.sample.as_str(),
                )
            }),
            &all,
        );
        figure(
            h,
            &lines(&peds, &all, &c.time_column, "PEDS"),
            "Engraftment per recipient: PEDS, the share of the donor's features present in the recipient (feature-level, as q2-fmt)",
        );
        let to_donor = series_of(
            e.samples.iter().map(|s| {
                (
                    s.subject.as_str(),
                    None,
                    s.time,
                    Some(s.braycurtis_to_donor),
                    s.sample.as_str(),
                )
            }),
            &all,
        );
        figure(
            h,
            &lines(&to_donor, &all, &c.time_column, "Bray–Curtis to donor"),
            "Distance of each recipient sample to its donor sample",
        );
    }
    h.push_str("</div>");

    // The models.
    if !c.models.is_empty() {
        h.push_str("<p>Linear mixed models (REML; p from Satterthwaite degrees of freedom, as R's lmerTest), the numbers <code>gutjoint trajectory</code> prints:</p><table><tr><th>metric</th><th>term</th><th>estimate</th><th>se</th><th>df</th><th>p</th></tr>");
        for m in &c.models {
            for (k, t) in m.terms.iter().enumerate() {
                let head = if k == 0 {
                    format!(
                        "<td rowspan=\"{}\">{}<br><small>{} ({} samples, {} subjects{})</small></td>",
                        m.terms.len(),
                        escape(&m.metric),
                        escape(&m.formula),
                        m.n_samples,
                        m.n_subjects,
                        if m.singular {
                            "; subject variance 0"
                        } else {
                            ""
                        }
                    )
                } else {
                    String::new()
                };
                let _ = write!(
                    h,
                    "<tr>{head}<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    escape(&t.term),
                    fmt(t.estimate),
                    fmt(t.se),
                    fmt(t.df),
                    fmt(t.p)
                );
            }
        }
        h.push_str("</table>");
    }
    if let Some(e) = &c.engraftment {
        let _ = write!(
            h,
            "<p>Engraftment (donor column '{}'): {}.</p><table><tr><th>recipient sample</th><th>subject</th><th>time</th><th>donor</th><th>PEDS</th><th>shared / donor features</th><th>Bray–Curtis to donor</th><th>to own baseline</th></tr>",
            escape(&e.donor_column),
            escape(&e.resolution_note)
        );
        for s in &e.samples {
            let _ = write!(
                h,
                "<tr><td>{}{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{} / {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&s.sample),
                if s.is_baseline { " (baseline)" } else { "" },
                escape(&s.subject),
                fmt(s.time),
                escape(&s.donor),
                fmt(s.peds),
                s.transferred_donor_features,
                s.total_donor_features,
                fmt(s.braycurtis_to_donor),
                s.braycurtis_to_baseline.map_or("—".into(), fmt)
            );
        }
        h.push_str("</table>");
    }

    // What is expected of the therapy, and what this cohort shows.
    if !c.therapies.is_empty() {
        h.push_str("<h3>The therapy: what the literature expects, what this cohort shows</h3><table><tr><th>named as</th><th>knowledge base</th><th>expected</th><th>evidence</th><th>this cohort</th></tr>");
        for t in &c.therapies {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{} · {} ({}, {})<br>{}</td><td>{}: {}</td><td>{} ({})</td><td>{}</td></tr>",
                escape(&t.named_as),
                escape(&t.id),
                escape(&t.therapy),
                escape(&t.therapy_class),
                escape(&t.disease),
                doi_link(&t.doi, &t.citation),
                escape(&t.direction),
                escape(&t.effect),
                badge(&t.evidence),
                escape(&t.confidence),
                escape(&t.this_cohort)
            );
        }
        h.push_str("</table>");
    }
    let mut notes: Vec<String> = c.skipped_models.clone();
    if !c.single_sample_subjects.is_empty() {
        notes.push(format!(
            "{} subjects have a single sample (kept; they carry no within-subject change): {}",
            c.single_sample_subjects.len(),
            c.single_sample_subjects.join(", ")
        ));
    }
    if c.samples_without_subject > 0 {
        notes.push(format!(
            "{} analysed samples have no '{}' value and are not in this section",
            c.samples_without_subject, c.subject_column
        ));
    }
    if let Some(e) = &c.engraftment {
        notes.extend(e.excluded_from_baseline_measures.iter().cloned());
    }
    if !notes.is_empty() {
        h.push_str("<ul>");
        for n in notes {
            let _ = write!(h, "<li>{}</li>", escape(&n));
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");
}

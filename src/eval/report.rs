//! Rendering an evaluation report: a plain-text table for the terminal, Markdown and a
//! self-contained HTML page, both with an inline SVG bar chart of F1 per stream and the
//! misses per stream.

use super::{MissKind, Report, StreamReport};
use serde_json::Value as Json;
use std::fmt::Write as _;

/// At most this many misses per stream are shown in Markdown and HTML.
const SHOWN_MISSES: usize = 40;

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The terminal table: one row per stream, then the headline figures.
pub fn render_table(report: &Report) -> String {
    let width = report
        .streams
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:>6}  {:>5}  {:>5}  {:>5}  {:>5}  {:>5}  {:>3}  {:>9}",
        "stream", "events", "P", "R", "F1", "cat", "ret", "ok", "suggest"
    );
    for s in &report.streams {
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>5.3}  {:>5.3}  {:>5.3}  {:>5.3}  {:>5.3}  {:>3}  {:>7.1}ms",
            s.name,
            s.events,
            s.precision,
            s.recall,
            s.f1,
            s.categorization_accuracy,
            s.vendor_retention,
            yes_no(s.rule_ok),
            s.suggest_ms
        );
    }
    for k in &report.skipped {
        let _ = writeln!(out, "skipped {}: {}", k.dir.display(), k.reason);
    }
    out.push('\n');
    out.push_str(&format_table(report));
    out.push('\n');
    let products = product_table(report);
    if !products.is_empty() {
        out.push_str(&products);
        out.push('\n');
    }
    out.push_str(&headline(report));
    out.push('\n');
    out
}

/// Micro core F1 and categorization per detected format family, weakest first.
pub fn format_table(report: &Report) -> String {
    let mut by: Vec<(String, Vec<&StreamReport>)> = Vec::new();
    for s in &report.streams {
        match by.iter_mut().find(|(f, _)| *f == s.format) {
            Some((_, v)) => v.push(s),
            None => by.push((s.format.clone(), vec![s])),
        }
    }
    let mut rows: Vec<(String, usize, f64, f64)> = by
        .into_iter()
        .map(|(f, ss)| {
            let owned: Vec<StreamReport> = ss.into_iter().cloned().collect();
            let sum = super::summarize(&owned);
            (f, owned.len(), sum.micro_f1, sum.categorization_accuracy)
        })
        .collect();
    rows.sort_by(|a, b| a.2.partial_cmp(&b.2).unwrap_or(std::cmp::Ordering::Equal));
    let mut out = format!(
        "{:<28} {:>7} {:>6} {:>6}\n",
        "format", "streams", "F1", "cat"
    );
    for (f, n, f1, cat) in rows {
        let _ = writeln!(out, "{f:<28} {n:>7} {f1:>6.3} {cat:>6.3}");
    }
    out
}

/// Micro core F1 and categorization per recognized library product (streams where the
/// product library recognized a product), by product id; empty when none was recognized.
pub fn product_table(report: &Report) -> String {
    let mut by: Vec<(String, Vec<StreamReport>)> = Vec::new();
    for s in &report.streams {
        let Some(p) = &s.product else { continue };
        match by.iter_mut().find(|(f, _)| f == p) {
            Some((_, v)) => v.push(s.clone()),
            None => by.push((p.clone(), vec![s.clone()])),
        }
    }
    if by.is_empty() {
        return String::new();
    }
    by.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = format!(
        "{:<28} {:>7} {:>6} {:>6}  streams\n",
        "library product", "streams", "F1", "cat"
    );
    let mut all: Vec<StreamReport> = Vec::new();
    for (p, ss) in &by {
        let sum = super::summarize(ss);
        let names: Vec<&str> = ss.iter().map(|s| s.name.as_str()).collect();
        let _ = writeln!(
            out,
            "{p:<28} {:>7} {:>6.3} {:>6.3}  {}",
            ss.len(),
            sum.micro_f1,
            sum.categorization_accuracy,
            names.join(" ")
        );
        all.extend(ss.iter().cloned());
    }
    let sum = super::summarize(&all);
    let _ = writeln!(
        out,
        "{:<28} {:>7} {:>6.3} {:>6.3}",
        "(all recognized)",
        all.len(),
        sum.micro_f1,
        sum.categorization_accuracy
    );
    out
}

/// The headline figures in one paragraph.
pub fn headline(report: &Report) -> String {
    let s = &report.summary;
    format!(
        "{}: micro F1 {:.3} (P {:.3}, R {:.3}; {} of {} core fields, {} produced) · macro F1 {:.3} · \
         categorization {:.3} · vendor retention {:.3} · rules ok {}/{} ({:.0}%) · \
         {} events in {} streams · suggestion {:.1} ms/stream",
        report.protocol.label(),
        s.micro_f1,
        s.micro_precision,
        s.micro_recall,
        s.core.correct,
        s.core.expected,
        s.core.produced,
        s.macro_f1,
        s.categorization_accuracy,
        s.vendor_retention,
        report.streams.iter().filter(|r| r.rule_ok).count(),
        s.streams,
        s.rule_ok_share * 100.0,
        s.events,
        s.streams,
        s.mean_suggest_ms,
    )
}

/// An SVG bar chart of core F1 per stream, with the micro F1 as a dashed line.
pub fn svg_chart(report: &Report) -> String {
    let label_w = 190.0;
    let bar_w = 360.0;
    let row_h = 18.0;
    let top = 24.0;
    let n = report.streams.len() as f64;
    let height = top + n * row_h + 24.0;
    let width = label_w + bar_w + 60.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img" aria-label="core F1 per stream">"##
    );
    let _ = write!(
        svg,
        r##"<text x="{label_w}" y="14" font-weight="bold">core F1 per stream</text>"##
    );
    for (i, s) in report.streams.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let w = (s.f1.clamp(0.0, 1.0) * bar_w).max(0.0);
        let fill = if s.rule_ok { "#4477aa" } else { "#cc6677" };
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{label_w}" y="{}" width="{bar_w}" height="{}" fill="#eeeeee"/><rect x="{label_w}" y="{}" width="{w:.1}" height="{}" fill="{fill}"><title>{}: F1 {:.3}</title></rect><text x="{}" y="{}">{:.3}</text>"##,
            label_w - 6.0,
            y + 12.0,
            xml_escape(&s.name),
            y + 2.0,
            row_h - 4.0,
            y + 2.0,
            row_h - 4.0,
            xml_escape(&s.name),
            s.f1,
            label_w + bar_w + 6.0,
            y + 12.0,
            s.f1
        );
    }
    let micro_x = label_w + report.summary.micro_f1.clamp(0.0, 1.0) * bar_w;
    let bottom = top + n * row_h;
    let _ = write!(
        svg,
        r##"<line x1="{micro_x:.1}" y1="{}" x2="{micro_x:.1}" y2="{bottom}" stroke="#222222" stroke-dasharray="4 3"/><text x="{micro_x:.1}" y="{}" text-anchor="middle">micro F1 {:.3}</text>"##,
        top - 2.0,
        bottom + 14.0,
        report.summary.micro_f1
    );
    svg.push_str("</svg>");
    svg
}

fn short_json(v: &Option<Json>) -> String {
    let Some(v) = v else {
        return "—".into();
    };
    let text = match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn kind_name(k: MissKind) -> &'static str {
    match k {
        MissKind::Missing => "missing",
        MissKind::Wrong => "wrong",
        MissKind::Extra => "extra",
        MissKind::Categorization => "categorization",
    }
}

fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn stream_row_md(s: &StreamReport) -> String {
    format!(
        "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {:.1} |\n",
        md_cell(&s.name),
        s.events,
        s.precision,
        s.recall,
        s.f1,
        s.categorization_accuracy,
        s.vendor_retention,
        yes_no(s.rule_ok),
        s.suggest_ms
    )
}

/// The report as Markdown (with the chart as inline SVG).
pub fn render_markdown(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::from("# Evaluation report\n\n");
    let _ = writeln!(out, "{}\n", headline(report));
    out.push_str("| figure | value |\n|---|---|\n");
    for (k, v) in [
        ("micro core F1 (headline)", format!("{:.3}", s.micro_f1)),
        ("micro precision", format!("{:.3}", s.micro_precision)),
        ("micro recall", format!("{:.3}", s.micro_recall)),
        ("macro F1", format!("{:.3}", s.macro_f1)),
        (
            "categorization accuracy",
            format!("{:.3}", s.categorization_accuracy),
        ),
        ("vendor retention", format!("{:.3}", s.vendor_retention)),
        ("rules ok", format!("{:.3}", s.rule_ok_share)),
        ("streams / events", format!("{} / {}", s.streams, s.events)),
        (
            "suggestion time (mean, total)",
            format!("{:.1} ms, {:.1} ms", s.mean_suggest_ms, s.total_suggest_ms),
        ),
    ] {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    out.push_str("\n## F1 per stream\n\n");
    out.push_str(&svg_chart(report));
    out.push_str("\n\n## Streams\n\n");
    out.push_str(
        "| stream | events | P | R | F1 | categorization | retention | rule ok | suggest ms |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---|---:|\n");
    for st in &report.streams {
        out.push_str(&stream_row_md(st));
    }
    for k in &report.skipped {
        let _ = writeln!(
            out,
            "\nSkipped `{}`: {}",
            k.dir.display(),
            md_cell(&k.reason)
        );
    }
    out.push_str("\n## Misses per stream\n");
    for st in &report.streams {
        let _ = writeln!(out, "\n### {}\n", md_cell(&st.name));
        if let Some(e) = &st.error {
            let _ = writeln!(out, "Error: {}\n", md_cell(e));
        }
        if st.misses.is_empty() {
            out.push_str("No misses.\n");
            continue;
        }
        out.push_str("| event | field | kind | expected | got |\n|---:|---|---|---|---|\n");
        for m in st.misses.iter().take(SHOWN_MISSES) {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} |",
                m.event,
                md_cell(&m.field),
                kind_name(m.kind),
                md_cell(&short_json(&m.expected)),
                md_cell(&short_json(&m.got))
            );
        }
        let more = st.misses.len().saturating_sub(SHOWN_MISSES) + st.misses_left_out;
        if more > 0 {
            let _ = writeln!(out, "\n... and {more} more.");
        }
    }
    out
}

/// The report as one self-contained HTML page.
pub fn render_html(report: &Report) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Evaluation report</title>\n<style>\
         body{font-family:sans-serif;margin:2em;max-width:72em}table{border-collapse:collapse;margin:1em 0}\
         td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}td.n{text-align:right}\
         code{font-size:12px}.err{color:#a33}</style></head><body>\n<h1>Evaluation report</h1>\n",
    );
    let _ = writeln!(out, "<p>{}</p>", html_escape(&headline(report)));
    out.push_str("<h2>F1 per stream</h2>\n");
    out.push_str(&svg_chart(report));
    out.push_str("\n<h2>Streams</h2>\n<table><tr><th>stream</th><th>events</th><th>P</th><th>R</th><th>F1</th><th>categorization</th><th>retention</th><th>rule ok</th><th>suggest ms</th></tr>\n");
    for s in &report.streams {
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#{}\">{}</a></td><td class=n>{}</td><td class=n>{:.3}</td><td class=n>{:.3}</td><td class=n>{:.3}</td><td class=n>{:.3}</td><td class=n>{:.3}</td><td>{}</td><td class=n>{:.1}</td></tr>",
            html_escape(&s.name),
            html_escape(&s.name),
            s.events,
            s.precision,
            s.recall,
            s.f1,
            s.categorization_accuracy,
            s.vendor_retention,
            yes_no(s.rule_ok),
            s.suggest_ms
        );
    }
    out.push_str("</table>\n");
    for k in &report.skipped {
        let _ = writeln!(
            out,
            "<p class=err>Skipped {}: {}</p>",
            html_escape(&k.dir.display().to_string()),
            html_escape(&k.reason)
        );
    }
    out.push_str("<h2>Misses per stream</h2>\n");
    for s in &report.streams {
        let _ = writeln!(
            out,
            "<h3 id=\"{}\">{}</h3>",
            html_escape(&s.name),
            html_escape(&s.name)
        );
        if let Some(e) = &s.error {
            let _ = writeln!(out, "<p class=err>{}</p>", html_escape(e));
        }
        if let Some(rule) = &s.rule {
            let _ = writeln!(
                out,
                "<details><summary>rule</summary><pre>{}</pre></details>",
                html_escape(rule)
            );
        }
        if s.misses.is_empty() {
            out.push_str("<p>No misses.</p>\n");
            continue;
        }
        out.push_str("<table><tr><th>event</th><th>field</th><th>kind</th><th>expected</th><th>got</th></tr>\n");
        for m in s.misses.iter().take(SHOWN_MISSES) {
            let _ = writeln!(
                out,
                "<tr><td class=n>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                m.event,
                html_escape(&m.field),
                kind_name(m.kind),
                html_escape(&short_json(&m.expected)),
                html_escape(&short_json(&m.got))
            );
        }
        out.push_str("</table>\n");
        let more = s.misses.len().saturating_sub(SHOWN_MISSES) + s.misses_left_out;
        if more > 0 {
            let _ = writeln!(out, "<p>... and {more} more.</p>");
        }
    }
    out.push_str("</body></html>\n");
    out
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    html_escape(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{Counts, Miss, summarize};
    use serde_json::json;

    fn stream(name: &str, correct: usize, ok: bool) -> StreamReport {
        let core = Counts {
            expected: 4,
            produced: 4,
            correct,
        };
        StreamReport {
            format: "text".into(),
            product: None,
            name: name.into(),
            dir: name.into(),
            events: 2,
            core,
            precision: core.precision(),
            recall: core.recall(),
            f1: core.f1(),
            categorization_expected: 2,
            categorization_correct: 1,
            categorization_accuracy: 0.5,
            vendor_values: 0,
            vendor_retained: 0,
            vendor_retention: 0.0,
            compiled: ok,
            events_failed: 0,
            events_dropped: 0,
            rule_ok: ok,
            suggest_ms: 1.0,
            rule: Some("* | extend a = 1".into()),
            error: (!ok).then(|| "no rule: <stub>".into()),
            misses: vec![Miss {
                event: 0,
                field: "source.ip".into(),
                kind: MissKind::Wrong,
                expected: Some(json!("10.0.0.1")),
                got: Some(json!("a|b")),
            }],
            misses_left_out: 0,
        }
    }

    fn report() -> Report {
        let streams = vec![stream("a/x", 4, true), stream("b/<y>", 1, false)];
        Report {
            protocol: Default::default(),
            summary: summarize(&streams),
            streams,
            skipped: vec![],
        }
    }

    #[test]
    fn the_table_has_a_row_per_stream_and_the_headline() {
        let t = render_table(&report());
        assert!(t.lines().next().unwrap().starts_with("stream"));
        assert!(t.contains("a/x"));
        assert!(t.contains("micro F1 0.625"));
        assert!(t.contains("rules ok 1/2"));
    }

    #[test]
    fn markdown_escapes_cells_and_embeds_the_chart() {
        let md = render_markdown(&report());
        assert!(md.contains("<svg"));
        assert!(md.contains("a\\|b"));
        assert!(md.contains("| a/x | 2 | 1.000 |"));
        assert!(md.contains("Error: no rule: <stub>"));
    }

    #[test]
    fn html_is_self_contained_and_escaped() {
        let html = render_html(&report());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("b/&lt;y&gt;"));
        assert!(!html.contains("b/<y>"));
        assert!(html.contains("</svg>"));
        assert!(!html.contains("http://") || html.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    }

    #[test]
    fn the_chart_has_one_bar_per_stream() {
        let svg = svg_chart(&report());
        assert_eq!(svg.matches("<title>").count(), 2);
        assert!(svg.contains("micro F1 0.625"));
    }
}

//! SPL synthesis: turns the detection (header layers, payload, templates) and the mapping
//! table into a readable rule made only of instructions and functions the engine supports.

use super::detect::{Detection, HEADERS, Layer, Payload};
use super::templates::Template;

/// The `'...'` SPL string literal.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The `"..."` SPL field name.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A CEF header (version, vendor, product, device version, signature id, name, severity) and
/// the extension.
pub const CEF_REGEX: &str = r"CEF:(\d+)\|((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|((?:[^|\\]|\\.)*)\|(.*)$";
pub const CEF_OUTPUTS: &[&str] = &[
    "cef_version",
    "cef_vendor",
    "cef_product",
    "cef_device_version",
    "cef_signature_id",
    "cef_name",
    "cef_severity",
    "cef_extension",
];
pub const LEEF_REGEX: &str = r"LEEF:([\d.]+)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|(.*)$";
/// LEEF 2.0: the same fields, with the delimiter field before the extension.
pub const LEEF2_REGEX: &str = r"LEEF:([\d.]+)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|[^|]*\|(.*)$";
pub const LEEF_OUTPUTS: &[&str] = &[
    "leef_version",
    "leef_vendor",
    "leef_product",
    "leef_device_version",
    "leef_event_id",
    "leef_extension",
];

/// One `parse-regexp` stage per header layer, applied to `src` and then to each layer's
/// remaining text. Returns the stages and the field holding the text after the last layer.
pub fn header_stages(layers: &[Layer], src: &str) -> (Vec<String>, String) {
    let mut stages = Vec::new();
    let mut src = src.to_string();
    for l in layers {
        let h = &HEADERS[l.def];
        for (k, d) in l.defs().enumerate() {
            let outs: Vec<String> = d.outputs.iter().map(|o| ident(o)).collect();
            // The alternative header allows blanks before the line.
            let re = super::detect::header_regex(d);
            let re = if k == 0 {
                re
            } else {
                re.replacen("(?s)^", r"(?s)^\s*", 1)
            };
            stages.push(format!(
                "parse-regexp {}, {} as {}",
                ident(&src),
                lit(&re),
                outs.join(", ")
            ));
        }
        if h.rest {
            src = h.outputs.last().unwrap().to_string();
        }
    }
    (stages, src)
}

/// Extraction stages: header layers then the payload parser. Returns the stages and the
/// name of the field holding the remaining text (the one to categorize on). `key_prefix`:
/// JSON and key=value payloads put every key under it (`-prefix`), so keys the samples did
/// not show are kept there.
pub fn extraction(
    det: &Detection,
    templates: &[Template],
    csv_names: &[String],
    key_prefix: &str,
) -> (Vec<String>, String) {
    let (mut stages, src) = header_stages(&det.layers, "content");
    let s = ident(&src);
    let pfx = lit(key_prefix);
    match &det.payload {
        Payload::Json => stages.push(format!("parse-json -prefix={pfx} {s}")),
        Payload::Kv { delims, sep } => stages.push(format!(
            "parse-kv -prefix={pfx} -delims={} -kv-sep={} {s}",
            lit(delims),
            lit(&sep.to_string())
        )),
        Payload::Csv { delim, .. } => {
            let outs: Vec<String> = csv_names.iter().map(|n| ident(n)).collect();
            let d = if *delim == '\t' {
                "\\t".to_string()
            } else {
                delim.to_string()
            };
            stages.push(format!(
                "parse-csv -delim={} {s} as {}",
                lit(&d),
                outs.join(", ")
            ));
        }
        Payload::Cef => {
            let outs: Vec<String> = CEF_OUTPUTS.iter().map(|n| ident(n)).collect();
            stages.push(format!(
                "parse-regexp {s}, {} as {}",
                lit(CEF_REGEX),
                outs.join(", ")
            ));
            stages.push("parse-kv -greedy \"cef_extension\"".to_string());
        }
        Payload::Leef => {
            let outs: Vec<String> = LEEF_OUTPUTS.iter().map(|n| ident(n)).collect();
            stages.push(format!(
                "parse-regexp {s}, {} as {}",
                lit(LEEF_REGEX),
                outs.join(", ")
            ));
            stages.push(format!(
                "parse-kv -regexp \"leef_extension\", {}",
                lit(r"([\w.-]+)=([^\t]*)")
            ));
        }
        Payload::Xml => stages.push(format!(
            "parse-kv -regexp {s}, {}",
            lit(r"<(\w+)>([^<]*)</\w+>")
        )),
        Payload::Text => {
            for (i, t) in templates.iter().enumerate() {
                let n = t.slots().len();
                if n == 0 {
                    continue;
                }
                let outs: Vec<String> = (0..n).map(|j| ident(&slot_name(i, j))).collect();
                stages.push(format!(
                    "parse-regexp {s}, {} as {}",
                    lit(&t.regex()),
                    outs.join(", ")
                ));
            }
        }
        Payload::None => {}
    }
    (stages, src)
}

/// The raw field name of slot `j` of template `i`.
pub fn slot_name(i: usize, j: usize) -> String {
    format!("t{i}_{j}")
}

/// Joins stages into a rule, one stage per line.
pub fn rule(stages: &[String]) -> String {
    let mut out = String::from("*");
    for s in stages {
        out.push_str("\n  | ");
        out.push_str(s);
    }
    out
}

//! Extraction stage of a suggestion: which samples inference reads, the format and its
//! header layers, the product recognized, templates over free text, and the extraction
//! stages of the rule up to the payload's fields.

use super::detect::{self, Detection, Payload};
use super::products::{self, LogTypeDef, Product, Recognition};
use super::suggest::{MAX_SAMPLE_BYTES, MAX_STAGES, SuggestOptions};
use super::synth::{self, ident, lit};
use super::templates::{self, Template};
use crate::diagnostic::{Diagnostic, codes};
use regex::Regex;
use std::sync::LazyLock;

/// What the extraction stage hands to the mapping stage.
pub(super) struct Extraction<'a> {
    pub(super) unusable: Vec<usize>,
    pub(super) pre_diags: Vec<Diagnostic>,
    /// The samples inference reads.
    pub(super) infer: Vec<String>,
    pub(super) det: Detection,
    pub(super) recognized: Option<(&'a Product, Recognition)>,
    pub(super) sig: Option<&'a Product>,
    pub(super) types: Vec<&'a LogTypeDef>,
    /// The vendor prefix of fields no model field fits.
    pub(super) prefix: &'a str,
    /// The text left after the header layers.
    pub(super) rest_texts: Vec<String>,
    pub(super) known_hit: Vec<bool>,
    pub(super) templates: Vec<Template>,
    /// The payload's templates and those of free text inside JSON records (slot context).
    pub(super) slot_templates: Vec<Template>,
    pub(super) patterns: Vec<(String, Vec<String>)>,
    /// The extraction stages of the rule.
    pub(super) extract: Vec<String>,
    /// The field holding the text the payload parser reads.
    pub(super) text_field: String,
    pub(super) key_prefix: String,
    /// Whether the payload parser puts keys under the vendor prefix.
    pub(super) prefixed: bool,
}

/// The extraction stage: the samples inference reads (W3C directives, binary and oversized
/// lines left out), the format detected with its header layers, the product recognized, the
/// templates mined over free text and the extraction stages of the rule (header layers,
/// payload parser, templates, known messages, XML values, layers inside JSON records).
pub(super) fn extract<'a>(
    samples: &[String],
    options: &SuggestOptions,
) -> Result<Extraction<'a>, Diagnostic> {
    let unusable = check_input(samples)?;
    let mut pre_diags: Vec<Diagnostic> = Vec::new();
    // W3C extended log directives (`#Version:`, `#Fields:` … at the top of IIS or CloudFront
    // files) describe the file, they are not events: left out of inference when data lines
    // follow them.
    let directive = |s: &str| W3C_DIRECTIVE.is_match(s);
    let skip_directives = samples
        .iter()
        .any(|s| !s.trim().is_empty() && !directive(s));
    let infer: Vec<String> = samples
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            !s.trim().is_empty() && !unusable.contains(i) && (!skip_directives || !directive(s))
        })
        .take(MAX_INFER_SAMPLES)
        .map(|(_, s)| {
            s.trim_start_matches('\u{feff}')
                .trim_end_matches(['\r', '\n'])
                .to_string()
        })
        .collect();
    let det = detect::detect(&infer);
    let recognized = products::library().recognize(&infer);
    let sig = recognized.as_ref().map(|(p, _)| *p);
    let types: Vec<&LogTypeDef> = sig.map(|p| p.log_types(&infer)).unwrap_or_default();
    let prefix = sig.map_or("vendor", |s| s.entry.prefix.as_str());

    // Templates for free text: mined over the text left by the headers.
    let rest_texts = remainders(&det, &infer);
    let budget = MAX_STAGES.saturating_sub(det.layers.len() + 4);
    let (known, mut known_hit) = if det.payload == Payload::Text {
        detect::known_messages(&rest_texts)
    } else {
        (Vec::new(), vec![false; rest_texts.len()])
    };
    // Extra patterns (an advisor's, validated by the caller): their lines are not mined.
    let patterns: Vec<(String, Vec<String>)> = if det.payload == Payload::Text {
        options
            .patterns
            .iter()
            .chain(products::patterns_seen(&types, &rest_texts))
            .filter_map(|p| super::advice::pattern_names(p).ok().map(|n| (p.clone(), n)))
            .collect()
    } else {
        Vec::new()
    };
    for (p, _) in &patterns {
        if let Ok(re) = Regex::new(p) {
            for (hit, t) in known_hit.iter_mut().zip(&rest_texts) {
                *hit |= re.is_match(t);
            }
        }
    }
    let templates: Vec<Template> = if det.payload == Payload::Text {
        let refs: Vec<&str> = rest_texts
            .iter()
            .zip(&known_hit)
            .filter(|(_, k)| !**k)
            .map(|(t, _)| t.as_str())
            .collect();
        let all: Vec<Template> = templates::mine(&refs, usize::MAX)
            .into_iter()
            .filter(|t| !t.slots().is_empty())
            .collect();
        // SLS allows 16 stages: message types beyond the budget are named, not dropped
        // silently (their lines keep their text in `event.original` and `message`).
        let keep = budget.max(1);
        if all.len() > keep {
            let left: usize = all[keep..].iter().map(|t| t.members.len()).sum();
            let example = all[keep].text();
            pre_diags.push(
                Diagnostic::warning(
                    codes::RULE_REJECTED,
                    format!(
                        "{} of {} message types ({left} sample line(s)) get no extraction \
                         stage: the rule is limited to {MAX_STAGES} stages; the first left out \
                         is `{example}`",
                        all.len() - keep,
                        all.len()
                    ),
                )
                .with_hint(
                    "suggest from fewer message types at a time, or write one rule per type",
                ),
            );
        }
        all.into_iter().take(keep).collect()
    } else {
        Vec::new()
    };
    let csv_names = match &det.payload {
        Payload::Csv { header: None, .. } => products::columns(&types, &rest_texts),
        _ => None,
    }
    .unwrap_or_else(|| csv_names(&det, &rest_texts));
    // Structured payloads put every key under the vendor prefix as they parse it, so keys the
    // samples did not show are kept there too; the keys the rule maps are renamed out of it.
    let key_prefix = format!("{prefix}.");
    let prefixed = matches!(det.payload, Payload::Json | Payload::Kv { .. });
    let (mut extract, text_field) = synth::extraction(&det, &templates, &csv_names, &key_prefix);
    // LEEF 2.0 names its own delimiter in the sixth header field (`^`, `x5E`, `0x09`).
    if det.payload == Payload::Leef
        && let Some(d) = rest_texts.iter().find_map(|t| leef2_delimiter(t))
    {
        let class = regex::escape(&d.to_string());
        for st in extract.iter_mut() {
            if st.contains(&lit(synth::LEEF_REGEX)) {
                *st = st.replace(&lit(synth::LEEF_REGEX), &lit(synth::LEEF2_REGEX));
            } else if st.starts_with("parse-kv -regexp \"leef_extension\"") {
                *st = format!(
                    "parse-kv -regexp \"leef_extension\", {}",
                    lit(&format!(r"([\w.-]+)=([^{class}]*)"))
                );
            }
        }
    }
    // A CSV header row names the columns; it is not an event (with or without a BOM).
    if let Payload::Csv {
        header: Some(_), ..
    } = &det.payload
        && det.layers.is_empty()
        && let Some(h) = infer.first()
    {
        extract.insert(
            0,
            format!(
                "where \"content\" <> {} and \"content\" <> {}",
                lit(h),
                lit(&format!("\u{feff}{h}"))
            ),
        );
    }
    for k in &known {
        let def = &detect::KNOWN_MESSAGES[*k];
        let outs: Vec<String> = def.outputs.iter().map(|o| ident(o)).collect();
        extract.push(format!(
            "parse-regexp {}, {} as {}",
            ident(&text_field),
            lit(def.regex),
            outs.join(", ")
        ));
    }
    for (p, names) in &patterns {
        let outs: Vec<String> = names.iter().map(|o| ident(o)).collect();
        extract.push(format!(
            "parse-regexp {}, {} as {}",
            ident(&text_field),
            lit(p),
            outs.join(", ")
        ));
    }
    // XML as a tree: one SLS-compatible `regexp_extract` per element, attribute and named
    // datum seen in the samples (SPL has no XML instruction).
    if det.payload == Payload::Xml {
        let items = xml_fields(&rest_texts);
        if !items.is_empty() {
            extract.retain(|s| !s.starts_with("parse-kv -regexp"));
            let src = ident(&text_field);
            let parts: Vec<String> = items
                .iter()
                .map(|(n, re)| format!("{} = regexp_extract({src}, {}, 1)", ident(n), lit(re)))
                .collect();
            extract.push(format!("extend {}", parts.join(",\n           ")));
        }
    }
    if matches!(det.payload, Payload::Kv { .. }) && detect::bracketed(&rest_texts) {
        let at = extract.len().saturating_sub(1);
        let t = ident(&text_field);
        extract.insert(
            at,
            format!("parse-regexp {t}, {} as {t}", lit(r"(?s)^\s*\[(.*)\]\s*$")),
        );
    }
    if matches!(det.payload, Payload::Kv { .. }) && detect::has_rule_tag(&rest_texts) {
        let mut outs: Vec<String> = detect::RULE_TAG_OUTPUTS.iter().map(|o| ident(o)).collect();
        outs.push(ident(&text_field));
        let at = extract.len().saturating_sub(1);
        extract.insert(
            at,
            format!(
                "parse-regexp {}, {} as {}",
                ident(&text_field),
                lit(detect::RULE_TAG_REGEX),
                outs.join(", ")
            ),
        );
    }

    // A JSON record whose first-level string field holds a log line with a header of its
    // own (a container runtime's `{"log": "2024-05-01 10:00:00,123 INFO [main] ..."}`):
    // the line's header layers are peeled from that field too.
    // Free text with values in a string field of the records (`properties.msg`): mined
    // into templates of its own, numbered after the payload's.
    let mut slot_templates = templates.clone();
    if det.payload == Payload::Json {
        let headers = embedded_headers(&rest_texts, &key_prefix);
        if headers.is_empty() {
            let e = super::embedded::embedded_text(&rest_texts, &key_prefix, templates.len());
            extract.extend(e.stages);
            slot_templates.extend(e.templates);
        }
        extract.extend(headers);
    }

    Ok(Extraction {
        unusable,
        pre_diags,
        infer,
        det,
        recognized,
        sig,
        types,
        prefix,
        rest_texts,
        known_hit,
        templates,
        slot_templates,
        patterns,
        extract,
        text_field,
        key_prefix,
        prefixed,
    })
}

/// Samples beyond this many are not used for inference (the rule still runs on all).
const MAX_INFER_SAMPLES: usize = 1000;

/// A W3C extended log file directive line (`#Version: 1.0`, `#Fields: date time ...`).
static W3C_DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^#(?:Version|Fields|Software|Date|Remark|Start-Date|End-Date):").expect("w3c")
});

/// Extraction stages for log lines carried in a first-level string field of JSON records:
/// each header layer the engine detects on that field's values (every value must have it),
/// applied to the field; at most one field.
fn embedded_headers(texts: &[String], key_prefix: &str) -> Vec<String> {
    let docs: Vec<serde_json::Map<String, serde_json::Value>> = texts
        .iter()
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(t.trim()).ok())
        .filter_map(|v| match v {
            serde_json::Value::Object(o) => Some(o),
            _ => None,
        })
        .collect();
    if docs.is_empty() || docs.len() != texts.len() {
        return Vec::new();
    }
    let keys: Vec<&String> = docs[0].keys().collect();
    for key in keys {
        let values: Vec<String> = docs
            .iter()
            .filter_map(|d| {
                d.get(key.as_str())
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .collect();
        // A line of text: words with spaces, not a document of its own.
        if values.len() != docs.len()
            || !values
                .iter()
                .all(|v| v.contains(' ') && !v.trim_start().starts_with(['{', '[', '<']))
        {
            continue;
        }
        let sub = detect::detect(&values);
        if sub.layers.is_empty() || sub.layers.iter().any(|l| l.share < 1.0) {
            continue;
        }
        return synth::header_stages(&sub.layers, &format!("{key_prefix}{key}")).0;
    }
    Vec::new()
}

/// Lines that cannot be inferred from (binary, or longer than [`MAX_SAMPLE_BYTES`]) are left
/// out and reported; only when no usable line remains is the input refused.
fn check_input(samples: &[String]) -> Result<Vec<usize>, Diagnostic> {
    if samples.iter().all(|s| s.trim().is_empty()) {
        return Err(
            Diagnostic::error(codes::NO_SAMPLES, "no sample lines were given")
                .with_hint("paste a few lines of the log, one event per line"),
        );
    }
    let binary = |s: &str| {
        let junk = s
            .chars()
            .filter(|c| *c == '\u{fffd}' || (c.is_control() && !"\t\r\n".contains(*c)))
            .count();
        junk * 10 > s.len().max(1)
    };
    let mut long = Vec::new();
    let mut junk = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        if s.len() > MAX_SAMPLE_BYTES {
            long.push(i);
        } else if binary(s) {
            junk.push(i);
        }
    }
    let usable = samples
        .iter()
        .enumerate()
        .any(|(i, s)| !s.trim().is_empty() && !long.contains(&i) && !junk.contains(&i));
    if !usable {
        if let Some(&i) = long.first() {
            return Err(Diagnostic::error(
                codes::INPUT_TOO_LARGE,
                format!(
                    "a sample is {} bytes long; samples are limited to {} bytes",
                    samples[i].len(),
                    MAX_SAMPLE_BYTES
                ),
            )
            .with_hint("is the input one event per line? multi-line framing may be missing"));
        }
        return Err(
            Diagnostic::error(codes::BINARY_INPUT, "the input looks binary, not log text")
                .with_hint("decompress archives first (soc normalize reads .gz and .zst)"),
        );
    }
    let mut out: Vec<usize> = long.into_iter().chain(junk).collect();
    out.sort_unstable();
    Ok(out)
}

/// The text left after the header layers (what the payload parser sees).
fn remainders(det: &Detection, samples: &[String]) -> Vec<String> {
    let mut texts = samples.to_vec();
    for l in &det.layers {
        let res: Vec<Regex> = l
            .defs()
            .map(|d| Regex::new(&detect::header_regex(d)).expect("header"))
            .collect();
        texts = texts
            .into_iter()
            .map(|t| {
                let c = res
                    .iter()
                    .enumerate()
                    .find_map(|(k, re)| re.captures(if k == 0 { &t } else { t.trim_start() }));
                match c {
                    Some(c) => c.get(c.len() - 1).map_or("", |m| m.as_str()).to_string(),
                    None => t.clone(),
                }
            })
            .collect();
    }
    texts
}

/// The delimiter a LEEF 2.0 header names: a character, or its code as `xHH`/`0xHH`.
fn leef2_delimiter(t: &str) -> Option<char> {
    static RE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"LEEF:2\.0\|[^|]*\|[^|]*\|[^|]*\|[^|]*\|(0?[xX][0-9A-Fa-f]{2,4}|[^|])\|")
            .expect("LEEF 2.0 header")
    });
    let d = RE.captures(t)?.get(1)?.as_str();
    match d.trim_start_matches('0').strip_prefix(['x', 'X']) {
        Some(hex) if d.len() > 1 => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
        _ => d.chars().next(),
    }
}

/// Most XML values extracted per rule.
const MAX_XML_FIELDS: usize = 150;

/// The distinct XML key paths of the samples (dotted) with their extraction regexes, in the
/// order first seen.
fn xml_fields(texts: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in texts {
        for item in super::peel::xml_items(t) {
            let name = item.path.join(".");
            if out.len() < MAX_XML_FIELDS && !out.iter().any(|(n, _)| *n == name) {
                out.push((name, item.regex));
            }
        }
    }
    out
}

fn csv_names(det: &Detection, texts: &[String]) -> Vec<String> {
    let Payload::Csv { delim, header } = &det.payload else {
        return Vec::new();
    };
    if let Some(h) = header {
        return h
            .iter()
            .map(|n| {
                n.chars()
                    .map(|c| {
                        if c.is_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '_'
                        }
                    })
                    .collect()
            })
            .collect();
    }
    let n = texts
        .first()
        .map_or(0, |t| detect::split_csv(t, *delim).len());
    (1..=n).map(|i| format!("col{i}")).collect()
}

//! Free text carried inside a structured record: a JSON string field whose values are
//! sentences with values in them (a cloud firewall's `properties.msg`, `"TCP request from
//! 10.0.0.1:443 to 10.0.0.2:80. Action: Deny."`) is mined into templates like a free-text
//! log, and the rule gets one `parse-regexp` per template on that field.

use super::collect::json_step;
use super::fields::{ValueType, classify};
use super::synth::slot_name;
use super::synth::{ident, lit};
use super::templates::{self, Template};
use serde_json::Value;

/// At most this many templates are mined from the embedded text (SLS allows 16 stages).
const MAX_TEMPLATES: usize = 6;

/// The field the embedded text is copied to when it is nested (`parse-regexp` reads a field,
/// not an expression); free text of an event is its message.
const NESTED_TEXT: &str = "message";

/// Extraction of the free text inside JSON records: the stages to add after `parse-json`
/// and the templates, numbered from `first` (their slots are `t{first}_0`, ...).
#[derive(Debug, Default)]
pub struct Embedded {
    pub stages: Vec<String>,
    pub templates: Vec<Template>,
}

/// Finds the string field of the records (first level or nested, up to three keys deep)
/// that reads as free text with values in it, and mines it. Nothing when no field does.
pub fn embedded_text(texts: &[String], key_prefix: &str, first: usize) -> Embedded {
    let docs: Vec<serde_json::Map<String, Value>> = texts
        .iter()
        .filter_map(|t| serde_json::from_str::<Value>(t.trim()).ok())
        .filter_map(|v| match v {
            Value::Object(o) => Some(o),
            _ => None,
        })
        .collect();
    if docs.len() < 2 || docs.len() * 5 < texts.len() * 4 {
        return Embedded::default();
    }
    let mut paths: Vec<Vec<String>> = Vec::new();
    for d in &docs {
        string_paths(d, &mut Vec::new(), &mut paths);
    }
    let mut best: Option<(usize, Vec<String>, Vec<Template>)> = None;
    for path in paths {
        let values: Vec<&str> = docs.iter().filter_map(|d| get(d, &path)).collect();
        // Present in most records, and sentences: several words, not a document.
        if values.len() * 2 < docs.len()
            || !values.iter().all(|v| {
                v.split_whitespace().count() >= 3 && !v.trim_start().starts_with(['{', '[', '<'])
            })
        {
            continue;
        }
        let mined: Vec<Template> = templates::mine(&values, MAX_TEMPLATES)
            .into_iter()
            .filter(|t| !t.slots().is_empty())
            .collect();
        let score = structured_slots(&mined, &values);
        if score > 0 && best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, path, mined));
        }
    }
    let Some((_, path, mined)) = best else {
        return Embedded::default();
    };
    let mut stages = Vec::new();
    let field = if path.len() == 1 {
        format!("{key_prefix}{}", path[0])
    } else {
        // A record with a message of its own keeps it; the text is not copied over it.
        if docs.iter().any(|d| d.contains_key(NESTED_TEXT)) {
            return Embedded::default();
        }
        let json_path: String = path[1..].iter().map(|k| json_step(k)).collect();
        stages.push(format!(
            "extend {} = json_extract_scalar({}, {})",
            ident(NESTED_TEXT),
            ident(&format!("{key_prefix}{}", path[0])),
            lit(&format!("${json_path}"))
        ));
        NESTED_TEXT.to_string()
    };
    for (i, t) in mined.iter().enumerate() {
        let outs: Vec<String> = (0..t.slots().len())
            .map(|j| ident(&slot_name(first + i, j)))
            .collect();
        stages.push(format!(
            "parse-regexp {}, {} as {}",
            ident(&field),
            lit(&t.regex()),
            outs.join(", ")
        ));
    }
    Embedded {
        stages,
        templates: mined,
    }
}

/// Slots whose values are addresses, numbers, identifiers (anything but words and times):
/// how much the templates would extract. Zero unless some slot holds a network address (an
/// IP, with or without its port, or a MAC): a sentence about traffic, not a description
/// that mentions a count or a link.
fn structured_slots(mined: &[Template], values: &[&str]) -> usize {
    let mut n = 0;
    let mut address = false;
    for t in mined {
        let Ok(re) = regex::Regex::new(&t.regex()) else {
            continue;
        };
        for j in 0..t.slots().len() {
            let types: Vec<ValueType> = t
                .members
                .iter()
                .filter_map(|&m| {
                    re.captures(values[m])?
                        .get(j + 1)
                        .map(|g| classify(g.as_str()))
                })
                .collect();
            address |= types
                .iter()
                .any(|t| t.is_ip() || matches!(t, ValueType::IpPort | ValueType::Mac));
            let structured = types.iter().any(|t| {
                !matches!(
                    t,
                    ValueType::Word | ValueType::Text | ValueType::Empty | ValueType::Timestamp(_)
                )
            });
            n += usize::from(structured);
        }
    }
    if address { n } else { 0 }
}

/// The paths of the string leaves of a record, up to three keys deep.
fn string_paths(
    o: &serde_json::Map<String, Value>,
    at: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    for (k, v) in o {
        at.push(k.clone());
        match v {
            Value::String(_) if !out.contains(at) => out.push(at.clone()),
            Value::Object(inner) if at.len() < 3 => string_paths(inner, at, out),
            _ => {}
        }
        at.pop();
    }
}

fn get<'a>(d: &'a serde_json::Map<String, Value>, path: &[String]) -> Option<&'a str> {
    let (first, rest) = path.split_first()?;
    let mut v = d.get(first)?;
    for k in rest {
        v = v.get(k)?;
    }
    v.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Vec<String> {
        [
            ("TCP", "10.0.0.1:50306", "198.51.100.2:443", "Deny"),
            ("UDP", "10.0.0.2:51106", "198.51.100.3:53", "Allow"),
            ("TCP", "10.0.0.3:49680", "198.51.100.4:1688", "Allow"),
        ]
        .iter()
        .map(|(p, s, d, a)| {
            format!(
                r#"{{"category":"NetworkRule","properties":{{"msg":"{p} request from {s} to {d}. Action: {a}."}},"time":"2024-05-01T10:00:00Z"}}"#
            )
        })
        .collect()
    }

    #[test]
    fn nested_free_text_is_mined_into_templates() {
        let e = embedded_text(&records(), "vendor.", 0);
        assert!(!e.templates.is_empty(), "{e:?}");
        assert!(
            e.stages[0]
                .starts_with(r#"extend "message" = json_extract_scalar("vendor.properties""#),
            "{e:?}"
        );
        assert!(
            e.stages[1].starts_with(r#"parse-regexp "message", "#),
            "{e:?}"
        );
        assert!(e.stages[1].contains(r#" as "t0_0""#), "{e:?}");
    }

    #[test]
    fn words_alone_are_not_mined() {
        let texts: Vec<String> = ["the job started", "the job finished", "the job failed"]
            .iter()
            .map(|m| format!(r#"{{"note":"{m} now"}}"#))
            .collect();
        assert!(embedded_text(&texts, "vendor.", 0).stages.is_empty());
    }
}

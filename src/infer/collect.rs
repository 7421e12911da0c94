//! The raw fields of a candidate extraction: the rule run on the samples, columns and
//! nested JSON leaves (strings holding JSON read through), template slots with their
//! context, date and time columns combined.

use super::fields::{ValueType, dominant};
use super::map::{self, RawField};
use super::synth::{self, ident, lit};
use super::templates::Template;
use crate::event::{Text, Value};
use crate::spl;
use regex::Regex;

/// Runs the extraction rule and lists the fields it produced with their sample values.
/// `key_prefix`: the prefix the payload parser put on every key; fields are shown and mapped
/// by their key without it.
pub(super) fn collect_fields(
    plan: &spl::Plan,
    samples: &[String],
    templates: &[Template],
    key_prefix: Option<&str>,
) -> Vec<RawField> {
    let mut runner = spl::Runner::new(plan);
    let mut cols: Vec<(String, Vec<Value>)> = Vec::new();
    for s in samples {
        let mut out = Vec::new();
        if runner
            .run_event(runner.line_event(Text::new(s)), &mut out)
            .is_err()
        {
            continue;
        }
        for (_, ev) in out {
            for (name, v) in ev.fields() {
                if &**name == "content" {
                    continue;
                }
                match cols.iter_mut().find(|(n, _)| **n == **name) {
                    Some((_, vs)) => vs.push(v.clone()),
                    None => cols.push((name.to_string(), vec![v.clone()])),
                }
            }
        }
    }
    let slot_ctx: Vec<(String, Vec<String>, bool)> = templates
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            t.slots()
                .into_iter()
                .enumerate()
                .map(move |(j, s)| (synth::slot_name(i, j), s.before, s.kv))
        })
        .collect();
    let mut out = Vec::new();
    for (name, vals) in cols {
        let shown = key_prefix
            .and_then(|p| name.strip_prefix(p))
            .unwrap_or(&name)
            .to_string();
        // Nested JSON objects: one field per leaf path.
        let objs: Vec<&serde_json::Value> = vals
            .iter()
            .filter_map(|v| match v {
                Value::Json(j) if j.is_object() => Some(j.tree()),
                _ => None,
            })
            .collect();
        if !objs.is_empty() {
            let mut leaves: Vec<Leaf> = Vec::new();
            for o in objs {
                flatten(o, &mut Vec::new(), &mut leaves);
            }
            for leaf in leaves {
                let source = format!("{shown}.{}", leaf.path.join("."));
                let expr = leaf_expr(&ident(&name), &leaf);
                // A string that holds a JSON document is another layer (a cloud envelope
                // around an audit record): its leaves are read through the string.
                match json_layer(&leaf.values).filter(|_| !leaf.array) {
                    Some(sub) => {
                        for l in sub.into_iter().filter(|l| !l.array) {
                            out.push(leaf_field(&name, &source, &expr, l));
                        }
                    }
                    None => out.push(RawField {
                        source,
                        expr,
                        raw: Some(name.clone()),
                        ty: dominant(leaf.values.iter().map(String::as_str)),
                        values: leaf.values,
                        context: Vec::new(),
                        kv: false,
                    }),
                }
            }
            continue;
        }
        let texts: Vec<String> = vals
            .iter()
            .filter_map(|v| match v {
                Value::Json(j) if j.is_array() => None,
                v => v.to_text().map(|c| c.into_owned()),
            })
            .collect();
        if texts.is_empty() {
            continue;
        }
        // A text column holding JSON documents is another layer: its leaves are read
        // through it (`json_extract_scalar("properties", '$.verb')`).
        if let Some(sub) = json_layer(&texts) {
            for l in sub {
                out.push(leaf_field(&name, &shown, &ident(&name), l));
            }
            continue;
        }
        let ty = dominant(texts.iter().map(String::as_str));
        // Columns that are always `-` are kept (typed empty): some formats mean it literally.
        let dashes =
            texts.iter().any(|t| t == "-") && texts.iter().all(|t| t == "-" || t.is_empty());
        if ty == ValueType::Empty && !dashes {
            continue;
        }
        let (context, kv) = slot_ctx
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, c, kv)| (c.clone(), *kv))
            .unwrap_or_default();
        out.push(RawField {
            source: shown,
            expr: ident(&name),
            raw: Some(name.clone()),
            ty,
            values: texts,
            context,
            kv,
        });
    }
    out
}

/// Columns that hold JSON objects (`parse-json` makes one per first-level key): their leaves
/// are read with `json_extract*("col", …)`.
pub(super) fn json_object_columns(fields: &[RawField]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in fields {
        if let Some(r) = &f.raw
            && f.source.contains('.')
            && (f
                .expr
                .starts_with(&format!("json_extract_scalar({}, ", ident(r)))
                || f.expr.starts_with(&format!("json_extract({}, ", ident(r))))
            && !out.contains(r)
        {
            out.push(r.clone());
        }
    }
    out
}

/// The JSON documents some values hold, flattened to leaves; `None` unless every value is a
/// JSON object.
pub(super) fn json_layer(values: &[String]) -> Option<Vec<Leaf>> {
    let docs: Vec<serde_json::Value> = values
        .iter()
        .filter_map(|v| {
            let t = v.trim();
            (t.starts_with('{') && t.ends_with('}'))
                .then(|| serde_json::from_str::<serde_json::Value>(t).ok())
                .flatten()
                .filter(serde_json::Value::is_object)
        })
        .collect();
    if docs.is_empty() || docs.len() != values.len() {
        return None;
    }
    let mut leaves = Vec::new();
    for d in &docs {
        flatten(d, &mut Vec::new(), &mut leaves);
    }
    Some(leaves)
}

/// The expression reading a leaf from the JSON in `doc` (an array whole, a scalar as text).
pub(super) fn leaf_expr(doc: &str, leaf: &Leaf) -> String {
    let jp = leaf.path.iter().map(|k| json_step(k)).collect::<String>();
    let func = if leaf.array {
        "json_extract"
    } else {
        "json_extract_scalar"
    };
    format!("{func}({doc}, {})", lit(&format!("${jp}")))
}

/// The raw field of a leaf read from the JSON document `doc` (held by column `column`).
pub(super) fn leaf_field(column: &str, parent: &str, doc: &str, leaf: Leaf) -> RawField {
    RawField {
        source: format!("{parent}.{}", leaf.path.join(".")),
        expr: leaf_expr(doc, &leaf),
        raw: Some(column.to_string()),
        ty: dominant(leaf.values.iter().map(String::as_str)),
        values: leaf.values,
        context: Vec::new(),
        kv: false,
    }
}

/// One JSONPath step for a key: `.key`, or `["a.b"]` for keys that are not identifiers.
pub(super) fn json_step(k: &str) -> String {
    if !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !k.starts_with(|c: char| c.is_ascii_digit())
    {
        format!(".{k}")
    } else {
        format!("[\"{}\"]", k.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// One leaf of nested JSON: its key path, whether it is an array of values, the values.
pub(super) struct Leaf {
    pub(super) path: Vec<String>,
    pub(super) array: bool,
    pub(super) values: Vec<String>,
}

/// Leaves of a JSON object: scalars, and arrays of scalars (kept whole). Keys may contain
/// dots (`"log.level"`, ECS-style sources); the path keeps them as one segment.
pub(super) fn flatten(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Leaf>) {
    use serde_json::Value as J;
    let J::Object(m) = v else {
        return;
    };
    let text = |v: &J| match v {
        J::String(s) => s.clone(),
        o => o.to_string(),
    };
    for (k, v) in m {
        if k.is_empty() || k.contains(['"', '\'', '\\']) {
            continue;
        }
        path.push(k.clone());
        let leaf: Option<(bool, Vec<String>)> = match v {
            J::Object(_) => {
                flatten(v, path, out);
                None
            }
            J::Null => None,
            J::Array(items) => {
                let scalars: Vec<String> = items
                    .iter()
                    .filter(|i| !i.is_object() && !i.is_array() && !i.is_null())
                    .map(text)
                    .collect();
                (!scalars.is_empty() && scalars.len() == items.len()).then_some((true, scalars))
            }
            other => Some((false, vec![text(other)])),
        };
        if let Some((array, values)) = leaf {
            match out.iter_mut().find(|l| l.path == *path) {
                Some(l) => {
                    l.values.extend(values);
                    l.array |= array;
                }
                None => out.push(Leaf {
                    path: path.clone(),
                    array,
                    values,
                }),
            }
        }
        path.pop();
    }
}

/// `date=2024-01-02 time=10:11:12` → one timestamp field; `date` and `time` are then only
/// consumed (typed `Empty`, so they are not mapped on their own).
pub(super) fn combine_date_time(mut fields: Vec<RawField>) -> Vec<RawField> {
    let di = fields.iter().position(|f| f.source == "date");
    let ti = fields.iter().position(|f| f.source == "time");
    // Without such names: a column of dates right before a column of times (header-less
    // CSV, W3C logs).
    let date_re = Regex::new(r"^\d{4}-\d{2}-\d{2}$").expect("date");
    let time_re = Regex::new(r"^\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?$").expect("time");
    let all =
        |f: &RawField, re: &Regex| !f.values.is_empty() && f.values.iter().all(|v| re.is_match(v));
    let adjacent = (0..fields.len().saturating_sub(1)).find(|&i| {
        all(&fields[i], &date_re)
            && all(&fields[i + 1], &time_re)
            && fields[i].values.len() == fields[i + 1].values.len()
    });
    let (di, ti) = match (di, ti, adjacent) {
        (Some(d), Some(t), _) => (d, t),
        (_, _, Some(i)) => (i, i + 1),
        _ => return fields,
    };
    // A `tz` offset field (FortiOS `tz="-0500"`) completes the local time.
    let zone = Regex::new(r"^[+-]\d{2}:?\d{2}$").expect("zone");
    let tz = fields.iter().position(|f| {
        f.source == "tz"
            && f.values.len() == fields[di].values.len()
            && f.values.iter().all(|v| zone.is_match(v))
    });
    let values: Vec<String> = fields[di]
        .values
        .iter()
        .zip(&fields[ti].values)
        .enumerate()
        .map(|(i, (a, b))| match tz {
            Some(z) => format!("{a} {b} {}", fields[z].values[i]),
            None => format!("{a} {b}"),
        })
        .collect();
    let ty = dominant(values.iter().map(String::as_str));
    if !matches!(ty, ValueType::Timestamp(_)) {
        return fields;
    }
    let expr = match tz {
        Some(z) => format!(
            "concat({}, ' ', {}, ' ', {})",
            fields[di].expr, fields[ti].expr, fields[z].expr
        ),
        None => format!("concat({}, ' ', {})", fields[di].expr, fields[ti].expr),
    };
    // With a wall-clock date and time, an epoch event time is when the event started.
    for f in fields.iter_mut() {
        if map::normalize(&f.source) == "eventtime" && f.ty != ValueType::Empty {
            f.source = "event_start".into();
        }
    }
    let f = RawField {
        source: "date+time".into(),
        expr,
        raw: None,
        values,
        ty,
        context: Vec::new(),
        kv: false,
    };
    fields[di].ty = ValueType::Empty;
    fields[ti].ty = ValueType::Empty;
    fields.insert(0, f);
    fields
}

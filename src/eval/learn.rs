//! Mining labeled streams for key → field knowledge (`soc learn`): for every raw event, the
//! key/value pairs it carries (JSON peeled to any depth, XML elements and attributes,
//! key=value text) are matched by value against the model fields of its expected document;
//! each match says "this product put this key's value in that field".
//!
//! Only core model fields are learned (the scorer's classes: no bookkeeping, enrichment or
//! categorization fields, no vendor namespaces). Values too short or too common to say
//! anything (`0`, `1`, `true`, `-`) are not matched.

use super::compare::{KeyClass, TimeContext, ValueKind, classify, flatten, values_equal};
use super::dataset::{Stream, discover};
use super::product_of;
use crate::infer::learned::Learned;
use crate::infer::peel::{self, Pair};
use serde_json::Value as Json;
use std::path::PathBuf;

/// Mines every stream under `dirs`; streams that do not load are reported and skipped.
pub fn mine(dirs: &[PathBuf]) -> (Learned, Vec<String>) {
    let mut learned = Learned::default();
    let mut problems = Vec::new();
    let found = discover(dirs);
    let mut n = 0;
    for dir in &found {
        match Stream::load(dir) {
            Ok(s) => {
                mine_stream(&s, &mut learned);
                n += 1;
            }
            Err(e) => problems.push(e),
        }
    }
    learned.source = format!("{n} labeled streams (soc learn)");
    (learned, problems)
}

/// Adds what one stream teaches.
pub fn mine_stream(stream: &Stream, learned: &mut Learned) {
    let product = product_of(&stream.name);
    for case in &stream.cases {
        for (raw, expected) in case.events.iter().zip(&case.expected) {
            let flat = flatten(expected);
            let action = flat
                .iter()
                .find(|(k, _)| k == "event.action")
                .and_then(|(_, v)| v.as_str());
            if let Some(action) = action {
                let cats: Vec<(&str, Vec<String>)> =
                    ["event.category", "event.type", "event.outcome"]
                        .into_iter()
                        .filter_map(|f| {
                            let v = flat.iter().find(|(k, _)| k == f)?.1.clone();
                            let vals: Vec<String> = match v {
                                Json::Array(items) => items
                                    .iter()
                                    .filter_map(|i| i.as_str().map(str::to_string))
                                    .collect(),
                                Json::String(s) => vec![s],
                                _ => Vec::new(),
                            };
                            Some((f, vals))
                        })
                        .collect();
                learned.record_action(product, action, &cats);
            }
            let fields: Vec<(String, Json)> = flat
                .into_iter()
                .filter(|(k, _)| classify(k) == KeyClass::Core)
                .collect();
            let time = TimeContext {
                raw,
                tz: case.config.tz,
            };
            for Pair { path, value } in peel::pairs(raw) {
                if !informative(&value) {
                    continue;
                }
                let got = Json::String(value.clone());
                let segs: Vec<&str> = path.iter().map(String::as_str).collect();
                let mut matched = false;
                for (k, want) in &fields {
                    if values_equal(want, &got, ValueKind::of(k), &time) {
                        learned.record(product, &segs, Some(k));
                        matched = true;
                    }
                }
                if !matched {
                    learned.record(product, &segs, None);
                }
            }
        }
    }
}

/// Whether a value is specific enough for a match to mean something.
fn informative(v: &str) -> bool {
    let v = v.trim();
    v.chars().count() >= 2
        && !matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "none" | "-" | "--" | "n/a" | "na" | "00"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::dataset::{Case, CaseConfig};
    use serde_json::json;

    #[test]
    fn a_json_key_is_learned_for_the_field_its_value_landed_in() {
        let stream = Stream {
            name: "acme/audit".into(),
            dir: PathBuf::new(),
            cases: vec![Case {
                file: "t.log".into(),
                events: vec![r#"{"actor":{"ipAddr":"192.0.2.7","id":"u-17"},"ok":true}"#.into()],
                expected: vec![
                    json!({"source": {"ip": "192.0.2.7"}, "user": {"id": "u-17"},
                    "acme": {"ok": true}}),
                ],
                config: CaseConfig::default(),
            }],
        };
        let mut l = Learned::default();
        mine_stream(&stream, &mut l);
        let c = l.candidates(&["actor", "ipAddr"]);
        assert_eq!(c[0].field, "source.ip");
        assert_eq!(l.candidates(&["id"])[0].field, "user.id");
        // `true` says nothing.
        assert!(l.candidates(&["ok"]).is_empty());
    }
}

//! Validation of a normalized event against the model: names that claim to be ECS but are not
//! in the catalog (W410), values that do not fit their field's type (W411) and categorization
//! values outside the allowed sets (W412). Vendor fields (names outside the ECS field sets,
//! such as `cisco.asa.rule_name`) are the model's place for everything else and pass.

use super::allowed::{allowed_types_for_category, allowed_values};
use super::catalog::{FieldType, catalog};
use crate::diagnostic::{Diagnostic, codes};
use crate::event::Event;
use serde_json::Value as Json;

/// Checks an event against the model and returns one warning per problem, in field order.
///
/// Nested JSON objects are read as dotted names (`{"source": {"ip": ..}}` is `source.ip`),
/// except under ECS container fields (`labels`, `*.geo.location`).
///
/// ```
/// use agentic_soc::event::{Event, Value};
/// use agentic_soc::model::validate;
/// let mut e = Event::new();
/// e.set_str("source.ip", Value::str("not-an-ip"));
/// e.set_str("event.outcome", Value::str("ok"));
/// e.set_str("cisco.asa.rule", Value::str("anything"));
/// let codes: Vec<_> = validate(&e).iter().map(|d| d.code).collect();
/// assert_eq!(codes, ["W411", "W412"]);
/// ```
pub fn validate(event: &Event) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut categories: Option<Vec<String>> = None;
    let mut types: Option<Vec<String>> = None;
    for (name, value) in event.fields() {
        let json = value.to_json();
        match &**name {
            "event.category" => categories = Some(texts(&json)),
            "event.type" => types = Some(texts(&json)),
            _ => {}
        }
        walk(name, &json, &mut out);
    }
    if let (Some(cats), Some(types)) = (categories, types) {
        check_type_pairing(&cats, &types, &mut out);
    }
    out
}

/// Checks one (possibly nested) value under `name`.
fn walk(name: &str, value: &Json, out: &mut Vec<Diagnostic>) {
    let cat = catalog();
    let def = cat.get(name);
    if let Json::Object(map) = value
        && !def.is_some_and(|d| d.ty.is_container())
        && cat.container_of(name).is_none()
    {
        if let Some(d) = def {
            out.push(mismatch(name, &d.ty, value));
            return;
        }
        for (k, v) in map {
            walk(&format!("{name}.{k}"), v, out);
        }
        return;
    }
    let Some(def) = def else {
        let set = name.split('.').next().unwrap_or(name);
        if cat.container_of(name).is_none() && cat.is_field_set(set) {
            let mut d = Diagnostic::warning(
                codes::UNKNOWN_MODEL_FIELD,
                format!("`{name}` is not an ECS field, but `{set}` is an ECS field set"),
            );
            d = match cat.did_you_mean(name) {
                Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                None => d.with_hint(format!(
                    "use an ECS field of `{set}.*`, or keep the value under a vendor prefix"
                )),
            };
            out.push(d);
        }
        return;
    };
    let elements = elements(value, def.array || !matches!(def.ty, FieldType::GeoPoint));
    for v in &elements {
        if !type_fits(&def.ty, v) {
            out.push(mismatch(name, &def.ty, v));
            return;
        }
    }
    if let Some(allowed) = allowed_values(name) {
        for v in &elements {
            let text = scalar_text(v);
            if !allowed.contains(&text) {
                let mut d = Diagnostic::warning(
                    codes::DISALLOWED_VALUE,
                    format!("`{text}` is not an allowed value of `{name}`"),
                );
                d = match crate::diagnostic::did_you_mean(&text, allowed.iter().map(String::as_str))
                {
                    Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                    None => d.with_hint(format!("allowed: {}", allowed.join(", "))),
                };
                out.push(d);
            }
        }
    }
}

/// Every `event.type` should be expected with at least one of the event's categories
/// (ECS `expected_event_types`). Unknown categories were already reported.
fn check_type_pairing(categories: &[String], types: &[String], out: &mut Vec<Diagnostic>) {
    let expected: Option<Vec<&'static [String]>> = categories
        .iter()
        .map(|c| allowed_types_for_category(c))
        .collect();
    let Some(expected) = expected else { return };
    if expected.is_empty() || expected.iter().any(|e| e.is_empty()) {
        return;
    }
    for t in types {
        if allowed_values("event.type").is_some_and(|a| !a.contains(t)) {
            continue;
        }
        if !expected.iter().any(|e| e.contains(t)) {
            let mut all: Vec<&str> = expected
                .iter()
                .flat_map(|e| e.iter().map(String::as_str))
                .collect();
            all.sort_unstable();
            all.dedup();
            out.push(
                Diagnostic::warning(
                    codes::DISALLOWED_VALUE,
                    format!(
                        "event.type `{t}` is not expected with event.category {}",
                        categories.join(", ")
                    ),
                )
                .with_hint(format!("ECS expects one of: {}", all.join(", "))),
            );
        }
    }
}

fn mismatch(name: &str, ty: &FieldType, value: &Json) -> Diagnostic {
    let what = match ty {
        FieldType::Ip => "an IP address",
        t if t.is_integer() => "a whole number",
        t if t.is_numeric() => "a number",
        FieldType::Boolean => "a boolean",
        t if t.is_date() => "a date (RFC 3339 or epoch milliseconds)",
        t if t.is_string() => "text",
        FieldType::GeoPoint => "a geo point",
        _ => "an object",
    };
    let mut shown = value.to_string();
    if shown.len() > 60 {
        let mut cut = 57;
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        shown.truncate(cut);
        shown.push_str("...");
    }
    Diagnostic::warning(
        codes::MODEL_TYPE_MISMATCH,
        format!("`{name}` is a `{ty}` field but {shown} is not {what}"),
    )
    .with_hint(match ty {
        t if t.is_numeric() => "cast it: `cast(x as BIGINT)` or `try_cast(x as DOUBLE)`",
        t if t.is_date() => "parse it: `parse_datetime(x, 'format')` or `date_parse(x, '%...')`",
        _ => "extract the part of the value that has this type, or rename the field",
    })
}

/// The elements of a value: array items (also of text holding a JSON array, when `split`),
/// or the value itself.
fn elements(value: &Json, split: bool) -> Vec<Json> {
    if !split {
        return vec![value.clone()];
    }
    match value {
        Json::Array(items) => items.clone(),
        Json::String(s) if s.trim_start().starts_with('[') => {
            match serde_json::from_str::<Json>(s) {
                Ok(Json::Array(items)) => items,
                _ => vec![value.clone()],
            }
        }
        _ => vec![value.clone()],
    }
}

fn texts(value: &Json) -> Vec<String> {
    elements(value, true).iter().map(scalar_text).collect()
}

fn scalar_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether one element fits a field type the way Elasticsearch would index it (numbers in
/// text are coerced, as ES does by default).
fn type_fits(ty: &FieldType, v: &Json) -> bool {
    match (ty, v) {
        (_, Json::Null) => true,
        (FieldType::Ip, Json::String(s)) => s.trim().parse::<std::net::IpAddr>().is_ok(),
        (FieldType::Ip, _) => false,
        (t, Json::Number(n)) if t.is_integer() => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        (t, Json::String(s)) if t.is_integer() => {
            let s = s.trim();
            s.parse::<i64>().is_ok() || s.parse::<u64>().is_ok()
        }
        (t, Json::Number(_)) if t.is_numeric() => true,
        (t, Json::String(s)) if t.is_numeric() => s.trim().parse::<f64>().is_ok(),
        (t, _) if t.is_numeric() => false,
        (FieldType::Boolean, Json::Bool(_)) => true,
        (FieldType::Boolean, Json::String(s)) => matches!(s.trim(), "true" | "false"),
        (FieldType::Boolean, _) => false,
        (t, Json::Number(n)) if t.is_date() => n.is_i64() || n.is_u64(),
        (t, Json::String(s)) if t.is_date() => is_date_text(s.trim()),
        (t, _) if t.is_date() => false,
        (t, Json::Object(_)) if t.is_string() => false,
        (t, _) if t.is_string() => true,
        (FieldType::Object | FieldType::Flattened | FieldType::Nested, v) => v.is_object(),
        (FieldType::GeoPoint, Json::Object(o)) => o.contains_key("lat") && o.contains_key("lon"),
        (FieldType::GeoPoint, Json::Array(a)) => a.len() == 2 && a.iter().all(Json::is_number),
        (FieldType::GeoPoint, Json::String(s)) => !s.trim().is_empty(),
        (FieldType::GeoPoint, _) => false,
        _ => true,
    }
}

/// Elasticsearch's default date format, `strict_date_optional_time||epoch_millis`: an ISO
/// 8601 date with optional time and zone, or a number of milliseconds.
fn is_date_text(s: &str) -> bool {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").is_ok()
        || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        || chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Timestamp, Value};

    fn event(fields: &[(&str, Value)]) -> Event {
        let mut e = Event::new();
        for (n, v) in fields {
            e.set_str(n, v.clone());
        }
        e
    }

    fn codes_of(e: &Event) -> Vec<&'static str> {
        validate(e).iter().map(|d| d.code).collect()
    }

    #[test]
    fn a_clean_event_has_no_warnings() {
        let e = event(&[
            ("@timestamp", Value::Timestamp(Timestamp::utc(0))),
            ("source.ip", Value::str("10.0.0.1")),
            ("destination.ip", Value::str("2001:db8::1")),
            ("source.port", Value::Int(443)),
            ("destination.port", Value::str("8080")),
            ("event.kind", Value::str("event")),
            ("event.category", Value::str(r#"["network","web"]"#)),
            (
                "event.type",
                Value::json(serde_json::json!(["connection", "access"])),
            ),
            ("event.outcome", Value::str("success")),
            ("event.risk_score", Value::Double(2.5)),
            ("labels.env", Value::str("prod")),
            ("cisco.asa.message_id", Value::str("302020")),
            ("content", Value::str("raw")),
        ]);
        assert_eq!(validate(&e), vec![]);
    }

    #[test]
    fn unknown_names_in_ecs_field_sets_are_reported_with_a_suggestion() {
        let e = event(&[
            ("source.ipp", Value::str("10.0.0.1")),
            ("event.categroy", Value::str("network")),
            ("vendor.thing", Value::str("x")),
        ]);
        let d = validate(&e);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].code, codes::UNKNOWN_MODEL_FIELD);
        assert_eq!(d[1].hints, ["did you mean `event.category`?"]);
    }

    #[test]
    fn mistyped_values_are_reported() {
        let cases = [
            ("source.ip", Value::str("host-a")),
            ("source.port", Value::str("https")),
            ("source.port", Value::Double(1.5)),
            ("http.response.body.bytes", Value::Bool(true)),
            ("@timestamp", Value::str("10/Oct/2024:13:55:37 +0000")),
            ("event.start", Value::str("2024-01-01 10:00:00")),
            ("event.risk_score", Value::str("high")),
            ("tls.established", Value::str("yes")),
            ("labels", Value::str("flat")),
            ("user.name", Value::json(serde_json::json!({"a": 1}))),
        ];
        for (name, v) in cases {
            let e = event(&[(name, v.clone())]);
            assert_eq!(codes_of(&e), ["W411"], "{name} = {v:?}");
        }
    }

    #[test]
    fn well_typed_values_in_many_forms_pass() {
        let cases = [
            ("@timestamp", Value::str("2024-10-10T13:55:37Z")),
            ("@timestamp", Value::str("2024-10-10T13:55:37.123+02:00")),
            ("@timestamp", Value::str("2024-10-10")),
            ("@timestamp", Value::Int(1_700_000_000_000)),
            ("related.ip", Value::str(r#"["10.0.0.1","::1"]"#)),
            ("tls.established", Value::Bool(false)),
            ("tls.established", Value::str("true")),
            (
                "source.geo.location",
                Value::json(serde_json::json!({"lat": 1.0, "lon": 2.0})),
            ),
            (
                "source.geo.location",
                Value::json(serde_json::json!([2.0, 1.0])),
            ),
            ("labels", Value::json(serde_json::json!({"env": "prod"}))),
            ("message", Value::Int(5)),
        ];
        for (name, v) in cases {
            let e = event(&[(name, v.clone())]);
            assert_eq!(codes_of(&e), Vec::<&str>::new(), "{name} = {v:?}");
        }
    }

    #[test]
    fn nested_json_objects_are_read_as_dotted_names() {
        let e = event(&[(
            "source",
            Value::json(serde_json::json!({"ip": "bad", "port": 1, "nope": 2})),
        )]);
        assert_eq!(codes_of(&e), ["W411", "W410"]);
    }

    #[test]
    fn categorization_values_must_be_allowed() {
        let e = event(&[
            ("event.kind", Value::str("events")),
            ("event.category", Value::str("network")),
            ("event.type", Value::str(r#"["connection","bogus"]"#)),
            ("event.outcome", Value::str("Success")),
        ]);
        let d = validate(&e);
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["W412", "W412", "W412"]);
        assert_eq!(d[0].hints, ["did you mean `event`?"]);
        assert!(d[1].message.contains("bogus"));
    }

    #[test]
    fn types_must_be_expected_with_the_category() {
        let e = event(&[
            ("event.category", Value::str("authentication")),
            ("event.type", Value::str("connection")),
        ]);
        let d = validate(&e);
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("not expected with event.category"));
        let ok = event(&[
            (
                "event.category",
                Value::str(r#"["authentication","network"]"#),
            ),
            ("event.type", Value::str("connection")),
        ]);
        assert!(validate(&ok).is_empty());
    }
}

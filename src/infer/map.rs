//! Mapping of inferred fields onto the unified model: each raw field gets a target (an ECS
//! field, or a vendor-prefixed name when nothing fits), the SPL expression that produces the
//! typed value, a confidence in [0, 1] and a reason. Knowledge comes from `knowledge` tables.

use super::fields::{ValueType, time_expr};
use super::knowledge::{CONTEXT, SYNONYMS};
use crate::model::{self, FieldType};

/// A field found in the samples, before mapping.
#[derive(Debug, Clone)]
pub struct RawField {
    /// Name shown to the user (key, JSON path, or template slot).
    pub source: String,
    /// SPL expression that reads it.
    pub expr: String,
    /// The raw field to remove once consumed (`None` when it is not a field of its own).
    pub raw: Option<String>,
    /// Sample values (non-empty).
    pub values: Vec<String>,
    pub ty: ValueType,
    /// Literal words before the value (free text), nearest last.
    pub context: Vec<String>,
}

/// One mapped output.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub source: String,
    pub target: String,
    pub expr: String,
    pub confidence: f64,
    pub reason: String,
    pub ty: String,
    /// Plain copy of a raw field (can be a `project-rename`).
    pub plain: bool,
}

/// Lower-case, without `_ - . space`.
pub fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| !"_-. ()".contains(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

fn target_type(target: &str) -> Option<FieldType> {
    if target == "@timestamp" {
        return Some(FieldType::Date);
    }
    model::catalog().get(target).map(|f| f.ty.clone())
}

fn type_class(ty: &ValueType) -> &'static str {
    match ty {
        ValueType::Ipv4 | ValueType::Ipv6 => "ip",
        ValueType::Integer => "int",
        ValueType::Email => "email",
        ValueType::Domain => "domain",
        ValueType::Path => "path",
        ValueType::Url => "url",
        ValueType::HttpMethod => "method",
        ValueType::Word => "word",
        _ => "other",
    }
}

/// Whether values of `ty` can fill `target`.
fn compatible(target: &str, ty: &ValueType, strict: bool) -> bool {
    let Some(ft) = target_type(target) else {
        return false;
    };
    match ft {
        FieldType::Ip => ty.is_ip() || *ty == ValueType::IpPort,
        FieldType::Date => matches!(ty, ValueType::Timestamp(_)),
        t if t.is_integer() => {
            *ty == ValueType::Integer || (target.ends_with(".port") && *ty == ValueType::IpPort)
        }
        t if t.is_numeric() => matches!(ty, ValueType::Integer | ValueType::Float),
        _ => {
            if target.ends_with(".address") && target.starts_with("email") {
                return *ty == ValueType::Email;
            }
            if target.ends_with(".mac") {
                return *ty == ValueType::Mac;
            }
            if target == "url.original" || target == "http.request.referrer" {
                return matches!(
                    ty,
                    ValueType::Url
                        | ValueType::Path
                        | ValueType::Domain
                        | ValueType::Word
                        | ValueType::Text
                        | ValueType::Empty
                );
            }
            !strict || !matches!(ty, ValueType::Integer | ValueType::Float)
        }
    }
}

/// Value-type fallbacks when neither the key nor the context knows the field.
fn by_value(ty: &ValueType) -> Option<&'static str> {
    Some(match ty {
        ValueType::Url => "url.original",
        ValueType::UserAgent => "user_agent.original",
        ValueType::HttpMethod => "http.request.method",
        ValueType::HttpVersion => "http.version",
        ValueType::Sha256 => "file.hash.sha256",
        ValueType::Md5 => "file.hash.md5",
        ValueType::Sha1 => "file.hash.sha1",
        ValueType::Timestamp(_) => "@timestamp",
        _ => return None,
    })
}

/// Picks a target for one field: override, key synonym, context word, value type, else the
/// vendor prefix.
pub fn choose(f: &RawField, prefix: &str) -> (String, f64, String) {
    let key = f.source.rsplit(['.', '/']).next().unwrap_or(&f.source);
    for k in [normalize(&f.source), normalize(key)] {
        if let Some((_, t)) = SYNONYMS.iter().find(|(s, _)| *s == k) {
            let (t, strict) = match t.strip_suffix('?') {
                Some(t) => (t, true),
                None => (*t, false),
            };
            // Protocol numbers go to the IANA number.
            if t == "network.transport" && f.ty == ValueType::Integer {
                return (
                    "network.iana_number".into(),
                    0.8,
                    format!("key `{key}` holds protocol numbers"),
                );
            }
            if compatible(t, &f.ty, strict) {
                return (
                    t.to_string(),
                    if strict { 0.7 } else { 0.9 },
                    format!("key `{key}` is a known name for {t} ({})", f.ty.name()),
                );
            }
        }
    }
    if let Some(word) = f.context.last() {
        let class = match type_class(&f.ty) {
            "other" if f.ty == ValueType::IpPort => "ip",
            c => c,
        };
        if let Some((w, _, t)) = CONTEXT.iter().find(|(w, c, _)| w == word && *c == class) {
            return (
                t.to_string(),
                0.75,
                format!("{} value after the word `{w}`", f.ty.name()),
            );
        }
    }
    if let Some(word) = f.context.last()
        && let Some((_, t)) = SYNONYMS.iter().find(|(s, _)| *s == normalize(word))
        && !t.ends_with('?')
        && compatible(t, &f.ty, false)
    {
        return (
            t.to_string(),
            0.7,
            format!("{} value labelled `{word}`", f.ty.name()),
        );
    }
    if let Some(t) = by_value(&f.ty) {
        return (
            t.to_string(),
            0.6,
            format!("values look like {}", f.ty.name()),
        );
    }
    let base = match f.context.last() {
        Some(w) if f.raw.as_deref() == Some(f.source.as_str()) && is_slot(&f.source) => w.as_str(),
        _ => f.source.as_str(),
    };
    let name = base
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>();
    (
        format!("{prefix}.{name}"),
        0.3,
        "no model field fits: kept under the vendor prefix".into(),
    )
}

/// Template slots are named `t<i>_<j>` (see `synth::slot_name`).
fn is_slot(name: &str) -> bool {
    name.strip_prefix('t')
        .and_then(|r| r.split_once('_'))
        .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok())
}

/// The conversion of a field's expression into the target's type; `extra` receives derived
/// outputs (port split off `ip:port`, address copies, syslog facility/severity, URL parts).
pub fn convert(f: &RawField, target: &str, year: i32) -> (String, bool, Vec<(String, String)>) {
    let x = &f.expr;
    let dashy = f.values.iter().any(|v| v.is_empty());
    let clean = if dashy {
        format!("nullif({x}, '')")
    } else {
        x.clone()
    };
    let mut extra = Vec::new();
    let ft = target_type(target);
    let expr = match (&f.ty, ft) {
        (ValueType::IpPort, Some(FieldType::Ip)) => {
            let base = target.trim_end_matches(".ip");
            extra.push((
                format!("{base}.port"),
                format!("try_cast(regexp_extract({x}, '^\\[?[0-9A-Fa-f:.]+?\\]?[:/](\\d+)', 1) as BIGINT)"),
            ));
            format!("regexp_extract({x}, '^\\[?([0-9A-Fa-f:.]+?)\\]?[:/]\\d+', 1)")
        }
        (ValueType::IpPort, Some(t)) if t.is_integer() => {
            format!("try_cast(regexp_extract({x}, '[:/](\\d+)', 1) as BIGINT)")
        }
        (ValueType::Timestamp(i), _) => time_expr(*i, x, year),
        (_, Some(t)) if t.is_integer() => format!("try_cast({x} as BIGINT)"),
        (_, Some(t)) if t.is_numeric() => format!("try_cast({x} as DOUBLE)"),
        (_, Some(FieldType::Ip)) => format!("if(is_ip({x}), {x}, NULL)"),
        _ => match target {
            "network.transport" | "network.protocol" => format!("lower({clean})"),
            "network.direction" => format!(
                "CASE lower({x}) WHEN 'outgoing' THEN 'outbound' WHEN 'incoming' THEN 'inbound' WHEN 'inbound' THEN 'inbound' WHEN 'outbound' THEN 'outbound' WHEN 'internal' THEN 'internal' WHEN 'external' THEN 'external' ELSE NULL END"
            ),
            "http.request.method" => format!("upper({clean})"),
            "http.version" => format!("regexp_replace({clean}, '^HTTP/', '')"),
            "log.level" => format!("lower({clean})"),
            _ => clean.clone(),
        },
    };
    if target == "log.syslog.priority" {
        extra.push((
            "log.syslog.facility.code".into(),
            format!("try_cast({x} as BIGINT) / 8"),
        ));
        extra.push((
            "log.syslog.severity.code".into(),
            format!("try_cast({x} as BIGINT) % 8"),
        ));
    }
    if let Some(base) = target.strip_suffix(".ip")
        && ["source", "destination", "client", "server"].contains(&base)
    {
        let addr = if f.ty == ValueType::IpPort {
            expr.clone()
        } else {
            clean.clone()
        };
        extra.push((format!("{base}.address"), addr));
    }
    if target == "url.original" {
        if f.ty == ValueType::Url {
            extra.push((
                "url.scheme".into(),
                format!("nullif(url_extract_protocol({x}), '')"),
            ));
            extra.push((
                "url.domain".into(),
                format!("nullif(url_extract_host({x}), '')"),
            ));
            extra.push((
                "url.path".into(),
                format!("nullif(url_extract_path({x}), '')"),
            ));
            extra.push((
                "url.query".into(),
                format!("nullif(url_extract_query({x}), '')"),
            ));
        } else if f.ty == ValueType::Path {
            extra.push(("url.path".into(), format!("regexp_extract({x}, '^[^?#]*')")));
            extra.push((
                "url.query".into(),
                format!("nullif(regexp_extract({x}, '\\?([^#]*)', 1), '')"),
            ));
        }
    }
    let plain = expr == *x && f.raw.as_deref() == Some(x.trim_matches('"'));
    (expr, plain, extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(source: &str, values: &[&str], context: &[&str]) -> RawField {
        let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        RawField {
            source: source.into(),
            expr: format!("\"{source}\""),
            raw: Some(source.into()),
            ty: super::super::fields::dominant(values.iter().map(String::as_str)),
            values,
            context: context.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn key_synonyms_and_context() {
        assert_eq!(
            choose(&raw("srcip", &["10.0.0.1"], &[]), "v").0,
            "source.ip"
        );
        assert_eq!(
            choose(&raw("dst_port", &["443"], &[]), "v").0,
            "destination.port"
        );
        assert_eq!(
            choose(&raw("sourceIPAddress", &["10.0.0.1"], &[]), "v").0,
            "source.ip"
        );
        assert_eq!(
            choose(&raw("proto", &["6"], &[]), "v").0,
            "network.iana_number"
        );
        assert_eq!(
            choose(&raw("t0_2", &["10.0.0.1"], &["from"]), "v").0,
            "source.ip"
        );
        assert_eq!(
            choose(&raw("t0_3", &["22"], &["port"]), "v").0,
            "source.port"
        );
        assert_eq!(choose(&raw("devname", &["x"], &[]), "v").0, "observer.name");
        assert_eq!(choose(&raw("weird", &["x"], &[]), "acme").0, "acme.weird");
        // a synonym whose type does not fit falls through
        assert_eq!(
            choose(&raw("src", &["not an ip"], &[]), "acme").0,
            "acme.src"
        );
    }

    #[test]
    fn conversions() {
        let f = raw("src", &["10.0.0.1:80"], &[]);
        let (e, _, extra) = convert(&f, "source.ip", 2024);
        assert!(e.contains("regexp_extract"));
        assert_eq!(extra[0].0, "source.port");
    }
}

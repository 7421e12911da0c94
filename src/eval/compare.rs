//! The comparison rules of EVALUATION.md: flattening to dotted keys, which keys are scored
//! (core, categorization, vendor, excluded) and when an output value equals an expected one.

use super::dataset::TzSpec;
use crate::model::{FieldType, catalog};
use chrono::{DateTime, Datelike, NaiveDateTime};
use serde_json::Value as Json;
use std::net::IpAddr;

/// Flattens a JSON document to dotted keys. Objects are walked (their keys may already be
/// dotted), arrays and scalars are leaves, empty objects and nulls vanish.
pub fn flatten(doc: &Json) -> Vec<(String, Json)> {
    fn walk(prefix: &str, v: &Json, out: &mut Vec<(String, Json)>) {
        match v {
            Json::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Json::Null => {}
            other => out.push((prefix.to_string(), other.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", doc, &mut out);
    out
}

/// The ECS categorization fields, scored on their own.
pub const CATEGORIZATION: [&str; 4] = [
    "event.kind",
    "event.category",
    "event.type",
    "event.outcome",
];

/// Keys never scored (EVALUATION.md): harness bookkeeping and enrichment. `*` stands for one
/// or more dotted segments.
pub const EXCLUDED: &[&str] = &[
    // bookkeeping
    "ecs.version",
    "event.ingested",
    "event.created",
    "event.original",
    "event.timezone",
    "event.module",
    "event.dataset",
    "tags",
    "input.type",
    "log.file.path",
    "log.offset",
    "agent.*",
    "data_stream.*",
    "elastic_agent.*",
    "_conf.*",
    "_tmp.*",
    "fileset.*",
    "service.type",
    // enrichment
    "*.geo.*",
    "*.as.*",
    "user_agent.*",
    "related.*",
    "network.community_id",
    "*.registered_domain",
    "*.top_level_domain",
    "*.subdomain",
];

/// Enrichment exceptions: kept although a pattern above matches.
const KEPT: &[&str] = &["user_agent.original"];

/// What a key of an expected or produced document counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyClass {
    /// An ECS field that is scored for precision and recall.
    Core,
    /// `event.kind/category/type/outcome`.
    Categorization,
    /// `message`: its content is a per-integration convention.
    Message,
    /// Bookkeeping or enrichment.
    Excluded,
    /// Not an ECS field (`cisco.asa.*`): scored only for value retention.
    Vendor,
}

/// Classifies a flattened key.
pub fn classify(key: &str) -> KeyClass {
    if CATEGORIZATION.contains(&key) {
        KeyClass::Categorization
    } else if key == "message" {
        KeyClass::Message
    } else if is_excluded(key) {
        KeyClass::Excluded
    } else if catalog().is_ecs(key) {
        KeyClass::Core
    } else {
        KeyClass::Vendor
    }
}

/// Whether a key matches the exclusion list.
pub fn is_excluded(key: &str) -> bool {
    if KEPT.contains(&key) {
        return false;
    }
    let segs: Vec<&str> = key.split('.').collect();
    EXCLUDED.iter().any(|p| {
        let pat: Vec<&str> = p.split('.').collect();
        glob_segments(&pat, &segs)
    })
}

/// `*` matches one or more segments; other pattern segments match exactly.
fn glob_segments(pat: &[&str], segs: &[&str]) -> bool {
    match (pat.first(), segs.first()) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some(&"*"), Some(_)) => (1..=segs.len()).any(|n| glob_segments(&pat[1..], &segs[n..])),
        (Some(p), Some(s)) => p == s && glob_segments(&pat[1..], &segs[1..]),
    }
}

/// How a field's values are compared, from its name and catalog type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// `@timestamp`, `*.start`, `*.end`, ECS `date` fields: instants.
    Date,
    /// ECS number types: numerically.
    Number,
    /// Everything else: trimmed text, IPs parsed, MACs normalized, numbers numerically when
    /// one side is a JSON number.
    Other,
}

impl ValueKind {
    /// The kind of a flattened key.
    pub fn of(key: &str) -> ValueKind {
        let ty = catalog().get(key).map(|d| &d.ty);
        if key == "@timestamp"
            || key.ends_with(".start")
            || key.ends_with(".end")
            || ty.is_some_and(FieldType::is_date)
        {
            ValueKind::Date
        } else if ty.is_some_and(FieldType::is_numeric) {
            ValueKind::Number
        } else {
            ValueKind::Other
        }
    }
}

/// What the comparison of timestamps needs to know about the event.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeContext<'a> {
    /// The raw event: a year-less format is one whose text lacks the expected year.
    pub raw: &'a str,
    /// The stream's configured zone for zone-less output.
    pub tz: Option<TzSpec>,
}

/// Whether the produced value `got` equals the expected value `want` for a field of `kind`.
/// Arrays are compared as sets (a one-element array equals its element).
pub fn values_equal(want: &Json, got: &Json, kind: ValueKind, time: &TimeContext) -> bool {
    let want_items = as_items(want);
    let got_items = as_items(got);
    if want_items.len() == 1 && got_items.len() == 1 {
        return scalar_equal(&want_items[0], &got_items[0], kind, time);
    }
    want_items
        .iter()
        .all(|w| got_items.iter().any(|g| scalar_equal(w, g, kind, time)))
        && got_items
            .iter()
            .all(|g| want_items.iter().any(|w| scalar_equal(w, g, kind, time)))
}

/// Array elements; text holding a JSON array (SPL arrays written as text) counts as one.
fn as_items(v: &Json) -> Vec<Json> {
    match v {
        Json::Array(items) => items.clone(),
        Json::String(s) if s.trim_start().starts_with('[') => {
            match serde_json::from_str::<Json>(s.trim()) {
                Ok(Json::Array(items)) => items,
                _ => vec![v.clone()],
            }
        }
        _ => vec![v.clone()],
    }
}

fn scalar_equal(want: &Json, got: &Json, kind: ValueKind, time: &TimeContext) -> bool {
    if let (Json::Object(_), Json::Object(_)) = (want, got) {
        let (w, g) = (flatten(want), flatten(got));
        return w.len() == g.len()
            && w.iter().all(|(k, wv)| {
                g.iter()
                    .any(|(gk, gv)| gk == k && values_equal(wv, gv, ValueKind::of(k), time))
            });
    }
    if kind == ValueKind::Date && instants_equal(want, got, time) {
        return true;
    }
    let numeric = kind == ValueKind::Number || want.is_number() || got.is_number();
    if numeric && let (Some(a), Some(b)) = (as_f64(want), as_f64(got)) {
        return (a - b).abs() <= 1e-9 * a.abs().max(1.0);
    }
    match (text_of(want), text_of(got)) {
        (Some(a), Some(b)) => {
            let (a, b) = (a.trim(), b.trim());
            if a == b {
                return true;
            }
            if let (Ok(x), Ok(y)) = (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
                return x.to_canonical() == y.to_canonical();
            }
            match (mac_hex(a), mac_hex(b)) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            }
        }
        _ => want == got,
    }
}

/// Scalars as text (`true`, `443`, strings); `None` for arrays and objects.
fn text_of(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn as_f64(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// A MAC address as 12 lowercase hex digits: `AA-BB-CC-DD-EE-FF`, `aa:bb:..`,
/// `aabb.ccdd.eeff` or bare `aabbccddeeff`.
fn mac_hex(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let ok = match bytes.len() {
        17 => {
            let sep = bytes[2];
            (sep == b':' || sep == b'-') && (0..6).all(|i| i == 5 || bytes[i * 3 + 2] == sep)
        }
        14 => bytes[4] == b'.' && bytes[9] == b'.',
        12 => true,
        _ => false,
    };
    let hex: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    (ok && hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// A parsed timestamp: the instant when the text had a zone (or was an epoch number), and
/// the wall-clock time.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    /// UTC milliseconds when the zone is known and not UTC.
    zoned_ms: Option<i64>,
    /// The wall-clock time as written (UTC for `Z` and for epochs).
    local: NaiveDateTime,
    /// No zone, or `Z`/`+00:00`: the output may be zone-less text printed as UTC.
    maybe_zoneless: bool,
}

fn parse_stamp(v: &Json) -> Option<Stamp> {
    let from_epoch = |f: f64| -> Option<Stamp> {
        let ms = match f.abs() {
            x if x < 1e11 => f * 1e3,
            x if x < 1e14 => f,
            x if x < 1e17 => f / 1e3,
            _ => f / 1e6,
        };
        let dt = DateTime::from_timestamp_millis(ms.floor() as i64)?;
        Some(Stamp {
            zoned_ms: Some(dt.timestamp_millis()),
            local: dt.naive_utc(),
            maybe_zoneless: false,
        })
    };
    let s = match v {
        Json::Number(n) => return from_epoch(n.as_f64()?),
        Json::String(s) => s.trim(),
        _ => return None,
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && s.len() >= 9 {
        return from_epoch(s.parse().ok()?);
    }
    let zoned = DateTime::parse_from_rfc3339(s).ok().or_else(|| {
        [
            "%Y-%m-%dT%H:%M:%S%.f%z",
            "%Y-%m-%d %H:%M:%S%.f%z",
            "%Y-%m-%d %H:%M:%S%.f %z",
            "%Y-%m-%dT%H:%M:%S%.f %z",
        ]
        .iter()
        .find_map(|f| DateTime::parse_from_str(s, f).ok())
    });
    if let Some(dt) = zoned {
        let utc_offset = dt.offset().local_minus_utc() == 0;
        return Some(Stamp {
            zoned_ms: (!utc_offset).then(|| dt.timestamp_millis()),
            local: dt.naive_local(),
            maybe_zoneless: utc_offset,
        });
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|local| Stamp {
            zoned_ms: None,
            local,
            maybe_zoneless: true,
        })
}

/// Same instant to the millisecond. Output without a zone (or printed as UTC) may match in
/// UTC or in the stream's configured zone; when the raw event does not contain the expected
/// year (RFC 3164 syslog, Cisco), the year is ignored.
fn instants_equal(want: &Json, got: &Json, time: &TimeContext) -> bool {
    let (Some(w), Some(g)) = (parse_stamp(want), parse_stamp(got)) else {
        return false;
    };
    let want_ms = w
        .zoned_ms
        .unwrap_or_else(|| w.local.and_utc().timestamp_millis());
    let mut candidates = Vec::with_capacity(2);
    if let Some(ms) = g.zoned_ms {
        candidates.push(ms);
    }
    if g.maybe_zoneless {
        candidates.push(g.local.and_utc().timestamp_millis());
        if let Some(ms) = time.tz.and_then(|tz| tz.local_to_utc_ms(g.local)) {
            candidates.push(ms);
        }
    }
    if candidates.contains(&want_ms) {
        return true;
    }
    let Some(want_utc) = DateTime::from_timestamp_millis(want_ms) else {
        return false;
    };
    // The year as written in the expected zone is the one the raw text would show.
    if contains_year(time.raw, w.local.year()) {
        return false;
    }
    let year = want_utc.year();
    candidates.iter().any(|&ms| {
        DateTime::from_timestamp_millis(ms)
            .and_then(|dt| dt.with_year(year))
            .is_some_and(|dt| dt.timestamp_millis() == want_ms)
    })
}

/// Whether `raw` contains `year` as a 4-digit number not part of a longer one.
fn contains_year(raw: &str, year: i32) -> bool {
    let y = year.to_string();
    let bytes = raw.as_bytes();
    raw.match_indices(&y).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + y.len()).copied();
        !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eq(want: Json, got: Json, kind: ValueKind) -> bool {
        values_equal(&want, &got, kind, &TimeContext::default())
    }

    #[test]
    fn flattening_walks_objects_and_keeps_arrays() {
        let doc = json!({"a": {"b": 1, "c.d": "x", "e": {}}, "f": [1, 2], "g": null, "h": {"i": {"j": true}}});
        let flat = flatten(&doc);
        assert_eq!(
            flat,
            vec![
                ("a.b".to_string(), json!(1)),
                ("a.c.d".to_string(), json!("x")),
                ("f".to_string(), json!([1, 2])),
                ("h.i.j".to_string(), json!(true)),
            ]
        );
    }

    #[test]
    fn keys_are_classified_by_the_exclusion_lists_and_the_catalog() {
        for (key, class) in [
            ("source.ip", KeyClass::Core),
            ("@timestamp", KeyClass::Core),
            ("labels.env", KeyClass::Core),
            ("user_agent.original", KeyClass::Core),
            ("event.kind", KeyClass::Categorization),
            ("event.outcome", KeyClass::Categorization),
            ("message", KeyClass::Message),
            ("ecs.version", KeyClass::Excluded),
            ("event.original", KeyClass::Excluded),
            ("agent.id", KeyClass::Excluded),
            ("source.geo.city_name", KeyClass::Excluded),
            ("source.geo.location.lat", KeyClass::Excluded),
            ("destination.as.number", KeyClass::Excluded),
            ("user_agent.name", KeyClass::Excluded),
            ("related.ip", KeyClass::Excluded),
            ("url.registered_domain", KeyClass::Excluded),
            ("_conf.tz_offset", KeyClass::Excluded),
            ("cisco.asa.rule_name", KeyClass::Vendor),
            ("source.made_up", KeyClass::Vendor),
        ] {
            assert_eq!(classify(key), class, "{key}");
        }
    }

    #[test]
    fn value_kinds_come_from_names_and_types() {
        assert_eq!(ValueKind::of("@timestamp"), ValueKind::Date);
        assert_eq!(ValueKind::of("event.start"), ValueKind::Date);
        assert_eq!(ValueKind::of("vendor.session.end"), ValueKind::Date);
        assert_eq!(ValueKind::of("file.mtime"), ValueKind::Date);
        assert_eq!(ValueKind::of("source.port"), ValueKind::Number);
        assert_eq!(ValueKind::of("source.ip"), ValueKind::Other);
    }

    #[test]
    fn strings_are_trimmed_and_exact() {
        assert!(eq(json!(" alice "), json!("alice"), ValueKind::Other));
        assert!(!eq(json!("Alice"), json!("alice"), ValueKind::Other));
        assert!(!eq(json!("alice"), json!(null), ValueKind::Other));
    }

    #[test]
    fn ip_addresses_compare_parsed() {
        assert!(eq(
            json!("2a02:cf40::1"),
            json!("2a02:CF40:0:0::0001"),
            ValueKind::Other
        ));
        assert!(eq(
            json!("10.0.0.1"),
            json!("::ffff:10.0.0.1"),
            ValueKind::Other
        ));
        assert!(!eq(json!("10.0.0.1"), json!("10.0.0.2"), ValueKind::Other));
    }

    #[test]
    fn mac_addresses_ignore_case_and_separators() {
        let want = json!("90-10-92-6E-EA-A7");
        for got in [
            "90:10:92:6e:ea:a7",
            "9010.926e.eaa7",
            "9010926EEAA7",
            "90-10-92-6e-ea-a7",
        ] {
            assert!(eq(want.clone(), json!(got), ValueKind::Other), "{got}");
        }
        assert!(!eq(want, json!("90:10:92:6e:ea:a8"), ValueKind::Other));
        // Two bare hex strings that are not MAC-shaped stay text.
        assert!(!eq(json!("abc"), json!("ABC"), ValueKind::Other));
    }

    #[test]
    fn numbers_compare_numerically() {
        assert!(eq(json!(443), json!("443"), ValueKind::Other));
        assert!(eq(json!("443"), json!(443), ValueKind::Number));
        assert!(eq(json!(1.5), json!("1.50"), ValueKind::Other));
        assert!(eq(json!("200"), json!("200.0"), ValueKind::Number));
        assert!(!eq(json!(443), json!("https"), ValueKind::Other));
        // Two texts in a keyword field stay text: "001" is not "1".
        assert!(!eq(json!("001"), json!("1"), ValueKind::Other));
        assert!(eq(json!(true), json!("true"), ValueKind::Other));
    }

    #[test]
    fn arrays_compare_as_sets() {
        assert!(eq(
            json!(["a", "b"]),
            json!(["b", "a", "a"]),
            ValueKind::Other
        ));
        assert!(eq(json!(["network"]), json!("network"), ValueKind::Other));
        assert!(eq(json!("network"), json!(["network"]), ValueKind::Other));
        assert!(eq(
            json!(["a", "b"]),
            json!("[\"b\",\"a\"]"),
            ValueKind::Other
        ));
        assert!(!eq(json!(["a", "b"]), json!(["a"]), ValueKind::Other));
        assert!(!eq(json!(["a"]), json!(["a", "c"]), ValueKind::Other));
        assert!(eq(
            json!([80, 443]),
            json!(["443", "80"]),
            ValueKind::Number
        ));
    }

    #[test]
    fn objects_in_arrays_compare_by_their_fields() {
        let want = json!([{"name": "a", "ttl": 60}, {"name": "b", "ttl": 30}]);
        let got = json!([{"name": "b", "ttl": "30"}, {"name": "a", "ttl": 60}]);
        assert!(eq(want.clone(), got, ValueKind::Other));
        assert!(!eq(want, json!([{"name": "a"}]), ValueKind::Other));
    }

    fn at(want: &str, got: Json, raw: &str, tz: Option<&str>) -> bool {
        let time = TimeContext {
            raw,
            tz: tz.and_then(TzSpec::parse),
        };
        values_equal(&json!(want), &got, ValueKind::Date, &time)
    }

    #[test]
    fn instants_compare_to_the_millisecond() {
        let raw = "2016-12-26 16:22:08 event";
        assert!(at(
            "2016-12-26T14:22:08.000Z",
            json!("2016-12-26T16:22:08+02:00"),
            raw,
            None
        ));
        assert!(at(
            "2016-12-26T14:22:08.123Z",
            json!("2016-12-26T14:22:08.123456Z"),
            raw,
            None
        ));
        assert!(!at(
            "2016-12-26T14:22:08.123Z",
            json!("2016-12-26T14:22:08.124Z"),
            raw,
            None
        ));
        assert!(at(
            "2016-12-26T14:22:08.000Z",
            json!("2016-12-26 14:22:08"),
            raw,
            None
        ));
        // Epoch seconds and milliseconds.
        assert!(at(
            "2022-03-17T01:11:43.348Z",
            json!(1647479503.348),
            "1647479503.348",
            None
        ));
        assert!(at(
            "2022-03-17T01:11:43.348Z",
            json!("1647479503348"),
            "x",
            None
        ));
        // A different instant with an explicit zone never matches.
        assert!(!at(
            "2016-12-26T14:22:08.000Z",
            json!("2016-12-26T14:22:08+02:00"),
            raw,
            None
        ));
    }

    #[test]
    fn zoneless_output_matches_in_utc_or_the_configured_zone() {
        let raw = "2016-12-26 16:22:08 event";
        let want = "2016-12-26T16:22:08.000+02:00";
        // Zone-less wall time read in the configured zone.
        assert!(at(want, json!("2016-12-26T16:22:08Z"), raw, Some("GMT+2")));
        assert!(at(want, json!("2016-12-26 16:22:08"), raw, Some("+02:00")));
        // Without a configured zone only the UTC reading counts.
        assert!(!at(want, json!("2016-12-26T16:22:08Z"), raw, None));
        assert!(at(want, json!("2016-12-26T14:22:08Z"), raw, None));
        // Named zones follow DST: Chicago is UTC-5 in September.
        assert!(at(
            "2022-09-05T16:05:26.000-05:00",
            json!("2022-09-05T16:05:26Z"),
            "Sep  5 16:05:26 dev snort",
            Some("America/Chicago")
        ));
        // An explicit non-UTC zone is trusted, not re-read.
        assert!(!at(
            want,
            json!("2016-12-26T16:22:08+03:00"),
            raw,
            Some("+02:00")
        ));
    }

    #[test]
    fn the_year_is_ignored_for_year_less_formats() {
        let raw = "Feb 21 21:54:44 localhost sshd[3402]: Accepted";
        assert!(at(
            "2025-02-21T21:54:44.000Z",
            json!("2024-02-21T21:54:44Z"),
            raw,
            None
        ));
        assert!(!at(
            "2025-02-21T21:54:44.000Z",
            json!("2024-02-21T21:54:45Z"),
            raw,
            None
        ));
        // The raw event names the year: it must be right.
        let raw = "<166>Aug 18 2026 18:24:29 asa-fw-01 : %ASA-6-302020";
        assert!(!at(
            "2026-08-18T18:24:29.000Z",
            json!("2025-08-18T18:24:29Z"),
            raw,
            None
        ));
        assert!(at(
            "2026-08-18T18:24:29.000Z",
            json!("2026-08-18T18:24:29Z"),
            raw,
            None
        ));
        // Year-less and zone-less together.
        assert!(at(
            "2022-09-05T16:05:26.000-05:00",
            json!("2024-09-05T16:05:26"),
            "Sep  5 16:05:26 dev snort",
            Some("America/Chicago")
        ));
    }

    #[test]
    fn years_inside_longer_numbers_do_not_count() {
        assert!(contains_year("Aug 18 2026 18:24", 2026));
        assert!(contains_year("2016/10/25 14:49:34", 2016));
        assert!(!contains_year("id=120265 n=2026123", 2026));
    }
}

//! Mapping of inferred fields onto the unified model: each raw field gets a target (an ECS
//! field, or a vendor-prefixed name when nothing fits), the SPL expression that produces the
//! typed value, a confidence in [0, 1] and a reason. Knowledge comes from `knowledge` tables.

use super::fields::{ValueType, classify, time_expr};
use super::knowledge::{CONTEXT, PRODUCT_SYNONYMS, SYNONYMS};
use super::learned::Learned;
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
    /// Read from a `key=value` pair (in free text or a key=value payload).
    pub kv: bool,
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
/// `MD5=…,SHA256=…`: hash algorithm names with hexadecimal digests, comma-separated.
fn is_hash_list(v: &str) -> bool {
    let parts: Vec<&str> = v.split(',').collect();
    parts.iter().all(|p| {
        p.trim().split_once('=').is_some_and(|(a, h)| {
            matches!(
                a.to_ascii_uppercase().as_str(),
                "MD5" | "SHA1" | "SHA256" | "SHA384" | "SHA512" | "IMPHASH"
            ) && !h.is_empty()
                && h.chars().all(|c| c.is_ascii_hexdigit())
        })
    })
}

/// `DOMAIN\\user`: one backslash between two non-empty names.
fn is_domain_user(v: &str) -> bool {
    match v.split_once('\\') {
        Some((d, u)) => !d.is_empty() && !u.is_empty() && !u.contains('\\') && !d.contains('/'),
        None => false,
    }
}

/// `0x` and hexadecimal digits (how Windows writes process and logon ids).
fn is_hex_number(v: &str) -> bool {
    v.strip_prefix("0x")
        .or_else(|| v.strip_prefix("0X"))
        .is_some_and(|h| !h.is_empty() && h.len() <= 15 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

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

/// Whether values of `ty` can fill `target` (the lenient check used for key synonyms).
pub fn accepts(target: &str, ty: &ValueType) -> bool {
    compatible(target, ty, false)
}

/// Whether values of `ty` can fill `target`.
fn compatible(target: &str, ty: &ValueType, strict: bool) -> bool {
    let Some(ft) = target_type(target) else {
        return false;
    };
    match ft {
        FieldType::Ip => ty.is_ip() || *ty == ValueType::IpPort,
        // Epoch seconds are integers by shape; a date key says they are times.
        FieldType::Date => {
            matches!(ty, ValueType::Timestamp(_)) || (!strict && *ty == ValueType::Integer)
        }
        t if t.is_integer() => {
            *ty == ValueType::Integer
                || (target.ends_with(".port") && *ty == ValueType::IpPort)
                || (target == "event.duration" && *ty == ValueType::Duration)
        }
        t if t.is_numeric() => matches!(ty, ValueType::Integer | ValueType::Float),
        _ => {
            if target.ends_with(".address") && target.starts_with("email") {
                return *ty == ValueType::Email;
            }
            if target.ends_with(".mac") {
                return *ty == ValueType::Mac;
            }
            // Interface names are short words, never paths, addresses or bare numbers (a
            // number is an interface index: `*.interface.id`).
            if target.ends_with(".interface.name") {
                return !matches!(
                    ty,
                    ValueType::Path
                        | ValueType::Url
                        | ValueType::Ipv4
                        | ValueType::Ipv6
                        | ValueType::Text
                        | ValueType::Integer
                        | ValueType::Float
                );
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
        ValueType::Severity => "log.level",
        ValueType::Duration => "event.duration",
        _ => return None,
    })
}

/// Picks a target for one field: override, key synonym, context word, value type, else the
/// vendor prefix.
pub fn choose(f: &RawField, prefix: &str, learned: &Learned) -> (String, f64, String) {
    let (t, c, r) = choose_by_name(f, prefix, learned);
    // An endpoint's address that is always an IP is its IP (`clientAddr` → `client.ip`); the
    // text path copies it back to `*.address` as pipelines do.
    if let Some(base) = t.strip_suffix(".address")
        && endpoint(&format!("{base}.ip"))
        && !f.values.is_empty()
        && f.values.iter().all(|v| classify(v).is_ip())
    {
        return (
            format!("{base}.ip"),
            c,
            format!("{r}; the values are IP addresses, so {base}.ip"),
        );
    }
    // A code names a kind of event (`4625`, `302013`, `AUTH_FAIL`); a unique identifier of
    // one event (a UUID, a long hash or number) is its id.
    if t == "event.code"
        && !f.values.is_empty()
        && f.values.iter().all(|v| {
            v.len() > 16
                || matches!(
                    classify(v),
                    ValueType::Uuid | ValueType::Md5 | ValueType::Sha1
                )
        })
    {
        return (
            "event.id".into(),
            c,
            format!("{r}; values are unique identifiers, so event.id"),
        );
    }
    (t, c, r)
}

fn choose_by_name(f: &RawField, prefix: &str, learned: &Learned) -> (String, f64, String) {
    let key = f.source.rsplit(['.', '/']).next().unwrap_or(&f.source);
    // A `MAC=` holding a whole link-layer header (netfilter): destination MAC, source MAC, type.
    if normalize(key) == "mac" && !f.values.is_empty() && f.values.iter().all(|v| is_link_header(v))
    {
        return (
            "destination.mac".into(),
            0.8,
            format!("key `{key}` holds a link-layer header: destination then source MAC"),
        );
    }
    // The kernel writes netfilter logs; it is not a process of the monitored host.
    if f.source == "syslog_program" && f.values.iter().all(|v| v == "kernel") {
        return (
            format!("{prefix}.{}", f.source),
            0.3,
            "the kernel is not a process".into(),
        );
    }
    // A level where a syslog header has its host (`May 19 11:52:37 INFO  uvm[0]:`): some
    // appliances write the severity there.
    if matches!(f.source.as_str(), "syslog_host" | "syslog_hostname")
        && !f.values.is_empty()
        && f.values.iter().all(|v| classify(v) == ValueType::Severity)
    {
        return (
            "log.level".into(),
            0.7,
            "severity words where the header has its host: the level".into(),
        );
    }
    let product = PRODUCT_SYNONYMS
        .iter()
        .filter(|(m, _, _)| prefix == *m)
        .map(|(_, s, t)| (*s, *t));
    let synonyms: Vec<(&str, &str)> = product.chain(SYNONYMS.iter().copied()).collect();
    let path = key_path(f);
    let forms = super::learned::forms(&path);
    let mut unknown_parent = false;
    // A source that already writes model field names (`log.level`, `host.hostname`).
    let dotted = path.join(".");
    if path.len() >= 2
        && !CATEGORIZATION.contains(&dotted.as_str())
        && model::catalog().get(&dotted).is_some()
        && (compatible(&dotted, &f.ty, false) || (dotted.ends_with(".ip") && f.ty.is_ip()))
    {
        return (
            dotted.clone(),
            0.95,
            format!("key `{dotted}` is the model field's own name"),
        );
    }
    for (pass, k) in [normalize(&f.source), normalize(key)]
        .into_iter()
        .enumerate()
    {
        if pass == 1 {
            // A generic leaf read through its ancestors (`httpMessage.path` → `url.path`).
            if let Some(t) = super::entities::context_field(&path)
                && (compatible(&t, &f.ty, false) || (t.ends_with(".ip") && f.ty.is_ip()))
            {
                return (
                    t.clone(),
                    0.8,
                    format!("key `{}` under its parent means {t}", path.join(".")),
                );
            }
            // The key read as entity + attribute (`actor.id` → `user.id`), then what other
            // products did with the same parent/leaf pair, before the leaf's own synonyms.
            if let Some(t) = super::entities::compose(&path)
                .into_iter()
                .find(|t| compatible(t, &f.ty, true) || (t.ends_with(".ip") && f.ty.is_ip()))
            {
                return (
                    t.clone(),
                    0.8,
                    format!(
                        "key `{}` names an entity and its attribute: {t}",
                        path.join(".")
                    ),
                );
            }
            if forms.len() == 2
                && let Some(c) = learned_choice(f, learned, &forms[0])
            {
                return c;
            }
            // A generic leaf under a parent nothing explains is not mapped by its name.
            if path.len() >= 2 && path.last().is_some_and(|l| super::entities::is_generic(l)) {
                unknown_parent = true;
                break;
            }
        }
        for (_, t) in synonyms.iter().filter(|(s, _)| *s == k) {
            let (t, strict) = match t.strip_suffix('?') {
                Some(t) => (t, true),
                None => (*t, false),
            };
            // Application protocols (`HTTP`) are not transports.
            if t == "network.transport"
                && !matches!(f.ty, ValueType::Integer | ValueType::Protocol)
                && !f.values.iter().any(|v| v.contains('/'))
            {
                return (
                    "network.protocol".into(),
                    0.8,
                    format!("key `{key}` holds application protocols"),
                );
            }
            // Protocol numbers go to the IANA number.
            if t == "network.transport" && f.ty == ValueType::Integer {
                return (
                    "network.iana_number".into(),
                    0.8,
                    format!("key `{key}` holds protocol numbers"),
                );
            }
            // A column mixing addresses with junk (`not_an_IP`) still holds addresses.
            let mixed_ip = !strict
                && target_type(t) == Some(FieldType::Ip)
                && f.values.iter().any(|v| {
                    let v = v.trim_start_matches('[');
                    let v = v.split(']').next().unwrap_or(v);
                    v.parse::<std::net::IpAddr>().is_ok()
                });
            if compatible(t, &f.ty, strict) || mixed_ip {
                return (
                    t.to_string(),
                    if strict { 0.7 } else { 0.9 },
                    format!("key `{key}` is a known name for {t} ({})", f.ty.name()),
                );
            }
            // An endpoint named by host name (`sourceIPAddress: ec2.amazonaws.com`).
            if !strict && endpoint(t) && f.ty == ValueType::Domain {
                let base = t.trim_end_matches(".ip");
                return (
                    format!("{base}.address"),
                    0.8,
                    format!("key `{key}` names the {base} endpoint, here by host name"),
                );
            }
        }
    }
    if !unknown_parent
        && let Some(c) = forms
            .last()
            .and_then(|form| learned_choice(f, learned, form))
    {
        return c;
    }
    // A label of two words before the value (`Source IP: 10.0.0.1`, `User Name: bob`).
    if let [.., a, b] = f.context.as_slice()
        && a.chars().all(char::is_alphanumeric)
        && let Some((_, t)) = SYNONYMS
            .iter()
            .find(|(s, _)| *s == normalize(&format!("{a}{b}")))
        && !t.ends_with('?')
        && compatible(t, &f.ty, false)
    {
        return (
            t.to_string(),
            0.75,
            format!("{} value labelled `{a} {b}`", f.ty.name()),
        );
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
    // A key named for a time whose values are times or epoch numbers.
    if let Some(t) = super::entities::time_field(&path)
        && (matches!(f.ty, ValueType::Timestamp(_))
            || (matches!(
                f.ty,
                ValueType::Integer | ValueType::Float | ValueType::Word
            ) && !f.values.is_empty()
                && f.values.iter().all(|v| epoch_like(v))))
    {
        return (
            t.to_string(),
            if t == "@timestamp" { 0.55 } else { 0.6 },
            format!(
                "key `{}` names a time and holds {}",
                path.join("."),
                f.ty.name()
            ),
        );
    }
    // Words that only ever name a traffic direction.
    const DIRECTIONS: &[&str] = &[
        "inbound", "outbound", "ingress", "egress", "internal", "external", "incoming", "outgoing",
    ];
    if !f.values.is_empty()
        && f.values
            .iter()
            .all(|v| DIRECTIONS.contains(&v.to_ascii_lowercase().as_str()))
    {
        return (
            "network.direction".into(),
            0.6,
            "values are traffic directions".into(),
        );
    }
    // A URL under a named key is one of many links an API record carries (profile pages,
    // resource hrefs); only an unnamed position (a column, a slot of free text) is taken for
    // the URL of the event by its shape alone.
    let named = !is_slot(&f.source) && !is_column(&f.source);
    if let Some(t) = by_value(&f.ty).filter(|_| !(named && f.ty == ValueType::Url)) {
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

/// Seconds, milliseconds, microseconds or nanoseconds since 1970 between 2000 and 2100.
fn epoch_like(v: &str) -> bool {
    let v = v.trim();
    // Seconds with a fraction (`1470923133.026`).
    let v = match v.split_once('.') {
        Some((secs, frac))
            if secs.len() == 10 && !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) =>
        {
            secs
        }
        _ => v,
    };
    let Ok(n) = v.parse::<u64>() else {
        return false;
    };
    let secs = match v.len() {
        10 => n,
        13 => n / 1_000,
        16 => n / 1_000_000,
        19 => n / 1_000_000_000,
        _ => return false,
    };
    (946_684_800..4_102_444_800).contains(&secs)
}

/// Categorization fields take allowed values only; a source's own `event.type` is not one.
const CATEGORIZATION: [&str; 4] = [
    "event.kind",
    "event.category",
    "event.type",
    "event.outcome",
];

/// Products that must agree before a learned mapping is used.
const LEARNED_MIN_SUPPORT: usize = 2;
/// Share of the products with the key that must agree.
const LEARNED_MIN_SHARE: f64 = 0.3;

/// The key path of a field as learned knowledge sees it: its JSON or XML path; template
/// slots and synthetic names have none.
pub fn key_path(f: &RawField) -> Vec<&str> {
    if is_slot(&f.source) || f.source.contains('+') {
        return Vec::new();
    }
    // `parse-json` makes each top-level key a column, so the column is the path's first key.
    f.source.split('.').collect()
}

/// A field from learned knowledge: the best-supported candidate whose type fits the values.
fn learned_choice(f: &RawField, learned: &Learned, form: &str) -> Option<(String, f64, String)> {
    let candidates = learned.candidates_of(form);
    let c = candidates
        .iter()
        .find(|c| compatible(&c.field, &f.ty, true))?;
    if c.support < LEARNED_MIN_SUPPORT || c.share() < LEARNED_MIN_SHARE {
        return None;
    }
    let conf = (0.5 + 0.4 * c.share()).min(0.85);
    Some((
        c.field.clone(),
        conf,
        format!(
            "learned: key `{}` held {} in {} of {} products ({})",
            c.form,
            c.field,
            c.support,
            c.seen,
            f.ty.name()
        ),
    ))
}

/// `90:10:92:6e:ea:a7:90:10:73:ba:d6:77:08:00...`: at least two MACs and an EtherType.
fn is_link_header(v: &str) -> bool {
    let parts: Vec<&str> = v.split(':').collect();
    parts.len() >= 14
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `host.example.com/path` or `host.example.com:8080/path?q`: a URL without its scheme.
fn schemeless_url(v: &str) -> bool {
    let host_port = v.split(['/', '?', '#']).next().unwrap_or("");
    let host = host_port.split(':').next().unwrap_or("");
    let port_ok = host_port
        .split_once(':')
        .is_none_or(|(_, p)| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && port_ok
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|l| l.chars().all(|c| c.is_ascii_alphabetic()))
}

/// Endpoint fields that have an address, a port and a domain.
fn endpoint(target: &str) -> bool {
    matches!(
        target,
        "source.ip" | "destination.ip" | "client.ip" | "server.ip"
    )
}

/// Header-less CSV columns are named `col<n>` (see `suggest::csv_names`).
pub fn is_column(name: &str) -> bool {
    name.strip_prefix("col")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Template slots are named `t<i>_<j>` (see `synth::slot_name`): their names carry no meaning.
pub fn is_slot(name: &str) -> bool {
    slot_position(name).is_some()
}

/// The template and slot numbers of a template slot's name (`t3_7` → (3, 7)).
pub fn slot_position(name: &str) -> Option<(u32, u32)> {
    let (t, i) = name.strip_prefix('t')?.split_once('_')?;
    Some((t.parse().ok()?, i.parse().ok()?))
}

/// The conversion of a field's expression into the target's type; `extra` receives derived
/// outputs (port split off `ip:port`, address copies, syslog facility/severity, URL parts).
pub fn convert(f: &RawField, target: &str) -> (String, bool, Vec<(String, String)>) {
    convert_opts(f, target, true, false)
}

/// [`convert`]; `addresses` adds the `*.address` copies of endpoint IPs (the convention of
/// pipelines that parse text; key=value pipelines map the keys to the IPs directly).
pub fn convert_opts(
    f: &RawField,
    target: &str,
    addresses: bool,
    dash_literal: bool,
) -> (String, bool, Vec<(String, String)>) {
    let x = &f.expr;
    let dashy = f.values.iter().any(|v| v.is_empty());
    let dash = !dash_literal && f.values.iter().any(|v| v == "-");
    let clean = match (dashy, dash) {
        (true, true) => format!("nullif(nullif({x}, ''), '-')"),
        (true, false) => format!("nullif({x}, '')"),
        (false, true) => format!("nullif({x}, '-')"),
        (false, false) => x.clone(),
    };
    let key = normalize(f.source.rsplit(['.', '/']).next().unwrap_or(&f.source));
    let mut extra = Vec::new();
    let ft = target_type(target);
    if target == "destination.mac" && f.values.iter().all(|v| is_link_header(v)) {
        let mac = "[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}";
        extra.push((
            "source.mac".into(),
            format!("regexp_extract({x}, '^{mac}:({mac})', 1)"),
        ));
        return (format!("regexp_extract({x}, '^({mac})', 1)"), false, extra);
    }
    // Netfilter rule tags (`[RULESET-RULE-A]`): A accept, D drop, R reject.
    if key == "ruleactioncode" {
        return (
            format!(
                "CASE {x} WHEN 'A' THEN 'accept' WHEN 'D' THEN 'drop' WHEN 'R' THEN 'reject' ELSE NULL END"
            ),
            false,
            extra,
        );
    }
    // IANA protocol numbers also name the transport.
    if target == "network.iana_number" {
        extra.push((
            "network.transport".into(),
            format!("CASE try_cast({x} as BIGINT) WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 1 THEN 'icmp' WHEN 58 THEN 'ipv6-icmp' WHEN 47 THEN 'gre' WHEN 50 THEN 'esp' WHEN 132 THEN 'sctp' ELSE NULL END"),
        ));
    }
    // The end of a flow is when it was logged.
    if target == "event.end" {
        extra.push(("@timestamp".into(), String::new()));
    }
    // A syslog severity written out (`NOTICE`).
    if key == "severityname" {
        extra.push(("log.syslog.severity.name".into(), format!("lower({clean})")));
    }
    if key == "ciscoseverity" {
        extra.push((
            "log.level".into(),
            format!(
                "element_at(ARRAY['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'], try_cast({x} as BIGINT) + 1)"
            ),
        ));
    }
    // A fully qualified DNS name is written with its root dot (`host.example.com.`); the
    // model's names are without it.
    if target.starts_with("dns.")
        && target.ends_with(".name")
        && f.values.iter().any(|v| v.ends_with('.'))
    {
        return (
            format!("nullif(regexp_replace({clean}, '\\.$', ''), '')"),
            false,
            extra,
        );
    }
    // A path names its file: `process.name` from `process.executable`, `file.name` from
    // `file.path`, `dll.name` from `dll.path` (Windows and POSIX separators).
    let base = match target {
        "process.executable" => Some("process.name"),
        "process.parent.executable" => Some("process.parent.name"),
        "file.path" => Some("file.name"),
        "dll.path" => Some("dll.name"),
        _ => None,
    };
    if let Some(name) = base
        && f.values.iter().any(|v| v.contains(['/', '\\']))
    {
        extra.push((
            name.into(),
            format!("nullif(regexp_extract({clean}, '([^\\\\/]+)$', 1), '')"),
        ));
    }
    // A list of hashes (`SHA1=…,MD5=…,SHA256=…,IMPHASH=…`, Sysmon's Hashes): one field per
    // algorithm next to the target (`process.hash.md5`, `process.pe.imphash`).
    if let Some((base, alg)) = target.rsplit_once(".hash.")
        && matches!(alg, "md5" | "sha1" | "sha256" | "sha512")
        && f.values.iter().any(|v| is_hash_list(v))
    {
        let pick = |a: &str| {
            format!("nullif(lower(regexp_extract({x}, '(?i)(?:^|,)\\s*{a}=([0-9a-f]+)', 1)), '')")
        };
        for (a, t) in [
            ("MD5", format!("{base}.hash.md5")),
            ("SHA1", format!("{base}.hash.sha1")),
            ("SHA256", format!("{base}.hash.sha256")),
            ("SHA512", format!("{base}.hash.sha512")),
            ("IMPHASH", format!("{base}.pe.imphash")),
        ] {
            let present = f
                .values
                .iter()
                .any(|v| v.to_ascii_uppercase().contains(&format!("{a}=")));
            if present && t != target && model::catalog().get(&t).is_some() {
                extra.push((t, pick(a)));
            }
        }
        return (pick(&alg.to_ascii_uppercase()), false, extra);
    }
    // `DOMAIN\user` (Windows account names): the user and the domain.
    if target == "user.name"
        && f.values.iter().any(|v| is_domain_user(v))
        && f.values
            .iter()
            .all(|v| !v.contains('\\') || is_domain_user(v))
    {
        extra.push((
            "user.domain".into(),
            format!("if(strpos({x}, '\\') > 0, split_part({x}, '\\', 1))"),
        ));
        return (
            format!("if(strpos({clean}, '\\') > 0, split_part({clean}, '\\', 2), {clean})"),
            false,
            extra,
        );
    }
    // A JSON array is passed on whole (arrays compare as sets; `*.ip` lists stay lists).
    if x.starts_with("json_extract(") {
        return (x.clone(), true, extra);
    }
    let expr = match (&f.ty, ft) {
        (ValueType::IpPort, Some(FieldType::Ip)) => {
            let base = target.trim_end_matches(".ip");
            extra.push((
                format!("{base}.port"),
                format!("try_cast(regexp_extract({x}, '^\\[?[0-9A-Fa-f:.]+?\\]?[:/(](\\d+)', 1) as BIGINT)"),
            ));
            format!("regexp_extract({x}, '^\\[?([0-9A-Fa-f:.]+?)\\]?[:/(]\\d+', 1)")
        }
        (ValueType::IpPort, Some(t)) if t.is_integer() => {
            format!("try_cast(regexp_extract({x}, '[:/(](\\d+)', 1) as BIGINT)")
        }
        (ValueType::Timestamp(i), _) => time_expr(*i, x),
        (ValueType::Integer, Some(FieldType::Date)) => {
            let digits = f.values.iter().map(|v| v.len()).max().unwrap_or(10);
            let div = match digits {
                0..=11 => "",
                12..=14 => " / 1000.0",
                15..=17 => " / 1000000.0",
                _ => " / 1000000000.0",
            };
            format!("from_unixtime(try_cast({x} as BIGINT){div})")
        }
        // Epoch seconds, some with a fraction (`1470923133.026`).
        (ValueType::Float | ValueType::Word, Some(FieldType::Date))
            if !f.values.is_empty() && f.values.iter().all(|v| epoch_like(v)) =>
        {
            format!("from_unixtime(try_cast({x} as DOUBLE))")
        }
        // A number with its unit (`15ms`, `0.00015s`) in nanoseconds.
        (ValueType::Duration, _) if target == "event.duration" => format!(
            "try_cast(round(try_cast(regexp_extract({x}, '^([0-9.]+)', 1) as DOUBLE) * CASE regexp_extract({x}, '([a-zµ]+)$', 1) WHEN 'ns' THEN 1 WHEN 'us' THEN 1000 WHEN 'µs' THEN 1000 WHEN 'ms' THEN 1000000 WHEN 's' THEN 1000000000 WHEN 'm' THEN 60000000000 WHEN 'h' THEN 3600000000000 END) as BIGINT)"
        ),
        // Durations in milliseconds (`duration_ms`, W3C `time-taken`) become nanoseconds.
        (_, Some(t))
            if t.is_integer()
                && target == "event.duration"
                && (key.ends_with("ms") || key == "timetaken") =>
        {
            format!("try_cast({x} as BIGINT) * 1000000")
        }
        // Hexadecimal numbers (`0x44c`: Windows process and logon ids).
        (_, Some(t)) if t.is_integer() && f.values.iter().any(|v| is_hex_number(v)) => format!(
            "if(regexp_like({x}, '^0[xX][0-9A-Fa-f]+$'), from_base(substr({x}, 3), 16), try_cast({x} as BIGINT))"
        ),
        (_, Some(t)) if t.is_integer() => format!("try_cast({x} as BIGINT)"),
        (_, Some(t)) if t.is_numeric() => format!("try_cast({x} as DOUBLE)"),
        // `true`/`false` text into a boolean field.
        (_, Some(FieldType::Boolean))
            if f.values
                .iter()
                .all(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "false" | "")) =>
        {
            format!("CASE lower({x}) WHEN 'true' THEN true WHEN 'false' THEN false ELSE NULL END")
        }
        // Mostly bare addresses, some with a port (`[client 1.2.3.4:5678]`): both parts.
        (_, Some(FieldType::Ip))
            if endpoint(target) && f.values.iter().any(|v| classify(v) == ValueType::IpPort) =>
        {
            let base = target.trim_end_matches(".ip");
            extra.push((
                format!("{base}.port"),
                format!("try_cast(regexp_extract({x}, '^\\[?[0-9A-Fa-f:.]+?\\]?[:/(](\\d+)', 1) as BIGINT)"),
            ));
            format!(
                "coalesce(if(is_ip({x}), {x}, NULL), nullif(regexp_extract({x}, '^\\[?([0-9A-Fa-f:.]+?)\\]?[:/(]\\d+', 1), ''))"
            )
        }
        (_, Some(FieldType::Ip)) if f.values.iter().any(|v| v.starts_with('[')) => format!(
            "coalesce(if(is_ip({x}), {x}, NULL), if(is_ip(regexp_extract({x}, '^\\[([0-9A-Fa-f:.]+)\\]', 1)), regexp_extract({x}, '^\\[([0-9A-Fa-f:.]+)\\]', 1), NULL))"
        ),
        (_, Some(FieldType::Ip)) => format!("if(is_ip({x}), {x}, NULL)"),
        _ => match target {
            // `tcp/http`: transport, then the application protocol.
            "network.transport" if f.values.iter().any(|v| v.contains('/')) => {
                extra.push((
                    "network.protocol".into(),
                    format!("nullif(lower(regexp_extract({x}, '/(\\w+)', 1)), '')"),
                ));
                format!("lower(regexp_extract({x}, '^[^/]+'))")
            }
            // A record type that names a protocol only for protocol records.
            "network.protocol" if key == "eventtype" => format!(
                "CASE WHEN lower({clean}) IN ('alert', 'flow', 'netflow', 'stats', 'anomaly', 'fileinfo', 'drop') THEN NULL ELSE lower({clean}) END"
            ),
            "network.transport" | "network.protocol" => format!("lower({clean})"),
            // W3C logs encode spaces as `+`.
            "user_agent.original"
                if f.values.iter().all(|v| !v.contains(' '))
                    && f.values.iter().any(|v| v.contains('+')) =>
            {
                format!("replace({clean}, '+', ' ')")
            }
            "network.direction" => format!(
                "CASE lower({x}) WHEN 'outgoing' THEN 'outbound' WHEN 'incoming' THEN 'inbound' WHEN 'inbound' THEN 'inbound' WHEN 'outbound' THEN 'outbound' WHEN 'internal' THEN 'internal' WHEN 'external' THEN 'external' WHEN 'ingress' THEN 'ingress' WHEN 'egress' THEN 'egress' ELSE NULL END"
            ),
            "http.request.method" => format!("upper({clean})"),
            "http.version" => format!("regexp_replace({clean}, '^HTTP/', '')"),
            // The level as the source writes it (`INFO`, `Information`, `warning`).
            // Three-letter level abbreviations (`INF`, `WRN`, Go and .NET loggers) are
            // written out; full level names are kept as written.
            "log.level"
                if f.values.iter().all(|v| {
                    matches!(
                        v.to_ascii_lowercase().as_str(),
                        "trc" | "dbg" | "inf" | "wrn" | "err" | "ftl" | "crt"
                    )
                }) =>
            {
                format!(
                    "CASE lower({clean}) WHEN 'trc' THEN 'trace' WHEN 'dbg' THEN 'debug' WHEN 'inf' THEN 'info' WHEN 'wrn' THEN 'warn' WHEN 'err' THEN 'error' WHEN 'ftl' THEN 'fatal' WHEN 'crt' THEN 'critical' ELSE {clean} END"
                )
            }
            "log.level" => clean.clone(),
            // Hex identifiers written as `1a:00:0b:...`: upper-case hex digits only.
            "tls.server.x509.serial_number"
            | "tls.server.hash.sha1"
            | "tls.server.hash.sha256"
            | "tls.server.hash.md5"
                if f.values.iter().any(|v| v.contains(':')) =>
            {
                format!("upper(replace({clean}, ':', ''))")
            }
            // `TLS 1.2`, `TLSv1.2`, `SSLv3`: the version, and the protocol it belongs to.
            "tls.version"
                if f.values
                    .iter()
                    .any(|v| v.chars().next().is_some_and(|c| c.is_ascii_alphabetic())) =>
            {
                extra.push((
                    "tls.version_protocol".into(),
                    format!(
                        "nullif(lower(regexp_extract({x}, '^([A-Za-z]{{2,}}?)v?\\s*[0-9]', 1)), '')"
                    ),
                ));
                format!("nullif(replace(regexp_extract({x}, '([0-9][0-9._]*)$', 1), '_', '.'), '')")
            }
            _ => clean.clone(),
        },
    };
    if let Some(base) = target.strip_suffix(".ip")
        && addresses
        && !f.kv
        && endpoint(target)
    {
        let with_port = f.values.iter().any(|v| classify(v) == ValueType::IpPort);
        let addr = if with_port {
            expr.clone()
        } else {
            clean.clone()
        };
        extra.push((format!("{base}.address"), addr));
        // A host name where an address is expected: the endpoint's domain (ECS `*.domain`).
        if f.values.iter().any(|v| {
            matches!(classify(v), ValueType::Domain | ValueType::Word)
                && v.chars().any(|c| c.is_ascii_alphabetic())
        }) {
            extra.push((
                format!("{base}.domain"),
                format!("if(is_ip({clean}), NULL, {clean})"),
            ));
        }
    }
    // `ip:port:interface` (SonicWall, ASA): the interface the packet used.
    if f.ty == ValueType::IpPort
        && let Some(side) = match target {
            "source.ip" => Some("ingress"),
            "destination.ip" => Some("egress"),
            _ => None,
        }
        && f.values.iter().any(|v| {
            v.rsplit_once(':').is_some_and(|(a, b)| {
                !b.is_empty() && !b.chars().all(|c| c.is_ascii_digit()) && a.contains(':')
            })
        })
    {
        extra.push((
            format!("observer.{side}.interface.name"),
            format!("nullif(regexp_extract({x}, '^[0-9.]+:\\d+:(\\S+)$', 1), '')"),
        ));
    }
    // The first X-Forwarded-For address is the originating client.
    if target == "network.forwarded_ip"
        && (key.contains("forwarded")
            || f.context.iter().any(|w| normalize(w).contains("forwarded")))
    {
        extra.push(("client.ip".into(), expr.clone()));
    }
    // Certificate validity: also the X.509 fields.
    if let Some(which) = target.strip_prefix("tls.server.not_") {
        extra.push((format!("tls.server.x509.not_{which}"), expr.clone()));
    }
    // A distinguished name: its common name, organization and country.
    if target == "tls.server.subject" || target == "tls.server.issuer" {
        let base = if target.ends_with("subject") {
            "tls.server.x509.subject"
        } else {
            "tls.server.x509.issuer"
        };
        for (attr, field) in [
            ("CN", "common_name"),
            ("O", "organization"),
            ("C", "country"),
        ] {
            let v = format!("regexp_extract({x}, '(?:^|,\\s*){attr}=([^,]+)', 1)");
            extra.push((
                format!("{base}.{field}"),
                format!("if(nullif({v}, '') IS NULL, NULL, ARRAY[{v}])"),
            ));
        }
    }
    // AWS names a service by its endpoint (`sts.amazonaws.com`): the service is `sts`.
    if key == "eventsource" && f.values.iter().all(|v| v.ends_with(".amazonaws.com")) {
        extra.push((
            "cloud.service.name".into(),
            format!("nullif(regexp_extract({x}, '^([^.]+)\\.amazonaws\\.com$', 1), '')"),
        ));
    }
    // ECS: an address that is a host name is duplicated to the endpoint's `domain`.
    if let Some(base) = target.strip_suffix(".address")
        && endpoint(&format!("{base}.ip"))
        && f.ty == ValueType::Domain
    {
        extra.push((
            format!("{base}.domain"),
            format!("if(is_ip({clean}), NULL, {clean})"),
        ));
    }
    // A user named by e-mail address: the address is also the user's e-mail.
    if target == "user.name" && f.ty == ValueType::Email {
        extra.push(("user.email".into(), clean.clone()));
    }
    // The host a web request named is also the URL's domain.
    if target == "destination.domain" && key.ends_with("host") {
        extra.push(("url.domain".into(), clean.clone()));
    }
    // The extension of the requested file.
    if matches!(target, "url.original" | "url.path")
        && matches!(f.ty, ValueType::Path | ValueType::Url)
    {
        let path = if f.ty == ValueType::Url {
            format!("url_extract_path({x})")
        } else {
            format!("regexp_extract({x}, '^[^?#]*')")
        };
        extra.push((
            "url.extension".into(),
            format!("nullif(lower(regexp_extract({path}, '\\.([A-Za-z0-9]{{1,8}})$', 1)), '')"),
        ));
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
        } else if !f.values.is_empty() && f.values.iter().all(|v| schemeless_url(v)) {
            // `www.example.com/pqr?q=1` (proxies log the URL without its scheme).
            extra.push((
                "url.domain".into(),
                format!("nullif(regexp_extract({x}, '^([A-Za-z0-9.-]+)', 1), '')"),
            ));
            extra.push((
                "url.path".into(),
                format!("nullif(regexp_extract({x}, '^[^/?#]*(/[^?#]*)', 1), '')"),
            ));
            extra.push((
                "url.query".into(),
                format!("nullif(regexp_extract({x}, '\\?([^#]*)', 1), '')"),
            ));
        } else if f.ty == ValueType::Path {
            // The path percent-decoded (`+` is literal in a path).
            let p = format!("regexp_extract({x}, '^[^?#]*')");
            extra.push((
                "url.path".into(),
                format!(
                    "if(strpos({p}, '%') > 0, coalesce(try(url_decode(replace({p}, '+', '%2B'))), {p}), {p})"
                ),
            ));
            extra.push((
                "url.query".into(),
                format!("nullif(regexp_extract({x}, '\\?([^#]*)', 1), '')"),
            ));
        }
    }
    for (t, e) in extra.iter_mut() {
        if t == "@timestamp" && e.is_empty() {
            *e = expr.clone();
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
            kv: false,
        }
    }

    #[test]
    fn hexadecimal_numbers_become_integers() {
        let (e, _, _) = convert(&raw("ProcessId", &["0x44c", "0x0"], &[]), "process.pid");
        assert!(e.contains("from_base(substr(\"ProcessId\", 3), 16)"), "{e}");
        let plan = crate::spl::compile(&format!("* | extend pid = {e}")).expect("compiles");
        let _ = plan;
        let (e, _, _) = convert(&raw("pid", &["1234"], &[]), "process.pid");
        assert_eq!(e, "try_cast(\"pid\" as BIGINT)");
    }

    #[test]
    fn hash_lists_give_one_field_per_algorithm() {
        let f = raw(
            "Hashes",
            &["MD5=8A2122E8162DBEF04694B9C3E0B6CDEE,SHA256=B99D61D8,IMPHASH=272245E2"],
            &[],
        );
        let (e, _, extra) = convert(&f, "process.hash.sha256");
        assert!(e.contains("SHA256="), "{e}");
        let names: Vec<&str> = extra.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["process.hash.md5", "process.pe.imphash"]);
        let (e, _, _) = convert(
            &raw("Signed", &["true", "false"], &[]),
            "dll.code_signature.exists",
        );
        assert!(e.starts_with("CASE lower("), "{e}");
        let (e, _, extra) = convert(&raw("sha", &["b99d61d8"], &[]), "file.hash.sha256");
        assert_eq!(e, "\"sha\"");
        assert!(extra.is_empty());
    }

    #[test]
    fn windows_accounts_and_paths_are_split() {
        let (e, _, extra) = convert(
            &raw("User", &["CORP\\bob", "NT AUTHORITY\\SYSTEM"], &[]),
            "user.name",
        );
        assert!(e.contains("split_part"), "{e}");
        assert_eq!(extra[0].0, "user.domain");
        let (e, _, extra) = convert(&raw("user", &["bob"], &[]), "user.name");
        assert_eq!(e, "\"user\"");
        assert!(extra.is_empty());
        let (_, _, extra) = convert(
            &raw("Image", &["C:\\Windows\\cmd.exe"], &[]),
            "process.executable",
        );
        assert_eq!(extra[0].0, "process.name");
        let (_, _, extra) = convert(&raw("path", &["/usr/bin/curl"], &[]), "file.path");
        assert_eq!(extra[0].0, "file.name");
    }

    #[test]
    fn key_synonyms_and_context() {
        assert_eq!(
            choose(&raw("srcip", &["10.0.0.1"], &[]), "v", &Learned::default()).0,
            "source.ip"
        );
        assert_eq!(
            choose(&raw("dst_port", &["443"], &[]), "v", &Learned::default()).0,
            "destination.port"
        );
        assert_eq!(
            choose(
                &raw("sourceIPAddress", &["10.0.0.1"], &[]),
                "v",
                &Learned::default()
            )
            .0,
            "source.ip"
        );
        assert_eq!(
            choose(&raw("proto", &["6"], &[]), "v", &Learned::default()).0,
            "network.iana_number"
        );
        assert_eq!(
            choose(
                &raw("t0_2", &["10.0.0.1"], &["from"]),
                "v",
                &Learned::default()
            )
            .0,
            "source.ip"
        );
        assert_eq!(
            choose(&raw("t0_3", &["22"], &["port"]), "v", &Learned::default()).0,
            "source.port"
        );
        assert_eq!(
            choose(&raw("devname", &["x"], &[]), "v", &Learned::default()).0,
            "observer.name"
        );
        assert_eq!(
            choose(&raw("weird", &["x"], &[]), "acme", &Learned::default()).0,
            "acme.weird"
        );
        // a synonym whose type does not fit falls through
        assert_eq!(
            choose(
                &raw("src", &["not an ip"], &[]),
                "acme",
                &Learned::default()
            )
            .0,
            "acme.src"
        );
    }

    #[test]
    fn conversions() {
        let f = raw("src", &["10.0.0.1:80"], &[]);
        let (e, _, extra) = convert(&f, "source.ip");
        assert!(e.contains("regexp_extract"));
        assert_eq!(extra[0].0, "source.port");
    }
}

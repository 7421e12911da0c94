//! Positional and shape reasoning for fields nothing named: addresses by their order, an
//! HTTP request, a DNS query or TLS parameters written out in free text, the most precise
//! time among several.

use super::fields::{ValueType, classify};
use super::map::{self, RawField};
use super::products::{self, LogTypeDef, Product};
use super::synth::{ident, lit, slot_name};
use super::templates::Template;
use regex::Regex;
use std::sync::LazyLock;

/// An HTTP request written out in free text (`"GET /a?b=1 HTTP/1.1" 200`): in the slots of one
/// template, a path or URL right after the method is the requested URL, and a three-digit
/// number from 100 to 599 within the next three slots is the response status.
pub(super) fn http_request_slots(
    fields: &[RawField],
    choices: &mut [(String, f64, String)],
    vendor: &dyn Fn(&str) -> bool,
) {
    let slot = |f: &RawField| map::slot_position(&f.source);
    let at = |t: u32, i: u32| fields.iter().position(|f| slot(f) == Some((t, i)));
    for m in 0..fields.len() {
        let Some((t, i)) = slot(&fields[m]) else {
            continue;
        };
        if fields[m].ty != ValueType::HttpMethod {
            continue;
        }
        if let Some(p) = at(t, i + 1)
            && matches!(fields[p].ty, ValueType::Path | ValueType::Url)
            && vendor(&choices[p].0)
        {
            choices[p] = (
                "url.original".into(),
                0.55,
                "path right after the HTTP method: the requested URL".into(),
            );
        }
        let has_status = (0..fields.len()).any(|k| {
            slot(&fields[k]).is_some_and(|(u, _)| u == t)
                && choices[k].0 == "http.response.status_code"
        });
        if has_status {
            continue;
        }
        let status = (i + 2..=i + 4).filter_map(|j| at(t, j)).find(|&k| {
            let f = &fields[k];
            f.ty == ValueType::Integer
                && !f.values.is_empty()
                && f.values.iter().all(|v| {
                    v.len() == 3 && v.parse::<u16>().is_ok_and(|n| (100..600).contains(&n))
                })
        });
        if let Some(k) = status.filter(|&k| vendor(&choices[k].0)) {
            choices[k] = (
                "http.response.status_code".into(),
                0.55,
                "three-digit number 100-599 right after the HTTP request: the response status"
                    .into(),
            );
        }
    }
}

/// TLS parameters known by their shape wherever nothing named them: a protocol version
/// (`TLSv1.2`, `TLS 1.3`, `SSLv3`) and a cipher suite (`ECDHE-RSA-AES128-GCM-SHA256`,
/// `TLS_AES_256_GCM_SHA384`). `-` stands for a connection without TLS.
pub(super) fn tls_values(
    fields: &[RawField],
    choices: &mut [(String, f64, String)],
    vendor: &dyn Fn(&str) -> bool,
) {
    static VERSION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:TLS|SSL)v?\s?\d(?:[._]\d)?$").expect("TLS version pattern")
    });
    static CIPHER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:TLS_|SSL_)?[A-Z0-9]+(?:[-_][A-Z0-9]+)*$").expect("cipher pattern")
    });
    let cipher = |v: &str| {
        CIPHER.is_match(v)
            && ["AES", "CHACHA20", "3DES", "DES", "RC4", "CAMELLIA", "ARIA"]
                .iter()
                .any(|a| v.contains(a))
            && ["SHA", "GCM", "POLY1305", "CCM", "MD5"]
                .iter()
                .any(|m| v.contains(m))
    };
    let all = |f: &RawField, p: &dyn Fn(&str) -> bool| {
        f.values.iter().any(|v| v != "-") && f.values.iter().all(|v| v == "-" || p(v))
    };
    let taken = |choices: &[(String, f64, String)], t: &str| choices.iter().any(|(u, _, _)| u == t);
    for (i, f) in fields.iter().enumerate() {
        if !vendor(&choices[i].0) {
            continue;
        }
        if !taken(choices, "tls.version") && all(f, &|v| VERSION.is_match(v)) {
            choices[i] = (
                "tls.version".into(),
                0.6,
                "values are TLS/SSL protocol versions".into(),
            );
        } else if !taken(choices, "tls.cipher") && all(f, &cipher) {
            choices[i] = (
                "tls.cipher".into(),
                0.6,
                "values are TLS cipher suites".into(),
            );
        }
    }
}

/// A DNS query written out in free text (`example.com A NOERROR`, `"A IN example.com."`): in the
/// slots of one template, a value that is always a record type makes the nearest domain
/// before or after it the question name; values that are always response codes or query
/// classes are those.
pub(super) fn dns_slots(
    fields: &[RawField],
    choices: &mut [(String, f64, String)],
    vendor: &dyn Fn(&str) -> bool,
) {
    use super::knowledge::{is_dns_class, is_dns_response_code, is_dns_type};
    let slot = |f: &RawField| map::slot_position(&f.source);
    let all = |f: &RawField, p: &dyn Fn(&str) -> bool| {
        !f.values.is_empty() && f.values.iter().all(|v| p(v))
    };
    for k in 0..fields.len() {
        let Some((t, i)) = slot(&fields[k]) else {
            continue;
        };
        if !vendor(&choices[k].0) || !all(&fields[k], &is_dns_type) {
            continue;
        }
        // The question name: the nearest domain of the same template, within two slots.
        let name = (0..fields.len())
            .filter(|&j| {
                slot(&fields[j]).is_some_and(|(u, x)| u == t && x.abs_diff(i) <= 2 && x != i)
                    && fields[j].ty == ValueType::Domain
                    && (vendor(&choices[j].0) || choices[j].0 == "dns.question.name")
            })
            .min_by_key(|&j| slot(&fields[j]).map_or(u32::MAX, |(_, x)| x.abs_diff(i)));
        let Some(n) = name else {
            continue;
        };
        choices[k] = (
            "dns.question.type".into(),
            0.6,
            "values are DNS record types, next to a domain".into(),
        );
        if choices[n].0 != "dns.question.name" {
            choices[n] = (
                "dns.question.name".into(),
                0.6,
                "domain next to a DNS record type: the question name".into(),
            );
        }
        for j in 0..fields.len() {
            if slot(&fields[j]).is_none_or(|(u, _)| u != t) || !vendor(&choices[j].0) {
                continue;
            }
            if all(&fields[j], &is_dns_response_code) {
                choices[j] = (
                    "dns.response_code".into(),
                    0.6,
                    "values are DNS response codes, in a DNS query's template".into(),
                );
            } else if all(&fields[j], &is_dns_class) {
                choices[j] = (
                    "dns.question.class".into(),
                    0.6,
                    "values are DNS query classes, in a DNS query's template".into(),
                );
            }
        }
    }
}

/// Key/context choices, then positional roles for addresses nothing else explains: the first
/// unexplained IP is the source, the second the destination, and an integer right after an
/// IP is its port.
pub(super) fn positional(
    fields: &[RawField],
    prefix: &str,
    learned: &super::learned::Learned,
    product: Option<(&Product, &[&LogTypeDef])>,
) -> Vec<(String, f64, String)> {
    let mut choices: Vec<(String, f64, String)> = fields
        .iter()
        .map(|f| {
            product
                .and_then(|(p, types)| products::choose(p, types, f))
                .unwrap_or_else(|| map::choose(f, prefix, learned))
        })
        .collect();
    let vendor = |t: &str| t.starts_with(&format!("{prefix}."));
    let mut roles = ["source", "destination"]
        .into_iter()
        .filter(|r| !choices.iter().any(|(t, _, _)| *t == format!("{r}.ip")));
    let roles: Vec<&str> = roles.by_ref().collect();
    let mut next = roles.into_iter();
    let mut last_ip: Option<&str> = None;
    let lone_ip = fields
        .iter()
        .zip(&choices)
        .filter(|(f, c)| vendor(&c.0) && (f.ty.is_ip() || f.ty == ValueType::IpPort))
        .count()
        == 1
        && !choices.iter().any(|(t, _, _)| t == "source.ip");
    for (i, f) in fields.iter().enumerate() {
        if !vendor(&choices[i].0) {
            // An address mapped by its key or context: a bare integer right after it is its port.
            last_ip = match choices[i].0.as_str() {
                "source.ip" if f.ty.is_ip() => Some("source"),
                "destination.ip" if f.ty.is_ip() => Some("destination"),
                _ => None,
            };
            continue;
        }
        // Order means something between the values of a line (template slots, header-less
        // columns), not between the named keys of a record; a record with one address no
        // name explains has it from its client (an audit record's actor).
        let unnamed = map::is_slot(&f.source) || map::is_column(&f.source) || lone_ip;
        if (f.ty.is_ip() || f.ty == ValueType::IpPort) && unnamed {
            if let Some(role) = next.next() {
                choices[i] = (
                    format!("{role}.ip"),
                    0.5,
                    format!("{} address in position: taken as the {role}", f.ty.name()),
                );
                // An `ip:port` brings its own port.
                last_ip = f.ty.is_ip().then_some(role);
            }
            continue;
        }
        if f.ty == ValueType::Integer
            && let Some(role) = last_ip.take()
            && f.values
                .iter()
                .all(|v| v.parse::<u32>().is_ok_and(|n| n <= 65535))
            && !choices
                .iter()
                .any(|(t, c, _)| *t == format!("{role}.port") && *c > 0.5)
        {
            choices[i] = (
                format!("{role}.port"),
                0.5,
                format!("integer right after the {role} address: taken as its port"),
            );
            continue;
        }
        last_ip = None;
    }
    // No field named for the action: a first-level text field whose every value names
    // something done (`Sign in`, `User Created`, `file_download`) is the action.
    if !choices.iter().any(|(t, _, _)| t == "event.action") {
        let action_like = |f: &RawField| {
            let path = map::key_path(f);
            path.len() == 1
                && matches!(f.ty, ValueType::Word | ValueType::Text)
                && f.values.len() >= 2
                && f.values.iter().all(|v| {
                    v.len() <= 64
                        && v.split_whitespace().count() <= 5
                        && super::actions::meaning(v).is_some_and(|m| m.verb)
                })
        };
        if let Some(i) =
            (0..fields.len()).find(|&i| vendor(&choices[i].0) && action_like(&fields[i]))
        {
            choices[i] = (
                "event.action".into(),
                0.5,
                "every value names something done (action words): taken as the action".into(),
            );
        }
    }
    // The record's own identifier: a first-level `id` whose values differ from record to
    // record is the event's id.
    if !choices.iter().any(|(t, _, _)| t == "event.id") {
        let own_id = |f: &RawField| {
            let path = map::key_path(f);
            let mut seen: Vec<&String> = f.values.iter().collect();
            seen.sort();
            seen.dedup();
            path.len() == 1
                && matches!(
                    map::normalize(path[0]).as_str(),
                    "id" | "uid" | "uuid" | "guid"
                )
                && f.values.len() >= 2
                && seen.len() == f.values.len()
        };
        if let Some(i) = (0..fields.len()).find(|&i| vendor(&choices[i].0) && own_id(&fields[i])) {
            choices[i] = (
                "event.id".into(),
                0.5,
                "first-level identifier, different in every record: the event's id".into(),
            );
        }
    }
    http_request_slots(fields, &mut choices, &vendor);
    tls_values(fields, &mut choices, &vendor);
    dns_slots(fields, &mut choices, &vendor);
    // Next to a DNS question name, a value that is always a record type is its type.
    if choices.iter().any(|(t, _, _)| t == "dns.question.name")
        && !choices.iter().any(|(t, _, _)| t == "dns.question.type")
    {
        for (i, f) in fields.iter().enumerate() {
            if vendor(&choices[i].0)
                && !f.values.is_empty()
                && f.values.iter().all(|v| super::knowledge::is_dns_type(v))
            {
                choices[i] = (
                    "dns.question.type".into(),
                    0.6,
                    "values are DNS record types, next to a DNS question name".into(),
                );
            }
        }
    }
    // A value guessed by its shape yields to a field whose name says the same target (an
    // upstream URL after the request URL is not the event's URL).
    for i in 0..choices.len() {
        let (t, c, _) = &choices[i];
        if *c > 0.6 || t == "@timestamp" || vendor(t) {
            continue;
        }
        let named = choices
            .iter()
            .enumerate()
            .any(|(j, (u, d, _))| j != i && u == t && *d >= 0.75);
        if named {
            let base = fields[i]
                .source
                .replace(|c: char| !c.is_alphanumeric() && c != '.' && c != '_', "_");
            choices[i] = (
                format!("{prefix}.{base}"),
                0.3,
                format!("{t} is named by another field; this one is kept under the vendor prefix"),
            );
        }
    }
    choices
}

/// Several sources for `@timestamp`: a year-less syslog header time yields to a fuller one.
pub(super) fn prefer_precise_time(fields: &[RawField], choices: &mut [(String, f64, String)]) {
    let yearless = |f: &RawField| match f.ty {
        ValueType::Timestamp(i) => {
            matches!(super::fields::TIME_FORMATS[i].spl, "syslog" | "daymonth")
        }
        _ => false,
    };
    let full = fields.iter().zip(choices.iter()).any(|(f, c)| {
        c.0 == "@timestamp" && matches!(f.ty, ValueType::Timestamp(_)) && !yearless(f)
    });
    if !full {
        return;
    }
    for (f, c) in fields.iter().zip(choices.iter_mut()) {
        if c.0 == "@timestamp" && yearless(f) {
            c.1 = c.1.min(0.5);
        }
    }
}

/// The transport a template states in its literal text (`TCP request from ...`, `"A IN x.
/// udp 57"`): when no field names the transport, the template that matched says it. One
/// expression over the templates' first slots (a slot is set only when its template matched).
pub(super) fn template_transport(templates: &[Template]) -> Option<String> {
    let mut whens = Vec::new();
    for (i, t) in templates.iter().enumerate() {
        if t.slots().is_empty() {
            continue;
        }
        let mut protos: Vec<String> = t
            .literals()
            .filter(|w| classify(w) == ValueType::Protocol)
            .map(str::to_lowercase)
            .collect();
        protos.dedup();
        if let [p] = protos.as_slice() {
            whens.push(format!(
                " WHEN {} IS NOT NULL THEN {}",
                ident(&slot_name(i, 0)),
                lit(p)
            ));
        }
    }
    (!whens.is_empty()).then(|| format!("CASE{} ELSE NULL END", whens.concat()))
}

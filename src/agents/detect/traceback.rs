//! Web-traffic traceback: when a host alert points at a web server (a suspicious child of a
//! web-server process, a script written under a web root), find the requests to that host in
//! the preceding window that look like attacks (path traversal, SQL injection, command
//! injection, JNDI lookups, uploads, requests for the written file) and raise one alert that
//! links the request(s), their source IP and the host alert.
//!
//! What counts as a web server, a web root or an attack is data (`traceback.toml`).

use super::{Alert, RuleMeta, Threat};
use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};
use std::sync::LazyLock;

#[derive(Debug, Deserialize)]
struct Raw {
    web_servers: Vec<String>,
    java_servers: Vec<String>,
    web_roots: Vec<String>,
    window_secs: i64,
    pattern: Vec<RawPattern>,
}

#[derive(Debug, Deserialize)]
struct RawPattern {
    name: String,
    regex: String,
}

struct Config {
    raw: Raw,
    patterns: Vec<(String, Regex)>,
}

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let raw: Raw = toml::from_str(include_str!("traceback.toml"))
        .expect("traceback.toml is checked by a test");
    let patterns = raw
        .pattern
        .iter()
        .map(|p| {
            let re = RegexBuilder::new(&p.regex)
                .case_insensitive(true)
                .build()
                .expect("traceback patterns are tested");
            (p.name.clone(), re)
        })
        .collect();
    Config { raw, patterns }
});

/// The rule the traceback alerts carry.
pub fn rule() -> RuleMeta {
    RuleMeta {
        id: "agentic-soc-web-traffic-traceback".into(),
        title: "Web attack traced to a host alert on the web server".into(),
        level: "high".into(),
        status: "experimental".into(),
        author: "agentic-soc".into(),
        tags: vec!["attack.initial-access".into(), "attack.t1190".into()],
        source: "builtin".into(),
        license: "Apache-2.0".into(),
    }
}

fn text<'a>(e: &'a Map<String, Json>, k: &str) -> Option<&'a str> {
    crate::store::lookup(e, k).and_then(Json::as_str)
}

fn basename(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// Why a host alert points at a web server (and the written file, if any).
fn web_server_hint(a: &Alert) -> Option<(String, Option<String>)> {
    let c = &CONFIG.raw;
    let e = &a.event;
    if let Some(parent) = text(e, "process.parent.executable") {
        let base = basename(parent).to_ascii_lowercase();
        if c.web_servers.iter().any(|w| {
            // `php-fpm8.2`, `httpd.worker`: a version or variant suffix.
            base.strip_prefix(w.as_str()).is_some_and(|rest| {
                rest.is_empty()
                    || rest.starts_with('.')
                    || rest.chars().all(|c| c.is_ascii_digit() || c == '.')
            })
        }) {
            return Some((
                format!(
                    "{} was started by the web server {parent}",
                    text(e, "process.executable").unwrap_or("a process")
                ),
                None,
            ));
        }
    }
    if let Some(pcmd) = text(e, "process.parent.command_line") {
        let l = pcmd.to_ascii_lowercase();
        if l.contains("java") && c.java_servers.iter().any(|j| l.contains(j.as_str())) {
            return Some(("a child of a Java application server".into(), None));
        }
    }
    if let Some(path) = text(e, "file.path") {
        let l = path.to_ascii_lowercase();
        if c.web_roots.iter().any(|r| l.contains(r.as_str())) {
            return Some((
                format!("{path} was written under a web root"),
                Some(basename(path).to_string()),
            ));
        }
    }
    None
}

fn request_target(e: &Map<String, Json>) -> Option<String> {
    if let Some(u) = text(e, "url.original") {
        return Some(u.to_string());
    }
    let path = text(e, "url.path")?;
    Some(match text(e, "url.query") {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    })
}

/// Which attack pattern a request matches (or that it asks for the written file).
fn attack(e: &Map<String, Json>, written: Option<&str>) -> Option<String> {
    let target = request_target(e)?;
    let decoded = percent_encoding::percent_decode_str(&target)
        .decode_utf8_lossy()
        .into_owned();
    let ua = text(e, "user_agent.original").unwrap_or("");
    for (name, re) in &CONFIG.patterns {
        if re.is_match(&target) || re.is_match(&decoded) || re.is_match(ua) {
            return Some(name.clone());
        }
    }
    if let Some(w) = written
        && decoded
            .to_ascii_lowercase()
            .contains(&w.to_ascii_lowercase())
    {
        return Some(format!("request for the written file {w}"));
    }
    None
}

/// Raises traceback alerts for the host alerts that point at a web server, searching
/// `events` (normalized, any order) for the requests.
pub fn traceback(alerts: &[Alert], events: &[Map<String, Json>]) -> Vec<Alert> {
    let window = CONFIG.raw.window_secs * 1000;
    let web: Vec<(usize, i64)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            crate::store::lookup(e, "http.request.method").is_some() && request_target(e).is_some()
        })
        .filter_map(|(i, e)| crate::store::event_time_ms(e).map(|t| (i, t)))
        .collect();
    // Hosts with web-server alerts, to tell whether an access log without a host name can
    // only be one server's.
    let hinted: Vec<(Option<&str>, i64)> = alerts
        .iter()
        .filter(|a| web_server_hint(a).is_some())
        .filter_map(|a| {
            a.time_ms().map(|t| {
                (
                    text(&a.event, "host.name").or_else(|| text(&a.event, "host.hostname")),
                    t,
                )
            })
        })
        .collect();
    let mut out: Vec<Alert> = Vec::new();
    let mut seen: std::collections::HashMap<(Option<String>, usize), usize> =
        std::collections::HashMap::new();
    for a in alerts {
        let Some((why, written)) = web_server_hint(a) else {
            continue;
        };
        let Some(t) = a.time_ms() else { continue };
        let host = text(&a.event, "host.name").or_else(|| text(&a.event, "host.hostname"));
        let ambiguous = hinted
            .iter()
            .any(|(h, ht)| *h != host && (ht - t).abs() <= window);
        let mut hits = Vec::new();
        for &(i, wt) in &web {
            if wt > t || t - wt > window {
                continue;
            }
            let e = &events[i];
            let web_host = text(e, "host.name").or_else(|| text(e, "host.hostname"));
            let same_host = match (web_host, host) {
                (Some(w), Some(h)) => w.eq_ignore_ascii_case(h),
                // An access log without a host name: taken as this server's own log when no
                // other host has web-server alerts in the window.
                (None, _) => !ambiguous,
                (Some(_), None) => false,
            };
            if !same_host {
                continue;
            }
            if let Some(p) = attack(e, written.as_deref()) {
                hits.push((i, p));
            }
        }
        if hits.is_empty() {
            continue;
        }
        let (first, _) = hits[0];
        // Several host alerts traced to the same requests make one traceback alert.
        let key = (host.map(str::to_string), first);
        if let Some(&k) = seen.get(&key) {
            let tb: &mut Alert = &mut out[k];
            let n = tb
                .related
                .iter()
                .filter(|r| r.get("alert").is_some())
                .count();
            tb.related
                .insert(n, json!({"alert": a.id, "rule": a.rule.title, "why": why}));
            continue;
        }
        seen.insert(key, out.len());
        let mut event = events[first].clone();
        if let Some(h) = host {
            event
                .entry("host.name".to_string())
                .or_insert(Json::String(h.to_string()));
        }
        let related: Vec<Json> =
            std::iter::once(json!({"alert": a.id, "rule": a.rule.title, "why": why}))
                .chain(hits.iter().map(|(i, p)| {
                    let e = &events[*i];
                    json!({
                        "request": request_target(e),
                        "method": text(e, "http.request.method"),
                        "source.ip": text(e, "source.ip"),
                        "@timestamp": text(e, "@timestamp"),
                        "pattern": p,
                    })
                }))
                .collect();
        let mut h = xxhash_rust::xxh64::Xxh64::new(1);
        h.update(a.id.as_bytes());
        let meta = rule();
        out.push(Alert {
            id: format!("{:016x}", h.digest()),
            timestamp: a.timestamp.clone(),
            threat: Threat::from_tags(&meta.tags),
            rule: meta,
            logsource: "webserver+host".into(),
            related,
            event,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::detect::Detector;

    #[test]
    fn patterns_compile_and_classify() {
        let ev = |u: &str| {
            json!({"url.original": u, "http.request.method": "GET"})
                .as_object()
                .unwrap()
                .clone()
        };
        assert_eq!(
            attack(&ev("/a?f=../../etc/passwd"), None).as_deref(),
            Some("path traversal")
        );
        assert_eq!(
            attack(&ev("/a?id=1%20UNION%20SELECT%20x"), None).as_deref(),
            Some("SQL injection")
        );
        assert_eq!(
            attack(&ev("/ping?h=1;whoami"), None).as_deref(),
            Some("command injection")
        );
        assert_eq!(
            attack(&ev("/?x=${jndi:ldap://e/a}"), None).as_deref(),
            Some("JNDI lookup")
        );
        assert_eq!(
            attack(&ev("/static/x.php?cmd=id"), Some("x.php")).as_deref(),
            Some("request for the written file x.php")
        );
        assert_eq!(attack(&ev("/index.html"), None), None);
    }

    #[test]
    fn a_web_shell_child_is_traced_back_to_the_request() {
        let mut d = Detector::default();
        assert!(d.add_rule(
            "title: t\nid: t1\nlogsource: {product: linux, category: process_creation}\ndetection: {s: {Image|endswith: /whoami}, condition: s}",
            "t.yml"
        ));
        let proc = json!({"@timestamp": "2024-05-01T10:05:00Z", "host.os.type": "linux", "host.name": "web-01",
            "event.category": ["process"], "event.type": ["start"],
            "process.parent.executable": "/usr/sbin/apache2", "process.executable": "/usr/bin/whoami"});
        let alerts = d.detect(proc.as_object().unwrap(), 0);
        let reqs: Vec<Map<String, Json>> = [
            json!({"@timestamp": "2024-05-01T10:00:00Z", "http.request.method": "GET", "url.original": "/index.html", "source.ip": "198.51.100.4"}),
            json!({"@timestamp": "2024-05-01T10:01:00Z", "http.request.method": "GET", "url.original": "/dl.php?f=../../../etc/passwd", "source.ip": "203.0.113.66"}),
            json!({"@timestamp": "2024-05-01T11:00:00Z", "http.request.method": "GET", "url.original": "/dl.php?f=../../x", "source.ip": "203.0.113.67"}),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect();
        let tb = traceback(&alerts, &reqs);
        assert_eq!(tb.len(), 1);
        assert_eq!(tb[0].event["source.ip"], "203.0.113.66");
        assert_eq!(tb[0].event["host.name"], "web-01");
        assert_eq!(tb[0].related.len(), 2, "{:?}", tb[0].related);
        assert_eq!(tb[0].related[1]["pattern"], "path traversal");
    }
}

//! Behavioural detections over many events: port scans and host sweeps (one source, many
//! ports or hosts in a window), password guessing (one source, many failed logins) and a
//! success after it. Thresholds and ATT&CK tags are the data file
//! `knowledge/behaviour.toml`; the alerts are ordinary [`Alert`]s, so correlation,
//! investigation and reports treat them like Sigma matches.
//!
//! Depends on `detect` (the alert record) and `store` (field lookup, time).

use super::detect::{Alert, RuleMeta, Threat};
use crate::store::{event_time_ms, lookup};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

#[derive(Deserialize)]
struct File {
    scan: Vec<ScanSpec>,
    brute_force: BruteSpec,
    max_related: usize,
}

#[derive(Deserialize)]
struct BruteSpec {
    id: String,
    title: String,
    level: String,
    tags: Vec<String>,
    spray_tags: Vec<String>,
    spray_min_users: usize,
    success_id: String,
    success_title: String,
    success_level: String,
    success_tags: Vec<String>,
    min_failures: usize,
    window_secs: i64,
}

#[derive(Deserialize)]
struct ScanSpec {
    id: String,
    title: String,
    description: String,
    level: String,
    tags: Vec<String>,
    distinct: String,
    same: String,
    min_distinct: usize,
    window_secs: i64,
}

static SPECS: LazyLock<File> = LazyLock::new(|| {
    toml::from_str(include_str!("knowledge/behaviour.toml"))
        .expect("behaviour.toml is checked by a test")
});

fn text(e: &Map<String, Json>, f: &str) -> Option<String> {
    super::tools::text(lookup(e, f)?)
}

/// Scans found among the events, one alert per source and episode.
pub fn scans(events: &[Map<String, Json>]) -> Vec<Alert> {
    let mut out = Vec::new();
    for spec in &SPECS.scan {
        // (source, same-value) → [(time, distinct value, event index)]
        type Hits = Vec<(i64, String, usize)>;
        let mut groups: BTreeMap<(String, String), Hits> = BTreeMap::new();
        for (i, e) in events.iter().enumerate() {
            let (Some(src), Some(same), Some(d), Some(t)) = (
                text(e, "source.ip"),
                text(e, &spec.same),
                text(e, &spec.distinct),
                event_time_ms(e),
            ) else {
                continue;
            };
            groups.entry((src, same)).or_default().push((t, d, i));
        }
        for ((src, same), mut hits) in groups {
            hits.sort();
            let window = spec.window_secs * 1000;
            let mut start = 0;
            let mut i = 0;
            while i < hits.len() {
                while hits[i].0 - hits[start].0 > window {
                    start += 1;
                }
                let distinct: BTreeSet<&str> =
                    hits[start..=i].iter().map(|h| h.1.as_str()).collect();
                if distinct.len() >= spec.min_distinct {
                    // The episode runs while probes keep coming within the window.
                    let mut end = i;
                    while end + 1 < hits.len() && hits[end + 1].0 - hits[end].0 <= window {
                        end += 1;
                    }
                    out.push(alert(spec, &src, &same, &hits[start..=end], events));
                    start = end + 1;
                    i = end + 1;
                    continue;
                }
                i += 1;
            }
        }
    }
    out
}

fn outcome(e: &Map<String, Json>) -> Option<bool> {
    let auth = match lookup(e, "event.category")? {
        Json::Array(xs) => xs.iter().any(|x| x.as_str() == Some("authentication")),
        Json::String(s) => s == "authentication",
        _ => false,
    };
    if !auth {
        return None;
    }
    match text(e, "event.outcome")?.as_str() {
        "failure" => Some(false),
        "success" => Some(true),
        _ => None,
    }
}

/// Password guessing episodes, and a success from the guessing source after one.
pub fn brute_force(events: &[Map<String, Json>]) -> Vec<Alert> {
    let spec = &SPECS.brute_force;
    let window = spec.window_secs * 1000;
    let mut by_src: BTreeMap<String, Vec<(i64, bool, usize)>> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        if let (Some(ok), Some(src), Some(t)) = (outcome(e), text(e, "source.ip"), event_time_ms(e))
        {
            by_src.entry(src).or_default().push((t, ok, i));
        }
    }
    let mut out = Vec::new();
    for (src, mut evs) in by_src {
        evs.sort();
        let fails: Vec<&(i64, bool, usize)> = evs.iter().filter(|e| !e.1).collect();
        let mut start = 0;
        let mut i = 0;
        while i < fails.len() {
            while fails[i].0 - fails[start].0 > window {
                start += 1;
            }
            if i + 1 - start < spec.min_failures {
                i += 1;
                continue;
            }
            let mut end = i;
            while end + 1 < fails.len() && fails[end + 1].0 - fails[end].0 <= window {
                end += 1;
            }
            let episode = &fails[start..=end];
            let users: BTreeSet<String> = episode
                .iter()
                .filter_map(|f| text(&events[f.2], "user.name"))
                .collect();
            let spray = users.len() >= spec.spray_min_users;
            let hits: Vec<(i64, String, usize)> = episode
                .iter()
                .map(|f| {
                    (
                        f.0,
                        text(&events[f.2], "user.name").unwrap_or_default(),
                        f.2,
                    )
                })
                .collect();
            let scan = ScanSpec {
                id: spec.id.clone(),
                title: spec.title.clone(),
                description: format!("{} failed logins from one source", episode.len()),
                level: spec.level.clone(),
                tags: if spray {
                    spec.spray_tags.clone()
                } else {
                    spec.tags.clone()
                },
                distinct: "user.name".into(),
                same: "source.ip".into(),
                min_distinct: 0,
                window_secs: spec.window_secs,
            };
            out.push(alert(&scan, &src, &src, &hits, events));
            // A success from the same source during or soon after the guessing.
            let last = episode.last().map(|f| f.0).unwrap_or(0);
            if let Some(ok) = evs
                .iter()
                .find(|e| e.1 && e.0 >= episode[0].0 && e.0 - last <= window)
            {
                let success = ScanSpec {
                    id: spec.success_id.clone(),
                    title: spec.success_title.clone(),
                    description: "a login succeeded from a source that was guessing passwords"
                        .into(),
                    level: spec.success_level.clone(),
                    tags: spec.success_tags.clone(),
                    ..scan
                };
                let user = text(&events[ok.2], "user.name").unwrap_or_default();
                let mut a = alert(&success, &src, &src, &[(ok.0, user.clone(), ok.2)], events);
                a.event.insert("user.name".into(), user.into());
                a.event.insert(
                    "@timestamp".into(),
                    text(&events[ok.2], "@timestamp").unwrap_or_default().into(),
                );
                a.timestamp = text(&events[ok.2], "@timestamp");
                out.push(a);
            }
            start = end + 1;
            i = end + 1;
        }
    }
    out
}

fn alert(
    spec: &ScanSpec,
    src: &str,
    same: &str,
    hits: &[(i64, String, usize)],
    events: &[Map<String, Json>],
) -> Alert {
    let distinct: BTreeSet<&str> = hits.iter().map(|h| h.1.as_str()).collect();
    let first = &events[hits[0].2];
    let mut event = Map::new();
    for f in [
        "@timestamp",
        "host.name",
        "host.hostname",
        "observer.hostname",
        "observer.product",
        "event.module",
        "network.transport",
    ] {
        if let Some(v) = lookup(first, f) {
            event.insert(f.into(), v.clone());
        }
    }
    event.insert("source.ip".into(), src.into());
    event.insert(spec.same.clone(), same.into());
    event.insert("event.kind".into(), "alert".into());
    event.insert("event.category".into(), json!(["network"]));
    event.insert("event.count".into(), json!(hits.len()));
    let last_t = hits.last().map(|h| h.0).unwrap_or(hits[0].0);
    event.insert(
        "message".into(),
        format!(
            "{}: {src} reached {} distinct {} ({} events) of {} {same} in {} s",
            spec.title,
            distinct.len(),
            spec.distinct,
            hits.len(),
            spec.same,
            (last_t - hits[0].0) / 1000
        )
        .into(),
    );
    let related: Vec<Json> = hits
        .iter()
        .take(SPECS.max_related)
        .map(|(_, d, i)| {
            let e = &events[*i];
            json!({"@timestamp": text(e, "@timestamp"), spec.distinct.clone(): d,
                   "event.action": text(e, "event.action"),
                   "detail": format!("{src} → {same} {}={d} {}", spec.distinct, text(e, "event.action").unwrap_or_default())})
        })
        .collect();
    let mut h = xxhash_rust::xxh64::Xxh64::new(7);
    h.update(spec.id.as_bytes());
    h.update(src.as_bytes());
    h.update(same.as_bytes());
    h.update(&hits[0].0.to_le_bytes());
    let rule = RuleMeta {
        id: spec.id.clone(),
        title: spec.title.clone(),
        level: spec.level.clone(),
        status: "experimental".into(),
        author: "agentic-soc".into(),
        tags: spec.tags.clone(),
        source: format!("builtin: {}", spec.description),
        license: "Apache-2.0".into(),
    };
    Alert {
        id: format!("{:016x}", h.digest()),
        timestamp: text(first, "@timestamp"),
        threat: Threat::from_tags(&rule.tags),
        rule,
        logsource: "network".into(),
        related,
        event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(t: i64, src: &str, dst: &str, port: u16) -> Map<String, Json> {
        json!({"@timestamp": crate::agents::tools::fmt_ms(t), "source.ip": src, "destination.ip": dst,
               "destination.port": port, "event.action": "drop", "host.hostname": "fw"})
        .as_object()
        .unwrap()
        .clone()
    }

    fn auth(t: i64, src: &str, user: &str, ok: bool) -> Map<String, Json> {
        json!({"@timestamp": crate::agents::tools::fmt_ms(t), "source.ip": src, "user.name": user,
               "event.category": ["authentication"], "event.outcome": if ok { "success" } else { "failure" },
               "host.hostname": "bastion"})
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn password_guessing_and_the_success_after_it() {
        let t0 = 1_714_557_600_000;
        let mut evs: Vec<_> = (0..30)
            .map(|i| auth(t0 + i * 2000, "198.51.100.5", "root", false))
            .collect();
        evs.push(auth(t0 + 70_000, "198.51.100.5", "admin", true));
        // A user mistyping twice then logging in: nothing.
        evs.push(auth(t0, "10.0.0.4", "alice", false));
        evs.push(auth(t0 + 5000, "10.0.0.4", "alice", false));
        evs.push(auth(t0 + 9000, "10.0.0.4", "alice", true));
        let a = brute_force(&evs);
        assert_eq!(a.len(), 2, "{a:#?}");
        assert_eq!(a[0].event["event.count"], 30);
        assert!(a[0].threat.techniques.contains(&"T1110".to_string()));
        assert_eq!(a[1].rule.level, "high");
        assert_eq!(a[1].event["user.name"], "admin");
        assert!(a[1].threat.tactics.contains(&"initial-access".to_string()));
    }

    #[test]
    fn a_port_scan_is_one_alert_and_normal_traffic_none() {
        let t0 = 1_714_557_600_000;
        let mut evs: Vec<_> = (0..40)
            .map(|p| conn(t0 + p * 200, "198.51.100.7", "10.0.0.5", 20 + p as u16))
            .collect();
        // A busy client to two ports all day: not a scan.
        evs.extend((0..300).map(|i| {
            conn(
                t0 + i * 1000,
                "10.0.0.9",
                "10.0.0.5",
                if i % 2 == 0 { 443 } else { 80 },
            )
        }));
        let a = scans(&evs);
        assert_eq!(a.len(), 1, "{a:#?}");
        assert_eq!(a[0].rule.id, "agentic-soc-port-scan");
        assert_eq!(a[0].event["event.count"], 40);
        assert!(a[0].threat.techniques.contains(&"T1046".to_string()));
    }
}

//! Entity analysis: one value (IP, file hash, process, domain, host, user, container, cloud
//! identity) → its kind, facts from the events that name it, prevalence, first/last seen,
//! related alerts and incidents, IOC reputation, a risk score with its reasons, and the
//! playbooks that would act on it. Every query is a step of the trace.
//!
//! Depends on `tools` (events, alerts, IOC list), `correlate` (entity extraction) and `respond`.

use super::correlate;
use super::tools::{Ioc, Trace, Workspace, guess_kind, is_public_ip, text};
use crate::store::{StoreError, lookup};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// A related alert, briefly.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertBrief {
    pub id: String,
    pub time: Option<String>,
    pub rule: String,
    pub level: String,
    pub role: String,
}

/// What is known about one entity.
#[derive(Debug, Clone, Serialize)]
pub struct EntityReport {
    pub value: String,
    pub kind: String,
    /// Field → the most frequent values seen with it (value, count).
    pub facts: BTreeMap<String, Vec<(String, usize)>>,
    /// Events naming it, and on how many hosts.
    pub events: usize,
    pub hosts: usize,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub alerts: Vec<AlertBrief>,
    pub incidents: Vec<String>,
    pub reputation: Option<Ioc>,
    pub risk: u32,
    pub reasons: Vec<String>,
    pub recommended: Vec<String>,
    pub trace: Vec<super::tools::Step>,
}

/// Fields reported as facts.
const FACT_FIELDS: &[&str] = &[
    "host.name",
    "user.name",
    "source.ip",
    "destination.ip",
    "destination.port",
    "process.executable",
    "process.parent.executable",
    "event.action",
    "url.domain",
    "url.path",
    "user_agent.original",
    "file.path",
    "container.id",
    "cloud.account.id",
];

/// The store columns that may hold an entity of a kind.
fn columns(kind: &str) -> &'static [&'static str] {
    match kind {
        "ip" => &["source_ip", "destination_ip"],
        "host" => &["host"],
        "user" | "cloud_identity" => &["user"],
        "file_hash" => &["file_hash"],
        "domain" => &["url_domain"],
        "process" => &["process_entity"],
        _ => &[],
    }
}

const AGENT: &str = "entity-analyst";

/// Analyzes a value.
pub fn analyze(ws: &Workspace<'_>, value: &str) -> Result<EntityReport, StoreError> {
    let mut trace = Trace::default();
    let value = value.trim();
    // Kind: from the alerts' entities first (they know hosts, users and processes), else the shape.
    let mut alerts = Vec::new();
    let mut kind: Option<String> = None;
    for a in ws.alerts {
        for e in correlate::entities(a) {
            if e.value.eq_ignore_ascii_case(value) {
                kind.get_or_insert(e.kind.clone());
                if !alerts.iter().any(|b: &AlertBrief| b.id == a.id) {
                    alerts.push(AlertBrief {
                        id: a.id.clone(),
                        time: a.timestamp.clone(),
                        rule: a.rule.title.clone(),
                        level: a.rule.level.clone(),
                        role: e.role.clone(),
                    });
                }
            }
        }
        if lookup(&a.event, "container.id").and_then(text).as_deref() == Some(value) {
            kind.get_or_insert("container".into());
        }
    }
    let kind = kind.unwrap_or_else(|| match guess_kind(value) {
        "ip" => "ip".into(),
        "sha256" | "sha1" | "md5" => "file_hash".into(),
        "domain" => "domain".into(),
        _ if value.starts_with("arn:") => "cloud_identity".into(),
        _ => "other".into(),
    });
    trace.step(
        AGENT,
        format!("What is {value}, and which alerts name it?"),
        Some(("entity_lookup", json!({"value": value}))),
        format!("a {kind} in {} alerts", alerts.len()),
        "",
    );
    let mut events = Vec::new();
    let mut cols = columns(&kind).to_vec();
    if kind == "other" || kind == "container" {
        cols = vec!["host", "user", "process_entity"];
    }
    for c in cols {
        let v = if kind == "host" || kind == "user" {
            // Stored as the event had it; the entity is lower-cased: try both.
            let mut evs = ws.query_events(
                &mut trace,
                AGENT,
                &format!("Events with {c} = {value}"),
                c,
                value,
                None,
                None,
                50_000,
            )?;
            if evs.is_empty() {
                for variant in [value.to_uppercase(), value.to_lowercase()] {
                    if variant != value {
                        evs.extend(ws.query_events(
                            &mut trace,
                            AGENT,
                            "Try another spelling",
                            c,
                            &variant,
                            None,
                            None,
                            50_000,
                        )?);
                    }
                }
            }
            evs
        } else {
            ws.query_events(
                &mut trace,
                AGENT,
                &format!("Events with {c} = {value}"),
                c,
                value,
                None,
                None,
                50_000,
            )?
        };
        events.extend(v);
    }
    let mut facts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut hosts = BTreeSet::new();
    let mut times = Vec::new();
    for e in &events {
        for f in FACT_FIELDS {
            if let Some(v) = lookup(&e.event, f).and_then(text)
                && !v.eq_ignore_ascii_case(value)
            {
                *facts
                    .entry(f.to_string())
                    .or_default()
                    .entry(v)
                    .or_default() += 1;
            }
        }
        if let Some(h) = crate::store::indexed_value(&e.event, "host") {
            hosts.insert(h.to_lowercase());
        }
        if let Some(t) = crate::store::event_time_ms(&e.event) {
            times.push(t);
        }
    }
    times.extend(
        alerts
            .iter()
            .filter_map(|a| a.time.as_deref().and_then(crate::store::parse_time_ms)),
    );
    let facts: BTreeMap<String, Vec<(String, usize)>> = facts
        .into_iter()
        .map(|(k, m)| {
            let mut v: Vec<(String, usize)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(5);
            (k, v)
        })
        .collect();
    let incidents: Vec<String> = ws
        .incidents
        .iter()
        .filter(|i| {
            i.alert_ids
                .iter()
                .any(|id| alerts.iter().any(|a| &a.id == id))
        })
        .map(|i| i.id.clone())
        .collect();
    let reputation = ws
        .ioc_lookup(&mut trace, AGENT, &[value.to_string()])
        .into_iter()
        .next();

    // Risk with reasons.
    let mut risk: i64 = 0;
    let mut reasons = Vec::new();
    let level_points = |l: &str| match l {
        "critical" => 30,
        "high" => 20,
        "medium" => 10,
        "low" => 5,
        _ => 2,
    };
    let alert_points: i64 = alerts
        .iter()
        .map(|a| level_points(&a.level))
        .sum::<i64>()
        .min(60);
    if alert_points > 0 {
        let mut rules: Vec<&str> = alerts.iter().map(|a| a.rule.as_str()).collect();
        rules.sort();
        rules.dedup();
        risk += alert_points;
        reasons.push(format!(
            "+{alert_points}: named in {} alerts ({})",
            alerts.len(),
            rules.join(", ")
        ));
    }
    match reputation.as_ref().map(|r| r.reputation.as_str()) {
        Some("malicious") => {
            risk += 40;
            reasons.push(format!(
                "+40: listed malicious ({})",
                reputation.as_ref().map(|r| r.source.as_str()).unwrap_or("")
            ));
        }
        Some("suspicious") => {
            risk += 20;
            reasons.push("+20: listed suspicious".into());
        }
        Some(_) => {
            risk -= 30;
            reasons.push("-30: allow-listed".into());
        }
        None => {}
    }
    if kind == "ip" && is_public_ip(value) && !alerts.is_empty() {
        risk += 10;
        reasons.push("+10: a public address in alerts".into());
    }
    if !incidents.is_empty() {
        risk += 10;
        reasons.push(format!("+10: part of {}", incidents.join(", ")));
    }
    if !events.is_empty() && alerts.is_empty() {
        reasons.push(format!("0: {} events, no alert", events.len()));
    }
    let risk = risk.clamp(0, 100) as u32;
    let target = match kind.as_str() {
        "ip" if is_public_ip(value) => "public_ip",
        "host" => "host",
        "user" => "user",
        "cloud_identity" => "cloud_identity",
        "process" => "process",
        "file" | "file_hash" => "file",
        _ => "",
    };
    let recommended: Vec<String> = if risk >= 50 {
        super::respond::playbooks()
            .iter()
            .filter(|p| p.target == target)
            .map(|p| format!("{} ({}): {}", p.id, p.phase, p.title))
            .collect()
    } else {
        Vec::new()
    };
    trace.step(
        AGENT,
        "Score the risk from alerts, reputation and exposure",
        None,
        reasons.join("; "),
        format!("risk {risk}/100"),
    );
    Ok(EntityReport {
        value: value.to_string(),
        kind,
        facts,
        hosts: hosts.len(),
        events: events.len(),
        first_seen: times.iter().min().map(|t| super::tools::fmt_ms(*t)),
        last_seen: times.iter().max().map(|t| super::tools::fmt_ms(*t)),
        alerts,
        incidents,
        reputation,
        risk,
        reasons,
        recommended,
        trace: trace.steps,
    })
}

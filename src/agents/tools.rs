//! The agents' tools and their trace: typed functions over the evidence (events in memory or
//! in the store, alerts, incidents), the local IOC list, the ATT&CK catalogue and the Sigma
//! rule metadata; every call is recorded as a ReAct step (thought, tool with arguments,
//! observation, decision) in a [`Trace`].
//!
//! Depends on `store`, `detect` and `correlate` records; knows nothing about the CLI.

use super::correlate::{Dismissed, Incident};
use super::detect::{Alert, RuleMeta};
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;
use std::path::Path;

/// One ReAct step of an agent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Step {
    pub agent: String,
    pub thought: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Json::is_null")]
    pub args: Json,
    pub observation: String,
    pub decision: String,
}

/// The steps of one run, in order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Trace {
    pub steps: Vec<Step>,
}

impl Trace {
    /// Records a step.
    pub fn step(
        &mut self,
        agent: &str,
        thought: impl Into<String>,
        tool: Option<(&str, Json)>,
        observation: impl Into<String>,
        decision: impl Into<String>,
    ) {
        let (tool, args) = match tool {
            Some((t, a)) => (Some(t.to_string()), a),
            None => (None, Json::Null),
        };
        self.steps.push(Step {
            agent: agent.into(),
            thought: thought.into(),
            tool,
            args,
            observation: observation.into(),
            decision: decision.into(),
        });
    }
}

/// Where events come from: the events of a run in memory, or the store.
#[derive(Clone, Copy)]
pub enum Events<'a> {
    Memory(&'a [Map<String, Json>]),
    Store(&'a Store),
    None,
}

/// One entry of the local IOC list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ioc {
    pub value: String,
    pub kind: String,
    /// `malicious`, `suspicious` or `benign` (an allow-list entry).
    pub reputation: String,
    pub source: String,
}

/// The local IOC list: files of `value[,kind[,reputation[,source]]]` lines (`#` comments).
#[derive(Debug, Clone, Default)]
pub struct IocList {
    entries: BTreeMap<String, Ioc>,
}

impl IocList {
    /// Loads IOC files (one feed per file; the file name is the default source).
    pub fn load(paths: &[std::path::PathBuf]) -> anyhow::Result<IocList> {
        let mut list = IocList::default();
        for p in paths {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read the IOC list {}: {e}", p.display()))?;
            list.add_text(&text, &file_name(p))
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        }
        Ok(list)
    }

    /// Adds the lines of one feed.
    pub fn add_text(&mut self, text: &str, source: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split(',').map(str::trim).collect();
            let reputation = cols.get(2).copied().unwrap_or("malicious");
            if !["malicious", "suspicious", "benign"].contains(&reputation) {
                return Err(format!(
                    "line {}: reputation must be malicious, suspicious or benign, not {reputation:?}",
                    n + 1
                ));
            }
            let value = cols[0].to_string();
            self.entries.insert(
                value.to_lowercase(),
                Ioc {
                    kind: cols
                        .get(1)
                        .filter(|k| !k.is_empty())
                        .map(|k| k.to_string())
                        .unwrap_or_else(|| guess_kind(&value).into()),
                    reputation: reputation.into(),
                    source: cols.get(3).copied().unwrap_or(source).to_string(),
                    value,
                },
            );
        }
        Ok(())
    }

    /// The entry for a value, if listed.
    pub fn get(&self, value: &str) -> Option<&Ioc> {
        self.entries.get(&value.to_lowercase())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The IOC type of a value: ip, sha256, sha1, md5, url, domain or other.
pub fn guess_kind(v: &str) -> &'static str {
    let hex = v.chars().all(|c| c.is_ascii_hexdigit());
    if v.parse::<std::net::IpAddr>().is_ok() {
        "ip"
    } else if hex && v.len() == 64 {
        "sha256"
    } else if hex && v.len() == 40 {
        "sha1"
    } else if hex && v.len() == 32 {
        "md5"
    } else if v.contains("://") {
        "url"
    } else if v.contains('.') && !v.contains(['/', '\\', ' ']) {
        "domain"
    } else {
        "other"
    }
}

/// Whether an IP is outside the private, loopback, link-local and unspecified ranges.
pub fn is_public_ip(v: &str) -> bool {
    match v.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => {
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.octets()[0] == 100 && (64..128).contains(&a.octets()[1]))
        }
        Ok(std::net::IpAddr::V6(a)) => {
            !(a.is_loopback() || a.is_unspecified() || (a.segments()[0] & 0xfe00) == 0xfc00)
                && (a.segments()[0] & 0xffc0) != 0xfe80
        }
        Err(_) => false,
    }
}

/// The evidence an agent works on, and the tools over it.
pub struct Workspace<'a> {
    pub alerts: &'a [Alert],
    pub incidents: &'a [Incident],
    pub dismissed: &'a [Dismissed],
    pub events: Events<'a>,
    pub iocs: &'a IocList,
}

/// An event with its store id when it has one.
#[derive(Debug, Clone, Serialize)]
pub struct EventRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub event: Map<String, Json>,
}

impl<'a> Workspace<'a> {
    pub fn alert(&self, id: &str) -> Option<&'a Alert> {
        self.alerts.iter().find(|a| a.id == id)
    }

    pub fn incident(&self, id: &str) -> Option<&'a Incident> {
        self.incidents
            .iter()
            .find(|i| i.id == id || i.id.strip_prefix("INC-") == Some(id))
    }

    /// Tool `query_events`: events whose indexed `column` equals `value` in `[from, to]`.
    #[allow(clippy::too_many_arguments)] // one typed argument per tool parameter, as the trace records them
    pub fn query_events(
        &self,
        trace: &mut Trace,
        agent: &str,
        thought: &str,
        column: &str,
        value: &str,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
        limit: usize,
    ) -> Result<Vec<EventRef>, StoreError> {
        let out: Vec<EventRef> = match self.events {
            Events::Store(s) => s
                .events_by(column, value, from_ms, to_ms, limit)?
                .into_iter()
                .filter_map(|(id, e)| match e {
                    Json::Object(event) => Some(EventRef {
                        id: Some(id),
                        event,
                    }),
                    _ => None,
                })
                .collect(),
            Events::Memory(evs) => {
                let mut v: Vec<EventRef> = evs
                    .iter()
                    .filter(|e| {
                        crate::store::indexed_value(e, column).as_deref() == Some(value)
                            && in_range(crate::store::event_time_ms(e), from_ms, to_ms)
                    })
                    .map(|e| EventRef {
                        id: None,
                        event: e.clone(),
                    })
                    .collect();
                v.sort_by_key(|e| crate::store::event_time_ms(&e.event));
                v.truncate(limit);
                v
            }
            Events::None => Vec::new(),
        };
        trace.step(
            agent,
            thought,
            Some((
                "query_events",
                json!({"column": column, "value": value, "from": from_ms.map(fmt_ms), "to": to_ms.map(fmt_ms), "limit": limit}),
            )),
            format!("{} events", out.len()),
            "",
        );
        Ok(out)
    }

    /// Tool `process_tree`: the ancestors and descendants of a process on a host, from the
    /// host's process events around `around_ms` (±1 day).
    pub fn process_tree(
        &self,
        trace: &mut Trace,
        agent: &str,
        host: &str,
        entity_id: &str,
        around_ms: Option<i64>,
    ) -> Result<Vec<Json>, StoreError> {
        let day = 86_400_000;
        let evs = self.query_events(
            trace,
            agent,
            &format!("Process events of {host} to rebuild the tree of {entity_id}"),
            "host",
            host,
            around_ms.map(|t| t - day),
            around_ms.map(|t| t + day),
            20_000,
        )?;
        let mut procs: BTreeMap<String, (Option<String>, Json)> = BTreeMap::new();
        for e in &evs {
            let get = |f: &str| crate::store::lookup(&e.event, f).and_then(text);
            if let Some(id) = get("process.entity_id") {
                procs.entry(id.clone()).or_insert((
                    get("process.parent.entity_id"),
                    json!({"entity_id": id, "executable": get("process.executable").or(get("process.name")),
                    "command_line": get("process.command_line"), "parent": get("process.parent.entity_id"),
                    "@timestamp": get("@timestamp")}),
                ));
            }
        }
        let mut chain = Vec::new();
        let mut cur = Some(entity_id.to_string());
        let mut seen = std::collections::BTreeSet::new();
        while let Some(id) = cur {
            if !seen.insert(id.clone()) {
                break;
            }
            match procs.get(&id) {
                Some((parent, doc)) => {
                    chain.push(doc.clone());
                    cur = parent.clone();
                }
                None => break,
            }
        }
        chain.reverse();
        let children: Vec<Json> = procs
            .values()
            .filter(|(p, _)| p.as_deref() == Some(entity_id))
            .map(|(_, d)| d.clone())
            .collect();
        chain.extend(children);
        if let Some(step) = trace.steps.last_mut() {
            step.decision = format!(
                "process tree of {entity_id}: {} processes (ancestors and children)",
                chain.len()
            );
        }
        Ok(chain)
    }

    /// Tool `ioc_lookup`: the listed values among `values`.
    pub fn ioc_lookup(&self, trace: &mut Trace, agent: &str, values: &[String]) -> Vec<Ioc> {
        let hits: Vec<Ioc> = values
            .iter()
            .filter_map(|v| self.iocs.get(v).cloned())
            .collect();
        trace.step(
            agent,
            "Check the incident's observables against the local IOC list",
            Some(("ioc_lookup", json!({"values": values}))),
            if hits.is_empty() {
                format!(
                    "none of {} values is listed ({} entries)",
                    values.len(),
                    self.iocs.len()
                )
            } else {
                hits.iter()
                    .map(|h| format!("{} is {} ({})", h.value, h.reputation, h.source))
                    .collect::<Vec<_>>()
                    .join("; ")
            },
            "",
        );
        hits
    }

    /// Tool `attack_lookup`: validates technique ids against the catalogue.
    pub fn attack_lookup(
        &self,
        trace: &mut Trace,
        agent: &str,
        ids: &[String],
    ) -> (Vec<&'static super::attack::Technique>, Vec<String>) {
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for id in ids {
            match super::attack::technique(id) {
                Some(t) => ok.push(t),
                None => bad.push(id.clone()),
            }
        }
        trace.step(
            agent,
            "Validate the techniques against the ATT&CK catalogue",
            Some(("attack_lookup", json!({"ids": ids}))),
            format!(
                "{} known (ATT&CK {}){}",
                ok.len(),
                super::attack::version(),
                if bad.is_empty() {
                    String::new()
                } else {
                    format!("; unknown: {}", bad.join(", "))
                }
            ),
            if bad.is_empty() {
                "keep all".to_string()
            } else {
                "drop the unknown ids".to_string()
            },
        );
        (ok, bad)
    }

    /// Tool `sigma_rule`: the metadata of the rules behind alerts.
    pub fn sigma_rules(
        &self,
        trace: &mut Trace,
        agent: &str,
        alert_ids: &[String],
    ) -> Vec<RuleMeta> {
        let mut out: Vec<RuleMeta> = Vec::new();
        for id in alert_ids {
            if let Some(a) = self.alert(id)
                && !out.iter().any(|r| r.id == a.rule.id)
            {
                out.push(a.rule.clone());
            }
        }
        trace.step(
            agent,
            "Read the Sigma rules behind the alerts (title, level, author, tags)",
            Some((
                "sigma_rule",
                json!({"rule_ids": out.iter().map(|r| &r.id).collect::<Vec<_>>()}),
            )),
            out.iter()
                .map(|r| format!("{} ({}, by {})", r.title, r.level, r.author))
                .collect::<Vec<_>>()
                .join("; "),
            "",
        );
        out
    }

    /// Tool `related_alerts`: alerts of the same rule on the same host outside a set, and
    /// the dismissed ones among them.
    pub fn related_alerts(
        &self,
        trace: &mut Trace,
        agent: &str,
        rule_id: &str,
        host: &str,
        exclude: &[String],
    ) -> (Vec<&'a Alert>, usize) {
        let others: Vec<&Alert> = self
            .alerts
            .iter()
            .filter(|a| {
                a.rule.id == rule_id
                    && !exclude.contains(&a.id)
                    && super::correlate::entities(a)
                        .iter()
                        .any(|e| e.kind == "host" && e.value == host)
            })
            .collect();
        let dismissed = others
            .iter()
            .filter(|a| self.dismissed.iter().any(|d| d.alert == a.id))
            .count();
        trace.step(
            agent,
            format!("Has this rule fired on {host} outside the incident (a recurring job)?"),
            Some(("related_alerts", json!({"rule_id": rule_id, "host": host}))),
            format!(
                "{} other alerts, {dismissed} dismissed as recurring",
                others.len()
            ),
            "",
        );
        (others, dismissed)
    }
}

fn in_range(t: Option<i64>, from: Option<i64>, to: Option<i64>) -> bool {
    match t {
        Some(t) => from.is_none_or(|f| t >= f) && to.is_none_or(|x| t <= x),
        None => from.is_none() && to.is_none(),
    }
}

/// A JSON scalar as text.
pub fn text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Array(xs) => xs.first().and_then(text),
        _ => None,
    }
}

/// Unix milliseconds as RFC 3339.
pub fn fmt_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioc_lists_parse_and_refuse_bad_reputations() {
        let mut l = IocList::default();
        l.add_text(
            "# feed\n203.0.113.66\nevil.example,domain,suspicious,osint\n",
            "f",
        )
        .unwrap();
        assert_eq!(l.get("203.0.113.66").unwrap().kind, "ip");
        assert_eq!(l.get("EVIL.example").unwrap().reputation, "suspicious");
        assert!(
            l.add_text("x,ip,bad", "f")
                .unwrap_err()
                .contains("reputation")
        );
    }

    #[test]
    fn public_ips() {
        assert!(is_public_ip("203.0.113.5"));
        assert!(!is_public_ip("10.1.2.3"));
        assert!(!is_public_ip("192.168.1.1"));
        assert!(!is_public_ip("fe80::1"));
        assert!(!is_public_ip("web-01"));
    }
}

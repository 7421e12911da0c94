//! Investigation: one incident → summary, timeline, affected assets, malicious entities,
//! validated ATT&CK techniques, the attack path as a graph of entities and events, the root
//! cause (initial intrusion point with its evidence events) and a verdict with confidence and
//! the evidence that decided it. Deterministic: the reasoning knowledge (signal weights,
//! scheduler and service-account patterns, technique inference rules) is the data file
//! `knowledge/investigate.toml`; every step goes to the [`Trace`].
//!
//! Depends on `tools` (the evidence), `attack` (the catalogue) and `correlate` records.

use super::attack;
use super::correlate::{self, Incident};
use super::detect::Alert;
use super::tools::{Ioc, Trace, Workspace, is_public_ip, text};
use crate::store::{StoreError, lookup};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

type Map = serde_json::Map<String, Json>;

#[derive(Deserialize)]
struct KnowledgeFile {
    verdict: VerdictCfg,
    weights: BTreeMap<String, f64>,
    limits: Limits,
    impact_tactics: Vec<String>,
    entry_tactics: Vec<String>,
    schedulers: Vec<String>,
    service_accounts: Vec<String>,
    system_binaries: Vec<String>,
    infer: Vec<InferSpec>,
}

#[derive(Deserialize)]
struct VerdictCfg {
    confirm_at: f64,
    false_positive_at: f64,
}

#[derive(Deserialize)]
struct Limits {
    volume_min: usize,
    recurring_min: usize,
}

#[derive(Deserialize)]
struct InferSpec {
    technique: String,
    why: String,
    when: Vec<CondSpec>,
}

#[derive(Deserialize)]
struct CondSpec {
    field: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    public: bool,
}

/// (technique, why, conditions: field, regex, public-IP test)
type InferRule = (String, String, Vec<(String, Option<Regex>, bool)>);

struct Knowledge {
    file: KnowledgeFile,
    schedulers: Vec<Regex>,
    service_accounts: Vec<Regex>,
    system_binaries: Vec<Regex>,
    infer: Vec<InferRule>,
}

fn ci(r: &str) -> Regex {
    Regex::new(&format!("(?i){r}")).expect("investigate.toml regexes are checked by a test")
}

static KNOWLEDGE: LazyLock<Knowledge> = LazyLock::new(|| {
    let file: KnowledgeFile = toml::from_str(include_str!("knowledge/investigate.toml"))
        .expect("investigate.toml is checked by a test");
    Knowledge {
        schedulers: file.schedulers.iter().map(|r| ci(r)).collect(),
        service_accounts: file.service_accounts.iter().map(|r| ci(r)).collect(),
        system_binaries: file.system_binaries.iter().map(|r| ci(r)).collect(),
        infer: file
            .infer
            .iter()
            .map(|i| {
                (
                    i.technique.clone(),
                    i.why.clone(),
                    i.when
                        .iter()
                        .map(|c| (c.field.clone(), c.regex.as_deref().map(ci), c.public))
                        .collect(),
                )
            })
            .collect(),
        file,
    }
});

fn weight(name: &str) -> f64 {
    KNOWLEDGE.file.weights.get(name).copied().unwrap_or(0.0)
}

/// The three verdicts.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    ConfirmedAttack,
    SuspectedFalsePositive,
    InsufficientInformation,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::ConfirmedAttack => "confirmed_attack",
            Verdict::SuspectedFalsePositive => "suspected_false_positive",
            Verdict::InsufficientInformation => "insufficient_information",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        [
            Verdict::ConfirmedAttack,
            Verdict::SuspectedFalsePositive,
            Verdict::InsufficientInformation,
        ]
        .into_iter()
        .find(|v| v.as_str() == s.trim().replace([' ', '-'], "_"))
    }

    /// Words for a person.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::ConfirmedAttack => "confirmed attack",
            Verdict::SuspectedFalsePositive => "suspected false positive",
            Verdict::InsufficientInformation => "insufficient information",
        }
    }
}

/// One piece of evidence weighed for the verdict.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Evidence {
    pub signal: String,
    pub weight: f64,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<String>,
}

/// A validated technique and where it came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TechniqueRef {
    pub id: String,
    pub name: String,
    pub tactics: Vec<String>,
    /// `sigma: <rule title>` or `inferred: <why>`.
    pub sources: Vec<String>,
    pub alerts: Vec<String>,
}

/// The initial intrusion point.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RootCause {
    pub alert: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub summary: String,
    /// Entities at the entry point (kind, value).
    pub entry: Vec<(String, String)>,
    /// The evidence events (the alert's event, and the requests it was traced to).
    pub evidence: Vec<Json>,
}

/// One line of the timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelineEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// `alert` or `request` (a web request an alert was traced to).
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    pub title: String,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tactics: Vec<String>,
}

/// An entity of the incident with what it is to the investigation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntityRef {
    pub kind: String,
    pub value: String,
    pub roles: Vec<String>,
    pub alerts: usize,
}

/// An indicator of compromise.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IocRef {
    /// `ipv4`, `ipv6`, `domain`, `sha256`, `sha1`, `md5`, `url`, `file`, `process`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reputation: Option<String>,
}

/// A node of the attack path.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Node {
    pub id: String,
    pub kind: String,
    pub label: String,
}

/// An edge of the attack path: an event that relates two entities.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
}

/// The attack path: entities and the events between them, in time order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// The Sigma rule behind a cited alert, with its author (DRL 1.1 attribution).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleCredit {
    pub id: String,
    pub title: String,
    pub level: String,
    pub author: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub license: String,
    pub alerts: usize,
}

/// The investigation of one incident.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Investigation {
    pub incident: String,
    pub title: String,
    pub summary: String,
    pub verdict: Verdict,
    pub confidence: f64,
    /// The weighed evidence, strongest first; `decided_by` names what carried the verdict.
    pub evidence: Vec<Evidence>,
    pub decided_by: Vec<String>,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Technique ids, validated against the ATT&CK catalogue.
    pub techniques: Vec<String>,
    pub technique_details: Vec<TechniqueRef>,
    /// Ids named by rules but absent from the catalogue (dropped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_techniques: Vec<String>,
    /// Tactics in kill-chain order.
    pub tactics: Vec<String>,
    pub root_cause: Option<RootCause>,
    pub timeline: Vec<TimelineEntry>,
    pub assets: Vec<EntityRef>,
    pub malicious_entities: Vec<EntityRef>,
    pub iocs: Vec<IocRef>,
    pub attack_path: Graph,
    pub rules: Vec<RuleCredit>,
    /// Response recommendations (filled by the response agent).
    pub recommendations: Vec<super::respond::Recommendation>,
    pub trace: Vec<super::tools::Step>,
}

const AGENT: &str = "investigator";

/// Investigates one incident.
pub fn investigate(ws: &Workspace<'_>, inc: &Incident) -> Result<Investigation, StoreError> {
    let mut trace = Trace::default();
    let alerts: Vec<&Alert> = inc.alert_ids.iter().filter_map(|id| ws.alert(id)).collect();
    let mut sorted = alerts.clone();
    sorted.sort_by_key(|a| (a.time_ms().is_none(), a.time_ms()));
    trace.step(
        AGENT,
        format!("Start from incident {}: what do its alerts say?", inc.id),
        Some(("incident_alerts", json!({"incident": inc.id}))),
        format!(
            "{} alerts of {} rules, {} entities, {} → {}",
            alerts.len(),
            inc.groups.len(),
            inc.entities.len(),
            inc.first.as_deref().unwrap_or("?"),
            inc.last.as_deref().unwrap_or("?")
        ),
        "read the rules, infer techniques, then weigh the evidence",
    );
    let rules = ws.sigma_rules(&mut trace, AGENT, &inc.alert_ids);

    // Techniques: rule tags plus inference over the alerts' events, validated.
    let mut tech: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut per_alert_tactics: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in &alerts {
        for t in &a.threat.techniques {
            let e = tech.entry(t.to_ascii_uppercase()).or_default();
            e.0.insert(format!("sigma: {}", a.rule.title));
            e.1.insert(a.id.clone());
        }
        for (t, why) in infer_techniques(a) {
            let e = tech.entry(t).or_default();
            e.0.insert(format!("inferred: {why}"));
            e.1.insert(a.id.clone());
        }
        per_alert_tactics
            .entry(a.id.clone())
            .or_default()
            .extend(a.threat.tactics.iter().map(|t| t.replace('_', "-")));
    }
    // What the attacking addresses did in the incident's window, alert or not.
    let hour = 3_600_000;
    let win_from = alerts
        .iter()
        .filter_map(|a| a.time_ms())
        .min()
        .map(|t| t - hour);
    let win_to = alerts
        .iter()
        .filter_map(|a| a.time_ms())
        .max()
        .map(|t| t + hour);
    for e in inc.entities.iter().filter(|e| {
        e.kind == "ip" && e.roles.iter().any(|r| r == "source") && is_public_ip(&e.value)
    }) {
        let evs = ws.query_events(
            &mut trace,
            AGENT,
            &format!("What else did {} do in the incident's window?", e.value),
            "source_ip",
            &e.value,
            win_from,
            win_to,
            5_000,
        )?;
        let mut found = BTreeSet::new();
        for ev in &evs {
            for (t, why) in infer_on(&ev.event, "", "", &[]) {
                if !tech.contains_key(&t) {
                    found.insert(t.clone());
                }
                tech.entry(t)
                    .or_default()
                    .0
                    .insert(format!("inferred from an event of {}: {why}", e.value));
            }
        }
        if let Some(step) = trace.steps.last_mut() {
            step.decision = if found.is_empty() {
                "nothing beyond the alerts".into()
            } else {
                format!("adds {}", found.into_iter().collect::<Vec<_>>().join(", "))
            };
        }
    }
    let ids: Vec<String> = tech.keys().cloned().collect();
    let (known, rejected) = ws.attack_lookup(&mut trace, AGENT, &ids);
    let technique_details: Vec<TechniqueRef> = known
        .iter()
        .map(|t| {
            let (src, al) = &tech[&t.id];
            for a in al {
                per_alert_tactics
                    .entry(a.clone())
                    .or_default()
                    .extend(t.tactics.iter().cloned());
            }
            TechniqueRef {
                id: t.id.clone(),
                name: t.name.clone(),
                tactics: t.tactics.clone(),
                sources: src.iter().cloned().collect(),
                alerts: al.iter().cloned().collect(),
            }
        })
        .collect();
    let mut tactics: Vec<String> = per_alert_tactics
        .values()
        .flatten()
        .filter(|t| attack::tactic_rank(t).is_some())
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    tactics.sort_by_key(|t| attack::tactic_rank(t));

    // Observables and IOC reputation.
    let ents: Vec<EntityRef> = inc
        .entities
        .iter()
        .map(|e| EntityRef {
            kind: e.kind.clone(),
            value: e.value.clone(),
            roles: e.roles.clone(),
            alerts: e.alerts,
        })
        .collect();
    let observables: Vec<String> = ents
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "ip" | "domain" | "file_hash" | "file"))
        .map(|e| e.value.clone())
        .collect();
    let hits = ws.ioc_lookup(&mut trace, AGENT, &observables);

    // Context: process trees of the process alerts, events around each host.
    for a in sorted.iter().take(3) {
        let get = |f: &str| lookup(&a.event, f).and_then(text);
        if let (Some(host), Some(pid)) = (get("host.name"), get("process.entity_id")) {
            ws.process_tree(&mut trace, AGENT, &host, &pid, a.time_ms())?;
        }
    }

    // Connections of the alerts' processes (and their children) to public addresses around
    // the incident: where a payload came from or a C2 channel went.
    let mut contacts: Vec<(String, String, Option<String>)> = Vec::new();
    let procs: BTreeSet<String> = alerts
        .iter()
        .filter_map(|a| lookup(&a.event, "process.entity_id").and_then(text))
        .collect();
    let hosts: BTreeSet<String> = alerts
        .iter()
        .filter(|a| !procs.is_empty() && lookup(&a.event, "process.entity_id").is_some())
        .filter_map(|a| lookup(&a.event, "host.name").and_then(text))
        .collect();
    let hour = 3_600_000;
    let from = alerts
        .iter()
        .filter_map(|a| a.time_ms())
        .min()
        .map(|t| t - hour);
    let to = alerts
        .iter()
        .filter_map(|a| a.time_ms())
        .max()
        .map(|t| t + hour);
    for h in &hosts {
        let evs = ws.query_events(
            &mut trace,
            AGENT,
            &format!("Did the alerting processes on {h} connect out?"),
            "host",
            h,
            from,
            to,
            20_000,
        )?;
        let mut family = procs.clone();
        for e in &evs {
            let get = |f: &str| lookup(&e.event, f).and_then(text);
            if let (Some(p), Some(pp)) = (get("process.entity_id"), get("process.parent.entity_id"))
                && family.contains(&pp)
            {
                family.insert(p);
            }
        }
        for e in &evs {
            let get = |f: &str| lookup(&e.event, f).and_then(text);
            if let (Some(p), Some(d)) = (get("process.entity_id"), get("destination.ip"))
                && family.contains(&p)
                && is_public_ip(&d)
                && !contacts.iter().any(|c| c.0 == d)
            {
                let exe = get("process.executable").unwrap_or(p);
                contacts.push((d, format!("contacted by {exe}"), get("@timestamp")));
                if let Some(dom) = get("destination.domain") {
                    contacts.push((dom, format!("contacted by {exe}"), get("@timestamp")));
                }
            }
        }
        if let Some(step) = trace.steps.last_mut() {
            step.decision = format!("{} public destinations contacted", contacts.len());
        }
    }

    // Recurrence of each (rule, host) outside the incident.
    let mut recurring: Vec<(String, String, usize, usize)> = Vec::new();
    let mut seen_pairs = BTreeSet::new();
    for a in &alerts {
        for h in correlate::entities(a)
            .into_iter()
            .filter(|e| e.kind == "host")
        {
            if seen_pairs.insert((a.rule.id.clone(), h.value.clone())) {
                let (others, dismissed) =
                    ws.related_alerts(&mut trace, AGENT, &a.rule.id, &h.value, &inc.alert_ids);
                recurring.push((
                    a.rule.title.clone(),
                    h.value.clone(),
                    others.len(),
                    dismissed,
                ));
            }
        }
    }

    // A progression needs tactics from different alerts, not one rule's many tags.
    let tactic_sets: BTreeSet<Vec<&String>> = alerts
        .iter()
        .filter_map(|a| per_alert_tactics.get(&a.id))
        .map(|ts| ts.iter().collect())
        .collect();
    let progression = tactics.len() >= 2 && tactic_sets.len() >= 2;
    let evidence = weigh(
        inc,
        &alerts,
        &tactics,
        progression,
        &ents,
        &hits,
        &recurring,
    );
    let attack_score: f64 = evidence
        .iter()
        .filter(|e| e.weight > 0.0)
        .map(|e| e.weight)
        .sum();
    let benign_score: f64 = -evidence
        .iter()
        .filter(|e| e.weight < 0.0)
        .map(|e| e.weight)
        .sum::<f64>();
    let cfg = &KNOWLEDGE.file.verdict;
    let verdict = if attack_score >= cfg.confirm_at && attack_score > benign_score {
        Verdict::ConfirmedAttack
    } else if benign_score >= cfg.false_positive_at && benign_score >= attack_score {
        Verdict::SuspectedFalsePositive
    } else {
        Verdict::InsufficientInformation
    };
    let confidence = confidence(verdict, attack_score, benign_score);
    let decided_by: Vec<String> = evidence
        .iter()
        .filter(|e| match verdict {
            Verdict::ConfirmedAttack => e.weight > 0.0,
            Verdict::SuspectedFalsePositive => e.weight < 0.0,
            Verdict::InsufficientInformation => true,
        })
        .map(|e| e.signal.clone())
        .collect();
    trace.step(
        AGENT,
        "Weigh the evidence for and against an attack",
        None,
        format!(
            "attack {attack_score:.1} ({}), benign {benign_score:.1} ({})",
            evidence
                .iter()
                .filter(|e| e.weight > 0.0)
                .map(|e| e.signal.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            evidence
                .iter()
                .filter(|e| e.weight < 0.0)
                .map(|e| e.signal.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!("{} (confidence {confidence:.2})", verdict.label()),
    );

    let root_cause = root_cause(&sorted, &per_alert_tactics, ws);
    if let Some(rc) = &root_cause {
        trace.step(
            AGENT,
            "Find the initial intrusion point: the earliest alert of an entry tactic, else the earliest alert",
            None,
            rc.summary.clone(),
            format!("root cause is alert {}", rc.alert),
        );
    }
    let timeline = timeline(&sorted, &per_alert_tactics);
    let mut iocs = iocs(&ents, &alerts, &hits, verdict);
    if verdict != Verdict::SuspectedFalsePositive {
        for (v, role, t) in contacts {
            if !iocs.iter().any(|i| i.value == v) {
                iocs.push(IocRef {
                    kind: match super::tools::guess_kind(&v) {
                        "ip" if v.contains(':') => "ipv6".into(),
                        "ip" => "ipv4".into(),
                        k => k.into(),
                    },
                    value: v,
                    role,
                    first_seen: t,
                    reputation: None,
                });
            }
        }
    }
    let (assets, malicious): (Vec<EntityRef>, Vec<EntityRef>) =
        ents.into_iter().partition(is_asset);
    let malicious_entities = if verdict == Verdict::SuspectedFalsePositive {
        Vec::new()
    } else {
        malicious
    };
    let attack_path = attack_path(&sorted);
    let mut credits: Vec<RuleCredit> = Vec::new();
    for r in &rules {
        credits.push(RuleCredit {
            id: r.id.clone(),
            title: r.title.clone(),
            level: r.level.clone(),
            author: r.author.clone(),
            license: r.license.clone(),
            alerts: alerts.iter().filter(|a| a.rule.id == r.id).count(),
        });
    }
    let hosts: Vec<&str> = assets
        .iter()
        .filter(|e| e.kind == "host")
        .map(|e| e.value.as_str())
        .collect();
    let summary = format!(
        "{} ({:.0}% confidence): {} alert{} from {} rule{} between {} and {}{}{}. {}Decided by: {}.",
        capitalize(verdict.label()),
        confidence * 100.0,
        alerts.len(),
        plural(alerts.len()),
        credits.len(),
        plural(credits.len()),
        inc.first.as_deref().unwrap_or("?"),
        inc.last.as_deref().unwrap_or("?"),
        if hosts.is_empty() {
            String::new()
        } else {
            format!(" on {}", hosts.join(", "))
        },
        if tactics.is_empty() {
            String::new()
        } else {
            format!("; tactics {}", tactics.join(" → "))
        },
        root_cause
            .as_ref()
            .map(|r| format!("Entry: {}. ", r.summary))
            .unwrap_or_default(),
        evidence
            .iter()
            .filter(|e| decided_by.contains(&e.signal))
            .map(|e| e.detail.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok(Investigation {
        incident: inc.id.clone(),
        title: inc.title.clone(),
        summary,
        verdict,
        confidence,
        evidence,
        decided_by,
        first: inc.first.clone(),
        last: inc.last.clone(),
        techniques: technique_details.iter().map(|t| t.id.clone()).collect(),
        technique_details,
        rejected_techniques: rejected,
        tactics,
        root_cause,
        timeline,
        assets,
        malicious_entities,
        iocs,
        attack_path,
        rules: credits,
        recommendations: Vec::new(),
        trace: trace.steps,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Confidence from the margin between the two sides.
fn confidence(v: Verdict, attack: f64, benign: f64) -> f64 {
    let c = match v {
        Verdict::ConfirmedAttack => 0.6 + 0.04 * (attack - benign),
        Verdict::SuspectedFalsePositive => 0.55 + 0.06 * (benign - attack),
        Verdict::InsufficientInformation => 0.5 - 0.05 * (attack - benign).abs(),
    };
    (c.clamp(0.3, 0.99) * 100.0).round() / 100.0
}

/// The techniques the inference rules give for one alert.
pub fn infer_techniques(a: &Alert) -> Vec<(String, String)> {
    infer_on(&a.event, &a.rule.title, &a.logsource, &a.threat.tactics)
}

/// The techniques the inference rules give for one event (of an alert, or of the context).
fn infer_on(
    event: &Map,
    title: &str,
    logsource: &str,
    tactics: &[String],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (tech, why, conds) in &KNOWLEDGE.infer {
        let ok = conds.iter().all(|(field, re, public)| {
            let values: Vec<String> = match field.as_str() {
                "rule.title" => vec![title.to_string()],
                "logsource" => vec![logsource.to_string()],
                "tactic" => tactics.to_vec(),
                f => lookup(event, f)
                    .map(|v| match v {
                        Json::Array(xs) => xs.iter().filter_map(text).collect(),
                        v => text(v).into_iter().collect(),
                    })
                    .unwrap_or_default(),
            };
            values
                .iter()
                .any(|v| re.as_ref().is_none_or(|r| r.is_match(v)) && (!*public || is_public_ip(v)))
        });
        if ok && !out.iter().any(|(t, _): &(String, String)| t == tech) {
            out.push((tech.clone(), why.clone()));
        }
    }
    out
}

fn level_rank(l: &str) -> usize {
    ["informational", "low", "medium", "high", "critical"]
        .iter()
        .position(|x| x.eq_ignore_ascii_case(l))
        .unwrap_or(2)
}

fn ev(signal: &str, detail: String, alerts: Vec<String>) -> Evidence {
    Evidence {
        signal: signal.into(),
        weight: weight(signal),
        detail,
        alerts,
    }
}

fn weigh(
    inc: &Incident,
    alerts: &[&Alert],
    tactics: &[String],
    progression: bool,
    ents: &[EntityRef],
    hits: &[Ioc],
    recurring: &[(String, String, usize, usize)],
) -> Vec<Evidence> {
    let k = &KNOWLEDGE;
    let mut out = Vec::new();
    if let Some(top) = alerts.iter().max_by_key(|a| level_rank(&a.rule.level)) {
        let signal = match level_rank(&top.rule.level) {
            4 => "severity_critical",
            3 => "severity_high",
            2 => "severity_medium",
            _ => "low_only",
        };
        out.push(ev(
            signal,
            format!("highest level {} (\"{}\")", top.rule.level, top.rule.title),
            vec![top.id.clone()],
        ));
    }
    let tb_id = super::detect::traceback::rule().id;
    let distinct: BTreeSet<&str> = alerts
        .iter()
        .filter(|a| a.rule.id != tb_id)
        .map(|a| a.rule.title.as_str())
        .collect();
    if distinct.len() >= 2 {
        out.push(ev(
            "several_rules",
            format!("{} distinct rules agree", distinct.len()),
            vec![],
        ));
    }
    if distinct.len() >= 3 {
        out.push(ev(
            "many_rules",
            format!("{} distinct rules", distinct.len()),
            vec![],
        ));
    }
    // Progression: tactics appear in kill-chain order over time (not all at once).
    if progression {
        out.push(ev(
            "tactic_progression",
            format!("tactics {}", tactics.join(" → ")),
            vec![],
        ));
    }
    if progression && tactics.len() >= 3 {
        out.push(ev(
            "long_chain",
            format!("{} tactics", tactics.len()),
            vec![],
        ));
    }
    let impact: Vec<&String> = tactics
        .iter()
        .filter(|t| k.file.impact_tactics.contains(t))
        .collect();
    if !impact.is_empty() {
        out.push(ev(
            "impact_tactic",
            impact
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            vec![],
        ));
    }
    let external: Vec<&EntityRef> = ents
        .iter()
        .filter(|e| e.kind == "ip" && is_public_ip(&e.value))
        .collect();
    if !external.is_empty() {
        out.push(ev(
            "external_peer",
            format!(
                "public address{} {}",
                if external.len() > 1 { "es" } else { "" },
                external
                    .iter()
                    .map(|e| format!("{} ({})", e.value, e.roles.join("/")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            vec![],
        ));
    }
    let bad: Vec<&Ioc> = hits.iter().filter(|h| h.reputation != "benign").collect();
    if !bad.is_empty() {
        out.push(ev(
            "ioc_malicious",
            format!(
                "listed: {}",
                bad.iter()
                    .map(|h| format!("{} ({}, {})", h.value, h.reputation, h.source))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            vec![],
        ));
    }
    let good: Vec<&Ioc> = hits.iter().filter(|h| h.reputation == "benign").collect();
    if !good.is_empty() {
        out.push(ev(
            "ioc_benign",
            format!(
                "allow-listed: {}",
                good.iter()
                    .map(|h| format!("{} ({})", h.value, h.source))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            vec![],
        ));
    }
    let tb: Vec<String> = alerts
        .iter()
        .filter(|a| a.rule.id == tb_id)
        .map(|a| a.id.clone())
        .collect();
    if !tb.is_empty() {
        out.push(ev(
            "traceback",
            "web attack requests traced to a host alert on the web server".into(),
            tb.clone(),
        ));
    }
    let related: usize = alerts.iter().map(|a| a.related.len()).sum();
    if related >= k.file.limits.volume_min {
        out.push(ev(
            "volume",
            format!("{related} related events back the alerts"),
            vec![],
        ));
    }
    let rec: Vec<String> = recurring
        .iter()
        .filter(|(_, _, n, d)| *n >= k.file.limits.recurring_min || *d > 0)
        .map(|(rule, host, n, d)| {
            format!("\"{rule}\" fired {n} more times on {host} outside the incident ({d} dismissed as a schedule)")
        })
        .collect();
    if !rec.is_empty() {
        out.push(ev("recurring", rec.join("; "), vec![]));
    }
    let proc_alerts: Vec<&&Alert> = alerts
        .iter()
        .filter(|a| lookup(&a.event, "process.executable").is_some())
        .collect();
    let scheduled: Vec<String> = proc_alerts
        .iter()
        .filter_map(|a| {
            ["process.parent.executable", "process.parent.command_line"]
                .iter()
                .filter_map(|f| lookup(&a.event, f).and_then(text))
                .find(|p| k.schedulers.iter().any(|r| r.is_match(p)))
        })
        .collect();
    if !proc_alerts.is_empty() && scheduled.len() == proc_alerts.len() {
        let mut names = scheduled.clone();
        names.dedup();
        out.push(ev(
            "scheduler_parent",
            format!("started by the job scheduler ({})", names.join(", ")),
            proc_alerts.iter().map(|a| a.id.clone()).collect(),
        ));
    }
    let users: Vec<&EntityRef> = ents.iter().filter(|e| e.kind == "user").collect();
    if !users.is_empty()
        && users
            .iter()
            .all(|u| k.service_accounts.iter().any(|r| r.is_match(&u.value)))
    {
        out.push(ev(
            "service_account",
            format!(
                "service account{} {}",
                plural(users.len()),
                users
                    .iter()
                    .map(|u| u.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            vec![],
        ));
    }
    if distinct.len() <= 1 && bad.is_empty() && tb.is_empty() && !progression {
        out.push(ev(
            "isolated",
            format!(
                "one rule (\"{}\") with nothing to corroborate it",
                distinct
                    .iter()
                    .next()
                    .copied()
                    .unwrap_or(inc.title.as_str())
            ),
            vec![],
        ));
    }
    out.sort_by(|a, b| {
        b.weight
            .abs()
            .partial_cmp(&a.weight.abs())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.signal.cmp(&b.signal))
    });
    out
}

/// A one-line account of an event from the fields it has.
pub fn describe(event: &Map) -> String {
    let get = |f: &str| lookup(event, f).and_then(text);
    let mut parts: Vec<String> = Vec::new();
    if let Some(src) = get("source.ip") {
        let who = get("user.name")
            .map(|u| format!(" as {u}"))
            .unwrap_or_default();
        parts.push(format!("from {src}{who}"));
    } else if let Some(u) = get("user.name") {
        parts.push(format!("user {u}"));
    }
    if let Some(h) = get("host.name").or(get("host.hostname")) {
        parts.push(format!("on {h}"));
    }
    if let Some(a) = get("event.action") {
        parts.push(format!("action {a}"));
    }
    if let Some(m) = get("http.request.method") {
        let url = get("url.original").or(get("url.path")).unwrap_or_default();
        let status = get("http.response.status_code")
            .map(|s| format!(" → {s}"))
            .unwrap_or_default();
        parts.push(format!("{m} {url}{status}"));
    }
    if let Some(p) = get("process.executable").or(get("process.name")) {
        let parent = get("process.parent.executable")
            .map(|p| format!("{} started ", basename(&p)))
            .unwrap_or_default();
        let cmd = get("process.command_line")
            .map(|c| format!(": {}", truncate(&c, 160)))
            .unwrap_or_default();
        parts.push(format!("{parent}{}{cmd}", basename(&p)));
    }
    if let Some(f) = get("file.path") {
        parts.push(format!("file {f}"));
    }
    if let Some(d) = get("destination.ip") {
        let port = get("destination.port")
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        parts.push(format!("to {d}{port}"));
    }
    if parts.is_empty()
        && let Some(m) = get("message").or(get("event.original"))
    {
        parts.push(truncate(&m, 160));
    }
    parts.join(", ")
}

fn basename(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).collect::<String>() + "…"
    }
}

fn root_cause(
    sorted: &[&Alert],
    tactics: &BTreeMap<String, BTreeSet<String>>,
    _ws: &Workspace<'_>,
) -> Option<RootCause> {
    let entry = KNOWLEDGE.file.entry_tactics.iter().find_map(|t| {
        sorted
            .iter()
            .find(|a| tactics.get(&a.id).is_some_and(|ts| ts.contains(t)))
    });
    // A traceback alert reaches back to the first attack request: prefer it when it starts earlier.
    let tb_id = super::detect::traceback::rule().id;
    let tb = sorted.iter().find(|a| a.rule.id == tb_id);
    let a = *entry.or(sorted.first())?;
    let mut evidence = vec![json!({"alert": a.id, "@timestamp": a.timestamp, "event": a.event})];
    let mut summary = format!("{} — {}", a.rule.title, describe(&a.event));
    let mut time = a.timestamp.clone();
    if let Some(tb) = tb {
        let reqs: Vec<&Json> = tb
            .related
            .iter()
            .filter(|r| r.get("alert").is_none())
            .collect();
        if let Some(first) = reqs.first() {
            let t = first.get("@timestamp").and_then(text);
            if t.is_some() && (time.is_none() || t < time) {
                time = t;
                summary = format!(
                    "{} — first attack request {}",
                    tb.rule.title,
                    first
                        .get("pattern")
                        .and_then(text)
                        .map(|p| format!("({p}) "))
                        .unwrap_or_default()
                        + &first.get("request").and_then(text).unwrap_or_default()
                );
            }
        }
        evidence.extend(reqs.into_iter().cloned());
    }
    let mut entry_ents: Vec<(String, String)> = Vec::new();
    for e in correlate::entities(a) {
        if matches!(
            e.role.as_str(),
            "source" | "principal" | "user" | "host" | "parent" | "client"
        ) && e.kind != "user_agent"
            && !entry_ents.contains(&(e.kind.clone(), e.value.clone()))
        {
            entry_ents.push((e.kind, e.value));
        }
    }
    if let Some(p) = lookup(&a.event, "process.parent.executable").and_then(text) {
        entry_ents.push(("process".into(), p));
    }
    Some(RootCause {
        alert: a.id.clone(),
        time,
        summary,
        entry: entry_ents,
        evidence,
    })
}

fn timeline(sorted: &[&Alert], tactics: &BTreeMap<String, BTreeSet<String>>) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    let mut seen_requests = BTreeSet::new();
    for a in sorted {
        for r in a.related.iter().filter(|r| r.get("alert").is_none()) {
            let key = r.to_string();
            if seen_requests.insert(key) {
                out.push(TimelineEntry {
                    time: r.get("@timestamp").and_then(text),
                    kind: "request".into(),
                    alert: Some(a.id.clone()),
                    title: r
                        .get("pattern")
                        .and_then(text)
                        .unwrap_or_else(|| "related event".into()),
                    detail: r
                        .get("request")
                        .and_then(text)
                        .or_else(|| r.get("detail").and_then(text))
                        .unwrap_or_else(|| truncate(&r.to_string(), 200)),
                    tactics: vec![],
                });
            }
        }
        let mut ts: Vec<String> = tactics
            .get(&a.id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        ts.sort_by_key(|t| attack::tactic_rank(t));
        out.push(TimelineEntry {
            time: a.timestamp.clone(),
            kind: "alert".into(),
            alert: Some(a.id.clone()),
            title: a.rule.title.clone(),
            detail: describe(&a.event),
            tactics: ts,
        });
    }
    out.sort_by(|a, b| (a.time.is_none(), &a.time).cmp(&(b.time.is_none(), &b.time)));
    out.dedup_by(|b, a| {
        a.kind == "request" && b.kind == "request" && a.detail == b.detail && a.time == b.time
    });
    // Collapse a long run of related events (a scan) to its first and last few.
    if out.len() > 60 {
        let n = out.len();
        let mut kept: Vec<TimelineEntry> = out[..25].to_vec();
        kept.push(TimelineEntry {
            time: None,
            kind: "gap".into(),
            alert: None,
            title: format!("{} more entries", n - 50),
            detail: String::new(),
            tactics: vec![],
        });
        kept.extend(out[n - 25..].iter().cloned());
        out = kept;
    }
    out
}

fn is_asset(e: &EntityRef) -> bool {
    match e.kind.as_str() {
        "host" | "user" | "cloud_identity" => true,
        "ip" => !is_public_ip(&e.value),
        _ => false,
    }
}

fn iocs(ents: &[EntityRef], alerts: &[&Alert], hits: &[Ioc], v: Verdict) -> Vec<IocRef> {
    let mut out: Vec<IocRef> = Vec::new();
    if v == Verdict::SuspectedFalsePositive {
        return out;
    }
    let first_seen = |value: &str| {
        alerts
            .iter()
            .filter(|a| correlate::entities(a).iter().any(|e| e.value == value))
            .filter_map(|a| a.timestamp.clone())
            .min()
    };
    for e in ents {
        let kind = match e.kind.as_str() {
            "ip" if is_public_ip(&e.value) => {
                if e.value.contains(':') {
                    "ipv6"
                } else {
                    "ipv4"
                }
            }
            "domain" => "domain",
            "file_hash" if is_system_binary_hash(&e.value, alerts) => continue,
            "file_hash" => super::tools::guess_kind(&e.value),
            "file" => "file",
            _ => continue,
        };
        out.push(IocRef {
            kind: kind.into(),
            value: e.value.clone(),
            role: e.roles.join("/"),
            first_seen: first_seen(&e.value),
            reputation: hits
                .iter()
                .find(|h| h.value.eq_ignore_ascii_case(&e.value))
                .map(|h| h.reputation.clone()),
        });
    }
    // Addresses and URLs inside the alerts' command lines (downloads, reverse shells).
    static CMD_IOC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)\b(?:https?|ftp)://[^\s'"`;|)]+|\b(?:\d{1,3}\.){3}\d{1,3}\b"#)
            .expect("constant regex")
    });
    for a in alerts {
        for f in ["process.command_line", "process.parent.command_line"] {
            let Some(cmd) = lookup(&a.event, f).and_then(text) else {
                continue;
            };
            for m in CMD_IOC.find_iter(&cmd) {
                let v = m.as_str().trim_end_matches(['.', ',']).to_string();
                let kind = if v.contains("://") {
                    "url"
                } else if is_public_ip(&v) {
                    "ipv4"
                } else {
                    continue;
                };
                if !out.iter().any(|i| i.value == v) {
                    out.push(IocRef {
                        kind: kind.into(),
                        reputation: hits
                            .iter()
                            .find(|h| h.value.eq_ignore_ascii_case(&v))
                            .map(|h| h.reputation.clone()),
                        value: v,
                        role: "named in a command line".into(),
                        first_seen: a.timestamp.clone(),
                    });
                }
            }
        }
    }
    // Attack requests named by a traceback.
    for a in alerts {
        for r in &a.related {
            if let Some(req) = r.get("request").and_then(text)
                && r.get("pattern").is_some()
                && !out.iter().any(|i| i.value == req)
            {
                out.push(IocRef {
                    kind: "url".into(),
                    value: req,
                    role: r.get("pattern").and_then(text).unwrap_or_default(),
                    first_seen: r.get("@timestamp").and_then(text),
                    reputation: None,
                });
            }
        }
    }
    out
}

/// Whether a hash is only ever the hash of a process started from a system directory.
fn is_system_binary_hash(hash: &str, alerts: &[&Alert]) -> bool {
    let mut seen = false;
    for a in alerts {
        let get = |f: &str| lookup(&a.event, f).and_then(text);
        let as_process = [
            "process.hash.sha256",
            "process.hash.sha1",
            "process.hash.md5",
        ]
        .iter()
        .any(|f| get(f).is_some_and(|h| h.eq_ignore_ascii_case(hash)));
        let as_file = ["file.hash.sha256", "file.hash.sha1", "file.hash.md5"]
            .iter()
            .any(|f| get(f).is_some_and(|h| h.eq_ignore_ascii_case(hash)));
        if as_file {
            return false;
        }
        if as_process {
            let system = get("process.executable")
                .is_some_and(|p| KNOWLEDGE.system_binaries.iter().any(|r| r.is_match(&p)));
            if !system {
                return false;
            }
            seen = true;
        }
    }
    seen
}

/// Entity node id.
fn nid(kind: &str, value: &str) -> String {
    format!("{kind}:{value}")
}

fn attack_path(sorted: &[&Alert]) -> Graph {
    let mut g = Graph::default();
    let add_node = |g: &mut Graph, kind: &str, value: &str| -> String {
        let id = nid(kind, value);
        if !g.nodes.iter().any(|n| n.id == id) {
            g.nodes.push(Node {
                id: id.clone(),
                kind: kind.into(),
                label: if kind == "process" || kind == "file" {
                    basename(value).to_string()
                } else {
                    value.to_string()
                },
            });
        }
        id
    };
    for a in sorted {
        let get = |f: &str| lookup(&a.event, f).and_then(text);
        let host = get("host.name")
            .or(get("host.hostname"))
            .map(|h| h.to_lowercase());
        let principal = get("aws.cloudtrail.user_identity.arn").or(get("user.name"));
        let edge = |g: &mut Graph, from: String, to: String, label: String| {
            if !g
                .edges
                .iter()
                .any(|e| e.from == from && e.to == to && e.label == label)
            {
                g.edges.push(Edge {
                    from,
                    to,
                    label,
                    time: a.timestamp.clone(),
                    alert: Some(a.id.clone()),
                });
            }
        };
        let proc_ = get("process.executable");
        let target = host.clone().map(|h| ("host", h));
        if let Some(src) = get("source.ip") {
            let s = add_node(&mut g, "ip", &src);
            if let Some((k, v)) = &target {
                let t = add_node(&mut g, k, v);
                let label = get("http.request.method")
                    .map(|m| {
                        format!(
                            "{m} {}",
                            get("url.path").or(get("url.original")).unwrap_or_default()
                        )
                    })
                    .unwrap_or_else(|| a.rule.title.clone());
                edge(&mut g, s.clone(), t, truncate(&label, 48));
            } else if let Some(p) = &principal {
                let t = add_node(&mut g, "identity", p);
                edge(&mut g, s.clone(), t, "authenticated as".into());
            } else if let Some(d) = get("destination.ip") {
                let t = add_node(&mut g, "ip", &d);
                edge(&mut g, s, t, truncate(&a.rule.title, 48));
            }
        }
        if let (Some(p), Some(act)) = (&principal, get("event.action"))
            && get("aws.cloudtrail.user_identity.arn").is_some()
        {
            let s = add_node(&mut g, "identity", p);
            let t = add_node(&mut g, "api", &act);
            edge(&mut g, s, t, "called".into());
        }
        if let Some(p) = &proc_ {
            let pn = add_node(&mut g, "process", p);
            if let Some(pp) = get("process.parent.executable") {
                let ppn = add_node(&mut g, "process", &pp);
                if let Some((k, v)) = &target {
                    let h = add_node(&mut g, k, v);
                    edge(&mut g, h, ppn.clone(), "runs".into());
                }
                edge(&mut g, ppn, pn.clone(), "started".into());
            } else if let Some((k, v)) = &target {
                let h = add_node(&mut g, k, v);
                edge(&mut g, h, pn.clone(), "runs".into());
            }
            if let Some(f) = get("file.path") {
                let fnode = add_node(&mut g, "file", &f);
                edge(&mut g, pn.clone(), fnode, "wrote".into());
            }
            if let Some(d) = get("destination.ip").or_else(|| {
                get("process.command_line").and_then(|c| {
                    static IP: LazyLock<Regex> = LazyLock::new(|| {
                        Regex::new(r"\b(\d{1,3}(?:\.\d{1,3}){3})\b").expect("constant regex")
                    });
                    IP.captures(&c).map(|m| m[1].to_string())
                })
            }) {
                let dn = add_node(&mut g, "ip", &d);
                edge(&mut g, pn, dn, "connects to".into());
            }
        } else if let (Some(d), Some((k, v))) = (get("destination.ip"), &target) {
            let h = add_node(&mut g, k, v);
            let dn = add_node(&mut g, "ip", &d);
            edge(&mut g, h, dn, "connects to".into());
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_knowledge_file_parses_and_names_known_techniques() {
        let k = &*KNOWLEDGE;
        assert!(k.file.verdict.confirm_at > 0.0);
        for (t, _, _) in &k.infer {
            assert!(
                attack::technique(t).is_some(),
                "{t} is not in the catalogue"
            );
        }
        for t in k.file.impact_tactics.iter().chain(&k.file.entry_tactics) {
            assert!(attack::tactic_rank(t).is_some(), "{t}");
        }
        for w in k.file.weights.keys() {
            assert!(
                [
                    "severity_critical",
                    "severity_high",
                    "severity_medium",
                    "several_rules",
                    "many_rules",
                    "tactic_progression",
                    "long_chain",
                    "impact_tactic",
                    "external_peer",
                    "ioc_malicious",
                    "traceback",
                    "volume",
                    "ioc_benign",
                    "recurring",
                    "scheduler_parent",
                    "service_account",
                    "isolated",
                    "low_only"
                ]
                .contains(&w.as_str()),
                "unknown signal {w}"
            );
        }
    }

    fn alert(id: &str, rule: &str, level: &str, tags: &[&str], t: &str, ev: Json) -> Alert {
        let tags: Vec<String> = tags.iter().map(|s| s.to_string()).collect();
        Alert {
            id: id.into(),
            timestamp: Some(t.into()),
            rule: crate::agents::detect::RuleMeta {
                id: rule.into(),
                title: format!("rule {rule}"),
                level: level.into(),
                status: String::new(),
                author: "someone".into(),
                tags: tags.clone(),
                source: String::new(),
                license: String::new(),
            },
            threat: crate::agents::detect::Threat::from_tags(&tags),
            logsource: "linux/process_creation".into(),
            related: vec![],
            event: ev.as_object().unwrap().clone(),
        }
    }

    fn verdicts(alerts: &[Alert]) -> Vec<(Verdict, Vec<String>)> {
        let c = correlate::correlate(alerts, &correlate::Options::default());
        let iocs = crate::agents::tools::IocList::default();
        let ws = Workspace {
            alerts,
            incidents: &c.incidents,
            dismissed: &c.dismissed,
            events: crate::agents::tools::Events::None,
            iocs: &iocs,
        };
        c.incidents
            .iter()
            .map(|i| {
                let inv = investigate(&ws, i).unwrap();
                (inv.verdict, inv.decided_by)
            })
            .collect()
    }

    #[test]
    fn one_uncorroborated_alert_is_insufficient_information() {
        let a = vec![alert(
            "a1",
            "r1",
            "medium",
            &["attack.discovery", "attack.t1082"],
            "2024-05-01T10:00:00Z",
            json!({"host.name": "h1", "user.name": "carol", "process.executable": "/usr/bin/uname",
                   "process.parent.executable": "/bin/bash"}),
        )];
        let v = verdicts(&a);
        assert_eq!(v[0].0, Verdict::InsufficientInformation, "{v:?}");
    }

    #[test]
    fn a_chain_of_tactics_from_outside_is_a_confirmed_attack() {
        let a = vec![
            alert(
                "a1",
                "r1",
                "high",
                &["attack.execution", "attack.t1059.004"],
                "2024-05-01T10:00:00Z",
                json!({"host.name": "h1", "process.entity_id": "p1", "process.executable": "/bin/sh",
                       "process.parent.executable": "/usr/sbin/nginx"}),
            ),
            alert(
                "a2",
                "r2",
                "high",
                &["attack.command-and-control", "attack.t1105"],
                "2024-05-01T10:01:00Z",
                json!({"host.name": "h1", "process.entity_id": "p2", "process.parent.entity_id": "p1",
                       "process.executable": "/usr/bin/curl", "destination.ip": "203.0.113.10"}),
            ),
        ];
        let v = verdicts(&a);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].0, Verdict::ConfirmedAttack, "{v:?}");
        assert!(v[0].1.contains(&"tactic_progression".to_string()));
    }

    #[test]
    fn a_job_recurring_from_the_scheduler_is_a_suspected_false_positive() {
        let a: Vec<Alert> = (0..3)
            .map(|d| {
                alert(&format!("n{d}"), "r9", "medium", &["attack.exfiltration", "attack.t1567"],
                    &format!("2024-05-0{}T03:00:00Z", d + 1),
                    json!({"host.name": "db", "user.name": "backup", "process.executable": "/usr/bin/rsync",
                           "process.parent.executable": "/usr/sbin/cron"}))
            })
            .collect();
        for (v, by) in verdicts(&a) {
            assert_eq!(v, Verdict::SuspectedFalsePositive, "{by:?}");
            assert!(
                by.contains(&"recurring".to_string())
                    && by.contains(&"scheduler_parent".to_string())
            );
        }
    }

    #[test]
    fn verdicts_parse_back() {
        for v in [
            Verdict::ConfirmedAttack,
            Verdict::SuspectedFalsePositive,
            Verdict::InsufficientInformation,
        ] {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
            assert_eq!(Verdict::parse(v.label()), Some(v));
        }
    }
}

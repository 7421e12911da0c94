//! The security assistant: answers questions about incidents, alerts and entities from the
//! evidence (events, alerts, incidents, investigations), citing the alerts, events and
//! incidents each answer rests on. Questions are matched to intents whose patterns are the
//! data file `knowledge/assistant.toml`; values named in the question (IPs, hashes, incident
//! ids, known hosts and users) are the entities asked about. A question no intent fits is
//! answered "cannot answer from the store", never guessed.
//!
//! Depends on `tools` (the workspace), `correlate` (entities) and `investigate`.

use super::correlate;
use super::tools::{Trace, Workspace, text};
use crate::store::{StoreError, lookup};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::LazyLock;

#[derive(Deserialize)]
struct File {
    intent: Vec<IntentSpec>,
    attribute: Vec<AttributeSpec>,
}

#[derive(Deserialize)]
struct AttributeSpec {
    kind: String,
    words: Vec<String>,
    fields: Vec<String>,
}

struct Attribute {
    kind: String,
    words: Vec<Regex>,
    fields: Vec<String>,
}

#[derive(Deserialize)]
struct IntentSpec {
    name: String,
    patterns: Vec<String>,
}

static FILE: LazyLock<File> = LazyLock::new(|| {
    toml::from_str(include_str!("knowledge/assistant.toml"))
        .expect("assistant.toml is checked by a test")
});

fn ci(p: &str) -> Regex {
    Regex::new(&format!("(?i){p}")).expect("assistant.toml regexes are checked by a test")
}

static ATTRIBUTES: LazyLock<Vec<Attribute>> = LazyLock::new(|| {
    FILE.attribute
        .iter()
        .map(|a| Attribute {
            kind: a.kind.clone(),
            words: a.words.iter().map(|w| ci(w)).collect(),
            fields: a.fields.clone(),
        })
        .collect()
});

static INTENTS: LazyLock<Vec<(String, Vec<Regex>)>> = LazyLock::new(|| {
    FILE.intent
        .iter()
        .map(|i| (i.name.clone(), i.patterns.iter().map(|p| ci(p)).collect()))
        .collect()
});

/// The values of the fields of an alert's event (arrays give all their items).
fn values_of(a: &super::detect::Alert, fields: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for f in fields {
        match lookup(&a.event, f) {
            Some(serde_json::Value::Array(xs)) => out.extend(xs.iter().filter_map(text)),
            Some(v) => out.extend(text(v)),
            None => {}
        }
    }
    out
}

/// Every value the attribute table knows in an alert.
fn attribute_values(a: &super::detect::Alert) -> Vec<String> {
    ATTRIBUTES
        .iter()
        .flat_map(|at| values_of(a, &at.fields))
        .collect()
}

/// Answers "what is the <kind> of/involved in …": the alerts that name a value the text
/// mentions, and the values of the asked kind they hold that the text does not mention,
/// most shared first.
fn attribute_answer(
    ws: &Workspace<'_>,
    question: &str,
    context: &str,
    cites: &mut Vec<Citation>,
) -> Option<(String, Vec<String>)> {
    let at = ATTRIBUTES
        .iter()
        .find(|a| a.words.iter().any(|w| w.is_match(question)))?;
    let text_l = format!("{context} {question}").to_lowercase();
    // Alerts that name values of the text, with how many distinct ones each names: the
    // alerts closest to what the question is about come first.
    let mut linked: Vec<(&super::detect::Alert, usize)> = Vec::new();
    let mut named: BTreeSet<String> = BTreeSet::new();
    for a in ws.alerts {
        let hits: BTreeSet<String> = attribute_values(a)
            .into_iter()
            .map(|v| v.to_lowercase())
            .filter(|v| v.len() >= 4 && text_l.contains(v.as_str()))
            .collect();
        if !hits.is_empty() {
            let n = hits.len();
            named.extend(hits);
            linked.push((a, n));
        }
    }
    // (best closeness of an alert holding it, alerts holding it, latest time, first alert)
    type Count = (usize, usize, Option<i64>, String);
    let mut counts: std::collections::BTreeMap<String, Count> = Default::default();
    for (a, close) in &linked {
        for v in values_of(a, &at.fields) {
            if named.contains(&v.to_lowercase()) || v.is_empty() {
                continue;
            }
            let e = counts.entry(v).or_insert((0, 0, None, a.id.clone()));
            if *close > e.0 {
                e.0 = *close;
                e.3 = a.id.clone();
            }
            e.1 += 1;
            e.2 = e.2.max(a.time_ms());
        }
    }
    let mut ranked: Vec<(String, Count)> = counts.into_iter().collect();
    ranked.sort_by(|x, y| {
        y.1.0
            .cmp(&x.1.0)
            .then(y.1.1.cmp(&x.1.1))
            .then(y.1.2.cmp(&x.1.2))
            .then(x.0.cmp(&y.0))
    });
    let (best, (_, n, _, alert)) = ranked.first()?.clone();
    if let Some(a) = ws.alert(&alert) {
        cites.push(Citation {
            kind: "alert".into(),
            id: a.id.clone(),
            detail: format!(
                "{} {}",
                a.timestamp.clone().unwrap_or_default(),
                a.rule.title
            ),
        });
    }
    Some((
        format!(
            "{best} ({}: in {n} of the {} alerts that name what the question names)",
            at.kind,
            linked.len()
        ),
        ranked.into_iter().take(5).map(|(v, _)| v).collect(),
    ))
}

/// A piece of evidence an answer cites.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Citation {
    /// `alert`, `event` or `incident`.
    pub kind: String,
    pub id: String,
    pub detail: String,
}

/// An answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub question: String,
    pub intent: String,
    pub answer: String,
    pub values: Vec<String>,
    pub citations: Vec<Citation>,
    pub trace: Vec<super::tools::Step>,
}

static IP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[0-9a-fA-F]{32,64}\b|\bINC-[0-9a-f]+\b|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|ovh|co|info|xyz|ru|cn|example)\b").expect("constant regex")
});

const AGENT: &str = "assistant";

/// The entity values a question names: IPs, hashes, incident ids, domains, and known entities.
pub fn subjects(ws: &Workspace<'_>, q: &str) -> Vec<String> {
    let mut out: Vec<String> = IP.find_iter(q).map(|m| m.as_str().to_string()).collect();
    let words: BTreeSet<String> = q
        .split(|c: char| c.is_whitespace() || ",;?!()\"'`".contains(c))
        .map(|w| w.trim_end_matches('.').to_lowercase())
        .filter(|w| w.len() > 2)
        .collect();
    let mut known = BTreeSet::new();
    for a in ws.alerts {
        for e in correlate::entities(a) {
            if matches!(
                e.kind.as_str(),
                "host" | "user" | "process" | "file" | "cloud_identity"
            ) && words.contains(&e.value.to_lowercase())
            {
                known.insert(e.value);
            }
        }
    }
    for k in known {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// Answers a question.
pub fn ask(ws: &Workspace<'_>, question: &str) -> Result<Answer, StoreError> {
    ask_in_context(ws, "", question)
}

/// Answers a question asked with some context (what is already known: values it names are
/// subjects, never the answer).
pub fn ask_in_context(
    ws: &Workspace<'_>,
    context: &str,
    question: &str,
) -> Result<Answer, StoreError> {
    let mut trace = Trace::default();
    let intent = INTENTS
        .iter()
        .find(|(_, ps)| ps.iter().any(|p| p.is_match(question)))
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| "unknown".into());
    let subj = subjects(ws, question);
    trace.step(
        AGENT,
        "What is asked, and about what?",
        Some(("parse_question", json!({"question": question}))),
        format!("intent {intent}, subjects {subj:?}"),
        "",
    );
    let mut values: Vec<String> = Vec::new();
    let mut cites: Vec<Citation> = Vec::new();
    let cite_alert = |a: &super::detect::Alert| Citation {
        kind: "alert".into(),
        id: a.id.clone(),
        detail: format!(
            "{} {}",
            a.timestamp.clone().unwrap_or_default(),
            a.rule.title
        ),
    };
    let alerts_of = |v: &str| -> Vec<&super::detect::Alert> {
        ws.alerts
            .iter()
            .filter(|a| {
                correlate::entities(a)
                    .iter()
                    .any(|e| e.value.eq_ignore_ascii_case(v))
            })
            .collect()
    };
    let answer = match (intent.as_str(), subj.first()) {
        ("hosts_reached", Some(ip)) => {
            let first = alerts_of(ip).iter().filter_map(|a| a.time_ms()).min();
            let after = if question.to_lowercase().contains("after") { first } else { None };
            let evs = ws.query_events(&mut trace, AGENT, &format!("Events from {ip}"), "source_ip", ip, after, None, 100_000)?;
            let mut cited = 0;
            for e in &evs {
                let target = lookup(&e.event, "host.name")
                    .or(lookup(&e.event, "host.hostname"))
                    .and_then(text)
                    .or_else(|| lookup(&e.event, "destination.ip").and_then(text));
                if let Some(t) = target
                    && !values.contains(&t)
                {
                    values.push(t.clone());
                    if cited < 20 {
                        cited += 1;
                        cites.push(Citation {
                            kind: "event".into(),
                            id: e.id.map(|i| i.to_string()).unwrap_or_default(),
                            detail: format!("{} {ip} → {t}", lookup(&e.event, "@timestamp").and_then(text).unwrap_or_default()),
                        });
                    }
                }
            }
            // Hosts it reached in alerts (reverse connections count too).
            for a in alerts_of(ip) {
                if first.is_none_or(|f| after.is_none() || a.time_ms().is_some_and(|t| t >= f))
                    && let Some(h) = lookup(&a.event, "host.name").and_then(text)
                    && !values.contains(&h.to_lowercase())
                {
                    values.push(h.to_lowercase());
                    cites.push(cite_alert(a));
                }
            }
            format!(
                "{ip} reached {}{}: {}",
                values.len(),
                if after.is_some() { " hosts after the first alert" } else { " hosts" },
                values.join(", ")
            )
        }
        ("alerts_about", Some(v)) => {
            let al = alerts_of(v);
            for a in &al {
                if !values.contains(&a.rule.title) {
                    values.push(a.rule.title.clone());
                }
                cites.push(cite_alert(a));
            }
            format!("{} alerts name {v}: {}", al.len(), values.join("; "))
        }
        ("incident_of", Some(v)) => {
            let al: Vec<String> = alerts_of(v).iter().map(|a| a.id.clone()).collect();
            for i in ws.incidents.iter().filter(|i| i.alert_ids.iter().any(|a| al.contains(a))) {
                values.push(i.id.clone());
                cites.push(Citation { kind: "incident".into(), id: i.id.clone(), detail: i.title.clone() });
            }
            format!("{v} is in {}: {}", values.len(), values.join(", "))
        }
        ("verdict" | "root_cause" | "techniques", _) => {
            let inc = subj.iter().find_map(|s| ws.incident(s)).or_else(|| ws.incidents.first());
            match inc {
                Some(inc) => {
                    let inv = super::investigate::investigate(ws, inc)?;
                    trace.steps.extend(inv.trace.iter().cloned());
                    cites.push(Citation { kind: "incident".into(), id: inc.id.clone(), detail: inc.title.clone() });
                    match intent.as_str() {
                        "verdict" => {
                            values.push(inv.verdict.as_str().into());
                            format!("{}: {} (confidence {:.2}); {}", inc.id, inv.verdict.label(), inv.confidence,
                                inv.evidence.iter().filter(|e| inv.decided_by.contains(&e.signal)).map(|e| e.detail.clone()).collect::<Vec<_>>().join("; "))
                        }
                        "techniques" => {
                            values = inv.techniques.clone();
                            format!("{}: {}", inc.id, inv.technique_details.iter().map(|t| format!("{} {}", t.id, t.name)).collect::<Vec<_>>().join(", "))
                        }
                        _ => match inv.root_cause {
                            Some(rc) => {
                                values.push(rc.alert.clone());
                                if let Some(a) = ws.alert(&rc.alert) {
                                    cites.push(cite_alert(a));
                                }
                                format!("{}: {}", inc.id, rc.summary)
                            }
                            None => format!("{}: no root cause found", inc.id),
                        },
                    }
                }
                None => "there is no incident in the store".into(),
            }
        }
        ("first_seen", Some(v)) => {
            let al = alerts_of(v);
            let mut times: Vec<String> = al.iter().filter_map(|a| a.timestamp.clone()).collect();
            times.sort();
            if let Some(a) = al.iter().min_by_key(|a| a.time_ms()) {
                cites.push(cite_alert(a));
            }
            values.extend(times.first().cloned());
            match (times.first(), times.last()) {
                (Some(f), Some(l)) => format!("{v} first seen in an alert at {f}, last at {l} ({} alerts)", al.len()),
                _ => format!("{v} is in no alert"),
            }
        }
        ("users_of", Some(v)) => {
            for a in alerts_of(v) {
                for e in correlate::entities(a).into_iter().filter(|e| e.kind == "user") {
                    if !values.contains(&e.value) {
                        values.push(e.value);
                        cites.push(cite_alert(a));
                    }
                }
            }
            format!("users with {v}: {}", values.join(", "))
        }
        ("attribute", _) => match attribute_answer(ws, question, context, &mut cites) {
            Some((text, vals)) => {
                values = vals;
                text
            }
            None => "no alert names what the question names".into(),
        },
        ("count_alerts", _) => {
            let n = match subj.first() {
                Some(v) => alerts_of(v).len(),
                None => ws.alerts.len(),
            };
            values.push(n.to_string());
            format!("{n} alerts")
        }
        (_, None) if intent != "unknown" => "the question names no IP, host, user or incident I know".into(),
        _ => "I cannot answer that from the store (try: which hosts did IP reach after the first alert; which alerts name X; what is the verdict of INC-…; when was X first seen)".into(),
    };
    trace.step(
        AGENT,
        "Answer from the evidence found",
        None,
        answer.clone(),
        format!("{} citations", cites.len()),
    );
    Ok(Answer {
        question: question.into(),
        intent,
        answer,
        values,
        citations: cites,
        trace: trace.steps,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_intents_compile() {
        assert!(super::INTENTS.len() >= 6);
        assert!(super::ATTRIBUTES.iter().any(|a| a.kind == "ip"));
    }
}

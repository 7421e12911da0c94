//! Correlation: alerts → incidents through shared entities within a time window.
//!
//! Owns entity extraction from alerts (host, user, IP, file hash, process tree, cloud
//! identity; which ECS fields give which entity is the data file `entities.toml`), the
//! linking (an alert joins the incident of the latest earlier alert that shares an entity
//! with it within the window; every link records that entity and the gap), grouping of
//! repeated alerts (same rule, same entities) with counts, and the scoring down of recurring
//! benign alerts (the same rule firing on a regular schedule on the same host), which are
//! dismissed with the reason instead of being linked.
//!
//! Depends on `detect` (the [`Alert`] record); knows nothing about storage or the CLI.

use super::detect::Alert;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

#[derive(Debug, Deserialize)]
struct EntityFile {
    entity: Vec<EntitySpec>,
    #[serde(default)]
    ignore: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct EntitySpec {
    kind: String,
    role: String,
    fields: Vec<String>,
    /// Whether sharing this entity links alerts (false: only reported).
    #[serde(default = "yes")]
    links: bool,
}

fn yes() -> bool {
    true
}

static ENTITIES: LazyLock<EntityFile> = LazyLock::new(|| {
    toml::from_str(include_str!("entities.toml")).expect("entities.toml is checked by a test")
});

/// An entity seen in an alert, with the role it plays there.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entity {
    pub kind: String,
    pub value: String,
    pub role: String,
}

/// Entities of one alert, in data-file order, without duplicates.
pub fn entities(alert: &Alert) -> Vec<Entity> {
    let mut out: Vec<Entity> = Vec::new();
    for spec in &ENTITIES.entity {
        for f in &spec.fields {
            let Some(v) = crate::store::lookup(&alert.event, f) else {
                continue;
            };
            let values: Vec<String> = match v {
                serde_json::Value::String(s) => vec![s.clone()],
                serde_json::Value::Number(n) => vec![n.to_string()],
                serde_json::Value::Array(xs) => xs
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                _ => vec![],
            };
            for value in values {
                let value = value.trim().to_string();
                if value.is_empty()
                    || value == "-"
                    || ENTITIES
                        .ignore
                        .iter()
                        .any(|i| i.eq_ignore_ascii_case(&value))
                {
                    continue;
                }
                let value = if spec.kind == "host" || spec.kind == "user" {
                    value.to_lowercase()
                } else {
                    value
                };
                let e = Entity {
                    kind: spec.kind.clone(),
                    value,
                    role: spec.role.clone(),
                };
                if !out
                    .iter()
                    .any(|o| o.kind == e.kind && o.value == e.value && o.role == e.role)
                {
                    out.push(e);
                }
            }
        }
    }
    out
}

fn linking(kind: &str) -> bool {
    ENTITIES.entity.iter().any(|s| s.kind == kind && s.links)
}

/// Correlation settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Two alerts sharing an entity are linked when at most this far apart (ms).
    pub window_ms: i64,
    /// An entity shared by more than this share of all alerts (and at least `hub_min`
    /// alerts) is a hub (a proxy, a DNS server, a scanner's target) and does not link.
    pub hub_share: f64,
    pub hub_min: usize,
    /// A rule firing at least this many times on one host at near-regular intervals is
    /// treated as a recurring benign alert.
    pub recurring_min: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            window_ms: 2 * 3600 * 1000,
            hub_share: 0.5,
            hub_min: 1000,
            recurring_min: 6,
        }
    }
}

/// Why an alert is in its incident.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Link {
    pub alert: String,
    /// The earlier alert it was linked to (absent for the alert that opened the incident).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The shared entity (kind, value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<(String, String)>,
    pub reason: String,
}

/// Alerts of one rule on the same entities, counted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Group {
    pub rule_id: String,
    pub rule_title: String,
    pub count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    pub alert_ids: Vec<String>,
}

/// An entity of an incident with every role it plays.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IncidentEntity {
    pub kind: String,
    pub value: String,
    pub roles: Vec<String>,
    pub alerts: usize,
}

/// An incident: alerts that belong together, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Incident {
    pub id: String,
    pub title: String,
    /// The highest rule level among its alerts.
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    pub alert_ids: Vec<String>,
    pub entities: Vec<IncidentEntity>,
    /// ATT&CK tactics in the order they first appear in time.
    pub tactics: Vec<String>,
    pub techniques: Vec<String>,
    pub links: Vec<Link>,
    pub groups: Vec<Group>,
}

/// A recurring benign alert set aside, with the reason.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Dismissed {
    pub alert: String,
    pub reason: String,
}

/// The result of a correlation run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Correlation {
    pub incidents: Vec<Incident>,
    pub dismissed: Vec<Dismissed>,
}

const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

fn level_rank(l: &str) -> usize {
    LEVELS
        .iter()
        .position(|x| x.eq_ignore_ascii_case(l))
        .unwrap_or(2)
}

struct Dsu(Vec<usize>);

impl Dsu {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            // Keep the earlier alert as the root so the incident id is its first alert.
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            self.0[hi] = lo;
        }
    }
}

/// Correlates alerts into incidents.
pub fn correlate(alerts: &[Alert], options: &Options) -> Correlation {
    // Time order (alerts without a time keep their input order at the end).
    let mut order: Vec<usize> = (0..alerts.len()).collect();
    let times: Vec<Option<i64>> = alerts.iter().map(Alert::time_ms).collect();
    order.sort_by_key(|&i| (times[i].is_none(), times[i].unwrap_or(0), i));
    let ents: Vec<Vec<Entity>> = alerts.iter().map(entities).collect();

    // Hubs: entities in too many alerts link nothing.
    let mut freq: HashMap<(&str, &str), usize> = HashMap::new();
    for es in &ents {
        let uniq: BTreeSet<(&str, &str)> = es
            .iter()
            .map(|e| (e.kind.as_str(), e.value.as_str()))
            .collect();
        for k in uniq {
            *freq.entry(k).or_default() += 1;
        }
    }
    let hub_limit = ((alerts.len() as f64 * options.hub_share) as usize).max(options.hub_min);
    let is_hub = |k: &(&str, &str)| freq.get(k).copied().unwrap_or(0) > hub_limit;

    // Recurring benign alerts: same rule on the same host at near-regular intervals.
    let dismissed = recurring(alerts, &order, &times, &ents, options);
    let dismissed_set: BTreeSet<usize> = dismissed.iter().map(|(i, _)| *i).collect();

    let mut dsu = Dsu((0..alerts.len()).collect());
    let mut last_seen: HashMap<(String, String), usize> = HashMap::new();
    let mut link_of: Vec<Option<Link>> = vec![None; alerts.len()];
    for &i in &order {
        if dismissed_set.contains(&i) {
            continue;
        }
        let mut best: Option<(usize, &Entity)> = None;
        for e in &ents[i] {
            if !linking(&e.kind) {
                continue;
            }
            // A hub links nothing, except repeats of the same rule on it.
            let key = if is_hub(&(e.kind.as_str(), e.value.as_str())) {
                (
                    e.kind.clone(),
                    format!("{}\u{0}{}", e.value, alerts[i].rule.id),
                )
            } else {
                (e.kind.clone(), e.value.clone())
            };
            if let Some(&j) = last_seen.get(&key) {
                let close = match (times[i], times[j]) {
                    (Some(a), Some(b)) => (a - b).abs() <= options.window_ms,
                    _ => true,
                };
                if close {
                    if best.is_none() {
                        best = Some((j, e));
                    }
                    dsu.union(i, j);
                }
            }
        }
        if let Some((j, e)) = best {
            let gap = match (times[i], times[j]) {
                (Some(a), Some(b)) => format!(", {} later", human_gap(a - b)),
                _ => String::new(),
            };
            link_of[i] = Some(Link {
                alert: alerts[i].id.clone(),
                to: Some(alerts[j].id.clone()),
                via: Some((e.kind.clone(), e.value.clone())),
                reason: format!(
                    "shares {} {} ({}) with \"{}\"{gap}",
                    e.kind, e.value, e.role, alerts[j].rule.title
                ),
            });
        }
        for e in &ents[i] {
            last_seen.insert((e.kind.clone(), e.value.clone()), i);
            last_seen.insert(
                (
                    e.kind.clone(),
                    format!("{}\u{0}{}", e.value, alerts[i].rule.id),
                ),
                i,
            );
        }
    }

    // Collect incidents in time order of their first alert.
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in &order {
        if !dismissed_set.contains(&i) {
            let root = dsu.find(i);
            members.entry(root).or_default().push(i);
        }
    }
    let mut incidents: Vec<Incident> = members
        .into_values()
        .map(|m| build_incident(alerts, &times, &ents, &m, &mut link_of))
        .collect();
    incidents.sort_by(|a, b| {
        (a.first.is_none(), &a.first, &a.id).cmp(&(b.first.is_none(), &b.first, &b.id))
    });
    Correlation {
        incidents,
        dismissed: dismissed
            .into_iter()
            .map(|(i, reason)| Dismissed {
                alert: alerts[i].id.clone(),
                reason,
            })
            .collect(),
    }
}

fn human_gap(ms: i64) -> String {
    let s = ms.abs() / 1000;
    if s < 120 {
        format!("{s} s")
    } else if s < 7200 {
        format!("{} min", s / 60)
    } else {
        format!("{} h", s / 3600)
    }
}

fn recurring(
    alerts: &[Alert],
    order: &[usize],
    times: &[Option<i64>],
    ents: &[Vec<Entity>],
    options: &Options,
) -> Vec<(usize, String)> {
    let mut series: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for &i in order {
        let Some(host) = ents[i].iter().find(|e| e.kind == "host") else {
            continue;
        };
        if times[i].is_some() {
            series
                .entry((alerts[i].rule.id.clone(), host.value.clone()))
                .or_default()
                .push(i);
        }
    }
    let mut out = Vec::new();
    for ((_, host), idx) in series {
        if idx.len() < options.recurring_min {
            continue;
        }
        let gaps: Vec<f64> = idx
            .windows(2)
            .map(|w| (times[w[1]].unwrap_or(0) - times[w[0]].unwrap_or(0)) as f64)
            .collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        if mean < 60_000.0 {
            continue; // bursts are activity, not a schedule
        }
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        let cv = var.sqrt() / mean;
        if cv <= 0.1 {
            let rule = &alerts[idx[0]].rule.title;
            let reason = format!(
                "recurring: \"{rule}\" fired {} times on host {host} every {} (±{:.0}%), a schedule rather than an attack",
                idx.len(),
                human_gap(mean as i64),
                cv * 100.0
            );
            out.extend(idx.into_iter().map(|i| (i, reason.clone())));
        }
    }
    out
}

fn build_incident(
    alerts: &[Alert],
    times: &[Option<i64>],
    ents: &[Vec<Entity>],
    m: &[usize],
    link_of: &mut [Option<Link>],
) -> Incident {
    let first = m.iter().filter_map(|&i| times[i]).min();
    let last = m.iter().filter_map(|&i| times[i]).max();
    let fmt = |t: Option<i64>| {
        t.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    };
    let mut tactics = Vec::new();
    let mut techniques = Vec::new();
    let mut level = "informational";
    for &i in m {
        for t in &alerts[i].threat.tactics {
            if !tactics.contains(t) {
                tactics.push(t.clone());
            }
        }
        for t in &alerts[i].threat.techniques {
            if !techniques.contains(t) {
                techniques.push(t.clone());
            }
        }
        if level_rank(&alerts[i].rule.level) > level_rank(level) {
            level = LEVELS[level_rank(&alerts[i].rule.level)];
        }
    }
    // Entities with all their roles.
    let mut ent_map: BTreeMap<(String, String), (BTreeSet<String>, BTreeSet<usize>)> =
        BTreeMap::new();
    for &i in m {
        for e in &ents[i] {
            let slot = ent_map
                .entry((e.kind.clone(), e.value.clone()))
                .or_default();
            slot.0.insert(e.role.clone());
            slot.1.insert(i);
        }
    }
    let mut entities: Vec<IncidentEntity> = ent_map
        .into_iter()
        .map(|((kind, value), (roles, al))| IncidentEntity {
            kind,
            value,
            roles: roles.into_iter().collect(),
            alerts: al.len(),
        })
        .collect();
    entities.sort_by(|a, b| {
        b.alerts
            .cmp(&a.alerts)
            .then(a.kind.cmp(&b.kind))
            .then(a.value.cmp(&b.value))
    });
    // Groups: same rule, same entities.
    let mut groups: Vec<Group> = Vec::new();
    let mut group_key: HashMap<(String, Vec<(String, String)>), usize> = HashMap::new();
    for &i in m {
        let mut key_ents: Vec<(String, String)> = ents[i]
            .iter()
            .map(|e| (e.kind.clone(), e.value.clone()))
            .collect();
        key_ents.sort();
        key_ents.dedup();
        let key = (alerts[i].rule.id.clone(), key_ents);
        let g = *group_key.entry(key).or_insert_with(|| {
            groups.push(Group {
                rule_id: alerts[i].rule.id.clone(),
                rule_title: alerts[i].rule.title.clone(),
                count: 0,
                first: None,
                last: None,
                alert_ids: Vec::new(),
            });
            groups.len() - 1
        });
        let grp = &mut groups[g];
        grp.count += 1;
        grp.alert_ids.push(alerts[i].id.clone());
        if grp.first.is_none() {
            grp.first = fmt(times[i]);
        }
        grp.last = fmt(times[i]).or(grp.last.take());
    }
    let links: Vec<Link> = m
        .iter()
        .map(|&i| {
            link_of[i].take().unwrap_or_else(|| {
                if i == m[0] {
                    return Link {
                        alert: alerts[i].id.clone(),
                        to: None,
                        via: None,
                        reason: "first alert of the incident".into(),
                    };
                }
                // Joined when a later alert linked to it: name that alert and the entity.
                let shared = m.iter().filter(|&&j| j != i).find_map(|&j| {
                    ents[i]
                        .iter()
                        .find(|e| {
                            linking(&e.kind)
                                && ents[j]
                                    .iter()
                                    .any(|f| f.kind == e.kind && f.value == e.value)
                        })
                        .map(|e| (j, e))
                });
                match shared {
                    Some((j, e)) => Link {
                        alert: alerts[i].id.clone(),
                        to: Some(alerts[j].id.clone()),
                        via: Some((e.kind.clone(), e.value.clone())),
                        reason: format!(
                            "shares {} {} ({}) with \"{}\", which came later",
                            e.kind, e.value, e.role, alerts[j].rule.title
                        ),
                    },
                    None => Link {
                        alert: alerts[i].id.clone(),
                        to: None,
                        via: None,
                        reason: "joined through alerts that share entities with it".into(),
                    },
                }
            })
        })
        .collect();
    let mut titles: Vec<&str> = Vec::new();
    for g in &groups {
        if !titles.contains(&g.rule_title.as_str()) {
            titles.push(&g.rule_title);
        }
    }
    let host = entities
        .iter()
        .find(|e| e.kind == "host")
        .map(|e| format!(" on {}", e.value))
        .unwrap_or_default();
    let title = match titles.len() {
        0 => "incident".to_string(),
        1 => format!("{}{host}", titles[0]),
        n => format!("{} and {} more{host}", titles[0], n - 1),
    };
    Incident {
        id: format!("INC-{}", &alerts[m[0]].id),
        title,
        level: level.to_string(),
        first: fmt(first),
        last: fmt(last),
        alert_ids: m.iter().map(|&i| alerts[i].id.clone()).collect(),
        entities,
        tactics,
        techniques,
        links,
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::detect::{RuleMeta, Threat};
    use serde_json::json;

    fn alert(id: &str, rule: &str, t: &str, ev: serde_json::Value) -> Alert {
        Alert {
            id: id.into(),
            timestamp: Some(t.into()),
            rule: RuleMeta {
                id: rule.into(),
                title: format!("rule {rule}"),
                level: "high".into(),
                status: String::new(),
                author: "a".into(),
                tags: vec![],
                source: String::new(),
                license: String::new(),
            },
            threat: Threat {
                tactics: vec![format!("tactic-{rule}")],
                techniques: vec![],
            },
            logsource: String::new(),
            related: vec![],
            event: ev.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn the_data_file_parses() {
        assert!(!ENTITIES.entity.is_empty());
    }

    #[test]
    fn shared_entities_within_the_window_link_with_a_reason() {
        let a = vec![
            alert(
                "a1",
                "web",
                "2024-05-01T10:00:00Z",
                json!({"source.ip": "203.0.113.9", "url.original": "/x"}),
            ),
            alert(
                "a2",
                "proc",
                "2024-05-01T10:05:00Z",
                json!({"host.name": "web-01", "process.entity_id": "p1"}),
            ),
            alert(
                "a3",
                "net",
                "2024-05-01T10:06:00Z",
                json!({"host.name": "web-01", "destination.ip": "203.0.113.9"}),
            ),
            alert(
                "b1",
                "other",
                "2024-05-01T10:07:00Z",
                json!({"host.name": "db-02"}),
            ),
            alert(
                "c1",
                "proc",
                "2024-05-01T20:00:00Z",
                json!({"host.name": "web-01"}),
            ),
        ];
        let c = correlate(&a, &Options::default());
        assert_eq!(c.incidents.len(), 3, "{:#?}", c.incidents);
        let main = &c.incidents[0];
        assert_eq!(main.alert_ids, vec!["a1", "a2", "a3"]);
        assert_eq!(
            main.tactics,
            vec!["tactic-web", "tactic-proc", "tactic-net"]
        );
        let l3 = main.links.iter().find(|l| l.alert == "a3").unwrap();
        assert!(
            l3.reason.contains("host web-01") || l3.reason.contains("ip 203.0.113.9"),
            "{}",
            l3.reason
        );
        let ip = main
            .entities
            .iter()
            .find(|e| e.value == "203.0.113.9")
            .unwrap();
        assert_eq!(ip.roles, vec!["destination", "source"]);
        // c1 is 10 hours later: outside the window, its own incident.
        assert!(c.incidents.iter().any(|i| i.alert_ids == vec!["c1"]));
    }

    #[test]
    fn a_hub_links_only_repeats_of_one_rule() {
        // "gw" is in every alert: a hub. Repeats of rule x on it still form one incident;
        // rule y on the same hub does not join them.
        let mut a = Vec::new();
        for (i, m) in [0, 1, 3, 4, 7, 8].iter().enumerate() {
            a.push(alert(
                &format!("x{i}"),
                "x",
                &format!("2024-05-01T10:0{m}:00Z"),
                json!({"host.name": "gw"}),
            ));
        }
        a.push(alert(
            "y0",
            "y",
            "2024-05-01T10:03:30Z",
            json!({"host.name": "gw"}),
        ));
        let opts = Options {
            hub_min: 2,
            ..Options::default()
        };
        let c = correlate(&a, &opts);
        assert_eq!(c.incidents.len(), 2, "{:#?}", c.incidents);
        assert_eq!(c.incidents[0].alert_ids.len(), 6);
        assert_eq!(c.incidents[0].groups[0].count, 6);
    }

    #[test]
    fn repeated_alerts_are_grouped_and_schedules_dismissed() {
        let mut a = Vec::new();
        for i in 0..3 {
            a.push(alert(
                &format!("s{i}"),
                "scan",
                &format!("2024-05-01T10:00:0{i}Z"),
                json!({"source.ip": "198.51.100.1", "host.name": "h"}),
            ));
        }
        for h in 0..8 {
            a.push(alert(
                &format!("cron{h}"),
                "cron",
                &format!("2024-05-01T{:02}:30:00Z", h + 1),
                json!({"host.name": "batch-1"}),
            ));
        }
        let c = correlate(&a, &Options::default());
        let scan = c
            .incidents
            .iter()
            .find(|i| i.alert_ids.contains(&"s0".to_string()))
            .unwrap();
        assert_eq!(scan.groups.len(), 1);
        assert_eq!(scan.groups[0].count, 3);
        assert_eq!(c.dismissed.len(), 8);
        assert!(
            c.dismissed[0].reason.contains("every 60 min"),
            "{}",
            c.dismissed[0].reason
        );
        assert!(
            c.incidents
                .iter()
                .all(|i| !i.alert_ids.iter().any(|x| x.starts_with("cron")))
        );
    }
}

//! Threat detection: Sigma rules over normalized (ECS) events, compiled once, producing alerts.
//!
//! Owns rule loading (a directory of `.yml` files; every rule that cannot be honoured is
//! listed with its reason, never half-loaded), routing of events to the rules of their Sigma
//! logsource (`detect/sigma_fields.toml`), and the [`Alert`] record. Alerts carry the rule's
//! id, title, level, author, licence and ATT&CK tags: SigmaHQ rules are under the Detection
//! Rule License 1.1, which asks that matches keep the rule's author.
//!
//! Depends on `store` for time parsing only; knows nothing about incidents (`correlate`).

pub mod condition;
pub mod event;
pub mod mapping;
pub mod rule;
pub mod traceback;
pub mod value;

pub use event::{Fields, Prepared};
pub use mapping::Mapping;
pub use rule::{Rule, RuleError, RuleMeta};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A rule that was not loaded, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Skipped {
    pub path: String,
    pub id: String,
    pub title: String,
    pub reason: String,
}

/// ATT&CK references taken from a rule's tags.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Threat {
    /// Tactic short names (`execution`, `defense-evasion`, …).
    pub tactics: Vec<String>,
    /// Technique ids (`T1059.001`).
    pub techniques: Vec<String>,
}

impl Threat {
    /// Reads `attack.*` tags.
    pub fn from_tags(tags: &[String]) -> Threat {
        let mut t = Threat::default();
        for tag in tags {
            let Some(rest) = tag.strip_prefix("attack.") else {
                continue;
            };
            let is_id = |p: char| {
                rest.len() > 1
                    && rest.starts_with(p)
                    && rest[1..].chars().next().is_some_and(|c| c.is_ascii_digit())
            };
            if is_id('t') {
                t.techniques.push(rest.to_ascii_uppercase());
            } else if is_id('g') || is_id('s') {
                // groups and software: not tactics
            } else {
                t.tactics.push(rest.to_string());
            }
        }
        t
    }
}

/// One match of a rule on an event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Alert {
    /// Stable id: a hash of the rule id, the event's position in the input and the event.
    pub id: String,
    /// The event time (RFC 3339), when the event has one.
    #[serde(rename = "@timestamp", skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    pub rule: RuleMeta,
    pub threat: Threat,
    /// The Sigma logsource that routed the event to the rule.
    pub logsource: String,
    /// Links to other alerts or events that explain this one (web-traffic traceback).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Json>,
    /// The normalized event that matched.
    pub event: Map<String, Json>,
}

impl Alert {
    /// The event time in Unix milliseconds.
    pub fn time_ms(&self) -> Option<i64> {
        self.timestamp
            .as_deref()
            .and_then(crate::store::parse_time_ms)
    }
}

/// Why loading rules failed as a whole (single rules fail into [`Skipped`] instead).
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("cannot read Sigma rules from {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A set of compiled rules and the field mapping they were compiled against.
#[derive(Debug, Clone)]
pub struct Detector {
    mapping: Mapping,
    /// The event fields the rules and the routing read, numbered.
    fields: Fields,
    routes: Routes,
    rules: Vec<Rule>,
    /// Rule indices per logsource.
    by_logsource: Vec<Vec<usize>>,
    /// Per logsource, the literal prefilter over its rules (built on first use after a
    /// change to the rule set).
    prefilters: std::sync::OnceLock<Vec<Prefilter>>,
    skipped: Vec<Skipped>,
}

/// One routing alternative: (field number, accepted lowercase values; empty = the field
/// exists and is not null), all of which must hold.
type RouteAlt = Vec<(u32, Vec<String>)>;

/// Accepted value of a key field → the alternatives (logsource, alternative) that need it.
type ByValue = HashMap<String, Vec<(usize, usize)>>;

/// Which logsources an event belongs to (the mapping's `when` conditions), found from the
/// values of a few key fields instead of testing every logsource.
#[derive(Debug, Clone, Default)]
struct Routes {
    /// Per logsource: its alternatives.
    alts: Vec<Vec<RouteAlt>>,
    /// Per key field: its accepted values.
    keyed: Vec<(u32, ByValue)>,
    /// Alternatives with existence conditions only: always tested.
    unkeyed: Vec<(usize, usize)>,
}

impl Routes {
    fn build(mapping: &Mapping, fields: &mut Fields) -> Routes {
        let mut r = Routes::default();
        for (ls, l) in mapping.logsources.iter().enumerate() {
            let alts: Vec<RouteAlt> = l
                .when()
                .iter()
                .map(|alt| {
                    alt.iter()
                        .map(|(f, vals)| (fields.field(f), vals.clone()))
                        .collect()
                })
                .collect();
            for (a, alt) in alts.iter().enumerate() {
                match alt.iter().find(|(_, vals)| !vals.is_empty()) {
                    Some((f, vals)) => {
                        let gi = match r.keyed.iter().position(|(k, _)| k == f) {
                            Some(i) => i,
                            None => {
                                r.keyed.push((*f, HashMap::new()));
                                r.keyed.len() - 1
                            }
                        };
                        for v in vals {
                            r.keyed[gi].1.entry(v.clone()).or_default().push((ls, a));
                        }
                    }
                    None => r.unkeyed.push((ls, a)),
                }
            }
            r.alts.push(alts);
        }
        r
    }

    /// The logsources the event belongs to, in no particular order.
    fn members(&self, ev: &Prepared) -> Vec<usize> {
        let holds = |ls: usize, a: usize| {
            self.alts[ls][a]
                .iter()
                .all(|(f, values)| match ev.field(*f) {
                    None => false,
                    Some(v) if values.is_empty() => !v.is_null,
                    Some(v) => v.lowers.iter().any(|t| values.iter().any(|w| w == t)),
                })
        };
        let mut out = Vec::new();
        let mut add = |ls: usize, a: usize| {
            if !out.contains(&ls) && holds(ls, a) {
                out.push(ls);
            }
        };
        for (f, by_value) in &self.keyed {
            let Some(v) = ev.field(*f) else { continue };
            for t in &v.lowers {
                for &(ls, a) in by_value.get(t.as_ref()).into_iter().flatten() {
                    add(ls, a);
                }
            }
        }
        for &(ls, a) in &self.unkeyed {
            add(ls, a);
        }
        out
    }
}

/// The rules of one logsource that an event can possibly match, found with one scan per
/// field: every rule with a required literal (see `Rule::required_literals`) is admitted only
/// when one of its literals occurs in one of its fields; the others are always evaluated.
#[derive(Debug, Clone, Default)]
struct Prefilter {
    /// Per slot's fields: the automaton over the literals read there, and for each literal
    /// the rules (positions in the logsource's rule list) it admits.
    groups: Vec<(SlotFields, aho_corasick::AhoCorasick, Vec<Vec<u32>>)>,
    /// Positions of the rules without a usable required literal.
    always: Vec<u32>,
}

/// A literal and the rules (positions) it admits.
type Admits = (String, Vec<u32>);

/// The fields (numbers) a rule slot reads, and whether it reads all of them (keywords) or
/// only the first one present (as `Rule::is_match` does).
type SlotFields = (Vec<u32>, bool);

/// Literals shorter than this occur too often to be worth a prefilter (`-`, `\\`, `.`): a rule
/// whose best required literal is shorter is always evaluated.
const MIN_PREFILTER_LITERAL: usize = 3;

impl Prefilter {
    fn build(rules: &[Rule], members: &[usize]) -> Prefilter {
        let mut always = Vec::new();
        // fields → (literal → admitted rule positions)
        let mut by_fields: Vec<(SlotFields, Vec<Admits>)> = Vec::new();
        for (pos, &r) in members.iter().enumerate() {
            let rule = &rules[r];
            let req = rule
                .required_literals()
                .filter(|d| d.iter().all(|(_, l)| l.len() >= MIN_PREFILTER_LITERAL));
            let Some(req) = req else {
                always.push(pos as u32);
                continue;
            };
            for (slot, lit) in req {
                let (ids, all) = rule.slot_fields(slot);
                let fields = (ids.to_vec(), all);
                let gi = match by_fields.iter().position(|(f, _)| *f == fields) {
                    Some(i) => i,
                    None => {
                        by_fields.push((fields, Vec::new()));
                        by_fields.len() - 1
                    }
                };
                let lits = &mut by_fields[gi].1;
                match lits.iter_mut().find(|(l, _)| *l == lit) {
                    Some((_, rs)) => {
                        if !rs.contains(&(pos as u32)) {
                            rs.push(pos as u32)
                        }
                    }
                    None => lits.push((lit, vec![pos as u32])),
                }
            }
        }
        let groups = by_fields
            .into_iter()
            .map(|(fields, lits)| {
                // A full DFA (scans ~30% faster than the default automaton here), unless the
                // set is too large for one.
                let pats = || lits.iter().map(|(l, _)| l.as_str());
                let ac = aho_corasick::AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .build(pats())
                    .or_else(|_| aho_corasick::AhoCorasick::new(pats()))
                    .expect("literal sets are small");
                (fields, ac, lits.into_iter().map(|(_, rs)| rs).collect())
            })
            .collect();
        Prefilter { groups, always }
    }

    /// Which of the logsource's rules the event may match (by position).
    fn admitted(&self, ev: &Prepared, n: usize) -> Vec<bool> {
        let mut ok = vec![false; n];
        for &p in &self.always {
            ok[p as usize] = true;
        }
        for ((fields, all), ac, admits) in &self.groups {
            for &f in fields {
                let Some(text) = ev.field(f) else { continue };
                for hay in &text.lowers {
                    for m in ac.find_overlapping_iter(hay.as_ref()) {
                        for &p in &admits[m.pattern().as_usize()] {
                            ok[p as usize] = true;
                        }
                    }
                }
                if !*all {
                    // The rule reads the first present field only.
                    break;
                }
            }
        }
        ok
    }
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new(Mapping::builtin())
    }
}

impl Detector {
    /// An empty detector over a field mapping.
    pub fn new(mapping: Mapping) -> Detector {
        let n = mapping.logsources.len();
        let mut fields = Fields::default();
        let routes = Routes::build(&mapping, &mut fields);
        Detector {
            mapping,
            fields,
            routes,
            rules: Vec::new(),
            by_logsource: vec![Vec::new(); n],
            prefilters: std::sync::OnceLock::new(),
            skipped: Vec::new(),
        }
    }

    /// Loads every `.yml`/`.yaml` file under the directories (recursively, in name order).
    pub fn load_dirs(&mut self, dirs: &[PathBuf]) -> Result<(), DetectError> {
        for dir in dirs {
            let mut files = Vec::new();
            collect(dir, &mut files)?;
            files.sort();
            for f in files {
                let text = std::fs::read_to_string(&f).map_err(|source| DetectError::Io {
                    path: f.clone(),
                    source,
                })?;
                self.add_rule(&text, &f.display().to_string());
            }
        }
        Ok(())
    }

    /// Compiles and adds one rule; a rule that cannot be honoured goes to [`Detector::skipped`].
    /// Returns whether it was added.
    pub fn add_rule(&mut self, yaml: &str, source: &str) -> bool {
        match Rule::compile(yaml, source, &self.mapping, &mut self.fields) {
            Ok(rule) => {
                if self.rules.iter().any(|r| r.meta.id == rule.meta.id) {
                    self.skipped.push(Skipped {
                        path: source.into(),
                        id: rule.meta.id.clone(),
                        title: rule.meta.title.clone(),
                        reason: "a rule with this id is already loaded".into(),
                    });
                    return false;
                }
                self.by_logsource[rule.logsource].push(self.rules.len());
                self.rules.push(rule);
                self.prefilters = std::sync::OnceLock::new();
                true
            }
            Err(err) => {
                let (meta, e) = *err;
                self.skipped.push(Skipped {
                    path: source.into(),
                    id: meta.id,
                    title: meta.title,
                    reason: e.to_string(),
                });
                false
            }
        }
    }

    /// The loaded rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules that were not loaded, with the reason.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The field mapping.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The event fields the rules and the routing read.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// Prepares an event for [`Detector::matching_rules`]: only the fields this detector's
    /// rules and routing read are kept.
    pub fn prepare<'a>(&'a self, event: &'a Map<String, Json>) -> Prepared<'a> {
        Prepared::new(event, &self.fields)
    }

    /// Indices of the rules that match the event (each rule at most once).
    pub fn matching_rules(&self, ev: &Prepared) -> Vec<usize> {
        let prefilters = self.prefilters.get_or_init(|| {
            self.by_logsource
                .iter()
                .map(|members| Prefilter::build(&self.rules, members))
                .collect()
        });
        let mut out = Vec::new();
        for ls in self.routes.members(ev) {
            let members = &self.by_logsource[ls];
            let admitted = prefilters[ls].admitted(ev, members.len());
            for (&r, ok) in members.iter().zip(admitted) {
                if ok && !out.contains(&r) && self.rules[r].is_match(ev) {
                    out.push(r);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Like [`Detector::matching_rules`], without the prefilter and the routing index: every
    /// rule of every logsource the mapping puts the event in is evaluated (the reference the
    /// fast path is tested against).
    pub fn matching_rules_unfiltered(&self, ev: &Prepared) -> Vec<usize> {
        let mut out = Vec::new();
        for ls in self.mapping.members(ev) {
            for &r in &self.by_logsource[ls] {
                if !out.contains(&r) && self.rules[r].is_match(ev) {
                    out.push(r);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// How many rules have a literal prefilter, of all loaded.
    pub fn prefiltered_rules(&self) -> usize {
        self.by_logsource
            .iter()
            .map(|m| m.len() - Prefilter::build(&self.rules, m).always.len())
            .sum()
    }

    /// The alerts the event raises; `seq` is the event's position in its input (for ids).
    pub fn detect(&self, event: &Map<String, Json>, seq: u64) -> Vec<Alert> {
        let prepared = self.prepare(event);
        self.matching_rules(&prepared)
            .into_iter()
            .map(|r| self.alert(r, event, seq))
            .collect()
    }

    fn alert(&self, r: usize, event: &Map<String, Json>, seq: u64) -> Alert {
        let rule = &self.rules[r];
        let body = serde_json::to_string(event).unwrap_or_default();
        let mut h = xxhash_rust::xxh64::Xxh64::new(0);
        h.update(rule.meta.id.as_bytes());
        h.update(&seq.to_le_bytes());
        h.update(body.as_bytes());
        let timestamp = crate::store::lookup(event, "@timestamp").and_then(|t| match t {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => n
                .as_i64()
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|d| d.to_rfc3339()),
            _ => None,
        });
        Alert {
            id: format!("{:016x}", h.digest()),
            timestamp,
            threat: Threat::from_tags(&rule.meta.tags),
            rule: rule.meta.clone(),
            logsource: self.mapping.logsources[rule.logsource].name(),
            related: Vec::new(),
            event: event.clone(),
        }
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DetectError> {
    let io = |source| DetectError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RULE: &str = r#"
title: Web Shell Child
id: 11111111-2222-3333-4444-555555555555
author: Test Author
level: high
tags: [attack.persistence, attack.t1505.003, attack.g0016]
logsource: {product: linux, category: process_creation}
detection:
  selection:
    ParentImage|endswith: ['/httpd', '/nginx', '/php-fpm']
  tools:
    Image|endswith: ['/whoami', '/id', '/uname']
  filter:
    CommandLine|contains: 'healthcheck'
  condition: selection and tools and not filter
"#;

    fn ev(parent: &str, image: &str, cmd: &str) -> Map<String, Json> {
        json!({"@timestamp": "2024-05-01T10:00:00Z", "host.os.type": "linux",
               "event.category": ["process"], "event.type": ["start"],
               "process.parent.executable": parent, "process.executable": image,
               "process.command_line": cmd})
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn a_rule_fires_with_its_metadata_and_attack_tags() {
        let mut d = Detector::default();
        assert!(d.add_rule(RULE, "test.yml"), "{:?}", d.skipped());
        let a = d.detect(&ev("/usr/sbin/nginx", "/usr/bin/whoami", "whoami"), 0);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].rule.author, "Test Author");
        assert_eq!(a[0].rule.license, "DRL-1.1");
        assert_eq!(a[0].threat.tactics, vec!["persistence"]);
        assert_eq!(a[0].threat.techniques, vec!["T1505.003"]);
        assert_eq!(a[0].logsource, "linux/process_creation");
        assert!(
            d.detect(&ev("/usr/sbin/nginx", "/usr/bin/whoami", "healthcheck"), 0)
                .is_empty()
        );
        assert!(
            d.detect(&ev("/bin/bash", "/usr/bin/whoami", "whoami"), 0)
                .is_empty()
        );
        // Not a Linux process start: not routed to the rule at all.
        let mut other = ev("/usr/sbin/nginx", "/usr/bin/whoami", "whoami");
        other.insert("host.os.type".into(), json!("windows"));
        assert!(d.detect(&other, 0).is_empty());
    }

    #[test]
    fn unsupported_rules_are_listed_with_the_reason() {
        let mut d = Detector::default();
        assert!(!d.add_rule("title: x\nid: a\nlogsource: {product: macos, category: process_creation}\ndetection: {s: {Image: x}, condition: s}", "a.yml"));
        assert!(
            d.skipped()[0]
                .reason
                .contains("no field mapping for logsource macos/process_creation")
        );
        assert!(!d.add_rule("title: x\nid: b\nlogsource: {category: proxy}\ndetection: {s: {c-uri|nope: x}, condition: s}", "b.yml"));
        assert!(d.skipped()[1].reason.contains("unknown modifier `nope`"));
        assert!(!d.add_rule("title: x\nid: c\nlogsource: {category: proxy}\ndetection: {s: {c-uri: x}, condition: s | count() > 3}", "c.yml"));
        assert!(d.skipped()[2].reason.contains("aggregation"));
        assert!(!d.add_rule(": : :", "d.yml"));
        assert!(d.skipped()[3].reason.contains("YAML"));
        assert!(d.rules().is_empty());
    }

    #[test]
    fn keywords_search_the_message() {
        let mut d = Detector::default();
        assert!(d.add_rule(
            "title: k\nid: k1\nlogsource: {product: linux, service: sshd}\ndetection:\n  keywords: ['Corrupted MAC on input', 'bad protocol version']\n  condition: keywords",
            "k.yml"
        ));
        let e = json!({"process.name": "sshd", "message": "Corrupted MAC on input from 1.2.3.4"});
        assert_eq!(d.detect(e.as_object().unwrap(), 0).len(), 1);
        let e = json!({"process.name": "sshd", "message": "Accepted publickey"});
        assert!(d.detect(e.as_object().unwrap(), 0).is_empty());
    }

    #[test]
    fn fieldref_null_and_lists_of_maps() {
        let mut d = Detector::default();
        assert!(d.add_rule(
            "title: f\nid: f1\nlogsource: {product: linux, category: process_creation}\ndetection:\n  sel:\n    - Image|fieldref: ParentImage\n    - User: null\n  condition: sel",
            "f.yml"
        ), "{:?}", d.skipped());
        let mut e = ev("/bin/x", "/bin/x", "");
        e.insert("user.name".into(), json!("root"));
        assert_eq!(d.detect(&e, 0).len(), 1, "fieldref: same image as parent");
        let mut e = ev("/bin/y", "/bin/x", "");
        e.insert("user.name".into(), json!("root"));
        assert!(d.detect(&e, 0).is_empty());
        e.remove("user.name");
        assert_eq!(d.detect(&e, 0).len(), 1, "null: user absent");
    }
}

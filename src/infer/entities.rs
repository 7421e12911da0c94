//! Compositional key semantics (`knowledge/entities.toml`): a key names an entity and one of
//! its attributes (`actor.displayName`, `srcIpAddr`), composed into a model field
//! (`user.full_name`, `source.ip`) when the catalog has it.

use super::learned::{canonical, words};
use crate::model;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const TABLE: &str = include_str!("../../knowledge/entities.toml");

#[derive(Debug, Default, Deserialize)]
struct Table {
    namespaces: BTreeMap<String, String>,
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    generic: Generic,
    #[serde(default)]
    contexts: BTreeMap<String, String>,
    #[serde(default)]
    time: Time,
    #[serde(default)]
    outcome: Outcome,
    #[serde(default)]
    alert: Alert,
    #[serde(default)]
    qualifiers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    aliases: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct Outcome {
    success: Vec<String>,
    failure: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Alert {
    words: Vec<String>,
    #[serde(default)]
    indicator: Vec<String>,
}

/// The outcome a value states (`SUCCESS` → success, `NXDOMAIN` → failure), if it states one.
pub fn outcome_of(value: &str) -> Option<&'static str> {
    let v = value.trim().to_lowercase();
    let o = &ENTITIES.outcome;
    if o.success.contains(&v) {
        Some("success")
    } else if o.failure.contains(&v) {
        Some("failure")
    } else {
        None
    }
}

/// The outcome words of the table, for a rule that maps values it has not seen.
pub fn outcome_words() -> (&'static [String], &'static [String]) {
    (&ENTITIES.outcome.success, &ENTITIES.outcome.failure)
}

/// Whether a top-level key names an alert or a detection by its first word (`alert_name`,
/// `detection_id`); nested keys (`debugData.threatSuspected`) describe something else.
pub fn names_alert(path: &[&str]) -> bool {
    path.len() == 1
        && words(path[0])
            .first()
            .is_some_and(|w| ENTITIES.alert.words.contains(w))
}

/// Whether a top-level key names a threat indicator (`ioc`, `ioc_type`): a threat-intelligence
/// record, which ECS calls an enrichment.
pub fn names_indicator(path: &[&str]) -> bool {
    path.len() == 1
        && words(path[0])
            .first()
            .is_some_and(|w| ENTITIES.alert.indicator.contains(w))
}

#[derive(Debug, Default, Deserialize)]
struct Time {
    event: Vec<String>,
    start: Vec<String>,
    end: Vec<String>,
}

/// The time a key names by its words, if any: `@timestamp`, `event.start` or `event.end`
/// (`creation_time` → `@timestamp`, `startTime` → `event.start`).
pub fn time_field(path: &[&str]) -> Option<&'static str> {
    let t = &ENTITIES.time;
    let ws: Vec<String> = path.iter().flat_map(|s| words(s)).collect();
    let has = |list: &[String]| ws.iter().any(|w| list.contains(w));
    if has(&t.start) {
        Some("event.start")
    } else if has(&t.end) {
        Some("event.end")
    } else if has(&t.event) || ws.last().is_some_and(|w| w == "at") {
        Some("@timestamp")
    } else {
        None
    }
}

#[derive(Debug, Default, Deserialize)]
struct Generic {
    leaves: Vec<String>,
}

/// Whether a leaf key means nothing by itself (`id`, `status`, `path`): nested under an
/// unknown parent it is not mapped by name alone.
pub fn is_generic(leaf: &str) -> bool {
    let c = canonical(leaf);
    ENTITIES.generic.leaves.contains(&c)
}

/// What a leaf means under its ancestors (`httpMessage.path` → `url.path`): the nearest
/// ancestor with a word the context table knows decides. Only catalog fields are returned.
pub fn context_field(path: &[&str]) -> Option<String> {
    let (leaf, ancestors) = path.split_last()?;
    let leaf = canonical(leaf);
    // The parent and the grandparent: farther ancestors (a document's root element) say
    // nothing about a leaf.
    for a in ancestors.iter().rev().take(2) {
        let c = canonical(a);
        let ws: Vec<&str> = c.split('_').collect();
        for w in std::iter::once(c.as_str()).chain(ws.iter().rev().copied()) {
            if let Some(f) = ENTITIES.contexts.get(&format!("{w}.{leaf}"))
                && (model::catalog().get(f).is_some() || f == "@timestamp")
            {
                return Some(f.clone());
            }
        }
    }
    None
}

static ENTITIES: LazyLock<Table> = LazyLock::new(|| toml::from_str(TABLE).unwrap_or_default());

/// The model fields a key path can be composed into, most specific reading first: the leaf's
/// own words (`srcIpAddr` = `source` + `ip_address`), then the parent as the entity and the
/// leaf as the attribute (`actor` + `displayName`). Only fields of the catalog are returned.
pub fn compose(path: &[&str]) -> Vec<String> {
    let t = &*ENTITIES;
    let mut out = Vec::new();
    let Some(leaf) = path.last() else {
        return out;
    };
    let lw: Vec<String> = words(leaf)
        .iter()
        .map(|w| canonical(w))
        .flat_map(|c| c.split('_').map(str::to_string).collect::<Vec<_>>())
        .collect();
    fn push(out: &mut Vec<String>, field: String) {
        if model::catalog().get(&field).is_some() && !out.contains(&field) {
            out.push(field);
        }
    }
    // A qualifier word (`nat`) taken out of the key and put after the namespace.
    let qualifier = t
        .qualifiers
        .iter()
        .find_map(|(q, ws)| lw.iter().position(|w| ws.contains(w)).map(|i| (q, i)));
    let (lw, qualifier) = match qualifier {
        Some((q, i)) => {
            let mut rest = lw.clone();
            rest.remove(i);
            (rest, Some(q.as_str()))
        }
        None => (lw, None),
    };
    let fields = |words: &[String]| -> Vec<String> {
        let mut found = Vec::new();
        // `<entity> <attribute>` (`source zone name`), or `<attribute> from <entity>`
        // (`bytes from client`).
        let mut splits: Vec<(String, String)> = (1..words.len())
            .map(|k| (words[..k].join("_"), words[k..].join("_")))
            .collect();
        if let Some(k) = words.iter().position(|w| w == "from")
            && k > 0
            && k + 1 < words.len()
        {
            splits.push((words[k + 1..].join("_"), words[..k].join("_")));
        }
        for (ns, attr) in splits {
            let (Some(n), Some(a)) = (t.namespaces.get(&ns), t.attributes.get(&attr)) else {
                continue;
            };
            let n = match qualifier {
                Some(q) => format!("{n}.{q}"),
                None => n.clone(),
            };
            let field = format!("{n}.{a}");
            let field = t.aliases.get(&field).cloned().unwrap_or(field);
            // The model names a translated address by its IP only.
            if a == "address" && model::catalog().get(&field).is_none() {
                found.push(format!("{n}.ip"));
            }
            found.push(field);
        }
        found
    };
    for f in fields(&lw) {
        push(&mut out, f);
    }
    if path.len() >= 2 && qualifier.is_none() {
        let parent = canonical(path[path.len() - 2]);
        if let (Some(n), Some(a)) = (
            t.namespaces.get(&parent),
            t.attributes.get(&canonical(leaf)),
        ) {
            push(&mut out, format!("{n}.{a}"));
        }
    }
    // Leading words before a traffic direction (`packet incoming interface`): the rest read
    // alone. (Before an entity they qualify it: `acting user id` is not the user's id.)
    if out.is_empty() {
        for i in 1..lw.len().saturating_sub(1) {
            for f in fields(&lw[i..]) {
                if f.starts_with("observer.") {
                    push(&mut out, f);
                }
            }
            if !out.is_empty() {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::compose;

    #[test]
    fn entity_and_attribute_compose_into_a_field() {
        assert_eq!(compose(&["actor", "displayName"]), ["user.full_name"]);
        assert_eq!(compose(&["srcIpAddr"]), ["source.ip"]);
        assert_eq!(compose(&["client", "ipAddress"]), ["client.ip"]);
        assert_eq!(compose(&["actor", "id"]), ["user.id"]);
        assert_eq!(compose(&["request", "method"]), ["http.request.method"]);
        assert_eq!(compose(&["dst_port"]), ["destination.port"]);
    }

    #[test]
    fn a_generic_leaf_reads_through_its_ancestors() {
        use super::{context_field, is_generic};
        assert_eq!(
            context_field(&["httpMessage", "path"]).as_deref(),
            Some("url.path")
        );
        assert_eq!(
            context_field(&["request", "headers", "query"]).as_deref(),
            Some("url.query")
        );
        assert_eq!(context_field(&["userRiskData", "status"]), None);
        assert!(is_generic("status") && is_generic("ID") && !is_generic("srcip"));
    }

    #[test]
    fn time_words_name_the_event_time() {
        use super::time_field;
        assert_eq!(time_field(&["creation_time"]), Some("@timestamp"));
        assert_eq!(
            time_field(&["timestamp", "epochSecond"]),
            Some("@timestamp")
        );
        assert_eq!(time_field(&["startTime"]), Some("event.start"));
        assert_eq!(time_field(&["updated_at"]), Some("@timestamp"));
        assert_eq!(time_field(&["user"]), None);
    }

    #[test]
    fn qualifiers_directions_and_from_compose() {
        assert_eq!(compose(&["nat-source-address"]), ["source.nat.ip"]);
        assert_eq!(
            compose(&["translatedDestinationPort"]),
            ["destination.nat.port"]
        );
        assert_eq!(compose(&["source-zone-name"]), ["observer.ingress.zone"]);
        assert_eq!(compose(&["dst_zone"]), ["observer.egress.zone"]);
        assert_eq!(
            compose(&["packet-incoming-interface"]),
            ["observer.ingress.interface.name"]
        );
        assert_eq!(compose(&["bytes-from-client"]), ["client.bytes"]);
        assert_eq!(compose(&["packets_from_server"]), ["server.packets"]);
    }

    #[test]
    fn nothing_when_the_catalog_has_no_such_field() {
        assert!(compose(&["actor", "ipAddress"]).is_empty());
        assert!(compose(&["weird"]).is_empty());
    }
}

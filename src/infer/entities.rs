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
}

static ENTITIES: LazyLock<Table> = LazyLock::new(|| toml::from_str(TABLE).unwrap_or_default());

/// The model fields a key path can be composed into, most specific reading first: the leaf's
/// own words (`srcIpAddr` = `source` + `ip_address`), then the parent as the entity and the
/// leaf as the attribute (`actor` + `displayName`). Only fields of the catalog are returned.
pub fn compose(path: &[&str]) -> Vec<String> {
    let t = &*ENTITIES;
    let mut out = Vec::new();
    let mut push = |ns: &str, attr: &str| {
        let (Some(n), Some(a)) = (t.namespaces.get(ns), t.attributes.get(attr)) else {
            return;
        };
        let field = format!("{n}.{a}");
        if model::catalog().get(&field).is_some() && !out.contains(&field) {
            out.push(field);
        }
    };
    let Some(leaf) = path.last() else {
        return out;
    };
    let lw: Vec<String> = words(leaf)
        .iter()
        .map(|w| canonical(w))
        .flat_map(|c| c.split('_').map(str::to_string).collect::<Vec<_>>())
        .collect();
    for k in 1..lw.len() {
        push(&lw[..k].join("_"), &lw[k..].join("_"));
    }
    if path.len() >= 2 {
        let parent = canonical(path[path.len() - 2]);
        push(&parent, &canonical(leaf));
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
    fn nothing_when_the_catalog_has_no_such_field() {
        assert!(compose(&["actor", "ipAddress"]).is_empty());
        assert!(compose(&["weird"]).is_empty());
    }
}

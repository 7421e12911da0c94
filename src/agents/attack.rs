//! The MITRE ATT&CK Enterprise catalogue (ids, names, tactics) embedded from
//! `datasets/attack/techniques.json`: validates and names technique ids, orders tactics along
//! the kill chain.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::LazyLock;

/// One tactic, in kill-chain order in [`tactics`].
#[derive(Debug, Clone, Deserialize)]
pub struct Tactic {
    pub id: String,
    pub shortname: String,
    pub name: String,
}

/// One technique or sub-technique.
#[derive(Debug, Clone, Deserialize)]
pub struct Technique {
    pub id: String,
    pub name: String,
    pub tactics: Vec<String>,
}

#[derive(Deserialize)]
struct Catalogue {
    attack_version: String,
    tactics: Vec<Tactic>,
    techniques: Vec<Technique>,
}

static CATALOGUE: LazyLock<(Catalogue, HashMap<String, usize>)> = LazyLock::new(|| {
    let c: Catalogue = serde_json::from_str(include_str!("../../datasets/attack/techniques.json"))
        .expect("the embedded ATT&CK catalogue is checked by a test");
    let idx = c
        .techniques
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.clone(), i))
        .collect();
    (c, idx)
});

/// The ATT&CK version of the catalogue.
pub fn version() -> &'static str {
    &CATALOGUE.0.attack_version
}

/// A technique by id (`T1059.004`, case-insensitive).
pub fn technique(id: &str) -> Option<&'static Technique> {
    let (c, idx) = &*CATALOGUE;
    idx.get(&id.trim().to_ascii_uppercase())
        .map(|&i| &c.techniques[i])
}

/// The tactics in kill-chain order.
pub fn tactics() -> &'static [Tactic] {
    &CATALOGUE.0.tactics
}

/// The kill-chain position of a tactic shortname (`initial-access` → 2), if it is one.
pub fn tactic_rank(shortname: &str) -> Option<usize> {
    let s = shortname.trim().to_ascii_lowercase().replace('_', "-");
    tactics().iter().position(|t| t.shortname == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_loads_and_answers() {
        assert_eq!(tactics().len(), 14);
        assert_eq!(technique("t1059.004").unwrap().name, "Unix Shell");
        assert!(technique("T9999").is_none());
        assert!(tactic_rank("initial-access") < tactic_rank("impact"));
        assert!(!version().is_empty());
    }
}

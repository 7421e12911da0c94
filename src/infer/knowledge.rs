//! What the engine knows, as data: key-name synonyms, context words, product quirks and
//! categorization rules, read from `knowledge/mapping.toml` (embedded at build time). Code in
//! `map` and `suggest` reads these tables; adding a synonym is a one-line change in that file.
//! Products and their signatures live in the product library (`knowledge/products/`, see
//! `products`).

use std::sync::LazyLock;

use serde::Deserialize;

/// The embedded knowledge file.
const MAPPING_TOML: &str = include_str!("../../knowledge/mapping.toml");

/// `knowledge/mapping.toml` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mapping {
    synonyms: Vec<(String, String)>,
    product_synonyms: Vec<(String, String, String)>,
    context: Vec<(String, String, String)>,
    observer_host: Vec<(String, String, bool)>,
    client_server: Vec<String>,
    cloud_provider: Vec<(String, String)>,
    #[serde(default)]
    cloud_ids: Vec<(String, String, String)>,
    action_rules: Vec<(String, String)>,
    dns_types: Vec<String>,
    #[serde(default)]
    dns_response_codes: Vec<String>,
    #[serde(default)]
    dns_classes: Vec<String>,
    indicator_synonyms: Vec<(String, String)>,
    category_rule: Vec<CategoryRule>,
}

static MAPPING: LazyLock<Mapping> = LazyLock::new(|| {
    // The file is part of the binary and checked by a test: a fault is a build defect.
    toml::from_str(MAPPING_TOML).unwrap_or_else(|e| panic!("knowledge/mapping.toml: {e}"))
});

fn pairs(v: &'static [(String, String)]) -> Vec<(&'static str, &'static str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

fn triples(
    v: &'static [(String, String, String)],
) -> Vec<(&'static str, &'static str, &'static str)> {
    v.iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect()
}

/// Key-name synonyms: a normalized key (lower-case, `_ - . space` removed) → ECS field.
/// A `?` suffix on the target means "only if the value type agrees" (checked in `map`).
pub static SYNONYMS: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| pairs(&MAPPING.synonyms));

/// Key names whose meaning is particular to one product: the product's vendor prefix, the
/// normalized key, the ECS field (as in [`SYNONYMS`]). Tried before the general synonyms.
pub static PRODUCT_SYNONYMS: LazyLock<Vec<(&'static str, &'static str, &'static str)>> =
    LazyLock::new(|| triples(&MAPPING.product_synonyms));

/// Context words before a value in free text (`from <ip> port <n>`): the nearest literal word
/// and the value's type class → ECS field.
pub static CONTEXT: LazyLock<Vec<(&'static str, &'static str, &'static str)>> =
    LazyLock::new(|| triples(&MAPPING.context));

/// Where a product's syslog host name goes (module → field), and whether `host.hostname` is
/// kept too. The host that wrote a network device's log is the observer, not a monitored host.
pub static OBSERVER_HOST: LazyLock<Vec<(&'static str, &'static str, bool)>> = LazyLock::new(|| {
    MAPPING
        .observer_host
        .iter()
        .map(|(a, b, k)| (a.as_str(), b.as_str(), *k))
        .collect()
});

/// Products (modules) whose source and destination are also the HTTP client and server.
pub static CLIENT_SERVER: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| MAPPING.client_server.iter().map(String::as_str).collect());

/// Cloud services: module → `cloud.provider`.
pub static CLOUD_PROVIDER: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| pairs(&MAPPING.cloud_provider));

/// Cloud resource identifiers: (regex, provider, account group), compiled once.
pub static CLOUD_IDS: LazyLock<Vec<(regex::Regex, &'static str, usize)>> = LazyLock::new(|| {
    MAPPING
        .cloud_ids
        .iter()
        .map(|(re, p, g)| {
            (
                regex::Regex::new(re)
                    .unwrap_or_else(|e| panic!("knowledge/mapping.toml cloud_ids: {e}")),
                p.as_str(),
                g.parse().unwrap_or(0),
            )
        })
        .collect()
});

/// `event.action` from the raw event where the product's message id or verb alone determines the
/// action (first match wins, case-sensitive regex over the whole event). Used only when no
/// extracted field already supplies `event.action`.
pub static ACTION_RULES: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| pairs(&MAPPING.action_rules));

/// Key names in threat-intelligence records: normalized key -> `threat.*` field.
pub static INDICATOR_SYNONYMS: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| pairs(&MAPPING.indicator_synonyms));

/// Whether a value is a DNS resource record type (`AAAA`, `PTR`).
pub fn is_dns_type(v: &str) -> bool {
    MAPPING.dns_types.iter().any(|t| t == v)
}

/// Whether a value names a DNS response code (`NOERROR`, `NXDOMAIN`), in any case.
pub fn is_dns_response_code(v: &str) -> bool {
    MAPPING
        .dns_response_codes
        .iter()
        .any(|t| t.eq_ignore_ascii_case(v))
}

/// Whether a value names a DNS query class (`IN`).
pub fn is_dns_class(v: &str) -> bool {
    MAPPING.dns_classes.iter().any(|t| t == v)
}

/// Categorization rules over the message text (first match wins): a case-insensitive regex →
/// kind, categories, types and outcome.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    pub pattern: String,
    pub kind: String,
    pub category: Vec<String>,
    #[serde(rename = "type")]
    pub ty: Vec<String>,
    #[serde(default)]
    pub outcome: String,
}

/// The message categorization rules, in order.
pub fn category_rules() -> &'static [CategoryRule] {
    &MAPPING.category_rule
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_knowledge_file_loads_and_its_regexes_compile() {
        assert!(SYNONYMS.len() > 100);
        assert!(!CONTEXT.is_empty() && !category_rules().is_empty());
        for (p, _) in ACTION_RULES.iter() {
            regex::Regex::new(p).unwrap();
        }
        for r in category_rules() {
            regex::Regex::new(&format!("(?i){}", r.pattern)).unwrap();
        }
    }

    #[test]
    fn every_target_is_a_model_field() {
        let catalog = crate::model::catalog();
        let fields = SYNONYMS
            .iter()
            .map(|(_, t)| *t)
            .chain(PRODUCT_SYNONYMS.iter().map(|(_, _, t)| *t))
            .chain(CONTEXT.iter().map(|(_, _, t)| *t))
            .chain(OBSERVER_HOST.iter().map(|(_, t, _)| *t))
            .chain(INDICATOR_SYNONYMS.iter().map(|(_, t)| *t));
        for t in fields {
            let t = t.trim_end_matches('?');
            assert!(
                t == "@timestamp" || catalog.get(t).is_some(),
                "knowledge/mapping.toml: `{t}` is not an ECS field"
            );
        }
    }
}

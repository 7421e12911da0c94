//! The ECS allowed values of the enumerated fields (`event.kind`, `event.category`,
//! `event.type`, `event.outcome`, the `*.entity.type` fields, `vulnerability.status`), and per
//! event category the event types ECS expects with it. Parsed once from
//! `datasets/schema/ecs-allowed-values.json` (embedded in the binary).

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::LazyLock;

const ALLOWED_JSON: &str = include_str!("../../datasets/schema/ecs-allowed-values.json");

#[derive(Deserialize)]
struct Entry {
    name: String,
    #[serde(default)]
    expected_event_types: Vec<String>,
}

struct Allowed {
    /// field → allowed values, in ECS order.
    values: HashMap<String, Vec<String>>,
    /// event.category value → its expected event.type values.
    types_for_category: HashMap<String, Vec<String>>,
}

static ALLOWED: LazyLock<Allowed> = LazyLock::new(|| {
    let raw: HashMap<String, Vec<Entry>> =
        serde_json::from_str(ALLOWED_JSON).expect("the embedded allowed values are valid JSON");
    let mut values = HashMap::new();
    let mut types_for_category = HashMap::new();
    for (field, entries) in raw {
        if field == "event.category" {
            for e in &entries {
                types_for_category.insert(e.name.clone(), e.expected_event_types.clone());
            }
        }
        values.insert(field, entries.into_iter().map(|e| e.name).collect());
    }
    Allowed {
        values,
        types_for_category,
    }
});

/// The allowed values of an enumerated ECS field, or `None` when the field is not
/// enumerated.
///
/// ```
/// use agentic_soc::model::allowed_values;
/// assert!(allowed_values("event.outcome").unwrap().iter().any(|v| v == "failure"));
/// assert!(allowed_values("source.ip").is_none());
/// ```
pub fn allowed_values(field: &str) -> Option<&'static [String]> {
    ALLOWED.values.get(field).map(Vec::as_slice)
}

/// The `event.type` values ECS expects together with an `event.category` value (`None` for a
/// category that is not allowed).
///
/// ```
/// use agentic_soc::model::allowed_types_for_category;
/// let types = allowed_types_for_category("authentication").unwrap();
/// assert!(types.iter().any(|t| t == "start"));
/// ```
pub fn allowed_types_for_category(category: &str) -> Option<&'static [String]> {
    ALLOWED.types_for_category.get(category).map(Vec::as_slice)
}

/// The fields with an enumerated value set, sorted.
pub fn enumerated_fields() -> Vec<&'static str> {
    let mut v: Vec<&str> = ALLOWED.values.keys().map(String::as_str).collect();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categorization_fields_are_enumerated() {
        let kinds = allowed_values("event.kind").unwrap();
        assert!(kinds.iter().any(|k| k == "alert"));
        assert_eq!(allowed_values("event.outcome").unwrap().len(), 3);
        assert_eq!(allowed_values("event.category").unwrap().len(), 20);
        assert!(
            allowed_values("event.type")
                .unwrap()
                .iter()
                .any(|t| t == "denied")
        );
        assert!(allowed_values("event.action").is_none());
        assert!(enumerated_fields().contains(&"vulnerability.status"));
    }

    #[test]
    fn each_category_lists_its_expected_types() {
        let network = allowed_types_for_category("network").unwrap();
        assert!(network.iter().any(|t| t == "connection"));
        assert!(!network.iter().any(|t| t == "creation"));
        assert!(allowed_types_for_category("nonsense").is_none());
        for c in allowed_values("event.category").unwrap() {
            assert!(allowed_types_for_category(c).is_some(), "{c}");
        }
    }
}

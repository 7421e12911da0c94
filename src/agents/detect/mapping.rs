//! The Sigma → ECS field mapping per logsource, read from `sigma_fields.toml` (data, not code).
//!
//! Owns which normalized events belong to which Sigma logsource (`when`), and which ECS
//! field(s) a Sigma field name reads (`fields`, then `fallback` prefixes).

use super::event::Prepared;
use serde::Deserialize;
use std::collections::HashMap;

/// The mapping shipped with the crate.
pub const DEFAULT_MAPPING: &str = include_str!("sigma_fields.toml");

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    defaults: Defaults,
    logsource: Vec<RawLogsource>,
}

#[derive(Debug, Default, Deserialize)]
struct Defaults {
    #[serde(default)]
    keywords: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawLogsource {
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
    when: Vec<HashMap<String, OneOrMany>>,
    #[serde(default)]
    fallback: Vec<String>,
    #[serde(default)]
    keywords: Option<Vec<String>>,
    #[serde(default)]
    fields: HashMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// One logsource of the mapping.
#[derive(Debug, Clone)]
pub struct Logsource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
    /// Alternatives; each is a list of (ECS field, accepted values; empty = exists).
    when: Vec<Vec<(String, Vec<String>)>>,
    fallback: Vec<String>,
    pub keywords: Vec<String>,
    fields: HashMap<String, Vec<String>>,
}

impl Logsource {
    /// `product/category/service` with the parts that are set.
    pub fn name(&self) -> String {
        [&self.product, &self.category, &self.service]
            .iter()
            .filter_map(|p| p.as_deref())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The event fields a Sigma field name reads, in order of preference.
    pub fn candidates(&self, sigma: &str) -> Vec<String> {
        let mut out: Vec<String> = self.fields.get(sigma).cloned().unwrap_or_default();
        for p in &self.fallback {
            let f = format!("{p}{sigma}");
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// Which events belong here: alternatives, each a list of (ECS field, accepted lowercase
    /// values; empty = the field exists and is not null) that must all hold.
    pub fn when(&self) -> &[Vec<(String, Vec<String>)>] {
        &self.when
    }

    fn holds(&self, ev: &Prepared) -> bool {
        self.when.iter().any(|alt| {
            alt.iter().all(|(field, values)| match ev.get(field) {
                None => false,
                Some(v) if values.is_empty() => !v.is_null,
                Some(v) => v.lowers.iter().any(|t| values.iter().any(|want| want == t)),
            })
        })
    }
}

/// The whole mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub logsources: Vec<Logsource>,
}

impl Mapping {
    /// Parses a mapping file.
    pub fn parse(text: &str) -> Result<Mapping, String> {
        let file: File =
            toml::from_str(text).map_err(|e| format!("bad Sigma field mapping: {e}"))?;
        let logsources = file
            .logsource
            .into_iter()
            .map(|r| Logsource {
                product: r.product.map(|s| s.to_ascii_lowercase()),
                category: r.category.map(|s| s.to_ascii_lowercase()),
                service: r.service.map(|s| s.to_ascii_lowercase()),
                when: r
                    .when
                    .into_iter()
                    .map(|alt| {
                        let mut alt: Vec<(String, Vec<String>)> = alt
                            .into_iter()
                            .map(|(k, v)| {
                                let vals = match v {
                                    OneOrMany::One(s) => vec![s],
                                    OneOrMany::Many(v) => v,
                                };
                                let vals = if vals.iter().any(|v| v == "*") {
                                    Vec::new()
                                } else {
                                    vals.into_iter().map(|v| v.to_lowercase()).collect()
                                };
                                (k, vals)
                            })
                            .collect();
                        alt.sort();
                        alt
                    })
                    .collect(),
                fallback: r.fallback,
                keywords: r.keywords.unwrap_or_else(|| file.defaults.keywords.clone()),
                fields: r.fields,
            })
            .collect();
        Ok(Mapping { logsources })
    }

    /// The mapping shipped with the crate.
    pub fn builtin() -> Mapping {
        Mapping::parse(DEFAULT_MAPPING).expect("the embedded mapping is tested")
    }

    /// The logsource entry for a rule's logsource.
    pub fn find(
        &self,
        product: Option<&str>,
        category: Option<&str>,
        service: Option<&str>,
    ) -> Option<usize> {
        let norm = |s: Option<&str>| s.map(|s| s.to_ascii_lowercase());
        let (p, c, s) = (norm(product), norm(category), norm(service));
        self.logsources
            .iter()
            .position(|l| l.product == p && l.category == c && l.service == s)
            .or_else(|| {
                // A rule may name a product the mapping leaves open (e.g. `product: windows`
                // on a web-server category): match on category/service alone.
                self.logsources.iter().position(|l| {
                    l.product.is_none()
                        && l.category == c
                        && l.service == s
                        && (c.is_some() || s.is_some())
                })
            })
    }

    /// The logsources a prepared event belongs to (by field name; the detector routes with
    /// an index over the same conditions).
    pub fn members(&self, ev: &Prepared) -> Vec<usize> {
        (0..self.logsources.len())
            .filter(|&i| self.logsources[i].holds(ev))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_mapping_parses_and_routes_events() {
        let m = Mapping::builtin();
        let d = crate::agents::detect::Detector::new(m.clone());
        let pc = m
            .find(Some("windows"), Some("process_creation"), None)
            .unwrap();
        assert!(
            m.logsources[pc]
                .candidates("Image")
                .starts_with(&["process.executable".to_string()])
        );
        assert!(
            m.logsources[pc]
                .candidates("Hashes")
                .contains(&"winlog.event_data.Hashes".to_string())
        );
        let ev = json!({"event.provider": "Microsoft-Windows-Sysmon", "event.code": "1"});
        let p = d.prepare(ev.as_object().unwrap());
        assert!(m.members(&p).contains(&pc));
        let web = m.find(None, Some("webserver"), None).unwrap();
        let ev = json!({"event": {"category": ["web"]}, "url.original": "/"});
        let p = d.prepare(ev.as_object().unwrap());
        assert!(m.members(&p).contains(&web));
        assert!(!m.members(&p).contains(&pc));
        assert!(
            m.find(Some("macos"), Some("process_creation"), None)
                .is_none()
        );
    }
}

//! Knowledge learned from labeled data (`soc learn`, `knowledge/learned.json`): which model
//! field the values of a key name ended up in, per product, so that a key of an unknown
//! product can be matched to a field through the products that used the same name.
//!
//! Key names are compared in a canonical form: split at camelCase, `_`, `-`, `.` and spaces,
//! lower-cased, abbreviations expanded (`knowledge/abbreviations.txt`), joined with `_`
//! (`srcIpAddr` → `source_ip_address`). Each key is stored twice: its leaf alone and its
//! parent/leaf pair (`user/name`), which decides when the leaf alone is ambiguous.
//!
//! Statistics are kept per product, so knowledge can be taken out for one product
//! ([`Learned::without_product`]): that is how leave-one-product-out cross-validation
//! (`soc eval --cv`) measures what the engine does on a product it has never seen.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// The file the engine embeds.
pub const EMBEDDED: &str = include_str!("../../knowledge/learned.json");
const ABBREVIATIONS: &str = include_str!("../../knowledge/abbreviations.txt");

static ABBREV: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    ABBREVIATIONS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .map(|(a, w)| (a.to_string(), w.trim().to_string()))
        .collect()
});

static EMBEDDED_LEARNED: LazyLock<Learned> = LazyLock::new(|| {
    // A broken embedded file is a build defect caught by the tests; the engine still runs
    // (with no learned knowledge) rather than panic.
    serde_json::from_str(EMBEDDED).unwrap_or_default()
});

/// What one key form was seen with.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct KeyStats {
    /// Products whose events had a value under this key.
    pub seen: BTreeSet<String>,
    /// Model field → products whose expected documents held this key's value in that field.
    pub fields: BTreeMap<String, BTreeSet<String>>,
}

/// Learned key → field statistics.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Learned {
    /// What the statistics were mined from (folders, stream count).
    #[serde(default)]
    pub source: String,
    /// Canonical key form → statistics.
    pub keys: BTreeMap<String, KeyStats>,
    /// Word stem of an `event.action` value → the categorization it came with.
    #[serde(default)]
    pub actions: BTreeMap<String, KeyStats>,
}

/// One candidate field for a key, with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub field: String,
    /// Products that mapped the key to this field.
    pub support: usize,
    /// Products that had the key at all.
    pub seen: usize,
    /// The key form that matched (`user/name` or `name`).
    pub form: String,
}

impl Candidate {
    /// Share of the products with this key that mapped it to this field.
    pub fn share(&self) -> f64 {
        if self.seen == 0 {
            0.0
        } else {
            self.support as f64 / self.seen as f64
        }
    }
}

impl Learned {
    /// The knowledge embedded in the binary (`knowledge/learned.json`).
    pub fn embedded() -> &'static Learned {
        &EMBEDDED_LEARNED
    }

    /// The same knowledge with everything learned from `product` taken out.
    pub fn without_product(&self, product: &str) -> Learned {
        Learned {
            source: format!("{} without {product}", self.source),
            keys: without(&self.keys, product),
            actions: without(&self.actions, product),
        }
    }

    /// Records that `product` wrote the action `action` with this categorization
    /// (`event.category` → values, …).
    pub fn record_action(&mut self, product: &str, action: &str, cats: &[(&str, Vec<String>)]) {
        for stem in action_stems(action) {
            let s = self.actions.entry(stem).or_default();
            s.seen.insert(product.to_string());
            for (field, values) in cats {
                for v in values {
                    s.fields
                        .entry(format!("{field}={v}"))
                        .or_default()
                        .insert(product.to_string());
                }
            }
        }
    }

    /// The categorization the words of an action value vote for: per field
    /// (`event.category`, `event.type`, `event.outcome`), the values with their score in
    /// [0, 1]. A word counts when at least `min_products` products used it; its vote for a
    /// value is the share of those products that categorized it so.
    pub fn categorize_action(
        &self,
        action: &str,
        min_products: usize,
    ) -> Vec<(String, Vec<String>)> {
        let mut votes: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        let mut voters: BTreeMap<String, f64> = BTreeMap::new();
        for stem in action_stems(action) {
            let Some(s) = self.actions.get(&stem) else {
                continue;
            };
            let seen = s.seen.len();
            if seen < min_products {
                continue;
            }
            let mut fields_voted = BTreeSet::new();
            for (fv, ps) in &s.fields {
                let Some((f, v)) = fv.split_once('=') else {
                    continue;
                };
                let share = ps.len() as f64 / seen as f64;
                *votes
                    .entry(f.to_string())
                    .or_default()
                    .entry(v.to_string())
                    .or_default() += share;
                fields_voted.insert(f.to_string());
            }
            for f in fields_voted {
                *voters.entry(f).or_default() += 1.0;
            }
        }
        let mut out = Vec::new();
        for (f, vs) in votes {
            let n = voters.get(&f).copied().unwrap_or(1.0).max(1.0);
            let best = vs.values().cloned().fold(0.0, f64::max) / n;
            if best < 0.5 {
                continue;
            }
            let keep = if f == "event.outcome" { 1 } else { 2 };
            let mut ranked: Vec<(&String, f64)> = vs.iter().map(|(v, x)| (v, x / n)).collect();
            ranked.sort_by(|a, b| {
                b.1.partial_cmp(&a.1)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.0.cmp(b.0))
            });
            let values: Vec<String> = ranked
                .into_iter()
                .filter(|(_, x)| *x >= 0.8 * best && *x >= 0.5)
                .take(keep)
                .map(|(v, _)| v.clone())
                .collect();
            out.push((f, values));
        }
        out
    }

    /// Records that `product` had a value under the key `path` (its segments, outermost
    /// first) and, when `field` is given, that the value ended up in that model field.
    pub fn record(&mut self, product: &str, path: &[&str], field: Option<&str>) {
        for form in forms(path) {
            let s = self.keys.entry(form).or_default();
            s.seen.insert(product.to_string());
            if let Some(f) = field {
                s.fields
                    .entry(f.to_string())
                    .or_default()
                    .insert(product.to_string());
            }
        }
    }

    /// Candidate fields for a key path, best first: the parent/leaf form decides when it
    /// was seen, else the leaf alone. Ranked by supporting products, then share.
    pub fn candidates(&self, path: &[&str]) -> Vec<Candidate> {
        forms(path)
            .into_iter()
            .map(|f| self.candidates_of(&f))
            .find(|c| !c.is_empty())
            .unwrap_or_default()
    }

    /// Candidate fields for one key form (`user/name` or `name`), best first.
    pub fn candidates_of(&self, form: &str) -> Vec<Candidate> {
        let Some(s) = self.keys.get(form) else {
            return Vec::new();
        };
        let mut out: Vec<Candidate> = s
            .fields
            .iter()
            .map(|(f, ps)| Candidate {
                field: f.clone(),
                support: ps.len(),
                seen: s.seen.len(),
                form: form.to_string(),
            })
            .collect();
        out.sort_by(|a, b| {
            b.support
                .cmp(&a.support)
                .then_with(|| a.field.cmp(&b.field))
        });
        out
    }
}

/// Statistics with one product taken out of every set (forms only it had are dropped).
fn without(stats: &BTreeMap<String, KeyStats>, product: &str) -> BTreeMap<String, KeyStats> {
    let mut out = BTreeMap::new();
    for (k, s) in stats {
        let mut s = s.clone();
        s.seen.remove(product);
        for ps in s.fields.values_mut() {
            ps.remove(product);
        }
        s.fields.retain(|_, ps| !ps.is_empty());
        if !s.seen.is_empty() {
            out.insert(k.clone(), s);
        }
    }
    out
}

/// Word stems of an action value (`user.session.end` → `user`, `session`, `end`;
/// `ITEM_CREATED` → `item`, `creat`), each once.
pub fn action_stems(action: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words(action) {
        if w.len() < 2 || w.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let s = stem(&w);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// A crude English stem: common inflection suffixes removed while 3 letters remain
/// (`created`, `creates`, `creation` → `creat`; `failed`, `failure` → `fail`).
pub fn stem(w: &str) -> String {
    let w = w.to_lowercase();
    for suf in ["ions", "ion", "ures", "ure", "ing", "ed", "es", "e", "s"] {
        if let Some(s) = w.strip_suffix(suf)
            && s.chars().count() >= 3
        {
            return s.to_string();
        }
    }
    w
}

/// The canonical forms of a key path, most specific first: `parent/leaf`, then `leaf`.
pub fn forms(path: &[&str]) -> Vec<String> {
    let segs: Vec<String> = path
        .iter()
        .map(|s| canonical(s))
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = Vec::new();
    if let Some(leaf) = segs.last() {
        if segs.len() >= 2 {
            out.push(format!("{}/{leaf}", segs[segs.len() - 2]));
        }
        out.push(leaf.clone());
    }
    out
}

/// Splits a key into lower-case words: camelCase and acronym boundaries (`srcIPAddr` →
/// `src ip addr`), `_`, `-`, `.`, `:`, `@` and spaces; digits stay with their word.
pub fn words(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase() || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The canonical form of one key segment: its words with abbreviations expanded, joined
/// with `_`.
pub fn canonical(key: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for w in words(key) {
        match ABBREV.get(&w) {
            Some(full) => out.extend(full.split(' ').map(str::to_string)),
            None => out.push(w),
        }
    }
    out.join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_case_and_separators() {
        assert_eq!(words("srcIPAddr"), ["src", "ip", "addr"]);
        assert_eq!(words("user_agent-string"), ["user", "agent", "string"]);
        assert_eq!(words("EventID"), ["event", "id"]);
        assert_eq!(words("x-forwarded-for"), ["x", "forwarded", "for"]);
    }

    #[test]
    fn canonical_expands_abbreviations() {
        assert_eq!(canonical("srcIpAddr"), "source_ip_address");
        assert_eq!(canonical("source_ip_address"), "source_ip_address");
        assert_eq!(canonical("dst_port"), "destination_port");
        assert_eq!(canonical("userAgent"), "user_agent");
    }

    #[test]
    fn parent_leaf_form_comes_first() {
        assert_eq!(forms(&["actor", "user", "name"]), ["user/name", "name"]);
        assert_eq!(forms(&["srcip"]), ["srcip"]);
    }

    #[test]
    fn candidates_rank_by_products_and_leave_one_out_removes_a_product() {
        let mut l = Learned::default();
        l.record("a", &["clientIp"], Some("client.ip"));
        l.record("b", &["client_ip"], Some("client.ip"));
        l.record("c", &["clientIP"], Some("source.ip"));
        l.record("d", &["ClientIp"], None);
        let c = l.candidates(&["req", "clientIp"]);
        assert_eq!(c[0].field, "client.ip");
        assert_eq!((c[0].support, c[0].seen), (2, 4));
        let without = l.without_product("a").without_product("b");
        let c = without.candidates(&["clientIp"]);
        assert_eq!(c[0].field, "source.ip");
        assert_eq!(c[0].seen, 2);
    }

    #[test]
    fn action_words_vote_for_a_categorization() {
        let mut l = Learned::default();
        let auth = || vec![("event.category", vec!["authentication".to_string()])];
        l.record_action("a", "user.login", &auth());
        l.record_action("b", "LoginSucceeded", &auth());
        l.record_action(
            "c",
            "file_create",
            &[("event.category", vec!["file".into()])],
        );
        let c = l.categorize_action("admin-login-failed", 2);
        assert_eq!(
            c,
            vec![(
                "event.category".to_string(),
                vec!["authentication".to_string()]
            )]
        );
        assert!(
            l.without_product("a")
                .categorize_action("login", 2)
                .is_empty()
        );
        assert_eq!(stem("created"), stem("creation"));
        assert_eq!(stem("failed"), stem("failure"));
    }

    #[test]
    fn the_embedded_file_loads() {
        let l: Learned = serde_json::from_str(EMBEDDED).expect("knowledge/learned.json parses");
        assert!(!l.keys.is_empty());
    }
}

//! One Sigma rule: YAML → metadata + searches + condition, compiled once against the
//! logsource's field mapping. Anything the engine cannot honour is a [`RuleError`], never
//! a rule that silently matches less.

use super::condition::{self, Cond};
use super::event::{Fields, Prepared};
use super::mapping::Mapping;
use super::value::{FieldText, Matcher, Modifiers, StrPat, ValueError};
use serde::{Deserialize, Serialize};
use serde_norway::Value as Y;

/// Rule metadata carried into alerts (DRL 1.1: title, id and author stay with every match).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub level: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Where the rule came from (file path).
    #[serde(default)]
    pub source: String,
    /// The rule's licence (SigmaHQ rules: Detection Rule License 1.1).
    #[serde(default)]
    pub license: String,
}

/// Why a rule was not loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    #[error("not valid YAML: {0}")]
    Yaml(String),
    #[error("missing `{0}`")]
    Missing(&'static str),
    #[error("no field mapping for logsource {0} (add it to sigma_fields.toml)")]
    NoLogsource(String),
    #[error("search `{search}`, field `{field}`: {error}")]
    Value {
        search: String,
        field: String,
        error: ValueError,
    },
    #[error("search `{0}` has an unsupported shape: {1}")]
    Shape(String, String),
    #[error("condition: {0}")]
    Condition(String),
    #[error("`{0}`: rules of this type (correlation/filter) are not supported")]
    Kind(String),
}

/// A field slot: the event fields a Sigma field name reads, or the keyword fields.
#[derive(Debug, Clone)]
struct Slot {
    candidates: Vec<String>,
    keywords: bool,
    /// The candidates' numbers in the detector's [`Fields`].
    ids: Vec<u32>,
    /// For keywords: the number of the candidate list.
    list: u32,
}

#[derive(Debug, Clone)]
struct FieldCond {
    slot: usize,
    /// One entry per YAML value; each is the alternatives that value expands into.
    values: Vec<Vec<Matcher>>,
    all: bool,
}

#[derive(Debug, Clone)]
enum Search {
    /// OR over maps; each map is an AND over its field conditions.
    AnyOf(Vec<Vec<FieldCond>>),
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub meta: RuleMeta,
    /// Index of the logsource in the mapping.
    pub logsource: usize,
    slots: Vec<Slot>,
    searches: Vec<Search>,
    cond: Cond,
}

fn text(y: Option<&Y>) -> Option<String> {
    match y? {
        Y::String(s) => Some(s.clone()),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Rule {
    /// Compiles a rule from its YAML text.
    /// The fields it reads are numbered in `fields`.
    pub fn compile(
        yaml: &str,
        source: &str,
        mapping: &Mapping,
        fields: &mut Fields,
    ) -> Result<Rule, Box<(RuleMeta, RuleError)>> {
        let mut meta = RuleMeta {
            id: String::new(),
            title: String::new(),
            level: "medium".into(),
            status: String::new(),
            author: String::new(),
            tags: Vec::new(),
            source: source.to_string(),
            license: "DRL-1.1".into(),
        };
        let doc: Y = match serde_norway::from_str(yaml) {
            Ok(d) => d,
            Err(e) => return Err(Box::new((meta, RuleError::Yaml(e.to_string())))),
        };
        meta.id = text(doc.get("id")).unwrap_or_default();
        meta.title = text(doc.get("title")).unwrap_or_default();
        if let Some(l) = text(doc.get("level")) {
            meta.level = l;
        }
        meta.status = text(doc.get("status")).unwrap_or_default();
        meta.author = text(doc.get("author")).unwrap_or_default();
        if let Some(Y::Sequence(tags)) = doc.get("tags") {
            meta.tags = tags.iter().filter_map(|t| text(Some(t))).collect();
        }
        if let Some(l) = text(doc.get("license")) {
            meta.license = l;
        }
        match Rule::compile_body(&doc, &meta, mapping, fields) {
            Ok(r) => Ok(r),
            Err(e) => Err(Box::new((meta, e))),
        }
    }

    fn compile_body(
        doc: &Y,
        meta: &RuleMeta,
        mapping: &Mapping,
        fields: &mut Fields,
    ) -> Result<Rule, RuleError> {
        for kind in ["correlation", "filter"] {
            if doc.get(kind).is_some() {
                return Err(RuleError::Kind(kind.into()));
            }
        }
        if meta.id.is_empty() {
            return Err(RuleError::Missing("id"));
        }
        if meta.title.is_empty() {
            return Err(RuleError::Missing("title"));
        }
        let ls = doc
            .get("logsource")
            .ok_or(RuleError::Missing("logsource"))?;
        let (p, c, s) = (
            text(ls.get("product")),
            text(ls.get("category")),
            text(ls.get("service")),
        );
        let logsource = mapping
            .find(p.as_deref(), c.as_deref(), s.as_deref())
            .ok_or_else(|| {
                RuleError::NoLogsource(
                    [p.as_deref(), c.as_deref(), s.as_deref()]
                        .iter()
                        .flatten()
                        .copied()
                        .collect::<Vec<_>>()
                        .join("/"),
                )
            })?;
        let ls = &mapping.logsources[logsource];
        let Some(Y::Mapping(det)) = doc.get("detection") else {
            return Err(RuleError::Missing("detection"));
        };
        let mut rule = Rule {
            meta: meta.clone(),
            logsource,
            slots: Vec::new(),
            searches: Vec::new(),
            cond: Cond::Or(vec![]),
        };
        let mut names = Vec::new();
        let mut cond_texts = Vec::new();
        for (k, v) in det {
            let name = text(Some(k)).unwrap_or_default();
            match name.as_str() {
                "condition" => match v {
                    Y::Sequence(xs) => cond_texts.extend(xs.iter().filter_map(|x| text(Some(x)))),
                    other => cond_texts.extend(text(Some(other))),
                },
                "timeframe" => {
                    return Err(RuleError::Condition(
                        "`timeframe` (aggregation) is not supported".into(),
                    ));
                }
                _ => {
                    let search = rule.compile_search(&name, v, ls, fields)?;
                    names.push(name);
                    rule.searches.push(search);
                }
            }
        }
        if cond_texts.is_empty() {
            return Err(RuleError::Missing("detection.condition"));
        }
        let mut conds = Vec::new();
        for t in &cond_texts {
            conds.push(condition::parse(t, &names).map_err(RuleError::Condition)?);
        }
        rule.cond = if conds.len() == 1 {
            conds.pop().expect("one")
        } else {
            Cond::Or(conds)
        };
        Ok(rule)
    }

    fn slot(&mut self, field: &str, ls: &super::mapping::Logsource, fields: &mut Fields) -> usize {
        let (candidates, keywords) = if field.is_empty() {
            (ls.keywords.clone(), true)
        } else {
            (ls.candidates(field), false)
        };
        if let Some(i) = self
            .slots
            .iter()
            .position(|s| s.candidates == candidates && s.keywords == keywords)
        {
            return i;
        }
        let ids = candidates.iter().map(|c| fields.field(c)).collect();
        let list = if keywords {
            fields.keywords(&candidates)
        } else {
            0
        };
        self.slots.push(Slot {
            candidates,
            keywords,
            ids,
            list,
        });
        self.slots.len() - 1
    }

    fn compile_search(
        &mut self,
        name: &str,
        v: &Y,
        ls: &super::mapping::Logsource,
        fields: &mut Fields,
    ) -> Result<Search, RuleError> {
        match v {
            Y::Mapping(_) => Ok(Search::AnyOf(vec![self.compile_map(name, v, ls, fields)?])),
            Y::Sequence(items)
                if items.iter().all(|i| matches!(i, Y::Mapping(_))) && !items.is_empty() =>
            {
                let mut maps = Vec::new();
                for i in items {
                    maps.push(self.compile_map(name, i, ls, fields)?);
                }
                Ok(Search::AnyOf(maps))
            }
            Y::Sequence(_) | Y::String(_) | Y::Number(_) => {
                // Keywords: field-less values, each matched as `*value*` on the keyword fields.
                let fc = self.compile_field(name, "", &["contains"], v, ls, fields)?;
                Ok(Search::AnyOf(vec![vec![fc]]))
            }
            _ => Err(RuleError::Shape(
                name.into(),
                "expected a map, a list of maps or a list of keywords".into(),
            )),
        }
    }

    fn compile_map(
        &mut self,
        name: &str,
        v: &Y,
        ls: &super::mapping::Logsource,
        fields: &mut Fields,
    ) -> Result<Vec<FieldCond>, RuleError> {
        let Y::Mapping(m) = v else {
            unreachable!("checked by the caller")
        };
        let mut out = Vec::new();
        for (k, val) in m {
            let key = text(Some(k)).unwrap_or_default();
            let mut parts = key.split('|');
            let field = parts.next().unwrap_or_default().to_string();
            let mut mods: Vec<&str> = parts.collect();
            if field.is_empty()
                && !mods
                    .iter()
                    .any(|m| matches!(*m, "contains" | "startswith" | "endswith" | "re"))
            {
                mods.insert(0, "contains");
            }
            out.push(self.compile_field(name, &field, &mods, val, ls, fields)?);
        }
        Ok(out)
    }

    fn compile_field(
        &mut self,
        search: &str,
        field: &str,
        mods: &[&str],
        v: &Y,
        ls: &super::mapping::Logsource,
        fields: &mut Fields,
    ) -> Result<FieldCond, RuleError> {
        let err = |error| RuleError::Value {
            search: search.into(),
            field: field.into(),
            error,
        };
        let modifiers = Modifiers::parse(mods).map_err(err)?;
        let slot = self.slot(field, ls, fields);
        let items: Vec<&Y> = match v {
            Y::Sequence(xs) => xs.iter().collect(),
            other => vec![other],
        };
        let mut values = Vec::new();
        for item in items {
            if modifiers.is_fieldref() {
                let Some(other) = text(Some(item)) else {
                    return Err(err(ValueError::BadValue("non-text fieldref")));
                };
                let other = self.slot(&other, ls, fields);
                values.push(vec![Matcher::FieldRef {
                    other,
                    kind: modifiers.ref_kind(),
                    cased: modifiers.cased,
                }]);
            } else {
                values.push(modifiers.compile(item).map_err(err)?);
            }
        }
        if values.is_empty() {
            return Err(RuleError::Shape(
                search.into(),
                format!("field `{field}` has an empty list"),
            ));
        }
        Ok(FieldCond {
            slot,
            values,
            all: modifiers.all,
        })
    }

    /// Whether the rule matches the prepared event.
    /// Whether the rule matches the prepared event (prepared with the [`Fields`] the rule
    /// was compiled with). Field texts are cached in the event, so nothing is resolved twice.
    pub fn is_match(&self, ev: &Prepared) -> bool {
        self.cond.eval(&mut |i| {
            let Search::AnyOf(maps) = &self.searches[i];
            maps.iter().any(|conds| {
                conds.iter().all(|fc| {
                    let value = self.resolve(fc.slot, ev);
                    let other = |s: usize| self.resolve(s, ev);
                    let one = |alts: &Vec<Matcher>| alts.iter().any(|m| m.is_match(value, &other));
                    if fc.all {
                        fc.values.iter().all(one)
                    } else {
                        fc.values.iter().any(one)
                    }
                })
            })
        })
    }

    /// The numbers of the event fields a slot reads, and whether it reads all of them (a
    /// keyword search) rather than the first one present.
    pub(crate) fn slot_fields(&self, slot: usize) -> (&[u32], bool) {
        (&self.slots[slot].ids, self.slots[slot].keywords)
    }

    /// A necessary condition for a match, for prefiltering: the rule cannot match unless at
    /// least one `(slot, literal)` pair occurs, the literal (lowercase ASCII) inside the
    /// lowercase text of one of the slot's fields. `None` when the rule has no such condition
    /// (a `not`, a regex, a number, an empty or non-ASCII literal on every path).
    pub(crate) fn required_literals(&self) -> Option<Vec<(usize, String)>> {
        fn best(
            options: impl Iterator<Item = Option<Vec<(usize, String)>>>,
        ) -> Option<Vec<(usize, String)>> {
            // The most selective: the longest shortest literal, then the fewest literals.
            options.flatten().max_by_key(|d| {
                let shortest = d.iter().map(|(_, l)| l.len()).min().unwrap_or(0);
                (shortest, usize::MAX - d.len())
            })
        }
        fn union(
            parts: impl Iterator<Item = Option<Vec<(usize, String)>>>,
        ) -> Option<Vec<(usize, String)>> {
            let mut out = Vec::new();
            for p in parts {
                out.extend(p?);
            }
            Some(out)
        }
        let field = |fc: &FieldCond| -> Option<Vec<(usize, String)>> {
            let value = |alts: &Vec<Matcher>| {
                union(alts.iter().map(|m| match m {
                    Matcher::Str { pat, .. } => match pat {
                        StrPat::Exact(p)
                        | StrPat::Contains(p)
                        | StrPat::Starts(p)
                        | StrPat::Ends(p)
                            if !p.is_empty() && p.is_ascii() =>
                        {
                            Some(vec![(fc.slot, p.to_ascii_lowercase())])
                        }
                        _ => None,
                    },
                    _ => None,
                }))
            };
            if fc.all {
                best(fc.values.iter().map(value))
            } else {
                union(fc.values.iter().map(value))
            }
        };
        let search = |i: usize| -> Option<Vec<(usize, String)>> {
            let Search::AnyOf(maps) = &self.searches[i];
            union(maps.iter().map(|conds| best(conds.iter().map(field))))
        };
        fn walk(
            c: &Cond,
            search: &dyn Fn(usize) -> Option<Vec<(usize, String)>>,
        ) -> Option<Vec<(usize, String)>> {
            match c {
                Cond::Search(i) => search(*i),
                Cond::And(xs) => best(xs.iter().map(|x| walk(x, search))),
                Cond::Or(xs) => union(xs.iter().map(|x| walk(x, search))),
                Cond::Not(_) => None,
            }
        }
        walk(&self.cond, &search).filter(|d| !d.is_empty())
    }

    /// A slot's value: the first candidate field present, or the keyword fields together.
    fn resolve<'e, 'a>(&self, slot: usize, ev: &'e Prepared<'a>) -> Option<&'e FieldText<'a>> {
        let s = &self.slots[slot];
        if s.keywords {
            return ev.keywords(s.list);
        }
        s.ids.iter().find_map(|&id| ev.field(id))
    }
}

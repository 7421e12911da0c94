//! An ECS event prepared once for matching: the fields a rule set reads (numbered when the
//! rules are compiled, [`Fields`]) found with one hash per event key into a slot vector,
//! with their text forms (original and lowercase) and numbers computed at most once, when a
//! rule first reads the field. Keys no rule reads are skipped, and so are nested objects
//! under which no rule reads anything.

use super::value::FieldText;
use serde_json::{Map, Value as Json};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;

/// The event fields a rule set reads, each with a number (its slot in a [`Prepared`] event).
/// A keyword search reads a list of fields as one text; each distinct list is numbered too.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// Dotted field name → its number, and whether a read field lies below it.
    by_name: HashMap<Box<str>, Entry, foldhash::fast::FixedState>,
    count: u32,
    /// Keyword field lists (their members' numbers).
    keyword_lists: Vec<Vec<u32>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    id: Option<u32>,
    /// Some read field is named `<this name>.<more>`: nested objects here are walked.
    prefix: bool,
}

impl Fields {
    /// The number of a field (dotted name), added when new.
    pub fn field(&mut self, name: &str) -> u32 {
        if let Some(id) = self.by_name.get(name).and_then(|e| e.id) {
            return id;
        }
        let id = self.count;
        self.count += 1;
        self.by_name.entry(name.into()).or_default().id = Some(id);
        for (i, _) in name.match_indices('.') {
            self.by_name.entry(name[..i].into()).or_default().prefix = true;
        }
        id
    }

    /// The number of a keyword field list (its members are added as fields).
    pub fn keywords(&mut self, names: &[String]) -> u32 {
        let members: Vec<u32> = names.iter().map(|n| self.field(n)).collect();
        if let Some(i) = self.keyword_lists.iter().position(|l| *l == members) {
            return i as u32;
        }
        self.keyword_lists.push(members);
        (self.keyword_lists.len() - 1) as u32
    }

    /// The number of a field, when some rule reads it.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).and_then(|e| e.id)
    }

    /// How many fields are numbered.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether no field is numbered.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A normalized event ready for matching: the values of the numbered fields it has. Text
/// forms are computed on first use: a rule set touches few of an event's fields.
#[derive(Debug)]
pub struct Prepared<'a> {
    fields: &'a Fields,
    /// Per field number: 1 + its position in `values`, 0 when the event lacks the field.
    slots: Vec<u32>,
    values: Vec<(&'a Json, OnceCell<FieldText<'a>>)>,
    /// Per keyword list: the members' texts together (None: no member present).
    keywords: Vec<OnceCell<Option<FieldText<'a>>>>,
}

impl<'a> Prepared<'a> {
    /// Prepares a normalized event (flattened dotted keys, nested objects, or both) for the
    /// fields numbered in `fields`; a key met twice (flat and nested) keeps the later value.
    pub fn new(obj: &'a Map<String, Json>, fields: &'a Fields) -> Prepared<'a> {
        let mut p = Prepared {
            fields,
            slots: vec![0; fields.len()],
            values: Vec::with_capacity(16),
            keywords: (0..fields.keyword_lists.len())
                .map(|_| OnceCell::new())
                .collect(),
        };
        let mut name = String::new();
        for (k, v) in obj {
            let Some(e) = fields.by_name.get(k.as_str()) else {
                continue;
            };
            if let (true, Json::Object(inner)) = (e.prefix, v) {
                name.clear();
                name.push_str(k);
                p.add_object(&mut name, inner);
            }
            if let Some(id) = e.id {
                p.set(id, v);
            }
        }
        p
    }

    /// Walks a nested object whose dotted name is `name` (restored on return).
    fn add_object(&mut self, name: &mut String, obj: &'a Map<String, Json>) {
        let len = name.len();
        for (k, v) in obj {
            name.truncate(len);
            name.push('.');
            name.push_str(k);
            let Some(e) = self.fields.by_name.get(name.as_str()).copied() else {
                continue;
            };
            if let (true, Json::Object(inner)) = (e.prefix, v) {
                self.add_object(name, inner);
            }
            if let Some(id) = e.id {
                self.set(id, v);
            }
        }
        name.truncate(len);
    }

    fn set(&mut self, id: u32, v: &'a Json) {
        let slot = &mut self.slots[id as usize];
        if *slot == 0 {
            self.values.push((v, OnceCell::new()));
            *slot = self.values.len() as u32;
        } else {
            self.values[*slot as usize - 1] = (v, OnceCell::new());
        }
    }

    /// A field by number.
    pub fn field(&self, id: u32) -> Option<&FieldText<'a>> {
        let pos = *self.slots.get(id as usize)?;
        let (v, cell) = self.values.get((pos as usize).checked_sub(1)?)?;
        Some(cell.get_or_init(|| field_text(v)))
    }

    /// A keyword field list by number: the texts of its present members, in list order.
    pub fn keywords(&self, list: u32) -> Option<&FieldText<'a>> {
        let cell = self.keywords.get(list as usize)?;
        cell.get_or_init(|| {
            let mut out = FieldText::default();
            let mut any = false;
            for &m in &self.fields.keyword_lists[list as usize] {
                if let Some(v) = self.field(m) {
                    any = true;
                    out.texts.extend(v.texts.iter().cloned());
                    out.lowers.extend(v.lowers.iter().cloned());
                }
            }
            any.then_some(out)
        })
        .as_ref()
    }

    /// The field under its dotted name (only fields numbered in the rule set's [`Fields`]).
    pub fn get(&self, name: &str) -> Option<&FieldText<'a>> {
        self.field(self.fields.id(name)?)
    }
}

/// Lowercase, borrowing when the text has no uppercase letter.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

fn field_text(v: &Json) -> FieldText<'_> {
    fn push<'a>(ft: &mut FieldText<'a>, v: &'a Json) {
        match v {
            Json::Null => {}
            Json::String(s) => {
                if let Ok(n) = s.trim().parse::<f64>() {
                    ft.numbers.push(n);
                }
                ft.lowers.push(lower(s));
                ft.texts.push(Cow::Borrowed(s.as_str()));
            }
            Json::Number(n) => {
                if let Some(f) = n.as_f64() {
                    ft.numbers.push(f);
                }
                let s = n.to_string();
                ft.lowers.push(Cow::Owned(s.clone()));
                ft.texts.push(Cow::Owned(s));
            }
            Json::Bool(b) => {
                let s = if *b { "true" } else { "false" };
                ft.lowers.push(Cow::Borrowed(s));
                ft.texts.push(Cow::Borrowed(s));
            }
            other => {
                let s = other.to_string();
                ft.lowers.push(Cow::Owned(s.to_lowercase()));
                ft.texts.push(Cow::Owned(s));
            }
        }
    }
    let mut ft = FieldText::default();
    match v {
        Json::Null => ft.is_null = true,
        Json::Array(items) => items.iter().for_each(|i| push(&mut ft, i)),
        other => push(&mut ft, other),
    }
    ft
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The reference: every key under its flattened dotted name, later keys winning.
    fn flatten<'a>(prefix: &str, obj: &'a Map<String, Json>, out: &mut Vec<(String, &'a Json)>) {
        for (k, v) in obj {
            let name = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if let Json::Object(inner) = v {
                flatten(&name, inner, out);
            }
            out.retain(|(n, _)| *n != name);
            out.push((name, v));
        }
    }

    #[test]
    fn slots_hold_the_same_values_as_a_full_flatten() {
        let ev = json!({
            "event.code": "1",
            "winlog": {"event_data": {"Image": "C:\\X.exe", "Hashes": ["A", "b"]}, "channel": "Sec"},
            "winlog.event_data": {"CommandLine": "x /y", "Image": "later wins"},
            "process": {"pid": 42, "args": [1, true, null], "parent": {"name": "P"}},
            "process.parent.name": "flat later",
            "skipped": {"deep": {"x": 1}},
            "n": null,
            "obj": {"a": 1}
        });
        let obj = ev.as_object().unwrap();
        let mut fields = Fields::default();
        let names = [
            "event.code",
            "winlog.event_data.Image",
            "winlog.event_data.Hashes",
            "winlog.event_data.CommandLine",
            "winlog.channel",
            "process.pid",
            "process.args",
            "process.parent.name",
            "process.parent",
            "n",
            "obj",
            "absent.field",
            "winlog.event_data.Missing",
        ];
        for n in names {
            fields.field(n);
        }
        let p = Prepared::new(obj, &fields);
        let mut reference = Vec::new();
        flatten("", obj, &mut reference);
        for n in names {
            let want = reference
                .iter()
                .find(|(r, _)| r == n)
                .map(|(_, v)| field_text(v));
            let got = p.get(n);
            assert_eq!(
                got.map(|f| (&f.texts, &f.lowers, &f.numbers, f.is_null)),
                want.as_ref()
                    .map(|f| (&f.texts, &f.lowers, &f.numbers, f.is_null)),
                "{n}"
            );
        }
        assert_eq!(
            p.get("winlog.event_data.Image").unwrap().texts[0],
            "later wins"
        );
        assert_eq!(
            p.get("process.parent.name").unwrap().lowers[0],
            "flat later"
        );
        assert_eq!(p.get("process.pid").unwrap().numbers[0], 42.0);
        assert!(p.get("n").unwrap().is_null);
        // Keys no rule reads are not kept.
        assert!(p.get("skipped.deep.x").is_none());
        assert_eq!(p.values.len(), 11);
    }

    #[test]
    fn keyword_lists_join_their_present_members() {
        let ev = json!({"message": "Hello", "event": {"original": "RAW"}});
        let mut fields = Fields::default();
        let kw = fields.keywords(&["message".into(), "event.original".into()]);
        assert_eq!(
            fields.keywords(&["message".into(), "event.original".into()]),
            kw
        );
        let none = fields.keywords(&["other".into()]);
        let p = Prepared::new(ev.as_object().unwrap(), &fields);
        let k = p.keywords(kw).unwrap();
        assert_eq!(k.texts.as_slice(), ["Hello", "RAW"]);
        assert_eq!(k.lowers.as_slice(), ["hello", "raw"]);
        assert!(p.keywords(none).is_none());
    }
}

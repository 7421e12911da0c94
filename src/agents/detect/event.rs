//! An ECS event prepared once for matching: every field under its flattened dotted name,
//! with its text forms (original and lowercase) and numbers computed at most once, when a
//! rule first reads the field.

use super::value::FieldText;
use serde_json::{Map, Value as Json};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;

/// A normalized event ready for matching. Text forms are computed on first use: a rule
/// set touches few of an event's fields.
#[derive(Debug, Default)]
pub struct Prepared<'a> {
    fields: HashMap<Cow<'a, str>, (&'a Json, OnceCell<FieldText>), foldhash::fast::FixedState>,
}

impl<'a> Prepared<'a> {
    /// Prepares a normalized event (flattened dotted keys, nested objects, or both).
    pub fn new(obj: &'a Map<String, Json>) -> Prepared<'a> {
        let mut p = Prepared {
            fields: HashMap::with_capacity_and_hasher(
                obj.len() + 8,
                foldhash::fast::FixedState::default(),
            ),
        };
        p.add_object("", obj);
        p
    }

    fn add_object(&mut self, prefix: &str, obj: &'a Map<String, Json>) {
        for (k, v) in obj {
            let name: Cow<'a, str> = if prefix.is_empty() {
                Cow::Borrowed(k.as_str())
            } else {
                Cow::Owned(format!("{prefix}.{k}"))
            };
            if let Json::Object(inner) = v {
                self.add_object(&name, inner);
            }
            self.fields.insert(name, (v, OnceCell::new()));
        }
    }

    /// The field under its dotted name.
    pub fn get(&self, name: &str) -> Option<&FieldText> {
        let (v, cell) = self.fields.get(name)?;
        Some(cell.get_or_init(|| field_text(v)))
    }
}

fn field_text(v: &Json) -> FieldText {
    let mut ft = FieldText::default();
    let push = |ft: &mut FieldText, v: &Json| match v {
        Json::Null => {}
        Json::String(s) => {
            if let Ok(n) = s.trim().parse::<f64>() {
                ft.numbers.push(n);
            }
            ft.lowers.push(s.to_lowercase());
            ft.texts.push(s.clone());
        }
        Json::Number(n) => {
            if let Some(f) = n.as_f64() {
                ft.numbers.push(f);
            }
            let s = n.to_string();
            ft.lowers.push(s.clone());
            ft.texts.push(s);
        }
        Json::Bool(b) => {
            ft.lowers.push(b.to_string());
            ft.texts.push(b.to_string());
        }
        other => {
            let s = other.to_string();
            ft.lowers.push(s.to_lowercase());
            ft.texts.push(s);
        }
    };
    match v {
        Json::Null => ft.is_null = true,
        Json::Array(items) => items.iter().for_each(|i| push(&mut ft, i)),
        other => push(&mut ft, other),
    }
    ft
}

//! A JSONPath subset over `serde_json::Value`, shared by the `json_*` functions and the
//! `parse-json -path` / `expand-values -path` instructions.
//!
//! Owns `JsonPath` (parse once at plan time, then `select`/`first`/`extract` per event).
//! Supported syntax (Presto's `json_extract` paths plus a few SLS spellings):
//!
//! | form | meaning |
//! |---|---|
//! | `$` | the root (required first character) |
//! | `.key`, `."key"` | an object member (a bare key runs to the next `.` or `[`) |
//! | `['key']`, `["key.with.dots"]` | an object member, any characters (`\'`, `\"`, `\\` escapes) |
//! | `[0]`, `[-1]` | an array element (0-based; negative counts from the end) |
//! | `.0` | element 0 of an array, or member `"0"` of an object (SLS `-path='$.0'`) |
//! | `[*]`, `.*` | every element of an array / every member value of an object |
//!
//! Depends only on serde_json. Selection never recurses on the document depth, so deep
//! JSON cannot overflow the stack here.

use serde_json::Value as Json;
use std::borrow::Cow;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// An object member.
    Key(String),
    /// An array element (negative counts from the end).
    Index(i64),
    /// `.123`: an array element on arrays, a member on objects.
    KeyOrIndex(String, i64),
    /// Every child.
    Wildcard,
}

/// A compiled JSONPath. Parse it once (`JsonPath::parse`) and reuse it for every event.
///
/// ```
/// use agentic_soc::spl::functions::jsonpath::JsonPath;
/// let doc: serde_json::Value = serde_json::from_str(r#"{"a": {"b.c": [1, 2]}}"#).unwrap();
/// let path = JsonPath::parse(r#"$.a["b.c"][1]"#).unwrap();
/// assert_eq!(path.first(&doc), Some(&serde_json::json!(2)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
    text: String,
}

impl JsonPath {
    /// Parses a path such as `$.body.a`, `$["req.body"]`, `$.items[0]` or `$.list[*].id`.
    /// The error message says what is wrong and where.
    pub fn parse(path: &str) -> Result<JsonPath, String> {
        let text = path.to_string();
        let path = path.trim();
        let b = path.as_bytes();
        if b.first() != Some(&b'$') {
            return Err(format!("JSONPath '{path}' must start with '$'"));
        }
        let mut steps = Vec::new();
        let mut i = 1;
        while i < b.len() {
            match b[i] {
                b'.' => {
                    i += 1;
                    match b.get(i) {
                        None => {
                            return Err(format!(
                                "JSONPath '{path}' ends with '.': a key must follow"
                            ));
                        }
                        Some(b'*') => {
                            steps.push(Step::Wildcard);
                            i += 1;
                        }
                        Some(&q @ (b'"' | b'\'')) => {
                            let (key, next) = quoted(path, i, q)?;
                            steps.push(Step::Key(key));
                            i = next;
                        }
                        Some(b'.') => {
                            return Err(format!(
                                "JSONPath '{path}': recursive descent '..' is not supported"
                            ));
                        }
                        Some(b'[') => {
                            return Err(format!(
                                "JSONPath '{path}': expected a key after '.' at offset {i}"
                            ));
                        }
                        Some(_) => {
                            let start = i;
                            while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                                i += 1;
                            }
                            let key = path[start..i].trim_end();
                            if key.is_empty() {
                                return Err(format!(
                                    "JSONPath '{path}': empty key at offset {start}"
                                ));
                            }
                            match key.parse::<i64>() {
                                Ok(n) if key.bytes().all(|c| c.is_ascii_digit()) => {
                                    steps.push(Step::KeyOrIndex(key.to_string(), n))
                                }
                                _ => steps.push(Step::Key(key.to_string())),
                            }
                        }
                    }
                }
                b'[' => {
                    i += 1;
                    while i < b.len() && b[i] == b' ' {
                        i += 1;
                    }
                    match b.get(i) {
                        None => return Err(format!("JSONPath '{path}': unclosed '['")),
                        Some(b'*') => {
                            steps.push(Step::Wildcard);
                            i += 1;
                        }
                        Some(&q @ (b'"' | b'\'')) => {
                            let (key, next) = quoted(path, i, q)?;
                            steps.push(Step::Key(key));
                            i = next;
                        }
                        Some(_) => {
                            let start = i;
                            while i < b.len() && (b[i] == b'-' || b[i].is_ascii_digit()) {
                                i += 1;
                            }
                            let n = path[start..i].parse::<i64>().map_err(|_| {
                                format!("JSONPath '{path}': expected an index, '*' or a quoted key after '[' at offset {start}")
                            })?;
                            steps.push(Step::Index(n));
                        }
                    }
                    while i < b.len() && b[i] == b' ' {
                        i += 1;
                    }
                    if b.get(i) != Some(&b']') {
                        return Err(format!("JSONPath '{path}': expected ']' at offset {i}"));
                    }
                    i += 1;
                }
                b' ' | b'\t' => i += 1,
                _ => {
                    return Err(format!(
                        "JSONPath '{path}': unexpected '{}' at offset {i}; expected '.' or '['",
                        &path[i..].chars().next().unwrap_or(' ')
                    ));
                }
            }
        }
        Ok(JsonPath { steps, text })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the path has a wildcard (it may select several values).
    pub fn has_wildcard(&self) -> bool {
        self.steps.contains(&Step::Wildcard)
    }

    /// True for `$` alone.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// Every value the path selects, in document order (empty when nothing matches).
    pub fn select<'a>(&self, doc: &'a Json) -> Vec<&'a Json> {
        let mut cur = vec![doc];
        let mut next = Vec::new();
        for step in &self.steps {
            for v in cur.drain(..) {
                match step {
                    Step::Wildcard => match v {
                        Json::Array(items) => next.extend(items.iter()),
                        Json::Object(map) => next.extend(map.values()),
                        _ => {}
                    },
                    other => next.extend(child(v, other)),
                }
            }
            std::mem::swap(&mut cur, &mut next);
            if cur.is_empty() {
                break;
            }
        }
        cur
    }

    /// The first value the path selects (no allocation when the path has no wildcard).
    pub fn first<'a>(&self, doc: &'a Json) -> Option<&'a Json> {
        if self.has_wildcard() {
            return self.select(doc).into_iter().next();
        }
        let mut v = doc;
        for step in &self.steps {
            v = child(v, step)?;
        }
        Some(v)
    }

    /// The value of the path, as `json_extract` sees it: without a wildcard, the selected
    /// value (`None` when missing); with one, a JSON array of every match.
    pub fn extract<'a>(&self, doc: &'a Json) -> Option<Cow<'a, Json>> {
        if self.has_wildcard() {
            Some(Cow::Owned(Json::Array(
                self.select(doc).into_iter().cloned().collect(),
            )))
        } else {
            self.first(doc).map(Cow::Borrowed)
        }
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for JsonPath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        JsonPath::parse(s)
    }
}

fn child<'a>(v: &'a Json, step: &Step) -> Option<&'a Json> {
    match (step, v) {
        (Step::Key(k), Json::Object(map)) => map.get(k.as_str()),
        (Step::KeyOrIndex(k, _), Json::Object(map)) => map.get(k.as_str()),
        (Step::Index(n) | Step::KeyOrIndex(_, n), Json::Array(items)) => {
            let i = if *n < 0 { items.len() as i64 + n } else { *n };
            usize::try_from(i).ok().and_then(|i| items.get(i))
        }
        _ => None,
    }
}

/// Reads a quoted key starting at the quote `b[start] == q`; returns the key and the offset
/// after the closing quote.
fn quoted(path: &str, start: usize, q: u8) -> Result<(String, usize), String> {
    let b = path.as_bytes();
    let mut key = String::new();
    let mut i = start + 1;
    let mut run = i;
    while i < b.len() {
        match b[i] {
            c if c == q => {
                key.push_str(&path[run..i]);
                return Ok((key, i + 1));
            }
            b'\\' if i + 1 < b.len() && matches!(b[i + 1], b'\\' | b'\'' | b'"') => {
                key.push_str(&path[run..i]);
                key.push(b[i + 1] as char);
                i += 2;
                run = i;
            }
            _ => i += 1,
        }
    }
    Err(format!(
        "JSONPath '{path}': unterminated quoted key starting at offset {start}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(path: &str, doc: &Json) -> Vec<Json> {
        JsonPath::parse(path)
            .unwrap()
            .select(doc)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn parses_and_selects_members_and_indexes() {
        let doc = json!({"body": {"a": 1, "b": [10, 20, 30]}, "req.body": "x", "it's": 2});
        assert_eq!(sel("$", &doc), vec![doc.clone()]);
        assert_eq!(sel("$.body.a", &doc), vec![json!(1)]);
        assert_eq!(sel("$.body.b[1]", &doc), vec![json!(20)]);
        assert_eq!(sel("$.body.b[-1]", &doc), vec![json!(30)]);
        assert_eq!(sel("$['body']['a']", &doc), vec![json!(1)]);
        assert_eq!(sel(r#"$["req.body"]"#, &doc), vec![json!("x")]);
        assert_eq!(sel(r#"$['it\'s']"#, &doc), vec![json!(2)]);
        assert_eq!(sel(r#"$."req.body""#, &doc), vec![json!("x")]);
        assert_eq!(sel("$.body.b[ 0 ]", &doc), vec![json!(10)]);
        assert!(sel("$.body.c", &doc).is_empty());
        assert!(sel("$.body.b[3]", &doc).is_empty());
        assert!(sel("$.body.b[-4]", &doc).is_empty());
        assert!(sel("$.body.a.x", &doc).is_empty());
        assert!(sel("$.body[0]", &doc).is_empty());
    }

    #[test]
    fn numeric_member_works_on_arrays_and_objects() {
        assert_eq!(sel("$.0", &json!([{"a": 1}, 2])), vec![json!({"a": 1})]);
        assert_eq!(sel("$.0", &json!({"0": "zero"})), vec![json!("zero")]);
        assert_eq!(sel("$.1.x", &json!([0, {"x": true}])), vec![json!(true)]);
    }

    #[test]
    fn wildcards_select_many() {
        let doc = json!({"items": [{"id": 1}, {"id": 2}, {"other": 3}], "o": {"a": 1, "b": 2}});
        assert_eq!(sel("$.items[*].id", &doc), vec![json!(1), json!(2)]);
        assert_eq!(sel("$.items.*.id", &doc), vec![json!(1), json!(2)]);
        assert_eq!(sel("$.o.*", &doc), vec![json!(1), json!(2)]);
        let p = JsonPath::parse("$.items[*].id").unwrap();
        assert!(p.has_wildcard());
        assert_eq!(p.extract(&doc).unwrap().into_owned(), json!([1, 2]));
        assert_eq!(p.first(&doc), Some(&json!(1)));
        assert_eq!(
            JsonPath::parse("$.none[*]")
                .unwrap()
                .extract(&doc)
                .unwrap()
                .into_owned(),
            json!([])
        );
    }

    #[test]
    fn first_and_extract_without_wildcard() {
        let doc = json!({"a": {"b": null}});
        let p = JsonPath::parse("$.a.b").unwrap();
        assert_eq!(p.first(&doc), Some(&Json::Null));
        assert_eq!(p.extract(&doc).map(|c| c.into_owned()), Some(Json::Null));
        assert_eq!(JsonPath::parse("$.a.c").unwrap().extract(&doc), None);
        assert!(JsonPath::parse("$").unwrap().is_root());
        assert_eq!(JsonPath::parse("$.a").unwrap().to_string(), "$.a");
    }

    #[test]
    fn bad_paths_have_clear_errors() {
        for (p, needle) in [
            ("a.b", "must start with '$'"),
            ("", "must start with '$'"),
            ("$.", "ends with '.'"),
            ("$[", "unclosed"),
            ("$[0", "expected ']'"),
            ("$[abc]", "expected an index"),
            ("$['a", "unterminated"),
            ("$..a", "recursive descent"),
            ("$a", "unexpected 'a'"),
            ("$[99999999999999999999]", "expected an index"),
        ] {
            let err = JsonPath::parse(p).unwrap_err();
            assert!(err.contains(needle), "{p}: {err}");
        }
    }

    #[test]
    fn deep_documents_do_not_overflow() {
        let mut doc = json!(1);
        for _ in 0..100 {
            doc = json!({ "a": doc });
        }
        let path = format!("${}", ".a".repeat(100));
        assert_eq!(JsonPath::parse(&path).unwrap().first(&doc), Some(&json!(1)));
        let long = format!("${}", "[0]".repeat(10_000));
        assert_eq!(JsonPath::parse(&long).unwrap().first(&doc), None);
    }
}

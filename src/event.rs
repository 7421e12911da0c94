//! Values and events: the representation shared by the SPL engine, the batch normalizer and
//! the agents.
//!
//! Owns `Value` (SPL's typed values), `Text` (a shared string slice, so a field cut out of an
//! input line costs no copy), `Timestamp`, `Event` (ordered fields) and NDJSON output.
//! Depends on nothing internal but `spl::ast::Type` names in docs.

use serde_json::Value as Json;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

/// An immutable string that may be a slice of a larger shared buffer. Cloning and slicing
/// never copy the bytes.
#[derive(Clone)]
pub struct Text {
    buf: Arc<str>,
    start: u32,
    end: u32,
}

impl Text {
    /// A new text owning `s`.
    pub fn new(s: &str) -> Self {
        Text::from_arc(Arc::from(s))
    }

    /// Wraps a shared buffer whole.
    pub fn from_arc(buf: Arc<str>) -> Self {
        let end = u32::try_from(buf.len()).expect("text longer than 4 GiB");
        Text { buf, start: 0, end }
    }

    pub fn as_str(&self) -> &str {
        &self.buf[self.start as usize..self.end as usize]
    }

    /// A sub-slice sharing the same buffer. `range` is relative to this text and must fall on
    /// char boundaries.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Text {
        let s = self.as_str();
        debug_assert!(s.is_char_boundary(range.start) && s.is_char_boundary(range.end));
        Text {
            buf: self.buf.clone(),
            start: self.start + range.start as u32,
            end: self.start + range.end as u32,
        }
    }

    /// Slices by a `&str` that points inside this text (as returned by `str` methods on
    /// `as_str()`); copies when it does not.
    pub fn sub(&self, part: &str) -> Text {
        let base = self.as_str().as_ptr() as usize;
        let p = part.as_ptr() as usize;
        if p >= base && p + part.len() <= base + self.as_str().len() {
            self.slice(p - base..p - base + part.len())
        } else {
            Text::new(part)
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::from_arc(Arc::from(s))
    }
}

/// The time zone a timestamp is shown in. The instant itself is always UTC nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// No zone given (SQL `TIMESTAMP`): wall time read as UTC, printed with `Z`.
    Utc,
    /// A fixed offset in seconds east of UTC.
    Offset(i32),
    /// A named IANA zone.
    Named(chrono_tz::Tz),
}

/// A point in time with nanosecond precision and a display zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timestamp {
    /// Nanoseconds since the Unix epoch, UTC.
    pub nanos: i64,
    pub zone: Zone,
}

impl Timestamp {
    pub fn utc(nanos: i64) -> Self {
        Timestamp {
            nanos,
            zone: Zone::Utc,
        }
    }

    /// The instant as a chrono UTC datetime.
    pub fn to_utc(self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_nanos(self.nanos)
    }

    /// The offset from UTC in seconds at this instant.
    pub fn offset_secs(self) -> i32 {
        use chrono::Offset;
        match self.zone {
            Zone::Utc => 0,
            Zone::Offset(s) => s,
            Zone::Named(tz) => {
                chrono::TimeZone::offset_from_utc_datetime(&tz, &self.to_utc().naive_utc())
                    .fix()
                    .local_minus_utc()
            }
        }
    }

    /// The local wall-clock time in the display zone.
    pub fn local(self) -> chrono::NaiveDateTime {
        self.to_utc().naive_utc() + chrono::Duration::seconds(self.offset_secs() as i64)
    }

    /// RFC 3339 text with as many fractional digits as needed (0, 3, 6 or 9).
    pub fn to_rfc3339(self) -> String {
        let offset = chrono::FixedOffset::east_opt(self.offset_secs())
            .unwrap_or(chrono::FixedOffset::east_opt(0).unwrap());
        let dt = self.to_utc().with_timezone(&offset);
        dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }
}

/// An SPL value. Raw fields are `Str`; expressions give the other types.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// TINYINT, SMALLINT, INTEGER, BIGINT (range-checked by casts).
    Int(i64),
    /// REAL, DOUBLE, DECIMAL.
    Double(f64),
    /// VARCHAR.
    Str(Text),
    /// VARBINARY.
    Bytes(Arc<[u8]>),
    Timestamp(Timestamp),
    /// DATE: days since 1970-01-01.
    Date(i32),
    /// JSON (parsed).
    Json(Arc<Json>),
    Array(Arc<Vec<Value>>),
    /// MAP(K, V), in insertion order, keys unique.
    Map(Arc<Vec<(Value, Value)>>),
    /// ROW(...)
    Row(Arc<Vec<Value>>),
    /// A compiled lambda argument, by index into the plan's lambda table. Only ever seen by
    /// higher-order functions.
    Lambda(u32),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Text::new(s))
    }

    pub fn string(s: String) -> Value {
        Value::Str(Text::from(s))
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    pub fn json(j: Json) -> Value {
        Value::Json(Arc::new(j))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The SQL type name of the value, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Bool(_) => "BOOLEAN",
            Value::Int(_) => "BIGINT",
            Value::Double(_) => "DOUBLE",
            Value::Str(_) => "VARCHAR",
            Value::Bytes(_) => "VARBINARY",
            Value::Timestamp(_) => "TIMESTAMP",
            Value::Date(_) => "DATE",
            Value::Json(_) => "JSON",
            Value::Array(_) => "ARRAY",
            Value::Map(_) => "MAP",
            Value::Row(_) => "ROW",
            Value::Lambda(_) => "LAMBDA",
        }
    }

    /// The value as text, the way SLS stores it (`CAST(v AS VARCHAR)`); `None` for NULL.
    pub fn to_text(&self) -> Option<Cow<'_, str>> {
        Some(match self {
            Value::Null => return None,
            Value::Str(t) => Cow::Borrowed(t.as_str()),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::Int(i) => Cow::Owned(i.to_string()),
            Value::Double(d) => Cow::Owned(format_double(*d)),
            Value::Bytes(b) => Cow::Owned(String::from_utf8_lossy(b).into_owned()),
            Value::Timestamp(t) => Cow::Owned(t.to_rfc3339()),
            Value::Date(d) => Cow::Owned(format_date(*d)),
            Value::Json(j) => match &**j {
                Json::String(s) => Cow::Borrowed(s.as_str()),
                other => Cow::Owned(other.to_string()),
            },
            Value::Array(_) | Value::Map(_) | Value::Row(_) => {
                Cow::Owned(self.to_json().to_string())
            }
            Value::Lambda(_) => Cow::Borrowed("<lambda>"),
        })
    }

    /// The value as a typed JSON value (SPL.md decision 1).
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Double(d) => serde_json::Number::from_f64(*d)
                .map_or_else(|| Json::String(format_double(*d)), Json::Number),
            Value::Str(t) => Json::String(t.to_string()),
            Value::Json(j) => (**j).clone(),
            Value::Array(items) | Value::Row(items) => {
                Json::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_text().unwrap_or_default().into_owned(), v.to_json()))
                    .collect(),
            ),
            other => Json::String(other.to_text().unwrap_or_default().into_owned()),
        }
    }

    /// A value from JSON input: strings become VARCHAR, other scalars keep their type, objects
    /// and arrays stay JSON values.
    pub fn from_json(j: Json) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::String(s) => Value::string(s),
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .unwrap_or_else(|| Value::Double(n.as_f64().unwrap_or(f64::NAN))),
            other => Value::json(other),
        }
    }
}

/// Double to text: shortest round-trip form, integral values keep a `.0`, like Presto.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d.is_infinite() {
        if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else if d == d.trunc() && d.abs() < 1e16 {
        format!("{d:.1}")
    } else {
        let s = format!("{d}");
        if s.len() > 24 { format!("{d:e}") } else { s }
    }
}

/// DATE (days since epoch) as `YYYY-MM-DD`.
pub fn format_date(days: i32) -> String {
    days.checked_add(719_163)
        .and_then(chrono::NaiveDate::from_num_days_from_ce_opt)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| days.to_string())
}

/// A field name, shared so that names interned by a plan cost no allocation per event.
pub type Name = Arc<str>;

/// One event: an ordered list of named fields. Field order is insertion order; overwriting
/// a field keeps its position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    fields: Vec<(Name, Value)>,
}

impl Event {
    pub fn new() -> Self {
        Event { fields: Vec::new() }
    }

    pub fn with_capacity(n: usize) -> Self {
        Event {
            fields: Vec::with_capacity(n),
        }
    }

    /// The event for one raw line: `{"content": line}`.
    pub fn from_line(content_name: &Name, line: Text) -> Self {
        Event {
            fields: vec![(content_name.clone(), Value::Str(line))],
        }
    }

    /// An event from a JSON object: keys become fields (strings as VARCHAR, nested objects
    /// and arrays as JSON values).
    pub fn from_json_object(obj: serde_json::Map<String, Json>) -> Self {
        Event {
            fields: obj
                .into_iter()
                .map(|(k, v)| (Name::from(k), Value::from_json(v)))
                .collect(),
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        // Names interned by a plan are usually the very same allocation: compare addresses
        // first, and text only when no address matches.
        self.fields
            .iter()
            .position(|(n, _)| std::ptr::eq(n.as_ptr(), name.as_ptr()) && n.len() == name.len())
            .or_else(|| {
                self.fields
                    .iter()
                    .position(|(n, _)| n.len() == name.len() && **n == *name)
            })
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).map(|i| &self.fields[i].1)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Sets a field (overwrites in place, or appends). A NULL value removes the field.
    pub fn set(&mut self, name: &Name, value: Value) {
        if value.is_null() {
            self.remove(name);
            return;
        }
        match self.position(name) {
            Some(i) => self.fields[i].1 = value,
            None => self.fields.push((name.clone(), value)),
        }
    }

    /// Sets a field by a name that may not be interned yet.
    pub fn set_str(&mut self, name: &str, value: Value) {
        match self.position(name) {
            Some(_) if value.is_null() => {
                self.remove(name);
            }
            Some(i) => self.fields[i].1 = value,
            None if value.is_null() => {}
            None => self.fields.push((Name::from(name), value)),
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.position(name).map(|i| self.fields.remove(i).1)
    }

    /// Renames a field in place; no-op when `from` is absent. An existing `to` is replaced.
    pub fn rename(&mut self, from: &str, to: &Name) {
        if let Some(i) = self.position(from) {
            if let Some(j) = self.position(to) {
                if i != j {
                    let v = self.fields[i].1.clone();
                    self.fields[j].1 = v;
                    self.fields.remove(i);
                }
                return;
            }
            self.fields[i].0 = to.clone();
        }
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&str, &Value) -> bool) {
        self.fields.retain(|(n, v)| keep(n, v));
    }

    pub fn fields(&self) -> impl Iterator<Item = (&Name, &Value)> {
        self.fields.iter().map(|(n, v)| (n, v))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn into_fields(self) -> Vec<(Name, Value)> {
        self.fields
    }

    pub fn from_fields(fields: Vec<(Name, Value)>) -> Self {
        Event { fields }
    }

    /// The event as a JSON object (typed values, or all text when `text_values`).
    pub fn to_json(&self, text_values: bool) -> serde_json::Map<String, Json> {
        self.fields
            .iter()
            .map(|(n, v)| {
                let j = if text_values {
                    v.to_text()
                        .map_or(Json::Null, |t| Json::String(t.into_owned()))
                } else {
                    v.to_json()
                };
                (n.to_string(), j)
            })
            .collect()
    }

    /// Appends the event as one NDJSON line (with `\n`) to `out`. Fast path: strings and
    /// numbers are written directly without building a JSON tree.
    pub fn write_ndjson(&self, out: &mut String, text_values: bool) {
        out.push('{');
        for (i, (name, value)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_str(out, name);
            out.push(':');
            if text_values {
                match value.to_text() {
                    Some(t) => write_json_str(out, &t),
                    None => out.push_str("null"),
                }
                continue;
            }
            match value {
                Value::Str(t) => write_json_str(out, t),
                Value::Int(n) => {
                    let _ = write!(out, "{n}");
                }
                Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Value::Null => out.push_str("null"),
                Value::Timestamp(t) => write_json_str(out, &t.to_rfc3339()),
                other => out.push_str(&other.to_json().to_string()),
            }
        }
        out.push_str("}\n");
    }
}

/// Bytes that need escaping inside a JSON string.
const ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Writes `s` as a JSON string literal. Runs without escapes are copied whole.
pub fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(off) = bytes[start..].iter().position(|&b| ESCAPE[b as usize]) {
        let i = start + off;
        out.push_str(&s[start..i]);
        match bytes[i] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_slices_share_the_buffer() {
        let t = Text::new("GET /index.html HTTP/1.1");
        let path = t.slice(4..15);
        assert_eq!(&*path, "/index.html");
        let sub = t.sub(&t.as_str()[16..]);
        assert_eq!(&*sub, "HTTP/1.1");
        assert_eq!(&*t.sub("elsewhere"), "elsewhere");
    }

    #[test]
    fn set_overwrites_in_place_and_null_removes() {
        let a: Name = "a".into();
        let b: Name = "b".into();
        let mut e = Event::new();
        e.set(&a, Value::str("1"));
        e.set(&b, Value::Int(2));
        e.set(&a, Value::Int(3));
        let mut out = String::new();
        e.write_ndjson(&mut out, false);
        assert_eq!(out, "{\"a\":3,\"b\":2}\n");
        e.set(&a, Value::Null);
        assert_eq!(e.len(), 1);
        e.rename("b", &a);
        out.clear();
        e.write_ndjson(&mut out, true);
        assert_eq!(out, "{\"a\":\"2\"}\n");
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        write_json_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn doubles_print_like_presto() {
        assert_eq!(format_double(100.0), "100.0");
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(f64::NAN), "NaN");
    }

    #[test]
    fn timestamps_print_rfc3339() {
        assert_eq!(Timestamp::utc(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        let t = Timestamp {
            nanos: 1_500_000_000,
            zone: Zone::Offset(3600),
        };
        assert_eq!(t.to_rfc3339(), "1970-01-01T01:00:01.500+01:00");
    }
}

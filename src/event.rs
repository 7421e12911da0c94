//! Values and events: the representation shared by the SPL engine, the batch normalizer and
//! the agents.
//!
//! Owns `Value` (SPL's typed values), `Text` (a shared string slice, so a field cut out of an
//! input line costs no copy), `JsonVal` (a JSON tree, or raw text parsed on first read),
//! `Timestamp`, `Event` (ordered fields) and NDJSON output.
//! Depends on nothing internal but `spl::ast::Type` names in docs.

use serde_json::Value as Json;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

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
    /// JSON: a tree, or raw text whose tree is built when something reads it.
    Json(Arc<JsonVal>),
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
        Value::Json(Arc::new(JsonVal::new(j)))
    }

    /// A JSON value kept as its text `raw`, which must be valid JSON that
    /// [`is_canonical_json`] accepts: the writer copies it, readers get its tree.
    pub fn raw_json(raw: Text) -> Value {
        Value::Json(Arc::new(JsonVal {
            raw: Some(raw),
            tree: OnceLock::new(),
        }))
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
            Value::Json(j) => match j.tree() {
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
            Value::Json(j) => j.tree().clone(),
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
///
/// Each field also carries a fingerprint of its name (`keys`, same order): a lookup scans
/// those integers and compares text only where a fingerprint matches, so a miss (the usual
/// case when a stage adds a field) costs no string comparison.
///
/// While an event has at most `INDEXED` fields, `index` maps fingerprints to positions
/// (open addressing, linear probing): a lookup is a probe or two, a miss included.
#[derive(Clone)]
pub struct Event {
    fields: Vec<(Name, Value)>,
    keys: Vec<u64>,
    /// Slot (high bits of the fingerprint) -> position + 1; 0 = empty. Valid when `indexed`.
    index: [u8; SLOTS],
    indexed: bool,
}

/// Slots of the per-event index (a power of two) and the most fields it indexes (so that a
/// probe always meets an empty slot).
const SLOTS: usize = 128;
const INDEXED: usize = 96;

impl Default for Event {
    fn default() -> Self {
        Event {
            fields: Vec::new(),
            keys: Vec::new(),
            index: [0; SLOTS],
            indexed: true,
        }
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("fields", &self.fields)
            .finish()
    }
}

#[inline]
fn slot_of(key: u64) -> usize {
    (key >> (64 - SLOTS.trailing_zeros())) as usize & (SLOTS - 1)
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
    }
}

/// The fingerprint of a field name: its length with its first and last 8 bytes. Equal names
/// have equal fingerprints; different names rarely do (then the text decides).
#[inline]
pub fn name_key(name: &str) -> u64 {
    let b = name.as_bytes();
    let n = b.len();
    let (head, tail) = if n >= 8 {
        (
            u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
            u64::from_le_bytes(b[n - 8..].try_into().unwrap_or_default()),
        )
    } else {
        // Byte by byte: a variable-length copy would be a call to memcpy.
        let mut head = 0u64;
        for (i, &c) in b.iter().enumerate() {
            head |= u64::from(c) << (8 * i);
        }
        (head, 0)
    };
    (head ^ tail.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n as u64
}

impl Event {
    pub fn new() -> Self {
        Event::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Event {
            fields: Vec::with_capacity(n),
            keys: Vec::with_capacity(n),
            ..Event::default()
        }
    }

    /// Rebuilds the index after fields moved (remove, retain, rename).
    fn reindex(&mut self) {
        self.index = [0; SLOTS];
        self.indexed = self.keys.len() <= INDEXED;
        if self.indexed {
            for i in 0..self.keys.len() {
                self.index_insert(i);
            }
        }
    }

    #[inline]
    fn index_insert(&mut self, i: usize) {
        let mut slot = slot_of(self.keys[i]);
        while self.index[slot] != 0 {
            slot = (slot + 1) & (SLOTS - 1);
        }
        self.index[slot] = (i + 1) as u8;
    }

    /// The event for one raw line: `{"content": line}`.
    pub fn from_line(content_name: &Name, line: Text) -> Self {
        let mut e = Event::with_capacity(16);
        e.push(content_name.clone(), Value::Str(line));
        e
    }

    /// An event from a JSON object: keys become fields (strings as VARCHAR, nested objects
    /// and arrays as JSON values).
    pub fn from_json_object(obj: serde_json::Map<String, Json>) -> Self {
        Event::from_fields(
            obj.into_iter()
                .map(|(k, v)| (Name::from(k), Value::from_json(v)))
                .collect(),
        )
    }

    /// The index of the field `name`, if present.
    #[inline]
    pub fn position(&self, name: &str) -> Option<usize> {
        self.position_keyed(name, name_key(name))
    }

    /// [`Event::position`] with the name's fingerprint already computed.
    #[inline]
    fn position_keyed(&self, name: &str, key: u64) -> Option<usize> {
        let same = |i: usize| {
            let n = &self.fields[i].0;
            std::ptr::eq(n.as_ptr(), name.as_ptr()) && n.len() == name.len() || **n == *name
        };
        if self.indexed {
            let mut slot = slot_of(key);
            loop {
                let p = self.index[slot] as usize;
                if p == 0 {
                    return None;
                }
                if self.keys[p - 1] == key && same(p - 1) {
                    return Some(p - 1);
                }
                slot = (slot + 1) & (SLOTS - 1);
            }
        }
        self.keys
            .iter()
            .enumerate()
            .find_map(|(i, &k)| (k == key && same(i)).then_some(i))
    }

    /// Appends a field the caller knows is absent (no lookup).
    #[inline]
    pub fn push(&mut self, name: Name, value: Value) {
        let key = name_key(&name);
        self.push_keyed(name, value, key);
    }

    #[inline]
    fn push_keyed(&mut self, name: Name, value: Value, key: u64) {
        debug_assert!(self.position(&name).is_none(), "duplicate field {name}");
        self.keys.push(key);
        self.fields.push((name, value));
        if self.indexed {
            if self.keys.len() > INDEXED {
                self.indexed = false;
            } else {
                self.index_insert(self.keys.len() - 1);
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).map(|i| &self.fields[i].1)
    }

    /// The field at `index` (from [`Event::position`]).
    pub fn field_at(&self, index: usize) -> (&Name, &Value) {
        let (n, v) = &self.fields[index];
        (n, v)
    }

    /// The value of the field at `index` (from [`Event::position`]).
    pub fn value_at(&self, index: usize) -> &Value {
        &self.fields[index].1
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
        let key = name_key(name);
        match self.position_keyed(name, key) {
            Some(i) => self.fields[i].1 = value,
            None => self.push_keyed(name.clone(), value, key),
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
            None => self.push(Name::from(name), value),
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.position(name).map(|i| self.remove_at(i))
    }

    /// Removes the field at position `i` (as [`Event::field_at`] numbers them).
    pub fn remove_at(&mut self, i: usize) -> Value {
        self.keys.remove(i);
        let v = self.fields.remove(i).1;
        self.reindex();
        v
    }

    /// Renames a field in place; no-op when `from` is absent. An existing `to` is replaced.
    pub fn rename(&mut self, from: &str, to: &Name) {
        if let Some(i) = self.position(from) {
            if let Some(j) = self.position(to) {
                if i != j {
                    let v = self.fields[i].1.clone();
                    self.fields[j].1 = v;
                    self.fields.remove(i);
                    self.keys.remove(i);
                    self.reindex();
                }
                return;
            }
            self.fields[i].0 = to.clone();
            self.keys[i] = name_key(to);
            self.reindex();
        }
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&str, &Value) -> bool) {
        self.retain_indexed(|_, n, v| keep(n, v));
    }

    /// Keeps the fields for which `keep(index, name, value)` holds; `index` is the field's
    /// position before the call.
    pub fn retain_indexed(&mut self, mut keep: impl FnMut(usize, &str, &Value) -> bool) {
        let mut i = 0;
        let keys = &mut self.keys;
        let mut w = 0;
        self.fields.retain(|(n, v)| {
            let k = keep(i, n, v);
            if k {
                keys[w] = keys[i];
                w += 1;
            }
            i += 1;
            k
        });
        keys.truncate(w);
        if w != i {
            self.reindex();
        }
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
        let keys = fields.iter().map(|(n, _)| name_key(n)).collect();
        let mut e = Event {
            fields,
            keys,
            ..Event::default()
        };
        e.reindex();
        e
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
                Value::Timestamp(t) => write_json_timestamp(out, *t),
                Value::Json(j) => match j.raw_text() {
                    Some(raw) => out.push_str(raw),
                    None => write_json_value(out, j),
                },
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

/// The index of the first byte at or after `i` that needs escaping in a JSON string (or
/// `b.len()`). Eight bytes at a time (SWAR): a byte below 0x20, `"` or `\\` sets the high bit of
/// its lane; the lowest flagged lane is always a true hit.
#[inline]
fn next_escape(b: &[u8], mut i: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let control = x.wrapping_sub(0x20 * LO) & !x;
        let q = x ^ (b'"' as u64 * LO);
        let quote = q.wrapping_sub(LO) & !q;
        let bs = x ^ (b'\\' as u64 * LO);
        let backslash = bs.wrapping_sub(LO) & !bs;
        let m = (control | quote | backslash) & HI;
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !ESCAPE[b[i] as usize] {
        i += 1;
    }
    i
}

/// Writes a JSON value as compact JSON, byte for byte as `serde_json::to_string` does, without
/// cloning it or going through a formatter for strings.
/// A JSON value: the parsed tree, or the raw text `parse-json` found, with the tree built on
/// first read. Raw text is kept only when it is byte for byte what [`write_json_value`]
/// would write for its tree, so a value that is only passed through is copied, never parsed.
pub struct JsonVal {
    raw: Option<Text>,
    tree: OnceLock<Json>,
}

impl JsonVal {
    pub fn new(j: Json) -> Self {
        JsonVal {
            raw: None,
            tree: OnceLock::from(j),
        }
    }

    /// The tree (parsed now if the value is raw text and nothing has read it yet).
    pub fn tree(&self) -> &Json {
        self.tree.get_or_init(|| {
            self.raw
                .as_ref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Json::Null)
        })
    }

    /// The raw text, when the value was kept as text (it is what the writer would write).
    pub fn raw_text(&self) -> Option<&str> {
        self.raw.as_ref().map(Text::as_str)
    }
}

impl std::ops::Deref for JsonVal {
    type Target = Json;
    fn deref(&self) -> &Json {
        self.tree()
    }
}

impl PartialEq for JsonVal {
    fn eq(&self, other: &Self) -> bool {
        self.tree() == other.tree()
    }
}

impl std::fmt::Debug for JsonVal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.tree().fmt(f)
    }
}

/// True when `raw`, a valid JSON text, is exactly what [`write_json_value`] writes for its
/// tree: no whitespace between tokens, string escapes only in the writer's forms (`\"`,
/// `\\`, `\n`, `\r`, `\t`, `\b`, `\f`; no `\u`, no `\/`), numbers only as integers of
/// at most 18 digits without a leading zero or `-0` (floats are rewritten by the writer),
/// keys without escapes and no key twice in one object (the tree keeps the last value).
pub fn is_canonical_json(raw: &str) -> bool {
    let b = raw.as_bytes();
    let mut i = 0;
    // Open containers: (is an object, where its keys start in `keys`).
    let mut open: Vec<(bool, usize)> = Vec::new();
    let mut keys: Vec<&[u8]> = Vec::new();
    let mut expect_key = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'{' | b'[' => {
                open.push((c == b'{', keys.len()));
                expect_key = c == b'{';
                i += 1;
            }
            b'}' | b']' => {
                if let Some((_, start)) = open.pop() {
                    keys.truncate(start);
                }
                expect_key = false;
                i += 1;
            }
            b',' => {
                expect_key = open.last().is_some_and(|(object, _)| *object);
                i += 1;
            }
            b':' => {
                expect_key = false;
                i += 1;
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                loop {
                    // Jump to the next quote or backslash (ASCII: never inside a multi-byte char).
                    match memchr::memchr2(b'"', b'\\', &b[j..]).map(|k| j + k) {
                        None => return false,
                        Some(q) if b[q] == b'"' => {
                            j = q;
                            break;
                        }
                        Some(q) => match b.get(q + 1) {
                            Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f') => j = q + 2,
                            _ => return false,
                        },
                    }
                }
                if expect_key {
                    let key = &b[start..j];
                    let from = open.last().map_or(0, |(_, s)| *s);
                    if key.contains(&b'\\') || keys[from..].contains(&key) {
                        return false;
                    }
                    keys.push(key);
                    expect_key = false;
                }
                i = j + 1;
            }
            b'-' | b'0'..=b'9' => {
                let negative = c == b'-';
                let first = i + usize::from(negative);
                let mut j = first;
                while b.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
                let digits = &b[first..j];
                if digits.is_empty()
                    || digits.len() > 18
                    || (digits[0] == b'0' && (digits.len() > 1 || negative))
                    || matches!(b.get(j), Some(b'.' | b'e' | b'E'))
                {
                    return false;
                }
                i = j;
            }
            _ => {
                let word: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    b'n' => b"null",
                    _ => return false,
                };
                if !b[i..].starts_with(word) {
                    return false;
                }
                i += word.len();
            }
        }
    }
    open.is_empty()
}

pub fn write_json_value(out: &mut String, j: &Json) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => {
                let _ = write!(out, "{i}");
            }
            (None, Some(u)) => {
                let _ = write!(out, "{u}");
            }
            _ => out.push_str(&j.to_string()),
        },
        Json::String(s) => write_json_str_as(out, s, true),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_value(out, item);
            }
            out.push(']');
        }
        Json::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_str_as(out, k, true);
                out.push(':');
                write_json_value(out, v);
            }
            out.push('}');
        }
    }
}

/// Writes `s` as a JSON string literal. Runs without escapes are copied whole.
pub fn write_json_str(out: &mut String, s: &str) {
    write_json_str_as(out, s, false);
}

/// `serde_style`: backspace and form feed as `\\b` and `\\f`, as serde_json writes them
/// (else as `\\u0008`/`\\u000c`, as this module always has for field values).
fn write_json_str_as(out: &mut String, s: &str, serde_style: bool) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    loop {
        let i = next_escape(bytes, start);
        out.push_str(&s[start..i]);
        let Some(&b) = bytes.get(i) else { break };
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 if serde_style => out.push_str("\\b"),
            0x0c if serde_style => out.push_str("\\f"),
            b => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push('"');
}

/// Writes a timestamp as a quoted RFC 3339 string, exactly as [`Timestamp::to_rfc3339`] does,
/// without going through chrono's formatter for years 0000-9999.
pub fn write_json_timestamp(out: &mut String, t: Timestamp) {
    let offset = t.offset_secs();
    let local = t.nanos.checked_add(offset as i64 * 1_000_000_000);
    let Some(local) = local.filter(|_| offset % 60 == 0) else {
        write_json_str(out, &t.to_rfc3339());
        return;
    };
    let secs = local.div_euclid(1_000_000_000);
    let frac = local.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        write_json_str(out, &t.to_rfc3339());
        return;
    }
    let mut buf = [0u8; 40];
    let mut n = 0;
    let put = |v: u32, width: usize, buf: &mut [u8; 40], n: &mut usize| {
        let mut v = v;
        for k in (0..width).rev() {
            buf[*n + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        *n += width;
    };
    buf[n] = b'"';
    n += 1;
    put(y as u32, 4, &mut buf, &mut n);
    buf[n] = b'-';
    n += 1;
    put(m, 2, &mut buf, &mut n);
    buf[n] = b'-';
    n += 1;
    put(d, 2, &mut buf, &mut n);
    buf[n] = b'T';
    n += 1;
    put(sod / 3600, 2, &mut buf, &mut n);
    buf[n] = b':';
    n += 1;
    put(sod / 60 % 60, 2, &mut buf, &mut n);
    buf[n] = b':';
    n += 1;
    put(sod % 60, 2, &mut buf, &mut n);
    if frac != 0 {
        buf[n] = b'.';
        n += 1;
        if frac.is_multiple_of(1_000_000) {
            put(frac / 1_000_000, 3, &mut buf, &mut n);
        } else if frac.is_multiple_of(1_000) {
            put(frac / 1_000, 6, &mut buf, &mut n);
        } else {
            put(frac, 9, &mut buf, &mut n);
        }
    }
    if offset == 0 {
        buf[n] = b'Z';
        n += 1;
    } else {
        buf[n] = if offset < 0 { b'-' } else { b'+' };
        n += 1;
        let a = offset.unsigned_abs();
        put(a / 3600, 2, &mut buf, &mut n);
        buf[n] = b':';
        n += 1;
        put(a / 60 % 60, 2, &mut buf, &mut n);
    }
    buf[n] = b'"';
    n += 1;
    out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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

    /// The escaping before the SWAR scan: one byte at a time through the table.
    fn write_json_str_bytewise(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }

    proptest::proptest! {
        #[test]
        fn swar_escaping_equals_bytewise_escaping(s in "(?s)(?:[\\x00-\\x1f\"\\\\]|[ -~]|[\\u{80}-\\u{10ffff}]){0,64}") {
            let (mut fast, mut slow) = (String::new(), String::new());
            write_json_str(&mut fast, &s);
            write_json_str_bytewise(&mut slow, &s);
            proptest::prop_assert_eq!(&fast, &slow);
            let back: String = serde_json::from_str(&fast).unwrap();
            proptest::prop_assert_eq!(back, s);
        }

        #[test]
        fn fast_timestamp_text_equals_chrono(nanos in (i64::MIN / 2)..(i64::MAX / 2),
                                             frac in 0usize..4, zone in 0usize..4, offset_min in -900i32..900) {
            // Whole seconds, milliseconds, microseconds and nanoseconds all occur.
            let nanos = match frac {
                0 => nanos - nanos.rem_euclid(1_000_000_000),
                1 => nanos - nanos.rem_euclid(1_000_000),
                2 => nanos - nanos.rem_euclid(1_000),
                _ => nanos,
            };
            let zone = match zone {
                0 => Zone::Utc,
                1 => Zone::Offset(offset_min * 60),
                2 => Zone::Offset(offset_min * 60 + 7),
                _ => Zone::Named(chrono_tz::Tz::America__New_York),
            };
            let t = Timestamp { nanos, zone };
            let mut fast = String::new();
            write_json_timestamp(&mut fast, t);
            let mut slow = String::new();
            write_json_str(&mut slow, &t.to_rfc3339());
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    fn json_strategy() -> impl proptest::strategy::Strategy<Value = Json> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::from),
            any::<u64>().prop_map(Json::from),
            any::<f64>().prop_map(Json::from),
            "(?s)(?:[\\x00-\\x1f\"\\\\]|[ -~]|[\\u{80}-\\u{10ffff}]){0,12}".prop_map(Json::String),
        ];
        leaf.prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                proptest::collection::vec(("[a-z\"\\\\\\x08]{0,4}", inner), 0..5)
                    .prop_map(|kv| Json::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn json_values_are_written_as_serde_json_writes_them(j in json_strategy()) {
            let mut fast = String::new();
            write_json_value(&mut fast, &j);
            proptest::prop_assert_eq!(fast, j.to_string());
        }

        /// Raw JSON kept by `parse-json` is written as it is: that is right only for texts
        /// the writer would write itself. Texts in many forms (compact, pretty, `\/` and
        /// `\u` escapes, exponents, duplicate keys) are checked: accepted ⇒ identical.
        #[test]
        fn canonical_json_is_what_the_writer_writes(
            j in json_strategy(),
            form in 0usize..5,
            dup in proptest::prelude::any::<bool>(),
        ) {
            let compact = j.to_string();
            let text = match form {
                0 => compact.clone(),
                1 => serde_json::to_string_pretty(&j).unwrap(),
                2 => compact.replace('/', "\\/"),
                3 => compact.replace('e', "\\u0065"),
                _ => compact.replace("1", "1e0"),
            };
            let text = if dup && text.starts_with('{') && text.len() > 2 {
                format!("{{\"k\":1,\"k\":2,{}", &text[1..])
            } else {
                text
            };
            if let Ok(tree) = serde_json::from_str::<Json>(&text)
                && is_canonical_json(&text)
            {
                let mut written = String::new();
                write_json_value(&mut written, &tree);
                proptest::prop_assert_eq!(written, text);
            }
        }

        /// The fast path is taken: compact JSON without floats, escapes or duplicate keys
        /// is kept raw.
        #[test]
        fn plain_compact_json_is_canonical(j in plain_json_strategy()) {
            proptest::prop_assert!(is_canonical_json(&j.to_string()), "{}", j);
        }
    }

    fn plain_json_strategy() -> impl proptest::strategy::Strategy<Value = Json> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            (-999_999_999_999i64..999_999_999_999).prop_map(Json::from),
            "[a-z é:,{}\\[\\]/-]{0,8}".prop_map(Json::String),
        ];
        leaf.prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                proptest::collection::vec(("[a-z]{0,4}", inner), 0..5)
                    .prop_map(|kv| Json::Object(kv.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn raw_json_values_are_read_as_their_tree_and_written_as_they_are() {
        let raw = r#"{"a":[1,true,null,"x\"y"],"b":{"c":-5}}"#;
        assert!(is_canonical_json(raw));
        let v = Value::raw_json(Text::new(raw));
        let mut e = Event::new();
        e.set(&Name::from("j"), v.clone());
        let mut out = String::new();
        e.write_ndjson(&mut out, false);
        assert_eq!(out, format!("{{\"j\":{raw}}}\n"));
        assert_eq!(v.to_json(), serde_json::from_str::<Json>(raw).unwrap());
        assert_eq!(v, Value::json(serde_json::from_str(raw).unwrap()));
        for bad in [
            r#"{"a": 1}"#,
            r#"{"a":1,"a":2}"#,
            r#"[1.5]"#,
            r#"["\/"]"#,
            r#"[-0]"#,
            r#"[01]"#,
        ] {
            assert!(!is_canonical_json(bad), "{bad}");
        }
    }

    #[test]
    fn lookups_work_with_and_without_the_index() {
        let names: Vec<Name> = (0..60).map(|i| Name::from(format!("field.{i}"))).collect();
        let mut e = Event::new();
        for (i, n) in names.iter().enumerate() {
            e.set(n, Value::Int(i as i64));
            // Every field so far is found, whether the index holds them or not.
            for (j, m) in names[..=i].iter().enumerate() {
                assert_eq!(e.position(&m.chars().collect::<String>()), Some(j));
            }
            assert_eq!(e.position("field.x"), None);
        }
        e.retain_indexed(|i, _, _| i % 3 == 0);
        assert_eq!(e.len(), 20);
        for (j, n) in names.iter().step_by(3).enumerate() {
            assert_eq!(e.position(n), Some(j));
        }
        assert_eq!(e.position(&names[1]), None);
        e.remove(&names[0]);
        e.rename(&names[3], &Name::from("renamed"));
        assert_eq!(e.position("renamed"), Some(0));
        assert_eq!(e.position(&names[3]), None);
        assert_eq!(e.position(&names[57]), Some(18));
    }

    #[test]
    fn key_lookups_find_names_that_share_a_fingerprint_prefix() {
        let names: Vec<Name> = [
            "a",
            "aws.cloudtrail.user_identity.arn",
            "aws.cloudtrail.user_identity.type",
            "aws.cloudtrail.X.user_identity.arn",
            "",
            "event.kind",
            "event.kinD",
        ]
        .iter()
        .map(|n| Name::from(*n))
        .collect();
        let mut e = Event::new();
        for (i, n) in names.iter().enumerate() {
            e.set(n, Value::Int(i as i64));
        }
        for (i, n) in names.iter().enumerate() {
            // Lookups by a copy of the text (another allocation) find the same field.
            assert_eq!(
                e.get(&n.chars().collect::<String>()),
                Some(&Value::Int(i as i64)),
                "{n}"
            );
        }
        e.retain_indexed(|i, _, _| i % 2 == 0);
        assert_eq!(e.len(), 4);
        assert!(e.get("a").is_some() && e.get("event.kind").is_none());
        e.rename("event.kinD", &Name::from("b"));
        assert_eq!(e.get("b"), Some(&Value::Int(6)));
        assert_eq!(e.position("event.kinD"), None);
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

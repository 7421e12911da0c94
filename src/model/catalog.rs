//! The ECS field catalog: every field's dotted name, Elasticsearch type, level, whether it
//! holds a list, and its short description. Parsed once from `datasets/schema/ecs-fields.csv`
//! (embedded in the binary).

use serde::{Serialize, Serializer};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

/// The Elasticsearch field type of an ECS field (the `Type` column of the catalog).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldType {
    Keyword,
    ConstantKeyword,
    Wildcard,
    MatchOnlyText,
    Text,
    Long,
    Integer,
    Short,
    Byte,
    UnsignedLong,
    Float,
    HalfFloat,
    ScaledFloat,
    Double,
    Boolean,
    Date,
    DateNanos,
    Ip,
    Object,
    Flattened,
    Nested,
    GeoPoint,
    Binary,
    /// A type this version of the catalog does not name; kept verbatim.
    Other(String),
}

impl FieldType {
    /// The type for its Elasticsearch name (`"keyword"`, `"long"`, ...).
    pub fn parse(name: &str) -> FieldType {
        match name {
            "keyword" => FieldType::Keyword,
            "constant_keyword" => FieldType::ConstantKeyword,
            "wildcard" => FieldType::Wildcard,
            "match_only_text" => FieldType::MatchOnlyText,
            "text" => FieldType::Text,
            "long" => FieldType::Long,
            "integer" => FieldType::Integer,
            "short" => FieldType::Short,
            "byte" => FieldType::Byte,
            "unsigned_long" => FieldType::UnsignedLong,
            "float" => FieldType::Float,
            "half_float" => FieldType::HalfFloat,
            "scaled_float" => FieldType::ScaledFloat,
            "double" => FieldType::Double,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "date_nanos" => FieldType::DateNanos,
            "ip" => FieldType::Ip,
            "object" => FieldType::Object,
            "flattened" => FieldType::Flattened,
            "nested" => FieldType::Nested,
            "geo_point" => FieldType::GeoPoint,
            "binary" => FieldType::Binary,
            other => FieldType::Other(other.to_string()),
        }
    }

    /// The Elasticsearch name of the type.
    pub fn as_str(&self) -> &str {
        match self {
            FieldType::Keyword => "keyword",
            FieldType::ConstantKeyword => "constant_keyword",
            FieldType::Wildcard => "wildcard",
            FieldType::MatchOnlyText => "match_only_text",
            FieldType::Text => "text",
            FieldType::Long => "long",
            FieldType::Integer => "integer",
            FieldType::Short => "short",
            FieldType::Byte => "byte",
            FieldType::UnsignedLong => "unsigned_long",
            FieldType::Float => "float",
            FieldType::HalfFloat => "half_float",
            FieldType::ScaledFloat => "scaled_float",
            FieldType::Double => "double",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::DateNanos => "date_nanos",
            FieldType::Ip => "ip",
            FieldType::Object => "object",
            FieldType::Flattened => "flattened",
            FieldType::Nested => "nested",
            FieldType::GeoPoint => "geo_point",
            FieldType::Binary => "binary",
            FieldType::Other(s) => s,
        }
    }

    /// Whole-number types (`long`, `integer`, `short`, `byte`, `unsigned_long`).
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            FieldType::Long
                | FieldType::Integer
                | FieldType::Short
                | FieldType::Byte
                | FieldType::UnsignedLong
        )
    }

    /// Any number type, whole or floating.
    pub fn is_numeric(&self) -> bool {
        self.is_integer()
            || matches!(
                self,
                FieldType::Float
                    | FieldType::HalfFloat
                    | FieldType::ScaledFloat
                    | FieldType::Double
            )
    }

    /// String types (`keyword` family and the text types).
    pub fn is_string(&self) -> bool {
        matches!(
            self,
            FieldType::Keyword
                | FieldType::ConstantKeyword
                | FieldType::Wildcard
                | FieldType::MatchOnlyText
                | FieldType::Text
        )
    }

    /// `date` or `date_nanos`.
    pub fn is_date(&self) -> bool {
        matches!(self, FieldType::Date | FieldType::DateNanos)
    }

    /// Types whose value is a structure with keys below the field's name (`object`,
    /// `flattened`, `nested`, `geo_point`): `labels.env` lives under `labels`.
    pub fn is_container(&self) -> bool {
        matches!(
            self,
            FieldType::Object | FieldType::Flattened | FieldType::Nested | FieldType::GeoPoint
        )
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FieldType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One field of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDef {
    /// The dotted name (`source.ip`).
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// `core` or `extended`.
    pub level: String,
    /// The short description.
    pub description: String,
    /// ECS normalization `array`: the field holds a list (`event.category`, `related.ip`).
    pub array: bool,
}

/// The ECS field catalog, indexed by name.
#[derive(Debug)]
pub struct Catalog {
    fields: Vec<FieldDef>,
    index: HashMap<String, usize>,
    /// First segments of dotted field names: the ECS field sets that sit at the top level
    /// (`source`, `event`, `http`, ...).
    field_sets: HashSet<String>,
}

const FIELDS_CSV: &str = include_str!("../../datasets/schema/ecs-fields.csv");

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::from_csv(FIELDS_CSV));

/// The ECS catalog embedded in the binary, parsed on first use.
///
/// ```
/// use agentic_soc::model::{catalog, FieldType};
/// let ip = catalog().get("source.ip").unwrap();
/// assert_eq!(ip.ty, FieldType::Ip);
/// assert!(catalog().is_ecs("labels.env"));
/// assert!(!catalog().is_ecs("cisco.asa.message_id"));
/// ```
pub fn catalog() -> &'static Catalog {
    &CATALOG
}

impl Catalog {
    /// Parses the trimmed catalog CSV (`Field,Type,Level,Normalization,Description`).
    ///
    /// Panics on a malformed embedded file: it is fixed data checked by the tests.
    fn from_csv(text: &str) -> Catalog {
        let mut rows = parse_csv(text).into_iter();
        let header = rows.next().expect("the catalog has a header");
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("the catalog has no {name} column"))
        };
        let (f, t, l, n, d) = (
            col("Field"),
            col("Type"),
            col("Level"),
            col("Normalization"),
            col("Description"),
        );
        let mut fields = Vec::new();
        for row in rows {
            let get = |i: usize| row.get(i).map(String::as_str).unwrap_or("");
            if get(f).is_empty() {
                continue;
            }
            fields.push(FieldDef {
                name: get(f).to_string(),
                ty: FieldType::parse(get(t)),
                level: get(l).to_string(),
                description: get(d).to_string(),
                array: get(n).split(',').any(|x| x.trim() == "array"),
            });
        }
        let index = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        let field_sets = fields
            .iter()
            .filter_map(|f| f.name.split_once('.').map(|(set, _)| set.to_string()))
            .collect();
        Catalog {
            fields,
            index,
            field_sets,
        }
    }

    /// The field with exactly this name.
    pub fn get(&self, name: &str) -> Option<&FieldDef> {
        self.index.get(name).map(|&i| &self.fields[i])
    }

    /// All fields, in catalog order.
    pub fn iter(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the catalog has no field (never, for the embedded one).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Whether `name` is an ECS field: a catalog field, or a key under an ECS field whose
    /// type is a container (`labels.env` under `labels`, `source.geo.location.lat` under the
    /// `geo_point` `source.geo.location`).
    pub fn is_ecs(&self, name: &str) -> bool {
        self.get(name).is_some() || self.container_of(name).is_some()
    }

    /// The nearest ECS field above `name` whose type is a container (`object`, `flattened`,
    /// `nested`, `geo_point`), if any.
    pub fn container_of(&self, name: &str) -> Option<&FieldDef> {
        let mut end = name.len();
        while let Some(dot) = name[..end].rfind('.') {
            if let Some(def) = self.get(&name[..dot]) {
                return def.ty.is_container().then_some(def);
            }
            end = dot;
        }
        None
    }

    /// Whether `segment` is an ECS field set that appears at the top level of dotted names
    /// (`source`, `event`); a name starting with one of these claims to be ECS.
    pub fn is_field_set(&self, segment: &str) -> bool {
        self.field_sets.contains(segment)
    }

    /// The closest catalog field to a misspelt `name` within the same field set.
    pub fn did_you_mean(&self, name: &str) -> Option<&str> {
        let set = name.split('.').next().unwrap_or(name);
        let prefix = format!("{set}.");
        crate::diagnostic::did_you_mean(
            name,
            self.fields
                .iter()
                .map(|f| f.name.as_str())
                .filter(|n| n.starts_with(&prefix)),
        )
    }
}

/// A minimal RFC 4180 reader: `,` separated, `"` quoting with `""` escapes, `\n` or `\r\n`
/// row ends (also inside quotes, as field text).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_loads_every_field() {
        let c = catalog();
        assert_eq!(c.len(), 2732);
        let ts = c.get("@timestamp").unwrap();
        assert_eq!(ts.ty, FieldType::Date);
        assert_eq!(ts.level, "core");
        assert!(!ts.description.is_empty());
        assert_eq!(c.get("source.port").unwrap().ty, FieldType::Long);
        assert_eq!(c.get("message").unwrap().ty, FieldType::MatchOnlyText);
        assert!(c.get("event.category").unwrap().array);
        assert!(!c.get("event.kind").unwrap().array);
        assert!(c.get("source.ipp").is_none());
        assert!(c.iter().all(|f| !matches!(f.ty, FieldType::Other(_))));
    }

    #[test]
    fn names_under_containers_are_ecs() {
        let c = catalog();
        assert!(c.is_ecs("labels.env"));
        assert!(c.is_ecs("container.labels.app"));
        assert!(c.is_ecs("source.geo.location.lat"));
        assert!(!c.is_ecs("source.ipp"));
        assert!(!c.is_ecs("cisco.asa.rule_name"));
        // A keyword field is not a container.
        assert!(!c.is_ecs("source.ip.extra"));
    }

    #[test]
    fn field_sets_are_the_top_level_segments() {
        let c = catalog();
        for set in ["source", "event", "http", "user", "threat"] {
            assert!(c.is_field_set(set), "{set}");
        }
        for not in ["cisco", "labels", "geo", "@timestamp"] {
            assert!(!c.is_field_set(not), "{not}");
        }
    }

    #[test]
    fn misspelt_fields_get_a_suggestion() {
        assert_eq!(
            catalog().did_you_mean("event.categroy"),
            Some("event.category")
        );
        assert_eq!(catalog().did_you_mean("source.zzzzzzzz"), None);
    }

    #[test]
    fn csv_quotes_and_escapes() {
        let rows = parse_csv("a,\"b,c\",\"say \"\"hi\"\"\"\r\nx,,\"multi\nline\"\n");
        assert_eq!(
            rows,
            vec![vec!["a", "b,c", "say \"hi\""], vec!["x", "", "multi\nline"]]
        );
    }

    #[test]
    fn types_round_trip_their_names() {
        for name in [
            "keyword",
            "long",
            "ip",
            "geo_point",
            "match_only_text",
            "weird",
        ] {
            assert_eq!(FieldType::parse(name).as_str(), name);
        }
        assert!(FieldType::Long.is_integer() && FieldType::Double.is_numeric());
        assert!(!FieldType::Keyword.is_numeric() && FieldType::Wildcard.is_string());
    }
}

//! A strict validator for the JSON Schema subset that our prompts use: `type` (one name or a
//! list such as `["string", "null"]`), `properties`, `required`, `additionalProperties`,
//! `enum`, `const`, `items`, `minItems`/`maxItems`, `minimum`/`maximum`,
//! `minLength`/`maxLength`. Annotations (`title`, `description`, `default`, `examples`,
//! `$schema`, `$id`) are ignored; any other keyword (`anyOf`, `$ref`, `pattern`, ...) is an
//! error rather than a silent pass, so a prompt cannot rely on a rule nobody checks.
//! Pure: depends on serde_json only.

use serde_json::{Map, Value};

/// Keywords that only describe a schema and constrain nothing.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$id",
    "$comment",
];

/// Keywords this validator checks.
const CHECKED: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "const",
    "items",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
];

/// Checks `value` against `schema`. The error names the JSON path of the first violation,
/// `$` being the whole value (`$.fields[2].target: "x" is not one of [...]`).
///
/// ```
/// use agentic_soc::llm::validate;
/// use serde_json::json;
///
/// let schema = json!({
///     "type": "object",
///     "properties": {"field": {"type": "string", "enum": ["source.ip", "user.name"]}},
///     "required": ["field"],
///     "additionalProperties": false
/// });
/// assert!(validate(&schema, &json!({"field": "source.ip"})).is_ok());
/// let err = validate(&schema, &json!({"field": "host.ip"})).unwrap_err();
/// assert!(err.starts_with("$.field: "), "{err}");
/// ```
pub fn validate(schema: &Value, value: &Value) -> Result<(), String> {
    check(schema, value, &mut String::from("$"))
}

fn check(schema: &Value, value: &Value, path: &mut String) -> Result<(), String> {
    let schema = match schema {
        // `true` accepts everything, `false` nothing (JSON Schema boolean schemas).
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return Err(format!("{path}: no value is allowed here")),
        Value::Object(map) => map,
        other => return Err(format!("{path}: the schema is not an object: {other}")),
    };
    for key in schema.keys() {
        if !CHECKED.contains(&key.as_str()) && !ANNOTATIONS.contains(&key.as_str()) {
            return Err(format!(
                "{path}: the schema uses unsupported keyword `{key}`"
            ));
        }
    }
    if let Some(types) = schema.get("type") {
        check_type(types, value, path)?;
    }
    if let Some(allowed) = schema.get("enum") {
        let Value::Array(allowed) = allowed else {
            return Err(format!("{path}: the schema's `enum` is not an array"));
        };
        if !allowed.iter().any(|a| same(a, value)) {
            return Err(format!(
                "{path}: {} is not one of {}",
                short(value),
                short(&Value::Array(allowed.clone()))
            ));
        }
    }
    if let Some(expected) = schema.get("const")
        && !same(expected, value)
    {
        return Err(format!(
            "{path}: {} is not {}",
            short(value),
            short(expected)
        ));
    }
    match value {
        Value::Object(object) => check_object(schema, object, path),
        Value::Array(items) => check_array(schema, items, path),
        Value::String(text) => check_string(schema, text, path),
        Value::Number(_) => check_number(schema, value, path),
        Value::Bool(_) | Value::Null => Ok(()),
    }
}

fn check_type(types: &Value, value: &Value, path: &str) -> Result<(), String> {
    let names: Vec<&str> = match types {
        Value::String(name) => vec![name.as_str()],
        Value::Array(list) => {
            let mut names = Vec::with_capacity(list.len());
            for name in list {
                let Value::String(name) = name else {
                    return Err(format!("{path}: the schema's `type` list holds {name}"));
                };
                names.push(name.as_str());
            }
            names
        }
        other => return Err(format!("{path}: the schema's `type` is {other}")),
    };
    for name in &names {
        if !matches!(
            *name,
            "object" | "array" | "string" | "number" | "integer" | "boolean" | "null"
        ) {
            return Err(format!("{path}: the schema names unknown type `{name}`"));
        }
    }
    if names.iter().any(|name| has_type(name, value)) {
        return Ok(());
    }
    Err(format!(
        "{path}: expected {}, got {}",
        names.join(" or "),
        kind(value)
    ))
}

fn has_type(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        // JSON Schema counts 1.0 as an integer: the type is about the value, not the spelling.
        "integer" => match value {
            Value::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            _ => false,
        },
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}

fn check_object(
    schema: &Map<String, Value>,
    object: &Map<String, Value>,
    path: &mut String,
) -> Result<(), String> {
    let properties = match schema.get("properties") {
        None => None,
        Some(Value::Object(props)) => Some(props),
        Some(_) => {
            return Err(format!(
                "{path}: the schema's `properties` is not an object"
            ));
        }
    };
    if let Some(required) = schema.get("required") {
        let Value::Array(required) = required else {
            return Err(format!("{path}: the schema's `required` is not an array"));
        };
        for name in required {
            let Value::String(name) = name else {
                return Err(format!("{path}: the schema's `required` holds {name}"));
            };
            if !object.contains_key(name) {
                return Err(format!(
                    "{path}: missing required property {}",
                    short(&Value::String(name.clone()))
                ));
            }
        }
    }
    let additional = schema.get("additionalProperties");
    for (key, item) in object {
        let len = path.len();
        push_key(path, key);
        let result = match (properties.and_then(|p| p.get(key)), additional) {
            (Some(sub), _) => check(sub, item, path),
            (None, None | Some(Value::Bool(true))) => Ok(()),
            (None, Some(Value::Bool(false))) => Err(format!("{path}: property is not allowed")),
            (None, Some(sub @ Value::Object(_))) => check(sub, item, path),
            (None, Some(_)) => Err(format!(
                "{path}: the schema's `additionalProperties` is neither a boolean nor a schema"
            )),
        };
        path.truncate(len);
        result?;
    }
    Ok(())
}

fn check_array(
    schema: &Map<String, Value>,
    items: &[Value],
    path: &mut String,
) -> Result<(), String> {
    if let Some(min) = bound(schema, "minItems", path)?
        && (items.len() as u64) < min
    {
        return Err(format!(
            "{path}: {} items, fewer than the minimum {min}",
            items.len()
        ));
    }
    if let Some(max) = bound(schema, "maxItems", path)?
        && (items.len() as u64) > max
    {
        return Err(format!(
            "{path}: {} items, more than the maximum {max}",
            items.len()
        ));
    }
    if let Some(sub) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let result = check(sub, item, path);
            path.truncate(len);
            result?;
        }
    }
    Ok(())
}

fn check_string(schema: &Map<String, Value>, text: &str, path: &str) -> Result<(), String> {
    let chars = text.chars().count() as u64;
    if let Some(min) = bound(schema, "minLength", path)?
        && chars < min
    {
        return Err(format!(
            "{path}: {chars} characters, fewer than the minimum {min}"
        ));
    }
    if let Some(max) = bound(schema, "maxLength", path)?
        && chars > max
    {
        return Err(format!(
            "{path}: {chars} characters, more than the maximum {max}"
        ));
    }
    Ok(())
}

fn check_number(schema: &Map<String, Value>, value: &Value, path: &str) -> Result<(), String> {
    let Some(n) = value.as_f64() else {
        return Ok(());
    };
    for (keyword, below) in [("minimum", true), ("maximum", false)] {
        let Some(limit) = schema.get(keyword) else {
            continue;
        };
        let Some(limit) = limit.as_f64() else {
            return Err(format!("{path}: the schema's `{keyword}` is not a number"));
        };
        if (below && n < limit) || (!below && n > limit) {
            return Err(format!(
                "{path}: {value} is {} the {keyword} {limit}",
                if below { "below" } else { "above" }
            ));
        }
    }
    Ok(())
}

/// A non-negative integer keyword (`minItems`, `maxLength`, ...).
fn bound(schema: &Map<String, Value>, keyword: &str, path: &str) -> Result<Option<u64>, String> {
    match schema.get(keyword) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            format!("{path}: the schema's `{keyword}` is not a non-negative integer")
        }),
    }
}

/// Equality as JSON Schema sees it: numbers compare by value (1 == 1.0).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&Value::String(key.to_owned()).to_string());
        path.push(']');
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null => "null",
    }
}

/// A value for an error message, cut so a long model answer cannot flood it.
fn short(value: &Value) -> String {
    const MAX: usize = 120;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        return text;
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::validate;
    use serde_json::{Value, json};

    fn answer_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "target": {"type": "string", "enum": ["source.ip", "destination.ip", "user.name"]},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "reason": {"type": ["string", "null"], "maxLength": 10},
                "count": {"type": "integer"},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
                "nested": {
                    "type": "object",
                    "properties": {"ok": {"type": "boolean"}},
                    "required": ["ok"],
                    "additionalProperties": false
                },
                "weird key": {"type": "null"}
            },
            "required": ["target", "confidence"],
            "additionalProperties": false
        })
    }

    /// Each case: the answer, then `None` when it is valid or the expected error.
    #[test]
    fn answers_against_the_subset() {
        let cases: &[(Value, Option<&str>)] = &[
            (json!({"target": "source.ip", "confidence": 0.9}), None),
            (
                json!({"target": "user.name", "confidence": 1, "reason": null, "count": 3.0}),
                None,
            ),
            (
                json!({"target": "user.name", "confidence": 0, "reason": "short", "tags": ["a", "b"]}),
                None,
            ),
            (
                json!({"target": "user.name", "confidence": 0, "nested": {"ok": true}, "weird key": null}),
                None,
            ),
            (
                json!({"target": "host.ip", "confidence": 0.5}),
                Some(
                    r#"$.target: "host.ip" is not one of ["source.ip","destination.ip","user.name"]"#,
                ),
            ),
            (
                json!({"confidence": 0.5}),
                Some(r#"$: missing required property "target""#),
            ),
            (
                json!({"target": "user.name", "confidence": 0.5, "extra": 1}),
                Some("$.extra: property is not allowed"),
            ),
            (
                json!({"target": "user.name", "confidence": "high"}),
                Some("$.confidence: expected number, got string"),
            ),
            (
                json!({"target": "user.name", "confidence": 1.5}),
                Some("$.confidence: 1.5 is above the maximum 1"),
            ),
            (
                json!({"target": "user.name", "confidence": -1}),
                Some("$.confidence: -1 is below the minimum 0"),
            ),
            (
                json!({"target": "user.name", "confidence": 1, "reason": 3}),
                Some("$.reason: expected string or null, got number"),
            ),
            (
                json!({"target": "user.name", "confidence": 1, "reason": "far too long"}),
                Some("$.reason: 12 characters, more than the maximum 10"),
            ),
            (
                json!({"target": "user.name", "confidence": 1, "count": 2.5}),
                Some("$.count: expected integer, got number"),
            ),
            (
                json!({"target": "user.name", "confidence": 1, "tags": []}),
                Some("$.tags: 0 items, fewer than the minimum 1"),
            ),
            (
                json!({"target": "user.name", "confidence": 1, "tags": ["a", "b", "c"]}),
                Some("$.tags: 3 items, more than the maximum 2"),
            ),
            (
                json!({"target": "user.name", "confidence": 1, "tags": ["a", 2]}),
                Some("$.tags[1]: expected string, got number"),
            ),
            (
                json!({"target": "user.name", "confidence": 1, "nested": {}}),
                Some(r#"$.nested: missing required property "ok""#),
            ),
            (
                json!({"target": "user.name", "confidence": 1, "nested": {"ok": true, "no": 1}}),
                Some("$.nested.no: property is not allowed"),
            ),
            (
                json!({"target": "user.name", "confidence": 1, "weird key": 1}),
                Some(r#"$["weird key"]: expected null, got number"#),
            ),
            (json!(["target"]), Some("$: expected object, got array")),
        ];
        for (answer, expected) in cases {
            let got = validate(&answer_schema(), answer).err();
            assert_eq!(got.as_deref(), *expected, "answer {answer}");
        }
    }

    #[test]
    fn schema_shapes() {
        let cases: &[(Value, Value, Option<&str>)] = &[
            (json!(true), json!(42), None),
            (json!(false), json!(42), Some("$: no value is allowed here")),
            (json!({}), json!({"anything": [1]}), None),
            (json!({"title": "t", "description": "d"}), json!(1), None),
            (json!({"const": 1}), json!(1.0), None),
            (json!({"enum": [1, 2]}), json!(2.0), None),
            (
                json!({"const": "a"}),
                json!("b"),
                Some(r#"$: "b" is not "a""#),
            ),
            (
                json!({"type": "object", "additionalProperties": {"type": "integer"}}),
                json!({"a": 1, "b": "x"}),
                Some("$.b: expected integer, got string"),
            ),
            (
                json!({"anyOf": [{"type": "string"}]}),
                json!("x"),
                Some("$: the schema uses unsupported keyword `anyOf`"),
            ),
            (
                json!({"type": "string", "pattern": "^a"}),
                json!("x"),
                Some("$: the schema uses unsupported keyword `pattern`"),
            ),
            (
                json!({"type": "text"}),
                json!("x"),
                Some("$: the schema names unknown type `text`"),
            ),
            (
                json!({"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}),
                json!([[1], [2, "x"]]),
                Some("$[1][1]: expected integer, got string"),
            ),
            (json!({"type": "string", "maxLength": 2}), json!("éé"), None),
            (
                json!("object"),
                json!({}),
                Some("$: the schema is not an object: \"object\""),
            ),
        ];
        for (schema, value, expected) in cases {
            let got = validate(schema, value).err();
            assert_eq!(got.as_deref(), *expected, "schema {schema} value {value}");
        }
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "x".repeat(1000);
        let err = validate(&json!({"enum": ["a"]}), &json!(long)).unwrap_err();
        assert!(err.len() < 300, "{err}");
    }
}

//! SPL functions: the JSON family (`json_parse`, `json_extract`, `json_extract_scalar`, ...).
//!
//! Owns the JSON functions' entries. Inputs may be JSON values or VARCHAR text holding JSON
//! (every raw SLS field is text; SPL.md 7 #19e passes a VARCHAR where JSON is expected): text
//! that is not valid JSON gives NULL everywhere except in `json_parse`, which fails.
//! Constant paths are compiled once in `prepare` (bad path → plan-time diagnostic); dynamic
//! ones are compiled per call. Depends on `jsonpath` and the registry only.

use super::jsonpath::JsonPath;
use super::{FnError, FnResult, Function, Kind, Param, Prepared, ex};
use crate::diagnostic::codes;
use crate::event::Value;
use serde_json::Value as Json;
use std::borrow::Cow;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new(
        "json_parse",
        &[Param::req("text", Kind::Str)],
        Kind::Json,
        "Parses text as JSON; fails on invalid JSON (wrap in try() to get NULL instead).",
        &[
            ex(r#"json_parse('{"x": {"a": 1, "b": 2}}')"#, r#"{"x": {"a": 1, "b": 2}}"#),
            ex("json_parse('[1, 2, 3]')", "[1, 2, 3]"),
            ex("try(json_parse('not json'))", "null"),
        ],
        json_parse,
    ),
    Function::new(
        "json_format",
        &[Param::req("json", Kind::Json)],
        Kind::Str,
        "Serializes a JSON value to compact text (VARCHAR holding JSON is re-serialized; other text becomes a JSON string).",
        &[
            ex(r#"json_format(json_parse('{"a": 1, "b": [true, null]}'))"#, r#""{\"a\":1,\"b\":[true,null]}""#),
            ex(r#"json_format(json_parse('"abc"'))"#, r#""\"abc\"""#),
        ],
        json_format,
    ),
    Function::new(
        "json_extract",
        &[Param::req("json", Kind::Any), Param::req("path", Kind::Str)],
        Kind::Json,
        "The JSON value at a JSONPath in JSON or JSON text; NULL when the path is missing or the text is not JSON.",
        &[
            ex(r#"json_extract('{"body": {"a": 1, "b": 2}}', '$.body')"#, r#"{"a": 1, "b": 2}"#),
            ex(r#"json_extract('{"body": {"a": 1, "b": 2}}', '$.body.a')"#, "1"),
            ex(r#"json_extract('{"req.body": "<arg3>x</arg3>"}', '$["req.body"]')"#, r#""<arg3>x</arg3>""#),
            ex(r#"json_extract('{"a": [{"id": 1}, {"id": 2}]}', '$.a[*].id')"#, "[1, 2]"),
            ex(r#"json_extract('{"a": 1}', '$.b')"#, "null"),
        ],
        json_extract,
    )
    .prepare(prepare_path),
    Function::new(
        "json_extract_scalar",
        &[Param::req("json", Kind::Any), Param::req("path", Kind::Str)],
        Kind::Str,
        "The scalar at a JSONPath as VARCHAR (numbers as written, booleans as 'true'/'false'); NULL when missing, null, an object or an array.",
        &[
            ex(r#"json_extract_scalar('{"a": 1}', '$.a')"#, r#""1""#),
            ex(r#"json_extract_scalar(json_parse('{"x": {"a": 1, "b": 2}}'), '$.x.a')"#, r#""1""#),
            ex(r#"json_extract_scalar('{"schedule": {"type": "cron"}}', '$.schedule.type')"#, r#""cron""#),
            ex(r#"json_extract_scalar('{"a": [1, 2]}', '$.a')"#, "null"),
            ex(r#"json_extract_scalar('{"a": [1, 2]}', '$.a[1]')"#, r#""2""#),
        ],
        json_extract_scalar,
    )
    .prepare(prepare_path),
    Function::new(
        "json_size",
        &[Param::req("json", Kind::Any), Param::req("path", Kind::Str)],
        Kind::Int,
        "The number of members or elements of the object or array at a JSONPath (0 for scalars, NULL when missing).",
        &[
            ex(r#"json_size('{"x": {"a": 1, "b": 2}}', '$.x')"#, "2"),
            ex(r#"json_size('{"x": [1, 2, 3]}', '$.x')"#, "3"),
            ex(r#"json_size('{"x": {"a": 1, "b": 2}}', '$.x.a')"#, "0"),
        ],
        json_size,
    )
    .prepare(prepare_path),
    Function::new(
        "json_array_length",
        &[Param::req("json", Kind::Any)],
        Kind::Int,
        "The length of a JSON array; NULL when the value is not an array.",
        &[ex("json_array_length('[1, 2, 3]')", "3"), ex(r#"json_array_length('{"a": 1}')"#, "null")],
        json_array_length,
    ),
    Function::new(
        "json_array_contains",
        &[Param::req("json", Kind::Any), Param::req("value", Kind::Any)],
        Kind::Bool,
        "Whether a JSON array contains a value (numbers compare numerically, strings and booleans exactly); NULL when not an array.",
        &[
            ex("json_array_contains('[1, 2, 3]', 2)", "true"),
            ex(r#"json_array_contains('["a", "b"]', 'c')"#, "false"),
            super::ex_in("json_array_contains(a, 2)", r#"{"a": "[1, 2, 3]"}"#, "true"),
        ],
        json_array_contains,
    ),
    Function::new(
        "json_array_get",
        &[Param::req("json", Kind::Any), Param::req("index", Kind::Int)],
        Kind::Json,
        "The element of a JSON array at a 0-based index (negative counts from the end); NULL when out of range.",
        &[
            ex(r#"json_array_get('["a", [3, 9], "c"]', 1)"#, "[3, 9]"),
            ex(r#"json_array_get('["a", [3, 9], "c"]', -1)"#, r#""c""#),
            ex(r#"json_array_get('["a", [3, 9], "c"]', 10)"#, "null"),
        ],
        json_array_get,
    ),
    Function::new(
        "is_json_scalar",
        &[Param::req("json", Kind::Any)],
        Kind::Bool,
        "Whether a JSON value is a scalar (number, string, boolean or null) rather than an object or array.",
        &[ex("is_json_scalar('1')", "true"), ex("is_json_scalar('[1, 2, 3]')", "false")],
        is_json_scalar,
    ),
    Function::new(
        "json_object_keys",
        &[Param::req("json", Kind::Any)],
        Kind::Array,
        "The keys of a JSON object in document order; NULL when the value is not an object.",
        &[ex(r#"json_object_keys('{"b": 1, "a": {"c": 2}}')"#, r#"["b", "a"]"#)],
        json_object_keys,
    )
    .extension(),
];

// ---- input helpers ----------------------------------------------------------------------

/// The JSON document an argument stands for: JSON as is, VARCHAR parsed (`None` when the text
/// is not JSON), arrays/maps/rows and scalars converted.
pub(crate) fn json_input(v: &Value) -> Option<Cow<'_, Json>> {
    match v {
        Value::Null | Value::Lambda(_) => None,
        Value::Json(j) => Some(Cow::Borrowed(j.tree())),
        Value::Str(t) => serde_json::from_str::<Json>(t).ok().map(Cow::Owned),
        other => Some(Cow::Owned(other.to_json())),
    }
}

fn path_error(message: String) -> FnError {
    FnError::arg(1, message).with_code(codes::BAD_JSONPATH)
}

/// Compiles a constant path argument (index 1) at plan time.
fn prepare_path(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    match args.get(1) {
        Some(Some(Value::Null)) | Some(None) | None => Ok(Prepared::none()),
        Some(Some(v)) => {
            let text = v.to_text().unwrap_or_default();
            JsonPath::parse(&text)
                .map(Prepared::new)
                .map_err(path_error)
        }
    }
}

/// The compiled path: from `prepare` when constant, else compiled now.
fn path_of<'a>(args: &[Value], prepared: &'a Prepared) -> Result<Cow<'a, JsonPath>, FnError> {
    if let Some(p) = prepared.get::<JsonPath>() {
        return Ok(Cow::Borrowed(p));
    }
    let text = super::text_arg(args, 1)?;
    JsonPath::parse(&text).map(Cow::Owned).map_err(path_error)
}

/// A JSON value as an SPL value: kept as JSON (Presto's json_extract returns JSON).
fn json_value(j: Json) -> Value {
    Value::json(j)
}

/// The text of a JSON scalar (`None` for null, objects and arrays).
pub(crate) fn scalar_text(j: &Json) -> Option<String> {
    match j {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

// ---- functions --------------------------------------------------------------------------

fn json_parse(args: &[Value], _: &Prepared, _: &mut dyn super::Env) -> FnResult {
    match &args[0] {
        Value::Json(j) => Ok(Value::Json(j.clone())),
        v => {
            let text = v.to_text().unwrap_or_default();
            serde_json::from_str::<Json>(&text)
                .map(json_value)
                .map_err(|e| {
                    let shown: String = text.chars().take(60).collect();
                    let more = if text.chars().count() > 60 { "..." } else { "" };
                    FnError::arg(0, format!("invalid JSON '{shown}{more}': {e}"))
                })
        }
    }
}

fn json_format(args: &[Value], _: &Prepared, _: &mut dyn super::Env) -> FnResult {
    let text = match &args[0] {
        Value::Json(j) => j.to_string(),
        Value::Str(t) => match serde_json::from_str::<Json>(t) {
            Ok(j) => j.to_string(),
            Err(_) => Json::String(t.to_string()).to_string(),
        },
        other => other.to_json().to_string(),
    };
    Ok(Value::string(text))
}

fn json_extract(args: &[Value], prepared: &Prepared, _: &mut dyn super::Env) -> FnResult {
    let path = path_of(args, prepared)?;
    let Some(doc) = json_input(&args[0]) else {
        return Ok(Value::Null);
    };
    Ok(match path.extract(&doc) {
        Some(v) => json_value(v.into_owned()),
        None => Value::Null,
    })
}

fn json_extract_scalar(args: &[Value], prepared: &Prepared, _: &mut dyn super::Env) -> FnResult {
    let path = path_of(args, prepared)?;
    let Some(doc) = json_input(&args[0]) else {
        return Ok(Value::Null);
    };
    if path.has_wildcard() {
        return Ok(Value::Null);
    }
    Ok(path
        .first(&doc)
        .and_then(scalar_text)
        .map_or(Value::Null, Value::string))
}

fn json_size(args: &[Value], prepared: &Prepared, _: &mut dyn super::Env) -> FnResult {
    let path = path_of(args, prepared)?;
    let Some(doc) = json_input(&args[0]) else {
        return Ok(Value::Null);
    };
    Ok(match path.extract(&doc).as_deref() {
        Some(Json::Array(a)) => Value::Int(a.len() as i64),
        Some(Json::Object(o)) => Value::Int(o.len() as i64),
        Some(_) => Value::Int(0),
        None => Value::Null,
    })
}

fn json_array_length(args: &[Value], _: &Prepared, _: &mut dyn super::Env) -> FnResult {
    Ok(match json_input(&args[0]).as_deref() {
        Some(Json::Array(a)) => Value::Int(a.len() as i64),
        _ => Value::Null,
    })
}

fn json_array_contains(args: &[Value], _: &Prepared, _: &mut dyn super::Env) -> FnResult {
    let Some(doc) = json_input(&args[0]) else {
        return Ok(Value::Null);
    };
    let Json::Array(items) = &*doc else {
        return Ok(Value::Null);
    };
    let needle = &args[1];
    let found = items.iter().any(|item| match (item, needle) {
        (Json::Number(n), Value::Int(i)) => n.as_i64() == Some(*i) || n.as_f64() == Some(*i as f64),
        (Json::Number(n), Value::Double(d)) => n.as_f64() == Some(*d),
        (Json::String(s), Value::Str(t)) => s.as_str() == t.as_str(),
        (Json::Bool(b), Value::Bool(c)) => b == c,
        (j, Value::Json(k)) => j == k.tree(),
        _ => false,
    });
    Ok(Value::Bool(found))
}

fn json_array_get(args: &[Value], _: &Prepared, _: &mut dyn super::Env) -> FnResult {
    let index = super::int_arg(args, 1)?;
    let Some(doc) = json_input(&args[0]) else {
        return Ok(Value::Null);
    };
    let Json::Array(items) = &*doc else {
        return Ok(Value::Null);
    };
    let i = if index < 0 {
        items.len() as i64 + index
    } else {
        index
    };
    Ok(usize::try_from(i)
        .ok()
        .and_then(|i| items.get(i))
        .map_or(Value::Null, |j| json_value(j.clone())))
}

fn is_json_scalar(args: &[Value], _: &Prepared, _: &mut dyn super::Env) -> FnResult {
    Ok(match json_input(&args[0]).as_deref() {
        Some(Json::Array(_) | Json::Object(_)) => Value::Bool(false),
        Some(_) => Value::Bool(true),
        None => Value::Null,
    })
}

fn json_object_keys(args: &[Value], _: &Prepared, _: &mut dyn super::Env) -> FnResult {
    Ok(match json_input(&args[0]).as_deref() {
        Some(Json::Object(o)) => Value::array(o.keys().map(|k| Value::str(k)).collect()),
        _ => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Env, Function};
    use super::*;
    use crate::event::Timestamp;
    use serde_json::json;

    struct NoEnv;
    impl Env for NoEnv {
        fn apply(&mut self, _: &Value, _: &[Value]) -> FnResult {
            Err(FnError::new("no lambdas here"))
        }
        fn now(&self) -> Timestamp {
            Timestamp::utc(0)
        }
    }

    fn func(name: &str) -> &'static Function {
        FUNCTIONS
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    /// Calls like the planner would: constants prepared, NULLs propagated.
    fn call(name: &str, args: &[Value]) -> FnResult {
        let f = func(name);
        let prepared = match f.prepare {
            Some(p) => p(&args.iter().cloned().map(Some).collect::<Vec<_>>())?,
            None => Prepared::none(),
        };
        if f.null_propagating && args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        (f.eval)(args, &prepared, &mut NoEnv)
    }

    /// Calls with a non-constant path (compiled at run time).
    fn call_dynamic(name: &str, args: &[Value]) -> FnResult {
        (func(name).eval)(args, &Prepared::none(), &mut NoEnv)
    }

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    fn j(v: Json) -> Value {
        Value::json(v)
    }

    #[test]
    fn parse_and_format() {
        assert_eq!(
            call("json_parse", &[s(r#"{"x": {"a": 1}}"#)]).unwrap(),
            j(json!({"x": {"a": 1}}))
        );
        assert_eq!(
            call("json_parse", &[s("\"abc\"")]).unwrap(),
            j(json!("abc"))
        );
        assert_eq!(call("json_parse", &[s("12")]).unwrap(), j(json!(12)));
        let err = call("json_parse", &[s("{bad")]).unwrap_err();
        assert!(
            err.message.contains("invalid JSON '{bad'"),
            "{}",
            err.message
        );
        assert_eq!(call("json_parse", &[Value::Null]).unwrap(), Value::Null);
        assert_eq!(
            call("json_format", &[j(json!({"a": [1, null]}))]).unwrap(),
            s(r#"{"a":[1,null]}"#)
        );
        assert_eq!(
            call("json_format", &[s(r#"{ "a" : 1 }"#)]).unwrap(),
            s(r#"{"a":1}"#)
        );
        assert_eq!(call("json_format", &[s("plain")]).unwrap(), s(r#""plain""#));
        assert_eq!(call("json_format", &[Value::Int(3)]).unwrap(), s("3"));
    }

    #[test]
    fn deep_json_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(call("json_parse", &[s(&deep)]).is_err());
        assert_eq!(
            call("json_extract", &[s(&deep), s("$[0]")]).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn extract_from_text_and_json() {
        let doc = r#"{"body": {"a": 1, "b": "two", "c": [1, 2], "d": null, "e": 1.5, "f": true}}"#;
        assert_eq!(
            call("json_extract", &[s(doc), s("$.body.a")]).unwrap(),
            j(json!(1))
        );
        assert_eq!(
            call("json_extract", &[s(doc), s("$.body.b")]).unwrap(),
            j(json!("two"))
        );
        assert_eq!(
            call("json_extract", &[s(doc), s("$.body.c")]).unwrap(),
            j(json!([1, 2]))
        );
        assert_eq!(
            call("json_extract", &[s(doc), s("$.body.d")]).unwrap(),
            j(Json::Null)
        );
        assert_eq!(
            call("json_extract", &[s(doc), s("$.nope")]).unwrap(),
            Value::Null
        );
        assert_eq!(
            call("json_extract", &[s("not json"), s("$.a")]).unwrap(),
            Value::Null
        );
        assert_eq!(
            call("json_extract", &[Value::Null, s("$.a")]).unwrap(),
            Value::Null
        );
        let parsed = call("json_parse", &[s(doc)]).unwrap();
        assert_eq!(
            call("json_extract", &[parsed.clone(), s("$.body.e")]).unwrap(),
            j(json!(1.5))
        );
        assert_eq!(
            call_dynamic("json_extract", &[parsed, s("$.body.f")]).unwrap(),
            j(json!(true))
        );
        // The text a typed JSON scalar prints as (LoongCollector TestExtend expects `1`).
        let one = call("json_extract", &[s(doc), s("$.body.a")]).unwrap();
        assert_eq!(one.to_text().unwrap(), "1");
    }

    #[test]
    fn extract_scalar() {
        let doc = s(
            r#"{"a": 1, "b": "x", "c": [1], "d": {"e": 2}, "f": false, "g": null, "h": 2.50, "i": -0}"#,
        );
        let get = |p: &str| call("json_extract_scalar", &[doc.clone(), s(p)]).unwrap();
        assert_eq!(get("$.a"), s("1"));
        assert_eq!(get("$.b"), s("x"));
        assert_eq!(get("$.c"), Value::Null);
        assert_eq!(get("$.c[0]"), s("1"));
        assert_eq!(get("$.d"), Value::Null);
        assert_eq!(get("$.d.e"), s("2"));
        assert_eq!(get("$.f"), s("false"));
        assert_eq!(get("$.g"), Value::Null);
        assert_eq!(get("$.h"), s("2.5"));
        assert_eq!(get("$.missing"), Value::Null);
        assert_eq!(get("$.c[*]"), Value::Null);
    }

    #[test]
    fn bad_paths_fail_at_plan_time_and_at_run_time() {
        let prep = func("json_extract").prepare.unwrap();
        let err = prep(&[None, Some(s("a.b"))]).unwrap_err();
        assert_eq!(err.arg, Some(1));
        assert_eq!(err.code, codes::BAD_JSONPATH);
        assert!(prep(&[None, None]).unwrap().get::<JsonPath>().is_none());
        assert!(
            prep(&[None, Some(s("$.a"))])
                .unwrap()
                .get::<JsonPath>()
                .is_some()
        );
        let err = call_dynamic("json_extract_scalar", &[s("{}"), s("$[")]).unwrap_err();
        assert_eq!(err.arg, Some(1));
    }

    #[test]
    fn sizes_and_arrays() {
        let doc = s(r#"{"x": {"a": 1, "b": 2}, "y": [1, 2, 3], "z": "s"}"#);
        assert_eq!(
            call("json_size", &[doc.clone(), s("$.x")]).unwrap(),
            Value::Int(2)
        );
        assert_eq!(
            call("json_size", &[doc.clone(), s("$.y")]).unwrap(),
            Value::Int(3)
        );
        assert_eq!(
            call("json_size", &[doc.clone(), s("$.z")]).unwrap(),
            Value::Int(0)
        );
        assert_eq!(
            call("json_size", &[doc.clone(), s("$.w")]).unwrap(),
            Value::Null
        );
        assert_eq!(
            call("json_array_length", &[s("[1, [2], 3]")]).unwrap(),
            Value::Int(3)
        );
        assert_eq!(call("json_array_length", &[s("{}")]).unwrap(), Value::Null);
        assert_eq!(
            call("json_array_length", &[s("nope")]).unwrap(),
            Value::Null
        );
        assert_eq!(
            call("json_array_length", &[Value::array(vec![Value::Int(1)])]).unwrap(),
            Value::Int(1)
        );
    }

    #[test]
    fn array_contains_and_get() {
        let arr = s(r#"[1, 2.5, "a", true, null, {"k": 1}]"#);
        let has = |v: Value| call("json_array_contains", &[arr.clone(), v]).unwrap();
        assert_eq!(has(Value::Int(1)), Value::Bool(true));
        assert_eq!(has(Value::Double(2.5)), Value::Bool(true));
        assert_eq!(has(Value::Double(1.0)), Value::Bool(true));
        assert_eq!(has(s("a")), Value::Bool(true));
        assert_eq!(has(s("1")), Value::Bool(false));
        assert_eq!(has(Value::Bool(true)), Value::Bool(true));
        assert_eq!(has(Value::Bool(false)), Value::Bool(false));
        assert_eq!(has(Value::Int(7)), Value::Bool(false));
        assert_eq!(has(j(json!({"k": 1}))), Value::Bool(true));
        assert_eq!(has(Value::Null), Value::Null);
        assert_eq!(
            call("json_array_contains", &[s("{}"), Value::Int(1)]).unwrap(),
            Value::Null
        );
        assert_eq!(
            call("json_array_contains", &[s("[1, 2, 3]"), Value::Int(2)]).unwrap(),
            Value::Bool(true)
        );

        let get = |i: i64| call("json_array_get", &[arr.clone(), Value::Int(i)]).unwrap();
        assert_eq!(get(0), j(json!(1)));
        assert_eq!(get(2), j(json!("a")));
        assert_eq!(get(-1), j(json!({"k": 1})));
        assert_eq!(get(-6), j(json!(1)));
        assert_eq!(get(-7), Value::Null);
        assert_eq!(get(6), Value::Null);
        assert_eq!(get(i64::MIN), Value::Null);
        assert_eq!(get(i64::MAX), Value::Null);
    }

    #[test]
    fn scalars_and_keys() {
        assert_eq!(
            call("is_json_scalar", &[s("1")]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call("is_json_scalar", &[s("null")]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call("is_json_scalar", &[s("{}")]).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            call("is_json_scalar", &[s("not json")]).unwrap(),
            Value::Null
        );
        assert_eq!(
            call("is_json_scalar", &[j(json!("x"))]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call("json_object_keys", &[s(r#"{"b": 1, "a": 2}"#)]).unwrap(),
            Value::array(vec![s("b"), s("a")])
        );
        assert_eq!(call("json_object_keys", &[s("[1]")]).unwrap(), Value::Null);
    }
}

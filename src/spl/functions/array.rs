//! SPL functions: the array and map family, including the higher-order functions that take
//! lambdas (`transform`, `filter`, `reduce`, `map_filter`...).
//!
//! Owns the array/map entries. Arrays are 1-based. Array arguments may also be JSON arrays
//! or VARCHAR text holding one (`'[1, 2, 3]'`: SLS fields are text), map arguments JSON
//! objects or text holding one; elements convert with `Value::from_json`. Lambdas arrive as
//! `Value::Lambda` and are called through `Env::apply`. Element equality is SQL equality
//! with lenient coercion (`ops::equal`); set operations (`array_distinct`, `array_union`,
//! ...) compare by value and type. Results that could grow without bound (`sequence`,
//! `repeat`, `combinations`) are capped at `MAX_ELEMENTS`. Sorting never panics, whatever
//! a comparator lambda returns.
//!
//! Depends on `ops`, `event` and the registry. `reverse` and `concat` belong to string.rs.

use super::{Env, FnError, FnResult, Function, Kind, Param, Prepared, ex};
use crate::event::Value;
use crate::spl::ast::BinaryOp;
use crate::spl::ops::{self, Coercion};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

/// The most elements `sequence`, `repeat` and `combinations` may produce.
pub const MAX_ELEMENTS: usize = 10_000;

const A: Kind = Kind::Array;
const M: Kind = Kind::Map;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new(
        "cardinality",
        &[Param::req("x", Kind::Any)],
        Kind::Int,
        "The number of elements of an array or entries of a map.",
        &[
            ex("cardinality(ARRAY[1, 2, 3])", "3"),
            ex("cardinality(map(ARRAY['a'], ARRAY[1]))", "1"),
        ],
        cardinality,
    ),
    Function::new(
        "element_at",
        &[Param::req("x", Kind::Any), Param::req("key", Kind::Any)],
        Kind::Any,
        "The array element at a 1-based index (negative counts from the end) or the map value of a key; NULL when absent.",
        &[
            ex("element_at(ARRAY['a', 'b', 'c'], 2)", r#""b""#),
            ex("element_at(ARRAY['a', 'b', 'c'], -1)", r#""c""#),
            ex("element_at(ARRAY['a', 'b', 'c'], 5)", "null"),
            ex("element_at(map(ARRAY['a', 'b'], ARRAY[1, 2]), 'b')", "2"),
        ],
        element_at,
    ),
    Function::new(
        "contains",
        &[Param::req("array", A), Param::req("value", Kind::Any)],
        Kind::Bool,
        "Whether an array contains a value (NULL when not found but the array has NULLs).",
        &[
            ex("contains(ARRAY[1, 2, 3], 2)", "true"),
            ex("contains(ARRAY['a', 'b'], 'c')", "false"),
        ],
        contains,
    ),
    Function::new(
        "array_join",
        &[
            Param::req("array", A),
            Param::req("separator", Kind::Str),
            Param::opt("null_replacement", Kind::Str),
        ],
        Kind::Str,
        "Joins the elements as text with a separator, skipping NULLs unless a replacement is given.",
        &[
            ex("array_join(ARRAY['a', NULL, 'b'], ',')", r#""a,b""#),
            ex(
                "array_join(ARRAY['a', NULL, 'b'], ',', 'null')",
                r#""a,null,b""#,
            ),
            ex("array_join(ARRAY[1, 2, 3], '-')", r#""1-2-3""#),
        ],
        array_join,
    ),
    Function::new(
        "array_distinct",
        &[Param::req("array", A)],
        A,
        "The array without duplicates, first occurrences kept in order.",
        &[ex(
            "array_distinct(ARRAY[1, 2, 1, NULL, NULL])",
            "[1, 2, null]",
        )],
        array_distinct,
    ),
    Function::new(
        "array_sort",
        &[
            Param::req("array", A),
            Param::opt("comparator", Kind::Lambda(2)),
        ],
        A,
        "Sorts ascending with NULLs last, or with a comparator lambda returning a negative, zero or positive number.",
        &[
            ex("array_sort(ARRAY[3, NULL, 1, 2])", "[1, 2, 3, null]"),
            ex(
                "array_sort(ARRAY[1, 3, 2], (x, y) -> IF(x < y, 1, IF(x = y, 0, -1)))",
                "[3, 2, 1]",
            ),
        ],
        array_sort,
    ),
    Function::new(
        "array_max",
        &[Param::req("array", A)],
        Kind::Any,
        "The largest element; NULL when the array is empty or has a NULL.",
        &[ex("array_max(ARRAY[1, 7, 3])", "7")],
        array_max,
    ),
    Function::new(
        "array_min",
        &[Param::req("array", A)],
        Kind::Any,
        "The smallest element; NULL when the array is empty or has a NULL.",
        &[ex("array_min(ARRAY[4, 7, 3])", "3")],
        array_min,
    ),
    Function::new(
        "array_sum",
        &[Param::req("array", A)],
        Kind::Number,
        "The sum of the non-NULL elements (0 when there are none).",
        &[
            ex("array_sum(ARRAY[1, 2, NULL, 4])", "7"),
            ex("array_sum(ARRAY[1.5, 2])", "3.5"),
        ],
        array_sum,
    ),
    Function::new(
        "array_average",
        &[Param::req("array", A)],
        Kind::Double,
        "The average of the non-NULL elements; NULL when there are none.",
        &[ex("array_average(ARRAY[1, 2, NULL, 3])", "2.0")],
        array_average,
    ),
    Function::new(
        "array_position",
        &[
            Param::req("array", A),
            Param::req("value", Kind::Any),
            Param::opt("instance", Kind::Int),
        ],
        Kind::Int,
        "The 1-based position of the n-th (default first; negative from the end) occurrence of a value, 0 when absent.",
        &[
            ex("array_position(ARRAY[10, 20, 30, 20], 20)", "2"),
            ex("array_position(ARRAY[10, 20, 30, 20], 20, -1)", "4"),
        ],
        array_position,
    ),
    Function::new(
        "array_except",
        &[Param::req("x", A), Param::req("y", A)],
        A,
        "The distinct elements of x that are not in y.",
        &[ex("array_except(ARRAY[1, 2, 3, 1], ARRAY[2])", "[1, 3]")],
        array_except,
    ),
    Function::new(
        "array_intersect",
        &[Param::req("x", A), Param::req("y", A)],
        A,
        "The distinct elements of x that are also in y.",
        &[ex(
            "array_intersect(ARRAY[1, 2, 3], ARRAY[3, 2, 5])",
            "[2, 3]",
        )],
        array_intersect,
    ),
    Function::new(
        "array_union",
        &[Param::req("x", A), Param::req("y", A)],
        A,
        "The distinct elements of x and y, in order of appearance.",
        &[ex("array_union(ARRAY[1, 2], ARRAY[2, 3])", "[1, 2, 3]")],
        array_union,
    ),
    Function::new(
        "array_remove",
        &[Param::req("array", A), Param::req("value", Kind::Any)],
        A,
        "The array without the elements equal to a value.",
        &[ex("array_remove(ARRAY[1, 2, 1, 3], 1)", "[2, 3]")],
        array_remove,
    ),
    Function::new(
        "array_normalize",
        &[Param::req("array", A), Param::req("p", Kind::Number)],
        A,
        "Divides each element by the array's p-norm (the array as doubles; unchanged when the norm is 0).",
        &[ex("array_normalize(ARRAY[3, 4], 2)", "[0.6, 0.8]")],
        array_normalize,
    ),
    Function::new(
        "arrays_overlap",
        &[Param::req("x", A), Param::req("y", A)],
        Kind::Bool,
        "Whether two arrays share a non-NULL element (NULL when they do not but one has a NULL).",
        &[
            ex("arrays_overlap(ARRAY[1, 2], ARRAY[2, 3])", "true"),
            ex("arrays_overlap(ARRAY[1], ARRAY[3])", "false"),
        ],
        arrays_overlap,
    ),
    Function::new(
        "slice",
        &[
            Param::req("array", A),
            Param::req("start", Kind::Int),
            Param::req("length", Kind::Int),
        ],
        A,
        "Up to length elements from a 1-based start (negative counts from the end).",
        &[
            ex("slice(ARRAY[1, 2, 3, 4], 2, 2)", "[2, 3]"),
            ex("slice(ARRAY[1, 2, 3, 4], -2, 5)", "[3, 4]"),
        ],
        slice,
    ),
    Function::new(
        "sequence",
        &[
            Param::req("start", Kind::Any),
            Param::req("stop", Kind::Any),
            Param::opt("step", Kind::Int),
        ],
        A,
        "The integers (or dates, step in days) from start to stop inclusive by step (default 1 or -1); at most 10000 elements.",
        &[
            ex("sequence(1, 5)", "[1, 2, 3, 4, 5]"),
            ex("sequence(5, 1, -2)", "[5, 3, 1]"),
        ],
        sequence,
    ),
    Function::new(
        "repeat",
        &[
            Param::req("element", Kind::Any),
            Param::req("count", Kind::Int),
        ],
        A,
        "An array of an element repeated count times (at most 10000).",
        &[ex("repeat('ab', 3)", r#"["ab", "ab", "ab"]"#)],
        repeat,
    ),
    Function::new(
        "shuffle",
        &[Param::req("array", A)],
        A,
        "The elements in a random order.",
        &[ex("array_sort(shuffle(ARRAY[3, 1, 2]))", "[1, 2, 3]")],
        shuffle,
    ),
    Function::new(
        "combinations",
        &[Param::req("array", A), Param::req("n", Kind::Int)],
        A,
        "All n-element combinations of the array's elements (n at most 5, at most 10000 results).",
        &[ex(
            "combinations(ARRAY['a', 'b', 'c'], 2)",
            r#"[["a", "b"], ["a", "c"], ["b", "c"]]"#,
        )],
        combinations,
    ),
    Function::new(
        "flatten",
        &[Param::req("array", A)],
        A,
        "Concatenates an array of arrays into one array (NULL inner arrays are skipped).",
        &[ex("flatten(ARRAY[ARRAY[1, 2], ARRAY[3]])", "[1, 2, 3]")],
        flatten,
    ),
    Function::new(
        "transform",
        &[
            Param::req("array", A),
            Param::req("function", Kind::Lambda(1)),
        ],
        A,
        "Applies a lambda to each element.",
        &[
            ex(
                "transform(ARRAY[5, NULL, 6], x -> COALESCE(x, 0) + 1)",
                "[6, 1, 7]",
            ),
            ex("transform(ARRAY[1, 2], x -> x * 10)", "[10, 20]"),
        ],
        transform,
    ),
    Function::new(
        "filter",
        &[
            Param::req("array", A),
            Param::req("predicate", Kind::Lambda(1)),
        ],
        A,
        "The elements for which a lambda returns true.",
        &[ex("filter(ARRAY[5, -6, NULL, 7], x -> x > 0)", "[5, 7]")],
        filter,
    ),
    Function::new(
        "reduce",
        &[
            Param::req("array", A),
            Param::req("initial", Kind::Any),
            Param::req("combine", Kind::Lambda(2)),
            Param::req("finish", Kind::Lambda(1)),
        ],
        Kind::Any,
        "Folds the elements into a state with (state, x) -> state, then applies state -> result.",
        &[
            ex(
                "reduce(ARRAY[5, 20, NULL, 50], 0, (s, x) -> IF(x IS NULL, s, s + x), s -> s)",
                "75",
            ),
            ex(
                "reduce(ARRAY[1, 2, 3], 1, (s, x) -> s * x, s -> s * 10)",
                "60",
            ),
        ],
        reduce,
    )
    .handles_nulls(),
    Function::new(
        "zip",
        &[
            Param::req("array1", A),
            Param::req("array2", A),
            Param::variadic("more", A),
        ],
        A,
        "Merges arrays element-wise into an array of rows (shorter arrays padded with NULL).",
        &[
            ex(
                "zip(ARRAY[1, 2], ARRAY['a', 'b'])",
                r#"[[1, "a"], [2, "b"]]"#,
            ),
            ex("zip(ARRAY[1, 2], ARRAY['a'])", r#"[[1, "a"], [2, null]]"#),
        ],
        zip,
    ),
    Function::new(
        "zip_with",
        &[
            Param::req("x", A),
            Param::req("y", A),
            Param::req("function", Kind::Lambda(2)),
        ],
        A,
        "Merges two arrays element-wise with a lambda (the shorter padded with NULL).",
        &[ex(
            "zip_with(ARRAY[1, 2], ARRAY[10, 20], (x, y) -> x + y)",
            "[11, 22]",
        )],
        zip_with,
    ),
    Function::new(
        "all_match",
        &[
            Param::req("array", A),
            Param::req("predicate", Kind::Lambda(1)),
        ],
        Kind::Bool,
        "Whether the predicate is true for every element (true for an empty array; NULL when undecided because of NULLs).",
        &[
            ex("all_match(ARRAY[1, 2], x -> x > 0)", "true"),
            ex("all_match(ARRAY[1, -2], x -> x > 0)", "false"),
        ],
        all_match,
    ),
    Function::new(
        "any_match",
        &[
            Param::req("array", A),
            Param::req("predicate", Kind::Lambda(1)),
        ],
        Kind::Bool,
        "Whether the predicate is true for some element (false for an empty array; NULL when undecided because of NULLs).",
        &[ex("any_match(ARRAY[1, -2], x -> x < 0)", "true")],
        any_match,
    ),
    Function::new(
        "none_match",
        &[
            Param::req("array", A),
            Param::req("predicate", Kind::Lambda(1)),
        ],
        Kind::Bool,
        "Whether the predicate is true for no element (true for an empty array; NULL when undecided because of NULLs).",
        &[ex("none_match(ARRAY[1, 2], x -> x > 5)", "true")],
        none_match,
    ),
    Function::new(
        "map",
        &[Param::opt("keys", A), Param::opt("values", A)],
        M,
        "A map from an array of keys and an array of values (keys unique and not NULL); map() is empty.",
        &[
            ex(
                "map(ARRAY['foo', 'bar'], ARRAY[0, 1])",
                r#"{"foo": 0, "bar": 1}"#,
            ),
            ex("cardinality(map())", "0"),
        ],
        map,
    ),
    Function::new(
        "map_keys",
        &[Param::req("map", M)],
        A,
        "The keys of a map, in order.",
        &[ex(
            "map_keys(map(ARRAY['foo', 'bar'], ARRAY[0, 1]))",
            r#"["foo", "bar"]"#,
        )],
        map_keys,
    ),
    Function::new(
        "map_values",
        &[Param::req("map", M)],
        A,
        "The values of a map, in order.",
        &[ex(
            "map_values(map(ARRAY['foo', 'bar'], ARRAY[0, 1]))",
            "[0, 1]",
        )],
        map_values,
    ),
    Function::new(
        "map_entries",
        &[Param::req("map", M)],
        A,
        "The entries of a map as an array of (key, value) rows.",
        &[ex(
            "map_entries(map(ARRAY['foo', 'bar'], ARRAY[0, 1]))",
            r#"[["foo", 0], ["bar", 1]]"#,
        )],
        map_entries,
    ),
    Function::new(
        "map_from_entries",
        &[Param::req("entries", A)],
        M,
        "A map from an array of (key, value) rows.",
        &[ex(
            "map_from_entries(ARRAY[('a', 1), ('b', 2)])",
            r#"{"a": 1, "b": 2}"#,
        )],
        map_from_entries,
    ),
    Function::new(
        "map_concat",
        &[Param::req("map", M), Param::variadic("more", M)],
        M,
        "The union of maps; a later map's value wins for a repeated key.",
        &[ex(
            "map_concat(map(ARRAY['a'], ARRAY[1]), map(ARRAY['a', 'b'], ARRAY[2, 3]))",
            r#"{"a": 2, "b": 3}"#,
        )],
        map_concat,
    ),
    Function::new(
        "map_filter",
        &[
            Param::req("map", M),
            Param::req("predicate", Kind::Lambda(2)),
        ],
        M,
        "The entries for which (key, value) -> boolean is true.",
        &[ex(
            "map_filter(map(ARRAY['a', 'b'], ARRAY[1, 2]), (k, v) -> v > 1)",
            r#"{"b": 2}"#,
        )],
        map_filter,
    ),
    Function::new(
        "map_zip_with",
        &[
            Param::req("map1", M),
            Param::req("map2", M),
            Param::req("function", Kind::Lambda(3)),
        ],
        M,
        "Merges two maps over the union of their keys with (key, value1, value2) -> value (NULL for a missing side).",
        &[ex(
            "map_zip_with(map(ARRAY['a', 'b'], ARRAY[1, 2]), map(ARRAY['b', 'c'], ARRAY[10, 20]), (k, v1, v2) -> COALESCE(v1, 0) + COALESCE(v2, 0))",
            r#"{"a": 1, "b": 12, "c": 20}"#,
        )],
        map_zip_with,
    ),
    Function::new(
        "transform_keys",
        &[
            Param::req("map", M),
            Param::req("function", Kind::Lambda(2)),
        ],
        M,
        "Replaces each key with (key, value) -> new key (new keys must be unique and not NULL).",
        &[ex(
            "transform_keys(map(ARRAY['a', 'b'], ARRAY[1, 2]), (k, v) -> v * 10)",
            r#"{"10": 1, "20": 2}"#,
        )],
        transform_keys,
    ),
    Function::new(
        "transform_values",
        &[
            Param::req("map", M),
            Param::req("function", Kind::Lambda(2)),
        ],
        M,
        "Replaces each value with (key, value) -> new value.",
        &[ex(
            "transform_values(map(ARRAY['a', 'b'], ARRAY[1, 2]), (k, v) -> v * 10)",
            r#"{"a": 10, "b": 20}"#,
        )],
        transform_values,
    ),
];

// ---- argument helpers -------------------------------------------------------------------

/// Text holding JSON, parsed (`None` when it is not JSON).
fn parse_json_text(t: &str) -> Option<Json> {
    serde_json::from_str(t).ok()
}

fn from_json_array(items: &[Json]) -> Vec<Value> {
    items.iter().map(|j| Value::from_json(j.clone())).collect()
}

fn from_json_object(map: &serde_json::Map<String, Json>) -> Vec<(Value, Value)> {
    map.iter()
        .map(|(k, v)| (Value::str(k), Value::from_json(v.clone())))
        .collect()
}

fn short(v: &Value) -> String {
    let t = v.to_text().unwrap_or_default();
    let mut s: String = t.chars().take(40).collect();
    if t.chars().count() > 40 {
        s.push_str("...");
    }
    s
}

/// An array argument: ARRAY, a JSON array, or text holding a JSON array.
pub(super) fn array_arg(args: &[Value], i: usize) -> Result<Cow<'_, [Value]>, FnError> {
    let v = args
        .get(i)
        .ok_or_else(|| FnError::arg(i, "missing argument"))?;
    match v {
        Value::Array(a) => Ok(Cow::Borrowed(&a[..])),
        Value::Json(j) => match j.tree() {
            Json::Array(items) => Ok(Cow::Owned(from_json_array(items))),
            _ => Err(FnError::arg(
                i,
                "expected an array, got a JSON value that is not an array",
            )),
        },
        Value::Str(t) => match parse_json_text(t) {
            Some(Json::Array(items)) => Ok(Cow::Owned(from_json_array(&items))),
            _ => Err(FnError::arg(
                i,
                format!("expected an array, got text '{}'", short(v)),
            )),
        },
        other => Err(FnError::arg(
            i,
            format!("expected an array, got {}", other.type_name()),
        )),
    }
}

/// A map argument: MAP, a JSON object, or text holding a JSON object.
fn map_arg(args: &[Value], i: usize) -> Result<Cow<'_, [(Value, Value)]>, FnError> {
    let v = args
        .get(i)
        .ok_or_else(|| FnError::arg(i, "missing argument"))?;
    match v {
        Value::Map(m) => Ok(Cow::Borrowed(&m[..])),
        Value::Json(j) => match j.tree() {
            Json::Object(o) => Ok(Cow::Owned(from_json_object(o))),
            _ => Err(FnError::arg(
                i,
                "expected a map, got a JSON value that is not an object",
            )),
        },
        Value::Str(t) => match parse_json_text(t) {
            Some(Json::Object(o)) => Ok(Cow::Owned(from_json_object(&o))),
            _ => Err(FnError::arg(
                i,
                format!("expected a map, got text '{}'", short(v)),
            )),
        },
        other => Err(FnError::arg(
            i,
            format!("expected a map, got {}", other.type_name()),
        )),
    }
}

/// An array or a map, for the functions that take both.
enum Container<'a> {
    Array(Cow<'a, [Value]>),
    Map(Cow<'a, [(Value, Value)]>),
}

fn container_arg(args: &[Value], i: usize) -> Result<Container<'_>, FnError> {
    match &args[i] {
        Value::Map(_) => map_arg(args, i).map(Container::Map),
        Value::Json(j) if j.is_object() => map_arg(args, i).map(Container::Map),
        Value::Str(t) => match parse_json_text(t) {
            Some(Json::Object(o)) => Ok(Container::Map(Cow::Owned(from_json_object(&o)))),
            Some(Json::Array(a)) => Ok(Container::Array(Cow::Owned(from_json_array(&a)))),
            _ => Err(FnError::arg(
                i,
                format!("expected an array or a map, got text '{}'", short(&args[i])),
            )),
        },
        _ => array_arg(args, i).map(Container::Array),
    }
}

fn lambda_arg(args: &[Value], i: usize) -> Result<&Value, FnError> {
    match args.get(i) {
        Some(l @ Value::Lambda(_)) => Ok(l),
        _ => Err(FnError::arg(i, "expected a lambda such as x -> x + 1")),
    }
}

/// SQL equality of two elements (lenient coercion); `None` when NULL is involved.
fn eq(a: &Value, b: &Value) -> Option<bool> {
    ops::equal(a, b, Coercion::Lenient).ok().flatten()
}

/// A hashable identity for set operations: equal for values of the same type and value
/// (integers and integral doubles share one; JSON scalars count as their SQL values).
fn set_key(v: &Value) -> String {
    match v {
        Value::Null => "N".into(),
        Value::Bool(b) => format!("b{b}"),
        Value::Int(i) => format!("n{i}"),
        Value::Double(d) if d.fract() == 0.0 && d.abs() < 9e15 => format!("n{}", *d as i64),
        Value::Double(d) => format!("d{d}"),
        Value::Str(t) => format!("s{}", t.as_str()),
        Value::Json(j) if !j.is_array() && !j.is_object() => {
            set_key(&Value::from_json((**j).clone()))
        }
        Value::Timestamp(t) => format!("t{}", t.nanos),
        Value::Date(d) => format!("D{d}"),
        Value::Bytes(b) => format!("x{}", hex::encode(b)),
        other => format!("j{}", other.to_json()),
    }
}

fn distinct(items: impl IntoIterator<Item = Value>, seen: &mut HashSet<String>) -> Vec<Value> {
    items
        .into_iter()
        .filter(|v| seen.insert(set_key(v)))
        .collect()
}

/// A stable merge sort with a fallible comparator that never panics, even when the
/// comparator is not a total order.
fn merge_sort(
    mut v: Vec<Value>,
    cmp: &mut dyn FnMut(&Value, &Value) -> Result<Ordering, FnError>,
) -> Result<Vec<Value>, FnError> {
    if v.len() <= 1 {
        return Ok(v);
    }
    let right = v.split_off(v.len() / 2);
    let left = merge_sort(v, cmp)?;
    let right = merge_sort(right, cmp)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
        if cmp(b, a)? == Ordering::Less {
            out.push(r.next().expect("peeked"));
        } else {
            out.push(l.next().expect("peeked"));
        }
    }
    out.extend(l);
    out.extend(r);
    Ok(out)
}

/// A lambda's boolean result: `Some(b)` for a boolean, `None` for NULL.
fn truth(v: &Value) -> Result<Option<bool>, FnError> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        Value::Str(t) if t.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::Str(t) if t.eq_ignore_ascii_case("false") => Ok(Some(false)),
        other => Err(FnError::new(format!(
            "the lambda must return a boolean, got {}",
            other.type_name()
        ))),
    }
}

fn cap_error(what: &str, n: impl std::fmt::Display) -> FnError {
    FnError::new(format!(
        "{what} would produce {n} elements; the limit is {MAX_ELEMENTS}"
    ))
}

/// Builds a map, rejecting NULL and duplicate keys.
fn build_map(entries: impl IntoIterator<Item = (Value, Value)>) -> FnResult {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (k, v) in entries {
        if k.is_null() {
            return Err(FnError::new("map key cannot be NULL"));
        }
        if !seen.insert(set_key(&k)) {
            return Err(FnError::new(format!("duplicate map key '{}'", short(&k))));
        }
        out.push((k, v));
    }
    Ok(Value::Map(Arc::new(out)))
}

// ---- functions --------------------------------------------------------------------------

fn cardinality(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Int(match container_arg(args, 0)? {
        Container::Array(a) => a.len() as i64,
        Container::Map(m) => m.len() as i64,
    }))
}

fn element_at(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    match container_arg(args, 0)? {
        Container::Array(a) => {
            let i = super::int_arg(args, 1)?;
            if i == 0 {
                return Err(FnError::arg(1, "SQL array indices start at 1"));
            }
            let idx = if i > 0 { i - 1 } else { a.len() as i64 + i };
            Ok(usize::try_from(idx)
                .ok()
                .and_then(|k| a.get(k))
                .cloned()
                .unwrap_or(Value::Null))
        }
        Container::Map(m) => Ok(m
            .iter()
            .find(|(k, _)| eq(k, &args[1]) == Some(true))
            .map_or(Value::Null, |(_, v)| v.clone())),
    }
}

fn contains(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let mut saw_null = false;
    for e in a.iter() {
        if eq(e, &args[1]) == Some(true) {
            return Ok(Value::Bool(true));
        }
        saw_null |= e.is_null();
    }
    Ok(if saw_null {
        Value::Null
    } else {
        Value::Bool(false)
    })
}

fn array_join(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let sep = super::text_arg(args, 1)?;
    let null_repl = args.get(2).and_then(Value::to_text);
    let mut out = String::new();
    let mut first = true;
    for e in a.iter() {
        let text = match e.to_text() {
            Some(t) => t,
            None => match &null_repl {
                Some(r) => Cow::Borrowed(r.as_ref()),
                None => continue,
            },
        };
        if !first {
            out.push_str(&sep);
        }
        first = false;
        out.push_str(&text);
    }
    Ok(Value::string(out))
}

fn array_distinct(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    Ok(Value::array(distinct(
        a.iter().cloned(),
        &mut HashSet::new(),
    )))
}

fn array_sort(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?.into_owned();
    let sorted = match args.get(1) {
        None => merge_sort(a, &mut |x, y| Ok(ops::sort_order(x, y)))?,
        Some(_) => {
            let f = lambda_arg(args, 1)?;
            merge_sort(a, &mut |x, y| {
                let r = env.apply(f, &[x.clone(), y.clone()])?;
                match r {
                    Value::Int(n) => Ok(n.cmp(&0)),
                    Value::Double(d) if !d.is_nan() => {
                        Ok(d.partial_cmp(&0.0).unwrap_or(Ordering::Equal))
                    }
                    other => Err(FnError::arg(
                        1,
                        format!(
                            "the comparator must return a number, got {}",
                            other.type_name()
                        ),
                    )),
                }
            })?
        }
    };
    Ok(Value::array(sorted))
}

fn extreme(args: &[Value], want: Ordering) -> FnResult {
    let a = array_arg(args, 0)?;
    let mut best: Option<&Value> = None;
    for e in a.iter() {
        if e.is_null() {
            return Ok(Value::Null);
        }
        match best {
            Some(b) if ops::sort_order(e, b) != want => {}
            _ => best = Some(e),
        }
    }
    Ok(best.cloned().unwrap_or(Value::Null))
}

fn array_max(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    extreme(args, Ordering::Greater)
}

fn array_min(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    extreme(args, Ordering::Less)
}

fn array_sum(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let mut sum = Value::Int(0);
    for e in a.iter().filter(|e| !e.is_null()) {
        sum = ops::arith(BinaryOp::Add, &sum, e, Coercion::Lenient)?;
        if sum.is_null() {
            return Ok(Value::Null);
        }
    }
    Ok(sum)
}

fn array_average(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let (mut sum, mut n) = (0.0, 0usize);
    for (k, e) in a.iter().enumerate().filter(|(_, e)| !e.is_null()) {
        let x = super::double_arg(std::slice::from_ref(e), 0).map_err(|_| {
            FnError::new(format!(
                "array_average: element {} ('{}') is not a number",
                k + 1,
                short(e)
            ))
        })?;
        sum += x;
        n += 1;
    }
    Ok(if n == 0 {
        Value::Null
    } else {
        Value::Double(sum / n as f64)
    })
}

fn array_position(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let instance = if args.len() > 2 {
        super::int_arg(args, 2)?
    } else {
        1
    };
    if instance == 0 {
        return Err(FnError::arg(2, "the instance must not be 0"));
    }
    let mut left = instance.unsigned_abs();
    let hit = |(i, e): (usize, &Value)| (eq(e, &args[1]) == Some(true)).then_some(i);
    let positions: Box<dyn Iterator<Item = usize>> = if instance > 0 {
        Box::new(a.iter().enumerate().filter_map(hit))
    } else {
        Box::new(a.iter().enumerate().rev().filter_map(hit))
    };
    for i in positions {
        left -= 1;
        if left == 0 {
            return Ok(Value::Int(i as i64 + 1));
        }
    }
    Ok(Value::Int(0))
}

fn array_except(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let (x, y) = (array_arg(args, 0)?, array_arg(args, 1)?);
    let mut seen: HashSet<String> = y.iter().map(set_key).collect();
    Ok(Value::array(distinct(x.iter().cloned(), &mut seen)))
}

fn array_intersect(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let (x, y) = (array_arg(args, 0)?, array_arg(args, 1)?);
    let in_y: HashSet<String> = y.iter().map(set_key).collect();
    let mut seen = HashSet::new();
    Ok(Value::array(
        x.iter()
            .filter(|v| in_y.contains(&set_key(v)))
            .filter(|&v| seen.insert(set_key(v)))
            .cloned()
            .collect(),
    ))
}

fn array_union(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let (x, y) = (array_arg(args, 0)?, array_arg(args, 1)?);
    Ok(Value::array(distinct(
        x.iter().chain(y.iter()).cloned(),
        &mut HashSet::new(),
    )))
}

fn array_remove(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    Ok(Value::array(
        a.iter()
            .filter(|e| eq(e, &args[1]) != Some(true))
            .cloned()
            .collect(),
    ))
}

fn array_normalize(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let p = super::double_arg(args, 1)?;
    if p.is_nan() || p < 0.0 {
        return Err(FnError::arg(1, "p must be a non-negative number"));
    }
    let xs: Vec<Option<f64>> = a
        .iter()
        .map(|e| {
            if e.is_null() {
                Ok(None)
            } else {
                super::double_arg(std::slice::from_ref(e), 0).map(Some)
            }
        })
        .collect::<Result<_, _>>()
        .map_err(|_| FnError::arg(0, "array_normalize needs an array of numbers"))?;
    let norm = if p == 0.0 {
        xs.iter().flatten().filter(|x| **x != 0.0).count() as f64
    } else {
        xs.iter()
            .flatten()
            .map(|x| x.abs().powf(p))
            .sum::<f64>()
            .powf(1.0 / p)
    };
    let scale = if norm == 0.0 { 1.0 } else { norm };
    Ok(Value::array(
        xs.into_iter()
            .map(|x| x.map_or(Value::Null, |x| Value::Double(x / scale)))
            .collect(),
    ))
}

fn arrays_overlap(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let (x, y) = (array_arg(args, 0)?, array_arg(args, 1)?);
    let in_y: HashSet<String> = y.iter().filter(|v| !v.is_null()).map(set_key).collect();
    if x.iter().any(|v| !v.is_null() && in_y.contains(&set_key(v))) {
        return Ok(Value::Bool(true));
    }
    let nulls = x.iter().chain(y.iter()).any(Value::is_null);
    Ok(if nulls {
        Value::Null
    } else {
        Value::Bool(false)
    })
}

fn slice(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let start = super::int_arg(args, 1)?;
    let len = super::int_arg(args, 2)?;
    if start == 0 {
        return Err(FnError::arg(1, "SQL array indices start at 1"));
    }
    if len < 0 {
        return Err(FnError::arg(
            2,
            format!("length must be greater than or equal to 0, got {len}"),
        ));
    }
    let n = a.len() as i64;
    let from = if start > 0 { start - 1 } else { n + start };
    if from < 0 || from >= n {
        return Ok(Value::array(Vec::new()));
    }
    let to = from.saturating_add(len).min(n);
    Ok(Value::array(a[from as usize..to as usize].to_vec()))
}

fn sequence(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let dates = matches!((&args[0], &args[1]), (Value::Date(_), Value::Date(_)));
    let (start, stop) = match (&args[0], &args[1]) {
        (Value::Date(a), Value::Date(b)) => (*a as i64, *b as i64),
        _ => (super::int_arg(args, 0)?, super::int_arg(args, 1)?),
    };
    let step = if args.len() > 2 {
        super::int_arg(args, 2)?
    } else if stop >= start {
        1
    } else {
        -1
    };
    if step == 0 {
        return Err(FnError::arg(2, "step must not be 0"));
    }
    if (stop > start && step < 0) || (stop < start && step > 0) {
        return Err(FnError::arg(
            2,
            format!("step {step} does not go from {start} to {stop}"),
        ));
    }
    let count = (stop as i128 - start as i128) / step as i128 + 1;
    if count > MAX_ELEMENTS as i128 {
        return Err(cap_error("sequence", count));
    }
    let items = (0..count as i64)
        .map(|k| {
            let v = (start as i128 + k as i128 * step as i128) as i64;
            if dates {
                Value::Date(v as i32)
            } else {
                Value::Int(v)
            }
        })
        .collect();
    Ok(Value::array(items))
}

fn repeat(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let n = super::int_arg(args, 1)?;
    if n < 0 {
        return Err(FnError::arg(
            1,
            format!("count must be greater than or equal to 0, got {n}"),
        ));
    }
    if n > MAX_ELEMENTS as i64 {
        return Err(cap_error("repeat", n));
    }
    Ok(Value::array(vec![args[0].clone(); n as usize]))
}

fn shuffle(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    use std::hash::{BuildHasher, Hasher};
    let mut a = array_arg(args, 0)?.into_owned();
    // Seeded from the process's random hasher keys; splitmix64 from there.
    let mut state = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..a.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        a.swap(i, j);
    }
    Ok(Value::array(a))
}

fn combinations(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let n = super::int_arg(args, 1)?;
    if !(0..=5).contains(&n) {
        return Err(FnError::arg(
            1,
            format!("combination size must be between 0 and 5, got {n}"),
        ));
    }
    let (n, len) = (n as usize, a.len());
    if n > len {
        return Ok(Value::array(Vec::new()));
    }
    // C(len, n), computed incrementally (exact at every step) and capped.
    let mut total: u128 = 1;
    for k in 0..n {
        total = total * (len - k) as u128 / (k as u128 + 1);
    }
    if total > MAX_ELEMENTS as u128 {
        return Err(cap_error("combinations", total));
    }
    let mut out = Vec::with_capacity(total as usize);
    let mut idx: Vec<usize> = (0..n).collect();
    loop {
        out.push(Value::array(idx.iter().map(|&i| a[i].clone()).collect()));
        // Advance to the next combination in lexicographic order.
        let Some(k) = (0..n).rev().find(|&k| idx[k] < len - n + k) else {
            break;
        };
        idx[k] += 1;
        for j in k + 1..n {
            idx[j] = idx[j - 1] + 1;
        }
    }
    Ok(Value::array(out))
}

fn flatten(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let mut out = Vec::new();
    for (k, e) in a.iter().enumerate() {
        match e {
            Value::Null => {}
            Value::Array(inner) => out.extend(inner.iter().cloned()),
            Value::Json(j) if j.is_array() => {
                out.extend(from_json_array(j.as_array().expect("checked")))
            }
            other => {
                return Err(FnError::arg(
                    0,
                    format!(
                        "flatten needs an array of arrays; element {} is {}",
                        k + 1,
                        other.type_name()
                    ),
                ));
            }
        }
    }
    Ok(Value::array(out))
}

fn transform(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let f = lambda_arg(args, 1)?;
    let out = a
        .iter()
        .map(|e| env.apply(f, std::slice::from_ref(e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::array(out))
}

fn filter(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let f = lambda_arg(args, 1)?;
    let mut out = Vec::new();
    for e in a.iter() {
        if truth(&env.apply(f, std::slice::from_ref(e))?)? == Some(true) {
            out.push(e.clone());
        }
    }
    Ok(Value::array(out))
}

fn reduce(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    if args[0].is_null() {
        return Ok(Value::Null);
    }
    let a = array_arg(args, 0)?;
    let (combine, finish) = (lambda_arg(args, 2)?, lambda_arg(args, 3)?);
    let mut state = args[1].clone();
    for e in a.iter() {
        state = env.apply(combine, &[state, e.clone()])?;
    }
    env.apply(finish, &[state])
}

fn zip(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let arrays = (0..args.len())
        .map(|i| array_arg(args, i))
        .collect::<Result<Vec<_>, _>>()?;
    let len = arrays.iter().map(|a| a.len()).max().unwrap_or(0);
    let rows = (0..len)
        .map(|k| {
            Value::Row(Arc::new(
                arrays
                    .iter()
                    .map(|a| a.get(k).cloned().unwrap_or(Value::Null))
                    .collect(),
            ))
        })
        .collect();
    Ok(Value::array(rows))
}

fn zip_with(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let (x, y) = (array_arg(args, 0)?, array_arg(args, 1)?);
    let f = lambda_arg(args, 2)?;
    let len = x.len().max(y.len());
    let out = (0..len)
        .map(|k| {
            env.apply(
                f,
                &[
                    x.get(k).cloned().unwrap_or(Value::Null),
                    y.get(k).cloned().unwrap_or(Value::Null),
                ],
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::array(out))
}

/// Evaluates a predicate over the elements: (any true, any false, any NULL), stopping at
/// `stop_on` when given.
fn matches(
    args: &[Value],
    env: &mut dyn Env,
    stop_on: bool,
) -> Result<(bool, bool, bool), FnError> {
    let a = array_arg(args, 0)?;
    let f = lambda_arg(args, 1)?;
    let (mut t, mut fl, mut n) = (false, false, false);
    for e in a.iter() {
        match truth(&env.apply(f, std::slice::from_ref(e))?)? {
            Some(true) => t = true,
            Some(false) => fl = true,
            None => n = true,
        }
        if (stop_on && t) || (!stop_on && fl) {
            break;
        }
    }
    Ok((t, fl, n))
}

fn all_match(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let (_, any_false, any_null) = matches(args, env, false)?;
    Ok(if any_false {
        Value::Bool(false)
    } else if any_null {
        Value::Null
    } else {
        Value::Bool(true)
    })
}

fn any_match(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let (any_true, _, any_null) = matches(args, env, true)?;
    Ok(if any_true {
        Value::Bool(true)
    } else if any_null {
        Value::Null
    } else {
        Value::Bool(false)
    })
}

fn none_match(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let (any_true, _, any_null) = matches(args, env, true)?;
    Ok(if any_true {
        Value::Bool(false)
    } else if any_null {
        Value::Null
    } else {
        Value::Bool(true)
    })
}

fn map(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    match args.len() {
        0 => Ok(Value::Map(Arc::new(Vec::new()))),
        1 => Err(FnError::new(
            "map takes no arguments or two arrays (keys, values)",
        )),
        _ => {
            let (keys, values) = (array_arg(args, 0)?, array_arg(args, 1)?);
            if keys.len() != values.len() {
                return Err(FnError::new(format!(
                    "map: {} keys but {} values",
                    keys.len(),
                    values.len()
                )));
            }
            build_map(keys.iter().cloned().zip(values.iter().cloned()))
        }
    }
}

fn map_keys(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::array(
        map_arg(args, 0)?.iter().map(|(k, _)| k.clone()).collect(),
    ))
}

fn map_values(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::array(
        map_arg(args, 0)?.iter().map(|(_, v)| v.clone()).collect(),
    ))
}

fn map_entries(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let m = map_arg(args, 0)?;
    Ok(Value::array(
        m.iter()
            .map(|(k, v)| Value::Row(Arc::new(vec![k.clone(), v.clone()])))
            .collect(),
    ))
}

fn map_from_entries(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = array_arg(args, 0)?;
    let mut entries = Vec::with_capacity(a.len());
    for (k, e) in a.iter().enumerate() {
        let pair = match e {
            Value::Row(items) | Value::Array(items) if items.len() == 2 => {
                (items[0].clone(), items[1].clone())
            }
            Value::Json(j) if j.as_array().is_some_and(|p| p.len() == 2) => {
                let p = j.as_array().expect("checked");
                (
                    Value::from_json(p[0].clone()),
                    Value::from_json(p[1].clone()),
                )
            }
            other => {
                return Err(FnError::arg(
                    0,
                    format!(
                        "map_from_entries: entry {} is not a (key, value) pair but {}",
                        k + 1,
                        other.type_name()
                    ),
                ));
            }
        };
        entries.push(pair);
    }
    build_map(entries)
}

fn map_concat(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let mut out: Vec<(Value, Value)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for i in 0..args.len() {
        for (k, v) in map_arg(args, i)?.iter() {
            match index.get(&set_key(k)) {
                Some(&pos) => out[pos] = (k.clone(), v.clone()),
                None => {
                    index.insert(set_key(k), out.len());
                    out.push((k.clone(), v.clone()));
                }
            }
        }
    }
    Ok(Value::Map(Arc::new(out)))
}

fn map_filter(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let m = map_arg(args, 0)?;
    let f = lambda_arg(args, 1)?;
    let mut out = Vec::new();
    for (k, v) in m.iter() {
        if truth(&env.apply(f, &[k.clone(), v.clone()])?)? == Some(true) {
            out.push((k.clone(), v.clone()));
        }
    }
    Ok(Value::Map(Arc::new(out)))
}

fn map_zip_with(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let (m1, m2) = (map_arg(args, 0)?, map_arg(args, 1)?);
    let f = lambda_arg(args, 2)?;
    let lookup = |m: &[(Value, Value)], key: &str| {
        m.iter()
            .find(|(k, _)| set_key(k) == key)
            .map(|(_, v)| v.clone())
    };
    let mut keys: Vec<Value> = Vec::new();
    let mut seen = HashSet::new();
    for (k, _) in m1.iter().chain(m2.iter()) {
        if seen.insert(set_key(k)) {
            keys.push(k.clone());
        }
    }
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let key = set_key(&k);
        let v1 = lookup(&m1, &key).unwrap_or(Value::Null);
        let v2 = lookup(&m2, &key).unwrap_or(Value::Null);
        let v = env.apply(f, &[k.clone(), v1, v2])?;
        out.push((k, v));
    }
    Ok(Value::Map(Arc::new(out)))
}

fn transform_keys(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let m = map_arg(args, 0)?;
    let f = lambda_arg(args, 1)?;
    let entries = m
        .iter()
        .map(|(k, v)| Ok((env.apply(f, &[k.clone(), v.clone()])?, v.clone())))
        .collect::<Result<Vec<_>, FnError>>()?;
    build_map(entries)
}

fn transform_values(args: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    let m = map_arg(args, 0)?;
    let f = lambda_arg(args, 1)?;
    let out = m
        .iter()
        .map(|(k, v)| Ok((k.clone(), env.apply(f, &[k.clone(), v.clone()])?)))
        .collect::<Result<Vec<_>, FnError>>()?;
    Ok(Value::Map(Arc::new(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Timestamp;
    use serde_json::json;

    type Closure = Box<dyn Fn(&[Value]) -> FnResult>;

    /// A test engine: `Value::Lambda(i)` calls the i-th Rust closure.
    struct Lambdas(Vec<Closure>);

    impl Env for Lambdas {
        fn apply(&mut self, lambda: &Value, args: &[Value]) -> FnResult {
            match lambda {
                Value::Lambda(i) => (self.0[*i as usize])(args),
                other => Err(FnError::new(format!("not a lambda: {other:?}"))),
            }
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

    fn call_env(name: &str, args: &[Value], env: &mut Lambdas) -> FnResult {
        let f = func(name);
        if f.null_propagating && args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        (f.eval)(args, &Prepared::none(), env)
    }

    fn call(name: &str, args: &[Value]) -> FnResult {
        call_env(name, args, &mut Lambdas(Vec::new()))
    }

    /// Calls with one lambda (`Value::Lambda(0)`) as the last argument.
    fn call_fn(
        name: &str,
        mut args: Vec<Value>,
        f: impl Fn(&[Value]) -> FnResult + 'static,
    ) -> FnResult {
        args.push(Value::Lambda(0));
        call_env(name, &args, &mut Lambdas(vec![Box::new(f)]))
    }

    fn ints(xs: &[i64]) -> Value {
        Value::array(xs.iter().map(|&x| Value::Int(x)).collect())
    }

    fn strs(xs: &[&str]) -> Value {
        Value::array(xs.iter().map(|&x| Value::str(x)).collect())
    }

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    fn js(v: FnResult) -> Json {
        v.unwrap().to_json()
    }

    fn num(v: &Value) -> i64 {
        match v {
            Value::Int(n) => *n,
            other => panic!("not an int: {other:?}"),
        }
    }

    fn smap(pairs: &[(&str, i64)]) -> Value {
        Value::Map(Arc::new(
            pairs.iter().map(|(k, v)| (s(k), Value::Int(*v))).collect(),
        ))
    }

    #[test]
    fn arrays_from_json_and_text() {
        assert_eq!(
            call("cardinality", &[s("[1, 2, 3]")]).unwrap(),
            Value::Int(3)
        );
        assert_eq!(
            call("cardinality", &[Value::json(json!([1, {"a": 1}]))]).unwrap(),
            Value::Int(2)
        );
        assert_eq!(
            call("cardinality", &[s(r#"{"a": 1, "b": 2}"#)]).unwrap(),
            Value::Int(2)
        );
        assert_eq!(
            call("cardinality", &[smap(&[("a", 1)])]).unwrap(),
            Value::Int(1)
        );
        assert_eq!(call("cardinality", &[Value::Null]).unwrap(), Value::Null);
        let err = call("cardinality", &[s("abc")]).unwrap_err();
        assert!(
            err.message
                .contains("expected an array or a map, got text 'abc'"),
            "{}",
            err.message
        );
        assert!(call("cardinality", &[Value::Int(3)]).is_err());
        assert_eq!(
            js(call("array_distinct", &[s(r#"["a", "b", "a"]"#)])),
            json!(["a", "b"])
        );
        assert!(call("array_distinct", &[s(r#"{"a": 1}"#)]).is_err());
    }

    #[test]
    fn element_access() {
        let a = strs(&["a", "b", "c"]);
        let at = |i: i64| call("element_at", &[a.clone(), Value::Int(i)]);
        assert_eq!(at(1).unwrap(), s("a"));
        assert_eq!(at(-1).unwrap(), s("c"));
        assert_eq!(at(-3).unwrap(), s("a"));
        assert_eq!(at(-4).unwrap(), Value::Null);
        assert_eq!(at(4).unwrap(), Value::Null);
        assert_eq!(at(i64::MIN).unwrap(), Value::Null);
        assert_eq!(at(i64::MAX).unwrap(), Value::Null);
        assert!(at(0).is_err());
        let m = smap(&[("a", 1), ("b", 2)]);
        assert_eq!(
            call("element_at", &[m.clone(), s("b")]).unwrap(),
            Value::Int(2)
        );
        assert_eq!(call("element_at", &[m, s("z")]).unwrap(), Value::Null);
        assert_eq!(
            call("element_at", &[s(r#"{"k": "v"}"#), s("k")]).unwrap(),
            s("v")
        );
        assert_eq!(
            call("element_at", &[s("[10, 20]"), Value::Int(2)]).unwrap(),
            Value::Int(20)
        );
    }

    #[test]
    fn contains_and_position() {
        let a = Value::array(vec![Value::Int(1), Value::Null, Value::Int(3)]);
        assert_eq!(
            call("contains", &[a.clone(), Value::Int(3)]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call("contains", &[a.clone(), Value::Int(2)]).unwrap(),
            Value::Null
        );
        assert_eq!(
            call("contains", &[ints(&[1, 2]), Value::Int(5)]).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            call("contains", &[ints(&[1, 2]), s("2")]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call("contains", &[ints(&[1, 2]), Value::Null]).unwrap(),
            Value::Null
        );
        let p = ints(&[10, 20, 30, 20]);
        assert_eq!(
            call("array_position", &[p.clone(), Value::Int(20)]).unwrap(),
            Value::Int(2)
        );
        assert_eq!(
            call(
                "array_position",
                &[p.clone(), Value::Int(20), Value::Int(2)]
            )
            .unwrap(),
            Value::Int(4)
        );
        assert_eq!(
            call(
                "array_position",
                &[p.clone(), Value::Int(20), Value::Int(-1)]
            )
            .unwrap(),
            Value::Int(4)
        );
        assert_eq!(
            call(
                "array_position",
                &[p.clone(), Value::Int(20), Value::Int(3)]
            )
            .unwrap(),
            Value::Int(0)
        );
        assert_eq!(
            call("array_position", &[p.clone(), Value::Int(99)]).unwrap(),
            Value::Int(0)
        );
        assert!(call("array_position", &[p, Value::Int(20), Value::Int(0)]).is_err());
    }

    #[test]
    fn join_distinct_sort_extremes() {
        let a = Value::array(vec![s("a"), Value::Null, Value::Int(2), Value::Double(1.5)]);
        assert_eq!(
            call("array_join", &[a.clone(), s(",")]).unwrap(),
            s("a,2,1.5")
        );
        assert_eq!(
            call("array_join", &[a, s(", "), s("-")]).unwrap(),
            s("a, -, 2, 1.5")
        );
        assert_eq!(call("array_join", &[ints(&[]), s(",")]).unwrap(), s(""));
        let d = Value::array(vec![
            Value::Int(1),
            Value::Double(1.0),
            Value::Null,
            s("1"),
            Value::Null,
            Value::Int(2),
        ]);
        assert_eq!(js(call("array_distinct", &[d])), json!([1, null, "1", 2]));
        let unsorted = Value::array(vec![
            Value::Int(3),
            Value::Null,
            Value::Int(1),
            Value::Double(2.5),
        ]);
        assert_eq!(
            js(call("array_sort", std::slice::from_ref(&unsorted))),
            json!([1, 2.5, 3, null])
        );
        assert_eq!(
            js(call("array_sort", &[strs(&["b", "a", "c"])])),
            json!(["a", "b", "c"])
        );
        assert_eq!(
            call("array_max", &[ints(&[1, 7, 3])]).unwrap(),
            Value::Int(7)
        );
        assert_eq!(
            call("array_min", &[ints(&[4, 7, 3])]).unwrap(),
            Value::Int(3)
        );
        assert_eq!(call("array_max", &[unsorted]).unwrap(), Value::Null);
        assert_eq!(call("array_max", &[ints(&[])]).unwrap(), Value::Null);
        assert_eq!(
            call("array_max", &[strs(&["b", "c", "a"])]).unwrap(),
            s("c")
        );
    }

    #[test]
    fn sort_with_comparator_never_panics() {
        let desc = |a: &[Value]| Ok(Value::Int(num(&a[1]).cmp(&num(&a[0])) as i64));
        assert_eq!(
            js(call_fn("array_sort", vec![ints(&[1, 3, 2])], desc)),
            json!([3, 2, 1])
        );
        // An inconsistent comparator gives some order, never a panic.
        let chaos = |a: &[Value]| {
            Ok(Value::Int(if (num(&a[0]) + num(&a[1])) % 3 == 0 {
                -1
            } else {
                1
            }))
        };
        let many = ints(&(0..500).collect::<Vec<_>>());
        assert_eq!(
            call_fn("array_sort", vec![many], chaos)
                .unwrap()
                .to_json()
                .as_array()
                .unwrap()
                .len(),
            500
        );
        let bad = |_: &[Value]| Ok(Value::str("x"));
        assert!(call_fn("array_sort", vec![ints(&[1, 2])], bad).is_err());
        let failing = |_: &[Value]| Err(FnError::new("boom"));
        assert_eq!(
            call_fn("array_sort", vec![ints(&[1, 2])], failing)
                .unwrap_err()
                .message,
            "boom"
        );
    }

    #[test]
    fn sums_and_averages() {
        let a = Value::array(vec![
            Value::Int(1),
            Value::Int(2),
            Value::Null,
            Value::Int(4),
        ]);
        assert_eq!(
            call("array_sum", std::slice::from_ref(&a)).unwrap(),
            Value::Int(7)
        );
        assert_eq!(
            call(
                "array_sum",
                &[Value::array(vec![Value::Double(1.5), Value::Int(2)])]
            )
            .unwrap(),
            Value::Double(3.5)
        );
        assert_eq!(call("array_sum", &[ints(&[])]).unwrap(), Value::Int(0));
        assert_eq!(
            call("array_sum", &[strs(&["1", "2"])]).unwrap(),
            Value::Int(3)
        );
        assert_eq!(
            call("array_sum", &[strs(&["1", "x"])]).unwrap(),
            Value::Null
        );
        assert!(call("array_sum", &[ints(&[i64::MAX, 1])]).is_err());
        assert_eq!(
            call("array_average", &[a]).unwrap(),
            Value::Double(7.0 / 3.0)
        );
        assert_eq!(
            call("array_average", &[Value::array(vec![Value::Null])]).unwrap(),
            Value::Null
        );
        assert!(call("array_average", &[strs(&["x"])]).is_err());
        assert_eq!(
            js(call("array_normalize", &[ints(&[3, 4]), Value::Int(2)])),
            json!([0.6, 0.8])
        );
        assert_eq!(
            js(call("array_normalize", &[ints(&[0, 0]), Value::Int(2)])),
            json!([0.0, 0.0])
        );
        assert_eq!(
            js(call("array_normalize", &[ints(&[1, -3]), Value::Int(1)])),
            json!([0.25, -0.75])
        );
        assert!(call("array_normalize", &[ints(&[1]), Value::Int(-1)]).is_err());
    }

    #[test]
    fn set_operations() {
        let x = Value::array(vec![
            Value::Int(1),
            Value::Int(2),
            Value::Int(3),
            Value::Int(1),
            Value::Null,
        ]);
        let y = Value::array(vec![Value::Int(2), Value::Null]);
        assert_eq!(
            js(call("array_except", &[x.clone(), y.clone()])),
            json!([1, 3])
        );
        assert_eq!(
            js(call("array_intersect", &[x.clone(), y.clone()])),
            json!([2, null])
        );
        assert_eq!(
            js(call("array_union", &[x.clone(), y.clone()])),
            json!([1, 2, 3, null])
        );
        assert_eq!(
            js(call("array_remove", &[x.clone(), Value::Int(1)])),
            json!([2, 3, null])
        );
        assert_eq!(
            call("arrays_overlap", &[x.clone(), y]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call(
                "arrays_overlap",
                &[ints(&[1]), Value::array(vec![Value::Null])]
            )
            .unwrap(),
            Value::Null
        );
        assert_eq!(
            call("arrays_overlap", &[ints(&[1]), ints(&[2])]).unwrap(),
            Value::Bool(false)
        );
    }

    #[test]
    fn slices_sequences_repeats() {
        let a = ints(&[1, 2, 3, 4]);
        let sl = |st: i64, n: i64| call("slice", &[a.clone(), Value::Int(st), Value::Int(n)]);
        assert_eq!(js(sl(2, 2)), json!([2, 3]));
        assert_eq!(js(sl(-2, 5)), json!([3, 4]));
        assert_eq!(js(sl(5, 1)), json!([]));
        assert_eq!(js(sl(-5, 1)), json!([]));
        assert_eq!(js(sl(1, i64::MAX)), json!([1, 2, 3, 4]));
        assert_eq!(js(sl(i64::MIN, 1)), json!([]));
        assert!(sl(0, 3).is_err());
        assert!(sl(1, -1).is_err());

        let seq = |xs: &[i64]| {
            call(
                "sequence",
                &xs.iter().map(|&x| Value::Int(x)).collect::<Vec<_>>(),
            )
        };
        assert_eq!(js(seq(&[1, 5])), json!([1, 2, 3, 4, 5]));
        assert_eq!(js(seq(&[5, 1])), json!([5, 4, 3, 2, 1]));
        assert_eq!(js(seq(&[5, 1, -2])), json!([5, 3, 1]));
        assert_eq!(js(seq(&[1, 10, 4])), json!([1, 5, 9]));
        assert_eq!(js(seq(&[3, 3])), json!([3]));
        assert!(seq(&[1, 5, 0]).is_err());
        assert!(seq(&[1, 5, -1]).is_err());
        assert!(seq(&[0, 10_000]).is_err());
        assert_eq!(
            call("sequence", &[Value::Int(1), Value::Int(10_000)])
                .unwrap()
                .to_json()
                .as_array()
                .unwrap()
                .len(),
            10_000
        );
        assert!(seq(&[i64::MIN, i64::MAX]).is_err());
        assert_eq!(
            js(seq(&[i64::MAX, i64::MIN, i64::MIN])),
            json!([i64::MAX, -1])
        );
        assert_eq!(
            js(seq(&[-i64::MAX, i64::MAX, i64::MAX])),
            json!([-i64::MAX, 0, i64::MAX])
        );
        assert_eq!(
            js(call("sequence", &[Value::Date(0), Value::Date(2)])),
            json!(["1970-01-01", "1970-01-02", "1970-01-03"])
        );

        assert_eq!(
            js(call("repeat", &[s("ab"), Value::Int(3)])),
            json!(["ab", "ab", "ab"])
        );
        assert_eq!(js(call("repeat", &[s("ab"), Value::Int(0)])), json!([]));
        assert!(call("repeat", &[s("ab"), Value::Int(-1)]).is_err());
        assert!(call("repeat", &[s("ab"), Value::Int(10_001)]).is_err());
    }

    #[test]
    fn shuffle_combinations_flatten() {
        let a = ints(&(0..50).collect::<Vec<_>>());
        let sh = call("shuffle", std::slice::from_ref(&a)).unwrap();
        assert_eq!(call("array_sort", &[sh]).unwrap(), a);
        assert_eq!(
            js(call(
                "combinations",
                &[strs(&["a", "b", "c"]), Value::Int(2)]
            )),
            json!([["a", "b"], ["a", "c"], ["b", "c"]])
        );
        assert_eq!(
            js(call("combinations", &[strs(&["a", "b"]), Value::Int(0)])),
            json!([[]])
        );
        assert_eq!(
            js(call("combinations", &[strs(&["a"]), Value::Int(2)])),
            json!([])
        );
        assert_eq!(
            call(
                "combinations",
                &[ints(&(0..10).collect::<Vec<_>>()), Value::Int(3)]
            )
            .unwrap()
            .to_json()
            .as_array()
            .unwrap()
            .len(),
            120
        );
        assert!(call("combinations", &[ints(&[1]), Value::Int(6)]).is_err());
        assert!(
            call(
                "combinations",
                &[ints(&(0..100).collect::<Vec<_>>()), Value::Int(5)]
            )
            .is_err()
        );
        let nested = Value::array(vec![
            ints(&[1, 2]),
            Value::Null,
            Value::json(json!([3, "x"])),
        ]);
        assert_eq!(js(call("flatten", &[nested])), json!([1, 2, 3, "x"]));
        assert!(call("flatten", &[ints(&[1])]).is_err());
    }

    #[test]
    fn higher_order_functions() {
        // SPL.md 7 #19d: transform(a, x -> COALESCE(x, 0) + 1)
        let a = Value::array(vec![Value::Int(5), Value::Null, Value::Int(6)]);
        let inc = |v: &[Value]| Ok(Value::Int(if v[0].is_null() { 0 } else { num(&v[0]) } + 1));
        assert_eq!(
            js(call_fn("transform", vec![a.clone()], inc)),
            json!([6, 1, 7])
        );
        let positive = |v: &[Value]| {
            Ok(if v[0].is_null() {
                Value::Null
            } else {
                Value::Bool(num(&v[0]) > 0)
            })
        };
        let b = Value::array(vec![
            Value::Int(5),
            Value::Int(-6),
            Value::Null,
            Value::Int(7),
        ]);
        assert_eq!(
            js(call_fn("filter", vec![b.clone()], positive)),
            json!([5, 7])
        );
        assert_eq!(
            call_fn("all_match", vec![b.clone()], positive).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            call_fn(
                "all_match",
                vec![Value::array(vec![Value::Int(1), Value::Null])],
                positive
            )
            .unwrap(),
            Value::Null
        );
        assert_eq!(
            call_fn("all_match", vec![ints(&[])], positive).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call_fn("any_match", vec![b.clone()], positive).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call_fn(
                "any_match",
                vec![Value::array(vec![Value::Int(-1), Value::Null])],
                positive
            )
            .unwrap(),
            Value::Null
        );
        assert_eq!(
            call_fn("any_match", vec![ints(&[])], positive).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            call_fn("none_match", vec![ints(&[-1, -2])], positive).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call_fn("none_match", vec![b], positive).unwrap(),
            Value::Bool(false)
        );
        assert!(call_fn("filter", vec![ints(&[1])], |_| Ok(Value::Int(1))).is_err());
        assert!(call("transform", &[ints(&[1]), Value::Int(3)]).is_err());

        // SPL.md 7 #17: reduce(a, 0, (s, x) -> IF(x IS NULL, s, s + x), s -> s)
        let a = Value::array(vec![
            Value::Int(5),
            Value::Int(20),
            Value::Null,
            Value::Int(50),
        ]);
        let mut env = Lambdas(vec![
            Box::new(|v: &[Value]| {
                Ok(if v[1].is_null() {
                    v[0].clone()
                } else {
                    Value::Int(num(&v[0]) + num(&v[1]))
                })
            }),
            Box::new(|v: &[Value]| Ok(v[0].clone())),
        ]);
        let args = [a, Value::Int(0), Value::Lambda(0), Value::Lambda(1)];
        assert_eq!(call_env("reduce", &args, &mut env).unwrap(), Value::Int(75));
        let null_init = [ints(&[]), Value::Null, Value::Lambda(0), Value::Lambda(1)];
        assert_eq!(
            call_env("reduce", &null_init, &mut env).unwrap(),
            Value::Null
        );
        let null_arr = [
            Value::Null,
            Value::Int(0),
            Value::Lambda(0),
            Value::Lambda(1),
        ];
        assert_eq!(
            call_env("reduce", &null_arr, &mut env).unwrap(),
            Value::Null
        );

        assert_eq!(
            js(call(
                "zip",
                &[ints(&[1, 2]), strs(&["a"]), ints(&[7, 8, 9])]
            )),
            json!([[1, "a", 7], [2, null, 8], [null, null, 9]])
        );
        let add = |v: &[Value]| {
            Ok(Value::Int(
                num(&v[0]) + if v[1].is_null() { 0 } else { num(&v[1]) },
            ))
        };
        assert_eq!(
            js(call_fn("zip_with", vec![ints(&[1, 2]), ints(&[10])], add)),
            json!([11, 2])
        );
    }

    #[test]
    fn maps() {
        let m = call("map", &[strs(&["foo", "bar"]), ints(&[0, 1])]).unwrap();
        assert_eq!(m.to_json(), json!({"foo": 0, "bar": 1}));
        assert_eq!(call("map", &[]).unwrap(), Value::Map(Arc::new(Vec::new())));
        assert!(call("map", &[strs(&["a"])]).is_err());
        assert!(
            call("map", &[strs(&["a", "a"]), ints(&[1, 2])])
                .unwrap_err()
                .message
                .contains("duplicate map key 'a'")
        );
        assert!(call("map", &[Value::array(vec![Value::Null]), ints(&[1])]).is_err());
        assert!(call("map", &[strs(&["a"]), ints(&[1, 2])]).is_err());
        assert_eq!(
            js(call("map_keys", std::slice::from_ref(&m))),
            json!(["foo", "bar"])
        );
        assert_eq!(
            js(call("map_values", std::slice::from_ref(&m))),
            json!([0, 1])
        );
        assert_eq!(
            js(call("map_entries", std::slice::from_ref(&m))),
            json!([["foo", 0], ["bar", 1]])
        );
        assert_eq!(
            js(call("map_keys", &[s(r#"{"x": 1, "y": [2]}"#)])),
            json!(["x", "y"])
        );
        let entries = Value::array(vec![
            Value::Row(Arc::new(vec![s("a"), Value::Int(1)])),
            Value::json(json!(["b", 2])),
        ]);
        assert_eq!(
            js(call("map_from_entries", &[entries])),
            json!({"a": 1, "b": 2})
        );
        assert!(call("map_from_entries", &[ints(&[1])]).is_err());
        let cat = call(
            "map_concat",
            &[smap(&[("a", 1), ("c", 5)]), smap(&[("a", 2), ("b", 3)])],
        )
        .unwrap();
        assert_eq!(cat.to_json().to_string(), r#"{"a":2,"c":5,"b":3}"#);

        let big = |v: &[Value]| Ok(Value::Bool(num(&v[1]) > 1));
        assert_eq!(
            js(call_fn(
                "map_filter",
                vec![smap(&[("a", 1), ("b", 2)])],
                big
            )),
            json!({"b": 2})
        );
        let sum = |v: &[Value]| {
            let n = |x: &Value| if x.is_null() { 0 } else { num(x) };
            Ok(Value::Int(n(&v[1]) + n(&v[2])))
        };
        let z = call_fn(
            "map_zip_with",
            vec![smap(&[("a", 1), ("b", 2)]), smap(&[("b", 10), ("c", 20)])],
            sum,
        )
        .unwrap();
        assert_eq!(z.to_json().to_string(), r#"{"a":1,"b":12,"c":20}"#);
        let times10 = |v: &[Value]| Ok(Value::Int(num(&v[1]) * 10));
        assert_eq!(
            js(call_fn(
                "transform_keys",
                vec![smap(&[("a", 1), ("b", 2)])],
                times10
            )),
            json!({"10": 1, "20": 2})
        );
        assert_eq!(
            js(call_fn(
                "transform_values",
                vec![smap(&[("a", 1), ("b", 2)])],
                times10
            )),
            json!({"a": 10, "b": 20})
        );
        let same = |_: &[Value]| Ok(Value::str("k"));
        assert!(call_fn("transform_keys", vec![smap(&[("a", 1), ("b", 2)])], same).is_err());
    }
}

//! SPL functions: conditionals (`if`, `coalesce`, `nullif`, `try`) and `typeof`.
//!
//! Owns these entries. The planner evaluates `if`, `coalesce` and `try` lazily (only the
//! chosen branch runs, and `try` catches errors raised inside its argument); the eager
//! `eval`s here give the same results for direct calls on already evaluated arguments and
//! carry the docs and examples. `CASE` and `TRY_CAST` are syntax, not functions.
//! `greatest`/`least` live in math.rs. Depends on `ops` and the registry.

use super::{Env, FnError, FnResult, Function, Kind, Param, Prepared, ex, ex_in};
use crate::event::{Value, Zone};
use crate::spl::ops::{self, Coercion};

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new(
        "if",
        &[Param::req("condition", Kind::Bool), Param::req("then", Kind::Any), Param::opt("else", Kind::Any)],
        Kind::Any,
        "The second argument when the condition is true, else the third (NULL when absent); a NULL condition counts as false.",
        &[
            ex("if(2 > 1, 'yes', 'no')", r#""yes""#),
            ex("if(NULL, 'yes', 'no')", r#""no""#),
            ex("if(false, 1)", "null"),
            ex_in("if(event like 'clo_%', 'T989092', '')", r#"{"event": "clo_edd_received_rop"}"#, r#""T989092""#),
        ],
        if_,
    )
    .handles_nulls(),
    Function::new(
        "coalesce",
        &[Param::req("value", Kind::Any), Param::variadic("more", Kind::Any)],
        Kind::Any,
        "The first argument that is not NULL (a missing field is NULL).",
        &[
            ex("coalesce(NULL, 'a', 'b')", r#""a""#),
            ex_in("coalesce(server_protocol1, '200')", r#"{"server_protocol": "HTTP/1.1"}"#, r#""200""#),
        ],
        coalesce,
    )
    .handles_nulls(),
    Function::new(
        "nullif",
        &[Param::req("value", Kind::Any), Param::req("other", Kind::Any)],
        Kind::Any,
        "NULL when the two arguments are equal, else the first.",
        &[ex("nullif('-', '-')", "null"), ex("nullif('a', '-')", r#""a""#)],
        nullif,
    )
    .handles_nulls(),
    Function::new(
        "try",
        &[Param::req("expression", Kind::Any)],
        Kind::Any,
        "The value of the expression, or NULL when evaluating it fails (bad cast, bad argument, division by zero).",
        &[ex("try(cast('abc' as bigint))", "null"), ex("try(10 / 0)", "null"), ex("try(cast('12' as bigint))", "12")],
        try_,
    )
    .handles_nulls(),
    Function::new(
        "typeof",
        &[Param::req("value", Kind::Any)],
        Kind::Str,
        "The SQL type name of a value ('unknown' for NULL).",
        &[
            ex("typeof(1)", r#""bigint""#),
            ex("typeof('a')", r#""varchar""#),
            ex("typeof(ARRAY[1, 2])", r#""array(bigint)""#),
            ex_in("typeof(status)", r#"{"status": "200"}"#, r#""varchar""#),
        ],
        typeof_,
    )
    .handles_nulls(),
];

fn if_(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let cond = match &args[0] {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Str(t) if t.eq_ignore_ascii_case("true") => true,
        Value::Str(t) if t.eq_ignore_ascii_case("false") => false,
        other => {
            return Err(FnError::arg(
                0,
                format!("the condition must be a boolean, got {}", other.type_name()),
            ));
        }
    };
    Ok(if cond {
        args[1].clone()
    } else {
        args.get(2).cloned().unwrap_or(Value::Null)
    })
}

fn coalesce(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(args
        .iter()
        .find(|v| !v.is_null())
        .cloned()
        .unwrap_or(Value::Null))
}

fn nullif(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let (a, b) = (&args[0], &args[1]);
    Ok(match ops::equal(a, b, Coercion::Lenient) {
        Ok(Some(true)) => Value::Null,
        _ => a.clone(),
    })
}

fn try_(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(args[0].clone())
}

/// The SQL type name of a value, Presto style (`bigint`, `array(varchar)`, ...).
pub fn type_name(v: &Value) -> String {
    fn common<'a>(items: impl Iterator<Item = &'a Value>) -> String {
        let mut name: Option<String> = None;
        for v in items.filter(|v| !v.is_null()) {
            let t = type_name(v);
            name = Some(match name {
                None => t,
                Some(n) if n == t => n,
                Some(n) if (n == "bigint" && t == "double") || (n == "double" && t == "bigint") => {
                    "double".into()
                }
                Some(n) => n,
            });
        }
        name.unwrap_or_else(|| "unknown".into())
    }
    match v {
        Value::Null => "unknown".into(),
        Value::Bool(_) => "boolean".into(),
        Value::Int(_) => "bigint".into(),
        Value::Double(_) => "double".into(),
        Value::Str(_) => "varchar".into(),
        Value::Bytes(_) => "varbinary".into(),
        Value::Timestamp(t) if t.zone == Zone::Utc => "timestamp".into(),
        Value::Timestamp(_) => "timestamp with time zone".into(),
        Value::Date(_) => "date".into(),
        Value::Json(_) => "json".into(),
        Value::Array(items) => format!("array({})", common(items.iter())),
        Value::Map(entries) => {
            format!(
                "map({}, {})",
                common(entries.iter().map(|(k, _)| k)),
                common(entries.iter().map(|(_, v)| v))
            )
        }
        Value::Row(items) => format!(
            "row({})",
            items.iter().map(type_name).collect::<Vec<_>>().join(", ")
        ),
        Value::Lambda(_) => "function".into(),
    }
}

fn typeof_(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::string(type_name(&args[0])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Timestamp;
    use std::sync::Arc;

    struct NoEnv;
    impl Env for NoEnv {
        fn apply(&mut self, _: &Value, _: &[Value]) -> FnResult {
            Err(FnError::new("no lambdas here"))
        }
        fn now(&self) -> Timestamp {
            Timestamp::utc(0)
        }
    }

    fn call(name: &str, args: &[Value]) -> FnResult {
        let f = FUNCTIONS.iter().find(|f| f.name == name).unwrap();
        assert!(!f.null_propagating, "{name} sees NULLs itself");
        (f.eval)(args, &Prepared::none(), &mut NoEnv)
    }

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    #[test]
    fn if_picks_a_branch() {
        assert_eq!(
            call("if", &[Value::Bool(true), s("a"), s("b")]).unwrap(),
            s("a")
        );
        assert_eq!(
            call("if", &[Value::Bool(false), s("a"), s("b")]).unwrap(),
            s("b")
        );
        assert_eq!(call("if", &[Value::Null, s("a"), s("b")]).unwrap(), s("b"));
        assert_eq!(
            call("if", &[Value::Bool(false), s("a")]).unwrap(),
            Value::Null
        );
        assert_eq!(
            call("if", &[Value::Bool(true), Value::Null, s("b")]).unwrap(),
            Value::Null
        );
        assert_eq!(
            call("if", &[s("TRUE"), Value::Int(1)]).unwrap(),
            Value::Int(1)
        );
        assert!(call("if", &[Value::Int(1), s("a")]).is_err());
    }

    #[test]
    fn coalesce_nullif_try() {
        assert_eq!(
            call("coalesce", &[Value::Null, Value::Null, s("x"), s("y")]).unwrap(),
            s("x")
        );
        assert_eq!(call("coalesce", &[Value::Null]).unwrap(), Value::Null);
        assert_eq!(
            call("coalesce", &[Value::Int(0), s("y")]).unwrap(),
            Value::Int(0)
        );
        assert_eq!(call("nullif", &[s("-"), s("-")]).unwrap(), Value::Null);
        assert_eq!(call("nullif", &[s("a"), s("-")]).unwrap(), s("a"));
        assert_eq!(
            call("nullif", &[s("1"), Value::Int(1)]).unwrap(),
            Value::Null
        );
        assert_eq!(call("nullif", &[s("a"), Value::Null]).unwrap(), s("a"));
        assert_eq!(call("nullif", &[Value::Null, s("a")]).unwrap(), Value::Null);
        assert_eq!(call("try", &[Value::Int(2)]).unwrap(), Value::Int(2));
        assert_eq!(call("try", &[Value::Null]).unwrap(), Value::Null);
    }

    #[test]
    fn type_names() {
        let t = |v: Value| {
            call("typeof", &[v])
                .unwrap()
                .to_text()
                .unwrap()
                .into_owned()
        };
        assert_eq!(t(Value::Null), "unknown");
        assert_eq!(t(Value::Int(1)), "bigint");
        assert_eq!(t(Value::Double(1.0)), "double");
        assert_eq!(t(s("a")), "varchar");
        assert_eq!(t(Value::Bool(true)), "boolean");
        assert_eq!(t(Value::Bytes(Arc::from(&b"x"[..]))), "varbinary");
        assert_eq!(t(Value::Timestamp(Timestamp::utc(0))), "timestamp");
        assert_eq!(
            t(Value::Timestamp(Timestamp {
                nanos: 0,
                zone: Zone::Offset(60)
            })),
            "timestamp with time zone"
        );
        assert_eq!(t(Value::Date(0)), "date");
        assert_eq!(t(Value::json(serde_json::json!({}))), "json");
        assert_eq!(
            t(Value::array(vec![
                Value::Int(1),
                Value::Null,
                Value::Double(2.0)
            ])),
            "array(double)"
        );
        assert_eq!(t(Value::array(vec![])), "array(unknown)");
        assert_eq!(
            t(Value::array(vec![Value::array(vec![s("a")])])),
            "array(array(varchar))"
        );
        assert_eq!(
            t(Value::Map(Arc::new(vec![(s("a"), Value::Int(1))]))),
            "map(varchar, bigint)"
        );
        assert_eq!(
            t(Value::Row(Arc::new(vec![s("a"), Value::Int(1)]))),
            "row(varchar, bigint)"
        );
    }
}

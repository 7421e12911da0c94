//! `CAST` / `TRY_CAST` semantics between SPL value types (Presto's rules, a little more
//! lenient where SLS text fields need it).
//!
//! Owns `cast`. Failures carry the `CAST_FAILED` code; `try_cast` (in the runner) turns them
//! into NULL. Decisions where Presto/SLS are unclear (also tested below):
//! - VARCHAR → integer types: trimmed, optional sign, digits only (`'12.0'` fails, as in
//!   Presto); TINYINT/SMALLINT/INTEGER are range-checked; HUGEINT is held in 64 bits.
//! - DOUBLE → integer types rounds half away from zero (Presto); NaN/∞/out of range fail.
//! - REAL and DECIMAL are evaluated as DOUBLE; `DECIMAL(p, s)` rounds to `s` digits and
//!   fails when the integer part needs more than `p - s` digits.
//! - VARCHAR → BOOLEAN accepts `true/false/t/f/1/0` (any case, trimmed).
//! - VARCHAR → TIMESTAMP/DATE accept `time::parse_timestamp_text` forms (ISO 8601,
//!   `YYYY-MM-DD HH:MM:SS[.fff]`, offsets and zone names).
//! - TIMESTAMP → VARCHAR is Presto's `YYYY-MM-DD HH:MM:SS.fff`, followed by ` <zone>` for a
//!   timestamp with a zone (` +01:00`, ` Asia/Shanghai`); DATE → `YYYY-MM-DD`.
//! - TIMESTAMP/DATE → numbers fail (Presto does too): use `to_unixtime`.
//! - VARCHAR → JSON makes a JSON *string* (Presto); use `json_parse` to parse text.
//! - JSON → scalar types: a JSON null gives NULL, strings/numbers/booleans convert as their
//!   SQL values, objects and arrays fail (JSON → VARCHAR included, as in Presto).
//! - JSON arrays (or VARCHAR text holding one) → `ARRAY(T)` and JSON objects → `MAP(K, V)`
//!   cast element-wise; so do ARRAY and MAP values.
//! - ARRAY/MAP/ROW → VARCHAR fail (Presto); cast to JSON first, or use `json_format`.
//!
//! Depends on `time` (timestamp text), `event` and the registry's `FnError`.

use super::time::{parse_date_text, parse_timestamp_text};
use super::{FnError, parse_double};
use crate::diagnostic::codes::CAST_FAILED;
use crate::event::{Timestamp, Value, Zone, format_double};
use crate::spl::ast::Type;
use serde_json::Value as Json;
use std::sync::Arc;

/// `CAST(value AS ty)`; NULL stays NULL. Errors are reported by `cast`, turned into NULL by
/// `try_cast`.
///
/// ```
/// use agentic_soc::event::Value;
/// use agentic_soc::spl::ast::Type;
/// use agentic_soc::spl::functions::cast::cast;
/// assert_eq!(cast(&Value::str(" 42 "), &Type::Bigint).unwrap(), Value::Int(42));
/// assert_eq!(cast(&Value::str("abc"), &Type::Bigint).unwrap_err().message, "cannot cast 'abc' to BIGINT");
/// ```
pub fn cast(value: &Value, ty: &Type) -> Result<Value, FnError> {
    match value {
        Value::Null => return Ok(Value::Null),
        Value::Lambda(_) => return Err(fail(value, ty)),
        Value::Json(j) => return cast_json(value, j, ty),
        _ => {}
    }
    match ty {
        Type::Boolean => to_bool(value, ty),
        Type::Tinyint | Type::Smallint | Type::Integer | Type::Bigint | Type::Hugeint => {
            to_int(value, ty)
        }
        Type::Real | Type::Double | Type::Decimal(None) => to_double(value, ty).map(Value::Double),
        Type::Decimal(Some((p, s))) => to_decimal(value, ty, *p, *s),
        Type::Varchar => to_varchar(value, ty),
        Type::Varbinary => match value {
            Value::Bytes(_) => Ok(value.clone()),
            Value::Array(_) | Value::Map(_) | Value::Row(_) => Err(fail(value, ty)),
            other => Ok(Value::Bytes(Arc::from(
                other.to_text().unwrap_or_default().as_bytes(),
            ))),
        },
        Type::Timestamp => match value {
            Value::Timestamp(_) => Ok(value.clone()),
            Value::Date(d) => (*d as i64)
                .checked_mul(86_400_000_000_000)
                .map(|n| Value::Timestamp(Timestamp::utc(n)))
                .ok_or_else(|| fail(value, ty)),
            Value::Str(t) => parse_timestamp_text(t)
                .map(Value::Timestamp)
                .ok_or_else(|| fail(value, ty)),
            Value::Int(_) | Value::Double(_) => Err(fail_because(
                value,
                ty,
                "use from_unixtime() for Unix seconds",
            )),
            _ => Err(fail(value, ty)),
        },
        Type::Date => match value {
            Value::Date(_) => Ok(value.clone()),
            Value::Timestamp(t) => {
                let days = t
                    .local()
                    .date()
                    .signed_duration_since(chrono::NaiveDate::default())
                    .num_days();
                Ok(Value::Date(days as i32))
            }
            Value::Str(t) => parse_date_text(t)
                .map(Value::Date)
                .ok_or_else(|| fail(value, ty)),
            _ => Err(fail(value, ty)),
        },
        Type::Json => Ok(Value::json(value.to_json())),
        Type::Array(elem) => match value {
            Value::Array(items) => cast_items(items.iter().cloned(), elem, ty),
            Value::Str(t) => match serde_json::from_str::<Json>(t) {
                Ok(j @ Json::Array(_)) => cast_json(value, &j, ty),
                _ => Err(fail(value, ty)),
            },
            _ => Err(fail(value, ty)),
        },
        Type::Map(k, v) => match value {
            Value::Map(entries) => cast_entries(entries.iter().cloned(), k, v, ty),
            Value::Str(t) => match serde_json::from_str::<Json>(t) {
                Ok(j @ Json::Object(_)) => cast_json(value, &j, ty),
                _ => Err(fail(value, ty)),
            },
            _ => Err(fail(value, ty)),
        },
    }
}

/// A JSON value (or parsed JSON text, `shown` is the original for messages) to `ty`.
fn cast_json(shown: &Value, j: &Json, ty: &Type) -> Result<Value, FnError> {
    match (j, ty) {
        (_, Type::Json) => Ok(Value::json(j.clone())),
        (Json::Null, _) => Ok(Value::Null),
        (Json::Array(items), Type::Array(elem)) => {
            cast_items(items.iter().map(|x| Value::from_json(x.clone())), elem, ty)
        }
        (Json::Object(map), Type::Map(k, v)) => cast_entries(
            map.iter()
                .map(|(key, x)| (Value::str(key), Value::from_json(x.clone()))),
            k,
            v,
            ty,
        ),
        (Json::Array(_) | Json::Object(_), _) => Err(fail(shown, ty)),
        (Json::Number(n), Type::Varchar) => Ok(Value::string(n.to_string())),
        (scalar, _) => cast(&Value::from_json(scalar.clone()), ty).map_err(|_| fail(shown, ty)),
    }
}

fn cast_items(
    items: impl Iterator<Item = Value>,
    elem: &Type,
    ty: &Type,
) -> Result<Value, FnError> {
    let out = items
        .enumerate()
        .map(|(i, v)| cast(&v, elem).map_err(|e| nested(e, format!("element {}", i + 1), ty)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::array(out))
}

fn cast_entries(
    entries: impl Iterator<Item = (Value, Value)>,
    kt: &Type,
    vt: &Type,
    ty: &Type,
) -> Result<Value, FnError> {
    let mut out: Vec<(Value, Value)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (k, v) in entries {
        let key = cast(&k, kt).map_err(|e| nested(e, "a key".into(), ty))?;
        if key.is_null() {
            return Err(fail_because(&k, ty, "map keys cannot be NULL"));
        }
        if !seen.insert(format!("{key:?}")) {
            return Err(fail_because(&k, ty, "duplicate map key after the cast"));
        }
        let val = cast(&v, vt).map_err(|e| {
            nested(
                e,
                format!("the value of key '{}'", k.to_text().unwrap_or_default()),
                ty,
            )
        })?;
        out.push((key, val));
    }
    Ok(Value::Map(Arc::new(out)))
}

fn nested(e: FnError, what: String, ty: &Type) -> FnError {
    FnError::new(format!("{} (in {what} of the cast to {ty})", e.message)).with_code(CAST_FAILED)
}

/// How a value is shown in a cast error: text quoted, other scalars as text, the rest with
/// their type. Long text is cut.
fn describe(v: &Value) -> String {
    let cut = |t: &str| -> String {
        let mut s: String = t.chars().take(60).collect();
        if t.chars().count() > 60 {
            s.push_str("...");
        }
        s
    };
    match v {
        Value::Str(t) => format!("'{}'", cut(t)),
        Value::Int(_) | Value::Double(_) | Value::Bool(_) => {
            v.to_text().unwrap_or_default().into_owned()
        }
        Value::Json(j) => format!("JSON {}", cut(&j.to_string())),
        Value::Lambda(_) => "a lambda".into(),
        // Not via to_text: event::format_date overflows on extreme day counts.
        Value::Date(d) => match super::time::date_text(*d) {
            Some(t) => format!("DATE {t}"),
            None => format!("DATE (day {d})"),
        },
        other => format!(
            "{} {}",
            other.type_name(),
            cut(&other.to_text().unwrap_or_default())
        ),
    }
}

fn fail(v: &Value, ty: &Type) -> FnError {
    FnError::new(format!("cannot cast {} to {ty}", describe(v))).with_code(CAST_FAILED)
}

fn fail_because(v: &Value, ty: &Type, why: &str) -> FnError {
    FnError::new(format!("cannot cast {} to {ty}: {why}", describe(v))).with_code(CAST_FAILED)
}

fn to_bool(v: &Value, ty: &Type) -> Result<Value, FnError> {
    match v {
        Value::Bool(_) => Ok(v.clone()),
        Value::Int(n) => Ok(Value::Bool(*n != 0)),
        Value::Double(d) if !d.is_nan() => Ok(Value::Bool(*d != 0.0)),
        Value::Str(t) => {
            let t = t.trim();
            if ["true", "t", "1"].iter().any(|w| w.eq_ignore_ascii_case(t)) {
                Ok(Value::Bool(true))
            } else if ["false", "f", "0"]
                .iter()
                .any(|w| w.eq_ignore_ascii_case(t))
            {
                Ok(Value::Bool(false))
            } else {
                Err(fail(v, ty))
            }
        }
        _ => Err(fail(v, ty)),
    }
}

fn int_range(ty: &Type) -> (i64, i64) {
    match ty {
        Type::Tinyint => (i8::MIN as i64, i8::MAX as i64),
        Type::Smallint => (i16::MIN as i64, i16::MAX as i64),
        Type::Integer => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    }
}

fn to_int(v: &Value, ty: &Type) -> Result<Value, FnError> {
    let n = match v {
        Value::Int(n) => *n,
        Value::Bool(b) => *b as i64,
        Value::Double(d) => {
            let r = d.round();
            // 2^63 is exactly representable; anything at or beyond it does not fit.
            if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&r) {
                return Err(fail_because(v, ty, "out of range"));
            }
            r as i64
        }
        Value::Str(t) => {
            let s = t.trim();
            let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(fail(v, ty));
            }
            s.parse::<i64>()
                .map_err(|_| fail_because(v, ty, "out of range"))?
        }
        Value::Timestamp(_) | Value::Date(_) => {
            return Err(fail_because(v, ty, "use to_unixtime() for Unix seconds"));
        }
        _ => return Err(fail(v, ty)),
    };
    let (lo, hi) = int_range(ty);
    if n < lo || n > hi {
        return Err(fail_because(v, ty, "out of range"));
    }
    Ok(Value::Int(n))
}

fn to_double(v: &Value, ty: &Type) -> Result<f64, FnError> {
    match v {
        Value::Double(d) => Ok(*d),
        Value::Int(n) => Ok(*n as f64),
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::Str(t) => parse_double(t).ok_or_else(|| fail(v, ty)),
        _ => Err(fail(v, ty)),
    }
}

fn to_decimal(v: &Value, ty: &Type, p: u8, s: u8) -> Result<Value, FnError> {
    let d = to_double(v, ty)?;
    if !d.is_finite() {
        return Err(fail(v, ty));
    }
    if s > p || p > 38 {
        return Err(fail_because(v, ty, "invalid precision/scale"));
    }
    let scale = 10f64.powi(s as i32);
    let rounded = (d * scale).round() / scale;
    if rounded.abs() >= 10f64.powi((p - s) as i32) {
        return Err(fail_because(v, ty, "out of range"));
    }
    Ok(Value::Double(rounded))
}

/// TIMESTAMP as Presto prints it: `YYYY-MM-DD HH:MM:SS.fff[ zone]`.
fn timestamp_text(t: Timestamp) -> String {
    let mut out = t.local().format("%Y-%m-%d %H:%M:%S%.3f").to_string();
    match t.zone {
        Zone::Utc => {}
        Zone::Offset(secs) => {
            let sign = if secs < 0 { '-' } else { '+' };
            let a = secs.unsigned_abs();
            out.push_str(&format!(" {sign}{:02}:{:02}", a / 3600, a % 3600 / 60));
        }
        Zone::Named(tz) => {
            out.push(' ');
            out.push_str(tz.name());
        }
    }
    out
}

fn to_varchar(v: &Value, ty: &Type) -> Result<Value, FnError> {
    match v {
        Value::Str(_) => Ok(v.clone()),
        Value::Int(n) => Ok(Value::string(n.to_string())),
        Value::Double(d) => Ok(Value::string(format_double(*d))),
        Value::Bool(b) => Ok(Value::str(if *b { "true" } else { "false" })),
        Value::Bytes(b) => Ok(Value::string(String::from_utf8_lossy(b).into_owned())),
        Value::Timestamp(t) => Ok(Value::string(timestamp_text(*t))),
        Value::Date(d) => super::time::date_text(*d)
            .map(Value::string)
            .ok_or_else(|| fail(v, ty)),
        _ => Err(fail(v, ty)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    fn ok(v: Value, ty: Type) -> Value {
        cast(&v, &ty).unwrap_or_else(|e| panic!("cast {v:?} to {ty}: {}", e.message))
    }

    fn err(v: Value, ty: Type) -> String {
        let e = cast(&v, &ty).expect_err(&format!("cast {v:?} to {ty} should fail"));
        assert_eq!(e.code, CAST_FAILED);
        e.message
    }

    fn arr(t: Type) -> Type {
        Type::Array(Box::new(t))
    }

    #[test]
    fn null_stays_null() {
        for ty in [
            Type::Bigint,
            Type::Varchar,
            Type::Json,
            Type::Timestamp,
            arr(Type::Bigint),
        ] {
            assert_eq!(ok(Value::Null, ty.clone()), Value::Null);
            if ty != Type::Json {
                assert_eq!(ok(Value::json(Json::Null), ty), Value::Null);
            }
        }
        assert_eq!(
            ok(Value::json(Json::Null), Type::Json),
            Value::json(Json::Null)
        );
    }

    #[test]
    fn text_to_integers() {
        assert_eq!(ok(s("42"), Type::Bigint), Value::Int(42));
        assert_eq!(ok(s(" -7 "), Type::Integer), Value::Int(-7));
        assert_eq!(ok(s("+7"), Type::Smallint), Value::Int(7));
        assert_eq!(ok(s("127"), Type::Tinyint), Value::Int(127));
        assert_eq!(
            ok(s("9223372036854775807"), Type::Bigint),
            Value::Int(i64::MAX)
        );
        assert_eq!(ok(s("1"), Type::Hugeint), Value::Int(1));
        assert_eq!(err(s("abc"), Type::Bigint), "cannot cast 'abc' to BIGINT");
        assert_eq!(err(s("12.0"), Type::Bigint), "cannot cast '12.0' to BIGINT");
        assert_eq!(err(s(""), Type::Bigint), "cannot cast '' to BIGINT");
        assert_eq!(err(s("-"), Type::Bigint), "cannot cast '-' to BIGINT");
        assert_eq!(err(s("1e3"), Type::Bigint), "cannot cast '1e3' to BIGINT");
        assert_eq!(
            err(s("128"), Type::Tinyint),
            "cannot cast '128' to TINYINT: out of range"
        );
        assert_eq!(
            err(s("40000"), Type::Smallint),
            "cannot cast '40000' to SMALLINT: out of range"
        );
        assert_eq!(
            err(s("3000000000"), Type::Integer),
            "cannot cast '3000000000' to INTEGER: out of range"
        );
        assert_eq!(
            err(s("99999999999999999999"), Type::Bigint),
            "cannot cast '99999999999999999999' to BIGINT: out of range"
        );
        let long = "9".repeat(200);
        assert!(err(s(&long), Type::Bigint).contains("..."));
    }

    #[test]
    fn numbers_between_types() {
        assert_eq!(ok(Value::Double(2.5), Type::Bigint), Value::Int(3));
        assert_eq!(ok(Value::Double(-2.5), Type::Bigint), Value::Int(-3));
        assert_eq!(ok(Value::Double(2.4), Type::Integer), Value::Int(2));
        assert_eq!(
            ok(Value::Double(i64::MIN as f64), Type::Bigint),
            Value::Int(i64::MIN)
        );
        assert!(err(Value::Double(-(i64::MIN as f64)), Type::Bigint).contains("out of range"));
        assert!(err(Value::Double(f64::NAN), Type::Bigint).contains("NaN"));
        assert!(err(Value::Double(f64::INFINITY), Type::Bigint).contains("out of range"));
        assert_eq!(
            err(Value::Int(300), Type::Tinyint),
            "cannot cast 300 to TINYINT: out of range"
        );
        assert_eq!(ok(Value::Bool(true), Type::Bigint), Value::Int(1));
        assert_eq!(ok(Value::Int(3), Type::Double), Value::Double(3.0));
        assert_eq!(ok(Value::Int(3), Type::Real), Value::Double(3.0));
        assert_eq!(ok(s("1.5"), Type::Double), Value::Double(1.5));
        assert_eq!(ok(s(" 1e3 "), Type::Double), Value::Double(1000.0));
        assert!(matches!(ok(s("NaN"), Type::Double), Value::Double(d) if d.is_nan()));
        assert_eq!(
            ok(s("-Infinity"), Type::Double),
            Value::Double(f64::NEG_INFINITY)
        );
        assert_eq!(err(s("1.5x"), Type::Double), "cannot cast '1.5x' to DOUBLE");
        assert_eq!(
            ok(s("1.234"), Type::Decimal(Some((10, 2)))),
            Value::Double(1.23)
        );
        assert_eq!(ok(s("1.235"), Type::Decimal(None)), Value::Double(1.235));
        assert!(err(Value::Double(123.0), Type::Decimal(Some((4, 2)))).contains("out of range"));
        assert!(
            err(Value::Double(f64::NAN), Type::Decimal(Some((4, 2)))).contains("DECIMAL(4, 2)")
        );
        assert!(err(Value::Timestamp(Timestamp::utc(0)), Type::Bigint).contains("to_unixtime"));
        assert!(err(Value::Timestamp(Timestamp::utc(0)), Type::Double).contains("TIMESTAMP"));
    }

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", " t ", "1"] {
            assert_eq!(ok(s(t), Type::Boolean), Value::Bool(true), "{t}");
        }
        for t in ["false", "False", "f", "0"] {
            assert_eq!(ok(s(t), Type::Boolean), Value::Bool(false), "{t}");
        }
        assert_eq!(err(s("yes"), Type::Boolean), "cannot cast 'yes' to BOOLEAN");
        assert_eq!(ok(Value::Int(2), Type::Boolean), Value::Bool(true));
        assert_eq!(ok(Value::Double(0.0), Type::Boolean), Value::Bool(false));
        assert_eq!(ok(Value::Bool(true), Type::Varchar), s("true"));
    }

    #[test]
    fn to_text() {
        assert_eq!(ok(Value::Int(-5), Type::Varchar), s("-5"));
        assert_eq!(ok(Value::Double(100.0), Type::Varchar), s("100.0"));
        assert_eq!(ok(Value::Double(0.1), Type::Varchar), s("0.1"));
        assert_eq!(
            ok(Value::Bytes(Arc::from(&b"hi"[..])), Type::Varchar),
            s("hi")
        );
        assert_eq!(ok(Value::Date(19284), Type::Varchar), s("2022-10-19"));
        let t = parse_timestamp_text("2022-10-19 15:46:05.5").unwrap();
        assert_eq!(
            ok(Value::Timestamp(t), Type::Varchar),
            s("2022-10-19 15:46:05.500")
        );
        let off = Timestamp {
            zone: Zone::Offset(3600),
            ..t
        };
        assert_eq!(
            ok(Value::Timestamp(off), Type::Varchar),
            s("2022-10-19 16:46:05.500 +01:00")
        );
        let sh = Timestamp {
            zone: Zone::Named(chrono_tz::Asia::Shanghai),
            ..t
        };
        assert_eq!(
            ok(Value::Timestamp(sh), Type::Varchar),
            s("2022-10-19 23:46:05.500 Asia/Shanghai")
        );
        assert!(
            err(Value::array(vec![Value::Int(1)]), Type::Varchar)
                .starts_with("cannot cast ARRAY [1] to VARCHAR")
        );
        assert!(cast(&Value::Lambda(0), &Type::Varchar).is_err());
    }

    #[test]
    fn varbinary() {
        assert_eq!(
            ok(s("héllo"), Type::Varbinary),
            Value::Bytes(Arc::from("héllo".as_bytes()))
        );
        assert_eq!(
            ok(Value::Int(12), Type::Varbinary),
            Value::Bytes(Arc::from(&b"12"[..]))
        );
        let b = Value::Bytes(Arc::from(&[0xffu8][..]));
        assert_eq!(ok(b.clone(), Type::Varbinary), b);
    }

    #[test]
    fn timestamps_and_dates() {
        let t = ok(s("2022-10-19 15:46:05"), Type::Timestamp);
        assert_eq!(
            t,
            Value::Timestamp(parse_timestamp_text("2022-10-19T15:46:05Z").unwrap())
        );
        let z = ok(s("2022-10-19T15:46:05.123+08:00"), Type::Timestamp);
        let Value::Timestamp(zt) = z else { panic!() };
        assert_eq!(zt.to_rfc3339(), "2022-10-19T15:46:05.123+08:00");
        assert_eq!(
            err(s("19/Oct/2022"), Type::Timestamp),
            "cannot cast '19/Oct/2022' to TIMESTAMP"
        );
        assert!(err(Value::Int(0), Type::Timestamp).contains("from_unixtime"));
        assert_eq!(
            ok(Value::Date(1), Type::Timestamp),
            Value::Timestamp(Timestamp::utc(86_400_000_000_000))
        );
        assert!(cast(&Value::Date(i32::MAX), &Type::Timestamp).is_err());
        assert!(cast(&Value::Date(i32::MAX), &Type::Varchar).is_err());
        assert!(err(Value::Date(i32::MIN), Type::Bigint).contains("DATE (day"));
        assert_eq!(ok(s("2022-10-19"), Type::Date), Value::Date(19284));
        assert_eq!(ok(s("2022-10-19 23:59:59"), Type::Date), Value::Date(19284));
        assert_eq!(ok(Value::Timestamp(zt), Type::Date), Value::Date(19284));
        let late = Timestamp {
            nanos: parse_timestamp_text("2022-10-19T20:00:00Z").unwrap().nanos,
            zone: Zone::Offset(8 * 3600),
        };
        assert_eq!(ok(Value::Timestamp(late), Type::Date), Value::Date(19285));
        assert_eq!(
            ok(Value::Timestamp(Timestamp::utc(-1)), Type::Date),
            Value::Date(-1)
        );
        assert_eq!(
            err(s("2022-02-30"), Type::Date),
            "cannot cast '2022-02-30' to DATE"
        );
    }

    #[test]
    fn json_conversions() {
        // VARCHAR → JSON is a JSON string (Presto), not a parse.
        assert_eq!(
            ok(s(r#"{"a":1}"#), Type::Json),
            Value::json(json!(r#"{"a":1}"#))
        );
        assert_eq!(ok(Value::Int(1), Type::Json), Value::json(json!(1)));
        assert_eq!(
            ok(Value::array(vec![Value::Int(1), s("a")]), Type::Json),
            Value::json(json!([1, "a"]))
        );
        let m = Value::Map(Arc::new(vec![(s("k"), Value::Bool(true))]));
        assert_eq!(ok(m, Type::Json), Value::json(json!({"k": true})));
        // JSON → scalars
        assert_eq!(ok(Value::json(json!("abc")), Type::Varchar), s("abc"));
        assert_eq!(ok(Value::json(json!(1.50)), Type::Varchar), s("1.5"));
        assert_eq!(ok(Value::json(json!(12)), Type::Varchar), s("12"));
        assert_eq!(ok(Value::json(json!(true)), Type::Varchar), s("true"));
        assert_eq!(ok(Value::json(json!(12)), Type::Bigint), Value::Int(12));
        assert_eq!(ok(Value::json(json!(12.5)), Type::Bigint), Value::Int(13));
        assert_eq!(ok(Value::json(json!("12")), Type::Bigint), Value::Int(12));
        assert_eq!(
            ok(Value::json(json!(12)), Type::Double),
            Value::Double(12.0)
        );
        assert_eq!(
            ok(Value::json(json!(true)), Type::Boolean),
            Value::Bool(true)
        );
        assert_eq!(
            ok(Value::json(json!("2022-10-19")), Type::Date),
            Value::Date(19284)
        );
        assert_eq!(
            err(Value::json(json!({"a": 1})), Type::Varchar),
            r#"cannot cast JSON {"a":1} to VARCHAR"#
        );
        assert_eq!(
            err(Value::json(json!([1])), Type::Bigint),
            "cannot cast JSON [1] to BIGINT"
        );
        assert_eq!(
            err(Value::json(json!("x")), Type::Bigint),
            r#"cannot cast JSON "x" to BIGINT"#
        );
        assert_eq!(
            err(Value::json(json!(u64::MAX)), Type::Bigint),
            "cannot cast JSON 18446744073709551615 to BIGINT"
        );
        assert_eq!(
            ok(Value::json(json!(u64::MAX)), Type::Varchar),
            s("18446744073709551615")
        );
        let j = Value::json(json!({"a": [1]}));
        assert_eq!(ok(j.clone(), Type::Json), j);
    }

    #[test]
    fn arrays_and_maps() {
        assert_eq!(
            ok(s("[1, 2]"), arr(Type::Bigint)),
            Value::array(vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(
            ok(s(r#"["1", null]"#), arr(Type::Bigint)),
            Value::array(vec![Value::Int(1), Value::Null])
        );
        assert_eq!(
            ok(Value::json(json!([1.5, "x"])), arr(Type::Varchar)),
            Value::array(vec![s("1.5"), s("x")])
        );
        assert_eq!(
            ok(Value::json(json!([[1], [2, 3]])), arr(arr(Type::Integer))).to_json(),
            json!([[1], [2, 3]])
        );
        assert_eq!(
            ok(Value::json(json!([{"a": 1}])), arr(Type::Json)),
            Value::array(vec![Value::json(json!({"a": 1}))])
        );
        assert_eq!(
            ok(Value::array(vec![s("1"), s("2")]), arr(Type::Double)),
            Value::array(vec![Value::Double(1.0), Value::Double(2.0)])
        );
        let e = err(s(r#"[1, "x"]"#), arr(Type::Bigint));
        assert_eq!(
            e,
            r#"cannot cast 'x' to BIGINT (in element 2 of the cast to ARRAY(BIGINT))"#
        );
        assert_eq!(
            err(s("1,2"), arr(Type::Bigint)),
            "cannot cast '1,2' to ARRAY(BIGINT)"
        );
        assert_eq!(
            err(s(r#"{"a":1}"#), arr(Type::Bigint)),
            r#"cannot cast '{"a":1}' to ARRAY(BIGINT)"#
        );
        assert!(err(Value::Int(1), arr(Type::Bigint)).contains("ARRAY(BIGINT)"));

        let mt = Type::Map(Box::new(Type::Varchar), Box::new(Type::Bigint));
        let m = ok(s(r#"{"a": 1, "b": "2"}"#), mt.clone());
        assert_eq!(
            m,
            Value::Map(Arc::new(vec![
                (s("a"), Value::Int(1)),
                (s("b"), Value::Int(2))
            ]))
        );
        assert_eq!(
            ok(
                m.clone(),
                Type::Map(Box::new(Type::Varchar), Box::new(Type::Varchar))
            )
            .to_json(),
            json!({"a": "1", "b": "2"})
        );
        assert!(err(s(r#"{"a": "x"}"#), mt.clone()).contains("the value of key 'a'"));
        let ik = Type::Map(Box::new(Type::Bigint), Box::new(Type::Varchar));
        assert!(err(s(r#"{"1": "a", "01": "b"}"#), ik.clone()).contains("duplicate map key"));
        assert!(err(s(r#"{"x": "a"}"#), ik).contains("in a key"));
        assert!(err(s("[1]"), mt).contains("MAP(VARCHAR, BIGINT)"));
    }
}

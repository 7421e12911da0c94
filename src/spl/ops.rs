//! Operator semantics on values: comparison, equality and arithmetic with SPL.md decision 2
//! (lenient coercion: text meeting a number is read as a number when it parses as one).
//!
//! Owns `compare`, `equal`, `arith`, `Coercion`. Used by the runner and by functions that
//! compare elements (array_sort, contains...). No per-call allocation on the common paths.

use crate::diagnostic::codes;
use crate::event::Value;
use crate::spl::ast::BinaryOp;
use crate::spl::functions::{FnError, parse_number};
use std::cmp::Ordering;

/// Whether text may silently become a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Coercion {
    /// SPL.md decision 2: text that parses as a number is a number, otherwise NULL.
    #[default]
    Lenient,
    /// Presto: comparing or adding text and a number is a type error.
    Strict,
}

/// The outcome of coercing a pair of values for an operator.
enum Pair {
    Ints(i64, i64),
    Doubles(f64, f64),
    /// The pair could not be made comparable: NULL result (lenient) or error (strict).
    Incompatible,
}

fn numeric_pair(a: &Value, b: &Value) -> Option<Pair> {
    let num = |v: &Value| -> Option<Value> {
        match v {
            Value::Int(_) | Value::Double(_) => Some(v.clone()),
            Value::Str(t) => parse_number(t),
            Value::Json(j) => j
                .as_i64()
                .map(Value::Int)
                .or_else(|| j.as_f64().map(Value::Double))
                .or_else(|| j.as_str().and_then(parse_number)),
            Value::Bool(b) => Some(Value::Int(*b as i64)),
            _ => None,
        }
    };
    let (x, y) = (num(a), num(b));
    Some(match (x, y) {
        (Some(Value::Int(x)), Some(Value::Int(y))) => Pair::Ints(x, y),
        (Some(x), Some(y)) => Pair::Doubles(as_f64(&x), as_f64(&y)),
        _ => Pair::Incompatible,
    })
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Double(d) => *d,
        _ => f64::NAN,
    }
}

fn is_numeric(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Double(_))
}

/// SQL comparison. `Ok(None)` when either side is NULL or (lenient) the values cannot be
/// compared; `Err` in strict mode on a type mismatch.
pub fn compare(a: &Value, b: &Value, mode: Coercion) -> Result<Option<Ordering>, FnError> {
    use Value::*;
    Ok(match (a, b) {
        (Null, _) | (_, Null) => None,
        (Str(x), Str(y)) => Some(x.as_str().cmp(y.as_str())),
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Timestamp(x), Timestamp(y)) => Some(x.nanos.cmp(&y.nanos)),
        (Date(x), Date(y)) => Some(x.cmp(y)),
        (Bytes(x), Bytes(y)) => Some(x.cmp(y)),
        (Timestamp(t), Date(d)) => Some(t.nanos.cmp(&(*d as i64 * 86_400_000_000_000))),
        (Date(d), Timestamp(t)) => Some((*d as i64 * 86_400_000_000_000).cmp(&t.nanos)),
        (Json(x), Json(y)) => (x == y)
            .then_some(Ordering::Equal)
            .or_else(|| Some(x.to_string().cmp(&y.to_string()))),
        (Array(x), Array(y)) | (Row(x), Row(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match compare(p, q, mode)? {
                    Some(Ordering::Equal) => continue,
                    other => return Ok(other),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        (Map(x), Map(y)) => (x == y).then_some(Ordering::Equal),
        _ if is_numeric(a) || is_numeric(b) => {
            if mode == Coercion::Strict && !(is_numeric(a) && is_numeric(b)) {
                return Err(type_error("compare", a, b));
            }
            match numeric_pair(a, b) {
                Some(Pair::Ints(x, y)) => Some(x.cmp(&y)),
                Some(Pair::Doubles(x, y)) => x.partial_cmp(&y),
                _ => None,
            }
        }
        (Str(_), Json(_))
        | (Json(_), Str(_))
        | (Str(_), Timestamp(_))
        | (Timestamp(_), Str(_))
        | (Str(_), Bool(_))
        | (Bool(_), Str(_)) => {
            if mode == Coercion::Strict {
                return Err(type_error("compare", a, b));
            }
            let (x, y) = (a.to_text(), b.to_text());
            match (x, y) {
                (Some(x), Some(y)) => Some(x.as_ref().cmp(y.as_ref())),
                _ => None,
            }
        }
        _ => {
            if mode == Coercion::Strict {
                return Err(type_error("compare", a, b));
            }
            None
        }
    })
}

/// SQL `=`: `None` when NULL is involved.
pub fn equal(a: &Value, b: &Value, mode: Coercion) -> Result<Option<bool>, FnError> {
    if let (Value::Double(x), Value::Double(y)) = (a, b) {
        return Ok(Some(x == y));
    }
    Ok(compare(a, b, mode)?.map(|o| o == Ordering::Equal))
}

/// `IS NOT DISTINCT FROM`: equality where NULL equals NULL; never NULL itself.
pub fn not_distinct(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        _ => equal(a, b, Coercion::Lenient)
            .ok()
            .flatten()
            .unwrap_or(false),
    }
}

/// A total order for sorting (NULLs last), used by `array_sort`, `sort`, `array_max`...
pub fn sort_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        _ => compare(a, b, Coercion::Lenient)
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                a.to_text()
                    .unwrap_or_default()
                    .cmp(&b.to_text().unwrap_or_default())
            }),
    }
}

fn type_error(what: &str, a: &Value, b: &Value) -> FnError {
    FnError::new(format!(
        "cannot {what} {} and {}",
        a.type_name(),
        b.type_name()
    ))
    .with_code(codes::TYPE_MISMATCH)
}

/// Arithmetic `+ - * / %` with integer overflow and division by zero as errors. Returns
/// `Ok(Value::Null)` for NULL operands or (lenient) text that is not a number.
pub fn arith(op: BinaryOp, a: &Value, b: &Value, mode: Coercion) -> Result<Value, FnError> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    // timestamp ± interval is not in the dialect; date arithmetic goes through date_add.
    if mode == Coercion::Strict && !(is_numeric(a) && is_numeric(b)) {
        return Err(type_error(op_verb(op), a, b));
    }
    let Some(pair) = numeric_pair(a, b) else {
        return Ok(Value::Null);
    };
    Ok(match pair {
        Pair::Incompatible => Value::Null,
        Pair::Ints(x, y) => {
            let r = match op {
                BinaryOp::Add => x.checked_add(y),
                BinaryOp::Sub => x.checked_sub(y),
                BinaryOp::Mul => x.checked_mul(y),
                BinaryOp::Div | BinaryOp::Mod if y == 0 => {
                    return Err(FnError::new("division by zero").with_code(codes::DIVISION_BY_ZERO));
                }
                BinaryOp::Div => x.checked_div(y),
                BinaryOp::Mod => x.checked_rem(y),
                _ => unreachable!("not an arithmetic operator"),
            };
            Value::Int(r.ok_or_else(|| {
                FnError::new(format!("bigint overflow in {x} {} {y}", op.symbol()))
            })?)
        }
        Pair::Doubles(x, y) => Value::Double(match op {
            BinaryOp::Add => x + y,
            BinaryOp::Sub => x - y,
            BinaryOp::Mul => x * y,
            BinaryOp::Div => x / y,
            BinaryOp::Mod => x % y,
            _ => unreachable!("not an arithmetic operator"),
        }),
    })
}

fn op_verb(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "add",
        BinaryOp::Sub => "subtract",
        BinaryOp::Mul => "multiply",
        BinaryOp::Div => "divide",
        _ => "compute the remainder of",
    }
}

/// Unary minus.
pub fn negate(v: &Value, mode: Coercion) -> Result<Value, FnError> {
    arith(BinaryOp::Sub, &Value::Int(0), v, mode).map(|r| match (v, r) {
        (Value::Double(_), Value::Int(i)) => Value::Double(i as f64),
        (_, r) => r,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_compares_to_numbers_leniently() {
        let s = Value::str("404");
        assert_eq!(
            compare(&s, &Value::Int(400), Coercion::Lenient).unwrap(),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&Value::str("abc"), &Value::Int(400), Coercion::Lenient).unwrap(),
            None
        );
        assert!(compare(&s, &Value::Int(400), Coercion::Strict).is_err());
    }

    #[test]
    fn text_sorts_as_text() {
        assert_eq!(
            compare(&Value::str("10"), &Value::str("9"), Coercion::Lenient).unwrap(),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn arithmetic() {
        let m = Coercion::Lenient;
        assert_eq!(
            arith(BinaryOp::Add, &Value::str("2"), &Value::Int(3), m).unwrap(),
            Value::Int(5)
        );
        assert_eq!(
            arith(BinaryOp::Div, &Value::Int(7), &Value::Int(2), m).unwrap(),
            Value::Int(3)
        );
        assert_eq!(
            arith(BinaryOp::Div, &Value::Double(7.0), &Value::Int(2), m).unwrap(),
            Value::Double(3.5)
        );
        assert!(arith(BinaryOp::Div, &Value::Int(7), &Value::Int(0), m).is_err());
        assert_eq!(
            arith(BinaryOp::Add, &Value::str("x"), &Value::Int(3), m).unwrap(),
            Value::Null
        );
        assert!(arith(BinaryOp::Add, &Value::Int(i64::MAX), &Value::Int(1), m).is_err());
        assert_eq!(negate(&Value::Double(1.5), m).unwrap(), Value::Double(-1.5));
    }

    #[test]
    fn null_is_not_distinct_from_null() {
        assert!(not_distinct(&Value::Null, &Value::Null));
        assert!(!not_distinct(&Value::Null, &Value::Int(1)));
        assert_eq!(
            equal(&Value::Null, &Value::Int(1), Coercion::Lenient).unwrap(),
            None
        );
    }
}

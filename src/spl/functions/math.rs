//! SPL functions: the math family, with Presto's result types: integer functions of a
//! BIGINT stay BIGINT (`abs`, `ceil`, `round`, `mod`, `sign`...), transcendental ones give
//! DOUBLE, and integer overflow is an error rather than a wrap.
//!
//! Owns rounding, `mod`, powers and logarithms, trigonometry, `rand`/`random`, NaN and
//! infinity tests, `from_base`/`to_base`, `width_bucket`, `greatest`/`least` and the bitwise
//! functions. Text arguments that parse as numbers are accepted (SPL.md decision 2).
//! Depends on the registry and `ops::compare`.

use super::{
    Env, FnError, FnResult, Function, Kind, Param, Prepared, double_arg, ex, int_arg, number_arg,
};
use crate::diagnostic::codes;
use crate::event::Value;
use crate::spl::ops::{Coercion, compare};
use std::cell::Cell;
use std::cmp::Ordering;

const X: &[Param] = &[Param::req("x", Kind::Number)];
const XY: &[Param] = &[Param::req("x", Kind::Number), Param::req("y", Kind::Number)];
const AB: &[Param] = &[Param::req("a", Kind::Int), Param::req("b", Kind::Int)];
const SHIFT: &[Param] = &[
    Param::req("value", Kind::Int),
    Param::req("shift", Kind::Int),
];
const SHIFT_BITS: &[Param] = &[
    Param::req("x", Kind::Int),
    Param::req("shift", Kind::Int),
    Param::req("bits", Kind::Int),
];

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new(
        "abs",
        X,
        Kind::Number,
        "Absolute value (BIGINT stays BIGINT).",
        &[ex("abs(-5)", "5"), ex("abs(-1.5)", "1.5")],
        abs,
    ),
    Function::new(
        "ceil",
        X,
        Kind::Number,
        "Rounds up to the nearest integer (BIGINT stays BIGINT, DOUBLE stays DOUBLE).",
        &[
            ex("ceil(1.2)", "2.0"),
            ex("ceil(-1.5)", "-1.0"),
            ex("ceil(7)", "7"),
        ],
        ceil,
    ),
    Function::new(
        "ceiling",
        X,
        Kind::Number,
        "Alias of ceil: rounds up to the nearest integer.",
        &[ex("ceiling(1.2)", "2.0")],
        ceil,
    ),
    Function::new(
        "floor",
        X,
        Kind::Number,
        "Rounds down to the nearest integer (BIGINT stays BIGINT, DOUBLE stays DOUBLE).",
        &[ex("floor(-1.2)", "-2.0"), ex("floor(7)", "7")],
        floor,
    ),
    Function::new(
        "round",
        &[
            Param::req("x", Kind::Number),
            Param::opt("decimals", Kind::Int),
        ],
        Kind::Number,
        "Rounds half away from zero to the given number of decimals (default 0; negative rounds to tens, hundreds...).",
        &[
            ex("round(2.5)", "3.0"),
            ex("round(-2.5)", "-3.0"),
            ex("round(3.14159, 2)", "3.14"),
            ex("round(1250, -2)", "1300"),
        ],
        round,
    ),
    Function::new(
        "truncate",
        &[
            Param::req("x", Kind::Number),
            Param::opt("decimals", Kind::Int),
        ],
        Kind::Number,
        "Rounds toward zero, to the given number of decimals (default 0).",
        &[
            ex("truncate(-2.7)", "-2.0"),
            ex("truncate(3.14159, 2)", "3.14"),
        ],
        truncate,
    ),
    Function::new(
        "mod",
        &[Param::req("n", Kind::Number), Param::req("m", Kind::Number)],
        Kind::Number,
        "Remainder of n divided by m, with the sign of n; a BIGINT division by zero is an error.",
        &[
            ex("mod(7, 3)", "1"),
            ex("mod(-7, 3)", "-1"),
            ex("mod(7.5, 2)", "1.5"),
        ],
        modulo,
    ),
    Function::new(
        "pow",
        XY,
        Kind::Double,
        "x raised to the power y.",
        &[ex("pow(2, 10)", "1024.0")],
        pow,
    ),
    Function::new(
        "power",
        XY,
        Kind::Double,
        "Alias of pow: x raised to the power y.",
        &[ex("power(2, 0.5) = sqrt(2)", "true")],
        pow,
    ),
    Function::new(
        "sqrt",
        X,
        Kind::Double,
        "Square root (NaN for negative input).",
        &[ex("sqrt(16)", "4.0")],
        sqrt,
    ),
    Function::new(
        "cbrt",
        X,
        Kind::Double,
        "Cube root.",
        &[ex("cbrt(27)", "3.0"), ex("cbrt(-8)", "-2.0")],
        cbrt,
    ),
    Function::new(
        "exp",
        X,
        Kind::Double,
        "Euler's number raised to the power x.",
        &[ex("exp(0)", "1.0")],
        exp,
    ),
    Function::new(
        "ln",
        X,
        Kind::Double,
        "Natural logarithm.",
        &[ex("ln(1)", "0.0"), ex("ln(e())", "1.0")],
        ln,
    ),
    Function::new(
        "log2",
        X,
        Kind::Double,
        "Base-2 logarithm.",
        &[ex("log2(8)", "3.0")],
        log2,
    ),
    Function::new(
        "log10",
        X,
        Kind::Double,
        "Base-10 logarithm.",
        &[ex("log10(1000)", "3.0")],
        log10,
    ),
    Function::new(
        "log",
        &[
            Param::req("base", Kind::Number),
            Param::req("x", Kind::Number),
        ],
        Kind::Double,
        "Logarithm of x in the given base.",
        &[ex("log(2, 8)", "3.0"), ex("log(10, 100)", "2.0")],
        log,
    ),
    Function::new(
        "sign",
        X,
        Kind::Number,
        "-1, 0 or 1 by the sign of x (BIGINT for BIGINT input, DOUBLE for DOUBLE input).",
        &[ex("sign(-3)", "-1"), ex("sign(2.5)", "1.0")],
        sign,
    ),
    Function::new(
        "sin",
        X,
        Kind::Double,
        "Sine of x radians.",
        &[ex("sin(0)", "0.0")],
        sin,
    ),
    Function::new(
        "cos",
        X,
        Kind::Double,
        "Cosine of x radians.",
        &[ex("cos(0)", "1.0")],
        cos,
    ),
    Function::new(
        "tan",
        X,
        Kind::Double,
        "Tangent of x radians.",
        &[ex("tan(0)", "0.0")],
        tan,
    ),
    Function::new(
        "asin",
        X,
        Kind::Double,
        "Arc sine, in radians.",
        &[ex("asin(0)", "0.0"), ex("asin(1) = pi() / 2", "true")],
        asin,
    ),
    Function::new(
        "acos",
        X,
        Kind::Double,
        "Arc cosine, in radians.",
        &[ex("acos(1)", "0.0")],
        acos,
    ),
    Function::new(
        "atan",
        X,
        Kind::Double,
        "Arc tangent, in radians.",
        &[ex("atan(0)", "0.0")],
        atan,
    ),
    Function::new(
        "atan2",
        &[Param::req("y", Kind::Number), Param::req("x", Kind::Number)],
        Kind::Double,
        "Arc tangent of y / x, in radians, using the signs of both to pick the quadrant.",
        &[
            ex("atan2(0, 1)", "0.0"),
            ex("atan2(1, 0) = pi() / 2", "true"),
        ],
        atan2,
    ),
    Function::new(
        "cosh",
        X,
        Kind::Double,
        "Hyperbolic cosine.",
        &[ex("cosh(0)", "1.0")],
        cosh,
    ),
    Function::new(
        "tanh",
        X,
        Kind::Double,
        "Hyperbolic tangent.",
        &[ex("tanh(0)", "0.0")],
        tanh,
    ),
    Function::new(
        "degrees",
        X,
        Kind::Double,
        "Converts radians to degrees.",
        &[ex("degrees(pi())", "180.0")],
        degrees,
    ),
    Function::new(
        "radians",
        X,
        Kind::Double,
        "Converts degrees to radians.",
        &[ex("radians(180) = pi()", "true")],
        radians,
    ),
    Function::new(
        "pi",
        &[],
        Kind::Double,
        "The constant π.",
        &[ex("round(pi(), 4)", "3.1416")],
        pi,
    ),
    Function::new(
        "e",
        &[],
        Kind::Double,
        "Euler's number.",
        &[ex("round(e(), 4)", "2.7183")],
        e,
    ),
    Function::new(
        "rand",
        &[Param::opt("n", Kind::Int)],
        Kind::Number,
        "A pseudo-random DOUBLE in [0, 1), or with n a BIGINT in [0, n).",
        &[ex("rand() < 1", "true"), ex("rand(1)", "0")],
        rand,
    ),
    Function::new(
        "random",
        &[Param::opt("n", Kind::Int)],
        Kind::Number,
        "Alias of rand: a pseudo-random DOUBLE in [0, 1), or with n a BIGINT in [0, n).",
        &[ex("random() >= 0", "true"), ex("random(1)", "0")],
        rand,
    ),
    Function::new(
        "is_nan",
        X,
        Kind::Bool,
        "Whether x is NaN.",
        &[ex("is_nan(nan())", "true"), ex("is_nan(1.0)", "false")],
        is_nan,
    ),
    Function::new(
        "is_finite",
        X,
        Kind::Bool,
        "Whether x is neither infinite nor NaN.",
        &[
            ex("is_finite(1.5)", "true"),
            ex("is_finite(infinity())", "false"),
        ],
        is_finite,
    ),
    Function::new(
        "is_infinite",
        X,
        Kind::Bool,
        "Whether x is positive or negative infinity.",
        &[ex("is_infinite(-infinity())", "true")],
        is_infinite,
    ),
    Function::new(
        "nan",
        &[],
        Kind::Double,
        "The NaN (not a number) DOUBLE.",
        &[ex("is_nan(nan())", "true")],
        nan,
    ),
    Function::new(
        "infinity",
        &[],
        Kind::Double,
        "Positive infinity.",
        &[ex("infinity() > 1e308", "true")],
        infinity,
    ),
    Function::new(
        "from_base",
        &[
            Param::req("string", Kind::Str),
            Param::req("radix", Kind::Int),
        ],
        Kind::Int,
        "Parses a string as a BIGINT in the given radix (2 to 36).",
        &[
            ex("from_base('ff', 16)", "255"),
            ex("from_base('-101', 2)", "-5"),
        ],
        from_base,
    ),
    Function::new(
        "to_base",
        &[Param::req("x", Kind::Int), Param::req("radix", Kind::Int)],
        Kind::Str,
        "Writes a BIGINT in the given radix (2 to 36), lower-case digits.",
        &[
            ex("to_base(255, 16)", r#""ff""#),
            ex("to_base(-5, 2)", r#""-101""#),
        ],
        to_base,
    ),
    Function::new(
        "width_bucket",
        &[
            Param::req("x", Kind::Number),
            Param::req("bound1_or_bins", Kind::Any),
            Param::opt("bound2", Kind::Number),
            Param::opt("buckets", Kind::Int),
        ],
        Kind::Int,
        "Two forms: width_bucket(x, bound1, bound2, n) is x's bucket in n equi-width buckets between the bounds (0 below, n + 1 above); width_bucket(x, bins) with an ascending array of bins is how many bins are <= x.",
        &[
            ex("width_bucket(5.3, 0.0, 10.0, 5)", "3"),
            ex("width_bucket(-1, 0, 10, 5)", "0"),
            ex("width_bucket(5, ARRAY[1, 3, 5, 7])", "3"),
            ex("width_bucket(0.5, ARRAY[1.0, 2.0])", "0"),
            ex("width_bucket(9, ARRAY[1, 3, 5, 7])", "4"),
        ],
        width_bucket,
    )
    .prepare(prepare_width_bucket),
    Function::new(
        "greatest",
        &[
            Param::req("value", Kind::Any),
            Param::variadic("more", Kind::Any),
        ],
        Kind::Any,
        "The largest argument; NULL if any argument is NULL.",
        &[
            ex("greatest(1, 5, 3)", "5"),
            ex("greatest('a', 'c', 'b')", r#""c""#),
            ex("greatest(1, 2.5)", "2.5"),
        ],
        greatest,
    ),
    Function::new(
        "least",
        &[
            Param::req("value", Kind::Any),
            Param::variadic("more", Kind::Any),
        ],
        Kind::Any,
        "The smallest argument; NULL if any argument is NULL.",
        &[ex("least(1, 5, 3)", "1"), ex("least(2, 0.5)", "0.5")],
        least,
    ),
    Function::new(
        "bit_count",
        &[Param::req("x", Kind::Int), Param::req("bits", Kind::Int)],
        Kind::Int,
        "Number of set bits in x as a two's-complement integer of the given width (2 to 64).",
        &[ex("bit_count(9, 64)", "2"), ex("bit_count(-1, 8)", "8")],
        bit_count,
    ),
    Function::new(
        "bitwise_and",
        AB,
        Kind::Int,
        "Bitwise AND of two BIGINTs.",
        &[ex("bitwise_and(12, 10)", "8")],
        bitwise_and,
    ),
    Function::new(
        "bitwise_or",
        AB,
        Kind::Int,
        "Bitwise OR of two BIGINTs.",
        &[ex("bitwise_or(12, 10)", "14")],
        bitwise_or,
    ),
    Function::new(
        "bitwise_xor",
        AB,
        Kind::Int,
        "Bitwise XOR of two BIGINTs.",
        &[ex("bitwise_xor(12, 10)", "6")],
        bitwise_xor,
    ),
    Function::new(
        "bitwise_not",
        &[Param::req("x", Kind::Int)],
        Kind::Int,
        "Bitwise NOT (two's complement) of a BIGINT.",
        &[ex("bitwise_not(0)", "-1")],
        bitwise_not,
    ),
    Function::new(
        "bitwise_left_shift",
        SHIFT,
        Kind::Int,
        "Shifts a BIGINT left by shift bits (0 when shift is 64 or more).",
        &[ex("bitwise_left_shift(1, 4)", "16")],
        bitwise_left_shift,
    ),
    Function::new(
        "bitwise_right_shift",
        SHIFT,
        Kind::Int,
        "Logical right shift of a BIGINT (zero fill; 0 when shift is 64 or more).",
        &[ex("bitwise_right_shift(-1, 60)", "15")],
        bitwise_right_shift,
    ),
    Function::new(
        "bitwise_arithmetic_shift_right",
        SHIFT,
        Kind::Int,
        "Arithmetic right shift of a BIGINT (sign fill; -1 or 0 when shift is 64 or more). Older Presto name of bitwise_right_shift_arithmetic.",
        &[
            ex("bitwise_arithmetic_shift_right(-8, 2)", "-2"),
            ex("bitwise_arithmetic_shift_right(7, 2)", "1"),
        ],
        bitwise_right_shift_arithmetic,
    ),
    Function::new(
        "bitwise_logical_shift_right",
        SHIFT_BITS,
        Kind::Int,
        "Logical right shift of x taken as a two's-complement integer of the given width (2 to 64): the low `bits` bits of x, shifted right with zero fill.",
        &[
            ex("bitwise_logical_shift_right(8, 3, 64)", "1"),
            ex("bitwise_logical_shift_right(-8, 2, 64)", "4611686018427387902"),
            ex("bitwise_logical_shift_right(-1, 30, 32)", "3"),
        ],
        bitwise_logical_shift_right,
    ),
    Function::new(
        "bitwise_shift_left",
        SHIFT_BITS,
        Kind::Int,
        "Left shift of x kept to the given width (2 to 64): bits shifted past `bits` are dropped (0 when shift is 64 or more).",
        &[
            ex("bitwise_shift_left(1, 4, 64)", "16"),
            ex("bitwise_shift_left(7, 2, 4)", "12"),
            ex("bitwise_shift_left(-1, 31, 32)", "2147483648"),
        ],
        bitwise_shift_left,
    ),
    Function::new(
        "bitwise_right_shift_arithmetic",
        SHIFT,
        Kind::Int,
        "Arithmetic right shift of a BIGINT (sign fill).",
        &[ex("bitwise_right_shift_arithmetic(-16, 2)", "-4")],
        bitwise_right_shift_arithmetic,
    ),
];

// ---- helpers ----------------------------------------------------------------------------

fn overflow(what: &str) -> FnError {
    FnError::new(format!("bigint overflow in {what}"))
}

fn unary(args: &[Value], f: fn(f64) -> f64) -> FnResult {
    Ok(Value::Double(f(double_arg(args, 0)?)))
}

/// 10^k for 0 <= k <= 38.
fn pow10(k: u32) -> i128 {
    10i128.pow(k)
}

// ---- functions --------------------------------------------------------------------------

fn abs(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    match number_arg(args, 0)? {
        Value::Int(n) => n
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| overflow(&format!("abs({n})"))),
        v => Ok(Value::Double(double_arg(&[v], 0)?.abs())),
    }
}

fn ceil(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    match number_arg(args, 0)? {
        Value::Double(d) => Ok(Value::Double(d.ceil())),
        v => Ok(v),
    }
}

fn floor(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    match number_arg(args, 0)? {
        Value::Double(d) => Ok(Value::Double(d.floor())),
        v => Ok(v),
    }
}

fn decimals_arg(args: &[Value]) -> Result<i64, FnError> {
    if args.len() > 1 {
        int_arg(args, 1)
    } else {
        Ok(0)
    }
}

/// Rounds or truncates a BIGINT to `10^-decimals` (a no-op for decimals >= 0).
fn int_to_decimals(n: i64, decimals: i64, round: bool) -> FnResult {
    if decimals >= 0 {
        return Ok(Value::Int(n));
    }
    let k = decimals.unsigned_abs();
    if k > 19 {
        // |n| < 9.3e18 is below half of 10^20: everything rounds (or truncates) to zero.
        return Ok(Value::Int(0));
    }
    let f = pow10(k as u32);
    let n128 = n as i128;
    let (mut q, r) = (n128 / f, n128 % f);
    if round && 2 * r.abs() >= f {
        q += n128.signum();
    }
    i64::try_from(q * f)
        .map(Value::Int)
        .map_err(|_| overflow(&format!("round({n}, {decimals})")))
}

/// Rounds or truncates a DOUBLE to `decimals` decimal places; values too large to have
/// digits there come back unchanged.
fn double_to_decimals(x: f64, decimals: i64, op: fn(f64) -> f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if decimals >= 0 {
        let factor = 10f64.powi(decimals.min(400) as i32);
        let scaled = x * factor;
        if !scaled.is_finite() || scaled.abs() >= 4_503_599_627_370_496.0 {
            return x; // already integral at this precision (2^52)
        }
        op(scaled) / factor
    } else {
        let factor = 10f64.powi(decimals.unsigned_abs().min(400) as i32);
        if !factor.is_finite() {
            return 0.0 * x.signum();
        }
        op(x / factor) * factor
    }
}

fn round(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let decimals = decimals_arg(args)?;
    match number_arg(args, 0)? {
        Value::Int(n) => int_to_decimals(n, decimals, true),
        v => Ok(Value::Double(double_to_decimals(
            double_arg(&[v], 0)?,
            decimals,
            f64::round,
        ))),
    }
}

fn truncate(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let decimals = decimals_arg(args)?;
    match number_arg(args, 0)? {
        Value::Int(n) => int_to_decimals(n, decimals, false),
        v => Ok(Value::Double(double_to_decimals(
            double_arg(&[v], 0)?,
            decimals,
            f64::trunc,
        ))),
    }
}

fn modulo(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    match (number_arg(args, 0)?, number_arg(args, 1)?) {
        (Value::Int(_), Value::Int(0)) => {
            Err(FnError::arg(1, "division by zero").with_code(codes::DIVISION_BY_ZERO))
        }
        // wrapping_rem: i64::MIN % -1 is 0, not an overflow.
        (Value::Int(a), Value::Int(b)) => Ok(Value::Int(a.wrapping_rem(b))),
        (a, b) => Ok(Value::Double(double_arg(&[a], 0)? % double_arg(&[b], 0)?)),
    }
}

fn pow(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Double(
        double_arg(args, 0)?.powf(double_arg(args, 1)?),
    ))
}

fn sqrt(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::sqrt)
}

fn cbrt(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::cbrt)
}

fn exp(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::exp)
}

fn ln(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::ln)
}

fn log2(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::log2)
}

fn log10(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::log10)
}

fn log(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let base = double_arg(args, 0)?;
    let x = double_arg(args, 1)?;
    Ok(Value::Double(x.ln() / base.ln()))
}

fn sign(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    match number_arg(args, 0)? {
        Value::Int(n) => Ok(Value::Int(n.signum())),
        v => {
            let d = double_arg(&[v], 0)?;
            // Java's Math.signum: NaN and ±0.0 come back as they are.
            Ok(Value::Double(if d == 0.0 || d.is_nan() {
                d
            } else {
                d.signum()
            }))
        }
    }
}

fn sin(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::sin)
}

fn cos(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::cos)
}

fn tan(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::tan)
}

fn asin(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::asin)
}

fn acos(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::acos)
}

fn atan(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::atan)
}

fn atan2(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Double(
        double_arg(args, 0)?.atan2(double_arg(args, 1)?),
    ))
}

fn cosh(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::cosh)
}

fn tanh(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::tanh)
}

fn degrees(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::to_degrees)
}

fn radians(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    unary(args, f64::to_radians)
}

fn pi(_: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Double(std::f64::consts::PI))
}

fn e(_: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Double(std::f64::consts::E))
}

thread_local! {
    /// splitmix64 state, seeded from the process's random hasher keys.
    static RNG: Cell<u64> = Cell::new({
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(std::thread::current().id())
    });
}

fn next_random() -> u64 {
    RNG.with(|state| {
        let s = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn rand(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    if args.is_empty() {
        return Ok(Value::Double(
            (next_random() >> 11) as f64 * (1.0 / (1u64 << 53) as f64),
        ));
    }
    let n = int_arg(args, 0)?;
    if n <= 0 {
        return Err(FnError::arg(
            0,
            format!("the bound must be positive, got {n}"),
        ));
    }
    Ok(Value::Int(
        ((next_random() as u128 * n as u128) >> 64) as i64,
    ))
}

fn is_nan(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Bool(double_arg(args, 0)?.is_nan()))
}

fn is_finite(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Bool(double_arg(args, 0)?.is_finite()))
}

fn is_infinite(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Bool(double_arg(args, 0)?.is_infinite()))
}

fn nan(_: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Double(f64::NAN))
}

fn infinity(_: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Double(f64::INFINITY))
}

fn radix_arg(args: &[Value], i: usize) -> Result<u32, FnError> {
    let r = int_arg(args, i)?;
    if !(2..=36).contains(&r) {
        return Err(FnError::arg(
            i,
            format!("radix must be between 2 and 36, got {r}"),
        ));
    }
    Ok(r as u32)
}

fn from_base(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let s = super::text(&args[0]).unwrap_or_default();
    let radix = radix_arg(args, 1)?;
    i64::from_str_radix(&s, radix)
        .map(Value::Int)
        .map_err(|e| FnError::arg(0, format!("'{s}' is not a valid base-{radix} BIGINT ({e})")))
}

fn to_base(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let n = int_arg(args, 0)?;
    let radix = radix_arg(args, 1)?;
    let mut magnitude = n.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        digits.push(
            char::from_digit((magnitude % radix as u64) as u32, radix).expect("digit below radix"),
        );
        magnitude /= radix as u64;
        if magnitude == 0 {
            break;
        }
    }
    if n < 0 {
        digits.push('-');
    }
    Ok(Value::string(digits.iter().rev().collect()))
}

/// Plan time: the two forms of `width_bucket` take 2 or 4 arguments, never 3.
fn prepare_width_bucket(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    match args.len() {
        2 => match &args[1] {
            Some(v) if !v.is_null() => bins(&[Value::Null, v.clone()], 1).map(|_| Prepared::none()),
            _ => Ok(Prepared::none()),
        },
        4 => Ok(Prepared::none()),
        _ => Err(FnError::new(
            "width_bucket takes (x, bins) or (x, bound1, bound2, buckets), not 3 arguments",
        )),
    }
}

/// The bins of `width_bucket(x, bins)`: finite numbers in ascending order (Presto).
fn bins(args: &[Value], arg: usize) -> Result<Vec<f64>, FnError> {
    let items = super::array::array_arg(args, arg)?;
    if items.is_empty() {
        return Err(FnError::arg(arg, "bins cannot be an empty array"));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let b = double_arg(std::slice::from_ref(item), 0)
            .map_err(|_| FnError::arg(arg, format!("bin {} is not a number", i + 1)))?;
        if !b.is_finite() {
            return Err(FnError::arg(
                arg,
                format!("bin values must be finite, got {b}"),
            ));
        }
        if out.last().is_some_and(|&prev: &f64| prev > b) {
            return Err(FnError::arg(
                arg,
                "bin values are not sorted in ascending order",
            ));
        }
        out.push(b);
    }
    Ok(out)
}

fn width_bucket(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    if args.len() == 2 {
        let x = double_arg(args, 0)?;
        if x.is_nan() {
            return Err(FnError::arg(0, "the operand must not be NaN"));
        }
        let bins = bins(args, 1)?;
        return Ok(Value::Int(bins.partition_point(|&b| b <= x) as i64));
    }
    if args.len() != 4 {
        return Err(FnError::new(
            "width_bucket takes (x, bins) or (x, bound1, bound2, buckets)",
        ));
    }
    let x = double_arg(args, 0)?;
    let b1 = double_arg(args, 1)?;
    let b2 = double_arg(args, 2)?;
    let buckets = int_arg(args, 3)?;
    if buckets <= 0 {
        return Err(FnError::arg(
            3,
            format!("the bucket count must be greater than 0, got {buckets}"),
        ));
    }
    if x.is_nan() {
        return Err(FnError::arg(0, "the operand must not be NaN"));
    }
    if !b1.is_finite() {
        return Err(FnError::arg(1, "the first bound must be finite"));
    }
    if !b2.is_finite() {
        return Err(FnError::arg(2, "the second bound must be finite"));
    }
    if b1 == b2 {
        return Err(FnError::arg(2, "the bounds must differ"));
    }
    let (lower, upper) = (b1.min(b2), b1.max(b2));
    let mut bucket = if x < lower {
        0
    } else if x >= upper {
        buckets
            .checked_add(1)
            .ok_or_else(|| overflow("width_bucket"))?
    } else {
        (buckets as f64 * (x - lower) / (upper - lower) + 1.0) as i64
    };
    if b1 > b2 {
        bucket = (buckets - bucket)
            .checked_add(1)
            .ok_or_else(|| overflow("width_bucket"))?;
    }
    Ok(Value::Int(bucket))
}

fn extreme(args: &[Value], want: Ordering) -> FnResult {
    let mut best = &args[0];
    for (i, a) in args.iter().enumerate() {
        if matches!(a, Value::Double(d) if d.is_nan()) {
            return Err(FnError::arg(i, "NaN cannot be compared"));
        }
        if i == 0 {
            continue;
        }
        match compare(a, best, Coercion::Lenient)? {
            Some(o) if o == want => best = a,
            Some(_) => {}
            None => {
                return Err(FnError::arg(
                    i,
                    format!("cannot compare {} with {}", a.type_name(), best.type_name()),
                ));
            }
        }
    }
    // Mixed BIGINT and DOUBLE arguments have the common type DOUBLE, as in Presto.
    let numbers = args
        .iter()
        .all(|a| matches!(a, Value::Int(_) | Value::Double(_)));
    Ok(match best {
        Value::Int(n) if numbers && args.iter().any(|a| matches!(a, Value::Double(_))) => {
            Value::Double(*n as f64)
        }
        other => other.clone(),
    })
}

fn greatest(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    extreme(args, Ordering::Greater)
}

fn least(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    extreme(args, Ordering::Less)
}

fn bit_count(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let x = int_arg(args, 0)?;
    let bits = int_arg(args, 1)?;
    if !(2..=64).contains(&bits) {
        return Err(FnError::arg(
            1,
            format!("bits must be between 2 and 64, got {bits}"),
        ));
    }
    if bits == 64 {
        return Ok(Value::Int(x.count_ones() as i64));
    }
    let low = (1i64 << (bits - 1)) - 1;
    if x > low || x < !low {
        return Err(FnError::arg(
            0,
            format!("{x} cannot be represented with {bits} bits"),
        ));
    }
    Ok(Value::Int((x & ((1i64 << bits) - 1)).count_ones() as i64))
}

fn bitwise_and(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Int(int_arg(args, 0)? & int_arg(args, 1)?))
}

fn bitwise_or(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Int(int_arg(args, 0)? | int_arg(args, 1)?))
}

fn bitwise_xor(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Int(int_arg(args, 0)? ^ int_arg(args, 1)?))
}

fn bitwise_not(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Int(!int_arg(args, 0)?))
}

/// The shift argument: negative shifts are an error (Java would silently mask them).
fn shift_arg(args: &[Value]) -> Result<u32, FnError> {
    let s = int_arg(args, 1)?;
    if s < 0 {
        return Err(FnError::arg(
            1,
            format!("the shift must not be negative, got {s}"),
        ));
    }
    Ok(s.min(64) as u32)
}

fn bitwise_left_shift(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let v = int_arg(args, 0)?;
    let s = shift_arg(args)?;
    Ok(Value::Int(if s >= 64 { 0 } else { v << s }))
}

fn bitwise_right_shift(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let v = int_arg(args, 0)?;
    let s = shift_arg(args)?;
    Ok(Value::Int(if s >= 64 {
        0
    } else {
        ((v as u64) >> s) as i64
    }))
}

/// The width argument of the `bits` shifts: 2 to 64 (Presto).
fn bits_arg(args: &[Value]) -> Result<u32, FnError> {
    let bits = int_arg(args, 2)?;
    if !(2..=64).contains(&bits) {
        return Err(FnError::arg(
            2,
            format!("bits must be between 2 and 64, got {bits}"),
        ));
    }
    Ok(bits as u32)
}

/// The low `bits` bits of x (all of them for 64).
fn low_bits(x: i64, bits: u32) -> u64 {
    if bits == 64 {
        x as u64
    } else {
        (x as u64) & ((1u64 << bits) - 1)
    }
}

fn bitwise_logical_shift_right(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let x = int_arg(args, 0)?;
    let s = shift_arg(args)?;
    let bits = bits_arg(args)?;
    let v = low_bits(x, bits);
    Ok(Value::Int(if s >= 64 { 0 } else { (v >> s) as i64 }))
}

fn bitwise_shift_left(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let x = int_arg(args, 0)?;
    let s = shift_arg(args)?;
    let bits = bits_arg(args)?;
    Ok(Value::Int(if s >= 64 {
        0
    } else {
        low_bits(((x as u64) << s) as i64, bits) as i64
    }))
}

fn bitwise_right_shift_arithmetic(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let v = int_arg(args, 0)?;
    let s = shift_arg(args)?;
    Ok(Value::Int(if s >= 64 {
        if v >= 0 { 0 } else { -1 }
    } else {
        v >> s
    }))
}

#[cfg(test)]
mod tests {
    use super::super::string::test_support::{self, s};
    use super::*;

    test_support::family_helpers!();

    fn i(n: i64) -> Value {
        Value::Int(n)
    }

    fn d(x: f64) -> Value {
        Value::Double(x)
    }

    fn dbl(name: &str, args: &[Value]) -> f64 {
        match ok(name, args) {
            Value::Double(x) => x,
            other => panic!("{name}: expected a double, got {other:?}"),
        }
    }

    #[test]
    fn abs_keeps_the_type_and_reports_overflow() {
        assert_eq!(ok("abs", &[i(-5)]), i(5));
        assert_eq!(ok("abs", &[d(-1.5)]), d(1.5));
        assert_eq!(ok("abs", &[s("-7")]), i(7));
        assert_eq!(ok("abs", &[s("-7.5")]), d(7.5));
        assert_eq!(ok("abs", &[Value::Null]), Value::Null);
        assert!(err("abs", &[i(i64::MIN)]).message.contains("overflow"));
        assert!(call("abs", &[s("abc")]).is_err());
    }

    #[test]
    fn ceil_floor() {
        assert_eq!(ok("ceil", &[d(1.2)]), d(2.0));
        assert_eq!(ok("ceiling", &[d(-1.5)]), d(-1.0));
        assert_eq!(ok("ceil", &[i(7)]), i(7));
        assert_eq!(ok("floor", &[d(-1.2)]), d(-2.0));
        assert_eq!(ok("floor", &[i(i64::MIN)]), i(i64::MIN));
        assert!(dbl("floor", &[d(f64::NAN)]).is_nan());
        assert_eq!(ok("floor", &[d(f64::INFINITY)]), d(f64::INFINITY));
    }

    #[test]
    fn round_half_away_from_zero() {
        assert_eq!(ok("round", &[d(2.5)]), d(3.0));
        assert_eq!(ok("round", &[d(-2.5)]), d(-3.0));
        assert_eq!(ok("round", &[d(0.49999999999999994)]), d(0.0));
        assert_eq!(ok("round", &[d(1.23556), i(2)]), d(1.24));
        assert_eq!(ok("round", &[d(-3.145), i(1)]), d(-3.1));
        assert_eq!(ok("round", &[d(1250.0), i(-2)]), d(1300.0));
        assert_eq!(ok("round", &[d(1e300), i(2)]), d(1e300));
        assert_eq!(ok("round", &[d(1.5), i(i64::MAX)]), d(1.5));
        assert_eq!(ok("round", &[d(1.5e300), i(i64::MIN)]), d(0.0));
        assert_eq!(ok("round", &[d(1e20)]), d(1e20));
        assert!(dbl("round", &[d(f64::NAN), i(2)]).is_nan());
        assert_eq!(ok("round", &[i(1250), i(-2)]), i(1300));
        assert_eq!(ok("round", &[i(-1250), i(-2)]), i(-1300));
        assert_eq!(ok("round", &[i(-1249), i(-2)]), i(-1200));
        assert_eq!(ok("round", &[i(17), i(3)]), i(17));
        assert_eq!(ok("round", &[i(i64::MAX), i(-30)]), i(0));
        assert_eq!(ok("round", &[i(i64::MAX), i(i64::MIN)]), i(0));
        assert!(call("round", &[i(i64::MAX), i(-1)]).is_err());
        assert_eq!(ok("round", &[i(4_000_000_000_000_000_000), i(-19)]), i(0));
        assert!(call("round", &[i(i64::MAX), i(-19)]).is_err());
    }

    #[test]
    fn truncate_toward_zero() {
        assert_eq!(ok("truncate", &[d(-2.7)]), d(-2.0));
        assert_eq!(ok("truncate", &[d(1.23556), i(2)]), d(1.23));
        assert_eq!(ok("truncate", &[i(1299), i(-2)]), i(1200));
        assert_eq!(ok("truncate", &[i(-1299), i(-2)]), i(-1200));
        assert_eq!(ok("truncate", &[i(5)]), i(5));
    }

    #[test]
    fn modulo_and_division_by_zero() {
        assert_eq!(ok("mod", &[i(7), i(3)]), i(1));
        assert_eq!(ok("mod", &[i(-7), i(3)]), i(-1));
        assert_eq!(ok("mod", &[i(i64::MIN), i(-1)]), i(0));
        assert_eq!(ok("mod", &[d(7.5), i(2)]), d(1.5));
        assert!(dbl("mod", &[d(1.0), i(0)]).is_nan());
        let e = err("mod", &[i(1), i(0)]);
        assert_eq!((e.arg, e.code), (Some(1), codes::DIVISION_BY_ZERO));
    }

    #[test]
    fn powers_and_logs() {
        assert_eq!(ok("pow", &[i(2), i(10)]), d(1024.0));
        assert_eq!(ok("power", &[d(4.0), d(0.5)]), d(2.0));
        assert_eq!(ok("sqrt", &[i(16)]), d(4.0));
        assert!(dbl("sqrt", &[i(-1)]).is_nan());
        assert_eq!(ok("cbrt", &[i(27)]), d(3.0));
        assert_eq!(ok("cbrt", &[i(-8)]), d(-2.0));
        assert_eq!(ok("exp", &[i(0)]), d(1.0));
        assert_eq!(ok("ln", &[i(0)]), d(f64::NEG_INFINITY));
        assert_eq!(ok("log2", &[i(8)]), d(3.0));
        assert_eq!(ok("log10", &[i(1000)]), d(3.0));
        assert_eq!(ok("log", &[i(2), i(8)]), d(3.0));
        assert_eq!(ok("log", &[i(10), i(100)]), d(2.0));
        assert_eq!(ok("ln", &[ok("e", &[])]), d(1.0));
    }

    #[test]
    fn signs_and_trigonometry() {
        assert_eq!(ok("sign", &[i(-3)]), i(-1));
        assert_eq!(ok("sign", &[i(0)]), i(0));
        assert_eq!(ok("sign", &[d(2.5)]), d(1.0));
        assert_eq!(ok("sign", &[d(0.0)]), d(0.0));
        assert!(dbl("sign", &[d(f64::NAN)]).is_nan());
        assert_eq!(ok("sin", &[i(0)]), d(0.0));
        assert_eq!(ok("cos", &[i(0)]), d(1.0));
        assert_eq!(ok("tan", &[i(0)]), d(0.0));
        assert_eq!(ok("asin", &[i(1)]), d(std::f64::consts::FRAC_PI_2));
        assert!(dbl("asin", &[i(2)]).is_nan());
        assert_eq!(ok("acos", &[i(1)]), d(0.0));
        assert_eq!(ok("atan", &[i(0)]), d(0.0));
        assert_eq!(ok("atan2", &[i(1), i(0)]), d(std::f64::consts::FRAC_PI_2));
        assert_eq!(ok("atan2", &[i(0), i(-1)]), d(std::f64::consts::PI));
        assert_eq!(ok("cosh", &[i(0)]), d(1.0));
        assert_eq!(ok("tanh", &[i(0)]), d(0.0));
        assert_eq!(ok("degrees", &[ok("pi", &[])]), d(180.0));
        assert_eq!(ok("radians", &[i(180)]), d(std::f64::consts::PI));
    }

    #[test]
    fn random_numbers_stay_in_range() {
        for _ in 0..1000 {
            let x = match test_support::run(FUNCTIONS, "rand", &[], false).unwrap() {
                Value::Double(x) => x,
                other => panic!("{other:?}"),
            };
            assert!((0.0..1.0).contains(&x));
            let Value::Int(n) = test_support::run(FUNCTIONS, "random", &[i(10)], false).unwrap()
            else {
                panic!()
            };
            assert!((0..10).contains(&n));
            let Value::Int(n) =
                test_support::run(FUNCTIONS, "rand", &[i(i64::MAX)], false).unwrap()
            else {
                panic!()
            };
            assert!(n >= 0);
        }
        assert_eq!(ok("rand", &[i(1)]), i(0));
        assert_eq!(err("rand", &[i(0)]).arg, Some(0));
        assert_eq!(err("random", &[i(-3)]).arg, Some(0));
    }

    #[test]
    fn special_doubles() {
        assert_eq!(ok("is_nan", &[ok("nan", &[])]), Value::Bool(true));
        assert_eq!(ok("is_nan", &[i(1)]), Value::Bool(false));
        assert_eq!(ok("is_nan", &[s("NaN")]), Value::Bool(true));
        assert_eq!(ok("is_finite", &[d(1.5)]), Value::Bool(true));
        assert_eq!(ok("is_finite", &[ok("infinity", &[])]), Value::Bool(false));
        assert_eq!(
            ok("is_infinite", &[d(f64::NEG_INFINITY)]),
            Value::Bool(true)
        );
        assert_eq!(ok("is_infinite", &[d(f64::NAN)]), Value::Bool(false));
    }

    #[test]
    fn bases() {
        assert_eq!(ok("from_base", &[s("ff"), i(16)]), i(255));
        assert_eq!(ok("from_base", &[s("FF"), i(16)]), i(255));
        assert_eq!(ok("from_base", &[s("-101"), i(2)]), i(-5));
        assert_eq!(ok("from_base", &[s("zz"), i(36)]), i(1295));
        assert_eq!(
            ok("from_base", &[s("-9223372036854775808"), i(10)]),
            i(i64::MIN)
        );
        assert_eq!(
            err("from_base", &[s("9223372036854775808"), i(10)]).arg,
            Some(0)
        );
        assert_eq!(err("from_base", &[s(""), i(10)]).arg, Some(0));
        assert_eq!(err("from_base", &[s("12"), i(2)]).arg, Some(0));
        assert_eq!(err("from_base", &[s("1"), i(1)]).arg, Some(1));
        assert_eq!(err("from_base", &[s("1"), i(37)]).arg, Some(1));
        assert_eq!(ok("to_base", &[i(255), i(16)]), s("ff"));
        assert_eq!(ok("to_base", &[i(0), i(2)]), s("0"));
        assert_eq!(ok("to_base", &[i(-5), i(2)]), s("-101"));
        assert_eq!(ok("to_base", &[i(i64::MIN), i(16)]), s("-8000000000000000"));
        assert_eq!(ok("to_base", &[i(35), i(36)]), s("z"));
        assert_eq!(err("to_base", &[i(1), i(0)]).arg, Some(1));
    }

    #[test]
    fn width_buckets() {
        let wb = |x: f64, a: f64, b: f64, n: i64| call("width_bucket", &[d(x), d(a), d(b), i(n)]);
        assert_eq!(wb(5.3, 0.0, 10.0, 5).unwrap(), i(3));
        assert_eq!(wb(-1.0, 0.0, 10.0, 5).unwrap(), i(0));
        assert_eq!(wb(10.0, 0.0, 10.0, 5).unwrap(), i(6));
        assert_eq!(wb(0.0, 0.0, 10.0, 5).unwrap(), i(1));
        // Descending bounds count from the other end.
        assert_eq!(wb(5.3, 10.0, 0.0, 5).unwrap(), i(3));
        assert_eq!(wb(9.0, 10.0, 0.0, 5).unwrap(), i(1));
        assert!(wb(1.0, 0.0, 10.0, i64::MAX).is_ok());
        assert!(wb(11.0, 0.0, 10.0, i64::MAX).is_err());
        assert!(wb(-1.0, 10.0, 0.0, i64::MAX).is_err());
        assert_eq!(wb(1.0, 0.0, 10.0, 0).unwrap_err().arg, Some(3));
        assert_eq!(wb(f64::NAN, 0.0, 10.0, 3).unwrap_err().arg, Some(0));
        assert_eq!(wb(1.0, f64::INFINITY, 10.0, 3).unwrap_err().arg, Some(1));
        assert_eq!(wb(1.0, 0.0, f64::NAN, 3).unwrap_err().arg, Some(2));
        assert_eq!(wb(1.0, 2.0, 2.0, 3).unwrap_err().arg, Some(2));
    }

    #[test]
    fn width_bucket_with_bins() {
        let arr = |xs: &[f64]| Value::array(xs.iter().map(|&x| d(x)).collect());
        let wb = |x: f64, b: &[f64]| call("width_bucket", &[d(x), arr(b)]);
        assert_eq!(wb(5.0, &[1.0, 3.0, 5.0, 7.0]).unwrap(), i(3));
        assert_eq!(wb(0.0, &[1.0, 3.0]).unwrap(), i(0));
        assert_eq!(wb(3.0, &[1.0, 3.0]).unwrap(), i(2));
        assert_eq!(wb(2.0, &[1.0, 1.0, 3.0]).unwrap(), i(2));
        // Text holding a JSON array is an array too (DESIGN.md).
        assert_eq!(call("width_bucket", &[i(4), s("[1, 3, 5]")]).unwrap(), i(2));
        assert_eq!(wb(1.0, &[]).unwrap_err().arg, Some(1));
        assert_eq!(wb(1.0, &[3.0, 1.0]).unwrap_err().arg, Some(1));
        assert_eq!(wb(1.0, &[1.0, f64::INFINITY]).unwrap_err().arg, Some(1));
        assert_eq!(wb(f64::NAN, &[1.0]).unwrap_err().arg, Some(0));
        let prepare = FUNCTIONS
            .iter()
            .find(|f| f.name == "width_bucket")
            .and_then(|f| f.prepare)
            .unwrap();
        assert!(prepare(&[None, None, None]).is_err());
        assert!(prepare(&[None, Some(arr(&[2.0, 1.0]))]).is_err());
        assert!(prepare(&[None, Some(arr(&[1.0, 2.0]))]).is_ok());
        assert!(prepare(&[None, None, None, None]).is_ok());
    }

    #[test]
    fn shifts_with_a_width() {
        let l = |x: i64, s: i64, b: i64| call("bitwise_logical_shift_right", &[i(x), i(s), i(b)]);
        assert_eq!(l(8, 3, 64).unwrap(), i(1));
        assert_eq!(l(-8, 2, 64).unwrap(), i(4611686018427387902));
        assert_eq!(l(-1, 1, 2).unwrap(), i(1));
        assert_eq!(l(-1, 32, 32).unwrap(), i(0));
        assert_eq!(l(-1, 30, 32).unwrap(), i(3));
        assert_eq!(l(i64::MIN, 10, 32).unwrap(), i(0));
        assert_eq!(l(-1, 64, 64).unwrap(), i(0));
        assert_eq!(l(3, -1, 3).unwrap_err().arg, Some(1));
        assert_eq!(l(3, 1, 1).unwrap_err().arg, Some(2));
        assert_eq!(l(3, 1, 65).unwrap_err().arg, Some(2));
        let sl = |x: i64, s: i64, b: i64| call("bitwise_shift_left", &[i(x), i(s), i(b)]);
        assert_eq!(sl(1, 4, 64).unwrap(), i(16));
        assert_eq!(sl(7, 2, 4).unwrap(), i(12));
        assert_eq!(sl(-1, 1, 2).unwrap(), i(2));
        assert_eq!(sl(-1, 32, 32).unwrap(), i(0));
        assert_eq!(sl(-1, 31, 32).unwrap(), i(2147483648));
        assert_eq!(sl(1, 63, 64).unwrap(), i(i64::MIN));
        assert_eq!(sl(1, 64, 64).unwrap(), i(0));
        assert_eq!(sl(3, -1, 3).unwrap_err().arg, Some(1));
        assert_eq!(sl(3, 1, 1).unwrap_err().arg, Some(2));
        let a = |x: i64, s: i64| call("bitwise_arithmetic_shift_right", &[i(x), i(s)]);
        assert_eq!(a(-8, 2).unwrap(), i(-2));
        assert_eq!(a(7, 2).unwrap(), i(1));
        assert_eq!(a(-3, 1).unwrap(), i(-2));
        assert_eq!(a(-1, 100).unwrap(), i(-1));
        assert_eq!(a(5, 100).unwrap(), i(0));
        assert_eq!(a(3, -1).unwrap_err().arg, Some(1));
    }

    #[test]
    fn greatest_and_least() {
        assert_eq!(ok("greatest", &[i(1), i(5), i(3)]), i(5));
        assert_eq!(ok("least", &[i(1), i(5), i(3)]), i(1));
        assert_eq!(ok("greatest", &[i(1), d(2.5)]), d(2.5));
        assert_eq!(ok("greatest", &[i(3), d(2.5)]), d(3.0));
        assert_eq!(ok("least", &[i(2), d(0.5)]), d(0.5));
        assert_eq!(ok("greatest", &[s("a"), s("c"), s("b")]), s("c"));
        assert_eq!(ok("greatest", &[s("10"), i(9)]), s("10"));
        assert_eq!(ok("greatest", &[i(7)]), i(7));
        assert_eq!(ok("greatest", &[i(1), Value::Null]), Value::Null);
        assert_eq!(err("greatest", &[i(1), d(f64::NAN)]).arg, Some(1));
        assert_eq!(err("least", &[i(1), s("abc")]).arg, Some(1));
    }

    #[test]
    fn bits() {
        assert_eq!(ok("bit_count", &[i(9), i(64)]), i(2));
        assert_eq!(ok("bit_count", &[i(-1), i(64)]), i(64));
        assert_eq!(ok("bit_count", &[i(-1), i(8)]), i(8));
        assert_eq!(ok("bit_count", &[i(-7), i(8)]), i(6));
        assert_eq!(ok("bit_count", &[i(127), i(8)]), i(7));
        assert_eq!(err("bit_count", &[i(128), i(8)]).arg, Some(0));
        assert_eq!(err("bit_count", &[i(-129), i(8)]).arg, Some(0));
        assert_eq!(err("bit_count", &[i(1), i(1)]).arg, Some(1));
        assert_eq!(err("bit_count", &[i(1), i(65)]).arg, Some(1));
        assert_eq!(ok("bitwise_and", &[i(12), i(10)]), i(8));
        assert_eq!(ok("bitwise_or", &[i(12), i(10)]), i(14));
        assert_eq!(ok("bitwise_xor", &[i(12), i(10)]), i(6));
        assert_eq!(ok("bitwise_not", &[i(0)]), i(-1));
        assert_eq!(ok("bitwise_and", &[s("12"), i(4)]), i(4));
        assert!(call("bitwise_and", &[d(1.5), i(4)]).is_err());
    }

    #[test]
    fn shifts() {
        assert_eq!(ok("bitwise_left_shift", &[i(1), i(4)]), i(16));
        assert_eq!(ok("bitwise_left_shift", &[i(1), i(63)]), i(i64::MIN));
        assert_eq!(ok("bitwise_left_shift", &[i(1), i(64)]), i(0));
        assert_eq!(ok("bitwise_left_shift", &[i(1), i(i64::MAX)]), i(0));
        assert_eq!(ok("bitwise_right_shift", &[i(-1), i(60)]), i(15));
        assert_eq!(ok("bitwise_right_shift", &[i(-1), i(64)]), i(0));
        assert_eq!(ok("bitwise_right_shift_arithmetic", &[i(-16), i(2)]), i(-4));
        assert_eq!(
            ok("bitwise_right_shift_arithmetic", &[i(-16), i(100)]),
            i(-1)
        );
        assert_eq!(ok("bitwise_right_shift_arithmetic", &[i(16), i(100)]), i(0));
        for name in [
            "bitwise_left_shift",
            "bitwise_right_shift",
            "bitwise_right_shift_arithmetic",
        ] {
            assert_eq!(err(name, &[i(1), i(-1)]).arg, Some(1));
        }
    }
}

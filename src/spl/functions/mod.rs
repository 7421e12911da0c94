//! The SPL function registry: one static table of `Function` entries, each with its
//! signature, a one-line doc, runnable examples, an optional plan-time `prepare` and `eval`.
//!
//! Owns: `Function`, `Param`, `Kind`, `Example`, `Prepared`, `FnError`, `Env`, the lookup
//! (case-insensitive) and the argument coercion helpers every family uses. Family files
//! (`string.rs`, `regex.rs`, ...) each export `pub(super) const FUNCTIONS: &[Function]`.
//! Resolution (arity, kinds, prepare) happens in `plan.rs`, never per event.

use crate::event::{Text, Timestamp, Value};
use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

pub mod array;
pub mod cast;
pub mod conditional;
pub mod hash;
pub mod ip;
pub mod json;
pub mod jsonpath;
pub mod math;
pub mod regex;
pub mod string;
pub mod time;
pub mod url;

/// What kind of value a parameter expects (for docs and plan-time checks of literals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Any,
    Str,
    Int,
    /// Int or Double.
    Number,
    Double,
    Bool,
    Bytes,
    Timestamp,
    Date,
    Json,
    Array,
    Map,
    /// A lambda with this many parameters.
    Lambda(u8),
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Any => "any",
            Kind::Str => "varchar",
            Kind::Int => "bigint",
            Kind::Number => "number",
            Kind::Double => "double",
            Kind::Bool => "boolean",
            Kind::Bytes => "varbinary",
            Kind::Timestamp => "timestamp",
            Kind::Date => "date",
            Kind::Json => "json",
            Kind::Array => "array",
            Kind::Map => "map",
            Kind::Lambda(_) => "lambda",
        }
    }
}

/// How many times a parameter may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    Required,
    Optional,
    /// Zero or more (last parameter only).
    Variadic,
}

/// One parameter of a signature.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub arity: Arity,
}

impl Param {
    pub const fn req(name: &'static str, kind: Kind) -> Param {
        Param {
            name,
            kind,
            arity: Arity::Required,
        }
    }
    pub const fn opt(name: &'static str, kind: Kind) -> Param {
        Param {
            name,
            kind,
            arity: Arity::Optional,
        }
    }
    pub const fn variadic(name: &'static str, kind: Kind) -> Param {
        Param {
            name,
            kind,
            arity: Arity::Variadic,
        }
    }
}

/// A runnable example: `expr` is evaluated as `* | extend r = <expr>` on the event given by
/// `input` (a JSON object; `{}` for none), and `r` must equal `output` (typed JSON; `null`
/// means absent/NULL). Examples run as tests.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    pub expr: &'static str,
    pub input: &'static str,
    pub output: &'static str,
}

pub const fn ex(expr: &'static str, output: &'static str) -> Example {
    Example {
        expr,
        input: "{}",
        output,
    }
}

pub const fn ex_in(expr: &'static str, input: &'static str, output: &'static str) -> Example {
    Example {
        expr,
        input,
        output,
    }
}

/// What `prepare` built at plan time from constant arguments (a compiled regex, a parsed
/// JSONPath, a date format...). Functions downcast it with `get`.
#[derive(Default)]
pub struct Prepared(Option<Box<dyn Any + Send + Sync>>);

impl Prepared {
    pub fn none() -> Self {
        Prepared(None)
    }
    pub fn new<T: Any + Send + Sync>(v: T) -> Self {
        Prepared(Some(Box::new(v)))
    }
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.as_ref().and_then(|b| b.downcast_ref())
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Prepared(..)"
        } else {
            "Prepared(none)"
        })
    }
}

/// An error from a function: a message and, when one argument is to blame, its index (the
/// runner turns it into a diagnostic with that argument's span).
#[derive(Debug, Clone, PartialEq)]
pub struct FnError {
    pub message: String,
    pub arg: Option<usize>,
    /// Division by zero and failed casts have their own diagnostic codes.
    pub code: &'static str,
}

impl FnError {
    pub fn new(message: impl Into<String>) -> Self {
        FnError {
            message: message.into(),
            arg: None,
            code: crate::diagnostic::codes::RUNTIME,
        }
    }
    pub fn arg(arg: usize, message: impl Into<String>) -> Self {
        FnError {
            message: message.into(),
            arg: Some(arg),
            code: crate::diagnostic::codes::RUNTIME,
        }
    }
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }
}

pub type FnResult = Result<Value, FnError>;

/// What a function can ask of the running engine.
pub trait Env {
    /// Calls a lambda argument (`Value::Lambda`) with the given parameters.
    fn apply(&mut self, lambda: &Value, args: &[Value]) -> FnResult;
    /// The evaluation clock (`now()`, `current_timestamp`); injected so tests are stable.
    fn now(&self) -> Timestamp;
}

/// Plan-time preparation from the arguments that are constants (`None` for non-constant).
/// An `Err` becomes a plan diagnostic pointing at argument `FnError::arg`.
pub type PrepareFn = fn(&[Option<Value>]) -> Result<Prepared, FnError>;

/// Evaluation of one call with evaluated arguments.
pub type EvalFn = fn(&[Value], &Prepared, &mut dyn Env) -> FnResult;

/// One function of the registry.
#[derive(Clone, Copy)]
pub struct Function {
    /// Lower-case SLS spelling; lookup is case-insensitive.
    pub name: &'static str,
    pub params: &'static [Param],
    pub returns: Kind,
    /// One line.
    pub doc: &'static str,
    pub examples: &'static [Example],
    pub prepare: Option<PrepareFn>,
    pub eval: EvalFn,
    /// When true (the default) a NULL argument gives NULL without calling `eval`.
    pub null_propagating: bool,
    /// A project extension, not in SLS SPL (`soc spl check --sls-compat` warns).
    pub extension: bool,
}

impl Function {
    pub const fn new(
        name: &'static str,
        params: &'static [Param],
        returns: Kind,
        doc: &'static str,
        examples: &'static [Example],
        eval: EvalFn,
    ) -> Function {
        Function {
            name,
            params,
            returns,
            doc,
            examples,
            prepare: None,
            eval,
            null_propagating: true,
            extension: false,
        }
    }

    pub const fn prepare(mut self, f: PrepareFn) -> Function {
        self.prepare = Some(f);
        self
    }

    /// The function sees NULL arguments itself (coalesce, if, array functions...).
    pub const fn handles_nulls(mut self) -> Function {
        self.null_propagating = false;
        self
    }

    pub const fn extension(mut self) -> Function {
        self.extension = true;
        self
    }

    /// (minimum, maximum) argument count; maximum `None` when variadic.
    pub fn arity(&self) -> (usize, Option<usize>) {
        let min = self
            .params
            .iter()
            .filter(|p| p.arity == Arity::Required)
            .count();
        let variadic = self.params.iter().any(|p| p.arity == Arity::Variadic);
        (
            min,
            if variadic {
                None
            } else {
                Some(self.params.len())
            },
        )
    }

    /// `name(a varchar, b bigint [, c varchar]) → varchar`
    pub fn signature(&self) -> String {
        let mut s = format!("{}(", self.name);
        for (i, p) in self.params.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            match p.arity {
                Arity::Required => s.push_str(&format!("{sep}{} {}", p.name, p.kind.name())),
                Arity::Optional => s.push_str(&format!("{sep}[{} {}]", p.name, p.kind.name())),
                Arity::Variadic => s.push_str(&format!("{sep}{} {}...", p.name, p.kind.name())),
            }
        }
        s.push_str(&format!(") → {}", self.returns.name()));
        s
    }

    /// The parameter at argument position `i` (the variadic one repeats).
    pub fn param_at(&self, i: usize) -> Option<&Param> {
        self.params
            .get(i)
            .or_else(|| self.params.last().filter(|p| p.arity == Arity::Variadic))
    }
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.signature())
    }
}

/// All family tables.
const FAMILIES: &[(&str, &[Function])] = &[
    ("string", string::FUNCTIONS),
    ("regex", regex::FUNCTIONS),
    ("json", json::FUNCTIONS),
    ("date/time", time::FUNCTIONS),
    ("url", url::FUNCTIONS),
    ("hash/encoding", hash::FUNCTIONS),
    ("math", math::FUNCTIONS),
    ("array/map", array::FUNCTIONS),
    ("conditional", conditional::FUNCTIONS),
    ("ip", ip::FUNCTIONS),
];

static REGISTRY: LazyLock<HashMap<&'static str, &'static Function>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for (_, fns) in FAMILIES {
        for f in *fns {
            map.insert(f.name, f);
        }
    }
    map
});

/// Looks a function up by name, case-insensitively.
pub fn lookup(name: &str) -> Option<&'static Function> {
    if let Some(f) = REGISTRY.get(name) {
        return Some(f);
    }
    REGISTRY.get(name.to_ascii_lowercase().as_str()).copied()
}

/// Every function, grouped by family, in table order.
pub fn families() -> impl Iterator<Item = (&'static str, &'static [Function])> {
    FAMILIES.iter().copied()
}

/// Every function name, for "did you mean".
pub fn names() -> impl Iterator<Item = &'static str> {
    FAMILIES
        .iter()
        .flat_map(|(_, fns)| fns.iter().map(|f| f.name))
}

/// The reference text `soc spl functions` prints: per family, signature, doc and examples.
pub fn reference() -> String {
    let mut out = String::new();
    for (family, fns) in families() {
        out.push_str(&format!("## {family}\n\n"));
        for f in fns {
            let ext = if f.extension {
                " (extension: not in SLS SPL)"
            } else {
                ""
            };
            out.push_str(&format!("{}{ext}\n    {}\n", f.signature(), f.doc));
            for e in f.examples {
                if e.input == "{}" {
                    out.push_str(&format!("    {} → {}\n", e.expr, e.output));
                } else {
                    out.push_str(&format!("    {} with {} → {}\n", e.expr, e.input, e.output));
                }
            }
            out.push('\n');
        }
    }
    out
}

/// The reference as Markdown (`soc spl functions --markdown`, checked in as
/// `docs/functions.md`): per family a table of contents line, then per function its
/// signature, doc and examples. Generated only from the registry.
pub fn markdown() -> String {
    let mut out = String::from(
        "# SPL function reference\n\n\
         <!-- Generated from the function registry (src/spl/functions/) by \
         `cargo run -- spl functions --markdown > docs/functions.md`; do not edit by hand. \
         A test fails when this file is stale. -->\n\n\
         Every function with its signature, what it does and examples that run as tests \
         (`expr → result`, results as typed JSON; `null` is NULL). Names are \
         case-insensitive. Semantics follow Presto unless [DESIGN.md](../DESIGN.md) says \
         otherwise; *extension* marks functions SLS SPL does not have \
         (`soc spl check --sls-compat` warns about them).\n\n",
    );
    for (family, fns) in families() {
        let names: Vec<String> = fns.iter().map(|f| format!("`{}`", f.name)).collect();
        out.push_str(&format!(
            "- **{family}** ({}): {}\n",
            fns.len(),
            names.join(", ")
        ));
    }
    for (family, fns) in families() {
        out.push_str(&format!("\n## {family}\n"));
        for f in fns {
            out.push_str(&format!("\n### `{}`\n\n`{}`", f.name, f.signature()));
            if f.extension {
                out.push_str(" (*extension*: not in SLS SPL)");
            }
            out.push_str(&format!("\n\n{}\n\n", f.doc));
            for e in f.examples {
                if e.input == "{}" {
                    out.push_str(&format!("- `{}` → `{}`\n", e.expr, e.output));
                } else {
                    out.push_str(&format!(
                        "- `{}` with `{}` → `{}`\n",
                        e.expr, e.input, e.output
                    ));
                }
            }
        }
    }
    out
}

// ---- argument helpers shared by the families -------------------------------------------

/// The argument as text (any scalar converts, as SLS stores everything as text). `None` for
/// NULL.
pub fn text(v: &Value) -> Option<Cow<'_, str>> {
    v.to_text()
}

/// The argument as text, or an error naming the argument when it is NULL (for functions that
/// handle NULLs themselves).
pub fn text_arg(args: &[Value], i: usize) -> Result<Cow<'_, str>, FnError> {
    args.get(i)
        .and_then(Value::to_text)
        .ok_or_else(|| FnError::arg(i, "expected a text argument, got NULL"))
}

/// The argument as a `Text` that shares the input's buffer when it is already VARCHAR.
pub fn text_shared(v: &Value) -> Option<Text> {
    match v {
        Value::Str(t) => Some(t.clone()),
        Value::Null => None,
        other => other.to_text().map(|t| Text::from(t.into_owned())),
    }
}

/// The argument as an integer: Int as is, Double truncated only when integral, text parsed
/// (lenient coercion, SPL.md decision 2).
pub fn int_arg(args: &[Value], i: usize) -> Result<i64, FnError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Double(d)) if d.fract() == 0.0 && d.is_finite() && d.abs() < 9.2e18 => {
            Ok(*d as i64)
        }
        Some(Value::Bool(b)) => Ok(*b as i64),
        Some(Value::Str(t)) => t
            .trim()
            .parse::<i64>()
            .map_err(|_| FnError::arg(i, format!("'{}' is not an integer", t.as_str()))),
        Some(Value::Json(j)) => j
            .as_i64()
            .ok_or_else(|| FnError::arg(i, "expected an integer")),
        Some(other) => Err(FnError::arg(
            i,
            format!("expected an integer, got {}", other.type_name()),
        )),
        None => Err(FnError::arg(i, "missing argument")),
    }
}

/// The argument as a double (Int widened, text parsed).
pub fn double_arg(args: &[Value], i: usize) -> Result<f64, FnError> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n as f64),
        Some(Value::Double(d)) => Ok(*d),
        Some(Value::Str(t)) => parse_double(t)
            .ok_or_else(|| FnError::arg(i, format!("'{}' is not a number", t.as_str()))),
        Some(Value::Json(j)) => j
            .as_f64()
            .ok_or_else(|| FnError::arg(i, "expected a number")),
        Some(other) => Err(FnError::arg(
            i,
            format!("expected a number, got {}", other.type_name()),
        )),
        None => Err(FnError::arg(i, "missing argument")),
    }
}

/// A number argument keeping its kind: `Ok(Value::Int|Value::Double)`.
pub fn number_arg(args: &[Value], i: usize) -> Result<Value, FnError> {
    match args.get(i) {
        Some(v @ (Value::Int(_) | Value::Double(_))) => Ok(v.clone()),
        Some(Value::Str(t)) => parse_number(t)
            .ok_or_else(|| FnError::arg(i, format!("'{}' is not a number", t.as_str()))),
        Some(Value::Json(j)) => match j.as_i64() {
            Some(n) => Ok(Value::Int(n)),
            None => j
                .as_f64()
                .map(Value::Double)
                .ok_or_else(|| FnError::arg(i, "expected a number")),
        },
        Some(other) => Err(FnError::arg(
            i,
            format!("expected a number, got {}", other.type_name()),
        )),
        None => Err(FnError::arg(i, "missing argument")),
    }
}

/// The argument as bytes: VARBINARY as is, text as its UTF-8 bytes.
pub fn bytes_arg(args: &[Value], i: usize) -> Result<Cow<'_, [u8]>, FnError> {
    match args.get(i) {
        Some(Value::Bytes(b)) => Ok(Cow::Borrowed(b)),
        Some(Value::Str(t)) => Ok(Cow::Borrowed(t.as_bytes())),
        Some(other) => other
            .to_text()
            .map(|t| Cow::Owned(t.into_owned().into_bytes()))
            .ok_or_else(|| FnError::arg(i, "expected varbinary, got NULL")),
        None => Err(FnError::arg(i, "missing argument")),
    }
}

pub fn bool_arg(args: &[Value], i: usize) -> Result<bool, FnError> {
    match args.get(i) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Str(t)) if t.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::Str(t)) if t.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(FnError::arg(
            i,
            format!("expected a boolean, got {}", other.type_name()),
        )),
        None => Err(FnError::arg(i, "missing argument")),
    }
}

/// Parses text as a number: integer when it is one, else double.
pub fn parse_number(s: &str) -> Option<Value> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(Value::Int(n));
    }
    parse_double(s).map(Value::Double)
}

/// Parses text as a double (`1.5`, `1e3`, `NaN`, `Infinity`), rejecting empty text.
pub fn parse_double(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ if s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E')) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for (family, fns) in families() {
            for f in fns {
                assert!(seen.insert(f.name), "duplicate function {}", f.name);
                assert_eq!(
                    f.name,
                    f.name.to_ascii_lowercase(),
                    "{} must be lower-case",
                    f.name
                );
                assert!(
                    !f.doc.is_empty() && !f.doc.contains('\n'),
                    "{family}/{}: one-line doc",
                    f.name
                );
                assert!(
                    !f.examples.is_empty(),
                    "{family}/{}: needs an example",
                    f.name
                );
                let variadic = f.params.iter().position(|p| p.arity == Arity::Variadic);
                if let Some(v) = variadic {
                    assert_eq!(v, f.params.len() - 1, "{}: variadic must be last", f.name);
                }
                let first_opt = f
                    .params
                    .iter()
                    .position(|p| p.arity != Arity::Required)
                    .unwrap_or(f.params.len());
                assert!(
                    f.params[first_opt..]
                        .iter()
                        .all(|p| p.arity != Arity::Required),
                    "{}: required after optional",
                    f.name
                );
            }
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert!(lookup("LOWER").is_some());
        assert!(lookup("Regexp_Extract").is_some());
        assert!(lookup("no_such_function").is_none());
    }
}

//! SPL functions: the regular-expression family. Patterns are RE2 syntax (the Rust `regex`
//! crate; SPL.md decision 6), searches are unanchored, and results follow Presto.
//!
//! Owns `regexp_like`, `regexp_extract`, `regexp_extract_all`, `regexp_replace`,
//! `regexp_split`, `regexp_count` and `regexp_position`. A constant pattern is compiled once
//! by `prepare` (a bad pattern, group or replacement is then a plan-time error pointing at the
//! argument); a pattern that comes from the data is compiled at run time through a small
//! per-thread cache. Matches are iterated the way Presto does: after an empty match the next
//! search begins one character later, after a non-empty one at its end (so `a*` finds an
//! empty match right after `aaa`, unlike Rust's `find_iter`). Depends only on the registry.

use super::string::{MAX_RESULT_BYTES, arg_text};
use super::{Env, FnError, FnResult, Function, Kind, Param, Prepared, ex, int_arg, text};
use crate::diagnostic::codes;
use crate::event::Value;
use regex::{Captures, Match, Regex, RegexBuilder};
use std::cell::RefCell;
use std::ops::Deref;
use std::sync::Arc;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new(
        "regexp_like",
        &[Param::req("string", Kind::Str), Param::req("pattern", Kind::Str)],
        Kind::Bool,
        "Whether the pattern matches anywhere in the string (use ^ and $ to anchor).",
        &[
            ex("regexp_like('GET /index.html', '^(GET|POST) ')", "true"),
            ex(r"regexp_like('abc', '\d')", "false"),
        ],
        regexp_like,
    )
    .prepare(prepare_pattern),
    Function::new(
        "regexp_extract",
        &[Param::req("string", Kind::Str), Param::req("pattern", Kind::Str), Param::opt("group", Kind::Int)],
        Kind::Str,
        "The first match of the pattern, or of its capturing group; NULL when nothing matches.",
        &[
            ex(r"regexp_extract('user=alice id=42', 'id=(\d+)', 1)", r#""42""#),
            ex(r"regexp_extract('a1b22', '\d+')", r#""1""#),
            ex(r"regexp_extract('abc', '\d+')", "null"),
        ],
        regexp_extract,
    )
    .prepare(prepare_group),
    Function::new(
        "regexp_extract_all",
        &[Param::req("string", Kind::Str), Param::req("pattern", Kind::Str), Param::opt("group", Kind::Int)],
        Kind::Array,
        "Every match of the pattern (or of its capturing group) as an array, empty when nothing matches.",
        &[
            ex(r"regexp_extract_all('a1b22c333', '\d+')", r#"["1","22","333"]"#),
            ex(r"regexp_extract_all('k1=v1 k2=v2', '(\w+)=(\w+)', 2)", r#"["v1","v2"]"#),
        ],
        regexp_extract_all,
    )
    .prepare(prepare_group),
    Function::new(
        "regexp_replace",
        &[Param::req("string", Kind::Str), Param::req("pattern", Kind::Str), Param::opt("replacement", Kind::Str)],
        Kind::Str,
        "Replaces every match with the replacement ($1, ${name} or \\1 refer to groups; \\$ is a literal $), or removes matches when it is omitted.",
        &[
            ex(r"regexp_replace('tel 13812345678', '(\d{3})\d{4}(\d{4})', '$1****$2')", r#""tel 138****5678""#),
            ex(r"regexp_replace('13812345678', '(\d{3})\d{4}(\d{4})', '\1****\2')", r#""138****5678""#),
            ex(r"regexp_replace('a1b2', '\d')", r#""ab""#),
        ],
        regexp_replace,
    )
    .prepare(prepare_replace),
    Function::new(
        "regexp_split",
        &[Param::req("string", Kind::Str), Param::req("pattern", Kind::Str)],
        Kind::Array,
        "Splits a string around the matches of the pattern.",
        &[ex(r"regexp_split('a1b22c', '\d+')", r#"["a","b","c"]"#), ex(r"regexp_split('1a 2b', '\s*[a-z]\s*')", r#"["1","2",""]"#)],
        regexp_split,
    )
    .prepare(prepare_pattern),
    Function::new(
        "regexp_count",
        &[Param::req("string", Kind::Str), Param::req("pattern", Kind::Str)],
        Kind::Int,
        "Number of matches of the pattern in the string.",
        &[ex(r"regexp_count('a1b22c333', '\d+')", "3")],
        regexp_count,
    )
    .prepare(prepare_pattern),
    Function::new(
        "regexp_position",
        &[
            Param::req("string", Kind::Str),
            Param::req("pattern", Kind::Str),
            Param::opt("start", Kind::Int),
            Param::opt("occurrence", Kind::Int),
        ],
        Kind::Int,
        "1-based character position of the occurrence-th match searching from character start, -1 when there is none.",
        &[
            ex(r"regexp_position('a1b22c', '\d+')", "2"),
            ex(r"regexp_position('a1b22c', '\d+', 1, 2)", "4"),
            ex("regexp_position('abc', 'x')", "-1"),
        ],
        regexp_position,
    )
    .prepare(prepare_pattern),
];

// ---- compilation ------------------------------------------------------------------------

/// What `prepare` builds from a constant pattern (and a constant replacement).
struct Compiled {
    re: Regex,
    replacement: Option<Replacement>,
}

/// Compiles a pattern; the error is one line (`regex`'s own message is a multi-line drawing).
fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern).build().map_err(|e| match e {
        regex::Error::Syntax(msg) => {
            let reason = msg
                .lines()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or("syntax error");
            format!("invalid regular expression '{pattern}': {reason}")
        }
        regex::Error::CompiledTooBig(limit) => format!(
            "regular expression '{pattern}' is too large (compiled size over {limit} bytes)"
        ),
        other => format!("invalid regular expression '{pattern}': {other}"),
    })
}

/// A constant, non-NULL argument at plan time.
fn constant(args: &[Option<Value>], i: usize) -> Option<&Value> {
    args.get(i)
        .and_then(Option::as_ref)
        .filter(|v| !v.is_null())
}

fn compile_constant(args: &[Option<Value>]) -> Result<Option<Regex>, FnError> {
    let Some(p) = constant(args, 1) else {
        return Ok(None);
    };
    let p = text(p).unwrap_or_default();
    compile(&p)
        .map(Some)
        .map_err(|m| FnError::arg(1, m).with_code(codes::BAD_REGEX))
}

fn prepare_pattern(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    Ok(match compile_constant(args)? {
        Some(re) => Prepared::new(Compiled {
            re,
            replacement: None,
        }),
        None => Prepared::none(),
    })
}

fn prepare_group(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    let re = compile_constant(args)?;
    if let Some(g) = constant(args, 2) {
        let g = int_arg(std::slice::from_ref(g), 0).map_err(|e| FnError::arg(2, e.message))?;
        check_group(re.as_ref(), g).map_err(|e| e.with_code(codes::BAD_ARGUMENT))?;
    }
    Ok(re.map_or_else(Prepared::none, |re| {
        Prepared::new(Compiled {
            re,
            replacement: None,
        })
    }))
}

fn prepare_replace(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    let Some(re) = compile_constant(args)? else {
        return Ok(Prepared::none());
    };
    let replacement = match constant(args, 2) {
        Some(r) => Some(
            Replacement::parse(&text(r).unwrap_or_default(), &re)
                .map_err(|m| FnError::arg(2, m).with_code(codes::BAD_ARGUMENT))?,
        ),
        None => None,
    };
    Ok(Prepared::new(Compiled { re, replacement }))
}

/// How many run-time (non-constant) patterns each thread keeps compiled.
const CACHE_SIZE: usize = 16;

thread_local! {
    /// Most recently used last. `Arc` so a hit does not clone the regex (a clone would start
    /// with an empty matching cache).
    static CACHE: RefCell<Vec<(Box<str>, Arc<Regex>)>> = const { RefCell::new(Vec::new()) };
}

fn cached(pattern: &str) -> Result<Arc<Regex>, String> {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(i) = cache.iter().position(|(p, _)| &**p == pattern) {
            let hit = cache.remove(i);
            let re = hit.1.clone();
            cache.push(hit);
            return Ok(re);
        }
        let re = Arc::new(compile(pattern)?);
        if cache.len() >= CACHE_SIZE {
            cache.remove(0);
        }
        cache.push((pattern.into(), re.clone()));
        Ok(re)
    })
}

/// The regex of a call: planned, or compiled (cached) from the run-time pattern.
enum Re<'a> {
    Planned(&'a Regex),
    Dynamic(Arc<Regex>),
}

impl Deref for Re<'_> {
    type Target = Regex;
    fn deref(&self) -> &Regex {
        match self {
            Re::Planned(re) => re,
            Re::Dynamic(re) => re,
        }
    }
}

fn regex_of<'a>(args: &[Value], prepared: &'a Prepared) -> Result<Re<'a>, FnError> {
    if let Some(c) = prepared.get::<Compiled>() {
        return Ok(Re::Planned(&c.re));
    }
    let pattern = text(&args[1]).ok_or_else(|| FnError::arg(1, "expected a pattern, got NULL"))?;
    cached(&pattern)
        .map(Re::Dynamic)
        .map_err(|m| FnError::arg(1, m))
}

/// Validates a group index against the pattern (when known).
fn check_group(re: Option<&Regex>, group: i64) -> Result<usize, FnError> {
    if group < 0 {
        return Err(FnError::arg(
            2,
            format!("group must not be negative, got {group}"),
        ));
    }
    if let Some(re) = re {
        let groups = re.captures_len() - 1;
        if group as u64 > groups as u64 {
            return Err(FnError::arg(
                2,
                format!("the pattern has {groups} capturing groups; cannot access group {group}"),
            ));
        }
    }
    Ok(group as usize)
}

fn group_arg(args: &[Value], re: &Regex) -> Result<usize, FnError> {
    if args.len() <= 2 {
        return Ok(0);
    }
    check_group(Some(re), int_arg(args, 2)?)
}

// ---- Presto-style match iteration --------------------------------------------------------

/// The search position after a match: one character further when it was empty.
fn next_start(hay: &str, start: usize, end: usize) -> usize {
    if start == end {
        end + hay[end..].chars().next().map_or(1, char::len_utf8)
    } else {
        end
    }
}

fn matches<'h>(re: &Regex, hay: &'h str) -> impl Iterator<Item = Match<'h>> {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at > hay.len() {
            return None;
        }
        let m = re.find_at(hay, at)?;
        at = next_start(hay, m.start(), m.end());
        Some(m)
    })
}

fn captures<'h>(re: &Regex, hay: &'h str) -> impl Iterator<Item = Captures<'h>> {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at > hay.len() {
            return None;
        }
        let c = re.captures_at(hay, at)?;
        let m = c.get(0).expect("group 0 always participates");
        at = next_start(hay, m.start(), m.end());
        Some(c)
    })
}

// ---- replacement -------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    Group(usize),
}

/// A parsed `regexp_replace` replacement.
#[derive(Debug, Clone, PartialEq)]
struct Replacement(Vec<Piece>);

impl Replacement {
    /// Presto's syntax (`$N`, `${name}`, `\$`, `\\`, `\x` = `x`) plus SLS's `\N` back-references
    /// (SPL.md decision 11) and `${N}`. Group numbers are read like Java: the longest prefix of
    /// the digits that names an existing group.
    fn parse(repl: &str, re: &Regex) -> Result<Replacement, String> {
        let groups = re.captures_len();
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = repl.chars().peekable();
        let number = |first: char,
                      chars: &mut std::iter::Peekable<std::str::Chars>|
         -> Result<usize, String> {
            let mut n = first as usize - '0' as usize;
            if n >= groups {
                return Err(format!(
                    "replacement refers to group {n} but the pattern has {} capturing groups",
                    groups - 1
                ));
            }
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                let longer = n * 10 + d as usize;
                if longer >= groups {
                    break;
                }
                n = longer;
                chars.next();
            }
            Ok(n)
        };
        while let Some(c) = chars.next() {
            let group = match c {
                '\\' => match chars.next() {
                    Some(d) if d.is_ascii_digit() => number(d, &mut chars)?,
                    Some(other) => {
                        lit.push(other);
                        continue;
                    }
                    None => {
                        return Err(format!(
                            "illegal replacement '{repl}': it ends with a lone backslash (write \\\\)"
                        ));
                    }
                },
                '$' => match chars.next() {
                    Some(d) if d.is_ascii_digit() => number(d, &mut chars)?,
                    Some('{') => {
                        let mut name = String::new();
                        loop {
                            match chars.next() {
                                Some('}') => break,
                                Some(ch) => name.push(ch),
                                None => {
                                    return Err(format!(
                                        "illegal replacement '{repl}': unclosed ${{"
                                    ));
                                }
                            }
                        }
                        match name.parse::<usize>() {
                            Ok(n) if n < groups => n,
                            Ok(n) => {
                                return Err(format!(
                                    "replacement refers to group {n} but the pattern has {} capturing groups",
                                    groups - 1
                                ));
                            }
                            Err(_) => re
                                .capture_names()
                                .position(|g| g == Some(name.as_str()))
                                .ok_or_else(|| {
                                    format!("replacement refers to unknown group '{name}'")
                                })?,
                        }
                    }
                    _ => {
                        return Err(format!(
                            "illegal replacement '{repl}': '$' must be followed by a group number or {{name}} (write \\$ for a literal $)"
                        ));
                    }
                },
                other => {
                    lit.push(other);
                    continue;
                }
            };
            if !lit.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut lit)));
            }
            pieces.push(Piece::Group(group));
        }
        if !lit.is_empty() {
            pieces.push(Piece::Literal(lit));
        }
        Ok(Replacement(pieces))
    }

    fn uses_groups(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Piece::Group(_)))
    }

    /// Appends the replacement for one match. `caps` is `None` when no group is used.
    fn append(&self, m: &Match, caps: Option<&Captures>, out: &mut String) {
        for p in &self.0 {
            match p {
                Piece::Literal(s) => out.push_str(s),
                Piece::Group(0) => out.push_str(m.as_str()),
                Piece::Group(g) => {
                    // A group that did not take part adds nothing.
                    if let Some(g) = caps.and_then(|c| c.get(*g)) {
                        out.push_str(g.as_str());
                    }
                }
            }
        }
    }
}

// ---- functions --------------------------------------------------------------------------

fn regexp_like(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let re = regex_of(args, prepared)?;
    let t = text(&args[0]).unwrap_or_default();
    Ok(Value::Bool(re.is_match(&t)))
}

fn regexp_extract(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let re = regex_of(args, prepared)?;
    let group = group_arg(args, &re)?;
    let t = arg_text(args, 0)?;
    let m = if group == 0 {
        re.find(&t)
    } else {
        re.captures(&t).and_then(|c| c.get(group))
    };
    Ok(m.map_or(Value::Null, |m| Value::Str(t.slice(m.range()))))
}

fn regexp_extract_all(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let re = regex_of(args, prepared)?;
    let group = group_arg(args, &re)?;
    let t = arg_text(args, 0)?;
    let items: Vec<Value> = if group == 0 {
        matches(&re, &t)
            .map(|m| Value::Str(t.slice(m.range())))
            .collect()
    } else {
        captures(&re, &t)
            .map(|c| {
                c.get(group)
                    .map_or(Value::Null, |m| Value::Str(t.slice(m.range())))
            })
            .collect()
    };
    Ok(Value::array(items))
}

fn regexp_replace(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let re = regex_of(args, prepared)?;
    let parsed;
    let replacement = match prepared
        .get::<Compiled>()
        .and_then(|c| c.replacement.as_ref())
    {
        Some(r) => r,
        None => {
            parsed = match args.get(2) {
                Some(r) => Replacement::parse(&text(r).unwrap_or_default(), &re)
                    .map_err(|m| FnError::arg(2, m))?,
                None => Replacement(Vec::new()),
            };
            &parsed
        }
    };
    let t = arg_text(args, 0)?;
    let s = t.as_str();
    let mut out = String::new();
    let mut last = 0;
    let mut any = false;
    let mut emit = |m: &Match, caps: Option<&Captures>, out: &mut String| -> Result<(), FnError> {
        any = true;
        out.push_str(&s[last..m.start()]);
        replacement.append(m, caps, out);
        last = m.end();
        if out.len() > MAX_RESULT_BYTES.max(s.len()) {
            return Err(FnError::arg(
                2,
                format!("the result would be larger than {MAX_RESULT_BYTES} bytes"),
            ));
        }
        Ok(())
    };
    if replacement.uses_groups() {
        for c in captures(&re, s) {
            let m = c.get(0).expect("group 0 always participates");
            emit(&m, Some(&c), &mut out)?;
        }
    } else {
        for m in matches(&re, s) {
            emit(&m, None, &mut out)?;
        }
    }
    if !any {
        return Ok(Value::Str(t.into_owned()));
    }
    out.push_str(&s[last..]);
    Ok(Value::string(out))
}

fn regexp_split(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let re = regex_of(args, prepared)?;
    let t = arg_text(args, 0)?;
    let mut parts = Vec::new();
    let mut last = 0;
    for m in matches(&re, &t) {
        parts.push(Value::Str(t.slice(last..m.start().max(last))));
        last = m.end().max(last);
    }
    parts.push(Value::Str(t.slice(last..t.len())));
    Ok(Value::array(parts))
}

fn regexp_count(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let re = regex_of(args, prepared)?;
    let t = text(&args[0]).unwrap_or_default();
    Ok(Value::Int(matches(&re, &t).count() as i64))
}

fn regexp_position(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let re = regex_of(args, prepared)?;
    let t = arg_text(args, 0)?;
    let start = if args.len() > 2 { int_arg(args, 2)? } else { 1 };
    let occurrence = if args.len() > 3 { int_arg(args, 3)? } else { 1 };
    if start < 1 {
        return Err(FnError::arg(
            2,
            format!("start must be at least 1, got {start}"),
        ));
    }
    if occurrence < 1 {
        return Err(FnError::arg(
            3,
            format!("occurrence must be at least 1, got {occurrence}"),
        ));
    }
    let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
    let Some((begin, _)) = t.char_indices().nth(skip) else {
        return Ok(Value::Int(-1));
    };
    // Like Presto, the search sees the text from `start` on (`^` matches there).
    let hay = &t[begin..];
    let n = usize::try_from(occurrence - 1).unwrap_or(usize::MAX);
    Ok(match matches(&re, hay).nth(n) {
        Some(m) => Value::Int((skip + hay[..m.start()].chars().count() + 1) as i64),
        None => Value::Int(-1),
    })
}

#[cfg(test)]
mod tests {
    use super::super::string::test_support::{self, s, strs};
    use super::*;

    test_support::family_helpers!();

    fn i(n: i64) -> Value {
        Value::Int(n)
    }

    #[test]
    fn like_is_an_unanchored_search() {
        assert_eq!(
            ok("regexp_like", &[s("xabcx"), s("abc")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("regexp_like", &[s("xabcx"), s("^abc")]),
            Value::Bool(false)
        );
        assert_eq!(ok("regexp_like", &[s(""), s("")]), Value::Bool(true));
        assert_eq!(
            ok("regexp_like", &[s("ÉTÉ"), s("(?i)été")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("regexp_like", &[s("404"), s(r"^\d+$")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("regexp_like", &[i(404), s(r"^4\d\d$")]),
            Value::Bool(true)
        );
        assert_eq!(ok("regexp_like", &[Value::Null, s("a")]), Value::Null);
        assert_eq!(ok("regexp_like", &[s("a"), Value::Null]), Value::Null);
    }

    #[test]
    fn bad_patterns_fail_at_plan_time_with_the_argument() {
        let e =
            test_support::run(FUNCTIONS, "regexp_like", &[s("a"), s("(abc")], true).unwrap_err();
        assert_eq!(e.arg, Some(1));
        assert_eq!(e.code, codes::BAD_REGEX);
        assert_eq!(
            e.message,
            "invalid regular expression '(abc': unclosed group"
        );
        // The same pattern from the data is a run-time error.
        let e =
            test_support::run(FUNCTIONS, "regexp_like", &[s("a"), s("(abc")], false).unwrap_err();
        assert_eq!((e.arg, e.code), (Some(1), codes::RUNTIME));
        for name in [
            "regexp_extract",
            "regexp_extract_all",
            "regexp_replace",
            "regexp_split",
            "regexp_count",
            "regexp_position",
        ] {
            assert_eq!(err(name, &[s("a"), s("[z-a]")]).arg, Some(1), "{name}");
        }
        assert!(
            !err("regexp_like", &[s("a"), s("\\")])
                .message
                .contains('\n')
        );
    }

    #[test]
    fn extract_first_match_or_group() {
        assert_eq!(ok("regexp_extract", &[s("a1b22"), s(r"\d+")]), s("1"));
        assert_eq!(
            ok("regexp_extract", &[s("id=42;"), s(r"id=(\d+)"), i(1)]),
            s("42")
        );
        assert_eq!(
            ok("regexp_extract", &[s("id=42;"), s(r"id=(\d+)"), i(0)]),
            s("id=42")
        );
        assert_eq!(ok("regexp_extract", &[s("abc"), s(r"\d")]), Value::Null);
        // A group that did not take part gives NULL.
        assert_eq!(
            ok("regexp_extract", &[s("b"), s("(a)|b"), i(1)]),
            Value::Null
        );
        assert_eq!(ok("regexp_extract", &[s("x"), s("a*")]), s(""));
        assert_eq!(
            ok("regexp_extract", &[s("日本語"), s("本(.)"), i(1)]),
            s("語")
        );
        assert_eq!(
            ok(
                "regexp_extract",
                &[s("k=v"), s("(?P<key>\\w)=(?P<val>\\w)"), i(2)]
            ),
            s("v")
        );
        let e = err("regexp_extract", &[s("a"), s("(a)"), i(2)]);
        assert_eq!(e.arg, Some(2));
        assert_eq!(
            e.message,
            "the pattern has 1 capturing groups; cannot access group 2"
        );
        assert_eq!(err("regexp_extract", &[s("a"), s("a"), i(-1)]).arg, Some(2));
        assert_eq!(
            err("regexp_extract", &[s("a"), s("a"), i(i64::MAX)]).arg,
            Some(2)
        );
        // Group checked at plan time when constant.
        let e = test_support::run(FUNCTIONS, "regexp_extract", &[s("a"), s("(a)"), i(3)], true)
            .unwrap_err();
        assert_eq!(e.code, codes::BAD_ARGUMENT);
    }

    #[test]
    fn extract_all() {
        assert_eq!(
            ok("regexp_extract_all", &[s("a1b22c333"), s(r"\d+")]),
            strs(&["1", "22", "333"])
        );
        assert_eq!(
            ok("regexp_extract_all", &[s("abc"), s(r"\d+")]),
            Value::array(vec![])
        );
        assert_eq!(
            ok(
                "regexp_extract_all",
                &[s("k1=v1 k2=v2"), s(r"(\w+)=(\w+)"), i(1)]
            ),
            strs(&["k1", "k2"])
        );
        assert_eq!(
            ok("regexp_extract_all", &[s("ab"), s("(a)|b"), i(1)]),
            Value::array(vec![s("a"), Value::Null])
        );
        // Presto iteration: an empty match right after a non-empty one is reported.
        assert_eq!(
            ok("regexp_extract_all", &[s("baaab"), s("a*")]),
            strs(&["", "aaa", "", ""])
        );
        assert_eq!(
            ok("regexp_extract_all", &[s("日本"), s("")]),
            strs(&["", "", ""])
        );
        assert_eq!(
            err("regexp_extract_all", &[s("a"), s("a"), i(1)]).arg,
            Some(2)
        );
    }

    #[test]
    fn replace_with_both_reference_styles() {
        let re = r"(\d{3})\d{4}(\d{4})";
        assert_eq!(
            ok("regexp_replace", &[s("13812345678"), s(re), s("$1****$2")]),
            s("138****5678")
        );
        assert_eq!(
            ok("regexp_replace", &[s("13812345678"), s(re), s(r"\1****\2")]),
            s("138****5678")
        );
        assert_eq!(
            ok("regexp_replace", &[s("13812345678"), s(re), s("${2}-${1}")]),
            s("5678-138")
        );
        assert_eq!(
            ok(
                "regexp_replace",
                &[s("k=v"), s(r"(?P<k>\w)=(?P<v>\w)"), s("${v}=${k}")]
            ),
            s("v=k")
        );
        assert_eq!(
            ok(
                "regexp_replace",
                &[s("1a 2b"), s(r"(\d+)([ab]) "), s("3c$2")]
            ),
            s("3ca2b")
        );
        assert_eq!(
            ok("regexp_replace", &[s("abc"), s("b"), s("[$0]")]),
            s("a[b]c")
        );
        assert_eq!(
            ok("regexp_replace", &[s("abc"), s("b"), s(r"\$\\\x")]),
            s(r"a$\xc")
        );
        assert_eq!(ok("regexp_replace", &[s("a1b2"), s(r"\d")]), s("ab"));
        assert_eq!(ok("regexp_replace", &[s("abc"), s("x"), s("y")]), s("abc"));
        assert_eq!(
            ok("regexp_replace", &[s(""), s("^$"), s("empty")]),
            s("empty")
        );
        // Presto iteration of empty matches.
        assert_eq!(
            ok("regexp_replace", &[s("baaab"), s("a*"), s("-")]),
            s("-b--b-")
        );
        assert_eq!(ok("regexp_replace", &[s("é"), s(""), s("-")]), s("-é-"));
        // Java's rule for multi-digit references: the longest existing group.
        let ten = "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)";
        assert_eq!(
            ok("regexp_replace", &[s("abcdefghij"), s(ten), s("$10")]),
            s("j")
        );
        assert_eq!(
            ok("regexp_replace", &[s("ab"), s("(a)(b)"), s("$21")]),
            s("b1")
        );
        // A group that did not take part adds nothing.
        assert_eq!(
            ok("regexp_replace", &[s("b"), s("(a)?b"), s("[$1]")]),
            s("[]")
        );
    }

    #[test]
    fn bad_replacements() {
        for bad in ["$", "$x", "\\", "${", "${nope}", "$2", "\\2", "${9}"] {
            let e = err("regexp_replace", &[s("ab"), s("(a)"), s(bad)]);
            assert_eq!(e.arg, Some(2), "{bad}");
        }
        let e = test_support::run(
            FUNCTIONS,
            "regexp_replace",
            &[s("ab"), s("(a)"), s("$2")],
            true,
        )
        .unwrap_err();
        assert_eq!(e.code, codes::BAD_ARGUMENT);
    }

    #[test]
    fn replace_output_is_capped() {
        let big = "x".repeat(100_000);
        assert!(call("regexp_replace", &[s(&big), s(""), s(&"y".repeat(100))]).is_err());
        assert!(call("regexp_replace", &[s(&big), s("x"), s("$0$0")]).is_ok());
    }

    #[test]
    fn split() {
        assert_eq!(
            ok("regexp_split", &[s("1a 2b 14m"), s(r"\s*[a-z]+\s*")]),
            strs(&["1", "2", "14", ""])
        );
        assert_eq!(ok("regexp_split", &[s("abc"), s("x")]), strs(&["abc"]));
        assert_eq!(ok("regexp_split", &[s(""), s(",")]), strs(&[""]));
        assert_eq!(ok("regexp_split", &[s("a,b"), s(",")]), strs(&["a", "b"]));
        assert_eq!(
            ok("regexp_split", &[s("ab"), s("")]),
            strs(&["", "a", "b", ""])
        );
    }

    #[test]
    fn count_and_position() {
        assert_eq!(ok("regexp_count", &[s("a1b22c333"), s(r"\d+")]), i(3));
        assert_eq!(ok("regexp_count", &[s(""), s("x")]), i(0));
        assert_eq!(ok("regexp_count", &[s("abc"), s("")]), i(4));
        assert_eq!(ok("regexp_position", &[s("a1b22c"), s(r"\d+")]), i(2));
        assert_eq!(ok("regexp_position", &[s("a1b22c"), s(r"\d+"), i(3)]), i(4));
        assert_eq!(
            ok("regexp_position", &[s("a1b22c"), s(r"\d+"), i(1), i(2)]),
            i(4)
        );
        assert_eq!(
            ok("regexp_position", &[s("a1b22c"), s(r"\d+"), i(1), i(3)]),
            i(-1)
        );
        assert_eq!(ok("regexp_position", &[s("日本語1"), s(r"\d")]), i(4));
        assert_eq!(ok("regexp_position", &[s("ab"), s("^b"), i(2)]), i(2));
        assert_eq!(ok("regexp_position", &[s("ab"), s("b"), i(9)]), i(-1));
        assert_eq!(
            ok(
                "regexp_position",
                &[s("ab"), s("b"), i(i64::MAX), i(i64::MAX)]
            ),
            i(-1)
        );
        assert_eq!(
            err("regexp_position", &[s("ab"), s("b"), i(0)]).arg,
            Some(2)
        );
        assert_eq!(
            err("regexp_position", &[s("ab"), s("b"), i(1), i(0)]).arg,
            Some(3)
        );
    }

    #[test]
    fn dynamic_patterns_are_cached_per_thread() {
        for k in 0..40 {
            let pattern = format!("a{{{}}}", k % 20);
            assert_eq!(
                test_support::run(
                    FUNCTIONS,
                    "regexp_like",
                    &[s(&"a".repeat(20)), s(&pattern)],
                    false
                )
                .unwrap(),
                Value::Bool(true)
            );
        }
        CACHE.with(|c| assert!(c.borrow().len() <= CACHE_SIZE));
    }
}

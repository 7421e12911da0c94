//! SPL functions: the string family, with Presto semantics: positions and lengths count
//! Unicode code points, positions are 1-based, and a NULL argument gives NULL (the registry
//! propagates it before `eval` is called).
//!
//! Owns `concat`, `length`, case mapping, trims, pads, `replace`, `reverse`, the split
//! functions, `strpos`/`strrpos`/`position`, `substr`, `chr`/`codepoint`, UTF-8 conversion,
//! `starts_with`/`ends_with`, `split_to_map` and the edit distances. Substrings of a VARCHAR
//! argument share its buffer (`Text::sub`) instead of copying. Depends only on the registry
//! and `event`.

use super::Env;
use super::{
    FnError, FnResult, Function, Kind, Param, Prepared, ex, ex_in, int_arg, text, text_shared,
};
use crate::event::{Text, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// The largest string or array a string function builds (1 MiB): pads, replaces and the like
/// fail with an argument error beyond it instead of exhausting memory.
pub(crate) const MAX_RESULT_BYTES: usize = 1 << 20;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new(
        "concat",
        &[
            Param::req("value", Kind::Any),
            Param::variadic("more", Kind::Any),
        ],
        Kind::Any,
        "Concatenates strings (or varbinary values); when an argument is an array, concatenates arrays, other arguments becoming elements. NULL if any argument is NULL.",
        &[
            ex("concat('ab', 'cd', 'e')", r#""abcde""#),
            ex("concat(ARRAY[1, 2], ARRAY[3])", "[1,2,3]"),
            ex("concat('a', NULL)", "null"),
        ],
        concat,
    ),
    Function::new(
        "length",
        &[Param::req("string", Kind::Str)],
        Kind::Int,
        "Number of characters (code points) in a string; bytes for a varbinary.",
        &[ex("length('héllo')", "5"), ex("length('')", "0")],
        length,
    ),
    Function::new(
        "lower",
        &[Param::req("string", Kind::Str)],
        Kind::Str,
        "Converts a string to lower case (Unicode aware).",
        &[
            ex("lower('HeLLo')", r#""hello""#),
            ex_in("lower(x)", r#"{"x":"ÀB"}"#, r#""àb""#),
        ],
        lower,
    ),
    Function::new(
        "upper",
        &[Param::req("string", Kind::Str)],
        Kind::Str,
        "Converts a string to upper case (Unicode aware).",
        &[ex("upper('abc')", r#""ABC""#), ex("upper('é')", r#""É""#)],
        upper,
    ),
    Function::new(
        "trim",
        &[
            Param::req("string", Kind::Str),
            Param::opt("chars", Kind::Str),
        ],
        Kind::Str,
        "Removes leading and trailing whitespace, or any of the given characters.",
        &[
            ex("trim('  a b  ')", r#""a b""#),
            ex("trim('xxaxx', 'x')", r#""a""#),
        ],
        trim,
    ),
    Function::new(
        "ltrim",
        &[
            Param::req("string", Kind::Str),
            Param::opt("chars", Kind::Str),
        ],
        Kind::Str,
        "Removes leading whitespace, or leading characters from the given set.",
        &[
            ex("ltrim('  ab  ')", r#""ab  ""#),
            ex("ltrim('0012', '0')", r#""12""#),
        ],
        ltrim,
    ),
    Function::new(
        "rtrim",
        &[
            Param::req("string", Kind::Str),
            Param::opt("chars", Kind::Str),
        ],
        Kind::Str,
        "Removes trailing whitespace, or trailing characters from the given set.",
        &[
            ex("rtrim('  ab  ')", r#""  ab""#),
            ex("rtrim('a.b..', '.')", r#""a.b""#),
        ],
        rtrim,
    ),
    Function::new(
        "lpad",
        &[
            Param::req("string", Kind::Str),
            Param::req("size", Kind::Int),
            Param::req("pad", Kind::Str),
        ],
        Kind::Str,
        "Left-pads a string to size characters with pad repeated; a longer string is truncated to size.",
        &[
            ex("lpad('7', 3, '0')", r#""007""#),
            ex("lpad('hello', 2, ' ')", r#""he""#),
        ],
        lpad,
    ),
    Function::new(
        "rpad",
        &[
            Param::req("string", Kind::Str),
            Param::req("size", Kind::Int),
            Param::req("pad", Kind::Str),
        ],
        Kind::Str,
        "Right-pads a string to size characters with pad repeated; a longer string is truncated to size.",
        &[ex("rpad('ab', 5, 'xy')", r#""abxyx""#)],
        rpad,
    ),
    Function::new(
        "replace",
        &[
            Param::req("string", Kind::Str),
            Param::req("search", Kind::Str),
            Param::opt("replace", Kind::Str),
        ],
        Kind::Str,
        "Replaces every occurrence of search with replace, or removes them when replace is omitted.",
        &[
            ex("replace('a-b-c', '-', '+')", r#""a+b+c""#),
            ex("replace('a-b-c', '-')", r#""abc""#),
        ],
        replace,
    ),
    Function::new(
        "reverse",
        &[Param::req("value", Kind::Any)],
        Kind::Any,
        "Reverses a string by characters (a varbinary by bytes, an array by elements).",
        &[
            ex("reverse('abc')", r#""cba""#),
            ex("reverse(ARRAY[1, 2, 3])", "[3,2,1]"),
        ],
        reverse,
    ),
    Function::new(
        "split",
        &[
            Param::req("string", Kind::Str),
            Param::req("delimiter", Kind::Str),
            Param::opt("limit", Kind::Int),
        ],
        Kind::Array,
        "Splits a string on a delimiter into an array; with limit, the last element holds the unsplit rest.",
        &[
            ex("split('a,b,,c', ',')", r#"["a","b","","c"]"#),
            ex("split('a,b,c', ',', 2)", r#"["a","b,c"]"#),
        ],
        split,
    ),
    Function::new(
        "split_part",
        &[
            Param::req("string", Kind::Str),
            Param::req("delimiter", Kind::Str),
            Param::req("index", Kind::Int),
        ],
        Kind::Str,
        "The index-th (1-based) field of a string split on a delimiter, NULL when out of range.",
        &[
            ex("split_part('a,b,c', ',', 2)", r#""b""#),
            ex("split_part('a,b,c', ',', 4)", "null"),
        ],
        split_part,
    ),
    Function::new(
        "strpos",
        &[
            Param::req("string", Kind::Str),
            Param::req("substring", Kind::Str),
            Param::opt("instance", Kind::Int),
        ],
        Kind::Int,
        "1-based character position of the instance-th (default first) occurrence of substring, 0 if absent.",
        &[
            ex("strpos('hello', 'l')", "3"),
            ex("strpos('hello', 'l', 2)", "4"),
            ex("strpos('hello', 'z')", "0"),
        ],
        strpos,
    ),
    Function::new(
        "strrpos",
        &[
            Param::req("string", Kind::Str),
            Param::req("substring", Kind::Str),
            Param::opt("instance", Kind::Int),
        ],
        Kind::Int,
        "1-based character position of the instance-th occurrence of substring counting from the end, 0 if absent.",
        &[
            ex("strrpos('hello', 'l')", "4"),
            ex("strrpos('a.b.c', '.', 2)", "2"),
        ],
        strrpos,
    ),
    Function::new(
        "position",
        &[
            Param::req("substring", Kind::Str),
            Param::req("string", Kind::Str),
        ],
        Kind::Int,
        "position(substring, string): strpos(string, substring) with the arguments of SQL's position(substring IN string).",
        &[
            ex("position('l' IN 'hello')", "3"),
            ex("position('l', 'hello')", "3"),
        ],
        position,
    ),
    Function::new(
        "substr",
        &[
            Param::req("string", Kind::Str),
            Param::req("start", Kind::Int),
            Param::opt("length", Kind::Int),
        ],
        Kind::Str,
        "Substring from 1-based start (negative counts from the end) of at most length characters.",
        &[
            ex("substr('hello', 2, 3)", r#""ell""#),
            ex("substr('hello', -3)", r#""llo""#),
            ex("substr('hello', 9)", r#""""#),
        ],
        substr,
    ),
    Function::new(
        "substring",
        &[
            Param::req("string", Kind::Str),
            Param::req("start", Kind::Int),
            Param::opt("length", Kind::Int),
        ],
        Kind::Str,
        "Alias of substr: substring from 1-based start (negative counts from the end) of at most length characters.",
        &[ex("substring('hello', 2)", r#""ello""#)],
        substr,
    ),
    Function::new(
        "chr",
        &[Param::req("code_point", Kind::Int)],
        Kind::Str,
        "The one-character string for a Unicode code point.",
        &[ex("chr(65)", r#""A""#), ex("chr(233)", r#""é""#)],
        chr,
    ),
    Function::new(
        "codepoint",
        &[Param::req("char", Kind::Str)],
        Kind::Int,
        "The Unicode code point of a one-character string.",
        &[ex("codepoint('A')", "65")],
        codepoint,
    ),
    Function::new(
        "to_utf8",
        &[Param::req("string", Kind::Str)],
        Kind::Bytes,
        "Encodes a string as UTF-8 varbinary.",
        &[ex("to_hex(to_utf8('é'))", r#""C3A9""#)],
        to_utf8,
    ),
    Function::new(
        "from_utf8",
        &[
            Param::req("binary", Kind::Bytes),
            Param::opt("replace", Kind::Any),
        ],
        Kind::Str,
        "Decodes UTF-8 varbinary; invalid sequences become U+FFFD or the given replacement (a string of at most one character, or a code point).",
        &[
            ex("from_utf8(from_hex('C3A9'))", r#""é""#),
            ex("from_utf8(from_hex('61FF62'), '?')", r#""a?b""#),
        ],
        from_utf8,
    ),
    Function::new(
        "starts_with",
        &[
            Param::req("string", Kind::Str),
            Param::req("prefix", Kind::Str),
        ],
        Kind::Bool,
        "Whether a string starts with the prefix.",
        &[
            ex("starts_with('hello', 'he')", "true"),
            ex("starts_with('hello', 'lo')", "false"),
        ],
        starts_with,
    ),
    Function::new(
        "ends_with",
        &[
            Param::req("string", Kind::Str),
            Param::req("suffix", Kind::Str),
        ],
        Kind::Bool,
        "Whether a string ends with the suffix.",
        &[ex("ends_with('hello', 'lo')", "true")],
        ends_with,
    )
    .extension(),
    Function::new(
        "split_to_map",
        &[
            Param::req("string", Kind::Str),
            Param::req("entry_delimiter", Kind::Str),
            Param::req("key_value_delimiter", Kind::Str),
        ],
        Kind::Map,
        "Splits a string into entries and each entry into key and value, giving a map; duplicate keys or entries without exactly one key/value delimiter are errors.",
        &[ex(
            "split_to_map('a=1&b=2', '&', '=')",
            r#"{"a":"1","b":"2"}"#,
        )],
        split_to_map,
    ),
    Function::new(
        "levenshtein_distance",
        &[Param::req("a", Kind::Str), Param::req("b", Kind::Str)],
        Kind::Int,
        "Levenshtein edit distance between two strings, in characters.",
        &[ex("levenshtein_distance('kitten', 'sitting')", "3")],
        levenshtein_distance,
    ),
    Function::new(
        "hamming_distance",
        &[Param::req("a", Kind::Str), Param::req("b", Kind::Str)],
        Kind::Int,
        "Number of positions at which two equal-length strings differ, in characters.",
        &[ex("hamming_distance('abc', 'abd')", "1")],
        hamming_distance,
    ),
];

// ---- helpers ----------------------------------------------------------------------------

/// Argument `i` as text: a VARCHAR argument borrowed (not even its reference count is
/// touched), other scalars converted.
pub(crate) fn arg_text(args: &[Value], i: usize) -> Result<Cow<'_, Text>, FnError> {
    match args.get(i) {
        Some(Value::Str(t)) => Ok(Cow::Borrowed(t)),
        other => other
            .and_then(text_shared)
            .map(Cow::Owned)
            .ok_or_else(|| FnError::arg(i, "expected a text argument, got NULL")),
    }
}

fn too_large(i: usize) -> FnError {
    FnError::arg(
        i,
        format!("the result would be larger than {} bytes", MAX_RESULT_BYTES),
    )
}

/// Whitespace as Java's `Character.isWhitespace` (what Presto's trim uses): no-break spaces
/// are not whitespace, the ASCII separators 0x1C-0x1F are.
fn is_trim_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\u{1c}'..='\u{1f}')
        || (c.is_whitespace() && !matches!(c, '\u{85}' | '\u{a0}' | '\u{2007}' | '\u{202f}'))
}

/// Byte offset of the `n`-th (0-based) character; `Some(len)` when `n` is the character
/// count, `None` past it.
fn char_offset(s: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(0);
    }
    match s.char_indices().nth(n) {
        Some((i, _)) => Some(i),
        None if s.chars().count() == n => Some(s.len()),
        None => None,
    }
}

/// Start byte offsets of every occurrence of `sub` in `s`, overlapping ones included (like
/// Presto's `indexOf(sub, previous + 1)` loop). `sub` must not be empty.
fn overlapping_matches<'a>(s: &'a str, sub: &'a str) -> impl Iterator<Item = usize> + 'a {
    let mut from = 0;
    std::iter::from_fn(move || {
        let i = from + s.get(from..)?.find(sub)?;
        from = i + s[i..].chars().next().map_or(1, char::len_utf8);
        Some(i)
    })
}

fn char_position(s: &str, byte: usize) -> Value {
    Value::Int(s[..byte].chars().count() as i64 + 1)
}

// ---- functions --------------------------------------------------------------------------

fn concat(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    if args.iter().any(|a| matches!(a, Value::Array(_))) {
        let mut out = Vec::new();
        for a in args {
            match a {
                Value::Array(items) => out.extend(items.iter().cloned()),
                other => out.push(other.clone()),
            }
        }
        return Ok(Value::array(out));
    }
    if args.iter().all(|a| matches!(a, Value::Bytes(_))) {
        let mut out = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if let Value::Bytes(b) = a {
                out.extend_from_slice(b);
            }
            if out.len() > MAX_RESULT_BYTES {
                return Err(too_large(i));
            }
        }
        return Ok(Value::Bytes(out.into()));
    }
    if args.len() == 1 {
        return arg_text(args, 0).map(|t| Value::Str(t.into_owned()));
    }
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let t = text(a).ok_or_else(|| FnError::arg(i, "expected a text argument, got NULL"))?;
        out.push_str(&t);
        if out.len() > MAX_RESULT_BYTES {
            return Err(too_large(i));
        }
    }
    Ok(Value::string(out))
}

fn length(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Int(match &args[0] {
        Value::Bytes(b) => b.len() as i64,
        other => text(other).map_or(0, |t| t.chars().count() as i64),
    }))
}

fn lower(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    if t.is_ascii() && !t.bytes().any(|b| b.is_ascii_uppercase()) {
        return Ok(Value::Str(t.into_owned()));
    }
    // Per code point, like Presto (no context-sensitive final sigma).
    Ok(Value::string(
        t.chars().flat_map(char::to_lowercase).collect(),
    ))
}

fn upper(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    if t.is_ascii() && !t.bytes().any(|b| b.is_ascii_lowercase()) {
        return Ok(Value::Str(t.into_owned()));
    }
    Ok(Value::string(
        t.chars().flat_map(char::to_uppercase).collect(),
    ))
}

fn trim_impl(args: &[Value], left: bool, right: bool) -> FnResult {
    let t = arg_text(args, 0)?;
    let s = t.as_str();
    let out = match args.get(1) {
        Some(set) => {
            let set = arg_text(std::slice::from_ref(set), 0)
                .map_err(|_| FnError::arg(1, "expected a text argument"))?;
            let pred = |c: char| set.contains(c);
            match (left, right) {
                (true, true) => s.trim_matches(pred),
                (true, false) => s.trim_start_matches(pred),
                _ => s.trim_end_matches(pred),
            }
        }
        None => match (left, right) {
            (true, true) => s.trim_matches(is_trim_space),
            (true, false) => s.trim_start_matches(is_trim_space),
            _ => s.trim_end_matches(is_trim_space),
        },
    };
    Ok(Value::Str(t.sub(out)))
}

fn trim(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    trim_impl(args, true, true)
}

fn ltrim(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    trim_impl(args, true, false)
}

fn rtrim(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    trim_impl(args, false, true)
}

fn pad(args: &[Value], left: bool) -> FnResult {
    let t = arg_text(args, 0)?;
    let size = int_arg(args, 1)?;
    let pad = arg_text(args, 2)?;
    if size < 0 {
        return Err(FnError::arg(
            1,
            format!("target length must not be negative, got {size}"),
        ));
    }
    if size as u64 > MAX_RESULT_BYTES as u64 {
        return Err(FnError::arg(
            1,
            format!("target length {size} is larger than the limit of {MAX_RESULT_BYTES}"),
        ));
    }
    if pad.is_empty() {
        return Err(FnError::arg(2, "padding string must not be empty"));
    }
    let size = size as usize;
    let len = t.chars().count();
    if len >= size {
        let end = char_offset(&t, size).unwrap_or(t.len());
        return Ok(Value::Str(t.slice(0..end)));
    }
    let fill: String = pad.chars().cycle().take(size - len).collect();
    if fill.len() + t.len() > 4 * MAX_RESULT_BYTES {
        return Err(too_large(1));
    }
    Ok(Value::string(if left {
        fill + t.as_str()
    } else {
        t.to_string() + &fill
    }))
}

fn lpad(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    pad(args, true)
}

fn rpad(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    pad(args, false)
}

fn replace(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    let search = arg_text(args, 1)?;
    let with = if args.len() > 2 {
        arg_text(args, 2)?
    } else {
        Cow::Owned(Text::new(""))
    };
    let estimate = if search.is_empty() {
        (t.chars().count() + 1)
            .saturating_mul(with.len())
            .saturating_add(t.len())
    } else {
        let n = t.matches(search.as_str()).count();
        if n == 0 {
            return Ok(Value::Str(t.into_owned()));
        }
        (t.len() - n * search.len()).saturating_add(n.saturating_mul(with.len()))
    };
    if estimate > MAX_RESULT_BYTES.max(t.len()) {
        return Err(too_large(2));
    }
    Ok(Value::string(t.replace(search.as_str(), &with)))
}

fn reverse(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(match &args[0] {
        Value::Array(items) => Value::array(items.iter().rev().cloned().collect()),
        Value::Bytes(b) => Value::Bytes(b.iter().rev().copied().collect::<Vec<u8>>().into()),
        _ => Value::string(arg_text(args, 0)?.chars().rev().collect()),
    })
}

fn split(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    let delim = arg_text(args, 1)?;
    if delim.is_empty() {
        return Err(FnError::arg(1, "the delimiter must not be empty"));
    }
    let limit = if args.len() > 2 {
        int_arg(args, 2)?
    } else {
        i64::MAX
    };
    if limit <= 0 {
        return Err(FnError::arg(
            2,
            format!("limit must be positive, got {limit}"),
        ));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok(Value::array(
        t.splitn(limit, delim.as_str())
            .map(|p| Value::Str(t.sub(p)))
            .collect(),
    ))
}

fn split_part(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    let delim = arg_text(args, 1)?;
    let index = int_arg(args, 2)?;
    if index <= 0 {
        return Err(FnError::arg(
            2,
            format!("index must be greater than zero, got {index}"),
        ));
    }
    let n = usize::try_from(index - 1).unwrap_or(usize::MAX);
    if delim.is_empty() {
        // Presto: an empty delimiter splits into characters.
        return Ok(match t.char_indices().nth(n) {
            Some((i, c)) => Value::Str(t.slice(i..i + c.len_utf8())),
            None => Value::Null,
        });
    }
    Ok(t.split(delim.as_str())
        .nth(n)
        .map_or(Value::Null, |p| Value::Str(t.sub(p))))
}

fn instance_arg(args: &[Value], i: usize) -> Result<usize, FnError> {
    if args.len() <= i {
        return Ok(1);
    }
    let n = int_arg(args, i)?;
    if n <= 0 {
        return Err(FnError::arg(
            i,
            format!("instance must be a positive number, got {n}"),
        ));
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

fn strpos_impl(s: &str, sub: &str, instance: usize) -> Value {
    if sub.is_empty() {
        return Value::Int(1);
    }
    match overlapping_matches(s, sub).nth(instance - 1) {
        Some(i) => char_position(s, i),
        None => Value::Int(0),
    }
}

fn strpos(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    let sub = arg_text(args, 1)?;
    let instance = instance_arg(args, 2)?;
    Ok(strpos_impl(&t, &sub, instance))
}

fn strrpos(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    let sub = arg_text(args, 1)?;
    let instance = instance_arg(args, 2)?;
    if sub.is_empty() {
        return Ok(Value::Int(1));
    }
    let total = overlapping_matches(&t, &sub).count();
    Ok(
        match total
            .checked_sub(instance)
            .and_then(|k| overlapping_matches(&t, &sub).nth(k))
        {
            Some(i) => char_position(&t, i),
            None => Value::Int(0),
        },
    )
}

fn position(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let sub = arg_text(args, 0)?;
    let t = arg_text(args, 1)?;
    Ok(strpos_impl(&t, &sub, 1))
}

/// The `[from, to)` element range of Presto's `substr(x, start[, length])` over `count`
/// elements, `None` for the empty result.
fn substr_range(count: usize, start: i64, length: Option<i64>) -> Option<(usize, usize)> {
    if start == 0 || length.is_some_and(|l| l <= 0) {
        return None;
    }
    let count_i = count as i128;
    let from = if start > 0 {
        start as i128 - 1
    } else {
        count_i + start as i128
    };
    if from < 0 || from >= count_i {
        return None;
    }
    let to = match length {
        Some(l) => (from + l as i128).min(count_i),
        None => count_i,
    };
    Some((from as usize, to as usize))
}

fn substr(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let start = int_arg(args, 1)?;
    let length = if args.len() > 2 {
        Some(int_arg(args, 2)?)
    } else {
        None
    };
    if let Value::Bytes(b) = &args[0] {
        return Ok(match substr_range(b.len(), start, length) {
            Some((from, to)) => Value::Bytes(Arc::from(&b[from..to])),
            None => Value::Bytes(Arc::from(&[][..])),
        });
    }
    let t = arg_text(args, 0)?;
    let count = if start < 0 {
        t.chars().count()
    } else {
        t.len()
    }; // byte length bounds the count
    let Some((from, to)) = substr_range(count, start, length) else {
        return Ok(Value::str(""));
    };
    let Some(begin) = char_offset(&t, from) else {
        return Ok(Value::str(""));
    };
    if begin == t.len() {
        return Ok(Value::str(""));
    }
    let end = match t[begin..].char_indices().nth(to - from) {
        Some((i, _)) => begin + i,
        None => t.len(),
    };
    Ok(Value::Str(t.slice(begin..end)))
}

fn chr(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let n = int_arg(args, 0)?;
    let c = u32::try_from(n)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| FnError::arg(0, format!("not a valid Unicode code point: {n}")))?;
    Ok(Value::string(c.to_string()))
}

fn codepoint(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    let mut chars = t.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(Value::Int(c as i64)),
        _ => Err(FnError::arg(
            0,
            format!("expected a single character, got '{}'", t.as_str()),
        )),
    }
}

fn to_utf8(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(match &args[0] {
        Value::Bytes(b) => Value::Bytes(b.clone()),
        _ => Value::Bytes(Arc::from(arg_text(args, 0)?.as_bytes())),
    })
}

fn from_utf8(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let bytes = match &args[0] {
        Value::Bytes(b) => b.clone(),
        // Already text: nothing to decode.
        _ => return arg_text(args, 0).map(|t| Value::Str(t.into_owned())),
    };
    let replacement: String = match args.get(1) {
        None => "\u{fffd}".into(),
        Some(Value::Int(n)) => {
            let c = u32::try_from(*n).ok().and_then(char::from_u32);
            c.ok_or_else(|| FnError::arg(1, format!("not a valid Unicode code point: {n}")))?
                .to_string()
        }
        Some(v) => {
            let r = text(v).unwrap_or_default().into_owned();
            if r.chars().count() > 1 {
                return Err(FnError::arg(
                    1,
                    "the replacement must be at most one character",
                ));
            }
            r
        }
    };
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            out.push_str(&replacement);
        }
    }
    Ok(Value::string(out))
}

fn starts_with(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Bool(
        arg_text(args, 0)?.starts_with(arg_text(args, 1)?.as_str()),
    ))
}

fn ends_with(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Bool(
        arg_text(args, 0)?.ends_with(arg_text(args, 1)?.as_str()),
    ))
}

fn split_to_map(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    let entry = arg_text(args, 1)?;
    let kv = arg_text(args, 2)?;
    if entry.is_empty() {
        return Err(FnError::arg(1, "the entry delimiter must not be empty"));
    }
    if kv.is_empty() {
        return Err(FnError::arg(2, "the key-value delimiter must not be empty"));
    }
    if entry.as_str() == kv.as_str() {
        return Err(FnError::arg(
            2,
            "the entry and key-value delimiters must differ",
        ));
    }
    let s = t.as_str();
    let mut map: Vec<(Value, Value)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut start = 0;
    while start < s.len() {
        let end = s[start..]
            .find(entry.as_str())
            .map_or(s.len(), |i| start + i);
        let item = &s[start..end];
        let (key, value) = item.split_once(kv.as_str()).filter(|(_, v)| !v.contains(kv.as_str())).ok_or_else(|| {
            FnError::arg(0, format!("the key-value delimiter must appear exactly once in each entry, got '{item}'"))
        })?;
        if !seen.insert(key) {
            return Err(FnError::arg(0, format!("duplicate key '{key}'")));
        }
        map.push((Value::Str(t.sub(key)), Value::Str(t.sub(value))));
        start = end + entry.len();
    }
    Ok(Value::Map(Arc::new(map)))
}

fn levenshtein_distance(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a: Vec<char> = arg_text(args, 0)?.chars().collect();
    let b: Vec<char> = arg_text(args, 1)?.chars().collect();
    if a.is_empty() || b.is_empty() {
        return Ok(Value::Int(a.len().max(b.len()) as i64));
    }
    if a.len().saturating_mul(b.len()) > 1_000_000 {
        return Err(FnError::arg(
            0,
            "the inputs to levenshtein_distance are too large (more than 1000000 character pairs)",
        ));
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Ok(Value::Int(prev[b.len()] as i64))
}

fn hamming_distance(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let a = arg_text(args, 0)?;
    let b = arg_text(args, 1)?;
    let (mut x, mut y) = (a.chars(), b.chars());
    let mut distance = 0;
    loop {
        match (x.next(), y.next()) {
            (Some(p), Some(q)) => distance += i64::from(p != q),
            (None, None) => return Ok(Value::Int(distance)),
            _ => {
                return Err(FnError::arg(
                    1,
                    "the strings given to hamming_distance must have the same length",
                ));
            }
        }
    }
}

/// Calls functions the way the engine does, for the family tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::super::{Env, FnError, FnResult, Function, Prepared};
    use crate::event::{Timestamp, Value};

    /// An environment without lambdas and with the clock at the epoch.
    pub struct NoEnv;

    impl Env for NoEnv {
        fn apply(&mut self, _: &Value, _: &[Value]) -> FnResult {
            Err(FnError::new("no lambdas in these tests"))
        }
        fn now(&self) -> Timestamp {
            Timestamp::utc(0)
        }
    }

    pub fn find<'a>(fns: &'a [Function], name: &str) -> &'a Function {
        fns.iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no function {name}"))
    }

    /// Plan (`prepare` with every argument constant, or none) then evaluate, honouring NULL
    /// propagation and arity.
    pub fn run(fns: &[Function], name: &str, args: &[Value], constants: bool) -> FnResult {
        let f = find(fns, name);
        let (min, max) = f.arity();
        assert!(
            args.len() >= min && max.is_none_or(|m| args.len() <= m),
            "{name}: wrong arity {}",
            args.len()
        );
        let prepared = match f.prepare {
            Some(p) => {
                let c: Vec<Option<Value>> =
                    args.iter().map(|a| constants.then(|| a.clone())).collect();
                p(&c)?
            }
            None => Prepared::none(),
        };
        if f.null_propagating && args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        (f.eval)(args, &prepared, &mut NoEnv)
    }

    /// Runs `name` with constant arguments (plan-time `prepare`) and with dynamic ones; both
    /// paths must agree. Returns the result.
    pub fn call(fns: &[Function], name: &str, args: &[Value]) -> FnResult {
        let planned = run(fns, name, args, true);
        let dynamic = run(fns, name, args, false);
        match (&planned, &dynamic) {
            (Ok(a), Ok(b)) => assert_eq!(
                format!("{a:?}"),
                format!("{b:?}"),
                "{name}{args:?}: paths disagree"
            ),
            (Err(_), Err(_)) => {}
            _ => panic!("{name}{args:?}: planned {planned:?} but dynamic {dynamic:?}"),
        }
        planned
    }

    /// The `call`, `ok` and `err` of one family's tests, bound to its `FUNCTIONS` (expanded in
    /// a test module that has `test_support`, `FUNCTIONS`, `Value`, `FnResult` and `FnError`
    /// in scope).
    macro_rules! family_helpers {
        () => {
            #[allow(dead_code)]
            fn call(name: &str, args: &[Value]) -> FnResult {
                test_support::call(FUNCTIONS, name, args)
            }

            #[allow(dead_code)]
            fn ok(name: &str, args: &[Value]) -> Value {
                test_support::ok(FUNCTIONS, name, args)
            }

            #[allow(dead_code)]
            fn err(name: &str, args: &[Value]) -> FnError {
                test_support::err(FUNCTIONS, name, args)
            }
        };
    }
    pub(crate) use family_helpers;

    /// `call` that must succeed.
    pub fn ok(fns: &[Function], name: &str, args: &[Value]) -> Value {
        call(fns, name, args).unwrap_or_else(|e| panic!("{name}{args:?}: {e:?}"))
    }

    /// `call` that must fail.
    pub fn err(fns: &[Function], name: &str, args: &[Value]) -> FnError {
        match call(fns, name, args) {
            Err(e) => e,
            Ok(v) => panic!("{name}{args:?}: expected an error, got {v:?}"),
        }
    }

    pub fn s(x: &str) -> Value {
        Value::str(x)
    }

    pub fn strs(items: &[&str]) -> Value {
        Value::array(items.iter().map(|x| Value::str(x)).collect())
    }

    pub fn bytes(b: &[u8]) -> Value {
        Value::Bytes(b.into())
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{bytes, s, strs};
    use super::*;

    test_support::family_helpers!();

    #[test]
    fn concat_strings_arrays_and_nulls() {
        assert_eq!(ok("concat", &[s("a"), s("b"), s("c")]), s("abc"));
        assert_eq!(
            ok("concat", &[s("a"), Value::Int(1), Value::Double(1.5)]),
            s("a11.5")
        );
        assert_eq!(ok("concat", &[s("é")]), s("é"));
        assert_eq!(ok("concat", &[s(""), s("")]), s(""));
        assert_eq!(ok("concat", &[s("a"), Value::Null]), Value::Null);
        assert_eq!(
            ok("concat", &[strs(&["a"]), strs(&["b", "c"])]),
            strs(&["a", "b", "c"])
        );
        assert_eq!(ok("concat", &[strs(&["a"]), s("b")]), strs(&["a", "b"]));
        assert_eq!(ok("concat", &[bytes(b"ab"), bytes(b"c")]), bytes(b"abc"));
        let big = s(&"x".repeat(MAX_RESULT_BYTES));
        assert!(call("concat", &[big.clone(), big]).is_err());
    }

    #[test]
    fn length_counts_characters() {
        assert_eq!(ok("length", &[s("")]), Value::Int(0));
        assert_eq!(ok("length", &[s("日本語")]), Value::Int(3));
        assert_eq!(ok("length", &[s("👍🏽")]), Value::Int(2));
        assert_eq!(ok("length", &[bytes(&[0xff, 0])]), Value::Int(2));
        assert_eq!(ok("length", &[Value::Int(-12)]), Value::Int(3));
        assert_eq!(ok("length", &[Value::Null]), Value::Null);
    }

    #[test]
    fn case_mapping_is_unicode_aware_and_shares_ascii() {
        assert_eq!(ok("lower", &[s("ÀÉÎ Straße")]), s("àéî straße"));
        assert_eq!(ok("upper", &[s("àéî")]), s("ÀÉÎ"));
        assert_eq!(ok("upper", &[s("")]), s(""));
        // Per code point, no final-sigma rule (Presto).
        assert_eq!(ok("lower", &[s("ΟΔΟΣ")]), s("οδοσ"));
        let t = Text::new("already lower");
        let Value::Str(out) = ok("lower", &[Value::Str(t.clone())]) else {
            panic!()
        };
        assert_eq!(out.as_ptr(), t.as_ptr(), "no copy when nothing changes");
    }

    #[test]
    fn trims() {
        assert_eq!(ok("trim", &[s(" \t a b \n")]), s("a b"));
        assert_eq!(ok("trim", &[s("   ")]), s(""));
        assert_eq!(ok("trim", &[s("")]), s(""));
        assert_eq!(ok("ltrim", &[s("  a  ")]), s("a  "));
        assert_eq!(ok("rtrim", &[s("  a  ")]), s("  a"));
        // A no-break space is not whitespace for Presto.
        assert_eq!(ok("trim", &[s("\u{a0}a\u{a0}")]), s("\u{a0}a\u{a0}"));
        assert_eq!(ok("trim", &[s("\u{3000}a\u{2003}")]), s("a"));
        assert_eq!(ok("trim", &[s("abcxcba"), s("ab")]), s("cxc"));
        assert_eq!(ok("ltrim", &[s("ééx"), s("é")]), s("x"));
        assert_eq!(ok("rtrim", &[s("x--"), s("-")]), s("x"));
        assert_eq!(ok("trim", &[s("abc"), s("")]), s("abc"));
        assert_eq!(ok("trim", &[s("abc"), Value::Null]), Value::Null);
    }

    #[test]
    fn pads() {
        assert_eq!(ok("lpad", &[s("7"), Value::Int(3), s("0")]), s("007"));
        assert_eq!(
            ok("lpad", &[s("abc"), Value::Int(7), s("xy")]),
            s("xyxyabc")
        );
        assert_eq!(ok("rpad", &[s("é"), Value::Int(3), s("ü")]), s("éüü"));
        assert_eq!(ok("lpad", &[s("hello"), Value::Int(2), s(" ")]), s("he"));
        assert_eq!(ok("rpad", &[s("héllo"), Value::Int(2), s(" ")]), s("hé"));
        assert_eq!(ok("lpad", &[s("abc"), Value::Int(0), s(" ")]), s(""));
        assert_eq!(ok("lpad", &[s("abc"), Value::Int(3), s(" ")]), s("abc"));
        assert_eq!(err("lpad", &[s("a"), Value::Int(-1), s(" ")]).arg, Some(1));
        assert_eq!(err("lpad", &[s("a"), Value::Int(3), s("")]).arg, Some(2));
        assert_eq!(
            err("rpad", &[s("a"), Value::Int(i64::MAX), s(" ")]).arg,
            Some(1)
        );
        assert_eq!(
            err("rpad", &[s("a"), Value::Int(1 << 40), s(" ")]).arg,
            Some(1)
        );
        assert_eq!(ok("rpad", &[s("a"), Value::Null, s(" ")]), Value::Null);
    }

    #[test]
    fn replaces() {
        assert_eq!(ok("replace", &[s("a-b-c"), s("-"), s("+")]), s("a+b+c"));
        assert_eq!(ok("replace", &[s("a-b-c"), s("-")]), s("abc"));
        assert_eq!(ok("replace", &[s("aaa"), s("aa"), s("b")]), s("ba"));
        assert_eq!(ok("replace", &[s("abc"), s(""), s("-")]), s("-a-b-c-"));
        assert_eq!(ok("replace", &[s("abc"), s("x"), s("y")]), s("abc"));
        assert_eq!(ok("replace", &[s("日本"), s("本"), s("語")]), s("日語"));
        assert_eq!(ok("replace", &[s(""), s(""), s("x")]), s("x"));
        let big = "x".repeat(1 << 16);
        assert!(call("replace", &[s(&big), s("x"), s(&big)]).is_err());
        assert!(call("replace", &[s(&big), s(""), s(&big)]).is_err());
    }

    #[test]
    fn reverses() {
        assert_eq!(ok("reverse", &[s("héllo")]), s("olléh"));
        assert_eq!(ok("reverse", &[s("")]), s(""));
        assert_eq!(ok("reverse", &[strs(&["a", "b"])]), strs(&["b", "a"]));
        assert_eq!(ok("reverse", &[bytes(&[1, 2, 3])]), bytes(&[3, 2, 1]));
    }

    #[test]
    fn splits() {
        assert_eq!(
            ok("split", &[s("a,b,,c"), s(",")]),
            strs(&["a", "b", "", "c"])
        );
        assert_eq!(ok("split", &[s(""), s(",")]), strs(&[""]));
        assert_eq!(ok("split", &[s("a,b,"), s(",")]), strs(&["a", "b", ""]));
        assert_eq!(
            ok("split", &[s("a::b::c"), s("::"), Value::Int(2)]),
            strs(&["a", "b::c"])
        );
        assert_eq!(
            ok("split", &[s("a,b"), s(","), Value::Int(10)]),
            strs(&["a", "b"])
        );
        assert_eq!(
            ok("split", &[s("a,b"), s(","), Value::Int(1)]),
            strs(&["a,b"])
        );
        assert_eq!(err("split", &[s("a"), s("")]).arg, Some(1));
        assert_eq!(err("split", &[s("a"), s(","), Value::Int(0)]).arg, Some(2));
    }

    #[test]
    fn split_parts() {
        assert_eq!(
            ok("split_part", &[s("a,b,c"), s(","), Value::Int(1)]),
            s("a")
        );
        assert_eq!(
            ok("split_part", &[s("a,b,c"), s(","), Value::Int(3)]),
            s("c")
        );
        assert_eq!(
            ok("split_part", &[s("a,b,c"), s(","), Value::Int(4)]),
            Value::Null
        );
        assert_eq!(ok("split_part", &[s("a,b,"), s(","), Value::Int(3)]), s(""));
        assert_eq!(ok("split_part", &[s(""), s(","), Value::Int(1)]), s(""));
        assert_eq!(
            ok("split_part", &[s("日本"), s(""), Value::Int(2)]),
            s("本")
        );
        assert_eq!(
            ok("split_part", &[s("日本"), s(""), Value::Int(3)]),
            Value::Null
        );
        assert_eq!(
            ok("split_part", &[s("a"), s(","), Value::Int(i64::MAX)]),
            Value::Null
        );
        assert_eq!(
            err("split_part", &[s("a"), s(","), Value::Int(0)]).arg,
            Some(2)
        );
    }

    #[test]
    fn positions_are_one_based_characters() {
        assert_eq!(ok("strpos", &[s("hello"), s("l")]), Value::Int(3));
        assert_eq!(
            ok("strpos", &[s("hello"), s("l"), Value::Int(2)]),
            Value::Int(4)
        );
        assert_eq!(
            ok("strpos", &[s("hello"), s("l"), Value::Int(3)]),
            Value::Int(0)
        );
        assert_eq!(ok("strpos", &[s("hello"), s("z")]), Value::Int(0));
        assert_eq!(ok("strpos", &[s("hello"), s("")]), Value::Int(1));
        assert_eq!(ok("strpos", &[s(""), s("a")]), Value::Int(0));
        assert_eq!(ok("strpos", &[s("日本語"), s("語")]), Value::Int(3));
        // Overlapping occurrences count, as in Presto.
        assert_eq!(
            ok("strpos", &[s("aaa"), s("aa"), Value::Int(2)]),
            Value::Int(2)
        );
        assert_eq!(ok("strrpos", &[s("aaa"), s("aa")]), Value::Int(2));
        assert_eq!(
            ok("strrpos", &[s("aaa"), s("aa"), Value::Int(2)]),
            Value::Int(1)
        );
        assert_eq!(ok("strrpos", &[s("a.b.c"), s(".")]), Value::Int(4));
        assert_eq!(
            ok("strrpos", &[s("a.b.c"), s("."), Value::Int(3)]),
            Value::Int(0)
        );
        assert_eq!(ok("strrpos", &[s("éé"), s("é")]), Value::Int(2));
        assert_eq!(ok("strrpos", &[s("x"), s("")]), Value::Int(1));
        assert_eq!(err("strpos", &[s("a"), s("a"), Value::Int(0)]).arg, Some(2));
        assert_eq!(
            err("strrpos", &[s("a"), s("a"), Value::Int(-1)]).arg,
            Some(2)
        );
        assert_eq!(
            ok("strpos", &[s("a"), s("a"), Value::Int(i64::MAX)]),
            Value::Int(0)
        );
        assert_eq!(ok("position", &[s("l"), s("hello")]), Value::Int(3));
        assert_eq!(ok("position", &[s("x"), s("hello")]), Value::Int(0));
    }

    #[test]
    fn substr_follows_presto() {
        let h = || s("hello");
        assert_eq!(ok("substr", &[h(), Value::Int(1)]), s("hello"));
        assert_eq!(ok("substr", &[h(), Value::Int(2), Value::Int(3)]), s("ell"));
        assert_eq!(ok("substr", &[h(), Value::Int(0)]), s(""));
        assert_eq!(ok("substr", &[h(), Value::Int(5)]), s("o"));
        assert_eq!(ok("substr", &[h(), Value::Int(6)]), s(""));
        assert_eq!(ok("substr", &[h(), Value::Int(-3)]), s("llo"));
        assert_eq!(ok("substr", &[h(), Value::Int(-3), Value::Int(2)]), s("ll"));
        assert_eq!(ok("substr", &[h(), Value::Int(-5)]), s("hello"));
        assert_eq!(ok("substr", &[h(), Value::Int(-6)]), s(""));
        assert_eq!(ok("substr", &[h(), Value::Int(2), Value::Int(0)]), s(""));
        assert_eq!(ok("substr", &[h(), Value::Int(2), Value::Int(-1)]), s(""));
        assert_eq!(
            ok("substr", &[h(), Value::Int(2), Value::Int(i64::MAX)]),
            s("ello")
        );
        assert_eq!(
            ok("substr", &[h(), Value::Int(i64::MAX), Value::Int(i64::MAX)]),
            s("")
        );
        assert_eq!(
            ok("substr", &[h(), Value::Int(i64::MIN), Value::Int(i64::MAX)]),
            s("")
        );
        assert_eq!(
            ok(
                "substr",
                &[s("日本語テキスト"), Value::Int(3), Value::Int(2)]
            ),
            s("語テ")
        );
        assert_eq!(ok("substr", &[s("日本語"), Value::Int(-1)]), s("語"));
        assert_eq!(ok("substr", &[s("日本語"), Value::Int(4)]), s(""));
        assert_eq!(ok("substr", &[s(""), Value::Int(1)]), s(""));
        assert_eq!(ok("substring", &[h(), Value::Int(4)]), s("lo"));
        assert_eq!(
            ok("substr", &[bytes(b"hello"), Value::Int(2), Value::Int(2)]),
            bytes(b"el")
        );
        assert_eq!(
            ok("substr", &[bytes(b"hello"), Value::Int(-1)]),
            bytes(b"o")
        );
        assert_eq!(ok("substr", &[h(), Value::Null]), Value::Null);
        assert!(call("substr", &[h(), s("x")]).is_err());
    }

    #[test]
    fn substr_shares_the_buffer() {
        let t = Text::new("GET /index.html");
        let Value::Str(out) = ok("substr", &[Value::Str(t.clone()), Value::Int(5)]) else {
            panic!()
        };
        assert_eq!(out.as_str(), "/index.html");
        assert_eq!(out.as_ptr(), t[4..].as_ptr());
    }

    #[test]
    fn code_points() {
        assert_eq!(ok("chr", &[Value::Int(65)]), s("A"));
        assert_eq!(ok("chr", &[Value::Int(0x1F600)]), s("😀"));
        assert_eq!(ok("chr", &[Value::Int(0)]), s("\0"));
        for bad in [-1, 0xD800, 0x110000, i64::MAX, i64::MIN] {
            assert_eq!(err("chr", &[Value::Int(bad)]).arg, Some(0), "{bad}");
        }
        assert_eq!(ok("codepoint", &[s("é")]), Value::Int(233));
        assert_eq!(err("codepoint", &[s("")]).arg, Some(0));
        assert_eq!(err("codepoint", &[s("ab")]).arg, Some(0));
    }

    #[test]
    fn utf8_round_trips() {
        assert_eq!(ok("to_utf8", &[s("é")]), bytes(&[0xc3, 0xa9]));
        assert_eq!(ok("to_utf8", &[s("")]), bytes(&[]));
        assert_eq!(ok("from_utf8", &[bytes(&[0xc3, 0xa9])]), s("é"));
        assert_eq!(ok("from_utf8", &[bytes(b"a\xffb")]), s("a\u{fffd}b"));
        assert_eq!(ok("from_utf8", &[bytes(b"a\xffb"), s("?")]), s("a?b"));
        assert_eq!(ok("from_utf8", &[bytes(b"a\xffb"), s("")]), s("ab"));
        assert_eq!(ok("from_utf8", &[bytes(b"a\xff"), Value::Int(35)]), s("a#"));
        assert_eq!(ok("from_utf8", &[bytes(b"a\xe2\x82")]), s("a\u{fffd}"));
        assert_eq!(err("from_utf8", &[bytes(b"a"), s("ab")]).arg, Some(1));
        assert_eq!(
            err("from_utf8", &[bytes(b"a"), Value::Int(-5)]).arg,
            Some(1)
        );
        assert_eq!(ok("from_utf8", &[s("text")]), s("text"));
    }

    #[test]
    fn prefixes_and_suffixes() {
        assert_eq!(ok("starts_with", &[s("hello"), s("")]), Value::Bool(true));
        assert_eq!(ok("starts_with", &[s(""), s("a")]), Value::Bool(false));
        assert_eq!(ok("ends_with", &[s("héllo"), s("llo")]), Value::Bool(true));
        assert_eq!(ok("ends_with", &[s("hello"), s("he")]), Value::Bool(false));
        assert_eq!(ok("ends_with", &[s("hello"), Value::Null]), Value::Null);
    }

    #[test]
    fn split_to_map_is_strict_like_presto() {
        let m = ok("split_to_map", &[s("a=1&b=2&c="), s("&"), s("=")]);
        assert_eq!(
            m.to_json(),
            serde_json::json!({"a": "1", "b": "2", "c": ""})
        );
        assert_eq!(
            ok("split_to_map", &[s(""), s("&"), s("=")]).to_json(),
            serde_json::json!({})
        );
        assert_eq!(
            ok("split_to_map", &[s("a=1&"), s("&"), s("=")]).to_json(),
            serde_json::json!({"a": "1"})
        );
        assert_eq!(
            ok("split_to_map", &[s("k:=v;;x:=y"), s(";;"), s(":=")]).to_json(),
            serde_json::json!({"k": "v", "x": "y"})
        );
        assert!(call("split_to_map", &[s("a=1&a=2"), s("&"), s("=")]).is_err());
        let many: Vec<String> = (0..50_000).map(|k| format!("k{k}=v")).collect();
        let Value::Map(m) = ok("split_to_map", &[s(&many.join("&")), s("&"), s("=")]) else {
            panic!()
        };
        assert_eq!(m.len(), 50_000);
        assert!(call("split_to_map", &[s("a=1&b"), s("&"), s("=")]).is_err());
        assert!(call("split_to_map", &[s("a=1=2"), s("&"), s("=")]).is_err());
        assert!(call("split_to_map", &[s("a=1&&b=2"), s("&"), s("=")]).is_err());
        assert_eq!(err("split_to_map", &[s("a"), s(""), s("=")]).arg, Some(1));
        assert_eq!(err("split_to_map", &[s("a"), s("&"), s("")]).arg, Some(2));
        assert_eq!(err("split_to_map", &[s("a"), s("="), s("=")]).arg, Some(2));
    }

    /// Every function of the families in this crate's function files (string, regex, math,
    /// hash, url, ip), at every arity, on awkward values: errors are fine, panics are not.
    #[test]
    fn no_function_panics_on_awkward_arguments() {
        let values = [
            Value::Null,
            Value::Int(0),
            Value::Int(-1),
            Value::Int(64),
            Value::Int(i64::MAX),
            Value::Int(i64::MIN),
            Value::Double(f64::NAN),
            Value::Double(f64::NEG_INFINITY),
            Value::Double(-0.0),
            Value::Double(1e300),
            Value::Bool(true),
            s(""),
            s("日本語"),
            s("%"),
            s("(a)|$"),
            s("$1\\"),
            s("10.0.0.0/8"),
            s("http://[::1]:8080/a%20?b=c#d"),
            bytes(&[0xff, 0xfe, 0xc3]),
            strs(&["a", "b"]),
            Value::Map(Arc::new(vec![(s("k"), Value::Int(1))])),
            Value::json(serde_json::json!({"a": [1]})),
        ];
        let families: [&[Function]; 6] = [
            FUNCTIONS,
            super::super::regex::FUNCTIONS,
            super::super::math::FUNCTIONS,
            super::super::hash::FUNCTIONS,
            super::super::url::FUNCTIONS,
            super::super::ip::FUNCTIONS,
        ];
        for fns in families {
            for f in fns {
                let (min, max) = f.arity();
                for arity in min..=max.unwrap_or(3).min(4) {
                    // Fewer values per position as the arity grows, to keep the sweep fast.
                    let pool = match arity {
                        0..=2 => &values[..],
                        3 => &values[..14],
                        _ => &values[..7],
                    };
                    let mut idx = vec![0usize; arity];
                    loop {
                        let args: Vec<Value> = idx.iter().map(|&k| pool[k].clone()).collect();
                        for constants in [true, false] {
                            let r = std::panic::catch_unwind(|| {
                                test_support::run(fns, f.name, &args, constants)
                            });
                            assert!(
                                r.is_ok(),
                                "{} panicked on {args:?} (constants: {constants})",
                                f.name
                            );
                        }
                        // Next combination (odometer).
                        let mut k = 0;
                        while k < arity {
                            idx[k] += 1;
                            if idx[k] < pool.len() {
                                break;
                            }
                            idx[k] = 0;
                            k += 1;
                        }
                        if k == arity {
                            break;
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn distances() {
        assert_eq!(
            ok("levenshtein_distance", &[s("kitten"), s("sitting")]),
            Value::Int(3)
        );
        assert_eq!(
            ok("levenshtein_distance", &[s(""), s("abc")]),
            Value::Int(3)
        );
        assert_eq!(
            ok("levenshtein_distance", &[s("日本"), s("日本語")]),
            Value::Int(1)
        );
        assert_eq!(
            ok("levenshtein_distance", &[s("same"), s("same")]),
            Value::Int(0)
        );
        let long = "x".repeat(2000);
        assert!(call("levenshtein_distance", &[s(&long), s(&long)]).is_err());
        assert_eq!(ok("hamming_distance", &[s("abc"), s("abd")]), Value::Int(1));
        assert_eq!(ok("hamming_distance", &[s(""), s("")]), Value::Int(0));
        assert_eq!(ok("hamming_distance", &[s("é1"), s("e1")]), Value::Int(1));
        assert!(call("hamming_distance", &[s("ab"), s("abc")]).is_err());
    }
}

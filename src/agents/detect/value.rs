//! Sigma value matchers: one detection value with its modifiers, compiled once.
//!
//! Owns the modifier semantics (contains, startswith, endswith, all, re, cidr, base64,
//! base64offset, windash, exists, gt/gte/lt/lte, fieldref, cased, utf16le/utf16be/wide,
//! expand is refused), Sigma wildcards (`*`, `?`, `\` escapes) and case-insensitive
//! comparison by default. Knows nothing about rules or events beyond [`FieldText`].

use base64::Engine;
use regex::Regex;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::net::IpAddr;

/// The text forms of one field value (each array element separately), original and lowercase,
/// borrowed from the event where they can be (a single value needs no allocation).
#[derive(Debug, Clone, Default)]
pub struct FieldText<'a> {
    pub texts: SmallVec<[Cow<'a, str>; 1]>,
    pub lowers: SmallVec<[Cow<'a, str>; 1]>,
    /// The value as a number, when it is one (or text that parses as one).
    pub numbers: SmallVec<[f64; 1]>,
    pub is_null: bool,
}

/// How a string pattern compares.
#[derive(Debug, Clone)]
pub enum StrPat {
    Exact(String),
    Contains(String),
    Starts(String),
    Ends(String),
    /// A pattern with inner wildcards, as an anchored regex.
    Wild(Regex),
}

impl StrPat {
    fn is_match(&self, s: &str) -> bool {
        match self {
            StrPat::Exact(p) => s == p,
            StrPat::Contains(p) => s.contains(p.as_str()),
            StrPat::Starts(p) => s.starts_with(p.as_str()),
            StrPat::Ends(p) => s.ends_with(p.as_str()),
            StrPat::Wild(r) => r.is_match(s),
        }
    }
}

/// Numeric comparison operators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// Where a `fieldref` compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RefKind {
    Equal,
    Contains,
    Starts,
    Ends,
}

/// One compiled alternative for a value.
#[derive(Debug, Clone)]
pub enum Matcher {
    Str {
        pat: StrPat,
        cased: bool,
    },
    Regex(Regex),
    Cidr {
        net: IpAddr,
        prefix: u8,
    },
    Num(NumOp, f64),
    /// `|exists: true/false`
    Exists(bool),
    /// A `null` value: the field is absent or null.
    Null,
    /// `|fieldref`: the index of the other field in the rule's field table.
    FieldRef {
        other: usize,
        kind: RefKind,
        cased: bool,
    },
}

/// Why a value could not be compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("unknown modifier `{0}`")]
    UnknownModifier(String),
    #[error("modifier `{0}` is not supported: {1}")]
    Unsupported(String, &'static str),
    #[error("bad regular expression `{0}`: {1}")]
    BadRegex(String, String),
    #[error("bad CIDR `{0}`")]
    BadCidr(String),
    #[error("`{0}` needs a number, got `{1}`")]
    NotANumber(String, String),
    #[error("value of type {0} cannot be matched")]
    BadValue(&'static str),
}

/// The parsed modifier chain of one detection key (`Field|mod1|mod2`).
#[derive(Debug, Clone, Default)]
pub struct Modifiers {
    pub all: bool,
    pub cased: bool,
    kind: Kind,
    transforms: Vec<Transform>,
    re_flags: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Kind {
    #[default]
    Equal,
    Contains,
    Starts,
    Ends,
    Re,
    Cidr,
    Num(NumOp),
    Exists,
    FieldRef,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Transform {
    Wide,
    Utf16Be,
    Utf16Bom,
    Base64,
    Base64Offset,
    Windash,
}

impl Modifiers {
    /// Parses the modifiers after the field name.
    pub fn parse(mods: &[&str]) -> Result<Modifiers, ValueError> {
        let mut m = Modifiers::default();
        let mut after_re = false;
        let mut ref_kind = None;
        for &raw in mods {
            let name = raw.to_ascii_lowercase();
            match name.as_str() {
                "contains" | "startswith" | "endswith" if m.kind == Kind::FieldRef => {
                    ref_kind = Some(name)
                }
                "contains" => m.kind = Kind::Contains,
                "startswith" => m.kind = Kind::Starts,
                "endswith" => m.kind = Kind::Ends,
                "all" => m.all = true,
                "cased" => m.cased = true,
                "re" => {
                    m.kind = Kind::Re;
                    after_re = true;
                }
                "i" | "ignorecase" | "m" | "multiline" | "s" | "dotall" if after_re => {
                    m.re_flags.push(name.chars().next().unwrap_or('i'))
                }
                "cidr" => m.kind = Kind::Cidr,
                "gt" => m.kind = Kind::Num(NumOp::Gt),
                "gte" => m.kind = Kind::Num(NumOp::Gte),
                "lt" => m.kind = Kind::Num(NumOp::Lt),
                "lte" => m.kind = Kind::Num(NumOp::Lte),
                "exists" => m.kind = Kind::Exists,
                "fieldref" => m.kind = Kind::FieldRef,
                "wide" | "utf16le" => m.transforms.push(Transform::Wide),
                "utf16be" => m.transforms.push(Transform::Utf16Be),
                "utf16" => m.transforms.push(Transform::Utf16Bom),
                "base64" => m.transforms.push(Transform::Base64),
                "base64offset" => m.transforms.push(Transform::Base64Offset),
                "windash" => m.transforms.push(Transform::Windash),
                "expand" => {
                    return Err(ValueError::Unsupported(
                        name,
                        "placeholders need a pipeline that supplies their values",
                    ));
                }
                _ => return Err(ValueError::UnknownModifier(raw.to_string())),
            }
        }
        if let Some(k) = ref_kind {
            // Remember the comparison inside the fieldref kind through re_flags (kept private).
            m.re_flags = k;
        }
        Ok(m)
    }

    /// Whether the value names another field (`fieldref`).
    pub fn is_fieldref(&self) -> bool {
        self.kind == Kind::FieldRef
    }

    /// For `fieldref`: the comparison to make.
    pub fn ref_kind(&self) -> RefKind {
        match self.re_flags.as_str() {
            "contains" => RefKind::Contains,
            "startswith" => RefKind::Starts,
            "endswith" => RefKind::Ends,
            _ => RefKind::Equal,
        }
    }

    /// Compiles one YAML value into its alternatives (any of them matching is a match).
    pub fn compile(&self, value: &serde_norway::Value) -> Result<Vec<Matcher>, ValueError> {
        use serde_norway::Value as Y;
        let text = match value {
            Y::Null => {
                return Ok(vec![match self.kind {
                    Kind::Exists => Matcher::Exists(false),
                    _ => Matcher::Null,
                }]);
            }
            Y::Bool(b) => b.to_string(),
            Y::Number(n) => n.to_string(),
            Y::String(s) => s.clone(),
            Y::Sequence(_) => return Err(ValueError::BadValue("list")),
            Y::Mapping(_) => return Err(ValueError::BadValue("map")),
            Y::Tagged(_) => return Err(ValueError::BadValue("tagged")),
        };
        match self.kind {
            Kind::Exists => {
                let b = match text.to_ascii_lowercase().as_str() {
                    "true" | "yes" => true,
                    "false" | "no" => false,
                    _ => return Err(ValueError::NotANumber("exists".into(), text)),
                };
                return Ok(vec![Matcher::Exists(b)]);
            }
            Kind::Num(op) => {
                let n: f64 = text
                    .trim()
                    .parse()
                    .map_err(|_| ValueError::NotANumber("gt/lt".into(), text))?;
                return Ok(vec![Matcher::Num(op, n)]);
            }
            Kind::Cidr => {
                let (net, prefix) = parse_cidr(&text).ok_or(ValueError::BadCidr(text))?;
                return Ok(vec![Matcher::Cidr { net, prefix }]);
            }
            Kind::Re => {
                let mut flags = String::new();
                for f in self.re_flags.chars() {
                    if !flags.contains(f) {
                        flags.push(f);
                    }
                }
                let src = if flags.is_empty() {
                    text.clone()
                } else {
                    format!("(?{flags}){text}")
                };
                let re = regex::RegexBuilder::new(&src)
                    .size_limit(1 << 22)
                    .build()
                    .map_err(|e| ValueError::BadRegex(text, e.to_string()))?;
                return Ok(vec![Matcher::Regex(re)]);
            }
            Kind::FieldRef => unreachable!("fieldref values are resolved by the rule compiler"),
            _ => {}
        }
        // String matching: apply the transforms in order; each may make alternatives.
        let mut alts: Vec<Vec<u8>> = vec![text.into_bytes()];
        let mut encoded = false;
        for t in &self.transforms {
            alts = alts
                .into_iter()
                .flat_map(|a| apply_transform(*t, &a))
                .collect();
            if matches!(t, Transform::Base64 | Transform::Base64Offset) {
                encoded = true;
            }
        }
        let mut out = Vec::new();
        for a in alts {
            let s = String::from_utf8_lossy(&a).into_owned();
            // After base64 the text is literal: wildcards no longer apply.
            let pat = if encoded {
                literal_pat(self.kind, &s)
            } else {
                wildcard_pat(self.kind, &s)
            };
            let pat = pat.map_err(|e| ValueError::BadRegex(s.clone(), e))?;
            let pat = if self.cased { pat } else { lower_pat(pat) };
            out.push(Matcher::Str {
                pat,
                cased: self.cased,
            });
        }
        Ok(out)
    }
}

fn apply_transform(t: Transform, v: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(v);
    match t {
        Transform::Wide => vec![text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()],
        Transform::Utf16Be => vec![text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()],
        Transform::Utf16Bom => {
            let mut out = vec![0xff, 0xfe];
            out.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
            vec![out]
        }
        Transform::Base64 => vec![
            base64::engine::general_purpose::STANDARD
                .encode(v)
                .into_bytes(),
        ],
        Transform::Base64Offset => {
            // As pySigma: three encodings of the value shifted by 0, 1, 2 bytes, with the
            // characters that depend on the unknown neighbours cut off.
            const START: [usize; 3] = [0, 2, 3];
            const END: [usize; 3] = [0, 3, 2];
            (0..3)
                .map(|i| {
                    let mut shifted = vec![b' '; i];
                    shifted.extend_from_slice(v);
                    let enc = base64::engine::general_purpose::STANDARD
                        .encode(&shifted)
                        .into_bytes();
                    let cut_end = END[(v.len() + i) % 3];
                    let end = enc.len().saturating_sub(cut_end);
                    enc.get(START[i]..end.max(START[i]))
                        .unwrap_or_default()
                        .to_vec()
                })
                .collect()
        }
        Transform::Windash => windash(&text).into_iter().map(String::into_bytes).collect(),
    }
}

/// The dash characters Windows command lines accept for options.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Every way to write the option dashes of `s` (a `-` or `/` at the start of a word).
fn windash(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let spots: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            (chars[i] == '-' || chars[i] == '/')
                && (i == 0 || chars[i - 1].is_whitespace())
                && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric())
        })
        .collect();
    if spots.is_empty() {
        return vec![s.to_string()];
    }
    // The full product for up to 3 dashes; beyond that the same dash everywhere (bounded).
    let mut out: Vec<Vec<char>> = vec![chars.clone()];
    if spots.len() <= 3 {
        for &i in &spots {
            out = out
                .into_iter()
                .flat_map(|c| {
                    DASHES.iter().map(move |&d| {
                        let mut c = c.clone();
                        c[i] = d;
                        c
                    })
                })
                .collect();
        }
    } else {
        out = DASHES
            .iter()
            .map(|&d| {
                let mut c = chars.clone();
                for &i in &spots {
                    c[i] = d;
                }
                c
            })
            .collect();
    }
    out.into_iter().map(|c| c.into_iter().collect()).collect()
}

fn literal_pat(kind: Kind, s: &str) -> Result<StrPat, String> {
    Ok(match kind {
        Kind::Contains => StrPat::Contains(s.to_string()),
        Kind::Starts => StrPat::Starts(s.to_string()),
        Kind::Ends => StrPat::Ends(s.to_string()),
        _ => StrPat::Exact(s.to_string()),
    })
}

/// A piece of a Sigma string: literal text or a wildcard.
#[derive(Debug, PartialEq)]
enum Piece {
    Lit(String),
    Star,
    One,
}

fn pieces(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    lit.push(n);
                    it.next();
                }
                _ => lit.push('\\'),
            },
            '*' | '?' => {
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(if c == '*' { Piece::Star } else { Piece::One });
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    out
}

/// Builds the pattern for a value with Sigma wildcards and the match kind.
fn wildcard_pat(kind: Kind, s: &str) -> Result<StrPat, String> {
    let mut p = pieces(s);
    match kind {
        Kind::Contains => {
            p.insert(0, Piece::Star);
            p.push(Piece::Star);
        }
        Kind::Starts => p.push(Piece::Star),
        Kind::Ends => p.insert(0, Piece::Star),
        _ => {}
    }
    // Collapse runs of stars.
    p.dedup_by(|a, b| *a == Piece::Star && *b == Piece::Star);
    let lead = p.first() == Some(&Piece::Star);
    let trail = p.len() > 1 && p.last() == Some(&Piece::Star);
    let inner: Vec<&Piece> = p
        .iter()
        .skip(lead as usize)
        .take(p.len() - lead as usize - trail as usize)
        .collect();
    if inner.is_empty() {
        // `*` alone (or nothing): any value; the empty string is an exact match on ''.
        return Ok(if lead {
            StrPat::Starts(String::new())
        } else {
            StrPat::Exact(String::new())
        });
    }
    if let [Piece::Lit(l)] = inner.as_slice() {
        let l = l.clone();
        return Ok(match (lead, trail) {
            (true, true) => StrPat::Contains(l),
            (true, false) => StrPat::Ends(l),
            (false, true) => StrPat::Starts(l),
            (false, false) => StrPat::Exact(l),
        });
    }
    let mut re = String::from("(?s)^");
    for piece in &p {
        match piece {
            Piece::Lit(l) => re.push_str(&regex::escape(l)),
            Piece::Star => re.push_str(".*"),
            Piece::One => re.push('.'),
        }
    }
    re.push('$');
    Regex::new(&re).map(StrPat::Wild).map_err(|e| e.to_string())
}

fn lower_pat(p: StrPat) -> StrPat {
    match p {
        StrPat::Exact(s) => StrPat::Exact(s.to_lowercase()),
        StrPat::Contains(s) => StrPat::Contains(s.to_lowercase()),
        StrPat::Starts(s) => StrPat::Starts(s.to_lowercase()),
        StrPat::Ends(s) => StrPat::Ends(s.to_lowercase()),
        StrPat::Wild(r) => {
            // Patterns are built from lowercased text by the caller; re-make case-insensitive.
            let src = r.as_str().replacen("(?s)", "(?si)", 1);
            StrPat::Wild(Regex::new(&src).unwrap_or(r))
        }
    }
}

/// Parses `addr/prefix` (or a bare address as a host route).
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = a.trim().parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match p {
        Some(p) => p.trim().parse::<u8>().ok().filter(|&p| p <= max)?,
        None => max,
    };
    Some((addr, prefix))
}

/// Whether `ip` falls in `net/prefix`.
pub fn in_cidr(ip: &str, net: IpAddr, prefix: u8) -> bool {
    let Ok(ip) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix as u32)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix as u32)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl Matcher {
    /// Whether the field value matches (`value` is None when the field is absent).
    /// `other` resolves `fieldref` targets.
    pub fn is_match<'a, 't>(
        &self,
        value: Option<&FieldText<'_>>,
        other: &dyn Fn(usize) -> Option<&'a FieldText<'t>>,
    ) -> bool {
        match self {
            Matcher::Exists(want) => value.is_some_and(|v| !v.is_null) == *want,
            Matcher::Null => {
                value.is_none_or(|v| v.is_null || v.texts.iter().all(|t| t.is_empty()))
            }
            Matcher::Str { pat, cased } => value.is_some_and(|v| {
                let hay = if *cased { &v.texts } else { &v.lowers };
                hay.iter().any(|s| pat.is_match(s))
            }),
            Matcher::Regex(re) => value.is_some_and(|v| v.texts.iter().any(|s| re.is_match(s))),
            Matcher::Cidr { net, prefix } => {
                value.is_some_and(|v| v.texts.iter().any(|s| in_cidr(s, *net, *prefix)))
            }
            Matcher::Num(op, n) => value.is_some_and(|v| {
                v.numbers.iter().any(|x| match op {
                    NumOp::Gt => x > n,
                    NumOp::Gte => x >= n,
                    NumOp::Lt => x < n,
                    NumOp::Lte => x <= n,
                })
            }),
            Matcher::FieldRef {
                other: idx,
                kind,
                cased,
            } => {
                let (Some(v), Some(o)) = (value, other(*idx)) else {
                    return false;
                };
                let (hay, needles) = if *cased {
                    (&v.texts, &o.texts)
                } else {
                    (&v.lowers, &o.lowers)
                };
                hay.iter().any(|h| {
                    needles.iter().any(|n| match kind {
                        RefKind::Equal => h == n,
                        RefKind::Contains => h.contains(n.as_ref()),
                        RefKind::Starts => h.starts_with(n.as_ref()),
                        RefKind::Ends => h.ends_with(n.as_ref()),
                    })
                })
            }
        }
    }

    /// The literal text this matcher needs to find (lowercase unless cased), for a prefilter.
    pub fn required_literal(&self) -> Option<&str> {
        match self {
            Matcher::Str { pat, .. } => match pat {
                StrPat::Exact(s) | StrPat::Contains(s) | StrPat::Starts(s) | StrPat::Ends(s) => {
                    Some(s.as_str())
                }
                StrPat::Wild(_) => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ft(s: &str) -> FieldText<'_> {
        FieldText {
            texts: smallvec::smallvec![Cow::Borrowed(s)],
            lowers: smallvec::smallvec![Cow::Owned(s.to_lowercase())],
            numbers: s.parse().ok().into_iter().collect(),
            is_null: false,
        }
    }

    fn matches(mods: &[&str], value: &str, field: &str) -> bool {
        let m = Modifiers::parse(mods).unwrap();
        let alts = m
            .compile(&serde_norway::Value::String(value.into()))
            .unwrap();
        alts.iter().any(|a| a.is_match(Some(&ft(field)), &|_| None))
    }

    #[test]
    fn plain_values_are_case_insensitive_equality_with_wildcards() {
        assert!(matches(&[], "cmd.EXE", "CMD.exe"));
        assert!(!matches(&[], "cmd.exe", "xcmd.exe"));
        assert!(matches(&[], "*\\cmd.exe", "C:\\Windows\\cmd.exe"));
        assert!(
            matches(&[], "c:\\\\*\\cmd.exe", "C:\\Windows\\cmd.exe"),
            "\\\\ is a backslash, then a wildcard"
        );
        assert!(matches(&[], "a?c", "abc"));
        assert!(!matches(&[], "a\\*c", "abc"));
        assert!(matches(&[], "a\\*c", "a*c"));
    }

    #[test]
    fn string_modifiers() {
        assert!(matches(
            &["contains"],
            "Invoke-",
            "powershell invoke-mimikatz"
        ));
        assert!(matches(&["startswith"], "C:\\Users", "c:\\users\\bob"));
        assert!(matches(
            &["endswith"],
            "\\rundll32.exe",
            "C:\\x\\RUNDLL32.EXE"
        ));
        assert!(!matches(
            &["endswith", "cased"],
            "\\rundll32.exe",
            "C:\\x\\RUNDLL32.EXE"
        ));
        assert!(matches(&["contains", "cased"], "Mimi", "x Mimi x"));
    }

    #[test]
    fn regex_cidr_numbers_exists() {
        assert!(matches(&["re"], "^a+b$", "aab"));
        assert!(!matches(&["re"], "^A+B$", "aab"), "re is case-sensitive");
        assert!(matches(&["re", "i"], "^A+B$", "aab"));
        assert!(matches(&["cidr"], "10.0.0.0/8", "10.1.2.3"));
        assert!(!matches(&["cidr"], "10.0.0.0/8", "11.1.2.3"));
        assert!(matches(&["cidr"], "fe80::/10", "fe80::1"));
        assert!(matches(&["gt"], "5", "6"));
        assert!(!matches(&["gte"], "7", "6"));
        assert!(matches(&["lte"], "6", "6"));
        let m = Modifiers::parse(&["exists"]).unwrap();
        let a = m.compile(&serde_norway::Value::Bool(true)).unwrap();
        assert!(a[0].is_match(Some(&ft("x")), &|_| None));
        assert!(!a[0].is_match(None, &|_| None));
    }

    #[test]
    fn base64_and_offsets_find_encoded_text() {
        // "IEX (New-Object" somewhere inside a base64 blob, at any alignment.
        let needle = "New-Object";
        for pad in ["", "a", "ab"] {
            let blob =
                base64::engine::general_purpose::STANDARD.encode(format!("{pad}IEX ({needle} x"));
            assert!(
                matches(&["base64offset", "contains"], needle, &blob),
                "pad {pad:?}"
            );
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode("whoami");
        assert!(matches(&["base64"], "whoami", &b64));
        // utf16le then base64 (PowerShell -EncodedCommand)
        let wide: Vec<u8> = "whoami /all"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let blob = base64::engine::general_purpose::STANDARD.encode(&wide);
        assert!(matches(
            &["wide", "base64offset", "contains"],
            "whoami",
            &blob
        ));
    }

    #[test]
    fn windash_accepts_every_dash() {
        assert!(matches(
            &["contains", "windash"],
            " -enc ",
            "powershell /enc AAA"
        ));
        assert!(matches(
            &["contains", "windash"],
            " -enc ",
            "powershell \u{2013}enc AAA"
        ));
        assert!(matches(
            &["contains", "windash"],
            " -enc ",
            "powershell -enc AAA"
        ));
    }

    #[test]
    fn unknown_and_unsupported_modifiers_are_errors() {
        assert_eq!(
            Modifiers::parse(&["bogus"]).unwrap_err(),
            ValueError::UnknownModifier("bogus".into())
        );
        assert!(matches!(
            Modifiers::parse(&["expand"]),
            Err(ValueError::Unsupported(..))
        ));
        let m = Modifiers::parse(&["re"]).unwrap();
        assert!(matches!(
            m.compile(&serde_norway::Value::String("(".into())),
            Err(ValueError::BadRegex(..))
        ));
    }
}

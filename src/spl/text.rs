//! Text splitting used by instructions: CSV fields (`parse-csv`), key/value pairs
//! (`parse-kv`) and metric label encoding (`log-to-metric`, `metric-to-metric`).
//!
//! Results are `Piece`s: byte ranges into the input where no unescaping was needed, so the
//! runner can hand out slices of the input line without copying.

use crate::event::Text;

/// A piece of an input string: a range of it, or new text where unescaping changed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Slice(std::ops::Range<usize>),
    Owned(String),
}

impl Piece {
    pub fn as_str<'a>(&'a self, source: &'a str) -> &'a str {
        match self {
            Piece::Slice(r) => &source[r.clone()],
            Piece::Owned(s) => s,
        }
    }

    /// The piece as a `Text`, sharing `source`'s buffer for slices.
    pub fn into_text(self, source: &Text) -> Text {
        match self {
            Piece::Slice(r) => source.slice(r),
            Piece::Owned(s) => Text::from(s),
        }
    }
}

/// Splits one CSV record (RFC 4180): `delim` is 1-3 characters, `quote` encloses fields that
/// contain the delimiter, a doubled quote inside stands for one. A stray quote inside an
/// unquoted field is kept as text.
pub fn split_csv(s: &str, delim: &str, quote: char) -> Vec<Piece> {
    let mut out = Vec::new();
    let bytes = s.len();
    let mut pos = 0;
    let qlen = quote.len_utf8();
    loop {
        if s[pos..].starts_with(quote) {
            // Quoted field.
            let start = pos + qlen;
            let mut i = start;
            let mut owned: Option<String> = None;
            let mut closed = None;
            while i < bytes {
                let rest = &s[i..];
                let Some(q) = rest.find(quote) else { break };
                let at = i + q;
                if s[at + qlen..].starts_with(quote) {
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(&s[i..at + qlen]);
                    i = at + 2 * qlen;
                    continue;
                }
                if let Some(o) = owned.as_mut() {
                    o.push_str(&s[i..at]);
                }
                closed = Some(at);
                break;
            }
            match closed {
                Some(end) => {
                    let mut piece = match owned {
                        Some(o) => Piece::Owned(o),
                        None => Piece::Slice(start..end),
                    };
                    let after = end + qlen;
                    // Text between the closing quote and the next delimiter is kept.
                    let next = find_text(&s[after..], delim).map(|d| after + d);
                    let tail_end = next.unwrap_or(bytes);
                    if tail_end > after {
                        let mut t = piece.as_str(s).to_string();
                        t.push_str(&s[after..tail_end]);
                        piece = Piece::Owned(t);
                    }
                    out.push(piece);
                    match next {
                        Some(d) => pos = d + delim.len(),
                        None => return out,
                    }
                }
                None => {
                    // Unterminated quote: the rest is the field, quote included.
                    out.push(Piece::Slice(pos..bytes));
                    return out;
                }
            }
        } else {
            match find_text(&s[pos..], delim) {
                Some(d) => {
                    out.push(Piece::Slice(pos..pos + d));
                    pos += d + delim.len();
                }
                None => {
                    out.push(Piece::Slice(pos..bytes));
                    return out;
                }
            }
        }
        if pos > bytes {
            return out;
        }
    }
}

/// Pair separators of `parse-kv`.
pub enum Delim<'a> {
    /// Any of these characters.
    Chars(&'a [char]),
    /// This exact string.
    Text(&'a str),
}

impl Delim<'_> {
    /// Byte offset and length of the next delimiter at or after `from`.
    fn find(&self, s: &str, from: usize) -> Option<(usize, usize)> {
        let rest = &s.as_bytes()[from..];
        // Up to three ASCII delimiters (the usual space, tab, comma): memchr's byte scan.
        let ascii = |c: &char| c.is_ascii().then_some(*c as u8);
        match self {
            Delim::Chars([a]) if a.is_ascii() => {
                memchr::memchr(ascii(a)?, rest).map(|i| (from + i, 1))
            }
            Delim::Chars([a, b]) if a.is_ascii() && b.is_ascii() => {
                memchr::memchr2(ascii(a)?, ascii(b)?, rest).map(|i| (from + i, 1))
            }
            Delim::Chars([a, b, c]) if a.is_ascii() && b.is_ascii() && c.is_ascii() => {
                memchr::memchr3(ascii(a)?, ascii(b)?, ascii(c)?, rest).map(|i| (from + i, 1))
            }
            Delim::Chars(cs) => s[from..]
                .char_indices()
                .find(|(_, c)| cs.contains(c))
                .map(|(i, c)| (from + i, c.len_utf8())),
            Delim::Text(t) => find_text(&s[from..], t).map(|i| (from + i, t.len())),
        }
    }

    /// Length of the delimiter starting exactly at `at`, if one does.
    fn at(&self, s: &str, at: usize) -> Option<usize> {
        match self {
            Delim::Chars(cs) => s[at..]
                .chars()
                .next()
                .filter(|c| cs.contains(c))
                .map(char::len_utf8),
            Delim::Text(t) => s[at..].starts_with(t).then_some(t.len()),
        }
    }
}

/// Splits `key<sep>value` pairs separated by `delim`. Values in double quotes are unquoted
/// (backslash-escaped quotes and backslashes inside are unescaped); tokens without a
/// separator are skipped. With `greedy`, an unquoted value runs on over delimiters until the
/// next token that looks like `key<sep>`, so values with spaces survive.
pub fn split_kv(s: &str, delim: &Delim, sep: &str, greedy: bool) -> Vec<(Piece, Piece)> {
    let mut out = Vec::new();
    let len = s.len();
    let mut pos = 0;
    while pos < len {
        // Skip delimiters.
        while pos < len {
            match delim.at(s, pos) {
                Some(l) if l > 0 => pos += l,
                _ => break,
            }
        }
        if pos >= len {
            break;
        }
        let next_delim = delim.find(s, pos);
        let next_sep = find_text(&s[pos..], sep).map(|i| pos + i);
        let token_end = next_delim.map_or(len, |(d, _)| d);
        let Some(sep_at) = next_sep.filter(|&p| p < token_end) else {
            // Not a pair: skip the token.
            pos = next_delim.map_or(len, |(d, l)| d + l);
            continue;
        };
        let key = trim_range(s, pos..sep_at);
        let vstart = sep_at + sep.len();
        if s[vstart..].starts_with('"')
            && let Some((value, end)) = quoted(s, vstart)
        {
            out.push((Piece::Slice(key), value));
            pos = end;
            continue;
        }
        let mut vend = delim.find(s, vstart).map_or(len, |(d, _)| d);
        if greedy {
            while vend < len {
                let after = vend + delim.at(s, vend).unwrap_or(1).max(1);
                if after >= len || looks_like_pair(s, after, delim, sep) {
                    break;
                }
                vend = delim.find(s, after).map_or(len, |(d, _)| d);
            }
        }
        out.push((Piece::Slice(key), Piece::Slice(vstart..vend)));
        pos = vend;
    }
    out
}

/// The byte offset of `needle` in `hay`: one byte by memchr, longer ones by `str::find`.
fn find_text(hay: &str, needle: &str) -> Option<usize> {
    match needle.as_bytes() {
        [b] => memchr::memchr(*b, hay.as_bytes()),
        _ => hay.find(needle),
    }
}

fn trim_range(s: &str, r: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let text = &s[r.clone()];
    let rest = text.trim_start();
    let start = r.start + (text.len() - rest.len());
    start..start + rest.trim_end().len()
}

/// A double-quoted value starting at `at`: its content and the offset after the closing quote.
fn quoted(s: &str, at: usize) -> Option<(Piece, usize)> {
    let body = at + 1;
    let bytes = s.as_bytes();
    let mut i = body;
    let mut needs_unescape = false;
    // Jump from one `"` or `\` to the next (both ASCII: never inside a multi-byte char).
    while let Some(k) = memchr::memchr2(b'"', b'\\', &bytes[i..]) {
        let at = i + k;
        if bytes[at] == b'\\' {
            needs_unescape = true;
            // The escaped character, whatever its width, is skipped whole.
            let next = s[at + 1..].chars().next().map_or(0, char::len_utf8);
            i = at + 1 + next;
            if i > bytes.len() {
                return None;
            }
            continue;
        }
        let piece = if needs_unescape {
            Piece::Owned(unescape(&s[body..at]))
        } else {
            Piece::Slice(body..at)
        };
        return Some((piece, at + 1));
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// True when a `key<sep>` token starts at `at` (the key has no delimiter, quote or space).
fn looks_like_pair(s: &str, at: usize, delim: &Delim, sep: &str) -> bool {
    let end = delim.find(s, at).map_or(s.len(), |(d, _)| d);
    match s[at..end].find(sep) {
        Some(i) if i > 0 => !s[at..at + i].contains(['"', ' ', '\t']),
        _ => false,
    }
}

/// Decodes SLS metric labels `k#$#v|k#$#v`.
pub fn parse_labels(s: &str) -> Vec<(String, String)> {
    s.split('|')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once("#$#") {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

/// Encodes labels; with `format`, keys are sorted, invalid keys dropped and the reserved
/// sequences `|` and `#$#` in values replaced by `_`.
pub fn encode_labels(mut labels: Vec<(String, String)>, format: bool) -> String {
    if format {
        labels.retain(|(k, _)| valid_label_key(k));
        for (_, v) in labels.iter_mut() {
            *v = v.replace("#$#", "_").replace('|', "_");
        }
        labels.sort_by(|a, b| a.0.cmp(&b.0));
        labels.dedup_by(|a, b| a.0 == b.0);
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}#$#{v}"))
        .collect::<Vec<_>>()
        .join("|")
}

fn valid_label_key(k: &str) -> bool {
    let mut cs = k.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The character-by-character scans the memchr paths stand in for.
    fn find_by_chars(cs: &[char], s: &str, from: usize) -> Option<(usize, usize)> {
        s[from..]
            .char_indices()
            .find(|(_, c)| cs.contains(c))
            .map(|(i, c)| (from + i, c.len_utf8()))
    }

    fn quoted_by_chars(s: &str, at: usize) -> Option<(String, usize)> {
        let body = at + 1;
        let mut escaped = false;
        for (i, c) in s[body..].char_indices() {
            if escaped {
                escaped = false;
                continue;
            }
            match c {
                '\\' => escaped = true,
                '"' => return Some((unescape(&s[body..body + i]), body + i + 1)),
                _ => {}
            }
        }
        None
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn byte_scans_find_what_char_scans_find(
            s in "(?s)(?:[ \t,;=\"\\\\a-c]|é|😀|\u{2003}){0,24}",
            cs in prop::collection::vec(prop::sample::select(vec![' ', '\t', ',', ';', 'é', '\u{2003}']), 1..5),
            sep in prop::sample::select(vec!["=", "==", ":", "é"]),
        ) {
            for from in (0..=s.len()).filter(|&i| s.is_char_boundary(i)) {
                prop_assert_eq!(Delim::Chars(&cs).find(&s, from), find_by_chars(&cs, &s, from));
                prop_assert_eq!(find_text(&s[from..], sep), s[from..].find(sep));
                if s[from..].starts_with('"') {
                    let fast = quoted(&s, from).map(|(p, end)| (p.as_str(&s).to_string(), end));
                    prop_assert_eq!(fast, quoted_by_chars(&s, from), "{:?} at {}", s, from);
                }
            }
        }
    }

    fn csv(s: &str, d: &str, q: char) -> Vec<String> {
        split_csv(s, d, q)
            .iter()
            .map(|p| p.as_str(s).to_string())
            .collect()
    }

    fn kv(s: &str, d: &Delim, sep: &str, greedy: bool) -> Vec<(String, String)> {
        split_kv(s, d, sep, greedy)
            .iter()
            .map(|(k, v)| (k.as_str(s).to_string(), v.as_str(s).to_string()))
            .collect()
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv("a,b,c", ",", '"'), ["a", "b", "c"]);
        assert_eq!(
            csv(r#""a,1","b ""x""",c"#, ",", '"'),
            ["a,1", r#"b "x""#, "c"]
        );
        assert_eq!(csv("a,,", ",", '"'), ["a", "", ""]);
        assert_eq!(csv("", ",", '"'), [""]);
        assert_eq!(csv("1^_^2^_^3", "^_^", '"'), ["1", "2", "3"]);
        assert_eq!(csv("\"open,x", ",", '"'), ["\"open,x"]);
        assert_eq!(csv("\"ab\"cd,e", ",", '"'), ["abcd", "e"]);
        assert_eq!(csv("é,ü", ",", '"'), ["é", "ü"]);
    }

    #[test]
    fn kv_firewall_style() {
        let d = [' '];
        let got = kv(
            r#"date=2020-01-01 devname="FGT 60" msg="say \"hi\"" x"#,
            &Delim::Chars(&d),
            "=",
            false,
        );
        assert_eq!(
            got,
            [
                ("date".into(), "2020-01-01".into()),
                ("devname".into(), "FGT 60".into()),
                ("msg".into(), r#"say "hi""#.into())
            ]
        );
    }

    #[test]
    fn kv_delims_set_and_positional() {
        let d = ['&', '?'];
        assert_eq!(
            kv("k1=v1&k2=v2?k3=v3", &Delim::Chars(&d), "=", false).len(),
            3
        );
        assert_eq!(
            kv("a:1,b:2", &Delim::Text(","), ":", false),
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(
            kv("a=1=2", &Delim::Text("&"), "=", false),
            [("a".into(), "1=2".into())]
        );
    }

    #[test]
    fn kv_greedy_keeps_spaces() {
        let d = [' '];
        assert_eq!(
            kv("msg=hello big world user=bob", &Delim::Chars(&d), "=", true),
            [
                ("msg".into(), "hello big world".into()),
                ("user".into(), "bob".into())
            ]
        );
        assert_eq!(
            kv(
                "msg=hello big world user=bob",
                &Delim::Chars(&d),
                "=",
                false
            )[0]
            .1,
            "hello"
        );
    }

    /// Found by the long property-test run: a key made only of a multi-byte space
    /// produced an inverted range.
    #[test]
    fn kv_key_of_only_unicode_space_does_not_panic() {
        let d = [' '];
        assert_eq!(
            kv("\u{2000}=", &Delim::Chars(&d), "=", false),
            [(String::new(), String::new())]
        );
        assert_eq!(
            kv("\u{2000}k\u{2000}=v", &Delim::Chars(&d), "=", false),
            [("k".into(), "v".into())]
        );
    }

    #[test]
    fn labels_round_trip() {
        let l = parse_labels("b#$#2|a#$#1");
        assert_eq!(encode_labels(l.clone(), false), "b#$#2|a#$#1");
        assert_eq!(encode_labels(l, true), "a#$#1|b#$#2");
        assert_eq!(
            encode_labels(
                vec![("1x".into(), "v".into()), ("k".into(), "a|b".into())],
                true
            ),
            "k#$#a_b"
        );
    }
}

//! SPL functions: URL parts and URL encoding, with Presto semantics. Presto parses with
//! `java.net.URI` (RFC 2396 plus Java's deviations), so this file carries a port of that
//! parser: a string `java.net.URI` rejects (a space, a bare `%`, `|`, a second `#`...) is not a
//! URL and every extractor gives NULL; a component a valid URL lacks is `''` (Presto's
//! `nullToEmpty`), except the port, which is NULL. Path, query and fragment come back
//! percent-decoded, the host raw (IPv6 with its brackets).
//!
//! Owns `url_extract_*`, `url_encode`, `url_decode`. Depends only on the registry.

use super::string::arg_text;
use super::{Env, FnError, FnResult, Function, Kind, Param, Prepared, ex};
use crate::event::Value;
use percent_encoding::percent_decode_str;
use std::borrow::Cow;

const URL: &[Param] = &[Param::req("url", Kind::Str)];

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new(
        "url_extract_host",
        URL,
        Kind::Str,
        "The host of a URL ('' when it has none, NULL when the text is not a valid URL).",
        &[
            ex(
                "url_extract_host('https://user@example.com:8443/a?x=1#top')",
                r#""example.com""#,
            ),
            ex("url_extract_host('http://[::1]:80/')", r#""[::1]""#),
            ex("url_extract_host('http://exa mple.com/')", "null"),
        ],
        url_extract_host,
    ),
    Function::new(
        "url_extract_path",
        URL,
        Kind::Str,
        "The percent-decoded path of a URL.",
        &[ex(
            "url_extract_path('https://example.com/a%20b/c?x=1')",
            r#""/a b/c""#,
        )],
        url_extract_path,
    ),
    Function::new(
        "url_extract_port",
        URL,
        Kind::Int,
        "The port of a URL, NULL when none is given.",
        &[
            ex("url_extract_port('https://example.com:8443/')", "8443"),
            ex("url_extract_port('https://example.com/')", "null"),
        ],
        url_extract_port,
    ),
    Function::new(
        "url_extract_protocol",
        URL,
        Kind::Str,
        "The scheme of a URL (http, https...), without the colon.",
        &[ex(
            "url_extract_protocol('https://example.com/')",
            r#""https""#,
        )],
        url_extract_protocol,
    ),
    Function::new(
        "url_extract_query",
        URL,
        Kind::Str,
        "The percent-decoded query string of a URL, without the question mark.",
        &[ex(
            "url_extract_query('https://example.com/p?a=1&b=2#f')",
            r#""a=1&b=2""#,
        )],
        url_extract_query,
    ),
    Function::new(
        "url_extract_fragment",
        URL,
        Kind::Str,
        "The percent-decoded fragment of a URL, without the hash sign.",
        &[ex(
            "url_extract_fragment('https://example.com/p#top')",
            r#""top""#,
        )],
        url_extract_fragment,
    ),
    Function::new(
        "url_extract_parameter",
        &[Param::req("url", Kind::Str), Param::req("name", Kind::Str)],
        Kind::Str,
        "The value of the first query parameter with the given name ('' when it has no value, NULL when absent).",
        &[
            ex(
                "url_extract_parameter('https://example.com/p?a=1&b=x%20y', 'b')",
                r#""x y""#,
            ),
            ex(
                "url_extract_parameter('https://example.com/p?a=1', 'c')",
                "null",
            ),
        ],
        url_extract_parameter,
    ),
    Function::new(
        "url_encode",
        &[Param::req("value", Kind::Str)],
        Kind::Str,
        "Escapes a string for a URL query parameter name or value (space becomes +, UTF-8 bytes become %XX).",
        &[ex("url_encode('a b&c=d/é')", r#""a+b%26c%3Dd%2F%C3%A9""#)],
        url_encode,
    ),
    Function::new(
        "url_decode",
        &[Param::req("value", Kind::Str)],
        Kind::Str,
        "Unescapes a URL-encoded string (+ becomes a space, %XX sequences are UTF-8 decoded).",
        &[ex("url_decode('a+b%26c%3Dd%2F%C3%A9')", r#""a b&c=d/é""#)],
        url_decode,
    ),
];

// ---- a port of java.net.URI's parser ----------------------------------------------------

/// The parts of a URI as `java.net.URI` exposes them (raw, not yet decoded).
#[derive(Debug, Default, PartialEq)]
struct Uri<'a> {
    scheme: Option<&'a str>,
    host: Option<&'a str>,
    port: Option<i64>,
    path: Option<&'a str>,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

/// Not a URI.
struct Invalid;

fn is_mark(c: u8) -> bool {
    b"-_.!~*'()".contains(&c)
}

fn unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || is_mark(c)
}

/// `uric`: reserved | unreserved (escapes are handled by `scan`).
fn uric(c: u8) -> bool {
    unreserved(c) || b";/?:@&=+$,[]".contains(&c)
}

/// Path characters: pchar | ';' | '/'.
fn path_char(c: u8) -> bool {
    unreserved(c) || b":@&=+$,;/".contains(&c)
}

fn userinfo_char(c: u8) -> bool {
    unreserved(c) || b";:&=+$,".contains(&c)
}

fn server_char(c: u8) -> bool {
    userinfo_char(c) || b"-.:@[]".contains(&c)
}

fn reg_name_char(c: u8) -> bool {
    unreserved(c) || b"$,;:@&=+".contains(&c)
}

/// Java accepts unescaped non-ASCII characters where escapes are allowed, unless they are
/// spaces or controls.
fn is_other(c: char) -> bool {
    c as u32 > 128 && !c.is_whitespace() && !c.is_control()
}

/// The end of the longest run of `allowed` ASCII characters from `start` (with `escapes`,
/// also `%XX` and visible non-ASCII characters).
fn scan(s: &str, start: usize, end: usize, allowed: fn(u8) -> bool, escapes: bool) -> usize {
    let b = s.as_bytes();
    let mut p = start;
    while p < end {
        let c = b[p];
        if c.is_ascii() {
            if allowed(c) {
                p += 1;
            } else if escapes
                && c == b'%'
                && p + 2 < end
                && b[p + 1].is_ascii_hexdigit()
                && b[p + 2].is_ascii_hexdigit()
            {
                p += 3;
            } else {
                break;
            }
        } else {
            let ch = s[p..].chars().next().expect("inside the string");
            if escapes && is_other(ch) {
                p += ch.len_utf8();
            } else {
                break;
            }
        }
    }
    p
}

fn check(
    s: &str,
    start: usize,
    end: usize,
    allowed: fn(u8) -> bool,
    escapes: bool,
) -> Result<(), Invalid> {
    if scan(s, start, end, allowed, escapes) < end {
        Err(Invalid)
    } else {
        Ok(())
    }
}

/// The first position in `start..end` holding one of `stops`, or `end`.
fn find_any(s: &str, start: usize, end: usize, stops: &[u8]) -> usize {
    s.as_bytes()[start..end]
        .iter()
        .position(|c| stops.contains(c))
        .map_or(end, |i| start + i)
}

fn at(s: &str, p: usize, c: u8) -> bool {
    s.as_bytes().get(p) == Some(&c)
}

fn parse_uri(s: &str) -> Result<Uri<'_>, Invalid> {
    let n = s.len();
    let mut uri = Uri::default();
    // A scheme is what precedes a ':' that comes before any of "/?#".
    let colon = s
        .bytes()
        .position(|c| b"/?#:".contains(&c))
        .filter(|&i| s.as_bytes()[i] == b':');
    let mut p = match colon {
        Some(0) => return Err(Invalid),
        Some(c) => {
            let scheme = &s[..c];
            let b = scheme.as_bytes();
            if !b[0].is_ascii_alphabetic()
                || !b[1..]
                    .iter()
                    .all(|&x| x.is_ascii_alphanumeric() || b"+-.".contains(&x))
            {
                return Err(Invalid);
            }
            uri.scheme = Some(scheme);
            let p = c + 1;
            if at(s, p, b'/') {
                parse_hierarchical(s, p, &mut uri)?
            } else {
                // Opaque (mailto:..., urn:...): no host, path or query.
                let q = find_any(s, p, n, b"#");
                if q <= p {
                    return Err(Invalid);
                }
                check(s, p, q, uric, true)?;
                q
            }
        }
        None => parse_hierarchical(s, 0, &mut uri)?,
    };
    if at(s, p, b'#') {
        check(s, p + 1, n, uric, true)?;
        uri.fragment = Some(&s[p + 1..]);
        p = n;
    }
    if p < n {
        return Err(Invalid);
    }
    Ok(uri)
}

fn parse_hierarchical<'a>(s: &'a str, start: usize, uri: &mut Uri<'a>) -> Result<usize, Invalid> {
    let n = s.len();
    let mut p = start;
    if at(s, p, b'/') && at(s, p + 1, b'/') {
        p += 2;
        let q = find_any(s, p, n, b"/?#");
        if q > p {
            parse_authority(s, p, q, uri)?;
            p = q;
        } else if q >= n {
            return Err(Invalid); // "Expected authority"
        }
    }
    let q = find_any(s, p, n, b"?#");
    check(s, p, q, path_char, true)?;
    uri.path = Some(&s[p..q]);
    p = q;
    if at(s, p, b'?') {
        p += 1;
        let q = find_any(s, p, n, b"#");
        check(s, p, q, uric, true)?;
        uri.query = Some(&s[p..q]);
        p = q;
    }
    Ok(p)
}

/// A server-based authority (`[user@]host[:port]`) sets host and port; a registry-based
/// one (anything else made of legal characters) leaves them unset; others are invalid.
fn parse_authority<'a>(
    s: &'a str,
    start: usize,
    end: usize,
    uri: &mut Uri<'a>,
) -> Result<(), Invalid> {
    let ipv6 = s[start..end].contains('[');
    let server_chars = if ipv6 {
        scan(s, start, end, |c| server_char(c) || c == b'%', true) == end
    } else {
        scan(s, start, end, server_char, true) == end
    };
    let reg_chars = scan(s, start, end, reg_name_char, true) == end;
    if server_chars && let Some((host, port)) = parse_server(s, start, end) {
        uri.host = Some(host);
        uri.port = port;
        return Ok(());
    }
    if reg_chars { Ok(()) } else { Err(Invalid) }
}

fn parse_server(s: &str, start: usize, end: usize) -> Option<(&str, Option<i64>)> {
    let mut p = start;
    if let Some(at_sign) = s[start..end].find('@') {
        check(s, start, start + at_sign, userinfo_char, true).ok()?;
        p = start + at_sign + 1;
    }
    let host_start = p;
    if at(s, p, b'[') {
        let close = s[p..end].find(']')? + p;
        let inner = &s[p + 1..close];
        let (addr, scope) = match inner.split_once('%') {
            Some((a, z)) => (a, Some(z)),
            None => (inner, None),
        };
        addr.parse::<std::net::Ipv6Addr>().ok()?;
        if let Some(z) = scope
            && (z.is_empty() || !z.bytes().all(|c| c.is_ascii_alphanumeric()))
        {
            return None;
        }
        p = close + 1;
    } else {
        p = ipv4_end(s, p, end).or_else(|| hostname_end(s, p, end))?;
    }
    let host = &s[host_start..p];
    let mut port = None;
    if at(s, p, b':') {
        p += 1;
        let q = end;
        if q > p {
            let digits = &s[p..q];
            if !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            port = Some(digits.parse::<i32>().ok()? as i64);
            p = q;
        }
    }
    (p >= end).then_some((host, port))
}

/// The end of a dotted-quad IPv4 address at `start`, when it is one and is followed by the
/// end of the authority or a ':'.
fn ipv4_end(s: &str, start: usize, end: usize) -> Option<usize> {
    let run = start
        + s.as_bytes()[start..end]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b'.')
            .count();
    let text = &s[start..run];
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4
        || parts
            .iter()
            .any(|p| p.is_empty() || p.parse::<u32>().map_or(true, |v| v > 255))
    {
        return None;
    }
    (run == end || at(s, run, b':')).then_some(run)
}

/// The end of an RFC 2396 hostname at `start` (labels of letters, digits and inner dashes;
/// the last label of a dotted name starts with a letter).
fn hostname_end(s: &str, start: usize, end: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut p = start;
    let mut last_label = None;
    while p < end {
        if !b[p].is_ascii_alphanumeric() {
            break;
        }
        last_label = Some(p);
        let q = p + b[p..end]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
            .count();
        if b[q - 1] == b'-' {
            return None;
        }
        p = q;
        if p < end && b[p] == b'.' {
            p += 1;
        } else {
            break;
        }
    }
    if p < end && b[p] != b':' {
        return None;
    }
    let l = last_label?;
    if l > start && !b[l].is_ascii_alphabetic() {
        return None;
    }
    Some(p)
}

fn decode(s: &str) -> Cow<'_, str> {
    percent_decode_str(s).decode_utf8_lossy()
}

// ---- functions --------------------------------------------------------------------------

/// Applies `part` to the parsed URL: NULL when the text is not a URL, `''` when the URL
/// lacks the part.
fn extract(
    args: &[Value],
    part: impl for<'a> FnOnce(&Uri<'a>) -> Option<Cow<'a, str>>,
) -> FnResult {
    let t = arg_text(args, 0)?;
    let Ok(uri) = parse_uri(&t) else {
        return Ok(Value::Null);
    };
    Ok(match part(&uri) {
        Some(Cow::Borrowed(b)) => Value::Str(t.sub(b)),
        Some(Cow::Owned(o)) => Value::string(o),
        None => Value::str(""),
    })
}

fn url_extract_host(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    extract(args, |u| u.host.map(Cow::Borrowed))
}

fn url_extract_path(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    extract(args, |u| u.path.map(decode))
}

fn url_extract_protocol(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    extract(args, |u| u.scheme.map(Cow::Borrowed))
}

fn url_extract_query(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    extract(args, |u| u.query.map(decode))
}

fn url_extract_fragment(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    extract(args, |u| u.fragment.map(decode))
}

fn url_extract_port(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    Ok(parse_uri(&t)
        .ok()
        .and_then(|u| u.port)
        .map_or(Value::Null, Value::Int))
}

fn url_extract_parameter(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    let name = arg_text(args, 1)?;
    let Some(query) = parse_uri(&t).ok().and_then(|u| u.query) else {
        return Ok(Value::Null);
    };
    // Like Presto: the decoded query is split on '&', each pair on its first '='.
    let decoded = decode(query);
    for pair in decoded.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == name.as_str() {
            return Ok(match &decoded {
                Cow::Borrowed(_) => Value::Str(t.sub(value)),
                Cow::Owned(_) => Value::str(value),
            });
        }
    }
    Ok(Value::Null)
}

fn url_encode(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    if t.bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"-_.*".contains(&c))
    {
        return Ok(Value::Str(t.into_owned()));
    }
    let mut out = String::with_capacity(t.len() * 3);
    for c in t.bytes() {
        match c {
            b' ' => out.push('+'),
            c if c.is_ascii_alphanumeric() || b"-_.*".contains(&c) => out.push(c as char),
            c => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(c >> 4) as usize] as char);
                out.push(HEX[(c & 15) as usize] as char);
            }
        }
    }
    Ok(Value::string(out))
}

fn url_decode(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = arg_text(args, 0)?;
    if !t.contains(['%', '+']) {
        return Ok(Value::Str(t.into_owned()));
    }
    let b = t.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = |k: usize| b.get(k).and_then(|&c| (c as char).to_digit(16));
                let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
                    return Err(FnError::arg(
                        0,
                        format!(
                            "invalid escape at offset {i} of '{}': % must be followed by two hex digits",
                            t.as_str()
                        ),
                    ));
                };
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(Value::string(String::from_utf8_lossy(&out).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::super::string::test_support::{self, s};
    use super::*;

    test_support::family_helpers!();

    fn one(name: &str, url: &str) -> Value {
        call(name, &[s(url)]).unwrap_or_else(|e| panic!("{name}({url}): {e:?}"))
    }

    /// (protocol, host, port, path, query, fragment) as Presto returns them; `None` = NULL.
    fn parts(url: &str) -> [Value; 6] {
        [
            one("url_extract_protocol", url),
            one("url_extract_host", url),
            one("url_extract_port", url),
            one("url_extract_path", url),
            one("url_extract_query", url),
            one("url_extract_fragment", url),
        ]
    }

    fn expect(url: &str, want: [Option<&str>; 6]) {
        let got = parts(url);
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            let w = match (k, w) {
                (_, None) => Value::Null,
                (2, Some(p)) => Value::Int(p.parse().unwrap()),
                (_, Some(x)) => s(x),
            };
            assert_eq!(g, &w, "{url}: part {k}");
        }
    }

    #[test]
    fn presto_url_test_cases() {
        expect(
            "http://example.com/path1/p.php?k1=v1&k2=v2#Ref1",
            [
                Some("http"),
                Some("example.com"),
                None,
                Some("/path1/p.php"),
                Some("k1=v1&k2=v2"),
                Some("Ref1"),
            ],
        );
        expect(
            "http://example.com:8080/path1/p.php?k1=v1&k2=v2#Ref1",
            [
                Some("http"),
                Some("example.com"),
                Some("8080"),
                Some("/path1/p.php"),
                Some("k1=v1&k2=v2"),
                Some("Ref1"),
            ],
        );
        expect(
            "https://username@example.com",
            [
                Some("https"),
                Some("example.com"),
                None,
                Some(""),
                Some(""),
                Some(""),
            ],
        );
        expect(
            "https://username:password@example.com",
            [
                Some("https"),
                Some("example.com"),
                None,
                Some(""),
                Some(""),
                Some(""),
            ],
        );
        expect(
            "mailto:test@example.com",
            [Some("mailto"), Some(""), None, Some(""), Some(""), Some("")],
        );
        expect(
            "foo",
            [Some(""), Some(""), None, Some("foo"), Some(""), Some("")],
        );
        expect("http://example.com/a b", [None; 6]);
        expect("", [Some(""), Some(""), None, Some(""), Some(""), Some("")]);
    }

    #[test]
    fn hosts() {
        assert_eq!(
            one("url_extract_host", "http://[2001:db8::1]:8080/x"),
            s("[2001:db8::1]")
        );
        assert_eq!(
            one("url_extract_port", "http://[2001:db8::1]:8080/x"),
            Value::Int(8080)
        );
        assert_eq!(
            one("url_extract_host", "http://10.0.0.1:80/"),
            s("10.0.0.1")
        );
        assert_eq!(
            one("url_extract_host", "http://EXAMPLE.com./"),
            s("EXAMPLE.com.")
        );
        // Java rejects these as server names but accepts the URL: the host is ''.
        assert_eq!(one("url_extract_host", "http://my_host.com/x"), s(""));
        assert_eq!(one("url_extract_path", "http://my_host.com/x"), s("/x"));
        assert_eq!(one("url_extract_host", "http://1.2.3.4.5/"), s(""));
        assert_eq!(one("url_extract_host", "http://256.1.1.1/"), s(""));
        assert_eq!(one("url_extract_host", "http://-a.com/"), s(""));
        assert_eq!(one("url_extract_host", "http://a-.com/"), s(""));
        assert_eq!(one("url_extract_host", "http://123/"), s("123"));
        assert_eq!(one("url_extract_host", "http://例子.com/"), s(""));
        assert_eq!(one("url_extract_host", "http://[::1/"), Value::Null);
        assert_eq!(one("url_extract_host", "http://a:99999999999/"), s(""));
        assert_eq!(
            one("url_extract_port", "http://a:99999999999/"),
            Value::Null
        );
        assert_eq!(one("url_extract_port", "http://a:/"), Value::Null);
        assert_eq!(one("url_extract_host", "http:///path"), s(""));
        assert_eq!(one("url_extract_path", "http:///path"), s("/path"));
        assert_eq!(
            one("url_extract_host", "//cdn.example.com/lib.js"),
            s("cdn.example.com")
        );
    }

    #[test]
    fn invalid_urls_give_null() {
        for bad in [
            "http://",
            "://x",
            "1http://x",
            "http://x/a|b",
            "http://x/%zz",
            "http://x/#a#b",
            "http://x/\"q\"",
            "ht tp://x",
            "http://x/\u{7}",
        ] {
            assert_eq!(
                parts(bad),
                [
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null
                ],
                "{bad}"
            );
        }
        assert_eq!(one("url_extract_host", "http://x/%"), Value::Null);
    }

    #[test]
    fn decoding_of_path_query_fragment() {
        let u = "http://x/%E6%97%A5%20/p?q=a%26b&r=%2B+#f%21";
        assert_eq!(one("url_extract_path", u), s("/日 /p"));
        assert_eq!(one("url_extract_query", u), s("q=a&b&r=++"));
        assert_eq!(one("url_extract_fragment", u), s("f!"));
        assert_eq!(one("url_extract_path", "http://x/日本"), s("/日本"));
        assert_eq!(one("url_extract_query", "http://x/?a=[1]"), s("a=[1]"));
        assert_eq!(one("url_extract_path", "http://x/[1]"), Value::Null);
    }

    #[test]
    fn parameters() {
        let p = |u: &str, n: &str| call("url_extract_parameter", &[s(u), s(n)]).unwrap();
        let u = "http://example.com/path1/p.php?k1=v1&k2=v2&k3&k4#Ref1";
        assert_eq!(p(u, "k1"), s("v1"));
        assert_eq!(p(u, "k2"), s("v2"));
        assert_eq!(p(u, "k3"), s(""));
        assert_eq!(p(u, "k5"), Value::Null);
        assert_eq!(p("http://x/?a=1&a=2", "a"), s("1"));
        assert_eq!(p("http://x/?a=b=c", "a"), s("b=c"));
        assert_eq!(p("http://x/?q=x%20y", "q"), s("x y"));
        assert_eq!(p("http://x/?q=x+y", "q"), s("x+y"));
        assert_eq!(p("http://x/", "a"), Value::Null);
        assert_eq!(p("http://x/ y?a=1", "a"), Value::Null);
        assert_eq!(p("http://x/?=1", ""), s("1"));
    }

    #[test]
    fn encode_and_decode() {
        assert_eq!(
            call("url_encode", &[s("a b&c=d/é")]).unwrap(),
            s("a+b%26c%3Dd%2F%C3%A9")
        );
        assert_eq!(
            call("url_encode", &[s("safe-_.*AZaz09")]).unwrap(),
            s("safe-_.*AZaz09")
        );
        assert_eq!(
            call("url_encode", &[s("~!'()")]).unwrap(),
            s("%7E%21%27%28%29")
        );
        assert_eq!(call("url_encode", &[s("")]).unwrap(), s(""));
        assert_eq!(
            call("url_decode", &[s("a+b%26c%3Dd%2F%C3%A9")]).unwrap(),
            s("a b&c=d/é")
        );
        assert_eq!(call("url_decode", &[s("%e6%97%a5")]).unwrap(), s("日"));
        assert_eq!(call("url_decode", &[s("%FF")]).unwrap(), s("\u{fffd}"));
        assert_eq!(call("url_decode", &[s("plain")]).unwrap(), s("plain"));
        for bad in ["%", "%2", "a%zz", "%+1", "%é1"] {
            assert_eq!(
                call("url_decode", &[s(bad)]).unwrap_err().arg,
                Some(0),
                "{bad}"
            );
        }
        assert_eq!(call("url_decode", &[Value::Null]).unwrap(), Value::Null);
    }
}

//! Template mining over free text (Drain-like): lines are cut into pieces (words and
//! punctuation), grouped by length and leading literal, and merged when most pieces agree;
//! pieces that differ, or that look like values (numbers, addresses, ...), become variable
//! slots. Each template becomes an anchored regex whose groups are its slots.

use super::fields::{ValueType, classify};
use regex::Regex;
use std::sync::LazyLock;

/// One piece of a line: its text and whether whitespace came before it.
#[derive(Debug, Clone, PartialEq)]
struct Piece {
    text: String,
    space_before: bool,
    /// Whitespace-separated words in the piece: more than one for a date and time written
    /// with spaces (`30 May 12:50:13.457`), which is one value; [`QUOTED`] for the text
    /// between double quotes, one value however many words it has.
    words: usize,
}

/// The width of a quoted value (`"Mozilla/5.0 (X11; Linux)"`): any number of words.
const QUOTED: usize = 0;

/// An HTTP request line (`GET /a?b=1 HTTP/1.1`): quoted, it is three values, not one.
static REQUEST_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Z]{3,10} \S+ [A-Z]+/\d+(?:\.\d+)?$").expect("request line pattern")
});

/// A `product/version` token of a user agent (`curl/8.4.0`, `aws-sdk-java/1.11.590`).
static PRODUCT_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z][\w.-]*/[\w.-]*\d[\w.-]*,?$").expect("product token pattern")
});

/// The end of the quoted value opening at byte `start` (a `"`), escapes (`\"`) skipped:
/// the index of the closing quote, when it ends a piece (whitespace, punctuation or the end
/// follows) and the value is not an HTTP request line.
fn quoted_end(line: &str, start: usize) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => break,
            _ => i += 1,
        }
    }
    if i >= bytes.len() {
        return None;
    }
    let after = line[i + 1..].chars().next();
    if after.is_some_and(|c| !c.is_whitespace() && !",;]})".contains(c)) {
        return None;
    }
    let inner = &line[start + 1..i];
    // Words in quotes are one value when they are a client's self-description (a user
    // agent: `product/version` tokens); other quoted word lists (`"A IN example.com. udp"`)
    // are fields of their own.
    let agent = || {
        classify(inner) == ValueType::UserAgent
            || inner
                .split_whitespace()
                .filter(|w| PRODUCT_TOKEN.is_match(w))
                .count()
                >= 2
    };
    // A quoted list (`"10.0.0.2,10.0.0.1"`) is split at its commas like unquoted text.
    let word = !inner.contains(' ') && !inner.contains(',');
    (!inner.is_empty() && !REQUEST_LINE.is_match(inner) && (word || agent())).then_some(i)
}

/// A mined template.
#[derive(Debug, Clone)]
pub struct Template {
    /// `None` is a variable slot.
    pieces: Vec<(Option<String>, bool)>,
    /// Words per piece (a date and time with spaces is one slot of several words).
    widths: Vec<usize>,
    /// Indexes of the samples it covers.
    pub members: Vec<usize>,
}

/// A variable slot of a template with its context.
#[derive(Debug, Clone)]
pub struct Slot {
    /// The literal words before the slot, nearest last (lower-case).
    pub before: Vec<String>,
    /// The literal piece right after it.
    pub after: String,
    /// The value of a `key=value` pair (the piece right before it is `=`).
    pub kv: bool,
}

fn is_punct(c: char) -> bool {
    "()[]{},;=\"'<>".contains(c)
}

/// A date and time written with spaces, in the common log orders: `30 May 12:50:13.457`,
/// `Sep  6 23:08:09.371`, `2024-05-01 10:00:00,123`, `2024/05/01 10:00:00`,
/// `Mon May 30 12:50:13 2022`.
static TIME_SPAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?(?: \d{4})?",
        r"|\d{1,2} [A-Z][a-z]{2}(?: \d{4})? \d{2}:\d{2}:\d{2}(?:[.,]\d+)?",
        r"|[A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d{2}:\d{2}:\d{2}(?:[.,]\d+)?",
        r"|\d{4}[-/]\d{2}[-/]\d{2} \d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?: ?(?:Z|[+-]\d{2}:?\d{2}))?)",
        r"(?:\b|$)"
    ))
    .expect("time span pattern")
});

fn pieces(line: &str) -> Vec<Piece> {
    let spans: Vec<(usize, usize)> = TIME_SPAN
        .find_iter(line)
        .map(|m| (m.start(), m.end()))
        .filter(|(a, b)| line[*a..*b].contains(' '))
        .collect();
    let mut out = Vec::new();
    let mut space = false;
    let mut cur = String::new();
    let mut skip_to = 0;
    for (i, c) in line.char_indices() {
        if i < skip_to {
            continue;
        }
        if let Some(&(a, b)) = spans.iter().find(|(a, _)| *a == i)
            && cur.is_empty()
        {
            let text = &line[a..b];
            out.push(Piece {
                text: text.to_string(),
                space_before: space,
                words: text.split_whitespace().count(),
            });
            space = false;
            skip_to = b;
            continue;
        }
        // A quoted value is one piece between its quotes, whatever it holds.
        if c == '"'
            && cur.is_empty()
            && let Some(end) = quoted_end(line, i)
        {
            out.push(Piece {
                text: "\"".into(),
                space_before: space,
                words: 1,
            });
            let inner = &line[i + 1..end];
            out.push(Piece {
                text: inner.to_string(),
                space_before: false,
                // One word that reads as message text may be a literal; anything else is a
                // value that may have more words on another line.
                words: if inner.contains(char::is_whitespace)
                    || looks_variable(inner)
                    || PRODUCT_TOKEN.is_match(inner)
                {
                    QUOTED
                } else {
                    1
                },
            });
            out.push(Piece {
                text: "\"".into(),
                space_before: false,
                words: 1,
            });
            space = false;
            skip_to = end + 1;
            continue;
        }
        if c.is_whitespace() {
            if !cur.is_empty() {
                out.push(Piece {
                    text: std::mem::take(&mut cur),
                    space_before: space,
                    words: 1,
                });
            }
            space = true;
            continue;
        }
        // A URL or path keeps its query's `=` ("/p/x=w20", "https://h/?a=b").
        let url = cur.starts_with('/') || cur.contains("://");
        if is_punct(c) && !(c == '=' && url) {
            if !cur.is_empty() {
                out.push(Piece {
                    text: std::mem::take(&mut cur),
                    space_before: space,
                    words: 1,
                });
                space = false;
            }
            out.push(Piece {
                text: c.to_string(),
                space_before: space,
                words: 1,
            });
            space = false;
            continue;
        }
        // A trailing ':' or '.' ends a word ("client:", "failed.") but not "10.0.0.1:80".
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(Piece {
            text: cur,
            space_before: space,
            words: 1,
        });
    }
    // Split a trailing ':' off words ("error:"), keeping addresses intact; and the full stop
    // that ends a sentence off the value or word before it ("to 10.0.0.2:53.", "Deny.").
    let mut fixed = Vec::with_capacity(out.len());
    for p in out {
        if p.words == 1
            && p.text.len() > 1
            && let Some(stem) = p.text.strip_suffix('.')
            && !stem.ends_with('.')
            && (stem.chars().all(char::is_alphabetic)
                || matches!(
                    classify(stem),
                    ValueType::Ipv4
                        | ValueType::Ipv6
                        | ValueType::IpPort
                        | ValueType::Mac
                        | ValueType::Integer
                        | ValueType::Float
                ))
        {
            fixed.push(Piece {
                text: stem.to_string(),
                space_before: p.space_before,
                words: 1,
            });
            fixed.push(Piece {
                text: ".".into(),
                space_before: false,
                words: 1,
            });
        } else if p.words == 1
            && p.text.len() > 1
            && p.text.ends_with(':')
            && !p.text[..p.text.len() - 1].contains(':')
        {
            fixed.push(Piece {
                text: p.text[..p.text.len() - 1].to_string(),
                space_before: p.space_before,
                words: 1,
            });
            fixed.push(Piece {
                text: ":".into(),
                space_before: false,
                words: 1,
            });
        } else {
            fixed.push(p);
        }
    }
    fixed
}

/// Words after which a piece is a value even when it looks like a word (`for root`,
/// `user=bob`, `name=apache`).
const VALUE_AFTER: &[&str] = &["=", "for", "user", "by", "name", "host", "client"];

/// Whether a piece looks like a value rather than part of the message text.
fn looks_variable(s: &str) -> bool {
    if s.len() == 1 && !s.chars().next().unwrap().is_alphanumeric() {
        return false;
    }
    // Identifiers carry digits (`foo-1744196400-056880284`, `FEF257372D5C14D4`, `vty0`):
    // a value that happened to repeat in the samples, not message text.
    // (`ssh2`, `vty0` are names: one digit in a short word does not make a value).
    let has_digit = s.len() >= 5 && s.chars().filter(|c| c.is_ascii_digit()).count() >= 2;
    // Values of a closed vocabulary of protocol values: DNS record types and classes (two
    // letters or more: `A` is also an article) and response codes.
    let vocabulary = (s.len() > 1 && super::knowledge::is_dns_type(s))
        || (s.len() > 1 && super::knowledge::is_dns_class(s))
        || super::knowledge::is_dns_response_code(s) && s.chars().all(|c| c.is_ascii_uppercase());
    has_digit
        || vocabulary
        || !matches!(
            classify(s),
            ValueType::Word | ValueType::Text | ValueType::Severity | ValueType::Protocol
        )
        || s.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// Mines templates from messages; at most `max` templates (largest first).
pub fn mine(messages: &[&str], max: usize) -> Vec<Template> {
    let mut templates: Vec<Template> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let ps = pieces(m);
        if ps.is_empty() {
            continue;
        }
        let mut cand: Vec<(Option<String>, bool)> = Vec::with_capacity(ps.len());
        for (k, p) in ps.iter().enumerate() {
            let prev = k.checked_sub(1).map(|j| ps[j].text.to_lowercase());
            // `for faddr 10.0.0.1/80`: a word followed by a value is that value's label.
            let labels_next = ps.get(k + 1).is_some_and(|n| {
                n.space_before && looks_variable(&n.text) && !looks_variable(&p.text)
            });
            // `for invalid user admin`, `for user alice`: a word followed by a label word is
            // part of the phrase, and so is the label itself.
            let next_is_label = ps
                .get(k + 1)
                .is_some_and(|n| VALUE_AFTER.contains(&n.text.to_lowercase().as_str()));
            let is_label = VALUE_AFTER.contains(&p.text.to_lowercase().as_str())
                && ps.get(k + 1).is_some_and(|n| n.space_before);
            // `User Name: bob`: a word right before a colon is a label, not a value.
            let labels_colon = ps
                .get(k + 1)
                .is_some_and(|n| n.text == ":" && !n.space_before);
            let after_label = prev.as_deref().is_some_and(|w| VALUE_AFTER.contains(&w))
                && !labels_next
                && !labels_colon
                && !next_is_label
                && !is_label
                && p.text
                    .chars()
                    .all(|c| c.is_alphanumeric() || "_-.@$".contains(c));
            let var = p.words != 1 || looks_variable(&p.text) || after_label;
            cand.push(((!var).then(|| p.text.clone()), p.space_before));
        }
        let mut best: Option<(usize, f64)> = None;
        for (ti, t) in templates.iter().enumerate() {
            if t.pieces.len() != cand.len() || t.pieces[0].0 != cand[0].0 {
                continue;
            }
            if t.pieces.iter().zip(&cand).any(|(a, b)| a.1 != b.1) {
                continue;
            }
            if t.widths.iter().zip(&ps).any(|(w, p)| *w != p.words) {
                continue;
            }
            let same = t
                .pieces
                .iter()
                .zip(&cand)
                .filter(|(a, b)| a.0.is_some() && a.0 == b.0)
                .count();
            let lits = t.pieces.iter().filter(|p| p.0.is_some()).count().max(1);
            let sim = same as f64 / lits as f64;
            if sim >= 0.6 && best.is_none_or(|(_, s)| sim > s) {
                best = Some((ti, sim));
            }
        }
        match best {
            Some((ti, _)) => {
                let t = &mut templates[ti];
                for (a, b) in t.pieces.iter_mut().zip(&cand) {
                    if a.0 != b.0 {
                        a.0 = None;
                    }
                }
                t.members.push(i);
            }
            None => templates.push(Template {
                pieces: cand,
                widths: ps.iter().map(|p| p.words).collect(),
                members: vec![i],
            }),
        }
    }
    templates.sort_by_key(|t| std::cmp::Reverse(t.members.len()));
    templates.truncate(max);
    templates
}

impl Template {
    /// The anchored RE2 pattern; one group per slot.
    pub fn regex(&self) -> String {
        let mut re = String::from("^");
        for (i, (p, space)) in self.pieces.iter().enumerate() {
            if *space {
                re.push_str(r"\s+");
            }
            match p {
                Some(lit) => re.push_str(&regex::escape(lit)),
                None if self.widths.get(i) == Some(&QUOTED) => {
                    re.push_str(r#"((?:[^"\\]|\\.)*)"#);
                }
                None if self.widths.get(i).is_some_and(|w| *w > 1) => {
                    let w = self.widths[i];
                    re.push_str(&format!(r"(\S+(?:\s+\S+){{{}}})", w - 1));
                }
                None => {
                    let next = self.pieces.get(i + 1);
                    match next {
                        None => re.push_str("(.+?)"),
                        Some((_, true)) => re.push_str(r"(\S+)"),
                        // A value before the full stop that ends its sentence may hold dots
                        // itself (an address): the shortest run up to a stop.
                        Some((Some(l), false)) if l == "." => re.push_str(r"(\S+?)"),
                        Some((Some(l), false)) => {
                            let c = l.chars().next().unwrap();
                            re.push_str(&format!("([^\\s{}]+)", regex::escape(&c.to_string())));
                        }
                        Some((None, false)) => re.push_str(r"(\S+?)"),
                    }
                }
            }
        }
        re.push_str(r"\s*$");
        re
    }

    /// The slots with their context.
    pub fn slots(&self) -> Vec<Slot> {
        let mut out = Vec::new();
        for (i, (p, _)) in self.pieces.iter().enumerate() {
            if p.is_some() {
                continue;
            }
            let before: Vec<String> = self.pieces[..i]
                .iter()
                .rev()
                .filter_map(|(p, _)| p.as_ref())
                .filter(|w| w.chars().any(|c| c.is_alphanumeric()))
                .take(3)
                .map(|w| w.to_lowercase())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let after = self
                .pieces
                .get(i + 1)
                .and_then(|p| p.0.clone())
                .unwrap_or_default();
            let lit = |k: usize| self.pieces.get(k).and_then(|p| p.0.as_deref());
            // `key=value` or `key="quoted value"`.
            let kv = (i > 0 && lit(i - 1) == Some("="))
                || (i > 1 && lit(i - 1) == Some("\"") && lit(i - 2) == Some("="));
            out.push(Slot { before, after, kv });
        }
        out
    }

    /// The literal pieces of the template, in order.
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|(p, _)| p.as_deref())
    }

    /// The template text with `<*>` for slots.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for (p, space) in &self.pieces {
            if *space && !s.is_empty() {
                s.push(' ');
            }
            s.push_str(p.as_deref().unwrap_or("<*>"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_message_types_separately() {
        let lines = [
            "Failed password for root from 10.0.0.1 port 22 ssh2",
            "Failed password for admin from 10.0.0.2 port 2222 ssh2",
            "Accepted password for bob from 10.0.0.3 port 22 ssh2",
            "Invalid user test from 10.0.0.4",
        ];
        let t = mine(&lines, 10);
        assert_eq!(t.len(), 3);
        assert_eq!(
            t[0].text(),
            "Failed password for <*> from <*> port <*> ssh2"
        );
        let re = regex::Regex::new(&t[0].regex()).unwrap();
        let c = re.captures(lines[1]).unwrap();
        assert_eq!(&c[1], "admin");
        assert_eq!(&c[2], "10.0.0.2");
        assert_eq!(t[0].slots()[1].before.last().unwrap(), "from");
    }

    #[test]
    fn a_date_and_time_with_spaces_is_one_slot() {
        let t = mine(
            &[
                "4961:M 30 May 12:50:13.457 * DB loaded from disk",
                "4961:M 30 May 12:50:14.001 * DB loaded from disk",
            ],
            5,
        );
        assert_eq!(t.len(), 1);
        // The month is part of the value, not a literal: June lines still parse.
        let re = Regex::new(&t[0].regex()).unwrap();
        let c = re
            .captures("4961:M 2 Jun 08:00:00.100 * DB loaded from disk")
            .unwrap();
        assert_eq!(&c[2], "2 Jun 08:00:00.100");
        let t = mine(&["x Sep  6 23:08:09.371: %LOG-4-Q_IND: dropped"], 5);
        assert!(t[0].text().starts_with("x <*>"), "{}", t[0].text());
    }

    #[test]
    fn punctuation_splits_values() {
        let t = mine(
            &["No MD5 digest from 192.168.0.1(64999) to 224.0.0.18(15448)"],
            5,
        );
        assert_eq!(t[0].text(), "No MD5 digest from <*>(<*>) to <*>(<*>)");
        let re = regex::Regex::new(&t[0].regex()).unwrap();
        assert!(re.is_match("No MD5 digest from 10.0.0.1(1) to 10.0.0.2(2)"));
    }

    #[test]
    fn a_quoted_user_agent_is_one_slot_and_a_request_line_three() {
        let t = mine(
            &[
                r#"10.0.0.1 "GET /a HTTP/1.1" 200 "Mozilla/5.0 (X11; Linux) Firefox/126.0" "-""#,
                r#"10.0.0.2 "GET /b HTTP/1.1" 404 "curl/8.4.0" "-""#,
            ],
            5,
        );
        assert_eq!(
            t.len(),
            1,
            "{:?}",
            t.iter().map(Template::text).collect::<Vec<_>>()
        );
        let re = Regex::new(&t[0].regex()).unwrap();
        let c = re
            .captures(r#"10.0.0.3 "PUT /c HTTP/2" 201 "Mozilla/5.0 (Windows NT 10.0; Win64) Chrome/125.0 Safari/537.36" "-""#)
            .unwrap();
        // Address, method, path, version, status, user agent.
        assert_eq!(c.len() - 1, 6, "{}", t[0].text());
        assert_eq!(&c[2], "PUT");
        assert_eq!(
            &c[6],
            "Mozilla/5.0 (Windows NT 10.0; Win64) Chrome/125.0 Safari/537.36"
        );
        // A quoted list of words that is not a user agent stays split.
        let t = mine(&[r#"q "A IN example.com. udp 57" ok"#], 5);
        assert!(
            t[0].text().starts_with(r#"q "A <*> <*> udp"#),
            "{}",
            t[0].text()
        );
    }
}

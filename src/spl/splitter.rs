//! The `parse-regexp` splitter: a pattern that is a start-anchored sequence of literals,
//! character-class runs and quoted strings, where every run is followed by something it
//! cannot match, has exactly one way to match. Such a pattern is compiled at plan time into
//! byte-level steps (scan a run, expect a literal, mark a group) that give the same groups
//! as the regex without running an automaton. Anything else is refused and the regex runs.
//!
//! Classes are decided on ASCII bytes by a table. Non-ASCII characters are either all in a
//! class (`[^\]]`, `.`), none in it (`[A-Z]`), or some (`\S`, `\d`, `\s`: Unicode-aware):
//! for the last kind a non-ASCII byte met while scanning hands the line back to the regex.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// Which non-ASCII characters a class holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum NonAscii {
    All,
    None,
    /// Some: a non-ASCII byte in such a run sends the line to the regex.
    Some,
}

#[derive(Debug, Clone)]
struct Set {
    ascii: [bool; 128],
    non_ascii: NonAscii,
}

impl Set {
    fn from_class(c: &Class) -> Option<Set> {
        let Class::Unicode(u) = c else { return None };
        let mut ascii = [false; 128];
        let (mut some_above, mut all_above) = (false, false);
        for r in u.ranges() {
            let (lo, hi) = (r.start() as u32, r.end() as u32);
            for b in lo..=hi.min(127) {
                ascii[b as usize] = true;
            }
            if hi >= 0x80 {
                some_above = true;
                if lo <= 0x80 && hi >= 0x10_FFFF {
                    all_above = true;
                }
            }
        }
        // Ranges are merged and sorted, but a class such as `[^\n]` splits around the
        // surrogates; it holds every non-ASCII scalar when its ranges cover 0x80..=0xD7FF and
        // 0xE000..=0x10FFFF.
        if !all_above {
            let covers = |a: u32, b: u32| {
                u.ranges()
                    .iter()
                    .any(|r| (r.start() as u32) <= a && (r.end() as u32) >= b)
            };
            all_above = covers(0x80, 0xD7FF) && covers(0xE000, 0x10_FFFF);
        }
        let non_ascii = match (some_above, all_above) {
            (_, true) => NonAscii::All,
            (false, _) => NonAscii::None,
            _ => NonAscii::Some,
        };
        Some(Set { ascii, non_ascii })
    }

    /// Whether a run of this set, followed by a run of `next`, has one length: what it takes
    /// is never in `next`. ASCII bytes are decided by the tables; a non-ASCII character stops
    /// a run without them and sends a line to the regex from a run with some of them, so only
    /// a run taking all of them can take a character `next` might want.
    fn stops_before_run(&self, next: &Set) -> bool {
        (0..128).all(|b| !(self.ascii[b] && next.ascii[b]))
            && !(self.non_ascii == NonAscii::All && next.non_ascii != NonAscii::None)
    }

    /// Whether a run of this set stops at (or hands the line to the regex at) byte `b`, the
    /// first byte of a literal.
    fn stops_before(&self, b: u8) -> bool {
        if b < 128 {
            !self.ascii[b as usize]
        } else {
            self.non_ascii != NonAscii::All
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Literal(Box<[u8]>),
    /// A greedy run of `min..=max` characters of `set`.
    Run {
        set: Set,
        min: u32,
        max: Option<u32>,
    },
    /// `(?:[^Q\\]|\\.)*`: characters other than the quote `Q` and backslash, or a backslash
    /// and any character but a newline.
    Quoted(u8),
    /// `.+?` or `.*?` (`min` 1 or 0) before `\s*$`: the rest of the line without its
    /// trailing whitespace; `dotall` when `.` takes newlines too (`(?s)`).
    LazyRest {
        min: u32,
        dotall: bool,
    },
    Open(usize),
    Close(usize),
    End,
}

/// A compiled splitter (see the module documentation).
#[derive(Debug, Clone)]
pub struct Splitter {
    steps: Vec<Step>,
    groups: usize,
}

/// What the splitter made of a subject.
#[derive(Debug, PartialEq)]
pub enum Split {
    Match,
    NoMatch,
    /// A non-ASCII character met a Unicode class: run the regex instead.
    Fallback,
}

impl Splitter {
    /// Compiles `pattern` (with its flags), or `None` when it is not a shape the splitter
    /// handles exactly.
    pub fn new(pattern: &str) -> Option<Splitter> {
        let hir = regex_syntax::parse(pattern).ok()?;
        let mut steps = Vec::new();
        let items: &[Hir] = match hir.kind() {
            HirKind::Concat(items) => items,
            _ => std::slice::from_ref(&hir),
        };
        let (first, rest) = items.split_first()?;
        if !matches!(first.kind(), HirKind::Look(Look::Start)) {
            return None;
        }
        for h in rest {
            flatten(h, &mut steps)?;
        }
        if let Some(i) = steps.iter().position(|s| matches!(s, Step::End))
            && i + 1 != steps.len()
        {
            return None;
        }
        // A lazy rest is only understood before `\s*$`.
        if let Some(i) = steps
            .iter()
            .position(|s| matches!(s, Step::LazyRest { .. }))
        {
            let after: Vec<&Step> = steps[i + 1..]
                .iter()
                .filter(|n| !matches!(n, Step::Close(_)))
                .collect();
            match after.as_slice() {
                [
                    Step::Run {
                        set,
                        min: 0,
                        max: None,
                    },
                    Step::End,
                ] if is_space(set) => {}
                _ => return None,
            }
        }
        // Every run must be followed by something it cannot match: then it has one length.
        for (i, s) in steps.iter().enumerate() {
            let next = steps[i + 1..]
                .iter()
                .find(|n| !matches!(n, Step::Open(_) | Step::Close(_)));
            let ok = match (s, next) {
                // A fixed count (`\d\d`, `[a-z]{2}`) takes exactly that many or fails.
                (
                    Step::Run {
                        min, max: Some(m), ..
                    },
                    _,
                ) if min == m => true,
                (Step::Run { .. } | Step::Quoted(_), None | Some(Step::End)) => true,
                // The run takes all it can and the rest is the lazy part's; only when nothing
                // is left for a `.+?` could the regex take a character back from the run, and
                // then the line goes to the regex (`LazyRest`).
                (Step::Run { .. }, Some(Step::LazyRest { .. })) => true,
                (Step::Run { set, .. }, Some(Step::Literal(l))) => set.stops_before(l[0]),
                (Step::Run { set, .. }, Some(Step::Run { set: other, .. })) => {
                    set.stops_before_run(other)
                }
                (Step::Quoted(q), Some(Step::Literal(l))) => l[0] == *q,
                (Step::Run { .. } | Step::Quoted(_), Some(_)) => false,
                _ => true,
            };
            if !ok {
                return None;
            }
        }
        let groups = hir.properties().explicit_captures_len();
        Some(Splitter { steps, groups })
    }

    /// Matches `s`, writing each group's byte span into `spans` (index 0 is the first group).
    pub fn split(&self, s: &str, spans: &mut Vec<(usize, usize)>) -> Split {
        let b = s.as_bytes();
        spans.clear();
        spans.resize(self.groups, (0, 0));
        let mut pos = 0;
        for step in &self.steps {
            match step {
                Step::Literal(l) => {
                    if !b[pos..].starts_with(l) {
                        return Split::NoMatch;
                    }
                    pos += l.len();
                }
                Step::Run { set, min, max } => {
                    let limit = max.map_or(usize::MAX, |m| m as usize);
                    let mut n = 0;
                    while n < limit {
                        let Some(&c) = b.get(pos + n) else { break };
                        if c < 128 {
                            if !set.ascii[c as usize] {
                                break;
                            }
                        } else {
                            match set.non_ascii {
                                NonAscii::None => break,
                                NonAscii::Some => return Split::Fallback,
                                NonAscii::All => {}
                            }
                        }
                        n += 1;
                    }
                    // Counted in bytes: runs with a maximum or a minimum above one hold no
                    // non-ASCII character or hand it to the regex (see `flatten`); for the
                    // others one byte is enough to know a character was taken.
                    if n < *min as usize {
                        return Split::NoMatch;
                    }
                    pos += n;
                }
                Step::Quoted(q) => loop {
                    match b.get(pos) {
                        Some(&c) if c == *q => break,
                        Some(b'\\') => match b.get(pos + 1) {
                            Some(b'\n') | None => break,
                            // The escaped character's other bytes (if any) are continuation
                            // bytes: neither the quote nor a backslash, so they scan as plain.
                            Some(_) => pos += 2,
                        },
                        Some(_) => pos += 1,
                        None => break,
                    }
                },
                Step::LazyRest { min, dotall } => {
                    let rest = &s[pos..];
                    let mut end = rest.trim_end_matches(char::is_whitespace).len();
                    if end == 0 && *min == 1 {
                        match rest.chars().next() {
                            Some(c) => end = c.len_utf8(),
                            // A run before may give a character back: the regex decides.
                            None => return Split::Fallback,
                        }
                    }
                    if !dotall && rest.as_bytes()[..end].contains(&b'\n') {
                        return Split::NoMatch;
                    }
                    pos += end;
                }
                Step::Open(g) => spans[*g - 1].0 = pos,
                Step::Close(g) => spans[*g - 1].1 = pos,
                Step::End => {
                    if pos != b.len() {
                        return Split::NoMatch;
                    }
                }
            }
        }
        Split::Match
    }
}

fn flatten(h: &Hir, steps: &mut Vec<Step>) -> Option<()> {
    match h.kind() {
        HirKind::Empty => {}
        HirKind::Literal(l) => match steps.last_mut() {
            Some(Step::Literal(prev)) => {
                let mut joined = prev.to_vec();
                joined.extend_from_slice(&l.0);
                *prev = joined.into_boxed_slice();
            }
            _ => steps.push(Step::Literal(l.0.clone())),
        },
        HirKind::Class(c) => {
            let set = Set::from_class(c)?;
            if set.non_ascii == NonAscii::All {
                // One character that may take several bytes: not counted by bytes.
                return None;
            }
            steps.push(Step::Run {
                set,
                min: 1,
                max: Some(1),
            });
        }
        HirKind::Repetition(r) if !r.greedy => {
            let HirKind::Class(c) = r.sub.kind() else {
                return None;
            };
            let set = Set::from_class(c)?;
            let any_but_newline = (0..128).all(|b| set.ascii[b] == (b != b'\n' as usize));
            let any = (0..128).all(|b| set.ascii[b]);
            if set.non_ascii != NonAscii::All
                || !(any || any_but_newline)
                || r.min > 1
                || r.max.is_some()
            {
                return None;
            }
            steps.push(Step::LazyRest {
                min: r.min,
                dotall: any,
            });
        }
        HirKind::Repetition(r) if r.greedy => {
            let set = match r.sub.kind() {
                HirKind::Class(c) => Some(Set::from_class(c)?),
                HirKind::Literal(l) if l.0.len() == 1 && l.0[0] < 128 => {
                    let mut ascii = [false; 128];
                    ascii[l.0[0] as usize] = true;
                    Some(Set {
                        ascii,
                        non_ascii: NonAscii::None,
                    })
                }
                _ => None,
            };
            if let Some(set) = set {
                // Counted runs count bytes: a class holding every non-ASCII character would
                // count a multi-byte character several times (with `Some`, such a character
                // sends the line to the regex before it is counted).
                let counted = r.max.is_some() || r.min > 1;
                if counted && set.non_ascii == NonAscii::All {
                    return None;
                }
                steps.push(Step::Run {
                    set,
                    min: r.min,
                    max: r.max,
                });
            } else {
                steps.push(Step::Quoted(quoted_idiom(&r.sub)?));
                if r.min != 0 || r.max.is_some() {
                    return None;
                }
            }
        }
        HirKind::Capture(c) => {
            steps.push(Step::Open(c.index as usize));
            flatten(&c.sub, steps)?;
            steps.push(Step::Close(c.index as usize));
        }
        HirKind::Concat(items) => {
            for i in items {
                flatten(i, steps)?;
            }
        }
        HirKind::Look(Look::End) => steps.push(Step::End),
        _ => return None,
    }
    Some(())
}

/// Whether `set` is `\s`: ASCII whitespace as the regex crate has it (Unicode White_Space),
/// and some non-ASCII characters.
fn is_space(set: &Set) -> bool {
    set.non_ascii == NonAscii::Some
        && (0u8..128).all(|b| set.ascii[b as usize] == matches!(b, b'\t'..=b'\r' | b' '))
}

/// The quote of `[^Q\\]|\\.` (any character but `Q` and backslash, or a backslash and any
/// character but a newline), the body of a quoted string.
fn quoted_idiom(h: &Hir) -> Option<u8> {
    let HirKind::Alternation(alts) = h.kind() else {
        return None;
    };
    let [plain, escaped] = alts.as_slice() else {
        return None;
    };
    let HirKind::Class(plain) = plain.kind() else {
        return None;
    };
    let plain = Set::from_class(plain)?;
    let missing: Vec<u8> = (0u8..128).filter(|&b| !plain.ascii[b as usize]).collect();
    let [a, b] = missing.as_slice() else {
        return None;
    };
    let quote = match (*a, *b) {
        (b'\\', q) | (q, b'\\') => q,
        _ => return None,
    };
    if plain.non_ascii != NonAscii::All {
        return None;
    }
    let HirKind::Concat(pair) = escaped.kind() else {
        return None;
    };
    let [backslash, any] = pair.as_slice() else {
        return None;
    };
    let (HirKind::Literal(l), HirKind::Class(any)) = (backslash.kind(), any.kind()) else {
        return None;
    };
    let any = Set::from_class(any)?;
    let all_but_newline = (0..128).all(|b| any.ascii[b] == (b != b'\n' as usize));
    (&*l.0 == b"\\" && all_but_newline && any.non_ascii == NonAscii::All).then_some(quote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_patterns_the_splitter_takes() {
        for p in [
            r#"^(\S+) - (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d+) (\d+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"\s*$"#,
            r"^([A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d) (\S+) ([^\s\[:]+)\[(\d+)\]: (.*)$",
            r"^(\w+)=(\d+)",
            r"^([^,]*),([^,]*),(.*)$",
            // `soc suggest`'s template shape.
            r"^Connector\s+(\S+)\s+started\s+\|\s+(\S+)\s+\|\s+(.+?)\s*$",
            r"(?s)^<(\d{1,3})>(1) (\S+) (\S+) (.*)$",
        ] {
            assert!(Splitter::new(p).is_some(), "{p}");
        }
        for p in [
            r"(\S+) (\S+)",  // not anchored
            r"^(\S+)(\d+)",  // \S+ can eat the digits
            r"^(.*) (\S+)$", // .* can eat the space
            r"^(ab|a) c",    // alternation
            r"^(\S+)?x",     // optional group
            r"^(\S+?) x",    // lazy
            r"^([A-Z]+) (([^?\s]*)(\?\S*)?) HTTP/(\d(?:\.\d)?)$",
            r"(?m)^(\S+)$",   // line anchors
            r"^(é{2}) x",     // counted non-ASCII
            r"^(\S+?)\. x",   // lazy run before a literal it can take
            r"^(.+?) (\S+)$", // lazy part not before `\s*$`
        ] {
            assert!(Splitter::new(p).is_none(), "{p}");
        }
    }

    #[test]
    fn unicode_classes_hand_non_ascii_lines_to_the_regex() {
        let s = Splitter::new(r"^(\S+) (\d+)$").unwrap();
        let mut spans = Vec::new();
        assert_eq!(s.split("abc 12", &mut spans), Split::Match);
        assert_eq!(spans, [(0, 3), (4, 6)]);
        assert_eq!(s.split("ab\u{2003}c 12", &mut spans), Split::Fallback);
        assert_eq!(s.split("abc x", &mut spans), Split::NoMatch);
    }
}

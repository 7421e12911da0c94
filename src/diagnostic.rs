//! Spans and the one `Diagnostic` type every layer reports with, plus its one text renderer.
//!
//! Owns: `Span`, `Spanned<T>`, `Diagnostic`, `Label`, `Severity`, the code table and
//! `render_text`. Depends on nothing else in the crate.

use serde::Serialize;
use std::fmt;

/// A half-open byte range `[start, end)` into the source text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A node with the span of source text it came from.
///
/// Equality ignores the span, so that two ASTs parsed from differently formatted text compare
/// equal when they mean the same (the printer round-trip property relies on this).
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.node
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

/// A span with a short text shown under it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    pub span: Span,
    pub text: String,
    pub primary: bool,
}

/// The one error/warning type of the crate: a stable code, a message, labelled spans and hints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Stable code (`E1xx` parse, `E2xx` plan, `E3xx` runtime, `E4xx` infer, `W...` warnings).
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub hints: Vec<String>,
}

/// The code table. A code is never reused for another meaning.
pub mod codes {
    pub const SYNTAX: &str = "E100";
    pub const UNTERMINATED_STRING: &str = "E101";
    pub const UNKNOWN_INSTRUCTION: &str = "E102";
    pub const SCRIPT_TOO_LONG: &str = "E103";
    pub const TOO_DEEP: &str = "E104";
    pub const BAD_NUMBER: &str = "E105";
    pub const TOO_MANY_STAGES: &str = "E106";
    pub const UNKNOWN_FUNCTION: &str = "E200";
    pub const ARITY: &str = "E201";
    pub const BAD_REGEX: &str = "E202";
    pub const GROUP_COUNT: &str = "E203";
    pub const UNKNOWN_OPTION: &str = "E204";
    pub const BAD_OPTION: &str = "E205";
    pub const BAD_ARGUMENT: &str = "E206";
    pub const UNKNOWN_DATASET: &str = "E207";
    pub const DUPLICATE_OUTPUT: &str = "E208";
    pub const TYPE_MISMATCH: &str = "E209";
    pub const BAD_JSONPATH: &str = "E210";
    pub const BAD_LAMBDA: &str = "E211";
    pub const NO_OUTPUT: &str = "E212";
    pub const RUNTIME: &str = "E300";
    pub const CAST_FAILED: &str = "E301";
    pub const DIVISION_BY_ZERO: &str = "E302";
    pub const BUDGET: &str = "E303";
    pub const NOT_BOOLEAN: &str = "E304";
    pub const NO_SAMPLES: &str = "E400";
    pub const UNKNOWN_FORMAT: &str = "E401";
    pub const RULE_REJECTED: &str = "E402";
    pub const INPUT_TOO_LARGE: &str = "E403";
    pub const BINARY_INPUT: &str = "E404";
    pub const SLS_EXTENSION: &str = "W100";
    pub const FIELD_AS_STRING: &str = "W101";
    pub const SEARCH_IGNORED: &str = "W102";
    pub const TIME_FIELD_OUTPUT: &str = "W103";
    pub const DUPLICATE_RENAME_TARGET: &str = "W104";
    pub const SLOW_PATTERN: &str = "W105";
    pub const COERCION: &str = "W300";
    pub const LOW_COVERAGE: &str = "W400";
    pub const UNKNOWN_MODEL_FIELD: &str = "W410";
    pub const MODEL_TYPE_MISMATCH: &str = "W411";
    pub const DISALLOWED_VALUE: &str = "W412";
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            hints: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// A note: nothing is wrong, but something could be better (e.g. faster).
    pub fn note(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(code, message)
        }
    }

    /// Adds the primary label.
    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
            primary: true,
        });
        self
    }

    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
            primary: false,
        });
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The primary span, if any.
    pub fn span(&self) -> Option<Span> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
            .map(|l| l.span)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders with carets under the spans of `source`; `origin` names the source (a file name).
    pub fn render(&self, source: &str, origin: &str) -> String {
        render_text(self, source, origin)
    }

    /// JSON form for the API: the diagnostic plus line/column of the primary span and the
    /// rendered text.
    pub fn to_json(&self, source: &str) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("diagnostic serializes");
        if let Some(span) = self.span() {
            let (line, col) = line_col(source, span.start as usize);
            v["line"] = line.into();
            v["column"] = col.into();
        }
        v["rendered"] = render_text(self, source, "rule").into();
        v
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}",
            severity_word(self.severity),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for Diagnostic {}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The one text renderer: message, `--> origin:line:col`, the source line, carets, hints.
/// No colour and no trailing spaces, so output is stable for snapshots.
pub fn render_text(d: &Diagnostic, source: &str, origin: &str) -> String {
    let mut out = format!("{d}\n");
    // (line, col, start, end, label); the primary label's place heads the snippet.
    let mut placed: Vec<(usize, usize, usize, usize, &Label)> = d
        .labels
        .iter()
        .map(|label| {
            let start = floor_char_boundary(source, (label.span.start as usize).min(source.len()));
            let end =
                floor_char_boundary(source, (label.span.end as usize).min(source.len())).max(start);
            let (line, col) = line_col(source, start);
            (line, col, start, end, label)
        })
        .collect();
    if let Some(p) = placed.iter().find(|p| p.4.primary).or(placed.first()) {
        out.push_str(&format!("  --> {origin}:{}:{}\n", p.0, p.1));
    }
    placed.sort_by_key(|p| (p.0, p.1));
    let width = placed
        .iter()
        .map(|p| p.0.to_string().len())
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(width);
    let mut last_line = 0;
    for (line, col, start, end, label) in placed {
        if line != last_line {
            let line_start = source[..start].rfind('\n').map_or(0, |p| p + 1);
            let line_end = source[start..]
                .find('\n')
                .map_or(source.len(), |p| start + p);
            out.push_str(&format!(
                "{pad} |\n{line:>width$} | {}\n",
                source[line_start..line_end].trim_end()
            ));
            last_line = line;
        }
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |p| start + p);
        let carets = source[start..end.min(line_end)].chars().count().max(1);
        let mark = if label.primary { "^" } else { "-" };
        let mut caret_line = format!("{pad} | {}{}", " ".repeat(col - 1), mark.repeat(carets));
        if !label.text.is_empty() {
            caret_line.push(' ');
            caret_line.push_str(&label.text);
        }
        out.push_str(caret_line.trim_end());
        out.push('\n');
    }
    for hint in &d.hints {
        out.push_str(&format!("  = hint: {hint}\n"));
    }
    out
}

/// Levenshtein-based "did you mean": the closest candidate within a distance that scales
/// with the length of the word.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_l = word.to_ascii_lowercase();
    let max = (word.len() / 3).max(1) + usize::from(word.len() > 6);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word_l, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= max)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions, so
/// `coutn` is one edit from `count`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let src = "* | where x >\n  | extend y = 1";
        let d = Diagnostic::error(codes::SYNTAX, "expected an expression")
            .with_label(Span::new(12, 13), "after this operator")
            .with_hint("complete the comparison");
        insta::assert_snapshot!(d.render(src, "rule.spl"), @r"
        error[E100]: expected an expression
          --> rule.spl:1:13
          |
        1 | * | where x >
          |             ^ after this operator
          = hint: complete the comparison
        ");
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("", 5), (1, 1));
    }

    #[test]
    fn did_you_mean_finds_close_names() {
        assert_eq!(
            did_you_mean("regexp_extrat", ["regexp_extract", "lower"]),
            Some("regexp_extract")
        );
        assert_eq!(did_you_mean("zzz", ["regexp_extract", "lower"]), None);
        assert_eq!(
            did_you_mean("projet", ["project", "project-away"]),
            Some("project")
        );
        assert_eq!(did_you_mean("coutn", ["count", "sum"]), Some("count"));
    }
}

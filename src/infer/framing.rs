//! Multi-line framing: detects when one event spans several lines (stack traces, indented
//! continuation lines, pretty-printed JSON) and expresses it as a first-line pattern, the
//! same unanchored regex `soc normalize --first-line` takes.

use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

/// A detected framing: records start at lines matching `first_line`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Framing {
    /// The first-line regex (starts with `^`).
    pub first_line: String,
    /// Why: what the first lines and the continuation lines look like.
    pub evidence: String,
}

/// Candidate first-line shapes, most specific first: (regex, description).
const FIRST_LINES: &[(&str, &str)] = &[
    (r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", "an ISO date and time"),
    (
        r"^\[\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}",
        "a bracketed ISO date and time",
    ),
    (
        r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}",
        "a slash-separated date and time",
    ),
    (r"^<\d{1,3}>", "a syslog priority"),
    (
        r"^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}",
        "a syslog timestamp",
    ),
    (r"^\d{2}:\d{2}:\d{2}", "a time of day"),
    (
        r"^(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\b",
        "a level word",
    ),
    (r"^\{", "an opening brace"),
    (r"^\S", "a non-blank character"),
];

/// Lines that continue the previous record.
static CONTINUATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\s|at |Caused by:|\.\.\. \d+ more|[}\]]|[\w.$]+(Exception|Error|Throwable)\b)")
        .expect("static regex")
});

/// Detects multi-line framing in sample lines; `None` when every line is its own event.
pub fn detect(lines: &[&str]) -> Option<Framing> {
    let lines: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    if lines.len() < 2 {
        return None;
    }
    for (pattern, what) in FIRST_LINES {
        let re = Regex::new(pattern).expect("static regex");
        if !re.is_match(lines[0]) {
            continue;
        }
        let starts = lines.iter().filter(|l| re.is_match(l)).count();
        let rest: Vec<&&str> = lines.iter().filter(|l| !re.is_match(l)).collect();
        if rest.is_empty() {
            // Every line starts a record under this shape: single-line events.
            return None;
        }
        if rest.iter().all(|l| CONTINUATION.is_match(l)) {
            return Some(Framing {
                first_line: (*pattern).to_string(),
                evidence: format!(
                    "{starts} of {} lines start with {what}; the other {} are continuation lines (indented, `at ...`, `Caused by:`, closing brackets or exception names)",
                    lines.len(),
                    rest.len()
                ),
            });
        }
    }
    None
}

/// Joins lines into records at each line matching `first_line` (lines before the first
/// match form a record of their own). Record text keeps its inner line ends (`\n`).
pub fn frame(lines: &[&str], first_line: &str) -> Result<Vec<String>, regex::Error> {
    let re = Regex::new(first_line)?;
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        match out.last_mut() {
            Some(cur) if !re.is_match(l) => {
                cur.push('\n');
                cur.push_str(l);
            }
            _ => out.push((*l).to_string()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_stack_traces_frame_at_timestamps() {
        let lines = [
            "2024-05-01 10:00:00,123 ERROR [main] c.e.App - boom",
            "java.lang.IllegalStateException: bad state",
            "\tat com.example.App.run(App.java:42)",
            "\tat com.example.App.main(App.java:7)",
            "Caused by: java.io.IOException: disk",
            "\t... 2 more",
            "2024-05-01 10:00:01,000 INFO [main] c.e.App - recovered",
        ];
        let f = detect(&lines).unwrap();
        assert_eq!(f.first_line, r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}");
        let records = frame(&lines, &f.first_line).unwrap();
        assert_eq!(records.len(), 2);
        assert!(records[0].ends_with("... 2 more"));
    }

    #[test]
    fn pretty_printed_json_frames_at_braces() {
        let lines = [
            "{",
            "  \"a\": 1,",
            "  \"b\": [1, 2]",
            "}",
            "{",
            "  \"a\": 2",
            "}",
        ];
        let f = detect(&lines).unwrap();
        assert_eq!(f.first_line, r"^\{");
        assert_eq!(frame(&lines, &f.first_line).unwrap().len(), 2);
    }

    #[test]
    fn indented_continuations_frame_at_non_blank_starts() {
        let lines = [
            "Traceback follows for job 7",
            "  File \"x.py\", line 1",
            "    raise ValueError",
            "next event",
        ];
        let f = detect(&lines).unwrap();
        assert_eq!(f.first_line, r"^\S");
        assert_eq!(frame(&lines, &f.first_line).unwrap().len(), 2);
    }

    #[test]
    fn single_line_logs_are_not_framed() {
        let lines = [
            "Feb 21 21:54:44 host sshd[3402]: Accepted publickey for a from 10.0.2.2 port 63673 ssh2",
            "Feb 21 21:56:12 host sshd[3430]: Invalid user test from 10.0.2.2",
        ];
        assert_eq!(detect(&lines), None);
        // Mixed shapes that are not continuations are not joined either.
        let mixed = [
            "2024-05-01 10:00:00 a",
            "plain text line",
            "2024-05-01 10:00:01 b",
        ];
        assert_eq!(detect(&mixed), None);
        assert_eq!(detect(&["one line"]), None);
    }
}

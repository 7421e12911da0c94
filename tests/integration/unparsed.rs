//! `Runner::parse_outcome`: which events went through without any parse stage matching
//! (issue 11), per parse instruction.

use agentic_soc::event::{Event, Text};
use agentic_soc::spl::{self, ParseOutcome};

/// The parse outcome of `rule` on one raw line.
fn outcome(rule: &str, line: &str) -> ParseOutcome {
    let plan = spl::compile(rule).unwrap_or_else(|d| panic!("{rule}: {d:?}"));
    let mut runner = spl::Runner::new(&plan);
    let event: Event = runner.line_event(Text::new(line));
    let mut out = Vec::new();
    runner.run_event(event, &mut out).unwrap();
    runner.parse_outcome()
}

fn o(tried: u32, matched: u32) -> ParseOutcome {
    ParseOutcome { tried, matched }
}

#[test]
fn each_parse_instruction_says_whether_it_matched() {
    let cases = [
        ("* | parse-regexp content, '(\\d+)' as n", "abc 12", o(1, 1)),
        ("* | parse-regexp content, '(\\d+)' as n", "abc", o(1, 0)),
        ("* | parse-json content", r#"{"a": 1}"#, o(1, 1)),
        ("* | parse-json content", "[1, 2]", o(1, 0)),
        ("* | parse-json content", "not json", o(1, 0)),
        ("* | parse-json -path='$.x' content", r#"{"a": 1}"#, o(1, 0)),
        ("* | parse-csv content as a, b", "1,2", o(1, 1)),
        ("* | parse-csv content as a, b", "1", o(1, 0)),
        ("* | parse-csv -strict content as a, b", "1,2,3", o(1, 0)),
        ("* | parse-kv content", "a=1 b=2", o(1, 1)),
        ("* | parse-kv content", "no pairs here", o(1, 0)),
        // A missing source field is a stage that did not match.
        ("* | parse-regexp nothing, '(x)' as y", "x", o(1, 0)),
        // No parse stage: nothing tried, never "unparsed".
        ("* | extend a = 1", "x", o(0, 0)),
        // Alternatives: one match is enough not to be unparsed, not to be fully parsed.
        (
            "* | parse-regexp content, '^(a)' as x | parse-regexp content, '^(b)' as y",
            "b",
            o(2, 1),
        ),
    ];
    for (rule, line, want) in cases {
        assert_eq!(outcome(rule, line), want, "{rule} on {line:?}");
    }
    assert!(o(2, 0).unparsed() && !o(2, 1).unparsed() && !o(0, 0).unparsed());
    assert!(o(2, 2).fully_parsed() && !o(2, 1).fully_parsed() && o(0, 0).fully_parsed());
}

#[test]
fn the_outcome_is_per_event_and_batches_list_unparsed_inputs() {
    let plan =
        spl::compile("* | parse-regexp content, '^(\\d+)$' as n | where content <> '0'").unwrap();
    let mut runner = spl::Runner::new(&plan);
    let lines = ["1", "x", "0", "y", "2"];
    let events = lines
        .iter()
        .map(|l| runner.line_event(Text::new(l)))
        .collect();
    let result = runner.run_batch(events);
    // "0" matched but was dropped by `where`; only written events count as unparsed.
    assert_eq!(result.unparsed, vec![1, 3]);
    assert_eq!(result.dropped, 1);
    let mut out = Vec::new();
    runner
        .run_event(runner.line_event(Text::new("x")), &mut out)
        .unwrap();
    assert!(runner.parse_outcome().unparsed());
    runner
        .run_event(runner.line_event(Text::new("7")), &mut out)
        .unwrap();
    assert!(!runner.parse_outcome().unparsed(), "reset per event");
}

//! Every fast path of the engine gives the same result as the general path it stands in for
//! (issue 13): `parse-json` of a text field (top level read without a tree) against
//! `parse-json` of the same object handed over as a JSON value; `project`/`project-away` by
//! lookup against a reference that scans every pattern over every field; temporaries in
//! slots (`PlanOptions::temps`) against the same plan with every field in the event, on
//! random pipelines and on the reference workloads. The NDJSON writer's fast paths (SWAR
//! escaping, timestamps, JSON values) have property tests in `event.rs`.

use agentic_soc::event::{Event, Name, Value};
use agentic_soc::spl;
use proptest::prelude::*;
use serde_json::Value as Json;

/// Keys that collide, need escaping, or are time fields; values of every JSON kind.
fn object() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("__time__".to_string()),
        Just("content".to_string()),
        "[a-z\"\\\\é\\x01]{0,4}",
    ];
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        (-1e9f64..1e9).prop_map(Json::from),
        "(?s)(?:[\\x00-\\x1f\"\\\\]|[ -~]|é|😀){0,8}".prop_map(Json::String),
    ];
    let value = leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Json::Array),
            prop::collection::vec(("[a-z]{1,2}", inner), 0..3)
                .prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    });
    // Built by hand so that duplicate keys reach the parser.
    (prop::collection::vec((key, value), 0..8), " ?").prop_map(|(members, space)| {
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{}:{space}{v}", Json::String(k.clone())))
            .collect();
        format!("{{{}}}", body.join(","))
    })
}

fn run(rule: &spl::Plan, event: Event) -> Vec<(String, Json)> {
    let mut runner = spl::Runner::new(rule);
    let mut out = Vec::new();
    runner.run_event(event, &mut out).unwrap();
    let (_, e) = out.pop().unwrap();
    e.fields()
        .filter(|(n, _)| &***n != "content")
        .map(|(n, v)| (n.to_string(), v.to_json()))
        .collect()
}

fn ndjson(rule: &spl::Plan, event: Event) -> String {
    let mut runner = spl::Runner::new(rule);
    let mut out = Vec::new();
    runner.run_event(event, &mut out).unwrap();
    let mut text = String::new();
    for (_, e) in out {
        e.write_ndjson(&mut text, false);
    }
    text
}

fn event_with(content: Value, extra: &[(&str, &str)]) -> Event {
    let mut e = Event::new();
    for (n, v) in extra {
        e.set(&Name::from(*n), Value::str(v));
    }
    e.set(&Name::from("content"), content);
    e
}

proptest! {
    #[test]
    fn parse_json_of_text_equals_parse_json_of_the_parsed_value(
        text in object(),
        mode in prop::sample::select(vec!["", "-mode='preserve' ", "-prefix='p_' "]),
    ) {
        let plan = spl::compile(&format!("* | parse-json {mode}content")).unwrap();
        let extra = [("a", "old"), ("p_b", "old")];
        // The general path: the same text as a JSON string value, parsed into a tree.
        let slow = run(&plan, event_with(Value::json(Json::String(text.clone())), &extra));
        let fast = run(&plan, event_with(Value::str(&text), &extra));
        prop_assert_eq!(fast, slow, "{}", text);
        // Nested values kept as raw text are written as the tree would be.
        let slow = ndjson(&plan, event_with(Value::json(Json::String(text.clone())), &extra));
        let fast = ndjson(&plan, event_with(Value::str(&text), &extra));
        prop_assert_eq!(fast, slow, "{}", text);
    }

    #[test]
    fn project_and_project_away_equal_a_scan_of_every_pattern(
        fields in prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "ab", "__time__", "x.y"]), 0..6),
        patterns in prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "\"a*\"", "\"*b\"", "\"x.y\"", "zz"]), 1..4),
    ) {
        let mut e = Event::new();
        for (i, f) in fields.iter().enumerate() {
            e.set(&Name::from(*f), Value::Int(i as i64));
        }
        let names: Vec<String> = e.fields().map(|(n, _)| n.to_string()).collect();
        let matches = |p: &str, n: &str| {
            let p = p.trim_matches('"');
            match (p.strip_prefix('*'), p.strip_suffix('*')) {
                (Some(s), _) => n.ends_with(s),
                (_, Some(s)) => n.starts_with(s),
                _ => p == n,
            }
        };
        let list = patterns.join(", ");
        // project: patterns in order, each field once, time fields kept at the end.
        let mut want: Vec<&str> = Vec::new();
        for p in &patterns {
            for n in &names {
                if matches(p, n) && !want.contains(&n.as_str()) {
                    want.push(n);
                }
            }
        }
        for n in &names {
            if n == "__time__" && !want.contains(&n.as_str()) {
                want.push(n);
            }
        }
        let plan = spl::compile(&format!("* | project -wildcard {list}")).unwrap();
        let got: Vec<String> = run(&plan, e.clone()).into_iter().map(|(n, _)| n).collect();
        prop_assert_eq!(got, want);
        // project-away: every matching field goes, time fields stay.
        let want: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| *n == "__time__" || !patterns.iter().any(|p| matches(p, n)))
            .collect();
        let plan = spl::compile(&format!("* | project-away -wildcard {list}")).unwrap();
        let got: Vec<String> = run(&plan, e).into_iter().map(|(n, _)| n).collect();
        prop_assert_eq!(got, want);
    }

    /// `project-rename` against a reference that checks every field against everything
    /// already written: parallel renames (`a = b, b = a` swaps), an output that exists is
    /// overwritten, names stay unique.
    #[test]
    fn project_rename_equals_the_reference(
        fields in prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "d", "x.y"]), 0..6),
        renames in prop::collection::vec(
            (prop::sample::select(vec!["a", "b", "c", "e", "x.y"]), prop::sample::select(vec!["a", "b", "c", "d", "zz"])),
            1..4,
        ),
    ) {
        let mut renames = renames;
        let mut seen = Vec::new();
        let mut seen_in = Vec::new();
        renames.retain(|(out, input)| {
            let fresh = !seen.contains(out) && !seen_in.contains(input);
            seen.push(*out);
            seen_in.push(*input);
            fresh
        });
        let mut e = Event::new();
        for (i, f) in fields.iter().enumerate() {
            e.set(&Name::from(*f), Value::Int(i as i64));
        }
        let old: Vec<(String, Json)> = e.fields().map(|(n, v)| (n.to_string(), v.to_json())).collect();
        let live: Vec<&(&str, &str)> = renames
            .iter()
            .filter(|(_, input)| old.iter().any(|(n, _)| n == input))
            .collect();
        let mut want: Vec<(String, Json)> = Vec::new();
        for (n, v) in old {
            match live.iter().find(|(_, input)| *input == n) {
                Some((output, _)) => {
                    want.retain(|(f, _)| f != output);
                    want.push((output.to_string(), v));
                }
                None if live.iter().any(|(output, input)| *output == n && *input != n) => {}
                None => {
                    if !want.iter().any(|(f, _)| *f == n) {
                        want.push((n, v));
                    }
                }
            }
        }
        let list: Vec<String> = renames.iter().map(|(o, i)| format!("\"{o}\" = \"{i}\"")).collect();
        let plan = spl::compile(&format!("* | project-rename {}", list.join(", "))).unwrap();
        prop_assert_eq!(run(&plan, e), want);
    }
}

/// What a plan makes of one event: each output's fields (name and JSON value, in order) or
/// the error's message.
fn outcome(plan: &spl::Plan, event: Event) -> Result<Vec<Vec<(String, Json)>>, String> {
    let mut runner = spl::Runner::new(plan);
    let mut out = Vec::new();
    runner
        .run_event(event, &mut out)
        .map_err(|d| d.message.clone())?;
    Ok(out
        .into_iter()
        .map(|(_, e)| {
            e.fields()
                .map(|(n, v)| (n.to_string(), v.to_json()))
                .collect()
        })
        .collect())
}

fn with_and_without_temps(rule: &str) -> (spl::Plan, spl::Plan) {
    let on = spl::compile(rule).unwrap_or_else(|d| panic!("{rule}: {d:?}"));
    let off = spl::compile_with(
        rule,
        &spl::PlanOptions {
            temps: false,
            ..spl::PlanOptions::default()
        },
    )
    .unwrap();
    assert!(off.temps.is_empty());
    (on, off)
}

/// Stage templates over the names `{0}` `{1}` `{2}`: every stage kind temporaries are
/// assigned across (reads, writes, NULL writes, `-mode='preserve'`, lambdas, `where`), and
/// two that end the stretch where they can be (`project-rename`, `parse-kv`).
const STAGES: &[&str] = &[
    "parse-regexp {0}, '^(\\w+) ?(\\w*)' as {1}, {2}",
    "parse-regexp -mode='preserve' {0}, '(\\d+)' as {1}",
    "parse-csv -delim=' ' {0} as {1}, {2}",
    "extend {0} = concat({1}, '-', coalesce({2}, 'n'))",
    "extend {0} = NULL",
    "extend {0} = if({1} IS NULL, 'z', NULL), {1} = coalesce({0}, {2}, 'q')",
    "extend {0} = array_join(transform(ARRAY['1', '2'], v -> concat(v, {1})), ',')",
    "where {0} IS NOT NULL OR {1} IS NULL",
    "project-away {0}, {1}",
    "project-away {0}",
    "project-rename {0} = {1}",
    "parse-kv -delims=' ' {0}",
];

const NAMES: &[&str] = &["content", "a", "b", "c", "x"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn temporaries_in_slots_equal_fields_in_the_event(
        stages in prop::collection::vec(
            (0..STAGES.len(), 0..NAMES.len(), 0..NAMES.len(), 0..NAMES.len()), 1..7),
        content in "[a-z0-9= ]{0,12}",
        extra in prop::collection::vec((1..NAMES.len(), prop::option::of("[a-z0-9 ]{0,4}")), 0..3),
    ) {
        let body: Vec<String> = stages
            .iter()
            .map(|&(t, a, b, c)| {
                STAGES[t]
                    .replace("{0}", NAMES[a])
                    .replace("{1}", NAMES[b])
                    .replace("{2}", NAMES[c])
            })
            .collect();
        let rule = format!("* | {}", body.join(" | "));
        // Rules with a name assigned twice in one extend or output twice are not rules.
        let Ok(on) = spl::compile(&rule) else { return Ok(()) };
        let (_, off) = with_and_without_temps(&rule);
        // Input fields may be present with a NULL value (JSON input's `null`).
        let mut fields: Vec<(Name, Value)> = Vec::new();
        for (n, v) in &extra {
            if fields.iter().all(|(f, _)| &**f != NAMES[*n]) {
                fields.push((Name::from(NAMES[*n]), v.as_deref().map_or(Value::Null, Value::str)));
            }
        }
        fields.push((Name::from("content"), Value::str(&content)));
        let event = Event::from_fields(fields);
        prop_assert_eq!(outcome(&on, event.clone()), outcome(&off, event), "{}", rule);
    }
}

#[test]
fn temporaries_are_assigned_for_fields_created_and_dropped() {
    let (on, _) = with_and_without_temps(
        "* | parse-regexp content, '(\\w+) (\\w+)' as a, b | extend c = concat(a, b) \
         | project-away content, a, b",
    );
    let names: Vec<&str> = on.temps.iter().map(|n| &**n).collect();
    assert_eq!(names, ["content", "a", "b"]);
    // A stage that sees the whole event before the drop: no temporaries.
    let (on, _) = with_and_without_temps(
        "* | parse-regexp content, '(\\w+) (\\w+)' as a, b | parse-kv c | project-away a, b",
    );
    assert!(on.temps.is_empty());
}

#[test]
fn the_workloads_give_the_same_events_with_temporaries_in_slots() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workloads");
    for kind in ["nginx", "sshd", "json"] {
        let rule = std::fs::read_to_string(format!("{dir}/{kind}.spl")).unwrap();
        let input = std::fs::read_to_string(format!("{dir}/{kind}.sample.log")).unwrap();
        let (on, off) = with_and_without_temps(&rule);
        if kind != "json" {
            assert!(!on.temps.is_empty(), "{kind}: no temporaries");
        }
        let now = agentic_soc::event::Timestamp::utc(1_796_385_600_000_000_000);
        let mut fast = spl::Runner::new(&on).with_clock(now);
        let mut slow = spl::Runner::new(&off).with_clock(now);
        for line in input.lines() {
            let text = agentic_soc::event::Text::new(line);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            fast.run_event(fast.line_event(text.clone()), &mut a)
                .unwrap();
            slow.run_event(slow.line_event(text), &mut b).unwrap();
            let ndjson = |v: Vec<(Option<std::sync::Arc<str>>, Event)>| {
                let mut s = String::new();
                for (_, e) in v {
                    e.write_ndjson(&mut s, false);
                }
                s
            };
            assert_eq!(ndjson(a), ndjson(b), "{kind}: {line}");
        }
    }
}

#[test]
fn an_input_field_present_with_null_stays_present_in_its_slot() {
    // `-mode='preserve'` does not overwrite a field that is there, even with a NULL value
    // (JSON input's `null`): the temporary's slot must say the same.
    let (on, off) = with_and_without_temps(
        "* | parse-regexp -mode='preserve' content, '(\\w+)' as a \
         | extend b = coalesce(a, 'was null') | project-away a",
    );
    assert!(!on.temps.is_empty());
    let event = || {
        Event::from_fields(vec![
            (Name::from("a"), Value::Null),
            (Name::from("content"), Value::str("x")),
        ])
    };
    let got = outcome(&on, event());
    assert_eq!(got, outcome(&off, event()));
    assert_eq!(
        got.unwrap()[0][1],
        ("b".to_string(), Json::from("was null"))
    );
}

/// Pieces of `parse-regexp` patterns: literals, runs of every class kind (ASCII, negated,
/// Unicode-aware), counted runs, quoted strings.
fn pattern_piece() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        " ",
        "-",
        "[",
        "]",
        ":",
        ",",
        "ab",
        "é",
        r"\[",
        "=",
        r"\S+",
        r"\d+",
        r"\d{1,2}",
        r"\d\d",
        r"[^\]]+",
        r"[^,]*",
        r"[a-z]{2}",
        r"[A-Z]",
        r"\w+",
        r".*",
        " {1,2}",
        r"[^\s\[:]+",
        r#""((?:[^"\\]|\\.)*)""#,
        r"(\S+)",
        r"(\d+)",
        r"([^,]*)",
        r"\s+",
        r"(.+?)",
        r"(.*?)",
        r"(?s:.+?)",
    ])
    .prop_map(str::to_string)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    /// The splitter gives what the regex gives (match or not, every group's span) whenever
    /// it takes a pattern and does not hand the line back.
    #[test]
    fn the_splitter_equals_the_regex(
        pieces in prop::collection::vec((pattern_piece(), any::<bool>()), 1..7),
        end in prop::sample::select(vec!["", "$", r"\s*$"]),
        subjects in prop::collection::vec(
            prop::collection::vec(prop::sample::select(vec![
                "a", "B", "1", "42", " ", "-", "[", "]", ":", ",", "\"", "\\", "é", "\u{2003}", "\n", "ab", "=",
                "\\\n", "\\\"", "\\é", "\"x\"", " \n ", "\t", "\u{a0}",
            ]), 0..12),
            1..8,
        ),
    ) {
        let body: String = pieces
            .iter()
            .map(|(p, group)| if *group && !p.contains('(') { format!("({p})") } else { p.clone() })
            .collect();
        let pattern = format!("^{body}{end}");
        let Some(splitter) = spl::splitter::Splitter::new(&pattern) else { return Ok(()) };
        let re = regex::Regex::new(&pattern).unwrap();
        let mut spans = Vec::new();
        for parts in subjects {
            let s: String = parts.concat();
            let want = re.captures(&s).map(|c| {
                (1..c.len()).map(|i| c.get(i).map_or((0, 0), |m| (m.start(), m.end()))).collect::<Vec<_>>()
            });
            match splitter.split(&s, &mut spans) {
                spl::splitter::Split::Fallback => {}
                spl::splitter::Split::NoMatch => prop_assert_eq!(want, None, "{} on {:?}", pattern, s),
                spl::splitter::Split::Match => prop_assert_eq!(want, Some(spans.clone()), "{} on {:?}", pattern, s),
            }
        }
    }
}

#[test]
fn the_workload_patterns_take_the_splitter_or_the_backtracker() {
    for (rule, splitters, backtrackers) in [("nginx", 1, 0), ("sshd", 1, 3)] {
        let text = std::fs::read_to_string(format!("benches/workloads/{rule}.spl")).unwrap();
        let plan = spl::compile(&text).unwrap();
        assert_eq!(plan.splitters(), splitters, "{rule}");
        assert_eq!(plan.backtrackers(), backtrackers, "{rule}");
    }
}

/// Pieces of anchored patterns that are not one-pass: alternations, optional groups, lazy
/// runs.
fn backtracking_piece() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        " ",
        "(Failed|Accepted)",
        "(ab|a)",
        r"(\S+)",
        r"(\S*?)",
        r"(.*?)",
        r"(?:: (\S+) (\S+))?",
        r"(invalid user )?",
        r"(\d+)",
        r"\s*",
        "x",
    ])
    .prop_map(str::to_string)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    /// The bounded backtracker, run directly for anchored patterns that are not one-pass,
    /// gives the regex's groups.
    #[test]
    fn the_backtracker_equals_the_regex(
        pieces in prop::collection::vec(backtracking_piece(), 1..6),
        end in prop::sample::select(vec!["", "$"]),
        subjects in prop::collection::vec(
            prop::collection::vec(prop::sample::select(vec![
                "Failed", "Accepted", "a", "ab", " ", ": ", "x", "1", "invalid user ", "é", "\n",
            ]), 0..8),
            1..6,
        ),
    ) {
        let pattern = format!("^{}{end}", pieces.concat());
        let re = regex::Regex::new(&pattern).unwrap();
        let n = re.captures_len() - 1;
        if n == 0 {
            return Ok(());
        }
        let names: Vec<String> = (1..=n).map(|i| format!("g{i}")).collect();
        let plan = spl::compile(&format!("* | parse-regexp content, '{pattern}' as {}", names.join(", "))).unwrap();
        for parts in subjects {
            let s: String = parts.concat();
            let got = run(&plan, {
                let mut e = Event::new();
                e.set(&Name::from("content"), Value::str(&s));
                e
            });
            let want: Vec<(String, Json)> = match re.captures(&s) {
                Some(c) => (1..=n)
                    .map(|i| (format!("g{i}"), Json::String(c.get(i).map_or("", |m| m.as_str()).to_string())))
                    .collect(),
                None => Vec::new(),
            };
            prop_assert_eq!(got, want, "{} on {:?}", pattern, s);
        }
    }
}

#[test]
fn the_splitter_reads_quoted_strings_as_the_regex_does() {
    let pattern = r#"^"((?:[^"\\]|\\.)*)" (\S+)$"#;
    let splitter = spl::splitter::Splitter::new(pattern).expect("the quoted-string shape");
    let re = regex::Regex::new(pattern).unwrap();
    let mut spans = Vec::new();
    for s in [
        r#""GET / HTTP/1.1" x"#,
        r#""a\"b" x"#,
        "\"a\\\nb\" x",
        "\"a\\\rb\" x",
        r#""\é" x"#,
        r#""a\"#,
        r#""" x"#,
        r#""a"b" x"#,
        r#""a\\" x"#,
    ] {
        let want = re.captures(s).map(|c| {
            (1..c.len())
                .map(|i| c.get(i).map_or((0, 0), |m| (m.start(), m.end())))
                .collect::<Vec<(usize, usize)>>()
        });
        let got = match splitter.split(s, &mut spans) {
            spl::splitter::Split::Match => Some(spans.clone()),
            spl::splitter::Split::NoMatch => None,
            spl::splitter::Split::Fallback => continue,
        };
        assert_eq!(got, want, "{s:?}");
    }
}

#[test]
fn the_regexp_benches_measure_the_path_they_name() {
    let bench = std::fs::read_to_string("benches/spl.rs").unwrap();
    let pattern = |name: &str| {
        let line = bench
            .lines()
            .find(|l| l.starts_with(&format!("const {name}: &str")))
            .unwrap();
        line.split('\'').nth(1).unwrap().to_string()
    };
    assert!(spl::splitter::Splitter::new(&pattern("REGEXP_SPLITTER")).is_some());
    assert!(spl::splitter::Splitter::new(&pattern("REGEXP_ONEPASS")).is_none());
    assert!(spl::splitter::Splitter::new(&pattern("REGEXP_SLOW")).is_none());
}

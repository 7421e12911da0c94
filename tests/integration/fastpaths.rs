//! Every fast path of the engine gives the same result as the general path it stands in for
//! (issue 13): `parse-json` of a text field (top level read without a tree) against
//! `parse-json` of the same object handed over as a JSON value; `project`/`project-away` by
//! lookup against a reference that scans every pattern over every field. The NDJSON writer's
//! fast paths (SWAR escaping, timestamps, JSON values) have property tests in `event.rs`.

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
}

//! Property tests: no rule and no event can make the engine panic. Random rules are built
//! from every instruction and from calls to every registry function with random arguments,
//! and run on random events (JSON, key=value, CSV, junk, Unicode).

use agentic_soc::event::{Event, Text, Timestamp};
use agentic_soc::spl::{self, functions};
use proptest::prelude::*;

const FIELDS: &[&str] = &["content", "a", "b", "status", "\"x.y\"", "missing"];

fn field() -> impl Strategy<Value = String> {
    prop::sample::select(FIELDS).prop_map(str::to_string)
}

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        (-1e6f64..1e6).prop_map(|d| format!("{d:.3}")),
        "[a-z0-9%_.:/ -]{0,12}".prop_map(|s| format!("'{s}'")),
        Just("NULL".to_string()),
        Just("TRUE".to_string()),
        Just("'$.a'".to_string()),
        Just("'%Y-%m-%d'".to_string()),
        Just("'yyyy-MM-dd HH:mm:ss'".to_string()),
        Just("'(\\d+)'".to_string()),
        Just("ARRAY[1, 2, NULL]".to_string()),
        Just("'[1,2,3]'".to_string()),
        Just("'{\"a\":{\"b\":[1,2]}}'".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("9223372036854775807".to_string()),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    let names: Vec<&'static str> = functions::names().collect();
    let leaf = prop_oneof![field(), literal()];
    leaf.prop_recursive(4, 24, 4, move |inner| {
        let names = names.clone();
        prop_oneof![
            (
                prop::sample::select(names),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(f, args)| {
                    let args: Vec<String> = args
                        .into_iter()
                        .enumerate()
                        .map(|(i, a)| {
                            if i == 1 && f.contains("transform") {
                                "x -> x".into()
                            } else {
                                a
                            }
                        })
                        .collect();
                    format!("{f}({})", args.join(", "))
                }),
            (
                inner.clone(),
                prop::sample::select(
                    &[
                        "+", "-", "*", "/", "%", "=", "<>", "<", ">=", "||", "AND", "OR"
                    ][..]
                ),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (
                inner.clone(),
                prop::sample::select(
                    &[
                        "BIGINT",
                        "DOUBLE",
                        "VARCHAR",
                        "BOOLEAN",
                        "TIMESTAMP",
                        "DATE",
                        "JSON",
                        "ARRAY(BIGINT)",
                        "VARBINARY",
                        "INTEGER"
                    ][..]
                )
            )
                .prop_map(|(a, t)| format!("try_cast({a} AS {t})")),
            (
                inner.clone(),
                prop::sample::select(&["BIGINT", "DOUBLE", "VARCHAR", "TIMESTAMP"][..])
            )
                .prop_map(|(a, t)| format!("cast({a} AS {t})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("CASE WHEN {a} THEN {b} ELSE {c} END")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} IN ({b}, 1, 'x')")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} LIKE {b}")),
            inner.clone().prop_map(|a| format!("{a} IS NOT NULL")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            inner.clone().prop_map(|a| format!("try({a})")),
        ]
    })
}

fn stage() -> impl Strategy<Value = String> {
    prop_oneof![
        expr().prop_map(|e| format!("where {e}")),
        (field(), expr()).prop_map(|(f, e)| format!("extend {f} = {e}")),
        field().prop_map(|f| format!("parse-json {f}")),
        field().prop_map(|f| format!("parse-json -path='$.a' -prefix='p_' {f}")),
        field().prop_map(|f| format!("parse-kv {f}")),
        field().prop_map(|f| format!("parse-kv -greedy -delims=', ' {f}")),
        field().prop_map(|f| format!("parse-kv {f}, '&', '='")),
        field().prop_map(|f| format!("parse-kv -regexp {f}, '(\\w+):(\\S*)'")),
        field().prop_map(|f| format!("parse-csv -delim='|' {f} as a, b, c")),
        field().prop_map(|f| format!("parse-csv -strict -quote='\\'' {f} as a, b")),
        field().prop_map(|f| format!("parse-regexp {f}, '(\\S+)\\s*(\\S*)' as a, b")),
        field().prop_map(|f| format!("expand-values -limit=3 {f} as a")),
        Just("project-away a, \"x.y\"".to_string()),
        Just("project -wildcard \"*a*\", b=content".to_string()),
        Just("project-rename z = a".to_string()),
        Just("pack-fields -exclude='content' as packed".to_string()),
        Just("log-to-metric -names='[\"a\",\"status\"]' -labels='[\"b\"]'".to_string()),
        Just("stats n = count(), s = sum(a) by b".to_string()),
        Just("sort a desc".to_string()),
        Just("limit 2".to_string()),
    ]
}

fn rule() -> impl Strategy<Value = String> {
    prop::collection::vec(stage(), 1..5).prop_map(|stages| format!("* | {}", stages.join(" | ")))
}

fn content() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        Just(r#"{"a": {"b": [1, 2]}, "status": "200", "n": 1.5}"#.to_string()),
        Just(r#"[1, "x", {"k": null}]"#.to_string()),
        Just("a=1 b=\"two words\" status=404 x.y=\\\"q".to_string()),
        Just("1.2.3.4|GET|/index\"|".to_string()),
        Just("2024-01-02 03:04:05".to_string()),
        "[a-z]{1,5}=[0-9]{0,4}( [a-z]{1,5}=[a-z0-9\"]{0,6}){0,4}",
        "[0-9,|\"]{0,30}",
    ]
}

proptest! {
    // PROPTEST_CASES=50000 for a long fuzzing run (see BENCHMARKS.md / DESIGN.md).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_rules_never_panic(rule in rule(), contents in prop::collection::vec(content(), 1..4)) {
        if let Ok(plan) = spl::compile(&rule) {
            let mut runner = spl::Runner::new(&plan).with_clock(Timestamp::utc(0));
            let events: Vec<Event> = contents.iter().map(|c| {
                let mut e = runner.line_event(Text::new(c));
                e.set_str("a", agentic_soc::event::Value::str(c));
                e
            }).collect();
            let n = events.len();
            let result = runner.run_batch(events);
            if !plan.has_aggregates() {
                // Nothing is lost: every input event is output, failed or dropped by `where`.
                let mut origins: Vec<usize> = result.outputs.iter().map(|o| o.origin).collect();
                origins.dedup();
                prop_assert_eq!(origins.len() + result.failures.len() + result.dropped, n);
            }
        }
    }

    #[test]
    fn random_text_never_panics_the_planner(src in "\\PC{0,80}") {
        let _ = spl::compile(&src);
        let _ = spl::compile(&format!("* | where {src}"));
        let _ = spl::compile(&format!("* | extend x = {src}"));
    }
}

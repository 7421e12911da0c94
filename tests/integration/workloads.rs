//! The reference workloads of the speed comparison with Vector's VRL
//! (`benches/workloads/*.spl`, see BENCHMARKS.md): each rule must give the same fields and
//! values as the VRL peer's program on the same lines. `*.vrl.ndjson` holds what the VRL
//! peer (`vrl-norm`, vrl 0.38) wrote for `*.sample.log`; the test needs no VRL binary.
//!
//! VRL writes nested objects (`{"event": {"kind": ...}}`), soc writes flat dotted names
//! (`"event.kind"`): both sides are flattened to leaf paths before comparing. VRL's
//! `compact(.)` (JSON workload) drops null leaves and empty objects inside the subtrees the
//! rule copies as they are; flattening drops them on both sides.

use agentic_soc::event::{Text, Timestamp};
use agentic_soc::spl;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// 2026-12-04T12:00:00Z: the day the VRL outputs were recorded (sshd lines carry no year;
/// both sides take the clock's).
const RECORDED: i64 = 1_796_385_600_000_000_000;

fn flatten(prefix: &str, v: &Json, out: &mut BTreeMap<String, Json>) {
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        Json::Null => {}
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

fn flat(line: &str) -> BTreeMap<String, Json> {
    let v: Json = serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON {line}: {e}"));
    let mut out = BTreeMap::new();
    flatten("", &v, &mut out);
    out
}

/// Runs the workload's rule over its sample and compares every output line with VRL's.
fn check(kind: &str) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workloads");
    let rule = std::fs::read_to_string(format!("{dir}/{kind}.spl")).unwrap();
    let input = std::fs::read_to_string(format!("{dir}/{kind}.sample.log")).unwrap();
    let expected = std::fs::read_to_string(format!("{dir}/{kind}.vrl.ndjson")).unwrap();
    let plan = spl::compile(&rule).unwrap_or_else(|d| panic!("{kind}.spl: {d:?}"));
    let mut runner = spl::Runner::new(&plan).with_clock(Timestamp::utc(RECORDED));
    let events = input
        .lines()
        .map(|l| runner.line_event(Text::new(l)))
        .collect();
    let result = runner.run_batch(events);
    assert!(
        result.failures.is_empty(),
        "{kind}: failures {:?}",
        result.failures
    );
    let mut got = Vec::new();
    for o in &result.outputs {
        let mut line = String::new();
        o.event.write_ndjson(&mut line, false);
        got.push(line);
    }
    let want: Vec<&str> = expected.lines().collect();
    assert_eq!(got.len(), want.len(), "{kind}: one output per input line");
    let mut mismatches = Vec::new();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let (g, w) = (flat(g), flat(w));
        if g != w {
            let only_soc: Vec<_> = g.iter().filter(|(k, v)| w.get(*k) != Some(v)).collect();
            let only_vrl: Vec<_> = w.iter().filter(|(k, v)| g.get(*k) != Some(v)).collect();
            mismatches.push(format!(
                "line {}: soc only {only_soc:?}\n        vrl only {only_vrl:?}",
                i + 1
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{kind}: {} of {} lines differ from VRL:\n{}",
        mismatches.len(),
        want.len(),
        mismatches.join("\n")
    );
}

#[test]
fn nginx_rule_gives_the_vrl_programs_fields_and_values() {
    check("nginx");
}

#[test]
fn sshd_rule_gives_the_vrl_programs_fields_and_values() {
    check("sshd");
}

#[test]
fn json_rule_gives_the_vrl_programs_fields_and_values() {
    check("json");
}

#[test]
fn flattening_drops_nulls_and_empty_objects_only() {
    let f = flat(r#"{"a":{"b":1,"c":null,"d":{}},"e":"","f":[]}"#);
    let want: Map<String, Json> = serde_json::from_str(r#"{"a.b":1,"e":"","f":[]}"#).unwrap();
    assert_eq!(f, want.into_iter().collect::<BTreeMap<_, _>>());
}

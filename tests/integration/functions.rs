//! Every example in the function registry runs as a test, and the reference renders.

use crate::common::eval_field;
use agentic_soc::spl::functions;

#[test]
fn every_registry_example_passes() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (_, fns) in functions::families() {
        for f in fns {
            for ex in f.examples {
                count += 1;
                let rule = format!("* | extend r = {}", ex.expr);
                let expected: serde_json::Value = match serde_json::from_str(ex.output) {
                    Ok(v) => v,
                    Err(e) => {
                        failures.push(format!(
                            "{}: example output {} is not JSON: {e}",
                            f.name, ex.output
                        ));
                        continue;
                    }
                };
                match eval_field(&rule, ex.input, "r") {
                    Ok(got) if same(&got, &expected) => {}
                    Ok(got) => failures.push(format!(
                        "{}: `{}` gave {got}, expected {expected}",
                        f.name, ex.expr
                    )),
                    Err(e) => failures.push(format!("{}: `{}` failed:\n{e}", f.name, ex.expr)),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} examples failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count > 200, "only {count} examples");
}

/// Equality of typed JSON where doubles compare with a relative tolerance.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Number(x), Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(p), Some(q)) if x.is_f64() || y.is_f64() => {
                (p - q).abs() <= 1e-9 * p.abs().max(q.abs()).max(1.0)
            }
            _ => x == y,
        },
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn reference_lists_every_function() {
    let text = functions::reference();
    for name in functions::names() {
        assert!(
            text.contains(&format!("{name}(")),
            "{name} missing from the reference"
        );
    }
}

/// `docs/functions.md` is generated from the registry; this fails when it is stale.
#[test]
fn docs_functions_md_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/functions.md");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == functions::markdown(),
        "docs/functions.md is stale: regenerate it with\n    cargo run -- spl functions --markdown > docs/functions.md"
    );
}

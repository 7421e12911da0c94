//! Parse and plan limits on long but flat rules: associative chains (`OR`, `AND`, `||`,
//! `+`, `*`) are one level of nesting however long they are (issue 11).

use crate::common::{Input, run_report};
use agentic_soc::spl::{self, PlanOptions, parse, print};
use serde_json::json;

/// `* | where status = '1' OR status = '2' OR ...` with `n` terms.
fn or_chain(n: usize) -> String {
    let terms: Vec<String> = (1..=n).map(|i| format!("status = '{i}'")).collect();
    format!("* | where {}", terms.join(" or "))
}

/// Issue 11: a flat `where` of 300 `or`ed terms must parse, plan and run (it used to stop at
/// the nesting limit of 64 levels, counted once per `or`).
#[test]
fn issue_11_where_with_300_or_terms_parses_plans_and_runs() {
    let rule = or_chain(300);
    let inputs = [
        Input::Json(json!({"status": "300"}).as_object().unwrap().clone()),
        Input::Json(json!({"status": "1"}).as_object().unwrap().clone()),
        Input::Json(json!({"status": "301"}).as_object().unwrap().clone()),
    ];
    let report = run_report(&rule, &inputs, &PlanOptions::default());
    assert_eq!(
        report,
        json!({"outputs": [{"status": "300"}, {"status": "1"}], "dropped": 1}),
        "{rule}"
    );
    // The canonical print keeps the chain flat and round-trips.
    let ast = parse::parse(&rule).unwrap();
    let printed = print::print_script(&ast);
    assert!(
        printed.contains("status = '299' OR status = '300'"),
        "{printed}"
    );
    assert_eq!(parse::parse(&printed).unwrap(), ast);
}

#[test]
fn long_chains_of_every_associative_operator_plan() {
    for (sep, expect) in [
        (" and ", json!(null)),
        (" || ", json!("1".repeat(300))),
        (" + ", json!(300)),
        (" * ", json!(1)),
    ] {
        let terms = vec!["1"; 300].join(sep);
        let rule = if sep == " and " {
            format!("* | extend r = {}", vec!["x = '1'"; 300].join(sep))
        } else {
            format!("* | extend r = {terms}")
        };
        let input = Input::Json(json!({"x": "2"}).as_object().unwrap().clone());
        let report = run_report(&rule, &[input], &PlanOptions::default());
        let got = &report["outputs"][0]["r"];
        let want = if sep == " and " { json!(false) } else { expect };
        assert_eq!(got, &want, "{sep}: {report}");
    }
}

/// A chain as long as the script limit allows (about 13,000 terms in 64 KiB) is planned,
/// run, printed and dropped on a small stack: no pass recurses once per term.
#[test]
fn a_chain_filling_the_script_limit_needs_no_deep_stack() {
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| {
            let mut rule = String::from("* | where a = 'x'");
            while rule.len() < 64 * 1024 - 16 {
                rule.push_str(" or a = 'x'");
            }
            let plan = spl::compile(&rule).unwrap_or_else(|d| panic!("{d:?}"));
            let ast = parse::parse(&rule).unwrap();
            let printed = print::print_script(&ast);
            drop(ast);
            drop(plan);
            printed.len()
        })
        .unwrap();
    assert!(handle.join().unwrap() > 60_000);
}

/// Nesting (not chaining) is still limited, and the diagnostic says how to get under it.
#[test]
fn deep_nesting_is_still_an_error_with_a_way_out() {
    let rule = format!("* | where {}a{}", "(".repeat(100), ")".repeat(100));
    let errs = spl::compile(&rule).unwrap_err();
    let text: String = errs.iter().map(|d| format!("{d:?}")).collect();
    assert!(text.contains("E104"), "{text}");
    assert!(text.contains("earlier `extend` stages"), "{text}");
}

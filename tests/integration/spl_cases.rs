//! Data-driven SPL cases: `tests/cases/spl/<instruction>/<behaviour>.spl`.
//!
//! A case file is SPL with directives in leading `--` comments:
//! `-- input: <raw line>` (one event `{"content": line}`), `-- input-json: {...}` (an event
//! from a JSON object), `-- option: strict` (Presto-strict coercion). The rule is the whole
//! file. The report (outputs, failures, warnings, or plan errors) is a YAML snapshot named
//! after the file.

use crate::common::{Input, run_report};
use agentic_soc::spl::{PlanOptions, ops::Coercion};

fn parse_case(text: &str) -> (Vec<Input>, PlanOptions) {
    let mut inputs = Vec::new();
    let mut options = PlanOptions::default();
    for line in text.lines() {
        let Some(d) = line.trim_start().strip_prefix("--") else {
            continue;
        };
        let d = d.trim_start();
        if let Some(v) = d.strip_prefix("input-json:") {
            let obj = serde_json::from_str(v.trim())
                .unwrap_or_else(|e| panic!("bad input-json {v}: {e}"));
            inputs.push(Input::Json(obj));
        } else if let Some(v) = d.strip_prefix("input:") {
            inputs.push(Input::Line(v.strip_prefix(' ').unwrap_or(v).to_string()));
        } else if let Some(v) = d.strip_prefix("option:") {
            match v.trim() {
                "strict" => options.coercion = Coercion::Strict,
                "sls-compat" => options.sls_compat = true,
                other => panic!("unknown option {other}"),
            }
        }
    }
    (inputs, options)
}

#[test]
fn spl_cases() {
    insta::glob!("../cases/spl", "**/*.spl", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let (inputs, options) = parse_case(&text);
        let report = run_report(&text, &inputs, &options);
        insta::with_settings!({ input_file => path, description => text.clone(), omit_expression => true }, {
            insta::assert_yaml_snapshot!(report);
        });
    });
}

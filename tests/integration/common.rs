//! Shared helpers: compile and run a rule on events with a fixed clock.

use agentic_soc::diagnostic::render_text;
use agentic_soc::event::{Event, Text, Timestamp};
use agentic_soc::spl::{self, PlanOptions};
use serde_json::{Value as Json, json};

/// 2024-01-01T00:00:00Z: the clock every test sees.
pub const TEST_NOW: i64 = 1_704_067_200_000_000_000;

/// An input for a test run.
pub enum Input {
    Line(String),
    Json(serde_json::Map<String, Json>),
}

/// Compiles `rule` and runs it on `inputs`. Returns a JSON report: outputs (typed, with
/// `__dataset__` when tagged), failures (rendered), warnings; or the rendered plan errors.
pub fn run_report(rule: &str, inputs: &[Input], options: &PlanOptions) -> Json {
    let plan = match spl::compile_with(rule, options) {
        Ok(p) => p,
        Err(diags) => {
            let rendered: Vec<String> = diags
                .iter()
                .map(|d| render_text(d, rule, "rule.spl"))
                .collect();
            return json!({ "errors": rendered });
        }
    };
    let mut runner = spl::Runner::new(&plan).with_clock(Timestamp::utc(TEST_NOW));
    let events: Vec<Event> = inputs
        .iter()
        .map(|i| match i {
            Input::Line(l) => runner.line_event(Text::new(l)),
            Input::Json(o) => Event::from_json_object(o.clone()),
        })
        .collect();
    let result = runner.run_batch(events);
    let outputs: Vec<Json> = result
        .outputs
        .iter()
        .map(|o| {
            let mut obj = serde_json::Map::new();
            if let Some(tag) = &o.tag {
                obj.insert("__dataset__".into(), Json::String(tag.to_string()));
            }
            obj.extend(o.event.to_json(false));
            Json::Object(obj)
        })
        .collect();
    let failures: Vec<Json> = result
        .failures
        .iter()
        .map(|f| json!({ "input": f.origin + 1, "diagnostic": render_text(&f.diagnostic, rule, "rule.spl") }))
        .collect();
    let mut report = serde_json::Map::new();
    report.insert("outputs".into(), Json::Array(outputs));
    if !failures.is_empty() {
        report.insert("failures".into(), Json::Array(failures));
    }
    if result.dropped > 0 {
        report.insert("dropped".into(), json!(result.dropped));
    }
    if !plan.warnings.is_empty() {
        report.insert(
            "warnings".into(),
            plan.warnings
                .iter()
                .map(|w| Json::String(render_text(w, rule, "rule.spl")))
                .collect(),
        );
    }
    Json::Object(report)
}

/// Runs `rule` on one event given as a JSON object and returns the single output event's
/// field `field` (typed JSON), or `null` when absent or dropped.
pub fn eval_field(rule: &str, input: &str, field: &str) -> Result<Json, String> {
    let plan = spl::compile(rule).map_err(|d| {
        d.iter()
            .map(|d| render_text(d, rule, "rule.spl"))
            .collect::<String>()
    })?;
    let mut runner = spl::Runner::new(&plan).with_clock(Timestamp::utc(TEST_NOW));
    let obj: serde_json::Map<String, Json> =
        serde_json::from_str(input).map_err(|e| format!("bad example input {input}: {e}"))?;
    let mut out = Vec::new();
    runner
        .run_event(Event::from_json_object(obj), &mut out)
        .map_err(|d| render_text(&d, rule, "rule.spl"))?;
    Ok(out
        .first()
        .and_then(|(_, e)| e.get(field))
        .map_or(Json::Null, |v| v.to_json()))
}

/// The repository root, where the `soc` commands of the tests run.
pub fn repo_root() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `soc` binary with `args` in the repository root.
pub fn soc_in_repo(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_soc"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .unwrap()
}

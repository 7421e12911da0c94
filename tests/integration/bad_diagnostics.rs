//! Diagnostics we know are poor (PRQL's `bad_error_messages.rs`): each is snapshotted so an
//! improvement shows up as a diff. When a message becomes good, move its case into a
//! `tests/cases/spl/diagnostics/` case file.

use agentic_soc::diagnostic::render_text;
use agentic_soc::spl;

fn diagnose(src: &str) -> String {
    match spl::compile(src) {
        Ok(_) => "(compiles)".into(),
        Err(diags) => diags
            .iter()
            .map(|d| render_text(d, src, "rule.spl"))
            .collect(),
    }
}

#[test]
fn known_poor_messages() {
    let cases = [
        // Parse errors stop at the first problem: the unknown function is not reported
        // until the syntax error after it is fixed.
        "* | where lowr(a) = 1 | extend x =",
        // A missing comma between outputs reads as the end of the stage.
        "* | parse-csv content as a b",
        // `==` is not SQL; the message names what was expected, not the likely fix.
        "* | where a == 1",
        // An option after a positional argument.
        "* | parse-json content -prefix='p_'",
        // A keyword used as a bare field name.
        "* | extend end = 1",
    ];
    let rendered: Vec<String> = cases
        .iter()
        .map(|c| format!("{c}\n{}", diagnose(c)))
        .collect();
    insta::assert_snapshot!(rendered.join("\n---\n"));
}

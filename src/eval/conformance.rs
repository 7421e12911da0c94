//! The SPL conformance corpus as an evaluation figure: every statement of
//! `tests/corpus/statements.spl` (real SLS statements from SPL.md section 7 and public
//! sources, plus one per instruction, option and expression form) must parse, plan and
//! print back to the same tree. The case files' output snapshots are checked by
//! `cargo test` (`tests/integration/spl_cases.rs`).

use crate::spl::{self, parse, print};
use serde::Serialize;

/// The corpus, embedded so that `soc eval --conformance` works from any folder.
pub const CORPUS: &str = include_str!("../../tests/corpus/statements.spl");

/// The outcome of the corpus run.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Conformance {
    pub statements: usize,
    pub parsed: usize,
    pub planned: usize,
    pub round_tripped: usize,
    /// (line, statement, first diagnostic) of each failure.
    pub failures: Vec<(usize, String, String)>,
}

/// Parses, plans and round-trips every statement.
pub fn run() -> Conformance {
    let mut c = Conformance::default();
    for (i, line) in CORPUS.lines().enumerate() {
        let stmt = line.trim();
        if stmt.is_empty() || stmt.starts_with("--") {
            continue;
        }
        c.statements += 1;
        let script = match parse::parse(stmt) {
            Ok(s) => s,
            Err(d) => {
                c.failures.push((
                    i + 1,
                    stmt.to_string(),
                    d.first().map(|d| d.message.clone()).unwrap_or_default(),
                ));
                continue;
            }
        };
        c.parsed += 1;
        if parse::parse(&print::print_script(&script)).is_ok_and(|again| again == script) {
            c.round_tripped += 1;
        }
        match spl::plan::plan(&script, &spl::PlanOptions::default()) {
            Ok(_) => c.planned += 1,
            Err(d) => c.failures.push((
                i + 1,
                stmt.to_string(),
                d.first().map(|d| d.message.clone()).unwrap_or_default(),
            )),
        }
    }
    c
}

/// One summary line plus the failures.
pub fn render(c: &Conformance) -> String {
    let mut s = format!(
        "SPL conformance: {} statements, {} parse, {} plan, {} round-trip through the printer\n",
        c.statements, c.parsed, c.planned, c.round_tripped
    );
    for (line, stmt, msg) in &c.failures {
        s.push_str(&format!("  statements.spl:{line}: {msg}\n    {stmt}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_whole_corpus_conforms() {
        let c = super::run();
        assert!(c.statements >= 90, "{}", super::render(&c));
        assert_eq!(c.parsed, c.statements, "{}", super::render(&c));
        assert_eq!(c.planned, c.statements, "{}", super::render(&c));
        assert_eq!(c.round_tripped, c.statements, "{}", super::render(&c));
    }
}

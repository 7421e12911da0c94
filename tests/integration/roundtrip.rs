//! The canonical printer round-trips every statement of the test corpus: the SPL case files
//! and `tests/corpus/statements.spl`. `parse(print(ast)) == ast` (spans aside), and printing
//! is idempotent.

use agentic_soc::spl::{parse, print};

fn check(src: &str, origin: &str, failures: &mut Vec<String>) -> bool {
    let Ok(ast) = parse::parse(src) else {
        return false;
    };
    let printed = print::print_script(&ast);
    match parse::parse(&printed) {
        Ok(again) if again == ast => {
            let twice = print::print_script(&again);
            if twice != printed {
                failures.push(format!(
                    "{origin}: printing is not idempotent:\n{printed}\n{twice}"
                ));
            }
        }
        Ok(_) => failures.push(format!("{origin}: the reparsed tree differs:\n{printed}")),
        Err(e) => failures.push(format!(
            "{origin}: the printed text does not parse:\n{printed}\n{e:?}"
        )),
    }
    true
}

#[test]
fn printer_round_trips_the_corpus() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests");
    let mut failures = Vec::new();
    let mut parsed = 0;
    let mut files = vec![];
    let mut stack = vec![std::path::PathBuf::from(root).join("cases/spl")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "spl") {
                files.push(p);
            }
        }
    }
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        parsed += usize::from(check(&src, &f.display().to_string(), &mut failures));
    }
    let corpus = std::fs::read_to_string(format!("{root}/corpus/statements.spl")).unwrap();
    for (i, line) in corpus
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with("--"))
    {
        parsed += usize::from(check(
            line,
            &format!("statements.spl:{}", i + 1),
            &mut failures,
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(parsed > 300, "only {parsed} statements parsed");
}

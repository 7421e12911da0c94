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
    check_format(src, origin, failures);
    true
}

/// `soc spl fmt`'s layout: the formatted text parses to the same tree with the same
/// comments (text, anchor and placement), and formatting it again changes nothing.
/// Returns whether `src` parsed (nothing is checked when it does not).
fn check_format(src: &str, origin: &str, failures: &mut Vec<String>) -> bool {
    let Ok(ast) = parse::parse(src) else {
        return false;
    };
    let comments = parse::comments(src, &ast);
    let formatted = print::format_script(&ast, &comments);
    let Ok(again) = parse::parse(&formatted) else {
        failures.push(format!(
            "{origin}: the formatted text does not parse:\n{formatted}"
        ));
        return true;
    };
    let again_comments = parse::comments(&formatted, &again);
    if again != ast {
        failures.push(format!(
            "{origin}: formatting changed the tree:\n{formatted}"
        ));
    } else if again_comments != comments {
        failures.push(format!(
            "{origin}: formatting moved or lost comments:\n{src}\n---\n{formatted}\n{comments:?}\n{again_comments:?}"
        ));
    } else if print::format_script(&again, &again_comments) != formatted {
        failures.push(format!(
            "{origin}: formatting is not idempotent:\n{formatted}"
        ));
    }
    true
}

#[test]
fn fmt_keeps_comments_and_lays_out_one_stage_per_line() {
    let src = "-- nginx access log\n\
               * -- every event\n\
               | parse-regexp content, '(\\S+) (\\S+)' as ip, user /* two groups */\n\
               -- then rename\n\
               | project-rename \"source.ip\" = ip | extend a = 1 /* inside */ + 2\n\
               -- the end\n";
    let ast = parse::parse(src).unwrap();
    let formatted = print::format_script(&ast, &parse::comments(src, &ast));
    assert_eq!(
        formatted,
        "-- nginx access log\n\
         * -- every event\n  \
         | parse-regexp content, '(\\S+) (\\S+)' as ip, user /* two groups */\n  \
         -- then rename\n  \
         | project-rename \"source.ip\" = ip\n  \
         /* inside */\n  \
         | extend a = 1 + 2\n\
         -- the end\n"
    );
    // Long stages: list items one per line, aligned; a long pattern's outputs continue.
    let long = format!(
        "* | parse-regexp content, '{}(\\S+) (\\S+)' as first_output, second_output -- why\n\
         | extend aaaaaaaaaaaaaaaa = lower(bbbbbbbbbbbbbbbbbbbb), cccccccccccccccccc = upper(dddddddddddddddddddddd), e = 1",
        "x".repeat(60)
    );
    let ast = parse::parse(&long).unwrap();
    let formatted = print::format_script(&ast, &parse::comments(&long, &ast));
    assert_eq!(
        formatted,
        format!(
            "* | parse-regexp content, '{}(\\S+) (\\S+)'\n        \
             as first_output, second_output -- why\n  \
             | extend aaaaaaaaaaaaaaaa = lower(bbbbbbbbbbbbbbbbbbbb),\n           \
             cccccccccccccccccc = upper(dddddddddddddddddddddd),\n           \
             e = 1\n",
            "x".repeat(60)
        )
    );
    let mut failures = Vec::new();
    check_format(&long, "long", &mut failures);
    check_format(src, "inline", &mut failures);
    let several =
        ".let a = * | where x = 1; -- first\n-- second\n.let b = $a | extend y = 2 -- why;\n;$b;";
    check_format(several, "several", &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
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
    let mut commented_parsed = 0;
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
        // The same statement with comments at every stage boundary and around it.
        let commented = format!(
            "-- lead\n{} /* tail */ -- end\n-- after",
            line.replace(" | ", " /* before pipe */ | /* after pipe */ ")
        );
        commented_parsed += usize::from(check_format(
            &commented,
            &format!("statements.spl:{} with comments", i + 1),
            &mut failures,
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(parsed > 300, "only {parsed} statements parsed");
    assert!(
        commented_parsed > 100,
        "only {commented_parsed} commented statements parsed"
    );
}

//! `infer::suggest` snapshots (rule + field table + coverage) for the sample logs under
//! `tests/cases/infer/`, and its behaviour on empty, binary and oversized input.

use agentic_soc::cli::suggest::render;
use agentic_soc::infer::{SuggestOptions, suggest};
use agentic_soc::spl;

fn options() -> SuggestOptions {
    SuggestOptions {
        reference_time: Some("2024-06-01T00:00:00Z".into()),
        overrides: Vec::new(),
    }
}

#[test]
fn suggestions_for_known_sources() {
    insta::glob!("../cases/infer", "*.log", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let samples: Vec<String> = text.lines().map(str::to_string).collect();
        let s = suggest(&samples, &options()).unwrap();
        // Never a rule that does not compile.
        spl::compile(&s.spl).unwrap();
        insta::assert_snapshot!(render(&s));
    });
}

#[test]
fn empty_input_is_a_clear_error() {
    let e = suggest(&["".into(), "  ".into()], &options()).unwrap_err();
    assert_eq!(e.code, "E400");
}

#[test]
fn binary_input_is_rejected() {
    let junk = String::from_utf8_lossy(&[0u8, 1, 2, 0xff, 0xfe, 3, 4, 5, 6, 7, 8, 9]).to_string();
    let e = suggest(&[junk], &options()).unwrap_err();
    assert_eq!(e.code, "E404");
}

#[test]
fn huge_line_is_bounded() {
    let line = "a=1 ".repeat(13 << 20 >> 2);
    let started = std::time::Instant::now();
    let e = suggest(&[line], &options()).unwrap_err();
    assert_eq!(e.code, "E403");
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn override_changes_the_target_and_drop_removes_it() {
    let samples = vec!["src=10.0.0.1 dst=10.0.0.2 dpt=443 act=deny".to_string()];
    let mut o = options();
    o.overrides = vec![
        ("dst".into(), Some("server.ip".into())),
        ("act".into(), None),
    ];
    let s = suggest(&samples, &o).unwrap();
    assert!(
        s.fields
            .iter()
            .any(|f| f.source == "dst" && f.target == "server.ip")
    );
    assert!(s.spl.contains("\"server.ip\""));
    assert!(
        s.fields
            .iter()
            .any(|f| f.source == "act" && f.target.is_empty())
    );
    assert_eq!(s.preview[0]["server.ip"], "10.0.0.2");
}

#[test]
fn year_less_syslog_uses_the_reference_year() {
    let samples = vec![
        "Feb 21 21:54:44 host sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2"
            .to_string(),
    ];
    let s = suggest(&samples, &options()).unwrap();
    assert_eq!(s.preview[0]["@timestamp"], "2024-02-21T21:54:44Z");
    assert_eq!(s.preview[0]["event.outcome"], "failure");
    assert_eq!(s.preview[0]["source.ip"], "10.0.0.1");
}

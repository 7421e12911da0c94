//! The `soc` binary end to end: exit codes, stdout/stderr contracts, dead letters.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn soc(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_soc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("soc runs");
    // soc may exit (bad rule) before reading its input: a broken pipe here is not a failure.
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_valid_and_invalid() {
    let ok = soc(&["spl", "check", "* | where a = 1"], "");
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    let bad = soc(&["spl", "check", "-"], "* | projet a");
    assert_eq!(bad.status.code(), Some(2));
    let err = text(&bad.stderr);
    assert!(err.contains("project"), "did-you-mean expected: {err}");
    assert!(err.contains("<stdin>:1:"), "location expected: {err}");
}

#[test]
fn check_sls_compat_warns_on_extensions() {
    let out = soc(
        &[
            "spl",
            "check",
            "--sls-compat",
            "* | extend d = ip_to_domain(ip)",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("W100"), "{}", text(&out.stderr));
    let out = soc(
        &[
            "spl",
            "check",
            "--sls-compat",
            "--deny-warnings",
            "* | extend d = ip_to_domain(ip)",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let plain = soc(&["spl", "check", "* | extend d = ip_to_domain(ip)"], "");
    assert!(text(&plain.stderr).is_empty());
}

#[test]
fn fmt_prints_canonical_text() {
    let out = soc(
        &["spl", "fmt", "-"],
        "*|where   a=1   and b<>'x'|extend c=lower(d)",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let once = text(&out.stdout);
    let again = soc(&["spl", "fmt", "-"], &once);
    assert_eq!(text(&again.stdout), once, "fmt is idempotent");
}

/// Issue 11: `soc spl fmt` keeps `--` and `/* */` comments and puts one stage per line.
#[test]
fn fmt_keeps_comments() {
    let out = soc(
        &["spl", "fmt", "-"],
        "-- rule for x\n*|where a=1 -- ones\n|/* then */extend b=2",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "-- rule for x\n* | where a = 1 -- ones\n  /* then */\n  | extend b = 2\n"
    );
}

#[test]
fn run_lines_in_order_with_failures_on_stderr() {
    let rule = "* | extend n = cast(content as BIGINT) | project n";
    let out = soc(&["spl", "run", rule], "1\n2\nx\n4\n");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "{\"n\":1}\n{\"n\":2}\n{\"n\":4}\n");
    let err = text(&out.stderr);
    assert!(err.contains("<stdin>:3:") && err.contains("E301"), "{err}");
}

#[test]
fn run_dead_letter_file() {
    let dir = std::env::temp_dir().join(format!("soc-dl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dl = dir.join("dead.ndjson");
    let out = soc(
        &[
            "spl",
            "run",
            "* | extend n = cast(content as BIGINT)",
            "--dead-letter",
            dl.to_str().unwrap(),
        ],
        "5\nnope\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).is_empty());
    let dead = std::fs::read_to_string(&dl).unwrap();
    let rec: serde_json::Value = serde_json::from_str(dead.lines().next().unwrap()).unwrap();
    assert_eq!(rec["line"], 2);
    assert_eq!(rec["input"], "nope");
    assert_eq!(rec["error"]["code"], "E301");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn run_ndjson_input_and_text_values() {
    let rule = "* | extend m = b * 2";
    let out = soc(
        &["spl", "run", "--input-format", "ndjson", rule],
        "{\"a\": {\"x\": 1}, \"b\": 2}\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "{\"a\":{\"x\":1},\"b\":2,\"m\":4}\n");
    let out = soc(
        &[
            "spl",
            "run",
            "--input-format",
            "ndjson",
            "--text-values",
            rule,
        ],
        "{\"b\": 2}\n",
    );
    assert_eq!(text(&out.stdout), "{\"b\":\"2\",\"m\":\"4\"}\n");
}

#[test]
fn run_invalid_rule_exits_2() {
    let out = soc(
        &["spl", "run", "* | parse-regexp content, '(a)(b)' as x"],
        "ab\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("E203"));
}

#[test]
fn run_multi_output_is_tagged() {
    let rule =
        ".let ok = * | where content = 'a'; .let other = * | where content <> 'a'; $ok; $other;";
    let out = soc(&["spl", "run", rule], "a\nb\n");
    assert_eq!(
        text(&out.stdout),
        "{\"__dataset__\":\"ok\",\"content\":\"a\"}\n{\"__dataset__\":\"other\",\"content\":\"b\"}\n"
    );
}

#[test]
fn run_the_readme_example() {
    let out = soc(
        &["spl", "run", "examples/nginx.spl", "examples/nginx.log"],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["source.ip"], "203.0.113.7");
    assert_eq!(lines[0]["http.response.status_code"], 200);
    assert_eq!(lines[0]["@timestamp"], "2024-10-10T13:55:36Z");
    assert_eq!(
        lines[2]["http.response.body.bytes"],
        serde_json::Value::Null
    );
    assert_eq!(
        lines[3],
        serde_json::json!({"event.original": "this line is not an access log"}),
        "a line that does not match keeps only its original text"
    );
}

#[test]
fn functions_reference_prints() {
    let out = soc(&["spl", "functions"], "");
    let t = text(&out.stdout);
    assert!(
        t.contains("regexp_extract(") && t.contains("## json"),
        "{}",
        &t[..t.len().min(500)]
    );
    let one = soc(&["spl", "functions", "url_extract_host"], "");
    assert!(text(&one.stdout).contains("url_extract_host("));
}

#[test]
fn missing_input_file_is_reported_and_others_run() {
    let out = soc(
        &[
            "spl",
            "run",
            "* | project content",
            "no/such/file.log",
            "examples/nginx.log",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no/such/file.log"));
    assert_eq!(text(&out.stdout).lines().count(), 4);
}

/// Issue 11: `spl run` reports the events no parse stage matched, warns above
/// `--unparsed-threshold`, and `--unparsed-dead-letter` keeps their input for a replay.
#[test]
fn run_reports_unparsed_events() {
    let good = std::fs::read_to_string("examples/nginx.log").unwrap();
    let good = good.lines().next().unwrap().to_string();
    let input = format!("{good}\nsshd[1]: Accepted password for bob\nnot a log line\n");
    let out = soc(&["spl", "run", "examples/nginx.spl"], &input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "unparsed events are written, not failed"
    );
    assert_eq!(text(&out.stdout).lines().count(), 3);
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: 2 of 3 written events (66.7%) were not matched by any parse stage"),
        "{err}"
    );
    assert!(
        err.contains("--unparsed-threshold"),
        "the hint names the flag: {err}"
    );

    let dir = std::env::temp_dir().join(format!("soc-unparsed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dl = dir.join("unparsed.ndjson");
    let out = soc(
        &[
            "spl",
            "run",
            "examples/nginx.spl",
            "--unparsed-threshold",
            "70",
            "--unparsed-dead-letter",
            dl.to_str().unwrap(),
        ],
        &input,
    );
    let err = text(&out.stderr);
    assert!(!err.contains("warning:"), "{err}");
    assert!(
        err.contains("note: 2 of 3 written events were not matched by any parse stage"),
        "{err}"
    );
    let recs: Vec<serde_json::Value> = std::fs::read_to_string(&dl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["line"], 2);
    assert_eq!(recs[1]["input"], "not a log line");
    std::fs::remove_dir_all(dir).ok();

    // No parse stage at all: nothing to report.
    let out = soc(&["spl", "run", "* | extend a = 1"], "x\n");
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
}

/// Issue 11: `soc test` shows the unparsed count per package and warns above the threshold.
#[test]
fn test_reports_unparsed_events_per_package() {
    let dir = std::env::temp_dir().join(format!("soc-test-unparsed-{}", std::process::id()));
    let pkg = dir.join("kv");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("rule.spl"),
        "* | parse-regexp content, '^(\\w+)=(\\w+)$' as k, v\n",
    )
    .unwrap();
    std::fs::write(pkg.join("sample.log"), "a=1\nplain text\n").unwrap();
    std::fs::write(
        pkg.join("sample.expected.ndjson"),
        "{\"content\":\"a=1\",\"k\":\"a\",\"v\":\"1\"}\n{\"content\":\"plain text\"}\n",
    )
    .unwrap();
    let out = soc(&["test", dir.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("2 events, 1 unparsed"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("warning: 1 of 2 written events (50.0%)"),
        "{}",
        text(&out.stderr)
    );
    let out = soc(
        &["test", dir.to_str().unwrap(), "--unparsed-threshold", "50"],
        "",
    );
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_event() {
    let out = soc(
        &[
            "spl",
            "run",
            "--input-format",
            "ndjson",
            "* | extend b = a",
            "-",
        ],
        "\u{feff}{\"a\":\"x\"}\n{\"a\":\"y\"}\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines, [r#"{"a":"x","b":"x"}"#, r#"{"a":"y","b":"y"}"#]);
}

//! `soc normalize` end to end on small generated archives: compression formats, framing,
//! ordering, dead letters, accounting, interruption and resume, invalid UTF-8, empty and
//! missing files. The reference for every output is `soc spl run` on the same lines.

use agentic_soc::batch::generate::{Kind, generate};
use serde_json::Value as Json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const NOW: &str = "2024-01-01T00:00:00Z";
const NGINX: &str = "examples/nginx.spl";

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("soc-normalize-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn soc(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_soc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("soc runs");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn generated(kind: Kind, events: usize, seed: u64) -> Vec<u8> {
    let mut v = Vec::new();
    generate(kind, events, seed, &mut v).unwrap();
    v
}

fn gzip_members(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(p).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(b), &mut out).unwrap();
    out
}

/// `soc spl run RULE FILES... --now NOW` (+ extra flags): the reference output.
fn spl_run(rule: &str, files: &[&str], extra: &[&str]) -> Vec<u8> {
    let mut args = vec!["spl", "run", rule, "--now", NOW];
    args.extend_from_slice(extra);
    args.extend_from_slice(files);
    let out = soc(&args, b"");
    assert!(out.status.code().unwrap_or(2) < 2, "{}", text(&out.stderr));
    out.stdout
}

fn normalize(args: &[&str]) -> Output {
    let mut all = vec!["normalize", "--now", NOW];
    all.extend_from_slice(args);
    soc(&all, b"")
}

fn stats(path: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `read == written + failed + dropped` for the totals and every file.
fn assert_reconciles(s: &Json) {
    let check = |c: &Json| {
        let n = |k: &str| c[k].as_u64().unwrap_or_else(|| panic!("{k} in {c}"));
        assert_eq!(
            n("read"),
            n("written") + n("failed") + n("dropped"),
            "accounting does not add up: {c}"
        );
    };
    check(&s["totals"]);
    for f in s["files"].as_array().unwrap() {
        check(f);
    }
}

#[test]
fn plain_gzip_multi_member_and_zstd_give_spl_run_output() {
    let d = Scratch::new("formats");
    let a = generated(Kind::Nginx, 3000, 1);
    let b = generated(Kind::Nginx, 2000, 2);
    let c = generated(Kind::Nginx, 1000, 3);
    std::fs::write(d.path("a.log"), &a).unwrap();
    std::fs::write(d.path("b.log"), &b).unwrap();
    std::fs::write(d.path("c.log"), &c).unwrap();
    let reference = spl_run(NGINX, &[&d.s("a.log"), &d.s("b.log"), &d.s("c.log")], &[]);

    let logs = d.path("logs");
    std::fs::create_dir_all(logs.join("z")).unwrap();
    std::fs::copy(d.path("a.log"), logs.join("1-a.log")).unwrap();
    let (b1, b2) = b.split_at(b.len() / 2 + 17); // a member boundary inside a line
    std::fs::write(logs.join("2-b.log.gz"), gzip_members(&[b1, b2])).unwrap();
    std::fs::write(logs.join("z/3-c.zst"), zstd::encode_all(&c[..], 3).unwrap()).unwrap();

    let out = normalize(&[
        "--rule",
        NGINX,
        &logs.display().to_string(),
        "-o",
        &d.s("out.ndjson"),
        "--stats",
        &d.s("stats.json"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(d.path("out.ndjson")).unwrap(), reference);
    let s = stats(&d.path("stats.json"));
    assert_reconciles(&s);
    assert_eq!(s["totals"]["read"], 6000);
    assert_eq!(s["totals"]["written"], 6000);
    let files: Vec<&str> = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        files[0].ends_with("1-a.log") && files[2].ends_with("3-c.zst"),
        "{files:?}"
    );
    assert!(text(&out.stderr).contains("6000 read = 6000 written + 0 failed + 0 dropped"));
}

#[test]
fn ordering_holds_under_many_threads_and_tiny_chunks() {
    let d = Scratch::new("order");
    std::fs::write(d.path("in.log"), generated(Kind::Nginx, 20_000, 9)).unwrap();
    let reference = spl_run(NGINX, &[&d.s("in.log")], &[]);
    for threads in ["1", "3", "8"] {
        let out = normalize(&[
            "--rule",
            NGINX,
            &d.s("in.log"),
            "--threads",
            threads,
            "--chunk-bytes",
            "700",
            "-q",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            out.stdout == reference,
            "order differs with {threads} threads"
        );
    }
}

#[test]
fn compressed_output_by_extension() {
    let d = Scratch::new("outz");
    std::fs::write(d.path("in.log"), generated(Kind::Sshd, 3000, 4)).unwrap();
    let reference = spl_run("rules/sshd/rule.spl", &[&d.s("in.log")], &[]);
    for name in ["out.ndjson.gz", "out.ndjson.zst"] {
        let out = normalize(&[
            "--rule",
            "rules/sshd/rule.spl",
            &d.s("in.log"),
            "-o",
            &d.s(name),
            "--chunk-bytes",
            "20000",
            "-q",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let bytes = std::fs::read(d.path(name)).unwrap();
        let plain = if name.ends_with(".gz") {
            gunzip(&bytes)
        } else {
            zstd::decode_all(&bytes[..]).unwrap()
        };
        assert!(plain == reference, "{name} differs");
    }
}

#[test]
fn multi_line_records_with_first_line() {
    let d = Scratch::new("multiline");
    let input = generated(Kind::Multiline, 2000, 5);
    std::fs::write(d.path("app.log"), &input).unwrap();
    let rule = r"* | parse-regexp content, '^(\S+ \S+) (\w+) ' as ts, level | extend lines = cardinality(split(content, chr(10))) | project-away content";
    let out = normalize(&[
        "--rule",
        rule,
        &d.s("app.log"),
        "--first-line",
        r"^\d{4}-\d{2}-\d{2} ",
        "--chunk-bytes",
        "3000",
        "--threads",
        "3",
        "--stats",
        &d.s("s.json"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = stats(&d.path("s.json"));
    assert_eq!(s["totals"]["read"], 2000, "one record per generated event");
    let rows: Vec<Json> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2000);
    let errors: Vec<&Json> = rows.iter().filter(|r| r["level"] == "ERROR").collect();
    assert!(!errors.is_empty());
    assert!(
        errors.iter().all(|r| r["lines"].as_i64().unwrap() >= 4),
        "stack traces joined"
    );
    let plain_lines = input.iter().filter(|b| **b == b'\n').count() as i64;
    let total_lines: i64 = rows.iter().map(|r| r["lines"].as_i64().unwrap()).sum();
    assert_eq!(total_lines, plain_lines, "every line in exactly one record");
}

#[test]
fn dead_letters_hold_every_failure_with_its_place_and_raw_text() {
    let d = Scratch::new("dead");
    let long = "9".repeat(500);
    let input = format!("1\nx\n2\n{long}\n3\ny z\n");
    std::fs::write(d.path("n.log"), &input).unwrap();
    let rule = "* | extend n = cast(content as BIGINT)";
    let out = normalize(&[
        "--rule",
        rule,
        &d.s("n.log"),
        "--max-record-bytes",
        "100",
        "--dead-letter",
        &d.s("dead.ndjson"),
        "-o",
        &d.s("out.ndjson"),
        "--stats",
        &d.s("s.json"),
    ]);
    assert_eq!(out.status.code(), Some(1), "failed events give exit 1");
    let dead: Vec<Json> = std::fs::read_to_string(d.path("dead.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(dead.len(), 3);
    let place: Vec<(u64, &str, &str)> = dead
        .iter()
        .map(|r| {
            assert!(r["file"].as_str().unwrap().ends_with("n.log"));
            (
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap(),
                r["raw"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        place,
        [
            (2, "runtime_error", "x"),
            (4, "over_long", long.as_str()),
            (6, "runtime_error", "y z")
        ]
    );
    assert_eq!(dead[0]["error"]["code"], "E301", "{}", dead[0]);
    assert!(dead[1]["error"].is_null());
    let written = std::fs::read_to_string(d.path("out.ndjson")).unwrap();
    assert_eq!(
        written,
        "{\"content\":\"1\",\"n\":1}\n{\"content\":\"2\",\"n\":2}\n{\"content\":\"3\",\"n\":3}\n"
    );
    let s = stats(&d.path("s.json"));
    assert_reconciles(&s);
    assert_eq!(
        (
            &s["totals"]["read"],
            &s["totals"]["failed"],
            &s["totals"]["over_long"]
        ),
        (&Json::from(6), &Json::from(3), &Json::from(1))
    );
    // Without a dead-letter file, the first failures go to stderr and the rest are counted.
    let many: String = (0..200).map(|i| format!("x{i}\n")).collect();
    let out = soc(&["normalize", "--rule", rule, "-"], many.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("<stdin>:1:") && err.contains("E301"), "{err}");
    assert!(
        !err.contains("<stdin>:200:"),
        "not every failure on stderr: {err}"
    );
    assert!(err.contains("more failed record(s) not shown"), "{err}");
    // Replaying the dead letters' raw text through the fixed rule recovers the events.
    let raw: String = dead
        .iter()
        .map(|r| format!("{}\n", r["raw"].as_str().unwrap()))
        .collect();
    let replay = soc(
        &[
            "normalize",
            "--rule",
            "* | extend n = try_cast(content as BIGINT)",
            "-",
            "-q",
        ],
        raw.as_bytes(),
    );
    assert_eq!(text(&replay.stdout).lines().count(), 3);
}

#[test]
fn accounting_reconciles_with_where_expand_and_failures() {
    let d = Scratch::new("accounting");
    let mut input = String::new();
    for i in 0..3000 {
        match i % 5 {
            0 => input.push_str(&format!("{{\"k\":\"drop\",\"i\":{i}}}\n")),
            1 => input.push_str(&format!("{{\"k\":\"many\",\"xs\":[1,2,3],\"i\":{i}}}\n")),
            2 => input.push_str("not json\n"),
            3 => input.push_str(&format!("{{\"k\":\"bad\",\"n\":\"x{i}\"}}\n")),
            _ => input.push_str(&format!("{{\"k\":\"one\",\"i\":{i}}}\n")),
        }
    }
    std::fs::write(d.path("a.ndjson"), &input).unwrap();
    std::fs::write(d.path("b.ndjson"), &input[..input.len() / 3]).unwrap();
    let rule =
        "* | where k <> 'drop' | extend m = if(k = 'bad', cast(n as BIGINT), 0) | expand-values xs";
    let out = normalize(&[
        "--rule",
        rule,
        &d.s("a.ndjson"),
        &d.s("b.ndjson"),
        "--input-format",
        "ndjson",
        "--threads",
        "4",
        "--chunk-bytes",
        "2000",
        "--dead-letter",
        &d.s("dead.ndjson"),
        "--stats",
        &d.s("s.json"),
        "-o",
        &d.s("out.ndjson"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let s = stats(&d.path("s.json"));
    assert_reconciles(&s);
    let t = &s["totals"];
    let a = &s["files"][0];
    assert_eq!(a["read"], 3000);
    assert_eq!(a["dropped"], 600);
    assert_eq!(a["failed"], 1200);
    assert_eq!(a["written"], 1200);
    assert_eq!(a["rows_out"], 600 * 3 + 600);
    let out_rows = std::fs::read_to_string(d.path("out.ndjson"))
        .unwrap()
        .lines()
        .count() as u64;
    assert_eq!(t["rows_out"].as_u64().unwrap(), out_rows);
    let dead_rows = std::fs::read_to_string(d.path("dead.ndjson"))
        .unwrap()
        .lines()
        .count() as u64;
    assert_eq!(t["failed"].as_u64().unwrap(), dead_rows);
    // The same events through `spl run` give the same rows.
    let reference = spl_run(
        rule,
        &[&d.s("a.ndjson"), &d.s("b.ndjson")],
        &["--input-format", "ndjson"],
    );
    assert!(std::fs::read(d.path("out.ndjson")).unwrap() == reference);
}

/// Runs `args` with `--stop-after n` (an interruption at an exact record), then `--resume`;
/// the output, dead letters and accounting must equal one uninterrupted run.
fn interrupted_then_resumed(d: &Scratch, out_name: &str, stop_after: &str) {
    let base = |out: &str, dead: &str, st: &str| -> Vec<String> {
        [
            "--rule",
            // Lines whose byte count is `-` match no parse stage: they are written and
            // also go to the unparsed dead letters, which must resume byte for byte too.
            "* | parse-regexp content, '^(\\S+) \\S+ (\\S+) .* \\d{3} \\d+ ' as ip, user | extend b = cast(if(user = 'alice', 'x', '1') as BIGINT) | where coalesce(user, '') <> 'root' | project-away content",
            &d.s("a.log"),
            &d.s("b.log.gz"),
            &d.s("c.log.zst"),
            "--threads",
            "4",
            "--chunk-bytes",
            "5000",
            "-o",
            &d.s(out),
            "--dead-letter",
            &d.s(dead),
            "--unparsed-dead-letter",
            &d.s(&format!("{dead}-unparsed")),
            "--stats",
            &d.s(st),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let whole = base(&format!("whole-{out_name}"), "whole-dead", "whole-stats");
    let whole: Vec<&str> = whole.iter().map(String::as_str).collect();
    let out = normalize(&whole);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    let mut first = base(out_name, "dead", "stats1");
    first.extend(["--stop-after".into(), stop_after.into()]);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let out = normalize(&first);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let s1 = stats(&d.path("stats1"));
    assert_reconciles(&s1);
    assert_eq!(s1["interrupted"], true);
    assert_eq!(
        s1["totals"]["read"].as_u64().unwrap(),
        stop_after.parse::<u64>().unwrap()
    );
    let ckpt = d.path(&format!("{out_name}.checkpoint"));
    assert!(ckpt.exists(), "an interrupted run leaves a checkpoint");

    // What a killed run may leave after its last checkpoint: bytes never committed.
    for f in [out_name, "dead", "dead-unparsed"] {
        let mut w = std::fs::OpenOptions::new()
            .append(true)
            .open(d.path(f))
            .unwrap();
        w.write_all(b"{\"half\": \"a row written after the checkpoint")
            .unwrap();
    }
    let mut second = base(out_name, "dead", "stats2");
    second.push("--resume".into());
    let second: Vec<&str> = second.iter().map(String::as_str).collect();
    let out = normalize(&second);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!ckpt.exists(), "a completed run removes its checkpoint");
    let read = |n: &str| std::fs::read(d.path(n)).unwrap();
    let decode = |b: Vec<u8>| {
        if out_name.ends_with(".gz") {
            gunzip(&b)
        } else {
            b
        }
    };
    assert!(
        decode(read(out_name)) == decode(read(&format!("whole-{out_name}"))),
        "resumed output differs from an uninterrupted run"
    );
    assert!(read("dead") == read("whole-dead"), "dead letters differ");
    assert!(
        read("dead-unparsed") == read("whole-dead-unparsed"),
        "unparsed dead letters differ"
    );
    assert!(
        !read("whole-dead-unparsed").is_empty(),
        "the rule leaves some lines unparsed"
    );
    let (s2, sw) = (stats(&d.path("stats2")), stats(&d.path("whole-stats")));
    assert_reconciles(&s2);
    assert_eq!(s2["totals"], sw["totals"]);
    assert_eq!(s2["resumed"], true);
}

fn resume_inputs(name: &str) -> Scratch {
    let d = Scratch::new(name);
    std::fs::write(d.path("a.log"), generated(Kind::Nginx, 4000, 11)).unwrap();
    let b = generated(Kind::Nginx, 3000, 12);
    std::fs::write(d.path("b.log.gz"), gzip_members(&[&b])).unwrap();
    let c = generated(Kind::Nginx, 2000, 13);
    std::fs::write(d.path("c.log.zst"), zstd::encode_all(&c[..], 1).unwrap()).unwrap();
    d
}

#[test]
fn resume_after_interruption_equals_an_uninterrupted_run() {
    let d = resume_inputs("resume");
    interrupted_then_resumed(&d, "out.ndjson", "5555"); // inside the second file
}

#[test]
fn resume_with_gzip_output_and_at_a_file_boundary() {
    let d = resume_inputs("resume-gz");
    interrupted_then_resumed(&d, "out.ndjson.gz", "4000"); // exactly at the end of a.log
}

#[test]
fn resume_refuses_a_different_rule() {
    let d = Scratch::new("resume-other");
    std::fs::write(d.path("a.log"), generated(Kind::Nginx, 2000, 1)).unwrap();
    let run = |rule: &str, extra: &[&str]| {
        let mut args = vec!["--rule", rule, "-q"];
        let (a, o) = (d.s("a.log"), d.s("o.ndjson"));
        args.extend([a.as_str(), "-o", o.as_str(), "--chunk-bytes", "4000"]);
        args.extend_from_slice(extra);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        normalize(&args)
    };
    assert_eq!(
        run(NGINX, &["--stop-after", "100"]).status.code(),
        Some(130)
    );
    let out = run("* | extend x = 1", &["--resume"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("another rule"),
        "{}",
        text(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly_with_accounting_and_a_checkpoint() {
    let d = Scratch::new("sigint");
    let input = generated(Kind::Nginx, 6000, 21);
    let (head, tail) = input.split_at(input.len() / 3);
    let mut child = Command::new(env!("CARGO_BIN_EXE_soc"))
        .args([
            "normalize",
            "--rule",
            NGINX,
            "-",
            "--now",
            NOW,
            "-o",
            &d.s("out.ndjson"),
            "--stats",
            &d.s("s.json"),
            "--chunk-bytes",
            "4096",
            "--checkpoint-secs",
            "0",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(head).unwrap();
    stdin.flush().unwrap();
    // A checkpoint on disk means the run (and its Ctrl-C handler) is up.
    let ckpt = d.path("out.ndjson.checkpoint");
    let t0 = std::time::Instant::now();
    while !ckpt.exists() {
        assert!(t0.elapsed().as_secs() < 30, "no checkpoint appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // `kill` as the shell's builtin: no procps needed.
    let kill = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(kill.success());
    let _ = stdin.write_all(tail); // the reader stops at its next chunk
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let s = stats(&d.path("s.json"));
    assert_reconciles(&s);
    assert_eq!(s["interrupted"], true);
    let read = s["totals"]["read"].as_u64().unwrap();
    assert!(read > 0 && read < 6000, "read {read}");
    assert!(
        text(&out.stderr).contains("--resume"),
        "{}",
        text(&out.stderr)
    );
    // Resuming with the same input finishes the job exactly.
    let resumed = soc(
        &[
            "normalize",
            "--rule",
            NGINX,
            "-",
            "--now",
            NOW,
            "-o",
            &d.s("out.ndjson"),
            "--chunk-bytes",
            "4096",
            "--resume",
            "-q",
        ],
        &input,
    );
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    std::fs::write(d.path("in.log"), &input).unwrap();
    let reference = spl_run(NGINX, &[&d.s("in.log")], &[]);
    assert!(std::fs::read(d.path("out.ndjson")).unwrap() == reference);
}

#[test]
fn invalid_utf8_is_kept_lossy_and_flagged() {
    let d = Scratch::new("utf8");
    let input: &[u8] = b"caf\xc3\xa9 ok\nbad \xff\xfe bytes\r\ntruncated \xe2\x82\nfine\n";
    std::fs::write(d.path("u.log"), input).unwrap();
    let reference = spl_run("*", &[&d.s("u.log")], &[]);
    let out = normalize(&["--rule", "*", &d.s("u.log"), "--stats", &d.s("s.json")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(out.stdout, reference);
    assert!(text(&out.stdout).contains("bad \u{fffd}\u{fffd} bytes"));
    let s = stats(&d.path("s.json"));
    assert_eq!(s["totals"]["invalid_utf8"], 2);
    assert_eq!(s["totals"]["written"], 4);
    // A failing record with invalid UTF-8 keeps its exact bytes for replay.
    let out = normalize(&[
        "--rule",
        "* | extend n = cast(content as BIGINT)",
        &d.s("u.log"),
        "--dead-letter",
        &d.s("dead.ndjson"),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let dead = std::fs::read_to_string(d.path("dead.ndjson")).unwrap();
    let second: Json = serde_json::from_str(dead.lines().nth(1).unwrap()).unwrap();
    assert_eq!(second["invalid_utf8"], true);
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(second["raw_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, b"bad \xff\xfe bytes");
}

#[test]
fn empty_files_and_a_missing_file() {
    let d = Scratch::new("empty");
    std::fs::write(d.path("0-empty.log"), b"").unwrap();
    std::fs::write(d.path("1-empty.gz"), gzip_members(&[b""])).unwrap();
    std::fs::write(d.path("2-good.log"), generated(Kind::Nginx, 50, 3)).unwrap();
    let out = normalize(&[
        "--rule",
        NGINX,
        &d.s("0-empty.log"),
        &d.s("1-empty.gz"),
        &d.s("nope.log"),
        &d.s("2-good.log"),
        "--stats",
        &d.s("s.json"),
    ]);
    assert_eq!(out.status.code(), Some(1), "a missing input gives exit 1");
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot read") && err.contains("nope.log"),
        "clear error: {err}"
    );
    assert_eq!(
        text(&out.stdout).lines().count(),
        50,
        "other files still processed"
    );
    let s = stats(&d.path("s.json"));
    assert_reconciles(&s);
    let status: Vec<&str> = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["done", "done", "missing", "done"]);
    assert_eq!(s["files"][1]["read"], 0);
}

#[test]
fn nest_text_values_and_stdin() {
    let line = r#"203.0.113.7 - - [10/Oct/2024:13:55:36 +0000] "GET /index.html HTTP/1.1" 200 2326 "-" "curl/8""#;
    let input = format!("{line}\n");
    let out = soc(
        &["normalize", "--rule", NGINX, "-", "--nest", "-q"],
        input.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let row: Json = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(row["source"]["ip"], "203.0.113.7");
    assert_eq!(row["http"]["response"]["status_code"], 200);
    let flat = soc(&["spl", "run", NGINX, "--text-values"], input.as_bytes());
    let out = soc(
        &["normalize", "--rule", NGINX, "-", "--text-values", "-q"],
        input.as_bytes(),
    );
    assert_eq!(out.stdout, flat.stdout);
}

#[test]
fn fatal_errors_exit_2() {
    let out = normalize(&["--rule", "* | projet a", "examples/nginx.log"]);
    assert_eq!(out.status.code(), Some(2));
    let out = normalize(&["--rule", "* | stats n = count(*)", "examples/nginx.log"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("row-level"),
        "{}",
        text(&out.stderr)
    );
    let out = normalize(&["--rule", NGINX, "examples/nginx.log", "--resume"]);
    assert_eq!(out.status.code(), Some(2), "--resume needs -o");
}

#[test]
fn back_pressure_bounds_chunks_in_flight_when_the_output_is_slow() {
    let d = Scratch::new("backpressure");
    std::fs::write(d.path("in.log"), generated(Kind::Nginx, 30_000, 8)).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_soc"))
        .args([
            "normalize",
            "--rule",
            NGINX,
            &d.s("in.log"),
            "--threads",
            "2",
            "--chunk-bytes",
            "4096",
            "--stats",
            &d.s("s.json"),
            "-q",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Nobody reads the output for a while: the pipe fills, the writer blocks, and the
    // reader must stop too instead of piling chunks up in memory.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 30_000);
    let s = stats(&d.path("s.json"));
    let (peak, max) = (
        s["peak_chunks_in_flight"].as_u64().unwrap(),
        s["max_chunks_in_flight"].as_u64().unwrap(),
    );
    assert_eq!(max, 2 * 2 + 2);
    assert!(peak <= max, "{peak} chunks in flight, bound {max}");
}

#[test]
fn progress_shows_on_a_terminal_only() {
    let d = Scratch::new("progress");
    std::fs::write(d.path("in.log"), generated(Kind::Nginx, 5000, 8)).unwrap();
    let args = [NGINX, &d.s("in.log"), "-o", &d.s("out.ndjson")];
    let piped = normalize(&["--rule", args[0], args[1], args[2], args[3]]);
    let err = text(&piped.stderr);
    assert!(!err.contains('\r') && !err.contains("events ("), "{err}");
    assert!(
        err.contains("5000 read"),
        "the summary is always there: {err}"
    );
    // `script` (util-linux) gives the run a pseudo-terminal.
    let Ok(tty) = Command::new("script")
        .args([
            "-qec",
            &format!(
                "{} normalize --rule {} {} -o {}",
                env!("CARGO_BIN_EXE_soc"),
                args[0],
                args[1],
                args[3]
            ),
            "/dev/null",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
    else {
        eprintln!("no `script` here: terminal half skipped");
        return;
    };
    let shown = text(&tty.stdout);
    assert!(shown.contains("events ("), "a bar on a terminal: {shown:?}");
}

/// Issue 11: an nginx rule on sshd lines used to report `20000 written, 0 failed` with no
/// hint. Every event is still written (and the accounting still adds up), but the
/// `unparsed` figure says that no parse stage matched, and stderr warns.
#[test]
fn issue_11_a_rule_that_does_not_fit_counts_unparsed_events_and_warns() {
    let d = Scratch::new("unparsed");
    std::fs::write(d.path("sshd.log"), generated(Kind::Sshd, 2000, 4)).unwrap();
    let out = normalize(&[
        "--rule",
        NGINX,
        &d.s("sshd.log"),
        "-o",
        &d.s("out.ndjson"),
        "--stats",
        &d.s("stats.json"),
        "--unparsed-dead-letter",
        &d.s("unparsed.ndjson"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = stats(&d.path("stats.json"));
    assert_reconciles(&s);
    assert_eq!(s["totals"]["written"], 2000);
    // --unparsed-dead-letter keeps each one's place and raw text (they are written too).
    let unparsed = std::fs::read_to_string(d.path("unparsed.ndjson")).unwrap();
    let first_line = std::fs::read_to_string(d.path("sshd.log")).unwrap();
    let first_line = first_line.lines().next().unwrap();
    let recs: Vec<Json> = unparsed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 2000);
    assert_eq!(recs[0]["line"], 1);
    assert_eq!(recs[0]["reason"], "unparsed");
    assert_eq!(recs[0]["raw"], first_line);
    assert_eq!(
        std::fs::read_to_string(d.path("out.ndjson"))
            .unwrap()
            .lines()
            .count(),
        2000
    );
    assert_eq!(s["totals"]["unparsed"], 2000);
    assert_eq!(s["files"][0]["unparsed"], 2000);
    let err = text(&out.stderr);
    assert!(err.contains("2000 written unparsed (100.0%"), "{err}");
    assert!(
        err.contains(
            "warning: 2000 of 2000 written events (100.0%) were not matched by any parse stage"
        ),
        "{err}"
    );
    // Over the threshold only: 100 turns the warning off, the figure stays.
    let quiet = normalize(&[
        "--rule",
        NGINX,
        &d.s("sshd.log"),
        "-o",
        &d.s("out2.ndjson"),
        "--unparsed-threshold",
        "100",
    ]);
    let err = text(&quiet.stderr);
    assert!(!err.contains("warning:"), "{err}");
    assert!(err.contains("2000 written unparsed"), "{err}");

    // The right rule on the right lines: nothing unparsed, no warning.
    std::fs::write(d.path("nginx.log"), generated(Kind::Nginx, 500, 4)).unwrap();
    let out = normalize(&[
        "--rule",
        NGINX,
        &d.s("nginx.log"),
        "-o",
        &d.s("out3.ndjson"),
        "--stats",
        &d.s("stats3.json"),
    ]);
    let s = stats(&d.path("stats3.json"));
    assert_eq!(s["totals"]["unparsed"], 0, "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("warning:"));
}

//! Standardization on sources the engine has never seen, and rules that hold on lines they
//! were not suggested from: one test per failure class of the unseen-product evaluation,
//! on samples written for the repository (documentation addresses, invented products).

use agentic_soc::event::Text;
use agentic_soc::infer::{SuggestOptions, suggest};
use agentic_soc::spl;
use serde_json::Value;

fn options() -> SuggestOptions {
    SuggestOptions {
        reference_time: Some("2024-06-01T00:00:00Z".into()),
        ..SuggestOptions::default()
    }
}

fn rule(lines: &[&str]) -> String {
    let samples: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    suggest(&samples, &options()).unwrap().spl
}

/// Runs a rule on lines (not necessarily the ones it was suggested from).
fn run(rule: &str, lines: &[&str]) -> Vec<Value> {
    let plan = spl::compile(rule).unwrap_or_else(|e| panic!("{rule}\n{e:?}"));
    let mut runner = spl::Runner::new(&plan);
    lines
        .iter()
        .map(|l| {
            let mut out = Vec::new();
            runner
                .run_event(runner.line_event(Text::new(l)), &mut out)
                .unwrap();
            Value::Object(out[0].1.to_json(false))
        })
        .collect()
}

fn preview(lines: &[&str]) -> Vec<Value> {
    run(&rule(lines), lines)
}

#[test]
fn windows_event_xml_is_read_as_a_tree() {
    let ev = |id: u32, user: &str, ip: &str| {
        format!(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
             <Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>{id}</EventID>\
             <TimeCreated SystemTime='2024-05-01T10:00:00.123Z'/><Execution ProcessID='612' \
             ThreadID='700'/><Computer>dc01.corp.example</Computer></System><EventData>\
             <Data Name='TargetUserName'>{user}</Data><Data Name='IpAddress'>{ip}</Data>\
             <Data Name='IpPort'>50123</Data></EventData></Event>"
        )
    };
    let a = ev(4625, "bob", "198.51.100.9");
    let b = ev(4624, "alice", "198.51.100.10");
    let r = rule(&[&a, &b]);
    // SLS has no XML instruction: the rule extracts with regexp_extract.
    assert!(r.contains("regexp_extract"), "{r}");
    let c = ev(4634, "carol", "198.51.100.11");
    let p = run(&r, &[&c]);
    assert_eq!(p[0]["event.code"], "4634");
    assert_eq!(p[0]["user.name"], "carol");
    assert_eq!(p[0]["source.ip"], "198.51.100.11");
    assert_eq!(p[0]["source.port"], 50123);
    // Recognized as Windows Security: System/Execution/ProcessID is the process that logged the
    // event (the product entry keeps it as winlog.process.pid; process.pid is EventData's ProcessId).
    assert_eq!(p[0]["winlog.process.pid"], 612);
    assert_eq!(
        p[0]["event.provider"],
        "Microsoft-Windows-Security-Auditing"
    );
    assert_eq!(p[0]["host.name"], "dc01.corp.example");
    assert_eq!(p[0]["@timestamp"], "2024-05-01T10:00:00.123Z");
}

#[test]
fn nested_json_layers_arrays_and_entity_keys() {
    let lines = [
        r#"{"time":"2024-05-01T10:00:00Z","actor":{"id":"u-1","displayName":"Bob Example"},"client":{"ipAddress":"192.0.2.7"},"properties":"{\"verb\":\"delete\",\"user\":{\"username\":\"system:admin\"},\"userAgent\":\"kubectl/v1.29\"}","riskData":{"status":"low"}}"#,
        r#"{"time":"2024-05-01T10:00:05Z","actor":{"id":"u-2","displayName":"Alice Example"},"client":{"ipAddress":"192.0.2.8"},"properties":"{\"verb\":\"create\",\"user\":{\"username\":\"alice\"},\"userAgent\":\"kubectl/v1.29\"}","riskData":{"status":"high"}}"#,
    ];
    let p = preview(&lines);
    assert_eq!(p[0]["user.id"], "u-1");
    assert_eq!(p[0]["user.full_name"], "Bob Example");
    assert_eq!(p[0]["client.ip"], "192.0.2.7");
    // JSON carried as a string inside JSON is peeled.
    assert_eq!(p[0]["event.action"], "delete");
    assert_eq!(p[0]["user_agent.original"], "kubectl/v1.29");
    // A generic leaf under a parent nothing explains is not an HTTP status.
    assert!(p[0].get("http.response.status_code").is_none(), "{}", p[0]);
}

#[test]
fn sources_that_write_model_names_and_arrays_keep_them() {
    let p = preview(&[
        r#"{"@timestamp":"2024-05-01T10:00:00.5Z","log.level":"INFO","service.name":"auth","process.thread.name":"main","user":{"roles":["admin","ops"]}}"#,
        r#"{"@timestamp":"2024-05-01T10:00:01.5Z","log.level":"WARN","service.name":"auth","process.thread.name":"worker-1","user":{"roles":["ops"]}}"#,
    ]);
    assert_eq!(p[0]["log.level"], "INFO");
    assert_eq!(p[0]["service.name"], "auth");
    assert_eq!(p[1]["process.thread.name"], "worker-1");
    assert_eq!(p[0]["user.roles"], serde_json::json!(["admin", "ops"]));
}

#[test]
fn epoch_times_in_named_fields() {
    let p = preview(&[
        r#"{"creation_time":1714557600123,"name":"a"}"#,
        r#"{"creation_time":1714557601456,"name":"b"}"#,
    ]);
    assert_eq!(p[0]["@timestamp"], "2024-05-01T10:00:00.123Z");
}

#[test]
fn application_log_headers_in_common_orders() {
    let p = preview(&[
        "2024-05-01 10:00:00,123 | INFO  | Starting broker | org.example.Broker | main",
        "2024-05-01 10:00:01,456 | WARN  | Store is slow | org.example.Store | main",
    ]);
    assert_eq!(p[0]["log.level"], "INFO");
    assert_eq!(p[0]["@timestamp"], "2024-05-01T10:00:00.123Z");
    let p = preview(&[
        "[7] 2024/05/01 10:00:00.123456 [INF] Listening on 0.0.0.0:4222",
        "[7] 2024/05/01 10:00:01.000001 [ERR] Client closed",
    ]);
    // Three-letter abbreviations are written out.
    assert_eq!(p[1]["log.level"], "error");
    assert_eq!(p[0]["process.pid"], 7);
    assert_eq!(p[0]["@timestamp"], "2024-05-01T10:00:00.123456Z");
    // An application's own errors are typed as errors.
    assert_eq!(p[1]["event.type"], serde_json::json!(["error"]));
    let p = preview(&[
        "WARN  [main] 2024-05-01 10:00:00,123 Config.java:92 - loading",
        "INFO  [io-2] 2024-05-01 10:00:01,456 Server.java:10 - ready",
    ]);
    assert_eq!(p[1]["process.thread.name"], "io-2");
    assert_eq!(p[1]["log.level"], "INFO");
}

#[test]
fn free_text_with_a_stray_comma_is_not_csv() {
    let s = suggest(
        &[
            "192.0.2.1:5353 - 100 \"A IN example.com. udp 57\" NOERROR qr,aa,rd 66 0.0001s".into(),
            "192.0.2.2:5354 - 101 \"AAAA IN example.org. udp 58\" NXDOMAIN qr,rd,ra 70 0.0002s"
                .into(),
        ],
        &options(),
    )
    .unwrap();
    assert!(!s.spl.contains("parse-csv"), "{}", s.spl);
}

#[test]
fn sshd_rules_hold_on_new_users() {
    let seen = [
        "Mar  3 10:00:01 web1 sshd[1201]: Failed password for invalid user admin from 203.0.113.5 port 50122 ssh2",
        "Mar  3 10:00:03 web1 sshd[1202]: Failed password for root from 203.0.113.6 port 50123 ssh2",
        "Mar  3 10:00:05 web1 sshd[1203]: Failed password for invalid user oracle from 203.0.113.7 port 50124 ssh2",
        "Mar  3 10:00:07 web1 sshd[1204]: Accepted password for alice from 203.0.113.8 port 50125 ssh2",
    ];
    let r = rule(&seen);
    let p = run(
        &r,
        &[
            "Mar  4 11:00:01 web2 sshd[2201]: Failed password for invalid user zelda from 198.51.100.5 port 40000 ssh2",
            "Mar  4 11:00:03 web2 sshd[2202]: Accepted password for bob from 198.51.100.6 port 40001 ssh2",
        ],
    );
    assert_eq!(p[0]["user.name"], "zelda");
    assert_eq!(p[0]["source.ip"], "198.51.100.5");
    assert_eq!(p[1]["user.name"], "bob");
    assert_eq!(p[1]["source.port"], 40001);
}

#[test]
fn session_opened_for_user_is_the_user() {
    let p = preview(&[
        "Mar  3 10:00:09 web1 sshd[1205]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
        "Mar  3 10:00:10 web1 sshd[1206]: pam_unix(sshd:session): session opened for user bob(uid=1001) by (uid=0)",
    ]);
    assert_eq!(p[0]["user.name"], "alice");
}

#[test]
fn access_log_with_a_query_string() {
    let p = preview(&[
        r#"198.51.100.1 - - [10/Oct/2024:13:55:36 +0000] "GET /search?q=shoes&page=2 HTTP/1.1" 200 512 "-" "curl/8.0""#,
        r#"198.51.100.2 - - [10/Oct/2024:13:55:37 +0000] "GET /item?id=7 HTTP/1.1" 404 12 "-" "curl/8.0""#,
    ]);
    assert_eq!(p[0]["url.query"], "q=shoes&page=2");
    assert_eq!(p[0]["http.response.status_code"], 200);
    assert_eq!(p[1]["http.response.body.bytes"], 12);
}

#[test]
fn cef_after_a_classic_syslog_header() {
    let p = preview(&[
        "<134>Oct 10 13:55:36 fw1 CEF:0|Acme|Gate|1.0|100|Blocked|5|src=192.0.2.1 dst=192.0.2.2 act=block",
        "<134>Oct 10 13:55:37 fw1 CEF:0|Acme|Gate|1.0|101|Allowed|3|src=192.0.2.3 dst=192.0.2.4 act=allow",
    ]);
    assert_eq!(p[0]["observer.vendor"], "Acme");
    assert_eq!(p[0]["observer.product"], "Gate");
    assert_eq!(p[0]["host.hostname"], "fw1");
    assert_eq!(p[0]["source.ip"], "192.0.2.1");
    assert!(p[0].get("process.name").is_none());
}

#[test]
fn csv_header_row_is_not_an_event_even_after_a_bom() {
    let lines = [
        "\u{feff}user,src_ip,action",
        "alice,192.0.2.1,login",
        "bob,192.0.2.2,logout",
    ];
    let r = rule(&lines);
    let plan = spl::compile(&r).unwrap();
    let mut runner = spl::Runner::new(&plan);
    let mut out = Vec::new();
    runner
        .run_event(runner.line_event(Text::new(lines[0])), &mut out)
        .unwrap();
    assert!(out.is_empty(), "the header row was emitted: {r}");
    let p = run(&r, &lines[1..]);
    assert_eq!(p[0]["user.name"], "alice");
    assert_eq!(p[1]["source.ip"], "192.0.2.2");
}

#[test]
fn one_binary_line_does_not_refuse_the_sample() {
    let s = suggest(
        &[
            r#"{"user":"a","src_ip":"192.0.2.1"}"#.into(),
            String::from_utf8_lossy(&[0, 1, 2, 3, 4, 5, 6, 7, 8]).into_owned(),
            r#"{"user":"b","src_ip":"192.0.2.2"}"#.into(),
        ],
        &options(),
    )
    .unwrap();
    assert!(s.spl.contains("source.ip"));
    assert!(s.diagnostics.iter().any(|d| d.code == "E404"));
}

#[test]
fn audit_events_with_a_client_address_are_not_network_traffic() {
    let p = preview(&[
        r#"{"ts":"2024-05-01T10:00:00Z","client_ip":"192.0.2.7","operation":"UpdateSettings"}"#,
        r#"{"ts":"2024-05-01T10:00:01Z","client_ip":"192.0.2.8","operation":"ReadSettings"}"#,
    ]);
    assert_ne!(p[0]["event.category"], serde_json::json!(["network"]));
}

#[test]
fn repeated_labels_in_a_template_keep_every_value() {
    let r = rule(&[
        "job id 1 ran; parent id 7 waited",
        "job id 2 ran; parent id 8 waited",
        "job id 3 ran; parent id 9 waited",
    ]);
    // No field is renamed onto one target twice (one value would be lost).
    let plan = spl::compile(&r).unwrap();
    let _ = plan;
    let renames: Vec<&str> = r
        .lines()
        .filter(|l| l.contains("project-rename"))
        .flat_map(|l| l.split(", "))
        .filter_map(|p| p.split(" = ").next())
        .collect();
    let mut uniq = renames.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), renames.len(), "{r}");
}

#[test]
fn date_and_time_in_separate_columns_and_zone_abbreviations() {
    let p = preview(&[
        "4625,2024-05-01,10:00:00,192.0.2.1,bob",
        "4624,2024-05-01,10:00:05,192.0.2.2,alice",
    ]);
    assert_eq!(p[0]["@timestamp"], "2024-05-01T10:00:00Z");
    let p = preview(&[
        r#"{"when":"2024-05-01 12:00:00 CEST","user":"bob"}"#,
        r#"{"when":"2024-05-01 12:00:05 CEST","user":"alice"}"#,
    ]);
    assert_eq!(p[0]["@timestamp"], "2024-05-01T10:00:00Z");
}

#[test]
fn access_log_with_extra_columns_keeps_the_known_ones() {
    let p = preview(&[
        r#"192.0.2.1 - - [10/Oct/2024:13:55:36 +0000] "GET /a HTTP/1.1" 200 512 "-" "curl/8.0" 42 "router-a" "http://10.0.0.1:8080" 2ms"#,
        r#"192.0.2.2 - bob [10/Oct/2024:13:55:37 +0000] "POST /b HTTP/1.1" 302 12 "-" "curl/8.0" 43 "router-b" "http://10.0.0.2:8080" 15ms"#,
    ]);
    assert_eq!(p[1]["url.original"], "/b");
    assert_eq!(p[1]["http.response.status_code"], 302);
    assert_eq!(p[1]["user.name"], "bob");
    // A duration with its unit, in nanoseconds.
    assert_eq!(p[1]["event.duration"], 15_000_000);
    // The upstream URL is not the request's.
    assert!(p[1].get("url.domain").is_none(), "{}", p[1]);
}

#[test]
fn leef_2_with_its_own_delimiter() {
    for d in ["^", "x5E", "0x5e"] {
        let line = |n: u32, user: &str| {
            format!(
                "<13>Oct 10 13:55:3{n} qr1 LEEF:2.0|Acme|Sensor|1.0|4{n}|{d}|src=192.0.2.{n}^dst=198.51.100.{n}^usrName={user}^proto=tcp"
            )
        };
        let (a, b) = (line(1, "bob"), line(2, "alice"));
        let p = preview(&[&a, &b]);
        assert_eq!(p[0]["source.ip"], "192.0.2.1", "{d}");
        assert_eq!(p[1]["destination.ip"], "198.51.100.2", "{d}");
        assert_eq!(p[1]["user.name"], "alice", "{d}");
        assert_eq!(p[0]["observer.vendor"], "Acme");
    }
}

#[test]
fn the_parsed_message_remainder_is_kept() {
    let p = preview(&[
        "<13>Oct 10 13:55:36 host1 app[12]: user bob logged in from 192.0.2.1",
        "<13>Oct 10 13:55:37 host1 app[12]: user alice logged in from 192.0.2.2",
    ]);
    assert_eq!(p[0]["message"], "user bob logged in from 192.0.2.1");
}

#[test]
fn message_types_beyond_the_stage_limit_are_named() {
    // 20 message types (different lengths), two lines each: more than 16 stages can hold.
    let lines: Vec<String> = (1..=20)
        .flat_map(|i| {
            let words = "step ".repeat(i);
            [
                format!("{}done after {} ms", words, 10 + i),
                format!("{}done after {} ms", words, 20 + i),
            ]
        })
        .collect();
    let s = suggest(&lines, &options()).unwrap();
    spl::compile(&s.spl).unwrap();
    assert!(s.spl.matches("\n  | ").count() < 16);
    assert!(
        s.diagnostics
            .iter()
            .any(|d| d.message.contains("message types") && d.message.contains("16 stages")),
        "{:?}",
        s.diagnostics
    );
}

#[test]
fn a_package_keeps_multi_line_framing() {
    let dir = std::env::temp_dir().join(format!("soc-frame-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let records = [
        "2024-05-01 10:00:00,123 ERROR [main] App - failed\njava.lang.IllegalStateException: boom\n\tat com.example.App.run(App.java:10)",
        "2024-05-01 10:00:01,456 INFO [main] App - retrying",
    ];
    let samples: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    let s = suggest(&samples, &options()).unwrap();
    let r = agentic_soc::rules::write_package(
        &dir,
        &s.spl,
        &samples,
        "2024-06-01T00:00:00Z",
        Some(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"),
    )
    .unwrap();
    assert_eq!(r.samples[0].actual.len(), 2, "two records, not four lines");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_keys_the_samples_did_not_show_are_kept() {
    let r = rule(&[
        r#"{"time":"2024-05-01T10:00:00Z","actor":{"id":"u-1","team":"red"},"op":"read"}"#,
        r#"{"time":"2024-05-01T10:00:05Z","actor":{"id":"u-2","team":"blue"},"op":"write"}"#,
    ]);
    let p = run(
        &r,
        &[
            r#"{"time":"2024-05-01T10:00:09Z","actor":{"id":"u-3","team":"red","mfa":true},"op":"read","extra":"x"}"#,
        ],
    );
    assert_eq!(p[0]["user.id"], "u-3");
    // The nested key no sample had is kept in the vendor copy of its object...
    assert_eq!(p[0]["vendor.actor"]["mfa"], true, "{}", p[0]);
    // ...and an unseen first-level key is kept under the vendor prefix.
    assert_eq!(p[0]["vendor.extra"], "x", "{}", p[0]);
}

/// A payload key with a model field's own name (`@timestamp`) that loses to another time key
/// is kept under the vendor prefix without carrying the computed `@timestamp` away.
#[test]
fn a_payload_key_named_like_a_model_field_does_not_take_the_computed_value_away() {
    let lines = [
        r#"{"timestamp":"2024-05-01T10:00:00.123Z","@timestamp":"2019-01-27T20:15:10,380","user":"ann","event_kind":"audit"}"#,
        r#"{"timestamp":"2024-05-01T10:00:01.456Z","user":"bob","event_kind":"audit"}"#,
    ];
    for ev in preview(&lines) {
        assert!(
            ev.get("@timestamp")
                .and_then(Value::as_str)
                .is_some_and(|t| t.starts_with("2024-05-01T10:00:0")),
            "{ev}"
        );
    }
}

/// Space-separated pairs whose values are comma lists are not split at the commas.
#[test]
fn key_value_pairs_with_comma_list_values() {
    let lines = [
        r#"id=gw time="2024-03-08 17:31:09" fw="gw-1" cpu=1,1,1 mem=0,0,0,0 msg="reloaded, modules: a, b" logtype="system""#,
        r#"id=gw time="2024-03-08 17:31:10" fw="gw-1" pri=5 service=routerd msg="daemon reloaded" logtype="system""#,
    ];
    let p = preview(&lines);
    assert!(p[0].get("@timestamp").is_some(), "{}", p[0]);
    assert!(
        p[1].as_object().unwrap().values().any(|v| v == "routerd"),
        "{}",
        p[1]
    );
}

/// Audit actions are categorized by the words of their names, also actions not in the samples.
#[test]
fn audit_actions_are_categorized_by_their_words() {
    let lines = [
        r#"{"ts":"2024-05-01T10:00:00Z","event":"createUser","actor":"ann","status":"success"}"#,
        r#"{"ts":"2024-05-01T10:00:01Z","event":"updateConfig","actor":"bob","status":"success"}"#,
        r#"{"ts":"2024-05-01T10:00:02Z","event":"login","actor":"bob","status":"failure"}"#,
    ];
    let r = rule(&lines);
    let p = run(
        &r,
        &[
            lines[0],
            lines[1],
            lines[2],
            r#"{"ts":"2024-05-01T10:00:03Z","event":"deleteUser","actor":"ann","status":"success"}"#,
        ],
    );
    assert_eq!(p[0]["event.action"], "createUser", "{r}");
    assert_eq!(
        p[0]["event.category"],
        serde_json::json!(["iam"]),
        "{}",
        p[0]
    );
    assert_eq!(p[1]["event.category"], serde_json::json!(["configuration"]));
    assert_eq!(p[1]["event.type"], serde_json::json!(["change"]));
    assert!(
        p[2]["event.category"]
            .as_array()
            .unwrap()
            .contains(&"authentication".into())
    );
    // Not in the samples: categorized by its words.
    assert!(
        p[3]["event.type"]
            .as_array()
            .unwrap()
            .contains(&"deletion".into()),
        "{}\n{r}",
        p[3]
    );
}

/// Keys of a structured payload that the samples did not show are kept under the vendor
/// prefix by the rule (the payload parser prefixes every key; mapped keys are renamed out).
#[test]
fn unseen_payload_keys_are_kept_under_the_vendor_prefix() {
    let json = [
        r#"{"ts":"2024-05-01T10:00:00Z","src_ip":"198.51.100.7","verdict":"pass"}"#,
        r#"{"ts":"2024-05-01T10:00:01Z","src_ip":"198.51.100.8","verdict":"drop"}"#,
    ];
    let r = rule(&json);
    let p = run(
        &r,
        &[
            r#"{"ts":"2024-05-01T10:00:02Z","src_ip":"198.51.100.9","verdict":"pass","tenant":"blue"}"#,
        ],
    );
    assert_eq!(p[0]["source.ip"], "198.51.100.9", "{r}");
    assert_eq!(p[0]["vendor.tenant"], "blue", "{}\n{r}", p[0]);
    assert!(p[0].get("tenant").is_none());

    let kv = [
        "ts=2024-05-01T10:00:00Z src=198.51.100.7 dst=203.0.113.5 act=allow",
        "ts=2024-05-01T10:00:01Z src=198.51.100.8 dst=203.0.113.6 act=deny",
    ];
    let r = rule(&kv);
    let p = run(
        &r,
        &["ts=2024-05-01T10:00:02Z src=198.51.100.9 dst=203.0.113.7 act=allow zone=dmz"],
    );
    assert_eq!(p[0]["vendor.zone"], "dmz", "{}\n{r}", p[0]);
}

/// A DNS server's query line: the client `ip:port` is the source with its port, the name
/// after `IN` is the question (without its root dot), the record type beside it its type.
#[test]
fn dns_query_lines_in_free_text() {
    let lines = [
        r#"[INFO] 192.0.2.10:53012 - 4411 "A IN www.example.org. udp 41 false 512" NOERROR qr,rd,ra 90 0.000210s"#,
        r#"[INFO] 192.0.2.11:40022 - 5120 "AAAA IN mail.example.net. udp 44 false 512" NXDOMAIN qr,rd,ra 120 0.001020s"#,
        r#"[INFO] 192.0.2.12:41000 - 6001 "PTR IN 10.2.0.192.in-addr.arpa. udp 50 false 512" NOERROR qr,aa,rd 110 0.000120s"#,
    ];
    let p = preview(&lines);
    assert_eq!(p[0]["source.ip"], "192.0.2.10", "{}", p[0]);
    assert_eq!(p[0]["source.port"], 53012);
    assert_eq!(p[0]["dns.question.name"], "www.example.org", "{}", p[0]);
    assert_eq!(p[1]["dns.question.type"], "AAAA", "{}", p[1]);
}

/// With no key named for the action, a first-level field whose values all name something
/// done is the action, and its words categorize the event.
#[test]
fn a_field_of_action_phrases_is_the_action() {
    let lines = [
        r#"{"email":"ann@example.com","time":"2024-05-01T10:00:00Z","type":"Sign in","client":"web"}"#,
        r#"{"email":"bob@example.com","time":"2024-05-01T10:05:00Z","type":"Sign out","client":"web"}"#,
        r#"{"email":"bob@example.com","time":"2024-05-01T10:06:00Z","type":"Sign in","client":"mac"}"#,
    ];
    let p = preview(&lines);
    assert_eq!(p[0]["event.action"], "Sign in", "{}", p[0]);
    assert!(
        p[1]["event.category"]
            .as_array()
            .unwrap()
            .contains(&"authentication".into()),
        "{}",
        p[1]
    );
    assert!(
        p[1]["event.type"]
            .as_array()
            .unwrap()
            .contains(&"end".into()),
        "{}",
        p[1]
    );
}

/// A threat-intelligence record (a first-level key names the indicator): its value is typed
/// by its shape row by row into `threat.indicator.*`, its keys describe the indicator, and
/// its addresses are not taken for a connection's endpoints.
#[test]
fn threat_intelligence_records_map_to_the_indicator() {
    let lines = [
        r#"{"ioc":"198.51.100.23:8080","ioc_type":"ip:port","first_seen":"2024-05-01 10:00:00 UTC","confidence_level":75,"malware":"win.example_rat","reporter":"analyst1","reference":"https://intel.example.org/1"}"#,
        r#"{"ioc":"http://bad.example.net/dl.php","ioc_type":"url","first_seen":"2024-05-01 11:00:00 UTC","confidence_level":50,"malware":"win.example_rat","reporter":"analyst2","reference":"https://intel.example.org/2"}"#,
        r#"{"ioc":"0123456789abcdef0123456789abcdef","ioc_type":"md5_hash","first_seen":"2024-05-01 12:00:00 UTC","confidence_level":100,"malware":"elf.example","reporter":"analyst1","reference":"https://intel.example.org/3"}"#,
    ];
    let p = preview(&lines);
    assert_eq!(p[0]["threat.indicator.ip"], "198.51.100.23", "{}", p[0]);
    assert_eq!(p[0]["threat.indicator.port"], 8080);
    assert!(p[0].get("source.ip").is_none() && p[0].get("destination.ip").is_none());
    assert_eq!(
        p[1]["threat.indicator.url.original"],
        "http://bad.example.net/dl.php"
    );
    assert_eq!(p[1]["threat.indicator.url.domain"], "bad.example.net");
    assert_eq!(
        p[2]["threat.indicator.file.hash.md5"],
        "0123456789abcdef0123456789abcdef"
    );
    assert_eq!(p[0]["threat.software.name"], "win.example_rat");
    assert_eq!(p[0]["event.kind"], "enrichment");
    // The indicator's type in ECS's vocabulary, by its shape.
    let types: Vec<&Value> = p.iter().map(|e| &e["threat.indicator.type"]).collect();
    assert_eq!(types, ["ipv4-addr", "url", "file"], "{p:?}");
    // The value as written is kept too.
    assert_eq!(p[1]["vendor.ioc"], "http://bad.example.net/dl.php");
}

/// A log line carried in a JSON record (a container runtime's `log` field, a collector's
/// `message`): its own header (time, level) is peeled from that field.
#[test]
fn a_log_line_inside_json_has_its_header_peeled() {
    let lines = [
        r#"{"log":"2024-05-01 10:00:00,123 INFO  [main] Started server on port 8080\n","stream":"stdout","time":"2024-05-01T10:00:00.123456Z"}"#,
        r#"{"log":"2024-05-01 10:00:01,456 WARN  [pool-1] Connection from 192.0.2.10 refused\n","stream":"stdout","time":"2024-05-01T10:00:01.456789Z"}"#,
        r#"{"log":"2024-05-01 10:00:02,789 ERROR [pool-2] Failed login for user alice\n","stream":"stderr","time":"2024-05-01T10:00:02.789012Z"}"#,
    ];
    let p = preview(&lines);
    assert_eq!(p[1]["log.level"], "WARN", "{}", p[1]);
    assert_eq!(p[2]["log.level"], "ERROR", "{}", p[2]);
    assert!(
        p[2]["message"].as_str().unwrap().contains("Failed login"),
        "{}",
        p[2]
    );
    // The line itself is kept.
    assert!(
        p[0]["vendor.log"]
            .as_str()
            .unwrap()
            .contains("Started server")
    );
}

#[test]
fn proxy_access_log_of_an_unknown_layout() {
    // An invented proxy's access log: the request, the status, counters and a quoted user
    // agent of varying length, then addresses.
    let lines = [
        r#"[2024-05-01T10:00:00.120Z] "GET /catalog/item/7?ref=home HTTP/1.1" 200 - upstream_ok 0 512 3 "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/126.0" 198.51.100.7:51234 203.0.113.20:8080"#,
        r#"[2024-05-01T10:00:01.500Z] "POST /api/orders HTTP/2" 201 - upstream_ok 220 64 12 "curl/8.4.0" 198.51.100.8:40100 203.0.113.20:8080"#,
        r#"[2024-05-01T10:00:02.900Z] "GET /static/app.js HTTP/1.1" 404 - upstream_ok 0 0 1 "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36" 198.51.100.9:52000 203.0.113.21:8080"#,
    ];
    let r = rule(&lines[..2]);
    // A line the rule was not suggested from: another user agent, another status.
    let p = run(&r, &lines[2..]);
    let e = &p[0];
    assert_eq!(e["url.original"], "/static/app.js", "{r}\n{e}");
    assert_eq!(e["url.path"], "/static/app.js", "{e}");
    assert_eq!(e["http.response.status_code"], 404, "{e}");
    assert_eq!(e["http.request.method"], "GET", "{e}");
    assert!(
        e["user_agent.original"].as_str().is_some_and(|ua| ua
            .starts_with("Mozilla/5.0 (Windows NT")
            && ua.ends_with("Safari/537.36")),
        "the quoted user agent is one value: {e}"
    );
}

#[test]
fn free_text_inside_a_json_record_is_mined() {
    let rec = |p: &str, s: &str, d: &str, a: &str| {
        format!(
            r#"{{"category":"NetRule","properties":{{"msg":"{p} request from {s} to {d}. Action: {a}. "}},"time":"2024-05-01T10:00:00.120Z"}}"#
        )
    };
    let lines = [
        rec("TCP", "10.1.0.1:50306", "198.51.100.2:443", "Deny"),
        rec("TCP", "10.1.0.2:51106", "198.51.100.3:8443", "Allow"),
        rec("UDP", "10.1.0.3:49680", "198.51.100.4:53", "Allow"),
        rec("UDP", "10.1.0.4:49000", "198.51.100.5:123", "Deny"),
        rec("TCP", "10.1.0.9:40000", "198.51.100.9:22", "Deny"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = rule(&refs[..4]);
    // New addresses and ports: the sentence is parsed, the full stop is not part of them.
    let p = run(&r, &refs[4..]);
    let e = &p[0];
    assert_eq!(e["source.ip"], "10.1.0.9", "{r}\n{e}");
    assert_eq!(e["source.port"], 40000, "{e}");
    assert_eq!(e["destination.ip"], "198.51.100.9", "{e}");
    assert_eq!(e["destination.port"], 22, "{e}");
    // Text inside the record is text: the endpoint is also written as its address.
    assert_eq!(e["source.address"], "10.1.0.9", "{e}");
}

#[test]
fn dns_query_log_of_an_unknown_resolver() {
    // An invented resolver's query log: time, zone id, name, type, response code, transport,
    // edge, client.
    let lines = [
        "2024-05-01T10:00:00.120Z Z0001 example.com A NOERROR UDP EDGE1 198.51.100.7",
        "2024-05-01T10:00:01.500Z Z0001 www.example.net AAAA NXDOMAIN UDP EDGE1 198.51.100.8",
        "2024-05-01T10:00:02.900Z Z0001 mail.example.org MX NOERROR UDP EDGE1 198.51.100.9",
        "2024-05-01T10:00:03.300Z Z0001 api.example.com TXT SERVFAIL UDP EDGE1 198.51.100.10",
    ];
    let r = rule(&lines[..3]);
    let p = run(&r, &lines[3..]);
    let e = &p[0];
    assert_eq!(e["dns.question.name"], "api.example.com", "{r}\n{e}");
    assert_eq!(e["dns.question.type"], "TXT", "{e}");
    assert_eq!(e["dns.response_code"], "SERVFAIL", "{e}");
}

#[test]
fn syslog_header_with_a_level_and_padded_spaces_before_json() {
    // An appliance writes its level where the host goes, pads with two spaces and sends JSON.
    let rec = |t: &str, ip: &str, port: u32| {
        format!(
            r#"<174>May 19 11:52:{t} INFO  appd[0]:  {{"clientAddr":"{ip}","clientPort":{port},"serverAddr":"203.0.113.9","serverPort":443}}"#
        )
    };
    let lines = [
        rec("36", "10.0.0.21", 59881),
        rec("37", "10.0.0.22", 59882),
        rec("38", "10.0.0.23", 40000),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = rule(&refs[..2]);
    assert!(r.contains("parse-json"), "the payload is JSON: {r}");
    let p = run(&r, &refs[2..]);
    let e = &p[0];
    assert_eq!(e["client.ip"], "10.0.0.23", "{r}\n{e}");
    assert_eq!(e["log.level"], "INFO", "{e}");
    assert!(e.get("host.hostname").is_none(), "INFO is not a host: {e}");
}

#[test]
fn tls_parameters_are_known_by_their_shape() {
    let lines = [
        "2024-05-01T10:00:00.120Z lb-1 198.51.100.7:51234 200 ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 12",
        "2024-05-01T10:00:01.500Z lb-1 198.51.100.8:40100 404 TLS_AES_256_GCM_SHA384 TLSv1.3 7",
        "2024-05-01T10:00:02.900Z lb-1 198.51.100.9:52000 200 - - 3",
        "2024-05-01T10:00:03.300Z lb-1 198.51.100.10:52001 200 ECDHE-ECDSA-CHACHA20-POLY1305 TLSv1.2 5",
    ];
    let r = rule(&lines[..3]);
    let p = run(&r, &lines[3..]);
    let e = &p[0];
    assert_eq!(e["tls.cipher"], "ECDHE-ECDSA-CHACHA20-POLY1305", "{r}\n{e}");
    assert_eq!(e["tls.version"], "1.2", "{e}");
    assert_eq!(e["tls.version_protocol"], "tls", "{e}");
}

#[test]
fn audit_changes_that_state_no_failure_are_successes() {
    let rec = |action: &str, user: &str| {
        format!(
            r#"{{"time":"2024-05-01T10:00:00Z","action":"{action}","actor":{{"email":"{user}@example.com"}},"target":{{"name":"role-admins"}}}}"#
        )
    };
    let lines = [
        rec("user.role.update", "alice"),
        rec("user.create", "bob"),
        rec("group.member.add", "carol"),
        rec("user.delete", "dave"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = rule(&refs[..3]);
    let p = run(&r, &refs[3..]);
    let e = &p[0];
    let cats = e["event.category"].as_array().cloned().unwrap_or_default();
    assert!(cats.iter().any(|c| c == "iam"), "{r}\n{e}");
    assert_eq!(e["event.outcome"], "success", "{r}\n{e}");
}

#[test]
fn two_word_labels_name_their_values() {
    let lines = [
        "<30>Oct 30 20:24:24 nas01 logd[14629]: conn log: User Name: alice, Source IP: 10.50.36.33, Connection type: SMB, Action: Read",
        "<30>Oct 30 20:24:25 nas01 logd[14629]: conn log: User Name: bob, Source IP: 10.50.36.34, Connection type: SMB, Action: Write",
        "<30>Oct 30 20:24:26 nas01 logd[14629]: conn log: User Name: carol, Source IP: 10.50.36.35, Connection type: SMB, Action: Delete",
    ];
    let r = rule(&lines[..2]);
    let p = run(&r, &lines[2..]);
    let e = &p[0];
    assert_eq!(e["source.ip"], "10.50.36.35", "{r}\n{e}");
    assert_eq!(e["user.name"], "carol", "{e}");
}

#[test]
fn a_transport_written_in_the_message_is_the_transport() {
    let lines = [
        "<134>May  1 10:00:00 fw1 filterd: TCP request from 10.1.0.1:50306 to 198.51.100.2:443 denied",
        "<134>May  1 10:00:01 fw1 filterd: TCP request from 10.1.0.2:50307 to 198.51.100.3:443 denied",
        "<134>May  1 10:00:02 fw1 filterd: UDP request from 10.1.0.3:5353 to 198.51.100.4:53 allowed",
        "<134>May  1 10:00:03 fw1 filterd: UDP request from 10.1.0.4:5354 to 198.51.100.5:53 allowed",
    ];
    let r = rule(&lines);
    let p = run(&r, &lines);
    assert_eq!(p[0]["network.transport"], "tcp", "{r}\n{}", p[0]);
    assert_eq!(p[3]["network.transport"], "udp", "{}", p[3]);
}

#[test]
fn times_and_address_ports_are_not_key_value_pairs() {
    let lines = [
        "2024-05-01T10:00:00Z fw1 TCP request from 10.1.0.1:50306 to 198.51.100.2:443 denied",
        "2024-05-01T10:00:01Z fw1 TCP request from 10.1.0.2:50307 to 198.51.100.3:443 denied",
    ];
    let r = rule(&lines);
    assert!(!r.contains("parse-kv"), "{r}");
    let p = run(&r, &lines);
    assert_eq!(p[1]["source.ip"], "10.1.0.2", "{r}\n{}", p[1]);
    assert_eq!(p[1]["destination.port"], 443, "{}", p[1]);
}

#[test]
fn cloud_resource_identifiers_name_the_provider_and_account() {
    let rec = |op: &str, rg: &str| {
        format!(
            r#"{{"time":"2024-05-01T10:00:00Z","operationName":"{op}","resourceId":"/SUBSCRIPTIONS/0a1b2c3d-1111-2222-3333-444455556666/RESOURCEGROUPS/{rg}/PROVIDERS/MICROSOFT.NETWORK/FIREWALLS/FW1"}}"#
        )
    };
    let lines = [
        rec("RuleHit", "RG-A"),
        rec("RuleHit", "RG-B"),
        rec("RuleMiss", "RG-C"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = rule(&refs[..2]);
    let p = run(&r, &refs[2..]);
    assert_eq!(p[0]["cloud.provider"], "azure", "{r}\n{}", p[0]);
    assert_eq!(
        p[0]["cloud.account.id"], "0a1b2c3d-1111-2222-3333-444455556666",
        "{}",
        p[0]
    );
    // An ARN names AWS.
    let arn = |n: u32| {
        format!(
            "2024-05-01T10:00:0{n}Z lb-1 198.51.100.{n}:5000 200 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg-{n}/abc"
        )
    };
    let lines = [arn(1), arn(2), arn(3)];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = rule(&refs[..2]);
    let p = run(&r, &refs[2..]);
    assert_eq!(p[0]["cloud.provider"], "aws", "{r}\n{}", p[0]);
}

#[test]
fn epoch_seconds_with_a_fraction_and_a_start_time_alone() {
    let rec = |start: &str, ip: &str| {
        format!(
            r#"{{"request":{{"start":"{start}","method":"GET","path":"/a"}},"client":{{"ip":"{ip}"}}}}"#
        )
    };
    let lines = [
        rec("1491303422", "198.51.100.1"),
        rec("1470923133.026", "198.51.100.2"),
        rec("1491303500.5", "198.51.100.3"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = rule(&refs[..2]);
    let p = run(&r, &refs[2..]);
    let e = &p[0];
    assert_eq!(e["event.start"], "2017-04-04T10:58:20.500Z", "{r}\n{e}");
    // The only time in the record is also when it was logged.
    assert_eq!(e["@timestamp"], "2017-04-04T10:58:20.500Z", "{e}");
}

#[test]
fn a_first_level_id_different_in_every_record_is_the_event_id() {
    let rec = |id: &str, who: &str| {
        format!(r#"{{"id":"{id}","when":"2024-05-01T10:00:00Z","actor":"{who}","action":"login"}}"#)
    };
    let lines = [
        rec("a1f3", "alice"),
        rec("b7c9", "bob"),
        rec("c0d2", "carol"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = rule(&refs[..2]);
    let p = run(&r, &refs[2..]);
    assert_eq!(p[0]["event.id"], "c0d2", "{r}\n{}", p[0]);
}

#[test]
fn named_keys_are_not_given_roles_by_their_order() {
    // A resolver's JSON: the source is named; another address key (a subnet hint) is not the
    // destination because it comes next.
    let rec = |q: &str, src: &str| {
        format!(
            r#"{{"QueryName":"{q}","ClientSubnet":"198.51.100.0","ClientSubnetLength":24,"SourceIP":"{src}","When":"2024-05-01T10:00:00Z"}}"#
        )
    };
    let lines = [
        rec("example.com", "203.0.113.1"),
        rec("example.org", "203.0.113.2"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let p = run(&rule(&refs), &refs);
    assert_eq!(p[0]["source.ip"], "203.0.113.1", "{}", p[0]);
    assert!(p[0].get("destination.ip").is_none(), "{}", p[0]);
    assert!(p[0].get("destination.port").is_none(), "{}", p[0]);
    // One address no key explains, in an audit record, is its client's.
    let rec = |who: &str, ip: &str| format!(r#"{{"actor":"{who}","addr":"{ip}","act":"login"}}"#);
    let lines = [rec("alice", "198.51.100.7"), rec("bob", "198.51.100.8")];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let p = run(&rule(&refs), &refs);
    assert_eq!(p[1]["source.ip"], "198.51.100.8", "{}", p[1]);
}

//! `infer::suggest` snapshots (rule + field table + coverage) for the sample logs under
//! `tests/cases/infer/`, and its behaviour on empty, binary and oversized input.

use agentic_soc::cli::suggest::render;
use agentic_soc::infer::{SuggestOptions, suggest};
use agentic_soc::spl;

fn options() -> SuggestOptions {
    SuggestOptions {
        reference_time: Some("2024-06-01T00:00:00Z".into()),
        ..SuggestOptions::default()
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

fn preview(lines: &[&str]) -> Vec<serde_json::Value> {
    let samples: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    let s = suggest(&samples, &options()).unwrap();
    spl::compile(&s.spl).unwrap();
    s.preview
}

#[test]
fn iis_w3c_columns_with_optional_fields() {
    let p = preview(&[
        "2020-02-03 04:05:06 10.1.2.3 GET /index.htm a=1 443 - 192.0.2.7 Mozilla/5.0+(X11;+Linux) - 200 0 0 15",
        "2020-02-03 04:05:07 W3SVC2 WEB01 10.1.2.3 POST /api - 80 bob 192.0.2.8 HTTP/1.1 curl/8.0 - - www.example.org 404 0 2 512 128 7",
    ]);
    assert_eq!(p[0]["destination.ip"], "10.1.2.3");
    assert_eq!(p[0]["source.ip"], "192.0.2.7");
    assert_eq!(p[0]["url.path"], "/index.htm");
    assert_eq!(p[0]["url.query"], "a=1");
    assert_eq!(p[0]["url.extension"], "htm");
    assert_eq!(p[0]["user_agent.original"], "Mozilla/5.0 (X11; Linux)");
    assert_eq!(p[0]["event.duration"], 15_000_000);
    assert!(p[0].get("user.name").is_none());
    assert_eq!(p[1]["http.response.status_code"], 404);
    assert_eq!(p[1]["http.response.body.bytes"], 512);
    assert_eq!(p[1]["http.request.body.bytes"], 128);
    assert_eq!(p[1]["destination.domain"], "www.example.org");
    assert_eq!(p[1]["user.name"], "bob");
}

#[test]
fn vpc_flow_log_columns_and_epoch_times() {
    let p = preview(&[
        "2 123456789012 eni-0a1b2c 10.0.0.5 198.51.100.9 44321 443 6 10 840 1700000000 1700000060 ACCEPT OK",
    ]);
    assert_eq!(p[0]["source.ip"], "10.0.0.5");
    assert_eq!(p[0]["destination.port"], 443);
    assert_eq!(p[0]["network.iana_number"], "6");
    assert_eq!(p[0]["network.transport"], "tcp");
    assert_eq!(p[0]["event.start"], "2023-11-14T22:13:20Z");
    assert_eq!(p[0]["@timestamp"], "2023-11-14T22:14:20Z");
    assert_eq!(p[0]["cloud.provider"], "aws");
    assert_eq!(p[0]["cloud.account.id"], "123456789012");
}

#[test]
fn ids_alert_line() {
    let p = preview(&[
        "Mar  1 10:00:00 sensor1 snort[12]: [1:2000001:3] ET SCAN probe [Classification: Attempted Recon] [Priority: 2] {TCP} 192.0.2.1:5555 -> 198.51.100.2:22",
    ]);
    assert_eq!(p[0]["rule.id"], "2000001");
    assert_eq!(p[0]["rule.description"], "ET SCAN probe");
    assert_eq!(p[0]["rule.category"], "Attempted Recon");
    assert_eq!(p[0]["event.severity"], 2);
    assert_eq!(p[0]["network.transport"], "tcp");
    assert_eq!(p[0]["source.port"], 5555);
    assert_eq!(p[0]["destination.ip"], "198.51.100.2");
    assert_eq!(p[0]["event.kind"], "alert");
    assert_eq!(p[0]["observer.name"], "sensor1");
}

#[test]
fn netfilter_link_header_and_rule_tag() {
    let p = preview(&[
        "Mar  1 10:00:00 gw kernel: [WAN_IN-10-D]IN=eth0 OUT= MAC=aa:bb:cc:dd:ee:01:aa:bb:cc:dd:ee:02:08:00 SRC=192.0.2.1 DST=198.51.100.2 LEN=40 TTL=50 ID=1 PROTO=TCP SPT=1 DPT=2",
        "Mar  1 10:00:01 gw kernel: IN=eth0 OUT=eth1 MAC=aa:bb:cc:dd:ee:01:aa:bb:cc:dd:ee:03:08:00 SRC=192.0.2.3 DST=198.51.100.2 LEN=40 TTL=50 ID=2 PROTO=UDP SPT=3 DPT=4",
    ]);
    assert_eq!(p[0]["destination.mac"], "aa:bb:cc:dd:ee:01");
    assert_eq!(p[0]["source.mac"], "aa:bb:cc:dd:ee:02");
    assert_eq!(p[0]["rule.name"], "WAN_IN");
    assert_eq!(p[0]["rule.id"], "10");
    assert_eq!(p[0]["event.action"], "drop");
    assert_eq!(
        p[0]["event.type"],
        serde_json::json!(["denied", "connection"])
    );
    assert_eq!(p[0]["observer.ingress.interface.name"], "eth0");
    assert!(p[0].get("process.name").is_none());
    assert_eq!(p[1]["source.mac"], "aa:bb:cc:dd:ee:03");
    assert!(p[1].get("rule.name").is_none());
}

#[test]
fn milliseconds_and_zone_offsets_are_kept() {
    let p = preview(&[
        "<189>123: Mar 3 04:05:06.789: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (192.0.2.1)",
    ]);
    assert_eq!(p[0]["@timestamp"], "2024-03-03T04:05:06.789Z");
    assert_eq!(p[0]["log.level"], "notice");
    let p = preview(&[
        r#"date=2024-05-06 time=07:08:09 tz="+0200" devname="FW1" srcip=10.0.0.1 dstip=10.0.0.2 action="accept""#,
    ]);
    assert_eq!(p[0]["@timestamp"], "2024-05-06T07:08:09+02:00");
}

#[test]
fn sudo_commands_among_other_auth_messages() {
    let p = preview(&[
        "Mar  1 10:00:00 host sudo:    alice : TTY=pts/3 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/id",
        "Mar  1 10:00:01 host sshd[7]: Accepted publickey for alice from 192.0.2.5 port 5000 ssh2",
        "Mar  1 10:00:02 host sshd[7]: Accepted publickey for bob from 192.0.2.6 port 5001 ssh2",
    ]);
    assert_eq!(p[0]["user.name"], "alice");
    assert_eq!(p[0]["user.effective.name"], "root");
    assert_eq!(p[0]["event.category"], serde_json::json!(["process"]));
    assert_eq!(p[2]["user.name"], "bob");
    assert_eq!(p[2]["source.ip"], "192.0.2.6");
}

#[test]
fn haproxy_http_log_and_duration() {
    let p = preview(&[
        "Apr  2 03:04:05 lb1 haproxy[99]: 192.0.2.9:40000 [02/Apr/2023:03:04:05.123] fe be/srv1 1/0/2/3/45 502 1234 - - ---- 1/1/0/0/0 0/0 \"POST /login.php?x=1 HTTP/1.1\"",
    ]);
    assert_eq!(p[0]["source.ip"], "192.0.2.9");
    assert_eq!(p[0]["source.port"], 40000);
    assert_eq!(p[0]["@timestamp"], "2023-04-02T03:04:05.123Z");
    assert_eq!(p[0]["event.duration"], 45_000_000);
    assert_eq!(p[0]["http.response.status_code"], 502);
    assert_eq!(p[0]["http.response.bytes"], 1234);
    assert_eq!(p[0]["url.path"], "/login.php");
    assert_eq!(p[0]["url.extension"], "php");
    assert_eq!(p[0]["event.outcome"], "failure");
}

#[test]
fn cisco_ise_header() {
    let p = preview(&[
        "Oct  1 01:02:03 ise1 CISE_Passed_Authentications 0000000123 1 0 2023-10-01 01:02:03.456 +00:00 0000000789 5200 NOTICE Passed-Authentication: Authentication succeeded, ConfigVersionId=1",
    ]);
    assert_eq!(p[0]["@timestamp"], "2023-10-01T01:02:03.456Z");
    assert_eq!(p[0]["event.code"], "5200");
    assert_eq!(p[0]["event.sequence"], 789);
    assert_eq!(p[0]["log.level"], "NOTICE");
}

/// `soc suggest` detects multi-line records, frames them at their first lines, and says so
/// in the JSON answer; each framed record is one preview event.
#[test]
fn multi_line_samples_are_framed_at_first_lines() {
    use std::io::Write;
    let input = "2024-05-01 10:00:00,123 ERROR [main] c.e.App - boom\njava.lang.IllegalStateException: bad state\n\tat com.example.App.run(App.java:42)\n2024-05-01 10:00:01,000 INFO [main] c.e.App - recovered\n";
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_soc"))
        .args(["suggest", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["framing"]["first_line"],
        r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"
    );
    assert_eq!(v["preview"].as_array().unwrap().len(), 2, "{v}");
    // Single-line samples have no framing.
    let s = suggest(&["a=1 b=2".to_string(), "a=3 b=4".to_string()], &options()).unwrap();
    assert!(!s.spl.is_empty());
}

#[test]
fn action_from_the_message_verb() {
    let p = preview(&[
        "Mar  1 10:00:00 host sshd[7]: Failed password for carol from 192.0.2.9 port 4000 ssh2",
        "Mar  1 10:00:01 host sshd[7]: Accepted password for carol from 192.0.2.9 port 4001 ssh2",
        "Mar  1 10:00:02 host sshd[7]: Did not receive identification string from 192.0.2.9",
    ]);
    assert_eq!(p[0]["event.action"], "ssh_login");
    assert_eq!(p[1]["event.action"], "ssh_login");
    assert!(p[2].get("event.action").is_none_or(|v| v.is_null()));
}

#[test]
fn network_type_from_the_address_pair() {
    let p = preview(&[
        "Mar  1 10:00:00 gw kernel: IN=eth0 OUT= SRC=198.51.100.7 DST=192.0.2.1 LEN=60 TTL=64 ID=1 PROTO=TCP SPT=5555 DPT=22",
        "Mar  1 10:00:01 gw kernel: IN=eth0 OUT= SRC=198.51.100.8 DST=192.0.2.1 LEN=60 TTL=64 ID=2 PROTO=UDP SPT=5556 DPT=53",
    ]);
    assert_eq!(p[0]["network.type"], "ipv4");
    assert_eq!(p[1]["network.type"], "ipv4");
}

#[test]
fn url_query_is_not_split_at_equals() {
    let p = preview(&[
        "ts=1 src=192.0.2.1:1000 dst=198.51.100.1:80 request: GET https://example.org/img/a=w20-h10",
        "ts=2 src=192.0.2.2:1001 dst=198.51.100.2:80 request: GET https://example.org/img/b=w40-h20",
    ]);
    let urls: Vec<String> = p
        .iter()
        .filter_map(|e| e["url.original"].as_str().map(str::to_string))
        .collect();
    assert!(!urls.is_empty());
    assert!(urls.iter().all(|u| u.contains('=')), "{urls:?}");
}

#[test]
fn client_with_and_without_port() {
    let p = preview(&[
        "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 192.0.2.10] File does not exist: /srv/a.ico",
        "[Fri Sep 09 10:42:30.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 192.0.2.11] File does not exist: /srv/b.ico",
        "[Thu Jun 27 06:58:09.169510 2019] [include:warn] [pid 15934] [client 192.0.2.12:12345] AH01374: mod_include: Options +Includes (or IncludesNoExec) wasn't set, INCLUDES filter removed: /test.html",
    ]);
    assert_eq!(p[0]["source.ip"], "192.0.2.10");
    assert!(p[0].get("source.port").is_none_or(|v| v.is_null()));
    assert_eq!(p[2]["source.ip"], "192.0.2.12");
    assert_eq!(p[2]["source.port"], 12345);
    assert_eq!(p[2]["source.address"], "192.0.2.12");
}

#[test]
fn host_name_clients_are_domains() {
    let p = preview(&[
        "192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 2326",
        "monitoring-server - - [10/Oct/2000:13:55:37 -0700] \"GET /status HTTP/1.0\" 200 12",
    ]);
    assert_eq!(p[0]["source.ip"], "192.0.2.1");
    assert!(p[0].get("source.domain").is_none_or(|v| v.is_null()));
    assert_eq!(p[1]["source.domain"], "monitoring-server");
    assert_eq!(p[1]["source.address"], "monitoring-server");
}

#[test]
fn scheme_less_urls_are_split() {
    let p = preview(&[
        "time=1 user=ann url=www.example.com/pqr?x=1 action=Blocked",
        "time=2 user=bob url=cdn.example.org:8080/img/a.png action=Allowed",
    ]);
    assert_eq!(p[0]["url.domain"], "www.example.com");
    assert_eq!(p[0]["url.path"], "/pqr");
    assert_eq!(p[0]["url.query"], "x=1");
    assert_eq!(p[1]["url.domain"], "cdn.example.org");
    assert_eq!(p[1]["url.path"], "/img/a.png");
}

#[test]
fn network_totals_from_the_directions() {
    let p = preview(&[
        "srcip=192.0.2.1 dstip=198.51.100.1 sentbyte=100 rcvdbyte=250 sentpkt=2 action=accept",
        "srcip=192.0.2.2 dstip=198.51.100.2 sentbyte=7 action=deny",
    ]);
    assert_eq!(p[0]["source.bytes"], 100);
    assert_eq!(p[0]["destination.bytes"], 250);
    assert_eq!(p[0]["network.bytes"], 350);
    assert_eq!(p[0]["network.packets"], 2);
    assert_eq!(p[1]["network.bytes"], 7);
}

#[test]
fn endpoint_named_by_host_name() {
    let p = preview(&[
        r#"{"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","sourceIPAddress":"ec2.amazonaws.com","awsRegion":"us-east-1"}"#,
    ]);
    assert_eq!(p[0]["source.address"], "ec2.amazonaws.com");
    assert_eq!(p[0]["source.domain"], "ec2.amazonaws.com");
    assert!(p[0].get("source.ip").is_none_or(|v| v.is_null()));
    assert_eq!(p[0]["cloud.service.name"], "sts");
}

#[test]
fn numbers_are_not_interface_names() {
    let p = preview(&[
        "Mar  1 10:00:00 box backupd[7]: backup job nightly finished in 1200 seconds",
        "Mar  1 10:20:00 box backupd[7]: backup job weekly finished in 98 seconds",
    ]);
    for e in &p {
        assert!(
            e.get("observer.ingress.interface.name")
                .is_none_or(|v| v.is_null()),
            "{e}"
        );
    }
}

/// Every product entry that names a rule package is recognized on that package's sample, and
/// the suggested rule reproduces part of what the hand-written package emits: an entry whose
/// signatures or field names drift from its own product's logs fails here.
#[test]
fn every_product_package_sample_is_recognized_and_mapped() {
    use agentic_soc::infer::products::library;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    for p in &library().products {
        if p.entry.package.is_empty() {
            continue;
        }
        let dir = root.join(&p.entry.package);
        let Ok(text) = std::fs::read_to_string(dir.join("sample.log")) else {
            continue;
        };
        let samples: Vec<String> = text.lines().map(str::to_string).collect();
        let s = match suggest(&samples, &options()) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{}: suggest failed: {}", p.entry.id, e.message));
                continue;
            }
        };
        spl::compile(&s.spl).unwrap();
        match &s.product {
            Some(r) if r.id == p.entry.id => {}
            other => {
                failures.push(format!(
                    "{}: not recognized on {}/sample.log (got {:?})",
                    p.entry.id,
                    p.entry.package,
                    other.as_ref().map(|r| &r.id)
                ));
                continue;
            }
        }
        // The ECS fields (not vendor-prefixed) the package writes, against those the suggestion
        // writes: the entry must bring at least a third of them.
        let expected =
            std::fs::read_to_string(dir.join("sample.expected.ndjson")).unwrap_or_default();
        let mut want = std::collections::BTreeSet::new();
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(o) = v.as_object() {
                for k in o.keys() {
                    if !k.starts_with(&format!("{}.", p.entry.prefix)) && k != "event.original" {
                        want.insert(k.clone());
                    }
                }
            }
        }
        let mut got = std::collections::BTreeSet::new();
        for e in &s.preview {
            if let Some(o) = e.as_object() {
                got.extend(o.keys().cloned());
            }
        }
        let hit = want.iter().filter(|k| got.contains(*k)).count();
        if !want.is_empty() && hit * 3 < want.len() {
            failures.push(format!(
                "{}: the suggestion writes {hit} of the {} ECS fields its package writes (missing: {:?})",
                p.entry.id,
                want.len(),
                want.difference(&got).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! SPL engine benchmarks: parse+plan of a 10-stage rule, and run throughput (events/s and
//! bytes/s) of an nginx access-log rule, a parse-json rule and a parse-kv firewall rule.
//!
//! Run: `cargo bench --bench spl`. Figures go to BENCHMARKS.md.

use agentic_soc::event::{Event, Text};
use agentic_soc::spl::{self, Runner};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const TEN_STAGES: &str = r#"* | parse-regexp content, '^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-)' as ip, user, t, method, url, proto, status, bytes
| extend status = cast(status as BIGINT), bytes = try_cast(bytes as BIGINT)
| where status >= 200
| extend "@timestamp" = parse_datetime(t, 'dd/MMM/yyyy:HH:mm:ss Z')
| extend path = url_extract_path(concat('http://h', url)), q = url_extract_query(concat('http://h', url))
| extend outcome = CASE WHEN status >= 400 THEN 'failure' ELSE 'success' END
| extend m = lower(method), kind = if(regexp_like(url, '\.(png|jpg|css|js)$'), 'static', 'page')
| project-rename "source.ip" = ip, "user.name" = user, "http.request.method" = method
| project-away content, t, proto
| extend "event.kind" = 'event'"#;

const NGINX_RULE: &str = r#"* | parse-regexp content, '^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"' as client_ip, user, time_local, method, url, http_version, status, bytes, referrer, user_agent
| extend status = cast(status as BIGINT), bytes = try_cast(bytes as BIGINT), "@timestamp" = parse_datetime(time_local, 'dd/MMM/yyyy:HH:mm:ss Z')
| project-rename "source.ip" = client_ip, "http.request.method" = method, "url.original" = url, "http.response.status_code" = status
| project-away content, time_local"#;

const JSON_RULE: &str = r#"* | parse-json content | extend "source.port" = cast(src_port as BIGINT), "event.action" = lower(action) | project-rename "source.ip" = src_ip, "destination.ip" = dst_ip | project-away content"#;

const KV_RULE: &str = r#"* | parse-kv content | extend "source.port" = cast(srcport as BIGINT), "destination.port" = cast(dstport as BIGINT) | project-rename "source.ip" = srcip, "destination.ip" = dstip, "event.action" = action | project-away content"#;

fn nginx_lines(n: usize) -> Vec<String> {
    let methods = ["GET", "POST", "PUT", "DELETE"];
    (0..n)
        .map(|i| {
            format!(
                r#"10.{}.{}.{} - - [10/Oct/2024:13:{:02}:{:02} +0000] "{} /api/v1/items/{}?page={} HTTP/1.1" {} {} "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36""#,
                i % 256, (i / 256) % 256, i % 7, i % 60, (i * 7) % 60, methods[i % 4], i, i % 10, [200, 404, 500, 301][i % 4], 1000 + i % 5000
            )
        })
        .collect()
}

fn json_lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"ts":"2024-10-10T13:55:{:02}Z","src_ip":"10.0.{}.{}","src_port":"{}","dst_ip":"192.168.1.{}","dst_port":443,"action":"ALLOW","proto":"tcp","bytes":{},"user":"u{}","app":"web","rule":"r{}","severity":"low","tags":["a","b"],"geo":{{"country":"NL"}},"session":"s{}","direction":"outbound","iface":"eth0","vlan":{},"zone":"dmz","policy":"p1","host":"fw1","seq":{},"msg":"connection allowed","extra":null}}"#,
                i % 60, i % 256, i % 200, 1024 + i % 60000, i % 254, i * 3, i % 100, i % 50, i, i % 4096, i,
            )
        })
        .collect()
}

fn kv_lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                r#"date=2024-10-10 time=13:55:{:02} devname="FGT60E" devid="FGT60E4Q16000000" logid="0000000013" type="traffic" subtype="forward" level="notice" srcip=10.0.{}.{} srcport={} srcintf="port2" dstip=93.184.216.{} dstport=443 dstintf="wan1" proto=6 action="accept" policyid=1 service="HTTPS" duration={} sentbyte={} rcvdbyte={}"#,
                i % 60, i % 256, i % 200, 1024 + i % 60000, i % 254, i % 300, i * 7, i * 11
            )
        })
        .collect()
}

fn bench_run(c: &mut Criterion, name: &str, rule: &str, lines: &[String]) {
    let plan = spl::compile(rule).unwrap_or_else(|d| panic!("{name}: {d:?}"));
    bench_plan(c, name, &plan, lines);
}

fn bench_plan(c: &mut Criterion, name: &str, plan: &spl::Plan, lines: &[String]) {
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let texts: Vec<Text> = lines.iter().map(|l| Text::new(l)).collect();
    let mut g = c.benchmark_group(format!("run/{name}"));
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("events", |b| {
        let mut runner = Runner::new(plan);
        let mut out = Vec::with_capacity(4);
        b.iter(|| {
            for t in &texts {
                out.clear();
                let e: Event = runner.line_event(t.clone());
                let _ = runner.run_event(e, &mut out);
                black_box(&out);
            }
        })
    });
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("bytes", |b| {
        let mut runner = Runner::new(plan);
        let mut out = Vec::with_capacity(4);
        let mut buf = String::with_capacity(1 << 16);
        b.iter(|| {
            buf.clear();
            for t in &texts {
                out.clear();
                let _ = runner.run_event(runner.line_event(t.clone()), &mut out);
                for (_, e) in &out {
                    e.write_ndjson(&mut buf, false);
                }
            }
            black_box(buf.len())
        })
    });
    g.finish();
}

const REGEXP_ONEPASS: &str = r#"* | parse-regexp content, '^([^ ]+) [^ ]+ ([^ ]+) \[([^\]]+)\] "([^ "]+) ([^ "]+) ([^ "]+)" (\d{3}) (\d+|-)' as ip, user, t, method, url, proto, status, bytes | project-away content"#;
/// The same fields in the splitter's shape (`spl::splitter`: every run stops at what follows).
const REGEXP_SPLITTER: &str = r#"* | parse-regexp content, '^([^ ]+) [^ ]+ ([^ ]+) \[([^\]]+)\] "([^ "]+) ([^ "]+) ([^ "]+)" (\d{3}) ([^ ]+)' as ip, user, t, method, url, proto, status, bytes | project-away content"#;
const REGEXP_SLOW: &str = r#"* | parse-regexp content, '(\S+) \S+ (\S+) \[(.+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-)' as ip, user, t, method, url, proto, status, bytes | project-away content"#;
const CSV_RULE: &str = r#"* | parse-csv content as a, b, c, d, e, f, g, h, i, j, k, l | extend n = cast(d as BIGINT) | project-away content"#;
const DATETIME_RULE: &str = r#"* | parse-regexp content, '\[([^\]]+)\]' as t | extend "@timestamp" = parse_datetime(t, 'dd/MMM/yyyy:HH:mm:ss Z'), d = date_parse(substr(t, 1, 11), '%d/%b/%Y') | project-away content, t"#;

fn csv_lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                r#"2024-10-10T13:55:{:02}Z,10.0.{}.{},{},"GET /a,b",host{},"quoted ""x""",{},{},tcp,eth{},allow,end"#,
                i % 60, i % 256, i % 200, 1024 + i % 60000, i % 9, i * 3, i % 7, i % 4
            )
        })
        .collect()
}

/// A reference workload of the VRL comparison: its rule and its sample lines, repeated.
fn workload(kind: &str, n: usize) -> (String, Vec<String>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workloads");
    let rule = std::fs::read_to_string(format!("{dir}/{kind}.spl")).unwrap();
    let sample = std::fs::read_to_string(format!("{dir}/{kind}.sample.log")).unwrap();
    let lines: Vec<String> = sample.lines().map(str::to_string).collect();
    (rule, lines.iter().cycle().take(n).cloned().collect())
}

fn benches(c: &mut Criterion) {
    bench_run(c, "regexp one-pass", REGEXP_ONEPASS, &nginx_lines(10_000));
    bench_run(c, "regexp backtracking", REGEXP_SLOW, &nginx_lines(10_000));
    bench_run(c, "regexp splitter", REGEXP_SPLITTER, &nginx_lines(10_000));
    bench_run(c, "csv 12 fields", CSV_RULE, &csv_lines(10_000));
    bench_run(c, "datetime", DATETIME_RULE, &nginx_lines(10_000));
    for kind in ["nginx", "sshd", "json"] {
        let (rule, lines) = workload(kind, 10_000);
        bench_run(c, &format!("workload {kind}"), &rule, &lines);
        if kind != "json" {
            // The general path the temporaries' slots stand in for (spl::temps).
            let options = spl::PlanOptions {
                temps: false,
                ..spl::PlanOptions::default()
            };
            let plan = spl::compile_with(&rule, &options).unwrap();
            bench_plan(
                c,
                &format!("workload {kind}, no temporaries"),
                &plan,
                &lines,
            );
        }
    }
    c.bench_function("plan/parse+plan 10-stage rule", |b| {
        b.iter(|| spl::compile(black_box(TEN_STAGES)).unwrap())
    });
    bench_run(c, "nginx parse-regexp", NGINX_RULE, &nginx_lines(10_000));
    bench_run(c, "json 25 fields", JSON_RULE, &json_lines(10_000));
    bench_run(c, "kv fortigate", KV_RULE, &kv_lines(10_000));
}

criterion_group! {
    name = spl_benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = benches
}
criterion_main!(spl_benches);

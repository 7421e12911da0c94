//! Store throughput at scale: ingest N generated ECS events (web requests and process
//! starts, ~450 bytes each) in batched transactions, then time indexed queries.
//!
//! ```sh
//! cargo run --release --example store_bench -- 1000000 /tmp/soc-store
//! ```

use agentic_soc::store::Store;
use serde_json::{Value as Json, json};
use std::time::Instant;

fn event(i: u64) -> Json {
    let t = 1_714_550_400_000i64 + (i as i64) * 50; // 20 events/s from 2024-05-01
    let ts = chrono::DateTime::from_timestamp_millis(t)
        .unwrap()
        .to_rfc3339();
    if i.is_multiple_of(2) {
        json!({"@timestamp": ts, "event.category": ["web"], "source.ip": format!("198.51.{}.{}", (i / 256) % 200, i % 256),
               "host.name": format!("web-{:02}", i % 20), "http.request.method": "GET",
               "url.original": format!("/products?id={i}&page={}", i % 7), "url.domain": "shop.example.com",
               "http.response.status_code": 200, "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0",
               "event.module": "nginx"})
    } else {
        json!({"@timestamp": ts, "event.category": ["process"], "event.type": ["start"], "host.name": format!("web-{:02}", i % 20),
               "host.os.type": "linux", "user.name": format!("user{}", i % 50), "process.entity_id": format!("p-{i}"),
               "process.executable": "/usr/bin/curl", "process.command_line": format!("curl -s https://api.example.com/v1/items/{i}"),
               "process.parent.executable": "/bin/bash", "process.hash.sha256": format!("{:064x}", i % 1000), "event.module": "edr"})
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir =
        std::path::PathBuf::from(args.next().unwrap_or_else(|| "/tmp/soc-store-bench".into()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut store = Store::open(&dir).expect("store opens");
    let batch = 10_000u64;
    let start = Instant::now();
    let mut i = 0;
    while i < n {
        let docs: Vec<Json> = (i..(i + batch).min(n)).map(event).collect();
        store.insert_events(&docs).expect("insert");
        i += batch;
    }
    let secs = start.elapsed().as_secs_f64();
    let size = std::fs::metadata(dir.join("soc.db"))
        .map(|m| m.len())
        .unwrap_or(0)
        + std::fs::metadata(dir.join("soc.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "ingest: {n} events in {secs:.1} s = {:.0} events/s ({batch} per transaction), {:.0} MiB on disk",
        n as f64 / secs,
        size as f64 / 1048576.0
    );
    let time = |name: &str, f: &mut dyn FnMut(u64) -> usize| {
        let mut t: Vec<f64> = Vec::new();
        let mut rows = 0;
        for k in 0..200u64 {
            let s = Instant::now();
            rows += f(k);
            t.push(s.elapsed().as_secs_f64() * 1000.0);
        }
        t.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{name}: median {:.3} ms, p99 {:.3} ms ({} rows/query avg)",
            t[100],
            t[198],
            rows / 200
        );
    };
    let t0 = 1_714_550_400_000i64;
    time("host = H, last hour, limit 100", &mut |k| {
        store
            .events_by(
                "host",
                &format!("web-{:02}", k % 20),
                Some(t0 + 3_600_000),
                Some(t0 + 7_200_000),
                100,
            )
            .unwrap()
            .len()
    });
    time("source.ip = X (all time)", &mut |k| {
        store
            .events_by(
                "source_ip",
                &format!("198.51.{}.{}", k % 200, (k * 2) % 256),
                None,
                None,
                1000,
            )
            .unwrap()
            .len()
    });
    time("process entity id = P", &mut |k| {
        store
            .events_by(
                "process_entity",
                &format!("p-{}", 2 * k * 997 + 1),
                None,
                None,
                10,
            )
            .unwrap()
            .len()
    });
    time("time window of 1 minute", &mut |k| {
        let from = t0 + (k as i64) * 60_000 * 7;
        store
            .events_between(from, from + 60_000, 5000)
            .unwrap()
            .len()
    });
}

//! A bounded loopback load test of the service: the server runs in this process on an
//! ephemeral 127.0.0.1 port (its own store in a temporary directory), and C concurrent
//! clients send N requests each over keep-alive HTTP/1.1 connections, first `POST
//! /v1/suggest` (20 key=value lines), then `POST /v1/spl/run` (the nginx example rule on 50
//! lines). Prints requests/s and the p50/p99 latencies.
//!
//! ```sh
//! cargo run --release --example load -- [CONCURRENCY] [REQUESTS_PER_CLIENT]   # default 32 50
//! ```

use agentic_soc::server::{self, AppState, Config, Limits};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::{Duration, Instant};

fn kv_samples() -> String {
    (0..20)
        .map(|i| {
            format!(
                "time=2024-05-01T10:{:02}:00Z src=10.0.{}.{} dst=192.0.2.{} dpt={} proto=tcp act={} user=user{} bytes={}",
                i % 60,
                i % 4,
                i + 1,
                i % 7 + 1,
                [22, 80, 443, 3389][i % 4],
                ["allow", "deny"][i % 2],
                i % 5,
                i * 137
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn nginx_events() -> Vec<String> {
    let log = include_str!("nginx.log");
    log.lines().cycle().take(50).map(str::to_string).collect()
}

async fn workload(
    addr: std::net::SocketAddr,
    name: &str,
    path: &str,
    body: String,
    concurrency: usize,
    per_client: usize,
) {
    let client: Client<_, String> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(concurrency)
        .build_http();
    let uri: hyper::Uri = format!("http://{addr}{path}").parse().unwrap();
    // Warm-up: one request per client connection.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, uri, body) = (client.clone(), uri.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let req = hyper::Request::post(uri.clone())
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .unwrap();
                let t = Instant::now();
                let resp = client.request(req).await.expect("request");
                let status = resp.status();
                let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
                assert!(status.is_success(), "HTTP {status}");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    all.sort();
    let pct = |p: f64| {
        all[((all.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(all.len() - 1)]
    };
    println!(
        "{name:10} {:6} requests, concurrency {concurrency:3}: {:8.0} req/s, p50 {:7.2} ms, p99 {:7.2} ms",
        all.len(),
        all.len() as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let concurrency: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let per_client: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(Config {
        store: agentic_soc::store::Store::open(dir.path()).unwrap(),
        llm: None,
        token: None,
        limits: Limits {
            concurrency: 256,
            ..Limits::default()
        },
        scratch: dir.path().join("tmp"),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, server::router(state)).await });
        println!(
            "loopback {addr}, {} cores",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        let suggest =
            serde_json::json!({"text": kv_samples(), "reference_time": "2024-05-01T00:00:00Z"})
                .to_string();
        workload(
            addr,
            "suggest",
            "/v1/suggest",
            suggest,
            concurrency,
            per_client,
        )
        .await;
        let run = serde_json::json!({
            "rule": include_str!("nginx.spl"),
            "events": nginx_events(),
            "now": "2024-05-01T00:00:00Z",
        })
        .to_string();
        workload(addr, "spl/run", "/v1/spl/run", run, concurrency, per_client).await;
    });
}

//! Detection and store benchmarks: events/s through all 313 shared Sigma rules (one thread)
//! on a mix of Windows (Sysmon/Security), Linux, web, cloud and DNS events, the same with
//! event preparation only (the floor), correlation of alerts, and batched store inserts.
//!
//! Run: `cargo bench --bench detect`. Figures are in BENCHMARKS.md.

use agentic_soc::agents::correlate;
use agentic_soc::agents::detect::Detector;
use agentic_soc::agents::{ingest, winlog};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value as Json};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The mixed event set: every regression record, the family cases and the synthetic attack.
fn events() -> Vec<Map<String, Json>> {
    let mut out = Vec::new();
    let reg = root().join("datasets/sigma/regression");
    let mut dirs: Vec<_> = std::fs::read_dir(&reg)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for d in dirs {
        for f in std::fs::read_dir(&d).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|e| e == "json") {
                let (recs, _) = winlog::read_records(&std::fs::read_to_string(&p).unwrap());
                out.extend(recs.iter().filter_map(winlog::normalize));
            }
        }
    }
    for line in std::fs::read_to_string(root().join("tests/cases/detect/families.ndjson"))
        .unwrap()
        .lines()
    {
        let v: Json = serde_json::from_str(line).unwrap();
        out.push(v["event"].as_object().unwrap().clone());
    }
    let lib = ingest::Package::library();
    for f in ingest::files(&[root().join("examples/attack")]).unwrap() {
        out.extend(ingest::normalize_file(&f, &lib).unwrap().0);
    }
    out
}

fn all(c: &mut Criterion) {
    let mut d = Detector::default();
    d.load_dirs(&[root().join("datasets/sigma/rules")]).unwrap();
    assert_eq!(d.rules().len(), 313);
    let evs = events();
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(evs.len() as u64));
    g.bench_function("prepare only", |b| {
        b.iter(|| {
            evs.iter()
                .map(|e| d.prepare(e).get("event.code").is_some() as usize)
                .sum::<usize>()
        })
    });
    g.bench_function("313 rules", |b| {
        b.iter(|| {
            evs.iter()
                .map(|e| d.matching_rules(&d.prepare(e)).len())
                .sum::<usize>()
        })
    });
    g.bench_function("313 rules, every rule evaluated (no prefilter)", |b| {
        b.iter(|| {
            evs.iter()
                .map(|e| d.matching_rules_unfiltered(&d.prepare(e)).len())
                .sum::<usize>()
        })
    });
    g.bench_function("313 rules + alerts", |b| {
        b.iter(|| {
            evs.iter()
                .enumerate()
                .map(|(i, e)| d.detect(e, i as u64).len())
                .sum::<usize>()
        })
    });
    g.finish();

    // Correlation: the alerts of the mix, repeated 50 times with shifted times.
    let base: Vec<_> = evs
        .iter()
        .enumerate()
        .flat_map(|(i, e)| d.detect(e, i as u64))
        .collect();
    let mut alerts = Vec::new();
    for k in 0..50i64 {
        for a in &base {
            let mut a = a.clone();
            a.id = format!("{}-{k}", a.id);
            if let Some(t) = a.time_ms() {
                a.timestamp = chrono::DateTime::from_timestamp_millis(t + k * 3_600_000)
                    .map(|d| d.to_rfc3339());
            }
            alerts.push(a);
        }
    }
    let mut g = c.benchmark_group("correlate");
    g.throughput(Throughput::Elements(alerts.len() as u64));
    g.bench_function("alerts", |b| {
        b.iter(|| {
            correlate::correlate(&alerts, &correlate::Options::default())
                .incidents
                .len()
        })
    });
    g.finish();

    // Store: batched inserts of 5,000 events per transaction.
    let docs: Vec<Json> = (0..5000)
        .map(|i| Json::Object(evs[i % evs.len()].clone()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut store = agentic_soc::store::Store::open(dir.path()).unwrap();
    let mut g = c.benchmark_group("store");
    g.throughput(Throughput::Elements(docs.len() as u64));
    g.sample_size(10);
    g.bench_function("insert 5000-event batch", |b| {
        b.iter(|| store.insert_events(&docs).unwrap().len())
    });
    g.finish();
}

criterion_group!(benches, all);
criterion_main!(benches);

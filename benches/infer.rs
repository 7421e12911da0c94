//! Suggestion latency (`infer::suggest`) for 10, 100 and 1,000 sample lines, built from the
//! sample logs under `tests/cases/infer/` (repeated to size).
//!
//! Run: `cargo bench --bench infer`.

use agentic_soc::infer::{SuggestOptions, suggest};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn samples(file: &str, n: usize) -> Vec<String> {
    let path = format!("{}/tests/cases/infer/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    (0..n).map(|i| lines[i % lines.len()].to_string()).collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("suggest");
    g.sample_size(10);
    for file in [
        "system_auth.log",
        "fortinet_fortigate_log.log",
        "apache_access.log",
    ] {
        for n in [10, 100, 1000] {
            let s = samples(file, n);
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::new(file, n), &s, |b, s| {
                b.iter(|| suggest(s, &SuggestOptions::default()).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

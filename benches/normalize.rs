//! `soc normalize` benchmarks: the whole batch pipeline in-process (read, frame, run the
//! rule on N worker threads, write in order) on generated inputs, per thread count, beside
//! the floor of framing and writing the same lines without a rule.
//!
//! Run: `cargo bench --bench normalize`. Whole-process figures (1M lines, peak RSS) and the
//! commands for them are in BENCHMARKS.md.

use agentic_soc::batch::frame::{FrameOptions, Framer};
use agentic_soc::batch::generate::{Kind, generate};
use agentic_soc::batch::{self, Control, Options, Rule};
use agentic_soc::spl;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::io::Write;
use std::path::PathBuf;

const LINES: usize = 100_000;

fn input(kind: Kind, name: &str) -> (PathBuf, u64) {
    let path = std::env::temp_dir().join(format!("soc-bench-{name}-{LINES}.log"));
    if !path.exists() {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        generate(kind, LINES, 1, &mut f).unwrap();
        f.flush().unwrap();
    }
    let bytes = std::fs::metadata(&path).unwrap().len();
    (path, bytes)
}

fn rule_text(file: &str) -> String {
    std::fs::read_to_string(format!("{}/examples/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn benches(c: &mut Criterion) {
    let cases = [
        ("nginx", Kind::Nginx, "nginx.spl"),
        ("sshd", Kind::Sshd, "../rules/sshd/rule.spl"),
        ("json", Kind::Json, "json.spl"),
    ];
    for (name, kind, rule_file) in cases {
        let (path, bytes) = input(kind, name);
        let src = rule_text(rule_file);
        let plan = spl::compile(&src).unwrap();
        let rule = Rule {
            plan: &plan,
            src: &src,
            origin: rule_file,
        };
        let mut g = c.benchmark_group(format!("normalize/{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(LINES as u64));
        for threads in [1, 2] {
            g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &t| {
                let options = Options {
                    inputs: vec![path.clone()],
                    output: Some(PathBuf::from("/dev/null")),
                    threads: t,
                    ..Options::default()
                };
                b.iter(|| {
                    let r =
                        batch::normalize(&rule, &options, &Control::default(), &|_| {}).unwrap();
                    assert_eq!(r.totals.read, LINES as u64);
                })
            });
        }
        g.finish();

        // The floor: frame the same input and write each line out, no rule.
        let mut g = c.benchmark_group(format!("floor/{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function("frame+write", |b| {
            b.iter(|| {
                let f = std::fs::File::open(&path).unwrap();
                let mut framer = Framer::new(f, FrameOptions::default());
                let mut out = std::io::BufWriter::new(std::fs::File::create("/dev/null").unwrap());
                let mut n = 0;
                while let Some(chunk) = framer.next_chunk().unwrap() {
                    for i in 0..chunk.records.len() {
                        out.write_all(chunk.record_text(i).as_bytes()).unwrap();
                        out.write_all(b"\n").unwrap();
                        n += 1;
                    }
                }
                assert_eq!(n, LINES);
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = normalize_benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(5));
    targets = benches
}
criterion_main!(normalize_benches);

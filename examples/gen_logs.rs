//! Writes deterministic, seeded test logs to stdout (or a file): the inputs of the
//! `soc normalize` benchmarks and tests.
//!
//! ```sh
//! cargo run --release --example gen_logs -- KIND EVENTS [--seed N] [-o FILE]
//! # KIND: nginx | sshd | json | multiline; FILE ending in .gz or .zst is compressed
//! cargo run --release --example gen_logs -- nginx 1000000 --seed 1 -o /tmp/nginx.log
//! ```

use agentic_soc::batch::generate::{Kind, generate};
use std::io::Write;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: gen_logs KIND EVENTS [--seed N] [-o FILE]  (KIND: nginx|sshd|json|multiline)";
    let mut positional = Vec::new();
    let mut seed = 1u64;
    let mut out: Option<String> = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seed" => seed = it.next().and_then(|s| s.parse().ok()).expect(usage),
            "-o" => out = Some(it.next().expect(usage)),
            _ => positional.push(a),
        }
    }
    let [kind, events] = positional.as_slice() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let kind: Kind = kind.parse().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let events: usize = events.parse().expect(usage);
    let mut w: Box<dyn Write> = match out.as_deref() {
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        Some(p) if p.ends_with(".gz") => Box::new(flate2::write::GzEncoder::new(
            std::fs::File::create(p)?,
            flate2::Compression::default(),
        )),
        Some(p) if p.ends_with(".zst") => {
            Box::new(zstd::Encoder::new(std::fs::File::create(p)?, 3)?.auto_finish())
        }
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p)?)),
    };
    generate(kind, events, seed, &mut w)?;
    w.flush()
}

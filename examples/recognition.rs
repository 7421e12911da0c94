//! Product recognition on a mixed file: every line of every rule package's `sample.log`
//! (samples written for the repository from each vendor's documented format), recognized
//! one line at a time, then each sample whole. Prints the confusion per product: lines
//! recognized as their own product, as another one (which), or as none.
//!
//! `cargo run --release --example recognition`

use agentic_soc::infer::products::library;
use std::collections::BTreeMap;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = library();
    let (mut lines_total, mut lines_right, mut lines_wrong) = (0usize, 0usize, 0usize);
    let (mut samples, mut samples_right) = (0usize, 0usize);
    println!(
        "{:<28} {:>5} {:>6} {:>6} {:>5}  sample  confused with",
        "product", "lines", "right", "wrong", "none"
    );
    for p in &lib.products {
        if p.entry.package.is_empty() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(&p.entry.package).join("sample.log"))
        else {
            continue;
        };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let (mut right, mut wrong, mut none) = (0, 0, 0);
        let mut confused: BTreeMap<String, usize> = BTreeMap::new();
        for l in &lines {
            match lib.recognize(&[*l]) {
                Some((q, _)) if q.entry.id == p.entry.id => right += 1,
                Some((q, _)) => {
                    wrong += 1;
                    *confused.entry(q.entry.id.clone()).or_default() += 1;
                }
                None => none += 1,
            }
        }
        let whole = lib
            .recognize(&lines)
            .is_some_and(|(q, _)| q.entry.id == p.entry.id);
        samples += 1;
        samples_right += usize::from(whole);
        lines_total += lines.len();
        lines_right += right;
        lines_wrong += wrong;
        println!(
            "{:<28} {:>5} {:>6} {:>6} {:>5}  {:<6}  {}",
            p.entry.id,
            lines.len(),
            right,
            wrong,
            none,
            if whole { "yes" } else { "NO" },
            confused
                .iter()
                .map(|(k, v)| format!("{k} ({v})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!(
        "\n{} products with a package sample: {samples_right}/{samples} samples recognized as their product; \
         {lines_total} lines one at a time: {lines_right} right ({:.1}%), {lines_wrong} as another product ({:.1}%), {} as none",
        samples,
        100.0 * lines_right as f64 / lines_total.max(1) as f64,
        100.0 * lines_wrong as f64 / lines_total.max(1) as f64,
        lines_total - lines_right - lines_wrong
    );
    println!("library: {} entries", lib.products.len());
}

//! Correlation quality on ExCyTIn-Bench (Microsoft SecRL): the Sentinel `SecurityAlert` export
//! (`extracted_alerts.csv`) is correlated into incidents and scored against the incident
//! graphs (`graph_files/incident_<N>.graphml`): pairwise precision and recall of "same
//! incident" over the alerts the graphs label, and how each labelled incident spreads.
//!
//! ```sh
//! cargo run --release --example excytin -- datasets/alerts/excytin-bench
//! ```
//!
//! The export is read by `agents::sentinel` (entities mapped onto the ECS fields the
//! correlator reads) and correlated with the default options, as `soc correlate` does.

use agentic_soc::agents::correlate::{self, Options};
use agentic_soc::agents::sentinel;
use agentic_soc::eval::incidents;
use std::path::Path;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "datasets/alerts/excytin-bench".into());
    let dir = Path::new(&dir);
    let csv =
        std::fs::read_to_string(dir.join("extracted_alerts.csv")).expect("extracted_alerts.csv");
    let (alerts, bad) = sentinel::read_export(&csv).expect("a SecurityAlert export");
    let labels = incidents::excytin_truth(dir).expect("graph_files/");
    let t0 = std::time::Instant::now();
    let c = correlate::correlate(&alerts, &Options::default());
    let secs = t0.elapsed().as_secs_f64();
    let s = incidents::pairwise(&c, &labels);
    println!(
        "| alerts | damaged | labelled | labelled incidents | incidents | convergence | pairwise precision | pairwise recall |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {bad} | {} | {} | {} | {:.1}% | {:.3} | {:.3} |",
        alerts.len(),
        s.labelled,
        s.groups,
        c.incidents.len(),
        100.0 * (1.0 - c.incidents.len() as f64 / alerts.len().max(1) as f64),
        s.precision,
        s.recall
    );
    println!();
    println!("| labelled incident | alerts | incidents holding them | largest share |");
    println!("|---|---|---|---|");
    for (label, n, held, largest) in &s.spread {
        println!("| {label} | {n} | {held} | {largest:.2} |");
    }
    eprintln!("correlated {} alerts in {secs:.3} s", alerts.len());
}

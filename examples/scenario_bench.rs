//! Investigation figures on the scenarios of `datasets/scenarios/` (BENCHMARKS.md): verdict
//! confusion matrix, technique precision and recall (an expected technique is found when it or
//! one of its sub-techniques is reported), and time per incident (investigation + response
//! recommendations + Markdown and HTML report, without an LLM).
//!
//! `cargo run --release --example scenario_bench [SCENARIO_DIR...]`

use agentic_soc::agents::detect::Detector;
use agentic_soc::agents::ingest::Package;
use agentic_soc::agents::leader::{self, Budget, Goal};
use agentic_soc::agents::tools::{Events, IocList, Workspace};
use agentic_soc::agents::{correlate, pipeline, report};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(serde::Deserialize)]
struct Expected {
    verdict: String,
    #[serde(default)]
    every_incident: bool,
    techniques: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let mut dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        for e in std::fs::read_dir("datasets/scenarios")? {
            let p = e?.path();
            if p.join("expected.toml").exists() {
                dirs.push(p);
            }
        }
        dirs.sort();
    }
    let mut det = Detector::default();
    det.load_dirs(&[PathBuf::from("datasets/sigma/rules")])?;
    let pk = Package::library();
    let iocs = IocList::default();
    let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
    let (mut found, mut relevant, mut hit_r, mut hit_p) = (0usize, 0usize, 0usize, 0usize);
    let (mut incidents, mut secs) = (0usize, 0f64);
    for dir in &dirs {
        let exp: Expected = toml::from_str(&std::fs::read_to_string(dir.join("expected.toml"))?)?;
        let a = pipeline::analyze(
            std::slice::from_ref(dir),
            &pk,
            &det,
            None,
            &correlate::Options::default(),
        )?;
        let ws = Workspace {
            alerts: &a.alerts,
            incidents: &a.correlation.incidents,
            dismissed: &a.correlation.dismissed,
            events: Events::Memory(&a.events),
            iocs: &iocs,
        };
        let t = Instant::now();
        let out = leader::run(&ws, Goal::Events(Vec::new()), Budget::default())?;
        for inv in &out.investigations {
            let _ = report::markdown(inv, &Default::default());
            let _ = report::html(inv, &Default::default());
        }
        secs += t.elapsed().as_secs_f64();
        incidents += out.investigations.len();
        let main = out
            .investigations
            .iter()
            .max_by_key(|i| i.timeline.iter().filter(|t| t.kind == "alert").count());
        let judged: Vec<_> = if exp.every_incident {
            out.investigations.iter().collect()
        } else {
            main.into_iter().collect()
        };
        for inv in &judged {
            *confusion
                .entry((exp.verdict.clone(), inv.verdict.as_str().to_string()))
                .or_default() += 1;
        }
        if let Some(inv) = main
            && !exp.techniques.is_empty()
        {
            let m = |e: &str, g: &str| g == e || g.starts_with(&format!("{e}."));
            found += inv.techniques.len();
            relevant += exp.techniques.len();
            hit_r += exp
                .techniques
                .iter()
                .filter(|e| inv.techniques.iter().any(|g| m(e, g)))
                .count();
            hit_p += inv
                .techniques
                .iter()
                .filter(|g| exp.techniques.iter().any(|e| m(e, g) || m(g, e)))
                .count();
            println!(
                "{}: {} ({}), techniques {}/{} expected found, {} reported",
                dir.display(),
                inv.verdict.as_str(),
                inv.confidence,
                exp.techniques
                    .iter()
                    .filter(|e| inv.techniques.iter().any(|g| m(e, g)))
                    .count(),
                exp.techniques.len(),
                inv.techniques.len()
            );
        }
    }
    println!("\nverdict confusion (expected → got):");
    for ((e, g), n) in &confusion {
        println!("  {e} → {g}: {n}");
    }
    let right: usize = confusion
        .iter()
        .filter(|((e, g), _)| e == g)
        .map(|(_, n)| n)
        .sum();
    let all: usize = confusion.values().sum();
    println!(
        "verdict accuracy {right}/{all} = {:.2}",
        right as f64 / all.max(1) as f64
    );
    println!(
        "techniques: recall {hit_r}/{relevant} = {:.2}, precision {hit_p}/{found} = {:.2}",
        hit_r as f64 / relevant.max(1) as f64,
        hit_p as f64 / found.max(1) as f64
    );
    println!(
        "{incidents} incidents, {:.2} ms per incident (investigation, recommendations, Markdown + HTML report)",
        secs * 1000.0 / incidents.max(1) as f64
    );
    Ok(())
}

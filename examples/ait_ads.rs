//! Correlation quality on the AIT Alert Data Set (AIT-ADS): each scenario's alerts
//! (`time,name,ip,host,short,time_label,event_label`, unzipped from `alerts_csv.zip`) are
//! correlated into incidents and scored against the labels.
//!
//! ```sh
//! unzip -o ../shared/datasets/alerts/ait-ads/alerts_csv.zip -d /tmp/ait
//! cargo run --release --example ait_ads -- /tmp/ait/alerts_csv/*_alerts.txt
//! ```
//!
//! Measures, per scenario: convergence (1 − incidents/alerts; dismissed alerts count as
//! handled, not as incidents), purity (pairwise precision of "same incident": a pair is
//! right when both alerts are attack-labelled — one scenario is one attack — or both are
//! false positives), cohesion (pairwise recall over attack-labelled alerts), the attack
//! phases covered by the largest attack incident, and the share of false-positive alerts
//! dismissed. Each row of the CSV becomes an alert on entity host = `host` (and `ip`).

use agentic_soc::agents::correlate::{self, Options};
use agentic_soc::agents::detect::{Alert, RuleMeta, Threat};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeSet, HashMap};

fn c2(n: usize) -> f64 {
    (n as f64) * (n as f64 - 1.0) / 2.0
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: ait_ads SCENARIO_alerts.txt...");
        std::process::exit(2);
    }
    println!(
        "| scenario | alerts | incidents | dismissed | convergence | purity | cohesion | phases in largest attack incident | FP dismissed |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable CSV");
        let name = std::path::Path::new(&f)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace("_alerts.txt", "");
        let mut alerts = Vec::new();
        let mut labels = Vec::new();
        for (n, line) in text.lines().enumerate().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            if cols.len() < 7 {
                continue;
            }
            // The rule name may hold commas: the last four columns are fixed.
            let k = cols.len();
            let (time, ip, host, short, label) =
                (cols[0], cols[k - 5], cols[k - 4], cols[k - 3], cols[k - 2]);
            let rule = cols[1..k - 5].join(",");
            let ts = time
                .parse::<i64>()
                .ok()
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|d| d.to_rfc3339());
            let mut ev = Map::new();
            ev.insert("host.name".into(), Json::String(host.into()));
            ev.insert("host.ip".into(), Json::String(ip.into()));
            alerts.push(Alert {
                id: format!("{n}"),
                timestamp: ts,
                rule: RuleMeta {
                    id: short.into(),
                    title: rule,
                    level: "medium".into(),
                    status: String::new(),
                    author: String::new(),
                    tags: vec![],
                    source: String::new(),
                    license: String::new(),
                },
                threat: Threat::default(),
                logsource: "ait-ads".into(),
                related: vec![],
                event: ev,
            });
            labels.push(label.to_string());
        }
        let t0 = std::time::Instant::now();
        let c = correlate::correlate(&alerts, &Options::default());
        let secs = t0.elapsed().as_secs_f64();
        let index: HashMap<&str, usize> = alerts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        let is_attack = |i: usize| labels[i] != "false_positive";
        let (mut same_pairs, mut right_pairs, mut attack_together) = (0.0, 0.0, 0.0);
        let mut best: (usize, BTreeSet<&str>) = (0, BTreeSet::new());
        for inc in &c.incidents {
            let m: Vec<usize> = inc.alert_ids.iter().map(|id| index[id.as_str()]).collect();
            let att = m.iter().filter(|&&i| is_attack(i)).count();
            let fp = m.len() - att;
            same_pairs += c2(m.len());
            right_pairs += c2(att) + c2(fp);
            attack_together += c2(att);
            if att > best.0 {
                best = (
                    att,
                    m.iter()
                        .filter(|&&i| is_attack(i))
                        .map(|&i| labels[i].as_str())
                        .collect(),
                );
            }
        }
        let attacks = (0..alerts.len()).filter(|&i| is_attack(i)).count();
        let phases: BTreeSet<&str> = (0..alerts.len())
            .filter(|&i| is_attack(i))
            .map(|i| labels[i].as_str())
            .collect();
        let fps = alerts.len() - attacks;
        let fp_dismissed = c
            .dismissed
            .iter()
            .filter(|d| !is_attack(index[d.alert.as_str()]))
            .count();
        println!(
            "| {name} | {} | {} | {} | {:.4}% | {:.3} | {:.3} | {}/{} | {:.1}% |",
            alerts.len(),
            c.incidents.len(),
            c.dismissed.len(),
            100.0 * (1.0 - c.incidents.len() as f64 / alerts.len() as f64),
            if same_pairs > 0.0 {
                right_pairs / same_pairs
            } else {
                1.0
            },
            if attacks > 1 {
                attack_together / c2(attacks)
            } else {
                1.0
            },
            best.1.len(),
            phases.len(),
            100.0 * fp_dismissed as f64 / fps.max(1) as f64,
        );
        eprintln!("{name}: correlated {} alerts in {secs:.2} s", alerts.len());
    }
}

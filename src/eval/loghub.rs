//! The template-mining benchmark on LogPAI's loghub-2k: grouping accuracy (GA) and parsing
//! accuracy (PA) of `infer::templates::mine` against the labeled templates, as Drain, LILAC
//! and Loghub-2.0 report them. Uses Loghub-2.0's corrected labels where a system has them
//! (`*_structured_corrected.csv`), else the original ones, and says which.

use crate::infer::templates;
use crate::spl::text::split_csv;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Figures for one system.
#[derive(Debug, Clone, Serialize)]
pub struct SystemScore {
    pub system: String,
    /// `corrected` (Loghub-2.0) or `original` (Loghub 2018).
    pub labels: &'static str,
    pub messages: usize,
    pub true_templates: usize,
    pub found_templates: usize,
    /// Share of messages whose predicted group is exactly their true group.
    pub grouping_accuracy: f64,
    /// Share of messages whose predicted template text equals the true template.
    pub parsing_accuracy: f64,
}

/// The labeled file of each system under `root` (one folder per system).
pub fn discover(root: &Path) -> Vec<(String, PathBuf, &'static str)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for d in dirs {
        let Some(name) = d.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            continue;
        };
        let corrected = d.join(format!("{name}_2k.log_structured_corrected.csv"));
        let original = d.join(format!("{name}_2k.log_structured.csv"));
        if corrected.is_file() {
            out.push((name, corrected, "corrected"));
        } else if original.is_file() {
            out.push((name, original, "original"));
        }
    }
    out
}

/// Reads (content, template) pairs from a structured CSV (columns `Content` and
/// `EventTemplate`; quoted fields may hold commas).
pub fn read_labeled(csv: &str) -> Result<Vec<(String, String)>, String> {
    let mut lines = csv.lines();
    let header = lines
        .next()
        .ok_or("empty file")?
        .trim_start_matches('\u{feff}');
    let cols: Vec<String> = split_csv(header, ",", '"')
        .iter()
        .map(|p| p.as_str(header).to_string())
        .collect();
    let content = cols
        .iter()
        .position(|c| c == "Content")
        .ok_or("no Content column")?;
    let template = cols
        .iter()
        .position(|c| c == "EventTemplate")
        .ok_or("no EventTemplate column")?;
    let mut out = Vec::new();
    for line in lines {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let f = split_csv(line, ",", '"');
        if f.len() != cols.len() {
            // A quoted field spanning lines does not occur in loghub-2k; skip defensively.
            continue;
        }
        out.push((
            f[content].as_str(line).to_string(),
            f[template].as_str(line).to_string(),
        ));
    }
    Ok(out)
}

fn normalize(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Mines templates over the contents and scores them against the labels.
pub fn score(system: &str, labels: &'static str, pairs: &[(String, String)]) -> SystemScore {
    let messages: Vec<&str> = pairs.iter().map(|(c, _)| c.as_str()).collect();
    let mined = templates::mine(&messages, usize::MAX);
    // Predicted group and template text per message; unassigned messages are singletons.
    let mut predicted: Vec<usize> = (0..messages.len()).map(|i| usize::MAX - i).collect();
    let mut predicted_text: Vec<Option<String>> = vec![None; messages.len()];
    for (gi, t) in mined.iter().enumerate() {
        let text = normalize(&t.text());
        for &m in &t.members {
            if m < messages.len() {
                predicted[m] = gi;
                predicted_text[m] = Some(text.clone());
            }
        }
    }
    let mut truth_groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (_, t)) in pairs.iter().enumerate() {
        truth_groups.entry(t.as_str()).or_default().push(i);
    }
    let mut pred_groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, g) in predicted.iter().enumerate() {
        pred_groups.entry(*g).or_default().push(i);
    }
    let mut grouped = 0;
    for members in truth_groups.values() {
        let g = predicted[members[0]];
        if members.iter().all(|&m| predicted[m] == g) && pred_groups[&g].len() == members.len() {
            grouped += members.len();
        }
    }
    let parsed = pairs
        .iter()
        .enumerate()
        .filter(|(i, (_, t))| predicted_text[*i].as_deref() == Some(normalize(t).as_str()))
        .count();
    let n = messages.len().max(1) as f64;
    SystemScore {
        system: system.to_string(),
        labels,
        messages: messages.len(),
        true_templates: truth_groups.len(),
        found_templates: pred_groups.len(),
        grouping_accuracy: grouped as f64 / n,
        parsing_accuracy: parsed as f64 / n,
    }
}

/// Runs the benchmark over every system under `root`.
pub fn run(root: &Path) -> Result<Vec<SystemScore>, String> {
    let systems = discover(root);
    if systems.is_empty() {
        return Err(format!("no loghub systems under {}", root.display()));
    }
    let mut out = Vec::new();
    for (name, path, labels) in systems {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let pairs = read_labeled(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push(score(&name, labels, &pairs));
    }
    Ok(out)
}

/// A plain-text table with the averages.
pub fn table(scores: &[SystemScore]) -> String {
    let mut s = format!(
        "{:<12} {:>9} {:>8} {:>6} {:>6} {:>6} {:>6}\n",
        "system", "labels", "messages", "true", "found", "GA", "PA"
    );
    for r in scores {
        s.push_str(&format!(
            "{:<12} {:>9} {:>8} {:>6} {:>6} {:>6.3} {:>6.3}\n",
            r.system,
            r.labels,
            r.messages,
            r.true_templates,
            r.found_templates,
            r.grouping_accuracy,
            r.parsing_accuracy
        ));
    }
    let n = scores.len().max(1) as f64;
    let ga = scores.iter().map(|r| r.grouping_accuracy).sum::<f64>() / n;
    let pa = scores.iter().map(|r| r.parsing_accuracy).sum::<f64>() / n;
    s.push_str(&format!(
        "{:<12} {:>9} {:>8} {:>6} {:>6} {ga:>6.3} {pa:>6.3}\n",
        "average", "", "", "", ""
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_csv_and_scores_perfect_and_split_groups() {
        let csv = "LineId,Content,EventId,EventTemplate\n1,\"a, b\",E1,\"a, b\"\n2,open file 1,E2,open file <*>\n3,open file 2,E2,open file <*>\n";
        let pairs = read_labeled(csv).unwrap();
        assert_eq!(pairs[0], ("a, b".to_string(), "a, b".to_string()));
        let s = score("T", "original", &pairs);
        assert_eq!(s.messages, 3);
        assert_eq!(s.true_templates, 2);
        assert!((0.0..=1.0).contains(&s.grouping_accuracy));
        // Hand-made truth that the miner cannot match: every message its own template.
        let split: Vec<(String, String)> =
            pairs.iter().map(|(c, _)| (c.clone(), c.clone())).collect();
        let t = score("T", "original", &split);
        assert!(t.grouping_accuracy <= s.grouping_accuracy || s.grouping_accuracy == 1.0);
    }
}

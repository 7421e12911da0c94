//! Incident scoring: how well correlated incidents agree with a labelled grouping of alerts
//! (pairwise precision and recall of "same incident"), and the ExCyTIn-Bench incident graphs
//! read as such a grouping.

use crate::agents::correlate::Correlation;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Pairwise agreement of predicted incidents with labelled groups, over labelled alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct PairScore {
    /// Alerts that carry a label.
    pub labelled: usize,
    /// Labelled groups.
    pub groups: usize,
    /// Of the pairs put in one incident, the share that share a label.
    pub precision: f64,
    /// Of the pairs that share a label, the share put in one incident.
    pub recall: f64,
    /// Per label: alerts, predicted incidents holding them, largest share in one incident.
    pub spread: Vec<(String, usize, usize, f64)>,
}

fn c2(n: usize) -> f64 {
    (n as f64) * (n as f64 - 1.0) / 2.0
}

/// Scores `correlation` against `labels` (alert id → group).
pub fn pairwise(correlation: &Correlation, labels: &BTreeMap<String, String>) -> PairScore {
    let mut predicted: HashMap<&str, usize> = HashMap::new();
    for (i, inc) in correlation.incidents.iter().enumerate() {
        for a in &inc.alert_ids {
            predicted.insert(a.as_str(), i);
        }
    }
    // Per label, how many of its alerts each predicted incident holds.
    let mut cells: BTreeMap<&str, HashMap<Option<usize>, usize>> = BTreeMap::new();
    for (alert, label) in labels {
        *cells
            .entry(label.as_str())
            .or_default()
            .entry(predicted.get(alert.as_str()).copied())
            .or_default() += 1;
    }
    let truth_pairs: f64 = cells.values().map(|c| c2(c.values().sum())).sum();
    let tp: f64 = cells
        .values()
        .flat_map(|c| c.iter().filter(|(k, _)| k.is_some()).map(|(_, &n)| c2(n)))
        .sum();
    let mut per_incident: HashMap<usize, usize> = HashMap::new();
    for c in cells.values() {
        for (k, n) in c {
            if let Some(k) = k {
                *per_incident.entry(*k).or_default() += n;
            }
        }
    }
    let pred_pairs: f64 = per_incident.values().map(|&n| c2(n)).sum();
    let spread = cells
        .iter()
        .map(|(label, c)| {
            let n: usize = c.values().sum();
            let held = c.keys().filter(|k| k.is_some()).count();
            let largest = c
                .iter()
                .filter(|(k, _)| k.is_some())
                .map(|(_, &v)| v)
                .max()
                .unwrap_or(0);
            (label.to_string(), n, held, largest as f64 / n.max(1) as f64)
        })
        .collect();
    PairScore {
        labelled: labels.len(),
        groups: cells.len(),
        precision: if pred_pairs > 0.0 {
            tp / pred_pairs
        } else {
            1.0
        },
        recall: if truth_pairs > 0.0 {
            tp / truth_pairs
        } else {
            1.0
        },
        spread,
    }
}

/// Alert id → incident (the graph file's stem) from ExCyTIn-Bench's
/// `graph_files/incident_<N>.graphml`: each alert node's `entry` holds the alert row, whose
/// `SystemAlertId` names it.
pub fn excytin_truth(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let graphs = dir.join("graph_files");
    let mut files: Vec<_> = std::fs::read_dir(&graphs)
        .map_err(|e| format!("{}: {e}", graphs.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "graphml"))
        .collect();
    files.sort();
    let mut out = BTreeMap::new();
    for f in files {
        let xml = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let doc = roxmltree::Document::parse(&xml).map_err(|e| format!("{}: {e}", f.display()))?;
        let keys: HashMap<&str, &str> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "key")
            .filter_map(|k| Some((k.attribute("id")?, k.attribute("attr.name")?)))
            .collect();
        let stem = f
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        for node in doc.descendants().filter(|n| n.tag_name().name() == "node") {
            let data: HashMap<&str, &str> = node
                .children()
                .filter(|c| c.tag_name().name() == "data")
                .filter_map(|c| Some((*keys.get(c.attribute("key")?)?, c.text().unwrap_or(""))))
                .collect();
            if data.get("type") != Some(&"alert") {
                continue;
            }
            // The entry is Python's JSON rendering of the row (it may hold a bare `NaN`), so
            // the id is read from the text rather than through a JSON parser.
            let entry = data.get("entry").copied().unwrap_or("");
            let key = "\"SystemAlertId\": \"";
            if let Some(id) = entry
                .find(key)
                .map(|i| &entry[i + key.len()..])
                .and_then(|rest| rest.split('"').next())
            {
                out.insert(id.to_string(), stem.clone());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::correlate::{Correlation, Incident};

    fn incident(ids: &[&str]) -> Incident {
        serde_json::from_value(serde_json::json!({
            "id": ids[0], "title": "", "level": "", "alert_ids": ids, "entities": [],
            "tactics": [], "techniques": [], "links": [], "groups": []
        }))
        .unwrap()
    }

    #[test]
    fn pairwise_scores_count_pairs() {
        let c = Correlation {
            incidents: vec![incident(&["a", "b", "c"]), incident(&["d"])],
            dismissed: vec![],
        };
        let labels: BTreeMap<String, String> = [("a", "1"), ("b", "1"), ("c", "2"), ("d", "2")]
            .iter()
            .map(|(a, l)| (a.to_string(), l.to_string()))
            .collect();
        let s = pairwise(&c, &labels);
        // predicted pairs ab, ac, bc (1 right); truth pairs ab, cd (1 found)
        assert!((s.precision - 1.0 / 3.0).abs() < 1e-9, "{s:?}");
        assert!((s.recall - 0.5).abs() < 1e-9, "{s:?}");
        assert_eq!(s.groups, 2);
    }
}

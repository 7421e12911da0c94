//! Incident reports: Markdown and a self-contained printable HTML page built from one
//! investigation — classification and summary, the attack chain (SVG graph) and timeline,
//! impact scope, root cause, IOCs (table and STIX 2.1 JSON), response taken and pending,
//! hardening, the ATT&CK techniques, and the Sigma authors of every cited alert (DRL 1.1).
//!
//! Pure functions of the investigation (and the stored action states): no LLM, no I/O.

use super::investigate::{Graph, Investigation, IocRef};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A block of a report section.
enum Block {
    Para(String),
    List(Vec<String>),
    Table(Vec<&'static str>, Vec<Vec<String>>),
    Code(&'static str, String),
    Svg(String),
}

struct Section {
    title: &'static str,
    blocks: Vec<Block>,
}

/// Deterministic UUID-shaped id from text (for STIX object ids).
fn uuid_of(s: &str) -> String {
    let a = xxhash_rust::xxh64::xxh64(s.as_bytes(), 1);
    let b = xxhash_rust::xxh64::xxh64(s.as_bytes(), 2);
    let h = format!("{a:016x}{b:016x}");
    // Version 5 / RFC 4122 variant bits, so validators accept it.
    format!(
        "{}-{}-5{}-{:x}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        8 | (u8::from_str_radix(&h[16..17], 16).unwrap_or(0) & 3),
        &h[17..20],
        &h[20..32]
    )
}

fn stix_pattern(i: &IocRef) -> Option<String> {
    let v = i.value.replace('\\', "\\\\").replace('\'', "\\'");
    Some(match i.kind.as_str() {
        "ipv4" => format!("[ipv4-addr:value = '{v}']"),
        "ipv6" => format!("[ipv6-addr:value = '{v}']"),
        "domain" => format!("[domain-name:value = '{v}']"),
        "url" => format!("[url:value = '{v}']"),
        "sha256" => format!("[file:hashes.'SHA-256' = '{v}']"),
        "sha1" => format!("[file:hashes.'SHA-1' = '{v}']"),
        "md5" => format!("[file:hashes.MD5 = '{v}']"),
        "file" => {
            let name = i.value.rsplit(['/', '\\']).next().unwrap_or(&i.value);
            format!(
                "[file:name = '{}']",
                name.replace('\\', "\\\\").replace('\'', "\\'")
            )
        }
        _ => return None,
    })
}

/// The IOCs as a STIX 2.1 bundle of indicators (deterministic ids and times).
pub fn stix(inv: &Investigation) -> Json {
    let when = inv
        .first
        .clone()
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into());
    let identity = format!("identity--{}", uuid_of("agentic-soc"));
    let mut objects = vec![json!({
        "type": "identity", "spec_version": "2.1", "id": identity, "created": when, "modified": when,
        "name": "agentic-soc", "identity_class": "system"
    })];
    for i in &inv.iocs {
        let Some(pattern) = stix_pattern(i) else {
            continue;
        };
        objects.push(json!({
            "type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--{}", uuid_of(&format!("{}|{}", inv.incident, pattern))),
            "created_by_ref": identity,
            "created": when, "modified": when,
            "name": format!("{} {} ({})", i.kind, i.value, i.role),
            "description": format!("Seen in {}: {}", inv.incident, inv.title),
            "indicator_types": ["malicious-activity"],
            "pattern": pattern, "pattern_type": "stix",
            "valid_from": i.first_seen.clone().unwrap_or_else(|| when.clone()),
            "labels": inv.techniques,
        }));
    }
    json!({"type": "bundle", "id": format!("bundle--{}", uuid_of(&inv.incident)), "objects": objects})
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The attack path as an SVG picture: entities left to right in the order the events reach
/// them, edges labelled with what happened.
pub fn svg(g: &Graph) -> String {
    let mut layer: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &g.edges {
        let l = *layer.entry(e.from.as_str()).or_insert(0);
        layer.entry(e.to.as_str()).or_insert(l + 1);
    }
    for n in &g.nodes {
        layer.entry(n.id.as_str()).or_insert(0);
    }
    let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
    let mut pos: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for n in &g.nodes {
        let l = layer[n.id.as_str()];
        let r = rows.entry(l).or_insert(0);
        pos.insert(n.id.as_str(), (l, *r));
        *r += 1;
    }
    let (w, h, gap_x, gap_y) = (170usize, 44usize, 240usize, 78usize);
    let width = (rows.keys().max().copied().unwrap_or(0) + 1) * gap_x + 20;
    let height = (rows.values().max().copied().unwrap_or(1)) * gap_y + 30;
    let xy = |id: &str| {
        let (l, r) = pos.get(id).copied().unwrap_or((0, 0));
        (20 + l * gap_x, 20 + r * gap_y)
    };
    let colour = |k: &str| match k {
        "ip" => "#fde2e1",
        "host" => "#e1ecfd",
        "process" => "#fff3cd",
        "file" => "#e8f5e9",
        "identity" | "user" => "#efe1fd",
        _ => "#eeeeee",
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\
<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker></defs>"
    );
    for e in &g.edges {
        let (x1, y1) = xy(&e.from);
        let (x2, y2) = xy(&e.to);
        let (sx, sy, ex, ey) = if x2 > x1 {
            (x1 + w, y1 + h / 2, x2, y2 + h / 2)
        } else {
            (x1 + w / 2, y1 + h, x2 + w / 2, y2 + h)
        };
        let _ = writeln!(
            s,
            "<line x1=\"{sx}\" y1=\"{sy}\" x2=\"{ex}\" y2=\"{ey}\" stroke=\"#555\" marker-end=\"url(#arrow)\"/><text x=\"{}\" y=\"{}\" fill=\"#333\">{}</text>",
            (sx + ex) / 2 - 40,
            (sy + ey) / 2 - 4,
            esc(&e.label)
        );
    }
    for n in &g.nodes {
        let (x, y) = xy(&n.id);
        let label: String = n.label.chars().take(26).collect();
        let _ = writeln!(
            s,
            "<g><rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"6\" fill=\"{}\" stroke=\"#666\"/><text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text><text x=\"{}\" y=\"{}\" fill=\"#555\">{}</text><title>{}</title></g>",
            colour(&n.kind),
            x + 8,
            y + 17,
            esc(&label),
            x + 8,
            y + 33,
            esc(&n.kind),
            esc(&n.id)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The state of one action, as the store knows it.
pub type ActionStates = BTreeMap<String, String>;

fn sections(inv: &Investigation, states: &ActionStates) -> Vec<Section> {
    let mut out = Vec::new();
    out.push(Section {
        title: "Classification and summary",
        blocks: vec![
            Block::Table(
                vec!["verdict", "confidence", "first", "last", "tactics"],
                vec![vec![
                    inv.verdict.label().into(),
                    format!("{:.2}", inv.confidence),
                    inv.first.clone().unwrap_or_default(),
                    inv.last.clone().unwrap_or_default(),
                    inv.tactics.join(" → "),
                ]],
            ),
            Block::Para(inv.summary.clone()),
        ],
    });
    out.push(Section {
        title: "Evidence behind the verdict",
        blocks: vec![Block::Table(
            vec!["signal", "weight", "detail"],
            inv.evidence
                .iter()
                .map(|e| {
                    vec![
                        e.signal.clone(),
                        format!("{:+}", e.weight),
                        e.detail.clone(),
                    ]
                })
                .collect(),
        )],
    });
    out.push(Section {
        title: "Attack chain",
        blocks: vec![
            Block::Svg(svg(&inv.attack_path)),
            Block::List(
                inv.attack_path
                    .edges
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {} —{}→ {}",
                            e.time.clone().unwrap_or_default(),
                            e.from,
                            e.label,
                            e.to
                        )
                    })
                    .collect(),
            ),
        ],
    });
    out.push(Section {
        title: "Timeline",
        blocks: vec![Block::Table(
            vec!["time", "kind", "what", "detail", "tactics"],
            inv.timeline
                .iter()
                .map(|t| {
                    vec![
                        t.time.clone().unwrap_or_default(),
                        t.kind.clone(),
                        t.title.clone(),
                        t.detail.clone(),
                        t.tactics.join(", "),
                    ]
                })
                .collect(),
        )],
    });
    let ents = |v: &[super::investigate::EntityRef]| -> Vec<Vec<String>> {
        v.iter()
            .map(|e| {
                vec![
                    e.kind.clone(),
                    e.value.clone(),
                    e.roles.join(", "),
                    e.alerts.to_string(),
                ]
            })
            .collect()
    };
    out.push(Section {
        title: "Impact scope",
        blocks: vec![
            Block::Para("Affected assets:".into()),
            Block::Table(vec!["kind", "value", "roles", "alerts"], ents(&inv.assets)),
            Block::Para("Malicious entities:".into()),
            Block::Table(
                vec!["kind", "value", "roles", "alerts"],
                ents(&inv.malicious_entities),
            ),
        ],
    });
    out.push(Section {
        title: "Root cause",
        blocks: match &inv.root_cause {
            Some(rc) => vec![
                Block::Para(format!(
                    "{} (alert {}, {})",
                    rc.summary,
                    rc.alert,
                    rc.time.clone().unwrap_or_default()
                )),
                Block::List(
                    rc.entry
                        .iter()
                        .map(|(k, v)| format!("entry {k}: {v}"))
                        .collect(),
                ),
                Block::Code(
                    "json",
                    rc.evidence
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
            ],
            None => vec![Block::Para("No alert to start from.".into())],
        },
    });
    out.push(Section {
        title: "Indicators of compromise",
        blocks: vec![
            Block::Table(
                vec!["type", "value", "role", "first seen", "reputation"],
                inv.iocs
                    .iter()
                    .map(|i| {
                        vec![
                            i.kind.clone(),
                            i.value.clone(),
                            i.role.clone(),
                            i.first_seen.clone().unwrap_or_default(),
                            i.reputation.clone().unwrap_or_default(),
                        ]
                    })
                    .collect(),
            ),
            Block::Para("STIX 2.1:".into()),
            Block::Code(
                "json",
                serde_json::to_string_pretty(&stix(inv)).unwrap_or_default(),
            ),
        ],
    });
    out.push(Section {
        title: "ATT&CK techniques",
        blocks: vec![Block::Table(
            vec!["id", "name", "tactics", "from"],
            inv.technique_details
                .iter()
                .map(|t| {
                    vec![
                        t.id.clone(),
                        t.name.clone(),
                        t.tactics.join(", "),
                        t.sources.join("; "),
                    ]
                })
                .collect(),
        )],
    });
    let status = |r: &super::respond::Recommendation| {
        states
            .get(&r.id)
            .cloned()
            .unwrap_or_else(|| r.status.clone())
    };
    let (taken, pending): (Vec<_>, Vec<_>) = inv
        .recommendations
        .iter()
        .filter(|r| r.playbook.is_some())
        .partition(|r| matches!(status(r).as_str(), "done" | "failed" | "rejected"));
    let rows = |v: &[&super::respond::Recommendation]| -> Vec<Vec<String>> {
        v.iter()
            .map(|r| vec![r.id.clone(), r.phase.clone(), r.title.clone(), status(r)])
            .collect()
    };
    out.push(Section {
        title: "Response",
        blocks: vec![
            Block::Para("Taken (or decided):".into()),
            Block::Table(vec!["action", "phase", "what", "status"], rows(&taken)),
            Block::Para("Pending (each needs an approval: `soc respond INCIDENT --approve ACTION --by NAME`):".into()),
            Block::Table(vec!["action", "phase", "what", "status"], rows(&pending)),
        ],
    });
    out.push(Section {
        title: "Hardening and log sources",
        blocks: vec![Block::List(
            inv.recommendations
                .iter()
                .filter(|r| r.playbook.is_none())
                .map(|r| format!("{}: {}", r.phase, r.title))
                .collect(),
        )],
    });
    out.push(Section {
        title: "Detection rules and authors",
        blocks: vec![
            Block::Table(
                vec!["rule", "level", "author", "licence", "alerts"],
                inv.rules
                    .iter()
                    .map(|r| {
                        vec![r.title.clone(), r.level.clone(), r.author.clone(), r.license.clone(), r.alerts.to_string()]
                    })
                    .collect(),
            ),
            Block::Para("Sigma rules are shared under the Detection Rule License 1.1; the authors above are credited as it asks.".into()),
        ],
    });
    out.push(Section {
        title: "Agent trace",
        blocks: vec![Block::Table(
            vec!["#", "agent", "thought", "tool", "observation", "decision"],
            inv.trace
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    vec![
                        (i + 1).to_string(),
                        s.agent.clone(),
                        s.thought.clone(),
                        match &s.tool {
                            Some(t) => format!("{t} {}", s.args),
                            None => String::new(),
                        },
                        s.observation.clone(),
                        s.decision.clone(),
                    ]
                })
                .collect(),
        )],
    });
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The report as Markdown.
pub fn markdown(inv: &Investigation, states: &ActionStates) -> String {
    let mut s = format!("# {}: {}\n\n", inv.incident, inv.title);
    for sec in sections(inv, states) {
        let _ = writeln!(s, "## {}\n", sec.title);
        for b in sec.blocks {
            match b {
                Block::Para(p) => {
                    let _ = writeln!(s, "{p}\n");
                }
                Block::List(items) => {
                    if items.is_empty() {
                        s.push_str("(none)\n\n");
                    }
                    for i in &items {
                        let _ = writeln!(s, "- {i}");
                    }
                    if !items.is_empty() {
                        s.push('\n');
                    }
                }
                Block::Table(head, rows) => {
                    if rows.is_empty() {
                        s.push_str("(none)\n\n");
                        continue;
                    }
                    let _ = writeln!(s, "| {} |", head.join(" | "));
                    let _ = writeln!(s, "|{}", " --- |".repeat(head.len()));
                    for r in rows {
                        let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
                        let _ = writeln!(s, "| {} |", cells.join(" | "));
                    }
                    s.push('\n');
                }
                Block::Code(lang, text) => {
                    let _ = writeln!(s, "```{lang}\n{text}\n```\n");
                }
                Block::Svg(_) => {
                    let _ = writeln!(s, "![attack path]({}.svg)\n", file_stem(&inv.incident));
                }
            }
        }
    }
    s
}

/// A file name for an incident id.
pub fn file_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The report as one self-contained, printable HTML page (inline CSS and SVG).
pub fn html(inv: &Investigation, states: &ActionStates) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — {}</title>\n<style>\
body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}}\
table{{border-collapse:collapse;margin:.5em 0;font-size:90%}}td,th{{border:1px solid #bbb;padding:3px 6px;vertical-align:top;text-align:left}}\
th{{background:#f0f0f0}}pre{{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:85%;white-space:pre-wrap}}\
.verdict{{font-size:120%;font-weight:bold}}svg{{max-width:100%;height:auto;border:1px solid #ddd}}\
@media print{{body{{margin:0}}pre{{white-space:pre-wrap}}h2{{page-break-after:avoid}}table{{page-break-inside:auto}}}}\
</style></head><body>\n<h1>{}: {}</h1>\n<p class=\"verdict\">{} ({:.0}% confidence)</p>\n",
        esc(&inv.incident),
        esc(&inv.title),
        esc(&inv.incident),
        esc(&inv.title),
        esc(inv.verdict.label()),
        inv.confidence * 100.0
    );
    for sec in sections(inv, states) {
        let _ = writeln!(s, "<h2>{}</h2>", esc(sec.title));
        for b in sec.blocks {
            match b {
                Block::Para(p) => {
                    let _ = writeln!(s, "<p>{}</p>", esc(&p));
                }
                Block::List(items) => {
                    s.push_str("<ul>");
                    for i in items {
                        let _ = write!(s, "<li>{}</li>", esc(&i));
                    }
                    s.push_str("</ul>\n");
                }
                Block::Table(head, rows) => {
                    if rows.is_empty() {
                        s.push_str("<p>(none)</p>\n");
                        continue;
                    }
                    s.push_str("<table><tr>");
                    for h in head {
                        let _ = write!(s, "<th>{}</th>", esc(h));
                    }
                    s.push_str("</tr>\n");
                    for r in rows {
                        s.push_str("<tr>");
                        for c in r {
                            let _ = write!(s, "<td>{}</td>", esc(&c));
                        }
                        s.push_str("</tr>\n");
                    }
                    s.push_str("</table>\n");
                }
                Block::Code(_, text) => {
                    let _ = writeln!(s, "<pre>{}</pre>", esc(&text));
                }
                Block::Svg(svg) => s.push_str(&svg),
            }
        }
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stix_ids_are_uuid_shaped_and_stable() {
        let u = uuid_of("x");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_eq!(u, uuid_of("x"));
    }

    #[test]
    fn patterns_escape_quotes() {
        let i = IocRef {
            kind: "url".into(),
            value: "/a?b='1'".into(),
            role: String::new(),
            first_seen: None,
            reputation: None,
        };
        assert_eq!(stix_pattern(&i).unwrap(), "[url:value = '/a?b=\\'1\\'']");
    }
}

//! The security assistant on the ExCyTIn-Bench test questions (BENCHMARKS.md): the alerts of
//! `extracted_alerts.csv` become alerts whose events hold their entities as ECS fields, every
//! question is asked with its context, and the answer is compared with the expected one.
//! A question counts as answerable when its answer is a value of an alert's entities (the
//! alert data can answer it); accuracy is exact (case-insensitive) on the first answer, and
//! within the first five.
//!
//! `cargo run --release --example excytin_assistant -- ../shared/datasets/alerts/excytin-bench`

use agentic_soc::agents::assistant;
use agentic_soc::agents::detect::{Alert, RuleMeta, Threat};
use agentic_soc::agents::tools::{Events, IocList, Workspace};
use serde_json::{Map, Value as Json};
use std::path::PathBuf;

/// Rows of a `❖`-separated file with `"`-quoted fields.
fn rows(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let (mut row, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            ('❖', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut row));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        out.push(row);
    }
    out
}

fn push(ev: &mut Map<String, Json>, field: &str, v: &Json) {
    let Some(s) = v
        .as_str()
        .map(str::to_string)
        .or_else(|| v.as_i64().map(|n| n.to_string()))
    else {
        return;
    };
    if s.is_empty() {
        return;
    }
    let slot = ev
        .entry(field.to_string())
        .or_insert_with(|| Json::Array(vec![]));
    if let Json::Array(xs) = slot
        && !xs.iter().any(|x| x.as_str() == Some(&s))
    {
        xs.push(Json::String(s));
    }
}

/// Sentinel entity keys → ECS fields.
fn walk(v: &Json, ev: &mut Map<String, Json>) {
    match v {
        Json::Array(xs) => xs.iter().for_each(|x| walk(x, ev)),
        Json::Object(o) => {
            let ty = o.get("Type").and_then(Json::as_str).unwrap_or("");
            for (k, val) in o {
                let field = match (ty, k.as_str()) {
                    ("ip", "Address") => "related.ip",
                    ("account", "Name") => "user.name",
                    ("account", "UserPrincipalName")
                    | ("mailbox", "MailboxPrimaryAddress")
                    | ("mailbox", "Upn") => "user.email",
                    ("account", "AadUserId") | ("mailbox", "AadId") => "user.id",
                    ("account", "Sid") => "winlog.user.identifier",
                    ("host", "HostName") => "host.name",
                    ("url", "Url") => "url.original",
                    ("process", "ProcessId") => "process.pid",
                    ("process", "CommandLine") => "process.command_line",
                    ("file", "Name") => "file.name",
                    ("filehash", "Value") => match o.get("Algorithm").and_then(Json::as_str) {
                        Some("SHA256") => "file.hash.sha256",
                        Some("MD5") => "file.hash.md5",
                        _ => "file.hash.sha1",
                    },
                    ("mailMessage", "Recipient") => "email.to.address",
                    ("mailMessage", "Sender")
                    | ("mailMessage", "P1Sender")
                    | ("mailMessage", "P2Sender") => "email.from.address",
                    _ => {
                        walk(val, ev);
                        continue;
                    }
                };
                push(ev, field, val);
            }
        }
        _ => {}
    }
}

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/datasets/alerts/excytin-bench".into()),
    );
    let table = rows(&std::fs::read_to_string(dir.join("extracted_alerts.csv"))?);
    let head = &table[0];
    let col = |n: &str| {
        head.iter()
            .position(|h| h == n)
            .ok_or_else(|| anyhow::anyhow!("no column {n}"))
    };
    let (c_time, c_name, c_sev, c_ents, c_id, c_tac, c_tech) = (
        col("TimeGenerated")?,
        col("AlertName")?,
        col("AlertSeverity")?,
        col("Entities")?,
        col("SystemAlertId")?,
        col("Tactics")?,
        col("Techniques")?,
    );
    let mut alerts = Vec::new();
    let mut bad = 0;
    for r in &table[1..] {
        if r.len() != head.len() {
            bad += 1;
            continue;
        }
        let mut ev = Map::new();
        match serde_json::from_str::<Json>(&r[c_ents]) {
            Ok(v) => walk(&v, &mut ev),
            Err(_) => bad += 1,
        }
        let ts = r[c_time].replace(' ', "T");
        ev.insert("@timestamp".into(), Json::String(ts.clone()));
        alerts.push(Alert {
            id: r[c_id].clone(),
            timestamp: Some(ts),
            rule: RuleMeta {
                id: r[c_name].clone(),
                title: r[c_name].clone(),
                level: r[c_sev].to_lowercase(),
                status: String::new(),
                author: String::new(),
                tags: vec![],
                source: "excytin-bench".into(),
                license: String::new(),
            },
            threat: Threat {
                tactics: r[c_tac]
                    .split(',')
                    .map(|s| s.trim().to_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect(),
                techniques: serde_json::from_str::<Vec<String>>(&r[c_tech]).unwrap_or_default(),
            },
            logsource: "sentinel".into(),
            related: vec![],
            event: ev,
        });
    }
    let iocs = IocList::default();
    let ws = Workspace {
        alerts: &alerts,
        incidents: &[],
        dismissed: &[],
        events: Events::None,
        iocs: &iocs,
    };
    let values: std::collections::BTreeSet<String> = alerts
        .iter()
        .flat_map(|a| a.event.values())
        .filter_map(Json::as_array)
        .flatten()
        .filter_map(|v| v.as_str().map(|s| s.trim().to_lowercase()))
        .collect();
    let (mut total, mut answerable, mut top1, mut top5, mut attempted) = (0, 0, 0, 0, 0);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("questions_test"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    for f in files {
        let qs: Vec<Json> = serde_json::from_str(&std::fs::read_to_string(&f)?)?;
        for q in qs {
            total += 1;
            let want = q["answer"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| q["answer"].to_string());
            let want = want.trim().to_lowercase();
            if !values.contains(&want) {
                continue;
            }
            answerable += 1;
            let a = assistant::ask_in_context(
                &ws,
                q["context"].as_str().unwrap_or(""),
                q["question"].as_str().unwrap_or(""),
            )?;
            if a.intent == "attribute" && !a.values.is_empty() {
                attempted += 1;
            } else if std::env::var_os("EXCYTIN_DEBUG").is_some() {
                eprintln!("[{}] {} => {want}", a.intent, q["question"]);
            }
            let got: Vec<String> = a.values.iter().map(|v| v.trim().to_lowercase()).collect();
            if got.first() == Some(&want) {
                top1 += 1;
            }
            if got.iter().take(5).any(|g| *g == want) {
                top5 += 1;
            }
        }
    }
    println!(
        "{} alerts ({bad} rows or entity lists unreadable)",
        alerts.len()
    );
    println!(
        "{total} questions, {answerable} answerable from the alert data ({:.0}%)",
        100.0 * answerable as f64 / total.max(1) as f64
    );
    println!(
        "answered {attempted}; accuracy on the answerable: top-1 {top1}/{answerable} = {:.2}, top-5 {top5}/{answerable} = {:.2}",
        top1 as f64 / answerable.max(1) as f64,
        top5 as f64 / answerable.max(1) as f64
    );
    Ok(())
}

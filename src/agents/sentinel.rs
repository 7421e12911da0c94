//! Microsoft Sentinel `SecurityAlert` exports read as alerts, so alerts raised elsewhere can be
//! correlated, investigated and scored like the engine's own.
//!
//! Owns the export's framing (`❖`-delimited text whose `"`-quoted fields may span lines, as
//! ExCyTIn-Bench ships it, or a comma-delimited CSV export) and the mapping of its `Entities`
//! JSON (with `$ref` back-references resolved) onto the ECS fields the correlator reads:
//! account → `user.name` (mailbox and mail recipient addresses by their local part), host →
//! `host.name`, ip → `source.ip`, process → `process.entity_id` (host, pid and creation time)
//! and its parent, file and process image SHA-256 → `*.hash.sha256`, file → `file.path`, url →
//! `url.domain`, mail sender IP → `source.ip`. Tactics (`DefenseEvasion`) become ATT&CK tactic
//! names (`defense-evasion`) and `Techniques` the technique ids. The alert's time is its
//! `StartTime` (else `TimeGenerated`).

use super::detect::{Alert, RuleMeta, Threat};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// Whether `text` looks like a `SecurityAlert` export (its header names `SystemAlertId`).
pub fn is_export(text: &str) -> bool {
    let head = text.lines().next().unwrap_or("");
    head.contains("SystemAlertId") && head.contains("Entities")
}

/// Reads a `SecurityAlert` export. Records with the wrong number of fields are counted in the
/// second value, not dropped silently.
pub fn read_export(text: &str) -> Result<(Vec<Alert>, usize), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let head = text.lines().next().unwrap_or("");
    let delim = if head.contains('❖') { '❖' } else { ',' };
    let recs = records(text, delim);
    let Some(header) = recs.first() else {
        return Err("empty export".into());
    };
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| format!("the export has no {name} column"))
    };
    let c_id = col("SystemAlertId")?;
    let c_ents = col("Entities")?;
    let c_name = col("AlertName").or_else(|_| col("DisplayName"))?;
    let c_start = col("StartTime").or_else(|_| col("TimeGenerated"))?;
    let c_sev = col("AlertSeverity").ok();
    let c_tactics = col("Tactics").ok();
    let c_techniques = col("Techniques").ok();
    let c_product = col("ProductName").ok();
    let mut alerts = Vec::new();
    let mut bad = 0;
    for r in &recs[1..] {
        if r.len() != header.len() {
            if !(r.len() == 1 && r[0].trim().is_empty()) {
                bad += 1;
            }
            continue;
        }
        let ents: Json = serde_json::from_str(&r[c_ents]).unwrap_or(Json::Array(vec![]));
        let mut ids = HashMap::new();
        collect_ids(&ents, &mut ids);
        let ents: Vec<Json> = match resolve(&ents, &ids, 0) {
            Json::Array(a) => a,
            _ => vec![],
        };
        let timestamp = parse_time(&r[c_start]);
        let tactics: Vec<String> = c_tactics
            .map(|c| r[c].split(',').filter_map(tactic_name).collect())
            .unwrap_or_default();
        let techniques: Vec<String> = c_techniques
            .and_then(|c| serde_json::from_str::<Vec<String>>(&r[c]).ok())
            .unwrap_or_default();
        let mut event = event_of(&ents);
        if let Some(t) = &timestamp {
            event.insert("@timestamp".into(), Json::String(t.clone()));
        }
        alerts.push(Alert {
            id: r[c_id].clone(),
            timestamp,
            rule: RuleMeta {
                id: r[c_name].clone(),
                title: r[c_name].clone(),
                level: c_sev.map(|c| r[c].to_lowercase()).unwrap_or_default(),
                status: String::new(),
                author: c_product.map(|c| r[c].clone()).unwrap_or_default(),
                tags: vec![],
                source: "sentinel".into(),
                license: String::new(),
            },
            threat: Threat {
                tactics,
                techniques,
            },
            logsource: "sentinel".into(),
            related: vec![],
            event,
        });
    }
    alerts.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    Ok((alerts, bad))
}

fn parse_time(s: &str) -> Option<String> {
    let s = s.trim();
    chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|d| {
            d.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
}

/// `DefenseEvasion` → `defense-evasion`.
fn tactic_name(t: &str) -> Option<String> {
    let t = t.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("unknown") {
        return None;
    }
    let mut out = String::new();
    for (i, c) in t.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    Some(out)
}

/// Splits delimited CSV text with `"`-quoted fields (doubled quotes inside) into records.
fn records(text: &str, delim: char) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rec = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if field.is_empty() => quoted = true,
            c if c == delim && !quoted => rec.push(std::mem::take(&mut field)),
            '\n' if !quoted => {
                rec.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut rec));
            }
            '\r' if !quoted => {}
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !rec.is_empty() {
        rec.push(field);
        out.push(rec);
    }
    out
}

/// Entities with `{"$ref": id}` replaced by the entity of that `$id` (nested too).
fn resolve(v: &Json, ids: &HashMap<String, Json>, depth: usize) -> Json {
    match v {
        Json::Object(o) if o.len() == 1 && o.contains_key("$ref") && depth < 8 => {
            let id = o["$ref"].as_str().unwrap_or_default();
            ids.get(id)
                .map_or(Json::Null, |e| resolve(e, ids, depth + 1))
        }
        Json::Object(o) => Json::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), resolve(x, ids, depth + 1)))
                .collect(),
        ),
        Json::Array(a) => Json::Array(a.iter().map(|x| resolve(x, ids, depth + 1)).collect()),
        _ => v.clone(),
    }
}

fn collect_ids(v: &Json, ids: &mut HashMap<String, Json>) {
    match v {
        Json::Object(o) => {
            if let Some(id) = o.get("$id").and_then(Json::as_str) {
                ids.insert(id.to_string(), v.clone());
            }
            o.values().for_each(|x| collect_ids(x, ids));
        }
        Json::Array(a) => a.iter().for_each(|x| collect_ids(x, ids)),
        _ => {}
    }
}

fn text(v: &Json, k: &str) -> Option<String> {
    v.get(k)
        .and_then(|x| match x {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
}

fn local_part(addr: &str) -> String {
    addr.split('@').next().unwrap_or(addr).to_lowercase()
}

/// Appends `value` to the array field `name` of the event.
fn add(ev: &mut Map<String, Json>, name: &str, value: String) {
    let slot = ev
        .entry(name.to_string())
        .or_insert_with(|| Json::Array(vec![]));
    if let Json::Array(a) = slot
        && !a.iter().any(|x| x.as_str() == Some(value.as_str()))
    {
        a.push(Json::String(value));
    }
}

fn hashes(file: &Json, ev: &mut Map<String, Json>, field: &str) {
    for h in file
        .get("FileHashes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        if text(h, "Algorithm").as_deref() == Some("SHA256")
            && let Some(v) = text(h, "Value")
        {
            add(ev, field, v.to_lowercase());
        }
    }
}

fn process_id(p: &Json, host: &str) -> Option<String> {
    let pid = text(p, "ProcessId")?;
    let start = text(p, "CreationTimeUtc").unwrap_or_default();
    Some(format!("{host}|{pid}|{start}"))
}

/// The ECS fields of one alert's entities.
fn event_of(entities: &[Json]) -> Map<String, Json> {
    let mut ev = Map::new();
    let host = entities
        .iter()
        .find(|e| text(e, "Type").as_deref() == Some("host"))
        .and_then(|h| text(h, "HostName"))
        .unwrap_or_default()
        .to_lowercase();
    for e in entities {
        match text(e, "Type").as_deref() {
            Some("account") => {
                if let Some(n) = text(e, "Name") {
                    add(&mut ev, "user.name", n.to_lowercase());
                }
            }
            Some("mailbox") => {
                if let Some(a) = text(e, "MailboxPrimaryAddress").or_else(|| text(e, "Upn")) {
                    add(&mut ev, "user.name", local_part(&a));
                }
            }
            Some("mailMessage") => {
                if let Some(a) = text(e, "Recipient") {
                    add(&mut ev, "user.name", local_part(&a));
                }
                if let Some(ip) = text(e, "SenderIP") {
                    add(&mut ev, "source.ip", ip);
                }
            }
            Some("host") => {
                if let Some(h) = text(e, "HostName") {
                    add(&mut ev, "host.name", h.to_lowercase());
                }
            }
            Some("ip") => {
                if let Some(a) = text(e, "Address") {
                    add(&mut ev, "source.ip", a);
                }
            }
            Some("process") => {
                if let Some(id) = process_id(e, &host) {
                    add(&mut ev, "process.entity_id", id);
                }
                if let Some(parent) = e.get("ParentProcess")
                    && let Some(id) = process_id(parent, &host)
                {
                    add(&mut ev, "process.parent.entity_id", id);
                }
                if let Some(img) = e.get("ImageFile") {
                    hashes(img, &mut ev, "process.hash.sha256");
                }
            }
            Some("file") => {
                hashes(e, &mut ev, "file.hash.sha256");
                if let (Some(d), Some(n)) = (text(e, "Directory"), text(e, "Name")) {
                    add(&mut ev, "file.path", format!("{d}\\{n}").to_lowercase());
                }
            }
            Some("url") => {
                if let Some(u) = text(e, "Url") {
                    let rest = u.split("://").nth(1).unwrap_or(&u);
                    let domain = rest.split(['/', ':', '?']).next().unwrap_or(rest);
                    add(&mut ev, "url.domain", domain.to_lowercase());
                }
            }
            _ => {}
        }
    }
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export() -> String {
        let ents = r#"[{"$id":"2","HostName":"WS7","Type":"host"},{"$id":"3","Name":"BJenkins","Type":"account"},{"$id":"4","ProcessId":"2880","CreationTimeUtc":"T","Account":{"$ref":"3"},"Type":"process"}]"#;
        format!(
            "TenantId❖StartTime❖AlertName❖AlertSeverity❖SystemAlertId❖Entities❖Tactics❖Techniques\n\
             t❖2024-07-02 09:47:31.784654+00:00❖Suspicious discovery❖Low❖a1❖\"{}\"❖DefenseEvasion, Discovery❖\"[\"\"T1082\"\"]\"\n\
             t❖2024-07-02 09:50:00+00:00❖Second\nline❖High❖a2❖[]❖❖[]\n",
            ents.replace('"', "\"\"")
        )
    }

    #[test]
    fn an_export_becomes_alerts_with_entities_and_attack_context() {
        let text = export();
        assert!(is_export(&text));
        let (alerts, bad) = read_export(&text).unwrap();
        assert_eq!(
            (alerts.len(), bad),
            (1, 2),
            "an unquoted line break leaves two damaged records"
        );
        let a = &alerts[0];
        assert_eq!(a.id, "a1");
        assert_eq!(a.timestamp.as_deref(), Some("2024-07-02T09:47:31.784Z"));
        assert_eq!(a.event["host.name"], serde_json::json!(["ws7"]));
        assert_eq!(a.event["user.name"], serde_json::json!(["bjenkins"]));
        assert_eq!(
            a.event["process.entity_id"],
            serde_json::json!(["ws7|2880|T"])
        );
        assert_eq!(a.threat.tactics, ["defense-evasion", "discovery"]);
        assert_eq!(a.threat.techniques, ["T1082"]);
        assert_eq!(a.rule.level, "low");
    }

    #[test]
    fn quoted_fields_may_span_lines_and_a_missing_column_is_named() {
        let text = export().replace("Second\nline", "\"Second\nline\"");
        let (alerts, bad) = read_export(&text).unwrap();
        assert_eq!((alerts.len(), bad), (2, 0));
        assert_eq!(alerts[1].rule.title, "Second\nline");
        assert!(
            read_export("a,b\n1,2\n")
                .unwrap_err()
                .contains("SystemAlertId")
        );
    }
}

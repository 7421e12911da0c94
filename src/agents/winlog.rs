//! Windows event log records → ECS: the JSON rendering of EVTX records
//! (`{"Event":{"System":{…},"EventData":{…}}}`, as the `evtx` crate, Hayabusa and Chainsaw
//! print them), one per line or concatenated.
//!
//! Owns the System header mapping (time, host, provider, channel, event code) and, from the
//! data file `winlog.toml`, the per-event ECS categorization and EventData → ECS names. Every
//! EventData/UserData value is also kept as `winlog.event_data.<Name>`: nothing is dropped.

use serde::Deserialize;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Deserialize)]
struct File {
    event: Vec<EventMap>,
}

#[derive(Debug, Deserialize)]
struct EventMap {
    provider: String,
    ids: Vec<u32>,
    category: Vec<String>,
    #[serde(rename = "type")]
    kind: Vec<String>,
    fields: HashMap<String, String>,
}

static MAP: LazyLock<File> = LazyLock::new(|| {
    toml::from_str(include_str!("winlog.toml")).expect("winlog.toml is checked by a test")
});

/// Whether a JSON value looks like a rendered Windows event record.
pub fn is_windows_event(v: &Json) -> bool {
    v.get("Event").and_then(|e| e.get("System")).is_some()
}

fn attr<'a>(v: Option<&'a Json>, name: &str) -> Option<&'a Json> {
    v?.get("#attributes")?.get(name)
}

/// A scalar as text: strings, numbers, `{"#text": …}`.
fn scalar(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Object(o) => o.get("#text").and_then(scalar),
        _ => None,
    }
}

/// Normalizes one rendered record to a flat ECS event; `None` when it is not one.
pub fn normalize(record: &Json) -> Option<Map<String, Json>> {
    let ev = record.get("Event")?;
    let sys = ev.get("System")?;
    let mut out = Map::new();
    let provider = attr(sys.get("Provider"), "Name")
        .and_then(scalar)
        .unwrap_or_default();
    let code = sys.get("EventID").and_then(scalar).unwrap_or_default();
    if let Some(t) = attr(sys.get("TimeCreated"), "SystemTime").and_then(scalar) {
        out.insert("@timestamp".into(), Json::String(t));
    }
    out.insert("event.kind".into(), "event".into());
    out.insert("event.code".into(), Json::String(code.clone()));
    out.insert("event.provider".into(), Json::String(provider.clone()));
    out.insert("host.os.type".into(), "windows".into());
    if let Some(c) = sys.get("Computer").and_then(scalar) {
        out.insert("host.name".into(), Json::String(c));
    }
    if let Some(c) = sys.get("Channel").and_then(scalar) {
        out.insert("winlog.channel".into(), Json::String(c));
    }
    if let Some(r) = sys.get("EventRecordID").and_then(scalar) {
        out.insert("winlog.record_id".into(), Json::String(r));
    }
    if let Some(u) = attr(sys.get("Security"), "UserID").and_then(scalar) {
        out.insert("winlog.user.identifier".into(), Json::String(u));
    }
    // Event data: EventData (name → value), or UserData (one wrapper element → name → value).
    let mut data: Vec<(String, Json)> = Vec::new();
    if let Some(Json::Object(ed)) = ev.get("EventData") {
        for (k, v) in ed {
            if k == "#attributes" {
                continue;
            }
            data.push((k.clone(), v.clone()));
        }
    }
    if let Some(Json::Object(ud)) = ev.get("UserData") {
        for (_, inner) in ud {
            if let Json::Object(inner) = inner {
                for (k, v) in inner {
                    if k != "#attributes" {
                        data.push((k.clone(), v.clone()));
                    }
                }
            }
        }
    }
    let code_n: u32 = code.parse().unwrap_or(u32::MAX);
    let spec = MAP
        .event
        .iter()
        .find(|m| m.provider == provider && m.ids.contains(&code_n));
    if let Some(spec) = spec {
        out.insert("event.category".into(), spec.category.clone().into());
        out.insert("event.type".into(), spec.kind.clone().into());
    }
    for (k, v) in data {
        let text = scalar(&v);
        if let (Some(spec), Some(t)) = (spec, &text)
            && let Some(target) = spec.fields.get(&k)
            && !out.contains_key(target)
            && !t.is_empty()
            && t != "-"
        {
            out.insert(target.clone(), Json::String(t.clone()));
        }
        if k == "Hashes"
            && let Some(t) = &text
        {
            let prefix = if code_n == 1 {
                "process.hash."
            } else {
                "file.hash."
            };
            for part in t.split(',') {
                if let Some((alg, h)) = part.split_once('=') {
                    out.insert(
                        format!("{prefix}{}", alg.trim().to_ascii_lowercase()),
                        Json::String(h.trim().to_string()),
                    );
                }
            }
        }
        out.insert(
            format!("winlog.event_data.{k}"),
            text.map(Json::String).unwrap_or(v),
        );
    }
    // Names ECS wants without the domain: user.name = "DOMAIN\\user" → user.domain + user.name.
    if let Some(Json::String(u)) = out.get("user.name").cloned()
        && let Some((dom, name)) = u.split_once('\\')
    {
        out.insert("user.domain".into(), Json::String(dom.to_string()));
        out.insert("user.name".into(), Json::String(name.to_string()));
    }
    for (exe, name) in [
        ("process.executable", "process.name"),
        ("process.parent.executable", "process.parent.name"),
    ] {
        if let Some(Json::String(p)) = out.get(exe).cloned() {
            let base = p.rsplit(['\\', '/']).next().unwrap_or(&p).to_string();
            out.entry(name.to_string()).or_insert(Json::String(base));
        }
    }
    Some(out)
}

/// Reads every record from text holding rendered records: one JSON per line, or pretty-printed
/// records one after another. Returns the records and the errors (byte offset, message).
pub fn read_records(text: &str) -> (Vec<Json>, Vec<(usize, String)>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Json>();
    loop {
        let at = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(v)) => out.push(v),
            Some(Err(e)) => {
                let at = at + (text[at..].len() - text[at..].trim_start().len());
                errors.push((at, e.to_string()));
                // Skip to the next line and go on.
                let rest = &text[at..];
                let Some(nl) = rest.find('\n') else { break };
                let tail = &text[at + nl + 1..];
                let (more, errs) = read_records(tail);
                out.extend(more);
                errors.extend(errs.into_iter().map(|(o, m)| (o + at + nl + 1, m)));
                break;
            }
        }
    }
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_data_file_parses() {
        assert!(!MAP.event.is_empty());
    }

    #[test]
    fn sysmon_process_creation_to_ecs() {
        let rec = json!({"Event": {"System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
            "EventID": 1, "Computer": "ws1", "Channel": "Microsoft-Windows-Sysmon/Operational",
            "TimeCreated": {"#attributes": {"SystemTime": "2025-12-25T14:30:27.369114Z"}}},
          "EventData": {"Image": "C:\\Windows\\System32\\reg.exe", "CommandLine": "reg add x",
            "User": "CORP\\bob", "ProcessGuid": "{abc}", "ParentImage": "C:\\p.exe",
            "Hashes": "MD5=AA,SHA256=BB"}}});
        let e = normalize(&rec).unwrap();
        assert_eq!(e["process.executable"], "C:\\Windows\\System32\\reg.exe");
        assert_eq!(e["process.name"], "reg.exe");
        assert_eq!(e["process.command_line"], "reg add x");
        assert_eq!(e["process.entity_id"], "{abc}");
        assert_eq!(e["user.name"], "bob");
        assert_eq!(e["user.domain"], "CORP");
        assert_eq!(e["process.hash.sha256"], "BB");
        assert_eq!(e["winlog.event_data.User"], "CORP\\bob");
        assert_eq!(e["event.category"], json!(["process"]));
        assert_eq!(e["host.name"], "ws1");
        assert_eq!(e["event.code"], "1");
        assert_eq!(e["@timestamp"], "2025-12-25T14:30:27.369114Z");
    }

    #[test]
    fn concatenated_pretty_records_are_all_read() {
        let text = "{\n \"a\": 1\n}\n{\"b\": 2}\nnot json\n{\"c\": 3}\n";
        let (recs, errs) = read_records(text);
        assert_eq!(recs.len(), 3);
        assert_eq!(errs.len(), 1);
    }
}

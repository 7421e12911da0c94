//! Windows event log records → ECS: the JSON rendering of EVTX records
//! (`{"Event":{"System":{…},"EventData":{…}}}`, as the `evtx` crate, Hayabusa and Chainsaw
//! print them), one per line or concatenated; also Winlogbeat's (`winlog.event_id`,
//! `winlog.event_data`, nested or dotted) and NXLog `im_msvistalog`'s flat JSON (`EventID`,
//! `SourceName`, `Channel` beside the event data), and the XML form (`<Event xmlns=…>` as
//! `wevtutil qe /f:xml` and Event Viewer's "Save as XML" write it), turned into the EVTX form
//! first.
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
    renderings: Renderings,
}

#[derive(Debug, Deserialize)]
struct Renderings {
    nxlog_header: Vec<String>,
    nxlog_event_types: Vec<String>,
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

/// Whether a JSON value looks like a rendered Windows event record (any rendering read here).
pub fn is_windows_event(v: &Json) -> bool {
    v.get("Event").and_then(|e| e.get("System")).is_some()
        || winlogbeat(v).is_some()
        || nxlog(v).is_some()
}

/// A header value: a field of `v` by its nested path or by its dotted name.
fn path<'a>(v: &'a Json, dotted: &str) -> Option<&'a Json> {
    if let Some(x) = v.get(dotted) {
        return Some(x);
    }
    let mut cur = v;
    for part in dotted.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// The EVTX form of a record: its System header and event data.
fn evtx_form(
    provider: Option<Json>,
    id: Json,
    channel: Option<Json>,
    computer: Option<Json>,
    record: Option<Json>,
    time: Option<Json>,
    data: Map<String, Json>,
) -> Json {
    let mut sys = Map::new();
    let attrs = |k: &str, v: Json| serde_json::json!({"#attributes": {k: v}});
    if let Some(p) = provider {
        sys.insert("Provider".into(), attrs("Name", p));
    }
    sys.insert("EventID".into(), id);
    if let Some(t) = time {
        sys.insert("TimeCreated".into(), attrs("SystemTime", t));
    }
    if let Some(c) = channel {
        sys.insert("Channel".into(), c);
    }
    if let Some(c) = computer {
        sys.insert("Computer".into(), c);
    }
    if let Some(r) = record {
        sys.insert("EventRecordID".into(), r);
    }
    serde_json::json!({"Event": {"System": sys, "EventData": data}})
}

/// Winlogbeat's rendering: `winlog.event_id`, `winlog.provider_name`, `winlog.channel`,
/// `winlog.computer_name`, `winlog.record_id`, `winlog.event_data` (nested or dotted keys),
/// the time in `@timestamp`.
fn winlogbeat(v: &Json) -> Option<Json> {
    let id = path(v, "winlog.event_id")?.clone();
    let mut data = Map::new();
    match path(v, "winlog.event_data") {
        Some(Json::Object(ed)) => data.extend(ed.clone()),
        _ => {
            for (k, x) in v.as_object()? {
                if let Some(name) = k.strip_prefix("winlog.event_data.") {
                    data.insert(name.to_string(), x.clone());
                }
            }
        }
    }
    Some(evtx_form(
        path(v, "winlog.provider_name").cloned(),
        id,
        path(v, "winlog.channel").cloned(),
        path(v, "winlog.computer_name")
            .or_else(|| path(v, "host.name"))
            .cloned(),
        path(v, "winlog.record_id").cloned(),
        v.get("@timestamp").cloned(),
        data,
    ))
}

/// NXLog `im_msvistalog`'s flat rendering: `EventID` and `SourceName` or `Channel` beside the
/// event data at the top level (the header names are the data file's `nxlog_header`).
fn nxlog(v: &Json) -> Option<Json> {
    let o = v.as_object()?;
    let id = o.get("EventID")?.clone();
    if !o.contains_key("SourceName") && !o.contains_key("Channel") {
        return None;
    }
    let header = &MAP.renderings.nxlog_header;
    let types = &MAP.renderings.nxlog_event_types;
    let mut data = Map::new();
    for (k, x) in o {
        let header_type = k == "EventType"
            && x.as_str()
                .is_some_and(|t| types.iter().any(|h| h.eq_ignore_ascii_case(t)));
        if header_type || (k != "EventType" && header.iter().any(|h| h == k)) {
            continue;
        }
        data.insert(k.clone(), x.clone());
    }
    // `@timestamp` is UTC where a shipper added it; NXLog's own `EventTime` is local time.
    let time = o.get("@timestamp").or_else(|| o.get("EventTime")).cloned();
    Some(evtx_form(
        o.get("SourceName")
            .or_else(|| o.get("Provider_Name"))
            .cloned(),
        id,
        o.get("Channel").cloned(),
        o.get("Hostname").cloned(),
        o.get("RecordNumber").cloned(),
        time,
        data,
    ))
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
    if record.get("Event").is_none() {
        let evtx = winlogbeat(record).or_else(|| nxlog(record))?;
        return normalize(&evtx);
    }
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

/// Reads Windows events in their XML form: every `<Event>` element of the text (one per line,
/// concatenated, or inside an `<Events>` wrapper), in the JSON form [`normalize`] reads.
/// Returns the records and the errors (byte offset, message).
pub fn read_xml_records(text: &str) -> (Vec<Json>, Vec<(usize, String)>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut at = 0;
    while let Some(start) = find_event_start(&text[at..]).map(|i| i + at) {
        let Some(len) = text[start..].find("</Event>") else {
            errors.push((start, "an <Event> element without its </Event>".into()));
            break;
        };
        let end = start + len + "</Event>".len();
        match roxmltree::Document::parse(&text[start..end]) {
            Ok(doc) => out.push(xml_event(doc.root_element())),
            Err(e) => errors.push((start, e.to_string())),
        }
        at = end;
    }
    (out, errors)
}

/// The next `<Event` opening tag (not `<Events>`).
fn find_event_start(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find("<Event").map(|i| i + from) {
        match text[i + 6..].chars().next() {
            Some(c) if c == '>' || c == '/' || c.is_whitespace() => return Some(i),
            _ => from = i + 6,
        }
    }
    None
}

/// One `<Event>` element in the EVTX JSON form: System children with their attributes under
/// `#attributes`, `<Data Name=…>` pairs as EventData, UserData's inner element as UserData.
fn xml_event(ev: roxmltree::Node<'_, '_>) -> Json {
    let mut out = Map::new();
    for part in ev.children().filter(|n| n.is_element()) {
        match part.tag_name().name() {
            "System" => {
                let mut sys = Map::new();
                for c in part.children().filter(|n| n.is_element()) {
                    sys.insert(c.tag_name().name().to_string(), xml_node(c));
                }
                out.insert("System".into(), Json::Object(sys));
            }
            "EventData" => {
                let mut data = Map::new();
                let mut unnamed = Vec::new();
                for d in part.children().filter(|n| n.is_element()) {
                    let text = Json::String(d.text().unwrap_or("").to_string());
                    match d.attribute("Name") {
                        Some(name) => {
                            data.insert(name.to_string(), text);
                        }
                        None => unnamed.push(text),
                    }
                }
                if !unnamed.is_empty() {
                    data.insert("Data".into(), Json::Array(unnamed));
                }
                out.insert("EventData".into(), Json::Object(data));
            }
            "UserData" => {
                let mut ud = Map::new();
                for inner in part.children().filter(|n| n.is_element()) {
                    let mut fields = Map::new();
                    for f in inner.children().filter(|n| n.is_element()) {
                        fields.insert(
                            f.tag_name().name().to_string(),
                            Json::String(f.text().unwrap_or("").to_string()),
                        );
                    }
                    ud.insert(inner.tag_name().name().to_string(), Json::Object(fields));
                }
                out.insert("UserData".into(), Json::Object(ud));
            }
            _ => {}
        }
    }
    serde_json::json!({ "Event": out })
}

/// A System child: its text, or `{"#attributes": …}` (with `#text` when it has both).
fn xml_node(n: roxmltree::Node<'_, '_>) -> Json {
    let text = n.text().map(str::trim).filter(|t| !t.is_empty());
    if n.attributes().len() == 0 {
        return text.map_or(Json::Null, |t| Json::String(t.to_string()));
    }
    let attrs: Map<String, Json> = n
        .attributes()
        .map(|a| (a.name().to_string(), Json::String(a.value().to_string())))
        .collect();
    let mut o = Map::new();
    o.insert("#attributes".into(), Json::Object(attrs));
    if let Some(t) = text {
        o.insert("#text".into(), Json::String(t.to_string()));
    }
    Json::Object(o)
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
    fn nxlog_flat_records_map_like_evtx() {
        let rec = json!({"EventTime": "2020-09-21 15:03:44", "Hostname": "WS5.corp.example",
            "Keywords": -9223372036854775808i64, "EventType": "AUDIT_SUCCESS", "EventID": 4688,
            "SourceName": "Microsoft-Windows-Security-Auditing", "Channel": "Security",
            "RecordNumber": 91958, "Category": "Process Creation", "Message": "A new process…",
            "NewProcessName": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami",
            "SubjectUserName": "alice", "@timestamp": "2020-09-21T19:03:46.207Z"});
        assert!(is_windows_event(&rec));
        let e = normalize(&rec).unwrap();
        assert_eq!(e["event.code"], "4688");
        assert_eq!(e["event.provider"], "Microsoft-Windows-Security-Auditing");
        assert_eq!(e["process.executable"], "C:\\Windows\\System32\\cmd.exe");
        assert_eq!(e["process.name"], "cmd.exe");
        assert_eq!(e["process.command_line"], "cmd /c whoami");
        assert_eq!(e["host.name"], "WS5.corp.example");
        assert_eq!(e["@timestamp"], "2020-09-21T19:03:46.207Z");
        assert_eq!(e["winlog.record_id"], "91958");
        assert!(!e.contains_key("winlog.event_data.Message"));
        assert!(!e.contains_key("winlog.event_data.EventType"));
        // Sysmon's own EventType is event data, not NXLog's header.
        let reg = json!({"EventID": 13, "SourceName": "Microsoft-Windows-Sysmon",
            "EventType": "SetValue", "TargetObject": "HKLM\\x"});
        assert_eq!(
            normalize(&reg).unwrap()["winlog.event_data.EventType"],
            "SetValue"
        );
    }

    #[test]
    fn winlogbeat_records_nested_or_dotted_map_like_evtx() {
        let nested = json!({"@timestamp": "2024-05-01T10:00:00Z", "winlog": {
            "event_id": "1", "provider_name": "Microsoft-Windows-Sysmon",
            "channel": "Microsoft-Windows-Sysmon/Operational", "computer_name": "ws2",
            "event_data": {"Image": "C:\\a\\b.exe", "CommandLine": "b.exe -x"}}});
        let dotted = json!({"@timestamp": "2024-05-01T10:00:00Z", "winlog.event_id": 1,
            "winlog.provider_name": "Microsoft-Windows-Sysmon", "winlog.computer_name": "ws2",
            "winlog.channel": "Microsoft-Windows-Sysmon/Operational",
            "winlog.event_data.Image": "C:\\a\\b.exe", "winlog.event_data.CommandLine": "b.exe -x"});
        for rec in [nested, dotted] {
            assert!(is_windows_event(&rec));
            let e = normalize(&rec).unwrap();
            assert_eq!(e["process.executable"], "C:\\a\\b.exe");
            assert_eq!(e["process.command_line"], "b.exe -x");
            assert_eq!(e["event.category"], json!(["process"]));
            assert_eq!(e["host.name"], "ws2");
        }
        // An ECS event that is not a Windows record stays what it is.
        assert!(!is_windows_event(
            &json!({"event.code": "4688", "host.name": "x"})
        ));
    }

    #[test]
    fn xml_events_map_like_evtx() {
        let xml = r#"<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-A5BA-3E3B0328C30D}'/><EventID>4688</EventID><TimeCreated SystemTime='2024-03-01T08:00:00.1234567Z'/><EventRecordID>77</EventRecordID><Channel>Security</Channel><Computer>dc1.corp.example</Computer><Security/></System><EventData><Data Name='SubjectUserName'>alice</Data><Data Name='NewProcessName'>C:\Windows\System32\whoami.exe</Data><Data Name='CommandLine'>whoami /all</Data></EventData></Event>
<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Eventlog'/><EventID>1102</EventID><Computer>dc1</Computer></System><UserData><LogFileCleared xmlns='x'><SubjectUserName>bob</SubjectUserName></LogFileCleared></UserData></Event>
<Event><System><EventID>1</EventID></Event></Events>"#;
        let (recs, errs) = read_xml_records(xml);
        assert_eq!((recs.len(), errs.len()), (2, 1), "{errs:?}");
        let e = normalize(&recs[0]).unwrap();
        assert_eq!(e["event.code"], "4688");
        assert_eq!(e["process.name"], "whoami.exe");
        assert_eq!(e["process.command_line"], "whoami /all");
        assert_eq!(e["@timestamp"], "2024-03-01T08:00:00.1234567Z");
        assert_eq!(e["winlog.record_id"], "77");
        let cleared = normalize(&recs[1]).unwrap();
        assert_eq!(cleared["winlog.event_data.SubjectUserName"], "bob");
    }

    #[test]
    fn concatenated_pretty_records_are_all_read() {
        let text = "{\n \"a\": 1\n}\n{\"b\": 2}\nnot json\n{\"c\": 3}\n";
        let (recs, errs) = read_records(text);
        assert_eq!(recs.len(), 3);
        assert_eq!(errs.len(), 1);
    }
}

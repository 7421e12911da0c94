//! Layered reading of one event into key paths and values: JSON objects to any depth (arrays
//! of values kept per key), strings that themselves hold JSON or XML peeled as further layers,
//! XML read as a tree (elements, attributes, repeated elements, and `<Data Name='X'>v</Data>`
//! "name attribute + text" pairs as keys), and `key=value` text.
//!
//! Used to learn from labeled events (`eval::learn`) and to find the fields of JSON and XML
//! payloads when suggesting a rule.

use super::detect::kv_pairs;

/// How deep layers are peeled (JSON in a string in JSON …).
const MAX_DEPTH: usize = 8;

/// One value found in an event, under its key path (outermost key first).
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub path: Vec<String>,
    pub value: String,
}

/// Every key path and value of an event: JSON (possibly after a text header), XML, or
/// `key=value` text.
pub fn pairs(raw: &str) -> Vec<Pair> {
    let mut out = Vec::new();
    if let Some(j) = json_object(raw) {
        walk_json(&j, &mut Vec::new(), 0, &mut out);
    } else if let Some(x) = xml_start(raw) {
        walk_xml_text(&raw[x..], &[], &mut out);
    } else {
        for (k, v) in kv_pairs(raw, '=') {
            let v = v.trim_matches('"');
            if !v.is_empty() {
                out.push(Pair {
                    path: vec![k.to_string()],
                    value: v.to_string(),
                });
            }
        }
    }
    out
}

/// The JSON object an event holds: the whole text, or the text from its first `{` (a syslog
/// or collector header before the payload).
pub fn json_object(raw: &str) -> Option<serde_json::Value> {
    let start = raw.find('{')?;
    let text = raw[start..].trim_end();
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.is_object().then_some(v)
}

/// Where an XML document starts in an event (`<Event …`, `<?xml`), if it is XML.
pub fn xml_start(raw: &str) -> Option<usize> {
    let i = raw.find('<')?;
    let rest = &raw[i..];
    let tagged = rest.starts_with("<?xml")
        || rest
            .chars()
            .nth(1)
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    (tagged && rest.trim_end().ends_with('>') && rest.contains("</")).then_some(i)
}

fn walk_json(v: &serde_json::Value, path: &mut Vec<String>, depth: usize, out: &mut Vec<Pair>) {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            for (k, v) in m {
                path.push(k.clone());
                walk_json(v, path, depth, out);
                path.pop();
            }
        }
        J::Array(items) => {
            for i in items {
                walk_json(i, path, depth, out);
            }
        }
        J::Null => {}
        J::String(s) => {
            if path.is_empty() {
                return;
            }
            out.push(Pair {
                path: path.clone(),
                value: s.clone(),
            });
            if depth < MAX_DEPTH {
                peel_string(s, path, depth + 1, out);
            }
        }
        other => {
            if !path.is_empty() {
                out.push(Pair {
                    path: path.clone(),
                    value: other.to_string(),
                });
            }
        }
    }
}

/// A string value that carries another layer: JSON, XML, or a run of `key=value` pairs.
fn peel_string(s: &str, path: &mut Vec<String>, depth: usize, out: &mut Vec<Pair>) {
    let t = s.trim();
    if (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']')) {
        if let Ok(inner) = serde_json::from_str::<serde_json::Value>(t) {
            walk_json(&inner, path, depth, out);
        }
        return;
    }
    if let Some(x) = xml_start(t)
        && x == 0
    {
        walk_xml_text(t, path, out);
        return;
    }
    let kv = kv_pairs(t, '=');
    if kv.len() >= 3 {
        for (k, v) in kv {
            let v = v.trim_matches('"');
            if !v.is_empty() {
                path.push(k.to_string());
                out.push(Pair {
                    path: path.clone(),
                    value: v.to_string(),
                });
                path.pop();
            }
        }
    }
}

/// XML values as pairs under `path` (the key path of the string that held the document).
fn walk_xml_text(text: &str, path: &[String], out: &mut Vec<Pair>) {
    for item in xml_items(text) {
        let mut p = path.to_vec();
        p.extend(item.path);
        out.push(Pair {
            path: p,
            value: item.value,
        });
    }
}

/// One value of an XML event with the SLS-compatible regex that extracts it (SPL has no XML
/// instruction: `regexp_extract(text, regex, 1)` per element, attribute or named datum).
#[derive(Debug, Clone, PartialEq)]
pub struct XmlItem {
    /// Key path, as [`pairs`] gives it (`Event.System.TimeCreated.SystemTime`,
    /// `Event.EventData.TargetUserName`).
    pub path: Vec<String>,
    pub value: String,
    pub regex: String,
}

/// The values of an XML document with their extraction regexes; nothing when it is not XML.
/// Elements and attributes are keys: `<TimeCreated SystemTime='…'/>` gives
/// `TimeCreated.SystemTime`; `<Data Name='User'>bob</Data>` gives `EventData.User`; a leaf
/// element's text gives its name.
pub fn xml_items(text: &str) -> Vec<XmlItem> {
    let Some(start) = xml_start(text) else {
        return Vec::new();
    };
    let Ok(doc) = roxmltree::Document::parse(&text[start..]) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    xml_items_of(doc.root_element(), &mut Vec::new(), &mut out);
    out
}

fn xml_items_of(node: roxmltree::Node, path: &mut Vec<String>, out: &mut Vec<XmlItem>) {
    let tag = node.tag_name().name().to_string();
    let t = regex::escape(&tag);
    let text: String = node
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect::<String>()
        .trim()
        .to_string();
    let leaf = !node.children().any(|c| c.is_element());
    let named = node
        .attributes()
        .find(|a| a.name() == "Name" || a.name() == "name")
        .filter(|a| !a.value().is_empty());
    // `<Data Name='X'></Data>`: a named datum left empty has no value (not a `Data.Name` key).
    // (`<Provider Name='X'/>` keeps its attribute: only `Data` elements are name/value pairs.)
    if tag == "Data" && named.is_some() && leaf && text.is_empty() && node.attributes().count() == 1
    {
        return;
    }
    // Positional `<Data>` elements of an event (classic providers: `<EventData><Data>a</Data>
    // <Data>b</Data>`) are `param1`, `param2`, ... in document order, as Windows collectors
    // name them.
    let parent_tag = node
        .parent_element()
        .map(|p| p.tag_name().name().to_string());
    if tag == "Data" && named.is_none() && leaf && parent_tag.as_deref() == Some("EventData") {
        let n = node
            .prev_sibling_element()
            .into_iter()
            .flat_map(|p| std::iter::successors(Some(p), |e| e.prev_sibling_element()))
            .count();
        if !text.is_empty() {
            path.push(format!("param{}", n + 1));
            out.push(XmlItem {
                path: path.clone(),
                value: text,
                regex: format!(
                    r"<(?:\w+:)?EventData\b[^>]*>(?:\s*<(?:\w+:)?Data\s*>[^<]*</(?:\w+:)?Data>){{{n}}}\s*<(?:\w+:)?Data\s*>([^<]*)</"
                ),
            });
            path.pop();
        }
        return;
    }
    if let Some(a) = named
        && leaf
        && !text.is_empty()
    {
        path.push(a.value().to_string());
        out.push(XmlItem {
            path: path.clone(),
            value: text,
            regex: format!(
                r#"<(?:\w+:)?{t}\b[^>]*\b{}=['"]{}['"][^>]*>([^<]*)</"#,
                regex::escape(a.name()),
                regex::escape(a.value())
            ),
        });
        path.pop();
        return;
    }
    path.push(tag);
    for a in node.attributes() {
        if a.value().is_empty() {
            continue;
        }
        path.push(a.name().to_string());
        out.push(XmlItem {
            path: path.clone(),
            value: a.value().to_string(),
            regex: format!(
                r#"<(?:\w+:)?{t}\b[^>]*\b{}=['"]([^'"]*)['"]"#,
                regex::escape(a.name())
            ),
        });
        path.pop();
    }
    if leaf && !text.is_empty() {
        out.push(XmlItem {
            path: path.clone(),
            value: text,
            regex: format!(r"<(?:\w+:)?{t}\b[^>/]*>([^<]*)</"),
        });
    }
    for c in node.children().filter(|c| c.is_element()) {
        xml_items_of(c, path, out);
    }
    path.pop();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(ps: &'a [Pair], path: &str) -> Vec<&'a str> {
        ps.iter()
            .filter(|p| p.path.join(".") == path)
            .map(|p| p.value.as_str())
            .collect()
    }

    #[test]
    fn nested_json_arrays_and_json_in_a_string() {
        let raw = r#"<14>Jan  1 00:00:00 col app: {"a":{"b":"x","ips":["192.0.2.1","192.0.2.2"]},"inner":"{\"verb\":\"get\",\"n\":3}"}"#;
        let ps = pairs(raw);
        assert_eq!(find(&ps, "a.b"), ["x"]);
        assert_eq!(find(&ps, "a.ips"), ["192.0.2.1", "192.0.2.2"]);
        assert_eq!(find(&ps, "inner.verb"), ["get"]);
        assert_eq!(find(&ps, "inner.n"), ["3"]);
    }

    #[test]
    fn windows_event_xml_as_a_tree() {
        let raw = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
            <Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4625</EventID>\
            <TimeCreated SystemTime='2024-05-01T10:00:00.000Z'/><Execution ProcessID='612'/>\
            </System><EventData><Data Name='TargetUserName'>bob</Data>\
            <Data Name='IpAddress'>198.51.100.9</Data></EventData></Event>";
        let ps = pairs(raw);
        assert_eq!(find(&ps, "Event.System.EventID"), ["4625"]);
        assert_eq!(
            find(&ps, "Event.System.Provider.Name"),
            ["Microsoft-Windows-Security-Auditing"]
        );
        assert_eq!(
            find(&ps, "Event.System.TimeCreated.SystemTime"),
            ["2024-05-01T10:00:00.000Z"]
        );
        assert_eq!(find(&ps, "Event.System.Execution.ProcessID"), ["612"]);
        assert_eq!(find(&ps, "Event.EventData.TargetUserName"), ["bob"]);
        assert_eq!(find(&ps, "Event.EventData.IpAddress"), ["198.51.100.9"]);
        let ps = pairs(
            "<Event><EventData><Data Name='CertIssuerName'></Data><Data Name='A'>1</Data></EventData></Event>",
        );
        assert!(find(&ps, "Event.EventData.Data.Name").is_empty());
        assert_eq!(find(&ps, "Event.EventData.A"), ["1"]);
    }

    #[test]
    fn xml_items_carry_regexes_that_extract_their_values() {
        let raw = "<Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID>\
            <TimeCreated SystemTime=\"2024-05-01T10:00:00.000Z\"/></System><EventData>\
            <Data Name='Image'>C:\\Windows\\cmd.exe</Data><Data Name='User'>CORP\\bob</Data>\
            </EventData></Event>";
        let items = xml_items(raw);
        assert!(items.len() >= 5);
        for i in &items {
            let re = regex::Regex::new(&i.regex).unwrap();
            let got = re.captures(raw).and_then(|c| c.get(1)).map(|m| m.as_str());
            assert_eq!(got, Some(i.value.as_str()), "{}", i.path.join("."));
        }
        assert!(
            items
                .iter()
                .any(|i| i.path.join(".") == "Event.EventData.User")
        );
    }

    #[test]
    fn positional_data_elements_are_params() {
        let raw = "<Event><System><EventID>400</EventID></System><EventData><Data>Available</Data>\
            <Data>None</Data><Data>NewEngineState=Available HostName=ConsoleHost</Data></EventData></Event>";
        let items = xml_items(raw);
        for (p, v) in [("param1", "Available"), ("param2", "None")] {
            let i = items
                .iter()
                .find(|i| i.path.join(".") == format!("Event.EventData.{p}"))
                .unwrap();
            assert_eq!(i.value, v);
            let re = regex::Regex::new(&i.regex).unwrap();
            assert_eq!(&re.captures(raw).unwrap()[1], v, "{p}");
        }
        let i = items
            .iter()
            .find(|i| i.path.last().unwrap() == "param3")
            .unwrap();
        let re = regex::Regex::new(&i.regex).unwrap();
        assert!(re.captures(raw).unwrap()[1].starts_with("NewEngineState="));
        // Named data are not positional ones.
        let named = "<Event><EventData><Data Name='MessageNumber'>1</Data></EventData></Event>";
        assert!(re.captures(named).is_none());
    }

    #[test]
    fn key_value_text_and_kv_inside_json() {
        let ps = pairs("src=192.0.2.1 dst=192.0.2.2 act=\"drop it\"");
        assert_eq!(find(&ps, "act"), ["drop it"]);
        let ps = pairs(r#"{"msg":"a=1 b=2 c=three"}"#);
        assert_eq!(find(&ps, "msg.c"), ["three"]);
    }

    #[test]
    fn junk_gives_nothing_and_does_not_panic() {
        for s in ["", "{", "<a", "<a></b>", "{\"a\":", "\u{feff}{}", "<<<>>>"] {
            let _ = pairs(s);
        }
    }
}

//! Loading labeled streams: Elastic pipeline tests laid out as
//! `<integration>/<stream>/test-*.log` + `test-*.log-expected.json` (+ `*-config.yml`).
//!
//! Framing (EVALUATION.md): where every expected document carries `event.original`, those
//! strings are the events (this settles multi-line framing); otherwise the raw file is framed
//! line by line (or by the config's `multiline.first_line_pattern`) and must give one event
//! per document. The config's `fields` (what the harness injected before the pipeline ran)
//! and its time zone (`_conf.tz_offset`, `_tmp.tz_offset`, `event.timezone`) are kept for
//! scoring.

use super::compare::flatten;
use chrono::{NaiveDateTime, Offset, TimeZone};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A time zone from a test config: a fixed offset or an IANA zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TzSpec {
    /// Seconds east of UTC.
    Fixed(i32),
    Named(chrono_tz::Tz),
}

impl TzSpec {
    /// Reads the forms the configs use: `UTC`, `Z`, `+0500`, `+02:00`, `-2`, `GMT+2`,
    /// `GMT-0200`, `America/Chicago`.
    pub fn parse(text: &str) -> Option<TzSpec> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("gmt") || t == "Z" {
            return Some(TzSpec::Fixed(0));
        }
        let offset = t
            .strip_prefix("GMT")
            .or_else(|| t.strip_prefix("UTC"))
            .unwrap_or(t);
        if let Some(secs) = parse_offset(offset) {
            return Some(TzSpec::Fixed(secs));
        }
        t.parse::<chrono_tz::Tz>().ok().map(TzSpec::Named)
    }

    /// The instant (UTC milliseconds) of a wall-clock time in this zone.
    pub fn local_to_utc_ms(self, local: NaiveDateTime) -> Option<i64> {
        let offset = match self {
            TzSpec::Fixed(s) => s,
            TzSpec::Named(tz) => tz
                .from_local_datetime(&local)
                .earliest()?
                .offset()
                .fix()
                .local_minus_utc(),
        };
        Some(local.and_utc().timestamp_millis() - i64::from(offset) * 1000)
    }
}

/// `+0500`, `+05:00`, `-2`, `+8`: seconds east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 | 4 => {
            let split = digits.len() - 2;
            (
                digits[..split].parse::<i32>().ok()?,
                digits[split..].parse::<i32>().ok()?,
            )
        }
        _ => return None,
    };
    (h <= 18 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// What the harness config says about one test file.
#[derive(Debug, Clone, Default)]
pub struct CaseConfig {
    /// Fields the harness set before the pipeline ran, flattened (`@timestamp`,
    /// `event.timezone`, `_conf.tz_offset`, `tags`, ...).
    pub injected: Vec<(String, Json)>,
    /// The configured zone for zone-less timestamps.
    pub tz: Option<TzSpec>,
    /// Multi-line framing: a line matching this starts a new event.
    pub first_line_pattern: Option<String>,
}

impl CaseConfig {
    /// Builds the config from flattened YAML entries (later files override earlier ones).
    fn from_entries(entries: &BTreeMap<String, Json>) -> CaseConfig {
        let injected: Vec<(String, Json)> = entries
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("fields.")
                    .map(|f| (f.to_string(), v.clone()))
            })
            .collect();
        let tz = ["_conf.tz_offset", "_tmp.tz_offset", "event.timezone"]
            .iter()
            .find_map(|k| {
                injected
                    .iter()
                    .find(|(n, _)| n == k)
                    .and_then(|(_, v)| v.as_str())
                    .and_then(TzSpec::parse)
            });
        let first_line_pattern = entries
            .get("multiline.first_line_pattern")
            .and_then(Json::as_str)
            .map(str::to_string);
        CaseConfig {
            injected,
            tz,
            first_line_pattern,
        }
    }
}

/// One test file of a stream: its events, the expected documents (one per event) and its
/// config.
#[derive(Debug, Clone)]
pub struct Case {
    /// The raw file's name (`test-auth.log`).
    pub file: String,
    pub events: Vec<String>,
    pub expected: Vec<Json>,
    pub config: CaseConfig,
}

/// One integration data stream (`system/auth`): all its test files, in file-name order.
#[derive(Debug, Clone)]
pub struct Stream {
    /// `integration/stream`.
    pub name: String,
    pub dir: PathBuf,
    pub cases: Vec<Case>,
}

impl Stream {
    /// All events of the stream, in order: what a user would paste as samples.
    pub fn events(&self) -> Vec<String> {
        self.cases
            .iter()
            .flat_map(|c| c.events.iter().cloned())
            .collect()
    }

    /// The number of events.
    pub fn len(&self) -> usize {
        self.cases.iter().map(|c| c.events.len()).sum()
    }

    /// Whether the stream has no event.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Loads the stream in `dir` (a folder holding `*-expected.json` files).
    pub fn load(dir: &Path) -> Result<Stream, String> {
        let mut expected_files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with("-expected.json"))
            })
            .collect();
        expected_files.sort();
        if expected_files.is_empty() {
            return Err(format!("{}: no *-expected.json file", dir.display()));
        }
        let common = read_yaml_entries(&dir.join("test-common-config.yml"))?;
        let mut cases = Vec::new();
        for exp in expected_files {
            let name = exp.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let raw_name = name.trim_end_matches("-expected.json").to_string();
            let mut entries = common.clone();
            entries.extend(read_yaml_entries(
                &dir.join(format!("{raw_name}-config.yml")),
            )?);
            let config = CaseConfig::from_entries(&entries);
            let case = load_case(&dir.join(&raw_name), &exp, config)
                .map_err(|e| format!("{}: {e}", dir.join(&raw_name).display()))?;
            cases.push(case);
        }
        Ok(Stream {
            name: stream_name(dir),
            dir: dir.to_path_buf(),
            cases,
        })
    }
}

/// `integration/stream`: the last two components of the folder.
fn stream_name(dir: &Path) -> String {
    let parts: Vec<String> = dir
        .components()
        .rev()
        .take(2)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

fn load_case(raw_path: &Path, expected_path: &Path, config: CaseConfig) -> Result<Case, String> {
    let text = std::fs::read_to_string(expected_path)
        .map_err(|e| format!("cannot read {}: {e}", expected_path.display()))?;
    let json: Json = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", expected_path.display()))?;
    let expected = match json {
        Json::Object(mut o) => match o.remove("expected") {
            Some(Json::Array(docs)) => docs,
            _ => return Err("the expected file has no `expected` array".into()),
        },
        Json::Array(docs) => docs,
        _ => return Err("the expected file is not an object".into()),
    };
    let originals: Vec<Option<String>> = expected
        .iter()
        .map(|d| {
            flatten(d)
                .into_iter()
                .find(|(k, _)| k == "event.original")
                .and_then(|(_, v)| v.as_str().map(str::to_string))
        })
        .collect();
    let events = if !originals.is_empty() && originals.iter().all(Option::is_some) {
        originals.into_iter().flatten().collect()
    } else {
        let raw = std::fs::read_to_string(raw_path).map_err(|e| format!("cannot read: {e}"))?;
        let framed = frame(&raw, config.first_line_pattern.as_deref())?;
        if framed.len() != expected.len() {
            return Err(format!(
                "{} raw events but {} expected documents, and the documents carry no \
                 event.original to frame by",
                framed.len(),
                expected.len()
            ));
        }
        framed
    };
    Ok(Case {
        file: raw_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        events,
        expected,
        config,
    })
}

/// Splits raw text into events: one per non-empty line, or with a first-line pattern, a
/// matching line and the lines after it up to the next match.
pub fn frame(raw: &str, first_line_pattern: Option<&str>) -> Result<Vec<String>, String> {
    let lines = raw.lines().map(|l| l.strip_suffix('\r').unwrap_or(l));
    let Some(pattern) = first_line_pattern else {
        return Ok(lines
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect());
    };
    let re =
        regex::Regex::new(pattern).map_err(|e| format!("bad multiline.first_line_pattern: {e}"))?;
    let mut events: Vec<String> = Vec::new();
    for line in lines {
        if re.is_match(line) {
            events.push(line.to_string());
        } else if let Some(last) = events.last_mut() {
            last.push('\n');
            last.push_str(line);
        } else if !line.trim().is_empty() {
            // Text before the first match is an event of its own.
            events.push(line.to_string());
        }
    }
    for e in &mut events {
        let trimmed = e.trim_end_matches(['\n', '\r']).len();
        e.truncate(trimmed);
    }
    Ok(events)
}

/// Every stream folder under the given folders (a folder holding `*-expected.json` files is
/// a stream; others are searched recursively), sorted and without duplicates.
pub fn discover(dirs: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut subdirs = Vec::new();
        let mut is_stream = false;
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                subdirs.push(p);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-expected.json"))
            {
                is_stream = true;
            }
        }
        if is_stream {
            out.push(dir.to_path_buf());
        }
        for d in subdirs {
            walk(&d, out);
        }
    }
    let mut out = Vec::new();
    for d in dirs {
        walk(d, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// Reads the subset of YAML the test configs use into flattened `a.b.c` → value entries:
/// nested maps by indentation, `key: value` scalars (plain, `'single'` or `"double"`
/// quoted), `[a, b]` flow lists and `- item` block lists. A missing file gives nothing.
fn read_yaml_entries(path: &Path) -> Result<BTreeMap<String, Json>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_yaml_subset(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

pub(crate) fn parse_yaml_subset(text: &str) -> BTreeMap<String, Json> {
    let mut out: BTreeMap<String, Json> = BTreeMap::new();
    // (indent, key) of the open maps.
    let mut stack: Vec<(usize, String)> = Vec::new();
    for raw_line in text.lines() {
        let line = strip_comment(raw_line);
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        if let Some(item) = body
            .strip_prefix("- ")
            .or(if body == "-" { Some("") } else { None })
        {
            // A list item belongs to the innermost open key at a smaller indent.
            while stack.last().is_some_and(|(i, _)| *i > indent) {
                stack.pop();
            }
            let path = join(&stack, None);
            match out.entry(path).or_insert_with(|| Json::Array(Vec::new())) {
                Json::Array(items) => items.push(scalar(item)),
                other => *other = Json::Array(vec![scalar(item)]),
            }
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let Some((key, value)) = split_key(body) else {
            continue;
        };
        if value.is_empty() {
            stack.push((indent, key));
        } else {
            out.insert(join(&stack, Some(&key)), scalar(value));
        }
    }
    out
}

fn join(stack: &[(usize, String)], last: Option<&str>) -> String {
    let mut parts: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
    parts.extend(last);
    parts.join(".")
}

/// Drops a `# comment` that is outside quotes and starts the line or follows a space.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev == ' ' || prev == '\t' => return &line[..i],
            _ => {}
        }
        prev = c;
    }
    line
}

/// `key: value` (the key possibly quoted) → (key, raw value).
fn split_key(body: &str) -> Option<(String, &str)> {
    let (key, rest) = if let Some(q @ ('"' | '\'')) = body.chars().next() {
        let end = body[1..].find(q)? + 1;
        (body[1..end].to_string(), body[end + 1..].trim_start())
    } else {
        let colon = body
            .find(": ")
            .or_else(|| body.ends_with(':').then(|| body.len() - 1))?;
        (body[..colon].trim().to_string(), &body[colon..])
    };
    let value = rest.strip_prefix(':')?.trim();
    Some((key, value))
}

/// A scalar or flow list: quotes removed (with their escapes), `[a, b]` as a list.
fn scalar(raw: &str) -> Json {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return Json::Array(
            inner
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(scalar)
                .collect(),
        );
    }
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        let mut s = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                s.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => s.push('\n'),
                Some('t') => s.push('\t'),
                Some(other) => s.push(other),
                None => s.push('\\'),
            }
        }
        return Json::String(s);
    }
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Json::String(inner.replace("''", "'"));
    }
    Json::String(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_subset_reads_the_config_shapes() {
        let y = r#"
dynamic_fields:
  # a comment
  "event.ingested": ".*"
  "@timestamp": "^[0-9]{4}\\.[0-9]{3}Z"
fields:
  @timestamp: "2020-04-28T11:07:58.223Z"
  tags:
    - preserve_original_event
    - forwarded
  _conf:
    tz_offset: '+05:00'
  _temp:
    internal_networks: [private]
  event.timezone: GMT+2 # trailing
multiline:
  first_line_pattern: "^\\d{4}\\/\\d{2} "
"#;
        let e = parse_yaml_subset(y);
        assert_eq!(e["dynamic_fields.event.ingested"], json!(".*"));
        assert_eq!(
            e["dynamic_fields.@timestamp"],
            json!("^[0-9]{4}\\.[0-9]{3}Z")
        );
        assert_eq!(e["fields.@timestamp"], json!("2020-04-28T11:07:58.223Z"));
        assert_eq!(
            e["fields.tags"],
            json!(["preserve_original_event", "forwarded"])
        );
        assert_eq!(e["fields._conf.tz_offset"], json!("+05:00"));
        assert_eq!(e["fields._temp.internal_networks"], json!(["private"]));
        assert_eq!(e["fields.event.timezone"], json!("GMT+2"));
        assert_eq!(
            e["multiline.first_line_pattern"],
            json!("^\\d{4}\\/\\d{2} ")
        );
        let c = CaseConfig::from_entries(&e);
        assert_eq!(c.tz, Some(TzSpec::Fixed(5 * 3600)));
        assert!(c.injected.iter().any(|(k, _)| k == "@timestamp"));
    }

    #[test]
    fn yaml_subset_handles_uniform_indentation() {
        let e = parse_yaml_subset("  fields: \n    event.timezone: \"+0000\"\n  x: 1\n");
        assert_eq!(e["fields.event.timezone"], json!("+0000"));
        assert_eq!(e["x"], json!("1"));
    }

    #[test]
    fn zones_in_every_config_form() {
        let h = 3600;
        for (text, want) in [
            ("UTC", TzSpec::Fixed(0)),
            ("+0000", TzSpec::Fixed(0)),
            ("+0500", TzSpec::Fixed(5 * h)),
            ("+02:00", TzSpec::Fixed(2 * h)),
            ("GMT+2", TzSpec::Fixed(2 * h)),
            ("GMT-0200", TzSpec::Fixed(-2 * h)),
            ("-0530", TzSpec::Fixed(-(5 * h + 1800))),
            (
                "America/Chicago",
                TzSpec::Named(chrono_tz::America::Chicago),
            ),
        ] {
            assert_eq!(TzSpec::parse(text), Some(want), "{text}");
        }
        assert_eq!(TzSpec::parse("nowhere"), None);
        // DST: Chicago is UTC-5 in September.
        let local = chrono::NaiveDate::from_ymd_opt(2022, 9, 5)
            .unwrap()
            .and_hms_opt(16, 5, 26)
            .unwrap();
        let ms = TzSpec::parse("America/Chicago")
            .unwrap()
            .local_to_utc_ms(local)
            .unwrap();
        assert_eq!(ms, local.and_utc().timestamp_millis() + 5 * 3_600_000);
    }

    #[test]
    fn multiline_framing_joins_continuation_lines() {
        let raw = "2019/10/30 a\ncont 1\ncont 2\n2019/10/31 b\n\n";
        let events = frame(raw, Some(r"^\d{4}/\d{2}/\d{2} ")).unwrap();
        assert_eq!(events, ["2019/10/30 a\ncont 1\ncont 2", "2019/10/31 b"]);
        assert_eq!(frame("a\r\n\nb\n", None).unwrap(), ["a", "b"]);
    }

    #[test]
    fn stream_names_are_the_last_two_folders() {
        assert_eq!(
            stream_name(Path::new("/x/datasets/system/auth")),
            "system/auth"
        );
    }
}

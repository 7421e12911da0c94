//! Reading raw inputs for the agent pipeline: files and directories (plain, gzip, zstd, zip
//! archives, native Windows `.evtx` logs), recognizing what each holds and normalizing it to
//! flat ECS events.
//!
//! Owns the choice of normalization per input: rendered Windows event records go through
//! [`super::winlog`], JSON objects are taken as already normalized, and text lines go through
//! the rule package (SPL) that recognizes them best — the packages given, or the product
//! library shipped in `rules/`. Nothing is dropped: a line no package recognizes is kept as
//! `event.original` and counted.

use crate::event::Text;
use crate::spl;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The product library (every package under the repository's `rules/`, listed by the build
/// script), compiled into the binary.
pub const LIBRARY: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/rules.rs"));

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {what} is not supported here")]
    Unsupported { path: PathBuf, what: &'static str },
    #[error("{path}: not a readable archive or event log: {message}")]
    Archive { path: PathBuf, message: String },
    #[error("rule package {name} does not compile: {message}")]
    Rule { name: String, message: String },
}

/// How one input was normalized.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InputReport {
    pub path: String,
    /// `windows-evtx`, `windows-event-json`, `windows-event-xml`, `ecs-json`,
    /// `package:<name>` or `unrecognized` (a zip archive: those of its members, comma-separated).
    pub normalization: String,
    pub events: usize,
    /// Lines or records that failed to parse or to normalize (kept as `event.original`).
    pub failed: usize,
}

/// A compiled normalization package.
pub struct Package {
    pub name: String,
    plan: spl::Plan,
}

impl Package {
    /// Compiles a package from its SPL text.
    pub fn new(name: &str, spl_text: &str) -> Result<Package, IngestError> {
        let plan = spl::compile(spl_text).map_err(|d| IngestError::Rule {
            name: name.into(),
            message: d
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        })?;
        Ok(Package {
            name: name.into(),
            plan,
        })
    }

    /// The product library.
    pub fn library() -> Vec<Package> {
        LIBRARY
            .iter()
            .filter_map(|(n, t)| Package::new(n, t).ok())
            .collect()
    }

    /// Normalizes one line; `None` when the rule fails on it.
    fn run(&self, runner: &mut spl::Runner<'_>, line: &str) -> Option<Vec<Map<String, Json>>> {
        let mut out = Vec::new();
        runner
            .run_event(runner.line_event(Text::new(line)), &mut out)
            .ok()?;
        Some(out.into_iter().map(|(_, e)| e.to_json(false)).collect())
    }

    /// How well the package recognizes these lines: the share of lines it turns into
    /// events with fields beyond the original text, and the mean count of such fields.
    fn score(&self, lines: &[&str]) -> (f64, f64) {
        let mut runner = spl::Runner::new(&self.plan);
        // Fields the rule sets whatever the line (constants like observer.vendor) say nothing.
        let mut baseline: std::collections::HashSet<String> =
            ["event.original", "content", "message", "event.kind"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        for junk in ["", "x", "\u{1} no log line here"] {
            for e in self.run(&mut runner, junk).unwrap_or_default() {
                baseline.extend(e.keys().cloned());
            }
        }
        let mut hit = 0usize;
        let mut fields = 0usize;
        for l in lines {
            if let Some(evs) = self.run(&mut runner, l) {
                let n = evs
                    .iter()
                    // Schema fields only (dotted ECS names): a generic key=value split
                    // that keeps vendor keys as they are says little about the product.
                    .map(|e| {
                        e.keys()
                            .filter(|k| {
                                !baseline.contains(k.as_str())
                                    && (k.contains('.') || k.starts_with('@'))
                            })
                            .count()
                    })
                    .max()
                    .unwrap_or(0);
                if n >= 3 {
                    hit += 1;
                    fields += n;
                }
            }
        }
        let share = hit as f64 / lines.len().max(1) as f64;
        (share, fields as f64 / hit.max(1) as f64)
    }
}

/// Lists the files of the inputs (directories walked recursively, in name order).
pub fn files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    for i in inputs {
        walk(i, &mut out)?;
    }
    Ok(out)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), IngestError> {
    let io = |source| IngestError::Io {
        path: p.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(p).map_err(io)?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            walk(&e, out)?;
        }
    } else {
        out.push(p.to_path_buf());
    }
    Ok(())
}

/// Nested archives deeper than this are refused (a zip inside a zip inside a gzip...).
const MAX_NESTING: usize = 4;
/// The most bytes one archive member may expand to (a decompression bomb is an error, not an
/// out-of-memory abort).
const MAX_MEMBER_BYTES: u64 = 4 << 30;

/// One decoded part of an input: text lines, or Windows event records decoded from `.evtx`.
enum Part {
    Text(String),
    Records { records: Vec<Json>, failed: usize },
}

/// Decodes raw bytes by their first bytes: gzip and zstd are unpacked, a zip archive gives one
/// part per member (each decoded in turn), an `.evtx` file gives its records.
fn decode(path: &Path, raw: Vec<u8>, depth: usize) -> Result<Vec<Part>, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    if depth > MAX_NESTING {
        return Err(IngestError::Unsupported {
            path: path.to_path_buf(),
            what: "archives nested more than 4 deep",
        });
    }
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .take(MAX_MEMBER_BYTES)
            .read_to_end(&mut out)
            .map_err(io)?;
        decode(path, out, depth + 1)
    } else if raw.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let mut out = Vec::new();
        zstd::Decoder::new(&raw[..])
            .map_err(io)?
            .take(MAX_MEMBER_BYTES)
            .read_to_end(&mut out)
            .map_err(io)?;
        decode(path, out, depth + 1)
    } else if raw.starts_with(b"PK\x03\x04") || raw.starts_with(b"PK\x05\x06") {
        unzip(path, raw, depth)
    } else if raw.starts_with(b"ElfFile\0") {
        Ok(vec![evtx_records(path, raw)?])
    } else {
        let text = match String::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok(vec![Part::Text(text)])
    }
}

/// The members of a zip archive, in archive order, each decoded on its own.
fn unzip(path: &Path, raw: Vec<u8>, depth: usize) -> Result<Vec<Part>, IngestError> {
    let bad = |e: zip::result::ZipError| IngestError::Archive {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(raw)).map_err(bad)?;
    let mut parts = Vec::new();
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(bad)?;
        if !member.is_file() {
            continue;
        }
        let inner = path.join(member.name().map_err(bad)?.as_ref());
        let mut bytes = Vec::new();
        (&mut member)
            .take(MAX_MEMBER_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|source| IngestError::Io {
                path: inner.clone(),
                source,
            })?;
        drop(member);
        parts.extend(decode(&inner, bytes, depth + 1)?);
    }
    Ok(parts)
}

/// The records of a native Windows event log, rendered as the usual JSON
/// (`{"Event":{"System":{…},"EventData":{…}}}`, attributes under `#attributes`). A record
/// that cannot be decoded is counted, not fatal.
fn evtx_records(path: &Path, raw: Vec<u8>) -> Result<Part, IngestError> {
    let mut parser = evtx::EvtxParser::from_buffer(raw).map_err(|e| IngestError::Archive {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut records = Vec::new();
    let mut failed = 0;
    for r in parser.records_json_value() {
        match r {
            Ok(r) => records.push(r.data),
            Err(_) => failed += 1,
        }
    }
    Ok(Part::Records { records, failed })
}

/// Normalizes one input file to flat ECS events with the best-fitting normalization. A zip
/// archive's members are normalized one by one; the report names each normalization used.
pub fn normalize_file(
    path: &Path,
    packages: &[Package],
) -> Result<(Vec<Map<String, Json>>, InputReport), IngestError> {
    let raw = std::fs::read(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut events = Vec::new();
    let mut how: Vec<String> = Vec::new();
    let mut failed = 0;
    for part in decode(path, raw, 0)? {
        let (evs, normalization, f) = match part {
            Part::Text(text) => normalize_text(&text, packages),
            Part::Records { records, failed } => {
                let (evs, f) = normalize_records(records);
                (evs, "windows-evtx".to_string(), failed + f)
            }
        };
        events.extend(evs);
        failed += f;
        if !how.contains(&normalization) {
            how.push(normalization);
        }
    }
    let report = InputReport {
        path: path.display().to_string(),
        normalization: if how.is_empty() {
            "empty".into()
        } else {
            how.join(",")
        },
        events: events.len(),
        failed,
    };
    Ok((events, report))
}

/// Normalizes decoded JSON records: Windows events to ECS, other objects as they are.
/// Returns the events and how many records could not be normalized.
fn normalize_records(records: Vec<Json>) -> (Vec<Map<String, Json>>, usize) {
    let mut out = Vec::new();
    let mut failed = 0;
    for r in records {
        if super::winlog::is_windows_event(&r) {
            match super::winlog::normalize(&r) {
                Some(e) => out.push(e),
                None => {
                    failed += 1;
                    let mut m = Map::new();
                    m.insert("event.original".into(), Json::String(r.to_string()));
                    out.push(m);
                }
            }
        } else if let Json::Object(o) = r {
            out.push(o);
        } else {
            failed += 1;
        }
    }
    (out, failed)
}

/// Normalizes text: returns the events, the normalization chosen and the failure count.
pub fn normalize_text(text: &str, packages: &[Package]) -> (Vec<Map<String, Json>>, String, usize) {
    let first = text.trim_start().chars().next();
    if first == Some('{') {
        let (records, errors) = super::winlog::read_records(text);
        let windows = records.iter().any(super::winlog::is_windows_event);
        let (out, failed) = normalize_records(records);
        let failed = failed + errors.len();
        // Product JSON that is not ECS yet (no `@timestamp`: CloudTrail, EVE…) goes through
        // the package that recognizes it, when one does.
        if !windows && !out.iter().any(|e| e.contains_key("@timestamp")) {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            if let Some(p) = best_package(packages, &lines) {
                let mut events = Vec::with_capacity(lines.len());
                let mut failed = 0;
                let mut runner = spl::Runner::new(&p.plan);
                for l in &lines {
                    match p.run(&mut runner, l) {
                        Some(evs) => events.extend(evs),
                        None => {
                            failed += 1;
                            events.push(original(l));
                        }
                    }
                }
                return (events, format!("package:{}", p.name), failed);
            }
        }
        let how = if windows {
            "windows-event-json"
        } else {
            "ecs-json"
        };
        return (out, how.into(), failed);
    }
    if first == Some('<') && text.contains("<Event") && text.contains("<System>") {
        let (records, errors) = super::winlog::read_xml_records(text);
        if !records.is_empty() {
            let (out, failed) = normalize_records(records);
            return (out, "windows-event-xml".into(), failed + errors.len());
        }
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let best = best_package(packages, &lines).map(|p| (p, ()));
    let mut out = Vec::with_capacity(lines.len());
    let mut failed = 0;
    match best {
        Some((p, _)) => {
            let mut runner = spl::Runner::new(&p.plan);
            for l in &lines {
                match p.run(&mut runner, l) {
                    Some(evs) => out.extend(evs),
                    None => {
                        failed += 1;
                        out.push(original(l));
                    }
                }
            }
            (out, format!("package:{}", p.name), failed)
        }
        None => {
            out.extend(lines.iter().map(|l| original(l)));
            (out, "unrecognized".into(), 0)
        }
    }
}

/// The package that recognizes the first lines best (at least half of them).
fn best_package<'p>(packages: &'p [Package], lines: &[&str]) -> Option<&'p Package> {
    let sample: Vec<&str> = lines.iter().take(50).copied().collect();
    packages
        .iter()
        .map(|p| (p, p.score(&sample)))
        .filter(|(_, (share, _))| *share >= 0.5)
        // The best score; on a tie, the first package in name order (a stable choice).
        .fold(None::<(&Package, (f64, f64))>, |best, (p, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((p, s)),
        })
        .map(|(p, _)| p)
}

fn original(line: &str) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("event.original".into(), Json::String(line.into()));
    m.insert("message".into(), Json::String(line.into()));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_compiles_and_recognizes_an_access_log() {
        let lib = Package::library();
        assert_eq!(lib.len(), LIBRARY.len());
        let text = "203.0.113.7 - - [10/Oct/2024:13:55:36 +0000] \"GET /index.html HTTP/1.1\" 200 2326 \"-\" \"curl/8\"\n";
        let (evs, how, failed) = normalize_text(text, &lib);
        assert!(how == "package:nginx" || how == "package:apache", "{how}");
        assert_eq!(failed, 0);
        assert_eq!(evs[0]["source.ip"], "203.0.113.7");
    }

    #[test]
    fn unknown_text_is_kept_not_dropped() {
        let (evs, how, _) = normalize_text("hello world\nsecond line\n", &Package::library());
        assert_eq!(how, "unrecognized");
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[1]["event.original"], "second line");
    }

    #[test]
    fn ecs_json_lines_pass_through() {
        let (evs, how, failed) = normalize_text("{\"a\": 1}\n{\"b\": 2}\n", &[]);
        assert_eq!((evs.len(), how.as_str(), failed), (2, "ecs-json", 0));
    }

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in members {
            w.start_file(*name, opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn evtx_sample() -> Vec<u8> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("datasets/sigma/regression/file_event_win_anydesk_artefact");
        let f = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "evtx"))
            .unwrap();
        std::fs::read(f).unwrap()
    }

    #[test]
    fn zip_members_are_normalized_one_by_one_including_evtx_and_gzip() {
        use std::io::Write;
        let access = b"203.0.113.7 - - [10/Oct/2024:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl/8\"\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"first unknown line\n").unwrap();
        let evtx = evtx_sample();
        let zip = zip_of(&[
            ("logs/access.log", access),
            ("logs/other.log.gz", &gz.finish().unwrap()),
            ("win/sysmon.evtx", &evtx),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.zip");
        std::fs::write(&path, zip).unwrap();
        let (events, report) = normalize_file(&path, &Package::library()).unwrap();
        assert!(report.normalization.contains("windows-evtx"), "{report:?}");
        assert!(report.normalization.contains("unrecognized"), "{report:?}");
        assert_eq!(events[0]["source.ip"], "203.0.113.7");
        assert_eq!(events[1]["event.original"], "first unknown line");
        let sysmon: Vec<_> = events[2..].iter().collect();
        assert_eq!(sysmon.len(), 5);
        assert!(sysmon.iter().all(|e| e["event.code"] == "11"));
        assert_eq!(report.events, events.len());
        assert_eq!(report.failed, 0);
    }

    #[test]
    fn a_damaged_archive_or_event_log_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("cut.zip");
        let mut bytes = zip_of(&[("a.log", b"x\n")]);
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&zip, bytes).unwrap();
        let err = normalize_file(&zip, &[]).unwrap_err().to_string();
        assert!(
            err.contains("cut.zip") && err.contains("not a readable archive"),
            "{err}"
        );

        let evtx = dir.path().join("cut.evtx");
        let mut bytes = evtx_sample();
        bytes.truncate(100);
        std::fs::write(&evtx, bytes).unwrap();
        let err = normalize_file(&evtx, &[]).unwrap_err().to_string();
        assert!(err.contains("cut.evtx"), "{err}");
    }

    #[test]
    fn nesting_is_bounded() {
        let mut bytes = zip_of(&[("a.log", b"x\n")]);
        for i in 0..6 {
            let name = format!("layer{i}.zip");
            bytes = zip_of(&[(name.as_str(), &bytes)]);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deep.zip");
        std::fs::write(&path, bytes).unwrap();
        let err = normalize_file(&path, &[]).unwrap_err().to_string();
        assert!(err.contains("nested"), "{err}");
    }

    #[test]
    fn windows_xml_and_nxlog_renderings_are_normalized() {
        let xml = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><Computer>ws1</Computer></System><EventData><Data Name='Image'>C:\\x\\rundll32.exe</Data></EventData></Event>\n";
        let (evs, how, failed) = normalize_text(xml, &[]);
        assert_eq!(
            (how.as_str(), failed, evs.len()),
            ("windows-event-xml", 0, 1)
        );
        assert_eq!(evs[0]["process.name"], "rundll32.exe");
        let nx = "{\"EventID\":1,\"SourceName\":\"Microsoft-Windows-Sysmon\",\"Hostname\":\"ws1\",\"Image\":\"C:\\\\x\\\\rundll32.exe\"}\n";
        let (evs, how, _) = normalize_text(nx, &[]);
        assert_eq!(how, "windows-event-json");
        assert_eq!(evs[0]["process.name"], "rundll32.exe");
    }
}

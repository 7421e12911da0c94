//! Reading raw inputs for the agent pipeline: files and directories (plain, gzip, zstd),
//! recognizing what each holds and normalizing it to flat ECS events.
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

/// The product library (the repository's `rules/` packages), compiled into the binary.
pub const LIBRARY: &[(&str, &str)] = &[
    ("apache", include_str!("../../rules/apache/rule.spl")),
    ("cisco_asa", include_str!("../../rules/cisco_asa/rule.spl")),
    (
        "cloudtrail",
        include_str!("../../rules/cloudtrail/rule.spl"),
    ),
    ("fortigate", include_str!("../../rules/fortigate/rule.spl")),
    ("iis", include_str!("../../rules/iis/rule.spl")),
    ("iptables", include_str!("../../rules/iptables/rule.spl")),
    ("nginx", include_str!("../../rules/nginx/rule.spl")),
    ("paloalto", include_str!("../../rules/paloalto/rule.spl")),
    ("sshd", include_str!("../../rules/sshd/rule.spl")),
    ("sudo", include_str!("../../rules/sudo/rule.spl")),
    (
        "suricata_eve",
        include_str!("../../rules/suricata_eve/rule.spl"),
    ),
    (
        "windows_security",
        include_str!("../../rules/windows_security/rule.spl"),
    ),
];

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {what} archives are not supported; unpack it first")]
    Unsupported { path: PathBuf, what: &'static str },
    #[error("rule package {name} does not compile: {message}")]
    Rule { name: String, message: String },
}

/// How one input was normalized.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InputReport {
    pub path: String,
    /// `windows-event-json`, `ecs-json`, `package:<name>` or `unrecognized`.
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

/// Reads a file as text, decompressing gzip and zstd (detected by their first bytes).
pub fn read_text(path: &Path) -> Result<String, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw = std::fs::read(path).map_err(io)?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(io)?;
        out
    } else if raw.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::decode_all(&raw[..]).map_err(io)?
    } else if raw.starts_with(b"PK\x03\x04") {
        return Err(IngestError::Unsupported {
            path: path.to_path_buf(),
            what: "zip",
        });
    } else if raw.starts_with(b"ElfFile\0") {
        return Err(IngestError::Unsupported {
            path: path.to_path_buf(),
            what: "binary .evtx (render it to JSON first)",
        });
    } else {
        raw
    };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Normalizes one input file to flat ECS events with the best-fitting normalization.
pub fn normalize_file(
    path: &Path,
    packages: &[Package],
) -> Result<(Vec<Map<String, Json>>, InputReport), IngestError> {
    let text = read_text(path)?;
    let (events, normalization, failed) = normalize_text(&text, packages);
    let report = InputReport {
        path: path.display().to_string(),
        normalization,
        events: events.len(),
        failed,
    };
    Ok((events, report))
}

/// Normalizes text: returns the events, the normalization chosen and the failure count.
pub fn normalize_text(text: &str, packages: &[Package]) -> (Vec<Map<String, Json>>, String, usize) {
    let first = text.trim_start().chars().next();
    if first == Some('{') {
        let (records, errors) = super::winlog::read_records(text);
        let windows = records.iter().any(super::winlog::is_windows_event);
        let mut out = Vec::new();
        let mut failed = errors.len();
        for r in records {
            if super::winlog::is_windows_event(&r) {
                match super::winlog::normalize(&r) {
                    Some(e) => out.push(e),
                    None => failed += 1,
                }
            } else if let Json::Object(o) = r {
                out.push(o);
            } else {
                failed += 1;
            }
        }
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
        .max_by(|a, b| (a.1).partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal))
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
}

//! Rule packages and their regression tests (`soc test`), after `elastic-package test
//! pipeline` and `vector test`.
//!
//! A package is a folder with `rule.spl`, sample files (`*.log`: one event per line;
//! `*.ndjson`: one JSON object per line) and for each sample its expected output
//! (`<sample>.expected.ndjson`: one JSON object per output event, in order; an event that
//! fails is recorded as `{"__failed__": {"code", "message"}}`). An optional `package.toml`
//! holds settings. Owns loading, running, comparing and rewriting expectations; the CLI
//! (`cli/test.rs`) only prints.

use crate::diagnostic::render_text;
use crate::event::{Event, Text, Timestamp};
use crate::spl::{self, PlanOptions, ops::Coercion};
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};

/// `package.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// What the package is for.
    #[serde(default)]
    pub description: Option<String>,
    /// `line` or `ndjson`; by default from the sample's extension.
    #[serde(default)]
    pub input_format: Option<String>,
    /// The clock for `now()` (RFC 3339); default 2024-01-01T00:00:00Z so outputs are stable.
    #[serde(default)]
    pub now: Option<String>,
    /// Regexes of field names left out of the comparison (ingestion times, random ids).
    #[serde(default)]
    pub ignore_fields: Vec<String>,
    /// Write and compare every value as text, as SLS stores it.
    #[serde(default)]
    pub text_values: bool,
    /// Presto-strict typing.
    #[serde(default)]
    pub strict: bool,
    /// Multi-line records: a line matching this regex starts a new event (stack traces,
    /// indented continuations); by default one line is one event.
    #[serde(default)]
    pub first_line: Option<String>,
    /// Whether `soc analyze`/`soc ingest` may pick this package on its own for raw input
    /// (default true). False for generic formats that also parse other products' lines (a
    /// common-log-format access log matches every web server's); they stay usable with
    /// `--rules`.
    #[serde(default)]
    pub ingest: Option<bool>,
}

/// One sample file and its expectation.
#[derive(Debug, Clone)]
pub struct Sample {
    pub input: PathBuf,
    pub expected: PathBuf,
    pub ndjson: bool,
}

/// A loaded package.
#[derive(Debug, Clone)]
pub struct Package {
    pub dir: PathBuf,
    pub name: String,
    pub rule: String,
    pub settings: Settings,
    pub samples: Vec<Sample>,
}

/// The clock packages run with unless `package.toml` says otherwise.
pub const DEFAULT_NOW: &str = "2024-01-01T00:00:00Z";

/// Finds packages: each `dir` is a package (has `rule.spl`) or is searched recursively.
/// Results are sorted by path.
pub fn discover(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for d in dirs {
        if !d.is_dir() {
            return Err(format!("{} is not a directory", d.display()));
        }
        walk(d, &mut found).map_err(|e| format!("reading {}: {e}", d.display()))?;
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir.join("rule.spl").is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        }
    }
    Ok(())
}

/// Loads a package folder.
pub fn load(dir: &Path) -> Result<Package, String> {
    let rule = std::fs::read_to_string(dir.join("rule.spl"))
        .map_err(|e| format!("{}: cannot read rule.spl: {e}", dir.display()))?;
    let settings = match std::fs::read_to_string(dir.join("package.toml")) {
        Ok(t) => toml::from_str(&t).map_err(|e| format!("{}: package.toml: {e}", dir.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
        Err(e) => return Err(format!("{}: package.toml: {e}", dir.display())),
    };
    let mut samples = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".expected.ndjson") || !p.is_file() {
            continue;
        }
        let ndjson = match settings.input_format.as_deref() {
            Some("ndjson") => name.ends_with(".ndjson") || name.ends_with(".log"),
            _ => name.ends_with(".ndjson"),
        };
        if !(name.ends_with(".log") || name.ends_with(".ndjson")) {
            continue;
        }
        let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
        samples.push(Sample {
            expected: dir.join(format!("{stem}.expected.ndjson")),
            input: p,
            ndjson,
        });
    }
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("package")
        .to_string();
    Ok(Package {
        dir: dir.to_path_buf(),
        name,
        rule,
        settings,
        samples,
    })
}

/// A difference in one field of one output event.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldDiff {
    Missing {
        field: String,
        expected: Json,
    },
    Extra {
        field: String,
        got: Json,
    },
    Changed {
        field: String,
        expected: Json,
        got: Json,
    },
}

/// A difference at one output position.
#[derive(Debug, Clone, PartialEq)]
pub enum EventDiff {
    /// Both sides have an event here; these fields differ.
    Fields { index: usize, diffs: Vec<FieldDiff> },
    /// Expected an event that was not produced.
    MissingEvent { index: usize, expected: Json },
    /// Produced an event that was not expected.
    ExtraEvent { index: usize, got: Json },
}

/// The outcome of one sample.
#[derive(Debug, Clone)]
pub struct SampleResult {
    pub sample: Sample,
    /// The produced output, one JSON object per line (what `--update` writes).
    pub actual: Vec<Json>,
    /// `None` when the expectation file does not exist.
    pub expected: Option<Vec<Json>>,
    pub diffs: Vec<EventDiff>,
    /// Input events that gave at least one output row.
    pub written: usize,
    /// Of those, the ones no parse stage matched (`spl::ParseOutcome::unparsed`).
    pub unparsed: usize,
}

impl SampleResult {
    pub fn passed(&self) -> bool {
        self.expected.is_some() && self.diffs.is_empty()
    }
}

/// The outcome of a package.
#[derive(Debug, Clone)]
pub struct PackageResult {
    pub package: Package,
    /// Rendered compile errors, when the rule does not compile.
    pub compile_errors: Option<String>,
    pub samples: Vec<SampleResult>,
}

impl PackageResult {
    pub fn passed(&self) -> bool {
        self.compile_errors.is_none()
            && !self.samples.is_empty()
            && self.samples.iter().all(SampleResult::passed)
    }
}

/// Runs every sample of a package and compares with its expectation.
pub fn run_package(package: &Package) -> Result<PackageResult, String> {
    let s = &package.settings;
    let options = PlanOptions {
        coercion: if s.strict {
            Coercion::Strict
        } else {
            Coercion::Lenient
        },
        ..PlanOptions::default()
    };
    let ignore: Vec<Regex> = s
        .ignore_fields
        .iter()
        .map(|r| {
            Regex::new(r).map_err(|e| {
                format!(
                    "{}: package.toml ignore_fields '{r}': {e}",
                    package.dir.display()
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let now = s.now.as_deref().unwrap_or(DEFAULT_NOW);
    let now = chrono::DateTime::parse_from_rfc3339(now)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .ok_or_else(|| {
            format!(
                "{}: package.toml now '{now}' is not RFC 3339",
                package.dir.display()
            )
        })?;
    let plan = match spl::compile_with(&package.rule, &options) {
        Ok(p) => p,
        Err(diags) => {
            let text = diags
                .iter()
                .map(|d| render_text(d, &package.rule, "rule.spl"))
                .collect();
            return Ok(PackageResult {
                package: package.clone(),
                compile_errors: Some(text),
                samples: Vec::new(),
            });
        }
    };
    let mut samples = Vec::new();
    for sample in &package.samples {
        let text = std::fs::read_to_string(&sample.input)
            .map_err(|e| format!("{}: {e}", sample.input.display()))?;
        let mut runner = spl::Runner::new(&plan).with_clock(Timestamp::utc(now));
        let mut events = Vec::new();
        let mut actual_slots: Vec<Option<Json>> = Vec::new();
        let records: Vec<String> = match (&package.settings.first_line, sample.ndjson) {
            (Some(p), false) => {
                let lines: Vec<&str> = text.lines().collect();
                crate::infer::framing::frame(&lines, p).map_err(|e| {
                    format!(
                        "{}: first_line is not a valid regex: {e}",
                        package.dir.display()
                    )
                })?
            }
            _ => text.lines().map(str::to_string).collect(),
        };
        for (i, line) in records.iter().map(String::as_str).enumerate() {
            if sample.ndjson {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Json>(line) {
                    Ok(Json::Object(o)) => events.push(Event::from_json_object(o)),
                    _ => {
                        return Err(format!(
                            "{}:{}: not a JSON object",
                            sample.input.display(),
                            i + 1
                        ));
                    }
                }
            } else {
                events.push(runner.line_event(Text::new(line)));
            }
            actual_slots.push(None);
        }
        let result = runner.run_batch(events);
        let written = {
            let mut origins: Vec<usize> = result.outputs.iter().map(|o| o.origin).collect();
            origins.sort_unstable();
            origins.dedup();
            origins.len()
        };
        let unparsed = result.unparsed.len();
        let mut actual: Vec<(usize, Json)> = result
            .outputs
            .iter()
            .map(|o| {
                let mut obj = Map::new();
                if let Some(tag) = &o.tag {
                    obj.insert("__dataset__".into(), Json::String(tag.to_string()));
                }
                obj.extend(o.event.to_json(s.text_values));
                (o.origin, Json::Object(obj))
            })
            .collect();
        for f in &result.failures {
            let rec = serde_json::json!({ "__failed__": { "code": f.diagnostic.code, "message": f.diagnostic.message } });
            actual.push((f.origin, rec));
        }
        if !plan.has_aggregates() {
            actual.sort_by_key(|(o, _)| *o);
        }
        let actual: Vec<Json> = actual.into_iter().map(|(_, j)| j).collect();
        let expected = match std::fs::read_to_string(&sample.expected) {
            Ok(t) => Some(
                t.lines()
                    .filter(|l| !l.trim().is_empty())
                    .enumerate()
                    .map(|(i, l)| {
                        serde_json::from_str(l)
                            .map_err(|e| format!("{}:{}: {e}", sample.expected.display(), i + 1))
                    })
                    .collect::<Result<Vec<Json>, String>>()?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{}: {e}", sample.expected.display())),
        };
        let diffs = expected
            .as_ref()
            .map(|exp| diff_events(exp, &actual, &ignore))
            .unwrap_or_default();
        samples.push(SampleResult {
            sample: sample.clone(),
            actual,
            expected,
            diffs,
            written,
            unparsed,
        });
    }
    Ok(PackageResult {
        package: package.clone(),
        compile_errors: None,
        samples,
    })
}

/// Compares expected and produced events position by position, field by field.
pub fn diff_events(expected: &[Json], got: &[Json], ignore: &[Regex]) -> Vec<EventDiff> {
    let ignored = |k: &str| ignore.iter().any(|r| r.is_match(k));
    let mut out = Vec::new();
    for i in 0..expected.len().max(got.len()) {
        match (expected.get(i), got.get(i)) {
            (Some(e), Some(g)) => {
                let empty = Map::new();
                let (em, gm) = (
                    e.as_object().unwrap_or(&empty),
                    g.as_object().unwrap_or(&empty),
                );
                let mut diffs = Vec::new();
                for (k, ev) in em {
                    if ignored(k) {
                        continue;
                    }
                    match gm.get(k) {
                        None => diffs.push(FieldDiff::Missing {
                            field: k.clone(),
                            expected: ev.clone(),
                        }),
                        Some(gv) if gv != ev => diffs.push(FieldDiff::Changed {
                            field: k.clone(),
                            expected: ev.clone(),
                            got: gv.clone(),
                        }),
                        _ => {}
                    }
                }
                for (k, gv) in gm {
                    if !ignored(k) && !em.contains_key(k) {
                        diffs.push(FieldDiff::Extra {
                            field: k.clone(),
                            got: gv.clone(),
                        });
                    }
                }
                if !diffs.is_empty() {
                    out.push(EventDiff::Fields { index: i, diffs });
                }
            }
            (Some(e), None) => out.push(EventDiff::MissingEvent {
                index: i,
                expected: e.clone(),
            }),
            (None, Some(g)) => out.push(EventDiff::ExtraEvent {
                index: i,
                got: g.clone(),
            }),
            (None, None) => {}
        }
    }
    out
}

/// Writes the produced output as the new expectation. Returns whether the file changed.
pub fn update_expected(result: &SampleResult) -> std::io::Result<bool> {
    let mut text = String::new();
    for j in &result.actual {
        text.push_str(&j.to_string());
        text.push('\n');
    }
    let old = std::fs::read_to_string(&result.sample.expected).ok();
    if old.as_deref() == Some(text.as_str()) {
        return Ok(false);
    }
    std::fs::write(&result.sample.expected, text)?;
    Ok(true)
}

/// Writes a new package from a rule and sample lines: `rule.spl`, `sample.log`,
/// `package.toml` (the clock `now`, which also completes year-less timestamps) and
/// `sample.expected.ndjson` (the rule's current output). Used by `soc suggest --package`.
pub fn write_package(
    dir: &Path,
    rule: &str,
    samples: &[String],
    now: &str,
    first_line: Option<&str>,
) -> Result<PackageResult, String> {
    chrono::DateTime::parse_from_rfc3339(now)
        .map_err(|e| format!("the package clock '{now}' is not RFC 3339: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text)
            .map_err(|e| format!("{}: {e}", dir.join(name).display()))
    };
    write("rule.spl", format!("{}\n", rule.trim_end()))?;
    write("sample.log", format!("{}\n", samples.join("\n")))?;
    let framing = first_line
        .map(|p| format!("first_line = {}\n", toml::Value::String(p.to_string())))
        .unwrap_or_default();
    write(
        "package.toml",
        format!(
            "description = \"Written by soc suggest from {} samples\"\nnow = \"{now}\"\n{framing}",
            samples.len()
        ),
    )?;
    let package = load(dir)?;
    let result = run_package(&package)?;
    for s in &result.samples {
        update_expected(s).map_err(|e| format!("{}: {e}", s.sample.expected.display()))?;
    }
    run_package(&load(dir)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_reports_missing_extra_and_changed() {
        let exp = vec![json!({"a": 1, "b": "x", "t": "now"}), json!({"a": 2})];
        let got = vec![json!({"a": 1, "b": "y", "c": true, "t": "later"})];
        let ignore = vec![Regex::new("^t$").unwrap()];
        let d = diff_events(&exp, &got, &ignore);
        assert_eq!(
            d,
            vec![
                EventDiff::Fields {
                    index: 0,
                    diffs: vec![
                        FieldDiff::Changed {
                            field: "b".into(),
                            expected: json!("x"),
                            got: json!("y")
                        },
                        FieldDiff::Extra {
                            field: "c".into(),
                            got: json!(true)
                        },
                    ]
                },
                EventDiff::MissingEvent {
                    index: 1,
                    expected: json!({"a": 2})
                },
            ]
        );
        assert!(diff_events(&exp, &exp, &[]).is_empty());
    }

    #[test]
    fn package_round_trip_in_a_temp_dir() {
        let dir = std::env::temp_dir().join(format!("soc-rules-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let r = write_package(
            &dir,
            "* | extend n = cast(content as BIGINT)",
            &["1".into(), "x".into()],
            DEFAULT_NOW,
            None,
        )
        .unwrap();
        assert!(r.passed(), "{r:?}");
        let expected = std::fs::read_to_string(dir.join("sample.expected.ndjson")).unwrap();
        assert_eq!(expected.lines().count(), 2);
        assert!(expected.lines().nth(1).unwrap().contains("__failed__"));
        // A changed rule fails against the stored expectation.
        std::fs::write(
            dir.join("rule.spl"),
            "* | extend n = cast(content as DOUBLE)",
        )
        .unwrap();
        let r = run_package(&load(&dir).unwrap()).unwrap();
        assert!(!r.passed());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn unknown_settings_are_rejected() {
        let dir = std::env::temp_dir().join(format!("soc-rules-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("rule.spl"), "* | where true").unwrap();
        std::fs::write(dir.join("package.toml"), "inptu_format = 'ndjson'").unwrap();
        let e = load(&dir).unwrap_err();
        assert!(e.contains("inptu_format"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

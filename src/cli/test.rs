//! `soc test [DIR]... [--update] [--filter NAME]`: runs rule packages and prints per-event,
//! per-field differences (coloured on a terminal) and a `N passed, N failed` summary.

use crate::rules::{self, EventDiff, FieldDiff, PackageResult};
use anyhow::{Result, bail};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Package folders, or folders to search for packages (default: `rules`).
    pub dirs: Vec<PathBuf>,
    /// Rewrite the expected outputs from the current results (says which changed).
    #[arg(long)]
    pub update: bool,
    /// Only packages whose path contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Warn on stderr when more than PERCENT of a package's written events were not
    /// matched by any parse stage. 100 turns the warning off.
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub unparsed_threshold: f64,
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
}

pub fn run(args: TestArgs) -> Result<u8> {
    let dirs = if args.dirs.is_empty() {
        vec![PathBuf::from("rules")]
    } else {
        args.dirs.clone()
    };
    let mut found = rules::discover(&dirs).map_err(anyhow::Error::msg)?;
    if let Some(f) = &args.filter {
        found.retain(|p| p.to_string_lossy().contains(f.as_str()));
    }
    if found.is_empty() {
        bail!(
            "no rule packages (folders with rule.spl) under {}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let stdout = std::io::stdout();
    let style = Style {
        color: stdout.is_terminal(),
    };
    let mut out = stdout.lock();
    let (mut passed, mut failed) = (0usize, 0usize);
    for dir in &found {
        let result = rules::load(dir).and_then(|p| rules::run_package(&p));
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                failed += 1;
                writeln!(out, "{} {}\n  {e}", style.red("FAIL"), dir.display())?;
                continue;
            }
        };
        if args.update && result.compile_errors.is_none() {
            for s in &result.samples {
                if rules::update_expected(s)? {
                    writeln!(out, "updated {}", s.sample.expected.display())?;
                }
            }
            passed += 1;
            continue;
        }
        let written: usize = result.samples.iter().map(|s| s.written).sum();
        let unparsed: usize = result.samples.iter().map(|s| s.unparsed).sum();
        if let Some(w) = crate::cli::normalize::unparsed_warning(
            unparsed as u64,
            written as u64,
            args.unparsed_threshold,
        ) {
            eprintln!("{}: {w}", dir.display());
        }
        if result.passed() {
            passed += 1;
            let events: usize = result.samples.iter().map(|s| s.actual.len()).sum();
            writeln!(
                out,
                "{} {} ({} sample{}, {events} events, {unparsed} unparsed)",
                style.green("ok  "),
                dir.display(),
                result.samples.len(),
                if result.samples.len() == 1 { "" } else { "s" }
            )?;
        } else {
            failed += 1;
            report_failure(&mut out, &style, &result)?;
        }
    }
    writeln!(out)?;
    let line = format!("{passed} passed, {failed} failed");
    writeln!(
        out,
        "{}",
        if failed > 0 {
            style.red(&line)
        } else {
            style.green(&line)
        }
    )?;
    Ok(if failed > 0 { 1 } else { 0 })
}

fn report_failure(out: &mut impl Write, style: &Style, r: &PackageResult) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {}",
        style.red("FAIL"),
        style.bold(&r.package.dir.display().to_string())
    )?;
    if let Some(errors) = &r.compile_errors {
        for l in errors.lines() {
            writeln!(out, "  {l}")?;
        }
        return Ok(());
    }
    if r.samples.is_empty() {
        writeln!(out, "  no samples (*.log or *.ndjson) in the package")?;
    }
    for s in &r.samples {
        let Some(_) = &s.expected else {
            writeln!(
                out,
                "  {}: no {} (run `soc test --update` to create it)",
                s.sample.input.display(),
                s.sample.expected.display()
            )?;
            continue;
        };
        if s.diffs.is_empty() {
            continue;
        }
        writeln!(out, "  --- {}", s.sample.expected.display())?;
        writeln!(out, "  +++ {} (actual)", s.sample.input.display())?;
        for d in &s.diffs {
            match d {
                EventDiff::Fields { index, diffs } => {
                    writeln!(out, "  @@ event {} @@", index + 1)?;
                    for f in diffs {
                        match f {
                            FieldDiff::Missing { field, expected } => {
                                writeln!(out, "  {}", style.red(&format!("-{field}: {expected}")))?
                            }
                            FieldDiff::Extra { field, got } => {
                                writeln!(out, "  {}", style.green(&format!("+{field}: {got}")))?
                            }
                            FieldDiff::Changed {
                                field,
                                expected,
                                got,
                            } => {
                                writeln!(out, "  {}", style.red(&format!("-{field}: {expected}")))?;
                                writeln!(out, "  {}", style.green(&format!("+{field}: {got}")))?;
                            }
                        }
                    }
                }
                EventDiff::MissingEvent { index, expected } => {
                    writeln!(out, "  @@ event {} @@", index + 1)?;
                    writeln!(out, "  {}", style.red(&format!("-{expected}")))?;
                }
                EventDiff::ExtraEvent { index, got } => {
                    writeln!(out, "  @@ event {} @@", index + 1)?;
                    writeln!(out, "  {}", style.green(&format!("+{got}")))?;
                }
            }
        }
    }
    Ok(())
}

//! `soc spl check|fmt|run|functions`: the SPL engine on the command line.

use crate::diagnostic::{Diagnostic, render_text};
use crate::event::{Event, Text, Timestamp};
use crate::spl::{self, PlanOptions, ops::Coercion};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum SplCommand {
    /// Check a rule: exit 0 when valid, 2 when not (diagnostics on stderr).
    Check {
        /// Rule file, `-` for stdin, or the SPL text itself.
        rule: String,
        /// Warn about project extensions that SLS does not have.
        #[arg(long)]
        sls_compat: bool,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Print a rule in canonical form, one stage per line, keeping its comments.
    Fmt {
        /// Rule file, `-` for stdin, or the SPL text itself.
        rule: String,
    },
    /// Run a rule on log lines (or NDJSON objects) and write NDJSON.
    Run(RunArgs),
    /// Print the function reference from the registry.
    Functions {
        /// Only functions whose name contains this text.
        filter: Option<String>,
        /// The whole reference as Markdown (what docs/functions.md holds).
        #[arg(long, conflicts_with = "filter")]
        markdown: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// Each line is one event `{"content": line}`.
    Line,
    /// Each line is a JSON object whose keys become fields.
    Ndjson,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Rule file, `-` for stdin, or the SPL text itself.
    pub rule: String,
    /// Input files; stdin when none or `-`.
    pub inputs: Vec<PathBuf>,
    /// How input lines become events.
    #[arg(long, value_enum, default_value = "line")]
    pub input_format: InputFormat,
    /// Write every value as text, the way SLS stores it.
    #[arg(long)]
    pub text_values: bool,
    /// Write failed events (line number, input, diagnostic) as NDJSON to this file instead
    /// of stderr.
    #[arg(long, value_name = "FILE")]
    pub dead_letter: Option<PathBuf>,
    /// Presto-strict typing: text meeting a number is a type error instead of a coercion.
    #[arg(long)]
    pub strict: bool,
    /// The clock for now()/current_timestamp, RFC 3339 (default: the real time).
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Warn on stderr when more than PERCENT of the written events were not matched by any
    /// parse stage. 100 turns the warning off.
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub unparsed_threshold: f64,
    /// Also write each unparsed event's input (file, line, input) as NDJSON to FILE, to
    /// replay once the rule is fixed. Unparsed events are still written to stdout.
    #[arg(long, value_name = "FILE")]
    pub unparsed_dead_letter: Option<PathBuf>,
}

pub fn run(cmd: SplCommand) -> Result<u8> {
    match cmd {
        SplCommand::Check {
            rule,
            sls_compat,
            deny_warnings,
        } => {
            let (src, origin) = read_rule(&rule)?;
            let options = PlanOptions {
                sls_compat,
                ..PlanOptions::default()
            };
            match spl::compile_with(&src, &options) {
                Ok(plan) => {
                    for w in plan.warnings.iter().chain(&plan.notes) {
                        eprint!("{}", render_text(w, &src, &origin));
                    }
                    if deny_warnings && !plan.warnings.is_empty() {
                        return Ok(2);
                    }
                    Ok(0)
                }
                Err(diags) => {
                    print_diagnostics(&diags, &src, &origin);
                    Ok(2)
                }
            }
        }
        SplCommand::Fmt { rule } => {
            let (src, origin) = read_rule(&rule)?;
            match spl::parse::parse(&src) {
                Ok(script) => {
                    let comments = spl::parse::comments(&src, &script);
                    print!("{}", spl::print::format_script(&script, &comments));
                    Ok(0)
                }
                Err(diags) => {
                    print_diagnostics(&diags, &src, &origin);
                    Ok(2)
                }
            }
        }
        SplCommand::Functions { filter, markdown } => {
            let mut out = std::io::stdout().lock();
            if markdown {
                out.write_all(spl::functions::markdown().as_bytes())?;
                return Ok(0);
            }
            let text = spl::functions::reference();
            match filter {
                None => out.write_all(text.as_bytes())?,
                Some(f) => {
                    for block in text.split("\n\n").filter(|b| {
                        !b.starts_with("##")
                            && b.split('(').next().is_some_and(|n| n.contains(f.as_str()))
                    }) {
                        writeln!(out, "{block}\n")?;
                    }
                }
            }
            Ok(0)
        }
        SplCommand::Run(args) => run_rule(args),
    }
}

fn print_diagnostics(diags: &[Diagnostic], src: &str, origin: &str) {
    for d in diags {
        eprint!("{}", render_text(d, src, origin));
    }
}

/// Reads a rule: a file, `-` for stdin, or (when no such file exists and the text looks
/// like SPL) the argument itself.
pub fn read_rule(rule: &str) -> Result<(String, String)> {
    if rule == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the rule from stdin")?;
        return Ok((s, "<stdin>".into()));
    }
    let path = Path::new(rule);
    if path.is_file() {
        let s = std::fs::read_to_string(path)
            .with_context(|| format!("reading rule {}", path.display()))?;
        return Ok((s, rule.to_string()));
    }
    let t = rule.trim_start();
    if t.starts_with('*') || t.starts_with(".let") || t.starts_with('$') {
        return Ok((rule.to_string(), "<rule>".into()));
    }
    bail!("no rule file {rule} (pass a file, `-` for stdin, or SPL text starting with `*`)")
}

fn run_rule(args: RunArgs) -> Result<u8> {
    let (src, origin) = read_rule(&args.rule)?;
    let options = PlanOptions {
        coercion: if args.strict {
            Coercion::Strict
        } else {
            Coercion::Lenient
        },
        ..PlanOptions::default()
    };
    let plan = match spl::compile_with(&src, &options) {
        Ok(p) => p,
        Err(diags) => {
            print_diagnostics(&diags, &src, &origin);
            return Ok(2);
        }
    };
    for w in &plan.warnings {
        eprint!("{}", render_text(w, &src, &origin));
    }
    let mut runner = spl::Runner::new(&plan);
    if let Some(now) = &args.now {
        let t = chrono::DateTime::parse_from_rfc3339(now)
            .with_context(|| format!("--now {now} is not RFC 3339"))?;
        runner = runner.with_clock(Timestamp::utc(
            t.timestamp_nanos_opt().context("--now out of range")?,
        ));
    }
    let mut dead: Option<Box<dyn Write>> = match &args.dead_letter {
        Some(p) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        ))),
        None => None,
    };
    let mut unparsed_dead: Option<Box<dyn Write>> = match &args.unparsed_dead_letter {
        Some(p) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        ))),
        None => None,
    };
    let mut note_unparsed = |file: &str, line_no: usize, raw: &str| -> Result<()> {
        if let Some(w) = unparsed_dead.as_mut() {
            let rec = serde_json::json!({ "file": file, "line": line_no, "input": raw });
            writeln!(w, "{rec}")?;
        }
        Ok(())
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let tagged = plan.is_tagged();
    let mut failed = 0usize;
    let (mut written, mut unparsed) = (0u64, 0u64);
    let mut buf = String::new();
    let mut outputs = Vec::new();
    let inputs: Vec<PathBuf> = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };

    let write_event = |tag: Option<&str>, e: &Event, buf: &mut String| {
        buf.clear();
        if tagged {
            let mut with_tag = Event::with_capacity(e.len() + 1);
            with_tag.set_str("__dataset__", crate::event::Value::str(tag.unwrap_or("")));
            for (n, v) in e.fields() {
                with_tag.set(n, v.clone());
            }
            with_tag.write_ndjson(buf, args.text_values);
        } else {
            e.write_ndjson(buf, args.text_values);
        }
    };

    // Plans with stats/sort/limit need every event first.
    let batch = plan.has_aggregates();
    let mut pending: Vec<(String, usize, Event)> = Vec::new();
    let fail = |file: &str,
                line_no: usize,
                raw: &str,
                d: &Diagnostic,
                dead: &mut Option<Box<dyn Write>>|
     -> Result<()> {
        match dead {
            Some(w) => {
                let rec = serde_json::json!({
                    "file": file, "line": line_no, "input": raw,
                    "error": d.to_json(&src),
                });
                writeln!(w, "{rec}")?;
            }
            None => eprint!("{file}:{line_no}: {}", render_text(d, &src, &origin)),
        }
        Ok(())
    };

    for input in &inputs {
        let is_stdin = input.as_os_str() == "-";
        let name = if is_stdin {
            "<stdin>".to_string()
        } else {
            input.display().to_string()
        };
        let reader: Box<dyn BufRead> = if is_stdin {
            Box::new(BufReader::new(std::io::stdin()))
        } else {
            match std::fs::File::open(input) {
                Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
                Err(e) => {
                    eprintln!("error: cannot read {name}: {e}");
                    failed += 1;
                    continue;
                }
            }
        };
        let mut reader = reader;
        let mut line = Vec::new();
        let mut line_no = 0usize;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .with_context(|| format!("reading {name}"))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                line.pop();
            }
            // A UTF-8 byte-order mark opens some files; it is not part of the first event.
            if line_no == 1 && line.starts_with(&[0xEF, 0xBB, 0xBF]) {
                line.drain(..3);
            }
            let text = String::from_utf8_lossy(&line);
            let event = match args.input_format {
                InputFormat::Line => runner.line_event(Text::from(text.as_ref())),
                InputFormat::Ndjson => {
                    if text.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<serde_json::Value>(&text) {
                        Ok(serde_json::Value::Object(o)) => Event::from_json_object(o),
                        Ok(_) | Err(_) => {
                            let d = Diagnostic::error(
                                crate::diagnostic::codes::RUNTIME,
                                "the input line is not a JSON object",
                            )
                            .with_hint("use --input-format line for plain text");
                            fail(&name, line_no, &text, &d, &mut dead)?;
                            failed += 1;
                            continue;
                        }
                    }
                }
            };
            if batch {
                pending.push((name.clone(), line_no, event));
                continue;
            }
            outputs.clear();
            match runner.run_event(event, &mut outputs) {
                Ok(()) => {
                    if !outputs.is_empty() {
                        written += 1;
                        if runner.parse_outcome().unparsed() {
                            unparsed += 1;
                            note_unparsed(&name, line_no, &text)?;
                        }
                    }
                    for (tag, e) in &outputs {
                        write_event(tag.as_deref(), e, &mut buf);
                        out.write_all(buf.as_bytes())?;
                    }
                }
                Err(d) => {
                    fail(&name, line_no, &text, &d, &mut dead)?;
                    failed += 1;
                }
            }
        }
    }
    if batch {
        let origins: Vec<(String, usize)> =
            pending.iter().map(|(f, l, _)| (f.clone(), *l)).collect();
        // Aggregate rows are not input events: no parse accounting for these plans.
        let result = runner.run_batch(pending.into_iter().map(|(_, _, e)| e).collect());
        for o in &result.outputs {
            write_event(o.tag.as_deref(), &o.event, &mut buf);
            out.write_all(buf.as_bytes())?;
        }
        for f in &result.failures {
            let (file, line) = origins
                .get(f.origin)
                .cloned()
                .unwrap_or_else(|| ("<aggregate>".into(), 0));
            fail(&file, line, "", &f.diagnostic, &mut dead)?;
            failed += 1;
        }
    }
    out.flush()?;
    if let Some(w) = dead.as_mut() {
        w.flush()?;
    }
    if let Some(w) = unparsed_dead.as_mut() {
        w.flush()?;
    }
    if let Some(w) =
        crate::cli::normalize::unparsed_warning(unparsed, written, args.unparsed_threshold)
    {
        eprintln!("{w}");
    } else if unparsed > 0 {
        eprintln!(
            "note: {unparsed} of {written} written events were not matched by any parse stage"
        );
    }
    if runner.stats.coercion_warnings > 0 {
        eprintln!(
            "note: {} value(s) were not numbers where a number was expected and became NULL",
            runner.stats.coercion_warnings
        );
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

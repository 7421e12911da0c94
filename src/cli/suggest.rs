//! `soc suggest`: sample lines in, a validated SPL rule and its mapping table out.

use crate::infer::{NoAdvisor, SuggestOptions, Suggestion, suggest_with};
use crate::llm::{Llm, LlmAdvisor};
use anyhow::{Context, bail};
use clap::Args;
use std::io::Read;
use std::path::PathBuf;

/// Longest input read (the engine only looks at the first 1,000 samples anyway).
const MAX_INPUT: u64 = 64 << 20;

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// Sample files (`-` or nothing for stdin), one event per line.
    pub inputs: Vec<PathBuf>,
    /// Write the suggestion as JSON (the ARCHITECTURE.md contract).
    #[arg(long)]
    pub json: bool,
    /// RFC 3339 time whose year completes year-less timestamps (default: now).
    #[arg(long, value_name = "T")]
    pub reference_time: Option<String>,
    /// Override a mapping: `SRC=TARGET`, or `SRC=` to drop the field.
    #[arg(long = "map", value_name = "SRC=TARGET")]
    pub map: Vec<String>,
    /// Also write a rule package to this folder (rule.spl, sample.log, package.toml and the
    /// expected output), so the suggestion becomes a `soc test` regression test.
    #[arg(long, value_name = "DIR")]
    pub package: Option<PathBuf>,
    #[command(flatten)]
    pub llm: super::llm::LlmArgs,
}

pub fn run(args: SuggestArgs) -> anyhow::Result<u8> {
    let mut text = Vec::new();
    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    for p in &inputs {
        if p.as_os_str() == "-" {
            std::io::stdin()
                .take(MAX_INPUT)
                .read_to_end(&mut text)
                .context("reading stdin")?;
        } else {
            std::fs::File::open(p)
                .with_context(|| format!("opening {}", p.display()))?
                .take(MAX_INPUT)
                .read_to_end(&mut text)
                .with_context(|| format!("reading {}", p.display()))?;
        }
        if !text.ends_with(b"\n") {
            text.push(b'\n');
        }
    }
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    // One event per line, unless the samples are multi-line records (stack traces,
    // indented continuations, pretty-printed JSON): then frame them at the first lines.
    let framing = crate::infer::framing::detect(&lines);
    let samples: Vec<String> = match &framing {
        Some(f) => crate::infer::framing::frame(&lines, &f.first_line)?,
        None => lines.iter().map(|l| l.to_string()).collect(),
    };
    let mut overrides = Vec::new();
    for m in &args.map {
        let Some((s, t)) = m.split_once('=') else {
            bail!("--map takes SRC=TARGET (or SRC= to drop), got `{m}`");
        };
        overrides.push((s.to_string(), (!t.is_empty()).then(|| t.to_string())));
    }
    let options = SuggestOptions {
        reference_time: args.reference_time.clone(),
        overrides,
        ..SuggestOptions::default()
    };
    let client = args.llm.client()?;
    let result = match &client {
        Some(c) => suggest_with(&samples, &options, &LlmAdvisor::new(c)),
        None => suggest_with(&samples, &options, &NoAdvisor),
    };
    if let Some(c) = &client {
        let st = c.stats();
        eprintln!(
            "llm: {} calls, {} cached, {} failed, {} ms ({})",
            st.calls,
            st.cache_hits,
            st.failures,
            st.wall_ms,
            c.model()
        );
    }
    let s = match result {
        Ok(s) => s,
        Err(d) => {
            eprint!("{}", d.render("", "<samples>"));
            return Ok(2);
        }
    };
    if args.json {
        let mut v: serde_json::Value = serde_json::from_str(&to_json(&s))?;
        v["framing"] = serde_json::to_value(&framing)?;
        println!("{v}");
    } else {
        print!("{}", render(&s));
        if let Some(f) = &framing {
            println!(
                "\nframing: multi-line records start at lines matching {} ({}); `soc normalize --first-line '{}'` frames archives the same way",
                f.first_line, f.evidence, f.first_line
            );
        }
    }
    if let Some(dir) = &args.package {
        let now = args.reference_time.clone().unwrap_or_else(|| {
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        let result = crate::rules::write_package(
            dir,
            &s.spl,
            &samples,
            &now,
            framing.as_ref().map(|f| f.first_line.as_str()),
        )
        .map_err(anyhow::Error::msg)?;
        let events: usize = result.samples.iter().map(|r| r.actual.len()).sum();
        eprintln!(
            "wrote package {} ({} sample lines, {events} expected events); run `soc test {}`",
            dir.display(),
            samples.len(),
            dir.display()
        );
    }
    Ok(0)
}

fn to_json(s: &Suggestion) -> String {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(d) = v.get_mut("diagnostics") {
        *d = serde_json::Value::Array(s.diagnostics.iter().map(|d| d.to_json(&s.spl)).collect());
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// Plain output: the rule, the field table, coverage and diagnostics.
pub fn render(s: &Suggestion) -> String {
    let mut out = String::new();
    out.push_str(&s.spl);
    out.push_str("\n\n");
    out.push_str(&format!(
        "-- format: {} (confidence {:.2})\n",
        s.format, s.confidence
    ));
    if let Some(p) = &s.product {
        out.push_str(&format!(
            "-- product: {} ({} {}), score {:.2}, log types: {}\n",
            p.id,
            p.vendor,
            p.product,
            p.score,
            p.log_types.join(", ")
        ));
        for w in &p.why {
            out.push_str(&format!("--   {w}\n"));
        }
    }
    let w = s
        .fields
        .iter()
        .map(|f| f.source.len())
        .max()
        .unwrap_or(6)
        .clamp(6, 40);
    let wt = s
        .fields
        .iter()
        .map(|f| f.target.len())
        .max()
        .unwrap_or(6)
        .clamp(6, 48);
    out.push_str(&format!(
        "{:<w$}  {:<12}  {:<wt$}  {:>4}  reason\n",
        "source", "type", "target", "conf"
    ));
    for f in &s.fields {
        out.push_str(&format!(
            "{:<w$}  {:<12}  {:<wt$}  {:>4.2}  {}\n",
            f.source, f.ty, f.target, f.confidence, f.reason
        ));
    }
    out.push_str(&format!(
        "\ncoverage: {:.0}% of samples parsed\n",
        s.coverage.parsed * 100.0
    ));
    for (t, r) in &s.coverage.fill {
        out.push_str(&format!("  {t:<wt$}  {:>3.0}%\n", r * 100.0));
    }
    for d in &s.diagnostics {
        out.push_str(&format!("{}: {}\n", d.code, d.message));
    }
    if !s.advice.is_empty() {
        out.push_str("\nLLM proposals:\n");
        for a in &s.advice {
            out.push_str(&format!(
                "  {:<4} {:<8} {} -> {}: {}\n",
                if a.kept { "kept" } else { "drop" },
                a.kind,
                a.subject,
                if a.proposal.is_empty() {
                    "-"
                } else {
                    &a.proposal
                },
                a.reason
            ));
        }
    }
    out
}

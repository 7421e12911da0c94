//! `soc eval`: scores suggested rules against labeled datasets (EVALUATION.md) and writes a
//! table, JSON and a Markdown or HTML report.

use crate::eval::{self, Progress, Protocol, Report, Stream, report};
use crate::infer::learned::Learned;
use crate::infer::{NoAdvisor, SuggestOptions, suggest_with};
use crate::llm::{Llm, LlmAdvisor};
use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Dataset folders: a root holding `<integration>/<stream>/` folders, or stream folders
    /// (default: datasets/ecs-pipeline-tests, else ../shared/datasets/ecs-pipeline-tests).
    #[arg(value_name = "DATASET_DIR")]
    pub dirs: Vec<PathBuf>,
    /// Write the full report as JSON to this file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a report with a chart and the misses: Markdown (`.md`) or HTML (`.html`).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Exit 1 when the micro-averaged core F1 is below this.
    #[arg(long, value_name = "X")]
    pub min_f1: Option<f64>,
    /// Score this rule (file or SPL text) on every stream instead of suggesting one: a
    /// baseline.
    #[arg(long, value_name = "RULE")]
    pub rule: Option<String>,
    /// Run the template-mining benchmark (grouping and parsing accuracy) on a loghub-2k
    /// folder instead (default: datasets/loghub-2k, else ../shared/datasets/loghub-2k).
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "auto")]
    pub loghub: Option<PathBuf>,
    /// Run the SPL conformance corpus (parse, plan and print every statement) instead.
    #[arg(long)]
    pub conformance: bool,
    /// New lines: suggest from the even-numbered events of each stream and score the rule on
    /// the odd-numbered ones (streams with one event are left out).
    #[arg(long, conflicts_with = "cv")]
    pub split: bool,
    /// New products: leave-one-product-out cross-validation; each stream is suggested with
    /// the knowledge learned without its product (its integration folder).
    #[arg(long)]
    pub cv: bool,
    /// Exit 1 when the categorization accuracy is below this.
    #[arg(long, value_name = "X")]
    pub min_categorization: Option<f64>,
    #[command(flatten)]
    pub llm: super::llm::LlmArgs,
}

/// What the LLM did for one stream.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct StreamLlm {
    calls: u64,
    cache_hits: u64,
    failures: u64,
    kept: usize,
    rejected: usize,
    wall_ms: u64,
}

/// Runs `soc eval`: 0 when done (and above `--min-f1`), 1 below it, 2 on fatal errors.
pub fn run(args: EvalArgs) -> Result<u8> {
    if args.conformance {
        let c = eval::conformance::run();
        print!("{}", eval::conformance::render(&c));
        return Ok(
            if c.failures.is_empty() && c.round_tripped == c.statements {
                0
            } else {
                1
            },
        );
    }
    if let Some(dir) = &args.loghub {
        return run_loghub(dir, args.json.as_deref());
    }
    let dirs = if args.dirs.is_empty() {
        vec![eval::default_dataset_dir(Path::new("."))]
    } else {
        args.dirs.clone()
    };
    for d in &dirs {
        if !d.is_dir() {
            bail!("no dataset folder {}", d.display());
        }
    }
    if eval::discover(&dirs).is_empty() {
        bail!(
            "no stream (a folder with *-expected.json files) under {}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let fixed_rule = match &args.rule {
        Some(r) => Some(super::spl::read_rule(r)?.0),
        None => None,
    };
    let client = args.llm.client()?;
    let per_stream: RefCell<Vec<StreamLlm>> = RefCell::new(Vec::new());
    let protocol = if args.split {
        Protocol::Split
    } else if args.cv {
        Protocol::Cv
    } else {
        Protocol::SameLines
    };
    let learned = Learned::embedded();
    let suggester = |stream: &Stream, samples: &[String]| -> Result<String, String> {
        if let Some(r) = &fixed_rule {
            return Ok(r.clone());
        }
        let options = SuggestOptions {
            learned: (protocol == Protocol::Cv)
                .then(|| Arc::new(learned.without_product(eval::product_of(&stream.name)))),
            ..SuggestOptions::default()
        };
        let result = match &client {
            Some(c) => {
                let before = c.stats();
                let r = suggest_with(samples, &options, &LlmAdvisor::new(c));
                let after = c.stats();
                let (kept, rejected) = r.as_ref().map_or((0, 0), |s| {
                    (
                        s.advice.iter().filter(|a| a.changed).count(),
                        s.advice.iter().filter(|a| !a.kept).count(),
                    )
                });
                per_stream.borrow_mut().push(StreamLlm {
                    calls: after.calls - before.calls,
                    cache_hits: after.cache_hits - before.cache_hits,
                    failures: after.failures - before.failures,
                    kept,
                    rejected,
                    wall_ms: after.wall_ms - before.wall_ms,
                });
                r
            }
            None => suggest_with(samples, &options, &NoAdvisor),
        };
        result
            .map(|s| s.spl)
            .map_err(|d| format!("{}: {}", d.code, d.message))
    };

    let report = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        let report = eval::evaluate_with(&dirs, protocol, &suggester, &mut |p: Progress| {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
            bar.set_message(p.stream.to_string());
        });
        bar.finish_and_clear();
        report
    } else {
        eval::evaluate_with(&dirs, protocol, &suggester, &mut |_| {})
    };

    let json_to_stdout = args.json.as_deref() == Some(Path::new("-"));
    let mut table = report::render_table(&report);
    let llm_rows = per_stream.into_inner();
    if let Some(c) = &client {
        table.push_str(&llm_table(&report, &llm_rows, c.model()));
    }
    if json_to_stdout {
        eprint!("{table}");
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(table.as_bytes())?;
        out.flush()?;
    }
    if let Some(path) = &args.json {
        let mut value = serde_json::to_value(&report)?;
        if let Some(c) = &client
            && let Some(streams) = value.get_mut("streams").and_then(|s| s.as_array_mut())
        {
            for (s, l) in streams.iter_mut().zip(&llm_rows) {
                s["llm"] = serde_json::to_value(l)?;
            }
            value["llm"] = serde_json::json!({"model": c.model(), "stats": c.stats()});
        }
        let text = serde_json::to_string_pretty(&value)? + "\n";
        if json_to_stdout {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        } else {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    let floors = [
        ("micro F1", "--min-f1", args.min_f1, report.summary.micro_f1),
        (
            "categorization",
            "--min-categorization",
            args.min_categorization,
            report.summary.categorization_accuracy,
        ),
    ];
    let mut below = false;
    for (what, flag, min, got) in floors {
        if let Some(min) = min
            && got < min
        {
            eprintln!("{what} {got:.3} is below {flag} {min}");
            below = true;
        }
    }
    if below {
        return Ok(1);
    }
    Ok(0)
}

/// Per-stream LLM work: calls, cache hits, kept and rejected proposals, wall time.
fn llm_table(report: &Report, rows: &[StreamLlm], model: &str) -> String {
    let mut out = format!(
        "\nLLM ({model}):\n{:<22} {:>6} {:>7} {:>7} {:>5} {:>9} {:>9}\n",
        "stream", "calls", "cached", "failed", "kept", "rejected", "llm ms"
    );
    for (s, l) in report.streams.iter().zip(rows) {
        out.push_str(&format!(
            "{:<22} {:>6} {:>7} {:>7} {:>5} {:>9} {:>9}\n",
            s.name, l.calls, l.cache_hits, l.failures, l.kept, l.rejected, l.wall_ms
        ));
    }
    let sum = |f: &dyn Fn(&StreamLlm) -> u64| rows.iter().map(f).sum::<u64>();
    out.push_str(&format!(
        "{:<22} {:>6} {:>7} {:>7} {:>5} {:>9} {:>9}\n",
        "total",
        sum(&|l| l.calls),
        sum(&|l| l.cache_hits),
        sum(&|l| l.failures),
        sum(&|l| l.kept as u64),
        sum(&|l| l.rejected as u64),
        sum(&|l| l.wall_ms)
    ));
    out
}

fn write_report(path: &Path, report: &Report) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let text = match ext.as_str() {
        "md" | "markdown" => report::render_markdown(report),
        "html" | "htm" => report::render_html(report),
        _ => bail!("--report {}: name a .md or .html file", path.display()),
    };
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// `soc eval --loghub [DIR]`: template mining on loghub-2k.
fn run_loghub(dir: &Path, json: Option<&Path>) -> Result<u8> {
    let root = if dir.as_os_str() == "auto" {
        ["datasets/loghub-2k", "../shared/datasets/loghub-2k"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_dir())
            .unwrap_or_else(|| PathBuf::from("datasets/loghub-2k"))
    } else {
        dir.to_path_buf()
    };
    let scores = eval::loghub::run(&root).map_err(anyhow::Error::msg)?;
    print!("{}", eval::loghub::table(&scores));
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&scores)?;
        if path == Path::new("-") {
            println!("{text}");
        } else {
            std::fs::write(path, text)?;
        }
    }
    Ok(0)
}

//! `soc normalize`: the batch form of `soc spl run` for log archives. Thin glue over
//! [`crate::batch`]: flags, Ctrl-C, the progress bar, the summary and `--stats`.
//!
//! Exit codes: 0 clean; 1 some events failed or some inputs could not be read; 2 fatal (the
//! rule does not compile, the output cannot be written, a bad checkpoint); 130 interrupted
//! (Ctrl-C or `--stop-after`; the checkpoint allows `--resume`).

use crate::batch::{self, Control, FrameOptions, Framing, InputFormat, Options, Rule};
use crate::cli::spl::{InputFormat as CliInputFormat, read_rule};
use crate::diagnostic::render_text;
use crate::event::Timestamp;
use crate::spl::{self, PlanOptions, ops::Coercion};
use anyhow::{Context, Result};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

#[derive(Debug, Args)]
pub struct NormalizeArgs {
    /// Rule file, `-` for stdin, or the SPL text itself.
    #[arg(long, short = 'r', value_name = "RULE")]
    pub rule: String,
    /// Input files or directories (walked recursively); plain, gzip or zstd (detected by
    /// content); `-` for stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output file (NDJSON; `.gz`/`.zst` compress); stdout when absent.
    #[arg(short = 'o', long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Write failed events (file, line, reason, error, raw text) as NDJSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub dead_letter: Option<PathBuf>,
    /// Also write every written record that no parse stage matched (file, line, raw text)
    /// as NDJSON to FILE, to replay once the rule is fixed.
    #[arg(long, value_name = "FILE")]
    pub unparsed_dead_letter: Option<PathBuf>,
    /// Multi-line records: a record starts at each line matching REGEX.
    #[arg(long, value_name = "REGEX")]
    pub first_line: Option<String>,
    /// Records longer than this many bytes go to the dead letters whole.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, alias = "max-line-bytes")]
    pub max_record_bytes: usize,
    /// How records become events.
    #[arg(long, value_enum, default_value = "line")]
    pub input_format: CliInputFormat,
    /// Write dotted field names as nested objects (`source.ip` → `{"source":{"ip":…}}`).
    #[arg(long)]
    pub nest: bool,
    /// Write every value as text, the way SLS stores it.
    #[arg(long)]
    pub text_values: bool,
    /// Presto-strict typing: text meeting a number is a type error instead of a coercion.
    #[arg(long)]
    pub strict: bool,
    /// The clock for now()/current_timestamp, RFC 3339 (default: the real time).
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Write the accounting as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// Warn on stderr when more than PERCENT of the written events were not matched by any
    /// parse stage (they pass through with only their raw fields: the rule may not fit the
    /// input). 100 turns the warning off.
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub unparsed_threshold: f64,
    /// Continue an interrupted run from its checkpoint (needs -o).
    #[arg(long)]
    pub resume: bool,
    /// The checkpoint file (default: OUT.checkpoint; only with -o).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// No progress bar and no summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Stop as if interrupted after N records (tests of --resume).
    #[arg(long, hide = true, value_name = "N")]
    pub stop_after: Option<u64>,
    /// Target chunk size in bytes (tests of ordering).
    #[arg(long, hide = true, value_name = "BYTES", default_value_t = 1 << 20)]
    pub chunk_bytes: usize,
    /// Seconds between checkpoints.
    #[arg(long, hide = true, value_name = "SECS", default_value_t = 2.0)]
    pub checkpoint_secs: f64,
}

pub fn run(args: NormalizeArgs) -> Result<u8> {
    let (src, origin) = read_rule(&args.rule)?;
    let plan_options = PlanOptions {
        coercion: if args.strict {
            Coercion::Strict
        } else {
            Coercion::Lenient
        },
        ..PlanOptions::default()
    };
    let plan = match spl::compile_with(&src, &plan_options) {
        Ok(p) => p,
        Err(diags) => {
            for d in &diags {
                eprint!("{}", render_text(d, &src, &origin));
            }
            return Ok(2);
        }
    };
    for w in &plan.warnings {
        eprint!("{}", render_text(w, &src, &origin));
    }
    let framing = match &args.first_line {
        None => Framing::Lines,
        Some(re) => {
            Framing::FirstLine(regex::Regex::new(re).with_context(|| format!("--first-line {re}"))?)
        }
    };
    let now = match &args.now {
        None => None,
        Some(now) => {
            let t = chrono::DateTime::parse_from_rfc3339(now)
                .with_context(|| format!("--now {now} is not RFC 3339"))?;
            Some(Timestamp::utc(
                t.timestamp_nanos_opt().context("--now out of range")?,
            ))
        }
    };
    let checkpoint = match (&args.checkpoint, &args.output) {
        (Some(c), _) => Some(c.clone()),
        (None, Some(out)) => Some(batch::checkpoint::default_path(out)),
        (None, None) => None,
    };
    let options = Options {
        inputs: args.inputs.clone(),
        output: args.output.clone(),
        dead_letter: args.dead_letter.clone(),
        unparsed_dead_letter: args.unparsed_dead_letter.clone(),
        also_written: args.stats.iter().cloned().collect(),
        threads: args.threads.unwrap_or_else(batch::default_threads).max(1),
        frame: FrameOptions {
            framing,
            chunk_bytes: args.chunk_bytes.max(1),
            max_record_bytes: args.max_record_bytes,
            skip_blank: false,
        },
        input_format: match args.input_format {
            CliInputFormat::Line => InputFormat::Line,
            CliInputFormat::Ndjson => InputFormat::Ndjson,
        },
        text_values: args.text_values,
        nest: args.nest,
        now,
        checkpoint,
        checkpoint_every: std::time::Duration::from_secs_f64(args.checkpoint_secs.max(0.0)),
        resume: args.resume,
        stop_after: args.stop_after,
        max_text_failures: 10,
    };

    let control = Arc::new(Control::default());
    {
        // First Ctrl-C: stop cleanly (accounting, checkpoint). Second: leave at once.
        let control = control.clone();
        let _ = ctrlc::set_handler(move || {
            if control.cancel.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    }
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let rule = Rule {
        plan: &plan,
        src: &src,
        origin: &origin,
    };
    let report = if show_progress {
        let bar = batch::progress::Bar::start(control.clone());
        let result = batch::normalize(&rule, &options, &control, &|msg: &str| bar.println(msg));
        bar.finish();
        result?
    } else {
        batch::normalize(&rule, &options, &control, &|msg: &str| eprint!("{msg}"))?
    };

    if let Some(path) = &args.stats {
        let json = serde_json::to_string_pretty(&report).expect("report serializes");
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if !args.quiet {
        eprint!("{}", report.summary());
        if let Some(w) = unparsed_warning(
            report.totals.unparsed,
            report.totals.written,
            args.unparsed_threshold,
        ) {
            eprintln!("{w}");
        }
        if let (true, Some(c)) = (report.interrupted, &options.checkpoint) {
            eprintln!(
                "checkpoint saved to {}: run again with --resume to continue",
                c.display()
            );
        }
    }
    Ok(if report.interrupted {
        130
    } else if report.totals.failed > 0 || report.missing_files() > 0 {
        1
    } else {
        0
    })
}

/// The warning for too many unparsed events (shared by `soc normalize` and `soc spl run`):
/// `None` at or under `threshold` percent of the written events.
pub(crate) fn unparsed_warning(unparsed: u64, written: u64, threshold: f64) -> Option<String> {
    if unparsed == 0 || written == 0 {
        return None;
    }
    let pct = unparsed as f64 * 100.0 / written as f64;
    (pct > threshold).then(|| {
        format!(
            "warning: {unparsed} of {written} written events ({pct:.1}%) were not matched by any parse stage and went out with only their raw fields\n  = hint: check that the rule fits this input (a wrong format or pattern); --unparsed-threshold PERCENT sets when this warning appears"
        )
    })
}

//! Scoring of generated rules against labeled datasets (`../shared/spec/EVALUATION.md`).
//!
//! For each stream (an Elastic integration data stream with raw logs and the documents
//! Elastic's hand-written pipeline produces from them): paste every event as samples into a
//! suggester, compile the rule it returns with the project's SPL engine, run it on every event
//! and compare each output with its expected document, flattened to dotted keys.
//!
//! - `dataset`: finding and loading streams (framing, harness config, time zones).
//! - `compare`: key classes (core, categorization, vendor, excluded) and value equality.
//! - `score`: per-event scores and their sums.
//! - `report`: the terminal table, Markdown and HTML (with an SVG chart).
//!
//! Depends on `model` (the ECS catalog) and `spl` (compile and run); nothing here does I/O
//! beyond reading the dataset.

pub mod compare;
pub mod conformance;
pub mod dataset;
pub mod incidents;
pub mod learn;
pub mod loghub;
pub mod report;
pub mod score;

pub use dataset::{Stream, TzSpec, discover};
pub use score::{Counts, EventContext, EventScore, Miss, MissKind, score_event};

use crate::event::Text;
use crate::spl;
use serde::Serialize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// At most this many misses are kept per stream in a report.
pub const MAX_MISSES: usize = 200;

/// The figures of one stream.
#[derive(Debug, Clone, Serialize)]
pub struct StreamReport {
    /// `integration/stream`.
    pub name: String,
    pub dir: PathBuf,
    /// The format family the engine detects in the stream's events (`json`, `kv`, `csv`,
    /// `xml`, `cef`, `text`, …, after any syslog or other header).
    pub format: String,
    /// The product library entry recognized in the stream's events, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    pub events: usize,
    pub core: Counts,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub categorization_expected: usize,
    pub categorization_correct: usize,
    /// Share of expected categorization fields produced with an equal value.
    pub categorization_accuracy: f64,
    pub vendor_values: usize,
    pub vendor_retained: usize,
    /// Share of vendor values found among the output's values.
    pub vendor_retention: f64,
    /// The suggester gave a rule and it compiled.
    pub compiled: bool,
    /// Events whose run failed.
    pub events_failed: usize,
    /// Events the rule ran on without output (dropped by `where`).
    pub events_dropped: usize,
    /// Compiled and ran without an error on every event.
    pub rule_ok: bool,
    /// Wall-clock time of the suggestion, in milliseconds.
    pub suggest_ms: f64,
    /// The rule that was scored.
    pub rule: Option<String>,
    /// Why the suggestion or the compilation failed.
    pub error: Option<String>,
    /// Fields that counted against the rule (the first `MAX_MISSES`).
    pub misses: Vec<Miss>,
    /// Misses beyond `MAX_MISSES` that were left out.
    pub misses_left_out: usize,
}

/// The headline figures over all streams.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub streams: usize,
    pub events: usize,
    pub core: Counts,
    pub micro_precision: f64,
    pub micro_recall: f64,
    /// The headline: core F1 micro-averaged over all events of all streams.
    pub micro_f1: f64,
    /// Mean of the per-stream F1.
    pub macro_f1: f64,
    pub categorization_accuracy: f64,
    pub vendor_retention: f64,
    /// Share of streams whose rule compiled and ran without an error on every event.
    pub rule_ok_share: f64,
    pub mean_suggest_ms: f64,
    pub total_suggest_ms: f64,
}

/// A stream folder that could not be loaded, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub dir: PathBuf,
    pub reason: String,
}

/// Which lines a rule is suggested from and which it is scored on (EVALUATION.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// Suggest from every event of a stream, score on the same events.
    #[default]
    SameLines,
    /// New lines: suggest from the even-numbered events (0, 2, 4, …), score on the
    /// odd-numbered ones; streams with one event are left out.
    Split,
    /// New products: suggest from every event with knowledge learned without the stream's
    /// product (its integration folder), score on the same events.
    Cv,
}

impl Protocol {
    /// The name used in tables and reports.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::SameLines => "same lines",
            Protocol::Split => "new lines (--split: suggest from even events, score odd)",
            Protocol::Cv => "new products (--cv: leave-one-product-out)",
        }
    }

    /// The events a rule is suggested from (indices into the stream's events).
    fn is_sample(self, i: usize) -> bool {
        self != Protocol::Split || i.is_multiple_of(2)
    }

    /// The events a rule is scored on.
    fn is_scored(self, i: usize) -> bool {
        self != Protocol::Split || i % 2 == 1
    }
}

/// The product a stream belongs to: its integration folder (`aws` for `aws/cloudtrail`).
pub fn product_of(stream_name: &str) -> &str {
    stream_name.split('/').next().unwrap_or(stream_name)
}

/// The result of an evaluation run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub protocol: Protocol,
    pub summary: Summary,
    pub streams: Vec<StreamReport>,
    pub skipped: Vec<Skipped>,
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// Streams finished so far.
    pub done: usize,
    pub total: usize,
    /// The stream about to run (or just finished when `done == total`).
    pub stream: &'a str,
}

/// A suggester: the stream being scored and the pasted samples → SPL text, or why there is
/// none. The stream tells a cross-validating suggester which product to leave out of what it
/// learned; it must not read the stream's expected documents.
pub type Suggester<'a> = dyn Fn(&Stream, &[String]) -> Result<String, String> + 'a;

/// Evaluates a suggester on every stream found under `dirs`.
///
/// The real suggester is `crate::infer::suggest(samples, &SuggestOptions::default())
/// .map(|s| s.spl)`; any function from samples to SPL text works (a fixed rule gives a
/// baseline). A suggester that fails, panics or returns a rule that does not compile scores
/// zero on that stream; the run goes on.
pub fn evaluate(
    dirs: &[PathBuf],
    suggester: &dyn Fn(&[String]) -> Result<String, String>,
) -> Report {
    evaluate_with(
        dirs,
        Protocol::SameLines,
        &|_: &Stream, s: &[String]| suggester(s),
        &mut |_| {},
    )
}

/// [`evaluate`] under a protocol, with a progress callback called before each stream and
/// once at the end.
pub fn evaluate_with(
    dirs: &[PathBuf],
    protocol: Protocol,
    suggester: &Suggester<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Report {
    let found = discover(dirs);
    let mut report = Report {
        protocol,
        ..Report::default()
    };
    let total = found.len();
    for (i, dir) in found.iter().enumerate() {
        let label = dir.display().to_string();
        progress(Progress {
            done: i,
            total,
            stream: &label,
        });
        match Stream::load(dir) {
            Ok(stream) => {
                if let Some(r) = evaluate_stream(&stream, protocol, suggester) {
                    report.streams.push(r);
                }
            }
            Err(reason) => report.skipped.push(Skipped {
                dir: dir.clone(),
                reason,
            }),
        }
    }
    progress(Progress {
        done: total,
        total,
        stream: "",
    });
    report.summary = summarize(&report.streams);
    report
}

/// Suggests, compiles, runs and scores one stream; `None` when the protocol leaves it out
/// (a one-event stream cannot be split).
pub fn evaluate_stream(
    stream: &Stream,
    protocol: Protocol,
    suggester: &Suggester<'_>,
) -> Option<StreamReport> {
    let all = stream.events();
    if protocol == Protocol::Split && all.len() < 2 {
        return None;
    }
    let pasted: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| protocol.is_sample(*i))
        .map(|(_, e)| e.clone())
        .collect();
    let scored: Vec<usize> = (0..all.len()).filter(|i| protocol.is_scored(*i)).collect();
    let samples: Vec<String> = scored.iter().map(|i| all[*i].clone()).collect();
    let started = Instant::now();
    let suggested = catch_unwind(AssertUnwindSafe(|| suggester(stream, &pasted)))
        .unwrap_or_else(|p| Err(format!("the suggester panicked: {}", panic_text(&p))));
    let suggest_ms = started.elapsed().as_secs_f64() * 1000.0;

    let mut error = None;
    let mut rule = None;
    let mut outputs: Vec<Option<serde_json::Map<String, serde_json::Value>>> =
        vec![None; samples.len()];
    let mut compiled = false;
    let mut failed = 0;
    let mut dropped = 0;
    match suggested {
        Err(e) => error = Some(format!("no rule: {e}")),
        Ok(spl_text) => {
            match spl::compile(&spl_text) {
                Err(diags) => {
                    let msgs: Vec<String> = diags
                        .iter()
                        .map(|d| format!("{}: {}", d.code, d.message))
                        .collect();
                    error = Some(format!("the rule does not compile: {}", msgs.join("; ")));
                }
                Ok(plan) => {
                    compiled = true;
                    let run = catch_unwind(AssertUnwindSafe(|| run_rule(&plan, &samples)));
                    match run {
                        Ok(r) => {
                            outputs = r.outputs;
                            failed = r.failed;
                            dropped = r.dropped;
                            if let Some((i, why)) = r.first_failure {
                                error = Some(format!(
                                    "{failed} event(s) failed at run time; the first, event \
                                     {i}: {why}"
                                ));
                            }
                        }
                        Err(p) => {
                            failed = samples.len();
                            error = Some(format!("the engine panicked: {}", panic_text(&p)));
                        }
                    }
                }
            }
            rule = Some(spl_text);
        }
    }

    let mut total = EventScore::default();
    let mut index = 0;
    for case in &stream.cases {
        for (raw, expected) in case.events.iter().zip(&case.expected) {
            if let Ok(k) = scored.binary_search(&index) {
                let ctx = EventContext {
                    index,
                    raw,
                    tz: case.config.tz,
                    injected: &case.config.injected,
                };
                total.add(score_event(expected, outputs[k].as_ref(), &ctx));
            }
            index += 1;
        }
    }
    let misses_left_out = total.misses.len().saturating_sub(MAX_MISSES);
    total.misses.truncate(MAX_MISSES);
    Some(StreamReport {
        format: format_family(&pasted),
        product: crate::infer::products::library()
            .recognize(&pasted)
            .map(|(p, _)| p.entry.id.clone()),
        name: stream.name.clone(),
        dir: stream.dir.clone(),
        events: samples.len(),
        core: total.core,
        precision: total.core.precision(),
        recall: total.core.recall(),
        f1: total.core.f1(),
        categorization_expected: total.categorization_expected,
        categorization_correct: total.categorization_correct,
        categorization_accuracy: score::ratio(
            total.categorization_correct,
            total.categorization_expected,
        ),
        vendor_values: total.vendor_values,
        vendor_retained: total.vendor_retained,
        vendor_retention: score::ratio(total.vendor_retained, total.vendor_values),
        compiled,
        events_failed: failed,
        events_dropped: dropped,
        rule_ok: compiled && failed == 0,
        suggest_ms,
        rule,
        error,
        misses: total.misses,
        misses_left_out,
    })
}

/// What running a rule on a stream's events gave.
struct RunResult {
    /// Per event, its first output as typed JSON, or `None` (failed or dropped).
    outputs: Vec<Option<serde_json::Map<String, serde_json::Value>>>,
    failed: usize,
    dropped: usize,
    /// The first failed event and its diagnostic.
    first_failure: Option<(usize, String)>,
}

/// Runs a plan on every event; the first output of each event (typed JSON) or `None`.
fn run_rule(plan: &spl::Plan, samples: &[String]) -> RunResult {
    let mut runner = spl::Runner::new(plan);
    let mut outputs = vec![None; samples.len()];
    let events = samples
        .iter()
        .map(|s| runner.line_event(Text::new(s)))
        .collect();
    let result = runner.run_batch(events);
    for o in result.outputs {
        if let Some(slot) = outputs.get_mut(o.origin)
            && slot.is_none()
        {
            *slot = Some(o.event.to_json(false));
        }
    }
    RunResult {
        outputs,
        failed: result.failures.len(),
        dropped: result.dropped,
        first_failure: result.failures.first().map(|f| {
            (
                f.origin,
                format!("{}: {}", f.diagnostic.code, f.diagnostic.message),
            )
        }),
    }
}

/// The payload family of a stream's events as the engine detects it.
pub fn format_family(samples: &[String]) -> String {
    let det = crate::infer::detect::detect(samples);
    let nested = det.payload == crate::infer::detect::Payload::Json
        && samples.iter().take(20).any(|s| {
            crate::infer::peel::json_object(s).is_some_and(|j| {
                j.as_object()
                    .is_some_and(|o| o.values().any(|v| v.is_object() || v.is_array()))
            })
        });
    let payload = if nested {
        "nested json"
    } else {
        det.payload.name()
    };
    if det.layers.is_empty() {
        payload.to_string()
    } else if payload == "none" || payload == "text" {
        "text (header + free text)".to_string()
    } else {
        format!("header + {payload}")
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The headline figures from per-stream reports.
pub fn summarize(streams: &[StreamReport]) -> Summary {
    let mut core = Counts::default();
    let (mut cat_e, mut cat_c, mut ven_v, mut ven_r) = (0, 0, 0, 0);
    for s in streams {
        core.add(s.core);
        cat_e += s.categorization_expected;
        cat_c += s.categorization_correct;
        ven_v += s.vendor_values;
        ven_r += s.vendor_retained;
    }
    let n = streams.len();
    let mean = |f: &dyn Fn(&StreamReport) -> f64| {
        if n == 0 {
            0.0
        } else {
            streams.iter().map(f).sum::<f64>() / n as f64
        }
    };
    let total_ms: f64 = streams.iter().map(|s| s.suggest_ms).sum();
    Summary {
        streams: n,
        events: streams.iter().map(|s| s.events).sum(),
        core,
        micro_precision: core.precision(),
        micro_recall: core.recall(),
        micro_f1: core.f1(),
        macro_f1: mean(&|s| s.f1),
        categorization_accuracy: score::ratio(cat_c, cat_e),
        vendor_retention: score::ratio(ven_r, ven_v),
        rule_ok_share: score::ratio(streams.iter().filter(|s| s.rule_ok).count(), n),
        mean_suggest_ms: mean(&|s| s.suggest_ms),
        total_suggest_ms: total_ms,
    }
}

/// The default dataset folder: `datasets/ecs-pipeline-tests` under `base` when present,
/// else the shared copy beside the work tree.
pub fn default_dataset_dir(base: &Path) -> PathBuf {
    let own = base.join("datasets/ecs-pipeline-tests");
    if own.is_dir() {
        own
    } else {
        base.join("../shared/datasets/ecs-pipeline-tests")
    }
}

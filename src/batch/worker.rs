//! Workers: run the plan on every record of a chunk and render the chunk's output (NDJSON,
//! optionally nested and compressed), its dead letters and its counts.
//!
//! Each worker owns a `Runner`; the `Plan` is shared by reference. The per-record behaviour
//! is `soc spl run`'s, byte for byte: the same event (`{"content": line}` or the NDJSON
//! object), the same output rendering (`__dataset__` first for tagged plans).

use crate::batch::frame::{Chunk, INVALID_UTF8, OVER_LONG};
use crate::batch::stats::Counts;
use crate::batch::{Compression, InputFormat};
use crate::diagnostic::{Diagnostic, codes, render_text};
use crate::event::{Event, Value, write_json_str};
use crate::spl::Runner;
use serde_json::{Map, Value as Json};
use std::io::Write;
use std::sync::Arc;

/// What a worker needs to know besides the chunk.
pub struct WorkerConfig<'a> {
    pub rule_src: &'a str,
    pub rule_origin: &'a str,
    pub input_format: InputFormat,
    pub text_values: bool,
    pub nest: bool,
    pub compression: Compression,
    /// Render failures as dead-letter JSON (else as text diagnostics for stderr).
    pub dead_letter_json: bool,
    /// Render written records that no parse stage matched into `Rendered::unparsed`.
    pub unparsed_json: bool,
    /// The clock of the runners (to rebuild one after a panic).
    pub now: Option<crate::event::Timestamp>,
    /// At most this many text diagnostics per chunk (stderr is not for millions of lines).
    pub max_text_failures: usize,
}

/// A processed chunk.
#[derive(Debug, Default)]
pub struct Rendered {
    /// Output bytes: NDJSON, or one gzip member / zstd frame holding it.
    pub out: Vec<u8>,
    /// Dead-letter NDJSON lines, or rendered diagnostics for stderr.
    pub dead: String,
    /// Failures rendered as text in `dead` (when there is no dead-letter file).
    pub shown_failures: u64,
    /// Unparsed records as NDJSON (`--unparsed-dead-letter`).
    pub unparsed: String,
    pub counts: Counts,
}

/// Runs `runner` on every record of `chunk` from file `file_name`.
pub fn process(
    runner: &mut Runner<'_>,
    chunk: &Chunk,
    file_name: &str,
    config: &WorkerConfig<'_>,
    buffers: &mut Buffers,
) -> Rendered {
    let mut counts = Counts {
        bytes: chunk.bytes,
        ..Counts::default()
    };
    let tagged = runner.plan().is_tagged();
    let text = &mut buffers.text;
    if text.capacity() == 0 {
        // The last buffer went out with the previous chunk: take one the writer is done with.
        if let Some(v) = buffers.recycled.as_ref().and_then(|r| r.try_recv().ok()) {
            *text = String::from_utf8(v).unwrap_or_default();
        }
    }
    text.clear();
    text.reserve(chunk.text.len() + chunk.text.len() / 2);
    let mut dead = String::new();
    let mut unparsed = String::new();
    let outputs = &mut buffers.outputs;
    let mut text_failures = 0;
    for (i, rec) in chunk.records.iter().enumerate() {
        counts.read += 1;
        if rec.flags & INVALID_UTF8 != 0 {
            counts.invalid_utf8 += 1;
        }
        let failure = if rec.flags & OVER_LONG != 0 {
            counts.over_long += 1;
            Some(Failure::OverLong)
        } else {
            let line = chunk.record_text(i);
            let event = match config.input_format {
                InputFormat::Line => Some(runner.line_event(line)),
                InputFormat::Ndjson => match serde_json::from_str::<Json>(&line) {
                    Ok(Json::Object(o)) => Some(Event::from_json_object(o)),
                    Ok(_) | Err(_) => None,
                },
            };
            match event {
                None => Some(Failure::Diagnostic(
                    Diagnostic::error(codes::RUNTIME, "the input line is not a JSON object")
                        .with_hint("use --input-format line for plain text"),
                    "not_json",
                )),
                Some(event) => {
                    outputs.clear();
                    // An engine panic is a bug, but it must not stall or abort the batch: the
                    // record fails and the worker goes on with a fresh runner.
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        runner.run_event(event, outputs)
                    }));
                    let run = run.unwrap_or_else(|_| {
                        let mut fresh = Runner::new(runner.plan());
                        if let Some(now) = config.now {
                            fresh = fresh.with_clock(now);
                        }
                        fresh.stats = runner.stats.clone();
                        *runner = fresh;
                        outputs.clear();
                        Err(Diagnostic::error(
                            codes::RUNTIME,
                            "internal error: the engine panicked on this event (a bug; please report it with the raw record)",
                        ))
                    });
                    match run {
                        Ok(()) if outputs.is_empty() => {
                            counts.dropped += 1;
                            None
                        }
                        Ok(()) => {
                            counts.written += 1;
                            if runner.parse_outcome().unparsed() {
                                counts.unparsed += 1;
                                if config.unparsed_json {
                                    write_unparsed(&mut unparsed, file_name, chunk, i);
                                }
                            }
                            counts.rows_out += outputs.len() as u64;
                            for (tag, e) in outputs.iter() {
                                write_row(text, tag.as_deref(), e, tagged, config);
                            }
                            None
                        }
                        Err(d) => Some(Failure::Diagnostic(d, "runtime_error")),
                    }
                }
            }
        };
        if let Some(f) = failure {
            counts.failed += 1;
            if config.dead_letter_json {
                write_dead_letter(&mut dead, file_name, chunk, i, &f, config.rule_src);
            } else if text_failures < config.max_text_failures {
                text_failures += 1;
                let line = chunk.records[i].line;
                match &f {
                    Failure::OverLong => {
                        dead.push_str(&format!(
                            "{file_name}:{line}: record of {} bytes is over the limit (use --dead-letter FILE to keep it)\n",
                            rec.end - rec.start
                        ));
                    }
                    Failure::Diagnostic(d, _) => {
                        dead.push_str(&format!(
                            "{file_name}:{line}: {}",
                            render_text(d, config.rule_src, config.rule_origin)
                        ));
                    }
                }
            }
        }
    }
    let out = match config.compression {
        Compression::None => std::mem::take(text).into_bytes(),
        _ if text.is_empty() => Vec::new(),
        c => compress(text.as_bytes(), c),
    };
    Rendered {
        out,
        dead,
        shown_failures: text_failures as u64,
        unparsed,
        counts,
    }
}

/// One gzip member or zstd frame holding `data` (fast levels: output is large and
/// compressing happens on the workers, in parallel).
pub fn compress(data: &[u8], c: Compression) -> Vec<u8> {
    match c {
        Compression::None => data.to_vec(),
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(data.len() / 4 + 64),
                flate2::Compression::fast(),
            );
            enc.write_all(data).expect("writing to memory");
            enc.finish().expect("writing to memory")
        }
        Compression::Zstd => zstd::bulk::compress(data, 3).expect("zstd in memory"),
    }
}

/// Buffers a worker keeps between chunks.
#[derive(Default)]
pub struct Buffers {
    text: String,
    outputs: Vec<(Option<Arc<str>>, Event)>,
    /// Output buffers handed back by the writer (empty), so chunks reuse memory instead of
    /// faulting in fresh pages.
    recycled: Option<crossbeam_channel::Receiver<Vec<u8>>>,
}

impl Buffers {
    /// Buffers that take emptied output buffers from `recycled`.
    pub fn with_recycled(recycled: crossbeam_channel::Receiver<Vec<u8>>) -> Self {
        Buffers {
            recycled: Some(recycled),
            ..Buffers::default()
        }
    }
}

enum Failure {
    OverLong,
    Diagnostic(Diagnostic, &'static str),
}

fn write_row(out: &mut String, tag: Option<&str>, e: &Event, tagged: bool, c: &WorkerConfig<'_>) {
    if c.nest {
        let mut obj = Map::new();
        if tagged {
            obj.insert("__dataset__".into(), Json::String(tag.unwrap_or("").into()));
        }
        nest_into(&mut obj, e, c.text_values);
        out.push_str(&Json::Object(obj).to_string());
        out.push('\n');
    } else if tagged {
        // As `spl run`: `__dataset__` first, then the fields (a field of that name moves).
        let mut with_tag = Event::with_capacity(e.len() + 1);
        with_tag.set_str("__dataset__", Value::str(tag.unwrap_or("")));
        for (n, v) in e.fields() {
            with_tag.set(n, v.clone());
        }
        with_tag.write_ndjson(out, c.text_values);
    } else {
        e.write_ndjson(out, c.text_values);
    }
}

/// Writes the fields of `e` into `obj`, dotted names as nested objects (`source.ip` →
/// `{"source": {"ip": …}}`). A name whose path runs into a non-object value (or that has an
/// empty segment) stays flat under its full name, so nothing is lost.
pub fn nest_into(obj: &mut Map<String, Json>, e: &Event, text_values: bool) {
    for (name, value) in e.fields() {
        let v = if text_values {
            value
                .to_text()
                .map_or(Json::Null, |t| Json::String(t.into_owned()))
        } else {
            value.to_json()
        };
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() == 1 || parts.iter().any(|p| p.is_empty()) {
            obj.insert(name.to_string(), v);
            continue;
        }
        if let Err(v) = insert_path(obj, &parts, v) {
            obj.insert(name.to_string(), v);
        }
    }
}

fn insert_path(obj: &mut Map<String, Json>, parts: &[&str], v: Json) -> Result<(), Json> {
    let (head, rest) = parts.split_first().expect("non-empty path");
    if rest.is_empty() {
        if obj.get(*head).is_some_and(Json::is_object) {
            return Err(v);
        }
        obj.insert(head.to_string(), v);
        return Ok(());
    }
    let slot = obj
        .entry(head.to_string())
        .or_insert_with(|| Json::Object(Map::new()));
    match slot {
        Json::Object(inner) => insert_path(inner, rest, v),
        _ => Err(v),
    }
}

/// One `--unparsed-dead-letter` line: the record as the dead letters give it, with the
/// reason `unparsed` (it was also written to the output).
fn write_unparsed(out: &mut String, file_name: &str, chunk: &Chunk, i: usize) {
    let rec = &chunk.records[i];
    out.push_str("{\"file\":");
    write_json_str(out, file_name);
    out.push_str(&format!(
        ",\"line\":{},\"reason\":\"unparsed\",\"raw\":",
        rec.line
    ));
    write_raw(out, chunk, i);
}

/// The end of a dead-letter record: the raw text, its original bytes when they were not
/// UTF-8, and the closing brace.
fn write_raw(out: &mut String, chunk: &Chunk, i: usize) {
    write_json_str(out, &chunk.record_text(i));
    if let Some(raw) = chunk.raw_bytes(i) {
        use base64::Engine as _;
        out.push_str(",\"raw_base64\":");
        write_json_str(out, &base64::engine::general_purpose::STANDARD.encode(raw));
    }
    if chunk.records[i].flags & INVALID_UTF8 != 0 {
        out.push_str(",\"invalid_utf8\":true");
    }
    out.push_str("}\n");
}

fn write_dead_letter(
    out: &mut String,
    file_name: &str,
    chunk: &Chunk,
    i: usize,
    f: &Failure,
    rule_src: &str,
) {
    let rec = &chunk.records[i];
    out.push_str("{\"file\":");
    write_json_str(out, file_name);
    out.push_str(&format!(",\"line\":{},\"reason\":", rec.line));
    let (reason, error) = match f {
        Failure::OverLong => ("over_long", None),
        Failure::Diagnostic(d, reason) => (*reason, Some(d.to_json(rule_src))),
    };
    write_json_str(out, reason);
    out.push_str(",\"error\":");
    match error {
        Some(e) => out.push_str(&e.to_string()),
        None => out.push_str("null"),
    }
    out.push_str(",\"raw\":");
    write_raw(out, chunk, i);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Name;

    fn event(fields: &[(&str, Value)]) -> Event {
        Event::from_fields(
            fields
                .iter()
                .map(|(n, v)| (Name::from(*n), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn nest_groups_dotted_names_and_keeps_conflicts_flat() {
        let e = event(&[
            ("source.ip", Value::str("10.0.0.1")),
            ("@timestamp", Value::str("t")),
            ("source.port", Value::Int(22)),
            ("a", Value::Int(1)),
            ("a.b", Value::Int(2)),
            ("x..y", Value::Int(3)),
            ("u.v.w", Value::Bool(true)),
            ("u.v", Value::Int(4)),
        ]);
        let mut obj = Map::new();
        nest_into(&mut obj, &e, false);
        assert_eq!(
            Json::Object(obj).to_string(),
            r#"{"source":{"ip":"10.0.0.1","port":22},"@timestamp":"t","a":1,"a.b":2,"x..y":3,"u":{"v":{"w":true}},"u.v":4}"#
        );
        let mut obj = Map::new();
        nest_into(&mut obj, &e, true);
        assert_eq!(obj["source"]["port"], Json::String("22".into()));
    }
}

//! Batch normalization of log archives (`soc normalize`): read, frame, run a rule in
//! parallel, write in input order, account for every event.
//!
//! ```text
//! reader thread ──chunks──► N worker threads ──rendered chunks──► writer (this thread)
//! (input: open +            (each owns a Runner;   (reorder buffer by sequence number,
//!  decompress; frame:        NDJSON, dead letters,   output + dead letters, accounting,
//!  records into chunks)      counts, compression)    checkpoints)
//! ```
//!
//! Memory is bounded whatever the input size: the reader takes a slot before it sends a
//! chunk and the writer gives it back once the chunk is written, so at most `2 × threads + 2`
//! chunks (about 1 MiB of input each, plus their output) are in flight; a slow writer or a
//! slow chunk stops the reader (back-pressure). Owns: `frame` (records), `input` (files,
//! directories, decompression), `worker` (per-chunk processing), `stats` (accounting),
//! `checkpoint` (`--resume`), `progress` (the terminal bar), `generate` (seeded test and
//! benchmark inputs). Depends on `spl`, `event`, `diagnostic`; nothing depends on it but `cli`.

pub mod checkpoint;
pub mod frame;
pub mod generate;
pub mod input;
pub mod progress;
pub mod stats;
pub mod worker;

pub use frame::{FrameOptions, Framing};
pub use input::Compression;
pub use stats::{Counts, FileStats, FileStatus, Report};

use crate::event::Timestamp;
use crate::spl::{Plan, Runner};
use anyhow::{Context, Result, bail};
use checkpoint::Checkpoint;
use crossbeam_channel::{Receiver, Sender};
use frame::{Chunk, Framer};
use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How records become events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputFormat {
    /// `{"content": record}`.
    #[default]
    Line,
    /// Each record is a JSON object whose keys become fields (blank lines are skipped).
    Ndjson,
}

/// The rule to run: its plan and its text (for diagnostics).
pub struct Rule<'a> {
    pub plan: &'a Plan,
    pub src: &'a str,
    /// Where the rule came from, for rendered diagnostics.
    pub origin: &'a str,
}

/// Settings of a batch run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Files, directories (walked recursively in name order) or `-` for stdin.
    pub inputs: Vec<PathBuf>,
    /// `None` writes to stdout. A `.gz`/`.zst` extension compresses.
    pub output: Option<PathBuf>,
    pub dead_letter: Option<PathBuf>,
    /// Written records that no parse stage matched also go here (`{file, line, reason:
    /// "unparsed", raw}`), to replay once the rule is fixed.
    pub unparsed_dead_letter: Option<PathBuf>,
    /// Files the run writes besides the output (never read as inputs), e.g. `--stats`.
    pub also_written: Vec<PathBuf>,
    pub threads: usize,
    pub frame: FrameOptions,
    pub input_format: InputFormat,
    pub text_values: bool,
    pub nest: bool,
    pub now: Option<Timestamp>,
    /// Where checkpoints go (`None`: no checkpoints).
    pub checkpoint: Option<PathBuf>,
    pub checkpoint_every: Duration,
    pub resume: bool,
    /// Stop (as if interrupted) after this many records were read by this run.
    pub stop_after: Option<u64>,
    /// Failures shown on stderr per chunk when there is no dead-letter file.
    pub max_text_failures: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            inputs: Vec::new(),
            output: None,
            dead_letter: None,
            unparsed_dead_letter: None,
            also_written: Vec::new(),
            threads: default_threads(),
            frame: FrameOptions::default(),
            input_format: InputFormat::Line,
            text_values: false,
            nest: false,
            now: None,
            checkpoint: None,
            checkpoint_every: Duration::from_secs(2),
            resume: false,
            stop_after: None,
            max_text_failures: 10,
        }
    }
}

/// All cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Shared with the caller while a run goes on: the cancel flag (Ctrl-C) and progress
/// counters.
#[derive(Debug, Default)]
pub struct Control {
    /// Set to stop cleanly: no new chunk is read, chunks in flight are written, a checkpoint
    /// is saved.
    pub cancel: AtomicBool,
    /// Stored (compressed) bytes read so far.
    pub stored_bytes: Arc<AtomicU64>,
    /// Total stored bytes of the inputs when known (0: unknown, e.g. stdin).
    pub total_bytes: AtomicU64,
    /// Events committed so far.
    pub events: AtomicU64,
    /// Chunks read but not written yet, and the most there ever were (back-pressure keeps
    /// this at most `2 × threads + 2`).
    pub chunks_in_flight: AtomicU64,
    pub peak_chunks_in_flight: AtomicU64,
}

/// Output compression from a file name's extension.
pub fn output_compression(path: Option<&Path>) -> Compression {
    match path.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
        Some("gz") => Compression::Gzip,
        Some("zst" | "zstd") => Compression::Zstd,
        _ => Compression::None,
    }
}

/// Runs the batch. `notify` receives messages for stderr (unreadable inputs, failures when
/// there is no dead-letter file, resume notes). Per-event failures and unreadable inputs are
/// counted in the report, not returned as errors; an `Err` is fatal (output not writable,
/// bad checkpoint, a rule with stats/sort/limit).
pub fn normalize(
    rule: &Rule<'_>,
    opts: &Options,
    control: &Control,
    notify: &(dyn Fn(&str) + Sync),
) -> Result<Report> {
    let started = Instant::now();
    if rule.plan.has_aggregates() {
        bail!(
            "soc normalize runs row-level rules, and this rule has stats/sort/limit (they need \
             every event at once); run it with `soc spl run` instead"
        );
    }
    let mut excluded: Vec<PathBuf> = opts.also_written.clone();
    excluded.extend(opts.output.clone());
    excluded.extend(opts.dead_letter.clone());
    excluded.extend(opts.unparsed_dead_letter.clone());
    excluded.extend(opts.checkpoint.clone());
    excluded.extend(opts.checkpoint.as_deref().map(checkpoint::temporary_path));
    let inputs = input::expand(&opts.inputs, &excluded)?;
    if inputs.iter().all(|i| i.size.is_some()) {
        let total: u64 = inputs.iter().filter_map(|i| i.size).sum();
        control.total_bytes.store(total, Ordering::Relaxed);
    }
    let compression = output_compression(opts.output.as_deref());
    let fingerprint = run_fingerprint(rule, opts, &inputs, compression);

    // Where to start: from the beginning, or after what a checkpoint committed.
    let mut files: Vec<FileStats> = inputs
        .iter()
        .map(|i| FileStats {
            path: i.name.clone(),
            status: FileStatus::Pending,
            error: None,
            stored_bytes: 0,
            counts: Counts::default(),
        })
        .collect();
    let mut start = Position::default();
    let mut out_offset = 0;
    let mut dead_offset = 0;
    let mut unparsed_offset = 0;
    let mut coercion_base = 0;
    let mut resumed = false;
    if opts.resume {
        let path = opts.checkpoint.as_ref().context(
            "--resume needs an output file (-o FILE): its checkpoint says what was committed",
        )?;
        match Checkpoint::load(path)? {
            Some(c) => {
                if c.fingerprint != fingerprint || c.files.len() != files.len() {
                    bail!(
                        "the checkpoint {} is from a run with another rule, other settings or \
                         other inputs; run without --resume to start over",
                        path.display()
                    );
                }
                start = Position {
                    file: c.file,
                    records: c.records,
                };
                out_offset = c.output_bytes;
                dead_offset = c.dead_letter_bytes;
                unparsed_offset = c.unparsed_bytes;
                coercion_base = c.coercion_warnings;
                files = c.files;
                resumed = true;
            }
            None => notify(&format!(
                "note: no checkpoint at {}; starting from the beginning\n",
                path.display()
            )),
        }
    }

    let mut out = Sink::open(opts.output.as_deref(), resumed.then_some(out_offset))?;
    let mut dead = match &opts.dead_letter {
        Some(p) => Some(Sink::open(Some(p), resumed.then_some(dead_offset))?),
        None => None,
    };

    let mut unparsed = match &opts.unparsed_dead_letter {
        Some(p) => Some(Sink::open(Some(p), resumed.then_some(unparsed_offset))?),
        None => None,
    };

    let threads = opts.threads.max(1);
    let in_flight = 2 * threads + 2;
    let (job_tx, job_rx) = crossbeam_channel::bounded::<Job>(in_flight);
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<Done>();
    let (slot_tx, slot_rx) = crossbeam_channel::bounded::<()>(in_flight);
    let (recycle_tx, recycle_rx) = crossbeam_channel::bounded::<Vec<u8>>(in_flight);
    let config = worker::WorkerConfig {
        rule_src: rule.src,
        rule_origin: rule.origin,
        input_format: opts.input_format,
        text_values: opts.text_values,
        nest: opts.nest,
        compression,
        dead_letter_json: opts.dead_letter.is_some(),
        unparsed_json: opts.unparsed_dead_letter.is_some(),
        now: opts.now,
        max_text_failures: opts.max_text_failures,
    };
    let mut frame_opts = opts.frame.clone();
    frame_opts.skip_blank |= opts.input_format == InputFormat::Ndjson;

    let mut writer = Writer {
        out: &mut out,
        dead: dead.as_mut(),
        unparsed: unparsed.as_mut(),
        files: &mut files,
        position: start,
        checkpoint: opts.checkpoint.as_deref(),
        checkpoint_every: opts.checkpoint_every,
        fingerprint: &fingerprint,
        coercion_base,
        control,
        notify,
        session: Counts::default(),
        shown_failures: 0,
    };
    let (reader_end, coercions, write_result) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            read_inputs(
                &inputs,
                start,
                &frame_opts,
                opts.stop_after,
                control,
                job_tx,
                slot_tx,
            )
        });
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = job_rx.clone();
                let tx = done_tx.clone();
                let recycled = recycle_rx.clone();
                let (inputs, config) = (&inputs, &config);
                s.spawn(move || {
                    // Each worker plans the rule itself, so the interned names and constants
                    // that every event clones are this thread's own `Arc`s: no reference
                    // counts shared (and bounced) between cores.
                    let own = crate::spl::compile_with(rule.src, &rule.plan.options).ok();
                    let mut runner = Runner::new(own.as_ref().unwrap_or(rule.plan));
                    if let Some(now) = opts.now {
                        runner = runner.with_clock(now);
                    }
                    work(&mut runner, inputs, config, rx, tx, recycled);
                    runner.stats.coercion_warnings
                })
            })
            .collect();
        drop(job_rx);
        drop(done_tx);
        drop(recycle_rx);
        let write_result = writer.run(done_rx, slot_rx, recycle_tx);
        if write_result.is_err() {
            control.cancel.store(true, Ordering::SeqCst);
        }
        let reader_end = reader.join().expect("reader thread panicked");
        let coercions: u64 = workers
            .into_iter()
            .map(|w| w.join().expect("worker thread panicked"))
            .sum();
        (reader_end, coercions, write_result)
    });
    write_result?;
    let interrupted = !matches!(reader_end, ReaderEnd::Completed);
    writer.coercion_base += coercions;
    writer.finish(interrupted, compression)?;
    let session = writer.session;
    let coercion_warnings = writer.coercion_base;
    let elapsed = started.elapsed().as_secs_f64();
    let mut totals = Counts::default();
    for f in &files {
        totals.add(&f.counts);
    }
    debug_assert!(totals.reconciles(), "{totals:?}");
    Ok(Report {
        totals,
        files,
        elapsed_secs: elapsed,
        session_read: session.read,
        session_bytes: session.bytes,
        events_per_sec: session.read as f64 / elapsed.max(1e-9),
        mb_per_sec: session.bytes as f64 / 1e6 / elapsed.max(1e-9),
        threads,
        peak_chunks_in_flight: control.peak_chunks_in_flight.load(Ordering::SeqCst),
        max_chunks_in_flight: in_flight as u64,
        interrupted,
        resumed,
        coercion_warnings,
    })
}

fn run_fingerprint(
    rule: &Rule<'_>,
    opts: &Options,
    inputs: &[input::Input],
    compression: Compression,
) -> String {
    let framing = match &opts.frame.framing {
        Framing::Lines => String::new(),
        Framing::FirstLine(re) => re.as_str().to_string(),
    };
    let settings = format!(
        "{:?}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{}",
        opts.input_format,
        opts.text_values,
        opts.nest,
        opts.frame.max_record_bytes,
        opts.dead_letter.is_some(),
        compression,
        rule.plan.options.coercion,
        opts.now.map(|t| t.nanos),
        framing,
    );
    // Only when set, so that checkpoints of runs without it keep their fingerprint.
    let settings = if opts.unparsed_dead_letter.is_some() {
        settings + "|unparsed-dead-letter"
    } else {
        settings
    };
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let names = names.join("\n");
    checkpoint::fingerprint(&[rule.src, &settings, &names])
}

/// A place in the input: records of input `file` already committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Position {
    file: usize,
    records: u64,
}

/// How an input ended.
#[derive(Debug)]
enum FileEnd {
    Done,
    Missing(String),
    Error(String),
}

/// A chunk on its way to a worker.
struct Job {
    seq: u64,
    file: usize,
    first_record: u64,
    chunk: Chunk,
    stored_bytes: u64,
    /// Set on the last job of an input (its chunk may be empty).
    end: Option<FileEnd>,
}

/// A processed chunk on its way to the writer.
struct Done {
    seq: u64,
    file: usize,
    first_record: u64,
    records: u64,
    stored_bytes: u64,
    rendered: worker::Rendered,
    end: Option<FileEnd>,
}

enum ReaderEnd {
    Completed,
    Interrupted,
    /// The writer went away (it failed).
    Aborted,
}

fn read_inputs(
    inputs: &[input::Input],
    start: Position,
    frame_opts: &FrameOptions,
    stop_after: Option<u64>,
    control: &Control,
    jobs: Sender<Job>,
    slots: Sender<()>,
) -> ReaderEnd {
    let mut seq = 0u64;
    let mut sent = 0u64;
    let send = |job: Job| -> bool {
        if slots.send(()).is_err() {
            return false;
        }
        let n = control.chunks_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        control.peak_chunks_in_flight.fetch_max(n, Ordering::SeqCst);
        jobs.send(job).is_ok()
    };
    for (f, input) in inputs.iter().enumerate().skip(start.file) {
        if control.cancel.load(Ordering::Relaxed) {
            return ReaderEnd::Interrupted;
        }
        let mut skip = if f == start.file { start.records } else { 0 };
        let mut next_record = skip;
        let end_job = |seq: u64, next_record: u64, stored: u64, end: FileEnd| Job {
            seq,
            file: f,
            first_record: next_record,
            chunk: Chunk::empty(),
            stored_bytes: stored,
            end: Some(end),
        };
        let opened = match input::open(input, control.stored_bytes.clone()) {
            Ok(o) => o,
            Err(e) => {
                if !send(end_job(seq, 0, 0, FileEnd::Missing(e.to_string()))) {
                    return ReaderEnd::Aborted;
                }
                seq += 1;
                continue;
            }
        };
        let stored = opened.stored_bytes.clone();
        let mut framer = Framer::new(opened.reader, frame_opts.clone());
        loop {
            if control.cancel.load(Ordering::Relaxed) {
                return ReaderEnd::Interrupted;
            }
            match framer.next_chunk() {
                Ok(Some(mut chunk)) => {
                    if skip > 0 {
                        let k = (skip as usize).min(chunk.records.len());
                        chunk.skip_records(k);
                        skip -= k as u64;
                        chunk.bytes = kept_bytes(&chunk);
                    }
                    let mut stop = false;
                    if let Some(limit) = stop_after {
                        let left = limit.saturating_sub(sent);
                        if chunk.records.len() as u64 >= left {
                            chunk.truncate_records(left as usize);
                            chunk.bytes = kept_bytes(&chunk);
                            stop = true;
                        }
                    }
                    let n = chunk.records.len() as u64;
                    if n > 0 {
                        let job = Job {
                            seq,
                            file: f,
                            first_record: next_record,
                            chunk,
                            stored_bytes: stored.load(Ordering::Relaxed),
                            end: None,
                        };
                        if !send(job) {
                            return ReaderEnd::Aborted;
                        }
                        seq += 1;
                        next_record += n;
                        sent += n;
                    }
                    if stop {
                        control.cancel.store(true, Ordering::SeqCst);
                        return ReaderEnd::Interrupted;
                    }
                }
                Ok(None) => {
                    let job = end_job(
                        seq,
                        next_record,
                        stored.load(Ordering::Relaxed),
                        FileEnd::Done,
                    );
                    if !send(job) {
                        return ReaderEnd::Aborted;
                    }
                    seq += 1;
                    break;
                }
                Err(e) => {
                    let job = end_job(
                        seq,
                        next_record,
                        stored.load(Ordering::Relaxed),
                        FileEnd::Error(e.to_string()),
                    );
                    if !send(job) {
                        return ReaderEnd::Aborted;
                    }
                    seq += 1;
                    break;
                }
            }
        }
    }
    ReaderEnd::Completed
}

/// Input bytes of a chunk whose records were cut at either end (resume, stop-after): from
/// its first record to the line end after its last.
fn kept_bytes(chunk: &Chunk) -> u64 {
    match (chunk.records.first(), chunk.records.last()) {
        (Some(a), Some(b)) => {
            let end = (b.end as usize + 1).min(chunk.text.len());
            (end - a.start as usize) as u64
        }
        _ => 0,
    }
}

fn work(
    runner: &mut Runner<'_>,
    inputs: &[input::Input],
    config: &worker::WorkerConfig<'_>,
    jobs: Receiver<Job>,
    done: Sender<Done>,
    recycled: Receiver<Vec<u8>>,
) {
    let mut buffers = worker::Buffers::with_recycled(recycled);
    for job in jobs {
        let rendered = if job.chunk.records.is_empty() {
            worker::Rendered::default()
        } else {
            worker::process(
                runner,
                &job.chunk,
                &inputs[job.file].name,
                config,
                &mut buffers,
            )
        };
        let d = Done {
            seq: job.seq,
            file: job.file,
            first_record: job.first_record,
            records: job.chunk.records.len() as u64,
            stored_bytes: job.stored_bytes,
            rendered,
            end: job.end,
        };
        if done.send(d).is_err() {
            return;
        }
    }
}

/// The output or dead-letter file (or stdout), with the count of bytes it holds.
struct Sink {
    w: Box<dyn Write>,
    bytes: u64,
    name: String,
}

impl Sink {
    /// Opens `path` (stdout when `None`); with `resume_at`, keeps the first bytes and appends.
    fn open(path: Option<&Path>, resume_at: Option<u64>) -> Result<Sink> {
        let Some(path) = path else {
            return Ok(Sink {
                w: Box::new(std::io::stdout().lock()),
                bytes: 0,
                name: "<stdout>".into(),
            });
        };
        let name = path.display().to_string();
        let file = match resume_at {
            None => std::fs::File::create(path).with_context(|| format!("creating {name}"))?,
            Some(offset) => {
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)
                    .with_context(|| format!("opening {name}"))?;
                let len = f.metadata()?.len();
                if len < offset {
                    bail!(
                        "{name} has {len} bytes but the checkpoint committed {offset}: it was \
                         changed since; run without --resume to start over"
                    );
                }
                f.set_len(offset)?;
                f.seek(SeekFrom::Start(offset))?;
                f
            }
        };
        Ok(Sink {
            w: Box::new(std::io::BufWriter::with_capacity(1 << 16, file)),
            bytes: resume_at.unwrap_or(0),
            name,
        })
    }

    fn write(&mut self, b: &[u8]) -> Result<()> {
        self.w
            .write_all(b)
            .with_context(|| format!("writing {}", self.name))?;
        self.bytes += b.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.w
            .flush()
            .with_context(|| format!("writing {}", self.name))
    }
}

struct Writer<'a> {
    out: &'a mut Sink,
    dead: Option<&'a mut Sink>,
    unparsed: Option<&'a mut Sink>,
    files: &'a mut Vec<FileStats>,
    position: Position,
    checkpoint: Option<&'a Path>,
    checkpoint_every: Duration,
    fingerprint: &'a str,
    coercion_base: u64,
    control: &'a Control,
    notify: &'a (dyn Fn(&str) + Sync),
    /// What this process committed.
    session: Counts,
    /// Failures printed on stderr (no dead-letter file).
    shown_failures: u64,
}

/// Failures printed on stderr when there is no dead-letter file; the rest are counted.
const MAX_SHOWN_FAILURES: u64 = 20;

impl Writer<'_> {
    /// Writes processed chunks in sequence order as they come.
    fn run(
        &mut self,
        done: Receiver<Done>,
        slots: Receiver<()>,
        recycle: Sender<Vec<u8>>,
    ) -> Result<()> {
        let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next = 0u64;
        let mut last_checkpoint = Instant::now();
        for d in done {
            pending.insert(d.seq, d);
            while let Some(d) = pending.remove(&next) {
                next += 1;
                let out = self.commit(d)?;
                let _ = recycle.try_send(out);
                self.control.chunks_in_flight.fetch_sub(1, Ordering::SeqCst);
                let _ = slots.recv();
                if self.checkpoint.is_some() && last_checkpoint.elapsed() >= self.checkpoint_every {
                    self.save_checkpoint()?;
                    last_checkpoint = Instant::now();
                }
            }
        }
        debug_assert!(pending.is_empty());
        Ok(())
    }

    /// Writes one chunk and accounts for it; gives back its (emptied) output buffer.
    fn commit(&mut self, d: Done) -> Result<Vec<u8>> {
        self.out.write(&d.rendered.out)?;
        if !d.rendered.dead.is_empty() {
            match self.dead.as_deref_mut() {
                Some(dead) => dead.write(d.rendered.dead.as_bytes())?,
                None if self.shown_failures < MAX_SHOWN_FAILURES => {
                    (self.notify)(&d.rendered.dead);
                    self.shown_failures += d.rendered.shown_failures;
                }
                None => {}
            }
        }
        if let Some(u) = self.unparsed.as_deref_mut()
            && !d.rendered.unparsed.is_empty()
        {
            u.write(d.rendered.unparsed.as_bytes())?;
        }
        let c = &d.rendered.counts;
        self.session.add(c);
        let f = &mut self.files[d.file];
        f.counts.add(c);
        f.stored_bytes = f.stored_bytes.max(d.stored_bytes);
        if f.status == FileStatus::Pending {
            f.status = FileStatus::Partial;
        }
        self.position = Position {
            file: d.file,
            records: d.first_record + d.records,
        };
        let ended = d.end.is_some();
        match d.end {
            None => {}
            Some(FileEnd::Done) => f.status = FileStatus::Done,
            Some(FileEnd::Missing(e)) => {
                (self.notify)(&format!("error: cannot read {}: {e}\n", f.path));
                f.status = FileStatus::Missing;
                f.error = Some(e);
            }
            Some(FileEnd::Error(e)) => {
                (self.notify)(&format!(
                    "error: reading {} failed after {} records: {e}\n",
                    f.path, f.counts.read
                ));
                f.status = FileStatus::Error;
                f.error = Some(e);
            }
        }
        if ended {
            self.position = Position {
                file: d.file + 1,
                records: 0,
            };
        }
        self.control.events.fetch_add(c.read, Ordering::Relaxed);
        let mut out = d.rendered.out;
        out.clear();
        Ok(out)
    }

    fn save_checkpoint(&mut self) -> Result<()> {
        let Some(path) = self.checkpoint else {
            return Ok(());
        };
        self.out.flush()?;
        if let Some(d) = self.dead.as_deref_mut() {
            d.flush()?;
        }
        if let Some(u) = self.unparsed.as_deref_mut() {
            u.flush()?;
        }
        Checkpoint {
            version: checkpoint::VERSION,
            fingerprint: self.fingerprint.to_string(),
            file: self.position.file,
            records: self.position.records,
            output_bytes: self.out.bytes,
            dead_letter_bytes: self.dead.as_ref().map_or(0, |d| d.bytes),
            unparsed_bytes: self.unparsed.as_ref().map_or(0, |u| u.bytes),
            files: self.files.clone(),
            coercion_warnings: self.coercion_base,
        }
        .save(path)
    }

    /// Flushes everything; saves the checkpoint of an interrupted run, removes it after a
    /// complete one.
    fn finish(&mut self, interrupted: bool, compression: Compression) -> Result<()> {
        if self.dead.is_none() && self.session.failed > self.shown_failures {
            (self.notify)(&format!(
                "note: {} more failed record(s) not shown (--dead-letter FILE keeps them all)\n",
                self.session.failed - self.shown_failures
            ));
        }
        if self.out.bytes == 0 && !interrupted {
            // A compressed file with nothing in it is still one valid (empty) stream.
            if compression != Compression::None {
                self.out.write(&worker::compress(b"", compression))?;
            }
        }
        self.out.flush()?;
        if let Some(d) = self.dead.as_deref_mut() {
            d.flush()?;
        }
        if let Some(u) = self.unparsed.as_deref_mut() {
            u.flush()?;
        }
        if let Some(path) = self.checkpoint {
            if interrupted {
                self.save_checkpoint()?;
            } else if path.exists() {
                std::fs::remove_file(path)
                    .with_context(|| format!("removing {}", path.display()))?;
            }
        }
        Ok(())
    }
}
